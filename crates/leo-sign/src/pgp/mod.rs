//! OpenPGP backend (sequoia-openpgp, v4 keys so gpg 2.2 can read them).
//!
//! * [`PgpKey`] — a secret key (certificate with secrets): generation per SOP §10.3
//!   (RSA-4096 or Ed25519, 30-day expiry), armored import/export, revocation, and the
//!   [`crate::Signer`] that makes detached ASCII-armored signatures over a stream.
//! * [`PgpVerifier`] — pinned certificates and the documented time/revocation rule.
//! * [`KeyRing`] — 30-day rotation with validity windows; its public half
//!   ([`PublicKeyRecord`]) is what `leo-store` persists.
//!
//! ```
//! use leo_sign::{KeySpec, PgpAlgorithm, PgpKey, PgpVerifier, Signer, Verifier, VerifyOptions};
//!
//! let key = PgpKey::generate(&KeySpec::new(PgpAlgorithm::Ed25519, "Signer", "s@example.org")).unwrap();
//! let signed = key.sign(&mut &b"artifact.tar.gz bytes"[..]).unwrap();
//! assert!(signed.signature.bytes.starts_with(b"-----BEGIN PGP SIGNATURE-----"));
//!
//! let verifier = PgpVerifier::new(vec![key.public()]);
//! let report = verifier
//!     .verify(&mut &b"artifact.tar.gz bytes"[..], &signed.signature, &VerifyOptions::now())
//!     .unwrap();
//! assert_eq!(report, signed.report);
//! ```

mod algo;
mod key;
mod keyring;
mod verify;

pub use key::{KeySpec, PgpAlgorithm, PgpCert, PgpKey};
pub use keyring::{KeyRing, PublicKeyRecord, RotationPolicy};
pub use verify::{PgpVerifier, parse_signature};

/// Validity of a new key: 30 days (SOP §10.3 "rotate keys every 30 days").
pub const KEY_VALIDITY: time::Duration = time::Duration::days(30);

/// Default overlap: the next key is created this long before the current one expires.
pub const DEFAULT_ROTATION_OVERLAP: time::Duration = time::Duration::days(7);

/// The largest armored signature accepted (64 KiB; a real one is under 1 KiB).
pub const MAX_SIGNATURE_BYTES: usize = 64 * 1024;

/// The largest armored certificate or secret key accepted (1 MiB).
pub const MAX_CERT_BYTES: usize = 1024 * 1024;

/// The hash LEO signs with: SHA-256, which x86-64 (SHA-NI) and ARMv8 compute in hardware,
/// so signing a large bundle is bound by I/O rather than hashing; 128-bit collision
/// resistance matches Ed25519's and RSA-4096's security level.
pub const SIGNING_HASH: sequoia_openpgp::types::HashAlgorithm =
    sequoia_openpgp::types::HashAlgorithm::SHA256;

pub use crate::backend::CLOCK_SKEW_TOLERANCE;
