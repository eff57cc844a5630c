#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Argo CD gitops-engine's diff fixtures (`drift/argo-gitops-engine-diff`): LEO's verdict must
//! match Argo's `Modified` for every case of `EXPECTED.yaml`.

use std::path::{Path, PathBuf};

use leo_drift::{DiffKind, DriftPolicy, Manifest, Outcome, detect, diff_pair, parse_str};
use serde_json::{Value, json};
use time::OffsetDateTime;

fn dir() -> Option<PathBuf> {
    leo_testkit::vector("drift/argo-gitops-engine-diff")
}

fn body(dir: &Path, file: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    let objects = parse_str(&text, file).unwrap();
    assert_eq!(objects.len(), 1, "{file}");
    objects[0].body().clone()
}

fn manifest(v: Value) -> Manifest {
    Manifest::from_value(v, "test", 1).unwrap()
}

/// Applies the per-case edits `EXPECTED.yaml` describes (they are made in Go in Argo's tests).
fn mutate(case: &Value, config: &mut Value, live: &mut Value) {
    if let Some(m) = case.get("mutate_config_labels") {
        let labels = config["metadata"]["labels"].as_object_mut().unwrap();
        for (k, v) in m["add"]
            .as_object()
            .unwrap()
            .iter()
            .chain(m["set"].as_object().unwrap())
        {
            labels.insert(k.clone(), v.clone());
        }
        for k in m["remove"].as_array().unwrap() {
            labels.remove(k.as_str().unwrap());
        }
    }
    if case["test"] == "TestRedactedSecretData" {
        for key in ["wordpress-password", "smtp-password"] {
            config["data"][key] = json!("++++++++");
            live["data"][key] = json!("++++++++++++");
        }
    }
}

fn policy_for(case: &Value) -> DriftPolicy {
    let mut policy = DriftPolicy::default();
    let test = case["test"].as_str().unwrap();
    policy.spec.ignore_aggregated_roles = test.contains("ignoreAggregatedRoles=true");
    policy
}

#[test]
fn every_expected_case_matches_argo() {
    let Some(dir) = dir() else { return };
    let expected: Value =
        serde_norway::from_str(&std::fs::read_to_string(dir.join("EXPECTED.yaml")).unwrap())
            .unwrap();
    let mut checked = 0;
    for case in expected["cases"].as_array().unwrap() {
        let (Some(config), Some(live)) = (case["config"].as_str(), case["live"].as_str()) else {
            continue;
        };
        let test = case["test"].as_str().unwrap();
        let modified = case["modified"].as_bool().unwrap();
        let (mut c, mut l) = (body(&dir, config), body(&dir, live));
        mutate(case, &mut c, &mut l);
        let policy = policy_for(case);
        let (c, l) = (manifest(c), manifest(l));
        let diffs = diff_pair(&c, &l, &policy);
        assert_eq!(!diffs.is_empty(), modified, "{test}: diffs {diffs:#?}");

        // The whole pipeline (matching by key, with Argo's destination namespace) agrees.
        let mut policy = policy;
        policy.spec.default_namespace = l.namespace().unwrap_or("default").to_owned();
        let report = detect(
            &[c],
            &[l],
            &policy,
            (None, None),
            OffsetDateTime::UNIX_EPOCH,
        )
        .unwrap();
        assert_eq!(report.status.resources.len(), 1, "{test}");
        let outcome = report.status.resources[0].outcome;
        let want = if modified {
            Outcome::Changed
        } else {
            Outcome::InSync
        };
        assert_eq!(outcome, want, "{test}");
        assert_eq!(report.has_drift(), modified, "{test}");
        checked += 1;
    }
    assert_eq!(checked, 13, "EXPECTED.yaml lists 13 config/live cases");
}

#[test]
fn label_edits_show_one_missing_one_extra_one_changed() {
    let Some(dir) = dir() else { return };
    let (mut c, l) = (
        body(&dir, "elasticsearch-config.json"),
        body(&dir, "elasticsearch-live.json"),
    );
    let labels = c["metadata"]["labels"].as_object_mut().unwrap();
    labels.insert("foo".into(), json!("bar"));
    labels.insert("chart".into(), json!("elasticsearch-1.7.1"));
    labels.remove("release");
    let diffs = diff_pair(&manifest(c), &manifest(l), &DriftPolicy::default());
    let by = |kind| {
        diffs
            .iter()
            .filter(|d| d.kind == kind)
            .map(|d| d.path.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(by(DiffKind::MissingInLive), ["/metadata/labels/foo"]);
    assert_eq!(by(DiffKind::ExtraInLive), ["/metadata/labels/release"]);
    assert_eq!(by(DiffKind::Changed), ["/metadata/labels/chart"]);
    let changed = diffs.iter().find(|d| d.kind == DiffKind::Changed).unwrap();
    assert_eq!(changed.desired, Some(json!("elasticsearch-1.7.1")));
    assert_eq!(changed.live, Some(json!("elasticsearch-1.7.0")));
    // A label-only change of a StatefulSet is low severity (§14.2).
    let policy = DriftPolicy::default();
    let key = manifest(body(&dir, "elasticsearch-config.json")).key("elasticsearch4");
    assert_eq!(
        policy.severity_for(&key, Some(&diffs)),
        leo_drift::Severity::Low
    );
}

#[test]
fn diff_with_nils_missing_is_drift_extra_is_not() {
    let Some(dir) = dir() else { return };
    let c = manifest(body(&dir, "deployment-config.json"));
    let policy = DriftPolicy::default();
    let missing = detect(
        std::slice::from_ref(&c),
        &[],
        &policy,
        (None, None),
        OffsetDateTime::UNIX_EPOCH,
    )
    .unwrap();
    assert_eq!(missing.status.resources[0].outcome, Outcome::MissingLive);
    assert!(missing.has_drift());
    let extra = detect(&[], &[c], &policy, (None, None), OffsetDateTime::UNIX_EPOCH).unwrap();
    assert_eq!(extra.status.resources[0].outcome, Outcome::ExtraLive);
    assert!(!extra.has_drift());
}

#[test]
fn redacted_secret_values_never_appear_in_diffs() {
    let Some(dir) = dir() else { return };
    let (mut c, mut l) = (
        body(&dir, "wordpress-config.json"),
        body(&dir, "wordpress-live.json"),
    );
    c["data"]["wordpress-password"] = json!("c2VjcmV0LWE=");
    l["data"]["wordpress-password"] = json!("c2VjcmV0LWI=");
    let diffs = diff_pair(&manifest(c), &manifest(l), &DriftPolicy::default());
    assert_eq!(diffs.len(), 1);
    let text = serde_json::to_string(&diffs).unwrap();
    assert!(!text.contains("c2VjcmV0"), "{text}");
    assert_eq!(diffs[0].desired, Some(json!("*** (desired)")));
    assert_eq!(diffs[0].live, Some(json!("*** (live)")));
}
