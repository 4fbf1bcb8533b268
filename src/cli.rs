//! Command-line parsing and dispatch. Commands get plain option values; nothing below this
//! module sees clap.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::blueprint;
use crate::lint::{self, report};
use crate::render;
use crate::terminal::safe;

#[derive(Parser)]
#[command(
    name = "aoai-arch",
    version,
    about = "Provision Azure OpenAI gateway architectures (Front Door, API Management) from one blueprint"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Set `${var.NAME}` in the blueprint (wins over --var-file).
    #[arg(long = "var", value_name = "NAME=VALUE", global = true)]
    vars: Vec<String>,
    /// Read variables from a YAML file of `NAME: value` (one per environment, e.g. env/prod.yaml);
    /// later files win.
    #[arg(long = "var-file", value_name = "FILE", global = true)]
    var_files: Vec<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Write every ARM request body and policy to a folder for review.
    Render {
        /// Blueprint file (YAML).
        blueprint: PathBuf,
        /// Output folder.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Compare with DIR instead of writing; exit 1 with a diff when it is stale.
        #[arg(long, value_name = "DIR", conflicts_with = "out")]
        check: Option<PathBuf>,
        #[command(flatten)]
        templates: TemplateArgs,
    },
    /// Check policies and architecture rules; explain each finding.
    Lint {
        /// Blueprint file (YAML); optional with --policy.
        #[arg(required_unless_present = "policy")]
        blueprint: Option<PathBuf>,
        /// Also lint these policy files (XML as APIM accepts it), or every `*.xml` under these
        /// folders (APIOps layout); without a blueprint only the policy rules run.
        #[arg(long, value_name = "FILE|DIR", num_args = 1..)]
        policy: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// `--deny warnings` makes warnings fail the run.
        #[arg(long, value_enum)]
        deny: Option<Deny>,
        /// First print the traced path (client -> Front Door -> API Management -> each
        /// account): network, credential, model availability, hop by hop.
        #[arg(long)]
        explain: bool,
        #[command(flatten)]
        templates: TemplateArgs,
    },
    /// Read live state and show what apply would change.
    Plan {
        blueprint: PathBuf,
        /// Write the plan as JSON to stdout.
        #[arg(long)]
        json: bool,
        /// Exit 0 when there is nothing to do, 2 when there are changes, 1 on error.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Save the plan to FILE; `aoai-arch apply FILE` applies exactly it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        preflight: PreflightArgs,
        /// Show full ARM resource ids instead of names grouped by type.
        #[arg(long)]
        full_ids: bool,
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        templates: TemplateArgs,
    },
    /// Converge Azure to the blueprint (or apply a plan saved with `plan --out`).
    Apply {
        /// Blueprint file (YAML), or a plan file written by `plan --out`.
        blueprint: PathBuf,
        /// Do not ask for confirmation (required when stdin is not a terminal).
        #[arg(long)]
        auto_approve: bool,
        /// Delete and recreate resources whose immutable properties changed.
        #[arg(long)]
        allow_replace: bool,
        /// Take over resources that exist without this blueprint's ownership tag (plan shows
        /// them as `adopt`, with every property and tag that will change).
        #[arg(long)]
        adopt: bool,
        /// Delete resources owned by this blueprint that it no longer declares.
        #[arg(long)]
        prune: bool,
        /// Take the apply lock even when another run holds it (a run that was killed).
        #[arg(long)]
        break_lock: bool,
        #[command(flatten)]
        preflight: PreflightArgs,
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        templates: TemplateArgs,
    },
    /// Delete what this blueprint owns (reverse dependency order), after showing the plan.
    Destroy {
        blueprint: PathBuf,
        /// Do not ask for confirmation (required when stdin is not a terminal).
        #[arg(long)]
        auto_approve: bool,
        /// Also purge the Azure OpenAI accounts and API Management services Azure keeps
        /// soft-deleted for 48 hours (their names stay taken until then).
        #[arg(long)]
        purge: bool,
        /// Take the apply lock even when another run holds it (a run that was killed).
        #[arg(long)]
        break_lock: bool,
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        templates: TemplateArgs,
    },
    /// Print the endpoints of what apply built, read from live state.
    ///
    /// Front Door host name, API Management gateway URLs (regional ones too), the DNS records to
    /// create, the gateway's managed identity, the Azure OpenAI endpoints.
    Output {
        blueprint: PathBuf,
        /// Write the outputs as JSON (with `formatVersion`).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        templates: TemplateArgs,
    },
    /// Serve a local Azure Resource Manager emulator on 127.0.0.1.
    Emulator {
        #[arg(long, default_value_t = 8443)]
        port: u16,
        /// Divide Azure's provisioning durations by F (1 = real time).
        #[arg(long, default_value_t = 1.0)]
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
    },
    /// Print the JSON Schema of the blueprint format (for yaml-language-server).
    Schema,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Args, Clone)]
struct TemplateArgs {
    /// Folder whose templates replace the embedded ones (same relative paths).
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
}

#[derive(Args, Clone)]
struct PreflightArgs {
    /// Turn a preflight check off (repeatable; `all` turns every one off).
    #[arg(long, value_enum, value_name = "CHECK")]
    skip_preflight: Vec<PreflightCheck>,
    /// Purge soft-deleted accounts that hold a name the blueprint declares, before creating it.
    #[arg(long, conflicts_with = "restore_soft_deleted")]
    purge_soft_deleted: bool,
    /// Restore soft-deleted accounts that hold a name the blueprint declares (`restore: true`).
    #[arg(long)]
    restore_soft_deleted: bool,
}

#[derive(Copy, Clone, ValueEnum, PartialEq, Eq)]
enum PreflightCheck {
    Quota,
    Models,
    SoftDeleted,
    Names,
    Providers,
    All,
}

impl PreflightArgs {
    fn to_options(&self, loaded: &blueprint::Loaded) -> crate::preflight::Options {
        use crate::preflight::{Check, SoftDeleted};
        let mut skip = Vec::new();
        for c in &self.skip_preflight {
            skip.extend(match c {
                PreflightCheck::Quota => vec![Check::Quota],
                PreflightCheck::Models => vec![Check::Models],
                PreflightCheck::SoftDeleted => vec![Check::SoftDeleted],
                PreflightCheck::Names => vec![Check::Names],
                PreflightCheck::Providers => vec![Check::Providers],
                PreflightCheck::All => Check::ALL.to_vec(),
            });
        }
        crate::preflight::Options {
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
struct TargetArgs {
    /// Run against an in-process ARM emulator (no Azure account needed).
    #[arg(long)]
    emulator: bool,
    /// With --emulator: keep the emulator's state in FILE, so plan/apply runs build on each other
    /// (its `preflight` section describes the subscription: quota, models, taken names, ...).
    #[arg(long, value_name = "FILE", requires = "emulator")]
    emulator_state: Option<PathBuf>,
    /// With --emulator: divide Azure's provisioning durations by F.
    #[arg(long, default_value_t = 1000.0)]
    time_scale: f64,
    /// With --emulator: injected faults (see `aoai-arch emulator --help`).
    #[arg(long, default_value = "none", requires = "emulator")]
    faults: String,
    /// With --emulator: fault seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Credential to use; `auto` tries environment, workload identity, managed identity, Azure CLI, Azure Developer CLI.
    #[arg(long, value_enum, default_value_t = Auth::Auto)]
    auth: Auth,
    /// Azure cloud.
    #[arg(long, value_enum, default_value_t = CloudArg::Public)]
    cloud: CloudArg,
    /// Custom ARM endpoint (Azure Stack, a running emulator).
    #[arg(long, env = "AOAI_ARCH_ARM_ENDPOINT", value_name = "URL")]
    arm_endpoint: Option<String>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Trace HTTP requests and responses to stderr (tokens redacted).
    #[arg(long)]
    debug: bool,
    /// Give up when ARM cannot be reached or does not answer as ARM (refused, DNS, TLS, no answer, reset, HTML or garbage) for this long [default: 40].
    #[arg(long, env = "AOAI_ARCH_CONNECT_BUDGET", value_name = "SECONDS")]
    connect_budget: Option<f64>,
}

#[derive(Copy, Clone, ValueEnum, PartialEq, Eq)]
enum Format {
    Human,
    Json,
    Sarif,
}

#[derive(Copy, Clone, ValueEnum, PartialEq, Eq)]
enum Deny {
    Warnings,
}

#[derive(Copy, Clone, ValueEnum, PartialEq, Eq)]
enum Auth {
    Auto,
    Env,
    WorkloadIdentity,
    ManagedIdentity,
    Az,
    Azd,
}

#[derive(Copy, Clone, ValueEnum, PartialEq, Eq)]
enum CloudArg {
    Public,
    China,
    UsGov,
}

pub fn main() -> ExitCode {
    // clap exits 2 on a usage error, which `plan --detailed-exitcode` defines as "changes": a
    // typo in a CI drift check would read as drift. Usage errors are errors: exit 1.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", safe(&format!("{e:#}")));
            ExitCode::from(1)
        }
    }
}

fn load(path: &Path, vars: &blueprint::vars::Vars) -> Result<blueprint::Loaded> {
    blueprint::load_with(path, vars).map_err(|e| anyhow::anyhow!("{e}"))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Findings printed at the top of plan and render (errors and warnings, briefly).
fn lint_banner(findings: &[lint::Finding]) {
    let shown: Vec<&lint::Finding> = findings.iter().filter(|f| f.allowed.is_none()).collect();
    if shown.is_empty() {
        return;
    }
    let mut err = std::io::stderr().lock();
    for f in &shown {
        let line = format!(
            "{}[{}]: {} ({}:{}:{}) — run `aoai-arch lint` for the reason",
            f.severity.as_str(),
            f.rule,
            f.message,
            f.location.file,
            f.location.line,
            f.location.column
        );
        let _ = writeln!(err, "{}", safe(&line));
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let vars = blueprint::vars::Vars::collect(&cli.var_files, &cli.vars)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    match cli.command {
        Command::Render {
            blueprint,
            out,
            check,
            templates,
        } => {
            let loaded = load(&blueprint, &vars)?;
            let (model, rendered) = render::render_file(&loaded, templates.templates.as_deref())?;
            lint_banner(&lint::all(&loaded, &model, &rendered));
            if let Some(dir) = check {
                let report = render::output::check(&dir, &rendered)?;
                if report.is_empty() {
                    println!("{} is up to date", dir.display());
                    return Ok(ExitCode::SUCCESS);
                }
                eprintln!(
                    "{}",
                    safe(&format!(
                        "{} is stale; run `aoai-arch render {} --out {}`:\n{report}",
                        dir.display(),
                        blueprint.display(),
                        dir.display()
                    ))
                );
                return Ok(ExitCode::from(1));
            }
            let n = render::output::write(&out, &rendered)
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "rendered {} ARM requests, {} policies, {} queries ({n} files) into {}",
                rendered.resources.len(),
                rendered.policies.len(),
                rendered.queries.len(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Lint {
            blueprint,
            policy,
            format,
            deny,
            explain,
            templates,
        } => {
            let policy = lint::policy_files(&policy)?;
            let Some(blueprint) = blueprint else {
                let mut findings = Vec::new();
                for p in &policy {
                    let xml = std::fs::read_to_string(p)
                        .with_context(|| format!("reading {}", p.display()))?;
                    findings.extend(lint::check_policy_alone(&p.display().to_string(), &xml));
                }
                return Ok(finish_lint(format, deny, &findings));
            };
            let loaded = match blueprint::load_unvalidated_with(&blueprint, &vars) {
                Ok(l) => l,
                Err(e) => {
                    if format != Format::Human {
                        eprintln!("error: {e}");
                    }
                    return Ok(finish_lint(format, deny, &[lint::blueprint_error(&e)]));
                }
            };
            if explain {
                // On stderr when stdout carries JSON or SARIF, so both stay parseable.
                let trace = lint::explain(&loaded.blueprint, &blueprint.display().to_string());
                if format == Format::Human {
                    print!("{}", safe(&trace));
                } else {
                    eprint!("{}", safe(&trace));
                }
            }
            let mut findings = lint::check_blueprint(&loaded);
            let invalid = blueprint::validation_errors(&loaded);
            if !invalid.is_empty() {
                // The blueprint cannot be rendered: every validation error is a finding, with
                // the architecture findings that explain it.
                if format != Format::Human {
                    for e in &invalid {
                        eprintln!("error: {e}");
                    }
                }
                findings.extend(invalid.iter().map(lint::blueprint_error));
                return Ok(finish_lint(format, deny, &findings));
            }
            let (model, rendered) = render::render_file(&loaded, templates.templates.as_deref())?;
            findings = lint::all(&loaded, &model, &rendered);
            for p in &policy {
                let xml = blueprint::read_text(p, blueprint::limits::MAX_BYTES)
                    .map_err(|e| anyhow::anyhow!("reading {}: {e}", p.display()))?;
                findings.extend(lint::check_policy_file(
                    &loaded,
                    &model,
                    &p.display().to_string(),
                    &xml,
                ));
            }
            Ok(finish_lint(format, deny, &findings))
        }
        Command::Plan {
            blueprint,
            json,
            detailed_exitcode,
            out,
            preflight,
            full_ids,
            target,
            templates,
        } => {
            let loaded = load(&blueprint, &vars)?;
            let (model, rendered) = render::render_file(&loaded, templates.templates.as_deref())?;
            lint_banner(&lint::all(&loaded, &model, &rendered));
            let rt = runtime()?;
            let opts = target.to_options();
            let planned = rt.block_on(crate::ops::plan::run(
                &model,
                &rendered,
                &opts,
                &preflight.to_options(&loaded),
            ))?;
            let plan = &planned.plan;
            if json {
                println!("{}", safe(&crate::plan_text::json(plan)?));
            } else {
                let text_opts = crate::plan_text::TextOptions::for_stdout(full_ids);
                // Escapes what it prints from the blueprint and Azure itself (colours stay).
                print!(
                    "{}",
                    crate::plan_text::human(plan, Some(&rendered), &text_opts)
                );
            }
            if let Some(path) = out {
                crate::saved::save(
                    &path,
                    &loaded,
                    &rendered,
                    &planned.target,
                    &planned.live,
                    plan,
                )?;
                eprintln!(
                    "Saved the plan to {}; `aoai-arch apply {}` applies exactly it.",
                    path.display(),
                    path.display()
                );
            }
            Ok(match (detailed_exitcode, plan.has_changes()) {
                (true, true) => ExitCode::from(2),
                _ => ExitCode::SUCCESS,
            })
        }
        Command::Apply {
            blueprint,
            auto_approve,
            allow_replace,
            adopt,
            prune,
            break_lock,
            preflight,
            target,
            templates,
        } => {
            let saved = crate::saved::read(&blueprint)?;
            let loaded = match &saved {
                Some(s) => blueprint::parse(&s.blueprint_path, &s.blueprint_text)
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                None => load(&blueprint, &vars)?,
            };
            let (model, rendered) = render::render_file(&loaded, templates.templates.as_deref())?;
            let findings = lint::all(&loaded, &model, &rendered);
            lint_banner(&findings);
            if report::fails(&findings, false) {
                anyhow::bail!(
                    "lint found errors; nothing was applied (see `aoai-arch lint {}`)",
                    blueprint.display()
                );
            }
            let opts = target.to_options();
            if let Some(s) = &saved {
                let drift = crate::saved::render_drift(s, &rendered);
                if !drift.is_empty() {
                    anyhow::bail!(
                        "{} was planned by aoai-arch {} and renders differently here; nothing was applied; plan again:\n  {}",
                        blueprint.display(),
                        s.aoai_arch_version,
                        drift.join("\n  ")
                    );
                }
                if s.target != crate::target::key(&opts) {
                    anyhow::bail!(
                        "{} was planned against {}, not {}; nothing was applied",
                        blueprint.display(),
                        s.target,
                        crate::target::key(&opts)
                    );
                }
            }
            // A saved plan was reviewed when it was made: applying it does not ask again.
            let auto_approve = auto_approve || saved.is_some();
            if !auto_approve && !std::io::stdin().is_terminal() {
                anyhow::bail!("stdin is not a terminal: pass --auto-approve to apply without confirmation; nothing was applied");
            }
            let rt = runtime()?;
            rt.block_on(crate::ops::apply::run(
                &model,
                &rendered,
                &opts,
                &crate::ops::apply::Flags {
                    auto_approve,
                    allow_replace,
                    adopt,
                    prune,
                    break_lock,
                    preflight: preflight.to_options(&loaded),
                },
                saved.as_ref(),
            ))
        }
        Command::Destroy {
            blueprint,
            auto_approve,
            purge,
            break_lock,
            target,
            templates,
        } => {
            let loaded = load(&blueprint, &vars)?;
            let (model, rendered) = render::render_file(&loaded, templates.templates.as_deref())?;
            if !auto_approve && !std::io::stdin().is_terminal() {
                anyhow::bail!("stdin is not a terminal: pass --auto-approve to destroy without confirmation; nothing was deleted");
            }
            let rt = runtime()?;
            rt.block_on(crate::ops::destroy::run(
                &model,
                &rendered,
                &target.to_options(),
                &crate::ops::destroy::Flags {
                    auto_approve,
                    purge,
                    break_lock,
                },
            ))
        }
        Command::Output {
            blueprint,
            json,
            target,
            templates,
        } => {
            let loaded = load(&blueprint, &vars)?;
            let (model, _) = render::render_file(&loaded, templates.templates.as_deref())?;
            runtime()?.block_on(crate::ops::output::run(&model, &target.to_options(), json))
        }
        Command::Emulator {
            port,
            time_scale,
            faults,
            seed,
            state,
            latency_ms,
        } => {
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
                };
                let running = arm_emulator::start(config, port).await?;
                println!("ARM emulator listening on {}", running.url());
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
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "aoai-arch",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            let schema = schemars::schema_for!(blueprint::Blueprint);
            println!("{}", serde_json::to_string_pretty(&schema)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Print the findings; exit 1 on errors (or warnings with `--deny warnings`).
fn finish_lint(format: Format, deny: Option<Deny>, findings: &[lint::Finding]) -> ExitCode {
    print_findings(format, findings);
    if report::fails(findings, deny == Some(Deny::Warnings)) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_findings(format: Format, findings: &[lint::Finding]) {
    let text = match format {
        Format::Human => report::human(findings),
        Format::Json => report::json(findings),
        Format::Sarif => report::sarif(findings),
    };
    print!("{}", safe(&text));
}

impl TargetArgs {
    fn to_options(&self) -> crate::target::TargetOptions {
        crate::target::TargetOptions {
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
        }
    }
}
