//! The crate's single error type. Each variant names the check that failed.

use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while reading, signing or verifying an attestation or SBOM.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O operation failed.
    #[error("I/O error while {context}: {source}")]
    Io {
        /// What LEO was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An input is larger than the named limit.
    #[error("{what} is {size} bytes, above the limit of {limit}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// Input was not well-formed JSON, or did not have the expected shape.
    #[error("malformed {what}: {reason}")]
    MalformedJson {
        /// What was being parsed.
        what: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// A JSON object had the same key twice (parsers disagree on which one wins).
    #[error("duplicate JSON key {key:?} in {what}")]
    DuplicateJsonKey {
        /// What was being parsed.
        what: &'static str,
        /// The repeated key.
        key: String,
    },
    /// A field was not valid (canonical) standard or URL-safe base64.
    #[error("field {field} is not valid base64")]
    InvalidBase64 {
        /// The field, e.g. `payload` or `signatures[0].sig`.
        field: String,
    },
    /// The envelope has no signatures at all.
    #[error("the DSSE envelope has no signatures")]
    NoSignatures,
    /// A threshold of zero, or above the number of trusted keys, was requested.
    #[error("invalid threshold {threshold} for {keys} trusted keys")]
    InvalidThreshold {
        /// The threshold asked for.
        threshold: usize,
        /// How many keys were trusted.
        keys: usize,
    },
    /// Fewer distinct trusted keys signed the envelope than the threshold requires.
    #[error("{verified} distinct trusted key(s) signed the envelope; {required} required")]
    ThresholdNotMet {
        /// The threshold.
        required: usize,
        /// How many distinct trusted keys produced a valid signature.
        verified: usize,
    },
    /// The envelope's `payloadType` is not one the caller accepts.
    #[error("payload type {found:?} is not accepted (expected one of {expected:?})")]
    PayloadTypeNotAccepted {
        /// The type found.
        found: String,
        /// The accepted types.
        expected: Vec<String>,
    },
    /// A key could not be parsed or is of an unsupported type.
    #[error("invalid key: {reason}")]
    InvalidKey {
        /// Why.
        reason: String,
    },
    /// Producing a signature failed.
    #[error("signing failed: {reason}")]
    SigningFailed {
        /// Why.
        reason: String,
    },
    /// The statement's `_type` is not an in-toto statement type.
    #[error("unsupported statement _type {found:?}")]
    UnsupportedStatementType {
        /// The `_type` found.
        found: String,
    },
    /// The statement is in-toto Statement v0.1, and the caller requires v1.
    #[error("legacy in-toto Statement v0.1 where v1 is required")]
    LegacyStatement,
    /// The statement's `subject` is empty.
    #[error("the statement has no subject")]
    EmptySubject,
    /// A subject has no digest.
    #[error("subject #{index} has no digest")]
    SubjectWithoutDigest {
        /// The subject's position.
        index: usize,
    },
    /// A digest value is malformed for its algorithm.
    #[error("{algorithm} digest {value:?} is invalid: {reason}")]
    InvalidDigestValue {
        /// The algorithm name.
        algorithm: String,
        /// The value (truncated).
        value: String,
        /// Why.
        reason: &'static str,
    },
    /// The statement has no (or an empty) `predicateType`.
    #[error("the statement has no predicateType")]
    MissingPredicateType,
    /// The predicate type is not the one expected.
    #[error("predicate type {found:?} is not supported here (expected one of {expected:?})")]
    UnsupportedPredicateType {
        /// The type found.
        found: String,
        /// The accepted types.
        expected: Vec<String>,
    },
    /// A timestamp is not RFC 3339.
    #[error("invalid timestamp {value:?}")]
    InvalidTimestamp {
        /// The value (truncated).
        value: String,
    },
    /// Provenance policy: no trusted (key, builder id) pair matches the signers and `builder.id`.
    #[error("builder {builder_id:?} is not trusted for signer(s) {signers:?}")]
    UntrustedBuilder {
        /// The builder id the provenance claims.
        builder_id: String,
        /// The key ids that verified the envelope.
        signers: Vec<String>,
    },
    /// Provenance policy: the `buildType` is not on the allow-list.
    #[error("build type {build_type:?} is not allowed")]
    BuildTypeNotAllowed {
        /// The build type found.
        build_type: String,
    },
    /// Provenance policy: the source repository differs from the expected one.
    #[error("source repository {found:?} does not match the expected {expected:?}")]
    SourceRepositoryMismatch {
        /// Expected repository.
        expected: String,
        /// Found repository (`None` when the provenance names none).
        found: Option<String>,
    },
    /// Provenance policy: the source ref differs from the expected one.
    #[error("source ref {found:?} does not match the expected {expected:?}")]
    SourceRefMismatch {
        /// Expected ref.
        expected: String,
        /// Found ref.
        found: Option<String>,
    },
    /// Provenance policy: the artifact's digest is not among the subjects.
    #[error("no subject has the artifact's sha256 {digest}")]
    SubjectNotFound {
        /// The artifact's digest.
        digest: String,
    },
    /// Provenance policy: the merge-base commit is not among the materials.
    #[error("merge-base {merge_base} is not among the materials")]
    MergeBaseNotInMaterials {
        /// The expected merge-base.
        merge_base: String,
    },
    /// Bundle attestation: a bundle member has no subject.
    #[error("bundle member {member} is not attested")]
    MemberNotAttested {
        /// The member's file name.
        member: String,
    },
    /// Bundle attestation: a subject names something that is not an attested bundle member.
    #[error("subject {name:?} is not an attested bundle member")]
    UnexpectedSubject {
        /// The subject's name.
        name: String,
    },
    /// Bundle attestation: a member's digest differs from its subject's.
    #[error("member {member}: attested sha256 {attested}, actual {actual}")]
    MemberDigestMismatch {
        /// The member's file name.
        member: String,
        /// The digest in the attestation.
        attested: String,
        /// The digest of the bundle's bytes.
        actual: String,
    },
    /// Bundle attestation: `invocation.parameters` disagrees with the manifest.
    #[error("attested {field} {attested:?} differs from the bundle's {actual}")]
    RevisionMismatch {
        /// `base`, `head` or `mergeBase`.
        field: &'static str,
        /// What the attestation says (`None` when missing).
        attested: Option<String>,
        /// What the manifest says.
        actual: String,
    },
    /// A lockfile could not be read or parsed.
    #[error("lockfile {path}: {reason}")]
    InvalidLockfile {
        /// Its path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The CycloneDX JSON schema could not be loaded or compiled.
    #[error("cannot load the CycloneDX schema from {path}: {reason}")]
    SchemaUnavailable {
        /// The schema directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The SBOM is not CycloneDX 1.5.
    #[error("SBOM specVersion {found:?} is not supported (only 1.5)")]
    UnsupportedSbomVersion {
        /// The `specVersion` found.
        found: String,
    },
    /// The SBOM violates the official JSON schema.
    #[error("SBOM violates the CycloneDX 1.5 schema: {}", errors.join("; "))]
    SbomSchemaViolation {
        /// One message per violation (capped).
        errors: Vec<String>,
    },
    /// The SBOM is rejected by `cyclonedx-bom`'s model parser or `validate()`.
    #[error("SBOM rejected by the CycloneDX model: {}", errors.join("; "))]
    SbomModelViolation {
        /// One message per violation (capped).
        errors: Vec<String>,
    },
    /// Generating the SBOM failed.
    #[error("SBOM generation failed: {reason}")]
    SbomGeneration {
        /// Why.
        reason: String,
    },
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

pub(crate) use leo_artifact::error::snippet;
