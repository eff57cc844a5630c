//! Base64 as DSSE wants it: standard padded on write; standard *or* URL-safe, padded or not, on
//! read; non-canonical encodings (non-zero trailing bits, whitespace, mixed alphabets) rejected.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const READ_CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(false);

const STANDARD_READ: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, READ_CONFIG);
const URL_SAFE_READ: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, READ_CONFIG);

/// Standard base64 with padding (what DSSE signers conventionally write).
pub fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard or URL-safe base64 (padding optional); `None` if neither alphabet decodes
/// it canonically.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    STANDARD_READ
        .decode(text)
        .or_else(|_| URL_SAFE_READ.decode(text))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_both_alphabets_and_rejects_non_canonical() {
        assert_eq!(decode("+/+/").unwrap(), decode("-_-_").unwrap());
        assert_eq!(decode("aGk=").unwrap(), b"hi");
        assert_eq!(decode("aGk").unwrap(), b"hi");
        // Trailing bits set: decodes to "hi" in lax decoders, but is not canonical.
        assert!(decode("aGl=").is_none());
        assert!(decode("aG k=").is_none());
        assert!(decode("+_==").is_none());
        assert!(decode("not base64!").is_none());
    }

    proptest! {
        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(decode(&encode(&bytes)).unwrap(), bytes.clone());
            let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
            prop_assert_eq!(decode(&url).unwrap(), bytes);
        }
    }
}
