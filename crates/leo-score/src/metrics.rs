//! The Prometheus exposition (SOP §12.2, §14.6), built with `prometheus-client` from one
//! window's [`Tally`] and encoded in the text format 0.0.4 that `promtool check metrics`
//! parses.
//!
//! Counters count events recorded in the window; with the default window (the whole trail up
//! to now) they only grow, as Prometheus counters must. Gauges describe the window.
//! A gauge whose value is unknown (no data) is absent, never 0.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `ehg_policy_violations_total` | counter | `policy_type` |
//! | `ehg_policy_evaluations_total` | counter | `policy_type`, `result` |
//! | `ehg_slsa_coverage_ratio` | gauge | `slsa_level` (`any`, `L1`..`L3`), `environment` |
//! | `ehg_slsa_verifications_total` | counter | `result` (`verified`, `failed`) |
//! | `ehg_lane_handoffs_total` | counter | `from_lane`, `to_lane` |
//! | `ehg_lane_handoff_duration_seconds` | histogram | |
//! | `ehg_gate_execution_duration_seconds` | histogram | `gate_name` |
//! | `ehg_gate_executions_total` | counter | `gate_name`, `outcome` |
//! | `ehg_artifact_signatures_total` | counter | `backend` |
//! | `ehg_unsigned_artifacts` | gauge | |
//! | `ehg_unsigned_artifacts_applied_total` | counter | |
//! | `ehg_gate_bypass_attempts_total` | counter | |
//! | `ehg_bundle_refusals_total` | counter | `check` (`bundle_digest`, `bundle_contents`, `bundle_attestation`, `bundle_sbom`, `bundle_apply`) |
//! | `ehg_plan_verdicts_total` | counter | `verdict` |
//! | `ehg_security_score` | gauge | (lower bound: unknown components count 0) |
//! | `ehg_security_score_max` | gauge | (upper bound) |
//! | `ehg_security_score_known_weight_ratio` | gauge | |
//! | `ehg_security_score_component_ratio` | gauge | `component` |
//! | `ehg_security_score_version` | gauge | |
//! | `ehg_drift_compliance_score` | gauge | |
//! | `ehg_drift_mttd_seconds`, `ehg_drift_mttr_seconds` | gauge | |
//! | `ehg_drift_open_episodes` | gauge | |

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::drift::DriftPosture;
use crate::error::Result;
use crate::score::PostureScore;
use crate::tally::{Tally, outcome_slot};

/// Gate duration buckets, seconds: gates run from seconds up to the SOP §6.2 four hours.
pub const GATE_BUCKETS: [f64; 12] = [
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0,
];
/// Handoff duration buckets, seconds; 600 (the §12.4 ten minutes) is a bound.
pub const HANDOFF_BUCKETS: [f64; 10] = [
    30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0,
];
/// The `Content-Type` of [`exposition`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Vec<(&'static str, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// What the exposition is made of.
#[derive(Debug)]
pub struct Snapshot<'a> {
    /// The window's counts.
    pub tally: &'a Tally,
    /// The window's score.
    pub score: &'a PostureScore,
    /// Drift figures, when drift reports were given.
    pub drift: Option<&'a DriftPosture>,
    /// The `environment` label of `ehg_slsa_coverage_ratio`.
    pub environment: &'a str,
}

fn counter_family(reg: &mut Registry, name: &str, help: &str) -> Family<Labels, Counter> {
    let f = Family::<Labels, Counter>::default();
    reg.register(name, help, f.clone());
    f
}

fn counter(reg: &mut Registry, name: &str, help: &str, value: u64) {
    let c = Counter::<u64>::default();
    c.inc_by(value);
    reg.register(name, help, c);
}

fn gauge(reg: &mut Registry, name: &str, help: &str, value: Option<f64>) {
    if let Some(v) = value {
        let g = FloatGauge::default();
        g.set(v);
        reg.register(name, help, g);
    }
}

#[allow(clippy::cast_precision_loss)]
fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// Builds the registry of every metric.
pub fn registry(s: &Snapshot<'_>) -> Registry {
    let mut reg = Registry::default();
    let t = s.tally;

    let violations = counter_family(
        &mut reg,
        "ehg_policy_violations",
        "Policy evaluations that failed, by policy",
    );
    let evaluations = counter_family(
        &mut reg,
        "ehg_policy_evaluations",
        "Policy evaluations, by policy and result",
    );
    for (policy, p) in &t.policies {
        violations
            .get_or_create(&vec![("policy_type", policy.clone())])
            .inc_by(p.fail);
        for (result, n) in [("pass", p.pass), ("fail", p.fail), ("other", p.other)] {
            evaluations
                .get_or_create(&vec![
                    ("policy_type", policy.clone()),
                    ("result", result.into()),
                ])
                .inc_by(n);
        }
    }

    let coverage = Family::<Labels, FloatGauge>::default();
    reg.register(
        "ehg_slsa_coverage_ratio",
        "Bundles handed off with a verified attestation of at least this SLSA level, over bundles handed off",
        coverage.clone(),
    );
    // Levels only where attestations said theirs: an unknown level is absent, not 0.
    let levels: &[(u8, &str)] = if t.slsa_levels_known() {
        &[(0, "any"), (1, "L1"), (2, "L2"), (3, "L3")]
    } else {
        &[(0, "any")]
    };
    for (level, name) in levels {
        if let Some(r) = ratio(t.bundles_attested_at(*level), t.bundles_handed_off()) {
            coverage
                .get_or_create(&vec![
                    ("slsa_level", (*name).into()),
                    ("environment", s.environment.into()),
                ])
                .set(r);
        }
    }
    let verifications = counter_family(
        &mut reg,
        "ehg_slsa_verifications",
        "Attestation (SLSA provenance) checks, by result",
    );
    for (result, n) in [
        ("verified", t.attestations_verified),
        ("failed", t.attestations_failed),
    ] {
        verifications
            .get_or_create(&vec![("result", result.into())])
            .inc_by(n);
    }

    let handoffs = counter_family(
        &mut reg,
        "ehg_lane_handoffs",
        "Handoffs between lanes: CODEX-READY (codex to claude) and CLAUDE-APPLIED (claude to plan)",
    );
    for (from, to, n) in [
        ("codex", "claude", t.handoffs_codex_to_claude),
        ("claude", "plan", t.handoffs_claude_to_plan),
    ] {
        handoffs
            .get_or_create(&vec![("from_lane", from.into()), ("to_lane", to.into())])
            .inc_by(n);
    }
    let handoff_time = Histogram::new(HANDOFF_BUCKETS);
    for secs in &t.handoff_seconds() {
        handoff_time.observe(*secs);
    }
    reg.register(
        "ehg_lane_handoff_duration_seconds",
        "Time from a bundle's CODEX-READY to its CLAUDE-APPLIED handoff",
        handoff_time,
    );

    let gate_time = Family::<Labels, Histogram>::new_with_constructor(
        (|| Histogram::new(GATE_BUCKETS)) as fn() -> Histogram,
    );
    let gate_runs = Family::<Labels, Counter>::default();
    for (gate, g) in &t.gates {
        let h = gate_time.get_or_create(&vec![("gate_name", gate.clone())]);
        for ms in &g.durations_ms {
            h.observe(f64::from(*ms) / 1000.0);
        }
        for o in [
            leo_store::GateOutcome::Success,
            leo_store::GateOutcome::Failure,
            leo_store::GateOutcome::Cancelled,
            leo_store::GateOutcome::TimedOut,
        ] {
            let (slot, label) = outcome_slot(o);
            gate_runs
                .get_or_create(&vec![
                    ("gate_name", gate.clone()),
                    ("outcome", label.into()),
                ])
                .inc_by(g.outcomes.get(slot).copied().unwrap_or(0));
        }
    }
    reg.register(
        "ehg_gate_execution_duration_seconds",
        "Gate (workflow) execution time",
        gate_time,
    );
    reg.register(
        "ehg_gate_executions",
        "Gate executions, by gate and outcome",
        gate_runs,
    );

    let signatures = counter_family(
        &mut reg,
        "ehg_artifact_signatures",
        "Artifact signatures recorded, by signing backend",
    );
    for (backend, n) in &t.signatures_by_backend {
        signatures
            .get_or_create(&vec![("backend", backend.clone())])
            .inc_by(*n);
    }
    #[allow(clippy::cast_precision_loss)]
    gauge(
        &mut reg,
        "ehg_unsigned_artifacts",
        "Bundles handed off in the window without an artifact signature",
        Some(t.unsigned_bundles() as f64),
    );
    counter(
        &mut reg,
        "ehg_unsigned_artifacts_applied",
        "CLAUDE-APPLIED handoffs of bundles without a signature: unsigned artifacts not blocked",
        t.unsigned_applied(),
    );
    counter(
        &mut reg,
        "ehg_gate_bypass_attempts",
        "Operations refused as gate bypass attempts",
        t.bypass_attempts,
    );
    let refusals = counter_family(
        &mut reg,
        "ehg_bundle_refusals",
        "Handed-off bundles the enforcer refused, by the check that failed",
    );
    for check in leo_store::BundleCheck::ALL {
        refusals
            .get_or_create(&vec![("check", check.as_str().into())])
            .inc_by(t.bundle_refusals.get(&check).copied().unwrap_or(0));
    }
    let verdicts = counter_family(&mut reg, "ehg_plan_verdicts", "PLAN verdicts, by verdict.");
    for (verdict, n) in &t.verdicts {
        verdicts
            .get_or_create(&vec![("verdict", (*verdict).to_owned())])
            .inc_by(*n);
    }

    score_metrics(&mut reg, s.score);
    if let Some(d) = s.drift {
        drift_metrics(&mut reg, d);
    }
    reg
}

fn score_metrics(reg: &mut Registry, score: &PostureScore) {
    gauge(
        reg,
        "ehg_security_score",
        "SOP 12.6 security posture score, 0-100; unknown components count 0 (a lower bound)",
        Some(score.score),
    );
    gauge(
        reg,
        "ehg_security_score_max",
        "Security posture score with unknown components counted 1 (an upper bound)",
        Some(score.max_score),
    );
    #[allow(clippy::cast_precision_loss)]
    gauge(
        reg,
        "ehg_security_score_known_weight_ratio",
        "Share of the score's weight whose components have data",
        Some(score.known_weight as f64 / 100.0),
    );
    let components = Family::<Labels, FloatGauge>::default();
    reg.register(
        "ehg_security_score_component_ratio",
        "Each known component of the security posture score, 0-1",
        components.clone(),
    );
    for c in &score.components {
        if let Some(r) = c.ratio {
            components
                .get_or_create(&vec![("component", c.component.as_str().into())])
                .set(r.as_f64());
        }
    }
    gauge(
        reg,
        "ehg_security_score_version",
        "Version of the security posture score's definition",
        Some(f64::from(score.version)),
    );
}

fn drift_metrics(reg: &mut Registry, d: &DriftPosture) {
    gauge(
        reg,
        "ehg_drift_compliance_score",
        "SOP 14.5 drift compliance score of the newest drift report, 0-100",
        Some(d.compliance.score),
    );
    gauge(
        reg,
        "ehg_drift_mttd_seconds",
        "SOP 14.6 mean time to detect drift",
        d.metrics.mttd_seconds,
    );
    gauge(
        reg,
        "ehg_drift_mttr_seconds",
        "SOP 14.6 mean time to remediate drift",
        d.metrics.mttr_seconds,
    );
    #[allow(clippy::cast_precision_loss)]
    gauge(
        reg,
        "ehg_drift_open_episodes",
        "Drift episodes still open at the newest report",
        Some(d.metrics.open as f64),
    );
}

/// The exposition text (Prometheus text format 0.0.4, [`CONTENT_TYPE`]).
pub fn exposition(s: &Snapshot<'_>) -> Result<String> {
    let mut out = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut out, &registry(s))?;
    Ok(out)
}
