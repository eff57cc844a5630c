//! Inclusion proof generation + verification at 1,000,000 records (target ≤ 50 µs), and
//! consistency proofs between two large sizes.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use criterion::{Criterion, criterion_group, criterion_main};
use leo_store::merkle::{MerkleTree, hash_leaf, verify_consistency, verify_inclusion};

const N: u64 = 1_000_000;

fn proofs(c: &mut Criterion) {
    let tree = MerkleTree::from_leaf_hashes((0..N).map(|i| hash_leaf(&i.to_le_bytes())));
    let root = tree.root();
    let mut i = 0u64;
    c.bench_function("inclusion_proof_1m_generate_and_verify", |b| {
        b.iter(|| {
            i = (i + 7919) % N;
            let p = tree.inclusion_proof(i, N).unwrap();
            verify_inclusion(&tree.leaf(i).unwrap(), i, N, &p, &root).unwrap();
        })
    });
    let old = 765_433;
    let old_root = tree.root_at(old).unwrap();
    c.bench_function("consistency_proof_1m_generate_and_verify", |b| {
        b.iter(|| {
            let p = tree.consistency_proof(old, N).unwrap();
            verify_consistency(old, N, &p, &old_root, &root).unwrap();
        })
    });
}

criterion_group!(benches, proofs);
criterion_main!(benches);
