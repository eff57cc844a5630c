//! The audit-trail side of the history audit: handoff records, verdicts and LEAD decisions,
//! indexed for the checks.

use std::collections::BTreeSet;

use leo_artifact::{CommitSha, PlanVerdict, Sha256Digest};
use leo_store::{ApprovalOutcome, HandoffStage, PrNumber, Reader, Record, Text};

use super::MarkerRef;
use crate::error::{Error, Result};
use crate::lead::LeadDecisionKind;

/// Records read per request.
const PAGE: u64 = 1_000;

/// A handoff record.
#[derive(Clone, Debug)]
pub(super) struct Handoff {
    /// Which marker.
    pub stage: HandoffStage,
    /// Its bundle hash.
    pub bundle: Sha256Digest,
    /// The commit it was recorded for.
    pub commit: CommitSha,
    /// The branch it was recorded on.
    pub branch: Text,
    /// The PR, if recorded.
    pub pr: Option<PrNumber>,
}

#[derive(Clone, Debug)]
struct Verdict {
    seq: u64,
    verdict: PlanVerdict,
    inputs: BTreeSet<Sha256Digest>,
}

#[derive(Clone, Debug)]
struct Approval {
    seq: u64,
    pr: PrNumber,
    decision: LeadDecisionKind,
}

/// What the checks need from the audit trail, read once.
#[derive(Debug, Default)]
pub(super) struct Trail {
    handoffs: Vec<Handoff>,
    verdicts: Vec<Verdict>,
    approvals: Vec<Approval>,
}

impl Trail {
    /// Reads every record (at most `max`).
    pub fn load(reader: &mut Reader, max: u64) -> Result<Self> {
        let size = reader.size()?;
        if size > max {
            return Err(Error::TooMany {
                field: "audit-trail records",
                max: usize::try_from(max).unwrap_or(usize::MAX),
            });
        }
        let mut trail = Trail::default();
        let mut from = 0;
        while from < size {
            let entries = reader.entries(from, PAGE)?;
            if entries.is_empty() {
                break;
            }
            for entry in entries {
                from = entry.seq.saturating_add(1);
                trail.add(entry.seq, entry.event.record);
            }
        }
        Ok(trail)
    }

    fn add(&mut self, seq: u64, record: Record) {
        match record {
            Record::Handoff(h) => self.handoffs.push(Handoff {
                stage: h.stage,
                bundle: h.bundle_hash,
                commit: h.commit,
                branch: h.branch,
                pr: h.pr_number,
            }),
            Record::Verification(v) => self.verdicts.push(Verdict {
                seq,
                verdict: v.verdict.verdict(),
                inputs: v.inputs.iter().map(|i| i.digest).collect(),
            }),
            Record::Approval(a) => self.approvals.push(Approval {
                seq,
                pr: a.pr_number,
                decision: match a.decision {
                    ApprovalOutcome::Approved => LeadDecisionKind::Approve,
                    ApprovalOutcome::Rejected => LeadDecisionKind::Reject,
                    ApprovalOutcome::Override => LeadDecisionKind::Override,
                },
            }),
            // Gate runs, keys, transitions, refusals, signatures, policies: not evidence here.
            _ => {}
        }
    }

    /// The handoff record for `marker` on `commit`.
    pub fn handoff(&self, marker: MarkerRef, commit: &CommitSha) -> Option<&Handoff> {
        self.handoffs
            .iter()
            .find(|h| h.stage == marker.stage && h.bundle == marker.bundle && h.commit == *commit)
    }

    /// The commits the trail records `marker` for.
    pub fn handoff_commits(&self, marker: MarkerRef) -> Vec<CommitSha> {
        self.handoffs
            .iter()
            .filter(|h| h.stage == marker.stage && h.bundle == marker.bundle)
            .map(|h| h.commit.clone())
            .collect()
    }

    /// Whether any handoff or verdict names `bundle`.
    pub fn references(&self, bundle: &Sha256Digest) -> bool {
        self.handoffs.iter().any(|h| h.bundle == *bundle)
            || self.verdicts.iter().any(|v| v.inputs.contains(bundle))
    }

    /// The PRs the handoff records link to `bundle`.
    fn prs_of(&self, bundle: &Sha256Digest) -> BTreeSet<PrNumber> {
        self.handoffs
            .iter()
            .filter(|h| h.bundle == *bundle)
            .filter_map(|h| h.pr)
            .collect()
    }

    /// Whether merging `bundle` was authorised, as the merge gate decides it: the latest
    /// verdict whose inputs name the bundle is PASS, or LEAD's latest later decision on one
    /// of the bundle's PRs approves and applies to that verdict ([`LeadDecisionKind::applies_to`]).
    ///
    /// On refusal: the bundle's first PR and the latest verdict, if any.
    pub fn merge_authority(
        &self,
        bundle: &Sha256Digest,
    ) -> std::result::Result<(), (Option<PrNumber>, Option<PlanVerdict>)> {
        let prs = self.prs_of(bundle);
        let first_pr = prs.iter().next().copied();
        let Some(latest) = self
            .verdicts
            .iter()
            .filter(|v| v.inputs.contains(bundle))
            .max_by_key(|v| v.seq)
        else {
            return Err((first_pr, None));
        };
        if latest.verdict == PlanVerdict::Pass {
            return Ok(());
        }
        let lead = self
            .approvals
            .iter()
            .filter(|a| a.seq > latest.seq && prs.contains(&a.pr))
            .max_by_key(|a| a.seq);
        match lead {
            Some(a) if a.decision.approves() && a.decision.applies_to(latest.verdict) => Ok(()),
            _ => Err((first_pr, Some(latest.verdict))),
        }
    }
}
