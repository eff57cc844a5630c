//! Sigstore bundle verifications per second.
//!
//! - `bundle/*`: the full offline pipeline (`sigstore-verify`: chain, SCT, SET, inclusion
//!   proof, checkpoint, signature, log-entry consistency) on the conformance
//!   `happy-path-v0.3` bundle, by file (38 bytes) and by digest: the fixed cost per bundle.
//! - `keyed/*`: LEO-signed keyed bundles for 1 KiB and 256 MiB artifacts (hash + ECDSA): for
//!   large files verification must cost what hashing costs.
//! - `sha256/*`: the hashing baselines (ring through leo-artifact, aws-lc through
//!   sigstore-crypto) for the same sizes.

#![allow(missing_docs)] // criterion_group! generates undocumented items
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use leo_sign::sigstore::{
    ArtifactInput, CosignKeyPair, KeyPolicy, KeyedSigner, SigstoreBundle, SigstorePolicy,
    SigstoreVerifier, TrustRoot,
};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const SIZES: [usize; 2] = [1024, 256 * 1024 * 1024];

fn full_pipeline(c: &mut Criterion) {
    let Some(base) = leo_testkit::vector("sigstore/conformance") else {
        return;
    };
    let case = base.join("bundle-verify/happy-path-v0.3");
    let root = TrustRoot::from_file(&base.join("production_trusted_root.json")).unwrap();
    let verifier = SigstoreVerifier::new(root, SigstorePolicy::identity(IDENTITY, ISSUER));
    let bundle_path = case.join("bundle.sigstore.json");
    let artifact = base.join("bundle-verify/a.txt");
    let digest = ArtifactInput::Digest(leo_artifact::hash_file(&artifact).unwrap().0);
    let file = ArtifactInput::File(artifact);

    let mut group = c.benchmark_group("bundle");
    group.bench_function("happy-path-v0.3/file", |b| {
        b.iter(|| {
            let bundle = SigstoreBundle::from_file(&bundle_path).unwrap();
            verifier.verify_input(&bundle, &file).unwrap()
        });
    });
    group.bench_function("happy-path-v0.3/digest", |b| {
        b.iter(|| {
            let bundle = SigstoreBundle::from_file(&bundle_path).unwrap();
            verifier.verify_input(&bundle, &digest).unwrap()
        });
    });
    group.bench_function("trust-root-load", |b| {
        b.iter(|| TrustRoot::from_file(&base.join("production_trusted_root.json")).unwrap());
    });
    group.finish();
}

fn keyed_and_hashing(c: &mut Criterion) {
    let key = CosignKeyPair::generate().unwrap();
    let policy = KeyPolicy::from_pem(&key.public_key_pem())
        .unwrap()
        .allow_offline();
    let verifier = SigstoreVerifier::new(
        TrustRoot::embedded_production().unwrap(),
        SigstorePolicy::key(policy),
    );
    let signer = KeyedSigner::new(key);
    let mut keyed = c.benchmark_group("keyed");
    let mut inputs = Vec::new();
    for size in SIZES {
        let data: Vec<u8> = (0..size).map(|i| (i * 31 + 7) as u8).collect();
        let bundle = signer.sign_reader(data.as_slice()).unwrap();
        keyed.throughput(Throughput::Bytes(size as u64));
        keyed.bench_with_input(BenchmarkId::new("verify", size), &data, |b, d| {
            b.iter(|| verifier.verify_reader(&bundle, d.as_slice()).unwrap());
        });
        inputs.push(data);
    }
    keyed.finish();

    let mut hashing = c.benchmark_group("sha256");
    for data in &inputs {
        hashing.throughput(Throughput::Bytes(data.len() as u64));
        hashing.bench_with_input(BenchmarkId::new("ring-stream", data.len()), data, |b, d| {
            b.iter(|| leo_artifact::hash_reader(d.as_slice()).unwrap());
        });
        hashing.bench_with_input(
            BenchmarkId::new("aws-lc-stream", data.len()),
            data,
            |b, d| {
                b.iter(|| sigstore_verify::crypto::sha256_reader(d.as_slice()).unwrap());
            },
        );
    }
    hashing.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = full_pipeline, keyed_and_hashing
}
criterion_main!(benches);
