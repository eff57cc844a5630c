//! Costs of the pure logic: a verdict, a required-checks evaluation over many runs, a
//! hostile glob, and one change driven from start to merge with an in-memory audit sink.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use leo_artifact::{CommitSha, Sha256Digest};
use leo_gates::*;
use leo_store::Timestamp;

fn t(s: i64) -> Timestamp {
    Timestamp::from_unix_micros(s * 1_000_000)
}

fn subs(h: u16) -> SubChecks {
    SubChecks::new(
        SubCheckKind::ALL
            .map(|k| SubCheckResult::clean(k, Confidence::from_hundredths(h).unwrap()))
            .to_vec(),
    )
    .unwrap()
}

fn head() -> CommitSha {
    "b".repeat(40).parse().unwrap()
}

fn green_runs(n: usize) -> Vec<GateRun> {
    let contexts: Vec<String> = SOP_REQUIRED_CHECKS
        .iter()
        .map(|(c, _)| c.replace('*', "42"))
        .collect();
    (0..n)
        .map(|i| {
            let ctx = Line::new("context", &contexts[i % contexts.len()]).unwrap();
            let at = i64::try_from(i).unwrap();
            GateRun::new(ctx, head(), GateStatus::Success, t(at), Some(t(at + 1))).unwrap()
        })
        .collect()
}

fn full_flow() -> MergeAuthority {
    let who = |role, key: &str| Actor::new(role, Identity::new(key).unwrap());
    let (codex, claude, plan, system) = (
        who(Role::Codex, "c"),
        who(Role::ClaudeExec, "e"),
        who(Role::Plan, "p"),
        who(Role::System, "s"),
    );
    let bundle = Sha256Digest::of(b"bundle");
    let mut sink = MemorySink::default();
    let mut wf = Workflow::start(
        "PRD-1".parse().unwrap(),
        WorkflowConfig::default(),
        &codex,
        t(0),
        &mut sink,
    )
    .unwrap();
    let commit = "a".repeat(40).parse().unwrap();
    wf.handoff(&codex, CodexReady { bundle, commit }, t(1), &mut sink)
        .unwrap();
    wf.apply(
        &claude,
        Applied {
            bundle,
            head: head(),
        },
        t(2),
        &mut sink,
    )
    .unwrap();
    for run in green_runs(4) {
        wf.record_gate_run(&plan, run, t(10), &mut sink).unwrap();
    }
    let report = SupervisorReport {
        sub_checks: subs(9000),
        requirements: vec![],
        resolution_rounds: 0,
    };
    wf.issue_verdict(&plan, report, t(11), &mut sink).unwrap();
    wf.merge(&system, &bundle, t(12), &mut sink).unwrap()
}

fn bench(c: &mut Criterion) {
    let policy = VerdictPolicy::default();
    let input = VerdictInput {
        sub_checks: subs(9000),
        requirements: vec![],
        resolution_rounds: 0,
        gates: GateFacts {
            triggered_at: t(0),
            status: GatesStatus::Passed {
                completed_at: t(60),
            },
        },
        evaluated_at: t(61),
    };
    c.bench_function("verdict/evaluate", |b| {
        b.iter(|| evaluate(black_box(&policy), black_box(&input)))
    });

    let checks = RequiredChecks::default();
    let runs = green_runs(1000);
    c.bench_function("checks/evaluate_1000_runs", |b| {
        b.iter(|| checks.evaluate(black_box(&head()), black_box(&runs)))
    });

    let pattern = "*a".repeat(50);
    let text = "a".repeat(49) + &"b".repeat(4000);
    c.bench_function("glob/hostile_50_stars_4k_text", |b| {
        b.iter(|| glob_match(black_box(&pattern), black_box(&text)))
    });

    c.bench_function("workflow/start_to_merge", |b| b.iter(full_flow));
}

criterion_group!(benches, bench);
criterion_main!(benches);
