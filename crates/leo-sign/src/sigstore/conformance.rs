//! The sigstore-conformance client protocol, so the suite can drive LEO
//! (`examples/sigstore-conformance.rs` is a thin `main` around [`main_with_args`]).
//!
//! ```text
//! verify-bundle [--staging] --bundle F (--certificate-identity I --certificate-oidc-issuer S | --key K)
//!               [--trusted-root TR] FILE_OR_DIGEST
//! sign-bundle   [--staging] --identity-token T --bundle OUT [--trusted-root TR]
//!               [--signing-config SC] [--in-toto] FILE
//! ```
//!
//! Exit status is the verdict: 0 verified (or signed), 1 rejected (or signing failed, e.g.
//! Fulcio unreachable), 2 usage error.

use std::path::{Path, PathBuf};

use super::bundle::SigstoreBundle;
use super::error::{SigstoreError, SigstoreResult};
use super::policy::{ArtifactInput, KeyPolicy, SigstorePolicy, TrustRoot};
use super::sign::KeylessSigner;
use super::verify::{SigstoreVerification, SigstoreVerifier};

/// Exit status: verified or signed.
pub const EXIT_OK: u8 = 0;
/// Exit status: verification rejected the bundle, or signing failed.
pub const EXIT_REJECTED: u8 = 1;
/// Exit status: the command line was invalid.
pub const EXIT_USAGE: u8 = 2;

/// Who the verifier expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyArgs {
    /// `--certificate-identity` and `--certificate-oidc-issuer`.
    Identity {
        /// The SAN.
        identity: String,
        /// The OIDC issuer.
        issuer: String,
    },
    /// `--key`: a PEM public key file.
    Key(PathBuf),
}

/// A parsed conformance command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConformanceCommand {
    /// `verify-bundle`.
    VerifyBundle {
        /// `--staging`: default to the staging trusted root.
        staging: bool,
        /// `--bundle`.
        bundle: PathBuf,
        /// Identity or key.
        policy: PolicyArgs,
        /// `--trusted-root`.
        trusted_root: Option<PathBuf>,
        /// The artifact file or `sha256:` digest.
        input: ArtifactInput,
    },
    /// `sign-bundle` (keyless; needs Fulcio and Rekor).
    SignBundle {
        /// `--staging`: sign with the staging services.
        staging: bool,
        /// `--identity-token`.
        identity_token: String,
        /// `--bundle`: where to write the bundle.
        bundle: PathBuf,
        /// `--in-toto`: the file is an in-toto statement to sign as DSSE.
        in_toto: bool,
        /// The file to sign.
        input: PathBuf,
    },
}

fn usage(reason: impl Into<String>) -> SigstoreError {
    SigstoreError::InvalidInput {
        what: "conformance command line",
        reason: reason.into(),
    }
}

/// Parses the arguments after the program name.
///
/// # Errors
/// [`SigstoreError::InvalidInput`] for an unknown subcommand or flag, a missing value, or an
/// incomplete policy.
pub fn parse_args(args: &[String]) -> SigstoreResult<ConformanceCommand> {
    let (command, rest) = args
        .split_first()
        .ok_or_else(|| usage("expected verify-bundle or sign-bundle"))?;
    let mut staging = false;
    let mut in_toto = false;
    let mut flags: Vec<(&str, &str)> = Vec::new();
    let mut positional: Vec<&str> = Vec::new();
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--staging" => staging = true,
            "--in-toto" => in_toto = true,
            flag @ ("--bundle"
            | "--certificate-identity"
            | "--certificate-oidc-issuer"
            | "--key"
            | "--trusted-root"
            | "--identity-token"
            | "--signing-config") => {
                let value = it
                    .next()
                    .ok_or_else(|| usage(format!("{flag} needs a value")))?;
                flags.push((flag, value.as_str()));
            }
            other if other.starts_with("--") => return Err(usage(format!("unknown flag {other}"))),
            other => positional.push(other),
        }
    }
    let get = |name: &str| {
        flags
            .iter()
            .rev()
            .find(|(f, _)| *f == name)
            .map(|(_, v)| *v)
    };
    let [input] = positional.as_slice() else {
        return Err(usage("expected exactly one FILE_OR_DIGEST argument"));
    };
    let bundle = PathBuf::from(get("--bundle").ok_or_else(|| usage("--bundle is required"))?);
    match command.as_str() {
        "verify-bundle" => {
            let policy = match (
                get("--key"),
                get("--certificate-identity"),
                get("--certificate-oidc-issuer"),
            ) {
                (Some(key), None, None) => PolicyArgs::Key(PathBuf::from(key)),
                (None, Some(identity), Some(issuer)) => PolicyArgs::Identity {
                    identity: identity.to_owned(),
                    issuer: issuer.to_owned(),
                },
                _ => {
                    return Err(usage(
                        "give --key, or both --certificate-identity and --certificate-oidc-issuer",
                    ));
                }
            };
            Ok(ConformanceCommand::VerifyBundle {
                staging,
                bundle,
                policy,
                trusted_root: get("--trusted-root").map(PathBuf::from),
                input: input.parse()?,
            })
        }
        "sign-bundle" => Ok(ConformanceCommand::SignBundle {
            staging,
            identity_token: get("--identity-token")
                .ok_or_else(|| usage("--identity-token is required"))?
                .to_owned(),
            bundle,
            in_toto,
            input: PathBuf::from(input),
        }),
        other => Err(usage(format!("unknown subcommand {other}"))),
    }
}

/// Verifies as `verify-bundle` does and returns what was verified.
///
/// # Errors
/// The [`SigstoreError`] naming the failed check.
pub fn verify_bundle(
    staging: bool,
    bundle: &Path,
    policy: &PolicyArgs,
    trusted_root: Option<&Path>,
    input: &ArtifactInput,
) -> SigstoreResult<SigstoreVerification> {
    let root = match (trusted_root, staging) {
        (Some(path), _) => TrustRoot::from_file(path)?,
        (None, true) => TrustRoot::embedded_staging()?,
        (None, false) => TrustRoot::embedded_production()?,
    };
    let policy = match policy {
        PolicyArgs::Identity { identity, issuer } => {
            SigstorePolicy::identity(identity.as_str(), issuer.as_str())
        }
        PolicyArgs::Key(path) => SigstorePolicy::key(KeyPolicy::from_file(path)?),
    };
    let bundle = SigstoreBundle::from_file(bundle)?;
    SigstoreVerifier::new(root, policy).verify_input(&bundle, input)
}

/// Runs a parsed command; `Ok` carries a one-line summary for stdout.
///
/// # Errors
/// The [`SigstoreError`] that made verification or signing fail.
pub fn run(command: &ConformanceCommand) -> SigstoreResult<String> {
    match command {
        ConformanceCommand::VerifyBundle {
            staging,
            bundle,
            policy,
            trusted_root,
            input,
        } => {
            let v = verify_bundle(*staging, bundle, policy, trusted_root.as_deref(), input)?;
            Ok(format!(
                "verified: {} entries, {} time sources, signer {:?}",
                v.log_entries.len(),
                v.time_sources.len(),
                v.signer
            ))
        }
        ConformanceCommand::SignBundle {
            staging,
            identity_token,
            bundle,
            in_toto,
            input,
        } => {
            let services = if *staging {
                KeylessSigner::staging_services()?
            } else {
                KeylessSigner::production_services()?
            };
            let signer = KeylessSigner::new(services, identity_token)?;
            let read = |p: &Path| {
                std::fs::read(p)
                    .map_err(|e| SigstoreError::io(format!("reading {}", p.display()), e))
            };
            let signed = if *in_toto {
                signer.sign_statement(&read(input)?)?
            } else {
                let file = std::fs::File::open(input)
                    .map_err(|e| SigstoreError::io(format!("opening {}", input.display()), e))?;
                signer.sign_reader(std::io::BufReader::new(file))?
            };
            leo_artifact::fsutil::write_bytes_atomically(bundle, signed.to_json()?.as_bytes())
                .map_err(|e| {
                    SigstoreError::io(
                        format!("writing {}", bundle.display()),
                        std::io::Error::other(e),
                    )
                })?;
            Ok(format!("signed: {}", bundle.display()))
        }
    }
}

/// The whole entrypoint: parse, run, print, and return the exit status.
pub fn main_with_args(args: &[String]) -> u8 {
    let command = match parse_args(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("usage error: {e}");
            return EXIT_USAGE;
        }
    };
    match run(&command) {
        Ok(summary) => {
            println!("{summary}");
            EXIT_OK
        }
        Err(e) => {
            eprintln!("{} ({})", e, e.kind());
            EXIT_REJECTED
        }
    }
}
