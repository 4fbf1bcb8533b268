//! The team rules (AOAI090-AOAI096), each triggered through the binary with its location, and
//! quiet on the example.

mod common;

use serde_json::Value;

use common::{lint_example as lint, LintRun as Run};

fn finding<'a>(r: &'a Run, rule: &str) -> Option<&'a Value> {
    r.findings
        .iter()
        .find(|f| f["rule"] == rule && f["allowed"].is_null())
}

fn field(r: &Run, rule: &str) -> String {
    finding(r, rule).unwrap_or_else(|| panic!("no {rule}: {:#?}\n{}", r.findings, r.stderr))
        ["location"]["field"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn the_teams_example_lints_clean() {
    let r = lint("teams", &[], &[], &[]);
    for rule in [
        "AOAI090", "AOAI091", "AOAI092", "AOAI093", "AOAI094", "AOAI095", "AOAI096",
    ] {
        assert!(finding(&r, rule).is_none(), "{rule}: {:#?}", r.findings);
    }
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

#[test]
fn a_quota_below_one_minute_of_the_rate() {
    let r = lint(
        "teams",
        &[(
            "{ tokens: 500000, period: Weekly }",
            "{ tokens: 5000, period: Weekly }",
        )],
        &[],
        &[],
    );
    assert_eq!(field(&r, "AOAI090"), "teams[2].tokenQuota.tokens");
    let m = finding(&r, "AOAI090").unwrap()["message"].as_str().unwrap();
    assert!(
        m.contains("research") && m.contains("10000 tokens per minute"),
        "{m}"
    );
}

#[test]
fn a_model_no_deployment_serves() {
    let r = lint(
        "teams",
        &[(
            "    models: [chat]\n  - name: research",
            "    models: [chat, gpt-5]\n  - name: research",
        )],
        &[],
        &[],
    );
    assert_eq!(field(&r, "AOAI091"), "teams[1].models[1]");
    assert_eq!(r.code, Some(1), "AOAI091 is an error");
}

#[test]
fn a_rate_above_what_the_deployments_serve() {
    // 100 GlobalStandard units on one account: 100,000 tokens per minute.
    let r = lint(
        "teams",
        &[("tokensPerMinute: 40000", "tokensPerMinute: 150000")],
        &[],
        &[],
    );
    assert_eq!(field(&r, "AOAI092"), "teams[0].tokensPerMinute");
    let m = finding(&r, "AOAI092").unwrap()["message"].as_str().unwrap();
    assert!(m.contains("100000"), "{m}");
    let r = lint(
        "teams",
        &[("tokensPerMinute: 40000", "tokensPerMinute: 100000")],
        &[],
        &[],
    );
    assert!(
        finding(&r, "AOAI092").is_none(),
        "exactly the capacity is servable"
    );
}

#[test]
fn limits_behind_several_gateways_say_how_much_more() {
    let r = lint(
        "teams",
        &[
            ("sku: { name: StandardV2, capacity: 1 }", "sku: { name: Premium, capacity: 1 }\n  additionalRegions: [ { region: norwayeast, capacity: 1 } ]"),
        ],
        &[],
        &[],
    );
    let f = finding(&r, "AOAI093").unwrap_or_else(|| panic!("{:#?}", r.findings));
    let m = f["message"].as_str().unwrap();
    assert!(m.contains("2 gateways") && m.contains("up to 80000"), "{m}");
}

#[test]
fn a_subscription_required_api_without_teams_or_jwt() {
    let text = common::read(&common::example("teams"));
    let cut = text.find("teams:\n").unwrap();
    let end = text.find("pricing:\n").unwrap();
    let without = format!("{}{}", &text[..cut], &text[end..]);
    let r = lint("teams", &[(&text, &without)], &[], &[]);
    assert_eq!(field(&r, "AOAI094"), "apim");
    assert_eq!(r.code, Some(1));
    // The jwt example without teams: tokens, no key needed.
    let r = lint("apim", &[], &[], &[]);
    assert!(finding(&r, "AOAI094").is_none());
}

fn lint_policy(name: &str, xml: &str) -> (Option<i32>, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, xml).unwrap();
    let out = common::bin()
        .current_dir(dir.path())
        .args(["lint", "--format", "json", "--policy", name])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        out.status.code(),
        v["findings"].as_array().cloned().unwrap_or_default(),
    )
}

const PRODUCT_OK: &str = "<policies>\n  <inbound>\n    <base />\n    <azure-openai-token-limit counter-key=\"@(&quot;app:&quot; + context.Subscription.Id)\" tokens-per-minute=\"1000\" estimate-prompt-tokens=\"false\" />\n  </inbound>\n  <backend>\n    <base />\n  </backend>\n  <outbound>\n    <base />\n  </outbound>\n  <on-error>\n    <base />\n  </on-error>\n</policies>\n";

#[test]
fn a_product_policy_without_base_with_lint_policy() {
    let (code, f) = lint_policy("products/retail/policy.xml", PRODUCT_OK);
    assert!(
        f.iter()
            .all(|f| f["rule"] != "AOAI095" && f["rule"] != "AOAI096"),
        "{f:#?}"
    );
    assert_eq!(code, Some(0), "{f:#?}");
    let no_base = PRODUCT_OK.replacen("  <outbound>\n    <base />\n", "  <outbound>\n", 1);
    let (code, f) = lint_policy("products/retail/policy.xml", &no_base);
    let hit = f
        .iter()
        .find(|f| f["rule"] == "AOAI095")
        .unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(hit["location"]["line"], 9, "{hit}");
    assert!(hit["message"].as_str().unwrap().contains("`outbound`"));
    assert_eq!(code, Some(1));
    // The same file as an API policy: not a product's, no AOAI095.
    let (_, f) = lint_policy("apis/azure-openai/policy.xml", &no_base);
    assert!(f.iter().all(|f| f["rule"] != "AOAI095"), "{f:#?}");
}

#[test]
fn a_product_limit_keyed_on_token_claims() {
    let claims = PRODUCT_OK.replace(
        "counter-key=\"@(&quot;app:&quot; + context.Subscription.Id)\"",
        "counter-key=\"@(context.Request.Headers.GetValueOrDefault(&quot;Authorization&quot;,&quot;&quot;).AsJwt()?.Claims.GetValueOrDefault(&quot;azp&quot;, &quot;&quot;))\"",
    );
    let (code, f) = lint_policy("product-retail.xml", &claims);
    let hit = f
        .iter()
        .find(|f| f["rule"] == "AOAI096")
        .unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(hit["location"]["line"], 4, "{hit}");
    assert_eq!(code, Some(1));
}

/// `render` of the teams example with one edit: exit code and stderr.
fn render_edited(from: &str, to: &str) -> (Option<i32>, String) {
    let text = common::read(&common::example("teams"));
    assert!(text.contains(from), "`{from}` not in teams");
    let dir = tempfile::tempdir().unwrap();
    let bp = dir.path().join("teams.yaml");
    std::fs::write(&bp, text.replacen(from, to, 1)).unwrap();
    let out = common::bin()
        .arg("render")
        .arg(&bp)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(
        !dir.path().join("out").exists() || out.status.success(),
        "rendered despite the error"
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn team_and_app_names_follow_the_product_and_subscription_id_rules() {
    // A character a product id cannot hold, located at the team's name.
    let (code, err) = render_edited("- name: finance", "- name: finance/eu");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("= field: teams[1].name"), "{err}");
    assert!(err.contains("`finance/eu` contains `/`"), "{err}");
    assert!(err.contains("teams.yaml:36:"), "line of the name: {err}");
    // An app's name: the same rules (it is part of the subscription id).
    let (code, err) = render_edited("name: support-bot", "name: support+bot");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("= field: teams[0].apps[1].name"), "{err}");
    // Over 256 characters.
    let long = format!("- name: {}", "r".repeat(257));
    let (code, err) = render_edited("- name: research", &long);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("257 characters long (allowed: 1-256)"),
        "{err}"
    );
    // `lint` refuses it the same way, located.
    let r = lint(
        "teams",
        &[("- name: finance", "- name: finance/eu")],
        &[],
        &[],
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains("= field: teams[1].name") && r.stderr.contains("teams.yaml:36:"),
        "{}",
        r.stderr
    );
    // The example itself renders.
    let (code, err) = render_edited("- name: research", "- name: research");
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn team_names_and_subscriptions_are_unique_without_case() {
    let (code, err) = render_edited("- name: research", "- name: Finance");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("= field: teams[2].name"), "{err}");
    assert!(err.contains("also teams[1] (`finance`)"), "{err}");
    // Team `retail-chat-storefront` (one subscription, named as the team) and app storefront
    // of team retail-chat (subscription `retail-chat-storefront`): one subscription id.
    let (code, err) = render_edited("- name: research", "- name: retail-chat-storefront");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("= field: teams[2].name"), "{err}");
    assert!(
        err.contains("would both be the subscription `retail-chat-storefront`"),
        "{err}"
    );
}

#[test]
fn client_applications_without_jwt_are_reported() {
    let r = lint(
        "teams",
        &[(
            "    models: [chat]\n  - name: research",
            "    models: [chat]\n    clientApplications: [00000000-0000-0000-0000-0000000a0101]\n  - name: research",
        )],
        &[],
        &[],
    );
    assert_eq!(field(&r, "AOAI097"), "teams[1].clientApplications");
    let m = finding(&r, "AOAI097").unwrap()["message"].as_str().unwrap();
    assert!(m.contains("finance") && m.contains("apim.jwt"), "{m}");
    // With apim.jwt, the mapping is used: no finding.
    let r = lint(
        "teams",
        &[
            (
                "    models: [chat]\n  - name: research",
                "    models: [chat]\n    clientApplications: [00000000-0000-0000-0000-0000000a0101]\n  - name: research",
            ),
            (
                "  auth:\n    managedIdentity: true\n",
                "  auth:\n    managedIdentity: true\n  jwt:\n    tenantId: 00000000-0000-0000-0000-00000000aaaa\n    clientId: 00000000-0000-0000-0000-0000000a0001\n    clientApplications: [00000000-0000-0000-0000-0000000a0101]\n",
            ),
        ],
        &[],
        &[],
    );
    assert!(finding(&r, "AOAI097").is_none(), "{:#?}", r.findings);
}
