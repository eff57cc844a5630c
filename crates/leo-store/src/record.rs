//! Typed records of the audit trail (SOP §7.2) and the value types they are built from.
//!
//! Every constrained value is a newtype that can only be constructed valid, so a record in
//! hand is a record the database will accept and `leo audit verify` can re-derive byte for
//! byte.

use std::fmt;
use std::str::FromStr;

use leo_artifact::{CommitSha, Marker, PlanVerdict, Sha256Digest};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, snippet};
use crate::role::{Action, Role, allowed, may_write};

/// Longest public key (raw bytes or armored text), in bytes.
pub const MAX_PUBLIC_KEY_LEN: usize = 64 * 1024;
/// Most inputs one verification result may list.
pub const MAX_VERIFICATION_INPUTS: usize = 256;
/// The SOP §2.1 confidence a PASS verdict needs.
pub const PASS_CONFIDENCE: u8 = 85;

pub use crate::flow::{
    ArtifactSignature, LabelTransition, PolicyEvaluation, PolicyMode, PolicyResult, Refusal,
    SignatureBackend,
};
pub use crate::values::{EventId, MAX_EVENT_ID_LEN, MAX_TEXT_LEN, PrNumber, Text, Timestamp};

/// The actions a workflow record (label transition, refusal) may be filed under: every
/// action but `GeneratePatches` (the builder never writes). The recording role files it under
/// the action it was performing (e.g. PLAN under `IssueVerdict`, the merge under
/// `AllowMerge`), or under its generic `DatabaseWrites` when it records what another role
/// did (e.g. the enforcer recording the builder's `[CODEX-READY]` edge).
const WORKFLOW_ACTIONS: &[Action] = &[
    Action::SignArtifacts,
    Action::CreatePr,
    Action::TriggerWorkflows,
    Action::MonitorGates,
    Action::IssueVerdict,
    Action::EscalationReview,
    Action::DatabaseWrites,
    Action::AllowMerge,
];

/// Which table a record lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// `leo_handoff_tracking`: handoff events.
    Handoff,
    /// `leo_verification_results`: PLAN verdicts.
    Verification,
    /// `leo_gate_executions`: workflow results.
    GateExecution,
    /// `pr_approval_audit`: LEAD decisions.
    Approval,
    /// `leo_signing_keys`: public keys and validity windows.
    SigningKey,
    /// `leo_label_transitions`: SOP §3 label changes (schema version 2).
    LabelTransition,
    /// `leo_refusals`: refused operations (schema version 2).
    Refusal,
    /// `leo_artifact_signatures`: which backend signed a bundle (schema version 2).
    ArtifactSignature,
    /// `leo_policy_evaluations`: policy rule results (schema version 2).
    PolicyEvaluation,
}

impl RecordKind {
    /// Every kind.
    pub const ALL: [RecordKind; 9] = [
        RecordKind::Handoff,
        RecordKind::Verification,
        RecordKind::GateExecution,
        RecordKind::Approval,
        RecordKind::SigningKey,
        RecordKind::LabelTransition,
        RecordKind::Refusal,
        RecordKind::ArtifactSignature,
        RecordKind::PolicyEvaluation,
    ];

    /// The kinds schema version 1 created.
    pub const V1: [RecordKind; 5] = [
        RecordKind::Handoff,
        RecordKind::Verification,
        RecordKind::GateExecution,
        RecordKind::Approval,
        RecordKind::SigningKey,
    ];

    /// The kinds schema version 2 added.
    pub const V2: [RecordKind; 4] = [
        RecordKind::LabelTransition,
        RecordKind::Refusal,
        RecordKind::ArtifactSignature,
        RecordKind::PolicyEvaluation,
    ];

    /// The SOP §7.2 table name.
    pub const fn table(self) -> &'static str {
        match self {
            RecordKind::Handoff => "leo_handoff_tracking",
            RecordKind::Verification => "leo_verification_results",
            RecordKind::GateExecution => "leo_gate_executions",
            RecordKind::Approval => "pr_approval_audit",
            RecordKind::SigningKey => "leo_signing_keys",
            RecordKind::LabelTransition => "leo_label_transitions",
            RecordKind::Refusal => "leo_refusals",
            RecordKind::ArtifactSignature => "leo_artifact_signatures",
            RecordKind::PolicyEvaluation => "leo_policy_evaluations",
        }
    }

    /// The name stored in the log's `kind` column.
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordKind::Handoff => "handoff",
            RecordKind::Verification => "verification",
            RecordKind::GateExecution => "gate_execution",
            RecordKind::Approval => "approval",
            RecordKind::SigningKey => "signing_key",
            RecordKind::LabelTransition => "label_transition",
            RecordKind::Refusal => "refusal",
            RecordKind::ArtifactSignature => "artifact_signature",
            RecordKind::PolicyEvaluation => "policy_evaluation",
        }
    }

    /// The actions a record of this kind may be filed under.
    pub const fn actions(self) -> &'static [Action] {
        match self {
            RecordKind::Handoff => &[
                Action::SignArtifacts,
                Action::CreatePr,
                Action::TriggerWorkflows,
            ],
            RecordKind::Verification => &[Action::IssueVerdict],
            RecordKind::GateExecution => &[Action::TriggerWorkflows, Action::MonitorGates],
            RecordKind::Approval => &[Action::EscalationReview],
            RecordKind::SigningKey => &[Action::SignArtifacts],
            RecordKind::LabelTransition | RecordKind::Refusal => WORKFLOW_ACTIONS,
            RecordKind::ArtifactSignature => &[Action::SignArtifacts],
            // Policy Verification is a required check: the enforcer records what it triggered,
            // PLAN what it monitored (the same split as gate executions).
            RecordKind::PolicyEvaluation => &[Action::TriggerWorkflows, Action::MonitorGates],
        }
    }

    /// Whether `role` may file a record of this kind under `action`: the role may write,
    /// the §5 matrix gives it the action, and records of this kind are filed under it. The
    /// databases are seeded with exactly these triples (`leo_log_rules`, which PostgreSQL's
    /// row-level security reads; SQLite's matrix constraints are generated from them).
    pub fn accepts(self, role: Role, action: Action) -> bool {
        may_write(role) && allowed(role, action) && self.actions().contains(&action)
    }

    /// The roles that may file records of this kind (under at least one action).
    pub fn writers(self) -> impl Iterator<Item = Role> {
        Role::ALL
            .into_iter()
            .filter(move |r| self.actions().iter().any(|a| self.accepts(*r, *a)))
    }

    /// Parses the log's `kind` column.
    pub fn parse(s: &str) -> Result<Self> {
        RecordKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Error::UnknownName {
                kind: "record kind",
                input: snippet(s),
            })
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stage of a handoff (SOP §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HandoffStage {
    /// `[CODEX-READY:<hash>]` received from the builder.
    CodexReady,
    /// `[CLAUDE-APPLIED:<hash>]` written by the enforcer.
    ClaudeApplied,
}

/// A handoff event (`leo_handoff_tracking`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HandoffEvent {
    /// Which marker.
    pub stage: HandoffStage,
    /// SHA-256 of `artifact.tar.gz`.
    pub bundle_hash: Sha256Digest,
    /// The commit carrying the marker.
    pub commit: CommitSha,
    /// Its branch (`staging/codex-*` or `feature/*`).
    pub branch: Text,
    /// The PR, once one exists.
    pub pr_number: Option<PrNumber>,
}

impl HandoffEvent {
    /// The SOP §4.2 marker this event records.
    pub fn marker(&self) -> Marker {
        match self.stage {
            HandoffStage::CodexReady => Marker::CodexReady(self.bundle_hash),
            HandoffStage::ClaudeApplied => Marker::ClaudeApplied(self.bundle_hash),
        }
    }
}

/// Confidence in percent, 0 to 100.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Confidence(u8);

impl Confidence {
    /// Refuses values above 100.
    pub fn new(pct: u8) -> Result<Self> {
        if pct > 100 {
            return Err(Error::field(
                "confidence",
                format!("{pct} % is above 100 %"),
            ));
        }
        Ok(Confidence(pct))
    }

    /// The percentage.
    pub const fn get(self) -> u8 {
        self.0
    }
}

/// A verdict together with its confidence; PASS needs ≥ 85 % (SOP §2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ScoredVerdict {
    verdict: PlanVerdict,
    confidence: Confidence,
}

impl ScoredVerdict {
    /// Refuses a PASS below [`PASS_CONFIDENCE`].
    pub fn new(verdict: PlanVerdict, confidence: Confidence) -> Result<Self> {
        if verdict == PlanVerdict::Pass && confidence.get() < PASS_CONFIDENCE {
            return Err(Error::VerdictConfidence {
                verdict,
                min: PASS_CONFIDENCE,
                confidence: confidence.get(),
            });
        }
        Ok(ScoredVerdict {
            verdict,
            confidence,
        })
    }

    /// The verdict.
    pub const fn verdict(self) -> PlanVerdict {
        self.verdict
    }

    /// The confidence.
    pub const fn confidence(self) -> Confidence {
        self.confidence
    }
}

/// One input a verification consumed: a named piece of evidence and its digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationInput {
    /// What it is (`bundle`, `attestation`, `sbom`, `gate:slsa`, ...).
    pub name: String,
    /// Its SHA-256.
    pub digest: Sha256Digest,
}

/// A PLAN verdict with its inputs (`leo_verification_results`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerificationResult {
    /// The PR verified.
    pub pr_number: PrNumber,
    /// Verdict and confidence.
    pub verdict: ScoredVerdict,
    /// The evidence consumed, in order.
    pub inputs: Vec<VerificationInput>,
    /// One-line summary.
    pub summary: Text,
}

impl VerificationResult {
    /// Checks the input list (count, names).
    pub fn check_inputs(inputs: &[VerificationInput]) -> Result<()> {
        if inputs.len() > MAX_VERIFICATION_INPUTS {
            return Err(Error::field(
                "inputs",
                format!("more than {MAX_VERIFICATION_INPUTS} inputs"),
            ));
        }
        for i in inputs {
            Text::new("inputs.name", &i.name)?;
        }
        Ok(())
    }
}

/// How a gate run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GateOutcome {
    /// Passed.
    Success,
    /// Failed.
    Failure,
    /// Cancelled.
    Cancelled,
    /// Did not finish in time (SOP §6.2: 4 hours).
    TimedOut,
}

/// A gate (workflow) execution with its duration (`leo_gate_executions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GateExecution {
    /// The PR.
    pub pr_number: PrNumber,
    /// The gate, e.g. `LEO Gate Validation / Run Gate 3 for PRD-42`.
    pub gate: Text,
    /// The commit the gate ran on.
    pub commit: CommitSha,
    /// How it ended.
    pub outcome: GateOutcome,
    /// When it started.
    pub started_at: Timestamp,
    /// How long it ran, in milliseconds.
    pub duration_ms: u32,
}

/// LEAD's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalOutcome {
    /// `LEAD-APPROVED`.
    Approved,
    /// Sent back.
    Rejected,
    /// Override of a non-PASS verdict (SOP §2.2: with documented justification).
    Override,
}

/// An approval decision with its justification (`pr_approval_audit`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApprovalDecision {
    /// The PR.
    pub pr_number: PrNumber,
    /// The decision.
    pub decision: ApprovalOutcome,
    /// Why (always required; SOP §2.2 demands it for overrides).
    pub justification: Text,
}

/// A public key as stored: raw bytes or ASCII-armored text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKeyMaterial {
    /// Raw key bytes (e.g. a 32-byte Ed25519 key, DER SPKI).
    Raw(Vec<u8>),
    /// An armored block (`-----BEGIN PGP PUBLIC KEY BLOCK-----` ...).
    Armored(String),
}

impl PublicKeyMaterial {
    /// Refuses empty, oversized or non-armored material.
    pub fn check(&self) -> Result<()> {
        let len = match self {
            PublicKeyMaterial::Raw(b) => b.len(),
            PublicKeyMaterial::Armored(s) => {
                if !s.trim_start().starts_with("-----BEGIN ") {
                    return Err(Error::field(
                        "public_key",
                        "armored key must start with -----BEGIN",
                    ));
                }
                s.len()
            }
        };
        if len == 0 || len > MAX_PUBLIC_KEY_LEN {
            return Err(Error::field(
                "public_key",
                format!("must be 1 to {MAX_PUBLIC_KEY_LEN} bytes, got {len}"),
            ));
        }
        Ok(())
    }
}

impl Serialize for PublicKeyMaterial {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        match self {
            PublicKeyMaterial::Raw(b) => m.serialize_entry("raw", &hex::encode(b))?,
            PublicKeyMaterial::Armored(a) => m.serialize_entry("armored", a)?,
        }
        m.end()
    }
}

/// A key fingerprint: 16 to 64 lowercase hex characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl FromStr for Fingerprint {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let hex_ok = s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !(16..=64).contains(&s.len()) || !hex_ok {
            return Err(Error::field(
                "fingerprint",
                format!("{:?} is not 16 to 64 lowercase hex characters", snippet(s)),
            ));
        }
        Ok(Fingerprint(s.to_owned()))
    }
}

impl Fingerprint {
    /// The fingerprint.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A key's validity window: `not_before < not_after`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ValidityWindow {
    not_before: Timestamp,
    not_after: Timestamp,
}

impl ValidityWindow {
    /// Refuses an empty or inverted window.
    pub fn new(not_before: Timestamp, not_after: Timestamp) -> Result<Self> {
        if not_before >= not_after {
            return Err(Error::field(
                "validity",
                format!("not_before {not_before} is not before not_after {not_after}"),
            ));
        }
        Ok(ValidityWindow {
            not_before,
            not_after,
        })
    }

    /// Start (inclusive).
    pub const fn not_before(self) -> Timestamp {
        self.not_before
    }

    /// End (exclusive).
    pub const fn not_after(self) -> Timestamp {
        self.not_after
    }

    /// Whether `t` lies inside the window.
    pub fn contains(self, t: Timestamp) -> bool {
        self.not_before <= t && t < self.not_after
    }
}

/// A signing key from rotation (`leo_signing_keys`, SOP §10.3: "store public keys in
/// database").
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SigningKeyRecord {
    /// The key's fingerprint.
    pub fingerprint: Fingerprint,
    /// Its algorithm (`ed25519`, `rsa4096`, `openpgp`...).
    pub algorithm: Text,
    /// The public key.
    pub public_key: PublicKeyMaterial,
    /// When it may be used.
    pub validity: ValidityWindow,
}

/// Any record, tagged by kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Record {
    /// A handoff event.
    Handoff(HandoffEvent),
    /// A verification result.
    Verification(VerificationResult),
    /// A gate execution.
    GateExecution(GateExecution),
    /// An approval decision.
    Approval(ApprovalDecision),
    /// A signing key.
    SigningKey(SigningKeyRecord),
    /// A label transition.
    LabelTransition(LabelTransition),
    /// A refused operation.
    Refusal(Refusal),
    /// An artifact signature.
    ArtifactSignature(ArtifactSignature),
    /// A policy evaluation.
    PolicyEvaluation(PolicyEvaluation),
}

impl Record {
    /// Its kind.
    pub const fn kind(&self) -> RecordKind {
        match self {
            Record::Handoff(_) => RecordKind::Handoff,
            Record::Verification(_) => RecordKind::Verification,
            Record::GateExecution(_) => RecordKind::GateExecution,
            Record::Approval(_) => RecordKind::Approval,
            Record::SigningKey(_) => RecordKind::SigningKey,
            Record::LabelTransition(_) => RecordKind::LabelTransition,
            Record::Refusal(_) => RecordKind::Refusal,
            Record::ArtifactSignature(_) => RecordKind::ArtifactSignature,
            Record::PolicyEvaluation(_) => RecordKind::PolicyEvaluation,
        }
    }

    /// Checks the parts the type system cannot (list lengths, key material).
    pub fn check(&self) -> Result<()> {
        match self {
            Record::Verification(v) => VerificationResult::check_inputs(&v.inputs),
            Record::SigningKey(k) => k.public_key.check(),
            Record::ArtifactSignature(s) => s.check(),
            _ => Ok(()),
        }
    }
}

macro_rules! into_record {
    ($($t:ident => $v:ident),*) => {$(
        impl From<$t> for Record {
            fn from(r: $t) -> Record {
                Record::$v(r)
            }
        }
    )*};
}
into_record!(
    HandoffEvent => Handoff,
    VerificationResult => Verification,
    GateExecution => GateExecution,
    ApprovalDecision => Approval,
    SigningKeyRecord => SigningKey,
    LabelTransition => LabelTransition,
    Refusal => Refusal,
    ArtifactSignature => ArtifactSignature,
    PolicyEvaluation => PolicyEvaluation
);

#[cfg(test)]
mod tests;
