//! The edge of the architecture and what watches it: Front Door's view of the backends (the
//! gateway's health operation), resource logs (diagnostic settings into Log Analytics), keyless
//! callers of balanced accounts, the WAF's prompt exclusions, Event Hub sizing and the client
//! IP behind Front Door. Facts carry their source and the date they were read.

use serde::Serialize;

use super::{arm_guid, AccountM, ROLE_OPENAI_USER};
use crate::blueprint::{self, Blueprint, Pattern, HEALTH_PATH, STATUS_PATH};

/// `Microsoft.Insights/diagnosticSettings`: 2021-05-01-preview, the version the REST reference
/// documents (learn.microsoft.com/rest/api/monitor/diagnostic-settings/create-or-update, read
/// 2026-12-06). The only GA version, 2016-09-01, is the legacy per-service form (name
/// `service`, no `logAnalyticsDestinationType`), which cannot write resource-specific tables.
pub const DIAGNOSTIC_SETTINGS_API: &str = "2021-05-01-preview";

/// The name of every diagnostic setting aoai-arch writes.
pub const DIAGNOSTIC_SETTING_NAME: &str = "aoai-arch";

/// Log categories per resource type, as "Supported logs" on Learn lists them (read 2026-12-06):
/// learn.microsoft.com/azure/azure-monitor/reference/supported-logs/microsoft-apimanagement-service-logs
/// (GatewayLogs -> ApiManagementGatewayLogs, GatewayLlmLogs -> ApiManagementGatewayLlmLog: the
/// generative-AI gateway logs), .../microsoft-cdn-profiles-logs (FrontDoorAccessLog,
/// FrontDoorHealthProbeLog, FrontDoorWebApplicationFirewallLog -> AzureDiagnostics) and
/// .../microsoft-cognitiveservices-accounts-logs (Audit, RequestResponse, Trace ->
/// AzureDiagnostics). Only API Management has resource-specific tables.
pub const APIM_LOG_CATEGORIES: &[&str] = &["GatewayLogs", "GatewayLlmLogs"];
pub const FRONT_DOOR_LOG_CATEGORIES: &[&str] = &[
    "FrontDoorAccessLog",
    "FrontDoorHealthProbeLog",
    "FrontDoorWebApplicationFirewallLog",
];
pub const ACCOUNT_LOG_CATEGORIES: &[&str] = &["Audit", "RequestResponse", "Trace"];
/// The WAF log category: a WAF in Detection mode only records in it.
pub const WAF_LOG_CATEGORY: &str = "FrontDoorWebApplicationFirewallLog";

/// Front Door headers (learn.microsoft.com/azure/frontdoor/front-door-http-headers-protocol,
/// read 2026-12-06): `X-Azure-SocketIP` is the address of the TCP connection to Front Door,
/// which a client cannot set; `X-Azure-ClientIP` is the client address Front Door associates
/// with the request, which "can be arbitrarily overwritten by a user"; `X-Forwarded-For` gets
/// the socket IP appended to what the client sent, so its first entry is the client's claim
/// and its last one Front Door's.
pub const CLIENT_IP_HEADERS: &[&str] = &["X-Azure-SocketIP", "X-Azure-ClientIP", "X-Forwarded-For"];

/// Event Hubs Standard (learn.microsoft.com/azure/event-hubs/event-hubs-quotas and
/// .../event-hubs-scalability, read 2026-12-06): one throughput unit ingests 1 MB/s or 1000
/// events/s, a namespace has at most 40 units, an event hub at most 32 partitions, and a
/// partition takes about one unit's ingress.
pub const TU_BYTES_PER_SECOND: u64 = 1024 * 1024;
pub const TU_EVENTS_PER_SECOND: u64 = 1000;
pub use crate::blueprint::edge::{MAX_PARTITIONS, MAX_THROUGHPUT_UNITS};
/// What a log-to-eventhub message adds to its bodies (ids, sizes, names), rounded up.
pub const EVENT_HUB_ENVELOPE_BYTES: u64 = 1024;

/// The data-plane call behind the health operation: `GET /openai/models?api-version=2024-10-21`
/// (learn.microsoft.com/rest/api/azureopenai/models/list, read 2026-12-06): no tokens, no
/// deployment, and it needs the network path, DNS, the gateway's token and its role.
pub const HEALTH_BACKEND_PATH: &str = "/models";
pub const HEALTH_BACKEND_API_VERSION: &str = "2024-10-21";

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticsM {
    pub workspace_name: String,
    pub workspace_id: String,
    pub retention_days: u32,
    pub settings: Vec<DiagnosticSettingM>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticSettingM {
    pub id: String,
    /// The resource whose logs it sends.
    pub scope_id: String,
    /// Resource-specific tables (`logAnalyticsDestinationType: Dedicated`) instead of
    /// AzureDiagnostics.
    pub dedicated: bool,
    pub categories: Vec<&'static str>,
}

/// A data-plane role assignment for a caller of the accounts (`afd`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallerRoleM {
    pub id: String,
    pub account: String,
    pub principal_id: String,
    pub principal_type: &'static str,
}

/// The health operation of an `afd-apim` gateway: Front Door probes it; it answers 200 while
/// one of the gateway region's own accounts answers, 503 otherwise.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthM {
    pub api_name: String,
    pub api_id: String,
    pub api_path: String,
    pub operation_id: String,
    pub policy_id: String,
    /// The probe path Front Door uses: `/<api path>/backends`.
    pub probe_path: String,
    pub cache_seconds: u32,
    pub backend_path: &'static str,
    pub backend_api_version: &'static str,
    /// Attempts after the first, so that every local account of the largest region gets one
    /// (at least one; at least the number of regions' pools less one, which lint counts).
    pub retries: u32,
    /// One pool of the region's own accounts per gateway region.
    pub regions: Vec<HealthRegionM>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthRegionM {
    pub display: String,
    pub pool_name: String,
    pub pool_id: String,
    pub backend_ids: Vec<String>,
}

/// Sizing of the Event Hubs namespace and hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventHubSize {
    pub throughput_units: u32,
    pub max_throughput_units: u32,
    pub partitions: u32,
    /// Throughput units the expected load needs (1 without one).
    pub needed: u32,
}

/// Units the expected load needs: bytes per second over 1 MB/s, or events over 1000/s.
pub fn needed_units(load: Option<&blueprint::ExpectedLoad>, max_message_bytes: u32) -> u32 {
    let Some(l) = load else { return 1 };
    let message =
        (u64::from(l.body_bytes) + EVENT_HUB_ENVELOPE_BYTES).min(u64::from(max_message_bytes));
    let rps = u64::from(l.requests_per_second);
    let by_bytes = (rps * message).div_ceil(TU_BYTES_PER_SECOND);
    let by_events = rps.div_ceil(TU_EVENTS_PER_SECOND);
    by_bytes.max(by_events).max(1).min(u64::from(u32::MAX)) as u32
}

pub fn event_hub_size(e: &blueprint::EventHub, max_message_bytes: u32) -> EventHubSize {
    let needed = needed_units(e.expected_load.as_ref(), max_message_bytes);
    let base = e
        .throughput_units
        .unwrap_or(needed.min(MAX_THROUGHPUT_UNITS));
    let ceiling = e
        .max_throughput_units
        .unwrap_or((base * 2).clamp(4, MAX_THROUGHPUT_UNITS).max(base));
    let partitions = e.partitions.unwrap_or(ceiling.clamp(4, MAX_PARTITIONS));
    EventHubSize {
        throughput_units: base,
        max_throughput_units: ceiling,
        partitions,
        needed,
    }
}

/// The Log Analytics workspace of the blueprint: `diagnostics.logAnalytics`, else
/// `apim.logging.logAnalytics`.
pub fn workspace(b: &Blueprint) -> Option<(String, u32)> {
    let from_apim = b
        .apim
        .as_ref()
        .and_then(|a| a.logging.as_ref())
        .map(|l| (l.log_analytics.clone(), l.retention_days));
    match (&b.diagnostics, from_apim) {
        (Some(d), from_apim) => d
            .log_analytics
            .clone()
            .map(|n| (n, d.retention_days))
            .or(from_apim),
        (None, from_apim) => from_apim,
    }
}

/// Diagnostic settings of every service the render writes: API Management (each service),
/// Front Door and every account, into the blueprint's workspace.
pub fn diagnostics(
    b: &Blueprint,
    rg_id: &str,
    accounts: &[AccountM],
    apim_ids: &[String],
    front_door_id: Option<&str>,
) -> Option<DiagnosticsM> {
    let (name, retention_days) = workspace(b)?;
    let setting = |scope: &str, dedicated: bool, categories: &[&'static str]| DiagnosticSettingM {
        id: format!(
            "{scope}/providers/Microsoft.Insights/diagnosticSettings/{DIAGNOSTIC_SETTING_NAME}"
        ),
        scope_id: scope.to_string(),
        dedicated,
        categories: categories.to_vec(),
    };
    let mut settings: Vec<DiagnosticSettingM> = apim_ids
        .iter()
        .map(|id| setting(id, true, APIM_LOG_CATEGORIES))
        .collect();
    settings.extend(front_door_id.map(|id| setting(id, false, FRONT_DOOR_LOG_CATEGORIES)));
    settings.extend(
        accounts
            .iter()
            .map(|a| setting(&a.id, false, ACCOUNT_LOG_CATEGORIES)),
    );
    Some(DiagnosticsM {
        workspace_id: format!("{rg_id}/providers/Microsoft.OperationalInsights/workspaces/{name}"),
        workspace_name: name,
        retention_days,
        settings,
    })
}

/// Whether the accounts keep key (local) authentication.
pub fn local_auth(b: &Blueprint) -> bool {
    b.openai.local_auth.unwrap_or(match b.pattern {
        Pattern::Afd => false,
        _ => !b.apim.as_ref().is_some_and(|a| a.auth.managed_identity),
    })
}

/// The callers' data-plane role on every account (`afd`).
pub fn caller_roles(b: &Blueprint, accounts: &[AccountM]) -> Vec<CallerRoleM> {
    accounts
        .iter()
        .flat_map(|a| {
            b.openai.callers.iter().map(move |c| {
                let name = arm_guid(&[&a.id, &c.principal_id.to_lowercase(), ROLE_OPENAI_USER]);
                CallerRoleM {
                    id: format!(
                        "{}/providers/Microsoft.Authorization/roleAssignments/{name}",
                        a.id
                    ),
                    account: a.name.clone(),
                    principal_id: c.principal_id.clone(),
                    principal_type: c.principal_type.as_str(),
                }
            })
        })
        .collect()
}

/// The probe path Front Door uses.
pub fn probe_path(b: &Blueprint, probe: &blueprint::Probe) -> String {
    probe.path.clone().unwrap_or_else(|| {
        if b.pattern == Pattern::AfdApim {
            HEALTH_PATH.to_string()
        } else {
            STATUS_PATH.to_string()
        }
    })
}

/// The health operation of one API Management service (`afd-apim`). `regions` is each gateway
/// region's display name with the backend ids of its own accounts.
pub fn health(
    b: &Blueprint,
    apim_id: &str,
    regions: &[(String, String, Vec<String>)],
) -> Option<HealthM> {
    if b.pattern != Pattern::AfdApim {
        return None;
    }
    let probe = &b.front_door.as_ref()?.origin_group.probe;
    let (api_path, operation) = HEALTH_PATH[1..].split_once('/')?;
    let api_name = "aoai-health".to_string();
    let api_id = format!("{apim_id}/apis/{api_name}");
    let largest = regions.iter().map(|r| r.2.len()).max().unwrap_or(0);
    let retries = (largest.max(regions.len()) as u32).saturating_sub(1).max(1);
    Some(HealthM {
        retries,
        operation_id: format!("{api_id}/operations/{operation}"),
        policy_id: format!("{api_id}/policies/policy"),
        probe_path: HEALTH_PATH.to_string(),
        api_path: api_path.to_string(),
        cache_seconds: probe.cache_seconds,
        backend_path: HEALTH_BACKEND_PATH,
        backend_api_version: HEALTH_BACKEND_API_VERSION,
        // Validation gives every gateway region an account; a region without one would get no
        // pool, and the policy's `otherwise` would answer 503 there.
        regions: regions
            .iter()
            .filter(|(_, _, ids)| !ids.is_empty())
            .map(|(region, display, ids)| {
                let pool_name = format!("aoai-health-{region}");
                HealthRegionM {
                    display: display.clone(),
                    pool_id: format!("{apim_id}/backends/{pool_name}"),
                    pool_name,
                    backend_ids: ids.clone(),
                }
            })
            .collect(),
        api_name,
        api_id,
    })
}

/// The WAF exclusions of one managed rule set: the prompt fields on the default rule set 2.x
/// (JSON argument exclusions exist from DRS 2.0:
/// learn.microsoft.com/azure/web-application-firewall/afds/waf-front-door-exclusion, read
/// 2026-12-06).
pub fn prompt_exclusions(rule_set_type: &str, version: &str, fields: &[String]) -> Vec<String> {
    if supports_json_exclusions(rule_set_type, version) {
        fields.to_vec()
    } else {
        Vec::new()
    }
}

pub fn supports_json_exclusions(rule_set_type: &str, version: &str) -> bool {
    rule_set_type == "Microsoft_DefaultRuleSet"
        && version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok())
            .is_some_and(|m| m >= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(rps: u32, body: u32) -> blueprint::ExpectedLoad {
        blueprint::ExpectedLoad {
            requests_per_second: rps,
            body_bytes: body,
        }
    }

    #[test]
    fn units_follow_the_bytes_or_the_events_whichever_needs_more() {
        let max = crate::model::EVENT_HUB_MAX_MESSAGE_BYTES;
        assert_eq!(needed_units(None, max), 1);
        // 5 messages of 200 KB: 1 MB/s, one unit; a sixth needs a second.
        assert_eq!(needed_units(Some(&load(5, 500_000)), max), 1);
        assert_eq!(needed_units(Some(&load(6, 500_000)), max), 2);
        // Small bodies: the 1000 events/s bound decides.
        assert_eq!(needed_units(Some(&load(2500, 10)), max), 3);
        // The envelope counts: 1100 messages of 0 + 1 KB bytes are over 1 MiB/s (and 1000
        // events/s); 1000 of them fit in one unit both ways.
        assert_eq!(needed_units(Some(&load(1100, 0)), max), 2);
        assert_eq!(needed_units(Some(&load(1000, 0)), max), 1);
        // Bodies over 200 KB are shortened: the message, not the body, is counted.
        assert_eq!(needed_units(Some(&load(5, 5_000_000)), max), 1);
    }
}
