//! The resolved architecture: every name, region, resource id and relationship that the templates
//! need, computed once from a validated blueprint. Templates only format; they never decide.
//!
//! One file per area: [`accounts`] (Azure OpenAI), [`apim`] (the gateway), [`front_door`],
//! [`network`] and [`private_dns`]; [`ids`] holds what they share, [`api`] the api-versions.

mod accounts;
pub mod api;
mod apim;
mod content_safety;
pub mod edge;
mod front_door;
mod ids;
mod network;
mod private_dns;
pub mod teams;
mod vnets;

use serde::Serialize;

pub use accounts::*;
pub use apim::*;
pub use content_safety::*;
pub use front_door::*;
pub use ids::*;
pub use network::*;
pub use vnets::*;

use crate::blueprint::{self, Blueprint};
use content_safety::build_content_safety;
use private_dns::build_private_dns;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    pub pattern: &'static str,
    pub subscription: String,
    pub resource_group: String,
    pub rg_id: String,
    pub location: String,
    /// Ownership id (the `aoai-arch-blueprint` tag value), see [`blueprint::owner_id`].
    pub owner: String,
    /// Tags on every taggable resource, including the ownership tag used by `plan` for pruning.
    pub tags: std::collections::BTreeMap<String, String>,
    /// The first deployment (what single-deployment messages name).
    pub deployment: DeploymentM,
    /// The virtual networks this blueprint creates, their security groups and peerings.
    pub networks: Vec<VnetM>,
    pub network_security_groups: Vec<NsgM>,
    /// Subnets the blueprint uses but does not create: preflight reads each before any write.
    #[serde(skip)]
    pub referenced_subnets: Vec<crate::blueprint::networks::SubnetUse>,
    /// Every deployment of the blueprint, in file order.
    pub deployments: Vec<DeploymentM>,
    pub content_safety: Option<ContentSafetyM>,
    pub accounts: Vec<AccountM>,
    pub private_dns: Option<PrivateDnsM>,
    pub public_network_access: &'static str,
    pub disable_local_auth: bool,
    pub apim: Option<ApimM>,
    /// `apim.instances`: more services with the primary's configuration, one per region.
    pub apim_instances: Vec<InstanceM>,
    pub front_door: Option<FrontDoorM>,
    /// Diagnostic settings into the blueprint's Log Analytics workspace, and the workspace.
    pub diagnostics: Option<edge::DiagnosticsM>,
    /// `afd`: the callers' data-plane role on every account.
    pub caller_roles: Vec<edge::CallerRoleM>,
    /// `pricing`: the chargeback query's price table.
    pub pricing: Vec<teams::PriceM>,
    /// Resources kept when no longer declared: `lifecycle.keep`, then `plan`/`apply --keep`.
    #[serde(skip)]
    pub keep: Vec<String>,
}

impl Model {
    pub fn build(b: &Blueprint) -> Model {
        let rg_id = format!(
            "/subscriptions/{}/resourceGroups/{}",
            b.subscription, b.resource_group
        );
        let owner = blueprint::owner_id(b);
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

        let nets = crate::blueprint::networks::Networks::of(b);
        let (networks, network_security_groups) = vnets::build_networks(b, &nets);
        let referenced_subnets = crate::blueprint::networks::uses(b)
            .into_iter()
            .filter(|u| !nets.creates(&u.subnet_id))
            .collect();
        let accounts = build_accounts(b, &rg_id, apim_id.as_deref(), managed_identity);
        let private_dns = build_private_dns(b, &rg_id, &accounts);

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
        let apim_ids: Vec<String> = apim
            .iter()
            .chain(apim_instances.iter().map(|i| &i.apim))
            .map(|a| a.id.clone())
            .collect();
        let content_safety = build_content_safety(b, &rg_id);
        let diagnostics = edge::diagnostics(
            b,
            &rg_id,
            &accounts,
            content_safety.as_ref().map(|c| c.id.as_str()),
            &apim_ids,
            front_door.as_ref().map(|f| f.profile_id.as_str()),
        );
        let caller_roles = edge::caller_roles(b, &accounts);

        let d = b.openai.first_deployment();
        Model {
            pattern: b.pattern.as_str(),
            subscription: b.subscription.clone(),
            resource_group: b.resource_group.clone(),
            rg_id,
            location: b.location.clone(),
            owner,
            tags,
            deployment: DeploymentM::of(d),
            deployments: b
                .openai
                .all_deployments()
                .into_iter()
                .map(DeploymentM::of)
                .collect(),
            content_safety,
            networks,
            network_security_groups,
            referenced_subnets,
            accounts,
            private_dns,
            public_network_access,
            disable_local_auth: !edge::local_auth(b),
            apim,
            apim_instances,
            front_door,
            diagnostics,
            caller_roles,
            pricing: teams::pricing(b),
            keep: b
                .lifecycle
                .as_ref()
                .map(|l| l.keep.clone())
                .unwrap_or_default(),
        }
    }
}
