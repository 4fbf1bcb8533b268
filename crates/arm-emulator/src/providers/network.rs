//! Microsoft.Network: private endpoints (which API Management tiers accept them; the Approved
//! connection an automatic one leaves on its target).

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

    fn after_put(&self, e: &mut Engine, path: &Path, spec: &TypeSpec, doc: &Value) {
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
