//! Property tests for the parsers LEO exposes: arbitrary input never panics and encoded
//! values decode to themselves.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::OnceLock;

use leo_sign::{
    Backend, DetachedSignature, KeySpec, PgpAlgorithm, PgpCert, PgpKey, PgpVerifier,
    RawKeyAlgorithm, RawKeyVerifier, RawPublicKey, Signer, Verifier, VerifyOptions,
};
use proptest::prelude::*;

fn key() -> &'static PgpKey {
    static KEY: OnceLock<PgpKey> = OnceLock::new();
    KEY.get_or_init(|| {
        PgpKey::generate(&KeySpec::new(
            PgpAlgorithm::Ed25519,
            "Prop",
            "prop@leo.example",
        ))
        .unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_never_panic_the_signature_and_cert_parsers(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = leo_sign::pgp::parse_signature(&bytes);
        let _ = PgpCert::from_bytes(&bytes);
        let _ = PgpKey::from_armored_secret(&bytes);
        let sig = DetachedSignature { backend: Backend::OpenPgp, bytes: bytes.clone() };
        prop_assert!(PgpVerifier::new(vec![key().public()]).verify(&mut &b"x"[..], &sig, &VerifyOptions::now()).is_err());
        let raw = DetachedSignature { backend: Backend::RawKey, bytes };
        prop_assert!(RawKeyVerifier::new(vec![]).verify(&mut &b"x"[..], &raw, &VerifyOptions::now()).is_err());
    }

    #[test]
    fn signatures_verify_over_their_data_and_only_it(data in proptest::collection::vec(any::<u8>(), 0..4096), flip in any::<usize>()) {
        let signed = key().sign(&mut &data[..]).unwrap();
        let parsed = leo_sign::pgp::parse_signature(&signed.signature.bytes).unwrap();
        prop_assert_eq!(parsed.signature_creation_time().map(time::OffsetDateTime::from), signed.report.signed_at);
        let verifier = PgpVerifier::new(vec![key().public()]);
        prop_assert_eq!(verifier.verify(&mut &data[..], &signed.signature, &VerifyOptions::now()).unwrap(), signed.report);
        if !data.is_empty() {
            let mut tampered = data.clone();
            tampered[flip % data.len()] ^= 1;
            let err = verifier.verify(&mut &tampered[..], &signed.signature, &VerifyOptions::now()).unwrap_err();
            prop_assert!(matches!(err, leo_sign::Error::SignatureMismatch { .. }), "{}", err);
        }
    }

    #[test]
    fn raw_public_keys_round_trip_through_json(bytes in proptest::collection::vec(any::<u8>(), 0..100), ed in any::<bool>()) {
        let algorithm = if ed { RawKeyAlgorithm::Ed25519 } else { RawKeyAlgorithm::EcdsaP256Sha256 };
        let key = RawPublicKey { algorithm, bytes };
        let json = serde_json::to_string(&key).unwrap();
        prop_assert_eq!(serde_json::from_str::<RawPublicKey>(&json).unwrap(), key);
    }
}

#[test]
fn certificates_round_trip_through_armor() {
    let cert = key().public();
    let again = PgpCert::from_bytes(cert.to_armored().unwrap().as_bytes()).unwrap();
    assert_eq!(again, cert);
    assert_eq!(again.user_ids(), vec!["Prop <prop@leo.example>".to_owned()]);
}
