//! # leo-artifact
//!
//! The lowest layer of LEO: SHA-256 digests, the patch bundle (`artifact.tar.gz`), git
//! patches and the handoff markers of the dual-lane SOP.
//!
//! ```
//! use leo_artifact::{BundleInput, ReadLimits, Revisions, read_bundle, Member, Marker};
//!
//! let sha = |c: char| c.to_string().repeat(40).parse().unwrap();
//! let input = BundleInput {
//!     revisions: Revisions { base: sha('a'), head: sha('b'), merge_base: sha('c') },
//!     created_at: time::macros::datetime!(2026-01-01 0:00 UTC),
//!     patch: b"diff --git a/x b/x\n".to_vec(),
//!     sbom: b"{}".to_vec(),
//!     attestation: b"{}".to_vec(),
//!     rollback: b"# Rollback notes\n".to_vec(),
//! };
//! let mut archive = Vec::new();
//! let hash = input.write(&mut archive).unwrap();
//!
//! // The reader re-derives the same hash and checks every member against the manifest.
//! let bundle = read_bundle(archive.as_slice(), &ReadLimits::default()).unwrap();
//! assert_eq!(bundle.bundle_digest, hash);
//! assert_eq!(bundle.member(Member::Patch), b"diff --git a/x b/x\n");
//!
//! // The builder marks its commit with the bundle hash.
//! let marker = Marker::CodexReady(hash);
//! assert_eq!(marker.to_string(), format!("[CODEX-READY:{hash}]"));
//! ```

pub mod commit;
pub mod digest;
pub mod error;
pub mod fsutil;
pub mod manifest;
pub mod marker;
pub mod member;
pub mod patch;
pub mod reader;
pub mod rollback;
pub mod wildcard;
pub mod writer;

pub use commit::CommitSha;
pub use digest::{Sha256Digest, Sha256Hasher, hash_file, hash_reader};
pub use error::{Error, Result};
pub use manifest::{Manifest, MemberEntry};
pub use marker::{Marker, PlanVerdict, markers_in};
pub use member::Member;
pub use patch::{FileChange, Patch, create_patch};
pub use reader::{ReadLimits, VerifiedBundle, read_bundle, read_bundle_file};
pub use rollback::rollback_notes;
pub use writer::{BundleInput, Revisions};
