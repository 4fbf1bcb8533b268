//! Every rendered policy validates against the APIM policy XSDs of ../shared/apim-policy, with
//! xmllint (libxml2) after the reference data's strict-engine patch, expressions and named values
//! masked; and the validator the binary carries agrees (no findings).

mod common;

use std::process::Command;

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Replace each expression and named value with a short expression, which every XSD
/// attribute type accepts (`union(type, expression)`).
fn xsd_masked(xml: &str) -> String {
    let m = apim_policy::mask(xml).unwrap();
    let mut out = String::new();
    let mut at = 0;
    for e in &m.expressions {
        out.push_str(&xml[at..e.start]);
        out.push_str("@(0)");
        at = e.end;
    }
    out.push_str(&xml[at..]);
    out
}

#[test]
#[cfg_attr(
    aoai_no_shared,
    ignore = "needs ../shared (arm-schemas, apim-policy) or AOAI_ARCH_SHARED; then `touch build.rs`"
)]
#[cfg_attr(
    aoai_no_xmllint,
    ignore = "needs xmllint and patch (apt-get install libxml2-utils patch); then `touch build.rs`"
)]
fn rendered_policies_validate_against_the_xsds() {
    let Some(shared) = common::shared("rendered_policies_validate_against_the_xsds") else {
        return;
    };
    let required = std::env::var("AOAI_ARCH_REQUIRE_SHARED").as_deref() == Ok("1");
    if !have("xmllint") || !have("patch") {
        assert!(!required, "AOAI_ARCH_REQUIRE_SHARED=1 but xmllint or patch is missing (apt-get install libxml2-utils patch)");
        eprintln!(
            "SKIPPED rendered_policies_validate_against_the_xsds: xmllint or patch not installed"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cp = Command::new("cp")
        .arg("-r")
        .arg(shared.join("apim-policy/vscode-apimanagement"))
        .arg(tmp.path())
        .status()
        .unwrap();
    assert!(cp.success());
    let patched = Command::new("patch")
        .args(["-p0", "-s", "-d"])
        .arg(tmp.path())
        .arg("-i")
        .arg(shared.join("apim-policy/strict-xsd-engines.patch"))
        .status()
        .unwrap();
    assert!(patched.success(), "the strict-engine patch does not apply");
    // Attributes the XSDs predate, as crates/apim-policy/tools/derive.py adds them (NEWER):
    // learn.microsoft.com/azure/api-management/llm-content-safety-policy (read 2026-12-06).
    let cs = tmp
        .path()
        .join("vscode-apimanagement/policySchemas/llm-content-safety.xsd");
    let text = common::read(&cs);
    let anchor = r#"<xs:attribute name="shield-prompt" use="optional" type="xs:string" />"#;
    assert!(text.contains(anchor), "llm-content-safety.xsd changed");
    let newer = [
        anchor,
        r#"<xs:attribute name="enforce-on-completions" use="optional" type="xs:string" />"#,
        r#"<xs:attribute name="window-size" use="optional" type="xs:string" />"#,
        r#"<xs:attribute name="window-overlap-size" use="optional" type="xs:string" />"#,
    ]
    .join("\n        ");
    std::fs::write(&cs, text.replace(anchor, &newer)).unwrap();
    let schema = tmp
        .path()
        .join("vscode-apimanagement/policySchemas/policies.xsd");
    let mut checked = 0;
    for name in common::EXAMPLES {
        let out = tempfile::tempdir().unwrap();
        let r = common::bin()
            .arg("render")
            .arg(common::example(name))
            .arg("--out")
            .arg(out.path())
            .output()
            .unwrap();
        assert!(r.status.success());
        let dir = out.path().join("policies");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let xml = common::read(&e.path());
            assert!(
                apim_policy::validate(&xml).is_empty(),
                "{name}: {:?}",
                apim_policy::validate(&xml)
            );
            let masked_file = tmp.path().join(format!("{name}.xml"));
            std::fs::write(&masked_file, xsd_masked(&xml)).unwrap();
            let v = Command::new("xmllint")
                .arg("--noout")
                .arg("--schema")
                .arg(&schema)
                .arg(&masked_file)
                .output()
                .unwrap();
            assert!(
                v.status.success(),
                "{name}: {}\n{}",
                String::from_utf8_lossy(&v.stderr),
                xsd_masked(&xml)
            );
            checked += 1;
        }
    }
    assert_eq!(
        checked, 12,
        "apim, multi-deployment and teams render one API policy each, teams one product policy per team (3 teams); afd-apim the API's and the health operation's; afd-apim-private both per service (2 services)"
    );
}

#[test]
#[cfg_attr(
    aoai_no_shared,
    ignore = "needs ../shared (arm-schemas, apim-policy) or AOAI_ARCH_SHARED; then `touch build.rs`"
)]
fn committed_policy_data_is_derived_from_the_current_xsds() {
    let Some(shared) = common::shared("committed_policy_data_is_derived_from_the_current_xsds")
    else {
        return;
    };
    let python = std::env::var("AOAI_ARCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .arg(common::root().join("crates/apim-policy/tools/derive.py"))
        .arg(shared.join("apim-policy"))
        .output()
        .expect("python3 runs tools/derive.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = common::read(&common::root().join("crates/apim-policy/data/policies.json"));
    assert!(
        String::from_utf8_lossy(&out.stdout) == committed,
        "crates/apim-policy/data/policies.json is stale: run python3 crates/apim-policy/tools/derive.py ../shared/apim-policy > crates/apim-policy/data/policies.json"
    );
}
