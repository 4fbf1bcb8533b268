//! The API Management gateway: service, regions, backends and pools, the Azure OpenAI API and
//! its operations, retry, token validation, logging, budget, named values, and the extra
//! services of `apim.instances`.

use serde::Serialize;

use super::accounts::AccountM;
use super::ids::{after_apply, arm_guid, step_key};
use super::network::{PrivateEndpointM, ZoneConfigM, APIM_PRIVATE_DNS_ZONE};
use crate::blueprint::{self, regions, Blueprint, LbMode, Pattern, PoolType, RetryOn};

/// The largest message `log-to-eventhub` sends unchanged: 200 KB (learn.microsoft.com,
/// log-to-eventhub policy, usage notes), with room to spare for the Event Hub envelope.
pub const EVENT_HUB_MAX_MESSAGE_BYTES: u32 = 200 * 1000;

/// "Azure Event Hubs Data Sender": what the APIM Event Hub logger needs with managed identity.
pub const ROLE_EVENT_HUBS_SENDER: &str = "2b629674-e913-4c01-ae53-ef4638d8f975";

/// One service of `apim.instances`: its resolved service, and the accounts as it sees them
/// (its own role assignment on each).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceM {
    pub apim: ApimM,
    pub accounts: Vec<AccountM>,
    pub location: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApimM {
    pub name: String,
    pub id: String,
    pub sku_name: &'static str,
    pub capacity: u32,
    /// `None`, `External` or `Internal` (`properties.virtualNetworkType`).
    pub virtual_network_type: &'static str,
    /// Subnet of the primary region's gateway when the service has a virtual network.
    pub subnet_id: Option<String>,
    /// Inbound private endpoint of the gateway (group id `Gateway`).
    pub private_endpoint: Option<PrivateEndpointM>,
    /// The second request for the service that disables public network access once its
    /// private endpoint connections are approved: its node key, see [`lock_down_key`].
    pub lock_down: Option<String>,
    /// `Enabled` when the blueprint says so: written by the service's own request, which turns
    /// an earlier lock-down off. Unset, the request leaves the property as it is.
    pub public_network_access: Option<&'static str>,
    pub publisher_name: String,
    pub publisher_email: String,
    pub additional_locations: Vec<ApimRegionM>,
    /// Every gateway region, primary first.
    pub regions: Vec<ApimRegionM>,
    pub principal_id: String,
    pub api_id: String,
    pub api_name: String,
    pub api_path: String,
    pub service_url: String,
    pub subscription_required: bool,
    pub operations: Vec<OperationM>,
    pub policy_id: String,
    pub managed_identity: bool,
    pub lb_mode: &'static str,
    pub pool_type: &'static str,
    /// Backends: one per account.
    pub backends: Vec<BackendM>,
    /// Pools: one over all accounts, plus one per region in `afd-apim`.
    pub pools: Vec<PoolM>,
    pub default_pool: String,
    pub retry: RetryM,
    pub jwt: Option<JwtM>,
    pub logging: Option<LoggingM>,
    pub budget: Option<BudgetM>,
    pub named_values: Vec<NamedValueM>,
    pub streaming: bool,
    /// `forward-request timeout`: seconds per attempt to the backend's response headers.
    pub timeout_seconds: u32,
    /// `timeout_seconds` was derived (the blueprint sets no `apim.timeoutSeconds`).
    pub timeout_derived: bool,
    /// The retry policy's `count`: the blueprint's count, or enough attempts to look for a
    /// stored response in every account (Responses API follow-ups), whichever is larger.
    pub retry_attempts: u32,
    /// The Responses API's stateful operations are imported: follow-ups go to the account that
    /// holds the response (see the policy).
    pub responses_api: bool,
    /// Accounts a stored response may be in (every backend of the service).
    pub backend_count: u32,
    /// The policy keeps a list of its backends (`backendList`: "local|fallback"): round-robin
    /// selection, and Responses API follow-ups looking for their account.
    pub backend_list: bool,
    /// Request header logged by diagnostics and queried by the KQL (the caller id).
    pub logged_header: String,
    /// `afd-apim`: route each gateway region to its own accounts.
    pub region_routing: bool,
    /// More than one deployment (or accounts serving subsets): each deployment has its own
    /// pools, and the policy picks them by the deployment a request names.
    pub deployment_routing: bool,
    /// Every deployment a request may name, with the backends serving it.
    pub routes: Vec<RouteM>,
    /// `,name,name,`: the deployments the gateway serves, lowercase (the 404 check).
    pub known_deployments: String,
    /// `afd-apim`: the named value holding the Front Door profile's id (`frontDoorId`, known
    /// after apply), checked against the `X-Azure-FDID` header of every request.
    pub front_door_id: Option<NamedValueM>,
    /// `afd-apim`: the health operation Front Door probes.
    pub health: Option<super::edge::HealthM>,
    /// The caller's address is the TCP peer's: false behind Front Door, whose addresses it
    /// would log; the client's address is in the logged Front Door headers instead.
    pub log_client_ip: bool,
    /// Request headers the API diagnostics log besides the caller id: Front Door's client
    /// address headers behind Front Door.
    pub client_ip_headers: Vec<String>,
    /// What the API's `azuremonitor` diagnostic sends to the generative-AI gateway log
    /// (`largeLanguageModel`): model and tokens always, messages as below.
    pub llm_log: LlmLogM,
    /// `teams`: a product each, with subscriptions, limits and a model allow-list.
    pub teams: Vec<super::teams::TeamM>,
    /// Teams with Entra client applications (`apim.jwt`): mapped in the API policy.
    pub entra_teams: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApimRegionM {
    pub region: String,
    pub display: String,
    pub capacity: u32,
    pub weight: u32,
    pub priority: u32,
    /// Regional gateway host, known after apply.
    pub gateway_host: String,
    /// Backend ids of this region's accounts.
    pub backend_ids: Vec<String>,
    /// Backend ids of the other regions' accounts: the cross-region fallback.
    pub fallback_backend_ids: Vec<String>,
    pub pool_id: String,
    /// Subnet of this region's gateway when the service has a virtual network.
    pub subnet_id: Option<String>,
}

/// One deployment as the gateway routes it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteM {
    pub name: String,
    /// Lowercase name (deployment names are matched without case).
    pub lower: String,
    /// The pool of every account serving it (`aoai-pool` when there is one deployment).
    pub pool: String,
    pub backend_ids: Vec<String>,
    /// Per gateway region: its pool and its local/fallback backends for this deployment.
    pub regions: Vec<RouteRegionM>,
    pub provisioned: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteRegionM {
    pub display: String,
    pub pool: String,
    pub backend_ids: Vec<String>,
    pub fallback_backend_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationM {
    pub name: String,
    pub display_name: String,
    /// `POST`, or `GET` (listing models).
    pub method: &'static str,
    pub url_template: String,
    /// `/deployments/{deployment-id}/...` paths, versioned by the `api-version` query parameter;
    /// the `/v1/...` paths carry the model in the body and need no api-version.
    pub deployment_path: bool,
    /// Template parameters of the URL other than `deployment-id` (`response_id`).
    pub params: Vec<String>,
    pub id: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendM {
    pub name: String,
    pub id: String,
    pub url: String,
    pub account: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolM {
    pub name: String,
    pub id: String,
    pub description: String,
    pub members: Vec<PoolMemberM>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolMemberM {
    pub backend_path: String,
    pub backend_id: String,
    pub weight: Option<u32>,
    pub priority: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryM {
    pub count: u32,
    pub interval: u32,
    /// Retry on every status >= 400 (replays 4xx) instead of 429 and 5xx (503 for pools).
    pub any_error: bool,
    pub buffer_request_body: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JwtM {
    /// Microsoft Entra tenant: `validate-azure-ad-token` instead of `validate-jwt`.
    pub tenant_id: Option<String>,
    pub openid_config: Option<String>,
    /// Accepted `aud` values; with `tenant_id`, one per accepted token version.
    pub audiences: Vec<String>,
    pub issuers: Vec<String>,
    pub caller_header: String,
    /// Allowed client applications (`client-application-ids`, or a required `azp` claim).
    pub client_applications: Vec<String>,
    /// App roles of which the caller must hold one (`roles` claim, `match="any"`).
    /// The same, lowercase: the validate-jwt form compares `azp` / `appid` case-insensitively.
    pub client_applications_lower: Vec<String>,
    pub required_roles: Vec<String>,
    /// Every principal of the tenant passes (said explicitly in the blueprint).
    pub allow_any_principal: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggingM {
    pub workspace_name: String,
    pub workspace_id: String,
    pub retention_days: u32,
    pub app_insights_name: String,
    pub app_insights_id: String,
    pub logger_name: String,
    pub logger_id: String,
    pub diagnostic_id: String,
    pub body_bytes: u32,
    pub response_body_bytes: u32,
    pub token_metrics: bool,
    pub event_hub: Option<EventHubM>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventHubM {
    pub namespace: String,
    pub namespace_id: String,
    pub name: String,
    pub id: String,
    pub endpoint: String,
    pub logger_name: String,
    pub logger_id: String,
    pub role_assignment_id: String,
    pub role_assignment_name: String,
    /// A request or response body larger than this many UTF-8 bytes is sent to Event Hub.
    pub threshold_bytes: u32,
    /// Largest message `log-to-eventhub` sends whole (200 KB; larger ones are cut by APIM, which
    /// would break the JSON): bodies are truncated until the serialised envelope fits.
    pub max_message_bytes: u32,
    /// Response bodies too; off with streaming, where reading the body would buffer it.
    pub log_responses: bool,
    /// Namespace and hub sizing (throughput units, auto-inflate ceiling, partitions).
    pub size: super::edge::EventHubSize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetM {
    pub name: String,
    pub id: String,
    pub amount: u64,
    pub start_date: String,
    pub thresholds: Vec<u32>,
    pub contact_emails: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedValueM {
    pub name: String,
    pub id: String,
    pub value: String,
}

pub(crate) fn build_apim(
    b: &Blueprint,
    a: &blueprint::Apim,
    rg_id: &str,
    id: String,
    accounts: &[AccountM],
) -> ApimM {
    let region_routing = b.pattern == Pattern::AfdApim;
    let mut regions = service_regions(b, a, &id);
    let backends = backends(&id, accounts);
    let pool_type = a.load_balancing.pool_type;
    let mut pools = pools(&id, accounts, pool_type, region_routing, &mut regions);
    let (deployment_routing, routes) = deployment_routes(
        &id,
        accounts,
        pool_type,
        region_routing,
        &regions,
        &mut pools,
    );
    let regions_for_health: Vec<(String, String, Vec<String>)> = regions
        .iter()
        .map(|r| (r.region.clone(), r.display.clone(), r.backend_ids.clone()))
        .collect();
    let lr = &a.load_balancing.retry;
    let any_error = lr.on == RetryOn::AnyError;
    let api_name = "azure-openai".to_string();
    let api_id = format!("{id}/apis/{api_name}");
    let operations = operations(&api_id, accounts);
    let responses_api = operations
        .iter()
        .any(|o| o.params.iter().any(|p| p == "response_id"));
    let backend_count = backends.len() as u32;
    // A follow-up may have to look in every account for its stored response.
    let retry_attempts = if responses_api {
        lr.count
            .max(backends.len().saturating_sub(1) as u32)
            .min(50)
    } else {
        lr.count
    };
    let timeout_seconds = a.timeout_seconds.unwrap_or_else(|| {
        let behind = b
            .front_door
            .as_ref()
            .filter(|_| b.pattern == blueprint::Pattern::AfdApim);
        behind.map_or(DEFAULT_GATEWAY_TIMEOUT, |f| {
            safe_timeout(retry_attempts, lr.interval, f.origin_timeout_seconds)
                .clamp(1, DEFAULT_GATEWAY_TIMEOUT)
        })
    });
    let logging = a
        .logging
        .as_ref()
        .map(|l| logging(a, l, rg_id, &id, &api_id));
    let budget = a.budget.as_ref().map(|bu| budget(bu, rg_id));
    ApimM {
        principal_id: after_apply(&id, "/identity/principalId", false),
        sku_name: a.sku.name.as_str(),
        capacity: a.sku.capacity,
        virtual_network_type: a
            .network
            .as_ref()
            .filter(|n| n.subnet_id.is_some())
            .map_or("None", |n| n.mode.as_str()),
        subnet_id: a.network.as_ref().and_then(|n| n.subnet_id.clone()),
        private_endpoint: inbound_private_endpoint(b, a, rg_id),
        lock_down: a
            .network
            .as_ref()
            .filter(|n| n.public_network_access == Some(blueprint::PublicNetworkAccess::Disabled))
            .map(|_| step_key(&id, "lock-down")),
        public_network_access: a
            .network
            .as_ref()
            .and_then(|n| n.public_network_access)
            .filter(|p| *p == blueprint::PublicNetworkAccess::Enabled)
            .map(|p| p.as_str()),
        publisher_name: a.publisher.name.clone(),
        publisher_email: a.publisher.email.clone(),
        additional_locations: regions[1..].to_vec(),
        regions,
        api_path: "openai".into(),
        service_url: backends.first().map(|x| x.url.clone()).unwrap_or_default(),
        subscription_required: a.jwt.is_none(),
        operations,
        policy_id: format!("{api_id}/policies/policy"),
        api_id,
        api_name,
        managed_identity: a.auth.managed_identity,
        lb_mode: match a.load_balancing.mode {
            LbMode::Pool => "pool",
            LbMode::RoundRobin => "round-robin",
        },
        pool_type: match pool_type {
            PoolType::RoundRobin => "round-robin",
            PoolType::Weighted => "weighted",
            PoolType::Priority => "priority",
        },
        backends,
        pools,
        default_pool: "aoai-pool".into(),
        retry: RetryM {
            count: lr.count,
            interval: lr.interval,
            any_error,
            buffer_request_body: lr.buffer_request_body,
        },
        retry_attempts,
        responses_api,
        backend_count,
        backend_list: responses_api || a.load_balancing.mode == LbMode::RoundRobin,
        timeout_seconds,
        timeout_derived: a.timeout_seconds.is_none(),
        jwt: a.jwt.as_ref().map(|j| JwtM {
            tenant_id: j.tenant_id.clone(),
            openid_config: j.openid_config.clone(),
            audiences: jwt_audiences(j),
            issuers: j.issuers.clone(),
            caller_header: j.caller_header.clone(),
            client_applications: j.client_applications.clone(),
            client_applications_lower: j
                .client_applications
                .iter()
                .map(|x| x.to_ascii_lowercase())
                .collect(),
            required_roles: j.required_roles.clone(),
            allow_any_principal: j.allow_any_principal_of_tenant,
        }),
        logging,
        budget,
        named_values: a
            .named_values
            .iter()
            .map(|(k, v)| NamedValueM {
                id: format!("{id}/namedValues/{k}"),
                name: k.clone(),
                value: v.clone(),
            })
            .collect(),
        streaming: a.streaming,
        logged_header: a
            .jwt
            .as_ref()
            .map(|j| j.caller_header.clone())
            .unwrap_or_else(|| "caller-objectid".into()),
        region_routing,
        deployment_routing,
        known_deployments: format!(
            ",{},",
            routes
                .iter()
                .map(|r| r.lower.as_str())
                .collect::<Vec<_>>()
                .join(",")
        ),
        routes,
        front_door_id: b
            .front_door
            .as_ref()
            .filter(|_| b.pattern == Pattern::AfdApim)
            .map(|f| {
                let profile_id = format!("{rg_id}/providers/Microsoft.Cdn/profiles/{}", f.profile);
                NamedValueM {
                    name: "front-door-id".into(),
                    id: format!("{id}/namedValues/front-door-id"),
                    value: after_apply(&profile_id, "/properties/frontDoorId", false),
                }
            }),
        health: super::edge::health(b, &id, &regions_for_health),
        log_client_ip: b.front_door.is_none(),
        llm_log: llm_log(a),
        client_ip_headers: if b.front_door.is_some() {
            super::edge::CLIENT_IP_HEADERS
                .iter()
                .map(|h| h.to_string())
                .collect()
        } else {
            Vec::new()
        },
        teams: super::teams::build_teams(
            b,
            &id,
            &format!("{id}/apis/azure-openai"),
            &blueprint::owner_id(b),
        ),
        entra_teams: a.jwt.is_some() && b.teams.iter().any(|t| !t.client_applications.is_empty()),
        name: a.name.clone(),
        id,
    }
}

/// The primary region, then each additional one: capacity, weight, priority and the host its
/// gateway answers on (the pools are filled in by [`pools`]).
fn service_regions(b: &Blueprint, a: &blueprint::Apim, id: &str) -> Vec<ApimRegionM> {
    let display = |r: &str| regions::display_name(r).unwrap_or(r).to_string();
    let mut regions = vec![ApimRegionM {
        region: b.location.clone(),
        display: display(&b.location),
        capacity: a.sku.capacity,
        weight: a.primary_weight.unwrap_or(50),
        priority: a.primary_priority.unwrap_or(1),
        // A single-region service is reached on its gateway host, the one host Microsoft
        // documents for Private Link (inbound private endpoints serve only the gateway
        // endpoint); regional hosts only tell the regions of a multi-region service apart.
        gateway_host: if a.additional_regions.is_empty() {
            after_apply(id, "/properties/gatewayUrl", true)
        } else {
            after_apply(id, "/properties/gatewayRegionalUrl", true)
        },
        backend_ids: vec![],
        fallback_backend_ids: vec![],
        pool_id: String::new(),
        subnet_id: a.network.as_ref().and_then(|n| n.subnet_id.clone()),
    }];
    for (i, r) in a.additional_regions.iter().enumerate() {
        regions.push(ApimRegionM {
            region: r.region.clone(),
            display: display(&r.region),
            capacity: r.capacity,
            weight: r.weight.unwrap_or(50),
            priority: r.priority.unwrap_or(1),
            gateway_host: after_apply(
                id,
                &format!("/properties/additionalLocations/{i}/gatewayRegionalUrl"),
                true,
            ),
            backend_ids: vec![],
            fallback_backend_ids: vec![],
            pool_id: String::new(),
            subnet_id: a
                .network
                .as_ref()
                .and_then(|n| n.subnet_id.as_ref())
                .and(r.subnet_id.clone()),
        });
    }
    regions
}

/// One backend per account.
fn backends(id: &str, accounts: &[AccountM]) -> Vec<BackendM> {
    accounts
        .iter()
        .map(|acc| BackendM {
            id: format!("{id}/backends/{}", acc.backend_id),
            name: acc.backend_id.clone(),
            url: format!("https://{}/openai", acc.host),
            account: acc.name.clone(),
        })
        .collect()
}

/// The pool of every account, and with region routing one pool per region (its own accounts
/// first, the others as fallback), noted on each region.
fn pools(
    id: &str,
    accounts: &[AccountM],
    pool_type: PoolType,
    region_routing: bool,
    regions: &mut [ApimRegionM],
) -> Vec<PoolM> {
    // A weighted pool keeps the blueprint's priorities: APIM serves the lowest priority group
    // first and balances by weight inside it.
    // One deployment on every account, provisioned on some: those come first.
    let single = |acc: &AccountM| acc.deployments.len() == 1 && acc.deployments[0].provisioned;
    let after = ptu_offset(accounts.iter().map(|a| (a, single(a))));
    let member = |acc: &AccountM| PoolMemberM {
        backend_path: format!("/backends/{}", acc.backend_id),
        backend_id: acc.backend_id.clone(),
        weight: (after.is_some() || matches!(pool_type, PoolType::Weighted | PoolType::Priority))
            .then_some(acc.weight),
        priority: match after {
            Some(n) => Some(acc.priority + if single(acc) { 0 } else { n }),
            None => {
                matches!(pool_type, PoolType::Weighted | PoolType::Priority).then_some(acc.priority)
            }
        },
    };
    let mut pools = vec![PoolM {
        name: "aoai-pool".into(),
        id: format!("{id}/backends/aoai-pool"),
        description: "All Azure OpenAI accounts".into(),
        members: accounts.iter().map(member).collect(),
    }];
    for r in regions.iter_mut() {
        let (mine, others): (Vec<&AccountM>, Vec<&AccountM>) =
            accounts.iter().partition(|x| x.region == r.region);
        r.backend_ids = mine.iter().map(|x| x.backend_id.clone()).collect();
        r.fallback_backend_ids = others.iter().map(|x| x.backend_id.clone()).collect();
        if region_routing {
            // The region's own accounts first; the other regions' accounts are the fallback
            // APIM uses only while every local account is unavailable (tripped circuit breaker),
            // so one throttled local account never turns the region into 503s.
            let name = format!("aoai-pool-{}", r.region);
            r.pool_id = name.clone();
            let tier = |acc: &AccountM, priority: u32| PoolMemberM {
                backend_path: format!("/backends/{}", acc.backend_id),
                backend_id: acc.backend_id.clone(),
                weight: Some(acc.weight),
                priority: Some(priority),
            };
            pools.push(PoolM {
                id: format!("{id}/backends/{name}"),
                description: format!(
                    "Azure OpenAI accounts in {} first, then the other regions",
                    r.display
                ),
                members: region_tiers(&mine, &others, single)
                    .into_iter()
                    .map(|(backend, priority)| {
                        let acc = accounts.iter().find(|a| a.backend_id == backend).unwrap();
                        tier(acc, priority)
                    })
                    .collect(),
                name,
            });
        }
    }
    pools
}

/// The priority of each member of a region's pool: the region's own accounts before the
/// others, and inside each of the two, provisioned (PTU) members before pay-as-you-go ones.
/// Each non-empty group takes the next priority, so without PTU it is 1 (local) and 2 (the
/// other regions), as before.
fn region_tiers(
    mine: &[&AccountM],
    others: &[&AccountM],
    ptu: impl Fn(&AccountM) -> bool,
) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    let mut next = 0;
    for group in [mine, others] {
        for want in [true, false] {
            let members: Vec<&&AccountM> = group.iter().filter(|a| ptu(a) == want).collect();
            if members.is_empty() {
                continue;
            }
            next += 1;
            out.extend(members.into_iter().map(|a| (a.backend_id.clone(), next)));
        }
    }
    out
}

/// Provisioned members first: when a pool mixes accounts where a deployment is provisioned
/// (PTU) with accounts where it is pay-as-you-go, the highest priority of the provisioned ones,
/// which every pay-as-you-go member's priority is raised by (APIM serves the lowest priority
/// first and moves on when those members are throttled or tripped). `None` when there is no
/// mix.
fn ptu_offset<'a>(members: impl Iterator<Item = (&'a AccountM, bool)>) -> Option<u32> {
    let (ptu, paygo): (Vec<_>, Vec<_>) = members.partition(|(_, p)| *p);
    if ptu.is_empty() || paygo.is_empty() {
        return None;
    }
    ptu.iter().map(|(a, _)| a.priority).max()
}

/// The deployments the gateway serves. With one deployment on every account its pools are the
/// account pools; otherwise each deployment gets a pool of the accounts serving it (and with
/// region routing one per region: local accounts first, the others as fallback).
fn deployment_routes(
    id: &str,
    accounts: &[AccountM],
    pool_type: PoolType,
    region_routing: bool,
    regions: &[ApimRegionM],
    pools: &mut Vec<PoolM>,
) -> (bool, Vec<RouteM>) {
    let mut names: Vec<(String, bool)> = Vec::new();
    for a in accounts {
        for d in &a.deployments {
            match names.iter_mut().find(|(n, _)| n == &d.name) {
                Some(entry) => entry.1 |= d.provisioned,
                None => names.push((d.name.clone(), d.provisioned)),
            }
        }
    }
    let multi = names.len() > 1 || accounts.iter().any(|a| a.deployments.len() != names.len());
    let routes = names
        .into_iter()
        .map(|(name, provisioned)| {
            let serving: Vec<&AccountM> = accounts
                .iter()
                .filter(|a| a.deployments.iter().any(|d| d.name == name))
                .collect();
            let ptu = |acc: &AccountM| {
                acc.deployments
                    .iter()
                    .any(|d| d.name == name && d.provisioned)
            };
            let after = ptu_offset(serving.iter().map(|a| (*a, ptu(a))));
            let member = |acc: &AccountM, priority: Option<u32>| PoolMemberM {
                backend_path: format!("/backends/{}", acc.backend_id),
                backend_id: acc.backend_id.clone(),
                weight: (priority.is_some()
                    || after.is_some()
                    || matches!(pool_type, PoolType::Weighted | PoolType::Priority))
                .then_some(acc.weight),
                priority: priority
                    .or(after.map(|n| acc.priority + if ptu(acc) { 0 } else { n }))
                    .or(matches!(pool_type, PoolType::Weighted | PoolType::Priority)
                        .then_some(acc.priority)),
            };
            let pool = if multi {
                let pool = format!("aoai-pool-{}", name.to_lowercase());
                pools.push(PoolM {
                    id: format!("{id}/backends/{pool}"),
                    description: format!("Azure OpenAI accounts serving deployment {name}"),
                    members: serving.iter().map(|a| member(a, None)).collect(),
                    name: pool.clone(),
                });
                pool
            } else {
                "aoai-pool".to_string()
            };
            let route_regions = regions
                .iter()
                .map(|r| {
                    let (mine, others): (Vec<&AccountM>, Vec<&AccountM>) =
                        serving.iter().partition(|x| x.region == r.region);
                    let pool = if !region_routing {
                        pool.clone()
                    } else if multi {
                        let p = format!("aoai-pool-{}-{}", name.to_lowercase(), r.region);
                        pools.push(PoolM {
                            id: format!("{id}/backends/{p}"),
                            description: format!(
                                "Azure OpenAI accounts serving {name} in {} first, then the other regions",
                                r.display
                            ),
                            members: region_tiers(&mine, &others, ptu)
                                .into_iter()
                                .map(|(backend, priority)| {
                                    let acc = serving
                                        .iter()
                                        .find(|a| a.backend_id == backend)
                                        .unwrap();
                                    member(acc, Some(priority))
                                })
                                .collect(),
                            name: p.clone(),
                        });
                        p
                    } else {
                        r.pool_id.clone()
                    };
                    RouteRegionM {
                        display: r.display.clone(),
                        pool,
                        backend_ids: mine.iter().map(|x| x.backend_id.clone()).collect(),
                        fallback_backend_ids: others.iter().map(|x| x.backend_id.clone()).collect(),
                    }
                })
                .collect();
            RouteM {
                lower: name.to_lowercase(),
                pool,
                backend_ids: serving.iter().map(|a| a.backend_id.clone()).collect(),
                regions: route_regions,
                provisioned,
                name,
            }
        })
        .collect();
    (multi, routes)
}

/// The operations of the Azure OpenAI API (the v1 ones when every account is a Foundry one).
fn operations(api_id: &str, accounts: &[AccountM]) -> Vec<OperationM> {
    [
        (
            "chat-completions",
            "Chat completions",
            "/deployments/{deployment-id}/chat/completions",
        ),
        (
            "completions",
            "Completions",
            "/deployments/{deployment-id}/completions",
        ),
        (
            "embeddings",
            "Embeddings",
            "/deployments/{deployment-id}/embeddings",
        ),
    ]
    .iter()
    .map(|(n, d, u)| ("POST", *n, *d, *u))
    // The v1 API (`/openai/v1/...`, no api-version): imported for Foundry (AIServices)
    // accounts, the kind new blueprints get; a blueprint of classic accounts keeps its three
    // operations, so an existing gateway does not change under it.
    .chain(
        accounts
            .iter()
            .all(|x| x.kind == "AIServices")
            .then_some([
                (
                    "POST",
                    "v1-chat-completions",
                    "Chat completions (v1)",
                    "/v1/chat/completions",
                ),
                ("POST", "v1-responses", "Responses (v1)", "/v1/responses"),
                // The stateful rest of the Responses API (stored responses live in the account
                // that created them): learn.microsoft.com/azure/ai-foundry/openai/how-to/responses
                // and the v1 REST reference (read 2026-12-06).
                (
                    "GET",
                    "v1-responses-get",
                    "Get a response (v1)",
                    "/v1/responses/{response_id}",
                ),
                (
                    "DELETE",
                    "v1-responses-delete",
                    "Delete a response (v1)",
                    "/v1/responses/{response_id}",
                ),
                (
                    "POST",
                    "v1-responses-cancel",
                    "Cancel a response (v1)",
                    "/v1/responses/{response_id}/cancel",
                ),
                (
                    "GET",
                    "v1-responses-input-items",
                    "List input items of a response (v1)",
                    "/v1/responses/{response_id}/input_items",
                ),
                ("POST", "v1-embeddings", "Embeddings (v1)", "/v1/embeddings"),
                ("GET", "v1-models", "Models (v1)", "/v1/models"),
            ])
            .into_iter()
            .flatten(),
    )
    .map(|(m, n, d, u)| OperationM {
        id: format!("{api_id}/operations/{n}"),
        name: n.to_string(),
        display_name: d.to_string(),
        method: m,
        deployment_path: u.contains("{deployment-id}"),
        params: u
            .split('{')
            .skip(1)
            .filter_map(|x| x.split_once('}').map(|(p, _)| p.to_string()))
            .filter(|p| p != "deployment-id")
            .collect(),
        url_template: u.to_string(),
    })
    .collect()
}

/// Log Analytics, Application Insights and the optional Event Hub logger.
fn logging(
    a: &blueprint::Apim,
    l: &blueprint::Logging,
    rg_id: &str,
    id: &str,
    api_id: &str,
) -> LoggingM {
    let ws_id = format!(
        "{rg_id}/providers/Microsoft.OperationalInsights/workspaces/{}",
        l.log_analytics
    );
    let ai_id = format!(
        "{rg_id}/providers/Microsoft.Insights/components/{}",
        l.app_insights
    );
    let event_hub = l.event_hub.as_ref().map(|e| {
        let ns_id = format!(
            "{rg_id}/providers/Microsoft.EventHub/namespaces/{}",
            e.namespace
        );
        let ra_name = arm_guid(&[&ns_id, id, ROLE_EVENT_HUBS_SENDER]);
        EventHubM {
            role_assignment_id: format!(
                "{ns_id}/providers/Microsoft.Authorization/roleAssignments/{ra_name}"
            ),
            role_assignment_name: ra_name,
            id: format!("{ns_id}/eventhubs/{}", e.name),
            endpoint: format!("{}.servicebus.windows.net", e.namespace),
            namespace: e.namespace.clone(),
            namespace_id: ns_id,
            name: e.name.clone(),
            logger_name: "eventhub-logger".into(),
            logger_id: format!("{id}/loggers/eventhub-logger"),
            threshold_bytes: l.body_bytes,
            max_message_bytes: EVENT_HUB_MAX_MESSAGE_BYTES,
            // Read only for responses that are not streams (checked per response).
            log_responses: true,
            size: super::edge::event_hub_size(e, EVENT_HUB_MAX_MESSAGE_BYTES),
        }
    });
    LoggingM {
        workspace_name: l.log_analytics.clone(),
        workspace_id: ws_id,
        retention_days: l.retention_days,
        app_insights_name: l.app_insights.clone(),
        app_insights_id: ai_id,
        logger_name: "appinsights-logger".into(),
        logger_id: format!("{id}/loggers/appinsights-logger"),
        diagnostic_id: format!("{api_id}/diagnostics/applicationinsights"),
        body_bytes: l.body_bytes,
        // Logging a response body makes APIM buffer it, which breaks streaming.
        response_body_bytes: if a.streaming { 0 } else { l.body_bytes },
        token_metrics: l.token_metrics,
        event_hub,
    }
}

/// `forward-request timeout` without Front Door in front: below the 240 s after which, Learn
/// warns, the network may drop an idle connection
/// (https://learn.microsoft.com/azure/api-management/forward-request-policy, read 2026-12-06).
pub const DEFAULT_GATEWAY_TIMEOUT: u32 = 230;

/// Seconds the gateway's retry loop can take before it answers: every attempt waits its whole
/// `timeout`, and `interval` passes before each retry but the first (`first-fast-retry`). The
/// response headers reach Front Door only after the loop ends, so this is what Front Door's
/// origin response timeout must exceed.
pub fn retry_worst_case(retries: u32, interval: u32, timeout: u32, first_fast_retry: bool) -> u64 {
    let waits = if first_fast_retry {
        retries.saturating_sub(1)
    } else {
        retries
    };
    (u64::from(retries) + 1) * u64::from(timeout) + u64::from(waits) * u64::from(interval)
}

/// The longest per-attempt timeout whose worst case (rendered with `first-fast-retry`) stays
/// below `limit` seconds; 0 when even 1 s per attempt does not fit.
pub fn safe_timeout(retries: u32, interval: u32, limit: u32) -> u32 {
    let waits = u64::from(retries.saturating_sub(1)) * u64::from(interval);
    let budget = u64::from(limit).saturating_sub(1).saturating_sub(waits);
    (budget / (u64::from(retries) + 1)) as u32
}

/// Largest LLM message API Management sends to Azure Monitor in one entry; larger ones are split
/// into 32 KB chunks with sequence numbers
/// (https://learn.microsoft.com/azure/api-management/api-management-howto-llm-logs, "Generative
/// AI gateway logs"; read 2026-12-06).
pub const LLM_MESSAGE_ENTRY_BYTES: u32 = 32_768;

/// The generative-AI gateway log of the API: token usage and model for every request; prompts
/// when the blueprint logs bodies (`apim.logging.bodyBytes` > 0); completions only when clients do
/// not stream (`apim.streaming: false`), like the response bodies of the other diagnostics.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LlmLogM {
    /// `maxSizeInBytes` of logged prompts (`None`: prompts are not logged).
    pub request_bytes: Option<u32>,
    /// `maxSizeInBytes` of logged completions (`None`: completions are not logged).
    pub response_bytes: Option<u32>,
}

fn llm_log(a: &blueprint::Apim) -> LlmLogM {
    let bodies = a.logging.as_ref().is_some_and(|l| l.body_bytes > 0);
    LlmLogM {
        request_bytes: bodies.then_some(LLM_MESSAGE_ENTRY_BYTES),
        response_bytes: (bodies && !a.streaming).then_some(LLM_MESSAGE_ENTRY_BYTES),
    }
}

/// The consumption budget.
fn budget(bu: &blueprint::Budget, rg_id: &str) -> BudgetM {
    BudgetM {
        id: format!(
            "{rg_id}/providers/Microsoft.Consumption/budgets/{}",
            bu.name
        ),
        name: bu.name.clone(),
        amount: bu.amount,
        start_date: bu.start_date.clone(),
        thresholds: bu.thresholds.clone(),
        contact_emails: bu.contact_emails.clone(),
    }
}

/// The gateway's inbound private endpoint, registered in the API Management private DNS zone
/// when the blueprint has private DNS.
fn inbound_private_endpoint(
    b: &Blueprint,
    a: &blueprint::Apim,
    rg_id: &str,
) -> Option<PrivateEndpointM> {
    a
        .network
        .as_ref()
        .and_then(|n| n.private_endpoint.as_ref())
        .map(|p| {
            let name = format!("pe-{}", a.name);
            let pid = format!("{rg_id}/providers/Microsoft.Network/privateEndpoints/{name}");
            let with_dns = b.networking.as_ref().is_some_and(|n| n.private_dns.is_some());
            PrivateEndpointM {
                location: crate::blueprint::networks::Networks::of(b)
                    .region_of_subnet(&p.subnet_id)
                    .unwrap_or(&b.location)
                    .to_string(),
                zone_group_id: format!("{pid}/privateDnsZoneGroups/default"),
                connection_name: format!("{name}-connection"),
                group_id: "Gateway",
                zone_configs: with_dns
                    .then(|| ZoneConfigM {
                        name: APIM_PRIVATE_DNS_ZONE.replace('.', "-"),
                        zone_id: format!(
                            "{rg_id}/providers/Microsoft.Network/privateDnsZones/{APIM_PRIVATE_DNS_ZONE}"
                        ),
                    })
                    .into_iter()
                    .collect(),
                name,
                id: pid,
                subnet_id: p.subnet_id.clone(),
            }
        })
}

/// With a tenant, v2.0 tokens carry the client id and v1.0 tokens the App ID URI as `aud`.
fn jwt_audiences(j: &blueprint::Jwt) -> Vec<String> {
    if j.tenant_id.is_none() {
        return j.audiences.clone();
    }
    let mut out = Vec::new();
    if j.token_versions.contains(&blueprint::TokenVersion::V2) {
        out.extend(j.client_id.clone());
    }
    if j.token_versions.contains(&blueprint::TokenVersion::V1) {
        out.extend(j.app_id_uri.clone());
    }
    out.dedup();
    out
}
