//! `emulator`: serve a local Azure Resource Manager emulator on 127.0.0.1.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::shared::runtime;

#[derive(Args)]
pub struct EmulatorArgs {
    #[arg(long, default_value_t = 8443)]
    port: u16,
    /// Divide Azure's provisioning durations by F: by default 600 (API Management's 30-45
    /// minutes take a few seconds); 1 = real time.
    #[arg(long, default_value_t = DEFAULT_TIME_SCALE, value_parser = super::args::time_scale)]
    time_scale: f64,
    /// Injected faults, e.g. "429=0.05,500=0.02,503=0.02,drop=0.01,slow=0.05,lro-fail=0.02".
    #[arg(long, default_value = "none")]
    faults: String,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Keep state in this file across restarts (its `preflight` section describes the
    /// subscription: quota, models, soft-deleted accounts, taken names, providers).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Latency added to every response, in milliseconds (for benchmarks).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Items per page of every list (the rest follows `nextLink`); by default one page.
    #[arg(long, value_name = "N")]
    page_size: Option<usize>,
}

/// The standalone emulator's clock: fast enough that a whole life cycle takes seconds, slow
/// enough that long-running operations still show their `InProgress` states.
const DEFAULT_TIME_SCALE: f64 = 600.0;

/// The banner's clock line.
fn clock(time_scale: f64) -> String {
    if time_scale == 1.0 {
        "clock: real time (Azure's provisioning durations: API Management takes 30-45 minutes)"
            .to_string()
    } else {
        format!("clock: {time_scale}x Azure; --time-scale 1 for real time")
    }
}

pub fn run(args: EmulatorArgs) -> Result<ExitCode> {
    let EmulatorArgs {
        port,
        time_scale,
        faults,
        seed,
        state,
        latency_ms,
        page_size,
    } = args;
    let rt = runtime()?;
    rt.block_on(async {
        let config = arm_emulator::Config {
            time_scale,
            faults: faults
                .parse()
                .map_err(|e| anyhow::anyhow!("--faults: {e}"))?,
            seed,
            state_file: state,
            latency: std::time::Duration::from_millis(latency_ms),
            log_requests: true,
            page_size,
        };
        let running = arm_emulator::start(config, port).await?;
        println!("ARM emulator listening on {}", running.url());
        println!("{}", clock(time_scale));
        println!(
            "use it with: aoai-arch plan BLUEPRINT --arm-endpoint {}",
            running.url()
        );
        let _ = std::io::stdout().flush();
        tokio::signal::ctrl_c().await?;
        running.shutdown().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
