//! Architectures that cannot work in Azure, through the binary: each mistake of issue 10 seeded
//! into an example, found by lint as an error (exit 1) at the blueprint line that causes it, from
//! the capability data in `data/capabilities/`; and the fixed examples traced hop by hop.

mod common;

use serde_json::Value;

struct Run {
    code: Option<i32>,
    findings: Vec<Value>,
    stdout: String,
    text: String,
}

/// Lint `base` after the edits; the blueprint text is kept to find the line of a field.
fn lint(base: &str, edits: &[(&str, &str)], extra: &[&str]) -> Run {
    lint_on(common::TODAY, base, edits, extra)
}

/// [`lint`] with `AOAI_ARCH_TODAY` set to `today`.
fn lint_on(today: &str, base: &str, edits: &[(&str, &str)], extra: &[&str]) -> Run {
    let mut text = common::read(&common::example(base));
    for (from, to) in edits {
        assert!(text.contains(from), "`{from}` not in {base}");
        text = text.replacen(from, to, 1);
    }
    let dir = tempfile::tempdir().unwrap();
    let bp = dir.path().join(format!("{base}.yaml"));
    std::fs::write(&bp, &text).unwrap();
    let out = common::bin()
        .env("AOAI_ARCH_TODAY", today)
        .arg("lint")
        .arg(&bp)
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let findings = serde_json::from_str::<Value>(&stdout)
        .ok()
        .and_then(|v| v["findings"].as_array().cloned())
        .unwrap_or_default();
    Run {
        code: out.status.code(),
        findings,
        stdout,
        text,
    }
}

fn json(base: &str, edits: &[(&str, &str)]) -> Run {
    lint(base, edits, &["--format", "json"])
}

/// The finding of `rule` at `field`; panics with every finding when there is none.
fn finding<'a>(r: &'a Run, rule: &str, field: &str) -> &'a Value {
    r.findings
        .iter()
        .find(|f| f["rule"] == rule && f["location"]["field"] == field)
        .unwrap_or_else(|| panic!("no {rule} at {field}: {:#?}", r.findings))
}

/// 1-based line of the first line of the blueprint that contains `needle`.
fn line_of(r: &Run, needle: &str) -> u64 {
    r.text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in the blueprint")) as u64
        + 1
}

#[test]
fn classic_standard_gateway_has_no_path_to_private_accounts() {
    // The apim example as it was: classic Standard, private-endpoint-only accounts.
    let r = json(
        "apim",
        &[
            (
                "sku: { name: Premium, capacity: 1 }",
                "sku: { name: Standard, capacity: 1 }",
            ),
            ("  network:\n    mode: External\n", "  # no network\n"),
            ("    subnetId: vnet-hub/apim\n", ""),
        ],
    );
    assert_eq!(r.code, Some(1));
    let f = finding(&r, "AOAI016", "apim.sku.name");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["location"]["line"], line_of(&r, "sku: { name: Standard"));
    assert!(f["message"]
        .as_str()
        .unwrap()
        .contains("no network path to aoai-apim-swc-1"));
    let n = r.findings.iter().filter(|f| f["rule"] == "AOAI016").count();
    assert_eq!(n, 3, "one per account: {:#?}", r.findings);
}

#[test]
fn an_account_added_without_a_private_endpoint_asks_for_one_where_it_goes() {
    // The gateway already sits in vnet-hub; the new account has no private endpoint there. The
    // fix is its private endpoint (not a network for the gateway), at networking.privateEndpoints.
    let r = json(
        "apim",
        &[(
            "    - { name: aoai-apim-nor, region: norwayeast, weight: 50, priority: 2 }\n",
            "    - { name: aoai-apim-nor, region: norwayeast, weight: 50, priority: 2 }\n    - { name: aoai-apim-swc-3, region: swedencentral, weight: 10, priority: 1 }\n",
        )],
    );
    assert_eq!(r.code, Some(1));
    let hits: Vec<&Value> = r
        .findings
        .iter()
        .filter(|f| f["rule"] == "AOAI016")
        .collect();
    assert_eq!(hits.len(), 1, "only the new account: {:#?}", r.findings);
    let f = finding(&r, "AOAI016", "networking.privateEndpoints");
    assert_eq!(f["location"]["line"], line_of(&r, "  privateEndpoints:"));
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("cannot reach account aoai-apim-swc-3"),
        "{message}"
    );
    assert!(
        message.contains("account: aoai-apim-swc-3, subnetId: vnet-hub/private-endpoints"),
        "{message}"
    );
    let help = f["help"].as_str().unwrap();
    assert!(help.contains("private endpoint"), "{help}");
    assert!(
        !help.contains("give the gateway a virtual network"),
        "{help}"
    );

    // With that endpoint added, the path is whole again.
    let r = json(
        "apim",
        &[
            (
                "    - { name: aoai-apim-nor, region: norwayeast, weight: 50, priority: 2 }\n",
                "    - { name: aoai-apim-nor, region: norwayeast, weight: 50, priority: 2 }\n    - { name: aoai-apim-swc-3, region: swedencentral, weight: 10, priority: 1 }\n",
            ),
            (
                "    - account: aoai-apim-nor\n      subnetId: vnet-hub/private-endpoints\n",
                "    - account: aoai-apim-nor\n      subnetId: vnet-hub/private-endpoints\n    - account: aoai-apim-swc-3\n      subnetId: vnet-hub/private-endpoints\n",
            ),
        ],
    );
    assert!(
        !r.findings.iter().any(|f| f["rule"] == "AOAI016"),
        "{:#?}",
        r.findings
    );
}

#[test]
fn network_on_a_tier_without_one_and_internal_outbound_integration() {
    let r = json(
        "apim",
        &[(
            "sku: { name: Premium, capacity: 1 }",
            "sku: { name: Standard, capacity: 1 }",
        )],
    );
    assert_eq!(r.code, Some(1));
    let f = finding(&r, "AOAI017", "apim.network");
    assert_eq!(f["location"]["line"], line_of(&r, "  network:"));
    // Without a usable network the accounts are unreachable too.
    finding(&r, "AOAI016", "apim.network");
    // Standard v2 integrates outbound (External) only.
    let r = json(
        "apim",
        &[
            (
                "sku: { name: Premium, capacity: 1 }",
                "sku: { name: StandardV2, capacity: 1 }",
            ),
            ("mode: External", "mode: Internal"),
        ],
    );
    assert_eq!(r.code, Some(1));
    finding(&r, "AOAI017", "apim.network.mode");
    // Standard v2 integrates outbound through a subnet of that purpose (delegated, rendered).
    let r = json(
        "apim",
        &[
            (
                "sku: { name: Premium, capacity: 1 }",
                "sku: { name: StandardV2, capacity: 1 }",
            ),
            ("purpose: apimInjection", "purpose: apimIntegration"),
        ],
    );
    assert_eq!(r.code, Some(0), "{:#?}", r.findings);
}

#[test]
fn private_dns_zone_must_be_linked_to_the_gateway_network() {
    let r = json("apim", &[("vnetLinks:\n      - vnet-hub", "vnetLinks:\n      - /subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-spoke")]);
    assert_eq!(r.code, Some(1));
    let f = finding(&r, "AOAI018", "networking.privateDns");
    assert!(f["message"].as_str().unwrap().contains("vnet-hub"), "{f}");
    // A private endpoint in another network than the gateway: reachable only when peered.
    let r = json(
        "apim",
        &[(
            "subnetId: vnet-hub/private-endpoints",
            "subnetId: /subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-nor/subnets/private-endpoints",
        )],
    );
    let f = finding(&r, "AOAI019", "networking.privateEndpoints[0].subnetId");
    assert_eq!(f["severity"], "warning");
    assert_eq!(r.code, Some(0));
}

#[test]
fn data_zone_standard_outside_a_data_zone() {
    // The afd example with an account moved to brazilsouth, which is in no data zone.
    let r = json("afd", &[("region: francecentral,", "region: brazilsouth,")]);
    assert_eq!(r.code, Some(1));
    let f = finding(&r, "AOAI021", "openai.accounts[2].region");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["location"]["line"], line_of(&r, "region: brazilsouth,"));
    let m = f["message"].as_str().unwrap();
    assert!(m.starts_with("brazilsouth is in no data zone"), "{m}");
    assert!(m.contains("APAC: australiaeast, japaneast"), "{m}");
    assert_eq!(
        r.findings.iter().filter(|f| f["rule"] == "AOAI021").count(),
        1,
        "westeurope and swedencentral are in the EU data zone"
    );
    let r = json(
        "afd",
        &[
            ("region: francecentral,", "region: brazilsouth,"),
            (
                "name: DataZoneStandard, capacity: 100",
                "name: DataZoneProvisionedManaged, capacity: 100",
            ),
        ],
    );
    assert_eq!(r.code, Some(1));
    finding(&r, "AOAI021", "openai.accounts[2].region");
}

#[test]
fn data_zone_types_in_the_apac_data_zone() {
    // japaneast is in the APAC data zone (issue 17): no AOAI021 for it. A model whose data-zone
    // regions the data does not record is accepted there (a note says it was not checked) ...
    let unrecorded = json(
        "afd-apim",
        &[
            (
                "name: GlobalStandard, capacity: 150",
                "name: DataZoneStandard, capacity: 150",
            ),
            ("version: \"2026-03-17\"", "version: \"2099-01-01\""),
        ],
    );
    assert!(
        !unrecorded.findings.iter().any(|f| f["rule"] == "AOAI021"),
        "{:#?}",
        unrecorded.findings
    );
    assert_eq!(unrecorded.code, Some(0), "{:#?}", unrecorded.findings);
    finding(&unrecorded, "AOAI022", "openai.deployment.model");
    // ... and a recorded one is judged by its Data Zone Standard table, which lists no APAC
    // region for gpt-5.4-mini (nor westeurope: it is a US data-zone model).
    let r = json(
        "afd-apim",
        &[(
            "name: GlobalStandard, capacity: 150",
            "name: DataZoneStandard, capacity: 150",
        )],
    );
    assert_eq!(r.code, Some(1));
    assert!(!r.findings.iter().any(|f| f["rule"] == "AOAI021"));
    let f = finding(&r, "AOAI020", "openai.accounts[3].region");
    assert!(f["message"]
        .as_str()
        .unwrap()
        .starts_with("gpt-5.4-mini 2026-03-17 is not offered as DataZoneStandard in japaneast"));
    finding(&r, "AOAI020", "openai.accounts[2].region");
}

#[test]
fn model_version_type_not_offered_in_the_region() {
    // The afd example as it was: gpt-4o 2024-11-20 Standard in westeurope (retired since, which
    // AOAI060 says beside).
    let r = json(
        "afd",
        &[
            (
                "model: { name: gpt-5-mini, version: \"2025-08-07\" }",
                "model: { name: gpt-4o, version: \"2024-11-20\" }",
            ),
            (
                "name: DataZoneStandard, capacity: 100",
                "name: Standard, capacity: 100",
            ),
        ],
    );
    assert_eq!(r.code, Some(1));
    let f = finding(&r, "AOAI020", "openai.accounts[0].region");
    assert_eq!(f["location"]["line"], line_of(&r, "region: westeurope }"));
    let m = f["message"].as_str().unwrap();
    assert!(
        m.starts_with("gpt-4o 2024-11-20 is not offered as Standard in westeurope (offered in: "),
        "{m}"
    );
    assert!(m.contains("swedencentral"), "{m}");
    // swedencentral and francecentral offer it.
    assert_eq!(
        r.findings.iter().filter(|f| f["rule"] == "AOAI020").count(),
        1
    );
    // Provisioned types too: gpt-4o 2024-11-20 ProvisionedManaged is not offered in francecentral.
    let r = json(
        "afd",
        &[
            (
                "model: { name: gpt-5-mini, version: \"2025-08-07\" }",
                "model: { name: gpt-4o, version: \"2024-11-20\" }",
            ),
            (
                "name: DataZoneStandard, capacity: 100",
                "name: ProvisionedManaged, capacity: 100",
            ),
        ],
    );
    assert_eq!(r.code, Some(1));
    let f = finding(&r, "AOAI020", "openai.accounts[2].region");
    assert!(f["message"]
        .as_str()
        .unwrap()
        .starts_with("gpt-4o 2024-11-20 is not offered as ProvisionedManaged in francecentral"));
    assert_eq!(
        r.findings.iter().filter(|f| f["rule"] == "AOAI020").count(),
        1
    );
    // A model the data does not record is a note, not a guess.
    let r = json(
        "afd",
        &[(
            "model: { name: gpt-5-mini, version: \"2025-08-07\" }",
            "model: { name: gpt-5-mini, version: \"2099-01-01\" }",
        )],
    );
    assert_eq!(r.code, Some(0));
    assert_eq!(
        finding(&r, "AOAI022", "openai.deployment.model")["severity"],
        "note"
    );
    // A region without Azure OpenAI.
    let r = json("afd", &[("region: francecentral,", "region: francesouth,")]);
    assert_eq!(r.code, Some(1));
    finding(&r, "AOAI023", "openai.accounts[2].region");
}

#[test]
fn front_door_private_link_region_is_mapped_and_said() {
    // westus is not in Front Door's Private Link list: the origin uses westus3.
    let edits = [
        (
            "{ name: aoai-glb-jpe, region: japaneast }",
            "{ name: aoai-glb-wus, region: westus }",
        ),
        (
            "{ region: japaneast, capacity: 1",
            "{ region: westus, capacity: 1",
        ),
    ];
    let r = json("afd-apim", &edits);
    assert_eq!(r.code, Some(0), "{:#?}", r.findings);
    let f = finding(&r, "AOAI024", "apim.additionalRegions[1].region");
    assert_eq!(f["severity"], "note");
    assert_eq!(
        f["message"],
        "Front Door Private Link is not offered in westus; the origin uses westus3, the nearest listed region"
    );
    // ... and the rendered origin says so too.
    let mut text = common::read(&common::example("afd-apim"));
    for (from, to) in edits {
        text = text.replacen(from, to, 1);
    }
    let dir = tempfile::tempdir().unwrap();
    let bp = dir.path().join("afd-apim.yaml");
    std::fs::write(&bp, text).unwrap();
    let out = common::bin()
        .arg("render")
        .arg(&bp)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let origin = common::read(
        &std::fs::read_dir(dir.path().join("out/requests"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().contains("origins-apim-westus"))
            .expect("origin request"),
    );
    assert!(
        origin.contains("\"privateLinkLocation\": \"westus3\""),
        "{origin}"
    );
}

#[test]
fn front_door_cannot_reach_an_injected_or_internal_gateway() {
    let net = "  primaryWeight: 50\n  network: { mode: External, subnetId: /subscriptions/00000000-0000-0000-0000-000000000003/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/apim }\n";
    let r = json("afd-apim", &[("  primaryWeight: 50\n", net)]);
    assert_eq!(r.code, Some(1));
    finding(&r, "AOAI025", "frontDoor.privateLink");
    // Every additional region of an injected service needs a subnet.
    finding(&r, "AOAI027", "apim.additionalRegions[0]");
    let internal = net.replace("External", "Internal");
    let r = json(
        "afd-apim",
        &[
            ("  primaryWeight: 50\n", &internal),
            ("  privateLink: true\n", ""),
        ],
    );
    assert_eq!(r.code, Some(1));
    finding(&r, "AOAI028", "apim.network.mode");
    // Premium v2 is not a Private Link target of Front Door.
    let r = json(
        "afd-apim",
        &[
            ("sku: { name: Premium, capacity: 1 }", "sku: { name: PremiumV2, capacity: 1 }"),
            ("  additionalRegions:\n    - { region: westeurope, capacity: 1, weight: 50, priority: 1 }\n    - { region: japaneast, capacity: 1, weight: 50, priority: 1 }\n", ""),
            ("    - { name: aoai-glb-weu, region: westeurope }\n    - { name: aoai-glb-jpe, region: japaneast }\n", ""),
        ],
    );
    assert_eq!(r.code, Some(1));
    finding(&r, "AOAI025", "frontDoor.privateLink");
    // Classic Standard accepts inbound private endpoints, so Front Door's Private Link (one region).
    let r = json(
        "afd-apim",
        &[
            ("sku: { name: Premium, capacity: 1 }", "sku: { name: Standard, capacity: 1 }"),
            ("  additionalRegions:\n    - { region: westeurope, capacity: 1, weight: 50, priority: 1 }\n    - { region: japaneast, capacity: 1, weight: 50, priority: 1 }\n", ""),
            ("    - { name: aoai-glb-weu, region: westeurope }\n    - { name: aoai-glb-jpe, region: japaneast }\n", ""),
        ],
    );
    assert_eq!(r.code, Some(0), "{:#?}", r.findings);
}

#[test]
fn gateway_without_identity_and_multi_region_tiers() {
    let r = json(
        "apim",
        &[("managedIdentity: true", "managedIdentity: false")],
    );
    assert_eq!(r.code, Some(1));
    finding(&r, "AOAI026", "apim.auth.managedIdentity");
    // Additional regions on Developer (injection yes, multi-region no), from the tier data.
    let r = json(
        "afd-apim",
        &[(
            "sku: { name: Premium, capacity: 1 }",
            "sku: { name: Developer, capacity: 1 }",
        )],
    );
    assert_eq!(r.code, Some(1));
    finding(&r, "AOAI011", "apim.sku.name");
}

#[test]
fn explain_traces_every_hop() {
    let r = lint("apim", &[], &["--explain"]);
    assert_eq!(r.code, Some(0));
    let expected = [
        "path of ",
        "  ok client -> API Management apim-aoai-gw (swedencentral)",
        "  ok API Management apim-aoai-gw (swedencentral) -> openai.accounts[2] aoai-apim-nor (norwayeast)",
        "       + private endpoint in the gateway's network vnet-hub",
        "       + privatelink.openai.azure.com is linked to vnet-hub",
        "model: gpt-5.4-mini 2026-03-17 as GlobalStandard in norwayeast, swedencentral",
        "  lifecycle on 2026-12-06: generally available, retirement 2027-03-18",
        "  ok offered in every account's region",
        "every hop has a network path and a credential",
    ];
    for e in expected {
        assert!(r.stdout.contains(e), "missing `{e}` in\n{}", r.stdout);
    }
    // With --format json the trace goes to stderr and stdout stays JSON.
    let out = common::bin()
        .arg("lint")
        .arg(common::example("apim"))
        .args(["--explain", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert!(v["findings"].is_array());
    assert!(String::from_utf8_lossy(&out.stderr).contains("  ok client -> API Management"));
    // The broken path says where it breaks.
    let r = lint(
        "afd-apim",
        &[(
            "name: GlobalStandard, capacity: 150",
            "name: DataZoneStandard, capacity: 150",
        )],
        &["--explain"],
    );
    assert_eq!(r.code, Some(1));
    assert!(
        r.stdout.contains(
            "  NO gpt-5.4-mini 2026-03-17 is not offered as DataZoneStandard in japaneast"
        ),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("  ok Front Door afd-aoai-global -> API Management apim-aoai-global (japaneast)\n       + Private Link (group id Gateway) in japaneast"), "{}", r.stdout);
}

#[test]
fn capability_doc_lists_every_capability_rule_as_the_binary_has_it() {
    let doc = common::read(&common::root().join("docs/capabilities.md"));
    let ids = [
        "AOAI011", "AOAI016", "AOAI017", "AOAI018", "AOAI019", "AOAI020", "AOAI021", "AOAI022",
        "AOAI023", "AOAI024", "AOAI025", "AOAI026", "AOAI027", "AOAI028", "AOAI060", "AOAI061",
        "AOAI062",
    ];
    for id in ids {
        let r = aoai_arch::lint::RULES
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("{id} is not in the catalogue"));
        let severity = format!("{:?}", r.severity).to_lowercase();
        let row = format!("| {} `{}` | {severity} |", r.id, r.name);
        assert!(
            doc.contains(&row),
            "docs/capabilities.md has no row `{row} ...`"
        );
    }
}

/// The model line of the apim example, replaced by `name` `version`.
fn model(name: &str, version: &str) -> (&'static str, String) {
    (
        "model: { name: gpt-5.4-mini, version: \"2026-03-17\" }",
        format!("model: {{ name: {name}, version: \"{version}\" }}"),
    )
}

fn lifecycle_lint(today: &str, name: &str, version: &str) -> Run {
    let (from, to) = model(name, version);
    lint_on(today, "apim", &[(from, &to)], &["--format", "json"])
}

fn lifecycle_findings(r: &Run) -> Vec<&Value> {
    r.findings
        .iter()
        .filter(|f| ["AOAI060", "AOAI061", "AOAI062"].contains(&f["rule"].as_str().unwrap()))
        .collect()
}

/// Each lifecycle case of the retirement schedule, on a fixed today: generally available says
/// nothing, preview is a note, deprecated a warning with the retirement date and the days left,
/// retired an error (also for a GA version whose retirement date has passed), a version the
/// schedule does not record is not judged; each at the version's line.
#[test]
fn model_lifecycle_on_a_fixed_today() {
    // Generally available (the example).
    let r = lifecycle_lint("2026-12-06", "gpt-5.4-mini", "2026-03-17");
    assert_eq!(r.code, Some(0));
    assert!(lifecycle_findings(&r).is_empty(), "{:#?}", r.findings);

    // Preview: gpt-chat-latest 2026-05-05 retires 2026-11-05.
    let r = lifecycle_lint("2026-09-01", "gpt-chat-latest", "2026-05-05");
    assert_eq!(r.code, Some(0), "{:#?}", r.findings);
    let f = finding(&r, "AOAI062", "openai.deployment.model.version");
    assert_eq!(f["severity"], "note");
    assert_eq!(
        f["message"],
        "gpt-chat-latest 2026-05-05 is a preview version, retiring on 2026-11-05"
    );
    assert_eq!(f["location"]["line"], line_of(&r, "name: gpt-chat-latest"));

    // Deprecated: gpt-4.1 2025-04-14 retires 2026-10-14, 43 days after 2026-09-01.
    let r = lifecycle_lint("2026-09-01", "gpt-4.1", "2025-04-14");
    let f = finding(&r, "AOAI061", "openai.deployment.model.version");
    assert_eq!(f["severity"], "warning");
    let m = f["message"].as_str().unwrap();
    assert!(
        m.starts_with(
            "gpt-4.1 2025-04-14 is deprecated and retires on 2026-10-14, 43 days from today"
        ),
        "{m}"
    );
    assert_eq!(r.code, Some(0), "a warning: {:#?}", r.findings);
    assert_eq!(lifecycle_findings(&r).len(), 1);

    // The same version after its retirement date: an error.
    let r = lifecycle_lint("2026-12-06", "gpt-4.1", "2025-04-14");
    assert_eq!(r.code, Some(1));
    let f = finding(&r, "AOAI060", "openai.deployment.model.version");
    assert_eq!(f["severity"], "error");
    assert!(f["message"]
        .as_str()
        .unwrap()
        .starts_with("gpt-4.1 2025-04-14 is retired since 2026-10-14 (today is 2026-12-06)"));
    // On its retirement day it is retired already.
    let r = lifecycle_lint("2026-10-14", "gpt-4.1", "2025-04-14");
    finding(&r, "AOAI060", "openai.deployment.model.version");

    // Retired: the version the apim example used to deploy; the finding names the newest
    // generally available version the data knows, or the schedule's replacement.
    let r = lifecycle_lint("2026-12-06", "gpt-4o-mini", "2024-07-18");
    assert_eq!(r.code, Some(1));
    let m = finding(&r, "AOAI060", "openai.deployment.model.version")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(m.contains("retired since 2026-10-01"), "{m}");
    assert!(
        m.contains("the schedule names gpt-4.1-mini as its replacement, which is not generally available either"),
        "{m}"
    );
    // gpt-4o 2024-11-20: replaced by gpt-5.1, generally available.
    let r = lifecycle_lint("2026-12-06", "gpt-4o", "2024-11-20");
    let m = finding(&r, "AOAI060", "openai.deployment.model.version")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        m.ends_with("the schedule names gpt-5.1 as its replacement (generally available: gpt-5.1 2025-11-13)"),
        "{m}"
    );
    // A GA version whose retirement date has passed is retired too (o3 2025-04-16: 2026-10-16).
    let r = lifecycle_lint("2026-12-06", "o3", "2025-04-16");
    finding(&r, "AOAI060", "openai.deployment.model.version");
    // The day before, it is generally available: nothing to say.
    let r = lifecycle_lint("2026-10-15", "o3", "2025-04-16");
    assert!(lifecycle_findings(&r).is_empty(), "{:#?}", r.findings);

    // Unknown to the schedule: not judged (AOAI022 says the data does not record it).
    let r = lifecycle_lint("2026-12-06", "gpt-5.4-mini", "2099-01-01");
    assert_eq!(r.code, Some(0));
    assert!(lifecycle_findings(&r).is_empty(), "{:#?}", r.findings);
    finding(&r, "AOAI022", "openai.deployment.model");
}

/// Every command that compares dates (lint, plan with its preflight, the emulator) refuses a
/// value of AOAI_ARCH_TODAY that is not a date, an empty one included, naming the variable and
/// the format, before it reads or writes anything.
#[test]
fn every_dated_command_refuses_a_bad_today() {
    let bp = common::example("apim");
    let bp = bp.to_str().unwrap();
    let commands: [&[&str]; 4] = [
        &["lint", bp],
        &["plan", bp, "--emulator"],
        &["apply", bp, "--emulator", "--auto-approve"],
        &["emulator", "--port", "0"],
    ];
    for value in ["2026-02-30", "", "12/06/2026"] {
        for args in commands {
            let out = common::bin()
                .env("AOAI_ARCH_TODAY", value)
                .args(args)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?} with {value:?}: {err}");
            assert!(
                err.contains("AOAI_ARCH_TODAY") && err.contains("YYYY-MM-DD"),
                "{args:?} with {value:?}: {err}"
            );
            assert!(out.stdout.is_empty(), "{args:?} with {value:?}");
        }
    }
}

/// A value of AOAI_ARCH_TODAY that is not a date is refused, naming the variable.
#[test]
fn today_must_be_a_date() {
    let out = common::bin()
        .env("AOAI_ARCH_TODAY", "6 December 2026")
        .arg("lint")
        .arg(common::example("apim"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("AOAI_ARCH_TODAY=\"6 December 2026\" is not a date of the form YYYY-MM-DD"),
        "{err}"
    );
}
