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

/// Domain prefix of every leaf, so a LEO leaf can never be mistaken for another log's.
pub const LEAF_PREFIX: &[u8] = b"leo-audit-leaf-v1\n";

/// Initial capacity of a leaf buffer (a typical leaf is 300 to 500 bytes).
const LEAF_CAPACITY: usize = 512;

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

/// The leaf data `d` of an entry (the tree stores `H(0x00 ‖ d)`).
pub fn leaf_data(seq: u64, actor: Role, event: &Event) -> Result<Vec<u8>> {
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
    out.extend_from_slice(LEAF_PREFIX);
    serde_json::to_writer(&mut out, &body)
        .map_err(|e| Error::field("record", format!("cannot encode: {e}")))?;
    Ok(out)
}

/// The RFC 6962 leaf hash of an entry.
pub fn leaf_hash_of(seq: u64, actor: Role, event: &Event) -> Result<Hash> {
    Ok(hash_leaf(&leaf_data(seq, actor, event)?))
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
    use crate::samples::sample_events;

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
