//! The plan for people: grouped by resource type, each resource under its parent by a short
//! name (`aoai-x/deployments/gpt-4o-mini`; the full ids with `--full-ids` and in `--json`), one
//! summary line per change with its reason, what a created resource will be (location, kind,
//! SKU), property changes below it; colour on a terminal unless `NO_COLOR` is set. And the plan
//! as JSON, with a `formatVersion`.

use std::io::IsTerminal;

use serde_json::Value;

use crate::engine::plan::{terminal, Action, Plan, ResourcePlan};
use crate::engine::terminal::safe;
use crate::render::Rendered;

/// The version of `plan --json`'s format; it changes when a field changes meaning or goes
/// (2: `orphans` are deleted by `apply` without `--prune`; every key is always present).
pub const FORMAT_VERSION: u32 = 2;

#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    pub full_ids: bool,
    pub color: bool,
}

impl TextOptions {
    /// Colour when stdout is a terminal and `NO_COLOR` is not set to something.
    pub fn for_stdout(full_ids: bool) -> TextOptions {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        TextOptions {
            full_ids,
            color: !no_color && std::io::stdout().is_terminal(),
        }
    }
}

/// `plan --json`: the plan with `formatVersion` first.
pub fn json(p: &Plan) -> serde_json::Result<String> {
    let mut out = serde_json::Map::new();
    out.insert("formatVersion".into(), Value::from(FORMAT_VERSION));
    if let Value::Object(m) = serde_json::to_value(p)? {
        out.extend(m);
    }
    serde_json::to_string_pretty(&Value::Object(out))
}

/// `(group, name, depth)`: the type of the top-level resource the id belongs to, the path
/// below that type (`acct/deployments/d`, extension resources as `acct/roleAssignments/g`),
/// and how deep it is.
fn place(id: &str) -> (String, String, usize) {
    let parts: Vec<&str> = id.trim_matches('/').split('/').collect();
    let Some(p) = parts
        .iter()
        .position(|s| s.eq_ignore_ascii_case("providers"))
    else {
        // A resource group (or a subscription).
        return (
            "Resource group".into(),
            parts.last().unwrap_or(&"").to_string(),
            0,
        );
    };
    let group = format!(
        "{}/{}",
        parts.get(p + 1).unwrap_or(&""),
        parts.get(p + 2).unwrap_or(&"")
    );
    // Below the top-level type: name, then (type, name) pairs; a nested `providers/NS` of an
    // extension resource is left out.
    let mut segs: Vec<&str> = Vec::new();
    let mut i = p + 3;
    while i < parts.len() {
        if parts[i].eq_ignore_ascii_case("providers") {
            i += 2;
            continue;
        }
        segs.push(parts[i]);
        i += 1;
    }
    let depth = segs.len() / 2;
    (group, segs.join("/"), depth)
}

/// What a reviewer checks on a created resource: location, kind, SKU and capacity, the model
/// of a deployment, on the line itself; below it, a service's additional locations and network,
/// a pool's members, an origin's host, priority and weight, a private endpoint's target.
fn key_properties(rendered: Option<&Rendered>, id: &str) -> (Vec<String>, Vec<String>) {
    let Some(r) = rendered.and_then(|r| r.resources.iter().find(|x| x.id == id)) else {
        return (Vec::new(), Vec::new());
    };
    let body = r.body_json();
    let props = &body["properties"];
    let mut line = Vec::new();
    if let Some(l) = body["location"].as_str() {
        line.push(format!("location {l}"));
    }
    if let Some(k) = body["kind"].as_str() {
        line.push(format!("kind {k}"));
    }
    if let Some(n) = body["sku"]["name"].as_str() {
        match body["sku"]["capacity"].as_u64() {
            Some(c) => line.push(format!("sku {n} x{c}")),
            None => line.push(format!("sku {n}")),
        }
    }
    if let Some(m) = props["model"]["name"].as_str() {
        let version = props["model"]["version"].as_str().unwrap_or("");
        line.push(format!("model {m} {version}").trim_end().to_string());
    }
    let mut below = Vec::new();
    if let Some(extra) = props["additionalLocations"].as_array() {
        let places: Vec<String> = extra
            .iter()
            .map(|l| {
                format!(
                    "{} ({} x{})",
                    l["location"].as_str().unwrap_or("?"),
                    l["sku"]["name"].as_str().unwrap_or("?"),
                    l["sku"]["capacity"].as_u64().unwrap_or(1)
                )
            })
            .collect();
        if !places.is_empty() {
            below.push(format!("additional locations: {}", places.join(", ")));
        }
    }
    if let Some(v) = props["virtualNetworkType"]
        .as_str()
        .filter(|v| *v != "None")
    {
        below.push(format!("virtual network: {v}"));
    }
    if let Some(a) = props["publicNetworkAccess"].as_str() {
        below.push(format!("public network access: {a}"));
    }
    if let Some(h) = props["hostName"].as_str() {
        let h = crate::engine::plan::show(&Some(Value::from(h)));
        let mut o = format!("host {}", h.trim_matches('"'));
        for k in ["priority", "weight"] {
            if let Some(n) = props[k].as_u64() {
                o.push_str(&format!(" {k} {n}"));
            }
        }
        below.push(o);
    }
    if let Some(members) = crate::engine::plan::member_lines(None, Some(&props["pool"]["services"]))
    {
        below.push("pool members:".into());
        below.extend(members.into_iter().map(|m| format!("  {m}")));
    }
    if let Some(c) = props["privateLinkServiceConnections"][0]["properties"].as_object() {
        if let Some(target) = c.get("privateLinkServiceId").and_then(Value::as_str) {
            let groups: Vec<&str> = c
                .get("groupIds")
                .and_then(Value::as_array)
                .map(|g| g.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            below.push(format!(
                "connects to {} ({})",
                short_ids(target, &r.id[..r.id.find("/providers/").unwrap_or(0)]),
                groups.join(", ")
            ));
        }
    }
    (line, below)
}

/// `text` with every ARM id of the resource group `rg_id` in it shortened to its path from the
/// provider on (`Microsoft.X/type/name/...`), the group's own id to `resourceGroups/<name>`:
/// reasons and refusals name resources as the plan lines do. Ids elsewhere (a network of a
/// landing zone, another subscription) stay whole: where they are matters.
pub fn short_ids(text: &str, rg_id: &str) -> String {
    let rg = rg_id.trim_end_matches('/').to_ascii_lowercase();
    if rg.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("/subscriptions/") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| c.is_whitespace() || ",;:\"'()`".contains(c))
            .unwrap_or(tail.len());
        let id = &tail[..end];
        let lower = id.to_ascii_lowercase();
        if lower.starts_with(&format!("{rg}/providers/")) {
            out.push_str(&provider_path(id));
        } else if lower == rg {
            let j = lower.find("/resourcegroups/").unwrap_or(0);
            out.push_str(&id[j + 1..]);
        } else {
            out.push_str(id);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// The id of the resource group a plan is in (its first resource), or "" when it has none.
fn group_of(p: &Plan) -> String {
    p.resources
        .iter()
        .find(|r| {
            r.resource_type
                .eq_ignore_ascii_case("Microsoft.Resources/resourceGroups")
        })
        .map(|r| r.id.clone())
        .unwrap_or_default()
}

/// The members of one group in the order of a tree: each resource right below its parent (or
/// the resource it is scoped to), siblings in the order they first appear (the render's
/// dependency order); a step after creation last below its resource. With each, how many of
/// its ancestors are shown (its depth in the printed tree).
fn tree<'a>(members: &[&'a ResourcePlan]) -> Vec<(&'a ResourcePlan, usize)> {
    let names: Vec<String> = members
        .iter()
        .map(|r| place(r.id.split('#').next().unwrap_or(&r.id)).1)
        .collect();
    // Where a subtree first appears: its own position or that of anything below it.
    let first = |prefix: &str| -> usize {
        let below = format!("{prefix}/");
        names
            .iter()
            .position(|n| n == prefix || n.starts_with(&below))
            .unwrap_or(usize::MAX)
    };
    // The names of a resource's ancestors and its own: `a`, `a/apis/x`, `a/apis/x/policies/p`.
    let chain = |name: &str| -> Vec<String> {
        let segs: Vec<&str> = name.split('/').collect();
        (0..=segs.len() / 2)
            .map(|k| segs[..(2 * k + 1).min(segs.len())].join("/"))
            .fold(Vec::new(), |mut v, n| {
                if v.last() != Some(&n) {
                    v.push(n);
                }
                v
            })
    };
    let mut keyed: Vec<(Vec<usize>, &ResourcePlan, usize)> = members
        .iter()
        .zip(&names)
        .map(|(r, name)| {
            let links = chain(name);
            let mut key: Vec<usize> = links.iter().map(|l| first(l)).collect();
            if r.action == Action::Then {
                key.push(usize::MAX);
            }
            let shown = links[..links.len() - 1]
                .iter()
                .filter(|l| names.iter().any(|n| n == *l))
                .count();
            (key, *r, shown)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.into_iter().map(|(_, r, d)| (r, d)).collect()
}

/// `s` (escaped for a terminal: it may come from Azure) in colour `code` when `on`. Values
/// from the blueprint or from Azure go through [`safe`] wherever they are printed, so that the
/// only control sequences in the output are these colours.
fn paint(on: bool, code: &str, s: &str) -> String {
    let s = safe(s);
    if on {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.into_owned()
    }
}

fn verb(r: &ResourcePlan) -> &'static str {
    match (r.action, r.adopt) {
        (Action::UseExisting, _) => "exists and is not owned by this blueprint: used as it is",
        (_, true) => {
            "will be adopted: it exists without this blueprint's ownership tag (apply needs --adopt)"
        }
        (Action::Create, _) => "will be created",
        (Action::Update, _) => "will be updated in place",
        (Action::Replace, _) => {
            "must be replaced (an immutable property changed; apply needs --allow-replace)"
        }
        (Action::NoChange, _) => "is still provisioning",
        (Action::Then, _) => "",
    }
}

fn color_of(a: Action) -> &'static str {
    match a {
        Action::Create => "32",
        Action::Update => "33",
        Action::Replace => "31",
        Action::Then => "36",
        _ => "2",
    }
}

/// The short form of an id outside the groups (orphans): the path from its provider on.
fn short(id: &str, full: bool) -> String {
    if full {
        id.to_string()
    } else {
        provider_path(id)
    }
}

/// An id from its provider on (`Microsoft.X/type/name/...`): how the plan and destroy name a
/// resource of the group without the subscription and group.
pub fn provider_path(id: &str) -> String {
    match id.find("/providers/") {
        Some(i) => id[i + "/providers/".len()..].to_string(),
        None => id.to_string(),
    }
}

/// What a step after creation does, from its changes: `disable public access` for the
/// lock-down, the properties it writes otherwise.
fn step_words(r: &ResourcePlan) -> String {
    let lock_down = r.changes.iter().all(|c| {
        c.path == "properties.publicNetworkAccess"
            && c.new.as_ref().and_then(Value::as_str) == Some("Disabled")
    });
    if lock_down && !r.changes.is_empty() {
        "disable public access".into()
    } else {
        let paths: Vec<&str> = r.changes.iter().map(|c| c.path.as_str()).collect();
        format!("write {} again", paths.join(", "))
    }
}

pub fn human(p: &Plan, rendered: Option<&Rendered>, o: &TextOptions) -> String {
    let shown: Vec<&ResourcePlan> = p
        .resources
        .iter()
        .filter(|r| !(r.action == Action::NoChange && r.state.is_none()))
        .collect();
    // Groups in the order their first member appears (the render's dependency order).
    let mut groups: Vec<String> = Vec::new();
    for r in &shown {
        let g = place(&r.id).0;
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    // Ids in reasons are as short as the names of the lines (full with --full-ids).
    let rg = group_of(p);
    let ids = |text: &str| -> String {
        if o.full_ids {
            text.to_string()
        } else {
            short_ids(text, &rg)
        }
    };
    // Preflight findings and the steps before the graph come first.
    let mut s = safe(&ids(&crate::engine::preflight::human(
        &p.preflight,
        &p.steps,
    )))
    .into_owned();
    for g in &groups {
        s.push_str(&paint(o.color, "1", g));
        s.push('\n');
        let members: Vec<&ResourcePlan> = shown
            .iter()
            .copied()
            .filter(|r| place(&r.id).0 == *g)
            .collect();
        for (r, depth) in tree(&members) {
            let indent = "  ".repeat(depth + 1);
            let arm = r.id.split('#').next().unwrap_or(&r.id);
            let name = safe(&if o.full_ids {
                arm.to_string()
            } else {
                place(arm).1
            })
            .into_owned();
            let mut line = if r.action == Action::Then {
                format!(
                    "{indent}{} {} on {name}",
                    paint(o.color, color_of(r.action), r.action.symbol()),
                    paint(o.color, color_of(r.action), &step_words(r))
                )
            } else {
                format!(
                    "{indent}{} {name} {}",
                    paint(o.color, color_of(r.action), r.action.symbol()),
                    paint(o.color, color_of(r.action), verb(r))
                )
            };
            let mut below = Vec::new();
            if r.action == Action::Create && !r.adopt {
                let (props, more) = key_properties(rendered, &r.id);
                if !props.is_empty() {
                    line.push_str(&format!(": {}", safe(&props.join(", "))));
                }
                below = more;
            } else if matches!(r.action, Action::Update | Action::Replace) && !r.changes.is_empty()
            {
                let paths: Vec<&str> = r.changes.iter().map(|c| c.path.as_str()).collect();
                line.push_str(&format!(": {}", safe(&paths.join(", "))));
            }
            if let Some(reason) = &r.reason {
                line.push_str(&format!(" (why: {})", safe(&ids(reason))));
            }
            s.push_str(&line);
            s.push('\n');
            for b in below {
                s.push_str(&format!("{indent}    {}\n", safe(&ids(&b))));
            }
            if r.action == Action::UseExisting {
                continue;
            }
            if !r.kept_tags.is_empty() {
                s.push_str(&format!(
                    "{indent}    tags kept (on the resource, not set by the blueprint): {}\n",
                    safe(&r.kept_tags.join(", "))
                ));
            }
            for c in &r.changes {
                if let (Some(Value::String(a)), Some(Value::String(b))) = (&c.old, &c.new) {
                    if a.contains('\n') || b.contains('\n') {
                        s.push_str(&format!(
                            "{indent}    {}: (text; changed lines)\n",
                            safe(&c.path)
                        ));
                        s.push_str(&safe(&crate::engine::plan::text_diff(a, b)));
                        continue;
                    }
                }
                let forces = if c.forces_replacement {
                    "  # forces replacement"
                } else {
                    ""
                };
                // A list of named members (a pool's backends): who joins, leaves or changes.
                if let Some(lines) =
                    crate::engine::plan::member_lines(c.old.as_ref(), c.new.as_ref())
                {
                    s.push_str(&format!(
                        "{indent}    {}: (by member){forces}\n",
                        safe(&c.path)
                    ));
                    for l in lines {
                        s.push_str(&format!("{indent}      {}\n", safe(&ids(&l))));
                    }
                    continue;
                }
                let old = c
                    .old
                    .as_ref()
                    .map(|v| crate::engine::plan::show(&Some(v.clone())))
                    .unwrap_or_else(|| "(unset)".into());
                s.push_str(&format!(
                    "{indent}    {}: {} -> {}{forces}\n",
                    safe(&c.path),
                    safe(&ids(&old)),
                    safe(&ids(&crate::engine::plan::show(&c.new)))
                ));
            }
        }
    }
    for orphan in &p.orphans {
        let what = match p.points_at.get(orphan) {
            // A referrer (an origin, a backend, a subscription): what it points at.
            Some(to) => format!(
                "; it points at {}",
                to.iter()
                    .map(|t| {
                        let fate = if p.orphans.contains(t) {
                            "deleted after it"
                        } else {
                            "kept"
                        };
                        format!("{} ({fate})", short(t, o.full_ids))
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => {
                // What reaches it: the referrers deleted before it.
                let from: Vec<String> = p
                    .points_at
                    .iter()
                    .filter(|(_, to)| to.iter().any(|t| t.eq_ignore_ascii_case(orphan)))
                    .map(|(f, _)| short(f, o.full_ids))
                    .collect();
                if from.is_empty() {
                    String::new()
                } else {
                    format!("; it serves {} (deleted first)", from.join(", "))
                }
            }
        };
        s.push_str(&format!(
            "{} {} {}: owned by this blueprint and no longer declared{}\n",
            paint(o.color, "31", "-"),
            safe(&short(orphan, o.full_ids)),
            paint(o.color, "31", "will be deleted"),
            safe(&what)
        ));
    }
    for k in &p.kept {
        s.push_str(&format!(
            "= {} is owned by this blueprint and no longer declared: kept (--keep or lifecycle.keep), never deleted\n",
            safe(&short(k, o.full_ids))
        ));
    }
    for u in &p.upgraded {
        s.push_str(&format!(
            "= {} runs {} {}, which Azure upgraded it to from the blueprint's {} (versionUpgradeOption {}): kept, not written back\n",
            safe(&short(&u.id, o.full_ids)),
            safe(&u.model),
            safe(&u.live),
            safe(&u.pinned),
            safe(&u.version_upgrade_option)
        ));
    }
    for u in &p.undeclared {
        s.push_str(&format!(
            "? {} is not declared, and nothing proves this blueprint created it: left alone\n",
            safe(&short(u, o.full_ids))
        ));
    }
    for c in &p.deleted_with_parent {
        s.push_str(&format!(
            "{} {} is not declared by this blueprint (owned or not) and is deleted with its parent {}, which is replaced: Azure deletes it with the parent, and nothing creates it again\n",
            paint(o.color, "31", "-"),
            safe(&short(&c.id, o.full_ids)),
            safe(&short(&c.parent, o.full_ids))
        ));
    }
    for a in &p.approvals {
        s.push_str(&format!(
            "{} approve private endpoint connection {} ({}, requested by Front Door origin {})\n",
            paint(o.color, "33", "~"),
            safe(&short(&a.connection, o.full_ids)),
            safe(&a.status),
            safe(&short(&a.origin, o.full_ids))
        ));
    }
    let adopt = p.resources.iter().filter(|r| r.adopt).count();
    let waiting = p
        .resources
        .iter()
        .filter(|r| r.state.as_deref().is_some_and(|s| !terminal(s)))
        .count();
    let mut tail = String::new();
    if p.count(Action::Then) > 0 {
        tail.push_str(&format!(
            ", {} step(s) after creation",
            p.count(Action::Then)
        ));
    }
    if !p.kept.is_empty() {
        tail.push_str(&format!(", {} kept", p.kept.len()));
    }
    if !p.approvals.is_empty() {
        tail.push_str(&format!(", {} connection(s) to approve", p.approvals.len()));
    }
    s.push_str(&format!(
        "Plan: {} to create, {} to update, {} to replace, {} to delete, {} to adopt, {} unchanged, {} still provisioning{tail}.\n",
        p.count(Action::Create),
        p.count(Action::Update),
        p.count(Action::Replace),
        p.orphans.len(),
        adopt,
        p.count(Action::NoChange) + p.count(Action::UseExisting),
        waiting,
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::{human, TextOptions};
    use crate::engine::plan::{Action, Change, Plan, ResourcePlan};
    use serde_json::json;

    #[test]
    fn multi_line_values_show_only_the_changed_lines() {
        let p = Plan {
            resources: vec![ResourcePlan {
                id: "/x/policies/policy".into(),
                resource_type: "t".into(),
                api_version: "v".into(),
                action: Action::Update,
                changes: vec![Change {
                    path: "properties.value".into(),
                    old: Some(json!("a\nb\nc\nd\ne\nf\ng\n")),
                    new: Some(json!("a\nb\nc\nD\ne\nf\ng\n")),
                    forces_replacement: false,
                }],
                adopt: false,
                reason: None,
                state: None,
                kept_tags: Vec::new(),
            }],
            ..Plan::default()
        };
        let text = human(&p, None, &TextOptions::default());
        assert!(text.contains("      - d\n      + D\n"), "{text}");
        assert!(
            text.contains("        c\n") && text.contains("        e\n"),
            "{text}"
        );
        assert!(
            !text.contains("        a\n"),
            "context is two lines: {text}"
        );
    }

    use super::place;

    #[test]
    fn places() {
        let s = "/subscriptions/s/resourceGroups/rg";
        assert_eq!(place(s), ("Resource group".into(), "rg".into(), 0));
        assert_eq!(
            place(&format!(
                "{s}/providers/Microsoft.CognitiveServices/accounts/a/deployments/d"
            )),
            (
                "Microsoft.CognitiveServices/accounts".into(),
                "a/deployments/d".into(),
                1
            )
        );
        assert_eq!(
            place(&format!(
                "{s}/providers/Microsoft.CognitiveServices/accounts/a/providers/Microsoft.Authorization/roleAssignments/g"
            )),
            ("Microsoft.CognitiveServices/accounts".into(), "a/roleAssignments/g".into(), 1)
        );
    }

    #[test]
    fn ids_of_the_group_are_short_and_others_stay_whole() {
        let rg = "/subscriptions/s/resourceGroups/rg";
        let text = format!(
            "{rg}/providers/Microsoft.A/b/c: depends on {rg}/providers/Microsoft.X/y/z, which uses /subscriptions/s/resourceGroups/hub/providers/Microsoft.Network/virtualNetworks/v (in {rg})"
        );
        assert_eq!(
            super::short_ids(&text, rg),
            "Microsoft.A/b/c: depends on Microsoft.X/y/z, which uses /subscriptions/s/resourceGroups/hub/providers/Microsoft.Network/virtualNetworks/v (in resourceGroups/rg)"
        );
    }
}
