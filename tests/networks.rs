//! Networks as part of the blueprint (issue 17) and the reachability of every backend (issue
//! 18), through the binary against the emulator: created networks deploy on an empty state and
//! converge, the landing-zone form is refused before any write when its network is absent,
//! each preflight finding and each emulator refusal, placement of private endpoints, and lint's
//! trace of every pool member.

mod common;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

fn text(o: &std::process::Output) -> String {
    format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The example with text edits, written under `dir`.
fn edited(base: &str, dir: &Path, edits: &[(&str, &str)]) -> (PathBuf, String) {
    let mut s = common::read(&common::example(base));
    for (from, to) in edits {
        assert!(s.contains(from), "`{from}` not in {base}");
        s = s.replacen(from, to, 1);
    }
    let p = dir.join(format!("{base}.yaml"));
    std::fs::write(&p, &s).unwrap();
    (p, s)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in the blueprint"))
        + 1
}

fn lint_json(bp: &Path, extra: &[&str]) -> (Option<i32>, Vec<Value>, String) {
    let out = common::bin()
        .arg("lint")
        .arg(bp)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        v["findings"].as_array().cloned().unwrap_or_default(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

const APIM_RG: &str =
    "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-aoai-apim";
const LZ_NET: &str = "/subscriptions/00000000-0000-0000-0000-000000000005/resourceGroups/rg-connectivity/providers/Microsoft.Network/virtualNetworks/vnet-lz-spoke";

#[test]
fn examples_create_their_networks_on_an_empty_state_and_converge() {
    for (name, seed) in [("apim", 31), ("afd-apim-private", 32)] {
        let emu = common::Emulator::start("3000", "none", seed);
        let bp = common::example(name);
        let out = common::run(&["apply", "--auto-approve"], &bp, &emu.url);
        assert!(out.status.success(), "{name}: {}", text(&out));
        // Nothing was refused on the way.
        let refused: Vec<Value> = emu
            .log()
            .into_iter()
            .filter(|e| e["method"] == "PUT" && e["status"].as_u64().is_some_and(|s| s >= 400))
            .collect();
        assert!(refused.is_empty(), "{name}: {refused:#?}");
        let plan = common::run(&["plan", "--detailed-exitcode"], &bp, &emu.url);
        assert_eq!(plan.status.code(), Some(0), "{name}: {}", text(&plan));
        let before = common::writes(&emu.log());
        let again = common::run(&["apply", "--auto-approve"], &bp, &emu.url);
        assert!(again.status.success(), "{}", text(&again));
        assert_eq!(
            common::writes(&emu.log()),
            before,
            "{name}: a second apply wrote"
        );
    }
}

#[test]
fn a_private_endpoint_is_placed_in_its_networks_region_not_the_accounts() {
    let emu = common::Emulator::start("3000", "none", 33);
    let out = common::run(
        &["apply", "--auto-approve"],
        &common::example("apim"),
        &emu.url,
    );
    assert!(out.status.success(), "{}", text(&out));
    // The norwayeast account's endpoint is in vnet-hub, in swedencentral.
    let pe = format!("{APIM_RG}/providers/Microsoft.Network/privateEndpoints/pe-aoai-apim-nor?api-version=2025-07-01");
    let (s, doc) = common::http(&emu.url, "GET", &pe, None);
    assert_eq!(s, 200);
    assert_eq!(doc["location"], "swedencentral");
    assert!(doc["properties"]["subnet"]["id"]
        .as_str()
        .unwrap()
        .ends_with("/virtualNetworks/vnet-hub/subnets/private-endpoints"));
    let acc = format!(
        "{APIM_RG}/providers/Microsoft.CognitiveServices/accounts/aoai-apim-nor?api-version=2026-05-01"
    );
    assert_eq!(
        common::http(&emu.url, "GET", &acc, None).1["location"],
        "norwayeast"
    );
    // The subnet is served as a child of its network, with the security group injection needs.
    let subnet = format!(
        "{APIM_RG}/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/apim?api-version=2025-07-01"
    );
    let (s, doc) = common::http(&emu.url, "GET", &subnet, None);
    assert_eq!(s, 200, "{doc}");
    assert!(doc["properties"]["networkSecurityGroup"]["id"]
        .as_str()
        .unwrap()
        .ends_with("/networkSecurityGroups/nsg-vnet-hub-apim"));
}

/// Render `bp` into `dir`; (id, type, body, dependencies) of every request.
fn render(bp: &Path, dir: &Path) -> Vec<(String, String, Value, Vec<String>)> {
    let o = common::bin()
        .arg("render")
        .arg(bp)
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let index: Value = serde_json::from_str(&common::read(&dir.join("index.json"))).unwrap();
    let files: Vec<(String, String)> = index["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap().to_string(),
                r["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    index["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let file = r["file"].as_str().unwrap();
            let t = common::read(&dir.join(file));
            let body = serde_json::from_str(t.split_once("\n\n").unwrap().1).unwrap();
            let deps = r["dependsOn"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    let f = d.as_str().unwrap();
                    files.iter().find(|(x, _)| x == f).unwrap().1.clone()
                })
                .collect();
            (
                r["id"].as_str().unwrap().to_string(),
                r["type"].as_str().unwrap().to_string(),
                body,
                deps,
            )
        })
        .collect()
}

#[test]
fn rendered_networks_carry_what_each_subnet_needs_and_come_first() {
    let dir = tempfile::tempdir().unwrap();
    let reqs = render(&common::example("apim"), dir.path());
    let nsg = &reqs
        .iter()
        .find(|r| r.0.ends_with("/networkSecurityGroups/nsg-vnet-hub-apim"))
        .unwrap()
        .2;
    let rules = nsg["properties"]["securityRules"].as_array().unwrap();
    let rule = |from: &str, port: &str, dir: &str| {
        rules.iter().any(|r| {
            let p = &r["properties"];
            p["sourceAddressPrefix"] == from
                && p["direction"] == dir
                && p["access"] == "Allow"
                && (p["destinationPortRange"] == port
                    || p["destinationPortRanges"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x == port)))
        })
    };
    assert!(rule("ApiManagement", "3443", "Inbound"), "{nsg:#}");
    assert!(rule("AzureLoadBalancer", "6390", "Inbound"), "{nsg:#}");
    assert!(rule("Internet", "443", "Inbound"), "External mode: {nsg:#}");
    for to in ["Storage", "Sql", "AzureKeyVault", "AzureMonitor"] {
        assert!(
            rules
                .iter()
                .any(|r| r["properties"]["destinationAddressPrefix"] == to
                    && r["properties"]["direction"] == "Outbound"),
            "no outbound rule to {to}: {nsg:#}"
        );
    }
    let vnet = reqs
        .iter()
        .find(|r| r.1 == "Microsoft.Network/virtualNetworks")
        .unwrap();
    assert_eq!(vnet.2["location"], "swedencentral");
    assert!(vnet.3.iter().any(|d| d.ends_with("nsg-vnet-hub-apim")));
    // Every private endpoint and the service wait for the network.
    for r in reqs.iter().filter(|r| {
        r.1 == "Microsoft.Network/privateEndpoints" || r.1 == "Microsoft.ApiManagement/service"
    }) {
        assert!(
            r.3.iter().any(|d| d.ends_with("/virtualNetworks/vnet-hub")),
            "{} does not wait for vnet-hub: {:?}",
            r.0,
            r.3
        );
    }

    // v2: the integration subnet is delegated; the peerings (both directions) come before the
    // private endpoints and the services of both networks.
    let reqs = render(&common::example("afd-apim-private"), &dir.path().join("v2"));
    let vnet = &reqs
        .iter()
        .find(|r| r.0.ends_with("/virtualNetworks/vnet-aoai-weu"))
        .unwrap()
        .2;
    assert_eq!(vnet["location"], "westeurope");
    let outbound = vnet["properties"]["subnets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "apim-outbound")
        .unwrap();
    assert_eq!(
        outbound["properties"]["delegations"][0]["properties"]["serviceName"],
        "Microsoft.Web/serverFarms"
    );
    assert!(outbound["properties"]["networkSecurityGroup"]["id"].is_string());
    let peerings: Vec<&str> = reqs
        .iter()
        .filter(|r| r.1 == "Microsoft.Network/virtualNetworks/virtualNetworkPeerings")
        .map(|r| r.0.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        peerings,
        [
            "vnet-aoai-eus2-to-vnet-aoai-weu",
            "vnet-aoai-weu-to-vnet-aoai-eus2"
        ]
    );
    for r in reqs.iter().filter(|r| {
        r.1 == "Microsoft.Network/privateEndpoints" || r.1 == "Microsoft.ApiManagement/service"
    }) {
        for p in &peerings {
            assert!(
                r.3.iter().any(|d| d.ends_with(p)),
                "{} does not wait for {p}: {:?}",
                r.0,
                r.3
            );
        }
    }
    let pe = &reqs
        .iter()
        .find(|r| r.0.ends_with("/privateEndpoints/pe-aoai-prv-weu-1"))
        .unwrap()
        .2;
    assert_eq!(pe["location"], "westeurope");
}

/// The landing-zone network, as a platform team would have made it.
fn landing_zone_network(url: &str, region: &str, delegated: bool, nsg: bool) {
    let rg = LZ_NET.split("/providers/").next().unwrap();
    let (s, e) = common::http(
        url,
        "PUT",
        &format!("{rg}?api-version=2025-04-01"),
        Some(&json!({ "location": region })),
    );
    assert!(s < 300, "{e}");
    let nsg_id = format!("{rg}/providers/Microsoft.Network/networkSecurityGroups/nsg-lz");
    if nsg {
        let (s, e) = common::http(
            url,
            "PUT",
            &format!("{nsg_id}?api-version=2025-07-01"),
            Some(&json!({ "location": region, "properties": { "securityRules": [] } })),
        );
        assert!(s < 300, "{e}");
    }
    let mut outbound =
        json!({ "name": "apim-outbound", "properties": { "addressPrefix": "10.50.1.0/27" } });
    if delegated {
        outbound["properties"]["delegations"] =
            json!([{ "name": "d", "properties": { "serviceName": "Microsoft.Web/serverFarms" } }]);
    }
    if nsg {
        outbound["properties"]["networkSecurityGroup"] = json!({ "id": nsg_id });
    }
    let (s, e) = common::http(
        url,
        "PUT",
        &format!("{LZ_NET}?api-version=2025-07-01"),
        Some(&json!({
            "location": region,
            "properties": { "addressSpace": { "addressPrefixes": ["10.50.0.0/16"] },
                "subnets": [ outbound, { "name": "private-endpoints", "properties": { "addressPrefix": "10.50.2.0/24" } } ] }
        })),
    );
    assert!(s < 300, "{e}");
    // Wait for the network to settle (a few virtual seconds).
    for _ in 0..200 {
        let (_, d) = common::http(
            url,
            "GET",
            &format!("{LZ_NET}?api-version=2025-07-01"),
            None,
        );
        if d["properties"]["provisioningState"] == "Succeeded" {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the landing-zone network did not settle");
}

#[test]
fn landing_zone_without_its_network_is_refused_before_any_write_naming_the_subnet() {
    let emu = common::Emulator::start("3000", "none", 34);
    let bp = common::example("landing-zone");
    let bp_text = common::read(&bp);
    let out = common::run(&["apply", "--auto-approve"], &bp, &emu.url);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert_eq!(
        common::writes(&emu.log()),
        0,
        "refused before any write: {all}"
    );
    assert!(all.contains("apply refused; nothing was written"), "{all}");
    for (subnet, field, needle) in [
        (
            "vnet-lz-spoke/apim-outbound",
            "apim.network.subnetId",
            "subnets/apim-outbound",
        ),
        (
            "vnet-lz-spoke/private-endpoints",
            "networking.privateEndpoints[0].subnetId",
            "{ account: aoai-lz-swc-1",
        ),
    ] {
        assert!(
            all.contains(&format!("subnet {subnet} does not exist")),
            "{subnet}: {all}"
        );
        let at = format!("landing-zone.yaml:{}:", line_of(&bp_text, needle));
        assert!(
            all.lines().any(|l| l.contains(&at) && l.contains(field)),
            "{field} at {at}: {all}"
        );
    }
    // Read-only: the subnet and its network were read, nothing under rg-connectivity written.
    let log = emu.log();
    assert!(log.iter().any(|e| e["method"] == "GET"
        && e["path"]
            .as_str()
            .is_some_and(|p| p.to_lowercase().contains("/subnets/apim-outbound"))));
}

#[test]
fn landing_zone_with_its_network_applies_without_writing_it() {
    let emu = common::Emulator::start("3000", "none", 35);
    landing_zone_network(&emu.url, "swedencentral", true, true);
    let before = emu.log().len();
    let bp = common::example("landing-zone");
    let out = common::run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert!(out.status.success(), "{}", text(&out));
    let touched: Vec<Value> = emu.log()[before..]
        .iter()
        .filter(|e| {
            matches!(e["method"].as_str(), Some("PUT" | "DELETE"))
                && e["path"]
                    .as_str()
                    .is_some_and(|p| p.to_lowercase().contains("/rg-connectivity/"))
        })
        .cloned()
        .collect();
    assert!(
        touched.is_empty(),
        "the landing zone's network was written: {touched:#?}"
    );
    let plan = common::run(&["plan", "--detailed-exitcode"], &bp, &emu.url);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
}

#[test]
fn preflight_finds_an_undelegated_subnet_without_security_group_and_a_network_elsewhere() {
    // No delegation, no network security group.
    let emu = common::Emulator::start("3000", "none", 36);
    landing_zone_network(&emu.url, "swedencentral", false, false);
    let bp = common::example("landing-zone");
    let before = common::writes(&emu.log());
    let out = common::run(&["apply", "--auto-approve"], &bp, &emu.url);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert_eq!(common::writes(&emu.log()), before, "{all}");
    assert!(
        all.contains(
            "subnet vnet-lz-spoke/apim-outbound is not delegated to Microsoft.Web/serverFarms"
        ),
        "{all}"
    );
    assert!(
        all.contains("subnet vnet-lz-spoke/apim-outbound has no network security group"),
        "{all}"
    );
    // plan --json carries the findings, located.
    let plan = common::run(&["plan", "--json"], &bp, &emu.url);
    let v: Value = serde_json::from_slice(&plan.stdout).unwrap();
    let f: Vec<&Value> = v["preflight"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "subnets")
        .collect();
    assert_eq!(f.len(), 2, "{v:#}");
    assert!(f.iter().all(|f| f["field"] == "apim.network.subnetId"
        && f["severity"] == "error"
        && f["line"] == line_of(&common::read(&bp), "subnets/apim-outbound")));

    // The network in another region: the gateway cannot join it, and the private endpoints
    // would be placed where their network is not.
    let emu = common::Emulator::start("3000", "none", 37);
    landing_zone_network(&emu.url, "westeurope", true, true);
    let before = common::writes(&emu.log());
    let out = common::run(&["apply", "--auto-approve"], &bp, &emu.url);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert_eq!(common::writes(&emu.log()), before, "{all}");
    assert!(
        all.contains("is in a network in westeurope; API Management in swedencentral joins only a network of its own region"),
        "{all}"
    );
    assert!(
        all.contains("the private endpoint would be created in swedencentral, but subnet vnet-lz-spoke/private-endpoints is in a network in westeurope"),
        "{all}"
    );
    // Skipped on request: its requests are not sent.
    let before = emu.log().len();
    let plan = common::run(&["plan", "--skip-preflight", "subnets"], &bp, &emu.url);
    assert!(plan.status.success());
    assert!(!emu.log()[before..].iter().any(|e| e["path"]
        .as_str()
        .is_some_and(|p| p.to_lowercase().contains("/subnets/"))));
}

#[test]
fn the_emulator_refuses_a_private_endpoint_on_a_missing_subnet_through_the_binary() {
    // Preflight off: the write itself fails as Azure fails it, and apply says so.
    let emu = common::Emulator::start("3000", "none", 38);
    let out = common::run(
        &["apply", "--auto-approve", "--skip-preflight", "subnets"],
        &common::example("landing-zone"),
        &emu.url,
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("InvalidResourceReference"), "{all}");
    let refused: Vec<Value> = emu
        .log()
        .into_iter()
        .filter(|e| e["method"] == "PUT" && e["status"] == 400)
        .collect();
    assert!(!refused.is_empty());
}

fn put(url: &str, id: &str, api: &str, body: Value) -> (u16, Value) {
    common::http(url, "PUT", &format!("{id}?api-version={api}"), Some(&body))
}

/// A 400 with this ARM error code; the error, for more checks.
fn refused((status, e): (u16, Value), code: &str) -> Value {
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (400, Some(code)),
        "{e}"
    );
    e
}

#[test]
fn the_emulator_refuses_what_the_network_provider_refuses() {
    let emu = common::Emulator::start("3000", "none", 39);
    let rg = "/subscriptions/00000000-0000-0000-0000-000000000009/resourceGroups/rg-n";
    assert!(
        put(
            &emu.url,
            rg,
            "2025-04-01",
            json!({"location": "westeurope"})
        )
        .0 < 300
    );
    let net = format!("{rg}/providers/Microsoft.Network/virtualNetworks/vnet-weu");
    let (s, e) = put(
        &emu.url,
        &net,
        "2025-07-01",
        json!({ "location": "westeurope", "properties": {
            "addressSpace": { "addressPrefixes": ["10.9.0.0/16"] },
            "subnets": [
                { "name": "pe", "properties": { "addressPrefix": "10.9.1.0/24" } },
                { "name": "plain", "properties": { "addressPrefix": "10.9.2.0/27" } } ] } }),
    );
    assert!(s < 300, "{e}");
    let account = format!("{rg}/providers/Microsoft.CognitiveServices/accounts/a");
    let pe = |subnet: &str, location: &str| {
        json!({ "location": location, "properties": {
            "subnet": { "id": format!("{net}/subnets/{subnet}") },
            "privateLinkServiceConnections": [ { "name": "c", "properties": { "privateLinkServiceId": account, "groupIds": ["account"] } } ] } })
    };
    let pes = format!("{rg}/providers/Microsoft.Network/privateEndpoints");
    // A subnet that does not exist.
    let e = refused(
        put(
            &emu.url,
            &format!("{pes}/p1"),
            "2025-07-01",
            pe("missing", "westeurope"),
        ),
        "InvalidResourceReference",
    );
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("both resources are in the same region"));
    // A private endpoint outside its network's region.
    refused(
        put(
            &emu.url,
            &format!("{pes}/p2"),
            "2025-07-01",
            pe("pe", "eastus2"),
        ),
        "InvalidResourceReference",
    );
    // In its network's region: accepted (the account it reaches may be anywhere).
    let (s, e) = put(
        &emu.url,
        &format!("{pes}/p3"),
        "2025-07-01",
        pe("pe", "westeurope"),
    );
    assert!(s < 300, "{e}");

    let apim = |sku: &str, location: &str, subnet: &str| {
        json!({ "location": location, "sku": { "name": sku, "capacity": 1 },
            "properties": { "publisherName": "x", "publisherEmail": "x@contoso.com",
                "virtualNetworkType": "External",
                "virtualNetworkConfiguration": { "subnetResourceId": format!("{net}/subnets/{subnet}") } } })
    };
    let svc = format!("{rg}/providers/Microsoft.ApiManagement/service");
    // v2 integration on a subnet without the Microsoft.Web/serverFarms delegation.
    refused(
        put(
            &emu.url,
            &format!("{svc}/s1"),
            "2024-05-01",
            apim("StandardV2", "westeurope", "plain"),
        ),
        "VirtualNetworkSubnetHasIncorrectDelegation",
    );
    // Classic injection into a network of another region.
    refused(
        put(
            &emu.url,
            &format!("{svc}/s2"),
            "2024-05-01",
            apim("Premium", "eastus2", "plain"),
        ),
        "InvalidParameters",
    );
    // Classic injection in the service's region: accepted.
    let (s, e) = put(
        &emu.url,
        &format!("{svc}/s3"),
        "2024-05-01",
        apim("Premium", "westeurope", "plain"),
    );
    assert!(s < 300, "{e}");

    // Subnets as children: GET, a PUT that joins the network's list, and peerings that connect
    // once both directions exist.
    let (s, sub) = common::http(
        &emu.url,
        "GET",
        &format!("{net}/subnets/pe?api-version=2025-07-01"),
        None,
    );
    assert_eq!(s, 200);
    assert_eq!(sub["properties"]["addressPrefix"], "10.9.1.0/24");
    // The network may still be provisioning from the service writes above: like ARM, the emulator
    // answers AnotherOperationInProgress until it is done, and a client tries again (bounded).
    let mut tries = 0;
    let (s, e) = loop {
        let (s, e) = put(
            &emu.url,
            &format!("{net}/subnets/more"),
            "2025-07-01",
            json!({ "properties": { "addressPrefix": "10.9.3.0/24" } }),
        );
        tries += 1;
        if s < 300 || e["error"]["code"] != "AnotherOperationInProgress" || tries == 500 {
            break (s, e);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(s < 300, "{e}");
    let other = format!("{rg}/providers/Microsoft.Network/virtualNetworks/vnet-two");
    let (s, e) = put(
        &emu.url,
        &other,
        "2025-07-01",
        json!({ "location": "eastus2", "properties": { "addressSpace": { "addressPrefixes": ["10.8.0.0/16"] } } }),
    );
    assert!(s < 300, "{e}");
    std::thread::sleep(std::time::Duration::from_millis(100));
    let peer = |from: &str, to: &str, name: &str| {
        put(
            &emu.url,
            &format!("{from}/virtualNetworkPeerings/{name}"),
            "2025-07-01",
            json!({ "properties": { "remoteVirtualNetwork": { "id": to }, "allowVirtualNetworkAccess": true } }),
        )
    };
    assert!(peer(&net, &other, "a-to-b").0 < 300);
    assert!(peer(&other, &net, "b-to-a").0 < 300);
    std::thread::sleep(std::time::Duration::from_millis(100));
    let (_, p) = common::http(
        &emu.url,
        "GET",
        &format!("{net}/virtualNetworkPeerings/a-to-b?api-version=2025-07-01"),
        None,
    );
    assert_eq!(p["properties"]["peeringState"], "Connected", "{p}");
    let (_, v) = common::http(
        &emu.url,
        "GET",
        &format!("{net}?api-version=2025-07-01"),
        None,
    );
    let names: Vec<&str> = v["properties"]["subnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["pe", "plain", "more"]);
}

#[test]
fn an_unpeered_priority_2_member_is_an_error_and_the_private_example_is_clean() {
    let (code, findings, stderr) = lint_json(&common::example("afd-apim-private"), &[]);
    assert_eq!(code, Some(0), "{findings:#?} {stderr}");
    assert!(findings.is_empty(), "{findings:#?}");

    let dir = tempfile::tempdir().unwrap();
    let (bp, text) = edited(
        "afd-apim-private",
        dir.path(),
        &[("    peerings: [vnet-aoai-weu]", "    peerings: []")],
    );
    let (code, findings, _) = lint_json(&bp, &[]);
    assert_eq!(code, Some(1));
    let unreachable: Vec<&Value> = findings.iter().filter(|f| f["rule"] == "AOAI056").collect();
    // The eastus2 gateway misses the westeurope account; the westeurope gateway misses both
    // eastus2 accounts: every one a priority-2 member.
    assert_eq!(unreachable.len(), 3, "{findings:#?}");
    let weu = unreachable
        .iter()
        .find(|f| f["location"]["field"] == "networking.privateEndpoints[2].subnetId")
        .unwrap();
    assert_eq!(weu["severity"], "error");
    assert_eq!(
        weu["location"]["line"],
        line_of(&text, "{ account: aoai-prv-weu-1") as u64
    );
    let msg = weu["message"].as_str().unwrap();
    assert!(msg.contains("priority 2 in aoai-pool-eastus2"), "{msg}");
    assert!(
        msg.contains("peerings: [vnet-aoai-weu]"),
        "names the fix: {msg}"
    );
    assert!(
        msg.contains("or put a private endpoint of aoai-prv-weu-1 in vnet-aoai-eus2"),
        "{msg}"
    );

    // Peered one way only is enough to render both; no peering is the error above.
    let (bp, _) = edited(
        "afd-apim-private",
        dir.path(),
        &[
            ("    peerings: [vnet-aoai-weu]", "    peerings: []"),
            (
                "      - { name: private-endpoints, addressPrefix: 10.31.2.0/24, purpose: privateEndpoints }",
                "      - { name: private-endpoints, addressPrefix: 10.31.2.0/24, purpose: privateEndpoints }\n    peerings: [vnet-aoai-eus2]",
            ),
        ],
    );
    let (code, findings, _) = lint_json(&bp, &[]);
    assert_eq!(code, Some(0), "{findings:#?}");
}

#[test]
fn explain_traces_every_pool_member_hop_by_hop() {
    let out = common::bin()
        .args(["lint", "--explain"])
        .arg(common::example("afd-apim-private"))
        .output()
        .unwrap();
    let t = String::from_utf8_lossy(&out.stdout);
    // Each gateway, each account, with its role in the pool.
    for line in [
        "ok API Management apim-aoai-private (eastus2) -> openai.accounts[0] aoai-prv-eus2-1 (eastus2) [priority 1 in aoai-pool-eastus2]",
        "ok API Management apim-aoai-private (eastus2) -> openai.accounts[2] aoai-prv-weu-1 (westeurope) [priority 2 in aoai-pool-eastus2]",
        "ok API Management apim-aoai-private-weu (westeurope) -> openai.accounts[0] aoai-prv-eus2-1 (eastus2) [priority 2 in aoai-pool-westeurope]",
        "ok API Management apim-aoai-private-weu (westeurope) -> openai.accounts[2] aoai-prv-weu-1 (westeurope) [priority 1 in aoai-pool-westeurope]",
        "+ private endpoint in vnet-aoai-weu, peered with vnet-aoai-eus2 (both directions rendered)",
        "+ privatelink.openai.azure.com is linked to vnet-aoai-weu",
    ] {
        assert!(t.contains(line), "no `{line}` in:\n{t}");
    }
    let members = t
        .lines()
        .filter(|l| l.contains(" -> openai.accounts["))
        .count();
    assert_eq!(members, 6, "two gateways x three accounts:\n{t}");

    // Without the peering, the cross-region members are traced as failing.
    let dir = tempfile::tempdir().unwrap();
    let (bp, _) = edited(
        "afd-apim-private",
        dir.path(),
        &[("    peerings: [vnet-aoai-weu]", "    peerings: []")],
    );
    let out = common::bin()
        .args(["lint", "--explain"])
        .arg(&bp)
        .output()
        .unwrap();
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(t.contains("NO API Management apim-aoai-private (eastus2) -> openai.accounts[2] aoai-prv-weu-1 (westeurope) [priority 2 in aoai-pool-eastus2]"), "{t}");
    assert!(
        t.contains("x private endpoint in vnet-aoai-weu, not peered with vnet-aoai-eus2"),
        "{t}"
    );

    // The round-robin mode's fallback is traced too.
    let (bp, _) = edited(
        "afd-apim-private",
        dir.path(),
        &[(
            "    mode: pool\n    poolType: round-robin",
            "    mode: round-robin",
        )],
    );
    let out = common::bin()
        .args(["lint", "--explain"])
        .arg(&bp)
        .output()
        .unwrap();
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(
        t.contains("aoai-prv-weu-1 (westeurope) [cross-region fallback of the last retry]"),
        "{t}"
    );
}

#[test]
fn a_gateway_network_in_another_region_is_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let (bp, text) = edited(
        "apim",
        dir.path(),
        &[(
            "    # region: the blueprint's location by default",
            "    region: norwayeast  # the blueprint's location by default",
        )],
    );
    let (code, findings, _) = lint_json(&bp, &[]);
    assert_eq!(code, Some(1));
    let f = findings
        .iter()
        .find(|f| f["rule"] == "AOAI055")
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert_eq!(f["location"]["field"], "apim.network.subnetId");
    assert_eq!(
        f["location"]["line"],
        line_of(&text, "subnetId: vnet-hub/apim") as u64
    );
    assert!(f["message"]
        .as_str()
        .unwrap()
        .contains("needs a network in swedencentral"));
}

#[test]
fn network_mistakes_are_located_validation_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (edits, field, says, needle) in [
        (
            vec![("addressPrefix: 10.20.1.0/27", "addressPrefix: 10.20.1.0/30")],
            "networks[0].subnets[0].addressPrefix",
            "is /29 or larger",
            "10.20.1.0/30",
        ),
        (
            vec![("addressPrefix: 10.20.2.0/24", "addressPrefix: 10.20.1.0/24")],
            "networks[0].subnets[1].addressPrefix",
            "overlaps subnet `apim`",
            "name: private-endpoints, addressPrefix",
        ),
        (
            vec![("addressPrefix: 10.20.2.0/24", "addressPrefix: 10.99.2.0/24")],
            "networks[0].subnets[1].addressPrefix",
            "outside the address space",
            "10.99.2.0/24",
        ),
        (
            vec![(
                "subnetId: vnet-hub/apim",
                "subnetId: vnet-hub/private-endpoints  # wrong purpose",
            )],
            "apim.network.subnetId",
            "is for privateEndpoints, but this field uses it for apimInjection",
            "# wrong purpose",
        ),
        (
            vec![("subnetId: vnet-hub/apim", "subnetId: vnet-hub/apim-typo")],
            "apim.network.subnetId",
            "has no subnet `apim-typo`",
            "apim-typo",
        ),
    ] {
        let (bp, text) = edited("apim", dir.path(), &edits);
        let (code, findings, stderr) = lint_json(&bp, &[]);
        assert_eq!(code, Some(1), "{field}: {findings:#?} {stderr}");
        let f = findings
            .iter()
            .find(|f| f["rule"] == "BP001" && f["location"]["field"] == field)
            .unwrap_or_else(|| panic!("{field}: {findings:#?}"));
        assert!(f["message"].as_str().unwrap().contains(says), "{f:#}");
        assert_eq!(
            f["location"]["line"],
            line_of(&text, needle) as u64,
            "{f:#}"
        );
    }
    // Peered networks with overlapping address spaces.
    let (bp, _) = edited(
        "afd-apim-private",
        dir.path(),
        &[(
            "addressSpace: [10.31.0.0/16]",
            "addressSpace: [10.30.0.0/16]",
        )],
    );
    let (code, findings, _) = lint_json(&bp, &[]);
    assert_eq!(code, Some(1));
    assert!(
        findings
            .iter()
            .any(|f| f["location"]["field"] == "networks[0].peerings[0]"
                && f["message"].as_str().unwrap().contains("overlap")),
        "{findings:#?}"
    );
}

#[test]
fn classic_multi_region_gets_a_network_per_region_and_reaches_every_account() {
    // apim with a second gateway region (Premium additionalRegions) in its own network.
    let dir = tempfile::tempdir().unwrap();
    let nor = "  - name: vnet-nor\n    region: norwayeast\n    addressSpace: [10.21.0.0/16]\n    subnets:\n      - { name: apim, addressPrefix: 10.21.1.0/27, purpose: apimInjection }\n";
    let regions = "  additionalRegions:\n    - { region: norwayeast, capacity: 1, subnetId: vnet-nor/apim }\n  loadBalancing:";
    let (bp, text) = edited(
        "apim",
        dir.path(),
        &[
            ("networking:\n", &format!("{nor}networking:\n")),
            ("  loadBalancing:", regions),
        ],
    );
    // The norwayeast gateway cannot reach the private endpoints in vnet-hub: not peered.
    let (code, findings, _) = lint_json(&bp, &[]);
    assert_eq!(code, Some(1));
    let unreachable: Vec<&Value> = findings.iter().filter(|f| f["rule"] == "AOAI056").collect();
    assert_eq!(unreachable.len(), 3, "{findings:#?}");
    assert!(unreachable.iter().all(|f| f["message"]
        .as_str()
        .unwrap()
        .starts_with("API Management apim-aoai-gw (norwayeast) cannot reach")));
    // Peered and the zones linked to vnet-nor too: clean; the rendered service joins each region's own subnet, and the injected
    // subnets' security groups allow Traffic Manager (multi-region, External).
    let peered = text
        .replace(
            "      - { name: apim, addressPrefix: 10.21.1.0/27, purpose: apimInjection }\n",
            "      - { name: apim, addressPrefix: 10.21.1.0/27, purpose: apimInjection }\n    peerings: [vnet-hub]\n",
        )
        .replace("      - vnet-hub\n", "      - vnet-hub\n      - vnet-nor\n");
    std::fs::write(&bp, &peered).unwrap();
    let (code, findings, _) = lint_json(&bp, &[]);
    assert_eq!(code, Some(0), "{findings:#?}");
    let reqs = render(&bp, &dir.path().join("out"));
    let service = &reqs
        .iter()
        .find(|r| r.1 == "Microsoft.ApiManagement/service")
        .unwrap()
        .2;
    assert!(
        service["properties"]["additionalLocations"][0]["virtualNetworkConfiguration"]
            ["subnetResourceId"]
            .as_str()
            .unwrap()
            .ends_with("/virtualNetworks/vnet-nor/subnets/apim")
    );
    for nsg in ["nsg-vnet-hub-apim", "nsg-vnet-nor-apim"] {
        let body = &reqs.iter().find(|r| r.0.ends_with(nsg)).unwrap().2;
        assert!(
            body["properties"]["securityRules"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["properties"]["sourceAddressPrefix"] == "AzureTrafficManager"),
            "{nsg}: {body:#}"
        );
    }
    // The additional region's subnet in a network of another region: AOAI055 at its field.
    std::fs::write(
        &bp,
        peered.replace(
            "    region: norwayeast\n    addressSpace",
            "    region: swedencentral\n    addressSpace",
        ),
    )
    .unwrap();
    let (code, findings, _) = lint_json(&bp, &[]);
    assert_eq!(code, Some(1));
    assert!(
        findings.iter().any(|f| f["rule"] == "AOAI055"
            && f["location"]["field"] == "apim.additionalRegions[0].subnetId"),
        "{findings:#?}"
    );
}
