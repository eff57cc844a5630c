//! `leo attest sign|verify|inspect`: DSSE envelopes carrying in-toto statements, and the
//! builder's bundle attestation.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use leo_artifact::{Member, ReadLimits, Sha256Digest, read_bundle_file};
use leo_attest::{
    DsseSigner, Envelope, Expectations, ExpectedSource, KeySet, PAYLOAD_TYPE, Provenance,
    ProvenancePolicy, PublicKey, SigningKey, Statement, TrustedBuilder, VerifiedEnvelope,
};
use serde_json::{Value, json};

use crate::output::{VerificationFailed, print_json};

/// The largest key file read (1 MiB).
const MAX_KEY_FILE: u64 = 1024 * 1024;

/// `leo attest` subcommands.
#[derive(Debug, Subcommand)]
pub enum AttestCommand {
    /// Sign a payload (an in-toto statement by default) into a DSSE envelope.
    Sign(SignArgs),
    /// Verify a DSSE envelope (or a bundle's attestation): exit 0 valid, 1 rejected, 2 error.
    Verify(VerifyArgs),
    /// Show an envelope's statement without verifying it.
    Inspect(InspectArgs),
}

/// Arguments of `leo attest sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The payload file (an in-toto Statement v1 unless `--payload-type` says otherwise).
    payload: PathBuf,
    /// PKCS#8 PEM private key (Ed25519, ECDSA P-256, RSA); repeat for several signatures.
    #[arg(long = "key", required = true)]
    keys: Vec<PathBuf>,
    /// DSSE payload type.
    #[arg(long, default_value = PAYLOAD_TYPE)]
    payload_type: String,
    /// Where to write the envelope (default: `<payload>.dsse.json`).
    #[arg(short, long)]
    out: Option<PathBuf>,
}

/// Arguments of `leo attest verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The envelope file (omit with `--bundle`).
    #[arg(required_unless_present = "bundle")]
    envelope: Option<PathBuf>,
    /// Verify the attestation inside this `artifact.tar.gz` against its members instead.
    #[arg(long, conflicts_with = "envelope")]
    bundle: Option<PathBuf>,
    /// Trusted public key (SPKI PEM); repeat for several.
    #[arg(long = "key", required = true)]
    keys: Vec<PathBuf>,
    /// How many distinct trusted keys must have signed.
    #[arg(long, default_value_t = 1)]
    threshold: usize,
    /// The artifact the statement must be about (its SHA-256 must be a subject).
    #[arg(long, conflicts_with = "digest")]
    artifact: Option<PathBuf>,
    /// The artifact's SHA-256 (hex, or `sha256:<hex>`).
    #[arg(long)]
    digest: Option<String>,
    /// Provenance policy: the trusted `builder.id` (signed by any of the `--key`s).
    #[arg(long)]
    builder_id: Option<String>,
    /// Provenance policy: allowed `buildType` (repeatable; default: LEO's bundle build type).
    #[arg(long = "build-type")]
    build_types: Vec<String>,
    /// Provenance policy: expected source repository.
    #[arg(long)]
    source_repo: Option<String>,
    /// Provenance policy: expected source ref (`refs/heads/main`).
    #[arg(long, requires = "source_repo")]
    source_ref: Option<String>,
    /// Provenance policy: commit that must be among the materials.
    #[arg(long)]
    merge_base: Option<String>,
    /// Accept in-toto Statement v0.1 (legacy).
    #[arg(long)]
    allow_legacy: bool,
}

/// Arguments of `leo attest inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The envelope file (omit with `--bundle`).
    #[arg(required_unless_present = "bundle")]
    envelope: Option<PathBuf>,
    /// Inspect the attestation inside this `artifact.tar.gz`.
    #[arg(long, conflicts_with = "envelope")]
    bundle: Option<PathBuf>,
}

/// Runs `leo attest`.
pub fn run(command: &AttestCommand, json: bool) -> anyhow::Result<ExitCode> {
    match command {
        AttestCommand::Sign(a) => sign(a, json),
        AttestCommand::Verify(a) => verify(a, json),
        AttestCommand::Inspect(a) => inspect(a, json),
    }
}

/// Maps a library error: failed checks exit 1, unusable inputs exit 2.
fn classify(e: leo_attest::Error) -> anyhow::Error {
    use leo_attest::Error as E;
    match e {
        E::Io { .. } | E::InvalidKey { .. } | E::InvalidThreshold { .. } => anyhow::Error::new(e),
        other => anyhow::Error::new(VerificationFailed(other.to_string())),
    }
}

fn read_small(path: &Path) -> anyhow::Result<String> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    anyhow::ensure!(
        len <= MAX_KEY_FILE,
        "{} is larger than {MAX_KEY_FILE} bytes",
        path.display()
    );
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn sign(args: &SignArgs, json: bool) -> anyhow::Result<ExitCode> {
    let payload = std::fs::read(&args.payload)
        .with_context(|| format!("reading {}", args.payload.display()))?;
    if args.payload_type == PAYLOAD_TYPE {
        Statement::from_json(&payload).with_context(|| {
            format!("{} is not an in-toto Statement v1", args.payload.display())
        })?;
    }
    let keys = args
        .keys
        .iter()
        .map(|p| {
            SigningKey::from_pkcs8_pem(&read_small(p)?)
                .with_context(|| format!("loading private key {}", p.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let signers: Vec<&dyn DsseSigner> = keys.iter().map(|k| k as &dyn DsseSigner).collect();
    let envelope = Envelope::sign(&args.payload_type, &payload, &signers)?;
    let out = args.out.clone().unwrap_or_else(|| {
        let mut p = args.payload.clone().into_os_string();
        p.push(".dsse.json");
        PathBuf::from(p)
    });
    leo_artifact::fsutil::write_bytes_atomically(&out, &envelope.to_json())?;
    let key_ids: Vec<String> = keys
        .iter()
        .map(|k| k.public_key().key_id().to_string())
        .collect();
    if json {
        print_json(&json!({"ok": true, "envelope": out.display().to_string(), "keyids": key_ids}));
    } else {
        println!(
            "signed {} -> {} ({})",
            args.payload.display(),
            out.display(),
            key_ids.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn load_keys(paths: &[PathBuf]) -> anyhow::Result<KeySet> {
    paths
        .iter()
        .map(|p| {
            PublicKey::from_pem(&read_small(p)?)
                .with_context(|| format!("loading public key {}", p.display()))
        })
        .collect()
}

fn policy(args: &VerifyArgs, keys: &KeySet, builder_id: &str) -> ProvenancePolicy {
    let build_types = if args.build_types.is_empty() {
        vec![leo_attest::BUNDLE_BUILD_TYPE.to_owned()]
    } else {
        args.build_types.clone()
    };
    ProvenancePolicy {
        trusted_builders: keys
            .keys()
            .iter()
            .map(|k| TrustedBuilder {
                key_id: k.key_id().clone(),
                builder_id: builder_id.to_owned(),
            })
            .collect(),
        allowed_build_types: build_types,
        source: args.source_repo.as_ref().map(|r| ExpectedSource {
            repository: r.clone(),
            git_ref: args.source_ref.clone(),
        }),
        threshold: args.threshold,
        accept_legacy_statement: args.allow_legacy,
    }
}

fn verify(args: &VerifyArgs, json: bool) -> anyhow::Result<ExitCode> {
    let keys = load_keys(&args.keys)?;
    let digest = match (&args.artifact, &args.digest) {
        (Some(p), _) => Some(leo_artifact::hash_file(p)?.0),
        (None, Some(d)) => Some(
            Sha256Digest::parse_prefixed(d)
                .or_else(|_| d.parse())
                .with_context(|| format!("invalid --digest {d:?}"))?,
        ),
        (None, None) => None,
    };
    let merge_base = args
        .merge_base
        .as_deref()
        .map(str::parse)
        .transpose()
        .context("invalid --merge-base")?;
    if let Some(bundle_path) = &args.bundle {
        let builder_id = args
            .builder_id
            .as_deref()
            .context("--bundle needs --builder-id (the provenance policy)")?;
        let bundle = read_bundle_file(bundle_path, &ReadLimits::default())
            .map_err(|e| anyhow::Error::new(VerificationFailed(e.to_string())))?;
        let v =
            leo_attest::verify_bundle_attestation(&bundle, &keys, &policy(args, &keys, builder_id))
                .map_err(classify)?;
        let report = json!({
            "ok": true, "bundle": bundle.bundle_digest.to_string(), "keyids": v.key_ids,
            "builderId": v.builder_id, "buildType": v.build_type,
            "subjects": v.statement.subject.iter().filter_map(|s| s.name.clone()).collect::<Vec<_>>(),
        });
        print_report(
            &report,
            json,
            &format!(
                "bundle {} attestation verified (builder {})",
                bundle.bundle_digest, v.builder_id
            ),
        );
        return Ok(ExitCode::SUCCESS);
    }
    let path = args
        .envelope
        .as_deref()
        .context("an envelope path is required")?;
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let envelope = Envelope::from_json(&bytes).map_err(classify)?;
    let verified = keys.verify(&envelope, args.threshold).map_err(classify)?;
    let expected = Expectations {
        artifact: digest,
        merge_base,
    };
    let report = if let Some(builder_id) = &args.builder_id {
        let v = policy(args, &keys, builder_id)
            .check(&verified, &expected)
            .map_err(classify)?;
        json!({"ok": true, "keyids": v.key_ids, "builderId": v.builder_id, "buildType": v.build_type,
               "predicateType": v.statement.predicate_type})
    } else {
        statement_report(&verified, &expected, args.allow_legacy)?
    };
    print_report(&report, json, &format!("{} verified", path.display()));
    Ok(ExitCode::SUCCESS)
}

/// Without a provenance policy: the payload must still be a statement (for in-toto types),
/// and about the artifact when one is given.
fn statement_report(
    v: &VerifiedEnvelope,
    expected: &Expectations,
    legacy: bool,
) -> anyhow::Result<Value> {
    let mut report = json!({"ok": true, "payloadType": v.payload_type, "keyids": v.key_ids});
    if leo_attest::statement::is_in_toto_payload_type(&v.payload_type) {
        let s = if legacy {
            Statement::from_json_allow_legacy(&v.payload)
        } else {
            Statement::from_json(&v.payload)
        }
        .map_err(classify)?;
        if let Some(d) = &expected.artifact {
            if s.subject_matching(d).is_none() {
                return Err(classify(leo_attest::Error::SubjectNotFound {
                    digest: d.to_string(),
                }));
            }
        }
        set(&mut report, "predicateType", json!(s.predicate_type));
    } else if expected.artifact.is_some() {
        return Err(anyhow::Error::new(VerificationFailed(
            "--artifact/--digest need an in-toto payload".into(),
        )));
    }
    Ok(report)
}

/// Adds a field to a JSON object report.
fn set(report: &mut Value, key: &str, value: Value) {
    if let Some(obj) = report.as_object_mut() {
        obj.insert(key.to_owned(), value);
    }
}

fn print_report(report: &Value, json: bool, text: &str) {
    if json {
        print_json(report);
    } else {
        println!("OK: {text}");
    }
}

fn inspect(args: &InspectArgs, json: bool) -> anyhow::Result<ExitCode> {
    let bytes = match (&args.bundle, &args.envelope) {
        (Some(b), _) => read_bundle_file(b, &ReadLimits::default())?
            .member(Member::Attestation)
            .to_vec(),
        (None, Some(e)) => std::fs::read(e).with_context(|| format!("reading {}", e.display()))?,
        (None, None) => anyhow::bail!("an envelope path or --bundle is required"),
    };
    let envelope = Envelope::from_json(&bytes).map_err(classify)?;
    let mut report = json!({
        "verified": false,
        "payloadType": envelope.payload_type,
        "signatures": envelope.signatures.iter().map(|s| json!({"keyid": s.keyid, "bytes": s.sig.len()})).collect::<Vec<_>>(),
    });
    if let Ok(s) = Statement::from_json_allow_legacy(&envelope.payload) {
        set(
            &mut report,
            "statement",
            json!({
                "type": s.version.type_uri(),
                "predicateType": s.predicate_type,
                "subject": s.subject,
            }),
        );
        if let Ok(p) = Provenance::from_statement(&s) {
            set(
                &mut report,
                "provenance",
                json!({"builderId": p.builder_id(), "buildType": p.build_type()}),
            );
        }
    }
    if json {
        print_json(&report);
    } else {
        println!(
            "UNVERIFIED envelope ({} signature(s)), payloadType {}",
            envelope.signatures.len(),
            envelope.payload_type
        );
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}
