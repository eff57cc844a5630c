//! The demo's scratch repository, made with libgit2 (no `git` binary): a small Rust crate on
//! `main`, and a real change on `staging/codex-demo` that uses a locked dependency.

use std::path::Path;

use git2::{IndexAddOption, Repository, RepositoryInitOptions, Signature};
use leo_artifact::CommitSha;

use crate::error::{Error, Result};

const CARGO_TOML: &str = "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nitoa = \"1\"\n";

const CARGO_LOCK: &str = "version = 3\n\n[[package]]\nname = \"hello\"\nversion = \"0.1.0\"\ndependencies = [\"itoa\"]\n\n[[package]]\nname = \"itoa\"\nversion = \"1.0.11\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"49f1f14873335454500d59611f1cf4a4b0f786f9ac11f4659800b56d3e2d84a3\"\n";

const MAIN_BEFORE: &str = "fn main() {\n    println!(\"hello\");\n}\n";

const MAIN_AFTER: &str = "fn main() {\n    let mut b = itoa::Buffer::new();\n    println!(\"hello {}\", b.format(42));\n}\n";

/// The base branch.
pub const MAIN: &str = "main";
/// The builder's branch.
pub const STAGING: &str = "staging/codex-demo";

/// The scratch repository's commits.
#[derive(Clone, Debug)]
pub struct Scratch {
    /// The initial import on `main`.
    pub base: CommitSha,
    /// The change on `staging/codex-demo`.
    pub head: CommitSha,
}

fn git_err(context: &str) -> impl FnOnce(git2::Error) -> Error + '_ {
    move |e| {
        Error::Artifact(leo_artifact::Error::Git {
            context: context.to_owned(),
            message: e.message().to_owned(),
        })
    }
}

fn write(root: &Path, rel: &str, contents: &str) -> Result<()> {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| {
            Error::Artifact(leo_artifact::Error::Io {
                context: format!("creating {}", parent.display()),
                source,
            })
        })?;
    }
    leo_artifact::fsutil::write_bytes_atomically(&path, contents.as_bytes())?;
    Ok(())
}

fn commit_all(repo: &Repository, message: &str) -> Result<CommitSha> {
    let mut index = repo.index().map_err(git_err("opening the index"))?;
    index
        .add_all(["*"], IndexAddOption::DEFAULT, None)
        .map_err(git_err("adding files"))?;
    index.write().map_err(git_err("writing the index"))?;
    let tree_id = index.write_tree().map_err(git_err("writing the tree"))?;
    let tree = repo
        .find_tree(tree_id)
        .map_err(git_err("reading the tree"))?;
    let sig = Signature::now("Codex (builder lane)", "codex@leo.invalid")
        .map_err(git_err("making the signature"))?;
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    let oid = repo
        .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
        .map_err(git_err("committing"))?;
    Ok(CommitSha::from_oid(oid))
}

/// Creates the repository at `dir` (which must not be a repository yet): the import on
/// `main`, then `staging/codex-demo` checked out with the change committed.
pub fn create(dir: &Path) -> Result<Scratch> {
    let mut opts = RepositoryInitOptions::new();
    opts.initial_head(MAIN);
    let repo = Repository::init_opts(dir, &opts).map_err(git_err("initialising the repository"))?;
    write(dir, "Cargo.toml", CARGO_TOML)?;
    write(dir, "Cargo.lock", CARGO_LOCK)?;
    write(dir, "src/main.rs", MAIN_BEFORE)?;
    let base = commit_all(&repo, "Initial import")?;
    let base_commit = repo
        .find_commit(git2::Oid::from_str(base.as_str()).map_err(git_err("parsing the base"))?)
        .map_err(git_err("reading the base"))?;
    repo.branch(STAGING, &base_commit, false)
        .map_err(git_err("creating the staging branch"))?;
    repo.set_head(&format!("refs/heads/{STAGING}"))
        .map_err(git_err("checking out the staging branch"))?;
    write(dir, "src/main.rs", MAIN_AFTER)?;
    let head = commit_all(&repo, "Print a number")?;
    Ok(Scratch { base, head })
}

/// Creates `branch` at `commit` (the tampered run's staging branch).
pub fn branch_at(dir: &Path, branch: &str, commit: &CommitSha) -> Result<()> {
    let repo = Repository::open(dir).map_err(git_err("opening the repository"))?;
    let oid = git2::Oid::from_str(commit.as_str()).map_err(git_err("parsing the commit"))?;
    let c = repo
        .find_commit(oid)
        .map_err(git_err("reading the commit"))?;
    repo.branch(branch, &c, false)
        .map_err(git_err("creating the branch"))?;
    Ok(())
}
