//! The DSSE envelope parser must never panic; whatever it accepts must re-serialise to an
//! envelope that parses back to the same value, and verification must not panic either.
#![no_main]

use leo_attest::{Envelope, KeyAlgorithm, KeySet, PublicKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = Envelope::from_json(data) {
        let again = Envelope::from_json(&env.to_json()).expect("own output parses");
        assert_eq!(again, env);
        // RFC 8032 test 1 public key: verification of arbitrary signatures must just fail.
        let key = PublicKey::from_raw(KeyAlgorithm::Ed25519, hex_literal()).expect("valid key");
        let _ = KeySet::from_iter([key]).verify(&env, 1);
    }
});

fn hex_literal() -> Vec<u8> {
    (0..32)
        .map(|i| {
            let s = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
            u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).unwrap_or(0)
        })
        .collect()
}
