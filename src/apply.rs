//! `apply`: converge Azure to the blueprint by walking the resource graph with bounded
//! parallelism. Each resource starts as soon as its dependencies have succeeded; it is planned
//! again at that moment (with the outputs of what just finished), so an unchanged resource
//! costs no write and a second apply makes none at all.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use crate::model::{api, Model};
use crate::plan::{self, Action};
use crate::progress::Progress;
use crate::render::{Rendered, Resource};
use arm_client::ArmClient;

pub struct Options {
    pub concurrency: usize,
    pub allow_replace: bool,
    pub prune: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Replaced,
    Unchanged,
    Failed,
    /// Not attempted: a dependency failed, or the run was interrupted.
    NotStarted,
}

#[derive(Debug)]
pub struct Report {
    pub outcomes: Vec<(String, Outcome, Option<String>)>,
    pub dns_records: Vec<String>,
    pub approvals: Vec<String>,
    pub pruned: Vec<String>,
    pub interrupted: bool,
    pub elapsed: Duration,
}

impl Report {
    pub fn count(&self, o: Outcome) -> usize {
        self.outcomes.iter().filter(|(_, x, _)| *x == o).count()
    }
    pub fn success(&self) -> bool {
        !self.interrupted
            && self.count(Outcome::Failed) == 0
            && self.count(Outcome::NotStarted) == 0
    }

    pub fn summary(&self) -> String {
        let mut s = String::new();
        for (id, o, err) in &self.outcomes {
            if let (Outcome::Failed, Some(e)) = (o, err) {
                s.push_str(&format!("FAILED {id}\n    {e}\n"));
            }
        }
        let not_started: Vec<&str> = self
            .outcomes
            .iter()
            .filter(|(_, o, _)| *o == Outcome::NotStarted)
            .map(|(id, _, _)| id.as_str())
            .collect();
        if !not_started.is_empty() {
            s.push_str("Not attempted (nothing was sent for these):\n");
            for id in &not_started {
                s.push_str(&format!("    {id}\n"));
            }
        }
        for a in &self.approvals {
            s.push_str(&format!("approved private endpoint connection {a}\n"));
        }
        for r in &self.dns_records {
            s.push_str(&format!("{r}\n"));
        }
        for p in &self.pruned {
            s.push_str(&format!("deleted {p} (no longer declared)\n"));
        }
        if self.interrupted {
            s.push_str("Interrupted: resources listed as done were applied; run apply again to converge.\n");
        }
        s.push_str(&format!(
            "Apply {}: {} created, {} updated, {} replaced, {} unchanged, {} failed, {} not attempted ({:.1}s).\n",
            if self.success() { "complete" } else { "incomplete" },
            self.count(Outcome::Created),
            self.count(Outcome::Updated),
            self.count(Outcome::Replaced),
            self.count(Outcome::Unchanged),
            self.count(Outcome::Failed),
            self.count(Outcome::NotStarted),
            self.elapsed.as_secs_f64()
        ));
        s
    }
}

/// Read every managed resource once (bounded concurrency). Returns live documents by
/// lower-case id.
pub async fn read_all(
    client: &ArmClient,
    rendered: &Rendered,
    concurrency: usize,
) -> Result<BTreeMap<String, Value>> {
    let sem = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = Vec::new();
    for r in &rendered.resources {
        let client = client.clone();
        let sem = sem.clone();
        let (id, api) = (r.id.clone(), r.api_version);
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await;
            (id.clone(), client.get(&id, api).await)
        }));
    }
    let mut live = BTreeMap::new();
    let mut errors = Vec::new();
    for t in tasks {
        let (id, res) = t.await?;
        match res {
            Ok(Some(v)) => {
                live.insert(id.to_lowercase(), v);
            }
            Ok(None) => {}
            Err(e) => errors.push(format!("reading {id}: {e}")),
        }
    }
    if !errors.is_empty() {
        anyhow::bail!("{}", errors.join("\n"));
    }
    Ok(live)
}

/// Top-level resources in the resource group tagged as owned by this blueprint that it no
/// longer declares.
pub async fn orphans(client: &ArmClient, m: &Model, rendered: &Rendered) -> Result<Vec<String>> {
    let declared: BTreeSet<String> = rendered
        .resources
        .iter()
        .map(|r| r.id.to_lowercase())
        .collect();
    let owner = m
        .tags
        .get(crate::model::OWNER_TAG)
        .cloned()
        .unwrap_or_default();
    let list = match client
        .list(&format!("{}/resources", m.rg_id), api::RESOURCES)
        .await
    {
        Ok(l) => l,
        // A resource group that does not exist yet owns nothing.
        Err(e) if e.status == Some(404) => return Ok(Vec::new()),
        Err(e) => return Err(anyhow::anyhow!("listing {}: {e}", m.rg_id)),
    };
    Ok(list
        .into_iter()
        .filter(|r| r["tags"][crate::model::OWNER_TAG].as_str() == Some(owner.as_str()))
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .filter(|id| !declared.contains(&id.to_lowercase()))
        .collect())
}

/// Serialisation Azure imposes: one write at a time under one AOAI account.
fn lane(r: &Resource) -> Option<String> {
    if r.resource_type == "Microsoft.CognitiveServices/accounts/deployments" {
        return r.id.rsplitn(3, '/').nth(2).map(|s| s.to_lowercase());
    }
    None
}

struct Shared {
    outputs: Mutex<BTreeMap<String, Value>>,
    lanes: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    dns: Mutex<Vec<String>>,
    approvals: Mutex<Vec<String>>,
}

/// What was read before applying: live documents by lower-case id, and undeclared resources
/// this blueprint owns.
pub struct Observed {
    pub live: BTreeMap<String, Value>,
    pub orphans: Vec<String>,
}

pub async fn apply(
    client: &ArmClient,
    model: &Model,
    rendered: &Rendered,
    observed: Observed,
    opts: &Options,
    progress: Arc<dyn Progress>,
    interrupted: Arc<AtomicBool>,
) -> Report {
    let start = Instant::now();
    let Observed {
        live,
        orphans: orphan_ids,
    } = observed;
    let n = rendered.resources.len();
    let index: HashMap<String, usize> = rendered
        .resources
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.to_lowercase(), i))
        .collect();
    let deps: Vec<Vec<usize>> = rendered
        .resources
        .iter()
        .map(|r| {
            r.depends_on
                .iter()
                .filter_map(|d| index.get(&d.to_lowercase()).copied())
                .collect()
        })
        .collect();
    let shared = Arc::new(Shared {
        outputs: Mutex::new(live.clone()),
        lanes: Mutex::new(HashMap::new()),
        dns: Mutex::new(Vec::new()),
        approvals: Mutex::new(Vec::new()),
    });
    let live = Arc::new(live);
    let mut outcome: Vec<Option<(Outcome, Option<String>)>> = vec![None; n];
    let mut started = vec![false; n];
    let sem = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let mut running = tokio::task::JoinSet::new();

    loop {
        // Start everything whose dependencies succeeded; give up on what depends on a failure.
        if !interrupted.load(Ordering::SeqCst) {
            for i in 0..n {
                if started[i] {
                    continue;
                }
                let dep_states: Vec<Option<Outcome>> = deps[i]
                    .iter()
                    .map(|d| outcome[*d].as_ref().map(|o| o.0))
                    .collect();
                if dep_states
                    .iter()
                    .any(|s| matches!(s, Some(Outcome::Failed | Outcome::NotStarted)))
                {
                    started[i] = true;
                    outcome[i] = Some((Outcome::NotStarted, Some("a dependency failed".into())));
                    continue;
                }
                if dep_states.iter().all(|s| s.is_some()) {
                    started[i] = true;
                    let r = rendered.resources[i].clone();
                    let (client, shared, live, sem, progress) = (
                        client.clone(),
                        shared.clone(),
                        live.clone(),
                        sem.clone(),
                        progress.clone(),
                    );
                    let allow_replace = opts.allow_replace;
                    let profile = model
                        .front_door
                        .as_ref()
                        .map(|f| f.profile.clone())
                        .unwrap_or_default();
                    running.spawn(async move {
                        let _permit = sem.acquire_owned().await;
                        let res = one(
                            &client,
                            &r,
                            &shared,
                            &live,
                            allow_replace,
                            &profile,
                            progress.as_ref(),
                        )
                        .await;
                        (i, res)
                    });
                }
            }
        }
        match running.join_next().await {
            Some(Ok((i, res))) => {
                outcome[i] = Some(match res {
                    Ok(o) => (o, None),
                    Err(e) => (Outcome::Failed, Some(e)),
                });
            }
            Some(Err(e)) => {
                // A panicked task: surface it, nothing else to attribute it to.
                eprintln!("internal error in an apply task: {e}");
            }
            None => break,
        }
    }
    let mut outcomes = Vec::new();
    for (i, r) in rendered.resources.iter().enumerate() {
        let (o, e) = outcome[i].clone().unwrap_or((Outcome::NotStarted, None));
        outcomes.push((r.id.clone(), o, e));
    }

    let mut pruned = Vec::new();
    if opts.prune
        && !interrupted.load(Ordering::SeqCst)
        && outcomes.iter().all(|(_, o, _)| *o != Outcome::Failed)
    {
        for id in orphan_ids {
            progress.start(&id, "deleting (no longer declared)");
            match delete_any(client, &id).await {
                Ok(()) => {
                    progress.finish(&id, "deleted");
                    pruned.push(id);
                }
                Err(e) => {
                    progress.finish(&id, &format!("delete failed: {e}"));
                    outcomes.push((id, Outcome::Failed, Some(e)));
                }
            }
        }
    }
    let dns_records = shared.dns.lock().map(|d| d.clone()).unwrap_or_default();
    let approvals = shared
        .approvals
        .lock()
        .map(|d| d.clone())
        .unwrap_or_default();
    Report {
        outcomes,
        dns_records,
        approvals,
        pruned,
        interrupted: interrupted.load(Ordering::SeqCst),
        elapsed: start.elapsed(),
    }
}

/// Delete a top-level resource found by listing: its api-version is the one we render with for
/// that type, when we know it.
async fn delete_any(client: &ArmClient, id: &str) -> std::result::Result<(), String> {
    let lower = id.to_lowercase();
    let version = [
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
    .ok_or_else(|| format!("aoai-arch does not manage resources like {id}"))?;
    client.delete(id, version).await.map_err(|e| e.to_string())
}

async fn one(
    client: &ArmClient,
    r: &Resource,
    shared: &Shared,
    live: &BTreeMap<String, Value>,
    allow_replace: bool,
    profile: &str,
    progress: &dyn Progress,
) -> std::result::Result<Outcome, String> {
    // Only the documents this body's placeholders read from (copying every output for every
    // resource is quadratic in the size of the blueprint).
    let outputs: BTreeMap<String, Value> = {
        let sources = plan::placeholder_sources(&r.body);
        match shared.outputs.lock() {
            Ok(all) => sources
                .iter()
                .filter_map(|id| {
                    let key = id.to_lowercase();
                    all.get(&key).map(|doc| (key, doc.clone()))
                })
                .collect(),
            Err(_) => BTreeMap::new(),
        }
    };
    let have = live.get(&r.id.to_lowercase());
    let p = plan::plan_resource(r, have, &outputs);
    let body = plan::resolve(&r.body, &outputs);
    if body.contains("${after-apply:") {
        return Err("a value known only after apply is still unknown (its source resource has no such property)".into());
    }
    let outcome = match p.action {
        Action::NoChange => {
            progress.finish(&r.id, "unchanged");
            return Ok(Outcome::Unchanged);
        }
        Action::Create => Outcome::Created,
        Action::Update => Outcome::Updated,
        Action::Replace => {
            if !allow_replace {
                let paths: Vec<&str> = p
                    .changes
                    .iter()
                    .filter(|c| c.forces_replacement)
                    .map(|c| c.path.as_str())
                    .collect();
                return Err(format!(
                    "immutable properties changed ({}): the resource must be replaced; re-run with --allow-replace to delete and recreate it",
                    paths.join(", ")
                ));
            }
            Outcome::Replaced
        }
    };
    let lane_lock = lane(r).map(|key| {
        let mut lanes = shared.lanes.lock().expect("lanes lock");
        lanes.entry(key).or_default().clone()
    });
    let _lane = match &lane_lock {
        Some(l) => Some(l.lock().await),
        None => None,
    };
    if outcome == Outcome::Replaced {
        progress.start(&r.id, "deleting (replace)");
        client
            .delete(&r.id, r.api_version)
            .await
            .map_err(|e| e.to_string())?;
    }
    progress.start(
        &r.id,
        if outcome == Outcome::Created {
            "creating"
        } else {
            "updating"
        },
    );
    let report = |state: &str| progress.update(&r.id, state);
    let result = client
        .put_text(&r.id, r.api_version, &body, &report)
        .await
        .map_err(|e| e.to_string())?;
    progress.finish(
        &r.id,
        match outcome {
            Outcome::Created => "created",
            Outcome::Replaced => "replaced",
            _ => "updated",
        },
    );
    after(client, r, &result, shared, profile, progress).await?;
    if let Ok(mut o) = shared.outputs.lock() {
        o.insert(r.id.to_lowercase(), result);
    }
    Ok(outcome)
}

/// Follow-ups Azure needs outside the resource bodies.
async fn after(
    client: &ArmClient,
    r: &Resource,
    result: &Value,
    shared: &Shared,
    profile: &str,
    progress: &dyn Progress,
) -> std::result::Result<(), String> {
    // Front Door's Private Link origin leaves a Pending connection on the target: approve ours.
    if r.resource_type == "Microsoft.Cdn/profiles/originGroups/origins" {
        let want = r.body_json();
        let spl = &want["properties"]["sharedPrivateLinkResource"];
        if let (Some(target), Some(message)) = (
            spl["privateLink"]["id"].as_str(),
            spl["requestMessage"].as_str(),
        ) {
            let conns = client
                .list(&format!("{target}/privateEndpointConnections"), api::APIM)
                .await
                .map_err(|e| format!("listing private endpoint connections of {target}: {e}"))?;
            for c in conns {
                let state = &c["properties"]["privateLinkServiceConnectionState"];
                let ours = state["description"].as_str() == Some(message)
                    || c["properties"]["requestMessage"].as_str() == Some(message);
                if state["status"].as_str() == Some("Pending") && ours {
                    let Some(cid) = c["id"].as_str() else {
                        continue;
                    };
                    progress.start(cid, "approving private endpoint connection");
                    let body = json!({ "properties": { "privateLinkServiceConnectionState": {
                        "status": "Approved",
                        "description": format!("Approved by aoai-arch for Front Door {profile}"),
                    }}});
                    let text = serde_json::to_string_pretty(&body).unwrap_or_default();
                    client
                        .put_text(cid, api::APIM, &text, &|_: &str| {})
                        .await
                        .map_err(|e| format!("approving {cid}: {e}"))?;
                    progress.finish(cid, "approved");
                    if let Ok(mut a) = shared.approvals.lock() {
                        a.push(cid.to_string());
                    }
                }
            }
        }
    }
    // A custom domain is validated through a TXT record the user must publish.
    if r.resource_type == "Microsoft.Cdn/profiles/customDomains" {
        let host = result["properties"]["hostName"].as_str().unwrap_or("");
        if let Some(token) =
            result["properties"]["validationProperties"]["validationToken"].as_str()
        {
            if let Ok(mut d) = shared.dns.lock() {
                d.push(format!(
                    "DNS: create TXT record _dnsauth.{host} with value \"{token}\" to validate the custom domain (then CNAME {host} to the endpoint host name)"
                ));
            }
        }
    }
    Ok(())
}
