//! cosign-compatible keys: `cosign.pub` (PEM SPKI, ECDSA P-256) and the encrypted
//! `cosign.key` that `cosign generate-key-pair` writes.
//!
//! `cosign.key` is a PEM block (`ENCRYPTED SIGSTORE PRIVATE KEY`, or the older
//! `ENCRYPTED COSIGN PRIVATE KEY`) around the JSON of go-securesystemslib's `encrypted`
//! package: the password goes through scrypt (salt and `N`, `r`, `p` in the file) to a
//! 32-byte key that opens a NaCl secretbox (XSalsa20-Poly1305, 24-byte nonce, tag first)
//! holding the PKCS#8 DER private key.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use leo_artifact::Sha256Digest;
use ring::rand::{SecureRandom, SystemRandom};
use sigstore_verify::crypto::KeyPair;
use sigstore_verify::types::{DerPublicKey, Sha256Hash};

use super::error::{SigstoreError, SigstoreResult};

/// PEM label cosign 2.x writes.
pub const COSIGN_PEM_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// PEM label older cosign releases wrote (still read).
pub const LEGACY_COSIGN_PEM_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// scrypt cost LEO writes, as cosign does: `N = 2^16`.
pub const COSIGN_SCRYPT_LOG_N: u8 = 16;
/// scrypt block size LEO writes (cosign: 8).
pub const COSIGN_SCRYPT_R: u32 = 8;
/// scrypt parallelism LEO writes (cosign: 1).
pub const COSIGN_SCRYPT_P: u32 = 1;
/// Most memory (`128 · r · N` bytes) a key file may make scrypt use: a hostile file cannot
/// make LEO allocate gigabytes.
pub const MAX_SCRYPT_MEMORY: u64 = 256 * 1024 * 1024;
/// Largest key file LEO reads.
pub const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;
/// Environment variable cosign reads the key password from.
pub const COSIGN_PASSWORD_ENV: &str = "COSIGN_PASSWORD";

const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const KDF_NAME: &str = "scrypt";
const CIPHER_NAME: &str = "nacl/secretbox";

/// A key password. Never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Wraps a password (the empty password is allowed, as in cosign).
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }

    /// The password from `$COSIGN_PASSWORD`, if set.
    #[must_use]
    pub fn from_env() -> Option<Self> {
        std::env::var(COSIGN_PASSWORD_ENV).ok().map(Self)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct EncryptedKey {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// An ECDSA P-256 key pair in cosign's formats. `Debug` shows only the public key hint.
pub struct CosignKeyPair {
    pkcs8: Vec<u8>,
    signer: KeyPair,
    public: DerPublicKey,
}

impl fmt::Debug for CosignKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosignKeyPair")
            .field("hint", &self.hint())
            .finish_non_exhaustive()
    }
}

fn bad_key(reason: impl fmt::Display) -> SigstoreError {
    SigstoreError::PrivateKey {
        reason: reason.to_string(),
    }
}

impl CosignKeyPair {
    /// Generates a fresh ECDSA P-256 key pair.
    ///
    /// # Errors
    /// [`SigstoreError::PrivateKey`] if the system RNG fails.
    pub fn generate() -> SigstoreResult<Self> {
        let rng = SystemRandom::new();
        let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &rng,
        )
        .map_err(|_| bad_key("key generation failed"))?;
        Self::from_pkcs8_der(pkcs8.as_ref())
    }

    /// Loads an unencrypted PKCS#8 DER ECDSA P-256 private key.
    ///
    /// # Errors
    /// [`SigstoreError::PrivateKey`] when it is not a P-256 PKCS#8 key.
    pub fn from_pkcs8_der(pkcs8: &[u8]) -> SigstoreResult<Self> {
        let signer = KeyPair::from_pkcs8_der(pkcs8).map_err(bad_key)?;
        let public = signer.public_key_der().map_err(bad_key)?;
        Ok(Self {
            pkcs8: pkcs8.to_vec(),
            signer,
            public,
        })
    }

    /// Decrypts cosign's `cosign.key` PEM.
    ///
    /// # Errors
    /// [`SigstoreError::WrongPassword`] when the secretbox does not open;
    /// [`SigstoreError::PrivateKey`] for a malformed file, an unknown KDF or cipher, or scrypt
    /// parameters beyond [`MAX_SCRYPT_MEMORY`].
    pub fn from_encrypted_pem(pem: &str, password: &Password) -> SigstoreResult<Self> {
        let body = pem_decode(pem, &[COSIGN_PEM_LABEL, LEGACY_COSIGN_PEM_LABEL])?;
        let doc: EncryptedKey = serde_json::from_slice(&body).map_err(bad_key)?;
        if doc.kdf.name != KDF_NAME {
            return Err(bad_key(format!("unsupported KDF {:?}", doc.kdf.name)));
        }
        if doc.cipher.name != CIPHER_NAME {
            return Err(bad_key(format!("unsupported cipher {:?}", doc.cipher.name)));
        }
        let log_n = scrypt_log_n(&doc.kdf.params)?;
        let salt = BASE64.decode(&doc.kdf.salt).map_err(bad_key)?;
        let nonce = BASE64.decode(&doc.cipher.nonce).map_err(bad_key)?;
        if nonce.len() != NONCE_LEN {
            return Err(bad_key(format!(
                "nonce is {} bytes, expected {NONCE_LEN}",
                nonce.len()
            )));
        }
        let ciphertext = BASE64.decode(&doc.ciphertext).map_err(bad_key)?;
        let key = derive_key(password, &salt, log_n, doc.kdf.params.r, doc.kdf.params.p)?;
        let pkcs8 = XSalsa20Poly1305::new(Key::from_slice(&key))
            .decrypt(Nonce::from_slice(&nonce), ciphertext.as_slice())
            .map_err(|_| SigstoreError::WrongPassword)?;
        Self::from_pkcs8_der(&pkcs8)
    }

    /// Reads and decrypts a `cosign.key` file.
    ///
    /// # Errors
    /// [`SigstoreError::Io`], and as [`Self::from_encrypted_pem`].
    pub fn from_encrypted_file(path: &Path, password: &Password) -> SigstoreResult<Self> {
        let pem = read_small(path, "private key")?;
        Self::from_encrypted_pem(&pem, password)
    }

    /// Encrypts the key as cosign does (scrypt `N = 2^16, r = 8, p = 1`, NaCl secretbox).
    ///
    /// # Errors
    /// [`SigstoreError::PrivateKey`] if the RNG or the KDF fails.
    pub fn to_encrypted_pem(&self, password: &Password) -> SigstoreResult<String> {
        let rng = SystemRandom::new();
        let mut salt = [0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut salt).map_err(|_| bad_key("RNG failed"))?;
        rng.fill(&mut nonce).map_err(|_| bad_key("RNG failed"))?;
        let key = derive_key(
            password,
            &salt,
            COSIGN_SCRYPT_LOG_N,
            COSIGN_SCRYPT_R,
            COSIGN_SCRYPT_P,
        )?;
        let ciphertext = XSalsa20Poly1305::new(Key::from_slice(&key))
            .encrypt(Nonce::from_slice(&nonce), self.pkcs8.as_slice())
            .map_err(|_| bad_key("encryption failed"))?;
        let doc = EncryptedKey {
            kdf: Kdf {
                name: KDF_NAME.to_owned(),
                params: ScryptParams {
                    n: 1u64 << COSIGN_SCRYPT_LOG_N,
                    r: COSIGN_SCRYPT_R,
                    p: COSIGN_SCRYPT_P,
                },
                salt: BASE64.encode(salt),
            },
            cipher: Cipher {
                name: CIPHER_NAME.to_owned(),
                nonce: BASE64.encode(nonce),
            },
            ciphertext: BASE64.encode(ciphertext),
        };
        let json = serde_json::to_vec(&doc).map_err(bad_key)?;
        Ok(pem_encode(COSIGN_PEM_LABEL, &json))
    }

    /// Writes `<prefix>.key` (encrypted, mode 0600) and `<prefix>.pub` into `dir`, atomically,
    /// as `cosign generate-key-pair --output-key-prefix` does. Returns both paths.
    ///
    /// # Errors
    /// [`SigstoreError::Io`] when a file cannot be written.
    pub fn write_files(
        &self,
        dir: &Path,
        prefix: &str,
        password: &Password,
    ) -> SigstoreResult<(PathBuf, PathBuf)> {
        let key_path = dir.join(format!("{prefix}.key"));
        let pub_path = dir.join(format!("{prefix}.pub"));
        let pem = self.to_encrypted_pem(password)?;
        write_file(&key_path, pem.as_bytes(), true)?;
        write_file(&pub_path, self.public_key_pem().as_bytes(), false)?;
        Ok((key_path, pub_path))
    }

    /// The public key (DER SPKI).
    #[must_use]
    pub fn public_key(&self) -> &DerPublicKey {
        &self.public
    }

    /// The public key as `cosign.pub` PEM.
    #[must_use]
    pub fn public_key_pem(&self) -> String {
        self.public.to_pem()
    }

    /// cosign's key hint: `base64(sha256(SPKI DER))`.
    #[must_use]
    pub fn hint(&self) -> String {
        BASE64.encode(Sha256Digest::of(self.public.as_bytes()).as_bytes())
    }

    /// Signs a SHA-256 digest: a DER ECDSA signature, as cosign makes over the artifact.
    pub(crate) fn sign_digest(&self, digest: &Sha256Digest) -> SigstoreResult<Vec<u8>> {
        self.signer
            .sign_digest(&Sha256Hash::new(*digest.as_bytes()))
            .map(|s| s.as_bytes().to_vec())
            .map_err(|e| SigstoreError::SigningFailed {
                reason: e.to_string(),
            })
    }
}

/// Reads cosign's `cosign.pub` (PEM SPKI).
///
/// # Errors
/// [`SigstoreError::Io`] or [`SigstoreError::PublicKey`].
pub fn read_public_key(path: &Path) -> SigstoreResult<DerPublicKey> {
    let pem = read_small(path, "public key")?;
    DerPublicKey::from_pem(&pem).map_err(|e| SigstoreError::PublicKey {
        reason: e.to_string(),
    })
}

fn scrypt_log_n(params: &ScryptParams) -> SigstoreResult<u8> {
    if !params.n.is_power_of_two() || params.n < 2 {
        return Err(bad_key(format!(
            "scrypt N = {} is not a power of two",
            params.n
        )));
    }
    let memory = 128u64
        .saturating_mul(u64::from(params.r))
        .saturating_mul(params.n)
        .saturating_mul(u64::from(params.p.max(1)));
    if memory > MAX_SCRYPT_MEMORY {
        return Err(bad_key(format!(
            "scrypt parameters need {memory} bytes, more than the limit {MAX_SCRYPT_MEMORY}"
        )));
    }
    u8::try_from(params.n.trailing_zeros()).map_err(bad_key)
}

fn derive_key(
    password: &Password,
    salt: &[u8],
    log_n: u8,
    r: u32,
    p: u32,
) -> SigstoreResult<[u8; 32]> {
    let params = scrypt::Params::new(log_n, r, p, 32).map_err(bad_key)?;
    let mut key = [0u8; 32];
    scrypt::scrypt(password.0.as_bytes(), salt, &params, &mut key).map_err(bad_key)?;
    Ok(key)
}

fn read_small(path: &Path, what: &str) -> SigstoreResult<String> {
    use std::io::Read as _;
    let context = || format!("reading {what} {}", path.display());
    let file = std::fs::File::open(path).map_err(|e| SigstoreError::io(context(), e))?;
    let mut text = String::new();
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| SigstoreError::io(context(), e))?;
    if text.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(SigstoreError::TooLarge {
            what: "key file",
            limit: MAX_KEY_FILE_BYTES,
        });
    }
    Ok(text)
}

/// Writes `path` atomically: mode 0600 when `secret`, else 0644.
fn write_file(path: &Path, bytes: &[u8], secret: bool) -> SigstoreResult<()> {
    let written = if secret {
        leo_artifact::fsutil::write_secret_atomically(path, bytes)
    } else {
        leo_artifact::fsutil::write_bytes_atomically(path, bytes)
    };
    written.map_err(|e| {
        SigstoreError::io(
            format!("writing {}", path.display()),
            std::io::Error::other(e),
        )
    })
}

/// Extracts the base64 body of the PEM block with one of `labels`.
fn pem_decode(pem: &str, labels: &[&str]) -> SigstoreResult<Vec<u8>> {
    for label in labels {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        if let Some((_, rest)) = pem.split_once(&begin) {
            let Some((body, _)) = rest.split_once(&end) else {
                return Err(bad_key(format!("PEM block {label} has no END line")));
            };
            let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            return BASE64.decode(compact).map_err(bad_key);
        }
    }
    Err(bad_key(format!(
        "no PEM block labelled {}",
        labels.join(" or ")
    )))
}

/// A PEM block with 64-character lines.
fn pem_encode(label: &str, bytes: &[u8]) -> String {
    let b64 = BASE64.encode(bytes);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip() {
        let bytes: Vec<u8> = (0..=255u8).collect();
        let pem = pem_encode(COSIGN_PEM_LABEL, &bytes);
        assert!(pem.lines().all(|l| l.len() <= 64 || l.starts_with("-----")));
        assert_eq!(pem_decode(&pem, &[COSIGN_PEM_LABEL]).unwrap(), bytes);
        let err = pem_decode(&pem, &["PUBLIC KEY"]).unwrap_err();
        assert!(matches!(err, SigstoreError::PrivateKey { .. }));
    }

    #[test]
    fn scrypt_limits_are_enforced() {
        let ok = ScryptParams {
            n: 1 << 16,
            r: 8,
            p: 1,
        };
        assert_eq!(scrypt_log_n(&ok).unwrap(), 16);
        for bad in [
            ScryptParams { n: 3, r: 8, p: 1 },
            ScryptParams {
                n: 1 << 30,
                r: 8,
                p: 1,
            },
            ScryptParams {
                n: 1 << 16,
                r: 8,
                p: 1000,
            },
        ] {
            assert!(matches!(
                scrypt_log_n(&bad),
                Err(SigstoreError::PrivateKey { .. })
            ));
        }
    }

    #[test]
    fn password_is_redacted() {
        let debug = format!("{:?}", Password::new("hunter2"));
        assert!(!debug.contains("hunter2"));
    }
}
