//! Shared fixtures for the integration tests.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use leo_artifact::{CommitSha, PlanVerdict, Sha256Digest};
use leo_gates::*;
use leo_store::Timestamp;

/// `s` seconds after the epoch.
pub fn t(s: i64) -> Timestamp {
    Timestamp::from_unix_micros(s * 1_000_000)
}

pub fn actor(role: Role) -> Actor {
    let key = match role {
        Role::Codex => "codex-key",
        Role::ClaudeExec => "claude-key",
        Role::Plan => "plan-key",
        Role::Lead => "lead-key",
        Role::System => "system-key",
    };
    Actor::new(role, Identity::new(key).unwrap())
}

pub fn bundle(n: u8) -> Sha256Digest {
    Sha256Digest::of(&[n])
}

pub fn commit(c: char) -> CommitSha {
    c.to_string().repeat(40).parse().unwrap()
}

pub const HEAD: char = 'b';

/// The enforcer's facts for bundle 1 applied as `HEAD`.
pub fn applied_facts() -> Applied {
    Applied {
        bundle: bundle(1),
        head: commit(HEAD),
    }
}

pub fn conf(h: u16) -> Confidence {
    Confidence::from_hundredths(h).unwrap()
}

/// Five clean sub-checks with these confidences (hundredths of a percent).
pub fn subs(c: [u16; 5]) -> SubChecks {
    SubChecks::new(
        SubCheckKind::ALL
            .into_iter()
            .zip(c)
            .map(|(k, h)| SubCheckResult::clean(k, conf(h)))
            .collect(),
    )
    .unwrap()
}

/// Five sub-checks at `h`, the first one carrying a finding of `severity`.
pub fn subs_with(h: u16, severity: Severity) -> SubChecks {
    let mut v: Vec<SubCheckResult> = subs([h; 5]).into();
    v[0].findings.push(Finding {
        severity,
        summary: Line::new("finding", "something").unwrap(),
    });
    SubChecks::new(v).unwrap()
}

pub fn report(sub_checks: SubChecks) -> SupervisorReport {
    SupervisorReport {
        sub_checks,
        requirements: vec![],
        resolution_rounds: 0,
    }
}

pub fn pass_report() -> SupervisorReport {
    report(subs([9000; 5]))
}

pub fn cp_report() -> SupervisorReport {
    report(subs_with(9000, Severity::Minor))
}

pub fn fail_report() -> SupervisorReport {
    report(subs_with(9000, Severity::Critical))
}

/// Disagreeing sub-checks after the last resolution round.
pub fn escalate_report() -> SupervisorReport {
    SupervisorReport {
        sub_checks: subs([10_000, 10_000, 10_000, 10_000, 5000]),
        requirements: vec![],
        resolution_rounds: 3,
    }
}

/// The SOP §3 contexts as CI would report them (the glob's `*` filled in).
pub fn sop_contexts() -> Vec<String> {
    SOP_REQUIRED_CHECKS
        .iter()
        .map(|(c, _)| c.replace('*', "42"))
        .collect()
}

pub fn run(context: &str, c: char, status: GateStatus, start: i64, end: Option<i64>) -> GateRun {
    GateRun::new(
        Line::new("context", context).unwrap(),
        commit(c),
        status,
        t(start),
        end.map(t),
    )
    .unwrap()
}

/// A change driven forward; the clock advances one second per step.
pub struct Fx {
    pub wf: Workflow,
    pub sink: MemorySink,
    pub now: i64,
}

impl Fx {
    pub fn new() -> Self {
        let mut sink = MemorySink::default();
        let wf = Workflow::start(
            "PRD-42".parse().unwrap(),
            WorkflowConfig::default(),
            &actor(Role::Codex),
            t(0),
            &mut sink,
        )
        .unwrap();
        Fx { wf, sink, now: 0 }
    }

    pub fn tick(&mut self) -> Timestamp {
        self.now += 1;
        t(self.now)
    }

    pub fn handoff(mut self) -> Self {
        let at = self.tick();
        self.wf
            .handoff(
                &actor(Role::Codex),
                CodexReady {
                    bundle: bundle(1),
                    commit: commit('a'),
                },
                at,
                &mut self.sink,
            )
            .unwrap();
        self
    }

    pub fn applied(mut self) -> Self {
        self = self.handoff();
        let at = self.tick();
        self.wf
            .apply(
                &actor(Role::ClaudeExec),
                applied_facts(),
                at,
                &mut self.sink,
            )
            .unwrap();
        self
    }

    /// Applied, with all four required checks passed on the head commit.
    pub fn gates_green(mut self) -> Self {
        self = self.applied();
        for ctx in sop_contexts() {
            let at = self.tick();
            let r = run(
                &ctx,
                HEAD,
                GateStatus::Success,
                self.now - 1,
                Some(self.now),
            );
            self.wf
                .record_gate_run(&actor(Role::Plan), r, at, &mut self.sink)
                .unwrap();
        }
        self
    }

    pub fn verdict(mut self, report: SupervisorReport, want: PlanVerdict) -> Self {
        self = self.gates_green();
        let at = self.tick();
        assert_eq!(
            self.wf
                .issue_verdict(&actor(Role::Plan), report, at, &mut self.sink)
                .unwrap(),
            want
        );
        self
    }

    pub fn ready(self) -> Self {
        self.verdict(pass_report(), PlanVerdict::Pass)
    }

    pub fn failed(self) -> Self {
        self.verdict(fail_report(), PlanVerdict::Fail)
    }

    pub fn lead(mut self, kind: LeadDecisionKind) -> Result<Self> {
        let at = self.tick();
        self.wf.lead_decide(
            &actor(Role::Lead),
            LeadDecision::new(kind, "reviewed by LEAD").unwrap(),
            at,
            &mut self.sink,
        )?;
        Ok(self)
    }

    pub fn merge(&mut self) -> Result<MergeAuthority> {
        let at = self.tick();
        self.wf
            .merge(&actor(Role::System), &bundle(1), at, &mut self.sink)
    }

    pub fn last_transition(&self) -> &Transition {
        self.sink.transitions().last().unwrap()
    }

    pub fn refusals(&self) -> usize {
        self.sink.refusals().count()
    }
}

/// Performs `op` as `a` with the fixture's standard arguments (bundle 1, head `HEAD`).
pub fn attempt(fx: &mut Fx, op: Operation, a: &Actor) -> Result<()> {
    let at = fx.tick();
    let (wf, sink) = (&mut fx.wf, &mut fx.sink);
    match op {
        Operation::Handoff => wf.handoff(
            a,
            CodexReady {
                bundle: bundle(1),
                commit: commit('a'),
            },
            at,
            sink,
        ),
        Operation::Apply => wf.apply(a, applied_facts(), at, sink),
        Operation::RefuseBundle => wf.refuse_bundle(
            a,
            BundleRefusal {
                bundle: bundle(1),
                check: leo_store::BundleCheck::Attestation,
                reason: Line::new("r", "bad signature").unwrap(),
            },
            at,
            sink,
        ),
        Operation::RecordGateRun => wf.record_gate_run(
            a,
            run(
                "SLSA Verification / Verify SLSA Provenance",
                HEAD,
                GateStatus::Success,
                0,
                Some(1),
            ),
            at,
            sink,
        ),
        Operation::IssueVerdict => wf.issue_verdict(a, pass_report(), at, sink).map(|_| ()),
        Operation::LeadDecision => wf.lead_decide(
            a,
            LeadDecision::new(LeadDecisionKind::Approve, "fine").unwrap(),
            at,
            sink,
        ),
        Operation::SetPriority => wf.set_priority(a, Priority::High, at, sink),
        Operation::ReturnToBuilder => wf.return_to_builder(a, at, sink),
        Operation::Merge => wf.merge(a, &bundle(1), at, sink).map(|_| ()),
        Operation::Start => unreachable!("start has no change to act on"),
    }
}
