//! LEAD's decisions (SOP §2.2, §6.2) and priorities.
//!
//! LEAD reviews only what PLAN hands over:
//!
//! | verdict under review | approve | override | reject |
//! |---|---|---|---|
//! | `CONDITIONAL_PASS` (minor issues) | ✅ | ✅ | ✅ |
//! | `ESCALATE` (no consensus, or gates timed out) | ❌ | ✅ | ✅ |
//!
//! Approving a change PLAN could not verify is an override (SOP §6.2: "approve with
//! override"). Every decision carries a written justification (the audit trail's
//! `pr_approval_audit.justification` and the `LEAD-APPROVED: <reason>` marker need one); a
//! decision without one is refused with [`Error::JustificationRequired`]. An approval or
//! override never bypasses the required checks: the merge gate still needs them all passed.

use std::fmt;

use leo_artifact::{PlanVerdict, Sha256Digest};
use leo_store::Timestamp;
use serde::{Deserialize, Serialize};

use crate::authz::Actor;
use crate::error::{Error, Result};
use crate::text::{ChangeId, Line};

/// What LEAD decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadDecisionKind {
    /// Accept a CONDITIONAL_PASS (`LEAD-APPROVED`).
    Approve,
    /// Send the change back to the builder.
    Reject,
    /// Approve despite ESCALATE (or CONDITIONAL_PASS).
    Override,
}

impl LeadDecisionKind {
    /// Whether the decision lets the change proceed to the merge gate.
    pub const fn approves(self) -> bool {
        matches!(self, LeadDecisionKind::Approve | LeadDecisionKind::Override)
    }

    /// Whether this decision applies to `verdict` (the table in the module docs).
    pub const fn applies_to(self, verdict: PlanVerdict) -> bool {
        match verdict {
            PlanVerdict::ConditionalPass => true,
            PlanVerdict::Escalate => !matches!(self, LeadDecisionKind::Approve),
            PlanVerdict::Pass | PlanVerdict::Fail => false,
        }
    }

    /// A stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            LeadDecisionKind::Approve => "approve",
            LeadDecisionKind::Reject => "reject",
            LeadDecisionKind::Override => "override",
        }
    }
}

impl fmt::Display for LeadDecisionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decision with its written justification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadDecision {
    /// What.
    pub kind: LeadDecisionKind,
    /// Why.
    pub justification: Line,
}

impl LeadDecision {
    /// Refuses an empty (or multi-line, or oversized) justification.
    pub fn new(kind: LeadDecisionKind, justification: &str) -> Result<Self> {
        let justification = Line::new("justification", justification)
            .map_err(|_| Error::JustificationRequired { decision: kind })?;
        Ok(LeadDecision {
            kind,
            justification,
        })
    }
}

/// A LEAD decision as recorded (`pr_approval_audit`), bound to a bundle hash and the verdict
/// it reviewed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadRecord {
    /// The change.
    pub change: ChangeId,
    /// The bundle decided on.
    pub bundle: Sha256Digest,
    /// The verdict reviewed.
    pub reviewed: PlanVerdict,
    /// The decision.
    pub decision: LeadDecision,
    /// LEAD.
    pub lead: Actor,
    /// When.
    #[serde(with = "crate::timefmt")]
    pub at: Timestamp,
}

/// A change's priority among competing changes (SOP §2.2: LEAD sets it). Higher first.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Last.
    Low,
    /// The default.
    #[default]
    Normal,
    /// Before normal.
    High,
    /// First.
    Critical,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_table() {
        use LeadDecisionKind::*;
        use PlanVerdict::*;
        let table = [
            (Approve, [false, false, true, false]),
            (Override, [false, false, true, true]),
            (Reject, [false, false, true, true]),
        ];
        for (kind, row) in table {
            for (verdict, want) in [Pass, Fail, ConditionalPass, Escalate].into_iter().zip(row) {
                assert_eq!(kind.applies_to(verdict), want, "{kind} after {verdict}");
            }
        }
    }

    #[test]
    fn every_decision_needs_a_justification() {
        for kind in [
            LeadDecisionKind::Approve,
            LeadDecisionKind::Reject,
            LeadDecisionKind::Override,
        ] {
            for blank in ["", "   ", "two\nlines"] {
                assert!(matches!(
                    LeadDecision::new(kind, blank),
                    Err(Error::JustificationRequired { decision }) if decision == kind
                ));
            }
            assert_eq!(LeadDecision::new(kind, "risk accepted").unwrap().kind, kind);
        }
    }

    #[test]
    fn priorities_order() {
        assert!(
            Priority::Critical > Priority::High
                && Priority::High > Priority::Normal
                && Priority::Normal > Priority::Low
        );
    }
}
