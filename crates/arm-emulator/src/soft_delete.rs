//! Soft delete of API Management services, as Azure does it: a deleted service is kept, under
//! its location, until it is purged (or Azure purges it after 48 hours), and the purge API
//! removes it: `GET|DELETE /subscriptions/{s}/providers/Microsoft.ApiManagement/locations/{l}/deletedservices/{name}`,
//! `GET /subscriptions/{s}/providers/Microsoft.ApiManagement/deletedservices`.
//! (Cognitive Services accounts: `crate::preflight`, which also serves the preflight reads.)

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::engine::{error, Engine, Provider, Reply, Stored};
use crate::types;

const SERVICE: &str = "microsoft.apimanagement/service";
/// Azure purges soft-deleted accounts and services after 48 hours.
const RETENTION_SECS: u64 = 48 * 3600;

/// Does this resource type stay soft-deleted here after a DELETE?
pub fn soft_deleted_type(spec: &str) -> bool {
    spec == SERVICE
}

/// When a resource deleted now was deleted, and when Azure purges it (48 hours later), as
/// Azure writes them (`deletionDate`, `scheduledPurgeDate`).
pub fn deletion_dates() -> (String, String) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    (utc(now), utc(now + RETENTION_SECS))
}

/// The soft-deleted document of a resource that was just deleted, under its deleted-resource
/// id (lower-case key, document).
pub fn record(doc: &Value, spec: &str) -> Option<(String, Value)> {
    if spec != SERVICE {
        return None;
    }
    let id = doc["id"].as_str()?;
    let segs: Vec<&str> = id.trim_matches('/').split('/').collect();
    // subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}
    if segs.len() != 8 {
        return None;
    }
    let (sub, name) = (segs[1], segs[7]);
    let location = doc["location"]
        .as_str()
        .unwrap_or("")
        .to_lowercase()
        .replace(' ', "");
    let (deleted, purge) = deletion_dates();
    let deleted_id = format!(
        "/subscriptions/{sub}/providers/Microsoft.ApiManagement/locations/{location}/deletedservices/{name}"
    );
    let out = json!({
        "id": deleted_id,
        "name": name,
        "type": "Microsoft.ApiManagement/deletedservices",
        "location": doc["location"],
        "properties": {
            "serviceId": id,
            "deletionDate": deleted,
            "scheduledPurgeDate": purge,
        },
    });
    Some((deleted_id.to_lowercase(), out))
}

/// Creating a service whose name is soft-deleted: Azure refuses it until the deleted one is
/// purged (or undeleted).
pub fn refuse_create(e: &mut Engine, spec: &str, key: &str) -> Option<Reply> {
    if !soft_deleted_type(spec) {
        return None;
    }
    // /subscriptions/{s}/resourcegroups/{rg}/providers/{ns}/{type}/{name}
    let segs: Vec<&str> = key.trim_matches('/').split('/').collect();
    if segs.len() != 8 {
        return None;
    }
    let (sub, name) = (segs[1], segs[7]);
    e.deleted.keys().find(|k| {
        k.starts_with(&format!("/subscriptions/{sub}/"))
            && k.ends_with(&format!("/deletedservices/{name}"))
    })?;
    Some(error(
        409,
        "ServiceAlreadyExistsInSoftDeletedState",
        format!("Api service {name} was soft-deleted. In order to create the new service with the same name, you have to either undelete the service or purge it."),
        "",
    ))
}

/// Route a request for a soft-deleted service; `None` when the path is not one.
pub fn route(
    e: &mut Engine,
    method: &str,
    raw: &str,
    sub: &str,
    api_version: &str,
) -> Option<Reply> {
    let lower = raw.trim_end_matches('/').to_lowercase();
    let segs: Vec<&str> = lower.trim_matches('/').split('/').collect();
    let (spec, item) = match segs.as_slice() {
        ["subscriptions", _, "providers", "microsoft.apimanagement", "deletedservices"] => {
            (SERVICE, false)
        }
        ["subscriptions", _, "providers", "microsoft.apimanagement", "locations", _, "deletedservices", _] => {
            (SERVICE, true)
        }
        _ => return None,
    };
    let versions = types::spec(spec).map(|s| s.versions).unwrap_or(&[]);
    if !versions.contains(&api_version) {
        return Some(error(
            400,
            "NoRegisteredProviderFound",
            format!(
                "No registered resource provider found for API version '{api_version}'. The supported api-versions are '{}'.",
                versions.join(", ")
            ),
            "",
        ));
    }
    let not_found = || {
        error(
            404,
            "ResourceNotFound",
            format!("The soft-deleted resource '{raw}' was not found."),
            "",
        )
    };
    if !item {
        if method != "GET" {
            return Some(error(
                405,
                "MethodNotAllowed",
                "The collection supports GET only.",
                "",
            ));
        }
        let marker = "/deletedservices/";
        let prefix = format!("/subscriptions/{}/", sub.to_lowercase());
        let value: Vec<Value> = e
            .deleted
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix) && k.contains(marker))
            .map(|(_, v)| v.clone())
            .collect();
        return Some(Reply::json(200, json!({ "value": value })));
    }
    Some(match method {
        "GET" => match e.deleted.get(&lower) {
            Some(doc) => Reply::json(200, doc.clone()),
            None => not_found(),
        },
        "DELETE" => match e.deleted.remove(&lower) {
            Some(_) => Reply::empty(200),
            None => not_found(),
        },
        _ => error(
            405,
            "MethodNotAllowed",
            format!("{method} is not supported on a soft-deleted resource."),
            "",
        ),
    })
}

/// UTC `YYYY-MM-DDTHH:MM:SSZ` of a Unix time, without a date library.
fn utc(secs: u64) -> String {
    crate::capabilities::utc(secs as i64)
}

/// Soft delete of API Management services, as a provider of the engine.
pub struct SoftDelete;

impl Provider for SoftDelete {
    fn route(
        &self,
        e: &mut Engine,
        method: &str,
        id: &str,
        sub: &str,
        api_version: &str,
    ) -> Option<Reply> {
        route(e, method, id, sub, api_version)
    }
    fn refuse_create(&self, e: &mut Engine, spec: &str, key: &str) -> Option<Reply> {
        refuse_create(e, spec, key)
    }
    fn removed(&self, e: &mut Engine, _key: &str, r: &Stored) {
        if soft_deleted_type(&r.spec) {
            if let Some((id, doc)) = record(&r.doc, &r.spec) {
                e.deleted.insert(id, doc);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::utc(1_795_000_000), "2026-11-18T11:06:40Z");
    }
}
