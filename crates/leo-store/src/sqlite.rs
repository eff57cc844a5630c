//! The SQLite backend: one file, WAL, `synchronous=FULL`.
//!
//! Role separation inside one file: a builder connection is opened `SQLITE_OPEN_READ_ONLY`
//! and gets an authorizer that allows reading only; a writer connection gets an authorizer
//! that allows `INSERT` into the append tables and `leo_event_ids` and nothing else that
//! changes data (no `UPDATE`, `DELETE`, `DROP`, `ALTER`, `ATTACH`, DDL or pragma). Behind
//! both, `RAISE(ABORT)` triggers refuse updates and deletes from any connection, and each
//! record table's `sop5_accountability_matrix` constraint checks every row's
//! `(actor, action)` against the §5 matrix (schema version 3: one row per record, see
//! [`crate::schema`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use rusqlite::Connection;
use rusqlite::ErrorCode;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::ValueRef;
pub use rusqlite::{OpenFlags, params};

use crate::backend::{
    Backend, CheckpointRow, Inserted, LogRef, PendingRow, RawEntry, ScanFn, Window, insert_each,
};
use crate::codec::{Value, column_names};
use crate::error::{Error, Result};
use crate::merkle::Hash;
use crate::projection::{ProjectFn, ProjectionRow, decode_row, projection_sql_one_row};
use crate::record::{EventId, RecordKind};
use crate::schema::{
    APPEND_TABLES, EVENT_IDS_TABLE, MATRIX_CONSTRAINT, SQLITE_SCHEMA_VERSION, V3_LOG_COLUMNS,
    sqlite_migrations, sqlite_v3_precheck,
};

mod batch;
use batch::Held;

/// How long a connection waits for another writer's lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Prepared statements kept per connection (the chunked inserts of every table fit).
const STATEMENT_CACHE: usize = 128;

fn sql_err(context: &str, e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        let denied = matches!(
            f.code,
            ErrorCode::AuthorizationForStatementDenied | ErrorCode::ReadOnly
        ) || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_TRIGGER
            || (f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_CHECK
                && msg
                    .as_deref()
                    .is_some_and(|m| m.contains(MATRIX_CONSTRAINT)));
        if denied {
            return Error::DeniedByDatabase {
                operation: context.to_owned(),
                message: msg.clone().unwrap_or_else(|| f.to_string()),
            };
        }
    }
    Error::Sqlite {
        context: context.to_owned(),
        source: e,
    }
}

fn reader_authorizer(ctx: AuthContext<'_>) -> Authorization {
    match ctx.action {
        AuthAction::Select
        | AuthAction::Read { .. }
        | AuthAction::Function { .. }
        | AuthAction::Recursive
        | AuthAction::Transaction { .. } => Authorization::Allow,
        _ => Authorization::Deny,
    }
}

fn writer_authorizer(ctx: AuthContext<'_>) -> Authorization {
    match ctx.action {
        // `leo_log` is a view in schema version 3: the record tables take its rows.
        AuthAction::Insert { table_name }
            if (APPEND_TABLES.contains(&table_name) && table_name != "leo_log")
                || table_name == EVENT_IDS_TABLE =>
        {
            Authorization::Allow
        }
        AuthAction::Savepoint { .. } => Authorization::Allow,
        _ => reader_authorizer(ctx),
    }
}

fn user_version(conn: &Connection) -> Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| sql_err("reading the schema version", e))
}

/// Creates the schema if the file has none, and applies every missing migration, under an
/// exclusive lock.
fn migrate(conn: &Connection) -> Result<()> {
    let found = user_version(conn)?;
    if found > SQLITE_SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found,
            supported: SQLITE_SCHEMA_VERSION,
        });
    }
    if found == SQLITE_SCHEMA_VERSION {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| sql_err("locking for migration", e))?;
    let run = || -> Result<()> {
        // Another process may have migrated while we waited for the lock.
        let found = user_version(conn)?;
        for (version, sql) in sqlite_migrations() {
            if version > found {
                if version == 3 {
                    precheck_v3(conn)?;
                }
                conn.execute_batch(&sql)
                    .map_err(|e| sql_err(&format!("applying migration {version}"), e))?;
                conn.execute_batch(&format!("PRAGMA user_version = {version}"))
                    .map_err(|e| sql_err("recording the schema version", e))?;
            }
        }
        Ok(())
    };
    match run() {
        Ok(()) => conn
            .execute_batch("COMMIT")
            .map_err(|e| sql_err("committing migration", e)),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Refuses migration 3 on a file whose log rows and record rows do not pair up (see
/// [`sqlite_v3_precheck`]).
fn precheck_v3(conn: &Connection) -> Result<()> {
    for (what, sql) in sqlite_v3_precheck() {
        let found: i64 = conn
            .query_row(&sql, [], |r| r.get(0))
            .map_err(|e| sql_err("checking the log before migration 3", e))?;
        if found != 0 {
            return Err(Error::MigrationRefused {
                version: 3,
                reason: format!(
                    "{what} ({found}); run `leo audit verify` with the previous release"
                ),
            });
        }
    }
    Ok(())
}

/// Opens (creating and migrating if needed) a writer connection: WAL, `synchronous=FULL`,
/// and the append-only authorizer installed.
pub fn open_writer_connection(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags)
        .map_err(|e| sql_err(&format!("opening {}", path.display()), e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| sql_err("setting the busy timeout", e))?;
    conn.execute_batch("PRAGMA synchronous = FULL")
        .map_err(|e| sql_err("setting synchronous = FULL", e))?;
    // Before WAL, so a refused migration leaves the file exactly as it was.
    migrate(&conn)?;
    // `recursive_triggers` makes `INSERT OR REPLACE` fire the append-only delete triggers
    // for the row it would replace (without it SQLite deletes that row silently); the
    // authorizer below refuses every pragma, so the writer cannot turn it off again.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA recursive_triggers = ON;",
    )
    .map_err(|e| sql_err("enabling WAL", e))?;
    conn.authorizer(Some(writer_authorizer))
        .map_err(|e| sql_err("installing the authorizer", e))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Opens a builder connection: `SQLITE_OPEN_READ_ONLY` plus a read-only authorizer.
pub fn open_reader_connection(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags)
        .map_err(|e| sql_err(&format!("opening {} read-only", path.display()), e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| sql_err("setting the busy timeout", e))?;
    let found = user_version(&conn)?;
    if found == 0 {
        return Err(Error::SchemaMissing {
            what: path.display().to_string(),
        });
    }
    if found > SQLITE_SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found,
            supported: SQLITE_SCHEMA_VERSION,
        });
    }
    if found < SQLITE_SCHEMA_VERSION {
        return Err(Error::SchemaTooOld {
            found,
            required: SQLITE_SCHEMA_VERSION,
        });
    }
    conn.authorizer(Some(reader_authorizer))
        .map_err(|e| sql_err("installing the authorizer", e))?;
    Ok(conn)
}

/// The SQLite backend.
pub(crate) struct SqliteBackend {
    conn: Connection,
    path: PathBuf,
    /// Multi-row insert SQL by shape, built once (it is also the statement cache key).
    inserts: HashMap<batch::InsertKey, String>,
}

impl SqliteBackend {
    pub(crate) fn writer(path: &Path) -> Result<Self> {
        Ok(SqliteBackend {
            conn: open_writer_connection(path)?,
            path: path.to_owned(),
            inserts: HashMap::new(),
        })
    }

    pub(crate) fn reader(path: &Path) -> Result<Self> {
        Ok(SqliteBackend {
            conn: open_reader_connection(path)?,
            path: path.to_owned(),
            inserts: HashMap::new(),
        })
    }

    /// Inserts for one append.
    fn held(&mut self) -> Held<'_> {
        Held::new(&self.conn, &mut self.inserts)
    }
}

fn from_sql(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Integer(i) => Value::Int(Some(i)),
        // Text that is not UTF-8 was not written by LEO: read as bytes, so it neither
        // decodes nor matches a leaf (a lossy read could match one).
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => Value::Text(Some(s.to_owned())),
            Err(_) => Value::Blob(Some(t.to_vec())),
        },
        ValueRef::Blob(b) => Value::Blob(Some(b.to_vec())),
        // A real in an integer column is tampering; surface it as text so decoding fails.
        ValueRef::Real(f) => Value::Text(Some(f.to_string())),
        ValueRef::Null => Value::Text(None),
    }
}

fn ref_text<'a>(field: &'static str, v: ValueRef<'a>) -> Result<&'a str> {
    match v {
        ValueRef::Text(t) => std::str::from_utf8(t).map_err(|_| Error::field(field, "not UTF-8")),
        _ => Err(Error::field(field, "expected text")),
    }
}

fn ref_blob<'a>(field: &'static str, v: ValueRef<'a>) -> Result<&'a [u8]> {
    match v {
        ValueRef::Blob(b) => Ok(b),
        _ => Err(Error::field(field, "expected bytes")),
    }
}

/// A result row of a projected scan, read by reference.
struct SqlRow<'r, 's>(&'r rusqlite::Row<'s>);

impl<'r> ProjectionRow<'r> for SqlRow<'r, '_> {
    fn int(&self, i: usize, field: &'static str) -> Result<Option<i64>> {
        match self.0.get_ref(i) {
            Ok(ValueRef::Integer(v)) => Ok(Some(v)),
            Ok(ValueRef::Null) => Ok(None),
            Ok(_) => Err(Error::field(field, "expected an integer")),
            Err(e) => Err(sql_err("reading a projected column", e)),
        }
    }

    fn text(&self, i: usize, field: &'static str) -> Result<Option<&'r [u8]>> {
        match self.0.get_ref(i) {
            Ok(ValueRef::Text(t)) => Ok(Some(t)),
            Ok(ValueRef::Null) => Ok(None),
            Ok(_) => Err(Error::field(field, "expected text")),
            Err(e) => Err(sql_err("reading a projected column", e)),
        }
    }
}

fn seq_of_row(i: i64) -> rusqlite::Result<u64> {
    u64::try_from(i).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, i))
}

fn as_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The columns of a version 3 record table, in insert order: the log columns, then the
/// record's.
fn table_columns(kind: RecordKind) -> Vec<&'static str> {
    let mut cols = V3_LOG_COLUMNS.to_vec();
    cols.extend(column_names(kind));
    cols
}

/// The `SELECT` list of a version 3 record table: the log columns, then the record's.
fn select_list(kind: RecordKind) -> String {
    table_columns(kind).join(", ")
}

/// Whether `e` is a primary key violation (`SQLITE_CONSTRAINT_PRIMARYKEY`): on
/// `leo_event_ids`, an event id already recorded.
fn is_duplicate_key(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

/// A log column that must be text; anything else is noted in `defect` (and read as empty).
fn text_column(v: ValueRef<'_>, column: &str, defect: &mut Option<String>) -> String {
    match from_sql(v) {
        Value::Text(Some(t)) => t,
        _ => {
            defect.get_or_insert_with(|| format!("{column} is not text"));
            String::new()
        }
    }
}

/// A log column that must be a blob; anything else is noted in `defect` (and read as empty).
fn blob_column(v: ValueRef<'_>, column: &str, defect: &mut Option<String>) -> Vec<u8> {
    match v {
        ValueRef::Blob(b) => b.to_vec(),
        _ => {
            defect.get_or_insert_with(|| format!("{column} is not a blob"));
            Vec::new()
        }
    }
}

/// The newest log row: each record table's last row, the largest `seq` of them. Each arm
/// finds its row by `max(seq)`, which SQLite answers from the end of the table's B-tree; an
/// arm written as `SELECT * FROM (... ORDER BY seq DESC LIMIT 1)` is planned as a scan of
/// the whole table, which made every append cost time linear in the log's size.
fn tail_sql() -> String {
    let arms: Vec<String> = RecordKind::ALL
        .into_iter()
        .map(|k| {
            let table = k.table();
            format!(
                "SELECT seq, chain_hash FROM {table} WHERE seq = (SELECT max(seq) FROM {table})"
            )
        })
        .collect();
    format!("{} ORDER BY seq DESC LIMIT 1", arms.join(" UNION ALL "))
}

impl Backend for SqliteBackend {
    fn begin_append(&mut self) -> Result<()> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| sql_err(&format!("locking {}", self.path.display()), e))
    }

    fn commit(&mut self) -> Result<()> {
        self.conn
            .execute_batch("COMMIT")
            .map_err(|e| Error::CommitFailed {
                context: format!("committing to {}", self.path.display()),
                message: e.to_string(),
            })
    }

    fn rollback(&mut self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    fn tail(&mut self) -> Result<(u64, Hash)> {
        let row: Option<(i64, Vec<u8>)> = self
            .conn
            .prepare_cached(&tail_sql())
            .and_then(|mut s| {
                let mut rows = s.query([])?;
                match rows.next()? {
                    Some(r) => Ok(Some((r.get(0)?, r.get(1)?))),
                    None => Ok(None),
                }
            })
            .map_err(|e| sql_err("reading the log tail", e))?;
        match row {
            None => Ok((0, [0; 32])),
            Some((seq, chain)) => {
                let chain: Hash = chain.as_slice().try_into().map_err(|_| Error::Tampered {
                    seq: seq as u64,
                    table: "leo_log".into(),
                    reason: "chain hash is not 32 bytes".into(),
                })?;
                Ok((seq as u64 + 1, chain))
            }
        }
    }

    fn leaf_hashes(&mut self, from: u64, to: u64) -> Result<Vec<Hash>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, leaf_hash FROM leo_log WHERE seq >= ?1 AND seq < ?2 ORDER BY seq",
            )
            .map_err(|e| sql_err("reading leaf hashes", e))?;
        let rows = stmt
            .query_map(params![as_i64(from), as_i64(to)], |r| {
                Ok((seq_of_row(r.get(0)?)?, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(|e| sql_err("reading leaf hashes", e))?;
        let mut out = Vec::new();
        for (i, row) in rows.enumerate() {
            let (seq, leaf) = row.map_err(|e| sql_err("reading leaf hashes", e))?;
            let expected = from + i as u64;
            let leaf: Option<Hash> = leaf.as_slice().try_into().ok();
            match leaf {
                Some(h) if seq == expected => out.push(h),
                _ => {
                    return Err(Error::Tampered {
                        seq: expected,
                        table: "leo_log".into(),
                        reason: "log row missing or leaf hash malformed".into(),
                    });
                }
            }
        }
        Ok(out)
    }

    fn insert_rows(&mut self, rows: &[PendingRow<'_>]) -> Result<Inserted> {
        self.held().insert_rows(rows)
    }

    /// Each window as [`Backend::insert_rows`], with the inserts held prepared from one
    /// window to the next (see [`Held`]).
    fn insert_windows<'a>(
        &mut self,
        windows: &mut dyn Iterator<Item = Result<Window<'a>>>,
        done: &mut dyn FnMut(Window<'a>),
    ) -> Result<Inserted> {
        let mut held = self.held();
        insert_each(windows, done, |rows| held.insert_rows(rows))
    }

    fn detects_duplicate_ids(&self) -> bool {
        true
    }

    fn event_ids_disagree(&mut self) -> Result<Option<(u64, String)>> {
        let ctx = "comparing leo_event_ids with the log";
        let probes = [
            (
                "SELECT l.seq FROM leo_log AS l LEFT JOIN leo_event_ids AS e \
                 ON e.event_id = l.event_id WHERE e.seq IS NOT l.seq ORDER BY l.seq LIMIT 1",
                "the event-id index does not map this row's event id to it \
                 (index edited, or the event id recorded twice)",
            ),
            (
                "SELECT e.seq FROM leo_event_ids AS e WHERE NOT EXISTS (SELECT 1 FROM leo_log \
                 AS l WHERE l.seq = e.seq AND l.event_id = e.event_id) ORDER BY e.seq LIMIT 1",
                "the event-id index holds an event id no log row has",
            ),
        ];
        for (sql, what) in probes {
            let seq: Option<i64> = self
                .conn
                .prepare_cached(sql)
                .and_then(|mut s| {
                    let mut rows = s.query([])?;
                    rows.next()?.map(|r| r.get(0)).transpose()
                })
                .map_err(|e| sql_err(ctx, e))?;
            if let Some(seq) = seq {
                return Ok(Some((u64::try_from(seq).unwrap_or(0), what.to_owned())));
            }
        }
        Ok(None)
    }

    fn insert_checkpoint(&mut self, row: &CheckpointRow) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO leo_checkpoints (tree_size, root_hash, note, actor, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tree_size) DO NOTHING",
            )
            .and_then(|mut s| {
                s.execute(params![
                    as_i64(row.tree_size),
                    row.root_hash,
                    row.note,
                    row.actor,
                    row.created_at
                ])
            })
            .map_err(|e| sql_err("appending to leo_checkpoints", e))?;
        Ok(())
    }

    fn entries(&mut self, from: u64, to: u64) -> Result<Vec<RawEntry>> {
        let ctx = "reading log entries";
        let mut out = Vec::new();
        for kind in RecordKind::ALL {
            let ncols = column_names(kind).len();
            let sql = format!(
                "SELECT {} FROM {} WHERE seq >= ?1 AND seq < ?2",
                select_list(kind),
                kind.table()
            );
            let mut stmt = self
                .conn
                .prepare_cached(&sql)
                .map_err(|e| sql_err(ctx, e))?;
            let mut rows = stmt
                .query(params![as_i64(from), as_i64(to)])
                .map_err(|e| sql_err(ctx, e))?;
            while let Some(r) = rows.next().map_err(|e| sql_err(ctx, e))? {
                let get = |i| r.get_ref(i).map_err(|e| sql_err(ctx, e));
                let seq = seq_of_row(r.get(0).map_err(|e| sql_err(ctx, e))?)
                    .map_err(|e| sql_err(ctx, e))?;
                let mut defect = None;
                let event_id = text_column(get(1)?, "event_id", &mut defect);
                let actor = text_column(get(2)?, "actor", &mut defect);
                let action = text_column(get(3)?, "action", &mut defect);
                let recorded_at = match get(4)? {
                    ValueRef::Integer(t) => t,
                    _ => {
                        defect.get_or_insert_with(|| "recorded_at is not an integer".to_owned());
                        0
                    }
                };
                let leaf_hash = blob_column(get(5)?, "leaf_hash", &mut defect);
                let chain_hash = blob_column(get(6)?, "chain_hash", &mut defect);
                out.push(RawEntry {
                    seq,
                    event_id,
                    kind: kind.as_str().to_owned(),
                    actor,
                    action,
                    recorded_at,
                    leaf_hash,
                    chain_hash,
                    columns: Some(
                        (7..7 + ncols)
                            .map(|i| get(i).map(from_sql))
                            .collect::<Result<Vec<_>>>()?,
                    ),
                    defect,
                });
            }
        }
        out.sort_by_key(|e| e.seq);
        // `seq` is unique in each table, not across them: a second row with the same seq
        // in another table was not written by LEO. The first keeps the finding, in order.
        out.dedup_by(|next, first| {
            let twice = next.seq == first.seq;
            if twice {
                first.defect = Some(format!(
                    "seq {} appears as a {} and as a {}",
                    first.seq, first.kind, next.kind
                ));
            }
            twice
        });
        Ok(out)
    }

    fn existing(&mut self, ids: &[&str]) -> Result<HashMap<String, u64>> {
        let ctx = "looking up event ids";
        let list =
            serde_json::to_string(ids).map_err(|e| Error::field("event_id", e.to_string()))?;
        let mut stmt = self
            .conn
            .prepare_cached(
                // json_each drives the loop, so every id is one probe of the event_id index.
                "SELECT l.event_id, l.seq FROM json_each(?1) AS j CROSS JOIN leo_event_ids AS l \
                 ON l.event_id = j.value",
            )
            .map_err(|e| sql_err(ctx, e))?;
        let rows = stmt
            .query_map(params![list], |r| {
                Ok((r.get::<_, String>(0)?, seq_of_row(r.get(1)?)?))
            })
            .map_err(|e| sql_err(ctx, e))?;
        rows.collect::<rusqlite::Result<HashMap<_, _>>>()
            .map_err(|e| sql_err(ctx, e))
    }

    fn seq_of(&mut self, id: &EventId) -> Result<Option<u64>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq FROM leo_event_ids WHERE event_id = ?1")
            .map_err(|e| sql_err("looking up an event id", e))?;
        let mut rows = stmt
            .query(params![id.as_str()])
            .map_err(|e| sql_err("looking up an event id", e))?;
        match rows
            .next()
            .map_err(|e| sql_err("looking up an event id", e))?
        {
            Some(r) => Ok(Some(
                seq_of_row(r.get(0).map_err(|e| sql_err("looking up an event id", e))?)
                    .map_err(|e| sql_err("looking up an event id", e))?,
            )),
            None => Ok(None),
        }
    }

    fn checkpoints(&mut self) -> Result<Vec<CheckpointRow>> {
        let ctx = "reading checkpoints";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT tree_size, root_hash, note, actor, created_at FROM leo_checkpoints ORDER BY tree_size",
            )
            .map_err(|e| sql_err(ctx, e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(CheckpointRow {
                    tree_size: seq_of_row(r.get(0)?)?,
                    root_hash: r.get(1)?,
                    note: r.get(2)?,
                    actor: r.get(3)?,
                    created_at: r.get(4)?,
                })
            })
            .map_err(|e| sql_err(ctx, e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| sql_err(ctx, e))
    }
    fn scan_kind(&mut self, kind: RecordKind, from: i64, to: i64, f: ScanFn<'_>) -> Result<()> {
        let ctx = "scanning log entries";
        let ncols = column_names(kind).len();
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {} FROM {} WHERE recorded_at >= ?1 AND recorded_at < ?2 \
                 ORDER BY recorded_at, seq",
                select_list(kind),
                kind.table()
            ))
            .map_err(|e| sql_err(ctx, e))?;
        let mut rows = stmt.query(params![from, to]).map_err(|e| sql_err(ctx, e))?;
        while let Some(r) = rows.next().map_err(|e| sql_err(ctx, e))? {
            let get = |i| r.get_ref(i).map_err(|e| sql_err(ctx, e));
            let columns = Some(
                (7..7 + ncols)
                    .map(|i| get(i).map(from_sql))
                    .collect::<Result<Vec<_>>>()?,
            );
            let seq =
                seq_of_row(r.get(0).map_err(|e| sql_err(ctx, e))?).map_err(|e| sql_err(ctx, e))?;
            let log = LogRef {
                seq,
                event_id: ref_text("event_id", get(1)?)?,
                kind,
                actor: ref_text("actor", get(2)?)?,
                action: ref_text("action", get(3)?)?,
                recorded_at: match get(4)? {
                    ValueRef::Integer(t) => t,
                    _ => return Err(Error::field("recorded_at", "expected an integer")),
                },
                leaf_hash: ref_blob("leaf_hash", get(5)?)?,
                chain_hash: ref_blob("chain_hash", get(6)?)?,
            };
            if f(log.decode(columns)?).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn project_kind(
        &mut self,
        kind: RecordKind,
        from: i64,
        to: i64,
        f: ProjectFn<'_>,
    ) -> Result<()> {
        let ctx = "scanning projected log entries";
        let mut stmt = self
            .conn
            .prepare_cached(&projection_sql_one_row(kind))
            .map_err(|e| sql_err(ctx, e))?;
        let mut rows = stmt.query(params![from, to]).map_err(|e| sql_err(ctx, e))?;
        while let Some(r) = rows.next().map_err(|e| sql_err(ctx, e))? {
            if f(&decode_row(kind, &SqlRow(r))?).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn count_kind(&mut self, kind: RecordKind, from: i64, to: i64) -> Result<u64> {
        let n: i64 = self
            .conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM {} WHERE recorded_at >= ?1 AND recorded_at < ?2",
                kind.table()
            ))
            .and_then(|mut s| s.query_row(params![from, to], |r| r.get(0)))
            .map_err(|e| sql_err("counting log entries", e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests;
