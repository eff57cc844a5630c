//! The two-lane flow end to end, as `leo demo` runs it: a scratch repository with a real
//! change, fresh keys per role, a SQLite audit trail, the builder's bundle, the enforcer's
//! verification, signature (OpenPGP fallback without a Sigstore token) and apply, PLAN's
//! simulated gates and verdict, the merge gate, a tampered bundle refused, and the trail
//! verified.
//!
//! ```sh
//! cargo run --example dual_lane -- [OUT_DIR]   # default: ./leo-demo-example
//! ```

use leo::gates::enforcer::demo::{DemoOptions, STEPS, run_demo};

fn main() -> anyhow::Result<()> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "leo-demo-example".to_owned());
    let report = run_demo(&DemoOptions::new(&out), &mut |s| {
        println!("[{}/{STEPS}] {:<8} {}", s.step, s.lane, s.message);
    })?;
    println!();
    println!("{}", leo::gates::enforcer::demo::report::GATES_NOTE);
    println!(
        "verdict {}, final label {}, tampered bundle refused as {}",
        report.verdict.as_deref().unwrap_or("none"),
        report.final_state,
        report.tampered.error_kind
    );
    println!("summary: {out}/summary.md");
    anyhow::ensure!(report.ok, "the demo did not complete as it must");
    Ok(())
}
