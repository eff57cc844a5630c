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
//! - Version 3, SQLite: one row per record. (PostgreSQL's version 3 changes no table: it
//!   marks the trail as written with leaf format version 2.) Each record
//!   table carries its log columns (`seq`, `event_id`, `actor`, `action`, `recorded_at`,
//!   `leaf_hash`, `chain_hash`) and checks the §5 matrix as a named `CHECK` constraint;
//!   `leo_event_ids` keeps event ids unique across kinds; `leo_log` becomes a view over the
//!   record tables, in the same columns as before. The migration copies every version 2 row
//!   (refusing a file whose log and record rows do not pair up), so stored leaves and chain
//!   hashes still verify.

use crate::record::RecordKind;
use crate::role::{Role, allowed_pairs};

/// The SQLite schema version this build writes and understands.
pub const SQLITE_SCHEMA_VERSION: i64 = 3;

/// The PostgreSQL schema version this build writes and understands (version 3 changes no
/// table: it marks the trail as written with leaf format version 2).
pub const POSTGRES_SCHEMA_VERSION: i64 = 3;

/// The name of the §5 matrix constraint of every SQLite version 3 record table (SQLite
/// reports it as `CHECK constraint failed: sop5_accountability_matrix`).
pub const MATRIX_CONSTRAINT: &str = "sop5_accountability_matrix";

/// The SQLite table of event ids (version 3): the append-time idempotency key, unique across
/// every record kind.
pub const EVENT_IDS_TABLE: &str = "leo_event_ids";

/// Tables a writer may append to (everything else is read-only to it). In SQLite version
/// 3, `leo_log` is a view, and the writer appends to [`EVENT_IDS_TABLE`] as well.
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

/// Every table of schema versions 1 and 2 (in SQLite version 3, `leo_log` is a view and
/// [`EVENT_IDS_TABLE`] is added).
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

/// The message of the matrix trigger of SQLite schema versions 1 and 2 (version 3 drops the
/// trigger for the [`MATRIX_CONSTRAINT`]).
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

pub(crate) fn quote(s: &str) -> String {
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
pub(crate) fn sqlite_migrations() -> [(i64, String); 3] {
    [(1, sqlite_v1()), (2, sqlite_v2()), (3, sqlite_v3())]
}

/// The log columns every SQLite version 3 record table starts with, in insert order.
pub const V3_LOG_COLUMNS: [&str; 7] = [
    "seq",
    "event_id",
    "actor",
    "action",
    "recorded_at",
    "leaf_hash",
    "chain_hash",
];

/// Version 3's log column definitions (the same types and checks as version 1's `leo_log`).
const V3_LOG_DDL: &str = "seq INTEGER PRIMARY KEY CHECK (seq >= 0), event_id TEXT NOT NULL, \
  actor TEXT NOT NULL, action TEXT NOT NULL, recorded_at INTEGER NOT NULL, \
  leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32), \
  chain_hash BLOB NOT NULL CHECK (length(chain_hash) = 32)";

/// A record table's own columns, as versions 1 and 2 defined them (version 3 keeps them).
pub(crate) const fn record_ddl(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Handoff => {
            "stage TEXT NOT NULL, bundle_hash TEXT NOT NULL, commit_sha TEXT NOT NULL, \
             branch TEXT NOT NULL, pr_number INTEGER"
        }
        RecordKind::Verification => {
            "pr_number INTEGER NOT NULL, verdict TEXT NOT NULL, confidence INTEGER NOT NULL, \
             inputs TEXT NOT NULL, summary TEXT NOT NULL"
        }
        RecordKind::GateExecution => {
            "pr_number INTEGER NOT NULL, gate_name TEXT NOT NULL, commit_sha TEXT NOT NULL, \
             outcome TEXT NOT NULL, started_at INTEGER NOT NULL, duration_ms INTEGER NOT NULL"
        }
        RecordKind::Approval => {
            "pr_number INTEGER NOT NULL, decision TEXT NOT NULL, justification TEXT NOT NULL"
        }
        RecordKind::SigningKey => {
            "fingerprint TEXT NOT NULL, algorithm TEXT NOT NULL, public_key BLOB, \
             public_key_armored TEXT, not_before INTEGER NOT NULL, not_after INTEGER NOT NULL, \
             CHECK ((public_key IS NULL) <> (public_key_armored IS NULL)), \
             CHECK (not_before < not_after)"
        }
        RecordKind::LabelTransition => {
            "change_id TEXT NOT NULL, from_label TEXT, to_label TEXT NOT NULL, reason TEXT NOT NULL"
        }
        RecordKind::Refusal => {
            "change_id TEXT NOT NULL, attempted_role TEXT NOT NULL, operation TEXT NOT NULL, \
             reason TEXT NOT NULL"
        }
        RecordKind::ArtifactSignature => {
            "bundle_hash TEXT NOT NULL, backend TEXT NOT NULL, signer TEXT NOT NULL, \
             fallback_reason TEXT"
        }
        RecordKind::PolicyEvaluation => {
            "policy TEXT NOT NULL, rule_name TEXT NOT NULL, resource TEXT NOT NULL, \
             result TEXT NOT NULL, mode TEXT NOT NULL, image_digest TEXT"
        }
    }
}

/// The §5 matrix for one record table as a `CHECK` expression: every `(actor, action)`
/// [`log_rules`] allows for `kind`, grouped by actor, as a chain of equalities (SQLite
/// evaluates an `IN (...)` list in a `CHECK` by building a temporary index at every
/// statement, several times the cost of the comparisons).
pub(crate) fn matrix_check(kind: RecordKind) -> String {
    let mut by_actor: Vec<(Role, Vec<String>)> = Vec::new();
    for (role, action, k) in log_rules() {
        if k != kind {
            continue;
        }
        let test = format!("action = {}", quote(action.as_str()));
        match by_actor.iter_mut().find(|(r, _)| *r == role) {
            Some((_, actions)) => actions.push(test),
            None => by_actor.push((role, vec![test])),
        }
    }
    if by_actor.is_empty() {
        return "0".to_owned();
    }
    let terms: Vec<String> = by_actor
        .into_iter()
        .map(|(role, actions)| {
            format!(
                "(actor = {} AND ({}))",
                quote(role.as_str()),
                actions.join(" OR ")
            )
        })
        .collect();
    terms.join(" OR ")
}

/// The `leo_log` view of version 3: every record table's log columns, with its kind.
fn log_view() -> String {
    let arms: Vec<String> = RecordKind::ALL
        .into_iter()
        .map(|kind| {
            format!(
                "SELECT seq, event_id, {} AS kind, actor, action, recorded_at, leaf_hash, \
                 chain_hash FROM {}",
                quote(kind.as_str()),
                kind.table()
            )
        })
        .collect();
    format!(
        "CREATE VIEW leo_log (seq, event_id, kind, actor, action, recorded_at, leaf_hash, \
         chain_hash) AS\n{};\n",
        arms.join("\nUNION ALL ")
    )
}

/// The whole SQLite migration 3 (applied to a version 2 file, after
/// [`sqlite_v3_precheck`] passed): each record table is rebuilt with its log columns and
/// the matrix constraint, its rows copied from the old record table joined with `leo_log`;
/// event ids move to `leo_event_ids`; `leo_log` is dropped and recreated as a view. The old
/// tables' triggers go with them and are recreated on the new ones.
pub(crate) fn sqlite_v3() -> String {
    let mut sql = String::new();
    for kind in RecordKind::ALL {
        let table = kind.table();
        let cols = crate::codec::column_names(kind);
        let record_cols: Vec<String> = cols.iter().map(|c| format!("r.{c}")).collect();
        sql.push_str(&format!(
            "CREATE TABLE {table}_v3 ({V3_LOG_DDL}, {}, CONSTRAINT {MATRIX_CONSTRAINT} CHECK ({}));\n\
             INSERT INTO {table}_v3 ({}, {}) SELECT l.seq, l.event_id, l.actor, l.action, \
             l.recorded_at, l.leaf_hash, l.chain_hash, {} FROM leo_log AS l JOIN {table} AS r \
             ON r.seq = l.seq WHERE l.kind = {} ORDER BY l.seq;\n\
             DROP TABLE {table};\n\
             ALTER TABLE {table}_v3 RENAME TO {table};\n\
             CREATE INDEX {table}_time ON {table} (recorded_at);\n",
            record_ddl(kind),
            matrix_check(kind),
            V3_LOG_COLUMNS.join(", "),
            cols.join(", "),
            record_cols.join(", "),
            quote(kind.as_str()),
        ));
    }
    sql.push_str(&format!(
        "CREATE TABLE {EVENT_IDS_TABLE} (event_id TEXT PRIMARY KEY, \
         seq INTEGER NOT NULL CHECK (seq >= 0)) WITHOUT ROWID;\n\
         INSERT INTO {EVENT_IDS_TABLE} (event_id, seq) SELECT event_id, seq FROM leo_log;\n\
         DROP TABLE leo_log;\n"
    ));
    sql.push_str(&log_view());
    let mut tables: Vec<&str> = RecordKind::ALL.iter().map(|k| k.table()).collect();
    tables.push(EVENT_IDS_TABLE);
    sql.push_str(&sqlite_append_only(&tables));
    sql
}

/// What migration 3 must check before it runs, as `(what is wrong, SQL counting it)`. The
/// copy is an `INSERT ... JOIN`, which would silently drop a log row without its record
/// row (or the other way round) or of a kind this build does not know, and the new matrix
/// constraints would fail midway on a row the matrix does not allow; a file with any of
/// those is damaged or tampered with, and the migration is refused instead.
pub(crate) fn sqlite_v3_precheck() -> Vec<(String, String)> {
    let mut checks: Vec<(String, String)> = RecordKind::ALL
        .into_iter()
        .map(|kind| {
            let (table, name) = (kind.table(), quote(kind.as_str()));
            (
                format!("rows of leo_log and {table} do not pair up"),
                format!(
                    "SELECT (SELECT count(*) FROM leo_log AS l WHERE l.kind = {name} AND NOT EXISTS \
                     (SELECT 1 FROM {table} AS r WHERE r.seq = l.seq)) + (SELECT count(*) FROM \
                     {table} AS r WHERE NOT EXISTS (SELECT 1 FROM leo_log AS l WHERE l.seq = r.seq \
                     AND l.kind = {name}))"
                ),
            )
        })
        .collect();
    let known: Vec<String> = RecordKind::ALL.iter().map(|k| quote(k.as_str())).collect();
    checks.push((
        "leo_log rows are of no known kind".to_owned(),
        format!(
            "SELECT count(*) FROM leo_log WHERE kind NOT IN ({})",
            known.join(", ")
        ),
    ));
    // The constraints' own expressions, not the file's `leo_log_rules`, which could differ.
    let allowed: Vec<String> = RecordKind::ALL
        .iter()
        .map(|k| format!("(kind = {} AND ({}))", quote(k.as_str()), matrix_check(*k)))
        .collect();
    checks.push((
        "leo_log rows are filed by a role the §5 matrix does not allow".to_owned(),
        format!(
            "SELECT count(*) FROM leo_log WHERE NOT ({})",
            allowed.join(" OR ")
        ),
    ));
    checks
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
