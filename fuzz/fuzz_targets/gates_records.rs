//! leo-gates' parsers and record deserializers must never panic: confidences, change ids,
//! globs, and verdict records / audit events read back from JSON (whose validators run in
//! `try_from`). A verdict record that deserializes either recomputes to itself or is refused.
#![no_main]

use leo_gates::{AuditEvent, ChangeId, Confidence, VerdictRecord, glob_match};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(c) = s.parse::<Confidence>() {
            assert_eq!(c.to_string().parse::<Confidence>().ok(), Some(c));
        }
        let _ = s.parse::<ChangeId>();
        if let Some((p, t)) = s.split_once('\n') {
            let _ = glob_match(p, t);
        }
    }
    if let Ok(record) = serde_json::from_slice::<VerdictRecord>(data) {
        if let Ok(again) = record.recompute() {
            assert_eq!(again, record.assessment);
        }
    }
    if let Ok(event) = serde_json::from_slice::<AuditEvent>(data) {
        let json = serde_json::to_vec(&event).expect("serializes");
        let back: AuditEvent = serde_json::from_slice(&json).expect("round-trips");
        assert_eq!(back, event);
    }
});
