//! Multi-row inserts with borrowed parameters: how a batch reaches SQLite.

use std::collections::HashMap;

use rusqlite::types::ValueRef;
use rusqlite::{CachedStatement, Connection, params};

use super::{as_i64, is_duplicate_key, sql_err, table_columns};
use crate::backend::{Inserted, LogRow, PendingRow};
use crate::codec::Value;
use crate::error::Result;
use crate::record::RecordKind;
use crate::role::Role;
use crate::schema::{EVENT_IDS_TABLE, quote};

/// A multi-row insert's shape: table, actor, rows.
pub(super) type InsertKey = (&'static str, Role, usize);

/// The multi-row inserts of one append, taken from the statement cache once and held until
/// the append ends. Handed back after each chunk, a statement is looked up again by its SQL
/// and has its bindings cleared every time; held, a chunk costs its bindings and its steps
/// (about 4 % fewer instructions on the inserting thread, measured with callgrind).
pub(super) struct Held<'c> {
    conn: &'c Connection,
    /// Multi-row insert SQL by shape (the statement cache's key too).
    sqls: &'c mut HashMap<InsertKey, String>,
    stmts: Vec<(InsertKey, CachedStatement<'c>)>,
}

impl<'c> Held<'c> {
    pub(super) fn new(conn: &'c Connection, sqls: &'c mut HashMap<InsertKey, String>) -> Self {
        Held {
            conn,
            sqls,
            stmts: Vec::new(),
        }
    }

    /// Multi-row inserts of each kind's rows, log and record columns together; then, per
    /// kind, one `INSERT ... SELECT` copies the new rows' event ids into `leo_event_ids`,
    /// where an id already recorded is answered as [`Inserted::DuplicateEventId`].
    pub(super) fn insert_rows(&mut self, rows: &[PendingRow<'_>]) -> Result<Inserted> {
        let mut params = Vec::new();
        let mut of_kind: Vec<&PendingRow<'_>> = Vec::with_capacity(rows.len());
        for kind in RecordKind::ALL {
            of_kind.clear();
            of_kind.extend(rows.iter().filter(|(l, _)| l.kind == kind));
            let (Some(first), Some(last)) = (of_kind.first(), of_kind.last()) else {
                continue;
            };
            let seqs = (as_i64(first.0.seq), as_i64(last.0.seq));
            // Runs of one actor (a handle files all its rows as its role), then chunks.
            for run in of_kind.chunk_by(|a, b| a.0.actor == b.0.actor) {
                for chunk in chunked(run) {
                    let Some((head, _)) = chunk.first() else {
                        continue;
                    };
                    params.clear();
                    for (l, values) in chunk {
                        params.extend(log_params(l));
                        params.extend(values.iter().map(Param::from));
                    }
                    self.insert_many(kind, head.actor, chunk.len(), &params)
                        .map_err(|e| sql_err(&format!("appending to {}", kind.table()), e))?;
                }
            }
            // The rows' seqs are new and contiguous, so those of this kind's table in
            // [first, last] are exactly the rows just inserted.
            let copied = self
                .conn
                .prepare_cached(&event_ids_copy_sql(kind))
                .and_then(|mut s| s.execute(params![seqs.0, seqs.1]));
            match copied {
                Ok(_) => {}
                Err(e) if is_duplicate_key(&e) => return Ok(Inserted::DuplicateEventId),
                Err(e) => return Err(sql_err(&format!("appending to {EVENT_IDS_TABLE}"), e)),
            }
        }
        Ok(Inserted::All)
    }

    /// Runs one multi-row insert of `rows` rows of `kind` filed by `actor`, whose
    /// parameters are `params`, row-major.
    fn insert_many(
        &mut self,
        kind: RecordKind,
        actor: Role,
        rows: usize,
        params: &[Param<'_>],
    ) -> rusqlite::Result<()> {
        let key = (kind.table(), actor, rows);
        if let Some((_, stmt)) = self.stmts.iter_mut().find(|(k, _)| *k == key) {
            stmt.execute(rusqlite::params_from_iter(params))?;
            return Ok(());
        }
        let sql = self
            .sqls
            .entry(key)
            .or_insert_with(|| multi_insert_sql(kind, actor, rows));
        let conn: &'c Connection = self.conn;
        let mut stmt = conn.prepare_cached(sql)?;
        stmt.execute(rusqlite::params_from_iter(params))?;
        self.stmts.push((key, stmt));
        Ok(())
    }
}

/// Copies the event ids of `kind`'s rows `?1..=?2` into `leo_event_ids`.
pub(super) fn event_ids_copy_sql(kind: RecordKind) -> String {
    format!(
        "INSERT INTO {EVENT_IDS_TABLE} (event_id, seq) SELECT event_id, seq FROM {} \
         WHERE seq >= ?1 AND seq <= ?2",
        kind.table()
    )
}

/// Rows per multi-row `INSERT`, largest first: a batch is cut greedily into statements of
/// these sizes, so each table has at most six prepared shapes per actor. One statement per
/// 128 rows instead of one per row saves SQLite's per-statement work (and, for a
/// statement-journalled insert, the journal copies each touched page once per statement);
/// the halves keep each kind's share of a 128-row window of an evenly interleaved
/// two-kind batch to one statement.
pub(super) const CHUNK_SIZES: [usize; 6] = [128, 64, 32, 16, 8, 1];

/// A borrowed parameter: binds without copying strings or blobs.
#[derive(Clone, Copy)]
pub(super) enum Param<'a> {
    /// An integer.
    Int(i64),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
    /// `NULL`.
    Null,
}

impl<'a> From<&'a Value> for Param<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::Int(Some(i)) => Param::Int(*i),
            Value::Text(Some(s)) => Param::Text(s),
            Value::Blob(Some(b)) => Param::Blob(b),
            Value::Int(None) | Value::Text(None) | Value::Blob(None) => Param::Null,
        }
    }
}

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::Borrowed(match *self {
            Param::Int(i) => ValueRef::Integer(i),
            Param::Text(s) => ValueRef::Text(s.as_bytes()),
            Param::Blob(b) => ValueRef::Blob(b),
            Param::Null => ValueRef::Null,
        }))
    }
}

/// A row's bound log columns, in [`crate::schema::V3_LOG_COLUMNS`] order: all but the
/// actor, which is a literal of the statement ([`multi_insert_sql`]).
pub(super) fn log_params<'a>(row: &'a LogRow<'_>) -> [Param<'a>; 6] {
    [
        Param::Int(as_i64(row.seq)),
        Param::Text(row.event_id),
        Param::Text(row.action.as_str()),
        Param::Int(row.recorded_at),
        Param::Blob(&row.leaf_hash),
        Param::Blob(&row.chain_hash),
    ]
}

/// Cuts `items` into runs of [`CHUNK_SIZES`], largest first.
pub(super) fn chunked<T>(items: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = CHUNK_SIZES
            .into_iter()
            .find(|s| *s <= rest.len())
            .unwrap_or(1);
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        Some(chunk)
    })
}

/// `INSERT INTO table (cols) VALUES (?, .., 'actor', ..), (..)` for `rows` rows of `kind`
/// filed by `actor`: every column a parameter (anonymous, bound in order) but the actor, a
/// literal, since all rows of a handle have its role (one text copy less per row). The SQL
/// is also the statement cache's key.
pub(super) fn multi_insert_sql(kind: RecordKind, actor: Role, rows: usize) -> String {
    let cols = table_columns(kind);
    let actor = quote(actor.as_str());
    let values: Vec<&str> = cols
        .iter()
        .map(|c| if *c == "actor" { actor.as_str() } else { "?" })
        .collect();
    let tuple = format!("({})", values.join(","));
    format!(
        "INSERT INTO {} ({}) VALUES {}",
        kind.table(),
        cols.join(", "),
        vec![tuple; rows].join(",")
    )
}
