//! OpenPGP verification against pinned certificates, with LEO's one time rule.
//!
//! The rule (sequoia's semantics, checked explicitly so each outcome has its own error):
//!
//! 1. The signature is a single binary-mode detached signature hashed with an acceptable
//!    algorithm (SHA-1, MD5 and RIPEMD-160 are rejected: [`Error::WeakHashAlgorithm`]).
//! 2. Its creation time is neither in the future ([`Error::SignatureInFuture`], with
//!    [`CLOCK_SKEW_TOLERANCE`](crate::backend::CLOCK_SKEW_TOLERANCE)) nor after the bundle's timestamp
//!    ([`Error::SignatureAfterBundle`]).
//! 3. The issuer is a pinned key ([`Error::UnknownSigningKey`]).
//! 4. The key was valid *when it signed*: it existed ([`Error::KeyNotYetValid`]), was not
//!    expired ([`Error::KeyExpired`]) and was bound under the standard policy
//!    ([`Error::PolicyRejected`]). A signature made before expiry stays valid afterwards.
//! 5. Revocations: "compromised" or unspecified (hard) invalidate every signature
//!    ([`Error::KeyRevoked`]); "superseded"/"retired" (soft) only signatures made after the
//!    revocation ([`Error::KeyRetired`]).
//! 6. The data, streamed through the hash, matches ([`Error::SignatureMismatch`]).

use std::io::Read;
use std::time::SystemTime;

use openpgp::cert::prelude::*;
use openpgp::packet::{Packet, Signature};
use openpgp::parse::Parse as _;
use openpgp::policy::{HashAlgoSecurity, Policy as _, StandardPolicy};
use openpgp::types::{ReasonForRevocation, RevocationStatus, SignatureType};
use openpgp::{KeyHandle, PacketPile};
use sequoia_openpgp as openpgp;
use time::OffsetDateTime;

use super::MAX_SIGNATURE_BYTES;
use super::algo::{algorithms, from_system, hash_name, is_weak_hash};
use super::key::PgpCert;
use crate::backend::{
    Backend, DetachedSignature, SignatureReport, SignerIdentity, Verified, Verifier, VerifyOptions,
    expect_backend,
};
use crate::error::{Error, Result, RevocationReason};
use crate::fingerprint::Fingerprint;

/// Verifies detached OpenPGP signatures against pinned certificates.
#[derive(Debug, Clone)]
pub struct PgpVerifier {
    certs: Vec<PgpCert>,
}

impl PgpVerifier {
    /// A verifier trusting exactly `certs` (and any of their valid signing subkeys).
    #[must_use]
    pub fn new(certs: Vec<PgpCert>) -> Self {
        Self { certs }
    }

    /// The pinned primary fingerprints.
    #[must_use]
    pub fn pinned(&self) -> Vec<Fingerprint> {
        self.certs.iter().map(PgpCert::fingerprint).collect()
    }
}

fn malformed(reason: impl Into<String>) -> Error {
    Error::MalformedSignature {
        backend: Backend::OpenPgp,
        reason: reason.into(),
    }
}

/// Parses exactly one armored (or binary) signature packet, bounded by
/// [`MAX_SIGNATURE_BYTES`].
pub fn parse_signature(bytes: &[u8]) -> Result<Signature> {
    if bytes.len() > MAX_SIGNATURE_BYTES {
        return Err(Error::TooLarge {
            what: "OpenPGP signature",
            limit: MAX_SIGNATURE_BYTES as u64,
        });
    }
    let pile = PacketPile::from_bytes(bytes).map_err(|e| malformed(format!("{e:#}")))?;
    let mut packets = pile.into_children();
    match (packets.next(), packets.next()) {
        (Some(Packet::Signature(sig)), None) => Ok(sig),
        (Some(Packet::Signature(_)), Some(_)) => Err(malformed(
            "more than one packet; expected a single detached signature",
        )),
        (Some(other), _) => Err(malformed(format!(
            "expected a signature packet, found {}",
            other.tag()
        ))),
        (None, _) => Err(malformed("no packets")),
    }
}

fn revocation_reason(sig: &Signature) -> RevocationReason {
    match sig.reason_for_revocation().map(|(code, _)| code) {
        Some(ReasonForRevocation::KeyCompromised) => RevocationReason::Compromised,
        Some(ReasonForRevocation::KeySuperseded) => RevocationReason::Superseded,
        Some(ReasonForRevocation::KeyRetired | ReasonForRevocation::UIDRetired) => {
            RevocationReason::Retired
        }
        _ => RevocationReason::Unspecified,
    }
}

/// Turns a revocation status evaluated at the signature time into LEO's error. Sequoia
/// already returns hard revocations at any time and soft ones only once they took effect.
pub(crate) fn check_revocation(
    status: RevocationStatus<'_>,
    fingerprint: &Fingerprint,
    signed_at: OffsetDateTime,
) -> Result<()> {
    let RevocationStatus::Revoked(revs) = status else {
        return Ok(());
    };
    let hard = revs.iter().find(|r| revocation_reason(r).is_hard());
    if let Some(rev) = hard {
        return Err(Error::KeyRevoked {
            fingerprint: fingerprint.clone(),
            reason: revocation_reason(rev),
        });
    }
    match revs.first() {
        Some(rev) => Err(Error::KeyRetired {
            fingerprint: fingerprint.clone(),
            reason: revocation_reason(rev),
            revoked_at: rev.signature_creation_time().map_or(signed_at, from_system),
            signed_at,
        }),
        None => Ok(()),
    }
}

fn policy_rejected(
    fingerprint: &Fingerprint,
    at: OffsetDateTime,
    e: &openpgp::anyhow::Error,
) -> Error {
    Error::PolicyRejected {
        fingerprint: fingerprint.clone(),
        at,
        reason: format!("{e:#}"),
    }
}

/// Checks the signature's own properties and its times (rules 1 and 2).
fn check_signature_times(sig: &Signature, options: &VerifyOptions) -> Result<SystemTime> {
    if sig.typ() != SignatureType::Binary {
        return Err(malformed(format!(
            "only binary-mode detached signatures are accepted, found {}",
            sig.typ()
        )));
    }
    if is_weak_hash(sig.hash_algo()) {
        return Err(Error::WeakHashAlgorithm {
            algorithm: hash_name(sig.hash_algo()),
        });
    }
    let signed_at_sys = sig
        .signature_creation_time()
        .ok_or(Error::MissingSignatureTime)?;
    let signed_at = from_system(signed_at_sys);
    options.check_signed_at(signed_at)?;
    if let Some(expired_at) = sig
        .signature_expiration_time()
        .map(from_system)
        .filter(|e| *e <= options.now)
    {
        return Err(Error::SignatureExpired {
            signed_at,
            expired_at,
        });
    }
    Ok(signed_at_sys)
}

impl PgpVerifier {
    /// Verifies an armored detached signature over `data` (rules in the module docs).
    ///
    /// # Errors
    /// One variant per failed rule.
    pub fn verify_armored(
        &self,
        data: &mut dyn Read,
        signature: &[u8],
        options: &VerifyOptions,
    ) -> Result<SignatureReport> {
        let sig = parse_signature(signature)?;
        let signed_at_sys = check_signature_times(&sig, options)?;
        let signed_at = from_system(signed_at_sys);

        let issuers = sig.get_issuers();
        let (cert, ka) = self
            .certs
            .iter()
            .find_map(|c| {
                c.0.keys()
                    .key_handles(issuers.iter())
                    .next()
                    .map(|ka| (&c.0, ka))
            })
            .ok_or_else(|| Error::UnknownSigningKey {
                issuer: issuers
                    .first()
                    .map_or_else(|| "(no issuer)".to_owned(), KeyHandle::to_hex),
            })?;
        let primary = Fingerprint::from(&cert.fingerprint());
        let signing_key = Fingerprint::from(&ka.key().fingerprint());

        let created = from_system(ka.key().creation_time());
        if created > signed_at {
            return Err(Error::KeyNotYetValid {
                fingerprint: signing_key,
                created_at: created,
                signed_at,
            });
        }
        let policy = StandardPolicy::new();
        let vc = cert
            .with_policy(&policy, signed_at_sys)
            .map_err(|e| policy_rejected(&primary, signed_at, &e))?;
        check_revocation(vc.revocation_status(), &primary, signed_at)?;
        let vka = ka
            .with_policy(&policy, signed_at_sys)
            .map_err(|e| policy_rejected(&signing_key, signed_at, &e))?;
        check_revocation(vka.revocation_status(), &signing_key, signed_at)?;
        let expired = |fingerprint: &Fingerprint, expiry: Option<SystemTime>| Error::KeyExpired {
            fingerprint: fingerprint.clone(),
            expired_at: expiry.map_or(signed_at, from_system),
            signed_at,
        };
        if vc.alive().is_err() {
            return Err(expired(&primary, vc.primary_key().key_expiration_time()));
        }
        if vka.alive().is_err() {
            return Err(expired(&signing_key, vka.key_expiration_time()));
        }
        if !vka.for_signing() {
            return Err(Error::PolicyRejected {
                fingerprint: signing_key,
                at: signed_at,
                reason: "the key is not signing-capable".to_owned(),
            });
        }
        policy
            .signature(&sig, HashAlgoSecurity::default())
            .map_err(|e| policy_rejected(&signing_key, signed_at, &e))?;

        let mut hash = sig
            .hash_algo()
            .context()
            .map_err(|e| policy_rejected(&signing_key, signed_at, &e))?
            .for_signature(sig.version());
        if let Some(salt) = sig.salt() {
            hash.update(salt);
        }
        std::io::copy(data, &mut hash).map_err(|e| Error::io("reading the signed data", e))?;
        sig.verify_hash(vka.key(), hash)
            .map_err(|_| Error::SignatureMismatch {
                fingerprint: signing_key.clone(),
            })?;

        Ok(SignatureReport {
            backend: Backend::OpenPgp,
            algorithms: algorithms(vka.key(), sig.hash_algo()),
            signer: SignerIdentity::Key {
                primary,
                signing_key,
            },
            signed_at: Some(signed_at),
            details: Default::default(),
        })
    }
}

impl Verifier for PgpVerifier {
    fn backend(&self) -> Backend {
        Backend::OpenPgp
    }

    fn verify(
        &self,
        data: &mut dyn Read,
        signature: &DetachedSignature,
        options: &VerifyOptions,
    ) -> Result<Verified> {
        expect_backend(Backend::OpenPgp, signature)?;
        self.verify_armored(data, &signature.bytes, options)
    }
}
