//! Required checks: exact contexts, `*` globs only where configured, latest run wins, only
//! the head commit counts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::*;
use leo_gates::*;

fn only(context: &str, glob: bool) -> RequiredChecks {
    RequiredChecks::new(vec![RequiredCheck {
        context: Line::new("context", context).unwrap(),
        glob,
    }])
    .unwrap()
}

fn state(checks: &RequiredChecks, runs: &[GateRun]) -> CheckState {
    checks.evaluate(&commit(HEAD), runs).results[0]
        .state
        .clone()
}

#[test]
fn exact_contexts_match_exactly() {
    let slsa = only("SLSA Verification / Verify SLSA Provenance", false);
    let near = run(
        "SLSA Verification / Verify SLSA provenance",
        HEAD,
        GateStatus::Success,
        0,
        Some(1),
    );
    assert_eq!(state(&slsa, &[near]), CheckState::Missing);
    let exact = run(
        "SLSA Verification / Verify SLSA Provenance",
        HEAD,
        GateStatus::Success,
        0,
        Some(1),
    );
    assert_eq!(
        state(&slsa, &[exact]),
        CheckState::Passed { finished_at: t(1) }
    );
}

#[test]
fn globs_only_where_configured_and_every_match_must_pass() {
    let literal = only("LEO Gate Validation / Run Gate 3 for PRD-*", false);
    let prd1 = run(
        "LEO Gate Validation / Run Gate 3 for PRD-1",
        HEAD,
        GateStatus::Success,
        0,
        Some(1),
    );
    assert_eq!(
        state(&literal, std::slice::from_ref(&prd1)),
        CheckState::Missing
    );
    let glob = only("LEO Gate Validation / Run Gate 3 for PRD-*", true);
    assert!(matches!(
        state(&glob, std::slice::from_ref(&prd1)),
        CheckState::Passed { .. }
    ));
    let prd2 = run(
        "LEO Gate Validation / Run Gate 3 for PRD-2",
        HEAD,
        GateStatus::Failure,
        0,
        Some(2),
    );
    assert!(
        matches!(state(&glob, &[prd1.clone(), prd2]), CheckState::Failed { context, status: GateStatus::Failure } if context.ends_with("PRD-2"))
    );
    let prd3 = run(
        "LEO Gate Validation / Run Gate 3 for PRD-3",
        HEAD,
        GateStatus::InProgress,
        0,
        None,
    );
    assert!(matches!(
        state(&glob, &[prd1, prd3]),
        CheckState::Pending { .. }
    ));
}

#[test]
fn the_latest_run_on_the_head_commit_counts() {
    let ctx = "Policy Verification / Validate Policy Bundle";
    let checks = only(ctx, false);
    let failed = run(ctx, HEAD, GateStatus::Failure, 0, Some(1));
    let rerun = run(ctx, HEAD, GateStatus::Success, 5, Some(6));
    assert!(matches!(
        state(&checks, &[failed.clone(), rerun.clone()]),
        CheckState::Passed { .. }
    ));
    assert!(
        matches!(
            state(&checks, &[rerun.clone(), failed.clone()]),
            CheckState::Passed { .. }
        ),
        "order of recording does not matter"
    );
    let later_failure = run(ctx, HEAD, GateStatus::Cancelled, 9, Some(9));
    assert!(matches!(
        state(&checks, &[rerun.clone(), later_failure]),
        CheckState::Failed {
            status: GateStatus::Cancelled,
            ..
        }
    ));
    let elsewhere = run(ctx, 'c', GateStatus::Success, 0, Some(1));
    assert_eq!(state(&checks, &[elsewhere]), CheckState::Missing);
}

#[test]
fn report_summaries() {
    let all: Vec<GateRun> = sop_contexts()
        .iter()
        .enumerate()
        .map(|(i, c)| run(c, HEAD, GateStatus::Success, 0, Some(i as i64 + 1)))
        .collect();
    let report = RequiredChecks::default().evaluate(&commit(HEAD), &all);
    assert!(report.all_passed());
    assert_eq!(report.completed_at(), Some(t(4)));
    assert!(report.unmet().is_empty());
    let report = RequiredChecks::default().evaluate(&commit(HEAD), &all[..3]);
    assert!(!report.all_passed());
    assert_eq!(report.completed_at(), None);
    assert_eq!(
        report.unmet(),
        ["Policy Verification / Validate Policy Bundle (missing)"]
    );
}

#[test]
fn gate_runs_are_validated_and_timed() {
    let ctx = Line::new("context", "x").unwrap();
    let r = GateRun::new(
        ctx.clone(),
        commit(HEAD),
        GateStatus::Success,
        t(10),
        Some(t(70)),
    )
    .unwrap();
    assert_eq!(r.duration(), Some(Duration::from_secs(60)));
    assert_eq!(r.status().outcome(), Some(leo_store::GateOutcome::Success));
    for (status, finished) in [
        (GateStatus::Success, None),
        (GateStatus::InProgress, Some(t(20))),
        (GateStatus::Failure, Some(t(9))),
    ] {
        assert!(matches!(
            GateRun::new(ctx.clone(), commit(HEAD), status, t(10), finished),
            Err(Error::InvalidGateRun { .. })
        ));
    }
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(serde_json::from_str::<GateRun>(&json).unwrap(), r);
    let bad = json.replace("\"success\"", "\"in_progress\"");
    assert!(serde_json::from_str::<GateRun>(&bad).is_err());
}

#[test]
fn configuration_from_json() {
    let json = r#"[{"context":"Build / test (*)","glob":true},{"context":"Lint / clippy"}]"#;
    let checks: RequiredChecks = serde_json::from_str(json).unwrap();
    assert!(checks.as_slice()[0].matches("Build / test (linux)"));
    assert!(!checks.as_slice()[1].glob);
    assert!(serde_json::from_str::<RequiredChecks>("[]").is_err());
}
