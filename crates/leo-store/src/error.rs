//! The one error type of `leo-store`.

use std::path::PathBuf;

use crate::record::RecordKind;
use crate::role::{Action, Role};

/// Everything that can go wrong in `leo-store`.
///
/// Each variant is named after the check that failed and carries what a user needs to act.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation failed.
    #[error("I/O error while {context}: {source}")]
    Io {
        /// What LEO was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// SQLite reported an error.
    #[error("SQLite error while {context}: {source}")]
    Sqlite {
        /// What LEO was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: rusqlite::Error,
    },
    /// PostgreSQL reported an error.
    #[cfg(feature = "postgres")]
    #[error("PostgreSQL error while {context}: {source}")]
    Postgres {
        /// What LEO was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: postgres::Error,
    },
    /// The database itself refused an operation (authorizer, trigger, privilege or row-level
    /// security): role separation held.
    #[error("the database refused {operation}: {message}")]
    DeniedByDatabase {
        /// What was attempted.
        operation: String,
        /// The database's message.
        message: String,
    },
    /// A commit or sync failed; the handle is now unusable (no retry-and-continue).
    #[error("durable commit failed while {context}: {message}; the handle is closed")]
    CommitFailed {
        /// What LEO was doing.
        context: String,
        /// The underlying message.
        message: String,
    },
    /// The handle was poisoned by an earlier commit failure, or by a panic during an append.
    #[error("this handle is closed after an earlier commit failure or panic; open a new one")]
    HandlePoisoned,
    /// A batch's inserts stopped before its last row without an error (a backend defect);
    /// the batch was rolled back.
    #[error("the append stopped after {inserted} of {expected} rows; nothing was written")]
    AppendIncomplete {
        /// Rows in the batch.
        expected: u64,
        /// Rows inserted when it stopped.
        inserted: u64,
    },
    /// A role or action name was not one of the SOP's.
    #[error("unknown {kind} {input:?}")]
    UnknownName {
        /// `role`, `action`, `verdict`...
        kind: &'static str,
        /// The rejected input (truncated).
        input: String,
    },
    /// The §5 matrix does not give this role this action.
    #[error("role {role} may not {action} (SOP §5 accountability matrix)")]
    ActionNotAllowed {
        /// Who tried.
        role: Role,
        /// What they tried.
        action: Action,
    },
    /// A record of this kind cannot be filed under this action.
    #[error("a {kind} record cannot be filed under action {action}")]
    ActionNotForRecord {
        /// The record kind.
        kind: RecordKind,
        /// The action given.
        action: Action,
    },
    /// A client event id was empty, too long or had characters outside `[A-Za-z0-9._:/-]`.
    #[error("invalid event id {input:?}: {reason}")]
    InvalidEventId {
        /// The rejected input (truncated).
        input: String,
        /// Why.
        reason: &'static str,
    },
    /// A record field failed validation.
    #[error("invalid {field}: {reason}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A refusal names an enforcer bundle check but is not filed the way the enforcer files
    /// one (attempted by CODEX, under `SIGN_ARTIFACTS`): written, it would read as a refused
    /// operation, so it is not written.
    #[error(
        "refusal names the bundle check {check}, which only the enforcer files (attempted by \
         CODEX, under SIGN_ARTIFACTS); this one is attempted by {attempted_role}, under {action}"
    )]
    MisfiledBundleCheck {
        /// The check named.
        check: crate::flow::BundleCheck,
        /// The refusal's attempted role.
        attempted_role: Role,
        /// The action it was filed under.
        action: Action,
    },
    /// A PASS verdict below the SOP's 85 % confidence threshold.
    #[error("verdict {verdict} needs confidence >= {min} %, got {confidence} %")]
    VerdictConfidence {
        /// The verdict.
        verdict: leo_artifact::PlanVerdict,
        /// The threshold.
        min: u8,
        /// The confidence given.
        confidence: u8,
    },
    /// A retried event id arrived with different content.
    #[error("event id {event_id:?} already recorded at seq {seq} with different content")]
    EventIdConflict {
        /// The event id.
        event_id: String,
        /// Where the first one is.
        seq: u64,
    },
    /// The database's schema version is newer than this build understands.
    #[error("database schema version {found} is newer than the supported {supported}")]
    SchemaTooNew {
        /// Version found.
        found: i64,
        /// Highest version this build knows.
        supported: i64,
    },
    /// The database's schema predates this build and a reader cannot migrate it.
    #[error(
        "database schema version {found} is older than the required {required}; open it once with a writer (SQLite) or run the upgrade (PostgreSQL)"
    )]
    SchemaTooOld {
        /// Version found.
        found: i64,
        /// Version this build needs.
        required: i64,
    },
    /// A schema migration found the database in a state it cannot migrate faithfully, and
    /// changed nothing.
    #[error("migration to schema version {version} refused: {reason}")]
    MigrationRefused {
        /// The version the migration would have reached.
        version: i64,
        /// What was wrong.
        reason: String,
    },
    /// The database has no LEO schema (a reader cannot create it).
    #[error("{what} has no LEO audit schema; open it once with a writer")]
    SchemaMissing {
        /// The database.
        what: String,
    },
    /// Nothing recorded under that id.
    #[error("no record {what}")]
    NotFound {
        /// What was looked up.
        what: String,
    },
    /// Verification found a row whose content, chain or tree position does not match.
    #[error("tampering detected at seq {seq} ({table}): {reason}")]
    Tampered {
        /// The first tampered log position.
        seq: u64,
        /// The table holding it.
        table: String,
        /// What did not match.
        reason: String,
    },
    /// A checkpoint's signature, size or root did not verify.
    #[error("checkpoint at size {size} failed verification: {reason}")]
    CheckpointInvalid {
        /// The checkpoint's tree size.
        size: u64,
        /// Why.
        reason: String,
    },
    /// A signed note or checkpoint body was malformed.
    #[error("malformed signed note: {reason}")]
    MalformedNote {
        /// Why.
        reason: String,
    },
    /// A note key (signer or verifier) was malformed.
    #[error("malformed note key: {reason}")]
    MalformedKey {
        /// Why.
        reason: &'static str,
    },
    /// A secret key file is readable by others.
    #[error("key file {path} has mode {mode:o}; secret keys must be 0600")]
    KeyFileMode {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A Merkle proof did not verify.
    #[error("{kind} proof does not verify: {reason}")]
    ProofInvalid {
        /// `inclusion` or `consistency`.
        kind: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// An index or size lies outside the tree.
    #[error("{what} {value} is outside the tree of size {size}")]
    OutOfRange {
        /// What was asked.
        what: &'static str,
        /// The value.
        value: u64,
        /// The tree size.
        size: u64,
    },
    /// A `--db` location was neither `sqlite:PATH` nor `postgres://...`.
    #[error("unsupported database location {input:?}: {reason}")]
    InvalidLocation {
        /// The input (passwords are never echoed).
        input: String,
        /// Why.
        reason: &'static str,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) use leo_artifact::error::snippet;

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn field(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidField {
            field,
            reason: reason.into(),
        }
    }
}
