//! What the workflow asks its caller to persist, and the trait the caller implements.
//!
//! A [`Workflow`](crate::Workflow) operation first builds its events, hands them to
//! [`AuditSink::record`] as one batch, and changes state only if the sink succeeded: the
//! record is written ahead of the change. A refused operation is recorded as a
//! [`Refusal`]. `leo-store` cannot implement this trait itself (it sits below `leo-gates`);
//! the enforcer module adapts a store handle to it.

use std::fmt;

use leo_artifact::Sha256Digest;
use leo_store::{Action, BundleCheck, Timestamp};
use serde::{Deserialize, Serialize};

use crate::authz::Actor;
use crate::checks::GateRun;
use crate::error::SinkError;
use crate::lead::{LeadRecord, Priority};
use crate::state::Transition;
use crate::text::{ChangeId, Line};
use crate::verdict::VerdictRecord;

/// A workflow operation (what a [`Refusal`] was refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Open a change (Codex starts).
    Start,
    /// `[CODEX-READY:<hash>]` handoff.
    Handoff,
    /// The enforcer applied a verified bundle and triggered the workflows.
    Apply,
    /// The enforcer refused the bundle (verification failure, apply conflict).
    RefuseBundle,
    /// A required-check execution result.
    RecordGateRun,
    /// PLAN's verdict.
    IssueVerdict,
    /// LEAD's decision.
    LeadDecision,
    /// LEAD's priority.
    SetPriority,
    /// Back to the builder after `needs_revision`.
    ReturnToBuilder,
    /// The merge.
    Merge,
}

impl Operation {
    /// The §5 action the operation needs.
    pub const fn action(self) -> Action {
        match self {
            Operation::Start | Operation::Handoff | Operation::ReturnToBuilder => {
                Action::GeneratePatches
            }
            Operation::Apply => Action::TriggerWorkflows,
            Operation::RefuseBundle => Action::SignArtifacts,
            Operation::RecordGateRun => Action::MonitorGates,
            Operation::IssueVerdict => Action::IssueVerdict,
            Operation::LeadDecision | Operation::SetPriority => Action::EscalationReview,
            Operation::Merge => Action::AllowMerge,
        }
    }

    /// A stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Operation::Start => "start",
            Operation::Handoff => "handoff",
            Operation::Apply => "apply",
            Operation::RefuseBundle => "refuse_bundle",
            Operation::RecordGateRun => "record_gate_run",
            Operation::IssueVerdict => "issue_verdict",
            Operation::LeadDecision => "lead_decision",
            Operation::SetPriority => "set_priority",
            Operation::ReturnToBuilder => "return_to_builder",
            Operation::Merge => "merge",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused operation, as recorded (SOP §12.8 counts gate bypass attempts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The change.
    pub change: ChangeId,
    /// Who tried.
    pub actor: Actor,
    /// What.
    pub operation: Operation,
    /// When.
    #[serde(with = "crate::timefmt")]
    pub at: Timestamp,
    /// The error's message.
    pub reason: String,
}

/// One thing to persist.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AuditEvent {
    /// A label change.
    Transition(Transition),
    /// A required-check execution (`leo_gate_executions`).
    GateRun {
        /// The change.
        change: ChangeId,
        /// Who recorded it.
        actor: Actor,
        /// The run.
        run: GateRun,
    },
    /// A PLAN verdict with its inputs (`leo_verification_results`).
    Verdict(Box<VerdictRecord>),
    /// A LEAD decision (`pr_approval_audit`).
    LeadDecision(LeadRecord),
    /// A LEAD priority.
    Priority {
        /// The change.
        change: ChangeId,
        /// Who set it.
        actor: Actor,
        /// The priority.
        priority: Priority,
        /// When.
        #[serde(with = "crate::timefmt")]
        at: Timestamp,
    },
    /// A refused operation.
    Refusal(Refusal),
    /// The enforcer refused the builder's bundle: recorded in the same batch as its
    /// `claude_enforcing → needs_revision` transition, naming the check that failed (a
    /// verdict on the bundle, not a refused operation of the enforcer's).
    BundleRefusal {
        /// The change.
        change: ChangeId,
        /// The enforcer that refused it.
        actor: Actor,
        /// The bundle refused.
        bundle: Sha256Digest,
        /// The check that failed.
        check: BundleCheck,
        /// When.
        #[serde(with = "crate::timefmt")]
        at: Timestamp,
        /// The check's error.
        reason: Line,
    },
}

/// Where the workflow's events go. `record` must persist the whole batch or nothing.
pub trait AuditSink {
    /// Persists `events` atomically, in order.
    fn record(&mut self, events: &[AuditEvent]) -> Result<(), SinkError>;
}

/// An [`AuditSink`] that keeps events in memory (tests, dry runs).
#[derive(Clone, Debug, Default)]
pub struct MemorySink {
    /// Everything recorded, in order.
    pub events: Vec<AuditEvent>,
}

impl MemorySink {
    /// The recorded transitions, in order.
    pub fn transitions(&self) -> impl Iterator<Item = &Transition> {
        self.events.iter().filter_map(|e| match e {
            AuditEvent::Transition(t) => Some(t),
            _ => None,
        })
    }

    /// The recorded refusals, in order.
    pub fn refusals(&self) -> impl Iterator<Item = &Refusal> {
        self.events.iter().filter_map(|e| match e {
            AuditEvent::Refusal(r) => Some(r),
            _ => None,
        })
    }

    /// The checks of the recorded bundle refusals, in order.
    pub fn bundle_refusals(&self) -> impl Iterator<Item = BundleCheck> + '_ {
        self.events.iter().filter_map(|e| match e {
            AuditEvent::BundleRefusal { check, .. } => Some(*check),
            _ => None,
        })
    }
}

impl AuditSink for MemorySink {
    fn record(&mut self, events: &[AuditEvent]) -> Result<(), SinkError> {
        self.events.extend_from_slice(events);
        Ok(())
    }
}
