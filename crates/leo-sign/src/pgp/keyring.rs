//! Key rotation (SOP §10.3: "rotate keys every 30 days", "store public keys"): a key ring
//! with validity windows.
//!
//! On disk a ring is a directory: `ring.json` (the public records, what `leo-store`
//! persists) and `secret/<FINGERPRINT>.asc` (armored secret keys, mode 0600, in a 0700
//! directory). Old public keys are kept forever so old bundles still verify; the newest key
//! whose window contains "now" signs.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::key::{KeySpec, PgpAlgorithm, PgpCert, PgpKey};
use super::verify::PgpVerifier;
use super::{DEFAULT_ROTATION_OVERLAP, KEY_VALIDITY};
use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;

/// How keys are rotated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationPolicy {
    /// Algorithm of new keys.
    pub algorithm: PgpAlgorithm,
    /// User ID name of new keys.
    pub name: String,
    /// User ID e-mail of new keys.
    pub email: String,
    /// Validity of each key: [`KEY_VALIDITY`] (30 days).
    pub validity: time::Duration,
    /// The next key is created this long before the current one expires.
    pub overlap: time::Duration,
}

impl RotationPolicy {
    /// The SOP defaults: 30-day keys, 7 days of overlap.
    #[must_use]
    pub fn new(algorithm: PgpAlgorithm, name: &str, email: &str) -> Self {
        Self {
            algorithm,
            name: name.to_owned(),
            email: email.to_owned(),
            validity: KEY_VALIDITY,
            overlap: DEFAULT_ROTATION_OVERLAP,
        }
    }
}

/// A public key with its validity window: the serialisable form `leo-store` persists.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PublicKeyRecord {
    /// The primary fingerprint (what attestations name).
    pub fingerprint: Fingerprint,
    /// The signing subkey's fingerprint.
    pub signing_key: Fingerprint,
    /// The public-key algorithm (`RSA-4096`, `Ed25519`).
    pub algorithm: String,
    /// The first instant the key may sign (its creation time).
    #[serde(with = "time::serde::rfc3339")]
    pub valid_from: OffsetDateTime,
    /// The instant it expires.
    #[serde(with = "time::serde::rfc3339")]
    pub valid_until: OffsetDateTime,
    /// The armored public certificate.
    pub armored_cert: String,
}

impl PublicKeyRecord {
    /// Builds the record of a certificate.
    ///
    /// # Errors
    /// [`Error::MalformedCert`] when the certificate has no expiry or no signing subkey.
    pub fn from_cert(cert: &PgpCert) -> Result<Self> {
        let valid_from = cert.created_at();
        let valid_until = cert.expires_at().ok_or_else(|| Error::MalformedCert {
            reason: format!(
                "certificate {} has no expiry; LEO keys expire",
                cert.fingerprint()
            ),
        })?;
        let policy = sequoia_openpgp::policy::StandardPolicy::new();
        let signing = cert
            .0
            .keys()
            .with_policy(&policy, super::algo::to_system(valid_from))
            .for_signing()
            .next()
            .ok_or_else(|| Error::MalformedCert {
                reason: format!("certificate {} has no signing key", cert.fingerprint()),
            })?;
        Ok(Self {
            fingerprint: cert.fingerprint(),
            signing_key: Fingerprint::from(&signing.key().fingerprint()),
            algorithm: super::algo::public_key_name(signing.key()),
            valid_from,
            valid_until,
            armored_cert: cert.to_armored()?,
        })
    }

    /// Parses the stored certificate and checks it is the one the record names.
    ///
    /// # Errors
    /// [`Error::MalformedCert`] when it does not parse or names another key.
    pub fn cert(&self) -> Result<PgpCert> {
        let cert = PgpCert::from_bytes(self.armored_cert.as_bytes())?;
        if cert.fingerprint() != self.fingerprint {
            return Err(Error::MalformedCert {
                reason: format!(
                    "record names {} but holds certificate {}",
                    self.fingerprint,
                    cert.fingerprint()
                ),
            });
        }
        Ok(cert)
    }

    /// Whether `at` falls inside the validity window.
    #[must_use]
    pub fn is_valid_at(&self, at: OffsetDateTime) -> bool {
        self.valid_from <= at && at < self.valid_until
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct RingFile {
    version: u32,
    keys: Vec<PublicKeyRecord>,
}

const RING_FILE: &str = "ring.json";
const SECRET_DIR: &str = "secret";
const RING_VERSION: u32 = 1;

/// A directory of rotating OpenPGP keys.
#[derive(Debug, Clone)]
pub struct KeyRing {
    dir: PathBuf,
    keys: Vec<PublicKeyRecord>,
}

impl KeyRing {
    /// Opens the ring in `dir`; a missing directory is an empty ring.
    ///
    /// # Errors
    /// I/O errors and [`Error::Json`] for a corrupt `ring.json`.
    pub fn open(dir: &Path) -> Result<Self> {
        let path = dir.join(RING_FILE);
        let keys = match std::fs::read(&path) {
            Ok(bytes) => {
                let file: RingFile = serde_json::from_slice(&bytes)
                    .map_err(|e| Error::json(path.display().to_string(), e))?;
                file.keys
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
        };
        Ok(Self {
            dir: dir.to_owned(),
            keys,
        })
    }

    /// Every public key ever in the ring, oldest first.
    #[must_use]
    pub fn records(&self) -> &[PublicKeyRecord] {
        &self.keys
    }

    /// The key that signs at `at`: the newest whose window contains `at`.
    #[must_use]
    pub fn current(&self, at: OffsetDateTime) -> Option<&PublicKeyRecord> {
        self.keys
            .iter()
            .filter(|k| k.is_valid_at(at))
            .max_by_key(|k| k.valid_from)
    }

    /// Whether `rotate` would create a key at `at`: no key is valid, or the newest valid key
    /// expires within `policy.overlap`.
    #[must_use]
    pub fn needs_rotation(&self, policy: &RotationPolicy, at: OffsetDateTime) -> bool {
        self.current(at)
            .is_none_or(|k| k.valid_until - policy.overlap <= at)
    }

    /// Creates the next key when [`KeyRing::needs_rotation`] (or when `force`), saving its
    /// secret (0600) and the updated ring. Returns the new record, or `None` when the current
    /// key is still good.
    ///
    /// # Errors
    /// Key generation and I/O errors.
    pub fn rotate(
        &mut self,
        policy: &RotationPolicy,
        at: OffsetDateTime,
        force: bool,
    ) -> Result<Option<PublicKeyRecord>> {
        if !force && !self.needs_rotation(policy, at) {
            return Ok(None);
        }
        let mut spec = KeySpec::new(policy.algorithm, &policy.name, &policy.email).created_at(at);
        spec.validity = policy.validity;
        let key = PgpKey::generate(&spec)?;
        self.add(&key).map(Some)
    }

    /// Adds a key (its secret goes to the ring's secret directory) and saves the ring.
    ///
    /// # Errors
    /// I/O errors and [`Error::MalformedCert`].
    pub fn add(&mut self, key: &PgpKey) -> Result<PublicKeyRecord> {
        let record = PublicKeyRecord::from_cert(&key.public())?;
        let secret_dir = self.dir.join(SECRET_DIR);
        create_private_dir(&secret_dir)?;
        key.save_secret(&self.secret_path(&record.fingerprint))?;
        self.keys.retain(|k| k.fingerprint != record.fingerprint);
        self.keys.push(record.clone());
        self.keys.sort_by_key(|k| k.valid_from);
        self.save()?;
        Ok(record)
    }

    fn secret_path(&self, fingerprint: &Fingerprint) -> PathBuf {
        self.dir.join(SECRET_DIR).join(format!("{fingerprint}.asc"))
    }

    fn save(&self) -> Result<()> {
        let file = RingFile {
            version: RING_VERSION,
            keys: self.keys.clone(),
        };
        let mut bytes =
            serde_json::to_vec_pretty(&file).map_err(|e| Error::json("ring.json", e))?;
        bytes.push(b'\n');
        leo_artifact::fsutil::write_bytes_atomically(&self.dir.join(RING_FILE), &bytes)?;
        Ok(())
    }

    /// The secret key that signs at `at`, set to sign at that time.
    ///
    /// # Errors
    /// [`Error::NoCurrentKey`] when no key is valid; I/O errors reading its secret.
    pub fn signer(&self, at: OffsetDateTime) -> Result<PgpKey> {
        let record = self.current(at).ok_or(Error::NoCurrentKey { at })?;
        Ok(PgpKey::load(&self.secret_path(&record.fingerprint))?.with_signing_time(at))
    }

    /// A verifier pinning every key the ring ever held (old keys verify old bundles).
    ///
    /// # Errors
    /// [`Error::MalformedCert`] when a stored certificate is corrupt.
    pub fn verifier(&self) -> Result<PgpVerifier> {
        let certs = self
            .keys
            .iter()
            .map(PublicKeyRecord::cert)
            .collect::<Result<Vec<_>>>()?;
        Ok(PgpVerifier::new(certs))
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))
}
