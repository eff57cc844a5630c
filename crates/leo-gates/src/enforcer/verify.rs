//! The enforcer's verification of a handed-off bundle (SOP §1.2 "verifies builder
//! artifacts"), in order, each failure its own [`Error`] variant:
//!
//! 1. the bytes' SHA-256 equals the hash of `[CODEX-READY:<hash>]`
//!    ([`Error::HandoffDigestMismatch`]);
//! 2. the hardened reader accepts the archive and every member matches the manifest
//!    ([`Error::BundleRejected`]);
//! 3. the attestation is signed by a trusted builder key and satisfies the provenance policy,
//!    its subjects are the members' digests and its revisions the manifest's
//!    ([`Error::AttestationRejected`]);
//! 4. the SBOM validates (when a schema validator is given) and has the NTIA minimum elements
//!    ([`Error::SbomUnreadable`], [`Error::SbomNotCompliant`]).
//!
//! The bundle is read into memory once, so the bytes that were verified are the bytes that
//! get signed and applied (no second read a writer could race).

use std::path::Path;

use leo_artifact::{Member, ReadLimits, Sha256Digest, VerifiedBundle};
use leo_attest::sbom::{ComplianceReport, SbomValidator};
use leo_attest::{KeySet, ProvenancePolicy, VerifiedProvenance};

use crate::error::{Error, Result};
use crate::text::Identity;

/// What the enforcer trusts: builder keys, the provenance policy, reader limits and,
/// optionally, the CycloneDX schema.
#[derive(Debug)]
pub struct Trust {
    /// Trusted builder keys.
    pub keys: KeySet,
    /// Who may build what.
    pub policy: ProvenancePolicy,
    /// Bundle reader limits.
    pub limits: ReadLimits,
    /// Validates the SBOM against the official schema when present.
    pub sbom_schema: Option<SbomValidator>,
}

impl Trust {
    /// Trusts one builder key for `builder_id` and LEO's bundle build type, default limits,
    /// no schema validation.
    pub fn builder(key: leo_attest::PublicKey, builder_id: &str) -> Self {
        let policy = ProvenancePolicy::new(
            key.key_id().clone(),
            builder_id,
            &[leo_attest::BUNDLE_BUILD_TYPE],
        );
        Trust {
            keys: [key].into_iter().collect(),
            policy,
            limits: ReadLimits::default(),
            sbom_schema: None,
        }
    }
}

/// A bundle that passed every check.
#[derive(Debug)]
pub struct VerifiedHandoff {
    /// The archive bytes (what gets signed).
    pub bytes: Vec<u8>,
    /// The verified members.
    pub bundle: VerifiedBundle,
    /// The verified provenance.
    pub provenance: VerifiedProvenance,
    /// The SBOM compliance report (compliant).
    pub sbom: ComplianceReport,
    /// The identity of the builder key that signed the attestation.
    pub builder: Identity,
}

/// Runs the checks in the module documentation on the file at `path`.
pub fn verify_handoff(
    path: &Path,
    expected: &Sha256Digest,
    trust: &Trust,
) -> Result<VerifiedHandoff> {
    let bytes = read_capped(path, trust.limits.max_total_size)?;
    let actual = Sha256Digest::of(&bytes);
    if actual != *expected {
        return Err(Error::HandoffDigestMismatch {
            expected: *expected,
            actual,
        });
    }
    let bundle = leo_artifact::read_bundle(bytes.as_slice(), &trust.limits)
        .map_err(|source| Error::BundleRejected { source })?;
    let provenance = leo_attest::verify_bundle_attestation(&bundle, &trust.keys, &trust.policy)
        .map_err(|source| Error::AttestationRejected { source })?;
    let builder = builder_identity(&trust.keys, &provenance)?;
    let sbom_bytes = bundle.member(Member::Sbom);
    if let Some(validator) = &trust.sbom_schema {
        validator
            .validate(sbom_bytes)
            .map_err(|source| Error::SbomUnreadable { source })?;
    }
    let sbom = leo_attest::sbom::check_compliance(sbom_bytes)
        .map_err(|source| Error::SbomUnreadable { source })?;
    if !sbom.compliant {
        return Err(Error::SbomNotCompliant {
            failed: sbom
                .failed_required()
                .map(|r| format!("{} ({})", r.id, r.offenders.join(" ")))
                .collect(),
        });
    }
    Ok(VerifiedHandoff {
        bytes,
        bundle,
        provenance,
        sbom,
        builder,
    })
}

/// The identity of the first trusted key that signed (see [`crate::builder::key_identity`]).
fn builder_identity(keys: &KeySet, provenance: &VerifiedProvenance) -> Result<Identity> {
    let key = provenance
        .key_ids
        .first()
        .and_then(|id| keys.keys().iter().find(|k| k.key_id() == id))
        .ok_or_else(|| Error::AttestationRejected {
            source: leo_attest::Error::NoSignatures,
        })?;
    crate::builder::key_identity(key)
}

fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>> {
    leo_artifact::fsutil::read_capped(path, cap).map_err(|e| match e {
        leo_artifact::Error::FileTooLarge { limit, .. } => Error::BundleRejected {
            source: leo_artifact::Error::TotalSizeExceeded { limit },
        },
        other => Error::Artifact(other),
    })
}
