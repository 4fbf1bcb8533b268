//! What may be printed. Secrets never reach output: tokens, keys, connection strings and SAS
//! signatures are replaced before anything is traced. Control characters never reach a
//! terminal: [`terminal_safe`] is the one escaping function, used by this client's traces and
//! notices and by every print site of aoai-arch (`aoai_arch::terminal`).

use std::borrow::Cow;

use serde_json::Value;

const SECRET_KEYS: &[&str] = &[
    "access_token",
    "accesstoken",
    "refresh_token",
    "client_secret",
    "primarykey",
    "secondarykey",
    "primaryconnectionstring",
    "secondaryconnectionstring",
    "connectionstring",
    "instrumentationkey",
    "password",
    "key",
    "value_secret",
];

fn secret_key(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    SECRET_KEYS.contains(&k.as_str())
}

fn walk(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if secret_key(k) && !x.is_null() {
                    *x = Value::String("[redacted]".into());
                } else {
                    walk(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(walk),
        Value::String(s) => *s = redact_text(s),
        _ => {}
    }
}

/// Redact bearer tokens and SAS signatures in free text.
fn redact_text(s: &str) -> String {
    let mut out = s.to_string();
    for marker in [
        "Bearer ",
        "bearer ",
        "sig=",
        "SharedAccessKey=",
        "AccountKey=",
    ] {
        let mut from = 0;
        while let Some(i) = out[from..].find(marker) {
            let start = from + i + marker.len();
            let end = out[start..]
                .find(|c: char| c.is_whitespace() || c == '&' || c == ';' || c == '"' || c == ',')
                .map(|j| start + j)
                .unwrap_or(out.len());
            out.replace_range(start..end, "[redacted]");
            from = start + "[redacted]".len();
        }
    }
    out
}

/// A body (JSON or not) with every secret replaced by `[redacted]`.
pub fn redact(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(mut v) => {
            walk(&mut v);
            serde_json::to_string_pretty(&v).unwrap_or_default()
        }
        Err(_) => redact_text(body),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_redacted() {
        let body = r#"{"access_token":"eyJ0eXAi.abc","properties":{"primaryKey":"k1","url":"https://x?sv=1&sig=SECRETSIG&se=2","note":"Bearer abc.def"}}"#;
        let r = super::redact(body);
        for s in ["eyJ0eXAi", "k1", "SECRETSIG", "abc.def"] {
            assert!(!r.contains(s), "{s} leaked: {r}");
        }
        assert!(r.contains("sv=1"));
        assert_eq!(
            super::redact("Authorization: Bearer tok123 next"),
            "Authorization: Bearer [redacted] next"
        );
    }
}

/// Whether `c` must not reach a terminal as it is: C0 controls but newline and tab, DEL, C1
/// controls (U+0080-U+009F: some terminals take U+009B as CSI), and the Unicode bidirectional
/// overrides and isolates, which reorder what is shown ("Trojan Source").
fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every character a terminal would act on written as `\uXXXX`.
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
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
mod terminal_tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_text_is_kept() {
        assert!(matches!(
            terminal_safe("plain text\n\tindented"),
            Cow::Borrowed(_)
        ));
        assert_eq!(terminal_safe("a\u{1b}[2Jb"), "a\\u001b[2Jb");
        assert_eq!(terminal_safe("x\ry"), "x\\u000dy");
        assert_eq!(terminal_safe("\u{7f}\u{9b}31m"), "\\u007f\\u009b31m");
        assert_eq!(terminal_safe("\u{0}\u{7}\u{8}"), "\\u0000\\u0007\\u0008");
        assert_eq!(terminal_safe("abc\u{202e}def"), "abc\\u202edef");
        assert_eq!(terminal_safe("é ü 東京 🚀"), "é ü 東京 🚀");
        // Inside a JSON string the escape reads back as the character it replaced.
        let json = format!("{{\"v\": \"{}\"}}", terminal_safe("a\u{7f}b\u{85}"));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["v"], "a\u{7f}b\u{85}");
    }
}
