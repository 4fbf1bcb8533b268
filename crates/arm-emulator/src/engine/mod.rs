//! The ARM state machine: routing, validation, long-running operations on a virtual clock,
//! provider quirks, throttling and faults. The HTTP server (`server.rs`) only moves bytes.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

use crate::types::{self, Style, TypeSpec};
use crate::{Config, LogEntry};

mod path;
mod reply;
pub mod subscription;

pub use path::Path;
use path::{parse_path, provider_path, rg_resources_path};
pub(crate) use reply::error;
pub use reply::Reply;

use subscription::Data;

/// What a resource provider (or a subscription-wide behaviour: the preflight reads, soft
/// delete) adds to the generic protocol. The engine asks every provider at each hook, in the
/// order of the list it was built with; a provider answers only for its own types. Providers
/// depend on the engine, never the reverse: the list comes from the caller of [`Engine::new`].
pub trait Provider: Sync {
    /// Answer a request before the generic routing (after authentication, throttling and
    /// faults); `None`: not this provider's.
    fn intercept(
        &self,
        _e: &mut Engine,
        _method: &str,
        _raw_path: &str,
        _query: &str,
        _api_version: Option<&str>,
        _body: &[u8],
    ) -> Option<Reply> {
        None
    }
    /// Answer a request that has an api-version, before its resource type is looked up.
    fn route(
        &self,
        _e: &mut Engine,
        _method: &str,
        _id: &str,
        _sub: &str,
        _api_version: &str,
    ) -> Option<Reply> {
        None
    }
    /// Refuse creating `key` (a name Azure still holds).
    fn refuse_create(&self, _e: &mut Engine, _spec: &str, _key: &str) -> Option<Reply> {
        None
    }
    /// What Azure does not offer (the capability tables).
    fn capability_check(&self, _e: &mut Engine, _put: &Put) -> Option<Reply> {
        None
    }
    /// Resource-provider rules beyond the schema.
    fn check(&self, _e: &mut Engine, _put: &Put) -> Option<Reply> {
        None
    }
    /// Refusals that come from the subscription (quota).
    fn refuse_put(
        &self,
        _e: &mut Engine,
        _key: &str,
        _spec: &str,
        _body: &Value,
        _exists: bool,
    ) -> Option<Reply> {
        None
    }
    /// Properties only Azure sets (endpoints, keys, ids, identities).
    fn fill(
        &self,
        _e: &mut Engine,
        _put: &Put,
        _doc: &mut Map<String, Value>,
        _props: &mut Map<String, Value>,
    ) {
    }
    /// What a write leaves on other resources (private endpoint connections).
    fn after_put(&self, _e: &mut Engine, _path: &Path, _spec: &TypeSpec, _doc: &Value) {}
    /// A resource a delete removed.
    fn removed(&self, _e: &mut Engine, _key: &str, _r: &Stored) {}
    /// A resource whose delete was in flight when the state was saved.
    fn restored_deleting(&self, _e: &mut Engine, _key: &str, _r: &Stored) {}
}

/// A write on its way in: where, of which type, the request body, what exists there now.
pub struct Put<'a> {
    pub path: &'a Path,
    pub spec: &'a TypeSpec,
    pub body: &'a Value,
    pub existing: Option<&'a Stored>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Stored {
    pub id: String,
    pub spec: String,
    pub doc: Value,
    /// Virtual second at which the current operation ends.
    pub ready_at: f64,
    /// The current operation fails at `ready_at` with this error.
    pub fail: Option<Value>,
    /// 202-style create: absent (404) until done.
    pub hidden: bool,
    pub deleting: bool,
    /// Non-terminal state while the current operation runs.
    pub busy_state: String,
}

struct Op {
    resource: String,
    done_at: f64,
    fail: Option<Value>,
    delete: bool,
    api_version: String,
}

struct Bucket {
    tokens: f64,
    at: f64,
}

pub struct Engine {
    pub config: Config,
    pub base: String,
    start: Instant,
    rng: StdRng,
    pub resources: BTreeMap<String, Stored>,
    ops: HashMap<String, Op>,
    /// Principal object id -> virtual second it was created.
    pub principals: HashMap<String, f64>,
    reads: HashMap<String, Bucket>,
    writes: HashMap<String, Bucket>,
    /// Parent (lower-case id) -> virtual second until which it is busy with a write.
    pub busy: HashMap<String, f64>,
    /// Lower-case id -> virtual seconds its last write took to provision (0 for synchronous
    /// types; the busy period for writes that lock their parent). Benchmarks compute the
    /// critical path from these.
    pub durations: HashMap<String, f64>,
    pub log: Vec<LogEntry>,
    seq: u64,
    /// Quota, models, soft-deleted accounts, taken names (`crate::preflight`).
    pub preflight: Data,
    /// Soft-deleted API Management services (`crate::soft_delete`; accounts: `crate::preflight`).
    pub deleted: BTreeMap<String, Value>,
    /// What the resource providers add to the protocol, in the order they are asked.
    providers: &'static [&'static dyn Provider],
    /// The request's query string (a list's page).
    query: String,
    /// Values a resource holds that no GET returns, by lower-case id (API Management
    /// subscription keys, read by `listSecrets`).
    pub secrets: BTreeMap<String, Value>,
}

pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const READS: (f64, f64) = (250.0, 25.0);
const WRITES: (f64, f64) = (200.0, 10.0);

/// Suggested poll interval of a type's long-running operations (virtual seconds).
pub fn poll_interval(spec: &str) -> f64 {
    if spec == "microsoft.apimanagement/service" {
        60.0
    } else {
        10.0
    }
}

impl Engine {
    pub fn new(config: Config, providers: &'static [&'static dyn Provider]) -> Engine {
        let rng = StdRng::seed_from_u64(config.seed);
        Engine {
            config,
            base: String::new(),
            start: Instant::now(),
            rng,
            resources: BTreeMap::new(),
            ops: HashMap::new(),
            principals: HashMap::new(),
            reads: HashMap::new(),
            writes: HashMap::new(),
            busy: HashMap::new(),
            durations: HashMap::new(),
            log: Vec::new(),
            seq: 0,
            preflight: Data::default(),
            providers,
            deleted: BTreeMap::new(),
            query: String::new(),
            secrets: BTreeMap::new(),
        }
    }

    fn providers(&self) -> &'static [&'static dyn Provider] {
        self.providers
    }

    /// A UUID stable for one resource and purpose under the configured seed.
    pub fn stable_uuid(&self, id: &str, what: &str) -> uuid::Uuid {
        let seed = self.config.seed;
        uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_URL,
            format!("{seed}:{}:{what}", id.to_lowercase()).as_bytes(),
        )
    }

    /// Virtual seconds since start.
    pub fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * self.config.time_scale.max(1e-9)
    }

    fn real(&self, virtual_secs: f64) -> Duration {
        Duration::from_secs_f64((virtual_secs / self.config.time_scale.max(1e-9)).max(0.0))
    }

    pub fn elapsed_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }

    pub fn record(&mut self, mut e: LogEntry) {
        self.seq += 1;
        e.seq = self.seq;
        self.log.push(e);
    }

    fn retry_headers(&self, r: Reply, remaining: f64, spec: &str) -> Reply {
        let wait = poll_interval(spec).min(remaining.max(0.0));
        let real = self.real(wait);
        r.header(
            "Retry-After",
            real.as_secs_f64().ceil().max(1.0).to_string(),
        )
        .header("retry-after-ms", (real.as_millis().max(1)).to_string())
    }

    fn take(&mut self, sub: &str, write: bool) -> Result<f64, f64> {
        let now = self.now();
        let (cap, rate) = if write { WRITES } else { READS };
        let map = if write {
            &mut self.writes
        } else {
            &mut self.reads
        };
        let b = map.entry(sub.to_lowercase()).or_insert(Bucket {
            tokens: cap,
            at: now,
        });
        b.tokens = (b.tokens + (now - b.at) * rate).min(cap);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(b.tokens.floor())
        } else {
            Err((1.0 - b.tokens) / rate)
        }
    }

    /// Settle a resource whose operation has ended.
    fn settle(&mut self, key: &str) {
        let now = self.now();
        let Some(r) = self.resources.get_mut(key) else {
            return;
        };
        if r.ready_at > now {
            return;
        }
        if r.deleting {
            self.remove_tree(key);
            return;
        }
        r.hidden = false;
        let state = if r.fail.is_some() {
            "Failed"
        } else {
            "Succeeded"
        };
        if let Some(p) = r.doc.get_mut("properties").and_then(Value::as_object_mut) {
            p.insert("provisioningState".into(), json!(state));
        }
    }

    /// Remove a resource and everything below it; accounts and services stay soft-deleted.
    fn remove_tree(&mut self, key: &str) {
        let prefix = format!("{key}/");
        let gone: Vec<String> = self
            .resources
            .keys()
            .filter(|k| *k == key || k.starts_with(&prefix))
            .cloned()
            .collect();
        for k in gone {
            if let Some(r) = self.resources.remove(&k) {
                for p in self.providers() {
                    p.removed(self, &k, &r);
                }
            }
        }
    }

    fn visible(&mut self, key: &str) -> Option<Value> {
        self.settle(key);
        let now = self.now();
        let r = self.resources.get(key)?;
        if r.hidden {
            return None;
        }
        let mut doc = r.doc.clone();
        if r.ready_at > now {
            let state = if r.deleting {
                "Deleting"
            } else {
                r.busy_state.as_str()
            };
            if let Some(p) = doc.get_mut("properties").and_then(Value::as_object_mut) {
                p.insert("provisioningState".into(), json!(state));
            }
        }
        Some(doc)
    }

    /// `ResourceGroupNotFound` unless the resource group exists and has finished provisioning.
    fn require_rg(&mut self, sub: &str, rg: &str) -> Option<Reply> {
        let key = format!("/subscriptions/{sub}/resourcegroups/{rg}").to_lowercase();
        (!self.exists_ready(&key)).then(|| {
            error(
                404,
                "ResourceGroupNotFound",
                format!("Resource group '{rg}' could not be found."),
                "",
            )
        })
    }

    pub fn exists_ready(&mut self, key: &str) -> bool {
        self.visible(key).is_some()
    }

    fn provisioning(&mut self, key: &str) -> bool {
        self.settle(key);
        let now = self.now();
        self.resources
            .get(key)
            .is_some_and(|r| r.ready_at > now && !r.deleting)
    }

    /// Handle one request. `auth` is the Authorization header.
    pub fn handle(
        &mut self,
        method: &str,
        raw_path: &str,
        query: &str,
        auth: Option<&str>,
        body: &[u8],
    ) -> Reply {
        let api_version = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("api-version="))
            .map(str::to_string);
        let is_write = matches!(method, "PUT" | "DELETE" | "PATCH" | "POST");
        if !auth.is_some_and(|a| a.len() > 7 && a[..7].eq_ignore_ascii_case("bearer ")) {
            return error(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                "",
            );
        }
        let Some(path) = parse_path(raw_path)
            .or_else(|| rg_resources_path(raw_path))
            .or_else(|| provider_path(raw_path))
        else {
            return error(
                404,
                "InvalidResourceType",
                format!("The resource path '{raw_path}' is not an ARM resource path."),
                "",
            );
        };
        // Throttling, per subscription, on the virtual clock.
        let remaining = match self.take(&path.sub, is_write) {
            Ok(left) => left,
            Err(wait) => {
                let secs = self.real(wait).as_secs_f64();
                return error(
                    429,
                    "TooManyRequests",
                    "The subscription has exceeded its request rate limit.",
                    "",
                )
                .header("Retry-After", secs.ceil().max(1.0).to_string())
                .header(
                    "retry-after-ms",
                    ((secs * 1000.0).ceil().max(1.0) as u64).to_string(),
                );
            }
        };
        let limit_header = if is_write {
            "x-ms-ratelimit-remaining-subscription-writes"
        } else {
            "x-ms-ratelimit-remaining-subscription-reads"
        };
        // Approvals dropped on demand (drawn only when asked for: other seeded runs see the
        // same draws as before).
        if method == "PUT"
            && self.config.faults.drop_approvals > 0.0
            && raw_path
                .to_lowercase()
                .contains("/privateendpointconnections/")
            && self.rng.gen::<f64>() < self.config.faults.drop_approvals
        {
            let mut r = Reply::empty(0);
            r.drop = true;
            return r;
        }
        // Faults on demand, drawn in request order.
        let f = &self.config.faults;
        let (p429, p500, p503, pdrop, pslow) =
            (f.throttle, f.server_error, f.unavailable, f.drop, f.slow);
        let draw: f64 = self.rng.gen();
        let mut slow = Duration::ZERO;
        if draw < p429 {
            return error(429, "TooManyRequests", "Injected fault: throttled.", "")
                .header("Retry-After", "1")
                .header("retry-after-ms", "50");
        } else if draw < p429 + p500 {
            return error(
                500,
                "InternalServerError",
                "Injected fault: internal server error.",
                "",
            );
        } else if draw < p429 + p500 + p503 {
            return error(
                503,
                "ServiceUnavailable",
                "Injected fault: service unavailable.",
                "",
            )
            .header("Retry-After", "1")
            .header("retry-after-ms", "50");
        } else if draw < p429 + p500 + p503 + pdrop {
            let mut r = Reply::empty(0);
            r.drop = true;
            return r;
        } else if draw < p429 + p500 + p503 + pdrop + pslow {
            slow = Duration::from_millis(300);
        }

        self.query = query.to_string();
        let intercepted = self
            .providers()
            .iter()
            .find_map(|p| p.intercept(self, method, raw_path, query, api_version.as_deref(), body));
        let mut reply = match intercepted {
            Some(r) => r,
            None => self.route(method, &path, api_version.as_deref(), body),
        };
        reply.delay += slow;
        reply.header(limit_header, remaining.to_string())
    }

    fn route(
        &mut self,
        method: &str,
        path: &Path,
        api_version: Option<&str>,
        body: &[u8],
    ) -> Reply {
        let last = path
            .type_path
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_lowercase();
        if last == "operationstatuses" || last == "operationresults" {
            return self.poll(path, last == "operationresults");
        }
        let Some(api_version) = api_version else {
            return error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
                "",
            );
        };
        for p in self.providers() {
            if let Some(r) = p.route(self, method, &path.id, &path.sub, api_version) {
                return r;
            }
        }
        if path.spec_name == "microsoft.resources/resources" && path.collection {
            return self.list_rg(path, api_version);
        }
        let Some(spec) = types::spec(&path.spec_name) else {
            return error(404, "InvalidResourceType", format!("The resource type '{}' could not be found in the namespace '{}' for api version '{api_version}'.", path.type_path, path.ns), "");
        };
        if !spec.versions.contains(&api_version) {
            return error(
                400,
                "NoRegisteredProviderFound",
                format!(
                    "No registered resource provider found for location 'global' and API version '{api_version}' for type '{}'. The supported api-versions are '{}'.",
                    path.type_path,
                    spec.versions.join(", ")
                ),
                "",
            );
        }
        // Resource group must exist for anything under it.
        if let (Some(rg), false) = (&path.rg, spec.name == "microsoft.resources/resourcegroups") {
            if let Some(missing) = self.require_rg(&path.sub, rg) {
                return missing;
            }
        }
        if path.collection {
            return match method {
                "GET" => self.list(path, spec),
                _ => error(
                    405,
                    "MethodNotAllowed",
                    "The collection supports GET only.",
                    "",
                ),
            };
        }
        let key = path.id.to_lowercase();
        match method {
            "GET" => match self.visible(&key) {
                Some(doc) => Reply::json(200, doc),
                None => self.not_found(path),
            },
            "HEAD" => match self.visible(&key) {
                Some(_) => Reply::empty(204),
                None => Reply::empty(404),
            },
            "PUT" => self.put(path, spec, api_version, body),
            "DELETE" => self.delete(path, spec, api_version),
            _ => error(
                405,
                "MethodNotAllowed",
                format!("{method} is not supported."),
                "",
            ),
        }
    }

    fn not_found(&self, path: &Path) -> Reply {
        if path.spec_name == "microsoft.resources/resourcegroups" {
            return error(
                404,
                "ResourceGroupNotFound",
                format!(
                    "Resource group '{}' could not be found.",
                    path.rg.clone().unwrap_or_default()
                ),
                "",
            );
        }
        error(
            404,
            "ResourceNotFound",
            format!(
                "The Resource '{}/{}' under resource group '{}' was not found.",
                path.ns,
                path.type_path,
                path.rg.clone().unwrap_or_default()
            ),
            "",
        )
    }

    fn list(&mut self, path: &Path, spec: &TypeSpec) -> Reply {
        let parent = path.parent.clone().unwrap_or_default();
        let is_rg = path
            .rg
            .as_deref()
            .is_some_and(|rg| parent.ends_with(&format!("/resourcegroups/{}", rg.to_lowercase())));
        if !is_rg && !self.exists_ready(&parent) {
            return error(404, "ParentResourceNotFound", format!("Can not perform requested operation on nested resource. Parent resource '{parent}' not found."), "");
        }
        // Role assignments listed at a scope without `$filter=atScope()` include those of
        // every scope below it (https://learn.microsoft.com/azure/role-based-access-control/role-assignments-list-rest).
        let below = spec.name == "microsoft.authorization/roleassignments"
            && !self.query.contains("atScope");
        let keys: Vec<String> = self
            .resources
            .iter()
            .filter(|(k, r)| {
                r.spec == spec.name
                    && parse_path(k).and_then(|p| p.parent).is_some_and(|p| {
                        p == parent || (below && p.starts_with(&format!("{parent}/")))
                    })
            })
            .map(|(k, _)| k.clone())
            .collect();
        let mut value = Vec::new();
        for k in keys {
            if let Some(d) = self.visible(&k) {
                value.push(list_form(spec.name, d));
            }
        }
        self.page(path, value)
    }

    /// One page of a list: `Config::page_size` items from `$skiptoken`, and the `nextLink` to
    /// the rest.
    fn page(&self, path: &Path, value: Vec<Value>) -> Reply {
        let skip: usize = self
            .query
            .split('&')
            .find_map(|kv| kv.strip_prefix("$skiptoken="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let Some(size) = self.config.page_size.filter(|n| *n > 0) else {
            return Reply::json(200, json!({ "value": value }));
        };
        let end = (skip + size).min(value.len());
        let items: Vec<Value> = value
            .get(skip..end)
            .map(<[Value]>::to_vec)
            .unwrap_or_default();
        if end >= value.len() {
            return Reply::json(200, json!({ "value": items }));
        }
        let rest: Vec<&str> = self
            .query
            .split('&')
            .filter(|kv| !kv.starts_with("$skiptoken=") && !kv.is_empty())
            .collect();
        let next = format!(
            "{}{}?{}&$skiptoken={end}",
            self.base,
            path.id,
            rest.join("&")
        );
        Reply::json(200, json!({ "value": items, "nextLink": next }))
    }

    fn list_rg(&mut self, path: &Path, _api: &str) -> Reply {
        let Some(rg) = &path.rg else {
            return error(
                404,
                "InvalidResourceType",
                "Listing requires a resource group.",
                "",
            );
        };
        if let Some(missing) = self.require_rg(&path.sub, rg) {
            return missing;
        }
        let rg_key = format!("/subscriptions/{}/resourcegroups/{rg}", path.sub).to_lowercase();
        let keys: Vec<String> = self
            .resources
            .keys()
            .filter(|k| k.starts_with(&format!("{rg_key}/providers/")) && k.split('/').count() == 9)
            .cloned()
            .collect();
        let mut value = Vec::new();
        for k in keys {
            // ARM lists tracked resources (those with a location), not proxy resources such as
            // budgets.
            if let Some(d) = self.visible(&k).filter(|d| d["location"].is_string()) {
                value.push(json!({ "id": d["id"], "name": d["name"], "type": d["type"], "location": d["location"], "tags": d.get("tags").cloned().unwrap_or(json!({})) }));
            }
        }
        self.page(path, value)
    }

    /// The lower-case id of the resource an operation-status path belongs to.
    pub fn operation_resource(&self, path: &str) -> Option<String> {
        let op_id = path.split('?').next()?.rsplit('/').next()?;
        self.ops.get(op_id).map(|op| op.resource.clone())
    }

    fn poll(&mut self, path: &Path, location_style: bool) -> Reply {
        let op_id = path.id.rsplit('/').next().unwrap_or("").to_string();
        let now = self.now();
        let Some(op) = self.ops.get(&op_id) else {
            return error(
                404,
                "OperationNotFound",
                format!("Operation '{op_id}' was not found."),
                "",
            );
        };
        let (resource, done_at, fail, delete, api) = (
            op.resource.clone(),
            op.done_at,
            op.fail.clone(),
            op.delete,
            op.api_version.clone(),
        );
        let spec = self
            .resources
            .get(&resource)
            .map(|r| r.spec.clone())
            .unwrap_or_default();
        if now < done_at {
            let remaining = done_at - now;
            if location_style {
                let r = Reply::empty(202).header(
                    "Location",
                    format!("{}{}?api-version={api}", self.base, path.id),
                );
                return self.retry_headers(r, remaining, &spec);
            }
            let r = Reply::json(
                200,
                json!({ "id": path.id, "name": op_id, "status": "InProgress" }),
            );
            return self.retry_headers(r, remaining, &spec);
        }
        self.settle(&resource);
        match (fail, location_style) {
            (Some(err), true) => Reply::json(400, json!({ "error": err })),
            (Some(err), false) => Reply::json(
                200,
                json!({ "id": path.id, "name": op_id, "status": "Failed", "error": err }),
            ),
            (None, true) => {
                if delete {
                    Reply::empty(204)
                } else {
                    match self.visible(&resource) {
                        Some(doc) => Reply::json(200, doc),
                        None => Reply::empty(204),
                    }
                }
            }
            (None, false) => Reply::json(
                200,
                json!({ "id": path.id, "name": op_id, "status": "Succeeded" }),
            ),
        }
    }

    /// Register an operation; returns the URL to poll (operation status or result).
    fn new_op(&mut self, path: &Path, op: Op, location: bool) -> String {
        let id = uuid::Uuid::from_u128(self.rng.gen()).to_string();
        let api = op.api_version.clone();
        self.ops.insert(id.clone(), op);
        let kind = if location {
            "operationResults"
        } else {
            "operationStatuses"
        };
        format!(
            "{}/subscriptions/{}/providers/{}/locations/global/{kind}/{id}?api-version={api}",
            self.base, path.sub, path.ns
        )
    }

    /// The parent (or scope) must exist and not be provisioning.
    fn parent_refusal(&mut self, path: &Path, spec: &TypeSpec) -> Option<Reply> {
        if let Some(parent) = &path.parent {
            let is_rg_scope = path.rg.as_deref().is_some_and(|rg| {
                parent.ends_with(&format!("/resourcegroups/{}", rg.to_lowercase()))
            });
            let is_subscription_scope = path.rg.is_none()
                && parent == &format!("/subscriptions/{}", path.sub.to_lowercase());
            if spec.name != "microsoft.resources/resourcegroups"
                && !is_rg_scope
                && !is_subscription_scope
                && !self.exists_ready(parent)
            {
                return Some(error(404, "ParentResourceNotFound", format!("Can not perform requested operation on nested resource. Parent resource '{parent}' not found."), ""));
            }
            // Writes under a parent that is still provisioning.
            if self.provisioning(parent) {
                let parent_spec = self
                    .resources
                    .get(parent)
                    .map(|r| r.spec.clone())
                    .unwrap_or_default();
                return Some(if parent_spec == "microsoft.apimanagement/service" {
                    error(400, "InvalidOperation", "The API Management service is activating or updating; child resources cannot be changed until it is done.", "")
                } else {
                    error(
                        409,
                        "AnotherOperationInProgress",
                        format!(
                            "Another operation is in progress on the parent resource '{parent}'."
                        ),
                        "",
                    )
                });
            }
        }
        None
    }

    /// A write over an existing resource: not while its operation runs, never changing an
    /// immutable property.
    fn change_refusal(
        &self,
        path: &Path,
        spec: &TypeSpec,
        old: &Stored,
        body: &Value,
    ) -> Option<Reply> {
        if old.ready_at > self.now() {
            return Some(error(
                409,
                "AnotherOperationInProgress",
                format!("An operation is already in progress on '{}'.", path.id),
                "",
            ));
        }
        for prop in spec.immutable {
            let was = pointer(&old.doc, prop);
            let now = pointer(body, prop);
            let differs = match (&was, &now) {
                (Some(a), Some(b)) if *prop == "location" => norm_loc(a) != norm_loc(b),
                (Some(a), Some(b)) => a != b,
                _ => false,
            };
            if differs {
                return Some(if *prop == "location" {
                    error(409, "InvalidResourceLocation", format!("The resource '{}' already exists in location '{}'. A resource with the same name cannot be created in location '{}'.", path.id, was.unwrap_or_default(), now.unwrap_or_default()), "location")
                } else {
                    error(
                        409,
                        "PropertyChangeNotAllowed",
                        format!("Changing property '{prop}' is not allowed."),
                        prop,
                    )
                });
            }
        }
        None
    }

    /// What the providers refuse about a write: what Azure does not offer, then each
    /// provider's rules, then what the subscription does not allow.
    fn refused_by_providers(&mut self, put: &Put, key: &str) -> Option<Reply> {
        let providers = self.providers();
        providers
            .iter()
            .find_map(|p| p.capability_check(self, put))
            .or_else(|| providers.iter().find_map(|p| p.check(self, put)))
            .or_else(|| {
                providers.iter().find_map(|p| {
                    p.refuse_put(self, key, put.spec.name, put.body, put.existing.is_some())
                })
            })
    }

    fn duration(&mut self, spec: &TypeSpec, create: bool, big_update: bool) -> f64 {
        let (lo, hi) = spec.create_secs;
        let (lo, hi) = if create {
            (lo, hi)
        } else if big_update {
            (900, 2700)
        } else {
            ((lo / 4).max(1), (hi / 4).max(1))
        };
        if hi <= lo {
            lo as f64
        } else {
            self.rng.gen_range(lo..=hi) as f64
        }
    }

    fn put(&mut self, path: &Path, spec: &'static TypeSpec, api: &str, raw: &[u8]) -> Reply {
        let key = path.id.to_lowercase();
        let body: Value = match serde_json::from_slice(raw) {
            Ok(v) => v,
            Err(e) => {
                return error(
                    400,
                    "InvalidRequestContent",
                    format!(
                        "The request content was invalid and could not be deserialized: '{e}'."
                    ),
                    "",
                )
            }
        };
        if !self.resources.contains_key(&key) {
            for p in self.providers() {
                if let Some(refused) = p.refuse_create(self, spec.name, &key) {
                    return refused;
                }
            }
        }
        if let Some(r) = self.parent_refusal(path, spec) {
            return r;
        }
        if let Err((message, target)) = types::validate(spec, &body) {
            return error(400, "InvalidRequestContent", message, &target);
        }
        self.settle(&key);
        let existing = self.resources.get(&key).cloned().filter(|r| !r.deleting);
        if let Some(r) = existing
            .as_ref()
            .and_then(|old| self.change_refusal(path, spec, old, &body))
        {
            return r;
        }
        // Provider behaviours.
        let put = Put {
            path,
            spec,
            body: &body,
            existing: existing.as_ref(),
        };
        if let Some(r) = self.refused_by_providers(&put, &key) {
            return r;
        }
        let now = self.now();
        let created = existing.is_none();
        let big_update = !created
            && spec.name == "microsoft.apimanagement/service"
            && existing.as_ref().is_some_and(|o| {
                o.doc["properties"].get("additionalLocations").map(locs)
                    != body["properties"].get("additionalLocations").map(locs)
                    || o.doc["sku"] != body["sku"]
            });
        let dur = match spec.style {
            Style::Sync => 0.0,
            _ => self.duration(spec, created, big_update),
        };
        let fail = (spec.style != Style::Sync && spec.style != Style::SyncBusy && self.rng.gen::<f64>() < self.config.faults.lro_fail)
            .then(|| json!({ "code": "ProvisioningFailed", "message": format!("Injected fault: provisioning of '{}' failed.", path.id) }));
        // A Location-style operation that ends "done" (200) with the resource Failed: only its
        // provisioning state says so. Drawn only when asked for, so seeded runs without this
        // fault see the same draws as before.
        let quiet_fail = (fail.is_none()
            && spec.style == Style::Location
            && self.config.faults.location_failed > 0.0
            && self.rng.gen::<f64>() < self.config.faults.location_failed)
            .then(|| json!({ "code": "ProvisioningFailed", "message": format!("Injected fault: provisioning of '{}' failed (the operation reported done).", path.id) }));
        // An update of an existing resource is kept apart from its creation (`<id>#update`).
        let dur_key = if created {
            key.clone()
        } else {
            format!("{key}#update")
        };
        self.durations.insert(dur_key, dur);
        let doc = self.build_doc(path, spec, &body, existing.as_ref());
        if spec.style == Style::SyncBusy {
            let parent = path.parent.clone().unwrap_or_default();
            let api_key = api_scope(&key, &parent);
            self.busy.insert(api_key, now + dur);
        }
        let busy_state = if created { spec.busy_state } else { "Updating" }.to_string();
        self.resources.insert(
            key.clone(),
            Stored {
                id: path.id.clone(),
                spec: spec.name.to_string(),
                doc: doc.clone(),
                ready_at: now
                    + if matches!(spec.style, Style::Sync | Style::SyncBusy) {
                        0.0
                    } else {
                        dur
                    },
                fail: fail.clone().or(quiet_fail),
                hidden: created && spec.style == Style::Location,
                deleting: false,
                busy_state: busy_state.clone(),
            },
        );
        self.after_put(path, spec, &doc);
        let status = if created { 201 } else { 200 };
        match spec.style {
            Style::Sync => Reply::json(status, self.visible(&key).unwrap_or(doc)),
            Style::SyncBusy => {
                let mut r = Reply::json(status, self.visible(&key).unwrap_or(doc));
                r.delay = self.real(dur);
                r
            }
            Style::AsyncOperation => {
                let op = Op {
                    resource: key.clone(),
                    done_at: now + dur,
                    fail,
                    delete: false,
                    api_version: api.to_string(),
                };
                let url = self.new_op(path, op, false);
                let mut shown = doc;
                if let Some(p) = shown.get_mut("properties").and_then(Value::as_object_mut) {
                    p.insert("provisioningState".into(), json!(busy_state));
                }
                let r = Reply::json(status, shown).header("Azure-AsyncOperation", url);
                self.retry_headers(r, dur, spec.name)
            }
            Style::Location => {
                let op = Op {
                    resource: key.clone(),
                    done_at: now + dur,
                    fail,
                    delete: false,
                    api_version: api.to_string(),
                };
                let url = self.new_op(path, op, true);
                let r = Reply::empty(202).header("Location", url);
                self.retry_headers(r, dur, spec.name)
            }
        }
    }

    fn build_doc(
        &mut self,
        path: &Path,
        spec: &TypeSpec,
        body: &Value,
        existing: Option<&Stored>,
    ) -> Value {
        let name = path.id.rsplit('/').next().unwrap_or("").to_string();
        let mut doc = Map::new();
        doc.insert("id".into(), json!(path.id));
        doc.insert("name".into(), json!(name));
        let ty = if spec.name == "microsoft.resources/resourcegroups" {
            "Microsoft.Resources/resourceGroups".to_string()
        } else {
            format!("{}/{}", path.ns, path.type_path)
        };
        doc.insert("type".into(), json!(ty));
        for k in [
            "location",
            "tags",
            "sku",
            "kind",
            "identity",
            "managedBy",
            "zones",
        ] {
            if let Some(v) = body.get(k) {
                doc.insert(k.into(), v.clone());
            }
        }
        let mut props = body
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        props.remove("provisioningState");
        let put = Put {
            path,
            spec,
            body,
            existing,
        };
        for p in self.providers() {
            p.fill(self, &put, &mut doc, &mut props);
        }
        doc.insert("properties".into(), Value::Object(props));
        Value::Object(doc)
    }

    fn after_put(&mut self, path: &Path, spec: &TypeSpec, doc: &Value) {
        for p in self.providers() {
            p.after_put(self, path, spec, doc);
        }
    }

    fn delete(&mut self, path: &Path, spec: &TypeSpec, api: &str) -> Reply {
        let key = path.id.to_lowercase();
        self.settle(&key);
        let Some(r) = self.resources.get(&key).cloned() else {
            return Reply::empty(204);
        };
        if r.deleting {
            return Reply::empty(202);
        }
        let now = self.now();
        if matches!(spec.style, Style::Sync | Style::SyncBusy)
            && spec.name != "microsoft.resources/resourcegroups"
        {
            self.remove_tree(&key);
            return Reply::empty(200);
        }
        let dur = (spec.create_secs.1 as f64 / 2.0).max(10.0);
        if let Some(s) = self.resources.get_mut(&key) {
            s.deleting = true;
            s.ready_at = now + dur;
        }
        let op = Op {
            resource: key.clone(),
            done_at: now + dur,
            fail: None,
            delete: true,
            api_version: api.to_string(),
        };
        let url = self.new_op(path, op, true);
        let r = Reply::empty(202).header("Location", url);
        self.retry_headers(r, dur, spec.name)
    }

    /// State file contents.
    pub fn snapshot(&mut self) -> Value {
        let keys: Vec<String> = self.resources.keys().cloned().collect();
        for k in keys {
            self.settle(&k);
        }
        json!({ "resources": self.resources, "principals": self.principals, "preflight": self.preflight, "deleted": self.deleted, "secrets": self.secrets })
    }

    pub fn restore(&mut self, v: &Value) {
        self.preflight = Data::from_state(&v["preflight"]);
        if let Ok(r) = serde_json::from_value::<BTreeMap<String, Stored>>(v["resources"].clone()) {
            // A deletion in flight is done too: a Cognitive Services account is soft-deleted.
            for (k, s) in r.iter().filter(|(_, s)| s.deleting) {
                for p in self.providers() {
                    p.restored_deleting(self, k, s);
                }
            }
            // Operations do not survive a restart: what was provisioning is done.
            self.resources = r
                .into_iter()
                .map(|(k, mut s)| {
                    s.ready_at = 0.0;
                    s.hidden = false;
                    (k, s)
                })
                .filter(|(_, s)| !s.deleting)
                .collect();
        }
        if let Ok(d) = serde_json::from_value::<BTreeMap<String, Value>>(v["deleted"].clone()) {
            self.deleted = d;
        }
        if let Ok(d) = serde_json::from_value::<BTreeMap<String, Value>>(v["secrets"].clone()) {
            self.secrets = d;
        }
        if let Ok(p) = serde_json::from_value::<HashMap<String, f64>>(v["principals"].clone()) {
            // Principals loaded from a state file have long replicated.
            self.principals = p.into_keys().map(|k| (k, f64::MIN / 2.0)).collect();
        }
    }
}

/// An item as a list shows it, where that differs from its GET: API Management leaves the
/// value of a secret named value out (azure-rest-api-specs apimanagement 2024-05-01
/// `ApiManagementListNamedValues.json`) and the `format` of a policy
/// (`ApiManagementListApiPolicies.json`).
fn list_form(spec: &str, mut doc: Value) -> Value {
    let props = doc.get_mut("properties").and_then(Value::as_object_mut);
    match (spec, props) {
        ("microsoft.apimanagement/service/namedvalues", Some(p))
            if p.get("secret").and_then(Value::as_bool) == Some(true) =>
        {
            p.remove("value");
        }
        (s, Some(p)) if s.ends_with("/policies") && s.starts_with("microsoft.apimanagement/") => {
            p.remove("format");
        }
        _ => {}
    }
    doc
}

/// The lock scope of an APIM API write: the API itself.
pub fn api_scope(key: &str, parent: &str) -> String {
    if key.matches("/apis/").count() == 1 && parent.ends_with("/apis") {
        return key.to_string();
    }
    match key.find("/apis/") {
        Some(i) => {
            let rest = &key[i + 6..];
            let api = rest.split('/').next().unwrap_or("");
            format!("{}/apis/{api}", &key[..i])
        }
        None => parent.to_string(),
    }
}

fn pointer(v: &Value, dotted: &str) -> Option<Value> {
    let mut cur = v;
    for seg in dotted.split('.') {
        cur = cur.get(seg)?;
    }
    Some(cur.clone())
}

pub fn norm_loc(v: &Value) -> String {
    v.as_str().unwrap_or("").to_lowercase().replace(' ', "")
}

pub fn arm_region(s: &str) -> String {
    s.to_lowercase().replace(' ', "")
}

fn locs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|l| {
                    format!(
                        "{}:{}",
                        arm_region(l["location"].as_str().unwrap_or("")),
                        l["sku"]["capacity"]
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
