//! The SBOM model check and the compliance report must never panic on arbitrary JSON
//! (cyclonedx-bom's internal panics are caught and reported as errors).
#![no_main]

use leo_attest::sbom::{check_compliance, validate_model};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = check_compliance(data) {
        assert_eq!(report.rules.len(), 9);
    }
    if let Ok(value) = leo_attest::json::parse_strict(data, "fuzz", 1 << 20) {
        let _ = validate_model(value);
    }
});
