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
    assert_eq!(body(&reqs, "accounts/aoai-apim-swc-1")["kind"], "AIServices");
    assert_eq!(body(&reqs, "accounts/aoai-apim-swc-2")["kind"], "OpenAI");
    let zones: Vec<&str> = reqs
        .iter()
        .filter(|(id, _, _)| id.contains("/privateDnsZones/") && !id.contains("/virtualNetworkLinks/"))
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
        .map(|c| c["properties"]["privateDnsZoneId"].as_str().unwrap().rsplit('/').next().unwrap())
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
        .filter(|(id, _, _)| id.contains("/privateDnsZones/") && !id.contains("/virtualNetworkLinks/"))
        .count();
    assert_eq!(zones, 1);
    assert_eq!(body(&reqs, "accounts/aoai-apim-swc-1")["kind"], "OpenAI");
}
