//! Azure Front Door Premium: profile, endpoint, origin group and origins (the accounts, or the
//! gateway's regions), Private Link to them, rule sets, custom domain, WAF.

use serde::Serialize;

use super::accounts::AccountM;
use super::apim::{ApimM, InstanceM};
use crate::blueprint::{self, Blueprint, Pattern};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FrontDoorM {
    pub profile: String,
    pub profile_id: String,
    pub endpoint: String,
    pub endpoint_id: String,
    pub origin_group: String,
    pub origin_group_id: String,
    pub probe_path: String,
    pub probe_protocol: &'static str,
    pub probe_method: &'static str,
    pub probe_interval: u32,
    pub sample_size: u32,
    pub successful_samples: u32,
    pub additional_latency_ms: u32,
    pub origin_timeout: u32,
    pub origins: Vec<OriginM>,
    pub route: String,
    pub route_id: String,
    pub waf_name: String,
    pub waf_id: String,
    pub waf_mode: &'static str,
    pub rule_sets: Vec<RuleSetM>,
    pub security_policy: String,
    pub security_policy_id: String,
    pub custom_domain: Option<CustomDomainM>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OriginM {
    pub name: String,
    pub id: String,
    pub host: String,
    pub weight: u32,
    pub priority: u32,
    /// Private Link to the APIM gateway (`afd-apim` only).
    pub private_link: Option<PrivateLinkM>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateLinkM {
    pub target_id: String,
    pub group_id: &'static str,
    pub location: String,
    pub request_message: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleSetM {
    pub rule_set_type: String,
    pub version: String,
    pub action: Option<String>,
    /// JSON body fields excluded from this rule set's inspection (prompts).
    pub prompt_exclusions: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomDomainM {
    pub name: String,
    pub id: String,
    pub host_name: String,
}

pub(crate) fn build_front_door(
    b: &Blueprint,
    f: &blueprint::FrontDoor,
    rg_id: &str,
    accounts: &[AccountM],
    apim: Option<&ApimM>,
    instances: &[InstanceM],
) -> FrontDoorM {
    let profile_id = format!("{rg_id}/providers/Microsoft.Cdn/profiles/{}", f.profile);
    let og_id = format!("{profile_id}/originGroups/{}", f.origin_group.name);
    let origins = match (b.pattern, apim) {
        (Pattern::AfdApim, Some(apim)) => std::iter::once(apim)
            .chain(instances.iter().map(|i| &i.apim))
            .flat_map(|apim| apim.regions.iter().map(move |r| (apim, r)))
            .map(|(apim, r)| {
                let name = format!("apim-{}", r.region);
                let request_message =
                    format!("Front Door {} origin {name} to API Management", f.profile);
                OriginM {
                    id: format!("{og_id}/origins/{name}"),
                    name,
                    host: r.gateway_host.clone(),
                    weight: r.weight,
                    priority: r.priority,
                    private_link: f.private_link.then(|| PrivateLinkM {
                        target_id: apim.id.clone(),
                        group_id: "Gateway",
                        // Front Door lists the regions it offers Private Link in; elsewhere it
                        // says to pick the nearest listed one (lint AOAI024 says which).
                        location: arm_emulator::capabilities::get()
                            .front_door_private_link_region(&r.region)
                            .unwrap_or(&r.region)
                            .to_string(),
                        request_message: request_message.clone(),
                    }),
                }
            })
            .collect(),
        _ => accounts
            .iter()
            .map(|a| OriginM {
                id: format!("{og_id}/origins/{}", a.name),
                name: a.name.clone(),
                host: a.host.clone(),
                weight: a.weight,
                priority: a.priority,
                private_link: None,
            })
            .collect(),
    };
    let endpoint_id = format!("{profile_id}/afdEndpoints/{}", f.endpoint);
    let waf_id = format!(
        "{rg_id}/providers/Microsoft.Network/FrontDoorWebApplicationFirewallPolicies/{}",
        f.waf.name
    );
    FrontDoorM {
        profile: f.profile.clone(),
        endpoint: f.endpoint.clone(),
        route: "default".into(),
        route_id: format!("{endpoint_id}/routes/default"),
        endpoint_id,
        origin_group: f.origin_group.name.clone(),
        origin_group_id: og_id,
        probe_path: super::edge::probe_path(b, &f.origin_group.probe),
        probe_protocol: f.origin_group.probe.protocol.as_str(),
        probe_method: f.origin_group.probe.method.as_str(),
        probe_interval: f.origin_group.probe.interval_seconds,
        sample_size: f.origin_group.sample_size,
        successful_samples: f.origin_group.successful_samples_required,
        additional_latency_ms: f.origin_group.additional_latency_ms,
        origin_timeout: f.origin_timeout_seconds,
        origins,
        waf_name: f.waf.name.clone(),
        waf_id,
        waf_mode: f.waf.mode.as_str(),
        rule_sets: f
            .waf
            .managed_rule_sets
            .iter()
            .map(|r| RuleSetM {
                prompt_exclusions: super::edge::prompt_exclusions(
                    &r.rule_set_type,
                    &r.version,
                    &f.waf.prompt_fields,
                ),
                rule_set_type: r.rule_set_type.clone(),
                version: r.version.clone(),
                action: r.action.map(|a| a.as_str().to_string()),
            })
            .collect(),
        security_policy: "waf".into(),
        security_policy_id: format!("{profile_id}/securityPolicies/waf"),
        custom_domain: f.custom_domain.as_ref().map(|d| CustomDomainM {
            id: format!("{profile_id}/customDomains/{}", d.name),
            name: d.name.clone(),
            host_name: d.host_name.clone(),
        }),
        profile_id,
    }
}
