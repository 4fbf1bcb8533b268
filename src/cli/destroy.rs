//! `destroy`: delete what this blueprint owns, and nothing else.
//!
//! Owned is what `apply` would treat as owned (see `safety`): a top-level resource of the group
//! whose `aoai-arch-blueprint` tag is this blueprint's id, a declared resource without tags (a
//! budget, a role assignment) whose scope is owned, and the resource group only when its tag
//! says this blueprint created it and nothing is left in it. Children go with their parent.
//! Deletes run in reverse dependency order, in waves (see [`waves`]). Azure keeps deleted Cognitive Services
//! (Azure OpenAI) accounts and API Management services soft-deleted for 48 hours, with their
//! names taken; `--purge` purges them.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::args::{TargetArgs, TemplateArgs};
use super::shared::{confirmed, load, runtime};
use crate::blueprint::vars::Vars;
use serde_json::Value;

use crate::engine::target::{Target, TargetOptions};
use crate::model::{api, Model};
use crate::render::Rendered;
use arm_client::ArmClient;

#[derive(Args)]
pub struct DestroyArgs {
    blueprint: PathBuf,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long)]
    auto_approve: bool,
    /// Also purge the Azure OpenAI accounts and API Management services Azure keeps
    /// soft-deleted for 48 hours (their names stay taken until then).
    #[arg(long)]
    purge: bool,
    /// Take the apply lock even when another run holds it (a run that was killed).
    #[arg(long)]
    break_lock: bool,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    templates: TemplateArgs,
}

pub fn run(args: DestroyArgs, vars: &Vars) -> Result<ExitCode> {
    let DestroyArgs {
        blueprint,
        auto_approve,
        purge,
        break_lock,
        target,
        templates,
    } = args;
    let loaded = load(&blueprint, vars)?;
    let (model, rendered) = crate::render::render_file(&loaded, templates.templates.as_deref())?;
    if !auto_approve && !std::io::stdin().is_terminal() {
        anyhow::bail!("stdin is not a terminal: pass --auto-approve to destroy without confirmation; nothing was deleted");
    }
    let rt = runtime()?;
    rt.block_on(execute(
        &model,
        &rendered,
        &target.to_options(),
        &Flags {
            auto_approve,
            purge,
            break_lock,
        },
    ))
}

pub struct Flags {
    pub auto_approve: bool,
    pub purge: bool,
    pub break_lock: bool,
}

/// A resource destroy deletes.
struct Doomed {
    id: String,
    api_version: &'static str,
    resource_type: String,
    location: String,
    /// Where it is kept soft-deleted after the delete (its purge path), if its type is.
    soft: Option<String>,
}

pub async fn execute(
    model: &Model,
    rendered: &Rendered,
    opts: &TargetOptions,
    flags: &Flags,
) -> Result<ExitCode> {
    let target = crate::engine::target::connect(opts).await?;
    let result = destroy(&target, model, rendered, flags).await;
    target.close().await;
    result
}

/// The purge path of a soft-deleted account or service (see [`crate::engine::soft_delete`]).
fn soft_delete_path(m: &Model, resource_type: &str, name: &str, location: &str) -> Option<String> {
    let (ns, ty) = resource_type.split_once('/')?;
    let id = format!("{}/providers/{ns}/{ty}/{name}", m.rg_id);
    crate::engine::soft_delete::purge_path(&id, location).map(|(p, _)| p)
}

fn soft_api(path: &str) -> &'static str {
    if path.contains("/Microsoft.CognitiveServices/") {
        api::COGNITIVE
    } else {
        api::APIM
    }
}

async fn destroy(
    target: &Target,
    m: &Model,
    rendered: &Rendered,
    flags: &Flags,
) -> Result<ExitCode> {
    let client = &target.client;
    let Some(Inventory {
        doomed,
        kept,
        rg_owned,
    }) = inventory(client, m, rendered).await?
    else {
        return purge_leftovers(client, m, flags, &[], false).await;
    };
    let rg_goes = rg_owned && kept.is_empty();
    // What Azure deletes with them that the blueprint does not declare (owned or not).
    let parents: Vec<String> = doomed.iter().map(|d| d.id.clone()).collect();
    let with_parent: Vec<crate::engine::children::Child> =
        crate::engine::children::undeclared_under(
            client,
            rendered,
            &parents,
            &Default::default(),
            target.concurrency,
        )
        .await?
        .into_iter()
        .filter(|c| !parents.iter().any(|p| p.eq_ignore_ascii_case(&c.id)))
        .collect();
    print_plan(m, flags, &doomed, &with_parent, &kept, rg_owned, rg_goes);
    if doomed.is_empty() && !rg_goes {
        return purge_leftovers(client, m, flags, &[], false).await;
    }
    let question = format!("Delete these resources in {}?", target.description);
    if !flags.auto_approve && !confirmed(&question)? {
        println!("Cancelled; nothing was deleted.");
        return Ok(ExitCode::from(1));
    }
    // Never while an apply of this blueprint runs (the same lease as apply, crate::engine::lock).
    let lease = crate::engine::lock::acquire(client, m, true, flags.break_lock).await?;
    let result: Result<ExitCode> = async {
        let deleted = match delete_in_waves(target, &doomed, rendered, &lease).await? {
            Ok(deleted) => deleted,
            Err(code) => return Ok(code),
        };
        let soft_paths: Vec<String> = doomed.iter().filter_map(|d| d.soft.clone()).collect();
        let rg_deleted = rg_goes && delete_group_if_empty(client, m).await?;
        println!(
            "Destroy complete: {deleted} deleted, resource group {}.",
            if rg_deleted { "deleted" } else { "kept" }
        );
        purge_leftovers(client, m, flags, &soft_paths, true).await
    }
    .await;
    // Gone with the resource group when that was deleted (then a 404, which is fine).
    lease.release().await;
    result
}

/// What destroy deletes and what it keeps (with the reason), read from live state.
struct Inventory {
    doomed: Vec<Doomed>,
    kept: Vec<String>,
    /// The resource group carries this blueprint's ownership tag.
    rg_owned: bool,
}

/// Sort the group's resources into owned (deleted, in plan order) and kept; `None` when the
/// resource group does not exist.
async fn inventory(
    client: &ArmClient,
    m: &Model,
    rendered: &Rendered,
) -> Result<Option<Inventory>> {
    let rg = client
        .get(&m.rg_id, api::RESOURCES)
        .await
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", m.rg_id))?;
    let Some(rg) = rg else {
        println!(
            "Resource group {} does not exist: nothing to destroy.",
            m.resource_group
        );
        return Ok(None);
    };
    let rg_owned = crate::model::owner_tag(&rg) == Some(m.owner.as_str());
    let listed = client
        .list(&format!("{}/resources", m.rg_id), api::RESOURCES)
        .await
        .map_err(|e| anyhow::anyhow!("listing {}: {e}", m.rg_id))?;

    // Position in the render: deletes run from the last to the first.
    let position: BTreeMap<String, usize> = rendered
        .resources
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.to_lowercase(), i))
        .collect();
    let untagged_declared = |id: &str| {
        rendered.resources.iter().any(|r| {
            r.id.eq_ignore_ascii_case(id)
                && !r.body_json().get("tags").is_some_and(Value::is_object)
        })
    };
    let mut doomed: Vec<Doomed> = Vec::new();
    let mut kept: Vec<String> = Vec::new();
    for item in &listed {
        let Some(id) = item["id"].as_str() else {
            continue;
        };
        let rtype = item["type"].as_str().unwrap_or("").to_string();
        let owned = crate::model::owner_tag(item) == Some(m.owner.as_str())
            || (rg_owned && untagged_declared(id));
        let version = rendered
            .resources
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(id))
            .map(|r| r.api_version)
            .or_else(|| crate::engine::safety::api_version_for(id));
        match (owned, version) {
            (true, Some(v)) => {
                let location = item["location"].as_str().unwrap_or("").to_string();
                let name = id.rsplit('/').next().unwrap_or("");
                doomed.push(Doomed {
                    id: id.to_string(),
                    api_version: v,
                    soft: soft_delete_path(m, &rtype, name, &location),
                    resource_type: rtype,
                    location,
                });
            }
            (true, None) => kept.push(format!(
                "{} (owned, but aoai-arch does not manage its type {rtype}: delete it yourself)",
                crate::engine::plan_text::provider_path(id)
            )),
            (false, _) if untagged_declared(id) => kept.push(format!(
                "{} (declared by this blueprint, but its type has no tags and the resource group is not this blueprint's, so nothing proves this blueprint created it: delete it yourself)",
                crate::engine::plan_text::provider_path(id)
            )),
            (false, _) => kept.push(format!(
                "{} (not owned by this blueprint)",
                crate::engine::plan_text::provider_path(id)
            )),
        }
    }
    // Declared resources without tags at the group's scope (a budget), which ARM's listing of
    // a group does not show (it lists tracked resources only): this blueprint's when the group
    // is, otherwise nothing proves it.
    let prefix = format!("{}/providers/", m.rg_id.to_lowercase());
    for r in &rendered.resources {
        let lower = r.id.to_lowercase();
        let at_group_scope =
            lower.starts_with(&prefix) && lower[prefix.len()..].matches('/').count() == 2;
        let listed_already = listed.iter().any(|l| {
            l["id"]
                .as_str()
                .is_some_and(|i| i.eq_ignore_ascii_case(&r.id))
        });
        if !at_group_scope
            || listed_already
            || !untagged_declared(&r.id)
            || client.get(&r.id, r.api_version).await?.is_none()
        {
            continue;
        }
        if rg_owned {
            doomed.push(Doomed {
                id: r.id.clone(),
                api_version: r.api_version,
                resource_type: r.resource_type.clone(),
                location: String::new(),
                soft: None,
            });
        } else {
            kept.push(format!(
                "{} (declared by this blueprint, but its type has no tags and the resource group is not this blueprint's, so nothing proves this blueprint created it: delete it yourself)",
                crate::engine::plan_text::provider_path(&r.id)
            ));
        }
    }
    // Declared resources below an owned one that Azure keeps when it is deleted (role
    // assignments on an account; diagnostic settings, which a resource created again under the
    // same name would inherit), deleted first.
    for r in &rendered.resources {
        if r.resource_type != "Microsoft.Authorization/roleAssignments"
            && r.resource_type != "Microsoft.Insights/diagnosticSettings"
        {
            continue;
        }
        let scope_owned = doomed.iter().any(|d| {
            r.id.to_lowercase()
                .starts_with(&format!("{}/", d.id.to_lowercase()))
        });
        if scope_owned && client.get(&r.id, r.api_version).await?.is_some() {
            doomed.push(Doomed {
                id: r.id.clone(),
                api_version: r.api_version,
                resource_type: r.resource_type.clone(),
                location: String::new(),
                soft: None,
            });
        }
    }
    // For the plan: undeclared first (deepest first), then the render's order reversed.
    doomed.sort_by_key(|d| match position.get(&d.id.to_lowercase()) {
        None => (0, std::cmp::Reverse(d.id.matches('/').count()), 0),
        Some(i) => (1, std::cmp::Reverse(0), usize::MAX - i),
    });
    Ok(Some(Inventory {
        doomed,
        kept,
        rg_owned,
    }))
}

/// The plan: what goes, what stays and why, what stays soft-deleted.
fn print_plan(
    m: &Model,
    flags: &Flags,
    doomed: &[Doomed],
    with_parent: &[crate::engine::children::Child],
    kept: &[String],
    rg_owned: bool,
    rg_goes: bool,
) {
    for d in doomed {
        println!(
            "- {} will be deleted ({})",
            crate::engine::plan_text::provider_path(&d.id),
            d.resource_type
        );
    }
    for c in with_parent {
        println!(
            "- {} will be deleted with its parent {} (not declared by this blueprint: Azure deletes it with the parent)",
            crate::engine::plan_text::provider_path(&c.id),
            crate::engine::plan_text::provider_path(&c.parent)
        );
    }
    for k in kept {
        println!("  {k}: kept");
    }
    if rg_goes {
        println!(
            "- resource group {} will be deleted (created by this blueprint, empty afterwards)",
            m.resource_group
        );
    } else if rg_owned {
        println!(
            "  resource group {}: kept (it holds resources this blueprint does not own)",
            m.resource_group
        );
    } else {
        println!(
            "  resource group {}: kept (not created by this blueprint)",
            m.resource_group
        );
    }
    let soft: Vec<&Doomed> = doomed.iter().filter(|d| d.soft.is_some()).collect();
    for d in &soft {
        if flags.purge {
            println!(
                "  {} ({}) is soft-deleted by Azure, then purged (--purge)",
                crate::engine::plan_text::provider_path(&d.id),
                d.location
            );
        } else {
            println!(
                "  {} ({}) stays soft-deleted for 48 hours, its name taken: re-run with --purge to purge it",
                crate::engine::plan_text::provider_path(&d.id),
                d.location
            );
        }
    }
    println!(
        "Destroy: {} to delete{}, {} kept, resource group {}.",
        doomed.len(),
        if with_parent.is_empty() {
            String::new()
        } else {
            format!(" (and {} deleted with their parents)", with_parent.len())
        },
        kept.len(),
        if rg_goes { "deleted" } else { "kept" }
    );
}

/// Delete wave by wave: a resource goes once everything that depends on it has gone; the
/// resources of a wave at once (bounded). After a wave with a failure, stop: what follows may
/// depend on what failed. `Ok(Ok(n))`: all `n` deleted; `Ok(Err(code))`: stopped, reported.
async fn delete_in_waves(
    target: &Target,
    doomed: &[Doomed],
    rendered: &Rendered,
    lease: &crate::engine::lock::Lease,
) -> Result<std::result::Result<usize, ExitCode>> {
    let client = &target.client;
    let mut deleted = 0;
    let waves = waves(doomed, rendered);
    for (w, wave) in waves.iter().enumerate() {
        if lease.lost() {
            anyhow::bail!("the apply lock was broken or taken over by another run: stopped before deleting more ({deleted} deleted)");
        }
        let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(target.concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for &i in wave {
            let (client, sem) = (client.clone(), sem.clone());
            let (id, version) = (doomed[i].id.clone(), doomed[i].api_version);
            tasks.spawn(async move {
                let _permit = sem.acquire_owned().await;
                eprintln!(
                    "{} deleting {}",
                    crate::engine::progress::utc_now(),
                    crate::engine::plan_text::provider_path(&id)
                );
                let res = client.delete(&id, version).await;
                (id, res)
            });
        }
        let mut failed = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (id, res) = joined?;
            match res {
                Ok(()) => deleted += 1,
                Err(e) => failed.push(format!("FAILED {id}: {e}")),
            }
        }
        if !failed.is_empty() {
            for f in &failed {
                println!("{f}");
            }
            println!("Not attempted (nothing was sent for these):");
            for rest in &waves[w + 1..] {
                for &i in rest {
                    println!("  {}", doomed[i].id);
                }
            }
            println!(
                "Destroy incomplete: {deleted} deleted, {} failed.",
                failed.len()
            );
            return Ok(Err(ExitCode::from(1)));
        }
    }
    Ok(Ok(deleted))
}

/// Delete the resource group, only when nothing appeared in it meanwhile.
async fn delete_group_if_empty(client: &ArmClient, m: &Model) -> Result<bool> {
    let left = client
        .list(&format!("{}/resources", m.rg_id), api::RESOURCES)
        .await
        .map_err(|e| anyhow::anyhow!("listing {}: {e}", m.rg_id))?;
    if left.is_empty() {
        eprintln!(
            "{} deleting resource group {}",
            crate::engine::progress::utc_now(),
            m.resource_group
        );
        client
            .delete(&m.rg_id, api::RESOURCES)
            .await
            .map_err(|e| anyhow::anyhow!("deleting {}: {e}", m.rg_id))?;
        return Ok(true);
    } else {
        println!(
            "resource group {} kept: {} resource(s) appeared in it during destroy",
            m.resource_group,
            left.len()
        );
    }
    Ok(false)
}

/// The dependencies of a rendered resource that order deletes: every one, except those that
/// come only from `${after-apply:...}` placeholders copying a value into a setting (a named
/// value holding the Front Door id, a logger's key, a role assignment's principal id). Such an
/// edge runs against the others (the Front Door profile's origins point at API Management,
/// whose named value holds the profile's id) and makes the graph cyclic; deleting the value's
/// source first breaks nothing that still runs. Placeholders naming a host to send traffic to
/// (`|host`: an origin's gateway host) are kept, as are ids written in the body.
fn delete_dependencies(r: &crate::render::Resource) -> Vec<String> {
    let body = &r.body;
    let mut copied = Vec::new();
    let mut kept = Vec::new();
    let mut outside = String::with_capacity(body.len());
    let mut rest = body.as_str();
    while let Some(at) = rest.find("${after-apply:") {
        outside.push_str(&rest[..at]);
        let tail = &rest[at..];
        let end = tail.find('}').map_or(tail.len(), |e| e + 1);
        let token = &tail[..end];
        let inner = token.trim_start_matches("${after-apply:");
        if let Some((id, pointer)) = inner.split_once('#') {
            let id = id.to_lowercase();
            if pointer.contains("|host") {
                kept.push(id);
            } else {
                copied.push(id);
            }
        }
        rest = &tail[end..];
    }
    outside.push_str(rest);
    let outside = outside.to_lowercase();
    r.depends_on
        .iter()
        .map(|d| d.to_lowercase())
        .filter(|d| !copied.contains(d) || kept.contains(d) || outside.contains(d.as_str()))
        .collect()
}

/// The order of deletes, as waves of indexes into `doomed`: what the blueprint no longer
/// declares first, then a resource only after every resource whose render (itself or anything
/// below it) depends on it or on anything below it, on the dependencies of
/// [`delete_dependencies`] (value copies cut). That graph is acyclic for every blueprint
/// aoai-arch renders; should a cycle remain, the resource of the cycle that the fewest wait
/// for goes first, alone.
fn waves(doomed: &[Doomed], rendered: &Rendered) -> Vec<Vec<usize>> {
    let n = doomed.len();
    let lower: Vec<String> = doomed.iter().map(|d| d.id.to_lowercase()).collect();
    let under = |id: &str, top: &str| id == top || id.starts_with(&format!("{top}/"));
    let declared: Vec<bool> = (0..n)
        .map(|i| {
            rendered
                .resources
                .iter()
                .any(|r| r.id.to_lowercase() == lower[i])
        })
        .collect();
    // What the resources that go with each doomed one depend on (those below it that are not
    // deleted on their own, like a role assignment on an account).
    let needs: Vec<Vec<String>> = (0..n)
        .map(|i| {
            rendered
                .resources
                .iter()
                .filter(|r| {
                    let id = r.id.to_lowercase();
                    under(&id, &lower[i])
                        && !(0..n)
                            .any(|j| j != i && under(&lower[j], &lower[i]) && under(&id, &lower[j]))
                })
                .flat_map(delete_dependencies)
                .collect()
        })
        .collect();
    // e -> d: e is deleted before d.
    let mut before: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut waiting_on = vec![0usize; n];
    for d in (0..n).filter(|&d| declared[d]) {
        for e in (0..n).filter(|&e| e != d && declared[e]) {
            // A resource deleted on its own below d (a role assignment) goes first, and so
            // does whatever depends on d.
            let first = under(&lower[e], &lower[d])
                || (!under(&lower[d], &lower[e]) && needs[e].iter().any(|x| under(x, &lower[d])));
            if first {
                before[e].push(d);
                waiting_on[d] += 1;
            }
        }
    }
    let mut out = Vec::new();
    let undeclared: Vec<usize> = (0..n).filter(|&i| !declared[i]).collect();
    if !undeclared.is_empty() {
        out.push(undeclared);
    }
    let mut left: Vec<usize> = (0..n).filter(|&i| declared[i]).collect();
    while !left.is_empty() {
        let mut wave: Vec<usize> = left
            .iter()
            .copied()
            .filter(|&i| waiting_on[i] == 0)
            .collect();
        if wave.is_empty() {
            // A cycle: break it at the resource the fewest wait for.
            let pick = left
                .iter()
                .copied()
                .min_by_key(|&i| (waiting_on[i], std::cmp::Reverse(i)))
                .unwrap_or(left[0]);
            wave.push(pick);
        }
        for &e in &wave {
            for &d in &before[e] {
                waiting_on[d] = waiting_on[d].saturating_sub(1);
            }
        }
        left.retain(|i| !wave.contains(i));
        out.push(wave);
    }
    out
}

/// Soft-deleted accounts and services of this blueprint: those just deleted, and those of its
/// accounts and API Management service left soft-deleted by an earlier destroy. With
/// `--purge` they are purged; without, they are listed.
async fn purge_leftovers(
    client: &ArmClient,
    m: &Model,
    flags: &Flags,
    just_deleted: &[String],
    confirmed: bool,
) -> Result<ExitCode> {
    let mut paths: Vec<String> = just_deleted.to_vec();
    let mut candidates: Vec<String> = m
        .accounts
        .iter()
        .filter_map(|a| {
            soft_delete_path(
                m,
                "Microsoft.CognitiveServices/accounts",
                &a.name,
                &a.region,
            )
        })
        .collect();
    // The service and every service of `apim.instances`, each in its own region.
    let services: Vec<(&crate::model::ApimM, &str)> = m
        .apim
        .iter()
        .map(|a| (a, m.location.as_str()))
        .chain(
            m.apim_instances
                .iter()
                .map(|i| (&i.apim, i.location.as_str())),
        )
        .collect();
    for (a, location) in &services {
        candidates.extend(soft_delete_path(
            m,
            "Microsoft.ApiManagement/service",
            &a.name,
            location,
        ));
    }
    for c in candidates {
        if paths.iter().any(|p| p.eq_ignore_ascii_case(&c)) {
            continue;
        }
        let Ok(Some(doc)) = client.get(&c, soft_api(&c)).await else {
            continue;
        };
        // Only what this blueprint owned: the account's tag, or the service's former id.
        let owned = crate::model::owner_tag(&doc) == Some(m.owner.as_str())
            || services.iter().any(|(a, _)| {
                doc["properties"]["serviceId"]
                    .as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(&a.id))
            });
        if owned {
            paths.push(c);
        }
    }
    if paths.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if !flags.purge {
        println!(
            "Soft-deleted by Azure (kept 48 hours, names taken; `destroy --purge` purges them):"
        );
        for p in &paths {
            println!("  {}", crate::engine::plan_text::provider_path(p));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !confirmed && !flags.auto_approve {
        print!("Purge these (they cannot be recovered)? Type 'yes' to continue: ");
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            println!("Cancelled; nothing was purged.");
            return Ok(ExitCode::from(1));
        }
    }
    let mut failed = false;
    for p in &paths {
        eprintln!(
            "{} purging {}",
            crate::engine::progress::utc_now(),
            crate::engine::plan_text::provider_path(p)
        );
        match client.delete(p, soft_api(p)).await {
            Ok(()) => println!("purged {}", crate::engine::plan_text::provider_path(p)),
            Err(e) => {
                println!("FAILED purge {p}: {e}");
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
