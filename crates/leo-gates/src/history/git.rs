//! The git side of the history audit: branches, the commit walk, ancestry.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use git2::{BranchType, Oid, Repository, Sort};
use leo_artifact::{CommitSha, Marker, Sha256Digest, markers_in};

use super::{HistoryOptions, PROGRESS_EVERY};
use crate::error::{Error, Result};

/// A libgit2 failure as the crate's error.
pub(super) fn git_err(context: impl Into<String>, e: &git2::Error) -> Error {
    Error::Artifact(leo_artifact::Error::Git {
        context: context.into(),
        message: e.message().to_owned(),
    })
}

/// Opens the repository at `path` (no discovery upwards: the caller names the repository).
pub(super) fn open(path: &Path) -> Result<Repository> {
    Repository::open(path).map_err(|e| git_err(format!("opening {}", path.display()), &e))
}

/// A branch and the commit it points at.
#[derive(Clone, Debug)]
pub(super) struct BranchTip {
    /// As git shows it: `feature/x`, or `origin/feature/x` for a remote-tracking branch.
    pub name: String,
    /// Without the remote: what the SOP's patterns are matched against.
    pub short: String,
    /// Its commit.
    pub oid: Oid,
}

/// Every local and remote-tracking branch (symbolic ones such as `origin/HEAD` skipped).
pub(super) fn branch_tips(repo: &Repository, max: usize) -> Result<Vec<BranchTip>> {
    let branches = repo
        .branches(None)
        .map_err(|e| git_err("listing branches", &e))?;
    let mut tips = Vec::new();
    for item in branches {
        let (branch, kind) = item.map_err(|e| git_err("listing branches", &e))?;
        let reference = branch.get();
        if reference.symbolic_target_bytes().is_some() {
            continue;
        }
        let (Ok(Some(name)), Some(oid)) = (branch.name(), reference.target()) else {
            continue;
        };
        if tips.len() >= max {
            return Err(Error::TooMany {
                field: "branches",
                max,
            });
        }
        let short = match kind {
            BranchType::Local => name,
            BranchType::Remote => name.split_once('/').map_or(name, |(_, rest)| rest),
        };
        tips.push(BranchTip {
            name: name.to_owned(),
            short: short.to_owned(),
            oid,
        });
    }
    Ok(tips)
}

/// The main branch's tip: the local branch, else a remote-tracking one of that name.
pub(super) fn main_tip(tips: &[BranchTip], main: &str) -> Option<Oid> {
    tips.iter()
        .find(|t| t.name == main)
        .or_else(|| tips.iter().find(|t| t.short == main))
        .map(|t| t.oid)
}

/// A commit carrying a `[CODEX-READY]` or `[CLAUDE-APPLIED]` marker.
#[derive(Clone, Debug)]
pub(super) struct MarkerCommit {
    /// The commit id.
    pub id: CommitSha,
    /// The same, for libgit2.
    pub oid: Oid,
    /// The bundle hash the marker names.
    pub bundle: Sha256Digest,
    /// Committer time, seconds since the epoch.
    pub time: i64,
    /// Author and committer identities (e-mail lower-cased, else the name).
    pub identities: BTreeSet<String>,
    /// Whether the commit is in the audited revision or range.
    pub in_scope: bool,
}

/// What the walk collected.
#[derive(Debug, Default)]
pub(super) struct Walk {
    /// Commits walked.
    pub commits_walked: u64,
    /// The audited commits when a revision or range was given (`None`: all).
    pub scope: Option<HashSet<Oid>>,
    /// `[CODEX-READY]` commits, in walk order.
    pub ready: Vec<MarkerCommit>,
    /// `[CLAUDE-APPLIED]` commits, in walk order.
    pub applied: Vec<MarkerCommit>,
    /// Commits whose markers do not parse, with the reason.
    pub malformed: Vec<(CommitSha, String)>,
}

impl Walk {
    /// Whether `oid` is audited.
    pub fn in_scope(&self, oid: Oid) -> bool {
        self.scope.as_ref().is_none_or(|s| s.contains(&oid))
    }
}

fn identity(sig: &git2::Signature<'_>) -> Option<String> {
    let email = String::from_utf8_lossy(sig.email_bytes())
        .trim()
        .to_lowercase();
    if !email.is_empty() {
        return Some(email);
    }
    let name = String::from_utf8_lossy(sig.name_bytes()).trim().to_owned();
    (!name.is_empty()).then_some(name)
}

/// Pushes `rev` (a revision or an `a..b` range) onto `revwalk`.
fn push_rev(repo: &Repository, revwalk: &mut git2::Revwalk<'_>, rev: &str) -> Result<()> {
    if rev.contains("..") {
        return revwalk
            .push_range(rev)
            .map_err(|e| git_err(format!("resolving range {rev:?}"), &e));
    }
    let commit = repo
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| git_err(format!("resolving revision {rev:?}"), &e))?;
    revwalk
        .push(commit.id())
        .map_err(|e| git_err("starting the walk", &e))
}

/// Counts one more walked commit against the limit.
fn count(walked: &mut u64, max: usize) -> Result<()> {
    *walked += 1;
    if usize::try_from(*walked).map_or(true, |w| w > max) {
        return Err(Error::TooMany {
            field: "commits walked",
            max,
        });
    }
    Ok(())
}

/// The commits `opts.rev` names.
fn scope(repo: &Repository, rev: &str, walked: &mut u64, max: usize) -> Result<HashSet<Oid>> {
    let mut revwalk = repo
        .revwalk()
        .map_err(|e| git_err("starting the walk", &e))?;
    push_rev(repo, &mut revwalk, rev)?;
    let mut out = HashSet::new();
    for oid in revwalk {
        out.insert(oid.map_err(|e| git_err("walking the range", &e))?);
        count(walked, max)?;
    }
    Ok(out)
}

/// Walks every branch (and `opts.rev`), newest first, collecting marker commits. With
/// `opts.rev`, only commits in that revision or range are audited ([`MarkerCommit::in_scope`]),
/// but `[CODEX-READY]` commits are still looked up everywhere.
pub(super) fn walk(
    repo: &Repository,
    opts: &HistoryOptions,
    tips: &[BranchTip],
    progress: &mut dyn FnMut(u64),
) -> Result<Walk> {
    let mut out = Walk::default();
    let scope = match &opts.rev {
        Some(rev) => Some(scope(repo, rev, &mut out.commits_walked, opts.max_commits)?),
        None => None,
    };
    let mut revwalk = repo
        .revwalk()
        .map_err(|e| git_err("starting the walk", &e))?;
    revwalk
        .set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
        .map_err(|e| git_err("sorting the walk", &e))?;
    for tip in tips {
        revwalk
            .push(tip.oid)
            .map_err(|e| git_err(format!("walking branch {}", tip.name), &e))?;
    }
    for oid in scope.iter().flatten() {
        revwalk
            .push(*oid)
            .map_err(|e| git_err("walking the range", &e))?;
    }
    for oid in revwalk {
        let oid = oid.map_err(|e| git_err("walking the history", &e))?;
        count(&mut out.commits_walked, opts.max_commits)?;
        if out.commits_walked % PROGRESS_EVERY == 0 {
            progress(out.commits_walked);
        }
        let in_scope = scope.as_ref().is_none_or(|s| s.contains(&oid));
        let commit = repo
            .find_commit(oid)
            .map_err(|e| git_err(format!("reading commit {oid}"), &e))?;
        let message = String::from_utf8_lossy(commit.message_bytes());
        let id = CommitSha::from_oid(oid);
        let markers = match markers_in(&message) {
            Ok(m) => m,
            Err(e) => {
                if in_scope {
                    out.malformed.push((id, e.to_string()));
                }
                continue;
            }
        };
        let identities: BTreeSet<String> =
            [identity(&commit.author()), identity(&commit.committer())]
                .into_iter()
                .flatten()
                .collect();
        for marker in markers {
            let (list, bundle) = match marker {
                Marker::CodexReady(h) => (&mut out.ready, h),
                Marker::ClaudeApplied(h) => (&mut out.applied, h),
                Marker::PlanSupervisor(_) | Marker::LeadApproved(_) => continue,
            };
            list.push(MarkerCommit {
                id: id.clone(),
                oid,
                bundle,
                time: commit.time().seconds(),
                identities: identities.clone(),
                in_scope,
            });
        }
    }
    out.scope = scope;
    progress(out.commits_walked);
    Ok(out)
}

/// Whether `ancestor` is `descendant` or one of its ancestors.
pub(super) fn contains(repo: &Repository, descendant: Oid, ancestor: Oid) -> Result<bool> {
    if descendant == ancestor {
        return Ok(true);
    }
    repo.graph_descendant_of(descendant, ancestor)
        .map_err(|e| git_err("comparing commits", &e))
}

/// The module docs' "precedes": a proper ancestor, or unrelated and not later in time.
pub(super) fn precedes(
    repo: &Repository,
    ready: &MarkerCommit,
    applied: &MarkerCommit,
) -> Result<bool> {
    if ready.oid == applied.oid {
        return Ok(false);
    }
    if contains(repo, applied.oid, ready.oid)? {
        return Ok(true);
    }
    if contains(repo, ready.oid, applied.oid)? {
        return Ok(false);
    }
    Ok(ready.time <= applied.time)
}

/// The branches whose history contains `oid`.
pub(super) fn branches_containing<'a>(
    repo: &Repository,
    tips: &'a [BranchTip],
    oid: Oid,
) -> Result<Vec<&'a BranchTip>> {
    let mut out = Vec::new();
    for tip in tips {
        if contains(repo, tip.oid, oid)? {
            out.push(tip);
        }
    }
    Ok(out)
}

/// Whether some branch matching `pattern` contains `oid`. Tips are compared first (a marker
/// commit is usually its branch's tip); only matching branches are walked.
pub(super) fn on_matching_branch(
    repo: &Repository,
    tips: &[BranchTip],
    oid: Oid,
    pattern: &str,
) -> Result<bool> {
    let matching: Vec<&BranchTip> = tips
        .iter()
        .filter(|t| crate::checks::glob_match(pattern, &t.short))
        .collect();
    if matching.iter().any(|t| t.oid == oid) {
        return Ok(true);
    }
    for tip in matching {
        if contains(repo, tip.oid, oid)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Every commit reachable from `tip` (at most `max`), for repeated membership tests.
pub(super) fn reachable(repo: &Repository, tip: Oid, max: usize) -> Result<HashSet<Oid>> {
    let mut revwalk = repo
        .revwalk()
        .map_err(|e| git_err("starting the walk", &e))?;
    revwalk
        .push(tip)
        .map_err(|e| git_err("walking the main branch", &e))?;
    let mut out = HashSet::new();
    for oid in revwalk {
        out.insert(oid.map_err(|e| git_err("walking the main branch", &e))?);
        if out.len() > max {
            return Err(Error::TooMany {
                field: "commits walked",
                max,
            });
        }
    }
    Ok(out)
}

/// Whether a commit's message carries a well-formed `[CLAUDE-APPLIED]` marker.
fn is_applied(repo: &Repository, oid: Oid) -> Result<bool> {
    let commit = repo
        .find_commit(oid)
        .map_err(|e| git_err(format!("reading commit {oid}"), &e))?;
    let message = String::from_utf8_lossy(commit.message_bytes());
    Ok(markers_in(&message).is_ok_and(|m| m.iter().any(|m| matches!(m, Marker::ClaudeApplied(_)))))
}

/// Follows `main`'s first-parent chain; for each audited merge commit, walks what its other
/// parents bring in (commits not reachable from the first parent) looking for a
/// `[CLAUDE-APPLIED]` commit. Counts against the same commit limit as the main walk.
pub(super) fn unmarked_merges(
    repo: &Repository,
    main: Oid,
    walk: &mut Walk,
    max: usize,
) -> Result<Vec<CommitSha>> {
    let mut unmarked = Vec::new();
    let mut chain = repo
        .revwalk()
        .map_err(|e| git_err("starting the walk", &e))?;
    chain
        .push(main)
        .map_err(|e| git_err("walking the main branch", &e))?;
    chain
        .simplify_first_parent()
        .map_err(|e| git_err("walking the main branch", &e))?;
    for oid in chain {
        let oid = oid.map_err(|e| git_err("walking the main branch", &e))?;
        count(&mut walk.commits_walked, max)?;
        if !walk.in_scope(oid) {
            continue;
        }
        let commit = repo
            .find_commit(oid)
            .map_err(|e| git_err(format!("reading commit {oid}"), &e))?;
        let parents: Vec<Oid> = commit.parent_ids().collect();
        let Some((first, others)) = parents.split_first() else {
            continue;
        };
        if others.is_empty() {
            continue;
        }
        let mut brought = repo
            .revwalk()
            .map_err(|e| git_err("starting the walk", &e))?;
        for p in others {
            brought
                .push(*p)
                .map_err(|e| git_err(format!("walking merge {oid}"), &e))?;
        }
        brought
            .hide(*first)
            .map_err(|e| git_err(format!("walking merge {oid}"), &e))?;
        let mut marked = false;
        for c in brought {
            let c = c.map_err(|e| git_err(format!("walking merge {oid}"), &e))?;
            count(&mut walk.commits_walked, max)?;
            if is_applied(repo, c)? {
                marked = true;
                break;
            }
        }
        if !marked {
            unmarked.push(CommitSha::from_oid(oid));
        }
    }
    Ok(unmarked)
}
