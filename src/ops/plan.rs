//! `plan`: read live state once and decide, with every safety rule, what apply would do.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::Value;

use crate::model::Model;
use crate::plan::Plan;
use crate::render::Rendered;
use crate::target::{Target, TargetOptions};

/// A plan and what it was made from.
pub struct Planned {
    pub live: BTreeMap<String, Value>,
    pub plan: Plan,
    /// The ARM endpoint read.
    pub target: String,
}

pub async fn run(model: &Model, rendered: &Rendered, opts: &TargetOptions) -> Result<Planned> {
    let target = crate::target::connect(opts).await?;
    let result = observe(&target, model, rendered).await;
    target.close().await;
    let (live, plan) = result?;
    Ok(Planned {
        live,
        plan,
        target: crate::target::key(opts),
    })
}

/// Read every declared resource and what this blueprint owns without declaring, and plan.
pub async fn observe(
    target: &Target,
    model: &Model,
    rendered: &Rendered,
) -> Result<(BTreeMap<String, Value>, Plan)> {
    let live = crate::apply::read_all(&target.client, rendered, target.concurrency).await?;
    let mut plan = crate::safety::plan(rendered, &live, &model.owner);
    let (orphans, undeclared) =
        crate::safety::orphans(&target.client, model, rendered, &live, target.concurrency).await?;
    plan.orphans = orphans;
    plan.undeclared = undeclared;
    Ok((live, plan))
}
