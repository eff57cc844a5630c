//! Each refusal of the SOP §5 accountability matrix, directly and through the workflow, and
//! lane separation by identity.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use leo_gates::*;

/// SOP §5, transcribed independently of the implementation's table: (action, [Codex, Claude/EXEC, PLAN, LEAD]).
const SOP_TABLE: [(Action, [bool; 4]); 8] = [
    (Action::GeneratePatches, [true, false, false, false]),
    (Action::SignArtifacts, [false, true, false, false]),
    (Action::CreatePr, [false, true, false, false]),
    (Action::TriggerWorkflows, [false, true, false, false]),
    (Action::MonitorGates, [false, false, true, false]),
    (Action::IssueVerdict, [false, false, true, false]),
    (Action::EscalationReview, [false, false, false, true]),
    (Action::DatabaseWrites, [false, true, true, true]),
];

#[test]
fn authorize_is_the_sop_table() {
    let cols = [Role::Codex, Role::ClaudeExec, Role::Plan, Role::Lead];
    for (action, row) in SOP_TABLE {
        for (role, allowed) in cols.into_iter().zip(row) {
            match authorize(role, action) {
                Ok(()) => assert!(allowed, "{role} {action}"),
                Err(e) => {
                    assert!(!allowed, "{role} {action}");
                    assert!(
                        matches!(e, Error::NotAuthorized { role: r, action: a } if r == role && a == action)
                    );
                }
            }
        }
        assert!(matches!(
            authorize(Role::System, action),
            Err(Error::NotAuthorized {
                role: Role::System,
                ..
            })
        ));
    }
    // Only the merge machinery merges (SOP §4.1 step 11).
    for role in Role::ALL {
        assert_eq!(
            authorize(role, Action::AllowMerge).is_ok(),
            role == Role::System,
            "{role}"
        );
    }
}

/// Puts a change where `op` is legal, then tries it as `role`.
fn try_as(op: Operation, role: Role) -> (Result<()>, Fx) {
    let a = actor(role);
    let mut fx = match op {
        Operation::Start => {
            let mut sink = MemorySink::default();
            let r = Workflow::start(
                "PRD-1".parse().unwrap(),
                WorkflowConfig::default(),
                &a,
                t(0),
                &mut sink,
            )
            .map(|_| ());
            return (
                r,
                Fx {
                    wf: Fx::new().wf,
                    sink,
                    now: 0,
                },
            );
        }
        Operation::Handoff => Fx::new(),
        Operation::Apply | Operation::RefuseBundle => Fx::new().handoff(),
        Operation::RecordGateRun => Fx::new().applied(),
        Operation::IssueVerdict => Fx::new().gates_green(),
        Operation::LeadDecision => {
            Fx::new().verdict(cp_report(), leo_artifact::PlanVerdict::ConditionalPass)
        }
        Operation::SetPriority => Fx::new(),
        Operation::ReturnToBuilder => Fx::new().failed(),
        Operation::Merge => Fx::new().ready(),
    };
    let r = attempt(&mut fx, op, &a);
    (r, fx)
}

#[test]
fn every_operation_is_refused_to_every_other_role_and_the_refusal_is_recorded() {
    let ops = [
        Operation::Start,
        Operation::Handoff,
        Operation::Apply,
        Operation::RefuseBundle,
        Operation::RecordGateRun,
        Operation::IssueVerdict,
        Operation::LeadDecision,
        Operation::SetPriority,
        Operation::ReturnToBuilder,
        Operation::Merge,
    ];
    let mut refusals = 0;
    for op in ops {
        for role in Role::ALL {
            let allowed = leo_store::allowed(role, op.action());
            let (result, fx) = try_as(op, role);
            if allowed {
                result.unwrap_or_else(|e| panic!("{role} {op}: {e}"));
                continue;
            }
            refusals += 1;
            let err = result.expect_err("refused role accepted");
            assert!(
                matches!(err, Error::NotAuthorized { role: r, action } if r == role && action == op.action()),
                "{role} {op}: {err}"
            );
            let refusal = fx.sink.refusals().last().expect("refusal recorded");
            assert_eq!((refusal.operation, refusal.actor.role), (op, role));
            assert!(refusal.reason.contains("SOP §5"), "{}", refusal.reason);
        }
    }
    // 10 operations × 5 roles, one role allowed each.
    assert_eq!(refusals, 40);
}

#[test]
fn a_refused_operation_changes_nothing() {
    let (_, fx) = try_as(Operation::Merge, Role::Lead);
    assert_eq!(fx.wf.state(), LabelState::ReadyToMerge);
    let (_, fx) = try_as(Operation::IssueVerdict, Role::ClaudeExec);
    assert!(fx.wf.verdict().is_none());
    let (_, fx) = try_as(Operation::SetPriority, Role::Plan);
    assert_eq!(fx.wf.priority(), Priority::Normal);
}

#[test]
fn one_identity_never_acts_in_two_roles() {
    let mut fx = Fx::new().handoff();
    // The enforcer signs with the builder's key.
    let same_key = Actor::new(Role::ClaudeExec, actor(Role::Codex).identity);
    let at = fx.tick();
    let err = fx
        .wf
        .apply(&same_key, applied_facts(), at, &mut fx.sink)
        .unwrap_err();
    assert!(matches!(
        err,
        Error::IdentityReused {
            bound_to: Role::Codex,
            used_as: Role::ClaudeExec,
            ..
        }
    ));
    assert_eq!(fx.refusals(), 1);
    fx.wf
        .apply(&actor(Role::ClaudeExec), applied_facts(), at, &mut fx.sink)
        .unwrap();
    // The supervisor uses the enforcer's key.
    let same_key = Actor::new(Role::Plan, actor(Role::ClaudeExec).identity);
    let r = run(
        "SLSA Verification / Verify SLSA Provenance",
        HEAD,
        GateStatus::Success,
        0,
        Some(1),
    );
    let err = fx
        .wf
        .record_gate_run(&same_key, r, at, &mut fx.sink)
        .unwrap_err();
    assert!(matches!(
        err,
        Error::IdentityReused {
            bound_to: Role::ClaudeExec,
            used_as: Role::Plan,
            ..
        }
    ));
    // A role may rotate to a new key.
    let rotated = Actor::new(Role::ClaudeExec, Identity::new("claude-key-2").unwrap());
    fx.wf
        .set_priority(&actor(Role::Lead), Priority::High, at, &mut fx.sink)
        .unwrap();
    let err = fx
        .wf
        .set_priority(&rotated, Priority::Low, at, &mut fx.sink)
        .unwrap_err();
    assert!(
        matches!(err, Error::NotAuthorized { .. }),
        "rotation does not grant new actions"
    );
}
