//! The SOP §7.1 history audit on real git histories (built with `git` via leo-testkit, and
//! with libgit2 where commit times matter) and a real SQLite audit trail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use leo_artifact::{BundleInput, CommitSha, PlanVerdict, Revisions, Sha256Digest};
use leo_gates::Error;
use leo_gates::history::{
    BundleSource, HistoryOptions, HistoryReport, TrailSource, Violation, audit_history,
};
use leo_store::record::{
    ApprovalDecision, ApprovalOutcome, Confidence, HandoffEvent, HandoffStage, ScoredVerdict,
    VerificationInput, VerificationResult,
};
use leo_store::{
    Action, BuilderHandle, EnforcerHandle, Event, LeadHandle, Location, PrNumber, SupervisorHandle,
    Text, Timestamp,
};
use leo_testkit::ScratchRepo;

const CODEX: (&str, &str) = ("Codex", "codex@leo.invalid");
const CLAUDE: (&str, &str) = ("Claude", "claude@leo.invalid");
const LEAD: (&str, &str) = ("Lead", "lead@leo.invalid");

/// `git add -A && git commit` as `who`; returns the commit id.
fn commit_as(repo: &ScratchRepo, who: (&str, &str), message: &str) -> String {
    repo.git(&["add", "-A"]);
    let name = format!("user.name={}", who.0);
    let email = format!("user.email={}", who.1);
    repo.git(&["-c", &name, "-c", &email, "commit", "-q", "-m", message]);
    repo.git(&["rev-parse", "HEAD"])
}

/// A real, verifiable bundle; returns its bytes and hash.
fn bundle() -> (Vec<u8>, Sha256Digest) {
    let sha = |c: char| c.to_string().repeat(40).parse::<CommitSha>().unwrap();
    let input = BundleInput {
        revisions: Revisions {
            base: sha('a'),
            head: sha('b'),
            merge_base: sha('c'),
        },
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        patch: b"diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n".to_vec(),
        sbom: br#"{"bomFormat":"CycloneDX"}"#.to_vec(),
        attestation: br#"{"payloadType":"x"}"#.to_vec(),
        rollback: b"# Rollback notes\n".to_vec(),
    };
    let mut bytes = Vec::new();
    let digest = input.write(&mut bytes).unwrap();
    (bytes, digest)
}

/// The SOP's two-lane flow on a scratch repository.
struct TwoLane {
    repo: ScratchRepo,
    bundle: Sha256Digest,
    bundle_bytes: Vec<u8>,
    ready: String,
    applied: String,
    merge: String,
}

/// `init` on main; Codex's `[CODEX-READY]` on `staging/codex-feat`; Claude's
/// `[CLAUDE-APPLIED]` on `feature/feat` cut from main; LEAD merges it with `--no-ff`.
fn two_lane_with(ready_branch: &str, applier: (&str, &str)) -> TwoLane {
    let repo = ScratchRepo::new();
    let (bundle_bytes, bundle) = bundle();
    repo.write("README.md", "base\n");
    commit_as(&repo, LEAD, "init");
    repo.git(&["checkout", "-q", "-b", ready_branch]);
    repo.write("src/feature.txt", "feature\n");
    let ready = commit_as(&repo, CODEX, &format!("[CODEX-READY:{bundle}] add feature"));
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["checkout", "-q", "-b", "feature/feat"]);
    repo.write("src/feature.txt", "feature\n");
    let applied = commit_as(
        &repo,
        applier,
        &format!("[CLAUDE-APPLIED:{bundle}] add feature"),
    );
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&[
        "-c",
        "user.name=Lead",
        "-c",
        "user.email=lead@leo.invalid",
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge PR #1",
        "feature/feat",
    ]);
    let merge = repo.git(&["rev-parse", "HEAD"]);
    TwoLane {
        repo,
        bundle,
        bundle_bytes,
        ready,
        applied,
        merge,
    }
}

fn two_lane() -> TwoLane {
    two_lane_with("staging/codex-feat", CLAUDE)
}

/// A bundle directory holding `bytes` as `artifact.tar.gz`.
fn bundle_dir(bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pr-1")).unwrap();
    std::fs::write(dir.path().join("pr-1/artifact.tar.gz"), bytes).unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"not a bundle").unwrap();
    dir
}

fn opts(bundles: Option<&Path>) -> HistoryOptions {
    HistoryOptions {
        bundles: bundles.map(Path::to_path_buf),
        verify_bundles: true,
        ..HistoryOptions::default()
    }
}

fn pr() -> PrNumber {
    PrNumber::new(1).unwrap()
}

fn handoff(
    id: &str,
    stage: HandoffStage,
    bundle: Sha256Digest,
    commit: &str,
    branch: &str,
) -> Event<HandoffEvent> {
    Event::new(
        id.parse().unwrap(),
        Action::CreatePr,
        Timestamp::from_unix_micros(1),
        HandoffEvent {
            stage,
            bundle_hash: bundle,
            commit: commit.parse().unwrap(),
            branch: Text::new("branch", branch).unwrap(),
            pr_number: Some(pr()),
        },
    )
}

fn verdict(
    id: &str,
    verdict: PlanVerdict,
    confidence: u8,
    bundle: Sha256Digest,
) -> Event<VerificationResult> {
    Event::new(
        id.parse().unwrap(),
        Action::IssueVerdict,
        Timestamp::from_unix_micros(2),
        VerificationResult {
            pr_number: pr(),
            verdict: ScoredVerdict::new(verdict, Confidence::new(confidence).unwrap()).unwrap(),
            inputs: vec![VerificationInput {
                name: "bundle".into(),
                digest: bundle,
            }],
            summary: Text::new("summary", "sub-checks done").unwrap(),
        },
    )
}

fn lead(id: &str, decision: ApprovalOutcome) -> Event<ApprovalDecision> {
    Event::new(
        id.parse().unwrap(),
        Action::EscalationReview,
        Timestamp::from_unix_micros(3),
        ApprovalDecision {
            pr_number: pr(),
            decision,
            justification: Text::new("justification", "minor issues accepted").unwrap(),
        },
    )
}

/// What the store holds for a flow.
#[derive(Clone, Copy)]
struct Recorded {
    ready: bool,
    applied: bool,
    verdict: Option<PlanVerdict>,
    lead: Option<ApprovalOutcome>,
}

const ALL_RECORDED: Recorded = Recorded {
    ready: true,
    applied: true,
    verdict: Some(PlanVerdict::Pass),
    lead: None,
};

/// A SQLite trail for `flow`, written through the role handles.
fn trail(flow: &TwoLane, rec: Recorded) -> (tempfile::TempDir, Location) {
    let dir = tempfile::tempdir().unwrap();
    let loc = Location::Sqlite(dir.path().join("leo.db"));
    let mut enforcer = EnforcerHandle::open(&loc, None).unwrap();
    if rec.ready {
        let ev = handoff(
            "h-ready",
            HandoffStage::CodexReady,
            flow.bundle,
            &flow.ready,
            "staging/codex-feat",
        );
        enforcer.append(ev).unwrap();
    }
    if rec.applied {
        let ev = handoff(
            "h-applied",
            HandoffStage::ClaudeApplied,
            flow.bundle,
            &flow.applied,
            "feature/feat",
        );
        enforcer.append(ev).unwrap();
    }
    drop(enforcer);
    if let Some(v) = rec.verdict {
        let confidence = if v == PlanVerdict::Pass { 92 } else { 70 };
        let mut plan = SupervisorHandle::open(&loc, None).unwrap();
        plan.append(verdict("v-1", v, confidence, flow.bundle))
            .unwrap();
    }
    if let Some(d) = rec.lead {
        LeadHandle::open(&loc, None)
            .unwrap()
            .append(lead("l-1", d))
            .unwrap();
    }
    (dir, loc)
}

fn audit(flow: &TwoLane, rec: Option<Recorded>, bundles: Option<&Path>) -> HistoryReport {
    let trail = rec.map(|r| trail(flow, r));
    let mut reader = trail
        .as_ref()
        .map(|(_, loc)| BuilderHandle::open(loc).unwrap());
    let source = reader.as_deref_mut().map(|reader| TrailSource {
        reader,
        trusted: None,
    });
    audit_history(flow.repo.path(), source, &opts(bundles)).unwrap()
}

fn sha(s: &str) -> CommitSha {
    s.parse().unwrap()
}

#[test]
fn a_clean_two_lane_history_passes_every_check() {
    let flow = two_lane();
    let dir = bundle_dir(&flow.bundle_bytes);
    let report = audit(&flow, Some(ALL_RECORDED), Some(dir.path()));
    assert!(report.is_clean(), "{:#?}", report.violations);
    assert_eq!(
        (report.codex_ready, report.claude_applied, report.merged),
        (1, 1, 1)
    );
    assert!(report.commits_walked >= 4, "{}", report.commits_walked);
    let c = report.coverage;
    assert!(c.bundles && c.bundle_verification && c.store && c.merges && !c.signing_keys);
}

#[test]
fn conditional_pass_needs_a_later_lead_approval() {
    let flow = two_lane();
    let cond = Recorded {
        verdict: Some(PlanVerdict::ConditionalPass),
        ..ALL_RECORDED
    };
    let approved = audit(
        &flow,
        Some(Recorded {
            lead: Some(ApprovalOutcome::Approved),
            ..cond
        }),
        None,
    );
    assert!(approved.is_clean(), "{:#?}", approved.violations);

    let report = audit(&flow, Some(cond), None);
    assert_eq!(
        report.violations,
        vec![Violation::MergedWithoutPass {
            commit: sha(&flow.applied),
            marker: leo_gates::history::MarkerRef::new(HandoffStage::ClaudeApplied, flow.bundle),
            pr: Some(pr()),
            verdict: Some(PlanVerdict::ConditionalPass),
        }]
    );
    // LEAD may not merely approve an ESCALATE (only override it), nor rescue a FAIL.
    for (v, d) in [
        (PlanVerdict::Escalate, ApprovalOutcome::Approved),
        (PlanVerdict::Fail, ApprovalOutcome::Override),
    ] {
        let rec = Recorded {
            verdict: Some(v),
            lead: Some(d),
            ..ALL_RECORDED
        };
        let report = audit(&flow, Some(rec), None);
        assert!(
            matches!(report.violations.as_slice(), [Violation::MergedWithoutPass { verdict: Some(got), .. }] if *got == v),
            "{v}: {:#?}",
            report.violations
        );
    }
}

#[test]
fn merged_change_without_any_verdict_is_flagged() {
    let flow = two_lane();
    let rec = Recorded {
        verdict: None,
        ..ALL_RECORDED
    };
    let report = audit(&flow, Some(rec), None);
    assert!(matches!(
        report.violations.as_slice(),
        [Violation::MergedWithoutPass {
            verdict: None,
            pr: Some(_),
            ..
        }]
    ));
}

#[test]
fn applied_without_codex_ready_is_flagged() {
    let repo = ScratchRepo::new();
    let (_, h) = bundle();
    repo.write("a", "1");
    commit_as(&repo, LEAD, "init");
    repo.git(&["checkout", "-q", "-b", "feature/x"]);
    repo.write("a", "2");
    let applied = commit_as(&repo, CLAUDE, &format!("[CLAUDE-APPLIED:{h}] x"));
    let report = audit_history(repo.path(), None, &HistoryOptions::default()).unwrap();
    assert_eq!(
        report.violations,
        vec![Violation::MissingCodexReady {
            commit: sha(&applied),
            marker: leo_gates::history::MarkerRef::new(HandoffStage::ClaudeApplied, h),
        }]
    );
    assert!(!report.coverage.store && !report.coverage.bundles);
}

#[test]
fn codex_ready_after_the_applied_commit_is_flagged() {
    // Descendant: the ready commit sits on top of the applied one.
    let repo = ScratchRepo::new();
    let (_, h) = bundle();
    repo.write("a", "1");
    commit_as(&repo, LEAD, "init");
    repo.git(&["checkout", "-q", "-b", "staging/codex-x"]);
    repo.write("a", "2");
    let applied = commit_as(&repo, CLAUDE, &format!("[CLAUDE-APPLIED:{h}] x"));
    repo.write("a", "3");
    let ready = commit_as(&repo, CODEX, &format!("[CODEX-READY:{h}] x"));
    let report = audit_history(repo.path(), None, &HistoryOptions::default()).unwrap();
    assert!(
        report.violations.iter().any(|v| matches!(v,
            Violation::CodexReadyNotEarlier { commit, ready: r, .. } if *commit == sha(&applied) && *r == sha(&ready))),
        "{:#?}",
        report.violations
    );
}

/// Unrelated commits are ordered by committer time: ready at `ready_time`, applied at 2000.
fn unrelated_lanes(ready_time: i64) -> (tempfile::TempDir, Sha256Digest) {
    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    let (_, h) = bundle();
    let tree = repo
        .find_tree(repo.index().unwrap().write_tree().unwrap())
        .unwrap();
    let at =
        |who: (&str, &str), t| git2::Signature::new(who.0, who.1, &git2::Time::new(t, 0)).unwrap();
    let base = repo
        .commit(None, &at(LEAD, 1000), &at(LEAD, 1000), "init", &tree, &[])
        .unwrap();
    let base = repo.find_commit(base).unwrap();
    let ready = repo
        .commit(
            None,
            &at(CODEX, ready_time),
            &at(CODEX, ready_time),
            &format!("[CODEX-READY:{h}] x"),
            &tree,
            &[&base],
        )
        .unwrap();
    let applied = repo
        .commit(
            None,
            &at(CLAUDE, 2000),
            &at(CLAUDE, 2000),
            &format!("[CLAUDE-APPLIED:{h}] x"),
            &tree,
            &[&base],
        )
        .unwrap();
    for (name, oid) in [
        ("main", base.id()),
        ("staging/codex-x", ready),
        ("feature/x", applied),
    ] {
        repo.branch(name, &repo.find_commit(oid).unwrap(), true)
            .unwrap();
    }
    (dir, h)
}

#[test]
fn unrelated_lanes_are_ordered_by_committer_time_same_second_included() {
    for (ready_time, ok) in [(1999, true), (2000, true), (2001, false)] {
        let (dir, _) = unrelated_lanes(ready_time);
        let report = audit_history(dir.path(), None, &HistoryOptions::default()).unwrap();
        assert_eq!(
            report.is_clean(),
            ok,
            "ready at {ready_time}: {:#?}",
            report.violations
        );
        if !ok {
            assert!(matches!(
                report.violations.as_slice(),
                [Violation::CodexReadyNotEarlier { .. }]
            ));
        }
    }
}

#[test]
fn missing_and_invalid_bundles_are_flagged() {
    let flow = two_lane();
    let empty = tempfile::tempdir().unwrap();
    let report = audit(&flow, None, Some(empty.path()));
    assert!(matches!(
        report.violations.as_slice(),
        [Violation::BundleMissing {
            searched: BundleSource::Directory,
            ..
        }]
    ));

    // Without a bundle directory the trail must name the bundle.
    let rec = Recorded {
        ready: false,
        applied: false,
        verdict: None,
        lead: None,
    };
    let report = audit(&flow, Some(rec), None);
    assert!(report.violations.iter().any(|v| matches!(v,
        Violation::BundleMissing { searched: BundleSource::Store, commit, .. } if *commit == sha(&flow.applied))));

    // A file whose hash matches is not enough when verification is asked for: it must read.
    let repo = ScratchRepo::new();
    let junk = b"not a gzip tar".to_vec();
    let h = Sha256Digest::of(&junk);
    repo.write("a", "1");
    commit_as(&repo, LEAD, "init");
    repo.git(&["checkout", "-q", "-b", "staging/codex-j"]);
    repo.write("a", "2");
    commit_as(&repo, CODEX, &format!("[CODEX-READY:{h}] j"));
    repo.git(&["checkout", "-q", "-b", "feature/j"]);
    repo.write("a", "3");
    commit_as(&repo, CLAUDE, &format!("[CLAUDE-APPLIED:{h}] j"));
    let dir = bundle_dir(&junk);
    let report = audit_history(repo.path(), None, &opts(Some(dir.path()))).unwrap();
    assert!(
        matches!(report.violations.as_slice(), [Violation::BundleInvalid { path, .. }] if path.ends_with("pr-1/artifact.tar.gz")),
        "{:#?}",
        report.violations
    );
}

#[test]
fn markers_on_the_wrong_branch_are_flagged() {
    let flow = two_lane_with("codex-feat", CLAUDE);
    let report = audit(&flow, None, None);
    assert_eq!(report.violations.len(), 1, "{:#?}", report.violations);
    match &report.violations[0] {
        Violation::WrongBranch {
            commit,
            expected,
            found,
            marker,
        } => {
            assert_eq!(*commit, sha(&flow.ready));
            assert_eq!(*expected, "staging/codex-*");
            assert_eq!(found, &vec!["codex-feat".to_owned()]);
            assert_eq!(marker.stage, HandoffStage::CodexReady);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_deleted_feature_branch_is_fine_when_the_handoff_record_names_it() {
    let flow = two_lane();
    flow.repo.git(&["branch", "-q", "-D", "feature/feat"]);
    let report = audit(&flow, None, None);
    assert!(
        matches!(report.violations.as_slice(),
            [Violation::WrongBranch { commit, found, .. }] if *commit == sha(&flow.applied) && found == &vec!["main".to_owned()]),
        "{:#?}",
        report.violations
    );
    let report = audit(&flow, Some(ALL_RECORDED), None);
    assert!(report.is_clean(), "{:#?}", report.violations);
}

#[test]
fn markers_without_handoff_records_are_flagged() {
    let flow = two_lane();
    let rec = Recorded {
        ready: false,
        ..ALL_RECORDED
    };
    let report = audit(&flow, Some(rec), None);
    assert_eq!(
        report.violations,
        vec![Violation::HandoffNotRecorded {
            commit: sha(&flow.ready),
            marker: leo_gates::history::MarkerRef::new(HandoffStage::CodexReady, flow.bundle),
            recorded_commits: vec![],
        }]
    );
}

#[test]
fn one_identity_in_both_lanes_is_flagged() {
    let flow = two_lane_with("staging/codex-feat", ("Someone Else", "CODEX@leo.invalid"));
    let report = audit(&flow, None, None);
    assert!(
        matches!(report.violations.as_slice(),
            [Violation::SameIdentity { identity, ready, .. }] if identity == "codex@leo.invalid" && *ready == sha(&flow.ready)),
        "{:#?}",
        report.violations
    );
}

#[test]
fn malformed_markers_and_unmarked_merges_are_flagged() {
    let flow = two_lane();
    flow.repo.git(&["checkout", "-q", "-b", "hotfix"]);
    flow.repo.write("b", "1");
    let bad = commit_as(
        &flow.repo,
        CLAUDE,
        "[CLAUDE-APPLIED:abc123] typo in the hash",
    );
    flow.repo.git(&["checkout", "-q", "main"]);
    flow.repo
        .git(&["merge", "-q", "--no-ff", "-m", "Merge hotfix", "hotfix"]);
    let merge = flow.repo.git(&["rev-parse", "HEAD"]);
    let report = audit(&flow, None, None);
    assert!(report.violations.iter().any(|v| matches!(v,
        Violation::MalformedMarker { commit, reason } if *commit == sha(&bad) && reason.contains("64-character"))));
    assert!(report.violations.iter().any(|v| matches!(v,
        Violation::MergeWithoutHandoff { commit } if *commit == sha(&merge))));
    // The lane merge itself brings in a [CLAUDE-APPLIED] commit.
    assert!(
        !report
            .violations
            .iter()
            .any(|v| *v.commit() == sha(&flow.merge))
    );
    assert_eq!(report.violations.len(), 2, "{:#?}", report.violations);
}

#[test]
fn a_revision_range_limits_the_audit_but_not_the_handoff_lookup() {
    let flow = two_lane();
    let range = |rev: String| HistoryOptions {
        rev: Some(rev),
        ..HistoryOptions::default()
    };
    // `main` holds the applied commit; its [CODEX-READY] lives on the staging branch only.
    let report = audit_history(flow.repo.path(), None, &range("main".into())).unwrap();
    assert_eq!((report.codex_ready, report.claude_applied), (0, 1));
    assert!(report.is_clean(), "{:#?}", report.violations);
    // Only the merge is in range; it brings in the applied commit.
    let report = audit_history(
        flow.repo.path(),
        None,
        &range(format!("{}..main", flow.applied)),
    )
    .unwrap();
    assert_eq!((report.codex_ready, report.claude_applied), (0, 0));
    assert!(report.is_clean(), "{:#?}", report.violations);

    let err = audit_history(flow.repo.path(), None, &range("no-such-branch".into())).unwrap_err();
    assert!(
        matches!(err, Error::Artifact(leo_artifact::Error::Git { .. })),
        "{err}"
    );
}

#[test]
fn limits_are_typed_errors() {
    let flow = two_lane();
    let small = HistoryOptions {
        max_commits: 3,
        ..HistoryOptions::default()
    };
    assert!(matches!(
        audit_history(flow.repo.path(), None, &small),
        Err(Error::TooMany {
            field: "commits walked",
            max: 3
        })
    ));
    let few_branches = HistoryOptions {
        max_branches: 1,
        ..HistoryOptions::default()
    };
    assert!(matches!(
        audit_history(flow.repo.path(), None, &few_branches),
        Err(Error::TooMany {
            field: "branches",
            max: 1
        })
    ));
    let missing: PathBuf = flow.repo.path().join("no-repo-here");
    assert!(matches!(
        audit_history(&missing, None, &HistoryOptions::default()),
        Err(Error::Artifact(leo_artifact::Error::Git { .. }))
    ));
}

#[test]
fn violations_serialize_with_their_kind_and_marker_text() {
    let flow = two_lane();
    let rec = Recorded {
        verdict: None,
        ..ALL_RECORDED
    };
    let report = audit(&flow, Some(rec), None);
    let json = serde_json::to_value(&report).unwrap();
    let v = &json["violations"][0];
    assert_eq!(v["kind"], "merged_without_pass");
    assert_eq!(v["marker"], format!("[CLAUDE-APPLIED:{}]", flow.bundle));
    assert_eq!(v["commit"], flow.applied);
    assert_eq!(v["pr"], 1);
    assert!(v["verdict"].is_null());
    assert!(
        report.violations[0]
            .to_string()
            .contains("without a recorded PASS")
    );
}

/// A trail edited behind the store's back (a row's branch rewritten) is refused when the
/// audit is given trusted keys, before any of its rows is believed; without them the audit
/// runs on the rows as stored and says it did not verify them.
#[test]
fn an_edited_trail_is_refused_when_verified_and_flagged_unverified_otherwise() {
    let flow = two_lane();
    let (_dir, loc) = trail(&flow, ALL_RECORDED);
    let audit_with = |trusted: Option<&[leo_store::NoteVerifier]>| {
        let mut reader = BuilderHandle::open(&loc).unwrap();
        let source = TrailSource {
            reader: &mut reader,
            trusted,
        };
        audit_history(flow.repo.path(), Some(source), &opts(None))
    };
    let clean = audit_with(Some(&[])).unwrap();
    assert!(clean.coverage.store && clean.coverage.store_verified);
    // Only a store was given: no bundle directory was searched.
    assert!(!clean.coverage.bundles);

    let Location::Sqlite(path) = &loc else {
        unreachable!("the test trail is SQLite")
    };
    // Someone with write access to the database file: drops the append-only triggers.
    let conn = leo_store::sqlite::Connection::open(path).unwrap();
    let triggers: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'leo_handoff_tracking'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in triggers {
        conn.execute_batch(&format!("DROP TRIGGER {t}")).unwrap();
    }
    let edited = conn
        .execute(
            "UPDATE leo_handoff_tracking SET branch = 'feature/forged' WHERE branch = 'feature/feat'",
            [],
        )
        .unwrap();
    assert_eq!(edited, 1);
    drop(conn);
    let err = audit_with(Some(&[])).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Store(leo_store::Error::Tampered { table, .. }) if table == "leo_handoff_tracking"
        ),
        "{err:?}"
    );
    let unverified = audit_with(None).unwrap();
    assert!(unverified.coverage.store && !unverified.coverage.store_verified);
}
