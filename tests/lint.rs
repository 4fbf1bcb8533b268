//! Every lint rule has a blueprint (or policy) that triggers it and one that does not, through
//! the binary; plus the three output formats and `--deny warnings`.

mod common;

use serde_json::Value;

use common::{lint_example as lint, LintRun as Run};

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
    let buffered = common::read(&common::root().join("templates/policies/api.xml.hbs"))
        .replace(" buffer-response=\"false\" />", "");
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
    let readme = common::read(&common::root().join("docs/reference.md"));
    for r in aoai_arch::lint::RULES {
        let severity = format!("{:?}", r.severity).to_lowercase();
        let row = format!("| [{}]({}) | `{}` | {severity} |", r.id, r.docs, r.name);
        assert!(readme.contains(&row), "README has no row `{row} ...`");
    }
}

/// `lint --policy DIR` without a blueprint: Microsoft's round-robin policy from the API
/// Management blog (rewritten with its three mistakes) and seeded variants, each finding at its
/// exact line and column; the fixed version is clean.
#[test]
fn policies_alone_from_a_folder() {
    let corpus = common::root().join("crates/apim-policy/tests/corpus/lint");
    let out = common::bin()
        .args(["lint", "--format", "json", "--policy"])
        .arg(&corpus)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let got: Vec<(String, String, u64, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["location"]["file"].as_str().unwrap();
            (
                file.rsplit('/').next().unwrap().to_string(),
                f["rule"].as_str().unwrap().to_string(),
                f["location"]["line"].as_u64().unwrap(),
                f["location"]["column"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(&str, &str, u64, u64)> = vec![
        ("01-blog-round-robin.xml", "AOAI007", 6, 9),
        ("01-blog-round-robin.xml", "AOAI048", 6, 9),
        ("01-blog-round-robin.xml", "AOAI040", 25, 38),
        ("01-blog-round-robin.xml", "AOAI004", 33, 29),
        (
            "02-seeded-retry-count-buffer-relative-url.xml",
            "AOAI007",
            5,
            9,
        ),
        (
            "02-seeded-retry-count-buffer-relative-url.xml",
            "AOAI048",
            5,
            9,
        ),
        (
            "02-seeded-retry-count-buffer-relative-url.xml",
            "AOAI040",
            19,
            38,
        ),
        (
            "02-seeded-retry-count-buffer-relative-url.xml",
            "AOAI005",
            32,
            104,
        ),
        (
            "02-seeded-retry-count-buffer-relative-url.xml",
            "AOAI006",
            33,
            13,
        ),
        ("03-seeded-region-arm-name.xml", "AOAI031", 6, 30),
        ("03-seeded-region-arm-name.xml", "AOAI003", 6, 67),
        ("04-seeded-streaming-body-read.xml", "AOAI013", 12, 54),
        ("05-seeded-semantic-cache.xml", "AOAI041", 5, 9),
        ("05-seeded-semantic-cache.xml", "AOAI042", 5, 9),
        ("07-seeded-too-many-dimensions.xml", "AOAI043", 16, 13),
        ("08-seeded-jwt-token-versions.xml", "AOAI030", 5, 9),
        ("08-seeded-jwt-token-versions.xml", "AOAI036", 5, 9),
        ("09-seeded-unbounded-dimensions.xml", "AOAI045", 7, 13),
        ("09-seeded-unbounded-dimensions.xml", "AOAI045", 8, 13),
        ("10-seeded-streaming-cache.xml", "AOAI013", 12, 9),
        ("10-seeded-streaming-cache.xml", "AOAI013", 13, 9),
        ("11-seeded-any-principal.xml", "AOAI036", 5, 9),
    ];
    let want: Vec<(String, String, u64, u64)> = want
        .into_iter()
        .map(|(f, r, l, c)| (f.to_string(), r.to_string(), l, c))
        .collect();
    assert_eq!(got, want);
    assert_eq!(out.status.code(), Some(1), "AOAI040 is an error");

    // One file, human output: the blog policy no longer lints clean.
    let out = common::bin()
        .args(["lint", "--policy"])
        .arg(corpus.join("01-blog-round-robin.xml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("lint: 1 errors, 3 warnings")
            && text.contains("01-blog-round-robin.xml:33:29"),
        "{text}"
    );
    // SARIF for code scanning: the same positions.
    let out = common::bin()
        .args(["lint", "--format", "sarif", "--policy"])
        .arg(corpus.join("01-blog-round-robin.xml"))
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "AOAI004")
        .unwrap();
    let region = &r["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(33), Some(29))
    );
    // The fixed policy passes, even with warnings denied.
    let out = common::bin()
        .args(["lint", "--deny", "warnings", "--policy"])
        .arg(corpus.join("06-fixed-backend-pool.xml"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// With a blueprint, a user policy gets the same policy rules.
#[test]
fn user_policy_with_a_blueprint_gets_the_policy_rules() {
    let blog = common::read(
        &common::root().join("crates/apim-policy/tests/corpus/lint/01-blog-round-robin.xml"),
    );
    let r = lint(
        "apim",
        &[],
        &["--policy", "p.xml"],
        &[("p.xml", blog.as_str())],
    );
    for rule in ["AOAI004", "AOAI007", "AOAI040"] {
        assert!(
            r.findings
                .iter()
                .any(|f| f["rule"] == rule && f["location"]["file"] == "p.xml"),
            "{rule}: {:#?}",
            r.findings
        );
    }
    assert_eq!(r.code, Some(1));
}

#[test]
fn policy_folder_without_xml_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::bin()
        .args(["lint", "--policy"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no *.xml file"));
    // The blueprint after --policy is taken for a policy: said plainly.
    let out = common::bin()
        .args(["lint", "--policy", "p.xml"])
        .arg(common::example("apim"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("put the blueprint before --policy"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Neither a blueprint nor a policy: a usage error, exit 1 (2 means "changes" elsewhere).
    let out = common::bin().arg("lint").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// A blueprint that fails validation or does not even parse: each error is a finding with its
/// file, line and column in every format, and the count says so.
#[test]
fn validation_and_parse_errors_are_findings() {
    let dir = tempfile::tempdir().unwrap();
    let text = common::read(&common::example("apim"));
    let invalid = dir.path().join("invalid.yaml");
    // Two validation errors: a bad region and a service name Azure refuses.
    assert!(text.contains("location: swedencentral") && text.contains("name: apim-aoai-gw"));
    std::fs::write(
        &invalid,
        text.replacen("location: swedencentral", "location: sweden-central", 1)
            .replacen("name: apim-aoai-gw", "name: apim_aoai_gw", 1),
    )
    .unwrap();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, text.replacen("pattern: apim", "pattern: [apim", 1)).unwrap();
    let run = |bp: &std::path::Path, format: &str| {
        let o = common::bin()
            .arg("lint")
            .arg(bp)
            .args(["--format", format])
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).to_string(),
        )
    };
    let line_of = |needle: &str| {
        common::read(&invalid)
            .lines()
            .position(|l| l.contains(needle))
            .unwrap() as u64
            + 1
    };

    let (code, human) = run(&invalid, "human");
    assert_eq!(code, Some(1));
    assert!(human.contains("lint: 2 errors"), "{human}");
    assert!(human.contains("error[BP001]"), "{human}");
    assert!(
        human.contains(&format!("invalid.yaml:{}:", line_of("sweden-central"))),
        "{human}"
    );

    let (_, json) = run(&invalid, "json");
    let v: Value = serde_json::from_str(&json).unwrap();
    let bp: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "BP001")
        .collect();
    assert_eq!(bp.len(), 2, "{json}");
    assert!(bp.iter().any(|f| f["location"]["field"] == "location"
        && f["location"]["line"] == line_of("sweden-central")));
    assert!(bp
        .iter()
        .any(|f| f["location"]["line"] == line_of("apim_aoai_gw")));

    let (code, sarif) = run(&invalid, "sarif");
    assert_eq!(code, Some(1));
    let s: Value = serde_json::from_str(&sarif).unwrap();
    let results = s["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "BP001"
        && r["level"] == "error"
        && r["locations"][0]["physicalLocation"]["region"]["startLine"]
            == line_of("sweden-central")));

    // A YAML syntax error: SARIF is not empty, the finding is at the file and line.
    let (code, sarif) = run(&broken, "sarif");
    assert_eq!(code, Some(1));
    let s: Value = serde_json::from_str(&sarif).unwrap();
    let r = &s["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "BP001", "{sarif}");
    let loc = &r["locations"][0]["physicalLocation"];
    assert!(loc["artifactLocation"]["uri"]
        .as_str()
        .unwrap()
        .ends_with("broken.yaml"));
    assert!(loc["region"]["startLine"].as_u64().unwrap() >= 2, "{sarif}");
    let (_, human) = run(&broken, "human");
    assert!(human.contains("lint: 1 errors"), "{human}");
}
