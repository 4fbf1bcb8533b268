//! Secrets never reach output: tokens, keys, connection strings and SAS signatures are
//! replaced before anything is traced.

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
