//! The one error type of `leo-sign`.
//!
//! Every verification outcome has its own variant so gates can tell "expired key" from
//! "tampered data" without parsing messages.

use time::OffsetDateTime;

use crate::backend::Backend;
use crate::fingerprint::Fingerprint;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a key was revoked, as stated in its revocation signature (RFC 9580 §5.2.3.31).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// No reason given, or "no reason specified": treated as hard.
    Unspecified,
    /// The key material was compromised: hard, invalidates every signature.
    Compromised,
    /// The key was replaced by a newer one: soft, invalidates only later signatures.
    Superseded,
    /// The key is no longer used: soft, invalidates only later signatures.
    Retired,
}

impl RevocationReason {
    /// Hard revocations invalidate every signature the key ever made.
    #[must_use]
    pub fn is_hard(self) -> bool {
        matches!(self, Self::Unspecified | Self::Compromised)
    }
}

impl std::fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unspecified => "unspecified",
            Self::Compromised => "key compromised",
            Self::Superseded => "key superseded",
            Self::Retired => "key retired",
        })
    }
}

/// Everything that can go wrong in `leo-sign`.
///
/// Each variant is named after the check that failed and carries what a user needs to act.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation failed.
    #[error("I/O error while {context}: {source}")]
    Io {
        /// What LEO was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Writing a file atomically failed.
    #[error(transparent)]
    Artifact(#[from] leo_artifact::Error),
    /// A JSON document (key ring, raw signature) could not be read or written.
    #[error("invalid JSON in {context}: {source}")]
    Json {
        /// Which document.
        context: String,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// A key fingerprint was not 40 or 64 hex characters.
    #[error("invalid fingerprint {input:?}: {reason}")]
    InvalidFingerprint {
        /// The rejected input (truncated to 80 characters).
        input: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A raw key (PKCS#8 secret or public key bytes) was rejected.
    #[error("invalid {algorithm} raw key: {reason}")]
    InvalidRawKey {
        /// The key algorithm.
        algorithm: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A message for a raw-key signature exceeded [`crate::rawkey::MAX_RAW_MESSAGE_BYTES`].
    #[error(
        "message too large for a raw-key signature: more than {limit} bytes (use OpenPGP for large artifacts)"
    )]
    MessageTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// Key generation failed.
    #[error("key generation failed: {reason}")]
    KeyGeneration {
        /// Why.
        reason: String,
    },
    /// Signing failed inside the backend.
    #[error("signing with {backend} failed: {reason}")]
    SigningFailed {
        /// The backend used.
        backend: Backend,
        /// Why.
        reason: String,
    },
    /// A signature could not be parsed.
    #[error("malformed {backend} signature: {reason}")]
    MalformedSignature {
        /// The backend whose format was expected.
        backend: Backend,
        /// Why it was rejected.
        reason: String,
    },
    /// An OpenPGP certificate or secret key could not be parsed.
    #[error("malformed OpenPGP certificate: {reason}")]
    MalformedCert {
        /// Why it was rejected.
        reason: String,
    },
    /// An input exceeded a named size limit.
    #[error("{what} exceeds the limit of {limit} bytes")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// The limit in bytes.
        limit: u64,
    },
    /// The certificate has no usable secret signing key.
    #[error("certificate {fingerprint} has no secret key usable for signing at {at}")]
    NoSigningKey {
        /// The certificate.
        fingerprint: Fingerprint,
        /// When signing was attempted.
        at: OffsetDateTime,
    },
    /// The signature was made by another backend than the verifier's.
    #[error("signature is from the {actual} backend, verifier is {expected}")]
    BackendMismatch {
        /// The verifier's backend.
        expected: Backend,
        /// The signature's backend.
        actual: Backend,
    },
    /// The signature was made by a key that is not among the pinned keys.
    #[error("signature made by key {issuer}, which is not a pinned key")]
    UnknownSigningKey {
        /// The issuer named in the signature (fingerprint or key ID, hex).
        issuer: String,
    },
    /// The signature does not match the data (tampered data or a forged signature).
    #[error("signature by {fingerprint} does not match the data")]
    SignatureMismatch {
        /// The key that supposedly signed.
        fingerprint: Fingerprint,
    },
    /// The signature uses a hash algorithm LEO rejects (SHA-1, MD5, RIPEMD-160).
    #[error("signature uses the rejected hash algorithm {algorithm}")]
    WeakHashAlgorithm {
        /// The algorithm.
        algorithm: String,
    },
    /// The signature has no creation time.
    #[error("signature has no creation time")]
    MissingSignatureTime,
    /// The signature's creation time is in the future.
    #[error("signature made at {signed_at}, which is in the future (now {now})")]
    SignatureInFuture {
        /// The signature creation time.
        signed_at: OffsetDateTime,
        /// The verifier's clock.
        now: OffsetDateTime,
    },
    /// The signature's creation time is after the bundle's own timestamp.
    #[error("signature made at {signed_at}, after the bundle's timestamp {bundle_time}")]
    SignatureAfterBundle {
        /// The signature creation time.
        signed_at: OffsetDateTime,
        /// The bundle's timestamp.
        bundle_time: OffsetDateTime,
    },
    /// The signature itself has expired.
    #[error("signature made at {signed_at} expired at {expired_at}")]
    SignatureExpired {
        /// The signature creation time.
        signed_at: OffsetDateTime,
        /// When the signature expired.
        expired_at: OffsetDateTime,
    },
    /// The key had expired when it signed.
    #[error("key {fingerprint} expired at {expired_at}, before it signed at {signed_at}")]
    KeyExpired {
        /// The key.
        fingerprint: Fingerprint,
        /// Its expiry.
        expired_at: OffsetDateTime,
        /// The signature creation time.
        signed_at: OffsetDateTime,
    },
    /// The key did not yet exist when it supposedly signed.
    #[error("key {fingerprint} was created at {created_at}, after the signature time {signed_at}")]
    KeyNotYetValid {
        /// The key.
        fingerprint: Fingerprint,
        /// Its creation time.
        created_at: OffsetDateTime,
        /// The signature creation time.
        signed_at: OffsetDateTime,
    },
    /// The key was hard-revoked (compromised or unspecified reason): every signature is invalid.
    #[error("key {fingerprint} is revoked ({reason}): all its signatures are invalid")]
    KeyRevoked {
        /// The revoked key.
        fingerprint: Fingerprint,
        /// The stated reason.
        reason: RevocationReason,
    },
    /// The key was soft-revoked (superseded or retired) before it signed.
    #[error(
        "key {fingerprint} was revoked ({reason}) at {revoked_at}, before it signed at {signed_at}"
    )]
    KeyRetired {
        /// The revoked key.
        fingerprint: Fingerprint,
        /// The stated reason.
        reason: RevocationReason,
        /// When the revocation took effect.
        revoked_at: OffsetDateTime,
        /// The signature creation time.
        signed_at: OffsetDateTime,
    },
    /// The key or signature is not valid under the OpenPGP standard policy for another reason
    /// (weak public-key algorithm, missing binding signature, wrong key flags).
    #[error("key {fingerprint} is not valid under the standard policy at {at}: {reason}")]
    PolicyRejected {
        /// The key.
        fingerprint: Fingerprint,
        /// The time the policy was evaluated at.
        at: OffsetDateTime,
        /// The policy's reason.
        reason: String,
    },
    /// The key ring has no key valid at the requested time.
    #[error("the key ring has no signing key valid at {at}; run `leo keys rotate`")]
    NoCurrentKey {
        /// The requested time.
        at: OffsetDateTime,
    },
    /// A backend could not be reached (e.g. Sigstore's Fulcio or Rekor).
    #[error("{backend} backend unavailable: {reason}")]
    BackendUnavailable {
        /// The backend.
        backend: Backend,
        /// Why it is unavailable.
        reason: String,
    },
    /// A Sigstore verification check failed (used by the Sigstore backend).
    #[error("Sigstore check {check} failed: {detail}")]
    SigstoreRejected {
        /// The check that failed.
        check: &'static str,
        /// What was wrong.
        detail: String,
    },
}

impl Error {
    /// Whether this is a verification verdict (the signature, key or time was rejected) as
    /// opposed to an operational failure (I/O, bad input files, key generation). CLIs exit 1
    /// for the former and 2 for the latter.
    #[must_use]
    pub fn is_verification_failure(&self) -> bool {
        matches!(
            self,
            Self::BackendMismatch { .. }
                | Self::UnknownSigningKey { .. }
                | Self::SignatureMismatch { .. }
                | Self::WeakHashAlgorithm { .. }
                | Self::MissingSignatureTime
                | Self::SignatureInFuture { .. }
                | Self::SignatureAfterBundle { .. }
                | Self::SignatureExpired { .. }
                | Self::KeyExpired { .. }
                | Self::KeyNotYetValid { .. }
                | Self::KeyRevoked { .. }
                | Self::KeyRetired { .. }
                | Self::PolicyRejected { .. }
                | Self::MalformedSignature { .. }
                | Self::SigstoreRejected { .. }
        )
    }

    /// Wraps an I/O error with what LEO was doing.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// Wraps a JSON error with which document it was in.
    pub fn json(context: impl Into<String>, source: serde_json::Error) -> Self {
        Self::Json {
            context: context.into(),
            source,
        }
    }
}
