//! The reader against hostile archives: every rejection has its own error variant.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use leo_artifact::{BundleInput, Error, Member, ReadLimits, Revisions, Sha256Digest, read_bundle};

fn sha(c: char) -> leo_artifact::CommitSha {
    c.to_string().repeat(40).parse().unwrap()
}

fn input() -> BundleInput {
    BundleInput {
        revisions: Revisions {
            base: sha('a'),
            head: sha('b'),
            merge_base: sha('c'),
        },
        created_at: time::macros::datetime!(2026-01-01 0:00 UTC),
        patch: b"diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n".to_vec(),
        sbom: br#"{"bomFormat":"CycloneDX"}"#.to_vec(),
        attestation: br#"{"payloadType":"x"}"#.to_vec(),
        rollback: b"# Rollback notes\n".to_vec(),
    }
}

fn good() -> Vec<u8> {
    let mut out = Vec::new();
    input().write(&mut out).unwrap();
    out
}

/// A raw tar entry: name bytes written straight into the header, bypassing the tar crate's
/// own path checks, so the reader sees exactly what an attacker would send.
struct Raw<'a> {
    name: &'a [u8],
    kind: tar::EntryType,
    data: &'a [u8],
    link: Option<&'a [u8]>,
}

fn raw(name: &[u8], data: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_ustar();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

fn tar_of(entries: &[Raw<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let mut h = tar::Header::new_ustar();
        h.as_old_mut().name[..e.name.len()].copy_from_slice(e.name);
        h.set_size(e.data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(e.kind);
        if let Some(l) = e.link {
            h.as_old_mut().linkname[..l.len()].copy_from_slice(l);
        }
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(e.data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// The members of the good bundle as a plain tar, with one entry prepended.
fn good_tar_with(extra: Vec<u8>) -> Vec<u8> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(good().as_slice()).read_to_end_into(&mut plain);
    let mut out = extra;
    out.extend_from_slice(&plain);
    out
}

trait ReadAll {
    fn read_to_end_into(self, out: &mut Vec<u8>);
}

impl<R: std::io::Read> ReadAll for R {
    fn read_to_end_into(mut self, out: &mut Vec<u8>) {
        self.read_to_end(out).unwrap();
    }
}

fn read(bytes: &[u8]) -> Result<leo_artifact::VerifiedBundle, Error> {
    read_bundle(bytes, &ReadLimits::default())
}

fn entry(name: &'static [u8], kind: tar::EntryType) -> Raw<'static> {
    Raw {
        name,
        kind,
        data: b"",
        link: None,
    }
}

#[test]
fn good_bundle_verifies_and_hash_matches_bytes() {
    let bytes = good();
    let b = read(&bytes).unwrap();
    assert_eq!(b.bundle_digest, Sha256Digest::of(&bytes));
    assert_eq!(b.compressed_size, bytes.len() as u64);
    assert_eq!(
        b.member(Member::MergeBase),
        format!("{}\n", sha('c')).as_bytes()
    );
}

#[test]
fn writer_is_deterministic() {
    assert_eq!(good(), good());
    let mut other = input();
    other.created_at = time::macros::datetime!(2026-01-01 0:00:01 UTC);
    let mut out = Vec::new();
    other.write(&mut out).unwrap();
    assert_ne!(out, good(), "the time must reach the archive");
}

#[test]
fn absolute_path_rejected() {
    let err = read(&gz(&good_tar_with(raw(b"/etc/passwd", b"x")))).unwrap_err();
    assert!(matches!(err, Error::AbsolutePath { .. }), "{err}");
}

#[test]
fn parent_traversal_rejected() {
    let err = read(&gz(&good_tar_with(raw(b"../changes.patch", b"x")))).unwrap_err();
    assert!(matches!(err, Error::ParentTraversal { .. }), "{err}");
    let err = read(&gz(&good_tar_with(raw(b"a/../../x", b"x")))).unwrap_err();
    assert!(matches!(err, Error::ParentTraversal { .. }), "{err}");
}

#[test]
fn links_and_devices_rejected() {
    for (kind, label) in [
        (tar::EntryType::Symlink, "symbolic link"),
        (tar::EntryType::Link, "hard link"),
        (tar::EntryType::Char, "character device"),
        (tar::EntryType::Block, "block device"),
        (tar::EntryType::Fifo, "fifo"),
        (tar::EntryType::Directory, "directory"),
    ] {
        let mut e = entry(b"changes.patch", kind);
        e.link = Some(b"/etc/shadow");
        let err = read(&gz(&tar_of(&[e]))).unwrap_err();
        assert!(
            matches!(&err, Error::NotARegularFile { kind, .. } if kind == label),
            "{label}: {err}"
        );
    }
}

#[test]
fn non_utf8_name_rejected() {
    let err = read(&gz(&good_tar_with(raw(b"bad\xff.patch", b"x")))).unwrap_err();
    assert!(matches!(err, Error::NonUtf8Name { .. }), "{err}");
}

#[test]
fn duplicate_member_rejected() {
    let err = read(&gz(&good_tar_with(raw(b"changes.patch", b"evil")))).unwrap_err();
    assert!(
        matches!(err, Error::DuplicateMember { ref name } if name == "changes.patch"),
        "{err}"
    );
}

#[test]
fn unexpected_member_rejected() {
    let err = read(&gz(&good_tar_with(raw(b"payload.sh", b"rm -rf /")))).unwrap_err();
    assert!(
        matches!(err, Error::UnexpectedMember { ref name } if name == "payload.sh"),
        "{err}"
    );
}

#[test]
fn missing_member_rejected() {
    let err = read(&gz(&tar_of(&[Raw {
        name: b"changes.patch",
        kind: tar::EntryType::Regular,
        data: b"x",
        link: None,
    }])))
    .unwrap_err();
    assert!(matches!(err, Error::MissingMember { .. }), "{err}");
}

#[test]
fn member_over_size_limit_rejected() {
    let limits = ReadLimits {
        max_member_size: 8,
        ..ReadLimits::default()
    };
    let err = read_bundle(good().as_slice(), &limits).unwrap_err();
    assert!(
        matches!(err, Error::MemberTooLarge { limit: 8, .. }),
        "{err}"
    );
}

#[test]
fn total_size_limit_rejected() {
    let limits = ReadLimits {
        max_total_size: 100,
        ..ReadLimits::default()
    };
    let err = read_bundle(good().as_slice(), &limits).unwrap_err();
    assert!(
        matches!(err, Error::TotalSizeExceeded { limit: 100 }),
        "{err}"
    );
}

#[test]
fn gzip_bomb_rejected_by_ratio() {
    // 64 MiB of zeros in a member compresses ~1000:1.
    let zeros = vec![0u8; 64 * 1024 * 1024];
    let bomb = gz(&tar_of(&[Raw {
        name: b"changes.patch",
        kind: tar::EntryType::Regular,
        data: &zeros,
        link: None,
    }]));
    assert!(bomb.len() < 200 * 1024);
    let err = read(&bomb).unwrap_err();
    assert!(
        matches!(err, Error::CompressionRatioExceeded { limit: 200, .. }),
        "{err}"
    );
}

#[test]
fn truncated_archive_rejected() {
    let bytes = good();
    for cut in [bytes.len() - 1, bytes.len() - 9, bytes.len() / 2, 20] {
        let err = read(&bytes[..cut]).unwrap_err();
        assert!(
            matches!(err, Error::Truncated { .. }),
            "cut at {cut}: {err}"
        );
    }
}

#[test]
fn trailing_garbage_rejected() {
    let mut bytes = good();
    bytes.extend_from_slice(b"GARBAGE");
    let err = read(&bytes).unwrap_err();
    assert!(matches!(err, Error::TrailingGarbage { .. }), "{err}");
}

#[test]
fn not_gzip_rejected() {
    let err = read(b"this is not a gzip stream at all").unwrap_err();
    assert!(matches!(err, Error::CorruptArchive { .. }), "{err}");
}

/// Rebuilds the good bundle's tar with one member's content replaced (manifest unchanged).
fn tampered(member: &str, content: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(good().as_slice()).read_to_end_into(&mut plain);
    let mut ar = tar::Archive::new(plain.as_slice());
    let mut out = Vec::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        let data = if name == member {
            content.to_vec()
        } else {
            data
        };
        out.extend_from_slice(&raw(name.as_bytes(), &data));
    }
    out.extend_from_slice(&[0u8; 1024]);
    gz(&out)
}

#[test]
fn digest_mismatch_names_the_member() {
    // Same length as the original patch, different content.
    let mut patch = input().patch;
    patch[0] = b'D';
    let err = read(&tampered("changes.patch", &patch)).unwrap_err();
    match err {
        Error::DigestMismatch {
            member,
            expected,
            actual,
        } => {
            assert_eq!(member, "changes.patch");
            assert_eq!(expected, Sha256Digest::of(&input().patch));
            assert_eq!(actual, Sha256Digest::of(&patch));
        }
        other => panic!("expected DigestMismatch, got {other}"),
    }
}

#[test]
fn size_mismatch_rejected() {
    let err = read(&tampered("ROLLBACK.md", b"short")).unwrap_err();
    assert!(
        matches!(err, Error::SizeMismatch { ref member, .. } if member == "ROLLBACK.md"),
        "{err}"
    );
}

#[test]
fn future_format_version_rejected() {
    let m = input().manifest();
    let json = String::from_utf8(m.to_json())
        .unwrap()
        .replace("\"formatVersion\": 1", "\"formatVersion\": 2");
    let err = read(&tampered("manifest.json", json.as_bytes())).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnsupportedFormatVersion {
                found: 2,
                supported: 1
            }
        ),
        "{err}"
    );
}

#[test]
fn manifest_with_unknown_field_rejected() {
    let m = input().manifest();
    let json = String::from_utf8(m.to_json())
        .unwrap()
        .replacen('{', "{\"extra\": true,", 1);
    let err = read(&tampered("manifest.json", json.as_bytes())).unwrap_err();
    assert!(matches!(err, Error::InvalidManifest { .. }), "{err}");
}

#[test]
fn merge_base_member_must_match_manifest() {
    let mut other = input();
    other.revisions.merge_base = sha('d');
    // Manifest of the original, MERGE_BASE member of another merge-base with the right digest
    // listed: rebuild the manifest entry for MERGE_BASE so only the cross-check can catch it.
    let mut m = input().manifest();
    let mb = other.merge_base_member();
    for e in &mut m.members {
        if e.name == Member::MergeBase {
            e.sha256 = Sha256Digest::of(&mb);
            e.size = mb.len() as u64;
        }
    }
    let mut plain = Vec::new();
    for (member, bytes) in input().contents() {
        let bytes = if member == Member::MergeBase {
            mb.clone()
        } else {
            bytes
        };
        plain.extend_from_slice(&raw(member.file_name().as_bytes(), &bytes));
    }
    plain.extend_from_slice(&raw(b"manifest.json", &m.to_json()));
    plain.extend_from_slice(&[0u8; 1024]);
    let err = read(&gz(&plain)).unwrap_err();
    assert!(matches!(err, Error::MergeBaseMismatch { .. }), "{err}");
}

#[test]
fn extract_writes_only_inside_target_and_never_overwrites() {
    let b = read(&good()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    b.extract_to(dir.path()).unwrap();
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, Member::ALL.map(|m| m.file_name()).to_vec());
    let err = b.extract_to(dir.path()).unwrap_err();
    assert!(matches!(err, Error::WouldOverwrite { .. }), "{err}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    #[test]
    fn reader_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..4096)) {
        let _ = read(&bytes);
    }

    #[test]
    fn any_single_byte_change_is_caught_or_harmless(pos in 0usize..4096, xor in 1u8..=255) {
        let bytes = good();
        let pos = pos % bytes.len();
        let mut evil = bytes.clone();
        evil[pos] ^= xor;
        // Either rejected, or (if the flip landed somewhere the gzip/tar layers ignore, such as
        // the gzip header's OS byte) every member is still exactly the original.
        if let Ok(b) = read(&evil) {
            let orig = read(&bytes).unwrap();
            for m in Member::ALL {
                proptest::prop_assert_eq!(b.member(m), orig.member(m));
            }
            proptest::prop_assert_ne!(b.bundle_digest, orig.bundle_digest);
        }
    }
}

#[test]
fn extract_is_all_or_nothing() {
    let b = read(&good()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // One member's name is already taken: nothing at all may be written.
    std::fs::write(dir.path().join("sbom.cdx.json"), b"mine").unwrap();
    let err = b.extract_to(dir.path()).unwrap_err();
    assert!(
        matches!(err, Error::WouldOverwrite { ref path } if path.ends_with("sbom.cdx.json")),
        "{err}"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec!["sbom.cdx.json".to_owned()]);
    assert_eq!(
        std::fs::read(dir.path().join("sbom.cdx.json")).unwrap(),
        b"mine"
    );
}

#[test]
fn write_new_refuses_an_existing_file_and_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x");
    leo_artifact::fsutil::write_new_atomically(&path, b"first").unwrap();
    let err = leo_artifact::fsutil::write_new_atomically(&path, b"second").unwrap_err();
    assert!(matches!(err, Error::WouldOverwrite { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"first");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
