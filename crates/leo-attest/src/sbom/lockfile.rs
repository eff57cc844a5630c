//! Lockfile discovery and the package model shared by the per-ecosystem parsers.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Directories never searched for lockfiles: version control, build output, installed
/// dependencies and vendored third-party code (whose lockfiles describe someone else's
/// project, not this one).
pub const SKIPPED_DIRS: [&str; 6] = [".git", "target", "node_modules", ".venv", "venv", "vendor"];
/// How deep below the root lockfiles are searched.
pub const MAX_SEARCH_DEPTH: usize = 8;
/// The most lockfiles one SBOM is built from.
pub const MAX_LOCKFILES: usize = 256;
/// The largest lockfile read, in bytes.
pub const MAX_LOCKFILE_SIZE: u64 = 32 * 1024 * 1024;

/// A package ecosystem (the purl type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ecosystem {
    /// Rust crates (`Cargo.lock`).
    Cargo,
    /// npm packages (`package-lock.json`).
    Npm,
    /// Python packages (`requirements*.txt`, `poetry.lock`).
    Pypi,
}

impl Ecosystem {
    /// The purl type.
    pub const fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::Cargo => "cargo",
            Ecosystem::Npm => "npm",
            Ecosystem::Pypi => "pypi",
        }
    }

    /// The public registry that supplies packages of this ecosystem: (name, URL).
    pub const fn registry(self) -> (&'static str, &'static str) {
        match self {
            Ecosystem::Cargo => ("crates.io", "https://crates.io"),
            Ecosystem::Npm => ("npm registry", "https://www.npmjs.com"),
            Ecosystem::Pypi => ("PyPI", "https://pypi.org"),
        }
    }
}

/// A content hash from a lockfile, as CycloneDX algorithm name and lowercase hex.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PackageHash {
    /// CycloneDX algorithm name (`SHA-256`, `SHA-512`, `SHA-1`).
    pub alg: &'static str,
    /// Lowercase hex.
    pub hex: String,
}

/// One locked package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockedPackage {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Package name as the ecosystem spells it (npm: with `@scope/`).
    pub name: String,
    /// Locked version (`None` for an unpinned requirement).
    pub version: Option<String>,
    /// Package URL; also the component's `bom-ref`.
    pub purl: String,
    /// Hashes from the lockfile.
    pub hashes: Vec<PackageHash>,
    /// purls of the packages this one depends on.
    pub dependencies: Vec<String>,
    /// Whether the project itself depends on it directly.
    pub direct: bool,
    /// Whether it comes from the repository itself (workspace member, path dependency) rather
    /// than a registry or git.
    pub local: bool,
}

/// Percent-encodes a purl component the way the purl specification's "Character
/// encoding" section defines the canonical form: everything but the alphanumerics, the
/// punctuation `.-_~` and the colon `:` (which is never encoded) becomes `%XX`. So a `+` in
/// a version is `%2B` (`pkg:cargo/toml@0.9.12%2Bspec-1.1.0`); tools that leave it bare
/// (cargo-cyclonedx 0.5.9) name the same package, since purls compare after decoding.
pub fn purl_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `pkg:<type>/<namespace/>name@version` with each segment encoded.
pub fn purl(
    ecosystem: Ecosystem,
    namespace: Option<&str>,
    name: &str,
    version: Option<&str>,
) -> String {
    let mut out = format!("pkg:{}/", ecosystem.purl_type());
    if let Some(ns) = namespace {
        out.push_str(&purl_encode(ns));
        out.push('/');
    }
    out.push_str(&purl_encode(name));
    if let Some(v) = version {
        out.push('@');
        out.push_str(&purl_encode(v));
    }
    out
}

/// The kind of lockfile a file name denotes.
pub fn lockfile_kind(file_name: &str) -> Option<Ecosystem> {
    match file_name {
        "Cargo.lock" => Some(Ecosystem::Cargo),
        "package-lock.json" => Some(Ecosystem::Npm),
        "poetry.lock" => Some(Ecosystem::Pypi),
        n if n.starts_with("requirements") && n.ends_with(".txt") => Some(Ecosystem::Pypi),
        _ => None,
    }
}

/// Finds the lockfiles that belong to the tree at `root` (sorted, so output is
/// deterministic).
///
/// The rule: every `Cargo.lock`, `package-lock.json`, `poetry.lock` and `requirements*.txt`
/// at most [`MAX_SEARCH_DEPTH`] directories below `root`, except
/// - anything under a directory named in [`SKIPPED_DIRS`] (`target/`, `.git/`,
///   `node_modules/`, virtualenvs, `vendor/`),
/// - anything inside a nested git repository (a directory below `root` with its own `.git`:
///   a submodule or a checkout of another project), and
/// - when `root` is inside a git work tree, anything git ignores (`.gitignore`,
///   `.git/info/exclude`, the global excludes file): build output, scratch checkouts and
///   caches are not part of the repository at head. If `root` itself is ignored by the
///   enclosing repository, ignore rules are not applied: the caller asked for that tree.
pub fn find_lockfiles(root: &Path) -> Result<Vec<PathBuf>> {
    let ignore = GitIgnore::for_root(root);
    let mut found = Vec::new();
    walk(root, 0, ignore.as_ref(), &mut found)?;
    found.sort();
    Ok(found)
}

/// The git ignore rules of the work tree `root` is in.
struct GitIgnore {
    repo: git2::Repository,
    workdir: PathBuf,
}

impl GitIgnore {
    fn for_root(root: &Path) -> Option<Self> {
        let repo = git2::Repository::discover(root).ok()?;
        let workdir = repo.workdir()?.canonicalize().ok()?;
        let this = GitIgnore { repo, workdir };
        // Don't let an outer repository hide the very tree the caller asked for.
        (!this.ignores(root)).then_some(this)
    }

    fn ignores(&self, path: &Path) -> bool {
        let Ok(abs) = path.canonicalize() else {
            return false;
        };
        match abs.strip_prefix(&self.workdir) {
            Ok(rel) if rel.as_os_str().is_empty() => false,
            Ok(rel) => self.repo.is_path_ignored(rel).unwrap_or(false),
            Err(_) => false,
        }
    }
}

fn walk(
    dir: &Path,
    depth: usize,
    ignore: Option<&GitIgnore>,
    found: &mut Vec<PathBuf>,
) -> Result<()> {
    if depth > MAX_SEARCH_DEPTH {
        return Ok(());
    }
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::io(format!("listing {}", dir.display()), e))?;
    let mut entries: Vec<_> = entries.filter_map(std::result::Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if ignore.is_some_and(|i| i.ignores(&path)) {
            continue;
        }
        if kind.is_dir() {
            let nested_repo = path.join(".git").exists();
            if !SKIPPED_DIRS.contains(&name.as_str()) && !nested_repo {
                walk(&path, depth + 1, ignore, found)?;
            }
        } else if kind.is_file() && lockfile_kind(&name).is_some() {
            if found.len() >= MAX_LOCKFILES {
                return Err(Error::SbomGeneration {
                    reason: format!(
                        "more than {MAX_LOCKFILES} lockfiles below {}",
                        dir.display()
                    ),
                });
            }
            found.push(path);
        }
    }
    Ok(())
}

/// Reads a lockfile as UTF-8 text, size-limited.
pub fn read_lockfile(path: &Path) -> Result<String> {
    let meta =
        std::fs::metadata(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    if meta.len() > MAX_LOCKFILE_SIZE {
        return Err(Error::InvalidLockfile {
            path: path.to_owned(),
            reason: format!("larger than {MAX_LOCKFILE_SIZE} bytes"),
        });
    }
    let bytes =
        std::fs::read(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    String::from_utf8(bytes).map_err(|_| Error::InvalidLockfile {
        path: path.to_owned(),
        reason: "not UTF-8".into(),
    })
}

/// Parses one lockfile of any supported kind.
pub fn parse_lockfile(path: &Path) -> Result<Vec<LockedPackage>> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = read_lockfile(path)?;
    let invalid = |reason: String| Error::InvalidLockfile {
        path: path.to_owned(),
        reason,
    };
    match name.as_str() {
        "Cargo.lock" => super::cargo::parse(&text).map_err(invalid),
        "package-lock.json" => super::npm::parse(&text).map_err(invalid),
        "poetry.lock" => super::python::parse_poetry(&text).map_err(invalid),
        _ if lockfile_kind(&name) == Some(Ecosystem::Pypi) => {
            super::python::parse_requirements(&text).map_err(invalid)
        }
        _ => Err(invalid("not a supported lockfile".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_are_encoded() {
        assert_eq!(
            purl(Ecosystem::Npm, Some("@types"), "node", Some("20.1.0")),
            "pkg:npm/%40types/node@20.1.0"
        );
        assert_eq!(
            purl(Ecosystem::Cargo, None, "serde", Some("1.0.0+x")),
            "pkg:cargo/serde@1.0.0%2Bx"
        );
        assert_eq!(
            purl(Ecosystem::Pypi, None, "requests", None),
            "pkg:pypi/requests"
        );
        // The colon is never encoded; everything outside `A-Za-z0-9.-_~:` is.
        assert_eq!(
            purl_encode("git+https://h/p?rev=1 x"),
            "git%2Bhttps:%2F%2Fh%2Fp%3Frev%3D1%20x"
        );
    }

    #[test]
    fn lockfile_names() {
        assert_eq!(lockfile_kind("requirements-dev.txt"), Some(Ecosystem::Pypi));
        assert_eq!(lockfile_kind("Cargo.toml"), None);
    }
}
