//! Lint output: for people (like rustc/clippy), JSON, and SARIF 2.1.0 for code scanning.

use serde_json::{json, Value};

use super::{Finding, Severity, RULES};

/// rustc-style text: `warning[AOAI004]: message`, location, reason, help, docs.
pub fn human(findings: &[Finding]) -> String {
    let mut s = String::new();
    for f in findings {
        let sev = if f.allowed.is_some() {
            "allowed"
        } else {
            f.severity.as_str()
        };
        s.push_str(&format!("{sev}[{}]: {}\n", f.rule, f.message));
        s.push_str(&format!(
            "  --> {}:{}:{}\n",
            f.location.file, f.location.line, f.location.column
        ));
        if let Some(field) = &f.location.field {
            s.push_str(&format!("  = field: {field}\n"));
        }
        s.push_str(&format!("  = reason: {}\n", f.reason));
        s.push_str(&format!("  = help: {}\n", f.help));
        if let Some(why) = &f.allowed {
            s.push_str(&format!("  = allowed by the blueprint: {why}\n"));
        }
        s.push_str(&format!("  = docs: {}\n\n", f.docs));
    }
    let count = |sev: Severity| {
        findings
            .iter()
            .filter(|f| f.allowed.is_none() && f.severity == sev)
            .count()
    };
    let allowed = findings.iter().filter(|f| f.allowed.is_some()).count();
    s.push_str(&format!(
        "lint: {} errors, {} warnings, {} notes, {allowed} allowed\n",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Note)
    ));
    s
}

pub fn json(findings: &[Finding]) -> String {
    serde_json::to_string_pretty(&json!({ "findings": findings })).unwrap_or_default() + "\n"
}

/// SARIF 2.1.0, one run, the whole rule catalogue as the tool's rules.
pub fn sarif(findings: &[Finding]) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.reason },
                "help": { "text": r.help },
                "helpUri": r.docs,
                "defaultConfiguration": { "level": level(r.severity) },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut res = json!({
                "ruleId": f.rule,
                "ruleIndex": RULES.iter().position(|r| r.id == f.rule).unwrap_or(0),
                "level": level(f.severity),
                "message": { "text": format!("{} ({}). {}", f.message, f.reason, f.help) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.location.file.replace('\\', "/") },
                        "region": { "startLine": f.location.line, "startColumn": f.location.column },
                    }
                }],
            });
            if let Some(why) = &f.allowed {
                res["suppressions"] = json!([{ "kind": "inSource", "justification": why }]);
            }
            res
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "aoai-arch",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Does this set of findings fail the run? Errors always; warnings with `--deny warnings`.
pub fn fails(findings: &[Finding], deny_warnings: bool) -> bool {
    findings.iter().any(|f| {
        f.allowed.is_none()
            && (f.severity == Severity::Error || (deny_warnings && f.severity == Severity::Warning))
    })
}
