//! Escaping for the three languages templates write into. Handlebars' default HTML escaping is
//! wrong for all of them, so every registry installs one of these as its escape function and the
//! helpers below cover the nested contexts.

/// The inside of a JSON string literal (no surrounding quotes).
pub fn json_string_content(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted[1..quoted.len() - 1].to_string()
}

/// An XML attribute value or text node: safe in both, whichever quote delimits the attribute.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev = '\0';
    for c in s.chars() {
        let after = prev;
        prev = c;
        match c {
            // `--` ends nothing in text or attributes but is not allowed inside a comment, where
            // templates also place values (the policy's header names the APIM service): the
            // second hyphen of a pair is an entity, the same character everywhere else.
            '-' if after == '-' => out.push_str("&#x2D;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            '\t' => out.push_str("&#x9;"),
            // `{{` would start an APIM named-value reference and `@(`/`@{` an expression when
            // APIM reads the value; entities keep user text literal.
            '{' => out.push_str("&#x7B;"),
            '@' => out.push_str("&#x40;"),
            _ => out.push(c),
        }
    }
    out
}

/// The inside of a C# regular string literal, for values placed in policy expressions.
/// The result is then XML-escaped, because the expression itself sits in XML and APIM decodes
/// entities before compiling it.
pub fn csharp_in_xml(s: &str) -> String {
    let mut cs = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => cs.push_str("\\\\"),
            '"' => cs.push_str("\\\""),
            '\n' => cs.push_str("\\n"),
            '\r' => cs.push_str("\\r"),
            '\t' => cs.push_str("\\t"),
            '\0' => cs.push_str("\\0"),
            c if (c as u32) < 0x20 => cs.push_str(&format!("\\u{:04x}", c as u32)),
            _ => cs.push(c),
        }
    }
    xml(&cs)
}

/// Undo [`xml`] (and the standard entities), for tests and for reading policies back.
pub fn xml_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(end) = tail.find(';') else {
            out.push_str(tail);
            return out;
        };
        let ent = &tail[1..end];
        let decoded = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ if ent.starts_with("#x") => u32::from_str_radix(&ent[2..], 16)
                .ok()
                .and_then(char::from_u32),
            _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(&tail[..=end]),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Undo the C# escapes of [`csharp_in_xml`] (after XML unescaping).
pub fn csharp_unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some('u') => {
                let hex: String = it.by_ref().take(4).collect();
                if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    out.push(ch);
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "a\"b'c<d>&e)f{{g}}h\ni\\j@(k)é漢\t";

    #[test]
    fn json_round_trips() {
        let lit = format!("\"{}\"", json_string_content(HOSTILE));
        let back: String = serde_json::from_str(&lit).unwrap();
        assert_eq!(back, HOSTILE);
    }

    #[test]
    fn xml_round_trips_and_hides_markup() {
        let e = xml(HOSTILE);
        for bad in ['<', '>', '"', '\'', '\n', '{', '@'] {
            assert!(!e.contains(bad), "{bad:?} left in {e}");
        }
        assert_eq!(xml_unescape(&e), HOSTILE);
    }

    #[test]
    fn xml_never_writes_a_double_hyphen() {
        for s in ["apim--gw", "a---b", "--", "x-->", "<!--"] {
            let e = xml(s);
            assert!(!e.contains("--"), "{s} -> {e}");
            assert_eq!(xml_unescape(&e), s);
        }
        assert_eq!(xml("a-b"), "a-b");
    }

    #[test]
    fn csharp_round_trips() {
        let e = csharp_in_xml(HOSTILE);
        assert!(!e.contains('"'));
        assert_eq!(csharp_unescape(&xml_unescape(&e)), HOSTILE);
    }
}
