//! # leo-sign
//!
//! Signing for LEO. A backend is a value the caller picks ([`Signer`], [`Verifier`]), never a
//! global: raw keys ([`RawKeyPair`]), OpenPGP with 30-day rotating keys ([`pgp`]), and
//! Sigstore. Verification returns a [`SignatureReport`] that says what was verified.
//!
//! ```
//! use leo_sign::{Backend, RawKeyAlgorithm, RawKeyPair, RawKeyVerifier, Signer, Verifier, VerifyOptions};
//!
//! let key = RawKeyPair::generate(RawKeyAlgorithm::Ed25519).unwrap();
//! let signed = key.sign(&mut &b"artifact bytes"[..]).unwrap();
//!
//! let verifier = RawKeyVerifier::new(vec![key.public_key().clone()]);
//! let report = verifier
//!     .verify(&mut &b"artifact bytes"[..], &signed.signature, &VerifyOptions::now())
//!     .unwrap();
//! assert_eq!(report.backend, Backend::RawKey);
//! assert_eq!(report.algorithms.public_key, "Ed25519");
//! ```

pub mod backend;
pub mod error;
pub mod fingerprint;
pub mod pgp;
pub mod rawkey;
pub mod select;
// sigstore: module owned by the Sigstore helper
#[cfg(feature = "sigstore")]
pub mod sigstore;

pub use backend::{
    Algorithms, Backend, DetachedSignature, SignatureReport, Signed, Signer, SignerIdentity,
    Verified, Verifier, VerifyOptions,
};
pub use error::{Error, Result, RevocationReason};
pub use fingerprint::Fingerprint;
pub use pgp::{
    KeyRing, KeySpec, PgpAlgorithm, PgpCert, PgpKey, PgpVerifier, PublicKeyRecord, RotationPolicy,
};
pub use rawkey::{RawKeyAlgorithm, RawKeyPair, RawKeyVerifier, RawPublicKey};
pub use select::{BackendSelection, SignerChoice, select_signer};
