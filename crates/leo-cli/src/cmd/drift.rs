//! `leo drift`: desired-vs-live drift detection (SOP §13-14). Exit 0 no drift, 1 drift,
//! 2 error, as `kubectl diff`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use leo_drift::{
    DiffKind, DriftPolicy, DriftReport, FieldDiff, Outcome, RemediationPlan, compute_metrics,
    detect, load_path,
};
use time::OffsetDateTime;

use crate::output::{exit_failed, print_json};

/// Arguments of `leo drift`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct DriftArgs {
    #[command(subcommand)]
    command: Option<DriftCommand>,
    /// Desired state: a manifest file or directory (YAML/JSON, multi-document, `kustomize build` output).
    #[arg(long, required = true)]
    desired: Option<PathBuf>,
    /// Live state: `kubectl get -o json` output (List or object), YAML, or a directory.
    #[arg(long, required = true)]
    live: Option<PathBuf>,
    /// A DriftPolicy document (YAML or JSON); defaults apply without one.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Namespace for desired objects that set none (overrides the policy).
    #[arg(long)]
    namespace: Option<String>,
    /// Strict mode: every live field the desired state does not set is drift.
    #[arg(long)]
    strict: bool,
    /// Extra live objects are drift (they would be pruned).
    #[arg(long)]
    prune: bool,
    /// Write the DriftReport here (`.json` → JSON, otherwise YAML).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Write a remediation plan (plan.json, commands.sh, manifests/) into this directory.
    #[arg(long, value_name = "DIR")]
    plan_dir: Option<PathBuf>,
}

/// Subcommands of `leo drift`.
#[derive(Debug, Subcommand)]
pub enum DriftCommand {
    /// MTTD/MTTR (SOP §14.6) from a series of DriftReport files.
    Metrics {
        /// DriftReport files (YAML or JSON).
        #[arg(required = true)]
        reports: Vec<PathBuf>,
    },
    /// Print the default DriftPolicy as YAML, a starting point for your own.
    PolicyTemplate,
}

/// Runs `leo drift`.
pub fn run(args: &DriftArgs, json: bool) -> anyhow::Result<ExitCode> {
    match &args.command {
        Some(DriftCommand::Metrics { reports }) => metrics(reports, json),
        Some(DriftCommand::PolicyTemplate) => {
            print!("{}", DriftPolicy::default().to_yaml()?);
            Ok(ExitCode::SUCCESS)
        }
        None => check(args, json),
    }
}

fn check(args: &DriftArgs, json: bool) -> anyhow::Result<ExitCode> {
    let (Some(desired_path), Some(live_path)) = (&args.desired, &args.live) else {
        anyhow::bail!("--desired and --live are required");
    };
    let mut policy = match &args.policy {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            DriftPolicy::parse(&text).with_context(|| format!("policy {}", p.display()))?
        }
        None => DriftPolicy::default(),
    };
    if let Some(ns) = &args.namespace {
        policy.spec.default_namespace = ns.clone();
    }
    policy.spec.strict |= args.strict;
    policy.spec.prune |= args.prune;
    let desired = load_path(desired_path).context("loading the desired state")?;
    let live = load_path(live_path).context("loading the live state")?;
    let sources = (
        Some(desired_path.display().to_string()),
        Some(live_path.display().to_string()),
    );
    let report = detect(&desired, &live, &policy, sources, now())?;
    if let Some(path) = &args.report {
        let text = if path.extension().is_some_and(|e| e == "json") {
            report.to_json()?
        } else {
            report.to_yaml()?
        };
        leo_artifact::fsutil::write_bytes_atomically(path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(dir) = &args.plan_dir {
        RemediationPlan::build(&report, &desired, &policy)
            .write_to(dir)
            .with_context(|| format!("writing the remediation plan to {}", dir.display()))?;
    }
    if json {
        print_json(&serde_json::to_value(&report)?);
    } else {
        print_text(&report, policy.spec.prune);
    }
    Ok(if report.has_drift() {
        exit_failed()
    } else {
        ExitCode::SUCCESS
    })
}

/// The check time: `SOURCE_DATE_EPOCH` when set (reproducible reports), else now.
fn now() -> OffsetDateTime {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or_else(OffsetDateTime::now_utc)
}

fn print_text(report: &DriftReport, prune: bool) {
    let s = &report.status.summary;
    let c = &report.status.compliance;
    println!(
        "drift: {} changed, {} missing live, {} extra live{}, {} in sync; score {:.2} ({})",
        s.changed,
        s.missing_live,
        s.extra_live,
        if prune { "" } else { " (not drift: prune off)" },
        s.in_sync,
        c.score,
        c.grade
    );
    for r in report
        .status
        .resources
        .iter()
        .filter(|r| r.outcome != Outcome::InSync)
    {
        let severity = r.severity.map(|s| format!("[{s}]")).unwrap_or_default();
        println!("{:<13} {:<10} {}", r.outcome.as_str(), severity, r.key);
        for d in &r.diffs {
            println!("    {}", diff_line(d));
        }
    }
}

fn diff_line(d: &FieldDiff) -> String {
    let show =
        |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    match d.kind {
        DiffKind::Changed => format!(
            "~ {}: desired {} live {}",
            d.path,
            show(&d.desired),
            show(&d.live)
        ),
        DiffKind::MissingInLive => format!("+ {}: {} (missing live)", d.path, show(&d.desired)),
        DiffKind::ExtraInLive => format!("- {}: {} (extra live)", d.path, show(&d.live)),
    }
}

fn metrics(paths: &[PathBuf], json: bool) -> anyhow::Result<ExitCode> {
    let reports = paths
        .iter()
        .map(|p| read_report(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let m = compute_metrics(&reports);
    if json {
        print_json(&serde_json::to_value(&m)?);
    } else {
        let fmt = |v: Option<f64>| v.map_or("n/a".to_owned(), |s| format!("{s:.0}s"));
        println!(
            "{} reports, {} episodes ({} resolved, {} open); MTTD {} ({:?}), MTTR {} ({:?})",
            m.reports,
            m.episodes,
            m.resolved,
            m.open,
            fmt(m.mttd_seconds),
            m.mttd_status,
            fmt(m.mttr_seconds),
            m.mttr_status
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn read_report(path: &Path) -> anyhow::Result<DriftReport> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    DriftReport::parse(&text).with_context(|| format!("report {}", path.display()))
}
