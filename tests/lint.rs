//! Every lint rule has a blueprint (or policy) that triggers it and one that does not, through
//! the binary; plus the three output formats and `--deny warnings`.

mod common;

use serde_json::Value;

struct Run {
    code: Option<i32>,
    findings: Vec<Value>,
    stderr: String,
}

fn lint(base: &str, edits: &[(&str, &str)], extra: &[&str], files: &[(&str, &str)]) -> Run {
    let mut text = common::read(&common::example(base));
    for (from, to) in edits {
        assert!(text.contains(from), "`{from}` not in {base}");
        text = text.replacen(from, to, 1);
    }
    let dir = tempfile::tempdir().unwrap();
    let bp = dir.path().join(format!("{base}.yaml"));
    std::fs::write(&bp, text).unwrap();
    for (name, content) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    let out = common::bin()
        .current_dir(dir.path())
        .arg("lint")
        .arg(&bp)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let findings = serde_json::from_str::<Value>(&stdout)
        .ok()
        .and_then(|v| v["findings"].as_array().cloned())
        .unwrap_or_default();
    Run {
        code: out.status.code(),
        findings,
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    }
}

fn active(r: &Run, rule: &str) -> bool {
    r.findings
        .iter()
        .any(|f| f["rule"] == rule && f["allowed"].is_null())
}

fn policy_with(body: &str) -> String {
    format!("<policies>\n  <inbound>\n    <base />\n{body}\n  </inbound>\n  <backend>\n    <forward-request buffer-request-body=\"true\" />\n  </backend>\n  <outbound><base /></outbound>\n  <on-error><base /></on-error>\n</policies>\n")
}

#[test]
fn examples_have_no_active_findings() {
    for name in common::EXAMPLES {
        let r = lint(name, &[], &[], &[]);
        let active: Vec<&Value> = r
            .findings
            .iter()
            .filter(|f| f["allowed"].is_null())
            .collect();
        assert!(active.is_empty(), "{name}: {active:#?}\n{}", r.stderr);
        assert_eq!(r.code, Some(0), "{name}: {}", r.stderr);
    }
    // afd-apim allows AOAI007 with a reason: reported, not active.
    let r = lint("afd-apim", &[], &[], &[]);
    assert!(r
        .findings
        .iter()
        .any(|f| f["rule"] == "AOAI007" && f["allowed"].is_string()));
}

#[test]
fn each_rule_triggers() {
    let region_override = policy_with(
        "    <choose>\n      <when condition=\"@(context.Deployment.Region == &quot;westeurope&quot;)\">\n        <set-backend-service backend-id=\"aoai-pool-westeurope\" />\n      </when>\n    </choose>",
    );
    let partial_routing = policy_with(
        "    <choose>\n      <when condition=\"@(context.Deployment.Region == &quot;East US 2&quot;)\">\n        <set-backend-service backend-id=\"a\" />\n      </when>\n      <when condition=\"@(context.Deployment.Region == &quot;West Europe&quot;)\">\n        <set-backend-service backend-id=\"b\" />\n      </when>\n    </choose>",
    );
    let misspelled = policy_with(
        "    <set-headr name=\"x\" exists-action=\"override\"><value>1</value></set-headr>",
    );
    let local_auth = common::read(&common::root().join("templates/arm/aoai-account.json.hbs"))
        .replace("{{json m.disableLocalAuth}}", "false");
    let buffered = common::read(&common::root().join("templates/policies/api.xml.hbs")).replace(
        "{{#if m.apim.streaming}} buffer-response=\"false\"{{/if}}",
        "",
    );
    type Case<'a> = (
        &'a str,
        &'a str,
        Vec<(&'a str, &'a str)>,
        Vec<&'a str>,
        Vec<(&'a str, &'a str)>,
    );
    let cases: Vec<Case> = vec![
        (
            "AOAI001",
            "afd",
            vec![("path: /status-0123456789abcdef", "path: /")],
            vec![],
            vec![],
        ),
        (
            "AOAI002",
            "afd",
            vec![(
                "  originTimeoutSeconds: 240",
                "  originTimeoutSeconds: 240\n  privateLink: true",
            )],
            vec![],
            vec![],
        ),
        (
            "AOAI003",
            "afd-apim",
            vec![],
            vec!["--policy", "p.xml"],
            vec![("p.xml", region_override.as_str())],
        ),
        (
            "AOAI004",
            "apim",
            vec![("on: transient", "on: any-error")],
            vec![],
            vec![],
        ),
        (
            "AOAI005",
            "apim",
            vec![("count: 2,", "count: 1,")],
            vec![],
            vec![],
        ),
        (
            "AOAI006",
            "apim",
            vec![("bufferRequestBody: true", "bufferRequestBody: false")],
            vec![],
            vec![],
        ),
        (
            "AOAI007",
            "afd-apim",
            vec![("    - rule: AOAI007\n", "    - rule: AOAI001\n")],
            vec![],
            vec![],
        ),
        (
            "AOAI008",
            "apim",
            vec![],
            vec!["--templates", "tpl"],
            vec![("tpl/arm/aoai-account.json.hbs", local_auth.as_str())],
        ),
        (
            "AOAI009",
            "apim",
            vec![(
                "    tenantId: 00000000-0000-0000-0000-00000000aaaa\n    clientId: 00000000-0000-0000-0000-0000000a0001\n    appIdUri: api://aoai-gateway\n    tokenVersions: [v1, v2]\n",
                "    openidConfig: https://login.microsoftonline.com/00000000-0000-0000-0000-00000000aaaa/v2.0/.well-known/openid-configuration\n",
            )],
            vec![],
            vec![],
        ),
        (
            "AOAI010",
            "apim",
            vec![(
                "publicNetworkAccess: Disabled",
                "publicNetworkAccess: Enabled",
            )],
            vec![],
            vec![],
        ),
        (
            "AOAI011",
            "afd-apim",
            vec![(
                "sku: { name: Premium, capacity: 1 }",
                "sku: { name: Standard, capacity: 1 }",
            )],
            vec![],
            vec![],
        ),
        (
            "AOAI012",
            "afd",
            vec![(
                "region: swedencentral }",
                "region: swedencentral, deploymentName: gpt4o }",
            )],
            vec![],
            vec![],
        ),
        (
            "AOAI013",
            "afd-apim",
            vec![],
            vec!["--templates", "tpl"],
            vec![("tpl/policies/api.xml.hbs", buffered.as_str())],
        ),
        (
            "AOAI014",
            "afd-apim",
            vec![],
            vec!["--policy", "p.xml"],
            vec![("p.xml", partial_routing.as_str())],
        ),
        (
            "AOAI015",
            "afd",
            vec![("originTimeoutSeconds: 240", "originTimeoutSeconds: 60")],
            vec![],
            vec![],
        ),
        (
            "APIM001",
            "apim",
            vec![],
            vec!["--policy", "p.xml"],
            vec![("p.xml", misspelled.as_str())],
        ),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (rule, base, edits, extra, files) in &cases {
        let r = lint(base, edits, extra, files);
        assert!(
            active(&r, rule),
            "{rule} not triggered: {:#?}\n{}",
            r.findings,
            r.stderr
        );
        let f = r.findings.iter().find(|f| f["rule"] == *rule).unwrap();
        for key in ["reason", "help", "docs", "message"] {
            assert!(
                f[key].as_str().is_some_and(|s| !s.is_empty()),
                "{rule}: no {key}"
            );
        }
        assert!(f["location"]["line"].as_u64().unwrap() >= 1);
        if f["severity"] == "error" {
            assert_eq!(r.code, Some(1), "{rule}: errors fail lint");
        }
        seen.insert(rule.to_string());
    }
    // The catalogue and the tests agree.
    let out = common::bin().args(["lint", "--help"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(seen.len(), 16);
}

#[test]
fn misspelled_policy_element_points_at_its_line() {
    let p = policy_with(
        "    <set-headr name=\"x\" exists-action=\"override\"><value>1</value></set-headr>",
    );
    let r = lint(
        "apim",
        &[],
        &["--policy", "p.xml"],
        &[("p.xml", p.as_str())],
    );
    let f = r.findings.iter().find(|f| f["rule"] == "APIM001").unwrap();
    assert_eq!(f["location"]["file"], "p.xml");
    assert_eq!(f["location"]["line"], 4);
    assert!(f["message"].as_str().unwrap().contains("set-headr"), "{f}");
}

#[test]
fn formats_and_deny_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let bp = dir.path().join("afd.yaml");
    std::fs::write(
        &bp,
        common::read(&common::example("afd"))
            .replace("originTimeoutSeconds: 240", "originTimeoutSeconds: 60"),
    )
    .unwrap();
    let run = |args: &[&str]| {
        common::bin()
            .arg("lint")
            .arg(&bp)
            .args(args)
            .output()
            .unwrap()
    };
    let human = run(&[]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("warning[AOAI015]: origin timeout of 60 s"),
        "{text}"
    );
    assert!(text.contains(&format!("--> {}:", bp.display())), "{text}");
    assert!(
        text.contains("= reason: ")
            && text.contains("= help: ")
            && text.contains("= docs: https://"),
        "{text}"
    );
    assert_eq!(human.status.code(), Some(0), "warnings alone pass");
    assert_eq!(run(&["--deny", "warnings"]).status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&run(&["--format", "sarif"]).stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results
        .iter()
        .any(|r| r["ruleId"] == "AOAI015" && r["level"] == "warning"));
    assert!(
        sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len()
            >= 16
    );
}

#[test]
fn readme_table_lists_every_rule_as_the_binary_has_it() {
    let readme = common::read(&common::root().join("README.md"));
    for r in aoai_arch::lint::RULES {
        let severity = format!("{:?}", r.severity).to_lowercase();
        let row = format!("| [{}]({}) | `{}` | {severity} |", r.id, r.docs, r.name);
        assert!(readme.contains(&row), "README has no row `{row} ...`");
    }
}
