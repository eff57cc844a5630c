//! The sigstore-conformance client entrypoint for LEO.
//!
//! Run the suite with `--entrypoint target/debug/examples/sigstore-conformance`; see
//! `leo_sign::sigstore::conformance` for the protocol. Exit status is the verdict.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    ExitCode::from(leo_sign::sigstore::conformance::main_with_args(&args))
}
