//! Image references and digest pinning (`require-image-digests`).
//!
//! An image is pinned when it ends in `@sha256:<64 lowercase hex>`; a tag may stand beside
//! the digest (`nginx:1.27@sha256:...`). Anything else after an `@` is a malformed digest and
//! fails: another algorithm, the wrong length, upper-case or non-hex characters.

use leo_artifact::Sha256Digest;
use serde::Serialize;

/// How an image reference is pinned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "pin", rename_all = "snake_case")]
pub enum Pin {
    /// `@sha256:<64 hex>`.
    Pinned {
        /// The digest.
        #[serde(serialize_with = "prefixed")]
        digest: Sha256Digest,
    },
    /// No `@` digest at all (a tag or nothing).
    Missing,
    /// An `@` digest that is not a well-formed SHA-256.
    Malformed {
        /// Which rule it breaks.
        reason: &'static str,
    },
}

fn prefixed<S: serde::Serializer>(d: &Sha256Digest, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.to_prefixed())
}

/// The pin of an image reference.
///
/// ```
/// use leo_policy::{Pin, pin_of};
/// let hex = "859ab6768a6f26a79bc42b231664111317d095a4f04e4b6fe79ce37b3d199097";
/// assert!(matches!(pin_of(&format!("nginx:latest@sha256:{hex}")), Pin::Pinned { .. }));
/// assert_eq!(pin_of("nginx:latest"), Pin::Missing);
/// assert!(matches!(pin_of("nginx@sha256:abc"), Pin::Malformed { .. }));
/// ```
pub fn pin_of(image: &str) -> Pin {
    let Some((name, digest)) = image.rsplit_once('@') else {
        return Pin::Missing;
    };
    if name.is_empty() {
        return Pin::Malformed {
            reason: "no image name before `@`",
        };
    }
    let Some(hex) = digest.strip_prefix("sha256:") else {
        return Pin::Malformed {
            reason: "digest algorithm is not sha256",
        };
    };
    if hex.len() != 64 {
        return Pin::Malformed {
            reason: "sha256 digest is not 64 hex characters",
        };
    }
    if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Pin::Malformed {
            reason: "sha256 digest is not lowercase hex",
        };
    }
    match hex.parse() {
        Ok(digest) => Pin::Pinned { digest },
        Err(_) => Pin::Malformed {
            reason: "sha256 digest is not lowercase hex",
        },
    }
}

/// The repository part of a reference (everything before the tag and digest), used to match
/// `imageReferences` when a reference carries a digest: `nginx:1.2@sha256:..` → `nginx:1.2`.
pub fn without_digest(image: &str) -> &str {
    image.rsplit_once('@').map_or(image, |(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEX: &str = "353c20f74d9b6aee359f30e8e4f69c3d7eaea2f610681c4a95849a2fd7c497f9";

    #[test]
    fn malformed_digests_each_say_why() {
        let reason = |s: &str| match pin_of(s) {
            Pin::Malformed { reason } => reason,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(
            reason(&format!("@sha256:{HEX}")),
            "no image name before `@`"
        );
        assert_eq!(
            reason(&format!("n@sha512:{HEX}")),
            "digest algorithm is not sha256"
        );
        assert_eq!(
            reason("n@sha256:abc"),
            "sha256 digest is not 64 hex characters"
        );
        assert_eq!(
            reason(&format!("n@sha256:{}", HEX.to_uppercase())),
            "sha256 digest is not lowercase hex"
        );
        assert_eq!(pin_of("registry:5000/n:tag"), Pin::Missing);
        assert!(matches!(
            pin_of(&format!("registry:5000/n:t@sha256:{HEX}")),
            Pin::Pinned { .. }
        ));
        assert_eq!(without_digest(&format!("n:t@sha256:{HEX}")), "n:t");
    }

    proptest! {
        #[test]
        fn never_panics_and_pins_only_valid_hex(s in ".{0,90}") {
            if let Pin::Pinned { digest } = pin_of(&s) {
                prop_assert!(s.ends_with(&digest.to_prefixed()));
            }
        }
    }
}
