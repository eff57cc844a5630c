//! `DriftPolicy`: what to compare, what to ignore, how severe a drift is and how to remediate
//! it, as a Kubernetes-style document (`apiVersion`/`kind`/`metadata`/`spec`) in YAML or JSON.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::compare::{CompareOptions, FieldDiff};
use crate::error::{Error, Result};
use crate::object::ResourceKey;
use crate::pointer::JsonPointer;
use crate::severity::{self, Severity};

/// The API version of LEO's drift documents.
pub const API_VERSION: &str = "drift.leo.dev/v1alpha1";
/// Shortest check interval accepted (seconds).
pub const MIN_CHECK_INTERVAL_SECS: u64 = 10;
/// Longest check interval accepted (seconds).
pub const MAX_CHECK_INTERVAL_SECS: u64 = 24 * 60 * 60;
/// The SOP §14.1 default check interval (seconds).
pub const DEFAULT_CHECK_INTERVAL_SECS: u64 = 120;

/// `metadata` of a LEO document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// Name.
    pub name: String,
    /// Namespace, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// A check interval such as `2m`, `30s` or `1h`, within the named limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInterval(u64);

impl CheckInterval {
    /// Seconds.
    pub fn seconds(self) -> u64 {
        self.0
    }
}

impl Default for CheckInterval {
    fn default() -> Self {
        Self(DEFAULT_CHECK_INTERVAL_SECS)
    }
}

impl FromStr for CheckInterval {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidDocument {
            kind: "DriftPolicy",
            reason: format!("checkInterval {text:?}: {reason}"),
        };
        let (number, unit) = text.split_at(text.len().saturating_sub(1));
        let factor = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            _ => return Err(invalid("needs a unit s, m or h")),
        };
        let n: u64 = number.parse().map_err(|_| invalid("not a whole number"))?;
        let secs = n.saturating_mul(factor);
        if !(MIN_CHECK_INTERVAL_SECS..=MAX_CHECK_INTERVAL_SECS).contains(&secs) {
            return Err(invalid("outside 10s..24h"));
        }
        Ok(Self(secs))
    }
}

impl fmt::Display for CheckInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            s if s % 3600 == 0 => write!(f, "{}h", s / 3600),
            s if s % 60 == 0 => write!(f, "{}m", s / 60),
            s => write!(f, "{s}s"),
        }
    }
}

impl Serialize for CheckInterval {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CheckInterval {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Which objects a rule applies to; an absent field matches anything (`group: ""` is core).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IgnoreRule {
    /// API group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Fields never compared (at and below each pointer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json_pointers: Vec<JsonPointer>,
    /// Field managers whose fields are never compared (from live `managedFields`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managed_fields_managers: Vec<String>,
}

impl IgnoreRule {
    /// Whether the rule applies to `key`.
    pub fn applies_to(&self, key: &ResourceKey) -> bool {
        let ok = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        ok(&self.group, &key.group)
            && ok(&self.kind, &key.kind)
            && ok(&self.namespace, &key.namespace)
            && ok(&self.name, &key.name)
    }
}

/// A per-kind severity override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeverityOverride {
    /// API group (`""` for core).
    #[serde(default)]
    pub group: String,
    /// Kind.
    pub kind: String,
    /// The severity to use.
    pub severity: Severity,
}

/// Severity settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeveritySpec {
    /// Severity of kinds §14.2 does not list and no override names.
    #[serde(default = "default_severity")]
    pub default: Severity,
    /// Overrides, first match wins; they beat the §14.2 table but not the metadata-only rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<SeverityOverride>,
}

fn default_severity() -> Severity {
    Severity::Medium
}

impl Default for SeveritySpec {
    fn default() -> Self {
        Self {
            default: default_severity(),
            overrides: Vec::new(),
        }
    }
}

/// What to do about a drift (SOP §14.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Apply the desired state to the cluster.
    Sync,
    /// Revert to a previous revision.
    Rollback,
    /// Notify only.
    AlertOnly,
}

impl Strategy {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Rollback => "rollback",
            Self::AlertOnly => "alert-only",
        }
    }
}

/// Strategy per severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Strategies {
    /// Critical (§14.1: auto-remediation with approval).
    pub critical: Strategy,
    /// High.
    pub high: Strategy,
    /// Medium.
    pub medium: Strategy,
    /// Low (§14.1: auto-remediation optional, so alert-only by default).
    pub low: Strategy,
}

impl Default for Strategies {
    fn default() -> Self {
        Self {
            critical: Strategy::Sync,
            high: Strategy::Sync,
            medium: Strategy::Sync,
            low: Strategy::AlertOnly,
        }
    }
}

impl Strategies {
    /// The strategy for `severity`.
    pub fn for_severity(&self, severity: Severity) -> Strategy {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
        }
    }
}

/// Remediation settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemediationSpec {
    /// Strategy per severity.
    #[serde(default)]
    pub strategies: Strategies,
    /// Secrets are alert-only whatever their severity's strategy (SOP §13.3, §14.4).
    #[serde(default = "yes")]
    pub secrets_alert_only: bool,
    /// Severities whose actions need an approval before they run (§14.1: critical).
    #[serde(default = "default_approval")]
    pub approval_required: Vec<Severity>,
    /// The Argo CD application, for rollback commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// The revision to roll back to (Argo CD history ID or Git revision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_revision: Option<String>,
}

fn yes() -> bool {
    true
}

fn default_approval() -> Vec<Severity> {
    vec![Severity::Critical]
}

impl Default for RemediationSpec {
    fn default() -> Self {
        Self {
            strategies: Strategies::default(),
            secrets_alert_only: true,
            approval_required: default_approval(),
            application: None,
            rollback_revision: None,
        }
    }
}

/// `spec` of a `DriftPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DriftPolicySpec {
    /// How often the check runs (SOP §14.1: 2 minutes).
    #[serde(default)]
    pub check_interval: CheckInterval,
    /// Namespace of desired objects that set none (Argo CD's destination namespace).
    #[serde(default = "default_namespace")]
    pub default_namespace: String,
    /// Every live field the desired state does not set is drift.
    #[serde(default)]
    pub strict: bool,
    /// Live objects absent from the desired state are drift (they would be pruned).
    #[serde(default)]
    pub prune: bool,
    /// Ignore controller-filled `rules` of aggregated ClusterRoles (Argo CD's option).
    #[serde(default)]
    pub ignore_aggregated_roles: bool,
    /// Field managers whose `Apply` entries record the desired state's previous apply.
    #[serde(default = "default_apply_managers")]
    pub apply_managers: Vec<String>,
    /// Ignore rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<IgnoreRule>,
    /// Severity settings.
    #[serde(default)]
    pub severity: SeveritySpec,
    /// Remediation settings.
    #[serde(default)]
    pub remediation: RemediationSpec,
}

fn default_namespace() -> String {
    "default".to_owned()
}

fn default_apply_managers() -> Vec<String> {
    CompareOptions::default().apply_managers
}

impl Default for DriftPolicySpec {
    fn default() -> Self {
        Self {
            check_interval: CheckInterval::default(),
            default_namespace: default_namespace(),
            strict: false,
            prune: false,
            ignore_aggregated_roles: false,
            apply_managers: default_apply_managers(),
            ignore: Vec::new(),
            severity: SeveritySpec::default(),
            remediation: RemediationSpec::default(),
        }
    }
}

/// A `DriftPolicy` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DriftPolicy {
    /// Always [`API_VERSION`].
    pub api_version: String,
    /// Always `DriftPolicy`.
    pub kind: String,
    /// Metadata.
    pub metadata: ObjectMeta,
    /// The policy.
    #[serde(default)]
    pub spec: DriftPolicySpec,
}

impl Default for DriftPolicy {
    fn default() -> Self {
        Self {
            api_version: API_VERSION.to_owned(),
            kind: "DriftPolicy".to_owned(),
            metadata: ObjectMeta {
                name: "default".to_owned(),
                ..ObjectMeta::default()
            },
            spec: DriftPolicySpec::default(),
        }
    }
}

impl DriftPolicy {
    /// Parses a policy from YAML or JSON and checks `apiVersion` and `kind`.
    pub fn parse(text: &str) -> Result<Self> {
        let policy: Self = parse_document(text, "DriftPolicy")?;
        check_header(&policy.api_version, &policy.kind, "DriftPolicy")?;
        Ok(policy)
    }

    /// The policy as YAML.
    pub fn to_yaml(&self) -> Result<String> {
        to_document(self, "DriftPolicy", false)
    }

    /// The policy as pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        to_document(self, "DriftPolicy", true)
    }

    /// The comparison switches this policy sets.
    pub fn compare_options(&self) -> CompareOptions {
        CompareOptions {
            strict: self.spec.strict,
            ignore_aggregated_roles: self.spec.ignore_aggregated_roles,
            apply_managers: self.spec.apply_managers.clone(),
        }
    }

    /// Severity of a drift of `key` (with its field diffs when it changed): a change only to
    /// labels/annotations is low; then overrides; then the §14.2 table; then the default.
    pub fn severity_for(&self, key: &ResourceKey, diffs: Option<&[FieldDiff]>) -> Severity {
        if diffs.is_some_and(severity::metadata_only) {
            return Severity::Low;
        }
        self.spec
            .severity
            .overrides
            .iter()
            .find(|o| o.group == key.group && o.kind == key.kind)
            .map(|o| o.severity)
            .unwrap_or_else(|| severity::classify(key, None, self.spec.severity.default))
    }

    /// The ignore rules that apply to `key`.
    pub fn rules_for<'a>(
        &'a self,
        key: &'a ResourceKey,
    ) -> impl Iterator<Item = &'a IgnoreRule> + 'a {
        self.spec.ignore.iter().filter(move |r| r.applies_to(key))
    }
}

/// Parses a YAML or JSON document into `T`.
pub(crate) fn parse_document<T: serde::de::DeserializeOwned>(
    text: &str,
    kind: &'static str,
) -> Result<T> {
    let invalid = |reason: String| Error::InvalidDocument { kind, reason };
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).map_err(|e| invalid(e.to_string()));
    }
    serde_norway::from_str(text).map_err(|e| invalid(e.to_string()))
}

/// Serializes a document as YAML, or as pretty JSON when `json`.
pub(crate) fn to_document<T: Serialize>(
    value: &T,
    what: &'static str,
    json: bool,
) -> Result<String> {
    let text = if json {
        serde_json::to_string_pretty(value).map_err(|e| e.to_string())
    } else {
        serde_norway::to_string(value).map_err(|e| e.to_string())
    };
    text.map_err(|reason| Error::Serialize { what, reason })
}

pub(crate) fn check_header(api_version: &str, kind: &str, want: &'static str) -> Result<()> {
    if api_version != API_VERSION || kind != want {
        return Err(Error::InvalidDocument {
            kind: want,
            reason: format!(
                "expected apiVersion {API_VERSION} kind {want}, found {api_version} {kind}"
            ),
        });
    }
    Ok(())
}
