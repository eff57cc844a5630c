//! Cargo SBOMs against the peer tool: on a scratch workspace with a normal, a build, a
//! dev-only and a Windows-only dependency, LEO lists exactly the packages `cargo cyclonedx`
//! (0.5.9) lists; and lockfile discovery leaves out what is not part of the repository.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use leo_attest::Error;
use leo_attest::sbom::{
    CargoResolution, Resolution, Resolver, SbomOptions, collect_packages, find_lockfiles,
    generate_with,
};

fn options() -> SbomOptions {
    SbomOptions {
        name: "scratch".into(),
        head: "0123456789abcdef0123456789abcdef01234567".parse().unwrap(),
        repository: None,
        timestamp: time::macros::datetime!(2026-01-01 12:00:00 UTC),
        author: "LEO builder".into(),
        supplier: "LEO developers".into(),
    }
}

fn cargo() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from)
}

/// `leo_testkit::require_tool` for a cargo subcommand: `cargo-cyclonedx --version` fails
/// when not run through cargo, so ask `cargo cyclonedx --version`. Skips locally, fails
/// under CI.
fn require_cargo_cyclonedx() -> bool {
    let version = Command::new(cargo())
        .args(["cyclonedx", "--version"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    assert!(
        version.is_some() || !leo_testkit::under_ci(),
        "cargo-cyclonedx is required under CI=true (scripts/test.d/70-cargo-cyclonedx.sh)"
    );
    match &version {
        Some(v) => eprintln!("peer: {v}"),
        None => eprintln!("skipping: cargo-cyclonedx not found"),
    }
    version.is_some()
}

/// Runs `cargo <args>` offline in `dir`; panics (test setup) when it fails.
fn run_cargo(dir: &Path, args: &[&str]) {
    let out = Command::new(cargo())
        .args(args)
        .env("CARGO_NET_OFFLINE", "true")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn krate(dir: &Path, rel: &str, name: &str, version: &str, deps: &str) {
    write(
        dir,
        &format!("{rel}/Cargo.toml"),
        &format!(
            "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n{deps}"
        ),
    );
    write(dir, &format!("{rel}/src/lib.rs"), "");
}

/// `ws/` is a two-member workspace; its dependencies live outside it (`deps/`), so they are
/// not members. Path dependencies only: resolving needs no registry and no network.
/// - `app` → `normal` (which has a build-dependency `builder`), dev → `devonly` (which
///   depends on `devtransitive`), `cfg(windows)` → `winonly`;
/// - `tool` → `normal` and `semverish` (version `1.0.0+meta`: a `+` in a purl version).
fn scratch_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "ws/Cargo.toml",
        "[workspace]\nmembers = [\"app\", \"tool\"]\nresolver = \"2\"\n",
    );
    krate(
        d,
        "ws/app",
        "app",
        "0.1.0",
        "[dependencies]\nnormal = { path = \"../../deps/normal\" }\n\
         [dev-dependencies]\ndevonly = { path = \"../../deps/devonly\" }\n\
         [target.'cfg(windows)'.dependencies]\nwinonly = { path = \"../../deps/winonly\" }\n",
    );
    krate(
        d,
        "ws/tool",
        "tool",
        "0.2.0",
        "[dependencies]\nnormal = { path = \"../../deps/normal\" }\n\
         semverish = { path = \"../../deps/semverish\" }\n",
    );
    krate(
        d,
        "deps/normal",
        "normal",
        "1.2.3",
        "[build-dependencies]\nbuilder = { path = \"../builder\" }\n",
    );
    krate(d, "deps/builder", "builder", "0.3.0", "");
    krate(
        d,
        "deps/devonly",
        "devonly",
        "0.4.0",
        "[dependencies]\ndevtransitive = { path = \"../devtransitive\" }\n",
    );
    krate(d, "deps/devtransitive", "devtransitive", "0.5.0", "");
    krate(d, "deps/winonly", "winonly", "0.6.0", "");
    krate(d, "deps/semverish", "semverish", "1.0.0+meta", "");
    run_cargo(&d.join("ws"), &["generate-lockfile"]);
    dir
}

/// A purl compared the way the purl specification compares them: qualifiers and subpath
/// dropped (cargo-cyclonedx adds `download_url=file://<relative path>` to path packages),
/// then percent-decoded (cargo-cyclonedx leaves `+` bare, the canonical form is `%2B`).
fn canonical(purl: &str) -> String {
    let base = purl.split(['?', '#']).next().unwrap_or(purl);
    let bytes = base.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn leo_purls(sbom: &[u8]) -> BTreeSet<String> {
    let doc: serde_json::Value = serde_json::from_slice(sbom).unwrap();
    doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["purl"].as_str().unwrap().to_owned())
        .collect()
}

/// Runs `cargo cyclonedx` in `ws` and returns how many SBOMs it wrote and the union of each
/// SBOM's `metadata.component` and top-level `components` (nested components are Cargo
/// targets), as written.
fn peer_purls(ws: &Path) -> (usize, BTreeSet<String>) {
    run_cargo(
        ws,
        &[
            "cyclonedx",
            "--format",
            "json",
            "--spec-version",
            "1.5",
            "-q",
        ],
    );
    let (mut files, mut purls) = (0, BTreeSet::new());
    let mut stack = vec![ws.to_owned()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(".cdx.json") {
                files += 1;
                let doc: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                let top = doc["metadata"]["component"]["purl"].as_str().unwrap();
                purls.insert(top.to_owned());
                for c in doc["components"].as_array().into_iter().flatten() {
                    purls.insert(c["purl"].as_str().unwrap().to_owned());
                }
            }
        }
    }
    (files, purls)
}

#[test]
fn scratch_workspace_lists_what_cargo_cyclonedx_lists() {
    if !require_cargo_cyclonedx() {
        return;
    }
    let tree = scratch_workspace();
    let ws = tree.path().join("ws");
    let resolver = Resolver {
        cargo_resolution: CargoResolution::CargoMetadata,
        target: Some("x86_64-unknown-linux-gnu".into()),
        ..Resolver::default()
    };
    let sbom = generate_with(&ws, &options(), &resolver).unwrap();
    let leo = leo_purls(&sbom);
    // The canonical purl encodes `+` (purl spec, "Character encoding").
    assert!(leo.contains("pkg:cargo/semverish@1.0.0%2Bmeta"), "{leo:?}");
    let (files, peer) = peer_purls(&ws);
    assert_eq!(files, 2, "one SBOM per workspace member");
    let leo: BTreeSet<String> = leo.iter().map(|p| canonical(p)).collect();
    let peer: BTreeSet<String> = peer.iter().map(|p| canonical(p)).collect();
    assert_eq!(leo, peer, "LEO vs cargo cyclonedx");
    let expected: BTreeSet<String> = [
        "app@0.1.0",
        "builder@0.3.0",
        "normal@1.2.3",
        "semverish@1.0.0+meta",
        "tool@0.2.0",
    ]
    .iter()
    .map(|p| format!("pkg:cargo/{p}"))
    .collect();
    assert_eq!(leo, expected, "no dev-only or Windows-only crates");
}

#[test]
fn resolution_modes_and_their_record() {
    let tree = scratch_workspace();
    let ws = tree.path().join("ws");
    let linux = Resolver {
        target: Some("x86_64-unknown-linux-gnu".into()),
        ..Resolver::default()
    };
    let (packages, sources) = collect_packages(&ws, &linux).unwrap();
    assert_eq!(packages.len(), 5);
    assert_eq!(
        sources[0].resolution,
        Resolution::CargoMetadata {
            target: "x86_64-unknown-linux-gnu".into()
        }
    );
    let sbom = generate_with(&ws, &options(), &linux).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&sbom).unwrap();
    let property = &doc["metadata"]["properties"][0];
    assert_eq!(property["name"], "leo:lockfile");
    assert!(
        property["value"]
            .as_str()
            .unwrap()
            .starts_with("Cargo.lock: cargo metadata --filter-platform x86_64-unknown-linux-gnu"),
        "{property}"
    );

    // Another target: its own dependencies count.
    let windows = Resolver {
        target: Some("x86_64-pc-windows-msvc".into()),
        ..Resolver::default()
    };
    let (packages, _) = collect_packages(&ws, &windows).unwrap();
    assert!(packages.iter().any(|p| p.name == "winonly"));
    assert!(!packages.iter().any(|p| p.name.starts_with("dev")));

    // The plain lockfile reading lists everything Cargo.lock holds.
    let lockfile = Resolver {
        cargo_resolution: CargoResolution::Lockfile,
        ..Resolver::default()
    };
    let (packages, sources) = collect_packages(&ws, &lockfile).unwrap();
    assert_eq!(packages.len(), 8);
    assert_eq!(sources[0].resolution, Resolution::Lockfile);

    // No cargo: Auto falls back to the lockfile and says why; CargoMetadata refuses.
    let missing = PathBuf::from("/nonexistent/cargo");
    let auto = Resolver {
        cargo: missing.clone(),
        ..Resolver::default()
    };
    let (packages, sources) = collect_packages(&ws, &auto).unwrap();
    assert_eq!(packages.len(), 8);
    assert!(matches!(
        sources[0].resolution,
        Resolution::LockfileWithoutCargo { .. }
    ));
    let strict = Resolver {
        cargo: missing,
        cargo_resolution: CargoResolution::CargoMetadata,
        ..Resolver::default()
    };
    let err = collect_packages(&ws, &strict).unwrap_err();
    assert!(matches!(err, Error::InvalidLockfile { .. }), "{err}");
}

#[test]
fn stale_lockfile_is_an_error_not_a_silent_fallback() {
    let tree = scratch_workspace();
    let ws = tree.path().join("ws");
    // A new dependency the lockfile does not know: `--locked` refuses.
    krate(tree.path(), "deps/extra", "extra", "0.9.0", "");
    let manifest = ws.join("tool/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        format!("{text}extra = {{ path = \"../../deps/extra\" }}\n"),
    )
    .unwrap();
    let err = collect_packages(&ws, &Resolver::default()).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidLockfile { reason, .. } if reason.starts_with("cargo metadata")),
        "{err}"
    );
}

#[test]
fn discovery_skips_ignored_nested_vendored_and_build_trees() {
    let repo = leo_testkit::ScratchRepo::new();
    let root = repo.path();
    let lock = "version = 4\n";
    write(root, "Cargo.lock", lock);
    write(root, "tools/requirements.txt", "requests==2.31.0\n");
    write(root, ".gitignore", "/scratch\ncache/\n");
    write(root, "scratch/Cargo.lock", lock); // ignored by a rooted pattern
    write(root, "web/cache/package-lock.json", "{}"); // ignored by a directory pattern
    write(root, "target/debug/Cargo.lock", lock); // build output
    write(root, "vendor/foo/Cargo.lock", lock); // vendored third-party code
    write(root, "other/.git/HEAD", "ref: refs/heads/main\n"); // a nested repository
    write(root, "other/Cargo.lock", lock);
    let found: Vec<PathBuf> = find_lockfiles(root)
        .unwrap()
        .into_iter()
        .map(|p| p.strip_prefix(root).unwrap().to_owned())
        .collect();
    assert_eq!(
        found,
        [
            PathBuf::from("Cargo.lock"),
            PathBuf::from("tools/requirements.txt")
        ]
    );
    // Asked for an ignored tree explicitly, its lockfiles are found.
    let scratch = find_lockfiles(&root.join("scratch")).unwrap();
    assert_eq!(scratch.len(), 1);
}

#[test]
fn this_workspace_matches_cargo_cyclonedx() {
    if !require_cargo_cyclonedx() {
        return;
    }
    // cargo-cyclonedx writes next to every member's Cargo.toml: run both on a copy of the
    // tree as git sees it (tracked and not ignored files).
    let root = leo_testkit::workspace_root();
    let copy = tempfile::tempdir().unwrap();
    let files = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(&root)
        .output()
        .unwrap();
    if !files.status.success() {
        eprintln!("skipping: {} is not a git checkout", root.display());
        return;
    }
    for rel in files.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let rel = std::str::from_utf8(rel).unwrap();
        let from = root.join(rel);
        if from.is_file() {
            let to = copy.path().join(rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&from, &to).unwrap();
        }
    }
    // A half-edited tree (a member that does not build yet) cannot be compared.
    if Command::new(cargo())
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .current_dir(copy.path())
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        eprintln!("skipping: `cargo metadata --locked --offline` fails on this tree");
        return;
    }
    let sbom = generate_with(copy.path(), &options(), &Resolver::default()).unwrap();
    let leo: BTreeSet<String> = leo_purls(&sbom).iter().map(|p| canonical(p)).collect();
    let (_, peer) = peer_purls(copy.path());
    let peer: BTreeSet<String> = peer.iter().map(|p| canonical(p)).collect();
    assert!(!peer.is_empty());
    assert_eq!(
        leo.difference(&peer).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "only in LEO"
    );
    assert_eq!(
        peer.difference(&leo).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "only in cargo cyclonedx"
    );
}
