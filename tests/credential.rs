//! The Azure CLI credential through the binary: a fake `az` first on PATH counts its runs. A
//! token lasts an hour and is cached per scope until shortly before it expires, and concurrent
//! requests wait for the one caller that fetches it: an apply of about a hundred requests runs
//! `az` once.

mod common;

use common::Emulator;

#[cfg(unix)]
#[test]
fn an_apply_runs_az_once_for_all_its_requests() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("az-runs");
    let expires = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    // Slow, as the real one is: concurrent callers would each start their own `az` meanwhile.
    let az = dir.path().join("az");
    std::fs::write(
        &az,
        format!(
            "#!/bin/sh\necho \"$@\" >> \"{}\"\nsleep 0.3\ncat <<'EOF'\n{{\"accessToken\": \"CLI-TOKEN-456\", \"expiresOn\": \"2099-01-01 00:00:00.000000\", \"expires_on\": {expires}, \"subscription\": \"00000000-0000-0000-0000-000000000000\", \"tenant\": \"11111111-1111-1111-1111-111111111111\", \"tokenType\": \"Bearer\"}}\nEOF\n",
            runs.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let emu = Emulator::start("3000", "none", 1);
    let out = common::bin()
        .args(["apply", "--auto-approve", "--auth", "az"])
        .arg(common::example("apim"))
        .args(["--arm-endpoint", &emu.url])
        .env("PATH", &path)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let requests = emu.log().len();
    assert!(requests >= 80, "only {requests} requests");
    let calls = std::fs::read_to_string(&runs).unwrap();
    assert_eq!(
        calls.lines().count(),
        1,
        "az ran once per token, not once per request ({requests} requests):\n{calls}"
    );
    assert!(calls.contains("account get-access-token"), "{calls}");

    // A plan afterwards is another process: one more run, and nothing else.
    let plan = common::bin()
        .args(["plan", "--auth", "az"])
        .arg(common::example("apim"))
        .args(["--arm-endpoint", &emu.url])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(plan.status.success());
    let calls = std::fs::read_to_string(&runs).unwrap();
    assert_eq!(calls.lines().count(), 2, "{calls}");
}
