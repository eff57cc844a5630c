//! Self-contained proofs a client can check against a signed checkpoint.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::merkle::{Hash, verify_consistency, verify_inclusion};
use crate::note::{Checkpoint, NoteVerifier};

fn hex_hash<S: serde::Serializer>(h: &Hash, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(&hex::encode(h))
}

fn hex_path<S: serde::Serializer>(p: &[Hash], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(p.iter().map(hex::encode))
}

/// Record `index` is leaf `index` of the tree of `size` records with root `root`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InclusionProof {
    /// Leaf index (the record's seq).
    pub index: u64,
    /// Tree size.
    pub size: u64,
    /// The leaf hash.
    #[serde(serialize_with = "hex_hash")]
    pub leaf_hash: Hash,
    /// The audit path, bottom-up.
    #[serde(serialize_with = "hex_path")]
    pub path: Vec<Hash>,
    /// The root it leads to.
    #[serde(serialize_with = "hex_hash")]
    pub root: Hash,
}

impl InclusionProof {
    /// Checks the path against the proof's own root.
    pub fn verify(&self) -> Result<()> {
        verify_inclusion(
            &self.leaf_hash,
            self.index,
            self.size,
            &self.path,
            &self.root,
        )
    }

    /// Checks the path against a signed checkpoint of the same size.
    pub fn verify_against(&self, note: &str, trusted: &[NoteVerifier]) -> Result<Checkpoint> {
        let cp = Checkpoint::open(note, trusted)?;
        if cp.size != self.size {
            return Err(Error::ProofInvalid {
                kind: "inclusion",
                reason: "checkpoint size differs from the proof's tree size",
            });
        }
        verify_inclusion(&self.leaf_hash, self.index, self.size, &self.path, &cp.root)?;
        Ok(cp)
    }
}

/// The tree of `old_size` records is a prefix of the tree of `new_size` records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConsistencyProof {
    /// The older size.
    pub old_size: u64,
    /// The newer size.
    pub new_size: u64,
    /// The proof hashes.
    #[serde(serialize_with = "hex_path")]
    pub path: Vec<Hash>,
    /// Root at `old_size`.
    #[serde(serialize_with = "hex_hash")]
    pub old_root: Hash,
    /// Root at `new_size`.
    #[serde(serialize_with = "hex_hash")]
    pub new_root: Hash,
}

impl ConsistencyProof {
    /// Checks the proof against its own roots.
    pub fn verify(&self) -> Result<()> {
        verify_consistency(
            self.old_size,
            self.new_size,
            &self.path,
            &self.old_root,
            &self.new_root,
        )
    }
}
