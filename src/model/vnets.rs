//! The virtual networks a blueprint creates (`networks[].name`): subnets inline with the
//! delegation and network security group their purpose needs, the security groups with the
//! rules API Management requires, and the peerings (each direction a request on its own
//! network). Which networks exist and what each subnet is used for is
//! [`crate::blueprint::networks`].

use serde::Serialize;

use crate::blueprint::Blueprint;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VnetM {
    pub name: String,
    pub id: String,
    pub region: String,
    pub address_space: Vec<String>,
    pub subnets: Vec<SubnetM>,
    /// Peerings from this network (the other direction is on the other network).
    pub peerings: Vec<PeeringM>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubnetM {
    pub name: String,
    pub address_prefix: String,
    pub nsg_id: Option<String>,
    /// `Microsoft.Web/serverFarms` for API Management v2 outbound integration.
    pub delegation: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeeringM {
    pub name: String,
    pub id: String,
    pub remote_id: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NsgM {
    pub name: String,
    pub id: String,
    pub region: String,
    pub rules: Vec<NsgRuleM>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NsgRuleM {
    pub name: String,
    pub description: String,
    pub direction: &'static str,
    pub priority: u32,
    pub protocol: &'static str,
    pub source: &'static str,
    pub destination: &'static str,
    /// One port is written `destinationPortRange` (Azure returns a one-element
    /// `destinationPortRanges` as that), several `destinationPortRanges`.
    pub port: Option<&'static str>,
    pub ports: Vec<&'static str>,
}

/// The networks the blueprint creates: subnets with the delegation and security group their
/// purpose needs, one network security group per subnet that needs one, and the peerings of
/// each network (both directions: each side is a request on its own network).
pub(super) fn build_networks(
    b: &Blueprint,
    nets: &crate::blueprint::networks::Networks,
) -> (Vec<VnetM>, Vec<NsgM>) {
    use crate::blueprint::networks as n;
    use crate::blueprint::SubnetPurpose;
    let rg_id = format!(
        "/subscriptions/{}/resourceGroups/{}",
        b.subscription, b.resource_group
    );
    let apim = b.apim.as_ref().filter(|_| b.pattern.has_apim());
    let external = apim
        .and_then(|a| a.network.as_ref())
        .is_none_or(|x| x.mode == crate::blueprint::ApimVnetMode::External);
    let multi_region = apim.is_some_and(|a| !a.additional_regions.is_empty());
    let event_hub = apim
        .and_then(|a| a.logging.as_ref())
        .is_some_and(|l| l.event_hub.is_some());
    let mut vnets = Vec::new();
    let mut nsgs = Vec::new();
    for net in nets.nets.iter().filter(|x| x.created) {
        let name = n::short(&net.id).to_string();
        let mut subnets = Vec::new();
        for s in net.subnets {
            let nsg = match s.purpose {
                SubnetPurpose::PrivateEndpoints => None,
                SubnetPurpose::ApimInjection | SubnetPurpose::ApimIntegration => {
                    let nsg_name = format!("nsg-{name}-{}", s.name);
                    let id = format!(
                        "{rg_id}/providers/Microsoft.Network/networkSecurityGroups/{nsg_name}"
                    );
                    // Injection: the rules API Management requires. Integration: a group
                    // must be associated, no specific rules are required
                    // (learn.microsoft.com/azure/api-management/integrate-vnet-outbound#network-security-group).
                    let mut table: Vec<&n::NsgRule> = Vec::new();
                    if s.purpose == SubnetPurpose::ApimInjection {
                        if external {
                            table.extend(n::APIM_EXTERNAL_RULES);
                        }
                        table.extend(n::APIM_INJECTION_RULES);
                        if external && multi_region {
                            table.extend(n::APIM_MULTI_REGION_RULES);
                        }
                        if event_hub {
                            table.extend(n::APIM_EVENT_HUB_RULES);
                        }
                    }
                    let mut inbound = 100;
                    let mut outbound = 100;
                    let rules = table
                        .into_iter()
                        .map(|(rule, dir, src, dst, ports, proto, why)| {
                            let slot = if *dir == "Inbound" {
                                &mut inbound
                            } else {
                                &mut outbound
                            };
                            let priority = *slot;
                            *slot += 10;
                            NsgRuleM {
                                name: rule.to_string(),
                                description: why.to_string(),
                                direction: dir,
                                priority,
                                protocol: proto,
                                source: src,
                                destination: dst,
                                port: (ports.len() == 1).then(|| ports[0]),
                                ports: ports.to_vec(),
                            }
                        })
                        .collect();
                    nsgs.push(NsgM {
                        name: nsg_name,
                        id: id.clone(),
                        region: net.region.clone(),
                        rules,
                    });
                    Some(id)
                }
            };
            subnets.push(SubnetM {
                name: s.name.clone(),
                address_prefix: s.address_prefix.clone(),
                nsg_id: nsg,
                delegation: (s.purpose == SubnetPurpose::ApimIntegration)
                    .then_some("Microsoft.Web/serverFarms"),
            });
        }
        let peerings = net
            .peers
            .iter()
            .filter_map(|p| nets.find(p))
            .map(|remote| {
                let pname = format!("{name}-to-{}", n::short(&remote.id));
                PeeringM {
                    id: format!("{}/virtualNetworkPeerings/{pname}", net.id),
                    name: pname,
                    remote_id: remote.id.clone(),
                }
            })
            .collect();
        let space = b
            .networks
            .iter()
            .find(|x| x.name.as_deref() == Some(name.as_str()))
            .map(|x| x.address_space.clone())
            .unwrap_or_default();
        vnets.push(VnetM {
            name,
            id: net.id.clone(),
            region: net.region.clone(),
            address_space: space,
            subnets,
            peerings,
        });
    }
    (vnets, nsgs)
}
