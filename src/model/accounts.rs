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

impl DeploymentM {
    pub(crate) fn of(d: &blueprint::Deployment) -> DeploymentM {
        DeploymentM {
            name: d.name.clone(),
            model_name: d.model.name.clone(),
            model_version: d.model.version.clone(),
            sku_name: d.sku.name.clone(),
            capacity: d.sku.capacity,
            version_upgrade_option: d.version_upgrade_option.unwrap_or_default().as_str(),
        }
    }
}

/// One deployment on one account: the body of its `accounts/deployments` request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountDeploymentM {
    pub id: String,
    pub name: String,
    pub model_name: String,
    pub model_version: String,
    pub sku_name: String,
    pub capacity: u32,
    pub version_upgrade_option: &'static str,
    pub rai_policy_name: String,
    /// `properties.spilloverDeploymentName` (native spillover of a provisioned deployment).
    pub spillover: Option<String>,
    pub provisioned: bool,
    /// The blueprint field of the deployment (`openai.deployments[1]`), for findings.
    #[serde(skip)]
    pub field: String,
}

impl AccountDeploymentM {
    /// Deployment `d` on an account, with the account's SKU of it (`sku`).
    pub(crate) fn of(
        account_id: &str,
        d: &blueprint::Deployment,
        sku: &blueprint::DeploymentSku,
        field: String,
    ) -> AccountDeploymentM {
        let provisioned = blueprint::is_provisioned(&sku.name);
        AccountDeploymentM {
            field,
            id: format!("{account_id}/deployments/{}", d.name),
            name: d.name.clone(),
            model_name: d.model.name.clone(),
            model_version: d.model.version.clone(),
            sku_name: sku.name.clone(),
            capacity: sku.capacity,
            version_upgrade_option: d.version_upgrade_option.unwrap_or_default().as_str(),
            rai_policy_name: d
                .rai_policy
                .clone()
                .unwrap_or_else(|| "Microsoft.DefaultV2".into()),
            // Only a provisioned deployment spills over (Azure refuses it on a standard one).
            spillover: d.spillover.clone().filter(|_| provisioned),
            provisioned,
        }
    }
}

/// A custom RAI policy on one account.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiPolicyM {
    pub id: String,
    pub name: String,
    pub base_policy_name: String,
    pub mode: Option<String>,
    pub content_filters: Vec<RaiFilterM>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiFilterM {
    pub name: String,
    pub source: String,
    pub severity_threshold: Option<String>,
    pub blocking: bool,
    pub enabled: bool,
}

fn rai_policy(account_id: &str, p: &blueprint::RaiPolicy) -> RaiPolicyM {
    RaiPolicyM {
        id: format!("{account_id}/raiPolicies/{}", p.name),
        name: p.name.clone(),
        base_policy_name: p
            .base_policy_name
            .clone()
            .unwrap_or_else(|| "Microsoft.DefaultV2".into()),
        mode: p.mode.map(|m| text(&m)),
        content_filters: p
            .content_filters
            .iter()
            .map(|f| RaiFilterM {
                name: f.name.clone(),
                source: text(&f.source),
                severity_threshold: f.severity_threshold.map(|s| text(&s)),
                blocking: f.blocking,
                enabled: f.enabled,
            })
            .collect(),
    }
}

/// The blueprint (and ARM) spelling of a unit enum value.
fn text<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
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
    /// The id of the account's first deployment.
    pub deployment_id: String,
    /// The deployments this account serves, in the order they are written: a spillover
    /// target before the provisioned deployment that names it.
    pub deployments: Vec<AccountDeploymentM>,
    /// The custom RAI policies its deployments name, written before them.
    pub rai_policies: Vec<RaiPolicyM>,
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
            let mut deployments: Vec<AccountDeploymentM> = b
                .openai
                .deployments_of(a)
                .into_iter()
                .map(|d| {
                    let all = b.openai.all_deployments();
                    let i = all.iter().position(|x| x.name == d.name).unwrap_or(0);
                    let sku = blueprint::OpenAi::sku_on(a, d);
                    AccountDeploymentM::of(&id, d, sku, b.openai.deployment_field(i))
                })
                .collect();
            // Azure refuses a spillover target that does not exist yet: targets first.
            deployments.sort_by_key(|d| d.spillover.is_some());
            let rai_policies: Vec<RaiPolicyM> = b
                .openai
                .rai_policies
                .iter()
                .filter(|p| deployments.iter().any(|d| d.rai_policy_name == p.name))
                .map(|p| rai_policy(&id, p))
                .collect();
            AccountM {
                rai_policies,
                deployment_id: deployments
                    .first()
                    .map(|d| d.id.clone())
                    .unwrap_or_default(),
                deployments,
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
