//! The git operations of the two lanes, with libgit2 (no `git` binary): the builder's marker
//! commit, and the enforcer's apply onto a new `feature/*` branch.
//!
//! Nothing here moves a reference as a side effect of writing a commit: commits are written
//! unreferenced ([`marker_commit`], [`apply_patch`], working on trees in memory, never on a
//! work tree or the index file), the caller records the step, and only then moves a branch
//! ([`move_branch`], a compare-and-swap on the expected old tip) or creates one
//! ([`create_branch`], refusing to overwrite). An unrecorded step leaves only unreachable
//! objects, which `git gc` collects.

use std::path::Path;

use git2::{Diff, ErrorCode, Oid, Repository, Signature};
use leo_artifact::CommitSha;
use leo_store::Role;

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

/// The commit author and committer of a lane: its name and a non-routable address.
fn signature(role: Role) -> Result<Signature<'static>> {
    let (name, email) = match role {
        Role::Codex => ("Codex (builder lane)", "codex@leo.invalid"),
        Role::ClaudeExec => ("Claude (enforcer lane)", "claude@leo.invalid"),
        Role::Plan => ("Plan (supervisor)", "plan@leo.invalid"),
        Role::Lead => ("Lead", "lead@leo.invalid"),
        Role::System => ("LEO", "system@leo.invalid"),
    };
    Signature::now(name, email).map_err(git_err("making the commit signature"))
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

/// Writes a commit with `message` on top of `parent` with the parent's tree (a marker
/// commit, as `git commit --allow-empty`), authored as `role`, without moving any branch:
/// [`move_branch`] moves one once the step is recorded.
pub fn marker_commit(
    repo: &Path,
    parent: &CommitSha,
    message: &str,
    role: Role,
) -> Result<CommitSha> {
    let repository = open(repo)?;
    let parent = repository
        .find_commit(oid_of(parent)?)
        .map_err(git_err(format!("finding {parent}")))?;
    let tree = parent
        .tree()
        .map_err(git_err("reading the parent's tree"))?;
    let sig = signature(role)?;
    let oid = repository
        .commit(None, &sig, &sig, message, &tree, &[&parent])
        .map_err(git_err("writing the marker commit"))?;
    Ok(CommitSha::from_oid(oid))
}

/// The commit `branch` points at.
pub fn branch_tip(repo: &Path, branch: &str) -> Result<CommitSha> {
    let repository = open(repo)?;
    Ok(CommitSha::from_oid(tip(&repository, branch)?.id()))
}

/// Moves `branch` from `expected` to `to`, atomically: if the branch is anywhere but at
/// `expected` when the move happens, nothing moves and the error is [`Error::HeadMoved`].
pub fn move_branch(
    repo: &Path,
    branch: &str,
    expected: &CommitSha,
    to: &CommitSha,
    log_message: &str,
) -> Result<()> {
    let repository = open(repo)?;
    let refname = format!("refs/heads/{branch}");
    match repository.reference_matching(&refname, oid_of(to)?, true, oid_of(expected)?, log_message)
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == ErrorCode::Modified || e.code() == ErrorCode::NotFound => {
            let actual = match repository.refname_to_id(&refname) {
                Ok(id) => id.to_string(),
                Err(e) if e.code() == ErrorCode::NotFound => "nowhere (no such branch)".into(),
                Err(e) => return Err(git_err(format!("reading {branch}"))(e)),
            };
            Err(Error::HeadMoved {
                branch: branch.to_owned(),
                expected: expected.clone(),
                actual,
            })
        }
        Err(e) => Err(git_err(format!("moving {branch}"))(e)),
    }
}

/// Creates `branch` at `commit`; [`Error::BranchExists`] if it exists by then (nothing is
/// overwritten).
pub fn create_branch(repo: &Path, branch: &str, commit: &CommitSha) -> Result<()> {
    let repository = open(repo)?;
    repository
        .reference(
            &format!("refs/heads/{branch}"),
            oid_of(commit)?,
            false,
            "leo: apply recorded",
        )
        .map(|_| ())
        .map_err(|e| {
            if e.code() == ErrorCode::Exists {
                Error::BranchExists {
                    branch: branch.to_owned(),
                }
            } else {
                git_err(format!("creating {branch}"))(e)
            }
        })
}

/// The result of applying a patch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedCommit {
    /// The new commit (no branch points at it yet).
    pub commit: CommitSha,
    /// Its tree.
    pub tree: String,
}

/// Whether `branch` exists. Only git's "not found" means absent; any other failure to read
/// the reference is an error.
pub fn branch_exists(repo: &Path, branch: &str) -> Result<bool> {
    let repository = open(repo)?;
    exists(&repository, branch)
}

fn exists(repository: &Repository, branch: &str) -> Result<bool> {
    match repository.find_reference(&format!("refs/heads/{branch}")) {
        Ok(_) => Ok(true),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(false),
        Err(e) => Err(git_err(format!("reading branch {branch}"))(e)),
    }
}

/// Applies `patch` to the tree of `merge_base` and writes the commit with `message`
/// (parent: the merge-base, author: `role`) without creating any branch ([`create_branch`]
/// does, once the apply is recorded). `branch` is checked first: it must be a `feature/*`
/// name that does not exist yet. A hunk that does not apply is [`Error::PatchConflict`]
/// naming the files whose hunks fail.
pub fn apply_patch(
    repo: &Path,
    merge_base: &CommitSha,
    patch: &[u8],
    branch: &str,
    message: &str,
    role: Role,
) -> Result<AppliedCommit> {
    if !branch.starts_with(FEATURE_PREFIX) {
        return Err(Error::BranchNotAllowed {
            branch: branch.to_owned(),
            prefix: FEATURE_PREFIX,
        });
    }
    let repository = open(repo)?;
    if exists(&repository, branch)? {
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
                paths: conflicting_paths(&repository, &base_tree, patch),
            });
        }
    };
    let tree_oid = index
        .write_tree_to(&repository)
        .map_err(git_err("writing the applied tree"))?;
    let tree = repository
        .find_tree(tree_oid)
        .map_err(git_err("reading the applied tree"))?;
    let sig = signature(role)?;
    let oid = repository
        .commit(None, &sig, &sig, message, &tree, &[&base])
        .map_err(git_err("writing the applied commit"))?;
    Ok(AppliedCommit {
        commit: CommitSha::from_oid(oid),
        tree: tree_oid.to_string(),
    })
}

/// Most files of a conflicting patch that are named one by one; past it the conflict names
/// the first ones and says how many more there are.
pub const MAX_CONFLICT_FILES: usize = 1000;

/// The path a delta is about (new name, else old).
fn delta_path(delta: &git2::DiffDelta<'_>) -> Option<String> {
    delta
        .new_file()
        .path()
        .or_else(|| delta.old_file().path())
        .map(|p| p.to_string_lossy().into_owned())
}

/// `patch` cut into its files: each piece starts at a `diff --git ` line and holds that
/// file's headers and hunks exactly as written.
fn split_files(patch: &[u8]) -> Vec<&[u8]> {
    const FILE_HEADER: &[u8] = b"diff --git ";
    let mut starts = Vec::new();
    let mut line_start = 0;
    for (i, b) in patch.iter().enumerate() {
        if line_start == i
            && patch
                .get(i..)
                .is_some_and(|rest| rest.starts_with(FILE_HEADER))
        {
            starts.push(i);
        }
        if *b == b'\n' {
            line_start = i + 1;
        }
    }
    starts.push(patch.len());
    starts
        .windows(2)
        .filter_map(|w| match w {
            [from, to] => patch.get(*from..*to),
            _ => None,
        })
        .collect()
}

/// The files of `patch` whose hunks do not apply to `tree`, in one pass: each file's piece
/// of the patch is parsed and applied on its own, once, so the work is linear in the patch.
/// Every file is named if none fails alone (the conflict is between them). At most
/// [`MAX_CONFLICT_FILES`] files are checked by name; past that the list says how many more.
fn conflicting_paths(repository: &Repository, tree: &git2::Tree<'_>, patch: &[u8]) -> Vec<String> {
    let files = split_files(patch);
    let mut paths = Vec::new();
    let mut failing = Vec::new();
    for piece in files.iter().take(MAX_CONFLICT_FILES) {
        let Ok(single) = Diff::from_buffer(piece) else {
            continue;
        };
        let Some(path) = single.deltas().next().as_ref().and_then(delta_path) else {
            continue;
        };
        if repository.apply_to_tree(tree, &single, None).is_err() {
            failing.push(path.clone());
        }
        paths.push(path);
    }
    let mut out = if failing.is_empty() { paths } else { failing };
    if files.len() > MAX_CONFLICT_FILES {
        out.push(format!(
            "… and {} more files not checked one by one",
            files.len() - MAX_CONFLICT_FILES
        ));
    }
    out
}

/// The tree id of `commit`, if the repository has that commit (the `git apply` peer check:
/// the applied tree must equal the builder's head tree).
pub fn tree_of(repo: &Path, commit: &CommitSha) -> Result<Option<String>> {
    let repository = open(repo)?;
    match repository.find_commit(oid_of(commit)?) {
        Ok(c) => Ok(Some(c.tree_id().to_string())),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(git_err(format!("reading commit {commit}"))(e)),
    }
}

/// Moves `target` to `commit` if that is a fast-forward (the merge step of the demo), and
/// only from the tip the check was made on.
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
        .reference_matching(&refname, new, true, current.id(), "leo: merge after PASS")
        .map_err(git_err(format!("updating {target}")))?;
    Ok(true)
}
