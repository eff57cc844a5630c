#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! `leo metrics`, `leo alerts` and `leo report` against a seeded SQLite audit trail; the
//! exposition through `promtool`, `/metrics` over loopback, the HTML report in headless
//! Chromium.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{json_of, leo_with};
use leo_artifact::Sha256Digest;
use leo_score::samples::{journeys, seed_store};
use leo_score::{Fact, Observation, PolicyOutcome};
use leo_store::{EnforcerHandle, GateOutcome, HandoffStage, Location, SupervisorHandle, Timestamp};

/// 2026-01-01T00:00:00Z.
const JAN: i64 = 1_767_225_600_000_000;

fn seed(dir: &Path, facts: &[Observation<'_>]) -> String {
    let path = dir.join("leo.db");
    let db = format!("sqlite:{}", path.display());
    let loc: Location = db.parse().unwrap();
    let mut enforcer = EnforcerHandle::open(&loc, None).unwrap();
    let mut supervisor = SupervisorHandle::open(&loc, None).unwrap();
    seed_store(&mut enforcer, &mut supervisor, facts, 1000).unwrap();
    db
}

fn january_facts() -> Vec<Observation<'static>> {
    journeys(20_000, Timestamp::from_unix_micros(JAN), 31 * 86_400, 950)
}

fn january(dir: &Path) -> String {
    seed(dir, &january_facts())
}

/// Bundles handed off in January: 2,000 journeys, plus a rebuild of each bundle refused by
/// its attestation check.
fn january_handed_off() -> usize {
    january_facts()
        .iter()
        .filter(|o| {
            matches!(
                o.fact,
                Fact::Handoff {
                    stage: HandoffStage::CodexReady,
                    ..
                }
            )
        })
        .count()
}

fn at(secs: i64) -> Timestamp {
    Timestamp::from_unix_micros(JAN + secs * 1_000_000)
}

/// One clean journey: signed, applied, gate and policy passed.
fn clean() -> Vec<Observation<'static>> {
    let bundle = Sha256Digest::of(b"clean");
    [
        (
            0,
            Fact::Handoff {
                stage: HandoffStage::CodexReady,
                bundle,
            },
        ),
        (
            10,
            Fact::Signature {
                bundle,
                backend: "sigstore",
            },
        ),
        (
            120,
            Fact::Handoff {
                stage: HandoffStage::ClaudeApplied,
                bundle,
            },
        ),
        (
            200,
            Fact::Gate {
                name: "gate-1",
                outcome: GateOutcome::Success,
                duration_ms: 9000,
            },
        ),
        (
            210,
            Fact::Policy {
                policy_type: "require-signed-images",
                outcome: PolicyOutcome::Pass,
            },
        ),
    ]
    .into_iter()
    .map(|(s, fact)| Observation { at: at(s), fact })
    .collect()
}

#[test]
fn score_is_computed_from_the_trail() {
    let dir = tempfile::tempdir().unwrap();
    let db = seed(dir.path(), &clean());
    let o = leo_with(
        dir.path(),
        &["--json", "metrics", "score", "--db", &db],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json_of(&o);
    assert_eq!(v["score"]["version"], 1);
    assert_eq!(v["score"]["known_weight"], 100);
    assert_eq!(v["score"]["score"], 100.0);
    assert_eq!(v["score"]["band"], "green");
    assert_eq!(v["inputs"]["bundles_handed_off"], 1);
    // A window before any event: everything unknown, said so.
    let o = leo_with(
        dir.path(),
        &[
            "--json",
            "metrics",
            "score",
            "--db",
            &db,
            "--until",
            "2025-12-31T00:00:00Z",
        ],
        &[],
    );
    let v = json_of(&o);
    assert_eq!(v["score"]["known_weight"], 0);
    assert_eq!(v["score"]["band"], "unknown");
    assert_eq!(v["score"]["max_score"], 100.0);
    // A bad time is a usage error.
    let o = leo_with(
        dir.path(),
        &["metrics", "score", "--db", &db, "--until", "yesterday"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn an_oversized_drift_report_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = seed(dir.path(), &clean());
    let big = dir.path().join("big.yaml");
    // Sparse: one byte over leo-drift's file limit costs no disk.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(leo_drift::load::MAX_FILE_BYTES + 1)
        .unwrap();
    let o = leo_with(
        dir.path(),
        &[
            "metrics",
            "score",
            "--db",
            &db,
            "--drift-report",
            big.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is larger than"), "{err}");
}

#[test]
fn dump_passes_promtool() {
    let dir = tempfile::tempdir().unwrap();
    let db = january(dir.path());
    let o = leo_with(dir.path(), &["metrics", "dump", "--db", &db], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("# TYPE ehg_security_score gauge"), "{text}");
    assert!(text.contains("ehg_lane_handoffs_total{from_lane=\"claude\",to_lane=\"plan\"} 2000"));
    let ready = format!(
        "ehg_lane_handoffs_total{{from_lane=\"codex\",to_lane=\"claude\"}} {}",
        january_handed_off()
    );
    assert!(
        january_handed_off() > 2000 && text.contains(&ready),
        "{ready}"
    );
    // The trail records no SLSA level: only the `any` series, no L3 series pretending 0.
    assert!(
        text.contains("ehg_slsa_coverage_ratio{slsa_level=\"any\",environment=\"production\"}")
    );
    assert!(!text.contains("slsa_level=\"L3\""));
    let tool = std::env::var("LEO_PROMTOOL").unwrap_or_else(|_| "promtool".into());
    if !leo_testkit::require_tool(&tool) {
        return;
    }
    let mut child = Command::new(&tool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool: {said}"
    );
}

#[test]
fn serve_answers_a_scrape_over_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let db = seed(dir.path(), &clean());
    let mut child = Command::new(env!("CARGO_BIN_EXE_leo"))
        .args([
            "--json",
            "metrics",
            "serve",
            "--db",
            &db,
            "--listen",
            "127.0.0.1:0",
            "--max-requests",
            "2",
        ])
        .current_dir(dir.path())
        .env_remove("LEO_DB")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first thing printed is the bound address, as (pretty) JSON.
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut announced = String::new();
    while !announced.ends_with("}\n") {
        assert!(reader.read_line(&mut announced).unwrap() > 0, "{announced}");
    }
    let v: serde_json::Value = serde_json::from_str(&announced).unwrap();
    let addr = v["listening"].as_str().unwrap().to_owned();
    let get = |path: &str| {
        let mut s = TcpStream::connect(&addr).unwrap();
        write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let metrics = get("/metrics");
    assert!(metrics.starts_with("HTTP/1.0 200"), "{metrics}");
    assert!(
        metrics.contains("Content-Type: text/plain; version=0.0.4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("\nehg_security_score 100.0\n"),
        "{metrics}"
    );
    assert!(get("/").starts_with("HTTP/1.0 404"));
    let status = child.wait().unwrap();
    assert!(status.success());
}

#[test]
fn alerts_fire_on_a_bypass_and_the_rules_file_is_the_code() {
    let dir = tempfile::tempdir().unwrap();
    let db = seed(dir.path(), &clean());
    let until = ["--until", "2026-01-01T01:00:00Z"];
    let args = |extra: &[&str]| {
        let mut a = vec!["--json", "alerts", "--db", &db];
        a.extend_from_slice(extra);
        a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()
    };
    let run = |a: Vec<String>| {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        leo_with(dir.path(), &refs, &[])
    };
    let o = run(args(&until));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let v = json_of(&o);
    assert_eq!(v["firing"], serde_json::json!([]));
    assert_eq!(v["alerts"].as_array().unwrap().len(), 6);
    // A refused bypass attempt in the window fires GateBypassAttempt: exit 1.
    let mut facts = clean();
    facts.push(Observation {
        at: at(300),
        fact: Fact::BypassAttempt,
    });
    let dir2 = tempfile::tempdir().unwrap();
    let db2 = seed(dir2.path(), &facts);
    let o = leo_with(
        dir2.path(),
        &[
            "--json",
            "alerts",
            "--db",
            &db2,
            "--until",
            "2026-01-01T01:00:00Z",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    let v = json_of(&o);
    assert_eq!(v["firing"], serde_json::json!(["GateBypassAttempt"]));
    // --rules prints exactly the shipped rules file.
    let o = leo_with(dir.path(), &["alerts", "--rules"], &[]);
    let shipped = std::fs::read_to_string(
        leo_testkit::workspace_root().join("observability/prometheus/leo-alerts.yml"),
    )
    .unwrap();
    assert_eq!(String::from_utf8(o.stdout).unwrap(), shipped);
}

fn chromium() -> Option<String> {
    let tool = std::env::var("LEO_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    leo_testkit::require_tool(&tool).then_some(tool)
}

#[test]
fn report_writes_markdown_and_html_that_chromium_renders() {
    let dir = tempfile::tempdir().unwrap();
    let db = january(dir.path());
    let out = dir.path().join("reports");
    let o = leo_with(
        dir.path(),
        &[
            "--json",
            "report",
            "--month",
            "2026-01",
            "--db",
            &db,
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json_of(&o);
    assert_eq!(v["total"]["bundles"], january_handed_off());
    let md = std::fs::read_to_string(out.join("leo-report-2026-01.md")).unwrap();
    assert!(md.contains("# LEO compliance report 2026-01"));
    assert!(md.contains("| Gate bypass attempts |"));
    let html_path = out.join("leo-report-2026-01.html");
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert_eq!(html.matches("<svg").count(), 6);
    assert!(!html.contains("<script") && !html.contains(" src=") && !html.contains("<link"));
    // A bad month is a usage error with a typed message.
    let o = leo_with(
        dir.path(),
        &["report", "--month", "2026-13", "--db", &db],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not a month"));

    let Some(chromium) = chromium() else { return };
    let png = dir.path().join("report.png");
    let profile = tempfile::tempdir().unwrap();
    let status = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1200,1600")
        .arg(format!("file://{}", html_path.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "chromium exited with {status}");
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // IHDR: width and height as the window asked.
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    assert_eq!((be(16), be(20)), (1200, 1600));
    // A blank page compresses to a few KB; charts and text do not.
    assert!(
        bytes.len() > 40_000,
        "screenshot is only {} bytes",
        bytes.len()
    );
    let keep = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("leo-report-2026-01.png");
    std::fs::copy(&png, &keep).unwrap();
    eprintln!("screenshot: {}", keep.display());
}
