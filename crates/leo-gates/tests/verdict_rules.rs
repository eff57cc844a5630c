//! Each PLAN verdict rule at its boundary: 84.9 / 85.0 %, the 3rd / 4th resolution round,
//! the disagreement spread, and exactly 4 h vs 4 h + 1 s. Times are explicit.
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

const FOUR_H: i64 = 4 * 3600;

fn green() -> GateFacts {
    GateFacts {
        triggered_at: t(0),
        status: GatesStatus::Passed {
            completed_at: t(60),
        },
    }
}

fn input(sub_checks: SubChecks, rounds: u32, gates: GateFacts, at: i64) -> VerdictInput {
    VerdictInput {
        sub_checks,
        requirements: vec![],
        resolution_rounds: rounds,
        gates,
        evaluated_at: t(at),
    }
}

fn verdict_of(sub_checks: SubChecks) -> Assessment {
    evaluate(
        &VerdictPolicy::default(),
        &input(sub_checks, 0, green(), 100),
    )
    .unwrap()
}

#[test]
fn sop_defaults() {
    let p = VerdictPolicy::default();
    assert_eq!(p.pass_threshold.hundredths(), 8500);
    assert_eq!(p.max_resolution_rounds, 3);
    assert_eq!(p.gates_timeout_secs, 14_400);
    assert_eq!(p.weights, Weights::default());
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<VerdictPolicy>(&json).unwrap(), p);
}

#[test]
fn pass_needs_85_point_0_percent() {
    let a = verdict_of(subs([8490; 5]));
    assert_eq!(a.verdict, PlanVerdict::Fail);
    assert_eq!(
        a.reasons,
        [VerdictReason::ConfidenceBelowThreshold {
            aggregate: conf(8490),
            threshold: conf(8500)
        }]
    );
    assert_eq!(verdict_of(subs([8499; 5])).verdict, PlanVerdict::Fail);
    let a = verdict_of(subs([8500; 5]));
    assert_eq!(
        (a.verdict, a.aggregate, a.reasons.len()),
        (PlanVerdict::Pass, conf(8500), 0)
    );
    // The mean is rounded down: 84.998 % is not 85 %.
    let a = verdict_of(subs([8500, 8500, 8500, 8500, 8499]));
    assert_eq!((a.verdict, a.aggregate), (PlanVerdict::Fail, conf(8499)));
}

#[test]
fn weights_are_configuration() {
    let s = subs([9500, 8000, 8000, 8000, 8000]);
    assert_eq!(verdict_of(s.clone()).verdict, PlanVerdict::Fail); // mean 83 %
    let policy = VerdictPolicy {
        weights: Weights {
            security: 6,
            ..Weights::default()
        },
        ..VerdictPolicy::default()
    };
    // (6*95 + 4*80) / 10 = 89 %
    let a = evaluate(&policy, &input(s, 0, green(), 100)).unwrap();
    assert_eq!((a.verdict, a.aggregate), (PlanVerdict::Pass, conf(8900)));
    let policy = VerdictPolicy {
        pass_threshold: conf(9000),
        ..policy
    };
    assert_eq!(
        evaluate(&policy, &input(subs([8900; 5]), 0, green(), 100))
            .unwrap()
            .verdict,
        PlanVerdict::Fail
    );
    let zero = Weights::uniform(0);
    let bad = VerdictPolicy {
        weights: zero,
        ..VerdictPolicy::default()
    };
    assert!(matches!(
        evaluate(&bad, &input(subs([9000; 5]), 0, green(), 100)),
        Err(Error::InvalidConfig {
            field: "weights",
            ..
        })
    ));
}

#[test]
fn findings_by_severity() {
    let a = verdict_of(subs_with(10_000, Severity::Critical));
    assert_eq!(a.verdict, PlanVerdict::Fail);
    assert!(matches!(
        a.reasons[..],
        [VerdictReason::CriticalFinding {
            check: SubCheckKind::Security,
            ..
        }]
    ));
    let a = verdict_of(subs_with(10_000, Severity::Major));
    assert!(matches!(
        (a.verdict, &a.reasons[..]),
        (PlanVerdict::Fail, [VerdictReason::MajorFinding { .. }])
    ));
    let a = verdict_of(subs_with(10_000, Severity::Minor));
    assert!(matches!(
        (a.verdict, &a.reasons[..]),
        (
            PlanVerdict::ConditionalPass,
            [VerdictReason::MinorFinding { .. }]
        )
    ));
    assert_eq!(
        verdict_of(subs_with(10_000, Severity::Info)).verdict,
        PlanVerdict::Pass
    );
    // Minor issues do not rescue a low confidence.
    assert_eq!(
        verdict_of(subs_with(8490, Severity::Minor)).verdict,
        PlanVerdict::Fail
    );
}

#[test]
fn every_requirement_must_be_met() {
    let req = |id: &str, met| Requirement {
        id: Line::new("id", id).unwrap(),
        met,
    };
    let mut i = input(subs([9500; 5]), 0, green(), 100);
    i.requirements = vec![req("AC-1", true), req("AC-2", true)];
    assert_eq!(
        evaluate(&VerdictPolicy::default(), &i).unwrap().verdict,
        PlanVerdict::Pass
    );
    i.requirements.push(req("AC-3", false));
    let a = evaluate(&VerdictPolicy::default(), &i).unwrap();
    assert_eq!(a.verdict, PlanVerdict::Fail);
    assert!(
        matches!(&a.reasons[..], [VerdictReason::RequirementUnmet { id }] if id.as_str() == "AC-3")
    );
}

#[test]
fn a_failed_required_check_fails() {
    let gates = GateFacts {
        triggered_at: t(0),
        status: GatesStatus::Failed {
            context: "SLSA Verification / Verify SLSA Provenance".into(),
        },
    };
    let a = evaluate(
        &VerdictPolicy::default(),
        &input(subs([10_000; 5]), 0, gates, 100),
    )
    .unwrap();
    assert!(matches!(
        (a.verdict, &a.reasons[..]),
        (
            PlanVerdict::Fail,
            [VerdictReason::RequiredCheckFailed { .. }]
        )
    ));
}

/// Four at 100 %, one at `low`: spread = 100 % − low.
fn spread_of(low: u16) -> SubChecks {
    subs([10_000, 10_000, 10_000, 10_000, low])
}

#[test]
fn disagreement_is_a_spread_above_25_points() {
    // Spread exactly 25.00: not a disagreement; mean 95 % → PASS.
    let a = verdict_of(spread_of(7500));
    assert_eq!((a.verdict, a.spread), (PlanVerdict::Pass, conf(2500)));
    // 25.01: disagreement, and no round has been run yet.
    let err = evaluate(
        &VerdictPolicy::default(),
        &input(spread_of(7499), 0, green(), 100),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::ResolutionPending { rounds: 0, max: 3, spread } if spread == conf(2501))
    );
}

#[test]
fn escalate_after_the_third_resolution_round() {
    let p = VerdictPolicy::default();
    let err = evaluate(&p, &input(spread_of(5000), 2, green(), 100)).unwrap_err();
    assert!(matches!(
        err,
        Error::ResolutionPending {
            rounds: 2,
            max: 3,
            ..
        }
    ));
    let a = evaluate(&p, &input(spread_of(5000), 3, green(), 100)).unwrap();
    assert_eq!(a.verdict, PlanVerdict::Escalate);
    assert_eq!(
        a.reasons,
        [VerdictReason::SubChecksDisagree {
            spread: conf(5000),
            rounds: 3
        }]
    );
    // There is no 4th round.
    let err = evaluate(&p, &input(spread_of(5000), 4, green(), 100)).unwrap_err();
    assert!(matches!(
        err,
        Error::TooManyResolutionRounds { rounds: 4, max: 3 }
    ));
    // Agreement reached in round 3 is a normal verdict.
    assert_eq!(
        evaluate(&p, &input(subs([9000; 5]), 3, green(), 100))
            .unwrap()
            .verdict,
        PlanVerdict::Pass
    );
    // The limit is configuration.
    let five = VerdictPolicy {
        max_resolution_rounds: 5,
        ..p
    };
    assert!(matches!(
        evaluate(&five, &input(spread_of(5000), 4, green(), 100)),
        Err(Error::ResolutionPending {
            rounds: 4,
            max: 5,
            ..
        })
    ));
}

#[test]
fn escalate_when_gates_are_not_complete_within_4_hours() {
    let p = VerdictPolicy::default();
    let pending = GateFacts {
        triggered_at: t(0),
        status: GatesStatus::Pending,
    };
    // Exactly 4 h: still within the window, so no verdict yet.
    let err = evaluate(&p, &input(subs([9500; 5]), 0, pending.clone(), FOUR_H)).unwrap_err();
    assert!(matches!(err, Error::GatesPending { deadline } if deadline == t(FOUR_H)));
    // 4 h + 1 s: ESCALATE.
    let a = evaluate(&p, &input(subs([9500; 5]), 0, pending, FOUR_H + 1)).unwrap();
    assert_eq!(
        (a.verdict, &a.reasons[..]),
        (
            PlanVerdict::Escalate,
            &[VerdictReason::GatesTimedOut {
                deadline: t(FOUR_H)
            }][..]
        )
    );
    // Completed at exactly 4 h: in time.
    let at = |s| GateFacts {
        triggered_at: t(0),
        status: GatesStatus::Passed { completed_at: t(s) },
    };
    assert_eq!(
        evaluate(&p, &input(subs([9500; 5]), 0, at(FOUR_H), FOUR_H + 100))
            .unwrap()
            .verdict,
        PlanVerdict::Pass
    );
    // Completed at 4 h + 1 s: too late.
    assert_eq!(
        evaluate(&p, &input(subs([9500; 5]), 0, at(FOUR_H + 1), FOUR_H + 100))
            .unwrap()
            .verdict,
        PlanVerdict::Escalate
    );
    // The timeout is configuration.
    let short = VerdictPolicy {
        gates_timeout_secs: 60,
        ..p
    };
    assert_eq!(
        evaluate(&short, &input(subs([9500; 5]), 0, at(61), 100))
            .unwrap()
            .verdict,
        PlanVerdict::Escalate
    );
}

#[test]
fn a_critical_finding_fails_even_when_escalation_applies() {
    let pending = GateFacts {
        triggered_at: t(0),
        status: GatesStatus::Pending,
    };
    let a = evaluate(
        &VerdictPolicy::default(),
        &input(subs_with(5000, Severity::Critical), 3, pending, FOUR_H + 1),
    )
    .unwrap();
    assert_eq!(a.verdict, PlanVerdict::Fail);
}

#[test]
fn a_verdict_record_can_be_recomputed_and_tampering_is_caught() {
    let i = input(subs_with(9000, Severity::Minor), 1, green(), 100);
    let rec = VerdictRecord::issue(
        "PRD-7".parse().unwrap(),
        bundle(1),
        commit(HEAD),
        Identity::new("plan").unwrap(),
        VerdictPolicy::default(),
        i,
    )
    .unwrap();
    assert_eq!(rec.verdict(), PlanVerdict::ConditionalPass);
    let json = serde_json::to_string(&rec).unwrap();
    let back: VerdictRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(back, rec);
    assert_eq!(back.recompute().unwrap(), rec.assessment);

    let mut forged = rec.clone();
    forged.assessment.verdict = PlanVerdict::Pass;
    assert!(matches!(
        forged.recompute(),
        Err(Error::VerdictMismatch {
            recorded: PlanVerdict::Pass,
            recomputed: PlanVerdict::ConditionalPass
        })
    ));
    // Raising the threshold after the fact changes the recomputation, so it is caught too.
    let mut moved = rec;
    moved.policy.pass_threshold = conf(9500);
    assert!(matches!(
        moved.recompute(),
        Err(Error::VerdictMismatch {
            recomputed: PlanVerdict::Fail,
            ..
        })
    ));
    // Invalid inputs do not deserialize.
    assert!(serde_json::from_str::<SubChecks>("[]").is_err());
}

#[test]
fn workflow_timeout_then_lead_override_still_needs_the_checks() {
    let mut fx = Fx::new().applied(); // triggered at t(2)
    let ctx = sop_contexts();
    for c in &ctx[..3] {
        let at = fx.tick();
        fx.wf
            .record_gate_run(
                &actor(Role::Plan),
                run(c, HEAD, GateStatus::Success, 3, Some(4)),
                at,
                &mut fx.sink,
            )
            .unwrap();
    }
    let err = fx
        .wf
        .issue_verdict(
            &actor(Role::Plan),
            pass_report(),
            t(2 + FOUR_H),
            &mut fx.sink,
        )
        .unwrap_err();
    assert!(matches!(err, Error::GatesPending { deadline } if deadline == t(2 + FOUR_H)));
    let v = fx
        .wf
        .issue_verdict(
            &actor(Role::Plan),
            pass_report(),
            t(3 + FOUR_H),
            &mut fx.sink,
        )
        .unwrap();
    assert_eq!(v, PlanVerdict::Escalate);
    fx.now = 3 + FOUR_H;
    // Approving what PLAN could not verify is an override.
    let err = lead_refused(&mut fx, LeadDecisionKind::Approve);
    assert!(matches!(
        err,
        Error::DecisionNotAllowed {
            decision: LeadDecisionKind::Approve,
            verdict: PlanVerdict::Escalate
        }
    ));
    let mut fx = fx.lead(LeadDecisionKind::Override).unwrap();
    assert_eq!(fx.wf.state(), LabelState::ReadyToMerge);
    let err = fx.merge().unwrap_err();
    assert!(
        matches!(&err, Error::RequiredChecksNotPassed { unmet, .. } if unmet.len() == 1 && unmet[0].contains("Policy Verification"))
    );
    // The late check lands; now the merge goes through on LEAD's authority.
    let at = fx.tick();
    fx.wf
        .record_gate_run(
            &actor(Role::Plan),
            run(&ctx[3], HEAD, GateStatus::Success, 3, Some(fx.now)),
            at,
            &mut fx.sink,
        )
        .unwrap();
    assert_eq!(
        fx.merge().unwrap(),
        MergeAuthority::Lead(LeadDecisionKind::Override)
    );
}

fn lead_refused(fx: &mut Fx, kind: LeadDecisionKind) -> Error {
    let at = fx.tick();
    fx.wf
        .lead_decide(
            &actor(Role::Lead),
            LeadDecision::new(kind, "x").unwrap(),
            at,
            &mut fx.sink,
        )
        .unwrap_err()
}
