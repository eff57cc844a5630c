#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! `DriftPolicy`/`DriftReport` documents, remediation plans and MTTD/MTTR.

use leo_drift::metrics::TargetStatus;
use leo_drift::policy::{API_VERSION, CheckInterval};
use leo_drift::report::DriftReportSpec;
use leo_drift::{
    DriftPolicy, DriftReport, Error, Outcome, RemediationPlan, ResourceKey, ResourceResult,
    Severity, Strategy, compute_metrics, detect, parse_str,
};
use time::OffsetDateTime;
use time::macros::datetime;

#[test]
fn policy_roundtrips_through_yaml_and_json() {
    let text = "apiVersion: drift.leo.dev/v1alpha1\nkind: DriftPolicy\nmetadata: {name: prod}\nspec:\n  checkInterval: 5m\n  prune: true\n  ignore:\n  - {group: apps, kind: Deployment, jsonPointers: [/spec/replicas], managedFieldsManagers: [hpa]}\n  remediation:\n    strategies: {critical: alert-only, high: rollback, medium: sync, low: sync}\n    application: web\n    rollbackRevision: '12'\n";
    let p = DriftPolicy::parse(text).unwrap();
    assert_eq!(p.spec.check_interval.seconds(), 300);
    assert_eq!(p.spec.remediation.strategies.high, Strategy::Rollback);
    assert!(p.spec.remediation.secrets_alert_only, "default on");
    assert_eq!(DriftPolicy::parse(&p.to_yaml().unwrap()).unwrap(), p);
    assert_eq!(DriftPolicy::parse(&p.to_json().unwrap()).unwrap(), p);
    assert_eq!(DriftPolicy::default().spec.check_interval.seconds(), 120);
}

#[test]
fn malformed_policies_are_rejected_with_reasons() {
    let bad = [
        "apiVersion: v1\nkind: DriftPolicy\nmetadata: {name: p}\n",
        "apiVersion: drift.leo.dev/v1alpha1\nkind: DriftPolicy\nmetadata: {name: p}\nspec: {checkInterval: 1s}\n",
        "apiVersion: drift.leo.dev/v1alpha1\nkind: DriftPolicy\nmetadata: {name: p}\nspec: {ignore: [{jsonPointers: [spec]}]}\n",
        "apiVersion: drift.leo.dev/v1alpha1\nkind: DriftPolicy\nmetadata: {name: p}\nspec: {unknownField: 1}\n",
    ];
    for text in bad {
        assert!(
            matches!(
                DriftPolicy::parse(text).unwrap_err(),
                Error::InvalidDocument {
                    kind: "DriftPolicy",
                    ..
                }
            ),
            "{text}"
        );
    }
    assert!(matches!(
        "90".parse::<CheckInterval>().unwrap_err(),
        Error::InvalidDocument { .. }
    ));
}

fn result(
    name: &str,
    kind: &str,
    group: &str,
    outcome: Outcome,
    severity: Option<Severity>,
) -> ResourceResult {
    ResourceResult {
        key: ResourceKey {
            group: group.into(),
            kind: kind.into(),
            namespace: "ns".into(),
            name: name.into(),
        },
        outcome,
        drift: severity.is_some(),
        severity,
        diffs: Vec::new(),
        live_changed_at: None,
    }
}

fn report(at: OffsetDateTime, resources: Vec<ResourceResult>) -> DriftReport {
    DriftReport::new(
        DriftReportSpec {
            policy: "p".into(),
            ..DriftReportSpec::default()
        },
        at,
        resources,
        false,
    )
}

#[test]
fn report_roundtrips_and_checks_its_header() {
    let r = report(
        datetime!(2026-01-01 0:00 UTC),
        vec![result(
            "a",
            "ConfigMap",
            "",
            Outcome::MissingLive,
            Some(Severity::Medium),
        )],
    );
    assert_eq!(r.api_version, API_VERSION);
    assert_eq!(DriftReport::parse(&r.to_yaml().unwrap()).unwrap(), r);
    assert_eq!(DriftReport::parse(&r.to_json().unwrap()).unwrap(), r);
    let wrong = r
        .to_yaml()
        .unwrap()
        .replace("kind: DriftReport", "kind: DriftPolicy");
    assert!(matches!(
        DriftReport::parse(&wrong).unwrap_err(),
        Error::InvalidDocument {
            kind: "DriftReport",
            ..
        }
    ));
}

#[test]
fn remediation_plan_per_strategy() {
    let desired = parse_str(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {p: c2VjcmV0}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n",
        "git",
    )
    .unwrap();
    let mut policy = DriftPolicy::default();
    policy.spec.prune = true;
    let live = parse_str(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stray, namespace: default}\n",
        "cluster",
    )
    .unwrap();
    let report = detect(
        &desired,
        &live,
        &policy,
        (None, None),
        OffsetDateTime::UNIX_EPOCH,
    )
    .unwrap();
    let plan = RemediationPlan::build(&report, &desired, &policy);
    let action = |name: &str| plan.actions.iter().find(|a| a.key.name == name).unwrap();
    assert_eq!(action("web").strategy, Strategy::Sync);
    assert_eq!(
        action("web").manifest.as_deref(),
        Some("manifests/002-deployment.apps-default-web.yaml")
    );
    assert_eq!(
        action("s").strategy,
        Strategy::AlertOnly,
        "Secrets are alert-only"
    );
    assert!(action("s").approval_required, "critical needs approval");
    assert_eq!(
        action("stray").command,
        "kubectl delete configmap stray -n default"
    );
    assert!(!format!("{plan:?}").contains("c2VjcmV0"));

    let dir = tempfile::tempdir().unwrap();
    plan.write_to(dir.path()).unwrap();
    assert!(dir.path().join("plan.json").is_file());
    let commands = std::fs::read_to_string(dir.path().join("commands.sh")).unwrap();
    assert!(commands.contains("kubectl apply -f manifests/002-deployment.apps-default-web.yaml"));

    // With Secrets remediated, the Secret's manifest is written 0600, the others 0644.
    policy.spec.remediation.secrets_alert_only = false;
    let secrets = RemediationPlan::build(&report, &desired, &policy);
    let dir = tempfile::tempdir().unwrap();
    secrets.write_to(dir.path()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut modes: Vec<(String, u32)> = std::fs::read_dir(dir.path().join("manifests"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let mode = e.metadata().unwrap().permissions().mode() & 0o777;
                (e.file_name().into_string().unwrap(), mode)
            })
            .collect();
        modes.sort();
        assert!(
            modes
                .iter()
                .any(|(f, m)| f.contains("secret") && *m == 0o600),
            "{modes:?}"
        );
        assert!(
            modes
                .iter()
                .all(|(f, m)| f.contains("secret") || *m == 0o644),
            "{modes:?}"
        );
    }

    // Rollback: with application and revision an argocd command, else rollout undo.
    policy.spec.remediation.strategies.high = Strategy::Rollback;
    let plan = RemediationPlan::build(&report, &desired, &policy);
    assert_eq!(
        plan.actions
            .iter()
            .find(|a| a.key.name == "web")
            .unwrap()
            .command,
        "kubectl rollout undo deployment.apps/web -n default"
    );
    policy.spec.remediation.application = Some("shop".into());
    policy.spec.remediation.rollback_revision = Some("41".into());
    let plan = RemediationPlan::build(&report, &desired, &policy);
    assert_eq!(
        plan.actions
            .iter()
            .find(|a| a.key.name == "web")
            .unwrap()
            .command,
        "argocd app rollback shop 41"
    );
}

#[test]
fn mttd_and_mttr_from_a_series() {
    let t0 = datetime!(2026-01-01 10:00 UTC);
    let mins = |m: i64| t0 + time::Duration::minutes(m);
    let mut changed = result(
        "web",
        "Deployment",
        "apps",
        Outcome::Changed,
        Some(Severity::High),
    );
    changed.live_changed_at = Some("2026-01-01T10:01:00Z".into());
    let series = vec![
        report(
            mins(4),
            vec![
                changed,
                result("cfg", "ConfigMap", "", Outcome::InSync, None),
            ],
        ),
        report(
            mins(0),
            vec![
                result("web", "Deployment", "apps", Outcome::InSync, None),
                result("cfg", "ConfigMap", "", Outcome::InSync, None),
            ],
        ),
        report(
            mins(8),
            vec![
                result(
                    "web",
                    "Deployment",
                    "apps",
                    Outcome::Changed,
                    Some(Severity::High),
                ),
                result(
                    "cfg",
                    "ConfigMap",
                    "",
                    Outcome::MissingLive,
                    Some(Severity::Medium),
                ),
            ],
        ),
        report(
            mins(24),
            vec![
                result("web", "Deployment", "apps", Outcome::InSync, None),
                result(
                    "cfg",
                    "ConfigMap",
                    "",
                    Outcome::MissingLive,
                    Some(Severity::Medium),
                ),
            ],
        ),
    ];
    let m = compute_metrics(&series);
    assert_eq!((m.reports, m.episodes, m.resolved, m.open), (4, 2, 1, 1));
    // web: onset from managed fields 10:01, detected 10:04 (3 min); cfg: onset bound by the
    // previous report 10:04, detected 10:08 (4 min). Mean 3.5 min.
    assert_eq!(m.mttd_seconds, Some(210.0));
    assert_eq!(m.mttd_status, TargetStatus::Warning);
    // web detected 10:04, in sync at 10:24: 20 min.
    assert_eq!(m.mttr_seconds, Some(1200.0));
    assert_eq!(m.mttr_status, TargetStatus::Warning);
    let none = compute_metrics(&[]);
    assert_eq!(
        (none.mttd_status, none.mttr_status),
        (TargetStatus::Unknown, TargetStatus::Unknown)
    );
}
