//! Reading a blueprint: YAML -> typed [`Blueprint`], with every error pointing at a file, line,
//! column and field path. Nothing is rendered from a blueprint that has not passed [`validate`].

pub mod edge;
pub mod instances;
pub mod networks;
mod owner;
pub mod regions;
mod spans;
pub mod types;
mod validate;
pub mod vars;
pub mod vocab;

use std::fmt;
use std::path::{Path, PathBuf};

pub use owner::owner_id;
pub use spans::{limits, Pos, Spans};
pub use types::*;

/// A problem in a blueprint, located in its file.
#[derive(Debug, Clone)]
pub struct BlueprintError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// Field path, e.g. `openai.accounts[1].region`; empty for the document itself.
    pub field: String,
    pub message: String,
    pub help: Option<String>,
    /// The offending source line, for display.
    pub source_line: Option<String>,
}

/// Longest run of non-blank characters an error shows as it is; a longer one (a 2 KiB key)
/// is shown by its first [`ELIDED_KEEP`] characters and its length, never whole.
const MAX_WORD: usize = 100;
const ELIDED_KEEP: usize = 24;

/// `text` with every run of non-blank characters longer than [`MAX_WORD`] cut short, and the
/// 1-based character column `col` moved to where it now is.
fn elide(text: &str, col: usize) -> (String, usize) {
    let mut out = String::new();
    let mut new_col = col;
    let mut chars = text.char_indices().peekable();
    let mut pos = 0usize; // characters seen
    while let Some(&(_, c)) = chars.peek() {
        if c.is_whitespace() {
            out.push(c);
            chars.next();
            pos += 1;
            continue;
        }
        let word: String =
            std::iter::from_fn(|| chars.next_if(|(_, c)| !c.is_whitespace()).map(|(_, c)| c))
                .collect();
        let n = word.chars().count();
        if n > MAX_WORD {
            let shown: String = word.chars().take(ELIDED_KEEP).collect();
            let short = format!("{shown}…({} bytes)", word.len());
            if col > pos + n {
                new_col = new_col + short.chars().count() - n;
            }
            out.push_str(&short);
        } else {
            out.push_str(&word);
        }
        pos += n;
    }
    (out, new_col)
}

impl fmt::Display for BlueprintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (message, _) = elide(&self.message, 0);
        writeln!(f, "{message}")?;
        write!(
            f,
            "  --> {}:{}:{}",
            self.file.display(),
            self.line,
            self.column
        )?;
        if let Some(src) = &self.source_line {
            let (src, column) = elide(src, self.column);
            let n = self.line.to_string();
            let pad = " ".repeat(n.len());
            write!(f, "\n {pad} |\n {n} | {src}\n {pad} | ")?;
            write!(f, "{}^", " ".repeat(column.saturating_sub(1)))?;
        }
        if !self.field.is_empty() {
            write!(f, "\n  = field: {}", elide(&self.field, 0).0)?;
        }
        if let Some(h) = &self.help {
            write!(f, "\n  = help: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BlueprintError {}

/// A parsed, validated blueprint and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub text: String,
    pub blueprint: Blueprint,
    pub spans: std::sync::Arc<Spans>,
    /// The `${var.NAME}` placeholders filled in `text`, so errors point where a value was set.
    pub substitutions: Vec<vars::Substitution>,
}

impl Loaded {
    /// Position of a field, for findings that point into the blueprint (lint).
    pub fn pos(&self, field: &str) -> Pos {
        self.spans.find(field)
    }
}

/// Read, parse and validate a blueprint file.
pub fn load(path: &Path) -> Result<Loaded, Box<BlueprintError>> {
    parse(path, &read(path)?)
}

/// Most errors one run reports for a file (parse errors, or validation errors); more are
/// counted, not shown.
pub const MAX_ERRORS: usize = 20;

/// Most type errors of a file that are looked for (each one costs a read of the file).
const MAX_TYPE_ERRORS: usize = 100;

/// Read a blueprint, fill its `${var.NAME}` placeholders, parse and validate it; an error
/// about a value that came from a variable points at where the variable was set. Every error
/// of the first stage that fails is returned (variables, then parsing, then validation).
pub fn load_with(path: &Path, vars: &vars::Vars) -> Result<Loaded, Vec<BlueprintError>> {
    let loaded = load_unvalidated_with(path, vars)?;
    let mut errors = validation_errors(&loaded);
    errors.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(errors)
    }
}

/// [`load_with`] without the naming and cross-field checks (for `lint`).
pub fn load_unvalidated_with(
    path: &Path,
    vars: &vars::Vars,
) -> Result<Loaded, Vec<BlueprintError>> {
    let text = read(path).map_err(|e| vec![*e])?;
    let (text, subs) = vars.substitute(path, &text)?;
    let mut loaded = parse_unvalidated_all(path, &text).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| vars::relocate(e, &subs))
            .collect::<Vec<_>>()
    })?;
    loaded.substitutions = subs;
    Ok(loaded)
}

/// Read and parse a blueprint without the naming and cross-field checks (for `lint`).
pub fn load_unvalidated(path: &Path) -> Result<Loaded, Box<BlueprintError>> {
    parse_unvalidated(path, &read(path)?)
}

/// Why a bounded read failed.
pub enum ReadError {
    Io(std::io::Error),
    TooLarge,
    NotUtf8 { offset: usize },
}

/// A text file of at most `max` bytes. Only `max + 1` bytes are ever read (to tell a file at the
/// limit from a larger one), so an oversize file, or a pipe or device that never ends, is refused
/// without being read whole. Used for every file a user names: blueprints and policies.
pub fn read_text(path: &Path, max: usize) -> Result<String, ReadError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let mut bytes = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() > max {
        return Err(ReadError::TooLarge);
    }
    String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
        offset: e.utf8_error().valid_up_to(),
    })
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::TooLarge => write!(
                f,
                "larger than {} bytes (1 MiB), the limit",
                limits::MAX_BYTES
            ),
            ReadError::NotUtf8 { offset } => {
                write!(f, "not UTF-8 text (invalid byte at offset {offset})")
            }
        }
    }
}

fn read(path: &Path) -> Result<String, Box<BlueprintError>> {
    read_text(path, limits::MAX_BYTES).map_err(|e| match e {
        ReadError::TooLarge => too_large(path),
        e => Box::new(BlueprintError {
            file: path.to_path_buf(),
            line: 1,
            column: 1,
            field: String::new(),
            message: format!("cannot read blueprint: {e}"),
            help: None,
            source_line: None,
        }),
    })
}

fn too_large(path: &Path) -> Box<BlueprintError> {
    Box::new(BlueprintError {
        file: path.to_path_buf(),
        line: 1,
        column: 1,
        field: String::new(),
        message: format!(
            "blueprint is larger than {} bytes (1 MiB), the limit",
            limits::MAX_BYTES
        ),
        help: Some("a blueprint is a few KiB; is this the right file?".into()),
        source_line: None,
    })
}

/// Parse and validate blueprint text (`path` is only used in messages).
pub fn parse(path: &Path, text: &str) -> Result<Loaded, Box<BlueprintError>> {
    let loaded = parse_unvalidated(path, text)?;
    match validation_errors(&loaded).into_iter().next() {
        Some(e) => Err(Box::new(e)),
        None => Ok(loaded),
    }
}

/// Every cross-field and naming problem of a parsed blueprint, located.
pub fn validation_errors(loaded: &Loaded) -> Vec<BlueprintError> {
    validate::check(&loaded.blueprint)
        .into_iter()
        .map(|p| {
            let pos = loaded.spans.find(&p.field);
            let e = BlueprintError {
                file: loaded.path.clone(),
                line: pos.line,
                column: pos.column,
                field: p.field,
                message: p.message,
                help: p.help,
                source_line: loaded
                    .text
                    .lines()
                    .nth(pos.line.saturating_sub(1))
                    .map(str::to_string),
            };
            vars::relocate(e, &loaded.substitutions)
        })
        .collect()
}

/// Parse (YAML syntax and types only); naming and cross-field rules are not checked.
pub fn parse_unvalidated(path: &Path, text: &str) -> Result<Loaded, Box<BlueprintError>> {
    parse_unvalidated_all(path, text).map_err(|mut errors| Box::new(errors.swap_remove(0)))
}

/// [`parse_unvalidated`], with every type error of the file, not only the first (see
/// [`more_type_errors`]), in the order of the file.
pub fn parse_unvalidated_all(path: &Path, text: &str) -> Result<Loaded, Vec<BlueprintError>> {
    if text.len() > limits::MAX_BYTES {
        return Err(vec![*too_large(path)]);
    }
    let err_at = |pos: Pos, field: String, message: String, help: Option<String>| BlueprintError {
        file: path.to_path_buf(),
        line: pos.line,
        column: pos.column,
        field,
        message,
        help,
        source_line: text
            .lines()
            .nth(pos.line.saturating_sub(1))
            .map(str::to_string),
    };

    if is_empty_document(text) {
        return Err(vec![err_at(
            Pos { line: 1, column: 1 },
            String::new(),
            "the file is empty".into(),
            Some("a blueprint starts with `version: 1` and `pattern:` (see blueprints/ for examples)".into()),
        )]);
    }
    let spans = Spans::parse(text).map_err(|r| vec![err_at(r.pos, r.field, r.message, r.help)])?;
    let de = serde_norway::Deserializer::from_str(text);
    let blueprint: Blueprint = match serde_path_to_error::deserialize(de) {
        Ok(mut b) => {
            crate::blueprint::networks::resolve_short_refs(&mut b);
            b
        }
        Err(e) => {
            // A file that is not YAML is reported where its syntax breaks, even when serde
            // met a type error first in what the broken syntax made of the text after it.
            if let Some(syntax) = spans.syntax_error() {
                return Err(vec![err_at(
                    syntax.pos,
                    String::new(),
                    syntax.message.clone(),
                    syntax.help.clone(),
                )]);
            }
            let first = TypeError::of(e);
            let pos = first.location.unwrap_or_else(|| spans.find(&first.field));
            let mut errors = vec![err_at(
                pos,
                first.field.clone(),
                first.message.clone(),
                first.help.clone(),
            )];
            for more in more_type_errors(text, first) {
                let pos = spans.find(&more.field);
                errors.push(err_at(pos, more.field, more.message, more.help));
            }
            // In the order of the file, as a reader fixes them.
            errors.sort_by_key(|e| (e.line, e.column));
            return Err(errors);
        }
    };

    Ok(Loaded {
        path: path.to_path_buf(),
        text: text.to_string(),
        blueprint,
        spans: std::sync::Arc::new(spans),
        substitutions: Vec::new(),
    })
}

/// One error of serde, said our way.
#[derive(Clone)]
struct TypeError {
    field: String,
    location: Option<Pos>,
    /// serde's message (for telling a missing field apart).
    raw: String,
    message: String,
    help: Option<String>,
}

impl TypeError {
    fn of(e: serde_path_to_error::Error<serde_norway::Error>) -> TypeError {
        let field = e.path().to_string();
        let field = if field == "." { String::new() } else { field };
        let inner = e.into_inner();
        let location = inner.location().map(|l| Pos {
            line: l.line(),
            column: l.column(),
        });
        let raw = inner.to_string();
        // serde_norway prefixes nested errors with the path; we print the path ourselves.
        let raw = match raw.split_once(": ") {
            Some((prefix, rest)) if !prefix.contains(' ') && field.starts_with(prefix) => {
                rest.to_string()
            }
            _ => raw,
        };
        let (message, help) = explain_serde_error(&raw);
        TypeError {
            field,
            location,
            raw,
            message,
            help,
        }
    }
}

/// The type errors after the first. serde stops at the first error, so the document is read
/// as plain YAML, the value at fault is taken out and the rest is read again, up to
/// [`MAX_TYPE_ERRORS`] times. A field that is then missing because it was taken out is not an
/// error of its own: the mapping that lacks it is taken out too (and so on up), so no error
/// is reported twice and none is made up. A list item is taken out with its list; reading
/// stops at the document itself.
fn more_type_errors(text: &str, first: TypeError) -> Vec<TypeError> {
    let Ok(mut doc) = serde_norway::from_str::<serde_norway::Value>(text) else {
        return Vec::new();
    };
    let mut taken: Vec<String> = Vec::new();
    let mut found = Vec::new();
    let mut current = first;
    for _ in 0..MAX_TYPE_ERRORS * 2 {
        let consequence = current
            .raw
            .strip_prefix("missing field `")
            .and_then(|r| r.split_once('`'))
            .is_some_and(|(f, _)| taken.contains(&join_field(&current.field, f)));
        if !consequence {
            found.push(current.clone());
            if found.len() >= MAX_TYPE_ERRORS {
                break;
            }
        }
        // A list item is taken out with its whole list (the items after it keep their
        // numbers, which the positions of the file are recorded under).
        let mut target = current.field.clone();
        while target.ends_with(']') {
            match target.rfind('[') {
                Some(i) => target.truncate(i),
                None => break,
            }
        }
        if target.is_empty() || target.contains('?') {
            break;
        }
        // A misspelt key is read under the name it was meant to have: its value is still
        // checked, and the field is not reported missing as well.
        let meant = current
            .raw
            .starts_with("unknown field")
            .then_some(current.help.as_deref())
            .flatten()
            .and_then(|h| h.strip_prefix("did you mean `"))
            .and_then(|h| h.split_once('`'))
            .map(|(k, _)| k.to_string());
        let value = match take_field(&mut doc, &target) {
            Some(v) => v,
            None => break,
        };
        match meant {
            Some(k) if put_field(&mut doc, &target, &k, value) => {}
            _ => taken.push(target),
        }
        let Ok(again) = serde_norway::to_string(&doc) else {
            break;
        };
        let de = serde_norway::Deserializer::from_str(&again);
        match serde_path_to_error::deserialize::<_, Blueprint>(de) {
            Ok(_) => break,
            Err(e) => {
                let next = TypeError::of(e);
                if next.field == current.field && next.raw == current.raw {
                    break;
                }
                current = next;
            }
        }
    }
    // The first error is reported by the caller.
    found.into_iter().skip(1).collect()
}

fn join_field(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else {
        format!("{base}.{key}")
    }
}

/// The mapping holding the entry at `field` (`a.b[1].c`), and the entry's key.
fn parent_of<'a>(
    doc: &'a mut serde_norway::Value,
    field: &'a str,
) -> Option<(&'a mut serde_norway::Mapping, &'a str)> {
    let (parent, key) = match field.rfind('.') {
        Some(i) if !field[i..].contains('[') => (&field[..i], &field[i + 1..]),
        Some(_) => return None,
        None => ("", field),
    };
    let mut node = doc;
    if !parent.is_empty() {
        for part in parent.split('.') {
            let (name, indices) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            node = node.get_mut(name)?;
            for index in indices.split(']').filter(|s| !s.is_empty()) {
                let i = index.trim_start_matches('[').parse::<usize>().ok()?;
                node = node.get_mut(i)?;
            }
        }
    }
    Some((node.as_mapping_mut()?, key))
}

/// Take the mapping entry at `field` out of `doc`.
fn take_field(doc: &mut serde_norway::Value, field: &str) -> Option<serde_norway::Value> {
    let (map, key) = parent_of(doc, field)?;
    map.remove(key)
}

/// Put `value` back next to where `field` was, under `key`, unless that key is already set.
fn put_field(
    doc: &mut serde_norway::Value,
    field: &str,
    key: &str,
    value: serde_norway::Value,
) -> bool {
    let Some((map, _)) = parent_of(doc, field) else {
        return false;
    };
    if map.contains_key(key) {
        return false;
    }
    map.insert(serde_norway::Value::String(key.to_string()), value);
    true
}

/// Nothing but blank lines, comments and document markers: there is no blueprint to read.
fn is_empty_document(text: &str) -> bool {
    text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---" || l == "..."
    })
}

/// What serde calls a Rust type, in the words of a blueprint's author.
fn expected_in_words(what: &str) -> String {
    match what.trim() {
        "u8" | "u16" | "u32" => format!(
            "a whole number from 0 to {}",
            match what.trim() {
                "u8" => u8::MAX as u64,
                "u16" => u16::MAX as u64,
                _ => u32::MAX as u64,
            }
        ),
        "u64" | "usize" => "a whole number of 0 or more".into(),
        "i32" | "i64" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "a boolean" => "`true` or `false`".into(),
        "a string" => "text".into(),
        "a sequence" => "a list".into(),
        "a map" => "a mapping (`key: value`)".into(),
        other => match other.strip_prefix("struct ") {
            Some(_) => "a mapping (`key: value`)".into(),
            None => other.to_string(),
        },
    }
}

/// What serde says it found, in the same words.
fn found_in_words(found: &str) -> String {
    let found = found.trim();
    for (prefix, what) in [
        ("string ", "the text "),
        ("integer ", ""),
        ("floating point ", ""),
        ("boolean ", ""),
    ] {
        if let Some(v) = found.strip_prefix(prefix) {
            return format!("{what}{v}");
        }
    }
    match found {
        "sequence" => "a list".into(),
        "map" => "a mapping".into(),
        "unit value" => "an empty value".into(),
        other => other.to_string(),
    }
}

/// Turn serde's wording into ours, adding a "did you mean" for unknown fields and variants.
fn explain_serde_error(raw: &str) -> (String, Option<String>) {
    // serde_norway appends " at line L column C"; we print the location ourselves.
    let msg = match raw.find(" at line ") {
        Some(i) => raw[..i].to_string(),
        None => raw.to_string(),
    };
    // "invalid type: integer `-1`, expected u32": say what is expected, then what was found.
    for kind in ["invalid type: ", "invalid value: "] {
        if let Some((found, expected)) = msg
            .strip_prefix(kind)
            .and_then(|rest| rest.rsplit_once(", expected "))
        {
            if !expected.contains('`') {
                return (
                    format!(
                        "expected {}, found {}",
                        expected_in_words(expected),
                        found_in_words(found)
                    ),
                    None,
                );
            }
        }
    }
    for (kind, what) in [("unknown field", "field"), ("unknown variant", "value")] {
        if let Some(rest) = msg.strip_prefix(kind) {
            let got = between_backticks(rest).unwrap_or_default();
            let expected: Vec<String> = rest
                .split_once("expected")
                .map(|(_, e)| backticked(e))
                .unwrap_or_default();
            let help = match closest(&got, &expected) {
                Some(best) => Some(format!("did you mean `{best}`?")),
                None if !expected.is_empty() => Some(format!(
                    "expected one of {}",
                    expected
                        .iter()
                        .map(|e| format!("`{e}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                None => None,
            };
            return (format!("unknown {what} `{got}`"), help);
        }
    }
    (msg, None)
}

fn between_backticks(s: &str) -> Option<String> {
    backticked(s).into_iter().next()
}

fn backticked(s: &str) -> Vec<String> {
    s.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, p)| p.to_string())
        .collect()
}

/// The candidate closest to `got`, if it is close enough to be a likely typo.
pub fn closest(got: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&got.to_lowercase(), &c.to_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.clone())
}
