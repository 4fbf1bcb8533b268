//! Azure OpenAI accounts: the model deployment, each account's endpoints, private endpoint and
//! the gateway's role assignment on it.

use serde::Serialize;

use super::ids::arm_guid;
use super::network::{zone_id, PrivateEndpointM, ZoneConfigM};
use crate::blueprint::{self, regions, Blueprint};

/// "Cognitive Services OpenAI User": call inference APIs, no management rights.
pub const ROLE_OPENAI_USER: &str = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd";

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentM {
    pub name: String,
    pub model_name: String,
    pub model_version: String,
    pub sku_name: String,
    pub capacity: u32,
    /// `properties.versionUpgradeOption` (`NoAutoUpgrade` unless the blueprint says).
    pub version_upgrade_option: &'static str,
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

/// One resolved account per `openai.accounts` entry; `apim_id` and `managed_identity` decide
/// whether the gateway gets a role assignment on it.
pub(crate) fn build_accounts(
    b: &Blueprint,
    rg_id: &str,
    apim_id: Option<&str>,
    managed_identity: bool,
) -> Vec<AccountM> {
    let display = |r: &str| regions::display_name(r).unwrap_or(r).to_string();
    let networking = b.networking.as_ref();
    let zone_id = |zone: &str| zone_id(rg_id, zone);
    let nets = crate::blueprint::networks::Networks::of(b);
    let with_dns = networking.is_some_and(|n| n.private_dns.is_some());
    b.openai
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
                        location: nets
                            .region_of_subnet(&p.subnet_id)
                            .unwrap_or(&a.region)
                            .to_string(),
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
        .collect()
}
