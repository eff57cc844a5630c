//! `leo drift`: exit codes as `kubectl diff` (0 no drift, 1 drift, 2 error), JSON, report and
//! plan files, metrics, Secret masking; driven as a user would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn leo(args: &[&str], dir: &Path) -> Output {
    common::leo_with(dir, args, &[("SOURCE_DATE_EPOCH", "1767225600")])
}

fn json_out(o: &Output) -> serde_json::Value {
    common::json_of(o)
}

const DESIRED: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  template:
    spec:
      containers: [{name: app, image: 'nginx:1.27', resources: {limits: {cpu: 0.5}}}]
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: hunter2}
";

fn live(replicas: u32, password_b64: &str) -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[
  {{"apiVersion":"apps/v1","kind":"Deployment","metadata":{{"name":"web","namespace":"prod","uid":"u1"}},
    "spec":{{"replicas":{replicas},"template":{{"spec":{{"containers":[{{"name":"app","image":"nginx:1.27",
      "imagePullPolicy":"IfNotPresent","resources":{{"limits":{{"cpu":"500m"}}}}}}]}}}}}},"status":{{"replicas":1}}}},
  {{"apiVersion":"v1","kind":"Secret","metadata":{{"name":"creds","namespace":"prod"}},"data":{{"password":"{password_b64}"}}}},
  {{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"stray","namespace":"prod"}}}}
]}}"#
    )
}

fn setup(replicas: u32, password_b64: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("desired")).unwrap();
    std::fs::write(dir.path().join("desired/app.yaml"), DESIRED).unwrap();
    std::fs::write(dir.path().join("live.json"), live(replicas, password_b64)).unwrap();
    dir
}

const ARGS: &[&str] = &[
    "drift",
    "--desired",
    "desired",
    "--live",
    "live.json",
    "--namespace",
    "prod",
];

#[test]
fn in_sync_exits_zero_and_extra_live_is_not_drift() {
    // "hunter2" base64 is aHVudGVyMg==; 0.5 CPU is 500m.
    let dir = setup(3, "aHVudGVyMg==");
    let out = leo(&[ARGS, &["--json"]].concat(), dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_out(&out);
    assert_eq!(report["kind"], "DriftReport");
    assert_eq!(report["status"]["summary"]["inSync"], 2);
    assert_eq!(report["status"]["summary"]["extraLive"], 1);
    assert_eq!(report["status"]["compliance"]["grade"], "Excellent");
    // With pruning on, the stray ConfigMap is drift.
    let out = leo(&[ARGS, &["--prune"]].concat(), dir.path());
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn drift_exits_one_with_field_diffs_and_masked_secrets() {
    let dir = setup(2, "b3RoZXI=");
    let out = leo(&[ARGS, &["--json"]].concat(), dir.path());
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !text.contains("b3RoZXI=") && !text.contains("aHVudGVyMg=="),
        "{text}"
    );
    let report = json_out(&out);
    let resources = report["status"]["resources"].as_array().unwrap();
    let web = resources.iter().find(|r| r["name"] == "web").unwrap();
    assert_eq!(web["outcome"], "changed");
    assert_eq!(web["severity"], "high");
    assert_eq!(web["diffs"][0]["path"], "/spec/replicas");
    let secret = resources.iter().find(|r| r["name"] == "creds").unwrap();
    assert_eq!(secret["severity"], "critical");
    assert_eq!(secret["diffs"][0]["live"], "*** (live)");
    // Text output says the same, also masked.
    let out = leo(ARGS, dir.path());
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("Deployment.apps/prod/web"), "{text}");
    assert!(!text.contains("b3RoZXI="), "{text}");
}

#[test]
fn errors_exit_two() {
    let dir = setup(3, "aHVudGVyMg==");
    let out = leo(
        &["drift", "--desired", "nope", "--live", "live.json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    std::fs::write(
        dir.path().join("bad.yaml"),
        "apiVersion: v1\nkind: Policy\nmetadata: {name: x}\n",
    )
    .unwrap();
    let out = leo(
        &[ARGS, &["--policy", "bad.yaml", "--json"]].concat(),
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_out(&out)["ok"], false);
    std::fs::write(dir.path().join("broken.yaml"), "kind: [unclosed\n").unwrap();
    let out = leo(
        &["drift", "--desired", "broken.yaml", "--live", "live.json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let out = leo(&["drift", "--desired", "desired"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn report_plan_and_metrics_files() {
    let dir = setup(2, "b3RoZXI=");
    let out = leo(
        &[ARGS, &["--report", "r1.yaml", "--plan-dir", "plan"]].concat(),
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let commands = std::fs::read_to_string(dir.path().join("plan/commands.sh")).unwrap();
    assert!(
        commands.contains("kubectl apply -f manifests/001-deployment.apps-prod-web.yaml"),
        "{commands}"
    );
    assert!(
        commands.contains("# ALERT critical drift on Secret/prod/creds"),
        "{commands}"
    );
    assert!(commands.contains("REQUIRES APPROVAL"), "{commands}");
    assert!(!commands.contains("hunter2"));
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan/plan.json")).unwrap())
            .unwrap();
    assert_eq!(plan["actions"].as_array().unwrap().len(), 2);
    assert!(
        dir.path()
            .join("plan/manifests/001-deployment.apps-prod-web.yaml")
            .is_file()
    );

    // A later check finds everything fixed: one resolved episode per drifted object.
    std::fs::write(dir.path().join("live.json"), live(3, "aHVudGVyMg==")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_leo"))
        .args([ARGS, &["--report", "r2.json"]].concat())
        .current_dir(dir.path())
        .env("SOURCE_DATE_EPOCH", "1767226200")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = leo(
        &["--json", "drift", "metrics", "r1.yaml", "r2.json"],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = json_out(&out);
    assert_eq!(m["episodes"], 2);
    assert_eq!(m["resolved"], 2);
    assert_eq!(m["mttrSeconds"], 600.0);
    assert_eq!(m["mttrStatus"], "met");
}

#[test]
fn policy_template_parses_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = leo(&["drift", "policy-template"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("kind: DriftPolicy") && text.contains("checkInterval: 2m"),
        "{text}"
    );
    std::fs::write(dir.path().join("p.yaml"), &text).unwrap();
    std::fs::write(
        dir.path().join("d.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    )
    .unwrap();
    let out = leo(
        &[
            "drift",
            "--desired",
            "d.yaml",
            "--live",
            "d.yaml",
            "--policy",
            "p.yaml",
        ],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
