//! Validated text values: single lines, signer identities and change ids.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, snippet};

/// Longest single-line text (reason, justification, finding, context), in bytes. Matches
/// `leo_store::record::MAX_TEXT_LEN`, so every value fits the audit trail.
pub const MAX_LINE_LEN: usize = 4096;
/// Longest change id, in bytes (the audit trail's event-id limit, so ids can prefix event ids).
pub const MAX_CHANGE_ID_LEN: usize = 96;

/// A non-empty single line without control characters, at most [`MAX_LINE_LEN`] bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Line(String);

impl Line {
    /// Validates `s` as the field `field`.
    pub fn new(field: &'static str, s: &str) -> Result<Self> {
        let bad = |reason: String| Error::InvalidText { field, reason };
        if s.trim().is_empty() {
            return Err(bad("must not be empty".into()));
        }
        if s.len() > MAX_LINE_LEN {
            return Err(bad(format!("longer than {MAX_LINE_LEN} bytes")));
        }
        if s.chars().any(char::is_control) {
            return Err(bad(
                "must be a single line without control characters".into()
            ));
        }
        Ok(Line(s.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Line {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        Line::new("text", &s)
    }
}

impl From<Line> for String {
    fn from(l: Line) -> String {
        l.0
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The signing identity a role acts through: a key fingerprint, or a Sigstore subject.
///
/// LEO compares identities byte for byte; the enforcer module derives them from verified
/// signatures, never from a claim in the input.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Identity(Line);

impl Identity {
    /// Validates an identity string.
    pub fn new(s: &str) -> Result<Self> {
        Line::new("identity", s).map(Identity)
    }

    /// The identity.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A change's id: 1 to [`MAX_CHANGE_ID_LEN`] bytes of `[A-Za-z0-9._:/-]` (the audit trail's
/// event-id alphabet), e.g. `PRD-42` or `pr/17`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ChangeId(String);

impl ChangeId {
    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ChangeId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason| Error::InvalidChangeId {
            input: snippet(s),
            reason,
        };
        if s.is_empty() || s.len() > MAX_CHANGE_ID_LEN {
            return Err(bad("must be 1 to 96 bytes"));
        }
        let ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'/' | b'-');
        if !s.bytes().all(ok) {
            return Err(bad("allowed characters are A-Z a-z 0-9 . _ : / -"));
        }
        Ok(ChangeId(s.to_owned()))
    }
}

impl TryFrom<String> for ChangeId {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<ChangeId> for String {
    fn from(c: ChangeId) -> String {
        c.0
    }
}

impl fmt::Display for ChangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_checked() {
        assert_eq!(Line::new("reason", "ok").unwrap().as_str(), "ok");
        for bad in ["", "  ", "a\nb", "tab\there"] {
            assert!(matches!(
                Line::new("reason", bad),
                Err(Error::InvalidText {
                    field: "reason",
                    ..
                })
            ));
        }
        assert!(Line::new("reason", &"x".repeat(MAX_LINE_LEN)).is_ok());
        assert!(Line::new("reason", &"x".repeat(MAX_LINE_LEN + 1)).is_err());
        assert!(serde_json::from_str::<Line>("\"\"").is_err());
    }

    #[test]
    fn change_ids_are_checked() {
        assert_eq!("PRD-42".parse::<ChangeId>().unwrap().as_str(), "PRD-42");
        for bad in ["", "a b", "é", &"x".repeat(MAX_CHANGE_ID_LEN + 1)] {
            assert!(matches!(
                bad.parse::<ChangeId>(),
                Err(Error::InvalidChangeId { .. })
            ));
        }
    }

    proptest::proptest! {
        #[test]
        fn change_id_parse_never_panics_and_round_trips(s in "\\PC{0,100}") {
            if let Ok(id) = s.parse::<ChangeId>() {
                let json = serde_json::to_string(&id).unwrap();
                proptest::prop_assert_eq!(serde_json::from_str::<ChangeId>(&json).unwrap(), id);
            }
        }
    }
}
