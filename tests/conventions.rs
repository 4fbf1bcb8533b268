//! The conventions a new user relies on: the JSON schema the blueprints point at is committed
//! and current, shell completions are printed for each shell, and the README's install line.

mod common;

#[test]
fn committed_schema_equals_the_binarys() {
    let out = common::bin().arg("schema").output().unwrap();
    assert!(out.status.success());
    let committed = common::read(&common::root().join("schema/blueprint.schema.json"));
    assert_eq!(
        committed,
        String::from_utf8_lossy(&out.stdout),
        "schema/blueprint.schema.json is stale: run `aoai-arch schema > schema/blueprint.schema.json`"
    );
    // Every example points at it, and the path resolves from the example's folder.
    for name in common::EXAMPLES {
        let p = common::example(name);
        let text = common::read(&p);
        let reference = text
            .lines()
            .find_map(|l| l.split("$schema=").nth(1))
            .unwrap_or_else(|| panic!("{name}: no yaml-language-server $schema line"))
            .split_whitespace()
            .next()
            .unwrap();
        let target = p.parent().unwrap().join(reference);
        assert!(
            target.is_file(),
            "{name}: {} does not exist",
            target.display()
        );
    }
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef aoai-arch"),
        ("fish", "complete -c aoai-arch"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion"),
    ] {
        let out = common::bin().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let s = String::from_utf8_lossy(&out.stdout);
        assert!(s.contains(marker), "{shell}: {s}");
        for sub in ["destroy", "output", "lint", "apply"] {
            assert!(s.contains(sub), "{shell} lacks {sub}");
        }
    }
    let out = common::bin()
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    // Usage errors exit 1 (2 means "changes" under plan --detailed-exitcode).
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unknown shell is a usage error"
    );
}

#[test]
fn readme_installs_with_cargo_install_and_states_the_msrv() {
    let readme = common::read(&common::root().join("README.md"));
    assert!(readme.contains("cargo install --path . --locked"));
    let manifest = common::read(&common::root().join("Cargo.toml"));
    let msrv = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"');
    assert!(
        readme.contains(&format!("Rust toolchain ({msrv} or newer")),
        "README and rust-version disagree ({msrv})"
    );
}
