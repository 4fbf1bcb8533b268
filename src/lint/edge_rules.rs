//! Rules AOAI070..AOAI077: the edge and what watches it. Front Door's probe must see the
//! backends, resource logs must exist (and the WAF's in Detection mode), balanced accounts take
//! no keys, the WAF must let prompts through, Event Hub must ingest what is logged, and the
//! client address behind Front Door is not the TCP peer's.

use serde_json::Value;

use super::Ctx;
use crate::blueprint::{Blueprint, Pattern, WafMode, HEALTH_PATH};
use crate::model::edge;
use crate::model::Model;
use crate::render::Rendered;

/// The health operation's policy file (`aoai-health.xml`, `aoai-health-<service>.xml`).
pub(super) fn is_health_policy(file_name: &str) -> bool {
    file_name.starts_with("aoai-health")
}

pub(super) fn blueprint_rules(c: &mut Ctx, b: &Blueprint) {
    if let Some(f) = &b.front_door {
        let probe = edge::probe_path(b, &f.origin_group.probe);
        if b.pattern == Pattern::AfdApim && probe != HEALTH_PATH {
            c.at_field(
                "AOAI070",
                "frontDoor.originGroup.probe.path",
                format!(
                    "Front Door probes `{probe}`, which answers from the gateway, not from its accounts"
                ),
            );
        }
        let blocking = f.waf.mode == WafMode::Prevention
            && f.waf.managed_rule_sets.iter().any(|r| {
                r.rule_set_type == "Microsoft_DefaultRuleSet"
                    && r.action.unwrap_or(crate::blueprint::RuleSetAction::Block)
                        == crate::blueprint::RuleSetAction::Block
                    && edge::prompt_exclusions(&r.rule_set_type, &r.version, &f.waf.prompt_fields)
                        .is_empty()
            });
        if blocking {
            c.at_field(
                "AOAI075",
                "frontDoor.waf.promptFields",
                "the default rule set blocks requests whose prompts match its rules (no prompt field is excluded)".into(),
            );
        }
    }
    if (b.front_door.is_some() || b.apim.is_some()) && edge::workspace(b).is_none() {
        c.at_field(
            "AOAI071",
            if b.front_door.is_some() {
                "frontDoor"
            } else {
                "apim"
            },
            "no Log Analytics workspace: no diagnostic settings are rendered".into(),
        );
    }
    if b.pattern == Pattern::Afd && !edge::local_auth(b) && b.openai.callers.is_empty() {
        c.at_field(
            "AOAI074",
            "openai",
            "key auth is off and openai.callers lists nobody".into(),
        );
    }
    if let Some(e) = b
        .apim
        .as_ref()
        .and_then(|a| a.logging.as_ref())
        .and_then(|l| l.event_hub.as_ref())
    {
        let size = edge::event_hub_size(e, crate::model::EVENT_HUB_MAX_MESSAGE_BYTES);
        if let Some(load) = &e.expected_load {
            let short = [
                (
                    size.max_throughput_units,
                    "throughput units (auto-inflate ceiling)",
                ),
                (size.partitions, "partitions"),
            ]
            .into_iter()
            .filter(|(have, _)| *have < size.needed)
            .map(|(have, what)| format!("{have} {what}"))
            .collect::<Vec<_>>();
            if !short.is_empty() {
                c.at_field(
                    "AOAI076",
                    "apim.logging.eventHub.expectedLoad",
                    format!(
                        "{} requests/s of about {} bytes need {} throughput units; the hub has {}",
                        load.requests_per_second,
                        load.body_bytes,
                        size.needed,
                        short.join(" and ")
                    ),
                );
            }
        }
    }
}

/// Rules over the rendered bodies: what reaches Azure decides, template overrides included.
pub(super) fn rendered_rules(c: &mut Ctx, m: &Model, rendered: &Rendered) {
    let body = |id: &str| {
        rendered
            .resources
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(id))
            .map(|r| r.body_json())
    };
    // AOAI072: Detection mode without the WAF log.
    if let Some(fd) = &m.front_door {
        let detection = body(&fd.waf_id).is_some_and(|w| {
            w["properties"]["policySettings"]["mode"].as_str() == Some("Detection")
        });
        let waf_logged = rendered.resources.iter().any(|r| {
            r.resource_type == "Microsoft.Insights/diagnosticSettings"
                && r.id
                    .to_lowercase()
                    .starts_with(&format!("{}/", fd.profile_id.to_lowercase()))
                && logs_category(&r.body_json(), edge::WAF_LOG_CATEGORY)
        });
        if detection && !waf_logged {
            c.at_field(
                "AOAI072",
                "frontDoor.waf.mode",
                format!(
                    "WAF {} runs in Detection mode and profile {} sends no {} to Log Analytics",
                    fd.waf_name,
                    fd.profile,
                    edge::WAF_LOG_CATEGORY
                ),
            );
        }
    }
    // AOAI073: keys on accounts that Front Door balances.
    if m.pattern == Pattern::Afd.as_str() && m.accounts.len() > 1 {
        let with_keys: Vec<&str> = m
            .accounts
            .iter()
            .filter(|a| {
                body(&a.id)
                    .is_some_and(|v| v["properties"]["disableLocalAuth"] != Value::Bool(true))
            })
            .map(|a| a.name.as_str())
            .collect();
        if !with_keys.is_empty() {
            let field = if c
                .loaded
                .is_some_and(|l| l.blueprint.openai.local_auth.is_some())
            {
                "openai.localAuth"
            } else {
                "openai.accounts"
            };
            c.at_field(
                "AOAI073",
                field,
                format!(
                    "key auth on {} of {} accounts balanced by Front Door: {}",
                    with_keys.len(),
                    m.accounts.len(),
                    with_keys.join(", ")
                ),
            );
        }
    }
    // AOAI077: the TCP peer logged as the client behind Front Door.
    if m.front_door.is_some() {
        for r in rendered
            .resources
            .iter()
            .filter(|r| r.resource_type == "Microsoft.ApiManagement/service/apis/diagnostics")
        {
            if r.body_json()["properties"]["logClientIp"] == Value::Bool(true) {
                c.at_field(
                    "AOAI077",
                    "frontDoor",
                    format!(
                        "API diagnostic {} logs the client IP, which is Front Door's",
                        r.id.rsplit('/').next().unwrap_or("")
                    ),
                );
            }
        }
    }
}

fn logs_category(setting: &Value, category: &str) -> bool {
    setting["properties"]["workspaceId"].is_string()
        && setting["properties"]["logs"]
            .as_array()
            .is_some_and(|logs| {
                logs.iter().any(|l| {
                    l["category"].as_str() == Some(category) && l["enabled"] == Value::Bool(true)
                })
            })
}
