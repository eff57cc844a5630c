//! Interop both ways with the Python reference (securesystemslib 1.6.0 + in-toto-attestation
//! 0.9.3, installed by scripts/test.d/30-python-intoto.sh, found through `LEO_INTOTO_PYTHON`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use leo_artifact::{BundleInput, Revisions, Sha256Digest};
use leo_attest::bundle::{BUNDLE_BUILD_TYPE, BuildInfo, bundle_statement};
use leo_attest::{
    DsseSigner, Envelope, KeySet, PAYLOAD_TYPE, Provenance, PublicKey, SigningKey, Statement,
};

fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LEO_INTOTO_PYTHON") {
        return Some(PathBuf::from(p));
    }
    assert!(
        !leo_testkit::under_ci(),
        "LEO_INTOTO_PYTHON must be set under CI (scripts/test.d/30-python-intoto.sh)"
    );
    eprintln!("skipping: LEO_INTOTO_PYTHON not set (run scripts/test.d/30-python-intoto.sh)");
    None
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name)
}

fn run(python: &Path, args: &[&Path]) -> (bool, String) {
    let out = Command::new(python).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn vector_key(rel: &str) -> Option<String> {
    leo_testkit::vector(&format!("intoto/keys/{rel}")).map(|p| std::fs::read_to_string(p).unwrap())
}

fn sample_statement() -> Statement {
    let sha = |c: char| c.to_string().repeat(40).parse().unwrap();
    let input = BundleInput {
        revisions: Revisions {
            base: sha('a'),
            head: sha('b'),
            merge_base: sha('c'),
        },
        created_at: time::macros::datetime!(2026-01-01 0:00 UTC),
        patch: "diff --git a/é b/é\n".into(),
        sbom: b"{}".to_vec(),
        attestation: Vec::new(),
        rollback: b"# Rollback\n".to_vec(),
    };
    let build = BuildInfo {
        builder_id: "https://example.invalid/leo/builder@v1".into(),
        build_type: BUNDLE_BUILD_TYPE.into(),
        repository: "https://example.invalid/org/repo".into(),
        git_ref: Some("refs/heads/staging/codex-1".into()),
        started_on: time::macros::datetime!(2026-01-01 0:00 UTC),
        finished_on: time::macros::datetime!(2026-01-01 0:01 UTC),
        reproducible: true,
    };
    bundle_statement(&input, &build)
}

/// LEO's signing keys: the published vector keys (when present) and fresh ones.
fn leo_keys() -> Vec<(String, SigningKey)> {
    let mut keys = vec![
        (
            "fresh-ed25519".to_owned(),
            SigningKey::generate_ed25519().unwrap().0,
        ),
        (
            "fresh-p256".to_owned(),
            SigningKey::generate_ecdsa_p256().unwrap().0,
        ),
    ];
    for k in [
        "ed25519-rfc8032-test1",
        "ecdsa-p256-dsse-spec",
        "rsa2048-test",
    ] {
        if let Some(pem) = vector_key(&format!("{k}.key.pem")) {
            keys.push((k.to_owned(), SigningKey::from_pkcs8_pem(&pem).unwrap()));
        }
    }
    keys
}

#[test]
fn python_reference_verifies_leo_envelopes() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let payload = sample_statement().to_json();
    let keys = leo_keys();
    for (label, key) in &keys {
        let env = Envelope::sign(PAYLOAD_TYPE, &payload, &[key as &dyn DsseSigner]).unwrap();
        let env_path = dir.path().join(format!("{label}.dsse.json"));
        std::fs::write(&env_path, env.to_json()).unwrap();
        let pem_path = dir.path().join(format!("{label}.pub.pem"));
        std::fs::write(&pem_path, key.public_key().to_pem()).unwrap();
        let (ok, out) = run(
            &py,
            &[&script("verify.py"), &env_path, Path::new("1"), &pem_path],
        );
        assert!(ok, "{label}: Python rejected LEO's envelope: {out}");
        // Python computed the same key id on its own, and validated the statement.
        assert!(
            out.contains(key.public_key().key_id().as_str()),
            "{label}: {out}"
        );
        assert!(
            out.contains("https://slsa.dev/provenance/v0.2"),
            "{label}: {out}"
        );

        // Control: a tampered payload must be rejected by Python too.
        let mut bad = env.clone();
        bad.payload = bad.payload.replace_bytes();
        std::fs::write(&env_path, bad.to_json()).unwrap();
        let (ok, out) = run(
            &py,
            &[&script("verify.py"), &env_path, Path::new("1"), &pem_path],
        );
        assert!(!ok, "{label}: Python accepted a tampered envelope: {out}");
    }
    // Every key at once, threshold = all of them.
    let signers: Vec<&dyn DsseSigner> = keys.iter().map(|(_, k)| k as &dyn DsseSigner).collect();
    let env = Envelope::sign(PAYLOAD_TYPE, &payload, &signers).unwrap();
    let env_path = dir.path().join("multi.dsse.json");
    std::fs::write(&env_path, env.to_json()).unwrap();
    let threshold = keys.len().to_string();
    let mut args: Vec<PathBuf> = vec![script("verify.py"), env_path, PathBuf::from(&threshold)];
    args.extend(
        keys.iter()
            .map(|(label, _)| dir.path().join(format!("{label}.pub.pem"))),
    );
    let refs: Vec<&Path> = args.iter().map(PathBuf::as_path).collect();
    let (ok, out) = run(&py, &refs);
    assert!(ok, "multi-signature envelope rejected: {out}");
}

trait Tamper {
    fn replace_bytes(self) -> Self;
}

impl Tamper for Vec<u8> {
    fn replace_bytes(self) -> Self {
        String::from_utf8(self)
            .unwrap()
            .replacen("mergeBase", "mergeBasf", 1)
            .into_bytes()
    }
}

#[test]
fn leo_verifies_python_reference_envelopes() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let predicate = dir.path().join("predicate.json");
    let statement = sample_statement();
    std::fs::write(
        &predicate,
        serde_json::to_vec(statement.predicate.as_ref().unwrap()).unwrap(),
    )
    .unwrap();
    let artifact = Sha256Digest::of(b"artifact");
    let digest = artifact.to_string();
    // Python signs with keys LEO generated (PKCS#8 PEM written by LEO) and the vector keys.
    let mut key_files: Vec<(String, PathBuf, PublicKey)> = Vec::new();
    for (label, make) in [
        ("fresh-ed25519", SigningKey::generate_ed25519 as fn() -> _),
        ("fresh-p256", SigningKey::generate_ecdsa_p256),
    ] {
        let (key, pem) = make().unwrap();
        let path = dir.path().join(format!("{label}.key.pem"));
        std::fs::write(&path, pem.expose_secret()).unwrap();
        key_files.push((label.to_owned(), path, key.public_key().clone()));
    }
    for k in [
        "ed25519-rfc8032-test1",
        "ecdsa-p256-dsse-spec",
        "rsa2048-test",
    ] {
        if let Some(p) = leo_testkit::vector(&format!("intoto/keys/{k}.key.pem")) {
            let pem = std::fs::read_to_string(&p).unwrap();
            let public = SigningKey::from_pkcs8_pem(&pem)
                .unwrap()
                .public_key()
                .clone();
            key_files.push((k.to_owned(), p, public));
        }
    }
    for (label, path, public) in &key_files {
        let out_env = dir.path().join(format!("{label}.py.dsse.json"));
        let (ok, out) = run(
            &py,
            &[
                &script("sign.py"),
                Path::new("artifact.tar.gz"),
                Path::new(&digest),
                &predicate,
                &out_env,
                path,
            ],
        );
        assert!(ok, "{label}: Python signing failed: {out}");
        let keys = KeySet::from_iter([public.clone()]);
        let v = keys
            .verify_json(&std::fs::read(&out_env).unwrap(), 1)
            .unwrap_or_else(|e| panic!("{label}: LEO rejected Python's envelope: {e}"));
        assert_eq!(&v.key_ids, &[public.key_id().clone()]);
        let s = Statement::from_json(&v.payload).unwrap();
        assert!(s.subject_matching(&artifact).is_some(), "{label}");
        let p = Provenance::from_statement(&s).unwrap();
        assert_eq!(p.builder_id(), "https://example.invalid/leo/builder@v1");
        // Python's keyid hint equals LEO's securesystemslib key id.
        let env = Envelope::from_json(&std::fs::read(&out_env).unwrap()).unwrap();
        assert_eq!(
            env.signatures[0].keyid.as_deref(),
            Some(public.key_id().as_str())
        );
    }
}
