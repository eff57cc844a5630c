//! Replays sigstore-conformance's offline `bundle-verify` suite (70 cases × file and
//! `sha256:` digest = 140 checks) through LEO, asserting the error KIND of every `_fail`
//! case, and the same through the conformance entrypoint protocol.
#![cfg(feature = "sigstore")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use leo_artifact::Sha256Digest;
use leo_sign::sigstore::conformance::{self, PolicyArgs};
use leo_sign::sigstore::{
    ArtifactInput, SigstoreError, SigstoreErrorKind as K, SigstoreVerification, TimeSourceKind,
    VerifiedSigner,
};

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";
const CASES: usize = 70;

/// Why each `_fail` case must fail (see the vectors' MANIFEST.md "why" column).
const EXPECTED_KINDS: &[(&str, K)] = &[
    ("bundle-empty-certificate-chain_fail", K::Chain),
    ("bundle-from-wrong-instance_fail", K::UnknownLog),
    ("bundle-invalid-base64-signature_fail", K::MalformedBundle),
    ("bundle-malformed-json_fail", K::MalformedBundle),
    ("bundle-negative-log-index_fail", K::MalformedBundle),
    ("bundle-unknown-version_fail", K::MalformedBundle),
    ("bundle-with-root-cert_fail", K::Chain),
    ("checkpoint-bad-keyhint_fail", K::Checkpoint),
    ("checkpoint-wrong-roothash_fail", K::Checkpoint),
    ("dsse-invalid-sig_fail", K::Signature),
    ("dsse-mismatch-envelope_fail", K::LogEntryMismatch),
    ("dsse-mismatch-sig_fail", K::LogEntryMismatch),
    ("inclusion-proof-corrupted-hash_fail", K::InclusionProof),
    ("incorrect-public-key_fail", K::Set),
    ("integrated-time-in-future_fail", K::CertificateValidity),
    ("intoto-expired-certificate_fail", K::CertificateValidity),
    ("intoto-log-entry-mismatch_fail", K::LogEntryMismatch),
    ("intoto-missing-inclusion-proof_fail", K::InclusionProof),
    (
        "intoto-set-outside-signing-cert-validity_fail",
        K::CertificateValidity,
    ),
    (
        "intoto-tsa-timestamp-outside-cert-validity_fail",
        K::CertificateValidity,
    ),
    ("invalid-checkpoint-signature_fail", K::Checkpoint),
    ("invalid-ct-key_fail", K::Sct),
    ("invalid-inclusion-proof_fail", K::Checkpoint),
    ("managed-key-no-key_fail", K::VerificationMaterial),
    ("managed-key-wrong-key_fail", K::PublicKey),
    ("message-digest-mismatch_fail", K::Digest),
    (
        "rekor2-checkpoint-missing-log-signature_fail",
        K::Checkpoint,
    ),
    ("rekor2-checkpoint-missing-origin_fail", K::Checkpoint),
    ("rekor2-checkpoint-missing-root-hash_fail", K::Checkpoint),
    ("rekor2-checkpoint-missing-size_fail", K::Checkpoint),
    (
        "rekor2-checkpoint-no-matching-signature_fail",
        K::Checkpoint,
    ),
    ("rekor2-dsse-invalid-sig_fail", K::Signature),
    ("rekor2-dsse-mismatch-envelope_fail", K::LogEntryMismatch),
    ("rekor2-dsse-mismatch-sig_fail", K::LogEntryMismatch),
    ("rekor2-no-inclusion-proof_fail", K::InclusionProof),
    ("rekor2-no-timestamp_fail", K::NoVerifiedTime),
    (
        "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
        K::Timestamp,
    ),
    (
        "rekor2-timestamp-outside-tsa-cert-validity_fail",
        K::Timestamp,
    ),
    ("rekor2-timestamp-payload-mismatch_fail", K::Timestamp),
    (
        "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
        K::Timestamp,
    ),
    (
        "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
        K::Timestamp,
    ),
    // Its signedTimestamp base64 contains line breaks; LEO decodes strictly (MANIFEST:
    // "Strict base64 decoders reject it at parse time").
    (
        "rekor2-timestamp-with-incorrect-time_fail",
        K::MalformedBundle,
    ),
    ("set-invalid-signature_fail", K::Set),
    ("signature-mismatch_fail", K::Signature),
    ("trust-root-tlog-missing-validity-start_fail", K::TrustRoot),
    ("wrong-hashedrekord-artifact_fail", K::LogEntryMismatch),
    ("wrong-hashedrekord-cert-and-sig_fail", K::LogEntryMismatch),
    ("wrong-hashedrekord-entry_fail", K::LogEntryMismatch),
    ("wrong-material_fail", K::Digest),
];

struct Case {
    name: String,
    dir: PathBuf,
    artifact: PathBuf,
    policy: PolicyArgs,
    trusted_root: PathBuf,
    own_root: bool,
}

fn conformance_dir() -> Option<PathBuf> {
    leo_testkit::vector("sigstore/conformance")
}

fn load_case(base: &Path, dir: &Path) -> Case {
    let read = |f: &str| {
        std::fs::read_to_string(dir.join(f))
            .ok()
            .map(|s| s.trim().to_owned())
    };
    let policy = if dir.join("key.pub").exists() {
        PolicyArgs::Key(dir.join("key.pub"))
    } else {
        PolicyArgs::Identity {
            identity: read("identity").unwrap_or_else(|| DEFAULT_IDENTITY.to_owned()),
            issuer: read("issuer").unwrap_or_else(|| DEFAULT_ISSUER.to_owned()),
        }
    };
    let own_root = dir.join("trusted_root.json").exists();
    Case {
        name: dir.file_name().unwrap().to_string_lossy().into_owned(),
        artifact: if dir.join("artifact").exists() {
            dir.join("artifact")
        } else {
            base.join("bundle-verify/a.txt")
        },
        trusted_root: if own_root {
            dir.join("trusted_root.json")
        } else {
            base.join("production_trusted_root.json")
        },
        own_root,
        policy,
        dir: dir.to_path_buf(),
    }
}

fn cases(base: &Path) -> Vec<Case> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(base.join("bundle-verify"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.iter().map(|d| load_case(base, d)).collect()
}

fn inputs(case: &Case) -> [ArtifactInput; 2] {
    let (digest, _) = leo_artifact::hash_file(&case.artifact).unwrap();
    [
        ArtifactInput::File(case.artifact.clone()),
        ArtifactInput::Digest(digest),
    ]
}

fn verify(case: &Case, input: &ArtifactInput) -> Result<SigstoreVerification, SigstoreError> {
    conformance::verify_bundle(
        false,
        &case.dir.join("bundle.sigstore.json"),
        &case.policy,
        Some(&case.trusted_root),
        input,
    )
}

fn expected_kind(name: &str) -> Option<K> {
    EXPECTED_KINDS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| *k)
}

#[test]
fn bundle_verify_suite_140_of_140_with_error_kinds() {
    let Some(base) = conformance_dir() else {
        return;
    };
    let cases = cases(&base);
    assert_eq!(cases.len(), CASES, "the suite has 70 offline cases");
    let mut passed = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let must_fail = case.name.ends_with("_fail");
        let want = expected_kind(&case.name);
        assert_eq!(
            must_fail,
            want.is_some(),
            "{}: kind table out of date",
            case.name
        );
        for input in inputs(case) {
            match (verify(case, &input), want) {
                (Ok(_), None) => passed += 1,
                (Err(e), Some(kind)) if e.kind() == kind => passed += 1,
                (outcome, _) => failures.push(format!(
                    "{} [{input:?}]: want {want:?}, got {:?}",
                    case.name,
                    outcome
                        .map(|_| "verified")
                        .map_err(|e| (e.kind(), e.to_string()))
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(passed, 2 * CASES);
}

/// The same 140 checks through the conformance entrypoint (argument parsing, exit status).
/// Cases without their own root use the production root embedded in `sigstore-trust-root`,
/// as a client run by the suite does.
#[test]
fn entrypoint_protocol_gives_the_verdict_as_exit_status() {
    let Some(base) = conformance_dir() else {
        return;
    };
    let mut wrong = Vec::new();
    for case in cases(&base) {
        let want = if case.name.ends_with("_fail") { 1 } else { 0 };
        for input in [
            case.artifact.to_string_lossy().into_owned(),
            Sha256Digest::of(&std::fs::read(&case.artifact).unwrap()).to_prefixed(),
        ] {
            let mut args = vec![
                "verify-bundle".to_owned(),
                "--bundle".to_owned(),
                case.dir
                    .join("bundle.sigstore.json")
                    .to_string_lossy()
                    .into_owned(),
            ];
            match &case.policy {
                PolicyArgs::Key(k) => {
                    args.extend(["--key".to_owned(), k.to_string_lossy().into_owned()])
                }
                PolicyArgs::Identity { identity, issuer } => args.extend([
                    "--certificate-identity".to_owned(),
                    identity.clone(),
                    "--certificate-oidc-issuer".to_owned(),
                    issuer.clone(),
                ]),
            }
            if case.own_root {
                args.extend([
                    "--trusted-root".to_owned(),
                    case.trusted_root.to_string_lossy().into_owned(),
                ]);
            }
            args.push(input);
            let code = conformance::main_with_args(&args);
            if code != want {
                wrong.push(format!("{}: exit {code}, want {want}", case.name));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn derived_newmediatype_copies_fail_for_the_same_reason() {
    let Some(base) = conformance_dir() else {
        return;
    };
    for (name, kind) in [
        (
            "inclusion-proof-corrupted-hash_fail-newmediatype",
            K::InclusionProof,
        ),
        ("message-digest-mismatch_fail-newmediatype", K::Digest),
    ] {
        let case = load_case(&base, &base.join("derived").join(name));
        for input in inputs(&case) {
            let err = verify(&case, &input).unwrap_err();
            assert_eq!(err.kind(), kind, "{name}: {err}");
        }
    }
}

fn happy(base: &Path, name: &str) -> SigstoreVerification {
    let case = load_case(base, &base.join("bundle-verify").join(name));
    let [file, digest] = inputs(&case);
    let from_file = verify(&case, &file).unwrap();
    assert_eq!(
        from_file,
        verify(&case, &digest).unwrap(),
        "{name}: file and digest agree"
    );
    from_file
}

#[test]
fn result_says_what_was_verified() {
    let Some(base) = conformance_dir() else {
        return;
    };

    let v1 = happy(&base, "happy-path-v0.1");
    assert!(v1.tlog_verified);
    assert_eq!(v1.log_entries.len(), 1);
    assert_eq!(v1.log_entries[0].kind, "hashedrekord/0.0.1");
    assert!(v1.log_entries[0].has_set && v1.log_entries[0].has_inclusion_proof);
    assert_eq!(v1.time_sources.len(), 1);
    assert_eq!(v1.time_sources[0].kind, TimeSourceKind::RekorIntegratedTime);
    assert_eq!(
        Some(v1.time_sources[0].time.unix_timestamp()),
        v1.log_entries[0].integrated_time
    );
    match &v1.signer {
        VerifiedSigner::Certificate {
            identity,
            issuer,
            chain_verified,
            sct_verified,
            ..
        } => {
            assert_eq!(identity, DEFAULT_IDENTITY);
            assert_eq!(issuer.as_deref(), Some(DEFAULT_ISSUER));
            assert!(*chain_verified && *sct_verified);
        }
        other => panic!("expected a certificate signer, got {other:?}"),
    }
    assert_eq!(v1.public_key_algorithm, "ECDSA-P256");

    let v2 = happy(&base, "rekor2-happy-path");
    assert_eq!(v2.log_entries[0].kind, "hashedrekord/0.0.2");
    assert_eq!(v2.log_entries[0].integrated_time, None);
    assert!(
        v2.time_sources
            .iter()
            .all(|t| t.kind == TimeSourceKind::Rfc3161Timestamp)
    );
    assert!(!v2.time_sources.is_empty());

    let dsse = happy(&base, "happy-path-intoto-in-dsse-v3");
    assert_eq!(dsse.content, leo_sign::sigstore::ContentKind::DsseEnvelope);

    let keyed = happy(&base, "managed-key-happy-path");
    let key_pem =
        std::fs::read_to_string(base.join("bundle-verify/managed-key-happy-path/key.pub")).unwrap();
    let key = leo_sign::sigstore::KeyPolicy::from_pem(&key_pem).unwrap();
    let expected = Sha256Digest::of(key.key().as_bytes()).to_string();
    assert_eq!(
        keyed.signer,
        VerifiedSigner::Key {
            key_sha256: expected
        }
    );
    assert!(keyed.tlog_verified);
    assert!(
        keyed
            .time_sources
            .iter()
            .any(|t| t.kind == TimeSourceKind::Rfc3161Timestamp),
        "{:?}",
        keyed.time_sources
    );

    let report = keyed.to_report().unwrap();
    assert_eq!(report.backend, leo_sign::Backend::Sigstore);
    assert_eq!(
        report.details.get("tlog_verified").map(String::as_str),
        Some("true")
    );
}

#[test]
fn identity_regex_is_anchored_and_issuer_exact() {
    use leo_sign::sigstore::{SigstoreBundle, SigstorePolicy, SigstoreVerifier, TrustRoot};
    let Some(base) = conformance_dir() else {
        return;
    };
    let bundle =
        SigstoreBundle::from_file(&base.join("bundle-verify/happy-path-v0.3/bundle.sigstore.json"))
            .unwrap();
    let artifact = std::fs::read(base.join("bundle-verify/a.txt")).unwrap();
    let check = |policy: SigstorePolicy| {
        let root = TrustRoot::from_file(&base.join("production_trusted_root.json")).unwrap();
        SigstoreVerifier::new(root, policy).verify_reader(&bundle, artifact.as_slice())
    };
    let re = |p: &str, iss: &str| SigstorePolicy::identity_regex(p, iss).unwrap();
    check(re(
        r"https://github\.com/sigstore-conformance/.+@refs/heads/main",
        DEFAULT_ISSUER,
    ))
    .unwrap();
    for (pattern, issuer) in [
        // A prefix is not a match: the regex must cover the whole SAN.
        (r"https://github\.com/sigstore-conformance", DEFAULT_ISSUER),
        (r".+@refs/heads/release", DEFAULT_ISSUER),
        (r".+", "https://accounts.google.com"),
    ] {
        let err = check(re(pattern, issuer)).unwrap_err();
        assert_eq!(err.kind(), K::Identity, "{pattern}: {err}");
    }
    let err = check(SigstorePolicy::identity(
        DEFAULT_IDENTITY,
        "https://token.actions.githubusercontent.com/",
    ))
    .unwrap_err();
    assert!(matches!(err, SigstoreError::IssuerMismatch { .. }), "{err}");
    let err = SigstorePolicy::identity_regex("(", DEFAULT_ISSUER).unwrap_err();
    assert_eq!(err.kind(), K::Input);
}

#[test]
fn verifiers_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<leo_sign::sigstore::SigstoreVerifier>();
    assert_send_sync::<leo_sign::sigstore::KeyedSigner>();
}
