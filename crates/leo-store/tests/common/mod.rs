//! Fixtures: one audit trail per test, on SQLite or PostgreSQL, plus "superuser" access for
//! the tampering tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use leo_store::{Location, RecordKind, Role};

/// One fresh audit trail.
pub trait Fixture: Sized {
    /// A new trail, or `None` (skip) when the backend is unavailable outside CI.
    fn new(name: &str) -> Option<Self>;
    /// Where a handle of `role` connects (Codex: the builder).
    fn location(&self, role: Role) -> Location;
    /// Runs SQL as the database's superuser with the append-only triggers disabled.
    fn tamper(&self, sql: &str);
    /// A blob literal in this dialect.
    fn blob(&self, bytes: &[u8]) -> String;
    /// The table holding the log columns (`actor`, `leaf_hash`, `chain_hash`, ...) of a
    /// `kind` record: `leo_log` on PostgreSQL, the record table itself on SQLite (schema
    /// version 3, one row per record).
    fn log_table(&self, kind: RecordKind) -> &'static str;
}

/// SQLite: a temporary file.
pub struct SqliteFixture {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl Fixture for SqliteFixture {
    fn new(_name: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leo.db");
        Some(SqliteFixture { _dir: dir, path })
    }

    fn location(&self, _role: Role) -> Location {
        Location::Sqlite(self.path.clone())
    }

    fn tamper(&self, sql: &str) {
        // A plain connection (no authorizer): what someone with the file can do. Dropping
        // the triggers is the SQLite equivalent of a superuser disabling them.
        let conn = leo_store::sqlite::Connection::open(&self.path).unwrap();
        let triggers: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for t in triggers {
            conn.execute_batch(&format!("DROP TRIGGER {t}")).unwrap();
        }
        // So is switching off the CHECK constraints (the §5 matrix among them).
        conn.execute_batch("PRAGMA ignore_check_constraints = ON")
            .unwrap();
        conn.execute_batch(sql).unwrap();
    }

    fn blob(&self, bytes: &[u8]) -> String {
        format!("X'{}'", hex::encode(bytes))
    }

    fn log_table(&self, kind: RecordKind) -> &'static str {
        kind.table()
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The superuser URL of the test cluster, or `None` (skip) outside CI.
pub fn pg_url() -> Option<String> {
    match std::env::var("LEO_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                !leo_testkit::under_ci(),
                "LEO_TEST_PG_URL must be set under CI=true (scripts/test.d/20-postgres.sh)"
            );
            eprintln!("skipping: LEO_TEST_PG_URL is not set (see scripts/pg-dev-cluster.sh)");
            None
        }
    }
}

/// A unique schema name for this process and test.
pub fn unique_schema(name: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let clean: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(12)
        .collect::<String>()
        .to_lowercase();
    format!("t{}_{}_{n}_{}", std::process::id(), clean, nanos % 100_000)
}

#[cfg(feature = "postgres")]
pub struct PgFixture {
    pub admin_url: String,
    pub roles: leo_store::postgres::PgRoles,
}

#[cfg(feature = "postgres")]
impl PgFixture {
    pub fn admin(&self) -> leo_store::postgres::Client {
        leo_store::postgres::Client::connect(&self.admin_url, leo_store::postgres::NoTls).unwrap()
    }

    /// Connects as the login role of `role`.
    pub fn client_as(&self, role: Role) -> leo_store::postgres::Client {
        let url =
            leo_store::postgres::url_for_user(&self.admin_url, self.roles.login_for(role).unwrap())
                .unwrap();
        leo_store::postgres::Client::connect(&url, leo_store::postgres::NoTls).unwrap()
    }
}

#[cfg(feature = "postgres")]
impl Fixture for PgFixture {
    fn new(name: &str) -> Option<Self> {
        let admin_url = pg_url()?;
        let schema = unique_schema(name);
        let mut admin =
            leo_store::postgres::Client::connect(&admin_url, leo_store::postgres::NoTls).unwrap();
        let roles = leo_store::postgres::install(&mut admin, &schema, Some("leo-test")).unwrap();
        Some(PgFixture { admin_url, roles })
    }

    fn location(&self, role: Role) -> Location {
        let user = self.roles.login_for(role).unwrap();
        Location::Postgres(leo_store::postgres::url_for_user(&self.admin_url, user).unwrap())
    }

    fn tamper(&self, sql: &str) {
        let mut c = self.admin();
        c.batch_execute(&format!(
            "SET search_path = {}; SET session_replication_role = replica; {sql}",
            self.roles.schema
        ))
        .unwrap();
    }

    fn blob(&self, bytes: &[u8]) -> String {
        format!("'\\x{}'::bytea", hex::encode(bytes))
    }

    fn log_table(&self, _kind: RecordKind) -> &'static str {
        "leo_log"
    }
}
