//! Mixed-kind batches ([`Batch`] + `WriterHandle::append_mixed`) on SQLite and PostgreSQL:
//! one workflow operation's records land in one transaction with one checkpoint, a batch
//! whose last record is refused (by a field check, the run-time matrix, the database's
//! matrix, or the database refusing the record row) leaves nothing appended, and a retried
//! batch is recognised record by record. PostgreSQL needs `LEO_TEST_PG_URL` (skips without
//! it outside CI).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
// Only the suite's `Trail` is used here, not the tests it re-exports.
#[allow(unused_imports)]
mod suite;

use common::{Fixture, SqliteFixture};
use leo_store::samples::{artifact_signature, gate, handoff, transition, verification};
use leo_store::{
    Action, Batch, Enforcer, EnforcerHandle, Error, Event, LabelTransition, Receipt, RecordKind,
    Role, SignatureBackend, Supervisor, Text,
};
use suite::Trail;

/// What the database must refuse in these tests, done as its superuser.
trait Refusing: Fixture {
    /// Removes the rule that lets `role` file `kind` under `action` from the database's
    /// matrix (`leo_log_rules`), leaving the run-time matrix as it is.
    fn drop_rule(&self, role: Role, action: Action, kind: RecordKind);
    /// Makes the database refuse every insert into `table`.
    fn refuse_inserts(&self, table: &str);
}

const REFUSED_BY_TEST: &str = "refused by the mixed batch test";

impl Refusing for SqliteFixture {
    fn drop_rule(&self, role: Role, action: Action, kind: RecordKind) {
        // SQLite's matrix is each record table's CHECK constraint, which cannot be
        // narrowed in place: a trigger refuses the triple instead, as a narrower
        // constraint would.
        let conn = leo_store::sqlite::Connection::open(&self.path).unwrap();
        conn.execute_batch(&format!(
            "CREATE TRIGGER leo_test_narrower_matrix BEFORE INSERT ON {} \
             WHEN NEW.actor = '{role}' AND NEW.action = '{action}' \
             BEGIN SELECT RAISE(ABORT, 'narrower matrix'); END",
            kind.table()
        ))
        .unwrap();
    }

    fn refuse_inserts(&self, table: &str) {
        let conn = leo_store::sqlite::Connection::open(&self.path).unwrap();
        conn.execute_batch(&format!(
            "CREATE TRIGGER leo_test_refuse BEFORE INSERT ON {table} \
             BEGIN SELECT RAISE(ABORT, '{REFUSED_BY_TEST}'); END"
        ))
        .unwrap();
    }
}

#[cfg(feature = "postgres")]
impl Refusing for common::PgFixture {
    fn drop_rule(&self, role: Role, action: Action, kind: RecordKind) {
        self.tamper(&format!(
            "DELETE FROM leo_log_rules \
             WHERE actor = '{role}' AND action = '{action}' AND kind = '{kind}'"
        ));
    }

    fn refuse_inserts(&self, table: &str) {
        self.tamper(&format!(
            "CREATE FUNCTION leo_test_refuse() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION '{REFUSED_BY_TEST}'; END $$; \
             CREATE TRIGGER leo_test_refuse BEFORE INSERT ON {table} \
             FOR EACH ROW EXECUTE FUNCTION leo_test_refuse()"
        ));
    }
}

/// Log size and checkpoint sizes, as the builder sees them; the trail verifies.
fn state<F: Fixture>(t: &Trail<F>) -> (u64, Vec<u64>) {
    let mut b = t.builder();
    b.verify(&t.trusted).unwrap();
    let sizes = b
        .checkpoints()
        .unwrap()
        .iter()
        .map(|c| c.tree_size)
        .collect();
    (b.size().unwrap(), sizes)
}

/// The enforcer's `claude_enforcing → gates_passing` for bundle `n`.
fn apply_label(prefix: &str, n: u32) -> Event<LabelTransition> {
    let mut label = transition(prefix, n).unwrap();
    label.action = Action::TriggerWorkflows;
    label.record.from = Some(Text::new("from", "claude_enforcing").unwrap());
    label.record.to = Text::new("to", "gates_passing").unwrap();
    label.record.reason = Text::new("reason", "[CLAUDE-APPLIED]; workflows triggered").unwrap();
    label
}

/// The enforcer's apply of bundle `n`: the transition, the `[CLAUDE-APPLIED]` handoff, then
/// the artifact signature (last).
fn apply_batch(n: u32) -> Batch<Enforcer> {
    let mut batch = Batch::new();
    batch
        .push(apply_label("apply", n))
        .push(handoff("apply", n).unwrap())
        .push(artifact_signature("apply", n).unwrap());
    batch
}

/// PLAN's PASS: the verification result, a gate run it monitored, then the transition.
fn verdict_batch(n: u32) -> Batch<Supervisor> {
    let mut batch = Batch::new();
    batch.push(verification("plan", n).unwrap());
    batch.extend([gate("plan", n).unwrap()]);
    batch.push(transition("plan", n).unwrap());
    batch
}

fn seqs(receipts: &[Receipt]) -> Vec<(u64, bool)> {
    receipts.iter().map(|r| (r.seq, r.duplicate)).collect()
}

fn lands_atomically<F: Refusing>() {
    let Some(t) = Trail::<F>::new("mixedok") else {
        return;
    };
    let mut e = t.enforcer();
    let apply = apply_batch(1);
    assert_eq!(apply.len(), 3);
    let r = e.append_mixed(apply.clone()).unwrap();
    assert_eq!(seqs(&r), [(0, false), (1, false), (2, false)]);
    let plan = verdict_batch(1);
    let r = t.supervisor().append_mixed(plan.clone()).unwrap();
    assert_eq!(seqs(&r), [(3, false), (4, false), (5, false)]);

    // One checkpoint per batch, none inside one.
    assert_eq!(state(&t), (6, vec![3, 6]));
    let entries = t.builder().entries(0, 10).unwrap();
    let written: Vec<&Event> = apply.events().iter().chain(plan.events()).collect();
    assert_eq!(
        entries.iter().map(|e| &e.event).collect::<Vec<_>>(),
        written
    );
    let kinds: Vec<RecordKind> = entries.iter().map(|e| e.event.record.kind()).collect();
    use RecordKind::{ArtifactSignature, GateExecution, Handoff, LabelTransition, Verification};
    assert_eq!(
        kinds,
        [
            LabelTransition,
            Handoff,
            ArtifactSignature,
            Verification,
            GateExecution,
            LabelTransition
        ]
    );
    let actors: Vec<Role> = entries.iter().map(|e| e.actor).collect();
    use Role::{ClaudeExec as C, Plan as P};
    assert_eq!(actors, [C, C, C, P, P, P]);
    // An empty batch writes nothing, not even a checkpoint.
    assert!(e.append_mixed(Batch::new()).unwrap().is_empty());
    assert_eq!(state(&t), (6, vec![3, 6]));
}

/// Appends `batch`, expects `check` to accept the error, and that nothing changed.
fn refused<F: Refusing>(
    t: &Trail<F>,
    e: &mut EnforcerHandle,
    batch: Batch<Enforcer>,
    check: impl FnOnce(&Error) -> bool,
) {
    let before = state(t);
    let err = e.append_mixed(batch).unwrap_err();
    assert!(check(&err), "{err}");
    assert_eq!(state(t), before, "after {err}");
}

fn a_refused_last_record_leaves_nothing<F: Refusing>() {
    let Some(t) = Trail::<F>::new("mixedno") else {
        return;
    };
    let mut e = t.enforcer();
    e.append(handoff("before", 1).unwrap()).unwrap();

    // A field check: an OpenPGP signature must say why Sigstore was not used.
    let mut batch = apply_batch(1);
    let mut sig = artifact_signature("bad", 1).unwrap();
    sig.record.backend = SignatureBackend::Openpgp;
    sig.record.fallback_reason = None;
    batch.push(sig);
    refused(&t, &mut e, batch, |err| {
        matches!(
            err,
            Error::InvalidField {
                field: "fallback_reason",
                ..
            }
        )
    });

    // The run-time matrix: the enforcer triggers gates, it does not monitor them.
    let mut batch = apply_batch(1);
    batch.push(gate("bad", 1).unwrap());
    refused(&t, &mut e, batch, |err| {
        matches!(
            err,
            Error::ActionNotAllowed {
                role: Role::ClaudeExec,
                action: Action::MonitorGates
            }
        )
    });

    // The database's matrix, which no longer lets the enforcer file signatures: the
    // transition and the handoff before it were accepted inside the transaction.
    t.fx.drop_rule(
        Role::ClaudeExec,
        Action::SignArtifacts,
        RecordKind::ArtifactSignature,
    );
    refused(&t, &mut e, apply_batch(1), |err| {
        matches!(err, Error::DeniedByDatabase { .. })
    });

    // The handle is still usable, and the log continues where it was.
    let mut ok = Batch::<Enforcer>::new();
    ok.push(apply_label("after", 2))
        .push(handoff("after", 2).unwrap());
    let r = e.append_mixed(ok).unwrap();
    assert_eq!(seqs(&r), [(1, false), (2, false)]);
    assert_eq!(state(&t), (3, vec![1, 3]));
}

fn a_refused_record_row_leaves_nothing<F: Refusing>() {
    let Some(t) = Trail::<F>::new("mixedrow") else {
        return;
    };
    let mut e = t.enforcer();
    e.append(handoff("before", 1).unwrap()).unwrap();
    // The signature's log row is admitted; its record row, written after the log rows and
    // the other kinds' record rows, is refused.
    t.fx.refuse_inserts("leo_artifact_signatures");
    refused(
        &t,
        &mut e,
        apply_batch(1),
        |err| matches!(err, Error::DeniedByDatabase { message, .. } if message.contains(REFUSED_BY_TEST)),
    );
    assert_eq!(t.builder().entries(0, 10).unwrap().len(), 1);
}

fn a_retried_batch_is_recognised<F: Refusing>() {
    let Some(t) = Trail::<F>::new("mixedretry") else {
        return;
    };
    let mut e = t.enforcer();
    let first = e.append_mixed(apply_batch(1)).unwrap();
    let before = state(&t);
    assert_eq!(before, (3, vec![3]));

    // From a new handle, as a restarted enforcer would retry.
    let again = t.enforcer().append_mixed(apply_batch(1)).unwrap();
    assert!(again.iter().all(|r| r.duplicate));
    let key = |r: &[Receipt]| r.iter().map(|r| (r.seq, r.leaf_hash)).collect::<Vec<_>>();
    assert_eq!(key(&again), key(&first));
    assert_eq!(state(&t), before);

    // Same ids, one record changed: refused as a whole.
    let mut h = handoff("apply", 1).unwrap();
    h.record.branch = Text::new("branch", "feature/other").unwrap();
    let mut changed = Batch::<Enforcer>::new();
    changed
        .push(apply_label("apply", 1))
        .push(h)
        .push(artifact_signature("apply", 1).unwrap());
    refused(&t, &mut e, changed, |err| {
        matches!(err, Error::EventIdConflict { seq: 1, .. })
    });

    // A retry that also carries a new record appends only that one.
    let mut more = apply_batch(1);
    more.push(handoff("apply", 2).unwrap());
    let r = e.append_mixed(more).unwrap();
    assert_eq!(seqs(&r), [(0, true), (1, true), (2, true), (3, false)]);
    assert_eq!(state(&t), (4, vec![3, 4]));

    // A new record of an early kind with a retry of a later kind: where the database finds
    // the recorded id only after the new row went in (SQLite), that is rolled back and the
    // batch appended again with look-ups; the handle goes on from the right place.
    let mut late = Batch::<Enforcer>::new();
    late.push(handoff("apply", 3).unwrap())
        .push(artifact_signature("apply", 1).unwrap());
    let r = e.append_mixed(late).unwrap();
    assert_eq!(seqs(&r), [(4, false), (2, true)]);
    let r = e.append(handoff("apply", 4).unwrap()).unwrap();
    assert_eq!((r.seq, r.duplicate), (5, false));
    assert_eq!(state(&t), (6, vec![3, 4, 5, 6]));
}

macro_rules! mixed_suite {
    ($name:ident, $fixture:ty) => {
        mod $name {
            use super::*;
            #[test]
            fn a_mixed_batch_lands_atomically() {
                lands_atomically::<$fixture>();
            }
            #[test]
            fn a_refused_last_record_leaves_nothing() {
                super::a_refused_last_record_leaves_nothing::<$fixture>();
            }
            #[test]
            fn a_refused_record_row_leaves_nothing() {
                super::a_refused_record_row_leaves_nothing::<$fixture>();
            }
            #[test]
            fn a_retried_batch_is_recognised() {
                super::a_retried_batch_is_recognised::<$fixture>();
            }
        }
    };
}

mixed_suite!(sqlite, SqliteFixture);
#[cfg(feature = "postgres")]
mixed_suite!(postgres, common::PgFixture);
