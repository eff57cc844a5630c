//! Test support for the leo-* crates (dev-dependency only).
//!
//! ```
//! // Vectors live outside the repository; tests find them through `LEO_VECTORS`.
//! if let Some(dir) = leo_testkit::vectors_dir() {
//!     assert!(dir.join("README.md").exists());
//! }
//! ```

// Test support: a failed setup step must stop the test loudly, so panicking is the design here.
#![allow(clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (two levels above this crate's manifest).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Whether the tests run under CI (`CI=true`), where missing inputs are failures, not skips.
pub fn under_ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

/// The third-party vectors folder: `$LEO_VECTORS`, else `../shared/vectors` from the workspace
/// root. `None` (with a one-line message) when it is missing outside CI.
///
/// # Panics
///
/// Under `CI=true` when the folder is missing: CI must never skip the vector tests.
pub fn vectors_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("LEO_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/vectors"));
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        !under_ci(),
        "vectors folder {} is missing under CI=true",
        dir.display()
    );
    eprintln!("skipping: no vectors folder at {}", dir.display());
    None
}

/// A path below the vectors folder, or `None` (skip) as [`vectors_dir`] decides.
pub fn vector(rel: &str) -> Option<PathBuf> {
    vectors_dir().map(|d| d.join(rel))
}

/// Whether an external program is on `PATH`; under CI a missing required tool panics.
///
/// # Panics
///
/// Under `CI=true` when the program is missing.
pub fn require_tool(program: &str) -> bool {
    // Most tools answer `--version`; openssl only answers `version`.
    let found = ["--version", "version"].iter().any(|flag| {
        Command::new(program)
            .arg(flag)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    });
    assert!(found || !under_ci(), "{program} is required under CI=true");
    if !found {
        eprintln!("skipping: {program} not found");
    }
    found
}

/// A scratch git repository driven by the real `git` binary, for tests.
#[derive(Debug)]
pub struct ScratchRepo {
    dir: tempfile::TempDir,
}

impl ScratchRepo {
    /// `git init` in a fresh temporary directory with a fixed identity and `main` branch.
    ///
    /// # Panics
    ///
    /// If the temporary directory or `git init` fails (test setup only).
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = ScratchRepo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "LEO Test"]);
        repo.git(&["config", "user.email", "test@leo.invalid"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo
    }

    /// The repository's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs git in the repository with fixed dates; returns trimmed stdout.
    ///
    /// # Panics
    ///
    /// If git fails (test setup only).
    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.path())
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Writes a file (creating directories).
    ///
    /// # Panics
    ///
    /// On I/O failure (test setup only).
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let p = self.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, contents).expect("write");
    }

    /// `git add -A && git commit`; returns the new commit id.
    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }
}

impl Default for ScratchRepo {
    fn default() -> Self {
        Self::new()
    }
}
