//! `leo audit`: log, show, verify (exit 1 naming the tampered row), prove, checkpoint; driven
//! as a user would, on a trail written through the leo-store library.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use leo_store::samples::{approval, gate, handoff, signing_key, verification};
use leo_store::{EnforcerHandle, LeadHandle, Location, NoteSigner, SupervisorHandle};

fn leo(dir: &Path, args: &[&str]) -> Output {
    common::leo_with(dir, args, &[])
}

fn json_of(o: &Output) -> serde_json::Value {
    common::json_of(o)
}

/// A trail with one record of each kind in ./leo.db, and the checkpoint verifier key in
/// ./ckpt.pub.
fn trail() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("leo.db");
    let loc = Location::Sqlite(db.clone());
    let signer = NoteSigner::generate("leo.test/cli").unwrap();
    std::fs::write(dir.path().join("ckpt.pub"), signer.verifier().to_string()).unwrap();
    let key = signer.secret_key();
    let s = || Some(NoteSigner::from_secret_key(&key).unwrap());
    EnforcerHandle::open(&loc, s())
        .unwrap()
        .append(handoff("c", 1).unwrap())
        .unwrap();
    let mut plan = SupervisorHandle::open(&loc, s()).unwrap();
    plan.append(verification("c", 1).unwrap()).unwrap();
    plan.append(gate("c", 1).unwrap()).unwrap();
    LeadHandle::open(&loc, s())
        .unwrap()
        .append(approval("c", 1).unwrap())
        .unwrap();
    EnforcerHandle::open(&loc, s())
        .unwrap()
        .append(signing_key("c", 1).unwrap())
        .unwrap();
    (dir, db)
}

#[test]
fn log_and_show_read_the_default_database() {
    let (dir, _) = trail();
    let o = leo(dir.path(), &["--json", "audit", "log"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json_of(&o);
    assert_eq!(v["size"], 5);
    assert_eq!(v["entries"][1]["table"], "leo_verification_results");
    assert_eq!(v["entries"][1]["actor"], "PLAN");
    assert_eq!(v["entries"][1]["record"]["verdict"]["verdict"], "PASS");

    let o = leo(dir.path(), &["audit", "log", "--from", "3"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(text.lines().count(), 2);
    assert!(text.contains("pr_approval_audit") && text.contains("c-key-1"));

    let v = json_of(&leo(dir.path(), &["audit", "--json", "show", "c-key-1"]));
    assert_eq!(
        (v["seq"].as_u64(), v["action"].as_str()),
        (Some(4), Some("SIGN_ARTIFACTS"))
    );
    let v = json_of(&leo(dir.path(), &["--json", "audit", "show", "3"]));
    assert_eq!(v["record"]["decision"], "APPROVED");
    let o = leo(dir.path(), &["audit", "show", "no-such-event"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn verify_passes_then_names_the_tampered_row() {
    let (dir, db) = trail();
    let o = leo(
        dir.path(),
        &["--json", "audit", "verify", "--trust", "ckpt.pub"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json_of(&o);
    assert_eq!(
        (
            v["ok"].as_bool(),
            v["entries"].as_u64(),
            v["checkpoints"].as_u64()
        ),
        (Some(true), Some(5), Some(5))
    );

    let conn = leo_store::sqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "DROP TRIGGER pr_approval_audit_no_update; \
         UPDATE pr_approval_audit SET decision = 'OVERRIDE' WHERE seq = 3",
    )
    .unwrap();
    let o = leo(dir.path(), &["audit", "verify", "--trust", "ckpt.pub"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("seq 3 (pr_approval_audit)"), "{err}");
    let o = leo(
        dir.path(),
        &["--json", "audit", "verify", "--trust", "ckpt.pub"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json_of(&o)["kind"], "verification_failed");
}

#[test]
fn verify_with_the_wrong_key_fails() {
    let (dir, _) = trail();
    let other = NoteSigner::generate("leo.test/cli").unwrap().verifier();
    std::fs::write(dir.path().join("other.pub"), other.to_string()).unwrap();
    let o = leo(dir.path(), &["audit", "verify", "--trust", "other.pub"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("checkpoint at size 1"));
    // A missing trust file is a usage error, not a verification failure.
    assert_eq!(
        leo(dir.path(), &["audit", "verify", "--trust", "missing.pub"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn prove_checks_the_path_and_the_checkpoint_signature() {
    let (dir, _) = trail();
    let o = leo(
        dir.path(),
        &[
            "--json", "audit", "prove", "c-gate-1", "--trust", "ckpt.pub",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json_of(&o);
    assert_eq!(v["signature_verified"], true);
    assert_eq!(
        (v["proof"]["index"].as_u64(), v["proof"]["size"].as_u64()),
        (Some(2), Some(5))
    );
    assert!(
        v["checkpoint"]
            .as_str()
            .unwrap()
            .starts_with("leo.test/cli\n5\n")
    );
    let o = leo(dir.path(), &["audit", "prove", "1", "--size", "3"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("is leaf 1 of 3"));
    assert_eq!(
        leo(dir.path(), &["audit", "prove", "1", "--size", "9"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn checkpoint_creates_a_0600_key_and_signs_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let loc = Location::Sqlite(dir.path().join("leo.db"));
    let mut w = EnforcerHandle::open(&loc, None).unwrap();
    w.append_batch([handoff("u", 1).unwrap(), handoff("u", 2).unwrap()])
        .unwrap();
    let o = leo(
        dir.path(),
        &[
            "audit",
            "checkpoint",
            "--key",
            "ckpt.key",
            "--init",
            "leo.test/new",
            "--role",
            "lead",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("leo.test/new\n2\n"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("ckpt.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let o = leo(
        dir.path(),
        &["--json", "audit", "verify", "--trust", "ckpt.key.pub"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(json_of(&o)["unsigned_tail"], 0);
}

#[test]
fn bad_locations_and_missing_databases_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        leo(dir.path(), &["audit", "--db", "mysql://x/y", "log"])
            .status
            .code(),
        Some(2)
    );
    let o = leo(dir.path(), &["audit", "log"]);
    assert_eq!(o.status.code(), Some(2));
}
