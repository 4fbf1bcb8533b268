//! The resolved architecture: every name, region, resource id and relationship that the templates
//! need, computed once from a validated blueprint. Templates only format; they never decide.

use serde::Serialize;

use crate::blueprint::{self, Blueprint, LbMode, Pattern, PoolType, RetryOn};
use crate::regions;

/// api-versions: the newest GA version with a published schema for each resource type.
pub mod api {
    pub const RESOURCES: &str = "2025-04-01";
    pub const COGNITIVE: &str = "2026-05-01";
    pub const NETWORK: &str = "2025-07-01";
    pub const PRIVATE_DNS: &str = "2024-06-01";
    pub const APIM: &str = "2024-05-01";
    pub const INSIGHTS_COMPONENTS: &str = "2020-02-02";
    pub const LOG_ANALYTICS: &str = "2025-07-01";
    pub const EVENT_HUB: &str = "2026-01-01";
    pub const CONSUMPTION: &str = "2024-08-01";
    pub const AUTHORIZATION: &str = "2022-04-01";
    pub const CDN: &str = "2025-12-01";
    pub const FRONT_DOOR_WAF: &str = "2025-11-01";
}

/// The largest message `log-to-eventhub` sends unchanged: 200 KB (learn.microsoft.com,
/// log-to-eventhub policy, usage notes), with room to spare for the Event Hub envelope.
pub const EVENT_HUB_MAX_MESSAGE_BYTES: u32 = 200 * 1000;

/// "Cognitive Services OpenAI User": call inference APIs, no management rights.
pub const ROLE_OPENAI_USER: &str = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd";
/// "Azure Event Hubs Data Sender": what the APIM Event Hub logger needs with managed identity.
pub const ROLE_EVENT_HUBS_SENDER: &str = "2b629674-e913-4c01-ae53-ef4638d8f975";

/// A value only Azure knows, filled in by `apply` from the response of the resource `id`.
/// Rendered as `${after-apply:<resource id>#<json pointer>[|host]}`; documented in README.
pub fn after_apply(id: &str, pointer: &str, host_only: bool) -> String {
    format!(
        "${{after-apply:{id}#{pointer}{}}}",
        if host_only { "|host" } else { "" }
    )
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    pub pattern: &'static str,
    pub subscription: String,
    pub resource_group: String,
    pub rg_id: String,
    pub location: String,
    /// Ownership id (the `aoai-arch-blueprint` tag value), see [`owner_id`].
    pub owner: String,
    /// Tags on every taggable resource, including the ownership tag used by `plan` for pruning.
    pub tags: std::collections::BTreeMap<String, String>,
    pub deployment: DeploymentM,
    pub accounts: Vec<AccountM>,
    pub private_dns: Option<PrivateDnsM>,
    pub public_network_access: &'static str,
    pub disable_local_auth: bool,
    pub apim: Option<ApimM>,
    /// `apim.instances`: more services with the primary's configuration, one per region.
    pub apim_instances: Vec<InstanceM>,
    pub front_door: Option<FrontDoorM>,
}

/// One service of `apim.instances`: its resolved service, and the accounts as it sees them
/// (its own role assignment on each).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceM {
    pub apim: ApimM,
    pub accounts: Vec<AccountM>,
    pub location: String,
}

pub const OWNER_TAG: &str = "aoai-arch-blueprint";

/// The value of the tag `name` on a resource document. Azure treats tag names without case
/// (`Env` and `env` are one tag; it keeps the case it was first given), so neither does this.
pub fn tag<'a>(doc: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    doc["tags"]
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

/// The value of the ownership tag on a resource document, whatever the case of its name.
pub fn owner_tag(doc: &serde_json::Value) -> Option<&str> {
    tag(doc, OWNER_TAG)
}

/// The private DNS zone of API Management's inbound private endpoints (group id `Gateway`).
pub const APIM_PRIVATE_DNS_ZONE: &str = "privatelink.azure-api.net";

/// Graph key of the second request for one resource: a step (`lock-down`) after the resource
/// exists. The request goes to the resource id before the `#`; see `Resource::arm_id`.
pub fn step_key(id: &str, step: &str) -> String {
    format!("{id}#{step}")
}

/// The ownership id of a blueprint: its `id`, or `<subscription>/<resource group>/<main
/// resource>` (API Management, else the Front Door profile). Never the file name, which two
/// unrelated blueprints may share.
pub fn owner_id(b: &Blueprint) -> String {
    if let Some(id) = &b.id {
        return id.clone();
    }
    let main = b
        .apim
        .as_ref()
        .map(|a| a.name.as_str())
        .or(b.front_door.as_ref().map(|f| f.profile.as_str()))
        .unwrap_or("aoai");
    format!("{}/{}/{main}", b.subscription, b.resource_group).to_lowercase()
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentM {
    pub name: String,
    pub model_name: String,
    pub model_version: String,
    pub sku_name: String,
    pub capacity: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountM {
    pub name: String,
    /// `OpenAI` or `AIServices` (the resource's `kind`).
    pub kind: &'static str,
    /// The account's own endpoint host (`properties.endpoint`): `<sub>.openai.azure.com` for
    /// `OpenAI`, `<sub>.cognitiveservices.azure.com` for `AIServices`. The gateway and Front Door
    /// call [`AccountM::host`], the Azure OpenAI host, which both kinds serve.
    pub region: String,
    pub region_display: String,
    pub subdomain: String,
    pub id: String,
    pub endpoint_host: String,
    /// `<sub>.openai.azure.com`: the Azure OpenAI endpoint of either kind.
    pub host: String,
    pub deployment_id: String,
    pub weight: u32,
    pub priority: u32,
    /// APIM backend id of this account.
    pub backend_id: String,
    pub private_endpoint: Option<PrivateEndpointM>,
    /// Role assignment of the APIM identity on this account.
    pub role_assignment_id: Option<String>,
    pub role_assignment_name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateEndpointM {
    pub name: String,
    pub id: String,
    pub subnet_id: String,
    pub connection_name: String,
    /// `account` (Cognitive Services) or `Gateway` (API Management).
    pub group_id: &'static str,
    pub zone_group_id: String,
    /// One entry per private DNS zone of the account's kind (in the zone group).
    pub zone_configs: Vec<ZoneConfigM>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ZoneConfigM {
    /// `privatelink-openai-azure-com`: the zone name with dots as hyphens.
    pub name: String,
    pub zone_id: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateDnsM {
    /// The zones the accounts' kinds need, each linked to every listed network.
    pub zones: Vec<ZoneM>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ZoneM {
    pub zone: String,
    pub zone_id: String,
    pub links: Vec<VnetLinkM>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VnetLinkM {
    pub name: String,
    pub id: String,
    pub vnet_id: String,
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
    /// Request header logged by diagnostics and queried by the KQL (the caller id).
    pub logged_header: String,
    /// `afd-apim`: route each gateway region to its own accounts.
    pub region_routing: bool,
    /// `afd-apim`: the named value holding the Front Door profile's id (`frontDoorId`, known
    /// after apply), checked against the `X-Azure-FDID` header of every request.
    pub front_door_id: Option<NamedValueM>,
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

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FrontDoorM {
    pub profile: String,
    pub profile_id: String,
    pub endpoint: String,
    pub endpoint_id: String,
    pub origin_group: String,
    pub origin_group_id: String,
    pub probe_path: String,
    pub probe_protocol: &'static str,
    pub probe_method: &'static str,
    pub probe_interval: u32,
    pub sample_size: u32,
    pub successful_samples: u32,
    pub additional_latency_ms: u32,
    pub origin_timeout: u32,
    pub origins: Vec<OriginM>,
    pub route: String,
    pub route_id: String,
    pub waf_name: String,
    pub waf_id: String,
    pub waf_mode: &'static str,
    pub rule_sets: Vec<RuleSetM>,
    pub security_policy: String,
    pub security_policy_id: String,
    pub custom_domain: Option<CustomDomainM>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OriginM {
    pub name: String,
    pub id: String,
    pub host: String,
    pub weight: u32,
    pub priority: u32,
    /// Private Link to the APIM gateway (`afd-apim` only).
    pub private_link: Option<PrivateLinkM>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateLinkM {
    pub target_id: String,
    pub group_id: &'static str,
    pub location: String,
    pub request_message: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleSetM {
    pub rule_set_type: String,
    pub version: String,
    pub action: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomDomainM {
    pub name: String,
    pub id: String,
    pub host_name: String,
}

/// A GUID derived from its inputs the way ARM templates' `guid()` does (UUID v5 over the
/// arguments joined by `-`), so names stay stable across runs and match Bicep's convention.
pub fn arm_guid(parts: &[&str]) -> String {
    const NS: uuid::Uuid = uuid::uuid!("11fb06fb-712d-4ddd-98c7-e71bbd588830");
    uuid::Uuid::new_v5(&NS, parts.join("-").as_bytes()).to_string()
}

impl Model {
    pub fn build(b: &Blueprint) -> Model {
        let rg_id = format!(
            "/subscriptions/{}/resourceGroups/{}",
            b.subscription, b.resource_group
        );
        let display = |r: &str| regions::display_name(r).unwrap_or(r).to_string();
        let owner = owner_id(b);
        let mut tags = b.tags.clone();
        tags.insert(OWNER_TAG.to_string(), owner.clone());

        let apim_id = b.apim.as_ref().map(|a| {
            format!(
                "{rg_id}/providers/Microsoft.ApiManagement/service/{}",
                a.name
            )
        });
        let managed_identity = b.apim.as_ref().is_some_and(|a| a.auth.managed_identity);
        let networking = b.networking.as_ref();

        let zone_id =
            |zone: &str| format!("{rg_id}/providers/Microsoft.Network/privateDnsZones/{zone}");
        let with_dns = networking.is_some_and(|n| n.private_dns.is_some());
        let accounts: Vec<AccountM> = b
            .openai
            .accounts
            .iter()
            .map(|a| {
                let kind = a.kind.or(b.openai.kind).unwrap_or_default();
                let id = format!(
                    "{rg_id}/providers/Microsoft.CognitiveServices/accounts/{}",
                    a.name
                );
                let subdomain = a
                    .custom_subdomain
                    .clone()
                    .unwrap_or_else(|| a.name.to_lowercase());
                let pe = networking
                    .and_then(|n| n.private_endpoints.iter().find(|p| p.account == a.name))
                    .map(|p| {
                        let name = format!("pe-{}", a.name);
                        // Network resources live in the resource group; the subnet may not.
                        let pid =
                            format!("{rg_id}/providers/Microsoft.Network/privateEndpoints/{name}");
                        PrivateEndpointM {
                            group_id: "account",
                            zone_configs: kind
                                .private_dns_zones()
                                .iter()
                                .filter(|_| with_dns)
                                .map(|z| ZoneConfigM {
                                    name: z.replace('.', "-"),
                                    zone_id: zone_id(z),
                                })
                                .collect(),
                            zone_group_id: format!("{pid}/privateDnsZoneGroups/default"),
                            connection_name: format!("{name}-connection"),
                            name,
                            id: pid,
                            subnet_id: p.subnet_id.clone(),
                        }
                    });
                let (ra_id, ra_name) = match (&apim_id, managed_identity) {
                    (Some(apim_id), true) => {
                        let name = arm_guid(&[&id, apim_id, ROLE_OPENAI_USER]);
                        (
                            Some(format!(
                                "{id}/providers/Microsoft.Authorization/roleAssignments/{name}"
                            )),
                            Some(name),
                        )
                    }
                    _ => (None, None),
                };
                AccountM {
                    deployment_id: format!("{id}/deployments/{}", b.openai.deployment.name),
                    kind: kind.as_str(),
                    endpoint_host: match kind {
                        blueprint::AccountKind::OpenAI => format!("{subdomain}.openai.azure.com"),
                        blueprint::AccountKind::AIServices => {
                            format!("{subdomain}.cognitiveservices.azure.com")
                        }
                    },
                    host: format!("{subdomain}.openai.azure.com"),
                    region_display: display(&a.region),
                    backend_id: a.name.clone(),
                    weight: a.weight.unwrap_or(50),
                    priority: a.priority.unwrap_or(1),
                    name: a.name.clone(),
                    region: a.region.clone(),
                    subdomain,
                    id,
                    private_endpoint: pe,
                    role_assignment_id: ra_id,
                    role_assignment_name: ra_name,
                }
            })
            .collect();

        let private_dns = networking.and_then(|n| n.private_dns.as_ref()).map(|d| {
            // The union of the zones of the kinds of the accounts with a private endpoint, in
            // a stable order.
            let mut names: Vec<&str> = b
                .openai
                .accounts
                .iter()
                .filter(|a| {
                    accounts
                        .iter()
                        .any(|m| m.name == a.name && m.private_endpoint.is_some())
                })
                .flat_map(|a| {
                    a.kind
                        .or(b.openai.kind)
                        .unwrap_or_default()
                        .private_dns_zones()
                })
                .copied()
                .collect();
            let apim_pe = b
                .apim
                .as_ref()
                .and_then(|a| a.network.as_ref())
                .is_some_and(|n| n.private_endpoint.is_some());
            if apim_pe && b.pattern.has_apim() {
                names.push(APIM_PRIVATE_DNS_ZONE);
            }
            names.sort_unstable();
            names.dedup();
            let zones = names
                .into_iter()
                .map(|zone| {
                    let zid = zone_id(zone);
                    let links = d
                        .vnet_links
                        .iter()
                        .map(|v| {
                            let vnet = v.rsplit('/').next().unwrap_or(v);
                            let name = format!("link-{vnet}");
                            VnetLinkM {
                                id: format!("{zid}/virtualNetworkLinks/{name}"),
                                name,
                                vnet_id: v.clone(),
                            }
                        })
                        .collect();
                    ZoneM {
                        zone: zone.to_string(),
                        zone_id: zid,
                        links,
                    }
                })
                .collect();
            PrivateDnsM { zones }
        });

        let public_network_access = networking
            .and_then(|n| n.public_network_access)
            .map(|p| p.as_str())
            .unwrap_or("Enabled");

        let apim = b
            .apim
            .as_ref()
            .map(|a| build_apim(b, a, &rg_id, apim_id.clone().unwrap_or_default(), &accounts));
        let apim_instances: Vec<InstanceM> = blueprint::instances::instance_blueprints(b)
            .iter()
            .filter_map(|(_, one)| {
                let m = Model::build(one);
                Some(InstanceM {
                    apim: m.apim?,
                    accounts: m.accounts,
                    location: m.location,
                })
            })
            .collect();
        let front_door = b
            .front_door
            .as_ref()
            .map(|f| build_front_door(b, f, &rg_id, &accounts, apim.as_ref(), &apim_instances));

        let d = &b.openai.deployment;
        Model {
            pattern: b.pattern.as_str(),
            subscription: b.subscription.clone(),
            resource_group: b.resource_group.clone(),
            rg_id,
            location: b.location.clone(),
            owner,
            tags,
            deployment: DeploymentM {
                name: d.name.clone(),
                model_name: d.model.name.clone(),
                model_version: d.model.version.clone(),
                sku_name: d.sku.name.clone(),
                capacity: d.sku.capacity,
            },
            accounts,
            private_dns,
            public_network_access,
            disable_local_auth: managed_identity,
            apim,
            apim_instances,
            front_door,
        }
    }
}

fn build_apim(
    b: &Blueprint,
    a: &blueprint::Apim,
    rg_id: &str,
    id: String,
    accounts: &[AccountM],
) -> ApimM {
    let display = |r: &str| regions::display_name(r).unwrap_or(r).to_string();
    let region_routing = b.pattern == Pattern::AfdApim;
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
            after_apply(&id, "/properties/gatewayUrl", true)
        } else {
            after_apply(&id, "/properties/gatewayRegionalUrl", true)
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
                &id,
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
    let backends: Vec<BackendM> = accounts
        .iter()
        .map(|acc| BackendM {
            id: format!("{id}/backends/{}", acc.backend_id),
            name: acc.backend_id.clone(),
            url: format!("https://{}/openai", acc.host),
            account: acc.name.clone(),
        })
        .collect();
    let pool_type = a.load_balancing.pool_type;
    // A weighted pool keeps the blueprint's priorities: APIM serves the lowest priority group
    // first and balances by weight inside it.
    let member = |acc: &AccountM| PoolMemberM {
        backend_path: format!("/backends/{}", acc.backend_id),
        backend_id: acc.backend_id.clone(),
        weight: matches!(pool_type, PoolType::Weighted | PoolType::Priority).then_some(acc.weight),
        priority: matches!(pool_type, PoolType::Weighted | PoolType::Priority)
            .then_some(acc.priority),
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
                members: mine
                    .iter()
                    .map(|x| tier(x, 1))
                    .chain(others.iter().map(|x| tier(x, 2)))
                    .collect(),
                name,
            });
        }
    }
    let lr = &a.load_balancing.retry;
    let any_error = lr.on == RetryOn::AnyError;
    let api_name = "azure-openai".to_string();
    let api_id = format!("{id}/apis/{api_name}");
    let operations = [
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
        url_template: u.to_string(),
    })
    .collect();
    let logging = a.logging.as_ref().map(|l| {
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
            let ra_name = arm_guid(&[&ns_id, &id, ROLE_EVENT_HUBS_SENDER]);
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
                log_responses: !a.streaming,
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
    });
    let budget = a.budget.as_ref().map(|bu| BudgetM {
        id: format!(
            "{rg_id}/providers/Microsoft.Consumption/budgets/{}",
            bu.name
        ),
        name: bu.name.clone(),
        amount: bu.amount,
        start_date: bu.start_date.clone(),
        thresholds: bu.thresholds.clone(),
        contact_emails: bu.contact_emails.clone(),
    });
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
        private_endpoint: a
            .network
            .as_ref()
            .and_then(|n| n.private_endpoint.as_ref())
            .map(|p| {
                let name = format!("pe-{}", a.name);
                let pid = format!("{rg_id}/providers/Microsoft.Network/privateEndpoints/{name}");
                let with_dns = b.networking.as_ref().is_some_and(|n| n.private_dns.is_some());
                PrivateEndpointM {
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
            }),
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
        jwt: a.jwt.as_ref().map(|j| JwtM {
            tenant_id: j.tenant_id.clone(),
            openid_config: j.openid_config.clone(),
            audiences: jwt_audiences(j),
            issuers: j.issuers.clone(),
            caller_header: j.caller_header.clone(),
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
        name: a.name.clone(),
        id,
    }
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

fn build_front_door(
    b: &Blueprint,
    f: &blueprint::FrontDoor,
    rg_id: &str,
    accounts: &[AccountM],
    apim: Option<&ApimM>,
    instances: &[InstanceM],
) -> FrontDoorM {
    let profile_id = format!("{rg_id}/providers/Microsoft.Cdn/profiles/{}", f.profile);
    let og_id = format!("{profile_id}/originGroups/{}", f.origin_group.name);
    let origins = match (b.pattern, apim) {
        (Pattern::AfdApim, Some(apim)) => std::iter::once(apim)
            .chain(instances.iter().map(|i| &i.apim))
            .flat_map(|apim| apim.regions.iter().map(move |r| (apim, r)))
            .map(|(apim, r)| {
                let name = format!("apim-{}", r.region);
                let request_message =
                    format!("Front Door {} origin {name} to API Management", f.profile);
                OriginM {
                    id: format!("{og_id}/origins/{name}"),
                    name,
                    host: r.gateway_host.clone(),
                    weight: r.weight,
                    priority: r.priority,
                    private_link: f.private_link.then(|| PrivateLinkM {
                        target_id: apim.id.clone(),
                        group_id: "Gateway",
                        // Front Door lists the regions it offers Private Link in; elsewhere it
                        // says to pick the nearest listed one (lint AOAI024 says which).
                        location: arm_emulator::capabilities::get()
                            .front_door_private_link_region(&r.region)
                            .unwrap_or(&r.region)
                            .to_string(),
                        request_message: request_message.clone(),
                    }),
                }
            })
            .collect(),
        _ => accounts
            .iter()
            .map(|a| OriginM {
                id: format!("{og_id}/origins/{}", a.name),
                name: a.name.clone(),
                host: a.host.clone(),
                weight: a.weight,
                priority: a.priority,
                private_link: None,
            })
            .collect(),
    };
    let endpoint_id = format!("{profile_id}/afdEndpoints/{}", f.endpoint);
    let waf_id = format!(
        "{rg_id}/providers/Microsoft.Network/FrontDoorWebApplicationFirewallPolicies/{}",
        f.waf.name
    );
    FrontDoorM {
        profile: f.profile.clone(),
        endpoint: f.endpoint.clone(),
        route: "default".into(),
        route_id: format!("{endpoint_id}/routes/default"),
        endpoint_id,
        origin_group: f.origin_group.name.clone(),
        origin_group_id: og_id,
        probe_path: f.origin_group.probe.path.clone(),
        probe_protocol: f.origin_group.probe.protocol.as_str(),
        probe_method: f.origin_group.probe.method.as_str(),
        probe_interval: f.origin_group.probe.interval_seconds,
        sample_size: f.origin_group.sample_size,
        successful_samples: f.origin_group.successful_samples_required,
        additional_latency_ms: f.origin_group.additional_latency_ms,
        origin_timeout: f.origin_timeout_seconds,
        origins,
        waf_name: f.waf.name.clone(),
        waf_id,
        waf_mode: f.waf.mode.as_str(),
        rule_sets: f
            .waf
            .managed_rule_sets
            .iter()
            .map(|r| RuleSetM {
                rule_set_type: r.rule_set_type.clone(),
                version: r.version.clone(),
                action: r.action.clone(),
            })
            .collect(),
        security_policy: "waf".into(),
        security_policy_id: format!("{profile_id}/securityPolicies/waf"),
        custom_domain: f.custom_domain.as_ref().map(|d| CustomDomainM {
            id: format!("{profile_id}/customDomains/{}", d.name),
            name: d.name.clone(),
            host_name: d.host_name.clone(),
        }),
        profile_id,
    }
}
