//! Helpers shared by leo-policy's integration tests.

use leo_policy::{Failure, Report, Status};

/// The one failure of a report with one failing result.
pub fn only_failure(report: &Report) -> &Failure {
    assert_eq!(report.results.len(), 1, "{report:#?}");
    let r = &report.results[0];
    assert_eq!(r.status, Status::Fail, "{r:#?}");
    assert_eq!(r.failures.len(), 1, "{r:#?}");
    &r.failures[0]
}
