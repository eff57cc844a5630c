//! CycloneDX 1.5 generation with `cyclonedx-bom`.
//!
//! The repository at head is `metadata.component`; the packages of the lockfiles that belong
//! to the tree ([`find_lockfiles`] says which) are the components (purl as `bom-ref`, hashes where the lockfile has them, supplier
//! = the registry it comes from, or the repository's supplier for local packages); the
//! dependency graph links the repository to its direct dependencies and each package to its
//! own. Output is deterministic for the same tree and timestamp: components are sorted and
//! the serial number is derived from the content instead of being random.
//!
//! # What a patch bundle's SBOM lists
//!
//! The SOP asks for the components of the repository at head: what the repository builds
//! and ships, not every package its lockfiles could ever pull in. So a Cargo workspace (a
//! `Cargo.lock` next to a `Cargo.toml`) is resolved like `cargo build` on the host resolves
//! it, through `cargo metadata --locked --offline --filter-platform <host>` with default
//! features: normal and build dependencies of the workspace members, no dev-only
//! dependencies, no crates only other targets use (see [`Resolver`](super::Resolver)). This is the set
//! `cargo cyclonedx` reports. A workspace whose members are all cargo-fuzz projects is test
//! tooling, like dev-dependencies, and is left out. Other lockfiles are read as they are.
//! `metadata.properties` records, per lockfile, how it was read (`leo:lockfile`).

use std::path::Path;
use std::str::FromStr;

use cyclonedx_bom::external_models::date_time::DateTime;
use cyclonedx_bom::external_models::uri::{Purl, Uri};
use cyclonedx_bom::models::bom::{Bom, SpecVersion, UrnUuid};
use cyclonedx_bom::models::component::{Classification, Component, Components};
use cyclonedx_bom::models::dependency::{Dependencies, Dependency};
use cyclonedx_bom::models::hash::{Hash, HashAlgorithm, HashValue, Hashes};
use cyclonedx_bom::models::metadata::Metadata;
use cyclonedx_bom::models::organization::{OrganizationalContact, OrganizationalEntity};
use cyclonedx_bom::models::property::{Properties, Property};
use cyclonedx_bom::models::tool::Tools;
use cyclonedx_bom::prelude::NormalizedString;
use leo_artifact::{CommitSha, Sha256Digest};

use super::lockfile::{LockedPackage, purl_encode};
use super::resolve::{LockfileSource, Resolver, collect_packages};
use crate::error::{Error, Result};
use crate::slsa::Timestamp;

/// What the SBOM says about the project itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SbomOptions {
    /// The project's name (`metadata.component.name`).
    pub name: String,
    /// The head commit (`metadata.component.version`).
    pub head: CommitSha,
    /// The repository URI, if any (recorded as the root purl's `vcs_url`).
    pub repository: Option<String>,
    /// `metadata.timestamp` (written with second precision).
    pub timestamp: time::OffsetDateTime,
    /// `metadata.authors[0].name`: who produced the SBOM data.
    pub author: String,
    /// Supplier of the project and of its local packages (`metadata.supplier`).
    pub supplier: String,
}

/// Generates the SBOM for the tree at `root` with the default [`Resolver`]; returns pretty
/// JSON.
pub fn generate(root: &Path, options: &SbomOptions) -> Result<Vec<u8>> {
    generate_with(root, options, &Resolver::default())
}

/// Generates the SBOM for the tree at `root` (lockfiles found with
/// [`find_lockfiles`](super::lockfile::find_lockfiles), resolved by `resolver`); returns
/// pretty JSON.
pub fn generate_with(root: &Path, options: &SbomOptions, resolver: &Resolver) -> Result<Vec<u8>> {
    let (packages, sources) = collect_packages(root, resolver)?;
    build(packages, &sources, options)
}

fn root_purl(options: &SbomOptions) -> String {
    let mut p = format!(
        "pkg:generic/{}@{}",
        purl_encode(&options.name),
        options.head
    );
    if let Some(repo) = &options.repository {
        p.push_str("?vcs_url=");
        p.push_str(&purl_encode(&format!("git+{repo}")));
    }
    p
}

fn entity(name: &str, url: Option<&str>) -> OrganizationalEntity {
    let mut e = OrganizationalEntity::new(name);
    e.url = url.map(|u| vec![Uri::new(u)]);
    e
}

fn component(p: &LockedPackage, options: &SbomOptions) -> Component {
    let (group, name) = match p.name.split_once('/') {
        Some((scope, n)) if scope.starts_with('@') => (Some(scope), n),
        _ => (None, p.name.as_str()),
    };
    let mut c = Component::new(
        Classification::Library,
        name,
        p.version.as_deref().unwrap_or_default(),
        Some(p.purl.clone()),
    );
    if p.version.is_none() {
        c.version = None;
    }
    c.group = group.map(NormalizedString::new);
    c.purl = Purl::from_str(&p.purl).ok();
    c.supplier = Some(if p.local {
        entity(&options.supplier, None)
    } else {
        let (name, url) = p.ecosystem.registry();
        entity(name, Some(url))
    });
    if !p.hashes.is_empty() {
        c.hashes = Some(Hashes(
            p.hashes
                .iter()
                .map(|h| Hash {
                    alg: HashAlgorithm::new_unchecked(h.alg),
                    content: HashValue(h.hex.clone()),
                })
                .collect(),
        ));
    }
    c
}

/// A UUID (version 8, RFC 9562 "custom") derived from the SBOM's content.
fn content_serial(options: &SbomOptions, purls: &[&str]) -> String {
    let mut seed = format!(
        "leo-sbom\n{}\n{}\n",
        options.head,
        options.timestamp.unix_timestamp()
    );
    for p in purls {
        seed.push_str(p);
        seed.push('\n');
    }
    let d = Sha256Digest::of(seed.as_bytes());
    let mut b: [u8; 16] = [0; 16];
    b.copy_from_slice(d.as_bytes().get(..16).unwrap_or(&[0; 16]));
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or_default(),
        h.get(8..12).unwrap_or_default(),
        h.get(12..16).unwrap_or_default(),
        h.get(16..20).unwrap_or_default(),
        h.get(20..32).unwrap_or_default()
    )
}

/// Generates the SBOM from already parsed packages (merged by purl); returns pretty JSON.
pub fn generate_from_packages(
    packages: Vec<LockedPackage>,
    options: &SbomOptions,
) -> Result<Vec<u8>> {
    build(packages, &[], options)
}

fn build(
    mut packages: Vec<LockedPackage>,
    sources: &[LockfileSource],
    options: &SbomOptions,
) -> Result<Vec<u8>> {
    packages.sort_by(|a, b| a.purl.cmp(&b.purl));
    let mut merged: Vec<LockedPackage> = Vec::with_capacity(packages.len());
    for p in packages {
        match merged.last_mut() {
            Some(last) if last.purl == p.purl => {
                last.direct |= p.direct;
                for d in p.dependencies {
                    if !last.dependencies.contains(&d) {
                        last.dependencies.push(d);
                    }
                }
                if last.hashes.is_empty() {
                    last.hashes = p.hashes;
                }
            }
            _ => merged.push(p),
        }
    }
    let root_ref = root_purl(options);
    let mut root = Component::new(
        Classification::Application,
        &options.name,
        options.head.as_str(),
        Some(root_ref.clone()),
    );
    root.purl = Purl::from_str(&root_ref).ok();
    root.supplier = Some(entity(&options.supplier, None));

    let known: Vec<&str> = merged.iter().map(|p| p.purl.as_str()).collect();
    let mut dependencies = vec![Dependency {
        dependency_ref: root_ref,
        dependencies: merged
            .iter()
            .filter(|p| p.direct)
            .map(|p| p.purl.clone())
            .collect(),
    }];
    for p in &merged {
        let mut deps: Vec<String> = p
            .dependencies
            .iter()
            .filter(|d| known.contains(&d.as_str()))
            .cloned()
            .collect();
        deps.sort();
        dependencies.push(Dependency {
            dependency_ref: p.purl.clone(),
            dependencies: deps,
        });
    }

    let timestamp = DateTime::try_from(
        Timestamp::from_datetime(options.timestamp)
            .as_str()
            .to_owned(),
    )
    .map_err(|e| Error::SbomGeneration {
        reason: e.to_string(),
    })?;
    let tool = Component::new(
        Classification::Application,
        "leo-attest",
        env!("CARGO_PKG_VERSION"),
        None,
    );
    let serial =
        UrnUuid::new(content_serial(options, &known)).map_err(|e| Error::SbomGeneration {
            reason: format!("{e:?}"),
        })?;
    let bom = Bom {
        spec_version: SpecVersion::V1_5,
        version: 1,
        serial_number: Some(serial),
        metadata: Some(Metadata {
            timestamp: Some(timestamp),
            tools: Some(Tools::Object {
                services: None,
                components: Some(Components(vec![tool])),
            }),
            authors: Some(vec![OrganizationalContact::new(&options.author, None)]),
            component: Some(root),
            supplier: Some(entity(&options.supplier, None)),
            properties: (!sources.is_empty()).then(|| {
                Properties(
                    sources
                        .iter()
                        .map(|s| {
                            Property::new(
                                "leo:lockfile",
                                &format!("{}: {}", s.path.display(), s.resolution),
                            )
                        })
                        .collect(),
                )
            }),
            ..Metadata::default()
        }),
        components: Some(Components(
            merged.iter().map(|p| component(p, options)).collect(),
        )),
        dependencies: Some(Dependencies(dependencies)),
        ..Bom::default()
    };
    let mut out = Vec::new();
    bom.output_as_json_v1_5(&mut out)
        .map_err(|e| Error::SbomGeneration {
            reason: e.to_string(),
        })?;
    out.push(b'\n');
    Ok(out)
}
