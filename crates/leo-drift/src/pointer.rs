//! JSON pointers (RFC 6901) naming fields to ignore, with `*` as a whole-segment wildcard.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// Longest pointer accepted in a policy.
pub const MAX_POINTER_LEN: usize = 1024;

/// A parsed JSON pointer: `""` (the whole object) or `/seg/seg...`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JsonPointer {
    text: String,
    segments: Vec<String>,
}

impl JsonPointer {
    /// The unescaped segments.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// Whether a field at `path` (a pointer as produced by the diff) lies at or below this
    /// pointer. A `*` segment matches any one segment.
    pub fn covers(&self, path: &str) -> bool {
        let Ok(path) = path.parse::<JsonPointer>() else {
            return false;
        };
        self.segments.len() <= path.segments.len()
            && self
                .segments
                .iter()
                .zip(&path.segments)
                .all(|(want, have)| want == "*" || want == have)
    }
}

impl FromStr for JsonPointer {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidPointer {
            pointer: text.chars().take(MAX_POINTER_LEN).collect(),
            reason,
        };
        if text.len() > MAX_POINTER_LEN {
            return Err(invalid("longer than the limit"));
        }
        if text.is_empty() {
            return Ok(Self {
                text: String::new(),
                segments: Vec::new(),
            });
        }
        let rest = text
            .strip_prefix('/')
            .ok_or(invalid("must start with '/'"))?;
        let mut segments = Vec::new();
        for raw in rest.split('/') {
            let mut seg = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                if c == '~' {
                    match chars.next() {
                        Some('0') => seg.push('~'),
                        Some('1') => seg.push('/'),
                        _ => return Err(invalid("'~' must be followed by '0' or '1'")),
                    }
                } else {
                    seg.push(c);
                }
            }
            segments.push(seg);
        }
        Ok(Self {
            text: text.to_owned(),
            segments,
        })
    }
}

impl fmt::Display for JsonPointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for JsonPointer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for JsonPointer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::pointer;
    use proptest::prelude::*;

    #[test]
    fn covers_descendants_and_wildcards() {
        let p: JsonPointer = "/spec/replicas".parse().unwrap();
        assert!(p.covers("/spec/replicas"));
        assert!(!p.covers("/spec/replicasX"));
        assert!(!p.covers("/spec"));
        let w: JsonPointer = "/spec/template/spec/containers/*/image".parse().unwrap();
        assert!(w.covers("/spec/template/spec/containers/3/image"));
        let esc: JsonPointer = "/metadata/annotations/a~1b".parse().unwrap();
        assert!(esc.covers("/metadata/annotations/a~1b"));
        assert_eq!(esc.segments().last().unwrap(), "a/b");
    }

    #[test]
    fn malformed_pointers_are_rejected() {
        for bad in ["spec", "/a~2", "/a~"] {
            let err = bad.parse::<JsonPointer>().unwrap_err();
            assert!(matches!(err, Error::InvalidPointer { .. }), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn escape_roundtrip(segs in proptest::collection::vec("[a-z~/.]{0,6}", 0..5)) {
            let text = pointer(&segs);
            let parsed: JsonPointer = text.parse().unwrap();
            prop_assert_eq!(parsed.segments(), segs.as_slice());
            prop_assert!(parsed.covers(&text));
        }
    }
}
