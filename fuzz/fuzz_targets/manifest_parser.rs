//! Manifest parsing never panics, and an accepted manifest re-serialises to one that parses
//! to the same value.
#![no_main]

use leo_artifact::Manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Manifest::from_json(data) {
        let again = Manifest::from_json(&m.to_json()).expect("round trip");
        assert_eq!(m, again);
    }
});
