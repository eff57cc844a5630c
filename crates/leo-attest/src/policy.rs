//! Provenance policy, modelled on slsa-verifier: who may build, what kind of build, from where,
//! and about what. Each failed check is its own [`Error`] variant.
//!
//! The policy is a value passed to verification, never global state; trust anchors (the
//! [`KeySet`]) are passed beside it.

use leo_artifact::{CommitSha, Sha256Digest};

use crate::envelope::Envelope;
use crate::error::{Error, Result, snippet};
use crate::keys::KeyId;
use crate::slsa::{Provenance, SourceLocation, normalize_repository};
use crate::statement::{DigestSet, Statement, StatementVersion, is_in_toto_payload_type};
use crate::verify::{KeySet, VerifiedEnvelope};

/// A builder identity trusted when (and only when) signed by a given key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedBuilder {
    /// The signing key's id (as in the [`KeySet`]).
    pub key_id: KeyId,
    /// The `builder.id` that key may claim.
    pub builder_id: String,
}

/// The expected source of a build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedSource {
    /// Repository URI (`https://host/org/repo`; `git+` and `.git` are ignored).
    pub repository: String,
    /// The ref (`refs/heads/main`), if it must match too.
    pub git_ref: Option<String>,
}

/// What the verifier requires of a provenance attestation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenancePolicy {
    /// Trusted (signer key, builder id) pairs; at least one must match.
    pub trusted_builders: Vec<TrustedBuilder>,
    /// Allowed `buildType` URIs (empty: none allowed).
    pub allowed_build_types: Vec<String>,
    /// The expected source repository and ref, if checked.
    pub source: Option<ExpectedSource>,
    /// How many distinct trusted keys must sign (at least 1).
    pub threshold: usize,
    /// Whether in-toto Statement v0.1 is accepted (default: no, it is only readable).
    pub accept_legacy_statement: bool,
}

/// What the provenance must be about.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expectations {
    /// The artifact's SHA-256, which must be among the subjects.
    pub artifact: Option<Sha256Digest>,
    /// The merge-base commit, which must be among the materials.
    pub merge_base: Option<CommitSha>,
}

/// What a successful policy verification established.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedProvenance {
    /// The keys that signed (distinct, trusted).
    pub key_ids: Vec<KeyId>,
    /// The trusted builder id that matched.
    pub builder_id: String,
    /// The build type.
    pub build_type: String,
    /// The source the provenance names.
    pub source: Option<SourceLocation>,
    /// The statement (parsed from the verified bytes).
    pub statement: Statement,
    /// The typed predicate.
    pub provenance: Provenance,
}

impl ProvenancePolicy {
    /// A policy trusting one (key, builder) pair for the given build types.
    pub fn new(key_id: KeyId, builder_id: &str, build_types: &[&str]) -> Self {
        ProvenancePolicy {
            trusted_builders: vec![TrustedBuilder {
                key_id,
                builder_id: builder_id.to_owned(),
            }],
            allowed_build_types: build_types.iter().map(|s| (*s).to_owned()).collect(),
            source: None,
            threshold: 1,
            accept_legacy_statement: false,
        }
    }

    /// Verifies the envelope's signatures, then the statement inside, then the policy.
    pub fn verify_envelope(
        &self,
        envelope: &Envelope,
        keys: &KeySet,
        expected: &Expectations,
    ) -> Result<VerifiedProvenance> {
        let verified = keys.verify(envelope, self.threshold)?;
        self.check(&verified, expected)
    }

    /// Checks an already verified envelope: payload type, statement, predicate and policy.
    pub fn check(
        &self,
        verified: &VerifiedEnvelope,
        expected: &Expectations,
    ) -> Result<VerifiedProvenance> {
        if !is_in_toto_payload_type(&verified.payload_type) {
            return Err(Error::PayloadTypeNotAccepted {
                found: snippet(&verified.payload_type),
                expected: vec![crate::statement::PAYLOAD_TYPE.into()],
            });
        }
        let statement = Statement::from_json_allow_legacy(&verified.payload)?;
        if statement.version == StatementVersion::V0_1 && !self.accept_legacy_statement {
            return Err(Error::LegacyStatement);
        }
        let provenance = Provenance::from_statement(&statement)?;
        let builder_id = self.check_builder(&provenance, &verified.key_ids)?;
        let build_type = provenance.build_type().to_owned();
        if !self.allowed_build_types.contains(&build_type) {
            return Err(Error::BuildTypeNotAllowed {
                build_type: snippet(&build_type),
            });
        }
        let source = provenance.source();
        if let Some(want) = &self.source {
            check_source(want, source.as_ref())?;
        }
        if let Some(digest) = &expected.artifact {
            if statement.subject_matching(digest).is_none() {
                return Err(Error::SubjectNotFound {
                    digest: digest.to_string(),
                });
            }
        }
        if let Some(merge_base) = &expected.merge_base {
            if !provenance
                .material_digests()
                .into_iter()
                .any(|d| names_commit(d, merge_base))
            {
                return Err(Error::MergeBaseNotInMaterials {
                    merge_base: merge_base.to_string(),
                });
            }
        }
        Ok(VerifiedProvenance {
            key_ids: verified.key_ids.clone(),
            builder_id,
            build_type,
            source,
            statement,
            provenance,
        })
    }

    fn check_builder(&self, provenance: &Provenance, signers: &[KeyId]) -> Result<String> {
        let claimed = provenance.builder_id();
        let trusted = self
            .trusted_builders
            .iter()
            .any(|t| t.builder_id == claimed && signers.contains(&t.key_id));
        if trusted {
            Ok(claimed.to_owned())
        } else {
            Err(Error::UntrustedBuilder {
                builder_id: snippet(claimed),
                signers: signers.iter().map(ToString::to_string).collect(),
            })
        }
    }
}

fn check_source(want: &ExpectedSource, found: Option<&SourceLocation>) -> Result<()> {
    let expected_repo = normalize_repository(&want.repository);
    if found.map(|s| s.repository.as_str()) != Some(expected_repo.as_str()) {
        return Err(Error::SourceRepositoryMismatch {
            expected: expected_repo,
            found: found.map(|s| s.repository.clone()),
        });
    }
    if let Some(want_ref) = &want.git_ref {
        let found_ref = found.and_then(|s| s.git_ref.clone());
        if found_ref.as_deref() != Some(want_ref.as_str()) {
            return Err(Error::SourceRefMismatch {
                expected: want_ref.clone(),
                found: found_ref,
            });
        }
    }
    Ok(())
}

/// Whether a digest set names `commit` (`gitCommit`, or `sha1` for 40-hex ids as SLSA v0.2
/// generators write it).
pub fn names_commit(digests: &DigestSet, commit: &CommitSha) -> bool {
    ["gitCommit", "sha1"]
        .iter()
        .any(|alg| digests.get(*alg).is_some_and(|d| d == commit.as_str()))
}
