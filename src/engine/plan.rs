//! `plan`: read every managed resource once, compare with the rendered bodies, and say what
//! `apply` would do, like `terraform plan`.
//!
//! Only the properties the blueprint sets are compared (Azure adds many of its own), with ARM's
//! normalisations: resource ids and locations compare without case (and APIM's display-name
//! locations equal their ARM names), write-only properties that ARM never returns are skipped.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::render::{Rendered, Resource};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    NoChange,
    Replace,
    /// Exists and is not owned by this blueprint (a resource group it did not create): used
    /// as it is, never written, never deleted.
    UseExisting,
    /// A second request for a resource this apply creates (the lock-down of public network
    /// access once its private endpoint connections are approved): a step of the creation,
    /// not an update of something that exists.
    Then,
}

impl Action {
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::NoChange => " ",
            Action::Replace => "-/+",
            Action::UseExisting => "=",
            Action::Then => "then:",
        }
    }
    pub fn writes(self) -> bool {
        !matches!(self, Action::NoChange | Action::UseExisting)
    }
}

/// ARM's terminal provisioning states.
pub fn terminal(state: &str) -> bool {
    ["succeeded", "failed", "canceled"].contains(&state.to_ascii_lowercase().as_str())
}

pub fn provisioning_state(doc: &Value) -> Option<&str> {
    doc["properties"]["provisioningState"].as_str()
}

/// One property that differs.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub path: String,
    pub old: Option<Value>,
    /// `None`: known only after apply.
    pub new: Option<Value>,
    /// Changing this property needs the resource to be deleted and created again.
    pub forces_replacement: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourcePlan {
    pub id: String,
    pub resource_type: String,
    pub api_version: String,
    pub action: Action,
    pub changes: Vec<Change>,
    /// Exists in Azure without this blueprint's ownership tag and would be written:
    /// `apply` needs `--adopt`.
    pub adopt: bool,
    /// Why the action is not what the property diff alone says (a Failed provisioning state,
    /// a replaced parent); `null` when it is.
    pub reason: Option<String>,
    /// The live provisioning state when it is not `Succeeded` (`null` otherwise).
    pub state: Option<String>,
    /// Tags already on the resource that the blueprint does not set: kept by apply.
    pub kept_tags: Vec<String>,
}

/// The plan: every key is always present in `plan --json` (an empty list when there is nothing).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Plan {
    /// What the live subscription says before any write (quota, models, model lifecycle, soft-deleted and
    /// taken names, providers): see [`crate::engine::preflight`]. First in `--json`, as at the top of
    /// the human plan.
    pub preflight: Vec<crate::engine::preflight::Finding>,
    /// Soft-deleted accounts apply purges or restores before the graph.
    pub steps: Vec<crate::engine::preflight::Step>,
    pub resources: Vec<ResourcePlan>,
    /// Resources owned by this blueprint that it no longer declares, in the order `apply`
    /// deletes them (children and referrers before what they belong to or point at). Those
    /// kept with `--keep` or `lifecycle.keep` are in `kept` instead.
    pub orphans: Vec<String>,
    /// For each resource of `orphans` that refers to another one deleted (a Front Door origin
    /// or an API Management backend and the account it sends traffic to, a team's
    /// subscription and its product), the ids it points at.
    #[serde(rename = "pointsAt")]
    pub points_at: BTreeMap<String, Vec<String>>,
    /// Resources owned by this blueprint that it no longer declares and that `--keep` or
    /// `lifecycle.keep` names: never deleted.
    pub kept: Vec<String>,
    /// Children of owned resources that the blueprint does not declare and that aoai-arch
    /// cannot prove it created (nothing tags them): reported, never deleted.
    pub undeclared: Vec<String>,
    /// Private Link connections the blueprint's Front Door origins requested that are still
    /// Pending: apply approves them (whether or not the origin changes).
    pub approvals: Vec<crate::engine::approvals::Approval>,
    /// Deployments Azure upgraded to a newer model version, as their `versionUpgradeOption`
    /// allows: converged, and kept at the live version.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub upgraded: Vec<crate::engine::upgrades::UpgradedVersion>,
    /// Resources the blueprint does not declare (owned or not) that Azure deletes with a
    /// parent the plan replaces: named here, and applied only with `--allow-replace`.
    #[serde(rename = "deletedWithParent")]
    pub deleted_with_parent: Vec<crate::engine::children::Child>,
}

impl Plan {
    pub fn count(&self, a: Action) -> usize {
        self.resources.iter().filter(|r| r.action == a).count()
    }
    /// Something to write, delete or wait for (a resource still provisioning is not converged).
    pub fn has_changes(&self) -> bool {
        self.resources
            .iter()
            .any(|r| r.action.writes() || r.state.is_some())
            || !self.orphans.is_empty()
            || !self.steps.is_empty()
            || !self.approvals.is_empty()
    }
}

/// Properties ARM does not return (secrets, write-only), per resource type.
fn ignored(resource_type: &str, path: &str) -> bool {
    let t = resource_type.to_lowercase();
    (t.ends_with("/loggers") && path.starts_with("properties.credentials"))
        || (t.ends_with("/apis/policies") && path == "properties.format")
        || (t == "microsoft.authorization/roleassignments" && path == "properties.principalType")
}

/// Properties that cannot change in place, per resource type.
fn immutable(resource_type: &str, path: &str) -> bool {
    let t = resource_type.to_lowercase();
    path == "location"
        || (t == "microsoft.cognitiveservices/accounts"
            && (path == "kind" || path == "properties.customSubDomainName"))
        || (t == "microsoft.network/privateendpoints" && path == "properties.subnet.id")
        || (t == "microsoft.authorization/roleassignments"
            && (path == "properties.principalId" || path == "properties.roleDefinitionId"))
        || (t == "microsoft.cognitiveservices/accounts/deployments"
            && path == "properties.model.name")
        // A Standard namespace's event hub keeps its partition count (Event Hubs FAQ, "can I
        // change the number of partitions": Premium and Dedicated only; read 2026-12-06).
        || (t == "microsoft.eventhub/namespaces/eventhubs" && path == "properties.partitionCount")
}

/// Two values equal as ARM sees them.
fn same(path: &str, want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::String(a), Value::String(b)) => {
            if a == b {
                return true;
            }
            let last = path.rsplit('.').next().unwrap_or(path);
            if last == "location" || last == "privateLinkLocation" {
                let norm = |s: &str| s.to_lowercase().replace(' ', "");
                return norm(a) == norm(b);
            }
            if a.starts_with("/subscriptions/") || last == "id" {
                return a.eq_ignore_ascii_case(b);
            }
            if path == "properties.value" && (a.contains("<policies") || b.contains("<policies")) {
                return normalise_policy(a) == normalise_policy(b);
            }
            false
        }
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => want == have,
    }
}

/// APIM returns policies re-serialised (entities, whitespace); compare their meaning.
fn normalise_policy(s: &str) -> String {
    let unescaped = crate::render::escape::xml_unescape(s);
    unescaped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Compare what the blueprint sets (`want`) with the live resource (`have`).
pub fn diff(resource_type: &str, want: &Value, have: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk(resource_type, "", want, Some(have), &mut out);
    out
}

fn walk(t: &str, path: &str, want: &Value, have: Option<&Value>, out: &mut Vec<Change>) {
    if ignored(t, path) {
        return;
    }
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match want {
        Value::Object(map) => {
            for (k, v) in map {
                let live = have.and_then(|h| {
                    h.get(k).or_else(|| {
                        // Tag names compare without case, as Azure treats them.
                        (path == "tags")
                            .then(|| h.as_object())
                            .flatten()
                            .and_then(|o| o.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)))
                            .map(|(_, v)| v)
                    })
                });
                walk(t, &join(k), v, live, out);
            }
        }
        Value::Array(items) if items.iter().any(Value::is_object) => {
            let live = have.and_then(Value::as_array);
            if live.map(Vec::len) != Some(items.len()) {
                out.push(change(t, path, want, have));
                return;
            }
            let mut inner = Vec::new();
            for (i, v) in items.iter().enumerate() {
                walk(
                    t,
                    &format!("{path}[{i}]"),
                    v,
                    live.and_then(|l| l.get(i)),
                    &mut inner,
                );
            }
            // Members with a name of their own (a pool's backends, additional locations) are
            // one change of the whole list, shown member by member; others by position.
            if !inner.is_empty() && items.iter().all(|v| member_key(v).is_some()) {
                out.push(change(t, path, want, have));
            } else {
                out.extend(inner);
            }
        }
        Value::Array(items) => {
            let equal = have.and_then(Value::as_array).is_some_and(|l| {
                l.len() == items.len() && items.iter().zip(l).all(|(a, b)| same(path, a, b))
            });
            if !equal {
                out.push(change(t, path, want, have));
            }
        }
        Value::String(s) if s.contains("${after-apply:") => {
            out.push(Change {
                path: path.to_string(),
                old: have.cloned(),
                new: None,
                forces_replacement: false,
            });
        }
        _ => {
            if !have.is_some_and(|h| same(path, want, h)) {
                out.push(change(t, path, want, have));
            }
        }
    }
}

/// What names a member of a list of objects: its `id` (a pool's backends, by their last two
/// segments: `backends/aoai-x`), `name` or `location` (additional locations).
pub(crate) fn member_key(v: &Value) -> Option<String> {
    if let Some(id) = v["id"].as_str() {
        let parts: Vec<&str> = id.trim_end_matches('/').rsplit('/').take(2).collect();
        return Some(parts.into_iter().rev().collect::<Vec<_>>().join("/"));
    }
    ["name", "location"]
        .iter()
        .find_map(|k| v[*k].as_str().map(str::to_string))
}

/// A list of objects as a reviewer reads it: one line per member that joins (`+`), leaves
/// (`-`) or changes (`~`), named by [`member_key`], with the properties the blueprint sets
/// (`+ backends/aoai-x priority 2 weight 50`, `~ backends/aoai-x priority 1 -> 2`). Members
/// are matched by name, so a reordered list shows only what changed. `None` when the values
/// are not such lists.
pub(crate) fn member_lines(old: Option<&Value>, new: Option<&Value>) -> Option<Vec<String>> {
    let new = new?.as_array()?;
    let old: &[Value] = match old {
        None | Some(Value::Null) => &[],
        Some(v) => v.as_array()?,
    };
    if !new.iter().chain(old).all(|v| member_key(v).is_some()) || new.is_empty() && old.is_empty() {
        return None;
    }
    // The properties a member shows: the ones the blueprint sets, flattened (`sku.capacity`).
    fn leaves(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    leaves(&p, x, out);
                }
            }
            _ => out.push((prefix.to_string(), v.clone())),
        }
    }
    let leaves = |prefix: &str, v: &Value, out: &mut Vec<(String, Value)>| {
        leaves(prefix, v, out);
        out.sort_by(|a, b| a.0.cmp(&b.0));
    };
    let shown = |fields: &[(String, Value)]| -> String {
        fields
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "id" | "name" | "location"))
            .map(|(k, v)| format!("{k} {}", show(&Some(v.clone()))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let key = |v: &Value| member_key(v).unwrap_or_default().to_lowercase();
    let mut out = Vec::new();
    for n in new {
        let mut want = Vec::new();
        leaves("", n, &mut want);
        match old.iter().find(|o| key(o) == key(n)) {
            None => out.push(format!(
                "+ {} {}",
                member_key(n).unwrap_or_default(),
                shown(&want)
            )),
            Some(o) => {
                let diffs: Vec<String> = want
                    .iter()
                    .filter_map(|(k, v)| {
                        let live = k.split('.').try_fold(o, |cur, seg| cur.get(seg));
                        (!live.is_some_and(|l| same(k, v, l))).then(|| {
                            format!(
                                "{k} {} -> {}",
                                live.map(|l| show(&Some(l.clone())))
                                    .unwrap_or_else(|| "(unset)".into()),
                                show(&Some(v.clone()))
                            )
                        })
                    })
                    .collect();
                if !diffs.is_empty() {
                    out.push(format!(
                        "~ {} {}",
                        member_key(n).unwrap_or_default(),
                        diffs.join(", ")
                    ));
                }
            }
        }
    }
    for o in old {
        if !new.iter().any(|n| key(n) == key(o)) {
            // What the leaving member had, for the properties the joining ones show.
            let names: Vec<(String, Value)> = new
                .first()
                .map(|n| {
                    let mut w = Vec::new();
                    leaves("", n, &mut w);
                    w
                })
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(k, _)| {
                    k.split('.')
                        .try_fold(o, |cur, seg| cur.get(seg))
                        .map(|v| (k.clone(), v.clone()))
                })
                .collect();
            out.push(
                format!("- {} {}", member_key(o).unwrap_or_default(), shown(&names))
                    .trim_end()
                    .to_string(),
            );
        }
    }
    Some(out.into_iter().map(|l| l.trim_end().to_string()).collect())
}

fn change(t: &str, path: &str, want: &Value, have: Option<&Value>) -> Change {
    Change {
        path: path.to_string(),
        old: have.cloned(),
        new: Some(want.clone()),
        forces_replacement: have.is_some() && immutable(t, path),
    }
}

/// Replace `${after-apply:<id>#<pointer>[|host]}` in a body with values from `outputs` (final
/// resource documents by lower-case id). Unresolvable placeholders stay as they are.
pub fn resolve(body: &str, outputs: &BTreeMap<String, Value>) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("${after-apply:") {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let Some(end) = tail.find('}') else {
            out.push_str(tail);
            return out;
        };
        let token = &tail[..=end];
        match lookup(token, outputs) {
            // The placeholder sits inside a JSON string literal: insert the escaped content.
            Some(v) => out.push_str(&crate::render::escape::json_string_content(&v)),
            None => out.push_str(token),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The resource ids a body's placeholders read from.
pub fn placeholder_sources(body: &str) -> Vec<String> {
    body.match_indices("${after-apply:")
        .filter_map(|(i, _)| {
            let t = &body[i + "${after-apply:".len()..];
            t.find('#').map(|h| t[..h].to_string())
        })
        .collect()
}

fn lookup(token: &str, outputs: &BTreeMap<String, Value>) -> Option<String> {
    let inner = token.strip_prefix("${after-apply:")?.strip_suffix('}')?;
    let (id, rest) = inner.split_once('#')?;
    let (pointer, filter) = match rest.split_once('|') {
        Some((p, f)) => (p, Some(f)),
        None => (rest, None),
    };
    let doc = outputs.get(&id.to_lowercase())?;
    let v = doc.pointer(pointer)?.as_str()?.to_string();
    Some(match filter {
        Some("host") => v
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .split('/')
            .next()
            .unwrap_or("")
            .to_string(),
        _ => v,
    })
}

/// Decide the action for one resource given its live document (None: absent).
pub fn plan_resource(
    r: &Resource,
    live: Option<&Value>,
    outputs: &BTreeMap<String, Value>,
) -> ResourcePlan {
    let body = resolve(&r.body, outputs);
    let want: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let (action, changes) = match live {
        None => (Action::Create, Vec::new()),
        Some(have) => {
            let mut changes = diff(&r.resource_type, &want, have);
            if crate::engine::upgrades::upgraded_version(&r.id, &r.resource_type, &want, have)
                .is_some()
            {
                changes.retain(|c| c.path != "properties.model.version");
            }
            let action = if changes.is_empty() {
                Action::NoChange
            } else if changes.iter().any(|c| c.forces_replacement) {
                Action::Replace
            } else {
                Action::Update
            };
            (action, changes)
        }
    };
    // A step node writes a resource again after it exists (the lock-down of public network
    // access): before the resource exists, it is the update that follows its creation.
    let step = r.arm_id() != r.id;
    let (action, changes) = match (step, live) {
        (true, None) => {
            // What the first request leaves: the same body with public network access on.
            let mut created = want.clone();
            created["properties"]["publicNetworkAccess"] = Value::from("Enabled");
            (Action::Then, diff(&r.resource_type, &want, &created))
        }
        _ => (action, changes),
    };
    let reason = (step && action != Action::NoChange).then(|| {
        "a second request once it exists and its private endpoint connections are approved: Azure refuses public network access Disabled at creation".to_string()
    });
    ResourcePlan {
        id: r.id.clone(),
        resource_type: r.resource_type.clone(),
        api_version: r.api_version.to_string(),
        action,
        changes,
        adopt: false,
        reason,
        state: None,
        kept_tags: Vec::new(),
    }
}

/// The property diffs of a whole render against the live documents read (`live` by lower-case
/// id). [`crate::engine::safety::plan`] adds ownership, provisioning states and replace cascades.
pub fn plan(rendered: &Rendered, live: &BTreeMap<String, Value>) -> Plan {
    let resources = rendered
        .resources
        .iter()
        .map(|r| plan_resource(r, live.get(&r.id.to_lowercase()), live))
        .collect();
    let upgraded = rendered
        .resources
        .iter()
        .filter_map(|r| {
            let have = live.get(&r.id.to_lowercase())?;
            crate::engine::upgrades::upgraded_version(&r.id, &r.resource_type, &r.body_json(), have)
        })
        .collect();
    Plan {
        resources,
        upgraded,
        ..Plan::default()
    }
}

pub(crate) fn show(v: &Option<Value>) -> String {
    match v {
        None => "(known after apply)".to_string(),
        Some(Value::String(s)) if s.contains("${after-apply:") => "(known after apply)".to_string(),
        Some(v) => {
            let s = v.to_string();
            if s.len() > 120 {
                format!(
                    "{}… ({} bytes)",
                    &s[..s.char_indices().nth(100).map(|(i, _)| i).unwrap_or(s.len())],
                    s.len()
                )
            } else {
                s
            }
        }
    }
}

/// A multi-line text (a policy) as a unified diff of its lines with two lines of context, so a
/// reviewer sees which lines change instead of two truncated strings.
pub(crate) fn text_diff(old: &str, new: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut out = String::new();
    for group in diff.grouped_ops(2) {
        out.push_str("      @@\n");
        for op in group {
            for change in diff.iter_changes(&op) {
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => '-',
                    similar::ChangeTag::Insert => '+',
                    similar::ChangeTag::Equal => ' ',
                };
                let line = change.value();
                out.push_str(&format!("      {sign} {}", line.trim_end_matches('\n')));
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_blueprint_properties_are_compared_with_arm_normalisation() {
        let want =
            json!({"location": "westeurope", "properties": {"a": 1, "id": "/subscriptions/X/rg"}});
        let have = json!({"location": "West Europe", "properties": {"a": 1, "id": "/subscriptions/x/RG", "extra": true, "provisioningState": "Succeeded"}});
        assert!(diff("Microsoft.X/y", &want, &have).is_empty());
        let have2 =
            json!({"location": "eastus", "properties": {"a": 2, "id": "/subscriptions/x/rg"}});
        let d = diff("Microsoft.X/y", &want, &have2);
        assert_eq!(d.len(), 2);
        assert!(d
            .iter()
            .any(|c| c.path == "location" && c.forces_replacement));
        assert!(d
            .iter()
            .any(|c| c.path == "properties.a" && !c.forces_replacement));
    }

    #[test]
    fn placeholders_resolve_from_outputs_and_stay_unknown_otherwise() {
        let mut outputs = BTreeMap::new();
        outputs.insert(
            "/subscriptions/s/x/apim".to_string(),
            json!({"identity": {"principalId": "p-1"}, "properties": {"gatewayRegionalUrl": "https://a-westeurope-01.regional.azure-api.net"}}),
        );
        let body = r#"{"p": "${after-apply:/subscriptions/s/x/APIM#/identity/principalId}", "h": "${after-apply:/subscriptions/s/x/apim#/properties/gatewayRegionalUrl|host}", "u": "${after-apply:/subscriptions/s/x/other#/a}"}"#;
        let r = resolve(body, &outputs);
        let v: Value = serde_json::from_str(&r).unwrap();
        assert_eq!(v["p"], "p-1");
        assert_eq!(v["h"], "a-westeurope-01.regional.azure-api.net");
        assert!(v["u"].as_str().unwrap().starts_with("${after-apply:"));
        assert_eq!(placeholder_sources(body).len(), 3);
    }
}
