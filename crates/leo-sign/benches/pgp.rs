//! Sign and verify throughput of LEO's OpenPGP backend against `gpg` on the same files with
//! the same Ed25519 key and SHA-256 (1 MiB and 256 MiB). Both read the input from a file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use leo_sign::{KeySpec, PgpAlgorithm, PgpKey, PgpVerifier, Signer, Verifier, VerifyOptions};

const SIZES: [(u64, &str); 2] = [(1 << 20, "1MiB"), (256 << 20, "256MiB")];

fn write_input(dir: &Path, size: u64) -> PathBuf {
    let path = dir.join(format!("input-{size}"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let block: Vec<u8> = (0..1 << 16)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let mut left = size;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        f.write_all(&block[..n]).unwrap();
        left -= n as u64;
    }
    f.flush().unwrap();
    path
}

struct Gpg(tempfile::TempDir);

impl Gpg {
    fn with_key(key: &PgpKey) -> Option<Self> {
        let ok = Command::new("gpg")
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("gpg not found: benchmarking LEO only");
            return None;
        }
        let home = tempfile::tempdir().unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let secret = home.path().join("secret.asc");
        std::fs::write(&secret, key.to_armored_secret().unwrap()).unwrap();
        let g = Self(home);
        assert!(
            g.cmd()
                .arg("--import")
                .arg(&secret)
                .status()
                .unwrap()
                .success()
        );
        Some(g)
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("gpg");
        c.arg("--homedir").arg(self.0.path()).args([
            "--batch",
            "--yes",
            "--quiet",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ]);
        c.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        c
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(self.0.path())
            .args(["--kill", "gpg-agent"])
            .status();
    }
}

fn open(path: &Path) -> std::io::BufReader<std::fs::File> {
    std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(path).unwrap())
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let key = PgpKey::generate(&KeySpec::new(
        PgpAlgorithm::Ed25519,
        "Bench",
        "bench@leo.example",
    ))
    .unwrap();
    let verifier = PgpVerifier::new(vec![key.public()]);
    let gpg = Gpg::with_key(&key);
    let fpr = key.fingerprint().to_string();

    for (size, label) in SIZES {
        let input = write_input(dir.path(), size);
        let sig = key.sign(&mut open(&input)).unwrap();
        let sig_path = dir.path().join(format!("{label}.asc"));
        std::fs::write(&sig_path, &sig.signature.bytes).unwrap();

        let mut group = c.benchmark_group(format!("pgp/{label}"));
        group.throughput(Throughput::Bytes(size));
        if size > 1 << 20 {
            group.sample_size(10).sampling_mode(SamplingMode::Flat);
        }
        group.bench_function(BenchmarkId::new("sign", "leo"), |b| {
            b.iter(|| key.sign(&mut open(&input)).unwrap())
        });
        group.bench_function(BenchmarkId::new("verify", "leo"), |b| {
            b.iter(|| {
                verifier
                    .verify(&mut open(&input), &sig.signature, &VerifyOptions::now())
                    .unwrap()
            })
        });
        if let Some(gpg) = &gpg {
            let out = dir.path().join("gpg.asc");
            group.bench_function(BenchmarkId::new("sign", "gpg"), |b| {
                b.iter(|| {
                    let st = gpg
                        .cmd()
                        .args([
                            "--digest-algo",
                            "SHA256",
                            "--local-user",
                            &fpr,
                            "--detach-sign",
                            "--armor",
                            "--output",
                        ])
                        .arg(&out)
                        .arg(&input)
                        .status()
                        .unwrap();
                    assert!(st.success());
                })
            });
            group.bench_function(BenchmarkId::new("verify", "gpg"), |b| {
                b.iter(|| {
                    let st = gpg
                        .cmd()
                        .arg("--verify")
                        .arg(&sig_path)
                        .arg(&input)
                        .status()
                        .unwrap();
                    assert!(st.success());
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
