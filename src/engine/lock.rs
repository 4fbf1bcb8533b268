//! One apply of a blueprint at a time, across machines: a lease kept in Azure itself, as an
//! empty template deployment named after the blueprint's ownership id.
//!
//! Why a deployment: it is a plain ARM resource in the resource group (visible in the portal's
//! Deployments blade, needs no extra role beyond what apply already needs, changes nothing
//! else), and it carries tags: the holder and the lease's end. The lease is renewed while the
//! apply runs and deleted at its end; a run that was killed leaves a lease that expires by
//! itself, at once when it was taken on this machine by a process that no longer runs, or is
//! broken at once with `--break-lock`. While the resource group does not exist
//! yet, the lease is kept at subscription scope, and a lease in either place blocks; a stale one
//! left in the other place is deleted once the lease is held.
//!
//! ARM has no compare-and-swap on deployments: `Microsoft.Resources/deployments` has no `etag`
//! and its PUT and DELETE take no `If-Match` / `If-None-Match` (azure-rest-api-specs,
//! specification/resources/resource-manager/Microsoft.Resources/deployments/
//! DeploymentExtended.tsp: `DeploymentExtended is ExtensionResource<...>` with location and
//! tags only, `CreateOrUpdateAsync` and `DeleteWithoutOkAsync` without conditional headers;
//! read 2026-12-06). So taking the lease is read-then-write-then-read, bounded in time:
//!
//! 1. read every lease place; a live lease of another run refuses;
//! 2. write our token, all within [`Timing::write_within`] of the start of that read (the write's
//!    own retries included; a write that would take longer is abandoned and the lease not
//!    taken);
//! 3. wait [`Timing::settle`], longer than that bound: a contender whose read came before our
//!    write landed has landed its own write by then, one whose read came after saw ours;
//! 4. read every place back: only the run whose token is there goes on.
//!
//! What remains: a write still travelling after its sender gave up on it (past the bound) can
//! land later; renewal reads before it writes, so a holder whose lease was taken over that way
//! (or broken with `--break-lock`) sees it at its next renewal, stops starting writes and does
//! not release the other run's lease.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use serde_json::{json, Value};
use sha2::Digest;

use crate::model::{api, Model};
use arm_client::ArmClient;

const HOLDER: &str = "aoai-arch-lock-holder";
const TOKEN: &str = "aoai-arch-lock-token";
const EXPIRES: &str = "aoai-arch-lock-expires";
const HOST_PID: &str = "aoai-arch-lock-process";

/// How long a lease lasts without renewal; renewed every third of it.
pub const LEASE: Duration = Duration::from_secs(15 * 60);

pub struct Lease {
    client: ArmClient,
    id: String,
    token: String,
    renew: tokio::task::JoinHandle<()>,
    /// Set when a renewal found another run's token in our place.
    lost: Arc<AtomicBool>,
}

/// How long taking the lease may take, and waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// From the start of the read before writing to the end of the write, retries included.
    pub write_within: Duration,
    /// Between the end of our write and the read back: longer than `write_within`.
    pub settle: Duration,
}

impl Timing {
    /// Against Azure, seconds (a throttled lease write waits up to 15 s, then the run stops
    /// before any other write); against a local emulator, whose client polls faster than once
    /// a second, a fraction.
    pub fn for_client(client: &ArmClient) -> Timing {
        let write_within = if client.poll_interval_floor() < Duration::from_secs(1) {
            Duration::from_secs(2)
        } else {
            Duration::from_secs(15)
        };
        Timing {
            write_within,
            settle: write_within + write_within / 5,
        }
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64
}

fn name(model: &Model) -> String {
    let hash = sha2::Sha256::digest(model.owner.as_bytes());
    let hex: String = hash.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("aoai-arch-lock-{hex}")
}

/// The lease's resource id, at resource-group scope and at subscription scope.
fn ids(model: &Model) -> (String, String) {
    let n = name(model);
    (
        format!(
            "{}/providers/Microsoft.Resources/deployments/{n}",
            model.rg_id
        ),
        format!(
            "/subscriptions/{}/providers/Microsoft.Resources/deployments/{n}",
            model.subscription
        ),
    )
}

fn host() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".into())
}

/// A lease taken on this machine by a process that no longer runs (a killed apply): stale.
fn dead_here(doc: &Value) -> bool {
    let Some((h, pid)) = doc["tags"][HOST_PID]
        .as_str()
        .and_then(|s| s.rsplit_once(' '))
    else {
        return false;
    };
    h == host()
        && pid.parse::<u32>().is_ok()
        && std::path::Path::new("/proc/self").exists()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn body(model: &Model, token: &str, holder: &str, subscription_scope: bool) -> Value {
    let expires = now() + LEASE.as_secs() as i64;
    let schema = if subscription_scope {
        "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#"
    } else {
        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
    };
    let mut b = json!({
        "tags": {
            HOLDER: holder,
            TOKEN: token,
            HOST_PID: format!("{} {}", host(), std::process::id()),
            EXPIRES: format!("{expires} ({})", crate::engine::progress::utc(expires)),
        },
        "properties": {
            "mode": "Incremental",
            "template": {"$schema": schema, "contentVersion": "1.0.0.0", "resources": []},
        },
    });
    if subscription_scope {
        b["location"] = json!(model.location);
    }
    b
}

/// `(holder, expires)` of a live lease that is not ours, has not expired and was not left by
/// a process of this machine that has ended.
fn held_by_other(doc: &Value, token: &str) -> Option<(String, String)> {
    let tags = &doc["tags"];
    if tags[TOKEN].as_str() == Some(token) || dead_here(doc) {
        return None;
    }
    let expires_text = tags[EXPIRES].as_str().unwrap_or("0");
    let expires: i64 = expires_text
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (expires > now()).then(|| {
        (
            tags[HOLDER].as_str().unwrap_or("unknown").to_string(),
            crate::engine::progress::utc(expires),
        )
    })
}

async fn read(client: &ArmClient, id: &str) -> Result<Option<Value>> {
    match client.get(id, api::RESOURCES).await {
        Ok(v) => Ok(v),
        // Not allowed to read at subscription scope: a lease there is invisible to this
        // caller, who could not have created the resource group either.
        Err(e) if matches!(e.status, Some(403)) => Ok(None),
        Err(e) => Err(anyhow::anyhow!("reading the apply lock {id}: {e}")),
    }
}

fn refusal(holder: &str, until: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "another apply of this blueprint holds the lock: {holder}, lease until {until}. Nothing was written. \
         If that run was killed, its lease expires by itself at that time; to take it now, run again with --break-lock"
    )
}

/// The token of a lease document, if it is one.
fn token_of(doc: &Value) -> Option<&str> {
    doc["tags"][TOKEN].as_str()
}

/// Read every place; refuse when another run holds a live lease in one of them.
async fn check(
    client: &ArmClient,
    places: &[String],
    token: &str,
    break_lock: bool,
) -> Result<Vec<Option<Value>>> {
    let mut docs = Vec::new();
    for id in places {
        let doc = read(client, id).await?;
        if !break_lock {
            if let Some((h, until)) = doc.as_ref().and_then(|d| held_by_other(d, token)) {
                return Err(refusal(&h, &until));
            }
        }
        docs.push(doc);
    }
    Ok(docs)
}

/// Take the lease for this blueprint, or say who holds it. Nothing else is written before.
pub async fn acquire(
    client: &ArmClient,
    model: &Model,
    rg_exists: bool,
    break_lock: bool,
) -> Result<Lease> {
    let timing = Timing::for_client(client);
    let (rg_id, sub_id) = ids(model);
    let token = uuid::Uuid::new_v4().to_string();
    let holder = format!(
        "{}@{} pid {} since {}",
        std::env::var("USER").unwrap_or_else(|_| "someone".into()),
        host(),
        std::process::id(),
        crate::engine::progress::utc_now()
    );
    let mut places = vec![sub_id.clone()];
    if rg_exists {
        places.insert(0, rg_id.clone());
    }
    let id = if rg_exists { rg_id } else { sub_id };
    let b = body(model, &token, &holder, !rg_exists);
    // Read every place right before writing, and write within the bound of that read.
    let started = Instant::now();
    check(client, &places, &token, break_lock).await?;
    let left = timing.write_within.saturating_sub(started.elapsed());
    // Accepted is enough: the token is in the deployment's tags from then on, whatever the
    // (empty) deployment's own operation does after.
    match tokio::time::timeout(left, client.put_accepted(&id, api::RESOURCES, &b)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => anyhow::bail!("taking the apply lock {id}: {e}"),
        Err(_) => anyhow::bail!(
            "taking the apply lock {id}: the lease was not written within {:.1} s of reading that it was free (ARM throttled or slow), so it cannot be relied on. Nothing else was written; run again",
            timing.write_within.as_secs_f64()
        ),
    }
    tokio::time::sleep(timing.settle).await;
    // Every place again: ours must be there, and no other live lease anywhere.
    let docs = check(client, &places, &token, break_lock).await?;
    let mine = places
        .iter()
        .zip(&docs)
        .find(|(p, _)| **p == id)
        .and_then(|(_, d)| d.as_ref())
        .and_then(token_of)
        == Some(token.as_str());
    if !mine {
        anyhow::bail!(
            "another apply of this blueprint took the lock at the same time; this run wrote nothing else. Run again once it has ended"
        );
    }
    // Stale leases left in the other place (a killed run's, at subscription scope before the
    // resource group existed): deleted, unless they changed since they were read.
    for (place, doc) in places.iter().zip(&docs) {
        let Some(doc) = doc else { continue };
        if *place == id || token_of(doc).is_none() {
            continue;
        }
        let stale = token_of(doc).map(str::to_string);
        if let Ok(Some(again)) = read(client, place).await {
            if token_of(&again).map(str::to_string) == stale
                && held_by_other(&again, &token).is_none()
            {
                if let Err(e) = client.delete(place, api::RESOURCES).await {
                    eprintln!("warning: could not delete the stale apply lock {place}: {e}");
                }
            }
        }
    }
    let lost = Arc::new(AtomicBool::new(false));
    // Both places from now on: the resource group exists once the run has created it, and a
    // run started after that keeps its lease there.
    let (rg_place, sub_place) = ids(model);
    let renew = {
        let (client, id, model, token, lost) = (
            client.clone(),
            id.clone(),
            model.clone(),
            token.clone(),
            lost.clone(),
        );
        let sub_scope = !rg_exists;
        // Checked often (a read), renewed every third of the lease (a write).
        let check_every = if client.poll_interval_floor() < Duration::from_secs(1) {
            Duration::from_millis(500)
        } else {
            Duration::from_secs(30)
        };
        tokio::spawn(async move {
            let mut renewed = Instant::now();
            loop {
                tokio::time::sleep(check_every).await;
                // Renewed only while our token is still there and no other run holds a lease
                // in the other place.
                let ours = match read(&client, &id).await {
                    Ok(Some(doc)) => token_of(&doc) == Some(token.as_str()),
                    Ok(None) => false,
                    Err(_) => continue,
                };
                let other = if id == rg_place {
                    &sub_place
                } else {
                    &rg_place
                };
                let taken = match read(&client, other).await {
                    Ok(doc) => doc.as_ref().and_then(|d| held_by_other(d, &token)),
                    Err(_) => None,
                };
                if !ours || taken.is_some() {
                    lost.store(true, Ordering::SeqCst);
                    let by = taken.map(|(h, _)| format!(" by {h}")).unwrap_or_default();
                    eprintln!(
                        "the apply lock is no longer this run's (broken or taken over{by}): starting no further writes"
                    );
                    return;
                }
                if renewed.elapsed() < LEASE / 3 {
                    continue;
                }
                let fresh = body(&model, &token, &holder, sub_scope);
                if client
                    .put(&id, api::RESOURCES, &fresh, &|_: &str| {})
                    .await
                    .is_ok()
                {
                    renewed = Instant::now();
                }
            }
        })
    };
    Ok(Lease {
        client: client.clone(),
        id,
        token,
        renew,
        lost,
    })
}

impl Lease {
    /// Whether a renewal found the lease no longer ours.
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Raise `flag` (the run's "start nothing new" flag) once the lease is seen lost.
    pub fn watch(&self, flag: Arc<AtomicBool>) {
        let lost = self.lost.clone();
        tokio::spawn(async move {
            while !lost.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            flag.store(true, Ordering::SeqCst);
        });
    }

    /// End the lease (the run is over, whatever its outcome): deleted only while our token is
    /// still there; a lease broken or taken over by another run is that run's.
    pub async fn release(self) {
        self.renew.abort();
        match read(&self.client, &self.id).await {
            Ok(Some(doc)) if token_of(&doc) == Some(self.token.as_str()) => {}
            Ok(Some(doc)) => {
                eprintln!(
                    "warning: the apply lock {} is now held by {} (broken or taken over): left to it",
                    self.id,
                    doc["tags"][HOLDER].as_str().unwrap_or("another run")
                );
                return;
            }
            Ok(None) => return,
            Err(e) => {
                eprintln!(
                    "warning: could not read the apply lock {} ({e}); it expires by itself",
                    self.id
                );
                return;
            }
        }
        if let Err(e) = self.client.delete(&self.id, api::RESOURCES).await {
            eprintln!(
                "warning: could not delete the apply lock {} ({e}); it expires by itself",
                self.id
            );
        }
    }
}
