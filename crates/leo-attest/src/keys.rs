//! Public keys (Ed25519, ECDSA P-256, RSA-PSS-SHA256) and their securesystemslib key ids.
//!
//! A key id is only a hint in DSSE, but the Python reference (`securesystemslib`) insists that a
//! signature's `keyid` equals its own key id, which it computes as the SHA-256 of the canonical
//! JSON of the key dict `{"keytype", "keyval": {"public"}, "scheme"}`. [`PublicKey::key_id`]
//! computes exactly that, so the reference verifies LEO's envelopes unmodified.

use std::fmt;

use ring::signature::{self, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

use crate::der;
use crate::error::{Error, Result};

/// A key id: securesystemslib's SHA-256 hex by default, or whatever a trust root names the key.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(String);

impl KeyId {
    /// Wraps a key id string (ids are opaque hints, so any string is accepted).
    pub fn new(id: impl Into<String>) -> Self {
        KeyId(id.into())
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.0)
    }
}

/// The signature algorithms LEO verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// Ed25519 (RFC 8032).
    Ed25519,
    /// ECDSA on P-256 with SHA-256; signatures DER or raw `r‖s`.
    EcdsaP256Sha256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256, salt length 32; 2048–8192-bit keys.
    RsaPssSha256,
}

impl KeyAlgorithm {
    /// securesystemslib `(keytype, scheme)`.
    pub const fn securesystemslib_names(self) -> (&'static str, &'static str) {
        match self {
            KeyAlgorithm::Ed25519 => ("ed25519", "ed25519"),
            KeyAlgorithm::EcdsaP256Sha256 => ("ecdsa", "ecdsa-sha2-nistp256"),
            KeyAlgorithm::RsaPssSha256 => ("rsa", "rsassa-pss-sha256"),
        }
    }
}

/// A public key that can verify DSSE signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    algorithm: KeyAlgorithm,
    /// Ed25519: 32 raw bytes; P-256: the uncompressed point; RSA: PKCS#1 `RSAPublicKey` DER.
    key: Vec<u8>,
    key_id: KeyId,
}

impl PublicKey {
    /// Parses a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) block.
    pub fn from_pem(pem: &str) -> Result<Self> {
        Self::from_spki_der(&der::pem_decode(pem, "PUBLIC KEY")?)
    }

    /// Parses a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(spki: &[u8]) -> Result<Self> {
        let (alg, key) = der::split_spki(spki)?;
        let algorithm = if alg == der::ALG_ED25519 {
            KeyAlgorithm::Ed25519
        } else if alg == der::ALG_EC_P256 {
            KeyAlgorithm::EcdsaP256Sha256
        } else if alg == der::ALG_RSA {
            KeyAlgorithm::RsaPssSha256
        } else {
            return Err(Error::InvalidKey {
                reason: "unsupported key algorithm (Ed25519, ECDSA P-256 and RSA only)".into(),
            });
        };
        Self::from_raw(algorithm, key.to_vec())
    }

    /// A key from its raw form: Ed25519 32 bytes, P-256 uncompressed point (65 bytes),
    /// RSA PKCS#1 `RSAPublicKey` DER.
    pub fn from_raw(algorithm: KeyAlgorithm, key: Vec<u8>) -> Result<Self> {
        let ok = match algorithm {
            KeyAlgorithm::Ed25519 => key.len() == 32,
            KeyAlgorithm::EcdsaP256Sha256 => key.len() == 65 && key.first() == Some(&4),
            KeyAlgorithm::RsaPssSha256 => key.first() == Some(&0x30),
        };
        if !ok {
            return Err(Error::InvalidKey {
                reason: format!("malformed {algorithm:?} public key"),
            });
        }
        let mut pk = PublicKey {
            algorithm,
            key,
            key_id: KeyId::new(String::new()),
        };
        pk.key_id = pk.securesystemslib_key_id();
        Ok(pk)
    }

    /// The same key under another id (e.g. `keystore://…` as a trust root names it).
    #[must_use]
    pub fn with_key_id(mut self, key_id: KeyId) -> Self {
        self.key_id = key_id;
        self
    }

    /// The key's id (securesystemslib's unless replaced with [`PublicKey::with_key_id`]).
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// The algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The raw key bytes (see [`PublicKey::from_raw`]).
    pub fn raw(&self) -> &[u8] {
        &self.key
    }

    /// DER SubjectPublicKeyInfo.
    pub fn to_spki_der(&self) -> Vec<u8> {
        let alg = match self.algorithm {
            KeyAlgorithm::Ed25519 => der::ALG_ED25519,
            KeyAlgorithm::EcdsaP256Sha256 => der::ALG_EC_P256,
            KeyAlgorithm::RsaPssSha256 => der::ALG_RSA,
        };
        der::build_spki(alg, &self.key)
    }

    /// PEM `PUBLIC KEY`, laid out as OpenSSL writes it.
    pub fn to_pem(&self) -> String {
        der::pem_encode(&self.to_spki_der(), "PUBLIC KEY")
    }

    /// The securesystemslib key dict (without `keyid`): Ed25519 keys as hex, others as PEM.
    pub fn securesystemslib_dict(&self) -> serde_json::Value {
        let (keytype, scheme) = self.algorithm.securesystemslib_names();
        let public = match self.algorithm {
            KeyAlgorithm::Ed25519 => hex::encode(&self.key),
            _ => self.to_pem(),
        };
        serde_json::json!({"keytype": keytype, "keyval": {"public": public}, "scheme": scheme})
    }

    /// securesystemslib's default key id: SHA-256 of the OLPC canonical JSON of the key dict.
    pub fn securesystemslib_key_id(&self) -> KeyId {
        let canonical = canonical_json(&self.securesystemslib_dict());
        KeyId(leo_artifact::Sha256Digest::of(canonical.as_bytes()).to_string())
    }

    /// Verifies `signature` over `message`. ECDSA accepts DER and raw `r‖s` (IEEE P1363).
    pub fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        let check = |alg: &'static dyn signature::VerificationAlgorithm| {
            UnparsedPublicKey::new(alg, &self.key)
                .verify(message, sig)
                .is_ok()
        };
        match self.algorithm {
            KeyAlgorithm::Ed25519 => check(&signature::ED25519),
            // A 64-byte signature is almost surely raw r‖s; try DER too, it costs nothing.
            KeyAlgorithm::EcdsaP256Sha256 if sig.len() == 64 => {
                check(&signature::ECDSA_P256_SHA256_FIXED)
                    || check(&signature::ECDSA_P256_SHA256_ASN1)
            }
            KeyAlgorithm::EcdsaP256Sha256 => check(&signature::ECDSA_P256_SHA256_ASN1),
            KeyAlgorithm::RsaPssSha256 => check(&signature::RSA_PSS_2048_8192_SHA256),
        }
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({:?}, {})", self.algorithm, self.key_id)
    }
}

/// OLPC canonical JSON as securesystemslib writes it: sorted keys, no whitespace, only `"` and
/// `\` escaped in strings. Enough for key dicts (strings and objects only).
fn canonical_json(value: &serde_json::Value) -> String {
    use serde_json::Value;
    fn string(out: &mut String, s: &str) {
        out.push('"');
        for c in s.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    fn walk(out: &mut String, v: &Value) {
        match v {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                out.push('{');
                for (i, (k, v)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    string(out, k);
                    out.push(':');
                    walk(out, v);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    walk(out, v);
                }
                out.push(']');
            }
            Value::String(s) => string(out, s),
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    walk(&mut out, value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_escapes_only_quote_and_backslash() {
        let v = serde_json::json!({"b": "x\n\"\\", "a": {"d": "1", "c": "2"}});
        assert_eq!(
            canonical_json(&v),
            "{\"a\":{\"c\":\"2\",\"d\":\"1\"},\"b\":\"x\n\\\"\\\\\"}"
        );
    }

    #[test]
    fn rejects_unsupported_and_malformed_keys() {
        let err = PublicKey::from_raw(KeyAlgorithm::Ed25519, vec![0; 31]).unwrap_err();
        assert!(matches!(err, Error::InvalidKey { .. }));
        let err =
            PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
                .unwrap_err();
        assert!(matches!(err, Error::InvalidKey { .. }));
    }
}
