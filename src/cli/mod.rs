//! Command-line parsing and dispatch: one module per command, each with its arguments and a
//! `run`. Commands below this folder get plain option values; nothing in `engine` sees clap.

pub mod apply;
mod args;
pub mod completions;
pub mod destroy;
pub mod emulator;
pub mod lint;
pub mod output;
pub mod plan;
pub mod render;
pub mod schema;
mod shared;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};

use crate::blueprint;
use crate::engine::terminal::safe;

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
    Render(render::RenderArgs),
    /// Check policies and architecture rules; explain each finding.
    Lint(lint::LintArgs),
    /// Read live state and show what apply would change.
    Plan(plan::PlanArgs),
    /// Converge Azure to the blueprint (or apply a plan saved with `plan --out`).
    Apply(apply::ApplyArgs),
    /// Delete what this blueprint owns (reverse dependency order), after showing the plan.
    Destroy(destroy::DestroyArgs),
    /// Print the endpoints of what apply built, read from live state.
    ///
    /// Front Door host name, API Management gateway URLs (regional ones too), the DNS records to
    /// create, the gateway's managed identity, the Azure OpenAI endpoints.
    Output(output::OutputArgs),
    /// Serve a local Azure Resource Manager emulator on 127.0.0.1.
    Emulator(emulator::EmulatorArgs),
    /// Print the JSON Schema of the blueprint format (for yaml-language-server).
    Schema,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
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

fn run(cli: Cli) -> Result<ExitCode> {
    // Every date comparison (lint, preflight, the emulator) uses this day.
    arm_emulator::capabilities::today().map_err(|e| anyhow::anyhow!(e))?;
    let vars = blueprint::vars::Vars::collect(&cli.var_files, &cli.vars)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    match cli.command {
        Command::Render(args) => render::run(args, &vars),
        Command::Lint(args) => lint::run(args, &vars),
        Command::Plan(args) => plan::run(args, &vars),
        Command::Apply(args) => apply::run(args, &vars),
        Command::Destroy(args) => destroy::run(args, &vars),
        Command::Output(args) => output::run(args, &vars),
        Command::Emulator(args) => emulator::run(args),
        Command::Schema => schema::run(),
        Command::Completions(args) => completions::run(args, &mut Cli::command()),
    }
}
