//! SOP §14.6 metrics from a series of reports: mean time to detect (MTTD) and to remediate
//! (MTTR).
//!
//! A drift *episode* of one object starts at the first report that finds it drifted and ends at
//! the first later report where it is in sync or gone. Its detection delay runs from the
//! drift's onset to that first report; the onset is the live object's last managed-fields
//! write when known, else the previous report's time (so the delay is an upper bound), and
//! unknown for the very first report. Its remediation time runs from detection to the end of
//! the episode; episodes still open at the last report have none.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::object::ResourceKey;
use crate::report::DriftReport;

/// §14.6: MTTD target (seconds).
pub const MTTD_TARGET_SECS: f64 = 120.0;
/// §14.6: MTTD alert threshold (seconds).
pub const MTTD_ALERT_SECS: f64 = 300.0;
/// §14.6: MTTR target (seconds).
pub const MTTR_TARGET_SECS: f64 = 900.0;
/// §14.6: MTTR alert threshold (seconds).
pub const MTTR_ALERT_SECS: f64 = 1800.0;

/// How a metric compares with its §14.6 target and alert threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetStatus {
    /// Below the target.
    Met,
    /// At or above the target, not above the alert threshold.
    Warning,
    /// Above the alert threshold.
    Alert,
    /// No sample.
    Unknown,
}

impl TargetStatus {
    fn of(value: Option<f64>, target: f64, alert: f64) -> Self {
        match value {
            None => Self::Unknown,
            Some(v) if v < target => Self::Met,
            Some(v) if v > alert => Self::Alert,
            Some(_) => Self::Warning,
        }
    }
}

/// MTTD and MTTR over a series of reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftMetrics {
    /// Reports read.
    pub reports: usize,
    /// Drift episodes seen.
    pub episodes: usize,
    /// Episodes that ended.
    pub resolved: usize,
    /// Episodes still open at the last report.
    pub open: usize,
    /// Mean time to detect, seconds (episodes with a known onset).
    pub mttd_seconds: Option<f64>,
    /// Mean time to remediate, seconds (resolved episodes).
    pub mttr_seconds: Option<f64>,
    /// MTTD against §14.6 (< 2 min, alert > 5 min).
    pub mttd_status: TargetStatus,
    /// MTTR against §14.6 (< 15 min, alert > 30 min).
    pub mttr_status: TargetStatus,
}

/// Computes the metrics; reports may come in any order (they are sorted by `detectedAt`).
pub fn compute_metrics(reports: &[DriftReport]) -> DriftMetrics {
    let mut ordered: Vec<&DriftReport> = reports.iter().collect();
    ordered.sort_by_key(|r| r.status.detected_at);
    let mut open: HashMap<&ResourceKey, OffsetDateTime> = HashMap::new();
    let (mut detect, mut repair) = (Vec::new(), Vec::new());
    let mut episodes = 0usize;
    let mut previous: Option<OffsetDateTime> = None;
    for report in ordered {
        let now = report.status.detected_at;
        let mut present = HashSet::new();
        for r in &report.status.resources {
            present.insert(&r.key);
            if r.drift {
                if open.contains_key(&r.key) {
                    continue;
                }
                episodes += 1;
                open.insert(&r.key, now);
                let onset = r
                    .live_changed_at
                    .as_deref()
                    .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
                    .filter(|t| *t <= now)
                    .or(previous);
                if let Some(onset) = onset {
                    detect.push(seconds(now - onset));
                }
            } else if let Some(since) = open.remove(&r.key) {
                repair.push(seconds(now - since));
            }
        }
        let gone: Vec<&ResourceKey> = open
            .keys()
            .filter(|k| !present.contains(*k))
            .copied()
            .collect();
        for key in gone {
            if let Some(since) = open.remove(key) {
                repair.push(seconds(now - since));
            }
        }
        previous = Some(now);
    }
    let mttd = mean(&detect);
    let mttr = mean(&repair);
    DriftMetrics {
        reports: reports.len(),
        episodes,
        resolved: repair.len(),
        open: open.len(),
        mttd_seconds: mttd,
        mttr_seconds: mttr,
        mttd_status: TargetStatus::of(mttd, MTTD_TARGET_SECS, MTTD_ALERT_SECS),
        mttr_status: TargetStatus::of(mttr, MTTR_TARGET_SECS, MTTR_ALERT_SECS),
    }
}

fn seconds(d: time::Duration) -> f64 {
    d.as_seconds_f64()
}

fn mean(samples: &[f64]) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (!samples.is_empty()).then(|| samples.iter().sum::<f64>() / samples.len() as f64)
}
