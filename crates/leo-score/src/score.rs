//! The SOP §12.6 security posture score, version [`SCORE_VERSION`].
//!
//! ```text
//! Score = (SLSA_Coverage×0.3 + Signed_Ratio×0.3 + Policy_Compliance×0.2 + Gate_Pass_Rate×0.2) × 100
//! ```
//!
//! Each component is a ratio of counts taken from the audit trail over one time window
//! ([`PostureInputs`]):
//!
//! | component | numerator | denominator | weight |
//! |---|---|---|---|
//! | `SLSA_Coverage` | bundles handed off with a verified attestation | bundles handed off | 30 |
//! | `Signed_Ratio` | bundles handed off with an artifact signature | bundles handed off | 30 |
//! | `Policy_Compliance` | policy evaluations that passed | passed + failed evaluations | 20 |
//! | `Gate_Pass_Rate` | gate executions that succeeded | all gate executions | 20 |
//!
//! A component whose denominator is zero has no data: it is **unknown**. The score never drops
//! an unknown component and re-averages the rest (which would let a project raise its score by
//! not measuring); instead it reports:
//! - `score`: unknown components count 0, so the score is a guaranteed lower bound;
//! - `max_score`: unknown components count 1, the best the missing data could give;
//! - `known_weight`: how many of the 100 weight points have data;
//! - `band`: Green ≥ 85, Yellow 70 up to 85, Red < 70, decided in exact rational arithmetic
//!   when both bounds fall in the same band, [`Band::Unknown`] otherwise.
//!
//! The score is a pure function of its inputs (same inputs, same score, bit for bit), and
//! carries [`SCORE_VERSION`] so a stored history stays comparable when the definition changes.

use std::fmt;

use num_bigint::BigUint;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The version of the score's definition (components, weights, unknown handling, bands).
pub const SCORE_VERSION: u32 = 1;
/// Lowest Green score (SOP §12.6).
pub const GREEN_FLOOR: u64 = 85;
/// Lowest Yellow score (SOP §12.6).
pub const YELLOW_FLOOR: u64 = 70;
/// Scores are exact rationals, reported rounded down to this many parts per point.
const PARTS_PER_POINT: u64 = 1_000_000;

/// The four components of the score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    /// Bundles handed off with a verified attestation / bundles handed off.
    SlsaCoverage,
    /// Bundles handed off with an artifact signature / bundles handed off.
    SignedRatio,
    /// Passed / (passed + failed) policy evaluations.
    PolicyCompliance,
    /// Successful / all gate executions.
    GatePassRate,
}

impl Component {
    /// Every component, in the formula's order.
    pub const ALL: [Component; 4] = [
        Component::SlsaCoverage,
        Component::SignedRatio,
        Component::PolicyCompliance,
        Component::GatePassRate,
    ];

    /// Its weight in points (the four sum to 100).
    pub const fn weight(self) -> u64 {
        match self {
            Component::SlsaCoverage | Component::SignedRatio => 30,
            Component::PolicyCompliance | Component::GatePassRate => 20,
        }
    }

    /// The snake_case name (metric label value, JSON key).
    pub const fn as_str(self) -> &'static str {
        match self {
            Component::SlsaCoverage => "slsa_coverage",
            Component::SignedRatio => "signed_ratio",
            Component::PolicyCompliance => "policy_compliance",
            Component::GatePassRate => "gate_pass_rate",
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The counts the score is computed from: one pass over the audit trail fills them
/// (see [`crate::tally`]), and tests can write them by hand.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PostureInputs {
    /// Distinct bundles (by bundle hash) with a handoff event in the window.
    pub bundles_handed_off: u64,
    /// Of those, bundles with a verified attestation.
    pub bundles_attested: u64,
    /// Of those, bundles with an artifact signature.
    pub bundles_signed: u64,
    /// Policy evaluations that passed.
    pub policy_passes: u64,
    /// Policy evaluations that failed (skipped or errored evaluations are not counted).
    pub policy_failures: u64,
    /// Gate executions (every outcome: success, failure, cancelled, timed out).
    pub gate_runs: u64,
    /// Gate executions that succeeded.
    pub gate_successes: u64,
}

impl PostureInputs {
    /// The ratio behind one component, `None` when it has no data.
    pub fn ratio(&self, c: Component) -> Result<Option<Ratio>> {
        let (n, d) = match c {
            Component::SlsaCoverage => (self.bundles_attested, self.bundles_handed_off),
            Component::SignedRatio => (self.bundles_signed, self.bundles_handed_off),
            Component::PolicyCompliance => (
                self.policy_passes,
                self.policy_passes.saturating_add(self.policy_failures),
            ),
            Component::GatePassRate => (self.gate_successes, self.gate_runs),
        };
        Ratio::new(c, n, d)
    }
}

/// `numerator / denominator` with `0 ≤ numerator ≤ denominator` and `denominator > 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Ratio {
    numerator: u64,
    denominator: u64,
}

impl Ratio {
    /// `None` when `denominator` is 0 (no data); refuses a numerator above the denominator.
    pub fn new(component: Component, numerator: u64, denominator: u64) -> Result<Option<Self>> {
        if numerator > denominator {
            return Err(Error::RatioAboveOne {
                component: component.as_str(),
                numerator,
                denominator,
            });
        }
        Ok((denominator > 0).then_some(Ratio {
            numerator,
            denominator,
        }))
    }

    /// The count of good cases.
    pub const fn numerator(self) -> u64 {
        self.numerator
    }

    /// The count of all cases (never 0).
    pub const fn denominator(self) -> u64 {
        self.denominator
    }

    /// As a float in 0..=1 (for display and gauges; bands use exact arithmetic).
    #[allow(clippy::cast_precision_loss)]
    pub fn as_f64(self) -> f64 {
        self.numerator as f64 / self.denominator as f64
    }
}

/// The SOP §12.6 band.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// ≥ 85: secure.
    Green,
    /// 70 up to 85: attention needed.
    Yellow,
    /// < 70: critical issues.
    Red,
    /// Unknown components leave the score spanning more than one band.
    Unknown,
}

impl Band {
    /// The band of a score given in millionths of a point.
    fn of_parts(parts: u64) -> Band {
        if parts >= GREEN_FLOOR * PARTS_PER_POINT {
            Band::Green
        } else if parts >= YELLOW_FLOOR * PARTS_PER_POINT {
            Band::Yellow
        } else {
            Band::Red
        }
    }

    /// The lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Band::Green => "green",
            Band::Yellow => "yellow",
            Band::Red => "red",
            Band::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Band {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One component's part of the score.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ComponentScore {
    /// Which component.
    pub component: Component,
    /// Its weight in points.
    pub weight: u64,
    /// The measured ratio; `None` is unknown (no data in the window).
    pub ratio: Option<Ratio>,
}

/// A computed posture score; see the [module docs](self) for the definition.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PostureScore {
    /// [`SCORE_VERSION`] at computation time.
    pub version: u32,
    /// The four components, in the formula's order.
    pub components: [ComponentScore; 4],
    /// Weight points (0..=100) of the components that have data.
    pub known_weight: u64,
    /// The score with unknown components counted as 0 (a lower bound), 0..=100, rounded
    /// down to a millionth of a point.
    pub score: f64,
    /// The score with unknown components counted as 1 (an upper bound).
    pub max_score: f64,
    /// The band both bounds fall in, or [`Band::Unknown`].
    pub band: Band,
}

impl PostureScore {
    /// Computes the score. Fails only on inconsistent inputs (a numerator above its
    /// denominator).
    pub fn compute(inputs: &PostureInputs) -> Result<Self> {
        let mut components = Component::ALL.map(|component| ComponentScore {
            component,
            weight: component.weight(),
            ratio: None,
        });
        for c in &mut components {
            c.ratio = inputs.ratio(c.component)?;
        }
        let known: Vec<(u64, Ratio)> = components
            .iter()
            .filter_map(|c| c.ratio.map(|r| (c.weight, r)))
            .collect();
        let known_weight: u64 = known.iter().map(|(w, _)| w).sum();
        let unknown_weight = 100 - known_weight;
        let lower = exact_parts(&known);
        let upper = lower + unknown_weight * PARTS_PER_POINT;
        let (lower_band, upper_band) = (Band::of_parts(lower), Band::of_parts(upper));
        #[allow(clippy::cast_precision_loss)]
        let points = |parts: u64| parts as f64 / PARTS_PER_POINT as f64;
        Ok(PostureScore {
            version: SCORE_VERSION,
            components,
            known_weight,
            score: points(lower),
            max_score: points(upper),
            band: if lower_band == upper_band {
                lower_band
            } else {
                Band::Unknown
            },
        })
    }

    /// Whether every component has data.
    pub fn is_complete(&self) -> bool {
        self.known_weight == 100
    }
}

/// `floor(Σ wᵢ·nᵢ/dᵢ × PARTS_PER_POINT)`, exactly: `Σ wᵢ·nᵢ·(D/dᵢ) × P / D` with `D = Π dᵢ`.
fn exact_parts(terms: &[(u64, Ratio)]) -> u64 {
    let product: BigUint = terms
        .iter()
        .map(|(_, r)| BigUint::from(r.denominator))
        .product();
    if terms.is_empty() {
        return 0;
    }
    let sum: BigUint = terms
        .iter()
        .map(|(w, r)| BigUint::from(*w) * r.numerator * (&product / r.denominator))
        .sum();
    let parts = sum * PARTS_PER_POINT / product;
    // At most 100 points: always fits; saturate rather than panic on the impossible.
    u64::try_from(&parts).unwrap_or(100 * PARTS_PER_POINT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(n: u64, d: u64) -> PostureInputs {
        PostureInputs {
            bundles_handed_off: d,
            bundles_attested: n,
            bundles_signed: n,
            policy_passes: n,
            policy_failures: d - n,
            gate_runs: d,
            gate_successes: n,
        }
    }

    fn compute(i: &PostureInputs) -> PostureScore {
        PostureScore::compute(i).unwrap()
    }

    #[test]
    fn every_band_boundary_is_exact() {
        // Every component at n/d gives a score of exactly 100·n/d.
        for (n, d, score, band) in [
            (85, 100, 85.0, Band::Green),
            (8_499_999, 10_000_000, 84.999_99, Band::Yellow),
            (70, 100, 70.0, Band::Yellow),
            (6_999_999, 10_000_000, 69.999_99, Band::Red),
            (17, 20, 85.0, Band::Green),
            (7, 10, 70.0, Band::Yellow),
            (1, 1, 100.0, Band::Green),
            (0, 1, 0.0, Band::Red),
        ] {
            let s = compute(&all(n, d));
            assert_eq!(s.band, band, "{n}/{d}");
            assert!((s.score - score).abs() < 1e-9, "{n}/{d}: {}", s.score);
            assert_eq!(s.score, s.max_score);
            assert!(s.is_complete());
        }
    }

    #[test]
    fn a_third_is_floored_not_rounded_up() {
        // 100/3 = 33.3333333...: reported as 33.333333, never rounded up across a floor.
        let s = compute(&all(1, 3));
        assert!((s.score - 33.333_333).abs() < 1e-9);
        // Mixed denominators whose float sum lands a hair under 85: exact says 85, Green.
        let i = PostureInputs {
            bundles_handed_off: 3,
            bundles_attested: 3,
            bundles_signed: 2, // 30 + 20
            policy_passes: 1,
            policy_failures: 0, // + 20
            gate_runs: 4,
            gate_successes: 3, // + 15 = 85
        };
        let s = compute(&i);
        assert_eq!(s.band, Band::Green);
        assert!((s.score - 85.0).abs() < 1e-9);
    }

    #[test]
    fn weights_are_30_30_20_20() {
        let base = PostureInputs {
            bundles_handed_off: 1,
            policy_failures: 1,
            gate_runs: 1,
            ..PostureInputs::default()
        };
        let mut expect = Vec::new();
        for c in Component::ALL {
            let mut i = base;
            match c {
                Component::SlsaCoverage => i.bundles_attested = 1,
                Component::SignedRatio => i.bundles_signed = 1,
                Component::PolicyCompliance => (i.policy_passes, i.policy_failures) = (1, 0),
                Component::GatePassRate => i.gate_successes = 1,
            }
            expect.push(compute(&i).score);
        }
        assert_eq!(expect, vec![30.0, 30.0, 20.0, 20.0]);
    }

    #[test]
    fn unknowns_are_reported_never_averaged_away() {
        // Three perfect components, no policy data: re-averaging would say 100 (Green).
        let mut i = all(1, 1);
        (i.policy_passes, i.policy_failures) = (0, 0);
        let s = compute(&i);
        assert_eq!(s.known_weight, 80);
        assert_eq!(s.components[2].ratio, None);
        assert_eq!((s.score, s.max_score), (80.0, 100.0));
        // 80 (Yellow) up to 100 (Green): undecided. With at least 20 points unknown, Green
        // can never be decided; only Red can (below).
        assert_eq!(s.band, Band::Unknown);
        // Gates unknown and the rest at 75 %: 60 (Red) up to 80 (Yellow) — undecided.
        let mut i = all(3, 4);
        (i.gate_runs, i.gate_successes) = (0, 0);
        let s = compute(&i);
        assert_eq!((s.score, s.max_score, s.band), (60.0, 80.0, Band::Unknown));
        // Everything failing except one unknown: Red whatever the unknown would say.
        let mut i = all(0, 5);
        (i.bundles_handed_off, i.bundles_attested, i.bundles_signed) = (0, 0, 0);
        let s = compute(&i);
        assert_eq!((s.known_weight, s.max_score, s.band), (40, 60.0, Band::Red));
        // Nothing at all: 0 to 100, unknown.
        let s = compute(&PostureInputs::default());
        assert_eq!((s.known_weight, s.score, s.max_score), (0, 0.0, 100.0));
        assert_eq!(s.band, Band::Unknown);
        assert_eq!(s.version, SCORE_VERSION);
    }

    #[test]
    fn inconsistent_counts_are_refused() {
        let i = PostureInputs {
            bundles_handed_off: 2,
            bundles_signed: 3,
            ..PostureInputs::default()
        };
        assert!(matches!(
            PostureScore::compute(&i),
            Err(Error::RatioAboveOne {
                component: "signed_ratio",
                numerator: 3,
                denominator: 2
            })
        ));
        let i = PostureInputs {
            gate_runs: 1,
            gate_successes: 2,
            ..PostureInputs::default()
        };
        assert!(matches!(
            PostureScore::compute(&i),
            Err(Error::RatioAboveOne {
                component: "gate_pass_rate",
                ..
            })
        ));
    }

    #[test]
    fn huge_counts_stay_exact() {
        let big = u64::MAX;
        let s = compute(&all(big - 1, big));
        assert!(s.score < 100.0 && s.score > 99.999_99);
        assert_eq!(s.band, Band::Green);
    }

    proptest::proptest! {
        #[test]
        fn deterministic_bounded_and_monotone(
            d in proptest::array::uniform4(0u64..1_000_000),
            n in proptest::array::uniform4(0u64..1_000_000),
        ) {
            let i = PostureInputs {
                bundles_handed_off: d[0],
                bundles_attested: n[0].min(d[0]),
                bundles_signed: n[1].min(d[0]),
                policy_passes: n[2],
                policy_failures: d[2],
                gate_runs: d[3],
                gate_successes: n[3].min(d[3]),
            };
            let s = compute(&i);
            proptest::prop_assert_eq!(&s, &compute(&i));
            proptest::prop_assert!((0.0..=100.0).contains(&s.score));
            proptest::prop_assert!(s.score <= s.max_score && s.max_score <= 100.0);
            #[allow(clippy::cast_precision_loss)]
            let gap = (100 - s.known_weight) as f64;
            proptest::prop_assert!((s.max_score - s.score - gap).abs() < 1e-6);
            // One more success never lowers the score.
            if i.gate_runs > i.gate_successes {
                let mut better = i;
                better.gate_successes += 1;
                proptest::prop_assert!(compute(&better).score >= s.score);
            }
            // A decided band agrees with the exact score.
            let expect = if s.score >= 85.0 { Band::Green } else if s.score >= 70.0 { Band::Yellow } else { Band::Red };
            proptest::prop_assert!(s.band == Band::Unknown || s.band == expect);
        }
    }
}
