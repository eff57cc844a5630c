//! SHA-256 throughput: `ring::digest` (what leo-artifact uses) against `sha2`, at 1 KiB, 1 MiB
//! and 256 MiB. Both use the CPU's SHA extensions when present.

#![allow(missing_docs)] // criterion_group! generates undocumented items
#![allow(clippy::expect_used)] // bench setup failing is a bug in the bench: stop loudly

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sha2::Digest;

fn hashing(c: &mut Criterion) {
    let mut group = c.benchmark_group("sha256");
    for size in [1024usize, 1024 * 1024, 256 * 1024 * 1024] {
        let data: Vec<u8> = (0..size).map(|i| (i * 31 + 7) as u8).collect();
        group.throughput(Throughput::Bytes(size as u64));
        if size >= 1024 * 1024 * 64 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::new("leo(ring)", size), &data, |b, d| {
            b.iter(|| leo::artifact::Sha256Digest::of(d))
        });
        group.bench_with_input(BenchmarkId::new("ring", size), &data, |b, d| {
            b.iter(|| ring::digest::digest(&ring::digest::SHA256, d))
        });
        group.bench_with_input(BenchmarkId::new("sha2", size), &data, |b, d| {
            b.iter(|| sha2::Sha256::digest(d))
        });
        group.bench_with_input(
            BenchmarkId::new("leo-streaming(ring)", size),
            &data,
            |b, d| b.iter(|| leo::artifact::hash_reader(d.as_slice())),
        );
    }
    group.finish();
}

criterion_group!(benches, hashing);
criterion_main!(benches);
