//! Key fingerprints: the pinned identity of a signing key.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A key fingerprint as upper-case hex: 40 characters (OpenPGP v4) or 64 (OpenPGP v6, and
/// the SHA-256 of a raw public key).
///
/// Parsing accepts either case and ignores spaces (as `gpg --fingerprint` prints them).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The upper-case hex form.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The fingerprint of raw public key bytes: upper-case hex of their SHA-256.
    #[must_use]
    pub fn of_raw_public_key(bytes: &[u8]) -> Self {
        use sha2::Digest as _;
        Self(hex::encode_upper(sha2::Sha256::digest(bytes)))
    }

    /// Whether a 16-hex-digit OpenPGP key ID names this (v4) fingerprint.
    #[must_use]
    pub fn matches_key_id(&self, key_id: &str) -> bool {
        self.0.len() == 40 && self.0.ends_with(&key_id.to_ascii_uppercase())
    }
}

impl FromStr for Fingerprint {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let compact: String = s.chars().filter(|c| *c != ' ').collect();
        let reject = |reason| Error::InvalidFingerprint {
            input: s.chars().take(80).collect(),
            reason,
        };
        if compact.len() != 40 && compact.len() != 64 {
            return Err(reject("expected 40 or 64 hex characters"));
        }
        if !compact.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(reject("not hexadecimal"));
        }
        Ok(Self(compact.to_ascii_uppercase()))
    }
}

impl From<&sequoia_openpgp::Fingerprint> for Fingerprint {
    fn from(fpr: &sequoia_openpgp::Fingerprint) -> Self {
        Self(fpr.to_hex())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.0)
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn gpg_spaced_form_parses_to_upper_hex() {
        let f: Fingerprint = "a1b2 C3D4 0000 1111 2222  3333 4444 5555 6666 7777"
            .parse()
            .unwrap();
        assert_eq!(f.as_str(), "A1B2C3D400001111222233334444555566667777");
        assert!(f.matches_key_id("4444555566667777"));
    }

    #[test]
    fn wrong_length_and_non_hex_are_rejected() {
        assert!(
            matches!("abc".parse::<Fingerprint>(), Err(Error::InvalidFingerprint { reason, .. }) if reason.contains("40 or 64"))
        );
        let bad = "G".repeat(40);
        assert!(matches!(
            bad.parse::<Fingerprint>(),
            Err(Error::InvalidFingerprint {
                reason: "not hexadecimal",
                ..
            })
        ));
    }

    proptest! {
        #[test]
        fn display_parse_round_trips(bytes in proptest::collection::vec(any::<u8>(), 20..=20)) {
            let f: Fingerprint = hex::encode(&bytes).parse().unwrap();
            prop_assert_eq!(f.to_string().parse::<Fingerprint>().unwrap(), f.clone());
            let json = serde_json::to_string(&f).unwrap();
            prop_assert_eq!(serde_json::from_str::<Fingerprint>(&json).unwrap(), f);
        }

        #[test]
        fn parser_never_panics(s in ".{0,100}") {
            let _ = s.parse::<Fingerprint>();
        }
    }
}
