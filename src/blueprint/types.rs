//! The blueprint file format (version 1), as users write it.
//!
//! Every struct rejects unknown fields so a misspelled key is an error with a "did you mean" hint
//! instead of a silently ignored setting. Field names are camelCase like ARM's own JSON.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One blueprint: the whole gateway architecture of one resource group.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Blueprint {
    /// Format version of this file. Only `1` exists.
    pub version: u32,
    /// Ownership id written as the `aoai-arch-blueprint` tag on every resource this blueprint
    /// creates; prune, replace and destroy act only on resources carrying it. Defaults to
    /// `<subscription>/<resourceGroup>/<API Management name, or Front Door profile name>`.
    /// Never derived from the file name: two files with one name stay apart.
    #[serde(default)]
    pub id: Option<String>,
    /// Which architecture to build.
    pub pattern: Pattern,
    /// Subscription id (a GUID).
    pub subscription: String,
    /// Resource group that holds every resource (created if missing).
    pub resource_group: String,
    /// Primary region (ARM name, e.g. `westeurope`).
    pub location: String,
    /// Tags put on every resource that supports tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Azure OpenAI accounts and their model deployment.
    pub openai: OpenAi,
    /// Private endpoints, private DNS and public network access of the AOAI accounts.
    #[serde(default)]
    pub networking: Option<Networking>,
    /// Virtual networks: created by this blueprint (`name`, address space, subnets by purpose,
    /// peerings), or existing ones it only uses (`id` and `region`, the landing-zone form).
    /// Any subnet id elsewhere in the blueprint whose network is not listed here is an
    /// existing network too; preflight reads every subnet the blueprint does not create.
    #[serde(default)]
    pub networks: Vec<Network>,
    /// API Management (patterns `apim` and `afd-apim`).
    #[serde(default)]
    pub apim: Option<Apim>,
    /// Azure Front Door Premium (patterns `afd` and `afd-apim`).
    #[serde(default)]
    pub front_door: Option<FrontDoor>,
    /// Azure AI Content Safety checked by the gateway (`llm-content-safety`) on prompts and,
    /// with `enforceOnCompletions`, completions. Patterns `apim` and `afd-apim`.
    #[serde(default)]
    pub content_safety: Option<ContentSafety>,
    /// Diagnostic settings of API Management, Front Door and the accounts into one Log
    /// Analytics workspace. On by default when `apim.logging` names a workspace.
    #[serde(default)]
    pub diagnostics: Option<Diagnostics>,
    /// Lint rules allowed for this blueprint, each with a reason.
    #[serde(default)]
    pub lint: Option<LintSettings>,
    /// Teams calling the gateway (patterns `apim` and `afd-apim`): one API Management product
    /// each, with a subscription per app (or one for the team), token limits and a model
    /// allow-list in the product policy.
    #[serde(default)]
    pub teams: Vec<Team>,
    /// Prices per deployment, for the chargeback query: `{ <deployment>: { inputPer1M,
    /// outputPer1M } }` in the currency of your bill.
    #[serde(default)]
    pub pricing: BTreeMap<String, Price>,
    /// What happens to resources this blueprint owns once it no longer declares them.
    #[serde(default)]
    pub lifecycle: Option<Lifecycle>,
}

/// `lifecycle`: by default `apply` deletes what this blueprint owns (by its ownership tag, or
/// as a child of an owned resource pointing at what is deleted) and no longer declares, after
/// the plan shows it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Lifecycle {
    /// Resources kept when no longer declared: a name (`aoai-weu-2`, every such resource),
    /// a type and name (`accounts/aoai-weu-2`), or a full ARM id. Same as `apply --keep`.
    #[serde(default)]
    pub keep: Vec<String>,
}

/// One team: an API Management product (`name` is the product id).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Team {
    /// Product id and subscription name (letters, digits, `-`, `_` and `.`, starting and ending
    /// with a letter or digit, at most 256 characters; unique without case).
    pub name: String,
    /// Tokens per minute for the whole team (prompt + completion), counted by each gateway
    /// region on its own.
    pub tokens_per_minute: u32,
    /// Tokens per fixed calendar window (UTC); over it callers get 403 until the next window.
    #[serde(default)]
    pub token_quota: Option<TokenQuota>,
    /// Deployment names the team may call; any other gets 403.
    pub models: Vec<String>,
    /// Applications of the team: one subscription each with its own limit. Absent: one
    /// subscription for the team.
    #[serde(default)]
    pub apps: Vec<TeamApp>,
    /// Microsoft Entra client application ids (`azp` of v2.0 tokens, `appid` of v1.0) whose
    /// calls count as this team's when `apim.jwt` is set (tokens carry no product).
    #[serde(default)]
    pub client_applications: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenQuota {
    pub tokens: u64,
    pub period: QuotaPeriod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum QuotaPeriod {
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

impl QuotaPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaPeriod::Hourly => "Hourly",
            QuotaPeriod::Daily => "Daily",
            QuotaPeriod::Weekly => "Weekly",
            QuotaPeriod::Monthly => "Monthly",
            QuotaPeriod::Yearly => "Yearly",
        }
    }
    /// The shortest window of the period, in minutes (a 28-day month, a 365-day year).
    pub fn min_minutes(self) -> u64 {
        match self {
            QuotaPeriod::Hourly => 60,
            QuotaPeriod::Daily => 1440,
            QuotaPeriod::Weekly => 7 * 1440,
            QuotaPeriod::Monthly => 28 * 1440,
            QuotaPeriod::Yearly => 365 * 1440,
        }
    }
}

/// One application of a team: a subscription of the team's product with its own limit.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TeamApp {
    /// The app's subscription is `<team>-<app>` (letters, digits, `-`, `_` and `.`).
    pub name: String,
    /// Tokens per minute for this app's subscription (within the team's).
    pub tokens_per_minute: u32,
}

/// Price of one deployment's tokens.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Price {
    /// Price of one million prompt tokens.
    #[serde(rename = "inputPer1M")]
    pub input_per_1m: f64,
    /// Price of one million completion tokens.
    #[serde(rename = "outputPer1M")]
    pub output_per_1m: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Pattern {
    /// Front Door Premium balancing AOAI accounts directly.
    #[serde(rename = "afd")]
    Afd,
    /// API Management in front of AOAI accounts.
    #[serde(rename = "apim")]
    Apim,
    /// Front Door in front of a multi-region API Management.
    #[serde(rename = "afd-apim")]
    AfdApim,
}

impl Pattern {
    pub fn as_str(self) -> &'static str {
        match self {
            Pattern::Afd => "afd",
            Pattern::Apim => "apim",
            Pattern::AfdApim => "afd-apim",
        }
    }
    pub fn has_apim(self) -> bool {
        matches!(self, Pattern::Apim | Pattern::AfdApim)
    }
    pub fn has_front_door(self) -> bool {
        matches!(self, Pattern::Afd | Pattern::AfdApim)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenAi {
    /// Resource kind of every account that does not set its own: `AIServices` (a Microsoft
    /// Foundry resource, the default for new blueprints) or `OpenAI` (a classic Azure OpenAI
    /// resource). The kind is immutable in Azure: keep `OpenAI` for accounts already deployed.
    #[serde(default)]
    pub kind: Option<AccountKind>,
    /// One model deployment created on every account: the shorthand of a one-entry
    /// `deployments` list. Exactly one of `deployment` and `deployments` is set.
    #[serde(default)]
    pub deployment: Option<Deployment>,
    /// The model deployments (chat, embeddings, a provisioned one spilling over, ...). Every
    /// account gets all of them unless its `deployments` names a subset; the gateway routes
    /// each request to the accounts that serve the deployment it names.
    #[serde(default)]
    pub deployments: Vec<Deployment>,
    /// Custom content filters (RAI policies), created on every account that serves a
    /// deployment naming one in `raiPolicy`.
    #[serde(default)]
    pub rai_policies: Vec<RaiPolicy>,
    /// The accounts (at least one).
    pub accounts: Vec<Account>,
    /// Key (local) authentication on the accounts. Default: off where no caller needs a key:
    /// in `afd` (callers use Microsoft Entra tokens, see `callers`) and behind a gateway with a
    /// managed identity. A key is valid on one account only, so keys behind Front Door's
    /// balancing fail on every other account.
    #[serde(default)]
    pub local_auth: Option<bool>,
    /// Principals that call the accounts with Microsoft Entra tokens (pattern `afd`): each gets
    /// the Cognitive Services OpenAI User role on every account.
    #[serde(default)]
    pub callers: Vec<Caller>,
}

/// A principal granted the data-plane role on every account.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Caller {
    /// Object id of the user, group or service principal (a GUID).
    pub principal_id: String,
    /// `User`, `Group` or `ServicePrincipal` (a managed identity is a `ServicePrincipal`).
    pub principal_type: PrincipalType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum PrincipalType {
    User,
    Group,
    ServicePrincipal,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::User => "User",
            PrincipalType::Group => "Group",
            PrincipalType::ServicePrincipal => "ServicePrincipal",
        }
    }
}

/// Where resource logs go (`Microsoft.Insights/diagnosticSettings`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Diagnostics {
    /// Log Analytics workspace name (created in the resource group). With `apim.logging` it
    /// must be that workspace (its default); pattern `afd` has no other.
    #[serde(default)]
    pub log_analytics: Option<String>,
    /// Retention of the workspace when this section creates it (30-730 days).
    #[serde(default = "default_retention")]
    pub retention_days: u32,
}

/// A custom content filter (`Microsoft.CognitiveServices/accounts/raiPolicies`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RaiPolicy {
    /// Policy name (letters, digits, `_`, `.`, `-`), named by `openai.deployments[].raiPolicy`.
    pub name: String,
    /// The Microsoft policy it starts from (default `Microsoft.DefaultV2`).
    #[serde(default)]
    pub base_policy_name: Option<String>,
    /// `Default`, `Deferred`, `Blocking` or `Asynchronous_filter` (streaming).
    #[serde(default)]
    pub mode: Option<RaiMode>,
    /// The filters it sets, each for prompts or completions.
    #[serde(default)]
    pub content_filters: Vec<RaiContentFilter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum RaiMode {
    Default,
    Deferred,
    Blocking,
    #[serde(rename = "Asynchronous_filter")]
    AsynchronousFilter,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RaiContentFilter {
    /// Filter name: `Hate`, `Sexual`, `Violence`, `Selfharm`, `Jailbreak`, `Protected Material Text`, ...
    pub name: String,
    /// `Prompt` or `Completion`.
    pub source: RaiSource,
    /// `Low`, `Medium` or `High` (severity filters).
    #[serde(default)]
    pub severity_threshold: Option<RaiSeverity>,
    #[serde(default = "yes")]
    pub blocking: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum RaiSource {
    Prompt,
    Completion,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum RaiSeverity {
    Low,
    Medium,
    High,
}

impl OpenAi {
    /// Every deployment of the blueprint, in file order (the shorthand counts as a list of one).
    pub fn all_deployments(&self) -> Vec<&Deployment> {
        self.deployment
            .iter()
            .chain(self.deployments.iter())
            .collect()
    }

    /// The blueprint field of deployment `i` of [`OpenAi::all_deployments`].
    pub fn deployment_field(&self, i: usize) -> String {
        if self.deployment.is_some() {
            "openai.deployment".into()
        } else {
            format!("openai.deployments[{i}]")
        }
    }

    /// The first deployment: what single-deployment checks and messages name.
    pub fn first_deployment(&self) -> &Deployment {
        self.all_deployments()
            .first()
            .copied()
            .expect("a validated blueprint has a deployment")
    }

    /// The SKU deployment `d` has on account `a`: the account's `skus` entry, else its own.
    pub fn sku_on<'a>(a: &'a Account, d: &'a Deployment) -> &'a DeploymentSku {
        a.skus.get(&d.name).unwrap_or(&d.sku)
    }

    /// The deployments account `a` serves: its `deployments` subset, else all of them.
    pub fn deployments_of<'a>(&'a self, a: &Account) -> Vec<&'a Deployment> {
        self.all_deployments()
            .into_iter()
            .filter(|d| {
                a.deployments
                    .as_ref()
                    .is_none_or(|only| only.contains(&d.name))
            })
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deployment {
    /// Deployment name, shared by every account (clients call `/openai/deployments/<name>/...`).
    pub name: String,
    pub model: Model,
    pub sku: DeploymentSku,
    /// Native spillover (provisioned SKUs only): the name of a standard deployment of the same
    /// account and data-processing level (Global, DataZone, regional) that serves the requests
    /// this deployment would have answered with 429 (`properties.spilloverDeploymentName`).
    #[serde(default)]
    pub spillover: Option<String>,
    /// Content filter (RAI policy) of the deployment: `Microsoft.DefaultV2` (the default),
    /// `Microsoft.Default`, or the name of one of `openai.raiPolicies`.
    #[serde(default)]
    pub rai_policy: Option<String>,
    /// What Azure does with the deployment when a new default version comes or its version is
    /// retired (`properties.versionUpgradeOption`); default `NoAutoUpgrade`, which stops the
    /// deployment at retirement (see README, Model lifecycle).
    #[serde(default)]
    pub version_upgrade_option: Option<VersionUpgradeOption>,
}

/// `properties.versionUpgradeOption` of a deployment
/// (learn.microsoft.com/azure/foundry/foundry-models/concepts/model-versions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
pub enum VersionUpgradeOption {
    /// Moves to the new default version once Azure makes one the default.
    OnceNewDefaultVersionAvailable,
    /// Stays on the version until it is retired, then moves to the default version.
    OnceCurrentVersionExpired,
    /// Never moves: at retirement the deployment stops working.
    #[default]
    NoAutoUpgrade,
}

impl VersionUpgradeOption {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionUpgradeOption::OnceNewDefaultVersionAvailable => {
                "OnceNewDefaultVersionAvailable"
            }
            VersionUpgradeOption::OnceCurrentVersionExpired => "OnceCurrentVersionExpired",
            VersionUpgradeOption::NoAutoUpgrade => "NoAutoUpgrade",
        }
    }
}

/// The data-processing level of a deployment SKU: native spillover stays within one.
pub fn processing_level(sku: &str) -> &'static str {
    if sku.starts_with("Global") {
        "Global"
    } else if sku.starts_with("DataZone") {
        "DataZone"
    } else {
        "Regional"
    }
}

/// A provisioned-throughput (PTU) deployment SKU.
pub fn is_provisioned(sku: &str) -> bool {
    sku.ends_with("ProvisionedManaged")
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Model {
    /// Model name, e.g. `gpt-4o`.
    pub name: String,
    /// Model version, e.g. `2024-11-20`.
    pub version: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentSku {
    /// Deployment type: `GlobalStandard`, `DataZoneStandard`, `Standard`,
    /// `GlobalProvisionedManaged`, `DataZoneProvisionedManaged`, `ProvisionedManaged`,
    /// `GlobalBatch`, `DataZoneBatch`, `DeveloperTier` (data/capabilities/deployment-types.json).
    /// A name a typo away from one of them is an error; another name Azure may have added
    /// since is a lint warning (AOAI100).
    #[schemars(schema_with = "super::vocab::deployment_type_schema")]
    pub name: String,
    /// Capacity in thousands of tokens per minute (or PTUs for provisioned SKUs).
    pub capacity: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Account {
    /// Account resource name (2-64 characters: letters, digits, hyphens).
    pub name: String,
    /// ARM region name, e.g. `swedencentral`.
    pub region: String,
    /// Custom subdomain (`<subdomain>.openai.azure.com`); defaults to the account name.
    #[serde(default)]
    pub custom_subdomain: Option<String>,
    /// Resource kind of this account; defaults to `openai.kind` (itself `AIServices`).
    #[serde(default)]
    pub kind: Option<AccountKind>,
    /// Deployment name on this account when it differs from `openai.deployment.name`.
    #[serde(default)]
    pub deployment_name: Option<String>,
    /// The deployments (by name) this account serves; absent: all of them.
    #[serde(default)]
    pub deployments: Option<Vec<String>>,
    /// This account's SKU of a deployment, by deployment name, instead of the deployment's own
    /// `sku`: provisioned throughput (e.g. `ProvisionedManaged`) on one account and pay-as-you-go
    /// on the others. A deployment's `spillover` applies on the accounts where its SKU is
    /// provisioned; the gateway's pool of the deployment puts its provisioned members first.
    #[serde(default)]
    pub skus: std::collections::BTreeMap<String, DeploymentSku>,
    /// Load-balancing weight (1-1000) for weighted pools and Front Door origins.
    #[serde(default)]
    pub weight: Option<u32>,
    /// Priority (1-5; lower is preferred) for priority pools and Front Door origins.
    #[serde(default)]
    pub priority: Option<u32>,
}

/// The `kind` of a `Microsoft.CognitiveServices/accounts` resource that serves Azure OpenAI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
pub enum AccountKind {
    /// Classic Azure OpenAI resource: endpoint `<subdomain>.openai.azure.com`, private DNS zone
    /// `privatelink.openai.azure.com`.
    OpenAI,
    /// Microsoft Foundry resource: endpoint `<subdomain>.cognitiveservices.azure.com`, also
    /// `<subdomain>.openai.azure.com` and `<subdomain>.services.ai.azure.com`; its private
    /// endpoint needs the three matching `privatelink.` zones.
    #[default]
    AIServices,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::OpenAI => "OpenAI",
            AccountKind::AIServices => "AIServices",
        }
    }
    /// The private DNS zones a private endpoint of this kind (group id `account`) registers in.
    pub fn private_dns_zones(self) -> &'static [&'static str] {
        match self {
            AccountKind::OpenAI => &["privatelink.openai.azure.com"],
            AccountKind::AIServices => &[
                "privatelink.cognitiveservices.azure.com",
                "privatelink.openai.azure.com",
                "privatelink.services.ai.azure.com",
            ],
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Networking {
    /// `Enabled` or `Disabled` public network access on the AOAI accounts.
    #[serde(default)]
    pub public_network_access: Option<PublicNetworkAccess>,
    /// One private endpoint per listed account.
    #[serde(default)]
    pub private_endpoints: Vec<PrivateEndpointSpec>,
    /// The private DNS zones the accounts' kinds need (`privatelink.openai.azure.com`; for
    /// `AIServices` also `privatelink.cognitiveservices.azure.com` and
    /// `privatelink.services.ai.azure.com`) and the VNets linked to each.
    #[serde(default)]
    pub private_dns: Option<PrivateDns>,
}

/// A virtual network of the blueprint: created (`name`) or existing (`id`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Network {
    /// Name of a network this blueprint creates in its resource group (2-64 characters:
    /// letters, digits, `-`, `_`, `.`). Subnet ids elsewhere in the blueprint name it as
    /// `/subscriptions/<subscription>/resourceGroups/<resourceGroup>/providers/Microsoft.Network/virtualNetworks/<name>/subnets/<subnet>`.
    #[serde(default)]
    pub name: Option<String>,
    /// Resource id of an existing network (landing zone): never written; preflight reads its
    /// subnets before any write. Not with `name`, `addressSpace`, `subnets` or `peerings`.
    #[serde(default)]
    pub id: Option<String>,
    /// ARM region of the network (default: `location`). Private endpoints in it are placed
    /// in this region; API Management joins only a network of its own region.
    #[serde(default)]
    pub region: Option<String>,
    /// IPv4 address prefixes (CIDR) of a created network, e.g. `10.10.0.0/16`.
    #[serde(default)]
    pub address_space: Vec<String>,
    /// Subnets of a created network, each with the purpose that decides its delegation and
    /// network security group.
    #[serde(default)]
    pub subnets: Vec<SubnetSpec>,
    /// Names of other networks this blueprint creates to peer with; both directions are
    /// rendered (a peering works only when both sides exist).
    #[serde(default)]
    pub peerings: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubnetSpec {
    /// Subnet name (1-80 characters).
    pub name: String,
    /// IPv4 prefix (CIDR) inside the network's address space.
    pub address_prefix: String,
    /// What the subnet is for.
    pub purpose: SubnetPurpose,
}

/// What a subnet is for; it decides what the subnet needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum SubnetPurpose {
    /// Private endpoints (of the accounts, of API Management): no delegation, no network
    /// security group needed.
    #[serde(rename = "privateEndpoints")]
    PrivateEndpoints,
    /// Classic API Management injection (Developer, Premium): no delegation, /29 or larger,
    /// a network security group with the rules API Management requires (rendered).
    #[serde(rename = "apimInjection")]
    ApimInjection,
    /// API Management v2 outbound integration (Standard v2, Premium v2): delegated to
    /// `Microsoft.Web/serverFarms`, dedicated, /27 or larger, with a network security group.
    #[serde(rename = "apimIntegration")]
    ApimIntegration,
}

impl SubnetPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            SubnetPurpose::PrivateEndpoints => "privateEndpoints",
            SubnetPurpose::ApimInjection => "apimInjection",
            SubnetPurpose::ApimIntegration => "apimIntegration",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum PublicNetworkAccess {
    Enabled,
    Disabled,
}

impl PublicNetworkAccess {
    pub fn as_str(self) -> &'static str {
        match self {
            PublicNetworkAccess::Enabled => "Enabled",
            PublicNetworkAccess::Disabled => "Disabled",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrivateEndpointSpec {
    /// Name of the account in `openai.accounts`.
    pub account: String,
    /// Resource id of the subnet. The private endpoint is placed in the region of the
    /// subnet's network (which may differ from the account's).
    pub subnet_id: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrivateDns {
    /// Resource ids of the virtual networks to link to the zone.
    #[serde(default)]
    pub vnet_links: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Apim {
    /// Service name (1-50 characters, starts with a letter: `<name>.azure-api.net`).
    pub name: String,
    pub sku: ApimSku,
    pub publisher: Publisher,
    /// Extra gateway regions (Premium only).
    #[serde(default)]
    pub additional_regions: Vec<ApimRegion>,
    /// More API Management services with this one's configuration (tier, APIs, policy, named
    /// values, loggers, backends), one per region: the multi-region form of tiers without
    /// additional regions (Standard v2). Pattern `afd-apim` only; each is a Front Door origin.
    #[serde(default)]
    pub instances: Vec<ApimInstance>,
    /// The virtual network of the gateway: classic injection (Developer, Premium), outbound
    /// integration (Standard v2, Premium v2: `External` with a subnet delegated to
    /// Microsoft.Web/serverFarms). Absent: no virtual network.
    #[serde(default)]
    pub network: Option<ApimNetwork>,
    /// Weight/priority of the primary region's gateway as a Front Door origin.
    #[serde(default)]
    pub primary_weight: Option<u32>,
    #[serde(default)]
    pub primary_priority: Option<u32>,
    #[serde(default)]
    pub load_balancing: LoadBalancing,
    #[serde(default)]
    pub auth: ApimAuth,
    #[serde(default)]
    pub jwt: Option<Jwt>,
    #[serde(default)]
    pub logging: Option<Logging>,
    #[serde(default)]
    pub budget: Option<Budget>,
    /// Named values created in APIM (plain, not secret). Referenced in policies as `{{name}}`.
    #[serde(default)]
    pub named_values: BTreeMap<String, String>,
    /// Clients may stream responses (`"stream": true`, server-sent events). Every
    /// `forward-request` relays responses unbuffered and the policy reads a response body only
    /// when it is not a stream (`Content-Type: text/event-stream`), whatever this says; `true`
    /// (the default) also keeps response bodies out of the API diagnostic, which cannot tell a
    /// stream from an answer and would buffer every stream. `false`: no client streams, and the
    /// diagnostic logs response bodies too.
    #[serde(default = "yes")]
    pub streaming: bool,
    /// Seconds `forward-request` waits for a backend's response headers (`timeout`), per
    /// attempt. Behind Front Door the whole retry loop, (retries + 1) x this + the retry
    /// intervals, must end before `frontDoor.originTimeoutSeconds`, or Front Door answers 504
    /// first (lint AOAI044). Default: 230 without Front Door; behind it the longest value whose
    /// worst case stays below Front Door's timeout with the pool's retry settings.
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApimSku {
    pub name: ApimSkuName,
    #[serde(default = "one")]
    pub capacity: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum ApimSkuName {
    Developer,
    Basic,
    Standard,
    Premium,
    BasicV2,
    StandardV2,
    PremiumV2,
}

impl ApimSkuName {
    pub fn as_str(self) -> &'static str {
        match self {
            ApimSkuName::Developer => "Developer",
            ApimSkuName::Basic => "Basic",
            ApimSkuName::Standard => "Standard",
            ApimSkuName::Premium => "Premium",
            ApimSkuName::BasicV2 => "BasicV2",
            ApimSkuName::StandardV2 => "StandardV2",
            ApimSkuName::PremiumV2 => "PremiumV2",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Publisher {
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApimRegion {
    /// ARM region name.
    pub region: String,
    #[serde(default = "one")]
    pub capacity: u32,
    /// Weight of this regional gateway as a Front Door origin.
    #[serde(default)]
    pub weight: Option<u32>,
    /// Priority of this regional gateway as a Front Door origin.
    #[serde(default)]
    pub priority: Option<u32>,
    /// Subnet of this region's gateway (a VNet in this region) when `apim.network` is set.
    #[serde(default)]
    pub subnet_id: Option<String>,
}

/// One more API Management service of `apim.instances`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApimInstance {
    /// Service name (globally unique, like `apim.name`).
    pub name: String,
    /// ARM region name; at least one account must be in it.
    pub region: String,
    /// Scale units (default: `apim.sku.capacity`).
    #[serde(default)]
    pub capacity: Option<u32>,
    /// This instance's network (its subnets are in its region); default: none.
    #[serde(default)]
    pub network: Option<ApimNetwork>,
    /// Weight of this gateway as a Front Door origin.
    #[serde(default)]
    pub weight: Option<u32>,
    /// Priority of this gateway as a Front Door origin.
    #[serde(default)]
    pub priority: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApimNetwork {
    /// `External` (gateway reachable from the internet) or `Internal` (only from the network,
    /// classic injection only). Used with `subnetId`.
    #[serde(default)]
    pub mode: ApimVnetMode,
    /// Resource id of the primary region's subnet: classic injection (Developer, Premium: an
    /// undelegated subnet with a network security group) or v2 outbound integration (Standard
    /// v2, Premium v2: a subnet delegated to `Microsoft.Web/serverFarms`). Absent: the gateway
    /// is in no virtual network.
    #[serde(default)]
    pub subnet_id: Option<String>,
    /// Inbound private endpoint (group id `Gateway`, zone `privatelink.azure-api.net`): callers
    /// in a virtual network reach the gateway privately. Not on classic instances injected in a
    /// virtual network, nor on Basic v2.
    #[serde(default)]
    pub private_endpoint: Option<ApimPrivateEndpoint>,
    /// `Disabled` locks the gateway down to its private endpoint connections (its own private
    /// endpoint, Front Door's Private Link). Azure refuses `Disabled` when the service is
    /// created, so apply creates it with public access and disables it in a second step, after
    /// the connections are approved. `Enabled` turns a lock-down off again; absent, apply
    /// leaves the service's setting as it is.
    #[serde(default)]
    pub public_network_access: Option<PublicNetworkAccess>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApimPrivateEndpoint {
    /// Resource id of the subnet of the private endpoint (in the gateway's region).
    pub subnet_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
pub enum ApimVnetMode {
    #[default]
    External,
    Internal,
}

impl ApimVnetMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ApimVnetMode::External => "External",
            ApimVnetMode::Internal => "Internal",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadBalancing {
    /// `pool` (native backend pool) or `round-robin` (cache-counter policy across N backends).
    #[serde(default)]
    pub mode: LbMode,
    /// Pool flavour when `mode: pool`.
    #[serde(default)]
    pub pool_type: PoolType,
    #[serde(default)]
    pub retry: Retry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
pub enum LbMode {
    #[default]
    #[serde(rename = "pool")]
    Pool,
    #[serde(rename = "round-robin")]
    RoundRobin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
pub enum PoolType {
    #[default]
    #[serde(rename = "round-robin")]
    RoundRobin,
    #[serde(rename = "weighted")]
    Weighted,
    #[serde(rename = "priority")]
    Priority,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Retry {
    /// Extra attempts after the first one.
    #[serde(default = "default_retry_count")]
    pub count: u32,
    /// Seconds between attempts.
    #[serde(default = "one")]
    pub interval: u32,
    /// Which statuses are retried: `transient` (429 and 5xx) or `any-error` (>= 400, replays 4xx).
    #[serde(default)]
    pub on: RetryOn,
    /// Buffer the request body so a retry can resend it.
    #[serde(default = "yes")]
    pub buffer_request_body: bool,
}

fn default_retry_count() -> u32 {
    2
}
fn yes() -> bool {
    true
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            count: default_retry_count(),
            interval: 1,
            on: RetryOn::Transient,
            buffer_request_body: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
pub enum RetryOn {
    #[default]
    #[serde(rename = "transient")]
    Transient,
    #[serde(rename = "any-error")]
    AnyError,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApimAuth {
    /// APIM calls AOAI with its system-assigned identity (and AOAI key auth is disabled).
    #[serde(default = "yes")]
    pub managed_identity: bool,
}

impl Default for ApimAuth {
    fn default() -> Self {
        ApimAuth {
            managed_identity: true,
        }
    }
}

/// Caller token validation. Two forms:
///
/// - Microsoft Entra (`tenantId`): renders `validate-azure-ad-token`, which accepts the issuers of
///   both token versions of the tenant; the audiences follow `tokenVersions`. Which version a
///   caller gets is set on the API's app registration (`requestedAccessTokenVersion` in the
///   Microsoft Graph `api` object, `accessTokenAcceptedVersion` in the manifest): `2` issues v2.0
///   tokens (`iss` `https://login.microsoftonline.com/<tenant>/v2.0`, `aud` the client id), `null`
///   or `1` issues v1.0 tokens (`iss` `https://sts.windows.net/<tenant>/`, `aud` the App ID URI).
/// - Any OpenID Connect issuer (`openidConfig` + `audiences` / `issuers`): renders `validate-jwt`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Jwt {
    /// Microsoft Entra tenant id (a GUID): validate Entra tokens with `validate-azure-ad-token`.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Application (client) id of the gateway's app registration: the `aud` of v2.0 tokens.
    #[serde(default)]
    pub client_id: Option<String>,
    /// App ID URI of the gateway's app registration (`api://...`): the `aud` of v1.0 tokens.
    #[serde(default)]
    pub app_id_uri: Option<String>,
    /// Token versions accepted with `tenantId` (default `[v2]`).
    #[serde(default = "default_token_versions")]
    pub token_versions: Vec<TokenVersion>,
    /// OpenID configuration URL of the token issuer (`validate-jwt`; not with `tenantId`).
    #[serde(default)]
    pub openid_config: Option<String>,
    #[serde(default)]
    pub audiences: Vec<String>,
    #[serde(default)]
    pub issuers: Vec<String>,
    /// Header that receives the caller's object id (`oid` claim). The gateway removes any
    /// value a client sent before it sets its own, so logs and the backend see only the
    /// validated one.
    #[serde(default = "default_caller_header")]
    pub caller_header: String,
    /// Client applications allowed to call (application (client) ids; with `tenantId`
    /// rendered as `client-application-ids`, with `validate-jwt` as a required `azp` claim).
    #[serde(default)]
    pub client_applications: Vec<String>,
    /// App roles a caller must hold, at least one of them (`roles` claim, `match="any"`).
    #[serde(default)]
    pub required_roles: Vec<String>,
    /// Accept every principal the issuer (with `tenantId`: every user and application of the
    /// tenant) gives a token for this audience. Must be said explicitly; lint AOAI035 warns.
    #[serde(default)]
    pub allow_any_principal_of_tenant: bool,
}

/// Microsoft Entra access token version.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
pub enum TokenVersion {
    /// v1.0: `iss` `https://sts.windows.net/<tenant>/`, `aud` the App ID URI.
    #[serde(rename = "v1")]
    V1,
    /// v2.0: `iss` `https://login.microsoftonline.com/<tenant>/v2.0`, `aud` the client id.
    #[serde(rename = "v2")]
    V2,
}

fn default_token_versions() -> Vec<TokenVersion> {
    vec![TokenVersion::V2]
}

fn default_caller_header() -> String {
    "caller-objectid".to_string()
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Logging {
    /// Application Insights component name.
    pub app_insights: String,
    /// Log Analytics workspace name.
    pub log_analytics: String,
    #[serde(default = "default_retention")]
    pub retention_days: u32,
    /// Bytes of request/response body logged by APIM diagnostics (at most 8192).
    #[serde(default = "default_body_bytes")]
    pub body_bytes: u32,
    /// Emit token-usage metrics (`azure-openai-emit-token-metric`).
    #[serde(default = "yes")]
    pub token_metrics: bool,
    /// Event Hub for bodies larger than `bodyBytes`.
    #[serde(default)]
    pub event_hub: Option<EventHub>,
}

fn default_retention() -> u32 {
    30
}
fn default_body_bytes() -> u32 {
    8192
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventHub {
    /// Event Hubs namespace name (6-50 characters).
    pub namespace: String,
    /// Event hub name.
    pub name: String,
    /// Throughput units always provisioned (1 TU: 1 MB/s or 1000 events/s of ingress).
    /// Default: what `expectedLoad` needs, else 1.
    #[serde(default)]
    pub throughput_units: Option<u32>,
    /// Auto-inflate ceiling (Standard: at most 40). Default: twice the base, at least 4.
    #[serde(default)]
    pub max_throughput_units: Option<u32>,
    /// Partitions of the event hub (Standard: 1-32). Default: the ceiling, 4 to 32.
    #[serde(default)]
    pub partitions: Option<u32>,
    /// Peak load of bodies sent to Event Hub, which sizes the namespace; lint warns when it
    /// exceeds what the namespace and partitions ingest.
    #[serde(default)]
    pub expected_load: Option<ExpectedLoad>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectedLoad {
    /// Requests per second whose bodies exceed `bodyBytes` (each one Event Hub message) at peak.
    pub requests_per_second: u32,
    /// Average bytes of request plus response body of those requests (a message carries at
    /// most 200 KB: larger bodies are shortened).
    pub body_bytes: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Budget {
    pub name: String,
    /// Amount in the billing currency, whole units.
    pub amount: u64,
    /// First day of a month, `YYYY-MM-01`.
    pub start_date: String,
    /// Percentages of the amount that send a notification.
    pub thresholds: Vec<u32>,
    pub contact_emails: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FrontDoor {
    /// Profile name (Premium tier).
    pub profile: String,
    /// Endpoint name (`<name>-<hash>.z01.azurefd.net`).
    pub endpoint: String,
    #[serde(default)]
    pub origin_group: OriginGroup,
    /// Seconds Front Door waits for an origin (16-240).
    #[serde(default = "default_origin_timeout")]
    pub origin_timeout_seconds: u32,
    /// Reach origins over Private Link (only APIM in `afd-apim`).
    #[serde(default)]
    pub private_link: bool,
    pub waf: Waf,
    #[serde(default)]
    pub custom_domain: Option<CustomDomain>,
}

fn default_origin_timeout() -> u32 {
    240
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OriginGroup {
    #[serde(default = "default_origin_group_name")]
    pub name: String,
    #[serde(default)]
    pub probe: Probe,
    /// Number of samples considered for health.
    #[serde(default = "default_sample_size")]
    pub sample_size: u32,
    #[serde(default = "default_successful_samples")]
    pub successful_samples_required: u32,
    /// Origins within this latency of the fastest share traffic.
    #[serde(default = "default_additional_latency")]
    pub additional_latency_ms: u32,
}

fn default_origin_group_name() -> String {
    "aoai".to_string()
}
fn default_sample_size() -> u32 {
    4
}
fn default_successful_samples() -> u32 {
    3
}
fn default_additional_latency() -> u32 {
    50
}

impl Default for OriginGroup {
    fn default() -> Self {
        OriginGroup {
            name: default_origin_group_name(),
            probe: Probe::default(),
            sample_size: default_sample_size(),
            successful_samples_required: default_successful_samples(),
            additional_latency_ms: default_additional_latency(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Probe {
    /// Path probed on each origin. Default: `/status-0123456789abcdef` in `afd` (the account's
    /// front end); in `afd-apim` the gateway's health operation (`/aoai-health/backends`),
    /// which answers 200 only while a local account can serve.
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub protocol: ProbeProtocol,
    #[serde(default)]
    pub method: ProbeMethod,
    #[serde(default = "default_probe_interval")]
    pub interval_seconds: u32,
    /// `afd-apim`: seconds a gateway region keeps the result of its check of the local
    /// accounts (1-60), which bounds the calls the probes cause on the accounts.
    #[serde(default = "default_health_cache")]
    pub cache_seconds: u32,
}

fn default_health_cache() -> u32 {
    10
}

pub const STATUS_PATH: &str = "/status-0123456789abcdef";
/// The gateway's health operation in `afd-apim` (API path `aoai-health`, operation `backends`).
pub const HEALTH_PATH: &str = "/aoai-health/backends";
fn default_probe_interval() -> u32 {
    30
}

impl Default for Probe {
    fn default() -> Self {
        Probe {
            path: None,
            protocol: ProbeProtocol::Https,
            method: ProbeMethod::Get,
            interval_seconds: default_probe_interval(),
            cache_seconds: default_health_cache(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
pub enum ProbeProtocol {
    Http,
    #[default]
    Https,
}

impl ProbeProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeProtocol::Http => "Http",
            ProbeProtocol::Https => "Https",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
pub enum ProbeMethod {
    #[default]
    #[serde(rename = "GET")]
    Get,
    #[serde(rename = "HEAD")]
    Head,
}

impl ProbeMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeMethod::Get => "GET",
            ProbeMethod::Head => "HEAD",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Waf {
    /// Policy name (letters and digits only, starts with a letter).
    pub name: String,
    #[serde(default)]
    pub mode: WafMode,
    /// Managed rule sets; defaults to the default rule set 2.1 and bot manager 1.1.
    #[serde(default = "default_rule_sets")]
    pub managed_rule_sets: Vec<ManagedRuleSet>,
    /// JSON body fields that carry prompts, excluded from the default rule set's inspection
    /// (a `RequestBodyJsonArgNames` exclusion, operator `StartsWith`, on every
    /// `Microsoft_DefaultRuleSet` 2.x): prompts that contain code or SQL are not blocked, the
    /// rest of the request still is. `[]` turns the exclusions off.
    #[serde(default = "default_prompt_fields")]
    pub prompt_fields: Vec<String>,
}

fn default_prompt_fields() -> Vec<String> {
    ["messages", "input", "prompt", "instructions"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
pub enum WafMode {
    #[default]
    Prevention,
    Detection,
}

impl WafMode {
    pub fn as_str(self) -> &'static str {
        match self {
            WafMode::Prevention => "Prevention",
            WafMode::Detection => "Detection",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagedRuleSet {
    /// e.g. `Microsoft_DefaultRuleSet`, `Microsoft_BotManagerRuleSet`.
    #[serde(rename = "type")]
    pub rule_set_type: String,
    pub version: String,
    /// `Block`, `Log` or `Redirect` (default rule set 2.x only).
    #[serde(default)]
    pub action: Option<RuleSetAction>,
}

/// `ruleSetAction` of a Front Door WAF managed rule set: the values ARM's schema allows
/// (`ManagedRuleSet.ruleSetAction`, Microsoft.Network.FrontDoor 2025-11-01 of
/// Azure/azure-resource-manager-schemas, read 2026-12-06).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum RuleSetAction {
    Block,
    Log,
    Redirect,
}

impl RuleSetAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleSetAction::Block => "Block",
            RuleSetAction::Log => "Log",
            RuleSetAction::Redirect => "Redirect",
        }
    }
}

fn default_rule_sets() -> Vec<ManagedRuleSet> {
    vec![
        ManagedRuleSet {
            rule_set_type: "Microsoft_DefaultRuleSet".into(),
            version: "2.1".into(),
            action: Some(RuleSetAction::Block),
        },
        ManagedRuleSet {
            rule_set_type: "Microsoft_BotManagerRuleSet".into(),
            version: "1.1".into(),
            action: None,
        },
    ]
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomDomain {
    /// Resource name of the custom domain (letters, digits, hyphens).
    pub name: String,
    /// The host name clients use, e.g. `ai.contoso.com`.
    pub host_name: String,
    /// Only `managed` (Front Door managed certificate) is supported.
    #[serde(default)]
    pub certificate: CertificateKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
pub enum CertificateKind {
    #[default]
    #[serde(rename = "managed")]
    Managed,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LintSettings {
    #[serde(default)]
    pub allow: Vec<LintAllow>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LintAllow {
    /// Rule id, e.g. `AOAI004`.
    pub rule: String,
    /// Why this blueprint may break the rule.
    pub reason: String,
}

/// `contentSafety:` an Azure AI Content Safety account the gateway calls with its managed
/// identity before a prompt reaches a model.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContentSafety {
    /// Account name (2-64 characters: letters, digits, hyphens).
    pub name: String,
    /// ARM region (default: `location`).
    #[serde(default)]
    pub region: Option<String>,
    /// Custom subdomain (`<subdomain>.cognitiveservices.azure.com`); defaults to the name.
    #[serde(default)]
    pub custom_subdomain: Option<String>,
    /// Check prompts for user prompt attacks (Prompt Shields).
    #[serde(default = "yes")]
    pub shield_prompt: bool,
    /// Also check chat completions (responses); a stream is cut, not answered with 403, when a
    /// later part of it is flagged.
    #[serde(default = "yes")]
    pub enforce_on_completions: bool,
    /// `FourSeverityLevels` (0, 2, 4, 6; the default) or `EightSeverityLevels` (0-7).
    #[serde(default)]
    pub output_type: ContentSafetyOutputType,
    /// Harm categories and the severity from which a request is blocked.
    #[serde(default)]
    pub categories: Vec<HarmCategoryThreshold>,
    /// Ids of blocklists of the Content Safety account to apply.
    #[serde(default)]
    pub blocklists: Vec<String>,
    /// Subnet of the account's private endpoint: needed when the accounts are private
    /// (`networking.publicNetworkAccess: Disabled`), which also makes this account private.
    #[serde(default)]
    pub subnet_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
pub enum ContentSafetyOutputType {
    #[default]
    FourSeverityLevels,
    EightSeverityLevels,
}

impl ContentSafetyOutputType {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentSafetyOutputType::FourSeverityLevels => "FourSeverityLevels",
            ContentSafetyOutputType::EightSeverityLevels => "EightSeverityLevels",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HarmCategoryThreshold {
    pub name: HarmCategory,
    /// Severity from which content is blocked (0-6 with four levels, 0-7 with eight).
    pub threshold: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum HarmCategory {
    Hate,
    SelfHarm,
    Sexual,
    Violence,
}

impl HarmCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            HarmCategory::Hate => "Hate",
            HarmCategory::SelfHarm => "SelfHarm",
            HarmCategory::Sexual => "Sexual",
            HarmCategory::Violence => "Violence",
        }
    }
}
