//! The one error type of this crate. Policy *outcomes* (a failing image, an untrusted
//! signature) are not errors: they are [`crate::Failure`]s inside a [`crate::RuleResult`].
//! Errors are what stops evaluation or verification from producing an answer at all.

use std::path::PathBuf;

/// Everything that can go wrong while loading, evaluating, bundling or verifying policies.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A document is not valid YAML/JSON, or does not have the expected shape.
    #[error("{origin}: document {document}: {reason}")]
    Syntax {
        /// Where the document came from.
        origin: String,
        /// 1-based index of the document in its stream.
        document: usize,
        /// The parser's message.
        reason: String,
    },
    /// A Kubernetes object lacks `kind` or `metadata.name`.
    #[error("{origin}: document {document} has no `{field}`")]
    MissingIdentity {
        /// Where the object came from.
        origin: String,
        /// 1-based index of the `---` section it is in.
        document: usize,
        /// The missing field.
        field: &'static str,
    },
    /// A policy document is malformed or uses a construct LEO does not accept.
    #[error("{origin}: policy {policy:?}: {reason}")]
    InvalidPolicy {
        /// Where the policy came from.
        origin: String,
        /// The policy's name (empty if unknown).
        policy: String,
        /// What is wrong.
        reason: String,
    },
    /// A document in a policy file is not a policy kind LEO reads.
    #[error("{origin}: document {document} is `{kind}`, not a ClusterPolicy or Policy")]
    NotAPolicy {
        /// Where the document came from.
        origin: String,
        /// 1-based index of the document.
        document: usize,
        /// The kind found.
        kind: String,
    },
    /// A `builderId` pattern is not a valid regular expression (or is too long).
    #[error("invalid builder id pattern {pattern:?}: {reason}")]
    InvalidPattern {
        /// The pattern (shortened).
        pattern: String,
        /// The compiler's message.
        reason: String,
    },
    /// A public key or certificate in an attestor could not be read.
    #[error("{origin}: attestor key: {reason}")]
    InvalidAttestorKey {
        /// Where the policy came from.
        origin: String,
        /// What is wrong.
        reason: String,
    },
    /// A named limit was exceeded.
    #[error("too many {what} (limit {limit})")]
    LimitExceeded {
        /// What was counted.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// A `kyverno-test.yaml` file is malformed.
    #[error("{origin}: {reason}")]
    InvalidTestFile {
        /// The file.
        origin: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A policy directory holds no policy files.
    #[error("{dir}: no policy files (*.yaml, *.yml) found")]
    NoPolicyFiles {
        /// The directory.
        dir: PathBuf,
    },
    /// The bundle's SHA-256 is not the statement's subject digest.
    #[error(
        "bundle digest mismatch: the statement names sha256:{expected}, the file is sha256:{actual}"
    )]
    BundleDigestMismatch {
        /// The digest the statement names.
        expected: String,
        /// The digest of the bundle file.
        actual: String,
    },
    /// A file name given to the attestation store is not one plain path component.
    #[error("attestation store file name {name:?} is not a single plain file name")]
    InvalidStoreFileName {
        /// The name (shortened).
        name: String,
    },
    /// The statement does not name the bundle file as its subject.
    #[error("the statement's subject is {found:?}, not the bundle {expected:?}")]
    BundleNameMismatch {
        /// The bundle's file name.
        expected: String,
        /// The subject names found.
        found: Vec<String>,
    },
    /// A bundle member's digest differs from the statement's material.
    #[error("policy {member} has sha256:{actual}, the statement lists sha256:{expected}")]
    MaterialDigestMismatch {
        /// The member path.
        member: String,
        /// The digest in the statement.
        expected: String,
        /// The digest of the member.
        actual: String,
    },
    /// The bundle and the statement's materials list different files.
    #[error("bundle members and statement materials differ: {reason}")]
    MaterialSetMismatch {
        /// Which member is missing or extra.
        reason: String,
    },
    /// A member of the bundle archive is not a plain file with a safe relative path.
    #[error("bundle member {member:?} rejected: {reason}")]
    UnsafeMember {
        /// The member's path.
        member: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The statement is not a SLSA provenance v0.2 statement LEO wrote for a policy bundle.
    #[error("policy bundle statement rejected: {reason}")]
    BundleStatement {
        /// What is wrong.
        reason: String,
    },
    /// The statement's signature did not verify.
    #[error("policy bundle signature rejected: {0}")]
    SignatureRejected(#[source] leo_sign::Error),
    /// Signing the statement failed.
    #[error("signing the policy bundle statement: {0}")]
    Signing(#[source] leo_sign::Error),
    /// The in-toto statement could not be parsed.
    #[error("in-toto statement: {0}")]
    Statement(#[source] leo_attest::Error),
    /// Writing an output file failed.
    #[error(transparent)]
    Artifact(#[from] leo_artifact::Error),
}

impl Error {
    /// An I/O error with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// This crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
