//! Certificate, secret-key, revocation and key-ring record parsing must never panic, and a
//! parsed certificate must round-trip through its armored form.
#![no_main]

use leo_sign::{PgpCert, PgpKey, PublicKeyRecord};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut cert) = PgpCert::from_bytes(data) {
        let armored = cert.to_armored().expect("a parsed certificate serialises");
        let again = PgpCert::from_bytes(armored.as_bytes()).expect("its own armor parses");
        assert_eq!(again.fingerprint(), cert.fingerprint());
        let _ = cert.expires_at();
        let _ = PublicKeyRecord::from_cert(&cert);
        let _ = cert.insert_revocation(data);
    }
    let _ = PgpKey::from_armored_secret(data);
    if let Ok(record) = serde_json::from_slice::<PublicKeyRecord>(data) {
        let _ = record.cert();
    }
});
