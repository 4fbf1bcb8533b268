//! `destroy` through the real binary against a standalone emulator: only what the blueprint
//! owns is deleted (a foreign resource and a second blueprint's resources in the same group
//! survive), soft-deleted accounts and services are reported and purged with `--purge`, the
//! resource group goes only when the blueprint created it and it is empty, and the refusals.

mod common;

use std::path::Path;

use common::{edited_example, http, run, Emulator};
use serde_json::{json, Value};

fn text(o: &std::process::Output) -> String {
    format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn status(url: &str, id: &str, api: &str) -> u16 {
    http(url, "GET", &format!("{id}?api-version={api}"), None).0
}

fn ok(args: &[&str], bp: &Path, url: &str) -> String {
    let out = run(args, bp, url);
    assert!(out.status.success(), "{}", text(&out));
    text(&out)
}

fn deleted(url: &str, sub: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (p, api) in [
        ("Microsoft.CognitiveServices/deletedAccounts", "2026-05-01"),
        ("Microsoft.ApiManagement/deletedservices", "2024-05-01"),
    ] {
        let (s, v) = http(
            url,
            "GET",
            &format!("/subscriptions/{sub}/providers/{p}?api-version={api}"),
            None,
        );
        assert_eq!(s, 200, "{v}");
        out.extend(
            v["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["name"].as_str().unwrap().to_string()),
        );
    }
    out.sort();
    out
}

#[test]
fn destroy_deletes_only_what_the_blueprint_owns() {
    let emu = Emulator::start("5000", "none", 11);
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let first = edited_example("afd", a.path(), "gateway.yaml", |_| {});
    let f: serde_norway::Value = serde_norway::from_str(&common::read(&first)).unwrap();
    let sub = f["subscription"].as_str().unwrap().to_string();
    let rg = format!(
        "/subscriptions/{sub}/resourceGroups/{}",
        f["resourceGroup"].as_str().unwrap()
    );
    ok(&["apply", "--auto-approve"], &first, &emu.url);
    // A second blueprint (same file name) in the same group, and a resource nobody owns.
    let second = edited_example("apim", b.path(), "gateway.yaml", |v| {
        v["subscription"] = f["subscription"].clone();
        v["resourceGroup"] = f["resourceGroup"].clone();
        v["networking"] = serde_norway::Value::Null;
    });
    ok(&["apply", "--auto-approve"], &second, &emu.url);
    let foreign = format!("{rg}/providers/Microsoft.OperationalInsights/workspaces/law-not-ours");
    let (s, _) = http(
        &emu.url,
        "PUT",
        &format!("{foreign}?api-version=2025-07-01"),
        Some(&json!({"location": "swedencentral", "properties": {"sku": {"name": "PerGB2018"}}})),
    );
    assert!(s < 300, "{s}");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let afd_profile = format!("{rg}/providers/Microsoft.Cdn/profiles/afd-aoai");
    let afd_account = format!("{rg}/providers/Microsoft.CognitiveServices/accounts/aoai-afd-weu");
    let apim = format!("{rg}/providers/Microsoft.ApiManagement/service/apim-aoai-gw");
    let apim_account = format!("{rg}/providers/Microsoft.CognitiveServices/accounts/aoai-apim-nor");
    assert_eq!(status(&emu.url, &apim, "2024-05-01"), 200);

    // The second blueprint goes; the first's resources, the foreign one and the group stay.
    let out = ok(&["destroy", "--auto-approve"], &second, &emu.url);
    assert!(out.contains("apim-aoai-gw will be deleted"), "{out}");
    assert!(
        out.contains("law-not-ours (not owned by this blueprint): kept"),
        "{out}"
    );
    assert!(
        out.contains("profiles/afd-aoai (not owned by this blueprint): kept"),
        "{out}"
    );
    assert!(out.contains("resource group"), "{out}");
    assert!(
        out.contains("stays soft-deleted for 48 hours") && out.contains("--purge"),
        "{out}"
    );
    assert_eq!(status(&emu.url, &apim, "2024-05-01"), 404);
    assert_eq!(status(&emu.url, &apim_account, "2026-05-01"), 404);
    // Reverse dependency order: the gateway (whose backends point at the accounts) went, and
    // finished going, before the first account was deleted.
    let log = emu.log();
    let deletes = |part: &str| -> Vec<usize> {
        log.iter()
            .enumerate()
            .filter(|(_, e)| {
                e["method"] == "DELETE"
                    && e["path"]
                        .as_str()
                        .unwrap()
                        .to_lowercase()
                        .split('?')
                        .next()
                        .unwrap()
                        .ends_with(part)
            })
            .map(|(i, _)| i)
            .collect()
    };
    let service_done = log
        .iter()
        .rposition(|e| {
            e["is_poll"] == true
                && e["operation_of"]
                    .as_str()
                    .is_some_and(|r| r.ends_with("/service/apim-aoai-gw"))
        })
        .unwrap_or(0);
    let first_account = ["nor", "swc-1", "swc-2"]
        .iter()
        .flat_map(|n| deletes(&format!("/accounts/aoai-apim-{n}")))
        .min()
        .unwrap();
    assert!(
        deletes("/service/apim-aoai-gw")[0] < first_account && service_done < first_account,
        "the accounts were deleted before the gateway that points at them"
    );
    assert_eq!(status(&emu.url, &afd_profile, "2025-12-01"), 200, "{out}");
    assert_eq!(status(&emu.url, &afd_account, "2026-05-01"), 200);
    assert_eq!(status(&emu.url, &foreign, "2025-07-01"), 200);
    assert_eq!(status(&emu.url, &rg, "2025-04-01"), 200);
    // A budget has no tags: in a group the blueprint did not create, it is not proven its own.
    let budget = format!("{rg}/providers/Microsoft.Consumption/budgets/aoai-gateway-monthly");
    assert!(
        out.contains(
            "budgets/aoai-gateway-monthly (declared by this blueprint, but its type has no tags"
        ),
        "{out}"
    );
    assert_eq!(status(&emu.url, &budget, "2024-08-01"), 200);
    // Azure keeps the accounts and the service soft-deleted, under their location.
    let soft = deleted(&emu.url, &sub);
    assert!(
        soft.contains(&"apim-aoai-gw".to_string()) && soft.contains(&"aoai-apim-nor".to_string()),
        "{soft:?}"
    );
    let (s, v) = http(
        &emu.url,
        "GET",
        &format!("/subscriptions/{sub}/providers/Microsoft.ApiManagement/locations/swedencentral/deletedservices/apim-aoai-gw?api-version=2024-05-01"),
        None,
    );
    assert_eq!(s, 200, "{v}");
    assert!(v["properties"]["serviceId"]
        .as_str()
        .unwrap()
        .eq_ignore_ascii_case(&apim));

    // A second run with --purge: nothing left to delete, the soft-deleted ones are purged.
    let out = ok(&["destroy", "--auto-approve", "--purge"], &second, &emu.url);
    assert!(
        out.contains(
            "purged Microsoft.ApiManagement/locations/swedencentral/deletedservices/apim-aoai-gw"
        ),
        "{out}"
    );
    assert_eq!(deleted(&emu.url, &sub), Vec::<String>::new());

    // The first blueprint, purged at once; its group holds a foreign resource, so it stays.
    let out = ok(&["destroy", "--auto-approve", "--purge"], &first, &emu.url);
    assert!(
        out.contains("it holds resources this blueprint does not own"),
        "{out}"
    );
    assert_eq!(status(&emu.url, &afd_profile, "2025-12-01"), 404);
    assert_eq!(status(&emu.url, &foreign, "2025-07-01"), 200);
    assert_eq!(status(&emu.url, &rg, "2025-04-01"), 200);
    assert_eq!(deleted(&emu.url, &sub), Vec::<String>::new(), "{out}");

    // Once the group is empty, the blueprint that created it deletes it.
    for (id, api) in [(&foreign, "2025-07-01"), (&budget, "2024-08-01")] {
        let (s, _) = http(&emu.url, "DELETE", &format!("{id}?api-version={api}"), None);
        assert!(s < 300, "{s}");
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let out = ok(&["destroy", "--auto-approve"], &first, &emu.url);
    assert!(
        out.contains("will be deleted (created by this blueprint, empty afterwards)"),
        "{out}"
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(status(&emu.url, &rg, "2025-04-01"), 404, "{out}");
}

#[test]
fn destroy_refuses_without_a_terminal_and_deletes_nothing() {
    let emu = Emulator::start("5000", "none", 12);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("apim", dir.path(), "apim.yaml", |_| {});
    ok(&["apply", "--auto-approve"], &bp, &emu.url);
    let out = run(&["destroy"], &bp, &emu.url);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("stdin is not a terminal"),
        "{}",
        text(&out)
    );
    // (The apply's own lock lease is the only DELETE so far.)
    let log: Vec<Value> = emu.log();
    assert!(!log.iter().any(|e| e["method"] == "DELETE"
        && !e["path"]
            .as_str()
            .unwrap_or("")
            .contains("/deployments/aoai-arch-lock-")));
    // Destroyed without --purge, the names stay taken: Azure refuses to create them again.
    let out = ok(&["destroy", "--auto-approve"], &bp, &emu.url);
    // The budget, which ARM's listing of the group does not show, goes too (the group is
    // this blueprint's).
    assert!(
        out.contains("Microsoft.Consumption/budgets/aoai-gateway-monthly will be deleted"),
        "{out}"
    );
    assert!(emu.log().iter().any(|e| e["method"] == "DELETE"
        && e["path"]
            .as_str()
            .unwrap()
            .contains("/budgets/aoai-gateway-monthly")));
    let again = run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    let t = text(&again);
    assert!(
        t.contains("FlagMustBeSetForRestore")
            || t.contains("ServiceAlreadyExistsInSoftDeletedState"),
        "{t}"
    );
    // A second destroy purges them (and removes what the failed apply made); then the names
    // are free again, and a last destroy finds nothing.
    let out = ok(&["destroy", "--auto-approve", "--purge"], &bp, &emu.url);
    assert!(out.contains("purged "), "{out}");
    ok(&["apply", "--auto-approve"], &bp, &emu.url);
    ok(&["destroy", "--auto-approve", "--purge"], &bp, &emu.url);
    let out = ok(&["destroy", "--auto-approve"], &bp, &emu.url);
    assert!(out.contains("does not exist: nothing to destroy"), "{out}");
}

/// `destroy`, then `destroy --purge`, then `apply`: the second destroy purges every
/// soft-deleted account and service of the blueprint, `apim.instances` services included, so
/// the apply that follows creates them again instead of failing with
/// ServiceAlreadyExistsInSoftDeletedState.
#[test]
fn destroy_then_destroy_purge_then_apply_succeeds_with_apim_instances() {
    let emu = Emulator::start("5000", "none", 31);
    let bp = common::example("afd-apim-private");
    let sub = "00000000-0000-0000-0000-000000000004";
    ok(&["apply", "--auto-approve"], &bp, &emu.url);
    let first = ok(&["destroy", "--auto-approve"], &bp, &emu.url);
    assert!(first.contains("re-run with --purge"), "{first}");
    let soft = deleted(&emu.url, sub);
    assert!(
        soft.iter().any(|n| n == "apim-aoai-private-weu"),
        "the instance is not soft-deleted: {soft:?}"
    );
    let purge = ok(&["destroy", "--auto-approve", "--purge"], &bp, &emu.url);
    for name in &soft {
        assert!(
            purge.contains(&format!("/{name}")),
            "{name} not purged:\n{purge}"
        );
    }
    assert_eq!(deleted(&emu.url, sub), Vec::<String>::new(), "{purge}");
    ok(&["apply", "--auto-approve"], &bp, &emu.url);
    let plan = run(&["plan", "--detailed-exitcode"], &bp, &emu.url);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
}

/// Azure ignores the case of tag names (it keeps the case a tag was first given): an account
/// whose ownership tag reads `AOAI-ARCH-BLUEPRINT` is still this blueprint's. The plan is
/// clean, nothing asks for --adopt, and destroy deletes it.
#[test]
fn the_ownership_tag_is_found_whatever_its_case() {
    let emu = Emulator::start("5000", "none", 33);
    let bp = common::example("afd");
    ok(&["apply", "--auto-approve"], &bp, &emu.url);
    let v: serde_norway::Value = serde_norway::from_str(&common::read(&bp)).unwrap();
    let account = format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.CognitiveServices/accounts/{}",
        v["subscription"].as_str().unwrap(),
        v["resourceGroup"].as_str().unwrap(),
        v["openai"]["accounts"][0]["name"].as_str().unwrap()
    );
    let api = "2026-05-01";
    let (_, mut doc) = http(
        &emu.url,
        "GET",
        &format!("{account}?api-version={api}"),
        None,
    );
    let tags = doc["tags"].as_object().unwrap().clone();
    let upper: serde_json::Map<String, Value> = tags
        .into_iter()
        .map(|(k, v)| (k.to_uppercase(), v))
        .collect();
    doc["tags"] = Value::Object(upper);
    for k in ["id", "name", "type", "etag", "systemData"] {
        doc.as_object_mut().unwrap().remove(k);
    }
    doc["properties"]
        .as_object_mut()
        .unwrap()
        .retain(|k, _| !matches!(k.as_str(), "provisioningState" | "endpoint" | "endpoints"));
    let (s, d) = http(
        &emu.url,
        "PUT",
        &format!("{account}?api-version={api}"),
        Some(&doc),
    );
    assert!((200..300).contains(&s), "{s} {d}");
    for _ in 0..500 {
        let (_, d) = http(
            &emu.url,
            "GET",
            &format!("{account}?api-version={api}"),
            None,
        );
        if d["properties"]["provisioningState"] == "Succeeded" {
            assert!(d["tags"]["AOAI-ARCH-BLUEPRINT"].is_string(), "{d}");
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let plan = run(&["plan", "--detailed-exitcode"], &bp, &emu.url);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    let out = ok(&["destroy", "--auto-approve"], &bp, &emu.url);
    assert!(
        out.lines().any(|l| l.starts_with("- ")
            && l.contains(&format!("accounts/{}", account.rsplit('/').next().unwrap()))),
        "{out}"
    );
    assert_eq!(status(&emu.url, &account, api), 404, "{out}");
}

/// An account soft-deleted in another resource group holds its name: the plan of a blueprint
/// that declares the name elsewhere names that account, its group and how to purge it, instead
/// of only "custom subdomain taken".
#[test]
fn a_soft_deleted_account_of_the_same_name_in_another_group_is_named_with_purge_guidance() {
    let emu = Emulator::start("5000", "none", 34);
    let dir = tempfile::tempdir().unwrap();
    let first = common::example("afd");
    ok(&["apply", "--auto-approve"], &first, &emu.url);
    ok(&["destroy", "--auto-approve"], &first, &emu.url);
    let elsewhere = edited_example("afd", dir.path(), "afd.yaml", |v| {
        v["resourceGroup"] = "rg-aoai-other".into();
        v["id"] = "afd-other".into();
    });
    let plan = run(&["plan"], &elsewhere, &emu.url);
    let t = text(&plan);
    let v: serde_norway::Value = serde_norway::from_str(&common::read(&first)).unwrap();
    let name = v["openai"]["accounts"][0]["name"].as_str().unwrap();
    let line = t
        .lines()
        .find(|l| l.contains(&format!("account {name} cannot be created")))
        .unwrap_or_else(|| panic!("not named: {t}"));
    assert!(line.contains("in resource group rg-aoai-afd"), "{line}");
    assert!(
        t.contains(&format!(
            "az cognitiveservices account purge --name {name} --resource-group rg-aoai-afd"
        )),
        "{t}"
    );
    // apply refuses it before any write.
    let before = common::writes(&emu.log());
    let out = run(&["apply", "--auto-approve"], &elsewhere, &emu.url);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(common::writes(&emu.log()), before);
}

/// Destroy waves run on an acyclic order (the after-apply edges that copy a value, such as the
/// named value holding the Front Door id, are cut): an API Management service, the primary
/// or an `apim.instances` one, is never deleted before the Front Door profile whose origins
/// point at it. Checked from the request log, with and without Private Link.
#[test]
fn destroy_deletes_the_front_door_profile_before_the_gateways_it_points_at() {
    for (i, name) in ["afd-apim", "afd-apim-private"].iter().enumerate() {
        let emu = Emulator::start("5000", "none", 60 + i as u64);
        let bp = common::example(name);
        ok(&["apply", "--auto-approve"], &bp, &emu.url);
        let start = emu.log().len();
        let out = ok(&["destroy", "--auto-approve"], &bp, &emu.url);
        let log = emu.log();
        let seq_of = |pred: &dyn Fn(&str) -> bool| -> Vec<u64> {
            log[start..]
                .iter()
                .filter(|e| e["method"] == "DELETE" && e["path"].as_str().is_some_and(pred))
                .map(|e| e["seq"].as_u64().unwrap())
                .collect()
        };
        let top = |p: &str, segment: &str| {
            p.to_lowercase()
                .split(segment)
                .nth(1)
                .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
        };
        let profile = seq_of(&|p| top(p, "/microsoft.cdn/profiles/"));
        let services = seq_of(&|p| top(p, "/microsoft.apimanagement/service/"));
        assert!(!profile.is_empty() && !services.is_empty(), "{name}: {out}");
        let last_profile = profile.iter().max().unwrap();
        assert!(
            services.iter().all(|s| s > last_profile),
            "{name}: a service ({services:?}) deleted before the profile ({profile:?}):\n{out}"
        );
    }
}
