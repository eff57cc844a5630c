//! The verified DSSE payload of a Sigstore bundle (`cosign attest --new-bundle-format`),
//! over sigstore-conformance's `rekor2-dsse-*` cases: only a bundle that verified yields it.
#![cfg(feature = "sigstore")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use leo_artifact::Sha256Digest;
use leo_sign::sigstore::{
    ContentKind, SigstoreBundle, SigstoreErrorKind as K, SigstorePolicy, SigstoreVerification,
    SigstoreVerifier, TrustRoot,
};

/// The signer of the conformance cases (MANIFEST.md: the suite's default identity).
const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const IN_TOTO: &str = "application/vnd.in-toto+json";

fn conformance() -> Option<PathBuf> {
    leo_testkit::vector("sigstore/conformance")
}

/// The case's artifact (`bundle-verify/a.txt`, as for every case without its own).
fn artifact_digest(base: &Path) -> Sha256Digest {
    Sha256Digest::of(&std::fs::read(base.join("bundle-verify/a.txt")).unwrap())
}

/// Verifies case `name` with its own trusted root for `digest`.
fn verify(
    base: &Path,
    name: &str,
    digest: &Sha256Digest,
) -> Result<SigstoreVerification, leo_sign::sigstore::SigstoreError> {
    let dir = base.join("bundle-verify").join(name);
    let root = TrustRoot::from_file(&dir.join("trusted_root.json")).unwrap();
    let bundle = SigstoreBundle::from_file(&dir.join("bundle.sigstore.json")).unwrap();
    SigstoreVerifier::new(root, SigstorePolicy::identity(IDENTITY, ISSUER))
        .verify_digest(&bundle, digest)
}

#[test]
fn a_verified_dsse_bundle_yields_its_in_toto_statement() {
    let Some(base) = conformance() else {
        return;
    };
    let digest = artifact_digest(&base);
    let v = verify(&base, "rekor2-dsse-happy-path", &digest).unwrap();
    assert_eq!(v.content, ContentKind::DsseEnvelope);
    let dsse = v
        .dsse_payload
        .as_ref()
        .expect("a DSSE bundle yields its payload");
    assert_eq!(dsse.payload_type, IN_TOTO);

    let statement: serde_json::Value = serde_json::from_slice(&dsse.payload).unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    let subjects: Vec<&str> = statement["subject"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["digest"]["sha256"].as_str())
        .collect();
    assert!(
        subjects.contains(&digest.to_string().as_str()),
        "{subjects:?} lacks {digest}"
    );

    // JSON output carries the payload as base64, as the envelope does.
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["dsse_payload"]["payload_type"], IN_TOTO);
    let b64 = json["dsse_payload"]["payload"].as_str().unwrap();
    use base64::Engine as _;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
        dsse.payload
    );
}

#[test]
fn a_dsse_bundle_for_a_digest_outside_its_subjects_is_a_digest_mismatch() {
    let Some(base) = conformance() else {
        return;
    };
    let err = verify(&base, "rekor2-dsse-happy-path", &Sha256Digest::of(b"other")).unwrap_err();
    assert_eq!(err.kind(), K::Digest, "{err}");
}

#[test]
fn failing_dsse_cases_fail_for_their_reason_and_yield_nothing() {
    let Some(base) = conformance() else {
        return;
    };
    let digest = artifact_digest(&base);
    for (name, kind) in [
        ("rekor2-dsse-invalid-sig_fail", K::Signature),
        ("rekor2-dsse-mismatch-envelope_fail", K::LogEntryMismatch),
        ("rekor2-dsse-mismatch-sig_fail", K::LogEntryMismatch),
    ] {
        // The bundle is DSSE content, but without verification there is no payload to read.
        let err = verify(&base, name, &digest).unwrap_err();
        assert_eq!(err.kind(), kind, "{name}: {err}");
    }
}

#[test]
fn a_message_signature_bundle_has_no_dsse_payload() {
    let Some(base) = conformance() else {
        return;
    };
    let v = verify(&base, "rekor2-happy-path", &artifact_digest(&base)).unwrap();
    assert_eq!(v.content, ContentKind::MessageSignature);
    assert_eq!(v.dsse_payload, None);
    let json = serde_json::to_value(&v).unwrap();
    assert!(json.get("dsse_payload").is_none(), "{json}");
}

/// Through the backend-neutral `Verifier` (what `leo policy verify` and the enforcer use), a
/// DSSE attestation bundle is not a detached signature of the data, even for data its
/// statement names.
#[test]
fn a_dsse_bundle_is_not_a_detached_signature() {
    let Some(base) = conformance() else {
        return;
    };
    let dir = base.join("bundle-verify").join("rekor2-dsse-happy-path");
    let root = TrustRoot::from_file(&dir.join("trusted_root.json")).unwrap();
    let verifier = SigstoreVerifier::new(root, SigstorePolicy::identity(IDENTITY, ISSUER));
    let signature = leo_sign::DetachedSignature {
        backend: leo_sign::Backend::Sigstore,
        bytes: std::fs::read(dir.join("bundle.sigstore.json")).unwrap(),
    };
    let data = std::fs::read(base.join("bundle-verify/a.txt")).unwrap();
    let err = leo_sign::Verifier::verify(
        &verifier,
        &mut data.as_slice(),
        &signature,
        &leo_sign::VerifyOptions::now(),
    )
    .unwrap_err();
    assert!(
        matches!(
            &err,
            leo_sign::Error::SigstoreRejected { check, .. } if *check == K::UnsupportedBundle.as_str()
        ),
        "{err:?}"
    );
}
