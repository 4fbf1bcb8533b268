//! Parameters and environments through the real binary: `${var.NAME}` filled from
//! `--var-file` (one file per environment) and `--var`, validated like the blueprint, with
//! errors located where the value was set.

mod common;

use std::path::{Path, PathBuf};

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let text = common::read(&common::example("apim"));
    for from in [
        "\nlocation: swedencentral",
        "capacity: 200 }",
        "name: apim-aoai-gw",
    ] {
        assert!(text.contains(from), "{from}");
    }
    let text = text
        .replacen("\nlocation: swedencentral", "\nlocation: ${var.region}", 1)
        .replacen("capacity: 200 }", "capacity: ${var.capacity} }", 1)
        .replacen("name: apim-aoai-gw", "name: apim-${var.env}-gw", 1);
    let bp = dir.path().join("gateway.yaml");
    std::fs::write(&bp, text).unwrap();
    std::fs::create_dir(dir.path().join("env")).unwrap();
    std::fs::write(
        dir.path().join("env/prod.yaml"),
        "env: prod\nregion: swedencentral\ncapacity: 300\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("env/dev.yaml"),
        "# the dev environment\nenv: dev\nregion: sweden-central\ncapacity: 10\n",
    )
    .unwrap();
    (dir, bp)
}

fn render(dir: &Path, args: &[&str]) -> std::process::Output {
    common::bin()
        .current_dir(dir)
        .args(["render", "gateway.yaml", "--out", "out"])
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn a_var_file_per_environment_fills_the_blueprint() {
    let (dir, _) = setup();
    let out = render(dir.path(), &["--var-file", "env/prod.yaml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let requests: Vec<String> = std::fs::read_dir(dir.path().join("out/requests"))
        .unwrap()
        .map(|e| common::read(&e.unwrap().path()))
        .collect();
    assert!(requests
        .iter()
        .any(|r| r.contains("/service/apim-prod-gw?api-version=")));
    assert!(requests.iter().any(|r| r.contains("\"capacity\": 300")));
    assert!(!requests.iter().any(|r| r.contains("${var.")));
    // --var wins over the file.
    let out = render(
        dir.path(),
        &["--var-file", "env/prod.yaml", "--var", "env=staging"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let all: String = std::fs::read_dir(dir.path().join("out/requests"))
        .unwrap()
        .map(|e| common::read(&e.unwrap().path()))
        .collect();
    assert!(all.contains("/service/apim-staging-gw?"), "staging");
}

#[test]
fn an_invalid_value_is_located_where_it_was_set() {
    let (dir, _) = setup();
    // In the var file: its line and column.
    let out = render(dir.path(), &["--var-file", "env/dev.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.contains("--> env/dev.yaml:3:9"), "{e}");
    assert!(
        e.contains("`sweden-central` is not an Azure region name (the value of var.region, used at gateway.yaml:"),
        "{e}"
    );
    // From the command line: the flag.
    let out = render(
        dir.path(),
        &["--var-file", "env/prod.yaml", "--var", "region=westeurope2"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--> --var region=westeurope2"),
        "{}",
        stderr(&out)
    );
    // A value that would change the YAML structure.
    let out = render(
        dir.path(),
        &["--var-file", "env/prod.yaml", "--var", "env=a: b"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the value of var.env contains `: `"),
        "{}",
        stderr(&out)
    );
    // lint reports it as a finding in the var file.
    let out = common::bin()
        .current_dir(dir.path())
        .args([
            "lint",
            "gateway.yaml",
            "--format",
            "json",
            "--var-file",
            "env/dev.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "BP001");
    assert_eq!(f["location"]["file"], "env/dev.yaml");
    assert_eq!(f["location"]["line"], 3);
}

#[test]
fn an_unset_variable_is_an_error_naming_it() {
    let (dir, _) = setup();
    let out = render(dir.path(), &["--var", "env=prod", "--var", "regoin=x"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.contains("variable `region` is not set"), "{e}");
    let region_line = common::read(&dir.path().join("gateway.yaml"))
        .lines()
        .position(|l| l.contains("location: ${var.region}"))
        .unwrap()
        + 1;
    assert!(
        e.contains(&format!("--> gateway.yaml:{region_line}:11")),
        "{e}"
    );
    assert!(e.contains("did you mean `regoin`?"), "{e}");
    // Another field on the same line as a placeholder keeps its own position.
    let text = common::read(&dir.path().join("gateway.yaml"));
    let line = text
        .lines()
        .position(|l| l.contains("capacity: ${var.capacity}"))
        .unwrap()
        + 1;
    std::fs::write(
        dir.path().join("gateway.yaml"),
        text.replacen(
            "sku: { name: GlobalStandard,",
            "sku: { nme: GlobalStandard,",
            1,
        ),
    )
    .unwrap();
    let out = render(dir.path(), &["--var-file", "env/prod.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("--> gateway.yaml:{line}:")),
        "{}",
        stderr(&out)
    );
    // A var file that is not a mapping.
    std::fs::write(dir.path().join("env/bad.yaml"), "- a\n- b\n").unwrap();
    let out = render(dir.path(), &["--var-file", "env/bad.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("env/bad.yaml:1:1"),
        "{}",
        stderr(&out)
    );
}

/// A lint finding about a value set by a variable points at the var file too.
#[test]
fn lint_findings_point_at_the_var_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = common::read(&common::example("afd"));
    assert!(text.contains("originTimeoutSeconds: 240"));
    std::fs::write(
        dir.path().join("afd.yaml"),
        text.replacen(
            "originTimeoutSeconds: 240",
            "originTimeoutSeconds: ${var.timeout}",
            1,
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("dev.yaml"), "# dev\ntimeout: 60\n").unwrap();
    let out = common::bin()
        .current_dir(dir.path())
        .args([
            "lint",
            "afd.yaml",
            "--format",
            "json",
            "--var-file",
            "dev.yaml",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "AOAI015")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(f["location"]["file"], "dev.yaml");
    assert_eq!(f["location"]["line"], 2);
    assert!(
        f["message"].as_str().unwrap().contains("var.timeout"),
        "{f}"
    );
}

/// The committed example (blueprints/environments) lints clean and renders for each environment.
#[test]
fn the_environments_example_works_for_each_environment() {
    let dir = common::root().join("blueprints/environments");
    assert!(dir.join("../../schema/blueprint.schema.json").is_file());
    for (env, capacity, sku) in [("dev", 10, "Developer"), ("prod", 300, "Standard")] {
        let var_file = dir.join(format!("env/{env}.yaml"));
        let lint = common::bin()
            .arg("lint")
            .arg(dir.join("gateway.yaml"))
            .arg("--var-file")
            .arg(&var_file)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&lint.stdout);
        assert_eq!(lint.status.code(), Some(0), "{env}: {text}");
        assert!(text.contains("lint: 0 errors, 0 warnings"), "{env}: {text}");
        let out = tempfile::tempdir().unwrap();
        let render = common::bin()
            .arg("render")
            .arg(dir.join("gateway.yaml"))
            .arg("--var-file")
            .arg(&var_file)
            .arg("--out")
            .arg(out.path())
            .output()
            .unwrap();
        assert!(render.status.success(), "{env}: {}", stderr(&render));
        let all: String = std::fs::read_dir(out.path().join("requests"))
            .unwrap()
            .map(|e| common::read(&e.unwrap().path()))
            .collect();
        assert!(
            all.contains(&format!("/resourceGroups/rg-aoai-{env}/")),
            "{env}"
        );
        assert!(all.contains(&format!("\"capacity\": {capacity}")), "{env}");
        assert!(all.contains(&format!("\"name\": \"{sku}\"")), "{env}");
        assert!(!all.contains("${var."), "{env}");
    }
}

#[test]
fn every_missing_variable_and_every_unused_var_flag_is_reported_at_once() {
    let (dir, _) = setup();
    // Nothing set: the three placeholders, each at its line, in one run.
    let out = render(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    for name in ["region", "capacity", "env"] {
        assert!(e.contains(&format!("variable `{name}` is not set")), "{e}");
    }
    assert!(e.contains("3 errors"), "{e}");
    assert!(!dir.path().join("out").exists());
    // A misspelt --var is an error naming the variable it was meant for, not silently
    // ignored; the correctly named ones are used.
    let out = render(
        dir.path(),
        &["--var-file", "env/prod.yaml", "--var", "capacty=400"],
    );
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(
        e.contains("`--var capacty` is not a variable of gateway.yaml"),
        "{e}"
    );
    assert!(e.contains("did you mean `capacity`?"), "{e}");
    assert!(!dir.path().join("out").exists());
    // lint says the same, as findings.
    let out = common::bin()
        .current_dir(dir.path())
        .args([
            "lint",
            "gateway.yaml",
            "--var",
            "env=dev",
            "--var",
            "regoin=x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("variable `region` is not set"), "{text}");
    assert!(text.contains("variable `capacity` is not set"), "{text}");
    assert!(text.contains("`--var regoin` is not a variable"), "{text}");
    // A var file may hold variables of other blueprints: not an error.
    std::fs::write(
        dir.path().join("env/shared.yaml"),
        "env: prod\nregion: swedencentral\ncapacity: 300\nunrelated: x\n",
    )
    .unwrap();
    let out = render(dir.path(), &["--var-file", "env/shared.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
