//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The day the tests run on (`AOAI_ARCH_TODAY`): lifecycle findings compare dates with it, so
/// every run sees the same retired, deprecated and generally available versions.
pub const TODAY: &str = "2026-12-06";

/// The binary, with today fixed to [`TODAY`] (a test sets another day with `.env`).
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aoai-arch"));
    c.env("AOAI_ARCH_TODAY", TODAY);
    c
}

pub const EXAMPLES: [&str; 6] = [
    "afd",
    "apim",
    "afd-apim",
    "afd-apim-private",
    "multi-deployment",
    "teams",
];

pub fn example(name: &str) -> PathBuf {
    root().join("blueprints").join(format!("{name}.yaml"))
}

/// `../shared` (or `$AOAI_ARCH_SHARED`). `None` means the caller should skip, after this has
/// printed why; with `AOAI_ARCH_REQUIRE_SHARED=1` (CI) a missing folder is a failure instead.
pub fn shared(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("AOAI_ARCH_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("..").join("shared"));
    if dir.join("arm-schemas").is_dir() && dir.join("apim-policy").is_dir() {
        return Some(dir);
    }
    if std::env::var("AOAI_ARCH_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!(
            "{test}: AOAI_ARCH_REQUIRE_SHARED=1 but {} has no arm-schemas/ and apim-policy/",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED {test}: reference data not found at {} (set AOAI_ARCH_SHARED, or AOAI_ARCH_REQUIRE_SHARED=1 to make this a failure)",
        dir.display()
    );
    None
}

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

/// A standalone emulator (`aoai-arch emulator`) on a free loopback port, stopped on drop.
pub struct Emulator {
    child: Child,
    pub url: String,
}

impl Emulator {
    pub fn start(time_scale: &str, faults: &str, seed: u64) -> Emulator {
        Emulator::start_with(time_scale, faults, seed, &[])
    }

    /// With more arguments, e.g. `["--state", FILE]`.
    pub fn start_with(time_scale: &str, faults: &str, seed: u64, extra: &[&str]) -> Emulator {
        let mut child = bin()
            .args([
                "emulator",
                "--port",
                "0",
                "--time-scale",
                time_scale,
                "--faults",
                faults,
                "--seed",
                &seed.to_string(),
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_string();
        Emulator { child, url }
    }

    pub fn log(&self) -> Vec<Value> {
        fetch_log(&self.url)
    }
}

/// The emulator's request log: a plain HTTP/1.1 GET over a TCP socket.
pub fn fetch_log(url: &str) -> Vec<Value> {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /_emulator/log HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer test-token\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let body = buf.split_once("\r\n\r\n").unwrap().1;
    serde_json::from_str::<Value>(body).unwrap()["log"]
        .as_array()
        .unwrap()
        .clone()
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn run(args: &[&str], blueprint: &Path, url: &str) -> std::process::Output {
    bin()
        .args(args)
        .arg(blueprint)
        .args(["--arm-endpoint", url])
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

pub fn writes(log: &[Value]) -> usize {
    log.iter()
        .filter(|e| e["method"] == "PUT" || e["method"] == "DELETE")
        .count()
}

/// One plain HTTP/1.1 request to the emulator (a bearer token like ARM calls); the status and
/// the JSON body (`Null` when empty).
pub fn http(url: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let text = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer test-token\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let status = buf
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = buf.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// An example blueprint, edited as YAML, written under `dir` as `file_name`.
pub fn edited_example(
    name: &str,
    dir: &Path,
    file_name: &str,
    edit: impl FnOnce(&mut serde_norway::Value),
) -> PathBuf {
    let mut v: serde_norway::Value = serde_norway::from_str(&read(&example(name))).unwrap();
    edit(&mut v);
    let p = dir.join(file_name);
    std::fs::write(&p, serde_norway::to_string(&v).unwrap()).unwrap();
    p
}

/// What `lint --format json` said about an example blueprint.
pub struct LintRun {
    pub code: Option<i32>,
    pub findings: Vec<Value>,
    pub stderr: String,
}

/// `lint BLUEPRINT --format json` on an example after text replacements (each must match),
/// with `files` written beside it and the command run from that folder.
pub fn lint_example(
    base: &str,
    edits: &[(&str, &str)],
    extra: &[&str],
    files: &[(&str, &str)],
) -> LintRun {
    let mut text = read(&example(base));
    for (from, to) in edits {
        assert!(text.contains(from), "`{from}` not in {base}");
        text = text.replacen(from, to, 1);
    }
    let dir = tempfile::tempdir().unwrap();
    let bp = dir.path().join(format!("{base}.yaml"));
    std::fs::write(&bp, text).unwrap();
    for (name, content) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    let out = bin()
        .current_dir(dir.path())
        .arg("lint")
        .arg(&bp)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    LintRun {
        code: out.status.code(),
        findings: serde_json::from_str::<Value>(&stdout)
            .ok()
            .and_then(|v| v["findings"].as_array().cloned())
            .unwrap_or_default(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    }
}

/// Send a signal (`-STOP`, `-CONT`, ...) to a child process.
pub fn signal(child: &std::process::Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}
