//! The in-toto statement parser (strict JSON, duplicate keys, digest rules) must never panic;
//! an accepted statement must round-trip, and SLSA predicate parsing must not panic.
#![no_main]

use leo_attest::{Provenance, Statement};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = Statement::from_json_allow_legacy(data) {
        assert!(!s.subject.is_empty());
        let again = Statement::from_json_allow_legacy(&s.to_json()).expect("own output parses");
        assert_eq!(again, s);
        if let Ok(p) = Provenance::from_statement(&s) {
            let _ = p.source();
            let _ = p.material_digests();
        }
    }
});
