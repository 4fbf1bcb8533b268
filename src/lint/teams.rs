//! Team rules (AOAI090-AOAI097): limits the deployments cannot serve, quotas shorter than a
//! minute of the rate, models nobody serves, limits counted per gateway, subscription keys
//! nobody is given, client applications mapped while no token is validated, and product policies
//! that skip the outer scopes or key on a token the API policy has not validated yet.

use super::policy_rules::Parsed;
use super::Ctx;
use crate::blueprint::Blueprint;
use crate::model::teams::deployment_names;

/// Tokens per minute of one capacity unit of a pay-per-token deployment (Standard,
/// GlobalStandard, DataZoneStandard): 1,000 (learn.microsoft.com/azure/ai-foundry/openai/how-to/quota,
/// "1 unit = 1,000 TPM" in the quota table of standard deployments, read 2026-12-06).
/// Provisioned units (PTU) have no fixed token rate: `None`.
pub fn tpm_per_unit(sku: &str) -> Option<u64> {
    match sku {
        "Standard" | "GlobalStandard" | "DataZoneStandard" => Some(1000),
        _ => None,
    }
}

/// The gateways that count a team's tokens on their own: every region of the service and every
/// service of `apim.instances`.
fn gateway_count(b: &Blueprint) -> usize {
    b.apim
        .as_ref()
        .map_or(0, |a| 1 + a.additional_regions.len() + a.instances.len())
}

pub(super) fn blueprint_rules(c: &mut Ctx, b: &Blueprint) {
    let Some(apim) = &b.apim else {
        if !b.teams.is_empty() {
            c.at_field(
                "AOAI094",
                "teams",
                "teams need API Management (patterns apim and afd-apim): there is no product to give them".into(),
            );
        }
        return;
    };
    // AOAI094: an API that requires a subscription key nobody is given.
    if apim.jwt.is_none() && b.teams.is_empty() {
        c.at_field(
            "AOAI094",
            "apim",
            format!("the API of {} requires a subscription key (no apim.jwt) but no team has a subscription: only the service's built-in all-access key would work", apim.name),
        );
    }
    // AOAI097: Entra callers mapped to a team while no token is validated.
    if apim.jwt.is_none() {
        for (i, t) in b.teams.iter().enumerate() {
            if !t.client_applications.is_empty() {
                c.at_field(
                    "AOAI097",
                    &format!("teams[{i}].clientApplications"),
                    format!(
                        "team {} maps {} client application(s) to itself, but apim.jwt is not set: no token is validated, so no caller is mapped by it",
                        t.name,
                        t.client_applications.len()
                    ),
                );
            }
        }
    }
    let served = deployment_names(b);
    let gateways = gateway_count(b);
    for (i, t) in b.teams.iter().enumerate() {
        let at = format!("teams[{i}]");
        // AOAI091: a model no deployment serves.
        for (j, name) in t.models.iter().enumerate() {
            if !served.contains(name) {
                c.at_field(
                    "AOAI091",
                    &format!("{at}.models[{j}]"),
                    format!(
                        "team {} may call `{name}`, which no deployment serves (deployments: {})",
                        t.name,
                        served.join(", ")
                    ),
                );
            }
        }
        // AOAI092: more tokens per minute than the deployments it may call serve together
        // (each deployment's capacity on every account that serves it; provisioned types
        // have no fixed tokens per unit, so a team that may call one is not judged).
        let callable: Vec<_> = b
            .openai
            .all_deployments()
            .into_iter()
            .filter(|d| t.models.contains(&d.name))
            .collect();
        let per_units: Option<Vec<u64>> =
            callable.iter().map(|d| tpm_per_unit(&d.sku.name)).collect();
        if let (false, Some(per_units)) = (callable.is_empty(), per_units) {
            let mut capacity = 0u64;
            let mut parts = Vec::new();
            for (d, per_unit) in callable.iter().zip(per_units) {
                let serving = b
                    .openai
                    .accounts
                    .iter()
                    .filter(|a| a.deployments.as_ref().is_none_or(|l| l.contains(&d.name)))
                    .count()
                    .max(1) as u64;
                capacity += u64::from(d.sku.capacity) * per_unit * serving;
                parts.push(format!(
                    "{} {} {} units x {per_unit} TPM x {serving} accounts",
                    d.name, d.sku.capacity, d.sku.name
                ));
            }
            if u64::from(t.tokens_per_minute) > capacity {
                c.at_field(
                    "AOAI092",
                    &format!("{at}.tokensPerMinute"),
                    format!(
                        "team {} may use {} tokens per minute, but its deployments serve {capacity} together ({}): callers get the accounts' 429s before the gateway's",
                        t.name,
                        t.tokens_per_minute,
                        parts.join(" + ")
                    ),
                );
            }
        }
        // AOAI090: a quota smaller than one minute of the rate.
        if let Some(q) = &t.token_quota {
            if q.tokens < u64::from(t.tokens_per_minute) {
                c.at_field(
                    "AOAI090",
                    &format!("{at}.tokenQuota.tokens"),
                    format!(
                        "team {}: a {} quota of {} tokens is smaller than one minute of its rate ({} tokens per minute)",
                        t.name, q.period.as_str(), q.tokens, t.tokens_per_minute
                    ),
                );
            }
        }
        // AOAI093: each gateway counts on its own.
        if gateways > 1 {
            c.at_field(
                "AOAI093",
                &format!("{at}.tokensPerMinute"),
                format!(
                    "team {}: each of the {gateways} gateways counts its own {} tokens per minute{}, so the team may use up to {} in total",
                    t.name,
                    t.tokens_per_minute,
                    if t.token_quota.is_some() { " and its own quota" } else { "" },
                    u64::from(t.tokens_per_minute) * gateways as u64
                ),
            );
        }
    }
}

/// A product policy: rendered as `product-<team>.xml`, or kept under a `products/` folder as
/// APIOps does.
pub(super) fn is_product_policy(file: &str) -> bool {
    let f = file.replace('\\', "/");
    let name = f.rsplit('/').next().unwrap_or(&f);
    name.starts_with("product-") || f.contains("/products/") || f.starts_with("products/")
}

/// AOAI095 (a section without `<base />`) and AOAI096 (a token limit keyed on JWT claims).
pub(super) fn product_policy_rules(c: &mut Ctx, file: &str, xml: &str) {
    let Some(p) = Parsed::new(xml) else { return };
    let doc = p.doc();
    for section in ["inbound", "backend", "outbound", "on-error"] {
        for s in doc.descendants().filter(|n| {
            n.has_tag_name(section) && n.parent().is_some_and(|x| x.has_tag_name("policies"))
        }) {
            if !s.children().any(|n| n.has_tag_name("base")) {
                let (line, col) = p.line_col(s.range().start);
                c.at_file(
                    "AOAI095",
                    file,
                    line,
                    col,
                    format!("the `{section}` section of a product policy has no `<base />`: the global policy's {section} does not run for this product"),
                    None,
                );
            }
        }
    }
    let limits = [
        "azure-openai-token-limit",
        "llm-token-limit",
        "rate-limit-by-key",
        "quota-by-key",
    ];
    for n in doc
        .descendants()
        .filter(|n| limits.iter().any(|l| n.has_tag_name(*l)))
    {
        let key = p.attr(n, "counter-key").unwrap_or_default();
        let lower = key.to_lowercase();
        if ["asjwt", "(jwt)", "\"jwt\"", "claims", "authorization"]
            .iter()
            .any(|k| lower.contains(k))
        {
            let (line, col) = p.line_col(n.range().start);
            c.at_file(
                "AOAI096",
                file,
                line,
                col,
                format!("`{}` in a product policy keyed on a token's claims (`{key}`): the product policy runs before the API policy validates the token", n.tag_name().name()),
                None,
            );
        }
    }
}
