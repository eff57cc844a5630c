//! [`Failure`]: why a check failed or could not run, one variant per check.

use serde::Serialize;

/// Why a check failed (or could not run): one variant per failed check, so callers and tests
/// can tell a wrong key from a wrong builder from a wrong subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Failure {
    /// The image is not pinned by digest.
    #[error("{container}: image {image:?} is not pinned by @sha256 digest")]
    DigestMissing {
        /// `<list>/<container name>`.
        container: String,
        /// The image reference.
        image: String,
    },
    /// The image's digest is malformed.
    #[error("{container}: image {image:?} has a malformed digest: {reason}")]
    DigestMalformed {
        /// `<list>/<container name>`.
        container: String,
        /// The image reference.
        image: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// The store has no signature for the digest.
    #[error("{image}: no signature in the attestation store")]
    NoSignature {
        /// The image reference.
        image: String,
    },
    /// Signatures exist, but none verifies under a configured attestor.
    #[error("{image}: no signature verifies with a trusted key or identity ({})", reasons.join("; "))]
    SignatureUntrusted {
        /// The image reference.
        image: String,
        /// Per signature file, why it was rejected.
        reasons: Vec<String>,
    },
    /// A signature verifies, but signs another image digest.
    #[error("{image}: the trusted signature is for {signed}, not this digest")]
    SignatureSubjectMismatch {
        /// The image reference.
        image: String,
        /// The digest the signature names.
        signed: String,
    },
    /// The store has no attestation for the digest.
    #[error("{image}: no provenance attestation in the attestation store")]
    NoAttestation {
        /// The image reference.
        image: String,
    },
    /// Attestations exist, but none verifies under a configured attestor.
    #[error("{image}: no attestation is signed by a trusted key or identity ({})", reasons.join("; "))]
    AttestationUntrusted {
        /// The image reference.
        image: String,
        /// Per attestation file, why it was rejected.
        reasons: Vec<String>,
    },
    /// A trusted attestation is about other artifacts.
    #[error("{image}: the trusted attestation's subjects {subjects:?} do not include this digest")]
    AttestationSubjectMismatch {
        /// The image reference.
        image: String,
        /// The subject digests it names.
        subjects: Vec<String>,
    },
    /// A trusted attestation has a predicate type the rule does not accept.
    #[error(
        "{image}: provenance predicate type {found} is not accepted (rule accepts {accepted:?})"
    )]
    PredicateTypeNotAccepted {
        /// The image reference.
        image: String,
        /// The predicate type found.
        found: String,
        /// What the rule accepts.
        accepted: Vec<String>,
    },
    /// A trusted attestation's `builder.id` does not satisfy the rule.
    #[error("{image}: builder.id {builder_id:?} does not match {pattern:?}")]
    BuilderNotAllowed {
        /// The image reference.
        image: String,
        /// The builder id found.
        builder_id: String,
        /// The rule's pattern.
        pattern: String,
    },
    /// A trusted attestation is an in-toto Statement v0.1, which LEO reads but does not
    /// accept (leo-attest's convention; re-attest with Statement v1).
    #[error(
        "{image}: the trusted attestation is a legacy {statement_type} statement; v1 is required"
    )]
    LegacyStatement {
        /// The image reference.
        image: String,
        /// The statement's `_type`.
        statement_type: String,
    },
    /// A trusted attestation is not valid SLSA provenance.
    #[error("{image}: provenance is malformed: {reason}")]
    ProvenanceMalformed {
        /// The image reference.
        image: String,
        /// What is wrong.
        reason: String,
    },
    /// A signature or provenance rule ran without an attestation store.
    #[error("no attestation store configured for signature and provenance rules")]
    StoreNotConfigured,
    /// The attestation store could not be read.
    #[error("attestation store unreadable: {reason}")]
    StoreUnreadable {
        /// What failed.
        reason: String,
    },
    /// The rule is not one LEO evaluates.
    #[error("rule not supported by LEO: {what}")]
    UnsupportedRule {
        /// What the rule does.
        what: String,
    },
}

impl Failure {
    /// Whether this failure means the rule could not be evaluated (`error`), rather than
    /// that the resource failed it (`fail`).
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            Failure::StoreNotConfigured
                | Failure::StoreUnreadable { .. }
                | Failure::UnsupportedRule { .. }
        )
    }
}
