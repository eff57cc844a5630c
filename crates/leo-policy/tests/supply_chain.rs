//! require-signed-images and require-slsa-provenance with signatures and attestations LEO
//! produced (cosign-style keys, Sigstore keyed bundles, OpenPGP) and a real GCB SLSA v1
//! envelope; each failure has its own kind.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::only_failure;

use std::path::Path;

use leo_artifact::Sha256Digest;
use leo_attest::{
    DsseSigner, Envelope, PAYLOAD_TYPE, PROVENANCE_V0_2, PROVENANCE_V1, ResourceDescriptor,
    SigningKey, Statement,
};
use leo_policy::{
    AttestationStore, Engine, EngineOptions, Error, Failure, Report, Status, StoreKind,
    load_policy_file, parse_resources,
};
use leo_sign::sigstore::{CosignKeyPair, KeyedSigner};
use leo_sign::{KeySpec, PgpAlgorithm, PgpKey, Signer};

const BUILDER: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v1.9.0";
const BUILDER_RE: &str = r"https://github\.com/slsa-framework/slsa-github-generator/\.github/workflows/generator_container_slsa3\.yml@refs/tags/v[0-9]+\.[0-9]+\.[0-9]+";

fn digest(n: u8) -> Sha256Digest {
    Sha256Digest::of(&[n])
}

fn pod(image: &str, namespace: &str) -> Vec<leo_policy::Resource> {
    parse_resources(
        &format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: app, namespace: {namespace}}}\nspec:\n  containers: [{{name: app, image: \"{image}\"}}]\n"),
        "pod.yaml",
    )
    .unwrap()
}

fn image(d: &Sha256Digest) -> String {
    format!("registry.example/app:1.0@{}", d.to_prefixed())
}

/// Writes a policy with one rule body and evaluates it against one pod.
fn evaluate(dir: &Path, body: &str, image: &str) -> Report {
    let policy = format!(
        "apiVersion: policy.leo.dev/v1alpha1\nkind: ClusterPolicy\nmetadata: {{name: p}}\nspec:\n  validationFailureAction: Enforce\n  rules:\n  - name: r\n    match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}\n{body}"
    );
    let path = dir.join("policy.yaml");
    std::fs::write(&path, policy).unwrap();
    let options = EngineOptions {
        store: Some(AttestationStore::open(dir.join("store"))),
        ..EngineOptions::default()
    };
    Engine::new(load_policy_file(&path).unwrap(), options).evaluate(&pod(image, "shop"))
}

fn signed_rule(attestor: &str) -> String {
    format!("    requireSignedImages:\n      attestors: [{attestor}]\n")
}

fn slsa_rule(attestor: &str, types: &str) -> String {
    format!(
        "    requireSlsaProvenance:\n      predicateTypes: [{types}]\n      builderId: '{BUILDER_RE}'\n      attestors: [{attestor}]\n"
    )
}

fn ecdsa_key(dir: &Path, name: &str) -> SigningKey {
    let (key, _) = SigningKey::generate_ecdsa_p256().unwrap();
    std::fs::write(dir.join(name), key.public_key().to_pem()).unwrap();
    key
}

/// `sig.json` (the payload) and `sig.json.sig` (its base64 cosign signature by `key`).
fn put_cosign_signature(
    store: &AttestationStore,
    d: &Sha256Digest,
    payload: &[u8],
    key: &SigningKey,
) {
    store
        .put(d, StoreKind::Signatures, "sig.json", payload)
        .unwrap();
    let sig = base64_std(&key.sign_bytes(payload).unwrap());
    store
        .put(d, StoreKind::Signatures, "sig.json.sig", sig.as_bytes())
        .unwrap();
}

#[test]
fn cosign_key_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let store = AttestationStore::open(dir.path().join("store"));
    let trusted = ecdsa_key(dir.path(), "cosign.pub");
    let other = ecdsa_key(dir.path(), "other.pub");
    let d = digest(1);
    let payload = AttestationStore::simple_signing_payload("registry.example/app", &d);
    put_cosign_signature(&store, &d, &payload, &trusted);

    signed_by_only(
        dir.path(),
        &d,
        "{keys: {publicKeys: cosign.pub}}",
        "{keys: {publicKeys: other.pub}}",
        "cosign-key",
    );
    let _ = other;

    // No signature at all for another digest; an unpinned image cannot be looked up.
    let none = evaluate(
        dir.path(),
        &signed_rule("{keys: {publicKeys: cosign.pub}}"),
        &image(&digest(2)),
    );
    assert!(matches!(only_failure(&none), Failure::NoSignature { .. }));
    let tag = evaluate(
        dir.path(),
        &signed_rule("{keys: {publicKeys: cosign.pub}}"),
        "registry.example/app:1.0",
    );
    assert!(matches!(only_failure(&tag), Failure::DigestMissing { .. }));

    // A valid signature over a payload naming another digest, stored under this one.
    let d3 = digest(3);
    let elsewhere = AttestationStore::simple_signing_payload("registry.example/app", &digest(4));
    put_cosign_signature(&store, &d3, &elsewhere, &trusted);
    let moved = evaluate(
        dir.path(),
        &signed_rule("{keys: {publicKeys: cosign.pub}}"),
        &image(&d3),
    );
    assert!(matches!(
        only_failure(&moved),
        Failure::SignatureSubjectMismatch { .. }
    ));
}

/// The signature of `d` passes a signed-image rule with attestor `trusted` (evidence from
/// `backend`) and is `signature_untrusted` under attestor `other`. Returns the passing report.
fn signed_by_only(
    dir: &Path,
    d: &Sha256Digest,
    trusted: &str,
    other: &str,
    backend: &str,
) -> Report {
    let ok = evaluate(dir, &signed_rule(trusted), &image(d));
    assert_eq!(ok.results[0].status, Status::Pass, "{ok:#?}");
    assert_eq!(ok.results[0].evidence[0].backend, backend);
    let wrong = evaluate(dir, &signed_rule(other), &image(d));
    assert!(
        matches!(only_failure(&wrong), Failure::SignatureUntrusted { .. }),
        "{wrong:#?}"
    );
    ok
}

fn base64_std(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn sigstore_keyed_bundles() {
    let dir = tempfile::tempdir().unwrap();
    let store = AttestationStore::open(dir.path().join("store"));
    let key = CosignKeyPair::generate().unwrap();
    std::fs::write(dir.path().join("cosign.pub"), key.public_key_pem()).unwrap();
    let other = CosignKeyPair::generate().unwrap();
    std::fs::write(dir.path().join("other.pub"), other.public_key_pem()).unwrap();
    let d = digest(5);
    let bundle = KeyedSigner::new(key).sign_digest(&d).unwrap();
    store
        .put(
            &d,
            StoreKind::Signatures,
            "image.sigstore.json",
            bundle.to_json().unwrap().as_bytes(),
        )
        .unwrap();

    let ok = signed_by_only(
        dir.path(),
        &d,
        "{keys: {publicKeys: cosign.pub}}",
        "{keys: {publicKeys: other.pub}}",
        "sigstore",
    );
    assert!(ok.results[0].evidence[0].signer.starts_with("key sha256:"));
}

fn pgp_key(dir: &Path, name: &str) -> PgpKey {
    let key = PgpKey::generate(&KeySpec::new(
        PgpAlgorithm::Ed25519,
        "Signer",
        "s@example.org",
    ))
    .unwrap();
    std::fs::write(dir.join(name), key.public().to_armored().unwrap()).unwrap();
    key
}

#[test]
fn openpgp_signatures_and_attestations() {
    let dir = tempfile::tempdir().unwrap();
    let store = AttestationStore::open(dir.path().join("store"));
    let key = pgp_key(dir.path(), "signer.asc");
    pgp_key(dir.path(), "other.asc");
    let d = digest(6);
    let payload = AttestationStore::simple_signing_payload("registry.example/app", &d);
    store
        .put(&d, StoreKind::Signatures, "sig.json", &payload)
        .unwrap();
    let asc = key.sign(&mut payload.as_slice()).unwrap().signature.bytes;
    store
        .put(&d, StoreKind::Signatures, "sig.json.asc", &asc)
        .unwrap();
    signed_by_only(
        dir.path(),
        &d,
        "{pgp: {publicKeys: signer.asc}}",
        "{pgp: {publicKeys: other.asc}}",
        "openpgp",
    );

    // An OpenPGP-signed SLSA statement.
    let statement = provenance(&d, PROVENANCE_V0_2, BUILDER).to_json();
    store
        .put(&d, StoreKind::Attestations, "prov.json", &statement)
        .unwrap();
    let asc = key.sign(&mut statement.as_slice()).unwrap().signature.bytes;
    store
        .put(&d, StoreKind::Attestations, "prov.json.asc", &asc)
        .unwrap();
    let ok = evaluate(
        dir.path(),
        &slsa_rule("{pgp: {publicKeys: signer.asc}}", PROVENANCE_V0_2),
        &image(&d),
    );
    assert_eq!(ok.results[0].status, Status::Pass, "{ok:#?}");
    assert_eq!(
        ok.results[0].evidence[0].builder_id.as_deref(),
        Some(BUILDER)
    );
}

fn provenance(subject: &Sha256Digest, predicate_type: &str, builder: &str) -> Statement {
    let predicate = if predicate_type == PROVENANCE_V1 {
        serde_json::json!({
            "buildDefinition": {"buildType": "https://example/bt", "externalParameters": {}},
            "runDetails": {"builder": {"id": builder}},
        })
    } else {
        serde_json::json!({"builder": {"id": builder}, "buildType": "https://example/bt"})
    };
    Statement::new(
        vec![ResourceDescriptor::sha256("registry.example/app", subject)],
        predicate_type,
        predicate,
    )
}

fn put_dsse(
    store: &AttestationStore,
    d: &Sha256Digest,
    name: &str,
    statement: &Statement,
    key: &SigningKey,
) {
    let env = Envelope::sign(
        PAYLOAD_TYPE,
        &statement.to_json(),
        &[key as &dyn DsseSigner],
    )
    .unwrap();
    store
        .put(d, StoreKind::Attestations, name, &env.to_json())
        .unwrap();
}

#[test]
fn provenance_failures_are_distinct() {
    let dir = tempfile::tempdir().unwrap();
    let store = AttestationStore::open(dir.path().join("store"));
    let key = ecdsa_key(dir.path(), "cosign.pub");
    ecdsa_key(dir.path(), "other.pub");
    let trusted = "{keys: {publicKeys: cosign.pub}}";
    let v02_only = slsa_rule(trusted, PROVENANCE_V0_2);

    let good = digest(10);
    put_dsse(
        &store,
        &good,
        "prov.dsse.json",
        &provenance(&good, PROVENANCE_V0_2, BUILDER),
        &key,
    );
    let ok = evaluate(dir.path(), &v02_only, &image(&good));
    assert_eq!(ok.results[0].status, Status::Pass, "{ok:#?}");

    // Wrong key.
    let wrong_key = evaluate(
        dir.path(),
        &slsa_rule("{keys: {publicKeys: other.pub}}", PROVENANCE_V0_2),
        &image(&good),
    );
    assert!(matches!(
        only_failure(&wrong_key),
        Failure::AttestationUntrusted { .. }
    ));

    // Wrong builder.
    let d = digest(11);
    put_dsse(
        &store,
        &d,
        "prov.dsse.json",
        &provenance(&d, PROVENANCE_V0_2, "https://evil.example/builder"),
        &key,
    );
    let r = evaluate(dir.path(), &v02_only, &image(&d));
    assert!(
        matches!(only_failure(&r), Failure::BuilderNotAllowed { builder_id, .. } if builder_id == "https://evil.example/builder")
    );

    // Wrong subject: a valid attestation about another image, filed under this digest.
    let d = digest(12);
    put_dsse(
        &store,
        &d,
        "prov.dsse.json",
        &provenance(&digest(13), PROVENANCE_V0_2, BUILDER),
        &key,
    );
    let r = evaluate(dir.path(), &v02_only, &image(&d));
    assert!(matches!(
        only_failure(&r),
        Failure::AttestationSubjectMismatch { .. }
    ));

    // SLSA v1 against a v0.2-only rule; accepted when the rule allows v1.
    let d = digest(14);
    put_dsse(
        &store,
        &d,
        "prov.dsse.json",
        &provenance(&d, PROVENANCE_V1, BUILDER),
        &key,
    );
    let r = evaluate(dir.path(), &v02_only, &image(&d));
    assert!(
        matches!(only_failure(&r), Failure::PredicateTypeNotAccepted { found, .. } if found == PROVENANCE_V1)
    );
    let both = slsa_rule(trusted, &format!("{PROVENANCE_V0_2}, {PROVENANCE_V1}"));
    assert_eq!(
        evaluate(dir.path(), &both, &image(&d)).results[0].status,
        Status::Pass
    );

    // The messages differ too.
    let messages: std::collections::BTreeSet<String> = [&wrong_key, &r]
        .iter()
        .map(|rep| rep.results[0].message.clone())
        .collect();
    assert_eq!(messages.len(), 2);

    // No attestation; no store configured is an error, not a failure.
    let r = evaluate(dir.path(), &v02_only, &image(&digest(15)));
    assert!(matches!(only_failure(&r), Failure::NoAttestation { .. }));
    let path = dir.path().join("policy.yaml");
    let report = Engine::new(load_policy_file(&path).unwrap(), EngineOptions::default())
        .evaluate(&pod(&image(&good), "shop"));
    assert_eq!(report.results[0].status, Status::Error);
    assert!(matches!(
        report.results[0].failures[0],
        Failure::StoreNotConfigured
    ));
}

#[test]
fn exemptions_follow_the_sop_matrix() {
    let dir = tempfile::tempdir().unwrap();
    ecdsa_key(dir.path(), "cosign.pub");
    let path = dir.path().join("policy.yaml");
    evaluate(
        dir.path(),
        &slsa_rule("{keys: {publicKeys: cosign.pub}}", PROVENANCE_V0_2),
        "x",
    );
    let slsa = load_policy_file(&path).unwrap();
    evaluate(
        dir.path(),
        &signed_rule("{keys: {publicKeys: cosign.pub}}"),
        "x",
    );
    let signed = load_policy_file(&path).unwrap();
    let run = |policies: Vec<leo_policy::Policy>, ns: &str| {
        Engine::new(policies, EngineOptions::default())
            .evaluate(&pod("nginx", ns))
            .results[0]
            .status
    };
    // Development namespaces: exempt from SLSA (and digests), not from signatures.
    assert_eq!(run(slsa.clone(), "dev"), Status::Skip);
    assert_eq!(run(signed.clone(), "dev"), Status::Fail);
    // System namespaces: exempt from everything.
    assert_eq!(run(signed.clone(), "kube-system"), Status::Skip);
    assert_eq!(run(slsa, "shop"), Status::Fail);
    let none = EngineOptions {
        exemptions: leo_policy::Exemptions::none(),
        ..EngineOptions::default()
    };
    assert_eq!(
        Engine::new(signed, none)
            .evaluate(&pod("nginx", "kube-system"))
            .results[0]
            .status,
        Status::Fail
    );
}

#[test]
fn real_gcb_slsa_v1_envelope() {
    let Some(dir) = leo_testkit::vector("intoto/slsa-verifier") else {
        return;
    };
    let envelope_bytes = std::fs::read(dir.join("gcb-slsa-v1.0-provenance.dsse.json")).unwrap();
    let envelope = Envelope::from_json(&envelope_bytes).unwrap();
    let statement = Statement::from_json(&envelope.payload).unwrap();
    let subject = statement
        .subject
        .iter()
        .find_map(ResourceDescriptor::sha256_digest)
        .unwrap();
    let builder = leo_attest::Provenance::from_statement(&statement)
        .unwrap()
        .builder_id()
        .to_owned();

    let work = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.join("gcb-global-pae-google-hosted-worker_1.pem"),
        work.path().join("gcb.pem"),
    )
    .unwrap();
    ecdsa_key(work.path(), "other.pub");
    let store = AttestationStore::open(work.path().join("store"));
    store
        .put(
            &subject,
            StoreKind::Attestations,
            "gcb.dsse.json",
            &envelope_bytes,
        )
        .unwrap();
    let rule = |attestor: &str, types: &str| {
        format!(
            "    requireSlsaProvenance:\n      predicateTypes: [{types}]\n      builderId: '{}'\n      attestors: [{attestor}]\n",
            regex_escape(&builder)
        )
    };
    let img = image(&subject);
    let ok = evaluate(
        work.path(),
        &rule("{keys: {publicKeys: gcb.pem}}", PROVENANCE_V1),
        &img,
    );
    assert_eq!(ok.results[0].status, Status::Pass, "{ok:#?}");
    let v02 = evaluate(
        work.path(),
        &rule("{keys: {publicKeys: gcb.pem}}", PROVENANCE_V0_2),
        &img,
    );
    assert!(matches!(
        only_failure(&v02),
        Failure::PredicateTypeNotAccepted { .. }
    ));
    let wrong = evaluate(
        work.path(),
        &rule("{keys: {publicKeys: other.pub}}", PROVENANCE_V1),
        &img,
    );
    assert!(matches!(
        only_failure(&wrong),
        Failure::AttestationUntrusted { .. }
    ));
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if "\\.+*?()|[]{}^$#&-~".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

#[test]
fn a_payload_with_a_repeated_digest_key_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let store = AttestationStore::open(dir.path().join("store"));
    let trusted = ecdsa_key(dir.path(), "cosign.pub");
    let d = digest(30);
    // serde_json keeps the last key (this digest); a strict parser refuses the document.
    let payload = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"registry.example/app"}},"image":{{"docker-manifest-digest":"{}","docker-manifest-digest":"{}"}},"type":"cosign container image signature"}},"optional":null}}"#,
        digest(31).to_prefixed(),
        d.to_prefixed()
    );
    put_cosign_signature(&store, &d, payload.as_bytes(), &trusted);
    let report = evaluate(
        dir.path(),
        &signed_rule("{keys: {publicKeys: cosign.pub}}"),
        &image(&d),
    );
    let Failure::SignatureUntrusted { reasons, .. } = only_failure(&report) else {
        panic!("{report:#?}")
    };
    assert!(reasons[0].contains("docker-manifest-digest"), "{reasons:?}");
}

#[test]
fn a_legacy_v0_1_statement_is_flagged_not_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let store = AttestationStore::open(dir.path().join("store"));
    let key = ecdsa_key(dir.path(), "cosign.pub");
    let d = digest(32);
    let v1 = String::from_utf8(provenance(&d, PROVENANCE_V0_2, BUILDER).to_json()).unwrap();
    let legacy = v1.replace(leo_attest::STATEMENT_V1, leo_attest::STATEMENT_V0_1);
    assert_ne!(v1, legacy);
    let env = Envelope::sign(PAYLOAD_TYPE, legacy.as_bytes(), &[&key as &dyn DsseSigner]).unwrap();
    store
        .put(
            &d,
            StoreKind::Attestations,
            "prov.dsse.json",
            &env.to_json(),
        )
        .unwrap();
    let report = evaluate(
        dir.path(),
        &slsa_rule("{keys: {publicKeys: cosign.pub}}", PROVENANCE_V0_2),
        &image(&d),
    );
    assert!(
        matches!(only_failure(&report), Failure::LegacyStatement { .. }),
        "{report:#?}"
    );
}

#[test]
fn store_file_names_are_one_plain_component() {
    let dir = tempfile::tempdir().unwrap();
    let store = AttestationStore::open(dir.path().join("store"));
    let d = digest(33);
    for name in ["../escape", "a/b", ".", "..", "", "a\\b"] {
        let err = store
            .put(&d, StoreKind::Signatures, name, b"x")
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidStoreFileName { .. }),
            "{name:?}: {err:?}"
        );
    }
    assert!(!dir.path().join("escape").exists());
    let path = store
        .put(&d, StoreKind::Attestations, "ok.dsse.json", b"x")
        .unwrap();
    assert!(path.ends_with("attestations/ok.dsse.json"));
}
