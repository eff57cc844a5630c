//! Patches from libgit2 are accepted by the real `git apply` on a checkout at the merge-base.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Command;

use leo_artifact::{Error, create_patch, rollback_notes};
use leo_testkit::ScratchRepo;

fn change_with_every_kind_of_file() -> (ScratchRepo, String) {
    let repo = ScratchRepo::new();
    repo.write("src/lib.rs", "fn a() {}\nfn b() {}\nfn c() {}\n");
    repo.write("README.md", "hello\n");
    repo.write(
        "old/name.txt",
        "a file that will move, long enough to be detected as a rename\n".repeat(5),
    );
    repo.write("gone.txt", "bye\n");
    repo.write(
        "logo.bin",
        (0u8..=255).cycle().take(3000).collect::<Vec<_>>(),
    );
    let base = repo.commit_all("base");
    repo.git(&["checkout", "-q", "-b", "staging/codex-feature"]);
    repo.write(
        "src/lib.rs",
        "fn a() {}\nfn b() { println!(\"changed\"); }\nfn c() {}\n",
    );
    repo.write("src/new.rs", "pub fn new() {}\n");
    std::fs::create_dir_all(repo.path().join("new")).unwrap();
    repo.git(&["mv", "old/name.txt", "new/name.txt"]);
    repo.git(&["rm", "-q", "gone.txt"]);
    repo.write(
        "logo.bin",
        (0u8..=255).rev().cycle().take(3100).collect::<Vec<_>>(),
    );
    repo.write("blob.dat", [0u8, 1, 2, 0, 255, 254]);
    repo.commit_all("feature");
    // Main moves on after the branch point: the patch must still be against the merge-base.
    repo.git(&["checkout", "-q", "main"]);
    repo.write("README.md", "hello, main moved on\n");
    repo.commit_all("main moves");
    (repo, base)
}

#[test]
fn git_apply_accepts_the_patch_and_reproduces_head() {
    if !leo_testkit::require_tool("git") {
        return;
    }
    let (repo, base) = change_with_every_kind_of_file();
    let patch = create_patch(repo.path(), "main", "staging/codex-feature").unwrap();
    assert_eq!(patch.revisions.merge_base.as_str(), base);
    let text = String::from_utf8_lossy(&patch.bytes);
    assert!(text.contains("rename from old/name.txt"), "{text}");
    assert!(text.contains("GIT binary patch"), "{text}");
    // Full index lines.
    assert!(
        text.lines()
            .any(|l| l.starts_with("index ") && l.len() >= 6 + 40 + 2 + 40),
        "{text}"
    );
    let statuses: Vec<_> = patch.files.iter().map(|f| f.status).collect();
    for s in ["added", "deleted", "modified", "renamed"] {
        assert!(statuses.contains(&s), "{s} missing from {statuses:?}");
    }

    // A fresh checkout at the merge-base.
    let work = tempfile::tempdir().unwrap();
    let status = Command::new("git")
        .args(["clone", "-q"])
        .arg(repo.path())
        .arg(work.path())
        .status()
        .unwrap();
    assert!(status.success());
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(work.path())
            .output()
            .unwrap()
    };
    assert!(git(&["checkout", "-q", &base]).status.success());
    let patch_path = work.path().join("../leo-test-changes.patch");
    std::fs::write(&patch_path, &patch.bytes).unwrap();
    let check = git(&["apply", "--check", "--index", patch_path.to_str().unwrap()]);
    assert!(
        check.status.success(),
        "git apply --check: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        git(&["apply", "--index", patch_path.to_str().unwrap()])
            .status
            .success()
    );
    // The tree now equals head's tree exactly.
    let diff = git(&[
        "diff",
        "--cached",
        "--exit-code",
        "origin/staging/codex-feature",
    ]);
    assert!(
        diff.status.success(),
        "tree differs from head: {}",
        String::from_utf8_lossy(&diff.stdout)
    );
    // And the rollback notes' reverse command undoes it.
    let notes = rollback_notes(&patch.revisions, &patch.files);
    assert!(notes.contains("git apply -R changes.patch") && notes.contains(&base));
    assert!(
        git(&["apply", "-R", "--index", patch_path.to_str().unwrap()])
            .status
            .success()
    );
    assert!(
        git(&["diff", "--cached", "--exit-code", &base])
            .status
            .success()
    );
    std::fs::remove_file(patch_path).unwrap();
}

#[test]
fn unknown_revision_and_empty_change_are_typed_errors() {
    let repo = ScratchRepo::new();
    repo.write("a", "a\n");
    repo.commit_all("one");
    let err = create_patch(repo.path(), "main", "no-such-branch").unwrap_err();
    assert!(
        matches!(err, Error::RevisionNotFound { ref rev, .. } if rev == "no-such-branch"),
        "{err}"
    );
    let err = create_patch(repo.path(), "main", "main").unwrap_err();
    assert!(matches!(err, Error::EmptyChange { .. }), "{err}");
}

#[test]
fn unrelated_histories_have_no_merge_base() {
    let repo = ScratchRepo::new();
    repo.write("a", "a\n");
    repo.commit_all("one");
    repo.git(&["checkout", "-q", "--orphan", "other"]);
    repo.write("b", "b\n");
    repo.commit_all("two");
    let err = create_patch(repo.path(), "main", "other").unwrap_err();
    assert!(matches!(err, Error::NoMergeBase { .. }), "{err}");
}
