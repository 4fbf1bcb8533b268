//! Validation of the edge fields (`openai.callers`, `diagnostics`, Event Hub sizing): errors at
//! their field, before anything is rendered. The model of the same area is `model::edge`.

use super::types::*;

/// Event Hubs Standard (learn.microsoft.com/azure/event-hubs/event-hubs-quotas, read
/// 2026-12-06): at most 40 throughput units per namespace and 32 partitions per event hub.
pub const MAX_THROUGHPUT_UNITS: u32 = 40;
pub const MAX_PARTITIONS: u32 = 32;

/// `openai.callers` (object ids, pattern `afd` only) and `diagnostics` (one workspace).
pub fn validate(fail: &mut dyn FnMut(&str, String, Option<String>), b: &Blueprint) {
    for (i, c) in b.openai.callers.iter().enumerate() {
        // An object id is a GUID (as validate.rs checks subscription ids).
        let guid = uuid::Uuid::parse_str(&c.principal_id).is_ok() && c.principal_id.len() == 36;
        if !guid {
            fail(
                &format!("openai.callers[{i}].principalId"),
                format!("`{}` is not an object id", c.principal_id),
                Some("the object id of the user, group or service principal (a GUID)".into()),
            );
        }
    }
    if !b.openai.callers.is_empty() && b.pattern != Pattern::Afd {
        fail(
            "openai.callers",
            format!(
                "pattern `{}` reaches the accounts through API Management's identity; callers call the gateway",
                b.pattern.as_str()
            ),
            Some("remove openai.callers (pattern afd only)".into()),
        );
    }
    if let Some(d) = &b.diagnostics {
        if !(30..=730).contains(&d.retention_days) {
            fail(
                "diagnostics.retentionDays",
                format!("{} retention days is outside 30-730", d.retention_days),
                None,
            );
        }
        let apim_ws = b
            .apim
            .as_ref()
            .and_then(|a| a.logging.as_ref())
            .map(|l| l.log_analytics.as_str());
        if let (Some(mine), Some(apim_ws)) = (d.log_analytics.as_deref(), apim_ws) {
            if mine != apim_ws {
                fail(
                    "diagnostics.logAnalytics",
                    format!("workspace `{mine}` differs from apim.logging.logAnalytics `{apim_ws}`"),
                    Some("one workspace per blueprint: omit diagnostics.logAnalytics or name the same workspace".into()),
                );
            }
        }
        if d.log_analytics.is_none() && apim_ws.is_none() {
            fail(
                "diagnostics",
                "diagnostics need a Log Analytics workspace".into(),
                Some("set diagnostics.logAnalytics (or apim.logging.logAnalytics)".into()),
            );
        }
    }
}

pub fn validate_event_hub(fail: &mut dyn FnMut(&str, String, Option<String>), e: &EventHub) {
    let base = "apim.logging.eventHub";
    if let Some(t) = e.throughput_units {
        if !(1..=MAX_THROUGHPUT_UNITS).contains(&t) {
            fail(
                &format!("{base}.throughputUnits"),
                format!("{t} throughput units; a Standard namespace has 1-{MAX_THROUGHPUT_UNITS}"),
                None,
            );
        }
    }
    if let Some(t) = e.max_throughput_units {
        if !(1..=MAX_THROUGHPUT_UNITS).contains(&t) || e.throughput_units.is_some_and(|b| b > t) {
            fail(
                &format!("{base}.maxThroughputUnits"),
                format!("auto-inflate ceiling {t} must be 1-{MAX_THROUGHPUT_UNITS} and at least throughputUnits"),
                None,
            );
        }
    }
    if let Some(p) = e.partitions {
        if !(1..=MAX_PARTITIONS).contains(&p) {
            fail(
                &format!("{base}.partitions"),
                format!(
                    "{p} partitions; an event hub in a Standard namespace has 1-{MAX_PARTITIONS}"
                ),
                None,
            );
        }
    }
    if let Some(l) = &e.expected_load {
        if l.requests_per_second == 0 {
            fail(
                &format!("{base}.expectedLoad.requestsPerSecond"),
                "expected load of 0 requests per second".into(),
                Some("remove expectedLoad, or give the peak rate of requests whose bodies go to Event Hub".into()),
            );
        }
    }
}
