//! Safety of plan/apply against a subscription with things in it, through the real binary and
//! a standalone emulator whose request log counts every write: ownership by blueprint id,
//! adoption, kept tags, resource groups that are never deleted, replaces that recreate what
//! Azure deletes with them, prune order, Failed and in-progress states, refusals before the
//! first write, interrupts.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{edited_example, http, run, signal, writes, Emulator};
use serde_json::{json, Value};

fn text(o: &std::process::Output) -> String {
    format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn apply_ok(bp: &Path, url: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["apply", "--auto-approve"];
    args.extend_from_slice(extra);
    let out = run(&args, bp, url);
    assert!(out.status.success(), "{}", text(&out));
    out
}

fn plan_code(bp: &Path, url: &str) -> (Option<i32>, String) {
    let out = run(&["plan", "--detailed-exitcode"], bp, url);
    (out.status.code(), text(&out))
}

fn get(url: &str, id: &str, api: &str) -> (u16, Value) {
    http(url, "GET", &format!("{id}?api-version={api}"), None)
}

const RG_API: &str = "2025-04-01";
const COG_API: &str = "2026-05-01";
const CDN_API: &str = "2025-12-01";

fn ys(s: &str) -> serde_norway::Value {
    serde_norway::Value::String(s.into())
}

fn rg_of(bp: &Path) -> String {
    let v: serde_norway::Value = serde_norway::from_str(&common::read(bp)).unwrap();
    format!(
        "/subscriptions/{}/resourceGroups/{}",
        v["subscription"].as_str().unwrap(),
        v["resourceGroup"].as_str().unwrap()
    )
}

#[test]
fn a_location_change_is_refused_and_never_deletes_the_resource_group() {
    let emu = Emulator::start("5000", "none", 1);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("apim", dir.path(), "apim.yaml", |_| {});
    apply_ok(&bp, &emu.url, &[]);
    let rg = rg_of(&bp);
    // Something in the group that no blueprint owns.
    let foreign = format!("{rg}/providers/Microsoft.OperationalInsights/workspaces/law-not-ours");
    let (status, _) = http(
        &emu.url,
        "PUT",
        &format!("{foreign}?api-version=2025-07-01"),
        Some(&json!({"location": "swedencentral", "properties": {"sku": {"name": "PerGB2018"}}})),
    );
    assert!(status < 300, "{status}");
    std::thread::sleep(Duration::from_millis(200));

    let moved = edited_example("apim", dir.path(), "apim.yaml", |v| {
        v["location"] = ys("germanywestcentral");
    });
    let before = writes(&emu.log());
    let out = run(
        &["apply", "--auto-approve", "--allow-replace"],
        &moved,
        &emu.url,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("cannot change on a resource group") && all.contains("nothing was written"),
        "{all}"
    );
    assert_eq!(writes(&emu.log()), before, "a refused apply wrote");
    assert_eq!(get(&emu.url, &rg, RG_API).0, 200);
    assert_eq!(get(&emu.url, &foreign, "2025-07-01").0, 200);
}

#[test]
fn a_second_blueprint_with_the_same_file_name_never_prunes_the_first() {
    let emu = Emulator::start("5000", "none", 2);
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let first = edited_example("afd", a.path(), "gateway.yaml", |_| {});
    apply_ok(&first, &emu.url, &[]);
    let rg = rg_of(&first);
    // Another blueprint, same file name, same resource group.
    let second = edited_example("apim", b.path(), "gateway.yaml", |v| {
        let f: serde_norway::Value = serde_norway::from_str(&common::read(&first)).unwrap();
        v["subscription"] = f["subscription"].clone();
        v["resourceGroup"] = f["resourceGroup"].clone();
        v["networking"] = serde_norway::Value::Null;
    });
    // Deleting what the blueprint owns and no longer declares is the default: nothing of the
    // first blueprint is its own.
    let out = apply_ok(&second, &emu.url, &[]);
    let s = text(&out);
    assert!(
        s.contains("exists and is not owned by this blueprint: used as it is"),
        "{s}"
    );
    assert!(!s.contains("deleted "), "{s}");
    let log = emu.log();
    assert!(
        !log.iter().any(|e| e["method"] == "DELETE"
            && !e["path"]
                .as_str()
                .unwrap_or("")
                .contains("/deployments/aoai-arch-lock-")),
        "the second blueprint deleted something"
    );
    for id in [
        format!("{rg}/providers/Microsoft.Cdn/profiles/afd-aoai"),
        format!("{rg}/providers/Microsoft.CognitiveServices/accounts/aoai-afd-weu"),
    ] {
        let api = if id.contains("Cdn") { CDN_API } else { COG_API };
        assert_eq!(get(&emu.url, &id, api).0, 200, "{id} is gone");
    }
    // The first is still converged, and the second owns nothing of it.
    assert_eq!(plan_code(&first, &emu.url).0, Some(0));
}

#[test]
fn foreign_resources_are_adopted_only_with_adopt_and_keep_their_tags() {
    let emu = Emulator::start("5000", "none", 3);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("apim", dir.path(), "apim.yaml", |_| {});
    let rg = rg_of(&bp);
    let text_bp = common::read(&bp);
    let v: serde_norway::Value = serde_norway::from_str(&text_bp).unwrap();
    let location = v["location"].as_str().unwrap().to_string();
    let law_name = v["apim"]["logging"]["logAnalytics"].as_str().unwrap();
    let law = format!("{rg}/providers/Microsoft.OperationalInsights/workspaces/{law_name}");
    assert!(
        http(
            &emu.url,
            "PUT",
            &format!("{rg}?api-version={RG_API}"),
            Some(&json!({"location": location, "tags": {"costcenter": "42"}})),
        )
        .0 < 300
    );
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        http(
            &emu.url,
            "PUT",
            &format!("{law}?api-version=2025-07-01"),
            Some(&json!({"location": location, "tags": {"team": "data"},
                         "properties": {"sku": {"name": "PerGB2018"}}})),
        )
        .0 < 300
    );
    std::thread::sleep(Duration::from_millis(300));
    let setup = emu.log().len();

    let plan = run(&["plan"], &bp, &emu.url);
    let p = text(&plan);
    assert!(
        p.contains(&format!(
            "{} will be adopted",
            law.rsplit('/').next().unwrap()
        )) && p.contains("tags kept"),
        "{p}"
    );
    let before = writes(&emu.log());
    let refused = run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("--adopt"), "{}", text(&refused));
    // The refusal names the resource by its short id, as the plan does.
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains(&format!(
            "Microsoft.OperationalInsights/workspaces/{law_name}: exists but was not created"
        )) && !err.contains("/subscriptions/"),
        "{err}"
    );
    assert_eq!(writes(&emu.log()), before, "refused apply wrote");

    apply_ok(&bp, &emu.url, &["--adopt"]);
    let (_, doc) = get(&emu.url, &law, "2025-07-01");
    assert_eq!(doc["tags"]["team"], "data", "{doc}");
    assert!(doc["tags"]["aoai-arch-blueprint"].is_string(), "{doc}");
    // The resource group was not the blueprint's: untouched.
    let (_, group) = get(&emu.url, &rg, RG_API);
    assert_eq!(group["tags"], json!({"costcenter": "42"}));
    assert!(!emu.log()[setup..]
        .iter()
        .any(|e| (e["method"] == "PUT" || e["method"] == "DELETE")
            && e["path"].as_str().unwrap_or("").to_lowercase() == rg.to_lowercase()));
    assert_eq!(plan_code(&bp, &emu.url).0, Some(0));
}

#[test]
fn a_replace_is_refused_up_front_without_allow_replace() {
    let emu = Emulator::start("5000", "none", 4);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("afd", dir.path(), "afd.yaml", |_| {});
    apply_ok(&bp, &emu.url, &[]);
    // One replace (an account's subdomain) and one update (capacity) in the same plan.
    let changed = edited_example("afd", dir.path(), "afd.yaml", |v| {
        v["openai"]["accounts"][0]["customSubdomain"] = ys("aoai-renamed-sub");
        let cap = v["openai"]["deployment"]["sku"]["capacity"]
            .as_u64()
            .unwrap();
        v["openai"]["deployment"]["sku"]["capacity"] = (cap + 1).into();
    });
    let before = writes(&emu.log());
    let out = run(&["apply", "--auto-approve"], &changed, &emu.url);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("re-run with --allow-replace"));
    assert_eq!(writes(&emu.log()), before, "writes before the refusal");
}

#[test]
fn a_replace_recreates_what_azure_deletes_with_it() {
    let emu = Emulator::start("5000", "none", 5);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("afd", dir.path(), "afd.yaml", |_| {});
    apply_ok(&bp, &emu.url, &[]);
    let v: serde_norway::Value = serde_norway::from_str(&common::read(&bp)).unwrap();
    let account = v["openai"]["accounts"][0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let deployment = v["openai"]["deployment"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let changed = edited_example("afd", dir.path(), "afd.yaml", |v| {
        v["openai"]["accounts"][0]["customSubdomain"] = ys("aoai-renamed-sub");
    });
    let plan = run(&["plan"], &changed, &emu.url);
    let p = text(&plan);
    assert!(p.contains("deleted by Azure with"), "{p}");
    // Reasons name resources as the lines do: no subscription paths.
    assert!(
        p.contains(&format!(
            "deleted by Azure with Microsoft.CognitiveServices/accounts/{account}"
        )) && !p.contains("/subscriptions/"),
        "{p}"
    );
    let start = emu.log().len();
    let out = apply_ok(&changed, &emu.url, &["--allow-replace"]);
    let s = text(&out);
    assert!(s.contains("1 replaced"), "{s}");
    // The only deletes: the account itself (and its soft-deleted name, purged), never a
    // resource outside the replace; its deployment is written again.
    let log = emu.log();
    let deletes: Vec<String> = log[start..]
        .iter()
        .filter(|e| e["method"] == "DELETE")
        .map(|e| e["path"].as_str().unwrap_or("").to_string())
        .filter(|p| !p.contains("/deployments/aoai-arch-lock-"))
        .collect();
    assert!(
        !deletes.is_empty()
            && deletes
                .iter()
                .all(|p| p.ends_with(&format!("/accounts/{account}"))
                    || p.ends_with(&format!("/deletedAccounts/{account}"))),
        "{deletes:#?}"
    );
    assert!(log[start..].iter().any(|e| e["method"] == "PUT"
        && e["path"]
            .as_str()
            .unwrap_or("")
            .ends_with(&format!("/accounts/{account}/deployments/{deployment}"))));
    let dep_id = format!(
        "{}/providers/Microsoft.CognitiveServices/accounts/{account}/deployments/{deployment}",
        rg_of(&bp)
    );
    assert_eq!(get(&emu.url, &dep_id, COG_API).0, 200, "{s}");
    let (code, p) = plan_code(&changed, &emu.url);
    assert_eq!(code, Some(0), "{p}");
}

/// The last account of an example, and the example without it.
fn without_last_account(
    example: &str,
    dir: &Path,
    edit: impl FnOnce(&mut serde_norway::Value),
) -> (std::path::PathBuf, String) {
    let full = edited_example(example, dir, "full.yaml", |_| {});
    let v: serde_norway::Value = serde_norway::from_str(&common::read(&full)).unwrap();
    let n = v["openai"]["accounts"].as_sequence().unwrap().len();
    let gone = v["openai"]["accounts"][n - 1]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let smaller = edited_example(example, dir, "smaller.yaml", |v| {
        v["openai"]["accounts"].as_sequence_mut().unwrap().pop();
        edit(v);
    });
    (smaller, gone)
}

fn deletes_since(emu: &Emulator, start: usize) -> Vec<String> {
    emu.log()[start..]
        .iter()
        .filter(|e| e["method"] == "DELETE")
        .map(|e| e["path"].as_str().unwrap_or("").to_string())
        .filter(|p| !p.contains("/deployments/aoai-arch-lock-"))
        .collect()
}

#[test]
fn a_removed_account_is_deleted_by_apply_without_prune_origin_first() {
    let emu = Emulator::start("5000", "none", 6);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("afd", dir.path(), "afd.yaml", |_| {});
    apply_ok(&bp, &emu.url, &[]);
    let (smaller, gone) = without_last_account("afd", dir.path(), |_| {});
    let (code, p) = plan_code(&smaller, &emu.url);
    assert_eq!(code, Some(2), "{p}");
    // Planned as deleted, with what it serves, and the origin that points at it.
    let account_line = p
        .lines()
        .find(|l| {
            l.starts_with(&format!(
                "- Microsoft.CognitiveServices/accounts/{gone} will be deleted"
            ))
        })
        .unwrap_or_else(|| panic!("{p}"));
    assert!(
        account_line.contains("it serves Microsoft.Cdn/profiles/")
            && account_line.contains("/origins/"),
        "{account_line}"
    );
    let origin_line = p
        .lines()
        .find(|l| l.starts_with("- Microsoft.Cdn/profiles/") && l.contains("/origins/"))
        .unwrap_or_else(|| panic!("{p}"));
    assert!(
        origin_line.contains(&format!(
            "it points at Microsoft.CognitiveServices/accounts/{gone} (deleted after it)"
        )),
        "{origin_line}"
    );
    assert!(p.contains("to delete"), "{p}");

    let start = emu.log().len();
    let out = apply_ok(&smaller, &emu.url, &[]);
    let s = text(&out);
    assert!(
        s.contains(&format!(
            "deleted Microsoft.CognitiveServices/accounts/{gone} (no longer declared)"
        )),
        "{s}"
    );
    let deletes = deletes_since(&emu, start);
    let origin = deletes.iter().position(|p| p.contains("/origins/"));
    let account = deletes
        .iter()
        .position(|p| p.ends_with(&format!("/accounts/{gone}")));
    assert!(
        matches!((origin, account), (Some(o), Some(a)) if o < a),
        "{deletes:#?}"
    );
    let id = format!(
        "{}/providers/Microsoft.CognitiveServices/accounts/{gone}",
        rg_of(&bp)
    );
    assert_eq!(get(&emu.url, &id, COG_API).0, 404);
    let (code, p) = plan_code(&smaller, &emu.url);
    assert_eq!(code, Some(0), "{p}");
}

#[test]
fn prune_is_accepted_and_changes_nothing() {
    let help = common::bin().args(["apply", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--prune") && help.contains("Accepted for compatibility and does nothing"),
        "{help}"
    );
    let emu = Emulator::start("5000", "none", 61);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("afd", dir.path(), "afd.yaml", |_| {});
    apply_ok(&bp, &emu.url, &[]);
    let (smaller, gone) = without_last_account("afd", dir.path(), |_| {});
    let start = emu.log().len();
    apply_ok(&smaller, &emu.url, &["--prune"]);
    let deletes = deletes_since(&emu, start);
    assert!(
        deletes
            .iter()
            .any(|p| p.ends_with(&format!("/accounts/{gone}"))),
        "{deletes:#?}"
    );
    assert_eq!(plan_code(&smaller, &emu.url).0, Some(0));
}

#[test]
fn keep_by_flag_or_lifecycle_keeps_the_named_resource_and_nothing_else() {
    let emu = Emulator::start("5000", "none", 62);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("afd", dir.path(), "afd.yaml", |_| {});
    apply_ok(&bp, &emu.url, &[]);
    let rg = rg_of(&bp);
    let (smaller, gone) = without_last_account("afd", dir.path(), |_| {});
    let account = format!("{rg}/providers/Microsoft.CognitiveServices/accounts/{gone}");

    // --keep by type and name: planned as kept, the origin that points at it still goes.
    let keep = format!("accounts/{gone}");
    let plan = run(&["plan", "--keep", &keep], &smaller, &emu.url);
    let p = text(&plan);
    assert!(
        p.contains(&format!(
            "= Microsoft.CognitiveServices/accounts/{gone} is owned by this blueprint and no longer declared: kept"
        )) && p.contains("1 kept"),
        "{p}"
    );
    assert!(
        p.contains("(kept)") && !p.contains(&format!("accounts/{gone} will be deleted")),
        "{p}"
    );
    // A keep that names nothing is said, not silently ignored.
    let typo = run(&["plan", "--keep", "aoai-typo"], &smaller, &emu.url);
    assert!(
        String::from_utf8_lossy(&typo.stderr).contains("warning: keep aoai-typo: nothing"),
        "{}",
        text(&typo)
    );

    let start = emu.log().len();
    apply_ok(&smaller, &emu.url, &["--keep", &keep]);
    let deletes = deletes_since(&emu, start);
    assert!(
        deletes.iter().any(|p| p.contains("/origins/")),
        "{deletes:#?}"
    );
    assert!(
        !deletes
            .iter()
            .any(|p| p.to_lowercase().contains(&format!("/accounts/{gone}"))),
        "a kept account was deleted: {deletes:#?}"
    );
    assert_eq!(get(&emu.url, &account, COG_API).0, 200);

    // lifecycle.keep in the blueprint keeps it on every later run, by its name alone.
    let kept = edited_example("afd", dir.path(), "kept.yaml", |v| {
        v["openai"]["accounts"].as_sequence_mut().unwrap().pop();
        v["lifecycle"] = serde_norway::from_str(&format!("{{keep: [{gone}]}}")).unwrap();
    });
    let (code, p) = plan_code(&kept, &emu.url);
    assert_eq!(code, Some(0), "a kept resource is not a change: {p}");
    assert!(p.contains("1 kept"), "{p}");
    let start = emu.log().len();
    apply_ok(&kept, &emu.url, &[]);
    assert!(deletes_since(&emu, start).is_empty());
    assert_eq!(get(&emu.url, &account, COG_API).0, 200);
    // Without the keep, the next apply deletes it.
    apply_ok(&smaller, &emu.url, &[]);
    assert_eq!(get(&emu.url, &account, COG_API).0, 404);
}

#[test]
fn removal_never_touches_what_the_blueprint_does_not_own() {
    let emu = Emulator::start("5000", "none", 63);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("afd", dir.path(), "afd.yaml", |_| {});
    apply_ok(&bp, &emu.url, &[]);
    let rg = rg_of(&bp);
    let v: serde_norway::Value = serde_norway::from_str(&common::read(&bp)).unwrap();
    let region = v["openai"]["accounts"][0]["region"]
        .as_str()
        .unwrap()
        .to_string();
    // Beside the blueprint's: an account without tags, one tagged by another blueprint.
    let untagged = format!("{rg}/providers/Microsoft.CognitiveServices/accounts/aoai-not-ours");
    let other = format!("{rg}/providers/Microsoft.CognitiveServices/accounts/aoai-other-bp");
    for (id, tags) in [
        (&untagged, json!({})),
        (&other, json!({"aoai-arch-blueprint": "someone/else"})),
    ] {
        let name = id.rsplit('/').next().unwrap();
        let (status, body) = http(
            &emu.url,
            "PUT",
            &format!("{id}?api-version={COG_API}"),
            Some(
                &json!({"location": region, "kind": "OpenAI", "sku": {"name": "S0"}, "tags": tags,
                         "properties": {"customSubDomainName": name}}),
            ),
        );
        assert!(status < 300, "{status} {body}");
    }
    std::thread::sleep(Duration::from_millis(300));
    let (smaller, gone) = without_last_account("afd", dir.path(), |_| {});
    let plan = run(&["plan"], &smaller, &emu.url);
    let p = text(&plan);
    assert!(
        !p.contains("aoai-not-ours") && !p.contains("aoai-other-bp"),
        "{p}"
    );
    let start = emu.log().len();
    apply_ok(&smaller, &emu.url, &[]);
    let deletes = deletes_since(&emu, start);
    assert!(
        deletes
            .iter()
            .all(|d| !d.contains("aoai-not-ours") && !d.contains("aoai-other-bp")),
        "{deletes:#?}"
    );
    assert!(deletes
        .iter()
        .any(|d| d.ends_with(&format!("/accounts/{gone}"))));
    assert_eq!(get(&emu.url, &untagged, COG_API).0, 200);
    assert_eq!(get(&emu.url, &other, COG_API).0, 200);
}

#[test]
fn a_failed_resource_is_planned_as_a_change_and_written_again() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let bp = common::example("apim");
    let st = state.to_str().unwrap();
    // One command against the in-process emulator whose state lives in `state`.
    let with_state = |args: &[&str]| {
        common::bin()
            .args(args)
            .args(["--emulator", "--emulator-state", st])
            .arg(&bp)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    // Seeds until one run leaves a resource Failed (the fault fails an operation at its end).
    let failed = (1..30).find(|seed| {
        let _ = std::fs::remove_file(&state);
        let seed = seed.to_string();
        let out = with_state(&[
            "apply",
            "--auto-approve",
            "--faults",
            "lro-fail=0.3",
            "--seed",
            &seed,
        ]);
        !out.status.success() && common::read(&state).contains("\"Failed\"")
    });
    assert!(failed.is_some(), "no seed left a resource Failed");
    let plan = with_state(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan));
    assert!(
        text(&plan).contains("provisioning state is Failed in Azure: it is written again"),
        "{}",
        text(&plan)
    );
    let out = with_state(&["apply", "--auto-approve"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!common::read(&state).contains("\"Failed\""));
    let plan = with_state(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
}

/// PUTs of child resources (below a top-level resource) that ARM refused with 400 or 409: what
/// writing a child while its parent still provisions gets.
fn child_writes_refused(log: &[Value]) -> Vec<Value> {
    let is_child = |path: &str| {
        path.rsplit_once("/providers/")
            .is_some_and(|(_, rest)| rest.split('/').count() > 3)
    };
    log.iter()
        .filter(|e| {
            e["method"] == "PUT"
                && matches!(e["status"].as_u64(), Some(400 | 409))
                && is_child(e["path"].as_str().unwrap_or(""))
        })
        .cloned()
        .collect()
}

/// Run apply in the background, its stderr lines sent to a channel.
fn spawn_apply(bp: &Path, url: &str) -> (std::process::Child, mpsc::Receiver<String>) {
    let mut child = common::bin()
        .args(["apply", "--auto-approve", "--arm-endpoint", url])
        .arg(bp)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

fn wait_for(rx: &mpsc::Receiver<String>, what: &str, seen: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            let hit = line.contains(what);
            seen.push(line);
            if hit {
                return;
            }
        }
    }
    panic!("no line with {what:?} in:\n{}", seen.join("\n"));
}

#[test]
fn reapply_after_a_kill_waits_for_a_provisioning_service_before_its_children() {
    // API Management activates for 30-45 minutes in Azure; at 100x, 18-27 s.
    let emu = Emulator::start("100", "none", 7);
    let bp = common::example("apim");
    let (mut child, rx) = spawn_apply(&bp, &emu.url);
    let mut seen = Vec::new();
    wait_for(&rx, "apim-aoai-gw", &mut seen);
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();
    let killed_at = emu.log().len();

    let (code, p) = plan_code(&bp, &emu.url);
    assert_eq!(code, Some(2), "{p}");
    assert!(p.contains("apply waits for it to end"), "{p}");
    let out = run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("waiting for it to end before writing"),
        "{}",
        text(&out)
    );
    // A child written while its parent still provisions is refused (400 InvalidOperation,
    // 409): none was. (A top-level resource whose create was cut off is invisible until it
    // ends, as in Azure; its PUT meets 409 Conflict and is retried.)
    let refused = child_writes_refused(&emu.log()[killed_at..]);
    assert!(
        refused.is_empty(),
        "child writes refused by ARM: {refused:#?}"
    );
    assert_eq!(plan_code(&bp, &emu.url).0, Some(0));
}

#[test]
fn ctrl_c_says_what_it_waits_for_and_a_second_prints_the_summary() {
    let emu = Emulator::start("100", "none", 8);
    let bp = common::example("apim");
    let (mut child, rx) = spawn_apply(&bp, &emu.url);
    let mut seen = Vec::new();
    wait_for(&rx, "apim-aoai-gw", &mut seen);
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "-INT");
    wait_for(&rx, "Ctrl-C again stops waiting", &mut seen);
    let all = seen.join("\n");
    assert!(
        all.contains("waiting for") && all.contains("apim-aoai-gw"),
        "{all}"
    );
    signal(&child, "-INT");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    assert!(
        out.contains("Done (")
            && out.contains("In flight (")
            && out.contains("Not attempted (")
            && out.contains("service/apim-aoai-gw"),
        "{out}"
    );
}

#[test]
fn a_second_apply_refuses_while_the_first_holds_the_lock_and_a_killed_ones_lock_can_be_broken() {
    let emu = Emulator::start("100", "none", 9);
    let bp = common::example("apim");
    let (mut first, rx) = spawn_apply(&bp, &emu.url);
    let mut seen = Vec::new();
    wait_for(&rx, "apim-aoai-gw", &mut seen);
    // Frozen, so that every write from now on would be the second run's.
    signal(&first, "-STOP");
    // A request sent just before the stop is logged when answered.
    std::thread::sleep(Duration::from_millis(500));
    let before = writes(&emu.log());
    let second = run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert_eq!(second.status.code(), Some(1), "{}", text(&second));
    let s = text(&second);
    assert!(
        s.contains("another apply of this blueprint holds the lock")
            && s.contains(&format!("pid {}", first.id())),
        "{s}"
    );
    assert_eq!(writes(&emu.log()), before, "the refused apply wrote");
    // destroy takes the same lock: it deletes nothing while an apply runs.
    let destroy = run(&["destroy", "--auto-approve"], &bp, &emu.url);
    assert_eq!(destroy.status.code(), Some(1), "{}", text(&destroy));
    assert!(
        text(&destroy).contains("another apply of this blueprint holds the lock"),
        "{}",
        text(&destroy)
    );
    assert_eq!(writes(&emu.log()), before, "the refused destroy wrote");

    assert!(s.contains("--break-lock"), "{s}");
    // A holder that still runs (frozen) is only overridden by --break-lock.
    let broke = run(
        &[
            "apply",
            "--auto-approve",
            "--break-lock",
            "--concurrency",
            "1",
        ],
        &bp,
        &emu.url,
    );
    assert!(!text(&broke).contains("holds the lock"), "{}", text(&broke));
    // The first run dies without releasing its lease: on this machine, a lease whose process
    // has ended is stale and taken over without --break-lock.
    first.kill().unwrap();
    first.wait().unwrap();
    apply_ok(&bp, &emu.url, &[]);
    assert_eq!(plan_code(&bp, &emu.url).0, Some(0));
    // The lease is gone once the run is over.
    let lock_writes: Vec<String> = emu
        .log()
        .iter()
        .filter(|e| {
            e["path"]
                .as_str()
                .unwrap_or("")
                .contains("/Microsoft.Resources/deployments/aoai-arch-lock-")
        })
        .map(|e| format!("{} {}", e["method"], e["status"]))
        .collect();
    assert!(
        lock_writes
            .last()
            .is_some_and(|l| l.starts_with("\"DELETE\"")),
        "{lock_writes:#?}"
    );
}

#[test]
fn a_saved_plan_is_applied_exactly_and_refused_when_azure_changed_since() {
    let emu = Emulator::start("5000", "none", 10);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("apim", dir.path(), "apim.yaml", |_| {});
    apply_ok(&bp, &emu.url, &[]);
    let budget_amount = |v: &mut serde_norway::Value, amount: u64| {
        v["apim"]["budget"]["amount"] = amount.into();
    };
    let changed = edited_example("apim", dir.path(), "apim.yaml", |v| budget_amount(v, 7000));
    let saved = dir.path().join("change.plan");
    let out = run(
        &["plan", "--out", saved.to_str().unwrap()],
        &changed,
        &emu.url,
    );
    assert!(out.status.success(), "{}", text(&out));
    // The blueprint is edited again after the review: the saved plan still applies 7000.
    edited_example("apim", dir.path(), "apim.yaml", |v| budget_amount(v, 9000));
    let applied = run(&["apply"], &saved, &emu.url);
    assert!(applied.status.success(), "{}", text(&applied));
    assert!(text(&applied).contains("1 updated"), "{}", text(&applied));
    let v: serde_norway::Value = serde_norway::from_str(&common::read(&bp)).unwrap();
    let budget_id = format!(
        "{}/providers/Microsoft.Consumption/budgets/{}",
        rg_of(&bp),
        v["apim"]["budget"]["name"].as_str().unwrap()
    );
    let (_, doc) = get(&emu.url, &budget_id, "2024-08-01");
    assert_eq!(doc["properties"]["amount"], 7000, "{doc}");

    // A plan made, then Azure changes under it: applying the plan is refused, nothing written.
    let stale = dir.path().join("stale.plan");
    let back = edited_example("apim", dir.path(), "apim.yaml", |v| budget_amount(v, 5000));
    assert!(
        run(&["plan", "--out", stale.to_str().unwrap()], &back, &emu.url)
            .status
            .success()
    );
    let mut changed_doc = doc.clone();
    changed_doc["properties"]["amount"] = json!(8000);
    assert!(
        http(
            &emu.url,
            "PUT",
            &format!("{budget_id}?api-version=2024-08-01"),
            Some(&changed_doc)
        )
        .0 < 300
    );
    let before = writes(&emu.log());
    let refused = run(&["apply"], &stale, &emu.url);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("Azure changed since the plan was made")
            && text(&refused).contains("budgets/"),
        "{}",
        text(&refused)
    );
    assert_eq!(writes(&emu.log()), before);
    // The refusal is all it prints: not a plan made now, which is not the one reviewed.
    let stdout = String::from_utf8_lossy(&refused.stdout);
    assert!(
        !stdout.contains("Plan:") && !stdout.contains("to create"),
        "{stdout}"
    );
}

#[test]
fn killed_at_random_moments_an_afd_apim_apply_converges_without_duplicates() {
    let bp = common::example("afd-apim");
    let v: serde_norway::Value = serde_norway::from_str(&common::read(&bp)).unwrap();
    let apim = format!(
        "{}/providers/Microsoft.ApiManagement/service/{}",
        rg_of(&bp),
        v["apim"]["name"].as_str().unwrap()
    );
    for seed in [21u64, 22, 23] {
        let emu = Emulator::start("300", "none", seed);
        // A kill moment drawn from the seed, spread over the run (about 4 s at this scale).
        let delay = 300 + (seed * 7919 % 3500);
        let (mut child, _rx) = spawn_apply(&bp, &emu.url);
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap();
        child.wait().unwrap();
        let killed_at = emu.log().len();
        let out = run(&["apply", "--auto-approve"], &bp, &emu.url);
        assert!(out.status.success(), "seed {seed}: {}", text(&out));
        let (code, p) = plan_code(&bp, &emu.url);
        assert_eq!(code, Some(0), "seed {seed}: {p}");
        let refused = child_writes_refused(&emu.log()[killed_at..]);
        assert!(refused.is_empty(), "seed {seed}: {refused:#?}");
        // One private endpoint connection per Front Door origin, all approved.
        let (_, conns) = http(
            &emu.url,
            "GET",
            &format!("{apim}/privateEndpointConnections?api-version=2024-05-01"),
            None,
        );
        let conns = conns["value"].as_array().cloned().unwrap_or_default();
        let regions = 1 + v["apim"]["additionalRegions"]
            .as_sequence()
            .map(|s| s.len())
            .unwrap_or(0);
        assert_eq!(
            conns.len(),
            regions,
            "seed {seed} (killed after {delay} ms): {conns:#?}"
        );
        assert!(conns
            .iter()
            .all(|c| c["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"));
    }
}
