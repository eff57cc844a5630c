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
    /// SHA-256 of files, sha256sum-compatible (`--check` verifies a list).
    Hash(cmd::hash::HashArgs),
    /// Create, inspect and verify patch bundles (artifact.tar.gz).
    #[command(subcommand)]
    Bundle(cmd::bundle::BundleCommand),
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
        Command::Hash(args) => cmd::hash::run(args, cli.json),
        Command::Bundle(args) => cmd::bundle::run(args, cli.json),
    };
    match result {
        Ok(code) => code,
        Err(e) => output::report_error(&e, cli.json),
    }
}
