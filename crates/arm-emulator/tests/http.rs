//! The emulator over HTTP: each ARM behaviour it reproduces, every error code.

use std::time::Duration;

use arm_emulator::{start, Config, Running};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

const SUB: &str = "00000000-0000-0000-0000-0000000000aa";

fn rg() -> String {
    format!("/subscriptions/{SUB}/resourceGroups/rg1")
}

struct Env {
    emu: Running,
    http: Client,
}

impl Env {
    /// An emulator that does not print its request log (the tests read it instead).
    async fn new(config: Config) -> Env {
        let config = Config {
            log_requests: false,
            ..config
        };
        Env {
            emu: start(config, 0).await.unwrap(),
            http: Client::new(),
        }
    }
    /// Azure's durations divided by `time_scale`.
    async fn scaled(time_scale: f64) -> Env {
        Env::new(Config {
            time_scale,
            ..Config::default()
        })
        .await
    }
    async fn fast() -> Env {
        Env::scaled(100_000.0).await
    }
    async fn send(
        &self,
        method: Method,
        path: &str,
        api: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut url = format!("{}{path}", self.emu.url());
        if let Some(a) = api {
            url.push_str(&format!("?api-version={a}"));
        }
        let mut req = self.http.request(method, &url).bearer_auth("test-token");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }
    async fn put(
        &self,
        path: &str,
        api: &str,
        body: Value,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        self.send(Method::PUT, path, Some(api), Some(body)).await
    }
    async fn get(&self, path: &str, api: &str) -> (StatusCode, Value) {
        let (s, _, v) = self.send(Method::GET, path, Some(api), None).await;
        (s, v)
    }
    /// PUT and poll until the operation ends; returns the final GET.
    async fn create(&self, path: &str, api: &str, body: Value) -> Value {
        let (s, h, v) = self.put(path, api, body).await;
        assert!(s.is_success(), "{path}: {s} {v}");
        if let Some(op) = h.get("azure-asyncoperation") {
            let url = op.to_str().unwrap().to_string();
            for _ in 0..200 {
                let st: Value = self
                    .http
                    .get(&url)
                    .bearer_auth("t")
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if st["status"] != "InProgress" {
                    assert_eq!(st["status"], "Succeeded", "{st}");
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        } else if let Some(loc) = h.get("location") {
            let url = loc.to_str().unwrap().to_string();
            for _ in 0..200 {
                let r = self.http.get(&url).bearer_auth("t").send().await.unwrap();
                if r.status() != StatusCode::ACCEPTED {
                    assert!(r.status().is_success());
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        let (s, v) = self.get(path, api).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
        v
    }
    async fn with_rg(self) -> Env {
        self.create(
            &rg(),
            "2025-04-01",
            json!({ "location": "westeurope", "properties": {} }),
        )
        .await;
        self
    }
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

fn account(name: &str) -> (String, Value) {
    (
        format!(
            "{}/providers/Microsoft.CognitiveServices/accounts/{name}",
            rg()
        ),
        json!({ "location": "westeurope", "kind": "OpenAI", "sku": { "name": "S0" }, "properties": { "customSubDomainName": name } }),
    )
}

fn apim(name: &str) -> (String, Value) {
    (
        format!("{}/providers/Microsoft.ApiManagement/service/{name}", rg()),
        json!({ "location": "westeurope", "sku": { "name": "Premium", "capacity": 1 }, "identity": { "type": "SystemAssigned" },
                "properties": { "publisherName": "p", "publisherEmail": "p@contoso.com", "additionalLocations": [ { "location": "East US", "sku": { "name": "Premium", "capacity": 1 } } ] } }),
    )
}

#[tokio::test]
async fn auth_api_version_and_routing_errors() {
    let env = Env::fast().await;
    let r = env
        .http
        .get(format!("{}{}?api-version=2025-04-01", env.emu.url(), rg()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(&r.json().await.unwrap()), "AuthenticationFailed");
    let (s, _, v) = env.send(Method::GET, &rg(), None, None).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "MissingApiVersionParameter")
    );
    let (s, v) = env.get(&rg(), "1999-01-01").await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "NoRegisteredProviderFound")
    );
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("2025-04-01"));
    let (s, v) = env.get(&rg(), "2025-04-01").await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::NOT_FOUND, "ResourceGroupNotFound")
    );
    let (id, body) = account("a1");
    let (s, _, v) = env.put(&id, "2026-05-01", body.clone()).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::NOT_FOUND, "ResourceGroupNotFound")
    );
    // Error envelope shape.
    for k in ["code", "message", "target", "details"] {
        assert!(v["error"].get(k).is_some(), "{k} missing in {v}");
    }
    let env = env.with_rg().await;
    let (s, _, _) = env
        .send(Method::HEAD, &rg(), Some("2025-04-01"), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = env.get(&id, "2026-05-01").await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "ResourceNotFound"));
    let (s, _, v) = env.put(&format!("{id}/deployments/d"), "2026-05-01", json!({ "sku": { "name": "Standard", "capacity": 1 }, "properties": { "model": { "name": "gpt-4o", "format": "OpenAI", "version": "1" } } })).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::NOT_FOUND, "ParentResourceNotFound")
    );
    let (s, v) = env
        .get(
            &format!("{}/providers/Microsoft.Nope/things/x", rg()),
            "2020-01-01",
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::NOT_FOUND, "InvalidResourceType")
    );
}

#[tokio::test]
async fn request_bodies_are_validated() {
    let env = Env::fast().await.with_rg().await;
    let (id, body) = account("a1");
    let mut missing = body.clone();
    missing.as_object_mut().unwrap().remove("kind");
    let (s, _, v) = env.put(&id, "2026-05-01", missing).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "InvalidRequestContent")
    );
    assert!(
        v["error"]["message"].as_str().unwrap().contains("kind"),
        "{v}"
    );
    let mut bad_enum = body.clone();
    bad_enum["properties"]["publicNetworkAccess"] = json!("Sometimes");
    let (s, _, v) = env.put(&id, "2026-05-01", bad_enum).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "InvalidRequestContent")
    );
    assert_eq!(v["error"]["target"], "properties.publicNetworkAccess");
    let mut wrong_type = body.clone();
    wrong_type["properties"]["disableLocalAuth"] = json!("yes");
    let (s, _, v) = env.put(&id, "2026-05-01", wrong_type).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "InvalidRequestContent")
    );
    let mut unknown = body.clone();
    unknown["locaton"] = json!("westeurope");
    let (s, _, v) = env.put(&id, "2026-05-01", unknown).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "InvalidRequestContent")
    );
    let mut null_props = body.clone();
    null_props["properties"] = Value::Null;
    let (s, _, _) = env.put(&id, "2026-05-01", null_props).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) = env.put(&id, "2026-05-01", body).await;
    assert_eq!(s, StatusCode::CREATED);
}

#[tokio::test]
async fn long_running_operations_both_styles_on_the_virtual_clock() {
    // 100x: an AOAI account (30-60 s) takes 0.3-0.6 s.
    let env = Env::scaled(100.0).await.with_rg().await;
    let (id, body) = account("a1");
    let (s, h, v) = env.put(&id, "2026-05-01", body).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["properties"]["provisioningState"], "Creating");
    assert!(h.get("retry-after").is_some());
    let op = h
        .get("azure-asyncoperation")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let (s, v) = env.get(&id, "2026-05-01").await;
    assert_eq!(
        (s, v["properties"]["provisioningState"].as_str()),
        (StatusCode::OK, Some("Creating"))
    );
    let st: Value = env
        .http
        .get(&op)
        .bearer_auth("t")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(st["status"], "InProgress");
    let mut st = Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        st = env
            .http
            .get(&op)
            .bearer_auth("t")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if st["status"] != "InProgress" {
            break;
        }
    }
    assert_eq!(st["status"], "Succeeded");
    let (_, v) = env.get(&id, "2026-05-01").await;
    assert_eq!(v["properties"]["provisioningState"], "Succeeded");
    assert_eq!(v["properties"]["endpoint"], "https://a1.openai.azure.com/");

    // 202 + Location: Event Hubs namespaces are absent until done.
    let ns = format!("{}/providers/Microsoft.EventHub/namespaces/evhns1", rg());
    let (s, h, _) = env
        .put(
            &ns,
            "2026-01-01",
            json!({ "location": "westeurope", "sku": { "name": "Standard" }, "properties": {} }),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let loc = h.get("location").unwrap().to_str().unwrap().to_string();
    assert!(h.get("retry-after").is_some());
    assert_eq!(env.get(&ns, "2026-01-01").await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        env.http
            .get(&loc)
            .bearer_auth("t")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::ACCEPTED
    );
    let mut status = StatusCode::ACCEPTED;
    for _ in 0..150 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        status = env
            .http
            .get(&loc)
            .bearer_auth("t")
            .send()
            .await
            .unwrap()
            .status();
        if status != StatusCode::ACCEPTED {
            break;
        }
    }
    assert_eq!(status, StatusCode::OK);
    assert_eq!(env.get(&ns, "2026-01-01").await.0, StatusCode::OK);

    // DELETE: 202 for async types, 204 when absent.
    let (s, h, _) = env
        .send(Method::DELETE, &ns, Some("2026-01-01"), None)
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert!(h.get("location").is_some());
    let (s, _, _) = env
        .send(Method::DELETE, &format!("{ns}x"), Some("2026-01-01"), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, _) = env
        .send(
            Method::DELETE,
            &format!("{}/providers/Microsoft.Consumption/budgets/none", rg()),
            Some("2024-08-01"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn failed_operations_carry_an_error() {
    let env = Env::new(Config {
        time_scale: 100_000.0,
        faults: "lro-fail=1.0".parse().unwrap(),
        ..Config::default()
    })
    .await
    .with_rg()
    .await;
    let (id, body) = account("a1");
    let (_, h, _) = env.put(&id, "2026-05-01", body).await;
    let op = h
        .get("azure-asyncoperation")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let st: Value = env
        .http
        .get(&op)
        .bearer_auth("t")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(st["status"], "Failed");
    assert_eq!(st["error"]["code"], "ProvisioningFailed");
    assert_eq!(
        env.get(&id, "2026-05-01").await.1["properties"]["provisioningState"],
        "Failed"
    );
}

#[tokio::test]
async fn apim_quirks() {
    let env = Env::scaled(10_000.0).await.with_rg().await;
    let (id, body) = apim("apim1");
    let (s, h, v) = env.put(&id, "2024-05-01", body).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["properties"]["provisioningState"], "Activating");
    let principal = v["identity"]["principalId"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&principal).is_ok());
    // Activation takes 30-45 minutes of Azure time: at 10000x, 180-270 ms.
    let api = format!("{id}/apis/openai");
    let api_body = json!({ "properties": { "path": "openai", "protocols": ["https"] } });
    let (s, _, v) = env.put(&api, "2024-05-01", api_body.clone()).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "InvalidOperation"));
    assert!(h.get("azure-asyncoperation").is_some());
    let mut v = Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        v = env.get(&id, "2024-05-01").await.1;
        if v["properties"]["provisioningState"] != "Activating" {
            break;
        }
    }
    assert_eq!(v["properties"]["provisioningState"], "Succeeded");
    assert_eq!(v["properties"]["gatewayUrl"], "https://apim1.azure-api.net");
    assert_eq!(
        v["properties"]["additionalLocations"][0]["gatewayRegionalUrl"],
        "https://apim1-eastus-01.regional.azure-api.net"
    );
    // Role assignments: principal replication, duplicates, name reuse.
    let (acc, acc_body) = account("a1");
    env.create(&acc, "2026-05-01", acc_body).await;
    let role = "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/5e0bd9bd-7b93-4f28-af87-19fc36ad61bd";
    let ra = |name: &str| format!("{acc}/providers/Microsoft.Authorization/roleAssignments/{name}");
    let n1 = "11111111-1111-1111-1111-111111111111";
    let (s, _, v) = env.put(&ra(n1), "2022-04-01", json!({ "properties": { "roleDefinitionId": role, "principalId": "22222222-2222-2222-2222-222222222222" } })).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "PrincipalNotFound")
    );
    let ok = json!({ "properties": { "roleDefinitionId": role, "principalId": principal, "principalType": "ServicePrincipal" } });
    let (s, _, _) = env.put(&ra(n1), "2022-04-01", ok.clone()).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _, v) = env
        .put(
            &ra("33333333-3333-3333-3333-333333333333"),
            "2022-04-01",
            ok,
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "RoleAssignmentExists")
    );
    let other = json!({ "properties": { "roleDefinitionId": role, "principalId": "44444444-4444-4444-4444-444444444444", "principalType": "ServicePrincipal" } });
    let (s, _, v) = env.put(&ra(n1), "2022-04-01", other).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "RoleAssignmentUpdateNotPermitted")
    );
}

#[tokio::test]
async fn concurrent_writes_to_one_api_conflict() {
    // APIM activates fast at 100000x; the state file carries it into an emulator running at
    // Azure's own pace, where an API write holds the API for seconds.
    let dir = std::env::temp_dir().join(format!("arm-emulator-api-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join("state.json");
    let _ = std::fs::remove_file(&file);
    let env = Env::new(Config {
        time_scale: 100_000.0,
        state_file: Some(file.clone()),
        ..Config::default()
    })
    .await
    .with_rg()
    .await;
    let (id, body) = apim("apim1");
    env.create(&id, "2024-05-01", body).await;
    env.emu.shutdown().await;
    let env = Env::new(Config {
        state_file: Some(file),
        ..Config::default()
    })
    .await;
    let api = format!("{id}/apis/openai");
    let (a, b) = tokio::join!(
        env.put(
            &api,
            "2024-05-01",
            json!({ "properties": { "path": "openai" } })
        ),
        async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            env.put(
                &format!("{api}/policies/policy"),
                "2024-05-01",
                json!({ "properties": { "format": "rawxml", "value": "<policies/>" } }),
            )
            .await
        }
    );
    assert!(a.0.is_success(), "{:?}", a.2);
    assert_eq!(
        (b.0, code(&b.2)),
        (StatusCode::CONFLICT, "PessimisticConcurrencyConflict")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn immutable_properties_deployment_conflicts_and_private_link() {
    let env = Env::scaled(1000.0).await.with_rg().await;
    let (acc, body) = account("a1");
    env.create(&acc, "2026-05-01", body.clone()).await;
    let mut moved = body.clone();
    moved["location"] = json!("eastus");
    let (s, _, v) = env.put(&acc, "2026-05-01", moved).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "InvalidResourceLocation")
    );
    let mut renamed = body.clone();
    renamed["properties"]["customSubDomainName"] = json!("other");
    let (s, _, v) = env.put(&acc, "2026-05-01", renamed).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "PropertyChangeNotAllowed")
    );
    // Two deployments at once under one account.
    let dep = |n: &str| format!("{acc}/deployments/{n}");
    let dep_body = json!({ "sku": { "name": "Standard", "capacity": 1 }, "properties": { "model": { "format": "OpenAI", "name": "gpt-4o", "version": "1" } } });
    let (s, _, _) = env.put(&dep("d1"), "2026-05-01", dep_body.clone()).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _, v) = env.put(&dep("d2"), "2026-05-01", dep_body).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "RequestConflict"));
    let (s, v) = env.get(&format!("{acc}/deployments"), "2026-05-01").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["value"].as_array().unwrap().len(), 1);

    // Front Door origin with Private Link to APIM: a Pending connection, approvable.
    let env = Env::scaled(1_000_000.0).await.with_rg().await;
    let (apim_id, apim_body) = apim("apim1");
    env.create(&apim_id, "2024-05-01", apim_body).await;
    let profile = format!("{}/providers/Microsoft.Cdn/profiles/afd1", rg());
    env.create(&profile, "2025-12-01", json!({ "location": "global", "sku": { "name": "Premium_AzureFrontDoor" }, "properties": {} })).await;
    let og = format!("{profile}/originGroups/og");
    env.create(&og, "2025-12-01", json!({ "properties": {} }))
        .await;
    let private = json!({ "properties": { "hostName": "apim1-westeurope-01.regional.azure-api.net", "sharedPrivateLinkResource": { "privateLink": { "id": apim_id }, "groupId": "Gateway", "privateLinkLocation": "westeurope", "requestMessage": "please" } } });
    env.create(&format!("{og}/origins/o1"), "2025-12-01", private)
        .await;
    let (_, list) = env
        .get(
            &format!("{apim_id}/privateEndpointConnections"),
            "2024-05-01",
        )
        .await;
    let conns = list["value"].as_array().unwrap();
    assert_eq!(conns.len(), 1);
    assert_eq!(
        conns[0]["properties"]["privateLinkServiceConnectionState"]["status"],
        "Pending"
    );
    let cid = conns[0]["id"].as_str().unwrap();
    let (s, _, _) = env.put(cid, "2024-05-01", json!({ "properties": { "privateLinkServiceConnectionState": { "status": "Approved", "description": "ok" } } })).await;
    assert!(s.is_success());
    let (_, c) = env.get(cid, "2024-05-01").await;
    assert_eq!(
        c["properties"]["privateLinkServiceConnectionState"]["status"],
        "Approved"
    );
    let public = json!({ "properties": { "hostName": "x.openai.azure.com" } });
    let (s, _, v) = env
        .put(&format!("{og}/origins/o2"), "2025-12-01", public)
        .await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "BadRequest"));
    assert!(v["error"]["message"].as_str().unwrap().contains("mix"));
}

#[tokio::test]
async fn throttling_headers_and_429() {
    // At time scale 1 the write bucket (200, +10/s) runs dry after 200 quick writes.
    let env = Env::new(Config {
        ..Config::default()
    })
    .await;
    let (s, h, _) = env
        .put(
            &rg(),
            "2025-04-01",
            json!({ "location": "westeurope", "properties": {} }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let left: u32 = h
        .get("x-ms-ratelimit-remaining-subscription-writes")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(left, 199);
    let mut throttled = None;
    for i in 0..260 {
        let (s, h, v) = env
            .put(
                &rg(),
                "2025-04-01",
                json!({ "location": "westeurope", "properties": {} }),
            )
            .await;
        if s == StatusCode::TOO_MANY_REQUESTS {
            throttled = Some((i, h, v));
            break;
        }
    }
    let (i, h, v) = throttled.expect("never throttled");
    assert!((190..=215).contains(&i), "throttled after {i} writes");
    assert!(h.get("retry-after").is_some());
    assert_eq!(code(&v), "TooManyRequests");
    let (_, h, _) = env.send(Method::GET, &rg(), Some("2025-04-01"), None).await;
    assert!(h
        .get("x-ms-ratelimit-remaining-subscription-reads")
        .is_some());
}

#[tokio::test]
async fn faults_are_deterministic_for_a_seed_and_logged() {
    async fn run(seed: u64) -> Vec<u16> {
        let env = Env::new(Config {
            time_scale: 100_000.0,
            faults: "429=0.2,500=0.1,503=0.1".parse().unwrap(),
            seed,
            ..Config::default()
        })
        .await;
        let mut out = Vec::new();
        for _ in 0..40 {
            let (s, _, _) = env.send(Method::GET, &rg(), Some("2025-04-01"), None).await;
            out.push(s.as_u16());
        }
        let summary = env.emu.summary();
        assert_eq!(summary.requests, 40);
        assert_eq!(summary.reads, 40);
        let log: Value = env
            .http
            .get(format!("{}/_emulator/log", env.emu.url()))
            .bearer_auth("test-token")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(log["log"].as_array().unwrap().len(), 40);
        out
    }
    let a = run(7).await;
    assert_eq!(a, run(7).await);
    assert_ne!(a, run(8).await);
    assert!(
        a.contains(&429) && a.contains(&500) && a.contains(&503) && a.contains(&404),
        "{a:?}"
    );
    // Dropped connections: the client sees a transport error, not a response.
    let env = Env::new(Config {
        faults: "drop=1.0".parse().unwrap(),
        ..Config::default()
    })
    .await;
    let r = env
        .http
        .get(format!("{}{}?api-version=2025-04-01", env.emu.url(), rg()))
        .bearer_auth("t")
        .send()
        .await;
    assert!(r.is_err());
    assert!("429=2".parse::<arm_emulator::FaultSpec>().is_err());
    assert!("teapot=0.1".parse::<arm_emulator::FaultSpec>().is_err());
}

#[tokio::test]
async fn state_file_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("arm-emulator-state-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join("state.json");
    let _ = std::fs::remove_file(&file);
    let cfg = || Config {
        time_scale: 100_000.0,
        state_file: Some(file.clone()),
        ..Config::default()
    };
    let env = Env::new(cfg()).await.with_rg().await;
    let (id, body) = account("a1");
    env.create(&id, "2026-05-01", body).await;
    env.emu.shutdown().await;
    let env = Env::new(cfg()).await;
    let (s, v) = env.get(&id, "2026-05-01").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["properties"]["provisioningState"], "Succeeded");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn listens_on_loopback_only() {
    let emu = start(Config::default(), 0).await.unwrap();
    assert!(emu.url().starts_with("http://127.0.0.1:"));
}

/// Refusals from `data/capabilities/`: what Azure does not offer is refused with Azure's code.
#[tokio::test]
async fn capability_refusals() {
    let env = Env::scaled(1_000_000.0).await.with_rg().await;
    // Model x version x deployment type x region (westeurope: gpt-5.4-mini 2026-03-17 is a
    // data-zone type in the US zone only).
    let (acc, body) = account("weu1");
    env.create(&acc, "2026-05-01", body).await;
    let dep = |name: &str, sku: &str, v: &str| json!({ "sku": { "name": sku, "capacity": 1 }, "properties": { "model": { "format": "OpenAI", "name": name, "version": v } } });
    let (s, _, v) = env
        .put(
            &format!("{acc}/deployments/dz54"),
            "2026-05-01",
            dep("gpt-5.4-mini", "DataZoneStandard", "2026-03-17"),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "InvalidResourceProperties")
    );
    assert_eq!(
        v["error"]["message"],
        "The specified SKU 'DataZoneStandard' for model 'gpt-5.4-mini 2026-03-17' is not supported in this region 'westeurope'."
    );
    // gpt-5-mini as DataZoneStandard is offered in westeurope (EU data zone).
    env.create(
        &format!("{acc}/deployments/dz"),
        "2026-05-01",
        dep("gpt-5-mini", "DataZoneStandard", "2025-08-07"),
    )
    .await;
    // The APAC data zone: japaneast is in it, so a data-zone type of a model whose data-zone
    // regions the data does not record is accepted there; a recorded model is judged by its
    // table (gpt-5-mini's Data Zone Standard rows have no APAC region).
    let (jpe, mut jbody) = account("jpe1");
    jbody["location"] = json!("japaneast");
    env.create(&jpe, "2026-05-01", jbody).await;
    env.create(
        &format!("{jpe}/deployments/apac"),
        "2026-05-01",
        dep("gpt-4o", "DataZoneStandard", "1"),
    )
    .await;
    let (s, _, v) = env
        .put(
            &format!("{jpe}/deployments/dz5"),
            "2026-05-01",
            dep("gpt-5-mini", "DataZoneStandard", "2025-08-07"),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "InvalidResourceProperties"),
        "{v}"
    );
    env.create(
        &format!("{jpe}/deployments/gs"),
        "2026-05-01",
        dep("gpt-5.4-mini", "GlobalStandard", "2026-03-17"),
    )
    .await;
    // DataZoneStandard outside every data zone (brazilsouth), even for a model the data lacks.
    let (brs, mut bbody) = account("brs1");
    bbody["location"] = json!("brazilsouth");
    env.create(&brs, "2026-05-01", bbody).await;
    for (name, version) in [("gpt-5-mini", "2025-08-07"), ("gpt-4o", "1")] {
        let (s, _, v) = env
            .put(
                &format!("{brs}/deployments/dz{}", version.len()),
                "2026-05-01",
                dep(name, "DataZoneStandard", version),
            )
            .await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::BAD_REQUEST, "InvalidResourceProperties"),
            "{version}: {v}"
        );
        assert!(v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'brazilsouth'"));
    }

    // An account kind where it is not offered (Azure OpenAI has no francesouth).
    let (frs, mut fbody) = account("frs1");
    fbody["location"] = json!("francesouth");
    let (s, _, v) = env.put(&frs, "2026-05-01", fbody).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "InvalidApiSetId"));
    assert_eq!(
        v["error"]["message"],
        "The account type 'OpenAI' is either invalid or unavailable in given region."
    );

    // APIM created with public network access Disabled.
    let (id, mut body) = apim("apimpna");
    body["properties"]["publicNetworkAccess"] = json!("Disabled");
    let (s, _, v) = env.put(&id, "2024-05-01", body.clone()).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "NotSupported"));
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("is not enabled during service creation"));
    // Created Enabled, then Disabled without an approved private endpoint connection.
    body["properties"]["publicNetworkAccess"] = json!("Enabled");
    env.create(&id, "2024-05-01", body.clone()).await;
    body["properties"]["publicNetworkAccess"] = json!("Disabled");
    let (s, _, v) = env.put(&id, "2024-05-01", body).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "NotSupported"));
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("approved Private Endpoint Connections"));

    // Additional locations on a tier without multi-region.
    let (id, mut body) = apim("apimstd");
    body["sku"]["name"] = json!("Standard");
    body["properties"]["additionalLocations"][0]["sku"]["name"] = json!("Standard");
    let (s, _, v) = env.put(&id, "2024-05-01", body).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "NotSupported"));
    assert_eq!(v["error"]["target"], "properties.additionalLocations");

    // A virtual network on a tier without one; Internal needs injection (Standard v2: outbound only).
    for (sku, vnet) in [("Standard", "External"), ("StandardV2", "Internal")] {
        let (id, mut body) = apim(&format!("apimvnet{}", sku.len()));
        body["sku"]["name"] = json!(sku);
        body["properties"]["additionalLocations"] = json!([]);
        body["properties"]["virtualNetworkType"] = json!(vnet);
        let (s, _, v) = env.put(&id, "2024-05-01", body).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::BAD_REQUEST, "NotSupported"),
            "{sku}"
        );
        assert_eq!(v["error"]["target"], "properties.virtualNetworkType");
    }

    // A classic Premium injected in a virtual network accepts no inbound private endpoint,
    // neither a private endpoint nor Front Door's Private Link.
    let net_rg = format!("/subscriptions/{SUB}/resourceGroups/net");
    env.create(&net_rg, "2025-04-01", json!({ "location": "westeurope" }))
        .await;
    env.create(
        &format!("{net_rg}/providers/Microsoft.Network/virtualNetworks/v"),
        "2025-07-01",
        json!({ "location": "westeurope", "properties": {
            "addressSpace": { "addressPrefixes": ["10.0.0.0/16"] },
            "subnets": [
                { "name": "apim", "properties": { "addressPrefix": "10.0.1.0/27" } },
                { "name": "pe", "properties": { "addressPrefix": "10.0.2.0/24" } } ] } }),
    )
    .await;
    let (inj, mut body) = apim("apiminj");
    body["properties"]["virtualNetworkType"] = json!("External");
    body["properties"]["virtualNetworkConfiguration"] = json!({ "subnetResourceId": format!("/subscriptions/{SUB}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/apim") });
    env.create(&inj, "2024-05-01", body).await;
    let pe = format!(
        "{}/providers/Microsoft.Network/privateEndpoints/pe-apim",
        rg()
    );
    let (s, _, v) = env.put(&pe, "2025-07-01", json!({ "location": "westeurope", "properties": {
        "subnet": { "id": format!("/subscriptions/{SUB}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/pe") },
        "privateLinkServiceConnections": [ { "name": "c", "properties": { "privateLinkServiceId": inj, "groupIds": ["Gateway"] } } ] } })).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "NotSupported"),
        "{v}"
    );
    let profile = format!("{}/providers/Microsoft.Cdn/profiles/afdcap", rg());
    env.create(&profile, "2025-12-01", json!({ "location": "global", "sku": { "name": "Premium_AzureFrontDoor" }, "properties": {} })).await;
    let og = format!("{profile}/originGroups/og");
    env.create(&og, "2025-12-01", json!({ "properties": {} }))
        .await;
    let origin = |target: &str, loc: &str| json!({ "properties": { "hostName": "gw.azure-api.net", "sharedPrivateLinkResource": { "privateLink": { "id": target }, "groupId": "Gateway", "privateLinkLocation": loc, "requestMessage": "please" } } });
    let (s, _, v) = env
        .put(
            &format!("{og}/origins/inj"),
            "2025-12-01",
            origin(&inj, "westeurope"),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "BadRequest"));
    assert_eq!(
        v["error"]["target"],
        "properties.sharedPrivateLinkResource.privateLink.id"
    );

    // Premium v2 is not a Front Door Private Link origin.
    let (v2, mut body) = apim("apimv2");
    body["sku"]["name"] = json!("PremiumV2");
    body["properties"]["additionalLocations"] = json!([]);
    env.create(&v2, "2024-05-01", body).await;
    let (s, _, v) = env
        .put(
            &format!("{og}/origins/v2"),
            "2025-12-01",
            origin(&v2, "westeurope"),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "BadRequest"));
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("PremiumV2"));

    // Front Door Private Link in a region Front Door does not list (japanwest).
    let (plain, body) = apim("apimplain");
    env.create(&plain, "2024-05-01", body).await;
    let (s, _, v) = env
        .put(
            &format!("{og}/origins/jpw"),
            "2025-12-01",
            origin(&plain, "japanwest"),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "BadRequest"));
    assert_eq!(
        v["error"]["message"],
        "The location of the Private Link \"japanwest\" is invalid or not supported."
    );
    env.create(
        &format!("{og}/origins/jpe"),
        "2025-12-01",
        origin(&plain, "japaneast"),
    )
    .await;
}

/// The control endpoints read and wipe the emulator's state: they need a bearer token as ARM calls
/// do, and refuse what a web page could send (an Origin header, a form POST), so a page open in a
/// browser cannot reset or read an emulator running on the same machine.
#[tokio::test]
async fn control_endpoints_need_a_token_and_refuse_cross_origin_requests() {
    let env = Env::fast().await.with_rg().await;
    let url = |p: &str| format!("{}/_emulator/{p}", env.emu.url());

    for p in ["log", "summary"] {
        let r = env.http.get(url(p)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{p}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "AuthenticationFailed");
        let r = env
            .http
            .get(url(p))
            .bearer_auth("t")
            .header("origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{p}");
        let r = env.http.get(url(p)).bearer_auth("t").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{p}");
    }

    // Reset: no token, a form POST (even with a token: a form cannot set one, but refuse the
    // content type anyway), a cross-origin POST: all refused, and nothing was reset.
    let no_token = env.http.post(url("reset")).send().await.unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    for ct in [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain;charset=UTF-8",
    ] {
        let r = env
            .http
            .post(url("reset"))
            .bearer_auth("t")
            .header("content-type", ct)
            .body("a=1")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{ct}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "CrossOriginRequestRefused", "{ct}");
    }
    let cross = env
        .http
        .post(url("reset"))
        .bearer_auth("t")
        .header("origin", "http://127.0.0.1:9")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let (s, _) = env.get(&rg(), "2025-04-01").await;
    assert_eq!(
        s,
        StatusCode::OK,
        "the resource group survived every refused reset"
    );

    let ok = env
        .http
        .post(url("reset"))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let (s, _) = env.get(&rg(), "2025-04-01").await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "an authorised reset empties the emulator"
    );
}

/// Delete and wait until the resource is gone (404).
async fn delete_and_wait(env: &Env, path: &str, api: &str) {
    let (s, _, v) = env.send(Method::DELETE, path, Some(api), None).await;
    assert!(s.is_success(), "{path}: {s} {v}");
    for _ in 0..400 {
        if env.get(path, api).await.0 == StatusCode::NOT_FOUND {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{path} was not deleted");
}

#[tokio::test]
async fn deleted_accounts_and_services_stay_soft_deleted_until_purged() {
    let env = Env::fast().await.with_rg().await;
    let (acc, body) = account("soft1");
    env.create(&acc, "2026-05-01", body).await;
    let (svc, body) = apim("apim-soft1");
    env.create(&svc, "2024-05-01", body).await;
    delete_and_wait(&env, &acc, "2026-05-01").await;
    delete_and_wait(&env, &svc, "2024-05-01").await;

    let deleted_acc = format!(
        "/subscriptions/{SUB}/providers/Microsoft.CognitiveServices/locations/westeurope/resourceGroups/rg1/deletedAccounts/soft1"
    );
    let deleted_svc = format!(
        "/subscriptions/{SUB}/providers/Microsoft.ApiManagement/locations/westeurope/deletedservices/apim-soft1"
    );
    let (s, v) = env.get(&deleted_acc, "2026-05-01").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["id"], deleted_acc);
    assert!(
        v["properties"]["deletionDate"].is_string()
            && v["properties"]["scheduledPurgeDate"].is_string()
    );
    let (s, v) = env.get(&deleted_svc, "2024-05-01").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["properties"]["serviceId"]
        .as_str()
        .unwrap()
        .eq_ignore_ascii_case(&svc));
    // Listed per subscription.
    let (s, v) = env
        .get(
            &format!("/subscriptions/{SUB}/providers/Microsoft.CognitiveServices/deletedAccounts"),
            "2026-05-01",
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["value"].as_array().unwrap().len(), 1, "{v}");
    let (s, v) = env
        .get(
            &format!("/subscriptions/{SUB}/providers/Microsoft.ApiManagement/deletedservices"),
            "2024-05-01",
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["value"][0]["name"], "apim-soft1");
    // api-version checked like the live types.
    let (s, v) = env.get(&deleted_acc, "2099-01-01").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(code(&v), "NoRegisteredProviderFound");
    // Purge: gone, and a second purge is 404.
    for (p, api) in [(&deleted_acc, "2026-05-01"), (&deleted_svc, "2024-05-01")] {
        let (s, _, _) = env.send(Method::DELETE, p, Some(api), None).await;
        assert_eq!(s, StatusCode::OK, "{p}");
        assert_eq!(env.get(p, api).await.0, StatusCode::NOT_FOUND);
        let (s, _, v) = env.send(Method::DELETE, p, Some(api), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(code(&v), "ResourceNotFound");
    }
    // Deleting the resource group soft-deletes the accounts in it too.
    let (acc2, body) = account("soft2");
    env.create(&acc2, "2026-05-01", body).await;
    delete_and_wait(&env, &rg(), "2025-04-01").await;
    let (s, _) = env
        .get(&deleted_acc.replace("/soft1", "/soft2"), "2026-05-01")
        .await;
    assert_eq!(s, StatusCode::OK);
}

/// `locations/{l}/models` carries each version's lifecycle (`lifecycleStatus`,
/// `deprecation.inference`) from the retirement schedule in `data/capabilities/openai.json`, or
/// from the state file; a new deployment of a deprecated or retired version is refused with
/// 400 ServiceModelDeprecating, while an existing deployment of it can still be updated.
#[tokio::test]
async fn deprecated_versions_accept_no_new_deployment() {
    let file = std::env::temp_dir().join(format!(
        "arm-emulator-lifecycle-{}.json",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&file);
    let config = || Config {
        time_scale: 1_000_000.0,
        state_file: Some(file.clone()),
        ..Config::default()
    };
    let sub = "/subscriptions/00000000-0000-0000-0000-000000000001";
    let models =
        |l: &str| format!("{sub}/providers/Microsoft.CognitiveServices/locations/{l}/models");
    let dep = |name: &str, v: &str, cap: u32| json!({ "sku": { "name": "GlobalStandard", "capacity": cap }, "properties": { "model": { "format": "OpenAI", "name": name, "version": v } } });

    let env = Env::new(config()).await.with_rg().await;
    // The schedule's lifecycle in the catalogue: gpt-4o 2024-11-20 retires 2026-10-01.
    let (s, v) = env.get(&models("westeurope"), "2025-06-01").await;
    assert_eq!(s, StatusCode::OK);
    let row = |v: &Value, name: &str, version: &str| {
        v["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["model"]["name"] == name && r["model"]["version"] == version)
            .cloned()
            .unwrap_or_else(|| panic!("{name} {version} not in {v:#}"))
    };
    let old = row(&v, "gpt-4o", "2024-11-20");
    assert_eq!(old["model"]["lifecycleStatus"], "Deprecated");
    assert_eq!(
        old["model"]["deprecation"]["inference"],
        "2026-10-01T00:00:00Z"
    );
    assert_eq!(
        row(&v, "gpt-5.4-mini", "2026-03-17")["model"]["deprecation"]["inference"],
        "2027-03-18T00:00:00Z"
    );
    let (acc, body) = account("weu1");
    env.create(&acc, "2026-05-01", body).await;
    let (s, _, v) = env
        .put(
            &format!("{acc}/deployments/old"),
            "2026-05-01",
            dep("gpt-4o", "2024-11-20", 1),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "ServiceModelDeprecating"),
        "{v}"
    );
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("The model 'Format:OpenAI,Name:gpt-4o,Version:2024-11-20' is in deprecat"));
    env.create(
        &format!("{acc}/deployments/chat"),
        "2026-05-01",
        dep("gpt-5.4-mini", "2026-03-17", 1),
    )
    .await;
    env.emu.shutdown().await;

    // The catalogue now deprecates gpt-5.4-mini 2026-03-17 in westeurope.
    let mut state: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    state["preflight"]["models"] = json!({ "westeurope": [
        { "name": "gpt-5.4-mini", "version": "2026-03-17", "skus": ["GlobalStandard"],
          "lifecycleStatus": "Deprecating", "deprecationInference": "2027-01-15T00:00:00Z" }
    ] });
    std::fs::write(&file, state.to_string()).unwrap();
    let env = Env::new(config()).await;
    let (s, v) = env.get(&models("westeurope"), "2025-06-01").await;
    assert_eq!(s, StatusCode::OK);
    let r = row(&v, "gpt-5.4-mini", "2026-03-17");
    assert_eq!(r["model"]["lifecycleStatus"], "Deprecating");
    assert_eq!(
        r["model"]["deprecation"]["inference"],
        "2027-01-15T00:00:00Z"
    );
    // A new deployment of it: refused.
    let (s, _, v) = env
        .put(
            &format!("{acc}/deployments/chat2"),
            "2026-05-01",
            dep("gpt-5.4-mini", "2026-03-17", 1),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "ServiceModelDeprecating"),
        "{v}"
    );
    assert_eq!(
        v["error"]["message"],
        "The model 'Format:OpenAI,Name:gpt-5.4-mini,Version:2026-03-17' is in deprecating state and cannot be used for new deployments."
    );
    // The existing one stays, and can still be changed.
    let v = env
        .create(
            &format!("{acc}/deployments/chat"),
            "2026-05-01",
            dep("gpt-5.4-mini", "2026-03-17", 2),
        )
        .await;
    assert_eq!(v["sku"]["capacity"], 2);
    env.emu.shutdown().await;
    let _ = std::fs::remove_file(&file);
}

#[tokio::test]
async fn spillover_needs_a_standard_deployment_of_the_same_account_and_level() {
    let env = Env::scaled(1000.0).await.with_rg().await;
    let (acc, body) = account("a1");
    env.create(&acc, "2026-05-01", body).await;
    let dep = |n: &str| format!("{acc}/deployments/{n}");
    // A version the lifecycle table does not know: this test is about spillover, not retirement.
    let body = |sku: &str, spill: Option<&str>| {
        let mut b = json!({ "sku": { "name": sku, "capacity": 1 }, "properties": { "model": { "format": "OpenAI", "name": "gpt-4o", "version": "1" } } });
        if let Some(s) = spill {
            b["properties"]["spilloverDeploymentName"] = json!(s);
        }
        b
    };
    let ptu = |spill| body("GlobalProvisionedManaged", Some(spill));
    // Absent from the account.
    let (s, _, v) = env.put(&dep("ptu"), "2026-05-01", ptu("paygo")).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "InvalidResourceProperties")
    );
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("does not exist"));
    // Another data-processing level (DataZone for a Global PTU).
    env.create(&dep("dz"), "2026-05-01", body("DataZoneStandard", None))
        .await;
    let (s, _, v) = env.put(&dep("ptu"), "2026-05-01", ptu("dz")).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "InvalidResourceProperties")
    );
    // A standard deployment cannot spill over.
    env.create(&dep("paygo"), "2026-05-01", body("GlobalStandard", None))
        .await;
    let (s, _, v) = env
        .put(
            &dep("std"),
            "2026-05-01",
            body("GlobalStandard", Some("paygo")),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "InvalidResourceProperties")
    );
    // Same account, same level, standard: accepted.
    let (s, _, v) = env.put(&dep("ptu"), "2026-05-01", ptu("paygo")).await;
    assert!(s.is_success(), "{v}");
}

#[tokio::test]
async fn lists_come_in_pages_with_the_list_forms_of_arm() {
    let env = Env::new(Config {
        time_scale: 100_000.0,
        page_size: Some(2),
        ..Config::default()
    })
    .await
    .with_rg()
    .await;
    for name in ["a1", "a2", "a3"] {
        let (id, body) = account(name);
        env.create(&id, "2026-05-01", body).await;
    }
    // Three accounts, two a page: the first page links to the second.
    let list = format!("{}/providers/Microsoft.CognitiveServices/accounts", rg());
    let (s, page) = env.get(&list, "2026-05-01").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page["value"].as_array().unwrap().len(), 2);
    let next = page["nextLink"].as_str().unwrap().to_string();
    assert!(next.starts_with(&env.emu.url()), "{next}");
    let last: Value = env
        .http
        .get(&next)
        .bearer_auth("t")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(last["value"].as_array().unwrap().len(), 1);
    assert!(last.get("nextLink").is_none(), "{last}");
    let (_, a3) = env.get(&account("a3").0, "2026-05-01").await;
    assert_eq!(
        last["value"][0], a3,
        "a list item is the document its GET returns"
    );

    // Role assignments on a resource of the group: in the group's list unless atScope().
    let (acc, _) = account("a1");
    let ra = format!("{acc}/providers/Microsoft.Authorization/roleAssignments/11111111-1111-1111-1111-111111111111");
    let role = "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/5e0bd9bd-7b93-4f28-af87-19fc36ad61bd";
    env.create(&ra, "2022-04-01", json!({ "properties": { "roleDefinitionId": role, "principalId": "22222222-2222-2222-2222-222222222222", "principalType": "ServicePrincipal" } })).await;
    let at_rg = format!("{}/providers/Microsoft.Authorization/roleAssignments", rg());
    let (s, v) = env.get(&at_rg, "2022-04-01").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["value"][0]["id"], ra);
    let (_, _, v) = env
        .send(
            Method::GET,
            &format!("{at_rg}?$filter=atScope()&api-version=2022-04-01"),
            None,
            None,
        )
        .await;
    assert_eq!(v["value"].as_array().map(Vec::len), Some(0), "{v}");

    // A secret named value: its list item leaves the value out (plan reads it with its GET).
    let svc = format!("{}/providers/Microsoft.ApiManagement/service/apim1", rg());
    let (s, _, _) = env.put(&svc, "2024-05-01", apim("apim1").1).await;
    assert!(s.is_success());
    for _ in 0..100 {
        let (_, v) = env.get(&svc, "2024-05-01").await;
        if v["properties"]["provisioningState"] == "Succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let nv = format!("{svc}/namedValues/key");
    env.create(
        &nv,
        "2024-05-01",
        json!({ "properties": { "displayName": "key", "value": "s3cret", "secret": true } }),
    )
    .await;
    let (_, got) = env.get(&nv, "2024-05-01").await;
    assert_eq!(got["properties"]["value"], "s3cret");
    let (_, listed) = env.get(&format!("{svc}/namedValues"), "2024-05-01").await;
    assert!(
        listed["value"][0]["properties"].get("value").is_none(),
        "{listed}"
    );
}
