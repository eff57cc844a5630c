//! Attestors: who may sign an image or its provenance. Kyverno's `keys` and `keyless`
//! entries, plus LEO's `pgp` entry for OpenPGP certificates.

use std::path::{Path, PathBuf};

use leo_sign::PgpCert;
use serde_json::Value;

use crate::error::{Error, Result};

/// Largest key or certificate file an attestor may name.
pub const MAX_KEY_FILE_BYTES: u64 = 1024 * 1024;

/// One trusted signer.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Attestor {
    /// A public key (cosign `cosign.pub`, ECDSA P-256, Ed25519 or RSA), PEM.
    Key {
        /// The PEM text (for Sigstore bundle verification).
        pem: String,
        /// The parsed key (for cosign `.sig` files and DSSE envelopes).
        key: leo_attest::PublicKey,
    },
    /// OpenPGP certificates (detached `.asc` signatures).
    Pgp {
        /// The pinned certificates.
        certs: Vec<PgpCert>,
    },
    /// A Sigstore keyless identity: Fulcio certificate subject and OIDC issuer.
    Keyless {
        /// Anchored regular expression over the certificate subject (Kyverno's `subject`
        /// wildcard is translated; `subjectRegExp` is taken as written).
        subject_regex: String,
        /// The exact OIDC issuer.
        issuer: String,
        /// A trusted root file (default: the embedded Sigstore production root).
        trusted_root: Option<PathBuf>,
    },
}

impl Attestor {
    /// A short description for reports.
    pub fn describe(&self) -> String {
        match self {
            Attestor::Key { key, .. } => format!("key {}", key.key_id()),
            Attestor::Pgp { certs } => {
                let fps: Vec<String> = certs.iter().map(|c| c.fingerprint().to_string()).collect();
                format!("openpgp {}", fps.join(","))
            }
            Attestor::Keyless {
                subject_regex,
                issuer,
                ..
            } => format!("keyless {subject_regex} ({issuer})"),
        }
    }
}

/// Parses `attestors:` (Kyverno: `[{count, entries: [...]}]`; LEO: entries directly).
pub(crate) fn parse_attestors(
    value: Option<&Value>,
    base: Option<&Path>,
    origin: &str,
) -> Result<Vec<Attestor>> {
    let mut out = Vec::new();
    for item in value.and_then(Value::as_array).into_iter().flatten() {
        match item.get("entries").and_then(Value::as_array) {
            Some(entries) => {
                for entry in entries {
                    parse_entry(entry, base, origin, &mut out)?;
                }
            }
            None => parse_entry(item, base, origin, &mut out)?,
        }
    }
    Ok(out)
}

fn parse_entry(
    entry: &Value,
    base: Option<&Path>,
    origin: &str,
    out: &mut Vec<Attestor>,
) -> Result<()> {
    let bad = |reason: String| Error::InvalidAttestorKey {
        origin: origin.to_owned(),
        reason,
    };
    if let Some(keys) = entry.get("keys") {
        let text = keys
            .get("publicKeys")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("`keys` without `publicKeys`".into()))?;
        let text = inline_or_file(text, "-----BEGIN", base, origin)?;
        for pem in pem_blocks(&text) {
            let key = leo_attest::PublicKey::from_pem(pem).map_err(|e| bad(e.to_string()))?;
            out.push(Attestor::Key {
                pem: pem.to_owned(),
                key,
            });
        }
        return Ok(());
    }
    if let Some(pgp) = entry.get("pgp") {
        let text = pgp
            .get("publicKeys")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("`pgp` without `publicKeys`".into()))?;
        let text = inline_or_file(text, "-----BEGIN PGP", base, origin)?;
        let cert = PgpCert::from_bytes(text.as_bytes()).map_err(|e| bad(e.to_string()))?;
        out.push(Attestor::Pgp { certs: vec![cert] });
        return Ok(());
    }
    if let Some(keyless) = entry.get("keyless") {
        let field = |k: &str| keyless.get(k).and_then(Value::as_str);
        let subject_regex = match (field("subjectRegExp"), field("subject")) {
            (Some(re), _) => re.to_owned(),
            (None, Some(wild)) => crate::wildcard::to_regex(wild),
            (None, None) => return Err(bad("`keyless` needs `subject` or `subjectRegExp`".into())),
        };
        let issuer = field("issuer")
            .ok_or_else(|| bad("`keyless` needs an exact `issuer`".into()))?
            .to_owned();
        let trusted_root = field("trustedRoot").map(|p| resolve(p, base));
        out.push(Attestor::Keyless {
            subject_regex,
            issuer,
            trusted_root,
        });
        return Ok(());
    }
    let kinds: Vec<&String> = entry
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    Err(bad(format!(
        "unsupported attestor {kinds:?} (LEO reads keys, pgp and keyless)"
    )))
}

fn resolve(path: &str, base: Option<&Path>) -> PathBuf {
    match base {
        Some(dir) if Path::new(path).is_relative() => dir.join(path),
        _ => PathBuf::from(path),
    }
}

/// Inline text (it contains `marker`) or a path relative to the policy file.
fn inline_or_file(text: &str, marker: &str, base: Option<&Path>, origin: &str) -> Result<String> {
    if text.contains(marker) {
        return Ok(text.to_owned());
    }
    let path = resolve(text.trim(), base);
    crate::resource::read_text(&path, MAX_KEY_FILE_BYTES).map_err(|e| Error::InvalidAttestorKey {
        origin: origin.to_owned(),
        reason: e.to_string(),
    })
}

/// Each `-----BEGIN ...----- ... -----END ...-----` block of a text.
fn pem_blocks(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN") {
        let Some(tail) = rest.get(start..) else { break };
        let Some(end_marker) = tail.find("-----END") else {
            break;
        };
        let after = tail.get(end_marker + 8..).unwrap_or("");
        let close = after.find("-----").map_or(after.len(), |i| i + 5);
        let len = end_marker + 8 + close;
        if let Some(block) = tail.get(..len) {
            out.push(block);
        }
        rest = tail.get(len..).unwrap_or("");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_pem_blocks() {
        let two = "-----BEGIN PUBLIC KEY-----\nA\n-----END PUBLIC KEY-----\n-----BEGIN PUBLIC KEY-----\nB\n-----END PUBLIC KEY-----\n";
        let blocks = pem_blocks(two);
        assert_eq!(blocks.len(), 2);
        assert!(blocks[1].contains("\nB\n"));
    }

    #[test]
    fn rejects_unknown_attestors() {
        let v = serde_json::json!([{"entries": [{"certificates": {"cert": "x"}}]}]);
        let err = parse_attestors(Some(&v), None, "t").unwrap_err();
        assert!(matches!(err, Error::InvalidAttestorKey { .. }));
    }
}
