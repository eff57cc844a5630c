//! `leo sigstore`, driven as a user would: verify conformance bundles (exit 0 / 1 with the
//! failed check), generate a cosign key pair, sign with it and verify the result.
//! Keyless signing is not driven here: it would contact the public Sigstore services
//! (leo-sign's tests cover its offline failure against loopback addresses).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;
use std::process::Output;

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn leo(dir: &Path, args: &[&str]) -> Output {
    common::leo_with(dir, args, &[("COSIGN_PASSWORD", "test password")])
}

fn json_of(o: &Output) -> serde_json::Value {
    common::json_of(o)
}

fn verify_case(base: &Path, case: &str, input: &str) -> Output {
    let dir = base.join("bundle-verify").join(case);
    let bundle = dir.join("bundle.sigstore.json");
    let root = base.join("production_trusted_root.json");
    leo(
        base,
        &[
            "--json",
            "sigstore",
            "verify",
            "--bundle",
            bundle.to_str().unwrap(),
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
            "--trusted-root",
            root.to_str().unwrap(),
            input,
        ],
    )
}

#[test]
fn verify_reports_what_was_verified_or_the_failed_check() {
    let Some(base) = leo_testkit::vector("sigstore/conformance") else {
        return;
    };
    let a_txt = base.join("bundle-verify/a.txt");
    let ok = verify_case(&base, "happy-path-v0.3", a_txt.to_str().unwrap());
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let v = json_of(&ok);
    assert_eq!(v["ok"], true);
    assert_eq!(v["verification"]["tlog_verified"], true);
    assert_eq!(v["verification"]["signer"]["identity"], IDENTITY);
    assert_eq!(
        v["verification"]["time_sources"][0]["kind"],
        "rekor_integrated_time"
    );

    let digest = "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";
    let bad = verify_case(&base, "signature-mismatch_fail", digest);
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(json_of(&bad)["kind"], "signature");

    let set = verify_case(&base, "set-invalid-signature_fail", digest);
    assert_eq!(set.status.code(), Some(1));
    assert_eq!(json_of(&set)["kind"], "set");

    let usage = verify_case(&base, "happy-path-v0.3", "sha256:nothex");
    assert_eq!(usage.status.code(), Some(2));
    assert_eq!(json_of(&usage)["kind"], "input");
}

#[test]
fn keyed_sign_and_verify_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.txt"), b"release\n").unwrap();
    let generated = leo(d, &["--json", "sigstore", "generate-key-pair"]);
    assert_eq!(
        generated.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    assert!(d.join("cosign.key").exists() && d.join("cosign.pub").exists());

    let signed = leo(
        d,
        &[
            "sigstore",
            "sign",
            "--key",
            "cosign.key",
            "--output",
            "a.sigstore.json",
            "a.txt",
        ],
    );
    assert_eq!(
        signed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );

    let args = [
        "--json",
        "sigstore",
        "verify",
        "--bundle",
        "a.sigstore.json",
        "--key",
        "cosign.pub",
    ];
    let strict = leo(d, &[&args[..], &["a.txt"]].concat());
    assert_eq!(
        strict.status.code(),
        Some(1),
        "no log entry: rejected by default"
    );
    assert_eq!(json_of(&strict)["kind"], "no_verified_time");

    let offline = leo(d, &[&args[..], &["--offline-key", "a.txt"]].concat());
    assert_eq!(
        offline.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&offline.stderr)
    );
    assert_eq!(json_of(&offline)["verification"]["signer"]["kind"], "key");

    std::fs::write(d.join("a.txt"), b"tampered\n").unwrap();
    let tampered = leo(d, &[&args[..], &["--offline-key", "a.txt"]].concat());
    assert_eq!(tampered.status.code(), Some(1));
    assert_eq!(json_of(&tampered)["kind"], "digest");
}
