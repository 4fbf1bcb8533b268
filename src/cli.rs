//! Command-line parsing and dispatch. Commands get plain option values; nothing below this
//! module sees clap.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::blueprint;
use crate::render;

#[derive(Parser)]
#[command(
    name = "aoai-arch",
    version,
    about = "Provision Azure OpenAI gateway architectures from one blueprint"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
        /// Folder whose templates replace the embedded ones (same relative paths).
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
    },
    /// Print the JSON Schema of the blueprint format (for yaml-language-server).
    Schema,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn load(path: &std::path::Path) -> Result<blueprint::Loaded> {
    blueprint::load(path).map_err(|e| anyhow::anyhow!("{e}"))
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Render {
            blueprint,
            out,
            check,
            templates,
        } => {
            let loaded = load(&blueprint)?;
            let (_, rendered) = render::render_file(&loaded, templates.as_deref())?;
            if let Some(dir) = check {
                let report = render::output::check(&dir, &rendered)?;
                if report.is_empty() {
                    println!("{} is up to date", dir.display());
                    return Ok(ExitCode::SUCCESS);
                }
                eprintln!(
                    "{} is stale; run `aoai-arch render {} --out {}`:\n{report}",
                    dir.display(),
                    blueprint.display(),
                    dir.display()
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
        Command::Schema => {
            let schema = schemars::schema_for!(blueprint::Blueprint);
            println!("{}", serde_json::to_string_pretty(&schema)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
