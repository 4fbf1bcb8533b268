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

/// Where a route applies: `(gateway region, deployment the request names)`, each `None` for
/// any (the `otherwise` of its `choose`). Deployments are lower case, as the policy compares them.
pub type RouteKey = (Option<String>, Option<String>);

#[derive(Debug, Clone)]
pub enum Route {
    /// A backend or pool, per gateway region and deployment.
    Backend(BTreeMap<RouteKey, String>),
    /// The rendered round-robin rotation: per region and deployment, `(local backends, other
    /// regions' ones)`.
    RoundRobin(BTreeMap<RouteKey, (Vec<String>, Vec<String>)>),
    None,
}

/// The route a request of `deployment` takes at a gateway of `region`, as the rendered
/// `choose` decides it: the deployment's `when` (its region's, else its `otherwise`), else the
/// `otherwise` of the deployments (its region's, else its own `otherwise`).
pub fn lookup<'a, V>(
    m: &'a BTreeMap<RouteKey, V>,
    region: &str,
    deployment: &str,
) -> Option<&'a V> {
    let r = Some(region_key(region));
    let d = (!deployment.is_empty()).then(|| deployment.to_lowercase());
    m.get(&(r.clone(), d.clone()))
        .or_else(|| m.get(&(None, d)))
        .or_else(|| m.get(&(r, None)))
        .or_else(|| m.get(&(None, None)))
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
    /// The subscription a `when` around the limit requires
    /// (`context.Subscription?.Id == "retail-chat-storefront"`): the limit counts only its calls.
    pub subscription: Option<String>,
}

/// The subscription in `context.Subscription?.Id == "x"` (or `context.Subscription.Id`).
fn subscription_of(condition: &str) -> Option<String> {
    let rest = condition
        .split("context.Subscription?.Id == \"")
        .nth(1)
        .or_else(|| condition.split("context.Subscription.Id == \"").nth(1))?;
    Some(rest.split('"').next()?.to_string())
}

#[derive(Debug, Clone)]
pub struct ApiPolicy {
    pub route: Route,
    pub retry: Option<Retry>,
    pub token_limits: Vec<TokenLimit>,
    /// Why the gateway holds a streamed response until it is complete, if it does: a
    /// `forward-request` that buffers the response, or an outbound that caches, validates or
    /// reads the body of every response, a stream included
    /// (learn.microsoft.com/azure/api-management/how-to-server-sent-events: "set
    /// buffer-response to false", do not log or cache response bodies of streams; read
    /// 2026-12-06). `forward-request`'s `buffer-response` defaults to true
    /// (learn.microsoft.com/azure/api-management/forward-request-policy, read 2026-12-06).
    pub holds_streams: Option<String>,
    /// Responses API follow-ups go to the account that holds their response: the backend is
    /// the remembered one (`stateBackend`), and `retry` moves on to the next account on 404 /
    /// 400 `previous_response_not_found`, as the renderer writes it.
    pub follow_up_routing: bool,
}

/// Why the policy holds streamed responses until complete (see `ApiPolicy::holds_streams`).
fn holds_streams(doc: &roxmltree::Document, exprs: &[Expr]) -> Option<String> {
    for n in doc
        .descendants()
        .filter(|n| n.has_tag_name("forward-request"))
    {
        if n.attribute("buffer-response").map(str::trim) != Some("false") {
            return Some(
                "forward-request buffers the response (buffer-response is not false)".into(),
            );
        }
    }
    let outbound = doc.descendants().find(|n| n.has_tag_name("outbound"))?;
    if let Some(n) = outbound
        .descendants()
        .find(|n| n.has_tag_name("cache-store") || n.has_tag_name("validate-content"))
    {
        return Some(format!(
            "outbound `{}` reads every response whole",
            n.tag_name().name()
        ));
    }
    let range = outbound.range();
    let guarded = |e: &Expr| {
        e.source.contains("text/event-stream")
            || doc
                .descendants()
                .filter(|n| n.has_tag_name("when") && n.range().contains(&e.start))
                .any(|w| {
                    attr_expr(w, exprs, "condition")
                        .is_some_and(|c| c.source.contains("text/event-stream"))
                })
    };
    exprs
        .iter()
        .find(|e| {
            range.contains(&e.start) && e.source.contains("context.Response.Body") && !guarded(e)
        })
        .map(|_| "outbound reads the body of every response, a stream included".to_string())
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

/// The deployment in `context.Variables.GetValueOrDefault<string>("deployment", "") == "chat"`
/// (or `deployment == "chat"` inside an expression).
fn deployment_of(condition: &str) -> Option<String> {
    let rest = condition
        .split("GetValueOrDefault<string>(\"deployment\", \"\") == \"")
        .nth(1)
        .or_else(|| condition.split("deployment == \"").nth(1))?;
    Some(rest.split('"').next()?.to_lowercase())
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
        holds_streams: None,
        follow_up_routing: false,
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
    let mut backends: BTreeMap<RouteKey, String> = BTreeMap::new();
    let mut backend_list: BTreeMap<RouteKey, (Vec<String>, Vec<String>)> = BTreeMap::new();
    let mut rotation = false;
    let mut state_backend = false;
    let mut retry_follow_ups = false;
    for n in doc.descendants().filter(|n| n.is_element()) {
        match n.tag_name().name() {
            "set-backend-service" => {
                let in_backend = n.ancestors().any(|a| a.tag_name().name() == "backend");
                if let Some(e) = attr_expr(n, exprs, "backend-id") {
                    if e.source.contains("rrBackend") && in_backend {
                        rotation = true;
                    } else if e.source.contains("stateBackend") {
                        state_backend = true;
                    } else {
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
                // The region and the deployment the `when`s around it name; an `otherwise`
                // names neither (every other region or deployment).
                let (mut region, mut deployment, mut unknown) = (None, None, false);
                for a in n.ancestors() {
                    match a.tag_name().name() {
                        "when" => {
                            let c = attr_expr(a, exprs, "condition")
                                .map(|e| e.source.as_str())
                                .unwrap_or("");
                            if let Some(r) = region_of(c) {
                                region.get_or_insert(r);
                            } else if let Some(d) = deployment_of(c) {
                                deployment.get_or_insert(d);
                            } else {
                                unknown = true;
                            }
                        }
                        "inbound" | "backend" => break,
                        _ => {}
                    }
                }
                if unknown {
                    notes.push(format!(
                        "{label}: the condition around set-backend-service {id} not interpreted"
                    ));
                } else {
                    backends.insert((region, deployment), id.to_string());
                }
            }
            "set-variable" if n.attribute("name") == Some("backendList") => {
                if let Some(e) = attr_expr(n, exprs, "value") {
                    // `if (deployment == "chat") {` opens a deployment's block, which ends
                    // with its unconditional `return`.
                    let mut deployment = None;
                    for line in e.source.lines() {
                        if line.contains("if (deployment == \"") {
                            deployment = deployment_of(line);
                            continue;
                        }
                        let region = region_of(line);
                        if let Some(v) = line
                            .split("return \"")
                            .nth(1)
                            .and_then(|r| r.split('"').next())
                        {
                            backend_list.insert((region.clone(), deployment.clone()), lists(v));
                            if region.is_none() {
                                deployment = None;
                            }
                        }
                    }
                } else if let Some(v) = n.attribute("value") {
                    backend_list.insert((None, None), lists(v));
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
                retry_follow_ups = cond.contains("\"responseId\"") && cond.contains("404");
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
    out.holds_streams = holds_streams(&doc, exprs);
    out.follow_up_routing = state_backend && retry_follow_ups;
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
        // A `when` around it: for one subscription, or for the v1 or the Azure OpenAI paths
        // (the renderer writes the same limit on the same counter for both: one limit).
        let subscription = n
            .ancestors()
            .filter(|a| a.tag_name().name() == "when")
            .find_map(|w| {
                attr_expr(w, &masked.expressions, "condition")
                    .and_then(|e| subscription_of(&e.source))
            });
        let limit = TokenLimit {
            tokens_per_minute: tpm,
            quota,
            quota_period_s: period,
            counter_key,
            subscription,
        };
        let same = |l: &TokenLimit| {
            (
                l.tokens_per_minute,
                l.quota,
                &l.counter_key,
                &l.subscription,
            ) == (
                limit.tokens_per_minute,
                limit.quota,
                &limit.counter_key,
                &limit.subscription,
            )
        };
        if !out.iter().any(same) {
            out.push(limit);
        }
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
        assert!(matches!(p.route, Route::Backend(m) if m[&(None, None)] == "aoai-pool"));
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
        assert_eq!(m[&(Some("eastus2".to_string()), None)], "pool-eus2");
        assert_eq!(m[&(None, None)], "pool");
        assert!(notes
            .iter()
            .any(|n| n.contains("set-backend-service") && n.contains("not interpreted")));
    }

    #[test]
    fn routes_per_deployment_and_region() {
        let xml = wrap(
            r#"<choose><when condition="@(context.Variables.GetValueOrDefault<string>("deployment", "") == "chat")"><choose><when condition="@(context.Deployment.Region.Equals("East US 2", StringComparison.OrdinalIgnoreCase))"><set-backend-service backend-id="pool-chat-eus2" /></when><otherwise><set-backend-service backend-id="pool-chat" /></otherwise></choose></when><when condition="@(context.Variables.GetValueOrDefault<string>("deployment", "") == "embeddings")"><set-backend-service backend-id="pool-emb" /></when><otherwise><set-backend-service backend-id="pool" /></otherwise></choose>"#,
            "<forward-request />",
        );
        let mut notes = Vec::new();
        let p = parse(&xml, "t", &mut notes);
        assert!(notes.is_empty(), "{notes:?}");
        let Route::Backend(m) = p.route else { panic!() };
        assert_eq!(lookup(&m, "eastus2", "Chat").unwrap(), "pool-chat-eus2");
        assert_eq!(lookup(&m, "westeurope", "chat").unwrap(), "pool-chat");
        assert_eq!(lookup(&m, "eastus2", "embeddings").unwrap(), "pool-emb");
        assert_eq!(lookup(&m, "eastus2", "other").unwrap(), "pool");
        assert_eq!(lookup(&m, "eastus2", "").unwrap(), "pool");
    }

    #[test]
    fn backend_lists_per_deployment() {
        let list = r#"@{
        var deployment = context.Variables.GetValueOrDefault<string>("deployment", "");
        if (deployment == "chat") {
            if (context.Deployment.Region.Equals("East US 2", StringComparison.OrdinalIgnoreCase)) { return "a|b"; }
            return "a,b|";
        }
        return "a,b,c|";
    }"#;
        let xml = wrap(
            &format!(r#"<set-variable name="backendList" value="{list}" />"#),
            r#"<set-backend-service backend-id="@(context.Variables.GetValueOrDefault<string>("rrBackend"))" /><forward-request />"#,
        );
        let mut notes = Vec::new();
        let p = parse(&xml, "t", &mut notes);
        let Route::RoundRobin(m) = p.route else {
            panic!("{notes:?}")
        };
        assert_eq!(lookup(&m, "eastus2", "chat").unwrap().0, vec!["a"]);
        assert_eq!(lookup(&m, "westeurope", "chat").unwrap().0, vec!["a", "b"]);
        assert_eq!(
            lookup(&m, "westeurope", "embeddings").unwrap().0,
            vec!["a", "b", "c"]
        );
    }

    #[test]
    fn limits_on_one_subscription_and_duplicate_branches() {
        let xml = wrap(
            r#"<choose><when condition="@(context.Subscription?.Id == "t-app" && context.Operation.UrlTemplate.StartsWith("/v1/"))"><llm-token-limit counter-key="app:t-app" tokens-per-minute="100" /></when><when condition="@(context.Subscription?.Id == "t-app")"><azure-openai-token-limit counter-key="app:t-app" tokens-per-minute="100" /></when></choose><choose><when condition="@(context.Operation.UrlTemplate.StartsWith("/v1/"))"><llm-token-limit counter-key="team:t" tokens-per-minute="500" /></when><otherwise><azure-openai-token-limit counter-key="team:t" tokens-per-minute="500" /></otherwise></choose>"#,
            "",
        );
        let mut notes = Vec::new();
        let l = token_limits(&xml, "t", &mut notes);
        assert_eq!(l.len(), 2, "{l:?}");
        assert_eq!(l[0].subscription.as_deref(), Some("t-app"));
        assert_eq!(l[1].subscription, None);
        assert_eq!(l[1].tokens_per_minute, Some(500));
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
