//! `Cargo.lock` (versions 1–4).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::lockfile::{Ecosystem, LockedPackage, PackageHash, purl};

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<Package>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

fn package_purl(p: &Package) -> String {
    cargo_purl(&p.name, &p.version, p.source.as_deref())
}

/// The purl of a crate from its name, version and `Cargo.lock`/`cargo metadata` source
/// (`None` for path packages; git sources get a `vcs_url` qualifier without the `#commit`).
pub(super) fn cargo_purl(name: &str, version: &str, source: Option<&str>) -> String {
    let base = purl(Ecosystem::Cargo, None, name, Some(version));
    match source {
        Some(s) if s.starts_with("git+") => {
            let vcs = s.split('#').next().unwrap_or(s);
            format!("{base}?vcs_url={}", super::lockfile::purl_encode(vcs))
        }
        _ => base,
    }
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Parses `Cargo.lock`. Packages without a `source` are the workspace's own (local) and are
/// what the project depends on directly.
pub fn parse(text: &str) -> Result<Vec<LockedPackage>, String> {
    let lock: Lock = toml::from_str(text).map_err(|e| e.to_string())?;
    let purls: Vec<String> = lock.package.iter().map(package_purl).collect();
    // Resolve "name", "name version" and "name version (source)" references.
    let resolve = |dep: &str| -> Option<String> {
        let mut parts = dep.splitn(3, ' ');
        let name = parts.next()?;
        let version = parts.next();
        let source = parts
            .next()
            .map(|s| s.trim_start_matches('(').trim_end_matches(')'));
        lock.package
            .iter()
            .zip(&purls)
            .find(|(p, _)| {
                p.name == name
                    && version.is_none_or(|v| p.version == v)
                    && source.is_none_or(|s| p.source.as_deref() == Some(s))
            })
            .map(|(_, purl)| purl.clone())
    };
    let mut out = Vec::with_capacity(lock.package.len());
    for (p, purl) in lock.package.iter().zip(&purls) {
        // Cargo.lock v1 keeps checksums in [metadata].
        let v1_key = format!(
            "checksum {} {} ({})",
            p.name,
            p.version,
            p.source.as_deref().unwrap_or_default()
        );
        let checksum = p
            .checksum
            .clone()
            .or_else(|| lock.metadata.get(&v1_key).cloned());
        let hashes = checksum
            .filter(|c| is_hex64(c))
            .map(|hex| {
                vec![PackageHash {
                    alg: "SHA-256",
                    hex,
                }]
            })
            .unwrap_or_default();
        let mut dependencies = Vec::new();
        for d in &p.dependencies {
            let r =
                resolve(d).ok_or_else(|| format!("unresolved dependency {d:?} of {}", p.name))?;
            if !dependencies.contains(&r) {
                dependencies.push(r);
            }
        }
        let local = p.source.is_none();
        out.push(LockedPackage {
            ecosystem: Ecosystem::Cargo,
            name: p.name.clone(),
            version: Some(p.version.clone()),
            purl: purl.clone(),
            hashes,
            dependencies,
            direct: local,
            local,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sources_checksums_and_references() {
        let lock = r#"
version = 4
[[package]]
name = "app"
version = "0.1.0"
dependencies = ["serde", "rand 0.8.5"]
[[package]]
name = "serde"
version = "1.0.200"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
[[package]]
name = "rand"
version = "0.8.5"
source = "git+https://github.com/rust-random/rand?rev=1#abc"
"#;
        let pkgs = parse(lock).unwrap();
        assert_eq!(pkgs.len(), 3);
        assert!(pkgs[0].local && pkgs[0].direct);
        assert_eq!(pkgs[0].dependencies[0], "pkg:cargo/serde@1.0.200");
        assert!(pkgs[0].dependencies[1].starts_with("pkg:cargo/rand@0.8.5?vcs_url=git%2Bhttps"));
        assert_eq!(pkgs[1].hashes.len(), 1);
        assert!(
            parse("[[package]]\nname = \"a\"\nversion = \"1\"\ndependencies = [\"zz\"]\n").is_err()
        );
    }
}
