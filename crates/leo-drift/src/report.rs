//! `DriftReport`: the result of one check, as a Kubernetes-style document (YAML or JSON).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::compare::FieldDiff;
use crate::error::Result;
use crate::object::ResourceKey;
use crate::policy::{API_VERSION, ObjectMeta, check_header, parse_document, to_document};
use crate::score::ComplianceScore;
use crate::severity::{Severity, SeverityCounts};

/// What was found for one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Live matches desired after normalization.
    InSync,
    /// Live differs; see the field diffs.
    Changed,
    /// Desired object absent from the cluster (always drift).
    MissingLive,
    /// Live object absent from the desired state (drift only when pruning).
    ExtraLive,
}

impl Outcome {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InSync => "in-sync",
            Self::Changed => "changed",
            Self::MissingLive => "missing-live",
            Self::ExtraLive => "extra-live",
        }
    }
}

/// The result for one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceResult {
    /// Which object.
    #[serde(flatten)]
    pub key: ResourceKey,
    /// What was found.
    pub outcome: Outcome,
    /// Whether it counts as drift.
    pub drift: bool,
    /// Severity, for drift only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Field-level differences (Secret values masked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<FieldDiff>,
    /// When the live object was last written, from its managed fields (RFC 3339), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_changed_at: Option<String>,
}

impl ResourceResult {
    /// The drift events this result contributes to the score.
    pub fn events(&self) -> u64 {
        if !self.drift {
            return 0;
        }
        match self.outcome {
            Outcome::Changed => self.diffs.len() as u64,
            Outcome::InSync => 0,
            Outcome::MissingLive | Outcome::ExtraLive => 1,
        }
    }
}

/// Counts over all results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The score's denominator (desired objects, plus extra live ones when pruning).
    pub total_resources: u64,
    /// In sync.
    pub in_sync: u64,
    /// Changed.
    pub changed: u64,
    /// Missing live.
    pub missing_live: u64,
    /// Extra live (drift or not).
    pub extra_live: u64,
    /// Objects that count as drift.
    pub drifted: u64,
    /// Drifted objects per severity.
    pub drifted_by_severity: SeverityCounts,
    /// Drift events per severity (the score's counts).
    pub events_by_severity: SeverityCounts,
}

/// `spec` of a `DriftReport`: what was compared.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftReportSpec {
    /// The `DriftPolicy` name.
    pub policy: String,
    /// Where the desired state came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_source: Option<String>,
    /// Where the live state came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_source: Option<String>,
}

/// `status` of a `DriftReport`: what was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftReportStatus {
    /// When the check ran.
    #[serde(with = "time::serde::rfc3339")]
    pub detected_at: OffsetDateTime,
    /// Counts.
    pub summary: Summary,
    /// The §14.5 score.
    pub compliance: ComplianceScore,
    /// Per-object results, sorted by key.
    pub resources: Vec<ResourceResult>,
}

/// A `DriftReport` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftReport {
    /// Always [`API_VERSION`].
    pub api_version: String,
    /// Always `DriftReport`.
    pub kind: String,
    /// Metadata.
    pub metadata: ObjectMeta,
    /// What was compared.
    pub spec: DriftReportSpec,
    /// What was found.
    pub status: DriftReportStatus,
}

impl DriftReport {
    /// Builds a report from results (sorted here) and computes summary and score.
    pub fn new(
        spec: DriftReportSpec,
        detected_at: OffsetDateTime,
        mut resources: Vec<ResourceResult>,
        prune: bool,
    ) -> Self {
        resources.sort_by(|a, b| a.key.cmp(&b.key));
        let mut summary = Summary::default();
        for r in &resources {
            match r.outcome {
                Outcome::InSync => summary.in_sync += 1,
                Outcome::Changed => summary.changed += 1,
                Outcome::MissingLive => summary.missing_live += 1,
                Outcome::ExtraLive => summary.extra_live += 1,
            }
            if r.outcome != Outcome::ExtraLive || prune {
                summary.total_resources += 1;
            }
            if let (true, Some(severity)) = (r.drift, r.severity) {
                summary.drifted += 1;
                summary.drifted_by_severity.add(severity, 1);
                summary.events_by_severity.add(severity, r.events());
            }
        }
        let compliance =
            ComplianceScore::compute(&summary.events_by_severity, summary.total_resources);
        let stamp = detected_at.unix_timestamp();
        Self {
            api_version: API_VERSION.to_owned(),
            kind: "DriftReport".to_owned(),
            metadata: ObjectMeta {
                name: format!("drift-{}-{stamp}", spec.policy),
                ..ObjectMeta::default()
            },
            spec,
            status: DriftReportStatus {
                detected_at,
                summary,
                compliance,
                resources,
            },
        }
    }

    /// Whether any object counts as drift.
    pub fn has_drift(&self) -> bool {
        self.status.summary.drifted > 0
    }

    /// Parses a report from YAML or JSON and checks `apiVersion` and `kind`.
    pub fn parse(text: &str) -> Result<Self> {
        let report: Self = parse_document(text, "DriftReport")?;
        check_header(&report.api_version, &report.kind, "DriftReport")?;
        Ok(report)
    }

    /// The report as YAML.
    pub fn to_yaml(&self) -> Result<String> {
        to_document(self, "DriftReport", false)
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        to_document(self, "DriftReport", true)
    }
}
