//! The HTTP side: hyper on 127.0.0.1, the `/_emulator` endpoints, logging, the state file.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use crate::engine::Engine;
use crate::{Config, LogEntry, Running};

pub async fn start(config: Config, port: u16) -> anyhow::Result<Running> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}");
    let state_file = config.state_file.clone();
    let mut engine = Engine::new(config, crate::providers::ALL);
    engine.base = url.clone();
    if let Some(p) = &state_file {
        if let Ok(text) = std::fs::read_to_string(p) {
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("state file {}: {e}", p.display()))?;
            engine.restore(&v);
        }
    }
    let engine = Arc::new(Mutex::new(engine));
    let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
    let eng = engine.clone();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut rx => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let eng = eng.clone();
                    tokio::spawn(async move {
                        let svc = service_fn(move |req| serve(eng.clone(), req));
                        let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                    });
                }
            }
        }
    });
    Ok(Running {
        url,
        engine,
        shutdown: tx,
        task,
    })
}

pub fn save_state(engine: &Arc<Mutex<Engine>>) {
    let Ok(mut e) = engine.lock() else { return };
    let Some(p) = e.config.state_file.clone() else {
        return;
    };
    let snap = e.snapshot();
    if let Ok(text) = serde_json::to_string_pretty(&snap) {
        let tmp = p.with_extension("tmp");
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, &p);
        }
    }
}

/// Dropping a connection: hyper closes it without a response when the service fails.
#[derive(Debug)]
struct Dropped;
impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped (injected fault)")
    }
}
impl std::error::Error for Dropped {}

async fn serve(
    engine: Arc<Mutex<Engine>>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let correlation = req
        .headers()
        .get("x-ms-correlation-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let refused = path
        .starts_with("/_emulator/")
        .then(|| control_refusal(&method, req.headers(), auth.as_deref()))
        .flatten();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();

    if let Some(resp) = refused {
        return Ok(resp);
    }
    if let Some(resp) = control(&engine, &method, &path) {
        return Ok(resp);
    }

    let lower = path.to_lowercase();
    let is_poll = lower.contains("/operationstatuses/") || lower.contains("/operationresults/");
    let (reply, start_ms, latency, print, operation_of) = {
        let mut e = engine.lock().expect("engine lock");
        let start_ms = e.elapsed_ms();
        let reply = e.handle(&method, &path, &query, auth.as_deref(), &body);
        let operation_of = if is_poll {
            e.operation_resource(&path)
        } else {
            None
        };
        (
            reply,
            start_ms,
            e.config.latency,
            e.config.log_requests,
            operation_of,
        )
    };
    let delay = reply.delay + latency;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let entry = LogEntry {
        seq: 0,
        method: method.clone(),
        path: path.clone(),
        api_version: query
            .split('&')
            .find_map(|kv| kv.strip_prefix("api-version="))
            .map(str::to_string),
        status: if reply.drop { 0 } else { reply.status },
        start_ms,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        resource_id: (!is_poll && lower.starts_with("/subscriptions/")).then(|| lower.clone()),
        is_poll,
        operation_of,
        correlation: correlation.clone(),
    };
    if print {
        eprintln!(
            "arm-emulator {} {} -> {} ({:.1} ms)",
            entry.method,
            entry.path,
            if reply.drop {
                "dropped".to_string()
            } else {
                entry.status.to_string()
            },
            entry.duration_ms
        );
    }
    let wrote = matches!(method.as_str(), "PUT" | "DELETE") && (200..300).contains(&reply.status);
    if let Ok(mut e) = engine.lock() {
        e.record(entry);
    }
    if wrote {
        save_state(&engine);
    }
    if reply.drop {
        return Err(Dropped);
    }
    let mut builder = Response::builder().status(reply.status);
    builder = builder.header("x-ms-request-id", uuid::Uuid::new_v4().to_string());
    builder = builder.header(
        "x-ms-correlation-request-id",
        correlation.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
    );
    for (k, v) in &reply.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let bytes = match &reply.body {
        Some(v) => {
            builder = builder.header("content-type", "application/json; charset=utf-8");
            Bytes::from(serde_json::to_vec(v).unwrap_or_default())
        }
        None => Bytes::new(),
    };
    Ok(builder
        .body(Full::new(bytes))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

/// Why a request to `/_emulator/*` is refused, if it is. These endpoints read and wipe the
/// emulator's state, so they need a bearer token as ARM calls do (401), and refuse anything a web
/// page could send (403): a request with an `Origin` header (browsers add it to cross-origin
/// requests), and a POST with a content type an HTML form or a "simple" fetch can send without a
/// CORS preflight.
fn control_refusal(
    method: &str,
    headers: &hyper::HeaderMap,
    auth: Option<&str>,
) -> Option<Response<Full<Bytes>>> {
    let reply = |status: u16, code: &str, message: &str| {
        let body = serde_json::json!({ "error": { "code": code, "message": message } });
        Response::builder()
            .status(status)
            .header("content-type", "application/json; charset=utf-8")
            .body(Full::new(Bytes::from(
                serde_json::to_vec(&body).unwrap_or_default(),
            )))
            .ok()
    };
    if headers.contains_key("origin") {
        return reply(
            403,
            "CrossOriginRequestRefused",
            "The emulator's control endpoints refuse cross-origin requests (an Origin header was sent).",
        );
    }
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let form = matches!(
        content_type.as_str(),
        "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
    );
    if method == "POST" && form {
        return reply(
            403,
            "CrossOriginRequestRefused",
            &format!("The emulator's control endpoints refuse POST requests with content type {content_type} (what an HTML form sends)."),
        );
    }
    if !auth.is_some_and(|a| a.len() > 7 && a[..7].eq_ignore_ascii_case("bearer ")) {
        return reply(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        );
    }
    None
}

/// `/_emulator/log`, `/_emulator/summary`, `POST /_emulator/reset`.
fn control(engine: &Arc<Mutex<Engine>>, method: &str, path: &str) -> Option<Response<Full<Bytes>>> {
    let json = |v: serde_json::Value| {
        Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(
                serde_json::to_vec_pretty(&v).unwrap_or_default(),
            )))
            .ok()
    };
    match (method, path) {
        ("GET", "/_emulator/log") => {
            let log = engine.lock().ok()?.log.clone();
            json(serde_json::json!({ "log": log }))
        }
        ("GET", "/_emulator/summary") => {
            let log = engine.lock().ok()?.log.clone();
            json(serde_json::to_value(crate::summarize(&log)).ok()?)
        }
        ("POST", "/_emulator/reset") => {
            let mut e = engine.lock().ok()?;
            let config = e.config.clone();
            let base = e.base.clone();
            // The subscription's configuration (quota, models, taken names) stays; its
            // soft-deleted accounts go with the rest of the state.
            let preflight = crate::engine::subscription::Data {
                deleted_accounts: Default::default(),
                ..e.preflight.clone()
            };
            *e = Engine::new(config, crate::providers::ALL);
            e.base = base;
            e.preflight = preflight;
            json(serde_json::json!({ "reset": true }))
        }
        _ => None,
    }
}
