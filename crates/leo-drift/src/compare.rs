//! Field-level comparison of one normalized desired object with its live counterpart.
//!
//! Semantics (those of `kubectl apply` as Argo CD predicts it): only fields the desired state
//! sets are compared, so server defaults are not drift; a field present live but absent from
//! the desired state is drift only when the desired state used to set it (the last-applied
//! annotation or an applying field manager says so) or in strict mode. Lists Kubernetes merges
//! by key (containers by name, ports by port and protocol, ...) are matched by key and their
//! order ignored; other lists are atomic and compared position by position.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::managed::{Ownership, json_eq};
use crate::normalize::{Normalized, is_empty};
use crate::quantity;

/// How a field differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiffKind {
    /// The desired state sets the field; the live object lacks it.
    MissingInLive,
    /// The live object has a field the desired state (no longer) sets.
    ExtraInLive,
    /// Both have the field with different values.
    Changed,
}

/// One drifted field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDiff {
    /// RFC 6901 JSON pointer to the field (list indices are those of the desired list, or of
    /// the live list for [`DiffKind::ExtraInLive`] items).
    pub path: String,
    /// How it differs.
    pub kind: DiffKind,
    /// The desired value (absent for [`DiffKind::ExtraInLive`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<Value>,
    /// The live value (absent for [`DiffKind::MissingInLive`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<Value>,
}

/// Comparison switches (from the `DriftPolicy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompareOptions {
    /// Every non-empty live field the desired state does not set is drift.
    pub strict: bool,
    /// For ClusterRoles with an `aggregationRule`, the controller-filled `rules` are ignored.
    pub ignore_aggregated_roles: bool,
    /// Field managers whose `Apply` entries stand for the desired state's previous apply.
    pub apply_managers: Vec<String>,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self {
            strict: false,
            ignore_aggregated_roles: false,
            apply_managers: vec!["argocd-controller".to_owned()],
        }
    }
}

/// Map keys whose values are resource quantities.
const QUANTITY_MAPS: &[&str] = &[
    "limits",
    "requests",
    "hard",
    "capacity",
    "allocatable",
    "overhead",
];
/// Top-level maps whose empty-string values are real values, not "unset".
const LITERAL_MAPS: &[&str] = &["data", "stringData", "binaryData"];

/// Key fields (with their defaults) of a list Kubernetes merges by key.
type KeySpec = &'static [(&'static str, Option<&'static str>)];

/// Key fields of the lists Kubernetes merges by key.
fn merge_key(field: &str, items: &[Value]) -> Option<KeySpec> {
    const NAME: &[(&str, Option<&str>)] = &[("name", None)];
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "webhooks"
        | "resourceClaims"
        | "schedulingGates" => NAME,
        "volumeMounts" => &[("mountPath", None)],
        "volumeDevices" => &[("devicePath", None)],
        "hostAliases" => &[("ip", None)],
        "ownerReferences" => &[("uid", None)],
        "topologySpreadConstraints" => &[("topologyKey", None), ("whenUnsatisfiable", None)],
        "ports" if items.iter().any(|i| i.get("containerPort").is_some()) => {
            &[("containerPort", None), ("protocol", Some("TCP"))]
        }
        "ports" => &[("port", None), ("protocol", Some("TCP"))],
        _ => return None,
    })
}

fn key_of(item: &Value, spec: &[(&str, Option<&str>)]) -> Option<Vec<Value>> {
    spec.iter()
        .map(|(field, default)| match item.get(*field) {
            Some(v) if !v.is_null() => Some(v.clone()),
            _ => default.map(|d| Value::String(d.to_owned())),
        })
        .collect()
}

fn same_key(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| json_eq(x, y))
}

/// What the walk knows about the current path besides desired and live values.
#[derive(Clone, Default)]
struct Ctx<'a> {
    last: Option<&'a Value>,
    applier: Ownership<'a>,
    ignored: Ownership<'a>,
}

impl<'a> Ctx<'a> {
    fn field(&self, name: &str) -> Self {
        Self {
            last: self.last.and_then(|l| l.get(name)),
            applier: self.applier.field(name),
            ignored: self.ignored.field(name),
        }
    }

    fn item(&self, last: Option<&'a Value>, live: &Value, index: usize) -> Self {
        Self {
            last,
            applier: self.applier.item(live, index),
            ignored: self.ignored.item(live, index),
        }
    }
}

struct Walker {
    strict: bool,
    path: Vec<String>,
    out: Vec<FieldDiff>,
}

/// Compares a normalized desired object with a normalized live one. Fields owned (per
/// managed fields) by one of `ignored_managers` are skipped.
pub fn diff_objects(
    desired: &Normalized,
    live: &Normalized,
    opts: &CompareOptions,
    ignored_managers: &[String],
) -> Vec<FieldDiff> {
    let aggregated = opts.ignore_aggregated_roles
        && desired
            .body
            .get("aggregationRule")
            .is_some_and(|a| !is_empty(a));
    // Only the aggregated-roles option edits the bodies; otherwise compare in place.
    let without_rules = |v: &Value| {
        let mut v = v.clone();
        if let Some(obj) = v.as_object_mut() {
            obj.shift_remove("rules");
        }
        v
    };
    let (d, l, last): (Cow<'_, Value>, Cow<'_, Value>, Option<Cow<'_, Value>>) = if aggregated {
        (
            Cow::Owned(without_rules(&desired.body)),
            Cow::Owned(without_rules(&live.body)),
            live.last_applied
                .as_ref()
                .map(|v| Cow::Owned(without_rules(v))),
        )
    } else {
        (
            Cow::Borrowed(&desired.body),
            Cow::Borrowed(&live.body),
            live.last_applied.as_ref().map(Cow::Borrowed),
        )
    };
    let applier = Ownership::of(&live.managed, |e| {
        e.operation == "Apply" && opts.apply_managers.contains(&e.manager)
    });
    // Under server-side apply the applier's managed fields are the record of what the desired
    // state set; a last-applied annotation then comes from someone's manual `kubectl apply`.
    let last = if applier.owned() {
        None
    } else {
        last.as_deref()
    };
    let ctx = Ctx {
        last,
        applier,
        ignored: Ownership::of(&live.managed, |e| ignored_managers.contains(&e.manager)),
    };
    let mut walker = Walker {
        strict: opts.strict,
        path: Vec::new(),
        out: Vec::new(),
    };
    walker.walk(&d, Some(&l), &ctx);
    walker.out
}

/// Whether a desired value sets nothing: null, `{}`, `[]`, or maps of such.
fn sets_nothing(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.values().all(sets_nothing),
        other => is_empty(other),
    }
}

impl Walker {
    fn walk(&mut self, d: &Value, l: Option<&Value>, ctx: &Ctx<'_>) {
        let l = l.filter(|v| !v.is_null());
        match d {
            Value::Object(dm) => match l {
                None if sets_nothing(d) => {}
                None => self.emit(ctx, DiffKind::MissingInLive, Some(d), None),
                Some(Value::Object(lm)) => self.map(dm, lm, ctx, &[]),
                Some(other) if !dm.is_empty() => {
                    self.emit(ctx, DiffKind::Changed, Some(d), Some(other));
                }
                Some(_) => {}
            },
            Value::Array(da) => match l {
                None => {
                    if !da.is_empty() {
                        self.emit(ctx, DiffKind::MissingInLive, Some(d), None);
                    }
                }
                Some(Value::Array(la)) => self.list(da, la, ctx),
                Some(other) => self.emit(ctx, DiffKind::Changed, Some(d), Some(other)),
            },
            Value::Null => {
                if let Some(lv) = l.filter(|v| !is_empty(v)) {
                    self.emit(ctx, DiffKind::Changed, Some(d), Some(lv));
                }
            }
            scalar => match l {
                None if self.omittable(scalar) => {}
                None => self.emit(ctx, DiffKind::MissingInLive, Some(d), None),
                Some(lv) if self.scalar_eq(scalar, lv) => {}
                Some(lv) => self.emit(ctx, DiffKind::Changed, Some(d), Some(lv)),
            },
        }
    }

    /// Compares maps; `identity` names key fields of a merged list item, which identify the
    /// item rather than configure it and so are never "extra".
    fn map(
        &mut self,
        dm: &Map<String, Value>,
        lm: &Map<String, Value>,
        ctx: &Ctx<'_>,
        identity: KeySpec,
    ) {
        for (k, dv) in dm {
            self.path.push(k.clone());
            self.walk(dv, lm.get(k), &ctx.field(k));
            self.path.pop();
        }
        for (k, lv) in lm {
            if dm.contains_key(k) || is_empty(lv) || identity.iter().any(|(f, _)| f == k) {
                continue;
            }
            let child = ctx.field(k);
            let applied = child.last.is_some_and(|v| !is_empty(v)) || child.applier.owned();
            if self.strict || applied {
                self.path.push(k.clone());
                self.emit(&child, DiffKind::ExtraInLive, None, Some(lv));
                self.path.pop();
            }
        }
    }

    fn list(&mut self, da: &[Value], la: &[Value], ctx: &Ctx<'_>) {
        let field = self.path.last().map(String::as_str).unwrap_or_default();
        if let Some(spec) = merge_key(field, da) {
            let desired_keys: Option<Vec<Vec<Value>>> =
                da.iter().map(|i| key_of(i, spec)).collect();
            if let Some(desired_keys) = desired_keys {
                self.keyed_list(da, la, &desired_keys, spec, ctx);
                return;
            }
        }
        if da.len() != la.len() {
            self.emit(
                ctx,
                DiffKind::Changed,
                Some(&Value::Array(da.to_vec())),
                Some(&Value::Array(la.to_vec())),
            );
            return;
        }
        for (i, (dv, lv)) in da.iter().zip(la).enumerate() {
            let last = ctx.last.and_then(|l| l.get(i));
            self.path.push(i.to_string());
            self.walk(dv, Some(lv), &ctx.item(last, lv, i));
            self.path.pop();
        }
    }

    fn keyed_list(
        &mut self,
        da: &[Value],
        la: &[Value],
        desired_keys: &[Vec<Value>],
        spec: KeySpec,
        ctx: &Ctx<'_>,
    ) {
        let live_keys: Vec<Option<Vec<Value>>> = la.iter().map(|i| key_of(i, spec)).collect();
        let last_items: &[Value] = ctx
            .last
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        let find_last = |key: &[Value]| {
            last_items
                .iter()
                .find(|i| key_of(i, spec).is_some_and(|k| same_key(&k, key)))
        };
        let mut matched = vec![false; la.len()];
        for (i, (dv, key)) in da.iter().zip(desired_keys).enumerate() {
            self.path.push(i.to_string());
            // The first live item with this key not yet taken (duplicate keys pair in order).
            let hit = live_keys.iter().enumerate().position(|(j, lk)| {
                !matched.get(j).copied().unwrap_or(true)
                    && lk.as_deref().is_some_and(|lk| same_key(lk, key))
            });
            match hit.and_then(|j| la.get(j).map(|lv| (j, lv))) {
                Some((j, lv)) => {
                    if let Some(m) = matched.get_mut(j) {
                        *m = true;
                    }
                    let child = ctx.item(find_last(key), lv, j);
                    match (dv, lv) {
                        (Value::Object(dm), Value::Object(lm)) => self.map(dm, lm, &child, spec),
                        _ => self.walk(dv, Some(lv), &child),
                    }
                }
                None => self.emit(ctx, DiffKind::MissingInLive, Some(dv), None),
            }
            self.path.pop();
        }
        for (j, (lv, lk)) in la.iter().zip(&live_keys).enumerate() {
            if matched.get(j).copied().unwrap_or(true) {
                continue;
            }
            let child = ctx.item(None, lv, j);
            let applied = lk.as_deref().and_then(find_last).is_some() || child.applier.owned();
            if self.strict || applied {
                self.path.push(j.to_string());
                self.emit(&child, DiffKind::ExtraInLive, None, Some(lv));
                self.path.pop();
            }
        }
    }

    /// `""` and `false` are what Go's `omitempty` drops: absent live means the same, except for
    /// the values of Secret/ConfigMap data maps.
    fn omittable(&self, v: &Value) -> bool {
        let literal = self.path.len() == 2
            && self
                .path
                .first()
                .is_some_and(|p| LITERAL_MAPS.contains(&p.as_str()));
        match v {
            Value::String(s) => s.is_empty() && !literal,
            Value::Bool(b) => !b,
            _ => false,
        }
    }

    fn scalar_eq(&self, d: &Value, l: &Value) -> bool {
        if json_eq(d, l) {
            return true;
        }
        let parent = self.path.iter().rev().nth(1).map(String::as_str);
        let own = self.path.last().map(String::as_str);
        let quantity_context =
            parent.is_some_and(|p| QUANTITY_MAPS.contains(&p)) || own == Some("sizeLimit");
        quantity_context && quantity::same(d, l)
    }

    fn emit(
        &mut self,
        ctx: &Ctx<'_>,
        kind: DiffKind,
        desired: Option<&Value>,
        live: Option<&Value>,
    ) {
        if ctx.ignored.owned() && live.is_some() {
            return;
        }
        self.out.push(FieldDiff {
            path: pointer(&self.path),
            kind,
            desired: desired.cloned(),
            live: live.cloned(),
        });
    }
}

/// Builds an RFC 6901 pointer from path segments.
pub fn pointer(segments: &[String]) -> String {
    let mut out = String::new();
    for s in segments {
        out.push('/');
        out.push_str(&s.replace('~', "~0").replace('/', "~1"));
    }
    out
}
