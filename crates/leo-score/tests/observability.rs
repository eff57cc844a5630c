#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The exposition against `promtool check metrics`, the rules file against `promtool check
//! rules` and the code, and the Grafana dashboard's structure.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use leo_score::alerts::rules_yaml;
use leo_score::samples::journeys;
use leo_score::{DriftPosture, Snapshot, Tally, Window, exposition};
use leo_store::Timestamp;

fn promtool() -> Option<String> {
    let tool = std::env::var("LEO_PROMTOOL").unwrap_or_else(|_| "promtool".into());
    leo_testkit::require_tool(&tool).then_some(tool)
}

fn run_promtool(tool: &str, args: &[&str], stdin: &[u8]) -> (bool, String) {
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn promtool");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn drift() -> DriftPosture {
    let desired = leo_drift::parse_str(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: prod}\nspec: {replicas: 3}\n",
        "git",
    )
    .unwrap();
    let live = leo_drift::parse_str(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: prod}\nspec: {replicas: 2}\n",
        "cluster",
    )
    .unwrap();
    let report = leo_drift::detect(
        &desired,
        &live,
        &leo_drift::DriftPolicy::default(),
        (None, None),
        time::OffsetDateTime::UNIX_EPOCH,
    )
    .unwrap();
    DriftPosture::from_reports(&[report]).unwrap()
}

fn sample_exposition() -> String {
    let start = Timestamp::from_unix_micros(1_767_225_600_000_000);
    let mut tally = Tally::new(Window::until(Timestamp::from_unix_micros(i64::MAX)));
    for o in journeys(5_000, start, 86_400, 1000) {
        tally.observe(&o);
    }
    let score = tally.score().unwrap();
    let drift = drift();
    exposition(&Snapshot {
        tally: &tally,
        score: &score,
        drift: Some(&drift),
        environment: "production",
    })
    .unwrap()
}

fn workspace() -> PathBuf {
    leo_testkit::workspace_root()
}

#[test]
fn exposition_names_every_sop_metric() {
    let text = sample_exposition();
    for needle in [
        "# TYPE ehg_policy_violations_total counter",
        "ehg_policy_violations_total{policy_type=\"require-signed-images\"}",
        "ehg_slsa_coverage_ratio{slsa_level=\"L3\",environment=\"production\"}",
        "ehg_lane_handoffs_total{from_lane=\"claude\",to_lane=\"plan\"} 500",
        "# TYPE ehg_gate_execution_duration_seconds histogram",
        "ehg_gate_execution_duration_seconds_bucket{gate_name=\"LEO Gate Validation / Run Gate 3\",le=\"+Inf\"} 500",
        "# TYPE ehg_security_score gauge",
        "ehg_security_score_known_weight_ratio 1",
        "ehg_security_score_version 1",
        "ehg_drift_compliance_score 95",
        "# TYPE ehg_lane_handoff_duration_seconds histogram",
        "# TYPE ehg_bundle_refusals_total counter",
        "ehg_bundle_refusals_total{check=\"bundle_apply\"} 0",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // Every failed attestation check is a refusal by the attestation check.
    let value = |series: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(series))
            .map(|v| v.trim().parse::<u64>().unwrap())
            .unwrap()
    };
    let failed = value("ehg_slsa_verifications_total{result=\"failed\"}");
    assert!(failed > 0);
    assert_eq!(
        value("ehg_bundle_refusals_total{check=\"bundle_attestation\"}"),
        failed
    );
    // 500 journeys handed off, and each refused bundle's rebuild handed off again.
    assert_eq!(
        value("ehg_lane_handoffs_total{from_lane=\"codex\",to_lane=\"claude\"}"),
        500 + failed
    );
}

#[test]
fn promtool_parses_the_exposition() {
    let Some(tool) = promtool() else { return };
    // Positive control: the format's own example parses (the harness can say yes)...
    if let Some(v) = leo_testkit::vector("prometheus-exposition-example.txt") {
        let example = std::fs::read(v).unwrap();
        let (ok, out) = run_promtool(&tool, &["check", "metrics"], &example);
        // promtool lints the example's names (it is old); only a parse error is fatal.
        assert!(ok || !out.contains("error while linting"), "{out}");
    }
    // ...negative control: a broken line is a parse error (the harness can say no)...
    let (ok, out) = run_promtool(&tool, &["check", "metrics"], b"ehg_x{a=\"1\" 1\n");
    assert!(!ok && out.contains("error while linting"), "{out}");
    // ...and ours parses with no lint finding at all.
    let (ok, out) = run_promtool(&tool, &["check", "metrics"], sample_exposition().as_bytes());
    assert!(ok && out.trim().is_empty(), "promtool: {out}");
}

#[test]
fn rules_file_is_the_code_and_promtool_accepts_it() {
    let path = workspace().join("observability/prometheus/leo-alerts.yml");
    if std::env::var_os("LEO_BLESS").is_some() {
        std::fs::write(&path, rules_yaml()).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap();
    assert_eq!(on_disk, rules_yaml(), "regenerate with LEO_BLESS=1");
    let Some(tool) = promtool() else { return };
    let (ok, out) = run_promtool(&tool, &["check", "rules", path.to_str().unwrap()], b"");
    assert!(ok && out.contains("SUCCESS: 7 rules found"), "{out}");
    // Negative control: a broken expression is refused.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, rules_yaml().replace("> 0.1", "> > 0.1")).unwrap();
    let (ok, out) = run_promtool(&tool, &["check", "rules", bad.to_str().unwrap()], b"");
    assert!(!ok, "{out}");
}

/// Metric names an expression uses (identifiers starting with `ehg_` or `ehg:`).
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes: Vec<char> = expr.chars().collect();
    let mut i = 0;
    let mut quoted = false;
    while i < bytes.len() {
        if bytes[i] == '"' {
            quoted = !quoted;
        }
        if quoted {
            i += 1;
            continue;
        }
        let rest: String = bytes[i..].iter().collect();
        let boundary = i == 0 || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_');
        if boundary && (rest.starts_with("ehg_") || rest.starts_with("ehg:")) {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            i += name.len();
            names.push(name);
        } else {
            i += 1;
        }
    }
    names
}

#[test]
fn dashboard_has_the_sop_panels_and_only_known_metrics() {
    let path = workspace().join("observability/grafana/dashboards/supply-chain-security.json");
    let d: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(d["uid"], "ehg-supply-chain");
    assert!(d["schemaVersion"].as_u64().unwrap() >= 36);
    assert!(d["title"].is_string());
    let panels = d["panels"].as_array().unwrap();
    let known_types = ["gauge", "stat", "timeseries", "bargauge", "heatmap"];
    let exposed: BTreeSet<String> = sample_exposition()
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .flat_map(|n| ["", "_bucket", "_sum", "_count"].map(|suffix| format!("{n}{suffix}")))
        .chain(["ehg:compliance:score".to_owned()])
        .collect();
    let mut ids = BTreeSet::new();
    let mut cells = BTreeSet::new();
    for p in panels {
        assert!(ids.insert(p["id"].as_u64().unwrap()), "duplicate panel id");
        assert!(known_types.contains(&p["type"].as_str().unwrap()), "{p}");
        let g = &p["gridPos"];
        let (x, y, w, h) = (
            g["x"].as_u64().unwrap(),
            g["y"].as_u64().unwrap(),
            g["w"].as_u64().unwrap(),
            g["h"].as_u64().unwrap(),
        );
        assert!(
            w > 0 && h > 0 && x + w <= 24,
            "panel outside the 24-column grid: {p}"
        );
        for cx in x..x + w {
            for cy in y..y + h {
                assert!(cells.insert((cx, cy)), "panels overlap at {cx},{cy}");
            }
        }
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty());
        for t in targets {
            let expr = t["expr"].as_str().unwrap();
            let names = metric_names(expr);
            assert!(!names.is_empty(), "{expr}");
            for n in names {
                assert!(exposed.contains(&n), "{n} (in {expr:?}) is not exported");
            }
            assert!(t["refId"].is_string());
        }
    }
    let titles: Vec<&str> = panels
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    for want in [
        "SLSA L3 Coverage",
        "Unsigned Artifacts",
        "Policy Violations",
        "Gate Pass Rate by Type",
        "Lane Handoff Duration",
    ] {
        assert!(titles.contains(&want), "missing panel {want}");
    }
    let heatmap = panels.iter().find(|p| p["type"] == "heatmap").unwrap();
    assert_eq!(heatmap["targets"][0]["format"], "heatmap");
    // The SLSA gauge's target (> 90 %) is its green threshold.
    let slsa = panels
        .iter()
        .find(|p| p["title"] == "SLSA L3 Coverage")
        .unwrap();
    assert_eq!(
        slsa["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"],
        0.9
    );
}

#[test]
fn metric_name_extraction_finds_names_not_labels() {
    assert_eq!(
        metric_names("sum by (le) (rate(ehg_a_bucket{x=\"ehg_no\"}[1h])) / ehg:b:c"),
        vec!["ehg_a_bucket", "ehg:b:c"]
    );
}

#[test]
fn every_dashboard_query_is_valid_promql() {
    let Some(tool) = promtool() else { return };
    let path = workspace().join("observability/grafana/dashboards/supply-chain-security.json");
    let d: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // promtool parses PromQL inside rules files: one recording rule per panel query.
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    let mut n = 0;
    for p in d["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().unwrap() {
            n += 1;
            let expr = t["expr"].as_str().unwrap().replace('\'', "''");
            rules.push_str(&format!(
                "      - record: dashboard:query_{n}\n        expr: '{expr}'\n"
            ));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dashboard-queries.yml");
    std::fs::write(&file, rules).unwrap();
    let (ok, out) = run_promtool(&tool, &["check", "rules", file.to_str().unwrap()], b"");
    assert!(
        ok && out.contains(&format!("SUCCESS: {n} rules found")),
        "{out}"
    );
}
