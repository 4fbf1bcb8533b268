//! Private networking shared by the areas: private endpoints and their DNS zone groups, private
//! DNS zones and their virtual network links.

use serde::Serialize;

/// The private DNS zone of API Management's inbound private endpoints (group id `Gateway`).
pub const APIM_PRIVATE_DNS_ZONE: &str = "privatelink.azure-api.net";

/// The id of the private DNS zone `zone` in the resource group `rg_id`.
pub fn zone_id(rg_id: &str, zone: &str) -> String {
    format!("{rg_id}/providers/Microsoft.Network/privateDnsZones/{zone}")
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateEndpointM {
    pub name: String,
    pub id: String,
    pub subnet_id: String,
    /// The region of the subnet's virtual network (a private endpoint lives there; the
    /// resource it reaches may be elsewhere).
    pub location: String,
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
