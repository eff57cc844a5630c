//! `leo sign` and `leo verify`: detached signatures over files (streamed, never loaded
//! whole for OpenPGP), with the OpenPGP key ring or a raw key.

use std::fs::File;
use std::io::{BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use leo_sign::{
    Backend, DetachedSignature, PgpCert, PgpVerifier, RawKeyPair, RawKeyVerifier, RawPublicKey,
    SignatureReport, Signer, SignerIdentity, Verifier, VerifyOptions,
};
use time::OffsetDateTime;

use super::keys::RingArg;
use crate::output::{VerificationFailed, print_json};

/// The largest signature or public-key file read (1 MiB).
const MAX_SMALL_FILE: u64 = 1024 * 1024;

/// Signing backends selectable on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// OpenPGP with the key ring's current key (armored `.asc`).
    Pgp,
    /// A raw Ed25519/ECDSA P-256 key (`.sig`, JSON).
    Key,
}

impl BackendArg {
    fn default_extension(self) -> &'static str {
        match self {
            Self::Pgp => "asc",
            Self::Key => "sig",
        }
    }

    fn backend(self) -> Backend {
        match self {
            Self::Pgp => Backend::OpenPgp,
            Self::Key => Backend::RawKey,
        }
    }
}

/// Arguments of `leo sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The file to sign.
    file: PathBuf,
    /// Signing backend.
    #[arg(long, value_enum, default_value = "pgp")]
    backend: BackendArg,
    #[command(flatten)]
    ring: RingArg,
    /// Raw secret key (PKCS#8) for `--backend key`.
    #[arg(long, required_if_eq("backend", "key"))]
    key: Option<PathBuf>,
    /// Where to write the signature (default: `<file>.asc` or `<file>.sig`).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// Arguments of `leo verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The signed file.
    file: PathBuf,
    /// The detached signature (default: `<file>.asc` or `<file>.sig`).
    #[arg(long, short)]
    signature: Option<PathBuf>,
    /// Signature backend.
    #[arg(long, value_enum, default_value = "pgp")]
    backend: BackendArg,
    #[command(flatten)]
    ring: RingArg,
    /// Pin these armored certificates instead of the key ring (`--backend pgp`).
    #[arg(long)]
    cert: Vec<PathBuf>,
    /// Pin these raw public keys (`.pub.json`, `--backend key`).
    #[arg(long, required_if_eq("backend", "key"))]
    public_key: Vec<PathBuf>,
    /// Require the signer's primary fingerprint to be this one.
    #[arg(long)]
    fingerprint: Option<String>,
    /// The bundle's timestamp (RFC 3339): signatures made after it are rejected.
    #[arg(long)]
    not_after: Option<String>,
}

fn sidecar(file: &Path, backend: BackendArg) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(backend.default_extension());
    PathBuf::from(name)
}

fn read_small(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)
        .with_context(|| format!("opening {}", path.display()))?
        .take(MAX_SMALL_FILE)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(bytes)
}

fn open_data(path: &Path) -> anyhow::Result<BufReader<File>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(BufReader::with_capacity(256 * 1024, file))
}

/// Runs `leo sign`.
pub fn run_sign(args: &SignArgs, json: bool) -> anyhow::Result<ExitCode> {
    let signer: Box<dyn Signer> = match (args.backend, &args.key) {
        (BackendArg::Key, Some(key)) => Box::new(RawKeyPair::from_pkcs8_any(&read_small(key)?)?),
        (BackendArg::Key, None) => anyhow::bail!("--backend key needs --key"),
        (BackendArg::Pgp, _) => {
            let ring = leo_sign::KeyRing::open(&args.ring.ring)
                .with_context(|| format!("opening key ring {}", args.ring.ring.display()))?;
            Box::new(ring.signer(OffsetDateTime::now_utc())?)
        }
    };
    let signed = signer.sign(&mut open_data(&args.file)?)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| sidecar(&args.file, args.backend));
    leo_artifact::fsutil::write_bytes_atomically(&output, &signed.signature.bytes)?;
    print_report("signed", &args.file, Some(&output), &signed.report, json);
    Ok(ExitCode::SUCCESS)
}

/// Runs `leo verify`: exit 0 valid, 1 rejected, 2 usage or I/O error.
pub fn run_verify(args: &VerifyArgs, json: bool) -> anyhow::Result<ExitCode> {
    let verifier: Box<dyn Verifier> = match args.backend {
        BackendArg::Key => {
            let keys = args
                .public_key
                .iter()
                .map(|p| {
                    serde_json::from_slice::<RawPublicKey>(&read_small(p)?)
                        .with_context(|| format!("parsing raw public key {}", p.display()))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            Box::new(RawKeyVerifier::new(keys))
        }
        BackendArg::Pgp if !args.cert.is_empty() => {
            let certs = args
                .cert
                .iter()
                .map(|p| Ok(PgpCert::from_bytes(&read_small(p)?)?))
                .collect::<anyhow::Result<Vec<_>>>()?;
            Box::new(PgpVerifier::new(certs))
        }
        BackendArg::Pgp => Box::new(
            leo_sign::KeyRing::open(&args.ring.ring)
                .with_context(|| format!("opening key ring {}", args.ring.ring.display()))?
                .verifier()?,
        ),
    };
    let mut options = VerifyOptions::now();
    if let Some(t) = &args.not_after {
        let t = OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .with_context(|| format!("--not-after {t:?} is not an RFC 3339 time"))?;
        options = options.not_after(t);
    }
    let sig_path = args
        .signature
        .clone()
        .unwrap_or_else(|| sidecar(&args.file, args.backend));
    let signature = DetachedSignature {
        backend: args.backend.backend(),
        bytes: read_small(&sig_path)?,
    };
    let report = match verifier.verify(&mut open_data(&args.file)?, &signature, &options) {
        Ok(report) => report,
        Err(e) if e.is_verification_failure() => {
            return Err(VerificationFailed(format!("{}: {e}", args.file.display())).into());
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(expected) = &args.fingerprint {
        let expected: leo_sign::Fingerprint = expected.parse()?;
        let primary = match &report.signer {
            SignerIdentity::Key { primary, .. } => Some(primary),
            _ => None,
        };
        if primary != Some(&expected) {
            return Err(VerificationFailed(format!(
                "{}: signed by {:?}, not the pinned {expected}",
                args.file.display(),
                report.signer
            ))
            .into());
        }
    }
    print_report("verified", &args.file, None, &report, json);
    Ok(ExitCode::SUCCESS)
}

fn print_report(
    verb: &str,
    file: &Path,
    output: Option<&Path>,
    report: &SignatureReport,
    json: bool,
) {
    if json {
        print_json(&serde_json::json!({
            "ok": true,
            "file": file.display().to_string(),
            "signature": output.map(|p| p.display().to_string()),
            "report": report,
        }));
        return;
    }
    let who = match &report.signer {
        SignerIdentity::Key {
            primary,
            signing_key,
        } if primary == signing_key => primary.to_string(),
        SignerIdentity::Key {
            primary,
            signing_key,
        } => format!("{primary} (subkey {signing_key})"),
        SignerIdentity::Identity { subject, issuer } => format!("{subject} via {issuer}"),
        other => format!("{other:?}"),
    };
    let when = report
        .signed_at
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .map(|t| format!(" at {t}"))
        .unwrap_or_default();
    println!(
        "{verb} {} [{} {}/{}] by {who}{when}",
        file.display(),
        report.backend,
        report.algorithms.public_key,
        report.algorithms.hash
    );
    if let Some(out) = output {
        println!("signature: {}", out.display());
    }
}
