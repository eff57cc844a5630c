//! The closed set of members a bundle (format v1) holds.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, snippet};

/// A bundle member. Bundle format v1 has exactly these six; anything else is rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Member {
    /// `MERGE_BASE`: the merge-base commit id and a newline.
    MergeBase,
    /// `ROLLBACK.md`: how to undo the change.
    Rollback,
    /// `attestation.dsse.json`: the signed in-toto statement (DSSE envelope).
    Attestation,
    /// `changes.patch`: the unified diff, merge-base to head.
    Patch,
    /// `manifest.json`: sizes and digests of the other members.
    Manifest,
    /// `sbom.cdx.json`: CycloneDX 1.5 SBOM.
    Sbom,
}

impl Member {
    /// Every member, in archive order (sorted by file name, bytewise).
    pub const ALL: [Member; 6] = [
        Member::MergeBase,
        Member::Rollback,
        Member::Attestation,
        Member::Patch,
        Member::Manifest,
        Member::Sbom,
    ];

    /// The file name inside the archive.
    pub const fn file_name(self) -> &'static str {
        match self {
            Member::MergeBase => "MERGE_BASE",
            Member::Rollback => "ROLLBACK.md",
            Member::Attestation => "attestation.dsse.json",
            Member::Patch => "changes.patch",
            Member::Manifest => "manifest.json",
            Member::Sbom => "sbom.cdx.json",
        }
    }
}

impl fmt::Display for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_name())
    }
}

impl FromStr for Member {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Member::ALL
            .into_iter()
            .find(|m| m.file_name() == s)
            .ok_or_else(|| Error::UnexpectedMember { name: snippet(s) })
    }
}

impl serde::Serialize for Member {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.file_name())
    }
}

impl<'de> serde::Deserialize<'de> for Member {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_sorted_by_file_name() {
        let names: Vec<_> = Member::ALL.iter().map(|m| m.file_name()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
    }
}
