//! OpenPGP keys: generation (SOP §10.3), armored import/export, revocation, signing.

use std::fmt;
use std::io::{Read, Write};
use std::path::Path;

use openpgp::Profile;
use openpgp::armor;
use openpgp::cert::prelude::*;
use openpgp::parse::Parse as _;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::SerializeInto as _;
use openpgp::serialize::stream::{Armorer, Message, Signer as StreamSigner};
use openpgp::types::{HashAlgorithm, ReasonForRevocation};
use sequoia_openpgp as openpgp;
use time::OffsetDateTime;

use super::algo::{algorithms, to_system};
use super::{KEY_VALIDITY, MAX_CERT_BYTES};
use crate::backend::{Backend, DetachedSignature, SignatureReport, Signed, Signer, SignerIdentity};
use crate::error::{Error, Result, RevocationReason};
use crate::fingerprint::Fingerprint;

/// The key algorithms SOP §10.3 allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PgpAlgorithm {
    /// RSA with 4096-bit keys (the SOP's example).
    Rsa4096,
    /// Ed25519 (the faster option).
    Ed25519,
}

impl PgpAlgorithm {
    fn cipher_suite(self) -> CipherSuite {
        match self {
            Self::Rsa4096 => CipherSuite::RSA4k,
            Self::Ed25519 => CipherSuite::Cv25519,
        }
    }
}

impl std::str::FromStr for PgpAlgorithm {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "rsa4096" | "rsa-4096" => Ok(Self::Rsa4096),
            "ed25519" => Ok(Self::Ed25519),
            _ => Err(Error::KeyGeneration {
                reason: format!(
                    "unknown OpenPGP key algorithm {s:?} (expected rsa4096 or ed25519)"
                ),
            }),
        }
    }
}

/// What key to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    /// The algorithm.
    pub algorithm: PgpAlgorithm,
    /// The user ID's name (`Name-Real`).
    pub name: String,
    /// The user ID's e-mail (`Name-Email`).
    pub email: String,
    /// The key's creation time (normally now; tests choose past times).
    pub created_at: OffsetDateTime,
    /// How long the key is valid: [`KEY_VALIDITY`] (30 days) by default.
    pub validity: time::Duration,
}

impl KeySpec {
    /// The SOP §10.3 defaults: created now, valid 30 days.
    #[must_use]
    pub fn new(algorithm: PgpAlgorithm, name: &str, email: &str) -> Self {
        Self {
            algorithm,
            name: name.to_owned(),
            email: email.to_owned(),
            created_at: OffsetDateTime::now_utc(),
            validity: KEY_VALIDITY,
        }
    }

    /// The same spec with another creation time.
    #[must_use]
    pub fn created_at(mut self, at: OffsetDateTime) -> Self {
        self.created_at = at;
        self
    }
}

fn sequoia_error(context: &str) -> impl Fn(openpgp::anyhow::Error) -> Error + '_ {
    move |e| Error::KeyGeneration {
        reason: format!("{context}: {e:#}"),
    }
}

fn malformed_cert(e: openpgp::anyhow::Error) -> Error {
    Error::MalformedCert {
        reason: format!("{e:#}"),
    }
}

/// Parses an armored (or binary) certificate, bounded by [`MAX_CERT_BYTES`].
pub(crate) fn parse_cert(bytes: &[u8]) -> Result<Cert> {
    if bytes.len() > MAX_CERT_BYTES {
        return Err(Error::TooLarge {
            what: "OpenPGP certificate",
            limit: MAX_CERT_BYTES as u64,
        });
    }
    Cert::from_bytes(bytes).map_err(malformed_cert)
}

/// A public OpenPGP certificate: what is pinned and published.
#[derive(Clone, PartialEq)]
pub struct PgpCert(pub(crate) Cert);

impl fmt::Debug for PgpCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgpCert({})", self.fingerprint())
    }
}

impl PgpCert {
    /// Parses an armored (or binary) certificate; secret key material, if any, is dropped.
    ///
    /// # Errors
    /// [`Error::MalformedCert`], [`Error::TooLarge`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Ok(Self(parse_cert(bytes)?.strip_secret_key_material()))
    }

    /// The primary key's fingerprint.
    #[must_use]
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::from(&self.0.fingerprint())
    }

    /// The ASCII-armored public certificate (`gpg --import` reads it).
    ///
    /// # Errors
    /// [`Error::MalformedCert`] if serialisation fails.
    pub fn to_armored(&self) -> Result<String> {
        let bytes = self.0.armored().to_vec().map_err(malformed_cert)?;
        String::from_utf8(bytes).map_err(|e| Error::MalformedCert {
            reason: e.to_string(),
        })
    }

    /// When the primary key was created.
    #[must_use]
    pub fn created_at(&self) -> OffsetDateTime {
        super::algo::from_system(self.0.primary_key().key().creation_time())
    }

    /// When the certificate expires under the standard policy, evaluated at its creation.
    #[must_use]
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        let policy = StandardPolicy::new();
        let at = self.0.primary_key().key().creation_time();
        self.0
            .with_policy(&policy, at)
            .ok()
            .and_then(|vc| vc.primary_key().key_expiration_time())
            .map(super::algo::from_system)
    }

    /// Merges a revocation certificate (as `gpg --gen-revoke` writes it, or the
    /// `openpgp-revocs.d/*.rev` file without its `:` guard) into this certificate. Sequoia
    /// checks the revocation signature when it is evaluated, so a forged one has no effect.
    ///
    /// # Errors
    /// [`Error::MalformedCert`] when the input holds anything but signatures.
    pub fn insert_revocation(&mut self, armored: &[u8]) -> Result<()> {
        if armored.len() > MAX_CERT_BYTES {
            return Err(Error::TooLarge {
                what: "revocation certificate",
                limit: MAX_CERT_BYTES as u64,
            });
        }
        let pile = openpgp::PacketPile::from_bytes(armored).map_err(malformed_cert)?;
        let mut sigs = Vec::new();
        for packet in pile.into_children() {
            match packet {
                openpgp::Packet::Signature(sig) => sigs.push(sig),
                other => {
                    return Err(Error::MalformedCert {
                        reason: format!(
                            "expected only revocation signatures, found {}",
                            other.tag()
                        ),
                    });
                }
            }
        }
        let (cert, _) = self
            .0
            .clone()
            .insert_packets(sigs)
            .map_err(malformed_cert)?;
        self.0 = cert;
        Ok(())
    }

    /// The raw-key fingerprints ([`Fingerprint::of_raw_public_key`]) of the primary key and
    /// every subkey whose material is an Ed25519 or ECDSA P-256 public point: Ed25519 as its
    /// 32 bytes, P-256 as the uncompressed SEC1 point, the forms LEO's raw keys and DSSE keys
    /// use, so one key pair is one identity whichever format carries it. Keys of other kinds
    /// (RSA, other curves) are left out: their material is no raw key of another lane.
    #[must_use]
    pub fn raw_key_fingerprints(&self) -> Vec<Fingerprint> {
        self.0
            .keys()
            .filter_map(|ka| raw_public_key(ka.key().mpis()))
            .map(|raw| Fingerprint::of_raw_public_key(&raw))
            .collect()
    }

    /// The user IDs, as text.
    #[must_use]
    pub fn user_ids(&self) -> Vec<String> {
        self.0
            .userids()
            .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned())
            .collect()
    }
}

/// An OpenPGP secret key (a certificate with secret key material). `Debug` shows only the
/// fingerprint; the secret never leaves except through [`PgpKey::to_armored_secret`] and
/// [`PgpKey::save_secret`].
#[derive(Clone)]
pub struct PgpKey {
    cert: Cert,
    /// Fixed signature time for [`Signer::sign`]; `None` means "now".
    signing_time: Option<OffsetDateTime>,
    hash: HashAlgorithm,
}

impl fmt::Debug for PgpKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgpKey")
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl PgpKey {
    /// Generates a v4 key per `spec`: a certification-only primary key and a signing subkey,
    /// both expiring after `spec.validity`.
    ///
    /// # Errors
    /// [`Error::KeyGeneration`].
    pub fn generate(spec: &KeySpec) -> Result<Self> {
        let validity =
            std::time::Duration::try_from(spec.validity).map_err(|e| Error::KeyGeneration {
                reason: format!("invalid validity period: {e}"),
            })?;
        let (cert, _revocation) = CertBuilder::new()
            .set_profile(Profile::RFC4880)
            .map_err(sequoia_error("setting the v4 profile"))?
            .set_cipher_suite(spec.algorithm.cipher_suite())
            .set_creation_time(to_system(spec.created_at))
            .set_validity_period(validity)
            .add_userid(format!("{} <{}>", spec.name, spec.email))
            .add_signing_subkey()
            .generate()
            .map_err(sequoia_error("generating the key"))?;
        Ok(Self::from_cert(cert))
    }

    /// Wraps an existing Ed25519 secret key (its 32-byte seed) as a v4 certificate whose
    /// primary key certifies and signs, with the user ID and validity of `spec`
    /// (`spec.algorithm` is not used): the same key pair in OpenPGP form.
    ///
    /// # Errors
    /// [`Error::KeyGeneration`].
    pub fn from_ed25519_secret(secret: &[u8; 32], spec: &KeySpec) -> Result<Self> {
        use openpgp::packet::key::{Key4, PrimaryRole, SecretParts};
        use openpgp::packet::signature::SignatureBuilder;
        use openpgp::packet::{Key, UserID};
        use openpgp::types::{KeyFlags, SignatureType};

        let validity =
            std::time::Duration::try_from(spec.validity).map_err(|e| Error::KeyGeneration {
                reason: format!("invalid validity period: {e}"),
            })?;
        let ctime = to_system(spec.created_at);
        let fail = sequoia_error("importing the Ed25519 key");
        let key: Key<SecretParts, PrimaryRole> =
            Key4::<SecretParts, PrimaryRole>::import_secret_ed25519(secret, ctime)
                .map_err(&fail)?
                .into();
        let mut signer = key.clone().into_keypair().map_err(&fail)?;
        let flags = KeyFlags::empty().set_certification().set_signing();
        let direct = SignatureBuilder::new(SignatureType::DirectKey)
            .set_signature_creation_time(ctime)
            .and_then(|b| b.set_key_flags(flags.clone()))
            .and_then(|b| b.set_key_validity_period(validity))
            .map(|b| b.set_hash_algo(HashAlgorithm::SHA512))
            .and_then(|b| b.sign_direct_key(&mut signer, key.parts_as_public()))
            .map_err(&fail)?;
        let cert =
            Cert::try_from(vec![openpgp::Packet::from(key), direct.into()]).map_err(&fail)?;
        let uid = UserID::from(format!("{} <{}>", spec.name, spec.email));
        let binding = SignatureBuilder::new(SignatureType::PositiveCertification)
            .set_signature_creation_time(ctime)
            .and_then(|b| b.set_key_flags(flags))
            .and_then(|b| b.set_key_validity_period(validity))
            .and_then(|b| b.set_primary_userid(true))
            .map(|b| b.set_hash_algo(HashAlgorithm::SHA512))
            .and_then(|b| uid.bind(&mut signer, &cert, b))
            .map_err(&fail)?;
        let (cert, _) = cert
            .insert_packets(vec![openpgp::Packet::from(uid), binding.into()])
            .map_err(&fail)?;
        Ok(Self::from_cert(cert))
    }

    /// [`PgpCert::raw_key_fingerprints`] of this key's certificate.
    #[must_use]
    pub fn raw_key_fingerprints(&self) -> Vec<Fingerprint> {
        self.public().raw_key_fingerprints()
    }

    fn from_cert(cert: Cert) -> Self {
        Self {
            cert,
            signing_time: None,
            hash: super::SIGNING_HASH,
        }
    }

    /// Parses an armored secret key (as written by [`PgpKey::to_armored_secret`] or
    /// `gpg --export-secret-keys --armor`, unprotected).
    ///
    /// # Errors
    /// [`Error::MalformedCert`] if it does not parse or holds no secret key material.
    pub fn from_armored_secret(bytes: &[u8]) -> Result<Self> {
        let cert = parse_cert(bytes)?;
        if !cert.is_tsk() {
            return Err(Error::MalformedCert {
                reason: "no secret key material (this is a public certificate)".to_owned(),
            });
        }
        Ok(Self::from_cert(cert))
    }

    /// Reads a secret key file.
    ///
    /// # Errors
    /// I/O errors and [`Error::MalformedCert`].
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = read_limited(path)?;
        Self::from_armored_secret(&bytes)
    }

    /// The primary fingerprint.
    #[must_use]
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::from(&self.cert.fingerprint())
    }

    /// The public certificate.
    #[must_use]
    pub fn public(&self) -> PgpCert {
        PgpCert(self.cert.clone().strip_secret_key_material())
    }

    /// The ASCII-armored secret key (transferable secret key).
    ///
    /// # Errors
    /// [`Error::MalformedCert`] if serialisation fails.
    pub fn to_armored_secret(&self) -> Result<Vec<u8>> {
        self.cert
            .as_tsk()
            .armored()
            .to_vec()
            .map_err(malformed_cert)
    }

    /// Writes the armored secret key to `path` atomically with mode 0600.
    ///
    /// # Errors
    /// I/O errors.
    pub fn save_secret(&self, path: &Path) -> Result<()> {
        crate::rawkey::write_secret(path, &self.to_armored_secret()?)
    }

    /// Signs at a fixed time instead of "now" (for tests and for re-creating history).
    #[must_use]
    pub fn with_signing_time(mut self, at: OffsetDateTime) -> Self {
        self.signing_time = Some(at);
        self
    }

    /// Revokes the certificate at `at` with `reason`; the revocation is part of the public
    /// certificate from then on.
    ///
    /// # Errors
    /// [`Error::KeyGeneration`] if the primary secret key is unusable.
    pub fn revoke(&mut self, reason: RevocationReason, at: OffsetDateTime) -> Result<()> {
        let code = match reason {
            RevocationReason::Unspecified => ReasonForRevocation::Unspecified,
            RevocationReason::Compromised => ReasonForRevocation::KeyCompromised,
            RevocationReason::Superseded => ReasonForRevocation::KeySuperseded,
            RevocationReason::Retired => ReasonForRevocation::KeyRetired,
        };
        let mut primary = self
            .cert
            .primary_key()
            .key()
            .clone()
            .parts_into_secret()
            .and_then(|k| k.into_keypair())
            .map_err(sequoia_error("unlocking the primary key"))?;
        let sig = CertRevocationBuilder::new()
            .set_reason_for_revocation(code, reason.to_string().as_bytes())
            .and_then(|b| b.set_signature_creation_time(to_system(at)))
            .and_then(|b| b.build(&mut primary, &self.cert, None))
            .map_err(sequoia_error("making the revocation"))?;
        let (cert, _) = self
            .cert
            .clone()
            .insert_packets(sig)
            .map_err(sequoia_error("adding the revocation"))?;
        self.cert = cert;
        Ok(())
    }

    /// Signs everything `data` yields into a detached, ASCII-armored signature, streaming.
    ///
    /// # Errors
    /// [`Error::NoSigningKey`] when no signing key is valid at the signing time; I/O errors.
    pub fn sign_stream(&self, data: &mut dyn Read) -> Result<Signed> {
        let at = self.signing_time.unwrap_or_else(OffsetDateTime::now_utc);
        let policy = StandardPolicy::new();
        let no_key = || Error::NoSigningKey {
            fingerprint: self.fingerprint(),
            at,
        };
        let vc = self
            .cert
            .with_policy(&policy, to_system(at))
            .map_err(|_| no_key())?;
        // A revoked certificate never signs again (hard or soft).
        super::verify::check_revocation(vc.revocation_status(), &self.fingerprint(), at)?;
        let ka = vc
            .keys()
            .supported()
            .alive()
            .revoked(false)
            .for_signing()
            .secret()
            .next()
            .ok_or_else(no_key)?;
        let signing_key = Fingerprint::from(&ka.key().fingerprint());
        let algorithms = algorithms(ka.key(), self.hash);
        let keypair = ka
            .key()
            .clone()
            .into_keypair()
            .map_err(|e| signing_failed(&e))?;

        let mut sink = Vec::new();
        let message = Message::new(&mut sink);
        let message = Armorer::new(message)
            .kind(armor::Kind::Signature)
            .build()
            .map_err(|e| signing_failed(&e))?;
        let mut writer = StreamSigner::new(message, keypair)
            .and_then(|s| s.hash_algo(self.hash))
            .map_err(|e| signing_failed(&e))?
            .detached()
            .creation_time(to_system(at))
            .build()
            .map_err(|e| signing_failed(&e))?;
        std::io::copy(data, &mut writer).map_err(|e| Error::io("reading the data to sign", e))?;
        writer.flush().map_err(|e| Error::io("signing", e))?;
        writer.finalize().map_err(|e| signing_failed(&e))?;

        Ok(Signed {
            signature: DetachedSignature {
                backend: Backend::OpenPgp,
                bytes: sink,
            },
            report: SignatureReport {
                backend: Backend::OpenPgp,
                signer: SignerIdentity::Key {
                    primary: self.fingerprint(),
                    signing_key,
                },
                signed_at: Some(super::algo::from_system(to_system(at))),
                algorithms,
                details: Default::default(),
            },
        })
    }
}

/// The raw public key of OpenPGP key material LEO also uses as a raw key: Ed25519's 32
/// bytes, ECDSA P-256's uncompressed point; `None` for any other kind.
fn raw_public_key(mpis: &openpgp::crypto::mpi::PublicKey) -> Option<Vec<u8>> {
    use openpgp::crypto::mpi::PublicKey;
    use openpgp::types::Curve;
    match mpis {
        PublicKey::EdDSA {
            curve: Curve::Ed25519,
            q,
        } => q
            .decode_point(&Curve::Ed25519)
            .ok()
            .map(|(x, _)| x.to_vec()),
        PublicKey::Ed25519 { a } => Some(a.to_vec()),
        PublicKey::ECDSA {
            curve: Curve::NistP256,
            q,
        } => Some(q.value().to_vec()),
        _ => None,
    }
}

fn signing_failed(e: &openpgp::anyhow::Error) -> Error {
    Error::SigningFailed {
        backend: Backend::OpenPgp,
        reason: format!("{e:#}"),
    }
}

/// Reads a key file, bounded by [`MAX_CERT_BYTES`].
pub(crate) fn read_limited(path: &Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    let mut bytes = Vec::new();
    file.take(MAX_CERT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    Ok(bytes)
}

impl Signer for PgpKey {
    fn backend(&self) -> Backend {
        Backend::OpenPgp
    }

    fn sign(&self, data: &mut dyn Read) -> Result<Signed> {
        self.sign_stream(data)
    }
}
