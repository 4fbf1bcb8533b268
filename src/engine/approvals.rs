//! Private Link connections that Front Door origins request on their targets (an API Management
//! service, an AOAI account). Azure creates each one Pending; until it is approved the origin
//! cannot reach its target. The plan reads their state (a Pending one of ours is a planned
//! approval, whether or not the origin changes), and apply approves them in the origin's node,
//! changed or not, so the lock-down step that waits for the origins waits for the approvals.

use serde::Serialize;
use serde_json::{json, Value};

use crate::render::{Rendered, Resource};
use arm_client::ArmClient;

/// A Pending connection this blueprint requested: apply approves it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    /// The connection (`<target>/privateEndpointConnections/<name>`).
    pub connection: String,
    /// The Front Door origin whose Private Link requested it.
    pub origin: String,
    pub target: String,
    /// Its status now (`Pending`).
    pub status: String,
}

/// The Private Link request of a Front Door origin: `(target id, request message)`.
pub fn request(r: &Resource) -> Option<(String, String)> {
    if !r
        .resource_type
        .eq_ignore_ascii_case("Microsoft.Cdn/profiles/originGroups/origins")
    {
        return None;
    }
    let want = r.body_json();
    let spl = &want["properties"]["sharedPrivateLinkResource"];
    Some((
        spl["privateLink"]["id"].as_str()?.to_string(),
        spl["requestMessage"].as_str()?.to_string(),
    ))
}

/// Whether a connection document is one this request message asked for.
fn ours(c: &Value, message: &str) -> bool {
    let state = &c["properties"]["privateLinkServiceConnectionState"];
    state["description"].as_str() == Some(message)
        || c["properties"]["requestMessage"].as_str() == Some(message)
}

fn status(c: &Value) -> &str {
    c["properties"]["privateLinkServiceConnectionState"]["status"]
        .as_str()
        .unwrap_or("")
}

/// The api-version of a Private Link target (an AOAI account or an API Management service).
fn version_for(target: &str) -> &'static str {
    if target
        .to_ascii_lowercase()
        .contains("/providers/microsoft.cognitiveservices/")
    {
        crate::model::api::COGNITIVE
    } else {
        crate::model::api::APIM
    }
}

async fn connections(client: &ArmClient, target: &str) -> Result<Vec<Value>, String> {
    let version = version_for(target);
    client
        .list(&format!("{target}/privateEndpointConnections"), version)
        .await
        .map_err(|e| format!("listing private endpoint connections of {target}: {e}"))
}

/// The plan's read: every Pending connection requested by an origin of this render, on
/// targets that exist (`live`, by lower-case id). Each target is listed once.
pub async fn pending(
    client: &ArmClient,
    rendered: &Rendered,
    live: &std::collections::BTreeMap<String, Value>,
) -> anyhow::Result<Vec<Approval>> {
    let mut listed: std::collections::HashMap<String, Vec<Value>> = Default::default();
    let mut out = Vec::new();
    for r in &rendered.resources {
        let Some((target, message)) = request(r) else {
            continue;
        };
        if !live.contains_key(&target.to_lowercase()) {
            continue;
        }
        let key = target.to_lowercase();
        if let std::collections::hash_map::Entry::Vacant(slot) = listed.entry(key.clone()) {
            let conns = connections(client, &target)
                .await
                .map_err(|e| anyhow::anyhow!(e))?;
            slot.insert(conns);
        }
        for c in &listed[&key] {
            if status(c).eq_ignore_ascii_case("Pending") && ours(c, &message) {
                if let Some(id) = c["id"].as_str() {
                    out.push(Approval {
                        connection: id.to_string(),
                        origin: r.id.clone(),
                        target: target.clone(),
                        status: status(c).to_string(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Approve every Pending connection `origin` requested; returns the connections approved.
/// `written`: the origin was written in this run, so Azure may not have created its connection
/// yet: it is waited for (a few polls) when none of ours is there at all.
pub async fn approve(
    client: &ArmClient,
    origin: &Resource,
    written: bool,
    profile: &str,
    progress: &dyn crate::engine::progress::Progress,
) -> Result<Vec<String>, String> {
    let Some((target, message)) = request(origin) else {
        return Ok(Vec::new());
    };
    let version = version_for(&target);
    let floor = client.poll_interval_floor();
    let interval = if floor < std::time::Duration::from_secs(1) {
        floor
    } else {
        std::time::Duration::from_secs(10)
    };
    let approved_note = format!("Approved by aoai-arch for Front Door {profile}");
    let mine = |c: &Value| {
        ours(c, &message)
            || c["properties"]["privateLinkServiceConnectionState"]["description"].as_str()
                == Some(approved_note.as_str())
    };
    let mut conns = connections(client, &target).await?;
    let mut polls = 0;
    while written && polls < 30 && !conns.iter().any(mine) {
        polls += 1;
        tokio::time::sleep(interval).await;
        conns = connections(client, &target).await?;
    }
    let mut approved = Vec::new();
    for c in conns {
        if !(status(&c).eq_ignore_ascii_case("Pending") && ours(&c, &message)) {
            continue;
        }
        let Some(cid) = c["id"].as_str() else {
            continue;
        };
        progress.start(cid, "approving private endpoint connection");
        let body = json!({ "properties": { "privateLinkServiceConnectionState": {
            "status": "Approved",
            "description": approved_note,
        }}});
        let text = serde_json::to_string_pretty(&body).unwrap_or_default();
        client
            .put_text(cid, version, &text, &|_: &str| {})
            .await
            .map_err(|e| format!("approving {cid}: {e}"))?;
        progress.finish(cid, "approved");
        approved.push(cid.to_string());
    }
    Ok(approved)
}
