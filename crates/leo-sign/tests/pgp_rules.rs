//! LEO's OpenPGP time, revocation and algorithm rules, with keys and signatures made at
//! chosen times (no clock faking).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{ed25519_key, forge, secs};
use leo_sign::{
    Backend, DetachedSignature, Error, PgpVerifier, RevocationReason, Signer, SignerIdentity,
    Verifier, VerifyOptions,
};
use sequoia_openpgp::types::HashAlgorithm;
use time::{Duration, OffsetDateTime};

const DATA: &[u8] = b"artifact.tar.gz bytes";

fn now() -> OffsetDateTime {
    secs(OffsetDateTime::now_utc())
}

fn verify(
    key: &leo_sign::PgpKey,
    sig: &[u8],
    data: &[u8],
    opts: VerifyOptions,
) -> Result<leo_sign::Verified, Error> {
    let verifier = PgpVerifier::new(vec![key.public()]);
    let sig = DetachedSignature {
        backend: Backend::OpenPgp,
        bytes: sig.to_vec(),
    };
    verifier.verify(&mut &data[..], &sig, &opts)
}

#[test]
fn signature_round_trip_reports_key_time_and_algorithms() {
    let key = ed25519_key(now() - Duration::hours(1));
    let signed = key.sign(&mut &DATA[..]).unwrap();
    assert!(
        String::from_utf8(signed.signature.bytes.clone())
            .unwrap()
            .starts_with("-----BEGIN PGP SIGNATURE-----")
    );
    let report = verify(&key, &signed.signature.bytes, DATA, VerifyOptions::now()).unwrap();
    assert_eq!(report, signed.report);
    assert_eq!(report.backend, Backend::OpenPgp);
    assert_eq!(report.algorithms.public_key, "Ed25519");
    assert_eq!(report.algorithms.hash, "SHA-256");
    let SignerIdentity::Key {
        primary,
        signing_key,
    } = &report.signer
    else {
        panic!("not a key identity")
    };
    assert_eq!(primary, &key.fingerprint());
    assert_ne!(primary, signing_key, "LEO keys sign with a subkey");
}

#[test]
fn tampered_data_is_a_signature_mismatch() {
    let key = ed25519_key(now() - Duration::hours(1));
    let signed = key.sign(&mut &DATA[..]).unwrap();
    let err = verify(
        &key,
        &signed.signature.bytes,
        b"artifact.tar.gz bytez",
        VerifyOptions::now(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::SignatureMismatch { .. }), "{err}");
}

#[test]
fn wrong_key_is_unknown_signing_key() {
    let signer = ed25519_key(now() - Duration::hours(1));
    let other = ed25519_key(now() - Duration::hours(1));
    let signed = signer.sign(&mut &DATA[..]).unwrap();
    let err = verify(&other, &signed.signature.bytes, DATA, VerifyOptions::now()).unwrap_err();
    assert!(matches!(err, Error::UnknownSigningKey { .. }), "{err}");
}

#[test]
fn signed_before_expiry_still_verifies_after() {
    let created = now() - Duration::days(40);
    let key = ed25519_key(created);
    let signed = key
        .clone()
        .with_signing_time(created + Duration::days(5))
        .sign(&mut &DATA[..])
        .unwrap();
    // The key expired 10 days ago; the signature was made while it was valid.
    let report = verify(&key, &signed.signature.bytes, DATA, VerifyOptions::now()).unwrap();
    assert_eq!(report.signed_at, Some(created + Duration::days(5)));
}

#[test]
fn signature_after_expiry_is_key_expired() {
    let created = now() - Duration::days(40);
    let key = ed25519_key(created);
    // LEO refuses to sign with an expired key...
    let err = key
        .clone()
        .with_signing_time(created + Duration::days(31))
        .sign(&mut &DATA[..])
        .unwrap_err();
    assert!(matches!(err, Error::NoSigningKey { .. }), "{err}");
    // ...and rejects a signature made after expiry by another tool.
    let sig = forge(
        &key,
        DATA,
        created + Duration::days(31),
        HashAlgorithm::SHA512,
    );
    let err = verify(&key, &sig, DATA, VerifyOptions::now()).unwrap_err();
    match err {
        Error::KeyExpired { expired_at, .. } => {
            assert_eq!(expired_at, created + Duration::days(30))
        }
        other => panic!("expected KeyExpired, got {other}"),
    }
}

#[test]
fn signature_before_key_creation_is_key_not_yet_valid() {
    let created = now() - Duration::days(2);
    let key = ed25519_key(created);
    let sig = forge(
        &key,
        DATA,
        created - Duration::days(1),
        HashAlgorithm::SHA512,
    );
    let err = verify(&key, &sig, DATA, VerifyOptions::now()).unwrap_err();
    assert!(matches!(err, Error::KeyNotYetValid { .. }), "{err}");
}

#[test]
fn signature_from_the_future_is_rejected() {
    let key = ed25519_key(now() - Duration::days(1));
    let sig = forge(&key, DATA, now() + Duration::days(1), HashAlgorithm::SHA512);
    let err = verify(&key, &sig, DATA, VerifyOptions::now()).unwrap_err();
    assert!(matches!(err, Error::SignatureInFuture { .. }), "{err}");
}

#[test]
fn signature_after_the_bundle_timestamp_is_rejected() {
    let key = ed25519_key(now() - Duration::days(1));
    let signed = key.sign(&mut &DATA[..]).unwrap();
    let bundle_time = now() - Duration::hours(1);
    let err = verify(
        &key,
        &signed.signature.bytes,
        DATA,
        VerifyOptions::now().not_after(bundle_time),
    )
    .unwrap_err();
    assert!(matches!(err, Error::SignatureAfterBundle { .. }), "{err}");
    // A bundle stamped after the signature is fine.
    verify(
        &key,
        &signed.signature.bytes,
        DATA,
        VerifyOptions::now().not_after(now() + Duration::hours(1)),
    )
    .unwrap();
}

#[test]
fn sha1_and_md5_signatures_are_weak_hashes() {
    let key = ed25519_key(now() - Duration::days(1));
    for (hash, name) in [(HashAlgorithm::SHA1, "SHA-1"), (HashAlgorithm::MD5, "MD5")] {
        let sig = forge(&key, DATA, now() - Duration::hours(1), hash);
        let err = verify(&key, &sig, DATA, VerifyOptions::now()).unwrap_err();
        assert!(
            matches!(&err, Error::WeakHashAlgorithm { algorithm } if algorithm == name),
            "{err}"
        );
    }
    // SHA-256 from the same forger is fine: the rejection is about the hash.
    let sig = forge(
        &key,
        DATA,
        now() - Duration::hours(1),
        HashAlgorithm::SHA256,
    );
    assert_eq!(
        verify(&key, &sig, DATA, VerifyOptions::now())
            .unwrap()
            .algorithms
            .hash,
        "SHA-256"
    );
}

#[test]
fn hard_revocations_invalidate_earlier_signatures() {
    for reason in [RevocationReason::Compromised, RevocationReason::Unspecified] {
        let mut key = ed25519_key(now() - Duration::days(3));
        let signed = key
            .clone()
            .with_signing_time(now() - Duration::days(2))
            .sign(&mut &DATA[..])
            .unwrap();
        key.revoke(reason, now() - Duration::days(1)).unwrap();
        let err = verify(&key, &signed.signature.bytes, DATA, VerifyOptions::now()).unwrap_err();
        assert!(
            matches!(err, Error::KeyRevoked { reason: r, .. } if r == reason),
            "{reason}: {err}"
        );
    }
}

#[test]
fn soft_revocations_invalidate_only_later_signatures() {
    for reason in [RevocationReason::Superseded, RevocationReason::Retired] {
        let mut key = ed25519_key(now() - Duration::days(3));
        let before = key
            .clone()
            .with_signing_time(now() - Duration::days(2))
            .sign(&mut &DATA[..])
            .unwrap();
        let revoked_at = now() - Duration::days(1);
        key.revoke(reason, revoked_at).unwrap();
        verify(&key, &before.signature.bytes, DATA, VerifyOptions::now()).unwrap();

        let after = forge(
            &key,
            DATA,
            now() - Duration::hours(1),
            HashAlgorithm::SHA512,
        );
        let err = verify(&key, &after, DATA, VerifyOptions::now()).unwrap_err();
        assert!(
            matches!(err, Error::KeyRetired { reason: r, revoked_at: at, .. } if r == reason && at == revoked_at),
            "{reason}: {err}"
        );
        // And LEO itself refuses to sign with a revoked key.
        assert!(matches!(
            key.sign(&mut &DATA[..]),
            Err(Error::KeyRetired { .. })
        ));
    }
}

#[test]
fn malformed_and_foreign_signatures_are_rejected_by_kind() {
    let key = ed25519_key(now() - Duration::days(1));
    let err = verify(
        &key,
        b"-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n",
        DATA,
        VerifyOptions::now(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::MalformedSignature { .. }), "{err}");
    let cert = key.public().to_armored().unwrap();
    let err = verify(&key, cert.as_bytes(), DATA, VerifyOptions::now()).unwrap_err();
    assert!(matches!(err, Error::MalformedSignature { .. }), "{err}");
    let err = verify(
        &key,
        &vec![b'A'; leo_sign::pgp::MAX_SIGNATURE_BYTES + 1],
        DATA,
        VerifyOptions::now(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    let raw = DetachedSignature {
        backend: Backend::RawKey,
        bytes: vec![],
    };
    let err = PgpVerifier::new(vec![key.public()])
        .verify(&mut &DATA[..], &raw, &VerifyOptions::now())
        .unwrap_err();
    assert!(matches!(err, Error::BackendMismatch { .. }), "{err}");
}

#[test]
fn secrets_stay_out_of_debug_and_files_are_0600() {
    use std::os::unix::fs::PermissionsExt as _;
    let key = ed25519_key(now());
    let debug = format!("{key:?}");
    assert!(debug.contains(key.fingerprint().as_str()));
    assert!(!debug.contains("PRIVATE"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.asc");
    key.save_secret(&path).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let loaded = leo_sign::PgpKey::load(&path).unwrap();
    assert_eq!(loaded.fingerprint(), key.fingerprint());
    // A public certificate is not a secret key.
    let err = leo_sign::PgpKey::from_armored_secret(key.public().to_armored().unwrap().as_bytes())
        .unwrap_err();
    assert!(matches!(err, Error::MalformedCert { .. }), "{err}");
}

#[test]
fn large_input_streams_through_sign_and_verify() {
    let key = ed25519_key(now() - Duration::hours(1));
    let len = 8 * 1024 * 1024;
    let mut data = std::io::Read::take(std::io::repeat(7), len);
    let signed = key.sign(&mut data).unwrap();
    let verifier = PgpVerifier::new(vec![key.public()]);
    let mut again = std::io::Read::take(std::io::repeat(7), len);
    verifier
        .verify(&mut again, &signed.signature, &VerifyOptions::now())
        .unwrap();
}
