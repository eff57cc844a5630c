//! `leo demo`: the whole two-lane flow on embedded defaults. The flow lives in
//! `leo_gates::enforcer::demo`; this prints its stages and its result.
//!
//! Exit status: 0 the change was merged, the tampered bundle refused and recorded, and the
//! audit trail verified; 1 any of that did not happen; 2 usage or I/O error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use leo_gates::enforcer::demo::{DemoOptions, IdToken, STEPS, Stage, run_demo};

use crate::output::{exit_failed, print_json};

/// Arguments of `leo demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to leave the repository, keys, bundles, database and summary (must be empty or
    /// absent).
    #[arg(long, default_value = "leo-demo")]
    out: PathBuf,
    /// An OIDC identity token for Sigstore keyless signing; without one the enforcer signs
    /// with its OpenPGP key (SOP §10.3) and records why.
    #[arg(long, env = "SIGSTORE_ID_TOKEN", hide_env_values = true)]
    sigstore_token: Option<IdToken>,
    /// Seconds the Sigstore reachability probe may take before falling back to OpenPGP.
    #[arg(long, default_value_t = 5)]
    probe_timeout: u64,
}

/// Runs `leo demo`.
pub fn run(args: &DemoArgs, json: bool) -> anyhow::Result<ExitCode> {
    let opts = DemoOptions {
        out: args.out.clone(),
        sigstore_token: args.sigstore_token.clone(),
        probe_deadline: Duration::from_secs(args.probe_timeout),
    };
    // Stage lines go to stderr under --json (stdout carries only the JSON).
    let mut progress = |s: &Stage| {
        let line = format!("[{}/{STEPS}] {:<8} {}", s.step, s.lane, s.message);
        if json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    let report = run_demo(&opts, &mut progress)?;
    if json {
        print_json(&serde_json::to_value(&report)?);
    } else {
        println!("\n{}", leo_gates::enforcer::demo::report::GATES_NOTE);
        println!(
            "verdict {}; final label {}; tampered bundle: {} ({})",
            report.verdict.as_deref().unwrap_or("none"),
            report.final_state,
            report.tampered.error_kind,
            report.tampered.state
        );
        println!(
            "summary: {} and {}",
            args.out.join("summary.md").display(),
            args.out.join("summary.json").display()
        );
        println!("{}", if report.ok { "OK" } else { "FAILED" });
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        exit_failed()
    })
}
