//! Cargo workspaces resolved the way Cargo builds them, through `cargo metadata`.
//!
//! `Cargo.lock` lists every package any feature, target or dev-dependency of the workspace
//! could need. What the workspace actually builds is narrower: `cargo metadata
//! --format-version 1 --locked --offline --filter-platform <host>` resolves the graph for the
//! host target with default features, and the SBOM keeps the packages reachable from the
//! workspace members over normal and build edges (dev-only edges are dropped). That is the
//! set `cargo cyclonedx` (0.5.9) reports, and what `cargo build` on the host compiles.
//!
//! Trust: Cargo reads the tree's `.cargo/config.toml` and asks `rustc` for the target's
//! `cfg` values, so resolve only trees you would build. As defence in depth the rustc
//! wrappers a config file could name are cleared (`RUSTC_WRAPPER`,
//! `RUSTC_WORKSPACE_WRAPPER`: environment variables take precedence over config files), and
//! `--offline` keeps Cargo off the network.
//!
//! The output format (`--format-version 1`) is stable; the handful of fields read here are
//! parsed directly with serde rather than through the `cargo_metadata` crate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use super::cargo::cargo_purl;
use super::lockfile::{Ecosystem, LockedPackage, read_lockfile};
use crate::error::Error;

/// The largest `cargo metadata` output read, in bytes (this workspace's is about 2 MiB).
pub const MAX_METADATA_SIZE: usize = 256 * 1024 * 1024;

/// Where `cargo` is found: `$CARGO` (set when running under cargo) or `cargo` on `PATH`.
pub fn default_cargo() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from)
}

/// Why `cargo metadata` could not resolve a workspace.
#[derive(Debug)]
pub(super) enum MetadataFailure {
    /// The `cargo` program is not installed: the caller may fall back
    /// to reading the lockfile.
    CargoUnavailable(String),
    /// Cargo ran and failed, or its output was not understood: always an error.
    Failed(String),
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    workspace_members: Vec<String>,
    resolve: Option<Resolve>,
}

#[derive(Deserialize)]
struct Package {
    id: String,
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Deserialize)]
struct Resolve {
    nodes: Vec<Node>,
}

#[derive(Deserialize)]
struct Node {
    id: String,
    #[serde(default)]
    deps: Vec<NodeDep>,
}

#[derive(Deserialize)]
struct NodeDep {
    pkg: String,
    #[serde(default)]
    dep_kinds: Vec<DepKind>,
}

#[derive(Deserialize)]
struct DepKind {
    /// `null` (normal), `"build"` or `"dev"`.
    #[serde(default)]
    kind: Option<String>,
}

/// Whether `manifest` is a cargo-fuzz project (`[package.metadata] cargo-fuzz = true`):
/// test tooling, like dev-dependencies. Read from the manifest itself, so that skipping it
/// needs neither `cargo` nor the fuzzer's crates.
pub(super) fn is_cargo_fuzz(manifest: &Path) -> bool {
    let Ok(text) = read_lockfile(manifest) else {
        return false;
    };
    toml::from_str::<toml::Value>(&text).is_ok_and(|v| {
        v.get("package")
            .and_then(|p| p.get("metadata"))
            .and_then(|m| m.get("cargo-fuzz"))
            .and_then(toml::Value::as_bool)
            == Some(true)
    })
}

fn run(cargo: &Path, args: &[&str], dir: &Path) -> std::result::Result<Vec<u8>, MetadataFailure> {
    let out = Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env("RUSTC_WRAPPER", "")
        .env("RUSTC_WORKSPACE_WRAPPER", "")
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .map_err(|e| {
            let reason = format!("running {}: {e}", cargo.display());
            if e.kind() == std::io::ErrorKind::NotFound {
                MetadataFailure::CargoUnavailable(reason)
            } else {
                MetadataFailure::Failed(reason)
            }
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(MetadataFailure::Failed(format!(
            "`cargo {}` failed ({}): {first}",
            args.join(" "),
            out.status
        )));
    }
    if out.stdout.len() > MAX_METADATA_SIZE {
        return Err(MetadataFailure::Failed(format!(
            "`cargo {}` printed more than {MAX_METADATA_SIZE} bytes",
            args.join(" ")
        )));
    }
    Ok(out.stdout)
}

/// The host target triple, as `cargo -vV` reports it.
pub(super) fn host_target(
    cargo: &Path,
    dir: &Path,
) -> std::result::Result<String, MetadataFailure> {
    let out = run(cargo, &["-vV"], dir)?;
    String::from_utf8_lossy(&out)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_owned())
        .ok_or_else(|| MetadataFailure::Failed("`cargo -vV` printed no host line".into()))
}

/// Runs `cargo metadata` for the workspace whose root manifest is `manifest` and keeps what
/// `target` builds. `locked` is the parsed `Cargo.lock`, for its hashes (cargo metadata has
/// none).
pub(super) fn resolve(
    cargo: &Path,
    manifest: &Path,
    target: &str,
    locked: &[LockedPackage],
) -> std::result::Result<Vec<LockedPackage>, MetadataFailure> {
    let dir = manifest.parent().unwrap_or(Path::new("."));
    let manifest_arg = manifest.to_string_lossy();
    let out = run(
        cargo,
        &[
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--offline",
            "--filter-platform",
            target,
            "--manifest-path",
            &manifest_arg,
        ],
        dir,
    )?;
    from_metadata(&out, locked)
}

/// Interprets `cargo metadata` output: the packages reachable from the workspace members
/// over non-dev edges.
pub(super) fn from_metadata(
    json: &[u8],
    locked: &[LockedPackage],
) -> std::result::Result<Vec<LockedPackage>, MetadataFailure> {
    let md: Metadata = serde_json::from_slice(json)
        .map_err(|e| MetadataFailure::Failed(format!("cargo metadata output: {e}")))?;
    let resolve = md.resolve.ok_or_else(|| {
        MetadataFailure::Failed("cargo metadata output has no `resolve` graph".into())
    })?;
    let packages: BTreeMap<&str, &Package> =
        md.packages.iter().map(|p| (p.id.as_str(), p)).collect();
    let nodes: BTreeMap<&str, &Node> = resolve.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    // A dependency is built unless every way it is depended on is a dev-dependency.
    let built = |d: &NodeDep| {
        d.dep_kinds.is_empty() || d.dep_kinds.iter().any(|k| k.kind.as_deref() != Some("dev"))
    };
    let mut reached: BTreeSet<&str> = md.workspace_members.iter().map(String::as_str).collect();
    let mut todo: Vec<&str> = reached.iter().copied().collect();
    while let Some(id) = todo.pop() {
        let node = nodes.get(id).ok_or_else(|| {
            MetadataFailure::Failed(format!("package {id} is missing from the resolve graph"))
        })?;
        for dep in node.deps.iter().filter(|d| built(d)) {
            if reached.insert(dep.pkg.as_str()) {
                todo.push(dep.pkg.as_str());
            }
        }
    }
    let purl_of = |id: &str| -> std::result::Result<String, MetadataFailure> {
        let p = packages.get(id).ok_or_else(|| {
            MetadataFailure::Failed(format!("package {id} is missing from `packages`"))
        })?;
        Ok(cargo_purl(&p.name, &p.version, p.source.as_deref()))
    };
    let lock_hashes: BTreeMap<&str, &Vec<_>> = locked
        .iter()
        .map(|l| (l.purl.as_str(), &l.hashes))
        .collect();
    let members: BTreeSet<&str> = md.workspace_members.iter().map(String::as_str).collect();
    let mut out = Vec::with_capacity(reached.len());
    for id in &reached {
        let p = packages.get(id).ok_or_else(|| {
            MetadataFailure::Failed(format!("package {id} is missing from `packages`"))
        })?;
        let purl = purl_of(id)?;
        let mut dependencies = Vec::new();
        if let Some(node) = nodes.get(id) {
            for dep in node.deps.iter().filter(|d| built(d)) {
                let d = purl_of(&dep.pkg)?;
                if !dependencies.contains(&d) {
                    dependencies.push(d);
                }
            }
        }
        let local = p.source.is_none();
        out.push(LockedPackage {
            ecosystem: Ecosystem::Cargo,
            name: p.name.clone(),
            version: Some(p.version.clone()),
            hashes: lock_hashes
                .get(purl.as_str())
                .map(|h| (*h).clone())
                .unwrap_or_default(),
            purl,
            dependencies,
            direct: members.contains(id),
            local,
        });
    }
    Ok(out)
}

/// Turns a failure into the crate's error, naming the lockfile being resolved.
pub(super) fn into_error(lockfile: &Path, failure: MetadataFailure) -> Error {
    let reason = match failure {
        MetadataFailure::CargoUnavailable(r) | MetadataFailure::Failed(r) => r,
    };
    Error::InvalidLockfile {
        path: lockfile.to_owned(),
        reason: format!("cargo metadata: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REG: &str = "registry+https://github.com/rust-lang/crates.io-index";

    fn metadata() -> String {
        serde_json::json!({
            "packages": [
                {"id": "path+file:///w#app@0.1.0", "name": "app", "version": "0.1.0", "source": null},
                {"id": format!("{REG}#itoa@1.0.11"), "name": "itoa", "version": "1.0.11", "source": REG},
                {"id": format!("{REG}#cc@1.2.0"), "name": "cc", "version": "1.2.0", "source": REG},
                {"id": format!("{REG}#tempfile@3.0.0"), "name": "tempfile", "version": "3.0.0", "source": REG},
                {"id": format!("{REG}#libc@0.2.0"), "name": "libc", "version": "0.2.0", "source": REG}
            ],
            "workspace_members": ["path+file:///w#app@0.1.0"],
            "resolve": {"nodes": [
                {"id": "path+file:///w#app@0.1.0", "deps": [
                    {"pkg": format!("{REG}#itoa@1.0.11"), "dep_kinds": [{"kind": null, "target": null}]},
                    {"pkg": format!("{REG}#cc@1.2.0"), "dep_kinds": [{"kind": "build", "target": null}]},
                    {"pkg": format!("{REG}#tempfile@3.0.0"), "dep_kinds": [{"kind": "dev", "target": null}]}
                ]},
                {"id": format!("{REG}#itoa@1.0.11"), "deps": []},
                {"id": format!("{REG}#cc@1.2.0"), "deps": []},
                {"id": format!("{REG}#tempfile@3.0.0"), "deps": [
                    {"pkg": format!("{REG}#libc@0.2.0"), "dep_kinds": [{"kind": null, "target": null}]}
                ]},
                {"id": format!("{REG}#libc@0.2.0"), "deps": []}
            ], "root": null}
        })
        .to_string()
    }

    #[test]
    fn keeps_normal_and_build_edges_and_drops_dev_only_subgraphs() {
        let packages = from_metadata(metadata().as_bytes(), &[]).unwrap();
        let purls: Vec<&str> = packages.iter().map(|p| p.purl.as_str()).collect();
        assert_eq!(
            purls.iter().copied().collect::<BTreeSet<_>>(),
            BTreeSet::from([
                "pkg:cargo/app@0.1.0",
                "pkg:cargo/cc@1.2.0",
                "pkg:cargo/itoa@1.0.11"
            ])
        );
        let app = packages.iter().find(|p| p.name == "app").unwrap();
        assert!(app.direct && app.local);
        assert_eq!(app.dependencies.len(), 2, "{:?}", app.dependencies);
    }

    #[test]
    fn recognises_cargo_fuzz_manifests() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("Cargo.toml");
        std::fs::write(
            &m,
            "[package]\nname = \"f\"\n[package.metadata]\ncargo-fuzz = true\n",
        )
        .unwrap();
        assert!(is_cargo_fuzz(&m));
        std::fs::write(&m, "[package]\nname = \"f\"\n").unwrap();
        assert!(!is_cargo_fuzz(&m));
        assert!(!is_cargo_fuzz(&dir.path().join("missing.toml")));
    }

    #[test]
    fn malformed_output_is_a_failure_not_a_panic() {
        for bad in [
            "",
            "{}",
            r#"{"packages":[],"workspace_members":["x"],"resolve":null}"#,
            r#"{"packages":[],"workspace_members":["x"],"resolve":{"nodes":[]}}"#,
            r#"{"packages":[],"workspace_members":["x"],"resolve":{"nodes":[{"id":"x","deps":[]}]}}"#,
        ] {
            let err = from_metadata(bad.as_bytes(), &[]).unwrap_err();
            assert!(matches!(err, MetadataFailure::Failed(_)), "{bad}: {err:?}");
        }
    }

    #[test]
    fn a_missing_cargo_is_reported_as_unavailable() {
        let err = host_target(Path::new("/nonexistent/cargo"), Path::new(".")).unwrap_err();
        assert!(
            matches!(err, MetadataFailure::CargoUnavailable(_)),
            "{err:?}"
        );
    }
}
