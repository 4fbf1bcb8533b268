//! What keeps `apply` safe against a real subscription, decided once in the plan so that every
//! refusal is known before the first write:
//! - ownership: a resource that exists without this blueprint's ownership tag is adopted only
//!   with `--adopt`; a resource group the blueprint did not create is used as it is;
//! - provisioning states: `Failed` is written again, a state still in progress is waited for;
//! - replaces: what Azure deletes with a replaced resource (its children and the resources
//!   scoped to it) is created again, what refers to it is written again;
//! - tags already on a resource that the blueprint does not set are kept, never dropped;
//! - what this blueprint owns and no longer declares is deleted (unless kept by name),
//!   children and referrers before what they belong to or point at.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::Result;
use serde_json::Value;

use crate::engine::plan::{Action, Plan};
use crate::model::{api, Model, OWNER_TAG};
use crate::render::{Rendered, Resource};
use arm_client::ArmClient;

pub fn is_resource_group(resource_type: &str) -> bool {
    resource_type.eq_ignore_ascii_case("Microsoft.Resources/resourceGroups")
}

pub use crate::engine::plan::{provisioning_state, terminal};

fn taggable(body: &Value) -> bool {
    body.get("tags").is_some_and(Value::is_object)
}

/// The nearest resource of the render that `id` sits below (its parent, or the resource an
/// extension resource is scoped to).
fn ancestor(id: &str, index: &HashMap<String, usize>) -> Option<usize> {
    let mut cur = id.to_lowercase();
    while let Some(cut) = cur.rfind('/') {
        cur.truncate(cut);
        if let Some(i) = index.get(&cur) {
            return Some(*i);
        }
    }
    None
}

/// The whole plan for the blueprint whose ownership id is `owner`: the property diffs of
/// [`crate::engine::plan::plan`], then ownership, provisioning states, kept tags and replace cascades.
pub fn plan(rendered: &Rendered, live: &BTreeMap<String, Value>, owner: &str) -> Plan {
    let mut p = crate::engine::plan::plan(rendered, live);
    refine(&mut p, rendered, live, owner);
    p
}

fn refine(plan: &mut Plan, rendered: &Rendered, live: &BTreeMap<String, Value>, owner: &str) {
    let res = &rendered.resources;
    let n = res.len();
    let index: HashMap<String, usize> = res
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.to_lowercase(), i))
        .collect();
    let bodies: Vec<Value> = res.iter().map(Resource::body_json).collect();

    // Ownership, in dependency order so that an ancestor is decided before its children.
    let mut foreign = vec![false; n];
    for i in 0..n {
        let Some(doc) = live.get(&res[i].id.to_lowercase()) else {
            continue;
        };
        let parent = ancestor(&res[i].id, &index);
        foreign[i] = match crate::model::owner_tag(doc) {
            Some(tag) if taggable(&bodies[i]) => tag != owner,
            // A child written before it carried the tag (an account's deployment) belongs to
            // whoever owns its parent.
            None if taggable(&bodies[i]) => parent
                .filter(|&a| !is_resource_group(&res[a].resource_type))
                .is_none_or(|a| foreign[a]),
            _ => parent.is_some_and(|a| foreign[a]),
        };
        let p = &mut plan.resources[i];
        if is_resource_group(&res[i].resource_type) {
            if foreign[i] {
                p.action = Action::UseExisting;
                p.changes.clear();
                p.reason = Some(
                    "exists without this blueprint's ownership tag: used as it is, never written or deleted"
                        .into(),
                );
            }
            continue;
        }
        if let Some(state) = provisioning_state(doc) {
            if !state.eq_ignore_ascii_case("succeeded") {
                p.state = Some(state.to_string());
                if terminal(state) {
                    if p.action == Action::NoChange {
                        p.action = Action::Update;
                    }
                    p.reason = Some(format!(
                        "provisioning state is {state} in Azure: it is written again"
                    ));
                } else {
                    p.reason = Some(format!(
                        "provisioning state is {state} in Azure: apply waits for it to end before writing it or anything that depends on it"
                    ));
                }
            }
        }
        if let (Some(want), Some(have)) = (bodies[i]["tags"].as_object(), doc["tags"].as_object()) {
            p.kept_tags = have
                .keys()
                .filter(|k| !want.keys().any(|w| w.eq_ignore_ascii_case(k)))
                .cloned()
                .collect();
        }
    }

    // Replaces: Azure deletes the children and the resources scoped to a deleted resource;
    // what refers to it must be written again once it exists anew.
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, r) in res.iter().enumerate() {
        for d in &r.depends_on {
            if let Some(j) = index.get(&d.to_lowercase()) {
                dependents[*j].push(i);
            }
        }
    }
    for i in 0..n {
        if plan.resources[i].action != Action::Replace || is_resource_group(&res[i].resource_type) {
            continue;
        }
        let prefix = format!("{}/", res[i].id.to_lowercase());
        let mut seen = BTreeSet::new();
        let mut stack = dependents[i].clone();
        while let Some(d) = stack.pop() {
            if !seen.insert(d) {
                continue;
            }
            stack.extend(dependents[d].iter().copied());
            let p = &mut plan.resources[d];
            if res[d].id.to_lowercase().starts_with(&prefix) {
                if p.action != Action::Create {
                    p.action = Action::Create;
                    p.changes.clear();
                    p.reason = Some(format!(
                        "deleted by Azure with {} when that is replaced: created again",
                        res[i].id
                    ));
                }
            } else if p.action == Action::NoChange {
                p.action = Action::Update;
                p.reason = Some(format!(
                    "depends on {}, which is replaced: written again after it",
                    res[i].id
                ));
            }
        }
    }
    for (i, p) in plan.resources.iter_mut().enumerate() {
        p.adopt = foreign[i] && p.action.writes();
    }
}

/// Every reason `apply` must not start, computed from the plan before the first write.
pub fn refusals(plan: &Plan, allow_replace: bool, adopt: bool) -> Vec<String> {
    let mut out = Vec::new();
    for p in &plan.resources {
        if p.action == Action::Replace && is_resource_group(&p.resource_type) {
            let paths: Vec<&str> = p.changes.iter().map(|c| c.path.as_str()).collect();
            let old = p
                .changes
                .iter()
                .find(|c| c.path == "location")
                .and_then(|c| c.old.as_ref())
                .map(|v| v.to_string())
                .unwrap_or_default();
            out.push(format!(
                "{}: {} cannot change on a resource group, and aoai-arch never deletes one (it holds resources no blueprint owns). Set `location` back to {old}, or choose a new `resourceGroup` and move with a new apply",
                p.id,
                paths.join(", ")
            ));
        } else if p.action == Action::Replace && !allow_replace {
            let paths: Vec<&str> = p
                .changes
                .iter()
                .filter(|c| c.forces_replacement)
                .map(|c| c.path.as_str())
                .collect();
            let children: Vec<&str> = plan
                .deleted_with_parent
                .iter()
                .filter(|c| c.parent.eq_ignore_ascii_case(&p.id))
                .map(|c| c.id.as_str())
                .collect();
            let also = if children.is_empty() {
                String::new()
            } else {
                format!(
                    "; Azure deletes with it {} resource(s) this blueprint does not declare: {}",
                    children.len(),
                    children.join(", ")
                )
            };
            out.push(format!(
                "{}: immutable properties changed ({}); it must be deleted and created again{also}: re-run with --allow-replace",
                p.id,
                paths.join(", ")
            ));
        }
        if p.adopt && !adopt {
            out.push(format!(
                "{}: exists but was not created by this blueprint (no `{OWNER_TAG}` tag with its id); apply would take it over: re-run with --adopt",
                p.id
            ));
        }
    }
    out
}

/// The body to send: the rendered body, plus the tags already on the live resource that the
/// blueprint does not set (a PUT replaces the whole tag set). Unchanged bytes when none.
pub fn with_kept_tags(body: &str, have: Option<&Value>) -> String {
    let Some(live_tags) = have.and_then(|h| h["tags"].as_object()) else {
        return body.to_string();
    };
    let Ok(mut doc) = serde_json::from_str::<Value>(body) else {
        return body.to_string();
    };
    let Some(tags) = doc.get_mut("tags").and_then(Value::as_object_mut) else {
        return body.to_string();
    };
    let mut added = false;
    for (k, v) in live_tags {
        if !tags.keys().any(|t| t.eq_ignore_ascii_case(k)) {
            tags.insert(k.clone(), v.clone());
            added = true;
        }
    }
    if !added {
        return body.to_string();
    }
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| body.to_string())
}

/// What the search for resources no longer declared found.
#[derive(Debug, Default)]
pub struct Orphans {
    /// Owned and no longer declared, in the order apply deletes them.
    pub doomed: Vec<String>,
    /// Undeclared children that nothing proves this blueprint created: left alone.
    pub undeclared: Vec<String>,
    /// For each doomed referrer (a Front Door origin, an API Management backend, a team's
    /// subscription), the doomed resources it points at.
    pub points_at: BTreeMap<String, Vec<String>>,
}

/// `keep` (a `--keep` value or a `lifecycle.keep` entry) names `id`: the whole id, its path
/// from the provider on, or its last segments (`aoai-x`, `accounts/aoai-x`), without case.
pub fn keeps(id: &str, keep: &str) -> bool {
    let (id, keep) = (
        id.to_lowercase(),
        keep.trim().trim_matches('/').to_lowercase(),
    );
    !keep.is_empty() && (id.trim_matches('/') == keep || id.ends_with(&format!("/{keep}")))
}

/// Split `found` by `keep`: what is deleted and what is kept (in the order found).
pub fn apply_keep(found: Orphans, keep: &[String]) -> (Orphans, Vec<String>) {
    let (kept, doomed): (Vec<String>, Vec<String>) = found
        .doomed
        .into_iter()
        .partition(|id| keep.iter().any(|k| keeps(id, k)));
    let points_at = found
        .points_at
        .into_iter()
        .filter(|(id, _)| doomed.contains(id))
        .collect();
    (
        Orphans {
            doomed,
            undeclared: found.undeclared,
            points_at,
        },
        kept,
    )
}

/// What this blueprint owns and no longer declares, in the order apply deletes it, and the
/// undeclared children of its resources that it cannot prove it created.
///
/// Top-level resources carry the ownership tag, and so do the accounts' deployments (the only
/// children that take tags): an undeclared child with this blueprint's tag is deleted. Other
/// children carry none, so an undeclared child of an owned resource is deleted only when it
/// refers to a resource being deleted (a Front Door origin or an API Management backend
/// pointing at a pruned account): left in place it would send traffic nowhere. Children come before their parents and referrers before what
/// they refer to.
///
/// `listed` holds the collections the plan has already listed (by lower-case path): they are
/// not asked again.
pub async fn orphans(
    client: &ArmClient,
    m: &Model,
    rendered: &Rendered,
    live: &BTreeMap<String, Value>,
    listed: &BTreeMap<String, Vec<Value>>,
    concurrency: usize,
) -> Result<Orphans> {
    let declared: BTreeSet<String> = rendered
        .resources
        .iter()
        .map(|r| r.id.to_lowercase())
        .collect();
    let list = match client
        .list(&format!("{}/resources", m.rg_id), api::RESOURCES)
        .await
    {
        Ok(l) => l,
        // A resource group that does not exist yet owns nothing.
        Err(e) if e.status == Some(404) => return Ok(Orphans::default()),
        Err(e) => return Err(anyhow::anyhow!("listing {}: {e}", m.rg_id)),
    };
    let top: Vec<String> = list
        .into_iter()
        .filter(|r| crate::model::owner_tag(r) == Some(m.owner.as_str()))
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .filter(|id| !declared.contains(&id.to_lowercase()))
        .collect();
    // How the pruned resources are referred to: their id, and their host names.
    // Each mark with the id of the resource it stands for.
    let mut marks: Vec<(String, String)> = Vec::new();
    // The document of each, as lower-case text: which of them point at others.
    let mut top_texts: Vec<String> = Vec::new();
    for id in &top {
        marks.push((id.to_lowercase(), id.clone()));
        let collection = id.rsplit_once('/').map(|(c, _)| c.to_lowercase());
        let known = collection.and_then(|c| listed.get(&c)).and_then(|items| {
            items
                .iter()
                .find(|d| d["id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(id)))
        });
        let doc = match known {
            Some(doc) => Some(doc.clone()),
            None => match api_version_for(id) {
                Some(version) => client.get(id, version).await.ok().flatten(),
                None => None,
            },
        };
        if let Some(doc) = &doc {
            marks.extend(hosts(doc).into_iter().map(|h| (h, id.clone())));
        }
        // What Azure lists back on a resource (the private endpoints connected to an account)
        // is not a reference of its own.
        let text = doc.map(|mut d| {
            if let Some(p) = d["properties"].as_object_mut() {
                p.remove("privateEndpointConnections");
            }
            d.to_string().to_lowercase()
        });
        top_texts.push(text.unwrap_or_default());
    }
    // A removed resource that points at another removed one (a private endpoint at its
    // account) goes first.
    let mut top_points: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, text) in top.iter().zip(&top_texts) {
        let targets: Vec<String> = marks
            .iter()
            .filter(|(m, t)| t != id && refers(text, m))
            .map(|(_, t)| t.clone())
            .fold(Vec::new(), |mut v, t| {
                if !v.contains(&t) {
                    v.push(t);
                }
                v
            });
        if !targets.is_empty() {
            top_points.insert(id.clone(), targets);
        }
    }

    // Child collections of owned, existing resources that the blueprint writes into.
    let mut collections = BTreeSet::new();
    for r in &rendered.resources {
        let lower = r.id.to_lowercase();
        let segs: Vec<&str> = lower.rsplitn(3, '/').collect();
        if segs.len() < 3 || lower.contains("/providers/microsoft.authorization/") {
            continue;
        }
        let parent = segs[2];
        let parent_owned = declared.contains(parent)
            && live
                .get(parent)
                .is_some_and(|doc| owned_or_inherited(parent, doc, live, &m.owner));
        if parent_owned
            && !parent.ends_with(&format!(
                "/resourcegroups/{}",
                m.resource_group.to_lowercase()
            ))
        {
            collections.insert((
                format!("{}/{}", &r.id[..parent.len()], segs[1]),
                r.api_version,
            ));
        }
    }
    // Teams: the products and subscriptions of each owned API Management service, listed even
    // when the blueprint declares none any more. Products carry no tags; a product whose
    // description carries this blueprint's mark is its own (a removed team), and so are the
    // subscriptions scoped to it. Nothing else found there is reported.
    let mut implicit = BTreeSet::new();
    for service in m
        .apim
        .iter()
        .chain(m.apim_instances.iter().map(|i| &i.apim))
    {
        let lower = service.id.to_lowercase();
        let owned = live
            .get(&lower)
            .is_some_and(|doc| owned_or_inherited(&lower, doc, live, &m.owner));
        if !owned {
            continue;
        }
        for child in ["products", "subscriptions"] {
            let collection = format!("{}/{child}", service.id);
            if !collections
                .iter()
                .any(|(c, _)| c.eq_ignore_ascii_case(&collection))
            {
                implicit.insert(collection.to_lowercase());
                collections.insert((collection, api::APIM));
            }
        }
    }
    // One list per collection not listed yet, a bounded number at once.
    let mut found: Vec<Value> = Vec::new();
    let collections: Vec<(String, &'static str)> = collections
        .into_iter()
        .filter(|(c, _)| match listed.get(&c.to_lowercase()) {
            Some(items) => {
                found.extend(items.iter().cloned());
                false
            }
            None => true,
        })
        .collect();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (collection, version) in collections {
        let (client, sem) = (client.clone(), sem.clone());
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let res = client.list(&collection, version).await;
            (collection, res)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (collection, res) = joined?;
        match res {
            Ok(items) => found.extend(items),
            Err(e) if e.status == Some(404) => {}
            Err(e) => return Err(anyhow::anyhow!("listing {collection}: {e}")),
        }
    }
    let team_mark = crate::model::teams::owner_mark(&m.owner);
    let mut team_products = Vec::new();
    for item in &found {
        let Some(id) = item["id"].as_str() else {
            continue;
        };
        let is_product = item["type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.ApiManagement/service/products"));
        let ours = item["properties"]["description"]
            .as_str()
            .is_some_and(|d| d.contains(&team_mark));
        if is_product && ours && !declared.contains(&id.to_lowercase()) {
            marks.push((id.to_lowercase(), id.to_string()));
            team_products.push(id.to_string());
        }
    }
    let mut doomed = Vec::new();
    let mut undeclared = Vec::new();
    let mut points_at: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for item in found {
        let Some(id) = item["id"].as_str() else {
            continue;
        };
        if declared.contains(&id.to_lowercase()) {
            continue;
        }
        if team_products.iter().any(|p| p == id) {
            continue;
        }
        let in_implicit = id
            .to_lowercase()
            .rsplit_once('/')
            .is_some_and(|(c, _)| implicit.contains(c));
        let text = item.to_string().to_lowercase();
        let mut targets: Vec<String> = marks
            .iter()
            .filter(|(m, _)| refers(&text, m))
            .map(|(_, t)| t.clone())
            .collect();
        if !targets.is_empty() {
            targets.dedup();
            points_at.insert(id.to_string(), targets);
            doomed.push(id.to_string());
        } else if crate::model::owner_tag(&item) == Some(m.owner.as_str()) {
            // A child that carries this blueprint's tag (an account's deployment) is its own.
            doomed.push(id.to_string());
        } else if !in_implicit {
            undeclared.push(id.to_string());
        }
    }
    doomed.sort();
    undeclared.sort();
    // A removed team's product goes after its subscriptions (which refer to it).
    team_products.sort();
    doomed.extend(team_products);
    // Referring children first, then the rest deepest first (children before parents), each
    // after every removed resource that points at it.
    let depth = |id: &String| id.matches('/').count();
    let mut rest = top;
    rest.sort_by_key(|id| std::cmp::Reverse(depth(id)));
    while !rest.is_empty() {
        let pointed = |id: &String, left: &[String]| {
            left.iter().any(|o| {
                o != id
                    && top_points
                        .get(o)
                        .is_some_and(|ts| ts.iter().any(|t| t == id))
            })
        };
        let (ready, waiting): (Vec<String>, Vec<String>) =
            rest.iter().cloned().partition(|id| !pointed(id, &rest));
        if ready.is_empty() {
            // A circle of references: deepest first.
            doomed.extend(waiting);
            break;
        }
        doomed.extend(ready);
        rest = waiting;
    }
    points_at.extend(top_points);
    Ok(Orphans {
        doomed,
        undeclared,
        points_at,
    })
}

fn owned_or_inherited(id: &str, doc: &Value, live: &BTreeMap<String, Value>, owner: &str) -> bool {
    if doc["tags"].is_object() {
        return crate::model::owner_tag(doc) == Some(owner);
    }
    // An untagged child: owned when its parent is.
    let mut cur = id.to_string();
    while let Some(cut) = cur.rfind('/') {
        cur.truncate(cut);
        if let Some(parent) = live.get(&cur) {
            return owned_or_inherited(&cur, parent, live, owner);
        }
    }
    false
}

/// `text` (a JSON document) names `mark` (an id or a host name) as a whole: between quotes,
/// slashes or a URL scheme, not as the prefix of a longer name.
fn refers(text: &str, mark: &str) -> bool {
    text.match_indices(mark).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + mark.len()..].chars().next();
        matches!(before, Some('"' | '/')) && matches!(after, Some('"' | '/' | ':') | None)
    })
}

/// Host names a resource is reached by (an account's endpoint and custom subdomain).
fn hosts(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(s) = doc["properties"]["customSubDomainName"].as_str() {
        for domain in ["openai.azure.com", "cognitiveservices.azure.com"] {
            out.push(format!("{}.{domain}", s.to_lowercase()));
        }
    }
    if let Some(e) = doc["properties"]["endpoint"].as_str() {
        let host = e
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or("");
        if !host.is_empty() {
            out.push(host.to_lowercase());
        }
    }
    out
}

/// The api-version aoai-arch uses for a resource of this id's type, when it manages the type.
pub fn api_version_for(id: &str) -> Option<&'static str> {
    let lower = id.to_lowercase();
    [
        (
            "/microsoft.insights/diagnosticsettings/",
            api::DIAGNOSTIC_SETTINGS,
        ),
        ("/microsoft.cognitiveservices/", api::COGNITIVE),
        ("/microsoft.apimanagement/", api::APIM),
        ("/microsoft.cdn/", api::CDN),
        (
            "/microsoft.network/frontdoorwebapplicationfirewallpolicies/",
            api::FRONT_DOOR_WAF,
        ),
        ("/microsoft.network/privatednszones/", api::PRIVATE_DNS),
        ("/microsoft.network/", api::NETWORK),
        ("/microsoft.operationalinsights/", api::LOG_ANALYTICS),
        ("/microsoft.insights/", api::INSIGHTS_COMPONENTS),
        ("/microsoft.eventhub/", api::EVENT_HUB),
    ]
    .iter()
    .find(|(p, _)| lower.contains(p))
    .map(|(_, v)| *v)
}
