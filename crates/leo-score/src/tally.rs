//! One pass over the audit trail: [`Observation`]s in, [`PostureInputs`] and metric
//! series out.
//!
//! The store's records are first turned into [`Fact`]s (see [`crate::source`]), so the
//! counting rules here are plain logic, tested without a database. Counting rules:
//! - a bundle is *handed off* in a window when a handoff event (either marker) for its hash is
//!   recorded in the window; each bundle counts once however many events it has;
//! - it is *attested* when a verified attestation for its hash was recorded before the
//!   window's end (the attestation may predate the window), and *signed* likewise with an
//!   artifact signature; a bundle the enforcer refused at its attestation check was handed
//!   off and is never attested, so it lowers coverage, as a builder's bad provenance should;
//! - policy evaluations, gate executions, verdicts, bundle refusals, failed attestation checks
//!   and bypass attempts count when recorded in the window;
//! - an *unsigned artifact applied* is a `[CLAUDE-APPLIED]` handoff for a bundle with no
//!   signature recorded before it: an unsigned artifact that was not blocked;
//! - a handoff's duration runs from the bundle's first `[CODEX-READY]` to its first
//!   `[CLAUDE-APPLIED]`.
//!
//! Times are the events' `recorded_at`; a window is half-open, `[from, to)`.

use std::collections::{BTreeMap, HashMap};

use leo_artifact::{PlanVerdict, Sha256Digest};
use leo_store::{BundleCheck, GateOutcome, HandoffStage, Timestamp};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::score::{PostureInputs, PostureScore};

/// Microseconds per second.
pub(crate) const MICROS_PER_SEC: i64 = 1_000_000;
/// Microseconds per minute.
pub(crate) const MICROS_PER_MIN: i64 = 60 * MICROS_PER_SEC;

/// A half-open time window `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    from: Timestamp,
    to: Timestamp,
}

impl Window {
    /// Refuses an empty or inverted window.
    pub fn new(from: Timestamp, to: Timestamp) -> Result<Self> {
        if from >= to {
            return Err(Error::EmptyWindow {
                from: from.to_string(),
                to: to.to_string(),
            });
        }
        Ok(Window { from, to })
    }

    /// Everything up to (not including) `to`.
    pub fn until(to: Timestamp) -> Self {
        Window {
            from: Timestamp::from_unix_micros(i64::MIN),
            to,
        }
    }

    /// Start (inclusive).
    pub const fn from(self) -> Timestamp {
        self.from
    }

    /// End (exclusive).
    pub const fn to(self) -> Timestamp {
        self.to
    }

    /// Whether `t` lies in the window.
    pub fn contains(self, t: Timestamp) -> bool {
        self.from <= t && t < self.to
    }

    /// The same start, an earlier end (`None` when that leaves nothing).
    pub fn ending(self, to: Timestamp) -> Option<Self> {
        Window::new(self.from, to.min(self.to)).ok()
    }
}

impl Serialize for Window {
    /// `{"from": RFC 3339 or null (unbounded), "to": RFC 3339}`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Window", 2)?;
        let from = (self.from.unix_micros() != i64::MIN).then(|| self.from.to_rfc3339());
        st.serialize_field("from", &from)?;
        st.serialize_field("to", &self.to.to_rfc3339())?;
        st.end()
    }
}

/// How a policy evaluation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyOutcome {
    /// The resource complied.
    Pass,
    /// A violation.
    Fail,
    /// Not applicable, skipped or errored: not counted by the score.
    Other,
}

/// What one stored record says, in the terms the posture cares about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fact<'a> {
    /// A `[CODEX-READY]` or `[CLAUDE-APPLIED]` handoff of a bundle.
    Handoff {
        /// Which marker.
        stage: HandoffStage,
        /// The bundle hash.
        bundle: Sha256Digest,
    },
    /// An attestation (SLSA provenance) of a bundle was checked.
    Attestation {
        /// The bundle hash (`None`: the record does not name it, as the refusal of a bundle
        /// whose attestation failed does not). Only a verified attestation of a named bundle
        /// counts for coverage.
        bundle: Option<Sha256Digest>,
        /// Whether it verified.
        verified: bool,
        /// Its SLSA build level, when known.
        slsa_level: Option<u8>,
    },
    /// The enforcer refused a handed-off bundle because this check failed: a verdict on the
    /// builder's work, not a bypass attempt.
    BundleRefusal {
        /// The check that failed.
        check: BundleCheck,
    },
    /// A bundle was signed.
    Signature {
        /// The bundle hash.
        bundle: Sha256Digest,
        /// The signing backend (`sigstore`, `openpgp`, ...).
        backend: &'a str,
    },
    /// A policy was evaluated.
    Policy {
        /// The policy (metric label `policy_type`).
        policy_type: &'a str,
        /// Its result.
        outcome: PolicyOutcome,
    },
    /// A gate ran.
    Gate {
        /// The gate's name.
        name: &'a str,
        /// How it ended.
        outcome: GateOutcome,
        /// How long it ran.
        duration_ms: u32,
    },
    /// PLAN issued a verdict.
    Verdict(PlanVerdict),
    /// An operation was refused by a role, state, ordering or separation rule: a gate bypass
    /// attempt.
    BypassAttempt,
}

/// A fact and when it was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observation<'a> {
    /// The event's `recorded_at`.
    pub at: Timestamp,
    /// What it says.
    pub fact: Fact<'a>,
}

/// Per-gate counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GateStats {
    /// Runs by outcome: success, failure, cancelled, timed out.
    pub outcomes: [u64; 4],
    /// Every run's duration in milliseconds, in recording order.
    pub durations_ms: Vec<u32>,
}

impl GateStats {
    /// All runs.
    pub fn runs(&self) -> u64 {
        self.outcomes.iter().sum()
    }
}

/// The outcome's index in [`GateStats::outcomes`] and its label.
pub(crate) const fn outcome_slot(o: GateOutcome) -> (usize, &'static str) {
    match o {
        GateOutcome::Success => (0, "success"),
        GateOutcome::Failure => (1, "failure"),
        GateOutcome::Cancelled => (2, "cancelled"),
        GateOutcome::TimedOut => (3, "timed_out"),
    }
}

/// Per-policy counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PolicyStats {
    /// Passed.
    pub pass: u64,
    /// Failed (violations).
    pub fail: u64,
    /// Skipped or errored.
    pub other: u64,
}

/// What the tally knows of one bundle (one map entry per bundle, so a fact costs one
/// look-up).
#[derive(Clone, Copy, Debug, Default)]
struct Bundle {
    /// A handoff event for it was recorded in the window.
    handed_off: bool,
    /// Highest SLSA level of a verified attestation before the window's end (0: unknown).
    attested: Option<u8>,
    /// Earliest signature before the window's end.
    signed_at: Option<Timestamp>,
    /// Earliest `[CODEX-READY]` before the window's end.
    ready_at: Option<Timestamp>,
    /// Earliest `[CLAUDE-APPLIED]` before the window's end.
    first_applied: Option<Timestamp>,
}

/// The running counts of one window. Order-independent: observations may arrive in any
/// order (e.g. one record kind after another), the result is the same.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    window: Option<Window>,
    /// Keyed by the digest's bytes: plain comparisons (a bundle hash is public, so
    /// `Sha256Digest`'s constant-time equality buys nothing here and costs a look-up).
    bundles: HashMap<[u8; 32], Bundle>,
    applies: Vec<([u8; 32], Timestamp)>,
    levels_known: bool,
    /// `[CODEX-READY]` handoffs (codex → claude) in the window.
    pub handoffs_codex_to_claude: u64,
    /// `[CLAUDE-APPLIED]` handoffs (claude → plan) in the window.
    pub handoffs_claude_to_plan: u64,
    /// Signatures by backend, recorded in the window.
    pub signatures_by_backend: BTreeMap<String, u64>,
    /// Attestation checks in the window that verified.
    pub attestations_verified: u64,
    /// Attestation checks in the window that failed.
    pub attestations_failed: u64,
    /// Policy evaluations by policy.
    pub policies: BTreeMap<String, PolicyStats>,
    /// Policy violations per minute (minute start in µs since the epoch → count).
    pub violations_per_minute: BTreeMap<i64, u64>,
    /// Gate executions by gate name.
    pub gates: BTreeMap<String, GateStats>,
    /// PLAN verdicts by verdict.
    pub verdicts: BTreeMap<&'static str, u64>,
    /// Bundles the enforcer refused in the window, by the check that failed.
    pub bundle_refusals: BTreeMap<BundleCheck, u64>,
    /// Gate bypass attempts in the window.
    pub bypass_attempts: u64,
    /// Observations counted (in the window, or evidence recorded before it).
    pub observed: u64,
}

impl Tally {
    /// An empty tally of `window`.
    pub fn new(window: Window) -> Self {
        Tally {
            window: Some(window),
            ..Tally::default()
        }
    }

    /// The window.
    pub fn window(&self) -> Option<Window> {
        self.window
    }

    fn in_window(&self, t: Timestamp) -> bool {
        self.window.is_none_or(|w| w.contains(t))
    }

    fn before_end(&self, t: Timestamp) -> bool {
        self.window.is_none_or(|w| t < w.to())
    }

    /// Counts one observation (observations outside the window are ignored, except
    /// attestations and signatures recorded before it).
    pub fn observe(&mut self, o: &Observation<'_>) {
        if !self.before_end(o.at) {
            return;
        }
        let inside = self.in_window(o.at);
        match o.fact {
            Fact::Attestation {
                bundle,
                verified,
                slsa_level,
            } => {
                if let (true, Some(bundle)) = (verified, bundle) {
                    let b = self.bundles.entry(*bundle.as_bytes()).or_default();
                    b.attested = Some(b.attested.unwrap_or(0).max(slsa_level.unwrap_or(0)));
                    self.levels_known |= slsa_level.is_some();
                }
                if inside {
                    *if verified {
                        &mut self.attestations_verified
                    } else {
                        &mut self.attestations_failed
                    } += 1;
                }
            }
            Fact::Signature { bundle, backend } => {
                let b = self.bundles.entry(*bundle.as_bytes()).or_default();
                keep_earliest(&mut b.signed_at, o.at);
                if inside {
                    bump(&mut self.signatures_by_backend, backend);
                }
            }
            Fact::Handoff { stage, bundle } => self.handoff(o.at, stage, bundle, inside),
            _ if !inside => return,
            Fact::Policy {
                policy_type,
                outcome,
            } => {
                let stats = match self.policies.get_mut(policy_type) {
                    Some(s) => s,
                    None => self.policies.entry(policy_type.to_owned()).or_default(),
                };
                match outcome {
                    PolicyOutcome::Pass => stats.pass += 1,
                    PolicyOutcome::Fail => {
                        stats.fail += 1;
                        let minute = o.at.unix_micros().div_euclid(MICROS_PER_MIN);
                        *self
                            .violations_per_minute
                            .entry(minute * MICROS_PER_MIN)
                            .or_default() += 1;
                    }
                    PolicyOutcome::Other => stats.other += 1,
                }
            }
            Fact::Gate {
                name,
                outcome,
                duration_ms,
            } => {
                let stats = match self.gates.get_mut(name) {
                    Some(s) => s,
                    None => self.gates.entry(name.to_owned()).or_default(),
                };
                if let Some(slot) = stats.outcomes.get_mut(outcome_slot(outcome).0) {
                    *slot += 1;
                }
                stats.durations_ms.push(duration_ms);
            }
            Fact::Verdict(v) => *self.verdicts.entry(v.as_str()).or_default() += 1,
            Fact::BundleRefusal { check } => *self.bundle_refusals.entry(check).or_default() += 1,
            Fact::BypassAttempt => self.bypass_attempts += 1,
        }
        self.observed += 1;
    }

    fn handoff(&mut self, at: Timestamp, stage: HandoffStage, bundle: Sha256Digest, inside: bool) {
        let key = *bundle.as_bytes();
        let b = self.bundles.entry(key).or_default();
        match stage {
            HandoffStage::CodexReady => keep_earliest(&mut b.ready_at, at),
            HandoffStage::ClaudeApplied => {
                keep_earliest(&mut b.first_applied, at);
                if inside {
                    self.applies.push((key, at));
                }
            }
        }
        if inside {
            b.handed_off = true;
            match stage {
                HandoffStage::CodexReady => self.handoffs_codex_to_claude += 1,
                HandoffStage::ClaudeApplied => self.handoffs_claude_to_plan += 1,
            }
        }
    }

    /// Handoff durations (first `[CODEX-READY]` → first `[CLAUDE-APPLIED]`) of the bundles
    /// first applied in the window, seconds, sorted.
    pub fn handoff_seconds(&self) -> Vec<f64> {
        let mut out: Vec<f64> = self
            .bundles
            .values()
            .filter_map(|b| {
                let at = b.first_applied.filter(|at| self.in_window(*at))?;
                let ready = b.ready_at?;
                #[allow(clippy::cast_precision_loss)]
                let secs = (at.unix_micros() - ready.unix_micros()) as f64 / MICROS_PER_SEC as f64;
                Some(secs.max(0.0))
            })
            .collect();
        out.sort_by(f64::total_cmp);
        out
    }

    /// `[CLAUDE-APPLIED]` handoffs in the window of bundles with no signature recorded at or
    /// before the apply: unsigned artifacts that were not blocked.
    pub fn unsigned_applied(&self) -> u64 {
        self.applies
            .iter()
            .filter(|(b, at)| {
                self.bundles
                    .get(b)
                    .and_then(|b| b.signed_at)
                    .is_none_or(|s| s > *at)
            })
            .count() as u64
    }

    /// Whether any verified attestation carried its SLSA level.
    pub fn slsa_levels_known(&self) -> bool {
        self.levels_known
    }

    /// The score's inputs.
    pub fn inputs(&self) -> PostureInputs {
        let (mut handed, mut attested, mut signed) = (0, 0, 0);
        for b in self.handed_off() {
            handed += 1;
            attested += u64::from(b.attested.is_some());
            signed += u64::from(b.signed_at.is_some());
        }
        let (mut passes, mut failures) = (0, 0);
        for p in self.policies.values() {
            passes += p.pass;
            failures += p.fail;
        }
        let (mut runs, mut successes) = (0, 0);
        for g in self.gates.values() {
            runs += g.runs();
            successes += g.outcomes.first().copied().unwrap_or(0);
        }
        PostureInputs {
            bundles_handed_off: handed,
            bundles_attested: attested,
            bundles_signed: signed,
            policy_passes: passes,
            policy_failures: failures,
            gate_runs: runs,
            gate_successes: successes,
        }
    }

    /// The posture score of the window.
    pub fn score(&self) -> Result<PostureScore> {
        PostureScore::compute(&self.inputs())
    }

    /// Bundles handed off in the window without a signature.
    pub fn unsigned_bundles(&self) -> u64 {
        self.handed_off().filter(|b| b.signed_at.is_none()).count() as u64
    }

    /// Bundles handed off in the window with a verified attestation of at least SLSA
    /// build level `level` (0: any verified attestation).
    pub fn bundles_attested_at(&self, level: u8) -> u64 {
        self.handed_off()
            .filter(|b| b.attested.is_some_and(|l| l >= level))
            .count() as u64
    }

    /// Bundles handed off in the window.
    pub fn bundles_handed_off(&self) -> u64 {
        self.handed_off().count() as u64
    }

    fn handed_off(&self) -> impl Iterator<Item = &Bundle> {
        self.bundles.values().filter(|b| b.handed_off)
    }

    /// Policy violations in the window.
    pub fn violations(&self) -> u64 {
        self.policies.values().map(|p| p.fail).sum()
    }
}

fn keep_earliest(slot: &mut Option<Timestamp>, at: Timestamp) {
    if slot.is_none_or(|s| at < s) {
        *slot = Some(at);
    }
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_owned(), 1);
        }
    }
}

/// The `q`-quantile (0..=1) of `samples` by nearest rank, `None` when empty.
pub fn quantile(samples: &[f64], q: f64) -> Option<f64> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.saturating_sub(1)).copied()
}

/// The mean of `samples`, `None` when empty.
pub fn mean(samples: &[f64]) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (!samples.is_empty()).then(|| samples.iter().sum::<f64>() / samples.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> Timestamp {
        Timestamp::from_unix_micros(min * MICROS_PER_MIN)
    }

    fn b(n: u8) -> Sha256Digest {
        Sha256Digest::of(&[n])
    }

    fn feed(tally: &mut Tally, facts: &[(i64, Fact<'_>)]) {
        for (at, fact) in facts {
            tally.observe(&Observation {
                at: t(*at),
                fact: *fact,
            });
        }
    }

    fn ready(n: u8) -> Fact<'static> {
        Fact::Handoff {
            stage: HandoffStage::CodexReady,
            bundle: b(n),
        }
    }

    fn applied(n: u8) -> Fact<'static> {
        Fact::Handoff {
            stage: HandoffStage::ClaudeApplied,
            bundle: b(n),
        }
    }

    #[test]
    fn bundles_count_once_and_evidence_may_predate_the_window() {
        let mut tally = Tally::new(Window::new(t(10), t(20)).unwrap());
        let signed = |n| Fact::Signature {
            bundle: b(n),
            backend: "sigstore",
        };
        let attested = |n, verified| Fact::Attestation {
            bundle: Some(b(n)),
            verified,
            slsa_level: Some(3),
        };
        feed(
            &mut tally,
            &[
                (1, signed(1)),         // before the window: still counts for bundle 1
                (2, attested(1, true)), // likewise
                (11, ready(1)),
                (12, signed(2)),
                (13, ready(2)),
                (14, applied(2)),
                (14, applied(1)),
                (15, attested(2, false)), // a failed check does not attest
                // A refused bundle's failed check, which names no bundle.
                (
                    15,
                    Fact::Attestation {
                        bundle: None,
                        verified: false,
                        slsa_level: None,
                    },
                ),
                (16, ready(3)),
                (25, signed(3)), // after the window's end: ignored
                (26, ready(4)),  // likewise
            ],
        );
        let i = tally.inputs();
        assert_eq!(i.bundles_handed_off, 3);
        assert_eq!(i.bundles_signed, 2);
        assert_eq!(i.bundles_attested, 1);
        assert_eq!(tally.unsigned_bundles(), 1);
        assert_eq!(
            (tally.attestations_verified, tally.attestations_failed),
            (0, 2)
        );
        assert_eq!(tally.handoffs_codex_to_claude, 3);
        assert_eq!(tally.handoffs_claude_to_plan, 2);
        assert_eq!(tally.handoff_seconds(), vec![60.0, 180.0]);
        assert_eq!(tally.unsigned_applied(), 0);
        assert_eq!(tally.signatures_by_backend.get("sigstore"), Some(&1));
    }

    #[test]
    fn an_unsigned_apply_is_an_unblocked_unsigned_artifact() {
        let mut tally = Tally::new(Window::until(t(100)));
        let signed = Fact::Signature {
            bundle: b(1),
            backend: "openpgp",
        };
        // Out of order on purpose: the tally does not depend on arrival order.
        feed(
            &mut tally,
            &[(3, applied(1)), (1, ready(1)), (2, applied(1)), (3, signed)],
        );
        // Signed at minute 3: the apply at 2 was unsigned, the one at 3 was not.
        assert_eq!(tally.unsigned_applied(), 1);
        assert_eq!(tally.handoff_seconds(), vec![60.0]); // first apply only
    }

    #[test]
    fn gates_policies_verdicts_and_bypasses() {
        let mut tally = Tally::new(Window::new(t(0), t(10)).unwrap());
        let gate = |outcome| Fact::Gate {
            name: "gate-3",
            outcome,
            duration_ms: 1500,
        };
        let policy = |outcome| Fact::Policy {
            policy_type: "require-signed-images",
            outcome,
        };
        feed(
            &mut tally,
            &[
                (0, gate(GateOutcome::Success)),
                (1, gate(GateOutcome::Failure)),
                (1, gate(GateOutcome::TimedOut)),
                (2, policy(PolicyOutcome::Pass)),
                (2, policy(PolicyOutcome::Fail)),
                (2, policy(PolicyOutcome::Fail)),
                (3, policy(PolicyOutcome::Other)),
                (4, Fact::Verdict(PlanVerdict::Pass)),
                (5, Fact::BypassAttempt),
                (10, Fact::BypassAttempt), // the window's end is exclusive
                // Bundle refusals are not bypass attempts.
                (
                    6,
                    Fact::BundleRefusal {
                        check: BundleCheck::Apply,
                    },
                ),
                (
                    6,
                    Fact::BundleRefusal {
                        check: BundleCheck::Apply,
                    },
                ),
                (
                    7,
                    Fact::BundleRefusal {
                        check: BundleCheck::Sbom,
                    },
                ),
            ],
        );
        let i = tally.inputs();
        assert_eq!((i.gate_runs, i.gate_successes), (3, 1));
        assert_eq!((i.policy_passes, i.policy_failures), (1, 2));
        assert_eq!(
            tally.violations_per_minute.get(&(2 * MICROS_PER_MIN)),
            Some(&2)
        );
        assert_eq!(tally.verdicts.get("PASS"), Some(&1));
        assert_eq!(tally.bypass_attempts, 1);
        assert_eq!(
            tally.bundle_refusals,
            BTreeMap::from([(BundleCheck::Sbom, 1), (BundleCheck::Apply, 2)])
        );
        assert_eq!(tally.observed, 12);
    }

    #[test]
    fn windows_and_quantiles() {
        assert!(matches!(
            Window::new(t(1), t(1)),
            Err(Error::EmptyWindow { .. })
        ));
        assert_eq!(quantile(&[], 0.95), None);
        let xs: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&xs, 0.95), Some(95.0));
        assert_eq!(quantile(&xs, 1.0), Some(100.0));
        assert_eq!(quantile(&[7.0], 0.5), Some(7.0));
        assert_eq!(mean(&[1.0, 2.0]), Some(1.5));
    }
}
