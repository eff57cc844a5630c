//! C2SP signed notes (Ed25519) and tlog checkpoints.
//!
//! A note is `text ‖ "\n" ‖ signature lines`, each line `— <name> <base64(key id ‖ sig)>`.
//! The key id is the first four bytes of `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)`. Keys use
//! the same text encodings as `golang.org/x/mod/sumdb/note`: verifier
//! `name+hexid+base64(0x01‖pk)`, signer `PRIVATE+KEY+name+hexid+base64(0x01‖seed)`.
//! A checkpoint body is `origin\nsize\nbase64(root)\n` (C2SP tlog-checkpoint).

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

use crate::error::{Error, Result};
use crate::merkle::Hash;

/// The algorithm byte of Ed25519 note keys.
const ALG_ED25519: u8 = 0x01;
/// The signature line prefix (U+2014 EM DASH and a space).
const SIG_PREFIX: &str = "\u{2014} ";
/// Largest note accepted, in bytes.
pub const MAX_NOTE_LEN: usize = 1 << 20;
/// Most signature lines accepted on one note.
pub const MAX_NOTE_SIGNATURES: usize = 100;

fn key_id(name: &str, public_key: &[u8; 32]) -> [u8; 4] {
    let mut c = ring::digest::Context::new(&ring::digest::SHA256);
    c.update(name.as_bytes());
    c.update(b"\n");
    c.update(&[ALG_ED25519]);
    c.update(public_key);
    let d = c.finish();
    let mut id = [0u8; 4];
    id.copy_from_slice(d.as_ref().get(..4).unwrap_or(&[0; 4]));
    id
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.contains(['+', ' ', '\n', '\t'])
        || name.chars().any(char::is_control)
    {
        return Err(Error::MalformedKey {
            reason: "key name must be non-empty without '+', spaces or control characters",
        });
    }
    Ok(())
}

/// Splits `name+hexid+base64` and checks the id against the key.
fn parse_key_parts(s: &str) -> Result<(String, [u8; 4], [u8; 32])> {
    let bad = |reason| Error::MalformedKey { reason };
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("expected name+hexid+base64"));
    };
    check_name(name)?;
    let raw = B64.decode(key_b64).map_err(|_| bad("key is not base64"))?;
    let (Some(&ALG_ED25519), Some(bytes)) = (raw.first(), raw.get(1..)) else {
        return Err(bad("only Ed25519 (algorithm 1) keys are supported"));
    };
    let key: [u8; 32] = bytes
        .try_into()
        .map_err(|_| bad("Ed25519 key must be 32 bytes"))?;
    let mut id = [0u8; 4];
    if id_hex.len() != 8 || hex::decode_to_slice(id_hex, &mut id).is_err() {
        return Err(bad("key id must be 8 hex characters"));
    }
    Ok((name.to_owned(), id, key))
}

/// An Ed25519 note signer. Its `Debug` output never shows the secret.
pub struct NoteSigner {
    name: String,
    id: [u8; 4],
    seed: [u8; 32],
    pair: Ed25519KeyPair,
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteSigner({}+{})", self.name, hex::encode(self.id))
    }
}

impl NoteSigner {
    /// A fresh key named `name` (the checkpoint origin).
    pub fn generate(name: &str) -> Result<Self> {
        let mut seed = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut seed).map_err(
            |_| Error::MalformedKey {
                reason: "system random source failed",
            },
        )?;
        Self::from_seed(name, seed)
    }

    fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self> {
        check_name(name)?;
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| Error::MalformedKey {
            reason: "not an Ed25519 seed",
        })?;
        let pk: [u8; 32] =
            pair.public_key()
                .as_ref()
                .try_into()
                .map_err(|_| Error::MalformedKey {
                    reason: "unexpected public key length",
                })?;
        Ok(NoteSigner {
            name: name.to_owned(),
            id: key_id(name, &pk),
            seed,
            pair,
        })
    }

    /// Parses `PRIVATE+KEY+name+hexid+base64(0x01‖seed)`.
    pub fn from_secret_key(s: &str) -> Result<Self> {
        let rest = s
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(Error::MalformedKey {
                reason: "secret key must start with PRIVATE+KEY+",
            })?;
        let (name, id, seed) = parse_key_parts(rest)?;
        let signer = Self::from_seed(&name, seed)?;
        if signer.id != id {
            return Err(Error::MalformedKey {
                reason: "key id does not match the key",
            });
        }
        Ok(signer)
    }

    /// The secret key encoding (write it only to a 0600 file: see [`save_secret_key`]).
    pub fn secret_key(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(&self.seed);
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(self.id),
            B64.encode(raw)
        )
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        let mut key = [0u8; 32];
        key.copy_from_slice(self.pair.public_key().as_ref());
        NoteVerifier {
            name: self.name.clone(),
            id: self.id,
            key,
        }
    }

    /// Signs `text` (non-empty, ending in a newline) into a complete signed note.
    pub fn sign(&self, text: &str) -> Result<String> {
        if text.is_empty() || !text.ends_with('\n') {
            return Err(Error::MalformedNote {
                reason: "note text must end with a newline".into(),
            });
        }
        let sig = self.pair.sign(text.as_bytes());
        let mut blob = self.id.to_vec();
        blob.extend_from_slice(sig.as_ref());
        Ok(format!(
            "{text}\n{SIG_PREFIX}{} {}\n",
            self.name,
            B64.encode(blob)
        ))
    }
}

/// An Ed25519 note verifier key.
#[derive(Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: [u8; 4],
    key: [u8; 32],
}

impl fmt::Debug for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteVerifier({self})")
    }
}

impl fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(&self.key);
        write!(
            f,
            "{}+{}+{}",
            self.name,
            hex::encode(self.id),
            B64.encode(raw)
        )
    }
}

impl std::str::FromStr for NoteVerifier {
    type Err = Error;

    /// Parses `name+hexid+base64(0x01‖pk)`.
    fn from_str(s: &str) -> Result<Self> {
        let (name, id, key) = parse_key_parts(s.trim())?;
        if key_id(&name, &key) != id {
            return Err(Error::MalformedKey {
                reason: "key id does not match the key",
            });
        }
        Ok(NoteVerifier { name, id, key })
    }
}

impl NoteVerifier {
    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Opens a signed note: returns its text and the names of the trusted keys whose signatures
/// verified. Signatures by unknown keys are ignored; at least one trusted signature is
/// required, and a signature that claims a trusted key but does not verify is an error.
pub fn open_note<'a>(msg: &'a str, trusted: &[NoteVerifier]) -> Result<(&'a str, Vec<String>)> {
    let bad = |reason: &str| Error::MalformedNote {
        reason: reason.to_owned(),
    };
    if msg.len() > MAX_NOTE_LEN {
        return Err(bad("note too large"));
    }
    let split = msg
        .rfind("\n\n")
        .ok_or_else(|| bad("no blank line before the signatures"))?;
    let text = msg.get(..=split).ok_or_else(|| bad("bad split"))?;
    let sigs = msg.get(split + 2..).ok_or_else(|| bad("bad split"))?;
    if !sigs.ends_with('\n') {
        return Err(bad("signature block must end with a newline"));
    }
    let mut verified = Vec::new();
    for (n, line) in sigs.lines().enumerate() {
        if n >= MAX_NOTE_SIGNATURES {
            return Err(bad("too many signatures"));
        }
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or_else(|| bad("signature line must start with an em dash"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| bad("signature line needs name and signature"))?;
        let blob = B64
            .decode(b64)
            .map_err(|_| bad("signature is not base64"))?;
        let (Some(id), Some(sig)) = (blob.get(..4), blob.get(4..)) else {
            return Err(bad("signature too short"));
        };
        let Some(v) = trusted.iter().find(|v| v.name == name && v.id == id) else {
            continue;
        };
        UnparsedPublicKey::new(&ED25519, v.key)
            .verify(text.as_bytes(), sig)
            .map_err(|_| bad(&format!("signature by {name} does not verify")))?;
        verified.push(name.to_owned());
    }
    if verified.is_empty() {
        return Err(bad("no signature by a trusted key"));
    }
    Ok((text, verified))
}

/// A tlog checkpoint: origin, tree size, root hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's name (the signer's key name).
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root of those leaves.
    pub root: Hash,
}

impl Checkpoint {
    /// The note body: `origin\nsize\nbase64(root)\n`.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Parses a note body.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |reason: &str| Error::MalformedNote {
            reason: reason.to_owned(),
        };
        let mut lines = text.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(bad("checkpoint needs origin, size and root lines"));
        };
        if origin.is_empty() {
            return Err(bad("empty origin"));
        }
        let size_ok = !size.is_empty()
            && size.bytes().all(|b| b.is_ascii_digit())
            && (size == "0" || !size.starts_with('0'));
        let size: u64 = size
            .parse()
            .ok()
            .filter(|_| size_ok)
            .ok_or_else(|| bad("size is not a canonical decimal"))?;
        let root: Hash = B64
            .decode(root)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or_else(|| bad("root is not base64 of 32 bytes"))?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        })
    }

    /// Signs the checkpoint into a signed note.
    pub fn sign(&self, signer: &NoteSigner) -> Result<String> {
        signer.sign(&self.body())
    }

    /// Opens and parses a signed checkpoint note against trusted keys.
    pub fn open(note: &str, trusted: &[NoteVerifier]) -> Result<Self> {
        let (text, _) = open_note(note, trusted)?;
        Self::parse(text)
    }
}

/// Writes a secret key to `path` atomically with mode 0600.
pub fn save_secret_key(path: &Path, signer: &NoteSigner) -> Result<()> {
    let text = format!("{}\n", signer.secret_key());
    leo_artifact::fsutil::write_secret_atomically(path, text.as_bytes()).map_err(|e| {
        Error::io(
            format!("saving key {}", path.display()),
            std::io::Error::other(e),
        )
    })
}

/// Reads a secret key file, refusing one that group or others can read.
pub fn load_secret_key(path: &Path) -> Result<NoteSigner> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::KeyFileMode {
                path: path.to_owned(),
                mode,
            });
        }
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    NoteSigner::from_secret_key(&text)
}

#[cfg(test)]
mod tests {
    //! Known answers from the documentation and tests of `golang.org/x/mod/sumdb/note` (the
    //! reference implementation: Ed25519 is deterministic, so the signature must match byte
    //! for byte) and the verifier-key example of the C2SP signed-note specification.
    use super::*;

    const GO_SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const GO_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    #[test]
    fn go_reference_signature_is_reproduced() {
        let s = NoteSigner::from_secret_key(GO_SKEY).unwrap();
        assert_eq!(s.verifier().to_string(), GO_VKEY);
        assert_eq!(s.secret_key(), GO_SKEY);
        let note = s.sign(GO_TEXT).unwrap();
        assert_eq!(note, format!("{GO_TEXT}\n{GO_SIG}"));
        let v: NoteVerifier = GO_VKEY.parse().unwrap();
        let (text, by) = open_note(&note, &[v]).unwrap();
        assert_eq!(text, GO_TEXT);
        assert_eq!(by, ["PeterNeumann"]);
    }

    #[test]
    fn spec_example_verifies_and_edits_do_not() {
        let v: NoteVerifier = SPEC_VKEY.parse().unwrap();
        assert_eq!(
            open_note(SPEC_NOTE, std::slice::from_ref(&v)).unwrap().0,
            "This is an example message.\n"
        );
        let edited = SPEC_NOTE.replace("example message", "example massage");
        assert!(
            matches!(open_note(&edited, &[v]), Err(Error::MalformedNote { reason }) if reason.contains("does not verify"))
        );
    }

    #[test]
    fn untrusted_or_malformed_keys_are_refused() {
        let other = NoteSigner::generate("other").unwrap().verifier();
        assert!(
            matches!(open_note(SPEC_NOTE, &[other]), Err(Error::MalformedNote { reason }) if reason.contains("trusted"))
        );
        assert!(matches!(
            "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
                .parse::<NoteVerifier>(),
            Err(Error::MalformedKey { .. })
        ));
        assert!(matches!(
            NoteSigner::from_secret_key("KEY+x"),
            Err(Error::MalformedKey { .. })
        ));
        assert!(matches!(
            NoteSigner::generate("a b"),
            Err(Error::MalformedKey { .. })
        ));
    }

    #[test]
    fn checkpoints_round_trip_and_are_strict() {
        let s = NoteSigner::generate("leo.test/log").unwrap();
        let cp = Checkpoint {
            origin: "leo.test/log".into(),
            size: 42,
            root: [7; 32],
        };
        let note = cp.sign(&s).unwrap();
        assert_eq!(Checkpoint::open(&note, &[s.verifier()]).unwrap(), cp);
        for bad in ["o\n042\nAAAA\n", "o\n1\nAAAA\n", "\n1\n", "o\nx\n"] {
            assert!(
                matches!(Checkpoint::parse(bad), Err(Error::MalformedNote { .. })),
                "{bad:?}"
            );
        }
        assert!(format!("{s:?}").contains("leo.test/log") && !format!("{s:?}").contains("PRIVATE"));
    }

    #[test]
    fn key_files_are_0600_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ckpt.key");
        let s = NoteSigner::generate("leo").unwrap();
        save_secret_key(&p, &s).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(load_secret_key(&p).unwrap().verifier(), s.verifier());
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            load_secret_key(&p),
            Err(Error::KeyFileMode { mode: 0o644, .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn open_never_panics(s in "\\PC*") {
            let v: NoteVerifier = SPEC_VKEY.parse().unwrap();
            let _ = open_note(&s, &[v]);
            let _ = Checkpoint::parse(&s);
        }
    }
}
