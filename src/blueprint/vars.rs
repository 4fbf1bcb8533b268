//! Parameters: `${var.NAME}` in a blueprint, filled from `--var-file FILE` (a YAML mapping of
//! names to scalar values; later files win) and `--var NAME=VALUE` (wins over files), before
//! the blueprint is parsed and validated. A value is checked like the text it replaces, and an
//! error about it points at the place that set it: the line of the var file, or the `--var`
//! flag. A placeholder without a value is an error naming it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{BlueprintError, Pos, Spans};

/// Where a value was set.
#[derive(Debug, Clone)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub source_line: Option<String>,
}

#[derive(Debug, Clone)]
struct Var {
    value: String,
    origin: Origin,
    /// Set by `--var` (not by a var file).
    from_flag: bool,
}

/// Every variable set for this run.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    vars: BTreeMap<String, Var>,
}

/// A placeholder replaced in the blueprint text: where its value now sits.
#[derive(Debug, Clone)]
pub struct Substitution {
    pub name: String,
    pub line: usize,
    /// 1-based columns of the value in the substituted line (`end` exclusive).
    pub start: usize,
    pub end: usize,
    /// Where the YAML value holding the placeholder starts (after `: `, `- `, `, `, `{`, `[`):
    /// an error between there and `end` is about this value.
    pub value_start: usize,
    pub origin: Origin,
}

fn err(
    file: &Path,
    pos: Pos,
    message: String,
    help: Option<String>,
    src: Option<String>,
) -> Box<BlueprintError> {
    Box::new(BlueprintError {
        file: file.to_path_buf(),
        line: pos.line,
        column: pos.column,
        field: String::new(),
        message,
        help,
        source_line: src,
    })
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// What a value may not contain: it is placed into YAML text, and must stay one scalar.
fn unsafe_in_yaml(v: &str) -> Option<&'static str> {
    if v.chars().any(char::is_control) {
        return Some("a control character or line break");
    }
    if v.contains(": ") || v.ends_with(':') {
        return Some("`: `");
    }
    if v.contains(" #") {
        return Some("` #`");
    }
    for (c, what) in [
        ('{', "`{`"),
        ('}', "`}`"),
        ('[', "`[`"),
        (']', "`]`"),
        (',', "`,`"),
        ('"', "`\"`"),
        ('\'', "`'`"),
    ] {
        if v.contains(c) {
            return Some(what);
        }
    }
    None
}

impl Vars {
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// Read the var files in order, then the `--var` flags.
    pub fn collect(files: &[PathBuf], flags: &[String]) -> Result<Vars, Box<BlueprintError>> {
        let mut vars = Vars::default();
        for f in files {
            // A var file is untrusted input like the blueprint: the same size, nesting and
            // alias limits, checked before the deserialiser sees it.
            let text = super::read_text(f, super::limits::MAX_BYTES).map_err(|e| {
                err(
                    f,
                    Pos { line: 1, column: 1 },
                    format!("cannot read var file: {e}"),
                    None,
                    None,
                )
            })?;
            let spans = Spans::parse(&text).map_err(|r| {
                let src = text
                    .lines()
                    .nth(r.pos.line.saturating_sub(1))
                    .map(str::to_string);
                err(f, r.pos, r.message, r.help, src)
            })?;
            let map: BTreeMap<String, serde_norway::Value> = match serde_norway::from_str(&text) {
                Ok(m) => m,
                Err(e) => {
                    let pos = e
                        .location()
                        .map(|l| Pos {
                            line: l.line(),
                            column: l.column(),
                        })
                        .unwrap_or(Pos { line: 1, column: 1 });
                    return Err(err(
                        f,
                        pos,
                        "a var file is a YAML mapping of names to values".into(),
                        Some(format!("{e}")),
                        text.lines()
                            .nth(pos.line.saturating_sub(1))
                            .map(str::to_string),
                    ));
                }
            };
            for (k, v) in map {
                let pos = spans.find(&k);
                let src = text
                    .lines()
                    .nth(pos.line.saturating_sub(1))
                    .map(str::to_string);
                if !valid_name(&k) {
                    return Err(err(
                        f,
                        pos,
                        format!("`{k}` is not a variable name"),
                        Some("letters, digits, `_` and `-`".into()),
                        src,
                    ));
                }
                let value = match v {
                    serde_norway::Value::String(s) => s,
                    serde_norway::Value::Number(n) => n.to_string(),
                    serde_norway::Value::Bool(b) => b.to_string(),
                    _ => {
                        return Err(err(
                            f,
                            pos,
                            format!("var.{k} must be a string, number or boolean"),
                            None,
                            src,
                        ))
                    }
                };
                vars.vars.insert(
                    k,
                    Var {
                        value,
                        from_flag: false,
                        origin: Origin {
                            file: f.clone(),
                            line: pos.line,
                            column: pos.column,
                            source_line: src,
                        },
                    },
                );
            }
        }
        for flag in flags {
            let file = PathBuf::from(format!("--var {flag}"));
            let Some((k, v)) = flag.split_once('=') else {
                return Err(err(
                    &file,
                    Pos { line: 1, column: 1 },
                    format!("`--var {flag}` is not NAME=VALUE"),
                    None,
                    None,
                ));
            };
            if !valid_name(k) {
                return Err(err(
                    &file,
                    Pos { line: 1, column: 1 },
                    format!("`{k}` is not a variable name"),
                    Some("letters, digits, `_` and `-`".into()),
                    None,
                ));
            }
            vars.vars.insert(
                k.to_string(),
                Var {
                    value: v.to_string(),
                    from_flag: true,
                    origin: Origin {
                        file: file.clone(),
                        line: 1,
                        column: k.len() + 2,
                        source_line: None,
                    },
                },
            );
        }
        Ok(vars)
    }

    /// Replace every `${var.NAME}` of the blueprint text. Every problem is reported, not only
    /// the first: each placeholder without a value (at the placeholder), each unsafe value (at
    /// its origin), and each `--var` the blueprint never uses (a misspelt name would otherwise
    /// be silently ignored while the blueprint takes its default).
    pub fn substitute(
        &self,
        path: &Path,
        text: &str,
    ) -> Result<(String, Vec<Substitution>), Vec<BlueprintError>> {
        let mut out = String::with_capacity(text.len());
        let mut subs = Vec::new();
        let mut errors: Vec<BlueprintError> = Vec::new();
        // Every name a placeholder uses, set or not.
        let mut used: Vec<String> = Vec::new();
        for (i, line) in text.split_inclusive('\n').enumerate() {
            // A comment line is left as it is (it may explain the `${var.NAME}` syntax).
            if line.trim_start().starts_with('#') {
                out.push_str(line);
                continue;
            }
            let mut rest = line;
            let mut col = 1; // column in the substituted line, in characters
            let line_start = out.len();
            while let Some(at) = rest.find("${var.") {
                let before = &rest[..at];
                out.push_str(before);
                col += before.chars().count();
                let after = &rest[at + "${var.".len()..];
                let pos = Pos {
                    line: i + 1,
                    column: line[..line.len() - rest.len() + at].chars().count() + 1,
                };
                let Some(close) = after.find('}') else {
                    errors.push(*err(
                        path,
                        pos,
                        "`${var.` without a closing `}`".into(),
                        None,
                        Some(line.trim_end().to_string()),
                    ));
                    rest = "";
                    break;
                };
                let name = &after[..close];
                if !used.iter().any(|u| u == name) {
                    used.push(name.to_string());
                }
                let Some(var) = self.vars.get(name) else {
                    let known: Vec<String> = self.vars.keys().cloned().collect();
                    let help = match super::closest(name, &known) {
                        Some(k) => format!(
                            "did you mean `{k}`? Set it with --var {name}=VALUE or in a --var-file"
                        ),
                        None => format!("set it with --var {name}=VALUE or in a --var-file"),
                    };
                    errors.push(*err(
                        path,
                        pos,
                        format!("variable `{name}` is not set"),
                        Some(help),
                        Some(line.trim_end().to_string()),
                    ));
                    // Keep the placeholder: later errors on the line keep their columns.
                    let placeholder = &rest[at..at + "${var.".len() + close + 1];
                    out.push_str(placeholder);
                    col += placeholder.chars().count();
                    rest = &after[close + 1..];
                    continue;
                };
                if let Some(what) = unsafe_in_yaml(&var.value) {
                    let o = &var.origin;
                    errors.push(*err(
                        &o.file,
                        Pos { line: o.line, column: o.column },
                        format!("the value of var.{name} contains {what}, which would change the blueprint's YAML structure where it is used ({}:{}:{})", path.display(), pos.line, pos.column),
                        Some("use a plain value; quote-free, one line".into()),
                        o.source_line.clone(),
                    ));
                }
                let so_far = &out[line_start..];
                let value_start = [": ", "- ", ", ", "{", "["]
                    .iter()
                    .filter_map(|sep| so_far.rfind(sep).map(|at| at + sep.len()))
                    .max()
                    .map_or(1, |at| so_far[..at].chars().count() + 1);
                out.push_str(&var.value);
                let len = var.value.chars().count();
                subs.push(Substitution {
                    value_start,
                    name: name.to_string(),
                    line: i + 1,
                    start: col,
                    end: col + len,
                    origin: var.origin.clone(),
                });
                col += len;
                rest = &after[close + 1..];
            }
            out.push_str(rest);
        }
        // A `--var` flag names a variable of this blueprint; a var file may serve several
        // blueprints (one file per environment), so its extra entries are not errors.
        for (name, var) in &self.vars {
            if !var.from_flag || used.iter().any(|u| u == name) {
                continue;
            }
            let help = match super::closest(name, &used) {
                Some(u) => format!("did you mean `{u}`?"),
                None if used.is_empty() => "the blueprint has no `${var.NAME}` placeholder".into(),
                None => format!(
                    "the blueprint's variables: {}",
                    used.iter()
                        .map(|u| format!("`{u}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let o = &var.origin;
            errors.push(*err(
                &o.file,
                Pos {
                    line: o.line,
                    column: o.column,
                },
                format!(
                    "`--var {name}` is not a variable of {}: no `${{var.{name}}}` in it",
                    path.display()
                ),
                Some(help),
                None,
            ));
        }
        if errors.is_empty() {
            Ok((out, subs))
        } else {
            Err(errors)
        }
    }
}

/// The variable whose value sits at (or in the value starting at) this line and column.
pub fn at(subs: &[Substitution], line: usize, column: usize) -> Option<&Substitution> {
    subs.iter()
        .find(|s| s.line == line && column >= s.value_start && column <= s.end)
}

/// An error about a value that came from a variable points at where the variable was set.
pub fn relocate(mut e: BlueprintError, subs: &[Substitution]) -> BlueprintError {
    // The placeholder the error points into, or the one inside the value it points at.
    let hit = at(subs, e.line, e.column);
    if let Some(s) = hit {
        e.message = format!(
            "{} (the value of var.{}, used at {}:{}:{})",
            e.message,
            s.name,
            e.file.display(),
            e.line,
            s.start
        );
        e.file = s.origin.file.clone();
        e.line = s.origin.line;
        e.column = s.origin.column;
        e.source_line = s.origin.source_line.clone();
    }
    e
}
