//! Signing: cosign-compatible keyed bundles (offline, or logged in Rekor v1) and keyless
//! bundles through the real Fulcio and Rekor APIs (`sigstore-sign`).
//!
//! A keyed bundle is what `cosign sign-blob --key cosign.key --new-bundle-format
//! --tlog-upload=false` writes (with [`KeyedSigner::with_rekor`], what it writes without that
//! flag, the entry included): a v0.3 bundle whose material is `publicKey.hint =
//! base64(sha256(SPKI DER))` and whose `messageSignature` is a DER ECDSA P-256 signature
//! over SHA-256 of the artifact, with that digest in `messageDigest`.
//!
//! Keyless signing needs Fulcio and Rekor. [`KeylessSigner::probe`] checks that both
//! accept a TCP connection within [`CONNECT_TIMEOUT`]; offline it fails with
//! [`SigstoreError::Unreachable`], which the enforcer turns into its OpenPGP fallback.

use std::io::Read;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use leo_artifact::Sha256Digest;
use sigstore_sign::oidc::IdentityToken;
use sigstore_sign::{SigningContext, SigningServices, SigstoreInstance};
use sigstore_verify::bundle::{BundleV03, VerificationMaterialV03};
use sigstore_verify::types::bundle::{MessageDigest, MessageSignature, SignatureContent};
use sigstore_verify::types::{DigestBytes, HashAlgorithm, Sha256Hash, SignatureBytes};

use super::bundle::SigstoreBundle;
use super::error::{SigstoreError, SigstoreResult};
use super::keys::CosignKeyPair;

/// How long a reachability probe waits for each service's TCP handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one signing request may take end to end.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Signs with a cosign key pair: offline by default, or uploading each signature to a
/// Rekor v1 log ([`Self::with_rekor`]) as `cosign sign-blob --key` does.
#[derive(Debug)]
pub struct KeyedSigner {
    key: CosignKeyPair,
    rekor_url: Option<String>,
}

impl KeyedSigner {
    /// An offline signer for this key pair (no transparency log entry).
    #[must_use]
    pub fn new(key: CosignKeyPair) -> Self {
        Self {
            key,
            rekor_url: None,
        }
    }

    /// Also logs every signature in the Rekor v1 log at `rekor_url`
    /// (public good: `https://rekor.sigstore.dev`).
    #[must_use]
    pub fn with_rekor(mut self, rekor_url: impl Into<String>) -> Self {
        self.rekor_url = Some(rekor_url.into());
        self
    }

    /// Checks that the configured Rekor (if any) accepts TCP connections.
    ///
    /// # Errors
    /// [`SigstoreError::Unreachable`].
    pub fn probe(&self) -> SigstoreResult<()> {
        match &self.rekor_url {
            Some(url) => probe_url("Rekor", url),
            None => Ok(()),
        }
    }

    /// The key pair.
    #[must_use]
    pub fn key(&self) -> &CosignKeyPair {
        &self.key
    }

    /// Signs everything `reader` yields (hashed as a stream).
    ///
    /// # Errors
    /// [`SigstoreError::Io`] when reading fails; [`SigstoreError::SigningFailed`].
    pub fn sign_reader(&self, reader: impl Read) -> SigstoreResult<SigstoreBundle> {
        let (digest, _) = leo_artifact::hash_reader(reader)
            .map_err(|e| SigstoreError::io("hashing the artifact", e))?;
        self.sign_digest(&digest)
    }

    /// Signs an artifact known by its SHA-256 digest (and logs it, with [`Self::with_rekor`]).
    ///
    /// # Errors
    /// [`SigstoreError::SigningFailed`]; with a log, [`SigstoreError::Unreachable`] when
    /// Rekor cannot be reached.
    pub fn sign_digest(&self, digest: &Sha256Digest) -> SigstoreResult<SigstoreBundle> {
        self.probe()?;
        let signature = self.key.sign_digest(digest)?;
        let entry = match &self.rekor_url {
            Some(url) => {
                let body =
                    super::rekor::hashedrekord_body(digest, &signature, &self.key.public_key_pem());
                Some(super::rekor::upload(url, &body)?)
            }
            None => None,
        };
        let content = SignatureContent::MessageSignature(
            MessageSignature::new(SignatureBytes::new(signature)).with_message_digest(
                MessageDigest::new(
                    HashAlgorithm::Sha2256,
                    DigestBytes::new(digest.as_bytes().to_vec()),
                ),
            ),
        );
        let mut bundle = BundleV03::new(
            VerificationMaterialV03::PublicKey {
                hint: self.key.hint(),
            },
            content,
        );
        if let Some(entry) = entry {
            bundle = bundle.with_tlog_entry(entry);
        }
        Ok(SigstoreBundle::from_inner(bundle.into_bundle()))
    }
}

/// Signs keylessly: a Fulcio certificate for the caller's OIDC identity, a Rekor entry.
#[derive(Debug)]
pub struct KeylessSigner {
    services: SigningServices,
    token: IdentityToken,
}

impl KeylessSigner {
    /// A signer for these services and this OIDC identity token (a JWT; its claims are read,
    /// Fulcio authenticates it).
    ///
    /// # Errors
    /// [`SigstoreError::InvalidInput`] when the token is not a JWT.
    pub fn new(services: SigningServices, token: &str) -> SigstoreResult<Self> {
        let token =
            IdentityToken::from_jwt(token.trim()).map_err(|e| SigstoreError::InvalidInput {
                what: "OIDC identity token",
                reason: e.to_string(),
            })?;
        Ok(Self { services, token })
    }

    /// A signer using the ambient CI identity token (GitHub Actions, GitLab CI, Buildkite),
    /// or `None` when the environment has none.
    ///
    /// # Errors
    /// [`SigstoreError::Unreachable`] when the CI token endpoint cannot be reached.
    pub fn ambient(services: SigningServices) -> SigstoreResult<Option<Self>> {
        let token = runtime()?
            .block_on(IdentityToken::detect_ambient())
            .map_err(|e| SigstoreError::Unreachable {
                service: "OIDC",
                url: "ambient CI token endpoint".to_owned(),
                reason: e.to_string(),
            })?;
        Ok(token.map(|token| Self { services, token }))
    }

    /// The public-good production services (embedded signing config of `sigstore-sign`).
    ///
    /// # Errors
    /// [`SigstoreError::SigningFailed`] if the embedded config were unusable.
    pub fn production_services() -> SigstoreResult<SigningServices> {
        SigningServices::from_embedded(SigstoreInstance::PublicGood).map_err(signing_failed)
    }

    /// The staging services.
    ///
    /// # Errors
    /// [`SigstoreError::SigningFailed`] if the embedded config were unusable.
    pub fn staging_services() -> SigstoreResult<SigningServices> {
        SigningServices::from_embedded(SigstoreInstance::Staging).map_err(signing_failed)
    }

    /// The identity the token claims (e-mail or subject).
    #[must_use]
    pub fn identity(&self) -> &str {
        self.token.identity()
    }

    /// The token's issuer.
    #[must_use]
    pub fn issuer(&self) -> &str {
        self.token.issuer()
    }

    /// Checks that Fulcio and Rekor (and the TSA, if configured) accept TCP connections.
    ///
    /// # Errors
    /// [`SigstoreError::Unreachable`] naming the first service that cannot be reached.
    pub fn probe(&self) -> SigstoreResult<()> {
        probe_url("Fulcio", self.services.fulcio_url())?;
        probe_url("Rekor", self.services.rekor_url())?;
        if let Some(tsa) = self.services.tsa_url() {
            probe_url("TSA", tsa)?;
        }
        Ok(())
    }

    /// Signs everything `reader` yields: probes the services, hashes the stream, then asks
    /// Fulcio for a certificate and Rekor for an entry.
    ///
    /// # Errors
    /// [`SigstoreError::Unreachable`] offline; [`SigstoreError::SigningFailed`] when a
    /// service rejects the request.
    pub fn sign_reader(&self, reader: impl Read) -> SigstoreResult<SigstoreBundle> {
        self.probe()?;
        let (digest, _) = leo_artifact::hash_reader(reader)
            .map_err(|e| SigstoreError::io("hashing the artifact", e))?;
        let signer = self.context()?.signer(self.token.clone());
        let bundle = runtime()?
            .block_on(signer.sign(Sha256Hash::new(*digest.as_bytes())))
            .map_err(|e| self.classify(e))?;
        Ok(SigstoreBundle::from_inner(bundle))
    }

    /// Signs an in-toto statement as a DSSE envelope (`sign-bundle --in-toto`).
    ///
    /// # Errors
    /// As [`Self::sign_reader`]; [`SigstoreError::SigningFailed`] for an invalid statement.
    pub fn sign_statement(&self, statement: &[u8]) -> SigstoreResult<SigstoreBundle> {
        self.probe()?;
        let signer = self.context()?.signer(self.token.clone());
        let bundle = runtime()?
            .block_on(signer.sign_raw_statement(statement))
            .map_err(|e| self.classify(e))?;
        Ok(SigstoreBundle::from_inner(bundle))
    }

    fn context(&self) -> SigstoreResult<SigningContext> {
        let client = sigstore_sign::reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(signing_failed)?;
        Ok(SigningContext::new(self.services.clone()).with_http_client(client))
    }

    fn classify(&self, err: sigstore_sign::Error) -> SigstoreError {
        use sigstore_sign::Error as E;
        let (service, url) = match &err {
            E::Fulcio(sigstore_sign::fulcio::Error::Http(_)) => {
                ("Fulcio", self.services.fulcio_url())
            }
            E::Rekor(sigstore_sign::rekor::Error::Http(_)) => ("Rekor", self.services.rekor_url()),
            E::Tsa(sigstore_sign::tsa::Error::Http(_)) => {
                ("TSA", self.services.tsa_url().unwrap_or_default())
            }
            _ => return signing_failed(err),
        };
        SigstoreError::Unreachable {
            service,
            url: url.to_owned(),
            reason: err.to_string(),
        }
    }
}

fn signing_failed(err: impl std::fmt::Display) -> SigstoreError {
    SigstoreError::SigningFailed {
        reason: err.to_string(),
    }
}

pub(super) fn runtime() -> SigstoreResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SigstoreError::io("starting the async runtime", e))
}

/// Resolves `url`'s host and opens (then drops) a TCP connection to it.
fn probe_url(service: &'static str, url: &str) -> SigstoreResult<()> {
    let unreachable = |reason: String| SigstoreError::Unreachable {
        service,
        url: url.to_owned(),
        reason,
    };
    let parsed = sigstore_sign::reqwest::Url::parse(url).map_err(|e| unreachable(e.to_string()))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| unreachable("URL has no host".to_owned()))?;
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| unreachable("URL has no port".to_owned()))?;
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| unreachable(format!("cannot resolve {host}: {e}")))?;
    let mut last = format!("{host} resolved to no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(_) => return Ok(()),
            Err(e) => last = format!("cannot connect to {addr}: {e}"),
        }
    }
    Err(unreachable(last))
}

#[cfg(test)]
mod tests {
    use sigstore_verify::PublicKeyVerificationPolicy;
    use sigstore_verify::types::{
        CanonicalizedBody, KindVersion, LogId, LogIndex, LogKeyId, TransparencyLogEntry,
    };

    use super::*;

    /// The hashedrekord/0.0.1 body Rekor v1 would log for a keyed bundle.
    fn hashedrekord_body(
        bundle: &SigstoreBundle,
        key: &CosignKeyPair,
        digest: &Sha256Digest,
    ) -> Vec<u8> {
        let SignatureContent::MessageSignature(sig) = &bundle.inner().content else {
            panic!("keyed bundles carry a message signature");
        };
        super::super::rekor::hashedrekord_body(
            digest,
            sig.signature.as_bytes(),
            &key.public_key_pem(),
        )
        .to_string()
        .into_bytes()
    }

    /// sigstore-verify's own managed-key path accepts what LEO signs: signature, digest,
    /// hint and (once logged) the hashedrekord entry's consistency with the key. The log's
    /// inclusion proof is skipped because no Rekor is reachable here.
    #[test]
    fn keyed_bundle_verifies_with_sigstore_verify() {
        let signer = KeyedSigner::new(CosignKeyPair::generate().unwrap());
        let artifact = b"artifact";
        let digest = Sha256Digest::of(artifact);
        let bundle = signer.sign_digest(&digest).unwrap();
        let mut inner = bundle.inner().clone();
        let entry = TransparencyLogEntry::new(
            LogIndex::new(7).unwrap(),
            LogId::new(LogKeyId::new(vec![0; 32])),
            KindVersion::HashedRekordV001,
            CanonicalizedBody::new(hashedrekord_body(&bundle, signer.key(), &digest)),
        );
        inner.verification_material.tlog_entries.push(entry);

        let root = sigstore_verify::trust_root::TrustedRoot::from_json(
            sigstore_verify::trust_root::SIGSTORE_PRODUCTION_TRUSTED_ROOT,
        )
        .unwrap();
        let verifier = sigstore_verify::Verifier::new(&root).unwrap();
        let policy =
            PublicKeyVerificationPolicy::new(signer.key().public_key().clone()).skip_tlog_unsafe();
        verifier.verify(&artifact[..], &inner, &policy).unwrap();
        verifier
            .verify(b"other".as_slice(), &inner, &policy)
            .unwrap_err();
        let stranger = CosignKeyPair::generate().unwrap();
        let policy =
            PublicKeyVerificationPolicy::new(stranger.public_key().clone()).skip_tlog_unsafe();
        verifier.verify(&artifact[..], &inner, &policy).unwrap_err();
    }
}
