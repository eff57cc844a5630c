//! 30-day rotation with validity windows, and the persisted public form.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::secs;
use leo_sign::{
    Error, KeyRing, PgpAlgorithm, PublicKeyRecord, RotationPolicy, Signer, Verifier, VerifyOptions,
};
use time::{Duration, OffsetDateTime};

fn policy() -> RotationPolicy {
    RotationPolicy::new(
        PgpAlgorithm::Ed25519,
        "LEO Rotation",
        "rotation@leo.example",
    )
}

#[test]
fn rotation_creates_the_next_key_inside_the_overlap_and_old_keys_keep_verifying() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = secs(OffsetDateTime::now_utc()) - Duration::days(60);
    let mut ring = KeyRing::open(dir.path()).unwrap();
    assert!(matches!(ring.signer(t0), Err(Error::NoCurrentKey { .. })));

    let first = ring
        .rotate(&policy(), t0, false)
        .unwrap()
        .expect("empty ring rotates");
    assert_eq!(first.valid_from, t0);
    assert_eq!(first.valid_until, t0 + Duration::days(30));
    // Mid-life: nothing to do.
    assert!(
        ring.rotate(&policy(), t0 + Duration::days(10), false)
            .unwrap()
            .is_none()
    );

    // Sign an old bundle with the first key.
    let old_sig = ring
        .signer(t0 + Duration::days(5))
        .unwrap()
        .sign(&mut &b"old bundle"[..])
        .unwrap();

    // Seven days before expiry the next key is made; it signs from then on.
    let t1 = t0 + Duration::days(24);
    let second = ring
        .rotate(&policy(), t1, false)
        .unwrap()
        .expect("inside the overlap");
    assert_ne!(second.fingerprint, first.fingerprint);
    assert_eq!(
        ring.current(t1 + Duration::days(1)).unwrap().fingerprint,
        second.fingerprint
    );
    assert!(
        ring.rotate(&policy(), t1 + Duration::days(1), false)
            .unwrap()
            .is_none()
    );

    // Reopen from disk: both public keys persisted, secrets 0600.
    let ring = KeyRing::open(dir.path()).unwrap();
    assert_eq!(ring.records().len(), 2);
    for entry in std::fs::read_dir(dir.path().join("secret")).unwrap() {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = entry.unwrap().metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // Long after both keys expired, the old bundle still verifies against the ring.
    let report = ring
        .verifier()
        .unwrap()
        .verify(
            &mut &b"old bundle"[..],
            &old_sig.signature,
            &VerifyOptions::now(),
        )
        .unwrap();
    assert_eq!(report, old_sig.report);

    // Today no key is valid any more.
    let now = OffsetDateTime::now_utc();
    assert!(matches!(ring.signer(now), Err(Error::NoCurrentKey { .. })));
    assert!(ring.needs_rotation(&policy(), now));
}

#[test]
fn forced_rotation_and_public_records_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let now = secs(OffsetDateTime::now_utc());
    let mut ring = KeyRing::open(dir.path()).unwrap();
    ring.rotate(&policy(), now, false).unwrap().unwrap();
    let forced = ring
        .rotate(&policy(), now + Duration::seconds(1), true)
        .unwrap()
        .unwrap();
    assert_eq!(ring.current(now + Duration::seconds(2)).unwrap(), &forced);

    let json = serde_json::to_string(&forced).unwrap();
    let back: PublicKeyRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(back, forced);
    assert_eq!(back.cert().unwrap().fingerprint(), forced.fingerprint);
    assert_eq!(back.algorithm, "Ed25519");

    // A record whose certificate was swapped is rejected.
    let mut swapped = back.clone();
    swapped.armored_cert = ring.records()[0].armored_cert.clone();
    assert!(matches!(swapped.cert(), Err(Error::MalformedCert { .. })));
}

#[test]
fn corrupt_ring_file_is_a_json_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ring.json"), b"{not json").unwrap();
    assert!(matches!(KeyRing::open(dir.path()), Err(Error::Json { .. })));
}
