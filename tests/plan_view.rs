//! The plan for people, through the real binary: grouped by type with short names (full ids
//! with --full-ids and in --json), key properties of created resources, one line per change
//! with its reason, colour only on a terminal without NO_COLOR, and --json's formatVersion.

mod common;

use std::process::Command;

fn plan(args: &[&str]) -> String {
    let out = common::bin()
        .arg("plan")
        .arg(common::example("afd-apim"))
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
        text.contains(&format!("Microsoft.CognitiveServices/accounts\n  + aoai-glb-eus2-1 will be created: location eastus2, kind OpenAI, sku S0\n    + aoai-glb-eus2-1/deployments/gpt-5.4-mini will be created: sku {sku} x150")),
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
    assert!(text.ends_with("0 orphaned.\n"), "{text}");

    let full = plan(&["--full-ids"]);
    assert!(full.contains(
        "/subscriptions/00000000-0000-0000-0000-000000000003/resourceGroups/rg-aoai-global/providers/Microsoft.ApiManagement/service/apim-aoai-global will be created"
    ), "{full}");

    let json: serde_json::Value = serde_json::from_str(&plan(&["--json"])).unwrap();
    let first_key = json.as_object().unwrap().keys().next().unwrap().clone();
    assert_eq!(first_key, "formatVersion");
    assert_eq!(json["formatVersion"], 1);
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
