//! Drift detection for LEO (SOP §13-14): desired Kubernetes manifests against live state.
//!
//! A drift detector is only useful if it does not cry wolf, so objects are normalized the way
//! Argo CD does before they are compared: status and server-populated metadata are dropped,
//! Secret `stringData` is folded into `data`, empty and null are alike, quantities compare by
//! value, and only the fields the desired state sets are compared (a field the server added
//! is not drift) unless the policy asks for strict mode. Each object ends up in sync, changed
//! (with field-level diffs), missing live or extra live; drift gets a severity (§14.2), the
//! check gets a compliance score (§14.5), and a remediation plan can be written as manifests
//! and commands. LEO never touches a cluster itself.
//!
//! ```
//! use leo_drift::{DriftPolicy, Outcome, detect, parse_str};
//!
//! let desired = parse_str(
//!     "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: prod}\nspec: {replicas: 3}\n",
//!     "git",
//! )?;
//! // Live state as `kubectl get -o json` prints it: server defaults and status included.
//! let live = parse_str(
//!     r#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"apps/v1","kind":"Deployment",
//!         "metadata":{"name":"web","namespace":"prod","uid":"1","resourceVersion":"9"},
//!         "spec":{"replicas":2,"revisionHistoryLimit":10},"status":{"replicas":2}}]}"#,
//!     "cluster",
//! )?;
//! let policy = DriftPolicy::default();
//! let report = detect(&desired, &live, &policy, (None, None), time::OffsetDateTime::UNIX_EPOCH)?;
//! let web = &report.status.resources[0];
//! assert_eq!(web.outcome, Outcome::Changed);
//! assert_eq!(web.diffs[0].path, "/spec/replicas");
//! assert_eq!(web.severity, Some(leo_drift::Severity::High));
//! assert!((report.status.compliance.score - 95.0).abs() < 1e-9);
//! # Ok::<(), leo_drift::Error>(())
//! ```

#![forbid(unsafe_code)]

pub mod compare;
pub mod detect;
pub mod error;
pub mod load;
pub mod managed;
pub mod mask;
pub mod metrics;
pub mod normalize;
pub mod object;
pub mod pointer;
pub mod policy;
pub mod quantity;
pub mod remediation;
pub mod report;
pub mod score;
pub mod severity;

pub use compare::{CompareOptions, DiffKind, FieldDiff};
pub use detect::{detect, diff_pair};
pub use error::{Error, Result};
pub use load::{load_path, parse_str};
pub use metrics::{DriftMetrics, compute_metrics};
pub use object::{Manifest, ResourceKey};
pub use pointer::JsonPointer;
pub use policy::{DriftPolicy, IgnoreRule, Strategy};
pub use remediation::{RemediationAction, RemediationPlan};
pub use report::{DriftReport, Outcome, ResourceResult};
pub use score::{ComplianceScore, Grade};
pub use severity::{Severity, SeverityCounts};
