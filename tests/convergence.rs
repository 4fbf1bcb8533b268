//! Converged means Succeeded, whatever the operation style: a resource whose provisioning
//! ends Failed is a failure even when its operation reported done.

mod common;

use common::{run, Emulator};

/// Event Hubs namespaces are created with 202 + `Location`; the poll ends 200 whatever became
/// of the resource. With the `location-failed` fault the namespace ends Failed: apply says
/// failed, counts it, and exits 1; what depends on it is not attempted.
#[test]
fn a_location_style_operation_whose_resource_ends_failed_is_a_failure() {
    let emu = Emulator::start("3000", "location-failed=1", 3);
    let bp = common::example("apim");
    let out = run(&["apply", "--auto-approve"], &bp, &emu.url);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let all = format!("{stdout}\n{stderr}");
    assert!(all.contains("Apply incomplete"), "{all}");
    assert!(all.contains(" 1 failed"), "{all}");
    let failed: Vec<&str> = all.lines().filter(|l| l.starts_with("FAILED ")).collect();
    assert_eq!(failed.len(), 1, "{all}");
    assert!(
        failed[0].contains("Microsoft.EventHub/namespaces/"),
        "{failed:?}"
    );
    assert!(all.contains("provisioning ended in state Failed"), "{all}");
    // The namespace's operation was Location-style and its poll ended 200.
    let log = emu.log();
    assert!(
        log.iter().any(|e| e["method"] == "PUT"
            && e["status"] == 202
            && e["path"].as_str().is_some_and(
                |p| p.contains("Microsoft.EventHub/namespaces/") && !p.contains("/eventhubs/")
            )),
        "no Location-style create"
    );
    // A plan afterwards does not call it converged.
    let plan = run(&["plan", "--detailed-exitcode"], &bp, &emu.url);
    assert_eq!(
        plan.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&plan.stdout)
    );
}

/// An apply killed after Front Door's origins were written and before their Private Link
/// connections were approved (the emulator drops every approval unanswered, so the run waits
/// there, and is killed) leaves them Pending. The next plan reads them and plans their approval
/// (exit 2, in the text and in `--json`); the next apply approves them although the origins are
/// unchanged, before it disables the gateway's public access; then the plan is clean.
#[test]
fn connections_left_pending_by_a_killed_apply_are_approved_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();
    let bp = common::example("afd-apim-private");
    let origin_puts = |log: &[serde_json::Value]| {
        log.iter()
            .filter(|e| {
                e["method"] == "PUT"
                    && e["path"]
                        .as_str()
                        .is_some_and(|p| p.contains("/originGroups/") && p.contains("/origins/"))
            })
            .count()
    };
    let is_approval = |e: &serde_json::Value| {
        e["method"] == "PUT"
            && e["path"]
                .as_str()
                .is_some_and(|p| p.to_lowercase().contains("/privateendpointconnections/"))
    };
    {
        let emu = Emulator::start_with("3000", "drop-approvals=1", 7, &["--state", state_arg]);
        let mut child = common::bin()
            .args(["apply", "--auto-approve", "--arm-endpoint", &emu.url])
            .arg(&bp)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let log = emu.log();
            if log.iter().any(|e| is_approval(e) && e["status"] == 0) {
                break;
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "the apply ended before its first approval"
            );
            assert!(std::time::Instant::now() < deadline, "no approval attempt");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let log = emu.log();
        assert!(origin_puts(&log) >= 1, "no origin written before the kill");
        assert!(
            !log.iter().any(|e| is_approval(e) && e["status"] != 0),
            "an approval got through"
        );
    }
    // The same Azure, without the fault.
    let emu = Emulator::start_with("3000", "none", 8, &["--state", state_arg]);
    let plan = run(&["plan", "--detailed-exitcode"], &bp, &emu.url);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(plan.status.code(), Some(2), "{text}");
    assert!(
        text.contains("approve private endpoint connection"),
        "{text}"
    );
    assert!(
        text.contains("(Pending, requested by Front Door origin"),
        "{text}"
    );
    let json = run(&["plan", "--json"], &bp, &emu.url);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let approvals = v["approvals"].as_array().cloned().unwrap_or_default();
    assert!(!approvals.is_empty(), "{v:#}");
    assert!(approvals.iter().all(|a| a["status"] == "Pending"));

    let before = emu.log().len();
    let out = run(&["apply", "--auto-approve"], &bp, &emu.url);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("approved private endpoint connection"),
        "{stdout}"
    );
    let log: Vec<serde_json::Value> = emu.log().split_off(before);
    let approved: Vec<u64> = log
        .iter()
        .filter(|e| is_approval(e) && e["status"] == 200)
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    // Every connection the plan showed Pending is approved. The kill can fall between two
    // origins' connections, so the apply may find (and approve) one more than the plan showed.
    for a in &approvals {
        let id = a["connection"].as_str().unwrap().to_lowercase();
        assert!(
            log.iter().any(|e| is_approval(e)
                && e["status"] == 200
                && e["path"].as_str().unwrap().to_lowercase().ends_with(&id)),
            "{id} not approved in {log:#?}"
        );
    }
    assert!(approved.len() >= approvals.len(), "{log:#?}");
    // The lock-down (the API Management service written again) comes after every approval.
    let service_puts: Vec<u64> = log
        .iter()
        .filter(|e| {
            e["method"] == "PUT"
                && e["path"].as_str().is_some_and(|p| {
                    let p = p.to_lowercase();
                    p.contains("/microsoft.apimanagement/service/")
                        && p.split("/microsoft.apimanagement/service/")
                            .nth(1)
                            .is_some_and(|rest| !rest.contains('/'))
                })
        })
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert!(!service_puts.is_empty(), "no lock-down in {log:#?}");
    assert!(
        service_puts.iter().all(|s| approved.iter().all(|a| a < s)),
        "lock-down {service_puts:?} before approvals {approved:?}"
    );
    let plan = run(&["plan", "--detailed-exitcode"], &bp, &emu.url);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stdout)
    );
}
