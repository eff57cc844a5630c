//! Migration of version 1 and 2 files.
//!
//! Each test builds a file as an older build left it (its migrations, `PRAGMA user_version`,
//! rows inserted by hand with version 1 leaves and a correct chain), then opens it with this
//! build.

use rusqlite::types::Value as SqlValue;

use super::batch::Param;

use super::*;
use crate::codec::{
    Entry, Event, chain_next, column_names, columns, leaf_hash_of, leaf_hash_v1_of,
};
use crate::merkle::MerkleTree;
use crate::note::{Checkpoint, NoteSigner};
use crate::role::Role;
use crate::samples::{
    approval, artifact_signature, gate, handoff, merged, refusal, sample_events, signing_key,
    verification,
};
use crate::schema::{APPEND_ONLY, MATRIX_CONSTRAINT, sqlite_v1, sqlite_v2};
use crate::store::{
    BuilderHandle, EnforcerHandle, LeadHandle, Location, Receipt, SupervisorHandle, SystemHandle,
};

/// A version 1 or 2 record table's insert: `seq`, then the record's columns.
fn v1_insert_sql(kind: RecordKind) -> String {
    let cols = column_names(kind);
    let marks: Vec<String> = (2..=cols.len() + 1).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {} (seq, {}) VALUES (?1, {})",
        kind.table(),
        cols.join(", "),
        marks.join(", ")
    )
}

/// An empty file as a version `version` (1 or 2) build left it. Foreign keys are off on
/// the returned connection, so a test can write the unpaired rows a damaged file holds.
fn old_file(path: &Path, version: i64) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(&sqlite_v1()).unwrap();
    if version >= 2 {
        conn.execute_batch(&sqlite_v2()).unwrap();
    }
    conn.execute_batch(&format!(
        "PRAGMA user_version = {version}; PRAGMA foreign_keys = OFF;"
    ))
    .unwrap();
    conn
}

/// The role the §5 matrix lets file `ev` (the first in [`Role::ALL`] that may).
fn filer(ev: &Event) -> Role {
    Role::ALL
        .into_iter()
        .find(|r| ev.record.kind().accepts(*r, ev.action))
        .unwrap()
}

/// A version 1 or 2 log row at `seq`, naming `kind` (normally the event's own).
fn insert_log(conn: &Connection, kind: &str, e: &Entry) {
    conn.execute(
        "INSERT INTO leo_log VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            as_i64(e.seq),
            e.event.id.as_str(),
            kind,
            e.actor.as_str(),
            e.event.action.as_str(),
            e.event.recorded_at.unix_micros(),
            &e.leaf_hash[..],
            &e.chain_hash[..]
        ],
    )
    .unwrap();
}

/// A version 1 or 2 record row of `ev` at `seq`, in the table of `kind`.
fn insert_record(conn: &Connection, kind: RecordKind, seq: u64, ev: &Event) {
    let cols = columns(&ev.record).unwrap();
    let mut values = vec![Param::Int(as_i64(seq))];
    values.extend(cols.iter().map(Param::from));
    conn.execute(&v1_insert_sql(kind), rusqlite::params_from_iter(values))
        .unwrap();
}

/// The entry an older build would have stored for `ev` at `seq` after chain link `prev`:
/// filed by [`filer`], with its version 1 leaf.
fn old_entry(seq: u64, prev: &Hash, ev: Event) -> Entry {
    let actor = filer(&ev);
    let leaf_hash = leaf_hash_v1_of(seq, actor, &ev).unwrap();
    Entry {
        seq,
        actor,
        chain_hash: chain_next(prev, &leaf_hash),
        leaf_hash,
        event: ev,
    }
}

/// Writes `events` from seq 0 as an older build did (log row and record row each, version
/// 1 leaves, the chain) and answers the entries written.
fn write_old(conn: &Connection, events: Vec<Event>) -> Vec<Entry> {
    let mut prev = [0; 32];
    let mut out = Vec::new();
    for (seq, ev) in (0u64..).zip(events) {
        let e = old_entry(seq, &prev, ev);
        insert_log(conn, e.event.record.kind().as_str(), &e);
        insert_record(conn, e.event.record.kind(), seq, &e.event);
        prev = e.chain_hash;
        out.push(e);
    }
    out
}

/// A stored value as SQLite returns it.
fn sql_value(v: &Value) -> SqlValue {
    match v {
        Value::Int(Some(i)) => SqlValue::Integer(*i),
        Value::Text(Some(t)) => SqlValue::Text(t.clone()),
        Value::Blob(Some(b)) => SqlValue::Blob(b.clone()),
        Value::Int(None) | Value::Text(None) | Value::Blob(None) => SqlValue::Null,
    }
}

/// `e` as a version 3 record table row holds it, in [`table_columns`] order.
fn v3_row(e: &Entry) -> Vec<SqlValue> {
    let mut row = vec![
        SqlValue::Integer(as_i64(e.seq)),
        SqlValue::Text(e.event.id.to_string()),
        SqlValue::Text(e.actor.as_str().to_owned()),
        SqlValue::Text(e.event.action.as_str().to_owned()),
        SqlValue::Integer(e.event.recorded_at.unix_micros()),
        SqlValue::Blob(e.leaf_hash.to_vec()),
        SqlValue::Blob(e.chain_hash.to_vec()),
    ];
    row.extend(columns(&e.event.record).unwrap().iter().map(sql_value));
    row
}

/// Everything in the file: its version, its journal mode, its schema and every row of
/// every table.
fn snapshot(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut out = vec![format!("user_version {}", user_version(&conn).unwrap())];
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    out.push(format!("journal_mode {mode}"));
    let mut tables = Vec::new();
    let mut stmt = conn
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
        .unwrap();
    let mut rows = stmt.query([]).unwrap();
    while let Some(r) = rows.next().unwrap() {
        let (kind, name): (String, String) = (r.get(0).unwrap(), r.get(1).unwrap());
        let (table, sql): (String, Option<String>) = (r.get(2).unwrap(), r.get(3).unwrap());
        if kind == "table" {
            tables.push(name.clone());
        }
        out.push(format!("{kind} {name} on {table}: {sql:?}"));
    }
    for table in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY 1"))
            .unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let values: Vec<SqlValue> = (0..n).map(|i| r.get(i).unwrap()).collect();
            out.push(format!("{table}: {values:?}"));
        }
    }
    out
}

fn count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn object_type(conn: &Connection, name: &str) -> Option<String> {
    conn.query_row(
        "SELECT type FROM sqlite_master WHERE name = ?1",
        params![name],
        |r| r.get(0),
    )
    .ok()
}

/// The extended result code and message of a failed raw statement.
fn failure(r: rusqlite::Result<usize>) -> (i32, String) {
    match r {
        Err(rusqlite::Error::SqliteFailure(f, msg)) => (f.extended_code, msg.unwrap_or_default()),
        other => panic!("expected a SQLite failure, got {other:?}"),
    }
}

/// A signed checkpoint of the first `size` leaves of `entries`, inserted as an older build
/// did.
fn insert_checkpoint(conn: &Connection, signer: &NoteSigner, entries: &[Entry], size: u64) {
    let tree = MerkleTree::from_leaf_hashes(entries.iter().map(|e| e.leaf_hash));
    let root = tree.root_at(size).unwrap();
    let note = Checkpoint {
        origin: signer.name().to_owned(),
        size,
        root,
    }
    .sign(signer)
    .unwrap();
    conn.execute(
        "INSERT INTO leo_checkpoints (tree_size, root_hash, note, actor, created_at) \
         VALUES (?1, ?2, ?3, 'CLAUDE_EXEC', ?4)",
        params![
            as_i64(size),
            &root[..],
            note,
            crate::samples::T0.unix_micros()
        ],
    )
    .unwrap();
}

/// A reader cannot open a file still at version `found`: only a writer migrates.
fn assert_too_old(loc: &Location, found: i64) {
    let err = BuilderHandle::open(loc).unwrap_err();
    assert!(
        matches!(err, Error::SchemaTooOld { found: f, required: 3 } if f == found),
        "{err}"
    );
}

#[test]
fn a_version_1_file_migrates_and_keeps_verifying() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    // A file as a version 1 build left it, with one entry (version 1 and 2 builds wrote
    // JSON leaves, leaf format version 1).
    let conn = old_file(&path, 1);
    let old = write_old(&conn, vec![handoff("v1", 1).unwrap().into_any()]);
    drop(conn);

    let loc = Location::Sqlite(path.clone());
    assert_too_old(&loc, 1);
    // A writer migrates; the old entry and the new kinds verify together.
    let mut e = EnforcerHandle::open(&loc, None).unwrap();
    e.append(artifact_signature("v2", 1).unwrap()).unwrap();
    SystemHandle::open(&loc, None)
        .unwrap()
        .append(merged("v2", 1).unwrap())
        .unwrap();
    let mut b = BuilderHandle::open(&loc).unwrap();
    assert_eq!(b.verify(&[]).unwrap().entries, 3);
    // The version 1 leaf is kept as stored (not rewritten to a version 2 leaf).
    assert_eq!(b.entry(0).unwrap(), old[0]);
    assert_ne!(
        old[0].leaf_hash,
        leaf_hash_of(0, old[0].actor, &old[0].event).unwrap()
    );
    let conn = Connection::open(&path).unwrap();
    assert_eq!(user_version(&conn).unwrap(), SQLITE_SCHEMA_VERSION);
    assert_eq!(object_type(&conn, "leo_log").as_deref(), Some("view"));
    assert_eq!(count(&conn, EVENT_IDS_TABLE), 3);
}

#[test]
fn a_version_2_file_of_every_kind_migrates_and_keeps_verifying() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.db");
    let conn = old_file(&path, 2);
    // One row of every kind, each filed by a role the matrix allows, plus the merge step's.
    let mut events = sample_events("old").unwrap();
    events.push(merged("old", 1).unwrap().into_any());
    for kind in RecordKind::ALL {
        assert!(events.iter().any(|e| e.record.kind() == kind), "{kind}");
    }
    let old = write_old(&conn, events);
    let n = old.len() as u64;
    let signer = NoteSigner::generate("leo.example/migration").unwrap();
    insert_checkpoint(&conn, &signer, &old, n);
    drop(conn);
    let trusted = [signer.verifier()];

    let loc = Location::Sqlite(path.clone());
    assert_too_old(&loc, 2);
    // Opening a writer migrates.
    let mut supervisor = SupervisorHandle::open(&loc, None).unwrap();
    let conn = Connection::open(&path).unwrap();
    assert_eq!(user_version(&conn).unwrap(), 3);
    assert_eq!(object_type(&conn, "leo_log").as_deref(), Some("view"));
    assert_eq!(count(&conn, "leo_log"), n as i64);
    assert_eq!(count(&conn, EVENT_IDS_TABLE), n as i64);
    let leftovers: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name LIKE '%\\_v3' ESCAPE '\\'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(leftovers, 0);
    // Every old row is in its own table, with its log columns, exactly as written.
    for e in &old {
        let kind = e.event.record.kind();
        let table = kind.table();
        assert_eq!(
            object_type(&conn, table).as_deref(),
            Some("table"),
            "{kind}"
        );
        let expected = v3_row(e);
        let cols = table_columns(kind);
        let stored: Vec<SqlValue> = conn
            .query_row(
                &format!("SELECT {} FROM {table} WHERE seq = ?1", cols.join(", ")),
                params![as_i64(e.seq)],
                |r| (0..cols.len()).map(|i| r.get(i)).collect(),
            )
            .unwrap();
        assert_eq!(stored, expected, "{kind}");
        let sql: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
                params![table],
                |r| r.get(0),
            )
            .unwrap();
        assert!(sql.contains(MATRIX_CONSTRAINT), "{kind}: {sql}");
        let seq: i64 = conn
            .query_row(
                "SELECT seq FROM leo_event_ids WHERE event_id = ?1",
                params![e.event.id.as_str()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(seq, as_i64(e.seq), "{kind}");
    }
    // One row per kind: nothing was copied twice or into the wrong table.
    for kind in RecordKind::ALL {
        let of_kind = old.iter().filter(|e| e.event.record.kind() == kind).count();
        assert_eq!(count(&conn, kind.table()), of_kind as i64, "{kind}");
    }
    assert_eq!(count(&conn, "leo_checkpoints"), 1);

    // The rebuilt tables are still append-only and still check the matrix.
    let (code, msg) = failure(conn.execute("UPDATE leo_handoff_tracking SET branch = 'x'", []));
    assert_eq!(code, rusqlite::ffi::SQLITE_CONSTRAINT_TRIGGER);
    assert!(msg.contains(APPEND_ONLY), "{msg}");
    let (code, msg) = failure(conn.execute("DELETE FROM leo_event_ids", []));
    assert_eq!(code, rusqlite::ffi::SQLITE_CONSTRAINT_TRIGGER);
    assert!(msg.contains(APPEND_ONLY), "{msg}");
    let ev = approval("forged", 1).unwrap().into_any();
    let mut forged = old_entry(n, &old[old.len() - 1].chain_hash, ev);
    forged.actor = Role::ClaudeExec;
    let cols = table_columns(RecordKind::Approval);
    let marks = vec!["?"; cols.len()].join(", ");
    let (code, msg) = failure(conn.execute(
        &format!(
            "INSERT INTO pr_approval_audit ({}) VALUES ({marks})",
            cols.join(", ")
        ),
        rusqlite::params_from_iter(v3_row(&forged)),
    ));
    assert_eq!(code, rusqlite::ffi::SQLITE_CONSTRAINT_CHECK);
    assert!(msg.contains(MATRIX_CONSTRAINT), "{msg}");
    drop(conn);

    // Every old entry reads back as written, and the whole trail verifies.
    let mut b = BuilderHandle::open(&loc).unwrap();
    let report = b.verify(&trusted).unwrap();
    assert_eq!(
        (report.entries, report.checkpoints, report.signed_size),
        (n, 1, n)
    );
    for e in &old {
        assert_eq!(&b.entry(e.seq).unwrap(), e);
    }
    assert_eq!(b.find(&old[1].event.id).unwrap(), old[1]);

    // A new append continues the log with a version 2 leaf, chained to the old tail.
    let ev = gate("new", 1).unwrap();
    let receipt = supervisor.append(ev.clone()).unwrap();
    let ev = ev.into_any();
    let leaf = leaf_hash_of(n, Role::Plan, &ev).unwrap();
    assert_eq!(
        (receipt.seq, receipt.leaf_hash, receipt.duplicate),
        (n, leaf, false)
    );
    let mut b = BuilderHandle::open(&loc).unwrap();
    let report = b.verify(&trusted).unwrap();
    assert_eq!(
        (report.entries, report.signed_size, report.unsigned_tail),
        (n + 1, n, 1)
    );
    assert_eq!(
        b.entry(n).unwrap(),
        Entry {
            seq: n,
            actor: Role::Plan,
            event: ev,
            leaf_hash: leaf,
            chain_hash: chain_next(&old[old.len() - 1].chain_hash, &leaf),
        }
    );
    assert_eq!(
        count(&Connection::open(&path).unwrap(), EVENT_IDS_TABLE),
        n as i64 + 1
    );

    // A retried old event is a duplicate, answered with its stored version 1 leaf; the same
    // id with other content, or by another role in another table, is a conflict.
    let mut enforcer = EnforcerHandle::open(&loc, None).unwrap();
    let retry = handoff("old", 1).unwrap();
    assert_eq!(old[0].event, retry.clone().into_any());
    assert_eq!(
        enforcer.append(retry.clone()).unwrap(),
        Receipt {
            seq: 0,
            leaf_hash: old[0].leaf_hash,
            duplicate: true
        }
    );
    let mut changed = retry;
    changed.record.branch = crate::record::Text::new("branch", "elsewhere").unwrap();
    assert!(matches!(
        enforcer.append(changed),
        Err(Error::EventIdConflict { seq: 0, .. })
    ));
    let mut other_kind = gate("new", 2).unwrap();
    other_kind.id = old[0].event.id.clone();
    assert!(matches!(
        supervisor.append(other_kind),
        Err(Error::EventIdConflict { seq: 0, .. })
    ));
    let mut lead = LeadHandle::open(&loc, None).unwrap();
    let retry = approval("old", 1).unwrap();
    let seq = old.iter().position(|e| e.event.id == retry.id).unwrap() as u64;
    assert!(lead.append(retry).unwrap().duplicate);
    // Nothing was written by the retries.
    let mut b = BuilderHandle::open(&loc).unwrap();
    assert_eq!(b.verify(&trusted).unwrap().entries, n + 1);
    assert_eq!(b.entry(seq).unwrap(), old[seq as usize]);
}

/// Ways a version 2 file's log and record rows can fail to pair up.
#[derive(Clone, Copy, Debug)]
enum Unpaired {
    /// A log row without its record row.
    LogOnly,
    /// A record row without a log row.
    RecordOnly,
    /// A log row whose kind names another table than the one holding its record.
    WrongKind,
}

/// A version `version` file of valid rows (of the kinds that version has) and then one
/// unpaired row of the given sort.
fn damaged_file(path: &Path, version: i64, how: Unpaired) {
    let conn = old_file(path, version);
    let events = if version == 1 {
        vec![
            handoff("ok", 1).unwrap().into_any(),
            verification("ok", 1).unwrap().into_any(),
            signing_key("ok", 1).unwrap().into_any(),
        ]
    } else {
        sample_events("ok").unwrap()
    };
    let old = write_old(&conn, events);
    let n = old.len() as u64;
    let prev = old[old.len() - 1].chain_hash;
    match how {
        Unpaired::LogOnly => {
            let e = old_entry(n, &prev, handoff("extra", 1).unwrap().into_any());
            insert_log(&conn, "handoff", &e);
        }
        Unpaired::RecordOnly => {
            insert_record(
                &conn,
                RecordKind::Approval,
                n,
                &approval("extra", 1).unwrap().into_any(),
            );
        }
        Unpaired::WrongKind if version == 1 => {
            // A signing key's log row, its record in the handoff table (both are kinds the
            // enforcer files under SIGN_ARTIFACTS, so the matrix trigger lets it in).
            let e = old_entry(n, &prev, signing_key("extra", 1).unwrap().into_any());
            insert_log(&conn, "signing_key", &e);
            insert_record(
                &conn,
                RecordKind::Handoff,
                n,
                &handoff("extra", 1).unwrap().into_any(),
            );
        }
        Unpaired::WrongKind => {
            // A refusal whose log row says artifact signature (both filed by the enforcer
            // under SIGN_ARTIFACTS, so the matrix trigger lets it in).
            let e = old_entry(n, &prev, refusal("extra", 1).unwrap().into_any());
            insert_log(&conn, "artifact_signature", &e);
            insert_record(&conn, RecordKind::Refusal, n, &e.event);
        }
    }
}

/// Opening `path` (a damaged version `version` file) with a writer is refused and changes
/// nothing; a reader finds it too old.
fn assert_refused(path: &Path, version: i64, how: Unpaired) {
    let before = snapshot(path);
    assert_eq!(before[0], format!("user_version {version}"), "{how:?}");
    let loc = Location::Sqlite(path.to_owned());
    for _ in 0..2 {
        let err = EnforcerHandle::open(&loc, None).unwrap_err();
        assert!(
            matches!(err, Error::MigrationRefused { version: 3, .. }),
            "{how:?}: {err}"
        );
        assert!(matches!(
            SupervisorHandle::open(&loc, None),
            Err(Error::MigrationRefused { version: 3, .. })
        ));
        assert_eq!(snapshot(path), before, "{how:?}");
        assert_too_old(&loc, version);
    }
    let conn = Connection::open(path).unwrap();
    assert_eq!(user_version(&conn).unwrap(), version);
    assert_eq!(object_type(&conn, "leo_log").as_deref(), Some("table"));
    assert_eq!(object_type(&conn, EVENT_IDS_TABLE), None);
}

/// Every sort of unpaired row in a version `version` file is refused, changing nothing.
fn assert_every_unpaired_sort_refused(version: i64) {
    for how in [Unpaired::LogOnly, Unpaired::RecordOnly, Unpaired::WrongKind] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        damaged_file(&path, version, how);
        assert_refused(&path, version, how);
    }
}

#[test]
fn a_version_2_file_with_unpaired_rows_is_refused_and_left_as_it_was() {
    assert_every_unpaired_sort_refused(2);
}

#[test]
fn a_version_1_file_with_unpaired_rows_is_refused_and_left_at_version_1() {
    // Migration 2 runs first, in the same transaction: it is rolled back too.
    assert_every_unpaired_sort_refused(1);
}

/// A version 2 file with the samples and one more row that only tampering (the matrix
/// trigger dropped) could file: a log row naming `kind`, filed by `actor`, with its record
/// row when `kind` is the event's own.
fn file_with_a_forged_row(path: &Path, kind: &str, actor: Role) {
    let conn = old_file(path, 2);
    let old = write_old(&conn, sample_events("ok").unwrap());
    let n = old.len() as u64;
    let mut e = old_entry(
        n,
        &old[old.len() - 1].chain_hash,
        handoff("extra", 1).unwrap().into_any(),
    );
    e.actor = actor;
    conn.execute_batch("DROP TRIGGER leo_log_matrix").unwrap();
    insert_log(&conn, kind, &e);
    if kind == "handoff" {
        insert_record(&conn, RecordKind::Handoff, n, &e.event);
    }
}

#[test]
fn a_version_2_file_with_a_forged_row_is_refused() {
    for (kind, actor) in [
        // A log row whose kind is no table's: the migration copies rows by kind, so it
        // would silently drop this one.
        ("not_a_kind", Role::ClaudeExec),
        // LEAD filed a handoff: version 3's matrix constraint would refuse the copy midway;
        // the precheck names it instead.
        ("handoff", Role::Lead),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.db");
        file_with_a_forged_row(&path, kind, actor);
        assert_refused(&path, 2, Unpaired::LogOnly);
    }
}

/// Version 3 rebuilds every record table from [`crate::schema::record_ddl`], a second copy
/// of the record columns versions 1 and 2 created: same names, order, types and `NOT NULL`.
#[test]
fn version_3_record_columns_are_those_of_version_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.db");
    let columns_of = |conn: &Connection, table: &str| -> Vec<(String, String, bool)> {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT name, type, \"notnull\" FROM pragma_table_xinfo('{table}')"
            ))
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        rows.map(Result::unwrap)
            .filter(|(name, _, _): &(String, String, bool)| {
                !V3_LOG_COLUMNS.contains(&name.as_str())
            })
            .collect()
    };
    let conn = old_file(&path, 2);
    let before: Vec<_> = RecordKind::ALL
        .iter()
        .map(|k| columns_of(&conn, k.table()))
        .collect();
    drop(conn);
    EnforcerHandle::open(&Location::Sqlite(path.clone()), None).unwrap();
    let conn = Connection::open(&path).unwrap();
    for (kind, before) in RecordKind::ALL.iter().zip(before) {
        let after = columns_of(&conn, kind.table());
        assert_eq!(after, before, "{kind}");
        let names: Vec<&str> = after.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(names, column_names(*kind), "{kind}");
    }
    // The table-level checks of the signing keys survive too.
    let sql: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'leo_signing_keys'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(sql.contains("(public_key IS NULL) <> (public_key_armored IS NULL)"));
    assert!(sql.contains("not_before < not_after"));
}

/// Only the §5 matrix constraint is a denial by the database; another `CHECK` is a plain
/// SQLite error.
#[test]
fn only_the_matrix_constraint_is_a_denial() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leo.db");
    drop(EnforcerHandle::open(&Location::Sqlite(path.clone()), None).unwrap());
    let conn = Connection::open(&path).unwrap();
    let matrix = conn
        .execute_batch(
            "INSERT INTO pr_approval_audit VALUES (0, 'e', 'CLAUDE_EXEC', 'OVERRIDE_VERDICTS', \
             0, zeroblob(32), zeroblob(32), 1, 'APPROVE', 'j')",
        )
        .unwrap_err();
    assert!(matches!(
        sql_err("appending", matrix),
        Error::DeniedByDatabase { message, .. } if message.contains(MATRIX_CONSTRAINT)
    ));
    let window = conn
        .execute_batch(
            "INSERT INTO leo_signing_keys VALUES (0, 'e', 'CLAUDE_EXEC', 'SIGN_ARTIFACTS', 0, \
             zeroblob(32), zeroblob(32), 'f', 'ed25519', zeroblob(32), NULL, 5, 5)",
        )
        .unwrap_err();
    assert!(matches!(sql_err("appending", window), Error::Sqlite { .. }));
}

/// The queries every append runs find their rows through the rowid B-tree, so an append
/// costs the same on a large log as on an empty one: no table scan, no sort. (The tail
/// query was once written so that SQLite scanned every record table at every append.)
#[test]
fn append_queries_search_and_never_scan() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leo.db");
    drop(EnforcerHandle::open(&Location::Sqlite(path.clone()), None).unwrap());
    let conn = Connection::open(&path).unwrap();
    let plan = |sql: &str| -> Vec<String> {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
        stmt.query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let mut queries = vec![tail_sql()];
    queries.extend(RecordKind::ALL.map(batch::event_ids_copy_sql));
    for sql in queries {
        let plan = plan(&sql);
        let searched = RecordKind::ALL
            .iter()
            .filter(|k| {
                plan.iter().any(|d| {
                    d.starts_with(&format!("SEARCH {} USING INTEGER PRIMARY KEY", k.table()))
                })
            })
            .count();
        assert!(searched > 0, "{sql}: {plan:?}");
        assert!(
            plan.iter()
                .all(|d| !d.starts_with("SCAN ") && !d.contains("TEMP B-TREE")),
            "{sql}: {plan:?}"
        );
    }
}
