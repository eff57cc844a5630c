//! Every SOP §3 transition through the `Workflow` API, legal and illegal.
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

fn fixture(state: LabelState) -> Fx {
    let fx = match state {
        LabelState::CodexBuilding => Fx::new(),
        LabelState::ClaudeEnforcing => Fx::new().handoff(),
        LabelState::GatesPassing => Fx::new().applied(),
        LabelState::ReadyToMerge => Fx::new().ready(),
        LabelState::NeedsRevision => Fx::new().failed(),
        LabelState::Merged => {
            let mut fx = Fx::new().ready();
            fx.merge().unwrap();
            fx
        }
    };
    assert_eq!(fx.wf.state(), state);
    fx
}

/// The transition operations, each with the role allowed to do it and its target.
const OPS: [(Operation, Role, LabelState); 5] = [
    (Operation::Handoff, Role::Codex, LabelState::ClaudeEnforcing),
    (Operation::Apply, Role::ClaudeExec, LabelState::GatesPassing),
    (
        Operation::RefuseBundle,
        Role::ClaudeExec,
        LabelState::NeedsRevision,
    ),
    (
        Operation::ReturnToBuilder,
        Role::Codex,
        LabelState::CodexBuilding,
    ),
    (Operation::Merge, Role::System, LabelState::Merged),
];

#[test]
fn every_transition_operation_from_every_state() {
    let legal = [
        (LabelState::CodexBuilding, Operation::Handoff),
        (LabelState::ClaudeEnforcing, Operation::Apply),
        (LabelState::ClaudeEnforcing, Operation::RefuseBundle),
        (LabelState::NeedsRevision, Operation::ReturnToBuilder),
        (LabelState::ReadyToMerge, Operation::Merge),
    ];
    for from in LabelState::ALL {
        for (op, role, to) in OPS {
            let mut fx = fixture(from);
            let before = fx.sink.events.len();
            let result = attempt(&mut fx, op, &actor(role));
            if legal.contains(&(from, op)) {
                result.unwrap_or_else(|e| panic!("{op} from {from}: {e}"));
                assert_eq!(fx.wf.state(), to);
                let tr = fx.last_transition();
                assert_eq!(
                    (tr.from, tr.to, tr.actor, tr.at),
                    (Some(from), to, role, t(fx.now))
                );
                assert_eq!(tr.change.as_str(), "PRD-42");
                assert_eq!(tr.identity, actor(role).identity);
                assert_eq!(fx.refusals(), 0);
            } else {
                let err = result.expect_err("illegal transition accepted");
                assert!(
                    matches!(err, Error::IllegalTransition { from: Some(f), to: t2, via } if f == from && t2 == to && via == op.action()),
                    "{op} from {from}: {err}"
                );
                assert_eq!(fx.wf.state(), from, "a refused operation changes nothing");
                assert_eq!(
                    fx.sink.events.len(),
                    before + 1,
                    "only the refusal is recorded"
                );
                let refusal = fx.sink.refusals().last().unwrap();
                assert_eq!((refusal.operation, refusal.actor.role), (op, role));
            }
        }
    }
}

#[test]
fn start_records_the_creation() {
    let fx = Fx::new();
    let tr = fx.last_transition();
    assert_eq!(
        (tr.from, tr.to, tr.actor, tr.reason.as_str()),
        (None, LabelState::CodexBuilding, Role::Codex, "Codex starts")
    );
}

#[test]
fn verdict_transitions_carry_the_marker_and_bundle() {
    let fx = Fx::new().ready();
    let tr = fx.last_transition();
    assert_eq!(
        (tr.from, tr.to, tr.actor),
        (
            Some(LabelState::GatesPassing),
            LabelState::ReadyToMerge,
            Role::Plan
        )
    );
    assert_eq!(tr.reason.as_str(), "PLAN-SUPERVISOR: PASS");
    assert_eq!(tr.bundle, Some(bundle(1)));

    let fx = Fx::new().failed();
    let tr = fx.last_transition();
    assert_eq!(
        (tr.from, tr.to, tr.reason.as_str()),
        (
            Some(LabelState::GatesPassing),
            LabelState::NeedsRevision,
            "PLAN-SUPERVISOR: FAIL"
        )
    );
}

#[test]
fn conditional_pass_and_escalate_wait_in_gates_passing_for_lead() {
    for (report, verdict) in [
        (cp_report(), PlanVerdict::ConditionalPass),
        (escalate_report(), PlanVerdict::Escalate),
    ] {
        let fx = Fx::new().verdict(report, verdict);
        assert_eq!(fx.wf.state(), LabelState::GatesPassing);
        assert_eq!(
            fx.last_transition().to,
            LabelState::GatesPassing,
            "no transition for {verdict}"
        );
        let fx = fx.lead(LeadDecisionKind::Reject).unwrap();
        let tr = fx.last_transition();
        assert_eq!(
            (tr.from, tr.to, tr.actor),
            (
                Some(LabelState::GatesPassing),
                LabelState::NeedsRevision,
                Role::Lead
            )
        );
        assert_eq!(tr.reason.as_str(), "LEAD rejected: reviewed by LEAD");
    }
    let fx = Fx::new()
        .verdict(cp_report(), PlanVerdict::ConditionalPass)
        .lead(LeadDecisionKind::Approve)
        .unwrap();
    let tr = fx.last_transition();
    assert_eq!(
        (tr.to, tr.reason.as_str()),
        (LabelState::ReadyToMerge, "LEAD-APPROVED: reviewed by LEAD")
    );
}

#[test]
fn verdict_and_lead_outside_gates_passing_are_wrong_state() {
    for state in [
        LabelState::CodexBuilding,
        LabelState::ClaudeEnforcing,
        LabelState::ReadyToMerge,
        LabelState::NeedsRevision,
        LabelState::Merged,
    ] {
        let mut fx = fixture(state);
        let at = fx.tick();
        let err = fx
            .wf
            .issue_verdict(&actor(Role::Plan), pass_report(), at, &mut fx.sink)
            .unwrap_err();
        assert!(
            matches!(err, Error::WrongState { operation: Operation::IssueVerdict, state: s } if s == state)
        );
        if state != LabelState::ReadyToMerge {
            let r = run("x", HEAD, GateStatus::Success, 0, Some(1));
            let err = fx
                .wf
                .record_gate_run(&actor(Role::Plan), r, at, &mut fx.sink)
                .unwrap_err();
            assert!(matches!(
                err,
                Error::WrongState {
                    operation: Operation::RecordGateRun,
                    ..
                }
            ));
        }
        let err = fx
            .wf
            .lead_decide(
                &actor(Role::Lead),
                LeadDecision::new(LeadDecisionKind::Approve, "ok").unwrap(),
                at,
                &mut fx.sink,
            )
            .unwrap_err();
        assert!(matches!(
            err,
            Error::WrongState {
                operation: Operation::LeadDecision,
                ..
            }
        ));
        assert_eq!(fx.wf.state(), state);
    }
}

#[test]
fn a_full_revision_cycle() {
    let mut fx = Fx::new().failed();
    let at = fx.tick();
    fx.wf
        .return_to_builder(&actor(Role::Codex), at, &mut fx.sink)
        .unwrap();
    assert_eq!(fx.wf.state(), LabelState::CodexBuilding);
    assert!(fx.wf.bundle().is_none() && fx.wf.verdict().is_none() && fx.wf.gate_runs().is_empty());
    // The second revision goes through with a new bundle.
    let at = fx.tick();
    fx.wf
        .handoff(
            &actor(Role::Codex),
            CodexReady {
                bundle: bundle(2),
                commit: commit('c'),
            },
            at,
            &mut fx.sink,
        )
        .unwrap();
    assert_eq!(fx.wf.bundle(), Some(&bundle(2)));
    let labels: Vec<_> = fx.sink.transitions().map(|t| t.to.label()).collect();
    assert_eq!(
        labels,
        [
            "codex_building",
            "claude_enforcing",
            "gates_passing",
            "needs_revision",
            "codex_building",
            "claude_enforcing"
        ]
    );
}

#[test]
fn enforcer_must_apply_and_refuse_the_handed_off_bundle() {
    let mut fx = Fx::new().handoff();
    let at = fx.tick();
    let err = fx
        .wf
        .apply(
            &actor(Role::ClaudeExec),
            Applied {
                bundle: bundle(9),
                head: commit(HEAD),
            },
            at,
            &mut fx.sink,
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::BundleMismatch { expected, found } if expected == bundle(1) && found == bundle(9))
    );
    let reason = Line::new("reason", "x").unwrap();
    let err = fx
        .wf
        .refuse_bundle(
            &actor(Role::ClaudeExec),
            BundleRefusal {
                bundle: bundle(9),
                check: leo_store::BundleCheck::Digest,
                reason,
            },
            at,
            &mut fx.sink,
        )
        .unwrap_err();
    assert!(matches!(err, Error::BundleMismatch { .. }));
    assert_eq!(
        (fx.wf.state(), fx.refusals()),
        (LabelState::ClaudeEnforcing, 2)
    );
}

#[test]
fn time_never_goes_backwards() {
    let mut fx = Fx::new().handoff();
    let err = fx
        .wf
        .apply(
            &actor(Role::ClaudeExec),
            applied_facts(),
            t(0),
            &mut fx.sink,
        )
        .unwrap_err();
    assert!(matches!(err, Error::ClockWentBackwards { last, at } if last == t(1) && at == t(0)));
    // The same instant is fine.
    fx.wf
        .apply(
            &actor(Role::ClaudeExec),
            applied_facts(),
            t(1),
            &mut fx.sink,
        )
        .unwrap();
}

/// A sink that fails every write.
struct Broken;

impl AuditSink for Broken {
    fn record(&mut self, _: &[AuditEvent]) -> std::result::Result<(), SinkError> {
        Err("disk full".into())
    }
}

#[test]
fn nothing_changes_unless_the_sink_recorded_it() {
    let mut fx = Fx::new();
    let err = fx
        .wf
        .handoff(
            &actor(Role::Codex),
            CodexReady {
                bundle: bundle(1),
                commit: commit('a'),
            },
            t(1),
            &mut Broken,
        )
        .unwrap_err();
    assert!(matches!(err, Error::AuditSink { .. }));
    assert_eq!(
        (fx.wf.state(), fx.wf.bundle()),
        (LabelState::CodexBuilding, None)
    );
    // A refusal that cannot be recorded says so, and still carries the refusal.
    let err = fx
        .wf
        .merge(&actor(Role::System), &bundle(1), t(1), &mut Broken)
        .unwrap_err();
    assert!(
        matches!(&err, Error::RefusalNotRecorded { refusal, .. } if matches!(**refusal, Error::IllegalTransition { .. }))
    );
    let err = Workflow::start(
        "x".parse().unwrap(),
        WorkflowConfig::default(),
        &actor(Role::Codex),
        t(0),
        &mut Broken,
    )
    .unwrap_err();
    assert!(matches!(err, Error::AuditSink { .. }));
}

#[test]
fn transitions_serialize_and_round_trip() {
    let fx = Fx::new().ready();
    for event in &fx.sink.events {
        let json = serde_json::to_string(event).unwrap();
        let back: AuditEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, event);
    }
    let json = serde_json::to_value(fx.last_transition()).unwrap();
    assert_eq!(json["to"], "ready_to_merge");
    assert_eq!(json["actor"], "PLAN");
}
