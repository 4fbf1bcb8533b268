//! Saved plans: `plan --out FILE` writes what was planned and what it was planned against;
//! `apply FILE` applies exactly that, and refuses when the blueprint renders differently or
//! anything it read has changed since.
//!
//! The file holds the blueprint text (so a later edit of the blueprint file does not change
//! what is applied), a digest of every rendered request body, the plan itself, and a digest of
//! every live document the plan read. Nothing secret is in it beyond what the blueprint holds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Digest;

use crate::engine::plan::Plan;
use crate::render::Rendered;

pub const KIND: &str = "aoai-arch-plan";
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedPlan {
    pub kind: String,
    pub format_version: u32,
    pub aoai_arch_version: String,
    pub created_at: String,
    /// Where the blueprint was read from, for messages.
    pub blueprint_path: PathBuf,
    pub blueprint_text: String,
    /// The ARM endpoint the plan read (`azure-public`, or a custom URL).
    pub target: String,
    /// sha256 of each rendered request body, by resource id.
    pub bodies: BTreeMap<String, String>,
    /// sha256 of each live document read, by lower-case id (absent: did not exist).
    pub live: BTreeMap<String, String>,
    /// The plan as shown (not read back for decisions: apply plans again and compares).
    pub plan: Value,
}

pub fn digest(text: &str) -> String {
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn body_digests(rendered: &Rendered) -> BTreeMap<String, String> {
    rendered
        .resources
        .iter()
        .map(|r| (r.id.clone(), digest(&r.body)))
        .collect()
}

fn live_digests(live: &BTreeMap<String, Value>) -> BTreeMap<String, String> {
    live.iter()
        .map(|(id, doc)| (id.clone(), digest(&comparable(doc).to_string())))
        .collect()
}

/// A live document without what one read form has and the other leaves out: a policy's
/// `properties.format` is in its GET and not in its list (see `collections`), so a plan saved
/// by one read mode is not "changed" when applied with the other.
fn comparable(doc: &Value) -> std::borrow::Cow<'_, Value> {
    let is_policy = doc["type"]
        .as_str()
        .is_some_and(|t| t.to_lowercase().ends_with("/policies"));
    if is_policy && doc["properties"].get("format").is_some() {
        let mut doc = doc.clone();
        if let Some(props) = doc["properties"].as_object_mut() {
            props.remove("format");
        }
        return std::borrow::Cow::Owned(doc);
    }
    std::borrow::Cow::Borrowed(doc)
}

pub fn save(
    path: &Path,
    blueprint: &crate::blueprint::Loaded,
    rendered: &Rendered,
    target: &str,
    live: &BTreeMap<String, Value>,
    plan: &Plan,
) -> Result<()> {
    let saved = SavedPlan {
        kind: KIND.into(),
        format_version: FORMAT_VERSION,
        aoai_arch_version: env!("CARGO_PKG_VERSION").into(),
        created_at: crate::engine::progress::utc_now(),
        blueprint_path: blueprint.path.clone(),
        blueprint_text: blueprint.text.clone(),
        target: target.into(),
        bodies: body_digests(rendered),
        live: live_digests(live),
        plan: serde_json::to_value(plan)?,
    };
    std::fs::write(path, serde_json::to_string_pretty(&saved)?)
        .with_context(|| format!("writing the plan to {}", path.display()))
}

/// The largest saved plan read (16 MiB): a 1 MiB blueprint, the digests of its requests and
/// its plan.
pub const MAX_BYTES: usize = 16 << 20;

/// How much of a file is read to tell a saved plan (whose `kind` comes first) from a blueprint.
const SNIFF: u64 = 4096;

/// A saved plan when `path` holds one (`None`: it is something else, e.g. a blueprint, read
/// then with the blueprint's own limit). Never reads more than [`MAX_BYTES`] + 1 bytes of it
/// (a device that never ends, `/dev/zero`, is read for its first 4 KiB).
pub fn read(path: &Path) -> Result<Option<SavedPlan>> {
    use std::io::Read;
    let Ok(file) = std::fs::File::open(path) else {
        return Ok(None);
    };
    let mut head = Vec::new();
    if file.take(SNIFF).read_to_end(&mut head).is_err() {
        return Ok(None);
    }
    let head = String::from_utf8_lossy(&head);
    if !head.trim_start().starts_with('{') || !head.contains(KIND) {
        return Ok(None);
    }
    let text = match crate::blueprint::read_text(path, MAX_BYTES) {
        Ok(t) => t,
        Err(crate::blueprint::ReadError::TooLarge) => anyhow::bail!(
            "{}: a plan file larger than {} bytes (16 MiB), the limit; nothing was applied",
            path.display(),
            MAX_BYTES
        ),
        Err(e) => anyhow::bail!("reading the plan {}: {e}", path.display()),
    };
    let saved: SavedPlan = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a plan file aoai-arch can read", path.display()))?;
    if saved.kind != KIND || saved.format_version != FORMAT_VERSION {
        anyhow::bail!(
            "{}: plan format {} version {} is not supported (this aoai-arch writes {KIND} version {FORMAT_VERSION})",
            path.display(),
            saved.kind,
            saved.format_version
        );
    }
    Ok(Some(saved))
}

/// Why `rendered` is not what was planned (the binary or its templates differ).
pub fn render_drift(saved: &SavedPlan, rendered: &Rendered) -> Vec<String> {
    let now = body_digests(rendered);
    let mut out = Vec::new();
    for (id, d) in &saved.bodies {
        match now.get(id) {
            None => out.push(format!("{id}: planned, no longer rendered")),
            Some(x) if x != d => out.push(format!("{id}: renders a different body")),
            _ => {}
        }
    }
    for id in now.keys() {
        if !saved.bodies.contains_key(id) {
            out.push(format!("{id}: rendered, not in the plan"));
        }
    }
    out
}

/// What changed in Azure since the plan read it.
pub fn live_drift(saved: &SavedPlan, live: &BTreeMap<String, Value>) -> Vec<String> {
    let now = live_digests(live);
    let mut out = Vec::new();
    for (id, d) in &saved.live {
        match now.get(id) {
            None => out.push(format!("{id}: existed, now gone")),
            Some(x) if x != d => out.push(format!("{id}: changed")),
            _ => {}
        }
    }
    for id in now.keys() {
        if !saved.live.contains_key(id) {
            out.push(format!("{id}: did not exist, now does"));
        }
    }
    out
}

/// Where the plan recomputed now differs from the plan saved (the one reviewed): per resource
/// its action and property changes, then the approvals and the resources deleted with their
/// parents. A saved plan whose blueprint and digests were edited consistently, but whose plan
/// section is not what they plan, is refused on this.
pub fn plan_drift(saved: &SavedPlan, now: &Plan) -> Vec<String> {
    let Ok(now) = serde_json::to_value(now) else {
        return vec!["the plan cannot be compared".into()];
    };
    let shape = |plan: &Value| -> BTreeMap<String, Value> {
        plan["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["id"].as_str().unwrap_or("").to_lowercase(),
                    serde_json::json!({"action": r["action"], "changes": r["changes"]}),
                )
            })
            .collect()
    };
    let (was, is) = (shape(&saved.plan), shape(&now));
    let mut out = Vec::new();
    for (id, w) in &was {
        match is.get(id) {
            None => out.push(format!("{id}: in the reviewed plan, not planned now")),
            Some(i) if i["action"] != w["action"] => out.push(format!(
                "{id}: reviewed as {}, planned now as {}",
                w["action"], i["action"]
            )),
            Some(i) if i["changes"] != w["changes"] => {
                out.push(format!("{id}: its changes are not the reviewed ones"))
            }
            _ => {}
        }
    }
    for id in is.keys().filter(|id| !was.contains_key(*id)) {
        out.push(format!("{id}: planned now, not in the reviewed plan"));
    }
    for key in ["approvals", "deletedWithParent"] {
        let none = Value::Array(Vec::new());
        let w = saved.plan.get(key).unwrap_or(&none);
        let i = now.get(key).unwrap_or(&none);
        if w != i {
            out.push(format!("{key}: not the reviewed ones"));
        }
    }
    out
}
