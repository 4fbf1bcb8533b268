//! `aoai-arch emulator` as a user starts it: its banner, its default clock, its refusals.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

/// Start the standalone emulator with `args`; returns it and its first two lines.
fn start(args: &[&str]) -> (Child, Vec<String>) {
    let mut emu = common::bin()
        .args(["emulator", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(emu.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..3 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        lines.push(line.trim_end().to_string());
    }
    (emu, lines)
}

fn stop(mut emu: Child) {
    let _ = emu.kill();
    let _ = emu.wait();
}

#[test]
fn the_standalone_emulator_runs_fast_by_default_and_says_so() {
    let (emu, lines) = start(&[]);
    stop(emu);
    assert!(
        lines[0].starts_with("ARM emulator listening on http://127.0.0.1:"),
        "{lines:?}"
    );
    assert_eq!(
        lines[1], "clock: 600x Azure; --time-scale 1 for real time",
        "{lines:?}"
    );

    let (emu, lines) = start(&["--time-scale", "1"]);
    stop(emu);
    assert!(lines[1].starts_with("clock: real time"), "{lines:?}");
    assert!(lines[1].contains("30-45 minutes"), "{lines:?}");
}

#[test]
fn a_time_scale_of_zero_or_less_is_refused() {
    for bad in ["0", "-5", "NaN", "fast"] {
        let out = common::bin()
            .args(["emulator", "--port", "0", &format!("--time-scale={bad}")])
            .output()
            .unwrap();
        // A usage error: exit 1 before anything listens.
        assert_eq!(out.status.code(), Some(1), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--time-scale"), "{bad}: {err}");
        assert!(err.contains("1 = real time"), "{bad}: {err}");
    }
    // The in-process emulator's clock too.
    let out = common::bin()
        .args([
            "plan",
            "blueprints/apim.yaml",
            "--emulator",
            "--time-scale",
            "0",
        ])
        .current_dir(common::root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("greater than 0"));
}
