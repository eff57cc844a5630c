//! The two lanes end to end on a real SQLite audit trail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod enforcer_support;

use enforcer_support::Fixture;
use leo_artifact::PlanVerdict;
use leo_gates::enforcer::demo::{self, scratch};
use leo_gates::*;
use leo_store::{BuilderHandle, Record, RecordKind};

/// Builder and enforcer lanes: the change reaches `gates_passing` with a feature branch.
fn through_enforcer(f: &Fixture, sink: &mut StoreSink) -> (Workflow, Enforced) {
    let (mut wf, handoff) = f.hand_off("PRD-42", scratch::STAGING, "artifact.tar.gz", sink);
    assert_eq!(wf.state(), LabelState::ClaudeEnforcing);
    let trust = f.trust();
    let sig = f.path("artifact.tar.gz.sig");
    let mut req = f.request(&handoff.bundle_path, "feature/demo");
    req.signature_path = Some(&sig);
    let enforced = f
        .lane(&trust)
        .enforce(&req, &mut wf, f.now(), sink)
        .unwrap();
    assert_eq!(wf.state(), LabelState::GatesPassing);
    assert!(sig.exists());
    (wf, enforced)
}

fn pass_all_gates(
    f: &Fixture,
    wf: &mut Workflow,
    head: &leo_artifact::CommitSha,
    sink: &mut StoreSink,
) {
    for (context, _) in SOP_REQUIRED_CHECKS {
        let context = Line::new("context", &context.replace('*', "42")).unwrap();
        let start = f.now();
        let run = GateRun::new(
            context,
            head.clone(),
            GateStatus::Success,
            start,
            Some(f.now()),
        )
        .unwrap();
        wf.record_gate_run(&f.plan, run, f.now(), sink).unwrap();
    }
}

fn clean_report() -> SupervisorReport {
    let sub_checks = SubChecks::new(
        SubCheckKind::ALL
            .map(|k| SubCheckResult::clean(k, Confidence::percent(95).unwrap()))
            .to_vec(),
    )
    .unwrap();
    SupervisorReport {
        sub_checks,
        requirements: vec![],
        resolution_rounds: 0,
    }
}

#[test]
fn happy_path_reaches_merged_and_the_trail_verifies() {
    let f = Fixture::new();
    let mut sink = f.sink(42);
    let (mut wf, enforced) = through_enforcer(&f, &mut sink);

    // The signature: OpenPGP fallback, with the reason Sigstore was not used.
    let sel = &enforced.signature.selection;
    assert_eq!(sel.backend, leo_sign::Backend::OpenPgp);
    assert!(
        sel.fallback_reason
            .as_deref()
            .unwrap()
            .contains("offline test")
    );
    // The `git apply` peer check: the applied tree is the builder's head tree.
    assert_eq!(enforced.tree_matches_head, Some(true));

    pass_all_gates(&f, &mut wf, &enforced.head, &mut sink);
    let verdict = wf
        .issue_verdict(&f.plan, clean_report(), f.now(), &mut sink)
        .unwrap();
    assert_eq!(verdict, PlanVerdict::Pass);
    let authority = wf
        .merge(&f.system, &enforced.bundle, f.now(), &mut sink)
        .unwrap();
    assert_eq!(authority, MergeAuthority::PlanPass);
    assert_eq!(wf.state(), LabelState::Merged);

    // The trail: every record kind the flow writes, and it verifies.
    let report = BuilderHandle::open(&f.loc)
        .unwrap()
        .verify(&f.verifiers)
        .unwrap();
    assert_eq!(report.unsigned_tail, 0);
    let labels: Vec<String> = f
        .records(RecordKind::LabelTransition)
        .into_iter()
        .filter_map(|e| match e.event.record {
            Record::LabelTransition(t) => Some(t.to.as_str().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(
        labels,
        [
            "codex_building",
            "claude_enforcing",
            "gates_passing",
            "ready_to_merge",
            "merged"
        ]
    );
    let handoffs = f.records(RecordKind::Handoff);
    assert_eq!(handoffs.len(), 2);
    assert_eq!(f.records(RecordKind::GateExecution).len(), 4);
    assert_eq!(f.records(RecordKind::Verification).len(), 1);
    let sigs = f.records(RecordKind::ArtifactSignature);
    assert_eq!(sigs.len(), 1);
    match &sigs[0].event.record {
        Record::ArtifactSignature(s) => {
            assert_eq!(s.bundle_hash, enforced.bundle);
            assert_eq!(s.backend, leo_store::SignatureBackend::Openpgp);
            assert!(s.fallback_reason.is_some());
        }
        other => panic!("{other:?}"),
    }
    // The merge was recorded by the merge step's own handle.
    let merged = f.records(RecordKind::LabelTransition).pop().unwrap();
    assert_eq!(merged.actor, Role::System);
}

#[test]
fn feature_branch_tree_equals_head_tree_by_git_itself() {
    if !leo_testkit::require_tool("git") {
        return;
    }
    let f = Fixture::new();
    let mut sink = f.sink(42);
    let (_wf, enforced) = through_enforcer(&f, &mut sink);
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(&f.repo)
            .output()
            .unwrap()
    };
    let diff = git(&[
        "diff",
        "--quiet",
        enforced.builder_head.as_str(),
        "feature/demo",
    ]);
    assert!(diff.status.success(), "git sees a difference");
    let msg = git(&["log", "-1", "--format=%s", "feature/demo"]);
    let subject = String::from_utf8(msg.stdout).unwrap();
    assert_eq!(
        subject.trim(),
        format!("[CLAUDE-APPLIED:{}] Print a number", enforced.bundle)
    );
    let parent = git(&["rev-parse", "feature/demo~1"]);
    assert_eq!(
        String::from_utf8(parent.stdout).unwrap().trim(),
        f.scratch.base.as_str()
    );
}

#[test]
fn a_merge_without_pass_is_refused_and_recorded() {
    let f = Fixture::new();
    let mut sink = f.sink(42);
    let (mut wf, enforced) = through_enforcer(&f, &mut sink);
    pass_all_gates(&f, &mut wf, &enforced.head, &mut sink);
    let err = wf
        .merge(&f.system, &enforced.bundle, f.now(), &mut sink)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::IllegalTransition {
                to: LabelState::Merged,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(wf.state(), LabelState::GatesPassing);
    let refusals = f.refusals("PRD-42");
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!(refusals[0].attempted_role, Role::System);
    assert_eq!(refusals[0].operation.as_str(), "merge");
    BuilderHandle::open(&f.loc)
        .unwrap()
        .verify(&f.verifiers)
        .unwrap();
}

#[test]
fn a_supervisor_using_the_enforcers_key_is_refused_and_recorded() {
    let f = Fixture::new();
    let mut sink = f.sink(42);
    let (mut wf, enforced) = through_enforcer(&f, &mut sink);
    let impostor = Actor::new(Role::Plan, f.claude.identity.clone());
    let context = Line::new("context", "SLSA Verification / Verify SLSA Provenance").unwrap();
    let start = f.now();
    let run = GateRun::new(
        context,
        enforced.head.clone(),
        GateStatus::Success,
        start,
        Some(f.now()),
    )
    .unwrap();
    let err = wf
        .record_gate_run(&impostor, run, f.now(), &mut sink)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::IdentityReused {
                bound_to: Role::ClaudeExec,
                used_as: Role::Plan,
                ..
            }
        ),
        "{err:?}"
    );
    let refusals = f.refusals("PRD-42");
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].attempted_role, Role::Plan);
    assert!(f.records(RecordKind::GateExecution).is_empty());
}

#[test]
fn the_demo_merges_refuses_the_tampered_bundle_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("leo-demo");
    let mut stages = Vec::new();
    let report = demo::run_demo(&demo::DemoOptions::new(&out), &mut |s| {
        stages.push(s.clone())
    })
    .unwrap();
    assert!(report.ok);
    assert_eq!(report.final_state, LabelState::Merged);
    assert_eq!(report.verdict.as_deref(), Some("PASS"));
    assert_eq!(report.tampered.error_kind, "handoff_digest_mismatch");
    assert_eq!(report.tampered.state, LabelState::NeedsRevision);
    assert!(report.tampered.refusal_recorded);
    assert!(report.main_fast_forwarded);
    for step in 1..=demo::STEPS {
        assert!(stages.iter().any(|s| s.step == step), "no stage {step}");
    }
    for file in [
        "artifact.tar.gz",
        "artifact.tar.gz.sig",
        "tampered.tar.gz",
        "leo.db",
        "summary.json",
        "summary.md",
    ] {
        assert!(out.join(file).exists(), "{file}");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["ok"], true);
    // A second run refuses to overwrite the first.
    let again = demo::run_demo(&demo::DemoOptions::new(&out), &mut |_| {}).unwrap_err();
    assert!(
        matches!(
            again,
            Error::Artifact(leo_artifact::Error::WouldOverwrite { .. })
        ),
        "{again:?}"
    );
}

#[test]
fn a_lead_approval_after_conditional_pass_is_recorded_by_lead() {
    let f = Fixture::new();
    let mut sink = f.sink(42);
    let (mut wf, enforced) = through_enforcer(&f, &mut sink);
    pass_all_gates(&f, &mut wf, &enforced.head, &mut sink);
    let mut report = clean_report();
    let mut results = report.sub_checks.as_slice().to_vec();
    results[4].findings.push(Finding {
        severity: Severity::Minor,
        summary: Line::new("finding", "naming could be clearer").unwrap(),
    });
    report.sub_checks = SubChecks::new(results).unwrap();
    let verdict = wf
        .issue_verdict(&f.plan, report, f.now(), &mut sink)
        .unwrap();
    assert_eq!(verdict, PlanVerdict::ConditionalPass);
    let decision = LeadDecision::new(LeadDecisionKind::Approve, "minor naming only").unwrap();
    wf.lead_decide(&f.lead, decision, f.now(), &mut sink)
        .unwrap();
    let authority = wf
        .merge(&f.system, &enforced.bundle, f.now(), &mut sink)
        .unwrap();
    assert_eq!(authority, MergeAuthority::Lead(LeadDecisionKind::Approve));

    let approvals = f.records(RecordKind::Approval);
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0].actor, Role::Lead);
    match &approvals[0].event.record {
        Record::Approval(a) => {
            assert_eq!(a.decision, leo_store::ApprovalOutcome::Approved);
            assert!(a.justification.as_str().contains(f.lead.identity.as_str()));
        }
        other => panic!("{other:?}"),
    }
    let by_lead = f
        .records(RecordKind::LabelTransition)
        .into_iter()
        .filter(|e| e.actor == Role::Lead)
        .count();
    assert_eq!(by_lead, 1);
    BuilderHandle::open(&f.loc)
        .unwrap()
        .verify(&f.verifiers)
        .unwrap();
}

#[test]
fn a_priority_the_trail_cannot_record_changes_nothing() {
    let f = Fixture::new();
    let mut sink = f.sink(42);
    let (mut wf, _) = through_enforcer(&f, &mut sink);
    let err = wf
        .set_priority(&f.lead, Priority::High, f.now(), &mut sink)
        .unwrap_err();
    assert!(matches!(err, Error::AuditSink { .. }), "{err:?}");
    assert_eq!(wf.priority(), Priority::default());
}

/// Makes the audit trail's database refuse every insert into `table`, as a constraint or a
/// full disk would refuse one record of an operation.
fn refuse_inserts(f: &Fixture, table: &str) -> leo_store::sqlite::Connection {
    let conn = leo_store::sqlite::Connection::open(f.dir.path().join("leo.db")).unwrap();
    conn.execute_batch(&format!(
        "CREATE TRIGGER leo_test_refuse BEFORE INSERT ON {table} \
         BEGIN SELECT RAISE(ABORT, 'refused by the flow test'); END"
    ))
    .unwrap();
    conn
}

/// The store's refusal inside the sink error of a workflow operation.
fn denied_by_database(err: &Error) -> bool {
    match err {
        Error::AuditSink { source } => matches!(
            source.downcast_ref::<leo_store::Error>(),
            Some(leo_store::Error::DeniedByDatabase { message, .. })
                if message.contains("refused by the flow test")
        ),
        _ => false,
    }
}

fn log_size(f: &Fixture) -> u64 {
    let mut b = BuilderHandle::open(&f.loc).unwrap();
    b.verify(&f.verifiers).unwrap();
    b.size().unwrap()
}

/// The apply is a label transition, the `[CLAUDE-APPLIED]` handoff and the artifact
/// signature, in that order: when the signature cannot be recorded, neither can the
/// others, and the workflow, the repository and the signature file stay as they were.
#[test]
fn an_apply_whose_signature_cannot_be_recorded_records_nothing() {
    let f = Fixture::new();
    let mut sink = f.sink(42);
    let (mut wf, handoff) = f.hand_off("PRD-42", scratch::STAGING, "artifact.tar.gz", &mut sink);
    let before = log_size(&f);
    let handoffs = f.records(RecordKind::Handoff).len();
    let conn = refuse_inserts(&f, "leo_artifact_signatures");

    let trust = f.trust();
    let sig = f.path("artifact.tar.gz.sig");
    let mut req = f.request(&handoff.bundle_path, "feature/demo");
    req.signature_path = Some(&sig);
    let err = f
        .lane(&trust)
        .enforce(&req, &mut wf, f.now(), &mut sink)
        .unwrap_err();
    assert!(denied_by_database(&err), "{err:?}");
    assert_eq!(wf.state(), LabelState::ClaudeEnforcing);
    assert_eq!(wf.head(), None);
    assert_eq!(log_size(&f), before);
    assert_eq!(f.records(RecordKind::Handoff).len(), handoffs);
    assert!(f.records(RecordKind::ArtifactSignature).is_empty());
    assert!(
        f.records(RecordKind::LabelTransition)
            .iter()
            .all(|e| !matches!(&e.event.record, Record::LabelTransition(t) if t.to.as_str() == "gates_passing"))
    );
    assert!(!f.branch_exists("feature/demo"));
    assert!(!sig.exists());

    // Once the database accepts it again, the same step records the whole operation.
    conn.execute_batch("DROP TRIGGER leo_test_refuse").unwrap();
    f.lane(&trust)
        .enforce(&req, &mut wf, f.now(), &mut sink)
        .unwrap();
    assert_eq!(wf.state(), LabelState::GatesPassing);
    assert_eq!(log_size(&f), before + 3);
    assert_eq!(f.records(RecordKind::Handoff).len(), handoffs + 1);
    assert_eq!(f.records(RecordKind::ArtifactSignature).len(), 1);
}

/// PLAN's PASS is the verification result, then the transition to `ready_to_merge`: when the
/// transition cannot be recorded, no verdict is on record and none is in the workflow.
#[test]
fn a_verdict_whose_transition_cannot_be_recorded_records_nothing() {
    let f = Fixture::new();
    let mut sink = f.sink(42);
    let (mut wf, enforced) = through_enforcer(&f, &mut sink);
    pass_all_gates(&f, &mut wf, &enforced.head, &mut sink);
    let before = log_size(&f);
    let _conn = refuse_inserts(&f, "leo_label_transitions");

    let err = wf
        .issue_verdict(&f.plan, clean_report(), f.now(), &mut sink)
        .unwrap_err();
    assert!(denied_by_database(&err), "{err:?}");
    assert_eq!(wf.state(), LabelState::GatesPassing);
    assert!(wf.verdict().is_none());
    assert_eq!(log_size(&f), before);
    assert!(f.records(RecordKind::Verification).is_empty());
}

/// Records that two role handles would append cannot be one transaction: the sink refuses
/// the batch before writing any of it.
#[test]
fn a_batch_for_two_role_handles_is_refused_before_anything_is_written() {
    let f = Fixture::new();
    let mut sink = f.sink(42);
    let refusal = |actor: &Actor| {
        AuditEvent::Refusal(Refusal {
            change: "PRD-42".parse().unwrap(),
            actor: actor.clone(),
            operation: Operation::IssueVerdict,
            at: f.now(),
            reason: "not this change's supervisor".into(),
        })
    };
    let err = sink
        .record(&[refusal(&f.plan), refusal(&f.lead)])
        .unwrap_err();
    assert!(
        err.downcast_ref::<leo_gates::enforcer::sink::SinkRefused>()
            .is_some(),
        "{err}"
    );
    assert_eq!(log_size(&f), 0);
    // Each on its own is recorded by its role's handle.
    sink.record(&[refusal(&f.plan)]).unwrap();
    sink.record(&[refusal(&f.lead)]).unwrap();
    let actors: Vec<Role> = f
        .records(RecordKind::Refusal)
        .iter()
        .map(|e| e.actor)
        .collect();
    assert_eq!(actors, [Role::Plan, Role::Lead]);
}

/// Event ids come from what is recorded, not from a counter in the sink: the same gate run
/// written again by a new process (a retry after a crash) is recognised by the store as a
/// duplicate and recorded once; a different run at the same time is a new record.
#[test]
fn a_retried_operation_from_a_new_sink_is_recorded_once() {
    let f = Fixture::new();
    let mut sink = f.sink(42);
    let (mut wf, enforced) = through_enforcer(&f, &mut sink);
    let context = Line::new("context", "SLSA Verification / Verify SLSA Provenance").unwrap();
    let (start, end) = (f.now(), f.now());
    let run = GateRun::new(
        context.clone(),
        enforced.head.clone(),
        GateStatus::Success,
        start,
        Some(end),
    )
    .unwrap();
    let at = f.now();
    wf.record_gate_run(&f.plan, run.clone(), at, &mut sink)
        .unwrap();
    let size = log_size(&f);

    // The process died after the commit and before it knew: a new sink writes it again.
    let event = AuditEvent::GateRun {
        change: "PRD-42".parse().unwrap(),
        actor: f.plan.clone(),
        run,
    };
    let mut retry = f.sink(42);
    retry.record(std::slice::from_ref(&event)).unwrap();
    assert_eq!(
        log_size(&f),
        size,
        "the retried gate run was recorded twice"
    );

    // A failed run of the same check at the same time is another record.
    let failed = GateRun::new(
        context,
        enforced.head.clone(),
        GateStatus::Failure,
        start,
        Some(end),
    )
    .unwrap();
    let other = AuditEvent::GateRun {
        change: "PRD-42".parse().unwrap(),
        actor: f.plan.clone(),
        run: failed,
    };
    retry.record(&[other]).unwrap();
    assert_eq!(log_size(&f), size + 1);
}
