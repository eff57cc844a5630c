//! The one error type of `leo-artifact`.

use std::path::PathBuf;

use crate::digest::Sha256Digest;

/// Everything that can go wrong in `leo-artifact`.
///
/// Each variant is named after the check that failed and carries what a user needs to act.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation failed.
    #[error("I/O error while {context}: {source}")]
    Io {
        /// What LEO was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A SHA-256 digest string was not 64 lowercase hex characters.
    #[error("invalid SHA-256 digest {input:?}: {reason}")]
    InvalidDigest {
        /// The rejected input (truncated to 80 characters).
        input: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A commit SHA was not 40 or 64 lowercase hex characters.
    #[error("invalid commit SHA {input:?}: expected 40 or 64 lowercase hex characters")]
    InvalidCommitSha {
        /// The rejected input (truncated to 80 characters).
        input: String,
    },
    /// A handoff marker was recognised by its prefix but is malformed.
    #[error("malformed marker {input:?}: {reason}")]
    MalformedMarker {
        /// The offending text (truncated to 80 characters).
        input: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A git operation failed.
    #[error("git error while {context}: {message}")]
    Git {
        /// What LEO was doing.
        context: String,
        /// libgit2's message.
        message: String,
    },
    /// A revision could not be resolved to a commit.
    #[error("revision {rev:?} not found in repository {repo}")]
    RevisionNotFound {
        /// The revision as given.
        rev: String,
        /// The repository path.
        repo: PathBuf,
    },
    /// Base and head have no common ancestor.
    #[error("no merge-base between {base} and {head}")]
    NoMergeBase {
        /// Base commit.
        base: String,
        /// Head commit.
        head: String,
    },
    /// The change from the merge-base to head is empty.
    #[error("no changes between merge-base {merge_base} and head {head}")]
    EmptyChange {
        /// Merge-base commit.
        merge_base: String,
        /// Head commit.
        head: String,
    },
    /// A bundle member name is an absolute path.
    #[error("bundle member {name:?} has an absolute path")]
    AbsolutePath {
        /// The member name.
        name: String,
    },
    /// A bundle member name contains a `..` component.
    #[error("bundle member {name:?} escapes the bundle with `..`")]
    ParentTraversal {
        /// The member name.
        name: String,
    },
    /// A bundle member is a link, device, directory or other non-regular file.
    #[error("bundle member {name:?} is a {kind}, only regular files are allowed")]
    NotARegularFile {
        /// The member name.
        name: String,
        /// What kind of entry it is.
        kind: String,
    },
    /// A bundle member name is not valid UTF-8.
    #[error("bundle member name is not valid UTF-8 ({} bytes)", bytes.len())]
    NonUtf8Name {
        /// The raw name bytes.
        bytes: Vec<u8>,
    },
    /// The same member appears twice.
    #[error("bundle member {name:?} appears more than once")]
    DuplicateMember {
        /// The member name.
        name: String,
    },
    /// A member that bundle format v1 does not define.
    #[error("unexpected bundle member {name:?}")]
    UnexpectedMember {
        /// The member name.
        name: String,
    },
    /// A required member is absent.
    #[error("bundle member {name:?} is missing")]
    MissingMember {
        /// The member name.
        name: String,
    },
    /// A member is larger than the configured limit.
    #[error("bundle member {name:?} is {size} bytes, over the limit of {limit}")]
    MemberTooLarge {
        /// The member name.
        name: String,
        /// Its declared size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// More members than the configured limit.
    #[error("bundle has more than {limit} entries")]
    TooManyEntries {
        /// The limit.
        limit: usize,
    },
    /// A file is larger than the caller's limit ([`crate::fsutil::read_capped`]).
    #[error("{path} is larger than {limit} bytes")]
    FileTooLarge {
        /// The file.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// The total uncompressed size exceeds the limit.
    #[error("bundle expands to more than {limit} bytes")]
    TotalSizeExceeded {
        /// The limit.
        limit: u64,
    },
    /// The archive expands more than the allowed ratio (a gzip bomb).
    #[error(
        "bundle expands {expanded} bytes from {compressed} compressed bytes, over the ratio limit of {limit}:1"
    )]
    CompressionRatioExceeded {
        /// Uncompressed bytes seen so far.
        expanded: u64,
        /// Compressed bytes read so far.
        compressed: u64,
        /// The ratio limit.
        limit: u64,
    },
    /// The archive ends before its end (gzip or tar level).
    #[error("bundle is truncated: {detail}")]
    Truncated {
        /// What was being read.
        detail: String,
    },
    /// The archive is not a well-formed gzip-compressed tar.
    #[error("bundle is not a valid gzip tar archive: {detail}")]
    CorruptArchive {
        /// The decoder's message.
        detail: String,
    },
    /// Bytes follow the end of the gzip stream.
    #[error("bundle has {count}+ bytes of trailing data after the gzip stream")]
    TrailingGarbage {
        /// How many bytes were found (at least).
        count: usize,
    },
    /// A member's SHA-256 differs from the manifest.
    #[error("digest mismatch for {member}: manifest says {expected}, content is {actual}")]
    DigestMismatch {
        /// The member name.
        member: String,
        /// Digest in the manifest.
        expected: Sha256Digest,
        /// Digest of the content.
        actual: Sha256Digest,
    },
    /// A member's size differs from the manifest.
    #[error("size mismatch for {member}: manifest says {expected} bytes, content is {actual}")]
    SizeMismatch {
        /// The member name.
        member: String,
        /// Size in the manifest.
        expected: u64,
        /// Size of the content.
        actual: u64,
    },
    /// The manifest is not valid JSON of the expected shape.
    #[error("invalid manifest: {reason}")]
    InvalidManifest {
        /// Why.
        reason: String,
    },
    /// The manifest declares a format version this LEO does not read.
    #[error("unsupported bundle format version {found} (this LEO reads version {supported})")]
    UnsupportedFormatVersion {
        /// The version found.
        found: u64,
        /// The version supported.
        supported: u64,
    },
    /// `MERGE_BASE` and the manifest disagree.
    #[error("MERGE_BASE member says {member} but the manifest says {manifest}")]
    MergeBaseMismatch {
        /// Value of the `MERGE_BASE` member.
        member: String,
        /// Value in the manifest.
        manifest: String,
    },
    /// A digest the caller expected differs from the bundle's own digest.
    #[error("bundle digest is {actual}, expected {expected}")]
    BundleDigestMismatch {
        /// The expected bundle hash.
        expected: Sha256Digest,
        /// The actual bundle hash.
        actual: Sha256Digest,
    },
    /// A `sha256sum`-style check line could not be parsed.
    #[error("line {line}: malformed checksum line")]
    MalformedChecksumLine {
        /// 1-based line number.
        line: usize,
    },
    /// The extraction target already holds a file of that name.
    #[error("refusing to overwrite existing file {path}")]
    WouldOverwrite {
        /// The existing path.
        path: PathBuf,
    },
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn git(context: impl Into<String>, err: &git2::Error) -> Self {
        Error::Git {
            context: context.into(),
            message: err.message().to_owned(),
        }
    }
}

/// At most this many characters of untrusted input are quoted in an error message.
pub const SNIPPET_CHARS: usize = 80;

/// Shortens untrusted input before it goes into an error message: at most
/// [`SNIPPET_CHARS`] characters, then `…`. Every leo-* crate uses this one helper.
pub fn snippet(input: &str) -> String {
    let mut chars = input.chars();
    let mut out: String = chars.by_ref().take(SNIPPET_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
