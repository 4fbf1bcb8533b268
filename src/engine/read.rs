//! `plan`: read live state once and decide, with every safety rule, what apply would do.
//!
//! Live state is read by collection ([`Mode::List`], the default): one list per parent and
//! child type, and per resource group and top-level type, paged with `nextLink`
//! ([`crate::engine::collections`] says which types and why); the lists also serve the search
//! for undeclared children. [`Mode::Get`] reads every resource with its own GET instead (for a
//! principal whose role allows reading the resources but not listing them:
//! `--read-mode get` or `AOAI_ARCH_READ_MODE=get`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use anyhow::Result;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::engine::collections;
use crate::engine::plan::Plan;
use crate::engine::target::{Target, TargetOptions};
use crate::model::Model;
use crate::render::Rendered;
use arm_client::{ArmClient, ArmError};

pub use crate::engine::collections::Mode;

/// What a read of live state found.
#[derive(Debug, Default)]
pub struct Live {
    /// Live documents by lower-case id (a step node `<id>#...` shares its resource's).
    pub docs: BTreeMap<String, Value>,
    /// Every item of every collection listed, by lower-case collection path: the undeclared
    /// ones are what the orphan search looks at.
    pub listed: BTreeMap<String, Vec<Value>>,
}

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
        read(
            &target.client,
            rendered,
            &model.rg_id,
            target.concurrency,
            target.read_mode
        ),
        crate::engine::preflight::gather(&target.client, model, rendered, pre, target.concurrency)
    );
    let Live { docs: live, listed } = live?;
    let mut plan = crate::engine::safety::plan(rendered, &live, &model.owner);
    (plan.preflight, plan.steps) = crate::engine::preflight::evaluate(&facts, model, &live, pre);
    let (orphans, undeclared) = crate::engine::safety::orphans(
        &target.client,
        model,
        rendered,
        &live,
        &listed,
        target.concurrency,
    )
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
            &listed,
            target.concurrency,
        )
        .await?;
        let gone = &plan.deleted_with_parent;
        plan.undeclared
            .retain(|u| !gone.iter().any(|c| c.id.eq_ignore_ascii_case(u)));
    }
    Ok((live, plan))
}

/// Read the live state of every resource of `rendered` (whose resource group is `rg_id`).
pub async fn read(
    client: &ArmClient,
    rendered: &Rendered,
    rg_id: &str,
    concurrency: usize,
    mode: Mode,
) -> Result<Live> {
    match mode {
        Mode::Get => Ok(Live {
            docs: crate::engine::apply::read_all(client, rendered, concurrency).await?,
            listed: BTreeMap::new(),
        }),
        Mode::List => by_collection(client, rendered, rg_id, concurrency).await,
    }
}

/// One request of the read: a list, or the GET of one resource.
struct Unit {
    /// The collection path, or the resource id.
    path: String,
    api_version: &'static str,
    list: bool,
    /// Lower-case ids of the declared resources it answers for.
    members: Vec<String>,
    /// Lower-case id of the nearest declared resource it lies below: read first, and when that
    /// does not exist neither does anything below it (no request).
    after: Option<String>,
}

enum Answer {
    Listed(Vec<Value>, Vec<(String, Option<Value>)>),
    Got(Option<Value>),
    Absent,
}

/// The nearest declared resource strictly above `path`.
fn declared_above(path: &str, declared: &BTreeSet<String>) -> Option<String> {
    let mut cur = path.to_lowercase();
    while let Some(cut) = cur.rfind('/') {
        cur.truncate(cut);
        if declared.contains(&cur) {
            return Some(cur);
        }
    }
    None
}

/// Read by collection: level by level (a collection after the resource it lies below), a
/// bounded number of requests at once, paced by the client.
async fn by_collection(
    client: &ArmClient,
    rendered: &Rendered,
    rg_id: &str,
    concurrency: usize,
) -> Result<Live> {
    // Step nodes (`<id>#lock-down`) share their resource's document.
    let mut nodes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut units: Vec<Unit> = Vec::new();
    let mut by_path: HashMap<String, usize> = HashMap::new();
    let declared: BTreeSet<String> = rendered
        .resources
        .iter()
        .map(|r| r.arm_id().to_lowercase())
        .collect();
    for r in &rendered.resources {
        let arm_id = r.arm_id().to_string();
        let key = arm_id.to_lowercase();
        let readers = nodes.entry(key.clone()).or_default();
        readers.push(r.id.to_lowercase());
        if readers.len() > 1 {
            continue;
        }
        let (path, list) = match collections::collection_of(&arm_id, &r.resource_type, rg_id) {
            Some(c) => (c, true),
            None => (arm_id.clone(), false),
        };
        let lower = path.to_lowercase();
        if list {
            if let Some(&i) = by_path.get(&lower) {
                units[i].members.push(key);
                continue;
            }
        }
        let after = if list {
            declared_above(&format!("{path}/x"), &declared)
        } else {
            declared_above(&arm_id, &declared)
        };
        by_path.insert(lower, units.len());
        units.push(Unit {
            path,
            api_version: r.api_version,
            list,
            members: vec![key],
            after,
        });
    }

    let sem = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut live: BTreeMap<String, Value> = BTreeMap::new();
    let mut listed: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut errors = Vec::new();
    let mut unreachable: Option<String> = None;
    let mut unreachable_count = 0;
    // Resources not read because what they lie below could not be.
    let mut failed: BTreeSet<String> = BTreeSet::new();
    let mut unread = 0;
    let mut pending: Vec<Unit> = units;
    while !pending.is_empty() {
        let (ready, wait): (Vec<Unit>, Vec<Unit>) = pending
            .into_iter()
            .partition(|u| u.after.as_ref().is_none_or(|a| done.contains(a)));
        if ready.is_empty() {
            // Nothing can make progress (cannot happen: every declared resource is read).
            for u in wait {
                errors.push(format!("reading {}: its parent was never read", u.path));
            }
            break;
        }
        pending = wait;
        let mut tasks = Vec::new();
        for u in ready {
            // Below a resource that could not be read nothing is read either: said once.
            if u.after.as_ref().is_some_and(|a| failed.contains(a)) {
                unread += u.members.len();
                failed.extend(u.members.iter().cloned());
                done.extend(u.members);
                continue;
            }
            let parent_absent = u
                .after
                .as_ref()
                .is_some_and(|a| done.contains(a) && !live.contains_key(a));
            let (client, sem) = (client.clone(), sem.clone());
            tasks.push(tokio::spawn(async move {
                if parent_absent {
                    return (u, Ok(Answer::Absent));
                }
                let _permit = sem.acquire_owned().await;
                let res = if u.list {
                    list_unit(&client, &u).await
                } else {
                    client.get(&u.path, u.api_version).await.map(Answer::Got)
                };
                (u, res)
            }));
        }
        for t in tasks {
            let (u, res) = t.await?;
            match res {
                Ok(Answer::Absent) => {}
                Ok(Answer::Got(doc)) => {
                    if let Some(doc) = doc {
                        live.insert(u.members[0].clone(), doc);
                    }
                }
                Ok(Answer::Listed(items, reread)) => {
                    let wanted: BTreeSet<&String> = u.members.iter().collect();
                    for item in &items {
                        let id = item["id"].as_str().unwrap_or("").to_lowercase();
                        if wanted.contains(&id) {
                            live.insert(id, item.clone());
                        }
                    }
                    for (id, doc) in reread {
                        match doc {
                            Some(d) => live.insert(id, d),
                            None => live.remove(&id),
                        };
                    }
                    listed.insert(u.path.to_lowercase(), items);
                }
                Err(e) if e.status.is_none() => {
                    failed.extend(u.members.iter().cloned());
                    unreachable_count += u.members.len();
                    unreachable.get_or_insert_with(|| format!("reading {}: {e}", u.path));
                }
                Err(e) if u.list && e.status == Some(403) => {
                    failed.extend(u.members.iter().cloned());
                    errors.push(format!(
                    "reading {}: {e}\n(listing needs `*/read` on the resource group; with a role that may read each resource but not list them, `--read-mode get` reads them one by one)",
                        u.path
                    ))
                }
                Err(e) => {
                    failed.extend(u.members.iter().cloned());
                    errors.push(format!("reading {}: {e}", u.path))
                }
            }
            done.extend(u.members);
        }
    }
    if let Some(first) = unreachable {
        let more = unreachable_count + unread - 1;
        errors.insert(
            0,
            if more > 0 {
                format!("{first}\n(the same for {more} more resources: nothing was read from them)")
            } else {
                first
            },
        );
    } else if unread > 0 {
        errors.push(format!(
            "{unread} resources below those were not read: nothing was read from them"
        ));
    }
    if !errors.is_empty() {
        anyhow::bail!("{}", errors.join("\n"));
    }
    // Every node of a resource gets its document.
    let mut docs = BTreeMap::new();
    for (arm, readers) in &nodes {
        if let Some(doc) = live.get(arm) {
            for node in readers {
                docs.insert(node.clone(), doc.clone());
            }
        }
    }
    Ok(Live { docs, listed })
}

/// One collection, every page; 404 (the parent or resource group is not there): empty. The
/// items of the listed type that the list shows without a property are read again.
async fn list_unit(client: &ArmClient, u: &Unit) -> Result<Answer, ArmError> {
    let items = match client.list(&u.path, u.api_version).await {
        Ok(items) => items,
        Err(e) if e.status == Some(404) => return Ok(Answer::Listed(Vec::new(), Vec::new())),
        Err(e) => return Err(e),
    };
    let mut reread = Vec::new();
    for item in &items {
        let Some(id) = item["id"].as_str() else {
            continue;
        };
        let key = id.to_lowercase();
        if !u.members.contains(&key) {
            continue;
        }
        let again = item["type"]
            .as_str()
            .and_then(collections::listing)
            .and_then(|l| l.reread)
            .is_some_and(|f| f(item));
        if again {
            reread.push((key, client.get(id, u.api_version).await?));
        }
    }
    Ok(Answer::Listed(items, reread))
}
