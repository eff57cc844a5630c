//! PLAN's verdict (SOP §2.1, §6.2, §6.3) as a pure function of recorded inputs.
//!
//! # The rules, in the order they are applied
//!
//! 1. **FAIL** if any sub-check reports a *critical* finding, or a required check failed on
//!    the head commit (fail-safe: a known critical problem is never escalated instead).
//! 2. **ESCALATE** if the required checks did not all complete within the gates timeout
//!    (default 4 h) after the workflows were triggered: still pending when evaluated later
//!    than `triggered_at + timeout`, or completed later than that. Exactly at the deadline is
//!    still within it. Pending before the deadline is no verdict at all:
//!    [`Error::GatesPending`].
//! 3. Sub-checks **disagree** when the spread — the most confident sub-check's confidence
//!    minus the least confident one's — is *greater than* `disagreement_spread` (default 25
//!    percentage points; the SOP gives no number, this is LEO's). Disagreement after
//!    `max_resolution_rounds` (default 3, SOP §6.3) completed resolution rounds is
//!    **ESCALATE**; before that it is no verdict: [`Error::ResolutionPending`]. More rounds
//!    than the maximum are refused ([`Error::TooManyResolutionRounds`]).
//! 4. **FAIL** if the aggregate confidence is below `pass_threshold` (default 85 %), if a
//!    requirement is unmet, or if a sub-check reports a *major* finding. The aggregate is
//!    the weighted mean of the five confidences, rounded down to a hundredth of a percent
//!    ([`SubChecks::aggregate`]; default weights are equal).
//! 5. **CONDITIONAL_PASS** if *minor* findings remain (goes to LEAD).
//! 6. **PASS** otherwise: aggregate ≥ threshold, every requirement met, only informational
//!    findings.
//!
//! A [`VerdictRecord`] carries the policy and the inputs it was computed from, so anybody can
//! recompute it ([`VerdictRecord::recompute`]).

use leo_artifact::{CommitSha, PlanVerdict, Sha256Digest};
use leo_store::Timestamp;
use serde::{Deserialize, Serialize};

use crate::checks::ChecksReport;
use crate::confidence::Confidence;
use crate::error::{Error, Result};
use crate::subcheck::{MAX_REQUIREMENTS, Requirement, Severity, SubCheckKind, SubChecks, Weights};
use crate::text::{ChangeId, Identity, Line};
use crate::timefmt::plus_secs;

/// The SOP §2.1 PASS threshold, in percent.
pub const SOP_PASS_THRESHOLD_PERCENT: u8 = 85;
/// The SOP §6.3 resolution limit.
pub const SOP_MAX_RESOLUTION_ROUNDS: u32 = 3;
/// The SOP §6.2 gates timeout, in seconds (4 hours).
pub const SOP_GATES_TIMEOUT_SECS: u64 = 4 * 60 * 60;
/// LEO's default disagreement spread, in percent (the SOP names no value).
pub const DEFAULT_DISAGREEMENT_SPREAD_PERCENT: u8 = 25;
/// Largest `max_resolution_rounds` a policy may set.
pub const MAX_RESOLUTION_ROUNDS_LIMIT: u32 = 100;

/// The verdict's thresholds and weights. [`Default`] is the SOP's values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictPolicy {
    /// PASS needs an aggregate at least this high.
    pub pass_threshold: Confidence,
    /// Sub-check weights in the aggregate.
    pub weights: Weights,
    /// Resolution rounds before a disagreement escalates.
    pub max_resolution_rounds: u32,
    /// Sub-checks disagree when their spread is greater than this.
    pub disagreement_spread: Confidence,
    /// Gates must complete within this many seconds of being triggered.
    pub gates_timeout_secs: u64,
}

impl Default for VerdictPolicy {
    fn default() -> Self {
        VerdictPolicy {
            pass_threshold: Confidence::from_hundredths(
                u16::from(SOP_PASS_THRESHOLD_PERCENT) * 100,
            )
            .unwrap_or_default(),
            weights: Weights::default(),
            max_resolution_rounds: SOP_MAX_RESOLUTION_ROUNDS,
            disagreement_spread: Confidence::from_hundredths(
                u16::from(DEFAULT_DISAGREEMENT_SPREAD_PERCENT) * 100,
            )
            .unwrap_or_default(),
            gates_timeout_secs: SOP_GATES_TIMEOUT_SECS,
        }
    }
}

impl VerdictPolicy {
    /// Refuses unusable settings.
    pub fn check(&self) -> Result<()> {
        self.weights.check()?;
        if self.max_resolution_rounds > MAX_RESOLUTION_ROUNDS_LIMIT {
            return Err(Error::InvalidConfig {
                field: "max_resolution_rounds",
                reason: format!("more than {MAX_RESOLUTION_ROUNDS_LIMIT}"),
            });
        }
        if self.gates_timeout_secs == 0 {
            return Err(Error::InvalidConfig {
                field: "gates_timeout_secs",
                reason: "must be positive".into(),
            });
        }
        Ok(())
    }
}

/// Where the required checks stand, as the verdict sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum GatesStatus {
    /// Some required check has not finished (or not started).
    Pending,
    /// All passed.
    Passed {
        /// When the last one finished.
        #[serde(with = "crate::timefmt")]
        completed_at: Timestamp,
    },
    /// A required check failed.
    Failed {
        /// Its context.
        context: String,
    },
}

/// The required checks' facts for a verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateFacts {
    /// When the enforcer triggered the workflows (the timeout runs from here).
    #[serde(with = "crate::timefmt")]
    pub triggered_at: Timestamp,
    /// Their state.
    pub status: GatesStatus,
}

impl GateFacts {
    /// Derives the facts from a checks report.
    pub fn from_report(triggered_at: Timestamp, report: &ChecksReport) -> Self {
        let status = if let Some(context) = report.first_failure() {
            GatesStatus::Failed {
                context: context.to_owned(),
            }
        } else if let Some(completed_at) = report.completed_at() {
            GatesStatus::Passed { completed_at }
        } else {
            GatesStatus::Pending
        };
        GateFacts {
            triggered_at,
            status,
        }
    }
}

/// Everything a verdict is computed from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictInput {
    /// The five sub-check results.
    pub sub_checks: SubChecks,
    /// The change's requirements (at most [`MAX_REQUIREMENTS`]).
    pub requirements: Vec<Requirement>,
    /// Resolution rounds completed so far.
    pub resolution_rounds: u32,
    /// The required checks.
    pub gates: GateFacts,
    /// When PLAN evaluated (passed in; never the wall clock).
    #[serde(with = "crate::timefmt")]
    pub evaluated_at: Timestamp,
}

/// Why a verdict came out as it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum VerdictReason {
    /// A critical finding.
    CriticalFinding {
        /// The sub-check.
        check: SubCheckKind,
        /// The finding.
        summary: Line,
    },
    /// A required check failed.
    RequiredCheckFailed {
        /// Its context.
        context: String,
    },
    /// The gates did not complete in time.
    GatesTimedOut {
        /// The deadline missed.
        #[serde(with = "crate::timefmt")]
        deadline: Timestamp,
    },
    /// Sub-checks still disagree after the last resolution round.
    SubChecksDisagree {
        /// Their spread.
        spread: Confidence,
        /// Rounds completed.
        rounds: u32,
    },
    /// The aggregate confidence is below the threshold.
    ConfidenceBelowThreshold {
        /// The aggregate.
        aggregate: Confidence,
        /// The threshold.
        threshold: Confidence,
    },
    /// A requirement is not met.
    RequirementUnmet {
        /// Which.
        id: Line,
    },
    /// A major finding.
    MajorFinding {
        /// The sub-check.
        check: SubCheckKind,
        /// The finding.
        summary: Line,
    },
    /// A minor finding (CONDITIONAL_PASS).
    MinorFinding {
        /// The sub-check.
        check: SubCheckKind,
        /// The finding.
        summary: Line,
    },
}

/// A computed verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// The verdict.
    pub verdict: PlanVerdict,
    /// The weighted aggregate confidence.
    pub aggregate: Confidence,
    /// The sub-checks' spread.
    pub spread: Confidence,
    /// Why (empty for PASS).
    pub reasons: Vec<VerdictReason>,
}

fn findings_of(
    sub_checks: &SubChecks,
    severity: Severity,
    make: fn(SubCheckKind, Line) -> VerdictReason,
) -> Vec<VerdictReason> {
    sub_checks
        .findings()
        .filter(|(_, f)| f.severity == severity)
        .map(|(k, f)| make(k, f.summary.clone()))
        .collect()
}

/// Applies the rules in the module documentation.
pub fn evaluate(policy: &VerdictPolicy, input: &VerdictInput) -> Result<Assessment> {
    policy.check()?;
    if input.requirements.len() > MAX_REQUIREMENTS {
        return Err(Error::TooMany {
            field: "requirements",
            max: MAX_REQUIREMENTS,
        });
    }
    let (rounds, max) = (input.resolution_rounds, policy.max_resolution_rounds);
    if rounds > max {
        return Err(Error::TooManyResolutionRounds { rounds, max });
    }
    let aggregate = input.sub_checks.aggregate(&policy.weights)?;
    let spread = input.sub_checks.spread();
    let done = |verdict, reasons| {
        Ok(Assessment {
            verdict,
            aggregate,
            spread,
            reasons,
        })
    };

    // 1. Critical findings and failed required checks.
    let mut reasons = findings_of(&input.sub_checks, Severity::Critical, |check, summary| {
        VerdictReason::CriticalFinding { check, summary }
    });
    if let GatesStatus::Failed { context } = &input.gates.status {
        reasons.push(VerdictReason::RequiredCheckFailed {
            context: context.clone(),
        });
    }
    if !reasons.is_empty() {
        return done(PlanVerdict::Fail, reasons);
    }

    // 2. The gates timeout.
    let deadline = plus_secs(input.gates.triggered_at, policy.gates_timeout_secs);
    let late = match input.gates.status {
        GatesStatus::Pending if input.evaluated_at <= deadline => {
            return Err(Error::GatesPending { deadline });
        }
        GatesStatus::Pending => true,
        GatesStatus::Passed { completed_at } => completed_at > deadline,
        GatesStatus::Failed { .. } => false,
    };
    if late {
        return done(
            PlanVerdict::Escalate,
            vec![VerdictReason::GatesTimedOut { deadline }],
        );
    }

    // 3. Disagreement.
    if spread > policy.disagreement_spread {
        if rounds < max {
            return Err(Error::ResolutionPending {
                rounds,
                max,
                spread,
            });
        }
        return done(
            PlanVerdict::Escalate,
            vec![VerdictReason::SubChecksDisagree { spread, rounds }],
        );
    }

    // 4. Confidence, requirements, major findings.
    let mut reasons = Vec::new();
    if aggregate < policy.pass_threshold {
        reasons.push(VerdictReason::ConfidenceBelowThreshold {
            aggregate,
            threshold: policy.pass_threshold,
        });
    }
    reasons.extend(
        input
            .requirements
            .iter()
            .filter(|r| !r.met)
            .map(|r| VerdictReason::RequirementUnmet { id: r.id.clone() }),
    );
    reasons.extend(findings_of(
        &input.sub_checks,
        Severity::Major,
        |check, summary| VerdictReason::MajorFinding { check, summary },
    ));
    if !reasons.is_empty() {
        return done(PlanVerdict::Fail, reasons);
    }

    // 5. and 6.
    let minors = findings_of(&input.sub_checks, Severity::Minor, |check, summary| {
        VerdictReason::MinorFinding { check, summary }
    });
    if minors.is_empty() {
        done(PlanVerdict::Pass, minors)
    } else {
        done(PlanVerdict::ConditionalPass, minors)
    }
}

/// A verdict as recorded (`leo_verification_results`): bound to one bundle hash and one head
/// commit, with the policy and inputs it was computed from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictRecord {
    /// The change.
    pub change: ChangeId,
    /// The bundle the verdict is about.
    pub bundle: Sha256Digest,
    /// The head commit the gates ran on.
    pub head: CommitSha,
    /// PLAN's identity.
    pub supervisor: Identity,
    /// The policy applied.
    pub policy: VerdictPolicy,
    /// The inputs.
    pub input: VerdictInput,
    /// The result.
    pub assessment: Assessment,
}

impl VerdictRecord {
    /// Computes and binds a verdict.
    pub fn issue(
        change: ChangeId,
        bundle: Sha256Digest,
        head: CommitSha,
        supervisor: Identity,
        policy: VerdictPolicy,
        input: VerdictInput,
    ) -> Result<Self> {
        let assessment = evaluate(&policy, &input)?;
        Ok(VerdictRecord {
            change,
            bundle,
            head,
            supervisor,
            policy,
            input,
            assessment,
        })
    }

    /// The verdict.
    pub fn verdict(&self) -> PlanVerdict {
        self.assessment.verdict
    }

    /// When it was issued.
    pub fn issued_at(&self) -> Timestamp {
        self.input.evaluated_at
    }

    /// Recomputes the verdict from the recorded policy and inputs; refuses a record whose
    /// verdict, aggregate or reasons do not follow from them.
    pub fn recompute(&self) -> Result<Assessment> {
        let again = evaluate(&self.policy, &self.input)?;
        if again != self.assessment {
            return Err(Error::VerdictMismatch {
                recorded: self.assessment.verdict,
                recomputed: again.verdict,
            });
        }
        Ok(again)
    }
}
