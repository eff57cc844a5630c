//! [`SigstoreBundle`]: a parsed Sigstore bundle (v0.1, v0.2, v0.3 and `.v0.3+json`) and the
//! facts it carries before anything is verified.

use std::io::Read;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sigstore_verify::types::Bundle;
use sigstore_verify::types::bundle::{SignatureContent, VerificationMaterialContent};

use super::error::{SigstoreError, SigstoreResult, classify_parse};

/// Largest bundle LEO parses. Real bundles are a few KiB (a certificate, a log entry, a
/// proof of ~30 hashes); 16 MiB leaves room for large DSSE payloads.
pub const MAX_BUNDLE_BYTES: u64 = 16 * 1024 * 1024;

/// What the bundle signs.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentKind {
    /// A signature over the artifact's digest (`messageSignature`).
    MessageSignature,
    /// A DSSE envelope, usually an in-toto statement naming the artifact as a subject.
    DsseEnvelope,
}

/// How the bundle identifies its signer.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MaterialKind {
    /// A single Fulcio certificate (v0.3).
    Certificate,
    /// An X.509 certificate chain (v0.1 / v0.2); `len` certificates.
    CertificateChain {
        /// Number of certificates in the chain.
        len: usize,
    },
    /// A managed key named by a hint (`base64(sha256(SPKI DER))` for cosign).
    PublicKey {
        /// The hint; not authenticated, the key itself comes from the caller.
        hint: String,
    },
}

/// One transparency log entry as the bundle states it (unverified facts).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogEntryFacts {
    /// The log ID (base64 SHA-256 of the log's public key).
    pub log_id: String,
    /// The entry's index in the log.
    pub log_index: u64,
    /// `kind/version`, e.g. `hashedrekord/0.0.1`.
    pub kind: String,
    /// Rekor v1 integrated time (seconds since the epoch); absent for Rekor v2.
    pub integrated_time: Option<i64>,
    /// Whether the entry carries a Signed Entry Timestamp.
    pub has_set: bool,
    /// Whether the entry carries an inclusion proof with a checkpoint.
    pub has_inclusion_proof: bool,
}

/// A parsed Sigstore bundle.
#[derive(Debug, Clone)]
pub struct SigstoreBundle {
    inner: Bundle,
}

impl SigstoreBundle {
    /// Parses bundle JSON.
    ///
    /// # Errors
    /// [`SigstoreError::TooLarge`] past [`MAX_BUNDLE_BYTES`]; [`SigstoreError::Checkpoint`]
    /// for a malformed checkpoint note; [`SigstoreError::MalformedBundle`] otherwise.
    pub fn from_json(json: &str) -> SigstoreResult<Self> {
        if json.len() as u64 > MAX_BUNDLE_BYTES {
            return Err(SigstoreError::TooLarge {
                what: "Sigstore bundle",
                limit: MAX_BUNDLE_BYTES,
            });
        }
        Bundle::from_json(json)
            .map(|inner| Self { inner })
            .map_err(|e| classify_parse(&e))
    }

    /// Parses bundle JSON bytes (which must be UTF-8).
    ///
    /// # Errors
    /// As [`Self::from_json`], and [`SigstoreError::MalformedBundle`] for invalid UTF-8.
    pub fn from_slice(bytes: &[u8]) -> SigstoreResult<Self> {
        if bytes.len() as u64 > MAX_BUNDLE_BYTES {
            return Err(SigstoreError::TooLarge {
                what: "Sigstore bundle",
                limit: MAX_BUNDLE_BYTES,
            });
        }
        let json = std::str::from_utf8(bytes).map_err(SigstoreError::malformed)?;
        Self::from_json(json)
    }

    /// Reads and parses a bundle file, refusing files over [`MAX_BUNDLE_BYTES`].
    ///
    /// # Errors
    /// [`SigstoreError::Io`], and as [`Self::from_slice`].
    pub fn from_file(path: &Path) -> SigstoreResult<Self> {
        let context = || format!("reading bundle {}", path.display());
        let file = std::fs::File::open(path).map_err(|e| SigstoreError::io(context(), e))?;
        let mut bytes = Vec::new();
        file.take(MAX_BUNDLE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| SigstoreError::io(context(), e))?;
        Self::from_slice(&bytes)
    }

    /// The bundle as JSON (camelCase protobuf-JSON, as Sigstore clients write it).
    ///
    /// # Errors
    /// [`SigstoreError::MalformedBundle`] if serialisation fails.
    pub fn to_json(&self) -> SigstoreResult<String> {
        self.inner.to_json().map_err(SigstoreError::malformed)
    }

    /// The normalised media type (`…bundle+json;version=0.1`, `…0.2`, `…bundle.v0.3+json`).
    #[must_use]
    pub fn media_type(&self) -> &'static str {
        self.inner.media_type().as_str()
    }

    /// What the bundle signs.
    #[must_use]
    pub fn content_kind(&self) -> ContentKind {
        match &self.inner.content {
            SignatureContent::DsseEnvelope(_) => ContentKind::DsseEnvelope,
            _ => ContentKind::MessageSignature,
        }
    }

    /// How the bundle identifies its signer.
    #[must_use]
    pub fn material(&self) -> MaterialKind {
        match &self.inner.verification_material.content {
            VerificationMaterialContent::X509CertificateChain { certificates } => {
                MaterialKind::CertificateChain {
                    len: certificates.len(),
                }
            }
            VerificationMaterialContent::PublicKey(id) => MaterialKind::PublicKey {
                hint: id.hint.clone(),
            },
            _ => MaterialKind::Certificate,
        }
    }

    /// The transparency log entries, as stated (not yet verified).
    #[must_use]
    pub fn log_entries(&self) -> Vec<LogEntryFacts> {
        self.inner
            .verification_material
            .tlog_entries
            .iter()
            .map(|e| LogEntryFacts {
                log_id: BASE64.encode(e.log_id.key_id.as_bytes()),
                log_index: e.log_index.get(),
                kind: format!("{}/{}", e.kind_version.kind(), e.kind_version.version()),
                integrated_time: e.integrated_time.map(|t| t.as_second()),
                has_set: e.inclusion_promise.is_some(),
                has_inclusion_proof: e.inclusion_proof.is_some(),
            })
            .collect()
    }

    /// The number of RFC 3161 timestamps the bundle carries.
    #[must_use]
    pub fn rfc3161_timestamp_count(&self) -> usize {
        self.inner
            .verification_material
            .timestamp_verification_data
            .rfc3161_timestamps
            .len()
    }

    pub(crate) fn inner(&self) -> &Bundle {
        &self.inner
    }

    pub(crate) fn from_inner(inner: Bundle) -> Self {
        Self { inner }
    }
}
