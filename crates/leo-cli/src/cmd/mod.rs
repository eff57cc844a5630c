//! One module per command group. Each exposes a clap type and
//! `run(args, json) -> anyhow::Result<ExitCode>`.

pub mod attest;
pub mod audit;
pub mod bundle;
pub mod demo;
pub mod drift;
pub mod hash;
pub mod keys;
pub mod policy;
pub mod sbom;
pub mod score;
pub mod sign;
pub mod sigstore;
