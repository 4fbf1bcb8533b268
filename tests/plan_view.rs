//! The plan for people, through the real binary: grouped by type with short names (full ids
//! with --full-ids and in --json), each resource under its real parent, key properties of
//! created resources, one line per change with its reason, lists of named members (a pool's
//! backends) by member, the lock-down as a step after creation, colour only on a terminal
//! without NO_COLOR, and --json's formatVersion and fixed keys.

mod common;

use std::process::Command;

fn plan(args: &[&str]) -> String {
    plan_of("afd-apim", args)
}

/// `plan EXAMPLE --emulator ARGS` (stdout not a terminal, NO_COLOR unset).
fn plan_of(example: &str, args: &[&str]) -> String {
    let out = common::bin()
        .arg("plan")
        .arg(common::example(example))
        .arg("--emulator")
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn grouped_short_and_with_key_properties() {
    let text = plan(&[]);
    let v: serde_norway::Value =
        serde_norway::from_str(&common::read(&common::example("afd-apim"))).unwrap();
    let sku = v["openai"]["deployment"]["sku"]["name"].as_str().unwrap();
    assert!(
        text.contains(&format!("Microsoft.CognitiveServices/accounts\n  + aoai-glb-eus2-1 will be created: location eastus2, kind OpenAI, sku S0\n      public network access: Enabled\n    + aoai-glb-eus2-1/deployments/gpt-5.4-mini will be created: sku {sku} x150")),
        "{text}"
    );
    assert!(text.contains("Microsoft.ApiManagement/service\n  + apim-aoai-global will be created: location eastus2"), "{text}");
    assert!(
        !text.contains("/subscriptions/"),
        "full ids in the human plan:\n{text}"
    );
    assert!(!text.contains('\x1b'), "colour without a terminal");
    let longest = text.lines().map(str::len).max().unwrap();
    assert!(longest <= 120, "a {longest}-character line:\n{text}");
    assert!(
        text.ends_with("0 to delete, 0 to adopt, 0 unchanged, 0 still provisioning.\n"),
        "{text}"
    );
    // What a reviewer checks on a created service: its additional locations; and a deployment's model.
    assert!(
        text.contains("additional locations: West Europe (Premium x1), Japan East (Premium x1)"),
        "{text}"
    );
    assert!(text.contains(" x150, model gpt-5.4-mini "), "{text}");

    let full = plan(&["--full-ids"]);
    assert!(full.contains(
        "/subscriptions/00000000-0000-0000-0000-000000000003/resourceGroups/rg-aoai-global/providers/Microsoft.ApiManagement/service/apim-aoai-global will be created"
    ), "{full}");

    let json: serde_json::Value = serde_json::from_str(&plan(&["--json"])).unwrap();
    let first_key = json.as_object().unwrap().keys().next().unwrap().clone();
    assert_eq!(first_key, "formatVersion");
    assert_eq!(json["formatVersion"], 2);
    assert!(json["resources"][0]["id"]
        .as_str()
        .unwrap()
        .starts_with("/subscriptions/"));
}

/// Colour on a terminal (a pseudo-terminal from `script`), none with NO_COLOR.
#[test]
fn colour_on_a_terminal_unless_no_color() {
    if Command::new("script").arg("--version").output().is_err() {
        panic!("`script` (util-linux) is needed to give the binary a terminal");
    }
    let cmd = format!(
        "{} plan {} --emulator",
        env!("CARGO_BIN_EXE_aoai-arch"),
        common::example("apim").display()
    );
    let run = |no_color: Option<&str>| {
        let mut c = Command::new("script");
        c.args(["-qec", &cmd, "/dev/null"]).env_remove("NO_COLOR");
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let coloured = run(None);
    assert!(coloured.contains("\x1b[32m+\x1b[0m"), "{coloured}");
    let plain = run(Some("1"));
    assert!(
        plain.contains("+ aoai-apim-swc-1 will be created"),
        "{plain}"
    );
    assert!(!plain.contains("\x1b[32m"), "{plain}");
}

/// Every resource line below another sits below its real parent (or the resource it is scoped
/// to): the nearest line above it, one level less indented, names an ancestor.
#[test]
fn children_are_under_their_real_parent_in_every_example() {
    for example in ["afd", "apim", "afd-apim", "afd-apim-private", "teams"] {
        let text = plan_of(example, &[]);
        let lines: Vec<(usize, String)> = text
            .lines()
            .filter(|l| l.contains(" will be "))
            .map(|l| {
                let indent = l.len() - l.trim_start().len();
                let name = l.split_whitespace().nth(1).unwrap().to_string();
                (indent, name)
            })
            .collect();
        for (i, (indent, name)) in lines.iter().enumerate() {
            if *indent <= 2 {
                continue;
            }
            let parent = lines[..i]
                .iter()
                .rev()
                .find(|(d, _)| *d < *indent)
                .unwrap_or_else(|| panic!("{example}: {name} has no line above it"));
            assert_eq!(parent.0, indent - 2, "{example}: {name}");
            assert!(
                name.starts_with(&format!("{}/", parent.1)),
                "{example}: {name} is shown under {}:\n{text}",
                parent.1
            );
        }
    }
}

/// On a first apply the lock-down of public network access is a step after creation, not an
/// update of something that exists.
#[test]
fn the_lock_down_is_a_step_after_creation_not_an_update() {
    let text = plan_of("afd-apim-private", &[]);
    assert!(
        text.contains("  then: disable public access on apim-aoai-private (why: a second request once it exists"),
        "{text}"
    );
    assert!(!text.contains("#lock-down"), "{text}");
    let summary = text.lines().last().unwrap();
    assert!(
        summary.contains(" 0 to update,") && summary.contains("2 step(s) after creation"),
        "{summary}"
    );
    // The step comes after everything of its service, before the next service.
    let then = text
        .find("then: disable public access on apim-aoai-private ")
        .unwrap();
    let child = text.rfind("+ apim-aoai-private/").unwrap();
    assert!(child < then, "{text}");
    // In --json it is its own action.
    let json: serde_json::Value =
        serde_json::from_str(&plan_of("afd-apim-private", &["--json"])).unwrap();
    let actions: Vec<&str> = json["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["id"].as_str().unwrap().ends_with("#lock-down"))
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["then", "then"]);
}

/// `plan --json` has every key, with an empty list when there is nothing.
#[test]
fn json_keeps_a_fixed_set_of_keys() {
    let json: serde_json::Value = serde_json::from_str(&plan_of("afd", &["--json"])).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "formatVersion",
            "preflight",
            "steps",
            "resources",
            "orphans",
            "pointsAt",
            "kept",
            "undeclared",
            "approvals",
            "deletedWithParent"
        ]
    );
    for k in [
        "steps",
        "orphans",
        "kept",
        "undeclared",
        "approvals",
        "deletedWithParent",
    ] {
        assert_eq!(json[k], serde_json::json!([]), "{k}");
    }
    assert_eq!(json["pointsAt"], serde_json::json!({}));
    for r in json["resources"].as_array().unwrap() {
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "id",
                "resourceType",
                "apiVersion",
                "action",
                "changes",
                "adopt",
                "reason",
                "state",
                "keptTags"
            ]
        );
    }
}

/// A pool's members by member: who joins, leaves and what changes, with priority and weight;
/// the backend and the private endpoint of a removed account go before the account.
#[test]
fn a_pool_change_is_listed_by_member() {
    let emu = common::Emulator::start("5000", "none", 71);
    let dir = tempfile::tempdir().unwrap();
    let full = common::edited_example("apim", dir.path(), "full.yaml", |_| {});
    let v: serde_norway::Value = serde_norway::from_str(&common::read(&full)).unwrap();
    let accounts = v["openai"]["accounts"].as_sequence().unwrap();
    let gone = accounts.last().unwrap();
    let (name, weight, priority) = (
        gone["name"].as_str().unwrap().to_string(),
        gone["weight"].as_u64().unwrap(),
        gone["priority"].as_u64().unwrap(),
    );
    let second = accounts[1]["name"].as_str().unwrap().to_string();
    let second_priority = accounts[1]["priority"].as_u64().unwrap();
    let smaller = common::edited_example("apim", dir.path(), "smaller.yaml", |v| {
        v["openai"]["accounts"].as_sequence_mut().unwrap().pop();
        v["openai"]["accounts"][1]["priority"] = (second_priority + 1).into();
        v["networking"]["privateEndpoints"]
            .as_sequence_mut()
            .unwrap()
            .retain(|p| p["account"].as_str() != Some(name.as_str()));
    });
    let apply = |bp: &std::path::Path| {
        let out = common::run(&["apply", "--auto-approve"], bp, &emu.url);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let plan = |bp: &std::path::Path| {
        String::from_utf8_lossy(&common::run(&["plan"], bp, &emu.url).stdout).to_string()
    };
    apply(&smaller);
    let joins = plan(&full);
    assert!(
        joins.contains("properties.pool.services: (by member)"),
        "{joins}"
    );
    assert!(
        joins.contains(&format!(
            "+ backends/{name} priority {priority} weight {weight}\n"
        )),
        "{joins}"
    );
    assert!(
        joins.contains(&format!(
            "~ backends/{second} priority {} -> {second_priority}\n",
            second_priority + 1
        )),
        "{joins}"
    );
    assert!(!joins.contains("bytes)"), "{joins}");

    apply(&full);
    let leaves = plan(&smaller);
    assert!(
        leaves.contains(&format!(
            "- backends/{name} priority {priority} weight {weight}\n"
        )),
        "{leaves}"
    );
    let start = emu.log().len();
    apply(&smaller);
    let deletes: Vec<String> = emu.log()[start..]
        .iter()
        .filter(|e| e["method"] == "DELETE")
        .map(|e| e["path"].as_str().unwrap_or("").to_string())
        .filter(|p| !p.contains("/deployments/aoai-arch-lock-"))
        .collect();
    let at = |suffix: &str| deletes.iter().position(|p| p.ends_with(suffix));
    let account = at(&format!("/accounts/{name}")).expect("account deleted");
    let backend = at(&format!("/backends/{name}")).expect("backend deleted");
    let endpoint = deletes
        .iter()
        .position(|p| p.contains("/privateEndpoints/"))
        .expect("private endpoint deleted");
    assert!(backend < account && endpoint < account, "{deletes:#?}");
}
