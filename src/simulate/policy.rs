//! The parts of a policy the simulation interprets: where a request goes (set-backend-service,
//! the region `choose`, the round-robin rotation), how it is retried (`retry`), and token
//! limits. Expressions are masked with `apim_policy::mask`; only the shapes the renderer writes
//! are recognised, anything else is reported as not interpreted.

use std::collections::BTreeMap;

use apim_policy::{mask, Expr};

/// `eastus2`, `East US 2` and `EastUS2` are one region.
pub fn region_key(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(|c| c.to_lowercase())
        .collect()
}

#[derive(Debug, Clone)]
pub enum Route {
    /// A backend or pool, per gateway region (`None`: every region, the `otherwise`).
    Backend(BTreeMap<Option<String>, String>),
    /// The rendered round-robin rotation: per region, `(local backends, other regions' ones)`.
    RoundRobin(BTreeMap<Option<String>, (Vec<String>, Vec<String>)>),
    None,
}

/// Which answers `retry` retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryOn {
    /// `StatusCode == 429 || StatusCode >= 500`.
    Transient,
    /// `StatusCode >= 400`.
    AnyError,
}

#[derive(Debug, Clone)]
pub struct Retry {
    pub on: RetryOn,
    /// The pool's own 503 (no backend answered it) is not retried.
    pub not_pool_503: bool,
    pub count: u32,
    pub interval_s: f64,
    pub first_fast: bool,
}

#[derive(Debug, Clone)]
pub struct TokenLimit {
    pub tokens_per_minute: Option<u64>,
    pub quota: Option<u64>,
    /// Seconds of the quota period.
    pub quota_period_s: f64,
    pub counter_key: String,
}

#[derive(Debug, Clone)]
pub struct ApiPolicy {
    pub route: Route,
    pub retry: Option<Retry>,
    pub token_limits: Vec<TokenLimit>,
}

/// The expression that is the value of attribute `name` (masked text keeps byte offsets).
fn attr_expr<'a>(node: roxmltree::Node, exprs: &'a [Expr], name: &str) -> Option<&'a Expr> {
    let attr = node.attributes().find(|a| a.name() == name)?;
    let range = attr.range_value();
    exprs
        .iter()
        .find(|e| e.start >= range.start && e.start < range.end.max(range.start + 1))
}

/// The region in `context.Deployment.Region.Equals("East US 2", ...)`.
fn region_of(condition: &str) -> Option<String> {
    let rest = condition
        .split("context.Deployment.Region.Equals(\"")
        .nth(1)?;
    Some(region_key(rest.split('"').next()?))
}

/// `"a,b|c"` -> `(["a","b"], ["c"])`.
fn lists(s: &str) -> (Vec<String>, Vec<String>) {
    let (l, r) = s.split_once('|').unwrap_or((s, ""));
    let split = |x: &str| {
        x.split(',')
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect()
    };
    (split(l), split(r))
}

pub fn parse(xml: &str, label: &str, notes: &mut Vec<String>) -> ApiPolicy {
    let mut out = ApiPolicy {
        route: Route::None,
        retry: None,
        token_limits: Vec::new(),
    };
    let masked = match mask(xml) {
        Ok(m) => m,
        Err(e) => {
            notes.push(format!("{label}: policy not interpreted ({})", e.message));
            return out;
        }
    };
    let doc = match roxmltree::Document::parse(&masked.text) {
        Ok(d) => d,
        Err(e) => {
            notes.push(format!("{label}: policy not interpreted ({e})"));
            return out;
        }
    };
    let exprs = &masked.expressions;
    let mut backends: BTreeMap<Option<String>, String> = BTreeMap::new();
    let mut backend_list: BTreeMap<Option<String>, (Vec<String>, Vec<String>)> = BTreeMap::new();
    let mut rotation = false;
    for n in doc.descendants().filter(|n| n.is_element()) {
        match n.tag_name().name() {
            "set-backend-service" => {
                let in_backend = n.ancestors().any(|a| a.tag_name().name() == "backend");
                if let Some(e) = attr_expr(n, exprs, "backend-id") {
                    if e.source.contains("rrBackend") && in_backend {
                        rotation = true;
                    } else if !e.source.contains("stateBackend") {
                        notes.push(format!(
                            "{label}: set-backend-service {} not interpreted",
                            e.source
                        ));
                    }
                    continue;
                }
                let Some(id) = n.attribute("backend-id") else {
                    continue;
                };
                // The region a `when` around it names, or every region.
                let region = n
                    .ancestors()
                    .find(|a| a.tag_name().name() == "when")
                    .map(|w| attr_expr(w, exprs, "condition").and_then(|e| region_of(&e.source)));
                match region {
                    Some(Some(r)) => {
                        backends.insert(Some(r), id.to_string());
                    }
                    Some(None) => notes.push(format!(
                        "{label}: the condition around set-backend-service {id} not interpreted"
                    )),
                    None => {
                        backends.insert(None, id.to_string());
                    }
                }
            }
            "set-variable" if n.attribute("name") == Some("backendList") => {
                if let Some(e) = attr_expr(n, exprs, "value") {
                    for line in e.source.lines() {
                        let region = region_of(line);
                        if let Some(v) = line
                            .split("return \"")
                            .nth(1)
                            .and_then(|r| r.split('"').next())
                        {
                            backend_list.insert(region, lists(v));
                        }
                    }
                } else if let Some(v) = n.attribute("value") {
                    backend_list.insert(None, lists(v));
                }
            }
            "retry" => {
                let cond = attr_expr(n, exprs, "condition")
                    .map(|e| e.source.clone())
                    .unwrap_or_default();
                let on = if cond.contains(
                    "context.Response.StatusCode == 429 || context.Response.StatusCode >= 500",
                ) {
                    Some(RetryOn::Transient)
                } else if cond.contains("context.Response.StatusCode >= 400") {
                    Some(RetryOn::AnyError)
                } else {
                    None
                };
                let count = n.attribute("count").and_then(|c| c.parse().ok());
                let interval = n.attribute("interval").and_then(|c| c.parse().ok());
                match (on, count, interval) {
                    (Some(on), Some(count), Some(interval_s)) => {
                        out.retry = Some(Retry {
                            on,
                            // Either way of telling the pool's own 503 from a backend's:
                            // no apim-request-id (what the render writes) or its status reason.
                            not_pool_503: cond.contains("Backend pool")
                                || cond.contains(
                                    "!context.Response.Headers.ContainsKey(\"apim-request-id\")",
                                ),
                            count,
                            interval_s,
                            first_fast: n.attribute("first-fast-retry") == Some("true"),
                        })
                    }
                    _ => notes.push(format!(
                        "{label}: retry condition {cond} not interpreted: no retry simulated"
                    )),
                }
            }
            _ => {}
        }
    }
    out.token_limits = token_limits(xml, label, notes);
    out.route = if rotation {
        Route::RoundRobin(backend_list)
    } else if !backends.is_empty() {
        Route::Backend(backends)
    } else {
        notes.push(format!(
            "{label}: no set-backend-service interpreted: requests are not served"
        ));
        Route::None
    };
    out
}

/// `llm-token-limit` / `azure-openai-token-limit` elements anywhere in a policy.
pub fn token_limits(xml: &str, label: &str, notes: &mut Vec<String>) -> Vec<TokenLimit> {
    let Ok(masked) = mask(xml) else {
        return Vec::new();
    };
    let Ok(doc) = roxmltree::Document::parse(&masked.text) else {
        notes.push(format!("{label}: policy not interpreted"));
        return Vec::new();
    };
    let mut out = Vec::new();
    for n in doc.descendants().filter(|n| {
        matches!(
            n.tag_name().name(),
            "llm-token-limit" | "azure-openai-token-limit"
        )
    }) {
        let num = |a: &str| n.attribute(a).and_then(|v| v.parse::<u64>().ok());
        let tpm = num("tokens-per-minute");
        let quota = num("token-quota");
        if tpm.is_none() && quota.is_none() {
            notes.push(format!(
                "{label}: {} without literal tokens-per-minute or token-quota not interpreted",
                n.tag_name().name()
            ));
            continue;
        }
        // token-quota-period: Hourly, Daily, Weekly, Monthly, Yearly.
        let period = match n.attribute("token-quota-period").unwrap_or("Monthly") {
            "Hourly" => 3600.0,
            "Daily" => 86_400.0,
            "Weekly" => 7.0 * 86_400.0,
            "Yearly" => 365.0 * 86_400.0,
            _ => 30.0 * 86_400.0,
        };
        let counter_key = attr_expr(n, &masked.expressions, "counter-key")
            .map(|e| e.source.clone())
            .or_else(|| n.attribute("counter-key").map(str::to_string))
            .unwrap_or_default();
        out.push(TokenLimit {
            tokens_per_minute: tpm,
            quota,
            quota_period_s: period,
            counter_key,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrap(inbound: &str, backend: &str) -> String {
        format!("<policies><inbound><base />{inbound}</inbound><backend>{backend}</backend><outbound><base /></outbound><on-error><base /></on-error></policies>")
    }

    #[test]
    fn rendered_retry_shapes_are_recognised() {
        let xml = wrap(
            r#"<set-backend-service backend-id="aoai-pool" />"#,
            r#"<retry condition="@((context.Response.StatusCode == 429 || context.Response.StatusCode >= 500) && !(context.Response.StatusCode == 503 && (context.Response.StatusReason ?? "").Contains("Backend pool")))" count="2" interval="1" first-fast-retry="true"><forward-request /></retry>"#,
        );
        let mut notes = Vec::new();
        let p = parse(&xml, "t", &mut notes);
        assert!(notes.is_empty(), "{notes:?}");
        let r = p.retry.unwrap();
        assert_eq!(
            (r.on, r.count, r.interval_s, r.first_fast, r.not_pool_503),
            (RetryOn::Transient, 2, 1.0, true, true)
        );
        assert!(matches!(p.route, Route::Backend(m) if m[&None] == "aoai-pool"));
    }

    #[test]
    fn an_unknown_retry_condition_is_not_interpreted_and_not_retried() {
        let xml = wrap(
            r#"<set-backend-service backend-id="b" />"#,
            r#"<retry condition="@(context.Response.StatusCode == 418)" count="3" interval="0"><forward-request /></retry>"#,
        );
        let mut notes = Vec::new();
        let p = parse(&xml, "t", &mut notes);
        assert!(p.retry.is_none());
        assert!(
            notes.iter().any(|n| n.contains("not interpreted")),
            "{notes:?}"
        );
    }

    #[test]
    fn region_routing_and_expression_backends() {
        let xml = wrap(
            r#"<choose><when condition="@(context.Deployment.Region.Equals("East US 2", StringComparison.OrdinalIgnoreCase))"><set-backend-service backend-id="pool-eus2" /></when><otherwise><set-backend-service backend-id="pool" /></otherwise></choose><set-backend-service backend-id="@(context.Variables.GetValueOrDefault<string>("x"))" />"#,
            "<forward-request />",
        );
        let mut notes = Vec::new();
        let p = parse(&xml, "t", &mut notes);
        let Route::Backend(m) = p.route else { panic!() };
        assert_eq!(m[&Some("eastus2".to_string())], "pool-eus2");
        assert_eq!(m[&None], "pool");
        assert!(notes
            .iter()
            .any(|n| n.contains("set-backend-service") && n.contains("not interpreted")));
    }

    #[test]
    fn token_limits_read_their_attributes() {
        let xml = wrap(
            r#"<llm-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="5000" token-quota="100000" token-quota-period="Daily" />"#,
            "",
        );
        let mut notes = Vec::new();
        let l = token_limits(&xml, "t", &mut notes);
        assert_eq!(l.len(), 1);
        assert_eq!(
            (l[0].tokens_per_minute, l[0].quota, l[0].quota_period_s),
            (Some(5000), Some(100_000), 86_400.0)
        );
        assert_eq!(l[0].counter_key, "@(context.Subscription.Id)");
    }
}
