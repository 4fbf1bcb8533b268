//! Hostile input, through the binary: usage errors are not "changes", endpoint URLs are parsed,
//! user values never reach placeholder resolution, YAML bombs and oversize files are refused,
//! control characters from user values are escaped in messages, and an ARM endpoint that does
//! not answer fails fast.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A loopback listener that counts the connections it accepts and answers each with a 400 (so
/// a client that does send fails at once instead of retrying), for "nothing was sent there"
/// assertions.
struct Counter {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl Counter {
    fn start() -> Counter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            for s in listener.incoming() {
                count.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut s) = s {
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 4096];
                        let _ = s.read(&mut buf);
                        let body = r#"{"error":{"code":"Refused","message":"counted"}}"#;
                        let _ = write!(
                            s,
                            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    });
                }
            }
        });
        Counter { port, accepted }
    }
    fn count(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Run `cmd` to completion, or kill it after `secs` and fail: a regression that makes it hang
/// (retrying for 30 minutes, say) fails the test instead of stalling the run. A generous
/// watchdog, not a measurement.
fn output_within(cmd: &mut std::process::Command, secs: u64) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}

#[test]
fn usage_errors_exit_1_not_the_changes_code() {
    let out = common::bin()
        .args(["plan"])
        .arg(common::example("apim"))
        .args(["--detailed-exitcode", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("--no-such-flag"), "{}", stderr(&out));

    let out = common::bin().args(["plna"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // Asking for help or the version is not an error.
    let help = common::bin().args(["plan", "--help"]).output().unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("--detailed-exitcode"));
    // The connect budget is documented where users look, with its default.
    let help = stdout(&help);
    assert!(
        help.contains("--connect-budget") && help.contains("AOAI_ARCH_CONNECT_BUDGET"),
        "{help}"
    );
    assert!(help.contains("[default: 40]"), "{help}");
    let version = common::bin().arg("--version").output().unwrap();
    assert_eq!(version.status.code(), Some(0));
}

/// `http://127.0.0.1@192.0.2.2:P` is plain http to 192.0.2.2 (`127.0.0.1` is a user name): it is
/// not loopback, so it gets neither plain http nor the emulator's placeholder token. Any plain
/// http request would go through the proxy set in the environment, a local listener here, so
/// "nothing was sent" is checked, not assumed.
#[test]
fn endpoint_urls_are_parsed_not_prefix_matched() {
    let proxy = Counter::start();
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    let cases = [
        ("http://127.0.0.1@192.0.2.2:8080", "contains user info"),
        ("http://127.0.0.1:x@192.0.2.2:8080", "contains user info"),
        (
            "http://127.0.0.1.nip.io:8080",
            "plain http to 127.0.0.1.nip.io",
        ),
        ("http://192.0.2.2:8080", "plain http to 192.0.2.2"),
        ("ftp://127.0.0.1", "scheme \"ftp\""),
        ("127.0.0.1:8080", "not a valid URL"),
    ];
    for (url, why) in cases {
        let out = common::bin()
            .args(["plan"])
            .arg(common::example("apim"))
            .args(["--arm-endpoint", url])
            .env("HTTP_PROXY", &proxy_url)
            .env("http_proxy", &proxy_url)
            .env("ALL_PROXY", &proxy_url)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{url}: {err}");
        assert!(err.contains(why), "{url}: expected {why:?} in {err}");
        assert!(
            err.contains(url),
            "{url}: the error names the endpoint: {err}"
        );
    }
    assert_eq!(proxy.count(), 0, "a request was sent");
}

/// Run the binary with its address space capped at 1 GiB, as a regression guard: a blueprint
/// that makes it allocate its way past that aborts it instead of passing.
fn bounded(args: &[&str]) -> Output {
    std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_aoai-arch"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn write_blueprint(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// The blueprint error format: message, `--> file:line:column`, `= field: ...` (on stderr, or
/// on stdout as a `lint` finding).
fn assert_located(out: &Output, file: &str, line: usize, field: &str, message: &str) {
    let err = format!("{}{}", stderr(out), String::from_utf8_lossy(&out.stdout));
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(message), "expected {message:?} in:\n{err}");
    assert!(
        err.contains(&format!("--> {file}:{line}:")),
        "expected {file}:{line} in:\n{err}"
    );
    if !field.is_empty() {
        assert!(
            err.contains(&format!("= field: {field}")),
            "expected field {field} in:\n{err}"
        );
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

/// `${after-apply:...}` in a user value used to be resolved at apply time like the renderer's own
/// placeholders: a named value holding the App Insights connection string placeholder became a
/// plain (non-secret) named value with the connection string in it. Now it is a located error,
/// before anything is rendered or sent.
#[test]
fn user_values_never_reach_placeholder_resolution() {
    let dir = tempfile::tempdir().unwrap();
    let base = common::read(&common::example("apim"));
    let appi = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-aoai-apim/providers/Microsoft.Insights/components/appi-aoai-gw";
    let cases = [
        (
            "named value",
            "    gateway-owner: ai-platform@contoso.com",
            format!("    gateway-owner: ai-platform@contoso.com\n    leaked: \"${{after-apply:{appi}#/properties/ConnectionString}}\""),
            "apim.namedValues.leaked",
            "leaked:",
        ),
        (
            "tag",
            "  env: prod",
            format!("  env: prod\n  note: x${{after-apply:{appi}#/properties/InstrumentationKey}}"),
            "tags.note",
            "note:",
        ),
        (
            // A value ending in `$` next to one starting with `{after-apply:` could form it too.
            "half a placeholder",
            "  env: prod",
            "  env: prod\n  '{after-apply:x#/y}': z".to_string(),
            "tags.{after-apply:x#/y}",
            "'{after-apply:",
        ),
    ];
    for (what, from, to, field, marker) in cases {
        let text = base.replacen(from, &to, 1);
        assert_ne!(text, base, "{what}");
        let bp = write_blueprint(&dir, "apim.yaml", &text);
        let line = line_of(&text, marker);
        for cmd in [
            vec![
                "render",
                bp.as_str(),
                "--out",
                dir.path().join("out").to_str().unwrap(),
            ],
            vec!["lint", bp.as_str()],
            vec!["apply", bp.as_str(), "--emulator", "--auto-approve"],
        ] {
            let out = common::bin()
                .args(&cmd)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            assert_located(
                &out,
                &bp,
                line,
                field,
                "is reserved for values Azure returns",
            );
            assert!(
                !stdout(&out).contains("Apply complete"),
                "{what}: {}",
                stdout(&out)
            );
        }
        assert!(
            !dir.path().join("out").exists(),
            "{what}: something was rendered"
        );
    }
}

/// Billion laughs: nine anchors of nine aliases each, under 500 bytes, would expand to 387
/// million strings. Refused at the alias where the expansion crosses the limit.
#[test]
fn alias_bombs_are_refused_at_the_alias() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("version: 1\npattern: apim\nlol0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for i in 1..9 {
        text.push_str(&format!(
            "lol{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 9].join(",")
        ));
    }
    let bp = write_blueprint(&dir, "laughs.yaml", &text);
    let out = bounded(&[
        "render",
        &bp,
        "--out",
        dir.path().join("o").to_str().unwrap(),
    ]);
    // Expanded, lol5 is 2.2 million units (a node, or a byte of a scalar) and lol0-lol5 2.4
    // million: lol6, on line 9, is where the document crosses 4 MiB.
    assert_located(
        &out,
        &bp,
        9,
        "lol6[",
        "YAML aliases expand this blueprint beyond 4 MiB",
    );

    // Typed fields only: one 64 KiB string aliased 20 000 times in a list of e-mail addresses is a
    // 1.3 GB document from a 160 KB file.
    let base = common::read(&common::example("apim"));
    let big = "a".repeat(64 * 1024);
    let aliases = vec!["*big"; 20_000].join(", ");
    let text = base
        .replacen("  env: prod", &format!("  env: prod\n  big: &big {big}"), 1)
        .replacen(
            "contactEmails: [ai-platform@contoso.com, finops@contoso.com]",
            &format!("contactEmails: [{aliases}]"),
            1,
        );
    let bp = write_blueprint(&dir, "apim.yaml", &text);
    for cmd in ["render", "lint", "plan"] {
        let out = bounded(&[cmd, &bp]);
        assert_located(
            &out,
            &bp,
            line_of(&text, "contactEmails:"),
            "apim.budget.contactEmails[",
            "YAML aliases expand this blueprint beyond 4 MiB",
        );
    }
}

#[test]
fn oversize_and_endless_files_are_refused_without_reading_them_whole() {
    let dir = tempfile::tempdir().unwrap();
    let base = common::read(&common::example("apim"));
    let padding =
        "# padding padding padding padding padding padding padding padding\n".repeat(20_000);
    let bp = write_blueprint(&dir, "big.yaml", &format!("{base}{padding}"));
    for target in [bp.as_str(), "/dev/zero"] {
        let out = bounded(&[
            "render",
            target,
            "--out",
            dir.path().join("o").to_str().unwrap(),
        ]);
        assert_located(
            &out,
            target,
            1,
            "",
            "blueprint is larger than 1048576 bytes (1 MiB)",
        );
    }
    // `apply FILE` tells a saved plan from a blueprint by its first 4 KiB, then reads either
    // with its limit: an endless file is refused at 1 MiB (a blueprint's), an oversize plan
    // at 16 MiB.
    let out = bounded(&["apply", "/dev/zero", "--auto-approve"]);
    assert_located(
        &out,
        "/dev/zero",
        1,
        "",
        "blueprint is larger than 1048576 bytes (1 MiB)",
    );
    let plan = dir.path().join("huge.plan.json");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&plan).unwrap();
        f.write_all(b"{\"kind\": \"aoai-arch-plan\", \"pad\": \"")
            .unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..17 {
            f.write_all(&chunk).unwrap();
        }
        f.write_all(b"\"}").unwrap();
    }
    let out = bounded(&["apply", plan.to_str().unwrap(), "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a plan file larger than 16777216 bytes (16 MiB), the limit"),
        "{}",
        stderr(&out)
    );
    // Policy files given to lint are bounded the same way.
    let apim = common::example("apim");
    let out = bounded(&["lint", apim.to_str().unwrap(), "--policy", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("reading /dev/zero: larger than 1048576 bytes (1 MiB), the limit"),
        "{}",
        stderr(&out)
    );
    // Just under the limit is fine.
    let fits = format!("{base}{}", &padding[..(1 << 20) - base.len() - 100]);
    let bp = write_blueprint(&dir, "fits.yaml", &fits);
    let out = bounded(&[
        "render",
        &bp,
        "--out",
        dir.path().join("o").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn nesting_depth_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let base = common::read(&common::example("apim"));
    // Flow style on one line (this used to take quadratic time) and block style.
    let flow = base.replacen(
        "  env: prod",
        &format!("  env: {}x{}", "[".repeat(5000), "]".repeat(5000)),
        1,
    );
    let bp = write_blueprint(&dir, "flow.yaml", &flow);
    let out = bounded(&["render", &bp]);
    assert_located(
        &out,
        &bp,
        line_of(&flow, "env:"),
        "tags.env",
        "nested deeper than 32 levels",
    );

    let mut block = base.clone();
    block.push_str("deep:\n");
    for i in 1..40 {
        block.push_str(&format!("{}k{i}:\n", "  ".repeat(i)));
    }
    let bp = write_blueprint(&dir, "block.yaml", &block);
    let out = bounded(&["render", &bp]);
    assert_located(
        &out,
        &bp,
        line_of(&block, " k32:"),
        "deep.k1.k2",
        "nested deeper than 32 levels",
    );
}

/// `plan` against a port nobody listens on used to retry for 30 minutes (590 requests) without
/// a word. Connection failures now have their own budget (40 s by default; 2 s here through
/// the documented variable): a progress line while retrying, then exit 1 naming the endpoint.
#[test]
fn unreachable_arm_fails_fast_with_a_bounded_number_of_attempts() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }; // closed again: connections are refused
    let url = format!("http://127.0.0.1:{port}");
    let out = output_within(
        common::bin()
            .args(["plan"])
            .arg(common::example("apim"))
            .args(["--arm-endpoint", &url, "--debug"])
            .env("AOAI_ARCH_CONNECT_BUDGET", "2"),
        60,
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("cannot reach ARM at {url}: ")),
        "the error names the endpoint: {err}"
    );
    // Said once, not once per resource read.
    let said = err
        .lines()
        .filter(|l| l.starts_with("error:") || l.starts_with("reading "))
        .count();
    assert_eq!(said, 1, "{err}");
    assert!(
        err.contains("more resources: nothing was read from them"),
        "{err}"
    );
    assert!(err.to_lowercase().contains("connection refused"), "{err}");
    assert!(
        err.contains("retrying for up to"),
        "a progress line while retrying: {err}"
    );
    // `--debug` traces every request sent: each is one connection attempt. The resource reads
    // and the preflight reads (each up to 16 at once) are in flight when the first refusal
    // comes back; after it, one request at a time probes the endpoint, with exponential
    // backoff, and when the budget is spent none tries again.
    let attempts = err
        .lines()
        .filter(|l| l.starts_with("--> GET ") || l.starts_with("--> POST "))
        .count();
    assert!(
        (1..=40).contains(&attempts),
        "{attempts} connection attempts"
    );
}

/// A TLS failure (here: https to a server that speaks plain HTTP) is a connection failure too:
/// the short budget, not 30 minutes of retries.
#[test]
fn a_tls_failure_fails_fast() {
    let plain = Counter::start();
    let url = format!("https://127.0.0.1:{}", plain.port);
    let out = output_within(
        common::bin()
            .args(["plan"])
            .arg(common::example("apim"))
            .args(["--arm-endpoint", &url, "--connect-budget", "1"]),
        60,
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("cannot reach ARM at {url}: ")),
        "{err}"
    );
    assert!(plain.count() >= 1, "nothing reached the server: {err}");
}

/// A loopback listener that accepts connections and answers each request with `reply` (or
/// never, for `None`), for endpoints that are not ARM.
fn not_arm_listener(reply: Option<&'static [u8]>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            count.fetch_add(1, Ordering::SeqCst);
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            match reply {
                Some(bytes) => {
                    let _ = s.write_all(bytes);
                }
                None => held.push(s), // keep it open, say nothing
            }
        }
    });
    (url, accepted)
}

/// An endpoint that accepts and never answers, answers bytes that are not HTTP, or answers
/// with a proxy's HTML 502 page: each attempt counts towards the connect budget (2 s here), a
/// notice says so while retrying, and the run fails naming the endpoint, instead of retrying
/// each request for 30 minutes.
#[test]
fn endpoints_that_do_not_answer_as_arm_fail_within_the_connect_budget() {
    let html: &[u8] = b"HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\ncontent-length: 51\r\nconnection: close\r\n\r\n<html><body><h1>502 Bad Gateway</h1></body></html>\n";
    let cases: [(&str, Option<&'static [u8]>, &str); 3] = [
        ("silent", None, "no answer within 2 s"),
        ("garbage", Some(b"\x00\x01garbage, not HTTP\r\n\r\n"), ""),
        (
            "html 502",
            Some(html),
            "HTTP 502 with an HTML page, not an answer from ARM",
        ),
    ];
    for (name, reply, why) in cases {
        let (url, accepted) = not_arm_listener(reply);
        // Killed after 60 s: a run that retried for 30 minutes fails this test.
        let out = output_within(
            common::bin()
                .args(["plan"])
                .arg(common::example("apim"))
                .args(["--arm-endpoint", &url, "--connect-budget", "2"]),
            60,
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(
            err.contains(&format!("cannot reach ARM at {url}: ")),
            "{name}: the error names the endpoint: {err}"
        );
        assert!(err.contains(why), "{name}: {err}");
        assert!(
            err.contains("retrying for up to"),
            "{name}: a notice while retrying: {err}"
        );
        assert!(
            accepted.load(Ordering::SeqCst) >= 1,
            "{name}: never connected"
        );
    }
}

/// An App Service-style managed identity endpoint (IDENTITY_ENDPOINT) that accepts connections
/// and never answers: signing in gives it 5 s, then tries the next credential, instead of
/// waiting minutes.
#[test]
fn an_unresponsive_managed_identity_endpoint_is_given_a_few_seconds() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in silent.incoming() {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(s); // keep it open, say nothing
        }
    });
    let empty = tempfile::tempdir().unwrap(); // PATH without az / azd
    let out = output_within(
        common::bin()
            .args(["plan"])
            .arg(common::example("apim"))
            .args(["--auth", "managed-identity"])
            .env_clear()
            .env("PATH", empty.path())
            .env("HOME", empty.path())
            .env(
                "IDENTITY_ENDPOINT",
                format!("http://127.0.0.1:{port}/msi/token"),
            )
            .env("IDENTITY_HEADER", "h"),
        60,
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("managed identity: no answer from the managed identity endpoint within 5 s"),
        "{err}"
    );
    assert!(
        seen.load(Ordering::SeqCst) >= 1,
        "the probe went elsewhere: {err}"
    );
}

/// Bytes a terminal would act on: C0 controls but newline and tab, DEL, and C1 controls
/// (U+009B is CSI to some terminals).
fn raw_controls(s: &str) -> Vec<char> {
    s.chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect()
}

/// Control characters reach messages from blueprints (the offending key and its source line in
/// an error) and from ARM responses (live values in a plan): printed as `\uXXXX`, never as
/// themselves.
#[test]
fn control_characters_are_escaped_in_messages() {
    let dir = tempfile::tempdir().unwrap();
    let base = common::read(&common::example("apim"));

    // A key that would set the window title and clear the screen: refused, and the error
    // quotes it and its line without letting it act.
    let text = base.replacen(
        "location: swedencentral",
        "\"locaton\\e]0;pwned\\a\\e[2J\": swedencentral",
        1,
    );
    let bp = write_blueprint(&dir, "apim.yaml", &text);
    let out = common::bin().args(["render", &bp]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(raw_controls(&err).is_empty(), "{:?}", raw_controls(&err));
    assert!(err.contains("control character U+001B"), "{err}");

    // A tag value with ESC, DEL and a C1 CSI in live state (what a compromised or buggy
    // endpoint could answer), shown by plan as a change back to the blueprint's value.
    let state = dir.path().join("state.json");
    let emu = ["--emulator", "--emulator-state", state.to_str().unwrap()];
    let bp = write_blueprint(&dir, "apim.yaml", &base);
    let applied = common::bin()
        .args(["apply", &bp, "--auto-approve"])
        .args(emu)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(applied.status.success(), "{}", stderr(&applied));
    let live = common::read(&state);
    let hostile = live.replace(
        "\"env\": \"prod\"",
        r#""env": "prod\u001b[2J\u007f\u009b1m""#,
    );
    assert_ne!(live, hostile);
    std::fs::write(&state, hostile).unwrap();
    for json in [false, true] {
        let out = common::bin()
            .args(["plan", &bp])
            .args(emu)
            .args(if json { &["--json"][..] } else { &[][..] })
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = stdout(&out);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(raw_controls(&text).is_empty(), "{:?}", raw_controls(&text));
        assert!(raw_controls(&stderr(&out)).is_empty());
        if json {
            // Still JSON, and the value reads back as the state holds it.
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert!(
                v.to_string().contains("prod\\u001b[2J\u{7f}\u{9b}1m"),
                "{v}"
            );
        } else {
            assert!(
                text.contains(r#"tags.env: "prod\u001b[2J\u007f\u009b1m" -> "prod""#),
                "{text}"
            );
        }
    }
}

/// Validation that leaves no error for later (issue 11): each mistake is refused at the
/// blueprint line that makes it, not in a generated file or by Azure.
#[test]
fn values_are_validated_against_what_their_targets_accept() {
    let dir = tempfile::tempdir().unwrap();
    let base = common::read(&common::example("apim"));
    let many_tags: String = (0..50).map(|i| format!("  t{i}: v\n")).collect();
    let env_line = line_of(&base, "  env: prod");
    let location_line = line_of(&base, "location: swedencentral");
    let cases: Vec<(&str, &str, String, &str, &str, String)> = vec![
        // (what, from, to, marker of the reported line, field, message)
        (
            "duplicate tag",
            "  env: prod",
            "  env: prod\n  env: dev".into(),
            "  env: dev",
            "tags.env",
            format!("duplicate key `env` (first at line {env_line})"),
        ),
        (
            "duplicate named value",
            "    gateway-owner: ai-platform@contoso.com",
            "    gateway-owner: ai-platform@contoso.com\n    gateway-owner: someone@contoso.com"
                .into(),
            "someone@",
            "apim.namedValues.gateway-owner",
            "duplicate key `gateway-owner`".into(),
        ),
        (
            "duplicate field",
            "location: swedencentral",
            "location: swedencentral\nlocation: norwayeast".into(),
            "location: norwayeast",
            "location",
            format!("duplicate key `location` (first at line {location_line})"),
        ),
        (
            "control character in the App ID URI",
            "appIdUri: api://aoai-gateway",
            "appIdUri: \"api://aoai\\a-gateway\"".into(),
            "appIdUri:",
            "apim.jwt.appIdUri",
            "control character U+0007".into(),
        ),
        (
            "no retries",
            "retry: { count: 2,",
            "retry: { count: 0,".into(),
            "retry:",
            "apim.loadBalancing.retry.count",
            "retry count 0 is out of range".into(),
        ),
        (
            "too many tags",
            "  env: prod\n",
            many_tags,
            "tags:",
            "tags",
            "50 tags; Azure allows 50 per resource".into(),
        ),
        (
            "long publisher name",
            "name: Contoso AI Platform,",
            format!("name: {},", "P".repeat(101)),
            "publisher:",
            "apim.publisher.name",
            "101 characters; API Management allows at most 100".into(),
        ),
    ];
    for (what, from, to, marker, field, message) in cases {
        let text = base.replacen(from, &to, 1);
        assert_ne!(text, base, "{what}");
        let bp = write_blueprint(&dir, "apim.yaml", &text);
        let out = common::bin()
            .args(["render", &bp, "--out"])
            .arg(dir.path().join("out"))
            .output()
            .unwrap();
        assert_located(&out, &bp, line_of(&text, marker), field, &message);
        assert!(!dir.path().join("out").exists(), "{what}: rendered");
    }

    // Limits count characters, as Azure does: 256 two-byte characters are a valid tag value.
    let text = base.replacen("  env: prod", &format!("  env: {}", "é".repeat(256)), 1);
    let bp = write_blueprint(&dir, "apim.yaml", &text);
    let out = common::bin()
        .args(["render", &bp, "--out"])
        .arg(dir.path().join("ok"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `apim--gw` is a valid API Management name (letters, digits, hyphens) and the policy header
/// comment names the service: `--` is not allowed inside an XML comment, so it is rendered
/// `-&#x2D;` and the policy stays well-formed and lints clean.
#[test]
fn a_double_hyphen_in_a_name_keeps_the_policy_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let base = common::read(&common::example("apim"));
    let text = base.replacen("name: apim-aoai-gw", "name: apim--gw", 1);
    let bp = write_blueprint(&dir, "apim.yaml", &text);
    let out = common::bin()
        .args(["render", &bp, "--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let policies = dir.path().join("out").join("policies");
    let mut seen = 0;
    for entry in std::fs::read_dir(&policies).unwrap() {
        let xml = common::read(&entry.unwrap().path());
        // Every comment body is free of `--` (XML 1.0, section 2.5).
        for part in xml.split("<!--").skip(1) {
            let body = part.split_once("-->").map(|(b, _)| b).unwrap_or(part);
            assert!(!body.contains("--"), "{body}");
        }
        assert!(xml.contains("apim-&#x2D;gw"), "{xml}");
        seen += 1;
    }
    assert!(seen > 0);
    // lint validates the rendered policies as APIM reads them (APIM001).
    let lint = common::bin().args(["lint", &bp]).output().unwrap();
    assert_eq!(lint.status.code(), Some(0), "{}", stdout(&lint));
    assert!(!stdout(&lint).contains("APIM001"), "{}", stdout(&lint));
}

/// 4500 nested `<choose>` used to overflow the stack (exit 134): the nesting is measured
/// without recursion and refused, located, before any rule walks the tree.
#[test]
fn a_deeply_nested_policy_is_a_located_error_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let n = 4500;
    let xml = format!(
        "<policies>\n<inbound>\n{}<base />{}</inbound>\n<backend><base /></backend>\n<outbound><base /></outbound>\n<on-error><base /></on-error>\n</policies>\n",
        "<choose><when condition=\"@(true)\">".repeat(n),
        "</when></choose>".repeat(n)
    );
    let p = dir.path().join("deep.xml");
    std::fs::write(&p, &xml).unwrap();
    let out = bounded(&[
        "lint",
        common::example("apim").to_str().unwrap(),
        "--policy",
        p.to_str().unwrap(),
    ]);
    let err = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("nested deeper than 100 elements"), "{err}");
    // The first element past the limit (depth 101: `policies`, `inbound`, then 49 pairs):
    // the 50th `choose`, on line 3.
    let col = 49 * "<choose><when condition=\"@(true)\">".len() + 1;
    assert!(
        err.contains(&format!("deep.xml:3:{col}")),
        "not located at 3:{col}: {err}"
    );
}

/// A key over 1 KiB used to be echoed whole (in the message, the source line and the field):
/// errors show long runs of characters by their start and length only.
#[test]
fn a_long_key_is_not_echoed_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let base = common::read(&common::example("apim"));
    let key = format!("k{}", "0123456789abcdef".repeat(128)); // 2 KiB + 1
    for (name, line) in [
        ("implicit.yaml", format!("  {key}: v\n")),
        ("explicit.yaml", format!("  ? {key}\n  : v\n")),
        ("quoted.yaml", format!("  \"{key}\": v\n")),
    ] {
        let at = base.find("\ntags:\n").unwrap() + "\ntags:\n".len();
        let text = format!("{}{line}{}", &base[..at], &base[at..]);
        let bp = write_blueprint(&dir, name, &text);
        let out = bounded(&[
            "render",
            &bp,
            "--out",
            dir.path().join("o").to_str().unwrap(),
        ]);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(1), "{name}: {all}");
        assert!(
            !all.contains(&key[..200]),
            "{name}: the key is echoed: {}",
            &all[..all.len().min(600)]
        );
        assert!(all.contains("bytes)"), "{name}: {all}");
    }
}
