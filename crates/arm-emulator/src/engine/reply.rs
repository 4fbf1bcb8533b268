//! What the engine answers: a status, headers, a JSON body, and how to deliver it; ARM's error
//! envelope.

use std::time::Duration;

use serde_json::{json, Value};

/// What the server sends back.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    /// Hold the response this long (slow faults, busy providers, configured latency).
    pub delay: Duration,
    /// Close the connection without a response.
    pub drop: bool,
}

impl Reply {
    pub(crate) fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Some(body),
            delay: Duration::ZERO,
            drop: false,
        }
    }
    pub(crate) fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: None,
            delay: Duration::ZERO,
            drop: false,
        }
    }
    pub(crate) fn header(mut self, k: &str, v: impl Into<String>) -> Reply {
        self.headers.push((k.to_string(), v.into()));
        self
    }
}

pub(crate) fn error(status: u16, code: &str, message: impl Into<String>, target: &str) -> Reply {
    Reply::json(
        status,
        json!({ "error": { "code": code, "message": message.into(), "target": target, "details": [] } }),
    )
}
