//! [`StoreSink`]: the workflow's [`AuditSink`] over leo-store's role handles.
//!
//! Each workflow event becomes a typed record appended by the handle of the role that
//! recorded it:
//!
//! | event | record (table) | handle, action |
//! |---|---|---|
//! | `Transition` | `LabelTransition` | the actor's role under the edge's action; the builder's edges (it cannot write) by the enforcer under `DatabaseWrites` |
//! | + staged `CodexReady` | `HandoffEvent` `CODEX_READY` | enforcer, `SignArtifacts` (it takes the bundle in) |
//! | + staged `ClaudeApplied` | `HandoffEvent` `CLAUDE_APPLIED` | enforcer, `CreatePr` |
//! | + staged signature | `ArtifactSignature` | enforcer, `SignArtifacts` |
//! | `BundleRefusal` (with `claude_enforcing → needs_revision`, same batch) | `Refusal` attempted by the builder, `operation` the failed [`BundleCheck`](leo_store::BundleCheck) (`bundle_digest`, `bundle_contents`, `bundle_attestation`, `bundle_sbom`, `bundle_apply`) | enforcer, `SignArtifacts` |
//! | `GateRun` (finished) | `GateExecution` with its duration | supervisor, `MonitorGates` |
//! | `Verdict` | `VerificationResult` (confidence: the floored aggregate; inputs: the bundle and the SHA-256 of the full verdict record) | supervisor, `IssueVerdict` |
//! | `LeadDecision` | `ApprovalDecision` | LEAD, `EscalationReview` |
//! | `Refusal` | `Refusal`, `operation` the workflow operation refused (a gate bypass attempt) | the actor's role (the builder's by the enforcer, under `DatabaseWrites`) |
//!
//! The store's records carry the role, not the signing identity, so the identity is appended
//! to each reason or summary (`… [identity <fingerprint>]`): the trail shows role separation.
//!
//! Every workflow operation is one batch, and its records all belong to one role: they are
//! appended in one transaction on that role's handle ([`leo_store::Batch`] and
//! `append_mixed`, one commit and one signed checkpoint), so an operation is recorded whole
//! or not at all, and the workflow moves only if it was. A batch whose records would need
//! two role handles cannot be one transaction and is refused before anything is written,
//! as is a `Priority` event, which has no record kind ([`SinkRefused`]). A failed
//! [`AuditSink::record`] leaves the sink as it was (its staged records stay staged).

use std::fmt;

use leo_artifact::Sha256Digest;
use leo_sign::Backend;
use leo_store::{
    Action, ApprovalDecision, ApprovalOutcome, ArtifactSignature, Batch, Enforcer, EnforcerHandle,
    Event, EventId, GateExecution, HandoffEvent, HandoffStage, LabelTransition, Lead, LeadHandle,
    Location, NoteSigner, NoteVerifier, PrNumber, Record, Role, ScoredVerdict, SignatureBackend,
    Supervisor, SupervisorHandle, System, SystemHandle, Text, Timestamp, VerificationInput,
    VerificationResult, WriterHandle, WriterRole,
};

use crate::audit::{AuditEvent, AuditSink};
use crate::error::SinkError;
use crate::lead::LeadDecisionKind;
use crate::state::{LabelState, TRANSITIONS, Transition};
use crate::text::{ChangeId, Line};

use super::{FlowSink, SignatureFacts, Staged};

/// An event the store has no record for, or that is incomplete.
#[derive(Debug)]
pub struct SinkRefused(pub String);

impl fmt::Display for SinkRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the audit trail cannot record this event: {}", self.0)
    }
}

impl std::error::Error for SinkRefused {}

/// One writer handle per role that records workflow events.
#[derive(Debug)]
pub struct StoreHandles {
    /// Claude/EXEC.
    pub enforcer: EnforcerHandle,
    /// PLAN.
    pub supervisor: SupervisorHandle,
    /// LEAD.
    pub lead: LeadHandle,
    /// The merge step.
    pub system: SystemHandle,
}

/// A checkpoint signer per role: each handle signs the checkpoints after its own batches.
#[derive(Debug)]
pub struct RoleNoteSigners {
    /// Claude/EXEC's.
    pub enforcer: NoteSigner,
    /// PLAN's.
    pub supervisor: NoteSigner,
    /// LEAD's.
    pub lead: NoteSigner,
    /// The merge step's.
    pub system: NoteSigner,
}

impl RoleNoteSigners {
    /// Fresh signers named `<origin>/<role>`.
    pub fn generate(origin: &str) -> leo_store::Result<Self> {
        Ok(RoleNoteSigners {
            enforcer: NoteSigner::generate(&format!("{origin}/enforcer"))?,
            supervisor: NoteSigner::generate(&format!("{origin}/supervisor"))?,
            lead: NoteSigner::generate(&format!("{origin}/lead"))?,
            system: NoteSigner::generate(&format!("{origin}/system"))?,
        })
    }

    /// The verifiers `leo audit verify` needs to trust.
    pub fn verifiers(&self) -> Vec<NoteVerifier> {
        [&self.enforcer, &self.supervisor, &self.lead, &self.system]
            .iter()
            .map(|s| s.verifier())
            .collect()
    }
}

impl StoreHandles {
    /// Opens the four writer handles on `loc`, each signing checkpoints with its signer.
    pub fn open(loc: &Location, signers: RoleNoteSigners) -> leo_store::Result<Self> {
        Ok(StoreHandles {
            enforcer: WriterHandle::open(loc, Some(signers.enforcer))?,
            supervisor: WriterHandle::open(loc, Some(signers.supervisor))?,
            lead: WriterHandle::open(loc, Some(signers.lead))?,
            system: WriterHandle::open(loc, Some(signers.system))?,
        })
    }
}

/// The workflow's [`AuditSink`] over [`StoreHandles`] for one change and its PR.
#[derive(Debug)]
pub struct StoreSink {
    handles: StoreHandles,
    pr: PrNumber,
    staged: Vec<Staged>,
}

/// Generates `$name`, which turns the records one role files into that role's typed
/// [`Batch`]: the compile-time restriction ([`leo_store::AppendableBy`]) decides what each
/// arm may push, and a record of any other kind is refused.
macro_rules! batch_for {
    ($name:ident, $role:ty, [$($variant:ident),+]) => {
        fn $name(events: Vec<Event<Record>>) -> Result<Batch<$role>, SinkError> {
            let mut batch = Batch::new();
            for Event { id, action, recorded_at, record } in events {
                match record {
                    $(Record::$variant(r) => {
                        batch.push(Event::new(id, action, recorded_at, r));
                    })+
                    other => {
                        return Err(Box::new(SinkRefused(format!(
                            "{} records are not appendable by {}",
                            other.kind(),
                            <$role as WriterRole>::ROLE
                        ))));
                    }
                }
            }
            Ok(batch)
        }
    };
}

batch_for!(
    enforcer_batch,
    Enforcer,
    [
        LabelTransition,
        Refusal,
        Handoff,
        ArtifactSignature,
        GateExecution
    ]
);
batch_for!(
    supervisor_batch,
    Supervisor,
    [LabelTransition, Refusal, Verification, GateExecution]
);
batch_for!(lead_batch, Lead, [LabelTransition, Refusal, Approval]);
batch_for!(system_batch, System, [LabelTransition, Refusal]);

fn text(field: &'static str, s: &str) -> Result<Text, SinkError> {
    Ok(Text::new(field, s)?)
}

/// `s` plus the identity, cut to the store's text limit on a character boundary.
fn with_identity(s: &str, identity: &str) -> String {
    let full = format!("{s} [identity {identity}]");
    let mut end = full.len().min(leo_store::record::MAX_TEXT_LEN);
    while !full.is_char_boundary(end) {
        end -= 1;
    }
    full.get(..end).unwrap_or_default().to_owned()
}

/// Who records an event the `role` did, and under which action it is filed.
fn recorder(role: Role, action: Action) -> (Role, Action) {
    match role {
        Role::Codex => (Role::ClaudeExec, Action::DatabaseWrites),
        Role::System if action == Action::AllowMerge => (Role::System, Action::AllowMerge),
        Role::System => (Role::ClaudeExec, Action::DatabaseWrites),
        r if leo_store::allowed(r, action) => (r, action),
        r => (r, Action::DatabaseWrites),
    }
}

fn signature_backend(b: Backend) -> SignatureBackend {
    match b {
        Backend::Sigstore => SignatureBackend::Sigstore,
        Backend::OpenPgp => SignatureBackend::Openpgp,
        _ => SignatureBackend::Raw,
    }
}

impl StoreSink {
    /// A sink for the change whose pull request is `pr`.
    pub fn new(handles: StoreHandles, pr: PrNumber) -> Self {
        StoreSink {
            handles,
            pr,
            staged: Vec::new(),
        }
    }

    /// The handles (e.g. to read or verify the trail).
    pub fn handles_mut(&mut self) -> &mut StoreHandles {
        &mut self.handles
    }

    /// Closes the sink, returning its handles.
    pub fn into_handles(self) -> StoreHandles {
        self.handles
    }

    /// The event id of one record: its kind of step and the SHA-256 of what it records (the
    /// change, the time, the step and the record itself). Derived from the content alone, so
    /// the same operation retried by a new process after a crash is recognised by the store
    /// as a duplicate instead of being recorded twice.
    fn event_id(
        change: &str,
        at: Timestamp,
        what: &str,
        record: &impl serde::Serialize,
    ) -> Result<EventId, SinkError> {
        let content = serde_json::to_vec(&(change, at.unix_micros(), what, record))?;
        let digest = leo_artifact::Sha256Digest::of(&content);
        Ok(format!("{what}:{digest}").parse::<EventId>()?)
    }

    /// The records for one workflow event, with the role that appends them.
    fn map(
        &mut self,
        e: &AuditEvent,
        out: &mut Vec<(Role, Event<Record>)>,
    ) -> Result<(), SinkError> {
        match e {
            AuditEvent::Transition(t) => self.map_transition(t, out)?,
            AuditEvent::Refusal(r) => {
                let (role, action) = recorder(r.actor.role, r.operation.action());
                let record = leo_store::Refusal {
                    change: text("change", r.change.as_str())?,
                    attempted_role: r.actor.role,
                    operation: text("operation", r.operation.as_str())?,
                    reason: text(
                        "reason",
                        &with_identity(&r.reason, r.actor.identity.as_str()),
                    )?,
                };
                let id = Self::event_id(r.change.as_str(), r.at, "refusal", &record)?;
                out.push((role, Event::new(id, action, r.at, record.into())));
            }
            AuditEvent::BundleRefusal {
                change,
                actor,
                bundle: _,
                check,
                at,
                reason,
            } => out.push(bundle_refusal(
                change,
                actor.identity.as_str(),
                *check,
                *at,
                reason,
            )?),
            AuditEvent::GateRun {
                change,
                actor: _,
                run,
            } => {
                let (Some(outcome), Some(finished)) = (run.status().outcome(), run.finished_at())
                else {
                    return Err(Box::new(SinkRefused(format!(
                        "gate run {} has not finished; leo_gate_executions records results",
                        run.context()
                    ))));
                };
                let ms = run.duration().map_or(0, |d| d.as_millis());
                let record = GateExecution {
                    pr_number: self.pr,
                    gate: text("gate", run.context().as_str())?,
                    commit: run.commit().clone(),
                    outcome,
                    started_at: run.started_at(),
                    duration_ms: u32::try_from(ms).unwrap_or(u32::MAX),
                };
                let id = Self::event_id(change.as_str(), finished, "gate", &record)?;
                out.push((
                    Role::Plan,
                    Event::new(id, Action::MonitorGates, finished, record.into()),
                ));
            }
            AuditEvent::Verdict(v) => {
                let a = &v.assessment;
                let confidence = leo_store::Confidence::new(a.aggregate.whole_percent_floor())?;
                let verdict_json = serde_json::to_vec(v.as_ref())?;
                let reasons: Vec<String> = a
                    .reasons
                    .iter()
                    .map(|r| serde_json::to_string(r).unwrap_or_default())
                    .collect();
                let summary = format!(
                    "PLAN-SUPERVISOR: {}; aggregate {}; spread {}; head {}; reasons [{}]",
                    a.verdict,
                    a.aggregate,
                    a.spread,
                    v.head,
                    reasons.join(", ")
                );
                let record = VerificationResult {
                    pr_number: self.pr,
                    verdict: ScoredVerdict::new(a.verdict, confidence)?,
                    inputs: vec![
                        VerificationInput {
                            name: "bundle".into(),
                            digest: v.bundle,
                        },
                        VerificationInput {
                            name: "verdict_record".into(),
                            digest: Sha256Digest::of(&verdict_json),
                        },
                    ],
                    summary: text("summary", &with_identity(&summary, v.supervisor.as_str()))?,
                };
                let at = v.issued_at();
                let id = Self::event_id(v.change.as_str(), at, "verdict", &record)?;
                out.push((
                    Role::Plan,
                    Event::new(id, Action::IssueVerdict, at, record.into()),
                ));
            }
            AuditEvent::LeadDecision(l) => {
                let decision = match l.decision.kind {
                    LeadDecisionKind::Approve => ApprovalOutcome::Approved,
                    LeadDecisionKind::Reject => ApprovalOutcome::Rejected,
                    LeadDecisionKind::Override => ApprovalOutcome::Override,
                };
                let why = format!(
                    "{} (reviewed {} of bundle {})",
                    l.decision.justification, l.reviewed, l.bundle
                );
                let record = ApprovalDecision {
                    pr_number: self.pr,
                    decision,
                    justification: text(
                        "justification",
                        &with_identity(&why, l.lead.identity.as_str()),
                    )?,
                };
                let id = Self::event_id(l.change.as_str(), l.at, "lead", &record)?;
                out.push((
                    Role::Lead,
                    Event::new(id, Action::EscalationReview, l.at, record.into()),
                ));
            }
            AuditEvent::Priority { priority, .. } => {
                return Err(Box::new(SinkRefused(format!(
                    "priority {priority:?}: leo-store has no record kind for priorities"
                ))));
            }
        }
        Ok(())
    }

    fn map_transition(
        &mut self,
        t: &Transition,
        out: &mut Vec<(Role, Event<Record>)>,
    ) -> Result<(), SinkError> {
        let via = TRANSITIONS
            .iter()
            .find(|e| e.from == t.from && e.to == t.to && leo_store::allowed(t.actor, e.via))
            .map_or(Action::DatabaseWrites, |e| e.via);
        let (role, action) = recorder(t.actor, via);
        let change = t.change.as_str();
        let record = LabelTransition {
            change: text("change", change)?,
            from: t.from.map(|f| text("from", f.label())).transpose()?,
            to: text("to", t.to.label())?,
            reason: text(
                "reason",
                &with_identity(t.reason.as_str(), t.identity.as_str()),
            )?,
        };
        let id = Self::event_id(change, t.at, "label", &record)?;
        out.push((role, Event::new(id, action, t.at, record.into())));

        let wanted = match t.to {
            LabelState::ClaudeEnforcing => true,
            LabelState::GatesPassing => false,
            _ => return Ok(()),
        };
        for staged in std::mem::take(&mut self.staged) {
            match staged {
                Staged::CodexReady {
                    bundle,
                    commit,
                    branch,
                } if wanted => {
                    let record = HandoffEvent {
                        stage: HandoffStage::CodexReady,
                        bundle_hash: bundle,
                        commit,
                        branch: text("branch", &branch)?,
                        pr_number: None,
                    };
                    let id = Self::event_id(change, t.at, "codex-ready", &record)?;
                    out.push((
                        Role::ClaudeExec,
                        Event::new(id, Action::SignArtifacts, t.at, record.into()),
                    ));
                }
                Staged::ClaudeApplied {
                    bundle,
                    commit,
                    branch,
                } if !wanted => {
                    let record = HandoffEvent {
                        stage: HandoffStage::ClaudeApplied,
                        bundle_hash: bundle,
                        commit,
                        branch: text("branch", &branch)?,
                        pr_number: Some(self.pr),
                    };
                    let id = Self::event_id(change, t.at, "claude-applied", &record)?;
                    out.push((
                        Role::ClaudeExec,
                        Event::new(id, Action::CreatePr, t.at, record.into()),
                    ));
                }
                Staged::Signature(s) if !wanted => {
                    let record = signature_record(&s)?;
                    let id = Self::event_id(change, t.at, "signature", &record)?;
                    out.push((
                        Role::ClaudeExec,
                        Event::new(id, Action::SignArtifacts, t.at, record.into()),
                    ));
                }
                other => self.staged.push(other),
            }
        }
        Ok(())
    }

    /// Appends one operation's records, all filed by `role`, in one transaction.
    fn write(&mut self, role: Role, events: Vec<Event<Record>>) -> Result<(), SinkError> {
        let h = &mut self.handles;
        match role {
            Role::ClaudeExec => h.enforcer.append_mixed(enforcer_batch(events)?)?,
            Role::Plan => h.supervisor.append_mixed(supervisor_batch(events)?)?,
            Role::Lead => h.lead.append_mixed(lead_batch(events)?)?,
            Role::System => h.system.append_mixed(system_batch(events)?)?,
            Role::Codex => {
                return Err(Box::new(SinkRefused(
                    "the builder has no writer handle".into(),
                )));
            }
        };
        Ok(())
    }

    /// [`AuditSink::record`] without the restore on failure.
    fn record_batch(&mut self, events: &[AuditEvent]) -> Result<(), SinkError> {
        let mut mapped = Vec::new();
        for e in events {
            self.map(e, &mut mapped)?;
        }
        let Some(&(role, _)) = mapped.first() else {
            return Ok(());
        };
        if let Some((other, _)) = mapped.iter().find(|(r, _)| *r != role) {
            return Err(Box::new(SinkRefused(format!(
                "one batch would need the {role} and the {other} handles, and two handles \
                 cannot share a transaction"
            ))));
        }
        self.write(role, mapped.into_iter().map(|(_, e)| e).collect())
    }
}

/// The enforcer's refusal of the builder's bundle: a `Refusal` attempted by the builder whose
/// operation is the failed check, filed by the enforcer under `SignArtifacts` (the action of
/// the `claude_enforcing → needs_revision` edge it is recorded with).
fn bundle_refusal(
    change: &ChangeId,
    identity: &str,
    check: leo_store::BundleCheck,
    at: Timestamp,
    reason: &Line,
) -> Result<(Role, Event<Record>), SinkError> {
    let record = leo_store::Refusal {
        change: text("change", change.as_str())?,
        attempted_role: Role::Codex,
        operation: text("operation", check.as_str())?,
        reason: text("reason", &with_identity(reason.as_str(), identity))?,
    };
    let id = StoreSink::event_id(change.as_str(), at, "refusal", &record)?;
    Ok((
        Role::ClaudeExec,
        Event::new(id, Action::SignArtifacts, at, record.into()),
    ))
}

fn signature_record(s: &SignatureFacts) -> Result<ArtifactSignature, SinkError> {
    let identity = super::identity_of(&s.report.signer)?;
    let backend = signature_backend(s.selection.backend);
    let fallback_reason = match (backend, &s.selection.fallback_reason) {
        (SignatureBackend::Sigstore, _) => None,
        (_, Some(r)) => Some(text("fallback_reason", r)?),
        (_, None) => Some(text("fallback_reason", "Sigstore not selected")?),
    };
    Ok(ArtifactSignature {
        bundle_hash: s.bundle,
        backend,
        signer: text(
            "signer",
            &format!("{} (signature sha256 {})", identity, s.signature_digest),
        )?,
        fallback_reason,
    })
}

impl AuditSink for StoreSink {
    fn record(&mut self, events: &[AuditEvent]) -> Result<(), SinkError> {
        let staged = self.staged.clone();
        let result = self.record_batch(events);
        if result.is_err() {
            // Nothing was appended: the staged records still wait for their transition.
            self.staged = staged;
        }
        result
    }
}

impl FlowSink for StoreSink {
    fn stage(&mut self, record: Staged) {
        self.staged.push(record);
    }

    fn unstage(&mut self) {
        self.staged.clear();
    }

    fn as_audit(&mut self) -> &mut dyn AuditSink {
        self
    }
}
