//! The private DNS zones the private endpoints register in: one per zone the accounts' kinds
//! and the gateway's inbound private endpoint need, each linked to the blueprint's networks.

use super::accounts::AccountM;
use super::network::{zone_id, PrivateDnsM, VnetLinkM, ZoneM, APIM_PRIVATE_DNS_ZONE};
use crate::blueprint::Blueprint;

/// The zones of `networking.private_dns`, for the accounts with a private endpoint and the
/// gateway's inbound one.
pub(crate) fn build_private_dns(
    b: &Blueprint,
    rg_id: &str,
    accounts: &[AccountM],
) -> Option<PrivateDnsM> {
    let networking = b.networking.as_ref();
    let zone_id = |zone: &str| zone_id(rg_id, zone);
    networking.and_then(|n| n.private_dns.as_ref()).map(|d| {
        // The union of the zones of the kinds of the accounts with a private endpoint, in
        // a stable order.
        let mut names: Vec<&str> = b
            .openai
            .accounts
            .iter()
            .filter(|a| {
                accounts
                    .iter()
                    .any(|m| m.name == a.name && m.private_endpoint.is_some())
            })
            .flat_map(|a| {
                a.kind
                    .or(b.openai.kind)
                    .unwrap_or_default()
                    .private_dns_zones()
            })
            .copied()
            .collect();
        let apim_pe = b
            .apim
            .as_ref()
            .and_then(|a| a.network.as_ref())
            .is_some_and(|n| n.private_endpoint.is_some());
        if apim_pe && b.pattern.has_apim() {
            names.push(APIM_PRIVATE_DNS_ZONE);
        }
        // The Content Safety account's private endpoint (group `account`, a Cognitive
        // Services account).
        if b.content_safety
            .as_ref()
            .is_some_and(|c| c.subnet_id.is_some())
        {
            names.push(super::content_safety::CONTENT_SAFETY_PRIVATE_DNS_ZONE);
        }
        names.sort_unstable();
        names.dedup();
        let zones = names
            .into_iter()
            .map(|zone| {
                let zid = zone_id(zone);
                let links = d
                    .vnet_links
                    .iter()
                    .map(|v| {
                        let vnet = v.rsplit('/').next().unwrap_or(v);
                        let name = format!("link-{vnet}");
                        VnetLinkM {
                            id: format!("{zid}/virtualNetworkLinks/{name}"),
                            name,
                            vnet_id: v.clone(),
                        }
                    })
                    .collect();
                ZoneM {
                    zone: zone.to_string(),
                    zone_id: zid,
                    links,
                }
            })
            .collect();
        PrivateDnsM { zones }
    })
}
