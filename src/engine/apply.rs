//! `apply`: converge Azure to the blueprint by walking the resource graph with bounded
//! parallelism. Each resource starts as soon as its dependencies have succeeded; it is planned
//! again at that moment (with the outputs of what just finished), so an unchanged resource
//! costs no write and a second apply makes none at all.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::engine::plan::{self, Action};
use crate::engine::progress::Progress;
use crate::model::Model;
use crate::render::{Rendered, Resource};
use arm_client::ArmClient;

pub struct Options {
    pub concurrency: usize,
}

/// How a run is watched and stopped: progress display, the interrupt flag (set by the first
/// Ctrl-C: start nothing new) and the ledger of what is in flight.
pub struct Controls {
    pub progress: Arc<dyn Progress>,
    pub interrupted: Arc<AtomicBool>,
    pub ledger: Arc<Ledger>,
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
            s.push_str(&format!(
                "deleted {} (no longer declared)\n",
                crate::engine::plan_text::provider_path(p)
            ));
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
    // One read per ARM resource; a step node (`<id>#lock-down`) shares the document of the
    // resource it writes again, keyed by node.
    let mut nodes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut tasks = Vec::new();
    for r in &rendered.resources {
        let arm_id = r.arm_id().to_string();
        let readers = nodes.entry(arm_id.to_lowercase()).or_default();
        readers.push(r.id.to_lowercase());
        if readers.len() > 1 {
            continue;
        }
        let (client, sem, api) = (client.clone(), sem.clone(), r.api_version);
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await;
            let res = client.get(&arm_id, api).await;
            (arm_id, res)
        }));
    }
    let mut live = BTreeMap::new();
    let mut errors = Vec::new();
    // Errors without an HTTP answer (ARM unreachable) are one fact, said once with a count.
    let mut unreachable: Option<String> = None;
    let mut unreachable_count = 0;
    for t in tasks {
        let (id, res) = t.await?;
        match res {
            Ok(Some(v)) => {
                for node in &nodes[&id.to_lowercase()] {
                    live.insert(node.clone(), v.clone());
                }
            }
            Ok(None) => {}
            Err(e) if e.status.is_none() => {
                unreachable_count += 1;
                unreachable.get_or_insert_with(|| format!("reading {id}: {e}"));
            }
            Err(e) => errors.push(format!("reading {id}: {e}")),
        }
    }
    if let Some(first) = unreachable {
        errors.insert(
            0,
            if unreachable_count > 1 {
                format!(
                    "{first}\n(the same for {} more resources: nothing was read from them)",
                    unreachable_count - 1
                )
            } else {
                first
            },
        );
    }
    if !errors.is_empty() {
        anyhow::bail!("{}", errors.join("\n"));
    }
    Ok(live)
}

/// Serialisation Azure imposes: one write at a time under one AOAI account.
fn lane(r: &Resource) -> Option<String> {
    if r.resource_type == "Microsoft.CognitiveServices/accounts/deployments" {
        return r.id.rsplitn(3, '/').nth(2).map(|s| s.to_lowercase());
    }
    None
}

/// What is in flight and what is done, for the summary a second Ctrl-C prints.
#[derive(Default)]
pub struct Ledger {
    state: Mutex<BTreeMap<String, (bool, String)>>,
}

impl Ledger {
    /// A write to `id` was sent (`what`: creating, updating, deleting, ...).
    pub fn begin(&self, id: &str, what: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.insert(id.to_string(), (false, what.to_string()));
        }
    }
    pub fn end(&self, id: &str, outcome: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.insert(id.to_string(), (true, outcome.to_string()));
        }
    }
    /// Writes sent whose operation has not ended: `(id, what)`.
    pub fn in_flight(&self) -> Vec<(String, String)> {
        self.state
            .lock()
            .map(|s| {
                s.iter()
                    .filter(|(_, (done, _))| !done)
                    .map(|(id, (_, what))| (id.clone(), what.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
    /// Done / in flight / not attempted, over every resource of the run.
    pub fn summary(&self, ids: &[String]) -> String {
        let state = self.state.lock().map(|s| s.clone()).unwrap_or_default();
        let (mut done, mut flight, mut none) = (Vec::new(), Vec::new(), Vec::new());
        for id in ids {
            match state.get(id) {
                Some((true, o)) => done.push(format!("    {o}: {id}")),
                Some((false, w)) => flight.push(format!("    {w}: {id}")),
                None => none.push(format!("    {id}")),
            }
        }
        for (id, (d, w)) in &state {
            if !ids.contains(id) {
                if *d {
                    done.push(format!("    {w}: {id}"));
                } else {
                    flight.push(format!("    {w}: {id}"));
                }
            }
        }
        let mut s = String::from("Stopped by a second interrupt.\n");
        s.push_str(&format!("Done ({}):\n", done.len()));
        done.iter().for_each(|l| s.push_str(&format!("{l}\n")));
        s.push_str(&format!(
            "In flight ({}): still running in Azure; run apply again once they end:\n",
            flight.len()
        ));
        flight.iter().for_each(|l| s.push_str(&format!("{l}\n")));
        s.push_str(&format!(
            "Not attempted ({}): nothing was sent for these:\n",
            none.len()
        ));
        none.iter().for_each(|l| s.push_str(&format!("{l}\n")));
        s
    }
}

struct Shared {
    ledger: Arc<Ledger>,
    interrupted: Arc<AtomicBool>,
    outputs: Mutex<BTreeMap<String, Value>>,
    lanes: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    dns: Mutex<Vec<String>>,
    approvals: Mutex<Vec<String>>,
}

/// What was read and decided before applying: live documents by lower-case id, the action the
/// plan shows for each resource (by lower-case id), and the resources prune deletes, in order.
pub struct Observed {
    pub live: BTreeMap<String, Value>,
    pub planned: HashMap<String, Action>,
    pub orphans: Vec<String>,
}

pub async fn apply(
    client: &ArmClient,
    model: &Model,
    rendered: &Rendered,
    observed: Observed,
    opts: &Options,
    controls: Controls,
) -> Report {
    let Controls {
        progress,
        interrupted,
        ledger,
    } = controls;
    let start = Instant::now();
    let Observed {
        live,
        planned,
        orphans: orphan_ids,
    } = observed;
    let n = rendered.resources.len();
    let deps = dependency_indices(rendered);
    let shared = Arc::new(Shared {
        ledger: ledger.clone(),
        interrupted: interrupted.clone(),
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
    let order = longest_chains_first(rendered, &deps);

    loop {
        // Start everything whose dependencies succeeded, the longest remaining chains first
        // (the semaphore serves waiters in order); give up on what depends on a failure.
        if !interrupted.load(Ordering::SeqCst) {
            for &i in &order {
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
                    let planned = planned
                        .get(&r.id.to_lowercase())
                        .copied()
                        .unwrap_or(Action::Create);
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
                            planned,
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
                if let Some(word) = ledger_word(&res) {
                    ledger.end(&rendered.resources[i].id, word);
                }
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

    // What the blueprint owns and no longer declares goes once everything declared converged.
    let pruned = if !interrupted.load(Ordering::SeqCst)
        && outcomes.iter().all(|(_, o, _)| *o != Outcome::Failed)
    {
        prune(
            client,
            orphan_ids,
            progress.as_ref(),
            &ledger,
            &interrupted,
            &mut outcomes,
        )
        .await
    } else {
        Vec::new()
    };
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

/// The graph of the render as indices: `deps[i]` are the resources `i` depends on.
fn dependency_indices(rendered: &Rendered) -> Vec<Vec<usize>> {
    let index: HashMap<String, usize> = rendered
        .resources
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.to_lowercase(), i))
        .collect();
    rendered
        .resources
        .iter()
        .map(|r| {
            r.depends_on
                .iter()
                .filter_map(|d| index.get(&d.to_lowercase()).copied())
                .collect()
        })
        .collect()
}

/// What the ledger says about a finished resource (`None`: it never started).
fn ledger_word(res: &std::result::Result<Outcome, String>) -> Option<&'static str> {
    match res {
        Ok(Outcome::Created) => Some("created"),
        Ok(Outcome::Updated) => Some("updated"),
        Ok(Outcome::Replaced) => Some("replaced"),
        Ok(Outcome::NotStarted) => None,
        Ok(_) => Some("unchanged"),
        Err(_) => Some("failed"),
    }
}

/// Delete what this blueprint owns and no longer declares, one at a time, until
/// interrupted; a failure joins `outcomes`. Returns the ids deleted.
async fn prune(
    client: &ArmClient,
    orphan_ids: Vec<String>,
    progress: &dyn Progress,
    ledger: &Ledger,
    interrupted: &AtomicBool,
    outcomes: &mut Vec<(String, Outcome, Option<String>)>,
) -> Vec<String> {
    let mut pruned = Vec::new();
    for id in orphan_ids {
        if interrupted.load(Ordering::SeqCst) {
            break;
        }
        progress.start(&id, "deleting (no longer declared)");
        ledger.begin(&id, "deleting");
        let res = delete_any(client, &id).await;
        ledger.end(
            &id,
            if res.is_ok() {
                "deleted"
            } else {
                "delete failed"
            },
        );
        match res {
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
    pruned
}

/// Rough provisioning time of a type in Azure, in seconds, for scheduling only: API Management
/// activates for 30-45 minutes, accounts, deployments and private endpoints take about a
/// minute, most other writes seconds.
fn expected_seconds(resource_type: &str) -> f64 {
    match resource_type.to_ascii_lowercase().as_str() {
        "microsoft.apimanagement/service" => 2400.0,
        "microsoft.cognitiveservices/accounts"
        | "microsoft.cognitiveservices/accounts/deployments"
        | "microsoft.network/privateendpoints"
        | "microsoft.cdn/profiles"
        | "microsoft.eventhub/namespaces" => 60.0,
        _ => 5.0,
    }
}

/// Resource indices, those with the longest expected chain of work after them first (ties in
/// render order): what heads the critical path starts before what merely comes earlier.
fn longest_chains_first(rendered: &Rendered, deps: &[Vec<usize>]) -> Vec<usize> {
    let n = rendered.resources.len();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(i);
        }
    }
    // Resources come after their dependencies, so a reverse walk sees dependents first.
    let mut chain = vec![0.0f64; n];
    for i in (0..n).rev() {
        let after = dependents[i].iter().map(|&j| chain[j]).fold(0.0, f64::max);
        chain[i] = expected_seconds(&rendered.resources[i].resource_type) + after;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| chain[*b].total_cmp(&chain[*a]).then(a.cmp(b)));
    order
}

/// Delete a resource found by listing, with the api-version aoai-arch renders its type with.
async fn delete_any(client: &ArmClient, id: &str) -> std::result::Result<(), String> {
    let version = crate::engine::safety::api_version_for(id)
        .ok_or_else(|| format!("aoai-arch does not manage resources like {id}"))?;
    client.delete(id, version).await.map_err(|e| e.to_string())
}

async fn one(
    client: &ArmClient,
    r: &Resource,
    shared: &Shared,
    live: &BTreeMap<String, Value>,
    planned: Action,
    profile: &str,
    progress: &dyn Progress,
) -> std::result::Result<Outcome, String> {
    if planned == Action::UseExisting {
        progress.finish(&r.id, "exists, not owned by this blueprint: used as it is");
        return Ok(Outcome::Unchanged);
    }
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
    // Planned as created although it existed: Azure deleted it with its replaced parent.
    let mut have = match planned {
        Action::Create => None,
        _ => live.get(&r.id.to_lowercase()).cloned(),
    };
    // A step node (a second request for a resource) compares with what this run just wrote.
    if r.arm_id() != r.id {
        if let Some(doc) = outputs_of(shared, r.arm_id()) {
            have = Some(doc);
        }
    }
    // A resource still provisioning is waited for: writing it, or its children, before it
    // has ended is refused by Azure.
    let mut forced = matches!(planned, Action::Update | Action::Then);
    if let Some(state) = have
        .as_ref()
        .and_then(crate::engine::safety::provisioning_state)
        .filter(|s| !crate::engine::safety::terminal(s))
        .map(str::to_string)
    {
        have = match wait_until_ended(client, r, &state, &shared.interrupted, progress).await? {
            Waited::Ended(doc) => doc,
            Waited::Interrupted => {
                progress.finish(&r.id, "not written (interrupted while waiting)");
                return Ok(Outcome::NotStarted);
            }
        };
        forced |= have
            .as_ref()
            .and_then(crate::engine::safety::provisioning_state)
            .is_some_and(|s| !s.eq_ignore_ascii_case("succeeded"));
    }
    let mut p = plan::plan_resource(r, have.as_ref(), &outputs);
    if p.action == Action::NoChange && forced {
        p.action = Action::Update;
    }
    if p.action == Action::Replace && planned != Action::Replace {
        return Err("immutable properties changed since the plan was made (it did not show a replace): run plan again".into());
    }
    let body = crate::engine::upgrades::with_upgraded_version(
        &r.resource_type,
        &crate::engine::safety::with_kept_tags(&plan::resolve(&r.body, &outputs), have.as_ref()),
        have.as_ref(),
    );
    if body.contains("${after-apply:") {
        return Err("a value known only after apply is still unknown (its source resource has no such property)".into());
    }
    let outcome = match p.action {
        Action::NoChange | Action::UseExisting => {
            progress.finish(&r.id, "unchanged");
            approve(client, r, false, shared, profile, progress).await?;
            return Ok(Outcome::Unchanged);
        }
        Action::Create => Outcome::Created,
        Action::Update | Action::Then => Outcome::Updated,
        // Refused before the first write unless --allow-replace (crate::engine::safety::refusals).
        Action::Replace => Outcome::Replaced,
    };
    let lane_lock = lane(r).map(|key| {
        let mut lanes = shared.lanes.lock().expect("lanes lock");
        lanes.entry(key).or_default().clone()
    });
    let _lane = match &lane_lock {
        Some(l) => Some(l.lock().await),
        None => None,
    };
    shared.ledger.begin(
        &r.id,
        match outcome {
            Outcome::Created => "creating",
            Outcome::Replaced => "replacing",
            _ => "updating",
        },
    );
    if outcome == Outcome::Replaced {
        progress.start(&r.id, "deleting (replace)");
        client
            .delete(r.arm_id(), r.api_version)
            .await
            .map_err(|e| e.to_string())?;
        // An account or API Management service stays soft-deleted, its name taken: purged,
        // or creating it again is refused.
        let location = have
            .as_ref()
            .and_then(|h| h["location"].as_str())
            .unwrap_or("");
        if let Some((path, version)) = crate::engine::soft_delete::purge_path(&r.id, location) {
            progress.start(&r.id, "purging the soft-deleted one (replace)");
            client
                .delete(&path, version)
                .await
                .map_err(|e| e.to_string())?;
        }
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
        .put_text(r.arm_id(), r.api_version, &body, &report)
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

/// The document this run last wrote to `id`, if it wrote it.
fn outputs_of(shared: &Shared, id: &str) -> Option<Value> {
    shared.outputs.lock().ok()?.get(&id.to_lowercase()).cloned()
}

/// Poll a resource whose provisioning state has not ended until it has (or it is gone), with
/// a progress line per state; bounded by the longest operation Azure documents (API
/// Management activation: 45 minutes) with room to spare.
enum Waited {
    /// The resource's document once its state ended (`None`: it is gone).
    Ended(Option<Value>),
    /// Ctrl-C: stop waiting, write nothing.
    Interrupted,
}

async fn wait_until_ended(
    client: &ArmClient,
    r: &Resource,
    state: &str,
    interrupted: &AtomicBool,
    progress: &dyn Progress,
) -> std::result::Result<Waited, String> {
    const LIMIT: Duration = Duration::from_secs(2 * 60 * 60);
    let started = Instant::now();
    progress.start(
        &r.id,
        &format!("{state} in Azure: waiting for it to end before writing"),
    );
    let interval = client.poll_interval_floor().max(Duration::from_millis(50));
    let interval = if interval >= Duration::from_secs(1) {
        Duration::from_secs(10)
    } else {
        interval
    };
    loop {
        tokio::time::sleep(interval).await;
        if interrupted.load(Ordering::SeqCst) {
            return Ok(Waited::Interrupted);
        }
        let doc = client
            .get(r.arm_id(), r.api_version)
            .await
            .map_err(|e| e.to_string())?;
        match doc
            .as_ref()
            .and_then(crate::engine::safety::provisioning_state)
            .map(str::to_string)
        {
            Some(s) if !crate::engine::safety::terminal(&s) => {
                progress.update(&r.id, &s);
                if started.elapsed() > LIMIT {
                    return Err(format!(
                        "still {s} after {} minutes: not written; run apply again once Azure has finished",
                        LIMIT.as_secs() / 60
                    ));
                }
            }
            _ => return Ok(Waited::Ended(doc)),
        }
    }
}

/// Approve the Pending connections a Front Door origin's Private Link requested, whether or not
/// the origin was written in this run (a run killed between the origin and the approval leaves
/// them Pending): the lock-down step waits for this origin's node, so for its approvals.
async fn approve(
    client: &ArmClient,
    r: &Resource,
    written: bool,
    shared: &Shared,
    profile: &str,
    progress: &dyn Progress,
) -> std::result::Result<(), String> {
    let approved = crate::engine::approvals::approve(client, r, written, profile, progress).await?;
    if let Ok(mut a) = shared.approvals.lock() {
        a.extend(approved);
    }
    Ok(())
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
    approve(client, r, true, shared, profile, progress).await?;
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
