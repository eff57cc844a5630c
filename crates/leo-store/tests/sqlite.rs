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
use leo_store::schema::{V2_TABLES_LIST, log_rules};
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

const LOG_ROW: &str = "INSERT INTO leo_log VALUES (99, 'forged', 'handoff', 'CLAUDE_EXEC', 'CREATE_PR', 0, zeroblob(32), zeroblob(32))";

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
        "DELETE FROM leo_log",
        "UPDATE leo_log SET actor = 'LEAD'",
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
        "UPDATE leo_log SET actor = 'LEAD' WHERE seq = 0",
        "DELETE FROM pr_approval_audit",
        "DROP TABLE leo_checkpoints",
        "ALTER TABLE leo_log ADD COLUMN x",
        "ATTACH DATABASE ':memory:' AS other",
        "CREATE TABLE shadow (a)",
        "DROP TRIGGER leo_log_no_update",
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
        "UPDATE leo_log SET actor = 'LEAD' WHERE seq = 0",
        "DELETE FROM leo_gate_executions",
        "UPDATE leo_checkpoints SET note = ''",
        "DELETE FROM leo_role_actions",
        "INSERT INTO leo_role_actions VALUES ('CODEX', 'DATABASE_WRITES')",
    ] {
        assert!(denied(&conn, sql).contains("append-only"), "{sql}");
    }
    // The matrix trigger: a builder row, or an action outside the role's column, is refused.
    for (actor, action) in [
        ("CODEX", "GENERATE_PATCHES"),
        ("LEAD", "CREATE_PR"),
        ("CLAUDE_EXEC", "ISSUE_VERDICT"),
    ] {
        let sql = format!(
            "INSERT INTO leo_log VALUES (99, 'forged', 'handoff', '{actor}', '{action}', 0, zeroblob(32), zeroblob(32))"
        );
        assert!(
            denied(&conn, &sql).contains("accountability matrix"),
            "{actor} {action}"
        );
    }
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
            supported: leo_store::schema::SCHEMA_VERSION
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

fn v2_record_row(table: &str) -> String {
    let values = match table {
        "leo_label_transitions" => "(99, 'PRD-1', NULL, 'merged', 'forged')",
        "leo_refusals" => "(99, 'PRD-1', 'CODEX', 'merge', 'forged')",
        "leo_artifact_signatures" => "(99, 'sha256:00', 'raw', 'me', 'forged')",
        _ => "(99, 'p', 'r', 'Pod/ns/x', 'pass', 'audit', NULL)",
    };
    format!("INSERT INTO {table} VALUES {values}")
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
            v2_record_row(table)
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

/// Every `(actor, action, kind)` of the version 2 kinds: the matrix trigger admits exactly
/// the rule triples, from any connection.
#[test]
fn matrix_trigger_admits_exactly_the_rules_for_version_2_kinds() {
    let t = suite::Trail::<SqliteFixture>::new("v2matrix").unwrap();
    t.populate_workflow();
    let raw = Connection::open(&t.fx.path).unwrap();
    let rules: Vec<_> = log_rules().collect();
    let mut admitted = 0;
    for kind in RecordKind::V2 {
        for role in Role::ALL {
            for action in Action::ALL {
                let sql = format!(
                    "SAVEPOINT s; INSERT INTO leo_log VALUES (99, 'forged', '{kind}', '{role}', \
                     '{action}', 0, zeroblob(32), zeroblob(32)); ROLLBACK TO s; RELEASE s;"
                );
                if rules.contains(&(role, action, kind)) {
                    raw.execute_batch(&sql).unwrap();
                    admitted += 1;
                } else {
                    assert_eq!(
                        refusal_code(&raw, &sql).1,
                        TRIGGER,
                        "{role} {action} {kind}"
                    );
                    raw.execute_batch("ROLLBACK TO s; RELEASE s;").unwrap();
                }
            }
        }
        let writers: Vec<Role> = kind.writers().collect();
        assert!(!writers.contains(&Role::Codex), "{kind}");
    }
    // Transitions and refusals each: CLAUDE_EXEC 4 actions (sign, PR, trigger, database
    // writes), PLAN 3 (monitor, verdict, database writes), LEAD 2, System 1 (merge);
    // signatures: CLAUDE_EXEC signing; policy evaluations: CLAUDE_EXEC trigger, PLAN monitor.
    assert_eq!(admitted, 2 * (4 + 3 + 2 + 1) + 1 + 2);
}
