//! The edge and what watches it, on the rendered output of every example through the binary:
//! Front Door's probe answers from the backends (afd-apim), resource logs reach the workspace
//! and the queries read their tables, balanced accounts take no keys and callers get the role on
//! each, the WAF lets prompts through, Event Hub is sized for what is logged, and the client IP
//! behind Front Door comes from its header. Lint findings of each, with their location.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

const OPENAI_USER: &str = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd";

/// A render: request bodies by id (with their type), policies and queries by file name.
struct Render {
    bodies: BTreeMap<String, (String, Value)>,
    policies: BTreeMap<String, String>,
    queries: BTreeMap<String, String>,
}

impl Render {
    fn of_type(&self, ty: &str) -> Vec<(&String, &Value)> {
        self.bodies
            .iter()
            .filter(|(_, (t, _))| t == ty)
            .map(|(id, (_, b))| (id, b))
            .collect()
    }
    fn body(&self, id_suffix: &str) -> &Value {
        self.bodies
            .iter()
            .find(|(id, _)| id.ends_with(id_suffix))
            .map(|(_, (_, b))| b)
            .unwrap_or_else(|| panic!("no request for *{id_suffix}"))
    }
}

fn edited(base: &str, edits: &[(&str, &str)]) -> String {
    let mut text = common::read(&common::example(base));
    for (from, to) in edits {
        assert!(text.contains(from), "`{from}` not in {base}");
        text = text.replacen(from, to, 1);
    }
    text
}

/// `text` as the blueprint `<name>.yaml` in a fresh folder (removed with the returned guard).
fn blueprint(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let bp = dir.path().join(format!("{name}.yaml"));
    std::fs::write(&bp, text).unwrap();
    (dir, bp)
}

fn render_text(name: &str, text: &str) -> Render {
    let (dir, bp) = blueprint(name, text);
    let out_dir = dir.path().join("out");
    let out = common::bin()
        .arg("render")
        .arg(&bp)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "render {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    read_render(&out_dir)
}

fn render(name: &str) -> Render {
    render_text(name, &common::read(&common::example(name)))
}

fn read_render(dir: &Path) -> Render {
    let index: Value = serde_json::from_str(&common::read(&dir.join("index.json"))).unwrap();
    let bodies = index["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let text = common::read(&dir.join(r["file"].as_str().unwrap()));
            let body = text.split_once("\n\n").unwrap().1;
            (
                r["id"].as_str().unwrap().to_string(),
                (
                    r["type"].as_str().unwrap().to_string(),
                    serde_json::from_str(body).unwrap(),
                ),
            )
        })
        .collect();
    let files = |sub: &str| -> BTreeMap<String, String> {
        std::fs::read_dir(dir.join(sub))
            .map(|rd| {
                rd.flatten()
                    .map(|e| {
                        (
                            e.file_name().to_string_lossy().to_string(),
                            common::read(&e.path()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    Render {
        bodies,
        policies: files("policies"),
        queries: files("queries"),
    }
}

struct Lint {
    code: Option<i32>,
    findings: Vec<Value>,
}

fn lint_text(name: &str, text: &str) -> Lint {
    let (_dir, bp) = blueprint(name, text);
    lint_file(&bp, &[])
}

fn lint_file(bp: &Path, extra: &[&std::ffi::OsStr]) -> Lint {
    let out = common::bin()
        .arg("lint")
        .arg(bp)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    Lint {
        code: out.status.code(),
        findings: v["findings"].as_array().cloned().unwrap_or_default(),
    }
}

/// The one active finding of `rule`, at `field`, on the line of the blueprint where `marker`
/// is written.
fn located(l: &Lint, rule: &str, field: &str, text: &str, marker: &str) -> Value {
    let f = l
        .findings
        .iter()
        .find(|f| f["rule"] == rule && f["allowed"].is_null())
        .unwrap_or_else(|| panic!("no {rule}: {:#?}", l.findings))
        .clone();
    assert_eq!(f["location"]["field"], field, "{f:#}");
    let line = text
        .lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("`{marker}` not in the blueprint"))
        + 1;
    assert_eq!(f["location"]["line"], line as u64, "{f:#}");
    assert!(f["location"]["column"].as_u64().unwrap() >= 1);
    f
}

fn categories(setting: &Value) -> Vec<&str> {
    setting["properties"]["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["enabled"] == true)
        .map(|l| l["category"].as_str().unwrap())
        .collect()
}

// ---- Front Door sees the backends ------------------------------------------------------------

#[test]
fn afd_apim_probes_a_health_operation_that_answers_from_each_regions_own_accounts() {
    for name in ["afd-apim", "afd-apim-private"] {
        let r = render(name);
        let og = &r.of_type("Microsoft.Cdn/profiles/originGroups")[0].1;
        assert_eq!(
            og["properties"]["healthProbeSettings"]["probePath"], "/aoai-health/backends",
            "{name}"
        );
        let services: Vec<&String> = r
            .of_type("Microsoft.ApiManagement/service")
            .into_iter()
            .map(|(id, _)| id)
            .filter(|id| !id.contains('#'))
            .collect();
        let accounts: Vec<(String, String)> = r
            .of_type("Microsoft.CognitiveServices/accounts")
            .into_iter()
            .map(|(id, b)| {
                (
                    id.rsplit('/').next().unwrap().to_string(),
                    b["location"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        for svc in &services {
            let api = &r.bodies[&format!("{svc}/apis/aoai-health")].1;
            assert_eq!(api["properties"]["path"], "aoai-health");
            assert_eq!(api["properties"]["subscriptionRequired"], false);
            let op = &r.bodies[&format!("{svc}/apis/aoai-health/operations/backends")].1;
            assert_eq!(op["properties"]["method"], "GET");
            assert_eq!(op["properties"]["urlTemplate"], "/backends");
            // One pool per gateway region, with that region's accounts and no other.
            let pools: Vec<(&String, &Value)> = r
                .of_type("Microsoft.ApiManagement/service/backends")
                .into_iter()
                .filter(|(id, _)| id.starts_with(&format!("{svc}/backends/aoai-health-")))
                .collect();
            assert!(!pools.is_empty(), "{name} {svc}");
            for (id, pool) in &pools {
                let region = id.rsplit("aoai-health-").next().unwrap();
                let members: Vec<&str> = pool["properties"]["pool"]["services"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["id"].as_str().unwrap().rsplit('/').next().unwrap())
                    .collect();
                let local: Vec<&str> = accounts
                    .iter()
                    .filter(|(_, loc)| loc == region)
                    .map(|(n, _)| n.as_str())
                    .collect();
                assert_eq!(members, local, "{name}: {id}");
            }
            // The policy sends each region to its own pool and answers 200 or 503 only.
            let svc_name = svc.rsplit('/').next().unwrap();
            let policy = r
                .policies
                .get(&format!("aoai-health-{svc_name}.xml"))
                .or_else(|| r.policies.get("aoai-health.xml"))
                .unwrap();
            let api_policy = &r.bodies[&format!("{svc}/apis/aoai-health/policies/policy")].1;
            if services.len() == 1 || svc.ends_with("apim-aoai-private") {
                assert_eq!(api_policy["properties"]["value"].as_str().unwrap(), policy);
            }
            let api_policy = api_policy["properties"]["value"].as_str().unwrap();
            for (id, _) in &pools {
                let pool = id.rsplit('/').next().unwrap();
                assert!(
                    api_policy.contains(&format!("<set-backend-service backend-id=\"{pool}\" />")),
                    "{api_policy}"
                );
            }
            assert!(api_policy.contains(
                "<rewrite-uri template=\"/models?api-version=2024-10-21\" copy-unmatched-params=\"false\" />"
            ));
            assert!(api_policy.contains("<authentication-managed-identity resource=\"https://cognitiveservices.azure.com\" />"));
            assert!(api_policy.contains("duration=\"10\""), "{api_policy}");
            assert!(api_policy.contains("context.Response.StatusCode == 200 ? \"200\" : \"503\""));
            assert!(api_policy.contains("<on-error>") && api_policy.contains("code=\"503\""));
            // The answer is a status, never the model list.
            let outbound = api_policy.split("<outbound>").nth(1).unwrap();
            assert!(outbound.contains("<return-response>"), "{outbound}");
        }
    }
    // Patterns without Front Door over gateways render no health operation.
    for name in ["afd", "apim"] {
        let r = render(name);
        assert!(
            r.bodies.keys().all(|id| !id.contains("aoai-health")),
            "{name}"
        );
        assert!(r.policies.keys().all(|p| !p.starts_with("aoai-health")));
    }
    // A HEAD probe gets a HEAD operation, and the probe path stays the health operation's.
    let r = render_text(
        "afd-apim",
        &edited(
            "afd-apim",
            &[(
                "method: GET, intervalSeconds",
                "method: HEAD, intervalSeconds",
            )],
        ),
    );
    let op = r.body("/apis/aoai-health/operations/backends");
    assert_eq!(op["properties"]["method"], "HEAD");
    // The accounts are still asked with GET: a HEAD on /openai/models would be forwarded as HEAD.
    let policy = r.body("/apis/aoai-health/policies/policy")["properties"]["value"]
        .as_str()
        .unwrap()
        .to_string();
    let inbound = policy.split("<backend>").next().unwrap();
    let set = inbound.find("<set-method>GET</set-method>").expect(&policy);
    assert!(set < inbound.find("<rewrite-uri").unwrap(), "{policy}");
}

#[test]
fn a_probe_of_the_gateway_status_is_a_located_warning_in_afd_apim() {
    let text = edited(
        "afd-apim",
        &[(
            "path: /aoai-health/backends",
            "path: /status-0123456789abcdef",
        )],
    );
    let l = lint_text("afd-apim", &text);
    let f = located(
        &l,
        "AOAI070",
        "frontDoor.originGroup.probe.path",
        &text,
        "path: /status-0123456789abcdef",
    );
    assert_eq!(f["severity"], "warning");
    // Without a path, afd-apim probes the health operation: no finding.
    let text = edited("afd-apim", &[("path: /aoai-health/backends, ", "")]);
    let l = lint_text("afd-apim", &text);
    assert!(l.findings.iter().all(|f| f["rule"] != "AOAI070"));
    let r = render_text("afd-apim", &text);
    assert_eq!(
        r.of_type("Microsoft.Cdn/profiles/originGroups")[0].1["properties"]["healthProbeSettings"]
            ["probePath"],
        "/aoai-health/backends"
    );
}

// ---- Diagnostics ----------------------------------------------------------------------------

#[test]
fn every_example_sends_its_resource_logs_to_its_workspace() {
    for name in common::EXAMPLES {
        let r = render(name);
        let ws = r.of_type("Microsoft.OperationalInsights/workspaces");
        assert_eq!(ws.len(), 1, "{name}: one workspace");
        let ws_id = ws[0].0.clone();
        let settings = r.of_type("Microsoft.Insights/diagnosticSettings");
        let scope_of = |id: &str| {
            id.split("/providers/Microsoft.Insights/")
                .next()
                .unwrap()
                .to_string()
        };
        let by_scope: BTreeMap<String, &Value> =
            settings.iter().map(|(id, b)| (scope_of(id), *b)).collect();
        for (_, b) in &settings {
            assert_eq!(b["properties"]["workspaceId"], ws_id.as_str(), "{name}");
        }
        // Every API Management service: gateway and generative-AI gateway logs, resource-specific.
        for (id, _) in r
            .of_type("Microsoft.ApiManagement/service")
            .into_iter()
            .filter(|(id, _)| !id.contains('#'))
        {
            let s = by_scope
                .get(id.as_str())
                .unwrap_or_else(|| panic!("{name}: {id}"));
            assert_eq!(categories(s), ["GatewayLogs", "GatewayLlmLogs"]);
            assert_eq!(s["properties"]["logAnalyticsDestinationType"], "Dedicated");
            // What the gateway writes to ApiManagementGatewayLogs: the built-in azuremonitor logger.
            let am = &r.bodies[&format!("{id}/apis/azure-openai/diagnostics/azuremonitor")].1;
            assert_eq!(
                am["properties"]["loggerId"],
                format!("{id}/loggers/azuremonitor").as_str()
            );
            // ... and what it writes to ApiManagementGatewayLlmLog (model, tokens, prompts): the
            // columns gateway-logs.kql reads. The examples stream: no completions, no response bodies.
            let llm = &am["properties"]["largeLanguageModel"];
            assert_eq!(llm["logs"], "enabled", "{name}");
            assert_eq!(llm["requests"]["messages"], "all", "{name}");
            assert_eq!(llm["requests"]["maxSizeInBytes"], 32768, "{name}");
            assert!(llm.get("responses").is_none(), "{name}: {llm}");
            for (did, d) in r.of_type("Microsoft.ApiManagement/service/apis/diagnostics") {
                for side in ["frontend", "backend"] {
                    assert_eq!(
                        d["properties"][side]["response"]["body"]["bytes"], 0,
                        "{name}: {did} logs {side} response bodies of a streaming API"
                    );
                }
            }
        }
        // Front Door: access, health probe and WAF logs (AzureDiagnostics).
        for (id, _) in r.of_type("Microsoft.Cdn/profiles") {
            let s = by_scope.get(id.as_str()).unwrap();
            assert_eq!(
                categories(s),
                [
                    "FrontDoorAccessLog",
                    "FrontDoorHealthProbeLog",
                    "FrontDoorWebApplicationFirewallLog"
                ]
            );
            assert!(s["properties"].get("logAnalyticsDestinationType").is_none());
        }
        // Every account: Audit, RequestResponse, Trace.
        for (id, _) in r.of_type("Microsoft.CognitiveServices/accounts") {
            let s = by_scope.get(id.as_str()).unwrap();
            assert_eq!(categories(s), ["Audit", "RequestResponse", "Trace"]);
        }
        let expected = r
            .of_type("Microsoft.ApiManagement/service")
            .iter()
            .filter(|(id, _)| !id.contains('#'))
            .count()
            + r.of_type("Microsoft.Cdn/profiles").len()
            + r.of_type("Microsoft.CognitiveServices/accounts").len();
        assert_eq!(settings.len(), expected, "{name}");
        // The queries read those tables.
        let accounts = &r.queries["accounts.kql"];
        assert!(accounts.contains("Category == \"RequestResponse\""));
        if name != "afd" {
            let gw = &r.queries["gateway-logs.kql"];
            assert!(
                gw.contains("ApiManagementGatewayLogs")
                    && gw.contains("ApiManagementGatewayLlmLog")
            );
        }
        if !r.of_type("Microsoft.Cdn/profiles").is_empty() {
            let fd = &r.queries["front-door.kql"];
            for c in [
                "FrontDoorAccessLog",
                "FrontDoorHealthProbeLog",
                "FrontDoorWebApplicationFirewallLog",
            ] {
                assert!(fd.contains(&format!("Category == \"{c}\"")), "{c}");
            }
        }
    }
}

/// Without streaming clients, completions and response bodies are logged too; with
/// `bodyBytes: 0` no message is, only model and tokens.
#[test]
fn llm_messages_follow_streaming_and_body_logging() {
    let text = edited("apim", &[("  auth:\n", "  streaming: false\n  auth:\n")]);
    let r = render_text("apim", &text);
    let am = r.body("/apis/azure-openai/diagnostics/azuremonitor");
    let llm = &am["properties"]["largeLanguageModel"];
    assert_eq!(llm["responses"]["messages"], "all");
    assert_eq!(llm["responses"]["maxSizeInBytes"], 32768);
    let ai = r.body("/apis/azure-openai/diagnostics/applicationinsights");
    assert_eq!(
        ai["properties"]["frontend"]["response"]["body"]["bytes"],
        8192
    );
    let text = edited("apim", &[("bodyBytes: 8192", "bodyBytes: 0")]);
    let r = render_text("apim", &text);
    let llm =
        &r.body("/apis/azure-openai/diagnostics/azuremonitor")["properties"]["largeLanguageModel"];
    assert_eq!(llm, &serde_json::json!({ "logs": "enabled" }));
}

#[test]
fn the_prompts_query_does_not_parse_a_cut_body_as_json() {
    let q = &render("apim").queries["prompts-and-responses.kql"];
    // Every field read from a parsed body is guarded by "the body parsed as an object".
    assert!(
        q.contains("RequestComplete = gettype(Req) == \"dictionary\""),
        "{q}"
    );
    assert!(
        q.contains("ResponseComplete = gettype(Resp) == \"dictionary\""),
        "{q}"
    );
    for field in [
        "Resp.model",
        "Resp.usage.prompt_tokens",
        "Req.messages",
        "Resp.choices",
    ] {
        let line = q.lines().find(|l| l.contains(field)).unwrap();
        assert!(
            line.contains("iff(RequestComplete") || line.contains("iff(ResponseComplete"),
            "{line}"
        );
    }
    assert!(q.contains("Truncated ="));
}

#[test]
fn diagnostics_are_validated_and_their_absence_is_a_located_warning() {
    // afd without a workspace: a warning at frontDoor.
    let text = edited(
        "afd",
        &[(
            "diagnostics:\n  logAnalytics: log-aoai-afd\n  retentionDays: 30\n",
            "",
        )],
    );
    let l = lint_text("afd", &text);
    located(&l, "AOAI071", "frontDoor", &text, "frontDoor:");
    let r = render_text("afd", &text);
    assert!(r
        .of_type("Microsoft.Insights/diagnosticSettings")
        .is_empty());
    // A second workspace next to apim.logging's is refused at its field.
    let text = edited(
        "apim",
        &[(
            "\napim:\n",
            "\ndiagnostics: { logAnalytics: log-other }\napim:\n",
        )],
    );
    let l = lint_text("apim", &text);
    let f = l
        .findings
        .iter()
        .find(|f| f["rule"] == "BP001")
        .unwrap_or_else(|| panic!("{:#?}", l.findings));
    assert_eq!(f["location"]["field"], "diagnostics.logAnalytics");
    assert_eq!(l.code, Some(1));
}

#[test]
fn detection_mode_without_the_waf_log_is_a_located_error() {
    let text = edited(
        "afd",
        &[
            (
                "diagnostics:\n  logAnalytics: log-aoai-afd\n  retentionDays: 30\n",
                "",
            ),
            ("    mode: Prevention", "    mode: Detection"),
        ],
    );
    let l = lint_text("afd", &text);
    let f = located(
        &l,
        "AOAI072",
        "frontDoor.waf.mode",
        &text,
        "mode: Detection",
    );
    assert_eq!(f["severity"], "error");
    assert_eq!(l.code, Some(1));
    // With the workspace, Detection mode keeps its log: no finding.
    let text = edited("afd", &[("    mode: Prevention", "    mode: Detection")]);
    let l = lint_text("afd", &text);
    assert!(
        l.findings.iter().all(|f| f["rule"] != "AOAI072"),
        "{:#?}",
        l.findings
    );
    // afd-apim runs Detection with its logs.
    let r = render("afd-apim");
    assert_eq!(
        r.of_type("Microsoft.Network/FrontDoorWebApplicationFirewallPolicies")[0].1["properties"]
            ["policySettings"]["mode"],
        "Detection"
    );
}

// ---- afd without keys -----------------------------------------------------------------------

#[test]
fn afd_accounts_take_no_keys_and_each_caller_gets_the_role_on_every_account() {
    let r = render("afd");
    let accounts = r.of_type("Microsoft.CognitiveServices/accounts");
    assert_eq!(accounts.len(), 3);
    let callers = [
        ("00000000-0000-0000-0000-00000000ca11", "ServicePrincipal"),
        ("00000000-0000-0000-0000-00000000ca12", "Group"),
    ];
    let roles = r.of_type("Microsoft.Authorization/roleAssignments");
    assert_eq!(roles.len(), accounts.len() * callers.len());
    for (id, a) in &accounts {
        assert_eq!(a["properties"]["disableLocalAuth"], true, "{id}");
        for (principal, kind) in callers {
            let found = roles.iter().any(|(rid, b)| {
                rid.starts_with(&format!(
                    "{id}/providers/Microsoft.Authorization/roleAssignments/"
                )) && b["properties"]["principalId"] == principal
                    && b["properties"]["principalType"] == kind
                    && b["properties"]["roleDefinitionId"]
                        .as_str()
                        .unwrap()
                        .ends_with(&format!("/roleDefinitions/{OPENAI_USER}"))
            });
            assert!(found, "{principal} on {id}");
        }
    }
}

#[test]
fn keys_across_balanced_accounts_are_a_located_error() {
    let text = edited(
        "afd",
        &[("  callers:\n", "  localAuth: true\n  callers:\n")],
    );
    let l = lint_text("afd", &text);
    let f = located(&l, "AOAI073", "openai.localAuth", &text, "localAuth: true");
    assert_eq!(f["severity"], "error");
    assert!(f["message"].as_str().unwrap().contains("3 of 3"), "{f:#}");
    assert_eq!(l.code, Some(1));
    let r = render_text("afd", &text);
    for (_, a) in r.of_type("Microsoft.CognitiveServices/accounts") {
        assert_eq!(a["properties"]["disableLocalAuth"], false);
    }
    // One account behind Front Door may keep its key.
    let one = edited(
        "afd",
        &[
            ("  callers:\n", "  localAuth: true\n  callers:\n"),
            ("    - { name: aoai-afd-swc, region: swedencentral }\n", ""),
            ("    - { name: aoai-afd-frc, region: francecentral, customSubdomain: aoai-afd-france }\n", ""),
        ],
    );
    let l = lint_text("afd", &one);
    assert!(
        l.findings.iter().all(|f| f["rule"] != "AOAI073"),
        "{:#?}",
        l.findings
    );
    // No callers with keys off: a warning at openai.
    let text = edited(
        "afd",
        &[(
            "  callers:\n    - { principalId: 00000000-0000-0000-0000-00000000ca11, principalType: ServicePrincipal }\n    - { principalId: 00000000-0000-0000-0000-00000000ca12, principalType: Group }\n",
            "",
        )],
    );
    let l = lint_text("afd", &text);
    located(&l, "AOAI074", "openai", &text, "openai:");
    // A caller id that is not a GUID is refused at its field.
    let text = edited(
        "afd",
        &[("00000000-0000-0000-0000-00000000ca12", "not-a-guid")],
    );
    let l = lint_text("afd", &text);
    let f = l.findings.iter().find(|f| f["rule"] == "BP001").unwrap();
    assert_eq!(f["location"]["field"], "openai.callers[1].principalId");
}

// ---- WAF tuned for prompts ------------------------------------------------------------------

#[test]
fn the_waf_excludes_prompt_fields_from_the_default_rule_set_only() {
    for name in ["afd", "afd-apim", "afd-apim-private"] {
        let r = render(name);
        let waf = &r.of_type("Microsoft.Network/FrontDoorWebApplicationFirewallPolicies")[0].1;
        for set in waf["properties"]["managedRules"]["managedRuleSets"]
            .as_array()
            .unwrap()
        {
            let ex = set["exclusions"].as_array();
            if set["ruleSetType"] == "Microsoft_DefaultRuleSet" {
                let ex = ex.unwrap_or_else(|| panic!("{name}: {set:#}"));
                let selectors: Vec<&str> = ex
                    .iter()
                    .map(|e| {
                        assert_eq!(e["matchVariable"], "RequestBodyJsonArgNames");
                        assert_eq!(e["selectorMatchOperator"], "StartsWith");
                        e["selector"].as_str().unwrap()
                    })
                    .collect();
                assert_eq!(
                    selectors,
                    ["messages", "input", "prompt", "instructions"],
                    "{name}"
                );
            } else {
                assert!(ex.is_none(), "{name}: {set:#}");
            }
        }
    }
    // Without exclusions, Prevention blocks prompts: a located warning.
    let text = edited(
        "afd",
        &[(
            "promptFields: [messages, input, prompt, instructions]",
            "promptFields: []",
        )],
    );
    let l = lint_text("afd", &text);
    located(
        &l,
        "AOAI075",
        "frontDoor.waf.promptFields",
        &text,
        "promptFields: []",
    );
    let r = render_text("afd", &text);
    let waf = &r.of_type("Microsoft.Network/FrontDoorWebApplicationFirewallPolicies")[0].1;
    assert!(waf["properties"]["managedRules"]["managedRuleSets"][0]
        .get("exclusions")
        .is_none());
    // DRS 1.x has no JSON argument exclusions: none rendered, and the warning stays.
    let text = edited(
        "afd",
        &[("version: \"2.1\", action: Block", "version: \"1.1\"")],
    );
    let r = render_text("afd", &text);
    let waf = &r.of_type("Microsoft.Network/FrontDoorWebApplicationFirewallPolicies")[0].1;
    assert!(waf["properties"]["managedRules"]["managedRuleSets"][0]
        .get("exclusions")
        .is_none());
    let l = lint_text("afd", &text);
    assert!(l.findings.iter().any(|f| f["rule"] == "AOAI075"));
}

// ---- Event Hub sized for what is logged -------------------------------------------------------

#[test]
fn event_hub_is_sized_from_the_expected_load() {
    let r = render("apim");
    let ns = &r.of_type("Microsoft.EventHub/namespaces")[0].1;
    // 20 requests/s x (40,000 + 1,024) bytes = 0.78 MB/s: one unit, auto-inflate to 4.
    assert_eq!(ns["sku"]["capacity"], 1);
    assert_eq!(ns["properties"]["isAutoInflateEnabled"], true);
    assert_eq!(ns["properties"]["maximumThroughputUnits"], 4);
    let hub = &r.of_type("Microsoft.EventHub/namespaces/eventhubs")[0].1;
    assert_eq!(hub["properties"]["partitionCount"], 4);

    // 200 requests/s of 150 KB: 200 x 151,024 B = 28.8 MB/s -> 29 units, ceiling 40, 32 partitions.
    let text = edited(
        "apim",
        &[(
            "requestsPerSecond: 20, bodyBytes: 40000",
            "requestsPerSecond: 200, bodyBytes: 150000",
        )],
    );
    let r = render_text("apim", &text);
    let ns = &r.of_type("Microsoft.EventHub/namespaces")[0].1;
    assert_eq!(ns["sku"]["capacity"], 29);
    assert_eq!(ns["properties"]["maximumThroughputUnits"], 40);
    assert_eq!(
        r.of_type("Microsoft.EventHub/namespaces/eventhubs")[0].1["properties"]["partitionCount"],
        32
    );
    let l = lint_text("apim", &text);
    assert!(
        l.findings.iter().all(|f| f["rule"] != "AOAI076"),
        "{:#?}",
        l.findings
    );

    // 400 requests/s of 150 KB need 58 units: more than a Standard namespace has.
    let text = edited(
        "apim",
        &[(
            "requestsPerSecond: 20, bodyBytes: 40000",
            "requestsPerSecond: 400, bodyBytes: 150000",
        )],
    );
    let l = lint_text("apim", &text);
    let f = located(
        &l,
        "AOAI076",
        "apim.logging.eventHub.expectedLoad",
        &text,
        "expectedLoad:",
    );
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("need 58 throughput units"),
        "{f:#}"
    );
    // A fixed ceiling below the need is reported too.
    let text = edited(
        "apim",
        &[(
            "      expectedLoad: { requestsPerSecond: 20, bodyBytes: 40000 }",
            "      maxThroughputUnits: 2\n      expectedLoad: { requestsPerSecond: 100, bodyBytes: 40000 }",
        )],
    );
    let l = lint_text("apim", &text);
    located(
        &l,
        "AOAI076",
        "apim.logging.eventHub.expectedLoad",
        &text,
        "expectedLoad:",
    );
    // Out-of-range sizes are refused at their field.
    let text = edited(
        "apim",
        &[(
            "      expectedLoad:",
            "      partitions: 64\n      expectedLoad:",
        )],
    );
    let l = lint_text("apim", &text);
    let f = l.findings.iter().find(|f| f["rule"] == "BP001").unwrap();
    assert_eq!(f["location"]["field"], "apim.logging.eventHub.partitions");
}

// ---- Client IP behind Front Door --------------------------------------------------------------

#[test]
fn behind_front_door_the_client_ip_comes_from_front_doors_header() {
    for name in ["afd-apim", "afd-apim-private"] {
        let r = render(name);
        for (id, d) in r.of_type("Microsoft.ApiManagement/service/apis/diagnostics") {
            assert_eq!(d["properties"]["logClientIp"], false, "{name}: {id}");
            let headers = d["properties"]["frontend"]["request"]["headers"]
                .as_array()
                .unwrap();
            assert!(
                headers.iter().any(|h| h == "X-Azure-SocketIP"),
                "{name}: {id}"
            );
        }
        let q = &r.queries["gateway-logs.kql"];
        assert!(
            q.contains("ClientIp = tostring(RequestHeaders[\"X-Azure-SocketIP\"])"),
            "{q}"
        );
        assert!(!q.contains("ClientIp = CallerIpAddress"));
    }
    // Without Front Door the TCP peer is the client.
    let r = render("apim");
    for (id, d) in r.of_type("Microsoft.ApiManagement/service/apis/diagnostics") {
        assert_eq!(d["properties"]["logClientIp"], true, "{id}");
        let headers = d["properties"]["frontend"]["request"]["headers"]
            .as_array()
            .unwrap();
        assert!(headers.iter().all(|h| h != "X-Azure-SocketIP"));
    }
    assert!(r.queries["gateway-logs.kql"].contains("ClientIp = CallerIpAddress"));
}

#[test]
fn logging_front_doors_address_as_the_client_is_a_located_warning() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("arm")).unwrap();
    std::fs::write(
        dir.path().join("arm/apim-api-diagnostic.json.hbs"),
        common::read(&common::root().join("templates/arm/apim-api-diagnostic.json.hbs"))
            .replace("{{json m.apim.logClientIp}}", "true"),
    )
    .unwrap();
    let text = common::read(&common::example("afd-apim"));
    let (_bp_dir, bp) = blueprint("afd-apim", &text);
    let l = lint_file(&bp, &["--templates".as_ref(), dir.path().as_os_str()]);
    located(&l, "AOAI077", "frontDoor", &text, "frontDoor:");
    assert_eq!(l.code, Some(0), "a warning");
}

// ---- On the emulator -------------------------------------------------------------------------

#[test]
fn the_emulator_refuses_a_log_category_its_resource_does_not_have() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("arm")).unwrap();
    std::fs::write(
        dir.path().join("arm/diagnostic-setting.json.hbs"),
        common::read(&common::root().join("templates/arm/diagnostic-setting.json.hbs")).replace(
            "\"logs\": [",
            "\"logs\": [\n      { \"category\": \"NotACategory\", \"enabled\": true },",
        ),
    )
    .unwrap();
    let out = common::bin()
        .args(["apply", "--emulator", "--auto-approve", "--templates"])
        .arg(dir.path())
        .arg(common::example("afd"))
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{s}");
    assert!(
        s.contains("Category 'NotACategory' is not supported"),
        "{s}"
    );
}

#[test]
fn destroy_deletes_the_diagnostic_settings_and_caller_roles_with_their_resources() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let run = |cmd: &str| {
        common::bin()
            .args([cmd, "--emulator", "--auto-approve", "--emulator-state"])
            .arg(&state)
            .arg(common::example("afd"))
            .output()
            .unwrap()
    };
    let out = run("apply");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let live: Value = serde_json::from_str(&common::read(&state)).unwrap();
    let count = |v: &Value, what: &str| {
        v["resources"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.contains(what))
            .count()
    };
    // Profile + 3 accounts; 2 callers x 3 accounts.
    assert_eq!(count(&live, "/diagnosticsettings/"), 4);
    assert_eq!(count(&live, "/roleassignments/"), 6);
    let out = run("destroy");
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{s}");
    assert!(
        s.contains("Microsoft.Cdn/profiles/afd-aoai/providers/Microsoft.Insights/diagnosticSettings/aoai-arch will be deleted"),
        "{s}"
    );
    let live: Value = serde_json::from_str(&common::read(&state)).unwrap();
    assert_eq!(count(&live, "/diagnosticsettings/"), 0);
    assert_eq!(count(&live, "/roleassignments/"), 0);
}

#[test]
fn more_partitions_replace_the_event_hub_which_standard_cannot_resize() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let out = common::bin()
        .args(["apply", "--emulator", "--auto-approve", "--emulator-state"])
        .arg(&state)
        .arg(common::example("apim"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let (_bp_dir, bp) = blueprint(
        "apim",
        &edited(
            "apim",
            &[(
                "requestsPerSecond: 20, bodyBytes: 40000",
                "requestsPerSecond: 200, bodyBytes: 40000",
            )],
        ),
    );
    let out = common::bin()
        .args(["plan", "--emulator", "--json", "--emulator-state"])
        .arg(&state)
        .arg(&bp)
        .output()
        .unwrap();
    let plan: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let action = |suffix: &str| {
        plan["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"].as_str().unwrap().ends_with(suffix))
            .map(|r| r["action"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(action("/eventhubs/large-bodies"), "replace", "{plan:#}");
    assert_eq!(action("/namespaces/evhns-aoai-gw"), "update");
}
