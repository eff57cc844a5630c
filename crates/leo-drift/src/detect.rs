//! Matching desired objects with live ones and judging each pair.

use std::collections::{HashMap, HashSet};

use time::OffsetDateTime;

use crate::compare::{FieldDiff, diff_objects};
use crate::error::{Error, Result};
use crate::mask::mask_secret_diffs;
use crate::normalize::{Normalized, normalize};
use crate::object::{Manifest, ResourceKey, group_of};
use crate::policy::DriftPolicy;
use crate::report::{DriftReport, DriftReportSpec, Outcome, ResourceResult};

/// Compares one desired object with one live object under `policy`: the field diffs after
/// normalization, ignore rules and masking (empty = in sync).
pub fn diff_pair(desired: &Manifest, live: &Manifest, policy: &DriftPolicy) -> Vec<FieldDiff> {
    let key = desired.key(&policy.spec.default_namespace);
    let (d, l) = normalize_pair(desired, live);
    judge(&key, &d, &l, policy)
}

fn normalize_pair(desired: &Manifest, live: &Manifest) -> (Normalized, Normalized) {
    let group = group_of(desired.api_version());
    (
        normalize(group, desired.kind(), desired.body()),
        normalize(group, live.kind(), live.body()),
    )
}

fn judge(
    key: &ResourceKey,
    d: &Normalized,
    l: &Normalized,
    policy: &DriftPolicy,
) -> Vec<FieldDiff> {
    let rules: Vec<_> = policy.rules_for(key).collect();
    let managers: Vec<String> = rules
        .iter()
        .flat_map(|r| r.managed_fields_managers.iter().cloned())
        .collect();
    let mut diffs = diff_objects(d, l, &policy.compare_options(), &managers);
    diffs.retain(|diff| {
        !rules
            .iter()
            .any(|r| r.json_pointers.iter().any(|p| p.covers(&diff.path)))
    });
    if key.is_secret() {
        mask_secret_diffs(&mut diffs);
    }
    diffs
}

/// Runs one drift check: matches `desired` with `live` by group/kind/namespace/name and builds
/// the report. Desired objects without a namespace take the policy's default namespace (or
/// match a cluster-scoped live object of the same name when the kind is not known).
pub fn detect(
    desired: &[Manifest],
    live: &[Manifest],
    policy: &DriftPolicy,
    sources: (Option<String>, Option<String>),
    detected_at: OffsetDateTime,
) -> Result<DriftReport> {
    let default_ns = &policy.spec.default_namespace;
    let mut live_index: HashMap<ResourceKey, &Manifest> = HashMap::with_capacity(live.len());
    for m in live {
        let key = m.key("");
        if live_index.insert(key.clone(), m).is_some() {
            return Err(Error::DuplicateObject {
                side: "live",
                key: key.to_string(),
            });
        }
    }
    let mut seen = HashSet::with_capacity(desired.len());
    let mut results = Vec::with_capacity(desired.len());
    for m in desired {
        let mut key = m.key(default_ns);
        if !live_index.contains_key(&key) && m.namespace().is_none() {
            let cluster = ResourceKey {
                namespace: String::new(),
                ..key.clone()
            };
            if live_index.contains_key(&cluster) {
                key = cluster;
            }
        }
        if !seen.insert(key.clone()) {
            return Err(Error::DuplicateObject {
                side: "desired",
                key: key.to_string(),
            });
        }
        let result = match live_index.remove(&key) {
            Some(l) => {
                let (dn, ln) = normalize_pair(m, l);
                let diffs = judge(&key, &dn, &ln, policy);
                let changed_at = latest_write(&ln);
                if diffs.is_empty() {
                    in_sync(key)
                } else {
                    let severity = policy.severity_for(&key, Some(&diffs));
                    ResourceResult {
                        key,
                        outcome: Outcome::Changed,
                        drift: true,
                        severity: Some(severity),
                        diffs,
                        live_changed_at: changed_at,
                    }
                }
            }
            None => ResourceResult {
                severity: Some(policy.severity_for(&key, None)),
                key,
                outcome: Outcome::MissingLive,
                drift: true,
                diffs: Vec::new(),
                live_changed_at: None,
            },
        };
        results.push(result);
    }
    let prune = policy.spec.prune;
    for (key, _) in live_index {
        results.push(ResourceResult {
            severity: prune.then(|| policy.severity_for(&key, None)),
            key,
            outcome: Outcome::ExtraLive,
            drift: prune,
            diffs: Vec::new(),
            live_changed_at: None,
        });
    }
    let spec = DriftReportSpec {
        policy: policy.metadata.name.clone(),
        desired_source: sources.0,
        live_source: sources.1,
    };
    Ok(DriftReport::new(spec, detected_at, results, prune))
}

fn in_sync(key: ResourceKey) -> ResourceResult {
    ResourceResult {
        key,
        outcome: Outcome::InSync,
        drift: false,
        severity: None,
        diffs: Vec::new(),
        live_changed_at: None,
    }
}

/// The latest managed-fields write time of a live object (RFC 3339 strings sort by time when
/// they share the `Z` zone, which the API server always uses).
fn latest_write(live: &Normalized) -> Option<String> {
    live.managed.iter().filter_map(|e| e.time.clone()).max()
}
