//! The builder lane (Codex, SOP §1.1, §4.1 steps 1–2), with real I/O: turn a git change into
//! `artifact.tar.gz` (patch, SBOM, signed SLSA v0.2 attestation, rollback notes, merge-base),
//! commit `[CODEX-READY:<hash>]` on a `staging/codex-*` branch, and hand off.
//!
//! [`assemble_bundle`] is the library form of `leo bundle create --key`: the same calls
//! (`create_patch`, `sbom::generate`, `sign_bundle_attestation`) in the same order.

use std::path::{Path, PathBuf};

use leo_artifact::{BundleInput, CommitSha, FileChange, Marker, Revisions, Sha256Digest};
use leo_attest::sbom::SbomOptions;
use leo_attest::{BUNDLE_BUILD_TYPE, BuildInfo, DsseSigner};
use leo_store::{Role, Timestamp};

use crate::authz::Actor;
use crate::enforcer::git;
use crate::error::{Error, Result};
use crate::facts::CodexReady;
use crate::workflow::Workflow;

/// The branch prefix the builder commits on (SOP §1.1).
pub const STAGING_PREFIX: &str = "staging/codex-";

/// What to build and how to describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleSpec {
    /// The base revision (e.g. `main`).
    pub base: String,
    /// The head revision (e.g. `staging/codex-feature`).
    pub head: String,
    /// `builder.id` in the provenance.
    pub builder_id: String,
    /// The repository URI in the provenance and SBOM.
    pub repository: String,
    /// The SBOM's supplier (NTIA minimum element).
    pub supplier: String,
    /// The project name in the SBOM.
    pub name: String,
    /// When the build started (provenance `buildStartedOn`).
    pub started_on: time::OffsetDateTime,
    /// The bundle time (every archive entry's mtime, SBOM timestamp); `None`: the head
    /// commit's time.
    pub created_at: Option<time::OffsetDateTime>,
    /// Whether the caller fixed every time (`SOURCE_DATE_EPOCH`), so the bundle is
    /// reproducible.
    pub reproducible: bool,
    /// How lockfiles become SBOM components (`cargo metadata` or the lockfile as it is).
    pub sbom_resolver: leo_attest::sbom::Resolver,
    /// A ready CycloneDX SBOM to include instead of generating one (`leo bundle create
    /// --sbom`).
    pub sbom: Option<Vec<u8>>,
}

/// A bundle ready to write, and the files its patch touches.
#[derive(Clone, Debug)]
pub struct Assembled {
    /// The bundle contents; the attestation is empty until [`Prepared::sign`] (or the caller)
    /// fills it.
    pub input: BundleInput,
    /// The files the patch touches.
    pub files: Vec<FileChange>,
}

/// A bundle whose every member but the attestation is made, with the provenance facts to
/// sign over them.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// Patch, SBOM, rollback notes and revisions; `attestation` empty.
    pub bundle: Assembled,
    /// What the attestation will say about the build.
    pub build: BuildInfo,
}

impl Prepared {
    /// Signs the SLSA v0.2 attestation over the members with `signers`.
    pub fn sign(self, signers: &[&dyn DsseSigner]) -> Result<Assembled> {
        let Prepared { mut bundle, build } = self;
        bundle.input.attestation =
            leo_attest::sign_bundle_attestation(&bundle.input, &build, signers)
                .map_err(|source| Error::BuildFailed { source })?;
        Ok(bundle)
    }
}

/// Makes the patch of `spec.base..spec.head` in `repo`, the SBOM of the work tree (checked
/// out at head) and the rollback notes: every member but the attestation (`leo bundle create
/// --attestation` supplies a ready one; [`Prepared::sign`] makes it).
pub fn prepare_bundle(repo: &Path, spec: &BundleSpec) -> Result<Prepared> {
    let patch = leo_artifact::create_patch(repo, &spec.base, &spec.head)?;
    let created_at = match spec.created_at {
        Some(t) => t,
        None => time::OffsetDateTime::from_unix_timestamp(patch.head_time).map_err(|_| {
            Error::Artifact(leo_artifact::Error::Git {
                context: "reading the head commit time".into(),
                message: format!("{} is out of range", patch.head_time),
            })
        })?,
    };
    let sbom = match &spec.sbom {
        Some(bytes) => bytes.clone(),
        None => leo_attest::sbom::generate_with(
            repo,
            &SbomOptions {
                name: spec.name.clone(),
                head: patch.revisions.head.clone(),
                repository: Some(spec.repository.clone()),
                timestamp: created_at,
                author: "LEO builder lane".into(),
                supplier: spec.supplier.clone(),
            },
            &spec.sbom_resolver,
        )
        .map_err(|source| Error::BuildFailed { source })?,
    };
    let input = BundleInput {
        revisions: patch.revisions.clone(),
        created_at,
        rollback: leo_artifact::rollback_notes(&patch.revisions, &patch.files).into_bytes(),
        patch: patch.bytes,
        sbom,
        attestation: Vec::new(),
    };
    let build = BuildInfo {
        builder_id: spec.builder_id.clone(),
        build_type: BUNDLE_BUILD_TYPE.into(),
        repository: spec.repository.clone(),
        git_ref: Some(format!(
            "refs/heads/{}",
            spec.head.trim_start_matches("refs/heads/")
        )),
        started_on: if spec.reproducible {
            created_at
        } else {
            spec.started_on
        },
        finished_on: if spec.reproducible {
            created_at
        } else {
            time::OffsetDateTime::now_utc()
        },
        reproducible: spec.reproducible,
    };
    Ok(Prepared {
        bundle: Assembled {
            input,
            files: patch.files,
        },
        build,
    })
}

/// [`prepare_bundle`], then [`Prepared::sign`]: the library form of `leo bundle create --key`.
pub fn assemble_bundle(
    repo: &Path,
    spec: &BundleSpec,
    signers: &[&dyn DsseSigner],
) -> Result<Assembled> {
    prepare_bundle(repo, spec)?.sign(signers)
}

/// What the builder handed off.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Handoff {
    /// Where the bundle was written.
    pub bundle_path: PathBuf,
    /// Its SHA-256 (the marker hash).
    pub bundle: Sha256Digest,
    /// The `staging/codex-*` branch.
    pub branch: String,
    /// The `[CODEX-READY:<hash>]` commit.
    pub marker_commit: CommitSha,
    /// Base, head and merge-base.
    pub base: CommitSha,
    /// The change's head commit.
    pub head: CommitSha,
    /// Their merge-base (where the enforcer applies the patch).
    pub merge_base: CommitSha,
    /// How many files the patch touches.
    pub files: usize,
}

/// The builder lane's step: assemble the bundle, write it to `bundle_path` atomically,
/// commit `[CODEX-READY:<hash>] <summary>` on `spec.head` (a `staging/codex-*` branch),
/// stage the handoff record for the sink, and take the workflow to `claude_enforcing`.
/// The branch must still be at the head the bundle was made from ([`Error::HeadMoved`]).
/// The marker commit is written unreferenced, the handoff recorded, and only then the
/// branch moved (compare-and-swap on the old tip). If the workflow refuses the handoff, the
/// bundle is removed and the branch never moved: what is not recorded did not happen.
///
/// `builder` is the Codex actor; its identity should be [`key_identity`] of the attestation
/// key, so a key reused by another lane is refused by the workflow's separation check.
#[allow(clippy::too_many_arguments)] // one argument per input of the SOP step
pub fn hand_off(
    repo: &Path,
    spec: &BundleSpec,
    key: &leo_attest::SigningKey,
    bundle_path: &Path,
    summary: &str,
    workflow: &mut Workflow,
    builder: &Actor,
    at: Timestamp,
    sink: &mut dyn crate::enforcer::FlowSink,
) -> Result<Handoff> {
    let branch = spec.head.trim_start_matches("refs/heads/").to_owned();
    if !branch.starts_with(STAGING_PREFIX) {
        return Err(Error::BranchNotAllowed {
            branch,
            prefix: STAGING_PREFIX,
        });
    }
    let assembled = assemble_bundle(repo, spec, &[key as &dyn DsseSigner])?;
    // The marker goes on the head the bundle was made from, and nowhere else.
    let previous_tip = git::branch_tip(repo, &branch)?;
    if previous_tip != assembled.input.revisions.head {
        return Err(Error::HeadMoved {
            branch,
            expected: assembled.input.revisions.head.clone(),
            actual: previous_tip.to_string(),
        });
    }
    let bundle = assembled.input.write_to_path(bundle_path)?;
    let message = Marker::CodexReady(bundle).commit_message(summary);
    // Written unreferenced: the branch moves only once the handoff is recorded.
    let marker_commit = match git::marker_commit(repo, &previous_tip, &message, Role::Codex) {
        Ok(c) => c,
        Err(e) => return Err(remove_bundle(bundle_path, e)),
    };
    let Revisions {
        base,
        head,
        merge_base,
    } = assembled.input.revisions.clone();
    sink.stage(crate::enforcer::Staged::CodexReady {
        bundle,
        commit: marker_commit.clone(),
        branch: branch.clone(),
    });
    let facts = CodexReady {
        bundle,
        commit: marker_commit.clone(),
    };
    if let Err(e) = workflow.handoff(builder, facts, at, sink.as_audit()) {
        // Not recorded, so not handed off: no bundle left behind (the marker commit is
        // unreachable).
        sink.unstage();
        return Err(remove_bundle(bundle_path, e));
    }
    if let Err(e) = git::move_branch(
        repo,
        &branch,
        &previous_tip,
        &marker_commit,
        "leo: [CODEX-READY] handoff recorded",
    ) {
        return Err(Error::NotFinished {
            left: format!(
                "branch {branch} not moved to the recorded marker commit {marker_commit}"
            ),
            source: Box::new(e),
        });
    }
    Ok(Handoff {
        bundle_path: bundle_path.to_path_buf(),
        bundle,
        branch,
        marker_commit,
        base,
        head,
        merge_base,
        files: assembled.files.len(),
    })
}

/// Removes the bundle written for a handoff that did not happen: `err`, or, when the file
/// cannot be removed, [`Error::RollbackFailed`] naming it.
fn remove_bundle(bundle_path: &Path, err: Error) -> Error {
    match std::fs::remove_file(bundle_path) {
        Ok(()) => err,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => err,
        Err(source) => Error::RollbackFailed {
            error: Box::new(err),
            left: format!("the bundle {}", bundle_path.display()),
            source: Box::new(Error::Artifact(leo_artifact::Error::Io {
                context: format!("removing {}", bundle_path.display()),
                source,
            })),
        },
    }
}

/// A resolver that lists every package of each lockfile as it is, without running `cargo`
/// (for trees whose dependencies are not in a local Cargo cache, e.g. the demo's).
pub fn lockfile_resolver() -> leo_attest::sbom::Resolver {
    leo_attest::sbom::Resolver {
        cargo_resolution: leo_attest::sbom::CargoResolution::Lockfile,
        ..Default::default()
    }
}

/// The identity of an attestation key: the upper-case hex SHA-256 of its raw public key,
/// the same form as `leo_sign`'s raw-key fingerprints, so one key is one identity in every
/// lane.
pub fn key_identity(key: &leo_attest::PublicKey) -> Result<crate::text::Identity> {
    crate::text::Identity::new(leo_sign::Fingerprint::of_raw_public_key(key.raw()).as_str())
}
