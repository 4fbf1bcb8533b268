//! Private end to end (issue 12) through the binary: account kinds and their private DNS
//! zones, API Management networking (injection, v2 outbound integration, inbound private
//! endpoint) with the invalid combinations, and the two-phase lock-down of public access.

mod common;

use std::path::Path;

use serde_json::Value;

/// Render `blueprint` into `out`; every request as (id, body), in file order.
fn render(blueprint: &Path, out: &Path) -> Vec<(String, String, Value)> {
    let o = common::bin()
        .arg("render")
        .arg(blueprint)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let index: Value = serde_json::from_str(&common::read(&out.join("index.json"))).unwrap();
    index["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let file = r["file"].as_str().unwrap().to_string();
            let text = common::read(&out.join(&file));
            let body = text.split_once("\n\n").unwrap().1;
            (
                r["id"].as_str().unwrap().to_string(),
                file,
                serde_json::from_str(body).unwrap(),
            )
        })
        .collect()
}

fn body<'a>(reqs: &'a [(String, String, Value)], id_end: &str) -> &'a Value {
    &reqs
        .iter()
        .find(|(id, _, _)| id.ends_with(id_end))
        .unwrap_or_else(|| panic!("no request for ...{id_end}"))
        .2
}

#[test]
fn account_kind_defaults_to_ai_services_with_its_three_private_dns_zones() {
    let dir = tempfile::tempdir().unwrap();
    // The apim example without `openai.kind`: a new blueprint gets AIServices accounts; the
    // second account keeps the classic kind by its own override.
    let bp = common::edited_example("apim", dir.path(), "kinds.yaml", |v| {
        v["openai"].as_mapping_mut().unwrap().remove("kind");
        v["openai"]["accounts"][1]["kind"] = "OpenAI".into();
    });
    let reqs = render(&bp, &dir.path().join("out"));
    assert_eq!(
        body(&reqs, "accounts/aoai-apim-swc-1")["kind"],
        "AIServices"
    );
    assert_eq!(body(&reqs, "accounts/aoai-apim-swc-2")["kind"], "OpenAI");
    let zones: Vec<&str> = reqs
        .iter()
        .filter(|(id, _, _)| {
            id.contains("/privateDnsZones/") && !id.contains("/virtualNetworkLinks/")
        })
        .map(|(id, _, _)| id.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        zones,
        [
            "privatelink.cognitiveservices.azure.com",
            "privatelink.openai.azure.com",
            "privatelink.services.ai.azure.com"
        ]
    );
    // Every zone is linked to the listed network, and the AIServices account's private
    // endpoint registers in all three.
    let links = reqs
        .iter()
        .filter(|(id, _, _)| id.contains("/virtualNetworkLinks/"))
        .count();
    assert_eq!(links, 3);
    let group = body(&reqs, "pe-aoai-apim-swc-1/privateDnsZoneGroups/default");
    let configs: Vec<&str> = group["properties"]["privateDnsZoneConfigs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["properties"]["privateDnsZoneId"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(configs, zones);
    // The gateway calls the Azure OpenAI host, which both kinds serve.
    let backend = body(&reqs, "backends/aoai-apim-swc-1");
    assert_eq!(
        backend["properties"]["url"],
        "https://aoai-apim-swc-1.openai.azure.com/openai"
    );
}

#[test]
fn classic_kind_keeps_one_zone() {
    let dir = tempfile::tempdir().unwrap();
    let reqs = render(&common::example("apim"), dir.path());
    let zones = reqs
        .iter()
        .filter(|(id, _, _)| {
            id.contains("/privateDnsZones/") && !id.contains("/virtualNetworkLinks/")
        })
        .count();
    assert_eq!(zones, 1);
    assert_eq!(body(&reqs, "accounts/aoai-apim-swc-1")["kind"], "OpenAI");
}

struct Lint {
    code: Option<i32>,
    findings: Vec<Value>,
    stderr: String,
    text: String,
}

/// Lint an example after text edits (`--format json`).
fn lint(base: &str, edits: &[(&str, &str)]) -> Lint {
    let mut text = common::read(&common::example(base));
    for (from, to) in edits {
        assert!(text.contains(from), "`{from}` not in {base}");
        text = text.replacen(from, to, 1);
    }
    let dir = tempfile::tempdir().unwrap();
    let bp = dir.path().join(format!("{base}.yaml"));
    std::fs::write(&bp, &text).unwrap();
    let out = common::bin()
        .arg("lint")
        .arg(&bp)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let findings = serde_json::from_slice::<Value>(&out.stdout)
        .ok()
        .and_then(|v| v["findings"].as_array().cloned())
        .unwrap_or_default();
    Lint {
        code: out.status.code(),
        findings,
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        text,
    }
}

fn line_of(text: &str, needle: &str) -> u64 {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in the blueprint")) as u64
        + 1
}

/// The error of `rule` at `field`, on the line holding `needle`.
fn assert_error(r: &Lint, rule: &str, field: &str, needle: &str) {
    let f = r
        .findings
        .iter()
        .find(|f| f["rule"] == rule && f["location"]["field"] == field)
        .unwrap_or_else(|| panic!("no {rule} at {field}: {:#?}\n{}", r.findings, r.stderr));
    assert_eq!(f["severity"], "error", "{f:#}");
    assert_eq!(f["location"]["line"], line_of(&r.text, needle), "{f:#}");
    assert!(!f["message"].as_str().unwrap_or("").is_empty());
    assert_eq!(r.code, Some(1));
}

const PE_SUBNET: &str = "vnet-hub/private-endpoints";

#[test]
fn private_example_lints_clean() {
    let r = lint("afd-apim-private", &[]);
    assert_eq!(r.code, Some(0), "{:#?}", r.findings);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
}

#[test]
fn inbound_private_endpoint_on_an_injected_premium_is_an_error() {
    let pe = format!("    privateEndpoint: {{ subnetId: {PE_SUBNET} }}\n  loadBalancing:");
    let r = lint("apim", &[("  loadBalancing:", &pe)]);
    assert_error(
        &r,
        "AOAI050",
        "apim.network.privateEndpoint",
        "privateEndpoint:",
    );
}

#[test]
fn inbound_private_endpoint_on_basic_v2_is_an_error() {
    let pe = format!("    privateEndpoint: {{ subnetId: {PE_SUBNET} }}\n  loadBalancing:");
    let r = lint(
        "apim",
        &[
            (
                "sku: { name: Premium, capacity: 1 }",
                "sku: { name: BasicV2, capacity: 1 }",
            ),
            ("    mode: External\n    subnetId: vnet-hub/apim\n", ""),
            ("  loadBalancing:", &pe),
        ],
    );
    assert_error(
        &r,
        "AOAI051",
        "apim.network.privateEndpoint",
        "privateEndpoint:",
    );
}

#[test]
fn lock_down_without_a_private_connection_is_an_error() {
    // Injected Premium: no inbound private endpoint possible, no Front Door.
    let r = lint(
        "apim",
        &[(
            "  loadBalancing:",
            "    publicNetworkAccess: Disabled\n  loadBalancing:",
        )],
    );
    assert_error(
        &r,
        "AOAI052",
        "apim.network.publicNetworkAccess",
        "    publicNetworkAccess: Disabled",
    );
}

#[test]
fn lock_down_with_front_door_on_the_public_endpoint_is_an_error() {
    let r = lint(
        "afd-apim-private",
        &[("  privateLink: true", "  privateLink: false")],
    );
    assert_error(
        &r,
        "AOAI053",
        "apim.network.publicNetworkAccess",
        "    publicNetworkAccess: Disabled",
    );
}

#[test]
fn vnet_integration_on_a_classic_tier_and_injection_on_v2_are_errors() {
    // Classic Standard has neither injection nor outbound integration.
    let r = lint(
        "apim",
        &[(
            "sku: { name: Premium, capacity: 1 }",
            "sku: { name: Standard, capacity: 1 }",
        )],
    );
    assert_error(&r, "AOAI017", "apim.network", "  network:");
    // Standard v2 integrates outbound only: Internal (injection) is refused.
    let r = lint(
        "afd-apim-private",
        &[("    mode: External", "    mode: Internal")],
    );
    assert_error(&r, "AOAI017", "apim.network.mode", "    mode: Internal");
}

#[test]
fn internal_mode_without_a_subnet_is_a_located_validation_error() {
    let r = lint(
        "afd-apim-private",
        &[
            ("    mode: External", "    mode: Internal"),
            ("    subnetId: vnet-aoai-eus2/apim-outbound\n", ""),
        ],
    );
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("apim.network.mode"), "{}", r.stderr);
    assert!(r.stderr.contains("subnetId is not set"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!(":{}:", line_of(&r.text, "mode: Internal"))),
        "{}",
        r.stderr
    );
}

/// Index of the first log entry after `from` matching `pred`.
fn position(log: &[Value], from: usize, pred: impl Fn(&Value) -> bool) -> Option<usize> {
    log.iter().skip(from).position(pred).map(|i| i + from)
}

#[test]
fn lock_down_happens_after_the_approvals_and_a_second_apply_writes_nothing() {
    let emu = common::Emulator::start("3000", "none", 3);
    let bp = common::example("afd-apim-private");
    let out = common::run(&["apply", "--auto-approve"], &bp, &emu.url);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let service = "/subscriptions/00000000-0000-0000-0000-000000000004/resourcegroups/rg-aoai-private/providers/microsoft.apimanagement/service/apim-aoai-private";
    let log = emu.log();
    let put = |e: &Value, id: &str| e["method"] == "PUT" && e["resource_id"] == id;
    let service_puts: Vec<usize> = log
        .iter()
        .enumerate()
        .filter(|(_, e)| put(e, service) && e["status"].as_u64().is_some_and(|s| s < 300))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(service_puts.len(), 2, "create, then lock down");
    let approval = position(&log, 0, |e| {
        e["method"] == "PUT"
            && e["resource_id"].as_str().is_some_and(|id| {
                id.starts_with(&format!("{service}/privateendpointconnections/afd-"))
            })
    })
    .expect("Front Door's connection approved");
    let gateway_pe = position(&log, 0, |e| {
        put(e, "/subscriptions/00000000-0000-0000-0000-000000000004/resourcegroups/rg-aoai-private/providers/microsoft.network/privateendpoints/pe-apim-aoai-private")
    })
    .expect("the gateway's private endpoint");
    assert!(service_puts[0] < approval && service_puts[0] < gateway_pe);
    assert!(
        service_puts[1] > approval && service_puts[1] > gateway_pe,
        "the lock-down PUT ({}) must follow the approval ({approval}) and the private endpoint ({gateway_pe})",
        service_puts[1]
    );
    // Nothing refused on the way (Azure refuses Disabled at creation, and before an approval).
    let refused: Vec<&Value> = log
        .iter()
        .filter(|e| e["method"] == "PUT" && e["status"].as_u64().is_some_and(|s| s >= 400))
        .collect();
    assert!(refused.is_empty(), "{refused:#?}");
    let (status, doc) = common::http(
        &emu.url,
        "GET",
        &format!("{service}?api-version=2024-05-01"),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(doc["properties"]["publicNetworkAccess"], "Disabled");

    // Plan sees the step done; a second apply writes nothing.
    let plan = common::run(&["plan", "--detailed-exitcode"], &bp, &emu.url);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stdout)
    );
    let before = common::writes(&emu.log());
    let again = common::run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert!(again.status.success());
    assert_eq!(common::writes(&emu.log()), before, "a second apply wrote");
}

#[test]
fn plan_shows_the_lock_down_step() {
    let emu = common::Emulator::start("3000", "none", 4);
    let plan = common::run(
        &["plan", "--full-ids"],
        &common::example("afd-apim-private"),
        &emu.url,
    );
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        text.contains(
            "then: disable public access on /subscriptions/00000000-0000-0000-0000-000000000004/resourceGroups/rg-aoai-private/providers/Microsoft.ApiManagement/service/apim-aoai-private "
        ),
        "{text}"
    );
    assert!(
        text.contains("properties.publicNetworkAccess: \"Enabled\" -> \"Disabled\""),
        "{text}"
    );
    assert!(text.contains("Azure refuses public network access Disabled at creation"));
}

#[test]
fn emulator_refuses_what_the_tier_lacks() {
    let emu = common::Emulator::start("3000", "none", 6);
    let rg = "/subscriptions/00000000-0000-0000-0000-000000000009/resourceGroups/rg-x";
    let (s, _) = common::http(
        &emu.url,
        "PUT",
        &format!("{rg}?api-version=2025-04-01"),
        Some(&serde_json::json!({"location": "eastus2"})),
    );
    assert!(s < 300);
    let service = |sku: &str, vnet: &str| {
        serde_json::json!({
            "location": "eastus2", "sku": { "name": sku, "capacity": 1 },
            "properties": { "publisherName": "x", "publisherEmail": "x@contoso.com",
                "virtualNetworkType": vnet,
                "virtualNetworkConfiguration": { "subnetResourceId": format!("{rg}/providers/Microsoft.Network/virtualNetworks/v/subnets/s") } }
        })
    };
    let apim = format!("{rg}/providers/Microsoft.ApiManagement/service");
    // Outbound integration on Basic v2, injection (Internal) on Standard v2.
    let (s, e) = common::http(
        &emu.url,
        "PUT",
        &format!("{apim}/a1?api-version=2024-05-01"),
        Some(&service("BasicV2", "External")),
    );
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("NotSupported")),
        "{e}"
    );
    let (s, e) = common::http(
        &emu.url,
        "PUT",
        &format!("{apim}/a2?api-version=2024-05-01"),
        Some(&service("StandardV2", "Internal")),
    );
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("NotSupported")),
        "{e}"
    );
    // Standard v2 with outbound integration into a delegated subnet of its region is accepted.
    let (s, e) = common::http(
        &emu.url,
        "PUT",
        &format!("{rg}/providers/Microsoft.Network/virtualNetworks/v?api-version=2025-07-01"),
        Some(&serde_json::json!({
            "location": "eastus2",
            "properties": { "addressSpace": { "addressPrefixes": ["10.0.0.0/16"] },
                "subnets": [ { "name": "s", "properties": { "addressPrefix": "10.0.1.0/27",
                    "delegations": [ { "name": "d", "properties": { "serviceName": "Microsoft.Web/serverFarms" } } ] } } ] }
        })),
    );
    assert!(s < 300, "{e}");
    let (s, e) = common::http(
        &emu.url,
        "PUT",
        &format!("{apim}/a3?api-version=2024-05-01"),
        Some(&service("StandardV2", "External")),
    );
    assert!(s < 300, "{e}");
    // A private endpoint to a Basic v2 service.
    let mut plain = service("BasicV2", "None");
    plain["properties"]
        .as_object_mut()
        .unwrap()
        .remove("virtualNetworkConfiguration");
    let (s, e) = common::http(
        &emu.url,
        "PUT",
        &format!("{apim}/a4?api-version=2024-05-01"),
        Some(&plain),
    );
    assert!(s < 300, "{e}");
    let pe = serde_json::json!({
        "location": "eastus2",
        "properties": { "subnet": { "id": format!("{rg}/providers/Microsoft.Network/virtualNetworks/v/subnets/pe") },
            "privateLinkServiceConnections": [ { "name": "c", "properties": { "privateLinkServiceId": format!("{apim}/a4"), "groupIds": ["Gateway"] } } ] }
    });
    let (s, e) = common::http(
        &emu.url,
        "PUT",
        &format!("{rg}/providers/Microsoft.Network/privateEndpoints/pe-a4?api-version=2025-07-01"),
        Some(&pe),
    );
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("NotSupported")),
        "{e}"
    );
}

const WEU: &str = "/subscriptions/00000000-0000-0000-0000-000000000004/resourceGroups/rg-aoai-private/providers/Microsoft.ApiManagement/service/apim-aoai-private-weu";
const EUS2: &str = "/subscriptions/00000000-0000-0000-0000-000000000004/resourceGroups/rg-aoai-private/providers/Microsoft.ApiManagement/service/apim-aoai-private";

#[test]
fn each_instance_is_a_service_with_its_own_identity_origin_and_private_link() {
    let dir = tempfile::tempdir().unwrap();
    let reqs = render(&common::example("afd-apim-private"), dir.path());
    for service in [EUS2, WEU] {
        let s = body(&reqs, service);
        assert_eq!(s["sku"]["name"], "StandardV2");
        assert_eq!(s["properties"]["virtualNetworkType"], "External");
        // Same API, operations, backends and policy shape on each.
        for child in [
            "/apis/azure-openai",
            "/apis/azure-openai/operations/chat-completions",
            "/backends/aoai-prv-eus2-1",
            "/backends/aoai-prv-weu-1",
            "/loggers/appinsights-logger",
            "/namedValues/front-door-id",
            "/apis/azure-openai/policies/policy",
        ] {
            body(&reqs, &format!("{service}{child}"));
        }
    }
    // The instance's identity gets its own role on every account.
    let roles = reqs
        .iter()
        .filter(|(id, _, b)| {
            id.contains("/roleAssignments/")
                && b["properties"]["principalId"]
                    .as_str()
                    .is_some_and(|p| p.contains("apim-aoai-private-weu#/identity/principalId"))
        })
        .count();
    assert_eq!(roles, 3);
    // Each instance is an origin reached on its gateway host over its own Private Link, in
    // its region.
    let origin = body(&reqs, "origins/apim-westeurope");
    assert_eq!(
        origin["properties"]["hostName"],
        format!("${{after-apply:{WEU}#/properties/gatewayUrl|host}}")
    );
    let spl = &origin["properties"]["sharedPrivateLinkResource"];
    assert_eq!(spl["privateLink"]["id"], WEU);
    assert_eq!(spl["privateLinkLocation"], "westeurope");
    assert_eq!(spl["groupId"], "Gateway");
    // Shared resources are written once.
    let workspaces = reqs
        .iter()
        .filter(|(id, _, _)| id.contains("/workspaces/"))
        .count();
    assert_eq!(workspaces, 1);
    // Each instance has its own lock-down step.
    let steps: Vec<&str> = reqs
        .iter()
        .filter(|(_, f, _)| f.ends_with("_lock-down.http"))
        .map(|(id, _, _)| id.as_str())
        .collect();
    assert_eq!(steps, [EUS2, WEU]);
}

#[test]
fn a_policy_edited_in_one_instance_shows_as_drift_of_that_instance() {
    let emu = common::Emulator::start("3000", "none", 8);
    let bp = common::example("afd-apim-private");
    let out = common::run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Someone edits the policy of the West Europe instance in its portal.
    let path = format!("{WEU}/apis/azure-openai/policies/policy?api-version=2024-05-01");
    let (status, mut doc) = common::http(&emu.url, "GET", &path, None);
    assert_eq!(status, 200);
    let xml = doc["properties"]["value"].as_str().unwrap().to_string();
    let edited = xml.replacen("<inbound>", "<inbound>\n    <set-header name=\"x-debug\" exists-action=\"override\"><value>1</value></set-header>", 1);
    assert_ne!(xml, edited);
    doc["properties"]["value"] = edited.into();
    let body = serde_json::json!({ "properties": doc["properties"].clone() });
    let (status, _) = common::http(&emu.url, "PUT", &path, Some(&body));
    assert!(status < 300);

    let plan = common::run(
        &["plan", "--detailed-exitcode", "--full-ids"],
        &bp,
        &emu.url,
    );
    let text = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(plan.status.code(), Some(2), "{text}");
    assert!(
        text.contains(&format!(
            "~ {WEU}/apis/azure-openai/policies/policy will be updated in place"
        )),
        "{text}"
    );
    assert!(text.contains("x-debug"), "{text}");
    assert!(
        !text.contains(&format!("{EUS2}/apis/azure-openai/policies/policy will")),
        "the other instance has not drifted: {text}"
    );
    assert!(text.contains("0 to create, 1 to update"), "{text}");
}

#[test]
fn instances_outside_pattern_3_or_with_additional_regions_are_located_errors() {
    let inst = "  instances:\n    - { name: apim-aoai-gw-2, region: norwayeast }\n  loadBalancing:";
    let r = lint("apim", &[("  loadBalancing:", inst)]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("only in pattern afd-apim"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(&format!(":{}:", line_of(&r.text, "  instances:"))),
        "{}",
        r.stderr
    );

    let inst =
        "  instances:\n    - { name: apim-aoai-global-2, region: westeurope }\n  primaryWeight:";
    let r = lint("afd-apim", &[("  primaryWeight:", inst)]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("choose one"), "{}", r.stderr);
    // A region that already has a gateway.
    let r = lint(
        "afd-apim-private",
        &[("      region: westeurope", "      region: eastus2")],
    );
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("already has a gateway"), "{}", r.stderr);

    // A region without accounts.
    let r = lint(
        "afd-apim-private",
        &[("      region: westeurope", "      region: swedencentral")],
    );
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("apim.instances[0].region"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("has no Azure OpenAI account"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_instance_network_is_checked_like_the_primary_at_its_own_fields() {
    // Injection (Internal) on the Standard v2 instance.
    let r = lint(
        "afd-apim-private",
        &[(
            "      network:\n",
            "      network:\n        mode: Internal\n",
        )],
    );
    assert_error(
        &r,
        "AOAI017",
        "apim.instances[0].network.mode",
        "        mode: Internal",
    );
}

#[test]
fn foundry_accounts_get_the_v1_api_operations_and_classic_ones_keep_three() {
    let dir = tempfile::tempdir().unwrap();
    let reqs = render(&common::example("afd-apim-private"), &dir.path().join("v2"));
    let ops = |reqs: &[(String, String, Value)], service: &str| -> Vec<String> {
        reqs.iter()
            .filter(|(id, _, _)| {
                id.starts_with(&format!("{service}/apis/azure-openai/operations/"))
            })
            .map(|(id, _, _)| id.rsplit('/').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ops(&reqs, EUS2),
        [
            "chat-completions",
            "completions",
            "embeddings",
            "v1-chat-completions",
            "v1-responses",
            "v1-responses-get",
            "v1-responses-delete",
            "v1-responses-cancel",
            "v1-responses-input-items",
            "v1-embeddings",
            "v1-models"
        ]
    );
    let models = body(&reqs, "operations/v1-models");
    assert_eq!(models["properties"]["method"], "GET");
    assert_eq!(models["properties"]["urlTemplate"], "/v1/models");
    // The v1 paths carry no deployment in the path and no api-version.
    assert_eq!(
        models["properties"]["templateParameters"],
        serde_json::json!([])
    );
    assert_eq!(
        models["properties"]["request"]["queryParameters"],
        serde_json::json!([])
    );
    let chat = body(&reqs, "operations/chat-completions");
    assert_eq!(
        chat["properties"]["templateParameters"][0]["name"],
        "deployment-id"
    );

    let reqs = render(&common::example("apim"), &dir.path().join("classic"));
    let apim = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-aoai-apim/providers/Microsoft.ApiManagement/service/apim-aoai-gw";
    assert_eq!(
        ops(&reqs, apim),
        ["chat-completions", "completions", "embeddings"]
    );
}

#[test]
fn explain_traces_every_instance() {
    let out = common::bin()
        .args(["lint", "--explain"])
        .arg(common::example("afd-apim-private"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "ok Front Door afd-aoai-private -> API Management apim-aoai-private-weu (westeurope)"
        ),
        "{text}"
    );
    assert!(
        text.contains("ok API Management apim-aoai-private-weu (westeurope) -> openai.accounts[2] aoai-prv-weu-1 (westeurope)"),
        "{text}"
    );
}

#[test]
fn dropping_kind_openai_from_a_deployed_blueprint_is_a_replace_that_apply_refuses() {
    let emu = common::Emulator::start("5000", "none", 9);
    let dir = tempfile::tempdir().unwrap();
    let classic = common::example("afd");
    let out = common::run(&["apply", "--auto-approve"], &classic, &emu.url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The same blueprint without `kind`: the default AIServices is another kind.
    let bp = common::edited_example("afd", dir.path(), "afd.yaml", |v| {
        v["openai"].as_mapping_mut().unwrap().remove("kind");
    });
    let plan = common::run(&["plan"], &bp, &emu.url);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(text.contains("must be replaced"), "{text}");
    assert!(
        text.contains("kind: \"OpenAI\" -> \"AIServices\""),
        "{text}"
    );
    let before = common::writes(&emu.log());
    let apply = common::run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert_eq!(apply.status.code(), Some(1));
    assert_eq!(
        common::writes(&emu.log()),
        before,
        "refused before any write"
    );
}

#[test]
fn public_access_enabled_again_turns_the_lock_down_off() {
    let emu = common::Emulator::start("3000", "none", 10);
    let dir = tempfile::tempdir().unwrap();
    let bp = common::example("afd-apim-private");
    assert!(common::run(&["apply", "--auto-approve"], &bp, &emu.url)
        .status
        .success());
    let open = common::edited_example("afd-apim-private", dir.path(), "open.yaml", |v| {
        v["apim"]["network"]["publicNetworkAccess"] = "Enabled".into();
    });
    let plan = common::run(&["plan", "--full-ids"], &open, &emu.url);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        text.contains(&format!("~ {EUS2} will be updated in place")),
        "{text}"
    );
    assert!(
        text.contains("properties.publicNetworkAccess: \"Disabled\" -> \"Enabled\""),
        "{text}"
    );
    assert!(!text.contains("#lock-down"), "{text}");
    assert!(common::run(&["apply", "--auto-approve"], &open, &emu.url)
        .status
        .success());
    let (_, doc) = common::http(
        &emu.url,
        "GET",
        &format!("{EUS2}?api-version=2024-05-01"),
        None,
    );
    assert_eq!(doc["properties"]["publicNetworkAccess"], "Enabled");
    // The instance keeps its own lock-down.
    let (_, doc) = common::http(
        &emu.url,
        "GET",
        &format!("{WEU}?api-version=2024-05-01"),
        None,
    );
    assert_eq!(doc["properties"]["publicNetworkAccess"], "Disabled");
}

#[test]
fn a_gateway_private_endpoint_without_linked_dns_is_a_warning() {
    // The v2 example with public accounts and no private DNS: the gateway's private endpoint
    // gets no zone that a caller's network resolves.
    let dir = tempfile::tempdir().unwrap();
    let bp = common::edited_example("afd-apim-private", dir.path(), "nodns.yaml", |v| {
        let n = v["networking"].as_mapping_mut().unwrap();
        n.remove("privateDns");
        n.insert("publicNetworkAccess".into(), "Enabled".into());
    });
    let out = common::bin()
        .arg("lint")
        .arg(&bp)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "AOAI054")
        .collect();
    // The primary and the instance, each at its own field.
    let fields: Vec<&str> = found
        .iter()
        .map(|f| f["location"]["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "apim.network.privateEndpoint",
            "apim.instances[0].network.privateEndpoint"
        ],
        "{v:#}"
    );
    assert!(found.iter().all(|f| f["severity"] == "warning"));
}
