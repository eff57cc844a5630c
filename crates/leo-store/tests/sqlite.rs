//! The shared suite on SQLite, plus SQLite's own role-separation layers: the read-only open
//! flag, the authorizers and the `RAISE(ABORT)` triggers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod suite;

use common::{Fixture, SqliteFixture};
use leo_store::schema::{MATRIX_CONSTRAINT, V2_TABLES_LIST, log_rules};
use leo_store::sqlite::{Connection, open_reader_connection, open_writer_connection};
use leo_store::{Action, BuilderHandle, EnforcerHandle, Error, Location, RecordKind, Role};
use rusqlite::ErrorCode;

suite!(SqliteFixture);

fn populated() -> suite::Trail<SqliteFixture> {
    let t = suite::Trail::<SqliteFixture>::new("sqlite").unwrap();
    t.populate();
    t
}

fn denied(conn: &Connection, sql: &str) -> String {
    match conn.execute_batch(sql) {
        Ok(()) => panic!("{sql} was allowed"),
        Err(e) => e.to_string(),
    }
}

const LOG_ROW: &str = "INSERT INTO leo_handoff_tracking VALUES (99, 'forged', 'CLAUDE_EXEC', \
     'CREATE_PR', 0, zeroblob(32), zeroblob(32), 'CLAUDE_APPLIED', 'b', 'c', 'feature/x', NULL)";

/// A forged row of `kind` filed by `actor` under `action` (schema version 3: the log
/// columns, then the record's), with record columns every constraint but the matrix admits.
fn forged(kind: RecordKind, actor: &str, action: &str) -> String {
    let record = match kind {
        RecordKind::Handoff => "'CLAUDE_APPLIED', 'b', 'c', 'feature/x', NULL",
        RecordKind::Verification => "1, 'PASS', 90, '[]', 'forged'",
        RecordKind::GateExecution => "1, 'lint', 'c', 'SUCCESS', 0, 0",
        RecordKind::Approval => "1, 'APPROVE', 'forged'",
        RecordKind::SigningKey => "'f', 'ed25519', zeroblob(32), NULL, 0, 1",
        RecordKind::LabelTransition => "'PRD-1', NULL, 'merged', 'forged'",
        RecordKind::Refusal => "'PRD-1', 'CODEX', 'merge', 'forged'",
        RecordKind::ArtifactSignature => "'sha256:00', 'raw', 'me', 'forged'",
        _ => "'p', 'r', 'Pod/ns/x', 'pass', 'audit', NULL",
    };
    format!(
        "INSERT INTO {} VALUES (99, 'forged', '{actor}', '{action}', 0, zeroblob(32), \
         zeroblob(32), {record})",
        kind.table()
    )
}

#[test]
fn builder_connection_is_read_only_by_flag_and_authorizer() {
    let t = populated();
    let conn = open_reader_connection(&t.fx.path).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM leo_log", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 5);
    for sql in [
        LOG_ROW,
        "DELETE FROM leo_handoff_tracking",
        "UPDATE leo_handoff_tracking SET actor = 'LEAD'",
        "INSERT INTO leo_event_ids VALUES ('forged', 99)",
        "CREATE TABLE x (a)",
    ] {
        assert!(denied(&conn, sql).contains("not authorized"), "{sql}");
    }
    // Without the authorizer, the read-only open flag alone still refuses.
    let flag_only = Connection::open_with_flags(&t.fx.path, rusqlite_flags()).unwrap();
    assert!(denied(&flag_only, LOG_ROW).contains("readonly"));
}

fn rusqlite_flags() -> leo_store::sqlite::OpenFlags {
    leo_store::sqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
}

#[test]
fn writer_connection_may_only_insert_into_append_tables() {
    let t = populated();
    let conn = open_writer_connection(&t.fx.path).unwrap();
    for sql in [
        "UPDATE leo_handoff_tracking SET actor = 'LEAD' WHERE seq = 0",
        "DELETE FROM pr_approval_audit",
        "DELETE FROM leo_event_ids",
        "DROP TABLE leo_checkpoints",
        "DROP VIEW leo_log",
        "ALTER TABLE leo_handoff_tracking ADD COLUMN x",
        "ATTACH DATABASE ':memory:' AS other",
        "CREATE TABLE shadow (a)",
        "DROP TRIGGER leo_handoff_tracking_no_update",
        "PRAGMA ignore_check_constraints = ON",
        "PRAGMA recursive_triggers = OFF",
        "INSERT INTO leo_role_actions VALUES ('CODEX', 'DATABASE_WRITES')",
        "PRAGMA user_version = 7",
    ] {
        assert!(denied(&conn, sql).contains("not authorized"), "{sql}");
    }
}

#[test]
fn triggers_refuse_changes_even_without_the_authorizer() {
    let t = populated();
    let conn = Connection::open(&t.fx.path).unwrap();
    for sql in [
        "UPDATE leo_handoff_tracking SET actor = 'LEAD' WHERE seq = 0",
        "UPDATE leo_event_ids SET seq = 7",
        "DELETE FROM leo_event_ids",
        "DELETE FROM leo_gate_executions",
        "UPDATE leo_checkpoints SET note = ''",
        "DELETE FROM leo_role_actions",
        "INSERT INTO leo_role_actions VALUES ('CODEX', 'DATABASE_WRITES')",
    ] {
        assert!(denied(&conn, sql).contains("append-only"), "{sql}");
    }
    // The matrix constraint: a builder row, or an action outside the role's column, is
    // refused.
    for (actor, action) in [
        ("CODEX", "GENERATE_PATCHES"),
        ("LEAD", "CREATE_PR"),
        ("CLAUDE_EXEC", "ISSUE_VERDICT"),
    ] {
        let sql = forged(RecordKind::Handoff, actor, action);
        assert!(
            denied(&conn, &sql).contains(MATRIX_CONSTRAINT),
            "{actor} {action}"
        );
    }
    // The view is not a way in.
    assert!(denied(&conn, "DELETE FROM leo_log").contains("view"));
}

#[test]
fn reader_needs_a_schema_and_refuses_newer_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE t (a)")
        .unwrap();
    let loc = Location::Sqlite(path.clone());
    assert!(matches!(
        BuilderHandle::open(&loc),
        Err(Error::SchemaMissing { .. })
    ));
    let t = populated();
    Connection::open(&t.fx.path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    let loc = t.fx.location(Role::ClaudeExec);
    assert!(matches!(
        EnforcerHandle::open(&loc, None),
        Err(Error::SchemaTooNew {
            found: 99,
            supported: leo_store::schema::SQLITE_SCHEMA_VERSION
        })
    ));
    assert!(matches!(
        BuilderHandle::open(&loc),
        Err(Error::SchemaTooNew { found: 99, .. })
    ));
}

#[test]
fn location_parsing_and_display() {
    assert_eq!(
        "sqlite:/tmp/a.db".parse::<Location>().unwrap(),
        Location::Sqlite("/tmp/a.db".into())
    );
    assert_eq!(
        "./leo.db".parse::<Location>().unwrap(),
        Location::Sqlite("./leo.db".into())
    );
    let pg: Location = "postgres://lead:s3cret@db:5432/leo".parse().unwrap();
    assert_eq!(pg.to_string(), "postgres://lead@db:5432/leo");
    assert!(!format!("{pg:?}").contains("s3cret"));
    for bad in ["", "sqlite:", "mysql://x/y"] {
        assert!(
            matches!(bad.parse::<Location>(), Err(Error::InvalidLocation { .. })),
            "{bad}"
        );
    }
}

/// The SQLite error code of a refused statement (panics if it was allowed).
fn refusal_code(conn: &Connection, sql: &str) -> (ErrorCode, i32) {
    match conn.execute_batch(sql) {
        Ok(()) => panic!("{sql} was allowed"),
        Err(rusqlite::Error::SqliteFailure(f, _)) => (f.code, f.extended_code),
        Err(e) => panic!("{sql}: unexpected error {e}"),
    }
}

const TRIGGER: i32 = rusqlite::ffi::SQLITE_CONSTRAINT_TRIGGER;
const CHECK: i32 = rusqlite::ffi::SQLITE_CONSTRAINT_CHECK;

fn kind_of(table: &str) -> RecordKind {
    RecordKind::ALL
        .into_iter()
        .find(|k| k.table() == table)
        .unwrap()
}

#[test]
fn version_2_tables_refuse_the_builder_and_every_change() {
    let t = suite::Trail::<SqliteFixture>::new("v2deny").unwrap();
    t.populate_workflow();
    let reader = open_reader_connection(&t.fx.path).unwrap();
    let writer = open_writer_connection(&t.fx.path).unwrap();
    let raw = Connection::open(&t.fx.path).unwrap();
    for table in V2_TABLES_LIST {
        let n: i64 = reader
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert!(n > 0, "{table} is empty");
        let insert = if table == "leo_log_rules" {
            "INSERT INTO leo_log_rules VALUES ('CODEX', 'GENERATE_PATCHES', 'refusal')".into()
        } else {
            forged(kind_of(table), "CLAUDE_EXEC", "SIGN_ARTIFACTS")
        };
        let update = format!("UPDATE {table} SET seq = seq");
        let update = if table == "leo_log_rules" {
            "UPDATE leo_log_rules SET actor = 'CODEX'".into()
        } else {
            update
        };
        let delete = format!("DELETE FROM {table}");
        // The builder: read-only authorizer.
        for sql in [&insert, &update, &delete] {
            assert_eq!(
                refusal_code(&reader, sql).0,
                ErrorCode::AuthorizationForStatementDenied,
                "{sql}"
            );
        }
        // Every writer: no update or delete, and no insert into the rules.
        for sql in [&update, &delete] {
            assert_eq!(
                refusal_code(&writer, sql).0,
                ErrorCode::AuthorizationForStatementDenied,
                "{sql}"
            );
        }
        if table == "leo_log_rules" {
            assert_eq!(
                refusal_code(&writer, &insert).0,
                ErrorCode::AuthorizationForStatementDenied
            );
        }
        // Without the authorizer: the append-only and frozen triggers.
        for sql in [&update, &delete] {
            assert_eq!(refusal_code(&raw, sql).1, TRIGGER, "{sql}");
        }
        if table == "leo_log_rules" {
            assert_eq!(refusal_code(&raw, &insert).1, TRIGGER);
        }
    }
}

/// Every `(actor, action, kind)`: each record table's matrix constraint admits exactly the
/// rule triples, from any connection.
#[test]
fn matrix_constraint_admits_exactly_the_rules() {
    let t = suite::Trail::<SqliteFixture>::new("v3matrix").unwrap();
    t.populate_workflow();
    let raw = Connection::open(&t.fx.path).unwrap();
    let rules: Vec<_> = log_rules().collect();
    let mut admitted = 0;
    let mut admitted_v2 = 0;
    for kind in RecordKind::ALL {
        for role in Role::ALL {
            for action in Action::ALL {
                let sql = format!(
                    "SAVEPOINT s; {}; ROLLBACK TO s; RELEASE s;",
                    forged(kind, role.as_str(), action.as_str())
                );
                if rules.contains(&(role, action, kind)) {
                    raw.execute_batch(&sql).unwrap();
                    admitted += 1;
                    admitted_v2 += usize::from(RecordKind::V2.contains(&kind));
                } else {
                    assert_eq!(refusal_code(&raw, &sql).1, CHECK, "{role} {action} {kind}");
                    raw.execute_batch("ROLLBACK TO s; RELEASE s;").unwrap();
                }
            }
        }
        let writers: Vec<Role> = kind.writers().collect();
        assert!(!writers.contains(&Role::Codex), "{kind}");
    }
    assert_eq!(admitted, rules.len());
    // Transitions and refusals each: CLAUDE_EXEC 4 actions (sign, PR, trigger, database
    // writes), PLAN 3 (monitor, verdict, database writes), LEAD 2, System 1 (merge);
    // signatures: CLAUDE_EXEC signing; policy evaluations: CLAUDE_EXEC trigger, PLAN monitor.
    assert_eq!(admitted_v2, 2 * (4 + 3 + 2 + 1) + 1 + 2);
}

/// `leo_event_ids` is the idempotency key, outside the rows the leaves cover: `verify`
/// compares it with the log, so an edit that would let a retry append an event twice is
/// named.
#[test]
fn verify_compares_the_event_id_index_with_the_log() {
    const UNMAPPED: &str = "does not map this row's event id to it";
    const ORPHAN: &str = "holds an event id no log row has";
    for (name, sql, seq, why) in [
        (
            "idlost",
            "DELETE FROM leo_event_ids WHERE seq = 2",
            2,
            UNMAPPED,
        ),
        (
            "idmoved",
            "UPDATE leo_event_ids SET seq = 4 WHERE seq = 1",
            1,
            UNMAPPED,
        ),
        (
            "idforged",
            "INSERT INTO leo_event_ids VALUES ('forged', 3)",
            3,
            ORPHAN,
        ),
    ] {
        let t = suite::Trail::<SqliteFixture>::new(name).unwrap();
        t.populate();
        t.builder().verify(&t.trusted).unwrap();
        t.fx.tamper(sql);
        let err = t.builder().verify(&t.trusted).unwrap_err();
        assert!(
            matches!(&err, Error::Tampered { seq: s, table, reason }
                if *s == seq && table == "leo_event_ids" && reason.contains(why)),
            "{name}: {err}"
        );
    }

    // With the index row of seq 0 gone, a retry of that event is appended again, with a
    // valid leaf, chain and checkpoint: only the index check sees the id twice.
    let t = suite::Trail::<SqliteFixture>::new("idtwice").unwrap();
    t.populate();
    t.fx.tamper("DELETE FROM leo_event_ids WHERE seq = 0");
    let again = t
        .enforcer()
        .append(leo_store::samples::handoff("p", 1).unwrap())
        .unwrap();
    assert_eq!((again.seq, again.duplicate), (5, false));
    let err = t.builder().verify(&t.trusted).unwrap_err();
    assert!(
        matches!(&err, Error::Tampered { seq: 0, table, reason }
            if table == "leo_event_ids" && reason.contains(UNMAPPED)),
        "{err}"
    );
}

/// The event-id index is not covered by any leaf: `find` checks the entry it points to.
#[test]
fn find_refuses_an_index_entry_for_another_record() {
    let t = populated();
    // A writer connection may insert index rows (the append path does).
    let conn = open_writer_connection(&t.fx.path).unwrap();
    conn.execute_batch("INSERT INTO leo_event_ids VALUES ('never-recorded', 3)")
        .unwrap();
    let err = t
        .builder()
        .find(&"never-recorded".parse().unwrap())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Tampered { seq: 3, table, .. } if table == "leo_event_ids"),
        "{err}"
    );
}

/// `INSERT OR REPLACE` would delete the row it replaces without asking the delete
/// triggers; a writer connection runs with `recursive_triggers` on, so they refuse it.
#[test]
fn a_writer_cannot_replace_rows() {
    let t = populated();
    let conn = open_writer_connection(&t.fx.path).unwrap();
    let checkpoint = "INSERT OR REPLACE INTO leo_checkpoints \
        SELECT tree_size, root_hash, note, actor, created_at FROM leo_checkpoints LIMIT 1";
    for sql in [
        forged(RecordKind::Handoff, "CLAUDE_EXEC", "CREATE_PR")
            .replace("INSERT INTO", "INSERT OR REPLACE INTO")
            .replace("VALUES (99,", "VALUES (0,"),
        "REPLACE INTO leo_event_ids SELECT event_id, 99 FROM leo_event_ids WHERE seq = 0".into(),
        checkpoint.into(),
    ] {
        let (code, ext) = refusal_code(&conn, &sql);
        assert_eq!(
            (code, ext),
            (ErrorCode::ConstraintViolation, TRIGGER),
            "{sql}"
        );
        assert!(denied(&conn, &sql).contains("append-only"), "{sql}");
    }
    t.builder().verify(&t.trusted).unwrap();
}

/// Verifies `t` and expects `Tampered` at `seq`, for a reason containing `part`.
fn assert_tampered(t: &suite::Trail<SqliteFixture>, seq: u64, part: &str) {
    let err = t.builder().verify(&t.trusted).unwrap_err();
    assert!(
        matches!(&err, Error::Tampered { seq: s, reason, .. } if *s == seq && reason.contains(part)),
        "{err}"
    );
}

/// `seq` is unique within each record table only; a row reusing another table's seq is
/// named as such.
#[test]
fn a_seq_in_two_tables_is_tampering() {
    let t = populated();
    // seq 1 is a verification result; a handoff claims it too.
    t.fx.tamper(
        &forged(RecordKind::Handoff, "CLAUDE_EXEC", "CREATE_PR")
            .replace("VALUES (99,", "VALUES (1,"),
    );
    assert_tampered(&t, 1, "appears as");
}

/// Builds that write leaf format version 2 refuse the schemas older builds write, so a
/// version 1 leaf after a version 2 one was not appended by LEO.
#[test]
fn a_version_1_leaf_after_version_2_leaves_is_tampering() {
    let t = populated();
    let mut b = t.builder();
    let e = b.entry(4).unwrap();
    let prev = b.entry(3).unwrap().chain_hash;
    let v1 = leo_store::codec::leaf_hash_v1_of(4, e.actor, &e.event).unwrap();
    let chain = leo_store::codec::chain_next(&prev, &v1);
    t.fx.tamper(&format!(
        "UPDATE leo_signing_keys SET leaf_hash = {}, chain_hash = {} WHERE seq = 4",
        t.fx.blob(&v1),
        t.fx.blob(&chain)
    ));
    // (The row is the last; its checkpoint would catch the rewrite too, after this check.)
    assert_tampered(&t, 4, "version 1");
}

/// A log column edited to another type is named at its own row, in `seq` order: an edit
/// before it is still the first finding.
#[test]
fn a_retyped_log_column_is_named_in_order() {
    let t = populated();
    t.fx.tamper("UPDATE pr_approval_audit SET recorded_at = 1.5 WHERE seq = 3");
    assert_tampered(&t, 3, "recorded_at is not an integer");
    t.fx.tamper("UPDATE leo_verification_results SET summary = 'edited' WHERE seq = 1");
    assert_tampered(&t, 1, "leaf hash");
}
