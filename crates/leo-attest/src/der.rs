//! The few DER and PEM operations key handling needs: split SPKI / PKCS#8 into algorithm and
//! key bytes, and wrap keys back. Only definite lengths; anything else is rejected.

use crate::error::{Error, Result};

/// `AlgorithmIdentifier` of Ed25519 (RFC 8410).
pub const ALG_ED25519: &[u8] = &[0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70];
/// `AlgorithmIdentifier` of an EC key on P-256 (RFC 5480).
pub const ALG_EC_P256: &[u8] = &[
    0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x03, 0x01, 0x07,
];
/// `AlgorithmIdentifier` of rsaEncryption with NULL parameters (RFC 8017).
pub const ALG_RSA: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

const TAG_SEQUENCE: u8 = 0x30;
const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;

fn invalid(reason: &str) -> Error {
    Error::InvalidKey {
        reason: reason.to_owned(),
    }
}

/// One TLV: (tag, whole TLV bytes, contents, rest of the input).
type Tlv<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

/// Reads one TLV.
fn read_tlv(input: &[u8]) -> Result<Tlv<'_>> {
    let (&tag, after_tag) = input
        .split_first()
        .ok_or_else(|| invalid("truncated DER"))?;
    let (&first, after_len) = after_tag
        .split_first()
        .ok_or_else(|| invalid("truncated DER"))?;
    let (len, body) = if first < 0x80 {
        (usize::from(first), after_len)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err(invalid("unsupported DER length"));
        }
        let (len_bytes, body) = after_len
            .split_at_checked(n)
            .ok_or_else(|| invalid("truncated DER"))?;
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, body)
    };
    let (contents, rest) = body
        .split_at_checked(len)
        .ok_or_else(|| invalid("truncated DER"))?;
    let header_len = input.len() - body.len();
    let whole = input
        .get(..header_len + len)
        .ok_or_else(|| invalid("truncated DER"))?;
    Ok((tag, whole, contents, rest))
}

fn expect<'a>(tag: u8, input: &'a [u8], what: &str) -> Result<(&'a [u8], &'a [u8], &'a [u8])> {
    let (t, whole, contents, rest) = read_tlv(input)?;
    if t != tag {
        return Err(invalid(&format!("expected {what}")));
    }
    Ok((whole, contents, rest))
}

/// Splits a `SubjectPublicKeyInfo` into its `AlgorithmIdentifier` TLV and key bytes.
pub fn split_spki(der: &[u8]) -> Result<(&[u8], &[u8])> {
    let (_, seq, rest) = expect(TAG_SEQUENCE, der, "SubjectPublicKeyInfo")?;
    if !rest.is_empty() {
        return Err(invalid("trailing data after SubjectPublicKeyInfo"));
    }
    let (alg, _, rest) = expect(TAG_SEQUENCE, seq, "AlgorithmIdentifier")?;
    let (_, bits, rest) = expect(TAG_BIT_STRING, rest, "BIT STRING")?;
    if !rest.is_empty() {
        return Err(invalid("trailing data in SubjectPublicKeyInfo"));
    }
    match bits.split_first() {
        Some((0, key)) => Ok((alg, key)),
        _ => Err(invalid("BIT STRING with unused bits")),
    }
}

/// The `AlgorithmIdentifier` TLV of a PKCS#8 `PrivateKeyInfo` (v1 or v2).
pub fn pkcs8_algorithm(der: &[u8]) -> Result<&[u8]> {
    let (_, seq, _) = expect(TAG_SEQUENCE, der, "PrivateKeyInfo")?;
    let (_, _, rest) = expect(TAG_INTEGER, seq, "version")?;
    let (alg, _, _) = expect(TAG_SEQUENCE, rest, "AlgorithmIdentifier")?;
    Ok(alg)
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
}

fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    push_len(&mut out, contents.len());
    out.extend_from_slice(contents);
    out
}

/// Builds a `SubjectPublicKeyInfo` from an algorithm TLV and key bytes.
pub fn build_spki(alg: &[u8], key: &[u8]) -> Vec<u8> {
    let mut bits = vec![0u8];
    bits.extend_from_slice(key);
    let mut seq = alg.to_vec();
    seq.extend(tlv(TAG_BIT_STRING, &bits));
    tlv(TAG_SEQUENCE, &seq)
}

/// Extracts the DER of the first PEM block with `label` (e.g. `PUBLIC KEY`).
pub fn pem_decode(text: &str, label: &str) -> Result<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text
        .find(&begin)
        .ok_or_else(|| invalid(&format!("no PEM block {label:?}")))?;
    let body_and_rest = text.get(start + begin.len()..).unwrap_or_default();
    let stop = body_and_rest
        .find(&end)
        .ok_or_else(|| invalid(&format!("unterminated PEM block {label:?}")))?;
    let body: String = body_and_rest
        .get(..stop)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| invalid("PEM body is not base64"))
}

/// PEM as OpenSSL and pyca/cryptography write it: 64-character lines, trailing newline.
/// securesystemslib hashes exactly this text into key ids, so the layout matters.
pub fn pem_encode(der: &[u8], label: &str) -> String {
    let b64 = crate::b64::encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_truncated_and_trailing_data() {
        let spki = build_spki(ALG_ED25519, &[7u8; 32]);
        assert_eq!(split_spki(&spki).unwrap(), (ALG_ED25519, &[7u8; 32][..]));
        for n in 0..spki.len() {
            assert!(matches!(
                split_spki(spki.get(..n).unwrap()),
                Err(Error::InvalidKey { .. })
            ));
        }
        let mut extra = spki.clone();
        extra.push(0);
        assert!(matches!(split_spki(&extra), Err(Error::InvalidKey { .. })));
    }

    proptest! {
        #[test]
        fn spki_round_trips(key in proptest::collection::vec(any::<u8>(), 0..600)) {
            let spki = build_spki(ALG_RSA, &key);
            prop_assert_eq!(split_spki(&spki).unwrap(), (ALG_RSA, key.as_slice()));
            let pem = pem_encode(&spki, "PUBLIC KEY");
            prop_assert_eq!(pem_decode(&pem, "PUBLIC KEY").unwrap(), spki);
        }

        #[test]
        fn never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = split_spki(&bytes);
            let _ = pkcs8_algorithm(&bytes);
        }
    }
}
