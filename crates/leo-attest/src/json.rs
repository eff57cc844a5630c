//! Strict JSON: size-limited, and duplicate object keys rejected.
//!
//! `serde_json::Value` silently keeps the last of two equal keys, Python's `json` does the same,
//! and protobuf's JSON parser rejects them. A signed payload that two parsers read differently
//! is a classic parser-differential hole (`{"predicateType": A, "predicateType": B}`), so every
//! document this crate verifies is first parsed here, where a repeated key is an error.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{Error, Result, snippet};

/// Parses `bytes` as one JSON value, rejecting duplicate keys (at any depth), trailing data
/// and documents above `limit` bytes. `what` names the document in errors.
pub fn parse_strict(bytes: &[u8], what: &'static str, limit: usize) -> Result<Value> {
    if bytes.len() > limit {
        return Err(Error::TooLarge {
            what,
            size: bytes.len(),
            limit,
        });
    }
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = StrictSeed {
        duplicate: &duplicate,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(v) => Ok(v),
        Err(e) => match duplicate.into_inner() {
            Some(key) => Err(Error::DuplicateJsonKey { what, key }),
            None => Err(Error::MalformedJson {
                what,
                reason: e.to_string(),
            }),
        },
    }
}

/// Converts an already strictly-parsed value into a typed document.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(value: Value, what: &'static str) -> Result<T> {
    serde_json::from_value(value).map_err(|e| Error::MalformedJson {
        what,
        reason: e.to_string(),
    })
}

#[derive(Clone, Copy)]
struct StrictSeed<'a> {
    duplicate: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                let message = format!("duplicate key {:?}", snippet(&key));
                *self.duplicate.borrow_mut() = Some(snippet(&key));
                return Err(de::Error::custom(message));
            }
            let value = map.next_value_seed(self)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_duplicate_keys_at_any_depth() {
        for doc in [
            r#"{"a":1,"a":2}"#,
            r#"{"x":[{"b":1,"b":1}]}"#,
            r#"{"x":{"y":{"z":1,"z":1}}}"#,
        ] {
            let err = parse_strict(doc.as_bytes(), "test", 1 << 20).unwrap_err();
            assert!(
                matches!(err, Error::DuplicateJsonKey { .. }),
                "{doc}: {err}"
            );
        }
    }

    #[test]
    fn escaped_duplicate_is_still_a_duplicate() {
        let err = parse_strict(br#"{"a":1,"\u0061":2}"#, "test", 1 << 20).unwrap_err();
        assert!(matches!(err, Error::DuplicateJsonKey { key, .. } if key == "a"));
    }

    #[test]
    fn rejects_trailing_data_and_oversize() {
        let err = parse_strict(b"{} {}", "test", 1 << 20).unwrap_err();
        assert!(matches!(err, Error::MalformedJson { .. }));
        let err = parse_strict(b"[1,2,3]", "test", 3).unwrap_err();
        assert!(matches!(
            err,
            Error::TooLarge {
                size: 7,
                limit: 3,
                ..
            }
        ));
    }

    proptest! {
        #[test]
        fn agrees_with_serde_json_on_documents_without_duplicates(
            m in proptest::collection::btree_map("[a-z]{1,4}", any::<i64>(), 0..8),
            s in ".{0,20}",
        ) {
            let doc = serde_json::json!({"m": m, "s": s, "l": [1.5, null, true]});
            let bytes = serde_json::to_vec(&doc).unwrap();
            prop_assert_eq!(parse_strict(&bytes, "t", 1 << 20).unwrap(), doc);
        }
    }
}
