//! The schema version 2 record kinds (label transitions, refusals, artifact signatures,
//! policy evaluations) and the `System` writer, on every backend.

use std::ops::ControlFlow;

use leo_store::samples::{
    T0, artifact_signature, handoff, merged, policy_evaluation, refusal, transition,
};
use leo_store::{
    Action, Batch, Enforcer, Error, Event, LabelTransition, Record, RecordKind, Role, SystemHandle,
    Text, Timestamp,
};

use super::Trail;
use crate::common::Fixture;

fn at(ev: &mut Event<impl Into<Record>>, micros: i64) {
    ev.recorded_at = Timestamp::from_unix_micros(T0.unix_micros() + micros);
}

/// The builder's edge, recorded by the enforcer under its generic right.
fn codex_ready(n: u32) -> Event<LabelTransition> {
    let mut ev = transition("w", n).unwrap();
    ev.id = format!("w-ready-{n}").parse().unwrap();
    ev.action = Action::DatabaseWrites;
    ev.record.from = Some(Text::new("from", "codex_building").unwrap());
    ev.record.to = Text::new("to", "claude_enforcing").unwrap();
    ev.record.reason = Text::new("reason", "[CODEX-READY]").unwrap();
    ev
}

impl<F: Fixture> Trail<F> {
    pub fn system(&self) -> SystemHandle {
        SystemHandle::open(&self.fx.location(Role::System), self.signer()).unwrap()
    }

    /// Every new kind from every role that may file it (seq 0..11), then a v1 handoff.
    pub fn populate_workflow(&self) -> Vec<Event> {
        let mut out = Vec::new();
        let mut e = self.enforcer();
        let ready = codex_ready(1);
        let sig = artifact_signature("w", 1).unwrap();
        let mut epol = policy_evaluation("w", 1).unwrap();
        epol.action = Action::TriggerWorkflows;
        epol.record.image_digest = None;
        // The enforcer's refusal of a bundle by its attestation check (CODEX, SIGN_ARTIFACTS).
        let mut eref = refusal("w", 1).unwrap();
        eref.record.operation = Text::new("operation", "bundle_attestation").unwrap();
        e.append(ready.clone()).unwrap();
        e.append_batch([sig.clone()]).unwrap();
        e.append(epol.clone()).unwrap();
        e.append(eref.clone()).unwrap();
        out.extend([
            ready.into_any(),
            sig.into_any(),
            epol.into_any(),
            eref.into_any(),
        ]);

        let mut s = self.supervisor();
        let mut pass = transition("w", 2).unwrap();
        at(&mut pass, 10);
        let mut spol = policy_evaluation("w", 2).unwrap();
        at(&mut spol, 20);
        let mut sref = refusal("w", 2).unwrap();
        sref.action = Action::IssueVerdict;
        sref.record.attempted_role = Role::Lead;
        s.append_batch([pass.clone()]).unwrap();
        s.append(spol.clone()).unwrap();
        s.append(sref.clone()).unwrap();
        out.extend([pass.into_any(), spol.into_any(), sref.into_any()]);

        let mut l = self.lead();
        let mut approve = transition("w", 3).unwrap();
        approve.action = Action::EscalationReview;
        approve.record.reason = Text::new("reason", "LEAD approves").unwrap();
        at(&mut approve, 30);
        let mut lref = refusal("w", 3).unwrap();
        lref.action = Action::DatabaseWrites;
        l.append(approve.clone()).unwrap();
        l.append(lref.clone()).unwrap();
        out.extend([approve.into_any(), lref.into_any()]);

        let mut m = self.system();
        let mut done = merged("w", 2).unwrap();
        at(&mut done, 40);
        let mut mref = refusal("w", 4).unwrap();
        mref.action = Action::AllowMerge;
        mref.record.operation = Text::new("operation", "merge").unwrap();
        mref.record.reason = Text::new("reason", "no PASS recorded for this bundle").unwrap();
        m.append(done.clone()).unwrap();
        m.append(mref.clone()).unwrap();
        out.extend([done.into_any(), mref.into_any()]);
        e.append(handoff("w", 1).unwrap()).unwrap();
        out.push(handoff("w", 1).unwrap().into_any());
        out
    }
}

pub fn workflow_kinds_round_trip_and_verify<F: Fixture>() {
    let Some(t) = Trail::<F>::new("flow") else {
        return;
    };
    let written = t.populate_workflow();
    let mut b = t.builder();
    let entries = b.entries(0, 100).unwrap();
    assert_eq!(entries.len(), written.len());
    for (e, w) in entries.iter().zip(&written) {
        assert_eq!(&e.event, w, "seq {}", e.seq);
    }
    let actors: Vec<Role> = entries.iter().map(|e| e.actor).collect();
    use Role::{ClaudeExec as C, Lead as L, Plan as P, System as S};
    assert_eq!(actors, [C, C, C, C, P, P, P, L, L, S, S, C]);
    let tables: Vec<&str> = entries[..4]
        .iter()
        .map(|e| e.event.record.kind().table())
        .collect();
    assert_eq!(
        tables,
        [
            "leo_label_transitions",
            "leo_artifact_signatures",
            "leo_policy_evaluations",
            "leo_refusals"
        ]
    );
    let report = b.verify(&t.trusted).unwrap();
    assert_eq!((report.entries, report.unsigned_tail), (12, 0));
    let found = b.find(&"w-merged-2".parse().unwrap()).unwrap();
    assert_eq!((found.seq, found.actor), (9, Role::System));
}

pub fn kind_window_reads_are_ordered_and_bounded<F: Fixture>() {
    let Some(t) = Trail::<F>::new("window") else {
        return;
    };
    t.populate_workflow();
    let mut b = t.builder();
    let far = Timestamp::from_unix_micros(i64::MAX);
    let all = b
        .entries_of_kind(
            RecordKind::LabelTransition,
            Timestamp::from_unix_micros(0),
            far,
        )
        .unwrap();
    let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [0, 4, 7, 9]);
    // [T0+10, T0+40) holds PLAN's PASS and LEAD's approval, not the merge at T0+40.
    let from = Timestamp::from_unix_micros(T0.unix_micros() + 10);
    let to = Timestamp::from_unix_micros(T0.unix_micros() + 40);
    let window = b
        .entries_of_kind(RecordKind::LabelTransition, from, to)
        .unwrap();
    assert_eq!(window.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 7]);
    assert_eq!(
        b.count_of_kind(RecordKind::LabelTransition, from, to)
            .unwrap(),
        2
    );
    assert_eq!(b.count_of_kind(RecordKind::Refusal, T0, far).unwrap(), 4);
    assert_eq!(b.count_of_kind(RecordKind::Approval, T0, far).unwrap(), 0);
    // Streaming stops when asked.
    let mut seen = Vec::new();
    let n = b
        .for_each_of_kind(RecordKind::Refusal, T0, far, |e| {
            seen.push(e.actor);
            if seen.len() == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(
        (n, seen.as_slice()),
        (2, [Role::ClaudeExec, Role::Plan].as_slice())
    );
    // An edited record is a typed error on the scan path too.
    t.fx.tamper("UPDATE leo_policy_evaluations SET result = 'maybe' WHERE seq = 5");
    let err = t
        .builder()
        .entries_of_kind(RecordKind::PolicyEvaluation, T0, far)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidField {
                field: "result",
                ..
            }
        ),
        "{err}"
    );
}

pub fn workflow_kinds_refusals_are_typed<F: Fixture>() {
    let Some(t) = Trail::<F>::new("flowdeny") else {
        return;
    };
    let mut s = t.supervisor();
    let mut ev = transition("d", 1).unwrap();
    ev.action = Action::SignArtifacts;
    assert!(matches!(
        s.append(ev),
        Err(Error::ActionNotAllowed {
            role: Role::Plan,
            action: Action::SignArtifacts
        })
    ));
    let mut ev = policy_evaluation("d", 1).unwrap();
    ev.action = Action::IssueVerdict;
    assert!(matches!(
        s.append(ev),
        Err(Error::ActionNotForRecord {
            kind: RecordKind::PolicyEvaluation,
            action: Action::IssueVerdict
        })
    ));
    // System records only under the merge step.
    let mut ev = merged("d", 1).unwrap();
    ev.action = Action::DatabaseWrites;
    assert!(matches!(
        t.system().append(ev),
        Err(Error::ActionNotAllowed {
            role: Role::System,
            action: Action::DatabaseWrites
        })
    ));
    let mut ev = refusal("d", 1).unwrap();
    ev.action = Action::MonitorGates;
    assert!(matches!(
        t.lead().append(ev),
        Err(Error::ActionNotAllowed {
            role: Role::Lead,
            action: Action::MonitorGates
        })
    ));
    let mut e = t.enforcer();
    let mut ev = transition("d", 2).unwrap();
    ev.action = Action::GeneratePatches;
    assert!(matches!(
        e.append(ev),
        Err(Error::ActionNotAllowed {
            role: Role::ClaudeExec,
            action: Action::GeneratePatches
        })
    ));
    let mut ev = artifact_signature("d", 1).unwrap();
    ev.action = Action::CreatePr;
    assert!(matches!(
        e.append(ev),
        Err(Error::ActionNotForRecord {
            kind: RecordKind::ArtifactSignature,
            action: Action::CreatePr
        })
    ));
    let mut ev = artifact_signature("d", 2).unwrap();
    ev.record.fallback_reason = None;
    assert!(matches!(
        e.append(ev),
        Err(Error::InvalidField {
            field: "fallback_reason",
            ..
        })
    ));
    assert_eq!(t.builder().size().unwrap(), 0);
}

/// Batches larger than one multi-row statement (128 rows) round-trip and verify, between
/// them every chunk size (150 = 128 + 16 + 6 × 1, 127 = 64 + 32 + 16 + 8 + 7 × 1); so does
/// a mixed batch large enough to be hashed on a second thread while it is inserted (512
/// rows or more, on SQLite; PostgreSQL looks every id up first), and its retries.
pub fn large_batches_round_trip<F: Fixture>() {
    let Some(t) = Trail::<F>::new("large") else {
        return;
    };
    let mut e = t.enforcer();
    let handoffs: Vec<_> = (1..=150).map(|n| handoff("big", n).unwrap()).collect();
    let sigs: Vec<_> = (1..=127)
        .map(|n| artifact_signature("big", n).unwrap())
        .collect();
    let r = e.append_batch(handoffs.clone()).unwrap();
    assert_eq!(r.last().map(|r| r.seq), Some(149));
    e.append_batch(sigs.clone()).unwrap();
    let mut b = t.builder();
    let report = b.verify(&t.trusted).unwrap();
    assert_eq!((report.entries, report.unsigned_tail), (277, 0));
    let stored = b.entries(0, 1000).unwrap();
    let written: Vec<Event> = handoffs
        .into_iter()
        .map(Event::into_any)
        .chain(sigs.into_iter().map(Event::into_any))
        .collect();
    assert_eq!(
        stored.into_iter().map(|e| e.event).collect::<Vec<_>>(),
        written
    );
    let far = Timestamp::from_unix_micros(i64::MAX);
    assert_eq!(
        b.count_of_kind(RecordKind::ArtifactSignature, T0, far)
            .unwrap(),
        127
    );

    // 1,100 rows of two kinds, interleaved: ten windows (32 rows, eight of 128, then 44).
    let pairs = |ns: &[u32]| {
        ns.iter()
            .map(|&n| {
                (
                    handoff("pipe", n).unwrap(),
                    artifact_signature("pipe", n).unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    let mixed = |ns: &[u32]| {
        let mut batch = Batch::<Enforcer>::new();
        for (h, a) in pairs(ns) {
            batch.push(h).push(a);
        }
        batch
    };
    let first: Vec<u32> = (1..551).collect();
    let r = e.append_mixed(mixed(&first)).unwrap();
    assert_eq!(r.len(), 1100);
    assert!(
        r.iter()
            .zip(277..)
            .all(|(r, seq)| r.seq == seq && !r.duplicate)
    );
    let report = b.verify(&t.trusted).unwrap();
    assert_eq!((report.entries, report.unsigned_tail), (1377, 0));
    let stored = b.entries(277, 1377).unwrap();
    assert!(
        stored
            .iter()
            .zip(&r)
            .all(|(s, r)| (s.seq, s.leaf_hash) == (r.seq, r.leaf_hash))
    );
    assert_eq!(
        stored.iter().map(|s| s.event.clone()).collect::<Vec<_>>(),
        pairs(&first)
            .into_iter()
            .flat_map(|(h, a)| [h.into_any(), a.into_any()])
            .collect::<Vec<_>>()
    );
    // Retried whole: every receipt a duplicate, nothing written.
    let again = e.append_mixed(mixed(&first)).unwrap();
    assert_eq!((again.len(), b.size().unwrap()), (1100, 1377));
    assert!(
        again
            .iter()
            .zip(&r)
            .all(|(a, r)| a.duplicate && a.seq == r.seq)
    );
    // 450 new pairs, then 100 recorded ones: on SQLite the duplicates are found in the last
    // windows, after earlier ones went in, and the batch is rolled back and appended again
    // with look-ups; on PostgreSQL the look-ups come first. Either way, once.
    let overlap: Vec<u32> = (551..1001).chain(1..101).collect();
    let r = e.append_mixed(mixed(&overlap)).unwrap();
    assert_eq!(r.len(), 1100);
    let fresh: Vec<u64> = r.iter().filter(|r| !r.duplicate).map(|r| r.seq).collect();
    assert_eq!(fresh, (1377..2277).collect::<Vec<_>>());
    assert!(
        r[900..]
            .iter()
            .zip(277..)
            .all(|(r, seq)| r.duplicate && r.seq == seq)
    );
    let report = b.verify(&t.trusted).unwrap();
    assert_eq!((report.entries, report.unsigned_tail), (2277, 0));
}
