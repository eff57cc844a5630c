//! Drift severity (SOP §14.1/§14.2): by kind, with a metadata-only change always low.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::compare::FieldDiff;
use crate::object::ResourceKey;

/// How urgent a drift is (SOP §14.1: response time and approval follow from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Labels and annotations (1 hour).
    Low,
    /// Configuration: ConfigMap, PersistentVolumeClaim (15 minutes).
    Medium,
    /// Availability: Deployment, StatefulSet, Service (5 minutes).
    High,
    /// Security: Kyverno ClusterPolicy, Secret, NetworkPolicy (immediate, approval required).
    Critical,
}

impl Severity {
    /// All levels, most severe first.
    pub const ALL: [Severity; 4] = [Self::Critical, Self::High, Self::Medium, Self::Low];

    /// The §14.5 weight of one drift event of this severity.
    pub fn weight(self) -> u64 {
        match self {
            Self::Critical => 10,
            Self::High => 5,
            Self::Medium => 2,
            Self::Low => 1,
        }
    }

    /// The §14.1 response time, in seconds.
    pub fn response_seconds(self) -> u64 {
        match self {
            Self::Critical => 0,
            Self::High => 5 * 60,
            Self::Medium => 15 * 60,
            Self::Low => 60 * 60,
        }
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The SOP §14.2 table: (group, kind, severity).
pub const MONITORED_KINDS: &[(&str, &str, Severity)] = &[
    ("kyverno.io", "ClusterPolicy", Severity::Critical),
    ("", "Secret", Severity::Critical),
    ("networking.k8s.io", "NetworkPolicy", Severity::Critical),
    ("apps", "Deployment", Severity::High),
    ("apps", "StatefulSet", Severity::High),
    ("", "Service", Severity::High),
    ("", "ConfigMap", Severity::Medium),
    ("", "PersistentVolumeClaim", Severity::Medium),
];

/// The §14.2 severity of a kind, if the SOP lists it.
pub fn builtin(group: &str, kind: &str) -> Option<Severity> {
    MONITORED_KINDS
        .iter()
        .find(|(g, k, _)| *g == group && *k == kind)
        .map(|(_, _, s)| *s)
}

/// Whether every diff touches only `metadata.labels` or `metadata.annotations`.
pub fn metadata_only(diffs: &[FieldDiff]) -> bool {
    !diffs.is_empty()
        && diffs.iter().all(|d| {
            ["/metadata/labels", "/metadata/annotations"]
                .iter()
                .any(|p| d.path == *p || d.path.starts_with(&format!("{p}/")))
        })
}

/// How a key is judged when no override applies (kept separate so policies can reuse it).
pub fn classify(key: &ResourceKey, diffs: Option<&[FieldDiff]>, default: Severity) -> Severity {
    if diffs.is_some_and(metadata_only) {
        return Severity::Low;
    }
    builtin(&key.group, &key.kind).unwrap_or(default)
}

/// Counts per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityCounts {
    /// Critical.
    pub critical: u64,
    /// High.
    pub high: u64,
    /// Medium.
    pub medium: u64,
    /// Low.
    pub low: u64,
}

impl SeverityCounts {
    /// Adds `n` at `severity`.
    pub fn add(&mut self, severity: Severity, n: u64) {
        let slot = match severity {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
        };
        *slot = slot.saturating_add(n);
    }

    /// The §14.5 weighted sum `Critical×10 + High×5 + Medium×2 + Low×1`.
    pub fn penalty(&self) -> u64 {
        [
            (self.critical, Severity::Critical),
            (self.high, Severity::High),
            (self.medium, Severity::Medium),
            (self.low, Severity::Low),
        ]
        .iter()
        .fold(0u64, |acc, (n, s)| {
            acc.saturating_add(n.saturating_mul(s.weight()))
        })
    }

    /// The total count.
    pub fn total(&self) -> u64 {
        self.critical
            .saturating_add(self.high)
            .saturating_add(self.medium)
            .saturating_add(self.low)
    }
}
