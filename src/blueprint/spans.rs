//! Where each field of a YAML document sits in the file, and the limits every blueprint is held
//! to before serde sees it.
//!
//! serde gives us typed values without positions; checks that run after deserialisation (naming
//! rules, cross-field rules) still have to point at a line and column. This walks the YAML event
//! stream once and records the position of every value under its field path, written the way
//! errors print it: `openai.accounts[1].region`.
//!
//! The same walk refuses, at the line that breaks them, what would let a small file cost a lot
//! (see [`limits`]): nesting deeper than [`limits::MAX_DEPTH`], aliases that expand the document
//! beyond [`limits::MAX_EXPANDED`], keys longer than [`limits::MAX_KEY_BYTES`]; and any user
//! string holding the `${after-apply:` placeholder syntax, which only the renderer may write.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::Marker;

/// Bounds on a blueprint, checked before it is deserialised. Real blueprints are a few KiB,
/// nest about 6 levels and use aliases, if at all, to share a tag map or two.
pub mod limits {
    /// Largest blueprint file read, in bytes (1 MiB).
    pub const MAX_BYTES: usize = 1 << 20;
    /// Deepest nesting of mappings and sequences.
    pub const MAX_DEPTH: usize = 32;
    /// Size of the document with every alias expanded: one unit per node plus the bytes of each
    /// scalar (4 MiB). A billion-laughs file of a few hundred bytes is refused at its first alias
    /// past this.
    pub const MAX_EXPANDED: u64 = 4 << 20;
    /// Longest mapping key, in bytes (Azure's longest names, tag names, are 512 characters).
    pub const MAX_KEY_BYTES: usize = 1024;
    /// Sum of the lengths of every recorded field path (16 MiB): deep nests of long keys.
    pub const MAX_PATH_BYTES: usize = 16 << 20;
}

/// The text no user value may contain: `${after-apply:<id>#<pointer>}` placeholders are resolved
/// by apply from Azure's responses, so a user string holding one would be replaced by whatever
/// that response holds (a connection string in a non-secret named value, say). The `$` is left
/// out so that a value ending in `$` followed by one starting with `{after-apply:` cannot form
/// the placeholder either.
pub const RESERVED: &str = "{after-apply:";

/// A blueprint refused by the walk: where, which field, why.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub pos: Pos,
    pub field: String,
    pub message: String,
    pub help: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Where a file stops being YAML, and why, said for people (not as the parser words it).
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
    pub help: Option<String>,
}

#[derive(Debug, Default)]
pub struct Spans {
    values: HashMap<String, Pos>,
    /// Where the key of a mapping entry is: errors about a whole section point there.
    keys: HashMap<String, Pos>,
    collections: std::collections::HashSet<String>,
    syntax: Option<SyntaxError>,
}

impl Spans {
    /// Walk `text` once: positions of every field, or the first limit it breaks. Syntax errors
    /// are not refusals: the deserialiser reports them with its own position, and the partial
    /// map is still useful for everything before the error.
    pub fn parse(text: &str) -> Result<Spans, Refusal> {
        let mut recv = Recv::default();
        let mut parser = Parser::new_from_str(text);
        let mut syntax = None;
        loop {
            match parser.next_token() {
                Ok((Event::StreamEnd, _)) => break,
                Ok((ev, mark)) => recv.on_event(ev, mark)?,
                // The scanner stops at 255 levels of flow nesting, before it emits the events
                // that would cross ours.
                Err(e) if e.info().contains("recursion limit") => {
                    return Err(recv.too_deep(pos(*e.marker()), recv.peek_path("")));
                }
                Err(e) => {
                    syntax = Some(recv.syntax_error(text, pos(*e.marker()), e.info()));
                    break;
                }
            }
        }
        Ok(Spans {
            values: recv.values,
            keys: recv.keys,
            collections: recv.collections,
            syntax,
        })
    }

    /// The YAML syntax error of the file, if it has one, in words for people.
    pub fn syntax_error(&self) -> Option<&SyntaxError> {
        self.syntax.as_ref()
    }

    /// Position of the value at `path`, or of its nearest ancestor that exists in the file
    /// (a missing field is reported at the mapping that should hold it).
    pub fn find(&self, path: &str) -> Pos {
        let mut p = path.to_string();
        loop {
            if self.collections.contains(&p) {
                if let Some(pos) = self.keys.get(&p) {
                    return *pos;
                }
            }
            if let Some(pos) = self.values.get(&p) {
                return *pos;
            }
            match parent(&p) {
                Some(up) => p = up,
                None => {
                    return self
                        .values
                        .get("")
                        .copied()
                        .unwrap_or(Pos { line: 1, column: 1 })
                }
            }
        }
    }
}

fn parent(path: &str) -> Option<String> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(path[..cut].to_string())
}

enum Frame {
    Map { key: Option<String> },
    Seq { index: usize },
}

/// An open mapping or sequence: its path, where the next child goes, and for the expansion
/// bound its size so far and its anchor (0: none).
struct Open {
    path: String,
    frame: Frame,
    weight: u64,
    anchor: usize,
    /// Where it starts: an unclosed `{` or `[` is reported there.
    start: Pos,
    /// A mapping's keys so far, and the line of each: a key given twice is an error at the
    /// second (YAML parsers differ on which one wins; serde keeps the last, silently).
    seen: HashMap<String, usize>,
}

#[derive(Default)]
struct Recv {
    stack: Vec<Open>,
    values: HashMap<String, Pos>,
    keys: HashMap<String, Pos>,
    collections: std::collections::HashSet<String>,
    /// Expanded size of each anchored node, by anchor id.
    anchors: HashMap<usize, u64>,
    /// Expanded size of the document so far.
    expanded: u64,
    path_bytes: usize,
    /// Documents after the first are checked against the limits but not recorded.
    documents: usize,
}

impl Recv {
    /// The path of the value that the next event starts, and advance the enclosing frame.
    fn next_value_path(&mut self) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Open {
                path: base,
                frame: Frame::Seq { index },
                ..
            }) => {
                let p = format!("{base}[{index}]");
                *index += 1;
                Some(p)
            }
            Some(Open {
                path: base,
                frame: Frame::Map { key },
                ..
            }) => key.take().map(|k| {
                if base.is_empty() {
                    k
                } else {
                    format!("{base}.{k}")
                }
            }),
        }
    }

    fn record(&mut self, path: &str, at: Pos) -> Result<(), Refusal> {
        self.path_bytes += path.len();
        if self.path_bytes > limits::MAX_PATH_BYTES {
            return Err(refusal(
                at,
                path,
                format!(
                    "the blueprint's keys are too long or too deeply nested (field paths over {} bytes)",
                    limits::MAX_PATH_BYTES
                ),
                None,
            ));
        }
        Ok(())
    }

    /// Add a node of `weight` (expanded size) to the document and to its parent.
    fn grow(&mut self, weight: u64, at: Pos, path: &str, alias: bool) -> Result<(), Refusal> {
        self.expanded = self.expanded.saturating_add(weight);
        if let Some(parent) = self.stack.last_mut() {
            parent.weight = parent.weight.saturating_add(weight);
        }
        if self.expanded > limits::MAX_EXPANDED {
            let (message, help) = if alias {
                (
                    format!(
                        "YAML aliases expand this blueprint beyond {} MiB (the limit); this alias is where it crosses it",
                        limits::MAX_EXPANDED >> 20
                    ),
                    Some("an alias bomb (\"billion laughs\")? Write the values out, or share fewer and smaller anchors".to_string()),
                )
            } else {
                (
                    format!(
                        "this blueprint is larger than {} MiB once parsed (the limit)",
                        limits::MAX_EXPANDED >> 20
                    ),
                    None,
                )
            };
            return Err(refusal(at, path, message, help));
        }
        Ok(())
    }

    fn on_event(&mut self, ev: Event, mark: Marker) -> Result<(), Refusal> {
        let at = pos(mark);
        let first = self.documents == 0;
        match ev {
            Event::Scalar(value, _, anchor, _) => {
                if let Some(bad) = value.chars().find(|c| forbidden_control(*c)) {
                    let field = self.peek_path(&value);
                    return Err(refusal(
                        at,
                        &field,
                        format!(
                            "control character U+{:04X} in a blueprint value",
                            bad as u32
                        ),
                        Some("values reach ARM request bodies, policies (XML, where most control characters are not allowed at all) and terminal output: remove it (newlines and tabs are fine)".to_string()),
                    ));
                }
                if value.contains(RESERVED) {
                    let field = self.peek_path(&value);
                    return Err(refusal(
                        at,
                        &field,
                        "`${after-apply:...}` is reserved for values Azure returns, which apply fills in; a blueprint value cannot contain `{after-apply:`".to_string(),
                        Some("write the value without `{after-apply:`; values known only after apply (principal ids, gateway host names, connection strings) are referenced by the templates, never by the blueprint".to_string()),
                    ));
                }
                let weight = 1 + value.len() as u64;
                match self.next_value_path() {
                    Some(path) => {
                        self.record(&path, at)?;
                        self.grow(weight, at, &path, false)?;
                        if first {
                            self.values.insert(path, at);
                        }
                    }
                    None => {
                        // A mapping key: remember it (and where it is, for errors about the key).
                        let Some(Open { path: base, .. }) = self.stack.last() else {
                            return Ok(());
                        };
                        let path = if base.is_empty() {
                            value.clone()
                        } else {
                            format!("{base}.{value}")
                        };
                        if let Some(Open { seen, .. }) = self.stack.last() {
                            if let Some(first_line) = seen.get(&value) {
                                return Err(refusal(
                                    at,
                                    &path,
                                    format!("duplicate key `{value}` (first at line {first_line})"),
                                    Some(
                                        "a key may appear once in a mapping: remove one of them"
                                            .to_string(),
                                    ),
                                ));
                            }
                        }
                        if value.len() > limits::MAX_KEY_BYTES {
                            return Err(refusal(
                                at,
                                base.as_str(),
                                format!(
                                    "a key of {} bytes; keys are limited to {} bytes",
                                    value.len(),
                                    limits::MAX_KEY_BYTES
                                ),
                                None,
                            ));
                        }
                        self.record(&path, at)?;
                        self.grow(weight, at, &path, false)?;
                        if first {
                            self.keys.insert(path, at);
                        }
                        if let Some(Open {
                            frame: Frame::Map { key },
                            seen,
                            ..
                        }) = self.stack.last_mut()
                        {
                            seen.insert(value.clone(), at.line);
                            *key = Some(value);
                        }
                    }
                }
                if anchor != 0 {
                    self.anchors.insert(anchor, weight);
                }
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                let is_map = matches!(ev, Event::MappingStart(..));
                let path = self.next_value_path().unwrap_or_default();
                if self.stack.len() >= limits::MAX_DEPTH {
                    return Err(self.too_deep(at, path));
                }
                self.record(&path, at)?;
                self.grow(1, at, &path, false)?;
                if first {
                    self.values.entry(path.clone()).or_insert(at);
                    self.collections.insert(path.clone());
                }
                let frame = if is_map {
                    Frame::Map { key: None }
                } else {
                    Frame::Seq { index: 0 }
                };
                self.stack.push(Open {
                    path,
                    frame,
                    weight: 1,
                    anchor,
                    start: at,
                    seen: HashMap::new(),
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some(done) = self.stack.pop() {
                    if done.anchor != 0 {
                        self.anchors.insert(done.anchor, done.weight);
                    }
                    // Its size was counted in the document as it grew; only its parent's size
                    // still lacks it.
                    if let Some(parent) = self.stack.last_mut() {
                        parent.weight = parent.weight.saturating_add(done.weight - 1);
                    }
                }
            }
            Event::Alias(id) => {
                let weight = self.anchors.get(&id).copied().unwrap_or(1);
                match self.next_value_path() {
                    Some(path) => {
                        self.record(&path, at)?;
                        self.grow(weight, at, &path, true)?;
                        if first {
                            self.values.insert(path, at);
                        }
                    }
                    None => {
                        // An alias as a mapping key: serde expands it like any other.
                        let base = self
                            .stack
                            .last()
                            .map(|o| o.path.clone())
                            .unwrap_or_default();
                        self.grow(weight, at, &base, true)?;
                        if let Some(Open {
                            frame: Frame::Map { key },
                            ..
                        }) = self.stack.last_mut()
                        {
                            *key = Some("*".to_string());
                        }
                    }
                }
            }
            Event::DocumentEnd => self.documents += 1,
            _ => {}
        }
        Ok(())
    }

    /// The parser's error at `at`, in words for people: a tab in the indentation, or the `{`
    /// or `[` still open where the parser gave up (reported at its own line, where the
    /// missing `}` or `]` belongs, not as a type error of what follows).
    fn syntax_error(&self, text: &str, at: Pos, info: &str) -> SyntaxError {
        let char_at = |p: Pos| {
            text.lines()
                .nth(p.line.saturating_sub(1))
                .and_then(|l| l.chars().nth(p.column.saturating_sub(1)))
        };
        if info.contains("tab") {
            // The parser may stop at the end of the line before; the tab is in the indentation
            // of the first line from there that has one.
            let tab = text
                .lines()
                .enumerate()
                .skip(at.line.saturating_sub(1))
                .find_map(|(i, l)| {
                    let indent = &l[..l.len() - l.trim_start().len()];
                    indent.find('\t').map(|c| Pos {
                        line: i + 1,
                        column: indent[..c].chars().count() + 1,
                    })
                })
                .unwrap_or(at);
            return SyntaxError {
                pos: tab,
                message: "tabs are not allowed in YAML; indent with spaces".into(),
                help: Some(format!("replace the tab on line {} with spaces", tab.line)),
            };
        }
        let open = self
            .stack
            .iter()
            .rev()
            .find_map(|o| match char_at(o.start) {
                Some(c @ ('{' | '[')) => Some((c, o.start)),
                _ => None,
            });
        // A `{` or `[` still open when the parser gives up on a later line, or an error that
        // names the closing character: the bracket was never closed.
        let flow_error = |start: Pos| {
            at.line > start.line
                || info.contains("flow")
                || info.contains("']'")
                || info.contains("'}'")
                || info.contains("end of stream")
        };
        if let Some((c, start)) = open.filter(|(_, start)| flow_error(*start)) {
            let close = if c == '{' { '}' } else { ']' };
            return SyntaxError {
                pos: start,
                message: format!("this `{c}` is not closed"),
                help: Some(format!(
                    "add the `{close}` that ends it (the YAML parser gave up at line {}, column {})",
                    at.line, at.column
                )),
            };
        }
        SyntaxError {
            pos: at,
            message: format!("this is not valid YAML: {info}"),
            help: None,
        }
    }

    fn too_deep(&self, at: Pos, path: String) -> Refusal {
        refusal(
            at,
            &path,
            format!(
                "mappings and sequences nested deeper than {} levels (the limit)",
                limits::MAX_DEPTH
            ),
            None,
        )
    }

    /// The path the scalar `value` is at (a value, or a key), without advancing any frame.
    fn peek_path(&self, value: &str) -> String {
        match self.stack.last() {
            None => String::new(),
            Some(Open {
                path: base,
                frame: Frame::Seq { index },
                ..
            }) => format!("{base}[{index}]"),
            Some(Open {
                path: base,
                frame: Frame::Map { key },
                ..
            }) => {
                let k = key.as_deref().unwrap_or(value);
                if base.is_empty() {
                    k.to_string()
                } else {
                    format!("{base}.{k}")
                }
            }
        }
    }
}

/// Control characters no blueprint value may hold: C0 but tab and newline, DEL and C1. XML 1.0
/// forbids most C0 characters outright, and none of them means anything in a name, a URL or a
/// tag.
fn forbidden_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

fn refusal(pos: Pos, field: &str, message: String, help: Option<String>) -> Refusal {
    Refusal {
        pos,
        field: field.to_string(),
        message,
        help,
    }
}

fn pos(mark: Marker) -> Pos {
    Pos {
        line: mark.line(),
        column: mark.col() + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_nested_paths() {
        let s = Spans::parse("a: 1\nb:\n  c: x\n  d:\n    - e: 1\n    - e: 2\n").unwrap();
        assert_eq!(s.find("a"), Pos { line: 1, column: 4 });
        assert_eq!(s.find("b.c"), Pos { line: 3, column: 6 });
        assert_eq!(
            s.find("b.d[1].e"),
            Pos {
                line: 6,
                column: 10
            }
        );
        // Missing leaf: nearest ancestor; a section is found at its key.
        assert_eq!(s.find("b.d[1].zzz"), s.find("b.d[1]"));
        assert_eq!(s.find("b.d"), Pos { line: 4, column: 3 });
    }
}
