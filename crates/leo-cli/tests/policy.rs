//! `leo policy`: Kyverno fixtures row for row, `kyverno apply`-style exit status, and the
//! signed policy bundle (OpenPGP and raw key), driven as a user would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

fn leo(dir: &Path, args: &[&str]) -> Output {
    common::leo_with(dir, args, &[("SOURCE_DATE_EPOCH", "1737297000")])
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn repo_policies() -> PathBuf {
    leo_testkit::workspace_root().join("policies")
}

#[test]
fn kyverno_fixtures_pass_row_for_row() {
    let dir = tempfile::tempdir().unwrap();
    for rel in [
        "kyverno/policies-repo/other/require-image-checksum",
        "kyverno/kyverno-repo/test/cli/test/images/digest",
        "kyverno/kyverno-repo/test/cli/test/exclude",
    ] {
        let Some(fixture) = leo_testkit::vector(rel) else {
            return;
        };
        let out = leo(
            dir.path(),
            &["--json", "policy", "test", fixture.to_str().unwrap()],
        );
        assert_eq!(
            code(&out),
            0,
            "{rel}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let v = common::json_of(&out);
        assert_eq!(v["ok"], true);
        let cases = v["tests"][0]["cases"].as_array().unwrap();
        assert!(!cases.is_empty());
        assert!(cases.iter().all(|c| c["expected"] == c["actual"]));
    }
}

#[test]
fn a_wrong_expectation_fails_the_test_run() {
    let Some(fixture) = leo_testkit::vector("kyverno/kyverno-repo/test/cli/test/images/digest")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for f in ["policies.yaml", "resources.yaml", "kyverno-test.yaml"] {
        std::fs::copy(fixture.join(f), dir.path().join(f)).unwrap();
    }
    let test = std::fs::read_to_string(dir.path().join("kyverno-test.yaml")).unwrap();
    std::fs::write(
        dir.path().join("kyverno-test.yaml"),
        test.replace("result: fail", "result: pass"),
    )
    .unwrap();
    let out = leo(dir.path(), &["policy", "test", "."]);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stdout));
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers: [{name: web, image: \"nginx:1.27\"}]\n";

#[test]
fn apply_exit_status_follows_kyverno_apply() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pod.yaml"), POD).unwrap();
    let audit = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: digests}\nspec:\n  validationFailureAction: Audit\n  rules:\n  - name: d\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    validate: {pattern: {spec: {containers: [{image: \"*@*\"}]}}}\n";
    std::fs::write(dir.path().join("audit.yaml"), audit).unwrap();
    std::fs::write(
        dir.path().join("enforce.yaml"),
        audit.replace("Audit", "Enforce"),
    )
    .unwrap();

    let out = leo(
        dir.path(),
        &[
            "--json",
            "policy",
            "apply",
            "--policy",
            "audit.yaml",
            "--resource",
            "pod.yaml",
        ],
    );
    assert_eq!(code(&out), 1);
    let v = common::json_of(&out);
    assert_eq!(v["results"][0]["status"], "fail");
    assert_eq!(v["results"][0]["failures"][0]["kind"], "digest_missing");

    let out = leo(
        dir.path(),
        &[
            "--json",
            "policy",
            "apply",
            "--audit-warn",
            "--policy",
            "audit.yaml",
            "--resource",
            "pod.yaml",
        ],
    );
    assert_eq!(code(&out), 0);
    assert_eq!(common::json_of(&out)["results"][0]["status"], "warn");

    let out = leo(
        dir.path(),
        &[
            "policy",
            "apply",
            "--audit-warn",
            "--policy",
            "enforce.yaml",
            "--resource",
            "pod.yaml",
        ],
    );
    assert_eq!(code(&out), 1);

    // The SOP's own policies: the unpinned pod fails all three; in `dev` only signatures apply.
    let policies = repo_policies();
    let out = leo(
        dir.path(),
        &[
            "--json",
            "policy",
            "apply",
            "--policy",
            policies.to_str().unwrap(),
            "--resource",
            "pod.yaml",
        ],
    );
    assert_eq!(code(&out), 1);
    assert_eq!(common::json_of(&out)["summary"]["fail"], 3);
    std::fs::write(dir.path().join("dev.yaml"), POD.replace("shop", "dev")).unwrap();
    let out = leo(
        dir.path(),
        &[
            "--json",
            "policy",
            "apply",
            "--policy",
            policies.to_str().unwrap(),
            "--resource",
            "dev.yaml",
        ],
    );
    let v = common::json_of(&out);
    assert_eq!(v["summary"]["skip"], 2, "{v:#}");
    assert_eq!(v["summary"]["fail"], 1);

    // Usage / I/O errors are 2.
    let out = leo(
        dir.path(),
        &[
            "policy",
            "apply",
            "--policy",
            "missing.yaml",
            "--resource",
            "pod.yaml",
        ],
    );
    assert_eq!(code(&out), 2);
}

#[test]
fn bundle_is_deterministic_signed_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ring = d.join("ring");
    let ring = ring.to_str().unwrap();
    assert_eq!(code(&leo(d, &["keys", "generate", "--ring", ring])), 0);
    let cert = leo(d, &["keys", "export", "--ring", ring]);
    std::fs::write(d.join("signer.asc"), &cert.stdout).unwrap();
    let policies = repo_policies();
    let policies = policies.to_str().unwrap();

    let out = leo(
        d,
        &[
            "--json",
            "policy",
            "bundle",
            policies,
            "--out-dir",
            "a",
            "--ring",
            ring,
        ],
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let v = common::json_of(&out);
    let name = "policies-20250119-143000.tar.gz";
    assert!(v["bundle"].as_str().unwrap().ends_with(name));
    assert_eq!(v["members"].as_array().unwrap().len(), 3);
    assert!(d.join("a/VERIFY_POLICIES.md").exists());
    assert_eq!(
        code(&leo(
            d,
            &[
                "policy",
                "bundle",
                policies,
                "--out-dir",
                "b",
                "--ring",
                ring
            ]
        )),
        0
    );
    assert_eq!(
        std::fs::read(d.join("a").join(name)).unwrap(),
        std::fs::read(d.join("b").join(name)).unwrap()
    );
    let statement: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join(format!("a/{name}.intoto.json"))).unwrap())
            .unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["subject"][0]["name"], name);
    assert_eq!(
        statement["predicate"]["materials"][0]["uri"],
        "policies/kyverno/require-image-digests.yaml"
    );

    let bundle = format!("a/{name}");
    let out = leo(
        d,
        &[
            "--json",
            "policy",
            "verify",
            &bundle,
            "--cert",
            "signer.asc",
        ],
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(
        common::json_of(&out)["verified"]["members"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // A different signer is rejected.
    let other = d.join("other");
    let other = other.to_str().unwrap();
    assert_eq!(code(&leo(d, &["keys", "generate", "--ring", other])), 0);
    std::fs::write(
        d.join("other.asc"),
        leo(d, &["keys", "export", "--ring", other]).stdout,
    )
    .unwrap();
    let out = leo(
        d,
        &["--json", "policy", "verify", &bundle, "--cert", "other.asc"],
    );
    assert_eq!(code(&out), 1);
    assert_eq!(common::json_of(&out)["kind"], "verification_failed");

    // A bundle with one policy changed is rejected: the subject digest no longer matches.
    let mut bytes = std::fs::read(d.join(&bundle)).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(d.join("b").join(name), &bytes).unwrap();
    std::fs::copy(
        d.join(format!("a/{name}.intoto.json")),
        d.join(format!("b/{name}.intoto.json")),
    )
    .unwrap();
    std::fs::copy(
        d.join(format!("a/{name}.intoto.json.asc")),
        d.join(format!("b/{name}.intoto.json.asc")),
    )
    .unwrap();
    let out = leo(
        d,
        &[
            "--json",
            "policy",
            "verify",
            &format!("b/{name}"),
            "--cert",
            "signer.asc",
        ],
    );
    assert_eq!(code(&out), 1);
    assert!(
        common::json_of(&out)["error"]
            .as_str()
            .unwrap()
            .contains("digest mismatch")
    );
}

/// Generates the raw key `k.pk8` in `d` and bundles the repository policies into `o/` with it.
fn bundle_with_new_raw_key(d: &Path) -> Output {
    let key = leo(
        d,
        &["keys", "generate", "--raw", "ed25519", "--out", "k.pk8"],
    );
    assert_eq!(code(&key), 0, "{}", String::from_utf8_lossy(&key.stderr));
    let policies = repo_policies();
    leo(
        d,
        &[
            "policy",
            "bundle",
            policies.to_str().unwrap(),
            "--backend",
            "key",
            "--key",
            "k.pk8",
            "--out-dir",
            "o",
        ],
    )
}

#[test]
fn bundle_with_a_raw_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = bundle_with_new_raw_key(d);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let bundle = "o/policies-20250119-143000.tar.gz";
    let out = leo(
        d,
        &[
            "policy",
            "verify",
            bundle,
            "--backend",
            "key",
            "--public-key",
            "k.pk8.pub.json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn apply_records_every_result_in_the_trail_and_the_score_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let policies = repo_policies();
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\n\
               spec: {containers: [{name: web, image: nginx:1.27}]}\n";
    std::fs::write(dir.path().join("pod.yaml"), pod).unwrap();
    let (db, key) = init_trail(dir.path());
    let out = apply_recorded(dir.path(), &policies, &db, &key);
    assert_eq!(code(&out), 1, "the unpinned pod fails under Enforce");
    let v = common::json_of(&out);
    let results = v["results"].as_array().unwrap().len();
    assert!(results >= 3, "{v}");
    assert_eq!(v["recorded"], results);

    // Every result is a leo_policy_evaluations row, and the signed trail verifies.
    let out = leo(dir.path(), &["--json", "audit", "--db", &db, "log"]);
    let log = common::json_of(&out);
    let kinds: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "policy_evaluation").count(),
        results,
        "{log}"
    );
    let trust = format!("{}.pub", key.display());
    let out = leo(
        dir.path(),
        &["audit", "--db", &db, "verify", "--trust", &trust],
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));

    // The posture score's Policy_Compliance is now known, and it is 0: nothing passed.
    let out = leo(dir.path(), &["--json", "metrics", "score", "--db", &db]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let v = common::json_of(&out);
    let policy = v["score"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["component"] == "policy_compliance")
        .unwrap_or_else(|| panic!("no policy_compliance in {v}"))
        .clone();
    assert_eq!(policy["ratio"]["numerator"], 0, "{v}");
    assert_eq!(policy["ratio"]["denominator"], results, "{v}");
}

/// An audit trail with an enforcer checkpoint key: (`sqlite:` location, key path).
fn init_trail(dir: &Path) -> (String, PathBuf) {
    let db = format!("sqlite:{}", dir.join("leo.db").display());
    let key = dir.join("enforcer.key");
    let out = leo(
        dir,
        &[
            "audit",
            "--db",
            &db,
            "checkpoint",
            "--init",
            "leo.test/enforcer",
            "--key",
            key.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    (db, key)
}

/// `leo --json policy apply --policy POLICIES --resource pod.yaml --record DB --record-key KEY`.
fn apply_recorded(dir: &Path, policies: &Path, db: &str, key: &Path) -> Output {
    leo(
        dir,
        &[
            "--json",
            "policy",
            "apply",
            "--policy",
            policies.to_str().unwrap(),
            "--resource",
            "pod.yaml",
            "--record",
            db,
            "--record-key",
            key.to_str().unwrap(),
        ],
    )
}

/// Every `image_digest` value anywhere in a JSON document.
fn image_digests(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                if k == "image_digest" {
                    if let Some(s) = v.as_str() {
                        out.push(s.to_owned());
                    }
                }
                image_digests(v, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| image_digests(v, out)),
        _ => {}
    }
}

#[test]
fn recorded_results_name_the_one_image_digest() {
    let dir = tempfile::tempdir().unwrap();
    let hex = "ab".repeat(32);
    let pod = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: web, namespace: shop}}\n\
         spec: {{containers: [{{name: web, image: \"nginx@sha256:{hex}\"}}]}}\n"
    );
    std::fs::write(dir.path().join("pod.yaml"), pod).unwrap();
    let (db, key) = init_trail(dir.path());
    let out = apply_recorded(dir.path(), &repo_policies(), &db, &key);
    let v = common::json_of(&out);
    let results = v["results"].as_array().unwrap().len();
    assert_eq!(v["recorded"], results, "{v}");
    let out = leo(dir.path(), &["--json", "audit", "--db", &db, "log"]);
    let mut found = Vec::new();
    image_digests(&common::json_of(&out), &mut found);
    // Every result is about the pod's one image, and says which.
    assert_eq!(found.len(), results, "{found:?}");
    assert!(found.iter().all(|d| d.ends_with(&hex)), "{found:?}");
}

#[test]
fn bundle_is_written_last_so_a_failed_run_leaves_no_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The signature cannot be written (a directory is in the way).
    std::fs::create_dir_all(d.join("o/policies-20250119-143000.tar.gz.intoto.json.sig/x")).unwrap();
    let out = bundle_with_new_raw_key(d);
    assert_eq!(code(&out), 2, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!d.join("o/policies-20250119-143000.tar.gz").exists());
}

#[test]
fn cosign_bundle_needs_a_password_or_an_explicit_empty_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cosign.key"), "not read").unwrap();
    let policies = repo_policies();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_leo"))
        .args([
            "policy",
            "bundle",
            policies.to_str().unwrap(),
            "--backend",
            "cosign",
            "--key",
            "cosign.key",
            "--out-dir",
            "o",
        ])
        .current_dir(dir.path())
        .env_remove("COSIGN_PASSWORD")
        .env_remove("SIGSTORE_ID_TOKEN")
        .env("SOURCE_DATE_EPOCH", "1737297000")
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("COSIGN_PASSWORD") && stderr.contains("--allow-empty-password"),
        "{stderr}"
    );
    assert!(!dir.path().join("o").exists());
}

#[test]
fn cosign_verify_takes_exactly_one_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for f in ["b.tar.gz", "b.tar.gz.intoto.json", "a.pub", "b.pub"] {
        std::fs::write(d.join(f), "x").unwrap();
    }
    let out = leo(
        d,
        &[
            "policy",
            "verify",
            "b.tar.gz",
            "--backend",
            "cosign",
            "--public-key",
            "a.pub",
            "--public-key",
            "b.pub",
        ],
    );
    assert_eq!(code(&out), 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("exactly one --public-key"), "{stderr}");
}
