//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong while loading manifests, policies or reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A document is neither valid YAML nor valid JSON.
    #[error("{origin}: document {document} is not valid YAML/JSON: {reason}")]
    Syntax {
        /// Where the document came from (a path or `<input>`).
        origin: String,
        /// The 1-based index of the document within a multi-document stream.
        document: usize,
        /// The parser's message.
        reason: String,
    },
    /// An object lacks a field every Kubernetes object has (`apiVersion`, `kind`, `metadata.name`).
    #[error("{origin}: object {index} has no valid `{field}`")]
    MissingIdentity {
        /// Where the object came from.
        origin: String,
        /// The 1-based index of the object in its input.
        index: usize,
        /// The missing or malformed field.
        field: &'static str,
    },
    /// A top-level document is not an object (e.g. a bare list or a scalar).
    #[error("{origin}: document {document} is not a Kubernetes object")]
    NotAnObject {
        /// Where the document came from.
        origin: String,
        /// The 1-based index of the document.
        document: usize,
    },
    /// The same group/kind/namespace/name appears twice on one side.
    #[error("{side} state holds {key} twice")]
    DuplicateObject {
        /// `desired` or `live`.
        side: &'static str,
        /// The duplicated resource key.
        key: String,
    },
    /// An input exceeds a named limit.
    #[error("{what} exceeds the limit of {limit}")]
    LimitExceeded {
        /// Which limit (bytes of one file, objects, files in a directory).
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// A JSON pointer in an ignore rule is malformed (RFC 6901).
    #[error("invalid JSON pointer {pointer:?}: {reason}")]
    InvalidPointer {
        /// The pointer as written.
        pointer: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// A `DriftPolicy` or `DriftReport` document has the wrong shape.
    #[error("invalid {kind} document: {reason}")]
    InvalidDocument {
        /// `DriftPolicy` or `DriftReport`.
        kind: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A remediation plan file could not be written.
    #[error("writing {path}: {reason}")]
    WritePlan {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// A document could not be serialized.
    #[error("serializing {what}: {reason}")]
    Serialize {
        /// What was being serialized.
        what: &'static str,
        /// The serializer's message.
        reason: String,
    },
}

impl Error {
    pub(crate) fn io(
        context: impl Into<String>,
        path: Option<&PathBuf>,
        source: std::io::Error,
    ) -> Self {
        let context = match path {
            Some(p) => format!("{} {}", context.into(), p.display()),
            None => context.into(),
        };
        Self::Io { context, source }
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
