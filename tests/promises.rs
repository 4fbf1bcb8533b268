//! What the README promises about the gateway policy, checked on the rendered output of every
//! example that has a gateway (apim, afd-apim, afd-apim-private, environments): streams relayed
//! unbuffered, the Responses API's stateful operations reaching the account that holds the
//! response, who may call, timeouts below Front Door's, bounded metric dimensions, a round
//! robin that skips tripped backends, retries that leave the pool's own 503 alone, "transient"
//! as documented, and a caller id no client can set. Each promise a blueprint or a user's
//! policy can break has a lint rule, checked here with its location.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The gateway examples: name, blueprint, extra arguments.
fn gateways() -> Vec<(&'static str, PathBuf, Vec<String>)> {
    let env = common::root().join("blueprints/environments");
    vec![
        ("apim", common::example("apim"), vec![]),
        ("afd-apim", common::example("afd-apim"), vec![]),
        (
            "afd-apim-private",
            common::example("afd-apim-private"),
            vec![],
        ),
        (
            "environments",
            env.join("gateway.yaml"),
            vec![
                "--var-file".into(),
                env.join("env/prod.yaml").to_string_lossy().into_owned(),
            ],
        ),
    ]
}

/// A render: policies by file name, request bodies by file name.
struct Render {
    policies: BTreeMap<String, String>,
    requests: BTreeMap<String, String>,
}

impl Render {
    fn body(&self, suffix: &str) -> Value {
        let (_, text) = self
            .requests
            .iter()
            .find(|(k, _)| k.ends_with(suffix))
            .unwrap_or_else(|| panic!("no request *{suffix}"));
        serde_json::from_str(text.split_once("\n\n").unwrap().1).unwrap()
    }

    fn bodies(&self, contains: &str) -> Vec<(&String, Value)> {
        self.requests
            .iter()
            .filter(|(k, _)| k.contains(contains))
            .map(|(k, t)| {
                (
                    k,
                    serde_json::from_str(t.split_once("\n\n").unwrap().1).unwrap(),
                )
            })
            .collect()
    }
}

fn render(blueprint: &Path, extra: &[String]) -> Render {
    let dir = tempfile::tempdir().unwrap();
    let out = common::bin()
        .arg("render")
        .arg(blueprint)
        .arg("--out")
        .arg(dir.path())
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |sub: &str| -> BTreeMap<String, String> {
        std::fs::read_dir(dir.path().join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    common::read(&p),
                )
            })
            .collect()
    };
    // The gateway's API policies; the health operation Front Door probes (`aoai-health*.xml`,
    // afd-apim) answers probes, not callers, and is checked in tests/edge.rs.
    let mut policies = read("policies");
    policies.retain(|name, _| !name.starts_with("aoai-health"));
    Render {
        policies,
        requests: read("requests"),
    }
}

fn all() -> Vec<(&'static str, Render)> {
    gateways()
        .into_iter()
        .map(|(n, bp, extra)| (n, render(&bp, &extra)))
        .collect()
}

/// The findings of `lint --format json` on an example with edits and extra files.
fn lint(base: &str, edits: &[(&str, &str)], extra: &[&str], files: &[(&str, &str)]) -> Vec<Value> {
    common::lint_example(base, edits, extra, files).findings
}

fn located(findings: &[Value], rule: &str) -> Vec<(String, u64, u64)> {
    findings
        .iter()
        .filter(|f| f["rule"] == rule && f["allowed"].is_null())
        .map(|f| {
            (
                f["location"]["field"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| f["location"]["file"].as_str().unwrap().to_string()),
                f["location"]["line"].as_u64().unwrap(),
                f["location"]["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The message of the first finding of `rule`.
fn message(findings: &[Value], rule: &str) -> String {
    findings
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule}: {findings:#?}"))["message"]
        .as_str()
        .unwrap()
        .to_string()
}

/// 1-based line of the first line of `text` that starts (after indentation) with `start`.
fn line_of(text: &str, start: &str) -> u64 {
    text.lines()
        .position(|l| l.trim_start().starts_with(start))
        .unwrap_or_else(|| panic!("no line starting with {start}")) as u64
        + 1
}

#[test]
fn streams_are_relayed_unbuffered_and_only_answers_are_read() {
    for (name, r) in all() {
        for (file, p) in &r.policies {
            // Every forward-request relays the response as it arrives.
            let forwards: Vec<&str> = p
                .lines()
                .filter(|l| l.contains("<forward-request"))
                .collect();
            assert!(!forwards.is_empty(), "{name}/{file}");
            for f in &forwards {
                assert!(
                    f.contains("buffer-response=\"false\""),
                    "{name}/{file}: {f}"
                );
            }
            // A response body is read only behind the stream check.
            for (at, _) in p.match_indices("context.Response.Body") {
                let from = p[..at].rfind('\n').map_or(0, |i| i + 1);
                let to = p[at..].find('\n').map_or(p.len(), |i| at + i);
                let line = &p[from..to];
                let in_retry_condition = line.contains("<retry condition=");
                assert!(
                    line.contains("IndexOf(\"text/event-stream\", StringComparison.OrdinalIgnoreCase) >= 0 ? \"\" :")
                        // The retry reads the (JSON) error body of a 400, never a stream.
                        || (in_retry_condition && line.contains("context.Response.StatusCode == 400 && context.Response.Body")),
                    "{name}/{file}: unguarded read in {line}"
                );
            }
            // Token metrics are emitted for streams too (the policy counts streamed completions).
            if !r.bodies("diagnostics-applicationinsights").is_empty() {
                assert!(
                    p.contains("<azure-openai-emit-token-metric"),
                    "{name}/{file}"
                );
            }
        }
        // The API diagnostic logs no response body (it cannot tell a stream from an answer).
        for (file, d) in r.bodies("diagnostics") {
            for side in ["frontend", "backend"] {
                assert_eq!(
                    d["properties"][side]["response"]["body"]["bytes"], 0,
                    "{name}/{file} {side}"
                );
            }
        }
    }
    // `streaming: false` says no client streams: the diagnostic logs response bodies then,
    // and the policy still relays and checks each response.
    let dir = tempfile::tempdir().unwrap();
    let bp = dir.path().join("apim.yaml");
    std::fs::write(
        &bp,
        common::read(&common::example("apim"))
            .replace("  budget:\n", "  streaming: false\n  budget:\n"),
    )
    .unwrap();
    let r = render(&bp, &[]);
    let d = r.body("diagnostics-applicationinsights.http");
    assert_eq!(
        d["properties"]["frontend"]["response"]["body"]["bytes"],
        8192
    );
    assert!(r.policies["azure-openai.xml"].contains("buffer-response=\"false\""));
}

#[test]
fn a_policy_that_buffers_or_reads_a_stream_is_reported() {
    // A template override that buffers: AOAI013 at the forward-request, line and column.
    let tpl = common::read(&common::root().join("templates/policies/api.xml.hbs"))
        .replace(" buffer-response=\"false\" />", " />");
    let f = lint(
        "apim",
        &[],
        &["--templates", "tpl"],
        &[("tpl/policies/api.xml.hbs", &tpl)],
    );
    let got = located(&f, "AOAI013");
    assert_eq!(got.len(), 1, "{f:#?}");
    assert_eq!(got[0].0, "policies/azure-openai.xml");
    assert_eq!(got[0].2, 7, "the column of <forward-request");
    // A user's policy that reads the body of every response.
    let user = "<policies>\n  <inbound><base /></inbound>\n  <backend>\n    <forward-request buffer-request-body=\"true\" buffer-response=\"false\" />\n  </backend>\n  <outbound>\n    <base />\n    <set-variable name=\"b\" value=\"@(context.Response.Body.As<string>(preserveContent: true))\" />\n  </outbound>\n  <on-error><base /></on-error>\n</policies>\n";
    let f = lint("apim", &[], &["--policy", "p.xml"], &[("p.xml", user)]);
    let got = located(&f, "AOAI013");
    assert_eq!(got, vec![("p.xml".to_string(), 8, 35)], "{f:#?}");
}

#[test]
fn the_whole_responses_api_is_imported_and_follow_ups_reach_their_account() {
    let want = [
        ("v1-responses", "POST", "/v1/responses"),
        ("v1-responses-get", "GET", "/v1/responses/{response_id}"),
        (
            "v1-responses-delete",
            "DELETE",
            "/v1/responses/{response_id}",
        ),
        (
            "v1-responses-cancel",
            "POST",
            "/v1/responses/{response_id}/cancel",
        ),
        (
            "v1-responses-input-items",
            "GET",
            "/v1/responses/{response_id}/input_items",
        ),
    ];
    let mut with_responses = 0;
    for (name, r) in all() {
        let ops: Vec<(String, Value)> = r
            .bodies(".operations-")
            .into_iter()
            .map(|(k, v)| (k.clone(), v))
            .collect();
        let has = ops
            .iter()
            .any(|(k, _)| k.ends_with(".operations-v1-responses.http"));
        if !has {
            // Classic accounts: no v1 operations, and no follow-up routing in the policy.
            assert!(
                !r.policies.values().any(|p| p.contains("responseId")),
                "{name}"
            );
            continue;
        }
        with_responses += 1;
        for (op, method, url) in want {
            let (_, b) = ops
                .iter()
                .find(|(k, _)| k.ends_with(&format!(".operations-{op}.http")))
                .unwrap_or_else(|| panic!("{name}: no operation {op}"));
            assert_eq!(b["properties"]["method"], method, "{name} {op}");
            assert_eq!(b["properties"]["urlTemplate"], url, "{name} {op}");
            let params = b["properties"]["templateParameters"].as_array().unwrap();
            if url.contains("{response_id}") {
                assert_eq!(params.len(), 1, "{name} {op}");
                assert_eq!(params[0]["name"], "response_id");
                assert_eq!(params[0]["required"], true);
            } else {
                assert!(params.is_empty(), "{name} {op}");
            }
        }
        let backends = r
            .bodies(".backends-")
            .into_iter()
            .filter(|(_, b)| b["properties"]["type"] != "Pool")
            .count()
            / r.policies.len();
        for (file, p) in &r.policies {
            // The id: the path's response_id, or previous_response_id of a new response.
            assert!(
                p.contains(
                    "context.Request.MatchedParameters.GetValueOrDefault(\"response_id\", \"\")"
                ),
                "{name}/{file}"
            );
            assert!(
                p.contains("(string)body?[\"previous_response_id\"]"),
                "{name}/{file}"
            );
            // The remembered account first, then every other account until one knows the id.
            assert!(p.contains("<cache-lookup-value key=\"@(&quot;aoai-response-&quot;") || p.contains("<cache-lookup-value key=\"@(\"aoai-response-\" + context.Variables.GetValueOrDefault<string>(\"responseId\", \"\"))\" variable-name=\"responseBackend\""), "{name}/{file}");
            assert!(p.contains(&format!("(context.Response.StatusCode == 404 || (context.Response.StatusCode == 400 && context.Response.Body.As<string>(preserveContent: true).Contains(\"previous_response\"))) && context.Variables.GetValueOrDefault<int>(\"stateStep\") + 1 < {backends})")), "{name}/{file}");
            let count: usize = p
                .split("count=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert!(
                count + 1 >= backends,
                "{name}/{file}: {count} retries cannot ask {backends} accounts"
            );
            assert!(p.contains("<set-backend-service backend-id=\"@(context.Variables.GetValueOrDefault<string>(\"stateBackend\"))\" />"), "{name}/{file}");
            // The account that answered is remembered.
            assert!(p.contains("<set-variable name=\"cacheKey\" value=\"@(\"aoai-response-\" + context.Variables.GetValueOrDefault<string>(\"responseId\", \"\"))\" />\n        <set-variable name=\"cacheValue\" value=\"@(context.Variables.GetValueOrDefault<string>(\"stateBackend\", \"\"))\" />\n        <set-variable name=\"cacheSeconds\" value=\"@(86400)\" />"), "{name}/{file}");
        }
    }
    assert_eq!(
        with_responses, 2,
        "afd-apim-private and environments use AIServices accounts"
    );
}

/// A follow-up moves to another account only when its account does not know the id (404, or
/// 400 previous_response_not_found); a transient failure (429, 5xx) retries the same account.
/// The move resends the body, so a blueprint or policy that does not buffer it is AOAI049.
#[test]
fn transient_failures_keep_a_follow_up_on_its_account() {
    let mut seen = 0;
    for (name, r) in all() {
        for (file, p) in &r.policies {
            if !p.contains("stateBackend") {
                continue;
            }
            seen += 1;
            // The only step to the next account: the previous attempt answered 404 or 400.
            assert_eq!(
                p.matches("<set-variable name=\"stateStep\"").count(),
                2,
                "{name}/{file}"
            );
            assert!(p.contains("<set-variable name=\"stateStep\" value=\"@(context.Variables.GetValueOrDefault<int>(\"attempt\") > 1 && (context.Response.StatusCode == 404 || context.Response.StatusCode == 400) ? context.Variables.GetValueOrDefault<int>(\"stateStep\") + 1 : context.Variables.GetValueOrDefault<int>(\"stateStep\"))\" />"), "{name}/{file}");
            // The account is the remembered one moved by stateStep only, set after any pool
            // or rotation choice of the same attempt.
            let state = p.find("<set-backend-service backend-id=\"@(context.Variables.GetValueOrDefault<string>(\"stateBackend\"))\" />").unwrap();
            let forward = p.find("<forward-request").unwrap();
            assert!(state < forward, "{name}/{file}");
            assert!(
                !p[state + 1..forward].contains("<set-backend-service"),
                "{name}/{file}"
            );
            assert!(p.contains("return order[(first + context.Variables.GetValueOrDefault<int>(\"stateStep\")) % order.Length];"), "{name}/{file}");
            assert!(p.contains("buffer-request-body=\"true\""), "{name}/{file}");
        }
    }
    assert!(seen >= 2, "{seen}");
    // The blueprint turns off body buffering: a warning at the field.
    let text = common::read(&common::example("afd-apim-private"));
    let f = lint(
        "afd-apim-private",
        &[(
            "retry: { count: 1, interval: 0, on: transient }",
            "retry: { count: 1, interval: 0, on: transient, bufferRequestBody: false }",
        )],
        &[],
        &[],
    );
    let at = located(&f, "AOAI049");
    assert_eq!(at.len(), 1, "{f:#?}");
    assert_eq!(at[0].0, "apim.loadBalancing.retry.bufferRequestBody");
    assert_eq!(at[0].1, line_of(&text, "retry:"), "{f:#?}");
    let finding = f.iter().find(|f| f["rule"] == "AOAI049").unwrap();
    assert_eq!(finding["severity"], "warning");
    // Without a Responses API (classic accounts) the same setting is no AOAI049.
    let f = lint(
        "apim",
        &[("bufferRequestBody: true }", "bufferRequestBody: false }")],
        &[],
        &[],
    );
    assert!(located(&f, "AOAI049").is_empty(), "{f:#?}");
    // A user's policy that routes by previous_response_id and retries without buffering.
    let user = "<policies>\n  <inbound>\n    <base />\n    <set-variable name=\"responseId\" value=\"@((string)context.Request.Body.As&lt;JObject&gt;(preserveContent: true)[&quot;previous_response_id&quot;])\" />\n  </inbound>\n  <backend>\n    <retry condition=\"@(context.Response.StatusCode == 404)\" count=\"2\" interval=\"0\">\n      <forward-request buffer-response=\"false\" />\n    </retry>\n  </backend>\n  <outbound><base /></outbound>\n  <on-error><base /></on-error>\n</policies>\n";
    let f = lint("apim", &[], &["--policy", "p.xml"], &[("p.xml", user)]);
    assert_eq!(
        located(&f, "AOAI049"),
        vec![("p.xml".to_string(), 8, 7)],
        "{f:#?}"
    );
    let fixed = user.replace(
        "<forward-request ",
        "<forward-request buffer-request-body=\"true\" ",
    );
    let f = lint(
        "apim",
        &[],
        &["--policy", "p.xml"],
        &[("p.xml", fixed.as_str())],
    );
    assert!(located(&f, "AOAI049").is_empty(), "{f:#?}");
}

#[test]
fn every_gateway_names_who_may_call() {
    for (name, r) in all() {
        for (file, p) in &r.policies {
            let start = p
                .find("<validate-")
                .unwrap_or_else(|| panic!("{name}/{file}"));
            let end = p[start..].find("</validate-").unwrap() + start;
            let v = &p[start..end];
            assert!(
                v.contains("<client-application-ids>")
                    || v.contains("<claim name=\"roles\" match=\"any\">"),
                "{name}/{file}: {v}"
            );
        }
    }
}

#[test]
fn the_gateway_gives_up_before_front_door() {
    // The whole retry loop of every rendered policy ends before Front Door gives up: (count + 1)
    // attempts of the forward-request timeout, and the interval before each retry but the first.
    // An attribute after the element's start (no condition holds ` name="`).
    let attr = |p: &str, tag: &str, name: &str| -> u64 {
        let at = p.find(tag).unwrap_or_else(|| panic!("no {tag}"));
        let v = p[at..].split(&format!(" {name}=\"")).nth(1).unwrap();
        v[..v.find('"').unwrap()].parse().unwrap()
    };
    let mut behind = 0;
    for (name, r) in all() {
        // The profile itself (`profiles-<name>.http`), not one of its children.
        let afd = r
            .bodies("profiles-")
            .into_iter()
            .find(|(k, _)| k.starts_with("profiles-") && k.matches('.').count() == 1)
            .map(|(_, profile)| {
                profile["properties"]["originResponseTimeoutSeconds"]
                    .as_u64()
                    .unwrap()
            });
        for (file, p) in &r.policies {
            let timeout = attr(p, "<forward-request", "timeout");
            let count = attr(p, "<retry condition=", "count");
            let interval = attr(p, "<retry condition=", "interval");
            assert!(p.contains("first-fast-retry=\"true\""), "{name}/{file}");
            let worst = (count + 1) * timeout + count.saturating_sub(1) * interval;
            match afd {
                Some(afd) => {
                    behind += 1;
                    assert!(
                        worst < afd,
                        "{name}/{file}: {worst} s against Front Door's {afd} s"
                    );
                }
                None => assert_eq!(timeout, 230, "{name}/{file}"),
            }
        }
    }
    assert!(behind >= 2, "{behind}");
    // Unset behind Front Door, the timeout is derived from the retry settings: afd-apim-private
    // (Responses API over 3 accounts: 2 retries, interval 0) gets (240 - 1) / 3 = 79 s.
    let r = &all()
        .into_iter()
        .find(|(n, _)| *n == "afd-apim-private")
        .unwrap()
        .1;
    let p = &r.policies["azure-openai.xml"];
    assert!(p.contains("<forward-request timeout=\"79\""), "{p}");
    assert!(p.contains("count=\"2\" interval=\"0\""), "{p}");
    // Set in the blueprint: 2 attempts of 120 s are 240 s, not below Front Door's 240 s; the
    // finding is at the timeout and names what fits.
    let f = lint(
        "afd-apim",
        &[("timeoutSeconds: 110", "timeoutSeconds: 120")],
        &[],
        &[],
    );
    let line = line_of(
        &common::read(&common::example("afd-apim")),
        "timeoutSeconds:",
    );
    assert_eq!(
        located(&f, "AOAI044"),
        vec![("apim.timeoutSeconds".to_string(), line, 19)],
        "{f:#?}"
    );
    let m = message(&f, "AOAI044");
    assert!(
        m.contains("240 s") && m.contains("at most 119 s per attempt fits"),
        "{m}"
    );
    // Too many retries for the set timeout: the same finding.
    let f = lint(
        "afd-apim",
        &[(
            "retry: { count: 1, interval: 0",
            "retry: { count: 3, interval: 0",
        )],
        &[],
        &[],
    );
    assert_eq!(located(&f, "AOAI044").len(), 1, "{f:#?}");
    let m = message(&f, "AOAI044");
    assert!(
        m.contains("4 attempts x 110 s") && m.contains("at most 59 s per attempt fits"),
        "{m}"
    );
    // A shorter Front Door timeout: the same finding.
    let f = lint(
        "afd-apim",
        &[("originTimeoutSeconds: 240", "originTimeoutSeconds: 200")],
        &[],
        &[],
    );
    assert_eq!(located(&f, "AOAI044").len(), 1, "{f:#?}");
    // Derived, but even 1 s per attempt does not fit: at the retry count.
    let f = lint(
        "afd-apim",
        &[
            ("  timeoutSeconds: 110", ""),
            (
                "retry: { count: 1, interval: 0",
                "retry: { count: 10, interval: 30",
            ),
        ],
        &[],
        &[],
    );
    let at = located(&f, "AOAI044");
    assert_eq!(at.len(), 1, "{f:#?}");
    assert_eq!(at[0].0, "apim.loadBalancing.retry.count", "{f:#?}");
    // A user's forward-request without a timeout waits 300 s (its default).
    let user = "<policies>\n  <inbound>\n    <base />\n    <check-header name=\"X-Azure-FDID\" failed-check-httpcode=\"403\" failed-check-error-message=\"no\">\n      <value>{{front-door-id}}</value>\n    </check-header>\n  </inbound>\n  <backend>\n    <forward-request buffer-request-body=\"true\" buffer-response=\"false\" />\n  </backend>\n  <outbound><base /></outbound>\n  <on-error><base /></on-error>\n</policies>\n";
    let f = lint("afd-apim", &[], &["--policy", "p.xml"], &[("p.xml", user)]);
    assert_eq!(
        located(&f, "AOAI044"),
        vec![("p.xml".to_string(), 9, 5)],
        "{f:#?}"
    );
    let m = f.iter().find(|f| f["rule"] == "AOAI044").unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        m.contains("300 s (its default)") && m.contains("240 s"),
        "{m}"
    );
    // Out of range for the policy's timeout.
    let dir = tempfile::tempdir().unwrap();
    let bp = dir.path().join("afd-apim.yaml");
    std::fs::write(
        &bp,
        common::read(&common::example("afd-apim"))
            .replace("timeoutSeconds: 110", "timeoutSeconds: 300"),
    )
    .unwrap();
    let out = common::bin()
        .arg("render")
        .arg(&bp)
        .arg("--out")
        .arg(dir.path().join("o"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("= field: apim.timeoutSeconds") && err.contains("allowed: 1-240"),
        "{err}"
    );
}

#[test]
fn token_metrics_have_bounded_dimensions_only() {
    for (name, r) in all() {
        for (file, p) in &r.policies {
            assert!(!p.contains("name=\"Caller\""), "{name}/{file}");
            let Some(start) = p.find("<azure-openai-emit-token-metric") else {
                continue;
            };
            let end = p.find("</azure-openai-emit-token-metric>").unwrap();
            let dims: Vec<&str> = p[start..end]
                .lines()
                .filter(|l| l.contains("<dimension"))
                .map(str::trim)
                .collect();
            assert_eq!(
                dims,
                vec![
                    "<dimension name=\"API ID\" />",
                    "<dimension name=\"Operation ID\" />",
                    "<dimension name=\"Region\" value=\"@(context.Deployment.Region)\" />",
                    // The deployment the request names, known to the gateway (emitted after
                    // its 404 for any other name), or "none": bounded by the deployments.
                    "<dimension name=\"Deployment\" value=\"@(context.Variables.GetValueOrDefault<string>(\"deployment\", \"\") != \"\" ? context.Variables.GetValueOrDefault<string>(\"deployment\", \"\") : \"none\")\" />",
                ],
                "{name}/{file}"
            );
        }
    }
    // A user's per-caller dimension is reported where it is.
    let user = "<policies>\n  <inbound>\n    <base />\n    <set-header name=\"api-key\" exists-action=\"delete\" />\n    <azure-openai-emit-token-metric namespace=\"x\">\n      <dimension name=\"User\" value=\"@(((Jwt)context.Variables[&quot;jwt&quot;]).Claims.GetValueOrDefault(&quot;oid&quot;, &quot;&quot;))\" />\n    </azure-openai-emit-token-metric>\n  </inbound>\n  <backend><forward-request buffer-request-body=\"true\" buffer-response=\"false\" /></backend>\n  <outbound><base /></outbound>\n  <on-error><base /></on-error>\n</policies>\n";
    let f = lint("apim", &[], &["--policy", "p.xml"], &[("p.xml", user)]);
    assert_eq!(
        located(&f, "AOAI045"),
        vec![("p.xml".to_string(), 6, 7)],
        "{f:#?}"
    );
}

#[test]
fn the_round_robin_skips_backends_that_answered_429_or_5xx() {
    let r = render(&common::example("afd-apim"), &[]);
    let p = &r.policies["azure-openai.xml"];
    // Read once per request; written when an attempt failed (before the next attempt) and
    // when the last attempt failed (outbound), with the backend's Retry-After (else 30 s).
    assert_eq!(
        p.matches("<cache-lookup-value key=\"aoai-rr-tripped\"")
            .count(),
        1,
        "{p}"
    );
    // (outbound stores once: cache-store-value may appear once per section)
    assert_eq!(
        p.matches("<cache-store-value key=\"aoai-rr-tripped\"")
            .count(),
        1,
        "{p}"
    );
    assert!(
        p.contains("<set-variable name=\"cacheKey\" value=\"aoai-rr-tripped\" />"),
        "{p}"
    );
    let backend = &p[p.find("<backend>").unwrap()..p.find("</backend>").unwrap()];
    let outbound = &p[p.find("<outbound>").unwrap()..p.find("</outbound>").unwrap()];
    for section in [backend, outbound] {
        assert!(section
            .contains("context.Response.StatusCode == 429 || context.Response.StatusCode >= 500"));
        assert!(section.contains("int.TryParse(context.Response.Headers.GetValueOrDefault(\"Retry-After\", \"\"), out retryAfter)"));
        assert!(section.contains("seconds = Math.Max(1, Math.Min(retryAfter, 300));"));
        assert!(section.contains("var seconds = 30;"));
    }
    // The selection walks the rotation and skips a backend whose time has not passed.
    assert!(backend.contains("if (kv.Length == 2 && kv[0] == candidate && long.Parse(kv[1]) > now) {\n                      skip = true;"), "{backend}");
    assert!(backend.contains("<set-backend-service backend-id=\"@(context.Variables.GetValueOrDefault<string>(\"rrBackend\"))\" />"));
    // The selection runs after the failure is recorded, in the same attempt.
    assert!(backend.find("aoai-rr-tripped").unwrap() < backend.find("name=\"rrBackend\"").unwrap());
}

#[test]
fn retries_leave_the_pools_own_503_alone_and_transient_is_429_and_5xx() {
    let readme = common::read(&common::root().join("docs/reference.md"));
    assert!(
        readme.contains("`on: transient` retries 429 and every 5xx a backend answers"),
        "README promise"
    );
    for (name, r) in all() {
        for (file, p) in &r.policies {
            let line = p.lines().find(|l| l.contains("<retry condition=")).unwrap();
            assert!(
                line.contains(
                    "@((context.Response.StatusCode == 429 || context.Response.StatusCode >= 500)"
                ),
                "{name}/{file}: {line}"
            );
            let pools = r
                .bodies(".backends-")
                .iter()
                .any(|(_, b)| b["properties"]["type"] == "Pool");
            // The pool's own 503 is told apart by what only a backend's answer has (Azure
            // OpenAI's apim-request-id), not by its status reason, whose text has changed.
            let p503 = "&& !(context.Response.StatusCode == 503 && !context.Response.Headers.ContainsKey(\"apim-request-id\"))";
            assert!(!line.contains("StatusReason"), "{name}/{file}: {line}");
            let uses_pool = p.contains("<set-backend-service backend-id=\"aoai-pool");
            assert_eq!(line.contains(p503), uses_pool, "{name}/{file}: {line}");
            if uses_pool {
                assert!(pools, "{name}");
            }
        }
    }
    // any-error: every status >= 400, still not the pool's own 503.
    let dir = tempfile::tempdir().unwrap();
    let bp = dir.path().join("apim.yaml");
    std::fs::write(
        &bp,
        common::read(&common::example("apim")).replace("on: transient", "on: any-error"),
    )
    .unwrap();
    let p = &render(&bp, &[]).policies["azure-openai.xml"];
    assert!(p.contains("<retry condition=\"@((context.Response.StatusCode >= 400) && !(context.Response.StatusCode == 503 && !context.Response.Headers.ContainsKey(\"apim-request-id\"))"), "{p}");
    // A user's retry on 503 through the blueprint's pool is reported at the retry.
    let user = "<policies>\n  <inbound>\n    <base />\n    <set-header name=\"api-key\" exists-action=\"delete\" />\n    <set-backend-service backend-id=\"aoai-pool\" />\n  </inbound>\n  <backend>\n    <retry condition=\"@(context.Response.StatusCode == 429 || context.Response.StatusCode == 503)\" count=\"2\" interval=\"1\">\n      <forward-request buffer-request-body=\"true\" buffer-response=\"false\" />\n    </retry>\n  </backend>\n  <outbound><base /></outbound>\n  <on-error><base /></on-error>\n</policies>\n";
    let f = lint("apim", &[], &["--policy", "p.xml"], &[("p.xml", user)]);
    assert_eq!(
        located(&f, "AOAI047"),
        vec![("p.xml".to_string(), 8, 5)],
        "{f:#?}"
    );
    // Excluded by the missing apim-request-id (or, in older policies, by the status reason).
    for exclusion in [
        "!context.Response.Headers.ContainsKey(&quot;apim-request-id&quot;)",
        "!context.Response.StatusReason.Contains(&quot;Backend pool&quot;)",
    ] {
        let fixed = user.replace(
            "context.Response.StatusCode == 503)\"",
            &format!("(context.Response.StatusCode == 503 &amp;&amp; {exclusion}))\""),
        );
        assert_ne!(fixed, user);
        let f = lint(
            "apim",
            &[],
            &["--policy", "p.xml"],
            &[("p.xml", fixed.as_str())],
        );
        assert!(located(&f, "AOAI047").is_empty(), "{exclusion}: {f:#?}");
    }
    // The health operation's retry leaves it alone too.
    let r = render(&common::example("afd-apim"), &[]);
    let health = r
        .policies
        .values()
        .cloned()
        .chain(
            r.bodies("")
                .into_iter()
                .filter_map(|(_, b)| b["properties"]["value"].as_str().map(str::to_string)),
        )
        .find(|p| p.contains("No local account can serve"))
        .expect("the health policy");
    assert!(health.contains("!(context.Response.StatusCode == 503 && !context.Response.Headers.ContainsKey(\"apim-request-id\"))"), "{health}");
}

#[test]
fn a_client_sent_caller_header_reaches_no_log_and_no_metric() {
    for (name, r) in all() {
        for (file, p) in &r.policies {
            // Removed first, set from the validated token, read nowhere else.
            let delete = p
                .find("<set-header name=\"caller-objectid\" exists-action=\"delete\" />")
                .unwrap_or_else(|| panic!("{name}/{file}"));
            let validate = p.find("<validate-").unwrap();
            let set = p
                .find("<set-header name=\"caller-objectid\" exists-action=\"override\">")
                .unwrap();
            assert!(delete < validate && validate < set, "{name}/{file}");
            assert_eq!(
                p.matches("caller-objectid").count(),
                3,
                "{name}/{file}: the comment, the delete and the override only"
            );
            if p.contains("<log-to-eventhub") {
                assert!(p.contains("new JProperty(\"caller\", context.Variables.ContainsKey(\"jwt\") ? ((Jwt)context.Variables[\"jwt\"]).Claims.GetValueOrDefault(\"oid\", \"\") : \"\")"), "{name}/{file}");
            }
        }
        // The diagnostic logs the header of the backend request (the gateway's), not the client's.
        for (file, d) in r.bodies("diagnostics") {
            // Behind Front Door the frontend request logs Front Door's client address headers
            // (tests/edge.rs), never the caller header.
            let frontend = d["properties"]["frontend"]["request"]["headers"]
                .as_array()
                .unwrap();
            assert!(
                frontend
                    .iter()
                    .all(|h| !h.as_str().unwrap().eq_ignore_ascii_case("caller-objectid")),
                "{name}/{file}"
            );
            assert_eq!(
                d["properties"]["backend"]["request"]["headers"],
                serde_json::json!(["caller-objectid"]),
                "{name}/{file}"
            );
        }
    }
    // Logging the frontend header (a template override) is an error at the blueprint field.
    let tpl = common::read(&common::root().join("templates/arm/apim-api-diagnostic.json.hbs"))
        .replace(
            "\"frontend\": {\n      \"request\": { \"headers\": {{json r.frontendHeaders}}",
            "\"frontend\": {\n      \"request\": { \"headers\": {{json r.headers}}",
        );
    assert!(tpl.contains("\"frontend\": {\n      \"request\": { \"headers\": {{json r.headers}}"));
    let f = lint(
        "apim",
        &[],
        &["--templates", "tpl"],
        &[("tpl/arm/apim-api-diagnostic.json.hbs", &tpl)],
    );
    let line = line_of(&common::read(&common::example("apim")), "callerHeader:");
    assert_eq!(
        located(&f, "AOAI046"),
        vec![("apim.jwt.callerHeader".to_string(), line, 19)],
        "{f:#?}"
    );
    // A user's policy that reads the header before the gateway sets it.
    let user = "<policies>\n  <inbound>\n    <base />\n    <set-header name=\"api-key\" exists-action=\"delete\" />\n    <set-variable name=\"who\" value=\"@(context.Request.Headers.GetValueOrDefault(&quot;caller-objectid&quot;, &quot;&quot;))\" />\n    <set-header name=\"caller-objectid\" exists-action=\"override\">\n      <value>x</value>\n    </set-header>\n  </inbound>\n  <backend><forward-request buffer-request-body=\"true\" buffer-response=\"false\" /></backend>\n  <outbound><base /></outbound>\n  <on-error><base /></on-error>\n</policies>\n";
    let f = lint("apim", &[], &["--policy", "p.xml"], &[("p.xml", user)]);
    assert_eq!(
        located(&f, "AOAI046"),
        vec![("p.xml".to_string(), 5, 37)],
        "{f:#?}"
    );
}

#[test]
fn the_environments_example_lints_clean_too() {
    let env = common::root().join("blueprints/environments");
    for file in ["env/dev.yaml", "env/prod.yaml"] {
        let out = common::bin()
            .arg("lint")
            .arg(env.join("gateway.yaml"))
            .arg("--var-file")
            .arg(env.join(file))
            .args(["--format", "json", "--deny", "warnings"])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let active: Vec<&Value> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["allowed"].is_null())
            .collect();
        assert!(active.is_empty(), "{file}: {active:#?}");
        assert_eq!(out.status.code(), Some(0), "{file}");
    }
}

/// Round robin and the Responses API together: both remember something in outbound, and
/// cache-store-value may appear only once per section (Learn, usage notes): one store.
#[test]
fn round_robin_with_the_responses_api_stores_once_per_section() {
    let dir = tempfile::tempdir().unwrap();
    let bp = dir.path().join("afd-apim-private.yaml");
    let text = common::read(&common::example("afd-apim-private"));
    assert!(text.contains("    mode: pool\n"));
    std::fs::write(
        &bp,
        text.replace("    mode: pool\n", "    mode: round-robin\n"),
    )
    .unwrap();
    let r = render(&bp, &[]);
    for (file, p) in &r.policies {
        for section in ["inbound", "backend", "outbound"] {
            let body = &p[p.find(&format!("<{section}>")).unwrap()
                ..p.find(&format!("</{section}>")).unwrap()];
            assert!(
                body.matches("<cache-store-value").count() <= 1,
                "{file} {section}"
            );
        }
        assert!(
            p.contains("<set-variable name=\"cacheKey\" value=\"aoai-rr-tripped\" />"),
            "{file}"
        );
        assert!(
            p.contains("<set-variable name=\"cacheSeconds\" value=\"@(86400)\" />"),
            "{file}"
        );
    }
    let out = common::bin()
        .arg("lint")
        .arg(&bp)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "APIM001"),
        "{v:#}"
    );
    // Two stores in one section are a policy error (APIM001) at the second.
    let user = "<policies>\n  <inbound>\n    <base />\n    <cache-store-value key=\"a\" value=\"1\" duration=\"60\" />\n    <cache-store-value key=\"b\" value=\"1\" duration=\"60\" />\n  </inbound>\n  <backend><forward-request buffer-response=\"false\" /></backend>\n  <outbound><cache-store-value key=\"c\" value=\"1\" duration=\"60\" /></outbound>\n  <on-error><base /></on-error>\n</policies>\n";
    let f = lint("apim", &[], &["--policy", "p.xml"], &[("p.xml", user)]);
    let got: Vec<(u64, u64)> = f
        .iter()
        .filter(|f| f["rule"] == "APIM001" && f["location"]["file"] == "p.xml")
        .map(|f| {
            (
                f["location"]["line"].as_u64().unwrap(),
                f["location"]["column"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, vec![(5, 5)], "{f:#?}");
}
