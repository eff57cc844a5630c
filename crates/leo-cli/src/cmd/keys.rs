//! `leo keys`: the OpenPGP key ring (SOP §10.3: 30-day keys, rotation, published public
//! keys) and raw signing keys.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use leo_sign::{KeyRing, PgpAlgorithm, RawKeyAlgorithm, RawKeyPair, RotationPolicy};
use time::OffsetDateTime;

use crate::output::print_json;

/// Where the key ring lives unless `--ring` or `LEO_KEYRING` says otherwise.
pub const DEFAULT_RING: &str = ".leo/keys";

/// The key ring directory option shared by `keys`, `sign` and `verify`.
#[derive(Debug, Args)]
pub struct RingArg {
    /// Key ring directory (ring.json + secret/).
    #[arg(long, env = "LEO_KEYRING", default_value = DEFAULT_RING)]
    pub ring: PathBuf,
}

/// OpenPGP key algorithms.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PgpAlgo {
    /// Ed25519 (fast; the default).
    Ed25519,
    /// RSA-4096 (the SOP's example).
    Rsa4096,
}

impl From<PgpAlgo> for PgpAlgorithm {
    fn from(a: PgpAlgo) -> Self {
        match a {
            PgpAlgo::Ed25519 => Self::Ed25519,
            PgpAlgo::Rsa4096 => Self::Rsa4096,
        }
    }
}

/// Raw key algorithms.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RawAlgo {
    /// Ed25519.
    Ed25519,
    /// ECDSA P-256 with SHA-256.
    EcdsaP256,
}

/// Who new keys belong to and how they rotate.
#[derive(Debug, Args)]
pub struct KeyIdentity {
    /// Key algorithm.
    #[arg(long, value_enum, default_value = "ed25519")]
    algorithm: PgpAlgo,
    /// User ID name.
    #[arg(long, default_value = "LEO Artifact Signer")]
    name: String,
    /// User ID e-mail.
    #[arg(long, default_value = "artifacts@leo.invalid")]
    email: String,
    /// Create the next key this many days before the current one expires.
    #[arg(long, default_value_t = 7)]
    overlap_days: i64,
}

impl KeyIdentity {
    fn policy(&self) -> RotationPolicy {
        let mut policy = RotationPolicy::new(self.algorithm.into(), &self.name, &self.email);
        policy.overlap = time::Duration::days(self.overlap_days);
        policy
    }
}

/// `leo keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a new 30-day OpenPGP key in the ring (or a raw key with `--raw`).
    Generate {
        #[command(flatten)]
        ring: RingArg,
        #[command(flatten)]
        identity: KeyIdentity,
        /// Generate a raw key instead, written (PKCS#8, mode 0600) to `--out`.
        #[arg(long, value_enum, requires = "out")]
        raw: Option<RawAlgo>,
        /// Output path of a raw key; its public key goes to `<out>.pub.json`.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Create the next key if the current one expires within the overlap (or none is valid).
    Rotate {
        #[command(flatten)]
        ring: RingArg,
        #[command(flatten)]
        identity: KeyIdentity,
        /// Rotate even if the current key is still good.
        #[arg(long)]
        force: bool,
    },
    /// List the ring's public keys with their validity windows.
    List {
        #[command(flatten)]
        ring: RingArg,
    },
    /// Print armored public certificates (the current key, a given one, or all).
    Export {
        #[command(flatten)]
        ring: RingArg,
        /// Fingerprint of the key to export (default: the current key).
        fingerprint: Option<String>,
        /// Export every key in the ring.
        #[arg(long, conflicts_with = "fingerprint")]
        all: bool,
    },
}

/// Runs `leo keys`.
pub fn run(command: &KeysCommand, json: bool) -> anyhow::Result<ExitCode> {
    let now = OffsetDateTime::now_utc();
    match command {
        KeysCommand::Generate {
            raw: Some(algo),
            out: Some(out),
            ..
        } => generate_raw(*algo, out, json),
        KeysCommand::Generate { ring, identity, .. } => {
            let mut keyring = open(&ring.ring)?;
            let record = keyring.rotate(&identity.policy(), now, true)?;
            report_new(record.as_ref(), json);
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Rotate {
            ring,
            identity,
            force,
        } => {
            let mut keyring = open(&ring.ring)?;
            let record = keyring.rotate(&identity.policy(), now, *force)?;
            report_new(record.as_ref(), json);
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::List { ring } => {
            let keyring = open(&ring.ring)?;
            let current = keyring.current(now).map(|r| r.fingerprint.clone());
            if json {
                let keys: Vec<_> = keyring
                    .records()
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "fingerprint": r.fingerprint, "signing_key": r.signing_key,
                            "algorithm": r.algorithm,
                            "valid_from": rfc3339(r.valid_from), "valid_until": rfc3339(r.valid_until),
                            "current": Some(&r.fingerprint) == current.as_ref(),
                        })
                    })
                    .collect();
                print_json(&serde_json::json!({ "ok": true, "keys": keys }));
            } else {
                for r in keyring.records() {
                    let mark = if Some(&r.fingerprint) == current.as_ref() {
                        "*"
                    } else {
                        " "
                    };
                    println!(
                        "{mark} {} {:<9} {} .. {}",
                        r.fingerprint,
                        r.algorithm,
                        rfc3339(r.valid_from),
                        rfc3339(r.valid_until)
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Export {
            ring,
            fingerprint,
            all,
        } => {
            let keyring = open(&ring.ring)?;
            let records: Vec<_> = if *all {
                keyring.records().iter().collect()
            } else if let Some(fpr) = fingerprint {
                let fpr: leo_sign::Fingerprint = fpr.parse()?;
                let record = keyring
                    .records()
                    .iter()
                    .find(|r| r.fingerprint == fpr)
                    .with_context(|| format!("no key {fpr} in {}", ring.ring.display()))?;
                vec![record]
            } else {
                vec![
                    keyring
                        .current(now)
                        .ok_or(leo_sign::Error::NoCurrentKey { at: now })?,
                ]
            };
            if json {
                print_json(&serde_json::json!({ "ok": true, "keys": records }));
            } else {
                for r in records {
                    print!("{}", r.armored_cert);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn open(dir: &Path) -> anyhow::Result<KeyRing> {
    KeyRing::open(dir).with_context(|| format!("opening key ring {}", dir.display()))
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn report_new(record: Option<&leo_sign::PublicKeyRecord>, json: bool) {
    match (record, json) {
        (Some(r), true) => print_json(&serde_json::json!({ "ok": true, "created": r })),
        (None, true) => print_json(&serde_json::json!({ "ok": true, "created": null })),
        (Some(r), false) => println!(
            "created {} ({}), valid {} .. {}",
            r.fingerprint,
            r.algorithm,
            rfc3339(r.valid_from),
            rfc3339(r.valid_until)
        ),
        (None, false) => println!("current key is still valid beyond the overlap; nothing to do"),
    }
}

fn generate_raw(algo: RawAlgo, out: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let algorithm = match algo {
        RawAlgo::Ed25519 => RawKeyAlgorithm::Ed25519,
        RawAlgo::EcdsaP256 => RawKeyAlgorithm::EcdsaP256Sha256,
    };
    let key = RawKeyPair::generate(algorithm)?;
    key.save_secret(out)?;
    let public = serde_json::to_vec_pretty(key.public_key())?;
    let pub_path = public_key_path(out);
    leo_artifact::fsutil::write_bytes_atomically(&pub_path, &public)?;
    let fingerprint = key.public_key().fingerprint();
    if json {
        print_json(&serde_json::json!({
            "ok": true, "fingerprint": fingerprint, "algorithm": algorithm,
            "secret_key": out.display().to_string(), "public_key": pub_path.display().to_string(),
        }));
    } else {
        println!(
            "created {algorithm} key {fingerprint}: {} (public: {})",
            out.display(),
            pub_path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Where the public half of a raw key file lives.
pub fn public_key_path(secret: &Path) -> PathBuf {
    let mut name = secret.as_os_str().to_owned();
    name.push(".pub.json");
    PathBuf::from(name)
}
