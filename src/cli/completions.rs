//! `completions`: print a shell completion script.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

#[derive(Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

const BIN: &str = "aoai-arch";

/// `cli` is the whole command line, built by the caller (which owns its definition).
pub fn run(args: CompletionsArgs, cli: &mut clap::Command) -> Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, cli, BIN, &mut script);
    let mut script = String::from_utf8(script)?;
    if args.shell == clap_complete::Shell::Bash {
        script = repair_bash(&script, BIN);
    }
    print!("{script}");
    Ok(ExitCode::SUCCESS)
}

/// clap_complete's bash script completes nothing after a subcommand when the binary's name has
/// a hyphen (https://github.com/clap-rs/clap/issues/6421, open in the locked 4.6.11; read
/// 2026-12-06): the loop that walks the words escapes the binary's name as `aoai__arch` and
/// builds `aoai__arch__subcmd__plan`, while the `case` arms escape the whole path in one pass
/// and spell it `aoai__subcmd__arch__subcmd__plan`, so no arm ever matches. Spell the arms the
/// way the loop does. A script without the defect (a fixed clap_complete) is left unchanged.
fn repair_bash(script: &str, bin: &str) -> String {
    const SEP: &str = "__subcmd__";
    if !bin.contains('-') {
        return script.to_string();
    }
    let broken = format!("{}{SEP}", bin.replace('-', SEP));
    let loop_spelling = format!("{}{SEP}", bin.replace('-', "__"));
    script.replace(&broken, &loop_spelling)
}

#[cfg(test)]
mod tests {
    #[test]
    fn arms_are_spelt_as_the_loop_spells_them() {
        let s = "cmd=\"aoai__arch__subcmd__plan\"\n        aoai__subcmd__arch__subcmd__plan)\n";
        let fixed = super::repair_bash(s, "aoai-arch");
        assert_eq!(
            fixed,
            "cmd=\"aoai__arch__subcmd__plan\"\n        aoai__arch__subcmd__plan)\n"
        );
        assert_eq!(super::repair_bash(s, "aoaiarch"), s);
    }
}
