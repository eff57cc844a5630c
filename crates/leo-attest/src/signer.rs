//! Signing: the [`DsseSigner`] trait (the only thing envelope creation needs) and
//! [`SigningKey`], its implementation for ring Ed25519, ECDSA P-256 and RSA-PSS keys.
//!
//! Other backends (an OpenPGP card, a KMS, Sigstore) implement [`DsseSigner`] themselves; this
//! crate never needs to know about them.

use std::fmt;

use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};

use crate::der;
use crate::error::{Error, Result};
use crate::keys::{KeyAlgorithm, PublicKey};

/// Something that signs DSSE pre-authentication encodings.
pub trait DsseSigner {
    /// The `keyid` hint written next to the signature (`None` omits it).
    fn key_id(&self) -> Option<String>;

    /// Signs the PAE bytes ([`crate::pae`]) and returns the raw signature.
    fn sign(&self, pae: &[u8]) -> Result<Vec<u8>>;
}

/// PKCS#8 v1 `PrivateKeyInfo` header for an Ed25519 seed (RFC 8410 §7), followed by 32 bytes.
const ED25519_PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

enum Inner {
    Ed25519(Ed25519KeyPair),
    EcdsaP256(EcdsaKeyPair),
    RsaPss(RsaKeyPair),
}

/// A private key held in memory. `Debug` shows only the algorithm and key id, never the key.
pub struct SigningKey {
    inner: Inner,
    public: PublicKey,
}

/// PKCS#8 PEM of a freshly generated key. `Debug` is redacted; write it with mode 0600.
pub struct PrivateKeyPem(String);

impl PrivateKeyPem {
    /// The PEM text (secret).
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PrivateKeyPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKeyPem(<redacted>)")
    }
}

impl SigningKey {
    /// Parses a PKCS#8 `PRIVATE KEY` PEM block (Ed25519 v1 or v2, P-256, RSA).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self> {
        Self::from_pkcs8_der(&der::pem_decode(pem, "PRIVATE KEY")?)
    }

    /// Parses a DER PKCS#8 `PrivateKeyInfo`.
    pub fn from_pkcs8_der(pkcs8: &[u8]) -> Result<Self> {
        let alg = der::pkcs8_algorithm(pkcs8)?;
        let rejected = |e: ring::error::KeyRejected| Error::InvalidKey {
            reason: e.to_string(),
        };
        let (inner, algorithm, raw_public) = if alg == der::ALG_ED25519 {
            // `maybe_unchecked` accepts PKCS#8 v1 (no public key), as OpenSSL and pyca write.
            let kp = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8).map_err(rejected)?;
            let public = kp.public_key().as_ref().to_vec();
            (Inner::Ed25519(kp), KeyAlgorithm::Ed25519, public)
        } else if alg == der::ALG_EC_P256 {
            let kp = EcdsaKeyPair::from_pkcs8(
                &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                pkcs8,
                &SystemRandom::new(),
            )
            .map_err(rejected)?;
            let public = kp.public_key().as_ref().to_vec();
            (Inner::EcdsaP256(kp), KeyAlgorithm::EcdsaP256Sha256, public)
        } else if alg == der::ALG_RSA {
            let kp = RsaKeyPair::from_pkcs8(pkcs8).map_err(rejected)?;
            let public = kp.public_key().as_ref().to_vec();
            (Inner::RsaPss(kp), KeyAlgorithm::RsaPssSha256, public)
        } else {
            return Err(Error::InvalidKey {
                reason: "unsupported private key algorithm (Ed25519, ECDSA P-256, RSA only)".into(),
            });
        };
        Ok(SigningKey {
            inner,
            public: PublicKey::from_raw(algorithm, raw_public)?,
        })
    }

    /// Generates an Ed25519 key; returns it and its PKCS#8 v1 PEM (RFC 8410).
    ///
    /// v1, because ring's v2 encoding tags the public key `[1] EXPLICIT`, which OpenSSL and
    /// pyca/cryptography reject ("extra data"); v1 carries only the seed and reads everywhere.
    pub fn generate_ed25519() -> Result<(Self, PrivateKeyPem)> {
        use ring::rand::SecureRandom;
        let mut seed = [0u8; 32];
        SystemRandom::new()
            .fill(&mut seed)
            .map_err(|_| Error::SigningFailed {
                reason: "Ed25519 key generation failed".into(),
            })?;
        let mut doc = ED25519_PKCS8_V1_PREFIX.to_vec();
        doc.extend_from_slice(&seed);
        let key = Self::from_pkcs8_der(&doc)?;
        Ok((key, PrivateKeyPem(der::pem_encode(&doc, "PRIVATE KEY"))))
    }

    /// Generates an ECDSA P-256 key; returns it and its PKCS#8 PEM.
    pub fn generate_ecdsa_p256() -> Result<(Self, PrivateKeyPem)> {
        let doc = EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &SystemRandom::new(),
        )
        .map_err(|_| Error::SigningFailed {
            reason: "P-256 key generation failed".into(),
        })?;
        let key = Self::from_pkcs8_der(doc.as_ref())?;
        Ok((
            key,
            PrivateKeyPem(der::pem_encode(doc.as_ref(), "PRIVATE KEY")),
        ))
    }

    /// The public half (with its securesystemslib key id).
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Signs `message`: Ed25519 (deterministic), ECDSA P-256 SHA-256 in DER, or RSA-PSS-SHA256.
    pub fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>> {
        let failed = |_| Error::SigningFailed {
            reason: format!("{:?} signing failed", self.public.algorithm()),
        };
        match &self.inner {
            Inner::Ed25519(kp) => Ok(kp.sign(message).as_ref().to_vec()),
            Inner::EcdsaP256(kp) => kp
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(failed),
            Inner::RsaPss(kp) => {
                let mut sig = vec![0u8; kp.public().modulus_len()];
                kp.sign(
                    &signature::RSA_PSS_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut sig,
                )
                .map_err(failed)?;
                Ok(sig)
            }
        }
    }
}

impl DsseSigner for SigningKey {
    fn key_id(&self) -> Option<String> {
        Some(self.public.key_id().to_string())
    }

    fn sign(&self, pae: &[u8]) -> Result<Vec<u8>> {
        self.sign_bytes(pae)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SigningKey({:?}, {}, <secret redacted>)",
            self.public.algorithm(),
            self.public.key_id()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_and_verify_and_debug_hides_secrets() {
        for (key, pem) in [
            SigningKey::generate_ed25519().unwrap(),
            SigningKey::generate_ecdsa_p256().unwrap(),
        ] {
            let sig = key.sign_bytes(b"msg").unwrap();
            assert!(key.public_key().verify(b"msg", &sig));
            assert!(!key.public_key().verify(b"msh", &sig));
            let reparsed = SigningKey::from_pkcs8_pem(pem.expose_secret()).unwrap();
            assert_eq!(reparsed.public_key(), key.public_key());
            assert!(!format!("{key:?}{pem:?}").contains("PRIVATE"));
        }
    }

    #[test]
    fn reads_ed25519_pkcs8_v2_as_ring_writes_it() {
        let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let pem = der::pem_encode(doc.as_ref(), "PRIVATE KEY");
        let key = SigningKey::from_pkcs8_pem(&pem).unwrap();
        let kp = Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap();
        assert_eq!(key.public_key().raw(), kp.public_key().as_ref());
    }

    #[test]
    fn rejects_non_pkcs8_input() {
        let err = SigningKey::from_pkcs8_der(&[0x30, 0x03, 0x02, 0x01, 0x00]).unwrap_err();
        assert!(matches!(err, Error::InvalidKey { .. }));
    }
}
