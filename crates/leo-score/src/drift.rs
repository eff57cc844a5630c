//! The drift side of the posture (SOP §14.5-14.6), reported beside the score: the newest
//! `DriftReport`'s compliance score and MTTD/MTTR over the series.

use leo_drift::{ComplianceScore, DriftMetrics, DriftReport, compute_metrics};
use serde::Serialize;

/// The drift figures LEO exports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DriftPosture {
    /// The §14.5 score of the newest report (by `detectedAt`).
    pub compliance: ComplianceScore,
    /// MTTD/MTTR over all reports (§14.6).
    pub metrics: DriftMetrics,
}

impl DriftPosture {
    /// `None` when there are no reports (drift is then unknown, not perfect).
    pub fn from_reports(reports: &[DriftReport]) -> Option<Self> {
        let newest = reports.iter().max_by_key(|r| r.status.detected_at)?;
        Some(DriftPosture {
            compliance: newest.status.compliance,
            metrics: compute_metrics(reports),
        })
    }
}
