//! The deterministic bundle writer.
//!
//! Same inputs, byte-identical `artifact.tar.gz`: entries sorted by name, mode 0644, uid/gid 0,
//! empty user/group names, one fixed mtime (the bundle's creation time), ustar headers, and a
//! gzip header with no name, mtime 0 and a fixed OS byte, compressed at a fixed level.

use std::io::Write;
use std::path::Path;

use flate2::{Compression, GzBuilder};

use crate::commit::CommitSha;
use crate::digest::Sha256Digest;
use crate::error::{Error, Result};
use crate::manifest::{FORMAT_NAME, FORMAT_VERSION, Manifest, MemberEntry};
use crate::member::Member;

/// The gzip level used for every bundle (fixed, so output is reproducible).
pub const GZIP_LEVEL: u32 = 6;

/// The revisions a bundle describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revisions {
    /// The base revision the change was taken against.
    pub base: CommitSha,
    /// The head revision.
    pub head: CommitSha,
    /// Their merge-base.
    pub merge_base: CommitSha,
}

/// Everything that goes into a bundle; [`BundleInput::write`] adds `MERGE_BASE` and
/// `manifest.json`.
#[derive(Clone, Debug)]
pub struct BundleInput {
    /// The revisions.
    pub revisions: Revisions,
    /// Creation time; also every entry's mtime. Truncated to whole seconds.
    pub created_at: time::OffsetDateTime,
    /// `changes.patch`.
    pub patch: Vec<u8>,
    /// `sbom.cdx.json`.
    pub sbom: Vec<u8>,
    /// `attestation.dsse.json`.
    pub attestation: Vec<u8>,
    /// `ROLLBACK.md`.
    pub rollback: Vec<u8>,
}

impl BundleInput {
    /// The bytes of `MERGE_BASE`.
    pub fn merge_base_member(&self) -> Vec<u8> {
        format!("{}\n", self.revisions.merge_base).into_bytes()
    }

    /// The content of each member except the manifest, in archive order.
    pub fn contents(&self) -> Vec<(Member, Vec<u8>)> {
        Member::ALL
            .into_iter()
            .filter_map(|m| {
                let bytes = match m {
                    Member::MergeBase => self.merge_base_member(),
                    Member::Rollback => self.rollback.clone(),
                    Member::Attestation => self.attestation.clone(),
                    Member::Patch => self.patch.clone(),
                    Member::Sbom => self.sbom.clone(),
                    Member::Manifest => return None,
                };
                Some((m, bytes))
            })
            .collect()
    }

    /// The manifest this input produces.
    pub fn manifest(&self) -> Manifest {
        let members = self
            .contents()
            .into_iter()
            .map(|(name, bytes)| MemberEntry {
                name,
                size: bytes.len() as u64,
                sha256: Sha256Digest::of(&bytes),
            })
            .collect();
        Manifest {
            format: FORMAT_NAME.to_owned(),
            format_version: FORMAT_VERSION,
            created_at: self.created_at_seconds(),
            base: self.revisions.base.clone(),
            head: self.revisions.head.clone(),
            merge_base: self.revisions.merge_base.clone(),
            members,
        }
    }

    fn created_at_seconds(&self) -> time::OffsetDateTime {
        self.created_at
            .replace_nanosecond(0)
            .unwrap_or(self.created_at)
            .to_offset(time::UtcOffset::UTC)
    }

    /// Writes the bundle to `out`; returns its SHA-256 (the marker hash).
    pub fn write<W: Write>(&self, out: W) -> Result<Sha256Digest> {
        let mtime = u64::try_from(self.created_at_seconds().unix_timestamp()).unwrap_or(0);
        let manifest = self.manifest().to_json();
        let mut contents = self.contents();
        contents.push((Member::Manifest, manifest));
        contents.sort_by_key(|(m, _)| *m);
        let mut hashing = write_tar_gz(
            HashingWriter::new(out),
            mtime,
            contents
                .iter()
                .map(|(member, bytes)| (member.file_name(), bytes.as_slice())),
        )?;
        hashing
            .inner
            .flush()
            .map_err(|e| Error::io("flushing bundle", e))?;
        Ok(hashing.finish())
    }

    /// Writes the bundle to `path` atomically (temporary file in the same directory, fsync,
    /// rename); returns its SHA-256.
    pub fn write_to_path(&self, path: &Path) -> Result<Sha256Digest> {
        crate::fsutil::write_atomically(path, |file| self.write(file))
    }
}

/// Writes `members` (archive path, bytes), in the order given, as a deterministic
/// `.tar.gz` to `out` and returns `out`: ustar headers, regular files, mode 0644, uid/gid 0,
/// every mtime `mtime`, and a gzip header with no name, mtime 0 and OS byte 255, compressed
/// at [`GZIP_LEVEL`]. Same inputs, same bytes (the [bundle](BundleInput::write) and
/// leo-policy's policy bundles are both written by it).
///
/// ```
/// let a = leo_artifact::writer::write_tar_gz(Vec::new(), 0, [("a.txt", &b"hi"[..])])?;
/// let b = leo_artifact::writer::write_tar_gz(Vec::new(), 0, [("a.txt", &b"hi"[..])])?;
/// assert_eq!(a, b);
/// # Ok::<(), leo_artifact::Error>(())
/// ```
pub fn write_tar_gz<'a, W: Write>(
    out: W,
    mtime: u64,
    members: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<W> {
    let gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(out, Compression::new(GZIP_LEVEL));
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for (path, bytes) in members {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        header.set_size(bytes.len() as u64);
        tar.append_data(&mut header, path, bytes)
            .map_err(|e| Error::io(format!("writing member {path}"), e))?;
    }
    let gz = tar
        .into_inner()
        .map_err(|e| Error::io("finishing tar stream", e))?;
    gz.finish()
        .map_err(|e| Error::io("finishing gzip stream", e))
}

struct HashingWriter<W> {
    inner: W,
    hasher: crate::digest::Sha256Hasher,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: crate::digest::Sha256Hasher::new(),
        }
    }

    fn finish(self) -> Sha256Digest {
        self.hasher.finish()
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
