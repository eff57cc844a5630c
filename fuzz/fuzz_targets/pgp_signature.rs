//! Armored/binary OpenPGP signature parsing and verification, and raw-key signature
//! documents, must never panic; whatever verifies must have been made by the pinned key.
#![no_main]

use std::sync::OnceLock;

use leo_sign::{
    Backend, DetachedSignature, KeySpec, PgpAlgorithm, PgpKey, PgpVerifier, RawKeyAlgorithm,
    RawKeyPair, RawKeyVerifier, SignerIdentity, Verifier, VerifyOptions,
};
use libfuzzer_sys::fuzz_target;

struct Keys {
    pgp: PgpKey,
    pgp_verifier: PgpVerifier,
    raw_verifier: RawKeyVerifier,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let pgp = PgpKey::generate(&KeySpec::new(
            PgpAlgorithm::Ed25519,
            "Fuzz",
            "fuzz@leo.example",
        ))
        .expect("key generation");
        let raw = RawKeyPair::generate(RawKeyAlgorithm::Ed25519).expect("raw key");
        Keys {
            pgp_verifier: PgpVerifier::new(vec![pgp.public()]),
            raw_verifier: RawKeyVerifier::new(vec![raw.public_key().clone()]),
            pgp,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let keys = keys();
    // The first byte splits the input into a signature and the "signed" data.
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let cut = (split as usize).min(rest.len());
    let (sig, message) = rest.split_at(rest.len() - cut);

    let _ = leo_sign::pgp::parse_signature(sig);
    let options = VerifyOptions::now();
    let pgp = DetachedSignature {
        backend: Backend::OpenPgp,
        bytes: sig.to_vec(),
    };
    if let Ok(report) = keys.pgp_verifier.verify(&mut &message[..], &pgp, &options) {
        match report.signer {
            SignerIdentity::Key { primary, .. } => assert_eq!(primary, keys.pgp.fingerprint()),
            other => panic!("unexpected identity {other:?}"),
        }
    }
    let raw = DetachedSignature {
        backend: Backend::RawKey,
        bytes: sig.to_vec(),
    };
    let _ = keys.raw_verifier.verify(&mut &message[..], &raw, &options);
});
