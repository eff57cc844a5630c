//! Remediation plans (SOP §14.4): what to apply, roll back or alert on. LEO never touches the
//! cluster; it writes the plan as manifests plus a commands file for a human or a pipeline.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::object::{Manifest, ResourceKey};
use crate::policy::{DriftPolicy, Strategy};
use crate::report::{DriftReport, Outcome};
use crate::severity::Severity;

/// Kinds `kubectl rollout undo` can roll back.
const ROLLOUT_KINDS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet"];

/// One planned action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemediationAction {
    /// The drifted object.
    #[serde(flatten)]
    pub key: ResourceKey,
    /// Its severity.
    pub severity: Severity,
    /// What the plan does.
    pub strategy: Strategy,
    /// Whether a human must approve before it runs (§14.1).
    pub approval_required: bool,
    /// Why this strategy (e.g. "Secrets are alert-only").
    pub reason: String,
    /// The command to run (or, for alerts, the alert text as a comment).
    pub command: String,
    /// The manifest file to apply, relative to the plan directory (sync only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
}

/// A remediation plan: actions, plus the desired objects the sync actions apply.
#[derive(Clone, PartialEq, Default)]
pub struct RemediationPlan {
    /// The actions, in report order.
    pub actions: Vec<RemediationAction>,
    manifests: Vec<(String, Value, bool)>,
}

impl std::fmt::Debug for RemediationPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Manifests may be Secrets: show their file names only.
        f.debug_struct("RemediationPlan")
            .field("actions", &self.actions)
            .field(
                "manifests",
                &self.manifests.iter().map(|(n, _, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl RemediationPlan {
    /// Plans remediation for every drifted object of `report`; `desired` supplies the objects
    /// to apply.
    pub fn build(report: &DriftReport, desired: &[Manifest], policy: &DriftPolicy) -> Self {
        let ns = &policy.spec.default_namespace;
        let mut by_key: HashMap<ResourceKey, &Manifest> = HashMap::new();
        for m in desired {
            let key = m.key(ns);
            if m.namespace().is_none() {
                by_key.insert(
                    ResourceKey {
                        namespace: String::new(),
                        ..key.clone()
                    },
                    m,
                );
            }
            by_key.insert(key, m);
        }
        let rem = &policy.spec.remediation;
        let mut plan = Self::default();
        for r in report.status.resources.iter().filter(|r| r.drift) {
            let Some(severity) = r.severity else { continue };
            let mut strategy = rem.strategies.for_severity(severity);
            let mut reason = format!("{severity} drift: strategy {}", strategy.as_str());
            if r.key.is_secret() && rem.secrets_alert_only && strategy != Strategy::AlertOnly {
                strategy = Strategy::AlertOnly;
                reason = "Secrets are alert-only (secretsAlertOnly)".to_owned();
            }
            let approval_required = rem.approval_required.contains(&severity);
            let mut action = RemediationAction {
                key: r.key.clone(),
                severity,
                strategy,
                approval_required,
                reason,
                command: String::new(),
                manifest: None,
            };
            match (strategy, r.outcome) {
                (Strategy::Sync, Outcome::ExtraLive) => {
                    action.command =
                        format!("kubectl delete {}{}", target(&r.key), ns_flag(&r.key));
                }
                (Strategy::Sync, _) => match by_key.get(&r.key) {
                    Some(m) => {
                        let file = format!(
                            "manifests/{:03}-{}.yaml",
                            plan.manifests.len() + 1,
                            file_stem(&r.key)
                        );
                        action.command = format!("kubectl apply -f {file}");
                        action.manifest = Some(file.clone());
                        plan.manifests
                            .push((file, m.body().clone(), r.key.is_secret()));
                    }
                    None => alert(&mut action, r.outcome, "no desired manifest to apply"),
                },
                (Strategy::Rollback, _) => rollback(&mut action, policy),
                (Strategy::AlertOnly, outcome) => alert(&mut action, outcome, ""),
            }
            plan.actions.push(action);
        }
        plan
    }

    /// The commands file: one commented block per action, approvals marked.
    pub fn commands(&self) -> String {
        let mut out = String::from(
            "# LEO drift remediation plan. LEO does not run these commands; review, then run.\n",
        );
        for a in &self.actions {
            out.push_str(&format!(
                "\n# {} [{}] {}: {}\n",
                a.key,
                a.severity,
                a.strategy.as_str(),
                a.reason
            ));
            if a.approval_required {
                out.push_str("# REQUIRES APPROVAL (SOP §14.1) before running.\n");
            }
            out.push_str(&a.command);
            out.push('\n');
        }
        out
    }

    /// Writes `plan.json`, `commands.sh` and `manifests/*.yaml` into `dir` (created if
    /// needed), each atomically; Secret manifests get mode 0600.
    pub fn write_to(&self, dir: &Path) -> Result<()> {
        let manifests_dir = dir.join("manifests");
        std::fs::create_dir_all(&manifests_dir)
            .map_err(|e| Error::io("creating", Some(&manifests_dir), e))?;
        for (file, body, secret) in &self.manifests {
            let text = serde_norway::to_string(body).map_err(|e| Error::Serialize {
                what: "remediation manifest",
                reason: e.to_string(),
            })?;
            write(&dir.join(file), text.as_bytes(), *secret)?;
        }
        let json = serde_json::to_string_pretty(&serde_json::json!({ "actions": self.actions }))
            .map_err(|e| Error::Serialize {
                what: "remediation plan",
                reason: e.to_string(),
            })?;
        write(&dir.join("plan.json"), json.as_bytes(), false)?;
        write(&dir.join("commands.sh"), self.commands().as_bytes(), false)
    }
}

/// Writes `path` atomically: mode 0600 when `secret`, else 0644.
fn write(path: &Path, bytes: &[u8], secret: bool) -> Result<()> {
    let written = if secret {
        leo_artifact::fsutil::write_secret_atomically(path, bytes)
    } else {
        leo_artifact::fsutil::write_bytes_atomically(path, bytes)
    };
    written.map_err(|e| Error::WritePlan {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn target(key: &ResourceKey) -> String {
    format!("{} {}", key.kubectl_type(), key.name)
}

fn ns_flag(key: &ResourceKey) -> String {
    if key.namespace.is_empty() {
        String::new()
    } else {
        format!(" -n {}", key.namespace)
    }
}

fn file_stem(key: &ResourceKey) -> String {
    let raw = format!("{}-{}-{}", key.kubectl_type(), key.namespace, key.name);
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn rollback(action: &mut RemediationAction, policy: &DriftPolicy) {
    let rem = &policy.spec.remediation;
    if let (Some(app), Some(rev)) = (&rem.application, &rem.rollback_revision) {
        action.command = format!("argocd app rollback {app} {rev}");
    } else if ROLLOUT_KINDS.contains(&action.key.kind.as_str()) && action.key.group == "apps" {
        let to = rem
            .rollback_revision
            .as_deref()
            .filter(|r| r.chars().all(|c| c.is_ascii_digit()))
            .map(|r| format!(" --to-revision={r}"))
            .unwrap_or_default();
        action.command = format!(
            "kubectl rollout undo {}/{}{}{to}",
            action.key.kubectl_type(),
            action.key.name,
            ns_flag(&action.key)
        );
    } else {
        action.strategy = Strategy::AlertOnly;
        action.reason =
            "rollback needs spec.remediation.application and rollbackRevision".to_owned();
        action.command = format!(
            "# ALERT {} drift on {}: no revision to roll back to",
            action.severity, action.key
        );
    }
}

fn alert(action: &mut RemediationAction, outcome: Outcome, why: &str) {
    if !why.is_empty() {
        action.strategy = Strategy::AlertOnly;
        action.reason = why.to_owned();
    }
    action.command = format!(
        "# ALERT {} drift on {}: {}",
        action.severity,
        action.key,
        outcome.as_str()
    );
}
