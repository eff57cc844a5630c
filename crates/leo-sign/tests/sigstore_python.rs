//! Replays sigstore-python's offline vectors (`sigstore/python/cases.json`): production and
//! staging bundles, real negative bundles from its test suite, RFC 3161 edge cases. Every
//! rejection is checked for its kind.
#![cfg(feature = "sigstore")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use leo_sign::sigstore::conformance::{self, PolicyArgs};
use leo_sign::sigstore::{ArtifactInput, SigstoreErrorKind as K};

/// Why each `reject` case (and each `policy_dependent` case, which LEO rejects) fails.
const EXPECTED_KINDS: &[(&str, K)] = &[
    // v0.1 bundle whose inclusion proof has no checkpoint: LEO, like sigstore-python 4.x,
    // requires the checkpoint whenever a proof is present.
    ("prod-cpython-3.12.5-digest-v0.1", K::Checkpoint),
    ("neg-dsse-non-subject-file", K::Digest),
    // The second RFC 3161 timestamp does not cover the signature: every timestamp must verify.
    ("staging-rekor-v1-plus-tsa", K::Timestamp),
    ("neg-wrong-identity", K::Identity),
    ("neg-wrong-issuer", K::Identity),
    ("neg-prod-bundle-staging-root", K::UnknownLog),
    ("neg-staging-bundle-prod-root", K::UnknownLog),
    ("neg-tampered-artifact", K::Digest),
    ("neg-other-artifact", K::Digest),
    ("bad-cve-2022-36056", K::LogEntryMismatch),
    ("bad-invalid-mediatype", K::MalformedBundle),
    ("bad-empty-cert-chain", K::Chain),
    ("bad-v0.2-no-checkpoint", K::Checkpoint),
    ("bad-no-tlog-entry", K::Set),
    ("bad-no-signed-time", K::NoVerifiedTime),
    ("tsa-duplicate-timestamps", K::Timestamp),
    ("tsa-too-many-timestamps", K::Timestamp),
    ("tsa-late-timestamp", K::Timestamp),
];

#[derive(serde::Deserialize)]
struct Cases {
    cases: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    bundle: String,
    input: String,
    trusted_root: String,
    identity: String,
    issuer: String,
    expect: String,
}

#[test]
fn sigstore_python_cases_with_error_kinds() {
    let Some(base) = leo_testkit::vector("sigstore/python") else {
        return;
    };
    let cases: Cases =
        serde_json::from_str(&std::fs::read_to_string(base.join("cases.json")).unwrap()).unwrap();
    assert!(cases.cases.len() >= 20, "cases.json shrank");
    let mut wrong = Vec::new();
    let mut verified = 0;
    for case in &cases.cases {
        let input: ArtifactInput = if case.input.starts_with("sha256:") {
            case.input.parse().unwrap()
        } else {
            ArtifactInput::File(base.join(&case.input))
        };
        let outcome = conformance::verify_bundle(
            false,
            &base.join(&case.bundle),
            &PolicyArgs::Identity {
                identity: case.identity.clone(),
                issuer: case.issuer.clone(),
            },
            Some(Path::new(&base.join(&case.trusted_root))),
            &input,
        );
        let want = EXPECTED_KINDS
            .iter()
            .find(|(n, _)| *n == case.name)
            .map(|(_, k)| *k);
        match (case.expect.as_str(), &outcome, want) {
            ("verify", Ok(_), None) => verified += 1,
            ("reject" | "policy_dependent", Err(e), Some(kind)) if e.kind() == kind => {}
            _ => wrong.push(format!(
                "{} (expect {}): want {want:?}, got {:?}",
                case.name,
                case.expect,
                outcome
                    .as_ref()
                    .map(|_| "verified")
                    .map_err(|e| (e.kind(), e.to_string()))
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} mismatches:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(verified, 6, "the six `verify` cases verify");
}
