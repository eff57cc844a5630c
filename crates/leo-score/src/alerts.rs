//! The SOP §12.4 alerts, defined once: [`RULES`] renders the Prometheus rules file
//! (`observability/prometheus/leo-alerts.yml`, see [`rules_yaml`]) and [`evaluate`] checks the
//! same conditions over the audit trail's history.
//!
//! | alert | Prometheus (over the exposition) | LEO (over the store, one window) |
//! |---|---|---|
//! | UnsignedArtifactDetected | `increase(ehg_unsigned_artifacts_applied_total[5m]) > 0` | an unsigned bundle applied in the window |
//! | GateBypassAttempt | `increase(ehg_gate_bypass_attempts_total[5m]) > 0` | an operation refused in the window (a bundle refusal is not one: [`crate::source`]) |
//! | LowSecurityScore | `ehg_security_score < 70` for 10 min | the score of the window and of the window ending 10 min earlier both < 70 |
//! | SLSAVerificationFailureRate | failed / all attestation checks > 10 % (15 min rate) | failed / all checks in the window > 10 % (failed: the attestation check's bundle refusals; verified: `[CLAUDE-APPLIED]` handoffs and the SBOM and apply checks' refusals) |
//! | PolicyViolationSpike | > 10 violations in one minute | some minute of the window has > 10 violations |
//! | LaneHandoffTimeout | P95 handoff time > 10 min (1 h rate, histogram buckets) | P95 (nearest rank, exact samples) > 600 s |
//!
//! The security score counts unknown components as 0 here (fail closed: missing evidence is
//! itself worth investigating); the alert's summary says how much of the weight was known.

use serde::Serialize;

use crate::error::Result;
use crate::tally::{Tally, quantile};

/// LowSecurityScore fires below this score.
pub const LOW_SCORE: f64 = 70.0;
/// ... for this long, minutes.
pub const LOW_SCORE_FOR_MINUTES: i64 = 10;
/// SLSAVerificationFailureRate fires above this share of failed checks.
pub const SLSA_FAILURE_RATE: f64 = 0.10;
/// PolicyViolationSpike fires above this many violations in one minute.
pub const VIOLATIONS_PER_MINUTE: u64 = 10;
/// LaneHandoffTimeout fires when the handoff P95 exceeds this many seconds.
pub const HANDOFF_P95_SECONDS: f64 = 600.0;

/// How urgent an alert is (SOP §12.4's two tables).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Page, security review or investigate now.
    Critical,
    /// Review soon.
    Warning,
}

impl Severity {
    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
        }
    }
}

/// Which SOP §12.4 alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AlertKind {
    /// Unsigned artifact not blocked.
    UnsignedArtifactDetected,
    /// Unauthorized bypass attempt.
    GateBypassAttempt,
    /// Score < 70 for 10 min.
    LowSecurityScore,
    /// > 10 % failed SLSA verifications.
    SlsaVerificationFailureRate,
    /// > 10 violations per minute.
    PolicyViolationSpike,
    /// Handoff P95 > 10 min.
    LaneHandoffTimeout,
}

/// One alert rule, as Prometheus runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AlertRule {
    /// Which alert.
    pub kind: AlertKind,
    /// The alert's name.
    pub name: &'static str,
    /// Severity label.
    pub severity: Severity,
    /// The PromQL condition.
    pub expr: &'static str,
    /// How long it must hold (`for:`), if at all.
    pub for_duration: Option<&'static str>,
    /// The SOP's condition, in words.
    pub summary: &'static str,
    /// The SOP's action.
    pub action: &'static str,
}

/// The six SOP §12.4 rules.
pub const RULES: [AlertRule; 6] = [
    AlertRule {
        kind: AlertKind::UnsignedArtifactDetected,
        name: "UnsignedArtifactDetected",
        severity: Severity::Critical,
        expr: "increase(ehg_unsigned_artifacts_applied_total[5m]) > 0",
        for_duration: None,
        summary: "An unsigned artifact was applied (not blocked)",
        action: "Page on-call",
    },
    AlertRule {
        kind: AlertKind::GateBypassAttempt,
        name: "GateBypassAttempt",
        severity: Severity::Critical,
        expr: "increase(ehg_gate_bypass_attempts_total[5m]) > 0",
        for_duration: None,
        summary: "An unauthorized gate bypass was attempted",
        action: "Security review",
    },
    AlertRule {
        kind: AlertKind::LowSecurityScore,
        name: "LowSecurityScore",
        severity: Severity::Critical,
        expr: "ehg_security_score < 70",
        for_duration: Some("10m"),
        summary: "Security posture score below 70 for 10 minutes",
        action: "Investigate",
    },
    AlertRule {
        kind: AlertKind::SlsaVerificationFailureRate,
        name: "SLSAVerificationFailureRate",
        severity: Severity::Warning,
        expr: "sum(rate(ehg_slsa_verifications_total{result=\"failed\"}[15m])) / sum(rate(ehg_slsa_verifications_total[15m])) > 0.1",
        for_duration: None,
        summary: "More than 10% of SLSA attestation verifications fail",
        action: "Check certificates",
    },
    AlertRule {
        kind: AlertKind::PolicyViolationSpike,
        name: "PolicyViolationSpike",
        severity: Severity::Warning,
        expr: "sum(increase(ehg_policy_violations_total[1m])) > 10",
        for_duration: None,
        summary: "More than 10 policy violations per minute",
        action: "Review policy",
    },
    AlertRule {
        kind: AlertKind::LaneHandoffTimeout,
        name: "LaneHandoffTimeout",
        severity: Severity::Warning,
        expr: "histogram_quantile(0.95, sum by (le) (rate(ehg_lane_handoff_duration_seconds_bucket[1h]))) > 600",
        for_duration: None,
        summary: "95th percentile lane handoff time above 10 minutes",
        action: "Performance review",
    },
];

/// Recording rules the SOP §14.7 queries use.
pub const RECORDING_RULES: [(&str, &str); 1] =
    [("ehg:compliance:score", "ehg_drift_compliance_score")];

/// The Prometheus rules file for [`RULES`] and [`RECORDING_RULES`].
pub fn rules_yaml() -> String {
    let mut y = String::from(
        "# LEO supply-chain alerts (SOP 12.4) and recording rules (SOP 14.7).\n\
         # Generated from leo_score::alerts::RULES (`leo alerts --rules`); a test keeps them equal.\n\
         groups:\n",
    );
    for severity in [Severity::Critical, Severity::Warning] {
        y.push_str(&format!(
            "  - name: leo-supply-chain-{}\n    rules:\n",
            severity.as_str()
        ));
        for r in RULES.iter().filter(|r| r.severity == severity) {
            y.push_str(&format!("      - alert: {}\n", r.name));
            y.push_str(&format!("        expr: {}\n", quote(r.expr)));
            if let Some(d) = r.for_duration {
                y.push_str(&format!("        for: {d}\n"));
            }
            y.push_str(&format!(
                "        labels:\n          severity: {}\n",
                severity.as_str()
            ));
            y.push_str(&format!(
                "        annotations:\n          summary: {}\n          action: {}\n",
                quote(r.summary),
                quote(r.action)
            ));
        }
    }
    y.push_str("  - name: leo-drift-recording\n    rules:\n");
    for (record, expr) in RECORDING_RULES {
        y.push_str(&format!(
            "      - record: {record}\n        expr: {}\n",
            quote(expr)
        ));
    }
    y
}

/// A YAML single-quoted scalar.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Whether an alert fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// The condition holds.
    Firing,
    /// It does not.
    Inactive,
    /// No data to decide (e.g. no attestation checks at all).
    NoData,
}

/// One alert's evaluation over the store.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertStatus {
    /// The rule.
    pub rule: AlertRule,
    /// Its state.
    pub state: AlertState,
    /// The value compared with the threshold, when there is one.
    pub value: Option<f64>,
    /// What was found, in words.
    pub detail: String,
}

/// Evaluates [`RULES`] over a window (`now`) and, for `for: 10m`, the same window ending
/// [`LOW_SCORE_FOR_MINUTES`] earlier (`earlier`; `None` when that leaves nothing, and the
/// score alert then cannot have held for 10 minutes).
pub fn evaluate(now: &Tally, earlier: Option<&Tally>) -> Result<Vec<AlertStatus>> {
    let score = now.score()?;
    let earlier_score = earlier.map(Tally::score).transpose()?;
    let mut out = Vec::with_capacity(RULES.len());
    for rule in RULES {
        let (state, value, detail) = match rule.kind {
            AlertKind::UnsignedArtifactDetected => {
                count(now.unsigned_applied(), "unsigned bundles applied")
            }
            AlertKind::GateBypassAttempt => {
                count(now.bypass_attempts, "gate bypass attempts refused")
            }
            AlertKind::LowSecurityScore => {
                let low = score.score < LOW_SCORE
                    && earlier_score.as_ref().is_some_and(|e| e.score < LOW_SCORE);
                let detail = format!(
                    "score {:.2} ({} % of the weight known, band {}); {} min earlier: {}",
                    score.score,
                    score.known_weight,
                    score.band,
                    LOW_SCORE_FOR_MINUTES,
                    earlier_score
                        .as_ref()
                        .map_or("no data".to_owned(), |e| format!("{:.2}", e.score))
                );
                (state_of(low), Some(score.score), detail)
            }
            AlertKind::SlsaVerificationFailureRate => {
                let (bad, all) = (
                    now.attestations_failed,
                    now.attestations_failed + now.attestations_verified,
                );
                #[allow(clippy::cast_precision_loss)]
                let rate = (all > 0).then(|| bad as f64 / all as f64);
                match rate {
                    None => (AlertState::NoData, None, "no attestation checks".to_owned()),
                    Some(r) => (
                        state_of(r > SLSA_FAILURE_RATE),
                        Some(r),
                        format!("{bad} of {all} attestation checks failed"),
                    ),
                }
            }
            AlertKind::PolicyViolationSpike => {
                let worst = now
                    .violations_per_minute
                    .iter()
                    .max_by_key(|(minute, n)| (**n, std::cmp::Reverse(**minute)));
                match worst {
                    None => (AlertState::Inactive, Some(0.0), "no violations".to_owned()),
                    Some((minute, n)) => {
                        #[allow(clippy::cast_precision_loss)]
                        let v = *n as f64;
                        let at = leo_store::Timestamp::from_unix_micros(*minute);
                        (
                            state_of(*n > VIOLATIONS_PER_MINUTE),
                            Some(v),
                            format!("busiest minute {at}: {n} violations"),
                        )
                    }
                }
            }
            AlertKind::LaneHandoffTimeout => match quantile(&now.handoff_seconds(), 0.95) {
                None => (AlertState::NoData, None, "no completed handoffs".to_owned()),
                Some(p95) => (
                    state_of(p95 > HANDOFF_P95_SECONDS),
                    Some(p95),
                    format!(
                        "P95 {:.0} s over {} handoffs",
                        p95,
                        now.handoff_seconds().len()
                    ),
                ),
            },
        };
        out.push(AlertStatus {
            rule,
            state,
            value,
            detail,
        });
    }
    Ok(out)
}

fn state_of(firing: bool) -> AlertState {
    if firing {
        AlertState::Firing
    } else {
        AlertState::Inactive
    }
}

#[allow(clippy::cast_precision_loss)]
fn count(n: u64, what: &str) -> (AlertState, Option<f64>, String) {
    (state_of(n > 0), Some(n as f64), format!("{n} {what}"))
}

#[cfg(test)]
mod tests {
    use leo_artifact::Sha256Digest;
    use leo_store::{GateOutcome, HandoffStage, Timestamp};

    use super::*;
    use crate::tally::{Fact, Observation, PolicyOutcome, Window};

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_unix_micros(secs * 1_000_000)
    }

    fn tally(facts: &[(i64, Fact<'_>)]) -> Tally {
        let mut t = Tally::new(Window::until(at(1_000_000)));
        for (s, fact) in facts {
            t.observe(&Observation {
                at: at(*s),
                fact: *fact,
            });
        }
        t
    }

    fn state(alerts: &[AlertStatus], kind: AlertKind) -> AlertState {
        alerts
            .iter()
            .find(|a| a.rule.kind == kind)
            .map(|a| a.state)
            .unwrap()
    }

    fn ready(n: u8) -> Fact<'static> {
        Fact::Handoff {
            stage: HandoffStage::CodexReady,
            bundle: Sha256Digest::of(&[n]),
        }
    }

    fn applied(n: u8) -> Fact<'static> {
        Fact::Handoff {
            stage: HandoffStage::ClaudeApplied,
            bundle: Sha256Digest::of(&[n]),
        }
    }

    #[test]
    fn quiet_trail_fires_nothing_and_says_what_it_cannot_know() {
        let t = tally(&[]);
        let a = evaluate(&t, Some(&t)).unwrap();
        assert_eq!(a.len(), 6);
        assert_eq!(
            state(&a, AlertKind::UnsignedArtifactDetected),
            AlertState::Inactive
        );
        assert_eq!(
            state(&a, AlertKind::GateBypassAttempt),
            AlertState::Inactive
        );
        assert_eq!(
            state(&a, AlertKind::SlsaVerificationFailureRate),
            AlertState::NoData
        );
        assert_eq!(
            state(&a, AlertKind::PolicyViolationSpike),
            AlertState::Inactive
        );
        assert_eq!(state(&a, AlertKind::LaneHandoffTimeout), AlertState::NoData);
        // No data at all: the lower bound is 0, so the score alert fails closed.
        assert_eq!(state(&a, AlertKind::LowSecurityScore), AlertState::Firing);
    }

    #[test]
    fn unsigned_apply_and_bypass_fire() {
        let t = tally(&[(0, ready(1)), (1, applied(1)), (2, Fact::BypassAttempt)]);
        let a = evaluate(&t, None).unwrap();
        assert_eq!(
            state(&a, AlertKind::UnsignedArtifactDetected),
            AlertState::Firing
        );
        assert_eq!(state(&a, AlertKind::GateBypassAttempt), AlertState::Firing);
        // Without a window ending 10 minutes earlier the score cannot have been low for 10 min.
        assert_eq!(state(&a, AlertKind::LowSecurityScore), AlertState::Inactive);
    }

    #[test]
    fn thresholds_are_strict() {
        let att = |verified| Fact::Attestation {
            bundle: Some(Sha256Digest::of(b"x")),
            verified,
            slsa_level: Some(3),
        };
        let violation = Fact::Policy {
            policy_type: "require-signed-images",
            outcome: PolicyOutcome::Fail,
        };
        // 1 failure in 10 checks is exactly 10 %: not above.
        let mut facts: Vec<(i64, Fact<'_>)> = (0..9).map(|i| (i, att(true))).collect();
        facts.push((9, att(false)));
        // 10 violations within one minute: not above 10.
        facts.extend((0..10).map(|i| (120 + i, violation)));
        // Handoffs: 19 of 20 take 600 s, so P95 = 600 s: not above.
        for n in 0..20u8 {
            facts.push((1000 + i64::from(n), ready(n)));
            let secs = if n == 0 { 5000 } else { 600 };
            facts.push((1000 + i64::from(n) + secs, applied(n)));
        }
        let a = evaluate(&tally(&facts), None).unwrap();
        assert_eq!(
            state(&a, AlertKind::SlsaVerificationFailureRate),
            AlertState::Inactive
        );
        assert_eq!(
            state(&a, AlertKind::PolicyViolationSpike),
            AlertState::Inactive
        );
        assert_eq!(
            state(&a, AlertKind::LaneHandoffTimeout),
            AlertState::Inactive
        );
        // One more of each crosses.
        facts.push((10, att(false)));
        facts.push((130, violation));
        facts.push((3000, ready(200)));
        facts.push((4000, applied(200)));
        let a = evaluate(&tally(&facts), None).unwrap();
        assert_eq!(
            state(&a, AlertKind::SlsaVerificationFailureRate),
            AlertState::Firing
        );
        assert_eq!(
            state(&a, AlertKind::PolicyViolationSpike),
            AlertState::Firing
        );
        assert_eq!(state(&a, AlertKind::LaneHandoffTimeout), AlertState::Firing);
    }

    #[test]
    fn low_score_needs_both_ends_of_ten_minutes() {
        let gate = |outcome| Fact::Gate {
            name: "g",
            outcome,
            duration_ms: 1,
        };
        let good = tally(&[(0, gate(GateOutcome::Success))]);
        let bad = tally(&[(0, gate(GateOutcome::Failure))]);
        let fires = |now: &Tally, earlier: &Tally| {
            state(
                &evaluate(now, Some(earlier)).unwrap(),
                AlertKind::LowSecurityScore,
            )
        };
        // A gate alone is 20 known points: 20 (< 70) however it went, so this is about the
        // ends: both below fires.
        assert_eq!(fires(&bad, &bad), AlertState::Firing);
        assert_eq!(fires(&good, &bad), AlertState::Firing);
        let mut perfect_facts = vec![
            (0, ready(1)),
            (
                1,
                Fact::Signature {
                    bundle: Sha256Digest::of(&[1]),
                    backend: "sigstore",
                },
            ),
        ];
        perfect_facts.push((
            2,
            Fact::Attestation {
                bundle: Some(Sha256Digest::of(&[1])),
                verified: true,
                slsa_level: Some(3),
            },
        ));
        perfect_facts.push((3, gate(GateOutcome::Success)));
        let perfect = tally(&perfect_facts); // 80 of 80 known
        assert_eq!(fires(&perfect, &bad), AlertState::Inactive);
        assert_eq!(fires(&bad, &perfect), AlertState::Inactive);
    }

    #[test]
    fn rules_yaml_lists_every_rule() {
        let y = rules_yaml();
        for r in RULES {
            assert!(y.contains(&format!("- alert: {}\n", r.name)), "{}", r.name);
        }
        assert!(y.contains("for: 10m"));
        assert!(y.contains("- record: ehg:compliance:score"));
    }
}
