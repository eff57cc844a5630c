//! `leo audit verify`: recompute every leaf from the stored columns, the hash chain, the
//! Merkle tree and every checkpoint signature, and name the first row that does not match.
//!
//! What each layer catches:
//! - an edited record or log column → its recomputed leaf differs from the stored leaf hash
//!   (a version 2 leaf is recomputed from the raw stored values, so even an edit that decodes
//!   to the same typed value, such as a changed case, is caught; rows written before leaf
//!   version 2 are checked against their version 1 leaf of the decoded entry);
//! - an edited stored leaf hash → the chain breaks at that row;
//! - a rewrite that recomputes leaves *and* chain → the root at the next signed checkpoint
//!   differs (the rewritten range is reported);
//! - deleted rows → a gap in `seq`, or a checkpoint larger than the log;
//! - an edited event-id index (SQLite's `leo_event_ids`, outside the leaves) → it no longer
//!   agrees with the log, which would let a retry append an event twice.

use serde::Serialize;

use crate::backend::{Backend, CheckpointRow, PAGE, RawEntry};
use crate::codec::{Entry, LeafFields, chain_next, leaf_hash_v1_of};
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

/// The version 2 leaf of a row's raw stored values, before any decoding: `None` when the
/// record row is missing (the row then fails to decode) or a value is too long for a
/// version 2 length prefix (so it cannot be part of a version 2 leaf).
fn raw_leaf_v2(raw: &RawEntry, scratch: &mut Vec<u8>) -> Option<Hash> {
    let columns = raw.columns.as_deref()?;
    LeafFields {
        seq: raw.seq,
        event_id: &raw.event_id,
        kind: &raw.kind,
        actor: &raw.actor,
        action: &raw.action,
        recorded_at: raw.recorded_at,
        columns,
    }
    .hash_with(scratch)
    .ok()
}

/// Which leaf format the entry's stored leaf hash is its leaf in: version 2, of the raw
/// stored values (`v2`, from [`raw_leaf_v2`]), or else version 1, of the decoded entry
/// (rows written before leaf version 2); `None` when neither.
fn leaf_version(v2: Option<Hash>, entry: &Entry) -> Result<Option<u8>> {
    Ok(if v2 == Some(entry.leaf_hash) {
        Some(2)
    } else if leaf_hash_v1_of(entry.seq, entry.actor, &entry.event)? == entry.leaf_hash {
        Some(1)
    } else {
        None
    })
}

/// Whether the entry's stored leaf hash is its leaf in either format.
#[cfg(test)]
fn leaf_verifies(v2: Option<Hash>, entry: &Entry) -> Result<bool> {
    Ok(leaf_version(v2, entry)?.is_some())
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
    let mut scratch = Vec::new();
    let mut v2_seen = false;
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
            let v2_leaf = raw_leaf_v2(&raw, &mut scratch);
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
            let leaf = entry.leaf_hash;
            match leaf_version(v2_leaf, &entry)? {
                None => {
                    return Err(tampered(
                        expected,
                        table,
                        "record content does not match its leaf hash (row edited)",
                    ));
                }
                // Builds that write version 2 leaves refuse the schemas older builds write,
                // so the formats never interleave: a version 1 leaf after a version 2 one
                // was not appended by LEO.
                Some(1) if v2_seen => {
                    return Err(tampered(
                        expected,
                        table,
                        "a version 1 (JSON) leaf after version 2 leaves",
                    ));
                }
                Some(version) => v2_seen |= version == 2,
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
    if let Some((seq, what)) = backend.event_ids_disagree()? {
        return Err(tampered(seq, crate::schema::EVENT_IDS_TABLE, what));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Event, Value, columns, leaf_hash_of};
    use crate::role::Role;
    use crate::samples::verification;

    /// A stored verification row as the backends read it back, with `leaf` as its leaf hash.
    fn row(ev: &Event, leaf: Hash) -> RawEntry {
        RawEntry {
            seq: 5,
            event_id: ev.id.as_str().to_owned(),
            kind: ev.record.kind().as_str().to_owned(),
            actor: Role::Plan.as_str().to_owned(),
            action: ev.action.as_str().to_owned(),
            recorded_at: ev.recorded_at.unix_micros(),
            leaf_hash: leaf.to_vec(),
            chain_hash: vec![0; 32],
            columns: Some(columns(&ev.record).unwrap()),
            defect: None,
        }
    }

    /// Whether `raw` passes the leaf check of [`verify`].
    fn verifies(raw: &RawEntry) -> bool {
        let v2 = raw_leaf_v2(raw, &mut Vec::new());
        leaf_verifies(v2, &raw.clone().decode().unwrap()).unwrap()
    }

    fn edit(raw: &RawEntry, column: usize, value: &str) -> RawEntry {
        let mut edited = raw.clone();
        edited.columns.as_mut().unwrap()[column] = Value::Text(Some(value.to_owned()));
        edited
    }

    #[test]
    fn v2_and_v1_rows_verify() {
        let ev = verification("v", 1).unwrap().into_any();
        let v2 = row(&ev, leaf_hash_of(5, Role::Plan, &ev).unwrap());
        let v1 = row(&ev, leaf_hash_v1_of(5, Role::Plan, &ev).unwrap());
        assert!(verifies(&v2));
        assert!(verifies(&v1));
        assert!(!verifies(&row(&ev, [0; 32])));
        // The leaf of another position does not verify in either format.
        for other in [
            leaf_hash_of(6, Role::Plan, &ev).unwrap(),
            leaf_hash_v1_of(6, Role::Plan, &ev).unwrap(),
        ] {
            assert!(!verifies(&row(&ev, other)));
        }
    }

    #[test]
    fn an_edit_that_decodes_to_the_same_value_is_caught_on_a_v2_row() {
        let ev = verification("same", 1).unwrap().into_any();
        let v2 = row(&ev, leaf_hash_of(5, Role::Plan, &ev).unwrap());
        let Some(Value::Text(Some(inputs))) = v2.columns.as_ref().unwrap().get(3).cloned() else {
            panic!("inputs is not column 3: {:?}", v2.columns);
        };
        // JSON whitespace: the same typed record, different stored bytes.
        let spaced = inputs.replace(',', ", ");
        assert_ne!(spaced, inputs);
        let edited = edit(&v2, 3, &spaced);
        assert_eq!(
            edited.clone().decode().unwrap().event,
            v2.clone().decode().unwrap().event
        );
        assert!(!verifies(&edited));
        // A row written before leaf version 2 is checked at the typed level only: the same
        // edit of a v1 row is not a different event (the reason leaves are now version 2).
        let v1 = row(&ev, leaf_hash_v1_of(5, Role::Plan, &ev).unwrap());
        assert!(verifies(&edit(&v1, 3, &spaced)));
    }

    #[test]
    fn an_edited_value_is_caught_on_v1_and_v2_rows() {
        let ev = verification("edit", 1).unwrap().into_any();
        for leaf in [
            leaf_hash_of(5, Role::Plan, &ev).unwrap(),
            leaf_hash_v1_of(5, Role::Plan, &ev).unwrap(),
        ] {
            let stored = row(&ev, leaf);
            assert!(verifies(&stored));
            assert!(!verifies(&edit(&stored, 4, "all sub-agents disagree")));
            let mut later = stored.clone();
            later.recorded_at += 1;
            assert!(!verifies(&later));
        }
    }

    #[test]
    fn a_missing_record_row_has_no_v2_leaf() {
        let ev = verification("gone", 1).unwrap().into_any();
        let mut stored = row(&ev, leaf_hash_of(5, Role::Plan, &ev).unwrap());
        assert!(raw_leaf_v2(&stored, &mut Vec::new()).is_some());
        stored.columns = None;
        assert_eq!(raw_leaf_v2(&stored, &mut Vec::new()), None);
    }
}
