//! The shared suite on PostgreSQL, plus PostgreSQL's own role-separation layers: grants,
//! the no-login owner, append-only triggers and row-level security binding each row's actor
//! to `current_user`. Needs `LEO_TEST_PG_URL` (scripts/test.d/20-postgres.sh); skips without
//! it outside CI.
#![cfg(feature = "postgres")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod suite;

use common::{Fixture, PgFixture};
use leo_store::postgres::{Client, SqlState};
use leo_store::schema::log_rules;
use leo_store::{
    Action, BuilderHandle, EnforcerHandle, Error, RecordKind, Role, SupervisorHandle, SystemHandle,
};

suite!(PgFixture);

fn populated(name: &str) -> Option<suite::Trail<PgFixture>> {
    let t = suite::Trail::<PgFixture>::new(name)?;
    t.populate();
    Some(t)
}

fn refused(c: &mut Client, sql: &str) -> String {
    c.batch_execute("BEGIN").unwrap();
    let r = c.batch_execute(sql);
    c.batch_execute("ROLLBACK").unwrap();
    match r {
        Ok(()) => panic!("{sql} was allowed"),
        Err(e) => e
            .as_db_error()
            .map(|d| d.message().to_owned())
            .unwrap_or_else(|| e.to_string()),
    }
}

const LOG_ROW: &str = "INSERT INTO leo_log VALUES (99, 'forged', 'handoff', '{actor}', '{action}', 0, '\\x{z}'::bytea, '\\x{z}'::bytea)";

fn log_row(actor: &str, action: &str) -> String {
    LOG_ROW
        .replace("{actor}", actor)
        .replace("{action}", action)
        .replace("{z}", &"00".repeat(32))
}

#[test]
fn builder_role_may_only_select() {
    let Some(t) = populated("pgbuilder") else {
        return;
    };
    let mut c = t.fx.client_as(Role::Codex);
    let n: i64 = c
        .query_one("SELECT count(*) FROM leo_log", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 5);
    for sql in [
        log_row("CLAUDE_EXEC", "CREATE_PR"),
        "UPDATE leo_log SET actor = 'LEAD'".into(),
        "DELETE FROM leo_log".into(),
        "TRUNCATE leo_log CASCADE".into(),
    ] {
        assert!(refused(&mut c, &sql).contains("permission denied"), "{sql}");
    }
    // The builder login has no writer mapping: a writer handle cannot be opened with it.
    let loc = t.fx.location(Role::Codex);
    assert!(matches!(
        EnforcerHandle::open(&loc, None),
        Err(Error::DeniedByDatabase { .. })
    ));
    BuilderHandle::open(&loc)
        .unwrap()
        .verify(&t.trusted)
        .unwrap();
}

#[test]
fn writer_roles_may_only_insert_in_their_own_name() {
    let Some(t) = populated("pgwriter") else {
        return;
    };
    let mut c = t.fx.client_as(Role::ClaudeExec);
    for sql in [
        "UPDATE leo_log SET actor = 'LEAD' WHERE seq = 0",
        "DELETE FROM pr_approval_audit",
        "TRUNCATE leo_checkpoints",
        "INSERT INTO leo_role_actions VALUES ('CODEX', 'DATABASE_WRITES')",
        "INSERT INTO leo_actor_roles VALUES (current_user, 'PLAN')",
    ] {
        assert!(refused(&mut c, sql).contains("permission denied"), "{sql}");
    }
    assert!(refused(&mut c, "DROP TABLE leo_log CASCADE").contains("must be owner"));
    // Row-level security: the actor must be current_user's role, the action in its column.
    for (actor, action) in [
        ("PLAN", "ISSUE_VERDICT"),
        ("CLAUDE_EXEC", "ISSUE_VERDICT"),
        ("CODEX", "GENERATE_PATCHES"),
    ] {
        assert!(
            refused(&mut c, &log_row(actor, action)).contains("row-level security"),
            "{actor} {action}"
        );
    }
    // A record row may only hang off a log row of the inserting role (seq 1 is PLAN's).
    let sql = "INSERT INTO leo_verification_results VALUES (1, 1, 'PASS', 99, '[]', 'forged')";
    assert!(refused(&mut c, sql).contains("row-level security"));
    // A checkpoint row in another role's name is refused too.
    let sql = "INSERT INTO leo_checkpoints VALUES (99, '\\x00'::bytea, 'n', 'LEAD', 0)";
    assert!(refused(&mut c, sql).contains("row-level security"));
    // Opening a handle for another role with this login is refused.
    let loc = t.fx.location(Role::ClaudeExec);
    assert!(matches!(
        SupervisorHandle::open(&loc, None),
        Err(Error::DeniedByDatabase { .. })
    ));
}

#[test]
fn owner_and_superuser_hit_the_triggers() {
    let Some(t) = populated("pgowner") else {
        return;
    };
    let mut admin = t.fx.admin();
    admin
        .batch_execute(&format!("SET search_path = {}", t.fx.roles.schema))
        .unwrap();
    for sql in [
        "UPDATE leo_log SET actor = 'LEAD' WHERE seq = 0",
        "DELETE FROM leo_gate_executions",
        "TRUNCATE leo_checkpoints",
    ] {
        assert!(refused(&mut admin, sql).contains("append-only"), "{sql}");
    }
    // The owner is NOLOGIN; even SET ROLE to it finds no row to change (row-level security
    // has no UPDATE or DELETE policy) and TRUNCATE hits the trigger.
    let owner = &t.fx.roles.owner;
    admin
        .batch_execute(&format!("BEGIN; SET LOCAL ROLE {owner}"))
        .unwrap();
    assert_eq!(
        admin
            .execute("UPDATE leo_log SET actor = 'LEAD'", &[])
            .unwrap(),
        0
    );
    assert_eq!(admin.execute("DELETE FROM leo_log", &[]).unwrap(), 0);
    admin.batch_execute("ROLLBACK").unwrap();
    let sql = format!("SET LOCAL ROLE {owner}; TRUNCATE leo_log CASCADE");
    assert!(refused(&mut admin, &sql).contains("append-only"));
    let login: bool = admin
        .query_one(
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = $1",
            &[&t.fx.roles.owner],
        )
        .unwrap()
        .get(0);
    assert!(!login, "the owner role must be NOLOGIN");
}

#[test]
fn install_refuses_bad_schema_names() {
    let Some(url) = common::pg_url() else { return };
    let mut admin = Client::connect(&url, leo_store::postgres::NoTls).unwrap();
    for bad in ["", "Upper", "1abc", "a;drop", &"x".repeat(41)] {
        assert!(matches!(
            leo_store::postgres::install(&mut admin, bad, None),
            Err(Error::InvalidField {
                field: "schema",
                ..
            })
        ));
    }
}

/// The SQLSTATE of a refused statement (panics if it was allowed).
fn refusal_state(c: &mut Client, sql: &str) -> SqlState {
    c.batch_execute("BEGIN").unwrap();
    let r = c.batch_execute(sql);
    c.batch_execute("ROLLBACK").unwrap();
    match r {
        Ok(()) => panic!("{sql} was allowed"),
        Err(e) => e.code().cloned().unwrap_or_else(|| panic!("{sql}: {e}")),
    }
}

fn v2_log_row(seq: u64, kind: RecordKind, actor: Role, action: Action) -> String {
    format!(
        "INSERT INTO leo_log VALUES ({seq}, 'forged-{seq}', '{kind}', '{actor}', '{action}', 0, '\\x{z}'::bytea, '\\x{z}'::bytea)",
        z = "00".repeat(32)
    )
}

fn v2_record_row(seq: u64, kind: RecordKind) -> String {
    let values = match kind {
        RecordKind::LabelTransition => "'PRD-1', NULL, 'merged', 'forged'",
        RecordKind::Refusal => "'PRD-1', 'CODEX', 'merge', 'forged'",
        RecordKind::ArtifactSignature => "'sha256:00', 'raw', 'me', 'forged'",
        _ => "'p', 'r', 'Pod/ns/x', 'pass', 'audit', NULL",
    };
    format!("INSERT INTO {} VALUES ({seq}, {values})", kind.table())
}

#[test]
fn version_2_tables_refuse_the_builder_every_change_and_the_superuser() {
    let Some(t) = suite::Trail::<PgFixture>::new("pgv2deny") else {
        return;
    };
    t.populate_workflow();
    let mut admin = t.fx.admin();
    admin
        .batch_execute(&format!("SET search_path = {}", t.fx.roles.schema))
        .unwrap();
    for kind in RecordKind::V2 {
        let table = kind.table();
        let insert = v2_record_row(99, kind);
        let update = format!("UPDATE {table} SET seq = seq");
        let delete = format!("DELETE FROM {table}");
        let truncate = format!("TRUNCATE {table}");
        for role in Role::ALL {
            let mut c = t.fx.client_as(role);
            for sql in [&update, &delete, &truncate] {
                assert_eq!(
                    refusal_state(&mut c, sql),
                    SqlState::INSUFFICIENT_PRIVILEGE,
                    "{role}: {sql}"
                );
            }
            // The builder has no INSERT grant; writers hit row-level security (no log row).
            assert_eq!(
                refusal_state(&mut c, &insert),
                SqlState::INSUFFICIENT_PRIVILEGE,
                "{role}: {insert}"
            );
        }
        for sql in [&update, &delete, &truncate] {
            assert_eq!(
                refusal_state(&mut admin, sql),
                SqlState::RAISE_EXCEPTION,
                "superuser: {sql}"
            );
        }
    }
    let mut c = t.fx.client_as(Role::ClaudeExec);
    let sql = "INSERT INTO leo_log_rules VALUES ('CODEX', 'GENERATE_PATCHES', 'refusal')";
    assert_eq!(refusal_state(&mut c, sql), SqlState::INSUFFICIENT_PRIVILEGE);
    assert_eq!(
        refusal_state(&mut admin, "DELETE FROM leo_log_rules"),
        SqlState::RAISE_EXCEPTION
    );
}

/// Every writer login, every `(actor, action, kind)` of the version 2 kinds: row-level
/// security admits exactly the login's own rule triples, and a record row only under a log
/// row of the login's role and of the record's kind.
#[test]
fn row_level_security_admits_exactly_each_logins_rules_for_version_2_kinds() {
    let Some(t) = suite::Trail::<PgFixture>::new("pgv2rls") else {
        return;
    };
    let rules: Vec<_> = log_rules().collect();
    let mut admitted = 0;
    for login in [Role::ClaudeExec, Role::Plan, Role::Lead, Role::System] {
        let mut c = t.fx.client_as(login);
        for kind in RecordKind::V2 {
            for actor in Role::ALL {
                for action in Action::ALL {
                    let log = v2_log_row(99, kind, actor, action);
                    if actor == login && rules.contains(&(actor, action, kind)) {
                        c.batch_execute(&format!(
                            "BEGIN; {log}; {}; ROLLBACK",
                            v2_record_row(99, kind)
                        ))
                        .unwrap();
                        admitted += 1;
                        // The same log row, but a record row in another kind's table.
                        let other = RecordKind::V2.into_iter().find(|k| *k != kind).unwrap();
                        let sql = format!("{log}; {}", v2_record_row(99, other));
                        assert_eq!(
                            refusal_state(&mut c, &sql),
                            SqlState::INSUFFICIENT_PRIVILEGE,
                            "{login}: {kind} row in {}",
                            other.table()
                        );
                    } else {
                        assert_eq!(
                            refusal_state(&mut c, &log),
                            SqlState::INSUFFICIENT_PRIVILEGE,
                            "{login} as {actor} {action} {kind}"
                        );
                    }
                }
            }
        }
    }
    assert_eq!(admitted, 2 * (4 + 3 + 2 + 1) + 1 + 2);
}

#[test]
fn system_handle_needs_the_system_login_and_upgrade_is_idempotent() {
    let Some(t) = suite::Trail::<PgFixture>::new("pgsystem") else {
        return;
    };
    let loc = t.fx.location(Role::Plan);
    assert!(matches!(
        SystemHandle::open(&loc, None),
        Err(Error::DeniedByDatabase { .. })
    ));
    let loc = t.fx.location(Role::System);
    assert!(matches!(
        EnforcerHandle::open(&loc, None),
        Err(Error::DeniedByDatabase { .. })
    ));
    SystemHandle::open(&loc, None)
        .unwrap()
        .append(leo_store::samples::merged("s", 1).unwrap())
        .unwrap();
    let mut admin = t.fx.admin();
    let again = leo_store::postgres::upgrade(&mut admin, &t.fx.roles.schema, None).unwrap();
    assert_eq!(again, t.fx.roles);
    assert_eq!(BuilderHandle::open(&loc).unwrap().size().unwrap(), 1);

    // A schema an earlier build left at version 2 (leaf format version 1 only): this build
    // refuses it until upgraded, and older builds refuse the upgraded one.
    t.fx.tamper("DELETE FROM schema_migrations WHERE version = 3");
    assert!(matches!(
        BuilderHandle::open(&loc),
        Err(Error::SchemaTooOld {
            found: 2,
            required: 3
        })
    ));
    leo_store::postgres::upgrade(&mut admin, &t.fx.roles.schema, None).unwrap();
    assert_eq!(BuilderHandle::open(&loc).unwrap().size().unwrap(), 1);
}
