//! A saved plan is applied only as reviewed: its plan section (what the reviewer saw) is
//! compared with what its blueprint plans now, so a file whose blueprint and digests were
//! edited consistently is refused before any write. What it deletes (owned, no longer
//! declared) and keeps (`plan --keep`) is what it applies; a stale one is refused without a
//! fresh plan printed first.

mod common;

use common::{edited_example, run, writes, Emulator};
use serde_json::Value;

#[test]
fn a_forged_but_consistent_saved_plan_is_refused() {
    let emu = Emulator::start("5000", "none", 51);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("afd", dir.path(), "afd.yaml", |_| {});
    assert!(run(&["apply", "--auto-approve"], &bp, &emu.url)
        .status
        .success());
    let plan_with = |value: &str, file: &str| -> Value {
        let changed = edited_example("afd", dir.path(), "afd.yaml", |v| {
            v["tags"]["costCenter"] = value.into();
        });
        let out = dir.path().join(file);
        let o = run(
            &["plan", "--out", out.to_str().unwrap()],
            &changed,
            &emu.url,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_str(&common::read(&out)).unwrap()
    };
    let reviewed = plan_with("1111", "reviewed.plan");
    let mut forged = plan_with("9999", "other.plan");
    // The blueprint and digests of one plan, the reviewed plan section of the other.
    forged["plan"] = reviewed["plan"].clone();
    let forged_path = dir.path().join("forged.plan");
    std::fs::write(&forged_path, serde_json::to_string_pretty(&forged).unwrap()).unwrap();

    let before = writes(&emu.log());
    let out = run(&["apply"], &forged_path, &emu.url);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "the plan saved in the file (the one reviewed) is not what its blueprint plans now"
        ),
        "{err}"
    );
    assert!(
        err.contains("its changes are not the reviewed ones"),
        "{err}"
    );
    assert_eq!(writes(&emu.log()), before, "the forged plan wrote");

    // The genuine one applies.
    let out = run(&["apply"], &dir.path().join("reviewed.plan"), &emu.url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The last account of the afd example removed, and its name.
fn smaller_afd(dir: &std::path::Path) -> (std::path::PathBuf, String) {
    let full: serde_norway::Value =
        serde_norway::from_str(&common::read(&common::example("afd"))).unwrap();
    let n = full["openai"]["accounts"].as_sequence().unwrap().len();
    let gone = full["openai"]["accounts"][n - 1]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let smaller = edited_example("afd", dir, "smaller.yaml", |v| {
        v["openai"]["accounts"].as_sequence_mut().unwrap().pop();
    });
    (smaller, gone)
}

fn deletes(log: &[Value]) -> Vec<String> {
    log.iter()
        .filter(|e| e["method"] == "DELETE")
        .map(|e| e["path"].as_str().unwrap_or("").to_string())
        .filter(|p| !p.contains("/deployments/aoai-arch-lock-"))
        .collect()
}

#[test]
fn a_saved_plan_deletes_what_it_planned_and_keeps_what_it_kept() {
    let emu = Emulator::start("5000", "none", 52);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("afd", dir.path(), "afd.yaml", |_| {});
    assert!(run(&["apply", "--auto-approve"], &bp, &emu.url)
        .status
        .success());
    let (smaller, gone) = smaller_afd(dir.path());

    // Planned with --keep: the file keeps it when applied, with no flag.
    let kept_plan = dir.path().join("kept.plan");
    let keep = format!("accounts/{gone}");
    let o = run(
        &[
            "plan",
            "--keep",
            &keep,
            "--out",
            kept_plan.to_str().unwrap(),
        ],
        &smaller,
        &emu.url,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let saved: Value = serde_json::from_str(&common::read(&kept_plan)).unwrap();
    assert_eq!(saved["formatVersion"], 2);
    assert!(saved["plan"]["kept"][0]
        .as_str()
        .unwrap()
        .ends_with(&format!("/accounts/{gone}")));
    let start = emu.log().len();
    let out = run(&["apply"], &kept_plan, &emu.url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = deletes(&emu.log()[start..]);
    assert!(d.iter().any(|p| p.contains("/origins/")), "{d:#?}");
    assert!(!d.iter().any(|p| p.contains("/accounts/")), "{d:#?}");

    // Planned without: the file deletes it.
    let plan = dir.path().join("delete.plan");
    let o = run(
        &["plan", "--out", plan.to_str().unwrap()],
        &smaller,
        &emu.url,
    );
    assert!(o.status.success());
    let start = emu.log().len();
    let out = run(&["apply"], &plan, &emu.url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = deletes(&emu.log()[start..]);
    assert!(
        d.iter().any(|p| p.ends_with(&format!("/accounts/{gone}"))),
        "{d:#?}"
    );
}

#[test]
fn a_plan_saved_in_the_format_that_deleted_only_with_prune_is_refused() {
    let emu = Emulator::start("5000", "none", 53);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("afd", dir.path(), "afd.yaml", |_| {});
    let file = dir.path().join("p.plan");
    assert!(
        run(&["plan", "--out", file.to_str().unwrap()], &bp, &emu.url)
            .status
            .success()
    );
    let mut doc: Value = serde_json::from_str(&common::read(&file)).unwrap();
    doc["formatVersion"] = 1.into();
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = run(&["apply"], &file, &emu.url);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("version 1 is not supported"), "{err}");
    assert_eq!(writes(&emu.log()), 0);
}
