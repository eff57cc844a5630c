//! Fuzz the drift loader and comparator: any bytes, split into a desired and a live stream,
//! must load or fail with a typed error, and detection must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (desired, live) = text.split_once("\n===\n").unwrap_or((text, text));
    let (Ok(d), Ok(l)) = (
        leo_drift::parse_str(desired, "fuzz-desired"),
        leo_drift::parse_str(live, "fuzz-live"),
    ) else {
        return;
    };
    let mut policy = leo_drift::DriftPolicy::default();
    for strict in [false, true] {
        policy.spec.strict = strict;
        if let Ok(report) = leo_drift::detect(
            &d,
            &l,
            &policy,
            (None, None),
            time::OffsetDateTime::UNIX_EPOCH,
        ) {
            let _ = report.to_json();
            let _ = leo_drift::RemediationPlan::build(&report, &d, &policy).commands();
        }
    }
    let _ = leo_drift::DriftPolicy::parse(text);
});
