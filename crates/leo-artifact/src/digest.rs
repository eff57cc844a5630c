//! SHA-256 digests: the [`Sha256Digest`] newtype and streaming hashing of readers and files.
//!
//! Hashing is the hot path of bundle creation and verification. The implementation is
//! `ring::digest` (BoringSSL's assembly, SHA-NI where the CPU has it); `benches/hash.rs`
//! measures it against `sha2` and `docs/PERFORMANCE.md` records why it was chosen.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::str::FromStr;

use subtle::ConstantTimeEq;

use crate::error::{Error, Result, snippet};

/// The largest read buffer the streaming hashers grow to: large enough that the per-call
/// overhead vanishes, small enough to stay in L2.
pub const HASH_BUFFER_SIZE: usize = 256 * 1024;

/// A SHA-256 digest. Displays and parses as 64 lowercase hex characters; compares in
/// constant time.
#[derive(Clone, Copy)]
pub struct Sha256Digest([u8; 32]);

impl Sha256Digest {
    /// Wraps raw digest bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Sha256Digest(bytes)
    }

    /// The raw digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Hashes a byte slice.
    pub fn of(data: &[u8]) -> Self {
        let mut h = Sha256Hasher::new();
        h.update(data);
        h.finish()
    }

    /// Parses `sha256:<hex>` (the OCI / Sigstore form).
    pub fn parse_prefixed(input: &str) -> Result<Self> {
        match input.strip_prefix("sha256:") {
            Some(hex) => hex.parse(),
            None => Err(Error::InvalidDigest {
                input: snippet(input),
                reason: "expected the prefix `sha256:`",
            }),
        }
    }

    /// The digest as `sha256:<hex>`.
    pub fn to_prefixed(&self) -> String {
        format!("sha256:{self}")
    }
}

impl PartialEq for Sha256Digest {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Sha256Digest {}

impl std::hash::Hash for Sha256Digest {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl PartialOrd for Sha256Digest {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Sha256Digest {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 64];
        // Cannot fail: the buffer is exactly twice the input length.
        if hex::encode_to_slice(self.0, &mut buf).is_err() {
            return Err(fmt::Error);
        }
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({self})")
    }
}

impl FromStr for Sha256Digest {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidDigest {
            input: snippet(s),
            reason,
        };
        if s.len() != 64 {
            return Err(invalid("expected exactly 64 hex characters"));
        }
        if !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(invalid("expected lowercase hex characters only"));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| invalid("not hex"))?;
        Ok(Sha256Digest(out))
    }
}

impl serde::Serialize for Sha256Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Sha256Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An incremental SHA-256 hasher.
#[derive(Clone)]
pub struct Sha256Hasher(ring::digest::Context);

impl Default for Sha256Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Sha256Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sha256Hasher")
    }
}

impl Sha256Hasher {
    /// A fresh hasher.
    pub fn new() -> Self {
        Sha256Hasher(ring::digest::Context::new(&ring::digest::SHA256))
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// Finishes and returns the digest.
    pub fn finish(self) -> Sha256Digest {
        let d = self.0.finish();
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Sha256Digest(out)
    }
}

impl io::Write for Sha256Hasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Hashes everything a reader yields; returns the digest and the number of bytes read.
///
/// `progress` is called after each buffer with the running byte count.
pub fn hash_reader_with_progress<R: Read>(
    mut reader: R,
    mut progress: impl FnMut(u64),
) -> io::Result<(Sha256Digest, u64)> {
    let mut hasher = Sha256Hasher::new();
    // Start small so hashing a short input does not pay for zeroing a large buffer; double
    // while reads fill it, up to HASH_BUFFER_SIZE.
    let mut buf = vec![0u8; 8 * 1024];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(buf.get(..n).unwrap_or_default());
        total += n as u64;
        progress(total);
        if n == buf.len() && buf.len() < HASH_BUFFER_SIZE {
            buf.resize(buf.len() * 2, 0);
        }
    }
    Ok((hasher.finish(), total))
}

/// Hashes everything a reader yields; returns the digest and the number of bytes read.
pub fn hash_reader<R: Read>(reader: R) -> io::Result<(Sha256Digest, u64)> {
    hash_reader_with_progress(reader, |_| {})
}

/// Hashes a file by streaming it (never loads it whole).
pub fn hash_file(path: &Path) -> Result<(Sha256Digest, u64)> {
    let file = File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    hash_reader(file).map_err(|e| Error::io(format!("reading {}", path.display()), e))
}

/// A reader adapter that hashes what passes through it.
#[derive(Debug)]
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256Hasher,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps a reader.
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256Hasher::new(),
            count: 0,
        }
    }

    /// Bytes read so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Digest of the bytes read so far, and the inner reader.
    pub fn finish(self) -> (Sha256Digest, u64, R) {
        (self.hasher.finish(), self.count, self.inner)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or_default());
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        assert_eq!(
            Sha256Digest::of(b"").to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            Sha256Digest::of(b"abc").to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn streaming_equals_one_shot() {
        let data: Vec<u8> = (0..(HASH_BUFFER_SIZE * 2 + 17)).map(|i| i as u8).collect();
        let (d, n) = hash_reader(&data[..]).unwrap();
        assert_eq!(n, data.len() as u64);
        assert_eq!(d, Sha256Digest::of(&data));
    }

    #[test]
    fn parse_rejects_uppercase_and_wrong_length() {
        let good = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert!(good.parse::<Sha256Digest>().is_ok());
        assert!(matches!(
            good.to_uppercase().parse::<Sha256Digest>(),
            Err(Error::InvalidDigest { reason, .. }) if reason.contains("lowercase")
        ));
        assert!(matches!(
            good[..63].parse::<Sha256Digest>(),
            Err(Error::InvalidDigest { reason, .. }) if reason.contains("64")
        ));
        assert!(matches!(
            Sha256Digest::parse_prefixed(good),
            Err(Error::InvalidDigest { .. })
        ));
        assert_eq!(
            Sha256Digest::parse_prefixed(&format!("sha256:{good}"))
                .unwrap()
                .to_string(),
            good
        );
    }

    proptest::proptest! {
        #[test]
        fn display_parse_round_trip(bytes in proptest::array::uniform32(proptest::num::u8::ANY)) {
            let d = Sha256Digest::from_bytes(bytes);
            let back: Sha256Digest = d.to_string().parse().unwrap();
            proptest::prop_assert_eq!(d, back);
        }

        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = s.parse::<Sha256Digest>();
        }
    }
}
