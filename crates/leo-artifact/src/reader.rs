//! The hardened, streaming bundle reader.
//!
//! It never trusts the archive. Every entry is checked before its content is read: the name
//! must be valid UTF-8, relative, free of `..`, one of the six v1 members and not seen before;
//! the entry must be a regular file within the size limits. While decompressing it enforces a
//! total-size and a compression-ratio limit (gzip bombs), and at the end it requires the gzip
//! stream to be complete with nothing after it. Only then are the members compared with the
//! manifest. Nothing is written anywhere until all of that has passed.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Component, Path};

use crate::digest::Sha256Digest;
use crate::error::{Error, Result, snippet};
use crate::manifest::{MAX_MANIFEST_SIZE, Manifest};
use crate::member::Member;

/// Limits the reader enforces. The defaults suit patch bundles; raise them for huge changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadLimits {
    /// The largest member, in bytes.
    pub max_member_size: u64,
    /// The largest total of all members, in bytes.
    pub max_total_size: u64,
    /// The largest ratio of uncompressed to compressed bytes.
    pub max_compression_ratio: u64,
    /// The most tar entries (including rejected ones) looked at.
    pub max_entries: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_member_size: 256 * 1024 * 1024,
            max_total_size: 512 * 1024 * 1024,
            max_compression_ratio: 200,
            max_entries: 16,
        }
    }
}

/// The ratio check divides by at least this many compressed bytes: tiny archives of small
/// text files legitimately reach high ratios (a 2 KiB tar of zero padding compresses to 40
/// bytes), so a small archive may expand to `RATIO_FLOOR × max_compression_ratio` bytes.
const RATIO_FLOOR: u64 = 64 * 1024;

/// A bundle that passed every structural and digest check.
#[derive(Clone, Debug)]
pub struct VerifiedBundle {
    /// SHA-256 of the `artifact.tar.gz` bytes (the marker hash).
    pub bundle_digest: Sha256Digest,
    /// Size of the archive in bytes.
    pub compressed_size: u64,
    /// The parsed manifest.
    pub manifest: Manifest,
    members: BTreeMap<Member, Vec<u8>>,
}

impl VerifiedBundle {
    /// A member's verified bytes.
    pub fn member(&self, member: Member) -> &[u8] {
        self.members
            .get(&member)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Writes every member into `dir` (which must exist). All or nothing: it refuses if any
    /// member's file already exists (also when one appears while extracting), and removes
    /// what it wrote if a later write fails. Members are plain names from a closed set, so
    /// nothing can land outside `dir`.
    pub fn extract_to(&self, dir: &Path) -> Result<()> {
        for member in self.members.keys() {
            let path = dir.join(member.file_name());
            if path.exists() {
                return Err(Error::WouldOverwrite { path });
            }
        }
        let mut written = Vec::new();
        for (member, bytes) in &self.members {
            let path = dir.join(member.file_name());
            match crate::fsutil::write_new_atomically(&path, bytes) {
                Ok(()) => written.push(path),
                Err(e) => {
                    for p in &written {
                        let _ = std::fs::remove_file(p);
                    }
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

/// Reads and verifies a bundle from a file path.
pub fn read_bundle_file(path: &Path, limits: &ReadLimits) -> Result<VerifiedBundle> {
    let file = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    read_bundle(file, limits)
}

/// Reads and verifies a bundle from any reader (streamed; the archive is never held whole).
///
/// The bundle hash (over the compressed bytes) is computed on a second, scoped thread while
/// this thread inflates the archive and hashes the members, so verification costs about one
/// hashing pass more than inflating, not two.
pub fn read_bundle<R: Read>(reader: R, limits: &ReadLimits) -> Result<VerifiedBundle> {
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(PIPELINE_DEPTH);
        let hasher = scope.spawn(move || {
            let mut h = crate::digest::Sha256Hasher::new();
            for chunk in rx {
                h.update(&chunk);
            }
            h.finish()
        });
        let tee = TeeReader {
            inner: reader,
            tx: Some(tx),
            count: 0,
        };
        let outcome = read_members(tee, limits);
        // `read_members` consumed the tee, closing the channel, so the hasher ends.
        let bundle_digest = hasher.join().map_err(|_| {
            Error::io(
                "hashing the bundle",
                io::Error::other("hashing thread panicked"),
            )
        })?;
        let (members, compressed_size) = outcome?;
        check_against_manifest(bundle_digest, compressed_size, members)
    })
}

/// Chunks in flight between the reading and the hashing thread.
const PIPELINE_DEPTH: usize = 8;

fn read_members<R: Read>(
    tee: TeeReader<R>,
    limits: &ReadLimits,
) -> Result<(BTreeMap<Member, Vec<u8>>, u64)> {
    let mut buffered = BufReader::with_capacity(crate::digest::HASH_BUFFER_SIZE, tee);
    let members = {
        let gz = flate2::bufread::GzDecoder::new(&mut buffered);
        let mut guard = RatioGuard {
            inner: gz,
            expanded: 0,
            limits: *limits,
            tripped: None,
        };
        let members = read_entries(&mut guard, limits);
        if let Some(tripped) = guard.tripped.take() {
            return Err(tripped);
        }
        let members = members?;
        drain_after_end(&mut guard)?;
        members
    };
    let trailing = buffered
        .fill_buf()
        .map_err(|e| Error::io("reading after the gzip stream", e))?
        .len();
    if trailing > 0 {
        return Err(Error::TrailingGarbage { count: trailing });
    }
    Ok((members, buffered.get_ref().count))
}

/// Passes bytes through and sends a copy of each chunk to the hashing thread.
struct TeeReader<R> {
    inner: R,
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    count: u64,
}

impl<R: Read> Read for TeeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.count += n as u64;
            let chunk = buf.get(..n).unwrap_or_default().to_vec();
            let sent = self.tx.as_ref().map(|tx| tx.send(chunk).is_ok());
            if sent == Some(false) {
                self.tx = None;
                return Err(io::Error::other("bundle hashing thread stopped"));
            }
        }
        Ok(n)
    }
}

fn read_entries<R: Read>(
    guard: &mut RatioGuard<'_, R>,
    limits: &ReadLimits,
) -> Result<BTreeMap<Member, Vec<u8>>> {
    let mut archive = tar::Archive::new(guard);
    let mut members = BTreeMap::new();
    let mut total: u64 = 0;
    let entries = archive.entries().map_err(|e| decode_error(e, None))?;
    for (index, entry) in entries.enumerate() {
        if index >= limits.max_entries {
            return Err(Error::TooManyEntries {
                limit: limits.max_entries,
            });
        }
        let mut entry = entry.map_err(|e| decode_error(e, None))?;
        let raw_name = entry.path_bytes().into_owned();
        let name = String::from_utf8(raw_name).map_err(|e| Error::NonUtf8Name {
            bytes: e.into_bytes(),
        })?;
        check_path_shape(&name)?;
        let kind = entry.header().entry_type();
        if kind != tar::EntryType::Regular {
            return Err(Error::NotARegularFile {
                name: snippet(&name),
                kind: entry_kind_name(kind),
            });
        }
        let member: Member = name.parse()?;
        if members.contains_key(&member) {
            return Err(Error::DuplicateMember { name });
        }
        let size = entry.size();
        let member_limit = if member == Member::Manifest {
            MAX_MANIFEST_SIZE.min(limits.max_member_size)
        } else {
            limits.max_member_size
        };
        if size > member_limit {
            return Err(Error::MemberTooLarge {
                name,
                size,
                limit: member_limit,
            });
        }
        total = total.saturating_add(size);
        if total > limits.max_total_size {
            return Err(Error::TotalSizeExceeded {
                limit: limits.max_total_size,
            });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        (&mut entry)
            .take(size)
            .read_to_end(&mut bytes)
            .map_err(|e| decode_error(e, Some(&name)))?;
        if bytes.len() as u64 != size {
            return Err(Error::Truncated {
                detail: format!("member {name} ends after {} of {size} bytes", bytes.len()),
            });
        }
        members.insert(member, bytes);
    }
    Ok(members)
}

/// After the tar end marker only zero padding may follow, then the gzip stream must end.
fn drain_after_end<R: Read>(guard: &mut RatioGuard<'_, R>) -> Result<()> {
    let mut buf = [0u8; 8192];
    loop {
        let n = match guard.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) => {
                if let Some(tripped) = guard.tripped.take() {
                    return Err(tripped);
                }
                return Err(decode_error(e, None));
            }
        };
        if buf.iter().take(n).any(|&b| b != 0) {
            return Err(Error::CorruptArchive {
                detail: "non-zero data after the tar end-of-archive marker".into(),
            });
        }
    }
}

fn check_path_shape(name: &str) -> Result<()> {
    let path = Path::new(name);
    if path.is_absolute() || name.starts_with('/') || name.starts_with('\\') {
        return Err(Error::AbsolutePath {
            name: snippet(name),
        });
    }
    for c in path.components() {
        match c {
            Component::ParentDir => {
                return Err(Error::ParentTraversal {
                    name: snippet(name),
                });
            }
            Component::Normal(_) | Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => {
                return Err(Error::AbsolutePath {
                    name: snippet(name),
                });
            }
        }
    }
    Ok(())
}

fn entry_kind_name(kind: tar::EntryType) -> String {
    match kind {
        tar::EntryType::Symlink => "symbolic link".into(),
        tar::EntryType::Link => "hard link".into(),
        tar::EntryType::Char => "character device".into(),
        tar::EntryType::Block => "block device".into(),
        tar::EntryType::Directory => "directory".into(),
        tar::EntryType::Fifo => "fifo".into(),
        other => format!("tar entry of type {:?}", other.as_byte() as char),
    }
}

fn decode_error(e: io::Error, member: Option<&str>) -> Error {
    let whose = member
        .map(|m| format!(" in member {m}"))
        .unwrap_or_default();
    if e.kind() == io::ErrorKind::UnexpectedEof {
        Error::Truncated {
            detail: format!("{e}{whose}"),
        }
    } else {
        Error::CorruptArchive {
            detail: format!("{e}{whose}"),
        }
    }
}

fn check_against_manifest(
    bundle_digest: Sha256Digest,
    compressed_size: u64,
    mut members: BTreeMap<Member, Vec<u8>>,
) -> Result<VerifiedBundle> {
    for m in Member::ALL {
        if !members.contains_key(&m) {
            return Err(Error::MissingMember {
                name: m.file_name().to_owned(),
            });
        }
    }
    let manifest_bytes = members.remove(&Member::Manifest).unwrap_or_default();
    let manifest = Manifest::from_json(&manifest_bytes)?;
    for entry in &manifest.members {
        let bytes = members
            .get(&entry.name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let actual_size = bytes.len() as u64;
        if actual_size != entry.size {
            return Err(Error::SizeMismatch {
                member: entry.name.to_string(),
                expected: entry.size,
                actual: actual_size,
            });
        }
        let actual = Sha256Digest::of(bytes);
        if actual != entry.sha256 {
            return Err(Error::DigestMismatch {
                member: entry.name.to_string(),
                expected: entry.sha256,
                actual,
            });
        }
    }
    let merge_base = String::from_utf8_lossy(
        members
            .get(&Member::MergeBase)
            .map(Vec::as_slice)
            .unwrap_or_default(),
    )
    .trim_end_matches('\n')
    .to_owned();
    if merge_base != manifest.merge_base.as_str() {
        return Err(Error::MergeBaseMismatch {
            member: snippet(&merge_base),
            manifest: manifest.merge_base.to_string(),
        });
    }
    members.insert(Member::Manifest, manifest_bytes);
    Ok(VerifiedBundle {
        bundle_digest,
        compressed_size,
        manifest,
        members,
    })
}

type Decoder<'a, R> = flate2::bufread::GzDecoder<&'a mut BufReader<TeeReader<R>>>;

/// Counts decompressed bytes and stops a gzip bomb early, comparing them with the compressed
/// bytes the decoder has consumed from the reader underneath.
struct RatioGuard<'a, R> {
    inner: Decoder<'a, R>,
    expanded: u64,
    limits: ReadLimits,
    tripped: Option<Error>,
}

impl<R: Read> RatioGuard<'_, R> {
    fn compressed(&self) -> u64 {
        let buffered = self.inner.get_ref();
        buffered
            .get_ref()
            .count
            .saturating_sub(buffered.buffer().len() as u64)
    }

    fn check_limits(&self) -> Option<Error> {
        // The tar layer adds headers and padding on top of member sizes: allow that slack
        // before applying the total-size limit to the raw stream.
        let raw_limit = self
            .limits
            .max_total_size
            .saturating_add(self.limits.max_entries as u64 * 1024 + 64 * 1024);
        if self.expanded > raw_limit {
            return Some(Error::TotalSizeExceeded {
                limit: self.limits.max_total_size,
            });
        }
        let compressed = self.compressed().max(RATIO_FLOOR);
        if self.expanded / compressed > self.limits.max_compression_ratio {
            return Some(Error::CompressionRatioExceeded {
                expanded: self.expanded,
                compressed: self.compressed(),
                limit: self.limits.max_compression_ratio,
            });
        }
        None
    }
}

impl<R: Read> Read for RatioGuard<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.tripped.is_some() {
            return Err(io::Error::other("bundle limit exceeded"));
        }
        let n = self.inner.read(buf)?;
        self.expanded = self.expanded.saturating_add(n as u64);
        if let Some(e) = self.check_limits() {
            self.tripped = Some(e);
            return Err(io::Error::other("bundle limit exceeded"));
        }
        Ok(n)
    }
}
