//! DSSE verification throughput against ring's bare signature verification on the same key,
//! and statement parse time.

#![allow(missing_docs)] // criterion_group! generates undocumented items
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // benchmark setup on known-good data

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use leo_artifact::Sha256Digest;
use leo_attest::{
    DsseSigner, Envelope, KeySet, PAYLOAD_TYPE, PublicKey, ResourceDescriptor, SigningKey,
    Statement, pae,
};
use ring::signature::{self, UnparsedPublicKey};

fn statement(subjects: usize) -> Vec<u8> {
    let subject = (0..subjects)
        .map(|i| {
            ResourceDescriptor::sha256(
                format!("file-{i}.tar.gz"),
                &Sha256Digest::of(&i.to_le_bytes()),
            )
        })
        .collect();
    Statement::new(
        subject,
        leo_attest::PROVENANCE_V0_2,
        serde_json::json!({
            "builder": {"id": "https://example.invalid/builder"},
            "buildType": "https://example.invalid/type",
            "invocation": {"parameters": {"base": "a", "head": "b", "mergeBase": "c"}},
            "materials": [{"uri": "git+https://example.invalid/repo@c", "digest": {"gitCommit": "c"}}],
        }),
    )
    .to_json()
}

fn bench_verify(c: &mut Criterion) {
    let payload = statement(1);
    let mut group = c.benchmark_group("dsse_verify_small");
    group.throughput(Throughput::Elements(1));
    for (label, key, ring_alg) in [
        (
            "ed25519",
            SigningKey::generate_ed25519().unwrap().0,
            &signature::ED25519 as &dyn signature::VerificationAlgorithm,
        ),
        (
            "p256",
            SigningKey::generate_ecdsa_p256().unwrap().0,
            &signature::ECDSA_P256_SHA256_ASN1,
        ),
    ] {
        let env = Envelope::sign(PAYLOAD_TYPE, &payload, &[&key as &dyn DsseSigner]).unwrap();
        let json = env.to_json();
        let pae_bytes = pae(PAYLOAD_TYPE, &payload);
        let sig = env.signatures[0].sig.clone();
        let public: PublicKey = key.public_key().clone();
        let raw = public.raw().to_vec();
        let keys = KeySet::from_iter([public]);
        group.bench_function(BenchmarkId::new("ring_bare_verify", label), |b| {
            b.iter(|| {
                UnparsedPublicKey::new(ring_alg, &raw)
                    .verify(&pae_bytes, &sig)
                    .unwrap()
            })
        });
        group.bench_function(BenchmarkId::new("keyset_verify_parsed", label), |b| {
            b.iter(|| keys.verify(&env, 1).unwrap())
        });
        group.bench_function(BenchmarkId::new("keyset_verify_json", label), |b| {
            b.iter(|| keys.verify_json(&json, 1).unwrap())
        });
    }
    group.finish();
}

fn bench_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("statement_parse");
    for subjects in [1usize, 100, 1000] {
        let bytes = statement(subjects);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(BenchmarkId::from_parameter(subjects), |b| {
            b.iter(|| Statement::from_json(&bytes).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_verify, bench_parse);
criterion_main!(benches);
