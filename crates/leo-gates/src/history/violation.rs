//! What the history audit reports: one typed [`Violation`] per missing piece of evidence.

use std::fmt;
use std::path::PathBuf;

use leo_artifact::{CommitSha, Marker, PlanVerdict, Sha256Digest};
use leo_store::{HandoffStage, PrNumber};
use serde::{Serialize, Serializer};

/// A handoff marker as found in a commit message: its stage and bundle hash. Serialized as
/// the marker text, e.g. `"[CODEX-READY:ab12…]"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MarkerRef {
    /// `[CODEX-READY]` or `[CLAUDE-APPLIED]`.
    pub stage: HandoffStage,
    /// The bundle hash it names.
    pub bundle: Sha256Digest,
}

impl MarkerRef {
    /// A marker reference.
    pub const fn new(stage: HandoffStage, bundle: Sha256Digest) -> Self {
        MarkerRef { stage, bundle }
    }

    /// The marker itself.
    pub fn marker(&self) -> Marker {
        match self.stage {
            HandoffStage::CodexReady => Marker::CodexReady(self.bundle),
            HandoffStage::ClaudeApplied => Marker::ClaudeApplied(self.bundle),
        }
    }
}

impl fmt::Display for MarkerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.marker().fmt(f)
    }
}

impl Serialize for MarkerRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Where the bundle was looked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BundleSource {
    /// The `*.tar.gz` files of the bundle directory, by hash.
    Directory,
    /// The audit trail's records (no bundle directory was given).
    Store,
}

/// One piece of SOP §7.1 evidence that is missing or wrong.
///
/// `commit` is always the commit the violation is about; `marker`, where present, is the
/// marker that commit carries.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Violation {
    /// A commit message holds something that starts like a marker but does not parse.
    MalformedMarker {
        /// The commit.
        commit: CommitSha,
        /// The parser's reason.
        reason: String,
    },
    /// `[CLAUDE-APPLIED:<hash>]` with no `[CODEX-READY:<hash>]` anywhere in the history walked.
    MissingCodexReady {
        /// The applied commit.
        commit: CommitSha,
        /// Its marker.
        marker: MarkerRef,
    },
    /// `[CODEX-READY:<hash>]` exists, but none precedes the applied commit.
    CodexReadyNotEarlier {
        /// The applied commit.
        commit: CommitSha,
        /// Its marker.
        marker: MarkerRef,
        /// A ready commit for the same hash (that comes later).
        ready: CommitSha,
    },
    /// No bundle with the marker's hash was found.
    BundleMissing {
        /// The applied commit.
        commit: CommitSha,
        /// Its marker.
        marker: MarkerRef,
        /// Where LEO looked.
        searched: BundleSource,
    },
    /// The bundle file with the marker's hash fails the hardened reader.
    BundleInvalid {
        /// The applied commit.
        commit: CommitSha,
        /// Its marker.
        marker: MarkerRef,
        /// The bundle file.
        path: PathBuf,
        /// The reader's error.
        reason: String,
    },
    /// The marker commit is not on its lane's branch, by git or by its handoff record.
    WrongBranch {
        /// The marker commit.
        commit: CommitSha,
        /// Its marker.
        marker: MarkerRef,
        /// The branch pattern required (`feature/*` or `staging/codex-*`).
        expected: &'static str,
        /// The branches that contain the commit, and the recorded branch if any.
        found: Vec<String>,
    },
    /// The audit trail has no handoff record for this marker on this commit.
    HandoffNotRecorded {
        /// The marker commit.
        commit: CommitSha,
        /// Its marker.
        marker: MarkerRef,
        /// Commits the trail records this marker for instead (empty: none).
        recorded_commits: Vec<CommitSha>,
    },
    /// A change reached the main branch without a PASS (or an applicable LEAD approval) for
    /// its bundle hash.
    MergedWithoutPass {
        /// The merged applied commit.
        commit: CommitSha,
        /// Its marker.
        marker: MarkerRef,
        /// The PR the trail links to the bundle, if any.
        pr: Option<PrNumber>,
        /// The latest verdict recorded for the bundle, if any.
        verdict: Option<PlanVerdict>,
    },
    /// A merge commit on the main branch brings in no `[CLAUDE-APPLIED]` commit.
    MergeWithoutHandoff {
        /// The merge commit.
        commit: CommitSha,
    },
    /// The ready and applied commits share a git identity: one actor played both lanes.
    SameIdentity {
        /// The applied commit.
        commit: CommitSha,
        /// Its marker.
        marker: MarkerRef,
        /// The ready commit it follows.
        ready: CommitSha,
        /// The shared identity (e-mail, lower-cased).
        identity: String,
    },
}

impl Violation {
    /// The commit the violation is about.
    pub fn commit(&self) -> &CommitSha {
        match self {
            Violation::MalformedMarker { commit, .. }
            | Violation::MissingCodexReady { commit, .. }
            | Violation::CodexReadyNotEarlier { commit, .. }
            | Violation::BundleMissing { commit, .. }
            | Violation::BundleInvalid { commit, .. }
            | Violation::WrongBranch { commit, .. }
            | Violation::HandoffNotRecorded { commit, .. }
            | Violation::MergedWithoutPass { commit, .. }
            | Violation::MergeWithoutHandoff { commit }
            | Violation::SameIdentity { commit, .. } => commit,
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.commit().short(12);
        match self {
            Violation::MalformedMarker { reason, .. } => {
                write!(f, "{c}: malformed marker: {reason}")
            }
            Violation::MissingCodexReady { marker, .. } => {
                write!(f, "{c}: {marker} has no [CODEX-READY] for that hash")
            }
            Violation::CodexReadyNotEarlier { marker, ready, .. } => write!(
                f,
                "{c}: {marker}: the [CODEX-READY] commit {} does not precede it",
                ready.short(12)
            ),
            Violation::BundleMissing {
                marker, searched, ..
            } => {
                let place = match searched {
                    BundleSource::Directory => "in the bundle directory",
                    BundleSource::Store => "in the audit trail",
                };
                write!(f, "{c}: {marker}: no bundle with that hash {place}")
            }
            Violation::BundleInvalid {
                marker,
                path,
                reason,
                ..
            } => write!(
                f,
                "{c}: {marker}: bundle {} does not verify: {reason}",
                path.display()
            ),
            Violation::WrongBranch {
                marker,
                expected,
                found,
                ..
            } => write!(
                f,
                "{c}: {marker} is not on a {expected} branch (found: {})",
                if found.is_empty() {
                    "none".to_owned()
                } else {
                    found.join(", ")
                }
            ),
            Violation::HandoffNotRecorded { marker, .. } => {
                write!(f, "{c}: {marker} has no handoff record for this commit")
            }
            Violation::MergedWithoutPass {
                marker,
                pr,
                verdict,
                ..
            } => write!(
                f,
                "{c}: {marker} is merged without a recorded PASS (PR {}, latest verdict {})",
                pr.map_or("unknown".to_owned(), |p| p.to_string()),
                verdict.map_or("none", PlanVerdict::as_str)
            ),
            Violation::MergeWithoutHandoff { .. } => {
                write!(f, "{c}: merge on main brings in no [CLAUDE-APPLIED] commit")
            }
            Violation::SameIdentity {
                marker,
                ready,
                identity,
                ..
            } => write!(
                f,
                "{c}: {marker} and its [CODEX-READY] commit {} share identity {identity}",
                ready.short(12)
            ),
        }
    }
}
