#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Detection rules: normalization, ignore rules, strict mode, outcomes, severity, matching.

use leo_drift::{
    DiffKind, DriftPolicy, Error, FieldDiff, IgnoreRule, Manifest, Outcome, Severity, detect,
    diff_pair, parse_str,
};
use serde_json::{Value, json};
use time::OffsetDateTime;

fn m(v: Value) -> Manifest {
    Manifest::from_value(v, "test", 1).unwrap()
}

fn diffs(desired: Value, live: Value) -> Vec<FieldDiff> {
    diff_pair(&m(desired), &m(live), &DriftPolicy::default())
}

fn paths(d: &[FieldDiff]) -> Vec<(DiffKind, String)> {
    d.iter().map(|x| (x.kind, x.path.clone())).collect()
}

fn obj(api: &str, kind: &str, name: &str, rest: Value) -> Value {
    let mut v =
        json!({"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": "ns"}});
    for (k, x) in rest.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

#[test]
fn empty_null_and_absent_are_alike_where_kubernetes_treats_them_so() {
    let d = obj(
        "v1",
        "Pod",
        "p",
        json!({"spec": {"volumes": [], "securityContext": {}, "hostNetwork": false,
        "nodeSelector": null, "containers": [{"name": "c", "args": []}]}}),
    );
    let l = obj(
        "v1",
        "Pod",
        "p",
        json!({"spec": {"containers": [{"name": "c", "resources": {}}]}}),
    );
    assert!(diffs(d, l).is_empty());
    // An empty list in Git against a filled live list is drift (kubectl apply would clear it).
    let d = obj("v1", "Pod", "p", json!({"spec": {"tolerations": []}}));
    let l = obj(
        "v1",
        "Pod",
        "p",
        json!({"spec": {"tolerations": [{"key": "k"}]}}),
    );
    assert_eq!(
        paths(&diffs(d, l)),
        [(DiffKind::Changed, "/spec/tolerations".to_owned())]
    );
}

#[test]
fn quantities_compare_by_value_only_in_quantity_maps() {
    let d = obj(
        "v1",
        "Pod",
        "p",
        json!({"spec": {"containers": [{"name": "c",
        "resources": {"limits": {"cpu": 1, "memory": "1Gi"}, "requests": {"cpu": 0.25}}}]}}),
    );
    let l = obj(
        "v1",
        "Pod",
        "p",
        json!({"spec": {"containers": [{"name": "c",
        "resources": {"limits": {"cpu": "1", "memory": "1024Mi"}, "requests": {"cpu": "250m"}}}]}}),
    );
    assert!(diffs(d, l).is_empty());
    // Elsewhere "80" and 80 differ (an IntOrString port name is not a number).
    let d = obj(
        "v1",
        "Service",
        "s",
        json!({"spec": {"ports": [{"port": 80, "targetPort": "80"}]}}),
    );
    let l = obj(
        "v1",
        "Service",
        "s",
        json!({"spec": {"ports": [{"port": 80, "targetPort": 80}]}}),
    );
    assert_eq!(
        paths(&diffs(d, l)),
        [(DiffKind::Changed, "/spec/ports/0/targetPort".to_owned())]
    );
}

#[test]
fn keyed_lists_ignore_order_and_server_added_items() {
    let d = obj(
        "apps/v1",
        "Deployment",
        "d",
        json!({"spec": {"template": {"spec": {"containers": [
        {"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}]}}}}),
    );
    let l = obj(
        "apps/v1",
        "Deployment",
        "d",
        json!({"spec": {"template": {"spec": {"containers": [
        {"name": "sidecar", "image": "injected"},
        {"name": "a", "env": [{"name": "Y", "value": "2"}, {"name": "INJ", "value": "z"}, {"name": "X", "value": "1"}]}]}}}}),
    );
    assert!(diffs(d.clone(), l.clone()).is_empty());
    // Strict mode reports what the server or someone else added.
    let mut strict = DriftPolicy::default();
    strict.spec.strict = true;
    let got = paths(&diff_pair(&m(d), &m(l), &strict));
    assert!(
        got.contains(&(
            DiffKind::ExtraInLive,
            "/spec/template/spec/containers/0".to_owned()
        )),
        "{got:?}"
    );
}

#[test]
fn last_applied_turns_removed_fields_into_drift() {
    let applied =
        json!({"metadata": {"labels": {"a": "1", "gone": "x"}}, "data": {"k": "v", "old": "o"}})
            .to_string();
    let d = obj(
        "v1",
        "ConfigMap",
        "c",
        json!({"metadata": {"name": "c", "namespace": "ns", "labels": {"a": "1"}},
        "data": {"k": "v"}}),
    );
    let l = obj(
        "v1",
        "ConfigMap",
        "c",
        json!({"metadata": {"name": "c", "namespace": "ns",
        "labels": {"a": "1", "gone": "x", "added-by-server": "y"},
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": applied}},
        "data": {"k": "v", "old": "o"}}),
    );
    let got = paths(&diffs(d, l));
    assert_eq!(
        got,
        [
            (DiffKind::ExtraInLive, "/metadata/labels/gone".to_owned()),
            (DiffKind::ExtraInLive, "/data/old".to_owned())
        ]
    );
}

#[test]
fn ignore_rules_by_pointer_and_by_manager() {
    let d = obj(
        "apps/v1",
        "Deployment",
        "d",
        json!({"spec": {"replicas": 3, "paused": true}}),
    );
    let l = obj(
        "apps/v1",
        "Deployment",
        "d",
        json!({"metadata": {"name": "d", "namespace": "ns", "managedFields": [
        {"manager": "hpa", "operation": "Update", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]},
        "spec": {"replicas": 7, "paused": false}}),
    );
    assert_eq!(diffs(d.clone(), l.clone()).len(), 2);

    let mut policy = DriftPolicy::default();
    policy.spec.ignore.push(IgnoreRule {
        group: Some("apps".into()),
        kind: Some("Deployment".into()),
        managed_fields_managers: vec!["hpa".into()],
        ..IgnoreRule::default()
    });
    assert_eq!(
        paths(&diff_pair(&m(d.clone()), &m(l.clone()), &policy)),
        [(DiffKind::Changed, "/spec/paused".to_owned())]
    );

    policy.spec.ignore.push(IgnoreRule {
        json_pointers: vec!["/spec/paused".parse().unwrap()],
        ..IgnoreRule::default()
    });
    assert!(diff_pair(&m(d.clone()), &m(l.clone()), &policy).is_empty());

    // A rule for another kind does not apply.
    let mut other = DriftPolicy::default();
    other.spec.ignore.push(IgnoreRule {
        kind: Some("StatefulSet".into()),
        json_pointers: vec!["/spec".parse().unwrap()],
        ..IgnoreRule::default()
    });
    assert_eq!(diff_pair(&m(d), &m(l), &other).len(), 2);
}

#[test]
fn severity_follows_sop_14_2_and_overrides() {
    let policy = DriftPolicy::default();
    let cases = [
        ("kyverno.io/v1", "ClusterPolicy", Severity::Critical),
        ("v1", "Secret", Severity::Critical),
        ("networking.k8s.io/v1", "NetworkPolicy", Severity::Critical),
        ("apps/v1", "Deployment", Severity::High),
        ("apps/v1", "StatefulSet", Severity::High),
        ("v1", "Service", Severity::High),
        ("v1", "ConfigMap", Severity::Medium),
        ("v1", "PersistentVolumeClaim", Severity::Medium),
        ("v1", "ServiceAccount", Severity::Medium),
    ];
    let spec_change = [FieldDiff {
        path: "/spec/x".into(),
        kind: DiffKind::Changed,
        desired: None,
        live: None,
    }];
    let label_change = [
        FieldDiff {
            path: "/metadata/labels/a".into(),
            kind: DiffKind::Changed,
            desired: None,
            live: None,
        },
        FieldDiff {
            path: "/metadata/annotations/b".into(),
            kind: DiffKind::ExtraInLive,
            desired: None,
            live: None,
        },
    ];
    for (api, kind, want) in cases {
        let key = m(obj(api, kind, "x", json!({}))).key("ns");
        assert_eq!(
            policy.severity_for(&key, Some(&spec_change)),
            want,
            "{kind}"
        );
        assert_eq!(policy.severity_for(&key, None), want, "{kind} missing");
        assert_eq!(
            policy.severity_for(&key, Some(&label_change)),
            Severity::Low,
            "{kind} labels"
        );
    }
    let overridden = DriftPolicy::parse(
        "apiVersion: drift.leo.dev/v1alpha1\nkind: DriftPolicy\nmetadata: {name: p}\nspec:\n  severity:\n    default: low\n    overrides: [{group: apps, kind: Deployment, severity: critical}]\n",
    )
    .unwrap();
    let dep = m(obj("apps/v1", "Deployment", "x", json!({}))).key("ns");
    let sa = m(obj("v1", "ServiceAccount", "x", json!({}))).key("ns");
    assert_eq!(
        overridden.severity_for(&dep, Some(&spec_change)),
        Severity::Critical
    );
    assert_eq!(
        overridden.severity_for(&sa, Some(&spec_change)),
        Severity::Low
    );
}

#[test]
fn outcomes_missing_extra_and_prune() {
    let desired = parse_str(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
        "git",
    )
    .unwrap();
    let live = parse_str(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: team}\ndata: {k: v}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: z, namespace: team}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
        "cluster",
    )
    .unwrap();
    let mut policy = DriftPolicy::default();
    policy.spec.default_namespace = "team".into();
    let report = detect(
        &desired,
        &live,
        &policy,
        (None, None),
        OffsetDateTime::UNIX_EPOCH,
    )
    .unwrap();
    let outcome = |name: &str| {
        report
            .status
            .resources
            .iter()
            .find(|r| r.key.name == name)
            .unwrap()
            .clone()
    };
    assert_eq!(outcome("a").outcome, Outcome::InSync);
    assert_eq!(outcome("b").outcome, Outcome::MissingLive);
    assert_eq!(outcome("b").severity, Some(Severity::Medium));
    assert_eq!(
        outcome("r").outcome,
        Outcome::InSync,
        "known cluster-scoped kind"
    );
    assert_eq!(
        outcome("w").outcome,
        Outcome::InSync,
        "unknown kind falls back to cluster scope"
    );
    assert_eq!(outcome("z").outcome, Outcome::ExtraLive);
    assert!(!outcome("z").drift);
    let s = report.status.summary;
    assert_eq!((s.total_resources, s.drifted, s.in_sync), (4, 1, 3));
    // Score: one medium event over four resources.
    assert!((report.status.compliance.score - 99.5).abs() < 1e-9);

    policy.spec.prune = true;
    let report = detect(
        &desired,
        &live,
        &policy,
        (None, None),
        OffsetDateTime::UNIX_EPOCH,
    )
    .unwrap();
    assert_eq!(
        (
            report.status.summary.total_resources,
            report.status.summary.drifted
        ),
        (5, 2)
    );
}

#[test]
fn duplicates_are_errors() {
    let two = parse_str("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n", "t").unwrap();
    let err = detect(
        &two,
        &[],
        &DriftPolicy::default(),
        (None, None),
        OffsetDateTime::UNIX_EPOCH,
    )
    .unwrap_err();
    assert!(matches!(
        err,
        Error::DuplicateObject {
            side: "desired",
            ..
        }
    ));
    let err = detect(
        &[],
        &[two[1].clone(), two[1].clone()],
        &DriftPolicy::default(),
        (None, None),
        OffsetDateTime::UNIX_EPOCH,
    )
    .unwrap_err();
    assert!(matches!(err, Error::DuplicateObject { side: "live", .. }));
}

#[test]
fn aggregated_cluster_roles_option() {
    let d = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"x": "y"}}]}, "rules": []});
    let l = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"x": "y"}}]}, "rules": [{"verbs": ["get"]}]});
    assert_eq!(diffs(d.clone(), l.clone()).len(), 1);
    let mut policy = DriftPolicy::default();
    policy.spec.ignore_aggregated_roles = true;
    assert!(diff_pair(&m(d), &m(l), &policy).is_empty());
}

#[test]
fn missing_secret_never_leaks_and_debug_hides_bodies() {
    let secret = m(
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"p": "c2VjcmV0"}}),
    );
    assert!(!format!("{secret:?}").contains("c2VjcmV0"));
    let live = m(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}));
    let d = diff_pair(&secret, &live, &DriftPolicy::default());
    assert_eq!(d[0].path, "/data");
    assert_eq!(d[0].desired, Some(json!({"p": "***"})));
}

#[test]
fn duplicate_keys_in_merged_lists_pair_in_order() {
    let pod = obj(
        "v1",
        "Pod",
        "p",
        json!({"spec": {"containers": [{"name": "c", "env": [
            {"name": "A", "value": "1"}, {"name": "A", "value": "2"}]}]}}),
    );
    assert!(diffs(pod.clone(), pod).is_empty());
}
