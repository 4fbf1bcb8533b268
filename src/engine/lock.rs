//! One apply of a blueprint at a time, across machines: a lease kept in Azure itself, as an
//! empty template deployment named after the blueprint's ownership id.
//!
//! Why a deployment: it is a plain ARM resource in the resource group (visible in the portal's
//! Deployments blade, needs no extra role beyond what apply already needs, changes nothing
//! else), and it carries tags: the holder and the lease's end. The lease is renewed while the
//! apply runs and deleted at its end; a run that was killed leaves a lease that expires by
//! itself, at once when it was taken on this machine by a process that no longer runs, or is
//! broken at once with `--break-lock`. While the resource group does not exist
//! yet, the lease is kept at subscription scope, and a lease in either place blocks.
//!
//! ARM has no compare-and-swap on a PUT here, so taking the lease is write-then-read: each
//! contender writes its own token, waits, and reads back; only the one whose token is there
//! goes on (the last write wins, and every earlier writer sees that it lost).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
    renew: tokio::task::JoinHandle<()>,
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

/// Take the lease for this blueprint, or say who holds it. Nothing else is written before.
pub async fn acquire(
    client: &ArmClient,
    model: &Model,
    rg_exists: bool,
    break_lock: bool,
) -> Result<Lease> {
    // How long a contender's write may trail ours: seconds against Azure, a blink against a
    // local emulator (whose client polls faster than once a second).
    let settle = if client.poll_interval_floor() < Duration::from_secs(1) {
        Duration::from_millis(100)
    } else {
        Duration::from_secs(2)
    };
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
    if !break_lock {
        for id in &places {
            if let Some(doc) = read(client, id).await? {
                if let Some((h, until)) = held_by_other(&doc, &token) {
                    return Err(refusal(&h, &until));
                }
            }
        }
    }
    let id = if rg_exists { rg_id } else { sub_id };
    let b = body(model, &token, &holder, !rg_exists);
    client
        .put(&id, api::RESOURCES, &b, &|_: &str| {})
        .await
        .map_err(|e| anyhow::anyhow!("taking the apply lock {id}: {e}"))?;
    tokio::time::sleep(settle).await;
    if let Some(doc) = read(client, &id).await? {
        if let Some((h, until)) = held_by_other(&doc, &token) {
            return Err(refusal(&h, &until));
        }
    }
    let renew = {
        let (client, id, model) = (client.clone(), id.clone(), model.clone());
        let sub_scope = !rg_exists;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(LEASE / 3).await;
                let fresh = body(&model, &token, &holder, sub_scope);
                let _ = client.put(&id, api::RESOURCES, &fresh, &|_: &str| {}).await;
            }
        })
    };
    Ok(Lease {
        client: client.clone(),
        id,
        renew,
    })
}

impl Lease {
    /// End the lease (the run is over, whatever its outcome).
    pub async fn release(self) {
        self.renew.abort();
        if let Err(e) = self.client.delete(&self.id, api::RESOURCES).await {
            eprintln!(
                "warning: could not delete the apply lock {} ({e}); it expires by itself",
                self.id
            );
        }
    }
}
