//! Preflight through the real binary against a standalone emulator whose state file describes
//! the subscription (quota, offered models, soft-deleted accounts, taken names, unregistered
//! providers): each finding with its blueprint line and exit codes, apply refusing before any
//! write, purge and restore, soft-delete on delete, the checks turned off, one request per fact.

mod common;

use std::path::{Path, PathBuf};

use common::{edited_example, example, http, run, writes, Emulator};
use serde_json::{json, Value};

fn text(o: &std::process::Output) -> String {
    format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const AFD_SUB: &str = "00000000-0000-0000-0000-000000000001";
const APIM_SUB: &str = "00000000-0000-0000-0000-000000000002";
const COG: &str = "2025-06-01";

/// A state file with nothing but a `preflight` section.
fn state(dir: &Path, preflight: Value) -> PathBuf {
    let p = dir.join("state.json");
    std::fs::write(
        &p,
        json!({ "resources": {}, "principals": {}, "preflight": preflight }).to_string(),
    )
    .unwrap();
    p
}

fn emulator(state: &Path) -> Emulator {
    Emulator::start_with("5000", "none", 1, &["--state", state.to_str().unwrap()])
}

fn plan_json(bp: &Path, url: &str, extra: &[&str]) -> Value {
    let mut args = vec!["plan", "--json"];
    args.extend_from_slice(extra);
    let out = run(&args, bp, url);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)))
}

fn findings<'a>(plan: &'a Value, check: &str) -> Vec<&'a Value> {
    plan["preflight"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == check)
        .collect()
}

/// The 1-based line of the first line of `bp` that contains `needle`.
fn line_of(bp: &Path, needle: &str) -> u64 {
    common::read(bp)
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {}", bp.display())) as u64
        + 1
}

/// Apply must refuse before its first write: exit 1, the reason on stderr, no PUT or DELETE.
fn apply_refused(bp: &Path, emu: &Emulator, extra: &[&str], reason: &str) {
    let start = emu.log().len();
    let mut args = vec!["apply", "--auto-approve"];
    args.extend_from_slice(extra);
    let out = run(&args, bp, &emu.url);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("apply refused; nothing was written"), "{t}");
    assert!(t.contains(reason), "{t}");
    assert_eq!(writes(&emu.log()[start..]), 0, "{t}");
}

fn apply_ok(bp: &Path, url: &str, extra: &[&str]) -> String {
    let mut args = vec!["apply", "--auto-approve"];
    args.extend_from_slice(extra);
    let out = run(&args, bp, url);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    t
}

#[test]
fn quota_short_counts_what_the_blueprint_adds_in_each_region() {
    let dir = tempfile::tempdir().unwrap();
    // 250 free in swedencentral; the example puts two accounts of 200 there.
    let st = state(
        dir.path(),
        json!({ "quota": { "swedencentral": { "OpenAI.GlobalStandard.gpt-5.4-mini": { "limit": 300, "used": 50 } } } }),
    );
    let emu = emulator(&st);
    let bp = example("apim");
    let plan = plan_json(&bp, &emu.url, &[]);
    let q = findings(&plan, "quota");
    assert_eq!(q.len(), 1, "{plan:#}");
    assert_eq!(q[0]["severity"], "error");
    let msg = q[0]["message"].as_str().unwrap();
    assert!(msg.contains("short by 150"), "{msg}");
    assert!(
        msg.contains("400 more") && msg.contains("250 is free"),
        "{msg}"
    );
    assert!(
        msg.contains("swedencentral") && !msg.contains("norwayeast"),
        "{msg}"
    );
    assert_eq!(q[0]["field"], "openai.deployment.sku.capacity");
    assert_eq!(q[0]["line"], line_of(&bp, "capacity: 200"));
    assert!(q[0]["file"].as_str().unwrap().ends_with("apim.yaml"));
    // plan is not refused by findings; --detailed-exitcode still says "changes".
    let out = run(&["plan", "--detailed-exitcode"], &bp, &emu.url);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("preflight error[quota]"),
        "{}",
        text(&out)
    );
    apply_refused(&bp, &emu, &[], "short by 150");
}

#[test]
fn deployments_that_exist_and_are_ours_do_not_count_against_free_quota() {
    let dir = tempfile::tempdir().unwrap();
    // Exactly enough for the example: 400 in swedencentral.
    let st = state(
        dir.path(),
        json!({ "quota": { "swedencentral": { "OpenAI.GlobalStandard.gpt-5.4-mini": { "limit": 450, "used": 50 } } } }),
    );
    let emu = emulator(&st);
    let bp = edited_example("apim", dir.path(), "apim.yaml", |_| {});
    assert!(findings(&plan_json(&bp, &emu.url, &[]), "quota").is_empty());
    apply_ok(&bp, &emu.url, &[]);
    // Now 450 of 450 are used, by this blueprint's own deployments: nothing is asked.
    let (status, usages) = http(
        &emu.url,
        "GET",
        &format!("/subscriptions/{APIM_SUB}/providers/Microsoft.CognitiveServices/locations/swedencentral/usages?api-version={COG}"),
        None,
    );
    assert_eq!(status, 200);
    let u = usages["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"]["value"] == "OpenAI.GlobalStandard.gpt-5.4-mini")
        .unwrap();
    assert_eq!(
        (u["currentValue"].as_u64(), u["limit"].as_u64()),
        (Some(450), Some(450))
    );
    assert!(findings(&plan_json(&bp, &emu.url, &[]), "quota").is_empty());
    // Raising the capacity asks for the difference only: 2 x 50.
    let bigger = edited_example("apim", dir.path(), "apim.yaml", |v| {
        v["openai"]["deployment"]["sku"]["capacity"] = 250.into();
    });
    let plan = plan_json(&bigger, &emu.url, &[]);
    let q = findings(&plan, "quota");
    assert_eq!(q.len(), 1, "{plan:#}");
    let msg = q[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("short by 100") && msg.contains("100 more") && msg.contains("0 is free"),
        "{msg}"
    );
}

#[test]
fn the_emulator_refuses_a_deployment_beyond_quota_with_insufficient_quota() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(
        dir.path(),
        json!({ "quota": { "swedencentral": { "OpenAI.GlobalStandard.gpt-5.4-mini": { "limit": 300 } } } }),
    );
    let emu = emulator(&st);
    let out = run(
        &["apply", "--auto-approve", "--skip-preflight", "quota"],
        &example("apim"),
        &emu.url,
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("InsufficientQuota"), "{t}");
    assert!(t.contains("current available capacity 100"), "{t}");
}

#[test]
fn a_model_not_offered_names_the_nearest_region_that_offers_it() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(
        dir.path(),
        json!({ "models": { "westeurope": [ { "name": "gpt-4o", "version": "2024-08-06", "skus": ["Standard"] } ] } }),
    );
    let emu = emulator(&st);
    let bp = example("afd");
    let sku = {
        let v: serde_norway::Value = serde_norway::from_str(&common::read(&bp)).unwrap();
        v["openai"]["deployment"]["sku"]["name"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let plan = plan_json(&bp, &emu.url, &[]);
    let m = findings(&plan, "models");
    assert_eq!(m.len(), 1, "{plan:#}");
    assert_eq!(m[0]["field"], "openai.accounts[0].region");
    assert_eq!(m[0]["line"], line_of(&bp, "aoai-afd-weu"));
    assert!(
        m[0]["message"].as_str().unwrap().contains(&format!(
            "gpt-5-mini 2025-08-07 is not offered as {sku} in westeurope"
        )),
        "{plan:#}"
    );
    // Amsterdam's nearest neighbour among the regions that offer it as a data-zone type:
    // Frankfurt.
    assert!(
        m[0]["help"]
            .as_str()
            .unwrap()
            .contains("nearest region that offers it is germanywestcentral"),
        "{plan:#}"
    );
    apply_refused(&bp, &emu, &[], "is not offered");
}

fn soft_deleted_state(dir: &Path) -> PathBuf {
    state(
        dir,
        json!({ "deletedAccounts": { "seed": {
            "id": format!("/subscriptions/{AFD_SUB}/resourceGroups/rg-aoai-afd/providers/Microsoft.CognitiveServices/accounts/aoai-afd-swc"),
            "name": "aoai-afd-swc", "type": "Microsoft.CognitiveServices/accounts",
            "location": "swedencentral", "kind": "OpenAI", "sku": { "name": "S0" },
            "properties": { "customSubDomainName": "aoai-afd-swc" }
        } } }),
    )
}

fn deleted_accounts(url: &str, sub: &str) -> Vec<String> {
    let (status, v) = http(
        url,
        "GET",
        &format!("/subscriptions/{sub}/providers/Microsoft.CognitiveServices/deletedAccounts?api-version={COG}"),
        None,
    );
    assert_eq!(status, 200, "{v}");
    v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_soft_deleted_name_is_refused_until_purge_is_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(&soft_deleted_state(dir.path()));
    let bp = example("afd");
    let plan = plan_json(&bp, &emu.url, &[]);
    let s = findings(&plan, "soft-deleted");
    assert_eq!(s.len(), 1, "{plan:#}");
    assert_eq!(s[0]["severity"], "error");
    assert_eq!(s[0]["field"], "openai.accounts[1].name");
    assert_eq!(s[0]["line"], line_of(&bp, "aoai-afd-swc"));
    let help = s[0]["help"].as_str().unwrap();
    assert!(
        help.contains("--restore-soft-deleted") && help.contains("--purge-soft-deleted"),
        "{help}"
    );
    // Its subdomain is held by the same account: one finding, not a second "taken" one.
    assert!(findings(&plan, "names").is_empty(), "{plan:#}");
    apply_refused(&bp, &emu, &[], "soft-deleted");

    // With --purge-soft-deleted the plan shows the step and apply purges before creating.
    let plan = plan_json(&bp, &emu.url, &["--purge-soft-deleted"]);
    assert_eq!(findings(&plan, "soft-deleted")[0]["severity"], "note");
    assert_eq!(plan["steps"][0]["action"], "purge", "{plan:#}");
    let start = emu.log().len();
    let t = apply_ok(&bp, &emu.url, &["--purge-soft-deleted"]);
    assert!(t.contains("purged soft-deleted account"), "{t}");
    let log = emu.log();
    let purge = log[start..].iter().position(|e| {
        e["method"] == "DELETE"
            && e["path"]
                .as_str()
                .unwrap()
                .ends_with("/deletedAccounts/aoai-afd-swc")
    });
    let create = log[start..].iter().position(|e| {
        e["method"] == "PUT"
            && e["path"]
                .as_str()
                .unwrap()
                .ends_with("/accounts/aoai-afd-swc")
    });
    assert!(
        matches!((purge, create), (Some(p), Some(c)) if p < c),
        "{purge:?} {create:?}"
    );
    assert!(deleted_accounts(&emu.url, AFD_SUB).is_empty());
    let out = run(&["plan", "--detailed-exitcode"], &bp, &emu.url);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn restore_soft_deleted_restores_through_the_accounts_own_put() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(&soft_deleted_state(dir.path()));
    let bp = example("afd");
    let plan = plan_json(&bp, &emu.url, &["--restore-soft-deleted"]);
    assert_eq!(plan["steps"][0]["action"], "restore", "{plan:#}");
    let start = emu.log().len();
    apply_ok(&bp, &emu.url, &["--restore-soft-deleted"]);
    // No purge (the only DELETE is the end of the apply lock's lease); the account is back, no
    // longer soft-deleted, and the plan is clean.
    assert!(!emu.log()[start..].iter().any(|e| e["method"] == "DELETE"
        && !e["path"]
            .as_str()
            .unwrap_or("")
            .contains("/deployments/aoai-arch-lock-")));
    assert!(deleted_accounts(&emu.url, AFD_SUB).is_empty());
    let out = run(&["plan", "--detailed-exitcode"], &bp, &emu.url);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn the_emulator_refuses_a_soft_deleted_name_without_restore() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(&soft_deleted_state(dir.path()));
    let out = run(
        &[
            "apply",
            "--auto-approve",
            "--skip-preflight",
            "soft-deleted",
            "--skip-preflight",
            "names",
        ],
        &example("afd"),
        &emu.url,
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("409 FlagMustBeSetForRestore"), "{t}");
}

#[test]
fn a_deleted_account_stays_soft_deleted_and_holds_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(dir.path(), json!({}));
    let emu = emulator(&st);
    let bp = edited_example("afd", dir.path(), "afd.yaml", |_| {});
    apply_ok(&bp, &emu.url, &[]);
    let smaller = dir.path().join("smaller.yaml");
    let mut v: serde_norway::Value = serde_norway::from_str(&common::read(&bp)).unwrap();
    v["openai"]["accounts"].as_sequence_mut().unwrap().pop();
    std::fs::write(&smaller, serde_norway::to_string(&v).unwrap()).unwrap();
    apply_ok(&smaller, &emu.url, &["--prune"]);
    let deleted = deleted_accounts(&emu.url, AFD_SUB);
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert!(
        deleted[0].ends_with(
            "/locations/francecentral/resourceGroups/rg-aoai-afd/deletedAccounts/aoai-afd-frc"
        ),
        "{deleted:?}"
    );
    let (status, doc) = http(
        &emu.url,
        "GET",
        &format!("{}?api-version={COG}", deleted[0]),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(doc["properties"]["customSubDomainName"], "aoai-afd-france");
    // The smaller blueprint is converged; the full one meets its own deleted account.
    let out = run(&["plan", "--detailed-exitcode"], &smaller, &emu.url);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan = plan_json(&bp, &emu.url, &[]);
    assert_eq!(findings(&plan, "soft-deleted").len(), 1, "{plan:#}");
    // Purged by hand, the name is free again.
    let (status, _) = http(
        &emu.url,
        "DELETE",
        &format!("{}?api-version={COG}", deleted[0]),
        None,
    );
    assert_eq!(status, 200);
    let plan = plan_json(&bp, &emu.url, &[]);
    assert!(plan["preflight"].as_array().unwrap().is_empty(), "{plan:#}");
}

#[test]
fn taken_names_are_errors_but_names_of_existing_resources_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(
        dir.path(),
        json!({ "taken": ["aoai-afd-france", "aoai", "apim-aoai-gw"] }),
    );
    let emu = emulator(&st);
    let afd = example("afd");
    let plan = plan_json(&afd, &emu.url, &[]);
    let n = findings(&plan, "names");
    let fields: Vec<&str> = n.iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(
        fields,
        ["openai.accounts[2].customSubdomain", "frontDoor.endpoint"],
        "{plan:#}"
    );
    assert_eq!(
        n[0]["line"],
        line_of(&afd, "customSubdomain: aoai-afd-france")
    );
    apply_refused(&afd, &emu, &[], "custom subdomain aoai-afd-france is taken");

    let apim = example("apim");
    let plan = plan_json(&apim, &emu.url, &[]);
    let n = findings(&plan, "names");
    assert_eq!(n.len(), 1, "{plan:#}");
    assert_eq!(n[0]["field"], "apim.name");
    assert!(n[0]["message"]
        .as_str()
        .unwrap()
        .contains("apim-aoai-gw is taken"));

    // Once deployed, the emulator answers "taken" for the blueprint's own names (they exist):
    // the plan does not report them.
    let dir2 = tempfile::tempdir().unwrap();
    let emu = emulator(&state(dir2.path(), json!({})));
    apply_ok(&apim, &emu.url, &[]);
    let (_, check) = http(
        &emu.url,
        "POST",
        &format!("/subscriptions/{APIM_SUB}/providers/Microsoft.ApiManagement/checkNameAvailability?api-version=2024-05-01"),
        Some(&json!({ "name": "apim-aoai-gw" })),
    );
    assert_eq!(check["nameAvailable"], false, "{check}");
    let plan = plan_json(&apim, &emu.url, &[]);
    assert!(plan["preflight"].as_array().unwrap().is_empty(), "{plan:#}");
}

#[test]
fn an_unregistered_provider_is_reported_with_the_command_that_registers_it() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(dir.path(), json!({ "unregistered": ["Microsoft.Cdn"] }));
    let emu = emulator(&st);
    let bp = example("afd");
    let plan = plan_json(&bp, &emu.url, &[]);
    let p = findings(&plan, "providers");
    assert_eq!(p.len(), 1, "{plan:#}");
    assert_eq!(
        p[0]["help"],
        format!("az provider register --namespace Microsoft.Cdn --subscription {AFD_SUB}")
    );
    assert_eq!(p[0]["line"], line_of(&bp, "subscription:"));
    apply_refused(
        &bp,
        &emu,
        &[],
        "az provider register --namespace Microsoft.Cdn",
    );
}

/// The preflight paths in the emulator's log since `start`.
fn preflight_requests(emu: &Emulator, start: usize) -> Vec<String> {
    emu.log()[start..]
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["method"].as_str().unwrap(),
                e["path"].as_str().unwrap()
            )
        })
        .filter(|p| {
            [
                "/usages",
                "/models",
                "/modelCapacities",
                "/deletedAccounts",
                "Availability",
            ]
            .iter()
            .any(|k| p.contains(k))
                || p.split('/').count() == 5
                    && p.contains(" /subscriptions/")
                    && p.contains("/providers/")
        })
        .collect()
}

#[test]
fn one_request_per_fact_and_skipped_checks_send_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(
        dir.path(),
        json!({ "quota": { "swedencentral": { "OpenAI.GlobalStandard.gpt-5.4-mini": { "limit": 1 } } } }),
    );
    let emu = emulator(&st);
    let bp = example("apim");
    let start = emu.log().len();
    let plan = plan_json(&bp, &emu.url, &[]);
    let mut reqs = preflight_requests(&emu, start);
    reqs.sort();
    // 2 regions x (usages, model catalogue), 1 model capacities, 1 deleted accounts,
    // 3 subdomains, 1 API Management name, and one registration per provider namespace the
    // render writes.
    let providers = reqs.iter().filter(|r| r.split('/').count() == 5).count();
    // CognitiveServices, Network, ApiManagement, Insights, OperationalInsights, EventHub,
    // Consumption.
    assert_eq!(providers, 7, "{reqs:#?}");
    assert_eq!(reqs.len() - providers, 2 * 2 + 1 + 1 + 3 + 1, "{reqs:#?}");
    assert_eq!(
        reqs.iter().filter(|r| r.ends_with("/models")).count(),
        2,
        "{reqs:#?}"
    );
    assert_eq!(findings(&plan, "quota").len(), 1);

    let start = emu.log().len();
    let plan = plan_json(&bp, &emu.url, &["--skip-preflight", "quota"]);
    assert!(findings(&plan, "quota").is_empty(), "{plan:#}");
    let reqs = preflight_requests(&emu, start);
    assert!(!reqs.iter().any(|r| r.contains("/usages")), "{reqs:#?}");
    assert!(reqs.iter().any(|r| r.ends_with("/models")), "{reqs:#?}");
    assert!(
        reqs.iter().any(|r| r.contains("/modelCapacities")),
        "{reqs:#?}"
    );

    let start = emu.log().len();
    let plan = plan_json(&bp, &emu.url, &["--skip-preflight", "all"]);
    assert!(plan["preflight"].as_array().unwrap().is_empty());
    assert!(preflight_requests(&emu, start).is_empty());
}

#[test]
fn a_replaced_account_is_purged_before_it_is_created_again() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(&state(dir.path(), json!({})));
    let bp = edited_example("afd", dir.path(), "afd.yaml", |_| {});
    apply_ok(&bp, &emu.url, &[]);
    let changed = edited_example("afd", dir.path(), "afd.yaml", |v| {
        v["openai"]["accounts"][0]["customSubdomain"] = "aoai-renamed-sub".into();
    });
    let start = emu.log().len();
    apply_ok(&changed, &emu.url, &["--allow-replace"]);
    let order: Vec<String> = emu.log()[start..]
        .iter()
        .filter(|e| e["method"] == "DELETE" || e["method"] == "PUT")
        .map(|e| {
            format!(
                "{} {}",
                e["method"].as_str().unwrap(),
                e["path"].as_str().unwrap()
            )
        })
        // The account and its soft-deleted copy (not its children, nor the origin named after it).
        .filter(|p| p.ends_with("ccounts/aoai-afd-weu"))
        .collect();
    assert!(order.len() >= 3, "{order:#?}");
    assert!(
        order[0].starts_with("DELETE ") && order[0].ends_with("/accounts/aoai-afd-weu"),
        "{order:#?}"
    );
    assert!(
        order[1].starts_with("DELETE ")
            && order[1].ends_with(
                "/locations/westeurope/resourceGroups/rg-aoai-afd/deletedAccounts/aoai-afd-weu"
            ),
        "{order:#?}"
    );
    assert!(
        order[2].starts_with("PUT ") && order[2].ends_with("/accounts/aoai-afd-weu"),
        "{order:#?}"
    );
    assert!(deleted_accounts(&emu.url, AFD_SUB).is_empty());
}

#[test]
fn a_usage_azure_does_not_list_is_a_warning_not_a_guess() {
    let dir = tempfile::tempdir().unwrap();
    // swedencentral offers only another model: no usage for the example's deployment there.
    let st = state(
        dir.path(),
        json!({ "models": { "swedencentral": [ { "name": "gpt-5.4-nano", "version": "2026-03-17", "skus": ["GlobalStandard"] } ] } }),
    );
    let emu = emulator(&st);
    let plan = plan_json(&example("apim"), &emu.url, &[]);
    let q = findings(&plan, "quota");
    assert_eq!(q.len(), 1, "{plan:#}");
    assert_eq!(q[0]["severity"], "warning");
    assert!(q[0]["message"]
        .as_str()
        .unwrap()
        .contains("no usage named OpenAI.GlobalStandard.gpt-5.4-mini in swedencentral"));
    // The model check says why: it is not offered there.
    assert_eq!(
        findings(&plan, "models")[0]["severity"],
        "error",
        "{plan:#}"
    );
}

#[test]
fn the_emulator_refuses_a_custom_subdomain_held_by_another_account() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(&state(dir.path(), json!({ "taken": ["aoai-afd-france"] })));
    let rg = format!("/subscriptions/{AFD_SUB}/resourceGroups/rg-x");
    let (s, _) = http(
        &emu.url,
        "PUT",
        &format!("{rg}?api-version=2025-04-01"),
        Some(&json!({ "location": "westeurope" })),
    );
    assert!(s == 200 || s == 201, "{s}");
    let (s, body) = http(
        &emu.url,
        "PUT",
        &format!(
            "{rg}/providers/Microsoft.CognitiveServices/accounts/other?api-version=2026-05-01"
        ),
        Some(
            &json!({ "location": "westeurope", "kind": "OpenAI", "sku": { "name": "S0" },
                      "properties": { "customSubDomainName": "aoai-afd-france" } }),
        ),
    );
    assert_eq!(s, 409, "{body}");
    assert_eq!(body["error"]["code"], "CustomDomainInUse");
}

#[test]
fn restoring_into_another_region_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // aoai-afd-swc was deleted in norwayeast; the blueprint puts it in swedencentral.
    let st = state(
        dir.path(),
        json!({ "deletedAccounts": { "seed": {
            "id": format!("/subscriptions/{AFD_SUB}/resourceGroups/rg-aoai-afd/providers/Microsoft.CognitiveServices/accounts/aoai-afd-swc"),
            "name": "aoai-afd-swc", "location": "norwayeast", "kind": "OpenAI", "sku": { "name": "S0" },
            "properties": {}
        } } }),
    );
    let emu = emulator(&st);
    let bp = example("afd");
    let plan = plan_json(&bp, &emu.url, &["--restore-soft-deleted"]);
    let s = findings(&plan, "soft-deleted");
    assert_eq!(s[0]["severity"], "error", "{plan:#}");
    assert!(s[0]["message"]
        .as_str()
        .unwrap()
        .contains("restoring brings it back there"));
    assert_eq!(plan["steps"], json!([]), "{plan:#}");
    apply_refused(
        &bp,
        &emu,
        &["--restore-soft-deleted"],
        "--purge-soft-deleted",
    );
    // Purging is the way out.
    apply_ok(&bp, &emu.url, &["--purge-soft-deleted"]);
}

/// The emulator answers in the shapes of azure-rest-api-specs' examples (the keys the examples
/// carry, cited in src/engine/preflight.rs), which is what the preflight reads.
#[test]
fn the_emulator_answers_in_the_shapes_of_the_spec_examples() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(&soft_deleted_state(dir.path()));
    let sub = format!("/subscriptions/{AFD_SUB}");
    let cog = format!("{sub}/providers/Microsoft.CognitiveServices");
    let has = |v: &Value, keys: &[&str]| {
        for k in keys {
            assert!(v.pointer(k).is_some(), "{k} missing in {v:#}");
        }
    };
    // ListUsages.json
    let (s, v) = http(
        &emu.url,
        "GET",
        &format!("{cog}/locations/westus/usages?api-version={COG}"),
        None,
    );
    assert_eq!(s, 200);
    has(
        &v,
        &[
            "/value/0/name/value",
            "/value/0/name/localizedValue",
            "/value/0/currentValue",
            "/value/0/limit",
            "/value/0/unit",
        ],
    );
    // ListLocationBasedModelCapacities.json (the subscription-wide list)
    let (s, v) = http(
        &emu.url,
        "GET",
        &format!("{cog}/modelCapacities?modelFormat=OpenAI&modelName=gpt-4o&modelVersion=2024-11-20&api-version={COG}"),
        None,
    );
    assert_eq!(s, 200);
    has(
        &v,
        &[
            "/value/0/id",
            "/value/0/type",
            "/value/0/name",
            "/value/0/location",
            "/value/0/properties/model/name",
            "/value/0/properties/model/version",
            "/value/0/properties/skuName",
            "/value/0/properties/availableCapacity",
        ],
    );
    assert_eq!(
        v["value"][0]["type"],
        "Microsoft.CognitiveServices/locations/models/skuCapacities"
    );
    // GetDeletedAccount.json, through the list and by id
    let (s, v) = http(
        &emu.url,
        "GET",
        &format!("{cog}/deletedAccounts?api-version={COG}"),
        None,
    );
    assert_eq!(s, 200);
    let id = v["value"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        id,
        format!(
            "{cog}/locations/swedencentral/resourceGroups/rg-aoai-afd/deletedAccounts/aoai-afd-swc"
        )
    );
    let (s, v) = http(&emu.url, "GET", &format!("{id}?api-version={COG}"), None);
    assert_eq!(s, 200);
    has(
        &v,
        &[
            "/id",
            "/name",
            "/type",
            "/location",
            "/sku/name",
            "/kind",
            "/properties",
        ],
    );
    let (s, v) = http(&emu.url, "GET", &format!("{}x?api-version={COG}", id), None);
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("ResourceNotFound"))
    );
    // CheckDomainAvailability.json
    let (s, v) = http(
        &emu.url,
        "POST",
        &format!("{cog}/checkDomainAvailability?api-version={COG}"),
        Some(
            &json!({ "subdomainName": "aoai-afd-swc", "type": "Microsoft.CognitiveServices/accounts" }),
        ),
    );
    assert_eq!(s, 200);
    has(
        &v,
        &[
            "/isSubdomainAvailable",
            "/reason",
            "/subdomainName",
            "/type",
        ],
    );
    assert_eq!(
        v["isSubdomainAvailable"], false,
        "held by the soft-deleted account: {v}"
    );
    // ApiManagementServiceCheckNameAvailability.json
    let (s, v) = http(
        &emu.url,
        "POST",
        &format!(
            "{sub}/providers/Microsoft.ApiManagement/checkNameAvailability?api-version=2024-05-01"
        ),
        Some(&json!({ "name": "apim-free" })),
    );
    assert_eq!(s, 200);
    has(&v, &["/nameAvailable", "/reason", "/message"]);
    assert_eq!(
        (v["nameAvailable"].as_bool(), v["reason"].as_str()),
        (Some(true), Some("Valid"))
    );
    // CheckEndpointNameAvailability.json
    let (s, v) = http(
        &emu.url,
        "POST",
        &format!("{sub}/resourceGroups/rg-aoai-afd/providers/Microsoft.Cdn/checkEndpointNameAvailability?api-version=2025-12-01"),
        Some(&json!({ "name": "aoai", "type": "Microsoft.Cdn/Profiles/AfdEndpoints", "autoGeneratedDomainNameLabelScope": "TenantReuse" })),
    );
    assert_eq!(s, 200);
    has(
        &v,
        &[
            "/nameAvailable",
            "/reason",
            "/message",
            "/availableHostname",
        ],
    );
    // Provider registration, and the api-version every ARM request needs.
    let (s, v) = http(
        &emu.url,
        "GET",
        &format!("{sub}/providers/Microsoft.Cdn?api-version=2025-04-01"),
        None,
    );
    assert_eq!(
        (s, v["registrationState"].as_str()),
        (200, Some("Registered"))
    );
    let (s, v) = http(
        &emu.url,
        "GET",
        &format!("{sub}/providers/Microsoft.Cdn"),
        None,
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("MissingApiVersionParameter"))
    );
}

/// The live catalogue of a region (`locations/{l}/models`) as the emulator's state describes it:
/// `swedencentral` lists the example's version with `lifecycle` and a newer generally available
/// one; the other regions serve the data's catalogue.
fn catalogue_state(dir: &Path, lifecycle: &str, inference: &str) -> PathBuf {
    state(
        dir,
        json!({ "models": { "swedencentral": [
            { "name": "gpt-5.4-mini", "version": "2026-03-17", "skus": ["GlobalStandard"],
              "lifecycleStatus": lifecycle, "deprecationInference": inference },
            { "name": "gpt-5.4-mini", "version": "2026-09-01", "skus": ["GlobalStandard"],
              "lifecycleStatus": "GenerallyAvailable" },
            { "name": "gpt-5.4-mini", "version": "2026-11-01", "skus": ["GlobalStandard"],
              "lifecycleStatus": "Preview" },
        ] } }),
    )
}

/// A new deployment of a version the live catalogue lists as deprecating: an error at the
/// version's line naming the retirement date and the newest generally available version in the
/// region (not the preview one), though the data calls the version generally available (the
/// live answer wins); plan exits 0, apply refuses before any write.
#[test]
fn a_new_deployment_of_a_deprecated_version_is_refused_before_any_write() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(&catalogue_state(
        dir.path(),
        "Deprecating",
        "2027-01-15T00:00:00Z",
    ));
    let bp = example("apim");
    let plan = plan_json(&bp, &emu.url, &[]);
    let l = findings(&plan, "lifecycle");
    assert_eq!(l.len(), 1, "{plan:#}");
    assert_eq!(l[0]["severity"], "error");
    assert_eq!(l[0]["field"], "openai.deployment.model.version");
    assert_eq!(l[0]["line"], line_of(&bp, "model: { name: gpt-5.4-mini"));
    let msg = l[0]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("gpt-5.4-mini 2026-03-17 is deprecated in swedencentral, retiring on 2027-01-15 (per the model catalogue of the region): Azure refuses new deployments of it (ServiceModelDeprecating), here on aoai-apim-swc-1, aoai-apim-swc-2"),
        "{msg}"
    );
    assert!(
        l[0]["help"]
            .as_str()
            .unwrap()
            .contains("the newest generally available version of gpt-5.4-mini as GlobalStandard in swedencentral is 2026-09-01"),
        "{plan:#}"
    );
    apply_refused(&bp, &emu, &[], "ServiceModelDeprecating");
    // Retired (the inference date has passed): the error says since when.
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(&catalogue_state(
        dir.path(),
        "Deprecated",
        "2026-11-30T00:00:00Z",
    ));
    let plan = plan_json(&bp, &emu.url, &[]);
    let l = findings(&plan, "lifecycle");
    assert_eq!(l.len(), 1, "{plan:#}");
    assert!(l[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("gpt-5.4-mini 2026-03-17 is retired in swedencentral since 2026-11-30"));
    apply_refused(&bp, &emu, &[], "is retired in swedencentral");
}

/// Where the live catalogue says generally available, a version the data lists as deprecated
/// is not refused by preflight (the live answer wins); `--skip-preflight lifecycle` sends no
/// catalogue read.
#[test]
fn the_live_catalogue_wins_over_the_data() {
    let dir = tempfile::tempdir().unwrap();
    // 2026-09-01: the retirement schedule lists gpt-4.1 2025-04-14 as deprecated (retiring
    // 2026-10-14); this subscription's catalogue still offers it as generally available.
    let st = state(
        dir.path(),
        json!({ "models": { "swedencentral": [
            { "name": "gpt-4.1", "version": "2025-04-14", "skus": ["GlobalStandard"], "lifecycleStatus": "GenerallyAvailable" }
        ], "norwayeast": [
            { "name": "gpt-4.1", "version": "2025-04-14", "skus": ["GlobalStandard"], "lifecycleStatus": "GenerallyAvailable" }
        ] } }),
    );
    let bp = edited_example("apim", dir.path(), "apim.yaml", |v| {
        v["openai"]["deployment"]["model"]["name"] = "gpt-4.1".into();
        v["openai"]["deployment"]["model"]["version"] = "2025-04-14".into();
    });
    let emu = Emulator::start_with("5000", "none", 1, &["--state", st.to_str().unwrap()]);
    let out = common::bin()
        .env("AOAI_ARCH_TODAY", "2026-09-01")
        .args(["plan", "--json"])
        .arg(&bp)
        .args(["--arm-endpoint", &emu.url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(findings(&plan, "lifecycle").is_empty(), "{plan:#}");
    // Lint, which knows only the data, warns.
    assert!(text(&out).contains("warning[AOAI061]"), "{}", text(&out));

    let start = emu.log().len();
    let plan = plan_json(
        &example("apim"),
        &emu.url,
        &["--skip-preflight", "lifecycle"],
    );
    assert!(findings(&plan, "lifecycle").is_empty());
    let reqs = preflight_requests(&emu, start);
    assert!(!reqs.iter().any(|r| r.ends_with("/models")), "{reqs:#?}");
}

/// An existing deployment of a deprecated version: a warning with the days left (and the
/// upgrade option that decides what happens then), not a refusal; apply goes on and writes
/// nothing new. Of a retired version: an error (its calls fail).
#[test]
fn an_existing_deployment_of_a_deprecated_version_is_a_warning_with_the_days_left() {
    let dir = tempfile::tempdir().unwrap();
    let st = dir.path().join("state.json");
    let emu = ["--emulator", "--emulator-state", st.to_str().unwrap()];
    let bp = example("apim");
    let run = |args: &[&str]| {
        common::bin()
            .args(args)
            .arg(&bp)
            .args(emu)
            .output()
            .unwrap()
    };
    let out = run(&["apply", "--auto-approve"]);
    assert!(out.status.success(), "{}", text(&out));
    // The catalogue now deprecates the version in swedencentral, retiring in 40 days.
    let mut v: Value = serde_json::from_str(&common::read(&st)).unwrap();
    v["preflight"]["models"] = json!({ "swedencentral": [
        { "name": "gpt-5.4-mini", "version": "2026-03-17", "skus": ["GlobalStandard"],
          "lifecycleStatus": "Deprecating", "deprecationInference": "2027-01-15T00:00:00Z" }
    ] });
    std::fs::write(&st, v.to_string()).unwrap();
    let out = run(&["plan", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let l = findings(&plan, "lifecycle");
    assert_eq!(l.len(), 1, "{plan:#}");
    assert_eq!(l[0]["severity"], "warning");
    assert_eq!(
        l[0]["message"],
        "gpt-5.4-mini 2026-03-17 is deprecated in swedencentral, retiring on 2027-01-15, 40 days from 2026-12-06 (per the model catalogue of the region): the deployment on aoai-apim-swc-1, aoai-apim-swc-2 runs until then, with versionUpgradeOption OnceCurrentVersionExpired"
    );
    let out = run(&["apply", "--auto-approve"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("preflight warning[lifecycle]"),
        "{}",
        text(&out)
    );

    // Retired: calls to the existing deployments fail.
    let mut v: Value = serde_json::from_str(&common::read(&st)).unwrap();
    v["preflight"]["models"]["swedencentral"][0]["deprecationInference"] =
        json!("2026-12-01T00:00:00Z");
    std::fs::write(&st, v.to_string()).unwrap();
    let out = run(&["plan", "--json"]);
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let l = findings(&plan, "lifecycle");
    assert_eq!(l.len(), 1, "{plan:#}");
    assert_eq!(l[0]["severity"], "error");
    assert!(l[0]["message"]
        .as_str()
        .unwrap()
        .contains("is retired in swedencentral since 2026-12-01 (per the model catalogue of the region): every call to the deployment on aoai-apim-swc-1, aoai-apim-swc-2 fails"));

    // Moving the existing deployments to another version that is deprecated is a new
    // deployment of that version: an error, not a warning.
    let mut v: Value = serde_json::from_str(&common::read(&st)).unwrap();
    v["preflight"]["models"]["swedencentral"] = json!([
        { "name": "gpt-5.4-mini", "version": "2026-09-01", "skus": ["GlobalStandard"],
          "lifecycleStatus": "Deprecating", "deprecationInference": "2027-01-15T00:00:00Z" }
    ]);
    std::fs::write(&st, v.to_string()).unwrap();
    let other = edited_example("apim", dir.path(), "apim.yaml", |v| {
        v["openai"]["deployment"]["model"]["version"] = "2026-09-01".into();
    });
    let out = common::bin()
        .args(["plan", "--json"])
        .arg(&other)
        .args(emu)
        .output()
        .unwrap();
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let l = findings(&plan, "lifecycle");
    assert_eq!(l.len(), 1, "{plan:#}");
    assert_eq!(l[0]["severity"], "error");
    assert!(l[0]["message"]
        .as_str()
        .unwrap()
        .contains("Azure refuses new deployments of it (ServiceModelDeprecating), here on aoai-apim-swc-1, aoai-apim-swc-2"));
}

/// The catalogue comes in pages (`nextLink`); the version is on the last page and is found.
#[test]
fn the_catalogue_is_read_through_its_pages() {
    let dir = tempfile::tempdir().unwrap();
    let mut models: Vec<Value> = (1..=4)
        .map(
            |i| json!({ "name": format!("other-{i}"), "version": "1", "skus": ["GlobalStandard"] }),
        )
        .collect();
    models.push(
        json!({ "name": "gpt-5.4-mini", "version": "2026-03-17", "skus": ["GlobalStandard"],
        "lifecycleStatus": "Deprecated", "deprecationInference": "2027-02-01" }),
    );
    let st = state(
        dir.path(),
        json!({ "modelsPageSize": 2, "models": { "swedencentral": models } }),
    );
    let emu = emulator(&st);
    let start = emu.log().len();
    let plan = plan_json(&example("apim"), &emu.url, &[]);
    let l = findings(&plan, "lifecycle");
    assert_eq!(l.len(), 1, "{plan:#}");
    assert!(l[0]["message"]
        .as_str()
        .unwrap()
        .contains("retiring on 2027-02-01"));
    // Three pages for swedencentral's five rows, norwayeast's catalogue in one or more.
    let pages = preflight_requests(&emu, start)
        .iter()
        .filter(|r| r.ends_with("/locations/swedencentral/models"))
        .count();
    assert_eq!(pages, 3);
    // The page shapes: value, nextLink on all but the last.
    let (s, v) = http(
        &emu.url,
        "GET",
        &format!("/subscriptions/{APIM_SUB}/providers/Microsoft.CognitiveServices/locations/swedencentral/models?api-version={COG}"),
        None,
    );
    assert_eq!(s, 200);
    assert_eq!(v["value"].as_array().unwrap().len(), 2);
    let next = v["nextLink"].as_str().unwrap();
    assert!(
        next.starts_with(&emu.url) && next.contains("$skipToken=2"),
        "{next}"
    );
}

/// Azure refuses a new deployment of a deprecated version itself: with the preflight check
/// off, apply reaches ARM, which answers 400 ServiceModelDeprecating; the accounts were
/// written, no deployment was.
#[test]
fn the_emulator_refuses_a_new_deployment_of_a_deprecated_version() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(&catalogue_state(
        dir.path(),
        "Deprecating",
        "2027-01-15T00:00:00Z",
    ));
    let bp = example("apim");
    let start = emu.log().len();
    let out = run(
        &["apply", "--auto-approve", "--skip-preflight", "lifecycle"],
        &bp,
        &emu.url,
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("ServiceModelDeprecating"), "{t}");
    assert!(
        t.contains("The model 'Format:OpenAI,Name:gpt-5.4-mini,Version:2026-03-17' is in deprecating state and cannot be used for new deployments."),
        "{t}"
    );
    let log = emu.log();
    let puts = |account: &str| -> Vec<u64> {
        log[start..]
            .iter()
            .filter(|e| {
                e["method"] == "PUT"
                    && e["path"]
                        .as_str()
                        .unwrap()
                        .contains(&format!("/accounts/{account}/deployments/"))
            })
            .map(|e| e["status"].as_u64().unwrap())
            .collect()
    };
    // swedencentral's deployments were refused, every time they were tried ...
    for acc in ["aoai-apim-swc-1", "aoai-apim-swc-2"] {
        let s = puts(acc);
        assert!(!s.is_empty() && s.iter().all(|c| *c == 400), "{acc}: {s:?}");
    }
    // ... norwayeast's was not: only swedencentral's catalogue deprecates the version.
    assert!(puts("aoai-apim-nor").iter().any(|c| *c == 201 || *c == 200));
}

#[test]
fn quota_is_counted_per_deployment_type_and_model_ptu_included() {
    let dir = tempfile::tempdir().unwrap();
    // swedencentral: chat (100) and chat-ptu (15 PTU) and embeddings (150) on one account.
    // 10 PTUs of the provisioned type are free for the model.
    let st = state(
        dir.path(),
        json!({ "quota": { "swedencentral": {
            "OpenAI.GlobalStandard.gpt-5.4": { "limit": 1000, "used": 0 },
            "OpenAI.GlobalStandard.text-embedding-3-large": { "limit": 100, "used": 0 },
            "OpenAI.GlobalProvisionedManaged.gpt-5.4": { "limit": 20, "used": 10 }
        } } }),
    );
    let emu = emulator(&st);
    let bp = example("multi-deployment");
    let plan = plan_json(&bp, &emu.url, &[]);
    let q: Vec<&Value> = findings(&plan, "quota")
        .into_iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    let msgs: Vec<&str> = q.iter().map(|f| f["message"].as_str().unwrap()).collect();
    assert_eq!(q.len(), 2, "{msgs:#?}");
    let ptu = q
        .iter()
        .find(|f| {
            f["message"]
                .as_str()
                .unwrap()
                .contains("OpenAI.GlobalProvisionedManaged.gpt-5.4 in swedencentral")
        })
        .expect("the PTU quota");
    assert!(
        ptu["message"].as_str().unwrap().contains("short by 5"),
        "{msgs:#?}"
    );
    assert_eq!(ptu["field"], "openai.deployments[1].sku.capacity");
    assert_eq!(ptu["line"], line_of(&bp, "capacity: 15"));
    let emb = q
        .iter()
        .find(|f| {
            f["message"]
                .as_str()
                .unwrap()
                .contains("text-embedding-3-large")
        })
        .expect("the embeddings quota");
    assert!(
        emb["message"].as_str().unwrap().contains("short by 50"),
        "{msgs:#?}"
    );
    assert_eq!(emb["field"], "openai.deployments[2].sku.capacity");
    apply_refused(&bp, &emu, &[], "short by 5");
}

/// A deployment whose `versionUpgradeOption` lets Azure upgrade it: once Azure has moved it to
/// a newer version (here a direct PUT to the emulator, as Azure's own upgrade would), plan
/// reports it converged and says which version it keeps, apply writes nothing, a write for
/// another property keeps the live version, and preflight judges the version the deployment
/// runs, not the older one the blueprint pins. With `NoAutoUpgrade` the version is drift.
#[test]
fn an_auto_upgraded_deployment_is_converged_and_judged_by_its_live_version() {
    let dir = tempfile::tempdir().unwrap();
    // swedencentral: the pinned version retires on 2027-01-15, the newer one is GA.
    let st = state(
        dir.path(),
        json!({ "models": { "swedencentral": [
            { "name": "gpt-5.4-mini", "version": "2026-03-17", "skus": ["GlobalStandard"],
              "lifecycleStatus": "GenerallyAvailable", "deprecationInference": "2027-01-15T00:00:00Z" },
            { "name": "gpt-5.4-mini", "version": "2026-09-01", "skus": ["GlobalStandard"],
              "lifecycleStatus": "GenerallyAvailable" },
        ] } }),
    );
    let emu = emulator(&st);
    let bp = example("apim");
    apply_ok(&bp, &emu.url, &[]);
    let rg = format!("/subscriptions/{APIM_SUB}/resourceGroups/rg-aoai-apim");
    let dep = format!(
        "{rg}/providers/Microsoft.CognitiveServices/accounts/aoai-apim-swc-1/deployments/gpt-5.4-mini"
    );
    let url = format!("{dep}?api-version=2026-05-01");
    let (status, mut doc) = http(&emu.url, "GET", &url, None);
    assert_eq!(status, 200, "{doc}");
    doc["properties"]["model"]["version"] = json!("2026-09-01");
    // Azure's upgrade changes the version only: the deployment keeps its tags.
    let body = json!({ "tags": doc["tags"], "sku": doc["sku"], "properties": {
        "model": doc["properties"]["model"],
        "versionUpgradeOption": doc["properties"]["versionUpgradeOption"],
        "raiPolicyName": doc["properties"]["raiPolicyName"],
    } });
    let (status, v) = http(&emu.url, "PUT", &url, Some(&body));
    assert!(status == 200 || status == 201, "{status} {v}");
    for _ in 0..100 {
        let (_, d) = http(&emu.url, "GET", &url, None);
        if d["properties"]["provisioningState"] == "Succeeded" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // Converged: exit 0 with --detailed-exitcode, the kept version shown, nothing written.
    let out = run(&["plan", "--detailed-exitcode"], &bp, &emu.url);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains("aoai-apim-swc-1/deployments/gpt-5.4-mini runs gpt-5.4-mini 2026-09-01, which Azure upgraded it to from the blueprint's 2026-03-17 (versionUpgradeOption OnceCurrentVersionExpired): kept, not written back"),
        "{t}"
    );
    let plan = plan_json(&bp, &emu.url, &[]);
    assert_eq!(plan["upgraded"][0]["live"], "2026-09-01", "{plan:#}");
    assert_eq!(plan["upgraded"][0]["pinned"], "2026-03-17");
    let start = emu.log().len();
    let t = apply_ok(&bp, &emu.url, &[]);
    assert!(t.contains("Nothing to do."), "{t}");
    assert_eq!(writes(&emu.log()[start..]), 0, "{t}");

    // Past the pinned version's retirement: the upgraded account is judged by 2026-09-01 (GA),
    // only the other one by 2026-03-17 (retired: its calls fail).
    let out = common::bin()
        .env("AOAI_ARCH_TODAY", "2027-02-01")
        .args(["plan", "--json"])
        .arg(&bp)
        .args(["--arm-endpoint", &emu.url])
        .output()
        .unwrap();
    let plan: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    let l = findings(&plan, "lifecycle");
    assert_eq!(l.len(), 1, "{plan:#}");
    let msg = l[0]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("gpt-5.4-mini 2026-03-17 is retired in swedencentral since 2027-01-15 (per the model catalogue of the region): every call to the deployment on aoai-apim-swc-2 fails"),
        "{msg}"
    );

    // A write for another property (the capacity) sends the live version, not the pinned one.
    let more = edited_example("apim", dir.path(), "apim.yaml", |v| {
        v["openai"]["deployment"]["sku"]["capacity"] = 250.into();
    });
    apply_ok(&more, &emu.url, &[]);
    let (_, d) = http(&emu.url, "GET", &url, None);
    assert_eq!(d["sku"]["capacity"], 250, "{d}");
    assert_eq!(d["properties"]["model"]["version"], "2026-09-01", "{d}");

    // NoAutoUpgrade: the blueprint's version is the one wanted, and plan says so.
    let pinned = edited_example("apim", dir.path(), "apim.yaml", |v| {
        v["openai"]["deployment"]["sku"]["capacity"] = 250.into();
        v["openai"]["deployment"]["versionUpgradeOption"] = "NoAutoUpgrade".into();
    });
    let out = run(&["plan", "--detailed-exitcode"], &pinned, &emu.url);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("properties.model.version"), "{t}");
}

/// Preflight checks every deployment of every account, not only the first: in a blueprint with
/// chat, a provisioned chat and embeddings, an embeddings model the region does not offer as
/// its type and a deprecated embeddings version are found, each at its own deployment.
#[test]
fn every_deployment_is_checked_not_only_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(
        dir.path(),
        json!({ "models": { "swedencentral": [
            { "name": "gpt-5.4", "version": "2026-03-05", "skus": ["GlobalStandard", "GlobalProvisionedManaged"],
              "lifecycleStatus": "GenerallyAvailable" },
            { "name": "text-embedding-3-large", "version": "1", "skus": ["Standard"],
              "lifecycleStatus": "Deprecating", "deprecationInference": "2027-01-15T00:00:00Z" },
        ] } }),
    );
    let emu = emulator(&st);
    let bp = example("multi-deployment");
    let plan = plan_json(&bp, &emu.url, &[]);
    let m = findings(&plan, "models");
    assert_eq!(m.len(), 1, "{plan:#}");
    assert_eq!(m[0]["field"], "openai.accounts[0].region");
    assert_eq!(
        m[0]["message"],
        "text-embedding-3-large 1 is not offered as GlobalStandard in swedencentral (deployment embeddings)"
    );
    let l = findings(&plan, "lifecycle");
    assert_eq!(l.len(), 1, "{plan:#}");
    assert_eq!(l[0]["field"], "openai.deployments[2].model.version");
    assert_eq!(l[0]["line"], line_of(&bp, "name: text-embedding-3-large"));
    assert!(
        l[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("text-embedding-3-large 1 is deprecated in swedencentral, retiring on 2027-01-15 (per the model catalogue of the region): Azure refuses new deployments of it (ServiceModelDeprecating), here on aoai-multi-swc"),
        "{plan:#}"
    );
    apply_refused(&bp, &emu, &[], "is not offered");
}
