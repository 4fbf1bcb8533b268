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

pub use auth::{AuthMethod, MANAGED_IDENTITY_PROBE};
pub use redact::{redact, terminal_safe};

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
    /// Give up retrying one request after this long (throttling, server errors, dropped
    /// connections, transient conflicts).
    pub max_retry_time: Duration,
    /// Give up when ARM cannot be reached or does not answer as ARM for this long: connection
    /// refused, DNS, TLS, connect timeout, no answer (see [`ANSWER_TIMEOUT`]), a connection
    /// reset or dropped before the answer, and answers that are not ARM's (not HTTP, or a body
    /// that is not JSON, such as a proxy's HTML error page). A wrong, unreachable or silent
    /// endpoint is an error within this time, not after `max_retry_time`; any answer from ARM
    /// starts the budget again. Each connection attempt is also cut off after
    /// [`CONNECT_TIMEOUT`], and each wait for an answer after [`ANSWER_TIMEOUT`] (or this
    /// budget, if shorter).
    pub connect_budget: Duration,
    /// HTTP requests in flight at once.
    pub max_concurrency: usize,
    /// Shortest wait between polls and the base of retry backoff.
    pub poll_interval_floor: Duration,
    pub user_agent: String,
    /// ARM's documented refill rates of the per-subscription token buckets (reads, writes per
    /// second): the pace of requests once a bucket runs low.
    pub refill_per_second: (f64, f64),
}

/// How long ARM may stay unreachable before a run gives up, by default. With
/// [`CONNECT_TIMEOUT`] per attempt, an unreachable endpoint is an error within 50 s.
pub const DEFAULT_CONNECT_BUDGET: Duration = Duration::from_secs(40);

/// The longest one connection attempt may take (TCP and TLS handshakes).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest one request waits for ARM's whole answer once connected (or the connect budget,
/// if shorter). ARM answers synchronous requests within seconds and long-running ones at once
/// with 201/202 and a URL to poll.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// While a request waits for an answer, a notice every this long.
const NOTICE_EVERY: Duration = Duration::from_secs(10);

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            cloud: Cloud::Public,
            auth: AuthMethod::Auto,
            debug_http: false,
            max_retry_time: Duration::from_secs(30 * 60),
            connect_budget: DEFAULT_CONNECT_BUDGET,
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

/// Why one exchange produced no answer from ARM. Both kinds but `Auth` count towards the
/// connect budget.
enum Failed {
    /// No token: never retried.
    Auth(String),
    /// ARM could not be reached: no connection (refused, DNS, TLS, connect timeout).
    Connect(String),
    /// Connected, but no answer from ARM: none in time, the connection reset or dropped, a
    /// reply that is not HTTP, or one whose body is not ARM's JSON (a proxy's HTML page).
    NoAnswer(String),
    /// The connect budget was spent while this request waited for its turn: not sent.
    GaveUp(String),
}

/// ARM's reachability, shared by every request of a client: when the first connection failure
/// in a row happened, and once the connect budget is spent, the error every request gets
/// without trying again.
#[derive(Default)]
struct Reach {
    failing_since: Option<Instant>,
    last_notice: Option<Instant>,
    attempts: u64,
    last_error: String,
    gave_up: Option<String>,
}

/// An error and its causes on one line: reqwest's "error sending request" says nothing of why.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = c.source();
    }
    out
}

/// The innermost cause: for a connection failure, the one line that says why ("Connection
/// refused (os error 111)", a DNS or certificate error), without the URL, which the message
/// names already.
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cur = e;
    while let Some(c) = cur.source() {
        cur = c;
    }
    cur.to_string()
}

/// What makes an answer not ARM's, if anything: ARM's bodies are JSON (or empty). A proxy's or
/// load balancer's HTML error page, or bytes that are not JSON, are not an answer from ARM.
fn not_arm(headers: &reqwest::header::HeaderMap, body: &str) -> Option<String> {
    let body = body.trim();
    if body.is_empty() || serde_json::from_str::<Value>(body).is_ok() {
        return None;
    }
    let kind = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    Some(if kind.contains("html") || body.starts_with('<') {
        "an HTML page".to_string()
    } else if kind.is_empty() {
        format!("a body of {} bytes that is not JSON", body.len())
    } else {
        format!("a {kind} body that is not JSON")
    })
}

/// Whether `url` is on the ARM endpoint `base` (same scheme, host and port). URLs from
/// responses (`Azure-AsyncOperation`, `Location`, `nextLink`) are followed with the bearer
/// token, so one naming another host would hand it the token.
fn same_origin(base: &str, url: &str) -> bool {
    match (reqwest::Url::parse(base), reqwest::Url::parse(url)) {
        (Ok(b), Ok(u)) => b.origin() == u.origin(),
        _ => false,
    }
}

struct Inner {
    http: reqwest::Client,
    reach: std::sync::Mutex<Reach>,
    /// Held by the one request that tries to connect while ARM cannot be reached.
    probe: tokio::sync::Mutex<()>,
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

/// The host of an endpoint URL when it is a loopback address (127.0.0.0/8, ::1) or `localhost`.
/// The URL is parsed, not prefix-matched: in `http://127.0.0.1@192.0.2.2:80` the host is
/// 192.0.2.2 (`127.0.0.1` is a user name), so it is not loopback.
fn loopback_host(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether `url` is an http(s) URL whose host is loopback (a local emulator): such an endpoint
/// may use plain http and gets no Azure sign-in.
pub fn is_loopback(url: &str) -> bool {
    reqwest::Url::parse(url)
        .map(|u| matches!(u.scheme(), "http" | "https") && loopback_host(&u))
        .unwrap_or(false)
}

/// An ARM endpoint must be an absolute https URL without user info; plain http is allowed only
/// to a loopback host. The error says which rule the URL breaks.
pub fn check_endpoint(url: &str) -> Result<(), String> {
    let u = reqwest::Url::parse(url)
        .map_err(|e| format!("the ARM endpoint {url:?} is not a valid URL: {e}"))?;
    if !u.username().is_empty() || u.password().is_some() {
        return Err(format!(
            "the ARM endpoint {url:?} contains user info (`...@`); its host is {}, not what precedes the `@`: remove the user info",
            u.host_str().unwrap_or("")
        ));
    }
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback_host(&u) => Ok(()),
        "http" => Err(format!(
            "the ARM endpoint {url:?} uses plain http to {}, which is not a loopback address: use https (plain http is allowed only to 127.0.0.1, ::1 or localhost, e.g. the emulator)",
            u.host_str().unwrap_or("")
        )),
        other => Err(format!(
            "the ARM endpoint {url:?} has scheme {other:?}: use https (or http to a loopback address)"
        )),
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
        let raw = opts.cloud.arm_endpoint();
        if let Err(message) = check_endpoint(&raw) {
            return Err(ArmError {
                resource: raw,
                method: "CONNECT".into(),
                message,
                ..ArmError::default()
            });
        }
        // As the URL parser writes it: control characters in a path percent-encoded, so the
        // endpoint is safe to print.
        let base = reqwest::Url::parse(&raw)
            .map(|u| u.as_str().trim_end_matches('/').to_string())
            .unwrap_or(raw);
        let http = reqwest::Client::builder()
            .user_agent(opts.user_agent.clone())
            .connect_timeout(
                CONNECT_TIMEOUT.min(opts.connect_budget.max(Duration::from_millis(100))),
            )
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
                reach: std::sync::Mutex::new(Reach::default()),
                probe: tokio::sync::Mutex::new(()),
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
    ) -> Result<Resp, Failed> {
        let token = self.inner.auth.token().await.map_err(Failed::Auth)?;
        let _permit = self
            .inner
            .sem
            .acquire()
            .await
            .map_err(|e| Failed::NoAnswer(e.to_string()))?;
        // The budget may have been spent while this request waited for a permit.
        if let Err(e) = self.unreachable() {
            return Err(Failed::GaveUp(e));
        }
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
            let trace = format!(
                "--> {method} {url}\n    authorization: Bearer [redacted]\n{}",
                body.map(redact).unwrap_or_default()
            );
            eprintln!("{}", terminal_safe(&trace));
        }
        let limit = ANSWER_TIMEOUT.min(self.inner.opts.connect_budget.max(Duration::from_secs(1)));
        let answer = async {
            let resp = req.send().await.map_err(|e| {
                if e.is_connect() {
                    Failed::Connect(root_cause(&e))
                } else {
                    Failed::NoAnswer(chain(&e))
                }
            })?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let text = resp
                .text()
                .await
                .map_err(|e| Failed::NoAnswer(format!("reading the answer: {}", chain(&e))))?;
            Ok((status, headers, text))
        };
        let (status, headers, text) = self.within(limit, &method, url, answer).await?;
        let remaining = headers
            .get(if write {
                "x-ms-ratelimit-remaining-subscription-writes"
            } else {
                "x-ms-ratelimit-remaining-subscription-reads"
            })
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if self.inner.opts.debug_http {
            let trace = format!("<-- {status} {url}\n{}", redact(&text));
            eprintln!("{}", terminal_safe(&trace));
        }
        if let Some(what) = not_arm(&headers, &text) {
            return Err(Failed::NoAnswer(format!(
                "HTTP {status} with {what}, not an answer from ARM"
            )));
        }
        let resp = Resp {
            status,
            headers,
            body: text,
        };
        pacer.observe(Instant::now(), status, remaining, resp.retry_after());
        Ok(resp)
    }

    /// Wait for `answer` at most `limit`, with a notice on stderr every [`NOTICE_EVERY`]
    /// (at most one per client in that time) while it has not come.
    async fn within<T>(
        &self,
        limit: Duration,
        method: &reqwest::Method,
        url: &str,
        answer: impl std::future::Future<Output = Result<T, Failed>>,
    ) -> Result<T, Failed> {
        let started = Instant::now();
        tokio::pin!(answer);
        loop {
            let left = limit.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(Failed::NoAnswer(format!(
                    "no answer within {:.0} s",
                    limit.as_secs_f64()
                )));
            }
            match tokio::time::timeout(left.min(NOTICE_EVERY), &mut answer).await {
                Ok(r) => return r,
                Err(_) if started.elapsed() < limit => {
                    let mut reach = self.inner.reach.lock().unwrap_or_else(|p| p.into_inner());
                    let now = Instant::now();
                    if reach.last_notice.is_none_or(|t| now - t >= NOTICE_EVERY) {
                        reach.last_notice = Some(now);
                        let notice = format!(
                            "no answer yet from ARM at {} ({method} {}) after {:.0} s; waiting up to {:.0} s",
                            self.inner.base,
                            url.split('?').next().unwrap_or(url).trim_start_matches(&self.inner.base),
                            started.elapsed().as_secs_f64(),
                            limit.as_secs_f64()
                        );
                        eprintln!("{}", terminal_safe(&notice));
                    }
                }
                Err(_) => {}
            }
        }
    }

    /// While ARM cannot be reached, requests take turns (one connection attempt at a time, see
    /// `probe`), and once the connect budget is spent every request gets the same error without
    /// trying again.
    fn unreachable(&self) -> Result<bool, String> {
        let budget = self.inner.opts.connect_budget;
        let mut reach = self.inner.reach.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = &reach.gave_up {
            return Err(e.clone());
        }
        let Some(since) = reach.failing_since else {
            return Ok(false);
        };
        let elapsed = since.elapsed();
        if elapsed >= budget {
            let e = format!(
                "cannot reach ARM at {}: {} ({} attempts without an answer over {:.1} s; the limit is {} s, --connect-budget)",
                self.inner.base,
                reach.last_error,
                reach.attempts,
                elapsed.as_secs_f64(),
                budget.as_secs_f64()
            );
            reach.gave_up = Some(e.clone());
            return Err(e);
        }
        Ok(true)
    }

    /// Account for an attempt that got no answer from ARM (sent at `sent`: the time it waited
    /// counts), say so on stderr (when it starts, then every 10 s), and return how long to
    /// wait before the next attempt: exponential in the attempts of the whole client, never
    /// past the end of the budget.
    fn connect_failed(&self, why: &str, sent: Instant) -> Duration {
        let budget = self.inner.opts.connect_budget;
        let mut reach = self.inner.reach.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let since = *reach.failing_since.get_or_insert(sent);
        reach.attempts += 1;
        reach.last_error = why.to_string();
        let left = budget.saturating_sub(now - since);
        if reach
            .last_notice
            .is_none_or(|t| now - t >= Duration::from_secs(10))
        {
            reach.last_notice = Some(now);
            let notice = format!(
                "cannot reach ARM at {}: {why}; retrying for up to {:.0} s more",
                self.inner.base,
                left.as_secs_f64().ceil()
            );
            eprintln!("{}", terminal_safe(&notice));
        }
        let cap = self
            .inner
            .opts
            .poll_interval_floor
            .saturating_mul(1u32 << reach.attempts.min(8))
            .min(Duration::from_secs(8));
        let wait = Duration::from_secs_f64(
            rand::thread_rng().gen_range(cap.as_secs_f64() / 2.0..=cap.as_secs_f64()),
        );
        wait.min(left)
    }

    fn reached(&self) {
        let mut reach = self.inner.reach.lock().unwrap_or_else(|p| p.into_inner());
        if reach.failing_since.is_some() {
            *reach = Reach::default();
        }
    }

    /// An exchange with retries for throttling, server errors, dropped connections and transient
    /// conflicts, bounded by `max_retry_time`; when ARM cannot be reached at all, bounded by
    /// `connect_budget` instead. PUT and DELETE are idempotent in ARM, so sending them again
    /// after a connection dropped mid-request is safe.
    async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&str>,
        resource: &str,
    ) -> Result<Resp, ArmError> {
        if !same_origin(&self.inner.base, url) {
            return Err(self.err(
                resource,
                method.as_str(),
                None,
                format!(
                    "refusing to send the ARM token to {} (a URL from an ARM response); ARM is {}",
                    url.split(['?', '#']).next().unwrap_or(url),
                    self.inner.base
                ),
            ));
        }
        let start = Instant::now();
        let floor = self.inner.opts.poll_interval_floor;
        let mut attempt: u32 = 0;
        loop {
            let failing = self
                .unreachable()
                .map_err(|e| self.err(resource, method.as_str(), None, e))?;
            // One request at a time probes an endpoint that does not answer; the others wait
            // for its outcome instead of each retrying on its own.
            let _probe = if failing {
                let guard = self.inner.probe.lock().await;
                self.unreachable()
                    .map_err(|e| self.err(resource, method.as_str(), None, e))?;
                Some(guard)
            } else {
                None
            };
            let sent = Instant::now();
            let outcome = self.exchange(method.clone(), url, body).await;
            let (wait_hint, last) = match &outcome {
                Ok(r) => {
                    self.reached();
                    let code = r.json()["error"]["code"].as_str().unwrap_or("").to_string();
                    if !transient(r.status, &code) {
                        let Ok(r) = outcome else { unreachable!() };
                        return Ok(r);
                    }
                    (r.retry_after(), format!("HTTP {} {code}", r.status))
                }
                Err(Failed::Auth(m) | Failed::GaveUp(m)) => {
                    return Err(self.err(resource, method.as_str(), None, m.clone()));
                }
                Err(Failed::Connect(m) | Failed::NoAnswer(m)) => {
                    let wait = self.connect_failed(m, sent);
                    self.inner.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(wait).await;
                    continue;
                }
            };
            drop(_probe);
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
                    Err(_) => Err(self.err(
                        resource,
                        method.as_str(),
                        None,
                        format!("gave up after {attempt} attempts: {last}"),
                    )),
                };
            }
            self.inner.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        }
    }

    /// The result of a long-running operation that reported success: nothing for a DELETE, the
    /// resource as it now is for a PUT. Converged means Succeeded: whatever the operation said
    /// (a `Location` poll ends with 200 whatever became of the resource), a resource whose
    /// provisioning state ended Failed or Canceled is a failure, and one still provisioning is
    /// watched until its state ends.
    async fn after_success(&self, method: &str, id: &str, api: &str) -> Result<Value, ArmError> {
        if method == "DELETE" {
            return Ok(Value::Null);
        }
        let mut doc = self.get(id, api).await?.ok_or_else(|| {
            self.err(
                id,
                "GET",
                None,
                "the operation succeeded but the resource is not there".into(),
            )
        })?;
        let start = Instant::now();
        loop {
            let state = doc["properties"]["provisioningState"]
                .as_str()
                .map(str::to_string);
            match state {
                Some(s) if !is_terminal(&s) && start.elapsed() < self.inner.opts.max_retry_time => {
                    tokio::time::sleep(self.poll_interval_floor().max(Duration::from_millis(20)))
                        .await;
                    self.inner.polls.fetch_add(1, Ordering::Relaxed);
                    doc = self.get(id, api).await?.unwrap_or(Value::Null);
                }
                Some(s) if !s.eq_ignore_ascii_case("succeeded") => {
                    let how = if is_terminal(&s) { "ended" } else { "is still" };
                    return Err(self.err(
                        id,
                        method,
                        None,
                        format!("the operation reported done, but the resource's provisioning {how} in state {s}"),
                    ));
                }
                _ => return Ok(doc),
            }
        }
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

    /// PUT a JSON value and return as soon as ARM has accepted it (2xx), without following the
    /// operation it starts: for a write whose effect is the resource document itself (the apply
    /// lock's tags), not what provisioning makes of it.
    pub async fn put_accepted(
        &self,
        id: &str,
        api_version: &str,
        body: &Value,
    ) -> Result<(), ArmError> {
        self.inner.writes.fetch_add(1, Ordering::Relaxed);
        let text = serde_json::to_string(body).unwrap_or_default();
        let r = self
            .call(
                reqwest::Method::PUT,
                &self.url(id, api_version),
                Some(&text),
                id,
            )
            .await?;
        if !(200..300).contains(&r.status) {
            return Err(self.err(id, "PUT", Some(&r), format!("unexpected HTTP {}", r.status)));
        }
        Ok(())
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

    /// POST a read-only action (a name availability check) and return its JSON answer. It
    /// changes nothing in Azure, so it is counted as a read.
    pub async fn post_action(
        &self,
        path: &str,
        api_version: &str,
        body: &Value,
    ) -> Result<Value, ArmError> {
        self.inner.reads.fetch_add(1, Ordering::Relaxed);
        let text = serde_json::to_string(body).unwrap_or_default();
        let r = self
            .call(
                reqwest::Method::POST,
                &self.url(path, api_version),
                Some(&text),
                path,
            )
            .await?;
        if r.status != 200 {
            return Err(self.err(
                path,
                "POST",
                Some(&r),
                format!("unexpected HTTP {}", r.status),
            ));
        }
        Ok(r.json())
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
    fn defaults_fail_fast_on_connections_and_wait_long_for_throttling() {
        let o = ClientOptions::default();
        assert_eq!(o.connect_budget, Duration::from_secs(40));
        assert_eq!(CONNECT_TIMEOUT, Duration::from_secs(10));
        // An unreachable endpoint is an error in under a minute, attempt included.
        assert!(o.connect_budget + CONNECT_TIMEOUT < Duration::from_secs(60));
        assert_eq!(o.max_retry_time, Duration::from_secs(30 * 60));
    }

    #[test]
    fn response_urls_must_stay_on_the_arm_endpoint() {
        let base = "https://management.azure.com";
        assert!(same_origin(
            base,
            "https://management.azure.com/subscriptions/s/x?api-version=1"
        ));
        assert!(same_origin(base, "https://MANAGEMENT.azure.com:443/op"));
        assert!(!same_origin(base, "https://evil.example/subscriptions/s"));
        assert!(!same_origin(base, "http://management.azure.com/op"));
        assert!(!same_origin(
            base,
            "https://management.azure.com.evil.example/op"
        ));
        assert!(!same_origin(
            base,
            "https://management.azure.com@evil.example/op"
        ));
        assert!(same_origin(
            "http://127.0.0.1:8443",
            "http://127.0.0.1:8443/op"
        ));
        assert!(!same_origin(
            "http://127.0.0.1:8443",
            "http://127.0.0.1:8444/op"
        ));
    }

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
    fn loopback_is_the_parsed_host() {
        for yes in [
            "http://127.0.0.1:8443",
            "http://127.0.0.2/",
            "http://[::1]:1",
            "http://localhost:80",
            "http://LOCALHOST./",
            "https://127.0.0.1",
        ] {
            assert!(is_loopback(yes), "{yes}");
            assert!(check_endpoint(yes).is_ok(), "{yes}");
        }
        for no in [
            "http://127.0.0.1@192.0.2.2:80",
            "http://127.0.0.1.example.com/",
            "http://localhost.example.com/",
            "http://192.0.2.2",
            "http://[::ffff:c000:202]/",
            "127.0.0.1:80",
            "file:///127.0.0.1",
        ] {
            assert!(!is_loopback(no), "{no}");
        }
        assert!(check_endpoint("https://management.azure.com").is_ok());
        assert!(check_endpoint("http://127.0.0.1@192.0.2.2:80").is_err());
        assert!(check_endpoint("https://user:pw@management.azure.com").is_err());
        assert!(check_endpoint("http://management.azure.com").is_err());
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
