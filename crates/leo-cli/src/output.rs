//! Output conventions shared by every command: exit codes, JSON, errors.

use std::process::ExitCode;

/// Verification failed (or drift found, or a policy failed): exit status 1.
pub fn exit_failed() -> ExitCode {
    ExitCode::from(1)
}

/// Usage or I/O error: exit status 2.
pub fn exit_usage() -> ExitCode {
    ExitCode::from(2)
}

/// A failed check: printed and mapped to exit status 1 (not 2).
#[derive(Debug)]
pub struct VerificationFailed(pub String);

impl std::fmt::Display for VerificationFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VerificationFailed {}

/// Prints JSON on stdout, pretty, with a trailing newline.
pub fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into())
    );
}

/// Prints an error (as JSON on stdout when `json`, else on stderr) and picks the exit code:
/// 1 when the root cause is a [`VerificationFailed`], 2 otherwise.
pub fn report_error(e: &anyhow::Error, json: bool) -> ExitCode {
    let failed = e.downcast_ref::<VerificationFailed>().is_some();
    // Many library errors already print their source in their own message (`... : {source}`);
    // a cause whose text the previous message already ends with adds nothing.
    let mut chain: Vec<String> = Vec::new();
    for cause in e.chain().map(ToString::to_string) {
        if !chain.last().is_some_and(|prev| prev.ends_with(&cause)) {
            chain.push(cause);
        }
    }
    if json {
        print_json(&serde_json::json!({
            "ok": false,
            "error": chain.first().cloned().unwrap_or_default(),
            "causes": chain.iter().skip(1).collect::<Vec<_>>(),
            "kind": if failed { "verification_failed" } else { "error" },
        }));
    } else {
        eprintln!("leo: error: {}", chain.join(": "));
    }
    if failed { exit_failed() } else { exit_usage() }
}
