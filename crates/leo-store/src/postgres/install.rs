//! Laying out one schema: the no-login owner, the builder and writer login roles, tables,
//! grants, append-only triggers and row-level-security policies.

use postgres::Client;

use super::pg_err;
use crate::error::{Error, Result};
use crate::record::RecordKind;
use crate::role::Role;
use crate::schema::{
    ALL_TABLES, APPEND_ONLY, APPEND_TABLES, SCHEMA_VERSION, postgres_v1, seed_sql,
};

/// Longest schema name accepted (role names derive from it and PostgreSQL caps at 63).
pub const MAX_SCHEMA_LEN: usize = 40;

/// The database roles of one installed schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgRoles {
    /// The schema.
    pub schema: String,
    /// `NOLOGIN` owner of every table.
    pub owner: String,
    /// Builder (Codex): `SELECT` only.
    pub builder: String,
    /// Writers by SOP role.
    pub writers: Vec<(Role, String)>,
}

impl PgRoles {
    /// The login role for an SOP role (`Codex` → the builder).
    pub fn login_for(&self, role: Role) -> Option<&str> {
        if role == Role::Codex {
            return Some(&self.builder);
        }
        self.writers
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, n)| n.as_str())
    }
}

fn check_schema(schema: &str) -> Result<()> {
    let ok_first = schema
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
    let ok_rest = schema
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !ok_first || !ok_rest || schema.len() > MAX_SCHEMA_LEN {
        return Err(Error::field(
            "schema",
            format!("{schema:?} must match [a-z_][a-z0-9_]* and be at most {MAX_SCHEMA_LEN} bytes"),
        ));
    }
    Ok(())
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Creates schema, roles, tables, grants, triggers and policies (run once, as a superuser
/// or a role with `CREATEROLE` and `CREATE` on the database). Login roles get `password`
/// when given.
pub fn install(admin: &mut Client, schema: &str, password: Option<&str>) -> Result<PgRoles> {
    check_schema(schema)?;
    let roles = PgRoles {
        schema: schema.to_owned(),
        owner: format!("{schema}_owner"),
        builder: format!("{schema}_codex"),
        writers: vec![
            (Role::ClaudeExec, format!("{schema}_claude_exec")),
            (Role::Plan, format!("{schema}_plan")),
            (Role::Lead, format!("{schema}_lead")),
        ],
    };
    let writers: Vec<&str> = roles.writers.iter().map(|(_, n)| n.as_str()).collect();
    let logins: Vec<&str> = std::iter::once(roles.builder.as_str())
        .chain(writers.iter().copied())
        .collect();
    let pw = password
        .map(|p| format!(" PASSWORD {}", quote_literal(p)))
        .unwrap_or_default();
    let mut sql = format!("BEGIN;\nCREATE ROLE {} NOLOGIN;\n", roles.owner);
    for l in &logins {
        sql.push_str(&format!(
            "CREATE ROLE {l} LOGIN{pw};\nALTER ROLE {l} SET search_path = {schema};\n"
        ));
    }
    sql.push_str(&format!(
        "CREATE SCHEMA {schema} AUTHORIZATION {owner};\nSET LOCAL ROLE {owner};\nSET LOCAL search_path = {schema};\n",
        owner = roles.owner
    ));
    sql.push_str(&postgres_v1());
    sql.push_str(&seed_sql());
    for (role, login) in &roles.writers {
        sql.push_str(&format!(
            "INSERT INTO leo_actor_roles (db_role, role) VALUES ({}, {});\n",
            quote_literal(login),
            quote_literal(role.as_str())
        ));
    }
    sql.push_str(&format!(
        "CREATE FUNCTION leo_refuse_change() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$;\n"
    ));
    for t in ALL_TABLES
        .iter()
        .chain(["leo_actor_roles", "schema_migrations"].iter())
    {
        sql.push_str(&format!(
            "CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION leo_refuse_change();\n\
             CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} FOR EACH STATEMENT EXECUTE FUNCTION leo_refuse_change();\n"
        ));
    }
    sql.push_str(&policies());
    sql.push_str(&format!(
        "INSERT INTO schema_migrations (version) VALUES ({SCHEMA_VERSION});\nRESET ROLE;\n\
         GRANT USAGE ON SCHEMA {schema} TO {all};\n\
         GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {all};\n",
        all = logins.join(", ")
    ));
    for t in APPEND_TABLES {
        sql.push_str(&format!(
            "GRANT INSERT ON {schema}.{t} TO {};\n",
            writers.join(", ")
        ));
    }
    sql.push_str("COMMIT;\n");
    admin.batch_execute(&sql).map_err(|e| {
        let _ = admin.batch_execute("ROLLBACK");
        pg_err(&format!("installing schema {schema}"), e)
    })?;
    Ok(roles)
}

/// Row-level security: everyone reads, writers insert only in their own name.
fn policies() -> String {
    let me = "SELECT 1 FROM leo_actor_roles ar WHERE ar.db_role = current_user";
    let mut sql = String::new();
    for t in APPEND_TABLES {
        sql.push_str(&format!(
            "ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;\nALTER TABLE {t} FORCE ROW LEVEL SECURITY;\n\
             CREATE POLICY {t}_read ON {t} FOR SELECT USING (true);\n"
        ));
    }
    sql.push_str(&format!(
        "CREATE POLICY leo_log_append ON leo_log FOR INSERT WITH CHECK (\n\
         EXISTS ({me} AND ar.role = leo_log.actor)\n\
         AND EXISTS (SELECT 1 FROM leo_role_actions ra WHERE ra.role = leo_log.actor AND ra.action = leo_log.action)\n\
         AND EXISTS (SELECT 1 FROM leo_role_actions ra WHERE ra.role = leo_log.actor AND ra.action = 'DATABASE_WRITES')\n\
         AND EXISTS (SELECT 1 FROM leo_kind_actions ka WHERE ka.kind = leo_log.kind AND ka.action = leo_log.action));\n\
         CREATE POLICY leo_checkpoints_append ON leo_checkpoints FOR INSERT WITH CHECK (\n\
         EXISTS ({me} AND ar.role = leo_checkpoints.actor));\n"
    ));
    for kind in RecordKind::ALL {
        let t = kind.table();
        sql.push_str(&format!(
            "CREATE POLICY {t}_append ON {t} FOR INSERT WITH CHECK (EXISTS (\n\
             SELECT 1 FROM leo_log l JOIN leo_actor_roles ar ON ar.role = l.actor \
             WHERE l.seq = {t}.seq AND l.kind = {kind} AND ar.db_role = current_user));\n",
            kind = quote_literal(kind.as_str())
        ));
    }
    sql
}

/// Replaces the user (and drops any password) of a `postgres://` URL.
pub fn url_for_user(url: &str, user: &str) -> Result<String> {
    let bad = || Error::InvalidLocation {
        input: "(redacted)".into(),
        reason: "expected postgres://[user[:password]@]host[:port]/db",
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let host_part = match rest.find('/') {
        Some(slash) => {
            let (auth, _) = rest.split_at(slash);
            match auth.rfind('@') {
                Some(at) => rest.get(at + 1..).ok_or_else(bad)?,
                None => rest,
            }
        }
        None => return Err(bad()),
    };
    Ok(format!("{scheme}://{user}@{host_part}"))
}
