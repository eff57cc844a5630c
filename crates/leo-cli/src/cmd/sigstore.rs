//! `leo sigstore`: verify Sigstore bundles offline, sign with cosign keys or keylessly,
//! generate cosign key pairs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use leo_sign::sigstore::{
    ArtifactInput, CosignKeyPair, KeyPolicy, KeyedSigner, KeylessSigner, Password, SigstoreBundle,
    SigstoreError, SigstoreErrorKind, SigstorePolicy, SigstoreVerifier, TrustRoot,
};

use crate::output::{exit_failed, exit_usage, print_json};

/// `leo sigstore` subcommands.
#[derive(Debug, Subcommand)]
pub enum SigstoreCommand {
    /// Verify a bundle offline: exit 0 verified, 1 rejected (with the failed check), 2 error.
    Verify(VerifyArgs),
    /// Sign a file: with a cosign key (offline) or keylessly through Fulcio and Rekor.
    Sign(SignArgs),
    /// Write `<prefix>.key` (encrypted with $COSIGN_PASSWORD, mode 0600) and `<prefix>.pub`.
    GenerateKeyPair(GenerateArgs),
}

/// Arguments of `leo sigstore verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bundle (`*.sigstore.json`).
    #[arg(long)]
    bundle: PathBuf,
    /// Exact certificate SAN (e-mail or URI).
    #[arg(long, conflicts_with_all = ["key", "certificate_identity_regexp"], requires = "certificate_oidc_issuer")]
    certificate_identity: Option<String>,
    /// Regex the whole certificate SAN must match.
    #[arg(long, conflicts_with = "key", requires = "certificate_oidc_issuer")]
    certificate_identity_regexp: Option<String>,
    /// Exact OIDC issuer.
    #[arg(long, conflicts_with = "key")]
    certificate_oidc_issuer: Option<String>,
    /// A managed public key (PEM SPKI, e.g. cosign.pub) instead of an identity.
    #[arg(long)]
    key: Option<PathBuf>,
    /// With `--key`: also accept bundles without log entry or timestamp (offline keyed).
    #[arg(long, requires = "key")]
    offline_key: bool,
    /// Trusted root JSON (default: the production root embedded in LEO).
    #[arg(long)]
    trusted_root: Option<PathBuf>,
    /// Without `--trusted-root`: use the embedded staging root.
    #[arg(long)]
    staging: bool,
    /// The artifact file, or `sha256:<hex>`.
    artifact: String,
}

/// Arguments of `leo sigstore sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// A cosign private key (password from $COSIGN_PASSWORD, empty if unset).
    #[arg(long, conflicts_with = "keyless")]
    key: Option<PathBuf>,
    /// With `--key`: also log the signature in this Rekor v1 log (as cosign does by default,
    /// e.g. https://rekor.sigstore.dev); without it the keyed bundle has no log entry.
    #[arg(long, requires = "key")]
    rekor_url: Option<String>,
    /// Keyless: Fulcio certificate for an OIDC token, Rekor entry (needs the network).
    #[arg(long)]
    keyless: bool,
    /// With `--keyless`: the OIDC token (default: the ambient CI token).
    #[arg(
        long,
        requires = "keyless",
        env = "SIGSTORE_ID_TOKEN",
        hide_env_values = true
    )]
    identity_token: Option<String>,
    /// With `--keyless`: the staging instance.
    #[arg(long, requires = "keyless")]
    staging: bool,
    /// Where to write the bundle.
    #[arg(long)]
    output: PathBuf,
    /// The file to sign.
    file: PathBuf,
}

/// Arguments of `leo sigstore generate-key-pair`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// File name prefix.
    #[arg(long, default_value = "cosign")]
    output_key_prefix: String,
    /// Directory to write into.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
}

/// Runs `leo sigstore`.
pub fn run(command: &SigstoreCommand, json: bool) -> anyhow::Result<ExitCode> {
    match command {
        SigstoreCommand::Verify(args) => verify(args, json),
        SigstoreCommand::Sign(args) => sign(args, json),
        SigstoreCommand::GenerateKeyPair(args) => generate(args, json),
    }
}

/// Whether a failure is a rejected bundle (exit 1) rather than a usage or I/O error (exit 2).
fn is_rejection(err: &SigstoreError) -> bool {
    !matches!(
        err.kind(),
        SigstoreErrorKind::Io | SigstoreErrorKind::Input | SigstoreErrorKind::PrivateKey
    )
}

fn fail(err: &SigstoreError, json: bool) -> ExitCode {
    if json {
        print_json(&serde_json::json!({
            "ok": false, "kind": err.kind(), "error": err.to_string(),
        }));
    } else {
        eprintln!("leo: sigstore: {} check failed: {err}", err.kind());
    }
    if is_rejection(err) {
        exit_failed()
    } else {
        exit_usage()
    }
}

fn verify(args: &VerifyArgs, json: bool) -> anyhow::Result<ExitCode> {
    let outcome = (|| {
        let root = match (&args.trusted_root, args.staging) {
            (Some(path), _) => TrustRoot::from_file(path)?,
            (None, true) => TrustRoot::embedded_staging()?,
            (None, false) => TrustRoot::embedded_production()?,
        };
        let policy = match (&args.key, &args.certificate_oidc_issuer) {
            (Some(key), _) => {
                let key = KeyPolicy::from_file(key)?;
                SigstorePolicy::key(if args.offline_key {
                    key.allow_offline()
                } else {
                    key
                })
            }
            (None, Some(issuer)) => match (
                &args.certificate_identity,
                &args.certificate_identity_regexp,
            ) {
                (Some(id), _) => SigstorePolicy::identity(id.as_str(), issuer.as_str()),
                (None, Some(re)) => SigstorePolicy::identity_regex(re, issuer.as_str())?,
                (None, None) => return Err(usage("give --certificate-identity[-regexp]")),
            },
            (None, None) => {
                return Err(usage(
                    "give --key, or an identity and --certificate-oidc-issuer",
                ));
            }
        };
        let input: ArtifactInput = args.artifact.parse()?;
        let bundle = SigstoreBundle::from_file(&args.bundle)?;
        SigstoreVerifier::new(root, policy).verify_input(&bundle, &input)
    })();
    match outcome {
        Ok(v) => {
            if json {
                print_json(&serde_json::json!({ "ok": true, "verification": v }));
            } else {
                println!(
                    "verified: {:?}, {} log entries (tlog verified: {}), {} time sources",
                    v.signer,
                    v.log_entries.len(),
                    v.tlog_verified,
                    v.time_sources.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(fail(&e, json)),
    }
}

fn usage(reason: &str) -> SigstoreError {
    SigstoreError::InvalidInput {
        what: "arguments",
        reason: reason.to_owned(),
    }
}

fn sign(args: &SignArgs, json: bool) -> anyhow::Result<ExitCode> {
    let outcome = (|| {
        let file = std::fs::File::open(&args.file)
            .map_err(|e| SigstoreError::io(format!("opening {}", args.file.display()), e))?;
        let reader = std::io::BufReader::new(file);
        if let Some(key) = &args.key {
            let password = Password::from_env().unwrap_or_else(|| Password::new(""));
            let key = CosignKeyPair::from_encrypted_file(key, &password)?;
            let signer = match &args.rekor_url {
                Some(url) => KeyedSigner::new(key).with_rekor(url.as_str()),
                None => KeyedSigner::new(key),
            };
            return signer.sign_reader(reader);
        }
        if !args.keyless {
            return Err(usage("give --key or --keyless"));
        }
        let services = if args.staging {
            KeylessSigner::staging_services()?
        } else {
            KeylessSigner::production_services()?
        };
        let signer = match &args.identity_token {
            Some(token) => KeylessSigner::new(services, token)?,
            None => KeylessSigner::ambient(services)?
                .ok_or_else(|| usage("no --identity-token and no ambient CI token"))?,
        };
        signer.sign_reader(reader)
    })();
    let bundle = match outcome {
        Ok(b) => b,
        Err(e) => return Ok(fail(&e, json)),
    };
    let text = bundle.to_json()?;
    leo_artifact::fsutil::write_bytes_atomically(&args.output, text.as_bytes())
        .with_context(|| format!("writing {}", args.output.display()))?;
    if json {
        print_json(&serde_json::json!({ "ok": true, "bundle": args.output.display().to_string() }));
    } else {
        println!("wrote {}", args.output.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn generate(args: &GenerateArgs, json: bool) -> anyhow::Result<ExitCode> {
    let password = Password::from_env().unwrap_or_else(|| Password::new(""));
    let key = CosignKeyPair::generate()?;
    let (key_path, pub_path) = key.write_files(&args.dir, &args.output_key_prefix, &password)?;
    if json {
        print_json(&serde_json::json!({
            "ok": true, "private_key": key_path.display().to_string(),
            "public_key": pub_path.display().to_string(), "hint": key.hint(),
        }));
    } else {
        println!("Private key written to {}", key_path.display());
        println!("Public key written to {}", pub_path.display());
    }
    Ok(ExitCode::SUCCESS)
}
