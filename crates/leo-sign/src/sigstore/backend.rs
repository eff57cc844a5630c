//! The Sigstore backend behind LEO's [`Signer`] and [`Verifier`] traits.
//!
//! A Sigstore [`DetachedSignature`] is the bundle JSON (`*.sigstore.json`). The
//! [`SignatureReport`] carries what verification established in its `details`: the time
//! sources, the log entries, whether the SCT and chain were verified, the identity or key.

use std::collections::BTreeMap;
use std::io::Read;

use time::OffsetDateTime;

use super::bundle::SigstoreBundle;
use super::sign::{KeyedSigner, KeylessSigner};
use super::verify::{SigstoreVerification, SigstoreVerifier, TimeSourceKind, VerifiedSigner};
use crate::backend::{
    Algorithms, Backend, DetachedSignature, SignatureReport, Signed, Signer, SignerIdentity,
    Verified, Verifier, VerifyOptions, expect_backend,
};
use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;

const HASH_NAME: &str = "SHA-256";

fn key_identity(key_sha256: &str) -> Result<SignerIdentity> {
    let fp: Fingerprint = key_sha256.parse()?;
    Ok(SignerIdentity::Key {
        primary: fp.clone(),
        signing_key: fp,
    })
}

impl SigstoreVerification {
    /// This result as LEO's backend-neutral [`SignatureReport`].
    ///
    /// # Errors
    /// [`Error::InvalidFingerprint`] only if a key digest were not hex (it always is).
    pub fn to_report(&self) -> Result<SignatureReport> {
        let mut details = BTreeMap::new();
        details.insert("media_type".to_owned(), self.media_type.to_owned());
        details.insert("policy".to_owned(), self.policy.clone());
        details.insert("tlog_verified".to_owned(), self.tlog_verified.to_string());
        let times: Vec<String> = self
            .time_sources
            .iter()
            .map(|t| {
                let kind = match t.kind {
                    TimeSourceKind::RekorIntegratedTime => "rekor_integrated_time",
                    _ => "rfc3161_timestamp",
                };
                format!("{kind}@{}", t.time.unix_timestamp())
            })
            .collect();
        details.insert("time_sources".to_owned(), times.join(","));
        let entries: Vec<String> = self
            .log_entries
            .iter()
            .map(|e| format!("{}#{} {}", e.log_id, e.log_index, e.kind))
            .collect();
        details.insert("log_entries".to_owned(), entries.join(","));
        let signer = match &self.signer {
            VerifiedSigner::Certificate {
                identity,
                issuer,
                chain_verified,
                sct_verified,
                key_sha256,
            } => {
                details.insert("chain_verified".to_owned(), chain_verified.to_string());
                details.insert("sct_verified".to_owned(), sct_verified.to_string());
                details.insert("key_sha256".to_owned(), key_sha256.clone());
                SignerIdentity::Identity {
                    subject: identity.clone(),
                    issuer: issuer.clone().unwrap_or_default(),
                }
            }
            VerifiedSigner::Key { key_sha256 } => {
                details.insert("key_sha256".to_owned(), key_sha256.clone());
                key_identity(key_sha256)?
            }
        };
        Ok(SignatureReport {
            backend: Backend::Sigstore,
            signer,
            signed_at: self.signed_at(),
            algorithms: Algorithms {
                public_key: self.public_key_algorithm.to_owned(),
                hash: HASH_NAME.to_owned(),
            },
            details,
        })
    }
}

impl Verifier for SigstoreVerifier {
    fn backend(&self) -> Backend {
        Backend::Sigstore
    }

    fn verify(
        &self,
        data: &mut dyn Read,
        signature: &DetachedSignature,
        options: &VerifyOptions,
    ) -> Result<Verified> {
        expect_backend(Backend::Sigstore, signature)?;
        let bundle = SigstoreBundle::from_slice(&signature.bytes)?;
        // A DSSE bundle signs an in-toto statement *about* the data (any predicate), not the
        // data: it is not a detached signature of it (as with cosign).
        if bundle.content_kind() != super::ContentKind::MessageSignature {
            return Err(super::SigstoreError::UnsupportedBundle {
                reason: "a DSSE attestation bundle is not a detached signature of the data".into(),
            }
            .into());
        }
        let verified = self.verify_reader(&bundle, data)?;
        if let Some(signed_at) = verified.signed_at() {
            options.check_signed_at(signed_at)?;
        }
        verified.to_report()
    }
}

/// The [`Signed`] value for a freshly made bundle: the bundle JSON, and what it records
/// (the earliest Rekor integrated time, if the signature was logged).
fn signed(bundle: &SigstoreBundle, signer: SignerIdentity, mode: &str) -> Result<Signed> {
    let entries = bundle.log_entries();
    let signed_at = entries
        .iter()
        .filter_map(|e| e.integrated_time)
        .min()
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok());
    let listed: Vec<String> = entries
        .iter()
        .map(|e| format!("{}#{} {}", e.log_id, e.log_index, e.kind))
        .collect();
    let mut details = BTreeMap::new();
    details.insert("mode".to_owned(), mode.to_owned());
    details.insert("log_entries".to_owned(), listed.join(","));
    Ok(Signed {
        signature: DetachedSignature {
            backend: Backend::Sigstore,
            bytes: bundle.to_json()?.into_bytes(),
        },
        report: SignatureReport {
            backend: Backend::Sigstore,
            signer,
            signed_at,
            algorithms: Algorithms {
                public_key: "ECDSA-P256".to_owned(),
                hash: HASH_NAME.to_owned(),
            },
            details,
        },
    })
}

impl Signer for KeyedSigner {
    fn backend(&self) -> Backend {
        Backend::Sigstore
    }

    fn probe(&self) -> Result<()> {
        KeyedSigner::probe(self).map_err(Error::from)
    }

    fn sign(&self, data: &mut dyn Read) -> Result<Signed> {
        let bundle = self.sign_reader(data)?;
        let key_sha256 =
            leo_artifact::Sha256Digest::of(self.key().public_key().as_bytes()).to_string();
        let mut signed = signed(&bundle, key_identity(&key_sha256)?, "keyed")?;
        signed
            .report
            .details
            .insert("hint".to_owned(), self.key().hint());
        Ok(signed)
    }
}

impl Signer for KeylessSigner {
    fn backend(&self) -> Backend {
        Backend::Sigstore
    }

    fn probe(&self) -> Result<()> {
        KeylessSigner::probe(self).map_err(Error::from)
    }

    fn sign(&self, data: &mut dyn Read) -> Result<Signed> {
        let bundle = self.sign_reader(data)?;
        let identity = SignerIdentity::Identity {
            subject: self.identity().to_owned(),
            issuer: self.issuer().to_owned(),
        };
        signed(&bundle, identity, "keyless")
    }
}
