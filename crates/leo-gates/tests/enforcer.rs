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
use leo_store::RecordKind;

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
    let refusals = f.refusals("PRD-7");
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!(refusals[0].attempted_role, Role::Codex);
    assert!(refusals[0].reason.as_str().contains("digest mismatch"));
    // No signature and no CLAUDE-APPLIED handoff were recorded.
    assert!(f.records(RecordKind::ArtifactSignature).is_empty());
}

#[test]
fn bundle_signed_by_an_untrusted_builder_key_is_refused() {
    let f = Fixture::new();
    let mut sink = MemorySink::default();
    let (mut wf, handoff) = f.hand_off("PRD-8", scratch::STAGING, "artifact.tar.gz", &mut sink);
    let (other, _) = leo_attest::SigningKey::generate_ed25519().unwrap();
    let trust = Trust::builder(other.public_key().clone(), enforcer_support::BUILDER_ID);
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
    let last = sink.transitions().last().unwrap();
    assert!(last.reason.as_str().contains("attestation rejected"));
}

/// A patch made against an older merge-base than the bundle names: it does not apply.
#[test]
fn conflicting_patch_goes_to_needs_revision_with_the_conflicting_paths() {
    let f = Fixture::new();
    // The bundle names the change's own head as its merge-base: the patch's preimage
    // (the old src/main.rs) is not there, so it cannot apply.
    let moved = f.scratch.head.clone();
    let patch =
        leo_artifact::create_patch(&f.repo, f.scratch.base.as_str(), scratch::STAGING).unwrap();
    let mut input = BundleInput {
        revisions: leo_artifact::Revisions {
            base: moved.clone(),
            head: patch.revisions.head.clone(),
            merge_base: moved.clone(),
        },
        created_at: time::OffsetDateTime::now_utc(),
        rollback: b"# Rollback\n".to_vec(),
        patch: patch.bytes,
        sbom: leo_attest::sbom::generate_with(
            &f.repo,
            &leo_attest::sbom::SbomOptions {
                name: "hello".into(),
                head: patch.revisions.head.clone(),
                repository: None,
                timestamp: time::OffsetDateTime::now_utc(),
                author: "LEO tests".into(),
                supplier: "LEO tests".into(),
            },
            &f.spec(scratch::STAGING).sbom_resolver,
        )
        .unwrap(),
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
    input.attestation =
        leo_attest::sign_bundle_attestation(&input, &build, &[&f.builder as &dyn DsseSigner])
            .unwrap();
    let path = f.path("stale.tar.gz");
    let hash = input.write_to_path(&path).unwrap();

    let mut sink = MemorySink::default();
    let mut wf = Workflow::start(
        "PRD-9".parse().unwrap(),
        WorkflowConfig::default(),
        &f.codex,
        f.now(),
        &mut sink,
    )
    .unwrap();
    let marker: CommitSha = f.scratch.head.clone();
    wf.handoff(
        &f.codex,
        CodexReady {
            bundle: hash,
            commit: marker,
        },
        f.now(),
        &mut sink,
    )
    .unwrap();
    let trust = f.trust();
    let err = f
        .enforce(&trust, &mut wf, &path, "feature/stale", &mut sink)
        .unwrap_err();
    assert!(
        matches!(&err, Error::PatchConflict { paths } if paths == &["src/main.rs".to_owned()]),
        "{err:?}"
    );
    assert_eq!(wf.state(), LabelState::NeedsRevision);
    assert!(
        sink.transitions()
            .last()
            .unwrap()
            .reason
            .as_str()
            .contains("src/main.rs")
    );
    assert!(!f.branch_exists("feature/stale"));
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
    let mut sink = MemorySink::default();
    let (mut wf, handoff) = f.hand_off("PRD-10", scratch::STAGING, "artifact.tar.gz", &mut sink);

    let trust = f.trust();
    let mut lane = f.lane(&trust);
    lane.fallback = &shared;
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
    let refusal = sink.refusals().last().unwrap();
    assert_eq!(refusal.operation, Operation::Apply);
    assert_eq!(refusal.actor.identity, f.codex.identity);
    assert!(!f.branch_exists("feature/reused"));
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
