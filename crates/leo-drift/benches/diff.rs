//! 10,000 desired/live Deployment pairs diffed (issue target: under 1 s on one core), plus
//! 1,000 and 5,000 to show the cost is linear.

// Inputs are built here, not read: indexing fixed JSON cannot fail.
#![allow(clippy::indexing_slicing)]
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use leo_drift::{DriftPolicy, Manifest, detect};
use serde_json::{Value, json};
use time::OffsetDateTime;

fn desired(i: usize) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": format!("app-{i}"), "namespace": "prod", "labels": {"app": format!("app-{i}"), "tier": "web"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": format!("app-{i}")}},
            "template": {"metadata": {"labels": {"app": format!("app-{i}")}},
                "spec": {"containers": [{"name": "main", "image": "registry.example/app:1.2.3",
                    "ports": [{"containerPort": 8080}],
                    "env": [{"name": "MODE", "value": "prod"}, {"name": "LOG", "value": "info"}],
                    "resources": {"limits": {"cpu": 0.5, "memory": "256Mi"}}}]}}}
    })
}

/// Live: server defaults, status, managed fields, last-applied; every 10th object drifted.
fn live(i: usize) -> Value {
    let mut v = desired(i);
    let last_applied = v.to_string();
    v["metadata"]["uid"] = json!(format!("uid-{i}"));
    v["metadata"]["resourceVersion"] = json!("12345");
    v["metadata"]["generation"] = json!(4);
    v["metadata"]["annotations"] = json!({"kubectl.kubernetes.io/last-applied-configuration": last_applied,
        "deployment.kubernetes.io/revision": "4"});
    v["metadata"]["managedFields"] = json!([{"manager": "kube-controller-manager", "operation": "Update",
        "time": "2026-01-01T00:00:00Z", "fieldsV1": {"f:status": {"f:replicas": {}}}}]);
    v["spec"]["progressDeadlineSeconds"] = json!(600);
    v["spec"]["revisionHistoryLimit"] = json!(10);
    let c = &mut v["spec"]["template"]["spec"]["containers"][0];
    c["imagePullPolicy"] = json!("IfNotPresent");
    c["terminationMessagePath"] = json!("/dev/termination-log");
    c["ports"][0]["protocol"] = json!("TCP");
    c["resources"]["limits"]["cpu"] = json!("500m");
    v["spec"]["template"]["spec"]["dnsPolicy"] = json!("ClusterFirst");
    v["status"] = json!({"replicas": 3, "readyReplicas": 3, "observedGeneration": 4});
    if i % 10 == 0 {
        v["spec"]["replicas"] = json!(5);
    }
    v
}

fn objects(n: usize, f: fn(usize) -> Value) -> Vec<Manifest> {
    (0..n)
        .filter_map(|i| Manifest::from_value(f(i), "bench", i).ok())
        .collect()
}

fn bench(c: &mut Criterion) {
    let policy = DriftPolicy::default();
    let mut group = c.benchmark_group("detect");
    group.sample_size(10);
    for n in [1_000usize, 5_000, 10_000] {
        let (d, l) = (objects(n, desired), objects(n, live));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                let report = detect(
                    black_box(&d),
                    black_box(&l),
                    &policy,
                    (None, None),
                    OffsetDateTime::UNIX_EPOCH,
                );
                black_box(report.map(|r| r.status.summary.drifted))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
