//! Sigstore bundle JSON through LEO's API: parsing must never panic, a parsed bundle must
//! re-serialise to JSON that parses to the same facts, and verifying it (identity and key
//! policies, file and digest inputs) must end in a typed result, never a panic.
#![no_main]

use std::sync::OnceLock;

use leo_artifact::Sha256Digest;
use leo_sign::sigstore::{
    CosignKeyPair, KeyPolicy, SigstoreBundle, SigstorePolicy, SigstoreVerifier, TrustRoot,
};
use libfuzzer_sys::fuzz_target;

const ARTIFACT: &[u8] = b"hello, world\n";

fn verifiers() -> &'static [SigstoreVerifier; 2] {
    static VERIFIERS: OnceLock<[SigstoreVerifier; 2]> = OnceLock::new();
    VERIFIERS.get_or_init(|| {
        let root = || TrustRoot::embedded_production().expect("embedded root");
        let key = CosignKeyPair::generate().expect("key");
        let key = KeyPolicy::from_pem(&key.public_key_pem())
            .expect("pem")
            .allow_offline();
        [
            SigstoreVerifier::new(
                root(),
                SigstorePolicy::identity("me@example.com", "https://accounts.google.com"),
            ),
            SigstoreVerifier::new(root(), SigstorePolicy::key(key)),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(bundle) = SigstoreBundle::from_slice(data) else {
        return;
    };
    let json = bundle.to_json().expect("a parsed bundle serialises");
    let again = SigstoreBundle::from_json(&json).expect("re-serialised bundle parses");
    assert_eq!(again.log_entries(), bundle.log_entries());
    assert_eq!(again.material(), bundle.material());
    for verifier in verifiers() {
        let by_file = verifier.verify_reader(&bundle, ARTIFACT);
        let by_digest = verifier.verify_digest(&bundle, &Sha256Digest::of(ARTIFACT));
        if let (Err(a), Err(b)) = (&by_file, &by_digest) {
            let _ = (a.kind(), b.kind());
        }
    }
});
