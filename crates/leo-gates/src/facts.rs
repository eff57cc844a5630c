//! The typed, already-verified facts the enforcer module feeds a [`Workflow`], and a
//! change's configuration.
//!
//! [`Workflow`]: crate::Workflow

use leo_artifact::{CommitSha, Sha256Digest};
use leo_store::BundleCheck;
use serde::{Deserialize, Serialize};

use crate::checks::RequiredChecks;
use crate::subcheck::{Requirement, SubChecks};
use crate::text::Line;
use crate::verdict::VerdictPolicy;

/// Most gate runs one change may record per revision.
pub const MAX_GATE_RUNS: usize = 10_000;

/// A change's configuration. [`Default`] is the SOP's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowConfig {
    /// The required checks.
    pub required_checks: RequiredChecks,
    /// The verdict rules.
    pub verdict_policy: VerdictPolicy,
}

/// The builder's handoff: `[CODEX-READY:<bundle>]` on `commit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodexReady {
    /// SHA-256 of `artifact.tar.gz`.
    pub bundle: Sha256Digest,
    /// The `staging/codex-*` commit carrying the marker.
    pub commit: CommitSha,
}

/// The enforcer's result after verifying, signing and applying the bundle and triggering the
/// required workflows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// The bundle verified (must be the handed-off one).
    pub bundle: Sha256Digest,
    /// The `[CLAUDE-APPLIED:<hash>]` commit on `feature/*`: the head the gates run on.
    pub head: CommitSha,
}

/// The enforcer's refusal: verification failed or the patch conflicted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleRefusal {
    /// The bundle refused (must be the handed-off one).
    pub bundle: Sha256Digest,
    /// The check that failed (recorded as the refusal's operation).
    pub check: BundleCheck,
    /// Why, e.g. the failed check's error or the conflicting paths.
    pub reason: Line,
}

/// PLAN's sub-check results for a verdict. The gate facts and the time are not PLAN's to
/// claim: the workflow derives them from the recorded gate runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisorReport {
    /// The five sub-checks.
    pub sub_checks: SubChecks,
    /// The requirements.
    pub requirements: Vec<Requirement>,
    /// Resolution rounds completed.
    pub resolution_rounds: u32,
}
