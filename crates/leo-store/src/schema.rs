//! Versioned, hand-written migrations for both backends.
//!
//! SQLite records the version in `PRAGMA user_version`; PostgreSQL in `schema_migrations`.
//! The seed rows of `leo_role_actions`, `leo_kind_actions` and `leo_log_rules` are generated
//! from [`crate::role::MATRIX`] and [`crate::record::RecordKind::accepts`], so the databases
//! enforce exactly the matrix the Rust code enforces.
//!
//! - Version 1: the log, the five SOP §7.2 record tables, checkpoints, the matrix tables.
//! - Version 2: the workflow tables (`leo_label_transitions`, `leo_refusals`,
//!   `leo_artifact_signatures`, `leo_policy_evaluations`), `leo_log_rules` (every allowed
//!   `(actor, action, kind)` triple, so the matrix check is one primary-key probe), the
//!   `System` writer (the merge step), and the `(kind, recorded_at)` index behind
//!   [`crate::Reader::for_each_of_kind`].

use crate::record::RecordKind;
use crate::role::{Role, allowed_pairs};

/// The schema version this build writes and understands.
pub const SCHEMA_VERSION: i64 = 2;

/// Tables a writer may append to (everything else is read-only to it).
pub const APPEND_TABLES: [&str; 11] = [
    "leo_log",
    "leo_handoff_tracking",
    "leo_verification_results",
    "leo_gate_executions",
    "pr_approval_audit",
    "leo_signing_keys",
    "leo_checkpoints",
    "leo_label_transitions",
    "leo_refusals",
    "leo_artifact_signatures",
    "leo_policy_evaluations",
];

/// Tables version 2 added.
pub const V2_TABLES_LIST: [&str; 5] = [
    "leo_log_rules",
    "leo_label_transitions",
    "leo_refusals",
    "leo_artifact_signatures",
    "leo_policy_evaluations",
];

/// Tables version 1 created: every table but version 2's.
pub fn v1_tables() -> Vec<&'static str> {
    ALL_TABLES
        .into_iter()
        .filter(|t| !V2_TABLES_LIST.contains(t))
        .collect()
}

/// Every table of the schema.
pub const ALL_TABLES: [&str; 14] = [
    "leo_role_actions",
    "leo_kind_actions",
    "leo_log",
    "leo_handoff_tracking",
    "leo_verification_results",
    "leo_gate_executions",
    "pr_approval_audit",
    "leo_signing_keys",
    "leo_checkpoints",
    "leo_log_rules",
    "leo_label_transitions",
    "leo_refusals",
    "leo_artifact_signatures",
    "leo_policy_evaluations",
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

/// SQLite only, version 1: every log row's `(actor, action, kind)` must be in the matrix.
const SQLITE_MATRIX_TRIGGER: &str = r"
CREATE TRIGGER leo_log_matrix BEFORE INSERT ON leo_log
WHEN NOT EXISTS (SELECT 1 FROM leo_role_actions WHERE role = NEW.actor AND action = NEW.action)
  OR NOT EXISTS (SELECT 1 FROM leo_role_actions WHERE role = NEW.actor AND action = 'DATABASE_WRITES')
  OR NOT EXISTS (SELECT 1 FROM leo_kind_actions WHERE kind = NEW.kind AND action = NEW.action)
BEGIN SELECT RAISE(ABORT, 'SOP 5 accountability matrix: this role may not file this action'); END;
";

/// The message of the matrix trigger (SQLite) and the prefix of its test assertions.
pub const MATRIX_REFUSAL: &str = "SOP 5 accountability matrix: this role may not file this action";

/// Migration 2, both dialects (same placeholders as version 1).
const V2_TABLES: &str = r"
CREATE TABLE leo_log_rules (
  actor TEXT NOT NULL, action TEXT NOT NULL, kind TEXT NOT NULL,
  PRIMARY KEY (actor, action, kind)){matrix};
CREATE TABLE leo_label_transitions (
  seq {int} PRIMARY KEY REFERENCES leo_log (seq),
  change_id TEXT NOT NULL, from_label TEXT, to_label TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE leo_refusals (
  seq {int} PRIMARY KEY REFERENCES leo_log (seq),
  change_id TEXT NOT NULL, attempted_role TEXT NOT NULL, operation TEXT NOT NULL,
  reason TEXT NOT NULL);
CREATE TABLE leo_artifact_signatures (
  seq {int} PRIMARY KEY REFERENCES leo_log (seq),
  bundle_hash TEXT NOT NULL, backend TEXT NOT NULL, signer TEXT NOT NULL,
  fallback_reason TEXT);
CREATE TABLE leo_policy_evaluations (
  seq {int} PRIMARY KEY REFERENCES leo_log (seq),
  policy TEXT NOT NULL, rule_name TEXT NOT NULL, resource TEXT NOT NULL,
  result TEXT NOT NULL, mode TEXT NOT NULL, image_digest TEXT);
CREATE INDEX leo_log_kind_time ON leo_log (kind, recorded_at{seq});
";

/// SQLite only, version 2: one primary-key probe of `leo_log_rules` replaces version 1's
/// three look-ups (same rule: the triples are the version 1 conditions, precomputed).
const SQLITE_RULES_TRIGGER: &str = r"
DROP TRIGGER leo_log_matrix;
CREATE TRIGGER leo_log_matrix BEFORE INSERT ON leo_log
WHEN NOT EXISTS (SELECT 1 FROM leo_log_rules
  WHERE actor = NEW.actor AND action = NEW.action AND kind = NEW.kind)
BEGIN SELECT RAISE(ABORT, '{refusal}'); END;
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

/// Migration 2 for PostgreSQL: tables, index and seeds (roles, grants and policies are in
/// [`crate::postgres`]).
#[cfg(feature = "postgres")]
pub(crate) fn postgres_v2() -> String {
    let mut sql = V2_TABLES
        .replace("{int}", "BIGINT")
        .replace("{blob}", "BYTEA")
        .replace("{matrix}", "")
        .replace("{seq}", ", seq");
    sql.push_str(&seed_v2_sql());
    sql
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn seed_kind_actions(kinds: &[RecordKind]) -> String {
    let mut sql = String::new();
    for kind in kinds {
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

/// `INSERT` statements seeding version 1's matrix tables (same SQL for both dialects).
pub(crate) fn seed_sql() -> String {
    let mut sql = String::new();
    for (role, action) in allowed_pairs() {
        sql.push_str(&format!(
            "INSERT INTO leo_role_actions (role, action) VALUES ({}, {});\n",
            quote(role.as_str()),
            quote(action.as_str())
        ));
    }
    sql.push_str(&seed_kind_actions(&RecordKind::V1));
    sql
}

/// Every `(actor, action, kind)` triple a log row may carry.
pub fn log_rules() -> impl Iterator<Item = (Role, crate::role::Action, RecordKind)> {
    RecordKind::ALL.into_iter().flat_map(|kind| {
        Role::ALL.into_iter().flat_map(move |role| {
            kind.actions()
                .iter()
                .filter(move |a| kind.accepts(role, **a))
                .map(move |a| (role, *a, kind))
        })
    })
}

/// Version 2's seeds: the new kinds' actions and every rule triple.
pub(crate) fn seed_v2_sql() -> String {
    let mut sql = seed_kind_actions(&RecordKind::V2);
    for (role, action, kind) in log_rules() {
        sql.push_str(&format!(
            "INSERT INTO leo_log_rules (actor, action, kind) VALUES ({}, {}, {});\n",
            quote(role.as_str()),
            quote(action.as_str()),
            quote(kind.as_str())
        ));
    }
    sql
}

fn sqlite_append_only(tables: &[&str]) -> String {
    let mut sql = String::new();
    for table in tables {
        for op in ["UPDATE", "DELETE"] {
            let lower = op.to_lowercase();
            sql.push_str(&format!(
                "CREATE TRIGGER {table}_no_{lower} BEFORE {op} ON {table} \
                 BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END;\n"
            ));
        }
    }
    sql
}

fn sqlite_frozen(table: &str) -> String {
    format!(
        "CREATE TRIGGER {table}_frozen BEFORE INSERT ON {table} \
         BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END;\n"
    )
}

/// The whole SQLite migration 2 (applied to a version 1 file): new tables, seeds (the
/// frozen matrix table is thawed for them and frozen again), append-only triggers, the
/// one-probe matrix trigger and the kind/time index.
pub(crate) fn sqlite_v2() -> String {
    let mut sql = V2_TABLES
        .replace("{int}", "INTEGER")
        .replace("{blob}", "BLOB")
        .replace("{matrix}", " WITHOUT ROWID")
        .replace("{seq}", "");
    sql.push_str("DROP TRIGGER leo_kind_actions_frozen;\n");
    sql.push_str(&seed_v2_sql());
    sql.push_str(&sqlite_frozen("leo_kind_actions"));
    sql.push_str(&sqlite_frozen("leo_log_rules"));
    sql.push_str(&sqlite_append_only(&V2_TABLES_LIST));
    sql.push_str(&SQLITE_RULES_TRIGGER.replace("{refusal}", MATRIX_REFUSAL));
    sql
}

/// SQLite migrations by version: `(version, SQL)`, applied in order.
pub(crate) fn sqlite_migrations() -> [(i64, String); 2] {
    [(1, sqlite_v1()), (2, sqlite_v2())]
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
    sql.push_str(&sqlite_append_only(&v1_tables()));
    for table in ["leo_role_actions", "leo_kind_actions"] {
        sql.push_str(&sqlite_frozen(table));
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::Action;

    #[test]
    fn table_lists_agree() {
        let v1 = v1_tables();
        assert_eq!(v1.len() + V2_TABLES_LIST.len(), ALL_TABLES.len());
        assert!(v1.contains(&"leo_role_actions") && v1.contains(&"leo_checkpoints"));
        for kind in RecordKind::V1 {
            assert!(v1.contains(&kind.table()), "{kind}");
        }
        for kind in RecordKind::ALL {
            assert!(APPEND_TABLES.contains(&kind.table()), "{kind}");
            assert!(ALL_TABLES.contains(&kind.table()), "{kind}");
        }
        for kind in RecordKind::V2 {
            assert!(V2_TABLES_LIST.contains(&kind.table()), "{kind}");
        }
    }

    #[test]
    fn rules_are_the_version_1_conditions() {
        let rules: Vec<_> = log_rules().collect();
        for kind in RecordKind::ALL {
            for role in Role::ALL {
                for action in Action::ALL {
                    let v1 = crate::role::allowed(role, action)
                        && crate::role::allowed(role, Action::DatabaseWrites)
                        && kind.actions().contains(&action);
                    let merge = role == Role::System
                        && action == Action::AllowMerge
                        && kind.actions().contains(&action);
                    assert_eq!(
                        rules.contains(&(role, action, kind)),
                        v1 || merge,
                        "{role} {action} {kind}"
                    );
                }
            }
        }
    }
}
