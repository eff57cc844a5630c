//! Raw-key backend (ring): Ed25519 and ECDSA P-256 with SHA-256.
//!
//! Signatures are over the exact message bytes (so DSSE envelopes signed here verify with any
//! standard Ed25519/ECDSA verifier). Both algorithms need the whole message in memory, so
//! messages are bounded by [`MAX_RAW_MESSAGE_BYTES`]; large artifacts are signed with OpenPGP
//! (which streams) or by signing their digest.
//!
//! Wire format of a signature (`.sig`): `{"keyid": "<fingerprint>", "alg": "ed25519",
//! "sig": "<base64>"}`, where the fingerprint is the SHA-256 of the public key bytes.

use std::fmt;
use std::io::Read;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair as _};

use crate::backend::{
    Algorithms, Backend, DetachedSignature, SignatureReport, Signed, Signer, SignerIdentity,
    Verified, Verifier, VerifyOptions, expect_backend,
};
use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;

/// The largest message a raw key signs or verifies (64 MiB).
pub const MAX_RAW_MESSAGE_BYTES: u64 = 64 * 1024 * 1024;

/// The largest raw-key signature document accepted (4 KiB).
pub const MAX_RAW_SIGNATURE_BYTES: usize = 4096;

/// A raw-key algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawKeyAlgorithm {
    /// Ed25519 (RFC 8032).
    Ed25519,
    /// ECDSA over P-256 with SHA-256, ASN.1 DER signatures.
    EcdsaP256Sha256,
}

impl RawKeyAlgorithm {
    fn algorithms(self) -> Algorithms {
        let (public_key, hash) = match self {
            Self::Ed25519 => ("Ed25519", "SHA-512"),
            Self::EcdsaP256Sha256 => ("ECDSA-P256", "SHA-256"),
        };
        Algorithms {
            public_key: public_key.to_owned(),
            hash: hash.to_owned(),
        }
    }

    fn verification(self) -> &'static dyn signature::VerificationAlgorithm {
        match self {
            Self::Ed25519 => &signature::ED25519,
            Self::EcdsaP256Sha256 => &signature::ECDSA_P256_SHA256_ASN1,
        }
    }
}

impl fmt::Display for RawKeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ed25519 => "ed25519",
            Self::EcdsaP256Sha256 => "ecdsa-p256-sha256",
        })
    }
}

enum Inner {
    Ed25519(signature::Ed25519KeyPair),
    Ecdsa(signature::EcdsaKeyPair),
}

/// A raw signing key pair. Its secret half is kept as PKCS#8 and never shown by `Debug`.
pub struct RawKeyPair {
    algorithm: RawKeyAlgorithm,
    pkcs8: Vec<u8>,
    inner: Inner,
    public: RawPublicKey,
}

impl fmt::Debug for RawKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawKeyPair")
            .field("algorithm", &self.algorithm)
            .field("fingerprint", &self.public.fingerprint())
            .finish_non_exhaustive()
    }
}

impl RawKeyPair {
    /// Generates a new key pair from the system's secure random source.
    ///
    /// # Errors
    /// [`Error::KeyGeneration`] if the random source fails.
    pub fn generate(algorithm: RawKeyAlgorithm) -> Result<Self> {
        let rng = SystemRandom::new();
        let failed = |_| Error::KeyGeneration {
            reason: format!("{algorithm}: random source failed"),
        };
        let pkcs8 = match algorithm {
            RawKeyAlgorithm::Ed25519 => signature::Ed25519KeyPair::generate_pkcs8(&rng),
            RawKeyAlgorithm::EcdsaP256Sha256 => signature::EcdsaKeyPair::generate_pkcs8(
                &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                &rng,
            ),
        }
        .map_err(failed)?;
        Self::from_pkcs8(algorithm, pkcs8.as_ref())
    }

    /// Loads a key pair from PKCS#8 DER.
    ///
    /// # Errors
    /// [`Error::InvalidRawKey`] if the bytes are not a valid key of `algorithm`.
    pub fn from_pkcs8(algorithm: RawKeyAlgorithm, pkcs8: &[u8]) -> Result<Self> {
        let invalid = |e: ring::error::KeyRejected| Error::InvalidRawKey {
            algorithm: algorithm.to_string(),
            reason: e.to_string(),
        };
        let inner = match algorithm {
            RawKeyAlgorithm::Ed25519 => {
                Inner::Ed25519(signature::Ed25519KeyPair::from_pkcs8(pkcs8).map_err(invalid)?)
            }
            RawKeyAlgorithm::EcdsaP256Sha256 => Inner::Ecdsa(
                signature::EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                    pkcs8,
                    &SystemRandom::new(),
                )
                .map_err(invalid)?,
            ),
        };
        let public_bytes = match &inner {
            Inner::Ed25519(k) => k.public_key().as_ref().to_vec(),
            Inner::Ecdsa(k) => k.public_key().as_ref().to_vec(),
        };
        Ok(Self {
            algorithm,
            pkcs8: pkcs8.to_vec(),
            inner,
            public: RawPublicKey {
                algorithm,
                bytes: public_bytes,
            },
        })
    }

    /// Loads a key pair from PKCS#8 DER, detecting the algorithm from the key itself.
    ///
    /// # Errors
    /// [`Error::InvalidRawKey`] if it is neither an Ed25519 nor a P-256 key.
    pub fn from_pkcs8_any(pkcs8: &[u8]) -> Result<Self> {
        Self::from_pkcs8(RawKeyAlgorithm::Ed25519, pkcs8).or_else(|_| {
            Self::from_pkcs8(RawKeyAlgorithm::EcdsaP256Sha256, pkcs8).map_err(|_| {
                Error::InvalidRawKey {
                    algorithm: "ed25519 or ecdsa-p256-sha256".to_owned(),
                    reason: "not a PKCS#8 Ed25519 or P-256 key".to_owned(),
                }
            })
        })
    }

    /// The public half.
    #[must_use]
    pub fn public_key(&self) -> &RawPublicKey {
        &self.public
    }

    /// Writes the PKCS#8 secret key to `path` atomically with mode 0600.
    ///
    /// # Errors
    /// I/O errors.
    pub fn save_secret(&self, path: &Path) -> Result<()> {
        write_secret(path, &self.pkcs8)
    }

    /// Signs `message` (already in memory).
    ///
    /// # Errors
    /// [`Error::SigningFailed`] if the ECDSA random source fails.
    pub fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>> {
        match &self.inner {
            Inner::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
            Inner::Ecdsa(k) => k
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| Error::SigningFailed {
                    backend: Backend::RawKey,
                    reason: "ECDSA signing failed (random source)".to_owned(),
                }),
        }
    }
}

/// Writes secret key bytes atomically with mode 0600.
pub(crate) fn write_secret(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(leo_artifact::fsutil::write_secret_atomically(path, bytes)?)
}

impl Signer for RawKeyPair {
    fn backend(&self) -> Backend {
        Backend::RawKey
    }

    fn sign(&self, data: &mut dyn Read) -> Result<Signed> {
        let message = read_bounded(data)?;
        let sig = self.sign_bytes(&message)?;
        let fingerprint = self.public.fingerprint();
        let doc = RawSignatureDoc {
            keyid: fingerprint.clone(),
            alg: self.algorithm,
            sig: B64.encode(sig),
        };
        let bytes = serde_json::to_vec(&doc).map_err(|e| Error::json("raw-key signature", e))?;
        Ok(Signed {
            signature: DetachedSignature {
                backend: Backend::RawKey,
                bytes,
            },
            report: self.public.report(),
        })
    }
}

fn read_bounded(data: &mut dyn Read) -> Result<Vec<u8>> {
    let mut message = Vec::new();
    data.take(MAX_RAW_MESSAGE_BYTES + 1)
        .read_to_end(&mut message)
        .map_err(|e| Error::io("reading the message to sign or verify", e))?;
    if message.len() as u64 > MAX_RAW_MESSAGE_BYTES {
        return Err(Error::MessageTooLarge {
            limit: MAX_RAW_MESSAGE_BYTES,
        });
    }
    Ok(message)
}

/// A raw public key: what is pinned, published and persisted.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RawPublicKey {
    /// The algorithm.
    pub algorithm: RawKeyAlgorithm,
    /// The public key bytes (Ed25519: 32 bytes; P-256: uncompressed SEC1 point).
    #[serde(with = "b64")]
    pub bytes: Vec<u8>,
}

impl fmt::Debug for RawPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RawPublicKey({}, {})",
            self.algorithm,
            self.fingerprint()
        )
    }
}

impl RawPublicKey {
    /// The key's fingerprint (SHA-256 of its bytes).
    #[must_use]
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of_raw_public_key(&self.bytes)
    }

    fn report(&self) -> SignatureReport {
        let fingerprint = self.fingerprint();
        SignatureReport {
            backend: Backend::RawKey,
            signer: SignerIdentity::Key {
                primary: fingerprint.clone(),
                signing_key: fingerprint,
            },
            signed_at: None,
            algorithms: self.algorithm.algorithms(),
            details: Default::default(),
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignatureDoc {
    keyid: Fingerprint,
    alg: RawKeyAlgorithm,
    sig: String,
}

/// Verifies raw-key signatures against a set of pinned public keys.
#[derive(Debug, Clone)]
pub struct RawKeyVerifier {
    keys: Vec<RawPublicKey>,
}

impl RawKeyVerifier {
    /// A verifier trusting exactly `keys`.
    #[must_use]
    pub fn new(keys: Vec<RawPublicKey>) -> Self {
        Self { keys }
    }
}

impl Verifier for RawKeyVerifier {
    fn backend(&self) -> Backend {
        Backend::RawKey
    }

    fn verify(
        &self,
        data: &mut dyn Read,
        signature: &DetachedSignature,
        _options: &VerifyOptions,
    ) -> Result<Verified> {
        expect_backend(Backend::RawKey, signature)?;
        let malformed = |reason: String| Error::MalformedSignature {
            backend: Backend::RawKey,
            reason,
        };
        if signature.bytes.len() > MAX_RAW_SIGNATURE_BYTES {
            return Err(Error::TooLarge {
                what: "raw-key signature",
                limit: MAX_RAW_SIGNATURE_BYTES as u64,
            });
        }
        let doc: RawSignatureDoc =
            serde_json::from_slice(&signature.bytes).map_err(|e| malformed(e.to_string()))?;
        let sig = B64
            .decode(doc.sig.as_bytes())
            .map_err(|e| malformed(format!("signature is not base64: {e}")))?;
        let key = self
            .keys
            .iter()
            .find(|k| k.fingerprint() == doc.keyid && k.algorithm == doc.alg)
            .ok_or_else(|| Error::UnknownSigningKey {
                issuer: doc.keyid.to_string(),
            })?;
        let message = read_bounded(data)?;
        signature::UnparsedPublicKey::new(key.algorithm.verification(), &key.bytes)
            .verify(&message, &sig)
            .map_err(|_| Error::SignatureMismatch {
                fingerprint: doc.keyid.clone(),
            })?;
        Ok(key.report())
    }
}

mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as B64;

    pub(super) fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&B64.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        B64.decode(s.as_bytes()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(algorithm: RawKeyAlgorithm) {
        let key = RawKeyPair::generate(algorithm).unwrap();
        let signed = key.sign(&mut &b"hello"[..]).unwrap();
        let verifier = RawKeyVerifier::new(vec![key.public_key().clone()]);
        let report = verifier
            .verify(&mut &b"hello"[..], &signed.signature, &VerifyOptions::now())
            .unwrap();
        assert_eq!(report, signed.report);
        assert_eq!(report.backend, Backend::RawKey);
        let err = verifier
            .verify(&mut &b"hellO"[..], &signed.signature, &VerifyOptions::now())
            .unwrap_err();
        assert!(matches!(err, Error::SignatureMismatch { .. }), "{err}");
    }

    #[test]
    fn ed25519_signs_and_detects_tampering() {
        round_trip(RawKeyAlgorithm::Ed25519);
    }

    #[test]
    fn ecdsa_p256_signs_and_detects_tampering() {
        round_trip(RawKeyAlgorithm::EcdsaP256Sha256);
    }

    #[test]
    fn ed25519_matches_rfc8032_test_vector_1() {
        // RFC 8032 §7.1 TEST 1: empty message.
        let public =
            hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
                .unwrap();
        let sig = hex::decode("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b").unwrap();
        let key = RawPublicKey {
            algorithm: RawKeyAlgorithm::Ed25519,
            bytes: public,
        };
        let doc = serde_json::json!({"keyid": key.fingerprint(), "alg": "ed25519", "sig": B64.encode(&sig)});
        let signature = DetachedSignature {
            backend: Backend::RawKey,
            bytes: doc.to_string().into_bytes(),
        };
        let verifier = RawKeyVerifier::new(vec![key]);
        verifier
            .verify(&mut &b""[..], &signature, &VerifyOptions::now())
            .unwrap();
    }

    #[test]
    fn wrong_key_is_reported_as_unknown_signing_key() {
        let a = RawKeyPair::generate(RawKeyAlgorithm::Ed25519).unwrap();
        let b = RawKeyPair::generate(RawKeyAlgorithm::Ed25519).unwrap();
        let signed = a.sign(&mut &b"x"[..]).unwrap();
        let err = RawKeyVerifier::new(vec![b.public_key().clone()])
            .verify(&mut &b"x"[..], &signed.signature, &VerifyOptions::now())
            .unwrap_err();
        assert!(matches!(err, Error::UnknownSigningKey { .. }), "{err}");
    }

    #[test]
    fn secret_key_file_is_0600_and_reloads() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pk8");
        let key = RawKeyPair::generate(RawKeyAlgorithm::EcdsaP256Sha256).unwrap();
        key.save_secret(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let again = RawKeyPair::from_pkcs8(
            RawKeyAlgorithm::EcdsaP256Sha256,
            &std::fs::read(&path).unwrap(),
        )
        .unwrap();
        assert_eq!(again.public_key(), key.public_key());
        assert!(!format!("{key:?}").contains(&hex::encode(&key.pkcs8)));
    }

    #[test]
    fn garbage_signature_is_malformed_and_other_backend_rejected() {
        let key = RawKeyPair::generate(RawKeyAlgorithm::Ed25519).unwrap();
        let v = RawKeyVerifier::new(vec![key.public_key().clone()]);
        let junk = DetachedSignature {
            backend: Backend::RawKey,
            bytes: b"{".to_vec(),
        };
        assert!(matches!(
            v.verify(&mut &b""[..], &junk, &VerifyOptions::now()),
            Err(Error::MalformedSignature { .. })
        ));
        let pgp = DetachedSignature {
            backend: Backend::OpenPgp,
            bytes: vec![],
        };
        assert!(matches!(
            v.verify(&mut &b""[..], &pgp, &VerifyOptions::now()),
            Err(Error::BackendMismatch { .. })
        ));
    }

    #[test]
    fn oversized_message_is_rejected() {
        let key = RawKeyPair::generate(RawKeyAlgorithm::Ed25519).unwrap();
        let mut big = std::io::repeat(0).take(MAX_RAW_MESSAGE_BYTES + 1);
        assert!(matches!(
            key.sign(&mut big),
            Err(Error::MessageTooLarge { .. })
        ));
    }

    #[test]
    fn public_key_serde_round_trips() {
        let key = RawKeyPair::generate(RawKeyAlgorithm::Ed25519).unwrap();
        let json = serde_json::to_string(key.public_key()).unwrap();
        assert!(json.contains("\"ed25519\""));
        let back: RawPublicKey = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, key.public_key());
    }
}
