//! Microsoft.Network: private endpoints (which API Management tiers accept them; the Approved
//! connection an automatic one leaves on its target; the subnet they go in), virtual networks
//! with their subnets (inline and as children), peerings, and the subnets API Management
//! joins.

use serde_json::{json, Value};

use crate::capabilities;
use crate::engine::*;
use crate::types::TypeSpec;

pub struct Network;

impl Provider for Network {
    fn capability_check(&self, e: &mut Engine, put: &Put) -> Option<Reply> {
        match put.spec.name {
            "microsoft.network/privateendpoints" => target_accepts(e, put),
            _ => None,
        }
    }

    fn check(&self, e: &mut Engine, put: &Put) -> Option<Reply> {
        network_checks(e, put.path, put.spec, put.body)
    }

    fn fill(
        &self,
        _e: &mut Engine,
        put: &Put,
        _doc: &mut serde_json::Map<String, Value>,
        props: &mut serde_json::Map<String, Value>,
    ) {
        match put.spec.name {
            "microsoft.network/virtualnetworks" => {
                if let Some(Value::Array(subnets)) = props.get_mut("subnets") {
                    for sn in subnets.iter_mut() {
                        let n = sn["name"].as_str().unwrap_or("").to_string();
                        sn["id"] = json!(format!("{}/subnets/{n}", put.path.id));
                        sn["type"] = json!("Microsoft.Network/virtualNetworks/subnets");
                        sn["properties"]["provisioningState"] = json!("Succeeded");
                    }
                }
            }
            "microsoft.network/virtualnetworks/virtualnetworkpeerings" => {
                props.insert("peeringState".into(), json!("Initiated"));
            }
            _ => {}
        }
    }

    fn after_put(&self, e: &mut Engine, path: &Path, spec: &TypeSpec, doc: &Value) {
        network_after_put(e, path, spec, doc);
        // A private endpoint with an automatic connection (`privateLinkServiceConnections`, the
        // caller may approve) to an API Management service leaves an Approved connection on it.
        if spec.name == "microsoft.network/privateendpoints" {
            let conns: Vec<Value> = doc["properties"]["privateLinkServiceConnections"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for c in conns {
                let target = c["properties"]["privateLinkServiceId"]
                    .as_str()
                    .unwrap_or("");
                let is_apim = e
                    .resources
                    .get(&target.to_lowercase())
                    .is_some_and(|r| r.spec == "microsoft.apimanagement/service");
                if !is_apim {
                    continue;
                }
                let name = format!(
                    "{}.{}",
                    path.id.rsplit('/').next().unwrap_or("pe"),
                    uuid::Uuid::new_v5(
                        &uuid::Uuid::NAMESPACE_URL,
                        path.id.to_lowercase().as_bytes()
                    )
                    .simple()
                );
                let id = format!("{target}/privateEndpointConnections/{name}");
                if e.resources.contains_key(&id.to_lowercase()) {
                    continue;
                }
                let now = e.now();
                e.resources.insert(
                    id.to_lowercase(),
                    Stored {
                        id: id.clone(),
                        spec: "microsoft.apimanagement/service/privateendpointconnections".into(),
                        doc: json!({
                            "id": id, "name": name, "type": "Microsoft.ApiManagement/service/privateEndpointConnections",
                            "properties": {
                                "privateEndpoint": { "id": path.id },
                                "groupIds": c["properties"]["groupIds"].clone(),
                                "privateLinkServiceConnectionState": { "status": "Approved", "description": "Auto-approved", "actionsRequired": "None" },
                                "provisioningState": "Succeeded"
                            }
                        }),
                        ready_at: now,
                        fail: None,
                        hidden: false,
                        deleting: false,
                        busy_state: "Succeeded".into(),
                    },
                );
            }
        }
    }
}

/// The API Management services it connects to accept inbound private endpoints.
fn target_accepts(e: &mut Engine, put: &Put) -> Option<Reply> {
    let body = put.body;
    let caps = capabilities::get();
    let conns = body["properties"]["privateLinkServiceConnections"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            body["properties"]["manualPrivateLinkServiceConnections"]
                .as_array()
                .into_iter()
                .flatten(),
        );
    for c in conns {
        let target = c["properties"]["privateLinkServiceId"]
            .as_str()
            .unwrap_or("");
        if let Some(sku) = super::apim::apim_sku(e, target).filter(|s| {
            !caps
                .apim_tier(s)
                .is_some_and(|t| t.inbound_private_endpoint)
        }) {
            return Some(error(400, "NotSupported", format!("Setting up Private Endpoint Connection for API Management service {target} is not supported by the {sku} tier. Tiers that support it: {}.", caps.apim_tiers_with(|t| t.inbound_private_endpoint).join(", ")), ""));
        }
        if super::apim::injected_classic_apim(e, target) {
            return Some(error(400, "NotSupported", format!("Setting up Private Endpoint Connection for API Management service {target} is not supported: the service is deployed in a virtual network (virtualNetworkType External or Internal). Please refer to https://aka.ms/apim-private-link on more details."), ""));
        }
    }
    None
}

/// A subnet (stored as a child of its network) and its network's region.
fn find_subnet(e: &Engine, id: &str) -> Option<(Value, String)> {
    let key = id.to_lowercase();
    let sub = e
        .resources
        .get(&key)
        .filter(|r| r.spec == "microsoft.network/virtualnetworks/subnets" && !r.deleting)?;
    let vnet = key.split("/subnets/").next()?;
    let region = e
        .resources
        .get(vnet)
        .map(|r| norm_loc(&r.doc["location"]))?;
    Some((sub.doc.clone(), region))
}

/// What the network provider refuses: a private endpoint on a subnet that does not exist
/// or whose network is in another region (NRP's `InvalidResourceReference`, with its text),
/// and API Management joining a subnet that does not exist, of a network in another region
/// than the service (or than an additional location), or, for v2 outbound integration, a
/// subnet not delegated to Microsoft.Web/serverFarms
/// (`VirtualNetworkSubnetHasIncorrectDelegation`, the code Azure answers, as reported in
/// Azure/terraform-azurerm-avm-ptn-aiml-landing-zone#93).
fn network_checks(e: &Engine, path: &Path, spec: &TypeSpec, body: &Value) -> Option<Reply> {
    let not_found = |subnet: &str| {
        error(
            400,
            "InvalidResourceReference",
            format!("Resource {subnet} referenced by resource {} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.", path.id),
            "",
        )
    };
    match spec.name {
        "microsoft.network/privateendpoints" => {
            let subnet = body["properties"]["subnet"]["id"].as_str().unwrap_or("");
            match find_subnet(e, subnet) {
                None => return Some(not_found(subnet)),
                Some((_, region)) if region != norm_loc(&body["location"]) => {
                    return Some(not_found(subnet))
                }
                _ => {}
            }
        }
        "microsoft.apimanagement/service" => {
            let p = &body["properties"];
            let sku = body["sku"]["name"].as_str().unwrap_or("");
            let integration = capabilities::get()
                .apim_tier(sku)
                .is_some_and(|t| t.outbound_vnet_integration);
            let mut joins = Vec::new();
            if p["virtualNetworkType"].as_str().unwrap_or("None") != "None" {
                if let Some(s) = p["virtualNetworkConfiguration"]["subnetResourceId"].as_str() {
                    joins.push((s.to_string(), norm_loc(&body["location"])));
                }
            }
            for l in p["additionalLocations"].as_array().into_iter().flatten() {
                if let Some(s) = l["virtualNetworkConfiguration"]["subnetResourceId"].as_str() {
                    joins.push((s.to_string(), norm_loc(&l["location"])));
                }
            }
            for (subnet, region) in joins {
                let Some((doc, net_region)) = find_subnet(e, &subnet) else {
                    return Some(not_found(&subnet));
                };
                if net_region != region {
                    return Some(error(400, "InvalidParameters", format!("The virtual network of subnet {subnet} is in {net_region}; API Management service {} joins only a virtual network in its own region ({region}).", path.id), "properties.virtualNetworkConfiguration.subnetResourceId"));
                }
                let delegated = doc["properties"]["delegations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|d| {
                        d["properties"]["serviceName"]
                            .as_str()
                            .is_some_and(|n| n.eq_ignore_ascii_case("Microsoft.Web/serverFarms"))
                    });
                if integration && !delegated {
                    return Some(error(400, "VirtualNetworkSubnetHasIncorrectDelegation", format!("Subnet {subnet} must be delegated to Microsoft.Web/serverFarms for the virtual network integration of API Management service {}.", path.id), "properties.virtualNetworkConfiguration.subnetResourceId"));
                }
            }
        }
        _ => {}
    }
    None
}

/// A network's inline subnets are its child subnets (the ones it no longer lists are gone);
/// a subnet written as a child appears in its network's list; a peering whose other side
/// exists is Connected on both sides.
fn network_after_put(e: &mut Engine, path: &Path, spec: &TypeSpec, doc: &Value) {
    let key = path.id.to_lowercase();
    let stored = |id: String, spec: &str, doc: Value, ready_at: f64| Stored {
        id,
        spec: spec.to_string(),
        doc,
        ready_at,
        fail: None,
        hidden: false,
        deleting: false,
        busy_state: "Updating".into(),
    };
    match spec.name {
        "microsoft.network/virtualnetworks" => {
            let ready_at = e.resources.get(&key).map_or(0.0, |r| r.ready_at);
            let prefix = format!("{key}/subnets/");
            let listed: Vec<Value> = doc["properties"]["subnets"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let keep: Vec<String> = listed
                .iter()
                .map(|sn| {
                    format!(
                        "{prefix}{}",
                        sn["name"].as_str().unwrap_or("").to_lowercase()
                    )
                })
                .collect();
            e.resources.retain(|k, _| {
                !k.starts_with(&prefix) || k[prefix.len()..].contains('/') || keep.contains(k)
            });
            for sn in listed {
                let id = sn["id"].as_str().unwrap_or("").to_string();
                e.resources.insert(
                    id.to_lowercase(),
                    stored(
                        id,
                        "microsoft.network/virtualnetworks/subnets",
                        sn,
                        ready_at,
                    ),
                );
            }
        }
        "microsoft.network/virtualnetworks/subnets" => {
            let parent = path.parent.clone().unwrap_or_default();
            if let Some(v) = e.resources.get_mut(&parent) {
                let mut item = doc.clone();
                item["properties"]["provisioningState"] = json!("Succeeded");
                let subnets = v.doc["properties"]
                    .as_object_mut()
                    .map(|p| p.entry("subnets").or_insert(json!([])));
                if let Some(Value::Array(list)) = subnets {
                    list.retain(|x| {
                        !x["id"]
                            .as_str()
                            .is_some_and(|i| i.eq_ignore_ascii_case(&path.id))
                    });
                    list.push(item);
                }
            }
        }
        "microsoft.network/virtualnetworks/virtualnetworkpeerings" => {
            let me = key
                .split("/virtualnetworkpeerings/")
                .next()
                .unwrap_or("")
                .to_string();
            let remote = doc["properties"]["remoteVirtualNetwork"]["id"]
                .as_str()
                .unwrap_or("")
                .to_lowercase();
            let back: Option<String> = e
                .resources
                .iter()
                .find(|(k, r)| {
                    r.spec == spec.name
                        && k.starts_with(&format!("{remote}/virtualnetworkpeerings/"))
                        && r.doc["properties"]["remoteVirtualNetwork"]["id"]
                            .as_str()
                            .is_some_and(|i| i.eq_ignore_ascii_case(&me))
                })
                .map(|(k, _)| k.clone());
            if let Some(back) = back {
                for k in [back, key] {
                    if let Some(r) = e.resources.get_mut(&k) {
                        r.doc["properties"]["peeringState"] = json!("Connected");
                    }
                }
            }
        }
        _ => {}
    }
}
