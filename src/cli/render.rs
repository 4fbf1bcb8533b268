//! `render`: write every ARM request body and policy to a folder for review, or check one.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use super::args::TemplateArgs;
use super::shared::{lint_banner, load};
use crate::blueprint::vars::Vars;
use crate::engine::terminal::safe;
use crate::{lint, render};

#[derive(Args)]
pub struct RenderArgs {
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
}

pub fn run(args: RenderArgs, vars: &Vars) -> Result<ExitCode> {
    let RenderArgs {
        blueprint,
        out,
        check,
        templates,
    } = args;
    let loaded = load(&blueprint, vars)?;
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
