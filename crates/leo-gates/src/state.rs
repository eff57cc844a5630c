//! The SOP §3 label state machine as data.
//!
//! ```text
//! [*] ──Codex starts──▶ codex_building ──[CODEX-READY]──▶ claude_enforcing
//! claude_enforcing ──workflows triggered──▶ gates_passing
//! claude_enforcing ──enforcer refuses bundle / conflict──▶ needs_revision   (issue 7, flow step 2)
//! gates_passing ──PLAN PASS / LEAD approval──▶ ready_to_merge
//! gates_passing ──PLAN FAIL / LEAD rejection──▶ needs_revision
//! needs_revision ──return to builder──▶ codex_building
//! ready_to_merge ──merged──▶ merged
//! ```
//!
//! Every edge names the §5 action that causes it, so the matrix decides who may take it.

use std::fmt;

use leo_artifact::Sha256Digest;
use leo_store::{Action, Role, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::text::{ChangeId, Identity, Line};

/// A label of the SOP §3 state machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelState {
    /// The builder is working.
    CodexBuilding,
    /// The enforcer verifies, signs and applies the bundle.
    ClaudeEnforcing,
    /// Required checks are running; PLAN monitors and issues a verdict.
    GatesPassing,
    /// PASS (or LEAD approval) recorded; waiting for the merge.
    ReadyToMerge,
    /// FAIL, LEAD rejection or enforcer refusal; back to the builder.
    NeedsRevision,
    /// Merged (terminal).
    Merged,
}

impl LabelState {
    /// Every state.
    pub const ALL: [LabelState; 6] = [
        LabelState::CodexBuilding,
        LabelState::ClaudeEnforcing,
        LabelState::GatesPassing,
        LabelState::ReadyToMerge,
        LabelState::NeedsRevision,
        LabelState::Merged,
    ];

    /// The SOP's label spelling.
    pub const fn label(self) -> &'static str {
        match self {
            LabelState::CodexBuilding => "codex_building",
            LabelState::ClaudeEnforcing => "claude_enforcing",
            LabelState::GatesPassing => "gates_passing",
            LabelState::ReadyToMerge => "ready_to_merge",
            LabelState::NeedsRevision => "needs_revision",
            LabelState::Merged => "merged",
        }
    }
}

impl fmt::Display for LabelState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One edge of the state machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    /// Source (`None`: a new change).
    pub from: Option<LabelState>,
    /// Target.
    pub to: LabelState,
    /// The §5 action that takes this edge.
    pub via: Action,
    /// The SOP's trigger.
    pub trigger: &'static str,
}

const fn edge(
    from: Option<LabelState>,
    to: LabelState,
    via: Action,
    trigger: &'static str,
) -> Edge {
    Edge {
        from,
        to,
        via,
        trigger,
    }
}

use LabelState as S;

/// Every legal transition. `claude_enforcing → needs_revision` is filed under
/// `SignArtifacts`: only the lane that may sign a bundle may refuse to.
pub const TRANSITIONS: [Edge; 10] = [
    edge(
        None,
        S::CodexBuilding,
        Action::GeneratePatches,
        "Codex starts",
    ),
    edge(
        Some(S::CodexBuilding),
        S::ClaudeEnforcing,
        Action::GeneratePatches,
        "[CODEX-READY]",
    ),
    edge(
        Some(S::ClaudeEnforcing),
        S::GatesPassing,
        Action::TriggerWorkflows,
        "workflows triggered",
    ),
    edge(
        Some(S::ClaudeEnforcing),
        S::NeedsRevision,
        Action::SignArtifacts,
        "enforcer refused the bundle",
    ),
    edge(
        Some(S::GatesPassing),
        S::ReadyToMerge,
        Action::IssueVerdict,
        "PLAN issues PASS",
    ),
    edge(
        Some(S::GatesPassing),
        S::ReadyToMerge,
        Action::EscalationReview,
        "LEAD approves",
    ),
    edge(
        Some(S::GatesPassing),
        S::NeedsRevision,
        Action::IssueVerdict,
        "PLAN issues FAIL",
    ),
    edge(
        Some(S::GatesPassing),
        S::NeedsRevision,
        Action::EscalationReview,
        "LEAD rejects",
    ),
    edge(
        Some(S::NeedsRevision),
        S::CodexBuilding,
        Action::GeneratePatches,
        "return to builder",
    ),
    edge(
        Some(S::ReadyToMerge),
        S::Merged,
        Action::AllowMerge,
        "merged",
    ),
];

/// The edge `from → to` taken by `via`, or [`Error::IllegalTransition`].
pub fn check_transition(
    from: Option<LabelState>,
    to: LabelState,
    via: Action,
) -> Result<&'static Edge> {
    TRANSITIONS
        .iter()
        .find(|e| e.from == from && e.to == to && e.via == via)
        .ok_or(Error::IllegalTransition { from, to, via })
}

/// A state change as recorded: who, from where to where, when and why. The caller persists
/// it (through an [`AuditSink`](crate::AuditSink)) before the change takes effect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// The change.
    pub change: ChangeId,
    /// The acting role.
    pub actor: Role,
    /// The identity it acted through.
    pub identity: Identity,
    /// Source (`None`: the change was created).
    pub from: Option<LabelState>,
    /// Target.
    pub to: LabelState,
    /// When (passed in by the caller).
    #[serde(with = "crate::timefmt")]
    pub at: Timestamp,
    /// Why (the SOP trigger, or the refusal's reason).
    pub reason: Line,
    /// The bundle the change carried at that moment, if any.
    pub bundle: Option<Sha256Digest>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_the_sop_spelling() {
        let labels: Vec<_> = LabelState::ALL.iter().map(|s| s.label()).collect();
        assert_eq!(
            labels,
            [
                "codex_building",
                "claude_enforcing",
                "gates_passing",
                "ready_to_merge",
                "needs_revision",
                "merged"
            ]
        );
        assert_eq!(
            serde_json::to_string(&S::ReadyToMerge).unwrap(),
            "\"ready_to_merge\""
        );
    }

    #[test]
    fn every_pair_is_legal_exactly_when_in_the_table() {
        let froms = std::iter::once(None).chain(LabelState::ALL.map(Some));
        for from in froms {
            for to in LabelState::ALL {
                for via in Action::ALL {
                    let listed = TRANSITIONS
                        .iter()
                        .any(|e| e.from == from && e.to == to && e.via == via);
                    match check_transition(from, to, via) {
                        Ok(e) => assert!(listed && e.to == to),
                        Err(err) => {
                            assert!(!listed);
                            assert!(
                                matches!(err, Error::IllegalTransition { from: f, to: t, via: v } if f == from && t == to && v == via)
                            );
                        }
                    }
                }
            }
        }
        // Nothing leaves `merged`.
        assert!(TRANSITIONS.iter().all(|e| e.from != Some(S::Merged)));
    }
}
