//! `apply`: plan, refuse before the first write when anything in the plan is not allowed, ask,
//! then converge; Ctrl-C stops starting new writes, a second one stops waiting.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Result;
use clap::Args;

use super::args::{PreflightArgs, TargetArgs, TemplateArgs};
use super::shared::{confirmed, lint_banner, load, runtime};
use crate::blueprint::vars::Vars;
use crate::lint::{self, report};
use crate::render;

use crate::engine::apply::Ledger;
use crate::engine::target::TargetOptions;
use crate::engine::terminal::safe;
use crate::model::Model;
use crate::render::Rendered;

#[derive(Args)]
pub struct ApplyArgs {
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
    /// Accepted for compatibility and does nothing: apply always deletes what this blueprint
    /// owns and no longer declares (after the plan shows it), except what --keep or
    /// `lifecycle.keep` names.
    #[arg(long)]
    prune: bool,
    /// Keep a resource this blueprint owns and no longer declares instead of deleting it: a
    /// name, type/name or full id (repeatable; adds to `lifecycle.keep`).
    #[arg(long, value_name = "NAME_OR_ID")]
    keep: Vec<String>,
    /// Take the apply lock even when another run holds it (a run that was killed).
    #[arg(long)]
    break_lock: bool,
    #[command(flatten)]
    preflight: PreflightArgs,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    templates: TemplateArgs,
}

pub fn run(args: ApplyArgs, vars: &Vars) -> Result<ExitCode> {
    let ApplyArgs {
        blueprint,
        auto_approve,
        allow_replace,
        adopt,
        prune: _,
        keep,
        break_lock,
        preflight,
        target,
        templates,
    } = args;
    let saved = crate::engine::saved::read(&blueprint)?;
    let loaded = match &saved {
        Some(s) => crate::blueprint::parse(&s.blueprint_path, &s.blueprint_text)
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        None => load(&blueprint, vars)?,
    };
    let (mut model, rendered) = render::render_file(&loaded, templates.templates.as_deref())?;
    if let Some(s) = &saved {
        model.keep.extend(s.keep.iter().cloned());
    }
    model.keep.extend(keep);
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
        let drift = crate::engine::saved::render_drift(s, &rendered);
        if !drift.is_empty() {
            anyhow::bail!(
                "{} was planned by aoai-arch {} and renders differently here; nothing was applied; plan again:\n  {}",
                blueprint.display(),
                s.aoai_arch_version,
                drift.join("\n  ")
            );
        }
        if s.target != crate::engine::target::key(&opts) {
            anyhow::bail!(
                "{} was planned against {}, not {}; nothing was applied",
                blueprint.display(),
                s.target,
                crate::engine::target::key(&opts)
            );
        }
    }
    // A saved plan was reviewed when it was made: applying it does not ask again.
    let auto_approve = auto_approve || saved.is_some();
    if !auto_approve && !std::io::stdin().is_terminal() {
        anyhow::bail!("stdin is not a terminal: pass --auto-approve to apply without confirmation; nothing was applied");
    }
    let rt = runtime()?;
    rt.block_on(execute(
        &model,
        &rendered,
        &opts,
        &Flags {
            auto_approve,
            allow_replace,
            adopt,
            break_lock,
            preflight: preflight.to_options(&loaded),
        },
        saved.as_ref(),
    ))
}

pub struct Flags {
    pub auto_approve: bool,
    pub allow_replace: bool,
    pub adopt: bool,
    pub break_lock: bool,
    pub preflight: crate::engine::preflight::Options,
}

pub async fn execute(
    model: &Model,
    rendered: &Rendered,
    opts: &TargetOptions,
    flags: &Flags,
    saved: Option<&crate::engine::saved::SavedPlan>,
) -> Result<ExitCode> {
    let target = crate::engine::target::connect(opts).await?;
    let (live, plan) =
        match crate::engine::read::observe(&target, model, rendered, &flags.preflight).await {
            Ok(x) => x,
            Err(e) => {
                target.close().await;
                return Err(e);
            }
        };
    let refusals = refusals(&plan, &live, flags, saved);
    // A saved plan that no longer holds is refused without printing the plan made now: what
    // was reviewed is the saved one, and the new one is for `plan` to show.
    if refusals.is_empty() || saved.is_none() {
        // Escapes what it prints from the blueprint and Azure itself (colours stay).
        print!(
            "{}",
            crate::engine::plan_text::human(
                &plan,
                Some(rendered),
                &crate::engine::plan_text::TextOptions::for_stdout(false)
            )
        );
        super::shared::warn_unmatched_keeps(&model.keep, &plan);
    }
    if !refusals.is_empty() {
        eprintln!("apply refused; nothing was written:");
        for r in &refusals {
            eprintln!(
                "  - {}",
                safe(&crate::engine::plan_text::short_ids(r, &model.rg_id))
            );
        }
        target.close().await;
        return Ok(ExitCode::from(1));
    }
    let work = plan
        .resources
        .iter()
        .any(|r| r.action.writes() || r.state.is_some())
        || !plan.approvals.is_empty()
        || !plan.orphans.is_empty();
    if !work {
        println!("Nothing to do.");
        super::output::print_after_apply(&target.client, model).await;
        target.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    let question = format!("Apply these changes to {}?", safe(&target.description));
    if !flags.auto_approve && !confirmed(&question)? {
        println!("Cancelled; nothing was applied.");
        target.close().await;
        return Ok(ExitCode::from(1));
    }
    // Accounts restored from soft-delete carry `restore: true` on their own PUT.
    let restoring = match crate::engine::preflight::with_restores(rendered, &plan.steps) {
        Ok(r) => r,
        Err(e) => {
            target.close().await;
            return Err(e);
        }
    };
    // One apply of this blueprint at a time (see crate::engine::lock).
    let rg_exists = live.contains_key(&model.rg_id.to_lowercase());
    let lease = match crate::engine::lock::acquire(
        &target.client,
        model,
        rg_exists,
        flags.break_lock,
    )
    .await
    {
        Ok(l) => l,
        Err(e) => {
            target.close().await;
            return Err(e);
        }
    };
    match crate::engine::preflight::purge(&target.client, &plan.steps).await {
        Ok(done) => done.iter().for_each(|d| println!("{}", safe(d))),
        Err(e) => {
            lease.release().await;
            target.close().await;
            return Err(e.context("before the first resource; nothing else was written"));
        }
    }
    let rendered = &restoring;
    let ids: Vec<String> = rendered.resources.iter().map(|r| r.id.clone()).collect();
    let ledger = Arc::new(Ledger::default());
    let interrupted = Arc::new(AtomicBool::new(false));
    watch_interrupts(ids, interrupted.clone(), ledger.clone());
    // A lease seen lost (broken or taken over) stops the run as an interrupt does.
    lease.watch(interrupted.clone());
    let progress = progress_display();
    let options = crate::engine::apply::Options {
        concurrency: target.concurrency,
    };
    let observed = crate::engine::apply::Observed {
        live,
        planned: plan
            .resources
            .iter()
            .map(|p| (p.id.to_lowercase(), p.action))
            .collect(),
        orphans: plan.orphans.clone(),
    };
    let report = crate::engine::apply::apply(
        &target.client,
        model,
        rendered,
        observed,
        &options,
        crate::engine::apply::Controls {
            progress,
            interrupted,
            ledger,
        },
    )
    .await;
    print!("{}", safe(&report.summary()));
    if report.success() {
        super::output::print_after_apply(&target.client, model).await;
    }
    lease.release().await;
    target.close().await;
    Ok(if report.success() {
        ExitCode::SUCCESS
    } else if report.interrupted {
        ExitCode::from(130)
    } else {
        ExitCode::from(1)
    })
}

/// Why apply refuses before the first write: safety, a saved plan Azure moved away from,
/// preflight.
fn refusals(
    plan: &crate::engine::plan::Plan,
    live: &std::collections::BTreeMap<String, serde_json::Value>,
    flags: &Flags,
    saved: Option<&crate::engine::saved::SavedPlan>,
) -> Vec<String> {
    let mut refusals = crate::engine::safety::refusals(plan, flags.allow_replace, flags.adopt);
    if let Some(s) = saved {
        let mut drift = crate::engine::saved::live_drift(s, live);
        if s.plan["orphans"] != serde_json::json!(plan.orphans) {
            drift.push(
                "the resources apply would delete (owned, no longer declared) are not the planned ones"
                    .into(),
            );
        }
        // What was reviewed is what is applied: the saved plan section itself, not only the
        // blueprint and digests it came with.
        let reviewed = crate::engine::saved::plan_drift(s, plan);
        if !reviewed.is_empty() && drift.is_empty() {
            refusals.push(format!(
                "the plan saved in the file (the one reviewed) is not what its blueprint plans now against the same Azure: the file was edited; plan again:\n      {}",
                reviewed.join("\n      ")
            ));
        }
        if !drift.is_empty() {
            refusals.push(format!(
                "Azure changed since the plan was made ({}); plan again:\n      {}",
                s.created_at,
                drift.join("\n      ")
            ));
        }
    }
    refusals.extend(crate::engine::preflight::refusals(&plan.preflight));
    refusals
}

/// Ctrl-C stops starting new writes and says what is in flight; a second one prints what was
/// done and exits 130.
fn watch_interrupts(ids: Vec<String>, interrupted: Arc<AtomicBool>, ledger: Arc<Ledger>) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        interrupted.store(true, Ordering::SeqCst);
        let waiting = ledger.in_flight();
        let mut msg = format!(
            "interrupt: starting nothing new; waiting for {} operation(s) in flight to end in Azure",
            waiting.len()
        );
        for (id, what) in &waiting {
            msg.push_str(&format!("\n    {what} {id}"));
        }
        msg.push_str("\nCtrl-C again stops waiting: those operations keep running in Azure, and this prints what was done.");
        eprintln!("{}", safe(&msg));
        if tokio::signal::ctrl_c().await.is_ok() {
            println!("{}", safe(&ledger.summary(&ids)));
            let _ = std::io::stdout().flush();
            std::process::exit(130);
        }
    });
}

/// Bars on a terminal, plain lines otherwise.
fn progress_display() -> Arc<dyn crate::engine::progress::Progress> {
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        Arc::new(crate::engine::progress::Bars::new())
    } else {
        Arc::new(crate::engine::progress::Plain::new(true))
    }
}
