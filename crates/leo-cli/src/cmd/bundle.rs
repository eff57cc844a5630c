//! `leo bundle create|inspect|verify`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use leo_artifact::{
    BundleInput, Marker, Member, ReadLimits, Sha256Digest, VerifiedBundle, create_patch,
    read_bundle, rollback_notes,
};

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
    /// The git repository.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// The base revision (e.g. `main`).
    #[arg(long)]
    base: String,
    /// The head revision (e.g. `staging/codex-feature`).
    #[arg(long, default_value = "HEAD")]
    head: String,
    /// The CycloneDX SBOM to include as sbom.cdx.json.
    #[arg(long)]
    sbom: PathBuf,
    /// The DSSE attestation to include as attestation.dsse.json.
    #[arg(long)]
    attestation: PathBuf,
    /// Where to write the bundle.
    #[arg(short, long, default_value = "artifact.tar.gz")]
    output: PathBuf,
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
}

/// Runs a `leo bundle` subcommand.
pub fn run(cmd: &BundleCommand, json: bool) -> anyhow::Result<ExitCode> {
    match cmd {
        BundleCommand::Create(a) => create(a, json),
        BundleCommand::Inspect(a) => inspect(a, json),
        BundleCommand::Verify(a) => verify(a, json),
    }
}

/// The bundle time: `SOURCE_DATE_EPOCH` when set (reproducible builds), else the head commit's.
fn bundle_time(head_time: i64) -> anyhow::Result<time::OffsetDateTime> {
    let secs = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v
            .trim()
            .parse::<i64>()
            .with_context(|| format!("SOURCE_DATE_EPOCH={v:?} is not an integer"))?,
        Err(_) => head_time,
    };
    time::OffsetDateTime::from_unix_timestamp(secs).context("bundle time out of range")
}

fn read_file(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading the {what} {}", path.display()))
}

fn create(a: &CreateArgs, json: bool) -> anyhow::Result<ExitCode> {
    let patch = create_patch(&a.repo, &a.base, &a.head)?;
    let input = BundleInput {
        revisions: patch.revisions.clone(),
        created_at: bundle_time(patch.head_time)?,
        rollback: rollback_notes(&patch.revisions, &patch.files).into_bytes(),
        patch: patch.bytes.clone(),
        sbom: read_file(&a.sbom, "SBOM")?,
        attestation: read_file(&a.attestation, "attestation")?,
    };
    let hash = input.write_to_path(&a.output)?;
    let marker = Marker::CodexReady(hash);
    if json {
        print_json(&serde_json::json!({
            "ok": true,
            "bundle": a.output.display().to_string(),
            "sha256": hash.to_string(),
            "marker": marker.to_string(),
            "base": patch.revisions.base, "head": patch.revisions.head,
            "mergeBase": patch.revisions.merge_base,
            "files": patch.files,
        }));
    } else {
        println!(
            "wrote {} ({} files changed)",
            a.output.display(),
            patch.files.len()
        );
        println!("sha256 {hash}");
        println!("marker {marker}");
    }
    Ok(ExitCode::SUCCESS)
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
