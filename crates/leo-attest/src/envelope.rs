//! DSSE v1.0.2 envelopes: the pre-authentication encoding, parsing and signing.
//!
//! ```json
//! {"payload": "<base64>", "payloadType": "<type>", "signatures": [{"keyid": "<hint>", "sig": "<base64>"}]}
//! ```
//!
//! Written with standard padded base64; read with standard or URL-safe, padded or not.
//! Unknown fields are ignored, as the spec requires; duplicate keys are rejected.

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::signer::DsseSigner;

/// The largest envelope accepted, in bytes.
pub const MAX_ENVELOPE_SIZE: usize = 16 * 1024 * 1024;
/// The most signatures one envelope may carry.
pub const MAX_SIGNATURES: usize = 64;

/// The DSSE pre-authentication encoding:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in bytes as ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// One signature of an envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The unauthenticated key id hint, if any.
    pub keyid: Option<String>,
    /// The raw signature bytes.
    pub sig: Vec<u8>,
}

/// A parsed DSSE envelope. Parsing checks only the shape; [`crate::KeySet::verify`] checks
/// the signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// `payloadType`.
    pub payload_type: String,
    /// The decoded payload bytes.
    pub payload: Vec<u8>,
    /// The signatures, in envelope order.
    pub signatures: Vec<Signature>,
}

#[derive(Deserialize)]
struct WireEnvelope {
    payload: String,
    #[serde(rename = "payloadType")]
    payload_type: String,
    signatures: Vec<WireSignature>,
}

#[derive(Deserialize)]
struct WireSignature {
    #[serde(default)]
    keyid: Option<String>,
    sig: String,
}

impl Envelope {
    /// Parses an envelope (strict JSON, at most [`MAX_ENVELOPE_SIZE`] bytes and
    /// [`MAX_SIGNATURES`] signatures). An envelope without signatures is rejected.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "DSSE envelope";
        if bytes.len() > MAX_ENVELOPE_SIZE {
            return Err(Error::TooLarge {
                what: WHAT,
                size: bytes.len(),
                limit: MAX_ENVELOPE_SIZE,
            });
        }
        // Straight into the wire struct: every field the envelope has is a known one, and serde's
        // derive rejects a repeated known field ("duplicate field"), which is what matters here
        // (repeated unknown fields are ignored either way). This keeps parsing off the hot path
        // of verification; statements, whose predicates are free-form, go through
        // `json::parse_strict` instead.
        let wire: WireEnvelope = serde_json::from_slice(bytes).map_err(|e| {
            let msg = e.to_string();
            match msg
                .strip_prefix("duplicate field `")
                .and_then(|r| r.split('`').next())
            {
                Some(key) => Error::DuplicateJsonKey {
                    what: WHAT,
                    key: key.to_owned(),
                },
                None => Error::MalformedJson {
                    what: WHAT,
                    reason: msg,
                },
            }
        })?;
        let payload = crate::b64::decode(&wire.payload).ok_or(Error::InvalidBase64 {
            field: "payload".into(),
        })?;
        if wire.signatures.is_empty() {
            return Err(Error::NoSignatures);
        }
        if wire.signatures.len() > MAX_SIGNATURES {
            return Err(Error::MalformedJson {
                what: WHAT,
                reason: format!("more than {MAX_SIGNATURES} signatures"),
            });
        }
        let signatures = wire
            .signatures
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let sig = crate::b64::decode(&s.sig).ok_or_else(|| Error::InvalidBase64 {
                    field: format!("signatures[{i}].sig"),
                })?;
                Ok(Signature {
                    keyid: s.keyid.filter(|k| !k.is_empty()),
                    sig,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Envelope {
            payload_type: wire.payload_type,
            payload,
            signatures,
        })
    }

    /// Signs `payload` with every signer (in order) and returns the envelope.
    pub fn sign(payload_type: &str, payload: &[u8], signers: &[&dyn DsseSigner]) -> Result<Self> {
        if signers.is_empty() {
            return Err(Error::NoSignatures);
        }
        let pae = pae(payload_type, payload);
        let signatures = signers
            .iter()
            .map(|s| {
                Ok(Signature {
                    keyid: s.key_id(),
                    sig: s.sign(&pae)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Envelope {
            payload_type: payload_type.to_owned(),
            payload: payload.to_vec(),
            signatures,
        })
    }

    /// This envelope's pre-authentication encoding.
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }

    /// Serialises as pretty JSON with a trailing newline, standard padded base64, fields in
    /// the order `payload`, `payloadType`, `signatures` (as securesystemslib writes them).
    pub fn to_json(&self) -> Vec<u8> {
        let signatures: Vec<serde_json::Value> = self
            .signatures
            .iter()
            .map(|s| {
                let mut m = serde_json::Map::new();
                if let Some(k) = &s.keyid {
                    m.insert("keyid".into(), k.clone().into());
                }
                m.insert("sig".into(), crate::b64::encode(&s.sig).into());
                serde_json::Value::Object(m)
            })
            .collect();
        let doc = serde_json::json!({
            "payload": crate::b64::encode(&self.payload),
            "payloadType": self.payload_type,
            "signatures": signatures,
        });
        // A Value built from strings and arrays always serialises.
        let mut out = serde_json::to_vec_pretty(&doc).unwrap_or_default();
        out.push(b'\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pae_matches_the_spec_example() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }

    #[test]
    fn rejects_duplicate_envelope_fields() {
        let e = Envelope::from_json(
            br#"{"payload":"","payload":"aGk=","payloadType":"t","signatures":[{"sig":"AA=="}]}"#,
        )
        .unwrap_err();
        assert!(matches!(e, Error::DuplicateJsonKey { key, .. } if key == "payload"));
        let e = Envelope::from_json(
            br#"{"payload":"","payloadType":"t","signatures":[{"sig":"AA==","sig":"AQ=="}]}"#,
        )
        .unwrap_err();
        assert!(matches!(e, Error::DuplicateJsonKey { key, .. } if key == "sig"));
    }

    #[test]
    fn rejects_missing_fields_and_bad_base64() {
        let e = Envelope::from_json(br#"{"payloadType":"t","signatures":[]}"#).unwrap_err();
        assert!(matches!(e, Error::MalformedJson { .. }));
        let e = Envelope::from_json(
            br#"{"payload":"!!","payloadType":"t","signatures":[{"sig":"AA=="}]}"#,
        )
        .unwrap_err();
        assert!(matches!(e, Error::InvalidBase64 { field } if field == "payload"));
        let e = Envelope::from_json(br#"{"payload":"","payloadType":"t","signatures":[]}"#)
            .unwrap_err();
        assert!(matches!(e, Error::NoSignatures));
    }

    proptest! {
        #[test]
        fn json_round_trips(
            ty in ".{0,30}",
            payload in proptest::collection::vec(any::<u8>(), 0..300),
            sigs in proptest::collection::vec(
                (proptest::option::of("[a-f0-9]{1,16}"), proptest::collection::vec(any::<u8>(), 0..80)),
                1..4),
        ) {
            let env = Envelope {
                payload_type: ty,
                payload,
                signatures: sigs.into_iter().map(|(keyid, sig)| Signature { keyid, sig }).collect(),
            };
            prop_assert_eq!(Envelope::from_json(&env.to_json()).unwrap(), env);
        }

        #[test]
        fn parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = Envelope::from_json(&bytes);
        }
    }
}
