//! Text on its way to a terminal. Blueprint values and ARM responses end up in errors, plans and
//! progress lines; a control character among them (ESC starting a sequence that clears the
//! screen, moves the cursor or sets the window title, a carriage return that overwrites a line)
//! would act on the user's terminal instead of being read. [`safe`] is applied where the tool
//! prints: every such character is shown as `\uXXXX`, which is also a valid escape inside the
//! JSON strings of `--json` and SARIF output.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as it is: C0 controls but newline and tab, DEL, C1
/// controls (U+0080-U+009F: some terminals take U+009B as CSI), and the Unicode bidirectional
/// overrides and isolates, which reorder what is shown ("Trojan Source").
fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every character a terminal would act on written as `\uXXXX`.
pub fn safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_text_is_kept() {
        assert!(matches!(safe("plain text\n\tindented"), Cow::Borrowed(_)));
        assert_eq!(safe("a\u{1b}[2Jb"), "a\\u001b[2Jb");
        assert_eq!(safe("x\ry"), "x\\u000dy");
        assert_eq!(safe("\u{7f}\u{9b}31m"), "\\u007f\\u009b31m");
        assert_eq!(safe("\u{0}\u{7}\u{8}"), "\\u0000\\u0007\\u0008");
        assert_eq!(safe("abc\u{202e}def"), "abc\\u202edef");
        assert_eq!(safe("é ü 東京 🚀"), "é ü 東京 🚀");
        // Inside a JSON string the escape reads back as the character it replaced.
        let json = format!("{{\"v\": \"{}\"}}", safe("a\u{7f}b\u{85}"));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["v"], "a\u{7f}b\u{85}");
    }
}
