//! The resource types the emulator knows: published api-versions, how Azure provisions them
//! (long-running-operation style and duration), and the request-body rules of their schemas.
//!
//! Body rules are a hand-made digest of Microsoft's published ARM schemas for these types
//! (required properties, enumerations, JSON types, the top-level shape); the test
//! `rules_agree_with_published_schemas` checks them against ../shared/arm-schemas when present.

use std::time::Duration;

/// How a PUT completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// 200/201 with the final state.
    Sync,
    /// 201/200 with a non-terminal `provisioningState` and `Azure-AsyncOperation`.
    AsyncOperation,
    /// 202 with `Location` + `Retry-After`; the resource is absent (404) until done.
    Location,
    /// Synchronous, but the provider holds the request while it works (APIM API children):
    /// concurrent writes to the same parent conflict.
    SyncBusy,
}

#[derive(Debug, Clone, Copy)]
pub enum Rule {
    Required,
    Enum(&'static [&'static str]),
    Str,
    Int,
    Number,
    Bool,
    Object,
    Array,
}

pub struct TypeSpec {
    /// Lower-case `namespace/type[/child]`.
    pub name: &'static str,
    pub versions: &'static [&'static str],
    pub style: Style,
    /// Creation duration range, virtual seconds (Azure's real durations).
    pub create_secs: (u64, u64),
    /// Top-level keys a body may have.
    pub top: &'static [&'static str],
    /// `(path, rule)`; a path segment `[]` means every array element.
    pub rules: &'static [(&'static str, Rule)],
    /// Properties that cannot change after creation.
    pub immutable: &'static [&'static str],
    /// Non-terminal state reported while provisioning.
    pub busy_state: &'static str,
}

const TRACKED: &[&str] = &[
    "location",
    "tags",
    "properties",
    "sku",
    "kind",
    "identity",
    "name",
    "type",
    "id",
    "etag",
    "zones",
];
const PROXY: &[&str] = &["properties", "name", "type", "id", "etag"];
const TRACKED_NET: &[&str] = &[
    "location",
    "tags",
    "properties",
    "extendedLocation",
    "name",
    "type",
    "id",
    "etag",
];
/// Microsoft.Network api-versions served for the network types (newest first).
const NETWORK_VERSIONS: &[&str] = &[
    "2025-07-01",
    "2025-05-01",
    "2024-07-01",
    "2024-05-01",
    "2023-11-01",
];
/// An account's deployment takes tags (Microsoft.CognitiveServices 2026-05-01 schema,
/// `accounts_deployments`).
const DEPLOYMENT_TOP: &[&str] = &["properties", "sku", "tags", "name", "type", "id", "etag"];

use Rule::*;

pub const TYPES: &[TypeSpec] = &[
    // Template deployments (aoai-arch keeps its apply lock as an empty one, at resource-group
    // or subscription scope).
    TypeSpec {
        name: "microsoft.resources/deployments",
        versions: &["2025-04-01", "2024-11-01", "2024-07-01", "2024-03-01"],
        style: Style::Sync,
        create_secs: (1, 2),
        top: &["location", "tags", "properties", "name", "type", "id"],
        rules: &[
            ("location", Str),
            ("tags", Object),
            ("properties", Required),
            ("properties.mode", Required),
            ("properties.mode", Enum(&["Incremental", "Complete"])),
            ("properties.template", Object),
        ],
        immutable: &[],
        busy_state: "Running",
    },
    TypeSpec {
        name: "microsoft.resources/resourcegroups",
        versions: &[
            "2025-04-01",
            "2024-11-01",
            "2024-07-01",
            "2024-03-01",
            "2023-07-01",
            "2022-09-01",
            "2021-04-01",
        ],
        style: Style::Sync,
        create_secs: (1, 1),
        top: &[
            "location",
            "tags",
            "properties",
            "managedBy",
            "name",
            "type",
            "id",
        ],
        rules: &[
            ("location", Required),
            ("location", Str),
            ("tags", Object),
            ("properties", Object),
        ],
        immutable: &["location"],
        busy_state: "Succeeded",
    },
    TypeSpec {
        name: "microsoft.cognitiveservices/accounts",
        versions: &[
            "2026-05-01",
            "2025-09-01",
            "2025-06-01",
            "2024-10-01",
            "2023-05-01",
        ],
        style: Style::AsyncOperation,
        create_secs: (30, 60),
        top: TRACKED,
        rules: &[
            ("location", Required),
            ("kind", Required),
            ("kind", Str),
            ("sku.name", Str),
            ("properties", Object),
            ("properties.customSubDomainName", Str),
            (
                "properties.publicNetworkAccess",
                Enum(&["Enabled", "Disabled"]),
            ),
            ("properties.disableLocalAuth", Bool),
            (
                "properties.networkAcls.defaultAction",
                Enum(&["Allow", "Deny"]),
            ),
            ("properties.networkAcls.ipRules", Array),
            ("properties.networkAcls.virtualNetworkRules", Array),
        ],
        immutable: &["location", "kind", "properties.customSubDomainName"],
        busy_state: "Creating",
    },
    TypeSpec {
        name: "microsoft.cognitiveservices/accounts/deployments",
        versions: &[
            "2026-05-01",
            "2025-09-01",
            "2025-06-01",
            "2024-10-01",
            "2023-05-01",
        ],
        style: Style::AsyncOperation,
        create_secs: (20, 60),
        top: DEPLOYMENT_TOP,
        rules: &[
            ("sku.name", Required),
            ("sku.name", Str),
            ("sku.capacity", Int),
            ("properties.model.format", Str),
            ("properties.model", Required),
            ("properties.model.name", Required),
            ("properties.model.name", Str),
            ("properties.model.version", Str),
            (
                "properties.versionUpgradeOption",
                Enum(&[
                    "OnceNewDefaultVersionAvailable",
                    "OnceCurrentVersionExpired",
                    "NoAutoUpgrade",
                ]),
            ),
        ],
        immutable: &["properties.model.name"],
        busy_state: "Creating",
    },
    TypeSpec {
        name: "microsoft.cognitiveservices/accounts/raipolicies",
        versions: &["2026-05-01", "2025-09-01", "2025-06-01", "2024-10-01"],
        style: Style::Sync,
        create_secs: (1, 1),
        top: PROXY,
        rules: &[
            ("properties.basePolicyName", Str),
            (
                "properties.mode",
                Enum(&["Default", "Deferred", "Blocking", "Asynchronous_filter"]),
            ),
            ("properties.contentFilters", Array),
        ],
        immutable: &[],
        busy_state: "Succeeded",
    },
    TypeSpec {
        name: "microsoft.cognitiveservices/accounts/privateendpointconnections",
        versions: &[
            "2026-05-01",
            "2025-09-01",
            "2025-06-01",
            "2024-10-01",
            "2023-05-01",
        ],
        style: Style::Sync,
        create_secs: (1, 1),
        top: &["properties", "location", "name", "type", "id", "etag"],
        rules: &[(
            "properties.privateLinkServiceConnectionState.status",
            Enum(&["Pending", "Approved", "Rejected", "Disconnected"]),
        )],
        immutable: &[],
        busy_state: "Succeeded",
    },
    TypeSpec {
        name: "microsoft.network/privateendpoints",
        versions: &[
            "2025-07-01",
            "2025-05-01",
            "2024-07-01",
            "2024-05-01",
            "2023-11-01",
        ],
        style: Style::AsyncOperation,
        create_secs: (45, 75),
        top: &[
            "location",
            "tags",
            "properties",
            "extendedLocation",
            "name",
            "type",
            "id",
            "etag",
        ],
        rules: &[
            ("location", Required),
            ("properties.subnet", Required),
            ("properties.subnet.id", Required),
            ("properties.subnet.id", Str),
            ("properties.privateLinkServiceConnections", Array),
            ("properties.privateLinkServiceConnections[].name", Str),
            (
                "properties.privateLinkServiceConnections[].properties.privateLinkServiceId",
                Required,
            ),
            (
                "properties.privateLinkServiceConnections[].properties.groupIds",
                Array,
            ),
        ],
        immutable: &["location", "properties.subnet.id"],
        busy_state: "Updating",
    },
    // Virtual networks, subnets (inline in the network and as children), peerings, network
    // security groups (rules inline), as Microsoft.Network 2025-07-01 publishes them.
    TypeSpec {
        name: "microsoft.network/virtualnetworks",
        versions: NETWORK_VERSIONS,
        style: Style::AsyncOperation,
        create_secs: (5, 15),
        top: TRACKED_NET,
        rules: &[
            ("location", Required),
            ("properties.addressSpace.addressPrefixes", Array),
            ("properties.subnets", Array),
            ("properties.subnets[].name", Required),
            ("properties.subnets[].properties.delegations", Array),
            (
                "properties.subnets[].properties.delegations[].properties.serviceName",
                Str,
            ),
        ],
        immutable: &["location"],
        busy_state: "Updating",
    },
    TypeSpec {
        name: "microsoft.network/virtualnetworks/subnets",
        versions: NETWORK_VERSIONS,
        style: Style::AsyncOperation,
        create_secs: (5, 15),
        top: PROXY,
        rules: &[
            ("properties.delegations", Array),
            ("properties.delegations[].properties.serviceName", Str),
        ],
        immutable: &[],
        busy_state: "Updating",
    },
    TypeSpec {
        name: "microsoft.network/virtualnetworks/virtualnetworkpeerings",
        versions: NETWORK_VERSIONS,
        style: Style::AsyncOperation,
        create_secs: (10, 30),
        top: PROXY,
        rules: &[
            ("properties.remoteVirtualNetwork", Required),
            ("properties.remoteVirtualNetwork.id", Required),
            ("properties.remoteVirtualNetwork.id", Str),
            ("properties.allowVirtualNetworkAccess", Bool),
            ("properties.allowForwardedTraffic", Bool),
            ("properties.allowGatewayTransit", Bool),
            ("properties.useRemoteGateways", Bool),
        ],
        immutable: &[],
        busy_state: "Updating",
    },
    TypeSpec {
        name: "microsoft.network/networksecuritygroups",
        versions: NETWORK_VERSIONS,
        style: Style::AsyncOperation,
        create_secs: (5, 15),
        top: TRACKED_NET,
        rules: &[
            ("location", Required),
            ("properties.securityRules", Array),
            ("properties.securityRules[].name", Required),
            (
                "properties.securityRules[].properties.protocol",
                Enum(&["Tcp", "Udp", "Icmp", "Esp", "*", "Ah"]),
            ),
            (
                "properties.securityRules[].properties.access",
                Enum(&["Allow", "Deny"]),
            ),
            (
                "properties.securityRules[].properties.direction",
                Enum(&["Inbound", "Outbound"]),
            ),
            ("properties.securityRules[].properties.priority", Int),
        ],
        immutable: &["location"],
        busy_state: "Updating",
    },
    TypeSpec {
        name: "microsoft.network/privateendpoints/privatednszonegroups",
        versions: &[
            "2025-07-01",
            "2025-05-01",
            "2024-07-01",
            "2024-05-01",
            "2023-11-01",
        ],
        style: Style::AsyncOperation,
        create_secs: (5, 15),
        top: PROXY,
        rules: &[
            ("properties.privateDnsZoneConfigs", Array),
            (
                "properties.privateDnsZoneConfigs[].properties.privateDnsZoneId",
                Required,
            ),
        ],
        immutable: &[],
        busy_state: "Updating",
    },
    TypeSpec {
        name: "microsoft.network/privatednszones",
        versions: &["2024-06-01", "2020-06-01", "2018-09-01"],
        style: Style::AsyncOperation,
        create_secs: (20, 40),
        top: &[
            "location",
            "tags",
            "properties",
            "name",
            "type",
            "id",
            "etag",
        ],
        rules: &[
            ("location", Enum(&["global", "Global"])),
            ("properties", Object),
        ],
        immutable: &["location"],
        busy_state: "Creating",
    },
    TypeSpec {
        name: "microsoft.network/privatednszones/virtualnetworklinks",
        versions: &["2024-06-01", "2020-06-01", "2018-09-01"],
        style: Style::AsyncOperation,
        create_secs: (20, 40),
        top: &[
            "location",
            "tags",
            "properties",
            "name",
            "type",
            "id",
            "etag",
        ],
        rules: &[
            ("properties.virtualNetwork", Required),
            ("properties.virtualNetwork", Required),
            ("properties.virtualNetwork.id", Required),
            ("properties.registrationEnabled", Bool),
        ],
        immutable: &["properties.virtualNetwork.id"],
        busy_state: "Creating",
    },
    TypeSpec {
        name: "microsoft.apimanagement/service",
        versions: &[
            "2024-05-01",
            "2024-06-01-preview",
            "2023-09-01-preview",
            "2023-05-01-preview",
            "2022-08-01",
            "2021-08-01",
        ],
        style: Style::AsyncOperation,
        create_secs: (1800, 2700),
        top: TRACKED,
        rules: &[
            ("location", Required),
            ("sku", Required),
            (
                "sku.name",
                Enum(&[
                    "Developer",
                    "Standard",
                    "Premium",
                    "Basic",
                    "Consumption",
                    "Isolated",
                    "BasicV2",
                    "StandardV2",
                    "PremiumV2",
                ]),
            ),
            ("sku.capacity", Int),
            ("properties.publisherEmail", Required),
            ("properties.publisherEmail", Str),
            ("properties.publisherName", Required),
            ("properties.publisherName", Str),
            (
                "identity.type",
                Enum(&[
                    "SystemAssigned",
                    "UserAssigned",
                    "SystemAssigned, UserAssigned",
                    "None",
                ]),
            ),
            ("properties.additionalLocations", Array),
            ("properties.additionalLocations[].location", Required),
            ("properties.additionalLocations[].sku", Required),
        ],
        immutable: &["location"],
        busy_state: "Activating",
    },
    apim_child(
        "microsoft.apimanagement/service/backends",
        Style::Sync,
        &[
            ("properties.protocol", Enum(&["http", "soap"])),
            ("properties.type", Enum(&["Single", "Pool"])),
            ("properties.url", Str),
            ("properties.pool.services", Array),
            ("properties.pool.services[].id", Required),
            ("properties.pool.services[].weight", Int),
            ("properties.pool.services[].priority", Int),
            ("properties.circuitBreaker.rules", Array),
        ],
    ),
    apim_child(
        "microsoft.apimanagement/service/apis",
        Style::SyncBusy,
        &[
            ("properties.path", Required),
            ("properties.path", Str),
            ("properties.protocols", Array),
            ("properties.subscriptionRequired", Bool),
            (
                "properties.apiType",
                Enum(&["http", "soap", "websocket", "graphql", "odata", "grpc"]),
            ),
        ],
    ),
    apim_child(
        "microsoft.apimanagement/service/apis/operations",
        Style::SyncBusy,
        &[
            ("properties.displayName", Required),
            ("properties.method", Required),
            ("properties.urlTemplate", Required),
            ("properties.templateParameters", Array),
            ("properties.templateParameters[].name", Required),
            ("properties.templateParameters[].type", Required),
            ("properties.responses", Array),
        ],
    ),
    apim_child(
        "microsoft.apimanagement/service/apis/policies",
        Style::SyncBusy,
        &[
            ("properties.value", Required),
            ("properties.value", Str),
            (
                "properties.format",
                Enum(&["xml", "xml-link", "rawxml", "rawxml-link"]),
            ),
        ],
    ),
    apim_child(
        "microsoft.apimanagement/service/policies",
        Style::Sync,
        &[
            ("properties.value", Required),
            (
                "properties.format",
                Enum(&["xml", "xml-link", "rawxml", "rawxml-link"]),
            ),
        ],
    ),
    apim_child(
        "microsoft.apimanagement/service/namedvalues",
        Style::Sync,
        &[
            ("properties.displayName", Required),
            ("properties.value", Str),
            ("properties.secret", Bool),
        ],
    ),
    apim_child(
        "microsoft.apimanagement/service/loggers",
        Style::Sync,
        &[
            ("properties.loggerType", Required),
            (
                "properties.loggerType",
                Enum(&["azureEventHub", "applicationInsights", "azureMonitor"]),
            ),
            ("properties.credentials", Object),
        ],
    ),
    apim_child(
        "microsoft.apimanagement/service/diagnostics",
        Style::Sync,
        &[
            ("properties.loggerId", Required),
            ("properties.alwaysLog", Enum(&["allErrors"])),
            (
                "properties.verbosity",
                Enum(&["verbose", "information", "error"]),
            ),
        ],
    ),
    apim_child(
        "microsoft.apimanagement/service/apis/diagnostics",
        Style::SyncBusy,
        &[
            ("properties.loggerId", Required),
            ("properties.alwaysLog", Enum(&["allErrors"])),
            (
                "properties.verbosity",
                Enum(&["verbose", "information", "error"]),
            ),
            (
                "properties.httpCorrelationProtocol",
                Enum(&["None", "Legacy", "W3C"]),
            ),
            ("properties.sampling.samplingType", Enum(&["fixed"])),
            ("properties.sampling.percentage", Number),
            ("properties.frontend.request.body.bytes", Int),
            ("properties.backend.response.body.bytes", Int),
        ],
    ),
    apim_child(
        "microsoft.apimanagement/service/products",
        Style::Sync,
        &[
            ("properties.displayName", Required),
            ("properties.displayName", Str),
            ("properties.description", Str),
            ("properties.subscriptionRequired", Bool),
            ("properties.approvalRequired", Bool),
            ("properties.subscriptionsLimit", Int),
            ("properties.state", Enum(&["notPublished", "published"])),
        ],
    ),
    apim_child(
        "microsoft.apimanagement/service/products/apilinks",
        Style::Sync,
        &[("properties.apiId", Required), ("properties.apiId", Str)],
    ),
    apim_child(
        "microsoft.apimanagement/service/products/policies",
        Style::Sync,
        &[
            ("properties.value", Required),
            ("properties.value", Str),
            (
                "properties.format",
                Enum(&["xml", "xml-link", "rawxml", "rawxml-link"]),
            ),
        ],
    ),
    apim_child(
        "microsoft.apimanagement/service/subscriptions",
        Style::Sync,
        &[
            ("properties.scope", Required),
            ("properties.scope", Str),
            ("properties.displayName", Required),
            ("properties.displayName", Str),
            ("properties.ownerId", Str),
            ("properties.primaryKey", Str),
            ("properties.secondaryKey", Str),
            ("properties.allowTracing", Bool),
            (
                "properties.state",
                Enum(&[
                    "suspended",
                    "active",
                    "expired",
                    "submitted",
                    "rejected",
                    "cancelled",
                ]),
            ),
        ],
    ),
    apim_child(
        "microsoft.apimanagement/service/privateendpointconnections",
        Style::Sync,
        &[(
            "properties.privateLinkServiceConnectionState.status",
            Enum(&["Pending", "Approved", "Rejected"]),
        )],
    ),
    TypeSpec {
        name: "microsoft.insights/components",
        versions: &["2020-02-02", "2015-05-01"],
        style: Style::Sync,
        create_secs: (1, 1),
        top: TRACKED,
        rules: &[
            ("location", Required),
            ("kind", Required),
            ("properties.Application_Type", Required),
            ("properties.Application_Type", Enum(&["web", "other"])),
            ("properties.WorkspaceResourceId", Str),
            (
                "properties.IngestionMode",
                Enum(&[
                    "ApplicationInsights",
                    "ApplicationInsightsWithDiagnosticSettings",
                    "LogAnalytics",
                ]),
            ),
        ],
        immutable: &["location"],
        busy_state: "Succeeded",
    },
    TypeSpec {
        name: "microsoft.operationalinsights/workspaces",
        versions: &[
            "2025-07-01",
            "2025-02-01",
            "2023-09-01",
            "2022-10-01",
            "2021-06-01",
        ],
        style: Style::AsyncOperation,
        create_secs: (5, 15),
        top: TRACKED,
        rules: &[
            ("location", Required),
            (
                "properties.sku.name",
                Enum(&[
                    "Free",
                    "Standard",
                    "Premium",
                    "PerNode",
                    "PerGB2018",
                    "Standalone",
                    "CapacityReservation",
                    "LACluster",
                ]),
            ),
            ("properties.retentionInDays", Int),
        ],
        immutable: &["location"],
        busy_state: "Creating",
    },
    TypeSpec {
        name: "microsoft.eventhub/namespaces",
        versions: &[
            "2026-01-01",
            "2024-01-01",
            "2022-10-01-preview",
            "2021-11-01",
        ],
        style: Style::Location,
        create_secs: (60, 120),
        top: TRACKED,
        rules: &[
            ("location", Required),
            ("sku.name", Enum(&["Basic", "Standard", "Premium"])),
            ("sku.tier", Enum(&["Basic", "Standard", "Premium"])),
            ("sku.capacity", Int),
            ("properties.disableLocalAuth", Bool),
            ("properties.minimumTlsVersion", Enum(&["1.0", "1.1", "1.2"])),
        ],
        immutable: &["location"],
        busy_state: "Creating",
    },
    TypeSpec {
        name: "microsoft.eventhub/namespaces/eventhubs",
        versions: &[
            "2026-01-01",
            "2024-01-01",
            "2022-10-01-preview",
            "2021-11-01",
        ],
        style: Style::Sync,
        create_secs: (1, 1),
        top: PROXY,
        rules: &[
            ("properties.partitionCount", Int),
            ("properties.messageRetentionInDays", Int),
        ],
        // Standard namespaces: partitions are fixed at creation.
        immutable: &["properties.partitionCount"],
        busy_state: "Succeeded",
    },
    TypeSpec {
        name: "microsoft.consumption/budgets",
        versions: &["2024-08-01", "2023-11-01", "2023-05-01", "2021-10-01"],
        style: Style::Sync,
        create_secs: (1, 1),
        top: &["properties", "eTag", "name", "type", "id"],
        rules: &[
            ("properties.category", Required),
            (
                "properties.category",
                Enum(&["Cost", "ReservationUtilization"]),
            ),
            ("properties.amount", Number),
            ("properties.timeGrain", Required),
            (
                "properties.timeGrain",
                Enum(&[
                    "Monthly",
                    "Quarterly",
                    "Annually",
                    "BillingMonth",
                    "BillingQuarter",
                    "BillingAnnual",
                    "Last7Days",
                    "Last30Days",
                ]),
            ),
            ("properties.timePeriod", Required),
            ("properties.timePeriod", Required),
            ("properties.timePeriod.startDate", Required),
            ("properties.notifications", Object),
        ],
        immutable: &[],
        busy_state: "Succeeded",
    },
    // Diagnostic settings: an extension resource on the resource whose logs it sends.
    TypeSpec {
        name: "microsoft.insights/diagnosticsettings",
        versions: &[
            "2021-05-01-preview",
            "2020-01-01-preview",
            "2017-05-01-preview",
        ],
        style: Style::Sync,
        create_secs: (1, 2),
        top: PROXY,
        rules: &[
            ("properties", Required),
            ("properties.workspaceId", Str),
            (
                "properties.logAnalyticsDestinationType",
                Enum(&["Dedicated", "AzureDiagnostics"]),
            ),
            ("properties.logs", Array),
            ("properties.logs[].enabled", Required),
            ("properties.logs[].enabled", Bool),
            ("properties.logs[].category", Str),
            ("properties.metrics", Array),
        ],
        immutable: &[],
        busy_state: "Succeeded",
    },
    TypeSpec {
        name: "microsoft.authorization/roleassignments",
        versions: &[
            "2022-04-01",
            "2020-10-01-preview",
            "2020-04-01-preview",
            "2018-09-01-preview",
            "2015-07-01",
        ],
        style: Style::Sync,
        create_secs: (1, 1),
        top: PROXY,
        rules: &[
            ("properties.roleDefinitionId", Required),
            ("properties.roleDefinitionId", Str),
            ("properties.principalId", Required),
            ("properties.principalId", Str),
            (
                "properties.principalType",
                Enum(&[
                    "User",
                    "Group",
                    "ServicePrincipal",
                    "ForeignGroup",
                    "Device",
                ]),
            ),
        ],
        immutable: &[],
        busy_state: "Succeeded",
    },
    cdn(
        "microsoft.cdn/profiles",
        TRACKED,
        &[
            ("location", Required),
            ("sku", Required),
            (
                "sku.name",
                Enum(&[
                    "Standard_Verizon",
                    "Premium_Verizon",
                    "Custom_Verizon",
                    "Standard_Akamai",
                    "Standard_ChinaCdn",
                    "Standard_Microsoft",
                    "Standard_AzureFrontDoor",
                    "Premium_AzureFrontDoor",
                    "Standard_955BandWidth_ChinaCdn",
                    "Standard_AvgBandWidth_ChinaCdn",
                    "StandardPlus_ChinaCdn",
                    "StandardPlus_955BandWidth_ChinaCdn",
                    "StandardPlus_AvgBandWidth_ChinaCdn",
                ]),
            ),
            ("properties.originResponseTimeoutSeconds", Int),
        ],
        (60, 120),
    ),
    cdn(
        "microsoft.cdn/profiles/afdendpoints",
        TRACKED,
        &[
            ("location", Required),
            ("properties.enabledState", Enum(&["Enabled", "Disabled"])),
            (
                "properties.autoGeneratedDomainNameLabelScope",
                Enum(&[
                    "TenantReuse",
                    "SubscriptionReuse",
                    "ResourceGroupReuse",
                    "NoReuse",
                ]),
            ),
        ],
        (20, 40),
    ),
    cdn(
        "microsoft.cdn/profiles/origingroups",
        PROXY,
        &[
            (
                "properties.healthProbeSettings.probeProtocol",
                Enum(&["NotSet", "Http", "Https"]),
            ),
            (
                "properties.healthProbeSettings.probeRequestType",
                Enum(&["NotSet", "GET", "HEAD"]),
            ),
            ("properties.healthProbeSettings.probeIntervalInSeconds", Int),
            ("properties.loadBalancingSettings.sampleSize", Int),
            (
                "properties.loadBalancingSettings.successfulSamplesRequired",
                Int,
            ),
            (
                "properties.loadBalancingSettings.additionalLatencyInMilliseconds",
                Int,
            ),
            (
                "properties.sessionAffinityState",
                Enum(&["Enabled", "Disabled"]),
            ),
        ],
        (20, 40),
    ),
    cdn(
        "microsoft.cdn/profiles/origingroups/origins",
        PROXY,
        &[
            ("properties.hostName", Required),
            ("properties.hostName", Str),
            ("properties.priority", Int),
            ("properties.weight", Int),
            ("properties.enabledState", Enum(&["Enabled", "Disabled"])),
            ("properties.sharedPrivateLinkResource.privateLink.id", Str),
            (
                "properties.sharedPrivateLinkResource.privateLinkLocation",
                Str,
            ),
        ],
        (20, 40),
    ),
    cdn(
        "microsoft.cdn/profiles/afdendpoints/routes",
        PROXY,
        &[
            ("properties.originGroup", Required),
            ("properties.originGroup.id", Required),
            ("properties.supportedProtocols", Array),
            ("properties.patternsToMatch", Array),
            (
                "properties.forwardingProtocol",
                Enum(&["HttpOnly", "HttpsOnly", "MatchRequest"]),
            ),
            (
                "properties.linkToDefaultDomain",
                Enum(&["Enabled", "Disabled"]),
            ),
            ("properties.httpsRedirect", Enum(&["Enabled", "Disabled"])),
        ],
        (20, 40),
    ),
    cdn(
        "microsoft.cdn/profiles/securitypolicies",
        PROXY,
        &[
            ("properties.parameters", Required),
            ("properties.parameters.type", Required),
            (
                "properties.parameters.type",
                Enum(&["WebApplicationFirewall"]),
            ),
            ("properties.parameters.wafPolicy.id", Str),
            ("properties.parameters.associations", Array),
        ],
        (20, 40),
    ),
    cdn(
        "microsoft.cdn/profiles/customdomains",
        PROXY,
        &[
            ("properties.hostName", Required),
            ("properties.hostName", Str),
            (
                "properties.tlsSettings.certificateType",
                Enum(&[
                    "CustomerCertificate",
                    "ManagedCertificate",
                    "AzureFirstPartyManagedCertificate",
                ]),
            ),
            (
                "properties.tlsSettings.minimumTlsVersion",
                Enum(&["TLS10", "TLS12", "TLS13"]),
            ),
        ],
        (20, 40),
    ),
    TypeSpec {
        name: "microsoft.network/frontdoorwebapplicationfirewallpolicies",
        versions: &["2025-11-01", "2025-03-01", "2024-02-01", "2022-05-01"],
        style: Style::AsyncOperation,
        create_secs: (15, 30),
        top: TRACKED,
        rules: &[
            ("location", Required),
            (
                "sku.name",
                Enum(&[
                    "Classic_AzureFrontDoor",
                    "Standard_AzureFrontDoor",
                    "Premium_AzureFrontDoor",
                ]),
            ),
            (
                "properties.policySettings.mode",
                Enum(&["Prevention", "Detection"]),
            ),
            (
                "properties.policySettings.enabledState",
                Enum(&["Disabled", "Enabled"]),
            ),
            ("properties.managedRules.managedRuleSets", Array),
            (
                "properties.managedRules.managedRuleSets[].ruleSetType",
                Required,
            ),
            (
                "properties.managedRules.managedRuleSets[].ruleSetVersion",
                Required,
            ),
            (
                "properties.managedRules.managedRuleSets[].ruleSetAction",
                Enum(&["Block", "Log", "Redirect"]),
            ),
        ],
        immutable: &["location"],
        busy_state: "Creating",
    },
];

const fn apim_child(
    name: &'static str,
    style: Style,
    rules: &'static [(&'static str, Rule)],
) -> TypeSpec {
    TypeSpec {
        name,
        versions: &[
            "2024-05-01",
            "2024-06-01-preview",
            "2023-09-01-preview",
            "2023-05-01-preview",
            "2022-08-01",
            "2021-08-01",
        ],
        style,
        create_secs: (2, 6),
        top: PROXY,
        rules,
        immutable: &[],
        busy_state: "Succeeded",
    }
}

const fn cdn(
    name: &'static str,
    top: &'static [&'static str],
    rules: &'static [(&'static str, Rule)],
    secs: (u64, u64),
) -> TypeSpec {
    TypeSpec {
        name,
        versions: &[
            "2025-12-01",
            "2026-10-01",
            "2025-06-01",
            "2025-04-15",
            "2024-09-01",
            "2024-02-01",
            "2023-05-01",
        ],
        style: Style::AsyncOperation,
        create_secs: secs,
        top,
        rules,
        immutable: &["location"],
        busy_state: "Creating",
    }
}

pub fn spec(type_name: &str) -> Option<&'static TypeSpec> {
    let t = type_name.to_lowercase();
    TYPES.iter().find(|s| s.name == t)
}

/// The longest creation time of a type (what a critical-path estimate must assume).
pub fn provisioning_duration(type_name: &str) -> Duration {
    spec(type_name)
        .map(|s| Duration::from_secs(s.create_secs.1))
        .unwrap_or_default()
}

/// The log categories a diagnostic setting may name for a resource type ("Supported logs"
/// on learn.microsoft.com/azure/azure-monitor/reference/supported-logs/, read 2026-12-06);
/// `None` for a type the emulator has no list for.
pub fn log_categories(type_name: &str) -> Option<&'static [&'static str]> {
    match type_name.to_lowercase().as_str() {
        "microsoft.apimanagement/service" => Some(&[
            "GatewayLogs",
            "GatewayLlmLogs",
            "GatewayMCPLogs",
            "WebSocketConnectionLogs",
            "DeveloperPortalAuditLogs",
        ]),
        "microsoft.cdn/profiles" => Some(&[
            "AzureCdnAccessLog",
            "FrontDoorAccessLog",
            "FrontDoorHealthProbeLog",
            "FrontDoorWebApplicationFirewallLog",
        ]),
        "microsoft.cognitiveservices/accounts" => Some(&[
            "Audit",
            "RequestResponse",
            "Trace",
            "AzureOpenAIRequestUsage",
        ]),
        _ => None,
    }
}

/// Check a body against the type's rules; `Err((message, target))` like ARM's InvalidRequestContent.
pub fn validate(spec: &TypeSpec, body: &serde_json::Value) -> Result<(), (String, String)> {
    let Some(obj) = body.as_object() else {
        return Err((
            "The request content must be a JSON object.".into(),
            String::new(),
        ));
    };
    for k in obj.keys() {
        if !spec.top.contains(&k.as_str()) {
            return Err((format!("Could not find member '{k}' on object of type 'ResourceDefinition'. Path '{k}'."), k.clone()));
        }
    }
    // `properties` may be omitted (ARM accepts a resource group PUT with only a location), but
    // is never null or a non-object.
    if obj.get("properties").is_some_and(|p| !p.is_object()) {
        return Err((
            "Property 'properties' must be an object. Path 'properties'.".into(),
            "properties".into(),
        ));
    }
    for (path, rule) in spec.rules {
        let segs: Vec<&str> = path.split('.').collect();
        check_path(body, &segs, path, *rule, String::new())?;
    }
    Ok(())
}

fn check_path(
    v: &serde_json::Value,
    segs: &[&str],
    full: &str,
    rule: Rule,
    at: String,
) -> Result<(), (String, String)> {
    use serde_json::Value as V;
    if segs.is_empty() {
        let ok = match rule {
            Required => true,
            Enum(allowed) => v
                .as_str()
                .is_some_and(|s| allowed.iter().any(|a| a.eq_ignore_ascii_case(s))),
            Str => v.is_string(),
            Int => v.is_i64() || v.is_u64(),
            Number => v.is_number(),
            Bool => v.is_boolean(),
            Object => v.is_object(),
            Array => v.is_array(),
        };
        if ok {
            return Ok(());
        }
        let msg = match rule {
            Enum(allowed) => format!(
                "The value '{}' is not valid for property '{at}'. Allowed values: {}.",
                v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()),
                allowed.join(", ")
            ),
            _ => format!("Error converting value {v} to the type of property '{at}' ({rule:?}). Path '{at}'."),
        };
        return Err((msg, at));
    }
    let (seg, rest) = (segs[0], &segs[1..]);
    let (key, each) = match seg.strip_suffix("[]") {
        Some(k) => (k, true),
        None => (seg, false),
    };
    let here = if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    };
    let child = match v {
        V::Object(m) => m.get(key),
        _ => None,
    };
    let Some(child) = child else {
        // Required applies to the leaf when its parent is present; required parents have
        // rules of their own.
        if matches!(rule, Required) && rest.is_empty() {
            return Err((
                format!("Required property '{full}' not found in JSON. Path '{at}'."),
                here,
            ));
        }
        return Ok(());
    };
    if each {
        let Some(items) = child.as_array() else {
            return Err((format!("Property '{here}' must be an array."), here));
        };
        for (i, item) in items.iter().enumerate() {
            check_path(item, rest, full, rule, format!("{here}[{i}]"))?;
        }
        return Ok(());
    }
    check_path(child, rest, full, rule, here)
}
