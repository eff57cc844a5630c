//! `package-lock.json` versions 2 and 3 (the flat `packages` map).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::lockfile::{Ecosystem, LockedPackage, PackageHash, purl};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lock {
    #[serde(default)]
    lockfile_version: u64,
    #[serde(default)]
    packages: BTreeMap<String, Package>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Package {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    integrity: Option<String>,
    #[serde(default)]
    link: bool,
    #[serde(default)]
    dependencies: BTreeMap<String, String>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, String>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, String>,
    #[serde(default)]
    peer_dependencies: BTreeMap<String, String>,
}

/// The package name a `node_modules/...` path installs.
fn name_from_path(path: &str) -> &str {
    path.rfind("node_modules/")
        .and_then(|i| path.get(i + "node_modules/".len()..))
        .unwrap_or(path)
}

/// Node's resolution: look in `<path>/node_modules/<dep>`, then in each ancestor's.
fn resolve<'a>(packages: &'a BTreeMap<String, Package>, from: &str, dep: &str) -> Option<&'a str> {
    let mut base = from.to_owned();
    loop {
        let candidate = if base.is_empty() {
            format!("node_modules/{dep}")
        } else {
            format!("{base}/node_modules/{dep}")
        };
        if let Some((k, _)) = packages.get_key_value(&candidate) {
            return Some(k.as_str());
        }
        if base.is_empty() {
            return None;
        }
        base = match base.rfind("/node_modules/") {
            Some(i) => base.get(..i).unwrap_or_default().to_owned(),
            None => String::new(),
        };
    }
}

/// `sha512-<base64>` (SRI) to a CycloneDX hash.
fn sri_hash(integrity: &str) -> Option<PackageHash> {
    let first = integrity.split_whitespace().next()?;
    let (alg, b64) = first.split_once('-')?;
    let alg = match alg {
        "sha512" => "SHA-512",
        "sha384" => "SHA-384",
        "sha256" => "SHA-256",
        "sha1" => "SHA-1",
        _ => return None,
    };
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    Some(PackageHash {
        alg,
        hex: hex::encode(bytes),
    })
}

fn npm_purl(name: &str, version: Option<&str>) -> String {
    match name.split_once('/') {
        Some((scope, n)) if scope.starts_with('@') => purl(Ecosystem::Npm, Some(scope), n, version),
        _ => purl(Ecosystem::Npm, None, name, version),
    }
}

/// Parses `package-lock.json` v2/v3. Version-1 lockfiles (npm 6) are rejected.
pub fn parse(text: &str) -> Result<Vec<LockedPackage>, String> {
    let lock: Lock = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if lock.lockfile_version < 2 {
        return Err(format!(
            "lockfileVersion {} is not supported (2 or 3 required)",
            lock.lockfile_version
        ));
    }
    let purl_of = |path: &str| -> Option<String> {
        let p = lock.packages.get(path)?;
        let name = p
            .name
            .clone()
            .unwrap_or_else(|| name_from_path(path).to_owned());
        Some(npm_purl(&name, p.version.as_deref()))
    };
    let deps_of = |path: &str, p: &Package| -> Vec<String> {
        let mut out: Vec<String> = p
            .dependencies
            .keys()
            .chain(p.optional_dependencies.keys())
            .chain(p.peer_dependencies.keys())
            .chain(if path.is_empty() {
                p.dev_dependencies.keys()
            } else {
                Default::default()
            })
            .filter_map(|d| resolve(&lock.packages, path, d))
            .filter(|target| lock.packages.get(*target).is_some_and(|t| !t.link))
            .filter_map(purl_of)
            .collect();
        out.sort();
        out.dedup();
        out
    };
    let root_deps = lock
        .packages
        .get("")
        .map(|r| deps_of("", r))
        .unwrap_or_default();
    let mut out: Vec<LockedPackage> = Vec::new();
    for (path, p) in &lock.packages {
        if path.is_empty() || p.link {
            continue;
        }
        let Some(purl) = purl_of(path) else { continue };
        if out.iter().any(|o| o.purl == purl) {
            continue;
        }
        let name = p
            .name
            .clone()
            .unwrap_or_else(|| name_from_path(path).to_owned());
        out.push(LockedPackage {
            ecosystem: Ecosystem::Npm,
            direct: root_deps.contains(&purl),
            name,
            version: p.version.clone(),
            hashes: p
                .integrity
                .as_deref()
                .and_then(sri_hash)
                .into_iter()
                .collect(),
            dependencies: deps_of(path, p),
            local: !path.contains("node_modules/"),
            purl,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_nested_and_scoped_packages() {
        let lock = r#"{"lockfileVersion":3,"packages":{
          "":{"name":"app","dependencies":{"a":"^1","@s/b":"^2"}},
          "node_modules/a":{"version":"1.0.0","integrity":"sha512-AAAA","dependencies":{"c":"^1"}},
          "node_modules/a/node_modules/c":{"version":"1.1.0"},
          "node_modules/c":{"version":"2.0.0"},
          "node_modules/@s/b":{"version":"2.0.0","dependencies":{"c":"^2"}}}}"#;
        let pkgs = parse(lock).unwrap();
        let get = |p: &str| pkgs.iter().find(|x| x.purl == p).unwrap();
        assert!(get("pkg:npm/a@1.0.0").direct);
        assert_eq!(get("pkg:npm/a@1.0.0").dependencies, ["pkg:npm/c@1.1.0"]);
        assert_eq!(
            get("pkg:npm/%40s/b@2.0.0").dependencies,
            ["pkg:npm/c@2.0.0"]
        );
        assert!(!get("pkg:npm/c@2.0.0").direct);
        assert_eq!(get("pkg:npm/a@1.0.0").hashes[0].hex, "000000");
        assert!(parse(r#"{"lockfileVersion":1,"dependencies":{}}"#).is_err());
    }
}
