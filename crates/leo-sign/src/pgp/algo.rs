//! Naming and vetting of OpenPGP algorithms, and time conversions.

use std::time::SystemTime;

use sequoia_openpgp::packet::Key;
use sequoia_openpgp::packet::key::{KeyParts, KeyRole};
use sequoia_openpgp::types::{Curve, HashAlgorithm, PublicKeyAlgorithm};
use time::OffsetDateTime;

use crate::backend::Algorithms;

/// Hash algorithms LEO refuses in signatures: collision-broken or obsolete.
pub(crate) fn is_weak_hash(algo: HashAlgorithm) -> bool {
    matches!(
        algo,
        HashAlgorithm::SHA1 | HashAlgorithm::MD5 | HashAlgorithm::RipeMD
    )
}

/// `RSA-4096`, `Ed25519`, `ECDSA-P256`, ...
pub(crate) fn public_key_name<P: KeyParts, R: KeyRole>(key: &Key<P, R>) -> String {
    #[allow(deprecated)]
    match key.pk_algo() {
        PublicKeyAlgorithm::RSAEncryptSign | PublicKeyAlgorithm::RSASign => {
            match key.mpis().bits() {
                Some(bits) => format!("RSA-{bits}"),
                None => "RSA".to_owned(),
            }
        }
        PublicKeyAlgorithm::EdDSA | PublicKeyAlgorithm::Ed25519 => match key_curve(key) {
            Some(Curve::Ed25519) | None => "Ed25519".to_owned(),
            Some(c) => format!("EdDSA-{c}"),
        },
        PublicKeyAlgorithm::ECDSA => match key_curve(key) {
            Some(Curve::NistP256) => "ECDSA-P256".to_owned(),
            Some(Curve::NistP384) => "ECDSA-P384".to_owned(),
            Some(Curve::NistP521) => "ECDSA-P521".to_owned(),
            Some(c) => format!("ECDSA-{c}"),
            None => "ECDSA".to_owned(),
        },
        other => other.to_string(),
    }
}

fn key_curve<P: KeyParts, R: KeyRole>(key: &Key<P, R>) -> Option<Curve> {
    use sequoia_openpgp::crypto::mpi::PublicKey as Mpis;
    match key.mpis() {
        Mpis::EdDSA { curve, .. } | Mpis::ECDSA { curve, .. } | Mpis::ECDH { curve, .. } => {
            Some(curve.clone())
        }
        _ => None,
    }
}

/// `SHA-256`, `SHA-512`, ...
pub(crate) fn hash_name(algo: HashAlgorithm) -> String {
    match algo {
        HashAlgorithm::SHA224 => "SHA-224".to_owned(),
        HashAlgorithm::SHA256 => "SHA-256".to_owned(),
        HashAlgorithm::SHA384 => "SHA-384".to_owned(),
        HashAlgorithm::SHA512 => "SHA-512".to_owned(),
        HashAlgorithm::SHA1 => "SHA-1".to_owned(),
        HashAlgorithm::MD5 => "MD5".to_owned(),
        HashAlgorithm::SHA3_256 => "SHA3-256".to_owned(),
        HashAlgorithm::SHA3_512 => "SHA3-512".to_owned(),
        other => other.to_string(),
    }
}

pub(crate) fn algorithms<P: KeyParts, R: KeyRole>(
    key: &Key<P, R>,
    hash: HashAlgorithm,
) -> Algorithms {
    Algorithms {
        public_key: public_key_name(key),
        hash: hash_name(hash),
    }
}

/// OpenPGP times have one-second resolution; this truncates like the wire format does.
pub(crate) fn to_system(t: OffsetDateTime) -> SystemTime {
    let whole = t.replace_nanosecond(0).unwrap_or(t);
    SystemTime::from(whole)
}

pub(crate) fn from_system(t: SystemTime) -> OffsetDateTime {
    OffsetDateTime::from(t)
}
