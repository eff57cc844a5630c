//! 10,000 Pod manifests through require-image-digests: parse (multi-document YAML, once per
//! document) and evaluate. Target: at least 50,000 resources/s (issue 8).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leo_policy::{Engine, EngineOptions, load_policy_str, parse_resources};

const PODS: usize = 10_000;

const POLICY: &str = r#"
apiVersion: policy.leo.dev/v1alpha1
kind: ClusterPolicy
metadata: {name: require-image-digests}
spec:
  validationFailureAction: Enforce
  rules:
  - name: require-image-digests
    match: {any: [{resources: {kinds: [Pod]}}]}
    exclude: {any: [{resources: {namespaces: [ceph-csi]}}]}
    requireImageDigests: {}
"#;

fn manifests() -> String {
    let mut out = String::new();
    for i in 0..PODS {
        let image = if i % 2 == 0 {
            format!("registry.example/app-{i}:1.{i}@sha256:{:064x}", i)
        } else {
            format!("registry.example/app-{i}:1.{i}")
        };
        out.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-{i}\n  namespace: ns-{}\n  labels:\n    app: app-{i}\n    tier: web\nspec:\n  initContainers:\n  - name: init\n    image: busybox@sha256:{:064x}\n    command: ['sh', '-c', 'true']\n  containers:\n  - name: app\n    image: {image}\n    ports:\n    - containerPort: 8080\n    resources:\n      limits: {{cpu: 100m, memory: 64Mi}}\n",
            i % 7,
            i + 1
        ));
    }
    out
}

fn bench(c: &mut Criterion) {
    let text = manifests();
    let engine = Engine::new(
        load_policy_str(POLICY, "bench").unwrap(),
        EngineOptions::default(),
    );
    let resources = parse_resources(&text, "bench").unwrap();
    assert_eq!(resources.len(), PODS);
    let report = engine.evaluate(&resources);
    assert_eq!(report.summary().fail, PODS / 2);

    let mut group = c.benchmark_group("require-image-digests");
    group.throughput(Throughput::Elements(PODS as u64));
    group.sample_size(20);
    group.bench_function("parse+evaluate 10k pods", |b| {
        b.iter(|| {
            let resources = parse_resources(&text, "bench").unwrap();
            engine.evaluate(&resources).results.len()
        });
    });
    group.bench_function("evaluate 10k parsed pods", |b| {
        b.iter(|| engine.evaluate(&resources).results.len());
    });
    // The same pods as one `kubectl get pods -o json` List.
    let items: Vec<serde_json::Value> = resources_as_json(&text);
    let json = serde_json::to_string(
        &serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}),
    )
    .unwrap();
    assert_eq!(parse_resources(&json, "bench").unwrap().len(), PODS);
    group.bench_function("parse+evaluate 10k pods, kubectl JSON list", |b| {
        b.iter(|| {
            let resources = parse_resources(&json, "bench").unwrap();
            engine.evaluate(&resources).results.len()
        });
    });
    // Baseline: only parsing the same stream into generic JSON trees (what a policy engine
    // that walks `serde_json::Value`, as leo-drift does, pays before evaluating anything).
    group.bench_function("baseline: generic Value parse only", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for doc in serde_norway::Deserializer::from_str(&text) {
                let v: serde_json::Value = serde::Deserialize::deserialize(doc).unwrap();
                n += usize::from(v.is_object());
            }
            n
        });
    });
    group.finish();
}

fn resources_as_json(text: &str) -> Vec<serde_json::Value> {
    serde_norway::Deserializer::from_str(text)
        .map(|doc| serde::Deserialize::deserialize(doc).unwrap())
        .collect()
}

criterion_group!(benches, bench);
criterion_main!(benches);
