//! The builder's attestation for a patch bundle, and its verification.
//!
//! **Subjects**: every bundle member except `attestation.dsse.json` (the attestation cannot
//! contain its own digest) and `manifest.json` (the manifest lists the attestation's digest, so
//! attesting the manifest would be circular). That is `MERGE_BASE`, `ROLLBACK.md`,
//! `changes.patch` and `sbom.cdx.json`, each by SHA-256 under its file name. The manifest is
//! still covered: the bundle reader checks every member, the attestation included, against it,
//! and the marker hash covers the whole archive.
//!
//! **Predicate**: SLSA Provenance v0.2 with `builder.id`, `buildType`,
//! `invocation.configSource` (repository at head), `invocation.parameters`
//! `{base, head, mergeBase}`, `materials` (repository at merge-base and at head, by
//! `gitCommit`), `metadata.buildStartedOn/buildFinishedOn` (RFC 3339, seconds) and
//! `metadata.reproducible` (true when the bundle is deterministic).

use leo_artifact::{BundleInput, CommitSha, Member, Revisions, Sha256Digest, VerifiedBundle};
use serde_json::{Map, Value};

use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::policy::{Expectations, ProvenancePolicy, VerifiedProvenance};
use crate::signer::DsseSigner;
use crate::slsa::{
    Builder, Completeness, ConfigSource, Invocation, Material, MetadataV0_2, PROVENANCE_V0_2,
    Provenance, ProvenanceV0_2, Timestamp,
};
use crate::statement::{PAYLOAD_TYPE, ResourceDescriptor, Statement};
use crate::verify::KeySet;

/// The `buildType` of LEO bundle builds.
pub const BUNDLE_BUILD_TYPE: &str = "https://example.invalid/leo/build-types/bundle/v1";

/// The members a bundle attestation covers, in archive order.
pub const ATTESTED_MEMBERS: [Member; 4] = [
    Member::MergeBase,
    Member::Rollback,
    Member::Patch,
    Member::Sbom,
];

/// Facts about the build that the bundle contents do not carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildInfo {
    /// `builder.id`: the builder's identity URI.
    pub builder_id: String,
    /// `buildType` (normally [`BUNDLE_BUILD_TYPE`]).
    pub build_type: String,
    /// The source repository URI (`https://host/org/repo`).
    pub repository: String,
    /// The ref that was built (`refs/heads/staging/codex-x`), if known.
    pub git_ref: Option<String>,
    /// When the build started.
    pub started_on: time::OffsetDateTime,
    /// When it finished.
    pub finished_on: time::OffsetDateTime,
    /// Whether the bundle is byte-for-byte reproducible from the same inputs.
    pub reproducible: bool,
}

/// The subjects for a set of member contents.
pub fn bundle_subjects<'a>(
    members: impl IntoIterator<Item = (Member, &'a [u8])>,
) -> Vec<ResourceDescriptor> {
    members
        .into_iter()
        .filter(|(m, _)| ATTESTED_MEMBERS.contains(m))
        .map(|(m, bytes)| ResourceDescriptor::sha256(m.file_name(), &Sha256Digest::of(bytes)))
        .collect()
}

fn git_material(repository: &str, commit: &CommitSha) -> Material {
    Material {
        uri: Some(format!("git+{repository}@{commit}")),
        digest: [("gitCommit".to_owned(), commit.to_string())].into(),
        extra: Map::new(),
    }
}

/// The SLSA v0.2 predicate for a bundle built from `revisions`.
pub fn bundle_provenance(revisions: &Revisions, build: &BuildInfo) -> ProvenanceV0_2 {
    let config_uri = match &build.git_ref {
        Some(r) => format!("git+{}@{r}", build.repository),
        None => format!("git+{}", build.repository),
    };
    ProvenanceV0_2 {
        builder: Builder {
            id: build.builder_id.clone(),
            extra: Map::new(),
        },
        build_type: build.build_type.clone(),
        invocation: Some(Invocation {
            config_source: Some(ConfigSource {
                uri: Some(config_uri),
                digest: [("gitCommit".to_owned(), revisions.head.to_string())].into(),
                entry_point: Some("leo bundle".to_owned()),
                extra: Map::new(),
            }),
            parameters: Some(serde_json::json!({
                "base": revisions.base,
                "head": revisions.head,
                "mergeBase": revisions.merge_base,
            })),
            environment: None,
            extra: Map::new(),
        }),
        build_config: None,
        metadata: Some(MetadataV0_2 {
            build_invocation_id: None,
            build_started_on: Some(Timestamp::from_datetime(build.started_on)),
            build_finished_on: Some(Timestamp::from_datetime(build.finished_on)),
            completeness: Some(Completeness {
                parameters: Some(true),
                environment: Some(false),
                materials: Some(true),
                extra: Map::new(),
            }),
            reproducible: Some(build.reproducible),
            extra: Map::new(),
        }),
        materials: vec![
            git_material(&build.repository, &revisions.merge_base),
            git_material(&build.repository, &revisions.head),
        ],
        extra: Map::new(),
    }
}

/// The statement for a bundle input (its `attestation` field is ignored).
pub fn bundle_statement(input: &BundleInput, build: &BuildInfo) -> Statement {
    let contents = input.contents();
    let subjects = bundle_subjects(contents.iter().map(|(m, b)| (*m, b.as_slice())));
    let predicate = Provenance::V0_2(bundle_provenance(&input.revisions, build)).to_value();
    Statement::new(subjects, PROVENANCE_V0_2, predicate)
}

/// Builds and signs the bundle attestation; returns the envelope JSON for
/// `BundleInput::attestation`.
pub fn sign_bundle_attestation(
    input: &BundleInput,
    build: &BuildInfo,
    signers: &[&dyn DsseSigner],
) -> Result<Vec<u8>> {
    let statement = bundle_statement(input, build);
    Ok(Envelope::sign(PAYLOAD_TYPE, &statement.to_json(), signers)?.to_json())
}

/// Verifies a bundle's attestation: signatures by `keys` (threshold and trusted builders from
/// `policy`), the provenance policy with the manifest's merge-base as expected material,
/// subjects exactly equal to the attested members' digests, and `invocation.parameters` equal
/// to the manifest's revisions.
pub fn verify_bundle_attestation(
    bundle: &VerifiedBundle,
    keys: &KeySet,
    policy: &ProvenancePolicy,
) -> Result<VerifiedProvenance> {
    let envelope = Envelope::from_json(bundle.member(Member::Attestation))?;
    let verified = keys.verify(&envelope, policy.threshold)?;
    let manifest = &bundle.manifest;
    let expected = Expectations {
        artifact: None,
        merge_base: Some(manifest.merge_base.clone()),
    };
    let result = policy.check(&verified, &expected)?;
    let Provenance::V0_2(predicate) = &result.provenance else {
        return Err(Error::UnsupportedPredicateType {
            found: result.statement.predicate_type.clone(),
            expected: vec![PROVENANCE_V0_2.into()],
        });
    };
    check_subjects(&result.statement, |m| bundle.member(m))?;
    let parameters = predicate
        .invocation
        .as_ref()
        .and_then(|i| i.parameters.as_ref());
    for (field, actual) in [
        ("base", &manifest.base),
        ("head", &manifest.head),
        ("mergeBase", &manifest.merge_base),
    ] {
        let attested = parameters
            .and_then(|p| p.get(field))
            .and_then(Value::as_str);
        if attested != Some(actual.as_str()) {
            return Err(Error::RevisionMismatch {
                field,
                attested: attested.map(str::to_owned),
                actual: actual.to_string(),
            });
        }
    }
    Ok(result)
}

/// Checks that the subjects are exactly the attested members with their actual digests.
pub fn check_subjects<'a>(
    statement: &Statement,
    member: impl Fn(Member) -> &'a [u8],
) -> Result<()> {
    let mut seen: Vec<&str> = Vec::new();
    for subject in &statement.subject {
        let name = subject.name.as_deref().unwrap_or_default();
        let known = ATTESTED_MEMBERS.iter().any(|m| m.file_name() == name);
        if !known || seen.contains(&name) {
            return Err(Error::UnexpectedSubject {
                name: crate::error::snippet(name),
            });
        }
        seen.push(name);
    }
    for m in ATTESTED_MEMBERS {
        let subject = statement
            .subject
            .iter()
            .find(|s| s.name.as_deref() == Some(m.file_name()))
            .ok_or_else(|| Error::MemberNotAttested {
                member: m.file_name().to_owned(),
            })?;
        let actual = Sha256Digest::of(member(m));
        if subject.sha256_digest() != Some(actual) {
            return Err(Error::MemberDigestMismatch {
                member: m.file_name().to_owned(),
                attested: subject.digest.get("sha256").cloned().unwrap_or_default(),
                actual: actual.to_string(),
            });
        }
    }
    Ok(())
}
