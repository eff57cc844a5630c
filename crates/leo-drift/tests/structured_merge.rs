#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The structured-merge-diff / server-side-diff fixtures of the same Argo CD folder. Argo needs
//! the Kubernetes OpenAPI schema for these (not in the vectors), so `EXPECTED.yaml` gives no
//! verdicts; LEO's schema-free answers are pinned here, each with the reason it is right.

use leo_drift::{DiffKind, DriftPolicy, FieldDiff, diff_pair, parse_str};

fn diffs(config: &str, live: &str) -> Option<Vec<FieldDiff>> {
    let dir = leo_testkit::vector("drift/argo-gitops-engine-diff")?;
    let load = |f: &str| {
        parse_str(&std::fs::read_to_string(dir.join(f)).unwrap(), f)
            .unwrap()
            .remove(0)
    };
    Some(diff_pair(
        &load(config),
        &load(live),
        &DriftPolicy::default(),
    ))
}

fn summary(d: &[FieldDiff]) -> Vec<(DiffKind, &str)> {
    d.iter().map(|x| (x.kind, x.path.as_str())).collect()
}

#[test]
fn predicted_live_objects_are_in_sync_with_their_config() {
    // A predicted live object is what the server makes of the config: no drift by definition.
    for (config, predicted) in [
        (
            "ssd-deploy-composite-key-config.yaml",
            "ssd-deploy-composite-key-predicted-live.json",
        ),
        (
            "ssd-deploy-nested-config.yaml",
            "ssd-deploy-nested-predicted-live.json",
        ),
        (
            "ssd-deploy-with-manual-apply-config.yaml",
            "ssd-deploy-with-manual-apply-predicted-live.json",
        ),
        (
            "ssd-svc-no-label-config.yaml",
            "ssd-svc-no-label-predicted-live.json",
        ),
    ] {
        let Some(d) = diffs(config, predicted) else {
            return;
        };
        assert!(d.is_empty(), "{config}: {d:#?}");
    }
}

#[test]
fn defaulted_and_unchanged_live_objects_are_in_sync() {
    let Some(d) = diffs("smd-deploy-config.yaml", "smd-deploy-live.yaml") else {
        return;
    };
    assert!(d.is_empty(), "{d:#?}");
    let Some(d) = diffs("ssd-service-config.yaml", "ssd-service-live.yaml") else {
        return;
    };
    assert!(d.is_empty(), "{d:#?}");
}

#[test]
fn service_ports_are_keyed_by_port_and_protocol() {
    let Some(d) = diffs("smd-service-config.yaml", "smd-service-live.yaml") else {
        return;
    };
    assert_eq!(
        summary(&d),
        [(DiffKind::Changed, "/spec/ports/1/targetPort")]
    );
    // Same port number, other protocol: a different port, missing live.
    let Some(d) = diffs("smd-service-config-ports.yaml", "smd-service-live.yaml") else {
        return;
    };
    assert_eq!(
        summary(&d),
        [
            (DiffKind::MissingInLive, "/spec/ports/2"),
            (DiffKind::MissingInLive, "/spec/ports/4")
        ]
    );
    // A port the applier (argocd-controller, per managedFields) set and the config dropped.
    let Some(d) = diffs("smd-service-config-2-ports.yaml", "smd-service-live.yaml") else {
        return;
    };
    assert_eq!(summary(&d), [(DiffKind::ExtraInLive, "/spec/ports/2")]);
}

#[test]
fn label_removed_from_config_is_drift_via_managed_fields() {
    // ServerSideDiff: argocd-controller's Apply entry owns `delete-me`; the config dropped it.
    let Some(d) = diffs("ssd-svc-no-label-config.yaml", "ssd-svc-label-live.yaml") else {
        return;
    };
    assert_eq!(
        summary(&d),
        [(DiffKind::ExtraInLive, "/metadata/labels/delete-me")]
    );
}

#[test]
fn container_port_added_in_config_is_missing_live() {
    let Some(d) = diffs(
        "ssd-deploy-composite-key-config.yaml",
        "ssd-deploy-composite-key-live.yaml",
    ) else {
        return;
    };
    assert_eq!(
        summary(&d),
        [(
            DiffKind::MissingInLive,
            "/spec/template/spec/containers/0/ports/2"
        )]
    );
}

#[test]
fn smd_keeps_applier_owned_resources_where_real_apply_removes_them() {
    // Argo's schema-based structured-merge-diff keeps `resources` (its predicted live has it);
    // a real server-side apply removes fields only the applier owned once the config drops
    // them, and LEO reports that, as Argo's newer server-side diff does for labels.
    let Some(d) = diffs("smd-deploy2-config.yaml", "smd-deploy2-predicted-live.json") else {
        return;
    };
    assert_eq!(
        summary(&d),
        [(
            DiffKind::ExtraInLive,
            "/spec/template/spec/containers/0/resources"
        )]
    );
}
