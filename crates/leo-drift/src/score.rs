//! The SOP §14.5 compliance score and its grades.
//!
//! `Score = 100 − (Critical×10 + High×5 + Medium×2 + Low×1) / TotalResources`, where the
//! counts are drift *events* (one per drifted field, one per missing object, one per extra
//! object when pruning) and `TotalResources` is the number of desired objects (plus extra live
//! objects when pruning, since they are then in scope). Counting events rather than drifted
//! objects is deliberate: with one count per object the penalty per resource is at most 10,
//! the score could never fall below 90, and three of the five grades would be unreachable.
//! The score is clamped to 0..=100; with no resources it is 100 (nothing to drift).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::severity::SeverityCounts;

/// The §14.5 grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Grade {
    /// Below 60.
    Critical,
    /// 60 up to (not including) 75.
    Poor,
    /// 75 up to 85.
    Acceptable,
    /// 85 up to 95.
    Good,
    /// 95 and above.
    Excellent,
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Excellent => "Excellent",
            Self::Good => "Good",
            Self::Acceptable => "Acceptable",
            Self::Poor => "Poor",
            Self::Critical => "Critical",
        })
    }
}

/// Lowest score of each grade, best first.
pub const GRADE_FLOORS: [(u64, Grade); 4] = [
    (95, Grade::Excellent),
    (85, Grade::Good),
    (75, Grade::Acceptable),
    (60, Grade::Poor),
];

/// A computed compliance score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComplianceScore {
    /// 0..=100.
    pub score: f64,
    /// The grade (decided in exact integer arithmetic, not from the rounded float).
    pub grade: Grade,
    /// The weighted penalty `Critical×10 + High×5 + Medium×2 + Low×1`.
    pub penalty: u64,
    /// The denominator.
    pub total_resources: u64,
}

impl ComplianceScore {
    /// Computes the score from event counts and the number of resources in scope.
    pub fn compute(events: &SeverityCounts, total_resources: u64) -> Self {
        let penalty = events.penalty();
        if total_resources == 0 {
            let (score, grade) = if penalty == 0 {
                (100.0, Grade::Excellent)
            } else {
                (0.0, Grade::Critical)
            };
            return Self {
                score,
                grade,
                penalty,
                total_resources,
            };
        }
        // score >= floor  <=>  penalty <= (100 - floor) * total, exactly.
        let grade = GRADE_FLOORS
            .iter()
            .find(|(floor, _)| {
                u128::from(penalty) <= u128::from(100 - floor) * u128::from(total_resources)
            })
            .map_or(Grade::Critical, |(_, g)| *g);
        #[allow(clippy::cast_precision_loss)]
        let raw = 100.0 - penalty as f64 / total_resources as f64;
        Self {
            score: raw.clamp(0.0, 100.0),
            grade,
            penalty,
            total_resources,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn score(critical: u64, high: u64, medium: u64, low: u64, total: u64) -> ComplianceScore {
        ComplianceScore::compute(
            &SeverityCounts {
                critical,
                high,
                medium,
                low,
            },
            total,
        )
    }

    #[test]
    fn formula_weights_each_severity() {
        assert_eq!(score(1, 0, 0, 0, 1).penalty, 10);
        assert_eq!(score(0, 1, 0, 0, 1).penalty, 5);
        assert_eq!(score(0, 0, 1, 0, 1).penalty, 2);
        assert_eq!(score(0, 0, 0, 1, 1).penalty, 1);
        assert!((score(1, 1, 1, 1, 2).score - 91.0).abs() < 1e-9);
    }

    #[test]
    fn every_grade_boundary() {
        // total 100 resources: penalty p gives score 100 - p/100.
        let at = |low: u64| score(0, 0, 0, low, 100);
        assert_eq!(at(0).grade, Grade::Excellent); // 100
        assert_eq!(at(500).grade, Grade::Excellent); // 95.00
        assert_eq!(at(501).grade, Grade::Good); // 94.99
        assert_eq!(at(1500).grade, Grade::Good); // 85.00
        assert_eq!(at(1501).grade, Grade::Acceptable); // 84.99
        assert_eq!(at(2500).grade, Grade::Acceptable); // 75.00
        assert_eq!(at(2501).grade, Grade::Poor); // 74.99
        assert_eq!(at(4000).grade, Grade::Poor); // 60.00
        assert_eq!(at(4001).grade, Grade::Critical); // 59.99
        assert!((at(4001).score - 59.99).abs() < 1e-9);
        // Fractional scores between the SOP's integer bands fall to the lower grade.
        assert_eq!(score(0, 0, 0, 11, 2).grade, Grade::Good); // 94.5
    }

    #[test]
    fn zero_resources_and_clamping() {
        assert_eq!(score(0, 0, 0, 0, 0).score, 100.0);
        assert_eq!(score(0, 0, 0, 0, 0).grade, Grade::Excellent);
        assert_eq!(score(1, 0, 0, 0, 0).grade, Grade::Critical);
        let floor = score(100, 0, 0, 0, 1);
        assert_eq!(floor.score, 0.0);
        assert_eq!(floor.grade, Grade::Critical);
    }

    proptest! {
        #[test]
        fn grade_agrees_with_score(c in 0u64..50, h in 0u64..50, m in 0u64..50, l in 0u64..50, t in 1u64..40) {
            let s = score(c, h, m, l, t);
            let expected = if s.score >= 95.0 { Grade::Excellent } else if s.score >= 85.0 { Grade::Good }
                else if s.score >= 75.0 { Grade::Acceptable } else if s.score >= 60.0 { Grade::Poor }
                else { Grade::Critical };
            // Floats may sit a hair off an exact boundary; integer grading is the reference.
            let exact_boundary = GRADE_FLOORS.iter().any(|(f, _)| s.penalty == (100 - f) * t);
            prop_assert!(exact_boundary || s.grade == expected);
            prop_assert!((0.0..=100.0).contains(&s.score));
        }
    }
}
