//! Versioned, hand-written migrations for both backends.
//!
//! SQLite records the version in `PRAGMA user_version`; PostgreSQL in `schema_migrations`.
//! The seed rows of `leo_role_actions` and `leo_kind_actions` are generated from
//! [`crate::role::MATRIX`] and [`crate::record::RecordKind::actions`], so the databases
//! enforce exactly the matrix the Rust code enforces.

use crate::record::RecordKind;
use crate::role::allowed_pairs;

/// The schema version this build writes and understands.
pub const SCHEMA_VERSION: i64 = 1;

/// Tables a writer may append to (everything else is read-only to it).
pub const APPEND_TABLES: [&str; 7] = [
    "leo_log",
    "leo_handoff_tracking",
    "leo_verification_results",
    "leo_gate_executions",
    "pr_approval_audit",
    "leo_signing_keys",
    "leo_checkpoints",
];

/// Every table of the schema.
pub const ALL_TABLES: [&str; 9] = [
    "leo_role_actions",
    "leo_kind_actions",
    "leo_log",
    "leo_handoff_tracking",
    "leo_verification_results",
    "leo_gate_executions",
    "pr_approval_audit",
    "leo_signing_keys",
    "leo_checkpoints",
];

/// The message of every append-only trigger.
pub const APPEND_ONLY: &str = "leo audit trail is append-only";

/// Migration 1, both dialects: `{int}` and `{blob}` become `INTEGER`/`BLOB` (SQLite) or
/// `BIGINT`/`BYTEA` (PostgreSQL); `{matrix}` ends the two small lookup tables.
const V1_TABLES: &str = r"
CREATE TABLE leo_role_actions (
  role TEXT NOT NULL, action TEXT NOT NULL, PRIMARY KEY (role, action)){matrix};
CREATE TABLE leo_kind_actions (
  kind TEXT NOT NULL, action TEXT NOT NULL, PRIMARY KEY (kind, action)){matrix};
CREATE TABLE leo_log (
  seq {int} PRIMARY KEY CHECK (seq >= 0),
  event_id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  recorded_at {int} NOT NULL,
  leaf_hash {blob} NOT NULL CHECK (length(leaf_hash) = 32),
  chain_hash {blob} NOT NULL CHECK (length(chain_hash) = 32));
CREATE TABLE leo_handoff_tracking (
  seq {int} PRIMARY KEY REFERENCES leo_log (seq),
  stage TEXT NOT NULL, bundle_hash TEXT NOT NULL, commit_sha TEXT NOT NULL,
  branch TEXT NOT NULL, pr_number {int});
CREATE TABLE leo_verification_results (
  seq {int} PRIMARY KEY REFERENCES leo_log (seq),
  pr_number {int} NOT NULL, verdict TEXT NOT NULL, confidence {int} NOT NULL,
  inputs TEXT NOT NULL, summary TEXT NOT NULL);
CREATE TABLE leo_gate_executions (
  seq {int} PRIMARY KEY REFERENCES leo_log (seq),
  pr_number {int} NOT NULL, gate_name TEXT NOT NULL, commit_sha TEXT NOT NULL,
  outcome TEXT NOT NULL, started_at {int} NOT NULL, duration_ms {int} NOT NULL);
CREATE TABLE pr_approval_audit (
  seq {int} PRIMARY KEY REFERENCES leo_log (seq),
  pr_number {int} NOT NULL, decision TEXT NOT NULL, justification TEXT NOT NULL);
CREATE TABLE leo_signing_keys (
  seq {int} PRIMARY KEY REFERENCES leo_log (seq),
  fingerprint TEXT NOT NULL, algorithm TEXT NOT NULL,
  public_key {blob}, public_key_armored TEXT,
  not_before {int} NOT NULL, not_after {int} NOT NULL,
  CHECK ((public_key IS NULL) <> (public_key_armored IS NULL)),
  CHECK (not_before < not_after));
CREATE TABLE leo_checkpoints (
  tree_size {int} PRIMARY KEY CHECK (tree_size > 0),
  root_hash {blob} NOT NULL CHECK (length(root_hash) = 32),
  note TEXT NOT NULL, actor TEXT NOT NULL, created_at {int} NOT NULL);
";

/// SQLite only: every log row's `(actor, action, kind)` must be in the matrix.
const SQLITE_MATRIX_TRIGGER: &str = r"
CREATE TRIGGER leo_log_matrix BEFORE INSERT ON leo_log
WHEN NOT EXISTS (SELECT 1 FROM leo_role_actions WHERE role = NEW.actor AND action = NEW.action)
  OR NOT EXISTS (SELECT 1 FROM leo_role_actions WHERE role = NEW.actor AND action = 'DATABASE_WRITES')
  OR NOT EXISTS (SELECT 1 FROM leo_kind_actions WHERE kind = NEW.kind AND action = NEW.action)
BEGIN SELECT RAISE(ABORT, 'SOP 5 accountability matrix: this role may not file this action'); END;
";

/// PostgreSQL only: the login-role mapping row-level security uses, and the migrations
/// table.
#[cfg(feature = "postgres")]
const POSTGRES_EXTRA: &str = r"
CREATE TABLE leo_actor_roles (db_role TEXT PRIMARY KEY, role TEXT NOT NULL);
CREATE TABLE schema_migrations (
  version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
";

/// Migration 1 for PostgreSQL (tables only; roles, grants and policies are in
/// [`crate::postgres`]).
#[cfg(feature = "postgres")]
pub(crate) fn postgres_v1() -> String {
    let mut sql = V1_TABLES
        .replace("{int}", "BIGINT")
        .replace("{blob}", "BYTEA")
        .replace("{matrix}", "");
    sql.push_str(POSTGRES_EXTRA);
    sql
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `INSERT` statements seeding the matrix tables (same SQL for both dialects).
pub(crate) fn seed_sql() -> String {
    let mut sql = String::new();
    for (role, action) in allowed_pairs() {
        sql.push_str(&format!(
            "INSERT INTO leo_role_actions (role, action) VALUES ({}, {});\n",
            quote(role.as_str()),
            quote(action.as_str())
        ));
    }
    for kind in RecordKind::ALL {
        for action in kind.actions() {
            sql.push_str(&format!(
                "INSERT INTO leo_kind_actions (kind, action) VALUES ({}, {});\n",
                quote(kind.as_str()),
                quote(action.as_str())
            ));
        }
    }
    sql
}

/// The whole SQLite migration 1: tables, seeds, then the append-only triggers (created
/// last so the seeds can go in).
pub(crate) fn sqlite_v1() -> String {
    let mut sql = V1_TABLES
        .replace("{int}", "INTEGER")
        .replace("{blob}", "BLOB")
        .replace("{matrix}", " WITHOUT ROWID");
    sql.push_str(SQLITE_MATRIX_TRIGGER);
    sql.push_str(&seed_sql());
    for table in ALL_TABLES {
        for op in ["UPDATE", "DELETE"] {
            let lower = op.to_lowercase();
            sql.push_str(&format!(
                "CREATE TRIGGER {table}_no_{lower} BEFORE {op} ON {table} \
                 BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END;\n"
            ));
        }
    }
    for table in ["leo_role_actions", "leo_kind_actions"] {
        sql.push_str(&format!(
            "CREATE TRIGGER {table}_frozen BEFORE INSERT ON {table} \
             BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END;\n"
        ));
    }
    sql
}
