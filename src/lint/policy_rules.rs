//! Rules AOAI030..AOAI039 and AOAI044..AOAI047: what a gateway policy must do to work with the
//! tokens Microsoft Entra issues (and who may call), the regions APIM reports, the Front Door in
//! front of it (its timeout), the pools behind it and the telemetry it emits.
//! Each policy rule reads the policy text (rendered, or passed with `lint --policy`), so a
//! user's own policy is held to the same rules as the rendered one.

use apim_policy::{mask, ExprKind};

use super::Ctx;
use crate::blueprint::Blueprint;
use crate::model::Model;
use crate::render::Rendered;

/// The Entra token version a value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

/// `https://sts.windows.net/<tenant>/` is v1.0; `https://login.microsoftonline.com/<tenant>/v2.0`
/// is v2.0 (any other issuer is not Entra's, and not judged).
fn issuer_version(issuer: &str) -> Option<Version> {
    let i = issuer.trim().to_ascii_lowercase();
    if i.contains("sts.windows.net/") {
        Some(Version::V1)
    } else if i.contains("login.microsoftonline.") && i.trim_end_matches('/').ends_with("/v2.0") {
        Some(Version::V2)
    } else {
        None
    }
}

/// The issuer an Entra OpenID configuration document announces, which validate-jwt accepts
/// when no `issuers` are listed: the v2.0 document names the v2.0 issuer, the tenant's v1.0
/// document (`/<tenant>/.well-known/openid-configuration`) the v1.0 issuer.
fn openid_config_version(url: &str) -> Option<Version> {
    let u = url.trim().to_ascii_lowercase();
    if !u.contains("login.microsoftonline.") || !u.ends_with("/.well-known/openid-configuration") {
        return None;
    }
    Some(if u.contains("/v2.0/.well-known/") {
        Version::V2
    } else {
        Version::V1
    })
}

fn is_guid(s: &str) -> bool {
    let s = s.trim();
    s.len() == 36
        && s.char_indices().all(|(i, ch)| match i {
            8 | 13 | 18 | 23 => ch == '-',
            _ => ch.is_ascii_hexdigit(),
        })
}

/// `Some(message)` when no Entra token can pass both checks: every accepted issuer is the v2.0
/// issuer, and no audience is a client id (a v2.0 token's `aud` is always the client id GUID;
/// `api://...` is the `aud` of v1.0 tokens only). Values this cannot read (expressions, named
/// values it cannot resolve, other issuers) make it say nothing.
fn version_mismatch(
    openid_configs: &[String],
    issuers: &[String],
    audiences: &[String],
) -> Option<String> {
    let issuer_versions: Vec<Option<Version>> = if issuers.is_empty() {
        openid_configs
            .iter()
            .map(|u| openid_config_version(u))
            .collect()
    } else {
        issuers.iter().map(|i| issuer_version(i)).collect()
    };
    let all_v2 =
        !issuer_versions.is_empty() && issuer_versions.iter().all(|v| *v == Some(Version::V2));
    let readable = |a: &String| !a.contains("{{") && !a.trim_start().starts_with('@');
    let uri_only = !audiences.is_empty() && audiences.iter().all(|a| readable(a) && !is_guid(a));
    (all_v2 && uri_only).then(|| {
        format!(
            "the v2.0 issuer{} is paired with audience{} {}: a v2.0 token's aud is the client id, so no token passes",
            if issuers.is_empty() { " (from the v2.0 openid-config)" } else { "" },
            if audiences.len() == 1 { "" } else { "s" },
            audiences.join(", ")
        )
    })
}

/// Blueprint rules of this module.
pub(super) fn blueprint_rules(c: &mut Ctx, b: &Blueprint) {
    let Some(j) = b.apim.as_ref().and_then(|a| a.jwt.as_ref()) else {
        return;
    };
    // AOAI035 / AOAI036: who may call, beyond "has a token of the tenant".
    if j.allow_any_principal_of_tenant {
        c.at_field(
            "AOAI035",
            "apim.jwt.allowAnyPrincipalOfTenant",
            "every principal with a token for this audience may call the gateway".into(),
        );
    } else if j.client_applications.is_empty() && j.required_roles.is_empty() {
        c.at_field(
            "AOAI036",
            "apim.jwt",
            "token validation without clientApplications or requiredRoles accepts every principal with a token for this audience".into(),
        );
    }
    if j.tenant_id.is_some() {
        return;
    }
    let configs: Vec<String> = j.openid_config.iter().cloned().collect();
    if let Some(message) = version_mismatch(&configs, &j.issuers, &j.audiences) {
        c.at_field("AOAI030", "apim.jwt.audiences", message);
    }
}

/// A policy document with its expressions masked and parsed; `None` when it is not XML even
/// after masking (APIM001 reports that).
pub(super) struct Parsed {
    pub(super) original: String,
    masked: String,
    pub(super) expressions: Vec<apim_policy::Expr>,
}

impl Parsed {
    pub(super) fn new(xml: &str) -> Option<Parsed> {
        let m = mask(xml).ok()?;
        roxmltree::Document::parse(&m.text).ok()?;
        Some(Parsed {
            original: xml.to_string(),
            masked: m.text,
            expressions: m.expressions,
        })
    }

    pub(super) fn doc(&self) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(&self.masked).expect("parsed once in new")
    }

    /// 1-based line and column of a byte offset.
    pub(super) fn line_col(&self, at: usize) -> (usize, usize) {
        let before = &self.original[..at.min(self.original.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    /// The original (unmasked) text of a byte range, XML entities decoded.
    pub(super) fn text(&self, range: std::ops::Range<usize>) -> String {
        self.original[range]
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }

    pub(super) fn attr(&self, node: roxmltree::Node, name: &str) -> Option<String> {
        node.attributes()
            .find(|a| a.name() == name)
            .map(|a| self.text(a.range_value()))
    }

    /// The text content of a leaf element, from the original document.
    pub(super) fn element_text(&self, node: roxmltree::Node) -> String {
        node.children()
            .filter(|n| n.is_text())
            .map(|n| self.text(n.range()))
            .collect::<String>()
            .trim()
            .to_string()
    }

    /// Where `<inbound>` starts (line 1 when there is none).
    fn inbound_pos(&self) -> (usize, usize) {
        let doc = self.doc();
        let at = doc
            .descendants()
            .find(|n| n.has_tag_name("inbound"))
            .map_or(0, |n| n.range().start);
        self.line_col(at)
    }
}

/// Replace `{{name}}` with the named value the blueprint defines (the rendered policy refers to
/// the openid-config URL that way).
fn resolve_named_values(m: Option<&Model>, s: &str) -> String {
    let Some(apim) = m.and_then(|m| m.apim.as_ref()) else {
        return s.to_string();
    };
    let mut out = s.to_string();
    for nv in &apim.named_values {
        out = out.replace(&format!("{{{{{}}}}}", nv.name), &nv.value);
    }
    if let Some(url) = apim.jwt.as_ref().and_then(|j| j.openid_config.as_ref()) {
        out = out.replace("{{jwt-openid-config}}", url);
    }
    out
}

/// Rules over one policy document (rendered, or a user's `lint --policy` file).
pub(super) fn policy_rules(c: &mut Ctx, m: Option<&Model>, file: &str, xml: &str) {
    let Some(p) = Parsed::new(xml) else { return };
    let doc = p.doc();

    // AOAI030: issuer and audience of different token versions.
    for v in doc.descendants().filter(|n| n.has_tag_name("validate-jwt")) {
        let children = |parent: &str, child: &str| -> Vec<String> {
            v.children()
                .filter(|n| n.has_tag_name(parent))
                .flat_map(|n| n.children().filter(move |x| x.has_tag_name(child)))
                .map(|n| resolve_named_values(m, &p.element_text(n)))
                .collect()
        };
        let configs: Vec<String> = v
            .children()
            .filter(|n| n.has_tag_name("openid-config"))
            .filter_map(|n| p.attr(n, "url"))
            .map(|u| resolve_named_values(m, &u))
            .collect();
        let issuers = children("issuers", "issuer");
        let audiences = children("audiences", "audience");
        if let Some(message) = version_mismatch(&configs, &issuers, &audiences) {
            let (line, col) = p.line_col(v.range().start);
            c.at_file("AOAI030", file, line, col, message, None);
        }
    }

    // AOAI031: a case-sensitive comparison of context.Deployment.Region.
    for e in &p.expressions {
        if e.kind == ExprKind::NamedValue {
            continue;
        }
        let squeezed: String = e.source.chars().filter(|ch| !ch.is_whitespace()).collect();
        let case_sensitive = squeezed.contains("context.Deployment.Region==")
            || squeezed.contains("context.Deployment.Region!=")
            || squeezed.contains("==context.Deployment.Region")
            || squeezed.contains("switch(context.Deployment.Region)")
            || (squeezed.contains("context.Deployment.Region.Equals(")
                && !squeezed.contains("IgnoreCase"));
        if case_sensitive {
            let (line, col) = p.line_col(e.start);
            c.at_file(
                "AOAI031",
                file,
                line,
                col,
                "context.Deployment.Region is compared case-sensitively".into(),
                None,
            );
        }
    }

    let Some(m) = m else { return };
    let Some(apim) = &m.apim else { return };

    // AOAI032: Front Door in front of APIM, and nothing checks X-Azure-FDID.
    if m.front_door.is_some() {
        let checked = doc.descendants().any(|n| {
            n.has_tag_name("check-header")
                && p.attr(n, "name")
                    .is_some_and(|h| h.eq_ignore_ascii_case("X-Azure-FDID"))
        }) || p
            .expressions
            .iter()
            .any(|e| e.source.to_ascii_lowercase().contains("x-azure-fdid"));
        if !checked {
            let (line, col) = p.inbound_pos();
            c.at_file(
                "AOAI032",
                file,
                line,
                col,
                format!(
                    "{} accepts requests that did not come through Front Door (no X-Azure-FDID check)",
                    apim.name
                ),
                None,
            );
        }
    }

    // AOAI044: a forward-request (default timeout 300 s) whose retry loop can outlast Front
    // Door: (count + 1) attempts of its timeout, and the interval before each retry but a fast
    // first one. Values that are expressions are not judged.
    if let Some(f) = m.front_door.as_ref().filter(|_| m.pattern == "afd-apim") {
        for n in doc
            .descendants()
            .filter(|n| n.has_tag_name("forward-request"))
        {
            let timeout = match p.attr(n, "timeout") {
                None => Some(300),
                Some(t) => t.trim().parse::<u32>().ok(),
            };
            let Some(t) = timeout else { continue };
            let retry = n.ancestors().find(|a| a.has_tag_name("retry"));
            let number = |name: &str, default: u32| -> Option<u32> {
                match retry.and_then(|r| p.attr(r, name)) {
                    None => Some(default),
                    Some(v) => v.trim().parse::<u32>().ok(),
                }
            };
            // With a delta the interval grows up to max-interval: count every wait at that cap.
            let interval = if retry.and_then(|r| p.attr(r, "delta")).is_some() {
                number("max-interval", 0)
                    .zip(number("interval", 0))
                    .map(|(m, i)| m.max(i))
            } else {
                number("interval", 0)
            };
            let (Some(count), Some(interval)) =
                (retry.map_or(Some(0), |_| number("count", 0)), interval)
            else {
                continue;
            };
            let fast = retry
                .and_then(|r| p.attr(r, "first-fast-retry"))
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
            let worst = crate::model::retry_worst_case(count, interval, t, fast);
            if worst >= u64::from(f.origin_timeout) {
                let (line, col) = p.line_col(n.range().start);
                let safe = crate::model::safe_timeout(count, interval, f.origin_timeout);
                c.at_file(
                    "AOAI044",
                    file,
                    line,
                    col,
                    format!(
                        "forward-request waits {t} s{} per attempt, {} attempt{}: up to {worst} s, Front Door {} s answers 504 first{}",
                        if p.attr(n, "timeout").is_none() { " (its default)" } else { "" },
                        count + 1,
                        if count == 0 { "" } else { "s with the retry intervals" },
                        f.origin_timeout,
                        if safe == 0 { String::new() } else { format!(" (at most {safe} s per attempt fits)") }
                    ),
                    None,
                );
            }
        }
    }

    // AOAI049: follow-ups routed by previous_response_id in the body, retried to the next
    // account by a forward-request that does not keep the body for a retry (default false).
    if p.expressions
        .iter()
        .any(|e| e.source.contains("previous_response_id"))
    {
        for n in doc.descendants().filter(|n| {
            n.has_tag_name("forward-request") && n.ancestors().any(|a| a.has_tag_name("retry"))
        }) {
            let buffered = p
                .attr(n, "buffer-request-body")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
            if !buffered {
                let (line, col) = p.line_col(n.range().start);
                c.at_file(
                    "AOAI049",
                    file,
                    line,
                    col,
                    "Responses API follow-ups are routed by previous_response_id in the body, but this retried forward-request does not buffer the body: a follow-up retried to the next account arrives without it".into(),
                    None,
                );
            }
        }
    }

    // AOAI046: the caller header is read before the gateway set it (a client's value).
    if let Some(j) = &apim.jwt {
        let header = j.caller_header.to_ascii_lowercase();
        let set_at = doc
            .descendants()
            .filter(|n| {
                n.has_tag_name("set-header")
                    && p.attr(*n, "name")
                        .is_some_and(|h| h.trim().eq_ignore_ascii_case(&header))
                    && matches!(
                        p.attr(*n, "exists-action").as_deref().map(str::trim),
                        Some("override") | Some("delete")
                    )
            })
            .map(|n| n.range().start)
            .min();
        for e in p.expressions.iter().filter(|e| {
            let lower = e.source.to_ascii_lowercase().replace("&quot;", "\"");
            lower.contains("headers") && lower.contains(&format!("\"{header}\""))
        }) {
            if set_at.is_none_or(|at| e.start < at) {
                let (line, col) = p.line_col(e.start);
                c.at_file(
                    "AOAI046",
                    file,
                    line,
                    col,
                    format!(
                        "`{}` is read before the gateway removes or overrides it: a client can set it",
                        j.caller_header
                    ),
                    None,
                );
            }
        }
    }

    // AOAI047: a retry on 503 through a backend pool also retries the pool's own 503.
    let pools: Vec<&str> = apim.pools.iter().map(|x| x.name.as_str()).collect();
    let uses_pool = doc.descendants().any(|n| {
        n.has_tag_name("set-backend-service")
            && p.attr(n, "backend-id")
                .is_some_and(|id| pools.contains(&id.trim()))
    });
    if uses_pool {
        for r in doc.descendants().filter(|n| n.has_tag_name("retry")) {
            let Some(cond) = p.attr(r, "condition") else {
                continue;
            };
            let squeezed: String = cond.chars().filter(|ch| !ch.is_whitespace()).collect();
            let retries_503 = [
                "StatusCode==503",
                "StatusCode>=500",
                "StatusCode>499",
                "StatusCode>=400",
                "StatusCode>399",
                "StatusCode!=200",
            ]
            .iter()
            .any(|x| squeezed.contains(x));
            // The pool's own 503 told apart by the missing apim-request-id of Azure OpenAI, or
            // (older policies) by its status reason.
            let excluded = squeezed.contains("StatusReason")
                || squeezed.contains("ContainsKey(\"apim-request-id\")");
            if retries_503 && !excluded {
                let (line, col) = p.line_col(r.range().start);
                c.at_file(
                    "AOAI047",
                    file,
                    line,
                    col,
                    "the retry also fires on the pool's own 503 (no backend available), which no retry can change".into(),
                    None,
                );
            }
        }
    }

    // AOAI033: the caller's api-key header reaches Azure OpenAI.
    if apim.managed_identity {
        let removed = doc.descendants().any(|n| {
            n.has_tag_name("set-header")
                && p.attr(n, "name")
                    .is_some_and(|h| h.eq_ignore_ascii_case("api-key"))
                && p.attr(n, "exists-action").as_deref() == Some("delete")
        });
        if !removed {
            let (line, col) = p.inbound_pos();
            c.at_file(
                "AOAI033",
                file,
                line,
                col,
                "the caller's api-key header is forwarded to Azure OpenAI".into(),
                None,
            );
        }
    }
}

/// A blueprint finding of `rule` says what the same rule found in the rendered policies (they
/// come from that blueprint setting): keep the one at the field.
fn instead_of_rendered(c: &mut Ctx, rule: &str) {
    c.out.retain(|f| {
        !(f.rule == rule && f.location.field.is_none() && f.location.file.starts_with("policies/"))
    });
}

/// Rules over rendered bodies.
pub(super) fn rendered_rules(c: &mut Ctx, m: &Model, rendered: &Rendered) {
    // AOAI044: the gateway's whole retry loop, as the blueprint sets it, outlasts Front Door.
    if let (Some(a), Some(f)) = (
        &m.apim,
        m.front_door.as_ref().filter(|_| m.pattern == "afd-apim"),
    ) {
        let worst = crate::model::retry_worst_case(
            a.retry_attempts,
            a.retry.interval,
            a.timeout_seconds,
            true,
        );
        if worst >= u64::from(f.origin_timeout) {
            let safe =
                crate::model::safe_timeout(a.retry_attempts, a.retry.interval, f.origin_timeout);
            instead_of_rendered(c, "AOAI044");
            c.at_field(
                "AOAI044",
                if a.timeout_derived {
                    "apim.loadBalancing.retry.count"
                } else {
                    "apim.timeoutSeconds"
                },
                format!(
                    "the gateway may take {worst} s before it answers ({} attempts x {} s{}{}), Front Door waits {} s: {}",
                    a.retry_attempts + 1,
                    a.timeout_seconds,
                    if a.retry_attempts > 1 {
                        format!(" + {} x {} s between retries", a.retry_attempts - 1, a.retry.interval)
                    } else {
                        String::new()
                    },
                    if a.timeout_derived { ", the shortest timeout" } else { "" },
                    f.origin_timeout,
                    if safe == 0 {
                        "fewer retries or a shorter interval are needed".to_string()
                    } else {
                        format!("at most {safe} s per attempt fits")
                    }
                ),
            );
        }
    }
    // AOAI049: the blueprint turns off the body buffering that Responses follow-ups need.
    if let Some(a) = m
        .apim
        .as_ref()
        .filter(|a| a.responses_api && !a.retry.buffer_request_body)
    {
        instead_of_rendered(c, "AOAI049");
        c.at_field(
            "AOAI049",
            "apim.loadBalancing.retry.bufferRequestBody",
            format!(
                "{} routes Responses API follow-ups by previous_response_id in the body across {} accounts, and its retries do not resend the body",
                a.name, a.backend_count
            ),
        );
    }
    // AOAI046: diagnostics log the caller header from the frontend request, as the client sent it.
    if let Some(apim) = &m.apim {
        for r in rendered
            .resources
            .iter()
            .filter(|r| r.resource_type.ends_with("/diagnostics"))
        {
            let v = r.body_json();
            let logged = v["properties"]["frontend"]["request"]["headers"]
                .as_array()
                .is_some_and(|h| {
                    h.iter().any(|x| {
                        x.as_str()
                            .is_some_and(|x| x.eq_ignore_ascii_case(&apim.logged_header))
                    })
                });
            if logged {
                c.at_field(
                    "AOAI046",
                    "apim.jwt.callerHeader",
                    format!(
                        "{} logs `{}` from the frontend request, where a client sets it",
                        r.id.rsplit('/').next().unwrap_or(""),
                        apim.logged_header
                    ),
                );
            }
        }
    }
    // AOAI034: token metrics without custom metric dimensions on the Insights component.
    let Some(l) = m.apim.as_ref().and_then(|a| a.logging.as_ref()) else {
        return;
    };
    if !l.token_metrics {
        return;
    }
    let opted_in = rendered
        .resources
        .iter()
        .find(|r| r.id == l.app_insights_id)
        .is_some_and(|r| {
            r.body_json()["properties"]["CustomMetricsOptedInType"] == "WithDimensions"
        });
    if !opted_in {
        c.at_field(
            "AOAI034",
            "apim.logging.tokenMetrics",
            format!(
                "Application Insights {} does not accept custom metric dimensions",
                l.app_insights_name
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_of_entra_values() {
        let t = "00000000-0000-0000-0000-00000000aaaa";
        assert_eq!(
            issuer_version(&format!("https://sts.windows.net/{t}/")),
            Some(Version::V1)
        );
        assert_eq!(
            issuer_version(&format!("https://login.microsoftonline.com/{t}/v2.0")),
            Some(Version::V2)
        );
        assert_eq!(issuer_version("https://accounts.google.com"), None);
        assert_eq!(
            openid_config_version(&format!(
                "https://login.microsoftonline.com/{t}/v2.0/.well-known/openid-configuration"
            )),
            Some(Version::V2)
        );
        assert_eq!(
            openid_config_version(&format!(
                "https://login.microsoftonline.com/{t}/.well-known/openid-configuration"
            )),
            Some(Version::V1)
        );
        let v2 = vec![format!("https://login.microsoftonline.com/{t}/v2.0")];
        assert!(version_mismatch(&[], &v2, &["api://x".into()]).is_some());
        assert!(version_mismatch(&[], &v2, &[t.into()]).is_none());
        assert!(version_mismatch(&[], &v2, &["{{aud}}".into()]).is_none());
        let v1 = vec![format!("https://sts.windows.net/{t}/")];
        assert!(version_mismatch(&[], &v1, &["api://x".into()]).is_none());
    }
}
