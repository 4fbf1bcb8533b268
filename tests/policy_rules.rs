//! Policies that work with what Azure really does (issue 10, part 3), through the binary: Entra
//! token versions, region routing with a cross-region fallback, the Front Door lock, the
//! caller's api-key, large bodies to Event Hub, weighted pool priorities, custom metric
//! dimensions and the budget start window; and rules AOAI030..AOAI039, on rendered policies and
//! on a user's `lint --policy` file.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

/// An example blueprint with text replacements, written to a temporary folder (with `files`).
struct Variant {
    dir: tempfile::TempDir,
    blueprint: PathBuf,
}

fn variant(base: &str, edits: &[(&str, &str)], files: &[(&str, &str)]) -> Variant {
    let mut text = common::read(&common::example(base));
    for (from, to) in edits {
        assert!(text.contains(from), "`{from}` not in {base}");
        text = text.replacen(from, to, 1);
    }
    let dir = tempfile::tempdir().unwrap();
    let blueprint = dir.path().join(format!("{base}.yaml"));
    std::fs::write(&blueprint, text).unwrap();
    for (name, content) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    Variant { dir, blueprint }
}

impl Variant {
    fn run(&self, args: &[&str]) -> Output {
        common::bin()
            .current_dir(self.dir.path())
            .arg(args[0])
            .arg(&self.blueprint)
            .args(&args[1..])
            .output()
            .unwrap()
    }

    /// `render --out`: the output folder (the render must succeed).
    fn render(&self) -> PathBuf {
        let out = self.dir.path().join("out");
        let o = self.run(&["render", "--out", out.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    }

    /// `lint --format json` with extra arguments: exit code and findings.
    fn lint(&self, extra: &[&str]) -> (Option<i32>, Vec<Value>) {
        let mut args = vec!["lint", "--format", "json"];
        args.extend_from_slice(extra);
        let o = self.run(&args);
        let findings = serde_json::from_slice::<Value>(&o.stdout)
            .ok()
            .and_then(|v| v["findings"].as_array().cloned())
            .unwrap_or_default();
        (o.status.code(), findings)
    }
}

fn policy(out: &Path) -> String {
    common::read(&out.join("policies/azure-openai.xml"))
}

/// The JSON body of the request file whose name ends with `suffix`.
fn body(out: &Path, suffix: &str) -> Value {
    let file = std::fs::read_dir(out.join("requests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(suffix))
        .unwrap_or_else(|| panic!("no request *{suffix}"));
    let text = common::read(&file);
    serde_json::from_str(text.split_once("\n\n").unwrap().1).unwrap()
}

fn active<'a>(findings: &'a [Value], rule: &str) -> Vec<&'a Value> {
    findings
        .iter()
        .filter(|f| f["rule"] == rule && f["allowed"].is_null())
        .collect()
}

/// A whole policy document with `inbound` in the middle.
fn policy_with(inbound: &str) -> String {
    format!("<policies>\n  <inbound>\n    <base />\n{inbound}\n  </inbound>\n  <backend>\n    <forward-request buffer-request-body=\"true\" />\n  </backend>\n  <outbound><base /></outbound>\n  <on-error><base /></on-error>\n</policies>\n")
}

const TENANT_A: &str = "00000000-0000-0000-0000-00000000aaaa";
const APIM_JWT: &str = "    tenantId: 00000000-0000-0000-0000-00000000aaaa\n    clientId: 00000000-0000-0000-0000-0000000a0001\n    appIdUri: api://aoai-gateway\n    tokenVersions: [v1, v2]\n";

fn generic_jwt(openid: &str, rest: &str) -> String {
    format!("    openidConfig: {openid}\n{rest}")
}

fn v2_config(tenant: &str) -> String {
    format!("https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration")
}

#[test]
fn entra_tokens_of_both_versions_pass_the_rendered_validation() {
    let v1 = variant("apim", &[], &[]);
    let out = v1.render();
    let p = policy(&out);
    assert!(
        p.contains(&format!(
            "<validate-azure-ad-token tenant-id=\"{TENANT_A}\""
        )),
        "{p}"
    );
    // v2.0 tokens carry the client id, v1.0 tokens the App ID URI.
    assert!(p.contains("<audience>00000000-0000-0000-0000-0000000a0001</audience>"));
    assert!(p.contains("<audience>api://aoai-gateway</audience>"));
    assert!(!p.contains("<validate-jwt"), "{p}");
    // No openid-config named value is needed any more.
    assert!(!std::fs::read_dir(out.join("requests")).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains("jwt-openid-config")));

    // v2 only: the client id alone.
    let v2 = variant("afd-apim", &[], &[]);
    let out = v2.render();
    let p = policy(&out);
    assert!(p.contains("<audience>00000000-0000-0000-0000-0000000b0001</audience>"));
    assert_eq!(p.matches("<audience>").count(), 1, "{p}");
}

#[test]
fn entra_form_errors_name_the_field() {
    let cases: [(&str, &str, &str); 4] = [
        (
            "    clientId: 00000000-0000-0000-0000-0000000a0001\n",
            "    clientId: api://aoai-gateway\n",
            "`api://aoai-gateway` is not a client id",
        ),
        (
            "    clientId: 00000000-0000-0000-0000-0000000a0001\n",
            "",
            "`clientId` is needed",
        ),
        (
            "    appIdUri: api://aoai-gateway\n",
            "",
            "`appIdUri` is needed",
        ),
        (
            "    tokenVersions: [v1, v2]\n",
            "    tokenVersions: [v1, v2]\n    audiences: [api://x]\n",
            "`audiences` is derived from clientId",
        ),
    ];
    for (from, to, message) in cases {
        let v = variant("apim", &[(from, to)], &[]);
        let o = v.run(&["render", "--out", "out"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{message}: {err}");
        assert!(err.contains(message), "expected `{message}` in {err}");
        assert!(err.contains("apim.yaml:"), "no location in {err}");
        assert!(err.contains("= field: apim.jwt"), "no field in {err}");
    }
}

#[test]
fn aoai030_issuer_and_audience_of_different_token_versions() {
    // Blueprint: the v2.0 openid-config (its issuer) with an App ID URI audience.
    let bad = generic_jwt(
        &v2_config(TENANT_A),
        "    audiences: [api://aoai-gateway]\n",
    );
    let v = variant("apim", &[(APIM_JWT, &bad)], &[]);
    let (code, findings) = v.lint(&[]);
    let f = active(&findings, "AOAI030");
    assert_eq!(f.len(), 1, "{findings:#?}");
    assert_eq!(code, Some(1));
    assert_eq!(f[0]["location"]["field"], "apim.jwt.audiences");
    assert!(f[0]["location"]["line"].as_u64().unwrap() > 1);
    // render prints the finding at the top and still writes (as for every lint error).
    assert_eq!(
        v.run(&["render", "--out", "out"]).status.code(),
        Some(0),
        "render prints findings, it does not refuse"
    );

    // An explicit v2.0 issuer with the App ID URI: the same.
    let bad = generic_jwt(
        &v2_config(TENANT_A),
        &format!("    audiences: [api://aoai-gateway]\n    issuers: [https://login.microsoftonline.com/{TENANT_A}/v2.0]\n"),
    );
    let (_, findings) = variant("apim", &[(APIM_JWT, &bad)], &[]).lint(&[]);
    assert_eq!(active(&findings, "AOAI030").len(), 1, "{findings:#?}");

    // What Entra issues passes: v2.0 issuer + client id; v1.0 issuer + App ID URI.
    for good in [
        generic_jwt(
            &v2_config(TENANT_A),
            "    audiences: [00000000-0000-0000-0000-0000000a0001]\n",
        ),
        generic_jwt(
            &v2_config(TENANT_A),
            &format!("    audiences: [api://aoai-gateway]\n    issuers: [https://sts.windows.net/{TENANT_A}/]\n"),
        ),
    ] {
        let (code, findings) = variant("apim", &[(APIM_JWT, &good)], &[]).lint(&[]);
        assert!(active(&findings, "AOAI030").is_empty(), "{findings:#?}");
        assert_eq!(code, Some(0), "{findings:#?}");
    }
}

#[test]
fn aoai030_runs_on_user_policies() {
    let jwt = |issuer: &str, audience: &str| {
        policy_with(&format!(
            "    <validate-jwt header-name=\"Authorization\" failed-validation-httpcode=\"401\">\n      <openid-config url=\"{}\" />\n      <audiences>\n        <audience>{audience}</audience>\n      </audiences>\n      <issuers>\n        <issuer>{issuer}</issuer>\n      </issuers>\n    </validate-jwt>\n    <set-header name=\"api-key\" exists-action=\"delete\" />",
            v2_config(TENANT_A)
        ))
    };
    let v2 = format!("https://login.microsoftonline.com/{TENANT_A}/v2.0");
    let v1 = format!("https://sts.windows.net/{TENANT_A}/");
    let bad = jwt(&v2, "api://aoai-gateway");
    let v = variant("apim", &[], &[("my.xml", &bad)]);
    let (code, findings) = v.lint(&["--policy", "my.xml"]);
    let f = active(&findings, "AOAI030");
    assert_eq!(f.len(), 1, "{findings:#?}");
    assert_eq!(code, Some(1));
    assert_eq!(f[0]["location"]["file"], "my.xml");
    assert_eq!(f[0]["location"]["line"], 4, "the validate-jwt line");

    for good in [
        jwt(&v2, "00000000-0000-0000-0000-0000000a0001"),
        jwt(&v1, "api://aoai-gateway"),
        // A named value the blueprint does not define: not judged.
        jwt(&v2, "{{gateway-audience}}"),
    ] {
        let v = variant("apim", &[], &[("my.xml", &good)]);
        let (_, findings) = v.lint(&["--policy", "my.xml"]);
        assert!(active(&findings, "AOAI030").is_empty(), "{findings:#?}");
    }
}

#[test]
fn aoai009_help_names_client_id_and_app_id_uri_per_version() {
    let open = generic_jwt(&v2_config(TENANT_A), "");
    let (_, findings) = variant("apim", &[(APIM_JWT, &open)], &[]).lint(&[]);
    let f = active(&findings, "AOAI009");
    assert_eq!(f.len(), 1, "{findings:#?}");
    let help = f[0]["help"].as_str().unwrap();
    assert!(
        help.contains("clientId") && help.contains("appIdUri"),
        "{help}"
    );
    assert!(
        !help.contains("application id URI in apim.jwt.audiences"),
        "{help}"
    );
}

#[test]
fn region_routing_is_case_insensitive_with_a_cross_region_fallback() {
    // Round-robin (the example): each region's local accounts, then the others.
    let v3 = variant("afd-apim", &[], &[]);
    let out = v3.render();
    let p = policy(&out);
    assert!(!p.contains("switch (context.Deployment.Region)"), "{p}");
    assert!(!p.contains("context.Deployment.Region =="), "{p}");
    assert!(
        p.contains(
            "context.Deployment.Region.Equals(\"Japan East\", StringComparison.OrdinalIgnoreCase)"
        ),
        "{p}"
    );
    assert!(
        p.contains("return \"aoai-glb-jpe|aoai-glb-eus2-1,aoai-glb-eus2-2,aoai-glb-weu\";"),
        "{p}"
    );
    assert!(p.contains("candidates = lists[1].Split(',');"), "{p}");

    // Native pools: one per region, local accounts at priority 1, the others at priority 2.
    let v = variant(
        "afd-apim",
        &[
            ("    mode: round-robin\n", "    mode: pool\n"),
            ("    - rule: AOAI007\n", "    - rule: AOAI001\n"),
        ],
        &[],
    );
    let out = v.render();
    let p = policy(&out);
    assert!(p.contains("<when condition=\"@(context.Deployment.Region.Equals(&quot;Japan East&quot;, StringComparison.OrdinalIgnoreCase))\">")
        || p.contains("<when condition=\"@(context.Deployment.Region.Equals(\"Japan East\", StringComparison.OrdinalIgnoreCase))\">"), "{p}");
    let pool = body(&out, "backends-aoai-pool-japaneast.http");
    let services = pool["properties"]["pool"]["services"].as_array().unwrap();
    assert_eq!(services.len(), 4, "{pool:#}");
    for s in services {
        let id = s["id"].as_str().unwrap();
        let want = if id.ends_with("/aoai-glb-jpe") { 1 } else { 2 };
        assert_eq!(s["priority"], want, "{id}");
    }
    // One failure does not take an account out for a minute.
    let backend = body(&out, "backends-aoai-glb-jpe.http");
    let rule = &backend["properties"]["circuitBreaker"]["rules"][0];
    assert!(
        rule["failureCondition"]["count"].as_u64().unwrap() > 1,
        "{rule:#}"
    );
    assert_eq!(rule["acceptRetryAfter"], true);
    let (code, findings) = v.lint(&[]);
    assert_eq!(code, Some(0), "{findings:#?}");
}

#[test]
fn aoai031_case_sensitive_region_comparison() {
    let with = |cond: &str| {
        policy_with(&format!(
            "    <choose>\n      <when condition=\"@({cond})\">\n        <set-backend-service backend-id=\"a\" />\n      </when>\n    </choose>\n    <set-header name=\"api-key\" exists-action=\"delete\" />"
        ))
    };
    let bad = with("context.Deployment.Region == &quot;Sweden Central&quot;");
    let (_, findings) = variant("apim", &[], &[("p.xml", &bad)]).lint(&["--policy", "p.xml"]);
    let f = active(&findings, "AOAI031");
    assert_eq!(f.len(), 1, "{findings:#?}");
    assert_eq!(f[0]["severity"], "warning");
    assert_eq!(f[0]["location"]["line"], 5);
    let good = with(
        "context.Deployment.Region.Equals(&quot;Sweden Central&quot;, StringComparison.OrdinalIgnoreCase)",
    );
    let (_, findings) = variant("apim", &[], &[("p.xml", &good)]).lint(&["--policy", "p.xml"]);
    assert!(active(&findings, "AOAI031").is_empty(), "{findings:#?}");
}

#[test]
fn front_door_is_the_only_way_in() {
    let v4 = variant("afd-apim", &[], &[]);
    let out = v4.render();
    let p = policy(&out);
    let check = p
        .find("<check-header name=\"X-Azure-FDID\"")
        .expect("FDID check");
    assert!(
        check < p.find("<validate-azure-ad-token").unwrap(),
        "check first"
    );
    assert!(p.contains("<value>{{front-door-id}}</value>"), "{p}");
    let nv = body(&out, "namedValues-front-door-id.http");
    assert_eq!(
        nv["properties"]["value"],
        "${after-apply:/subscriptions/00000000-0000-0000-0000-000000000003/resourceGroups/rg-aoai-global/providers/Microsoft.Cdn/profiles/afd-aoai-global#/properties/frontDoorId}"
    );
    // Without Front Door in front of APIM there is nothing to check.
    let p = policy(&variant("apim", &[], &[]).render());
    assert!(!p.contains("X-Azure-FDID"), "{p}");

    // AOAI032 on a user policy in afd-apim, not on one that checks the header.
    let (code, findings) = variant(
        "afd-apim",
        &[],
        &[(
            "p.xml",
            &policy_with("    <set-header name=\"api-key\" exists-action=\"delete\" />"),
        )],
    )
    .lint(&["--policy", "p.xml"]);
    let f = active(&findings, "AOAI032");
    assert_eq!(f.len(), 1, "{findings:#?}");
    assert_eq!(f[0]["location"]["file"], "p.xml");
    assert_eq!(f[0]["location"]["line"], 2, "the inbound line");
    assert_eq!(code, Some(1));
    let locked = policy_with("    <check-header name=\"X-Azure-FDID\" failed-check-httpcode=\"403\" ignore-case=\"true\"><value>{{front-door-id}}</value></check-header>\n    <set-header name=\"api-key\" exists-action=\"delete\" />");
    let (_, findings) =
        variant("afd-apim", &[], &[("p.xml", &locked)]).lint(&["--policy", "p.xml"]);
    assert!(active(&findings, "AOAI032").is_empty(), "{findings:#?}");
}

#[test]
fn the_front_door_id_named_value_is_reserved() {
    let v = variant(
        "afd-apim",
        &[(
            "  streaming: true\n",
            "  streaming: true\n  namedValues: { front-door-id: x }\n",
        )],
        &[],
    );
    let o = v.run(&["render", "--out", "out"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("named value `front-door-id` is rendered by aoai-arch"),
        "{err}"
    );
    assert!(
        err.contains("= field: apim.namedValues.front-door-id"),
        "{err}"
    );
}

#[test]
fn applied_front_door_lock_holds_the_profiles_front_door_id() {
    let emu = common::Emulator::start("1000", "none", 0);
    let v = variant("afd-apim", &[], &[]);
    let o = v.run(&["apply", "--auto-approve", "--arm-endpoint", &emu.url]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rg = "/subscriptions/00000000-0000-0000-0000-000000000003/resourceGroups/rg-aoai-global/providers";
    let (_, profile) = common::http(
        &emu.url,
        "GET",
        &format!("{rg}/Microsoft.Cdn/profiles/afd-aoai-global?api-version=2025-12-01"),
        None,
    );
    let fdid = profile["properties"]["frontDoorId"].as_str().unwrap();
    let (_, nv) = common::http(
        &emu.url,
        "GET",
        &format!("{rg}/Microsoft.ApiManagement/service/apim-aoai-global/namedValues/front-door-id?api-version=2024-05-01"),
        None,
    );
    assert_eq!(nv["properties"]["value"], fdid, "{nv:#}");
}

#[test]
fn callers_api_key_is_removed_and_aoai033_checks_user_policies() {
    let p = policy(&variant("apim", &[], &[]).render());
    let delete = p
        .find("<set-header name=\"api-key\" exists-action=\"delete\" />")
        .expect("api-key removed");
    assert!(delete < p.find("<backend>").unwrap());
    let (_, findings) =
        variant("apim", &[], &[("p.xml", &policy_with(""))]).lint(&["--policy", "p.xml"]);
    let f = active(&findings, "AOAI033");
    assert_eq!(f.len(), 1, "{findings:#?}");
    assert_eq!(f[0]["location"]["file"], "p.xml");
}

#[test]
fn large_requests_and_responses_reach_event_hub_whole_or_marked_truncated() {
    let p = policy(&variant("apim", &[], &[]).render());
    // Bytes, not UTF-16 characters.
    assert!(!p.contains("\"\").Length >"), "{p}");
    assert!(p.contains("Encoding.UTF8.GetByteCount(context.Variables.GetValueOrDefault<string>(\"requestBody\", \"\")) > 8192 || Encoding.UTF8.GetByteCount(context.Variables.GetValueOrDefault<string>(\"responseBody\", \"\")) > 8192"), "{p}");
    // Only answers that are not streams are read (reading a stream would buffer it).
    assert!(p.contains("<set-variable name=\"responseBody\" value=\"@(context.Response.Headers.GetValueOrDefault(\"Content-Type\", \"\").IndexOf(\"text/event-stream\", StringComparison.OrdinalIgnoreCase) >= 0 ? \"\" : (context.Response.Body?.As<string>(preserveContent: true) ?? \"\"))\" />"), "{p}");
    for field in [
        "requestBytes",
        "responseBytes",
        "requestTruncated",
        "responseTruncated",
        "responseBody",
    ] {
        assert!(
            p.contains(&format!("new JProperty(\"{field}\"")),
            "{field}: {p}"
        );
    }
    // The message is checked against Event Hub's 200 KB limit before it is sent.
    assert!(
        p.contains("if (Encoding.UTF8.GetByteCount(message) > 200000)"),
        "{p}"
    );
    // Streaming: a stream's body is never read (it would be buffered); an answer's is.
    let v = variant(
        "apim",
        &[(
            "    gateway-owner: ai-platform@contoso.com\n",
            "    gateway-owner: ai-platform@contoso.com\n  streaming: true\n",
        )],
        &[],
    );
    let p = policy(&v.render());
    let read = p.find("context.Response.Body").unwrap();
    let guard = p
        .find("IndexOf(\"text/event-stream\", StringComparison.OrdinalIgnoreCase) >= 0 ? \"\" :")
        .unwrap();
    assert!(guard < read, "{p}");
    assert_eq!(p.matches("context.Response.Body").count(), 1, "{p}");
    assert!(p.contains("new JProperty(\"requestBody\""), "{p}");
}

#[test]
fn weighted_pool_keeps_the_blueprints_priorities() {
    let v5 = variant("apim", &[], &[]);
    let out = v5.render();
    let pool = body(&out, "backends-aoai-pool.http");
    let got: Vec<(String, u64, u64)> = pool["properties"]["pool"]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
                s["weight"].as_u64().unwrap(),
                s["priority"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("aoai-apim-swc-1".to_string(), 70, 1),
            ("aoai-apim-swc-2".to_string(), 30, 1),
            ("aoai-apim-nor".to_string(), 50, 2),
        ]
    );
}

#[test]
fn token_metrics_get_custom_metric_dimensions() {
    let v6 = variant("apim", &[], &[]);
    let out = v6.render();
    let ai = body(&out, "components-appi-aoai-gw.http");
    assert_eq!(
        ai["properties"]["CustomMetricsOptedInType"],
        "WithDimensions"
    );
    let v7 = variant(
        "apim",
        &[("tokenMetrics: true", "tokenMetrics: false")],
        &[],
    );
    let out = v7.render();
    let ai = body(&out, "components-appi-aoai-gw.http");
    assert!(ai["properties"].get("CustomMetricsOptedInType").is_none());

    // AOAI034: a template override that drops it.
    let tpl = common::read(&common::root().join("templates/arm/app-insights.json.hbs"))
        .replace("\"WithDimensions\"", "\"NoDimensions\"");
    let v = variant("apim", &[], &[("tpl/arm/app-insights.json.hbs", &tpl)]);
    let (code, findings) = v.lint(&["--templates", "tpl"]);
    let f = active(&findings, "AOAI034");
    assert_eq!(f.len(), 1, "{findings:#?}");
    assert_eq!(f[0]["location"]["field"], "apim.logging.tokenMetrics");
    assert_eq!(code, Some(1));
}

#[test]
fn budget_start_outside_the_consumption_window_is_a_located_error() {
    for (date, message) in [
        ("2017-05-01", "before 2017-06-01"),
        ("2099-01-01", "Azure accepts at most twelve"),
    ] {
        let v = variant(
            "apim",
            &[(
                "startDate: \"2026-12-01\"",
                &format!("startDate: \"{date}\""),
            )],
            &[],
        );
        let o = v.run(&["render", "--out", "out"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{date}: {err}");
        assert!(err.contains(message), "{date}: {err}");
        assert!(err.contains("= field: apim.budget.startDate"), "{err}");
        let line = common::read(&v.blueprint)
            .lines()
            .position(|l| l.contains("startDate"))
            .unwrap()
            + 1;
        assert!(err.contains(&format!("apim.yaml:{line}:")), "{err}");
    }
}

#[test]
fn every_policy_rule_of_the_catalogue_is_tested_here() {
    let this = common::read(&common::root().join("tests/policy_rules.rs"));
    for r in aoai_arch::lint::RULES {
        let n: u32 = r.id.trim_start_matches("AOAI").parse().unwrap_or(0);
        if r.id.starts_with("AOAI") && (30..40).contains(&n) {
            assert!(
                this.contains(&format!("active(&findings, \"{}\")", r.id)),
                "{} has no triggering case in tests/policy_rules.rs",
                r.id
            );
        }
    }
}

/// Who may call: the blueprint's client applications and app roles reach the rendered
/// validation (both forms); neither is an error (AOAI036) unless the blueprint says every
/// principal of the tenant may call, which is a warning (AOAI035).
#[test]
fn token_validation_names_client_applications_and_roles() {
    let p = policy(&variant("apim", &[], &[]).render());
    let v = &p[p.find("<validate-azure-ad-token").unwrap()
        ..p.find("</validate-azure-ad-token>").unwrap()];
    assert!(v.contains("<client-application-ids>\n        <application-id>00000000-0000-0000-0000-0000000a0101</application-id>\n        <application-id>00000000-0000-0000-0000-0000000a0102</application-id>\n      </client-application-ids>"), "{v}");
    assert!(v.contains("<required-claims>\n        <claim name=\"roles\" match=\"any\">\n          <value>Gateway.Invoke</value>\n        </claim>\n      </required-claims>"), "{v}");

    // validate-jwt (another issuer): the roles as a required claim; the client application
    // checked after it, from azp (v2.0 tokens) or appid (v1.0 tokens): required claims must all
    // be present, so a required azp would refuse every v1.0 token.
    let generic = generic_jwt(
        &v2_config(TENANT_A),
        "    audiences: [00000000-0000-0000-0000-0000000a0001]\n",
    );
    let p = policy(&variant("apim", &[(APIM_JWT, generic.as_str())], &[]).render());
    let end = p.find("</validate-jwt>").unwrap();
    let v = &p[p.find("<validate-jwt").unwrap()..end];
    assert!(!v.contains("\"azp\""), "{v}");
    assert!(
        v.contains("<claim name=\"roles\" match=\"any\">\n          <value>Gateway.Invoke</value>"),
        "{v}"
    );
    let check = &p[end..p[end..].find("</choose>").unwrap() + end];
    assert!(
        check.contains("var app = jwt.Claims.GetValueOrDefault(\"azp\", \"\");\n          if (app.Length == 0) {\n              app = jwt.Claims.GetValueOrDefault(\"appid\", \"\");"),
        "{check}"
    );
    for app in [
        "00000000-0000-0000-0000-0000000a0101",
        "00000000-0000-0000-0000-0000000a0102",
    ] {
        assert!(
            check.contains(&format!("case \"{app}\": return false;")),
            "{check}"
        );
    }
    assert!(
        check.contains("default: return true;") && check.contains("<set-status code=\"401\""),
        "{check}"
    );
    // The check counts as naming who may call, also without roles.
    let no_roles = variant(
        "apim",
        &[
            (APIM_JWT, generic.as_str()),
            ("    requiredRoles: [Gateway.Invoke]\n", ""),
        ],
        &[],
    );
    assert!(!policy(&no_roles.render()).contains("<required-claims>"));
    let (_, findings) = no_roles.lint(&[]);
    assert!(active(&findings, "AOAI036").is_empty(), "{findings:#?}");

    // Neither list: an error at apim.jwt, in the blueprint and the rendered policy alike.
    let lists = "    clientApplications: [00000000-0000-0000-0000-0000000a0101, 00000000-0000-0000-0000-0000000a0102]\n    requiredRoles: [Gateway.Invoke]\n";
    let v = variant("apim", &[(lists, "")], &[]);
    let (code, findings) = v.lint(&[]);
    let f = active(&findings, "AOAI036");
    assert_eq!(f.len(), 1, "{findings:#?}");
    assert_eq!(f[0]["location"]["field"], "apim.jwt");
    assert!(
        f[0]["help"]
            .as_str()
            .unwrap()
            .contains("allowAnyPrincipalOfTenant"),
        "{f:#?}"
    );
    assert_eq!(code, Some(1));
    let p = policy(&v.render());
    assert!(
        !p.contains("<client-application-ids>") && !p.contains("<required-claims>"),
        "{p}"
    );

    // Said explicitly: a warning at the field, and the rendered policy is not reported.
    let v = variant(
        "apim",
        &[(lists, "    allowAnyPrincipalOfTenant: true\n")],
        &[],
    );
    let (code, findings) = v.lint(&[]);
    assert!(active(&findings, "AOAI036").is_empty(), "{findings:#?}");
    let f = active(&findings, "AOAI035");
    assert_eq!(f.len(), 1, "{findings:#?}");
    assert_eq!(
        f[0]["location"]["field"],
        "apim.jwt.allowAnyPrincipalOfTenant"
    );
    let line = common::read(&v.blueprint)
        .lines()
        .position(|l| l.trim_start().starts_with("allowAnyPrincipalOfTenant"))
        .unwrap()
        + 1;
    assert_eq!(f[0]["location"]["line"], line);
    assert_eq!(code, Some(0), "a warning");
    let p = policy(&v.render());
    assert!(p.contains("Every principal of the tenant passes"), "{p}");

    // Both at once contradict each other; a client application must be an application id.
    let v = variant(
        "apim",
        &[(
            "    requiredRoles: [Gateway.Invoke]\n",
            "    requiredRoles: [Gateway.Invoke]\n    allowAnyPrincipalOfTenant: true\n",
        )],
        &[],
    );
    let o = v.run(&["render", "--out", "out"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("= field: apim.jwt.allowAnyPrincipalOfTenant"),
        "{err}"
    );
    let v = variant("apim", &[("0000000a0102]", "0000000a0102, my-app]")], &[]);
    let o = v.run(&["render", "--out", "out"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("= field: apim.jwt.clientApplications[2]"),
        "{err}"
    );

    // A user's policy without either is reported at its validation element.
    let user = policy_with(&format!("    <validate-azure-ad-token tenant-id=\"{TENANT_A}\">\n      <audiences>\n        <audience>x</audience>\n      </audiences>\n    </validate-azure-ad-token>\n    <set-header name=\"api-key\" exists-action=\"delete\" />"));
    let (_, findings) = variant("apim", &[], &[("p.xml", &user)]).lint(&["--policy", "p.xml"]);
    let f: Vec<_> = active(&findings, "AOAI036")
        .into_iter()
        .filter(|f| f["location"]["file"] == "p.xml")
        .collect();
    assert_eq!(f.len(), 1, "{findings:#?}");
    assert_eq!(
        (
            f[0]["location"]["line"].as_u64(),
            f[0]["location"]["column"].as_u64()
        ),
        (Some(4), Some(5))
    );
}
