//! The backend-independent suite: `suite!(Fixture)` instantiates every test for a backend.
#![allow(dead_code)]

use leo_store::RecordKind;
use leo_store::codec::{chain_next, leaf_hash_of};
use leo_store::samples::{approval, gate, handoff, signing_key, verification};
use leo_store::{
    Action, BuilderHandle, EnforcerHandle, Error, Event, LeadHandle, NoteSigner, NoteVerifier,
    Role, SupervisorHandle,
};

use crate::common::Fixture;

mod flow;
mod projection;
pub use flow::*;
pub use projection::*;

pub struct Trail<F> {
    pub fx: F,
    pub signer_key: String,
    pub trusted: Vec<NoteVerifier>,
}

impl<F: Fixture> Trail<F> {
    pub fn new(name: &str) -> Option<Self> {
        let fx = F::new(name)?;
        let signer = NoteSigner::generate("leo.test/audit").unwrap();
        Some(Trail {
            fx,
            trusted: vec![signer.verifier()],
            signer_key: signer.secret_key(),
        })
    }

    fn signer(&self) -> Option<NoteSigner> {
        Some(NoteSigner::from_secret_key(&self.signer_key).unwrap())
    }

    pub fn enforcer(&self) -> EnforcerHandle {
        EnforcerHandle::open(&self.fx.location(Role::ClaudeExec), self.signer()).unwrap()
    }

    pub fn supervisor(&self) -> SupervisorHandle {
        SupervisorHandle::open(&self.fx.location(Role::Plan), self.signer()).unwrap()
    }

    pub fn lead(&self) -> LeadHandle {
        LeadHandle::open(&self.fx.location(Role::Lead), self.signer()).unwrap()
    }

    pub fn builder(&self) -> BuilderHandle {
        BuilderHandle::open(&self.fx.location(Role::Codex)).unwrap()
    }

    /// Five records, one of each kind, from the three writers (seq 0..5), each its own batch.
    pub fn populate(&self) {
        let mut e = self.enforcer();
        e.append(handoff("p", 1).unwrap()).unwrap();
        let mut s = self.supervisor();
        s.append(verification("p", 1).unwrap()).unwrap();
        s.append(gate("p", 1).unwrap()).unwrap();
        self.lead().append(approval("p", 1).unwrap()).unwrap();
        e.append(signing_key("p", 1).unwrap()).unwrap();
    }
}

pub fn appends_and_reads_every_kind<F: Fixture>() {
    let Some(t) = Trail::<F>::new("rw") else {
        return;
    };
    t.populate();
    let mut b = t.builder();
    assert_eq!(b.size().unwrap(), 5);
    let entries = b.entries(0, 100).unwrap();
    let kinds: Vec<_> = entries
        .iter()
        .map(|e| e.event.record.kind().table())
        .collect();
    assert_eq!(
        kinds,
        [
            "leo_handoff_tracking",
            "leo_verification_results",
            "leo_gate_executions",
            "pr_approval_audit",
            "leo_signing_keys"
        ]
    );
    let actors: Vec<_> = entries.iter().map(|e| e.actor).collect();
    assert_eq!(
        actors,
        [
            Role::ClaudeExec,
            Role::Plan,
            Role::Plan,
            Role::Lead,
            Role::ClaudeExec
        ]
    );
    assert_eq!(entries[3].event, approval("p", 1).unwrap().into_any());
    let found = b.find(&"p-key-1".parse().unwrap()).unwrap();
    assert_eq!(found.seq, 4);
    assert_eq!(found.event, signing_key("p", 1).unwrap().into_any());
    assert!(matches!(b.entry(99), Err(Error::NotFound { .. })));
    assert!(matches!(
        b.find(&"nope".parse().unwrap()),
        Err(Error::NotFound { .. })
    ));
}

pub fn retries_are_idempotent<F: Fixture>() {
    let Some(t) = Trail::<F>::new("idem") else {
        return;
    };
    let mut e = t.enforcer();
    let first = e.append(handoff("i", 1).unwrap()).unwrap();
    let again = e.append(handoff("i", 1).unwrap()).unwrap();
    assert!(!first.duplicate && again.duplicate);
    assert_eq!((first.seq, first.leaf_hash), (again.seq, again.leaf_hash));
    // A batch that repeats an id, and retries one already stored.
    let r = e
        .append_batch([
            handoff("i", 2).unwrap(),
            handoff("i", 2).unwrap(),
            handoff("i", 1).unwrap(),
        ])
        .unwrap();
    assert_eq!(
        r.iter().map(|r| (r.seq, r.duplicate)).collect::<Vec<_>>(),
        [(1, false), (1, true), (0, true)]
    );
    assert_eq!(e.size().unwrap(), 2);
    // Same id, different content: refused, nothing written.
    let mut changed = handoff("i", 1).unwrap();
    changed.record.branch = leo_store::Text::new("branch", "feature/other").unwrap();
    assert!(matches!(
        e.append(changed),
        Err(Error::EventIdConflict { seq: 0, .. })
    ));
    // The same id twice in one batch with different content: refused, nothing written.
    let mut twin = handoff("i", 3).unwrap();
    twin.record.branch = leo_store::Text::new("branch", "feature/twin").unwrap();
    assert!(matches!(
        e.append_batch([handoff("i", 3).unwrap(), twin]),
        Err(Error::EventIdConflict { seq: 2, .. })
    ));
    assert_eq!(e.size().unwrap(), 2);
    // Same id from another role: refused too.
    let mut s = t.supervisor();
    let mut clash = gate("x", 1).unwrap();
    clash.id = "i-handoff-1".parse().unwrap();
    assert!(matches!(
        s.append(clash),
        Err(Error::EventIdConflict { seq: 0, .. })
    ));
    assert_eq!(t.builder().size().unwrap(), 2);
    t.builder().verify(&t.trusted).unwrap();
}

pub fn matrix_refusals_are_typed<F: Fixture>() {
    let Some(t) = Trail::<F>::new("matrix") else {
        return;
    };
    let mut e = t.enforcer();
    // The enforcer may record gate *triggers*, not monitoring results.
    let mut g = gate("m", 1).unwrap();
    assert!(matches!(
        e.append(g.clone()),
        Err(Error::ActionNotAllowed {
            role: Role::ClaudeExec,
            action: Action::MonitorGates
        })
    ));
    g.action = Action::TriggerWorkflows;
    e.append(g).unwrap();
    // PLAN may not trigger workflows.
    let mut s = t.supervisor();
    let mut g = gate("m", 2).unwrap();
    g.action = Action::TriggerWorkflows;
    assert!(matches!(
        s.append(g),
        Err(Error::ActionNotAllowed {
            role: Role::Plan,
            action: Action::TriggerWorkflows
        })
    ));
    // An action the role has, but not one a signing key is filed under.
    let mut k = signing_key("m", 1).unwrap();
    k.action = Action::CreatePr;
    assert!(matches!(
        e.append(k),
        Err(Error::ActionNotForRecord {
            kind: leo_store::RecordKind::SigningKey,
            action: Action::CreatePr
        })
    ));
    // LEAD may not issue verdicts even through a record type it can file.
    let mut a = approval("m", 1).unwrap();
    a.action = Action::IssueVerdict;
    assert!(matches!(
        t.lead().append(a),
        Err(Error::ActionNotAllowed {
            role: Role::Lead,
            action: Action::IssueVerdict
        })
    ));
    assert_eq!(t.builder().size().unwrap(), 1);
}

pub fn proofs_verify_against_signed_checkpoints<F: Fixture>() {
    let Some(t) = Trail::<F>::new("proofs") else {
        return;
    };
    let mut e = t.enforcer();
    for b in 0..6u32 {
        let batch: Vec<Event<_>> = (0..=b)
            .map(|i| handoff(&format!("b{b}"), i + 1).unwrap())
            .collect();
        e.append_batch(batch).unwrap();
    }
    let mut r = t.builder();
    let size = r.size().unwrap();
    assert_eq!(size, 21);
    let cps = r.checkpoints().unwrap();
    assert_eq!(
        cps.iter().map(|c| c.tree_size).collect::<Vec<_>>(),
        [1, 3, 6, 10, 15, 21]
    );
    for cp in &cps {
        for seq in 0..cp.tree_size {
            let p = r.inclusion_proof(seq, cp.tree_size).unwrap();
            p.verify_against(&cp.note, &t.trusted).unwrap();
        }
    }
    for (i, old) in cps.iter().enumerate() {
        for new in &cps[i..] {
            r.consistency_proof(old.tree_size, new.tree_size)
                .unwrap()
                .verify()
                .unwrap();
        }
    }
    // A proof for one record does not prove another.
    let mut p = r.inclusion_proof(4, size).unwrap();
    p.leaf_hash = r.inclusion_proof(5, size).unwrap().leaf_hash;
    assert!(matches!(
        p.verify(),
        Err(Error::ProofInvalid {
            kind: "inclusion",
            ..
        })
    ));
    assert!(matches!(
        r.inclusion_proof(0, size + 1),
        Err(Error::OutOfRange { .. })
    ));
    let report = r.verify(&t.trusted).unwrap();
    assert_eq!(
        (report.entries, report.checkpoints, report.unsigned_tail),
        (21, 6, 0)
    );
    assert_eq!(report.signers, ["leo.test/audit"]);
}

pub fn verify_names_an_edited_record<F: Fixture>() {
    let Some(t) = Trail::<F>::new("editrec") else {
        return;
    };
    t.populate();
    t.fx.tamper("UPDATE pr_approval_audit SET justification = 'nothing to see' WHERE seq = 3");
    let err = t.builder().verify(&t.trusted).unwrap_err();
    assert!(
        matches!(&err, Error::Tampered { seq: 3, table, reason } if table == "pr_approval_audit" && reason.contains("leaf hash")),
        "{err}"
    );
}

pub fn verify_names_an_edited_log_row<F: Fixture>() {
    let Some(t) = Trail::<F>::new("editlog") else {
        return;
    };
    t.populate();
    let log = t.fx.log_table(RecordKind::Verification);
    t.fx.tamper(&format!(
        "UPDATE {log} SET actor = 'CLAUDE_EXEC' WHERE seq = 1"
    ));
    assert!(matches!(
        t.builder().verify(&t.trusted),
        Err(Error::Tampered { seq: 1, .. })
    ));
}

pub fn verify_names_a_broken_chain<F: Fixture>() {
    let Some(t) = Trail::<F>::new("chain") else {
        return;
    };
    t.populate();
    let blob = t.fx.blob(&[7u8; 32]);
    let log = t.fx.log_table(RecordKind::GateExecution);
    t.fx.tamper(&format!(
        "UPDATE {log} SET chain_hash = {blob} WHERE seq = 2"
    ));
    let err = t.builder().verify(&t.trusted).unwrap_err();
    assert!(
        matches!(&err, Error::Tampered { seq: 2, reason, .. } if reason.contains("chain")),
        "{err}"
    );
}

/// The strongest attacker: edits a record *and* recomputes every leaf and chain link after
/// it. Only the signed checkpoints can catch this, and they do.
pub fn verify_catches_a_consistent_rewrite<F: Fixture>() {
    let Some(t) = Trail::<F>::new("rewrite") else {
        return;
    };
    t.populate();
    t.fx.tamper("UPDATE leo_gate_executions SET outcome = 'FAILURE' WHERE seq = 2");
    let mut r = t.builder();
    let mut chain = r.entry(1).unwrap().chain_hash;
    for seq in 2..5 {
        let e = r.entry(seq).unwrap();
        let leaf = leaf_hash_of(seq, e.actor, &e.event).unwrap();
        chain = chain_next(&chain, &leaf);
        t.fx.tamper(&format!(
            "UPDATE {} SET leaf_hash = {}, chain_hash = {} WHERE seq = {seq}",
            t.fx.log_table(e.event.record.kind()),
            t.fx.blob(&leaf),
            t.fx.blob(&chain)
        ));
    }
    let err = BuilderHandle::open(&t.fx.location(Role::Codex))
        .unwrap()
        .verify(&t.trusted)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Tampered { seq: 2, reason, .. } if reason.contains("signed checkpoint")),
        "{err}"
    );
}

pub fn verify_catches_deleted_rows<F: Fixture>() {
    let Some(t) = Trail::<F>::new("delete") else {
        return;
    };
    t.populate();
    t.fx.tamper(&format!(
        "DELETE FROM leo_verification_results WHERE seq = 1; DELETE FROM {} WHERE seq = 1",
        t.fx.log_table(RecordKind::Verification)
    ));
    let err = t.builder().verify(&t.trusted).unwrap_err();
    assert!(
        matches!(&err, Error::Tampered { seq: 1, reason, .. } if reason.contains("missing")),
        "{err}"
    );

    let Some(t) = Trail::<F>::new("deltail") else {
        return;
    };
    t.populate();
    t.fx.tamper(&format!(
        "DELETE FROM leo_signing_keys WHERE seq = 4; DELETE FROM {} WHERE seq = 4",
        t.fx.log_table(RecordKind::SigningKey)
    ));
    let err = t.builder().verify(&t.trusted).unwrap_err();
    assert!(
        matches!(&err, Error::Tampered { seq: 4, reason, .. } if reason.contains("deleted")),
        "{err}"
    );

    let Some(t) = Trail::<F>::new("delrec") else {
        return;
    };
    t.populate();
    t.fx.tamper("DELETE FROM leo_handoff_tracking WHERE seq = 0");
    let err = t.builder().verify(&t.trusted).unwrap_err();
    // Where the log is its own table (PostgreSQL), its row is left without a record; where
    // each row carries its log columns (SQLite), the log row went with it.
    if t.fx.log_table(RecordKind::Handoff) == "leo_log" {
        assert!(
            matches!(&err, Error::Tampered { seq: 0, table, .. } if table == "leo_handoff_tracking"),
            "{err}"
        );
    } else {
        assert!(
            matches!(&err, Error::Tampered { seq: 0, reason, .. } if reason.contains("log row is missing")),
            "{err}"
        );
    }
}

pub fn verify_rejects_untrusted_or_forged_checkpoints<F: Fixture>() {
    let Some(t) = Trail::<F>::new("forged") else {
        return;
    };
    t.populate();
    let stranger = NoteSigner::generate("leo.test/audit").unwrap().verifier();
    assert!(matches!(
        t.builder().verify(&[stranger]),
        Err(Error::CheckpointInvalid { size: 1, .. })
    ));
    t.fx.tamper("UPDATE leo_checkpoints SET note = replace(note, 'leo.test/audit', 'leo.test/audix') WHERE tree_size = 2");
    assert!(matches!(
        t.builder().verify(&t.trusted),
        Err(Error::CheckpointInvalid { size: 2, .. })
    ));
}

pub fn checkpoint_covers_an_unsigned_tail<F: Fixture>() {
    let Some(t) = Trail::<F>::new("tail") else {
        return;
    };
    let mut unsigned = EnforcerHandle::open(&t.fx.location(Role::ClaudeExec), None).unwrap();
    unsigned
        .append_batch([handoff("u", 1).unwrap(), handoff("u", 2).unwrap()])
        .unwrap();
    assert_eq!(unsigned.checkpoint().unwrap(), None);
    let r = t.builder().verify(&t.trusted).unwrap();
    assert_eq!((r.checkpoints, r.unsigned_tail), (0, 2));
    let note = t.enforcer().checkpoint().unwrap().unwrap();
    assert!(note.starts_with("leo.test/audit\n2\n"));
    let r = t.builder().verify(&t.trusted).unwrap();
    assert_eq!((r.checkpoints, r.signed_size, r.unsigned_tail), (1, 2, 0));
}

/// Instantiates every shared test for a fixture type.
#[macro_export]
macro_rules! suite {
    ($fixture:ty) => {
        mod shared {
            use super::*;
            #[test]
            fn appends_and_reads_every_kind() {
                suite::appends_and_reads_every_kind::<$fixture>();
            }
            #[test]
            fn retries_are_idempotent() {
                suite::retries_are_idempotent::<$fixture>();
            }
            #[test]
            fn matrix_refusals_are_typed() {
                suite::matrix_refusals_are_typed::<$fixture>();
            }
            #[test]
            fn proofs_verify_against_signed_checkpoints() {
                suite::proofs_verify_against_signed_checkpoints::<$fixture>();
            }
            #[test]
            fn verify_names_an_edited_record() {
                suite::verify_names_an_edited_record::<$fixture>();
            }
            #[test]
            fn verify_names_an_edited_log_row() {
                suite::verify_names_an_edited_log_row::<$fixture>();
            }
            #[test]
            fn verify_names_a_broken_chain() {
                suite::verify_names_a_broken_chain::<$fixture>();
            }
            #[test]
            fn verify_catches_a_consistent_rewrite() {
                suite::verify_catches_a_consistent_rewrite::<$fixture>();
            }
            #[test]
            fn verify_catches_deleted_rows() {
                suite::verify_catches_deleted_rows::<$fixture>();
            }
            #[test]
            fn verify_rejects_untrusted_or_forged_checkpoints() {
                suite::verify_rejects_untrusted_or_forged_checkpoints::<$fixture>();
            }
            #[test]
            fn checkpoint_covers_an_unsigned_tail() {
                suite::checkpoint_covers_an_unsigned_tail::<$fixture>();
            }
            #[test]
            fn workflow_kinds_round_trip_and_verify() {
                suite::workflow_kinds_round_trip_and_verify::<$fixture>();
            }
            #[test]
            fn kind_window_reads_are_ordered_and_bounded() {
                suite::kind_window_reads_are_ordered_and_bounded::<$fixture>();
            }
            #[test]
            fn large_batches_round_trip() {
                suite::large_batches_round_trip::<$fixture>();
            }
            #[test]
            fn workflow_kinds_refusals_are_typed() {
                suite::workflow_kinds_refusals_are_typed::<$fixture>();
            }
            #[test]
            fn projection_matches_decoded_entries() {
                suite::projection_matches_decoded_entries::<$fixture>();
            }
        }
    };
}
