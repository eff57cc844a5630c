//! Create and verify a bundle with a 10 MiB patch, against hashing the same bytes once (the
//! floor any verifier must pay) and against inflating the archive alone. Two inputs: source-like
//! text (compresses about 4:1) and incompressible bytes (the archive is then 10 MiB too).

#![allow(missing_docs)] // the criterion macros generate undocumented items
#![allow(clippy::expect_used)] // bench setup failing is a bug in the bench: stop loudly

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leo::artifact::{BundleInput, ReadLimits, Revisions, Sha256Digest, read_bundle};

/// A 10 MiB patch that compresses like real source code does, not like zeros.
fn source_like() -> Vec<u8> {
    let mut out = Vec::with_capacity(10 * 1024 * 1024);
    let mut i: u64 = 0;
    while out.len() < 10 * 1024 * 1024 {
        i = i
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let line = format!(
            "+    let value_{} = compute({}, {:x});\n",
            i % 997,
            i % 10007,
            i >> 40
        );
        out.extend_from_slice(line.as_bytes());
    }
    out.truncate(10 * 1024 * 1024);
    out
}

/// 10 MiB that gzip cannot shrink (xorshift output).
fn incompressible() -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..10 * 1024 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn input(patch: Vec<u8>) -> BundleInput {
    let sha = |c: char| c.to_string().repeat(40).parse().expect("sha");
    BundleInput {
        revisions: Revisions {
            base: sha('a'),
            head: sha('b'),
            merge_base: sha('c'),
        },
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        patch,
        sbom: vec![b'{'; 20_000],
        attestation: vec![b'{'; 5_000],
        rollback: b"# Rollback\n".to_vec(),
    }
}

fn bundle(c: &mut Criterion) {
    for (label, patch) in [
        ("source-like", source_like()),
        ("incompressible", incompressible()),
    ] {
        let input = input(patch);
        let mut archive = Vec::new();
        input.write(&mut archive).expect("write");
        let mut group = c.benchmark_group(format!("bundle-10MiB-{label}"));
        group.sample_size(20);
        group.throughput(Throughput::Bytes(input.patch.len() as u64));
        group.bench_function("create", |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(archive.len());
                input.write(&mut out).expect("write")
            })
        });
        group.bench_function("verify", |b| {
            b.iter(|| read_bundle(archive.as_slice(), &ReadLimits::default()).expect("verify"))
        });
        group.bench_function("hash-archive-once", |b| {
            b.iter(|| Sha256Digest::of(&archive))
        });
        group.bench_function("hash-patch-once", |b| {
            b.iter(|| Sha256Digest::of(&input.patch))
        });
        group.bench_function("inflate-only", |b| {
            b.iter(|| {
                let mut d = flate2::read::GzDecoder::new(archive.as_slice());
                std::io::copy(&mut d, &mut std::io::sink()).expect("inflate")
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bundle);
criterion_main!(benches);
