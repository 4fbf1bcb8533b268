//! `aoai-arch simulate` through the binary: on the examples, and on renders edited by hand
//! where an example lacks a feature (teams, provisioned deployments, an unpeered network).

mod common;

use std::path::Path;

use serde_json::{json, Value};

use common::{bin, example};

/// `simulate ARGS --json`: exit code and the document.
fn simulate(target: &Path, args: &[&str]) -> (i32, Value) {
    let out = bin()
        .arg("simulate")
        .arg(target)
        .args(args)
        .args(["--json", "--requests", "2000"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, doc)
}

fn scenario<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no scenario {name} in {doc:#}"))
}

fn served(s: &Value) -> f64 {
    s["served"].as_f64().unwrap() / s["requests"].as_f64().unwrap()
}

/// A render folder of an example, to edit.
struct Render {
    dir: tempfile::TempDir,
}

impl Render {
    fn of(name: &str) -> Render {
        let dir = tempfile::tempdir().unwrap();
        let out = bin()
            .arg("render")
            .arg(example(name))
            .arg("--out")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Render { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn index(&self) -> Value {
        serde_json::from_str(&common::read(&self.path().join("index.json"))).unwrap()
    }

    /// Every resource whose id ends with `suffix`: `(file, id)`.
    fn find(&self, ty: &str, suffix: &str) -> Vec<(String, String)> {
        self.index()["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["type"] == ty && r["id"].as_str().unwrap().ends_with(suffix))
            .map(|r| {
                (
                    r["file"].as_str().unwrap().to_string(),
                    r["id"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    fn edit(&self, file: &str, f: impl FnOnce(&mut Value)) {
        let path = self.path().join(file);
        let text = common::read(&path);
        let (head, body) = text.split_once("\n\n").unwrap();
        let mut body: Value = serde_json::from_str(body).unwrap();
        f(&mut body);
        std::fs::write(
            &path,
            format!(
                "{head}\n\n{}\n",
                serde_json::to_string_pretty(&body).unwrap()
            ),
        )
        .unwrap();
    }

    /// A resource the example does not have.
    fn add(&self, id: &str, ty: &str, body: Value) {
        let mut index = self.index();
        let list = index["resources"].as_array_mut().unwrap();
        let file = format!("requests/{:03}-added.http", list.len() + 1);
        list.push(json!({ "file": file, "method": "PUT", "id": id, "type": ty, "dependsOn": [] }));
        std::fs::write(
            self.path().join("index.json"),
            serde_json::to_string_pretty(&index).unwrap(),
        )
        .unwrap();
        std::fs::write(
            self.path().join(&file),
            format!(
                "PUT {id}\nContent-Type: application/json\n\n{}\n",
                serde_json::to_string_pretty(&body).unwrap()
            ),
        )
        .unwrap();
    }

    /// Drops every resource of a type.
    fn remove_type(&self, ty: &str) {
        let mut index = self.index();
        index["resources"]
            .as_array_mut()
            .unwrap()
            .retain(|r| r["type"] != ty);
        std::fs::write(
            self.path().join("index.json"),
            serde_json::to_string_pretty(&index).unwrap(),
        )
        .unwrap();
    }
}

const PEERING: &str = "Microsoft.Network/virtualNetworks/virtualNetworkPeerings";
const NET: &str = "/subscriptions/00000000-0000-0000-0000-000000000004/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks";

/// What the current render of afd-apim-private says when East US 2's accounts are down:
/// the East US 2 gateway fails over to West Europe's account only if its network reaches it.
#[test]
fn afd_apim_private_region_down_follows_the_networks_of_the_render() {
    let r = Render::of("afd-apim-private");
    let peered = !r.find(PEERING, "").is_empty();
    let (code, doc) = simulate(r.path(), &["--scenario", "region-down:eastus2"]);
    let s = scenario(&doc, "region-down:eastus2");
    if peered {
        assert_eq!(code, 0, "{doc:#}");
        assert!(served(s) >= 0.99, "{s:#}");
    } else {
        // Unpeered regions: the priority-2 member cannot be reached; the failure shows.
        assert_eq!(code, 1, "{doc:#}");
        assert_eq!(s["ok"], false);
        assert!(served(s) < 0.99, "{s:#}");
        assert!(
            s["status"]["500"].as_u64().unwrap() > 0,
            "connection failures: {s:#}"
        );
        assert!(
            s["servedBy"]
                .as_object()
                .unwrap()
                .keys()
                .any(|k| k.starts_with("aoai-prv-weu-1/")),
            "West Europe's own gateway serves: {s:#}"
        );
    }
}

/// The same render with its two regions' networks peered (both directions) serves at least
/// 99% with East US 2's accounts down: the breakers trip and the pool uses West Europe's.
#[test]
fn afd_apim_private_with_peered_regions_fails_over() {
    let r = Render::of("afd-apim-private");
    if r.find(PEERING, "").is_empty() {
        for (from, to) in [
            ("vnet-aoai-eus2", "vnet-aoai-weu"),
            ("vnet-aoai-weu", "vnet-aoai-eus2"),
        ] {
            r.add(
                &format!("{NET}/{from}/virtualNetworkPeerings/to-{to}"),
                PEERING,
                json!({ "properties": { "remoteVirtualNetwork": { "id": format!("{NET}/{to}") } } }),
            );
        }
    }
    let (code, doc) = simulate(r.path(), &["--scenario", "region-down:eastus2"]);
    let s = scenario(&doc, "region-down:eastus2");
    assert_eq!(code, 0, "{doc:#}");
    assert!(served(s) >= 0.99, "{s:#}");
    assert!(
        s["why"].as_str().unwrap().contains("failover holds"),
        "{s:#}"
    );
    let by = s["servedBy"].as_object().unwrap();
    assert!(by.keys().all(|k| k.starts_with("aoai-prv-weu-1/")), "{s:#}");

    // One direction only is not a connected peering.
    r.remove_type(PEERING);
    r.add(
        &format!("{NET}/vnet-aoai-eus2/virtualNetworkPeerings/to-weu"),
        PEERING,
        json!({ "properties": { "remoteVirtualNetwork": { "id": format!("{NET}/vnet-aoai-weu") } } }),
    );
    let (code, _) = simulate(r.path(), &["--scenario", "region-down:eastus2"]);
    assert_eq!(code, 1);
}

/// A priority-2 member whose private endpoint sits in a network the gateway's is not peered
/// with: the failover verdict fails, exit 1.
#[test]
fn priority_two_member_in_an_unpeered_network_fails_the_failover() {
    let r = Render::of("apim");
    let (code, doc) = simulate(r.path(), &["--scenario", "region-down:swedencentral"]);
    assert_eq!(
        code, 0,
        "the example as rendered fails over to Norway: {doc:#}"
    );
    let (file, _) = r
        .find("Microsoft.Network/privateEndpoints", "/pe-aoai-apim-nor")
        .remove(0);
    r.edit(&file, |b| {
        b["properties"]["subnet"]["id"] = json!(
            "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-spoke-nor/subnets/pe"
        );
    });
    let (code, doc) = simulate(r.path(), &["--scenario", "region-down:swedencentral"]);
    let s = scenario(&doc, "region-down:swedencentral");
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(s["ok"], false);
    assert_eq!(s["served"], 0, "{s:#}");
    assert!(s["why"].as_str().unwrap().contains("does not hold"));
}

#[test]
fn every_account_down_serves_none() {
    for name in ["afd-apim", "apim", "afd"] {
        let (code, doc) = simulate(&example(name), &["--scenario", "account-down:*"]);
        let s = scenario(&doc, "account-down:*");
        assert_eq!(s["served"], 0, "{name}: {s:#}");
        assert_eq!(s["ok"], true, "{name}: {s:#}");
        assert_eq!(code, 0);
        assert!(s["status"].get("200").is_none());
    }
}

#[test]
fn a_throttled_account_shifts_traffic_to_the_rest_of_its_pool() {
    let (code, doc) = simulate(
        &example("apim"),
        &[
            "--scenario",
            "normal",
            "--scenario",
            "throttle:aoai-apim-swc-1",
        ],
    );
    assert_eq!(code, 0, "{doc:#}");
    let normal = scenario(&doc, "normal");
    assert!(
        normal["servedBy"]["aoai-apim-swc-1/gpt-5.4-mini"]
            .as_u64()
            .unwrap()
            > 0
    );
    let s = scenario(&doc, "throttle:aoai-apim-swc-1");
    assert!(
        s["servedBy"].get("aoai-apim-swc-1/gpt-5.4-mini").is_none(),
        "{s:#}"
    );
    assert!(
        s["servedBy"]["aoai-apim-swc-2/gpt-5.4-mini"]
            .as_u64()
            .unwrap()
            > 0,
        "{s:#}"
    );
    assert!(served(s) >= 0.99, "{s:#}");
    // The breaker trips on 429 after its count: a few answers reach the client first.
    assert!(
        s["status"]
            .get("429")
            .is_some_and(|n| n.as_u64().unwrap() < 20),
        "{s:#}"
    );
}

/// The apim render with two teams (API Management products) limited by llm-token-limit.
fn with_teams(r: &Render, a_limit: &str) {
    let service = r.find("Microsoft.ApiManagement/service", "").remove(0).1;
    for (team, limit) in [
        ("team-a", a_limit),
        (
            "team-b",
            r#"tokens-per-minute="100000000" token-quota="100000000000" token-quota-period="Monthly""#,
        ),
    ] {
        let xml = format!(
            "<policies><inbound><base /><llm-token-limit counter-key=\"@(context.Subscription.Id)\" {limit} estimate-prompt-tokens=\"false\" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"
        );
        r.add(
            &format!("{service}/products/{team}/policies/policy"),
            "Microsoft.ApiManagement/service/products/policies",
            json!({ "properties": { "format": "rawxml", "value": xml } }),
        );
    }
}

#[test]
fn a_team_bursting_past_its_limit_gets_429_while_the_others_are_served() {
    let r = Render::of("apim");
    with_teams(&r, r#"tokens-per-minute="1000000""#);
    let (code, doc) = simulate(
        r.path(),
        &["--scenario", "team-burst:team-a", "--scenario", "normal"],
    );
    assert_eq!(code, 0, "{doc:#}");
    let s = scenario(&doc, "team-burst:team-a");
    assert!(s["status"]["429"].as_u64().unwrap() > 0, "{s:#}");
    assert_eq!(s["ok"], true, "{s:#}");
    // Served tokens stay within the limit per minute; team-b is served in full.
    for m in s["tokens"]["team-a"].as_array().unwrap() {
        assert!(m.as_u64().unwrap() <= 1_000_000, "{s:#}");
    }
    assert!(s["tokens"]["team-b"][0].as_u64().unwrap() > 0);
    // Without the burst, both teams stay within their limits.
    let normal = scenario(&doc, "normal");
    assert_eq!(normal["status"].as_object().unwrap().len(), 1, "{normal:#}");
}

#[test]
fn a_spent_quota_answers_403() {
    let r = Render::of("apim");
    with_teams(&r, r#"token-quota="1000000" token-quota-period="Monthly""#);
    let (code, doc) = simulate(r.path(), &["--scenario", "quota:team-a"]);
    assert_eq!(code, 0, "{doc:#}");
    let s = scenario(&doc, "quota:team-a");
    assert!(s["status"]["403"].as_u64().unwrap() >= 900, "{s:#}");
    assert!(s["tokens"].get("team-a").is_none(), "{s:#}");
    assert!(s["tokens"]["team-b"][1].as_u64().unwrap() > 0, "{s:#}");
    // With no --scenario, the team scenarios apply because the render has token limits.
    let (_, all) = simulate(r.path(), &[]);
    scenario(&all, "team-burst:team-b");
    scenario(&all, "quota:team-a");
}

#[test]
fn a_full_ptu_spills_over_to_its_standard_deployment() {
    let r = Render::of("apim");
    for (file, id) in r.find(
        "Microsoft.CognitiveServices/accounts/deployments",
        "/deployments/gpt-5.4-mini",
    ) {
        r.edit(&file, |b| {
            b["sku"] = json!({ "name": "ProvisionedManaged", "capacity": 50 });
            b["properties"]["spilloverDeploymentName"] = json!("gpt-5.4-mini-std");
        });
        r.add(
            &id.replace("/deployments/gpt-5.4-mini", "/deployments/gpt-5.4-mini-std"),
            "Microsoft.CognitiveServices/accounts/deployments",
            json!({ "sku": { "name": "GlobalStandard", "capacity": 100 }, "properties": { "model": { "name": "gpt-5.4-mini" } } }),
        );
    }
    let (code, doc) = simulate(
        r.path(),
        &[
            "--scenario",
            "ptu-full:gpt-5.4-mini",
            "--scenario",
            "normal",
        ],
    );
    assert_eq!(code, 0, "{doc:#}");
    let s = scenario(&doc, "ptu-full:gpt-5.4-mini");
    assert!(served(s) >= 0.99, "{s:#}");
    let by = s["servedBy"].as_object().unwrap();
    assert!(
        !by.is_empty() && by.keys().all(|k| k.ends_with("/gpt-5.4-mini-std")),
        "{s:#}"
    );
    let normal = scenario(&doc, "normal");
    assert!(normal["servedBy"]
        .as_object()
        .unwrap()
        .keys()
        .all(|k| k.ends_with("/gpt-5.4-mini")));

    // Without spillover the full PTU answers 429, the pool's breakers trip: the verdict fails.
    for (file, _) in r.find(
        "Microsoft.CognitiveServices/accounts/deployments",
        "/deployments/gpt-5.4-mini",
    ) {
        r.edit(&file, |b| {
            b["properties"]
                .as_object_mut()
                .unwrap()
                .remove("spilloverDeploymentName");
        });
    }
    let (code, doc) = simulate(r.path(), &["--scenario", "ptu-full:gpt-5.4-mini"]);
    assert_eq!(code, 1, "{doc:#}");
}

#[test]
fn same_seed_same_result() {
    let run = |seed: &str| {
        bin()
            .args(["simulate"])
            .arg(example("afd-apim"))
            .args(["--json", "--requests", "500", "--seed", seed])
            .output()
            .unwrap()
            .stdout
    };
    let a = run("7");
    assert_eq!(a, run("7"));
    assert_ne!(a, run("8"));
    let doc: Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(doc["formatVersion"], 1);
    for s in doc["scenarios"].as_array().unwrap() {
        for key in [
            "name", "requests", "status", "servedBy", "tokens", "ok", "why",
        ] {
            assert!(s.get(key).is_some(), "{key} missing in {s:#}");
        }
    }
}

#[test]
fn gateway_down_is_drained_by_front_door_probes() {
    let (code, doc) = simulate(
        &example("afd-apim"),
        &["--scenario", "gateway-down:westeurope"],
    );
    assert_eq!(code, 0, "{doc:#}");
    let s = scenario(&doc, "gateway-down:westeurope");
    assert!(
        s["status"]["502"].as_u64().unwrap() > 0,
        "lost before the probes notice: {s:#}"
    );
    assert!(s["regions"].get("westeurope").is_none());
    assert!(s["why"].as_str().unwrap().contains("probe window"));
}

#[test]
fn a_scenario_naming_nothing_in_the_render_is_an_error() {
    let out = bin()
        .arg("simulate")
        .arg(example("apim"))
        .args(["--scenario", "throttle:nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("throttle:nope names no account"), "{err}");
    let out = bin()
        .arg("simulate")
        .arg(example("apim"))
        .args(["--scenario", "meteor"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // Team scenarios do not apply to a render without token limits.
    let out = bin()
        .arg("simulate")
        .arg(example("apim"))
        .args(["--scenario", "quota:x"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no team"));
}
