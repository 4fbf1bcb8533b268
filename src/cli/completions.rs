//! `completions`: print a shell completion script.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

#[derive(Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// `cli` is the whole command line, built by the caller (which owns its definition).
pub fn run(args: CompletionsArgs, cli: &mut clap::Command) -> Result<ExitCode> {
    clap_complete::generate(args.shell, cli, "aoai-arch", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
