//! Argument groups several commands share: templates, preflight switches, the ARM target.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::blueprint;

#[derive(Args, Clone)]
pub struct TemplateArgs {
    /// Folder whose templates replace the embedded ones (same relative paths).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Args, Clone)]
pub struct PreflightArgs {
    /// Turn a preflight check off (repeatable; `all` turns every one off).
    #[arg(long, value_enum, value_name = "CHECK")]
    pub skip_preflight: Vec<PreflightCheck>,
    /// Purge soft-deleted accounts that hold a name the blueprint declares, before creating it.
    #[arg(long, conflicts_with = "restore_soft_deleted")]
    pub purge_soft_deleted: bool,
    /// Restore soft-deleted accounts that hold a name the blueprint declares (`restore: true`).
    #[arg(long)]
    pub restore_soft_deleted: bool,
}

#[derive(Copy, Clone, ValueEnum, PartialEq, Eq)]
pub enum PreflightCheck {
    Quota,
    Models,
    SoftDeleted,
    Names,
    Providers,
    Subnets,
    Lifecycle,
    All,
}

impl PreflightArgs {
    pub fn to_options(&self, loaded: &blueprint::Loaded) -> crate::engine::preflight::Options {
        use crate::engine::preflight::{Check, SoftDeleted};
        let mut skip = Vec::new();
        for c in &self.skip_preflight {
            skip.extend(match c {
                PreflightCheck::Quota => vec![Check::Quota],
                PreflightCheck::Models => vec![Check::Models],
                PreflightCheck::SoftDeleted => vec![Check::SoftDeleted],
                PreflightCheck::Names => vec![Check::Names],
                PreflightCheck::Providers => vec![Check::Providers],
                PreflightCheck::Subnets => vec![Check::Subnets],
                PreflightCheck::Lifecycle => vec![Check::Lifecycle],
                PreflightCheck::All => Check::ALL.to_vec(),
            });
        }
        crate::engine::preflight::Options {
            skip,
            soft_deleted: if self.purge_soft_deleted {
                Some(SoftDeleted::Purge)
            } else if self.restore_soft_deleted {
                Some(SoftDeleted::Restore)
            } else {
                None
            },
            file: loaded.path.display().to_string(),
            spans: Some(loaded.spans.clone()),
        }
    }
}

#[derive(Args, Clone)]
pub struct TargetArgs {
    /// Run against an in-process ARM emulator (no Azure account needed). Not with
    /// --arm-endpoint or AOAI_ARCH_ARM_ENDPOINT (an emulator already running, or another ARM).
    #[arg(long, conflicts_with = "arm_endpoint")]
    pub emulator: bool,
    /// With --emulator: keep the emulator's state in FILE, so plan/apply runs build on each other
    /// (its `preflight` section describes the subscription: quota, models, taken names, ...).
    #[arg(long, value_name = "FILE", requires = "emulator")]
    pub emulator_state: Option<PathBuf>,
    /// With --emulator: divide Azure's provisioning durations by F.
    #[arg(long, default_value_t = 1000.0, value_parser = time_scale)]
    pub time_scale: f64,
    /// With --emulator: injected faults (see `aoai-arch emulator --help`).
    #[arg(long, default_value = "none", requires = "emulator")]
    pub faults: String,
    /// With --emulator: fault seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Credential to use; `auto` tries environment, workload identity, managed identity, Azure CLI, Azure Developer CLI.
    #[arg(long, value_enum, default_value_t = Auth::Auto)]
    pub auth: Auth,
    /// Azure cloud.
    #[arg(long, value_enum, default_value_t = CloudArg::Public)]
    pub cloud: CloudArg,
    /// Custom ARM endpoint (Azure Stack, a running emulator).
    #[arg(long, env = "AOAI_ARCH_ARM_ENDPOINT", value_name = "URL")]
    pub arm_endpoint: Option<String>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Trace HTTP requests and responses to stderr (tokens redacted).
    #[arg(long)]
    pub debug: bool,
    /// Give up when ARM cannot be reached or does not answer as ARM (refused, DNS, TLS, no answer, reset, HTML or garbage) for this long [default: 40].
    #[arg(long, env = "AOAI_ARCH_CONNECT_BUDGET", value_name = "SECONDS")]
    pub connect_budget: Option<f64>,
    /// How plan reads live state: `list` (one request per collection) or `get` (one per
    /// resource, for a role that may read resources but not list them).
    #[arg(long, value_enum, env = "AOAI_ARCH_READ_MODE", default_value_t = ReadMode::List, hide = true)]
    pub read_mode: ReadMode,
}

#[derive(Copy, Clone, ValueEnum, PartialEq, Eq)]
pub enum ReadMode {
    Get,
    List,
}

#[derive(Copy, Clone, ValueEnum, PartialEq, Eq)]
pub enum Auth {
    Auto,
    Env,
    WorkloadIdentity,
    ManagedIdentity,
    Az,
    Azd,
}

#[derive(Copy, Clone, ValueEnum, PartialEq, Eq)]
pub enum CloudArg {
    Public,
    China,
    UsGov,
}

impl TargetArgs {
    pub fn to_options(&self) -> crate::engine::target::TargetOptions {
        crate::engine::target::TargetOptions {
            emulator: self.emulator,
            emulator_state: self.emulator_state.clone(),
            time_scale: self.time_scale,
            faults: self.faults.clone(),
            seed: self.seed,
            auth: match self.auth {
                Auth::Auto => arm_client::AuthMethod::Auto,
                Auth::Env => arm_client::AuthMethod::Environment,
                Auth::WorkloadIdentity => arm_client::AuthMethod::WorkloadIdentity,
                Auth::ManagedIdentity => arm_client::AuthMethod::ManagedIdentity,
                Auth::Az => arm_client::AuthMethod::AzureCli,
                Auth::Azd => arm_client::AuthMethod::AzureDeveloperCli,
            },
            cloud: match (&self.arm_endpoint, self.cloud) {
                (Some(url), _) => arm_client::Cloud::Custom {
                    arm_endpoint: url.clone(),
                    authority_host: None,
                },
                (None, CloudArg::Public) => arm_client::Cloud::Public,
                (None, CloudArg::China) => arm_client::Cloud::China,
                (None, CloudArg::UsGov) => arm_client::Cloud::UsGovernment,
            },
            concurrency: self.concurrency,
            debug: self.debug,
            connect_budget: self.connect_budget.map(|s| {
                std::time::Duration::try_from_secs_f64(s.max(0.0))
                    .unwrap_or(std::time::Duration::MAX)
            }),
            read_mode: match self.read_mode {
                ReadMode::Get => crate::engine::read::Mode::Get,
                ReadMode::List => crate::engine::read::Mode::List,
            },
        }
    }
}

/// `--time-scale F`: a positive, finite factor (0 would stop the emulator's clock, so nothing
/// long-running would ever finish).
pub fn time_scale(s: &str) -> Result<f64, String> {
    let f: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number (1 = real time, 600 = 600x faster)"))?;
    if !(f.is_finite() && f > 0.0) {
        return Err(format!(
            "`{s}` would stop the clock: the factor divides Azure's provisioning durations, so it must be greater than 0 (1 = real time, 600 = 600x faster)"
        ));
    }
    Ok(f)
}
