//! Several deployments, provisioned throughput and native spillover (AOAI080-AOAI084): what
//! Azure refuses (a spillover target missing from the account, or of another data-processing
//! level: learn.microsoft.com/azure/ai-foundry/openai/how-to/spillover-traffic-management,
//! prerequisites, read 2026-12-06), what a gateway pool does to provisioned backends, and what
//! Front Door cannot route.

use crate::blueprint::{is_provisioned, processing_level, Blueprint};

use super::Ctx;

pub(super) fn check(c: &mut Ctx, b: &Blueprint) {
    let all = b.openai.all_deployments();
    for (i, d) in all.iter().enumerate() {
        let field = format!("{}.spillover", b.openai.deployment_field(i));
        let Some(target) = &d.spillover else { continue };
        let Some(t) = all.iter().find(|x| &x.name == target) else {
            continue; // validation names the missing deployment
        };
        for a in &b.openai.accounts {
            let serves = |n: &str| b.openai.deployments_of(a).iter().any(|x| x.name == n);
            if serves(&d.name) && !serves(target) {
                c.at_field(
                    "AOAI080",
                    &field,
                    format!(
                        "account {} serves {} but not its spillover deployment {target}",
                        a.name, d.name
                    ),
                );
            }
        }
        // Per account: the SKUs the two deployments have there (an account's `skus` entry, or
        // their own); spillover is rendered only where the source is provisioned.
        let mut judged = std::collections::BTreeSet::new();
        for a in &b.openai.accounts {
            let mine = b.openai.deployments_of(a);
            if !mine.iter().any(|x| x.name == d.name) || !mine.iter().any(|x| &x.name == target) {
                continue;
            }
            let (ds, ts) = (
                crate::blueprint::OpenAi::sku_on(a, d),
                crate::blueprint::OpenAi::sku_on(a, t),
            );
            if !is_provisioned(&ds.name) && a.skus.contains_key(&d.name) {
                // Pay-as-you-go on this account: no spillover is rendered here.
                continue;
            }
            if (is_provisioned(&ts.name)
                || processing_level(&ts.name) != processing_level(&ds.name))
                && judged.insert((ds.name.clone(), ts.name.clone()))
            {
                let on = if a.skus.contains_key(&d.name) || a.skus.contains_key(target) {
                    format!(" on account {}", a.name)
                } else {
                    String::new()
                };
                c.at_field(
                    "AOAI081",
                    &field,
                    format!(
                        "{} ({}, {}) cannot spill over to {target} ({}, {}){on}: the target must be a standard deployment of the same data-processing level",
                        d.name,
                        ds.name,
                        processing_level(&ds.name),
                        ts.name,
                        if is_provisioned(&ts.name) { "provisioned".to_string() } else { processing_level(&ts.name).to_string() },
                    ),
                );
            }
        }
        let responses = b.openai.accounts.iter().all(|a| {
            a.kind.or(b.openai.kind).unwrap_or_default()
                == crate::blueprint::AccountKind::AIServices
        }) && b.pattern.has_apim();
        if responses {
            c.at_field(
                "AOAI082",
                &field,
                format!(
                    "{} spills over to {target} for chat completions; requests to the Responses API (/openai/v1/responses) that name {} are not spilled over and get the provisioned deployment's 429",
                    d.name, d.name
                ),
            );
        }
    }
    if b.pattern.has_apim() {
        // A provisioned deployment served by several accounts sits in a pool: a 429 burst trips
        // the backend, and for the whole trip every request goes elsewhere.
        for (i, d) in all.iter().enumerate() {
            let serving: Vec<_> = b
                .openai
                .accounts
                .iter()
                .filter(|a| b.openai.deployments_of(a).iter().any(|x| x.name == d.name))
                .collect();
            // Provisioned on some account: its own SKU, or an account's `skus` entry.
            let (i_acc, ptu) = serving
                .iter()
                .map(|a| (a, crate::blueprint::OpenAi::sku_on(a, d)))
                .find(|(_, s)| is_provisioned(&s.name))
                .map(|(a, s)| (b.openai.accounts.iter().position(|x| x.name == a.name), s))
                .unzip();
            let serving = serving.len();
            if ptu.is_some() && serving > 1 {
                let field = match i_acc.flatten() {
                    Some(j) if !is_provisioned(&d.sku.name) => {
                        format!("openai.accounts[{j}].skus.{}", d.name)
                    }
                    _ => format!("{}.sku", b.openai.deployment_field(i)),
                };
                c.at_field(
                    "AOAI083",
                    &field,
                    format!(
                        "provisioned deployment {} is pooled over {serving} accounts: an account whose circuit breaker trips on its 429s sends none of its traffic to its PTUs until the trip ends, however soon they free up",
                        d.name
                    ),
                );
            }
        }
    }
    if b.pattern == crate::blueprint::Pattern::Afd {
        if let Some((i, _)) =
            b.openai.accounts.iter().enumerate().find(|(_, a)| {
                a.deployments.is_some() && b.openai.deployments_of(a).len() != all.len()
            })
        {
            c.at_field(
                "AOAI084",
                &format!("openai.accounts[{i}].deployments"),
                "Front Door sends every path to every origin: an account that serves only some deployments answers 404 for the others".into(),
            );
        }
    }
}
