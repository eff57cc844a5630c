//! Serde for [`leo_store::Timestamp`] (microseconds since the Unix epoch, as an integer).

use leo_store::Timestamp;
use serde::{Deserialize, Deserializer, Serializer};

/// Serializes a timestamp as its microseconds.
pub(crate) fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(t.unix_micros())
}

/// Deserializes a timestamp from its microseconds.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    i64::deserialize(d).map(Timestamp::from_unix_micros)
}

/// The same for `Option<Timestamp>`.
pub(crate) mod option {
    use super::*;

    /// Serializes `None` as `null`.
    pub(crate) fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&t.unix_micros()),
            None => s.serialize_none(),
        }
    }

    /// Deserializes `null` as `None`.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        Option::<i64>::deserialize(d).map(|o| o.map(Timestamp::from_unix_micros))
    }
}

/// Microseconds per second.
pub(crate) const MICROS_PER_SEC: i64 = 1_000_000;

/// `t + secs`, saturating at the end of time.
pub(crate) fn plus_secs(t: Timestamp, secs: u64) -> Timestamp {
    let micros = i64::try_from(secs)
        .unwrap_or(i64::MAX)
        .saturating_mul(MICROS_PER_SEC);
    Timestamp::from_unix_micros(t.unix_micros().saturating_add(micros))
}
