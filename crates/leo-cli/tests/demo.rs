//! `leo demo`: the whole flow, machine-readable.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{json_of, leo_with};

#[test]
fn demo_json_merges_refuses_the_tampered_bundle_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let out = leo_with(tmp.path(), &["demo", "--out", "demo-out", "--json"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out);
    assert_eq!(v["ok"], true);
    assert_eq!(v["verdict"], "PASS");
    assert_eq!(v["final_state"], "merged");
    assert_eq!(
        v["enforced"]["signature"]["selection"]["backend"],
        "open_pgp"
    );
    assert!(
        v["enforced"]["signature"]["selection"]["fallback_reason"]
            .as_str()
            .unwrap()
            .contains("SIGSTORE_ID_TOKEN")
    );
    assert_eq!(v["tampered"]["error_kind"], "handoff_digest_mismatch");
    assert_eq!(v["tampered"]["state"], "needs_revision");
    assert_eq!(v["tampered"]["refusal_recorded"], true);
    assert!(v["audit"]["entries"].as_u64().unwrap() > 10);
    // Stage lines go to stderr under --json.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("[8/8] audit"), "{stderr}");

    // The trail verifies with the CLI too, trusting the demo's checkpoint keys.
    let dir = tmp.path().join("demo-out");
    let mut args = vec!["audit".to_owned(), "--db".to_owned()];
    args.push(format!("sqlite:{}", dir.join("leo.db").display()));
    args.push("verify".to_owned());
    for f in v["audit"]["trust_files"].as_array().unwrap() {
        args.push("--trust".to_owned());
        args.push(f.as_str().unwrap().to_owned());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let verify = leo_with(tmp.path(), &args, &[]);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );

    // The SOP §7.1 history audit agrees: every [CLAUDE-APPLIED] has its [CODEX-READY], its
    // bundle and its records.
    let db = format!("sqlite:{}", dir.join("leo.db").display());
    let repo = dir.join("repo");
    let history = leo_with(
        tmp.path(),
        &[
            "audit",
            "--db",
            &db,
            "history",
            "--repo",
            repo.to_str().unwrap(),
            "--bundles",
            dir.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(
        history.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&history.stdout)
    );

    // The output directory is never overwritten: usage/I-O error.
    let again = leo_with(tmp.path(), &["demo", "--out", "demo-out"], &[]);
    assert_eq!(again.status.code(), Some(2));
}
