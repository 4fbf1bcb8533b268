//! Children Azure deletes with their parent, declared or not, owned or not: a replace and a
//! destroy name them ("deleted with its parent"), and a replace that deletes one needs
//! --allow-replace. Through the binary, against the emulator, with a foreign child seeded under
//! an owned account.

mod common;

use std::path::Path;

use common::{edited_example, http, run, Emulator};
use serde_json::{json, Value};

const COG_API: &str = "2026-05-01";

fn text(o: &std::process::Output) -> String {
    format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The first account of the blueprint and a deployment someone else made under it.
fn seed_foreign_deployment(bp: &Path, url: &str) -> (String, String) {
    let v: serde_norway::Value = serde_norway::from_str(&common::read(bp)).unwrap();
    let account = format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.CognitiveServices/accounts/{}",
        v["subscription"].as_str().unwrap(),
        v["resourceGroup"].as_str().unwrap(),
        v["openai"]["accounts"][0]["name"].as_str().unwrap()
    );
    let foreign = format!("{account}/deployments/someone-elses");
    // The blueprint's own model and deployment type (offered in the account's region).
    let d = &v["openai"]["deployment"];
    let body = json!({
        "sku": {"name": d["sku"]["name"].as_str().unwrap(), "capacity": 1},
        "properties": {"model": {
            "format": "OpenAI",
            "name": d["model"]["name"].as_str().unwrap(),
            "version": d["model"]["version"].as_str().unwrap(),
        }},
    });
    let (status, doc) = http(
        url,
        "PUT",
        &format!("{foreign}?api-version={COG_API}"),
        Some(&body),
    );
    assert!((200..300).contains(&status), "{status} {doc}");
    // Wait until it has provisioned.
    for _ in 0..200 {
        let (s, d) = http(
            url,
            "GET",
            &format!("{foreign}?api-version={COG_API}"),
            None,
        );
        if s == 200 && d["properties"]["provisioningState"] == "Succeeded" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    (account, foreign)
}

fn deletes(log: &[Value]) -> Vec<String> {
    log.iter()
        .filter(|e| e["method"] == "DELETE")
        .filter_map(|e| e["path"].as_str().map(str::to_string))
        .filter(|p| !p.contains("/deployments/aoai-arch-lock-"))
        .collect()
}

/// Since log entry `start`: the account was deleted, the foreign child is gone with it, and no
/// delete was sent for the child itself.
fn gone_with_parent(emu: &Emulator, start: usize, account: &str, foreign: &str) {
    let sent = deletes(&emu.log()[start..]);
    assert!(
        sent.iter().all(|d| !d.contains("someone-elses")),
        "{sent:#?}"
    );
    assert!(
        sent.iter().any(|d| d.eq_ignore_ascii_case(account)),
        "{sent:#?}"
    );
    let (s, _) = http(
        &emu.url,
        "GET",
        &format!("{foreign}?api-version={COG_API}"),
        None,
    );
    assert_eq!(s, 404);
}

#[test]
fn a_replace_names_the_foreign_child_azure_deletes_with_the_parent() {
    let emu = Emulator::start("5000", "none", 41);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("afd", dir.path(), "afd.yaml", |_| {});
    let out = run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert!(out.status.success(), "{}", text(&out));
    let (account, foreign) = seed_foreign_deployment(&bp, &emu.url);
    let changed = edited_example("afd", dir.path(), "afd.yaml", |v| {
        v["openai"]["accounts"][0]["customSubdomain"] = "aoai-renamed-sub".into();
    });
    let before = emu.log().len();
    let plan = run(&["plan"], &changed, &emu.url);
    let p = text(&plan);
    // The replaced account's deployments are listed once: by the read, whose list also
    // serves the search for what goes with the parent.
    let deployment_lists = emu.log()[before..]
        .iter()
        .filter(|e| {
            e["method"] == "GET"
                && e["path"].as_str().is_some_and(|p| {
                    p.to_lowercase()
                        .ends_with(&format!("{}/deployments", account.to_lowercase()))
                })
        })
        .count();
    assert_eq!(deployment_lists, 1, "{p}");
    assert!(
        p.lines()
            .any(|l| l.contains("deployments/someone-elses")
                && l.contains("deleted with its parent")),
        "{p}"
    );
    assert!(
        !p.contains("someone-elses is not declared, and nothing proves"),
        "{p}"
    );
    let json = run(&["plan", "--json"], &changed, &emu.url);
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        v["deletedWithParent"][0]["id"]
            .as_str()
            .map(str::to_lowercase),
        Some(foreign.to_lowercase()),
        "{v:#}"
    );

    // Without --allow-replace: refused, naming the child, nothing written.
    let before = common::writes(&emu.log());
    let refused = run(&["apply", "--auto-approve"], &changed, &emu.url);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("does not declare")
            && text(&refused).contains("deployments/someone-elses"),
        "{}",
        text(&refused)
    );
    assert_eq!(common::writes(&emu.log()), before);

    // With it: the account is replaced, the child goes with it (no delete sent for it).
    let start = emu.log().len();
    let out = run(
        &["apply", "--auto-approve", "--allow-replace"],
        &changed,
        &emu.url,
    );
    assert!(out.status.success(), "{}", text(&out));
    gone_with_parent(&emu, start, &account, &foreign);
}

#[test]
fn destroy_names_the_foreign_children_deleted_with_their_parents() {
    let emu = Emulator::start("5000", "none", 42);
    let bp = common::example("afd");
    let out = run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert!(out.status.success(), "{}", text(&out));
    let (account, foreign) = seed_foreign_deployment(&bp, &emu.url);
    let start = emu.log().len();
    let out = run(&["destroy", "--auto-approve"], &bp, &emu.url);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let line = t
        .lines()
        .find(|l| l.contains("deployments/someone-elses"))
        .unwrap_or_else(|| panic!("not named: {t}"));
    assert!(line.contains("deleted with its parent"), "{line}");
    assert!(t.contains("(and 1 deleted with their parents)"), "{t}");
    gone_with_parent(&emu, start, &account, &foreign);
}
