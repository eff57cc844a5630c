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
use leo_store::postgres::Client;
use leo_store::{BuilderHandle, EnforcerHandle, Error, Role, SupervisorHandle};

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
