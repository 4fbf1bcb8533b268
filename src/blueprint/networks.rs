//! The virtual networks of a blueprint: those it creates (`networks[].name`) and those it only
//! uses (`networks[].id`, or any subnet id whose network is not listed). Model, lint and
//! preflight ask the same questions here: which network a subnet is in, its region, whether
//! the blueprint creates it, which networks are peered, and what each used subnet needs.

use super::types::{ApimSkuName, Blueprint, SubnetPurpose, SubnetSpec};

/// The virtual network id of a subnet id (`.../virtualNetworks/<vnet>`), lowercased.
pub fn vnet_of(subnet: &str) -> String {
    let lower = subnet.to_lowercase();
    match lower.find("/subnets/") {
        Some(i) => lower[..i].to_string(),
        None => lower,
    }
}

/// The last segment of an id.
pub fn short(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// One network of the blueprint.
#[derive(Debug, Clone)]
pub struct Net<'a> {
    /// Resource id as written (created: in the blueprint's resource group).
    pub id: String,
    pub region: String,
    /// Created by this blueprint (its subnets and peerings are known); else existing.
    pub created: bool,
    /// `networks[i]`.
    pub field: String,
    pub subnets: &'a [SubnetSpec],
    /// Lowercased ids of the networks peered with this one (both directions are rendered).
    pub peers: Vec<String>,
}

pub struct Networks<'a> {
    pub nets: Vec<Net<'a>>,
}

/// The resource id of a network the blueprint creates.
pub fn created_id(b: &Blueprint, name: &str) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/virtualNetworks/{name}",
        b.subscription, b.resource_group
    )
}

impl<'a> Networks<'a> {
    pub fn of(b: &'a Blueprint) -> Networks<'a> {
        let mut nets: Vec<Net<'a>> = b
            .networks
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                let id = match (&n.name, &n.id) {
                    (Some(name), None) => created_id(b, name),
                    (None, Some(id)) => id.clone(),
                    _ => return None,
                };
                Some(Net {
                    id,
                    region: n.region.clone().unwrap_or_else(|| b.location.clone()),
                    created: n.name.is_some(),
                    field: format!("networks[{i}]"),
                    subnets: &n.subnets,
                    peers: Vec::new(),
                })
            })
            .collect();
        // Both directions of every declared peering.
        let mut pairs = Vec::new();
        for n in &b.networks {
            let Some(me) = &n.name else { continue };
            for p in &n.peerings {
                pairs.push((
                    created_id(b, me).to_lowercase(),
                    created_id(b, p).to_lowercase(),
                ));
            }
        }
        for (x, y) in pairs {
            for net in nets.iter_mut() {
                let id = net.id.to_lowercase();
                if id == x && !net.peers.contains(&y) {
                    net.peers.push(y.clone());
                }
                if id == y && !net.peers.contains(&x) {
                    net.peers.push(x.clone());
                }
            }
        }
        Networks { nets }
    }

    /// The network with this id (a virtual network id, any case).
    pub fn find(&self, vnet: &str) -> Option<&Net<'a>> {
        self.nets.iter().find(|n| n.id.eq_ignore_ascii_case(vnet))
    }

    /// The region of a subnet's network, when the blueprint knows it.
    pub fn region_of_subnet(&self, subnet: &str) -> Option<&str> {
        self.find(&vnet_of(subnet)).map(|n| n.region.as_str())
    }

    /// The subnet as declared, when the blueprint creates its network.
    pub fn created_subnet(&self, subnet: &str) -> Option<(&Net<'a>, &'a SubnetSpec)> {
        let net = self.find(&vnet_of(subnet)).filter(|n| n.created)?;
        let name = short(subnet);
        net.subnets
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .map(|s| (net, s))
    }

    /// Whether the blueprint creates the network of this subnet (or network) id.
    pub fn creates(&self, id: &str) -> bool {
        self.find(&vnet_of(id)).is_some_and(|n| n.created)
    }

    /// `Some(true)`: the two networks are one or peered (both directions rendered);
    /// `Some(false)`: both are created by the blueprint and not peered; `None`: one of them is
    /// an existing network whose peerings the blueprint does not know.
    pub fn connected(&self, a: &str, b: &str) -> Option<bool> {
        let (a, b) = (vnet_of(a), vnet_of(b));
        if a == b {
            return Some(true);
        }
        let (na, nb) = (self.find(&a)?, self.find(&b)?);
        if !(na.created && nb.created) {
            return None;
        }
        Some(na.peers.contains(&b))
    }
}

/// What a subnet is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// A private endpoint (an account's, or API Management's inbound one).
    PrivateEndpoint,
    /// Classic API Management injection (Developer, Premium).
    Injection,
    /// API Management v2 outbound integration (Standard v2, Premium v2).
    Integration,
}

impl Use {
    pub fn purpose(self) -> SubnetPurpose {
        match self {
            Use::PrivateEndpoint => SubnetPurpose::PrivateEndpoints,
            Use::Injection => SubnetPurpose::ApimInjection,
            Use::Integration => SubnetPurpose::ApimIntegration,
        }
    }
    pub fn what(self) -> &'static str {
        match self {
            Use::PrivateEndpoint => "private endpoints",
            Use::Injection => "API Management injection",
            Use::Integration => "API Management v2 outbound integration",
        }
    }
}

/// One subnet the blueprint uses.
#[derive(Debug, Clone)]
pub struct SubnetUse {
    pub field: String,
    pub subnet_id: String,
    pub usage: Use,
    /// The region the subnet's network must be in (API Management joins a network of its own
    /// region); `None` for private endpoints, which go where their network is.
    pub region: Option<String>,
    /// Private endpoints: the region the render places it in (its network's region when the
    /// blueprint lists the network, else the region of what it reaches).
    pub placed: Option<String>,
}

/// The gateway's use of its subnet: injection on classic tiers, outbound integration on v2.
pub fn apim_use(sku: ApimSkuName) -> Use {
    match arm_emulator::capabilities::get().apim_tier(sku.as_str()) {
        Some(t) if t.outbound_vnet_integration => Use::Integration,
        _ => Use::Injection,
    }
}

/// Every subnet the blueprint uses, with its use and the field that names it
/// (`apim.instances` included).
pub fn uses(b: &Blueprint) -> Vec<SubnetUse> {
    let mut out = Vec::new();
    let nets = Networks::of(b);
    let placed = |subnet: &str, fallback: &str| {
        Some(
            nets.region_of_subnet(subnet)
                .unwrap_or(fallback)
                .to_string(),
        )
    };
    if let Some(n) = &b.networking {
        for (i, pe) in n.private_endpoints.iter().enumerate() {
            let account = b.openai.accounts.iter().find(|a| a.name == pe.account);
            out.push(SubnetUse {
                field: format!("networking.privateEndpoints[{i}].subnetId"),
                subnet_id: pe.subnet_id.clone(),
                usage: Use::PrivateEndpoint,
                region: None,
                placed: placed(
                    &pe.subnet_id,
                    account.map_or(b.location.as_str(), |a| a.region.as_str()),
                ),
            });
        }
    }
    let Some(a) = b.apim.as_ref().filter(|_| b.pattern.has_apim()) else {
        return out;
    };
    let gw = apim_use(a.sku.name);
    let mut services = vec![(
        "apim.network".to_string(),
        b.location.clone(),
        a.network.clone(),
    )];
    for (i, inst) in a.instances.iter().enumerate() {
        services.push((
            format!("apim.instances[{i}].network"),
            inst.region.clone(),
            inst.network.clone(),
        ));
    }
    for (base, region, net) in services {
        let Some(net) = net else { continue };
        if let Some(s) = &net.subnet_id {
            out.push(SubnetUse {
                field: format!("{base}.subnetId"),
                subnet_id: s.clone(),
                usage: gw,
                region: Some(region.clone()),
                placed: None,
            });
        }
        if let Some(pe) = &net.private_endpoint {
            out.push(SubnetUse {
                field: format!("{base}.privateEndpoint.subnetId"),
                subnet_id: pe.subnet_id.clone(),
                usage: Use::PrivateEndpoint,
                region: None,
                placed: placed(&pe.subnet_id, &region),
            });
        }
    }
    if a.network.as_ref().is_some_and(|n| n.subnet_id.is_some()) {
        for (i, r) in a.additional_regions.iter().enumerate() {
            if let Some(s) = &r.subnet_id {
                out.push(SubnetUse {
                    field: format!("apim.additionalRegions[{i}].subnetId"),
                    subnet_id: s.clone(),
                    usage: gw,
                    region: Some(r.region.clone()),
                    placed: None,
                });
            }
        }
    }
    out
}

/// A network security group rule: (name, direction, source tag, destination tag, ports,
/// protocol, purpose).
pub type NsgRule = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
);

/// The rules classic API Management injection requires on its subnet's network security group
/// (the bold "required" rows of learn.microsoft.com/azure/api-management/virtual-network-reference#required-ports,
/// read 2026-12-06): management on 3443 from the ApiManagement service tag, the Azure
/// infrastructure load balancer on 6390, and outbound to Storage, Sql, AzureKeyVault,
/// AzureMonitor and (certificate validation) Internet on 80. Client traffic on 443 from the
/// internet, and Traffic Manager for multi-region, only in External mode.
pub const APIM_INJECTION_RULES: &[NsgRule] = &[
    (
        "allow-apim-management",
        "Inbound",
        "ApiManagement",
        "VirtualNetwork",
        &["3443"],
        "Tcp",
        "Management endpoint for Azure portal and PowerShell",
    ),
    (
        "allow-azure-load-balancer",
        "Inbound",
        "AzureLoadBalancer",
        "VirtualNetwork",
        &["6390"],
        "Tcp",
        "Azure Infrastructure Load Balancer",
    ),
    (
        "allow-storage",
        "Outbound",
        "VirtualNetwork",
        "Storage",
        &["443"],
        "Tcp",
        "Dependency on Azure Storage",
    ),
    (
        "allow-sql",
        "Outbound",
        "VirtualNetwork",
        "Sql",
        &["1433"],
        "Tcp",
        "Access to Azure SQL endpoints",
    ),
    (
        "allow-key-vault",
        "Outbound",
        "VirtualNetwork",
        "AzureKeyVault",
        &["443"],
        "Tcp",
        "Access to Azure Key Vault",
    ),
    (
        "allow-azure-monitor",
        "Outbound",
        "VirtualNetwork",
        "AzureMonitor",
        &["1886", "443"],
        "Tcp",
        "Diagnostics logs and metrics, Resource Health and Application Insights",
    ),
    (
        "allow-certificate-validation",
        "Outbound",
        "VirtualNetwork",
        "Internet",
        &["80"],
        "Tcp",
        "Validation and management of Microsoft-managed and customer-managed certificates",
    ),
];

/// External mode only: clients from the internet, and Traffic Manager routing between the
/// regions of a multi-region service.
pub const APIM_EXTERNAL_RULES: &[NsgRule] = &[(
    "allow-client-https",
    "Inbound",
    "Internet",
    "VirtualNetwork",
    &["443"],
    "Tcp",
    "Client communication to API Management",
)];
pub const APIM_MULTI_REGION_RULES: &[NsgRule] = &[(
    "allow-traffic-manager",
    "Inbound",
    "AzureTrafficManager",
    "VirtualNetwork",
    &["443"],
    "Tcp",
    "Azure Traffic Manager routing for multi-region deployment",
)];
/// Logging to Event Hubs (log-to-eventhub) from an injected gateway.
pub const APIM_EVENT_HUB_RULES: &[NsgRule] = &[(
    "allow-event-hub",
    "Outbound",
    "VirtualNetwork",
    "EventHub",
    &["5671", "5672", "443"],
    "Tcp",
    "Log to Azure Event Hubs policy",
)];

/// Short references to the networks the blueprint creates, made full resource ids: a subnet
/// written `<network>/<subnet>` and a network written `<network>` (in `vnetLinks`) name an
/// entry of `networks` by its `name`, so the blueprint does not repeat its own subscription
/// and resource group (and a copy to another resource group keeps working). Anything else is
/// left as written (validation reports what is not an id).
pub fn resolve_short_refs(b: &mut Blueprint) {
    let names: Vec<String> = b.networks.iter().filter_map(|n| n.name.clone()).collect();
    let full = |name: &str| {
        names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(name))
            .map(|n| created_id(b, n))
    };
    let subnet = |s: &mut String| {
        if s.starts_with('/') {
            return;
        }
        if let Some((net, sub)) = s.split_once('/') {
            if let Some(id) = full(net).filter(|_| !sub.is_empty() && !sub.contains('/')) {
                *s = format!("{id}/subnets/{sub}");
            }
        }
    };
    let vnet_links: Option<Vec<String>> = b
        .networking
        .as_ref()
        .and_then(|n| n.private_dns.as_ref())
        .map(|d| {
            d.vnet_links
                .iter()
                .map(|v| match full(v).filter(|_| !v.starts_with('/')) {
                    Some(id) => id,
                    None => v.clone(),
                })
                .collect()
        });
    let mut pes: Vec<String> = b
        .networking
        .as_ref()
        .map(|n| {
            n.private_endpoints
                .iter()
                .map(|p| p.subnet_id.clone())
                .collect()
        })
        .unwrap_or_default();
    pes.iter_mut().for_each(subnet);
    let mut apim_subnets: Vec<Option<String>> = Vec::new();
    let mut apim_pes: Vec<Option<String>> = Vec::new();
    let mut regions: Vec<Option<String>> = Vec::new();
    if let Some(a) = &b.apim {
        for net in std::iter::once(&a.network).chain(a.instances.iter().map(|i| &i.network)) {
            apim_subnets.push(net.as_ref().and_then(|n| n.subnet_id.clone()).map(|mut s| {
                subnet(&mut s);
                s
            }));
            apim_pes.push(
                net.as_ref()
                    .and_then(|n| n.private_endpoint.as_ref())
                    .map(|p| {
                        let mut s = p.subnet_id.clone();
                        subnet(&mut s);
                        s
                    }),
            );
        }
        regions = a
            .additional_regions
            .iter()
            .map(|r| {
                r.subnet_id.clone().map(|mut s| {
                    subnet(&mut s);
                    s
                })
            })
            .collect();
    }
    if let Some(n) = b.networking.as_mut() {
        for (p, s) in n.private_endpoints.iter_mut().zip(pes) {
            p.subnet_id = s;
        }
        if let (Some(d), Some(v)) = (n.private_dns.as_mut(), vnet_links) {
            d.vnet_links = v;
        }
    }
    if let Some(a) = b.apim.as_mut() {
        let nets =
            std::iter::once(&mut a.network).chain(a.instances.iter_mut().map(|i| &mut i.network));
        for ((net, s), pe) in nets.zip(apim_subnets).zip(apim_pes) {
            if let Some(net) = net.as_mut() {
                net.subnet_id = s;
                if let (Some(p), Some(pe)) = (net.private_endpoint.as_mut(), pe) {
                    p.subnet_id = pe;
                }
            }
        }
        for (r, s) in a.additional_regions.iter_mut().zip(regions) {
            r.subnet_id = s;
        }
    }
}
