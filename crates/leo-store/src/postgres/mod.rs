//! The PostgreSQL backend (feature `postgres`).
//!
//! [`install`] lays out one schema: a `NOLOGIN` owner role that owns every table, a builder
//! login role with `SELECT` only, and one login role per writer (Claude/EXEC, PLAN, LEAD, and
//! the system's merge step) with `SELECT, INSERT`. Update/delete/truncate triggers refuse changes from anyone,
//! including the owner; row-level security binds each row's `actor` to `current_user`
//! through `leo_actor_roles` and checks the §5 matrix, so a writer can only append rows in
//! its own name, under actions its role has.

use std::collections::HashMap;
use std::ops::ControlFlow;

use postgres::Statement;
pub use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
pub use postgres::{Client, NoTls};

use crate::backend::{
    Backend, COUNT_SQL, CheckpointRow, Inserted, LogRow, PAGE, PendingRow, RawEntry, ScanFn,
    scan_sql,
};
use crate::codec::{Value, column_names};
use crate::error::{Error, Result};
use crate::merkle::Hash;
use crate::projection::{ProjectFn, ProjectionRow, decode_row, projection_sql};
use crate::record::{EventId, RecordKind};
use crate::role::Role;
use crate::schema::POSTGRES_SCHEMA_VERSION;

mod install;

pub use install::{MAX_SCHEMA_LEN, PgRoles, install, upgrade, url_for_user};

pub(crate) fn pg_err(context: &str, e: postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        // 42501 insufficient_privilege (grants and RLS), P0001 raise_exception (triggers).
        if code == "42501" || code == "P0001" {
            return Error::DeniedByDatabase {
                operation: context.to_owned(),
                message: db.message().to_owned(),
            };
        }
    }
    Error::Postgres {
        context: context.to_owned(),
        source: e,
    }
}

/// The PostgreSQL backend.
pub(crate) struct PgBackend {
    client: Client,
    statements: HashMap<&'static str, Statement>,
    inserts: HashMap<RecordKind, Statement>,
}

/// Below this many rows a batch is inserted row by row (unnest has a fixed cost).
const UNNEST_MIN_ROWS: usize = 8;

const STATEMENTS: [(&str, &str); 7] = [
    (
        "tail",
        "SELECT seq, chain_hash FROM leo_log ORDER BY seq DESC LIMIT 1",
    ),
    (
        "leaves",
        "SELECT seq, leaf_hash FROM leo_log WHERE seq >= $1 AND seq < $2 ORDER BY seq",
    ),
    (
        "insert_log",
        "INSERT INTO leo_log (seq, event_id, kind, actor, action, recorded_at, leaf_hash, chain_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    ),
    ("seq_of", "SELECT seq FROM leo_log WHERE event_id = $1"),
    (
        "existing",
        "SELECT event_id, seq FROM leo_log WHERE event_id = ANY($1)",
    ),
    (
        "insert_logs",
        "INSERT INTO leo_log (seq, event_id, kind, actor, action, recorded_at, leaf_hash, chain_hash) \
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], \
         $6::bigint[], $7::bytea[], $8::bytea[])",
    ),
    (
        "entries",
        "SELECT seq, event_id, kind, actor, action, recorded_at, leaf_hash, chain_hash \
         FROM leo_log WHERE seq >= $1 AND seq < $2 ORDER BY seq",
    ),
];

fn as_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn as_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

impl PgBackend {
    pub(crate) fn connect(url: &str, writer: Option<Role>) -> Result<Self> {
        let mut client = Client::connect(url, NoTls).map_err(|e| pg_err("connecting", e))?;
        let version: Option<i64> = client
            .query_opt("SELECT max(version) FROM schema_migrations", &[])
            .map_err(|_| Error::SchemaMissing {
                what: "the login role's search_path".into(),
            })?
            .map(|r| col::<Option<i64>>(&r, 0))
            .transpose()?
            .flatten();
        match version {
            Some(v) if v > POSTGRES_SCHEMA_VERSION => {
                return Err(Error::SchemaTooNew {
                    found: v,
                    supported: POSTGRES_SCHEMA_VERSION,
                });
            }
            Some(v) if v < POSTGRES_SCHEMA_VERSION => {
                return Err(Error::SchemaTooOld {
                    found: v,
                    required: POSTGRES_SCHEMA_VERSION,
                });
            }
            None => {
                return Err(Error::SchemaMissing {
                    what: "schema_migrations".into(),
                });
            }
            _ => {}
        }
        if let Some(role) = writer {
            let mapped: Option<String> = client
                .query_opt(
                    "SELECT role FROM leo_actor_roles WHERE db_role = current_user",
                    &[],
                )
                .map_err(|e| pg_err("reading leo_actor_roles", e))?
                .map(|r| col(&r, 0))
                .transpose()?;
            if mapped.as_deref() != Some(role.as_str()) {
                return Err(Error::DeniedByDatabase {
                    operation: format!("opening a {role} writer"),
                    message: format!(
                        "the login role is mapped to {}",
                        mapped.as_deref().unwrap_or("no writer role")
                    ),
                });
            }
        }
        let mut statements = HashMap::new();
        for (name, sql) in STATEMENTS {
            statements.insert(
                name,
                client.prepare(sql).map_err(|e| pg_err("preparing", e))?,
            );
        }
        let mut inserts = HashMap::new();
        for kind in RecordKind::ALL {
            let cols = column_names(kind);
            let marks: Vec<String> = (2..=cols.len() + 1).map(|i| format!("${i}")).collect();
            let sql = format!(
                "INSERT INTO {} (seq, {}) VALUES ($1, {})",
                kind.table(),
                cols.join(", "),
                marks.join(", ")
            );
            inserts.insert(
                kind,
                client.prepare(&sql).map_err(|e| pg_err("preparing", e))?,
            );
        }
        Ok(PgBackend {
            client,
            statements,
            inserts,
        })
    }

    fn stmt(&self, name: &str) -> Result<Statement> {
        self.statements
            .get(name)
            .cloned()
            .ok_or_else(|| Error::field("statement", name.to_owned()))
    }
}

fn param(v: &Value) -> Box<dyn ToSql + Sync> {
    match v {
        Value::Int(i) => Box::new(*i),
        Value::Text(t) => Box::new(t.clone()),
        Value::Blob(b) => Box::new(b.clone()),
    }
}

fn col<'a, T: postgres::types::FromSql<'a>>(r: &'a postgres::Row, i: usize) -> Result<T> {
    r.try_get(i).map_err(|e| pg_err("decoding a column", e))
}

/// A result row of a projected scan, read by reference.
struct PgRow<'r>(&'r postgres::Row);

impl<'r> ProjectionRow<'r> for PgRow<'r> {
    fn int(&self, i: usize, _field: &'static str) -> Result<Option<i64>> {
        col(self.0, i)
    }

    fn text(&self, i: usize, _field: &'static str) -> Result<Option<&'r [u8]>> {
        Ok(col::<Option<&str>>(self.0, i)?.map(str::as_bytes))
    }
}

fn read_value(row: &postgres::Row, i: usize) -> Result<Value> {
    let ty = row.columns().get(i).map(|c| c.type_().clone());
    let ctx = |e| pg_err("decoding a column", e);
    Ok(match ty {
        Some(t) if t == Type::INT8 => Value::Int(row.try_get(i).map_err(ctx)?),
        Some(t) if t == Type::BYTEA => Value::Blob(row.try_get(i).map_err(ctx)?),
        _ => Value::Text(row.try_get(i).map_err(ctx)?),
    })
}

/// The callback of [`PgBackend::stream_kind`]: one row in, continue or stop out.
type RowFn<'a> = &'a mut dyn FnMut(&postgres::Row) -> Result<ControlFlow<()>>;

impl PgBackend {
    /// Streams the rows of `sql` (parameters `$1` kind, `$2` from, `$3` to) through a
    /// portal, [`PAGE`] rows a fetch, inside one read transaction, until `f` breaks.
    fn stream_kind(
        &mut self,
        ctx: &str,
        sql: &str,
        kind: RecordKind,
        from: i64,
        to: i64,
        f: RowFn<'_>,
    ) -> Result<()> {
        let page = i32::try_from(PAGE).unwrap_or(i32::MAX);
        let mut tx = self.client.transaction().map_err(|e| pg_err(ctx, e))?;
        let stmt = tx.prepare(sql).map_err(|e| pg_err(ctx, e))?;
        let portal = tx
            .bind(&stmt, &[&kind.as_str(), &from, &to])
            .map_err(|e| pg_err(ctx, e))?;
        'pages: loop {
            let rows = tx.query_portal(&portal, page).map_err(|e| pg_err(ctx, e))?;
            let last = rows.len() < PAGE as usize;
            for r in &rows {
                if f(r)?.is_break() {
                    break 'pages;
                }
            }
            if last {
                break;
            }
        }
        tx.commit().map_err(|e| pg_err(ctx, e))
    }
}

/// One record column gathered across rows, typed for `unnest`.
enum Column {
    Int(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
    Blob(Vec<Option<Vec<u8>>>),
}

impl PgBackend {
    fn insert_log(&mut self, row: &LogRow<'_>) -> Result<()> {
        let st = self.stmt("insert_log")?;
        self.client
            .execute(
                &st,
                &[
                    &as_i64(row.seq),
                    &row.event_id,
                    &row.kind.as_str(),
                    &row.actor.as_str(),
                    &row.action.as_str(),
                    &row.recorded_at,
                    &&row.leaf_hash[..],
                    &&row.chain_hash[..],
                ],
            )
            .map_err(|e| pg_err("appending to leo_log", e))?;
        Ok(())
    }

    fn insert_record(&mut self, kind: RecordKind, seq: u64, columns: &[Value]) -> Result<()> {
        let st = self
            .inserts
            .get(&kind)
            .cloned()
            .ok_or_else(|| Error::field("statement", kind.table()))?;
        let mut params: Vec<Box<dyn ToSql + Sync>> = vec![Box::new(as_i64(seq))];
        params.extend(columns.iter().map(param));
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|b| b.as_ref()).collect();
        self.client
            .execute(&st, &refs)
            .map_err(|e| pg_err(&format!("appending to {}", kind.table()), e))?;
        Ok(())
    }

    fn insert_records_unnest(&mut self, kind: RecordKind, rows: &[&PendingRow<'_>]) -> Result<()> {
        let names = column_names(kind);
        let mut cols: Vec<Column> = Vec::with_capacity(names.len());
        for i in 0..names.len() {
            let first = rows.first().and_then(|(_, c)| c.get(i));
            let mut col = match first {
                Some(Value::Int(_)) => Column::Int(Vec::new()),
                Some(Value::Blob(_)) => Column::Blob(Vec::new()),
                _ => Column::Text(Vec::new()),
            };
            for (_, c) in rows {
                match (&mut col, c.get(i)) {
                    (Column::Int(v), Some(Value::Int(x))) => v.push(*x),
                    (Column::Text(v), Some(Value::Text(x))) => v.push(x.clone()),
                    (Column::Blob(v), Some(Value::Blob(x))) => v.push(x.clone()),
                    _ => {
                        return Err(Error::field(
                            "row",
                            format!("mixed column types in {}", kind.table()),
                        ));
                    }
                }
            }
            cols.push(col);
        }
        let seqs: Vec<i64> = rows.iter().map(|(l, _)| as_i64(l.seq)).collect();
        let mut casts = vec!["$1::bigint[]".to_owned()];
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&seqs];
        for (i, c) in cols.iter().enumerate() {
            let (ty, p): (&str, &(dyn ToSql + Sync)) = match c {
                Column::Int(v) => ("bigint", v),
                Column::Text(v) => ("text", v),
                Column::Blob(v) => ("bytea", v),
            };
            casts.push(format!("${}::{ty}[]", i + 2));
            params.push(p);
        }
        let sql = format!(
            "INSERT INTO {} (seq, {}) SELECT * FROM unnest({})",
            kind.table(),
            names.join(", "),
            casts.join(", ")
        );
        self.client
            .execute(&sql, &params)
            .map_err(|e| pg_err(&format!("appending to {}", kind.table()), e))?;
        Ok(())
    }
}

impl Backend for PgBackend {
    fn begin_append(&mut self) -> Result<()> {
        self.client
            .batch_execute("BEGIN; SELECT pg_advisory_xact_lock(hashtext(current_schema()));")
            .map_err(|e| pg_err("locking the log", e))
    }

    fn commit(&mut self) -> Result<()> {
        self.client
            .batch_execute("COMMIT")
            .map_err(|e| Error::CommitFailed {
                context: "committing to PostgreSQL".into(),
                message: e.to_string(),
            })
    }

    fn rollback(&mut self) {
        let _ = self.client.batch_execute("ROLLBACK");
    }

    fn tail(&mut self) -> Result<(u64, Hash)> {
        let st = self.stmt("tail")?;
        let row = self
            .client
            .query_opt(&st, &[])
            .map_err(|e| pg_err("reading the log tail", e))?;
        match row {
            None => Ok((0, [0; 32])),
            Some(r) => {
                let seq: i64 = col(&r, 0)?;
                let chain: Vec<u8> = col(&r, 1)?;
                let chain: Hash = chain.as_slice().try_into().map_err(|_| Error::Tampered {
                    seq: as_u64(seq),
                    table: "leo_log".into(),
                    reason: "chain hash is not 32 bytes".into(),
                })?;
                Ok((as_u64(seq) + 1, chain))
            }
        }
    }

    fn leaf_hashes(&mut self, from: u64, to: u64) -> Result<Vec<Hash>> {
        let st = self.stmt("leaves")?;
        let rows = self
            .client
            .query(&st, &[&as_i64(from), &as_i64(to)])
            .map_err(|e| pg_err("reading leaf hashes", e))?;
        let mut out = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            let expected = from + i as u64;
            let seq: i64 = col(r, 0)?;
            let leaf: Vec<u8> = col(r, 1)?;
            match Hash::try_from(leaf.as_slice()) {
                Ok(h) if as_u64(seq) == expected => out.push(h),
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

    /// One `INSERT ... SELECT FROM unnest(...)` per table instead of a round trip per row.
    fn insert_rows(&mut self, rows: &[PendingRow<'_>]) -> Result<Inserted> {
        if rows.len() < UNNEST_MIN_ROWS {
            for (log, columns) in rows {
                self.insert_log(log)?;
                self.insert_record(log.kind, log.seq, columns)?;
            }
            return Ok(Inserted::All);
        }
        let st = self.stmt("insert_logs")?;
        let seqs: Vec<i64> = rows.iter().map(|(l, _)| as_i64(l.seq)).collect();
        let ids: Vec<&str> = rows.iter().map(|(l, _)| l.event_id).collect();
        let kinds: Vec<&str> = rows.iter().map(|(l, _)| l.kind.as_str()).collect();
        let actors: Vec<&str> = rows.iter().map(|(l, _)| l.actor.as_str()).collect();
        let actions: Vec<&str> = rows.iter().map(|(l, _)| l.action.as_str()).collect();
        let times: Vec<i64> = rows.iter().map(|(l, _)| l.recorded_at).collect();
        let leaves: Vec<&[u8]> = rows.iter().map(|(l, _)| &l.leaf_hash[..]).collect();
        let chains: Vec<&[u8]> = rows.iter().map(|(l, _)| &l.chain_hash[..]).collect();
        self.client
            .execute(
                &st,
                &[
                    &seqs, &ids, &kinds, &actors, &actions, &times, &leaves, &chains,
                ],
            )
            .map_err(|e| pg_err("appending to leo_log", e))?;
        for kind in RecordKind::ALL {
            let of_kind: Vec<&PendingRow> = rows.iter().filter(|(l, _)| l.kind == kind).collect();
            if !of_kind.is_empty() {
                self.insert_records_unnest(kind, &of_kind)?;
            }
        }
        Ok(Inserted::All)
    }

    fn existing(&mut self, ids: &[&str]) -> Result<HashMap<String, u64>> {
        let st = self.stmt("existing")?;
        let rows = self
            .client
            .query(&st, &[&ids])
            .map_err(|e| pg_err("looking up event ids", e))?;
        rows.iter()
            .map(|r| Ok((col::<String>(r, 0)?, as_u64(col(r, 1)?))))
            .collect()
    }

    fn insert_checkpoint(&mut self, row: &CheckpointRow) -> Result<()> {
        self.client
            .execute(
                "INSERT INTO leo_checkpoints (tree_size, root_hash, note, actor, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tree_size) DO NOTHING",
                &[
                    &as_i64(row.tree_size),
                    &row.root_hash,
                    &row.note,
                    &row.actor,
                    &row.created_at,
                ],
            )
            .map_err(|e| pg_err("appending to leo_checkpoints", e))?;
        Ok(())
    }

    fn entries(&mut self, from: u64, to: u64) -> Result<Vec<RawEntry>> {
        let ctx = "reading log entries";
        let (f, t) = (as_i64(from), as_i64(to));
        let mut records: HashMap<(&'static str, u64), Vec<Value>> = HashMap::new();
        for kind in RecordKind::ALL {
            let cols = column_names(kind);
            let sql = format!(
                "SELECT seq, {} FROM {} WHERE seq >= $1 AND seq < $2",
                cols.join(", "),
                kind.table()
            );
            for r in self
                .client
                .query(&sql, &[&f, &t])
                .map_err(|e| pg_err(ctx, e))?
            {
                let seq: i64 = col(&r, 0)?;
                let mut vals = Vec::with_capacity(cols.len());
                for i in 1..=cols.len() {
                    vals.push(read_value(&r, i)?);
                }
                records.insert((kind.as_str(), as_u64(seq)), vals);
            }
        }
        let st = self.stmt("entries")?;
        let rows = self
            .client
            .query(&st, &[&f, &t])
            .map_err(|e| pg_err(ctx, e))?;
        rows.iter()
            .map(|r| {
                let seq = as_u64(col(r, 0)?);
                let kind: String = col(r, 2)?;
                let columns = RecordKind::parse(&kind)
                    .ok()
                    .and_then(|k| records.remove(&(k.as_str(), seq)));
                Ok(RawEntry {
                    seq,
                    event_id: col(r, 1)?,
                    kind,
                    actor: col(r, 3)?,
                    action: col(r, 4)?,
                    recorded_at: col(r, 5)?,
                    leaf_hash: col(r, 6)?,
                    chain_hash: col(r, 7)?,
                    columns,
                    defect: None,
                })
            })
            .collect()
    }

    fn seq_of(&mut self, id: &EventId) -> Result<Option<u64>> {
        let st = self.stmt("seq_of")?;
        self.client
            .query_opt(&st, &[&id.as_str()])
            .map_err(|e| pg_err("looking up an event id", e))?
            .map(|r| col::<i64>(&r, 0).map(as_u64))
            .transpose()
    }

    fn checkpoints(&mut self) -> Result<Vec<CheckpointRow>> {
        let rows = self
            .client
            .query(
                "SELECT tree_size, root_hash, note, actor, created_at FROM leo_checkpoints ORDER BY tree_size",
                &[],
            )
            .map_err(|e| pg_err("reading checkpoints", e))?;
        rows.iter()
            .map(|r| {
                Ok(CheckpointRow {
                    tree_size: as_u64(col(r, 0)?),
                    root_hash: col(r, 1)?,
                    note: col(r, 2)?,
                    actor: col(r, 3)?,
                    created_at: col(r, 4)?,
                })
            })
            .collect()
    }
    fn scan_kind(&mut self, kind: RecordKind, from: i64, to: i64, f: ScanFn<'_>) -> Result<()> {
        let ncols = column_names(kind).len();
        let sql = scan_sql(kind);
        self.stream_kind("scanning log entries", &sql, kind, from, to, &mut |r| {
            let record_seq: Option<i64> = col(r, 8)?;
            let columns = match record_seq {
                None => None,
                Some(_) => Some(
                    (9..9 + ncols)
                        .map(|i| read_value(r, i))
                        .collect::<Result<Vec<_>>>()?,
                ),
            };
            let raw = RawEntry {
                seq: as_u64(col(r, 0)?),
                event_id: col(r, 1)?,
                kind: col(r, 2)?,
                actor: col(r, 3)?,
                action: col(r, 4)?,
                recorded_at: col(r, 5)?,
                leaf_hash: col(r, 6)?,
                chain_hash: col(r, 7)?,
                columns,
                defect: None,
            };
            Ok(f(raw.decode()?))
        })
    }

    fn project_kind(
        &mut self,
        kind: RecordKind,
        from: i64,
        to: i64,
        f: ProjectFn<'_>,
    ) -> Result<()> {
        let sql = projection_sql(kind);
        self.stream_kind(
            "scanning projected log entries",
            &sql,
            kind,
            from,
            to,
            &mut |r| Ok(f(&decode_row(kind, &PgRow(r))?)),
        )
    }

    fn count_kind(&mut self, kind: RecordKind, from: i64, to: i64) -> Result<u64> {
        let row = self
            .client
            .query_one(COUNT_SQL, &[&kind.as_str(), &from, &to])
            .map_err(|e| pg_err("counting log entries", e))?;
        Ok(as_u64(col(&row, 0)?))
    }
}
