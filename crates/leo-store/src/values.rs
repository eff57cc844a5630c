//! Constrained value types shared by the records: each can only be constructed valid.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::{Error, Result, snippet};

/// Longest client event id, in bytes.
pub const MAX_EVENT_ID_LEN: usize = 128;
/// Longest single-line text field (branch, gate name, summary, justification), in bytes.
pub const MAX_TEXT_LEN: usize = 4096;

/// A client-chosen event id: the idempotency key of an append (UNIQUE in the log).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct EventId(String);

impl EventId {
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for EventId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason| Error::InvalidEventId {
            input: snippet(s),
            reason,
        };
        if s.is_empty() || s.len() > MAX_EVENT_ID_LEN {
            return Err(bad("must be 1 to 128 bytes"));
        }
        let ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'/' | b'-');
        if !s.bytes().all(ok) {
            return Err(bad("allowed characters are A-Z a-z 0-9 . _ : / -"));
        }
        Ok(EventId(s.to_owned()))
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A point in time, UTC, microsecond precision (stored as an integer so it round-trips
/// exactly through both databases).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// From microseconds since the Unix epoch.
    pub const fn from_unix_micros(micros: i64) -> Self {
        Timestamp(micros)
    }

    /// Microseconds since the Unix epoch.
    pub const fn unix_micros(self) -> i64 {
        self.0
    }

    /// Now, truncated to microseconds.
    pub fn now() -> Self {
        let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        Timestamp(i64::try_from(nanos / 1000).unwrap_or(i64::MAX))
    }

    /// RFC 3339 (UTC), for display.
    pub fn to_rfc3339(self) -> String {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1000)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| format!("@{}us", self.0))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// A non-empty single line of text without control characters, at most [`MAX_TEXT_LEN`]
/// bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Text(String);

impl Text {
    /// Validates `s` as the field `field`.
    pub fn new(field: &'static str, s: &str) -> Result<Self> {
        if s.trim().is_empty() {
            return Err(Error::field(field, "must not be empty"));
        }
        if s.len() > MAX_TEXT_LEN {
            return Err(Error::field(
                field,
                format!("longer than {MAX_TEXT_LEN} bytes"),
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(Error::field(
                field,
                "must be a single line without control characters",
            ));
        }
        Ok(Text(s.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A pull-request number (positive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PrNumber(u32);

impl PrNumber {
    /// Refuses 0.
    pub fn new(n: u32) -> Result<Self> {
        if n == 0 {
            return Err(Error::field("pr_number", "must be positive"));
        }
        Ok(PrNumber(n))
    }

    /// The number.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for PrNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}
