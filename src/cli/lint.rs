//! `lint`: check policies and architecture rules; explain each finding.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use super::args::TemplateArgs;
use crate::blueprint::{self, vars::Vars};
use crate::engine::terminal::safe;
use crate::lint::{self, report};
use crate::render;

#[derive(Args)]
pub struct LintArgs {
    /// Blueprint file (YAML); optional with --policy.
    #[arg(required_unless_present = "policy")]
    blueprint: Option<PathBuf>,
    /// Also lint these policy files (XML as APIM accepts it), or every `*.xml` under these
    /// folders (APIOps layout); without a blueprint only the policy rules run.
    #[arg(long, value_name = "FILE|DIR", num_args = 1..)]
    policy: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// `--deny warnings` makes warnings fail the run.
    #[arg(long, value_enum)]
    deny: Option<Deny>,
    /// First print the traced path (client -> Front Door -> API Management -> each
    /// account): network, credential, model availability, hop by hop.
    #[arg(long)]
    explain: bool,
    #[command(flatten)]
    templates: TemplateArgs,
}

#[derive(Copy, Clone, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

#[derive(Copy, Clone, ValueEnum, PartialEq, Eq)]
pub enum Deny {
    Warnings,
}

pub fn run(args: LintArgs, vars: &Vars) -> Result<ExitCode> {
    let LintArgs {
        blueprint,
        policy,
        format,
        deny,
        explain,
        templates,
    } = args;
    let policy = lint::policy_files(&policy)?;
    let Some(blueprint) = blueprint else {
        let mut findings = Vec::new();
        for p in &policy {
            let xml =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            findings.extend(lint::check_policy_alone(&p.display().to_string(), &xml));
        }
        return Ok(finish_lint(format, deny, &findings));
    };
    let loaded = match blueprint::load_unvalidated_with(&blueprint, vars) {
        Ok(l) => l,
        Err(errors) => {
            if errors.len() > blueprint::MAX_ERRORS {
                eprintln!(
                    "{} errors in {}; the first {} are shown",
                    errors.len(),
                    safe(&blueprint.display().to_string()),
                    blueprint::MAX_ERRORS
                );
            }
            let errors = &errors[..errors.len().min(blueprint::MAX_ERRORS)];
            if format != Format::Human {
                for e in errors {
                    eprintln!("error: {e}");
                }
            }
            let findings: Vec<lint::Finding> = errors.iter().map(lint::blueprint_error).collect();
            return Ok(finish_lint(format, deny, &findings));
        }
    };
    if explain {
        // On stderr when stdout carries JSON or SARIF, so both stay parseable.
        let trace = lint::explain(&loaded.blueprint, &blueprint.display().to_string());
        if format == Format::Human {
            print!("{}", safe(&trace));
        } else {
            eprint!("{}", safe(&trace));
        }
    }
    let mut findings = lint::check_blueprint(&loaded);
    let invalid = blueprint::validation_errors(&loaded);
    if !invalid.is_empty() {
        // The blueprint cannot be rendered: every validation error is a finding, with
        // the architecture findings that explain it.
        if format != Format::Human {
            for e in &invalid {
                eprintln!("error: {e}");
            }
        }
        findings.extend(
            invalid
                .iter()
                .take(blueprint::MAX_ERRORS)
                .map(lint::blueprint_error),
        );
        return Ok(finish_lint(format, deny, &findings));
    }
    let (model, rendered) = render::render_file(&loaded, templates.templates.as_deref())?;
    findings = lint::all(&loaded, &model, &rendered);
    for p in &policy {
        let xml = blueprint::read_text(p, blueprint::limits::MAX_BYTES)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", p.display()))?;
        findings.extend(lint::check_policy_file(
            &loaded,
            &model,
            &p.display().to_string(),
            &xml,
        ));
    }
    Ok(finish_lint(format, deny, &findings))
}

/// Print the findings; exit 1 on errors (or warnings with `--deny warnings`).
fn finish_lint(format: Format, deny: Option<Deny>, findings: &[lint::Finding]) -> ExitCode {
    print_findings(format, findings);
    if report::fails(findings, deny == Some(Deny::Warnings)) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_findings(format: Format, findings: &[lint::Finding]) {
    let text = match format {
        Format::Human => report::human(findings),
        Format::Json => report::json(findings),
        Format::Sarif => report::sarif(findings),
    };
    print!("{}", safe(&text));
}
