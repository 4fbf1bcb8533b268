//! Azure AI Content Safety: the account the gateway's `llm-content-safety` policy calls, the
//! gateway's role on it, its backend and its private endpoint.

use serde::Serialize;

use super::ids::arm_guid;
use super::network::{zone_id, PrivateEndpointM, ZoneConfigM};
use crate::blueprint::{self, Blueprint};

/// "Cognitive Services User": what the gateway's identity needs to call Content Safety
/// (learn.microsoft.com/azure/api-management/llm-content-safety-policy, prerequisites, read
/// 2026-12-06).
pub const ROLE_COGNITIVE_SERVICES_USER: &str = "a97b65f3-24c7-4388-baec-2e87135dc908";

/// The token audience of the Content Safety backend's managed identity credentials: the
/// policy page asks for exactly this resource.
pub const CONTENT_SAFETY_RESOURCE: &str = "https://cognitiveservices.azure.com";

/// The private DNS zone of a Cognitive Services account's private endpoint (group `account`).
pub const CONTENT_SAFETY_PRIVATE_DNS_ZONE: &str = "privatelink.cognitiveservices.azure.com";

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentSafetyM {
    pub name: String,
    pub id: String,
    pub region: String,
    pub subdomain: String,
    /// `https://<subdomain>.cognitiveservices.azure.com`: the backend URL the policy needs.
    pub url: String,
    /// `Disabled` when the blueprint is private (then with a private endpoint).
    pub public_network_access: &'static str,
    pub private_endpoint: Option<PrivateEndpointM>,
    /// APIM backend name (the policy's `backend-id`).
    pub backend_name: String,
    pub shield_prompt: bool,
    pub enforce_on_completions: bool,
    pub output_type: &'static str,
    pub categories: Vec<CategoryM>,
    pub blocklists: Vec<String>,
    pub resource: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryM {
    pub name: &'static str,
    pub threshold: u32,
}

/// The role assignment of gateway `apim_id`'s identity on the Content Safety account (one per
/// API Management service: `apim.instances` get their own).
pub fn content_safety_role_id(cs: &ContentSafetyM, apim_id: &str) -> String {
    let name = arm_guid(&[&cs.id, apim_id, ROLE_COGNITIVE_SERVICES_USER]);
    format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/{name}",
        cs.id
    )
}

pub(crate) fn build_content_safety(b: &Blueprint, rg_id: &str) -> Option<ContentSafetyM> {
    let cs = b.content_safety.as_ref()?;
    let id = format!(
        "{rg_id}/providers/Microsoft.CognitiveServices/accounts/{}",
        cs.name
    );
    let subdomain = cs
        .custom_subdomain
        .clone()
        .unwrap_or_else(|| cs.name.to_lowercase());
    let networking = b.networking.as_ref();
    let private = networking.and_then(|n| n.public_network_access)
        == Some(blueprint::PublicNetworkAccess::Disabled);
    // Registered in the Cognitive Services zone, which networking.privateDns then creates.
    let zone = CONTENT_SAFETY_PRIVATE_DNS_ZONE;
    let with_zone = networking.is_some_and(|n| n.private_dns.is_some());
    let private_endpoint = cs.subnet_id.as_ref().map(|subnet| {
        let name = format!("pe-{}", cs.name);
        let pid = format!("{rg_id}/providers/Microsoft.Network/privateEndpoints/{name}");
        PrivateEndpointM {
            // A private endpoint lives in its network's region, not the account's.
            location: crate::blueprint::networks::Networks::of(b)
                .region_of_subnet(subnet)
                .unwrap_or(cs.region.as_deref().unwrap_or(&b.location))
                .to_string(),
            zone_group_id: format!("{pid}/privateDnsZoneGroups/default"),
            connection_name: format!("{name}-connection"),
            group_id: "account",
            zone_configs: with_zone
                .then(|| ZoneConfigM {
                    name: zone.replace('.', "-"),
                    zone_id: zone_id(rg_id, zone),
                })
                .into_iter()
                .collect(),
            name,
            id: pid,
            subnet_id: subnet.clone(),
        }
    });
    Some(ContentSafetyM {
        region: cs.region.clone().unwrap_or_else(|| b.location.clone()),
        url: format!("https://{subdomain}.cognitiveservices.azure.com"),
        public_network_access: if private { "Disabled" } else { "Enabled" },
        private_endpoint,
        backend_name: "content-safety".into(),
        shield_prompt: cs.shield_prompt,
        enforce_on_completions: cs.enforce_on_completions,
        output_type: cs.output_type.as_str(),
        categories: cs
            .categories
            .iter()
            .map(|c| CategoryM {
                name: c.name.as_str(),
                threshold: c.threshold,
            })
            .collect(),
        blocklists: cs.blocklists.clone(),
        resource: CONTENT_SAFETY_RESOURCE,
        name: cs.name.clone(),
        subdomain,
        id,
    })
}
