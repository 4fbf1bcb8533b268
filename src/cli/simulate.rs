//! `simulate`: run traffic through what `render` produces, offline, and check each scenario's
//! verdict. Exit 0 when every verdict holds, 1 when one does not (and on errors).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::args::TemplateArgs;
use super::shared::load;
use crate::blueprint::vars::Vars;
use crate::engine::terminal::safe;
use crate::{render, simulate};

#[derive(Args)]
pub struct SimulateArgs {
    /// Blueprint file (YAML), or a folder written by `render` (read as it is).
    blueprint: PathBuf,
    /// normal, region-down:REGION, account-down:NAME|*, throttle:NAME, team-burst:TEAM,
    /// quota:TEAM, ptu-full:DEPLOYMENT, gateway-down:REGION (repeatable; default: every
    /// scenario that applies).
    #[arg(long = "scenario", value_name = "SPEC")]
    scenarios: Vec<String>,
    /// Requests per scenario, spread over two simulated minutes.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Seed of the traffic and of every random pick: same seed, same result.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// JSON on stdout (formatVersion 1).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    templates: TemplateArgs,
}

pub fn run(args: SimulateArgs, vars: &Vars) -> Result<ExitCode> {
    let resources = if args.blueprint.is_dir() {
        simulate::read_folder(&args.blueprint)?
    } else {
        let loaded = load(&args.blueprint, vars)?;
        let (_, rendered) = render::render_file(&loaded, args.templates.templates.as_deref())?;
        simulate::from_rendered(&rendered)
    };
    if args.requests == 0 {
        anyhow::bail!("--requests must be at least 1");
    }
    let sim = simulate::Simulation::new(&resources);
    let scenarios = if args.scenarios.is_empty() {
        sim.applicable()
    } else {
        let mut out = Vec::new();
        for s in &args.scenarios {
            let s = simulate::Scenario::parse(s)?;
            sim.check(&s)?;
            out.push(s);
        }
        out
    };
    let outcomes: Vec<simulate::Outcome> = scenarios
        .iter()
        .map(|s| simulate::run(&sim, s, args.requests, args.seed))
        .collect();
    let notes = &sim.topo.not_interpreted;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&simulate::to_json(&outcomes, notes, args.seed))?
        );
    } else {
        print!("{}", safe(&simulate::to_text(&outcomes, notes)));
    }
    Ok(if outcomes.iter().all(|o| o.ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
