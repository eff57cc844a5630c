//! [`SigstoreVerifier`]: offline bundle verification through `sigstore-verify`, plus the few
//! checks LEO adds in front of it so a rejection names the right reason.
//!
//! Order of checks: the bundle's material must fit the policy; a certificate chain must be
//! non-empty and carry no root; every log entry must name a log of the trusted root; a key
//! bundle's hint must name the caller's key. Then `sigstore-verify` checks time sources,
//! chain, SCT, identity, inclusion proof, checkpoint, SET, signature, digest and log-entry
//! consistency. The result ([`SigstoreVerification`]) says what was verified, and for a
//! DSSE bundle carries the envelope's payload ([`DssePayload`]): it is only ever read from a
//! bundle that verified, so there is no way to get at an unverified payload through LEO.

use std::io::Read;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use leo_artifact::Sha256Digest;
use sigstore_verify::crypto::KeyAlgorithm;
use sigstore_verify::types::bundle::{SignatureContent, VerificationMaterialContent};
use sigstore_verify::types::{HashAlgorithm, Sha256Hash};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, VerificationResult};
use time::OffsetDateTime;
use x509_cert::der::Decode as _;

use super::bundle::{ContentKind, LogEntryFacts, SigstoreBundle};
use super::error::{SigstoreError, SigstoreResult, classify};
use super::policy::{ArtifactInput, IdentityMatch, KeyPolicy, SigstorePolicy, TrustRoot};

/// Which kind of clock vouched for the signing time.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSourceKind {
    /// A Rekor v1 integrated time, authenticated by the entry's SET.
    RekorIntegratedTime,
    /// An RFC 3161 timestamp from a trusted TSA.
    Rfc3161Timestamp,
}

/// One verified time source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TimeSource {
    /// Which kind.
    pub kind: TimeSourceKind,
    /// The authenticated time.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
}

/// Who signed, as established by verification.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VerifiedSigner {
    /// A Fulcio certificate.
    Certificate {
        /// The SAN identity (e-mail or URI).
        identity: String,
        /// The OIDC issuer extension.
        issuer: Option<String>,
        /// Whether the chain to a trusted Fulcio CA was verified.
        chain_verified: bool,
        /// Whether the embedded SCT was verified against a trusted CT log.
        sct_verified: bool,
        /// The certificate's SPKI, hex SHA-256.
        key_sha256: String,
    },
    /// A managed key supplied by the caller.
    Key {
        /// The key's SPKI DER, hex SHA-256 (cosign's hint is the same bytes in base64).
        key_sha256: String,
    },
}

/// The payload of a DSSE envelope whose signature verified.
///
/// `sigstore-verify` binds a DSSE bundle to the artifact only through an in-toto statement,
/// so the payload type is always `application/vnd.in-toto+json` and the statement's
/// subjects include the verified artifact digest; what the statement *says* (predicate
/// type, builder) is for the caller to judge.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct DssePayload {
    /// The envelope's `payloadType`.
    pub payload_type: String,
    /// The signed payload bytes (base64 in JSON output, as in the envelope).
    #[serde(serialize_with = "serialize_base64")]
    pub payload: Vec<u8>,
}

fn serialize_base64<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&BASE64.encode(bytes))
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SigstoreVerification {
    /// The bundle's normalised media type.
    pub media_type: &'static str,
    /// What the bundle signs.
    pub content: ContentKind,
    /// The signer.
    pub signer: VerifiedSigner,
    /// The signing key's algorithm (`ECDSA-P256`, `ECDSA-P384`, `Ed25519`, `RSA`, ...).
    pub public_key_algorithm: &'static str,
    /// Verified time sources (empty only for offline key bundles under
    /// [`KeyPolicy::allow_offline`]).
    pub time_sources: Vec<TimeSource>,
    /// The bundle's log entries.
    pub log_entries: Vec<LogEntryFacts>,
    /// Whether inclusion proofs, checkpoints and SETs of those entries were verified.
    pub tlog_verified: bool,
    /// The policy that was matched (identity and issuer, or `key`).
    pub policy: String,
    /// For a [`ContentKind::DsseEnvelope`] bundle: the verified envelope's payload type and
    /// payload. `None` for message signatures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dsse_payload: Option<DssePayload>,
}

impl SigstoreVerification {
    /// The earliest verified signing time, if any.
    #[must_use]
    pub fn signed_at(&self) -> Option<OffsetDateTime> {
        self.time_sources.iter().map(|t| t.time).min()
    }
}

/// The input handed to `sigstore-verify`.
enum Input<'a> {
    Reader(&'a mut dyn Read),
    Digest(Sha256Digest),
}

/// Verifies Sigstore bundles against one trusted root and one policy.
///
/// ```no_run
/// use leo_sign::sigstore::{SigstoreBundle, SigstorePolicy, SigstoreVerifier, TrustRoot};
///
/// let root = TrustRoot::from_file("trusted_root.json".as_ref()).unwrap();
/// let policy = SigstorePolicy::identity("me@example.com", "https://accounts.google.com");
/// let verifier = SigstoreVerifier::new(root, policy);
/// let bundle = SigstoreBundle::from_file("a.txt.sigstore.json".as_ref()).unwrap();
/// let result = verifier.verify_input(&bundle, &"a.txt".parse().unwrap()).unwrap();
/// println!("signed at {:?} by {:?}", result.signed_at(), result.signer);
/// ```
#[derive(Debug)]
pub struct SigstoreVerifier {
    root: TrustRoot,
    policy: SigstorePolicy,
}

impl SigstoreVerifier {
    /// A verifier with its trust anchors and policy.
    #[must_use]
    pub fn new(root: TrustRoot, policy: SigstorePolicy) -> Self {
        Self { root, policy }
    }

    /// The policy.
    #[must_use]
    pub fn policy(&self) -> &SigstorePolicy {
        &self.policy
    }

    /// Verifies a bundle for a file (streamed) or a `sha256:` digest.
    ///
    /// # Errors
    /// A [`SigstoreError`] naming the failed check; [`SigstoreError::Io`] if the file
    /// cannot be read.
    pub fn verify_input(
        &self,
        bundle: &SigstoreBundle,
        input: &ArtifactInput,
    ) -> SigstoreResult<SigstoreVerification> {
        match input {
            ArtifactInput::Digest(d) => self.verify_digest(bundle, d),
            ArtifactInput::File(path) => {
                let file = std::fs::File::open(path).map_err(|e| {
                    SigstoreError::io(format!("opening artifact {}", path.display()), e)
                })?;
                self.verify_reader(bundle, std::io::BufReader::new(file))
            }
        }
    }

    /// Verifies a bundle for everything `reader` yields, hashed as a stream.
    ///
    /// # Errors
    /// A [`SigstoreError`] naming the failed check.
    pub fn verify_reader(
        &self,
        bundle: &SigstoreBundle,
        mut reader: impl Read,
    ) -> SigstoreResult<SigstoreVerification> {
        self.run(bundle, Input::Reader(&mut reader))
    }

    /// Verifies a bundle for an artifact known only by its SHA-256 digest.
    ///
    /// # Errors
    /// A [`SigstoreError`] naming the failed check.
    pub fn verify_digest(
        &self,
        bundle: &SigstoreBundle,
        digest: &Sha256Digest,
    ) -> SigstoreResult<SigstoreVerification> {
        self.run(bundle, Input::Digest(*digest))
    }

    fn run(
        &self,
        bundle: &SigstoreBundle,
        input: Input<'_>,
    ) -> SigstoreResult<SigstoreVerification> {
        precheck(bundle, &self.root, &self.policy)?;
        let inner = bundle.inner();
        let verifier = self.root.verifier();
        let (result, policy_text, key) = match &self.policy {
            SigstorePolicy::Identity { identity, issuer } => {
                let policy = match identity {
                    IdentityMatch::Exact(exact) => {
                        VerificationPolicy::new(exact.as_str(), issuer.as_str())
                    }
                    IdentityMatch::Regex(_) => {
                        VerificationPolicy::any_identity().require_issuer(issuer.as_str())
                    }
                };
                let result = call(verifier, inner, &policy, input)?;
                check_regex(identity, &result)?;
                (
                    result,
                    format!("identity {identity} issued by {issuer}"),
                    None,
                )
            }
            SigstorePolicy::Key(key) => {
                let material = &inner.verification_material;
                let unlogged = material.tlog_entries.is_empty()
                    && material
                        .timestamp_verification_data
                        .rfc3161_timestamps
                        .is_empty();
                if unlogged {
                    return verify_offline_key(bundle, key, input);
                }
                let policy = PublicKeyVerificationPolicy::new(key.key().clone());
                let result = call(verifier, inner, &policy, input)?;
                (result, "key".to_owned(), Some(key))
            }
        };
        Ok(report(bundle, &result, policy_text, key))
    }
}

fn call(
    verifier: &sigstore_verify::Verifier,
    bundle: &sigstore_verify::types::Bundle,
    policy: &dyn sigstore_verify::Policy,
    input: Input<'_>,
) -> SigstoreResult<VerificationResult> {
    match input {
        Input::Reader(reader) => verifier.verify_reader(reader, bundle, policy),
        Input::Digest(d) => verifier.verify(Sha256Hash::new(*d.as_bytes()), bundle, policy),
    }
    .map_err(classify)
}

fn check_regex(identity: &IdentityMatch, result: &VerificationResult) -> SigstoreResult<()> {
    if let IdentityMatch::Regex(regex) = identity {
        let actual = result.identity().map(|san| san.as_str().to_owned());
        if !actual.as_deref().is_some_and(|san| regex.is_match(san)) {
            return Err(SigstoreError::IdentityMismatch {
                expected: identity.to_string(),
                actual,
            });
        }
    }
    Ok(())
}

/// LEO's checks before `sigstore-verify`: they make the error name the real reason.
fn precheck(
    bundle: &SigstoreBundle,
    root: &TrustRoot,
    policy: &SigstorePolicy,
) -> SigstoreResult<()> {
    let inner = bundle.inner();
    match (&inner.verification_material.content, policy) {
        (VerificationMaterialContent::PublicKey(_), SigstorePolicy::Identity { .. }) => {
            return Err(SigstoreError::MaterialMismatch {
                bundle: "a public key hint",
                policy: "a certificate identity",
            });
        }
        (VerificationMaterialContent::PublicKey(id), SigstorePolicy::Key(key)) => {
            let expected = BASE64.encode(Sha256Digest::of(key.key().as_bytes()).as_bytes());
            if !id.hint.is_empty() && id.hint != expected {
                return Err(SigstoreError::PublicKey {
                    reason: format!(
                        "bundle names key hint {}, the given key is {expected}",
                        id.hint
                    ),
                });
            }
        }
        (_, SigstorePolicy::Key(_)) => {
            return Err(SigstoreError::MaterialMismatch {
                bundle: "a certificate",
                policy: "a public key",
            });
        }
        (VerificationMaterialContent::X509CertificateChain { certificates }, _) => {
            if certificates.is_empty() {
                return Err(SigstoreError::CertificateChain {
                    reason: "x509CertificateChain is empty: no signing certificate".to_owned(),
                });
            }
            for cert in certificates.iter().skip(1) {
                if is_self_signed(cert.raw_bytes.as_bytes())? {
                    return Err(SigstoreError::CertificateChain {
                        reason: "the bundle's chain includes a root certificate; roots must come \
                                 from the trusted root"
                            .to_owned(),
                    });
                }
            }
        }
        _ => {}
    }
    for entry in &inner.verification_material.tlog_entries {
        if !root.knows_log(entry.log_id.key_id.as_bytes()) {
            return Err(SigstoreError::UnknownLog {
                log_id: BASE64.encode(entry.log_id.key_id.as_bytes()),
            });
        }
    }
    Ok(())
}

fn is_self_signed(der: &[u8]) -> SigstoreResult<bool> {
    let cert =
        x509_cert::Certificate::from_der(der).map_err(|e| SigstoreError::CertificateChain {
            reason: format!("unparseable certificate in the bundle's chain: {e}"),
        })?;
    Ok(cert.tbs_certificate.issuer == cert.tbs_certificate.subject)
}

/// A managed-key bundle with neither log entry nor timestamp (allowed only by
/// [`KeyPolicy::allow_offline`]): key, digest and signature are all there is to check.
fn verify_offline_key(
    bundle: &SigstoreBundle,
    key: &KeyPolicy,
    input: Input<'_>,
) -> SigstoreResult<SigstoreVerification> {
    if key.requires_log() {
        return Err(SigstoreError::NoVerifiedTime {
            reason: "the key bundle has no transparency log entry and no RFC 3161 timestamp \
                     (allow offline key bundles explicitly to accept it)"
                .to_owned(),
        });
    }
    let SignatureContent::MessageSignature(sig) = &bundle.inner().content else {
        return Err(SigstoreError::UnsupportedBundle {
            reason: "offline key bundles must carry a message signature".to_owned(),
        });
    };
    let Some(stated) = sig
        .message_digest
        .as_ref()
        .filter(|d| d.algorithm == HashAlgorithm::Sha2256)
    else {
        return Err(SigstoreError::UnsupportedBundle {
            reason: "offline key bundles must carry a SHA-256 message digest".to_owned(),
        });
    };
    let actual = match input {
        Input::Digest(d) => d,
        Input::Reader(reader) => {
            leo_artifact::digest::hash_reader(reader)
                .map_err(|e| SigstoreError::io("hashing the artifact", e))?
                .0
        }
    };
    if stated.digest.as_bytes() != actual.as_bytes().as_slice() {
        return Err(SigstoreError::DigestMismatch {
            reason: format!(
                "bundle message digest {} is not the artifact's {actual}",
                hex::encode(stated.digest.as_bytes())
            ),
        });
    }
    let algorithm = KeyAlgorithm::from_spki(key.key()).map_err(|e| SigstoreError::PublicKey {
        reason: e.to_string(),
    })?;
    let scheme = algorithm
        .resolve_signing_scheme(HashAlgorithm::Sha2256)
        .map_err(|e| SigstoreError::PublicKey {
            reason: e.to_string(),
        })?;
    sigstore_verify::crypto::verify_signature_prehashed(
        key.key(),
        actual.as_bytes(),
        &sig.signature,
        scheme,
    )
    .map_err(|e| SigstoreError::SignatureInvalid {
        reason: e.to_string(),
    })?;
    Ok(SigstoreVerification {
        media_type: bundle.media_type(),
        content: bundle.content_kind(),
        signer: VerifiedSigner::Key {
            key_sha256: Sha256Digest::of(key.key().as_bytes()).to_string(),
        },
        public_key_algorithm: algorithm_name(algorithm),
        time_sources: Vec::new(),
        log_entries: Vec::new(),
        tlog_verified: false,
        policy: "key (offline: no log entry, no timestamp)".to_owned(),
        // Offline key bundles are message signatures (checked above).
        dsse_payload: None,
    })
}

fn algorithm_name(alg: KeyAlgorithm) -> &'static str {
    match alg {
        KeyAlgorithm::EcdsaP256 => "ECDSA-P256",
        KeyAlgorithm::EcdsaP384 => "ECDSA-P384",
        KeyAlgorithm::Ed25519 => "Ed25519",
        KeyAlgorithm::Rsa => "RSA",
        KeyAlgorithm::MlDsa44 => "ML-DSA-44",
        KeyAlgorithm::MlDsa65 => "ML-DSA-65",
        KeyAlgorithm::MlDsa87 => "ML-DSA-87",
        _ => "unknown",
    }
}

fn to_offset(t: impl Into<i128>) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(t.into()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn report(
    bundle: &SigstoreBundle,
    result: &VerificationResult,
    policy: String,
    key: Option<&KeyPolicy>,
) -> SigstoreVerification {
    // sigstore-verify lists RFC 3161 times before Rekor integrated times on the certificate
    // path and after them on the key path; every bundle timestamp must have verified.
    let times = result.verified_timestamps();
    let tsa = bundle.rfc3161_timestamp_count().min(times.len());
    let first_tsa = if key.is_some() { times.len() - tsa } else { 0 };
    let time_sources = times
        .iter()
        .enumerate()
        .map(|(i, t)| TimeSource {
            kind: if (first_tsa..first_tsa + tsa).contains(&i) {
                TimeSourceKind::Rfc3161Timestamp
            } else {
                TimeSourceKind::RekorIntegratedTime
            },
            time: to_offset(t.as_nanosecond()),
        })
        .collect();
    let signer = match result.certificate() {
        Some(cert) => VerifiedSigner::Certificate {
            identity: result
                .identity()
                .map(|san| san.as_str().to_owned())
                .unwrap_or_default(),
            issuer: result.issuer().map(str::to_owned),
            chain_verified: result.certificate_verified(),
            sct_verified: result.sct_verified(),
            key_sha256: Sha256Digest::of(cert.public_key.as_bytes()).to_string(),
        },
        None => VerifiedSigner::Key {
            key_sha256: key
                .map(|k| Sha256Digest::of(k.key().as_bytes()).to_string())
                .unwrap_or_default(),
        },
    };
    let algorithm = match (result.certificate(), key) {
        (Some(cert), _) => Some(cert.key_algorithm),
        (None, Some(k)) => KeyAlgorithm::from_spki(k.key()).ok(),
        (None, None) => None,
    };
    SigstoreVerification {
        media_type: bundle.media_type(),
        content: bundle.content_kind(),
        signer,
        public_key_algorithm: algorithm.map_or("unknown", algorithm_name),
        time_sources,
        log_entries: bundle.log_entries(),
        tlog_verified: result.tlog_verified(),
        policy,
        dsse_payload: verified_dsse_payload(bundle),
    }
}

/// The envelope of a DSSE bundle. Private, and called only by [`report`], which runs after
/// `sigstore-verify` accepted the bundle: the envelope's signature over PAE(type, payload)
/// verified and the log entry records that envelope.
fn verified_dsse_payload(bundle: &SigstoreBundle) -> Option<DssePayload> {
    match &bundle.inner().content {
        SignatureContent::DsseEnvelope(envelope) => Some(DssePayload {
            payload_type: envelope.payload_type.clone(),
            payload: envelope.payload.as_bytes().to_vec(),
        }),
        _ => None,
    }
}
