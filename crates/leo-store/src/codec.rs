//! How records become database columns and Merkle leaves, and back.
//!
//! The leaf is derived from the *columns*, so any edit of a stored row changes the leaf that
//! `leo audit verify` recomputes.

use leo_artifact::{CommitSha, PlanVerdict, Sha256Digest};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::merkle::{Hash, hash_leaf};
use crate::record::{
    ApprovalDecision, ArtifactSignature, Confidence, EventId, Fingerprint, GateExecution,
    HandoffEvent, LabelTransition, PolicyEvaluation, PrNumber, PublicKeyMaterial, Record,
    RecordKind, Refusal, ScoredVerdict, SigningKeyRecord, Text, Timestamp, ValidityWindow,
    VerificationInput, VerificationResult,
};
use crate::role::{Action, Role};

/// Domain prefix of a version 1 leaf (canonical JSON of the typed event), so a LEO leaf can
/// never be mistaken for another log's, nor for a version 2 leaf.
pub const LEAF_PREFIX_V1: &[u8] = b"leo-audit-leaf-v1\n";

/// Domain prefix of a version 2 leaf (length-prefixed binary encoding of the stored columns).
pub const LEAF_PREFIX_V2: &[u8] = b"leo-audit-leaf-v2\n";

/// Initial capacity of a version 1 leaf buffer (a typical leaf is 300 to 500 bytes).
const LEAF_CAPACITY: usize = 512;

/// Version 2 column tag: SQL `NULL` (of any type).
const TAG_NULL: u8 = 0x00;
/// Version 2 column tag: an integer, then its `i64` big-endian.
const TAG_INT: u8 = 0x01;
/// Version 2 column tag: UTF-8 text, then its `u32` big-endian length and bytes.
const TAG_TEXT: u8 = 0x02;
/// Version 2 column tag: a blob, then its `u32` big-endian length and bytes.
const TAG_BLOB: u8 = 0x03;

/// Bytes of a version 2 length prefix.
const LEN_BYTES: usize = 4;

/// An event as a client submits it: the idempotency key, the matrix action it is filed
/// under, when it happened, and the record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event<R = Record> {
    /// Client event id (UNIQUE: a retried append is recognised, never duplicated).
    pub id: EventId,
    /// The SOP §5 action this record is filed under.
    pub action: Action,
    /// When the event happened (client clock; part of the leaf, so retries must reuse it).
    pub recorded_at: Timestamp,
    /// The record.
    pub record: R,
}

impl<R: Into<Record>> Event<R> {
    /// An event.
    pub fn new(id: EventId, action: Action, recorded_at: Timestamp, record: R) -> Self {
        Event {
            id,
            action,
            recorded_at,
            record,
        }
    }

    /// Erases the record's type.
    pub fn into_any(self) -> Event {
        Event {
            id: self.id,
            action: self.action,
            recorded_at: self.recorded_at,
            record: self.record.into(),
        }
    }
}

/// A stored log entry: the event, who appended it, and its place in chain and tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Position in the log (0-based; also the Merkle leaf index).
    pub seq: u64,
    /// The role that appended it.
    pub actor: Role,
    /// The event.
    pub event: Event,
    /// Stored RFC 6962 leaf hash.
    pub leaf_hash: Hash,
    /// Stored chain hash: `SHA-256(previous chain ‖ leaf hash)`.
    pub chain_hash: Hash,
}

/// Everything a version 2 leaf commits to, borrowed: the log row's stored fields and the
/// record row's stored columns (in [`column_names`] order), exactly as the database holds
/// them, so an edit that decodes to the same typed value still changes the leaf.
///
/// ```
/// use leo_store::codec::{LeafFields, Value};
///
/// let columns = [Value::Int(Some(7)), Value::Text(None)];
/// let fields = LeafFields {
///     seq: 0,
///     event_id: "e-1",
///     kind: "approval",
///     actor: "LEAD",
///     action: "ESCALATION_REVIEW",
///     recorded_at: 1_767_225_600_000_000,
///     columns: &columns,
/// };
/// let d = fields.data()?;
/// assert!(d.starts_with(leo_store::codec::LEAF_PREFIX_V2));
/// assert_eq!(fields.hash()?, leo_store::merkle::hash_leaf(&d));
/// # Ok::<(), leo_store::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct LeafFields<'a> {
    /// `seq`: position in the log.
    pub seq: u64,
    /// The client event id as stored.
    pub event_id: &'a str,
    /// The record kind as stored ([`RecordKind::as_str`]).
    pub kind: &'a str,
    /// The appending role as stored ([`Role::as_str`]).
    pub actor: &'a str,
    /// The matrix action as stored ([`Action::as_str`]).
    pub action: &'a str,
    /// `recorded_at`, unix microseconds.
    pub recorded_at: i64,
    /// The record row's columns after `seq`, in [`column_names`] order.
    pub columns: &'a [Value],
}

impl<'a> LeafFields<'a> {
    /// The fields of a typed event appended by `actor` at `seq`, whose record's columns
    /// ([`columns`]) are `columns` (passed in so a caller that inserts them computes them once).
    pub fn of_event(seq: u64, actor: Role, event: &'a Event, columns: &'a [Value]) -> Self {
        LeafFields {
            seq,
            event_id: event.id.as_str(),
            kind: event.record.kind().as_str(),
            actor: actor.as_str(),
            action: event.action.as_str(),
            recorded_at: event.recorded_at.unix_micros(),
            columns,
        }
    }
}

impl LeafFields<'_> {
    /// The leaf data `d` (the tree stores `H(0x00 ‖ d)`).
    pub fn data(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.write(&mut out)?;
        Ok(out)
    }

    /// The RFC 6962 leaf hash, encoding into `scratch` (cleared first; once it has grown to
    /// the largest leaf, hashing allocates nothing).
    pub fn hash_with(&self, scratch: &mut Vec<u8>) -> Result<Hash> {
        self.write(scratch)?;
        Ok(hash_leaf(scratch))
    }

    /// The RFC 6962 leaf hash.
    pub fn hash(&self) -> Result<Hash> {
        self.hash_with(&mut Vec::new())
    }

    /// Exact length of [`LeafFields::data`] (saturating: a length past `usize` fails the
    /// `u32` length check anyway).
    fn encoded_len(&self) -> usize {
        let strs = [self.event_id, self.kind, self.actor, self.action]
            .iter()
            .fold(0usize, |n, s| n.saturating_add(LEN_BYTES + s.len()));
        let columns = self.columns.iter().fold(0usize, |n, v| {
            n.saturating_add(match v {
                Value::Int(None) | Value::Text(None) | Value::Blob(None) => 1,
                Value::Int(Some(_)) => 1 + 8,
                Value::Text(Some(t)) => 1 + LEN_BYTES + t.len(),
                Value::Blob(Some(b)) => 1 + LEN_BYTES + b.len(),
            })
        });
        (LEAF_PREFIX_V2.len() + 8 + 8 + LEN_BYTES)
            .saturating_add(strs)
            .saturating_add(columns)
    }

    /// Writes `d` into `out`, replacing its contents.
    fn write(&self, out: &mut Vec<u8>) -> Result<()> {
        out.clear();
        out.reserve(self.encoded_len());
        out.extend_from_slice(LEAF_PREFIX_V2);
        out.extend_from_slice(&self.seq.to_be_bytes());
        put_bytes(out, "event_id", self.event_id.as_bytes())?;
        put_bytes(out, "kind", self.kind.as_bytes())?;
        put_bytes(out, "actor", self.actor.as_bytes())?;
        put_bytes(out, "action", self.action.as_bytes())?;
        out.extend_from_slice(&self.recorded_at.to_be_bytes());
        put_len(out, "columns", self.columns.len())?;
        for v in self.columns {
            match v {
                Value::Int(None) | Value::Text(None) | Value::Blob(None) => out.push(TAG_NULL),
                Value::Int(Some(i)) => {
                    out.push(TAG_INT);
                    out.extend_from_slice(&i.to_be_bytes());
                }
                Value::Text(Some(t)) => {
                    out.push(TAG_TEXT);
                    put_bytes(out, "record", t.as_bytes())?;
                }
                Value::Blob(Some(b)) => {
                    out.push(TAG_BLOB);
                    put_bytes(out, "record", b)?;
                }
            }
        }
        Ok(())
    }
}

/// The `u32` big-endian length prefix of `len`, or a typed error naming `field`.
fn len_prefix(field: &'static str, len: usize) -> Result<[u8; LEN_BYTES]> {
    u32::try_from(len).map(u32::to_be_bytes).map_err(|_| {
        Error::field(
            field,
            format!(
                "{len} long: a leaf length prefix holds at most {}",
                u32::MAX
            ),
        )
    })
}

fn put_len(out: &mut Vec<u8>, field: &'static str, len: usize) -> Result<()> {
    out.extend_from_slice(&len_prefix(field, len)?);
    Ok(())
}

fn put_bytes(out: &mut Vec<u8>, field: &'static str, bytes: &[u8]) -> Result<()> {
    put_len(out, field, bytes.len())?;
    out.extend_from_slice(bytes);
    Ok(())
}

/// The RFC 6962 leaf hash of an entry, in the current format (version 2, from the record's
/// [`columns`]).
pub fn leaf_hash_of(seq: u64, actor: Role, event: &Event) -> Result<Hash> {
    let columns = columns(&event.record)?;
    LeafFields::of_event(seq, actor, event, &columns).hash()
}

#[derive(Serialize)]
struct LeafBody<'a> {
    seq: u64,
    event_id: &'a str,
    kind: RecordKind,
    actor: Role,
    action: Action,
    recorded_at: Timestamp,
    record: &'a Record,
}

/// The version 1 leaf data `d` of an entry: [`LEAF_PREFIX_V1`] and the canonical JSON of the
/// typed event. Rows written before leaf version 2 carry `H(0x00 ‖ d)` of this.
pub fn leaf_data_v1(seq: u64, actor: Role, event: &Event) -> Result<Vec<u8>> {
    let body = LeafBody {
        seq,
        event_id: event.id.as_str(),
        kind: event.record.kind(),
        actor,
        action: event.action,
        recorded_at: event.recorded_at,
        record: &event.record,
    };
    let mut out = Vec::with_capacity(LEAF_CAPACITY);
    out.extend_from_slice(LEAF_PREFIX_V1);
    serde_json::to_writer(&mut out, &body)
        .map_err(|e| Error::field("record", format!("cannot encode: {e}")))?;
    Ok(out)
}

/// The version 1 RFC 6962 leaf hash of an entry (see [`leaf_data_v1`]).
pub fn leaf_hash_v1_of(seq: u64, actor: Role, event: &Event) -> Result<Hash> {
    Ok(hash_leaf(&leaf_data_v1(seq, actor, event)?))
}

/// Whether `stored` is this event's leaf in either format (v2, or v1 for rows written before
/// leaf version 2). Accepting both is safe: the two encodings have distinct domain prefixes
/// and are each injective, so a different event matching would be a SHA-256 second preimage.
pub fn leaf_matches(stored: &Hash, seq: u64, actor: Role, event: &Event) -> Result<bool> {
    let columns = columns(&event.record)?;
    Ok(
        LeafFields::of_event(seq, actor, event, &columns).hash()? == *stored
            || leaf_hash_v1_of(seq, actor, event)? == *stored,
    )
}

/// The next link of the per-row hash chain.
pub fn chain_next(prev: &Hash, leaf: &Hash) -> Hash {
    let mut c = ring::digest::Context::new(&ring::digest::SHA256);
    c.update(prev);
    c.update(leaf);
    let mut out = [0u8; 32];
    out.copy_from_slice(c.finish().as_ref());
    out
}

/// A column value, typed the way both databases store it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `INTEGER` / `BIGINT`.
    Int(Option<i64>),
    /// `TEXT`.
    Text(Option<String>),
    /// `BLOB` / `BYTEA`.
    Blob(Option<Vec<u8>>),
}

impl Value {
    /// Whether this is SQL `NULL` (of any type).
    pub fn is_null(&self) -> bool {
        matches!(
            self,
            Value::Int(None) | Value::Text(None) | Value::Blob(None)
        )
    }
}

/// Column names of each record table, after `seq`, in [`columns`] order.
pub const fn column_names(kind: RecordKind) -> &'static [&'static str] {
    match kind {
        RecordKind::Handoff => &["stage", "bundle_hash", "commit_sha", "branch", "pr_number"],
        RecordKind::Verification => &["pr_number", "verdict", "confidence", "inputs", "summary"],
        RecordKind::GateExecution => &[
            "pr_number",
            "gate_name",
            "commit_sha",
            "outcome",
            "started_at",
            "duration_ms",
        ],
        RecordKind::Approval => &["pr_number", "decision", "justification"],
        RecordKind::SigningKey => &[
            "fingerprint",
            "algorithm",
            "public_key",
            "public_key_armored",
            "not_before",
            "not_after",
        ],
        RecordKind::LabelTransition => &["change_id", "from_label", "to_label", "reason"],
        RecordKind::Refusal => &["change_id", "attempted_role", "operation", "reason"],
        RecordKind::ArtifactSignature => &["bundle_hash", "backend", "signer", "fallback_reason"],
        RecordKind::PolicyEvaluation => &[
            "policy",
            "rule_name",
            "resource",
            "result",
            "mode",
            "image_digest",
        ],
    }
}

fn opt_text(t: Option<impl ToString>) -> Value {
    Value::Text(t.map(|t| t.to_string()))
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(Some(s.into()))
}

fn int(i: impl Into<i64>) -> Value {
    Value::Int(Some(i.into()))
}

fn name_of<T: Serialize>(v: &T) -> Result<String> {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(Error::field("enum", "not a unit variant")),
    }
}

fn parse_name<T: DeserializeOwned>(field: &'static str, s: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| Error::field(field, format!("unknown value {s:?}")))
}

/// The record's columns, in [`column_names`] order.
pub fn columns(record: &Record) -> Result<Vec<Value>> {
    Ok(match record {
        Record::Handoff(h) => vec![
            text(name_of(&h.stage)?),
            text(h.bundle_hash.to_string()),
            text(h.commit.as_str()),
            text(h.branch.as_str()),
            Value::Int(h.pr_number.map(|p| i64::from(p.get()))),
        ],
        Record::Verification(v) => vec![
            int(v.pr_number.get()),
            text(v.verdict.verdict().as_str()),
            int(v.verdict.confidence().get()),
            text(
                serde_json::to_string(&v.inputs)
                    .map_err(|e| Error::field("inputs", e.to_string()))?,
            ),
            text(v.summary.as_str()),
        ],
        Record::GateExecution(g) => vec![
            int(g.pr_number.get()),
            text(g.gate.as_str()),
            text(g.commit.as_str()),
            text(name_of(&g.outcome)?),
            int(g.started_at.unix_micros()),
            int(g.duration_ms),
        ],
        Record::Approval(a) => vec![
            int(a.pr_number.get()),
            text(name_of(&a.decision)?),
            text(a.justification.as_str()),
        ],
        Record::SigningKey(k) => {
            let (raw, armored) = match &k.public_key {
                PublicKeyMaterial::Raw(b) => (Some(b.clone()), None),
                PublicKeyMaterial::Armored(a) => (None, Some(a.clone())),
            };
            vec![
                text(k.fingerprint.as_str()),
                text(k.algorithm.as_str()),
                Value::Blob(raw),
                Value::Text(armored),
                int(k.validity.not_before().unix_micros()),
                int(k.validity.not_after().unix_micros()),
            ]
        }
        Record::LabelTransition(t) => vec![
            text(t.change.as_str()),
            opt_text(t.from.as_ref()),
            text(t.to.as_str()),
            text(t.reason.as_str()),
        ],
        Record::Refusal(r) => vec![
            text(r.change.as_str()),
            text(r.attempted_role.as_str()),
            text(r.operation.as_str()),
            text(r.reason.as_str()),
        ],
        Record::ArtifactSignature(a) => vec![
            text(a.bundle_hash.to_string()),
            text(a.backend.as_str()),
            text(a.signer.as_str()),
            opt_text(a.fallback_reason.as_ref()),
        ],
        Record::PolicyEvaluation(p) => vec![
            text(p.policy.as_str()),
            text(p.rule.as_str()),
            text(p.resource.as_str()),
            text(name_of(&p.result)?),
            text(name_of(&p.mode)?),
            opt_text(p.image_digest.as_ref()),
        ],
    })
}

/// Reads values back in column order, with typed errors naming the column.
struct Cols<'a> {
    kind: RecordKind,
    it: std::iter::Zip<std::slice::Iter<'a, &'static str>, std::vec::IntoIter<Value>>,
}

impl Cols<'_> {
    fn next(&mut self) -> Result<(&'static str, Value)> {
        self.it
            .next()
            .map(|(n, v)| (*n, v))
            .ok_or_else(|| Error::field("row", format!("{} row has too few columns", self.kind)))
    }

    fn text(&mut self) -> Result<(&'static str, String)> {
        match self.next()? {
            (n, Value::Text(Some(s))) => Ok((n, s)),
            (n, _) => Err(Error::field(n, "expected text")),
        }
    }

    fn opt_text(&mut self) -> Result<Option<String>> {
        Ok(self.opt_named_text()?.1)
    }

    fn opt_named_text(&mut self) -> Result<(&'static str, Option<String>)> {
        match self.next()? {
            (n, v) if v.is_null() => Ok((n, None)),
            (n, Value::Text(s)) => Ok((n, s)),
            (n, _) => Err(Error::field(n, "expected text or NULL")),
        }
    }

    fn opt_line(&mut self) -> Result<Option<Text>> {
        match self.opt_named_text()? {
            (_, None) => Ok(None),
            (n, Some(s)) => Text::new(n, &s).map(Some),
        }
    }

    fn opt_parsed<T: std::str::FromStr>(&mut self) -> Result<Option<T>> {
        match self.opt_named_text()? {
            (_, None) => Ok(None),
            (n, Some(s)) => s
                .parse()
                .map(Some)
                .map_err(|_| Error::field(n, format!("cannot parse {s:?}"))),
        }
    }

    fn opt_int(&mut self) -> Result<(&'static str, Option<i64>)> {
        match self.next()? {
            (n, v) if v.is_null() => Ok((n, None)),
            (n, Value::Int(i)) => Ok((n, i)),
            (n, _) => Err(Error::field(n, "expected an integer")),
        }
    }

    fn int(&mut self) -> Result<(&'static str, i64)> {
        match self.opt_int()? {
            (n, Some(i)) => Ok((n, i)),
            (n, None) => Err(Error::field(n, "unexpected NULL")),
        }
    }

    fn pr(&mut self) -> Result<PrNumber> {
        let (n, i) = self.int()?;
        PrNumber::new(u32::try_from(i).map_err(|_| Error::field(n, "out of range"))?)
    }

    fn parsed<T: std::str::FromStr>(&mut self) -> Result<T> {
        let (n, s) = self.text()?;
        s.parse()
            .map_err(|_| Error::field(n, format!("cannot parse {s:?}")))
    }

    fn line(&mut self) -> Result<Text> {
        let (n, s) = self.text()?;
        Text::new(n, &s)
    }

    fn name<T: DeserializeOwned>(&mut self) -> Result<T> {
        let (n, s) = self.text()?;
        parse_name(n, &s)
    }
}

/// Rebuilds a record from its columns (in [`column_names`] order).
pub fn from_columns(kind: RecordKind, values: Vec<Value>) -> Result<Record> {
    let mut c = Cols {
        kind,
        it: column_names(kind).iter().zip(values),
    };
    let record = match kind {
        RecordKind::Handoff => Record::Handoff(HandoffEvent {
            stage: c.name()?,
            bundle_hash: c.parsed::<Sha256Digest>()?,
            commit: c.parsed::<CommitSha>()?,
            branch: c.line()?,
            pr_number: match c.opt_int()? {
                (_, None) => None,
                (n, Some(i)) => Some(PrNumber::new(
                    u32::try_from(i).map_err(|_| Error::field(n, "out of range"))?,
                )?),
            },
        }),
        RecordKind::Verification => {
            let pr_number = c.pr()?;
            let verdict = c.parsed::<PlanVerdict>()?;
            let (n, pct) = c.int()?;
            let pct = u8::try_from(pct).map_err(|_| Error::field(n, "out of range"))?;
            let (n, inputs) = c.text()?;
            let inputs: Vec<VerificationInput> = serde_json::from_str(&inputs)
                .map_err(|e| Error::field(n, format!("not a list of inputs: {e}")))?;
            VerificationResult::check_inputs(&inputs)?;
            Record::Verification(VerificationResult {
                pr_number,
                verdict: ScoredVerdict::new(verdict, Confidence::new(pct)?)?,
                inputs,
                summary: c.line()?,
            })
        }
        RecordKind::GateExecution => Record::GateExecution(GateExecution {
            pr_number: c.pr()?,
            gate: c.line()?,
            commit: c.parsed()?,
            outcome: c.name()?,
            started_at: Timestamp::from_unix_micros(c.int()?.1),
            duration_ms: {
                let (n, d) = c.int()?;
                u32::try_from(d).map_err(|_| Error::field(n, "out of range"))?
            },
        }),
        RecordKind::Approval => Record::Approval(ApprovalDecision {
            pr_number: c.pr()?,
            decision: c.name()?,
            justification: c.line()?,
        }),
        RecordKind::SigningKey => {
            let fingerprint = c.parsed::<Fingerprint>()?;
            let algorithm = c.line()?;
            let raw = match c.next()? {
                (_, v) if v.is_null() => None,
                (_, Value::Blob(b)) => b,
                (n, _) => return Err(Error::field(n, "expected bytes or NULL")),
            };
            let armored = c.opt_text()?;
            let public_key = match (raw, armored) {
                (Some(b), None) => PublicKeyMaterial::Raw(b),
                (None, Some(a)) => PublicKeyMaterial::Armored(a),
                _ => {
                    return Err(Error::field(
                        "public_key",
                        "exactly one of public_key and public_key_armored must be set",
                    ));
                }
            };
            let nb = Timestamp::from_unix_micros(c.int()?.1);
            let na = Timestamp::from_unix_micros(c.int()?.1);
            Record::SigningKey(SigningKeyRecord {
                fingerprint,
                algorithm,
                public_key,
                validity: ValidityWindow::new(nb, na)?,
            })
        }
        RecordKind::LabelTransition => Record::LabelTransition(LabelTransition {
            change: c.line()?,
            from: c.opt_line()?,
            to: c.line()?,
            reason: c.line()?,
        }),
        RecordKind::Refusal => Record::Refusal(Refusal {
            change: c.line()?,
            attempted_role: c.parsed()?,
            operation: c.line()?,
            reason: c.line()?,
        }),
        RecordKind::ArtifactSignature => Record::ArtifactSignature(ArtifactSignature {
            bundle_hash: c.parsed()?,
            backend: c.name()?,
            signer: c.line()?,
            fallback_reason: c.opt_line()?,
        }),
        RecordKind::PolicyEvaluation => Record::PolicyEvaluation(PolicyEvaluation {
            policy: c.line()?,
            rule: c.line()?,
            resource: c.line()?,
            result: c.name()?,
            mode: c.name()?,
            image_digest: c.opt_parsed()?,
        }),
    };
    record.check()?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::{handoff, sample_events};

    /// SHA-256 leaf hashes of the version 1 leaves of `sample_events("pin")` at seq 7 by
    /// CLAUDE_EXEC, computed by the JSON encoder before leaf version 2 existed (and the handoff
    /// one cross-checked with Python's hashlib over the JSON text). Rows written then carry
    /// these bytes: they must never change.
    const V1_PINS: [(RecordKind, &str); 9] = [
        (
            RecordKind::Handoff,
            "d2c75b864eb2a4202032ee380ab4b27b67293debb95afbb1ca25a0b44da94932",
        ),
        (
            RecordKind::Verification,
            "4f2ae2f10f9ca02e54abe679b54a730d44a10d8180490d246008783643601b9a",
        ),
        (
            RecordKind::GateExecution,
            "0ddd4d5a1c1a374291fbe1b29099dadbcd5f098144bc5fbd8d51d4b7f479b28d",
        ),
        (
            RecordKind::Approval,
            "2b6746adb6fb595c7352bea97498a533183a30bf6e0b504a5e13691a387b9098",
        ),
        (
            RecordKind::SigningKey,
            "22e895a74ea19d9ba15df418a4bf8c54d1fc9b9ec6d00f40bc6433d5ad82b865",
        ),
        (
            RecordKind::LabelTransition,
            "329c1ef20c59d79610b3b31ddba7dd49eec349b89d43829c08566eb66f6b2313",
        ),
        (
            RecordKind::Refusal,
            "6e1735f82c73f9cf77b3f9ccc493ea8e1cef89b4c0b0b68c2bd04228636855a6",
        ),
        (
            RecordKind::ArtifactSignature,
            "78cc7f8e2d28c19a9da3fb027eba0b69a5137965e0ebc415475ca69886ec5b8e",
        ),
        (
            RecordKind::PolicyEvaluation,
            "12b6b5d048aaa97eb9c8a5e13abbe56a020221d4cbf33162556c19281c5b98e0",
        ),
    ];

    /// The small example of [`small_example_layout`], as hex (computed independently from
    /// the specification with Python's `struct` and `hashlib`).
    const SMALL_DATA: &str = "6c656f2d61756469742d6c6561662d76320a000000000000010200000003652d31\
        00000008617070726f76616c000000044c45414400000011455343414c4154494f4e5f524556494557\
        fffffffffffffffe00000005010000000000000102020000000268690300000001ff000200000000";
    const SMALL_HASH: &str = "6a6725699f272ef76439827fb2337659c27dadca1ba5806d681e5539393d1b4c";

    /// Version 2 leaf of `handoff("pin", 1)` at seq 7 by CLAUDE_EXEC (also from Python).
    const HANDOFF_DATA: &str = "6c656f2d61756469742d6c6561662d76320a00000000000000070000000d\
        70696e2d68616e646f66662d310000000768616e646f66660000000b434c415544455f45584543000000\
        094352454154455f5052000647484620400000000005020000000e434c415544455f4150504c49454402\
        00000040623430373131613838633730333937353666623861373338323765616265326330666535613033\
        3436636137653061313034616463306663373634663532386402000000283031323334353637383961626364\
        6566303132333435363738396162636465663031323334353637020000001366656174757265\
        2f61756469742d747261696c010000000000000001";
    const HANDOFF_HASH: &str = "d1e61e6a0e73cb1912e1cd7a3167bd6a224cfc70775e2180962e2981b69dae12";

    fn small_columns() -> Vec<Value> {
        vec![
            Value::Int(Some(258)),
            Value::Text(Some("hi".into())),
            Value::Blob(Some(vec![0xff])),
            Value::Int(None),
            Value::Text(Some(String::new())),
        ]
    }

    fn small(columns: &[Value]) -> LeafFields<'_> {
        LeafFields {
            seq: 258,
            event_id: "e-1",
            kind: "approval",
            actor: "LEAD",
            action: "ESCALATION_REVIEW",
            recorded_at: -2,
            columns,
        }
    }

    /// The small example's bytes, written out field by field from the specification.
    fn small_example_layout() -> Vec<u8> {
        let parts: [&[u8]; 20] = [
            b"leo-audit-leaf-v2\n",
            &[0, 0, 0, 0, 0, 0, 1, 2], // u64be(seq = 258)
            &[0, 0, 0, 3],             // str(event_id): length 3
            b"e-1",
            &[0, 0, 0, 8], // str(kind): length 8
            b"approval",
            &[0, 0, 0, 4], // str(actor): length 4
            b"LEAD",
            &[0, 0, 0, 17], // str(action): length 17
            b"ESCALATION_REVIEW",
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe], // i64be(recorded_at = -2)
            &[0, 0, 0, 5],                                     // u32be(5 columns)
            &[0x01, 0, 0, 0, 0, 0, 0, 1, 2],                   // integer 258
            &[0x02, 0, 0, 0, 2],                               // text, length 2
            b"hi",
            &[0x03, 0, 0, 0, 1], // blob, length 1
            &[0xff],
            &[0x00],             // NULL
            &[0x02, 0, 0, 0, 0], // empty text
            b"",
        ];
        parts.concat()
    }

    #[test]
    fn v2_known_answer_small_example() {
        let columns = small_columns();
        let d = small(&columns).data().unwrap();
        assert_eq!(d, small_example_layout());
        assert_eq!(hex::encode(&d), SMALL_DATA);
        assert_eq!(d.len(), 114);
        assert_eq!(hex::encode(small(&columns).hash().unwrap()), SMALL_HASH);
        assert_eq!(small(&columns).hash().unwrap(), hash_leaf(&d));
    }

    #[test]
    fn v2_known_answer_handoff() {
        let ev = handoff("pin", 1).unwrap().into_any();
        let columns = columns(&ev.record).unwrap();
        let fields = LeafFields::of_event(7, Role::ClaudeExec, &ev, &columns);
        let d = fields.data().unwrap();
        assert_eq!(hex::encode(&d), HANDOFF_DATA);
        let bundle = ev_bundle_hex(&ev);
        let expected = [
            &b"leo-audit-leaf-v2\n"[..],
            &7u64.to_be_bytes(),
            &[0, 0, 0, 13],
            b"pin-handoff-1",
            &[0, 0, 0, 7],
            b"handoff",
            &[0, 0, 0, 11],
            b"CLAUDE_EXEC",
            &[0, 0, 0, 9],
            b"CREATE_PR",
            &1_767_225_600_000_000i64.to_be_bytes(),
            &[0, 0, 0, 5],
            &[0x02, 0, 0, 0, 14],
            b"CLAUDE_APPLIED",
            &[0x02, 0, 0, 0, 64],
            bundle.as_bytes(),
            &[0x02, 0, 0, 0, 40],
            b"0123456789abcdef0123456789abcdef01234567",
            &[0x02, 0, 0, 0, 19],
            b"feature/audit-trail",
            &[0x01, 0, 0, 0, 0, 0, 0, 0, 1],
        ]
        .concat();
        assert_eq!(d, expected);
        assert_eq!(hex::encode(fields.hash().unwrap()), HANDOFF_HASH);
        assert_eq!(
            hex::encode(leaf_hash_of(7, Role::ClaudeExec, &ev).unwrap()),
            HANDOFF_HASH
        );
        // Version 2 is the smaller encoding (fewer SHA-256 blocks).
        assert!(d.len() < leaf_data_v1(7, Role::ClaudeExec, &ev).unwrap().len());
    }

    fn ev_bundle_hex(ev: &Event) -> String {
        match &ev.record {
            Record::Handoff(h) => h.bundle_hash.to_string(),
            other => panic!("not a handoff: {other:?}"),
        }
    }

    #[test]
    fn v1_leaves_are_unchanged() {
        let events = sample_events("pin").unwrap();
        assert_eq!(events.len(), V1_PINS.len());
        for (ev, (kind, pin)) in events.iter().zip(V1_PINS) {
            assert_eq!(ev.record.kind(), kind);
            let d = leaf_data_v1(7, Role::ClaudeExec, ev).unwrap();
            assert!(d.starts_with(LEAF_PREFIX_V1));
            assert_eq!(
                hex::encode(leaf_hash_v1_of(7, Role::ClaudeExec, ev).unwrap()),
                pin,
                "{kind}"
            );
            assert_eq!(hex::encode(hash_leaf(&d)), pin, "{kind}");
        }
    }

    #[test]
    fn v2_depends_on_every_part() {
        let columns = small_columns();
        let base = small(&columns);
        let h = base.hash().unwrap();
        let mut seen = vec![h];
        let mut differs = |f: LeafFields<'_>, what: &str| {
            let other = f.hash().unwrap();
            assert!(!seen.contains(&other), "{what} does not change the leaf");
            seen.push(other);
        };
        differs(LeafFields { seq: 259, ..base }, "seq");
        differs(
            LeafFields {
                event_id: "e-2",
                ..base
            },
            "event id",
        );
        differs(
            LeafFields {
                kind: "APPROVAL",
                ..base
            },
            "kind (case)",
        );
        differs(
            LeafFields {
                actor: "lead",
                ..base
            },
            "actor (case)",
        );
        differs(
            LeafFields {
                action: "ALLOW_MERGE",
                ..base
            },
            "action",
        );
        differs(
            LeafFields {
                recorded_at: -1,
                ..base
            },
            "recorded_at",
        );
        differs(
            LeafFields {
                columns: &columns[..4],
                ..base
            },
            "column count",
        );
        for i in 0..columns.len() {
            let mut edited = columns.clone();
            edited[i] = match &columns[i] {
                Value::Int(Some(v)) => Value::Int(Some(v + 1)),
                Value::Text(Some(t)) => Value::Text(Some(format!("{t}x"))),
                Value::Blob(Some(b)) => Value::Blob(Some([b.as_slice(), &[0]].concat())),
                _ => Value::Int(Some(0)),
            };
            differs(
                LeafFields {
                    columns: &edited,
                    ..base
                },
                &format!("column {i}"),
            );
        }
        // The same bytes under another tag, and the column boundary, are committed to.
        let pairs: [[Vec<Value>; 2]; 4] = [
            [
                vec![Value::Text(None)],
                vec![Value::Text(Some(String::new()))],
            ],
            [
                vec![Value::Text(Some("ab".into()))],
                vec![Value::Blob(Some(b"ab".to_vec()))],
            ],
            [
                vec![
                    Value::Text(Some("ab".into())),
                    Value::Text(Some("c".into())),
                ],
                vec![
                    Value::Text(Some("a".into())),
                    Value::Text(Some("bc".into())),
                ],
            ],
            [vec![Value::Blob(None)], vec![Value::Blob(Some(vec![]))]],
        ];
        for [a, b] in &pairs {
            let (ha, hb) = (
                LeafFields { columns: a, ..base }.hash().unwrap(),
                LeafFields { columns: b, ..base }.hash().unwrap(),
            );
            assert_ne!(ha, hb, "{a:?} vs {b:?}");
        }
        // NULL is NULL whatever the column's type (both databases store one NULL).
        assert_eq!(
            LeafFields {
                columns: &[Value::Int(None)],
                ..base
            }
            .data()
            .unwrap(),
            LeafFields {
                columns: &[Value::Blob(None)],
                ..base
            }
            .data()
            .unwrap()
        );
    }

    #[test]
    fn leaf_hash_of_is_v2_of_the_columns() {
        for ev in sample_events("cols").unwrap() {
            let columns = columns(&ev.record).unwrap();
            let fields = LeafFields {
                seq: 11,
                event_id: ev.id.as_str(),
                kind: ev.record.kind().as_str(),
                actor: "PLAN",
                action: ev.action.as_str(),
                recorded_at: ev.recorded_at.unix_micros(),
                columns: &columns,
            };
            let h = leaf_hash_of(11, Role::Plan, &ev).unwrap();
            assert_eq!(h, fields.hash().unwrap());
            assert_eq!(h, hash_leaf(&fields.data().unwrap()));
            assert_ne!(h, leaf_hash_v1_of(11, Role::Plan, &ev).unwrap());
        }
    }

    #[test]
    fn leaf_matches_accepts_v1_and_v2_only_for_the_same_event() {
        let events = sample_events("match").unwrap();
        let ev = &events[0];
        let v1 = leaf_hash_v1_of(3, Role::ClaudeExec, ev).unwrap();
        let v2 = leaf_hash_of(3, Role::ClaudeExec, ev).unwrap();
        assert!(leaf_matches(&v1, 3, Role::ClaudeExec, ev).unwrap());
        assert!(leaf_matches(&v2, 3, Role::ClaudeExec, ev).unwrap());
        for stored in [v1, v2] {
            assert!(!leaf_matches(&stored, 4, Role::ClaudeExec, ev).unwrap());
            assert!(!leaf_matches(&stored, 3, Role::Plan, ev).unwrap());
            assert!(!leaf_matches(&stored, 3, Role::ClaudeExec, &events[1]).unwrap());
            let mut later = ev.clone();
            later.recorded_at = Timestamp::from_unix_micros(ev.recorded_at.unix_micros() + 1);
            assert!(!leaf_matches(&stored, 3, Role::ClaudeExec, &later).unwrap());
        }
        assert!(!leaf_matches(&[0; 32], 3, Role::ClaudeExec, ev).unwrap());
    }

    #[test]
    fn hash_with_reuses_the_scratch_buffer() {
        let columns = small_columns();
        let fields = small(&columns);
        let mut scratch = b"left over from another leaf".to_vec();
        assert_eq!(
            fields.hash_with(&mut scratch).unwrap(),
            fields.hash().unwrap()
        );
        assert_eq!(scratch, small_example_layout());
        let (ptr, cap) = (scratch.as_ptr(), scratch.capacity());
        let shorter = LeafFields {
            columns: &columns[..2],
            ..fields
        };
        for f in [shorter, fields, shorter] {
            assert_eq!(f.hash_with(&mut scratch).unwrap(), f.hash().unwrap());
            assert_eq!((scratch.as_ptr(), scratch.capacity()), (ptr, cap));
        }
        assert_eq!(fields.data().unwrap().len(), fields.encoded_len());
    }

    #[test]
    fn a_length_past_u32_is_a_typed_error() {
        assert_eq!(len_prefix("record", 258).unwrap(), [0, 0, 1, 2]);
        let max = usize::try_from(u32::MAX).unwrap();
        assert_eq!(len_prefix("record", max).unwrap(), [0xff; 4]);
        if let Some(over) = max.checked_add(1) {
            assert!(matches!(
                len_prefix("record", over),
                Err(Error::InvalidField {
                    field: "record",
                    ..
                })
            ));
        }
    }

    #[test]
    fn every_kind_round_trips_through_columns() {
        for ev in sample_events("rt").unwrap() {
            let cols = columns(&ev.record).unwrap();
            assert_eq!(cols.len(), column_names(ev.record.kind()).len());
            let back = from_columns(ev.record.kind(), cols).unwrap();
            assert_eq!(back, ev.record);
        }
    }

    #[test]
    fn leaf_depends_on_every_part() {
        let ev = sample_events("leaf").unwrap().remove(0);
        let base = leaf_hash_of(3, Role::ClaudeExec, &ev).unwrap();
        assert_ne!(base, leaf_hash_of(4, Role::ClaudeExec, &ev).unwrap());
        assert_ne!(base, leaf_hash_of(3, Role::Plan, &ev).unwrap());
        let mut other = ev.clone();
        other.recorded_at = Timestamp::from_unix_micros(ev.recorded_at.unix_micros() + 1);
        assert_ne!(base, leaf_hash_of(3, Role::ClaudeExec, &other).unwrap());
    }

    #[test]
    fn bad_columns_are_typed_errors() {
        let ev = sample_events("bad").unwrap().remove(0);
        let mut cols = columns(&ev.record).unwrap();
        cols[0] = Value::Text(Some("NOT_A_STAGE".into()));
        assert!(matches!(
            from_columns(RecordKind::Handoff, cols),
            Err(Error::InvalidField { field: "stage", .. })
        ));
        assert!(matches!(
            from_columns(RecordKind::Approval, vec![]),
            Err(Error::InvalidField { field: "row", .. })
        ));
    }
}
