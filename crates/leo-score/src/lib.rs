//! # leo-score
//!
//! LEO's security posture (SOP §12): the §12.6 score, computed from the audit trail with
//! unknown inputs kept explicit.
//!
//! ```
//! use leo_score::{Band, PostureInputs, PostureScore};
//!
//! let inputs = PostureInputs { bundles_handed_off: 10, bundles_attested: 9, bundles_signed: 10,
//!     gate_runs: 20, gate_successes: 19, ..PostureInputs::default() };
//! let score = PostureScore::compute(&inputs)?;
//! // No policy evaluations were recorded: that fifth of the weight is unknown, not averaged away.
//! assert_eq!(score.known_weight, 80);
//! assert!((score.score - 76.0).abs() < 1e-9); // 27 + 30 + 19; the unknown counts 0
//! assert!((score.max_score - 96.0).abs() < 1e-9); // ... or at most its full 20
//! assert_eq!(score.band, Band::Unknown); // Yellow or Green: the data cannot say which
//! # Ok::<(), leo_score::Error>(())
//! ```

#![forbid(unsafe_code)]

pub mod alerts;
pub mod drift;
pub mod error;
pub mod metrics;
pub mod report;
pub mod samples;
pub mod score;
#[cfg(feature = "serve")]
pub mod serve;
pub mod source;
pub mod svg;
pub mod tally;

pub use drift::DriftPosture;
pub use error::{Error, Result};
pub use metrics::{Snapshot, exposition};
pub use score::{
    Band, Component, ComponentScore, PostureInputs, PostureScore, Ratio, SCORE_VERSION,
};
pub use source::{facts_of, facts_of_projected, scan, scan_decoded};
pub use tally::{Fact, Observation, PolicyOutcome, Tally, Window};
