//! The SOP §7.1 history audit: does the git history carry the evidence the SOP requires?
//!
//! [`audit_history`] walks a repository with libgit2 (every local and remote-tracking branch,
//! or one revision range) and checks, for every `[CLAUDE-APPLIED:<hash>]` commit:
//!
//! 1. **Handoff order.** A `[CODEX-READY:<hash>]` commit for the same hash *precedes* it:
//!    the ready commit is a proper ancestor of the applied commit, or — when neither commit is
//!    an ancestor of the other, as when the enforcer applies the patch onto a `feature/*`
//!    branch cut from the merge-base — the ready commit's committer time is not later than the
//!    applied commit's (git times have one-second resolution, so the same second counts as
//!    "not later"). A ready commit that descends from the applied commit never precedes it.
//! 2. **Bundle.** A bundle whose SHA-256 is `<hash>` exists: among the `*.tar.gz` files under
//!    [`HistoryOptions::bundles`] (found by hashing them), or, without that directory, named by
//!    a record of the audit trail. With [`HistoryOptions::verify_bundles`] the file must also
//!    pass the hardened bundle reader.
//! 3. **Branch links.** The applied commit is on a `feature/*` branch and the ready commit on
//!    a `staging/codex-*` branch (SOP §4.2, §8): some branch containing the commit matches, or
//!    the trail's handoff record for that commit names a matching branch (merged branches are
//!    often deleted).
//! 4. **Records.** The trail holds a handoff record for each marker (same stage, hash and
//!    commit), and each *merged* change — an applied commit reachable from the main branch —
//!    has a PASS verdict for its bundle hash, or a LEAD approval/override that applies to the
//!    later non-PASS verdict (see [`crate::lead`]).
//! 5. **Role separation.** The ready and applied commits share no git identity (author or
//!    committer e-mail, lower-cased; the name when the e-mail is empty).
//!
//! It also flags every commit whose markers fail to parse, and every merge commit on the
//! main branch's first-parent chain that brings in no `[CLAUDE-APPLIED]` commit (a change that
//! bypassed the lanes). Unmarked non-merge commits on main are not flagged: histories usually
//! predate the process. Checks whose evidence was not supplied (no store, no bundle
//! directory) are skipped and reported as such in [`Coverage`].
//!
//! With [`HistoryOptions::rev`], only the commits of that revision or range are audited
//! (their markers, branches, records and merges), but every branch is still searched for the
//! `[CODEX-READY]` commit an audited `[CLAUDE-APPLIED]` commit needs.
//!
//! Signing keys are not compared yet ([`Coverage::signing_keys`] is always `false`): the
//! trail's `ArtifactSignature` records name the enforcer's signer only, and no record names
//! the builder's key (the identity the enforcer establishes from the attestation), so
//! separation is checked on git identities.
//!
//! ```
//! use leo_gates::history::{HistoryOptions, Violation, audit_history};
//!
//! let dir = tempfile::tempdir()?;
//! let repo = git2::Repository::init(dir.path())?;
//! let sig = git2::Signature::now("Codex", "codex@example.invalid")?;
//! let tree = repo.find_tree(repo.index()?.write_tree()?)?;
//! let hash = "ab".repeat(32);
//! let msg = format!("[CLAUDE-APPLIED:{hash}] applied without a handoff");
//! repo.commit(Some("HEAD"), &sig, &sig, &msg, &tree, &[])?;
//!
//! let report = audit_history(dir.path(), None, &HistoryOptions::default())?;
//! assert!(!report.is_clean());
//! assert!(report.violations.iter().any(|v| matches!(v, Violation::MissingCodexReady { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bundles;
mod git;
mod trail;
mod violation;

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use leo_artifact::{Sha256Digest, read_bundle_file};
use leo_store::note::NoteVerifier;
use leo_store::{HandoffStage, Reader};
use serde::Serialize;

use crate::checks::glob_match;
use crate::error::Result;

pub use violation::{BundleSource, MarkerRef, Violation};

/// Default for [`HistoryOptions::max_commits`].
pub const DEFAULT_MAX_COMMITS: usize = 1_000_000;
/// Default for [`HistoryOptions::max_branches`].
pub const DEFAULT_MAX_BRANCHES: usize = 10_000;
/// Default for [`HistoryOptions::max_bundle_files`].
pub const DEFAULT_MAX_BUNDLE_FILES: usize = 10_000;
/// Default for [`HistoryOptions::max_store_entries`].
pub const DEFAULT_MAX_STORE_ENTRIES: u64 = 10_000_000;
/// How deep below [`HistoryOptions::bundles`] bundle files are looked for.
pub const MAX_BUNDLE_DIR_DEPTH: usize = 8;
/// Branches a `[CLAUDE-APPLIED]` commit must be on (SOP §1.2, §8).
pub const APPLIED_BRANCHES: &str = "feature/*";
/// Branches a `[CODEX-READY]` commit must be on (SOP §1.1, §8).
pub const READY_BRANCHES: &str = "staging/codex-*";
/// The branch merges land on, unless configured otherwise.
pub const DEFAULT_MAIN_BRANCH: &str = "main";
/// The progress callback is called after every this many commits.
pub const PROGRESS_EVERY: u64 = 1_000;

/// The audit trail a history is checked against.
pub struct TrailSource<'a> {
    /// The trail.
    pub reader: &'a mut Reader,
    /// Checkpoint keys. When given, the whole trail is verified ([`Reader::verify`]: every
    /// leaf, the chain, the tree, every checkpoint signature) before any row is read, and a
    /// trail that fails is an error; when `None` its rows are used as stored and the report
    /// says so ([`Coverage::store_verified`] is `false`).
    pub trusted: Option<&'a [NoteVerifier]>,
}

impl std::fmt::Debug for TrailSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrailSource")
            .field("trusted", &self.trusted.map(<[NoteVerifier]>::len))
            .finish_non_exhaustive()
    }
}

/// What to audit and the limits to audit it within.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryOptions {
    /// A revision (`main`, a commit) or range (`a..b`) to walk instead of every branch.
    pub rev: Option<String>,
    /// A directory holding `artifact.tar.gz` files (searched recursively for `*.tar.gz`).
    pub bundles: Option<PathBuf>,
    /// Also read every bundle a marker names with the hardened reader.
    pub verify_bundles: bool,
    /// The branch merges land on (local, else `origin/<name>`).
    pub main_branch: String,
    /// Most commits walked (all walks together); more is [`Error::TooMany`](crate::Error::TooMany).
    pub max_commits: usize,
    /// Most branches considered.
    pub max_branches: usize,
    /// Most files hashed under [`HistoryOptions::bundles`].
    pub max_bundle_files: usize,
    /// Most audit-trail records read.
    pub max_store_entries: u64,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            rev: None,
            bundles: None,
            verify_bundles: false,
            main_branch: DEFAULT_MAIN_BRANCH.to_owned(),
            max_commits: DEFAULT_MAX_COMMITS,
            max_branches: DEFAULT_MAX_BRANCHES,
            max_bundle_files: DEFAULT_MAX_BUNDLE_FILES,
            max_store_entries: DEFAULT_MAX_STORE_ENTRIES,
        }
    }
}

/// Which checks had their evidence and ran.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Bundle existence was checked in a bundle directory (`--bundles`); with only a store,
    /// markers are checked against handoff records, which is [`Coverage::store`].
    pub bundles: bool,
    /// Bundles were read and verified.
    pub bundle_verification: bool,
    /// Handoff records and verdicts were checked against a store.
    pub store: bool,
    /// That store was verified against trusted checkpoint keys before it was read; `false`
    /// with [`Coverage::store`] means its rows were taken as stored.
    pub store_verified: bool,
    /// The main branch was found, so merged changes and merges were checked.
    pub merges: bool,
    /// Signing keys were compared (needs per-artifact signer records in the store).
    pub signing_keys: bool,
}

/// What the audit found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HistoryReport {
    /// Commits walked (main-branch merge inspection included).
    pub commits_walked: u64,
    /// Branches considered.
    pub branches: usize,
    /// `[CODEX-READY]` markers seen.
    pub codex_ready: usize,
    /// `[CLAUDE-APPLIED]` markers seen.
    pub claude_applied: usize,
    /// Applied commits reachable from the main branch.
    pub merged: usize,
    /// Which checks ran.
    pub coverage: Coverage,
    /// Every violation, in walk order, ready-side checks first.
    pub violations: Vec<Violation>,
}

impl HistoryReport {
    /// `true` when no violation was found.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Audits `repo`'s history against SOP §7.1; see the [module docs](self) for every check.
///
/// `store` is the audit trail to check records against (`None` skips those checks); it is
/// verified first when it comes with trusted keys (see [`TrailSource`]).
/// Violations are findings, not errors: `Err` means the audit could not run (unreadable
/// repository, unknown revision, a limit exceeded, the store failing).
pub fn audit_history(
    repo: &Path,
    store: Option<TrailSource<'_>>,
    opts: &HistoryOptions,
) -> Result<HistoryReport> {
    audit_history_with_progress(repo, store, opts, &mut |_| {})
}

/// [`audit_history`], calling `progress` with the number of commits walked so far every
/// [`PROGRESS_EVERY`] commits.
pub fn audit_history_with_progress(
    repo: &Path,
    store: Option<TrailSource<'_>>,
    opts: &HistoryOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<HistoryReport> {
    let repository = git::open(repo)?;
    let tips = git::branch_tips(&repository, opts.max_branches)?;
    let mut walk = git::walk(&repository, opts, &tips, progress)?;
    let mut store_verified = false;
    let trail = match store {
        Some(TrailSource { reader, trusted }) => {
            if let Some(trusted) = trusted {
                reader.verify(trusted)?;
                store_verified = true;
            }
            Some(trail::Trail::load(reader, opts.max_store_entries)?)
        }
        None => None,
    };
    let bundle_index = match &opts.bundles {
        Some(dir) => Some(bundles::index(dir, opts.max_bundle_files)?),
        None => None,
    };
    let main = git::main_tip(&tips, &opts.main_branch);
    let on_main = match main {
        Some(tip) => git::reachable(&repository, tip, opts.max_commits)?,
        None => HashSet::new(),
    };

    let mut report = HistoryReport {
        commits_walked: walk.commits_walked,
        branches: tips.len(),
        codex_ready: walk.ready.iter().filter(|c| c.in_scope).count(),
        claude_applied: walk.applied.iter().filter(|c| c.in_scope).count(),
        coverage: Coverage {
            bundles: bundle_index.is_some(),
            bundle_verification: bundle_index.is_some() && opts.verify_bundles,
            store: trail.is_some(),
            store_verified,
            merges: main.is_some(),
            signing_keys: false,
        },
        ..HistoryReport::default()
    };
    let v = &mut report.violations;
    for (commit, reason) in &walk.malformed {
        v.push(Violation::MalformedMarker {
            commit: commit.clone(),
            reason: reason.clone(),
        });
    }

    for ready in walk.ready.iter().filter(|c| c.in_scope) {
        let marker = MarkerRef::new(HandoffStage::CodexReady, ready.bundle);
        check_branch(&repository, &tips, trail.as_ref(), ready, marker, v)?;
        check_recorded(trail.as_ref(), ready, marker, v);
    }

    let mut verified = BTreeSet::new();
    for applied in walk.applied.iter().filter(|c| c.in_scope) {
        let marker = MarkerRef::new(HandoffStage::ClaudeApplied, applied.bundle);
        check_handoff_order(&repository, &walk, applied, v)?;
        check_bundle(
            bundle_index.as_ref(),
            trail.as_ref(),
            opts.verify_bundles,
            applied,
            &mut verified,
            v,
        );
        check_branch(&repository, &tips, trail.as_ref(), applied, marker, v)?;
        check_recorded(trail.as_ref(), applied, marker, v);
        if on_main.contains(&applied.oid) {
            report.merged += 1;
            if let Some(trail) = &trail
                && let Err((pr, verdict)) = trail.merge_authority(&applied.bundle)
            {
                v.push(Violation::MergedWithoutPass {
                    commit: applied.id.clone(),
                    marker,
                    pr,
                    verdict,
                });
            }
        }
    }

    if let Some(main) = main {
        for commit in git::unmarked_merges(&repository, main, &mut walk, opts.max_commits)? {
            report
                .violations
                .push(Violation::MergeWithoutHandoff { commit });
        }
        report.commits_walked = walk.commits_walked;
    }
    Ok(report)
}

/// Rule 1 (handoff order) and rule 5 (role separation) for one applied commit.
fn check_handoff_order(
    repo: &git2::Repository,
    walk: &git::Walk,
    applied: &git::MarkerCommit,
    v: &mut Vec<Violation>,
) -> Result<()> {
    let marker = MarkerRef::new(HandoffStage::ClaudeApplied, applied.bundle);
    let candidates: Vec<&git::MarkerCommit> = walk
        .ready
        .iter()
        .filter(|r| r.bundle == applied.bundle)
        .collect();
    let Some(first) = candidates.first() else {
        v.push(Violation::MissingCodexReady {
            commit: applied.id.clone(),
            marker,
        });
        return Ok(());
    };
    let mut preceding = None;
    for ready in &candidates {
        if git::precedes(repo, ready, applied)? {
            preceding = Some(*ready);
            break;
        }
    }
    let Some(ready) = preceding else {
        v.push(Violation::CodexReadyNotEarlier {
            commit: applied.id.clone(),
            marker,
            ready: first.id.clone(),
        });
        return Ok(());
    };
    if let Some(identity) = ready.identities.intersection(&applied.identities).next() {
        v.push(Violation::SameIdentity {
            commit: applied.id.clone(),
            marker,
            ready: ready.id.clone(),
            identity: identity.clone(),
        });
    }
    Ok(())
}

/// Rule 2: the bundle exists (and verifies, when asked). Each hash is read at most once.
fn check_bundle(
    index: Option<&bundles::BundleIndex>,
    trail: Option<&trail::Trail>,
    verify: bool,
    applied: &git::MarkerCommit,
    verified: &mut BTreeSet<Sha256Digest>,
    v: &mut Vec<Violation>,
) {
    let marker = MarkerRef::new(HandoffStage::ClaudeApplied, applied.bundle);
    match (index, trail) {
        (Some(index), _) => match index.get(&applied.bundle) {
            None => v.push(Violation::BundleMissing {
                commit: applied.id.clone(),
                marker,
                searched: BundleSource::Directory,
            }),
            Some(path) if verify && verified.insert(applied.bundle) => {
                if let Err(e) = read_bundle_file(path, &leo_artifact::ReadLimits::default()) {
                    v.push(Violation::BundleInvalid {
                        commit: applied.id.clone(),
                        marker,
                        path: path.clone(),
                        reason: e.to_string(),
                    });
                }
            }
            Some(_) => {}
        },
        (None, Some(trail)) if !trail.references(&applied.bundle) => {
            v.push(Violation::BundleMissing {
                commit: applied.id.clone(),
                marker,
                searched: BundleSource::Store,
            });
        }
        _ => {}
    }
}

/// Rule 3: the marker commit is on its lane's branch, per git or per its handoff record.
fn check_branch(
    repo: &git2::Repository,
    tips: &[git::BranchTip],
    trail: Option<&trail::Trail>,
    commit: &git::MarkerCommit,
    marker: MarkerRef,
    v: &mut Vec<Violation>,
) -> Result<()> {
    let pattern = match marker.stage {
        HandoffStage::CodexReady => READY_BRANCHES,
        HandoffStage::ClaudeApplied => APPLIED_BRANCHES,
    };
    if git::on_matching_branch(repo, tips, commit.oid, pattern)? {
        return Ok(());
    }
    let recorded = trail.and_then(|t| t.handoff(marker, &commit.id));
    if recorded.is_some_and(|h| glob_match(pattern, h.branch.as_str())) {
        return Ok(());
    }
    // A violation: only now is every branch walked, to say where the commit is instead.
    let branches = git::branches_containing(repo, tips, commit.oid)?;
    let mut found: Vec<String> = branches.iter().map(|b| b.name.clone()).collect();
    if let Some(h) = recorded {
        found.push(format!("{} (handoff record)", h.branch.as_str()));
    }
    v.push(Violation::WrongBranch {
        commit: commit.id.clone(),
        marker,
        expected: pattern,
        found,
    });
    Ok(())
}

/// Rule 4, first half: a handoff record for this marker on this commit.
fn check_recorded(
    trail: Option<&trail::Trail>,
    commit: &git::MarkerCommit,
    marker: MarkerRef,
    v: &mut Vec<Violation>,
) {
    if let Some(trail) = trail
        && trail.handoff(marker, &commit.id).is_none()
    {
        v.push(Violation::HandoffNotRecorded {
            commit: commit.id.clone(),
            marker,
            recorded_commits: trail.handoff_commits(marker),
        });
    }
}
