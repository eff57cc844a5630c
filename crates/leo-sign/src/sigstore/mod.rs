//! Sigstore: offline bundle verification, cosign-compatible keyed signing, keyless signing.
//!
//! Verification is `sigstore-verify` (sigstore/sigstore-rust, pinned), which checks the
//! certificate chain, SCT, Rekor SET, inclusion proof, checkpoint, RFC 3161 timestamps and
//! log-entry consistency, and passes every offline case of sigstore-conformance. LEO adds a
//! few checks in front so each rejection names its reason ([`SigstoreErrorKind`]), and
//! reports what was verified ([`SigstoreVerification`]). Nothing here touches the network
//! except [`KeylessSigner`].
//!
//! ```
//! use leo_sign::sigstore::{
//!     ArtifactInput, CosignKeyPair, KeyPolicy, KeyedSigner, SigstoreErrorKind, SigstorePolicy,
//!     SigstoreVerifier, TrustRoot,
//! };
//!
//! // Sign offline with a fresh cosign-style key, as `cosign sign-blob --key` does.
//! let key = CosignKeyPair::generate().unwrap();
//! let public = KeyPolicy::from_pem(&key.public_key_pem()).unwrap().allow_offline();
//! let bundle = KeyedSigner::new(key).sign_reader(&b"artifact bytes"[..]).unwrap();
//!
//! let verifier = SigstoreVerifier::new(TrustRoot::embedded_production().unwrap(), SigstorePolicy::key(public));
//! let ok = verifier.verify_reader(&bundle, &b"artifact bytes"[..]).unwrap();
//! assert!(ok.time_sources.is_empty()); // offline: no log entry vouches for a time
//!
//! let err = verifier.verify_reader(&bundle, &b"tampered"[..]).unwrap_err();
//! assert_eq!(err.kind(), SigstoreErrorKind::Digest);
//! # let _ = "sha256:0".parse::<ArtifactInput>().unwrap_err();
//! ```

mod backend;
pub mod bundle;
pub mod conformance;
pub mod error;
pub mod keys;
pub mod policy;
mod rekor;
pub mod sign;
pub mod verify;

pub use bundle::{ContentKind, LogEntryFacts, MaterialKind, SigstoreBundle};
pub use error::{SigstoreError, SigstoreErrorKind, SigstoreResult};
pub use keys::{CosignKeyPair, Password, read_public_key};
pub use policy::{ArtifactInput, IdentityMatch, KeyPolicy, SigstorePolicy, TrustRoot};
pub use sign::{KeyedSigner, KeylessSigner};
pub use sigstore_sign::SigningServices;
pub use verify::{
    DssePayload, SigstoreVerification, SigstoreVerifier, TimeSource, TimeSourceKind, VerifiedSigner,
};
