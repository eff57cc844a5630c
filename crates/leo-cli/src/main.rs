//! `leo`: the command-line face of LEO. Thin glue: parse arguments, call the libraries, print.
//!
//! Exit status, for every command: 0 success, 1 verification failed (or drift / policy
//! failure), 2 usage or I/O error.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod output;
mod progress;

/// LEO: verifiable two-lane software delivery.
#[derive(Debug, Parser)]
#[command(name = "leo", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// DSSE / in-toto attestations: sign, verify (exit 1 when rejected), inspect.
    #[command(subcommand)]
    Attest(cmd::attest::AttestCommand),
    /// SOP §12.4 alerts evaluated over the audit trail (exit 1 when one fires); `--rules`
    /// prints the Prometheus rules file.
    Alerts(cmd::score::AlertsArgs),
    /// The audit trail: log, show, verify, prove, checkpoint, history (SOP §7).
    Audit(cmd::audit::AuditArgs),
    /// SHA-256 of files, sha256sum-compatible (`--check` verifies a list).
    Hash(cmd::hash::HashArgs),
    /// Create, inspect and verify patch bundles (artifact.tar.gz).
    #[command(subcommand)]
    Bundle(cmd::bundle::BundleCommand),
    /// The whole two-lane flow end to end in a scratch repository (leaves ./leo-demo/).
    Demo(cmd::demo::DemoArgs),
    /// Desired-vs-live drift: exit 0 no drift, 1 drift, 2 error (as `kubectl diff`).
    Drift(cmd::drift::DriftArgs),
    /// Security posture metrics (SOP §12.2, §12.6): Prometheus exposition, `/metrics`, score.
    #[command(subcommand)]
    Metrics(cmd::score::MetricsCommand),
    /// OpenPGP key ring (30-day keys, rotation) and raw keys.
    #[command(subcommand)]
    Keys(cmd::keys::KeysCommand),
    /// Admission policies (SOP §11): apply, test (Kyverno fixtures), bundle, verify.
    #[command(subcommand)]
    Policy(cmd::policy::PolicyCommand),
    /// The monthly compliance report (SOP §12.8) as Markdown and HTML.
    Report(cmd::score::ReportArgs),
    /// CycloneDX 1.5 SBOMs: generate, validate, check-compliance (NTIA minimum elements).
    #[command(subcommand)]
    Sbom(cmd::sbom::SbomCommand),
    /// Make a detached signature over a file (`--backend pgp|key`).
    Sign(cmd::sign::SignArgs),
    /// Verify a detached signature: exit 0 valid, 1 rejected, 2 error.
    Verify(cmd::sign::VerifyArgs),
    /// Sigstore: verify bundles offline, sign with cosign keys or keylessly.
    #[command(subcommand)]
    Sigstore(cmd::sigstore::SigstoreCommand),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                output::exit_usage()
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match &cli.command {
        Command::Attest(args) => cmd::attest::run(args, cli.json),
        Command::Alerts(args) => cmd::score::run_alerts(args, cli.json),
        Command::Audit(args) => cmd::audit::run(args, cli.json),
        Command::Hash(args) => cmd::hash::run(args, cli.json),
        Command::Bundle(args) => cmd::bundle::run(args, cli.json),
        Command::Demo(args) => cmd::demo::run(args, cli.json),
        Command::Drift(args) => cmd::drift::run(args, cli.json),
        Command::Keys(args) => cmd::keys::run(args, cli.json),
        Command::Metrics(args) => cmd::score::run_metrics(args, cli.json),
        Command::Policy(args) => cmd::policy::run(args, cli.json),
        Command::Report(args) => cmd::score::run_report(args, cli.json),
        Command::Sbom(args) => cmd::sbom::run(args, cli.json),
        Command::Sign(args) => cmd::sign::run_sign(args, cli.json),
        Command::Verify(args) => cmd::sign::run_verify(args, cli.json),
        Command::Sigstore(command) => cmd::sigstore::run(command, cli.json),
    };
    match result {
        Ok(code) => code,
        Err(e) => output::report_error(&e, cli.json),
    }
}
