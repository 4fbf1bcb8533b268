//! The client against the emulator: both LRO styles, failed operations, retries of throttling,
//! server errors, dropped connections and transient conflicts, and giving up in bounded time; pacing under ARM throttling.

use std::time::Duration;

use arm_client::{ArmClient, AuthMethod, ClientOptions, Cloud};
use arm_emulator::{start, Config, Running};
use serde_json::json;

const RG: &str = "/subscriptions/00000000-0000-0000-0000-0000000000cc/resourceGroups/rg1";

async fn setup(config: Config) -> (Running, ArmClient) {
    let emu = start(
        Config {
            log_requests: false,
            ..config
        },
        0,
    )
    .await
    .unwrap();
    let client = client_for(&emu, Duration::from_secs(60)).await;
    (emu, client)
}

/// Options for a client of `emu`: any bearer token, fast polls.
fn options(emu: &Running) -> ClientOptions {
    ClientOptions {
        cloud: Cloud::Custom {
            arm_endpoint: emu.url(),
            authority_host: None,
        },
        auth: AuthMethod::Static("test-token".into()),
        poll_interval_floor: Duration::from_millis(5),
        ..ClientOptions::default()
    }
}

async fn client_for(emu: &Running, max_retry: Duration) -> ArmClient {
    ArmClient::new(ClientOptions {
        max_retry_time: max_retry,
        ..options(emu)
    })
    .await
    .unwrap()
}

async fn create_rg(c: &ArmClient) {
    c.put(
        RG,
        "2025-04-01",
        &json!({ "location": "westeurope", "properties": {} }),
        &no_progress,
    )
    .await
    .unwrap();
}

fn account(name: &str) -> (String, serde_json::Value) {
    (
        format!("{RG}/providers/Microsoft.CognitiveServices/accounts/{name}"),
        json!({ "location": "westeurope", "kind": "OpenAI", "sku": { "name": "S0" }, "properties": { "customSubDomainName": name } }),
    )
}

fn no_progress(_: &str) {}

#[tokio::test]
async fn both_lro_styles_complete_with_the_final_resource() {
    let (emu, c) = setup(Config {
        time_scale: 2000.0,
        ..Config::default()
    })
    .await;
    create_rg(&c).await;
    let (id, body) = account("a1");
    let states = std::sync::Mutex::new(Vec::new());
    let record = |s: &str| states.lock().unwrap().push(s.to_string());
    let v = c.put(&id, "2026-05-01", &body, &record).await.unwrap();
    assert_eq!(v["properties"]["provisioningState"], "Succeeded");
    assert_eq!(v["properties"]["endpoint"], "https://a1.openai.azure.com/");
    assert!(states
        .lock()
        .unwrap()
        .iter()
        .any(|s| s == "Creating" || s == "InProgress"));
    // 202 + Location.
    let ns = format!("{RG}/providers/Microsoft.EventHub/namespaces/evhns1");
    let v = c
        .put(
            &ns,
            "2026-01-01",
            &json!({ "location": "westeurope", "sku": { "name": "Standard" }, "properties": {} }),
            &no_progress,
        )
        .await
        .unwrap();
    assert_eq!(v["name"], "evhns1");
    assert!(c.get(&ns, "2026-01-01").await.unwrap().is_some());
    c.delete(&ns, "2026-01-01").await.unwrap();
    assert!(c.get(&ns, "2026-01-01").await.unwrap().is_none());
    let listed = c
        .list(
            &format!("{RG}/providers/Microsoft.CognitiveServices/accounts"),
            "2026-05-01",
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let stats = c.stats();
    assert!(stats.polls > 0 && stats.writes >= 3);
    // Polls honour Retry-After: about duration / interval polls, not a busy loop.
    let polls = emu.log().iter().filter(|e| e.is_poll).count();
    assert!(polls < 40, "{polls} polls");
}

#[tokio::test]
async fn a_failed_operation_is_an_error_with_its_code() {
    let (_emu, c) = setup(Config {
        time_scale: 10_000.0,
        faults: "lro-fail=1.0".parse().unwrap(),
        ..Config::default()
    })
    .await;
    create_rg(&c).await;
    let (id, body) = account("a1");
    let e = c
        .put(&id, "2026-05-01", &body, &no_progress)
        .await
        .unwrap_err();
    assert_eq!(e.code.as_deref(), Some("ProvisioningFailed"));
    let text = e.to_string();
    assert!(
        text.contains(&id) && text.contains("PUT") && text.contains("ProvisioningFailed"),
        "{text}"
    );
}

#[tokio::test]
async fn faults_are_retried_until_success() {
    let (emu, c) = setup(Config {
        time_scale: 10_000.0,
        faults: "429=0.2,500=0.1,503=0.1,drop=0.05".parse().unwrap(),
        seed: 4,
        ..Config::default()
    })
    .await;
    create_rg(&c).await;
    for i in 0..6 {
        let (id, body) = account(&format!("a{i}"));
        c.put(&id, "2026-05-01", &body, &no_progress).await.unwrap();
        assert!(c.get(&id, "2026-05-01").await.unwrap().is_some());
    }
    assert!(c.stats().retries > 0);
    let s = emu.summary();
    assert!(
        s.by_method_status.keys().any(|k| k.ends_with(" 429")),
        "{s:?}"
    );
}

#[tokio::test]
async fn transient_conflicts_are_retried() {
    // A deployment takes 20-60 s in Azure: at 100x the first one is still being written
    // (0.2-0.6 s) when the second arrives, even on a loaded machine.
    let (_emu, c) = setup(Config {
        time_scale: 100.0,
        ..Config::default()
    })
    .await;
    create_rg(&c).await;
    let (id, body) = account("a1");
    c.put(&id, "2026-05-01", &body, &no_progress).await.unwrap();
    let dep = |n: &str| format!("{id}/deployments/{n}");
    let b = json!({ "sku": { "name": "Standard", "capacity": 1 }, "properties": { "model": { "format": "OpenAI", "name": "gpt-4o", "version": "1" } } });
    // Two deployments at once: Azure answers the second with 409 RequestConflict; the client waits and retries.
    let (d1, d2) = (dep("d1"), dep("d2"));
    let (x, y) = tokio::join!(
        c.put(&d1, "2026-05-01", &b, &no_progress),
        c.put(&d2, "2026-05-01", &b, &no_progress)
    );
    x.unwrap();
    y.unwrap();
    assert!(c.stats().retries > 0);
}

#[tokio::test]
async fn gives_up_in_bounded_time_with_a_clear_error() {
    let emu = start(
        Config {
            faults: "500=1.0".parse().unwrap(),
            log_requests: false,
            ..Config::default()
        },
        0,
    )
    .await
    .unwrap();
    let c = client_for(&emu, Duration::from_millis(300)).await;
    let t = std::time::Instant::now();
    let e = c.get(RG, "2025-04-01").await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(e.status, Some(500));
    let text = e.to_string();
    assert!(
        text.contains("gave up") || text.contains("InternalServerError"),
        "{text}"
    );
    assert!(text.contains("x-ms-correlation-request-id"), "{text}");
    assert!(!text.contains("test-token"));
}

#[tokio::test]
async fn plain_http_is_refused_except_on_loopback() {
    let r = ArmClient::new(ClientOptions {
        cloud: Cloud::Custom {
            arm_endpoint: "http://management.example.com".into(),
            authority_host: None,
        },
        auth: AuthMethod::Static("t".into()),
        ..ClientOptions::default()
    })
    .await;
    assert!(r.is_err());
    assert_eq!(
        Cloud::China.scope(),
        "https://management.chinacloudapi.cn/.default"
    );
    assert_eq!(
        Cloud::UsGovernment.arm_endpoint(),
        "https://management.usgovcloudapi.net"
    );
}

/// More reads than ARM's read bucket holds (250, refilled at 25/s): the client paces itself once
/// the bucket runs low instead of sending every in-flight request into an empty bucket (without
/// pacing, 300 reads draw over 700 429s here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_beyond_the_bucket_are_paced_not_hammered() {
    let (emu, _) = setup(Config::default()).await;
    let c = ArmClient::new(ClientOptions {
        max_concurrency: 32,
        ..options(&emu)
    })
    .await
    .unwrap();
    let n = 300;
    let mut tasks = Vec::new();
    for i in 0..n {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.get(
                &format!("{RG}/providers/Microsoft.CognitiveServices/accounts/a{i}"),
                "2026-05-01",
            )
            .await
        }));
    }
    for t in tasks {
        // The resource group does not exist: every read is a 404, which `get` maps to None.
        assert!(t.await.unwrap().is_ok());
    }
    let log = emu.log();
    let throttled = log.iter().filter(|e| e.status == 429).count();
    assert!(
        throttled <= 32,
        "{throttled} reads were throttled: the client kept sending into an empty bucket"
    );
    assert!(
        log.len() <= n + throttled,
        "{} requests for {n} reads",
        log.len()
    );
    emu.shutdown().await;
}

/// A response that names another host for its long-running operation (`Azure-AsyncOperation`)
/// does not get the bearer token sent there: the poll is refused before any connection.
#[tokio::test]
async fn operation_urls_on_another_host_do_not_get_the_token() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // Another host: 127.0.0.2 (loopback, but not the endpoint's origin), counting connections.
    let other = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
    let other_url = format!("http://{}/operations/op1", other.local_addr().unwrap());
    let reached = Arc::new(AtomicUsize::new(0));
    let count = reached.clone();
    tokio::spawn(async move {
        while let Ok((_s, _)) = other.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    // The "ARM" endpoint: every request gets 201 with the foreign operation URL.
    let arm = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let arm_url = format!("http://{}", arm.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = arm.accept().await {
            let op = other_url.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = s.read(&mut buf).await;
                let body = r#"{"properties":{"provisioningState":"Creating"}}"#;
                let reply = format!(
                    "HTTP/1.1 201 Created\r\nAzure-AsyncOperation: {op}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    let c = ArmClient::new(ClientOptions {
        cloud: Cloud::Custom {
            arm_endpoint: arm_url.clone(),
            authority_host: None,
        },
        auth: AuthMethod::Static("secret-token".into()),
        poll_interval_floor: Duration::from_millis(5),
        ..ClientOptions::default()
    })
    .await
    .unwrap();
    let e = c
        .put(
            RG,
            "2025-04-01",
            &json!({ "location": "westeurope" }),
            &|_: &str| {},
        )
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("refusing to send the ARM token to http://127.0.0.2:"),
        "{text}"
    );
    assert!(text.contains(&arm_url), "{text}");
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "the token went elsewhere"
    );
}
