//! `leo hash` and `leo bundle`: outputs, JSON and exit codes, driven as a user would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use leo_testkit::ScratchRepo;

fn leo(args: &[&str], dir: &Path) -> Output {
    common::leo_with(dir, args, &[("SOURCE_DATE_EPOCH", "1767225600")])
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn hash_matches_sha256sum_and_check_reports_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), b"hello\n").unwrap();
    std::fs::write(dir.path().join("b c.bin"), [0u8, 1, 2]).unwrap();
    let out = leo(&["hash", "a.txt", "b c.bin"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    if leo_testkit::require_tool("sha256sum") {
        let theirs = Command::new("sha256sum")
            .args(["a.txt", "b c.bin"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(stdout(&out), stdout(&theirs));
        // And sha256sum accepts what we print.
        std::fs::write(dir.path().join("SUMS"), &out.stdout).unwrap();
        let c = Command::new("sha256sum")
            .args(["-c", "SUMS"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(c.status.success());
    }
    std::fs::write(dir.path().join("SUMS"), &out.stdout).unwrap();
    let ok = leo(&["hash", "--check", "SUMS"], dir.path());
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    assert_eq!(stdout(&ok), "a.txt: OK\nb c.bin: OK\n");

    std::fs::write(dir.path().join("a.txt"), b"tampered\n").unwrap();
    let bad = leo(&["--json", "hash", "--check", "SUMS"], dir.path());
    assert_eq!(bad.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["mismatched"], 1);
    assert_eq!(v["results"][0]["status"], "FAILED");
    assert_eq!(v["results"][1]["status"], "OK");
}

#[test]
fn hash_of_missing_file_is_exit_2_and_usage_error_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = leo(&["hash", "nope"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("opening nope"));
    assert_eq!(leo(&["hash"], dir.path()).status.code(), Some(2));
    assert_eq!(leo(&["no-such-command"], dir.path()).status.code(), Some(2));
}

fn repo_with_change() -> ScratchRepo {
    let repo = ScratchRepo::new();
    repo.write("src/main.rs", "fn main() {}\n");
    repo.commit_all("base");
    repo.git(&["checkout", "-q", "-b", "staging/codex-x"]);
    repo.write("src/main.rs", "fn main() { println!(\"hi\"); }\n");
    repo.commit_all("change");
    repo.write("sbom.json", "{\"bomFormat\":\"CycloneDX\"}\n");
    repo.write("att.json", "{}\n");
    repo
}

#[test]
fn bundle_create_verify_inspect_round_trip() {
    let repo = repo_with_change();
    let p = repo.path();
    let args = [
        "--json",
        "bundle",
        "create",
        "--base",
        "main",
        "--head",
        "staging/codex-x",
        "--sbom",
        "sbom.json",
        "--attestation",
        "att.json",
        "-o",
        "out/artifact.tar.gz",
    ];
    std::fs::create_dir(p.join("out")).unwrap();
    let out = leo(&args, p);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hash = created["sha256"].as_str().unwrap().to_owned();
    assert_eq!(created["marker"], format!("[CODEX-READY:{hash}]"));

    // Reproducible: the same change and SOURCE_DATE_EPOCH give the same bytes.
    let first = std::fs::read(p.join("out/artifact.tar.gz")).unwrap();
    let again = leo(&args, p);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(std::fs::read(p.join("out/artifact.tar.gz")).unwrap(), first);

    let v = leo(
        &["bundle", "verify", "out/artifact.tar.gz", "--expect", &hash],
        p,
    );
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );
    let marker = format!("[CODEX-READY:{hash}]");
    assert_eq!(
        leo(
            &[
                "bundle",
                "verify",
                "out/artifact.tar.gz",
                "--expect",
                &marker
            ],
            p
        )
        .status
        .code(),
        Some(0)
    );

    let wrong = "0".repeat(64);
    let v = leo(
        &[
            "--json",
            "bundle",
            "verify",
            "out/artifact.tar.gz",
            "--expect",
            &wrong,
        ],
        p,
    );
    assert_eq!(v.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(j["kind"], "verification_failed");
    assert!(j["error"].as_str().unwrap().contains("bundle digest is"));

    let i = leo(&["--json", "bundle", "inspect", "out/artifact.tar.gz"], p);
    assert_eq!(i.status.code(), Some(0));
    let j: serde_json::Value = serde_json::from_slice(&i.stdout).unwrap();
    assert_eq!(j["manifest"]["members"].as_array().unwrap().len(), 5);
    assert!(j["rollback"].as_str().unwrap().contains("git apply -R"));

    // A corrupted bundle is a verification failure (1); a missing one an I/O error (2).
    let mut bad = first.clone();
    let n = bad.len();
    bad[n - 12] ^= 0xff;
    std::fs::write(p.join("bad.tar.gz"), &bad).unwrap();
    assert_eq!(
        leo(&["bundle", "verify", "bad.tar.gz"], p).status.code(),
        Some(1)
    );
    assert_eq!(
        leo(&["bundle", "verify", "missing.tar.gz"], p)
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn bundle_create_with_bad_revision_fails_cleanly_and_writes_nothing() {
    let repo = repo_with_change();
    let out = leo(
        &[
            "bundle",
            "create",
            "--base",
            "main",
            "--head",
            "nope",
            "--sbom",
            "sbom.json",
            "--attestation",
            "att.json",
            "-o",
            "a.tar.gz",
        ],
        repo.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("revision \"nope\" not found"));
    assert!(!repo.path().join("a.tar.gz").exists());
    let leftovers: Vec<_> = std::fs::read_dir(repo.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".leo-tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn bundle_create_with_key_signs_an_attestation_the_enforcer_verifies() {
    if !leo_testkit::require_tool("openssl") {
        return;
    }
    let repo = repo_with_change();
    let p = repo.path();
    for name in ["builder", "other"] {
        let ok = Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "ed25519",
                "-out",
                &format!("{name}.pem"),
            ])
            .current_dir(p)
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let ok = Command::new("openssl")
            .args([
                "pkey",
                "-in",
                &format!("{name}.pem"),
                "-pubout",
                "-out",
                &format!("{name}.pub.pem"),
            ])
            .current_dir(p)
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
    let create = leo(
        &[
            "--json",
            "bundle",
            "create",
            "--base",
            "main",
            "--head",
            "staging/codex-x",
            "--key",
            "builder.pem",
            "-o",
            "signed.tar.gz",
        ],
        p,
    );
    assert_eq!(
        create.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&create.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&create.stdout).unwrap();
    assert!(j["attestationKeyId"].as_str().is_some());

    // Reproducible under SOURCE_DATE_EPOCH even with a signed attestation (Ed25519 is
    // deterministic and the provenance times follow SOURCE_DATE_EPOCH).
    let first = std::fs::read(p.join("signed.tar.gz")).unwrap();
    std::fs::remove_file(p.join("signed.tar.gz")).unwrap();
    let again = leo(
        &[
            "bundle",
            "create",
            "--base",
            "main",
            "--head",
            "staging/codex-x",
            "--key",
            "builder.pem",
            "-o",
            "signed.tar.gz",
        ],
        p,
    );
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(std::fs::read(p.join("signed.tar.gz")).unwrap(), first);

    let verify = |key: &str| {
        leo(
            &[
                "attest",
                "verify",
                "--bundle",
                "signed.tar.gz",
                "--key",
                key,
                "--builder-id",
                "urn:leo:builder:codex",
            ],
            p,
        )
    };
    let good = verify("builder.pub.pem");
    assert_eq!(
        good.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let bad = verify("other.pub.pem");
    assert_eq!(
        bad.status.code(),
        Some(1),
        "a key that did not sign must not verify"
    );

    // The generated SBOM is in the bundle and lists the repository at head.
    std::fs::create_dir(p.join("x")).unwrap();
    let v = leo(&["bundle", "verify", "signed.tar.gz", "--extract", "x"], p);
    assert_eq!(v.status.code(), Some(0));
    let sbom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.join("x/sbom.cdx.json")).unwrap()).unwrap();
    assert_eq!(sbom["specVersion"], "1.5");
    assert_eq!(
        sbom["metadata"]["component"]["version"],
        repo.git(&["rev-parse", "staging/codex-x"])
    );
}
