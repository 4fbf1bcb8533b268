//! Shell completions as a user installs them: the script `aoai-arch completions bash` prints,
//! sourced in bash, with its completion function driven the way bash drives it on <TAB>
//! (COMP_WORDS, COMP_CWORD and the function's three arguments).

mod common;

use std::process::Command;

/// What the completion function offers for `line` (the words typed, the last one being
/// completed), from the script the binary prints.
fn complete(words: &[&str]) -> Vec<String> {
    let out = common::bin()
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("aoai-arch");
    std::fs::write(&script, &out.stdout).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cword = words.len() - 1;
    let cur = words[cword];
    let prev = if cword > 0 { words[cword - 1] } else { "" };
    // bash calls the function `complete -F` names with the command, the word being completed
    // and the word before it.
    let driver = format!(
        r#"source "$1"
spec=$(complete -p aoai-arch) || exit 3
fn=${{spec#*-F }}; fn=${{fn%% *}}
COMP_WORDS=({words})
COMP_CWORD={cword}
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
"$fn" aoai-arch '{cur}' '{prev}'
printf '%s\n' "${{COMPREPLY[@]}}""#,
        words = quoted.join(" "),
    );
    let run = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &driver, "driver"])
        .arg(&script)
        .output()
        .expect("bash");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8_lossy(&run.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_the_options_of_a_subcommand() {
    // `aoai-arch plan --<TAB>`: plan's own flags (this offered nothing with the hyphenated
    // binary name before the script was repaired).
    let got = complete(&["aoai-arch", "plan", "--"]);
    for flag in [
        "--detailed-exitcode",
        "--json",
        "--out",
        "--emulator",
        "--var",
    ] {
        assert!(got.iter().any(|g| g == flag), "{flag} not offered: {got:?}");
    }
    assert!(got.iter().all(|g| g.starts_with("--")), "{got:?}");
    // apply's own flag is not plan's.
    assert!(!got.iter().any(|g| g == "--auto-approve"), "{got:?}");
    let got = complete(&["aoai-arch", "apply", "--auto-"]);
    assert_eq!(got, ["--auto-approve"], "{got:?}");
}

#[test]
fn bash_completes_subcommands_and_values() {
    let got = complete(&["aoai-arch", "pl"]);
    assert_eq!(got, ["plan"], "{got:?}");
    // A value of a closed set after a subcommand's option.
    let got = complete(&["aoai-arch", "plan", "--cloud", ""]);
    for v in ["public", "china", "us-gov"] {
        assert!(got.iter().any(|g| g == v), "{v} not offered: {got:?}");
    }
    let got = complete(&["aoai-arch", "completions", "z"]);
    assert_eq!(got, ["zsh"], "{got:?}");
}
