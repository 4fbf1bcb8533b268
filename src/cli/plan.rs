//! `plan`: read live state and show what apply would change (optionally save it).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::args::{PreflightArgs, TargetArgs, TemplateArgs};
use super::shared::{lint_banner, load, runtime};
use crate::blueprint::vars::Vars;
use crate::engine::{plan_text, read, saved, terminal::safe};
use crate::{lint, render};

#[derive(Args)]
pub struct PlanArgs {
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
    /// Keep a resource this blueprint owns and no longer declares instead of planning its
    /// deletion: a name, type/name or full id (repeatable; adds to `lifecycle.keep`).
    #[arg(long, value_name = "NAME_OR_ID")]
    keep: Vec<String>,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    templates: TemplateArgs,
}

pub fn run(args: PlanArgs, vars: &Vars) -> Result<ExitCode> {
    let PlanArgs {
        blueprint,
        json,
        detailed_exitcode,
        out,
        preflight,
        full_ids,
        keep,
        target,
        templates,
    } = args;
    let loaded = load(&blueprint, vars)?;
    let (mut model, rendered) = render::render_file(&loaded, templates.templates.as_deref())?;
    model.keep.extend(keep.iter().cloned());
    lint_banner(&lint::all(&loaded, &model, &rendered));
    let rt = runtime()?;
    let opts = target.to_options();
    let planned = rt.block_on(read::run(
        &model,
        &rendered,
        &opts,
        &preflight.to_options(&loaded),
    ))?;
    let plan = &planned.plan;
    super::shared::warn_unmatched_keeps(&model.keep, plan);
    if json {
        println!("{}", safe(&plan_text::json(plan)?));
    } else {
        let text_opts = plan_text::TextOptions::for_stdout(full_ids);
        // Escapes what it prints from the blueprint and Azure itself (colours stay).
        print!("{}", plan_text::human(plan, Some(&rendered), &text_opts));
    }
    if let Some(path) = out {
        saved::save(
            &path,
            &loaded,
            &rendered,
            &planned.target,
            &planned.live,
            plan,
            &keep,
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
