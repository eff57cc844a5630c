//! Laying out one schema: the no-login owner, the builder and writer login roles, tables,
//! grants, append-only triggers and row-level-security policies.

use postgres::Client;

use super::pg_err;
use crate::error::{Error, Result};
use crate::record::RecordKind;
use crate::role::Role;
use crate::schema::{
    APPEND_ONLY, APPEND_TABLES, POSTGRES_SCHEMA_VERSION, V2_TABLES_LIST, postgres_v1, postgres_v2,
    seed_sql, v1_tables,
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
    /// Writers by SOP role (Claude/EXEC, PLAN, LEAD, then System).
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

fn role_names(schema: &str) -> PgRoles {
    PgRoles {
        schema: schema.to_owned(),
        owner: format!("{schema}_owner"),
        builder: format!("{schema}_codex"),
        writers: vec![
            (Role::ClaudeExec, format!("{schema}_claude_exec")),
            (Role::Plan, format!("{schema}_plan")),
            (Role::Lead, format!("{schema}_lead")),
            (Role::System, format!("{schema}_system")),
        ],
    }
}

/// Writers that version 1 created (version 2 added `System`).
fn v1_writers(roles: &PgRoles) -> Vec<(Role, &str)> {
    roles
        .writers
        .iter()
        .filter(|(r, _)| *r != Role::System)
        .map(|(r, n)| (*r, n.as_str()))
        .collect()
}

fn login_sql(login: &str, schema: &str, pw: &str) -> String {
    format!("CREATE ROLE {login} LOGIN{pw};\nALTER ROLE {login} SET search_path = {schema};\n")
}

fn append_only_sql(tables: &[&str]) -> String {
    let mut sql = String::new();
    for t in tables {
        sql.push_str(&format!(
            "CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION leo_refuse_change();\n\
             CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} FOR EACH STATEMENT EXECUTE FUNCTION leo_refuse_change();\n"
        ));
    }
    sql
}

/// Grants every login reads, every writer inserts into the append tables (idempotent).
fn grants_sql(roles: &PgRoles, append_tables: &[&str]) -> String {
    let schema = &roles.schema;
    let writers: Vec<&str> = roles.writers.iter().map(|(_, n)| n.as_str()).collect();
    let all: Vec<&str> = std::iter::once(roles.builder.as_str())
        .chain(writers.iter().copied())
        .collect();
    let mut sql = format!(
        "GRANT USAGE ON SCHEMA {schema} TO {all};\n\
         GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {all};\n",
        all = all.join(", ")
    );
    for t in append_tables {
        sql.push_str(&format!(
            "GRANT INSERT ON {schema}.{t} TO {};\n",
            writers.join(", ")
        ));
    }
    sql
}

/// Creates schema, roles, tables, grants, triggers and policies at the current
/// [`POSTGRES_SCHEMA_VERSION`] (run once, as a superuser or a role with `CREATEROLE` and `CREATE` on
/// the database): version 1, then the same [`upgrade`] step an existing version 1 schema
/// takes. Login roles get `password` when given.
pub fn install(admin: &mut Client, schema: &str, password: Option<&str>) -> Result<PgRoles> {
    check_schema(schema)?;
    let roles = role_names(schema);
    let pw = password
        .map(|p| format!(" PASSWORD {}", quote_literal(p)))
        .unwrap_or_default();
    let mut sql = format!("BEGIN;\nCREATE ROLE {} NOLOGIN;\n", roles.owner);
    sql.push_str(&login_sql(&roles.builder, schema, &pw));
    for (_, login) in v1_writers(&roles) {
        sql.push_str(&login_sql(login, schema, &pw));
    }
    sql.push_str(&format!(
        "CREATE SCHEMA {schema} AUTHORIZATION {owner};\nSET LOCAL ROLE {owner};\nSET LOCAL search_path = {schema};\n",
        owner = roles.owner
    ));
    sql.push_str(&postgres_v1());
    sql.push_str(&seed_sql());
    for (role, login) in v1_writers(&roles) {
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
    let mut v1_tables = v1_tables();
    v1_tables.extend(["leo_actor_roles", "schema_migrations"]);
    sql.push_str(&append_only_sql(&v1_tables));
    sql.push_str(&policies_v1());
    sql.push_str("INSERT INTO schema_migrations (version) VALUES (1);\nRESET ROLE;\n");
    let v1_append: Vec<&str> = APPEND_TABLES
        .into_iter()
        .filter(|t| !V2_TABLES_LIST.contains(t))
        .collect();
    let v1_roles = PgRoles {
        writers: roles
            .writers
            .iter()
            .filter(|(r, _)| *r != Role::System)
            .cloned()
            .collect(),
        ..roles.clone()
    };
    sql.push_str(&grants_sql(&v1_roles, &v1_append));
    sql.push_str(&v2_sql(&roles, &pw));
    sql.push_str(&v3_sql(&roles));
    sql.push_str("COMMIT;\n");
    admin.batch_execute(&sql).map_err(|e| {
        let _ = admin.batch_execute("ROLLBACK");
        pg_err(&format!("installing schema {schema}"), e)
    })?;
    Ok(roles)
}

/// Brings a schema [`install`]ed by an earlier build up to [`POSTGRES_SCHEMA_VERSION`] (a no-op when
/// it is current), with the same privileges `install` needs. Version 2 adds the workflow
/// tables, the `{schema}_system` login (the merge step) with `password`, and one-probe
/// matrix rules. Version 3 changes no table: it marks the schema as written with leaf
/// format version 2, so that older builds, which verify version 1 leaves only, refuse it
/// instead of reporting every new row as tampered.
pub fn upgrade(admin: &mut Client, schema: &str, password: Option<&str>) -> Result<PgRoles> {
    check_schema(schema)?;
    let roles = role_names(schema);
    let found: Option<i64> = admin
        .query_one(
            &format!("SELECT max(version) FROM {schema}.schema_migrations"),
            &[],
        )
        .map_err(|e| pg_err(&format!("reading {schema}.schema_migrations"), e))?
        .try_get(0)
        .map_err(|e| pg_err("decoding the schema version", e))?;
    let pw = password
        .map(|p| format!(" PASSWORD {}", quote_literal(p)))
        .unwrap_or_default();
    let steps = match found {
        Some(POSTGRES_SCHEMA_VERSION) => return Ok(roles),
        Some(1) => format!("{}{}", v2_sql(&roles, &pw), v3_sql(&roles)),
        Some(2) => v3_sql(&roles),
        Some(v) if v > POSTGRES_SCHEMA_VERSION => {
            return Err(Error::SchemaTooNew {
                found: v,
                supported: POSTGRES_SCHEMA_VERSION,
            });
        }
        _ => {
            return Err(Error::SchemaMissing {
                what: format!("{schema}.schema_migrations"),
            });
        }
    };
    let sql = format!("BEGIN;\n{steps}COMMIT;\n");
    admin.batch_execute(&sql).map_err(|e| {
        let _ = admin.batch_execute("ROLLBACK");
        pg_err(&format!("upgrading schema {schema}"), e)
    })?;
    Ok(roles)
}

/// Migration 2 on a version 1 schema, inside the caller's transaction.
fn v2_sql(roles: &PgRoles, pw: &str) -> String {
    let schema = &roles.schema;
    let system = roles.login_for(Role::System).unwrap_or_default();
    let mut sql = login_sql(system, schema, pw);
    sql.push_str(&format!(
        "SET LOCAL ROLE {owner};\nSET LOCAL search_path = {schema};\n",
        owner = roles.owner
    ));
    sql.push_str(&postgres_v2());
    sql.push_str(&format!(
        "INSERT INTO leo_actor_roles (db_role, role) VALUES ({}, {});\n",
        quote_literal(system),
        quote_literal(Role::System.as_str())
    ));
    sql.push_str(&append_only_sql(&V2_TABLES_LIST));
    sql.push_str(&policies_v2());
    sql.push_str("INSERT INTO schema_migrations (version) VALUES (2);\nRESET ROLE;\n");
    sql.push_str(&grants_sql(roles, &APPEND_TABLES));
    sql
}

/// Migration 3 on a version 2 schema, inside the caller's transaction: the version only
/// (see [`upgrade`]).
fn v3_sql(roles: &PgRoles) -> String {
    format!(
        "SET LOCAL ROLE {owner};\nSET LOCAL search_path = {schema};\n\
         INSERT INTO schema_migrations (version) VALUES ({POSTGRES_SCHEMA_VERSION});\nRESET ROLE;\n",
        owner = roles.owner,
        schema = roles.schema
    )
}

const ME: &str = "SELECT 1 FROM leo_actor_roles ar WHERE ar.db_role = current_user";

fn rls_sql(tables: &[&str]) -> String {
    let mut sql = String::new();
    for t in tables {
        sql.push_str(&format!(
            "ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;\nALTER TABLE {t} FORCE ROW LEVEL SECURITY;\n\
             CREATE POLICY {t}_read ON {t} FOR SELECT USING (true);\n"
        ));
    }
    sql
}

fn record_policies(kinds: &[RecordKind]) -> String {
    let mut sql = String::new();
    for kind in kinds {
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

/// Version 1 row-level security: everyone reads, writers insert only in their own name.
fn policies_v1() -> String {
    let tables: Vec<&str> = APPEND_TABLES
        .into_iter()
        .filter(|t| !V2_TABLES_LIST.contains(t))
        .collect();
    let mut sql = rls_sql(&tables);
    sql.push_str(&format!(
        "CREATE POLICY leo_log_append ON leo_log FOR INSERT WITH CHECK (\n\
         EXISTS ({ME} AND ar.role = leo_log.actor)\n\
         AND EXISTS (SELECT 1 FROM leo_role_actions ra WHERE ra.role = leo_log.actor AND ra.action = leo_log.action)\n\
         AND EXISTS (SELECT 1 FROM leo_role_actions ra WHERE ra.role = leo_log.actor AND ra.action = 'DATABASE_WRITES')\n\
         AND EXISTS (SELECT 1 FROM leo_kind_actions ka WHERE ka.kind = leo_log.kind AND ka.action = leo_log.action));\n\
         CREATE POLICY leo_checkpoints_append ON leo_checkpoints FOR INSERT WITH CHECK (\n\
         EXISTS ({ME} AND ar.role = leo_checkpoints.actor));\n"
    ));
    sql.push_str(&record_policies(&RecordKind::V1));
    sql
}

/// Version 2 row-level security: the new tables, and the log's matrix check as one probe of
/// `leo_log_rules` (which also admits `System` under `AllowMerge`).
fn policies_v2() -> String {
    let tables: Vec<&str> = RecordKind::V2.iter().map(|k| k.table()).collect();
    let mut sql = rls_sql(&tables);
    sql.push_str(&format!(
        "DROP POLICY leo_log_append ON leo_log;\n\
         CREATE POLICY leo_log_append ON leo_log FOR INSERT WITH CHECK (\n\
         EXISTS ({ME} AND ar.role = leo_log.actor)\n\
         AND EXISTS (SELECT 1 FROM leo_log_rules lr WHERE lr.actor = leo_log.actor \
         AND lr.action = leo_log.action AND lr.kind = leo_log.kind));\n"
    ));
    sql.push_str(&record_policies(&RecordKind::V2));
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
