//! [`CommitSha`]: a git object id as 40 (SHA-1) or 64 (SHA-256 repositories) lowercase hex.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result, snippet};

/// A full git commit id, lowercase hex, 40 or 64 characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommitSha(String);

impl CommitSha {
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// From a libgit2 object id.
    pub fn from_oid(oid: git2::Oid) -> Self {
        CommitSha(oid.to_string())
    }

    /// The first `n` characters, for display.
    pub fn short(&self, n: usize) -> &str {
        self.0.get(..n).unwrap_or(&self.0)
    }
}

impl FromStr for CommitSha {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let ok_len = s.len() == 40 || s.len() == 64;
        let ok_chars = s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if ok_len && ok_chars {
            Ok(CommitSha(s.to_owned()))
        } else {
            Err(Error::InvalidCommitSha { input: snippet(s) })
        }
    }
}

impl fmt::Display for CommitSha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CommitSha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CommitSha({})", self.0)
    }
}

impl serde::Serialize for CommitSha {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for CommitSha {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_sha1_and_sha256_ids_only() {
        assert!(
            "0123456789abcdef0123456789abcdef01234567"
                .parse::<CommitSha>()
                .is_ok()
        );
        assert!("0".repeat(64).parse::<CommitSha>().is_ok());
        for bad in ["", "abc", &"0".repeat(41), &"A".repeat(40), &"g".repeat(40)] {
            assert!(matches!(
                bad.parse::<CommitSha>(),
                Err(Error::InvalidCommitSha { .. })
            ));
        }
    }
}
