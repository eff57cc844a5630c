//! The demo's result: `summary.json` (this [`DemoReport`] as JSON) and `summary.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use leo_artifact::Sha256Digest;
use leo_artifact::fsutil::write_bytes_atomically;
use leo_store::VerifyReport;

use super::plan::StandIn;
use crate::builder::Handoff;
use crate::checks::{GateRun, GateStatus};
use crate::enforcer::Enforced;
use crate::error::{Error, Result};
use crate::state::LabelState;
use crate::verdict::VerdictRecord;

/// What the demo says about the gates, once, wherever it prints them.
pub const GATES_NOTE: &str = "Gates are simulated: there is no CI server, so each SOP §3 required check is a local stand-in recorded as a gate run with its measured duration.";

/// One simulated required check.
#[derive(Clone, Debug, serde::Serialize)]
pub struct GateSummary {
    /// The context.
    pub context: String,
    /// Its status.
    pub status: GateStatus,
    /// Its measured duration in milliseconds.
    pub duration_ms: u128,
    /// What stood in for it.
    pub stand_in: StandIn,
}

impl GateSummary {
    /// From a run.
    pub fn of(run: &GateRun, stand_in: StandIn) -> Self {
        GateSummary {
            context: run.context().as_str().to_owned(),
            status: run.status(),
            duration_ms: run.duration().map_or(0, |d| d.as_millis()),
            stand_in,
        }
    }
}

/// One PLAN sub-check.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SubCheckSummary {
    /// Which.
    pub kind: String,
    /// Its confidence.
    pub confidence: String,
    /// Its findings, `severity: summary`.
    pub findings: Vec<String>,
}

/// The tampered run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TamperedSummary {
    /// Its change id.
    pub change: String,
    /// The hash the builder handed off.
    pub bundle: Sha256Digest,
    /// The modified file.
    pub path: PathBuf,
    /// Which byte was flipped.
    pub flipped_byte_at: usize,
    /// The error variant the enforcer returned.
    pub error_kind: &'static str,
    /// Its message.
    pub error: String,
    /// The change's label afterwards.
    pub state: LabelState,
    /// Whether the refusal is in the audit trail and no feature branch was left behind.
    pub refusal_recorded: bool,
}

/// Everything the demo did, as written to `summary.json`.
#[derive(Debug, serde::Serialize)]
pub struct DemoReport {
    /// Whether the change was merged, the tampered bundle refused and recorded, and the audit
    /// trail verified.
    pub ok: bool,
    /// How the gates were run.
    pub gates_note: &'static str,
    /// Output directory.
    pub out: PathBuf,
    /// Scratch repository.
    pub repo: PathBuf,
    /// SQLite audit trail.
    pub database: PathBuf,
    /// Role → signing identity.
    pub identities: BTreeMap<String, String>,
    /// Builder.
    pub handoff: Handoff,
    /// Enforcer.
    pub enforced: Enforced,
    /// Gates.
    pub gates: Vec<GateSummary>,
    /// PLAN verdict.
    pub verdict: Option<String>,
    /// Its aggregate confidence.
    pub aggregate: Option<String>,
    /// The five sub-checks.
    pub sub_checks: Vec<SubCheckSummary>,
    /// The full verdict record (policy, inputs, assessment), recomputable.
    pub verdict_record: Option<VerdictRecord>,
    /// Merge authority.
    pub merge_authority: Option<String>,
    /// Whether `main` was fast-forwarded.
    pub main_fast_forwarded: bool,
    /// Final label of the change.
    pub final_state: LabelState,
    /// The tampered run.
    pub tampered: TamperedSummary,
    /// Audit trail verification.
    pub audit: AuditSummary,
}

/// `leo audit verify`'s result.
#[derive(Debug, serde::Serialize)]
pub struct AuditSummary {
    /// Records.
    pub entries: u64,
    /// Signed checkpoints.
    pub checkpoints: u64,
    /// Merkle root.
    pub root: String,
    /// Checkpoint signers.
    pub signers: Vec<String>,
    /// Files to pass to `leo audit verify --trust`.
    pub trust_files: Vec<PathBuf>,
}

/// The five sub-checks of a verdict record, for display.
pub fn sub_check_summaries(record: Option<&VerdictRecord>) -> Vec<SubCheckSummary> {
    let Some(v) = record else {
        return Vec::new();
    };
    v.input
        .sub_checks
        .as_slice()
        .iter()
        .map(|s| SubCheckSummary {
            kind: s.kind.as_str().to_owned(),
            confidence: s.confidence.to_string(),
            findings: s
                .findings
                .iter()
                .map(|f| format!("{}: {}", severity_name(f.severity), f.summary))
                .collect(),
        })
        .collect()
}

impl AuditSummary {
    /// From `leo audit verify`'s report and the trust files written.
    pub fn of(verify: VerifyReport, trust_files: Vec<PathBuf>) -> Self {
        AuditSummary {
            entries: verify.entries,
            checkpoints: verify.checkpoints,
            root: verify.root,
            signers: verify.signers,
            trust_files,
        }
    }
}

impl DemoReport {
    /// Writes `summary.json` and `summary.md` into `dir` (atomically).
    pub fn write(&self, dir: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(|e| Error::InvalidText {
            field: "summary",
            reason: e.to_string(),
        })?;
        write_bytes_atomically(&dir.join("summary.json"), &json)?;
        write_bytes_atomically(&dir.join("summary.md"), self.markdown().as_bytes())?;
        Ok(())
    }

    /// The Markdown summary.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let e = &self.enforced;
        let h = &self.handoff;
        let _ = writeln!(s, "# LEO demo\n");
        let _ = writeln!(s, "Result: **{}**\n", if self.ok { "OK" } else { "FAILED" });
        let _ = writeln!(s, "| role | signing identity |\n|---|---|");
        for (role, id) in &self.identities {
            let _ = writeln!(s, "| {role} | `{id}` |");
        }
        let _ = writeln!(s, "\n## Builder (Codex)\n");
        let _ = writeln!(
            s,
            "- bundle `{}` ({} file(s) changed), sha256 `{}`\n- `[CODEX-READY:{}]` on `{}` at `{}`",
            h.bundle_path.display(),
            h.files,
            h.bundle,
            h.bundle,
            h.branch,
            h.marker_commit
        );
        let _ = writeln!(s, "\n## Enforcer (Claude/EXEC)\n");
        let _ = writeln!(
            s,
            "- verified: digest, attestation of `{}`, SBOM {}/{} rules\n- signed with {}{}\n- `[CLAUDE-APPLIED:{}]` on `{}` at `{}`; tree equals the builder's head: {}",
            e.builder_id,
            e.sbom_rules.0,
            e.sbom_rules.1,
            e.signature.selection.backend,
            e.signature
                .selection
                .fallback_reason
                .as_deref()
                .map(|r| format!(" (fallback: {r})"))
                .unwrap_or_default(),
            e.bundle,
            e.branch,
            e.head,
            match e.tree_matches_head {
                Some(true) => "yes",
                Some(false) => "no",
                None => "unknown (head commit not in the repository)",
            }
        );
        let _ = writeln!(s, "\n## Gates (PLAN)\n\n{GATES_NOTE}\n");
        let _ = writeln!(
            s,
            "| required check | status | ms | stand-in |\n|---|---|---|---|"
        );
        for g in &self.gates {
            let _ = writeln!(
                s,
                "| {} | {:?} | {} | {:?} |",
                g.context, g.status, g.duration_ms, g.stand_in
            );
        }
        let _ = writeln!(s, "\n## Verdict (PLAN)\n");
        let _ = writeln!(
            s,
            "PLAN-SUPERVISOR: {} (aggregate {})\n",
            self.verdict.as_deref().unwrap_or("none"),
            self.aggregate.as_deref().unwrap_or("-")
        );
        for c in &self.sub_checks {
            let _ = writeln!(
                s,
                "- {}: {} {}",
                c.kind,
                c.confidence,
                c.findings.join("; ")
            );
        }
        let _ = writeln!(
            s,
            "\n## Merge\n\n- authority: {}\n- main fast-forwarded: {}\n- final label: {}",
            self.merge_authority.as_deref().unwrap_or("none"),
            self.main_fast_forwarded,
            self.final_state
        );
        let t = &self.tampered;
        let _ = writeln!(
            s,
            "\n## Tampered bundle ({})\n\n- byte {} of `{}` flipped after `[CODEX-READY:{}]`\n- refused: `{}`: {}\n- label: {}; refusal recorded: {}",
            t.change,
            t.flipped_byte_at,
            t.path.display(),
            t.bundle,
            t.error_kind,
            t.error,
            t.state,
            t.refusal_recorded
        );
        let a = &self.audit;
        let trust: Vec<String> = a
            .trust_files
            .iter()
            .map(|p| format!("--trust {}", p.display()))
            .collect();
        let _ = writeln!(
            s,
            "\n## Audit trail\n\n- `{}`: {} entries, {} signed checkpoints, root `{}`\n- check it yourself: `leo audit --db sqlite:{} verify {}`",
            self.database.display(),
            a.entries,
            a.checkpoints,
            a.root,
            self.database.display(),
            trust.join(" ")
        );
        s
    }
}

fn severity_name(s: crate::subcheck::Severity) -> &'static str {
    use crate::subcheck::Severity;
    match s {
        Severity::Info => "info",
        Severity::Minor => "minor",
        Severity::Major => "major",
        Severity::Critical => "critical",
    }
}

/// The name of an error's variant (for the report).
pub fn error_kind(e: &Error) -> &'static str {
    match e {
        Error::HandoffDigestMismatch { .. } => "handoff_digest_mismatch",
        Error::BundleRejected { .. } => "bundle_rejected",
        Error::AttestationRejected { .. } => "attestation_rejected",
        Error::SbomUnreadable { .. } => "sbom_unreadable",
        Error::SbomNotCompliant { .. } => "sbom_not_compliant",
        Error::PatchConflict { .. } => "patch_conflict",
        Error::IdentityReused { .. } => "identity_reused",
        Error::SigningFailed { .. } => "signing_failed",
        _ => "other",
    }
}
