//! The merge gate (SOP §4.1 step 11, §2.1 branch protection): a pure function of the
//! evidence, so the merge machinery can re-run it on what the audit trail holds.

use leo_artifact::{CommitSha, PlanVerdict, Sha256Digest};
use serde::{Deserialize, Serialize};

use crate::checks::ChecksReport;
use crate::error::{Error, Result};
use crate::lead::{LeadDecisionKind, LeadRecord};
use crate::state::LabelState;
use crate::verdict::VerdictRecord;
use crate::workflow::Workflow;

/// What authorised a merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by", content = "decision")]
pub enum MergeAuthority {
    /// PLAN's PASS for this bundle and head.
    PlanPass,
    /// LEAD's approval or override of a CONDITIONAL_PASS/ESCALATE for this bundle.
    Lead(LeadDecisionKind),
}

/// What the merge gate looks at.
#[derive(Clone, Copy, Debug)]
pub struct MergeEvidence<'a> {
    /// The bundle about to be merged.
    pub bundle: &'a Sha256Digest,
    /// The head commit about to be merged.
    pub head: &'a CommitSha,
    /// The latest verdict on record.
    pub verdict: Option<&'a VerdictRecord>,
    /// The latest LEAD decision on record.
    pub lead: Option<&'a LeadRecord>,
    /// The required checks evaluated on `head`.
    pub checks: &'a ChecksReport,
}

/// Allows the merge only when a PASS, or a LEAD approval after CONDITIONAL_PASS/ESCALATE, is
/// recorded for *this bundle hash* (and the verdict for this head commit, and it follows from
/// its recorded inputs), and every required check passed on the head commit.
pub fn merge_gate(e: &MergeEvidence<'_>) -> Result<MergeAuthority> {
    let verdict = e
        .verdict
        .ok_or(Error::MergeNotAuthorized { verdict: None })?;
    if verdict.bundle != *e.bundle {
        return Err(Error::VerdictForOtherBundle {
            expected: *e.bundle,
            found: verdict.bundle,
        });
    }
    if verdict.head != *e.head {
        return Err(Error::VerdictForOtherCommit {
            expected: e.head.clone(),
            found: verdict.head.clone(),
        });
    }
    let v = verdict.recompute()?.verdict;
    let authority = match (v, e.lead) {
        (PlanVerdict::Pass, _) => MergeAuthority::PlanPass,
        (PlanVerdict::ConditionalPass | PlanVerdict::Escalate, Some(l))
            if l.decision.kind.approves() =>
        {
            if l.bundle != *e.bundle {
                return Err(Error::LeadDecisionForOtherBundle {
                    expected: *e.bundle,
                    found: l.bundle,
                });
            }
            if l.reviewed != v || !l.decision.kind.applies_to(v) {
                return Err(Error::DecisionNotAllowed {
                    decision: l.decision.kind,
                    verdict: v,
                });
            }
            MergeAuthority::Lead(l.decision.kind)
        }
        _ => return Err(Error::MergeNotAuthorized { verdict: Some(v) }),
    };
    if e.checks.head != *e.head {
        return Err(Error::GateRunForOtherCommit {
            head: e.head.clone(),
            found: e.checks.head.clone(),
        });
    }
    if !e.checks.all_passed() {
        return Err(Error::RequiredChecksNotPassed {
            head: e.head.clone(),
            unmet: e.checks.unmet(),
        });
    }
    Ok(authority)
}

/// The changes ready to merge, in merge order: higher priority first, then the one ready
/// longest, then by id.
pub fn merge_order<'a>(changes: impl IntoIterator<Item = &'a Workflow>) -> Vec<&'a Workflow> {
    let mut ready: Vec<&Workflow> = changes
        .into_iter()
        .filter(|w| w.state() == LabelState::ReadyToMerge)
        .collect();
    ready.sort_by(|a, b| {
        b.priority()
            .cmp(&a.priority())
            .then(a.entered_at().cmp(&b.entered_at()))
            .then_with(|| a.id().cmp(b.id()))
    });
    ready
}
