//! The enforcer lane (Claude/EXEC, SOP §1.2, §4.1 steps 3–6), with real I/O: verify the
//! handed-off bundle, sign it (Sigstore when reachable, else OpenPGP: SOP §10.3), apply the
//! patch with libgit2 onto a new `feature/*` branch from the merge-base, commit
//! `[CLAUDE-APPLIED:<hash>]`, and move the [`Workflow`] on with verified facts.
//!
//! The order is chosen so that nothing is half-written:
//!
//! 1. refuse early what changes nothing: wrong state, a branch name outside `feature/*`, an
//!    existing feature branch;
//! 2. verify ([`verify::verify_handoff`]); a failed check is a bundle refusal
//!    ([`Workflow::refuse_bundle`] → `needs_revision`, the [`BundleCheck`] of
//!    [`bundle_check`] and the reason recorded) and its error;
//! 3. separation: the enforcer's identity, the raw-key fingerprint of every Ed25519 or
//!    ECDSA P-256 key of its OpenPGP certificate (the same material as a builder key is the
//!    same key), and the identity its signature was made with, must not be the builder's
//!    (a reused key is refused and the refusal recorded). RSA material is never a builder
//!    raw key of the same kind, so it has no raw form to compare and is not reused;
//! 4. sign the exact verified bytes;
//! 5. apply on the merge-base tree in memory and write the commit, unreferenced; a conflict,
//!    or a tree that is not the builder's head tree ([`Error::TreeMismatch`]), is a bundle
//!    refusal;
//! 6. the signature is written to `<path>.pending`; [`Workflow::apply`] records the
//!    transition, the `[CLAUDE-APPLIED]` handoff and the signature record; if it is refused
//!    or cannot be recorded, the pending signature is removed (no branch exists yet);
//! 7. only then is the branch created and the signature renamed into place; a failure
//!    there is [`Error::NotFinished`] naming what is missing.

use std::path::{Path, PathBuf};

use leo_artifact::{CommitSha, Marker, Member, Sha256Digest};
use leo_sign::{BackendSelection, PgpKey, SignatureReport, Signer, SignerIdentity, select_signer};
use leo_store::{BundleCheck, Role, Timestamp};

use self::git as gitrepo;
use crate::audit::{AuditEvent, AuditSink, MemorySink, Operation, Refusal};
use crate::authz::Actor;
use crate::error::{Error, Result};
use crate::facts::{Applied, BundleRefusal};
use crate::state::LabelState;
use crate::text::{Identity, Line};
use crate::workflow::Workflow;

pub mod demo;
pub mod git;
pub mod signers;
pub mod sink;
pub mod verify;

pub use sink::{StoreHandles, StoreSink};
pub use verify::{Trust, VerifiedHandoff, verify_handoff};

/// Longest refusal reason kept from an error message, in bytes.
pub const MAX_REASON_LEN: usize = 1024;

/// A record that belongs with the next matching transition: the sink writes it in the same
/// batch, so the handoff, the signature and the label change are recorded together or not
/// at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Staged {
    /// Goes with `codex_building → claude_enforcing`.
    CodexReady {
        /// The bundle hash.
        bundle: Sha256Digest,
        /// The marker commit.
        commit: CommitSha,
        /// The `staging/codex-*` branch.
        branch: String,
    },
    /// Goes with `claude_enforcing → gates_passing`.
    ClaudeApplied {
        /// The bundle hash.
        bundle: Sha256Digest,
        /// The marker commit (the head the gates run on).
        commit: CommitSha,
        /// The `feature/*` branch.
        branch: String,
    },
    /// The enforcer's signature; goes with `claude_enforcing → gates_passing`.
    Signature(Box<SignatureFacts>),
}

/// What the enforcer's signing step established.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SignatureFacts {
    /// The bundle signed.
    pub bundle: Sha256Digest,
    /// Which backend and why (`fallback_reason` set when Sigstore was not used).
    pub selection: BackendSelection,
    /// The backend's report: key or identity, time, algorithms.
    pub report: SignatureReport,
    /// SHA-256 of the detached signature bytes.
    pub signature_digest: Sha256Digest,
}

/// An [`AuditSink`] that can also hold [`Staged`] records for the next transition.
pub trait FlowSink: AuditSink {
    /// Holds `record` until the transition it belongs with is recorded.
    fn stage(&mut self, record: Staged);
    /// Drops every held record (the operation they belonged with did not happen).
    fn unstage(&mut self);
    /// This sink as a plain [`AuditSink`].
    fn as_audit(&mut self) -> &mut dyn AuditSink;
}

/// In memory, staged records are not kept: the transitions carry the same facts.
impl FlowSink for MemorySink {
    fn stage(&mut self, _record: Staged) {}
    fn unstage(&mut self) {}
    fn as_audit(&mut self) -> &mut dyn AuditSink {
        self
    }
}

/// The identity a signature report establishes: the primary key fingerprint, or the
/// keyless subject and issuer.
///
/// # Errors
/// [`Error::UnknownSignerIdentity`] for a form of signer this version does not know (its
/// identity could not be compared with the other lanes').
pub fn identity_of(signer: &SignerIdentity) -> Result<Identity> {
    match signer {
        SignerIdentity::Key { primary, .. } => Identity::new(primary.as_str()),
        SignerIdentity::Identity { subject, issuer } => {
            Identity::new(&format!("{subject} ({issuer})"))
        }
        _ => Err(Error::UnknownSignerIdentity),
    }
}

/// The enforcer lane: its actor, what it trusts, and its signers.
pub struct EnforcerLane<'a> {
    /// The Claude/EXEC actor (identity: its local signing key's fingerprint).
    pub actor: Actor,
    /// Trusted builder keys and policy.
    pub trust: &'a Trust,
    /// Sigstore, when configured (probed before use).
    pub preferred: Option<&'a dyn Signer>,
    /// The OpenPGP fallback (SOP §10.3); its key material is compared with the builder's
    /// (see [`EnforcerLane::enforce`]).
    pub fallback: &'a PgpKey,
}

impl std::fmt::Debug for EnforcerLane<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnforcerLane")
            .field("actor", &self.actor)
            .field("preferred", &self.preferred.map(|s| s.backend()))
            .field("fallback", &self.fallback.fingerprint())
            .finish_non_exhaustive()
    }
}

/// Where the enforcer works and what it writes.
#[derive(Clone, Debug)]
pub struct EnforceRequest<'a> {
    /// The repository (with the merge-base commit).
    pub repo: &'a Path,
    /// The handed-off `artifact.tar.gz`.
    pub bundle_path: &'a Path,
    /// The `feature/*` branch to create.
    pub feature_branch: &'a str,
    /// The commit summary after the marker.
    pub summary: &'a str,
    /// Where to write the detached signature (`None`: not written).
    pub signature_path: Option<&'a Path>,
}

/// What the enforcer did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Enforced {
    /// The bundle.
    pub bundle: Sha256Digest,
    /// The identity of the builder key that signed the attestation.
    pub builder: Identity,
    /// The builder id the provenance policy accepted.
    pub builder_id: String,
    /// How many SBOM rules passed, of how many.
    pub sbom_rules: (usize, usize),
    /// The signing step.
    pub signature: SignatureFacts,
    /// Where the detached signature was written.
    pub signature_path: Option<PathBuf>,
    /// The `feature/*` branch.
    pub branch: String,
    /// The `[CLAUDE-APPLIED:<hash>]` commit.
    pub head: CommitSha,
    /// The applied tree.
    pub tree: String,
    /// The builder's head commit (from the manifest).
    pub builder_head: CommitSha,
    /// Whether the applied tree equals the builder's head tree (`None`: the repository does
    /// not have the head commit).
    pub tree_matches_head: Option<bool>,
}

/// Where the detached signature waits until the apply is recorded: beside `path`, so the
/// rename that publishes it stays on one file system.
fn pending_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".pending");
    path.with_file_name(name)
}

fn io_error(context: String, source: std::io::Error) -> Error {
    Error::Artifact(leo_artifact::Error::Io { context, source })
}

/// Removes the pending signature of an apply that did not happen: `err`, or, when the
/// file cannot be removed, [`Error::RollbackFailed`] naming it.
fn discard(pending: Option<&Path>, err: Error) -> Error {
    let Some(p) = pending else {
        return err;
    };
    match std::fs::remove_file(p) {
        Ok(()) => err,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => err,
        Err(source) => Error::RollbackFailed {
            error: Box::new(err),
            left: format!("the pending signature {}", p.display()),
            source: Box::new(io_error(format!("removing {}", p.display()), source)),
        },
    }
}

/// The bundle check an error is the failure of: `Some` for a verdict on the bundle
/// (→ `needs_revision`, recorded as a refusal naming the check), `None` for an error about
/// the environment.
pub fn bundle_check(e: &Error) -> Option<BundleCheck> {
    match e {
        Error::HandoffDigestMismatch { .. } => Some(BundleCheck::Digest),
        Error::BundleRejected { .. } => Some(BundleCheck::Contents),
        Error::AttestationRejected { .. } => Some(BundleCheck::Attestation),
        Error::SbomUnreadable { .. } | Error::SbomNotCompliant { .. } => Some(BundleCheck::Sbom),
        Error::PatchConflict { .. } | Error::TreeMismatch { .. } => Some(BundleCheck::Apply),
        _ => None,
    }
}

/// `s` as a recordable single line: control characters become spaces, cut at
/// [`MAX_REASON_LEN`] bytes on a character boundary.
pub fn reason_line(s: &str) -> Result<Line> {
    let mut out = String::new();
    for c in s.chars() {
        if out.len() + c.len_utf8() > MAX_REASON_LEN {
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    Line::new("reason", &out)
}

impl EnforcerLane<'_> {
    /// Runs the enforcer's step (see the module documentation) for the workflow's handed-off
    /// bundle.
    pub fn enforce(
        &self,
        req: &EnforceRequest<'_>,
        workflow: &mut Workflow,
        at: Timestamp,
        sink: &mut dyn FlowSink,
    ) -> Result<Enforced> {
        let state = workflow.state();
        let hash = match (state, workflow.bundle()) {
            (LabelState::ClaudeEnforcing, Some(h)) => *h,
            _ => {
                return Err(Error::WrongState {
                    operation: Operation::Apply,
                    state,
                });
            }
        };
        if !req.feature_branch.starts_with(gitrepo::FEATURE_PREFIX) {
            return Err(Error::BranchNotAllowed {
                branch: req.feature_branch.to_owned(),
                prefix: gitrepo::FEATURE_PREFIX,
            });
        }
        if gitrepo::branch_exists(req.repo, req.feature_branch)? {
            return Err(Error::BranchExists {
                branch: req.feature_branch.to_owned(),
            });
        }
        let verified = match verify_handoff(req.bundle_path, &hash, self.trust) {
            Ok(v) => v,
            Err(e) => return Err(self.refuse(workflow, hash, e, at, sink)),
        };
        self.check_separation(workflow, &self.actor.identity, &verified.builder, at, sink)?;
        // The same key pair in another format is the same key: compare the material of the
        // OpenPGP key with the builder's raw key.
        for material in self.fallback.raw_key_fingerprints() {
            let material = Identity::new(material.as_str())?;
            self.check_separation(workflow, &material, &verified.builder, at, sink)?;
        }

        let choice = select_signer(self.preferred, self.fallback);
        let backend = choice.selection.backend;
        let signed = choice
            .signer
            .sign(&mut verified.bytes.as_slice())
            .map_err(|source| Error::SigningFailed { backend, source })?;
        let signed_as = identity_of(&signed.report.signer)?;
        self.check_separation(workflow, &signed_as, &verified.builder, at, sink)?;
        let signature = SignatureFacts {
            bundle: hash,
            selection: choice.selection,
            report: signed.report,
            signature_digest: Sha256Digest::of(&signed.signature.bytes),
        };

        let manifest = &verified.bundle.manifest;
        let message = format!(
            "{}\n\nSigned with {} by {}.{}",
            Marker::ClaudeApplied(hash).commit_message(req.summary),
            signature.selection.backend,
            signed_as,
            signature
                .selection
                .fallback_reason
                .as_deref()
                .map(|r| format!("\nFallback: {r}"))
                .unwrap_or_default()
        );
        // The commit is written unreferenced; the branch is created once the apply is
        // recorded.
        let applied = match gitrepo::apply_patch(
            req.repo,
            &manifest.merge_base,
            verified.bundle.member(Member::Patch),
            req.feature_branch,
            &message,
            Role::ClaudeExec,
        ) {
            Ok(a) => a,
            Err(e) => return Err(self.refuse(workflow, hash, e, at, sink)),
        };
        let tree_matches_head = match gitrepo::tree_of(req.repo, &manifest.head)? {
            Some(expected) if expected != applied.tree => {
                let e = Error::TreeMismatch {
                    expected,
                    actual: applied.tree.clone(),
                };
                return Err(self.refuse(workflow, hash, e, at, sink));
            }
            Some(_) => Some(true),
            None => None,
        };
        let pending = match req.signature_path {
            Some(path) => {
                let pending = pending_path(path);
                leo_artifact::fsutil::write_bytes_atomically(&pending, &signed.signature.bytes)?;
                Some(pending)
            }
            None => None,
        };

        sink.stage(Staged::ClaudeApplied {
            bundle: hash,
            commit: applied.commit.clone(),
            branch: req.feature_branch.to_owned(),
        });
        sink.stage(Staged::Signature(Box::new(signature.clone())));
        let facts = Applied {
            bundle: hash,
            head: applied.commit.clone(),
        };
        if let Err(e) = workflow.apply(&self.actor, facts, at, sink.as_audit()) {
            // Not recorded, so not applied: no branch was created, no signature published.
            sink.unstage();
            return Err(discard(pending.as_deref(), e));
        }
        // Recorded: publish the branch and the signature.
        if let Err(e) = gitrepo::create_branch(req.repo, req.feature_branch, &applied.commit) {
            return Err(Error::NotFinished {
                left: format!(
                    "branch {} not created at the recorded commit {}{}",
                    req.feature_branch,
                    applied.commit,
                    pending
                        .as_deref()
                        .map(|p| format!("; the signature is still at {}", p.display()))
                        .unwrap_or_default()
                ),
                source: Box::new(e),
            });
        }
        if let (Some(pending), Some(path)) = (pending.as_deref(), req.signature_path) {
            if let Err(source) = std::fs::rename(pending, path) {
                return Err(Error::NotFinished {
                    left: format!(
                        "the signature is at {}, not at {}",
                        pending.display(),
                        path.display()
                    ),
                    source: Box::new(io_error(format!("renaming {}", pending.display()), source)),
                });
            }
        }
        Ok(Enforced {
            bundle: hash,
            builder: verified.builder,
            builder_id: verified.provenance.builder_id,
            sbom_rules: (
                verified.sbom.rules.iter().filter(|r| r.passed).count(),
                verified.sbom.rules.len(),
            ),
            signature,
            signature_path: req.signature_path.map(Path::to_path_buf),
            branch: req.feature_branch.to_owned(),
            head: applied.commit,
            tree: applied.tree,
            builder_head: manifest.head.clone(),
            tree_matches_head,
        })
    }

    /// A failed check on the bundle: `refuse_bundle` (→ `needs_revision`, the check and the
    /// reason recorded), then the check's error. Errors about the environment pass through
    /// unrecorded.
    fn refuse(
        &self,
        workflow: &mut Workflow,
        bundle: Sha256Digest,
        err: Error,
        at: Timestamp,
        sink: &mut dyn FlowSink,
    ) -> Error {
        sink.unstage();
        let Some(check) = bundle_check(&err) else {
            return err;
        };
        let reason = match reason_line(&err.to_string()) {
            Ok(r) => r,
            Err(e) => return e,
        };
        match workflow.refuse_bundle(
            &self.actor,
            BundleRefusal {
                bundle,
                check,
                reason,
            },
            at,
            sink.as_audit(),
        ) {
            Ok(()) => err,
            Err(e) => e,
        }
    }

    /// Refuses (and records the refusal of) an enforcer identity that is the builder's.
    fn check_separation(
        &self,
        workflow: &Workflow,
        enforcer: &Identity,
        builder: &Identity,
        at: Timestamp,
        sink: &mut dyn FlowSink,
    ) -> Result<()> {
        if enforcer != builder {
            return Ok(());
        }
        sink.unstage();
        let err = Error::IdentityReused {
            identity: enforcer.as_str().to_owned(),
            bound_to: Role::Codex,
            used_as: Role::ClaudeExec,
        };
        let refusal = Refusal {
            change: workflow.id().clone(),
            actor: Actor::new(Role::ClaudeExec, enforcer.clone()),
            operation: Operation::Apply,
            at,
            reason: err.to_string(),
        };
        match sink.record(&[AuditEvent::Refusal(refusal)]) {
            Ok(()) => Err(err),
            Err(source) => Err(Error::RefusalNotRecorded {
                refusal: Box::new(err),
                source,
            }),
        }
    }
}
