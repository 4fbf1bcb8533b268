//! Several deployments per account, routing by deployment, native spillover and Content
//! Safety, through the binary: what `render` writes, what `lint` says (located), and what
//! `apply` does against the emulator.

mod common;

use std::path::Path;

use serde_json::Value;

use common::{run, writes, Emulator};

fn render(bp: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = common::bin()
        .arg("render")
        .arg(bp)
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// (index entry, body) of every request whose id ends with `suffix`.
fn requests(dir: &Path) -> Vec<(Value, Value)> {
    let index: Value = serde_json::from_str(&common::read(&dir.join("index.json"))).unwrap();
    index["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let text = common::read(&dir.join(r["file"].as_str().unwrap()));
            let body = text.split_once("\n\n").unwrap().1;
            (r.clone(), serde_json::from_str(body).unwrap())
        })
        .collect()
}

fn find<'a>(reqs: &'a [(Value, Value)], suffix: &str) -> &'a (Value, Value) {
    reqs.iter()
        .find(|(r, _)| r["id"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("no request for {suffix}"))
}

/// (backend name, priority) of each member of the pool `name`, in order.
fn pool_members(reqs: &[(Value, Value)], name: &str) -> Vec<(String, u64)> {
    let (_, pool) = find(reqs, &format!("/backends/{name}"));
    pool["properties"]["pool"]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let id = m["id"].as_str().unwrap();
            (
                id.rsplit('/').next().unwrap().to_string(),
                m["priority"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn policy(dir: &Path) -> String {
    common::read(&dir.join("policies/azure-openai.xml"))
}

#[test]
fn each_account_gets_its_deployments_written_one_after_another() {
    let dir = render(&common::example("multi-deployment"));
    let reqs = requests(dir.path());
    let swc = "accounts/aoai-multi-swc/deployments/";
    let gwc = "accounts/aoai-multi-gwc/deployments/";
    // The first account serves all three, the second only its subset.
    for d in ["chat", "embeddings", "chat-ptu"] {
        find(&reqs, &format!("{swc}{d}"));
    }
    assert!(!reqs.iter().any(|(r, _)| r["id"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{gwc}chat-ptu"))));
    // Each deployment waits for the one written before it on its account; the spillover
    // target comes before the provisioned deployment that names it.
    let (ptu, ptu_body) = find(&reqs, &format!("{swc}chat-ptu"));
    let (emb, _) = find(&reqs, &format!("{swc}embeddings"));
    let (chat, _) = find(&reqs, &format!("{swc}chat"));
    assert!(ptu["dependsOn"]
        .as_array()
        .unwrap()
        .contains(&Value::String(emb["file"].as_str().unwrap().into())));
    assert!(emb["dependsOn"]
        .as_array()
        .unwrap()
        .contains(&Value::String(chat["file"].as_str().unwrap().into())));
    assert_eq!(ptu_body["properties"]["spilloverDeploymentName"], "chat");
    assert_eq!(ptu_body["sku"]["name"], "GlobalProvisionedManaged");
    assert_eq!(
        ptu_body["properties"]["raiPolicyName"],
        "Microsoft.DefaultV2"
    );
    let (_, emb_body) = find(&reqs, &format!("{swc}embeddings"));
    assert!(emb_body["properties"]
        .get("spilloverDeploymentName")
        .is_none());
    assert_eq!(
        emb_body["properties"]["model"]["name"],
        "text-embedding-3-large"
    );

    // Apply on an empty emulator: no deployment write is refused (the emulator answers 409
    // RequestConflict to a second deployment write while one is being written), everything
    // converges, and a second apply writes nothing.
    let emu = Emulator::start("3000", "none", 19);
    let bp = common::example("multi-deployment");
    let out = run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let log = emu.log();
    let conflicts: Vec<&Value> = log
        .iter()
        .filter(|e| e["method"] == "PUT" && e["status"] == 409)
        .collect();
    assert!(conflicts.is_empty(), "{conflicts:#?}");
    let deployment_puts = log
        .iter()
        .filter(|e| {
            e["method"] == "PUT"
                && e["path"]
                    .as_str()
                    .is_some_and(|p| p.contains("/accounts/") && p.contains("/deployments/"))
        })
        .count();
    let paths: Vec<String> = log
        .iter()
        .filter(|e| {
            e["method"] == "PUT"
                && e["path"]
                    .as_str()
                    .is_some_and(|p| p.contains("/accounts/") && p.contains("/deployments/"))
        })
        .map(|e| format!("{} {}", e["path"], e["status"]))
        .collect();
    assert_eq!(
        deployment_puts, 5,
        "3 deployments on one account, 2 on the other: {paths:#?}"
    );
    let before = writes(&emu.log());
    let again = run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("Nothing to do."));
    assert_eq!(writes(&emu.log()), before);
}

#[test]
fn the_gateway_routes_by_deployment_and_answers_404_for_others() {
    let dir = render(&common::example("multi-deployment"));
    let reqs = requests(dir.path());
    // One pool per deployment, of the accounts serving it.
    let members = |pool: &str| -> Vec<String> {
        find(&reqs, &format!("/backends/{pool}")).1["properties"]["pool"]["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                s["id"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(
        members("aoai-pool-chat"),
        ["aoai-multi-swc", "aoai-multi-gwc"]
    );
    assert_eq!(
        members("aoai-pool-embeddings"),
        ["aoai-multi-swc", "aoai-multi-gwc"]
    );
    assert_eq!(members("aoai-pool-chat-ptu"), ["aoai-multi-swc"]);
    let p = policy(dir.path());
    // Path-based requests name the deployment; v1 requests the body's model.
    assert!(p.contains(r#"MatchedParameters.GetValueOrDefault("deployment-id", "")"#));
    assert!(p.contains(r#"(string)body?["model"]"#));
    for (d, pool) in [
        ("chat", "aoai-pool-chat"),
        ("embeddings", "aoai-pool-embeddings"),
        ("chat-ptu", "aoai-pool-chat-ptu"),
    ] {
        let when = format!(
            "<when condition=\"@(context.Variables.GetValueOrDefault&lt;string&gt;(&quot;deployment&quot;, &quot;&quot;) == &quot;{d}&quot;)\">\n        <set-backend-service backend-id=\"{pool}\" />"
        );
        let plain = when
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"");
        assert!(p.contains(&when) || p.contains(&plain), "{d}: {p}");
    }
    // An unknown deployment: 404 with a JSON error, before any backend or Content Safety call.
    let not_found = p
        .find("<set-status code=\"404\"")
        .expect("a 404 for unknown deployments");
    assert!(p.contains(r#"",chat,embeddings,chat-ptu,".Contains("#));
    assert!(p.contains("DeploymentNotFound"));
    assert!(not_found < p.find("<llm-content-safety").unwrap());
    assert!(not_found < p.find("<set-backend-service").unwrap());
    // Requests that name no deployment (listing models, Responses follow-ups) use every account.
    assert!(p.contains("<set-backend-service backend-id=\"aoai-pool\" />"));
    // Responses API follow-ups stay per deployment: the list they search is the deployment's.
    assert!(
        p.contains("if (deployment == \"chat-ptu\") {\n            return \"aoai-multi-swc|\";")
    );

    // A single-deployment blueprint keeps its one pool, and also answers 404 for others.
    let single = render(&common::example("apim"));
    let sp = policy(single.path());
    assert!(sp.contains(r#"",gpt-5.4-mini,".Contains("#));
    assert!(!requests(single.path()).iter().any(|(r, _)| r["id"]
        .as_str()
        .unwrap()
        .contains("/backends/aoai-pool-gpt")));
}

#[test]
fn content_safety_is_keyless_and_checks_prompts_and_completions() {
    let dir = render(&common::example("multi-deployment"));
    let reqs = requests(dir.path());
    let (_, account) = find(&reqs, "accounts/cs-aoai-multi");
    assert_eq!(account["kind"], "ContentSafety");
    assert_eq!(account["properties"]["disableLocalAuth"], true);
    assert_eq!(
        account["properties"]["customSubDomainName"],
        "cs-aoai-multi"
    );
    // The gateway's identity holds Cognitive Services User on it.
    let role = reqs
        .iter()
        .find(|(r, _)| {
            let id = r["id"].as_str().unwrap();
            id.contains("accounts/cs-aoai-multi/providers/Microsoft.Authorization/roleAssignments/")
        })
        .expect("a role assignment on the Content Safety account");
    assert!(role.1["properties"]["roleDefinitionId"]
        .as_str()
        .unwrap()
        .ends_with("/a97b65f3-24c7-4388-baec-2e87135dc908"));
    // The backend authenticates with the managed identity (no key anywhere).
    let (_, backend) = find(&reqs, "/backends/content-safety");
    assert_eq!(
        backend["properties"]["url"],
        "https://cs-aoai-multi.cognitiveservices.azure.com"
    );
    assert_eq!(
        backend["properties"]["credentials"]["managedIdentity"]["resource"],
        "https://cognitiveservices.azure.com"
    );
    // The API policy waits for the role and the backend.
    let (policy_req, _) = find(&reqs, "/apis/azure-openai/policies/policy");
    let deps: Vec<&str> = policy_req["dependsOn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(deps.iter().any(|d| d.contains("backends-content-safety")));
    assert!(deps.iter().any(|d| d.contains(
        role.0["file"]
            .as_str()
            .unwrap()
            .trim_start_matches("requests/")
    )));
    let p = policy(dir.path());
    assert!(p.contains(r#"<llm-content-safety backend-id="content-safety" shield-prompt="true" enforce-on-completions="true">"#));
    assert!(p.contains(r#"<category name="SelfHarm" threshold="4" />"#));
    assert!(p.contains("not a 403"));
}

fn with(subnet: Option<&str>) -> impl FnOnce(&mut serde_norway::Value) {
    let subnet = subnet.map(str::to_string);
    move |v: &mut serde_norway::Value| {
        let mut cs = serde_norway::Mapping::new();
        cs.insert("name".into(), "cs-aoai-apim".into());
        if let Some(s) = subnet {
            cs.insert("subnetId".into(), s.into());
        }
        v.as_mapping_mut()
            .unwrap()
            .insert("contentSafety".into(), cs.into());
    }
}

#[test]
fn a_private_blueprint_puts_content_safety_behind_a_private_endpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let subnet = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/private-endpoints";
    // Without a subnet: refused, located.
    let bp = common::edited_example("apim", tmp.path(), "no-subnet.yaml", with(None));
    let out = common::bin()
        .arg("render")
        .arg(&bp)
        .arg("--out")
        .arg(tmp.path().join("x"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("= field: contentSafety.subnetId"), "{err}");
    assert!(
        err.contains("Content Safety needs a private endpoint too"),
        "{err}"
    );
    // With one: private access, a private endpoint in the Cognitive Services zone.
    let bp = common::edited_example("apim", tmp.path(), "private.yaml", with(Some(subnet)));
    let dir = render(&bp);
    let reqs = requests(dir.path());
    let (_, account) = find(&reqs, "accounts/cs-aoai-apim");
    assert_eq!(account["properties"]["publicNetworkAccess"], "Disabled");
    assert_eq!(
        account["properties"]["networkAcls"]["defaultAction"],
        "Deny"
    );
    let (_, pe) = find(&reqs, "privateEndpoints/pe-cs-aoai-apim");
    assert_eq!(pe["properties"]["subnet"]["id"], subnet);
    let (_, group) = find(
        &reqs,
        "privateEndpoints/pe-cs-aoai-apim/privateDnsZoneGroups/default",
    );
    assert!(group
        .to_string()
        .contains("privatelink.cognitiveservices.azure.com"));
    find(
        &reqs,
        "privateDnsZones/privatelink.cognitiveservices.azure.com",
    );
}

fn lint_rules(base: &str, edits: &[(&str, &str)]) -> Vec<(String, String)> {
    let r = common::lint_example(base, edits, &[], &[]);
    r.findings
        .iter()
        .filter(|f| f["allowed"].is_null())
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["location"]["field"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn lint_locates_spillover_mistakes_and_warns_about_pooled_ptus() {
    // The spillover target is not on an account that serves the provisioned deployment.
    let f = lint_rules(
        "multi-deployment",
        &[(
            "deployments: [chat, embeddings]",
            "deployments: [chat-ptu, embeddings]",
        )],
    );
    assert!(
        f.contains(&("AOAI080".into(), "openai.deployments[1].spillover".into())),
        "{f:?}"
    );
    // ... and that account serving it too pools the PTU deployment over two accounts.
    assert!(
        f.contains(&("AOAI083".into(), "openai.deployments[1].sku".into())),
        "{f:?}"
    );
    // Another data-processing level.
    let f = lint_rules(
        "multi-deployment",
        &[(
            "sku: { name: GlobalStandard, capacity: 100 }",
            "sku: { name: DataZoneStandard, capacity: 100 }",
        )],
    );
    assert!(
        f.contains(&("AOAI081".into(), "openai.deployments[1].spillover".into())),
        "{f:?}"
    );
    // The Responses API warning (allowed in the example with a reason) is there.
    let r = common::lint_example("multi-deployment", &[], &[], &[]);
    assert!(r
        .findings
        .iter()
        .any(|f| f["rule"] == "AOAI082" && f["allowed"].is_string()));
    // Front Door cannot route by deployment.
    let f = lint_rules(
        "afd",
        &[
            ("  deployment:\n    name: gpt-5-mini\n", "  deployments:\n  - name: gpt-5-mini\n"),
            (
                "    versionUpgradeOption: OnceCurrentVersionExpired",
                "    versionUpgradeOption: OnceCurrentVersionExpired\n  - { name: gpt-5-mini-2, model: { name: gpt-5-mini, version: \"2025-08-07\" }, sku: { name: DataZoneStandard, capacity: 10 } }",
            ),
            ("{ name: aoai-afd-swc, region: swedencentral }", "{ name: aoai-afd-swc, region: swedencentral, deployments: [gpt-5-mini] }"),
        ],
    );
    assert!(
        f.contains(&("AOAI084".into(), "openai.accounts[1].deployments".into())),
        "{f:?}"
    );
}

/// A deployment taken out of the blueprint carries its ownership tag: plan names it as to be
/// deleted on every account that has it, and apply deletes it (the account and the other
/// deployments stay); the plan is clean after.
#[test]
fn a_removed_deployment_is_deleted_by_the_next_apply() {
    let emu = Emulator::start("3000", "none", 23);
    let bp = common::example("multi-deployment");
    let out = run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let fewer = common::edited_example("multi-deployment", dir.path(), "multi.yaml", |v| {
        let deps = v["openai"]["deployments"].as_sequence_mut().unwrap();
        deps.retain(|d| d["name"].as_str() != Some("embeddings"));
        v["openai"]["accounts"][1]["deployments"] =
            serde_norway::Value::Sequence(vec!["chat".into()]);
    });
    let out = run(&["plan", "--json"], &fewer, &emu.url);
    let plan: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let listed: Vec<String> = ["orphans"]
        .iter()
        .flat_map(|k| plan[*k].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    for acc in ["aoai-multi-swc", "aoai-multi-gwc"] {
        assert!(
            listed
                .iter()
                .any(|id| id.ends_with(&format!("/accounts/{acc}/deployments/embeddings"))),
            "{acc}: {plan:#}"
        );
    }
    let out = run(&["plan"], &fewer, &emu.url);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(
            |l| l.contains("accounts/aoai-multi-swc/deployments/embeddings")
                && l.contains("will be deleted")
        ),
        "{text}"
    );
    let out = run(&["apply", "--auto-approve"], &fewer, &emu.url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for acc in ["aoai-multi-swc", "aoai-multi-gwc"] {
        let deployments = format!(
            "{}/deployments",
            listed
                .iter()
                .find(|id| id.contains(&format!("/accounts/{acc}/")))
                .unwrap()
                .split("/deployments/")
                .next()
                .unwrap()
        );
        let (status, body) = common::http(
            &emu.url,
            "GET",
            &format!("{deployments}?api-version=2026-05-01"),
            None,
        );
        assert_eq!(status, 200);
        let names: Vec<&str> = body["value"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["name"].as_str())
            .collect();
        assert!(!names.contains(&"embeddings"), "{acc}: {names:?}");
        assert!(names.contains(&"chat"), "{acc}: {names:?}");
    }
    let plan = run(&["plan", "--detailed-exitcode"], &fewer, &emu.url);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stdout)
    );
}

/// One account's deployment on provisioned throughput, the others' pay-as-you-go
/// (`openai.accounts[].skus`): each account's deployment carries its own SKU, the pool puts the
/// provisioned member first and the others after it (keeping their order), the blueprint
/// applies on an empty emulator and a second apply writes nothing. A SKU for a deployment the
/// account does not serve is a located error.
#[test]
fn a_per_account_sku_puts_the_ptu_member_first() {
    let dir = tempfile::tempdir().unwrap();
    let bp = common::edited_example("apim", dir.path(), "apim.yaml", |v| {
        v["openai"]["deployment"]["model"]["name"] = "gpt-5.4".into();
        v["openai"]["deployment"]["model"]["version"] = "2026-03-05".into();
        v["openai"]["accounts"][0]["skus"] = serde_norway::from_str(
            "gpt-5.4-mini: { name: GlobalProvisionedManaged, capacity: 15 }",
        )
        .unwrap();
    });
    let lint = common::bin().arg("lint").arg(&bp).output().unwrap();
    assert_eq!(
        lint.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&lint.stdout)
    );
    // The pool trips the PTU member on its 429s like any other (AOAI083), located at the
    // account's SKU.
    let said = String::from_utf8_lossy(&lint.stdout);
    assert!(said.contains("warning[AOAI083]"), "{said}");
    assert!(
        said.contains("field: openai.accounts[0].skus.gpt-5.4-mini"),
        "{said}"
    );
    let out = render(&bp);
    let reqs = requests(out.path());
    let (_, ptu) = find(&reqs, "accounts/aoai-apim-swc-1/deployments/gpt-5.4-mini");
    assert_eq!(ptu["sku"]["name"], "GlobalProvisionedManaged");
    assert_eq!(ptu["sku"]["capacity"], 15);
    let (_, paygo) = find(&reqs, "accounts/aoai-apim-swc-2/deployments/gpt-5.4-mini");
    assert_eq!(paygo["sku"]["name"], "GlobalStandard");
    assert_eq!(paygo["sku"]["capacity"], 200);
    let members = pool_members(&reqs, "aoai-pool");
    // swc-1 (PTU, priority 1) first; swc-2 (1) and nor (2) after the highest PTU priority.
    assert_eq!(
        members,
        vec![
            ("aoai-apim-swc-1".to_string(), 1),
            ("aoai-apim-swc-2".to_string(), 2),
            ("aoai-apim-nor".to_string(), 3)
        ]
    );

    let emu = Emulator::start("3000", "none", 29);
    let applied = run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert!(
        applied.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&applied.stdout),
        String::from_utf8_lossy(&applied.stderr)
    );
    let before = writes(&emu.log());
    let again = run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert!(again.status.success());
    assert_eq!(writes(&emu.log()), before);

    let bad = common::edited_example("apim", dir.path(), "bad.yaml", |v| {
        v["openai"]["accounts"][1]["skus"] =
            serde_norway::from_str("gpt-5.4-mni: { name: ProvisionedManaged, capacity: 50 }")
                .unwrap();
    });
    let r = common::bin().arg("render").arg(&bad).output().unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{err}");
    assert!(
        err.contains("account aoai-apim-swc-2 serves no deployment named `gpt-5.4-mni`"),
        "{err}"
    );
    assert!(err.contains("openai.accounts[1].skus.gpt-5.4-mni"), "{err}");
    assert!(err.contains("did you mean `gpt-5.4-mini`?"), "{err}");
}

/// A deployment written before deployments carried the ownership tag belongs to whoever owns
/// its account: the next apply tags it without `--adopt`. An untagged account is still
/// refused without it.
#[test]
fn an_untagged_deployment_of_an_owned_account_is_tagged_without_adopt() {
    let emu = Emulator::start("3000", "none", 24);
    let bp = common::example("afd");
    let out = run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = emu.log();
    let deployment = log
        .iter()
        .filter_map(|e| e["path"].as_str())
        .find(|p| p.contains("/deployments/") && !p.contains("Microsoft.Resources"))
        .unwrap()
        .to_string();
    let path = format!("{deployment}?api-version=2026-05-01");
    let (_, mut doc) = common::http(&emu.url, "GET", &path, None);
    doc.as_object_mut().unwrap().remove("tags");
    let (status, _) = common::http(&emu.url, "PUT", &path, Some(&doc));
    assert!(status < 300, "{status}");
    let mut settled = false;
    for _ in 0..200 {
        let (_, d) = common::http(&emu.url, "GET", &path, None);
        if d["properties"]["provisioningState"] == "Succeeded" {
            assert!(d
                .get("tags")
                .is_none_or(|t| t.as_object().is_none_or(|o| o.is_empty())));
            settled = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(settled);
    let out = run(&["apply", "--auto-approve"], &bp, &emu.url);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, d) = common::http(&emu.url, "GET", &path, None);
    assert!(d["tags"]["aoai-arch-blueprint"].is_string(), "{d:#}");
    let plan = run(&["plan", "--detailed-exitcode"], &bp, &emu.url);
    assert_eq!(plan.status.code(), Some(0));
}

/// Spillover is judged on each account with the SKUs the two deployments have there: an
/// account whose `skus` entry moves the target to another data-processing level is named.
#[test]
fn spillover_is_judged_with_each_accounts_own_skus() {
    let dir = tempfile::tempdir().unwrap();
    let bp = common::edited_example("multi-deployment", dir.path(), "multi.yaml", |v| {
        v["openai"]["accounts"][0]["skus"] =
            serde_norway::from_str("chat: { name: DataZoneStandard, capacity: 100 }").unwrap();
    });
    let lint = common::bin().arg("lint").arg(&bp).output().unwrap();
    let said = String::from_utf8_lossy(&lint.stdout);
    let line = said
        .lines()
        .find(|l| l.contains("AOAI081"))
        .unwrap_or_else(|| panic!("no AOAI081: {said}"));
    assert!(line.contains("DataZoneStandard"), "{said}");
    assert!(said.contains("on account aoai-multi-swc"), "{said}");
    assert_ne!(lint.status.code(), Some(0), "{said}");
    // As declared (both Global on every account), the example lints clean of AOAI081.
    let clean = common::bin()
        .arg("lint")
        .arg(common::example("multi-deployment"))
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&clean.stdout).contains("AOAI081"));
}

/// With region routing (afd-apim), each region's pool keeps its own accounts before the other
/// regions', and inside each, the account where the deployment is provisioned comes first.
#[test]
fn region_pools_put_local_ptu_first_then_local_then_the_other_regions() {
    let dir = tempfile::tempdir().unwrap();
    let bp = common::edited_example("afd-apim-private", dir.path(), "private.yaml", |v| {
        v["openai"]["deployment"]["model"]["name"] = "gpt-5.4".into();
        v["openai"]["deployment"]["model"]["version"] = "2026-03-05".into();
        v["openai"]["accounts"][1]["skus"] = serde_norway::from_str(
            "gpt-5.4-mini: { name: GlobalProvisionedManaged, capacity: 15 }",
        )
        .unwrap();
    });
    let out = render(&bp);
    let reqs = requests(out.path());
    let members = |pool: &str| pool_members(&reqs, pool);
    let priority = |pool: &str, backend: &str| {
        members(pool)
            .into_iter()
            .find(|(b, _)| b.contains(backend))
            .unwrap_or_else(|| panic!("{backend} not in {pool}: {:?}", members(pool)))
            .1
    };
    // East US 2: its PTU account, then its pay-as-you-go one, then the other regions.
    let east = "aoai-pool-eastus2";
    assert_eq!(priority(east, "eus2-2"), 1, "{:?}", members(east));
    assert_eq!(priority(east, "eus2-1"), 2, "{:?}", members(east));
    assert_eq!(priority(east, "weu-1"), 3, "{:?}", members(east));
    // West Europe: its own account, then the other regions' PTU account, then the rest.
    let west = "aoai-pool-westeurope";
    assert_eq!(priority(west, "weu-1"), 1, "{:?}", members(west));
    assert_eq!(priority(west, "eus2-2"), 2, "{:?}", members(west));
    assert_eq!(priority(west, "eus2-1"), 3, "{:?}", members(west));
}
