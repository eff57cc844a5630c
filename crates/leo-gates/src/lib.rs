//! # leo-gates
//!
//! The dual-lane SOP's process as code: the §5 accountability matrix ([`authorize`]), the §3
//! label state machine ([`LabelState`], [`TRANSITIONS`]), required checks ([`RequiredChecks`]),
//! PLAN verdicts ([`verdict`]), LEAD decisions ([`lead`]) and the merge gate
//! ([`merge_gate`]), tied together by the [`Workflow`] aggregate, which exposes only legal
//! operations and writes every transition and refusal to an [`AuditSink`] before it takes
//! effect. Those modules are pure logic over typed, already-verified facts; times are passed
//! in, never read from a clock.
//!
//! The lanes' real work lives in two I/O modules that feed them: [`builder`] (a git change →
//! `artifact.tar.gz` with SBOM and signed attestation, `[CODEX-READY:<hash>]`) and
//! [`enforcer`] (verify, sign through `leo_sign::select_signer`, apply with libgit2 onto
//! `feature/*`, `[CLAUDE-APPLIED:<hash>]`, and `enforcer::sink::StoreSink`, which records
//! everything in `leo-store`); `enforcer::demo` is `leo demo`. [`history`] audits a git
//! history against SOP §7.1.
//!
//! ```
//! use leo_gates::*;
//! use leo_store::Timestamp;
//!
//! let t = |s: i64| Timestamp::from_unix_micros(s * 1_000_000);
//! let who = |role, key: &str| Actor::new(role, Identity::new(key).unwrap());
//! let (codex, claude, plan, system) = (
//!     who(Role::Codex, "builder-key"),
//!     who(Role::ClaudeExec, "enforcer-key"),
//!     who(Role::Plan, "supervisor-key"),
//!     who(Role::System, "merge-bot"),
//! );
//! let bundle = leo_artifact::Sha256Digest::of(b"artifact.tar.gz bytes");
//! let head: leo_artifact::CommitSha = "b".repeat(40).parse()?;
//! let mut audit = MemorySink::default();
//!
//! let mut change = Workflow::start("PRD-42".parse()?, WorkflowConfig::default(), &codex, t(0), &mut audit)?;
//! change.handoff(&codex, CodexReady { bundle, commit: "a".repeat(40).parse()? }, t(1), &mut audit)?;
//! // The builder cannot do the enforcer's part (SOP §5):
//! let refused = change.apply(&codex, Applied { bundle, head: head.clone() }, t(2), &mut audit);
//! assert!(matches!(refused, Err(Error::NotAuthorized { role: Role::Codex, .. })));
//! change.apply(&claude, Applied { bundle, head: head.clone() }, t(2), &mut audit)?;
//!
//! // PLAN records the four SOP §3 required checks passing on the head commit...
//! for (context, _) in SOP_REQUIRED_CHECKS {
//!     let context = Line::new("context", &context.replace('*', "42"))?;
//!     let run = GateRun::new(context, head.clone(), GateStatus::Success, t(3), Some(t(60)))?;
//!     change.record_gate_run(&plan, run, t(61), &mut audit)?;
//! }
//! // ...and issues its verdict from the five sub-checks.
//! let sub_checks = SubChecks::new(
//!     SubCheckKind::ALL.map(|k| SubCheckResult::clean(k, Confidence::percent(90).unwrap())).to_vec(),
//! )?;
//! let report = SupervisorReport { sub_checks, requirements: vec![], resolution_rounds: 0 };
//! assert_eq!(change.issue_verdict(&plan, report, t(62), &mut audit)?, leo_artifact::PlanVerdict::Pass);
//!
//! // The merge gate: PASS for this bundle, every required check passed on the head commit.
//! assert_eq!(change.merge(&system, &bundle, t(63), &mut audit)?, MergeAuthority::PlanPass);
//! assert_eq!(change.state(), LabelState::Merged);
//! assert_eq!(audit.refusals().count(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod audit;
pub mod authz;
pub mod builder;
pub mod checks;
pub mod confidence;
pub mod enforcer;
pub mod error;
pub mod facts;
pub mod history;
pub mod lead;
pub mod merge;
pub mod state;
pub mod subcheck;
pub mod text;
mod timefmt;
pub mod verdict;
pub mod workflow;

pub use audit::{AuditEvent, AuditSink, MemorySink, Operation, Refusal};
pub use authz::{Action, Actor, Role, Separation, authorize};
pub use checks::{
    CheckResult, CheckState, ChecksReport, GateRun, GateStatus, RequiredCheck, RequiredChecks,
    SOP_REQUIRED_CHECKS, glob_match,
};
pub use confidence::Confidence;
pub use enforcer::{
    EnforceRequest, Enforced, EnforcerLane, FlowSink, Staged, StoreHandles, StoreSink, Trust,
};
pub use error::{Error, Result, SinkError};
pub use facts::{Applied, BundleRefusal, CodexReady, SupervisorReport, WorkflowConfig};
pub use history::{HistoryOptions, HistoryReport, Violation, audit_history};
pub use lead::{LeadDecision, LeadDecisionKind, LeadRecord, Priority};
pub use merge::{MergeAuthority, MergeEvidence, merge_gate, merge_order};
pub use state::{Edge, LabelState, TRANSITIONS, Transition, check_transition};
pub use subcheck::{
    Finding, Requirement, Severity, SubCheckKind, SubCheckResult, SubChecks, Weights,
};
pub use text::{ChangeId, Identity, Line};
pub use verdict::{
    Assessment, GateFacts, GatesStatus, VerdictInput, VerdictPolicy, VerdictReason, VerdictRecord,
    evaluate,
};
pub use workflow::Workflow;
