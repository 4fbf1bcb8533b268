//! `apply`: plan, refuse before the first write when anything in the plan is not allowed, ask,
//! then converge; Ctrl-C stops starting new writes, a second one stops waiting.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Result;

use crate::apply::Ledger;
use crate::model::Model;
use crate::render::Rendered;
use crate::target::TargetOptions;
use crate::terminal::safe;

pub struct Flags {
    pub auto_approve: bool,
    pub allow_replace: bool,
    pub adopt: bool,
    pub prune: bool,
    pub break_lock: bool,
    pub preflight: crate::preflight::Options,
}

pub async fn run(
    model: &Model,
    rendered: &Rendered,
    opts: &TargetOptions,
    flags: &Flags,
    saved: Option<&crate::saved::SavedPlan>,
) -> Result<ExitCode> {
    let target = crate::target::connect(opts).await?;
    let (live, plan) = match super::plan::observe(&target, model, rendered, &flags.preflight).await
    {
        Ok(x) => x,
        Err(e) => {
            target.close().await;
            return Err(e);
        }
    };
    // Escapes what it prints from the blueprint and Azure itself (colours stay).
    print!(
        "{}",
        crate::plan_text::human(
            &plan,
            Some(rendered),
            &crate::plan_text::TextOptions::for_stdout(false)
        )
    );
    let mut refusals = crate::safety::refusals(&plan, flags.allow_replace, flags.adopt);
    if let Some(s) = saved {
        let mut drift = crate::saved::live_drift(s, &live);
        if s.plan["orphans"] != serde_json::json!(plan.orphans) {
            drift.push("the resources prune would delete are not the planned ones".into());
        }
        // What was reviewed is what is applied: the saved plan section itself, not only the
        // blueprint and digests it came with.
        let reviewed = crate::saved::plan_drift(s, &plan);
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
    refusals.extend(crate::preflight::refusals(&plan.preflight));
    if !refusals.is_empty() {
        eprintln!("apply refused; nothing was written:");
        for r in &refusals {
            eprintln!("  - {}", safe(r));
        }
        target.close().await;
        return Ok(ExitCode::from(1));
    }
    let work = plan
        .resources
        .iter()
        .any(|r| r.action.writes() || r.state.is_some())
        || !plan.approvals.is_empty()
        || (flags.prune && !plan.orphans.is_empty());
    if !work {
        if !plan.orphans.is_empty() {
            println!(
                "{} resource(s) no longer declared are deleted only with --prune.",
                plan.orphans.len()
            );
        }
        println!("Nothing to do.");
        super::output::print_after_apply(&target.client, model).await;
        target.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    if !flags.auto_approve {
        print!(
            "Apply these changes to {}? Type 'yes' to continue: ",
            safe(&target.description)
        );
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            println!("Cancelled; nothing was applied.");
            target.close().await;
            return Ok(ExitCode::from(1));
        }
    }
    // Accounts restored from soft-delete carry `restore: true` on their own PUT.
    let restoring = match crate::preflight::with_restores(rendered, &plan.steps) {
        Ok(r) => r,
        Err(e) => {
            target.close().await;
            return Err(e);
        }
    };
    // One apply of this blueprint at a time (see crate::lock).
    let rg_exists = live.contains_key(&model.rg_id.to_lowercase());
    let lease = match crate::lock::acquire(&target.client, model, rg_exists, flags.break_lock).await
    {
        Ok(l) => l,
        Err(e) => {
            target.close().await;
            return Err(e);
        }
    };
    match crate::preflight::purge(&target.client, &plan.steps).await {
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
    // A lease seen lost (broken or taken over) stops the run as an interrupt does.
    lease.watch(interrupted.clone());
    {
        let (flag, ledger) = (interrupted.clone(), ledger.clone());
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            flag.store(true, Ordering::SeqCst);
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
    let progress: Arc<dyn crate::progress::Progress> =
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            Arc::new(crate::progress::Bars::new())
        } else {
            Arc::new(crate::progress::Plain::new(true))
        };
    let options = crate::apply::Options {
        concurrency: target.concurrency,
        prune: flags.prune,
    };
    let observed = crate::apply::Observed {
        live,
        planned: plan
            .resources
            .iter()
            .map(|p| (p.id.to_lowercase(), p.action))
            .collect(),
        orphans: if flags.prune {
            plan.orphans.clone()
        } else {
            Vec::new()
        },
    };
    let report = crate::apply::apply(
        &target.client,
        model,
        rendered,
        observed,
        &options,
        crate::apply::Controls {
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
