//! A saved plan is applied only as reviewed: its plan section (what the reviewer saw) is
//! compared with what its blueprint plans now, so a file whose blueprint and digests were
//! edited consistently is refused before any write.

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
