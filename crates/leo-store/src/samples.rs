//! Sample events, one per record kind, for examples, tests and benchmarks.

use leo_artifact::{CommitSha, PlanVerdict, Sha256Digest};

use crate::codec::Event;
use crate::error::{Error, Result};
use crate::record::{
    ApprovalDecision, ApprovalOutcome, Confidence, EventId, GateExecution, GateOutcome,
    HandoffEvent, HandoffStage, PrNumber, PublicKeyMaterial, ScoredVerdict, SigningKeyRecord, Text,
    Timestamp, ValidityWindow, VerificationInput, VerificationResult,
};
use crate::role::Action;

/// A fixed time (2026-01-01T00:00:00Z) so sample leaves are reproducible.
pub const T0: Timestamp = Timestamp::from_unix_micros(1_767_225_600_000_000);

fn id(prefix: &str, what: &str, n: u32) -> Result<EventId> {
    format!("{prefix}-{what}-{n}").parse()
}

fn commit() -> Result<CommitSha> {
    "0123456789abcdef0123456789abcdef01234567"
        .parse()
        .map_err(|e: leo_artifact::Error| Error::field("commit", e.to_string()))
}

fn pr(n: u32) -> Result<PrNumber> {
    PrNumber::new(n.max(1))
}

/// The enforcer records a `[CLAUDE-APPLIED]` handoff for PR `n`.
pub fn handoff(prefix: &str, n: u32) -> Result<Event<HandoffEvent>> {
    Ok(Event {
        id: id(prefix, "handoff", n)?,
        action: Action::CreatePr,
        recorded_at: T0,
        record: HandoffEvent {
            stage: HandoffStage::ClaudeApplied,
            bundle_hash: Sha256Digest::of(&n.to_be_bytes()),
            commit: commit()?,
            branch: Text::new("branch", "feature/audit-trail")?,
            pr_number: Some(pr(n)?),
        },
    })
}

/// PLAN's PASS verdict for PR `n`.
pub fn verification(prefix: &str, n: u32) -> Result<Event<VerificationResult>> {
    Ok(Event {
        id: id(prefix, "verdict", n)?,
        action: Action::IssueVerdict,
        recorded_at: T0,
        record: VerificationResult {
            pr_number: pr(n)?,
            verdict: ScoredVerdict::new(PlanVerdict::Pass, Confidence::new(92)?)?,
            inputs: vec![VerificationInput {
                name: "bundle".into(),
                digest: Sha256Digest::of(&n.to_be_bytes()),
            }],
            summary: Text::new("summary", "all sub-agents agree")?,
        },
    })
}

/// PLAN records a gate result for PR `n`.
pub fn gate(prefix: &str, n: u32) -> Result<Event<GateExecution>> {
    Ok(Event {
        id: id(prefix, "gate", n)?,
        action: Action::MonitorGates,
        recorded_at: T0,
        record: GateExecution {
            pr_number: pr(n)?,
            gate: Text::new("gate", "LEO Gate Validation / Run Gate 3 for PRD-7")?,
            commit: commit()?,
            outcome: GateOutcome::Success,
            started_at: T0,
            duration_ms: 93_000,
        },
    })
}

/// LEAD approves PR `n`.
pub fn approval(prefix: &str, n: u32) -> Result<Event<ApprovalDecision>> {
    Ok(Event {
        id: id(prefix, "approval", n)?,
        action: Action::EscalationReview,
        recorded_at: T0,
        record: ApprovalDecision {
            pr_number: pr(n)?,
            decision: ApprovalOutcome::Approved,
            justification: Text::new(
                "justification",
                "CONDITIONAL_PASS reviewed: docs-only follow-up",
            )?,
        },
    })
}

/// The enforcer records a rotated signing key (valid 30 days, SOP §10.3).
pub fn signing_key(prefix: &str, n: u32) -> Result<Event<SigningKeyRecord>> {
    let day = 86_400_000_000;
    Ok(Event {
        id: id(prefix, "key", n)?,
        action: Action::SignArtifacts,
        recorded_at: T0,
        record: SigningKeyRecord {
            fingerprint: format!("{:016x}", 0xabc0_0000_0000_u64 + u64::from(n)).parse()?,
            algorithm: Text::new("algorithm", "ed25519")?,
            public_key: PublicKeyMaterial::Raw(n.to_be_bytes().repeat(8)),
            validity: ValidityWindow::new(
                T0,
                Timestamp::from_unix_micros(T0.unix_micros() + 30 * day),
            )?,
        },
    })
}

/// One event of every kind (type-erased), ids prefixed with `prefix`.
pub fn sample_events(prefix: &str) -> Result<Vec<Event>> {
    Ok(vec![
        handoff(prefix, 1)?.into_any(),
        verification(prefix, 1)?.into_any(),
        gate(prefix, 1)?.into_any(),
        approval(prefix, 1)?.into_any(),
        signing_key(prefix, 1)?.into_any(),
    ])
}
