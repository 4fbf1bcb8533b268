//! A local Azure Resource Manager for the resource types aoai-arch writes: the real protocol
//! (routing, error envelopes, both long-running-operation styles, throttling) and the resource
//! providers' quirks that break naive deployment tools, on a virtual clock that can run faster
//! than Azure. It listens on 127.0.0.1 only.

pub mod capabilities;
mod engine;
mod preflight;
mod providers;
mod server;
mod soft_delete;
pub mod types;

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

pub use types::provisioning_duration;

/// Suggested poll interval (`Retry-After`, virtual time) of a type's long-running operations.
pub fn poll_interval(resource_type: &str) -> Duration {
    Duration::from_secs_f64(engine::poll_interval(&resource_type.to_lowercase()))
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Divide Azure's durations by this: 1.0 = real time, 1000.0 = a thousand times faster.
    pub time_scale: f64,
    pub faults: FaultSpec,
    pub seed: u64,
    /// Load state from and save it to this file.
    pub state_file: Option<PathBuf>,
    /// Added to every response (benchmarks of read latency).
    pub latency: Duration,
    /// Print a line per request to stderr (the standalone emulator); the in-memory log is
    /// always kept.
    pub log_requests: bool,
    /// Items per page of a list (`nextLink` to the next page); `None`: one page.
    pub page_size: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            time_scale: 1.0,
            faults: FaultSpec::default(),
            seed: 0,
            state_file: None,
            latency: Duration::ZERO,
            log_requests: true,
            page_size: None,
        }
    }
}

/// Shares of requests that fail on purpose, e.g. `429=0.05,500=0.02,503=0.02,drop=0.01,slow=0.05,lro-fail=0.02`.
/// `location-failed` is the share of `Location`-style operations (202 + Location) whose poll
/// ends 200 while the resource ends with `provisioningState: Failed`, as Azure reports some
/// provider failures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSpec {
    pub throttle: f64,
    pub server_error: f64,
    pub unavailable: f64,
    pub drop: f64,
    pub slow: f64,
    pub lro_fail: f64,
    pub location_failed: f64,
    /// The share of approvals (PUT of a private endpoint connection) whose connection is
    /// dropped before the emulator handles them: nothing approved, no answer. With 1, an apply
    /// stays at its first approval until it gives up or is killed.
    pub drop_approvals: f64,
}

impl FromStr for FaultSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut f = FaultSpec::default();
        let s = s.trim();
        if s.is_empty() || s == "none" {
            return Ok(f);
        }
        for part in s.split(',') {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}`: expected KIND=SHARE, e.g. 429=0.05"))?;
            let share: f64 = v
                .trim()
                .parse()
                .map_err(|_| format!("`{v}` is not a number between 0 and 1"))?;
            if !(0.0..=1.0).contains(&share) {
                return Err(format!("`{v}` is not a number between 0 and 1"));
            }
            match k.trim() {
                "429" => f.throttle = share,
                "500" => f.server_error = share,
                "503" => f.unavailable = share,
                "drop" => f.drop = share,
                "slow" => f.slow = share,
                "lro-fail" => f.lro_fail = share,
                "location-failed" => f.location_failed = share,
                "drop-approvals" => f.drop_approvals = share,
                other => {
                    return Err(format!(
                        "unknown fault `{other}` (known: 429, 500, 503, drop, slow, lro-fail, location-failed, drop-approvals)"
                    ))
                }
            }
        }
        if f.throttle + f.server_error + f.unavailable + f.drop + f.slow > 1.0 {
            return Err("the shares add up to more than 1".into());
        }
        Ok(f)
    }
}

/// One request as the emulator saw it.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub api_version: Option<String>,
    pub status: u16,
    pub start_ms: f64,
    pub duration_ms: f64,
    /// Lower-case resource id for resource requests.
    pub resource_id: Option<String>,
    /// A poll of an operation status / result.
    pub is_poll: bool,
    /// For a poll: the lower-case id of the resource whose operation it polls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_of: Option<String>,
    /// The request's `x-ms-correlation-request-id`: aoai-arch sends one per run, so the log
    /// tells which run sent what.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation: Option<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    pub requests: usize,
    pub reads: usize,
    pub writes: usize,
    pub polls: usize,
    /// `"PUT 201"` -> count.
    pub by_method_status: std::collections::BTreeMap<String, usize>,
}

pub fn summarize(log: &[LogEntry]) -> Summary {
    let mut s = Summary::default();
    for e in log {
        s.requests += 1;
        if e.is_poll {
            s.polls += 1;
        } else if e.method == "GET" || e.method == "HEAD" || read_only_action(&e.path) {
            s.reads += 1;
        } else {
            s.writes += 1;
        }
        *s.by_method_status
            .entry(format!("{} {}", e.method, e.status))
            .or_default() += 1;
    }
    s
}

/// POST actions that only read (name availability checks): counted as reads, as they change
/// nothing.
pub fn read_only_action(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or("").to_lowercase();
    last.starts_with("check") && last.ends_with("availability")
}

/// A running emulator.
pub struct Running {
    url: String,
    engine: Arc<Mutex<engine::Engine>>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn url(&self) -> String {
        self.url.clone()
    }
    pub fn log(&self) -> Vec<LogEntry> {
        self.engine
            .lock()
            .map(|e| e.log.clone())
            .unwrap_or_default()
    }
    pub fn summary(&self) -> Summary {
        summarize(&self.log())
    }
    /// How long each resource's last write took to provision, in real time (virtual seconds
    /// divided by the time scale): the weights of a critical-path computation.
    pub fn durations(&self) -> HashMap<String, Duration> {
        self.engine
            .lock()
            .map(|e| {
                let scale = e.config.time_scale.max(f64::MIN_POSITIVE);
                e.durations
                    .iter()
                    .map(|(k, v)| (k.clone(), Duration::from_secs_f64(v / scale)))
                    .collect()
            })
            .unwrap_or_default()
    }
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
        server::save_state(&self.engine);
    }
}

/// Start serving on 127.0.0.1:`port` (0 = any free port).
pub async fn start(config: Config, port: u16) -> anyhow::Result<Running> {
    server::start(config, port).await
}
