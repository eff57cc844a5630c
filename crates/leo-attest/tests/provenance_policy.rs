//! Provenance policy and the builder's bundle attestation: the happy path and one test per
//! failed check, each asserting its own error kind.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use leo_artifact::{
    BundleInput, CommitSha, Member, ReadLimits, Revisions, Sha256Digest, read_bundle,
};
use leo_attest::bundle::{ATTESTED_MEMBERS, BUNDLE_BUILD_TYPE, BuildInfo, bundle_statement};
use leo_attest::{
    DsseSigner, Envelope, Error, Expectations, ExpectedSource, KeyId, KeySet, ProvenancePolicy,
    PublicKey, SigningKey, Statement, TrustedBuilder, sign_bundle_attestation,
    verify_bundle_attestation,
};

const BUILDER: &str = "https://example.invalid/leo/builder@v1";
const REPO: &str = "https://example.invalid/org/repo";

fn sha(c: char) -> CommitSha {
    c.to_string().repeat(40).parse().unwrap()
}

fn input() -> BundleInput {
    BundleInput {
        revisions: Revisions {
            base: sha('a'),
            head: sha('b'),
            merge_base: sha('c'),
        },
        created_at: time::macros::datetime!(2026-01-01 0:00 UTC),
        patch: b"diff --git a/x b/x\n".to_vec(),
        sbom: b"{\"bomFormat\":\"CycloneDX\"}".to_vec(),
        attestation: Vec::new(),
        rollback: b"# Rollback\n".to_vec(),
    }
}

fn build() -> BuildInfo {
    BuildInfo {
        builder_id: BUILDER.into(),
        build_type: BUNDLE_BUILD_TYPE.into(),
        repository: REPO.into(),
        git_ref: Some("refs/heads/staging/codex-7".into()),
        started_on: time::macros::datetime!(2026-01-01 0:00 UTC),
        finished_on: time::macros::datetime!(2026-01-01 0:02 UTC),
        reproducible: true,
    }
}

fn policy(key: &PublicKey) -> ProvenancePolicy {
    let mut p = ProvenancePolicy::new(key.key_id().clone(), BUILDER, &[BUNDLE_BUILD_TYPE]);
    p.source = Some(ExpectedSource {
        repository: format!("git+{REPO}.git"),
        git_ref: Some("refs/heads/staging/codex-7".into()),
    });
    p
}

/// Signs `attested` (the input the attestation describes) and packs it into a bundle built from
/// `packed` (what actually ships), then reads the bundle back.
fn bundle(
    key: &SigningKey,
    attested: &BundleInput,
    info: &BuildInfo,
    packed: BundleInput,
) -> leo_artifact::VerifiedBundle {
    let mut packed = packed;
    packed.attestation =
        sign_bundle_attestation(attested, info, &[key as &dyn DsseSigner]).unwrap();
    let mut archive = Vec::new();
    packed.write(&mut archive).unwrap();
    read_bundle(archive.as_slice(), &ReadLimits::default()).unwrap()
}

#[test]
fn bundle_attestation_round_trip() {
    let (key, _) = SigningKey::generate_ed25519().unwrap();
    let b = bundle(&key, &input(), &build(), input());
    let keys = KeySet::from_iter([key.public_key().clone()]);
    let v = verify_bundle_attestation(&b, &keys, &policy(key.public_key())).unwrap();
    assert_eq!(v.builder_id, BUILDER);
    assert_eq!(v.key_ids, [key.public_key().key_id().clone()]);
    assert_eq!(v.source.unwrap().repository, REPO);

    // Subjects: the four attested members, never the manifest or the attestation itself.
    let names: Vec<_> = v
        .statement
        .subject
        .iter()
        .map(|s| s.name.clone().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "MERGE_BASE",
            "ROLLBACK.md",
            "changes.patch",
            "sbom.cdx.json"
        ]
    );
    for m in ATTESTED_MEMBERS {
        let s = v
            .statement
            .subject
            .iter()
            .find(|s| s.name.as_deref() == Some(m.file_name()))
            .unwrap();
        assert_eq!(s.sha256_digest().unwrap(), Sha256Digest::of(b.member(m)));
    }
    let p = &v.statement.predicate.as_ref().unwrap();
    assert_eq!(
        p["invocation"]["parameters"]["mergeBase"],
        sha('c').as_str()
    );
    assert_eq!(p["metadata"]["buildStartedOn"], "2026-01-01T00:00:00Z");
    assert_eq!(p["metadata"]["reproducible"], true);
    assert_eq!(p["materials"][0]["uri"], format!("git+{REPO}@{}", sha('c')));
    assert_eq!(p["materials"][1]["digest"]["gitCommit"], sha('b').as_str());
}

#[test]
fn the_statement_is_deterministic() {
    assert_eq!(
        bundle_statement(&input(), &build()).to_json(),
        bundle_statement(&input(), &build()).to_json()
    );
    let mut other = input();
    other.attestation = b"ignored".to_vec();
    assert_eq!(
        bundle_statement(&other, &build()),
        bundle_statement(&input(), &build())
    );
}

#[test]
fn each_failed_check_is_its_own_error() {
    let (key, _) = SigningKey::generate_ed25519().unwrap();
    let (other, _) = SigningKey::generate_ecdsa_p256().unwrap();
    let keys = KeySet::from_iter([key.public_key().clone()]);
    let good = bundle(&key, &input(), &build(), input());

    let err = verify_bundle_attestation(
        &good,
        &KeySet::from_iter([other.public_key().clone()]),
        &policy(other.public_key()),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ThresholdNotMet {
                required: 1,
                verified: 0
            }
        ),
        "{err}"
    );

    let mut p = policy(key.public_key());
    p.trusted_builders[0].builder_id = "https://example.invalid/other".into();
    let err = verify_bundle_attestation(&good, &keys, &p).unwrap_err();
    assert!(
        matches!(err, Error::UntrustedBuilder { ref builder_id, .. } if builder_id == BUILDER),
        "{err}"
    );

    // The builder id is trusted, but only for another key: a (key, builder) pair must match.
    let both = KeySet::from_iter([key.public_key().clone(), other.public_key().clone()]);
    let p = policy(other.public_key());
    let err = verify_bundle_attestation(&good, &both, &p).unwrap_err();
    assert!(matches!(err, Error::UntrustedBuilder { .. }), "{err}");

    let mut p = policy(key.public_key());
    p.allowed_build_types = vec!["https://example.invalid/other-type".into()];
    let err = verify_bundle_attestation(&good, &keys, &p).unwrap_err();
    assert!(matches!(err, Error::BuildTypeNotAllowed { .. }), "{err}");

    let mut p = policy(key.public_key());
    p.source.as_mut().unwrap().repository = "https://example.invalid/org/fork".into();
    let err = verify_bundle_attestation(&good, &keys, &p).unwrap_err();
    assert!(
        matches!(err, Error::SourceRepositoryMismatch { .. }),
        "{err}"
    );

    let mut p = policy(key.public_key());
    p.source.as_mut().unwrap().git_ref = Some("refs/heads/main".into());
    let err = verify_bundle_attestation(&good, &keys, &p).unwrap_err();
    assert!(
        matches!(err, Error::SourceRefMismatch { ref found, .. } if found.as_deref() == Some("refs/heads/staging/codex-7")),
        "{err}"
    );

    let mut p = policy(key.public_key());
    p.threshold = 2;
    let err = verify_bundle_attestation(&good, &keys, &p).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidThreshold {
                threshold: 2,
                keys: 1
            }
        ),
        "{err}"
    );

    // The shipped patch differs from the attested one.
    let mut shipped = input();
    shipped.patch = b"diff --git a/evil b/evil\n".to_vec();
    let b = bundle(&key, &input(), &build(), shipped);
    let err = verify_bundle_attestation(&b, &keys, &policy(key.public_key())).unwrap_err();
    assert!(
        matches!(err, Error::MemberDigestMismatch { ref member, .. } if member == Member::Patch.file_name()),
        "{err}"
    );

    // The attestation names another base revision than the manifest.
    let mut attested = input();
    attested.revisions.base = sha('d');
    let b = bundle(&key, &attested, &build(), input());
    let err = verify_bundle_attestation(&b, &keys, &policy(key.public_key())).unwrap_err();
    assert!(
        matches!(err, Error::RevisionMismatch { field: "base", .. }),
        "{err}"
    );

    // Another merge-base: not among the attested materials.
    let mut attested = input();
    attested.revisions.merge_base = sha('e');
    let b = bundle(&key, &attested, &build(), input());
    let err = verify_bundle_attestation(&b, &keys, &policy(key.public_key())).unwrap_err();
    assert!(
        matches!(err, Error::MergeBaseNotInMaterials { .. }),
        "{err}"
    );
}

fn vector(rel: &str) -> Option<Vec<u8>> {
    leo_testkit::vector(&format!("intoto/{rel}")).map(|p| std::fs::read(p).unwrap())
}

#[test]
fn policy_on_python_reference_provenance() {
    let (Some(env), Some(pem), Some(artifact)) = (
        vector("python-sslib/statement-v1.ed25519.dsse.json"),
        vector("keys/ed25519-rfc8032-test1.pub.pem"),
        vector("python-sslib/artifact.tar.gz"),
    ) else {
        return;
    };
    let key = PublicKey::from_pem(std::str::from_utf8(&pem).unwrap()).unwrap();
    let keys = KeySet::from_iter([key.clone()]);
    let mut p = ProvenancePolicy::new(
        key.key_id().clone(),
        "https://example.invalid/patch-bundler@v1",
        &["https://example.invalid/patch-bundle/v1"],
    );
    p.source = Some(ExpectedSource {
        repository: "https://example.invalid/repo".into(),
        git_ref: Some("refs/heads/main".into()),
    });
    let expected = Expectations {
        artifact: Some(Sha256Digest::of(&artifact)),
        merge_base: Some("2222222222222222222222222222222222222222".parse().unwrap()),
    };
    let envelope = Envelope::from_json(&env).unwrap();
    let v = p.verify_envelope(&envelope, &keys, &expected).unwrap();
    assert_eq!(v.build_type, "https://example.invalid/patch-bundle/v1");

    let wrong_artifact = Expectations {
        artifact: Some(Sha256Digest::of(b"other")),
        ..expected.clone()
    };
    let err = p
        .verify_envelope(&envelope, &keys, &wrong_artifact)
        .unwrap_err();
    assert!(matches!(err, Error::SubjectNotFound { .. }), "{err}");

    let wrong_base = Expectations {
        merge_base: Some(sha('f')),
        ..expected.clone()
    };
    let err = p
        .verify_envelope(&envelope, &keys, &wrong_base)
        .unwrap_err();
    assert!(
        matches!(err, Error::MergeBaseNotInMaterials { .. }),
        "{err}"
    );

    // Statement v0.1 is refused unless the policy opts in.
    let legacy =
        Envelope::from_json(&vector("python-sslib/statement-v0.1.ed25519.dsse.json").unwrap())
            .unwrap();
    let err = p.verify_envelope(&legacy, &keys, &expected).unwrap_err();
    assert!(matches!(err, Error::LegacyStatement), "{err}");
    p.accept_legacy_statement = true;
    p.verify_envelope(&legacy, &keys, &expected).unwrap();

    // A signed non-in-toto payload type is refused.
    let priv_pem = vector("keys/ed25519-rfc8032-test1.key.pem").unwrap();
    let signer = SigningKey::from_pkcs8_pem(std::str::from_utf8(&priv_pem).unwrap()).unwrap();
    let odd = Envelope::sign(
        "application/json",
        &envelope.payload,
        &[&signer as &dyn DsseSigner],
    )
    .unwrap();
    let err = p.verify_envelope(&odd, &keys, &expected).unwrap_err();
    assert!(matches!(err, Error::PayloadTypeNotAccepted { .. }), "{err}");
}

#[test]
fn policy_on_google_cloud_build_slsa_v1() {
    let (Some(env), Some(pem)) = (
        vector("slsa-verifier/gcb-slsa-v1.0-provenance.dsse.json"),
        vector("slsa-verifier/gcb-global-pae-google-hosted-worker_1.pem"),
    ) else {
        return;
    };
    let key = PublicKey::from_pem(std::str::from_utf8(&pem).unwrap())
        .unwrap()
        .with_key_id(KeyId::new("gcb-worker"));
    let policy = ProvenancePolicy {
        trusted_builders: vec![TrustedBuilder {
            key_id: KeyId::new("gcb-worker"),
            builder_id: "https://cloudbuild.googleapis.com/GoogleHostedWorker".into(),
        }],
        allowed_build_types: vec![
            "https://cloud.google.com/build/gcb-buildtypes/google-worker/v1".into(),
        ],
        source: Some(ExpectedSource {
            repository: "https://github.com/khalkie/gcb-prod-prov".into(),
            git_ref: Some("refs/heads/main".into()),
        }),
        threshold: 1,
        accept_legacy_statement: false,
    };
    let expected = Expectations {
        artifact: Some(
            "7e9b6e7ba2842c91cf49f3e214d04a7a496f8214356f41d81a6e6dcad11f11e3"
                .parse()
                .unwrap(),
        ),
        merge_base: Some("2ce3f90facdb51aeb950d5bc641e981be61fdf48".parse().unwrap()),
    };
    let envelope = Envelope::from_json(&env).unwrap();
    let v = policy
        .verify_envelope(&envelope, &KeySet::from_iter([key]), &expected)
        .unwrap();
    assert!(matches!(v.provenance, leo_attest::Provenance::V1(_)));
    assert!(Statement::from_json(&envelope.payload).is_ok());
}
