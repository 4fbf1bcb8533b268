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
        ("http://127.0.0.1.nip.io:8080", "plain http to 127.0.0.1.nip.io"),
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
        assert!(err.contains(url), "{url}: the error names the endpoint: {err}");
    }
    assert_eq!(proxy.count(), 0, "a request was sent");
}
