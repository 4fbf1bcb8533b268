//! Where each field of a YAML document sits in the file.
//!
//! serde gives us typed values without positions; checks that run after deserialisation (naming
//! rules, cross-field rules) still have to point at a line and column. This walks the YAML event
//! stream once and records the position of every value under its field path, written the way
//! errors print it: `openai.accounts[1].region`.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Default)]
pub struct Spans {
    values: HashMap<String, Pos>,
    /// Where the key of a mapping entry is: errors about a whole section point there.
    keys: HashMap<String, Pos>,
    collections: std::collections::HashSet<String>,
}

impl Spans {
    pub fn parse(text: &str) -> Spans {
        let mut recv = Recv::default();
        let mut parser = Parser::new_from_str(text);
        // Syntax errors are reported by the deserialiser with its own position; a partial map is
        // still useful for everything before the error.
        let _ = parser.load(&mut recv, false);
        Spans {
            values: recv.values,
            keys: recv.keys,
            collections: recv.collections,
        }
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

#[derive(Default)]
struct Recv {
    stack: Vec<(String, Frame)>,
    values: HashMap<String, Pos>,
    keys: HashMap<String, Pos>,
    collections: std::collections::HashSet<String>,
}

impl Recv {
    /// The path of the value that the next event starts, and advance the enclosing frame.
    fn next_value_path(&mut self) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some((base, Frame::Seq { index })) => {
                let p = format!("{base}[{index}]");
                *index += 1;
                Some(p)
            }
            Some((base, Frame::Map { key })) => key.take().map(|k| {
                if base.is_empty() {
                    k
                } else {
                    format!("{base}.{k}")
                }
            }),
        }
    }
}

fn pos(mark: Marker) -> Pos {
    Pos {
        line: mark.line(),
        column: mark.col() + 1,
    }
}

impl MarkedEventReceiver for Recv {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, ..) => match self.next_value_path() {
                Some(path) => {
                    self.values.insert(path, pos(mark));
                }
                None => {
                    // A mapping key: remember it (and where it is, for errors about the key).
                    if let Some((base, Frame::Map { key })) = self.stack.last_mut() {
                        let path = if base.is_empty() {
                            value.clone()
                        } else {
                            format!("{base}.{value}")
                        };
                        self.keys.insert(path, pos(mark));
                        *key = Some(value);
                    }
                }
            },
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_map = matches!(ev, Event::MappingStart(..));
                let path = self.next_value_path().unwrap_or_default();
                self.values.entry(path.clone()).or_insert(pos(mark));
                self.collections.insert(path.clone());
                let frame = if is_map {
                    Frame::Map { key: None }
                } else {
                    Frame::Seq { index: 0 }
                };
                self.stack.push((path, frame));
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            Event::Alias(_) => {
                if let Some(path) = self.next_value_path() {
                    self.values.insert(path, pos(mark));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_nested_paths() {
        let s = Spans::parse("a: 1\nb:\n  c: x\n  d:\n    - e: 1\n    - e: 2\n");
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
