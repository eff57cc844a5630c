//! The SQLite backend: one file, WAL, `synchronous=FULL`.
//!
//! Role separation inside one file: a builder connection is opened `SQLITE_OPEN_READ_ONLY`
//! and gets an authorizer that allows reading only; a writer connection gets an authorizer
//! that allows `INSERT` into the append tables and nothing else that changes data (no
//! `UPDATE`, `DELETE`, `DROP`, `ALTER`, `ATTACH`, DDL or pragma writes). Behind both,
//! `RAISE(ABORT)` triggers refuse updates and deletes from any connection, and a trigger
//! checks every log row's `(actor, action)` against the §5 matrix.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use rusqlite::Connection;
use rusqlite::ErrorCode;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::ValueRef;
pub use rusqlite::{OpenFlags, params};

use crate::backend::{
    Backend, CheckpointRow, LogRef, LogRow, PendingRow, RawEntry, ScanFn, count_sql, scan_sql,
};
use crate::codec::{Value, column_names};
use crate::error::{Error, Result};
use crate::merkle::Hash;
use crate::projection::{ProjectFn, ProjectionRow, decode_row, projection_sql};
use crate::record::{EventId, RecordKind};
use crate::schema::{APPEND_TABLES, SCHEMA_VERSION, sqlite_migrations};

mod batch;
use batch::{LOG_COLUMNS, Param, chunked, log_params, multi_insert_sql};

/// How long a connection waits for another writer's lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Prepared statements kept per connection (the chunked inserts of every table fit).
const STATEMENT_CACHE: usize = 128;

fn sql_err(context: &str, e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        let denied = matches!(
            f.code,
            ErrorCode::AuthorizationForStatementDenied | ErrorCode::ReadOnly
        ) || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_TRIGGER;
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
        AuthAction::Insert { table_name } if APPEND_TABLES.contains(&table_name) => {
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
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| sql_err("locking for migration", e))?;
    let run = || -> Result<()> {
        // Another process may have migrated while we waited for the lock.
        let found = user_version(conn)?;
        for (version, sql) in sqlite_migrations() {
            if version > found {
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
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
        .map_err(|e| sql_err("enabling WAL", e))?;
    migrate(&conn)?;
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
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < SCHEMA_VERSION {
        return Err(Error::SchemaTooOld {
            found,
            required: SCHEMA_VERSION,
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
    /// Multi-row insert SQL by `(table, rows)`, built once (it is also the statement cache key).
    inserts: HashMap<(&'static str, usize), String>,
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
}

fn from_sql(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Integer(i) => Value::Int(Some(i)),
        ValueRef::Text(t) => Value::Text(Some(String::from_utf8_lossy(t).into_owned())),
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

fn insert_sql(kind: RecordKind) -> String {
    let cols = column_names(kind);
    let marks: Vec<String> = (2..=cols.len() + 1).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {} (seq, {}) VALUES (?1, {})",
        kind.table(),
        cols.join(", "),
        marks.join(", ")
    )
}

impl SqliteBackend {
    /// Runs one multi-row insert of `rows` rows whose parameters are `params`, row-major.
    fn insert_many(
        &mut self,
        table: &'static str,
        cols: &[&str],
        rows: usize,
        params: &[Param<'_>],
    ) -> Result<()> {
        let ctx = || format!("appending to {table}");
        let sql = self
            .inserts
            .entry((table, rows))
            .or_insert_with(|| multi_insert_sql(table, cols, rows));
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute(rusqlite::params_from_iter(params)))
            .map_err(|e| sql_err(&ctx(), e))?;
        Ok(())
    }
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
            .prepare_cached("SELECT seq, chain_hash FROM leo_log ORDER BY seq DESC LIMIT 1")
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

    fn insert_log(&mut self, row: &LogRow) -> Result<()> {
        self
            .conn
            .prepare_cached(
                "INSERT INTO leo_log (seq, event_id, kind, actor, action, recorded_at, leaf_hash, chain_hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    as_i64(row.seq),
                    row.event_id,
                    row.kind.as_str(),
                    row.actor.as_str(),
                    row.action.as_str(),
                    row.recorded_at,
                    &row.leaf_hash[..],
                    &row.chain_hash[..],
                ])
            })
            .map_err(|e| sql_err("appending to leo_log", e))?;
        Ok(())
    }

    fn insert_record(&mut self, kind: RecordKind, seq: u64, columns: &[Value]) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached(&insert_sql(kind))
            .map_err(|e| sql_err(&format!("appending to {}", kind.table()), e))?;
        let mut values = Vec::with_capacity(columns.len() + 1);
        values.push(Param::Int(as_i64(seq)));
        values.extend(columns.iter().map(Param::from));
        stmt.execute(rusqlite::params_from_iter(values))
            .map_err(|e| sql_err(&format!("appending to {}", kind.table()), e))?;
        Ok(())
    }

    /// Multi-row inserts: the log rows in chunks, then each kind's record rows in chunks.
    fn insert_rows(&mut self, rows: &[PendingRow]) -> Result<()> {
        for chunk in chunked(rows) {
            let params: Vec<Param<'_>> = chunk.iter().flat_map(|(l, _)| log_params(l)).collect();
            self.insert_many("leo_log", &LOG_COLUMNS, chunk.len(), &params)?;
        }
        for kind in RecordKind::ALL {
            let of_kind: Vec<&PendingRow> = rows.iter().filter(|(l, _)| l.kind == kind).collect();
            let mut cols = vec!["seq"];
            cols.extend(column_names(kind));
            for chunk in chunked(&of_kind) {
                let mut params = Vec::with_capacity(chunk.len() * cols.len());
                for (l, values) in chunk {
                    params.push(Param::Int(as_i64(l.seq)));
                    params.extend(values.iter().map(Param::from));
                }
                self.insert_many(kind.table(), &cols, chunk.len(), &params)?;
            }
        }
        Ok(())
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
        let mut records: HashMap<(String, u64), Vec<Value>> = HashMap::new();
        for kind in RecordKind::ALL {
            let sql = format!(
                "SELECT seq, {} FROM {} WHERE seq >= ?1 AND seq < ?2",
                column_names(kind).join(", "),
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
                let seq = seq_of_row(r.get(0).map_err(|e| sql_err(ctx, e))?)
                    .map_err(|e| sql_err(ctx, e))?;
                let mut vals = Vec::new();
                for i in 1..=column_names(kind).len() {
                    vals.push(from_sql(r.get_ref(i).map_err(|e| sql_err(ctx, e))?));
                }
                records.insert((kind.as_str().to_owned(), seq), vals);
            }
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, event_id, kind, actor, action, recorded_at, leaf_hash, chain_hash \
                 FROM leo_log WHERE seq >= ?1 AND seq < ?2 ORDER BY seq",
            )
            .map_err(|e| sql_err(ctx, e))?;
        let rows = stmt
            .query_map(params![as_i64(from), as_i64(to)], |r| {
                Ok(RawEntry {
                    seq: seq_of_row(r.get(0)?)?,
                    event_id: r.get(1)?,
                    kind: r.get(2)?,
                    actor: r.get(3)?,
                    action: r.get(4)?,
                    recorded_at: r.get(5)?,
                    leaf_hash: r.get(6)?,
                    chain_hash: r.get(7)?,
                    columns: None,
                })
            })
            .map_err(|e| sql_err(ctx, e))?;
        let mut out = Vec::new();
        for row in rows {
            let mut e = row.map_err(|e| sql_err(ctx, e))?;
            e.columns = records.remove(&(e.kind.clone(), e.seq));
            out.push(e);
        }
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
                "SELECT l.event_id, l.seq FROM json_each(?1) AS j CROSS JOIN leo_log AS l \
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
            .prepare_cached("SELECT seq FROM leo_log WHERE event_id = ?1")
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
            .prepare_cached(&scan_sql(kind, false))
            .map_err(|e| sql_err(ctx, e))?;
        let mut rows = stmt
            .query(params![kind.as_str(), from, to])
            .map_err(|e| sql_err(ctx, e))?;
        while let Some(r) = rows.next().map_err(|e| sql_err(ctx, e))? {
            let get = |i| r.get_ref(i).map_err(|e| sql_err(ctx, e));
            let columns = match get(8)? {
                ValueRef::Null => None,
                _ => Some(
                    (9..9 + ncols)
                        .map(|i| get(i).map(from_sql))
                        .collect::<Result<Vec<_>>>()?,
                ),
            };
            let seq =
                seq_of_row(r.get(0).map_err(|e| sql_err(ctx, e))?).map_err(|e| sql_err(ctx, e))?;
            let log = LogRef {
                seq,
                event_id: ref_text("event_id", get(1)?)?,
                kind,
                actor: ref_text("actor", get(3)?)?,
                action: ref_text("action", get(4)?)?,
                recorded_at: r.get(5).map_err(|e| sql_err(ctx, e))?,
                leaf_hash: ref_blob("leaf_hash", get(6)?)?,
                chain_hash: ref_blob("chain_hash", get(7)?)?,
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
            .prepare_cached(&projection_sql(kind, false))
            .map_err(|e| sql_err(ctx, e))?;
        let mut rows = stmt
            .query(params![kind.as_str(), from, to])
            .map_err(|e| sql_err(ctx, e))?;
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
            .prepare_cached(count_sql(false))
            .and_then(|mut s| s.query_row(params![kind.as_str(), from, to], |r| r.get(0)))
            .map_err(|e| sql_err("counting log entries", e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests;
