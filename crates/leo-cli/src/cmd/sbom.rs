//! `leo sbom generate|validate|check-compliance`: CycloneDX 1.5 SBOMs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use leo_attest::sbom::{
    CargoResolution, Resolver, SCHEMA_DIR_ENV, SbomOptions, SbomValidator, check_compliance,
    generate_with,
};
use serde_json::json;

use crate::output::{VerificationFailed, exit_failed, print_json};

/// `leo sbom` subcommands.
#[derive(Debug, Subcommand)]
pub enum SbomCommand {
    /// Generate a CycloneDX 1.5 SBOM from the lockfiles of a source tree.
    Generate(GenerateArgs),
    /// Validate an SBOM against the CycloneDX 1.5 schema and model: exit 0 valid, 1 invalid.
    Validate(ValidateArgs),
    /// Validate, then check NTIA minimum elements: exit 0 compliant, 1 not compliant.
    CheckCompliance(ValidateArgs),
}

/// Arguments of `leo sbom generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The source tree (checked out at head).
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// The project name (`metadata.component.name`).
    #[arg(long)]
    name: String,
    /// The head commit SHA (`metadata.component.version`).
    #[arg(long)]
    head: String,
    /// The repository URI.
    #[arg(long)]
    repository: Option<String>,
    /// Who produced the SBOM (`metadata.authors`).
    #[arg(long, default_value = "LEO builder")]
    author: String,
    /// The supplier of the project and its local packages.
    #[arg(long)]
    supplier: String,
    /// `metadata.timestamp` (RFC 3339; default: now). Fix it for reproducible SBOMs.
    #[arg(long)]
    timestamp: Option<String>,
    /// Output file (default: standard output).
    #[arg(short, long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    resolution: ResolutionArgs,
}

/// How Cargo workspaces become SBOM components (shared by `sbom generate` and `bundle create`).
#[derive(Debug, Args)]
pub struct ResolutionArgs {
    /// `auto`: `cargo metadata` (offline, no dev-only or other-platform crates) when cargo can
    /// run, else every package of Cargo.lock; `cargo-metadata`: always, an error without
    /// cargo; `lockfile`: every package of Cargo.lock as it is.
    #[arg(long, value_enum, default_value = "auto")]
    cargo_resolution: ResolutionMode,
    /// The target triple whose dependencies count (default: the host's).
    #[arg(long)]
    target: Option<String>,
}

/// `--cargo-resolution` values.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ResolutionMode {
    /// `cargo metadata` when cargo can run, else the lockfile.
    Auto,
    /// Always `cargo metadata`.
    CargoMetadata,
    /// The lockfile as it is.
    Lockfile,
}

impl ResolutionArgs {
    /// The resolver these flags ask for.
    pub fn resolver(&self) -> Resolver {
        Resolver {
            cargo_resolution: match self.cargo_resolution {
                ResolutionMode::Auto => CargoResolution::Auto,
                ResolutionMode::CargoMetadata => CargoResolution::CargoMetadata,
                ResolutionMode::Lockfile => CargoResolution::Lockfile,
            },
            target: self.target.clone(),
            ..Resolver::default()
        }
    }
}

/// Arguments of `leo sbom validate` and `check-compliance`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The SBOM file.
    sbom: PathBuf,
    /// Directory with the official schemas (`bom-1.5.schema.json`, `spdx.schema.json`,
    /// `jsf-0.82.schema.json`).
    #[arg(long, env = SCHEMA_DIR_ENV)]
    schema: PathBuf,
}

/// Runs `leo sbom`.
pub fn run(command: &SbomCommand, json: bool) -> anyhow::Result<ExitCode> {
    match command {
        SbomCommand::Generate(a) => generate_cmd(a, json),
        SbomCommand::Validate(a) => validate_cmd(a, json, false),
        SbomCommand::CheckCompliance(a) => validate_cmd(a, json, true),
    }
}

fn generate_cmd(args: &GenerateArgs, json: bool) -> anyhow::Result<ExitCode> {
    let timestamp = match &args.timestamp {
        Some(t) => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .with_context(|| format!("invalid --timestamp {t:?}"))?,
        None => time::OffsetDateTime::now_utc(),
    };
    let options = SbomOptions {
        name: args.name.clone(),
        head: args.head.parse().context("invalid --head")?,
        repository: args.repository.clone(),
        timestamp,
        author: args.author.clone(),
        supplier: args.supplier.clone(),
    };
    let sbom = generate_with(&args.root, &options, &args.resolution.resolver())?;
    match &args.out {
        Some(out) => {
            leo_artifact::fsutil::write_bytes_atomically(out, &sbom)?;
            if json {
                print_json(
                    &json!({"ok": true, "sbom": out.display().to_string(), "bytes": sbom.len()}),
                );
            } else {
                println!("wrote {} ({} bytes)", out.display(), sbom.len());
            }
        }
        None => print!("{}", String::from_utf8_lossy(&sbom)),
    }
    Ok(ExitCode::SUCCESS)
}

fn validate_cmd(args: &ValidateArgs, json: bool, compliance: bool) -> anyhow::Result<ExitCode> {
    let validator = SbomValidator::from_dir(&args.schema)?;
    let bytes =
        std::fs::read(&args.sbom).with_context(|| format!("reading {}", args.sbom.display()))?;
    let bom = validator
        .validate(&bytes)
        .map_err(|e| anyhow::Error::new(VerificationFailed(e.to_string())))?;
    let components = bom.components.as_ref().map_or(0, |c| c.0.len());
    if !compliance {
        if json {
            print_json(&json!({"ok": true, "specVersion": "1.5", "components": components}));
        } else {
            println!(
                "OK: {} is valid CycloneDX 1.5 ({components} components)",
                args.sbom.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let report = check_compliance(&bytes)?;
    if json {
        print_json(
            &json!({"ok": report.compliant, "compliant": report.compliant, "rules": report.rules}),
        );
    } else {
        for r in &report.rules {
            let status = match (r.passed, r.required) {
                (true, _) => "PASS",
                (false, true) => "FAIL",
                (false, false) => "WARN",
            };
            println!("{status:4} {:18} {}", r.id, r.title);
            for o in r.offenders.iter().take(10) {
                println!("       - {o}");
            }
            if r.offenders.len() > 10 {
                println!("       ... and {} more", r.offenders.len() - 10);
            }
        }
        println!(
            "{}",
            if report.compliant {
                "compliant"
            } else {
                "NOT compliant"
            }
        );
    }
    Ok(if report.compliant {
        ExitCode::SUCCESS
    } else {
        exit_failed()
    })
}
