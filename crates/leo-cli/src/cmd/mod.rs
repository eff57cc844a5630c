//! One module per command group. Each exposes a clap type and
//! `run(args, json) -> anyhow::Result<ExitCode>`.

pub mod bundle;
pub mod hash;
