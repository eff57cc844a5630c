//! # LEO
//!
//! A verifiable two-lane (builder / enforcer) software delivery toolkit. This facade crate
//! re-exports each `leo-*` crate as a module; depend on the individual crates to keep builds
//! small.
//!
//! ```
//! let d = leo::artifact::Sha256Digest::of(b"abc");
//! assert!(d.to_string().starts_with("ba7816bf"));
//! ```

pub use leo_artifact as artifact;
