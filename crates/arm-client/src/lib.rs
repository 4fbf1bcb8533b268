//! The one Azure Resource Manager HTTP client of aoai-arch: credentials (azure_identity),
//! retries with backoff for throttling, server errors, dropped connections and the transient
//! conflicts resource providers answer, both long-running-operation styles, and HTTP traces
//! with secrets redacted. Nothing else in the project opens outbound sockets.

mod auth;
mod pace;
mod redact;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::Value;
use tokio::sync::Semaphore;

pub use auth::AuthMethod;
pub use redact::redact;

/// Azure clouds and custom ARM endpoints (Azure Stack, the emulator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cloud {
    Public,
    China,
    UsGovernment,
    Custom {
        arm_endpoint: String,
        /// Microsoft Entra authority for this endpoint (must be https).
        authority_host: Option<String>,
    },
}

impl Cloud {
    pub fn arm_endpoint(&self) -> String {
        match self {
            Cloud::Public => "https://management.azure.com".into(),
            Cloud::China => "https://management.chinacloudapi.cn".into(),
            Cloud::UsGovernment => "https://management.usgovcloudapi.net".into(),
            Cloud::Custom { arm_endpoint, .. } => arm_endpoint.trim_end_matches('/').to_string(),
        }
    }

    /// The token scope for ARM in this cloud.
    pub fn scope(&self) -> String {
        match self {
            Cloud::Public => "https://management.azure.com/.default".into(),
            Cloud::China => "https://management.chinacloudapi.cn/.default".into(),
            Cloud::UsGovernment => "https://management.usgovcloudapi.net/.default".into(),
            Cloud::Custom { arm_endpoint, .. } => {
                format!("{}/.default", arm_endpoint.trim_end_matches('/'))
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub cloud: Cloud,
    pub auth: AuthMethod,
    /// Trace requests and responses to stderr, secrets redacted.
    pub debug_http: bool,
    /// Give up retrying one request after this long.
    pub max_retry_time: Duration,
    /// HTTP requests in flight at once.
    pub max_concurrency: usize,
    /// Shortest wait between polls and the base of retry backoff.
    pub poll_interval_floor: Duration,
    pub user_agent: String,
    /// ARM's documented refill rates of the per-subscription token buckets (reads, writes per
    /// second): the pace of requests once a bucket runs low.
    pub refill_per_second: (f64, f64),
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            cloud: Cloud::Public,
            auth: AuthMethod::Auto,
            debug_http: false,
            max_retry_time: Duration::from_secs(30 * 60),
            max_concurrency: 16,
            poll_interval_floor: Duration::from_secs(1),
            user_agent: format!("aoai-arch/{}", env!("CARGO_PKG_VERSION")),
            refill_per_second: (25.0, 10.0),
        }
    }
}

/// A failed ARM call, with everything a user needs to act on it.
#[derive(Debug, Clone, Default)]
pub struct ArmError {
    pub resource: String,
    pub method: String,
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: String,
    pub correlation_id: Option<String>,
}

impl fmt::Display for ArmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.resource)?;
        if let Some(s) = self.status {
            write!(f, ": HTTP {s}")?;
        }
        if let Some(c) = &self.code {
            write!(f, " {c}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(c) = &self.correlation_id {
            write!(f, " (x-ms-correlation-request-id: {c})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ArmError {}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub reads: u64,
    pub writes: u64,
    pub polls: u64,
    pub retries: u64,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    auth: auth::Authenticator,
    opts: ClientOptions,
    sem: Semaphore,
    read_pacer: pace::Pacer,
    write_pacer: pace::Pacer,
    correlation: String,
    reads: AtomicU64,
    writes: AtomicU64,
    polls: AtomicU64,
    retries: AtomicU64,
}

/// Cheap to clone; share one per run.
#[derive(Clone)]
pub struct ArmClient {
    inner: Arc<Inner>,
}

struct Resp {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
    fn header(&self, k: &str) -> Option<String> {
        self.headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
    /// `retry-after-ms` / `x-ms-retry-after-ms` (milliseconds) or `Retry-After` (seconds).
    fn retry_after(&self) -> Option<Duration> {
        for k in ["retry-after-ms", "x-ms-retry-after-ms"] {
            if let Some(ms) = self.header(k).and_then(|v| v.trim().parse::<u64>().ok()) {
                return Some(Duration::from_millis(ms));
            }
        }
        self.header("retry-after")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(Duration::from_secs_f64)
    }
}

/// Errors worth another try: the provider is busy, not wrong.
fn transient(status: u16, code: &str) -> bool {
    status == 429
        || status >= 500
        || (status == 409
            && matches!(
                code,
                "RequestConflict"
                    | "AnotherOperationInProgress"
                    | "PessimisticConcurrencyConflict"
                    | "Conflict"
            ))
        || (status == 400 && matches!(code, "InvalidOperation" | "PrincipalNotFound"))
}

fn is_terminal(state: &str) -> bool {
    matches!(
        state.to_ascii_lowercase().as_str(),
        "succeeded" | "failed" | "canceled" | "cancelled"
    )
}

impl ArmClient {
    pub async fn new(opts: ClientOptions) -> Result<ArmClient, ArmError> {
        let base = opts.cloud.arm_endpoint();
        let local = base.starts_with("http://127.0.0.1")
            || base.starts_with("http://localhost")
            || base.starts_with("http://[::1]");
        if !base.starts_with("https://") && !local {
            return Err(ArmError {
                resource: base,
                method: "CONNECT".into(),
                message: "ARM endpoints must use https (plain http is allowed only for 127.0.0.1/localhost, e.g. the emulator)".into(),
                ..ArmError::default()
            });
        }
        let http = reqwest::Client::builder()
            .user_agent(opts.user_agent.clone())
            .connect_timeout(Duration::from_secs(30))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| ArmError {
                resource: base.clone(),
                method: "CONNECT".into(),
                message: e.to_string(),
                ..ArmError::default()
            })?;
        let auth = auth::Authenticator::new(&opts.auth, &opts.cloud);
        Ok(ArmClient {
            inner: Arc::new(Inner {
                http,
                base,
                auth,
                sem: Semaphore::new(opts.max_concurrency.max(1)),
                read_pacer: pace::Pacer::new(
                    opts.refill_per_second.0,
                    opts.max_concurrency.max(1) as u64,
                ),
                write_pacer: pace::Pacer::new(
                    opts.refill_per_second.1,
                    opts.max_concurrency.max(1) as u64,
                ),
                correlation: uuid::Uuid::new_v4().to_string(),
                opts,
                reads: AtomicU64::new(0),
                writes: AtomicU64::new(0),
                polls: AtomicU64::new(0),
                retries: AtomicU64::new(0),
            }),
        })
    }

    pub fn stats(&self) -> Stats {
        let i = &self.inner;
        Stats {
            reads: i.reads.load(Ordering::Relaxed),
            writes: i.writes.load(Ordering::Relaxed),
            polls: i.polls.load(Ordering::Relaxed),
            retries: i.retries.load(Ordering::Relaxed),
        }
    }

    /// The correlation id sent with every request of this client.
    pub fn correlation_id(&self) -> &str {
        &self.inner.correlation
    }

    fn url(&self, path: &str, api_version: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            return path.to_string();
        }
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{}{path}{sep}api-version={api_version}", self.inner.base)
    }

    fn err(&self, resource: &str, method: &str, r: Option<&Resp>, message: String) -> ArmError {
        let (status, code, msg, corr) = match r {
            Some(r) => {
                let v = r.json();
                let e = if v.get("error").is_some() {
                    &v["error"]
                } else {
                    &v
                };
                (
                    Some(r.status),
                    e["code"].as_str().map(str::to_string),
                    e["message"].as_str().map(str::to_string).unwrap_or(message),
                    r.header("x-ms-correlation-request-id"),
                )
            }
            None => (None, None, message, Some(self.inner.correlation.clone())),
        };
        ArmError {
            resource: resource.to_string(),
            method: method.to_string(),
            status,
            code,
            message: msg,
            correlation_id: corr,
        }
    }

    /// One HTTP exchange, no retries.
    async fn exchange(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&str>,
    ) -> Result<Resp, String> {
        let token = self.inner.auth.token().await?;
        let _permit = self.inner.sem.acquire().await.map_err(|e| e.to_string())?;
        let write = method != reqwest::Method::GET;
        let pacer = if write {
            &self.inner.write_pacer
        } else {
            &self.inner.read_pacer
        };
        let wait = pacer.reserve(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let mut req = self
            .inner
            .http
            .request(method.clone(), url)
            .bearer_auth(&token)
            .header("x-ms-correlation-request-id", &self.inner.correlation);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        if self.inner.opts.debug_http {
            eprintln!(
                "--> {method} {url}\n    authorization: Bearer [redacted]\n{}",
                body.map(redact).unwrap_or_default()
            );
        }
        let resp = req.send().await.map_err(|e| format!("{e}"))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let remaining = headers
            .get(if write {
                "x-ms-ratelimit-remaining-subscription-writes"
            } else {
                "x-ms-ratelimit-remaining-subscription-reads"
            })
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let text = resp
            .text()
            .await
            .map_err(|e| format!("reading the response: {e}"))?;
        if self.inner.opts.debug_http {
            eprintln!("<-- {status} {url}\n{}", redact(&text));
        }
        let resp = Resp {
            status,
            headers,
            body: text,
        };
        pacer.observe(Instant::now(), status, remaining, resp.retry_after());
        Ok(resp)
    }

    /// An exchange with retries for throttling, server errors, dropped connections and transient
    /// conflicts, bounded by `max_retry_time`. PUT and DELETE are idempotent in ARM, so sending
    /// them again after a connection dropped mid-request is safe.
    async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&str>,
        resource: &str,
    ) -> Result<Resp, ArmError> {
        let start = Instant::now();
        let floor = self.inner.opts.poll_interval_floor;
        let mut attempt: u32 = 0;
        loop {
            let outcome = self.exchange(method.clone(), url, body).await;
            let (wait_hint, last) = match &outcome {
                Ok(r) => {
                    let code = r.json()["error"]["code"].as_str().unwrap_or("").to_string();
                    if !transient(r.status, &code) {
                        return outcome.map_err(|m| self.err(resource, method.as_str(), None, m));
                    }
                    (r.retry_after(), format!("HTTP {} {code}", r.status))
                }
                Err(m) if m.starts_with("authentication:") => {
                    return Err(self.err(resource, method.as_str(), None, m.clone()));
                }
                Err(m) => (None, m.clone()),
            };
            attempt += 1;
            // Exponential backoff with full jitter, never shorter than the server asked.
            let cap = floor
                .saturating_mul(1u32 << attempt.min(6))
                .min(Duration::from_secs(60));
            let jitter = Duration::from_secs_f64(
                rand::thread_rng().gen_range(0.0..=cap.as_secs_f64().max(0.001)),
            );
            let wait = wait_hint
                .map(|h| h.max(jitter / 4))
                .unwrap_or(jitter.max(floor / 2));
            if start.elapsed() + wait > self.inner.opts.max_retry_time {
                return match outcome {
                    Ok(r) => Err(self.err(
                        resource,
                        method.as_str(),
                        Some(&r),
                        format!("gave up after {attempt} attempts: {last}"),
                    )),
                    Err(m) => Err(self.err(
                        resource,
                        method.as_str(),
                        None,
                        format!("gave up after {attempt} attempts: {m}"),
                    )),
                };
            }
            self.inner.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        }
    }

    /// The result of a long-running operation that succeeded: nothing for a DELETE, the resource
    /// as it now is for a PUT.
    async fn after_success(&self, method: &str, id: &str, api: &str) -> Result<Value, ArmError> {
        if method == "DELETE" {
            return Ok(Value::Null);
        }
        self.get(id, api).await?.ok_or_else(|| {
            self.err(
                id,
                "GET",
                None,
                "the operation succeeded but the resource is not there".into(),
            )
        })
    }

    /// Get a token once, before any request, so that a missing sign-in is reported once (with
    /// every credential tried) instead of once per resource.
    pub async fn sign_in(&self) -> Result<(), ArmError> {
        self.inner
            .auth
            .token()
            .await
            .map(|_| ())
            .map_err(|m| self.err("(sign-in)", "TOKEN", None, m))
    }

    /// The shortest wait between two polls (1 s against Azure, less for a local emulator).
    pub fn poll_interval_floor(&self) -> Duration {
        self.inner.opts.poll_interval_floor
    }

    /// GET a resource; `None` when it does not exist.
    pub async fn get(&self, id: &str, api_version: &str) -> Result<Option<Value>, ArmError> {
        self.inner.reads.fetch_add(1, Ordering::Relaxed);
        let r = self
            .call(reqwest::Method::GET, &self.url(id, api_version), None, id)
            .await?;
        match r.status {
            200 => Ok(Some(r.json())),
            404 => Ok(None),
            _ => Err(self.err(id, "GET", Some(&r), format!("unexpected HTTP {}", r.status))),
        }
    }

    /// PUT a JSON value (serialised compactly) and wait for the operation.
    pub async fn put(
        &self,
        id: &str,
        api_version: &str,
        body: &Value,
        progress: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<Value, ArmError> {
        let text = serde_json::to_string(body).unwrap_or_default();
        self.put_text(id, api_version, &text, progress).await
    }

    /// PUT these exact body bytes and wait for the operation; returns the final resource.
    pub async fn put_text(
        &self,
        id: &str,
        api_version: &str,
        body: &str,
        progress: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<Value, ArmError> {
        self.inner.writes.fetch_add(1, Ordering::Relaxed);
        let r = self
            .call(
                reqwest::Method::PUT,
                &self.url(id, api_version),
                Some(body),
                id,
            )
            .await?;
        if !(200..300).contains(&r.status) {
            return Err(self.err(id, "PUT", Some(&r), format!("unexpected HTTP {}", r.status)));
        }
        self.complete(id, api_version, "PUT", r, progress).await
    }

    /// DELETE and wait; a resource that is already gone is success.
    pub async fn delete(&self, id: &str, api_version: &str) -> Result<(), ArmError> {
        self.inner.writes.fetch_add(1, Ordering::Relaxed);
        let r = self
            .call(
                reqwest::Method::DELETE,
                &self.url(id, api_version),
                None,
                id,
            )
            .await?;
        match r.status {
            200 | 204 | 404 => Ok(()),
            201 | 202 => self
                .complete(id, api_version, "DELETE", r, &|_: &str| {})
                .await
                .map(|_| ()),
            _ => Err(self.err(
                id,
                "DELETE",
                Some(&r),
                format!("unexpected HTTP {}", r.status),
            )),
        }
    }

    /// GET a collection, following `nextLink`.
    pub async fn list(&self, collection: &str, api_version: &str) -> Result<Vec<Value>, ArmError> {
        let mut out = Vec::new();
        let mut url = self.url(collection, api_version);
        loop {
            self.inner.reads.fetch_add(1, Ordering::Relaxed);
            let r = self
                .call(reqwest::Method::GET, &url, None, collection)
                .await?;
            if r.status != 200 {
                return Err(self.err(
                    collection,
                    "GET",
                    Some(&r),
                    format!("unexpected HTTP {}", r.status),
                ));
            }
            let v = r.json();
            if let Some(items) = v["value"].as_array() {
                out.extend(items.iter().cloned());
            }
            match v["nextLink"].as_str() {
                Some(next) if !next.is_empty() => url = next.to_string(),
                _ => return Ok(out),
            }
        }
    }

    fn poll_wait(&self, r: &Resp) -> Duration {
        // Without a hint, poll every 10 s against Azure (or at the floor when it is shorter,
        // as for the emulator); never faster than the floor.
        let floor = self.inner.opts.poll_interval_floor;
        let default = if floor < Duration::from_secs(1) {
            floor
        } else {
            Duration::from_secs(10)
        };
        r.retry_after().unwrap_or(default).max(floor)
    }

    /// Follow a long-running operation to its end.
    async fn complete(
        &self,
        id: &str,
        api: &str,
        method: &str,
        first: Resp,
        progress: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<Value, ArmError> {
        let state = |v: &Value| {
            v["properties"]["provisioningState"]
                .as_str()
                .map(str::to_string)
        };
        if let Some(op_url) = first.header("azure-asyncoperation") {
            let mut wait = self.poll_wait(&first);
            if let Some(s) = state(&first.json()) {
                progress(&s);
            }
            loop {
                tokio::time::sleep(wait).await;
                self.inner.polls.fetch_add(1, Ordering::Relaxed);
                let r = self.call(reqwest::Method::GET, &op_url, None, id).await?;
                let v = r.json();
                let status = v["status"].as_str().unwrap_or("InProgress").to_string();
                if is_terminal(&status) {
                    if !status.eq_ignore_ascii_case("succeeded") {
                        let e = &v["error"];
                        return Err(ArmError {
                            resource: id.into(),
                            method: method.into(),
                            status: Some(r.status),
                            code: e["code"]
                                .as_str()
                                .map(str::to_string)
                                .or(Some(status.clone())),
                            message: e["message"]
                                .as_str()
                                .unwrap_or("the operation did not succeed")
                                .to_string(),
                            correlation_id: r.header("x-ms-correlation-request-id"),
                        });
                    }
                    return self.after_success(method, id, api).await;
                }
                progress(&status);
                wait = self.poll_wait(&r);
            }
        }
        if first.status == 202 {
            let Some(mut loc) = first.header("location") else {
                return Err(self.err(
                    id,
                    method,
                    Some(&first),
                    "202 Accepted without a Location header".into(),
                ));
            };
            let mut wait = self.poll_wait(&first);
            progress("Accepted");
            loop {
                tokio::time::sleep(wait).await;
                self.inner.polls.fetch_add(1, Ordering::Relaxed);
                let r = self.call(reqwest::Method::GET, &loc, None, id).await?;
                match r.status {
                    202 => {
                        if let Some(l) = r.header("location") {
                            loc = l;
                        }
                        wait = self.poll_wait(&r);
                        progress("InProgress");
                    }
                    200 | 201 | 204 => {
                        return self.after_success(method, id, api).await;
                    }
                    _ => {
                        return Err(self.err(
                            id,
                            method,
                            Some(&r),
                            format!("the operation failed with HTTP {}", r.status),
                        ))
                    }
                }
            }
        }
        // Synchronous, or a provisioning state to watch on the resource itself.
        let mut v = first.json();
        loop {
            match state(&v) {
                Some(s) if !is_terminal(&s) => {
                    progress(&s);
                    tokio::time::sleep(self.poll_wait(&first)).await;
                    self.inner.polls.fetch_add(1, Ordering::Relaxed);
                    v = self.get(id, api).await?.unwrap_or(Value::Null);
                }
                Some(s) if !s.eq_ignore_ascii_case("succeeded") => {
                    return Err(self.err(
                        id,
                        method,
                        None,
                        format!("provisioning ended in state {s}"),
                    ));
                }
                _ => return Ok(v),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_codes() {
        assert!(transient(429, ""));
        assert!(transient(503, ""));
        assert!(transient(409, "PessimisticConcurrencyConflict"));
        assert!(transient(400, "PrincipalNotFound"));
        assert!(!transient(400, "InvalidRequestContent"));
        assert!(!transient(409, "RoleAssignmentExists"));
    }

    #[test]
    fn error_display_names_everything() {
        let e = ArmError {
            resource: "/subscriptions/s/x".into(),
            method: "PUT".into(),
            status: Some(400),
            code: Some("InvalidRequestContent".into()),
            message: "bad".into(),
            correlation_id: Some("c-1".into()),
        };
        assert_eq!(e.to_string(), "PUT /subscriptions/s/x: HTTP 400 InvalidRequestContent: bad (x-ms-correlation-request-id: c-1)");
    }
}
