//! The README's start page, run as a newcomer would run it: every command of its `sh` blocks,
//! in order, in a fresh folder and a fresh `$HOME`, the emulator standing in for Azure.
//!
//! Two stand-ins, both said here: `cargo install --path . --locked` is a shell function that
//! checks those arguments and installs the binary this `cargo test` built (the same source) into
//! `$HOME/.cargo/bin`, rather than compiling the project a second time; and the emulator's port
//! (8443 in the README) is a free one, so that runs side by side do not collide. The real
//! deployment's block runs against a second emulator through `AOAI_ARCH_ARM_ENDPOINT`.

mod common;

use std::process::{Command, Output};

/// The `sh` blocks of the README's `## Start` section, each a list of command lines.
fn start_blocks() -> Vec<Vec<String>> {
    let readme = common::read(&common::root().join("README.md"));
    let section = readme
        .split("\n## Start\n")
        .nth(1)
        .expect("README has a `## Start` section");
    let section = section.split("\n## ").next().unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in section.lines() {
        match (&mut current, line.trim()) {
            (None, "```sh") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some(b), l) if !l.is_empty() => b.push(l.to_string()),
            _ => {}
        }
    }
    assert!(current.is_none(), "an unclosed block in README's Start");
    blocks
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Run one block with bash (`set -e`: the first failing command fails it).
fn run_block(
    lines: &[String],
    cwd: &std::path::Path,
    home: &std::path::Path,
    env: &[(&str, &str)],
) -> Output {
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_aoai-arch"))
        .parent()
        .unwrap()
        .to_path_buf();
    let prelude = format!(
        r#"set -e
cargo() {{
  if [ "$*" != "install --path . --locked" ]; then echo "unexpected: cargo $*" >&2; return 1; fi
  mkdir -p "$HOME/.cargo/bin" && cp "{bin}" "$HOME/.cargo/bin/aoai-arch"
}}
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
"#,
        bin = bin_dir.join("aoai-arch").display()
    );
    let script = format!("{prelude}{}\n", lines.join("\n"));
    let mut cmd = Command::new("bash");
    cmd.args(["--norc", "--noprofile", "-c", &script])
        .current_dir(cwd)
        .env("HOME", home)
        .env(
            "PATH",
            format!(
                "{}:{}",
                home.join(".cargo/bin").display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("AOAI_ARCH_TODAY", common::TODAY)
        .env_remove("AOAI_ARCH_ARM_ENDPOINT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn every_command_of_the_readme_start_page_runs() {
    let blocks = start_blocks();
    assert_eq!(
        blocks.len(),
        3,
        "install, emulator life cycle, real deployment"
    );
    let commands: usize = blocks.iter().map(Vec::len).sum();
    // One screen of commands.
    assert!(commands <= 24, "{commands} command lines");

    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    // A clone's working tree, as far as the commands read it.
    std::os::unix::fs::symlink(
        common::root().join("blueprints"),
        work.path().join("blueprints"),
    )
    .unwrap();
    std::os::unix::fs::symlink(common::root().join("schema"), work.path().join("schema")).unwrap();

    // Install: the binary on PATH, completions in a folder that did not exist.
    let out = run_block(&blocks[0], work.path(), home.path(), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let completions = home
        .path()
        .join(".local/share/bash-completion/completions/aoai-arch");
    assert!(common::read(&completions).contains("complete -F"));
    assert!(home.path().join(".cargo/bin/aoai-arch").is_file());

    // The life cycle on the standalone emulator, on a free port.
    let port = free_port().to_string();
    let life: Vec<String> = blocks[1].iter().map(|l| l.replace("8443", &port)).collect();
    assert!(
        life.iter().any(|l| l.contains("aoai-arch emulator")),
        "{life:?}"
    );
    let out = run_block(&life, work.path(), home.path(), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let all = text(&out);
    assert!(all.contains("clock: 600x Azure"), "{all}");
    assert!(all.contains("Outputs:"), "{all}");
    assert!(all.contains("apim gateway url        = https://"), "{all}");
    assert!(work.path().join("rendered/index.json").is_file());

    // The first real deployment, a second emulator standing in for Azure.
    let emu = common::Emulator::start("600", "none", 0);
    let out = run_block(
        &blocks[2],
        work.path(),
        home.path(),
        &[("AOAI_ARCH_ARM_ENDPOINT", &emu.url)],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(work.path().join("gateway.plan").is_file());
    let all = text(&out);
    assert!(all.contains("apim gateway url        = https://"), "{all}");
    // Every write came from the saved plan's apply.
    assert!(common::writes(&emu.log()) > 0);
}
