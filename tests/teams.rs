//! Teams through the real binary against a standalone emulator: products, their API links and
//! policies, subscriptions; a second apply writes nothing; removing a team (apply --prune)
//! deletes its product and subscriptions; keys appear only with `output --team --show-key`,
//! never in plan, apply, output or their `--debug` traces.

mod common;

use std::path::Path;

use common::{edited_example, http, run, writes, Emulator};
use serde_json::Value;

const APIM_API: &str = "2024-05-01";

fn text(o: &std::process::Output) -> String {
    format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn apply_ok(bp: &Path, url: &str, extra: &[&str]) -> String {
    let mut args = vec!["apply", "--auto-approve"];
    args.extend_from_slice(extra);
    let out = run(&args, bp, url);
    assert!(out.status.success(), "{}", text(&out));
    text(&out)
}

fn service(bp: &Path) -> String {
    let v: serde_norway::Value = serde_norway::from_str(&common::read(bp)).unwrap();
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ApiManagement/service/{}",
        v["subscription"].as_str().unwrap(),
        v["resourceGroup"].as_str().unwrap(),
        v["apim"]["name"].as_str().unwrap()
    )
}

fn get(url: &str, id: &str) -> (u16, Value) {
    http(url, "GET", &format!("{id}?api-version={APIM_API}"), None)
}

fn list_secrets(url: &str, id: &str) -> (u16, Value) {
    http(
        url,
        "POST",
        &format!("{id}/listSecrets?api-version={APIM_API}"),
        Some(&Value::Object(Default::default())),
    )
}

#[test]
fn teams_apply_converge_and_removing_one_deletes_its_product_and_subscriptions() {
    let emu = Emulator::start("5000", "none", 20);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("teams", dir.path(), "teams.yaml", |_| {});
    let s = service(&bp);
    apply_ok(&bp, &emu.url, &[]);

    // Products, links, policies and subscriptions as API Management has them.
    for team in ["retail-chat", "finance", "research"] {
        let (code, p) = get(&emu.url, &format!("{s}/products/{team}"));
        assert_eq!(code, 200, "{p}");
        assert_eq!(p["properties"]["subscriptionRequired"], true);
        assert_eq!(p["properties"]["approvalRequired"], false);
        assert_eq!(p["properties"]["state"], "published");
        let (code, l) = get(
            &emu.url,
            &format!("{s}/products/{team}/apiLinks/azure-openai"),
        );
        assert_eq!(code, 200, "{l}");
        assert!(l["properties"]["apiId"]
            .as_str()
            .unwrap()
            .ends_with("/apis/azure-openai"));
        let (code, pol) = get(&emu.url, &format!("{s}/products/{team}/policies/policy"));
        assert_eq!(code, 200, "{pol}");
        let xml = pol["properties"]["value"].as_str().unwrap();
        assert!(xml.contains("azure-openai-token-limit") && xml.contains("llm-token-limit"));
        assert!(
            xml.contains(&format!("counter-key=\"team:{team}\"")),
            "{xml}"
        );
    }
    let subs = [
        ("retail-chat-storefront", "retail-chat"),
        ("retail-chat-support-bot", "retail-chat"),
        ("finance", "finance"),
        ("research", "research"),
    ];
    for (sid, team) in subs {
        let (code, sub) = get(&emu.url, &format!("{s}/subscriptions/{sid}"));
        assert_eq!(code, 200, "{sub}");
        assert!(sub["properties"]["scope"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/products/{team}")));
        // GET never returns a key; listSecrets does.
        assert!(sub["properties"].get("primaryKey").is_none(), "{sub}");
        assert!(sub["properties"].get("secondaryKey").is_none(), "{sub}");
        let (code, keys) = list_secrets(&emu.url, &format!("{s}/subscriptions/{sid}"));
        assert_eq!(code, 200, "{keys}");
        assert!(keys["primaryKey"].as_str().unwrap().len() >= 32);
        assert_ne!(keys["primaryKey"], keys["secondaryKey"]);
    }
    // The apply never sent a key.
    let log = emu.log();
    for e in &log {
        let path = e["path"].as_str().unwrap_or("");
        if e["method"] == "PUT" && path.contains("/subscriptions/") && path.contains("/service/") {
            let body = e["body"].to_string();
            assert!(!body.to_lowercase().contains("primarykey"), "{e}");
        }
    }

    // A second apply writes nothing.
    let start = emu.log().len();
    apply_ok(&bp, &emu.url, &[]);
    assert_eq!(writes(&emu.log()[start..]), 0, "{:#?}", &emu.log()[start..]);

    // Removing a team deletes its product and subscriptions (with --prune), subscriptions first.
    let smaller = edited_example("teams", dir.path(), "teams.yaml", |v| {
        let teams = v["teams"].as_sequence_mut().unwrap();
        teams.retain(|t| t["name"].as_str() != Some("retail-chat"));
    });
    let plan = run(&["plan"], &smaller, &emu.url);
    let p = text(&plan);
    assert!(p.contains("products/retail-chat"), "{p}");
    let start = emu.log().len();
    apply_ok(&smaller, &emu.url, &["--prune"]);
    let deletes: Vec<String> = emu.log()[start..]
        .iter()
        .filter(|e| e["method"] == "DELETE")
        .map(|e| e["path"].as_str().unwrap_or("").to_string())
        .collect();
    let product = deletes
        .iter()
        .position(|d| d.contains("/products/retail-chat"))
        .unwrap_or_else(|| panic!("{deletes:#?}"));
    for sid in ["retail-chat-storefront", "retail-chat-support-bot"] {
        let at = deletes
            .iter()
            .position(|d| d.contains(&format!("/subscriptions/{sid}")))
            .unwrap_or_else(|| panic!("{deletes:#?}"));
        assert!(at < product, "{deletes:#?}");
        assert_eq!(get(&emu.url, &format!("{s}/subscriptions/{sid}")).0, 404);
    }
    let apim_deletes = deletes.iter().filter(|d| d.contains("/service/")).count();
    assert_eq!(apim_deletes, 3, "only the removed team: {deletes:#?}");
    assert_eq!(get(&emu.url, &format!("{s}/products/retail-chat")).0, 404);
    assert_eq!(get(&emu.url, &format!("{s}/products/finance")).0, 200);
    let plan = run(&["plan", "--detailed-exitcode"], &smaller, &emu.url);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
}

#[test]
fn keys_are_printed_only_by_output_team_show_key() {
    let emu = Emulator::start("5000", "none", 21);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("teams", dir.path(), "teams.yaml", |_| {});
    let s = service(&bp);
    let applied = apply_ok(&bp, &emu.url, &["--debug"]);
    let keys: Vec<String> = [
        "retail-chat-storefront",
        "retail-chat-support-bot",
        "finance",
        "research",
    ]
    .iter()
    .flat_map(|sid| {
        let (_, k) = list_secrets(&emu.url, &format!("{s}/subscriptions/{sid}"));
        [
            k["primaryKey"].as_str().unwrap().to_string(),
            k["secondaryKey"].as_str().unwrap().to_string(),
        ]
    })
    .collect();
    let no_key = |what: &str, out: &str| {
        for k in &keys {
            assert!(!out.contains(k.as_str()), "a key in {what}: {out}");
        }
    };
    no_key("apply --debug", &applied);
    for args in [
        vec!["plan", "--debug"],
        vec!["output", "--debug"],
        vec!["output", "--json", "--debug"],
        vec!["output", "--team", "finance", "--debug"],
        vec!["output", "--team", "finance", "--json", "--debug"],
    ] {
        let out = run(&args, &bp, &emu.url);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        no_key(&format!("{args:?}"), &text(&out));
    }
    // Asked for: the team's keys, in the output only; the --debug trace still redacts them.
    let out = run(
        &["output", "--team", "retail-chat", "--show-key", "--debug"],
        &bp,
        &emu.url,
    );
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains(&keys[0]) && stdout.contains(&keys[2]),
        "{stdout}"
    );
    assert!(!stdout.contains(&keys[4]), "another team's key: {stdout}");
    for k in &keys {
        assert!(!stderr.contains(k.as_str()), "a key in the trace: {stderr}");
    }
    assert!(
        stderr.contains("listSecrets"),
        "the trace shows the call: {stderr}"
    );
    // --show-key needs --team.
    let out = run(&["output", "--show-key"], &bp, &emu.url);
    assert!(!out.status.success());
    let out = run(&["output", "--team", "nobody"], &bp, &emu.url);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("retail-chat, finance, research"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_emulator_refuses_subscriptions_and_links_to_nothing() {
    let emu = Emulator::start("5000", "none", 22);
    let dir = tempfile::tempdir().unwrap();
    let bp = edited_example("teams", dir.path(), "teams.yaml", |_| {});
    let s = service(&bp);
    apply_ok(&bp, &emu.url, &[]);
    let put = |id: String, body: Value| {
        http(
            &emu.url,
            "PUT",
            &format!("{id}?api-version={APIM_API}"),
            Some(&body),
        )
    };
    let (code, e) = put(
        format!("{s}/subscriptions/x"),
        serde_json::json!({"properties": {"scope": format!("{s}/products/nobody"), "displayName": "x"}}),
    );
    assert_eq!(code, 400, "{e}");
    let (code, e) = put(
        format!("{s}/products/finance/apiLinks/x"),
        serde_json::json!({"properties": {"apiId": format!("{s}/apis/nothing")}}),
    );
    assert_eq!(code, 400, "{e}");
    // A key set by the request is kept, and still never returned by GET.
    let (code, _) = put(
        format!("{s}/subscriptions/own"),
        serde_json::json!({"properties": {"scope": format!("{s}/products/finance"), "displayName": "own", "primaryKey": "k-primary-0123456789"}}),
    );
    assert_eq!(code, 201);
    let (_, doc) = get(&emu.url, &format!("{s}/subscriptions/own"));
    assert!(!doc.to_string().contains("k-primary"), "{doc}");
    let (_, k) = list_secrets(&emu.url, &format!("{s}/subscriptions/own"));
    assert_eq!(k["primaryKey"], "k-primary-0123456789");
    assert_eq!(
        http(
            &emu.url,
            "GET",
            &format!("{s}/subscriptions/own/listSecrets?api-version={APIM_API}"),
            None
        )
        .0,
        405
    );
}

/// The chargeback query prices each deployment's tokens at its own price: the policy emits the
/// deployment the request named as the metric's `Deployment` dimension (after the gateway's 404
/// for names it does not serve, so the dimension stays bounded), and the query reads that
/// dimension and joins it with one price row per deployment of `pricing`.
#[test]
fn chargeback_prices_each_deployment_at_its_own_price() {
    let example = common::read(&common::example("teams"));
    let two = example
        .replacen(
            "openai:\n  deployment:\n    name: chat\n",
            "openai:\n  deployments:\n  - name: chat\n",
            1,
        )
        .replacen(
            "    sku: { name: GlobalStandard, capacity: 100 }   # 100,000 tokens per minute per account\n",
            "    sku: { name: GlobalStandard, capacity: 100 }\n  - name: Reasoning\n    model: { name: gpt-5.4-mini, version: \"2026-03-17\" }\n    sku: { name: GlobalStandard, capacity: 50 }\n",
            1,
        )
        .replacen("    models: [chat]\n  - name: finance", "    models: [chat, Reasoning]\n  - name: finance", 1)
        .replacen(
            "  chat: { inputPer1M: 0.15, outputPer1M: 0.60 }",
            "  chat: { inputPer1M: 0.15, outputPer1M: 0.60 }\n  Reasoning: { inputPer1M: 1.1, outputPer1M: 4.4 }",
            1,
        );
    assert_ne!(example, two);
    let dir = tempfile::tempdir().unwrap();
    let bp = dir.path().join("teams.yaml");
    std::fs::write(&bp, &two).unwrap();
    let out_dir = dir.path().join("out");
    let out = common::bin()
        .arg("render")
        .arg(&bp)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let policy = common::read(&out_dir.join("policies/azure-openai.xml"));
    let query = common::read(&out_dir.join("queries/team-usage.kql"));

    // The policy: a Deployment dimension from the deployment variable, emitted after the 404.
    let dim = policy
        .find("<dimension name=\"Deployment\" value=\"@(context.Variables.GetValueOrDefault<string>(\"deployment\", \"\")")
        .unwrap_or_else(|| panic!("no Deployment dimension: {policy}"));
    let set = policy.find("<set-variable name=\"deployment\"").unwrap();
    let not_found = policy.find("DeploymentNotFound").unwrap();
    assert!(
        set < dim && not_found < dim,
        "emitted before the deployment is known and checked"
    );

    // The query: reads that dimension and has one price per deployment, compared lower case
    // (the policy lower-cases the name it reads).
    assert!(
        query.contains("Deployment = tolower(tostring(Properties[\"Deployment\"]))"),
        "{query}"
    );
    assert!(!query.contains("Deployment = \"chat\""), "{query}");
    assert!(query.contains("\"chat\", 0.15, 0.6,"), "{query}");
    assert!(query.contains("\"Reasoning\", 1.1, 4.4,"), "{query}");
    assert!(
        query.contains("| extend Deployment = tolower(Deployment);"),
        "{query}"
    );
    assert!(
        query.contains("join kind=leftouter prices on Deployment"),
        "{query}"
    );
    assert!(
        policy.contains("return name.ToLowerInvariant();"),
        "{policy}"
    );
}
