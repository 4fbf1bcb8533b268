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

/// The version of `plan --json`'s format; it changes when a field changes meaning or goes.
pub const FORMAT_VERSION: u32 = 1;

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

/// Location, kind and SKU of the body a created resource will get.
fn key_properties(rendered: Option<&Rendered>, id: &str) -> Vec<String> {
    let Some(r) = rendered.and_then(|r| r.resources.iter().find(|x| x.id == id)) else {
        return Vec::new();
    };
    let body = r.body_json();
    let mut out = Vec::new();
    if let Some(l) = body["location"].as_str() {
        out.push(format!("location {l}"));
    }
    if let Some(k) = body["kind"].as_str() {
        out.push(format!("kind {k}"));
    }
    if let Some(n) = body["sku"]["name"].as_str() {
        match body["sku"]["capacity"].as_u64() {
            Some(c) => out.push(format!("sku {n} x{c}")),
            None => out.push(format!("sku {n}")),
        }
    }
    out
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
    }
}

fn color_of(a: Action) -> &'static str {
    match a {
        Action::Create => "32",
        Action::Update => "33",
        Action::Replace => "31",
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
    // Preflight findings and the steps before the graph come first.
    let mut s = safe(&crate::engine::preflight::human(&p.preflight, &p.steps)).into_owned();
    for g in &groups {
        s.push_str(&paint(o.color, "1", g));
        s.push('\n');
        // Each top-level resource with everything below it, in the order the group first
        // meets them.
        let mut members: Vec<&&ResourcePlan> =
            shown.iter().filter(|r| place(&r.id).0 == *g).collect();
        let top = |r: &ResourcePlan| place(&r.id).1.split('/').next().unwrap_or("").to_string();
        let order: Vec<String> = members.iter().map(|r| top(r)).fold(Vec::new(), |mut v, t| {
            if !v.contains(&t) {
                v.push(t);
            }
            v
        });
        members.sort_by_key(|r| order.iter().position(|t| *t == top(r)));
        for r in members {
            let (_, name, depth) = place(&r.id);
            let indent = "  ".repeat(depth + 1);
            let name = safe(&if o.full_ids { r.id.clone() } else { name }).into_owned();
            let mut line = format!(
                "{indent}{} {name} {}",
                paint(o.color, color_of(r.action), r.action.symbol()),
                paint(o.color, color_of(r.action), verb(r))
            );
            if r.action == Action::Create && !r.adopt {
                let props = key_properties(rendered, &r.id);
                if !props.is_empty() {
                    line.push_str(&format!(": {}", safe(&props.join(", "))));
                }
            } else if matches!(r.action, Action::Update | Action::Replace) && !r.changes.is_empty()
            {
                let paths: Vec<&str> = r.changes.iter().map(|c| c.path.as_str()).collect();
                line.push_str(&format!(": {}", safe(&paths.join(", "))));
            }
            if let Some(reason) = &r.reason {
                line.push_str(&format!(" (why: {})", safe(reason)));
            }
            s.push_str(&line);
            s.push('\n');
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
                let old = c
                    .old
                    .as_ref()
                    .map(|v| crate::engine::plan::show(&Some(v.clone())))
                    .unwrap_or_else(|| "(unset)".into());
                let forces = if c.forces_replacement {
                    "  # forces replacement"
                } else {
                    ""
                };
                s.push_str(&format!(
                    "{indent}    {}: {} -> {}{forces}\n",
                    safe(&c.path),
                    safe(&old),
                    safe(&crate::engine::plan::show(&c.new))
                ));
            }
        }
    }
    for orphan in &p.orphans {
        s.push_str(&format!(
            "{} {} is owned by this blueprint (or points at what it deletes) and no longer declared: deleted only by apply --prune\n",
            paint(o.color, "31", "-"),
            safe(&short(orphan, o.full_ids))
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
    s.push_str(&format!(
        "Plan: {} to create, {} to update, {} to replace, {} to adopt, {} unchanged, {} still provisioning, {} orphaned{}.\n",
        p.count(Action::Create),
        p.count(Action::Update),
        p.count(Action::Replace),
        adopt,
        p.count(Action::NoChange) + p.count(Action::UseExisting),
        waiting,
        p.orphans.len(),
        if p.approvals.is_empty() {
            String::new()
        } else {
            format!(", {} connection(s) to approve", p.approvals.len())
        }
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
}
