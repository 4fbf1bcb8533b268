//! Which optional test prerequisites this machine has, as cfgs the integration tests mark
//! themselves `#[ignore = "..."]` with, so `cargo test` counts and names what it skipped
//! ("N ignored") instead of passing silently. CI's strict mode (`AOAI_ARCH_REQUIRE_SHARED=1`,
//! `AOAI_ARCH_REQUIRE_PYTHON_SDK=1`) never ignores: the tests run and fail on what is missing.
//! Installed something since the last build? `touch build.rs` re-runs these probes.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    for cfg in ["aoai_no_shared", "aoai_no_xmllint", "aoai_no_python_sdk"] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    for var in [
        "AOAI_ARCH_SHARED",
        "AOAI_ARCH_REQUIRE_SHARED",
        "AOAI_ARCH_PYTHON",
        "AOAI_ARCH_REQUIRE_PYTHON_SDK",
        "PATH",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    println!("cargo::rerun-if-changed=build.rs");
    let strict = |v: &str| std::env::var(v).as_deref() == Ok("1");

    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let shared = std::env::var_os("AOAI_ARCH_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("..").join("shared"));
    let have_shared = shared.join("arm-schemas").is_dir() && shared.join("apim-policy").is_dir();
    if have_shared {
        println!("cargo::rerun-if-changed={}", shared.display());
    } else if !strict("AOAI_ARCH_REQUIRE_SHARED") {
        println!("cargo::rustc-cfg=aoai_no_shared");
    }

    let runs = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let tools = runs("xmllint", &["--version"]) && runs("patch", &["--version"]);
    if !tools && !strict("AOAI_ARCH_REQUIRE_SHARED") {
        println!("cargo::rustc-cfg=aoai_no_xmllint");
    }

    let python = std::env::var("AOAI_ARCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let sdk = runs(
        &python,
        &["-c", "import azure.mgmt.cognitiveservices, azure.mgmt.apimanagement, azure.mgmt.cdn, azure.mgmt.resource.resources"],
    );
    if !sdk && !strict("AOAI_ARCH_REQUIRE_PYTHON_SDK") {
        println!("cargo::rustc-cfg=aoai_no_python_sdk");
    }
}
