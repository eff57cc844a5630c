//! Sample events, one per record kind, for examples, tests and benchmarks.

use leo_artifact::{CommitSha, PlanVerdict, Sha256Digest};

use crate::codec::Event;
use crate::error::{Error, Result};
use crate::record::{
    ApprovalDecision, ApprovalOutcome, ArtifactSignature, Confidence, EventId, GateExecution,
    GateOutcome, HandoffEvent, HandoffStage, LabelTransition, PolicyEvaluation, PolicyMode,
    PolicyResult, PrNumber, PublicKeyMaterial, Refusal, ScoredVerdict, SignatureBackend,
    SigningKeyRecord, Text, Timestamp, ValidityWindow, VerificationInput, VerificationResult,
};
use crate::role::{Action, Role};

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

fn change(n: u32) -> Result<Text> {
    Text::new("change", &format!("PRD-{n}"))
}

/// PLAN's PASS moves change `PRD-n` from `gates_passing` to `ready_to_merge`.
pub fn transition(prefix: &str, n: u32) -> Result<Event<LabelTransition>> {
    Ok(Event {
        id: id(prefix, "transition", n)?,
        action: Action::IssueVerdict,
        recorded_at: T0,
        record: LabelTransition {
            change: change(n)?,
            from: Some(Text::new("from", "gates_passing")?),
            to: Text::new("to", "ready_to_merge")?,
            reason: Text::new("reason", "PLAN issues PASS")?,
        },
    })
}

/// The merge step (System) moves change `PRD-n` from `ready_to_merge` to `merged`.
pub fn merged(prefix: &str, n: u32) -> Result<Event<LabelTransition>> {
    Ok(Event {
        id: id(prefix, "merged", n)?,
        action: Action::AllowMerge,
        recorded_at: T0,
        record: LabelTransition {
            change: change(n)?,
            from: Some(Text::new("from", "ready_to_merge")?),
            to: Text::new("to", "merged")?,
            reason: Text::new("reason", "PASS recorded for this bundle hash")?,
        },
    })
}

/// The enforcer refuses the builder's attempt to sign a bundle of change `PRD-n`.
pub fn refusal(prefix: &str, n: u32) -> Result<Event<Refusal>> {
    Ok(Event {
        id: id(prefix, "refusal", n)?,
        action: Action::SignArtifacts,
        recorded_at: T0,
        record: Refusal {
            change: change(n)?,
            attempted_role: Role::Codex,
            operation: Text::new("operation", "sign_artifacts")?,
            reason: Text::new("reason", "role CODEX may not SIGN_ARTIFACTS")?,
        },
    })
}

/// The enforcer signs bundle `n` with the OpenPGP fallback (Sigstore offline).
pub fn artifact_signature(prefix: &str, n: u32) -> Result<Event<ArtifactSignature>> {
    Ok(Event {
        id: id(prefix, "signature", n)?,
        action: Action::SignArtifacts,
        recorded_at: T0,
        record: ArtifactSignature {
            bundle_hash: Sha256Digest::of(&n.to_be_bytes()),
            backend: SignatureBackend::Openpgp,
            signer: Text::new("signer", "0123456789abcdef0123456789abcdef01234567")?,
            fallback_reason: Some(Text::new(
                "fallback_reason",
                "Sigstore unreachable (air-gapped)",
            )?),
        },
    })
}

/// PLAN records a failed image-signature policy rule in enforce mode.
pub fn policy_evaluation(prefix: &str, n: u32) -> Result<Event<PolicyEvaluation>> {
    Ok(Event {
        id: id(prefix, "policy", n)?,
        action: Action::MonitorGates,
        recorded_at: T0,
        record: PolicyEvaluation {
            policy: Text::new("policy", "verify-image-signatures")?,
            rule: Text::new("rule", "check-sigstore")?,
            resource: Text::new("resource", &format!("Deployment/prod/app-{n}"))?,
            result: PolicyResult::Fail,
            mode: PolicyMode::Enforce,
            image_digest: Some(Sha256Digest::of(&n.to_le_bytes())),
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
        transition(prefix, 1)?.into_any(),
        refusal(prefix, 1)?.into_any(),
        artifact_signature(prefix, 1)?.into_any(),
        policy_evaluation(prefix, 1)?.into_any(),
    ])
}
