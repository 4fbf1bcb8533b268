//! API Management networking combinations Azure refuses (AOAI050-AOAI053): an inbound private
//! endpoint where the tier or an injection forbids it, and a public-access lock-down with no
//! private path left. The tier facts come from `data/capabilities/apim.json`; the rules of the
//! virtual network itself (which tier joins one, Internal mode behind Front Door) are
//! AOAI016-AOAI028 in [`super::capability`].

use arm_emulator::capabilities;

use crate::blueprint::{Blueprint, Pattern, PublicNetworkAccess};

use super::Ctx;

pub(super) fn check(c: &mut Ctx, b: &Blueprint) {
    let mut found = Vec::new();
    problems(b, &mut found);
    for (i, one) in crate::blueprint::instances::instance_blueprints(b) {
        let mut more = Vec::new();
        problems(&one, &mut more);
        found.extend(more.into_iter().map(|(id, field, m)| {
            (
                id,
                crate::blueprint::instances::instance_field(i, &field),
                m,
            )
        }));
    }
    regions(b, &mut found);
    for (id, field, message) in found {
        c.at_field(id, &field, message);
    }
}

/// AOAI055: API Management joins only a network of its own region. Lint knows the region of
/// every network the blueprint lists (`networks[].region`); preflight reads the others.
fn regions(b: &Blueprint, out: &mut Vec<Problem>) {
    let nets = crate::blueprint::networks::Networks::of(b);
    for u in crate::blueprint::networks::uses(b) {
        let (Some(want), Some(net)) = (
            &u.region,
            nets.find(&crate::blueprint::networks::vnet_of(&u.subnet_id)),
        ) else {
            continue;
        };
        // A region name that is not one is a validation error of its own.
        if crate::blueprint::regions::display_name(want).is_none() {
            continue;
        }
        if !net.region.eq_ignore_ascii_case(want) {
            out.push((
                "AOAI055",
                u.field.clone(),
                format!(
                    "the gateway in {want} uses subnet {} of network {} ({}.region: {}): {} needs a network in {want}",
                    crate::blueprint::networks::short(&u.subnet_id),
                    crate::blueprint::networks::short(&net.id),
                    net.field,
                    net.region,
                    u.usage.what()
                ),
            ));
        }
    }
}

type Problem = (&'static str, String, String);

fn problems(b: &Blueprint, out: &mut Vec<Problem>) {
    let Some(apim) = b.apim.as_ref().filter(|_| b.pattern.has_apim()) else {
        return;
    };
    let Some(n) = &apim.network else {
        return;
    };
    let caps = capabilities::get();
    let sku = apim.sku.name.as_str();
    let Some(tier) = caps.apim_tier(sku) else {
        return;
    };
    let injected_classic =
        n.subnet_id.is_some() && tier.vnet_injection && !tier.outbound_vnet_integration;
    let pe_ok = n.private_endpoint.is_some() && tier.inbound_private_endpoint && !injected_classic;
    if n.private_endpoint.is_some() {
        if !tier.inbound_private_endpoint {
            out.push((
                "AOAI051",
                "apim.network.privateEndpoint".into(),
                format!(
                    "the {sku} tier offers no inbound private endpoint (tiers that do: {})",
                    caps.apim_tiers_with(|t| t.inbound_private_endpoint)
                        .join(", ")
                ),
            ));
        } else if injected_classic {
            out.push((
                "AOAI050",
                "apim.network.privateEndpoint".into(),
                format!("API Management {sku} is injected in a virtual network (apim.network.subnetId), so it accepts no inbound private endpoint"),
            ));
        }
    }
    let dns = b.networking.as_ref().and_then(|n| n.private_dns.as_ref());
    if pe_ok && dns.is_none_or(|d| d.vnet_links.is_empty()) {
        out.push((
            "AOAI054",
            "apim.network.privateEndpoint".into(),
            format!("no network is linked to {}: callers resolve {}.azure-api.net to its public address, not to the private endpoint", crate::model::APIM_PRIVATE_DNS_ZONE, apim.name),
        ));
    }
    if n.public_network_access != Some(PublicNetworkAccess::Disabled) {
        return;
    }
    let front_door = b
        .front_door
        .as_ref()
        .filter(|_| b.pattern == Pattern::AfdApim);
    let front_door_link = front_door.is_some_and(|f| f.private_link)
        && tier.front_door_private_link
        && !injected_classic;
    if !pe_ok && !front_door_link {
        out.push((
            "AOAI052",
            "apim.network.publicNetworkAccess".into(),
            format!("public network access Disabled, but API Management {sku} gets no approved private endpoint connection (no valid apim.network.privateEndpoint, no Front Door Private Link): Azure refuses the lock-down"),
        ));
    }
    if front_door.is_some_and(|f| !f.private_link) {
        out.push((
            "AOAI053",
            "apim.network.publicNetworkAccess".into(),
            "Front Door reaches the gateway on its public endpoint (frontDoor.privateLink is false), which public network access Disabled closes".into(),
        ));
    }
}
