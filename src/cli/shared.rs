//! What the commands share: loading a blueprint, the async runtime, the lint banner.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::blueprint;
use crate::engine::terminal::safe;
use crate::lint;

/// Load and validate a blueprint; every error of it is reported at once (up to
/// [`blueprint::MAX_ERRORS`]), each located.
pub fn load(path: &Path, vars: &blueprint::vars::Vars) -> Result<blueprint::Loaded> {
    blueprint::load_with(path, vars).map_err(|errors| anyhow::anyhow!("{}", all_errors(&errors)))
}

/// Several errors as one message: `main` prints the first `error: `, each next one gets its own.
pub fn all_errors(errors: &[blueprint::BlueprintError]) -> String {
    let shown = errors.len().min(blueprint::MAX_ERRORS);
    let mut text = errors[..shown]
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n\nerror: ");
    if errors.len() > 1 {
        text.push_str(&format!("\n\n{} errors", errors.len()));
        if errors.len() > shown {
            text.push_str(&format!(" ({} shown)", shown));
        }
    }
    text
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Findings printed at the top of plan and render (errors and warnings, briefly).
pub fn lint_banner(findings: &[lint::Finding]) {
    let shown: Vec<&lint::Finding> = findings.iter().filter(|f| f.allowed.is_none()).collect();
    if shown.is_empty() {
        return;
    }
    let mut err = std::io::stderr().lock();
    for f in &shown {
        let line = format!(
            "{}[{}]: {} ({}:{}:{}) — run `aoai-arch lint` for the reason",
            f.severity.as_str(),
            f.rule,
            f.message,
            f.location.file,
            f.location.line,
            f.location.column
        );
        let _ = writeln!(err, "{}", safe(&line));
    }
}

/// Ask `question` on the terminal; only `yes` goes on.
pub fn confirmed(question: &str) -> Result<bool> {
    print!("{question} Type 'yes' to continue: ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

/// A `--keep` or `lifecycle.keep` entry that names nothing the plan would delete: said on
/// stderr (a misspelt name would otherwise keep nothing silently).
pub fn warn_unmatched_keeps(keep: &[String], plan: &crate::engine::plan::Plan) {
    for k in keep {
        if !plan
            .kept
            .iter()
            .any(|id| crate::engine::safety::keeps(id, k))
        {
            eprintln!(
                "warning: keep {}: nothing this blueprint owns and no longer declares is named so; nothing is kept by it",
                crate::engine::terminal::safe(k)
            );
        }
    }
}
