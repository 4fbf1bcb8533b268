//! Microsoft.Cdn (Front Door Premium): profiles, endpoints, custom domains, origins over Private
//! Link (supported locations and targets; the Pending connection an origin leaves on its target).

use serde_json::{json, Map, Value};

use crate::capabilities;
use crate::engine::*;
use crate::types::TypeSpec;

pub struct Cdn;

impl Provider for Cdn {
    fn capability_check(&self, e: &mut Engine, put: &Put) -> Option<Reply> {
        match put.spec.name {
            "microsoft.cdn/profiles/origingroups/origins" => private_link_offered(e, put),
            _ => None,
        }
    }

    fn check(&self, e: &mut Engine, put: &Put) -> Option<Reply> {
        match put.spec.name {
            "microsoft.cdn/profiles/origingroups/origins" => origin_allowed(e, put),
            _ => None,
        }
    }

    fn fill(
        &self,
        e: &mut Engine,
        put: &Put,
        doc: &mut Map<String, Value>,
        props: &mut Map<String, Value>,
    ) {
        match put.spec.name {
            "microsoft.cdn/profiles/afdendpoints" => endpoint_host(e, put, doc, props),
            "microsoft.cdn/profiles/customdomains" => domain_validation(e, put, doc, props),
            "microsoft.cdn/profiles" => front_door_id(e, put, doc, props),
            _ => {}
        }
    }

    fn after_put(&self, e: &mut Engine, path: &Path, spec: &TypeSpec, doc: &Value) {
        // A Front Door origin over Private Link leaves a Pending connection on its target.
        if spec.name == "microsoft.cdn/profiles/origingroups/origins" {
            let spl = &doc["properties"]["sharedPrivateLinkResource"];
            if let Some(target) = spl["privateLink"]["id"].as_str() {
                let target_key = target.to_lowercase();
                let target_spec = e
                    .resources
                    .get(&target_key)
                    .map(|r| r.spec.clone())
                    .unwrap_or_default();
                let ns_child = if target_spec.starts_with("microsoft.apimanagement") {
                    "microsoft.apimanagement/service/privateendpointconnections"
                } else {
                    "microsoft.cognitiveservices/accounts/privateendpointconnections"
                };
                let name = format!(
                    "afd-{}",
                    uuid::Uuid::new_v5(
                        &uuid::Uuid::NAMESPACE_URL,
                        path.id.to_lowercase().as_bytes()
                    )
                    .simple()
                );
                let id = format!("{target}/privateEndpointConnections/{name}");
                let already = e.resources.contains_key(&id.to_lowercase());
                if !already {
                    let now = e.now();
                    e.resources.insert(
                        id.to_lowercase(),
                        Stored {
                            id: id.clone(),
                            spec: ns_child.to_string(),
                            doc: json!({
                                "id": id, "name": name, "type": format!("{}/privateEndpointConnections", target_spec_type(&target_spec)),
                                "properties": {
                                    "privateEndpoint": { "id": format!("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/eastus2euap-afd/providers/Microsoft.Network/privateEndpoints/{name}") },
                                    "groupIds": [spl["groupId"].as_str().unwrap_or("")],
                                    "privateLinkServiceConnectionState": { "status": "Pending", "description": spl["requestMessage"].as_str().unwrap_or(""), "actionsRequired": "None" },
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
}

/// A Private Link location or target Front Door does not support.
fn private_link_offered(e: &mut Engine, put: &Put) -> Option<Reply> {
    let body = put.body;
    let caps = capabilities::get();
    let _name = put.path.id.rsplit('/').next().unwrap_or("").to_string();
    let spl = &body["properties"]["sharedPrivateLinkResource"];
    if let Some(loc) = spl["privateLinkLocation"].as_str() {
        if !caps.front_door_private_link_supported(loc) {
            return Some(error(
                400,
                "BadRequest",
                format!("The location of the Private Link \"{loc}\" is invalid or not supported."),
                "properties.sharedPrivateLinkResource.privateLinkLocation",
            ));
        }
    }
    let target = spl["privateLink"]["id"].as_str().unwrap_or("");
    let target_tier = e
        .resources
        .get(&target.to_lowercase())
        .filter(|r| r.spec == "microsoft.apimanagement/service")
        .and_then(|r| r.doc["sku"]["name"].as_str())
        .and_then(|sku| caps.apim_tier(sku).map(|t| (sku.to_string(), *t)));
    if let Some((sku, _)) = target_tier.filter(|(_, t)| !t.front_door_private_link) {
        return Some(error(400, "BadRequest", format!("The private link resource '{target}' does not accept Front Door Private Link: the {sku} tier of API Management is not a supported origin."), "properties.sharedPrivateLinkResource.privateLink.id"));
    }
    if super::apim::injected_classic_apim(e, target) {
        return Some(error(400, "BadRequest", format!("The private link resource '{target}' does not accept private endpoint connections: API Management services deployed in a virtual network (virtualNetworkType External or Internal) do not support private endpoints."), "properties.sharedPrivateLinkResource.privateLink.id"));
    }
    None
}

/// The Private Link target exists; an origin group does not mix private and public origins.
fn origin_allowed(e: &mut Engine, put: &Put) -> Option<Reply> {
    let spec = put.spec;
    let body = put.body;
    let key = put.path.id.to_lowercase();
    let parent = put.path.parent.clone().unwrap_or_default();
    let spl = &body["properties"]["sharedPrivateLinkResource"];
    let private = spl.is_object();
    if let Some(target) = spl["privateLink"]["id"].as_str() {
        if !e.exists_ready(&target.to_lowercase()) {
            return Some(error(
                400,
                "BadRequest",
                format!("The private link resource '{target}' was not found."),
                "properties.sharedPrivateLinkResource.privateLink.id",
            ));
        }
    }
    let mixed = e.resources.iter().any(|(k, r)| {
        *k != key
            && r.spec == spec.name
            && k.starts_with(&format!("{parent}/"))
            && r.doc["properties"]["sharedPrivateLinkResource"].is_object() != private
    });
    if mixed {
        return Some(error(
            400,
            "BadRequest",
            "An origin group cannot mix origins with and without Private Link.",
            "properties.sharedPrivateLinkResource",
        ));
    }
    None
}

/// The endpoint's host name.
fn endpoint_host(
    e: &mut Engine,
    put: &Put,
    _doc: &mut Map<String, Value>,
    props: &mut Map<String, Value>,
) {
    let name = put.path.id.rsplit('/').next().unwrap_or("").to_string();
    let h = |what: &str| e.stable_uuid(&put.path.id, what);
    let hash: String = h("endpoint").simple().to_string()[..16].to_string();
    props.insert(
        "hostName".into(),
        json!(format!("{name}-{hash}.z01.azurefd.net")),
    );
}

/// A custom domain waits for its DNS validation.
fn domain_validation(
    e: &mut Engine,
    put: &Put,
    _doc: &mut Map<String, Value>,
    props: &mut Map<String, Value>,
) {
    let h = |what: &str| e.stable_uuid(&put.path.id, what);
    props.insert("domainValidationState".into(), json!("Pending"));
    props.insert("validationProperties".into(), json!({ "validationToken": h("validation").simple().to_string(), "expirationDate": "2027-01-01T00:00:00Z" }));
}

/// The profile's Front Door id (the `X-Azure-FDID` header).
fn front_door_id(
    e: &mut Engine,
    put: &Put,
    _doc: &mut Map<String, Value>,
    props: &mut Map<String, Value>,
) {
    let h = |what: &str| e.stable_uuid(&put.path.id, what);
    props.insert("frontDoorId".into(), json!(h("fdid").to_string()));
}

fn target_spec_type(spec: &str) -> &'static str {
    if spec.starts_with("microsoft.apimanagement") {
        "Microsoft.ApiManagement/service"
    } else {
        "Microsoft.CognitiveServices/accounts"
    }
}
