//! An independent client agrees with the emulator: Microsoft's Azure SDKs for Python create and
//! poll resources on it (crates/arm-emulator/tests/python/sdk_check.py). Skips with a reason when
//! the SDKs are not installed; CI installs them and sets AOAI_ARCH_REQUIRE_PYTHON_SDK=1.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
#[cfg_attr(
    aoai_no_python_sdk,
    ignore = "needs the Azure SDKs for Python (python3-venv, pip install -r crates/arm-emulator/tests/python/requirements.txt, AOAI_ARCH_PYTHON); then `touch build.rs`"
)]
fn azure_sdk_for_python_pollers_finish_on_the_emulator() {
    let python = std::env::var("AOAI_ARCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args(["-c", "import azure.mgmt.cognitiveservices, azure.mgmt.apimanagement, azure.mgmt.cdn, azure.mgmt.resource.resources"])
        .output();
    let available = probe.as_ref().is_ok_and(|o| o.status.success());
    if !available {
        if std::env::var("AOAI_ARCH_REQUIRE_PYTHON_SDK").as_deref() == Ok("1") {
            panic!("AOAI_ARCH_REQUIRE_PYTHON_SDK=1 but {python} cannot import the Azure SDKs: {probe:?}");
        }
        eprintln!("SKIPPED azure_sdk_for_python_pollers_finish_on_the_emulator: {python} lacks the Azure SDKs (pip install -r crates/arm-emulator/tests/python/requirements.txt)");
        return;
    }
    let mut emu = common::bin()
        .args(["emulator", "--port", "0", "--time-scale", "20000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(emu.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    let script = common::root().join("crates/arm-emulator/tests/python/sdk_check.py");
    let out = Command::new(&python)
        .arg(script)
        .arg(&url)
        .output()
        .unwrap();
    let _ = emu.kill();
    let _ = emu.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("sdk_check: all passed"), "{stdout}");
}
