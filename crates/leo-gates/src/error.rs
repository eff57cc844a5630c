//! The one error type of `leo-gates`.

use leo_artifact::{CommitSha, PlanVerdict, Sha256Digest};
use leo_store::{Action, Role, Timestamp};

use crate::audit::Operation;
use crate::lead::LeadDecisionKind;
use crate::state::LabelState;
use crate::subcheck::SubCheckKind;

/// What an [`AuditSink`](crate::AuditSink) returns when it cannot record.
pub type SinkError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything `leo-gates` refuses.
///
/// Each variant is named after the check that failed and carries what a user needs to act.
/// A refused workflow operation changes nothing and is itself recorded (see
/// [`Workflow`](crate::Workflow)).
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The SOP §5 accountability matrix does not give this role this action.
    #[error("role {role} may not {action} (SOP §5 accountability matrix)")]
    NotAuthorized {
        /// Who tried.
        role: Role,
        /// What they tried.
        action: Action,
    },
    /// One signing identity was used for two roles (SOP §1: separate lanes).
    #[error("identity {identity:?} already acts as {bound_to} and may not act as {used_as}")]
    IdentityReused {
        /// The identity (key fingerprint or signer subject).
        identity: String,
        /// The role it first acted as.
        bound_to: Role,
        /// The role it tried to act as now.
        used_as: Role,
    },
    /// The SOP §3 label state machine has no such edge.
    #[error("illegal transition {} -> {to} via {via} (SOP §3 label state machine)", from.map_or("[*]", LabelState::label))]
    IllegalTransition {
        /// The current state (`None`: the change does not exist yet).
        from: Option<LabelState>,
        /// The state asked for.
        to: LabelState,
        /// The action that would have caused it.
        via: Action,
    },
    /// The operation is not available in the current state.
    #[error("{operation} is not possible while the change is {state}")]
    WrongState {
        /// What was attempted.
        operation: Operation,
        /// The current state.
        state: LabelState,
    },
    /// An event is dated before the previous one (times are passed in, never read from a clock).
    #[error("event time {at} is before the previous event at {last}")]
    ClockWentBackwards {
        /// The previous event's time.
        last: Timestamp,
        /// The time given.
        at: Timestamp,
    },
    /// A text field was empty, too long or multi-line.
    #[error("invalid {field}: {reason}")]
    InvalidText {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A change id did not parse.
    #[error("invalid change id {input:?}: {reason}")]
    InvalidChangeId {
        /// The rejected input (truncated).
        input: String,
        /// Why.
        reason: &'static str,
    },
    /// A confidence value did not parse or was out of range.
    #[error("invalid confidence {input:?}: {reason}")]
    InvalidConfidence {
        /// The rejected input (truncated).
        input: String,
        /// Why.
        reason: &'static str,
    },
    /// A configuration value (policy, required checks) is unusable.
    #[error("invalid configuration {field}: {reason}")]
    InvalidConfig {
        /// The setting.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A gate run's status and times do not fit together.
    #[error("invalid gate run for {context:?}: {reason}")]
    InvalidGateRun {
        /// The check context.
        context: String,
        /// Why.
        reason: &'static str,
    },
    /// A list exceeded its named limit.
    #[error("too many {field}: more than {max}")]
    TooMany {
        /// The list.
        field: &'static str,
        /// The limit.
        max: usize,
    },
    /// One of the five PLAN sub-checks has no result.
    #[error("sub-check {kind} has no result (all five are required)")]
    SubCheckMissing {
        /// The missing sub-check.
        kind: SubCheckKind,
    },
    /// A PLAN sub-check reported twice.
    #[error("sub-check {kind} reported more than once")]
    SubCheckDuplicated {
        /// The repeated sub-check.
        kind: SubCheckKind,
    },
    /// Required gates are still running and their deadline has not passed: no verdict yet.
    #[error("required gates are not complete; PLAN must wait until they are or until {deadline}")]
    GatesPending {
        /// When the SOP §6.2 timeout escalates.
        deadline: Timestamp,
    },
    /// Sub-checks disagree and resolution rounds remain: run another round first.
    #[error(
        "sub-checks disagree (spread {spread}) after {rounds} of {max} resolution rounds; run another round"
    )]
    ResolutionPending {
        /// Rounds completed.
        rounds: u32,
        /// The policy's maximum.
        max: u32,
        /// The spread between the most and least confident sub-check.
        spread: crate::Confidence,
    },
    /// More resolution rounds than the policy allows (SOP §6.3: max 3).
    #[error("{rounds} resolution rounds reported; at most {max} are allowed before ESCALATE")]
    TooManyResolutionRounds {
        /// Rounds reported.
        rounds: u32,
        /// The policy's maximum.
        max: u32,
    },
    /// A bundle hash differs from the one this change carries.
    #[error("bundle {found} is not this change's bundle {expected}")]
    BundleMismatch {
        /// The change's bundle.
        expected: Sha256Digest,
        /// The bundle given.
        found: Sha256Digest,
    },
    /// A gate run is for a commit other than the change's head.
    #[error("gate run is for commit {found}, not the head commit {head}")]
    GateRunForOtherCommit {
        /// The change's head commit.
        head: CommitSha,
        /// The run's commit.
        found: CommitSha,
    },
    /// LEAD was asked to decide while no CONDITIONAL_PASS or ESCALATE verdict awaits review.
    #[error("no verdict awaits LEAD review (current verdict: {})", verdict.map_or("none", PlanVerdict::as_str))]
    NoReviewPending {
        /// The current verdict, if any.
        verdict: Option<PlanVerdict>,
    },
    /// This LEAD decision does not apply to this verdict.
    #[error("LEAD may not {decision} a {verdict} verdict")]
    DecisionNotAllowed {
        /// The decision.
        decision: LeadDecisionKind,
        /// The verdict under review.
        verdict: PlanVerdict,
    },
    /// A LEAD decision came without a written justification (SOP §2.2).
    #[error("LEAD {decision} needs a written justification")]
    JustificationRequired {
        /// The decision.
        decision: LeadDecisionKind,
    },
    /// Neither a PASS nor a LEAD approval after CONDITIONAL_PASS/ESCALATE is recorded.
    #[error("merge refused: no PASS and no LEAD approval recorded (verdict: {})", verdict.map_or("none", PlanVerdict::as_str))]
    MergeNotAuthorized {
        /// The verdict recorded, if any.
        verdict: Option<PlanVerdict>,
    },
    /// The verdict on record is for another bundle.
    #[error("the recorded verdict is for bundle {found}, not {expected}")]
    VerdictForOtherBundle {
        /// The bundle being merged.
        expected: Sha256Digest,
        /// The verdict's bundle.
        found: Sha256Digest,
    },
    /// The verdict on record is for another head commit.
    #[error("the recorded verdict is for commit {found}, not the head commit {expected}")]
    VerdictForOtherCommit {
        /// The head commit being merged.
        expected: CommitSha,
        /// The verdict's commit.
        found: CommitSha,
    },
    /// The LEAD decision on record is for another bundle.
    #[error("the recorded LEAD decision is for bundle {found}, not {expected}")]
    LeadDecisionForOtherBundle {
        /// The bundle being merged.
        expected: Sha256Digest,
        /// The decision's bundle.
        found: Sha256Digest,
    },
    /// Not every required check passed on the head commit.
    #[error("required checks not passed on {head}: {}", unmet.join(", "))]
    RequiredChecksNotPassed {
        /// The head commit.
        head: CommitSha,
        /// The required check patterns that did not pass, with their state.
        unmet: Vec<String>,
    },
    /// A recorded verdict does not follow from its recorded inputs.
    #[error("recorded verdict {recorded} does not follow from its inputs, which give {recomputed}")]
    VerdictMismatch {
        /// The verdict on record.
        recorded: PlanVerdict,
        /// What the inputs give.
        recomputed: PlanVerdict,
    },
    /// The audit sink could not record; nothing changed.
    #[error("audit sink failed; the operation was not applied: {source}")]
    AuditSink {
        /// The sink's error.
        #[source]
        source: SinkError,
    },
    /// An operation was refused and the refusal could not be recorded either.
    #[error("{refusal} (and recording this refusal failed: {source})")]
    RefusalNotRecorded {
        /// The refusal.
        refusal: Box<Error>,
        /// The sink's error.
        #[source]
        source: SinkError,
    },
    /// Reading a repository, a file or a bundle failed (git, I/O, bundle format).
    #[error(transparent)]
    Artifact(#[from] leo_artifact::Error),
    /// Reading the audit trail failed.
    #[error("audit trail: {0}")]
    Store(#[from] leo_store::Error),
    // --- the enforcer flow (src/builder, src/enforcer, src/demo; issue 7) ---
    /// The bundle's SHA-256 is not the hash the builder handed off.
    #[error("bundle digest mismatch: handed off {expected}, bundle is {actual}")]
    HandoffDigestMismatch {
        /// The hash in `[CODEX-READY:<hash>]`.
        expected: Sha256Digest,
        /// The hash of the bytes read.
        actual: Sha256Digest,
    },
    /// The bundle failed a structural or digest check of the hardened reader.
    #[error("bundle rejected: {source}")]
    BundleRejected {
        /// The reader's error.
        #[source]
        source: leo_artifact::Error,
    },
    /// The attestation's signature, provenance policy, subjects or revisions did not verify.
    #[error("attestation rejected: {source}")]
    AttestationRejected {
        /// leo-attest's error.
        #[source]
        source: leo_attest::Error,
    },
    /// The SBOM could not be read as CycloneDX JSON.
    #[error("SBOM unreadable: {source}")]
    SbomUnreadable {
        /// leo-attest's error.
        #[source]
        source: leo_attest::Error,
    },
    /// The SBOM misses required NTIA minimum elements.
    #[error("SBOM not compliant: failed {}", failed.join(", "))]
    SbomNotCompliant {
        /// The failed required rules, with their offenders.
        failed: Vec<String>,
    },
    /// Building the bundle (SBOM, attestation) failed.
    #[error("building the bundle failed: {source}")]
    BuildFailed {
        /// leo-attest's error.
        #[source]
        source: leo_attest::Error,
    },
    /// The chosen backend could not sign the bundle.
    #[error("signing with {backend} failed: {source}")]
    SigningFailed {
        /// The backend used.
        backend: leo_sign::Backend,
        /// leo-sign's error.
        #[source]
        source: leo_sign::Error,
    },
    /// The patch does not apply on the merge-base (SOP §6: back to the builder).
    #[error("patch conflicts on the merge-base in: {}", paths.join(", "))]
    PatchConflict {
        /// The conflicting paths.
        paths: Vec<String>,
    },
    /// A branch name does not follow the SOP (`staging/codex-*` or `feature/*`).
    #[error("branch {branch:?} must start with {prefix}")]
    BranchNotAllowed {
        /// The name given.
        branch: String,
        /// The required prefix.
        prefix: &'static str,
    },
    /// A branch the flow would create already exists (nothing is overwritten).
    #[error("branch {branch} already exists")]
    BranchExists {
        /// The branch.
        branch: String,
    },
    /// A branch is not at the commit the step was built on (it moved meanwhile, or the
    /// bundle was built from another head): nothing is committed on top of it.
    #[error("branch {branch} is at {actual}, not at {expected} as the step expected")]
    HeadMoved {
        /// The branch.
        branch: String,
        /// Where the step expected it.
        expected: leo_artifact::CommitSha,
        /// Where it is (`None`: it does not exist).
        actual: String,
    },
    /// The patch applied on the merge-base does not give the builder's head tree (the
    /// `git apply` peer check): the bundle does not describe the change it names.
    #[error("the applied tree {actual} is not the builder's head tree {expected}")]
    TreeMismatch {
        /// The tree of the builder's head commit.
        expected: String,
        /// The tree the patch gave.
        actual: String,
    },
    /// A step failed and undoing what it had already done failed too: `left` names what
    /// remains and must be cleaned up by hand.
    #[error("{error}; undoing it failed ({source}), left behind: {left}")]
    RollbackFailed {
        /// Why the step failed.
        error: Box<Error>,
        /// What is left behind.
        left: String,
        /// Why undoing it failed.
        #[source]
        source: Box<Error>,
    },
    /// A step was recorded in the audit trail but finishing it outside the trail failed:
    /// `left` names what is missing.
    #[error("recorded, but not finished: {left} ({source})")]
    NotFinished {
        /// What is missing.
        left: String,
        /// Why.
        #[source]
        source: Box<Error>,
    },
    /// A signature report names its signer in a form LEO does not know, so its identity
    /// cannot be compared with the other lanes'.
    #[error("a signature names its signer in a form LEO does not know")]
    UnknownSignerIdentity,
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) use leo_artifact::error::snippet;
