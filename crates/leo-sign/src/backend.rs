//! The backend abstraction: a backend is a value the caller picks, never a global.
//!
//! A [`Signer`] turns a byte stream into a [`DetachedSignature`]; a [`Verifier`] holds its
//! trust anchors (pinned keys, or a Sigstore trust root and identity policy) and checks a
//! signature against a stream, returning a [`SignatureReport`] that says *what* was verified:
//! which backend, which key or identity, when, with which algorithms. Gates and scores weigh
//! an "OpenPGP fallback" differently from "Sigstore" by looking at that report.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;

/// The signing backends LEO knows.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// A raw Ed25519 or ECDSA P-256 key (ring).
    RawKey,
    /// OpenPGP with LEO's 30-day rotating keys (SOP §10.3 fallback).
    OpenPgp,
    /// Sigstore keyless signing (Fulcio certificate, Rekor transparency log).
    Sigstore,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::RawKey => "raw-key",
            Self::OpenPgp => "openpgp",
            Self::Sigstore => "sigstore",
        })
    }
}

/// A detached signature in its backend's wire format: an ASCII-armored OpenPGP signature,
/// a raw-key signature JSON document, or a Sigstore bundle.
#[derive(Clone, PartialEq, Eq)]
pub struct DetachedSignature {
    /// The backend that made it.
    pub backend: Backend,
    /// The encoded signature, as written to a `.asc` / `.sig` / `.sigstore.json` file.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for DetachedSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DetachedSignature")
            .field("backend", &self.backend)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// Who signed, as established by the backend.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignerIdentity {
    /// A pinned key: for OpenPGP the primary (certificate) fingerprint and the fingerprint of
    /// the (sub)key that made the signature; for raw keys both are the key's fingerprint.
    Key {
        /// The certificate's primary fingerprint.
        primary: Fingerprint,
        /// The key that made the signature.
        signing_key: Fingerprint,
    },
    /// A keyless identity (Sigstore): the certificate subject and the OIDC issuer.
    Identity {
        /// The certificate's subject (e-mail or workflow URI).
        subject: String,
        /// The OIDC issuer that vouched for the subject.
        issuer: String,
    },
}

/// The algorithms a signature used, named as people read them (`RSA-4096`, `Ed25519`,
/// `ECDSA-P256`; `SHA-256`, `SHA-512`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Algorithms {
    /// The public-key algorithm and size.
    pub public_key: String,
    /// The hash algorithm.
    pub hash: String,
}

/// What was signed or verified: the facts an attestation records and a gate weighs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignatureReport {
    /// The backend.
    pub backend: Backend,
    /// The signing key or identity.
    pub signer: SignerIdentity,
    /// The signature creation time, when the format carries one (raw-key signatures do not).
    #[serde(with = "time::serde::rfc3339::option")]
    pub signed_at: Option<OffsetDateTime>,
    /// The algorithms used.
    pub algorithms: Algorithms,
    /// Backend-specific facts (e.g. a Rekor log index or the time source used).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
}

/// The result of a successful verification.
pub type Verified = SignatureReport;

/// A signature together with what it is.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The detached signature.
    pub signature: DetachedSignature,
    /// What was signed: key, time, algorithms.
    pub report: SignatureReport,
}

/// The time rule of verification (one rule for every backend).
///
/// A signature is valid when the key was valid *when it signed*, and the signature time is
/// neither in the future (relative to `now`) nor after `not_after` (the bundle's own
/// timestamp, when the signed thing has one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The verifier's clock.
    pub now: OffsetDateTime,
    /// Signatures made after this instant are rejected (the bundle's timestamp).
    pub not_after: Option<OffsetDateTime>,
}

impl VerifyOptions {
    /// Verification at `now`, without a bundle timestamp.
    #[must_use]
    pub fn at(now: OffsetDateTime) -> Self {
        Self {
            now,
            not_after: None,
        }
    }

    /// Verification at the current system time.
    #[must_use]
    pub fn now() -> Self {
        Self::at(OffsetDateTime::now_utc())
    }

    /// Also rejects signatures made after `bundle_time`.
    #[must_use]
    pub fn not_after(mut self, bundle_time: OffsetDateTime) -> Self {
        self.not_after = Some(bundle_time);
        self
    }

    /// The time rule every backend applies to a signature's creation time: not in the future
    /// (beyond [`CLOCK_SKEW_TOLERANCE`]) and not after the bundle's timestamp.
    pub fn check_signed_at(&self, signed_at: OffsetDateTime) -> Result<()> {
        if signed_at > self.now + CLOCK_SKEW_TOLERANCE {
            return Err(Error::SignatureInFuture {
                signed_at,
                now: self.now,
            });
        }
        if let Some(bundle_time) = self.not_after.filter(|b| signed_at > *b) {
            return Err(Error::SignatureAfterBundle {
                signed_at,
                bundle_time,
            });
        }
        Ok(())
    }
}

/// How far in the future a signature may be dated and still count as "now" (clock skew
/// between the signer and the verifier). The same for every backend.
pub const CLOCK_SKEW_TOLERANCE: time::Duration = time::Duration::minutes(1);

/// Something that signs byte streams. Implementations hold their secret key material (or
/// credentials) and never print it in `Debug`.
pub trait Signer {
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// Checks that the backend can sign right now (Sigstore: Fulcio and Rekor reachable).
    /// Local backends are always ready.
    ///
    /// # Errors
    /// [`crate::Error::BackendUnavailable`] when it cannot.
    fn probe(&self) -> Result<()> {
        Ok(())
    }

    /// Signs everything `data` yields, reading it as a stream.
    ///
    /// # Errors
    /// I/O errors from `data`, and backend failures.
    fn sign(&self, data: &mut dyn Read) -> Result<Signed>;
}

/// Something that verifies detached signatures against byte streams, with its trust anchors
/// (pinned keys or trust root) chosen when it was built.
pub trait Verifier {
    /// Which backend this verifies.
    fn backend(&self) -> Backend;

    /// Verifies `signature` over everything `data` yields under the time rule of `options`.
    ///
    /// # Errors
    /// One variant per failed check (see [`crate::Error`]).
    fn verify(
        &self,
        data: &mut dyn Read,
        signature: &DetachedSignature,
        options: &VerifyOptions,
    ) -> Result<Verified>;
}

/// Rejects a signature from another backend before any parsing.
pub(crate) fn expect_backend(expected: Backend, signature: &DetachedSignature) -> Result<()> {
    if signature.backend == expected {
        Ok(())
    } else {
        Err(crate::Error::BackendMismatch {
            expected,
            actual: signature.backend,
        })
    }
}

#[cfg(test)]
mod time_rule_tests {
    use super::*;

    #[test]
    fn one_time_rule_for_every_backend_at_its_boundaries() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let opts = VerifyOptions::at(now);
        assert!(opts.check_signed_at(now + CLOCK_SKEW_TOLERANCE).is_ok());
        assert!(matches!(
            opts.check_signed_at(now + CLOCK_SKEW_TOLERANCE + time::Duration::seconds(1)),
            Err(Error::SignatureInFuture { .. })
        ));
        let bundle = now - time::Duration::hours(1);
        let opts = opts.not_after(bundle);
        assert!(opts.check_signed_at(bundle).is_ok());
        assert!(matches!(
            opts.check_signed_at(bundle + time::Duration::seconds(1)),
            Err(Error::SignatureAfterBundle { .. })
        ));
    }
}
