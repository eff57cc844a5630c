//! Uploading a keyed signature to a Rekor v1 log, as `cosign sign-blob --key` does by
//! default: a `hashedrekord/0.0.1` entry naming the artifact digest, the signature and the
//! public key. Rekor answers with the entry, its SET and its inclusion proof, which go into
//! the bundle's `tlogEntries`.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use leo_artifact::Sha256Digest;
use sigstore_sign::rekor::LogEntry;
use sigstore_verify::types::{KindVersion, TransparencyLogEntry};

use super::error::{SigstoreError, SigstoreResult};
use super::sign::{CONNECT_TIMEOUT, REQUEST_TIMEOUT, runtime};

/// The `hashedrekord/0.0.1` body for a signature over `digest` by `public_key_pem`.
pub(crate) fn hashedrekord_body(
    digest: &Sha256Digest,
    signature: &[u8],
    public_key_pem: &str,
) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": digest.to_string()}},
            "signature": {
                "content": BASE64.encode(signature),
                "publicKey": {"content": BASE64.encode(public_key_pem)},
            },
        },
    })
}

/// POSTs `body` to `<rekor_url>/api/v1/log/entries` and returns the bundle entry.
pub(crate) fn upload(
    rekor_url: &str,
    body: &serde_json::Value,
) -> SigstoreResult<TransparencyLogEntry> {
    let url = format!("{}/api/v1/log/entries", rekor_url.trim_end_matches('/'));
    let unreachable = |e: &dyn std::fmt::Display| SigstoreError::Unreachable {
        service: "Rekor",
        url: url.clone(),
        reason: e.to_string(),
    };
    let client = sigstore_sign::reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| unreachable(&e))?;
    let entries: BTreeMap<String, LogEntry> = runtime()?.block_on(async {
        let response = client
            .post(&url)
            .json(body)
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(SigstoreError::SigningFailed {
                reason: format!("Rekor answered HTTP {status}: {text}"),
            });
        }
        response
            .json()
            .await
            .map_err(|e| SigstoreError::SigningFailed {
                reason: format!("unreadable Rekor response: {e}"),
            })
    })?;
    let entry = entries
        .into_values()
        .next()
        .ok_or_else(|| SigstoreError::SigningFailed {
            reason: "Rekor returned no entry".to_owned(),
        })?;
    entry
        .to_bundle_entry(KindVersion::HashedRekordV001)
        .map_err(|e| SigstoreError::SigningFailed {
            reason: format!("Rekor entry does not convert to a bundle entry: {e}"),
        })
}
