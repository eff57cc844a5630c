//! Marker scanning never panics; every marker found formats to text that parses back to it.
#![no_main]

use leo_artifact::{Marker, markers_in};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(found) = markers_in(text) {
            for m in found {
                let back: Marker = m.to_string().parse().expect("formatted marker parses");
                assert_eq!(back, m);
            }
        }
    }
});
