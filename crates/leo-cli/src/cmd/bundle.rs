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
    let started = time::OffsetDateTime::now_utc();
    let reproducible = std::env::var_os("SOURCE_DATE_EPOCH").is_some();
    let patch = create_patch(&a.repo, &a.base, &a.head)?;
    let created_at = bundle_time(patch.head_time)?;
    let repository = match &a.repository {
        Some(r) => r.clone(),
        None => format!(
            "file://{}",
            std::fs::canonicalize(&a.repo)
                .unwrap_or_else(|_| a.repo.clone())
                .display()
        ),
    };
    let sbom = match &a.sbom {
        Some(path) => read_file(path, "SBOM")?,
        None => {
            let name = std::fs::canonicalize(&a.repo)
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "repository".into());
            let options = leo_attest::sbom::SbomOptions {
                name,
                head: patch.revisions.head.clone(),
                repository: Some(repository.clone()),
                timestamp: created_at,
                author: "LEO builder lane".into(),
                supplier: a.supplier.clone(),
            };
            leo_attest::sbom::generate(&a.repo, &options).context("generating the SBOM")?
        }
    };
    let mut input = BundleInput {
        revisions: patch.revisions.clone(),
        created_at,
        rollback: rollback_notes(&patch.revisions, &patch.files).into_bytes(),
        patch: patch.bytes.clone(),
        sbom,
        attestation: Vec::new(),
    };
    let signed_by = match (&a.key, &a.attestation) {
        (_, Some(path)) => {
            input.attestation = read_file(path, "attestation")?;
            None
        }
        (Some(key_path), None) => {
            let key = load_builder_key(key_path)?;
            let build = leo_attest::BuildInfo {
                builder_id: a.builder_id.clone(),
                build_type: leo_attest::BUNDLE_BUILD_TYPE.into(),
                repository,
                git_ref: Some(format!(
                    "refs/heads/{}",
                    a.head.trim_start_matches("refs/heads/")
                )),
                // Under SOURCE_DATE_EPOCH every timestamp is the bundle time, so the same
                // change gives the same bytes; only then is the bundle claimed reproducible.
                started_on: if reproducible { created_at } else { started },
                finished_on: if reproducible {
                    created_at
                } else {
                    time::OffsetDateTime::now_utc()
                },
                reproducible,
            };
            input.attestation = leo_attest::sign_bundle_attestation(
                &input,
                &build,
                &[&key as &dyn leo_attest::DsseSigner],
            )?;
            Some(key.public_key().key_id().to_string())
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
            "base": patch.revisions.base, "head": patch.revisions.head,
            "mergeBase": patch.revisions.merge_base,
            "attestationKeyId": signed_by,
            "files": patch.files,
        }));
    } else {
        println!(
            "wrote {} ({} files changed)",
            a.output.display(),
            patch.files.len()
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
