//! `leo audit verify`: recompute every leaf from the stored columns, the hash chain, the
//! Merkle tree and every checkpoint signature, and name the first row that does not match.
//!
//! What each layer catches:
//! - an edited record or log column → its recomputed leaf differs from the stored leaf hash;
//! - an edited stored leaf hash → the chain breaks at that row;
//! - a rewrite that recomputes leaves *and* chain → the root at the next signed checkpoint
//!   differs (the rewritten range is reported);
//! - deleted rows → a gap in `seq`, or a checkpoint larger than the log.

use serde::Serialize;

use crate::backend::{Backend, CheckpointRow, PAGE};
use crate::codec::{chain_next, leaf_hash_of};
use crate::error::{Error, Result};
use crate::merkle::{Hash, MerkleTree};
use crate::note::{Checkpoint, NoteVerifier};
use crate::record::RecordKind;

/// What verification established.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Records whose leaf, chain link and tree position were recomputed.
    pub entries: u64,
    /// Checkpoints whose signature and root verified.
    pub checkpoints: u64,
    /// The newest verified checkpoint's size (0 when there is none).
    pub signed_size: u64,
    /// Records after the newest checkpoint: protected by the chain only.
    pub unsigned_tail: u64,
    /// Root of the whole log, hex.
    pub root: String,
    /// Names of the keys that signed the verified checkpoints.
    pub signers: Vec<String>,
}

fn tampered(seq: u64, table: &str, reason: impl Into<String>) -> Error {
    Error::Tampered {
        seq,
        table: table.to_owned(),
        reason: reason.into(),
    }
}

/// Opens every checkpoint note and checks it against its row.
fn open_checkpoints(
    rows: &[CheckpointRow],
    size: u64,
    trusted: &[NoteVerifier],
    signers: &mut Vec<String>,
) -> Result<Vec<(u64, Hash)>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let invalid = |reason: String| Error::CheckpointInvalid {
            size: row.tree_size,
            reason,
        };
        if row.tree_size > size {
            return Err(tampered(
                size,
                "leo_log",
                format!(
                    "a signed checkpoint covers {} records but only {size} remain: rows were deleted",
                    row.tree_size
                ),
            ));
        }
        let (text, by) =
            crate::note::open_note(&row.note, trusted).map_err(|e| invalid(e.to_string()))?;
        let cp = Checkpoint::parse(text).map_err(|e| invalid(e.to_string()))?;
        if cp.size != row.tree_size || cp.root.as_slice() != row.root_hash.as_slice() {
            return Err(invalid(
                "stored size or root differs from the signed note".into(),
            ));
        }
        for name in by {
            if !signers.contains(&name) {
                signers.push(name);
            }
        }
        out.push((cp.size, cp.root));
    }
    Ok(out)
}

/// Verifies the whole trail against the trusted checkpoint keys.
pub(crate) fn verify(backend: &mut dyn Backend, trusted: &[NoteVerifier]) -> Result<VerifyReport> {
    let (size, _) = backend.tail()?;
    let mut signers = Vec::new();
    let checkpoints = open_checkpoints(&backend.checkpoints()?, size, trusted, &mut signers)?;
    let mut pending = checkpoints.iter().peekable();
    let mut last_signed = 0u64;
    let mut tree = MerkleTree::new();
    let mut chain: Hash = [0; 32];
    let mut from = 0u64;
    while from < size {
        let to = size.min(from + PAGE);
        let page = backend.entries(from, to)?;
        let mut expected = from;
        for raw in page {
            if raw.seq != expected {
                return Err(tampered(expected, "leo_log", "log row is missing"));
            }
            let table = RecordKind::parse(&raw.kind).map_or("leo_log", RecordKind::table);
            let stored_chain = raw.chain_hash.clone();
            let entry = raw
                .decode()
                .map_err(|e| tampered(expected, table, format!("row does not decode: {e}")))?;
            let kind = entry.event.record.kind();
            if !kind.accepts(entry.actor, entry.event.action) {
                return Err(tampered(
                    expected,
                    table,
                    format!(
                        "{} may not file a {kind} record under {} (SOP §5 matrix)",
                        entry.actor, entry.event.action
                    ),
                ));
            }
            let leaf = leaf_hash_of(entry.seq, entry.actor, &entry.event)?;
            if leaf != entry.leaf_hash {
                return Err(tampered(
                    expected,
                    table,
                    "record content does not match its leaf hash (row edited)",
                ));
            }
            chain = chain_next(&chain, &leaf);
            if chain.as_slice() != stored_chain.as_slice() {
                return Err(tampered(
                    expected,
                    "leo_log",
                    "hash chain broken (leaf or chain hash edited)",
                ));
            }
            tree.push(leaf);
            while let Some((cp_size, cp_root)) = pending.next_if(|(s, _)| *s == tree.len()) {
                if tree.root() != *cp_root {
                    return Err(tampered(
                        last_signed,
                        "leo_log",
                        format!(
                            "root at size {cp_size} differs from its signed checkpoint: \
                             rows {last_signed}..{cp_size} were rewritten"
                        ),
                    ));
                }
                last_signed = *cp_size;
            }
            expected += 1;
        }
        if expected != to {
            return Err(tampered(expected, "leo_log", "log row is missing"));
        }
        from = to;
    }
    Ok(VerifyReport {
        entries: size,
        checkpoints: checkpoints.len() as u64,
        signed_size: last_signed,
        unsigned_tail: size - last_signed,
        root: hex::encode(tree.root()),
        signers,
    })
}
