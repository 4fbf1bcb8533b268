//! Finding policy expressions and named values without an XML parser (the document is not
//! well-formed until they are masked). A small C# lexer keeps track of string, verbatim,
//! interpolated and char literals and comments, so a `)` or `}` inside them does not end the
//! expression.

use crate::{Diagnostic, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprKind {
    /// `@( ... )`
    SingleStatement,
    /// `@{ ... }`
    MultiStatement,
    /// `{{name}}`
    NamedValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    /// Byte range in the original text.
    pub start: usize,
    pub end: usize,
    pub kind: ExprKind,
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct Masked {
    /// The text with every expression and named value replaced by `x` (newlines kept), so
    /// byte offsets and line numbers are the original ones.
    pub text: String,
    pub expressions: Vec<Expr>,
}

fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// Where the expression starting at `open` (the `(` or `{` after `@`) ends: the index just
/// after its matching close, or `None` when it never closes.
fn expression_end(b: &[u8], open: usize) -> Option<usize> {
    let mut stack: Vec<u8> = vec![if b[open] == b'(' { b')' } else { b'}' }];
    let mut i = open + 1;
    while i < b.len() {
        let c = b[i];
        // XML entities standing for quotes in attribute values.
        if b[i..].starts_with(b"&quot;") {
            i = skip_string(b, i + 6, b"&quot;", false)?;
            continue;
        }
        match c {
            b'"' => i = skip_string(b, i + 1, b"\"", false)?,
            b'@' if b.get(i + 1) == Some(&b'"') => i = skip_string(b, i + 2, b"\"", true)?,
            b'$' if b.get(i + 1) == Some(&b'"') => i = skip_interpolated(b, i + 2, false)?,
            b'$' if b[i + 1..].starts_with(b"@\"") => i = skip_interpolated(b, i + 3, true)?,
            b'@' if b[i + 1..].starts_with(b"$\"") => i = skip_interpolated(b, i + 3, true)?,
            b'\'' => i = skip_char(b, i + 1)?,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let rest = &b[i + 2..];
                let end = rest.windows(2).position(|w| w == b"*/")?;
                i += 2 + end + 2;
            }
            b'(' => {
                stack.push(b')');
                i += 1;
            }
            b'{' => {
                stack.push(b'}');
                i += 1;
            }
            b'[' => {
                stack.push(b']');
                i += 1;
            }
            b')' | b'}' | b']' => {
                if stack.last() == Some(&c) {
                    stack.pop();
                }
                i += 1;
                if stack.is_empty() {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// After an opening quote: the index after the closing one. Regular strings use `\` escapes;
/// verbatim strings double the quote.
fn skip_string(b: &[u8], mut i: usize, quote: &[u8], verbatim: bool) -> Option<usize> {
    while i < b.len() {
        if !verbatim && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i..].starts_with(quote) {
            if verbatim && b[i + quote.len()..].starts_with(quote) {
                i += 2 * quote.len();
                continue;
            }
            return Some(i + quote.len());
        }
        i += 1;
    }
    None
}

/// `$"..{expr}.."`: holes are expressions; `{{` and `}}` are literal braces.
fn skip_interpolated(b: &[u8], mut i: usize, verbatim: bool) -> Option<usize> {
    while i < b.len() {
        match b[i] {
            b'\\' if !verbatim => i += 2,
            b'"' if verbatim && b.get(i + 1) == Some(&b'"') => i += 2,
            b'"' => return Some(i + 1),
            b'{' if b.get(i + 1) == Some(&b'{') => i += 2,
            b'}' if b.get(i + 1) == Some(&b'}') => i += 2,
            b'{' => i = expression_end(b, i)?,
            _ => i += 1,
        }
    }
    None
}

fn skip_char(b: &[u8], mut i: usize) -> Option<usize> {
    if b.get(i) == Some(&b'\\') {
        i += 2;
    } else {
        i += 1;
    }
    // Unicode escapes and such: up to the closing quote, briefly.
    let limit = (i + 8).min(b.len());
    (i..limit).find(|&j| b[j] == b'\'').map(|j| j + 1)
}

/// Mask every `@(...)`, `@{...}` and `{{name}}` in a policy document.
pub fn mask(text: &str) -> Result<Masked, Diagnostic> {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut exprs = Vec::new();
    let mut i = 0;
    while i < b.len() {
        // XML comments and CDATA hold no expressions.
        if b[i..].starts_with(b"<!--") {
            match b[i..].windows(3).position(|w| w == b"-->") {
                Some(p) => {
                    i += p + 3;
                    continue;
                }
                None => break,
            }
        }
        if b[i] == b'@' && b.get(i + 1) == Some(&b'@') {
            i += 2;
            continue;
        }
        let kind = match (b[i], b.get(i + 1)) {
            (b'@', Some(b'(')) => Some(ExprKind::SingleStatement),
            (b'@', Some(b'{')) => Some(ExprKind::MultiStatement),
            (b'{', Some(b'{')) => Some(ExprKind::NamedValue),
            _ => None,
        };
        let Some(kind) = kind else {
            i += 1;
            continue;
        };
        let end = match kind {
            ExprKind::NamedValue => text[i + 2..].find("}}").map(|p| i + 2 + p + 2),
            _ => expression_end(b, i + 1),
        };
        let Some(end) = end else {
            let (line, column) = line_col(text, i);
            let what = if kind == ExprKind::NamedValue {
                "named value"
            } else {
                "policy expression"
            };
            return Err(Diagnostic {
                line,
                column,
                severity: Severity::Error,
                code: "unterminated-expression",
                message: format!("this {what} never closes"),
                help: Some("check the brackets, braces and string quotes of the expression".into()),
            });
        };
        for byte in out.iter_mut().take(end).skip(i) {
            if *byte != b'\n' && *byte != b'\r' {
                *byte = b'x';
            }
        }
        exprs.push(Expr {
            start: i,
            end,
            kind,
            source: text[i..end].to_string(),
        });
        i = end;
    }
    Ok(Masked {
        text: String::from_utf8(out).unwrap_or_default(),
        expressions: exprs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> String {
        let m = mask(src).unwrap();
        assert_eq!(m.text.len(), src.len());
        m.expressions[0].source.clone()
    }

    #[test]
    fn literals_do_not_close_expressions() {
        assert_eq!(one(r#"<a v="@(x == ")")"/>"#), r#"@(x == ")")"#);
        assert_eq!(one(r#"<a v="@(x == @"a""b)")"/>"#), r#"@(x == @"a""b)")"#);
        assert_eq!(
            one(r#"<a v="@($"{a(1)}) {{ }}")"/>"#),
            r#"@($"{a(1)}) {{ }}")"#
        );
        assert_eq!(
            one(r#"<a v="@(c == ')' || c == '\'')"/>"#),
            r#"@(c == ')' || c == '\'')"#
        );
        assert_eq!(
            one("<a>@{ // a ) comment\n return \"}\"; /* } */ }</a>"),
            "@{ // a ) comment\n return \"}\"; /* } */ }"
        );
        assert_eq!(
            one(r#"<a v="@(x.Any(y => y.Contains(&quot;)&quot;)))"/>"#),
            r#"@(x.Any(y => y.Contains(&quot;)&quot;)))"#
        );
    }

    #[test]
    fn named_values_and_positions() {
        let src = "<a>\n  <b v=\"{{nv-1}}\">@(1 < 2 && \"<\" != \"&\")</b>\n</a>";
        let m = mask(src).unwrap();
        assert_eq!(m.expressions.len(), 2);
        assert_eq!(m.expressions[0].kind, ExprKind::NamedValue);
        assert!(roxmltree::Document::parse(&m.text).is_ok(), "{}", m.text);
        assert_eq!(m.text.lines().count(), 3);
    }

    #[test]
    fn unterminated_is_located() {
        let e = mask("<a>\n <b v=\"@(foo(\"/>\n</a>").unwrap_err();
        assert_eq!(
            (e.line, e.column, e.code),
            (2, 8, "unterminated-expression")
        );
    }
}
