//! What a subscription knows beyond its resources, for aoai-arch's preflight: Cognitive Services
//! quota (usages) and models per location, model capacities, soft-deleted accounts (list, get,
//! purge, restore), name availability (custom subdomains, API Management services, Front Door
//! endpoints) and resource provider registration; and the writes Azure refuses because of them:
//! an account created over a soft-deleted name without `restore` (409 FlagMustBeSetForRestore),
//! a deployment beyond the quota left (400 InsufficientQuota).
//!
//! The data lives in the `preflight` section of the state file (`--state`, or `--emulator-state`
//! in-process); without one every provider is registered, nothing is taken, [`CATALOG`] is
//! offered in every region and each usage has a limit of [`DEFAULT_LIMIT`]. Request and response
//! shapes follow azure-rest-api-specs (see aoai-arch's `src/preflight.rs` for the citations).

use serde_json::{json, Value};

use crate::capabilities::Stage;
use crate::engine::subscription::Offer;
use crate::engine::{Engine, Provider, Reply, Stored};

/// Units (thousands of tokens per minute) of each usage when the state file sets no limit.
pub const DEFAULT_LIMIT: u64 = 5000;

/// The models the emulator offers in a region that the state file does not describe: names,
/// versions and deployment types aoai-arch's examples and benchmarks use. Not a claim about
/// Azure's catalogue.
pub const CATALOG: &[(&str, &str)] = &[
    ("gpt-4o", "2024-05-13"),
    ("gpt-4o", "2024-08-06"),
    ("gpt-4o", "2024-11-20"),
    ("gpt-4o-mini", "2024-07-18"),
    ("gpt-4.1", "2025-04-14"),
    ("gpt-4.1-mini", "2025-04-14"),
    ("gpt-4.1-nano", "2025-04-14"),
    ("o3-mini", "2025-01-31"),
    ("o4-mini", "2025-04-16"),
    ("text-embedding-3-large", "1"),
    ("text-embedding-3-small", "1"),
    ("gpt-5", "2025-08-07"),
    ("gpt-5-mini", "2025-08-07"),
    ("gpt-5-nano", "2025-08-07"),
    ("gpt-5.1", "2025-11-13"),
    ("gpt-5.4", "2026-03-05"),
    ("gpt-5.4-mini", "2026-03-17"),
    ("gpt-5.4-nano", "2026-03-17"),
];

/// Rows per page of `locations/{l}/models` when the state file sets none (`modelsPageSize`).
pub const MODELS_PAGE: usize = 50;

/// The regions `modelCapacities` reports on (public cloud ARM names).
const REGIONS: &[&str] = &[
    "australiacentral",
    "australiacentral2",
    "australiaeast",
    "australiasoutheast",
    "austriaeast",
    "belgiumcentral",
    "brazilsouth",
    "brazilsoutheast",
    "canadacentral",
    "canadaeast",
    "centralindia",
    "centralus",
    "chilecentral",
    "eastasia",
    "eastus",
    "eastus2",
    "francecentral",
    "francesouth",
    "germanynorth",
    "germanywestcentral",
    "indonesiacentral",
    "israelcentral",
    "italynorth",
    "japaneast",
    "japanwest",
    "jioindiacentral",
    "jioindiawest",
    "koreacentral",
    "koreasouth",
    "malaysiawest",
    "mexicocentral",
    "newzealandnorth",
    "northcentralus",
    "northeurope",
    "norwayeast",
    "norwaywest",
    "polandcentral",
    "qatarcentral",
    "southafricanorth",
    "southafricawest",
    "southcentralus",
    "southeastasia",
    "southindia",
    "spaincentral",
    "swedencentral",
    "swedensouth",
    "switzerlandnorth",
    "switzerlandwest",
    "uaecentral",
    "uaenorth",
    "uksouth",
    "ukwest",
    "westcentralus",
    "westeurope",
    "westindia",
    "westus",
    "westus2",
    "westus3",
];
const CATALOG_SKUS: &[&str] = &[
    "Standard",
    "GlobalStandard",
    "DataZoneStandard",
    "ProvisionedManaged",
    "GlobalProvisionedManaged",
    "DataZoneProvisionedManaged",
];

const ACCOUNTS: &str = "microsoft.cognitiveservices/accounts";
const DEPLOYMENTS: &str = "microsoft.cognitiveservices/accounts/deployments";

fn region(s: &str) -> String {
    s.to_lowercase().replace(' ', "")
}

fn segs(raw: &str) -> Vec<String> {
    raw.trim_matches('/')
        .split('/')
        .map(str::to_string)
        .collect()
}

fn query_param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        k.eq_ignore_ascii_case(key).then(|| v.replace("%20", " "))
    })
}

fn error(status: u16, code: &str, message: String) -> Reply {
    Reply::json(
        status,
        json!({ "error": { "code": code, "message": message, "target": "", "details": [] } }),
    )
}

/// The id a soft-deleted account is read and purged by.
fn deleted_id(sub: &str, location: &str, rg: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/providers/Microsoft.CognitiveServices/locations/{location}/resourceGroups/{rg}/deletedAccounts/{name}")
}

/// The soft-deleted account as `deletedAccounts` lists it.
fn deleted_view(doc: &Value) -> Value {
    let id = doc["id"].as_str().unwrap_or("");
    let s = segs(id);
    let (sub, rg, name) = (
        s.get(1).cloned().unwrap_or_default(),
        s.get(3).cloned().unwrap_or_default(),
        s.last().cloned().unwrap_or_default(),
    );
    let location = region(doc["location"].as_str().unwrap_or(""));
    let mut v = doc.clone();
    v["id"] = json!(deleted_id(&sub, &location, &rg, &name));
    v["properties"]["deletionDate"] = doc["properties"]["deletionDate"].clone();
    v
}

/// Answer a preflight read, a purge or a check; `None`: not one of these.
pub fn route(
    e: &mut Engine,
    method: &str,
    raw_path: &str,
    query: &str,
    api_version: Option<&str>,
    body: &[u8],
) -> Option<Reply> {
    let s = segs(raw_path);
    let lower: Vec<String> = s.iter().map(|x| x.to_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    let sub = s.get(1)?.clone();
    // Deleted accounts: the api-versions of the accounts, checked like the live types.
    if l.get(4) == Some(&"deletedaccounts") || l.get(8) == Some(&"deletedaccounts") {
        let versions = crate::types::spec("microsoft.cognitiveservices/accounts")
            .map(|t| t.versions)
            .unwrap_or(&[]);
        if let Some(v) = api_version.filter(|v| !versions.contains(v)) {
            return Some(error(
                400,
                "NoRegisteredProviderFound",
                format!(
                    "No registered resource provider found for API version '{v}'. The supported api-versions are '{}'.",
                    versions.join(", ")
                ),
            ));
        }
    }
    let reply = match (method, l.as_slice()) {
        ("GET", ["subscriptions", _, "providers", _]) => {
            let ns = s[3].clone();
            let registered = !e
                .preflight
                .unregistered
                .iter()
                .any(|u| u.eq_ignore_ascii_case(&ns));
            Reply::json(
                200,
                json!({
                    "id": format!("/subscriptions/{sub}/providers/{ns}"),
                    "namespace": ns,
                    "registrationState": if registered { "Registered" } else { "NotRegistered" },
                    "resourceTypes": []
                }),
            )
        }
        (
            "GET",
            ["subscriptions", _, "providers", "microsoft.cognitiveservices", "locations", loc, "usages"],
        ) => usages(e, &sub, &region(loc)),
        (
            "GET",
            ["subscriptions", _, "providers", "microsoft.cognitiveservices", "locations", loc, "models"],
        ) => {
            let loc = region(loc);
            let today = crate::capabilities::today_or_system();
            let all: Vec<Value> = offers(e, &loc)
                .into_iter()
                .map(|o| {
                    let (status, inference) = lifecycle_of(&o, &today);
                    let mut model = json!({
                        "format": "OpenAI",
                        "name": o.name,
                        "version": o.version,
                        "lifecycleStatus": status,
                        "skus": o.skus.iter().map(|k| json!({
                            "name": k,
                            "usageName": format!("OpenAI.{k}.{}", o.name),
                        })).collect::<Vec<_>>(),
                    });
                    if let Some(d) = inference {
                        model["deprecation"] = json!({ "inference": d });
                    }
                    json!({ "kind": "OpenAI", "skuName": "S0", "model": model })
                })
                .collect();
            // Pages of `modelsPageSize` rows, the next one named by `nextLink` ($skipToken).
            let size = e.preflight.models_page_size.unwrap_or(MODELS_PAGE).max(1);
            let skip: usize = query_param(query, "$skipToken")
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let value: Vec<Value> = all.iter().skip(skip).take(size).cloned().collect();
            let mut page = json!({ "value": value });
            if skip + size < all.len() {
                page["nextLink"] = json!(format!(
                    "{}{}?api-version={}&$skipToken={}",
                    e.base,
                    raw_path,
                    api_version.unwrap_or(""),
                    skip + size
                ));
            }
            Reply::json(200, page)
        }
        (
            "GET",
            ["subscriptions", _, "providers", "microsoft.cognitiveservices", "modelcapacities"],
        ) => {
            let name = query_param(query, "modelName").unwrap_or_default();
            let version = query_param(query, "modelVersion").unwrap_or_default();
            let mut value = Vec::new();
            for loc in regions_known(e) {
                for o in offers(e, &loc) {
                    if o.name != name || o.version != version {
                        continue;
                    }
                    for k in &o.skus {
                        let (limit, used) = quota(e, &sub, &loc, &format!("OpenAI.{k}.{name}"));
                        value.push(json!({
                            "id": format!("/subscriptions/{sub}/providers/Microsoft.CognitiveServices/locations/{loc}/models/OpenAI.{name}.{version}/skuCapacities/{k}"),
                            "type": "Microsoft.CognitiveServices/locations/models/skuCapacities",
                            "name": k,
                            "location": loc,
                            "properties": {
                                "model": { "format": "OpenAI", "name": name, "version": version },
                                "skuName": k,
                                "availableCapacity": limit.saturating_sub(used),
                            }
                        }));
                    }
                }
            }
            Reply::json(200, json!({ "value": value }))
        }
        (
            "GET",
            ["subscriptions", _, "providers", "microsoft.cognitiveservices", "deletedaccounts"],
        ) => {
            let prefix = format!("/subscriptions/{}/", sub.to_lowercase());
            let value: Vec<Value> = e
                .preflight
                .deleted_accounts
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(_, d)| deleted_view(d))
                .collect();
            Reply::json(200, json!({ "value": value }))
        }
        (
            "GET" | "DELETE",
            ["subscriptions", _, "providers", "microsoft.cognitiveservices", "locations", loc, "resourcegroups", _, "deletedaccounts", _],
        ) => {
            let (rg, name) = (&s[7], &s[9]);
            let key = format!(
                "/subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.cognitiveservices/accounts/{name}"
            )
            .to_lowercase();
            let found = e
                .preflight
                .deleted_accounts
                .get(&key)
                .filter(|d| region(d["location"].as_str().unwrap_or("")) == region(loc))
                .cloned();
            match (method, found) {
                (_, None) => error(
                    404,
                    "ResourceNotFound",
                    format!("The deleted account '{name}' in resource group '{rg}' and location '{loc}' was not found."),
                ),
                ("GET", Some(d)) => Reply::json(200, deleted_view(&d)),
                (_, Some(_)) => {
                    // Refused below without an api-version: nothing is purged then.
                    if api_version.is_some() {
                        e.preflight.deleted_accounts.remove(&key);
                    }
                    Reply::empty(200)
                }
            }
        }
        (
            "POST",
            ["subscriptions", _, "providers", "microsoft.cognitiveservices", "checkdomainavailability"],
        ) => {
            let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let name = req["subdomainName"].as_str().unwrap_or("").to_string();
            let held = subdomain_holder(e, &name);
            Reply::json(
                200,
                json!({
                    "isSubdomainAvailable": held.is_none(),
                    "reason": held.map(|h| format!("Sub domain name '{name}' is already used by {h}.")),
                    "subdomainName": name,
                    "type": req["type"].clone(),
                }),
            )
        }
        (
            "POST",
            ["subscriptions", _, "providers", "microsoft.apimanagement", "checknameavailability"],
        ) => {
            let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let name = req["name"].as_str().unwrap_or("").to_string();
            let used = taken(e, &name)
                || e.resources.iter().any(|(k, r)| {
                    r.spec == "microsoft.apimanagement/service"
                        && k.rsplit('/').next() == Some(name.to_lowercase().as_str())
                });
            Reply::json(
                200,
                json!({
                    "nameAvailable": !used,
                    "reason": if used { "AlreadyExists" } else { "Valid" },
                    "message": if used { format!("{name} is already in use. Please select a different name.") } else { String::new() },
                }),
            )
        }
        (
            "POST",
            ["subscriptions", _, "resourcegroups", _, "providers", "microsoft.cdn", "checkendpointnameavailability"],
        ) => {
            let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let name = req["name"].as_str().unwrap_or("").to_string();
            // Endpoints with a generated host-name suffix are unique per tenant; the emulator
            // reports names listed as taken, and endpoints of another resource group.
            let rg_prefix =
                format!("/subscriptions/{}/resourcegroups/{}/", sub, s[3]).to_lowercase();
            let used = taken(e, &name)
                || e.resources.iter().any(|(k, r)| {
                    r.spec == "microsoft.cdn/profiles/afdendpoints"
                        && !k.starts_with(&rg_prefix)
                        && k.rsplit('/').next() == Some(name.to_lowercase().as_str())
                });
            Reply::json(
                200,
                json!({
                    "nameAvailable": !used,
                    "availableHostname": "",
                    "reason": if used { "Name is already in use" } else { "" },
                    "message": if used { "Name not available" } else { "" },
                }),
            )
        }
        _ => return None,
    };
    if api_version.is_none() {
        return Some(error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.".into(),
        ));
    }
    Some(reply)
}

fn taken(e: &Engine, name: &str) -> bool {
    e.preflight
        .taken
        .iter()
        .any(|t| t.eq_ignore_ascii_case(name))
}

/// Who holds a custom subdomain: a live account, a soft-deleted one, or someone else.
fn subdomain_holder(e: &Engine, name: &str) -> Option<String> {
    let lower = name.to_lowercase();
    let sub_of = |doc: &Value| {
        doc["properties"]["customSubDomainName"]
            .as_str()
            .unwrap_or(doc["name"].as_str().unwrap_or(""))
            .to_lowercase()
    };
    if let Some((k, _)) = e
        .resources
        .iter()
        .find(|(_, r)| r.spec == ACCOUNTS && !r.deleting && sub_of(&r.doc) == lower)
    {
        return Some(format!("the account {k}"));
    }
    if let Some(k) = e
        .preflight
        .deleted_accounts
        .iter()
        .find(|(_, d)| sub_of(d) == lower)
        .map(|(k, _)| k)
    {
        return Some(format!("the soft-deleted account {k}"));
    }
    taken(e, name).then(|| "another Azure customer".to_string())
}

fn regions_known(e: &Engine) -> Vec<String> {
    let mut out: Vec<String> = e.preflight.models.keys().map(|k| region(k)).collect();
    for r in REGIONS {
        if !out.iter().any(|o| o == r) {
            out.push(r.to_string());
        }
    }
    out
}

fn offers(e: &Engine, loc: &str) -> Vec<Offer> {
    if let Some((_, list)) = e.preflight.models.iter().find(|(k, _)| region(k) == loc) {
        return list.clone();
    }
    let caps = crate::capabilities::get();
    CATALOG
        .iter()
        .filter_map(|(n, v)| {
            // A model the capability data records is offered as the types it lists here.
            let skus: Vec<String> = match caps
                .models()
                .iter()
                .find(|m| m.name == *n && m.version == *v)
            {
                Some(m) => m
                    .deployment_types
                    .iter()
                    .filter(|(_, rs)| rs.iter().any(|r| r == loc))
                    .map(|(k, _)| k.clone())
                    .collect(),
                None => CATALOG_SKUS.iter().map(|s| s.to_string()).collect(),
            };
            (!skus.is_empty()).then(|| Offer {
                name: n.to_string(),
                version: v.to_string(),
                skus,
                lifecycle_status: None,
                deprecation_inference: None,
            })
        })
        .collect()
}

/// `lifecycleStatus` and `deprecation.inference` of an offer: as the state file sets them, else
/// from the retirement schedule (a version it does not record is generally available).
fn lifecycle_of(o: &Offer, today: &str) -> (String, Option<String>) {
    let caps = crate::capabilities::get();
    let entry = caps.lifecycle(&o.name, &o.version);
    let status = o.lifecycle_status.clone().unwrap_or_else(|| {
        entry
            .map(|l| Stage::from_status(&l.status, l.retirement.as_deref(), today))
            .unwrap_or(Stage::GenerallyAvailable { retires: None })
            .arm_status()
            .to_string()
    });
    let inference = o.deprecation_inference.clone().or_else(|| {
        entry
            .and_then(|l| l.retirement.clone())
            .map(|d| format!("{d}T00:00:00Z"))
    });
    (status, inference)
}

/// Where a model version stands in a region on the emulator's today: what the state file says
/// for that region, else the retirement schedule; `None`: neither records it.
fn stage_in(e: &Engine, loc: &str, name: &str, version: &str) -> Option<Stage> {
    let today = crate::capabilities::today_or_system();
    let listed = e
        .preflight
        .models
        .iter()
        .find(|(k, _)| region(k) == loc)
        .and_then(|(_, list)| list.iter().find(|o| o.name == name && o.version == version))
        .filter(|o| o.lifecycle_status.is_some() || o.deprecation_inference.is_some());
    match listed {
        Some(o) => {
            let (status, inference) = lifecycle_of(o, &today);
            Some(Stage::from_status(&status, inference.as_deref(), &today))
        }
        None => crate::capabilities::get().stage(name, version, &today),
    }
}

/// `(limit, used)` of a usage in a subscription's region: the configured baseline plus the
/// capacity of every deployment of that type and model in accounts of that region.
fn quota(e: &Engine, sub: &str, loc: &str, usage: &str) -> (u64, u64) {
    quota_except(e, sub, loc, usage, None)
}

fn quota_except(e: &Engine, sub: &str, loc: &str, usage: &str, except: Option<&str>) -> (u64, u64) {
    let q = [format!("{}/{loc}", sub.to_lowercase()), loc.to_string()]
        .iter()
        .find_map(|k| {
            e.preflight
                .quota
                .iter()
                .find(|(qk, _)| qk.to_lowercase() == *k)
                .and_then(|(_, m)| {
                    m.iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(usage))
                        .map(|(_, q)| q.clone())
                })
        });
    let limit = q
        .as_ref()
        .map(|q| q.limit)
        .unwrap_or(e.preflight.default_limit.unwrap_or(DEFAULT_LIMIT));
    let mut used = q.map(|q| q.used).unwrap_or(0);
    let prefix = format!("/subscriptions/{}/", sub.to_lowercase());
    for (k, r) in &e.resources {
        if r.spec != DEPLOYMENTS
            || r.deleting
            || !k.starts_with(&prefix)
            || Some(k.as_str()) == except
        {
            continue;
        }
        let account = k.rsplitn(3, '/').nth(2).unwrap_or("");
        let Some(acc) = e.resources.get(account) else {
            continue;
        };
        if region(acc.doc["location"].as_str().unwrap_or("")) != loc {
            continue;
        }
        if usage_name(&r.doc).eq_ignore_ascii_case(usage) {
            used += r.doc["sku"]["capacity"].as_u64().unwrap_or(0);
        }
    }
    (limit, used)
}

fn usage_name(deployment: &Value) -> String {
    format!(
        "OpenAI.{}.{}",
        deployment["sku"]["name"].as_str().unwrap_or(""),
        deployment["properties"]["model"]["name"]
            .as_str()
            .unwrap_or("")
    )
}

fn usages(e: &Engine, sub: &str, loc: &str) -> Reply {
    let mut names: Vec<String> = Vec::new();
    for o in offers(e, loc) {
        for k in &o.skus {
            let n = format!("OpenAI.{k}.{}", o.name);
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    for (k, m) in &e.preflight.quota {
        let r = k.rsplit('/').next().unwrap_or("");
        if region(r) == loc {
            for n in m.keys() {
                if !names.iter().any(|x| x.eq_ignore_ascii_case(n)) {
                    names.push(n.clone());
                }
            }
        }
    }
    let value: Vec<Value> = names
        .iter()
        .map(|n| {
            let (limit, used) = quota(e, sub, loc, n);
            json!({
                "name": { "value": n, "localizedValue": format!("Tokens Per Minute (thousands) - {n}") },
                "currentValue": used,
                "limit": limit,
                "unit": "Count",
            })
        })
        .collect();
    Reply::json(200, json!({ "value": value }))
}

/// Writes Azure refuses because of soft-deleted names and quota; `None`: allowed. A PUT of an
/// account with `properties.restore: true` over a soft-deleted name restores it.
pub fn refuse_put(
    e: &mut Engine,
    key: &str,
    spec: &str,
    body: &Value,
    exists: bool,
) -> Option<Reply> {
    match spec {
        ACCOUNTS if !exists => {
            let restore = body["properties"]["restore"].as_bool() == Some(true);
            if e.preflight.deleted_accounts.contains_key(key) {
                if restore {
                    e.preflight.deleted_accounts.remove(key);
                    return None;
                }
                let id = e.preflight.deleted_accounts[key]["id"]
                    .as_str()
                    .unwrap_or(key)
                    .to_string();
                return Some(error(
                    409,
                    "FlagMustBeSetForRestore",
                    format!("An existing resource with ID '{id}' has been soft-deleted. To restore the resource, you must specify 'restore' to be 'true' in the property. If you don't want to restore existing resource, please purge it first."),
                ));
            }
            if let Some(sub) = body["properties"]["customSubDomainName"].as_str() {
                if let Some(holder) = subdomain_holder(e, sub) {
                    return Some(error(
                        409,
                        "CustomDomainInUse",
                        format!("Custom domain name '{sub}' is already used by {holder}. Please pick another name."),
                    ));
                }
            }
            None
        }
        DEPLOYMENTS => {
            let account = key.rsplitn(3, '/').nth(2).unwrap_or("");
            let loc = region(
                e.resources.get(account)?.doc["location"]
                    .as_str()
                    .unwrap_or(""),
            );
            // A new deployment (or a move to another version) of a version that is deprecated
            // or retired; an existing deployment of it stays as it is.
            let model = &body["properties"]["model"];
            let (name, version) = (
                model["name"].as_str().unwrap_or(""),
                model["version"].as_str().unwrap_or(""),
            );
            let same_version = exists
                && e.resources.get(key).is_some_and(|r| {
                    r.doc["properties"]["model"]["version"].as_str() == Some(version)
                        && r.doc["properties"]["model"]["name"].as_str() == Some(name)
                });
            if !same_version {
                if let Some(stage) = stage_in(e, &loc, name, version).filter(|s| !s.deployable()) {
                    let state = if matches!(stage, Stage::Retired { .. }) {
                        "deprecated"
                    } else {
                        "deprecating"
                    };
                    return Some(error(
                        400,
                        "ServiceModelDeprecating",
                        format!("The model 'Format:OpenAI,Name:{name},Version:{version}' is in {state} state and cannot be used for new deployments."),
                    ));
                }
            }
            let sub = key.split('/').nth(2).unwrap_or("").to_string();
            let usage = usage_name(body);
            let (limit, used) = quota_except(e, &sub, &loc, &usage, Some(key));
            let want = body["sku"]["capacity"].as_u64().unwrap_or(0);
            (used + want > limit).then(|| {
                error(
                    400,
                    "InsufficientQuota",
                    format!("This operation require {want} new capacity in quota Tokens Per Minute (thousands) - {usage}, which is bigger than the current available capacity {}. The current quota usage is {used} and the quota limit is {limit} for quota Tokens Per Minute (thousands) - {usage}.", limit.saturating_sub(used)),
                )
            })
        }
        _ => None,
    }
}

/// A Cognitive Services account that Azure deleted is kept as a soft-deleted account.
pub fn soft_delete(e: &mut Engine, key: &str, spec: &str, doc: &Value) {
    if spec != ACCOUNTS {
        return;
    }
    let mut d = doc.clone();
    let (deleted, purge) = crate::soft_delete::deletion_dates();
    if let Some(p) = d.get_mut("properties").and_then(Value::as_object_mut) {
        p.insert("provisioningState".into(), json!("Succeeded"));
        p.insert("deletionDate".into(), json!(deleted));
        p.insert("scheduledPurgeDate".into(), json!(purge));
    }
    e.preflight.deleted_accounts.insert(key.to_string(), d);
}

/// The preflight reads and the refusals they explain, as a provider of the engine.
pub struct Preflight;

impl Provider for Preflight {
    fn intercept(
        &self,
        e: &mut Engine,
        method: &str,
        raw_path: &str,
        query: &str,
        api_version: Option<&str>,
        body: &[u8],
    ) -> Option<Reply> {
        route(e, method, raw_path, query, api_version, body)
    }
    fn refuse_put(
        &self,
        e: &mut Engine,
        key: &str,
        spec: &str,
        body: &Value,
        exists: bool,
    ) -> Option<Reply> {
        refuse_put(e, key, spec, body, exists)
    }
    fn removed(&self, e: &mut Engine, key: &str, r: &Stored) {
        soft_delete(e, key, &r.spec, &r.doc);
    }
    fn restored_deleting(&self, e: &mut Engine, key: &str, r: &Stored) {
        soft_delete(e, key, &r.spec, &r.doc);
    }
}
