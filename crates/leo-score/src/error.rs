//! The one error type of leo-score: each variant names the check that failed.

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A component's numerator exceeds its denominator (e.g. more signed bundles than bundles
    /// handed off): the inputs were not counted consistently.
    #[error("{component}: {numerator} is more than {denominator}")]
    RatioAboveOne {
        /// Which component.
        component: &'static str,
        /// The count of good cases.
        numerator: u64,
        /// The count of all cases.
        denominator: u64,
    },
    /// A time window whose start is not before its end.
    #[error("window start {from} is not before its end {to}")]
    EmptyWindow {
        /// Start (inclusive).
        from: String,
        /// End (exclusive).
        to: String,
    },
    /// A month that is not `YYYY-MM`.
    #[error("{input:?} is not a month (YYYY-MM)")]
    InvalidMonth {
        /// What was given (shortened).
        input: String,
    },
    /// Reading the audit trail failed.
    #[error("reading the audit trail")]
    StoreRead(#[from] leo_store::Error),
    /// Encoding the exposition failed.
    #[error("encoding the metrics exposition")]
    MetricsEncoding(#[from] std::fmt::Error),
    /// The metrics server could not listen or answer.
    #[error("metrics server on {listen}: {message}")]
    Serve {
        /// The listen address.
        listen: String,
        /// What failed.
        message: String,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
