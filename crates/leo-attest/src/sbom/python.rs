//! Python: pinned `requirements*.txt` and `poetry.lock`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::lockfile::{Ecosystem, LockedPackage, PackageHash, purl};

/// PEP 503 normalisation (as the pypi purl type requires): lowercase, runs of `-_.` to `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

fn pypi_purl(name: &str, version: Option<&str>) -> String {
    purl(Ecosystem::Pypi, None, &normalize_name(name), version)
}

/// A single `--hash=sha256:<hex>` is a component hash; several (one per wheel) are not
/// one component's hash, so they are left out.
fn single_sha256(hashes: &[String]) -> Vec<PackageHash> {
    match hashes {
        [one] => one
            .strip_prefix("sha256:")
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|h| {
                vec![PackageHash {
                    alg: "SHA-256",
                    hex: h.to_ascii_lowercase(),
                }]
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Parses a requirements file: `name[extras]==version ; markers --hash=...` lines, with `\`
/// continuations. Options (`-r`, `-e`, `--index-url`), comments and URLs are skipped; an
/// unpinned requirement becomes a package without a version. All are direct dependencies.
pub fn parse_requirements(text: &str) -> Result<Vec<LockedPackage>, String> {
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    let mut out: Vec<LockedPackage> = Vec::new();
    for raw in joined.lines() {
        let line = raw.split(" #").next().unwrap_or_default().trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('-') || line.contains("://")
        {
            continue;
        }
        let mut tokens = line.split_whitespace();
        let spec_and_marker: Vec<&str> = tokens
            .by_ref()
            .take_while(|t| !t.starts_with("--"))
            .collect();
        let hashes: Vec<String> = line
            .split_whitespace()
            .filter_map(|t| t.strip_prefix("--hash=").map(str::to_owned))
            .collect();
        let spec = spec_and_marker.join(" ");
        let spec = spec.split(';').next().unwrap_or_default().trim();
        let (name_part, version) = match spec.split_once("==") {
            Some((n, v)) => (n, Some(v.trim().trim_start_matches('=').to_owned())),
            None => (
                spec.split(['<', '>', '~', '!', '='])
                    .next()
                    .unwrap_or_default(),
                None,
            ),
        };
        let name = name_part.split('[').next().unwrap_or_default().trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(format!(
                "cannot read requirement {:?}",
                crate::error::snippet(line)
            ));
        }
        let purl = pypi_purl(name, version.as_deref());
        if out.iter().any(|p| p.purl == purl) {
            continue;
        }
        out.push(LockedPackage {
            ecosystem: Ecosystem::Pypi,
            name: normalize_name(name),
            version,
            purl,
            hashes: single_sha256(&hashes),
            dependencies: Vec::new(),
            direct: true,
            local: false,
        });
    }
    Ok(out)
}

#[derive(Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<PoetryPackage>,
}

#[derive(Deserialize)]
struct PoetryPackage {
    name: String,
    version: String,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
    #[serde(default)]
    files: Vec<PoetryFile>,
}

#[derive(Deserialize)]
struct PoetryFile {
    #[serde(default)]
    hash: String,
}

/// Parses `poetry.lock`. The lock does not say which packages are direct, so packages no
/// other locked package depends on are taken as the project's direct dependencies.
pub fn parse_poetry(text: &str) -> Result<Vec<LockedPackage>, String> {
    let lock: PoetryLock = toml::from_str(text).map_err(|e| e.to_string())?;
    let by_name: BTreeMap<String, String> = lock
        .package
        .iter()
        .map(|p| {
            (
                normalize_name(&p.name),
                pypi_purl(&p.name, Some(&p.version)),
            )
        })
        .collect();
    let mut out: Vec<LockedPackage> = lock
        .package
        .iter()
        .map(|p| {
            let mut dependencies: Vec<String> = p
                .dependencies
                .keys()
                .filter_map(|d| by_name.get(&normalize_name(d)).cloned())
                .collect();
            dependencies.sort();
            dependencies.dedup();
            let hashes: Vec<String> = p.files.iter().map(|f| f.hash.clone()).collect();
            LockedPackage {
                ecosystem: Ecosystem::Pypi,
                name: normalize_name(&p.name),
                version: Some(p.version.clone()),
                purl: pypi_purl(&p.name, Some(&p.version)),
                hashes: single_sha256(&hashes),
                dependencies,
                direct: false,
                local: false,
            }
        })
        .collect();
    let depended: Vec<String> = out.iter().flat_map(|p| p.dependencies.clone()).collect();
    for p in &mut out {
        p.direct = !depended.contains(&p.purl);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_lines() {
        let text = "# comment\n-r base.txt\nRequests[socks]==2.31.0 ; python_version>'3' \\\n    --hash=sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nflask>=2\nZope.Interface==6.0\n";
        let pkgs = parse_requirements(text).unwrap();
        assert_eq!(pkgs.len(), 3);
        assert_eq!(pkgs[0].purl, "pkg:pypi/requests@2.31.0");
        assert_eq!(pkgs[0].hashes.len(), 1);
        assert_eq!(pkgs[1].purl, "pkg:pypi/flask");
        assert_eq!(pkgs[1].version, None);
        assert_eq!(pkgs[2].purl, "pkg:pypi/zope-interface@6.0");
    }

    #[test]
    fn poetry_graph() {
        let text = "[[package]]\nname = \"a\"\nversion = \"1\"\n[package.dependencies]\nB_x = \">=1\"\n\n[[package]]\nname = \"b-x\"\nversion = \"2\"\nfiles = [{file = \"b.whl\", hash = \"sha256:0000000000000000000000000000000000000000000000000000000000000000\"}]\n";
        let pkgs = parse_poetry(text).unwrap();
        assert_eq!(pkgs[0].dependencies, ["pkg:pypi/b-x@2"]);
        assert!(pkgs[0].direct && !pkgs[1].direct);
        assert_eq!(pkgs[1].hashes.len(), 1);
    }
}
