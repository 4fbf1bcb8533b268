//! `plan` by collections shows exactly what `plan` by single GETs shows: every example applied
//! on one emulator whose lists come two items a page, one resource of each kind drifted through
//! the emulator's ARM endpoint (a PUT of a changed body), then both plans compared byte for byte.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{example, fetch_log, http, Emulator, EXAMPLES};
use serde_json::Value;

fn text(o: &std::process::Output) -> String {
    format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `plan --json` with the read mode given, and the GETs the emulator saw for it.
fn plan(bp: &Path, url: &str, mode: &str) -> (String, Vec<Value>) {
    let before = fetch_log(url).len();
    let out = common::bin()
        .args([
            "plan",
            "--json",
            "--skip-preflight",
            "all",
            "--read-mode",
            mode,
        ])
        .arg(bp)
        .args(["--arm-endpoint", url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let gets = fetch_log(url)[before..]
        .iter()
        .filter(|e| e["method"] == "GET")
        .cloned()
        .collect();
    (String::from_utf8(out.stdout).unwrap(), gets)
}

/// The leaves of a rendered body (outside `location` and `tags`), booleans first, then
/// numbers, then strings: the candidates for a drift the blueprint would see.
fn leaves(v: &Value, pointer: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if pointer.is_empty() && (k == "location" || k == "tags") {
                    continue;
                }
                leaves(x, &format!("{pointer}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                leaves(x, &format!("{pointer}/{i}"), out);
            }
        }
        Value::String(s) if s.contains("${after-apply:") => {}
        Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            out.push((pointer.to_string(), v.clone()))
        }
        _ => {}
    }
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Bool(_) => 0,
        Value::Number(_) => 1,
        _ => 2,
    }
}

fn changed(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::Bool(!b),
        Value::Number(n) => Value::from(n.as_i64().unwrap_or(1) + 1),
        Value::String(s) => Value::String(format!("{s}-drift")),
        other => other.clone(),
    }
}

/// Wait until the resource's provisioning state is terminal (a long-running update).
fn settled(url: &str, id: &str, api: &str) {
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, doc) = http(url, "GET", &format!("{id}?api-version={api}"), None);
        let state = doc["properties"]["provisioningState"]
            .as_str()
            .unwrap_or("");
        if !matches!(state, "Updating" | "Creating" | "Activating" | "Accepted") {
            return;
        }
        assert!(Instant::now() < end, "{id} still {state}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Change one property of `id` that the blueprint sets (`body`: its rendered body), as someone
/// would in the portal: the live document with that property changed, PUT back. Returns the
/// property changed (the tag set when no property change is accepted), or `None` for a resource
/// that accepts neither (a product's API link holds only the API it links, and no tags).
fn drift(url: &str, id: &str, api: &str, body: &Value) -> Option<String> {
    let (status, live) = http(url, "GET", &format!("{id}?api-version={api}"), None);
    assert_eq!(status, 200, "{id}: {live}");
    let mut candidates = Vec::new();
    leaves(body, "", &mut candidates);
    candidates.sort_by_key(|(_, v)| rank(v));
    // Only the top-level members the blueprint sends (not the read-only id, name, type).
    let mut base = serde_json::Map::new();
    for k in body.as_object().unwrap().keys() {
        if let Some(v) = live.get(k) {
            base.insert(k.clone(), v.clone());
        }
    }
    if let Some(p) = base.get_mut("properties").and_then(Value::as_object_mut) {
        p.remove("provisioningState");
    }
    for (pointer, value) in candidates {
        let mut doc = Value::Object(base.clone());
        let Some(at) = doc.pointer_mut(&pointer) else {
            continue;
        };
        *at = changed(&value);
        let (status, _) = http(url, "PUT", &format!("{id}?api-version={api}"), Some(&doc));
        if status < 300 {
            settled(url, id, api);
            return Some(pointer);
        }
    }
    let mut doc = Value::Object(base);
    doc["tags"]["drift"] = Value::from("by hand");
    let (status, answer) = http(url, "PUT", &format!("{id}?api-version={api}"), Some(&doc));
    if status >= 300 {
        assert!(
            id.to_lowercase().contains("/apilinks/"),
            "{id}: no drift accepted: {answer}"
        );
        return None;
    }
    settled(url, id, api);
    Some("tags".into())
}

#[test]
fn plan_by_collections_shows_what_plan_by_single_gets_shows() {
    let emu = Emulator::start_with("3000", "none", 7, &["--page-size", "2"]);
    let dir = tempfile::tempdir().unwrap();
    let mut kinds: BTreeMap<String, (String, String, Value)> = BTreeMap::new();
    for name in EXAMPLES {
        let bp = example(name);
        let out = common::run(&["apply", "--auto-approve"], &bp, &emu.url);
        assert!(out.status.success(), "{name}: {}", text(&out));
        // Every rendered body, by id.
        let rendered = dir.path().join(name);
        let out = common::bin()
            .args(["render", "--out"])
            .arg(&rendered)
            .arg(&bp)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let index: Value =
            serde_json::from_str(&common::read(&rendered.join("index.json"))).unwrap();
        for r in index["resources"].as_array().unwrap() {
            let id = r["id"].as_str().unwrap();
            if id.contains('#') {
                continue;
            }
            let file = common::read(&rendered.join(r["file"].as_str().unwrap()));
            let body: Value = serde_json::from_str(file.split_once("\n\n").unwrap().1).unwrap();
            kinds
                .entry(r["type"].as_str().unwrap().to_lowercase())
                .or_insert((
                    id.to_string(),
                    r["apiVersion"].as_str().unwrap().to_string(),
                    body,
                ));
        }
    }
    // Nothing drifted yet: both plans agree and show no change.
    for name in EXAMPLES {
        let (by_get, _) = plan(&example(name), &emu.url, "get");
        let (by_list, _) = plan(&example(name), &emu.url, "list");
        assert_eq!(by_get, by_list, "{name} before any drift");
    }
    let mut drifted = Vec::new();
    for (kind, (id, api, body)) in &kinds {
        let what = drift(&emu.url, id, api, body);
        drifted.push(format!(
            "{kind}: {}",
            what.as_deref().unwrap_or("(nothing a user can change)")
        ));
    }
    assert!(kinds.len() >= 20, "{drifted:#?}");
    let mut changes = 0;
    let mut paged = false;
    for name in EXAMPLES {
        let (by_get, gets) = plan(&example(name), &emu.url, "get");
        let (by_list, lists) = plan(&example(name), &emu.url, "list");
        assert_eq!(
            by_get, by_list,
            "{name}: the plans differ after {drifted:#?}"
        );
        let p: Value = serde_json::from_str(&by_list).unwrap();
        let n = p["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["action"] != "no-change")
            .count();
        changes += n;
        // A collection asked for more than once in one plan: its next pages.
        let mut seen = std::collections::BTreeSet::new();
        paged |= lists.iter().any(|e| !seen.insert(e["path"].to_string()));
        assert!(
            lists.len() < gets.len(),
            "{name}: {} requests by lists, {} by GETs",
            lists.len(),
            gets.len()
        );
    }
    // The drift shows (a changed property the blueprint sets, or a resource to write again).
    assert!(
        changes >= kinds.len() / 2,
        "{changes} changes for {drifted:#?}"
    );
    eprintln!("drifted: {drifted:#?}\nresources to change: {changes}");
    assert!(paged, "no list came in more than one page");
}

/// A plan saved by one read mode is applied by the other: a policy's list form has no
/// `format`, its GET does, and that difference is not drift.
#[test]
fn a_plan_saved_by_single_gets_applies_with_collections() {
    let emu = Emulator::start_with("3000", "none", 9, &[]);
    let bp = example("apim");
    let out = common::run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert!(out.status.success(), "{}", text(&out));
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("reviewed.plan");
    let out = common::bin()
        .args([
            "plan",
            "--skip-preflight",
            "all",
            "--read-mode",
            "get",
            "--out",
        ])
        .arg(&saved)
        .arg(&bp)
        .args(["--arm-endpoint", &emu.url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    for mode in ["list", "get"] {
        let out = common::bin()
            .args(["apply", "--auto-approve", "--read-mode", mode])
            .arg(&saved)
            .args(["--arm-endpoint", &emu.url])
            .output()
            .unwrap();
        assert!(out.status.success(), "{mode}: {}", text(&out));
        assert!(
            !text(&out).contains("Azure changed since the plan"),
            "{mode}: {}",
            text(&out)
        );
    }
}
