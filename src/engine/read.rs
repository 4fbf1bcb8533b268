//! `plan`: read live state once and decide, with every safety rule, what apply would do.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::Value;

use crate::engine::plan::Plan;
use crate::engine::target::{Target, TargetOptions};
use crate::model::Model;
use crate::render::Rendered;

/// A plan and what it was made from.
pub struct Planned {
    pub live: BTreeMap<String, Value>,
    pub plan: Plan,
    /// The ARM endpoint read.
    pub target: String,
}

pub async fn run(
    model: &Model,
    rendered: &Rendered,
    opts: &TargetOptions,
    pre: &crate::engine::preflight::Options,
) -> Result<Planned> {
    let target = crate::engine::target::connect(opts).await?;
    let result = observe(&target, model, rendered, pre).await;
    target.close().await;
    let (live, plan) = result?;
    Ok(Planned {
        live,
        plan,
        target: crate::engine::target::key(opts),
    })
}

/// Read every declared resource and what this blueprint owns without declaring, and plan; the
/// preflight reads go out in the same round as the resource reads.
pub async fn observe(
    target: &Target,
    model: &Model,
    rendered: &Rendered,
    pre: &crate::engine::preflight::Options,
) -> Result<(BTreeMap<String, Value>, Plan)> {
    let (live, facts) = tokio::join!(
        crate::engine::apply::read_all(&target.client, rendered, target.concurrency),
        crate::engine::preflight::gather(&target.client, model, rendered, pre, target.concurrency)
    );
    let live = live?;
    let mut plan = crate::engine::safety::plan(rendered, &live, &model.owner);
    (plan.preflight, plan.steps) = crate::engine::preflight::evaluate(&facts, model, &live, pre);
    let (orphans, undeclared) =
        crate::engine::safety::orphans(&target.client, model, rendered, &live, target.concurrency)
            .await?;
    plan.orphans = orphans;
    plan.undeclared = undeclared;
    plan.approvals = crate::engine::approvals::pending(&target.client, rendered, &live).await?;
    let replaced: Vec<String> = plan
        .resources
        .iter()
        .filter(|r| r.action == crate::engine::plan::Action::Replace)
        .filter(|r| live.contains_key(&r.id.to_lowercase()))
        .map(|r| r.id.clone())
        .collect();
    if !replaced.is_empty() {
        plan.deleted_with_parent = crate::engine::children::undeclared_under(
            &target.client,
            rendered,
            &replaced,
            target.concurrency,
        )
        .await?;
        let gone = &plan.deleted_with_parent;
        plan.undeclared
            .retain(|u| !gone.iter().any(|c| c.id.eq_ignore_ascii_case(u)));
    }
    Ok((live, plan))
}
