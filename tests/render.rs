//! `render` through the binary: snapshots of the three example renders, determinism,
//! `--check`, template overrides, and named values surviving Handlebars.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

fn render_to(blueprint: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    common::bin()
        .arg("render")
        .arg(blueprint)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                files.insert(rel, common::read(&p));
            }
        }
    }
    files
}

#[test]
fn example_renders_match_snapshots() {
    for name in common::EXAMPLES {
        let dir = tempfile::tempdir().unwrap();
        let out = render_to(&common::example(name), dir.path(), &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut all = String::new();
        for (rel, text) in read_tree(dir.path()) {
            all.push_str(&format!("===== {rel}\n{text}\n"));
        }
        insta::assert_snapshot!(format!("render-{name}"), all);
    }
}

#[test]
fn render_is_deterministic_and_check_detects_staleness() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let bp = common::example("afd-apim");
    assert!(render_to(&bp, a.path(), &[]).status.success());
    assert!(render_to(&bp, b.path(), &[]).status.success());
    assert_eq!(read_tree(a.path()), read_tree(b.path()));

    let check = |dir: &Path| {
        common::bin()
            .arg("render")
            .arg(&bp)
            .arg("--check")
            .arg(dir)
            .output()
            .unwrap()
    };
    let fresh = check(a.path());
    assert!(
        fresh.status.success(),
        "{}",
        String::from_utf8_lossy(&fresh.stderr)
    );

    // Edit one body: --check fails and shows the difference.
    let index = common::read(&a.path().join("index.json"));
    let first_origin = index
        .lines()
        .find(|l| l.contains("\"file\"") && l.contains("origins-"))
        .and_then(|l| l.split('"').nth(3))
        .unwrap()
        .to_string();
    let p = a.path().join(&first_origin);
    std::fs::write(
        &p,
        common::read(&p).replace("\"weight\": 50", "\"weight\": 60"),
    )
    .unwrap();
    std::fs::write(a.path().join("requests/999-extra.http"), "PUT /x\n").unwrap();
    let stale = check(a.path());
    assert_eq!(stale.status.code(), Some(1));
    let err = String::from_utf8_lossy(&stale.stderr);
    assert!(err.contains(&format!("changed: {first_origin}")), "{err}");
    assert!(
        err.contains("-    \"weight\": 60,") && err.contains("+    \"weight\": 50,"),
        "{err}"
    );
    assert!(err.contains("stale: requests/999-extra.http"), "{err}");
}

#[test]
fn template_override_replaces_a_policy_and_keeps_named_values() {
    let tpl = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tpl.path().join("policies")).unwrap();
    std::fs::write(
        tpl.path().join("policies/api.xml.hbs"),
        "<policies>\n  <inbound>\n    <base />\n    <set-header name=\"x-owner\" exists-action=\"override\"><value>{{nv \"gateway-owner\"}}</value></set-header>\n    <set-header name=\"x-api\" exists-action=\"override\"><value>{{m.apim.name}}</value></set-header>\n    <set-backend-service backend-id=\"{{m.apim.defaultPool}}\" />\n  </inbound>\n  <backend><forward-request /></backend>\n  <outbound><base /></outbound>\n  <on-error><base /></on-error>\n</policies>\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let res = render_to(
        &common::example("apim"),
        out.path(),
        &["--templates", tpl.path().to_str().unwrap()],
    );
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let xml = common::read(&out.path().join("policies/azure-openai.xml"));
    assert!(xml.contains("<value>{{gateway-owner}}</value>"), "{xml}");
    assert!(xml.contains("<value>apim-aoai-gw</value>"), "{xml}");
    // The same XML is what the policy request sends.
    let files = read_tree(out.path());
    let (_, req) = files
        .iter()
        .find(|(k, _)| k.contains("policies-policy"))
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(req.split_once("\n\n").unwrap().1).unwrap();
    assert_eq!(body["properties"]["value"].as_str().unwrap(), xml);
    assert_eq!(body["properties"]["format"], "rawxml");

    // A misspelled override file is an error, not a silent fallback.
    std::fs::write(tpl.path().join("policies/apii.xml.hbs"), "x").unwrap();
    let res = render_to(
        &common::example("apim"),
        out.path(),
        &["--templates", tpl.path().to_str().unwrap()],
    );
    assert!(!res.status.success());
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("apii.xml.hbs") && err.contains("did you mean policies/api.xml.hbs"),
        "{err}"
    );
}

/// `render --out` deletes only what its previous render wrote (the files its index.json lists),
/// and refuses a folder it does not recognise as its own: an APIOps repository's policies
/// survive, and the command exits 1 saying why.
#[test]
fn render_out_refuses_a_foreign_folder_and_removes_only_its_own_stale_files() {
    let repo = tempfile::tempdir().unwrap();
    let foreign = repo.path().join("policies/apis/echo/policy.xml");
    std::fs::create_dir_all(foreign.parent().unwrap()).unwrap();
    std::fs::write(&foreign, "<policies><inbound /></policies>").unwrap();
    std::fs::create_dir_all(repo.path().join("requests")).unwrap();
    std::fs::write(repo.path().join("requests/keep.http"), "GET /x\n").unwrap();
    let out = common::bin()
        .args(["render"])
        .arg(common::example("apim"))
        .arg("--out")
        .arg(repo.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("refusing to render into") && err.contains("has no index.json"),
        "{err}"
    );
    assert!(foreign.exists() && repo.path().join("requests/keep.http").exists());
    assert!(!repo.path().join("index.json").exists(), "wrote into it");

    // Its own folder: a re-render removes the files the earlier render wrote and no longer
    // renders, and leaves a file someone added.
    let dir = tempfile::tempdir().unwrap();
    let bp_dir = tempfile::tempdir().unwrap();
    let render = |bp: &std::path::Path| {
        let o = common::bin()
            .args(["render"])
            .arg(bp)
            .arg("--out")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    render(&common::example("afd"));
    let listed = |d: &std::path::Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d.join("requests"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let first = listed(dir.path());
    let added = dir.path().join("requests/zz-mine.http");
    std::fs::write(&added, "GET /mine\n").unwrap();
    // One account fewer: its requests are no longer rendered.
    let fewer = common::edited_example("afd", bp_dir.path(), "afd.yaml", |v| {
        let accounts = v["openai"]["accounts"].as_sequence_mut().unwrap();
        accounts.pop();
    });
    render(&fewer);
    let second = listed(dir.path());
    let gone: Vec<&String> = first.iter().filter(|f| !second.contains(f)).collect();
    assert!(
        gone.iter().any(|f| f.contains("aoai-afd-frc")),
        "no stale request removed: {gone:?}"
    );
    assert!(
        !second.iter().any(|f| f.contains("aoai-afd-frc")),
        "{second:?}"
    );
    assert!(
        added.exists(),
        "a file the render did not write was deleted"
    );
    let index: serde_json::Value =
        serde_json::from_str(&common::read(&dir.path().join("index.json"))).unwrap();
    assert_eq!(index["generator"], "aoai-arch render");
    assert!(index["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| !f.as_str().unwrap().contains("zz-mine")));
}

#[test]
fn one_added_account_changes_only_its_own_files_and_those_it_touches() {
    // The reviewer's diff: render the example, add one account, render again into the same
    // folder (as a pull request would) and compare the two trees file by file.
    let dir = tempfile::tempdir().unwrap();
    let before_bp = dir.path().join("before.yaml");
    let after_bp = dir.path().join("after.yaml");
    let text = common::read(&common::example("afd-apim"));
    let line = "    - { name: aoai-glb-weu, region: westeurope }\n";
    assert!(text.contains(line));
    std::fs::write(&before_bp, &text).unwrap();
    std::fs::write(
        &after_bp,
        text.replacen(
            line,
            &format!("{line}    - {{ name: aoai-glb-weu-2, region: westeurope }}\n"),
            1,
        ),
    )
    .unwrap();
    let out = dir.path().join("render");
    let r = render_to(&before_bp, &out, &[]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let before = read_tree(&out);
    let r = render_to(&after_bp, &out, &[]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let after = read_tree(&out);

    let removed: Vec<&String> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    assert!(
        removed.is_empty(),
        "no file renamed or removed: {removed:?}"
    );
    let added: Vec<&String> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    // The account, its deployment, its diagnostic setting, the gateway's role on it, and the
    // gateway's backend for it.
    assert_eq!(added.len(), 5, "{added:?}");
    assert!(
        added.iter().all(|k| k.contains("aoai-glb-weu-2")),
        "{added:?}"
    );
    let changed: Vec<&str> = before
        .iter()
        .filter(|(k, v)| after.get(*k).is_some_and(|a| a != *v))
        .map(|(k, _)| k.as_str())
        .collect();
    // The index (the order), the API policy whose routing now includes the account (and its
    // request), and the health backend of the account's region.
    assert_eq!(
        changed,
        [
            "index.json",
            "policies/azure-openai.xml",
            "requests/service-apim-aoai-global.apis-azure-openai.policies-policy.http",
            "requests/service-apim-aoai-global.backends-aoai-health-westeurope.http",
        ],
        "{changed:?}"
    );

    // `render --check` of the old folder against the new blueprint names exactly those.
    let old = dir.path().join("old");
    assert!(render_to(&before_bp, &old, &[]).status.success());
    let check = common::bin()
        .arg("render")
        .arg(&after_bp)
        .arg("--check")
        .arg(&old)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(1));
    let err = String::from_utf8_lossy(&check.stderr);
    let flagged: Vec<&str> = err
        .lines()
        .filter(|l| {
            ["changed: ", "missing: ", "stale: "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect();
    assert_eq!(flagged.len(), changed.len() + added.len(), "{err}");

    // The order lives in index.json: every resource after what it depends on.
    let index: serde_json::Value = serde_json::from_str(&after["index.json"]).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for r in index["resources"].as_array().unwrap() {
        for d in r["dependsOn"].as_array().unwrap() {
            assert!(
                seen.contains(d.as_str().unwrap()),
                "{} before {d}",
                r["file"]
            );
        }
        seen.insert(r["file"].as_str().unwrap().to_string());
    }
}
