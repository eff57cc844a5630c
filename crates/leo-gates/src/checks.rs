//! Required status checks (SOP §3 branch protection) and their executions.
//!
//! A required check is a context pattern. It matches a run's context exactly, unless the
//! configuration marks it as a glob; then `*` (and only `*`) matches any run of characters,
//! including none. A required check passed on a commit when, for every context it matches
//! on that commit, the *latest* run succeeded, and at least one such context exists.

use std::collections::BTreeMap;
use std::time::Duration;

use leo_artifact::CommitSha;
use leo_store::{GateOutcome, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::text::Line;

/// Most required checks one configuration may list.
pub const MAX_REQUIRED_CHECKS: usize = 64;

/// The SOP §3 required contexts, in order. The first is a glob (`PRD-*` stands for the PRD
/// number); the others match exactly.
pub const SOP_REQUIRED_CHECKS: [(&str, bool); 4] = [
    ("LEO Gate Validation / Run Gate 3 for PRD-*", true),
    ("Story Release Gate Check / Check Story Release Gate", false),
    ("SLSA Verification / Verify SLSA Provenance", false),
    ("Policy Verification / Validate Policy Bundle", false),
];

/// One required check: a context, matched exactly or (if `glob`) with `*` wildcards.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RequiredCheck {
    /// The context (`Workflow name / Job name`).
    pub context: Line,
    /// Whether `*` in `context` is a wildcard. When false, `*` is a literal character.
    #[serde(default)]
    pub glob: bool,
}

impl RequiredCheck {
    /// Whether this check covers `context`.
    pub fn matches(&self, context: &str) -> bool {
        if self.glob {
            glob_match(self.context.as_str(), context)
        } else {
            self.context.as_str() == context
        }
    }
}

/// `*`-only glob matching (`*` matches any run of characters): [`leo_artifact::wildcard::glob`].
pub use leo_artifact::wildcard::glob as glob_match;

/// The configured list of required checks (non-empty, at most [`MAX_REQUIRED_CHECKS`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<RequiredCheck>", into = "Vec<RequiredCheck>")]
pub struct RequiredChecks(Vec<RequiredCheck>);

impl RequiredChecks {
    /// Validates a list.
    pub fn new(checks: Vec<RequiredCheck>) -> Result<Self> {
        if checks.is_empty() {
            return Err(Error::InvalidConfig {
                field: "required_checks",
                reason: "at least one required check is needed".into(),
            });
        }
        if checks.len() > MAX_REQUIRED_CHECKS {
            return Err(Error::TooMany {
                field: "required_checks",
                max: MAX_REQUIRED_CHECKS,
            });
        }
        Ok(RequiredChecks(checks))
    }

    /// The checks.
    pub fn as_slice(&self) -> &[RequiredCheck] {
        &self.0
    }

    /// Evaluates `runs` for `head`: runs on other commits are ignored.
    pub fn evaluate(&self, head: &CommitSha, runs: &[GateRun]) -> ChecksReport {
        // The latest run per context on `head`; on equal start times the later-recorded wins.
        let mut latest: BTreeMap<&str, &GateRun> = BTreeMap::new();
        for run in runs.iter().filter(|r| &r.commit == head) {
            let slot = latest.entry(run.context.as_str()).or_insert(run);
            if run.started_at >= slot.started_at {
                *slot = run;
            }
        }
        let results = self
            .0
            .iter()
            .map(|check| {
                let matching: Vec<&GateRun> = latest
                    .iter()
                    .filter(|(ctx, _)| check.matches(ctx))
                    .map(|(_, r)| *r)
                    .collect();
                CheckResult {
                    check: check.clone(),
                    state: CheckState::of(&matching),
                }
            })
            .collect();
        ChecksReport {
            head: head.clone(),
            results,
        }
    }
}

impl Default for RequiredChecks {
    fn default() -> Self {
        RequiredChecks(
            SOP_REQUIRED_CHECKS
                .iter()
                .filter_map(|&(c, glob)| {
                    Line::new("context", c)
                        .ok()
                        .map(|context| RequiredCheck { context, glob })
                })
                .collect(),
        )
    }
}

impl TryFrom<Vec<RequiredCheck>> for RequiredChecks {
    type Error = Error;

    fn try_from(v: Vec<RequiredCheck>) -> Result<Self> {
        RequiredChecks::new(v)
    }
}

impl From<RequiredChecks> for Vec<RequiredCheck> {
    fn from(r: RequiredChecks) -> Self {
        r.0
    }
}

/// A gate execution's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateStatus {
    /// Triggered, not started.
    Queued,
    /// Running.
    InProgress,
    /// Passed.
    Success,
    /// Failed.
    Failure,
    /// Cancelled.
    Cancelled,
    /// Ran out of time.
    TimedOut,
}

impl GateStatus {
    /// The audit trail's outcome for a finished run; `None` while it runs.
    pub const fn outcome(self) -> Option<GateOutcome> {
        match self {
            GateStatus::Queued | GateStatus::InProgress => None,
            GateStatus::Success => Some(GateOutcome::Success),
            GateStatus::Failure => Some(GateOutcome::Failure),
            GateStatus::Cancelled => Some(GateOutcome::Cancelled),
            GateStatus::TimedOut => Some(GateOutcome::TimedOut),
        }
    }

    /// Whether the run ended.
    pub const fn is_finished(self) -> bool {
        self.outcome().is_some()
    }
}

/// One execution of a check on a commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawGateRun", into = "RawGateRun")]
pub struct GateRun {
    context: Line,
    commit: CommitSha,
    status: GateStatus,
    started_at: Timestamp,
    finished_at: Option<Timestamp>,
}

impl GateRun {
    /// A run; `finished_at` is required exactly when `status` is final, and not before
    /// `started_at`.
    pub fn new(
        context: Line,
        commit: CommitSha,
        status: GateStatus,
        started_at: Timestamp,
        finished_at: Option<Timestamp>,
    ) -> Result<Self> {
        let bad = |reason| Error::InvalidGateRun {
            context: context.as_str().to_owned(),
            reason,
        };
        match finished_at {
            None if status.is_finished() => return Err(bad("a finished run needs finished_at")),
            Some(_) if !status.is_finished() => {
                return Err(bad("a running run has no finished_at"));
            }
            Some(f) if f < started_at => return Err(bad("finished_at is before started_at")),
            _ => {}
        }
        Ok(GateRun {
            context,
            commit,
            status,
            started_at,
            finished_at,
        })
    }

    /// The context.
    pub fn context(&self) -> &Line {
        &self.context
    }

    /// The commit it ran on.
    pub fn commit(&self) -> &CommitSha {
        &self.commit
    }

    /// Its status.
    pub fn status(&self) -> GateStatus {
        self.status
    }

    /// When it started.
    pub fn started_at(&self) -> Timestamp {
        self.started_at
    }

    /// When it finished.
    pub fn finished_at(&self) -> Option<Timestamp> {
        self.finished_at
    }

    /// How long it ran (finished runs only).
    pub fn duration(&self) -> Option<Duration> {
        let f = self.finished_at?;
        let micros = f.unix_micros().checked_sub(self.started_at.unix_micros())?;
        u64::try_from(micros).ok().map(Duration::from_micros)
    }
}

#[derive(Serialize, Deserialize)]
struct RawGateRun {
    context: Line,
    commit: CommitSha,
    status: GateStatus,
    #[serde(with = "crate::timefmt")]
    started_at: Timestamp,
    #[serde(with = "crate::timefmt::option", default)]
    finished_at: Option<Timestamp>,
}

impl TryFrom<RawGateRun> for GateRun {
    type Error = Error;

    fn try_from(r: RawGateRun) -> Result<Self> {
        GateRun::new(r.context, r.commit, r.status, r.started_at, r.finished_at)
    }
}

impl From<GateRun> for RawGateRun {
    fn from(r: GateRun) -> Self {
        RawGateRun {
            context: r.context,
            commit: r.commit,
            status: r.status,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

/// Where one required check stands on the head commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CheckState {
    /// Every matching context's latest run succeeded.
    Passed {
        /// When the last of them finished.
        #[serde(with = "crate::timefmt")]
        finished_at: Timestamp,
    },
    /// A matching context's latest run ended other than in success.
    Failed {
        /// That context.
        context: String,
        /// How it ended.
        status: GateStatus,
    },
    /// A matching context's latest run has not finished.
    Pending {
        /// That context.
        context: String,
    },
    /// No run matches on the head commit.
    Missing,
}

impl CheckState {
    /// The worst state over the latest runs of the matching contexts:
    /// failed, then pending, then missing (none), then passed.
    fn of(runs: &[&GateRun]) -> CheckState {
        if let Some(r) = runs
            .iter()
            .find(|r| r.status.is_finished() && r.status != GateStatus::Success)
        {
            return CheckState::Failed {
                context: r.context.as_str().to_owned(),
                status: r.status,
            };
        }
        if let Some(r) = runs.iter().find(|r| !r.status.is_finished()) {
            return CheckState::Pending {
                context: r.context.as_str().to_owned(),
            };
        }
        runs.iter()
            .filter_map(|r| r.finished_at)
            .max()
            .map_or(CheckState::Missing, |finished_at| CheckState::Passed {
                finished_at,
            })
    }
}

/// One required check's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The check.
    pub check: RequiredCheck,
    /// Its state.
    pub state: CheckState,
}

/// Every required check's state on one commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecksReport {
    /// The commit evaluated.
    pub head: CommitSha,
    /// One result per required check, in configuration order.
    pub results: Vec<CheckResult>,
}

impl ChecksReport {
    /// Every required check passed on this head commit.
    pub fn all_passed(&self) -> bool {
        self.results
            .iter()
            .all(|r| matches!(r.state, CheckState::Passed { .. }))
    }

    /// The first failed required check's context, if any.
    pub fn first_failure(&self) -> Option<&str> {
        self.results.iter().find_map(|r| match &r.state {
            CheckState::Failed { context, .. } => Some(context.as_str()),
            _ => None,
        })
    }

    /// When the last required check finished, once all passed.
    pub fn completed_at(&self) -> Option<Timestamp> {
        self.results
            .iter()
            .map(|r| match r.state {
                CheckState::Passed { finished_at } => Some(finished_at),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .and_then(|v| v.into_iter().max())
    }

    /// The checks that did not pass, as `pattern (state)` lines.
    pub fn unmet(&self) -> Vec<String> {
        self.results
            .iter()
            .filter_map(|r| {
                let what = match &r.state {
                    CheckState::Passed { .. } => return None,
                    CheckState::Failed { context, status } => format!("{context}: {status:?}"),
                    CheckState::Pending { context } => format!("{context}: pending"),
                    CheckState::Missing => "missing".to_owned(),
                };
                Some(format!("{} ({what})", r.check.context))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn glob_basics() {
        assert!(glob_match("Run Gate 3 for PRD-*", "Run Gate 3 for PRD-42"));
        assert!(glob_match("a*b*c", "a-x-b-y-c"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("PRD-*", "PRD"));
        assert!(!glob_match("a*b", "a-x-c"));
        assert!(glob_match("**a", "bba"));
    }

    #[test]
    fn star_is_literal_unless_configured() {
        let exact = RequiredCheck {
            context: Line::new("c", "PRD-*").unwrap(),
            glob: false,
        };
        assert!(!exact.matches("PRD-1"));
        assert!(exact.matches("PRD-*"));
        let glob = RequiredCheck {
            glob: true,
            ..exact
        };
        assert!(glob.matches("PRD-1"));
    }

    #[test]
    fn default_is_the_sop_list() {
        let d = RequiredChecks::default();
        assert_eq!(d.as_slice().len(), 4);
        assert!(
            d.as_slice()
                .iter()
                .zip(SOP_REQUIRED_CHECKS)
                .all(|(c, (s, g))| c.context.as_str() == s && c.glob == g)
        );
        assert!(matches!(
            RequiredChecks::new(vec![]),
            Err(Error::InvalidConfig { .. })
        ));
    }

    proptest! {
        #[test]
        fn glob_without_star_is_equality(p in "[a-c]{0,6}", t in "[a-c]{0,6}") {
            prop_assert_eq!(glob_match(&p, &t), p == t);
        }

        #[test]
        fn glob_matches_its_expansion(parts in proptest::collection::vec("[a-c]{0,3}", 1..4), fill in proptest::collection::vec("[a-d*]{0,3}", 3)) {
            let pattern = parts.join("*");
            let mut text = String::new();
            for (i, p) in parts.iter().enumerate() {
                if i > 0 { text.push_str(fill.get(i - 1).map_or("", String::as_str)); }
                text.push_str(p);
            }
            prop_assert!(glob_match(&pattern, &text));
        }
    }
}
