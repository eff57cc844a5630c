//! Multi-row inserts with borrowed parameters: how a batch reaches SQLite.

use rusqlite::types::ValueRef;

use super::as_i64;
use crate::backend::LogRow;
use crate::codec::Value;

/// Rows per multi-row `INSERT`, largest first: a batch is cut greedily into statements of
/// these sizes, so each table has at most four prepared shapes. One statement per 128 rows
/// instead of one per row saves SQLite's per-statement work (and, for a statement-journalled
/// insert, the journal copies each touched page once per statement).
pub(super) const CHUNK_SIZES: [usize; 4] = [128, 32, 8, 1];

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

/// A row's log columns, in [`crate::schema::V3_LOG_COLUMNS`] order.
pub(super) fn log_params<'a>(row: &'a LogRow<'_>) -> [Param<'a>; 7] {
    [
        Param::Int(as_i64(row.seq)),
        Param::Text(row.event_id),
        Param::Text(row.actor.as_str()),
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

/// `INSERT INTO table (cols) VALUES (?, ..), (..)` for `rows` rows (anonymous parameters,
/// bound in order: the SQL is also the statement cache's key, hashed at every use).
pub(super) fn multi_insert_sql(table: &str, cols: &[&str], rows: usize) -> String {
    let tuple = format!("({})", vec!["?"; cols.len()].join(","));
    format!(
        "INSERT INTO {table} ({}) VALUES {}",
        cols.join(", "),
        vec![tuple; rows].join(",")
    )
}
