//! The RFC 6962 Merkle tree (leaf `H(0x00‖d)`, node `H(0x01‖l‖r)`), its inclusion and
//! consistency proofs (RFC 6962 §2.1.1–2.1.2) and their verification (RFC 9162 §2.1.3.2,
//! §2.1.4.2).
//!
//! [`MerkleTree`] keeps every complete subtree hash, level by level (2·n hashes), so a proof
//! at any tree size costs O(log n) lookups plus the few hashes of the ragged right edge.

use crate::error::{Error, Result};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut c = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        c.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(c.finish().as_ref());
    out
}

/// `H(0x00 ‖ data)`.
pub fn hash_leaf(data: &[u8]) -> Hash {
    sha256(&[&[0x00], data])
}

/// `H(0x01 ‖ left ‖ right)`.
pub fn hash_children(left: &Hash, right: &Hash) -> Hash {
    sha256(&[&[0x01], left, right])
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    sha256(&[])
}

/// The largest power of two strictly below `n` (n ≥ 2).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// An append-only RFC 6962 tree over leaf hashes.
#[derive(Clone, Debug, Default)]
pub struct MerkleTree {
    /// `levels[k][i]` = hash of the complete subtree of 2^k leaves starting at leaf i·2^k.
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        MerkleTree {
            levels: vec![Vec::new()],
        }
    }

    /// A tree over these leaf hashes.
    pub fn from_leaf_hashes(leaves: impl IntoIterator<Item = Hash>) -> Self {
        let mut t = MerkleTree::new();
        for l in leaves {
            t.push(l);
        }
        t
    }

    /// Number of leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The leaf hash at `index`.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.node(0, index)
    }

    fn node(&self, level: usize, index: u64) -> Option<Hash> {
        let i = usize::try_from(index).ok()?;
        self.levels.get(level)?.get(i).copied()
    }

    /// Appends a leaf hash, completing every subtree it closes.
    pub fn push(&mut self, leaf: Hash) {
        let mut level = 0usize;
        let mut hash = leaf;
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            let Some(row) = self.levels.get_mut(level) else {
                return;
            };
            row.push(hash);
            let n = row.len();
            if n % 2 == 1 {
                return;
            }
            let (Some(l), Some(r)) = (row.get(n - 2), row.get(n - 1)) else {
                return;
            };
            hash = hash_children(l, r);
            level += 1;
        }
    }

    /// Drops leaves beyond `size` (used to undo an append whose commit failed).
    pub fn truncate(&mut self, size: u64) {
        for (k, row) in self.levels.iter_mut().enumerate() {
            let keep = usize::try_from(size >> k).unwrap_or(usize::MAX);
            row.truncate(keep);
        }
    }

    /// MTH of leaves `[start, start+size)`; callers guarantee `size ≥ 1` and the range lies
    /// inside the tree and has the alignment RFC 6962's recursion produces.
    fn subtree(&self, start: u64, size: u64) -> Hash {
        if size.is_power_of_two() && start % size == 0 {
            let level = size.trailing_zeros() as usize;
            if let Some(h) = self.node(level, start >> level) {
                return h;
            }
        }
        if size <= 1 {
            // Unreachable for in-range calls; an out-of-range leaf hashes as empty.
            return self.leaf(start).unwrap_or_else(empty_root);
        }
        let k = split_point(size);
        hash_children(&self.subtree(start, k), &self.subtree(start + k, size - k))
    }

    /// The root of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        self.check_size(size)?;
        Ok(if size == 0 {
            empty_root()
        } else {
            self.subtree(0, size)
        })
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.root_at(self.len()).unwrap_or_else(|_| empty_root())
    }

    fn check_size(&self, size: u64) -> Result<()> {
        if size > self.len() {
            return Err(Error::OutOfRange {
                what: "tree size",
                value: size,
                size: self.len(),
            });
        }
        Ok(())
    }

    /// The audit path of leaf `index` in the tree of the first `size` leaves (RFC 6962
    /// §2.1.1), bottom-up.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        self.check_size(size)?;
        if index >= size {
            return Err(Error::OutOfRange {
                what: "leaf index",
                value: index,
                size,
            });
        }
        let mut path = Vec::new();
        let (mut start, mut n, mut m) = (0u64, size, index);
        while n > 1 {
            let k = split_point(n);
            if m < k {
                path.push(self.subtree(start + k, n - k));
                n = k;
            } else {
                path.push(self.subtree(start, k));
                start += k;
                m -= k;
                n -= k;
            }
        }
        path.reverse();
        Ok(path)
    }

    /// The consistency proof between tree sizes `old` and `new` (RFC 6962 §2.1.2).
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        self.check_size(new)?;
        if old > new {
            return Err(Error::OutOfRange {
                what: "old tree size",
                value: old,
                size: new,
            });
        }
        let mut proof = Vec::new();
        if old == 0 || old == new {
            return Ok(proof);
        }
        // SUBPROOF(m, D[start..start+n], b), unrolled.
        let (mut start, mut n, mut m, mut complete) = (0u64, new, old, true);
        while m != n {
            let k = split_point(n);
            if m <= k {
                proof.push(self.subtree(start + k, n - k));
                n = k;
            } else {
                proof.push(self.subtree(start, k));
                start += k;
                n -= k;
                m -= k;
                complete = false;
            }
        }
        if !complete {
            proof.push(self.subtree(start, n));
        }
        proof.reverse();
        Ok(proof)
    }
}

/// Verifies an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<()> {
    let bad = |reason| Error::ProofInvalid {
        kind: "inclusion",
        reason,
    };
    if index >= size {
        return Err(bad("leaf index is not below the tree size"));
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(bad("proof is longer than the tree is deep"));
        }
        if f & 1 == 1 || f == s {
            r = hash_children(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = hash_children(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(bad("proof is shorter than the tree is deep"));
    }
    if r != *root {
        return Err(bad("recomputed root differs"));
    }
    Ok(())
}

/// Verifies a consistency proof between `(old, old_root)` and `(new, new_root)` (RFC 9162
/// §2.1.4.2).
pub fn verify_consistency(
    old: u64,
    new: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<()> {
    let bad = |reason| Error::ProofInvalid {
        kind: "consistency",
        reason,
    };
    if old > new {
        return Err(bad("old size is larger than new size"));
    }
    if old == new {
        return if proof.is_empty() && old_root == new_root {
            Ok(())
        } else {
            Err(bad("equal sizes need an empty proof and equal roots"))
        };
    }
    if old == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(bad("a proof from the empty tree must be empty"))
        };
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(bad("empty proof"));
    };
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return Err(bad("proof is too long"));
        }
        if f & 1 == 1 || f == s {
            fr = hash_children(c, &fr);
            sr = hash_children(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = hash_children(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(bad("proof is too short"));
    }
    if fr != *old_root {
        return Err(bad("recomputed old root differs"));
    }
    if sr != *new_root {
        return Err(bad("recomputed new root differs"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Known answers from transparency-dev/merkle (`testonly/constants.go` and
    //! `testonly/reference_test.go`, commit e739733c8ca2b89cfc49f35b161e81e16b5957d7), the
    //! same vectors rozbb/ct-merkle checks in `tests/known_answer.rs`.
    use super::*;

    const LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    const ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];
    // (size, index, proof) from ct-merkle's INCLUSION_VECS.
    const INCLUSION: [(u64, u64, &[&str]); 7] = [
        (1, 0, &[]),
        (
            2,
            0,
            &["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"],
        ),
        (
            2,
            1,
            &["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"],
        ),
        (
            3,
            2,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            5,
            1,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            8,
            0,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            8,
            5,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    // (old, new, proof) from ct-merkle's CONSISTENCY_VECS.
    const CONSISTENCY: [(u64, u64, &[&str]); 4] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];

    fn kat_tree() -> MerkleTree {
        MerkleTree::from_leaf_hashes(LEAVES.iter().map(|l| hash_leaf(&hex::decode(l).unwrap())))
    }

    fn hx(v: &[Hash]) -> Vec<String> {
        v.iter().map(hex::encode).collect()
    }

    #[test]
    fn roots_match_known_answers() {
        let t = kat_tree();
        for (size, want) in ROOTS.iter().enumerate() {
            assert_eq!(
                hex::encode(t.root_at(size as u64).unwrap()),
                *want,
                "size {size}"
            );
            // Incremental construction agrees with the prefix root.
            let prefix = MerkleTree::from_leaf_hashes((0..size as u64).map(|i| t.leaf(i).unwrap()));
            assert_eq!(hex::encode(prefix.root()), *want);
        }
    }

    #[test]
    fn inclusion_proofs_match_known_answers() {
        let t = kat_tree();
        for (size, index, want) in INCLUSION {
            let proof = t.inclusion_proof(index, size).unwrap();
            assert_eq!(hx(&proof), want, "size {size} index {index}");
            let root = t.root_at(size).unwrap();
            verify_inclusion(&t.leaf(index).unwrap(), index, size, &proof, &root).unwrap();
        }
    }

    #[test]
    fn consistency_proofs_match_known_answers() {
        let t = kat_tree();
        for (old, new, want) in CONSISTENCY {
            let proof = t.consistency_proof(old, new).unwrap();
            assert_eq!(hx(&proof), want, "{old} -> {new}");
            let (r1, r2) = (t.root_at(old).unwrap(), t.root_at(new).unwrap());
            verify_consistency(old, new, &proof, &r1, &r2).unwrap();
        }
    }

    #[test]
    fn every_proof_verifies_and_tampered_ones_do_not() {
        let t = MerkleTree::from_leaf_hashes((0u32..40).map(|i| hash_leaf(&i.to_be_bytes())));
        for size in 1..=40u64 {
            let root = t.root_at(size).unwrap();
            for index in 0..size {
                let proof = t.inclusion_proof(index, size).unwrap();
                let leaf = t.leaf(index).unwrap();
                verify_inclusion(&leaf, index, size, &proof, &root).unwrap();
                let wrong = hash_leaf(b"forged");
                assert!(matches!(
                    verify_inclusion(&wrong, index, size, &proof, &root),
                    Err(Error::ProofInvalid {
                        kind: "inclusion",
                        ..
                    })
                ));
            }
            for old in 0..=size {
                let proof = t.consistency_proof(old, size).unwrap();
                let old_root = t.root_at(old).unwrap();
                verify_consistency(old, size, &proof, &old_root, &root).unwrap();
                if old > 0 && old < size {
                    assert!(matches!(
                        verify_consistency(old, size, &proof, &hash_leaf(b"x"), &root),
                        Err(Error::ProofInvalid {
                            kind: "consistency",
                            ..
                        })
                    ));
                }
            }
        }
    }

    #[test]
    fn out_of_range_is_typed() {
        let t = kat_tree();
        assert!(matches!(
            t.inclusion_proof(8, 8),
            Err(Error::OutOfRange {
                what: "leaf index",
                ..
            })
        ));
        assert!(matches!(
            t.root_at(9),
            Err(Error::OutOfRange {
                what: "tree size",
                ..
            })
        ));
        assert!(matches!(
            t.consistency_proof(5, 4),
            Err(Error::OutOfRange { .. })
        ));
    }

    #[test]
    fn truncate_restores_earlier_state() {
        let mut t = kat_tree();
        let r5 = t.root_at(5).unwrap();
        t.truncate(5);
        assert_eq!(t.len(), 5);
        assert_eq!(t.root(), r5);
        t.push(hash_leaf(&hex::decode(LEAVES[5]).unwrap()));
        assert_eq!(hex::encode(t.root()), ROOTS[6]);
    }

    proptest::proptest! {
        #[test]
        fn proofs_verify_for_random_shapes(n in 1u64..300, seed in 0u64..1000) {
            let t = MerkleTree::from_leaf_hashes((0..n).map(|i| hash_leaf(&(i ^ seed).to_le_bytes())));
            let index = seed % n;
            let old = seed % (n + 1);
            let proof = t.inclusion_proof(index, n).unwrap();
            verify_inclusion(&t.leaf(index).unwrap(), index, n, &proof, &t.root()).unwrap();
            let c = t.consistency_proof(old, n).unwrap();
            verify_consistency(old, n, &c, &t.root_at(old).unwrap(), &t.root()).unwrap();
        }
    }
}
