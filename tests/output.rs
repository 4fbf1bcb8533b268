//! Outputs through the real binary against a standalone emulator: apply ends with them, and
//! `output [--json]` reads them from live state with GETs only.

mod common;

use common::{edited_example, http, run, Emulator};
use serde_json::Value;

fn text(o: &std::process::Output) -> String {
    format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn get(url: &str, id: &str, api: &str) -> Value {
    let (s, v) = http(url, "GET", &format!("{id}?api-version={api}"), None);
    assert_eq!(s, 200, "{id}: {v}");
    v
}

#[test]
fn apply_prints_outputs_and_output_reads_them_from_live_state() {
    let emu = Emulator::start("5000", "none", 21);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("afd-apim", dir.path(), "global.yaml", |_| {});
    let f: serde_norway::Value = serde_norway::from_str(&common::read(&bp)).unwrap();
    let rg = format!(
        "/subscriptions/{}/resourceGroups/{}",
        f["subscription"].as_str().unwrap(),
        f["resourceGroup"].as_str().unwrap()
    );
    let apim_id = format!(
        "{rg}/providers/Microsoft.ApiManagement/service/{}",
        f["apim"]["name"].as_str().unwrap()
    );

    // Nothing deployed yet: output says so and fails.
    let out = run(&["output"], &bp, &emu.url);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("nothing of this blueprint is deployed yet"));

    let out = run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert!(out.status.success(), "{}", text(&out));
    let applied = String::from_utf8_lossy(&out.stdout).to_string();
    let apim = get(&emu.url, &apim_id, "2024-05-01");
    let gateway = apim["properties"]["gatewayUrl"].as_str().unwrap();
    let principal = apim["identity"]["principalId"].as_str().unwrap();
    assert!(applied.contains("Outputs:"), "{applied}");
    assert!(
        applied.contains(&format!("apim gateway url        = {gateway}")),
        "{applied}"
    );
    assert!(applied.contains(principal), "{applied}");

    let before = common::fetch_log(&emu.url).len();
    let out = run(&["output", "--json"], &bp, &emu.url);
    assert!(out.status.success(), "{}", text(&out));
    let o: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(o["formatVersion"], 1);
    assert_eq!(o["apim"]["gatewayUrl"], gateway);
    assert_eq!(o["apim"]["principalId"], principal);
    // One regional URL per gateway region, with ARM region names.
    let regional: Vec<(String, String)> = o["apim"]["regionalGatewayUrls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["region"].as_str().unwrap().to_string(),
                r["url"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut want = vec![(
        apim["location"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .replace(' ', ""),
        apim["properties"]["gatewayRegionalUrl"]
            .as_str()
            .unwrap()
            .to_string(),
    )];
    for l in apim["properties"]["additionalLocations"]
        .as_array()
        .unwrap()
    {
        want.push((
            l["location"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .replace(' ', ""),
            l["gatewayRegionalUrl"].as_str().unwrap().to_string(),
        ));
    }
    assert_eq!(regional, want);
    assert!(want.len() >= 2);
    let host = o["frontDoor"]["endpointHostName"].as_str().unwrap();
    assert!(host.ends_with(".azurefd.net"), "{o}");
    // Read-only: no write reached the emulator.
    let log = common::fetch_log(&emu.url);
    assert!(
        log[before..].iter().all(|e| e["method"] == "GET"),
        "{:?}",
        &log[before..]
    );
}

#[test]
fn output_lists_the_dns_records_of_a_custom_domain() {
    let emu = Emulator::start("5000", "none", 22);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("afd", dir.path(), "afd.yaml", |_| {});
    let out = run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert!(out.status.success(), "{}", text(&out));
    let out = run(&["output"], &bp, &emu.url);
    assert!(out.status.success(), "{}", text(&out));
    let human = String::from_utf8_lossy(&out.stdout);
    let out = run(&["output", "--json"], &bp, &emu.url);
    let o: Value = serde_json::from_slice(&out.stdout).unwrap();
    let records = o["dnsRecords"].as_array().unwrap();
    let host = o["frontDoor"]["endpointHostName"].as_str().unwrap();
    let domain = o["frontDoor"]["customDomain"].as_str().unwrap();
    assert!(records.iter().any(|r| r["type"] == "TXT"
        && r["name"] == format!("_dnsauth.{domain}")
        && r["value"].as_str().is_some_and(|v| !v.is_empty())));
    assert!(records
        .iter()
        .any(|r| r["type"] == "CNAME" && r["name"] == domain && r["value"] == host));
    assert!(
        human.contains(&format!("CNAME {domain} -> {host}")),
        "{human}"
    );
}

#[test]
fn output_lists_every_service_of_apim_instances_and_progress_names_the_service() {
    let emu = Emulator::start("3000", "none", 31);
    let bp = common::example("afd-apim-private");
    let f: serde_norway::Value = serde_norway::from_str(&common::read(&bp)).unwrap();
    let primary = f["apim"]["name"].as_str().unwrap().to_string();
    let extra = f["apim"]["instances"][0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let rg = format!(
        "/subscriptions/{}/resourceGroups/{}",
        f["subscription"].as_str().unwrap(),
        f["resourceGroup"].as_str().unwrap()
    );

    let out = run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert!(out.status.success(), "{}", text(&out));
    let applied = text(&out);
    // Progress: the children of the two services read apart (each API operation line starts
    // with its service's name).
    for service in [&primary, &extra] {
        assert!(
            applied.contains(&format!("{service}/apis/azure-openai/operations/")),
            "{service}: {applied}"
        );
    }
    assert!(!applied.contains(" azure-openai/operations/"), "{applied}");

    let out = run(&["output", "--json"], &bp, &emu.url);
    assert!(out.status.success(), "{}", text(&out));
    let o: Value = serde_json::from_slice(&out.stdout).unwrap();
    let services: Vec<&Value> = std::iter::once(&o["apim"])
        .chain(o["apimInstances"].as_array().unwrap())
        .collect();
    assert_eq!(services.len(), 2, "{o:#}");
    for (svc, name) in services.iter().zip([&primary, &extra]) {
        assert_eq!(svc["name"], name.as_str());
        let live = get(
            &emu.url,
            &format!("{rg}/providers/Microsoft.ApiManagement/service/{name}"),
            "2024-05-01",
        );
        assert_eq!(
            svc["gatewayUrl"], live["properties"]["gatewayUrl"],
            "{name}"
        );
        assert_eq!(
            svc["principalId"], live["identity"]["principalId"],
            "{name}"
        );
        assert!(svc["gatewayUrl"].is_string(), "{name}");
    }
    assert_eq!(o["apimInstances"][0]["region"], "westeurope");

    let out = run(&["output"], &bp, &emu.url);
    assert!(out.status.success(), "{}", text(&out));
    let human = String::from_utf8_lossy(&out.stdout);
    let url = o["apimInstances"][0]["gatewayUrl"].as_str().unwrap();
    assert!(
        human.contains(&format!("apim {extra} (westeurope) gateway url = {url}")),
        "{human}"
    );
    assert!(
        human.contains(&format!("apim service            = {primary} (")),
        "{human}"
    );
}
