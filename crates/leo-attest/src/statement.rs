//! in-toto Statement v1 (and read-only v0.1) with resource descriptors and digest sets.
//!
//! Checks on parse: `_type` is a known statement type; `subject` is non-empty and every subject
//! has a non-empty digest; digests of known algorithms are lowercase hex of the right length
//! (as in-toto/attestation's Go validator, plus the lowercase rule of the spec); unknown
//! algorithms are kept but never used for matching; `predicateType` is present and non-empty;
//! duplicate JSON keys are rejected anywhere in the document.

use std::collections::BTreeMap;

use leo_artifact::Sha256Digest;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result, snippet};
use crate::json;

/// `_type` of in-toto Statement v1.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// `_type` of the legacy in-toto Statement v0.1 (cosign, witness, older SLSA generators).
pub const STATEMENT_V0_1: &str = "https://in-toto.io/Statement/v0.1";
/// The DSSE `payloadType` of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The largest statement accepted, in bytes.
pub const MAX_STATEMENT_SIZE: usize = 16 * 1024 * 1024;

/// Whether a DSSE `payloadType` announces an in-toto statement: the generic type, or a
/// predicate-specific `application/vnd.in-toto.<predicate>+json` (attestation spec v1.2).
pub fn is_in_toto_payload_type(payload_type: &str) -> bool {
    payload_type == PAYLOAD_TYPE
        || payload_type
            .strip_prefix("application/vnd.in-toto.")
            .is_some_and(|rest| rest.ends_with("+json"))
}

/// A digest set: algorithm name → encoded digest.
pub type DigestSet = BTreeMap<String, String>;

/// The expected hex length of a known digest algorithm; `None` for unknown algorithms.
fn known_hex_lengths(algorithm: &str) -> Option<&'static [usize]> {
    Some(match algorithm {
        "md5" => &[32],
        "sha1" => &[40],
        "sha224" | "sha512_224" | "sha3_224" => &[56],
        "sha256" | "sha512_256" | "sha3_256" | "dirHash" => &[64],
        "sha384" | "sha3_384" => &[96],
        "sha512" | "sha3_512" => &[128],
        "gitBlob" | "gitCommit" | "gitTag" | "gitTree" => &[40, 64],
        _ => return None,
    })
}

/// Checks every known-algorithm value of a digest set.
pub fn check_digest_set(digests: &DigestSet) -> Result<()> {
    for (algorithm, value) in digests {
        let Some(lengths) = known_hex_lengths(algorithm) else {
            continue;
        };
        let invalid = |reason| Error::InvalidDigestValue {
            algorithm: algorithm.clone(),
            value: snippet(value),
            reason,
        };
        if !value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(invalid("not lowercase hex"));
        }
        if !lengths.contains(&value.len()) {
            return Err(invalid("wrong length for the algorithm"));
        }
    }
    Ok(())
}

/// An in-toto resource descriptor (subjects, materials, dependencies, byproducts).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDescriptor {
    /// A name (for subjects: usually the file name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Digests by algorithm.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: DigestSet,
    /// Inline content (base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Where to download the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_location: Option<String>,
    /// Media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Free-form annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Map<String, Value>>,
    /// Unknown fields, preserved on round-trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ResourceDescriptor {
    /// A descriptor with a name and a SHA-256.
    pub fn sha256(name: impl Into<String>, digest: &Sha256Digest) -> Self {
        ResourceDescriptor {
            name: Some(name.into()),
            digest: BTreeMap::from([("sha256".to_owned(), digest.to_string())]),
            ..Self::default()
        }
    }

    /// The SHA-256 of this resource if the digest set has a well-formed one.
    pub fn sha256_digest(&self) -> Option<Sha256Digest> {
        self.digest.get("sha256").and_then(|d| d.parse().ok())
    }
}

/// Which statement layer a document uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementVersion {
    /// `https://in-toto.io/Statement/v1`.
    V1,
    /// `https://in-toto.io/Statement/v0.1`: readable, but flagged.
    V0_1,
}

impl StatementVersion {
    /// The `_type` URI.
    pub const fn type_uri(self) -> &'static str {
        match self {
            StatementVersion::V1 => STATEMENT_V1,
            StatementVersion::V0_1 => STATEMENT_V0_1,
        }
    }
}

/// An in-toto statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// Statement layer version.
    pub version: StatementVersion,
    /// What the statement is about (non-empty; each with a digest).
    pub subject: Vec<ResourceDescriptor>,
    /// The predicate's type URI.
    pub predicate_type: String,
    /// The predicate, if any.
    pub predicate: Option<Value>,
    /// Unknown top-level fields, preserved on round-trip.
    pub extra: Map<String, Value>,
}

#[derive(Serialize, Deserialize)]
struct WireStatement {
    #[serde(rename = "_type")]
    type_: String,
    subject: Vec<ResourceDescriptor>,
    #[serde(rename = "predicateType", default)]
    predicate_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    predicate: Option<Value>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl Statement {
    /// A v1 statement.
    pub fn new(subject: Vec<ResourceDescriptor>, predicate_type: &str, predicate: Value) -> Self {
        Statement {
            version: StatementVersion::V1,
            subject,
            predicate_type: predicate_type.to_owned(),
            predicate: Some(predicate),
            extra: Map::new(),
        }
    }

    /// Parses a Statement v1; a v0.1 statement is [`Error::LegacyStatement`].
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let s = Self::from_json_allow_legacy(bytes)?;
        if s.version == StatementVersion::V0_1 {
            return Err(Error::LegacyStatement);
        }
        Ok(s)
    }

    /// Parses a Statement v1 or v0.1 (check [`Statement::version`]: v0.1 is legacy).
    pub fn from_json_allow_legacy(bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "in-toto statement";
        let value = json::parse_strict(bytes, WHAT, MAX_STATEMENT_SIZE)?;
        let type_ = value
            .get("_type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let version = match type_ {
            STATEMENT_V1 => StatementVersion::V1,
            STATEMENT_V0_1 => StatementVersion::V0_1,
            other => {
                return Err(Error::UnsupportedStatementType {
                    found: snippet(other),
                });
            }
        };
        let wire: WireStatement = json::typed(value, WHAT)?;
        if wire.subject.is_empty() {
            return Err(Error::EmptySubject);
        }
        for (index, s) in wire.subject.iter().enumerate() {
            if s.digest.is_empty() {
                return Err(Error::SubjectWithoutDigest { index });
            }
            check_digest_set(&s.digest)?;
        }
        let predicate_type = wire
            .predicate_type
            .filter(|p| !p.is_empty())
            .ok_or(Error::MissingPredicateType)?;
        Ok(Statement {
            version,
            subject: wire.subject,
            predicate_type,
            predicate: wire.predicate,
            extra: wire.extra,
        })
    }

    /// Compact JSON (the bytes to sign).
    pub fn to_json(&self) -> Vec<u8> {
        let wire = WireStatement {
            type_: self.version.type_uri().to_owned(),
            subject: self.subject.clone(),
            predicate_type: Some(self.predicate_type.clone()),
            predicate: self.predicate.clone(),
            extra: self.extra.clone(),
        };
        // Plain data with string keys: serialisation cannot fail.
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    /// The first subject whose well-formed SHA-256 equals `digest`. Other algorithms (md5,
    /// sha1, unknown) are ignored for matching.
    pub fn subject_matching(&self, digest: &Sha256Digest) -> Option<&ResourceDescriptor> {
        self.subject
            .iter()
            .find(|s| s.sha256_digest().as_ref() == Some(digest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn doc(subject: &str) -> Vec<u8> {
        format!(
            r#"{{"_type":"{STATEMENT_V1}","subject":{subject},"predicateType":"p","predicate":{{}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn digest_rules() {
        let ok = doc(
            r#"[{"name":"a","digest":{"sha256":"00000000000000000000000000000000000000000000000000000000000000aa","custom":"XYZ"}}]"#,
        );
        assert!(Statement::from_json(&ok).is_ok());
        let upper = doc(&format!(
            r#"[{{"digest":{{"sha256":"{}"}}}}]"#,
            "A".repeat(64)
        ));
        assert!(matches!(
            Statement::from_json(&upper),
            Err(Error::InvalidDigestValue {
                reason: "not lowercase hex",
                ..
            })
        ));
        let short = doc(&format!(
            r#"[{{"digest":{{"sha512":"{}"}}}}]"#,
            "a".repeat(64)
        ));
        assert!(matches!(
            Statement::from_json(&short),
            Err(Error::InvalidDigestValue { .. })
        ));
    }

    #[test]
    fn payload_types() {
        assert!(is_in_toto_payload_type("application/vnd.in-toto+json"));
        assert!(is_in_toto_payload_type(
            "application/vnd.in-toto.provenance+json"
        ));
        assert!(!is_in_toto_payload_type("application/json"));
    }

    proptest! {
        #[test]
        fn round_trips(name in ".{0,20}", d in proptest::array::uniform32(any::<u8>()), extra in "[a-z]{1,8}") {
            let mut s = Statement::new(
                vec![ResourceDescriptor::sha256(name, &Sha256Digest::from_bytes(d))],
                "https://example.com/p",
                serde_json::json!({"k": [1, "two"]}),
            );
            s.extra.insert(format!("x-{extra}"), Value::Bool(true));
            prop_assert_eq!(Statement::from_json(&s.to_json()).unwrap(), s);
        }

        #[test]
        fn parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Statement::from_json_allow_legacy(&bytes);
        }
    }
}
