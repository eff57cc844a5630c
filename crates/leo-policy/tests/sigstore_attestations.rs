//! require-slsa-provenance over Sigstore attestation bundles (`cosign attest
//! --new-bundle-format`): sigstore-conformance's `rekor2-dsse-happy-path` (a keyless DSSE
//! bundle of an SLSA v1 statement) stored under its subject's digest, verified offline with
//! the case's own trusted root, then judged like a DSSE envelope.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::only_failure;

use std::path::{Path, PathBuf};

use leo_artifact::Sha256Digest;
use leo_attest::{PROVENANCE_V0_2, PROVENANCE_V1};
use leo_policy::{
    AttestationStore, Engine, EngineOptions, Failure, Report, Status, StoreKind, load_policy_file,
    parse_resources,
};

/// The conformance signer (MANIFEST.md: the suite's default identity and issuer).
const IDENTITY_RE: &str = r"^https://github\.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/\.github/workflows/extremely-dangerous-oidc-beacon\.yml@refs/heads/main$";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The `builder.id` of the case's statement.
const BUILDER_RE: &str =
    r"^https://github\.com/sigstore-conformance/rekor2-dsse-hashedrekord-regen$";

/// The Rekor v2 DSSE case's own (staging) trusted root, relative to `bundle-verify/`.
const DSSE_ROOT: &str = "rekor2-dsse-happy-path/trusted_root.json";
/// The `builder.id` of `happy-path-intoto-in-dsse-v3`'s provenance.
const V3_BUILDER: &str =
    "https://github.com/loosebazooka/aa-test/.github/workflows/provenance.yaml@refs/heads/main";
const V3_BUILDER_RE: &str = r"^https://github\.com/loosebazooka/aa-test/\.github/workflows/provenance\.yaml@refs/heads/main$";

struct Vectors {
    /// `bundle-verify/` of sigstore-conformance.
    cases: PathBuf,
    /// The subject of the DSSE statements: SHA-256 of `bundle-verify/a.txt`.
    subject: Sha256Digest,
}

fn vectors() -> Option<Vectors> {
    let base = leo_testkit::vector("sigstore/conformance")?;
    let cases = base.join("bundle-verify");
    let subject = Sha256Digest::of(&std::fs::read(cases.join("a.txt")).unwrap());
    Some(Vectors { cases, subject })
}

impl Vectors {
    fn bundle(&self, case: &str) -> Vec<u8> {
        std::fs::read(self.cases.join(case).join("bundle.sigstore.json")).unwrap()
    }

    /// A keyless attestor for `identity_re` trusting `root` (relative to `bundle-verify/`).
    fn keyless(&self, identity_re: &str, root: &str) -> String {
        let root = self.cases.join(root);
        format!(
            "{{keyless: {{subjectRegExp: '{identity_re}', issuer: '{ISSUER}', trustedRoot: '{}'}}}}",
            root.display()
        )
    }
}

fn image(d: &Sha256Digest) -> String {
    format!("registry.example/app:1.0@{}", d.to_prefixed())
}

/// Evaluates one require-slsa-provenance rule against a pod running `image`.
fn evaluate(dir: &Path, attestor: &str, types: &str, builder_re: &str, image: &str) -> Report {
    let policy = format!(
        "apiVersion: policy.leo.dev/v1alpha1\nkind: ClusterPolicy\nmetadata: {{name: p}}\nspec:\n  validationFailureAction: Enforce\n  rules:\n  - name: r\n    match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}\n    requireSlsaProvenance:\n      predicateTypes: [{types}]\n      builderId: '{builder_re}'\n      attestors: [{attestor}]\n"
    );
    let path = dir.join("policy.yaml");
    std::fs::write(&path, policy).unwrap();
    let pod = parse_resources(
        &format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: app, namespace: shop}}\nspec:\n  containers: [{{name: app, image: \"{image}\"}}]\n"),
        "pod.yaml",
    )
    .unwrap();
    let options = EngineOptions {
        store: Some(AttestationStore::open(dir.join("store"))),
        ..EngineOptions::default()
    };
    Engine::new(load_policy_file(&path).unwrap(), options).evaluate(&pod)
}

/// The reasons of an `attestation_untrusted` failure.
fn untrusted_reasons(report: &Report) -> Vec<String> {
    match only_failure(report) {
        Failure::AttestationUntrusted { reasons, .. } => reasons.clone(),
        other => panic!("expected attestation_untrusted, got {other:?}"),
    }
}

/// A store holding one file `name` in `attestations/` of `digest`.
fn store_with(dir: &Path, digest: &Sha256Digest, name: &str, bytes: &[u8]) {
    AttestationStore::open(dir.join("store"))
        .put(digest, StoreKind::Attestations, name, bytes)
        .unwrap();
}

#[test]
fn a_keyless_rekor_v2_dsse_bundle_is_verified_and_its_payload_judged() {
    let Some(v) = vectors() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bundle = v.bundle("rekor2-dsse-happy-path");
    store_with(dir.path(), &v.subject, "att.sigstore.json", &bundle);
    let img = image(&v.subject);
    let attestor = v.keyless(IDENTITY_RE, DSSE_ROOT);

    // The case's statement is SLSA v1 in name, but its buildDefinition lacks the required
    // `externalParameters`: the bundle verified, the subject matched and the predicate type
    // was accepted (rank 4 of `judge`), and only then did the predicate fail to parse.
    let v1 = evaluate(dir.path(), &attestor, PROVENANCE_V1, BUILDER_RE, &img);
    match only_failure(&v1) {
        Failure::ProvenanceMalformed { reason, .. } => {
            assert!(reason.contains("externalParameters"), "{reason}");
        }
        other => panic!("expected provenance_malformed, got {other:?}"),
    }

    // The payload was read: its predicate type is what the rule judges.
    let v02_only = evaluate(dir.path(), &attestor, PROVENANCE_V0_2, BUILDER_RE, &img);
    match only_failure(&v02_only) {
        Failure::PredicateTypeNotAccepted { found, .. } => assert_eq!(found, PROVENANCE_V1),
        other => panic!("expected predicate_type_not_accepted, got {other:?}"),
    }
}

/// `happy-path-intoto-in-dsse-v3`: a production keyless DSSE bundle (Rekor v1 `dsse/0.0.1`)
/// of a complete SLSA v1 provenance, verified with the vector's production root snapshot.
#[test]
fn a_keyless_dsse_bundle_of_slsa_v1_provenance_passes_with_evidence() {
    let Some(v) = vectors() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let case = "happy-path-intoto-in-dsse-v3";
    // Its statement's subject is `a.txt` too.
    let subject = v.subject;
    store_with(dir.path(), &subject, "att.sigstore.json", &v.bundle(case));
    let img = image(&subject);
    let attestor = v.keyless(IDENTITY_RE, "../production_trusted_root.json");

    let ok = evaluate(dir.path(), &attestor, PROVENANCE_V1, V3_BUILDER_RE, &img);
    let result = &ok.results[0];
    assert_eq!(result.status, Status::Pass, "{ok:#?}");
    let evidence = &result.evidence[0];
    assert_eq!(evidence.backend, "sigstore");
    assert!(evidence.file.ends_with("att.sigstore.json"), "{evidence:?}");
    assert!(
        evidence.signer.starts_with(
            "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
        ) && evidence.signer.ends_with(&format!("({ISSUER})")),
        "{evidence:?}"
    );
    assert_eq!(evidence.predicate_type.as_deref(), Some(PROVENANCE_V1));
    assert_eq!(evidence.builder_id.as_deref(), Some(V3_BUILDER));

    let other_builder = evaluate(
        dir.path(),
        &attestor,
        PROVENANCE_V1,
        r"^https://builder\.example/.*$",
        &img,
    );
    match only_failure(&other_builder) {
        Failure::BuilderNotAllowed { builder_id, .. } => assert_eq!(builder_id, V3_BUILDER),
        other => panic!("expected builder_not_allowed, got {other:?}"),
    }

    let other_identity = evaluate(
        dir.path(),
        &v.keyless(
            r"^https://github\.com/someone-else/.*$",
            "../production_trusted_root.json",
        ),
        PROVENANCE_V1,
        V3_BUILDER_RE,
        &img,
    );
    let reasons = untrusted_reasons(&other_identity);
    assert!(reasons[0].contains("certificate identity"), "{reasons:?}");
}

/// Stores `case`'s bundle as `attestations/att.sigstore.json` of `digest` in `dir`, evaluates
/// a SLSA v1 rule with `attestor` and returns the `attestation_untrusted` reasons.
fn rejected(
    dir: &Path,
    v: &Vectors,
    case: &str,
    digest: &Sha256Digest,
    attestor: &str,
) -> Vec<String> {
    store_with(dir, digest, "att.sigstore.json", &v.bundle(case));
    let report = evaluate(dir, attestor, PROVENANCE_V1, BUILDER_RE, &image(digest));
    let reasons = untrusted_reasons(&report);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(reasons[0].contains("att.sigstore.json"), "{reasons:?}");
    reasons
}

#[test]
fn a_dsse_bundle_signed_by_another_identity_is_untrusted() {
    let Some(v) = vectors() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let other = v.keyless(r"^https://github\.com/someone-else/.*$", DSSE_ROOT);
    let reasons = rejected(dir.path(), &v, "rekor2-dsse-happy-path", &v.subject, &other);
    assert!(reasons[0].contains("certificate identity"), "{reasons:?}");
}

#[test]
fn a_dsse_bundle_about_another_digest_is_untrusted_naming_the_digest() {
    let Some(v) = vectors() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = Sha256Digest::of(b"another image");
    let attestor = v.keyless(IDENTITY_RE, DSSE_ROOT);
    let reasons = rejected(
        dir.path(),
        &v,
        "rekor2-dsse-happy-path",
        &elsewhere,
        &attestor,
    );
    assert!(
        reasons[0].contains("subjects do not include")
            && reasons[0].contains(&elsewhere.to_string()),
        "{reasons:?}"
    );
}

#[test]
fn a_dsse_bundle_that_fails_verification_is_untrusted_with_its_reason() {
    let Some(v) = vectors() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let attestor = v.keyless(IDENTITY_RE, DSSE_ROOT);
    let reasons = rejected(
        dir.path(),
        &v,
        "rekor2-dsse-invalid-sig_fail",
        &v.subject,
        &attestor,
    );
    assert!(
        reasons[0].contains("signature verification failed"),
        "{reasons:?}"
    );
}

#[test]
fn a_message_signature_bundle_is_not_an_attestation() {
    let Some(v) = vectors() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let attestor = v.keyless(IDENTITY_RE, DSSE_ROOT);
    let reasons = rejected(dir.path(), &v, "rekor2-happy-path", &v.subject, &attestor);
    assert!(
        reasons[0].contains("message signature, not a DSSE attestation"),
        "{reasons:?}"
    );
}

#[test]
fn a_cosign_key_attestor_does_not_accept_a_keyless_dsse_bundle() {
    let Some(v) = vectors() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The same attestor mapping as for signature bundles: a key attestor is tried, and the
    // bundle's certificate is not the key it expects.
    let (key, _) = leo_attest::SigningKey::generate_ecdsa_p256().unwrap();
    std::fs::write(dir.path().join("k.pub"), key.public_key().to_pem()).unwrap();
    let attestor = "{keys: {publicKeys: k.pub}}";
    let reasons = rejected(
        dir.path(),
        &v,
        "rekor2-dsse-happy-path",
        &v.subject,
        attestor,
    );
    assert!(
        reasons[0].contains("bundle carries a certificate but the policy expects a public key"),
        "{reasons:?}"
    );
}

/// An attestation bundle stored as a signature is not an image signature (as cosign and
/// Kyverno): it signs a statement about the image, not the image.
#[test]
fn a_dsse_bundle_is_not_an_image_signature() {
    let Some(v) = vectors() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let subject = v.subject;
    AttestationStore::open(dir.path().join("store"))
        .put(
            &subject,
            StoreKind::Signatures,
            "sig.sigstore.json",
            &v.bundle("happy-path-intoto-in-dsse-v3"),
        )
        .unwrap();
    let attestor = v.keyless(IDENTITY_RE, "../production_trusted_root.json");
    let policy = format!(
        "apiVersion: policy.leo.dev/v1alpha1\nkind: ClusterPolicy\nmetadata: {{name: p}}\nspec:\n  validationFailureAction: Enforce\n  rules:\n  - name: r\n    match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}\n    requireSignedImages:\n      attestors: [{attestor}]\n"
    );
    let path = dir.path().join("policy.yaml");
    std::fs::write(&path, policy).unwrap();
    let pod = parse_resources(
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: app, namespace: shop}}\nspec:\n  containers: [{{name: app, image: \"{}\"}}]\n",
            image(&subject)
        ),
        "pod.yaml",
    )
    .unwrap();
    let options = EngineOptions {
        store: Some(AttestationStore::open(dir.path().join("store"))),
        ..EngineOptions::default()
    };
    let report = Engine::new(load_policy_file(&path).unwrap(), options).evaluate(&pod);
    match only_failure(&report) {
        Failure::SignatureUntrusted { reasons, .. } => assert!(
            reasons.iter().any(|r| r.contains("not an image signature")),
            "{reasons:?}"
        ),
        other => panic!("expected signature_untrusted, got {other:?}"),
    }
}
