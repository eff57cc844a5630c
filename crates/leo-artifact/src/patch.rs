//! `changes.patch`: the unified diff from the merge-base of `base..head` to `head`, made with
//! libgit2 (vendored, no network features) so no `git` binary is needed.
//!
//! The patch carries full 40-character index lines, detects renames, and writes binary files
//! as git binary patches, so `git apply` on a checkout at the merge-base reproduces `head`'s
//! tree exactly.

use std::path::{Path, PathBuf};

use git2::{Delta, DiffFindOptions, DiffFormat, DiffOptions, Oid, Repository};

use crate::commit::CommitSha;
use crate::error::{Error, Result};
use crate::writer::Revisions;

/// How one file changed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileChange {
    /// `added`, `deleted`, `modified`, `renamed`, `copied` or `typechange`.
    pub status: &'static str,
    /// The path before the change (absent for additions).
    pub old_path: Option<String>,
    /// The path after the change (absent for deletions).
    pub new_path: Option<String>,
    /// Whether git considers the file binary.
    pub binary: bool,
}

/// A patch and what it was made from.
#[derive(Clone, Debug)]
pub struct Patch {
    /// The revisions.
    pub revisions: Revisions,
    /// The unified diff bytes.
    pub bytes: Vec<u8>,
    /// The files it touches, in diff order.
    pub files: Vec<FileChange>,
    /// The head commit's committer time (seconds since the epoch): the default bundle time.
    pub head_time: i64,
}

/// Makes the patch for `base..head` in the repository at `repo`.
pub fn create_patch(repo: &Path, base: &str, head: &str) -> Result<Patch> {
    let repository = Repository::open(repo)
        .map_err(|e| Error::git(format!("opening {}", repo.display()), &e))?;
    let base_oid = resolve(&repository, repo, base)?;
    let head_oid = resolve(&repository, repo, head)?;
    let merge_base = repository
        .merge_base(base_oid, head_oid)
        .map_err(|_| Error::NoMergeBase {
            base: base.to_owned(),
            head: head.to_owned(),
        })?;
    let tree_of = |oid: Oid| {
        repository
            .find_commit(oid)
            .and_then(|c| c.tree())
            .map_err(|e| Error::git(format!("reading the tree of {oid}"), &e))
    };
    let mb_tree = tree_of(merge_base)?;
    let head_commit = repository
        .find_commit(head_oid)
        .map_err(|e| Error::git("reading the head commit", &e))?;
    let head_tree = tree_of(head_oid)?;

    let mut opts = DiffOptions::new();
    opts.show_binary(true).id_abbrev(40).context_lines(3);
    let mut diff = repository
        .diff_tree_to_tree(Some(&mb_tree), Some(&head_tree), Some(&mut opts))
        .map_err(|e| Error::git("diffing merge-base to head", &e))?;
    let mut find = DiffFindOptions::new();
    find.renames(true);
    diff.find_similar(Some(&mut find))
        .map_err(|e| Error::git("detecting renames", &e))?;

    let files: Vec<FileChange> = diff
        .deltas()
        .map(|d| FileChange {
            status: status_name(d.status()),
            old_path: (d.status() != Delta::Added)
                .then(|| d.old_file().path().map(path_string))
                .flatten(),
            new_path: (d.status() != Delta::Deleted)
                .then(|| d.new_file().path().map(path_string))
                .flatten(),
            binary: d.flags().is_binary(),
        })
        .collect();

    let revisions = Revisions {
        base: CommitSha::from_oid(base_oid),
        head: CommitSha::from_oid(head_oid),
        merge_base: CommitSha::from_oid(merge_base),
    };
    if files.is_empty() {
        return Err(Error::EmptyChange {
            merge_base: revisions.merge_base.to_string(),
            head: revisions.head.to_string(),
        });
    }

    let mut bytes = Vec::new();
    diff.print(DiffFormat::Patch, |_delta, _hunk, line| {
        if matches!(line.origin(), '+' | '-' | ' ') {
            bytes.push(line.origin() as u8);
        }
        bytes.extend_from_slice(line.content());
        true
    })
    .map_err(|e| Error::git("formatting the patch", &e))?;

    Ok(Patch {
        revisions,
        bytes,
        files,
        head_time: head_commit.time().seconds(),
    })
}

fn resolve(repository: &Repository, repo: &Path, rev: &str) -> Result<Oid> {
    repository
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map(|c| c.id())
        .map_err(|_| Error::RevisionNotFound {
            rev: rev.to_owned(),
            repo: PathBuf::from(repo),
        })
}

fn path_string(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn status_name(d: Delta) -> &'static str {
    match d {
        Delta::Added => "added",
        Delta::Deleted => "deleted",
        Delta::Modified => "modified",
        Delta::Renamed => "renamed",
        Delta::Copied => "copied",
        Delta::Typechange => "typechange",
        _ => "other",
    }
}
