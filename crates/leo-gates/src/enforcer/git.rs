//! The git operations of the two lanes, with libgit2 (no `git` binary): the builder's marker
//! commit, and the enforcer's apply onto a new `feature/*` branch.
//!
//! The apply works on trees, never on a work tree or the index file: the patch is applied to
//! the merge-base's tree in memory, the commit is written, and only then is the branch
//! created, pointing at the finished commit. A conflict or a failure leaves no branch behind.

use std::path::Path;

use git2::{ApplyOptions, Diff, Oid, Repository, Signature};
use leo_artifact::CommitSha;

use crate::error::{Error, Result};

/// The branch prefix the enforcer applies on (SOP §1.2).
pub const FEATURE_PREFIX: &str = "feature/";

fn git_err(context: impl Into<String>) -> impl FnOnce(git2::Error) -> Error {
    let context = context.into();
    move |e| {
        Error::Artifact(leo_artifact::Error::Git {
            context,
            message: e.message().to_owned(),
        })
    }
}

fn open(repo: &Path) -> Result<Repository> {
    Repository::open(repo).map_err(git_err(format!("opening {}", repo.display())))
}

fn signature(who: &str) -> Result<Signature<'static>> {
    let email = if who.starts_with("Codex") {
        "codex@leo.invalid"
    } else {
        "claude@leo.invalid"
    };
    Signature::now(who, email).map_err(git_err("making the commit signature"))
}

fn oid_of(sha: &CommitSha) -> Result<Oid> {
    Oid::from_str(sha.as_str()).map_err(git_err(format!("parsing commit id {sha}")))
}

/// The commit `branch` points at.
fn tip<'r>(repository: &'r Repository, branch: &str) -> Result<git2::Commit<'r>> {
    repository
        .find_reference(&format!("refs/heads/{branch}"))
        .and_then(|r| r.peel_to_commit())
        .map_err(git_err(format!("reading branch {branch}")))
}

/// Commits `message` on top of `branch` with the tip's tree (a marker commit, as
/// `git commit --allow-empty`) and moves the branch to it.
pub fn commit_on_branch(repo: &Path, branch: &str, message: &str, who: &str) -> Result<CommitSha> {
    let repository = open(repo)?;
    let refname = format!("refs/heads/{branch}");
    let tip = tip(&repository, branch)?;
    let tree = tip.tree().map_err(git_err("reading the tip's tree"))?;
    let sig = signature(who)?;
    let oid = repository
        .commit(Some(&refname), &sig, &sig, message, &tree, &[&tip])
        .map_err(git_err(format!("committing on {branch}")))?;
    Ok(CommitSha::from_oid(oid))
}

/// The commit `branch` points at.
pub fn branch_tip(repo: &Path, branch: &str) -> Result<CommitSha> {
    let repository = open(repo)?;
    Ok(CommitSha::from_oid(tip(&repository, branch)?.id()))
}

/// Moves `branch` back to `to` (the rollback of a marker commit whose handoff was refused).
pub fn reset_branch(repo: &Path, branch: &str, to: &CommitSha) -> Result<()> {
    let repository = open(repo)?;
    repository
        .reference(
            &format!("refs/heads/{branch}"),
            oid_of(to)?,
            true,
            "leo: handoff not recorded; marker commit rolled back",
        )
        .map_err(git_err(format!("resetting {branch}")))?;
    Ok(())
}

/// The result of applying a patch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedCommit {
    /// The new commit on the feature branch.
    pub commit: CommitSha,
    /// Its tree.
    pub tree: String,
}

/// Whether `branch` exists.
pub fn branch_exists(repo: &Path, branch: &str) -> Result<bool> {
    let repository = open(repo)?;
    Ok(repository
        .find_reference(&format!("refs/heads/{branch}"))
        .is_ok())
}

/// Applies `patch` to the tree of `merge_base`, commits the result with `message` (parent:
/// the merge-base), and creates `branch` at that commit. A hunk that does not apply is
/// [`Error::PatchConflict`] naming every file whose hunks fail on their own.
pub fn apply_on_new_branch(
    repo: &Path,
    merge_base: &CommitSha,
    patch: &[u8],
    branch: &str,
    message: &str,
    who: &str,
) -> Result<AppliedCommit> {
    if !branch.starts_with(FEATURE_PREFIX) {
        return Err(Error::BranchNotAllowed {
            branch: branch.to_owned(),
            prefix: FEATURE_PREFIX,
        });
    }
    let repository = open(repo)?;
    if repository
        .find_reference(&format!("refs/heads/{branch}"))
        .is_ok()
    {
        return Err(Error::BranchExists {
            branch: branch.to_owned(),
        });
    }
    let base = repository
        .find_commit(oid_of(merge_base)?)
        .map_err(git_err(format!("finding the merge-base {merge_base}")))?;
    let base_tree = base
        .tree()
        .map_err(git_err("reading the merge-base tree"))?;
    let diff = Diff::from_buffer(patch).map_err(git_err("parsing changes.patch"))?;
    let mut index = match repository.apply_to_tree(&base_tree, &diff, None) {
        Ok(index) => index,
        Err(_) => {
            return Err(Error::PatchConflict {
                paths: conflicting_paths(&repository, &base_tree, &diff),
            });
        }
    };
    let tree_oid = index
        .write_tree_to(&repository)
        .map_err(git_err("writing the applied tree"))?;
    let tree = repository
        .find_tree(tree_oid)
        .map_err(git_err("reading the applied tree"))?;
    let sig = signature(who)?;
    let oid = repository
        .commit(None, &sig, &sig, message, &tree, &[&base])
        .map_err(git_err("writing the applied commit"))?;
    let commit = repository
        .find_commit(oid)
        .map_err(git_err("reading the applied commit"))?;
    repository.branch(branch, &commit, false).map_err(|e| {
        if e.code() == git2::ErrorCode::Exists {
            Error::BranchExists {
                branch: branch.to_owned(),
            }
        } else {
            git_err(format!("creating {branch}"))(e)
        }
    })?;
    Ok(AppliedCommit {
        commit: CommitSha::from_oid(oid),
        tree: tree_oid.to_string(),
    })
}

/// The files of `diff` whose hunks do not apply to `tree` on their own; every file of the
/// patch if none fails alone (the conflict is between them).
fn conflicting_paths(
    repository: &Repository,
    tree: &git2::Tree<'_>,
    diff: &Diff<'_>,
) -> Vec<String> {
    let paths: Vec<String> = diff
        .deltas()
        .filter_map(|d| {
            d.new_file()
                .path()
                .or_else(|| d.old_file().path())
                .map(|p| p.to_string_lossy().into_owned())
        })
        .collect();
    let failing: Vec<String> = paths
        .iter()
        .filter(|path| {
            let mut opts = ApplyOptions::new();
            opts.delta_callback(|delta| {
                delta
                    .and_then(|d| d.new_file().path().or_else(|| d.old_file().path()))
                    .is_some_and(|p| p.to_string_lossy() == path.as_str())
            });
            repository
                .apply_to_tree(tree, diff, Some(&mut opts))
                .is_err()
        })
        .cloned()
        .collect();
    if failing.is_empty() { paths } else { failing }
}

/// Deletes `branch` (the rollback when the workflow refuses an apply after the branch was
/// created).
pub fn delete_branch(repo: &Path, branch: &str) -> Result<()> {
    let repository = open(repo)?;
    let mut reference = repository
        .find_reference(&format!("refs/heads/{branch}"))
        .map_err(git_err(format!("finding {branch}")))?;
    reference
        .delete()
        .map_err(git_err(format!("deleting {branch}")))
}

/// The tree id of `commit`, if the repository has that commit (the `git apply` peer check:
/// the applied tree must equal the builder's head tree).
pub fn tree_of(repo: &Path, commit: &CommitSha) -> Result<Option<String>> {
    let repository = open(repo)?;
    let found = repository.find_commit(oid_of(commit)?);
    Ok(found.ok().map(|c| c.tree_id().to_string()))
}

/// Moves `target` to `commit` if that is a fast-forward (the merge step of the demo).
pub fn fast_forward(repo: &Path, target: &str, commit: &CommitSha) -> Result<bool> {
    let repository = open(repo)?;
    let refname = format!("refs/heads/{target}");
    let current = tip(&repository, target)?;
    let new = oid_of(commit)?;
    let is_ff = repository
        .graph_descendant_of(new, current.id())
        .map_err(git_err("checking fast-forward"))?;
    if !is_ff {
        return Ok(false);
    }
    repository
        .reference(&refname, new, true, "leo: merge after PASS")
        .map_err(git_err(format!("updating {target}")))?;
    Ok(true)
}
