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
            && e["path"]
                .as_str()
                .is_some_and(|p| p.contains("Microsoft.EventHub/namespaces/")
                    && !p.contains("/eventhubs/"))),
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
