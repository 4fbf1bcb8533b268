//! Rules that read nothing but the policy XML, so they hold for any policy: the rendered one,
//! a user's `lint --policy FILE` with or without a blueprint, and a folder of policies as
//! APIOps-style repositories keep them. A rule that means what a blueprint rule means reuses
//! its id (AOAI004-007, AOAI013); AOAI040..AOAI049 are the rules only a policy can break.

use super::policy_rules::Parsed;
use super::Ctx;

/// The policies that limit request or token rates (what Microsoft recommends right after a
/// cache lookup).
const LIMITS: [&str; 4] = [
    "rate-limit",
    "rate-limit-by-key",
    "azure-openai-token-limit",
    "llm-token-limit",
];
const CACHE_LOOKUPS: [&str; 2] = [
    "azure-openai-semantic-cache-lookup",
    "llm-semantic-cache-lookup",
];
const CACHE_STORES: [&str; 2] = [
    "azure-openai-semantic-cache-store",
    "llm-semantic-cache-store",
];

pub(super) fn policy_xml_rules(c: &mut Ctx, file: &str, xml: &str) {
    let Some(p) = Parsed::new(xml) else { return };
    let doc = p.doc();
    let at = |n: usize| p.line_col(n);

    // The backends the policy chooses between, when every one is written out; with region
    // routing a request only sees its own region's, so the count says nothing then.
    let mut backends: Vec<String> = Vec::new();
    let mut knowable = !xml.contains("context.Deployment.Region");
    for s in doc
        .descendants()
        .filter(|n| n.has_tag_name("set-backend-service"))
    {
        let v = p
            .attr(s, "base-url")
            .or_else(|| p.attr(s, "backend-id"))
            .unwrap_or_default();
        let v = v.trim().to_string();
        if v.starts_with('@') || v.contains("{{") {
            knowable = false;
        } else if !v.is_empty() && !backends.contains(&v) {
            backends.push(v);
        }
    }

    for retry in doc.descendants().filter(|n| n.has_tag_name("retry")) {
        // AOAI004: a retry condition that also replays 4xx responses.
        if let Some(a) = retry.attributes().find(|a| a.name() == "condition") {
            let r = a.range_value();
            if let Some((off, what)) = replays_4xx(&p.original[r.clone()]) {
                let (line, col) = at(r.start + off);
                c.at_file(
                    "AOAI004",
                    file,
                    line,
                    col,
                    format!("retry condition `{what}` also replays 4xx responses"),
                    Some("retry on 429 and 5xx only: @(context.Response.StatusCode == 429 || context.Response.StatusCode >= 500)".into()),
                );
            }
        }
        // AOAI005: fewer retries than backends - 1.
        if let Some(a) = retry.attributes().find(|a| a.name() == "count") {
            if let Ok(count) = p.text(a.range_value()).trim().parse::<usize>() {
                if knowable && count + 1 < backends.len() {
                    let (line, col) = at(a.range().start);
                    c.at_file(
                        "AOAI005",
                        file,
                        line,
                        col,
                        format!("{count} retries for {} backends", backends.len()),
                        Some(format!(
                            "set count=\"{}\" or more, so every backend can be tried",
                            backends.len() - 1
                        )),
                    );
                }
            }
        }
        // AOAI006: a retried forward-request that cannot resend the body.
        for f in retry
            .descendants()
            .filter(|n| n.has_tag_name("forward-request"))
        {
            if p.attr(f, "buffer-request-body").as_deref().map(str::trim) != Some("true") {
                let (line, col) = at(f.range().start);
                c.at_file(
                    "AOAI006",
                    file,
                    line,
                    col,
                    "forward-request inside retry without buffer-request-body=\"true\"".into(),
                    Some("<forward-request buffer-request-body=\"true\" />".into()),
                );
            }
        }
    }

    // AOAI040: set-backend-service with an empty or relative base-url.
    for s in doc
        .descendants()
        .filter(|n| n.has_tag_name("set-backend-service"))
    {
        let Some(a) = s.attributes().find(|a| a.name() == "base-url") else {
            continue;
        };
        let v = p.text(a.range_value());
        let v = v.trim();
        let lower = v.to_ascii_lowercase();
        let what = if v.is_empty() {
            "an empty base-url".to_string()
        } else if v.starts_with('@')
            || v.contains("{{")
            || lower.starts_with("https://")
            || lower.starts_with("http://")
        {
            continue;
        } else {
            format!("a relative base-url `{v}`")
        };
        let (line, col) = at(a.range().start);
        c.at_file(
            "AOAI040",
            file,
            line,
            col,
            format!("set-backend-service with {what}"),
            None,
        );
    }

    // AOAI007: a round-robin counter kept in the cache (internal unless caching-type="external").
    let mut reported = Vec::new();
    for l in doc
        .descendants()
        .filter(|n| n.has_tag_name("cache-lookup-value"))
    {
        let (Some(key), Some(var)) = (p.attr(l, "key"), p.attr(l, "variable-name")) else {
            continue;
        };
        // A counter has one fixed key; a computed key (one entry per id) is a lookup table.
        if key.trim_start().starts_with('@') {
            continue;
        }
        let stored = doc.descendants().any(|n| {
            n.has_tag_name("cache-store-value") && p.attr(n, "key").as_deref() == Some(&key)
        });
        let counts = p.expressions.iter().any(|e| {
            e.source.contains(var.as_str())
                && (e.source.contains('%') || e.source.contains("++") || {
                    let squeezed: String =
                        e.source.chars().filter(|ch| !ch.is_whitespace()).collect();
                    squeezed.contains("+1")
                })
        });
        let external = p.attr(l, "caching-type").as_deref() == Some("external");
        if stored && counts && !external && !reported.contains(&key) {
            let (line, col) = at(l.range().start);
            c.at_file(
                "AOAI007",
                file,
                line,
                col,
                format!("round-robin counter `{key}` kept in the API Management cache"),
                Some("use a backend pool (set-backend-service backend-id=\"<pool>\", type Pool, round-robin), which every gateway region applies on its own without a shared counter".into()),
            );
            reported.push(key);
        }
    }

    // AOAI013: forward-request streams the response, and outbound reads its body without
    // first asking whether the response is a stream (Content-Type text/event-stream), or caches
    // or validates responses (policies that buffer them).
    let streams = doc.descendants().any(|n| {
        n.has_tag_name("forward-request")
            && p.attr(n, "buffer-response").as_deref().map(str::trim) == Some("false")
    });
    if streams {
        if let Some(outbound) = doc.descendants().find(|n| n.has_tag_name("outbound")) {
            let range = outbound.range();
            let guarded = |e: &apim_policy::Expr| {
                e.source.contains("text/event-stream")
                    || doc
                        .descendants()
                        .filter(|n| n.has_tag_name("when") && n.range().contains(&e.start))
                        .any(|w| {
                            p.attr(w, "condition")
                                .is_some_and(|c| c.contains("text/event-stream"))
                        })
            };
            for n in outbound
                .descendants()
                .filter(|n| n.has_tag_name("cache-store") || n.has_tag_name("validate-content"))
            {
                let (line, col) = at(n.range().start);
                c.at_file(
                    "AOAI013",
                    file,
                    line,
                    col,
                    format!(
                        "`{}` buffers the streamed response (forward-request buffer-response=\"false\")",
                        n.tag_name().name()
                    ),
                    Some("do not cache or validate responses of an API that streams (learn.microsoft.com/azure/api-management/how-to-server-sent-events)".into()),
                );
            }
            for e in p.expressions.iter().filter(|e| {
                range.contains(&e.start)
                    && e.source.contains("context.Response.Body")
                    && !guarded(e)
            }) {
                let (line, col) = at(e.start);
                c.at_file(
                    "AOAI013",
                    file,
                    line,
                    col,
                    "outbound reads the response body of a streamed response (forward-request buffer-response=\"false\")".into(),
                    Some("read the body only when the response is not a stream: context.Response.Headers.GetValueOrDefault(\"Content-Type\", \"\").IndexOf(\"text/event-stream\", StringComparison.OrdinalIgnoreCase) < 0".into()),
                );
            }
        }
    }

    // AOAI041: a semantic cache lookup without its store, or a store without its lookup.
    let find = |names: &[&str]| {
        doc.descendants()
            .find(|n| names.iter().any(|t| n.has_tag_name(*t)))
    };
    match (find(&CACHE_LOOKUPS), find(&CACHE_STORES)) {
        (Some(n), None) | (None, Some(n)) => {
            let (line, col) = at(n.range().start);
            let (has, lacks) = if CACHE_LOOKUPS.iter().any(|t| n.has_tag_name(*t)) {
                ("a semantic cache lookup", "store in outbound")
            } else {
                ("a semantic cache store", "lookup in inbound")
            };
            c.at_file(
                "AOAI041",
                file,
                line,
                col,
                format!(
                    "{has} (`{}`) without the matching {lacks}",
                    n.tag_name().name()
                ),
                None,
            );
        }
        _ => {}
    }

    too_many_dimensions(c, file, &p, &doc);
    unbounded_dimensions(c, file, &p, &doc);
    principal_unchecked(c, file, &p, &doc);

    // AOAI048: a cache-counter round robin that never remembers a backend that failed.
    let counter = doc.descendants().find(|l| {
        l.has_tag_name("cache-lookup-value")
            && p.attr(*l, "key").is_some_and(|k| reported.contains(&k))
    });
    let remembers = p
        .expressions
        .iter()
        .any(|e| e.source.to_ascii_lowercase().contains("retry-after"));
    if let (Some(l), false) = (counter, remembers) {
        let (line, col) = at(l.range().start);
        c.at_file(
            "AOAI048",
            file,
            line,
            col,
            "the round robin rotates onto backends that just answered 429 or 5xx".into(),
            None,
        );
    }

    // AOAI042: no rate or token limit right after a semantic cache lookup.
    for l in doc
        .descendants()
        .filter(|n| CACHE_LOOKUPS.iter().any(|t| n.has_tag_name(*t)))
    {
        let next = l.next_siblings().skip(1).find(|n| n.is_element());
        let limited = next.is_some_and(|n| LIMITS.iter().any(|t| n.has_tag_name(*t)));
        if !limited {
            let (line, col) = at(l.range().start);
            c.at_file(
                "AOAI042",
                file,
                line,
                col,
                format!(
                    "`{}` is followed by {} instead of a rate or token limit",
                    l.tag_name().name(),
                    next.map_or("nothing".to_string(), |n| format!(
                        "`{}`",
                        n.tag_name().name()
                    ))
                ),
                None,
            );
        }
    }
}

/// The policies that emit custom metrics to Azure Monitor (at most 10 dimensions each).
const METRICS: [&str; 3] = [
    "emit-metric",
    "azure-openai-emit-token-metric",
    "llm-emit-token-metric",
];

/// AOAI043: more custom dimensions than Azure Monitor keeps for a metric.
fn too_many_dimensions(c: &mut Ctx, file: &str, p: &Parsed, doc: &roxmltree::Document) {
    for m in doc
        .descendants()
        .filter(|n| METRICS.iter().any(|t| n.has_tag_name(*t)))
    {
        let dims: Vec<roxmltree::Node> = m
            .children()
            .filter(|n| n.has_tag_name("dimension"))
            .collect();
        if dims.len() > 10 {
            let (line, col) = p.line_col(dims[10].range().start);
            c.at_file(
                "AOAI043",
                file,
                line,
                col,
                format!(
                    "`{}` with {} dimensions; the 11th and later are more than a policy may configure",
                    m.tag_name().name(),
                    dims.len()
                ),
                None,
            );
        }
    }
}

/// Values a metric dimension must not take: one time series per user, caller address, header
/// or body value (Azure Monitor keeps 50,000 active time series per region and subscription).
const UNBOUNDED: [&str; 8] = [
    "request.headers",
    "claims",
    "ipaddress",
    "request.body",
    "url.query",
    "context.user",
    "requestid",
    "jwt",
];

/// AOAI045: a custom metric dimension whose value is unbounded.
fn unbounded_dimensions(c: &mut Ctx, file: &str, p: &Parsed, doc: &roxmltree::Document) {
    for m in doc
        .descendants()
        .filter(|n| METRICS.iter().any(|t| n.has_tag_name(*t)))
    {
        for d in m.children().filter(|n| n.has_tag_name("dimension")) {
            let name = p.attr(d, "name").unwrap_or_default();
            let value = p.attr(d, "value");
            let what = match value {
                // The default values of these two are per caller.
                None if ["client ip", "user id"]
                    .contains(&name.trim().to_ascii_lowercase().as_str()) =>
                {
                    Some(format!("`{name}` (its default value is one per caller)"))
                }
                Some(v) => {
                    let lower = v.to_ascii_lowercase();
                    UNBOUNDED
                        .iter()
                        .find(|u| lower.contains(*u))
                        .map(|u| format!("`{name}` from `{u}`"))
                }
                None => None,
            };
            if let Some(what) = what {
                let (line, col) = p.line_col(d.range().start);
                c.at_file(
                    "AOAI045",
                    file,
                    line,
                    col,
                    format!("metric dimension {what} has no bound on its values"),
                    None,
                );
            }
        }
    }
}

/// AOAI036: token validation that accepts every principal the issuer knows.
fn principal_unchecked(c: &mut Ctx, file: &str, p: &Parsed, doc: &roxmltree::Document) {
    // A later `when` that reads the caller's application (azp of v2.0 tokens, appid of v1.0
    // ones) and answers by itself: the client applications are checked there.
    let app_checked_at = doc
        .descendants()
        .filter(|n| {
            n.has_tag_name("when")
                && p.attr(*n, "condition").is_some_and(|c| {
                    let c = c.replace("&quot;", "\"");
                    c.contains("\"azp\"") || c.contains("\"appid\"")
                })
                && n.descendants().any(|d| d.has_tag_name("return-response"))
        })
        .map(|n| n.range().start)
        .collect::<Vec<_>>();
    for v in doc
        .descendants()
        .filter(|n| n.has_tag_name("validate-azure-ad-token") || n.has_tag_name("validate-jwt"))
    {
        let has = |t: &str| v.children().any(|n| n.has_tag_name(t));
        if has("required-claims")
            || has("client-application-ids")
            || app_checked_at.iter().any(|at| *at > v.range().start)
        {
            continue;
        }
        let (line, col) = p.line_col(v.range().start);
        c.at_file(
            "AOAI036",
            file,
            line,
            col,
            format!(
                "`{}` checks issuer and audience only: every principal with a token for this audience passes",
                v.tag_name().name()
            ),
            None,
        );
    }
}

/// Where a retry condition replays 4xx responses: `StatusCode >= N` with N below 429,
/// `StatusCode > N` with N below 428, or `StatusCode != 200`. Returns the byte offset (in the
/// raw attribute value) of the comparison and its text.
fn replays_4xx(raw: &str) -> Option<(usize, String)> {
    let mut from = 0;
    while let Some(i) = raw[from..].find("StatusCode") {
        let at = from + i;
        from = at + "StatusCode".len();
        let rest = raw[from..].trim_start();
        let Some((op, after)) = [">=", "&gt;=", "!=", ">", "&gt;"]
            .iter()
            .find_map(|op| rest.strip_prefix(op).map(|r| (*op, r)))
        else {
            continue;
        };
        let after = after.trim_start();
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        let Ok(n) = digits.parse::<u32>() else {
            continue;
        };
        let replays = match op {
            ">=" | "&gt;=" => n < 429,
            ">" | "&gt;" => n < 428,
            _ => n < 300,
        };
        if !replays {
            continue;
        }
        let start = ["context.Response.", "Response."]
            .iter()
            .find(|p| raw[..at].ends_with(*p))
            .map_or(at, |p| at - p.len());
        let end = raw.len() - after.len() + digits.len();
        let text = raw[start..end].replace("&gt;", ">");
        return Some((start, text));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::replays_4xx;

    #[test]
    fn retry_conditions() {
        assert_eq!(
            replays_4xx("@(context.Response.StatusCode >= 400)").map(|(i, _)| i),
            Some(2)
        );
        assert!(replays_4xx("@(context.Response.StatusCode &gt; 399)").is_some());
        assert!(replays_4xx("@(context.Response.StatusCode != 200)").is_some());
        assert!(replays_4xx(
            "@(context.Response.StatusCode == 429 || context.Response.StatusCode >= 500)"
        )
        .is_none());
        assert!(replays_4xx("@(context.Response.StatusCode >= 429)").is_none());
        assert!(replays_4xx(
            "@(context.Response.StatusCode == 429 || context.Response.StatusCode >= 400)"
        )
        .is_some());
    }
}
