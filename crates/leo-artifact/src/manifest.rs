//! `manifest.json`: the bundle's table of contents.
//!
//! ```json
//! {
//!   "format": "leo-bundle",
//!   "formatVersion": 1,
//!   "createdAt": "2026-11-26T12:00:00Z",
//!   "base": "<commit>", "head": "<commit>", "mergeBase": "<commit>",
//!   "members": [{"name": "changes.patch", "size": 1234, "sha256": "<hex>"}, ...]
//! }
//! ```
//!
//! The manifest lists every member except itself, sorted by name. Unknown fields are rejected:
//! a verifier must never skip over something it does not understand in a security manifest.

use serde::{Deserialize, Serialize};

use crate::commit::CommitSha;
use crate::digest::Sha256Digest;
use crate::error::{Error, Result};
use crate::member::Member;

/// The format name written in every manifest.
pub const FORMAT_NAME: &str = "leo-bundle";
/// The bundle format version this crate writes and reads.
pub const FORMAT_VERSION: u64 = 1;
/// The largest manifest accepted, in bytes.
pub const MAX_MANIFEST_SIZE: u64 = 64 * 1024;

/// One member's entry in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberEntry {
    /// The member.
    pub name: Member,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256.
    pub sha256: Sha256Digest,
}

/// The bundle manifest (format version 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Manifest {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// Always [`FORMAT_VERSION`] for bundles this crate writes.
    pub format_version: u64,
    /// Creation time, RFC 3339 UTC with second precision.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    /// The base revision the change was taken against.
    pub base: CommitSha,
    /// The head revision of the change.
    pub head: CommitSha,
    /// The merge-base of base and head: where the patch applies.
    pub merge_base: CommitSha,
    /// Every member but the manifest, sorted by name.
    pub members: Vec<MemberEntry>,
}

impl Manifest {
    /// Parses and checks a manifest: format name and version, and that it lists each
    /// non-manifest member exactly once.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        // Read the version first so a future format gets a clear error instead of a field error.
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Probe {
            format: Option<String>,
            format_version: Option<u64>,
        }
        let invalid = |e: serde_json::Error| Error::InvalidManifest {
            reason: e.to_string(),
        };
        let probe: Probe = serde_json::from_slice(bytes).map_err(invalid)?;
        if probe.format.as_deref() != Some(FORMAT_NAME) {
            return Err(Error::InvalidManifest {
                reason: format!("`format` must be {FORMAT_NAME:?}"),
            });
        }
        match probe.format_version {
            Some(FORMAT_VERSION) => {}
            Some(found) => {
                return Err(Error::UnsupportedFormatVersion {
                    found,
                    supported: FORMAT_VERSION,
                });
            }
            None => {
                return Err(Error::InvalidManifest {
                    reason: "missing `formatVersion`".into(),
                });
            }
        }
        let manifest: Manifest = serde_json::from_slice(bytes).map_err(invalid)?;
        manifest.check_members()?;
        Ok(manifest)
    }

    /// Serialises as pretty JSON with a trailing newline (the exact bytes stored in a bundle).
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising this plain struct to a Vec cannot fail.
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// The entry for a member.
    pub fn entry(&self, member: Member) -> Option<&MemberEntry> {
        self.members.iter().find(|e| e.name == member)
    }

    fn check_members(&self) -> Result<()> {
        let mut seen = Vec::new();
        for e in &self.members {
            if e.name == Member::Manifest {
                return Err(Error::InvalidManifest {
                    reason: "the manifest must not list itself".into(),
                });
            }
            if seen.contains(&e.name) {
                return Err(Error::InvalidManifest {
                    reason: format!("member {} listed twice", e.name),
                });
            }
            seen.push(e.name);
        }
        for m in Member::ALL {
            if m != Member::Manifest && !seen.contains(&m) {
                return Err(Error::InvalidManifest {
                    reason: format!("member {m} not listed"),
                });
            }
        }
        Ok(())
    }
}
