//! The enforcer lane's refusals: every failed check is a typed error, recorded, and leaves no
//! feature branch behind.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod enforcer_support;

use enforcer_support::Fixture;
use leo_artifact::{BundleInput, CommitSha};
use leo_attest::DsseSigner;
use leo_gates::enforcer::demo::scratch;
use leo_gates::*;
use leo_sign::{RawKeyAlgorithm, RawKeyPair};
use leo_store::{BundleCheck, RecordKind, RefusalCause};

#[test]
fn tampered_bundle_is_refused_and_the_refusal_recorded() {
    let f = Fixture::new();
    let mut sink = f.sink(7);
    let (mut wf, handoff) = f.hand_off("PRD-7", scratch::STAGING, "artifact.tar.gz", &mut sink);
    let mut bytes = std::fs::read(&handoff.bundle_path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&handoff.bundle_path, &bytes).unwrap();

    let trust = f.trust();
    let err = f
        .enforce(
            &trust,
            &mut wf,
            &handoff.bundle_path,
            "feature/tampered",
            &mut sink,
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::HandoffDigestMismatch { expected, .. } if expected == handoff.bundle),
        "{err:?}"
    );
    assert_eq!(wf.state(), LabelState::NeedsRevision);
    assert!(!f.branch_exists("feature/tampered"));
    assert_bundle_refusal(&f, "PRD-7", BundleCheck::Digest, "digest mismatch");
    // No signature and no CLAUDE-APPLIED handoff were recorded.
    assert!(f.records(RecordKind::ArtifactSignature).is_empty());
}

/// `change` has one refusal: the builder's bundle refused by `check`, its reason containing
/// `reason_has`, recorded with its transition.
fn assert_bundle_refusal(f: &Fixture, change: &str, check: BundleCheck, reason_has: &str) {
    let refusals = f.refusals(change);
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!(refusals[0].attempted_role, Role::Codex);
    assert_eq!(refusals[0].operation.as_str(), check.as_str());
    assert_eq!(f.causes(change), [RefusalCause::Bundle(check)]);
    assert!(
        refusals[0].reason.as_str().contains(reason_has),
        "{:?}",
        refusals[0].reason
    );
    assert_recorded_with_the_transition(f, change);
}

/// The bundle refusal of `change` was filed by the enforcer under `SignArtifacts`, in the
/// same batch as its `needs_revision` transition (adjacent in the log, same time).
#[track_caller]
fn assert_recorded_with_the_transition(f: &Fixture, change: &str) {
    let refusal = f
        .records(RecordKind::Refusal)
        .into_iter()
        .find(|e| matches!(&e.event.record, leo_store::Record::Refusal(r) if r.change.as_str() == change))
        .unwrap();
    let transition = f
        .records(RecordKind::LabelTransition)
        .into_iter()
        .find(|e| {
            matches!(&e.event.record, leo_store::Record::LabelTransition(t)
                if t.change.as_str() == change && t.to.as_str() == "needs_revision")
        })
        .unwrap();
    assert_eq!(refusal.event.action, leo_store::Action::SignArtifacts);
    assert_eq!(refusal.actor, Role::ClaudeExec);
    assert_eq!(refusal.event.recorded_at, transition.event.recorded_at);
    assert_eq!(refusal.seq, transition.seq + 1);
}

#[test]
fn bundle_signed_by_an_untrusted_builder_key_is_refused() {
    let f = Fixture::new();
    let mut sink = f.sink(8);
    let (mut wf, handoff) = f.hand_off("PRD-8", scratch::STAGING, "artifact.tar.gz", &mut sink);
    let trust = untrusted();
    let err = f
        .enforce(
            &trust,
            &mut wf,
            &handoff.bundle_path,
            "feature/untrusted",
            &mut sink,
        )
        .unwrap_err();
    assert!(matches!(err, Error::AttestationRejected { .. }), "{err:?}");
    assert_eq!(wf.state(), LabelState::NeedsRevision);
    // Recorded as a failed attestation check of the builder's bundle, not as a refused
    // operation.
    assert_bundle_refusal(
        &f,
        "PRD-8",
        BundleCheck::Attestation,
        "attestation rejected",
    );
}

/// A patch made against an older merge-base than the bundle names: it does not apply.
#[test]
fn conflicting_patch_goes_to_needs_revision_with_the_conflicting_paths() {
    let f = Fixture::new();
    let bundle = stale_bundle(&f, "PRD-9.tar.gz");
    let (err, wf) = enforce_in_store(&f, 9, bundle, &f.trust(), "feature/stale");
    assert!(
        matches!(&err, Error::PatchConflict { paths } if paths == &["src/main.rs".to_owned()]),
        "{err:?}"
    );
    assert_eq!(wf.state(), LabelState::NeedsRevision);
    assert!(!f.branch_exists("feature/stale"));
    assert_bundle_refusal(&f, "PRD-9", BundleCheck::Apply, "src/main.rs");
}

/// The enforcer checks the attestation before it applies: a bundle whose provenance is
/// untrusted *and* whose patch conflicts is refused by the attestation check. leo-score
/// relies on that order (`BundleCheck::attestation_verified`): an apply refusal is a verified
/// attestation.
#[test]
fn the_attestation_is_checked_before_the_patch_is_applied() {
    let f = Fixture::new();
    let bundle = stale_bundle(&f, "PRD-19.tar.gz");
    let (err, _) = enforce_in_store(&f, 19, bundle, &untrusted(), "feature/both");
    assert!(matches!(err, Error::AttestationRejected { .. }), "{err:?}");
    assert_bundle_refusal(
        &f,
        "PRD-19",
        BundleCheck::Attestation,
        "attestation rejected",
    );
    assert!(!f.branch_exists("feature/both"));
}

/// A signed bundle of the staging change whose SBOM's primary component has no version:
/// not NTIA-compliant.
fn bundle_without_sbom_version(
    f: &Fixture,
    name: &str,
) -> (std::path::PathBuf, leo_artifact::Sha256Digest) {
    let patch =
        leo_artifact::create_patch(&f.repo, f.scratch.base.as_str(), scratch::STAGING).unwrap();
    let revisions = patch.revisions.clone();
    signed_bundle_with(f, revisions, patch.bytes, name, |sbom| {
        sbom["metadata"]["component"]
            .as_object_mut()
            .unwrap()
            .remove("version");
    })
}

/// A non-compliant SBOM under a trusted attestation is the SBOM check's refusal; under an
/// untrusted one, the attestation check's: the attestation is checked first, which
/// `BundleCheck::attestation_verified` (leo-score's verified count) relies on.
#[test]
fn a_non_compliant_sbom_is_refused_by_the_sbom_check_after_the_attestation() {
    let f = Fixture::new();
    let bundle = bundle_without_sbom_version(&f, "PRD-20.tar.gz");
    let (err, _) = enforce_in_store(&f, 20, bundle, &f.trust(), "feature/sbom");
    assert!(matches!(err, Error::SbomNotCompliant { .. }), "{err:?}");
    assert_bundle_refusal(&f, "PRD-20", BundleCheck::Sbom, "SBOM not compliant");

    let bundle = bundle_without_sbom_version(&f, "PRD-21.tar.gz");
    let (err, _) = enforce_in_store(&f, 21, bundle, &untrusted(), "feature/sbom2");
    assert!(matches!(err, Error::AttestationRejected { .. }), "{err:?}");
    assert_bundle_refusal(
        &f,
        "PRD-21",
        BundleCheck::Attestation,
        "attestation rejected",
    );
}

#[test]
fn an_enforcer_signing_with_the_builders_key_is_refused_and_recorded() {
    // The builder's attestation key and the enforcer's signing key are one Ed25519 key.
    let shared = RawKeyPair::generate(RawKeyAlgorithm::Ed25519).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let key_file = tmp.path().join("shared.key");
    shared.save_secret(&key_file).unwrap();
    let der = std::fs::read(&key_file).unwrap();
    let f = Fixture::with_builder_key(leo_attest::SigningKey::from_pkcs8_der(&der).unwrap());
    let mut sink = f.sink(10);
    let (mut wf, handoff) = f.hand_off("PRD-10", scratch::STAGING, "artifact.tar.gz", &mut sink);

    let trust = f.trust();
    let mut lane = f.lane(&trust);
    lane.preferred = Some(&shared);
    let err = lane
        .enforce(
            &f.request(&handoff.bundle_path, "feature/reused"),
            &mut wf,
            f.now(),
            &mut sink,
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::IdentityReused {
                bound_to: Role::Codex,
                used_as: Role::ClaudeExec,
                ..
            }
        ),
        "{err:?}"
    );
    // Refused and recorded; the change did not move and no branch was created.
    assert_eq!(wf.state(), LabelState::ClaudeEnforcing);
    // A refused operation of the enforcer's (a gate bypass attempt), not a bundle refusal.
    let refusals = f.refusals("PRD-10");
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!(refusals[0].attempted_role, Role::ClaudeExec);
    assert_eq!(refusals[0].operation.as_str(), Operation::Apply.as_str());
    assert_eq!(f.causes("PRD-10")[0], RefusalCause::Operation);
    assert!(
        refusals[0]
            .reason
            .as_str()
            .contains(&format!("[identity {}]", f.codex.identity))
    );
    assert!(!f.branch_exists("feature/reused"));
}

/// PKCS#8 v1 (RFC 8410) prefix of an Ed25519 private key; the 32-byte seed follows.
const ED25519_PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

#[test]
fn an_openpgp_key_with_the_builders_ed25519_material_is_refused_and_recorded() {
    // One Ed25519 secret: the builder's attestation key, and the primary (signing) key of
    // the enforcer's OpenPGP certificate. The fingerprints differ; the key is the same.
    let seed = [0x5a_u8; 32];
    let der = [ED25519_PKCS8_V1_PREFIX.as_slice(), seed.as_slice()].concat();
    let f = Fixture::with_builder_key(leo_attest::SigningKey::from_pkcs8_der(&der).unwrap());
    let spec = leo_sign::KeySpec::new(leo_sign::PgpAlgorithm::Ed25519, "Claude", "c@leo.invalid")
        .created_at(time::OffsetDateTime::now_utc() - time::Duration::minutes(1));
    let same = leo_sign::PgpKey::from_ed25519_secret(&seed, &spec).unwrap();
    assert_ne!(same.fingerprint().as_str(), f.codex.identity.as_str());
    let mut sink = MemorySink::default();
    let (mut wf, handoff) = f.hand_off("PRD-20", scratch::STAGING, "artifact.tar.gz", &mut sink);

    let trust = f.trust();
    let mut lane = f.lane(&trust);
    lane.fallback = &same;
    let sig = f.path("reused.sig");
    let mut req = f.request(&handoff.bundle_path, "feature/reused-pgp");
    req.signature_path = Some(&sig);
    let err = lane.enforce(&req, &mut wf, f.now(), &mut sink).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::IdentityReused {
                identity,
                bound_to: Role::Codex,
                used_as: Role::ClaudeExec,
            } if identity == f.codex.identity.as_str()
        ),
        "{err:?}"
    );
    assert_eq!(wf.state(), LabelState::ClaudeEnforcing);
    let refusal = sink.refusals().last().unwrap();
    assert_eq!(refusal.operation, Operation::Apply);
    assert!(!f.branch_exists("feature/reused-pgp"));
    assert!(!sig.exists());
}

#[test]
fn an_openpgp_key_from_another_ed25519_secret_is_not_taken_for_the_builders() {
    let f = Fixture::new();
    let spec = leo_sign::KeySpec::new(leo_sign::PgpAlgorithm::Ed25519, "Claude", "c@leo.invalid")
        .created_at(time::OffsetDateTime::now_utc() - time::Duration::minutes(1));
    let other = leo_sign::PgpKey::from_ed25519_secret(&[0x33_u8; 32], &spec).unwrap();
    assert_eq!(other.raw_key_fingerprints().len(), 1);
    let mut sink = MemorySink::default();
    let (mut wf, handoff) = f.hand_off("PRD-21", scratch::STAGING, "artifact.tar.gz", &mut sink);
    let trust = f.trust();
    let mut lane = f.lane(&trust);
    lane.fallback = &other;
    let done = lane
        .enforce(
            &f.request(&handoff.bundle_path, "feature/own-key"),
            &mut wf,
            f.now(),
            &mut sink,
        )
        .unwrap();
    assert_eq!(done.signature.selection.backend, leo_sign::Backend::OpenPgp);
    assert_eq!(wf.state(), LabelState::GatesPassing);
}

#[test]
fn an_existing_feature_branch_is_never_overwritten() {
    let f = Fixture::new();
    let mut sink = MemorySink::default();
    let (mut wf, handoff) = f.hand_off("PRD-11", scratch::STAGING, "artifact.tar.gz", &mut sink);
    scratch::branch_at(&f.repo, "feature/taken", &f.scratch.base).unwrap();
    let trust = f.trust();
    let err = f
        .enforce(
            &trust,
            &mut wf,
            &handoff.bundle_path,
            "feature/taken",
            &mut sink,
        )
        .unwrap_err();
    assert!(matches!(err, Error::BranchExists { .. }), "{err:?}");
    assert_eq!(wf.state(), LabelState::ClaudeEnforcing);
    let bad = f
        .enforce(&trust, &mut wf, &handoff.bundle_path, "hotfix/x", &mut sink)
        .unwrap_err();
    assert!(
        matches!(
            bad,
            Error::BranchNotAllowed {
                prefix: "feature/",
                ..
            }
        ),
        "{bad:?}"
    );
}

#[test]
fn a_refused_handoff_leaves_no_marker_commit_and_no_bundle() {
    let f = Fixture::new();
    let mut sink = MemorySink::default();
    let (mut wf, _) = f.hand_off("PRD-12", scratch::STAGING, "artifact.tar.gz", &mut sink);
    let tip = leo_gates::enforcer::git::branch_tip(&f.repo, scratch::STAGING).unwrap();
    // A second handoff while the enforcer holds the first is not a legal transition.
    let again = f.path("again.tar.gz");
    let err = leo_gates::builder::hand_off(
        &f.repo,
        &f.spec(scratch::STAGING),
        &f.builder,
        &again,
        "Again",
        &mut wf,
        &f.codex,
        f.now(),
        &mut sink,
    )
    .unwrap_err();
    assert!(matches!(err, Error::IllegalTransition { .. }), "{err:?}");
    assert_eq!(
        leo_gates::enforcer::git::branch_tip(&f.repo, scratch::STAGING).unwrap(),
        tip
    );
    assert!(!again.exists());
    assert_eq!(sink.refusals().count(), 1);
    // And the builder commits only on staging/codex-* branches.
    let err = leo_gates::builder::hand_off(
        &f.repo,
        &f.spec("main"),
        &f.builder,
        &again,
        "Wrong branch",
        &mut wf,
        &f.codex,
        f.now(),
        &mut sink,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::BranchNotAllowed {
                prefix: "staging/codex-",
                ..
            }
        ),
        "{err:?}"
    );
}

/// A sink whose disk fills up exactly when the apply is recorded.
#[derive(Default)]
struct FailsOnApply(MemorySink);

impl AuditSink for FailsOnApply {
    fn record(&mut self, events: &[AuditEvent]) -> Result<(), SinkError> {
        let applying = events
            .iter()
            .any(|e| matches!(e, AuditEvent::Transition(t) if t.to == LabelState::GatesPassing));
        if applying {
            return Err("disk full".into());
        }
        self.0.record(events)
    }
}

impl FlowSink for FailsOnApply {
    fn stage(&mut self, _record: Staged) {}
    fn unstage(&mut self) {}
    fn as_audit(&mut self) -> &mut dyn AuditSink {
        self
    }
}

#[test]
fn an_apply_the_trail_cannot_record_leaves_no_feature_branch() {
    let f = Fixture::new();
    let mut sink = FailsOnApply::default();
    let (mut wf, handoff) = f.hand_off("PRD-13", scratch::STAGING, "artifact.tar.gz", &mut sink);
    let trust = f.trust();
    let sig = f.path("artifact.tar.gz.sig");
    let mut req = f.request(&handoff.bundle_path, "feature/unrecorded");
    req.signature_path = Some(&sig);
    let err = f
        .lane(&trust)
        .enforce(&req, &mut wf, f.now(), &mut sink)
        .unwrap_err();
    assert!(matches!(err, Error::AuditSink { .. }), "{err:?}");
    assert_eq!(wf.state(), LabelState::ClaudeEnforcing);
    assert!(!f.branch_exists("feature/unrecorded"));
    assert!(!sig.exists());
}

/// A bundle of `patch` with `revisions`, its attestation signed by the fixture's builder
/// key, written to `name`.
fn signed_bundle(
    f: &Fixture,
    revisions: leo_artifact::Revisions,
    patch: Vec<u8>,
    name: &str,
) -> (std::path::PathBuf, leo_artifact::Sha256Digest) {
    signed_bundle_with(f, revisions, patch, name, |_| {})
}

/// As [`signed_bundle`], with the SBOM edited (before it is attested) by `edit`.
fn signed_bundle_with(
    f: &Fixture,
    revisions: leo_artifact::Revisions,
    patch: Vec<u8>,
    name: &str,
    edit: impl FnOnce(&mut serde_json::Value),
) -> (std::path::PathBuf, leo_artifact::Sha256Digest) {
    let mut input = BundleInput {
        sbom: leo_attest::sbom::generate_with(
            &f.repo,
            &leo_attest::sbom::SbomOptions {
                name: "hello".into(),
                head: revisions.head.clone(),
                repository: None,
                timestamp: time::OffsetDateTime::now_utc(),
                author: "LEO tests".into(),
                supplier: "LEO tests".into(),
            },
            &f.spec(scratch::STAGING).sbom_resolver,
        )
        .unwrap(),
        revisions,
        created_at: time::OffsetDateTime::now_utc(),
        rollback: b"# Rollback\n".to_vec(),
        patch,
        attestation: Vec::new(),
    };
    let build = leo_attest::BuildInfo {
        builder_id: enforcer_support::BUILDER_ID.into(),
        build_type: leo_attest::BUNDLE_BUILD_TYPE.into(),
        repository: "https://example.invalid/hello".into(),
        git_ref: None,
        started_on: time::OffsetDateTime::now_utc(),
        finished_on: time::OffsetDateTime::now_utc(),
        reproducible: false,
    };
    let mut sbom: serde_json::Value = serde_json::from_slice(&input.sbom).unwrap();
    edit(&mut sbom);
    input.sbom = serde_json::to_vec_pretty(&sbom).unwrap();
    input.attestation =
        leo_attest::sign_bundle_attestation(&input, &build, &[&f.builder as &dyn DsseSigner])
            .unwrap();
    let path = f.path(name);
    let hash = input.write_to_path(&path).unwrap();
    (path, hash)
}

/// Change `PRD-<n>` handed off with `bundle` and enforced under `trust` onto `branch`,
/// recorded in the fixture's store: the enforcer's error, and the workflow after it.
fn enforce_in_store(
    f: &Fixture,
    n: u32,
    (path, hash): (std::path::PathBuf, leo_artifact::Sha256Digest),
    trust: &Trust,
    branch: &str,
) -> (Error, Workflow) {
    let mut sink = f.sink(n);
    let mut wf = handed_off(f, &format!("PRD-{n}"), hash, &mut sink);
    let err = f
        .enforce(trust, &mut wf, &path, branch, &mut sink)
        .unwrap_err();
    (err, wf)
}

/// Trust in a builder key that signed nothing here: every attestation is untrusted.
fn untrusted() -> Trust {
    let (other, _) = leo_attest::SigningKey::generate_ed25519().unwrap();
    Trust::builder(other.public_key().clone(), enforcer_support::BUILDER_ID)
}

/// A signed bundle whose patch cannot apply: it names the change's own head as its
/// merge-base, where the patch's preimage (the old src/main.rs) is not.
fn stale_bundle(f: &Fixture, name: &str) -> (std::path::PathBuf, leo_artifact::Sha256Digest) {
    let moved = f.scratch.head.clone();
    let patch =
        leo_artifact::create_patch(&f.repo, f.scratch.base.as_str(), scratch::STAGING).unwrap();
    let revisions = leo_artifact::Revisions {
        base: moved.clone(),
        head: patch.revisions.head.clone(),
        merge_base: moved,
    };
    signed_bundle(f, revisions, patch.bytes, name)
}

/// `change` started and handed off with bundle `hash` (marker: the scratch head).
fn handed_off(
    f: &Fixture,
    change: &str,
    hash: leo_artifact::Sha256Digest,
    sink: &mut dyn AuditSink,
) -> Workflow {
    let mut wf = Workflow::start(
        change.parse().unwrap(),
        WorkflowConfig::default(),
        &f.codex,
        f.now(),
        sink,
    )
    .unwrap();
    wf.handoff(
        &f.codex,
        CodexReady {
            bundle: hash,
            commit: f.scratch.head.clone(),
        },
        f.now(),
        sink,
    )
    .unwrap();
    wf
}

/// Why the last transition happened.
fn last_reason(sink: &MemorySink) -> String {
    sink.transitions()
        .last()
        .unwrap()
        .reason
        .as_str()
        .to_owned()
}

/// `change` handed off with a signed bundle of `patch` and `revisions`, and the enforcer's
/// error applying it on `branch`.
fn refused(
    f: &Fixture,
    revisions: leo_artifact::Revisions,
    patch: Vec<u8>,
    change: &str,
    branch: &str,
) -> (Error, Workflow, MemorySink) {
    let (path, hash) = signed_bundle(f, revisions, patch, &format!("{change}.tar.gz"));
    let mut sink = MemorySink::default();
    let mut wf = handed_off(f, change, hash, &mut sink);
    let trust = f.trust();
    let err = f
        .enforce(&trust, &mut wf, &path, branch, &mut sink)
        .unwrap_err();
    (err, wf, sink)
}

/// The builder names its base as its head, but the patch turns the base into the change:
/// the applied tree is not the named head's tree. That is the bundle's fault.
#[test]
fn an_applied_tree_that_is_not_the_heads_is_a_recorded_bundle_refusal() {
    let f = Fixture::new();
    let patch =
        leo_artifact::create_patch(&f.repo, f.scratch.base.as_str(), scratch::STAGING).unwrap();
    let revisions = leo_artifact::Revisions {
        base: f.scratch.base.clone(),
        head: f.scratch.base.clone(),
        merge_base: f.scratch.base.clone(),
    };
    let (path, hash) = signed_bundle(&f, revisions, patch.bytes, "mismatch.tar.gz");
    let mut sink = MemorySink::default();
    let mut wf = handed_off(&f, "PRD-22", hash, &mut sink);
    let trust = f.trust();
    let sig = f.path("mismatch.sig");
    let mut req = f.request(&path, "feature/mismatch");
    req.signature_path = Some(&sig);
    let err = f
        .lane(&trust)
        .enforce(&req, &mut wf, f.now(), &mut sink)
        .unwrap_err();
    let base_tree = leo_gates::enforcer::git::tree_of(&f.repo, &f.scratch.base)
        .unwrap()
        .unwrap();
    assert!(
        matches!(&err, Error::TreeMismatch { expected, actual } if *expected == base_tree && *actual != base_tree),
        "{err:?}"
    );
    assert_eq!(wf.state(), LabelState::NeedsRevision);
    assert!(last_reason(&sink).contains("head tree"));
    assert_eq!(
        sink.bundle_refusals().collect::<Vec<_>>(),
        [BundleCheck::Apply]
    );
    assert!(!f.branch_exists("feature/mismatch"));
    assert!(!sig.exists());
}

/// A tag of the same name shadows the staging branch (git resolves `refs/tags/<name>` before
/// `refs/heads/<name>`): the bundle is made from the tag's commit, so the marker must not go
/// on the branch, whose tip the bundle does not contain.
#[test]
fn a_marker_is_never_put_on_a_head_the_bundle_was_not_made_from() {
    let f = Fixture::new();
    // The tag stays at the change head; the branch moves on by one commit.
    let repository = git2::Repository::open(&f.repo).unwrap();
    let head = repository
        .find_object(git2::Oid::from_str(f.scratch.head.as_str()).unwrap(), None)
        .unwrap();
    repository
        .tag_lightweight(scratch::STAGING, &head, false)
        .unwrap();
    let git = leo_gates::enforcer::git::marker_commit(
        &f.repo,
        &f.scratch.head,
        "Later work",
        Role::Codex,
    )
    .unwrap();
    leo_gates::enforcer::git::move_branch(&f.repo, scratch::STAGING, &f.scratch.head, &git, "test")
        .unwrap();
    let tip = leo_gates::enforcer::git::branch_tip(&f.repo, scratch::STAGING).unwrap();
    let mut sink = MemorySink::default();
    let mut wf = Workflow::start(
        "PRD-23".parse().unwrap(),
        WorkflowConfig::default(),
        &f.codex,
        f.now(),
        &mut sink,
    )
    .unwrap();
    let bundle = f.path("shadowed.tar.gz");
    let err = leo_gates::builder::hand_off(
        &f.repo,
        &f.spec(scratch::STAGING),
        &f.builder,
        &bundle,
        "Shadowed",
        &mut wf,
        &f.codex,
        f.now(),
        &mut sink,
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::HeadMoved { expected, actual, .. }
            if *expected == f.scratch.head && *actual == git.to_string()),
        "{err:?}"
    );
    assert_eq!(
        leo_gates::enforcer::git::branch_tip(&f.repo, scratch::STAGING).unwrap(),
        tip
    );
    assert!(!bundle.exists());
    assert_eq!(wf.state(), LabelState::CodexBuilding);
}

#[test]
fn a_branch_moves_only_from_the_tip_the_caller_expects() {
    let f = Fixture::new();
    let git = |e: &CommitSha, to: &CommitSha| {
        leo_gates::enforcer::git::move_branch(&f.repo, scratch::STAGING, e, to, "test")
    };
    let tip = leo_gates::enforcer::git::branch_tip(&f.repo, scratch::STAGING).unwrap();
    // Expecting the base while the branch is at the change head: nothing moves.
    let err = git(&f.scratch.base, &f.scratch.base).unwrap_err();
    assert!(
        matches!(&err, Error::HeadMoved { actual, .. } if *actual == tip.to_string()),
        "{err:?}"
    );
    assert_eq!(
        leo_gates::enforcer::git::branch_tip(&f.repo, scratch::STAGING).unwrap(),
        tip
    );
    // Expecting the real tip: it moves.
    git(&tip, &f.scratch.base).unwrap();
    assert_eq!(
        leo_gates::enforcer::git::branch_tip(&f.repo, scratch::STAGING).unwrap(),
        f.scratch.base
    );
}

#[test]
fn an_oidc_token_never_shows_in_debug_output() {
    use leo_gates::enforcer::demo::{DemoOptions, IdToken};
    let secret = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.c2ln";
    let mut opts = DemoOptions::new("out");
    opts.sigstore_token = Some(secret.parse::<IdToken>().unwrap());
    let shown = format!("{opts:?} {opts:#?}");
    assert!(!shown.contains(secret), "{shown}");
    assert!(shown.contains("IdToken(<redacted>)"), "{shown}");
    assert_eq!(
        opts.sigstore_token.as_ref().map(IdToken::expose_secret),
        Some(secret)
    );
}

/// Of a two-file patch, only the file whose hunk does not apply is named.
#[test]
fn a_conflict_names_only_the_files_whose_hunks_fail() {
    let f = Fixture::new();
    let patch = b"diff --git a/NOTES.md b/NOTES.md
new file mode 100644
--- /dev/null
+++ b/NOTES.md
@@ -0,0 +1 @@
+notes
diff --git a/Cargo.toml b/Cargo.toml
--- a/Cargo.toml
+++ b/Cargo.toml
@@ -1 +1 @@
-this line was never in Cargo.toml
+replacement
"
    .to_vec();
    let revisions = leo_artifact::Revisions {
        base: f.scratch.base.clone(),
        head: f.scratch.head.clone(),
        merge_base: f.scratch.base.clone(),
    };
    let (err, wf, _) = refused(&f, revisions, patch, "PRD-24", "feature/two-files");
    assert!(
        matches!(&err, Error::PatchConflict { paths } if paths == &["Cargo.toml".to_owned()]),
        "{err:?}"
    );
    assert_eq!(wf.state(), LabelState::NeedsRevision);
}

/// Only git's "not found" means a branch is absent; a name git cannot read is an error.
#[test]
fn a_branch_that_cannot_be_read_is_an_error_not_an_absence() {
    let f = Fixture::new();
    assert!(!f.branch_exists("feature/none-yet"));
    let err = leo_gates::enforcer::git::branch_exists(&f.repo, "feature/a..b").unwrap_err();
    assert!(
        matches!(&err, Error::Artifact(leo_artifact::Error::Git { .. })),
        "{err:?}"
    );
}
