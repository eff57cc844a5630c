//! `leo bundle create|inspect|verify`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use leo_artifact::{Marker, Member, ReadLimits, Sha256Digest, VerifiedBundle, read_bundle};
use leo_gates::builder::{Assembled, BundleSpec, assemble_bundle, prepare_bundle};

use crate::output::{VerificationFailed, print_json};
use crate::progress;

/// `leo bundle` subcommands.
#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Build artifact.tar.gz from a git change (merge-base of BASE..HEAD to HEAD).
    Create(CreateArgs),
    /// Verify a bundle and show what it holds.
    Inspect(ReadArgs),
    /// Verify a bundle's structure and digests (exit 1 if anything is wrong).
    Verify(VerifyArgs),
}

/// Arguments of `leo bundle create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The git repository (its work tree should be checked out at HEAD when the SBOM is
    /// generated from it).
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// The base revision (e.g. `main`).
    #[arg(long)]
    base: String,
    /// The head revision (e.g. `staging/codex-feature`).
    #[arg(long, default_value = "HEAD")]
    head: String,
    /// The builder's private key (PKCS#8 PEM, Ed25519 or ECDSA P-256): signs the in-toto
    /// attestation (SLSA Provenance v0.2) over the bundle's members.
    #[arg(long, required_unless_present = "attestation")]
    key: Option<PathBuf>,
    /// A ready DSSE attestation to include instead of signing one (must cover the members).
    #[arg(long, conflicts_with = "key")]
    attestation: Option<PathBuf>,
    /// A CycloneDX SBOM to include; by default one is generated from the lockfiles in the
    /// repository's work tree.
    #[arg(long)]
    sbom: Option<PathBuf>,
    /// `builder.id` recorded in the provenance.
    #[arg(long, default_value = "urn:leo:builder:codex")]
    builder_id: String,
    /// The repository URI recorded in the provenance and SBOM (default: `file://<repo>`).
    #[arg(long)]
    repository: Option<String>,
    /// The SBOM's supplier (NTIA minimum element).
    #[arg(long, default_value = "LEO builder lane")]
    supplier: String,
    /// Where to write the bundle.
    #[arg(short, long, default_value = "artifact.tar.gz")]
    output: PathBuf,
    #[command(flatten)]
    resolution: crate::cmd::sbom::ResolutionArgs,
}

/// Arguments of `leo bundle inspect`.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The bundle.
    bundle: PathBuf,
    /// Largest member accepted, in bytes.
    #[arg(long, default_value_t = ReadLimits::default().max_member_size)]
    max_member_size: u64,
}

/// Arguments of `leo bundle verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    read: ReadArgs,
    /// Also require the bundle's SHA-256 to be this (64 hex, or a `[CODEX-READY:<hash>]` marker).
    #[arg(long)]
    expect: Option<String>,
    /// After verification, write the members into this existing directory (never overwrites).
    #[arg(long)]
    extract: Option<PathBuf>,
}

/// Runs a `leo bundle` subcommand.
pub fn run(cmd: &BundleCommand, json: bool) -> anyhow::Result<ExitCode> {
    match cmd {
        BundleCommand::Create(a) => create(a, json),
        BundleCommand::Inspect(a) => inspect(a, json),
        BundleCommand::Verify(a) => verify(a, json),
    }
}

/// `SOURCE_DATE_EPOCH` (reproducible builds) as the bundle time; `None` when unset (the
/// head commit's time is used).
fn source_date_epoch() -> anyhow::Result<Option<time::OffsetDateTime>> {
    let Ok(v) = std::env::var("SOURCE_DATE_EPOCH") else {
        return Ok(None);
    };
    let secs = v
        .trim()
        .parse::<i64>()
        .with_context(|| format!("SOURCE_DATE_EPOCH={v:?} is not an integer"))?;
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map(Some)
        .context("SOURCE_DATE_EPOCH out of range")
}

fn read_file(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading the {what} {}", path.display()))
}

fn create(a: &CreateArgs, json: bool) -> anyhow::Result<ExitCode> {
    let reproducible = std::env::var_os("SOURCE_DATE_EPOCH").is_some();
    let repository = match &a.repository {
        Some(r) => r.clone(),
        None => format!(
            "file://{}",
            std::fs::canonicalize(&a.repo)
                .unwrap_or_else(|_| a.repo.clone())
                .display()
        ),
    };
    let spec = BundleSpec {
        base: a.base.clone(),
        head: a.head.clone(),
        builder_id: a.builder_id.clone(),
        repository,
        supplier: a.supplier.clone(),
        name: std::fs::canonicalize(&a.repo)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "repository".into()),
        started_on: time::OffsetDateTime::now_utc(),
        created_at: source_date_epoch()?,
        reproducible,
        sbom_resolver: a.resolution.resolver(),
        sbom: a
            .sbom
            .as_deref()
            .map(|p| read_file(p, "SBOM"))
            .transpose()?,
    };
    let (Assembled { input, files }, signed_by) = match (&a.key, &a.attestation) {
        (_, Some(path)) => {
            let mut bundle = prepare_bundle(&a.repo, &spec)?.bundle;
            bundle.input.attestation = read_file(path, "attestation")?;
            (bundle, None)
        }
        (Some(key_path), None) => {
            let key = load_builder_key(key_path)?;
            let bundle = assemble_bundle(&a.repo, &spec, &[&key as &dyn leo_attest::DsseSigner])?;
            (bundle, Some(key.public_key().key_id().to_string()))
        }
        (None, None) => return Err(anyhow!("give --key (to sign) or --attestation")),
    };
    let hash = input.write_to_path(&a.output)?;
    let marker = Marker::CodexReady(hash);
    if json {
        print_json(&serde_json::json!({
            "ok": true,
            "bundle": a.output.display().to_string(),
            "sha256": hash.to_string(),
            "marker": marker.to_string(),
            "base": input.revisions.base, "head": input.revisions.head,
            "mergeBase": input.revisions.merge_base,
            "attestationKeyId": signed_by,
            "files": files,
        }));
    } else {
        println!(
            "wrote {} ({} files changed)",
            a.output.display(),
            files.len()
        );
        if let Some(k) = signed_by {
            println!("attestation signed by key {k}");
        }
        println!("sha256 {hash}");
        println!("marker {marker}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads a PKCS#8 private key, PEM (`leo-attest`, openssl) or DER (`leo keys generate --raw`).
fn load_builder_key(path: &Path) -> anyhow::Result<leo_attest::SigningKey> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("reading the builder key {}", path.display()))?;
    let key = match std::str::from_utf8(&bytes) {
        Ok(text) if text.trim_start().starts_with("-----BEGIN") => {
            leo_attest::SigningKey::from_pkcs8_pem(text)
        }
        _ => leo_attest::SigningKey::from_pkcs8_der(&bytes),
    };
    key.with_context(|| format!("loading the builder key {}", path.display()))
}

/// Reads and verifies a bundle. Problems with the bundle itself are verification failures
/// (exit 1); failing to open it is an I/O error (exit 2).
fn load(a: &ReadArgs) -> anyhow::Result<VerifiedBundle> {
    let file = File::open(&a.bundle).with_context(|| format!("opening {}", a.bundle.display()))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress::bytes(total, "verifying");
    let limits = ReadLimits {
        max_member_size: a.max_member_size,
        ..ReadLimits::default()
    };
    let result = read_bundle(bar.wrap_read(file), &limits);
    bar.finish_and_clear();
    result.map_err(|e| match e {
        leo_artifact::Error::Io { .. } => anyhow!(e),
        other => anyhow!(VerificationFailed(format!(
            "{}: {other}",
            a.bundle.display()
        ))),
    })
}

fn summary(b: &VerifiedBundle) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("ok".into(), true.into());
    m.insert("sha256".into(), b.bundle_digest.to_string().into());
    m.insert(
        "marker".into(),
        Marker::CodexReady(b.bundle_digest).to_string().into(),
    );
    m.insert("size".into(), b.compressed_size.into());
    m.insert(
        "manifest".into(),
        serde_json::to_value(&b.manifest).unwrap_or_default(),
    );
    m
}

fn inspect(a: &ReadArgs, json: bool) -> anyhow::Result<ExitCode> {
    let b = load(a)?;
    if json {
        let mut v = summary(&b);
        v.insert(
            "rollback".into(),
            String::from_utf8_lossy(b.member(Member::Rollback)).into(),
        );
        print_json(&v.into());
        return Ok(ExitCode::SUCCESS);
    }
    let m = &b.manifest;
    println!("bundle     {}", a.bundle.display());
    println!("sha256     {}", b.bundle_digest);
    println!("created    {}", m.created_at);
    println!("base       {}", m.base);
    println!("head       {}", m.head);
    println!("merge-base {}", m.merge_base);
    println!("members:");
    for e in &m.members {
        println!("  {:<24} {:>10}  {}", e.name.file_name(), e.size, e.sha256);
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(a: &VerifyArgs, json: bool) -> anyhow::Result<ExitCode> {
    let expected = a.expect.as_deref().map(parse_expected).transpose()?;
    let b = load(&a.read)?;
    if let Some(expected) = expected {
        if expected != b.bundle_digest {
            return Err(anyhow!(VerificationFailed(
                leo_artifact::Error::BundleDigestMismatch {
                    expected,
                    actual: b.bundle_digest,
                }
                .to_string()
            )));
        }
    }
    if let Some(dir) = &a.extract {
        b.extract_to(dir)?;
    }
    if json {
        print_json(&summary(&b).into());
    } else {
        println!(
            "{}: OK ({} members, sha256 {})",
            a.read.bundle.display(),
            b.manifest.members.len() + 1,
            b.bundle_digest
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_expected(s: &str) -> anyhow::Result<Sha256Digest> {
    let s = s.trim();
    if s.starts_with('[') {
        let marker: Marker = s.parse()?;
        return marker
            .bundle_hash()
            .copied()
            .ok_or_else(|| anyhow!("marker {s} names no bundle hash"));
    }
    Ok(s.parse()?)
}
