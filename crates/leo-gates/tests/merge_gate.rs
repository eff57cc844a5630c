//! The merge gate: PASS or LEAD approval *for this bundle hash*, and every required check
//! passed on the head commit. Plus LEAD decisions and merge priority.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use leo_artifact::PlanVerdict;
use leo_gates::*;

fn green_report() -> ChecksReport {
    let runs: Vec<GateRun> = sop_contexts()
        .iter()
        .map(|c| run(c, HEAD, GateStatus::Success, 1, Some(2)))
        .collect();
    RequiredChecks::default().evaluate(&commit(HEAD), &runs)
}

fn record(report: SupervisorReport, for_bundle: u8, head: char) -> VerdictRecord {
    let input = VerdictInput {
        sub_checks: report.sub_checks,
        requirements: report.requirements,
        resolution_rounds: report.resolution_rounds,
        gates: GateFacts::from_report(t(0), &green_report()),
        evaluated_at: t(10),
    };
    VerdictRecord::issue(
        "PRD-42".parse().unwrap(),
        bundle(for_bundle),
        commit(head),
        actor(Role::Plan).identity,
        VerdictPolicy::default(),
        input,
    )
    .unwrap()
}

fn lead_record(kind: LeadDecisionKind, reviewed: PlanVerdict, for_bundle: u8) -> LeadRecord {
    LeadRecord {
        change: "PRD-42".parse().unwrap(),
        bundle: bundle(for_bundle),
        reviewed,
        decision: LeadDecision::new(kind, "accepted").unwrap(),
        lead: actor(Role::Lead),
        at: t(11),
    }
}

fn gate(
    verdict: Option<&VerdictRecord>,
    lead: Option<&LeadRecord>,
    checks: &ChecksReport,
) -> Result<MergeAuthority> {
    merge_gate(&MergeEvidence {
        bundle: &bundle(1),
        head: &commit(HEAD),
        verdict,
        lead,
        checks,
    })
}

#[test]
fn merge_attempts_without_pass_are_refused() {
    // Through the workflow: no verdict yet, and a CONDITIONAL_PASS without LEAD.
    let mut fx = Fx::new().gates_green();
    assert!(matches!(
        fx.merge(),
        Err(Error::IllegalTransition {
            from: Some(LabelState::GatesPassing),
            to: LabelState::Merged,
            ..
        })
    ));
    let mut fx = Fx::new().verdict(cp_report(), PlanVerdict::ConditionalPass);
    assert!(matches!(fx.merge(), Err(Error::IllegalTransition { .. })));
    assert_eq!(fx.wf.state(), LabelState::GatesPassing);
    assert_eq!(
        fx.sink.refusals().last().unwrap().operation,
        Operation::Merge
    );

    // The gate itself, on any evidence.
    let checks = green_report();
    assert!(matches!(
        gate(None, None, &checks),
        Err(Error::MergeNotAuthorized { verdict: None })
    ));
    let fail = record(fail_report(), 1, HEAD);
    assert!(matches!(
        gate(Some(&fail), None, &checks),
        Err(Error::MergeNotAuthorized {
            verdict: Some(PlanVerdict::Fail)
        })
    ));
    let cp = record(cp_report(), 1, HEAD);
    assert!(matches!(
        gate(Some(&cp), None, &checks),
        Err(Error::MergeNotAuthorized {
            verdict: Some(PlanVerdict::ConditionalPass)
        })
    ));
    let reject = lead_record(LeadDecisionKind::Reject, PlanVerdict::ConditionalPass, 1);
    assert!(matches!(
        gate(Some(&cp), Some(&reject), &checks),
        Err(Error::MergeNotAuthorized { .. })
    ));
    let approve = lead_record(LeadDecisionKind::Approve, PlanVerdict::ConditionalPass, 1);
    assert_eq!(
        gate(Some(&cp), Some(&approve), &checks).unwrap(),
        MergeAuthority::Lead(LeadDecisionKind::Approve)
    );
    let pass = record(pass_report(), 1, HEAD);
    assert_eq!(
        gate(Some(&pass), None, &checks).unwrap(),
        MergeAuthority::PlanPass
    );
}

#[test]
fn pass_for_a_different_bundle_hash_is_refused() {
    let checks = green_report();
    let other = record(pass_report(), 2, HEAD);
    let err = gate(Some(&other), None, &checks).unwrap_err();
    assert!(
        matches!(err, Error::VerdictForOtherBundle { expected, found } if expected == bundle(1) && found == bundle(2))
    );
    let other_head = record(pass_report(), 1, 'c');
    assert!(matches!(
        gate(Some(&other_head), None, &checks),
        Err(Error::VerdictForOtherCommit { .. })
    ));
    let cp = record(cp_report(), 1, HEAD);
    let approval_for_other =
        lead_record(LeadDecisionKind::Approve, PlanVerdict::ConditionalPass, 2);
    assert!(matches!(
        gate(Some(&cp), Some(&approval_for_other), &checks),
        Err(Error::LeadDecisionForOtherBundle { .. })
    ));
    // An approval recorded against another verdict kind does not count either.
    let esc = record(escalate_report(), 1, HEAD);
    let approve_cp = lead_record(LeadDecisionKind::Approve, PlanVerdict::ConditionalPass, 1);
    assert!(matches!(
        gate(Some(&esc), Some(&approve_cp), &checks),
        Err(Error::DecisionNotAllowed { .. })
    ));

    // Through the workflow: the merge machinery names the bundle it merges.
    let mut fx = Fx::new().ready();
    let at = fx.tick();
    let err = fx
        .wf
        .merge(&actor(Role::System), &bundle(2), at, &mut fx.sink)
        .unwrap_err();
    assert!(
        matches!(err, Error::BundleMismatch { expected, found } if expected == bundle(1) && found == bundle(2))
    );
    assert_eq!(fx.wf.state(), LabelState::ReadyToMerge);
    assert_eq!(fx.merge().unwrap(), MergeAuthority::PlanPass);
}

#[test]
fn a_forged_pass_is_refused() {
    let mut forged = record(fail_report(), 1, HEAD);
    forged.assessment = record(pass_report(), 1, HEAD).assessment;
    assert!(matches!(
        gate(Some(&forged), None, &green_report()),
        Err(Error::VerdictMismatch {
            recorded: PlanVerdict::Pass,
            ..
        })
    ));
}

#[test]
fn every_required_check_must_have_passed_on_the_head_commit() {
    let pass = record(pass_report(), 1, HEAD);
    let runs: Vec<GateRun> = sop_contexts()
        .iter()
        .map(|c| run(c, 'c', GateStatus::Success, 1, Some(2)))
        .collect();
    let on_other_commit = RequiredChecks::default().evaluate(&commit(HEAD), &runs);
    let err = gate(Some(&pass), None, &on_other_commit).unwrap_err();
    assert!(matches!(&err, Error::RequiredChecksNotPassed { unmet, .. } if unmet.len() == 4));
    let report_for_other = RequiredChecks::default().evaluate(&commit('c'), &runs);
    assert!(matches!(
        gate(Some(&pass), None, &report_for_other),
        Err(Error::GateRunForOtherCommit { .. })
    ));

    // A failed re-run after PASS blocks the merge until a later run passes.
    let mut fx = Fx::new().ready();
    let slsa = "SLSA Verification / Verify SLSA Provenance";
    let at = fx.tick();
    fx.wf
        .record_gate_run(
            &actor(Role::Plan),
            run(slsa, HEAD, GateStatus::Failure, fx.now, Some(fx.now)),
            at,
            &mut fx.sink,
        )
        .unwrap();
    let err = fx.merge().unwrap_err();
    assert!(
        matches!(&err, Error::RequiredChecksNotPassed { unmet, .. } if unmet[0].contains("Failure"))
    );
    let at = fx.tick();
    fx.wf
        .record_gate_run(
            &actor(Role::Plan),
            run(slsa, HEAD, GateStatus::Success, fx.now, Some(fx.now)),
            at,
            &mut fx.sink,
        )
        .unwrap();
    assert_eq!(fx.merge().unwrap(), MergeAuthority::PlanPass);
    // Runs for another commit are refused outright.
    let mut fx = Fx::new().applied();
    let at = fx.tick();
    let err = fx
        .wf
        .record_gate_run(
            &actor(Role::Plan),
            run(slsa, 'c', GateStatus::Success, 0, Some(1)),
            at,
            &mut fx.sink,
        )
        .unwrap_err();
    assert!(matches!(err, Error::GateRunForOtherCommit { .. }));
}

#[test]
fn lead_decisions() {
    // CONDITIONAL_PASS → approve → merge on LEAD's authority.
    let mut fx = Fx::new()
        .verdict(cp_report(), PlanVerdict::ConditionalPass)
        .lead(LeadDecisionKind::Approve)
        .unwrap();
    let rec = fx.wf.lead_decision().unwrap();
    assert_eq!(
        (
            rec.bundle,
            rec.reviewed,
            rec.decision.justification.as_str()
        ),
        (bundle(1), PlanVerdict::ConditionalPass, "reviewed by LEAD")
    );
    assert_eq!(
        fx.merge().unwrap(),
        MergeAuthority::Lead(LeadDecisionKind::Approve)
    );
    // ESCALATE → override → merge.
    let mut fx = Fx::new()
        .verdict(escalate_report(), PlanVerdict::Escalate)
        .lead(LeadDecisionKind::Override)
        .unwrap();
    assert_eq!(
        fx.merge().unwrap(),
        MergeAuthority::Lead(LeadDecisionKind::Override)
    );
    // Nothing to review.
    let mut fx = Fx::new().gates_green();
    let err = fx
        .wf
        .lead_decide(
            &actor(Role::Lead),
            LeadDecision::new(LeadDecisionKind::Override, "go").unwrap(),
            t(99),
            &mut fx.sink,
        )
        .unwrap_err();
    assert!(matches!(err, Error::NoReviewPending { verdict: None }));
    // An override without a written justification is refused before it reaches a change.
    assert!(matches!(
        LeadDecision::new(LeadDecisionKind::Override, "  "),
        Err(Error::JustificationRequired {
            decision: LeadDecisionKind::Override
        })
    ));
    // A superseding verdict clears the LEAD decision.
    let mut fx = Fx::new().verdict(cp_report(), PlanVerdict::ConditionalPass);
    let at = fx.tick();
    assert_eq!(
        fx.wf
            .issue_verdict(&actor(Role::Plan), pass_report(), at, &mut fx.sink)
            .unwrap(),
        PlanVerdict::Pass
    );
    assert!(fx.wf.lead_decision().is_none());
    assert_eq!(fx.merge().unwrap(), MergeAuthority::PlanPass);
}

#[test]
fn merge_order_follows_lead_priority_then_readiness() {
    let mut a = Fx::new().ready();
    let mut b = Fx::new().ready();
    b.now += 5;
    let c = Fx::new().ready();
    let not_ready = Fx::new().applied();
    let at = b.tick();
    b.wf.set_priority(&actor(Role::Lead), Priority::Critical, at, &mut b.sink)
        .unwrap();
    let at = a.tick();
    a.wf.set_priority(&actor(Role::Lead), Priority::Low, at, &mut a.sink)
        .unwrap();
    let all = [&a.wf, &b.wf, &c.wf, &not_ready.wf];
    let order: Vec<Priority> = merge_order(all).iter().map(|w| w.priority()).collect();
    assert_eq!(order, [Priority::Critical, Priority::Normal, Priority::Low]);
    assert!(matches!(
        a.wf.set_priority(&actor(Role::Plan), Priority::High, at, &mut a.sink),
        Err(Error::NotAuthorized {
            role: Role::Plan,
            action: Action::EscalationReview
        })
    ));
}
