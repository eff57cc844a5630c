//! The five PLAN sub-checks (SOP §2.1) and what each reports.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::confidence::Confidence;
use crate::error::{Error, Result};
use crate::text::Line;

/// Most findings one sub-check may report.
pub const MAX_FINDINGS: usize = 1024;
/// Most requirements one verdict may weigh.
pub const MAX_REQUIREMENTS: usize = 1024;

/// A PLAN sub-agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubCheckKind {
    /// Security.
    Security,
    /// Database.
    Database,
    /// Testing.
    Testing,
    /// Performance.
    Performance,
    /// Design.
    Design,
}

impl SubCheckKind {
    /// All five, in the SOP's order.
    pub const ALL: [SubCheckKind; 5] = [
        SubCheckKind::Security,
        SubCheckKind::Database,
        SubCheckKind::Testing,
        SubCheckKind::Performance,
        SubCheckKind::Design,
    ];

    /// A stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            SubCheckKind::Security => "security",
            SubCheckKind::Database => "database",
            SubCheckKind::Testing => "testing",
            SubCheckKind::Performance => "performance",
            SubCheckKind::Design => "design",
        }
    }
}

impl fmt::Display for SubCheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Informational: never affects the verdict.
    Info,
    /// Minor: at most CONDITIONAL_PASS.
    Minor,
    /// Major: FAIL (it is neither the "minor issue" of CONDITIONAL_PASS nor acceptable for PASS).
    Major,
    /// Critical: FAIL, whatever else holds.
    Critical,
}

/// One finding of a sub-check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Its severity.
    pub severity: Severity,
    /// What was found.
    pub summary: Line,
}

/// One sub-check's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubCheckResult {
    /// Which sub-check.
    pub kind: SubCheckKind,
    /// Its confidence that the change is done.
    pub confidence: Confidence,
    /// Its findings (at most [`MAX_FINDINGS`]).
    pub findings: Vec<Finding>,
}

impl SubCheckResult {
    /// A result without findings.
    pub fn clean(kind: SubCheckKind, confidence: Confidence) -> Self {
        SubCheckResult {
            kind,
            confidence,
            findings: Vec::new(),
        }
    }
}

/// Exactly one result for each of the five sub-checks, in [`SubCheckKind::ALL`] order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<SubCheckResult>", into = "Vec<SubCheckResult>")]
pub struct SubChecks(Vec<SubCheckResult>);

impl SubChecks {
    /// Refuses a missing or repeated sub-check and oversized finding lists.
    pub fn new(mut results: Vec<SubCheckResult>) -> Result<Self> {
        results.sort_by_key(|r| r.kind);
        for pair in results.windows(2) {
            if let [a, b] = pair {
                if a.kind == b.kind {
                    return Err(Error::SubCheckDuplicated { kind: a.kind });
                }
            }
        }
        if let Some(kind) = SubCheckKind::ALL
            .into_iter()
            .find(|k| !results.iter().any(|r| r.kind == *k))
        {
            return Err(Error::SubCheckMissing { kind });
        }
        if results.iter().any(|r| r.findings.len() > MAX_FINDINGS) {
            return Err(Error::TooMany {
                field: "findings",
                max: MAX_FINDINGS,
            });
        }
        Ok(SubChecks(results))
    }

    /// The results, in [`SubCheckKind::ALL`] order.
    pub fn as_slice(&self) -> &[SubCheckResult] {
        &self.0
    }

    /// Every finding with its sub-check.
    pub fn findings(&self) -> impl Iterator<Item = (SubCheckKind, &Finding)> {
        self.0
            .iter()
            .flat_map(|r| r.findings.iter().map(move |f| (r.kind, f)))
    }

    /// The weighted mean confidence, rounded down to a hundredth of a percent:
    /// `floor(Σ wᵢ·cᵢ / Σ wᵢ)`, exact integer arithmetic. Rounding down means a mean just
    /// under a threshold never reaches it.
    pub fn aggregate(&self, weights: &Weights) -> Result<Confidence> {
        let total = weights.total();
        if total == 0 {
            return Err(Error::InvalidConfig {
                field: "weights",
                reason: "weights sum to zero".into(),
            });
        }
        let sum: u64 = self
            .0
            .iter()
            .map(|r| u64::from(weights.of(r.kind)) * u64::from(r.confidence.hundredths()))
            .sum();
        let mean = u16::try_from(sum / total).unwrap_or(u16::MAX);
        Confidence::from_hundredths(mean)
    }

    /// The disagreement measure: the most confident sub-check minus the least confident one.
    /// Weights do not enter it: a sub-check with little weight still gets to disagree.
    pub fn spread(&self) -> Confidence {
        let max = self
            .0
            .iter()
            .map(|r| r.confidence)
            .max()
            .unwrap_or_default();
        let min = self
            .0
            .iter()
            .map(|r| r.confidence)
            .min()
            .unwrap_or_default();
        max.saturating_sub(min)
    }
}

impl TryFrom<Vec<SubCheckResult>> for SubChecks {
    type Error = Error;

    fn try_from(v: Vec<SubCheckResult>) -> Result<Self> {
        SubChecks::new(v)
    }
}

impl From<SubChecks> for Vec<SubCheckResult> {
    fn from(s: SubChecks) -> Self {
        s.0
    }
}

/// Largest weight one sub-check may carry.
pub const MAX_WEIGHT: u32 = 1_000_000;

/// How much each sub-check counts in the aggregate confidence. The SOP gives no weights, so
/// the default weighs all five equally (1 each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weights {
    /// Security.
    pub security: u32,
    /// Database.
    pub database: u32,
    /// Testing.
    pub testing: u32,
    /// Performance.
    pub performance: u32,
    /// Design.
    pub design: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights::uniform(1)
    }
}

impl Weights {
    /// Every sub-check weighing `w`.
    pub const fn uniform(w: u32) -> Self {
        Weights {
            security: w,
            database: w,
            testing: w,
            performance: w,
            design: w,
        }
    }

    /// The weight of `kind`.
    pub const fn of(&self, kind: SubCheckKind) -> u32 {
        match kind {
            SubCheckKind::Security => self.security,
            SubCheckKind::Database => self.database,
            SubCheckKind::Testing => self.testing,
            SubCheckKind::Performance => self.performance,
            SubCheckKind::Design => self.design,
        }
    }

    /// The sum of all weights.
    pub fn total(&self) -> u64 {
        SubCheckKind::ALL
            .iter()
            .map(|k| u64::from(self.of(*k)))
            .sum()
    }

    /// Refuses a weight above [`MAX_WEIGHT`] or all-zero weights.
    pub fn check(&self) -> Result<()> {
        if let Some(k) = SubCheckKind::ALL
            .into_iter()
            .find(|k| self.of(*k) > MAX_WEIGHT)
        {
            return Err(Error::InvalidConfig {
                field: "weights",
                reason: format!("{k} weighs more than {MAX_WEIGHT}"),
            });
        }
        if self.total() == 0 {
            return Err(Error::InvalidConfig {
                field: "weights",
                reason: "weights sum to zero".into(),
            });
        }
        Ok(())
    }
}

/// A requirement of the change (a PRD acceptance criterion) and whether it is met.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    /// Its id or text.
    pub id: Line,
    /// Whether PLAN found it met.
    pub met: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(c: [u16; 5]) -> SubChecks {
        SubChecks::new(
            SubCheckKind::ALL
                .into_iter()
                .zip(c)
                .map(|(k, h)| SubCheckResult::clean(k, Confidence::from_hundredths(h).unwrap()))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn all_five_exactly_once() {
        let mut v: Vec<_> = all([1; 5]).into();
        let last = v.pop().unwrap();
        assert!(matches!(
            SubChecks::new(v.clone()),
            Err(Error::SubCheckMissing {
                kind: SubCheckKind::Design
            })
        ));
        v.push(v[0].clone());
        v.push(last);
        assert!(matches!(
            SubChecks::new(v),
            Err(Error::SubCheckDuplicated {
                kind: SubCheckKind::Security
            })
        ));
    }

    #[test]
    fn aggregate_is_the_floored_weighted_mean() {
        let s = all([9000, 8000, 8500, 8500, 8500]);
        assert_eq!(s.aggregate(&Weights::default()).unwrap().hundredths(), 8500);
        let w = Weights {
            security: 3,
            ..Weights::default()
        };
        // (3*9000 + 8000 + 3*8500) / 7 = 60500 / 7 = 8642.857...
        assert_eq!(s.aggregate(&w).unwrap().hundredths(), 8642);
        assert_eq!(s.spread().hundredths(), 1000);
        let zero = Weights::uniform(0);
        assert!(matches!(
            s.aggregate(&zero),
            Err(Error::InvalidConfig {
                field: "weights",
                ..
            })
        ));
        assert!(zero.check().is_err());
        assert!(
            Weights {
                design: MAX_WEIGHT + 1,
                ..Weights::default()
            }
            .check()
            .is_err()
        );
    }
}
