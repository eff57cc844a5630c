//! The whole two-lane flow on embedded defaults (`leo demo`, `examples/dual_lane.rs`):
//!
//! 1. fresh local keys per role (builder Ed25519 attestation key, enforcer 30-day OpenPGP
//!    key, PLAN/LEAD/merge Ed25519 keys, one checkpoint signer per writing role), all
//!    different (the workflow refuses an identity reused across roles);
//! 2. a scratch git repository with a real change on `staging/codex-demo`;
//! 3. the builder lane ([`crate::builder::hand_off`]);
//! 4. the enforcer lane ([`crate::enforcer::EnforcerLane::enforce`]), Sigstore first (only
//!    with an OIDC token, probe deadline [`DEFAULT_PROBE_DEADLINE`]), else OpenPGP;
//! 5. PLAN: simulated gates and the five sub-checks from the facts ([`plan`]), the verdict;
//! 6. the merge gate, and `main` fast-forwarded to the applied commit;
//! 7. a second change whose bundle is tampered with after the handoff: refused, recorded;
//! 8. `leo audit verify` on the SQLite trail.
//!
//! Everything is left in the output directory: `repo/`, `keys/`, `artifact.tar.gz` and its
//! signature, `tampered.tar.gz`, `leo.db`, `summary.json`, `summary.md`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use leo_artifact::fsutil::write_bytes_atomically;
use leo_artifact::{PlanVerdict, ReadLimits};
use leo_sign::Signer;
use leo_store::{BuilderHandle, Location, PrNumber, Timestamp};

use crate::authz::Role;
use crate::builder::{BundleSpec, Handoff};
use crate::error::{Error, Result};
use crate::facts::{SupervisorReport, WorkflowConfig};
use crate::state::LabelState;
use crate::subcheck::Requirement;
use crate::text::{ChangeId, Line};
use crate::workflow::Workflow;

use keys::{Keys, actor, make_keys};

use super::signers::{DeadlineProbe, SigstoreUnavailable};
use super::sink::{RoleNoteSigners, StoreHandles, StoreSink};
use super::{EnforceRequest, EnforcerLane, Trust};

mod keys;
pub mod plan;
pub mod report;
pub mod scratch;

pub use super::signers::DEFAULT_PROBE_DEADLINE;
pub use report::{DemoReport, GateSummary, SubCheckSummary, TamperedSummary};

/// The builder id the demo's provenance names and its policy trusts.
pub const DEMO_BUILDER_ID: &str = "urn:leo:builder:codex";
/// The change that goes through to `merged`.
pub const CHANGE: &str = "PRD-42";
/// The change whose bundle is tampered with.
pub const TAMPERED_CHANGE: &str = "PRD-43";

/// An OIDC identity token (a bearer credential): `Debug` prints `IdToken(<redacted>)`, and
/// the text leaves only through [`IdToken::expose_secret`].
#[derive(Clone)]
pub struct IdToken(String);

impl IdToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        IdToken(token.into())
    }

    /// The token text (to hand to the Sigstore client only).
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for IdToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdToken(<redacted>)")
    }
}

impl std::str::FromStr for IdToken {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(IdToken::new(s))
    }
}

/// How to run the demo.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// The output directory (created; must be empty if it exists).
    pub out: PathBuf,
    /// An OIDC identity token for Sigstore keyless signing (`None`: OpenPGP fallback).
    pub sigstore_token: Option<IdToken>,
    /// The Sigstore reachability probe's deadline.
    pub probe_deadline: Duration,
}

impl DemoOptions {
    /// Defaults: no Sigstore token, [`DEFAULT_PROBE_DEADLINE`].
    pub fn new(out: impl Into<PathBuf>) -> Self {
        DemoOptions {
            out: out.into(),
            sigstore_token: None,
            probe_deadline: DEFAULT_PROBE_DEADLINE,
        }
    }
}

/// A progress line: which step, which lane, what happened.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Stage {
    /// 1-based step number (of [`STEPS`]).
    pub step: u8,
    /// The lane or role acting.
    pub lane: &'static str,
    /// One line.
    pub message: String,
}

/// Number of steps the demo reports.
pub const STEPS: u8 = 8;

/// Timestamps that never go backwards (the workflow refuses events dated before the last).
#[derive(Debug, Default)]
struct Clock {
    last: i64,
}

impl Clock {
    fn now(&mut self) -> Timestamp {
        self.at_least(Timestamp::now())
    }

    fn at_least(&mut self, t: Timestamp) -> Timestamp {
        self.last = t.unix_micros().max(self.last.saturating_add(1));
        Timestamp::from_unix_micros(self.last)
    }
}

pub(super) fn io(context: String) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Artifact(leo_artifact::Error::Io { context, source })
}

fn prepare_out(out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).map_err(io(format!("creating {}", out.display())))?;
    let mut entries = std::fs::read_dir(out).map_err(io(format!("reading {}", out.display())))?;
    if entries.next().is_some() {
        return Err(Error::Artifact(leo_artifact::Error::WouldOverwrite {
            path: out.to_path_buf(),
        }));
    }
    Ok(())
}

/// Runs the demo (see the module documentation); `progress` gets one [`Stage`] per event.
pub fn run_demo(opts: &DemoOptions, progress: &mut dyn FnMut(&Stage)) -> Result<DemoReport> {
    let mut say = |step: u8, lane: &'static str, message: String| {
        progress(&Stage {
            step,
            lane,
            message,
        });
    };
    let out = &opts.out;
    prepare_out(out)?;
    let mut clock = Clock::default();

    // 1. Keys.
    let keys = make_keys(&out.join("keys"))?;
    for (role, id) in &keys.identities {
        say(1, "setup", format!("{role} acts as {id}"));
    }

    // 2. Repository.
    let repo = out.join("repo");
    let scratch = scratch::create(&repo)?;
    say(
        2,
        "setup",
        format!(
            "scratch repository {}: {} on main, change {} on {}",
            repo.display(),
            scratch.base.short(12),
            scratch.head.short(12),
            scratch::STAGING
        ),
    );

    // The audit trail.
    let database = out.join("leo.db");
    let loc = Location::Sqlite(database.clone());
    let verifiers = keys.notes.verifiers();
    let handles = StoreHandles::open(
        &loc,
        RoleNoteSigners {
            enforcer: leo_store::NoteSigner::from_secret_key(&keys.notes.enforcer.secret_key())?,
            supervisor: leo_store::NoteSigner::from_secret_key(
                &keys.notes.supervisor.secret_key(),
            )?,
            lead: leo_store::NoteSigner::from_secret_key(&keys.notes.lead.secret_key())?,
            system: leo_store::NoteSigner::from_secret_key(&keys.notes.system.secret_key())?,
        },
    )?;
    let mut sink = StoreSink::new(handles, PrNumber::new(42)?);
    let (codex, claude, plan, system) = (
        actor(&keys, Role::Codex)?,
        actor(&keys, Role::ClaudeExec)?,
        actor(&keys, Role::Plan)?,
        actor(&keys, Role::System)?,
    );

    // 3. Builder.
    let change: ChangeId = CHANGE.parse()?;
    let mut workflow = Workflow::start(
        change.clone(),
        WorkflowConfig::default(),
        &codex,
        clock.now(),
        &mut sink,
    )?;
    let repository = format!("file://{}", repo.display());
    let spec = |head: &str| BundleSpec {
        base: scratch::MAIN.into(),
        head: head.into(),
        builder_id: DEMO_BUILDER_ID.into(),
        repository: repository.clone(),
        supplier: "LEO demo".into(),
        name: "hello".into(),
        started_on: time::OffsetDateTime::now_utc(),
        created_at: None,
        reproducible: false,
        // The scratch crate's dependency is not in any local Cargo cache, and `cargo
        // metadata --offline` would need it: the SBOM lists Cargo.lock as it is.
        sbom_resolver: crate::builder::lockfile_resolver(),
        sbom: None,
    };
    let bundle_path = out.join("artifact.tar.gz");
    let handoff = crate::builder::hand_off(
        &repo,
        &spec(scratch::STAGING),
        &keys.builder,
        &bundle_path,
        "Print a number",
        &mut workflow,
        &codex,
        clock.now(),
        &mut sink,
    )?;
    say(
        3,
        "builder",
        format!(
            "bundle {} ({} files), SBOM, signed SLSA v0.2 attestation; [CODEX-READY:{}] on {} → {}",
            bundle_path.display(),
            handoff.files,
            handoff.bundle,
            handoff.branch,
            workflow.state()
        ),
    );

    // 4. Enforcer.
    let trust = Trust::builder(keys.builder.public_key().clone(), DEMO_BUILDER_ID);
    let keyless;
    let unavailable;
    let preferred: &dyn Signer = match &opts.sigstore_token {
        Some(token) => {
            let services =
                leo_sign::sigstore::KeylessSigner::production_services().map_err(|e| {
                    Error::SigningFailed {
                        backend: leo_sign::Backend::Sigstore,
                        source: e.into(),
                    }
                })?;
            let signer = leo_sign::sigstore::KeylessSigner::new(services, token.expose_secret())
                .map_err(|e| Error::SigningFailed {
                    backend: leo_sign::Backend::Sigstore,
                    source: e.into(),
                })?;
            keyless = DeadlineProbe::new(signer, opts.probe_deadline);
            &keyless
        }
        None => {
            unavailable = SigstoreUnavailable {
                reason: "no OIDC identity token for keyless signing (SIGSTORE_ID_TOKEN unset)"
                    .into(),
            };
            &unavailable
        }
    };
    let lane = EnforcerLane {
        actor: claude.clone(),
        trust: &trust,
        preferred: Some(preferred),
        fallback: &keys.enforcer,
    };
    let signature_path = out.join("artifact.tar.gz.sig");
    let enforced = lane.enforce(
        &EnforceRequest {
            repo: &repo,
            bundle_path: &bundle_path,
            feature_branch: "feature/demo",
            summary: "Print a number",
            signature_path: Some(&signature_path),
        },
        &mut workflow,
        clock.now(),
        &mut sink,
    )?;
    let sel = &enforced.signature.selection;
    say(
        4,
        "enforcer",
        format!(
            "verified digest, attestation ({}), SBOM ({}/{} rules); signed with {}{}; [CLAUDE-APPLIED] {} on {} (tree equals head: {}) → {}",
            enforced.builder_id,
            enforced.sbom_rules.0,
            enforced.sbom_rules.1,
            sel.backend,
            sel.fallback_reason
                .as_deref()
                .map(|r| format!(" (fallback: {r})"))
                .unwrap_or_default(),
            enforced.head.short(12),
            enforced.branch,
            enforced
                .tree_matches_head
                .map_or("unknown", |b| if b { "yes" } else { "no" }),
            workflow.state()
        ),
    );

    // 5. PLAN.
    let bundle = leo_artifact::read_bundle_file(&bundle_path, &ReadLimits::default())?;
    let audit_ok = || {
        BuilderHandle::open(&loc)
            .and_then(|mut r| r.verify(&verifiers))
            .is_ok()
    };
    let facts = plan::GateFacts {
        audit_ok: &audit_ok,
        enforced: &enforced,
        bundle: &bundle,
        trust: &trust,
    };
    let runs = plan::run_gates(&change, &facts, &mut || clock.now())?;
    let mut gates = Vec::new();
    for (run, stand_in) in &runs {
        let at = clock.at_least(run.finished_at().unwrap_or(run.started_at()));
        workflow.record_gate_run(&plan, run.clone(), at, &mut sink)?;
        gates.push(GateSummary::of(run, *stand_in));
        say(
            5,
            "plan",
            format!(
                "gate {:?}: {:?} in {} ms (simulated: no CI server)",
                run.context().as_str(),
                run.status(),
                run.duration().map_or(0, |d| d.as_millis())
            ),
        );
    }
    let sub_checks = plan::sub_checks(
        &enforced,
        audit_ok(),
        &workflow.config().required_checks,
        workflow.gate_runs(),
    )?;
    let report = SupervisorReport {
        sub_checks,
        requirements: vec![Requirement {
            id: Line::new(
                "requirement",
                "PRD-42: hello prints a number with the locked itoa crate",
            )?,
            met: enforced.tree_matches_head == Some(true),
        }],
        resolution_rounds: 0,
    };
    let verdict = workflow.issue_verdict(&plan, report, clock.now(), &mut sink)?;
    let record = workflow.verdict().cloned();
    say(
        5,
        "plan",
        format!(
            "PLAN-SUPERVISOR: {verdict} (aggregate {}) → {}",
            record
                .as_ref()
                .map_or(String::new(), |r| r.assessment.aggregate.to_string()),
            workflow.state()
        ),
    );

    // 6. Merge.
    let mut merge_authority = None;
    let mut main_fast_forwarded = false;
    if verdict == PlanVerdict::Pass {
        let authority = workflow.merge(&system, &handoff.bundle, clock.now(), &mut sink)?;
        main_fast_forwarded = super::git::fast_forward(&repo, scratch::MAIN, &enforced.head)?;
        merge_authority = Some(format!("{authority:?}"));
        say(
            6,
            "system",
            format!(
                "merge gate: {authority:?} for bundle {}; main fast-forwarded: {main_fast_forwarded} → {}",
                handoff.bundle,
                workflow.state()
            ),
        );
    } else {
        say(6, "system", format!("no merge: verdict {verdict}"));
    }

    // 7. Tampered bundle.
    let tampered = run_tampered(
        &repo, &scratch, &keys, &lane, &spec, out, &mut clock, sink, &loc,
    )?;
    say(
        7,
        "enforcer",
        format!(
            "tampered bundle (byte {} flipped after [CODEX-READY]) refused: {} → {}",
            tampered.flipped_byte_at, tampered.error, tampered.state
        ),
    );

    // 8. Audit verify.
    let verify = BuilderHandle::open(&loc)?.verify(&verifiers)?;
    say(
        8,
        "audit",
        format!(
            "leo audit verify: {} entries, {} checkpoints, root {}",
            verify.entries, verify.checkpoints, verify.root
        ),
    );

    let ok = workflow.state() == LabelState::Merged
        && tampered.state == LabelState::NeedsRevision
        && tampered.refusal_recorded;
    let report = DemoReport {
        ok,
        gates_note: report::GATES_NOTE,
        out: out.clone(),
        repo,
        database,
        identities: keys
            .identities
            .iter()
            .map(|(r, i)| (r.as_str().to_owned(), i.as_str().to_owned()))
            .collect(),
        handoff,
        enforced,
        gates,
        verdict: record.as_ref().map(|v| v.verdict().to_string()),
        aggregate: record.as_ref().map(|v| v.assessment.aggregate.to_string()),
        sub_checks: report::sub_check_summaries(record.as_ref()),
        verdict_record: record,
        merge_authority,
        main_fast_forwarded,
        final_state: workflow.state(),
        tampered,
        audit: report::AuditSummary::of(verify, keys.trust_files.clone()),
    };
    report.write(out)?;
    Ok(report)
}

/// Step 7: a second change whose handed-off bundle is modified before the enforcer reads it.
#[allow(clippy::too_many_arguments)]
fn run_tampered(
    repo: &Path,
    scratch: &scratch::Scratch,
    keys: &Keys,
    lane: &EnforcerLane<'_>,
    spec: &dyn Fn(&str) -> BundleSpec,
    out: &Path,
    clock: &mut Clock,
    sink: StoreSink,
    loc: &Location,
) -> Result<TamperedSummary> {
    let mut sink = StoreSink::new(sink.into_handles(), PrNumber::new(43)?);
    let codex = actor(keys, Role::Codex)?;
    let change: ChangeId = TAMPERED_CHANGE.parse()?;
    let mut workflow = Workflow::start(
        change,
        WorkflowConfig::default(),
        &codex,
        clock.now(),
        &mut sink,
    )?;
    let branch = "staging/codex-demo-tampered";
    scratch::branch_at(repo, branch, &scratch.head)?;
    let path = out.join("tampered.tar.gz");
    let handoff: Handoff = crate::builder::hand_off(
        repo,
        &spec(branch),
        &keys.builder,
        &path,
        "Print a number (to be tampered with)",
        &mut workflow,
        &codex,
        clock.now(),
        &mut sink,
    )?;
    let mut bytes = std::fs::read(&path).map_err(io(format!("reading {}", path.display())))?;
    let at = bytes.len() / 2;
    if let Some(b) = bytes.get_mut(at) {
        *b ^= 0x01;
    }
    write_bytes_atomically(&path, &bytes)?;
    let result = lane.enforce(
        &EnforceRequest {
            repo,
            bundle_path: &path,
            feature_branch: "feature/demo-tampered",
            summary: "Print a number (tampered)",
            signature_path: None,
        },
        &mut workflow,
        clock.now(),
        &mut sink,
    );
    let (error_kind, error) = match &result {
        Ok(_) => ("accepted", "the tampered bundle was accepted".to_owned()),
        Err(e) => (report::error_kind(e), e.to_string()),
    };
    // Streamed (memory stays flat whatever the trail holds), stopping at the first match.
    let mut recorded = false;
    BuilderHandle::open(loc)?.for_each_of_kind(
        leo_store::RecordKind::Refusal,
        Timestamp::from_unix_micros(0),
        Timestamp::from_unix_micros(i64::MAX),
        |e| {
            recorded = matches!(&e.event.record, leo_store::Record::Refusal(r) if r.change.as_str() == TAMPERED_CHANGE);
            if recorded {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        },
    )?;
    // The flipped byte must be caught by the digest check, and by nothing else.
    let refused_by_digest = matches!(result, Err(Error::HandoffDigestMismatch { .. }));
    let refusal_recorded = refused_by_digest
        && recorded
        && workflow.state() == LabelState::NeedsRevision
        && !super::git::branch_exists(repo, "feature/demo-tampered")?;
    Ok(TamperedSummary {
        change: TAMPERED_CHANGE.into(),
        bundle: handoff.bundle,
        path,
        flipped_byte_at: at,
        error_kind,
        error,
        state: workflow.state(),
        refusal_recorded,
    })
}
