//! The ARM state machine: routing, validation, long-running operations on a virtual clock,
//! provider quirks, throttling and faults. The HTTP server (`server.rs`) only moves bytes.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

use crate::capabilities;
use crate::types::{self, Style, TypeSpec};
use crate::{Config, LogEntry};

/// What the server sends back.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    /// Hold the response this long (slow faults, busy providers, configured latency).
    pub delay: Duration,
    /// Close the connection without a response.
    pub drop: bool,
}

impl Reply {
    pub(crate) fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Some(body),
            delay: Duration::ZERO,
            drop: false,
        }
    }
    pub(crate) fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: None,
            delay: Duration::ZERO,
            drop: false,
        }
    }
    fn header(mut self, k: &str, v: impl Into<String>) -> Reply {
        self.headers.push((k.to_string(), v.into()));
        self
    }
}

pub(crate) fn error(status: u16, code: &str, message: impl Into<String>, target: &str) -> Reply {
    Reply::json(
        status,
        json!({ "error": { "code": code, "message": message.into(), "target": target, "details": [] } }),
    )
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
    busy: HashMap<String, f64>,
    /// Lower-case id -> virtual seconds its last write took to provision (0 for synchronous
    /// types; the busy period for writes that lock their parent). Benchmarks compute the
    /// critical path from these.
    pub durations: HashMap<String, f64>,
    pub log: Vec<LogEntry>,
    seq: u64,
    /// Quota, models, soft-deleted accounts, taken names (`crate::preflight`).
    pub preflight: crate::preflight::Data,
    /// Soft-deleted API Management services (`crate::soft_delete`; accounts: `crate::preflight`).
    pub deleted: BTreeMap<String, Value>,
}

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// How long a principal takes to replicate through Microsoft Entra ID (virtual seconds).
const PRINCIPAL_REPLICATION: f64 = 60.0;
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

struct Path {
    sub: String,
    /// Resource-group segment, if any.
    rg: Option<String>,
    /// Full resource id (for an item) or collection path.
    id: String,
    spec_name: String,
    /// Parent resource id (the scope for extension resources), lower-case; None for RGs.
    parent: Option<String>,
    collection: bool,
    ns: String,
    type_path: String,
}

fn parse_path(raw: &str) -> Option<Path> {
    let segs: Vec<&str> = raw.trim_matches('/').split('/').collect();
    if segs.len() < 2 || !segs[0].eq_ignore_ascii_case("subscriptions") {
        return None;
    }
    let sub = segs[1].to_string();
    let rg = (segs.len() >= 4 && segs[2].eq_ignore_ascii_case("resourcegroups"))
        .then(|| segs[3].to_string());
    if segs.len() == 4 && rg.is_some() {
        return Some(Path {
            sub,
            rg,
            id: format!("/{}", segs.join("/")),
            spec_name: "microsoft.resources/resourcegroups".into(),
            parent: None,
            collection: false,
            ns: "Microsoft.Resources".into(),
            type_path: "resourceGroups".into(),
        });
    }
    let p = segs
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"))?;
    let ns = *segs.get(p + 1)?;
    let rest = &segs[p + 2..];
    if rest.is_empty() {
        return None;
    }
    let types: Vec<&str> = rest.iter().step_by(2).copied().collect();
    let spec_name = format!("{}/{}", ns, types.join("/")).to_lowercase();
    let collection = rest.len() % 2 == 1;
    let items = if collection {
        rest.len() - 1
    } else {
        rest.len() - 2
    };
    // The parent: the same path without the last type/name pair; for a resource at the top
    // of its provider, the scope (resource group, subscription, or a resource for extensions).
    let cut = if items == 0 { p } else { p + 2 + items };
    let parent = Some(format!("/{}", segs[..cut].join("/")).to_lowercase());
    Some(Path {
        sub,
        rg,
        id: format!("/{}", segs.join("/")),
        spec_name,
        parent,
        collection,
        ns: ns.to_string(),
        type_path: types.join("/"),
    })
}

impl Engine {
    pub fn new(config: Config) -> Engine {
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
            preflight: crate::preflight::Data::default(),
            deleted: BTreeMap::new(),
        }
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
                crate::preflight::soft_delete(self, &k, &r.spec, &r.doc);
                if crate::soft_delete::soft_deleted_type(&r.spec) {
                    if let Some((id, doc)) = crate::soft_delete::record(&r.doc, &r.spec) {
                        self.deleted.insert(id, doc);
                    }
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

    fn exists_ready(&mut self, key: &str) -> bool {
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

        let mut reply = match crate::preflight::route(
            self,
            method,
            raw_path,
            query,
            api_version.as_deref(),
            body,
        ) {
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
        if let Some(r) = crate::soft_delete::route(self, method, &path.id, &path.sub, api_version) {
            return r;
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
        let keys: Vec<String> = self
            .resources
            .iter()
            .filter(|(k, r)| {
                r.spec == spec.name
                    && parse_path(k).and_then(|p| p.parent).as_deref() == Some(parent.as_str())
            })
            .map(|(k, _)| k.clone())
            .collect();
        let mut value = Vec::new();
        for k in keys {
            if let Some(d) = self.visible(&k) {
                value.push(d);
            }
        }
        Reply::json(200, json!({ "value": value }))
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
        Reply::json(200, json!({ "value": value }))
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
            if let Some(refused) = crate::soft_delete::refuse_create(self, spec.name, &key) {
                return refused;
            }
        }
        // Parent (or scope) must exist.
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
                return error(404, "ParentResourceNotFound", format!("Can not perform requested operation on nested resource. Parent resource '{parent}' not found."), "");
            }
            // Writes under a parent that is still provisioning.
            if self.provisioning(parent) {
                let parent_spec = self
                    .resources
                    .get(parent)
                    .map(|r| r.spec.clone())
                    .unwrap_or_default();
                return if parent_spec == "microsoft.apimanagement/service" {
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
                };
            }
        }
        if let Err((message, target)) = types::validate(spec, &body) {
            return error(400, "InvalidRequestContent", message, &target);
        }
        self.settle(&key);
        let existing = self.resources.get(&key).cloned().filter(|r| !r.deleting);
        if let Some(old) = &existing {
            if old.ready_at > self.now() {
                return error(
                    409,
                    "AnotherOperationInProgress",
                    format!("An operation is already in progress on '{}'.", path.id),
                    "",
                );
            }
            for prop in spec.immutable {
                let was = pointer(&old.doc, prop);
                let now = pointer(&body, prop);
                let differs = match (&was, &now) {
                    (Some(a), Some(b)) if *prop == "location" => norm_loc(a) != norm_loc(b),
                    (Some(a), Some(b)) => a != b,
                    _ => false,
                };
                if differs {
                    return if *prop == "location" {
                        error(409, "InvalidResourceLocation", format!("The resource '{}' already exists in location '{}'. A resource with the same name cannot be created in location '{}'.", path.id, was.unwrap_or_default(), now.unwrap_or_default()), "location")
                    } else {
                        error(
                            409,
                            "PropertyChangeNotAllowed",
                            format!("Changing property '{prop}' is not allowed."),
                            prop,
                        )
                    };
                }
            }
        }
        // Provider behaviours.
        if let Some(r) = self.provider_checks(path, spec, &body, existing.as_ref()) {
            return r;
        }
        if let Some(r) =
            crate::preflight::refuse_put(self, &key, spec.name, &body, existing.is_some())
        {
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

    /// Resource-provider rules beyond the schema. `Some(reply)` refuses the write.
    fn provider_checks(
        &mut self,
        path: &Path,
        spec: &TypeSpec,
        body: &Value,
        existing: Option<&Stored>,
    ) -> Option<Reply> {
        if let Some(r) = self.capability_checks(path, spec, body, existing) {
            return Some(r);
        }
        let key = path.id.to_lowercase();
        let parent = path.parent.clone().unwrap_or_default();
        let now = self.now();
        match spec.name {
            "microsoft.cognitiveservices/accounts/deployments" => {
                let busy = self.resources.iter().any(|(k, r)| {
                    *k != key
                        && r.spec == spec.name
                        && k.starts_with(&format!("{parent}/"))
                        && r.ready_at > now
                        && !r.deleting
                });
                if busy {
                    return Some(error(409, "RequestConflict", "Another operation is being performed on the parent resource. Please try again later.", ""));
                }
            }
            s if s.starts_with("microsoft.apimanagement/service/apis") => {
                let scope = api_scope(&key, &parent);
                if self.busy.get(&scope).is_some_and(|until| *until > now) {
                    return Some(error(409, "PessimisticConcurrencyConflict", "Conflict occurred while trying to update the entity. Another operation holds the lock on this API; retry later.", ""));
                }
            }
            "microsoft.authorization/roleassignments" => {
                let p = &body["properties"];
                let principal = p["principalId"].as_str().unwrap_or("").to_lowercase();
                let role = p["roleDefinitionId"].as_str().unwrap_or("").to_lowercase();
                let has_type = p.get("principalType").and_then(Value::as_str).is_some();
                if !has_type {
                    let fresh = match self.principals.get(&principal) {
                        None => true,
                        Some(t) => now - t < PRINCIPAL_REPLICATION,
                    };
                    if fresh {
                        return Some(error(400, "PrincipalNotFound", format!("Principal {principal} does not exist in the directory {TENANT}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group."), ""));
                    }
                }
                if let Some(old) = existing {
                    let op = &old.doc["properties"];
                    if op["principalId"].as_str().unwrap_or("").to_lowercase() != principal
                        || op["roleDefinitionId"].as_str().unwrap_or("").to_lowercase() != role
                    {
                        return Some(error(409, "RoleAssignmentUpdateNotPermitted", "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.", ""));
                    }
                }
                let dup = self.resources.iter().any(|(k, r)| {
                    *k != key
                        && r.spec == spec.name
                        && k.starts_with(&format!(
                            "{parent}/providers/microsoft.authorization/roleassignments/"
                        ))
                        && r.doc["properties"]["principalId"]
                            .as_str()
                            .unwrap_or("")
                            .to_lowercase()
                            == principal
                        && r.doc["properties"]["roleDefinitionId"]
                            .as_str()
                            .unwrap_or("")
                            .to_lowercase()
                            == role
                });
                if dup {
                    return Some(error(
                        409,
                        "RoleAssignmentExists",
                        "The role assignment already exists.",
                        "",
                    ));
                }
            }
            "microsoft.cdn/profiles/origingroups/origins" => {
                let spl = &body["properties"]["sharedPrivateLinkResource"];
                let private = spl.is_object();
                if let Some(target) = spl["privateLink"]["id"].as_str() {
                    if !self.exists_ready(&target.to_lowercase()) {
                        return Some(error(
                            400,
                            "BadRequest",
                            format!("The private link resource '{target}' was not found."),
                            "properties.sharedPrivateLinkResource.privateLink.id",
                        ));
                    }
                }
                let mixed = self.resources.iter().any(|(k, r)| {
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
            }
            _ => {}
        }
        None
    }

    /// What Azure does not offer, from `data/capabilities/` (the same tables aoai-arch's lint
    /// reads): model deployments by region and type, data zones, APIM tier features, Front Door
    /// Private Link regions. A model or type the data does not list is accepted.
    fn capability_checks(
        &self,
        path: &Path,
        spec: &TypeSpec,
        body: &Value,
        existing: Option<&Stored>,
    ) -> Option<Reply> {
        let caps = capabilities::get();
        let parent = path.parent.clone().unwrap_or_default();
        match spec.name {
            "microsoft.cognitiveservices/accounts" => {
                let kind = body["kind"].as_str().unwrap_or("");
                let region = norm_loc(&body["location"]);
                let offered = caps.account_kind_regions(kind);
                if offered.is_some_and(|rs| !rs.contains(&region)) {
                    return Some(error(
                        400,
                        "InvalidApiSetId",
                        format!("The account type '{kind}' is either invalid or unavailable in given region."),
                        "",
                    ));
                }
            }
            "microsoft.cognitiveservices/accounts/deployments" => {
                let region = self
                    .resources
                    .get(&parent)
                    .map(|r| norm_loc(&r.doc["location"]))?;
                let model = &body["properties"]["model"];
                let name = model["name"].as_str().unwrap_or("");
                let version = model["version"].as_str().unwrap_or("");
                let sku = body["sku"]["name"].as_str().unwrap_or("Standard");
                let refused = match caps.deployment(name, version, sku, &region) {
                    capabilities::Offer::NotOffered(_) => true,
                    capabilities::Offer::Offered => false,
                    // A data-zone type outside every data zone, whatever the model.
                    capabilities::Offer::Unknown => {
                        sku.starts_with("DataZone") && caps.data_zone(&region).is_none()
                    }
                };
                if refused {
                    return Some(error(
                        400,
                        "InvalidResourceProperties",
                        format!("The specified SKU '{sku}' for model '{name} {version}' is not supported in this region '{region}'."),
                        "",
                    ));
                }
            }
            "microsoft.apimanagement/service" => {
                let p = &body["properties"];
                let sku = body["sku"]["name"].as_str().unwrap_or("");
                if existing.is_none() && p["publicNetworkAccess"].as_str() == Some("Disabled") {
                    return Some(error(400, "NotSupported", format!("Blocking all public network access by setting property `publicNetworkAccess` of API Management service {} is not enabled during service creation.", path.id), ""));
                }
                if let Some(old) =
                    existing.filter(|_| p["publicNetworkAccess"].as_str() == Some("Disabled"))
                {
                    let was_disabled =
                        old.doc["properties"]["publicNetworkAccess"].as_str() == Some("Disabled");
                    let prefix = format!("{}/privateendpointconnections/", path.id.to_lowercase());
                    let approved = self.resources.iter().any(|(k, r)| {
                        k.starts_with(&prefix)
                            && r.doc["properties"]["privateLinkServiceConnectionState"]["status"]
                                == "Approved"
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
            }
            "microsoft.network/privateendpoints" => {
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
                    if let Some(sku) = self.apim_sku(target).filter(|s| {
                        !caps
                            .apim_tier(s)
                            .is_some_and(|t| t.inbound_private_endpoint)
                    }) {
                        return Some(error(400, "NotSupported", format!("Setting up Private Endpoint Connection for API Management service {target} is not supported by the {sku} tier. Tiers that support it: {}.", caps.apim_tiers_with(|t| t.inbound_private_endpoint).join(", ")), ""));
                    }
                    if self.injected_classic_apim(target) {
                        return Some(error(400, "NotSupported", format!("Setting up Private Endpoint Connection for API Management service {target} is not supported: the service is deployed in a virtual network (virtualNetworkType External or Internal). Please refer to https://aka.ms/apim-private-link on more details."), ""));
                    }
                }
            }
            "microsoft.cdn/profiles/origingroups/origins" => {
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
                let target_tier = self
                    .resources
                    .get(&target.to_lowercase())
                    .filter(|r| r.spec == "microsoft.apimanagement/service")
                    .and_then(|r| r.doc["sku"]["name"].as_str())
                    .and_then(|sku| caps.apim_tier(sku).map(|t| (sku.to_string(), *t)));
                if let Some((sku, _)) = target_tier.filter(|(_, t)| !t.front_door_private_link) {
                    return Some(error(400, "BadRequest", format!("The private link resource '{target}' does not accept Front Door Private Link: the {sku} tier of API Management is not a supported origin."), "properties.sharedPrivateLinkResource.privateLink.id"));
                }
                if self.injected_classic_apim(target) {
                    return Some(error(400, "BadRequest", format!("The private link resource '{target}' does not accept private endpoint connections: API Management services deployed in a virtual network (virtualNetworkType External or Internal) do not support private endpoints."), "properties.sharedPrivateLinkResource.privateLink.id"));
                }
            }
            _ => {}
        }
        None
    }

    /// The SKU name of the API Management service `id`, if it is one.
    fn apim_sku(&self, id: &str) -> Option<String> {
        let r = self.resources.get(&id.to_lowercase())?;
        (r.spec == "microsoft.apimanagement/service")
            .then(|| r.doc["sku"]["name"].as_str().unwrap_or("").to_string())
    }

    /// A classic API Management service injected in a virtual network (no inbound private
    /// endpoints on those).
    fn injected_classic_apim(&self, id: &str) -> bool {
        let Some(r) = self.resources.get(&id.to_lowercase()) else {
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
        let seed = self.config.seed;
        let h = |what: &str| {
            uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_URL,
                format!("{seed}:{}:{what}", path.id.to_lowercase()).as_bytes(),
            )
        };
        match spec.name {
            "microsoft.cognitiveservices/accounts" => {
                let sub = props
                    .get("customSubDomainName")
                    .and_then(Value::as_str)
                    .unwrap_or(&name)
                    .to_lowercase();
                // A Foundry resource (AIServices) answers on three hosts; its own endpoint is
                // the Cognitive Services one, and it serves Azure OpenAI on openai.azure.com.
                let openai = format!("https://{sub}.openai.azure.com/");
                if body["kind"].as_str() == Some("AIServices") {
                    props.insert(
                        "endpoint".into(),
                        json!(format!("https://{sub}.cognitiveservices.azure.com/")),
                    );
                    props.insert("endpoints".into(), json!({
                        "OpenAI Language Model Instance API": openai,
                        "Azure AI Model Inference API": format!("https://{sub}.services.ai.azure.com/"),
                        "Cognitive Services": format!("https://{sub}.cognitiveservices.azure.com/"),
                    }));
                } else {
                    props.insert("endpoint".into(), json!(openai));
                    props.insert(
                        "endpoints".into(),
                        json!({ "OpenAI Language Model Instance API": openai }),
                    );
                }
            }
            "microsoft.apimanagement/service" => {
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
                    let now = self.now();
                    self.principals.entry(principal.clone()).or_insert(now);
                    doc.insert("identity".into(), json!({ "type": body["identity"]["type"], "principalId": principal, "tenantId": TENANT }));
                }
            }
            "microsoft.insights/components" => {
                let key = h("ikey").to_string();
                let loc = arm_region(body["location"].as_str().unwrap_or(""));
                props.insert("InstrumentationKey".into(), json!(key));
                props.insert("ConnectionString".into(), json!(format!("InstrumentationKey={key};IngestionEndpoint=https://{loc}-0.in.applicationinsights.azure.com/")));
                props.insert("AppId".into(), json!(h("appid").to_string()));
            }
            "microsoft.operationalinsights/workspaces" => {
                props.insert("customerId".into(), json!(h("customer").to_string()));
            }
            "microsoft.cdn/profiles/afdendpoints" => {
                let hash: String = h("endpoint").simple().to_string()[..16].to_string();
                props.insert(
                    "hostName".into(),
                    json!(format!("{name}-{hash}.z01.azurefd.net")),
                );
            }
            "microsoft.cdn/profiles/customdomains" => {
                props.insert("domainValidationState".into(), json!("Pending"));
                props.insert("validationProperties".into(), json!({ "validationToken": h("validation").simple().to_string(), "expirationDate": "2027-01-01T00:00:00Z" }));
            }
            "microsoft.cdn/profiles" => {
                props.insert("frontDoorId".into(), json!(h("fdid").to_string()));
            }
            "microsoft.eventhub/namespaces" => {
                props.insert(
                    "serviceBusEndpoint".into(),
                    json!(format!("https://{name}.servicebus.windows.net:443/")),
                );
            }
            _ => {}
        }
        doc.insert("properties".into(), Value::Object(props));
        Value::Object(doc)
    }

    fn after_put(&mut self, path: &Path, spec: &TypeSpec, doc: &Value) {
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
                let is_apim = self
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
                if self.resources.contains_key(&id.to_lowercase()) {
                    continue;
                }
                let now = self.now();
                self.resources.insert(
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
        // A Front Door origin over Private Link leaves a Pending connection on its target.
        if spec.name == "microsoft.cdn/profiles/origingroups/origins" {
            let spl = &doc["properties"]["sharedPrivateLinkResource"];
            if let Some(target) = spl["privateLink"]["id"].as_str() {
                let target_key = target.to_lowercase();
                let target_spec = self
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
                let already = self.resources.contains_key(&id.to_lowercase());
                if !already {
                    let now = self.now();
                    self.resources.insert(
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
        json!({ "resources": self.resources, "principals": self.principals, "preflight": self.preflight, "deleted": self.deleted })
    }

    pub fn restore(&mut self, v: &Value) {
        self.preflight = crate::preflight::Data::from_state(&v["preflight"]);
        if let Ok(r) = serde_json::from_value::<BTreeMap<String, Stored>>(v["resources"].clone()) {
            // A deletion in flight is done too: a Cognitive Services account is soft-deleted.
            for (k, s) in r.iter().filter(|(_, s)| s.deleting) {
                crate::preflight::soft_delete(self, k, &s.spec, &s.doc);
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
        if let Ok(p) = serde_json::from_value::<HashMap<String, f64>>(v["principals"].clone()) {
            // Principals loaded from a state file have long replicated.
            self.principals = p.into_keys().map(|k| (k, f64::MIN / 2.0)).collect();
        }
    }
}

/// `/subscriptions/{s}/providers/{namespace}`: a resource provider's registration.
fn provider_path(raw: &str) -> Option<Path> {
    let segs: Vec<&str> = raw.trim_matches('/').split('/').collect();
    if segs.len() != 4
        || !segs[0].eq_ignore_ascii_case("subscriptions")
        || !segs[2].eq_ignore_ascii_case("providers")
    {
        return None;
    }
    Some(Path {
        sub: segs[1].to_string(),
        rg: None,
        id: format!("/{}", segs.join("/")),
        spec_name: "microsoft.resources/providers".into(),
        parent: None,
        collection: false,
        ns: segs[3].to_string(),
        type_path: "providers".into(),
    })
}

/// `/subscriptions/{s}/resourceGroups/{rg}/resources`: every top-level resource of a group.
fn rg_resources_path(raw: &str) -> Option<Path> {
    let segs: Vec<&str> = raw.trim_matches('/').split('/').collect();
    if segs.len() != 5
        || !segs[2].eq_ignore_ascii_case("resourcegroups")
        || !segs[4].eq_ignore_ascii_case("resources")
    {
        return None;
    }
    Some(Path {
        sub: segs[1].to_string(),
        rg: Some(segs[3].to_string()),
        id: format!("/{}", segs.join("/")),
        spec_name: "microsoft.resources/resources".into(),
        parent: None,
        collection: true,
        ns: "Microsoft.Resources".into(),
        type_path: "resources".into(),
    })
}

fn target_spec_type(spec: &str) -> &'static str {
    if spec.starts_with("microsoft.apimanagement") {
        "Microsoft.ApiManagement/service"
    } else {
        "Microsoft.CognitiveServices/accounts"
    }
}

/// The lock scope of an APIM API write: the API itself.
fn api_scope(key: &str, parent: &str) -> String {
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

fn norm_loc(v: &Value) -> String {
    v.as_str().unwrap_or("").to_lowercase().replace(' ', "")
}

fn arm_region(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let p = parse_path("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/a/apis/x/operations/o").unwrap();
        assert_eq!(
            p.spec_name,
            "microsoft.apimanagement/service/apis/operations"
        );
        assert_eq!(p.parent.as_deref(), Some("/subscriptions/s/resourcegroups/rg/providers/microsoft.apimanagement/service/a/apis/x"));
        let p = parse_path("/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a/providers/Microsoft.Authorization/roleAssignments/g").unwrap();
        assert_eq!(p.spec_name, "microsoft.authorization/roleassignments");
        assert_eq!(p.parent.as_deref(), Some("/subscriptions/s/resourcegroups/rg/providers/microsoft.cognitiveservices/accounts/a"));
        let p = parse_path(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts",
        )
        .unwrap();
        assert!(p.collection);
        assert_eq!(
            p.parent.as_deref(),
            Some("/subscriptions/s/resourcegroups/rg")
        );
        let p = parse_path("/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a/deployments").unwrap();
        assert!(p.collection);
        assert_eq!(p.parent.as_deref(), Some("/subscriptions/s/resourcegroups/rg/providers/microsoft.cognitiveservices/accounts/a"));
        let p = parse_path(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a",
        )
        .unwrap();
        assert_eq!(
            p.parent.as_deref(),
            Some("/subscriptions/s/resourcegroups/rg")
        );
    }
}
