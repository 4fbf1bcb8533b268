//! Architecture rules: traps of Azure OpenAI gateways that only show in production, checked on
//! the blueprint, the resolved model and the rendered bodies and policies, plus APIM policy
//! validation of every rendered policy. Each rule has an id, a severity, a one-line reason and a
//! documentation link; a blueprint may allow a rule with a reason (`lint.allow`).

mod capability;
mod deployments;
mod edge_rules;
mod network;
mod policy_rules;
pub mod report;
mod teams;
mod vocab;
mod xml_rules;

pub use capability::explain;

use serde::Serialize;

use crate::blueprint::regions;
use crate::blueprint::{self, Blueprint, LbMode, Pattern, RetryOn, STATUS_PATH};
use crate::model::{self, Model};
use crate::render::Rendered;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A rule of the catalogue.
pub struct Rule {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub reason: &'static str,
    pub help: &'static str,
    pub docs: &'static str,
}

pub const RULES: &[Rule] = &[
    Rule { id: "AOAI001", name: "probe-path", severity: Severity::Warning,
        reason: "Front Door counts only a 200 as healthy and fails open when every origin fails its probe, so a wrong probe path hides itself; the base URL of Azure OpenAI answers 404",
        help: "in afd, probe /status-0123456789abcdef, which answers 200 without a key (it proves the front end is reachable, not that a deployment has quota); in afd-apim the gateway's health operation is probed (AOAI070)",
        docs: "https://learn.microsoft.com/azure/frontdoor/health-probes" },
    Rule { id: "AOAI002", name: "private-link-to-openai", severity: Severity::Error,
        reason: "Front Door's Private Link documentation does not list Azure OpenAI as a supported origin",
        help: "use pattern afd-apim: Front Door -> API Management (group id Gateway) -> private endpoint -> Azure OpenAI",
        docs: "https://learn.microsoft.com/azure/frontdoor/private-link" },
    Rule { id: "AOAI003", name: "region-arm-name", severity: Severity::Error,
        reason: "context.Deployment.Region holds display names (\"West US\"), never ARM names (\"westus\"); this comparison is never true",
        help: "compare with the display name of the region",
        docs: "https://learn.microsoft.com/azure/api-management/api-management-policy-expressions#ContextVariables" },
    Rule { id: "AOAI004", name: "retry-on-4xx", severity: Severity::Warning,
        reason: "a retry on every status >= 400 replays 400/401/403 requests that fail the same way again",
        help: "retry on 429 and 5xx only (loadBalancing.retry.on: transient)",
        docs: "https://learn.microsoft.com/azure/api-management/retry-policy" },
    Rule { id: "AOAI005", name: "retry-count-below-backends", severity: Severity::Warning,
        reason: "with fewer retries than backends - 1, a request can fail while a healthy backend was never tried",
        help: "set loadBalancing.retry.count to at least the number of accounts minus one",
        docs: "https://learn.microsoft.com/azure/api-management/retry-policy" },
    Rule { id: "AOAI006", name: "retry-without-buffer", severity: Severity::Error,
        reason: "a retry without buffer-request-body cannot resend the request body",
        help: "set loadBalancing.retry.bufferRequestBody: true (forward-request buffer-request-body=\"true\")",
        docs: "https://learn.microsoft.com/azure/api-management/forward-request-policy" },
    Rule { id: "AOAI007", name: "cache-round-robin-multi-region", severity: Severity::Warning,
        reason: "the round-robin counter lives in the APIM internal cache, which is per region and cleared on updates: it is not a global rotation",
        help: "use loadBalancing.mode: pool (native backend pools), or allow this rule when per-region rotation is intended",
        docs: "https://learn.microsoft.com/azure/api-management/api-management-howto-cache" },
    Rule { id: "AOAI008", name: "managed-identity-incomplete", severity: Severity::Error,
        reason: "managed-identity authentication needs the Cognitive Services OpenAI User role on every account, and key (local) auth left on keeps a bypass open",
        help: "keep apim.auth.managedIdentity: true, which renders the role assignments and disableLocalAuth: true",
        docs: "https://learn.microsoft.com/azure/api-management/api-management-authenticate-authorize-azure-openai" },
    Rule { id: "AOAI009", name: "jwt-without-audiences", severity: Severity::Error,
        reason: "validate-jwt without audiences accepts any token the issuer signs, for any application",
        help: "for Microsoft Entra set apim.jwt.tenantId with clientId (the aud of v2.0 tokens) and/or appIdUri (the aud of v1.0 tokens); otherwise list the aud values your issuer puts in its tokens in apim.jwt.audiences",
        docs: "https://learn.microsoft.com/azure/api-management/validate-jwt-policy" },
    Rule { id: "AOAI010", name: "public-access-with-private-endpoints", severity: Severity::Warning,
        reason: "accounts behind private endpoints still accept traffic from the internet while public network access is on",
        help: "set networking.publicNetworkAccess: Disabled",
        docs: "https://learn.microsoft.com/azure/ai-services/cognitive-services-virtual-networks" },
    Rule { id: "AOAI011", name: "additional-regions-need-premium", severity: Severity::Error,
        reason: "API Management deploys additional gateway regions only on the Premium tier",
        help: "set apim.sku.name: Premium or remove apim.additionalRegions",
        docs: "https://learn.microsoft.com/azure/api-management/api-management-howto-deploy-multi-region" },
    Rule { id: "AOAI012", name: "different-deployment-names", severity: Severity::Error,
        reason: "Front Door forwards /openai/deployments/<name>/ unchanged: every origin must serve the same deployment name",
        help: "use one openai.deployment.name on every account",
        docs: "https://learn.microsoft.com/azure/ai-services/openai/how-to/create-resource" },
    Rule { id: "AOAI013", name: "streaming-with-buffered-response", severity: Severity::Warning,
        reason: "streamed responses (server-sent events) are held back until complete when APIM buffers, reads, caches or logs response bodies",
        help: "forward-request buffer-response=\"false\"; read a response body only when it is not a stream (Content-Type text/event-stream); no cache-store or validate-content; with apim.streaming: true, keep response body logging at 0 bytes",
        docs: "https://learn.microsoft.com/azure/api-management/how-to-server-sent-events" },
    Rule { id: "AOAI014", name: "region-routing-misses-region", severity: Severity::Error,
        reason: "a gateway region missing from the region-routing policy sends its traffic to the fallback, across regions",
        help: "add a branch for every APIM region (display name)",
        docs: "https://learn.microsoft.com/azure/api-management/api-management-howto-deploy-multi-region#route-api-calls-to-regional-backend-services" },
    Rule { id: "AOAI015", name: "short-origin-timeout", severity: Severity::Warning,
        reason: "Front Door cuts off an origin after originTimeoutSeconds (at most 240 s); long generations take longer than a short timeout",
        help: "set frontDoor.originTimeoutSeconds: 240, or stream responses",
        docs: "https://learn.microsoft.com/azure/frontdoor/front-door-traffic-acceleration" },
    Rule { id: "AOAI016", name: "no-network-path", severity: Severity::Error,
        reason: "a hop of the path has no network route: an account with public network access Disabled is reachable only through its private endpoint, from a virtual network; classic Basic/Standard and Basic v2 gateways are in none, and Front Door has no Private Link to Azure OpenAI",
        help: "give the gateway a virtual network (Developer/Premium: apim.network injection; Standard v2/Premium v2: apim.network mode External, outbound integration), or keep public network access on",
        docs: "https://learn.microsoft.com/azure/api-management/virtual-network-concepts" },
    Rule { id: "AOAI017", name: "vnet-not-in-tier", severity: Severity::Error,
        reason: "only some API Management tiers join a virtual network: injection (classic Developer, Premium; Premium v2) or outbound integration (Standard v2, Premium v2, External only)",
        help: "choose a tier with the feature (data/capabilities/apim.json) or remove apim.network",
        docs: "https://learn.microsoft.com/azure/api-management/api-management-features" },
    Rule { id: "AOAI018", name: "private-dns-not-linked", severity: Severity::Error,
        reason: "the gateway resolves <account>.openai.azure.com in its own virtual network; without a link to privatelink.openai.azure.com the name resolves to the public address, which public network access Disabled refuses",
        help: "add the gateway's virtual network to networking.privateDns.vnetLinks",
        docs: "https://learn.microsoft.com/azure/ai-services/cognitive-services-virtual-networks" },
    Rule { id: "AOAI019", name: "private-endpoint-other-vnet", severity: Severity::Warning,
        reason: "the private endpoint is in another virtual network than the gateway, one the blueprint does not create, so whether the two are peered is not known to lint; it is reachable only through peering",
        help: "put the private endpoint in the gateway's virtual network, or make sure the two networks are peered",
        docs: "https://learn.microsoft.com/azure/private-link/private-endpoint-overview" },
    Rule { id: "AOAI020", name: "model-not-offered", severity: Severity::Error,
        reason: "Azure OpenAI offers each model version per deployment type in a fixed list of regions; elsewhere the deployment is refused (InvalidResourceProperties)",
        help: "move the account to a region that offers the model as this deployment type, or choose another type or version (data/capabilities/openai.json)",
        docs: "https://learn.microsoft.com/azure/ai-foundry/openai/concepts/models#model-summary-table-and-region-availability" },
    Rule { id: "AOAI021", name: "data-zone-outside", severity: Severity::Error,
        reason: "DataZoneStandard and DataZoneProvisionedManaged process data inside a data zone (US or EU; Learn does not confirm an APAC zone, so APAC regions are noted, not refused); an account in a region outside every data zone cannot deploy them",
        help: "use GlobalStandard or Standard for accounts outside the data zones, or move the account into a data zone",
        docs: "https://learn.microsoft.com/azure/ai-foundry/foundry-models/concepts/deployment-types" },
    Rule { id: "AOAI022", name: "capability-not-recorded", severity: Severity::Note,
        reason: "the capability data does not list this model, version or deployment type, so its regional availability is not checked",
        help: "add the model to data/capabilities/openai.json (see data/capabilities/README.md)",
        docs: "https://learn.microsoft.com/azure/ai-foundry/openai/concepts/models" },
    Rule { id: "AOAI023", name: "account-region-not-offered", severity: Severity::Error,
        reason: "Azure OpenAI accounts exist only in the regions that offer its models",
        help: "choose a region listed in data/capabilities/openai.json accountKinds",
        docs: "https://learn.microsoft.com/azure/ai-foundry/openai/concepts/models" },
    Rule { id: "AOAI024", name: "front-door-private-link-region", severity: Severity::Note,
        reason: "Front Door offers Private Link in a fixed list of regions and says to pick the nearest listed one for an origin elsewhere; aoai-arch renders that region as privateLinkLocation",
        help: "nothing to do if the mapped region suits you; it is where Front Door's private endpoint lives",
        docs: "https://learn.microsoft.com/azure/frontdoor/private-link#region-availability" },
    Rule { id: "AOAI025", name: "front-door-private-link-target", severity: Severity::Error,
        reason: "Front Door reaches API Management over Private Link through an inbound private endpoint, which Basic v2 and Premium v2 do not offer to Front Door and a classic instance injected in a virtual network does not accept",
        help: "use a classic tier without injection (Premium for multi-region), or drop frontDoor.privateLink and lock the public gateway to Front Door",
        docs: "https://learn.microsoft.com/azure/api-management/private-endpoint" },
    Rule { id: "AOAI026", name: "gateway-without-credential", severity: Severity::Error,
        reason: "without a managed identity the gateway sends no credential of its own: only callers holding account keys get through, and the keys must stay enabled",
        help: "set apim.auth.managedIdentity: true (role assignment on every account, key auth off)",
        docs: "https://learn.microsoft.com/azure/api-management/api-management-authenticate-authorize-azure-openai" },
    Rule { id: "AOAI027", name: "region-without-subnet", severity: Severity::Error,
        reason: "a service in a virtual network needs a subnet in every gateway region (a virtual network is regional)",
        help: "set apim.additionalRegions[].subnetId to a subnet in that region",
        docs: "https://learn.microsoft.com/azure/api-management/api-management-howto-deploy-multi-region" },
    Rule { id: "AOAI028", name: "internal-gateway-behind-front-door", severity: Severity::Error,
        reason: "Front Door reaches an origin over the internet or Private Link; an Internal gateway has no public endpoint and, injected, accepts no private endpoint",
        help: "use apim.network.mode: External (and lock the gateway to Front Door), or a tier without injection with frontDoor.privateLink",
        docs: "https://learn.microsoft.com/azure/api-management/api-management-using-with-internal-vnet" },
    Rule { id: "BP001", name: "blueprint-invalid", severity: Severity::Error,
        reason: "the blueprint does not parse or fails validation (YAML syntax, unknown fields, types, naming rules, cross-field rules), so nothing can be rendered from it",
        help: "fix the field at the reported line and column",
        docs: "https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules" },
    Rule { id: "AOAI050", name: "inbound-private-endpoint-on-injected", severity: Severity::Error,
        reason: "a classic API Management instance injected in a virtual network (Developer, Premium with apim.network.subnetId) accepts no inbound private endpoint; Azure refuses the private endpoint",
        help: "remove apim.network.privateEndpoint (callers in the network reach an injected gateway directly; use mode Internal for private-only), or use Standard v2 with outbound integration and an inbound private endpoint",
        docs: "https://learn.microsoft.com/azure/api-management/private-endpoint#limitations" },
    Rule { id: "AOAI051", name: "inbound-private-endpoint-not-in-tier", severity: Severity::Error,
        reason: "this API Management tier offers no inbound private endpoint (data/capabilities/apim.json inboundPrivateEndpoint)",
        help: "choose a tier with inbound private endpoints (Developer, Basic, Standard, Premium, Standard v2, Premium v2), or remove apim.network.privateEndpoint",
        docs: "https://learn.microsoft.com/azure/api-management/private-endpoint" },
    Rule { id: "AOAI052", name: "public-access-disabled-without-private-path", severity: Severity::Error,
        reason: "Azure disables public network access of API Management only once the service has an approved private endpoint connection; without one (its own inbound private endpoint, or Front Door Private Link) the lock-down is refused, and nothing could reach the gateway",
        help: "add apim.network.privateEndpoint or frontDoor.privateLink (on a tier that accepts them), or keep apim.network.publicNetworkAccess: Enabled",
        docs: "https://learn.microsoft.com/azure/api-management/private-endpoint#disable-public-network-access" },
    Rule { id: "AOAI053", name: "front-door-public-origin-locked", severity: Severity::Error,
        reason: "Front Door reaches this gateway on its public endpoint (frontDoor.privateLink is off), which apim.network.publicNetworkAccess: Disabled closes",
        help: "set frontDoor.privateLink: true (Standard v2, or a classic tier without injection), or keep public network access Enabled and rely on the X-Azure-FDID check",
        docs: "https://learn.microsoft.com/azure/frontdoor/standard-premium/how-to-enable-private-link-apim" },
    Rule { id: "AOAI054", name: "gateway-private-dns-missing", severity: Severity::Warning,
        reason: "the gateway's inbound private endpoint registers in privatelink.azure-api.net, which aoai-arch creates with networking.privateDns; without a linked network, callers resolve <name>.azure-api.net to the public address, which public network access Disabled refuses",
        help: "set networking.privateDns.vnetLinks to the callers' networks (the zone is created and linked with the accounts' zones)",
        docs: "https://learn.microsoft.com/azure/api-management/private-endpoint#dns" },
    Rule { id: "AOAI055", name: "network-in-other-region", severity: Severity::Error,
        reason: "API Management joins only a virtual network of its own region (classic injection, each additional region, v2 outbound integration); Azure refuses a subnet of a network elsewhere",
        help: "use a subnet of a network in the gateway's region (networks[].region), one per gateway region",
        docs: "https://learn.microsoft.com/azure/api-management/virtual-network-injection-resources" },
    Rule { id: "AOAI056", name: "backend-unreachable", severity: Severity::Error,
        reason: "a pool member (any priority, any region's pool, a round-robin fallback) is reached through its private endpoint, whose network is neither the gateway's network nor peered with it: when the gateway turns to that member every request fails to connect",
        help: "peer the gateway's network with the private endpoint's network (networks[].peerings; both directions are rendered), or put the account's private endpoint in the gateway's network; and link the privatelink zones to the gateway's network",
        docs: "https://learn.microsoft.com/azure/private-link/private-endpoint-overview#network-security-of-private-endpoints" },
    Rule { id: "AOAI060", name: "model-retired", severity: Severity::Error,
        reason: "Azure OpenAI retires each model version on the date of its retirement schedule: from then every call to a deployment of it fails and no new deployment of it is accepted",
        help: "choose a version that is generally available in every account's region (data/capabilities/openai.json lifecycle; `aoai-arch plan` reads the live catalogue)",
        docs: "https://learn.microsoft.com/azure/foundry/openai/concepts/model-retirement-schedule" },
    Rule { id: "AOAI061", name: "model-deprecated", severity: Severity::Warning,
        reason: "a deprecated version accepts no new deployment (ARM answers ServiceModelDeprecating, so preflight makes it an error for a deployment that does not exist yet) and existing deployments stop at its retirement date unless versionUpgradeOption moves them",
        help: "move openai.deployment.model to a generally available version before the retirement date",
        docs: "https://learn.microsoft.com/azure/foundry/openai/concepts/model-retirement-schedule" },
    Rule { id: "AOAI062", name: "model-preview", severity: Severity::Note,
        reason: "a preview version can change and is retired on short notice; it is not meant for production workloads",
        help: "use a generally available version for production, or accept the preview's retirement date",
        docs: "https://learn.microsoft.com/azure/foundry/openai/concepts/model-retirements" },
    Rule { id: "AOAI080", name: "spillover-target-not-on-account", severity: Severity::Error,
        reason: "native spillover sends overage to a standard deployment of the same account; Azure refuses a spilloverDeploymentName the account does not have",
        help: "serve the spillover deployment on every account that serves the provisioned one (accounts[].deployments), or remove `spillover`",
        docs: "https://learn.microsoft.com/azure/ai-foundry/openai/how-to/spillover-traffic-management" },
    Rule { id: "AOAI081", name: "spillover-processing-level-mismatch", severity: Severity::Error,
        reason: "the spillover deployment must be a standard deployment of the provisioned one's data-processing level (Global to GlobalStandard, DataZone to DataZoneStandard, regional ProvisionedManaged to Standard); Azure refuses any other",
        help: "point `spillover` at a standard deployment of the same level, e.g. GlobalProvisionedManaged -> GlobalStandard",
        docs: "https://learn.microsoft.com/azure/ai-foundry/openai/how-to/spillover-traffic-management" },
    Rule { id: "AOAI082", name: "spillover-not-for-responses-api", severity: Severity::Warning,
        reason: "native spillover covers chat completions on the provisioned deployment; the gateway also imports the Responses API, whose requests to the provisioned deployment keep its 429s",
        help: "send Responses API traffic to the standard deployment, or let the gateway retry 429s on other accounts (apim.loadBalancing.retry)",
        docs: "https://learn.microsoft.com/azure/ai-foundry/openai/how-to/spillover-traffic-management" },
    Rule { id: "AOAI083", name: "tripped-ptu-backend", severity: Severity::Warning,
        reason: "a pool member's circuit breaker trips on 429 and keeps the backend out for the whole trip (Retry-After, else tripDuration): all traffic of a tripped provisioned account goes to the other members, pay-as-you-go included, even when its PTUs free up sooner",
        help: "prefer native spillover (`spillover`) on one account per provisioned deployment, or accept the trip; the backends honour Retry-After (acceptRetryAfter: true)",
        docs: "https://learn.microsoft.com/azure/api-management/backends#circuit-breaker" },
    Rule { id: "AOAI084", name: "front-door-partial-deployments", severity: Severity::Error,
        reason: "Front Door forwards /openai/deployments/<name>/ unchanged to any origin of its group and cannot route by deployment: an account without the deployment answers 404",
        help: "serve every deployment on every account behind Front Door, or use pattern afd-apim, whose gateway routes by deployment",
        docs: "https://learn.microsoft.com/azure/frontdoor/origin" },
    Rule { id: "AOAI070", name: "probe-misses-backends", severity: Severity::Warning,
        reason: "Front Door drains an origin only when its probe fails; a probe of the gateway's status endpoint answers 200 while every account behind the gateway fails, so the region keeps its traffic",
        help: "probe the gateway's health operation (frontDoor.originGroup.probe.path: /aoai-health/backends, the default in afd-apim), which answers 503 when no local account can serve",
        docs: "https://learn.microsoft.com/azure/frontdoor/health-probes" },
    Rule { id: "AOAI071", name: "no-resource-logs", severity: Severity::Warning,
        reason: "without diagnostic settings, API Management's gateway logs, Front Door's access and WAF logs and the accounts' request logs are kept nowhere: an incident cannot be traced",
        help: "name a Log Analytics workspace: diagnostics.logAnalytics (or apim.logging.logAnalytics)",
        docs: "https://learn.microsoft.com/azure/azure-monitor/essentials/diagnostic-settings" },
    Rule { id: "AOAI072", name: "waf-detection-without-logs", severity: Severity::Error,
        reason: "a WAF in Detection mode blocks nothing and only records what it would block in its log (FrontDoorWebApplicationFirewallLog); without a diagnostic setting for that category it does nothing at all",
        help: "send the profile's FrontDoorWebApplicationFirewallLog to Log Analytics (diagnostics.logAnalytics), or use mode Prevention",
        docs: "https://learn.microsoft.com/azure/web-application-firewall/afds/waf-front-door-monitor" },
    Rule { id: "AOAI073", name: "keys-across-balanced-accounts", severity: Severity::Error,
        reason: "Front Door balances requests across the accounts, and an account key is valid on one account only: a caller with a key gets 401 from every other account",
        help: "keep key auth off (openai.localAuth: false, the default in afd) and list the Microsoft Entra callers in openai.callers, which get the data-plane role on every account",
        docs: "https://learn.microsoft.com/azure/ai-foundry/openai/how-to/managed-identity" },
    Rule { id: "AOAI074", name: "no-callers", severity: Severity::Warning,
        reason: "with key auth off, a caller needs the Cognitive Services OpenAI User role on every account Front Door may pick; the blueprint grants it to nobody",
        help: "list the callers' object ids in openai.callers (principalId, principalType), or grant the role outside this blueprint and allow this rule",
        docs: "https://learn.microsoft.com/azure/ai-foundry/openai/how-to/role-based-access-control" },
    Rule { id: "AOAI075", name: "waf-blocks-prompts", severity: Severity::Warning,
        reason: "the default rule set inspects JSON bodies; prompts that contain code, SQL or shell commands match its injection rules, and in Prevention mode those requests are blocked",
        help: "exclude the prompt fields of the body from the default rule set 2.x (frontDoor.waf.promptFields, default messages, input, prompt, instructions)",
        docs: "https://learn.microsoft.com/azure/web-application-firewall/afds/waf-front-door-tuning" },
    Rule { id: "AOAI076", name: "event-hub-undersized", severity: Severity::Warning,
        reason: "an Event Hubs throughput unit ingests 1 MB/s or 1000 events/s and a partition about as much; above the namespace's auto-inflate ceiling or its partitions, log-to-eventhub is throttled and bodies are lost",
        help: "raise apim.logging.eventHub.maxThroughputUnits and partitions to what expectedLoad needs (Standard: at most 40 units, 32 partitions)",
        docs: "https://learn.microsoft.com/azure/event-hubs/event-hubs-scalability" },
    Rule { id: "AOAI077", name: "client-ip-is-front-door", severity: Severity::Warning,
        reason: "behind Front Door the gateway's TCP peer is Front Door: logClientIp records Front Door's addresses as the client's",
        help: "set logClientIp: false and log Front Door's X-Azure-SocketIP header (the address that connected to Front Door), as the rendered diagnostics do",
        docs: "https://learn.microsoft.com/azure/frontdoor/front-door-http-headers-protocol" },
    Rule { id: "APIM001", name: "policy-invalid", severity: Severity::Error,
        reason: "API Management would reject this policy (or it does not do what it says)",
        help: "fix the policy XML at the reported line and column",
        docs: "https://learn.microsoft.com/azure/api-management/api-management-policies" },
    Rule { id: "AOAI030", name: "jwt-token-version-mismatch", severity: Severity::Error,
        reason: "Microsoft Entra issues v2.0 tokens (iss https://login.microsoftonline.com/<tenant>/v2.0, aud the client id) or v1.0 tokens (iss https://sts.windows.net/<tenant>/, aud the App ID URI); a v2.0 issuer with an App ID URI audience matches no token, so every call gets 401",
        help: "use apim.jwt.tenantId with clientId and/or appIdUri and tokenVersions (validate-azure-ad-token), or pair the v2.0 issuer with the client id GUID, or the v1.0 issuer (sts.windows.net) with the App ID URI",
        docs: "https://learn.microsoft.com/entra/identity-platform/access-tokens#token-formats" },
    Rule { id: "AOAI031", name: "region-compare-case-sensitive", severity: Severity::Warning,
        reason: "context.Deployment.Region is compared with == or a C# switch, which is case-sensitive; Microsoft's multi-region example compares with StringComparison.OrdinalIgnoreCase",
        help: "compare with context.Deployment.Region.Equals(\"West Europe\", StringComparison.OrdinalIgnoreCase)",
        docs: "https://learn.microsoft.com/azure/api-management/api-management-howto-deploy-multi-region#route-api-calls-to-regional-backend-services" },
    Rule { id: "AOAI032", name: "gateway-not-locked-to-front-door", severity: Severity::Error,
        reason: "Front Door fronts this gateway, but without a check of the X-Azure-FDID header anyone can call the gateway directly and bypass the WAF",
        help: "check X-Azure-FDID against the Front Door profile's frontDoorId in inbound (check-header), as the rendered policy does with the front-door-id named value",
        docs: "https://learn.microsoft.com/azure/api-management/front-door-api-management#restrict-incoming-traffic-to-api-management-instance" },
    Rule { id: "AOAI033", name: "api-key-forwarded", severity: Severity::Warning,
        reason: "with managed identity the gateway authenticates to Azure OpenAI itself; a caller's api-key header is forwarded unchanged to the account and can leak a key into the backend's logs",
        help: "remove it in inbound: <set-header name=\"api-key\" exists-action=\"delete\" />",
        docs: "https://learn.microsoft.com/azure/api-management/set-header-policy" },
    Rule { id: "AOAI034", name: "token-metrics-without-dimensions", severity: Severity::Error,
        reason: "azure-openai-emit-token-metric needs custom metrics with dimensions enabled on the Application Insights component, or its dimensions are dropped",
        help: "render the component with CustomMetricsOptedInType: WithDimensions (the default template does when apim.logging.tokenMetrics is true)",
        docs: "https://learn.microsoft.com/azure/api-management/azure-openai-emit-token-metric-policy#prerequisites" },
    Rule { id: "AOAI035", name: "jwt-accepts-any-principal", severity: Severity::Warning,
        reason: "the blueprint says every principal with a token for the gateway's audience may call (allowAnyPrincipalOfTenant): any user or application of the tenant that can get such a token passes",
        help: "list the allowed client applications (apim.jwt.clientApplications) and/or the app roles callers must hold (apim.jwt.requiredRoles), or allow this rule with a reason",
        docs: "https://learn.microsoft.com/azure/api-management/validate-azure-ad-token-policy" },
    Rule { id: "AOAI036", name: "jwt-principal-unchecked", severity: Severity::Error,
        reason: "token validation checks issuer and audience only, so every principal with a token for this audience passes, and nothing in the blueprint or policy says that is intended",
        help: "set apim.jwt.clientApplications (client-application-ids, or a required azp claim) and/or apim.jwt.requiredRoles (a required roles claim); or say apim.jwt.allowAnyPrincipalOfTenant: true",
        docs: "https://learn.microsoft.com/azure/api-management/validate-azure-ad-token-policy" },
    Rule { id: "AOAI040", name: "backend-url-empty-or-relative", severity: Severity::Error,
        reason: "set-backend-service replaces the backend's runtime URL with base-url; an empty or relative value leaves no absolute URL to forward to, so the request fails in the gateway",
        help: "set base-url to the absolute URL of the backend (https://<account>.openai.azure.com/openai), or use backend-id with a backend entity",
        docs: "https://learn.microsoft.com/azure/api-management/set-backend-service-policy" },
    Rule { id: "AOAI041", name: "semantic-cache-unpaired", severity: Severity::Warning,
        reason: "a semantic cache lookup must have a corresponding semantic cache store (and the reverse): a lookup alone never finds anything, a store alone fills a cache nothing reads",
        help: "pair azure-openai-semantic-cache-lookup (inbound) with azure-openai-semantic-cache-store (outbound), or llm-semantic-cache-lookup with llm-semantic-cache-store",
        docs: "https://learn.microsoft.com/azure/api-management/azure-openai-semantic-cache-lookup-policy" },
    Rule { id: "AOAI042", name: "no-limit-after-cache-lookup", severity: Severity::Warning,
        reason: "Microsoft recommends a rate-limit (or rate-limit-by-key) policy immediately after any cache lookup, so the backend is not overloaded when the cache is unavailable",
        help: "put rate-limit-by-key, azure-openai-token-limit or llm-token-limit right after the semantic cache lookup",
        docs: "https://learn.microsoft.com/azure/api-management/azure-openai-semantic-cache-lookup-policy#usage-notes" },
    Rule { id: "AOAI043", name: "metric-too-many-dimensions", severity: Severity::Error,
        reason: "Azure Monitor keeps at most 10 dimension keys per custom metric, so emit-metric and the token-metric policies may configure at most 10 dimensions",
        help: "keep the 10 dimensions you query by (each one multiplies the metric's time series)",
        docs: "https://learn.microsoft.com/azure/api-management/azure-openai-emit-token-metric-policy#limits-for-custom-metrics" },
    Rule { id: "AOAI044", name: "gateway-timeout-not-below-front-door", severity: Severity::Error,
        reason: "Front Door gives up on the gateway after its origin response timeout (at most 240 s); the gateway answers only when its retry loop ends, which takes up to (retries + 1) x the forward-request timeout (300 s by default) + the retry intervals, so a longer loop ends in Front Door's 504",
        help: "leave apim.timeoutSeconds unset (derived from the retry settings), or lower it, the retry count or the interval until the worst case is below frontDoor.originTimeoutSeconds",
        docs: "https://learn.microsoft.com/azure/api-management/forward-request-policy" },
    Rule { id: "AOAI045", name: "metric-unbounded-dimension", severity: Severity::Warning,
        reason: "a metric dimension whose value comes from a header, claim, caller IP, body or user makes one time series per distinct value; Azure Monitor keeps at most 50,000 active time series per region and subscription and drops the rest",
        help: "use bounded dimensions (API ID, Operation ID, Region, Product ID, Subscription ID); log per-caller values to logs, not metrics",
        docs: "https://learn.microsoft.com/azure/api-management/azure-openai-emit-token-metric-policy#limits-for-custom-metrics" },
    Rule { id: "AOAI046", name: "caller-header-from-client", severity: Severity::Error,
        reason: "the caller header is read (or logged from the frontend request) before the gateway removes or overrides it, so a client can put any caller id into logs and metrics",
        help: "delete the header first (set-header exists-action=\"delete\"), set it from the validated token (exists-action=\"override\"), and log it from the backend request or the token",
        docs: "https://learn.microsoft.com/azure/api-management/set-header-policy" },
    Rule { id: "AOAI047", name: "retry-on-pool-unavailable", severity: Severity::Warning,
        reason: "when no backend of a pool is available, API Management answers 503 itself without calling one; retrying it only repeats that answer",
        help: "exclude it by what only a backend's answer has: !(context.Response.StatusCode == 503 && !context.Response.Headers.ContainsKey(\"apim-request-id\")) (Azure OpenAI sets apim-request-id on every answer; the status reason text of the pool's 503 has changed before)",
        docs: "https://learn.microsoft.com/azure/api-management/backends#circuit-breaker" },
    Rule { id: "AOAI048", name: "round-robin-ignores-tripped-backends", severity: Severity::Warning,
        reason: "a cache-counter round robin that does not remember which backend answered 429 or 5xx sends the next requests to it again, before its Retry-After has passed",
        help: "remember a failed backend with its Retry-After (cache-store-value) and skip it while selecting, as the rendered round-robin policy does; or use a backend pool, whose circuit breaker does this",
        docs: "https://learn.microsoft.com/azure/api-management/backends#circuit-breaker" },
    Rule { id: "AOAI049", name: "responses-follow-up-body-not-buffered", severity: Severity::Warning,
        reason: "a Responses API follow-up (POST /v1/responses with previous_response_id) is routed by its body: when the account asked first does not hold the stored response, the retry sends the request to the next account, which needs the body again; without buffer-request-body the retried request has no body and the follow-up fails",
        help: "keep apim.loadBalancing.retry.bufferRequestBody: true (buffer-request-body=\"true\" on the forward-request inside the retry)",
        docs: "https://learn.microsoft.com/azure/api-management/forward-request-policy" },
    Rule { id: "AOAI100", name: "unknown-deployment-type", severity: Severity::Warning,
        reason: "the deployment type (sku.name) is not one aoai-arch knows (data/capabilities/deployment-types.json); Azure adds types faster than releases, so it is not refused, but a wrong one is refused only by apply's preflight or by Azure",
        help: "use a known deployment type; if Azure has added this one, allow this rule with a reason (and add it to data/capabilities/deployment-types.json)",
        docs: "https://learn.microsoft.com/azure/foundry/foundry-models/concepts/deployment-types" },
    Rule { id: "AOAI101", name: "unknown-model", severity: Severity::Warning,
        reason: "the model name is in neither the region tables nor the retirement schedule of data/capabilities/openai.json; a misspelt model is refused only by apply's preflight or by Azure",
        help: "check the name against the models page; if Azure offers it, allow this rule with a reason (preflight reads the live model list)",
        docs: "https://learn.microsoft.com/azure/ai-foundry/openai/concepts/models" },
    Rule { id: "AOAI102", name: "unknown-lint-rule", severity: Severity::Error,
        reason: "lint.allow names a rule that does not exist, so the finding it was meant to allow is still reported (or a misspelt id allows nothing)",
        help: "use a rule id that `aoai-arch lint` prints (docs/reference.md, Lint rules), e.g. AOAI004",
        docs: "docs/reference.md#lint-rules" },
    Rule { id: "AOAI103", name: "unknown-waf-rule-set", severity: Severity::Warning,
        reason: "the WAF managed rule set type is not one aoai-arch knows (data/capabilities/waf-rule-sets.json); Front Door refuses a rule set it does not offer only when apply sends the policy",
        help: "use Microsoft_DefaultRuleSet and Microsoft_BotManagerRuleSet; if Azure has added this one, allow the rule with a reason",
        docs: "https://learn.microsoft.com/azure/web-application-firewall/afds/waf-front-door-drs" },
    Rule { id: "AOAI090", name: "team-quota-below-rate", severity: Severity::Warning,
        reason: "a quota smaller than one minute of the team's rate is used up by its first minute of traffic; every caller then gets 403 until the next calendar window",
        help: "raise tokenQuota.tokens, lengthen its period, or lower tokensPerMinute",
        docs: "https://learn.microsoft.com/azure/api-management/azure-openai-token-limit-policy" },
    Rule { id: "AOAI091", name: "team-model-not-deployed", severity: Severity::Error,
        reason: "a team's model allow-list names a deployment no account serves: the team's calls to it pass the gateway and fail at Azure OpenAI",
        help: "name a deployment of openai.deployment (or deploy the model)",
        docs: "https://learn.microsoft.com/azure/ai-foundry/openai/how-to/create-resource" },
    Rule { id: "AOAI092", name: "team-rate-above-capacity", severity: Severity::Warning,
        reason: "a pay-per-token deployment serves its capacity in thousands of tokens per minute; a team allowed more than every account serves together gets Azure OpenAI's 429s instead of the gateway's",
        help: "lower the team's tokensPerMinute or raise the deployment's capacity (1 unit = 1,000 TPM for Standard, GlobalStandard and DataZoneStandard)",
        docs: "https://learn.microsoft.com/azure/ai-foundry/openai/how-to/quota" },
    Rule { id: "AOAI093", name: "team-limit-per-gateway", severity: Severity::Warning,
        reason: "token limits and quotas are counted by each gateway on its own (each region of a multi-region service, each service of apim.instances): a team may use up to N times its limit across N gateways",
        help: "divide the limit by the number of gateways if it must hold in total, or allow this rule with a reason",
        docs: "https://learn.microsoft.com/azure/api-management/azure-openai-token-limit-policy" },
    Rule { id: "AOAI094", name: "subscription-key-without-subscription", severity: Severity::Error,
        reason: "without apim.jwt the API requires a subscription key; with no team there is no subscription, and only the service's built-in all-access subscription would work, which Microsoft says not to use for routine access",
        help: "add teams (a product and subscription each), or validate Microsoft Entra tokens with apim.jwt",
        docs: "https://learn.microsoft.com/azure/api-management/api-management-subscriptions" },
    Rule { id: "AOAI095", name: "product-policy-without-base", severity: Severity::Error,
        reason: "a product policy section without <base /> does not run the global policy's section: what every API must pass (protections, logging) is skipped for this product",
        help: "put <base /> first in every section of the product policy",
        docs: "https://learn.microsoft.com/azure/api-management/set-edit-policies#use-base-element-to-set-policy-evaluation-order" },
    Rule { id: "AOAI096", name: "product-limit-keyed-on-token", severity: Severity::Error,
        reason: "the product policy runs before the API policy, so a token validated there is not validated yet: a limit keyed on its claims counts what the caller claims, or fails when there is no token",
        help: "key product limits on the subscription or product; map Entra callers to a team in the API policy after validate-azure-ad-token (teams[].clientApplications)",
        docs: "https://learn.microsoft.com/azure/api-management/api-management-howto-policies#scopes" },
    Rule { id: "AOAI097", name: "team-client-applications-without-jwt", severity: Severity::Warning,
        reason: "a team's clientApplications map Microsoft Entra callers to the team by the validated token's azp or appid claim; without apim.jwt no token is validated, every caller sends a subscription key, and the list does nothing",
        help: "set apim.jwt to accept Entra tokens, or remove clientApplications (subscription callers are mapped by their product)",
        docs: "https://learn.microsoft.com/azure/api-management/validate-azure-ad-token-policy" },
];

pub fn rule(id: &str) -> &'static Rule {
    RULES.iter().find(|r| r.id == id).expect("known rule id")
}

/// Where a finding points.
#[derive(Debug, Clone, Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Blueprint field path, when the finding is about a blueprint field.
    pub field: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub message: String,
    pub reason: &'static str,
    pub help: String,
    pub docs: &'static str,
    pub location: Location,
    /// Set when the blueprint allows this rule; allowed findings are reported but never fail.
    pub allowed: Option<String>,
}

struct Ctx<'a> {
    /// `None` when policies are linted without a blueprint.
    loaded: Option<&'a blueprint::Loaded>,
    out: Vec<Finding>,
}

impl Ctx<'_> {
    fn at_field(&mut self, id: &'static str, field: &str, message: String) {
        self.at_field_with_help(id, field, message, None);
    }

    /// [`Ctx::at_field`] with a help of this finding's own instead of the rule's.
    fn at_field_with_help(
        &mut self,
        id: &'static str,
        field: &str,
        message: String,
        help: Option<String>,
    ) {
        let Some(loaded) = self.loaded else { return };
        let pos = loaded.pos(field);
        // A value set by a variable: the finding points where it was set.
        let (file, line, column, message) =
            match blueprint::vars::at(&loaded.substitutions, pos.line, pos.column) {
                Some(s) => (
                    s.origin.file.display().to_string(),
                    s.origin.line,
                    s.origin.column,
                    format!(
                        "{message} (the value of var.{}, used at {}:{}:{})",
                        s.name,
                        loaded.path.display(),
                        pos.line,
                        s.start
                    ),
                ),
                None => (
                    loaded.path.display().to_string(),
                    pos.line,
                    pos.column,
                    message,
                ),
            };
        let loc = Location {
            file,
            line,
            column,
            field: Some(field.to_string()),
        };
        self.push(id, message, help, loc);
    }

    fn at_file(
        &mut self,
        id: &'static str,
        file: &str,
        line: usize,
        column: usize,
        message: String,
        help: Option<String>,
    ) {
        let loc = Location {
            file: file.to_string(),
            line,
            column,
            field: None,
        };
        self.push(id, message, help, loc);
    }

    fn push(
        &mut self,
        id: &'static str,
        message: String,
        help: Option<String>,
        location: Location,
    ) {
        let r = rule(id);
        let allowed = self
            .loaded
            .and_then(|l| l.blueprint.lint.as_ref())
            .and_then(|l| l.allow.iter().find(|a| a.rule == id))
            .map(|a| a.reason.clone());
        self.out.push(Finding {
            rule: r.id,
            name: r.name,
            severity: r.severity,
            message,
            reason: r.reason,
            help: help.unwrap_or_else(|| r.help.to_string()),
            docs: r.docs,
            location,
            allowed,
        });
    }
}

/// Rules that read only the blueprint; they run even when the blueprint fails validation, so
/// `lint` explains the architecture reason behind a validation error.
pub fn check_blueprint(loaded: &blueprint::Loaded) -> Vec<Finding> {
    let mut c = Ctx {
        loaded: Some(loaded),
        out: Vec::new(),
    };
    blueprint_rules(&mut c, &loaded.blueprint);
    edge_rules::blueprint_rules(&mut c, &loaded.blueprint);
    capability::check(&mut c, &loaded.blueprint);
    network::check(&mut c, &loaded.blueprint);
    deployments::check(&mut c, &loaded.blueprint);
    teams::blueprint_rules(&mut c, &loaded.blueprint);
    vocab::check(&mut c, &loaded.blueprint);
    c.out
}

fn blueprint_rules(c: &mut Ctx, b: &Blueprint) {
    policy_rules::blueprint_rules(c, b);
    if let Some(f) = &b.front_door {
        let probe = crate::model::edge::probe_path(b, &f.origin_group.probe);
        if b.pattern == Pattern::Afd && probe != STATUS_PATH {
            c.at_field(
                "AOAI001",
                "frontDoor.originGroup.probe.path",
                format!("health probe path `{probe}` is not the status path"),
            );
        }
        if f.private_link && b.pattern == Pattern::Afd {
            c.at_field(
                "AOAI002",
                "frontDoor.privateLink",
                "Private Link origins to Azure OpenAI accounts".into(),
            );
        }
        if f.origin_timeout_seconds < 120 {
            c.at_field(
                "AOAI015",
                "frontDoor.originTimeoutSeconds",
                format!("origin timeout of {} s", f.origin_timeout_seconds),
            );
        }
        let first = b
            .openai
            .all_deployments()
            .first()
            .map(|d| d.name.clone())
            .unwrap_or_default();
        let names: std::collections::BTreeSet<&str> = b
            .openai
            .accounts
            .iter()
            .map(|a| a.deployment_name.as_deref().unwrap_or(&first))
            .collect();
        if names.len() > 1 {
            let i = b
                .openai
                .accounts
                .iter()
                .position(|a| a.deployment_name.as_deref().is_some_and(|d| d != first))
                .unwrap_or(0);
            c.at_field(
                "AOAI012",
                &format!("openai.accounts[{i}].deploymentName"),
                format!(
                    "deployment names differ behind one origin group: {}",
                    names.into_iter().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
    let Some(a) = &b.apim else { return };
    let r = &a.load_balancing.retry;
    if r.on == RetryOn::AnyError {
        c.at_field(
            "AOAI004",
            "apim.loadBalancing.retry.on",
            "retry on every status >= 400".into(),
        );
    }
    // With region routing, a request only ever reaches its own region's accounts.
    let backends = if b.pattern == Pattern::AfdApim {
        let mut per_region: std::collections::BTreeMap<&str, u32> = Default::default();
        for acc in &b.openai.accounts {
            *per_region.entry(acc.region.as_str()).or_default() += 1;
        }
        per_region.values().copied().max().unwrap_or(0)
    } else {
        b.openai.accounts.len() as u32
    };
    if r.count + 1 < backends {
        c.at_field(
            "AOAI005",
            "apim.loadBalancing.retry.count",
            format!("{} retries for {backends} backends", r.count),
        );
    }
    if !r.buffer_request_body {
        c.at_field(
            "AOAI006",
            "apim.loadBalancing.retry.bufferRequestBody",
            "retry without buffer-request-body".into(),
        );
    }
    if a.load_balancing.mode == LbMode::RoundRobin && !a.additional_regions.is_empty() {
        c.at_field(
            "AOAI007",
            "apim.loadBalancing.mode",
            format!(
                "cache-counter round-robin across {} gateway regions",
                a.additional_regions.len() + 1
            ),
        );
    }
    if let Some(j) = &a.jwt {
        if j.audiences.is_empty() && j.tenant_id.is_none() {
            c.at_field(
                "AOAI009",
                "apim.jwt",
                "validate-jwt without audiences".into(),
            );
        }
    }
    let multi_region = arm_emulator::capabilities::get()
        .apim_tier(a.sku.name.as_str())
        .is_some_and(|t| t.multi_region);
    if !a.additional_regions.is_empty() && !multi_region {
        c.at_field(
            "AOAI011",
            "apim.sku.name",
            format!(
                "{} regions on the {} SKU",
                a.additional_regions.len() + 1,
                a.sku.name.as_str()
            ),
        );
    }
    if let Some(n) = &b.networking {
        let public_on = n.public_network_access != Some(blueprint::PublicNetworkAccess::Disabled);
        if !n.private_endpoints.is_empty() && public_on {
            c.at_field(
                "AOAI010",
                "networking.publicNetworkAccess",
                "private endpoints with public network access enabled".into(),
            );
        }
    }
}

/// Rules over the rendered output: the bodies and policies that would reach Azure (so template
/// overrides are checked too), and validation of every policy.
pub fn check_rendered(loaded: &blueprint::Loaded, m: &Model, rendered: &Rendered) -> Vec<Finding> {
    let mut c = Ctx {
        loaded: Some(loaded),
        out: Vec::new(),
    };
    for (name, xml) in &rendered.policies {
        let file = format!("policies/{name}");
        if teams::is_product_policy(name) {
            product_policy(&mut c, &file, xml);
            continue;
        }
        // The health operation answers Front Door's probes, which carry no caller token and
        // are not documented to carry X-Azure-FDID: the gateway-policy rules do not apply to
        // it (it returns a status only, and its cache bounds what it costs the accounts).
        let model = (!edge_rules::is_health_policy(name)).then_some(m);
        policy_rules(&mut c, model, &file, xml);
    }
    policy_rules::rendered_rules(&mut c, m, rendered);
    edge_rules::rendered_rules(&mut c, m, rendered);
    // Managed identity: a role assignment per account and local auth off.
    if let Some(apim) = m.apim.as_ref().filter(|a| a.managed_identity) {
        for (i, a) in m.accounts.iter().enumerate() {
            let has_role = rendered.resources.iter().any(|r| {
                r.resource_type == "Microsoft.Authorization/roleAssignments"
                    && r.id
                        .to_lowercase()
                        .starts_with(&format!("{}/", a.id.to_lowercase()))
                    && r.body.contains(model::ROLE_OPENAI_USER)
            });
            let local_auth_off = rendered
                .resources
                .iter()
                .find(|r| r.id == a.id)
                .is_some_and(|r| {
                    r.body_json()["properties"]["disableLocalAuth"] == serde_json::Value::Bool(true)
                });
            if !has_role || !local_auth_off {
                let what = match (has_role, local_auth_off) {
                    (false, false) => {
                        "no role assignment for the APIM identity and key auth enabled"
                    }
                    (false, true) => "no role assignment for the APIM identity",
                    _ => "key (local) auth still enabled",
                };
                c.at_field(
                    "AOAI008",
                    &format!("openai.accounts[{i}]"),
                    format!("account {} behind {}: {what}", a.name, apim.name),
                );
            }
        }
        // Streaming: response bodies must not be logged (diagnostics buffer them).
        if apim.streaming {
            for r in rendered
                .resources
                .iter()
                .filter(|r| r.resource_type.ends_with("/diagnostics"))
            {
                let v = r.body_json();
                let logged = ["frontend", "backend"].iter().any(|s| {
                    v["properties"][s]["response"]["body"]["bytes"]
                        .as_u64()
                        .unwrap_or(0)
                        > 0
                });
                if logged {
                    c.at_field(
                        "AOAI013",
                        "apim.streaming",
                        format!(
                            "{} logs response bodies",
                            r.id.rsplit('/').next().unwrap_or("")
                        ),
                    );
                }
            }
        }
    }
    c.out
}

/// A product policy: the product rules, the XML rules and validation (the gateway rules of the
/// API policy, which forwards to Azure OpenAI, do not apply to it).
fn product_policy(c: &mut Ctx, file: &str, xml: &str) {
    if let Some(d) = apim_policy::too_deep(xml) {
        apim001(c, file, &d);
        return;
    }
    teams::product_policy_rules(c, file, xml);
    xml_rules::policy_xml_rules(c, file, xml);
    for d in apim_policy::validate(xml) {
        apim001(c, file, &d);
    }
}

/// A policy validation diagnostic as an `APIM001` finding.
fn apim001(c: &mut Ctx, file: &str, d: &apim_policy::Diagnostic) {
    c.at_file(
        "APIM001",
        file,
        d.line,
        d.column,
        format!("{} [{}]", d.message, d.code),
        d.help.clone(),
    );
}

/// Rules over one policy document (rendered, or passed with `lint --policy`); the rules that
/// need the architecture run only with a model.
fn policy_rules(c: &mut Ctx, m: Option<&Model>, file: &str, xml: &str) {
    // The rules walk the tree: a document nested thousands deep is reported, not walked.
    if let Some(d) = apim_policy::too_deep(xml) {
        apim001(c, file, &d);
        return;
    }
    policy_rules::policy_rules(c, m, file, xml);
    let before = c.out.len();
    xml_rules::policy_xml_rules(c, file, xml);
    // Accepting every principal is the blueprint's explicit choice (AOAI035 says so).
    let allow_any = m
        .and_then(|m| m.apim.as_ref())
        .and_then(|a| a.jwt.as_ref())
        .is_some_and(|j| j.allow_any_principal);
    if allow_any {
        let tail = c.out.split_off(before);
        c.out
            .extend(tail.into_iter().filter(|f| f.rule != "AOAI036"));
    }
    for d in apim_policy::validate(xml) {
        apim001(c, file, &d);
    }
    // Region comparisons against ARM names.
    let arm: Vec<&str> = regions::all().collect();
    for (line_no, raw_line) in xml.lines().enumerate() {
        let line = &raw_line.replace("&quot;", "\"");
        if !(line.contains("context.Deployment.Region") || line.trim_start().starts_with("case \""))
        {
            continue;
        }
        // Searched in the line as written, so the column is the file's (a quote may be `&quot;`).
        let lower = raw_line.to_lowercase();
        for name in &arm {
            // A quoted ARM name: `"westeurope"` (never part of a display name).
            let Some((at, quote)) = ["\"", "&quot;"]
                .iter()
                .find_map(|q| lower.find(&format!("{q}{name}{q}")).map(|at| (at, q.len())))
            else {
                continue;
            };
            let disp = regions::display_name(name).unwrap_or("");
            c.at_file(
                "AOAI003",
                file,
                line_no + 1,
                raw_line[..at + quote].chars().count() + 1,
                format!("region compared with the ARM name \"{name}\""),
                Some(format!("compare with \"{disp}\"")),
            );
        }
    }
    if let Some((m, apim)) = m.and_then(|m| m.apim.as_ref().map(|a| (m, a))) {
        // Multi-region routing must name every gateway region.
        let routes_by_region = xml.contains("context.Deployment.Region ==")
            || xml.contains("context.Deployment.Region.Equals(")
            || xml.contains("switch (context.Deployment.Region)");
        if apim.regions.len() > 1 && routes_by_region {
            for r in &apim.regions {
                if !xml.contains(&format!("\"{}\"", r.display)) {
                    c.at_field(
                        "AOAI014",
                        if r.region == m.location {
                            "location"
                        } else {
                            "apim.additionalRegions"
                        },
                        format!(
                            "region routing has no branch for {} ({})",
                            r.display, r.region
                        ),
                    );
                }
            }
        }
        // Every forward-request relays streams as they come.
        if apim.streaming {
            for (i, line) in xml.lines().enumerate() {
                if let Some(col) = line.find("<forward-request") {
                    if !line.contains("buffer-response=\"false\"") {
                        c.at_file(
                            "AOAI013",
                            file,
                            i + 1,
                            line[..col].chars().count() + 1,
                            "forward-request buffers the streamed response".into(),
                            None,
                        );
                    }
                }
            }
        }
    }
}

/// Lint a policy file on its own (`lint --policy FILE`): validation and region-name checks.
pub fn check_policy_file(
    loaded: &blueprint::Loaded,
    m: &Model,
    file: &str,
    xml: &str,
) -> Vec<Finding> {
    let mut c = Ctx {
        loaded: Some(loaded),
        out: Vec::new(),
    };
    policy_rules(&mut c, Some(m), file, xml);
    c.out
}

/// Lint a policy file without a blueprint (`lint --policy FILE|DIR`): validation and every rule
/// that reads only the policy.
pub fn check_policy_alone(file: &str, xml: &str) -> Vec<Finding> {
    let mut c = Ctx {
        loaded: None,
        out: Vec::new(),
    };
    if teams::is_product_policy(file) {
        product_policy(&mut c, file, xml);
    } else {
        policy_rules(&mut c, None, file, xml);
    }
    c.out
        .sort_by_key(|f| (f.location.line, f.location.column, f.rule));
    c.out
}

/// Blueprint rules, then rendered-output rules; de-duplicated by (rule, message).
pub fn all(loaded: &blueprint::Loaded, m: &Model, rendered: &Rendered) -> Vec<Finding> {
    let mut v = check_blueprint(loaded);
    // A rendered-output finding of a rule the blueprint already triggered says the same thing.
    let from_blueprint: std::collections::BTreeSet<&str> = v.iter().map(|f| f.rule).collect();
    v.extend(
        check_rendered(loaded, m, rendered)
            .into_iter()
            .filter(|f| !from_blueprint.contains(f.rule)),
    );
    let mut seen = std::collections::BTreeSet::new();
    v.retain(|f| seen.insert((f.rule, f.location.field.clone(), f.message.clone())));
    v.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(b.rule)));
    v
}

/// The policy files of `lint --policy`: each file as given, and every `*.xml` under a folder
/// (recursively, sorted), as APIOps-style repositories keep them. A folder without any is an
/// error, so a typo in a CI path does not lint nothing and pass.
pub fn policy_files(paths: &[std::path::PathBuf]) -> anyhow::Result<Vec<std::path::PathBuf>> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", dir.display()))?
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml")) {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let before = out.len();
            walk(p, &mut out)?;
            if out.len() == before {
                anyhow::bail!("--policy {}: no *.xml file in this folder", p.display());
            }
        } else if p
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("yaml") || x.eq_ignore_ascii_case("yml"))
        {
            // `--policy` takes every value after it: a blueprint written last lands here.
            anyhow::bail!(
                "--policy {}: a YAML file is not a policy; put the blueprint before --policy (aoai-arch lint BLUEPRINT --policy FILE...)",
                p.display()
            );
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// A blueprint that does not parse or validate, as a finding (rule BP001) at the file, line,
/// column and field of the error, so every output format (SARIF included) shows it.
pub fn blueprint_error(e: &blueprint::BlueprintError) -> Finding {
    let r = rule("BP001");
    Finding {
        rule: r.id,
        name: r.name,
        severity: r.severity,
        message: e.message.clone(),
        reason: r.reason,
        help: e.help.clone().unwrap_or_else(|| r.help.to_string()),
        docs: r.docs,
        location: Location {
            file: e.file.display().to_string(),
            line: e.line,
            column: e.column,
            field: (!e.field.is_empty()).then(|| e.field.clone()),
        },
        allowed: None,
    }
}
