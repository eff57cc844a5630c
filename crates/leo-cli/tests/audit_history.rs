//! `leo audit history`: exit codes (0 clean, 1 violations, 2 usage or I/O) and the JSON
//! report, on a real two-lane git history with a real bundle and SQLite trail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;
use std::process::Output;

use leo_artifact::{PlanVerdict, Sha256Digest};
use leo_store::record::{
    Confidence, HandoffEvent, HandoffStage, ScoredVerdict, VerificationInput, VerificationResult,
};
use leo_store::{
    Action, EnforcerHandle, Event, Location, PrNumber, SupervisorHandle, Text, Timestamp,
};
use leo_testkit::ScratchRepo;

fn leo(dir: &Path, args: &[&str]) -> Output {
    common::leo_with(dir, args, &[])
}

fn commit_as(repo: &ScratchRepo, who: &str, message: &str) -> String {
    repo.git(&["add", "-A"]);
    let name = format!("user.name={who}");
    let email = format!("user.email={}@leo.invalid", who.to_lowercase());
    repo.git(&["-c", &name, "-c", &email, "commit", "-q", "-m", message]);
    repo.git(&["rev-parse", "HEAD"])
}

/// A scratch repository with the two-lane flow for a bundle stored in `<tmp>/bundles`,
/// and a trail at `<tmp>/leo.db` recording both handoffs and PLAN's PASS.
struct Flow {
    repo: ScratchRepo,
    tmp: tempfile::TempDir,
    bundle: Sha256Digest,
}

fn flow() -> Flow {
    let tmp = tempfile::tempdir().unwrap();
    // Existence is checked by hash; reading the bundle (--verify-bundles) is the library's
    // test (leo-gates tests/history.rs).
    let bytes = b"artifact.tar.gz bytes";
    let bundle = Sha256Digest::of(bytes);
    std::fs::create_dir(tmp.path().join("bundles")).unwrap();
    std::fs::write(tmp.path().join("bundles/artifact.tar.gz"), bytes).unwrap();

    let repo = ScratchRepo::new();
    repo.write("README.md", "base\n");
    commit_as(&repo, "Lead", "init");
    repo.git(&["checkout", "-q", "-b", "staging/codex-feat"]);
    repo.write("f", "b\n");
    let ready = commit_as(&repo, "Codex", &format!("[CODEX-READY:{bundle}] feat"));
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["checkout", "-q", "-b", "feature/feat"]);
    repo.write("f", "b\n");
    let applied = commit_as(&repo, "Claude", &format!("[CLAUDE-APPLIED:{bundle}] feat"));
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&[
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge PR #1",
        "feature/feat",
    ]);

    let loc = Location::Sqlite(tmp.path().join("leo.db"));
    let pr = PrNumber::new(1).unwrap();
    let handoff = |id: &str, stage, commit: &str, branch: &str| {
        Event::new(
            id.parse().unwrap(),
            Action::CreatePr,
            Timestamp::from_unix_micros(1),
            HandoffEvent {
                stage,
                bundle_hash: bundle,
                commit: commit.parse().unwrap(),
                branch: Text::new("branch", branch).unwrap(),
                pr_number: Some(pr),
            },
        )
    };
    let mut enforcer = EnforcerHandle::open(&loc, None).unwrap();
    enforcer
        .append_batch([
            handoff(
                "ready",
                HandoffStage::CodexReady,
                &ready,
                "staging/codex-feat",
            ),
            handoff(
                "applied",
                HandoffStage::ClaudeApplied,
                &applied,
                "feature/feat",
            ),
        ])
        .unwrap();
    drop(enforcer);
    let pass = VerificationResult {
        pr_number: pr,
        verdict: ScoredVerdict::new(PlanVerdict::Pass, Confidence::new(90).unwrap()).unwrap(),
        inputs: vec![VerificationInput {
            name: "bundle".into(),
            digest: bundle,
        }],
        summary: Text::new("summary", "all sub-checks pass").unwrap(),
    };
    SupervisorHandle::open(&loc, None)
        .unwrap()
        .append(Event::new(
            "verdict".parse().unwrap(),
            Action::IssueVerdict,
            Timestamp::from_unix_micros(2),
            pass,
        ))
        .unwrap();
    Flow { repo, tmp, bundle }
}

impl Flow {
    fn run(&self, extra: &[&str]) -> Output {
        let repo = self.repo.path().to_str().unwrap();
        let mut args = vec!["audit", "history", "--repo", repo];
        args.extend_from_slice(extra);
        leo(self.tmp.path(), &args)
    }
}

#[test]
fn a_clean_history_exits_0_with_a_json_report() {
    let f = flow();
    let o = f.run(&["--json", "--db", "sqlite:leo.db", "--bundles", "bundles"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let v = common::json_of(&o);
    assert_eq!(v["ok"], true);
    assert_eq!(v["violations"], serde_json::json!([]));
    assert_eq!(
        (
            v["codex_ready"].as_u64(),
            v["claude_applied"].as_u64(),
            v["merged"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );
    let c = &v["coverage"];
    assert_eq!(
        (
            &c["store"],
            &c["bundles"],
            &c["bundle_verification"],
            &c["merges"]
        ),
        (&true.into(), &true.into(), &false.into(), &true.into())
    );
}

#[test]
fn violations_exit_1_and_are_listed() {
    let f = flow();
    // A change merged straight into main, bypassing the lanes.
    f.repo.git(&["checkout", "-q", "-b", "hotfix"]);
    f.repo.write("g", "x\n");
    commit_as(&f.repo, "Claude", "hotfix");
    f.repo.git(&["checkout", "-q", "main"]);
    f.repo
        .git(&["merge", "-q", "--no-ff", "-m", "Merge hotfix", "hotfix"]);
    let merge = f.repo.git(&["rev-parse", "HEAD"]);

    let o = f.run(&["--json", "--db", "sqlite:leo.db"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = common::json_of(&o);
    assert_eq!(v["ok"], false);
    assert_eq!(v["violations"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["violations"][0]["kind"], "merge_without_handoff");
    assert_eq!(v["violations"][0]["commit"], merge);

    // Text mode: one line per violation, a summary, and exit 1 again.
    let o = f.run(&[]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("brings in no [CLAUDE-APPLIED] commit"),
        "{out}"
    );
    assert!(
        out.contains("FAILED") && out.contains("1 violations"),
        "{out}"
    );
    // Without --db the record checks are skipped, and said to be.
    assert!(String::from_utf8_lossy(&o.stderr).contains("not checked: handoff records"));
}

#[test]
fn a_missing_bundle_is_a_violation_when_bundles_are_given() {
    let f = flow();
    std::fs::remove_file(f.tmp.path().join("bundles/artifact.tar.gz")).unwrap();
    let o = f.run(&["--json", "--bundles", "bundles"]);
    assert_eq!(o.status.code(), Some(1));
    let v = common::json_of(&o);
    assert_eq!(v["violations"][0]["kind"], "bundle_missing");
    assert_eq!(v["violations"][0]["searched"], "directory");
    assert_eq!(
        v["violations"][0]["marker"],
        format!("[CLAUDE-APPLIED:{}]", f.bundle)
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    let f = flow();
    let dir = f.tmp.path();
    // Not a repository.
    let o = leo(dir, &["--json", "audit", "history", "--repo", "bundles"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(common::json_of(&o)["kind"], "error");
    // An unknown revision, a missing bundle directory, a bad store location.
    for extra in [
        &["--rev", "no-such-branch"][..],
        &["--bundles", "no-such-dir"][..],
        &["--db", "mysql://x/y"][..],
        &["--db", "sqlite:missing.db"][..],
        // --verify-bundles needs --bundles.
        &["--verify-bundles"][..],
        // The walk limit is a typed error, not a partial audit.
        &["--max-commits", "2"][..],
    ] {
        let o = f.run(extra);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{extra:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// With `--trust` the trail is verified before any record is believed: an edited row is a
/// verification failure (exit 1). Without it the report says the store was not verified.
#[test]
fn the_trail_is_verified_with_trust_and_flagged_unverified_without() {
    let f = flow();
    let key = leo_store::NoteSigner::generate("leo.test/cli")
        .unwrap()
        .verifier();
    std::fs::write(f.tmp.path().join("ckpt.pub"), key.to_string()).unwrap();
    let verified = f.run(&["--json", "--db", "sqlite:leo.db", "--trust", "ckpt.pub"]);
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let c = &common::json_of(&verified)["coverage"];
    assert_eq!(
        (&c["store"], &c["store_verified"]),
        (&true.into(), &true.into())
    );
    // Only a store: no bundle directory was searched.
    assert_eq!(c["bundles"], false);

    let unverified = f.run(&["--json", "--db", "sqlite:leo.db"]);
    assert_eq!(unverified.status.code(), Some(0));
    assert_eq!(
        common::json_of(&unverified)["coverage"]["store_verified"],
        false
    );
    let text = f.run(&["--db", "sqlite:leo.db"]);
    assert!(
        String::from_utf8_lossy(&text.stderr).contains("audit trail was NOT verified"),
        "{}",
        String::from_utf8_lossy(&text.stderr)
    );

    let conn = leo_store::sqlite::Connection::open(f.tmp.path().join("leo.db")).unwrap();
    conn.execute_batch(
        "DROP TRIGGER leo_handoff_tracking_no_update; \
         UPDATE leo_handoff_tracking SET branch = 'feature/forged' WHERE branch = 'feature/feat'",
    )
    .unwrap();
    drop(conn);
    let o = f.run(&["--json", "--db", "sqlite:leo.db", "--trust", "ckpt.pub"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(common::json_of(&o)["kind"], "verification_failed");
    // --trust without --db is a usage error.
    assert_eq!(f.run(&["--trust", "ckpt.pub"]).status.code(), Some(2));
}
