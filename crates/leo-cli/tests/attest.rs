//! `leo attest` and `leo sbom`, driven as a user would: exit codes 0 / 1 (rejected) / 2
//! (unusable input), text and `--json` output.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use leo_artifact::{BundleInput, Revisions};
use leo_attest::bundle::{BUNDLE_BUILD_TYPE, BuildInfo};
use leo_attest::{DsseSigner, ResourceDescriptor, SigningKey, Statement};

fn leo(dir: &Path, args: &[&str]) -> Output {
    common::leo_with(dir, args, &[])
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn json_of(o: &Output) -> serde_json::Value {
    common::json_of(o)
}

/// A fresh Ed25519 key pair written as `name.key.pem` / `name.pub.pem`.
fn keypair(dir: &Path, name: &str) -> SigningKey {
    let (key, pem) = SigningKey::generate_ed25519().unwrap();
    std::fs::write(dir.join(format!("{name}.key.pem")), pem.expose_secret()).unwrap();
    std::fs::write(
        dir.join(format!("{name}.pub.pem")),
        key.public_key().to_pem(),
    )
    .unwrap();
    key
}

#[test]
fn sign_verify_inspect_statement() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keypair(d, "a");
    keypair(d, "b");
    std::fs::write(d.join("artifact.bin"), b"artifact").unwrap();
    let digest = leo_artifact::Sha256Digest::of(b"artifact");
    let statement = Statement::new(
        vec![ResourceDescriptor::sha256("artifact.bin", &digest)],
        "https://example.invalid/predicate/v1",
        serde_json::json!({"k": "v"}),
    );
    std::fs::write(d.join("stmt.json"), statement.to_json()).unwrap();

    let o = leo(
        d,
        &[
            "attest",
            "sign",
            "stmt.json",
            "--key",
            "a.key.pem",
            "-o",
            "stmt.dsse.json",
        ],
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));

    let o = leo(
        d,
        &[
            "--json",
            "attest",
            "verify",
            "stmt.dsse.json",
            "--key",
            "a.pub.pem",
            "--artifact",
            "artifact.bin",
        ],
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(
        json_of(&o)["predicateType"],
        "https://example.invalid/predicate/v1"
    );

    // Wrong key: rejected (1). Wrong artifact: rejected (1).
    let o = leo(
        d,
        &[
            "--json",
            "attest",
            "verify",
            "stmt.dsse.json",
            "--key",
            "b.pub.pem",
        ],
    );
    assert_eq!(code(&o), 1);
    assert_eq!(json_of(&o)["kind"], "verification_failed");
    std::fs::write(d.join("other.bin"), b"other").unwrap();
    let o = leo(
        d,
        &[
            "attest",
            "verify",
            "stmt.dsse.json",
            "--key",
            "a.pub.pem",
            "--artifact",
            "other.bin",
        ],
    );
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("no subject"));

    // Missing key file: unusable input (2).
    let o = leo(
        d,
        &["attest", "verify", "stmt.dsse.json", "--key", "missing.pem"],
    );
    assert_eq!(code(&o), 2);

    // A non-statement is refused for signing as in-toto.
    std::fs::write(d.join("junk.json"), b"{\"a\":1}").unwrap();
    let o = leo(d, &["attest", "sign", "junk.json", "--key", "a.key.pem"]);
    assert_eq!(code(&o), 2);

    let o = leo(d, &["--json", "attest", "inspect", "stmt.dsse.json"]);
    assert_eq!(code(&o), 0);
    let v = json_of(&o);
    assert_eq!(v["verified"], false);
    assert_eq!(v["statement"]["subject"][0]["name"], "artifact.bin");
}

fn write_bundle(dir: &Path, key: &SigningKey) -> PathBuf {
    let sha = |c: char| c.to_string().repeat(40).parse().unwrap();
    let mut input = BundleInput {
        revisions: Revisions {
            base: sha('a'),
            head: sha('b'),
            merge_base: sha('c'),
        },
        created_at: time::macros::datetime!(2026-01-01 0:00 UTC),
        patch: b"diff --git a/x b/x\n".to_vec(),
        sbom: b"{}".to_vec(),
        attestation: Vec::new(),
        rollback: b"# Rollback\n".to_vec(),
    };
    let build = BuildInfo {
        builder_id: "https://example.invalid/builder".into(),
        build_type: BUNDLE_BUILD_TYPE.into(),
        repository: "https://example.invalid/repo".into(),
        git_ref: None,
        started_on: input.created_at,
        finished_on: input.created_at,
        reproducible: true,
    };
    input.attestation =
        leo_attest::sign_bundle_attestation(&input, &build, &[key as &dyn DsseSigner]).unwrap();
    let path = dir.join("artifact.tar.gz");
    input.write_to_path(&path).unwrap();
    path
}

#[test]
fn verify_bundle_attestation() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = keypair(d, "builder");
    keypair(d, "other");
    write_bundle(d, &key);
    let ok = leo(
        d,
        &[
            "--json",
            "attest",
            "verify",
            "--bundle",
            "artifact.tar.gz",
            "--key",
            "builder.pub.pem",
            "--builder-id",
            "https://example.invalid/builder",
            "--source-repo",
            "https://example.invalid/repo",
        ],
    );
    assert_eq!(code(&ok), 0, "{}", String::from_utf8_lossy(&ok.stdout));
    assert_eq!(json_of(&ok)["subjects"].as_array().unwrap().len(), 4);
    let bad = leo(
        d,
        &[
            "attest",
            "verify",
            "--bundle",
            "artifact.tar.gz",
            "--key",
            "builder.pub.pem",
            "--builder-id",
            "https://example.invalid/impostor",
        ],
    );
    assert_eq!(code(&bad), 1);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not trusted"));
    let bad = leo(
        d,
        &[
            "attest",
            "verify",
            "--bundle",
            "artifact.tar.gz",
            "--key",
            "other.pub.pem",
            "--builder-id",
            "https://example.invalid/builder",
        ],
    );
    assert_eq!(code(&bad), 1);
    let o = leo(d, &["attest", "inspect", "--bundle", "artifact.tar.gz"]);
    assert_eq!(code(&o), 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("UNVERIFIED"));
}

#[test]
fn sbom_generate_validate_check_compliance() {
    let Some(schema) = leo_testkit::vector("cyclonedx/schema") else {
        return;
    };
    let schema = schema.to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("requirements.txt"), "requests==2.31.0\n").unwrap();
    let o = leo(
        d,
        &[
            "sbom",
            "generate",
            "--name",
            "demo",
            "--head",
            &"a".repeat(40),
            "--supplier",
            "Demo Org",
            "--timestamp",
            "2026-01-01T00:00:00Z",
            "-o",
            "sbom.cdx.json",
        ],
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let o = leo(
        d,
        &[
            "--json",
            "sbom",
            "validate",
            "sbom.cdx.json",
            "--schema",
            &schema,
        ],
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(json_of(&o)["components"], 1);
    let o = leo(
        d,
        &[
            "--json",
            "sbom",
            "check-compliance",
            "sbom.cdx.json",
            "--schema",
            &schema,
        ],
    );
    assert_eq!(code(&o), 0);
    assert_eq!(json_of(&o)["compliant"], true);

    // Unpinned requirement: valid, but not compliant (no version): exit 1, rule named.
    std::fs::write(d.join("requirements.txt"), "flask\n").unwrap();
    leo(
        d,
        &[
            "sbom",
            "generate",
            "--name",
            "demo",
            "--head",
            &"a".repeat(40),
            "--supplier",
            "Demo Org",
            "-o",
            "loose.json",
        ],
    );
    let o = leo(
        d,
        &[
            "sbom",
            "check-compliance",
            "loose.json",
            "--schema",
            &schema,
        ],
    );
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stdout).contains("FAIL ntia.version"));

    // A spec-test invalid BOM is rejected (1); a missing schema dir is an error (2).
    let invalid =
        leo_testkit::vector("cyclonedx/spec-tests-1.5/invalid-hash-sha256-1.5.json").unwrap();
    let o = leo(
        d,
        &[
            "sbom",
            "validate",
            &invalid.to_string_lossy(),
            "--schema",
            &schema,
        ],
    );
    assert_eq!(code(&o), 1);
    let o = leo(
        d,
        &[
            "sbom",
            "validate",
            "sbom.cdx.json",
            "--schema",
            "/nonexistent",
        ],
    );
    assert_eq!(code(&o), 2);
}
