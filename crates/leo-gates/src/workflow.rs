//! The [`Workflow`] aggregate: one change through the SOP §3 states, exposing only legal
//! operations.
//!
//! Each operation takes the acting [`Actor`], the time (passed in; the logic never reads a
//! clock) and an [`AuditSink`], and runs the same steps:
//!
//! 1. refuse an event dated before the previous one, an identity already bound to another
//!    role, and a role the §5 matrix does not allow ([`Operation::action`]);
//! 2. check the operation's own rules (state machine edge, bundle hash, head commit, verdict
//!    rules, LEAD table, merge gate);
//! 3. hand the resulting events to the sink as one batch, and change state only if that
//!    succeeded.
//!
//! A refusal at step 1 or 2 is recorded as an [`AuditEvent::Refusal`] and returned.
//!
//! The enforcer module feeds it *verified facts*: [`CodexReady`] once the builder's marker
//! and bundle hash are read, [`Applied`] once the bundle's digest, attestation, provenance
//! policy and SBOM verified, it was signed, applied and the workflows triggered, and
//! [`BundleRefusal`] when any of that failed. The [`Actor`] identities come from verified
//! signatures.

use leo_artifact::{CommitSha, PlanVerdict, Sha256Digest};
use leo_store::Timestamp;

use crate::audit::{AuditEvent, AuditSink, Operation, Refusal};
use crate::authz::{Actor, Separation, authorize};
use crate::checks::{ChecksReport, GateRun};
use crate::error::{Error, Result};
use crate::lead::{LeadDecision, LeadRecord, Priority};
use crate::merge::{MergeAuthority, MergeEvidence, merge_gate};
use crate::state::{LabelState, Transition, check_transition};
use crate::text::{ChangeId, Line};
use crate::verdict::{GateFacts, VerdictInput, VerdictRecord};

use crate::facts::{
    Applied, BundleRefusal, CodexReady, MAX_GATE_RUNS, SupervisorReport, WorkflowConfig,
};

/// One change in the two-lane workflow.
#[derive(Clone, Debug)]
pub struct Workflow {
    id: ChangeId,
    config: WorkflowConfig,
    state: LabelState,
    entered_at: Timestamp,
    last_at: Timestamp,
    priority: Priority,
    separation: Separation,
    bundle: Option<Sha256Digest>,
    codex_commit: Option<CommitSha>,
    head: Option<CommitSha>,
    gates_triggered_at: Option<Timestamp>,
    gate_runs: Vec<GateRun>,
    verdict: Option<VerdictRecord>,
    lead: Option<LeadRecord>,
}

/// Who does what when: the context of one operation.
#[derive(Clone, Copy)]
struct Call<'a> {
    actor: &'a Actor,
    op: Operation,
    at: Timestamp,
}

impl<'a> Call<'a> {
    fn new(actor: &'a Actor, op: Operation, at: Timestamp) -> Self {
        Call { actor, op, at }
    }
}

/// Records a refusal and returns the error to give back.
fn refused(
    sink: &mut dyn AuditSink,
    change: &ChangeId,
    actor: &Actor,
    operation: Operation,
    at: Timestamp,
    err: Error,
) -> Error {
    let refusal = Refusal {
        change: change.clone(),
        actor: actor.clone(),
        operation,
        at,
        reason: err.to_string(),
    };
    match sink.record(&[AuditEvent::Refusal(refusal)]) {
        Ok(()) => err,
        Err(source) => Error::RefusalNotRecorded {
            refusal: Box::new(err),
            source,
        },
    }
}

impl Workflow {
    /// Opens a change in `codex_building` (Codex starts).
    pub fn start(
        id: ChangeId,
        config: WorkflowConfig,
        actor: &Actor,
        at: Timestamp,
        sink: &mut dyn AuditSink,
    ) -> Result<Self> {
        let op = Operation::Start;
        let decided = config
            .verdict_policy
            .check()
            .and_then(|()| authorize(actor.role, op.action()))
            .and_then(|()| check_transition(None, LabelState::CodexBuilding, op.action()))
            .and_then(|edge| Line::new("reason", edge.trigger));
        let reason = decided.map_err(|e| refused(sink, &id, actor, op, at, e))?;
        let t = Transition {
            change: id.clone(),
            actor: actor.role,
            identity: actor.identity.clone(),
            from: None,
            to: LabelState::CodexBuilding,
            at,
            reason,
            bundle: None,
        };
        sink.record(&[AuditEvent::Transition(t)])
            .map_err(|source| Error::AuditSink { source })?;
        let mut separation = Separation::default();
        separation.bind(actor);
        Ok(Workflow {
            id,
            config,
            state: LabelState::CodexBuilding,
            entered_at: at,
            last_at: at,
            priority: Priority::default(),
            separation,
            bundle: None,
            codex_commit: None,
            head: None,
            gates_triggered_at: None,
            gate_runs: Vec::new(),
            verdict: None,
            lead: None,
        })
    }

    /// The shared steps: checks, then `decide`, then record, then `apply`.
    fn run<T, R>(
        &mut self,
        c: Call<'_>,
        sink: &mut dyn AuditSink,
        decide: impl FnOnce(&Self) -> Result<(Vec<AuditEvent>, T)>,
        apply: impl FnOnce(&mut Self, T) -> R,
    ) -> Result<R> {
        let decided = self.precheck(c).and_then(|()| decide(self));
        let (events, value) =
            decided.map_err(|e| refused(sink, &self.id, c.actor, c.op, c.at, e))?;
        sink.record(&events)
            .map_err(|source| Error::AuditSink { source })?;
        self.separation.bind(c.actor);
        self.last_at = c.at;
        Ok(apply(self, value))
    }

    /// [`Workflow::run`] for an operation that is one transition: `check` (after the edge),
    /// then the transition event, then `apply` and entering `to`.
    fn move_to(
        &mut self,
        c: Call<'_>,
        sink: &mut dyn AuditSink,
        to: LabelState,
        reason: &str,
        check: impl FnOnce(&Self) -> Result<()>,
        apply: impl FnOnce(&mut Self),
    ) -> Result<()> {
        let decide = |w: &Self| {
            let event = w.transition(c, to, reason)?;
            check(w)?;
            Ok((vec![event], ()))
        };
        self.run(c, sink, decide, |w, ()| {
            apply(w);
            w.enter(to, c.at);
        })
    }

    fn precheck(&self, c: Call<'_>) -> Result<()> {
        if c.at < self.last_at {
            return Err(Error::ClockWentBackwards {
                last: self.last_at,
                at: c.at,
            });
        }
        self.separation.check(c.actor)?;
        authorize(c.actor.role, c.op.action())
    }

    /// A transition event for `c` to `to`, if the state machine has that edge.
    fn transition(&self, c: Call<'_>, to: LabelState, reason: &str) -> Result<AuditEvent> {
        check_transition(Some(self.state), to, c.op.action())?;
        Ok(AuditEvent::Transition(Transition {
            change: self.id.clone(),
            actor: c.actor.role,
            identity: c.actor.identity.clone(),
            from: Some(self.state),
            to,
            at: c.at,
            reason: Line::new("reason", reason)?,
            bundle: self.bundle,
        }))
    }

    fn enter(&mut self, to: LabelState, at: Timestamp) {
        if self.state != to {
            self.state = to;
            self.entered_at = at;
        }
    }

    fn wrong_state(&self, op: Operation) -> Error {
        Error::WrongState {
            operation: op,
            state: self.state,
        }
    }

    /// The current bundle, checked against `given`.
    fn same_bundle(&self, op: Operation, given: &Sha256Digest) -> Result<Sha256Digest> {
        let expected = self.bundle.ok_or_else(|| self.wrong_state(op))?;
        if expected != *given {
            return Err(Error::BundleMismatch {
                expected,
                found: *given,
            });
        }
        Ok(expected)
    }

    fn current_head(&self, op: Operation) -> Result<&CommitSha> {
        self.head.as_ref().ok_or_else(|| self.wrong_state(op))
    }

    /// `codex_building → claude_enforcing`: the builder's `[CODEX-READY:<hash>]` handoff.
    pub fn handoff(
        &mut self,
        actor: &Actor,
        facts: CodexReady,
        at: Timestamp,
        sink: &mut dyn AuditSink,
    ) -> Result<()> {
        let c = Call::new(actor, Operation::Handoff, at);
        let reason = format!("[CODEX-READY:{}] on {}", facts.bundle, facts.commit);
        let to = LabelState::ClaudeEnforcing;
        self.move_to(
            c,
            sink,
            to,
            &reason,
            |_| Ok(()),
            |w| {
                w.bundle = Some(facts.bundle);
                w.codex_commit = Some(facts.commit);
            },
        )
    }

    /// `claude_enforcing → gates_passing`: the bundle verified, was signed and applied, and
    /// the required workflows were triggered (the gates timeout starts now).
    pub fn apply(
        &mut self,
        actor: &Actor,
        facts: Applied,
        at: Timestamp,
        sink: &mut dyn AuditSink,
    ) -> Result<()> {
        let c = Call::new(actor, Operation::Apply, at);
        let reason = format!(
            "[CLAUDE-APPLIED:{}] on {}; workflows triggered",
            facts.bundle, facts.head
        );
        let check = |w: &Self| w.same_bundle(c.op, &facts.bundle).map(drop);
        self.move_to(c, sink, LabelState::GatesPassing, &reason, check, |w| {
            w.head = Some(facts.head);
            w.gates_triggered_at = Some(at);
            w.gate_runs.clear();
        })
    }

    /// `claude_enforcing → needs_revision`: the enforcer refused the bundle. The transition
    /// and an [`AuditEvent::BundleRefusal`] naming the failed check are one batch.
    pub fn refuse_bundle(
        &mut self,
        actor: &Actor,
        facts: BundleRefusal,
        at: Timestamp,
        sink: &mut dyn AuditSink,
    ) -> Result<()> {
        let c = Call::new(actor, Operation::RefuseBundle, at);
        let to = LabelState::NeedsRevision;
        let decide = |w: &Self| {
            let transition = w.transition(c, to, facts.reason.as_str())?;
            let bundle = w.same_bundle(c.op, &facts.bundle)?;
            let refusal = AuditEvent::BundleRefusal {
                change: w.id.clone(),
                actor: actor.clone(),
                bundle,
                check: facts.check,
                at,
                reason: facts.reason.clone(),
            };
            Ok((vec![transition, refusal], ()))
        };
        self.run(c, sink, decide, |w, ()| w.enter(to, at))
    }

    /// Records a required-check execution on the head commit (PLAN monitors the gates), in
    /// `gates_passing` or `ready_to_merge`: checks may finish after a LEAD override of a
    /// timed-out ESCALATE, and a failed re-run after PASS must still block the merge.
    pub fn record_gate_run(
        &mut self,
        actor: &Actor,
        run: GateRun,
        at: Timestamp,
        sink: &mut dyn AuditSink,
    ) -> Result<()> {
        let c = Call::new(actor, Operation::RecordGateRun, at);
        let decide = |w: &Self| {
            if !matches!(w.state, LabelState::GatesPassing | LabelState::ReadyToMerge) {
                return Err(w.wrong_state(c.op));
            }
            let head = w.current_head(c.op)?;
            if run.commit() != head {
                return Err(Error::GateRunForOtherCommit {
                    head: head.clone(),
                    found: run.commit().clone(),
                });
            }
            if w.gate_runs.len() >= MAX_GATE_RUNS {
                return Err(Error::TooMany {
                    field: "gate runs",
                    max: MAX_GATE_RUNS,
                });
            }
            let event = AuditEvent::GateRun {
                change: w.id.clone(),
                actor: actor.clone(),
                run: run.clone(),
            };
            Ok((vec![event], run))
        };
        self.run(c, sink, decide, |w, run| w.gate_runs.push(run))
    }

    /// PLAN's verdict from its sub-check report and the recorded gate runs. PASS moves to
    /// `ready_to_merge`, FAIL to `needs_revision`; CONDITIONAL_PASS and ESCALATE wait for LEAD
    /// (a later verdict supersedes them).
    pub fn issue_verdict(
        &mut self,
        actor: &Actor,
        report: SupervisorReport,
        at: Timestamp,
        sink: &mut dyn AuditSink,
    ) -> Result<PlanVerdict> {
        let c = Call::new(actor, Operation::IssueVerdict, at);
        let decide = |w: &Self| {
            if w.state != LabelState::GatesPassing {
                return Err(w.wrong_state(c.op));
            }
            let head = w.current_head(c.op)?.clone();
            let bundle = w.bundle.ok_or_else(|| w.wrong_state(c.op))?;
            let triggered_at = w.gates_triggered_at.ok_or_else(|| w.wrong_state(c.op))?;
            let checks = w.config.required_checks.evaluate(&head, &w.gate_runs);
            let input = VerdictInput {
                sub_checks: report.sub_checks,
                requirements: report.requirements,
                resolution_rounds: report.resolution_rounds,
                gates: GateFacts::from_report(triggered_at, &checks),
                evaluated_at: at,
            };
            let policy = w.config.verdict_policy.clone();
            let supervisor = actor.identity.clone();
            let record =
                VerdictRecord::issue(w.id.clone(), bundle, head, supervisor, policy, input)?;
            let verdict = record.verdict();
            let mut events = vec![AuditEvent::Verdict(Box::new(record.clone()))];
            let next = match verdict {
                PlanVerdict::Pass => Some(LabelState::ReadyToMerge),
                PlanVerdict::Fail => Some(LabelState::NeedsRevision),
                PlanVerdict::ConditionalPass | PlanVerdict::Escalate => None,
            };
            if let Some(to) = next {
                events.push(w.transition(c, to, &format!("PLAN-SUPERVISOR: {verdict}"))?);
            }
            Ok((events, (record, next)))
        };
        self.run(c, sink, decide, |w, (record, next)| {
            let verdict = record.verdict();
            w.verdict = Some(record);
            w.lead = None;
            if let Some(to) = next {
                w.enter(to, at);
            }
            verdict
        })
    }

    /// LEAD's decision on a pending CONDITIONAL_PASS or ESCALATE (see [`crate::lead`]):
    /// approve/override → `ready_to_merge`, reject → `needs_revision`.
    pub fn lead_decide(
        &mut self,
        actor: &Actor,
        decision: LeadDecision,
        at: Timestamp,
        sink: &mut dyn AuditSink,
    ) -> Result<()> {
        let c = Call::new(actor, Operation::LeadDecision, at);
        let decide = |w: &Self| {
            if w.state != LabelState::GatesPassing {
                return Err(w.wrong_state(c.op));
            }
            let reviewed = w.verdict.as_ref().map(VerdictRecord::verdict);
            let (verdict, bundle) = match (&w.verdict, reviewed) {
                (Some(v), Some(pv @ (PlanVerdict::ConditionalPass | PlanVerdict::Escalate))) => {
                    (pv, v.bundle)
                }
                _ => return Err(Error::NoReviewPending { verdict: reviewed }),
            };
            if !decision.kind.applies_to(verdict) {
                return Err(Error::DecisionNotAllowed {
                    decision: decision.kind,
                    verdict,
                });
            }
            let why = &decision.justification;
            let (to, reason) = if decision.kind.approves() {
                (LabelState::ReadyToMerge, format!("LEAD-APPROVED: {why}"))
            } else {
                (LabelState::NeedsRevision, format!("LEAD rejected: {why}"))
            };
            let transition = w.transition(c, to, &reason)?;
            let record = LeadRecord {
                change: w.id.clone(),
                bundle,
                reviewed: verdict,
                decision: decision.clone(),
                lead: actor.clone(),
                at,
            };
            let events = vec![AuditEvent::LeadDecision(record.clone()), transition];
            Ok((events, (record, to)))
        };
        self.run(c, sink, decide, |w, (record, to)| {
            w.lead = Some(record);
            w.enter(to, at);
        })
    }

    /// LEAD sets the change's priority among competing changes (any state but `merged`).
    pub fn set_priority(
        &mut self,
        actor: &Actor,
        priority: Priority,
        at: Timestamp,
        sink: &mut dyn AuditSink,
    ) -> Result<()> {
        let c = Call::new(actor, Operation::SetPriority, at);
        let decide = |w: &Self| {
            if w.state == LabelState::Merged {
                return Err(w.wrong_state(c.op));
            }
            let change = w.id.clone();
            let actor = actor.clone();
            let event = AuditEvent::Priority {
                change,
                actor,
                priority,
                at,
            };
            Ok((vec![event], ()))
        };
        self.run(c, sink, decide, |w, ()| w.priority = priority)
    }

    /// `needs_revision → codex_building`: back to the builder; the next handoff brings a new
    /// bundle, so this revision's bundle, gates, verdict and decision are dropped (they stay in
    /// the audit trail).
    pub fn return_to_builder(
        &mut self,
        actor: &Actor,
        at: Timestamp,
        sink: &mut dyn AuditSink,
    ) -> Result<()> {
        let c = Call::new(actor, Operation::ReturnToBuilder, at);
        let to = LabelState::CodexBuilding;
        self.move_to(
            c,
            sink,
            to,
            "return to builder",
            |_| Ok(()),
            |w| {
                w.bundle = None;
                w.codex_commit = None;
                w.head = None;
                w.gates_triggered_at = None;
                w.gate_runs.clear();
                w.verdict = None;
                w.lead = None;
            },
        )
    }

    /// `ready_to_merge → merged`, only through [`merge_gate`]: `bundle` is what the merge
    /// machinery is about to merge and must be this change's.
    pub fn merge(
        &mut self,
        actor: &Actor,
        bundle: &Sha256Digest,
        at: Timestamp,
        sink: &mut dyn AuditSink,
    ) -> Result<MergeAuthority> {
        let c = Call::new(actor, Operation::Merge, at);
        let decide = |w: &Self| {
            check_transition(Some(w.state), LabelState::Merged, c.op.action())?;
            let bundle = w.same_bundle(c.op, bundle)?;
            let head = w.current_head(c.op)?;
            let checks = w.config.required_checks.evaluate(head, &w.gate_runs);
            let evidence = MergeEvidence {
                bundle: &bundle,
                head,
                verdict: w.verdict.as_ref(),
                lead: w.lead.as_ref(),
                checks: &checks,
            };
            let authority = merge_gate(&evidence)?;
            let reason = format!("merged {bundle} on {head}; authority: {authority:?}");
            Ok((
                vec![w.transition(c, LabelState::Merged, &reason)?],
                authority,
            ))
        };
        self.run(c, sink, decide, |w, authority| {
            w.enter(LabelState::Merged, at);
            authority
        })
    }

    /// The change's id.
    pub fn id(&self) -> &ChangeId {
        &self.id
    }

    /// Its configuration.
    pub fn config(&self) -> &WorkflowConfig {
        &self.config
    }

    /// Its current label.
    pub fn state(&self) -> LabelState {
        self.state
    }

    /// When it entered the current label.
    pub fn entered_at(&self) -> Timestamp {
        self.entered_at
    }

    /// Its priority.
    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// The bundle of the current revision, once handed off.
    pub fn bundle(&self) -> Option<&Sha256Digest> {
        self.bundle.as_ref()
    }

    /// The builder's marker commit.
    pub fn codex_commit(&self) -> Option<&CommitSha> {
        self.codex_commit.as_ref()
    }

    /// The head commit the gates run on, once applied.
    pub fn head(&self) -> Option<&CommitSha> {
        self.head.as_ref()
    }

    /// The gate runs of the current revision.
    pub fn gate_runs(&self) -> &[GateRun] {
        &self.gate_runs
    }

    /// The required checks on the head commit, once applied.
    pub fn checks(&self) -> Option<ChecksReport> {
        self.head
            .as_ref()
            .map(|h| self.config.required_checks.evaluate(h, &self.gate_runs))
    }

    /// The latest verdict of the current revision.
    pub fn verdict(&self) -> Option<&VerdictRecord> {
        self.verdict.as_ref()
    }

    /// The LEAD decision on the latest verdict.
    pub fn lead_decision(&self) -> Option<&LeadRecord> {
        self.lead.as_ref()
    }
}
