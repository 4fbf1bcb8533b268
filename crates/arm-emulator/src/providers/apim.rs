//! Microsoft.ApiManagement: the service (tier features: virtual network, multi-region, inbound
//! private endpoints, public network access; gateway URLs; managed identity) and its APIs (one
//! write at a time per API), products (their API links and policies) and subscriptions, whose
//! keys the emulator generates and returns only to `listSecrets`.

use serde_json::{json, Map, Value};

use crate::capabilities;
use crate::engine::*;

pub struct Apim;

impl Provider for Apim {
    fn capability_check(&self, e: &mut Engine, put: &Put) -> Option<Reply> {
        match put.spec.name {
            "microsoft.apimanagement/service" => tier_allows(e, put),
            _ => None,
        }
    }

    fn check(&self, e: &mut Engine, put: &Put) -> Option<Reply> {
        match put.spec.name {
            s if s.starts_with("microsoft.apimanagement/service/apis") => api_not_locked(e, put),
            "microsoft.apimanagement/service/products/apilinks" => api_link_target(e, put),
            "microsoft.apimanagement/service/subscriptions" => subscription_scope(e, put),
            _ => None,
        }
    }

    fn route(
        &self,
        e: &mut Engine,
        method: &str,
        id: &str,
        _sub: &str,
        _api_version: &str,
    ) -> Option<Reply> {
        let lower = id.to_lowercase();
        let sid = lower.strip_suffix("/listsecrets")?;
        if !sid.contains("/providers/microsoft.apimanagement/service/") {
            return None;
        }
        if method != "POST" {
            return Some(error(
                405,
                "MethodNotAllowed",
                format!("{method} is not supported."),
                "",
            ));
        }
        if !e.exists_ready(sid) {
            return Some(error(
                404,
                "ResourceNotFound",
                "Subscription not found.",
                "",
            ));
        }
        let keys = e.secrets.get(sid).cloned().unwrap_or(Value::Null);
        Some(Reply::json(
            200,
            json!({
                "primaryKey": keys["primaryKey"],
                "secondaryKey": keys["secondaryKey"],
            }),
        ))
    }

    fn removed(&self, e: &mut Engine, key: &str, _r: &Stored) {
        e.secrets.remove(key);
    }

    fn fill(
        &self,
        e: &mut Engine,
        put: &Put,
        doc: &mut Map<String, Value>,
        props: &mut Map<String, Value>,
    ) {
        if put.spec.name == "microsoft.apimanagement/service" {
            service_urls_and_identity(e, put, doc, props);
        }
        if put.spec.name == "microsoft.apimanagement/service/subscriptions" {
            subscription_keys(e, put, props);
        }
    }
}

/// What the tier (and the service's private endpoint connections) allow.
fn tier_allows(e: &mut Engine, put: &Put) -> Option<Reply> {
    let path = put.path;
    let body = put.body;
    let existing = put.existing;
    let caps = capabilities::get();
    let _name = put.path.id.rsplit('/').next().unwrap_or("").to_string();
    let p = &body["properties"];
    let sku = body["sku"]["name"].as_str().unwrap_or("");
    if existing.is_none() && p["publicNetworkAccess"].as_str() == Some("Disabled") {
        return Some(error(400, "NotSupported", format!("Blocking all public network access by setting property `publicNetworkAccess` of API Management service {} is not enabled during service creation.", path.id), ""));
    }
    if let Some(old) = existing.filter(|_| p["publicNetworkAccess"].as_str() == Some("Disabled")) {
        let was_disabled =
            old.doc["properties"]["publicNetworkAccess"].as_str() == Some("Disabled");
        let prefix = format!("{}/privateendpointconnections/", path.id.to_lowercase());
        let approved = e.resources.iter().any(|(k, r)| {
            k.starts_with(&prefix)
                && r.doc["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
        });
        if !was_disabled && !approved {
            return Some(error(400, "NotSupported", format!("Disabling all `publicNetworkAccess` for service: {} is not supported if the service does not atleast one approved Private Endpoint Connections.", path.id), ""));
        }
    }
    // A virtual network: injection (External/Internal) or, on v2 tiers, outbound
    // integration (External only).
    let vnet = p["virtualNetworkType"].as_str().unwrap_or("None");
    if vnet != "None" {
        let t = caps.apim_tier(sku);
        let joins = t.is_some_and(|t| t.vnet_injection || t.outbound_vnet_integration);
        let internal_ok = t.is_some_and(|t| t.vnet_injection);
        if !joins || (vnet == "Internal" && !internal_ok) {
            return Some(error(400, "NotSupported", format!("Virtual network type {vnet} is not supported by the {sku} tier of API Management service {}. Tiers that support it: {}.", path.id, caps.apim_tiers_with(|t| if vnet == "Internal" { t.vnet_injection } else { t.vnet_injection || t.outbound_vnet_integration }).join(", ")), "properties.virtualNetworkType"));
        }
    }
    let extra = p["additionalLocations"]
        .as_array()
        .is_some_and(|a| !a.is_empty());
    if extra && !caps.apim_tier(sku).is_some_and(|t| t.multi_region) {
        return Some(error(400, "NotSupported", format!("Multi-region deployment (additionalLocations) is not supported by the {sku} tier of API Management service {}. It is available in: {}.", path.id, caps.apim_tiers_with(|t| t.multi_region).join(", ")), "properties.additionalLocations"));
    }
    None
}

/// Another write holds the lock on this API.
fn api_not_locked(e: &mut Engine, put: &Put) -> Option<Reply> {
    let key = put.path.id.to_lowercase();
    let parent = put.path.parent.clone().unwrap_or_default();
    let now = e.now();
    let scope = api_scope(&key, &parent);
    if e.busy.get(&scope).is_some_and(|until| *until > now) {
        return Some(error(409, "PessimisticConcurrencyConflict", "Conflict occurred while trying to update the entity. Another operation holds the lock on this API; retry later.", ""));
    }
    None
}

/// Gateway and management URLs; the system-assigned identity's principal.
fn service_urls_and_identity(
    e: &mut Engine,
    put: &Put,
    doc: &mut Map<String, Value>,
    props: &mut Map<String, Value>,
) {
    let body = put.body;
    let existing = put.existing;
    let name = put.path.id.rsplit('/').next().unwrap_or("").to_string();
    let h = |what: &str| e.stable_uuid(&put.path.id, what);
    let loc = arm_region(body["location"].as_str().unwrap_or(""));
    props.insert(
        "gatewayUrl".into(),
        json!(format!("https://{name}.azure-api.net")),
    );
    props.insert(
        "gatewayRegionalUrl".into(),
        json!(format!("https://{name}-{loc}-01.regional.azure-api.net")),
    );
    props.insert(
        "managementApiUrl".into(),
        json!(format!("https://{name}.management.azure-api.net")),
    );
    if let Some(Value::Array(locs)) = props.get_mut("additionalLocations") {
        for l in locs.iter_mut() {
            let r = arm_region(l["location"].as_str().unwrap_or(""));
            l["gatewayRegionalUrl"] =
                json!(format!("https://{name}-{r}-01.regional.azure-api.net"));
        }
    }
    let keep = existing.and_then(|e| e.doc.get("identity").cloned());
    if body["identity"]["type"]
        .as_str()
        .is_some_and(|t| t.contains("SystemAssigned"))
    {
        let principal = keep
            .as_ref()
            .and_then(|i| i["principalId"].as_str().map(str::to_string))
            .unwrap_or_else(|| h("principal").to_string());
        let now = e.now();
        e.principals.entry(principal.clone()).or_insert(now);
        doc.insert("identity".into(), json!({ "type": body["identity"]["type"], "principalId": principal, "tenantId": TENANT }));
    }
}

/// The SKU name of the API Management service `id`, if it is one.
pub fn apim_sku(e: &Engine, id: &str) -> Option<String> {
    let r = e.resources.get(&id.to_lowercase())?;
    (r.spec == "microsoft.apimanagement/service")
        .then(|| r.doc["sku"]["name"].as_str().unwrap_or("").to_string())
}

/// A classic API Management service injected in a virtual network (no inbound private
/// endpoints on those).
pub fn injected_classic_apim(e: &Engine, id: &str) -> bool {
    let Some(r) = e.resources.get(&id.to_lowercase()) else {
        return false;
    };
    if r.spec != "microsoft.apimanagement/service" {
        return false;
    }
    let vnet = r.doc["properties"]["virtualNetworkType"]
        .as_str()
        .unwrap_or("None");
    let sku = r.doc["sku"]["name"].as_str().unwrap_or("");
    let t = capabilities::get().apim_tier(sku);
    vnet != "None" && t.is_some_and(|t| t.vnet_injection && !t.outbound_vnet_integration)
}

/// A product's API link names an API of the same service that exists.
fn api_link_target(e: &mut Engine, put: &Put) -> Option<Reply> {
    let api = put.body["properties"]["apiId"].as_str().unwrap_or("");
    let service = service_of(&put.path.id);
    let full = if api.starts_with("/apis/") {
        format!("{service}{api}")
    } else {
        api.to_lowercase()
    };
    if !full.starts_with(&format!("{service}/apis/")) || !e.exists_ready(&full) {
        return Some(error(
            400,
            "ValidationError",
            format!("API '{api}' not found in service {service}."),
            "properties.apiId",
        ));
    }
    None
}

/// A subscription's scope: every API (`/apis`), one API or one product of the same service,
/// which must exist.
fn subscription_scope(e: &mut Engine, put: &Put) -> Option<Reply> {
    let scope = put.body["properties"]["scope"].as_str().unwrap_or("");
    let service = service_of(&put.path.id);
    let lower = scope.to_lowercase();
    let full = if lower.starts_with('/') && !lower.starts_with("/subscriptions/") {
        format!("{service}{lower}")
    } else {
        lower
    };
    let ok = full == format!("{service}/apis")
        || ((full.starts_with(&format!("{service}/products/"))
            || full.starts_with(&format!("{service}/apis/")))
            && full.matches('/').count() == service.matches('/').count() + 2
            && e.exists_ready(&full));
    if !ok {
        return Some(error(
            400,
            "ValidationError",
            format!("Subscription scope '{scope}' is not a product or API of service {service}."),
            "properties.scope",
        ));
    }
    None
}

/// The service id (lower case) of one of its children.
fn service_of(id: &str) -> String {
    let lower = id.to_lowercase();
    let marker = "/providers/microsoft.apimanagement/service/";
    match lower.find(marker) {
        Some(at) => {
            let rest = &lower[at + marker.len()..];
            let name = rest.split('/').next().unwrap_or("");
            format!("{}{marker}{name}", &lower[..at])
        }
        None => lower,
    }
}

/// A subscription's keys: the ones the request sets, else the ones it has, else new ones. Kept
/// out of the document (GET never returns them); `listSecrets` does.
fn subscription_keys(e: &mut Engine, put: &Put, props: &mut Map<String, Value>) {
    let key = put.path.id.to_lowercase();
    let old = e.secrets.get(&key).cloned().unwrap_or(Value::Null);
    let mut keys = Map::new();
    for (i, k) in ["primaryKey", "secondaryKey"].iter().enumerate() {
        let value = props
            .remove(*k)
            .and_then(|v| v.as_str().map(str::to_string))
            .or_else(|| old[*k].as_str().map(str::to_string))
            .unwrap_or_else(|| {
                let a = e
                    .stable_uuid(&put.path.id, &format!("key-{i}-a"))
                    .simple()
                    .to_string();
                let b = e
                    .stable_uuid(&put.path.id, &format!("key-{i}-b"))
                    .simple()
                    .to_string();
                format!("{a}{b}")
            });
        keys.insert((*k).into(), json!(value));
    }
    e.secrets.insert(key, Value::Object(keys));
}
