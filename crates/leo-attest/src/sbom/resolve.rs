//! Which packages of a tree's lockfiles an SBOM lists, and how each lockfile was read.
//!
//! Lockfiles are found with [`find_lockfiles`]. A `Cargo.lock` next to a `Cargo.toml` is a
//! Cargo workspace: it is resolved through `cargo metadata` (see
//! [`cargo_metadata`](super::cargo_metadata)) so that only what the workspace builds for the
//! target is listed, unless the [`Resolver`] says otherwise or `cargo` is not installed. A
//! cargo-fuzz workspace is test tooling and is skipped. Every other lockfile is read as it
//! is.

use std::path::{Path, PathBuf};

use super::cargo_metadata::{self, MetadataFailure, default_cargo};
use super::lockfile::{LockedPackage, find_lockfiles, parse_lockfile};
use crate::error::Result;

/// How Cargo workspaces are turned into components.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CargoResolution {
    /// `cargo metadata` when `cargo` can be started; when it cannot (not installed), every
    /// package of `Cargo.lock`, and the SBOM says so. The default.
    #[default]
    Auto,
    /// Always `cargo metadata`; a missing `cargo` is an error.
    CargoMetadata,
    /// Every package of `Cargo.lock` (all targets, all features, dev-dependencies): a
    /// superset of what is built, needing no `cargo`.
    Lockfile,
}

/// How lockfiles are resolved into components.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolver {
    /// How Cargo workspaces are resolved.
    pub cargo_resolution: CargoResolution,
    /// The `cargo` program (default: `$CARGO`, else `cargo` on `PATH`).
    pub cargo: PathBuf,
    /// The target triple whose dependencies count (default: the host, from `cargo -vV`).
    pub target: Option<String>,
    /// Whether cargo-fuzz workspaces are listed too (default: no, they are test tooling).
    pub include_fuzz: bool,
}

impl Default for Resolver {
    fn default() -> Self {
        Resolver {
            cargo_resolution: CargoResolution::Auto,
            cargo: default_cargo(),
            target: None,
            include_fuzz: false,
        }
    }
}

/// How one lockfile was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Resolved by `cargo metadata` for this target triple.
    CargoMetadata {
        /// The target triple.
        target: String,
    },
    /// Read as it is.
    Lockfile,
    /// Read as it is because `cargo` could not be started.
    LockfileWithoutCargo {
        /// Why `cargo` could not be started.
        reason: String,
    },
    /// Left out: a cargo-fuzz workspace.
    SkippedFuzz,
}

impl std::fmt::Display for Resolution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resolution::CargoMetadata { target } => write!(
                f,
                "cargo metadata --filter-platform {target} (default features, no dev-dependencies)"
            ),
            Resolution::Lockfile => f.write_str("lockfile"),
            Resolution::LockfileWithoutCargo { reason } => {
                write!(f, "lockfile, every package (cargo unavailable: {reason})")
            }
            Resolution::SkippedFuzz => f.write_str("skipped (cargo-fuzz workspace)"),
        }
    }
}

/// One lockfile that went into an SBOM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockfileSource {
    /// Its path relative to the root.
    pub path: PathBuf,
    /// How it was read.
    pub resolution: Resolution,
}

/// The packages of the tree at `root` and how each lockfile was read.
pub fn collect_packages(
    root: &Path,
    resolver: &Resolver,
) -> Result<(Vec<LockedPackage>, Vec<LockfileSource>)> {
    let mut packages = Vec::new();
    let mut sources = Vec::new();
    let mut host: Option<String> = resolver.target.clone();
    for lockfile in find_lockfiles(root)? {
        let rel = lockfile.strip_prefix(root).unwrap_or(&lockfile).to_owned();
        let manifest = lockfile.with_file_name("Cargo.toml");
        let workspace =
            lockfile.file_name().is_some_and(|n| n == "Cargo.lock") && manifest.is_file();
        if workspace && !resolver.include_fuzz && cargo_metadata::is_cargo_fuzz(&manifest) {
            sources.push(LockfileSource {
                path: rel,
                resolution: Resolution::SkippedFuzz,
            });
            continue;
        }
        let locked = parse_lockfile(&lockfile)?;
        if !workspace || resolver.cargo_resolution == CargoResolution::Lockfile {
            packages.extend(locked);
            sources.push(LockfileSource {
                path: rel,
                resolution: Resolution::Lockfile,
            });
            continue;
        }
        match resolve_cargo(resolver, &manifest, &locked, &mut host) {
            Ok((resolved, target)) => {
                packages.extend(resolved);
                sources.push(LockfileSource {
                    path: rel,
                    resolution: Resolution::CargoMetadata { target },
                });
            }
            Err(MetadataFailure::CargoUnavailable(reason))
                if resolver.cargo_resolution == CargoResolution::Auto =>
            {
                packages.extend(locked);
                sources.push(LockfileSource {
                    path: rel,
                    resolution: Resolution::LockfileWithoutCargo { reason },
                });
            }
            Err(failure) => return Err(cargo_metadata::into_error(&lockfile, failure)),
        }
    }
    Ok((packages, sources))
}

fn resolve_cargo(
    resolver: &Resolver,
    manifest: &Path,
    locked: &[LockedPackage],
    host: &mut Option<String>,
) -> std::result::Result<(Vec<LockedPackage>, String), MetadataFailure> {
    let dir = manifest.parent().unwrap_or(Path::new("."));
    let target = match host {
        Some(t) => t.clone(),
        None => {
            let t = cargo_metadata::host_target(&resolver.cargo, dir)?;
            *host = Some(t.clone());
            t
        }
    };
    let resolved = cargo_metadata::resolve(&resolver.cargo, manifest, &target, locked)?;
    Ok((resolved, target))
}
