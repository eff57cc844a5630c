//! CycloneDX 1.5 SBOMs: generation from lockfiles ([`generate()`]), validation against the
//! model and the official schema ([`SbomValidator`]), and the NTIA minimum-elements
//! compliance report ([`check_compliance`]).
//!
//! Generation uses `cyclonedx-bom` with `SpecVersion::V1_5` set explicitly and second-precision
//! timestamps. Supported lockfiles: `Cargo.lock`, `package-lock.json` (v2/v3),
//! `requirements*.txt`, `poetry.lock`. Which lockfiles belong to a tree is
//! [`find_lockfiles`]'s rule (no `target/`, no git-ignored or vendored sub-trees); Cargo
//! workspaces are resolved through `cargo metadata` like `cargo build` resolves them, with a
//! plain `Cargo.lock` reading when `cargo` is not installed ([`Resolver`], [`generate`]).

mod cargo;
pub mod cargo_metadata;
pub mod compliance;
pub mod generate;
pub mod lockfile;
mod npm;
mod python;
pub mod resolve;
pub mod validate;

pub use compliance::{ComplianceReport, RuleResult, check_compliance};
pub use generate::{SbomOptions, generate, generate_from_packages, generate_with};
pub use lockfile::{Ecosystem, LockedPackage, find_lockfiles, parse_lockfile};
pub use python::normalize_name as normalize_python_name;
pub use resolve::{CargoResolution, LockfileSource, Resolution, Resolver, collect_packages};
pub use validate::{SCHEMA_DIR_ENV, SbomValidator, validate_model};
