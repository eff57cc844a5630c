//! `leo keys`, `leo sign`, `leo verify`: driven as a user would, with exit codes and JSON;
//! the OpenPGP signature is also checked with the real `gpg`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn leo(args: &[&str], dir: &Path) -> Output {
    common::leo_with(dir, args, &[])
}

fn json(o: &Output) -> serde_json::Value {
    common::json_of(o)
}

#[test]
fn keys_generate_list_rotate_export_then_sign_and_verify_with_pgp() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = leo(
        &[
            "--json",
            "keys",
            "generate",
            "--name",
            "CLI Test",
            "--email",
            "cli@leo.example",
        ],
        d,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fpr = json(&out)["created"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();

    // Secret key files are 0600.
    use std::os::unix::fs::PermissionsExt as _;
    let secret = d.join(".leo/keys/secret").join(format!("{fpr}.asc"));
    assert_eq!(
        std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let out = leo(&["--json", "keys", "list"], d);
    let keys = json(&out)["keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["current"], true);
    assert_eq!(keys[0]["algorithm"], "Ed25519");

    // A fresh key is not rotated without --force.
    let out = leo(&["--json", "keys", "rotate"], d);
    assert_eq!(out.status.code(), Some(0));
    assert!(json(&out)["created"].is_null());

    let out = leo(&["keys", "export"], d);
    let armored = String::from_utf8(out.stdout).unwrap();
    assert!(armored.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    std::fs::write(d.join("pub.asc"), &armored).unwrap();

    std::fs::write(d.join("artifact.tar.gz"), vec![42u8; 300_000]).unwrap();
    let out = leo(&["--json", "sign", "artifact.tar.gz"], d);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = &json(&out)["report"];
    assert_eq!(report["backend"], "open_pgp");
    assert_eq!(report["signer"]["primary"], fpr.as_str());
    assert!(d.join("artifact.tar.gz.asc").exists());

    let out = leo(
        &[
            "--json",
            "verify",
            "artifact.tar.gz",
            "--cert",
            "pub.asc",
            "--fingerprint",
            &fpr,
        ],
        d,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(json(&out)["report"]["signer"]["primary"], fpr.as_str());
    // The ring verifies too.
    assert_eq!(
        leo(&["verify", "artifact.tar.gz"], d).status.code(),
        Some(0)
    );

    if leo_testkit::require_tool("gpg") {
        let home = tempfile::tempdir().unwrap();
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let gpg = |args: &[&str]| {
            Command::new("gpg")
                .arg("--homedir")
                .arg(home.path())
                .arg("--batch")
                .args(args)
                .current_dir(d)
                .output()
                .unwrap()
        };
        assert!(gpg(&["--import", "pub.asc"]).status.success());
        let status = gpg(&[
            "--status-fd",
            "1",
            "--verify",
            "artifact.tar.gz.asc",
            "artifact.tar.gz",
        ]);
        let lines = String::from_utf8_lossy(&status.stdout).into_owned();
        assert!(lines.contains("[GNUPG:] GOODSIG "), "{lines}");
        assert!(
            lines
                .lines()
                .any(|l| l.starts_with("[GNUPG:] VALIDSIG ") && l.ends_with(&fpr)),
            "{lines}"
        );
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(home.path())
            .args(["--kill", "gpg-agent"])
            .status();
    }

    // Tampering: exit 1 with a verification_failed JSON error.
    std::fs::write(d.join("artifact.tar.gz"), vec![43u8; 300_000]).unwrap();
    let out = leo(
        &["--json", "verify", "artifact.tar.gz", "--cert", "pub.asc"],
        d,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["kind"], "verification_failed");

    // A bundle timestamp before the signature: exit 1.
    std::fs::write(d.join("artifact.tar.gz"), vec![42u8; 300_000]).unwrap();
    let out = leo(
        &[
            "verify",
            "artifact.tar.gz",
            "--not-after",
            "2020-01-01T00:00:00Z",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(1));
    // A missing signature file is an I/O error: exit 2.
    let out = leo(&["verify", "artifact.tar.gz", "--signature", "nope.asc"], d);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn raw_key_sign_and_verify_and_wrong_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, algo) in [("a.pk8", "ed25519"), ("b.pk8", "ecdsa-p256")] {
        let out = leo(&["keys", "generate", "--raw", algo, "--out", name], d);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::write(d.join("statement.json"), b"{\"hello\":1}").unwrap();
    let out = leo(
        &[
            "sign",
            "--backend",
            "key",
            "--key",
            "a.pk8",
            "statement.json",
        ],
        d,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ok = leo(
        &[
            "--json",
            "verify",
            "--backend",
            "key",
            "--public-key",
            "a.pk8.pub.json",
            "statement.json",
        ],
        d,
    );
    assert_eq!(ok.status.code(), Some(0));
    assert_eq!(json(&ok)["report"]["algorithms"]["public_key"], "Ed25519");
    let wrong = leo(
        &[
            "verify",
            "--backend",
            "key",
            "--public-key",
            "b.pk8.pub.json",
            "statement.json",
        ],
        d,
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("not a pinned key"));
}

#[test]
fn signing_with_an_empty_ring_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), b"x").unwrap();
    let out = leo(&["sign", "f"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("leo keys rotate"));
}
