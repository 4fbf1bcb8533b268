//! Where plan/apply send their requests: Azure (any cloud, any credential) or the ARM emulator,
//! in-process or already running.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use arm_client::{ArmClient, AuthMethod, ClientOptions, Cloud};

pub struct TargetOptions {
    pub emulator: bool,
    pub emulator_state: Option<PathBuf>,
    pub time_scale: f64,
    pub faults: String,
    pub seed: u64,
    pub auth: AuthMethod,
    pub cloud: Cloud,
    pub concurrency: usize,
    pub debug: bool,
    /// How long ARM may be unreachable before the run fails; `None`: the client's default.
    pub connect_budget: Option<Duration>,
    /// How plan reads live state.
    pub read_mode: crate::engine::collections::Mode,
}

pub struct Target {
    pub client: ArmClient,
    pub concurrency: usize,
    /// For the confirmation prompt: "Azure (public cloud)", "the in-process ARM emulator", ...
    pub description: String,
    pub read_mode: crate::engine::collections::Mode,
    emulator: Option<arm_emulator::Running>,
}

impl Target {
    /// Stop the in-process emulator (saving its state file, if any).
    pub async fn close(self) {
        if let Some(e) = self.emulator {
            e.shutdown().await;
        }
    }
}

pub async fn connect(o: &TargetOptions) -> Result<Target> {
    let mut emulator = None;
    let (cloud, auth, description, poll_floor) = if o.emulator {
        let config = arm_emulator::Config {
            time_scale: o.time_scale,
            faults: o
                .faults
                .parse()
                .map_err(|e| anyhow::anyhow!("--faults: {e}"))?,
            seed: o.seed,
            state_file: o.emulator_state.clone(),
            latency: Duration::ZERO,
            log_requests: false,
            page_size: None,
        };
        let running = arm_emulator::start(config, 0)
            .await
            .context("starting the in-process ARM emulator")?;
        let url = running.url();
        emulator = Some(running);
        (
            Cloud::Custom {
                arm_endpoint: url.clone(),
                authority_host: None,
            },
            AuthMethod::Static("emulator-token".into()),
            format!("the in-process ARM emulator at {url}"),
            Duration::from_millis(20),
        )
    } else {
        let description = match &o.cloud {
            Cloud::Public => "Azure (public cloud)".to_string(),
            Cloud::China => "Azure operated by 21Vianet (China)".to_string(),
            Cloud::UsGovernment => "Azure US Government".to_string(),
            Cloud::Custom { arm_endpoint, .. } => format!("the ARM endpoint {arm_endpoint}"),
        };
        let floor = match &o.cloud {
            Cloud::Custom { arm_endpoint, .. } if is_loopback(arm_endpoint) => {
                Duration::from_millis(20)
            }
            _ => Duration::from_secs(1),
        };
        // A local emulator accepts any bearer token: no Azure sign-in for it.
        let auth = match (&o.cloud, &o.auth) {
            (Cloud::Custom { arm_endpoint, .. }, AuthMethod::Auto) if is_loopback(arm_endpoint) => {
                AuthMethod::Static("emulator-token".into())
            }
            _ => o.auth.clone(),
        };
        (o.cloud.clone(), auth, description, floor)
    };
    // The in-process emulator refills ARM's request buckets on its own clock, `time_scale`
    // times faster than Azure: pace at that rate (a standalone one's scale is unknown here, so
    // Azure's rates stay, which only paces more than needed).
    let refill = {
        let (reads, writes) = ClientOptions::default().refill_per_second;
        let k = if o.emulator {
            o.time_scale.max(1.0)
        } else {
            1.0
        };
        (reads * k, writes * k)
    };
    let opts = ClientOptions {
        refill_per_second: refill,
        cloud,
        auth,
        debug_http: o.debug,
        max_concurrency: o.concurrency.max(1),
        poll_interval_floor: poll_floor,
        connect_budget: o
            .connect_budget
            .unwrap_or(arm_client::DEFAULT_CONNECT_BUDGET),
        ..ClientOptions::default()
    };
    let client = ArmClient::new(opts)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    client
        .sign_in()
        .await
        .map_err(|e| anyhow::anyhow!("signing in to {description}: {}", e.message))?;
    Ok(Target {
        client,
        concurrency: o.concurrency.max(1),
        description,
        read_mode: o.read_mode,
        emulator,
    })
}

/// Which ARM a plan was made against, for a saved plan: the in-process emulator or an
/// endpoint URL.
pub fn key(o: &TargetOptions) -> String {
    if o.emulator {
        "in-process emulator".into()
    } else {
        o.cloud.arm_endpoint()
    }
}

/// A local emulator: parsed by the client, so `http://127.0.0.1@host` is `host`, not loopback.
fn is_loopback(url: &str) -> bool {
    arm_client::is_loopback(url)
}
