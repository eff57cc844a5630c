//! [`SigstoreError`]: why a Sigstore bundle was rejected or a signature could not be made.
//!
//! Every failed check has its own variant, and [`SigstoreError::kind`] folds them into a
//! small, stable [`SigstoreErrorKind`] so a test (or a gate) can tell *why* a bundle failed:
//! a broken certificate chain, a bad SCT, a forged SET, an inclusion proof that does not
//! reach the checkpoint, a checkpoint not signed by the log, the wrong identity, a signature
//! that does not match, a digest for another artifact, an unusable trust root.
//!
//! `sigstore-verify` reports its own nested error types; [`classify`] maps them onto these
//! variants. A few of its categories are too coarse for that (an artifact-hash mismatch can
//! be about the artifact or about the log entry, a chain error can be an expiry), so the
//! mapping also reads the detail text of the *pinned* dependency version. The conformance
//! replay (`tests/sigstore_conformance.rs`) asserts the kind of every failing case, so a
//! dependency update that changes that text fails loudly instead of silently.

use std::fmt;

use sigstore_verify::error::{CertificateError, TimestampError, TransparencyLogError};

use crate::backend::Backend;

/// The category of a Sigstore failure: what a caller matches on.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SigstoreErrorKind {
    /// The bundle is not valid JSON, has an unknown media type, or is structurally broken.
    MalformedBundle,
    /// The bundle is well formed but uses content this verifier does not support.
    UnsupportedBundle,
    /// The bundle's verification material does not fit the policy (a key bundle checked
    /// against an identity, or a certificate bundle checked against a key).
    VerificationMaterial,
    /// The signing certificate does not chain to a trusted Fulcio CA (or the chain is empty,
    /// includes a root, or cannot be parsed).
    Chain,
    /// The verified signing time lies outside the certificate's validity window.
    CertificateValidity,
    /// The certificate's Signed Certificate Timestamp is missing or invalid.
    Sct,
    /// The Rekor Signed Entry Timestamp (inclusion promise) is invalid.
    Set,
    /// The Merkle inclusion proof does not prove the entry is in the log.
    InclusionProof,
    /// The checkpoint (signed tree head) is missing, malformed, or not signed by the log.
    Checkpoint,
    /// A log entry names a transparency log that is not in the trusted root.
    UnknownLog,
    /// A log entry does not describe this bundle (other signature, key or artifact).
    LogEntryMismatch,
    /// The certificate identity (SAN) or OIDC issuer does not match the policy.
    Identity,
    /// The signature does not verify with the signing key.
    Signature,
    /// The artifact's digest does not match the bundle (message digest or DSSE subject).
    Digest,
    /// An RFC 3161 timestamp is invalid or outside its authority's validity.
    Timestamp,
    /// No verified time source (integrated time or RFC 3161 timestamp) exists.
    NoVerifiedTime,
    /// The trusted root is malformed or unusable.
    TrustRoot,
    /// A public key (cosign.pub, `--key`) is malformed, unsupported, or not the bundle's key.
    PublicKey,
    /// A cosign private key file is malformed, uses unsupported parameters, or the password
    /// is wrong.
    PrivateKey,
    /// A caller input (digest, identity regex, bundle size) was rejected.
    Input,
    /// Reading or writing a file failed.
    Io,
    /// A Sigstore service (Fulcio, Rekor, TSA, OIDC) could not be reached.
    Unreachable,
    /// A Sigstore service answered, but signing failed.
    Signing,
}

impl SigstoreErrorKind {
    /// The kind's stable snake-case name (as in JSON output).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedBundle => "malformed_bundle",
            Self::UnsupportedBundle => "unsupported_bundle",
            Self::VerificationMaterial => "verification_material",
            Self::Chain => "chain",
            Self::CertificateValidity => "certificate_validity",
            Self::Sct => "sct",
            Self::Set => "set",
            Self::InclusionProof => "inclusion_proof",
            Self::Checkpoint => "checkpoint",
            Self::UnknownLog => "unknown_log",
            Self::LogEntryMismatch => "log_entry_mismatch",
            Self::Identity => "identity",
            Self::Signature => "signature",
            Self::Digest => "digest",
            Self::Timestamp => "timestamp",
            Self::NoVerifiedTime => "no_verified_time",
            Self::TrustRoot => "trust_root",
            Self::PublicKey => "public_key",
            Self::PrivateKey => "private_key",
            Self::Input => "input",
            Self::Io => "io",
            Self::Unreachable => "unreachable",
            Self::Signing => "signing",
        }
    }
}

impl fmt::Display for SigstoreErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong in the Sigstore backend. Each variant names the failed check.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum SigstoreError {
    /// The bundle could not be parsed or is structurally invalid for its media type.
    #[error("malformed Sigstore bundle: {reason}")]
    MalformedBundle {
        /// What is wrong.
        reason: String,
    },
    /// The bundle uses content this verifier does not support.
    #[error("unsupported Sigstore bundle: {reason}")]
    UnsupportedBundle {
        /// What is unsupported.
        reason: String,
    },
    /// The bundle's verification material does not fit the policy.
    #[error("bundle carries {bundle} but the policy expects {policy}")]
    MaterialMismatch {
        /// What the bundle carries (`a certificate`, `a public key hint`).
        bundle: &'static str,
        /// What the policy needs.
        policy: &'static str,
    },
    /// The certificate chain is empty, includes a root, or does not reach a trusted CA.
    #[error("certificate chain rejected: {reason}")]
    CertificateChain {
        /// Why.
        reason: String,
    },
    /// The verified signing time is outside the signing certificate's validity.
    #[error("signing time outside the certificate validity: {reason}")]
    CertificateValidity {
        /// The times involved.
        reason: String,
    },
    /// The Signed Certificate Timestamp did not verify against the trusted CT logs.
    #[error("SCT verification failed: {reason}")]
    Sct {
        /// Why.
        reason: String,
    },
    /// The Rekor Signed Entry Timestamp (inclusion promise) did not verify.
    #[error("Rekor SET verification failed: {reason}")]
    Set {
        /// Why.
        reason: String,
    },
    /// The Merkle inclusion proof is missing or does not reach the root hash.
    #[error("inclusion proof verification failed: {reason}")]
    InclusionProof {
        /// Why.
        reason: String,
    },
    /// The checkpoint is missing, malformed, inconsistent, or not signed by the log.
    #[error("checkpoint verification failed: {reason}")]
    Checkpoint {
        /// Why.
        reason: String,
    },
    /// A log entry names a log that is not in the trusted root.
    #[error("transparency log {log_id} is not in the trusted root")]
    UnknownLog {
        /// The entry's log ID (base64, as in the bundle).
        log_id: String,
    },
    /// A log entry does not describe this bundle's signature, key or artifact.
    #[error("log entry does not match the bundle: {reason}")]
    LogEntryMismatch {
        /// Why.
        reason: String,
    },
    /// The certificate's SAN identity does not match the policy.
    #[error("certificate identity {actual:?} does not match the expected {expected}")]
    IdentityMismatch {
        /// The policy (exact value or `regex:<pattern>`).
        expected: String,
        /// The certificate's SAN, if any.
        actual: Option<String>,
    },
    /// The certificate's OIDC issuer does not match the policy.
    #[error("certificate OIDC issuer {actual:?} does not match the expected {expected}")]
    IssuerMismatch {
        /// The expected issuer.
        expected: String,
        /// The certificate's issuer, if any.
        actual: Option<String>,
    },
    /// The signature does not verify with the signing key.
    #[error("signature verification failed: {reason}")]
    SignatureInvalid {
        /// Why.
        reason: String,
    },
    /// The artifact does not match the bundle's digest or DSSE subjects.
    #[error("artifact digest does not match the bundle: {reason}")]
    DigestMismatch {
        /// Why.
        reason: String,
    },
    /// An RFC 3161 timestamp did not verify.
    #[error("RFC 3161 timestamp rejected: {reason}")]
    Timestamp {
        /// Why.
        reason: String,
    },
    /// No verified time source exists for the signature.
    #[error("no verified time source: {reason}")]
    NoVerifiedTime {
        /// Why.
        reason: String,
    },
    /// The trusted root cannot be used.
    #[error("unusable trusted root: {reason}")]
    TrustRoot {
        /// Why.
        reason: String,
    },
    /// A public key is malformed, unsupported, or not the key the bundle names.
    #[error("public key rejected: {reason}")]
    PublicKey {
        /// Why.
        reason: String,
    },
    /// A cosign private key file is malformed or uses parameters beyond LEO's limits.
    #[error("cosign private key rejected: {reason}")]
    PrivateKey {
        /// Why.
        reason: String,
    },
    /// The password does not decrypt the cosign private key.
    #[error("wrong password for the cosign private key (or the key file was altered)")]
    WrongPassword,
    /// A caller input was rejected.
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// Which input.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// An input exceeded a named limit.
    #[error("{what} exceeds the limit of {limit} bytes")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// The limit in bytes.
        limit: u64,
    },
    /// An I/O operation failed.
    #[error("I/O error while {context}: {source}")]
    Io {
        /// What LEO was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A Sigstore service could not be reached (offline, DNS, connection refused, timeout).
    #[error("{service} at {url} is unreachable: {reason}")]
    Unreachable {
        /// Which service (`Fulcio`, `Rekor`, `TSA`, `OIDC`).
        service: &'static str,
        /// The URL LEO tried.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// Signing failed for a reason other than reachability.
    #[error("Sigstore signing failed: {reason}")]
    SigningFailed {
        /// Why.
        reason: String,
    },
}

impl SigstoreError {
    /// The category of this error.
    #[must_use]
    pub fn kind(&self) -> SigstoreErrorKind {
        use SigstoreErrorKind as K;
        match self {
            Self::MalformedBundle { .. } => K::MalformedBundle,
            Self::UnsupportedBundle { .. } => K::UnsupportedBundle,
            Self::MaterialMismatch { .. } => K::VerificationMaterial,
            Self::CertificateChain { .. } => K::Chain,
            Self::CertificateValidity { .. } => K::CertificateValidity,
            Self::Sct { .. } => K::Sct,
            Self::Set { .. } => K::Set,
            Self::InclusionProof { .. } => K::InclusionProof,
            Self::Checkpoint { .. } => K::Checkpoint,
            Self::UnknownLog { .. } => K::UnknownLog,
            Self::LogEntryMismatch { .. } => K::LogEntryMismatch,
            Self::IdentityMismatch { .. } | Self::IssuerMismatch { .. } => K::Identity,
            Self::SignatureInvalid { .. } => K::Signature,
            Self::DigestMismatch { .. } => K::Digest,
            Self::Timestamp { .. } => K::Timestamp,
            Self::NoVerifiedTime { .. } => K::NoVerifiedTime,
            Self::TrustRoot { .. } => K::TrustRoot,
            Self::PublicKey { .. } => K::PublicKey,
            Self::PrivateKey { .. } | Self::WrongPassword => K::PrivateKey,
            Self::InvalidInput { .. } | Self::TooLarge { .. } => K::Input,
            Self::Io { .. } => K::Io,
            Self::Unreachable { .. } => K::Unreachable,
            Self::SigningFailed { .. } => K::Signing,
        }
    }

    /// Wraps an I/O error with what LEO was doing.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn malformed(reason: impl fmt::Display) -> Self {
        Self::MalformedBundle {
            reason: reason.to_string(),
        }
    }
}

/// A `Result` whose error is [`SigstoreError`].
pub type SigstoreResult<T> = std::result::Result<T, SigstoreError>;

/// Parse errors from `sigstore-types` that are really about the checkpoint: the checkpoint
/// note is parsed while the bundle JSON is deserialised.
const CHECKPOINT_PARSE_MARKER: &str = "Invalid checkpoint format";

/// Classifies a bundle JSON parse error.
pub(crate) fn classify_parse(err: &sigstore_verify::types::Error) -> SigstoreError {
    let reason = err.to_string();
    if reason.contains(CHECKPOINT_PARSE_MARKER) {
        SigstoreError::Checkpoint { reason }
    } else {
        SigstoreError::MalformedBundle { reason }
    }
}

/// Maps a `sigstore-verify` error onto the LEO variant for the check that failed.
pub(crate) fn classify(err: sigstore_verify::Error) -> SigstoreError {
    use sigstore_verify::Error as E;
    match err {
        E::IdentityMismatch { expected, actual } => SigstoreError::IdentityMismatch {
            expected: expected.to_string(),
            actual: actual.map(|a| a.as_str().to_owned()),
        },
        E::IssuerMismatch { expected, actual } => {
            SigstoreError::IssuerMismatch { expected, actual }
        }
        E::SignatureInvalid(reason) => SigstoreError::SignatureInvalid { reason },
        E::ArtifactMismatch(reason) => {
            // sigstore-verify reports a hashedrekord entry that logs another digest as an
            // artifact mismatch; for LEO that is a log entry that does not describe the bundle.
            if reason.contains("hashedrekord entry") {
                SigstoreError::LogEntryMismatch { reason }
            } else {
                SigstoreError::DigestMismatch { reason }
            }
        }
        E::UnsupportedArtifact(reason) => SigstoreError::InvalidInput {
            what: "artifact input",
            reason,
        },
        E::Certificate(c) => classify_certificate(c),
        E::TransparencyLog(t) => classify_tlog(t),
        E::Timestamp(t) => match t {
            TimestampError::NoVerifiedTimestamp(reason) => SigstoreError::NoVerifiedTime { reason },
            other => SigstoreError::Timestamp {
                reason: other.to_string(),
            },
        },
        E::Bundle(b) => classify_structure(&b),
        E::InvalidBundle(reason) => SigstoreError::MalformedBundle { reason },
        E::UnsupportedBundle(reason) => SigstoreError::UnsupportedBundle { reason },
        E::InvalidTrustRoot(reason) => SigstoreError::TrustRoot { reason },
        E::TrustRoot(e) => SigstoreError::TrustRoot {
            reason: e.to_string(),
        },
        E::TrustedCertificate(e) => SigstoreError::TrustRoot {
            reason: e.to_string(),
        },
        E::ArtifactRead(source) => SigstoreError::io("reading the artifact", source),
        E::Types(e) => SigstoreError::malformed(e),
        E::Crypto(e) => SigstoreError::PublicKey {
            reason: e.to_string(),
        },
        other => SigstoreError::malformed(other),
    }
}

fn classify_certificate(err: CertificateError) -> SigstoreError {
    match err {
        CertificateError::Sct(reason) => SigstoreError::Sct { reason },
        CertificateError::NotYetValid { .. } | CertificateError::Expired { .. } => {
            SigstoreError::CertificateValidity {
                reason: err.to_string(),
            }
        }
        CertificateError::ChainInvalid(reason) => {
            // webpki reports "signing time outside the leaf's validity" as a chain error.
            if reason.contains("CertExpired") || reason.contains("CertNotValidYet") {
                SigstoreError::CertificateValidity { reason }
            } else {
                SigstoreError::CertificateChain { reason }
            }
        }
        other => SigstoreError::CertificateChain {
            reason: other.to_string(),
        },
    }
}

fn classify_tlog(err: TransparencyLogError) -> SigstoreError {
    match err {
        TransparencyLogError::UnknownLog { log_id } => SigstoreError::UnknownLog { log_id },
        TransparencyLogError::InclusionProof(reason) => SigstoreError::InclusionProof { reason },
        TransparencyLogError::Checkpoint(reason) => SigstoreError::Checkpoint { reason },
        TransparencyLogError::InclusionPromise(reason) => SigstoreError::Set { reason },
        TransparencyLogError::EntryMismatch(reason)
        | TransparencyLogError::MalformedEntry(reason) => {
            SigstoreError::LogEntryMismatch { reason }
        }
        TransparencyLogError::IntegratedTime(reason) => {
            SigstoreError::CertificateValidity { reason }
        }
        other => SigstoreError::LogEntryMismatch {
            reason: other.to_string(),
        },
    }
}

fn classify_structure(err: &sigstore_verify::bundle::Error) -> SigstoreError {
    use sigstore_verify::bundle::Error as B;
    let reason = err.to_string();
    match err {
        B::MissingCheckpoint | B::CheckpointRootMismatch => SigstoreError::Checkpoint { reason },
        B::MissingInclusionProof(_) | B::LogIndexOutOfRange { .. } => {
            SigstoreError::InclusionProof { reason }
        }
        B::MissingInclusionPromise(_) => SigstoreError::Set { reason },
        B::MissingSigningTimeEvidence | B::MissingTimestamp => {
            SigstoreError::NoVerifiedTime { reason }
        }
        _ => SigstoreError::MalformedBundle { reason },
    }
}

impl From<SigstoreError> for crate::Error {
    fn from(err: SigstoreError) -> Self {
        match err {
            SigstoreError::Unreachable { .. } => crate::Error::BackendUnavailable {
                backend: Backend::Sigstore,
                reason: err.to_string(),
            },
            SigstoreError::Io { context, source } => crate::Error::Io { context, source },
            other => crate::Error::SigstoreRejected {
                check: other.kind().as_str(),
                detail: other.to_string(),
            },
        }
    }
}
