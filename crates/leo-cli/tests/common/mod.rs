//! Shared by the CLI integration tests: one hermetic way to run the `leo` binary.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::Path;
use std::process::{Command, Output};

/// Variables `leo` reads from the environment; cleared so a developer's shell cannot change
/// what a test sees.
const CLEARED: [&str; 5] = [
    "LEO_DB",
    "LEO_KEYRING",
    "LEO_CYCLONEDX_SCHEMA",
    "SIGSTORE_ID_TOKEN",
    "SOURCE_DATE_EPOCH",
];

/// Runs `leo args...` in `dir` with a clean LEO environment plus `env`.
pub fn leo_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leo"));
    cmd.args(args).current_dir(dir);
    for var in CLEARED {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run leo")
}

/// The command's stdout parsed as JSON (panics with the text when it is not).
pub fn json_of(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}
