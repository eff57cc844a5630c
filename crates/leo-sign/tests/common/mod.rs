//! Test helpers: keys and signatures at chosen times, made with sequoia directly so that
//! tests can create what LEO's signer refuses to (signatures by expired or revoked keys,
//! SHA-1 signatures, signatures from the future).
#![allow(dead_code)]

use leo_sign::{KeySpec, PgpAlgorithm, PgpKey};
use openpgp::cert::prelude::*;
use openpgp::packet::signature::SignatureBuilder;
use openpgp::parse::Parse as _;
use openpgp::types::{HashAlgorithm, SignatureType};
use sequoia_openpgp as openpgp;
use time::OffsetDateTime;

pub fn ed25519_key(created_at: OffsetDateTime) -> PgpKey {
    PgpKey::generate(
        &KeySpec::new(PgpAlgorithm::Ed25519, "LEO Test", "test@leo.example").created_at(created_at),
    )
    .unwrap()
}

/// A detached armored signature over `data` by the key's signing subkey at `at`, with `hash`,
/// made without any validity check.
pub fn forge(key: &PgpKey, data: &[u8], at: OffsetDateTime, hash: HashAlgorithm) -> Vec<u8> {
    let cert = Cert::from_bytes(&key.to_armored_secret().unwrap()).unwrap();
    let subkey = cert.keys().subkeys().secret().next().unwrap();
    let mut keypair = subkey.key().clone().into_keypair().unwrap();
    let sig = SignatureBuilder::new(SignatureType::Binary)
        .set_signature_creation_time(std::time::SystemTime::from(at))
        .unwrap()
        .set_hash_algo(hash)
        .set_issuer_fingerprint(subkey.key().fingerprint())
        .unwrap()
        .set_issuer(subkey.key().keyid())
        .unwrap()
        .sign_message(&mut keypair, data)
        .unwrap();
    armor(sig)
}

/// The ASCII-armored form of a signature packet.
pub fn armor(sig: openpgp::packet::Signature) -> Vec<u8> {
    let mut w = openpgp::armor::Writer::new(Vec::new(), openpgp::armor::Kind::Signature).unwrap();
    openpgp::serialize::Serialize::serialize(&openpgp::Packet::from(sig), &mut w).unwrap();
    w.finalize().unwrap()
}

/// Whole seconds (OpenPGP time resolution).
pub fn secs(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap()
}
