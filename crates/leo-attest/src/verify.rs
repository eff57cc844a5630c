//! DSSE verification against an explicit set of trusted keys.
//!
//! `keyid` is only an unauthenticated hint: every trusted key is tried for every signature
//! (the hinted key first, which is the fast path). A threshold counts *distinct* trusted keys,
//! so one key signing twice counts once. The result hands back exactly the payload bytes whose
//! PAE was verified: callers must parse those bytes and nothing else.

use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::keys::{KeyId, PublicKey};

/// The keys a verifier trusts.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: Vec<PublicKey>,
}

/// What a successful verification proved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedEnvelope {
    /// The envelope's `payloadType` (bound by the signatures).
    pub payload_type: String,
    /// Exactly the payload bytes that were verified.
    pub payload: Vec<u8>,
    /// The ids of the distinct trusted keys that produced a valid signature, in key-set order.
    pub key_ids: Vec<KeyId>,
}

impl KeySet {
    /// An empty key set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a trusted key.
    pub fn add(&mut self, key: PublicKey) -> &mut Self {
        self.keys.push(key);
        self
    }

    /// The trusted keys.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    /// Verifies the envelope: at least `threshold` distinct trusted keys must have signed its
    /// PAE. Signatures by unknown keys are ignored (they neither help nor fail).
    pub fn verify(&self, envelope: &Envelope, threshold: usize) -> Result<VerifiedEnvelope> {
        if threshold == 0 || threshold > self.keys.len() {
            return Err(Error::InvalidThreshold {
                threshold,
                keys: self.keys.len(),
            });
        }
        if envelope.signatures.is_empty() {
            return Err(Error::NoSignatures);
        }
        let pae = envelope.pae();
        let mut verified = vec![false; self.keys.len()];
        for signature in &envelope.signatures {
            let hinted = signature.keyid.as_deref();
            let order = self
                .keys
                .iter()
                .enumerate()
                .filter(|(_, k)| Some(k.key_id().as_str()) == hinted)
                .chain(
                    self.keys
                        .iter()
                        .enumerate()
                        .filter(|(_, k)| Some(k.key_id().as_str()) != hinted),
                );
            for (i, key) in order {
                let already = verified.get(i).copied().unwrap_or(true);
                if !already && key.verify(&pae, &signature.sig) {
                    if let Some(slot) = verified.get_mut(i) {
                        *slot = true;
                    }
                    break;
                }
            }
        }
        let key_ids: Vec<KeyId> = self
            .keys
            .iter()
            .zip(&verified)
            .filter(|(_, ok)| **ok)
            .map(|(k, _)| k.key_id().clone())
            .collect();
        if key_ids.len() < threshold {
            return Err(Error::ThresholdNotMet {
                required: threshold,
                verified: key_ids.len(),
            });
        }
        Ok(VerifiedEnvelope {
            payload_type: envelope.payload_type.clone(),
            payload: envelope.payload.clone(),
            key_ids,
        })
    }

    /// Parses and verifies an envelope in one step.
    pub fn verify_json(&self, envelope_json: &[u8], threshold: usize) -> Result<VerifiedEnvelope> {
        self.verify(&Envelope::from_json(envelope_json)?, threshold)
    }
}

impl FromIterator<PublicKey> for KeySet {
    fn from_iter<I: IntoIterator<Item = PublicKey>>(iter: I) -> Self {
        KeySet {
            keys: iter.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signer::{DsseSigner, SigningKey};

    #[test]
    fn threshold_counts_distinct_keys() {
        let (a, _) = SigningKey::generate_ed25519().unwrap();
        let (b, _) = SigningKey::generate_ecdsa_p256().unwrap();
        let keys: KeySet = [a.public_key().clone(), b.public_key().clone()]
            .into_iter()
            .collect();
        let twice_a = Envelope::sign("t", b"p", &[&a as &dyn DsseSigner, &a]).unwrap();
        assert!(matches!(
            keys.verify(&twice_a, 2),
            Err(Error::ThresholdNotMet {
                required: 2,
                verified: 1
            })
        ));
        let both = Envelope::sign("t", b"p", &[&a as &dyn DsseSigner, &b]).unwrap();
        let ok = keys.verify(&both, 2).unwrap();
        assert_eq!(ok.key_ids.len(), 2);
        assert_eq!(ok.payload, b"p");
        assert!(matches!(
            keys.verify(&both, 3),
            Err(Error::InvalidThreshold {
                threshold: 3,
                keys: 2
            })
        ));
    }
}
