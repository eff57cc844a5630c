//! The bundle reader must never panic, and whatever it accepts must be self-consistent.
#![no_main]

use leo_artifact::{Member, ReadLimits, Sha256Digest, read_bundle};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = ReadLimits {
        max_member_size: 1 << 20,
        max_total_size: 4 << 20,
        ..ReadLimits::default()
    };
    if let Ok(bundle) = read_bundle(data, &limits) {
        assert_eq!(bundle.bundle_digest, Sha256Digest::of(data));
        for entry in &bundle.manifest.members {
            assert_eq!(Sha256Digest::of(bundle.member(entry.name)), entry.sha256);
        }
        assert!(!bundle.member(Member::Manifest).is_empty());
    }
});
