//! Property tests for the Sigstore parsers: bundle JSON, artifact inputs, cosign key files.
#![cfg(feature = "sigstore")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use leo_artifact::Sha256Digest;
use leo_sign::sigstore::{
    ArtifactInput, CosignKeyPair, Password, SigstoreBundle, SigstoreErrorKind as K,
};
use proptest::prelude::*;

fn happy_bundle() -> Option<String> {
    let path = leo_testkit::vector(
        "sigstore/conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json",
    )?;
    Some(std::fs::read_to_string(path).unwrap())
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics_the_bundle_parser(text in ".{0,512}") {
        if let Err(e) = SigstoreBundle::from_json(&text) {
            prop_assert!(matches!(e.kind(), K::MalformedBundle | K::Checkpoint), "{e}");
        }
    }

    #[test]
    fn mutated_real_bundles_parse_or_fail_by_kind(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let Some(json) = happy_bundle() else { return Ok(()) };
        let mut bytes = json.into_bytes();
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        match SigstoreBundle::from_slice(&bytes) {
            Ok(bundle) => {
                // Re-serialising a parsed bundle gives JSON that parses to the same facts.
                let again = SigstoreBundle::from_json(&bundle.to_json().unwrap()).unwrap();
                prop_assert_eq!(again.log_entries(), bundle.log_entries());
                prop_assert_eq!(again.material(), bundle.material());
            }
            Err(e) => prop_assert!(matches!(e.kind(), K::MalformedBundle | K::Checkpoint), "{e}"),
        }
    }

    #[test]
    fn digest_inputs_round_trip(bytes in any::<[u8; 32]>()) {
        let digest = Sha256Digest::from_bytes(bytes);
        let parsed: ArtifactInput = digest.to_prefixed().parse().unwrap();
        prop_assert_eq!(parsed, ArtifactInput::Digest(digest));
    }

    #[test]
    fn malformed_digests_are_input_errors(hex in "[0-9a-fA-Fxyz]{0,70}") {
        let text = format!("sha256:{hex}");
        match text.parse::<ArtifactInput>() {
            Ok(ArtifactInput::Digest(d)) => prop_assert_eq!(d.to_string(), hex.to_lowercase()),
            Ok(other) => prop_assert!(false, "{other:?}"),
            Err(e) => prop_assert_eq!(e.kind(), K::Input),
        }
    }

    #[test]
    fn paths_are_files(path in "[a-z0-9_./-]{1,40}") {
        prop_assert_eq!(path.parse::<ArtifactInput>().unwrap(), ArtifactInput::File(path.clone().into()));
    }
}

proptest! {
    // scrypt at cosign's cost (N = 2^16) takes tens of milliseconds: a few cases suffice.
    #![proptest_config(ProptestConfig::with_cases(4))]
    #[test]
    fn encrypted_keys_round_trip(password in ".{0,40}") {
        let key = CosignKeyPair::generate().unwrap();
        let pem = key.to_encrypted_pem(&Password::new(password.clone())).unwrap();
        let back = CosignKeyPair::from_encrypted_pem(&pem, &Password::new(password.clone())).unwrap();
        prop_assert_eq!(back.public_key(), key.public_key());
        let wrong = CosignKeyPair::from_encrypted_pem(&pem, &Password::new(format!("{password}!")));
        prop_assert_eq!(wrong.unwrap_err().kind(), K::PrivateKey);
    }
}
