//! What a Sigstore verification trusts and requires: the [`TrustRoot`] (Fulcio CAs, Rekor
//! and CT log keys, TSAs), the [`SigstorePolicy`] (an identity and issuer, or a managed
//! public key), and the [`ArtifactInput`] (a file, streamed, or a `sha256:` digest).

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use leo_artifact::Sha256Digest;
use regex::Regex;
use sigstore_verify::trust_root::{
    SIGSTORE_PRODUCTION_TRUSTED_ROOT, SIGSTORE_STAGING_TRUSTED_ROOT, TrustedRoot,
};
use sigstore_verify::types::DerPublicKey;

use super::error::{SigstoreError, SigstoreResult};

/// Largest trusted root JSON LEO reads (the production root is ~10 KiB).
pub const MAX_TRUST_ROOT_BYTES: u64 = 4 * 1024 * 1024;

/// Longest identity regex LEO compiles.
pub const MAX_IDENTITY_REGEX_LEN: usize = 1024;

/// A Sigstore trusted root, checked and ready to verify with.
///
/// Verification never fetches anything: the root is supplied by the caller (a file the user
/// provides or caches) or is the snapshot embedded in `sigstore-trust-root`.
pub struct TrustRoot {
    root: TrustedRoot,
    verifier: sigstore_verify::Verifier,
}

impl fmt::Debug for TrustRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustRoot")
            .field("tlogs", &self.root.tlogs.len())
            .field("ctlogs", &self.root.ctlogs.len())
            .field(
                "certificate_authorities",
                &self.root.certificate_authorities.len(),
            )
            .field(
                "timestamp_authorities",
                &self.root.timestamp_authorities.len(),
            )
            .finish()
    }
}

impl TrustRoot {
    /// Parses and checks a trusted root JSON document (`application/vnd.dev.sigstore.trustedroot+json`).
    ///
    /// # Errors
    /// [`SigstoreError::TrustRoot`] when it is malformed (for instance a log key without
    /// `validFor.start`), has duplicate logs, or holds unusable keys or certificates.
    pub fn from_json(json: &str) -> SigstoreResult<Self> {
        if json.len() as u64 > MAX_TRUST_ROOT_BYTES {
            return Err(SigstoreError::TooLarge {
                what: "trusted root",
                limit: MAX_TRUST_ROOT_BYTES,
            });
        }
        let root = TrustedRoot::from_json(json).map_err(|e| SigstoreError::TrustRoot {
            reason: e.to_string(),
        })?;
        // Verifier::new checks validity windows, duplicate logs, keys and CA certificates.
        let verifier =
            sigstore_verify::Verifier::new(&root).map_err(|e| SigstoreError::TrustRoot {
                reason: e.to_string(),
            })?;
        Ok(Self { root, verifier })
    }

    /// Reads a trusted root file.
    ///
    /// # Errors
    /// [`SigstoreError::Io`], and as [`Self::from_json`].
    pub fn from_file(path: &Path) -> SigstoreResult<Self> {
        let context = || format!("reading trusted root {}", path.display());
        let file = std::fs::File::open(path).map_err(|e| SigstoreError::io(context(), e))?;
        let mut json = String::new();
        file.take(MAX_TRUST_ROOT_BYTES + 1)
            .read_to_string(&mut json)
            .map_err(|e| SigstoreError::io(context(), e))?;
        Self::from_json(&json)
    }

    /// The public-good production root embedded in `sigstore-trust-root` 0.15.1.
    ///
    /// # Errors
    /// [`SigstoreError::TrustRoot`] (only if the embedded snapshot were broken).
    pub fn embedded_production() -> SigstoreResult<Self> {
        Self::from_json(SIGSTORE_PRODUCTION_TRUSTED_ROOT)
    }

    /// The staging root embedded in `sigstore-trust-root` 0.15.1.
    ///
    /// # Errors
    /// [`SigstoreError::TrustRoot`] (only if the embedded snapshot were broken).
    pub fn embedded_staging() -> SigstoreResult<Self> {
        Self::from_json(SIGSTORE_STAGING_TRUSTED_ROOT)
    }

    /// Whether a transparency log with this log ID (SHA-256 of its key) is trusted.
    pub(crate) fn knows_log(&self, key_id: &[u8]) -> bool {
        self.root
            .tlogs
            .iter()
            .any(|log| log.log_id.key_id.as_bytes() == key_id)
    }

    pub(crate) fn verifier(&self) -> &sigstore_verify::Verifier {
        &self.verifier
    }
}

/// How the certificate's SAN identity must match.
#[derive(Debug, Clone)]
pub enum IdentityMatch {
    /// The SAN (e-mail or URI) equals this string.
    Exact(String),
    /// The whole SAN matches this regex (it is anchored: `^(?:pattern)$`).
    Regex(Regex),
}

impl fmt::Display for IdentityMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(s) => f.write_str(s),
            Self::Regex(r) => write!(f, "regex:{}", r.as_str()),
        }
    }
}

/// A managed (cosign-style) public key and whether a log entry is required.
#[derive(Debug, Clone)]
pub struct KeyPolicy {
    key: DerPublicKey,
    require_log: bool,
}

impl KeyPolicy {
    /// Parses a PEM SPKI public key (`cosign.pub`, `key.pub`). Bundles must carry a verified
    /// transparency log entry or RFC 3161 timestamp.
    ///
    /// # Errors
    /// [`SigstoreError::PublicKey`] when the PEM or the key is malformed or unsupported.
    pub fn from_pem(pem: &str) -> SigstoreResult<Self> {
        let key = DerPublicKey::from_pem(pem).map_err(|e| SigstoreError::PublicKey {
            reason: e.to_string(),
        })?;
        sigstore_verify::crypto::KeyAlgorithm::from_spki(&key).map_err(|e| {
            SigstoreError::PublicKey {
                reason: e.to_string(),
            }
        })?;
        Ok(Self {
            key,
            require_log: true,
        })
    }

    /// Reads a PEM public key file.
    ///
    /// # Errors
    /// [`SigstoreError::Io`], and as [`Self::from_pem`].
    pub fn from_file(path: &Path) -> SigstoreResult<Self> {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| SigstoreError::io(format!("reading public key {}", path.display()), e))?;
        Self::from_pem(&pem)
    }

    /// Also accepts bundles with neither a log entry nor a timestamp (LEO's offline keyed
    /// signatures, `cosign sign-blob --tlog-upload=false`): only the key, the digest and the
    /// signature are checked, and the result says that no time source was verified.
    #[must_use]
    pub fn allow_offline(mut self) -> Self {
        self.require_log = false;
        self
    }

    /// The key as DER SPKI.
    #[must_use]
    pub fn key(&self) -> &DerPublicKey {
        &self.key
    }

    /// Whether a verified log entry (or timestamp) is required.
    #[must_use]
    pub fn requires_log(&self) -> bool {
        self.require_log
    }
}

/// What the signer must be.
#[derive(Debug, Clone)]
pub enum SigstorePolicy {
    /// A keyless signature: the Fulcio certificate's SAN and OIDC issuer.
    Identity {
        /// The SAN rule.
        identity: IdentityMatch,
        /// The exact OIDC issuer.
        issuer: String,
    },
    /// A managed-key signature.
    Key(KeyPolicy),
}

impl SigstorePolicy {
    /// Exact SAN and exact issuer (`--certificate-identity`, `--certificate-oidc-issuer`).
    pub fn identity(identity: impl Into<String>, issuer: impl Into<String>) -> Self {
        Self::Identity {
            identity: IdentityMatch::Exact(identity.into()),
            issuer: issuer.into(),
        }
    }

    /// SAN matched by a regex over the whole value, and exact issuer.
    ///
    /// # Errors
    /// [`SigstoreError::InvalidInput`] for an invalid or over-long pattern.
    pub fn identity_regex(pattern: &str, issuer: impl Into<String>) -> SigstoreResult<Self> {
        if pattern.len() > MAX_IDENTITY_REGEX_LEN {
            return Err(SigstoreError::TooLarge {
                what: "identity regex",
                limit: MAX_IDENTITY_REGEX_LEN as u64,
            });
        }
        let regex =
            Regex::new(&format!("^(?:{pattern})$")).map_err(|e| SigstoreError::InvalidInput {
                what: "identity regex",
                reason: e.to_string(),
            })?;
        Ok(Self::Identity {
            identity: IdentityMatch::Regex(regex),
            issuer: issuer.into(),
        })
    }

    /// A managed key.
    #[must_use]
    pub fn key(key: KeyPolicy) -> Self {
        Self::Key(key)
    }
}

/// What was signed: a file (streamed, never loaded whole) or a `sha256:<hex>` digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactInput {
    /// A file, hashed as a stream.
    File(PathBuf),
    /// A precomputed SHA-256 digest.
    Digest(Sha256Digest),
}

impl FromStr for ArtifactInput {
    type Err = SigstoreError;

    /// `sha256:<64 hex>` is a digest; anything else is a path.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.starts_with("sha256:") {
            Sha256Digest::parse_prefixed(s)
                .map(Self::Digest)
                .map_err(|e| SigstoreError::InvalidInput {
                    what: "artifact digest",
                    reason: e.to_string(),
                })
        } else {
            Ok(Self::File(PathBuf::from(s)))
        }
    }
}
