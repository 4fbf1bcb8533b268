//! Checks that serde cannot express: Azure naming rules, region names, resource-id formats and
//! rules that span several fields. They all run before anything is rendered.

use std::collections::{BTreeMap, BTreeSet};

use super::types::*;
use crate::blueprint::regions;

pub struct Problem {
    pub field: String,
    pub message: String,
    pub help: Option<String>,
}

#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn fail(&mut self, field: impl Into<String>, message: impl Into<String>, help: Option<String>) {
        self.problems.push(Problem {
            field: field.into(),
            message: message.into(),
            help,
        });
    }

    /// An Azure resource name: length bounds, allowed characters, first/last character rules.
    fn name(&mut self, field: &str, value: &str, rule: &NameRule) {
        let n = value.chars().count();
        let describe = || {
            format!(
                "{} names are {}-{} characters: {}",
                rule.what, rule.min, rule.max, rule.chars_doc
            )
        };
        if n < rule.min || n > rule.max {
            self.fail(
                field,
                format!(
                    "{} name `{value}` is {n} characters long (allowed: {}-{})",
                    rule.what, rule.min, rule.max
                ),
                Some(describe()),
            );
            return;
        }
        if let Some(bad) = value.chars().find(|c| !(rule.allowed)(*c)) {
            self.fail(
                field,
                format!("{} name `{value}` contains `{bad}`", rule.what),
                Some(describe()),
            );
            return;
        }
        let first = value.chars().next().unwrap_or(' ');
        let last = value.chars().last().unwrap_or(' ');
        if !(rule.first)(first) || !(rule.last)(last) {
            self.fail(
                field,
                format!(
                    "{} name `{value}` must start and end as described",
                    rule.what
                ),
                Some(describe()),
            );
        }
    }

    fn region(&mut self, field: &str, value: &str) {
        if regions::display_name(value).is_none() {
            let all: Vec<String> = regions::all().map(str::to_string).collect();
            let squashed = value.to_lowercase().replace(' ', "");
            let help = if regions::display_name(&squashed).is_some() {
                Some(format!(
                    "use the ARM region name `{squashed}`, not the display name"
                ))
            } else {
                super::closest(value, &all).map(|c| format!("did you mean `{c}`?"))
            };
            self.fail(
                field,
                format!("`{value}` is not an Azure region name"),
                help,
            );
        }
    }

    fn weight_priority(&mut self, base: &str, weight: Option<u32>, priority: Option<u32>) {
        if let Some(w) = weight {
            if !(1..=1000).contains(&w) {
                self.fail(
                    format!("{base}.weight"),
                    format!("weight {w} is out of range"),
                    Some("weights are 1-1000".into()),
                );
            }
        }
        if let Some(p) = priority {
            if !(1..=5).contains(&p) {
                self.fail(
                    format!("{base}.priority"),
                    format!("priority {p} is out of range"),
                    Some("priorities are 1-5 (lower is preferred)".into()),
                );
            }
        }
    }

    fn range(&mut self, field: &str, value: u32, lo: u32, hi: u32, what: &str) {
        if value < lo || value > hi {
            self.fail(
                field,
                format!("{what} {value} is out of range"),
                Some(format!("allowed: {lo}-{hi}")),
            );
        }
    }
}

struct NameRule {
    what: &'static str,
    min: usize,
    max: usize,
    chars_doc: &'static str,
    allowed: fn(char) -> bool,
    first: fn(char) -> bool,
    last: fn(char) -> bool,
}

fn alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}
fn alnum_hyphen(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}
fn letter(c: char) -> bool {
    c.is_ascii_alphabetic()
}
fn any(_: char) -> bool {
    true
}

const RG: NameRule = NameRule {
    what: "resource group",
    min: 1,
    max: 90,
    chars_doc: "letters, digits, `-`, `_`, `.`, `(`, `)`, not ending with `.`",
    allowed: |c| c.is_alphanumeric() || "-_.()".contains(c),
    first: any,
    last: |c| c != '.',
};
const AOAI: NameRule = NameRule {
    what: "Azure OpenAI account",
    min: 2,
    max: 64,
    chars_doc: "letters, digits and `-`, starting and ending with a letter or digit",
    allowed: alnum_hyphen,
    first: alnum,
    last: alnum,
};
const SUBDOMAIN: NameRule = NameRule {
    what: "custom subdomain",
    min: 2,
    max: 64,
    chars_doc: "lowercase letters, digits and `-`, starting and ending with a letter or digit",
    allowed: |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
    first: alnum,
    last: alnum,
};
const DEPLOYMENT: NameRule = NameRule {
    what: "model deployment",
    min: 2,
    max: 64,
    chars_doc: "letters, digits, `-`, `_` and `.`",
    allowed: |c| c.is_ascii_alphanumeric() || "-_.".contains(c),
    first: alnum,
    last: any,
};
const APIM: NameRule = NameRule {
    what: "API Management service",
    min: 1,
    max: 50,
    chars_doc: "letters, digits and `-`, starting with a letter and not ending with `-`",
    allowed: alnum_hyphen,
    first: letter,
    last: alnum,
};
const AFD: NameRule = NameRule {
    what: "Front Door",
    min: 1,
    max: 90,
    chars_doc: "letters, digits and `-`, starting and ending with a letter or digit",
    allowed: alnum_hyphen,
    first: alnum,
    last: alnum,
};
const AFD_ENDPOINT: NameRule = NameRule {
    what: "Front Door endpoint",
    min: 1,
    max: 46,
    chars_doc: "letters, digits and `-`, starting and ending with a letter or digit",
    allowed: alnum_hyphen,
    first: alnum,
    last: alnum,
};
const WAF: NameRule = NameRule {
    what: "WAF policy",
    min: 1,
    max: 128,
    chars_doc: "letters and digits only, starting with a letter",
    allowed: alnum,
    first: letter,
    last: alnum,
};
const WORKSPACE: NameRule = NameRule {
    what: "Log Analytics workspace",
    min: 4,
    max: 63,
    chars_doc: "letters, digits and `-`, starting and ending with a letter or digit",
    allowed: alnum_hyphen,
    first: alnum,
    last: alnum,
};
const APPINSIGHTS: NameRule = NameRule {
    what: "Application Insights",
    min: 1,
    max: 255,
    chars_doc: "letters, digits, `-`, `_`, `.`, `(`, `)`",
    allowed: |c| c.is_ascii_alphanumeric() || "-_.()".contains(c),
    first: any,
    last: |c| c != '.',
};
const EH_NAMESPACE: NameRule = NameRule {
    what: "Event Hubs namespace",
    min: 6,
    max: 50,
    chars_doc: "letters, digits and `-`, starting with a letter and ending with a letter or digit",
    allowed: alnum_hyphen,
    first: letter,
    last: alnum,
};
const EH: NameRule = NameRule {
    what: "event hub",
    min: 1,
    max: 256,
    chars_doc: "letters, digits, `.`, `-` and `_`, starting and ending with a letter or digit",
    allowed: |c| c.is_ascii_alphanumeric() || "-_.".contains(c),
    first: alnum,
    last: alnum,
};
const BUDGET: NameRule = NameRule {
    what: "budget",
    min: 1,
    max: 63,
    chars_doc: "letters, digits, `-` and `_`",
    allowed: |c| c.is_ascii_alphanumeric() || "-_".contains(c),
    first: alnum,
    last: alnum,
};
const NAMED_VALUE: NameRule = NameRule {
    what: "named value",
    min: 1,
    max: 256,
    chars_doc: "letters, digits, `.`, `-` and `_`",
    allowed: |c| c.is_ascii_alphanumeric() || "-_.".contains(c),
    first: alnum,
    last: any,
};

fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

/// `/subscriptions/{guid}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{child}/{name}]...`
fn resource_id_segments(id: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = id.strip_prefix('/')?.split('/').collect();
    if parts.len() < 8 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    if !parts[0].eq_ignore_ascii_case("subscriptions")
        || !is_guid(parts[1])
        || !parts[2].eq_ignore_ascii_case("resourceGroups")
        || !parts[4].eq_ignore_ascii_case("providers")
    {
        return None;
    }
    Some(parts)
}

fn is_subnet_id(id: &str) -> bool {
    resource_id_segments(id).is_some_and(|p| {
        p.len() == 10
            && p[5].eq_ignore_ascii_case("Microsoft.Network")
            && p[6].eq_ignore_ascii_case("virtualNetworks")
            && p[8].eq_ignore_ascii_case("subnets")
    })
}

fn is_vnet_id(id: &str) -> bool {
    resource_id_segments(id).is_some_and(|p| {
        p.len() == 8
            && p[5].eq_ignore_ascii_case("Microsoft.Network")
            && p[6].eq_ignore_ascii_case("virtualNetworks")
    })
}

fn is_hostname(h: &str) -> bool {
    let labels: Vec<&str> = h.split('.').collect();
    labels.len() >= 2
        && h.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(alnum_hyphen)
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// Azure's 50 tags per resource, less the ownership tag aoai-arch adds.
const MAX_USER_TAGS: usize = 49;

pub fn check(b: &Blueprint) -> Vec<Problem> {
    let mut c = Checker::default();
    if b.version != 1 {
        c.fail(
            "version",
            format!("blueprint version {} is not supported", b.version),
            Some("this aoai-arch reads `version: 1`".into()),
        );
    }
    if !is_guid(&b.subscription) {
        c.fail(
            "subscription",
            format!("`{}` is not a subscription id", b.subscription),
            Some("a subscription id is a GUID like 00000000-0000-0000-0000-000000000000".into()),
        );
    }
    c.name("resourceGroup", &b.resource_group, &RG);
    if let Some(id) = &b.id {
        if id.trim().is_empty()
            || id.len() > 256
            || id
                .chars()
                .any(|ch| ch.is_control() || "<>%&\\?".contains(ch))
        {
            c.fail(
                "id",
                "the blueprint id is written as a tag value on every resource".to_string(),
                Some("use 1-256 characters without control characters or < > % & \\ ?".into()),
            );
        }
    }
    c.region("location", &b.location);
    if b.tags.len() > MAX_USER_TAGS {
        c.fail(
            "tags",
            format!(
                "{} tags; Azure allows 50 per resource and aoai-arch adds its own (aoai-arch-blueprint), so a blueprint may set {MAX_USER_TAGS}",
                b.tags.len()
            ),
            None,
        );
    }
    for (k, v) in &b.tags {
        let (kn, vn) = (k.chars().count(), v.chars().count());
        if kn > 512 || vn > 256 || k.chars().any(|ch| "<>%&\\?/".contains(ch)) {
            c.fail(
                format!("tags.{k}"),
                format!("tag `{k}` breaks Azure's tag rules"),
                Some("tag names are at most 512 characters without < > % & \\ ? /; values at most 256".into()),
            );
        }
    }

    // Sections the pattern needs, and sections it would ignore.
    let p = b.pattern;
    if p.has_apim() && b.apim.is_none() {
        c.fail(
            "pattern",
            format!("pattern `{}` needs an `apim` section", p.as_str()),
            None,
        );
    }
    if !p.has_apim() && b.apim.is_some() {
        c.fail(
            "apim",
            format!("pattern `{}` does not use API Management", p.as_str()),
            Some("remove the `apim` section or choose pattern `apim` or `afd-apim`".into()),
        );
    }
    if p.has_front_door() && b.front_door.is_none() {
        c.fail(
            "pattern",
            format!("pattern `{}` needs a `frontDoor` section", p.as_str()),
            None,
        );
    }
    if !p.has_front_door() && b.front_door.is_some() {
        c.fail(
            "frontDoor",
            format!("pattern `{}` does not use Front Door", p.as_str()),
            Some("remove the `frontDoor` section or choose pattern `afd` or `afd-apim`".into()),
        );
    }

    // Accounts and the deployments.
    check_deployments(&mut c, b);
    if b.openai.accounts.is_empty() {
        c.fail(
            "openai.accounts",
            "at least one Azure OpenAI account is needed",
            None,
        );
    }
    let mut names = BTreeSet::new();
    let mut subdomains = BTreeSet::new();
    for (i, a) in b.openai.accounts.iter().enumerate() {
        let base = format!("openai.accounts[{i}]");
        c.name(&format!("{base}.name"), &a.name, &AOAI);
        if !names.insert(a.name.to_lowercase()) {
            c.fail(
                format!("{base}.name"),
                format!("account `{}` is declared twice", a.name),
                None,
            );
        }
        let sub = a
            .custom_subdomain
            .clone()
            .unwrap_or_else(|| a.name.to_lowercase());
        if a.custom_subdomain.is_some() {
            c.name(&format!("{base}.customSubdomain"), &sub, &SUBDOMAIN);
        }
        if !subdomains.insert(sub.clone()) {
            c.fail(
                format!("{base}.customSubdomain"),
                format!("custom subdomain `{sub}` is used by two accounts"),
                None,
            );
        }
        c.region(&format!("{base}.region"), &a.region);
        if let Some(only) = &a.deployments {
            let all: Vec<String> = b
                .openai
                .all_deployments()
                .iter()
                .map(|d| d.name.clone())
                .collect();
            for (j, n) in only.iter().enumerate() {
                if !all.contains(n) {
                    c.fail(
                        format!("{base}.deployments[{j}]"),
                        format!("no deployment named `{n}` in openai.deployments"),
                        super::closest(n, &all).map(|s| format!("did you mean `{s}`?")),
                    );
                }
            }
            if only.is_empty() {
                c.fail(
                    format!("{base}.deployments"),
                    "an account with no deployment serves nothing",
                    Some("name at least one deployment, or remove `deployments` to serve all of them".into()),
                );
            }
        }
        let served: Vec<String> = b
            .openai
            .deployments_of(a)
            .iter()
            .map(|d| d.name.clone())
            .collect();
        for (name, sku) in &a.skus {
            if !served.contains(name) {
                c.fail(
                    format!("{base}.skus.{name}"),
                    format!("account {} serves no deployment named `{name}`", a.name),
                    super::closest(name, &served).map(|s| format!("did you mean `{s}`?")),
                );
            }
            if sku.capacity == 0 {
                c.fail(
                    format!("{base}.skus.{name}.capacity"),
                    "deployment capacity must be at least 1",
                    None,
                );
            }
        }
        if let (Some(dn), Some(d)) = (
            &a.deployment_name,
            b.openai.all_deployments().first().copied(),
        ) {
            c.name(&format!("{base}.deploymentName"), dn, &DEPLOYMENT);
            // Nothing in the rendered gateway rewrites deployment names: every request path
            // `/openai/deployments/<name>/...` must work on every account it can reach.
            if dn != &d.name {
                let behind = if p.has_front_door() {
                    "every account behind Front Door"
                } else {
                    "every account behind the APIM load balancer"
                };
                c.fail(
                    format!("{base}.deploymentName"),
                    format!(
                        "deployment name `{dn}` differs from `{}`: {behind} must serve the same deployment name",
                        d.name
                    ),
                    Some(format!(
                        "remove `deploymentName` or set it to `{}`; clients call /openai/deployments/<name>/ on whichever account they reach",
                        d.name
                    )),
                );
            }
        }
        c.weight_priority(&base, a.weight, a.priority);
    }

    // Networking.
    if let Some(n) = &b.networking {
        for (i, pe) in n.private_endpoints.iter().enumerate() {
            let base = format!("networking.privateEndpoints[{i}]");
            if !b.openai.accounts.iter().any(|a| a.name == pe.account) {
                let all: Vec<String> = b.openai.accounts.iter().map(|a| a.name.clone()).collect();
                c.fail(
                    format!("{base}.account"),
                    format!("no account named `{}` in openai.accounts", pe.account),
                    super::closest(&pe.account, &all).map(|s| format!("did you mean `{s}`?")),
                );
            }
            if !is_subnet_id(&pe.subnet_id) {
                c.fail(
                    format!("{base}.subnetId"),
                    format!("`{}` is not a subnet resource id", pe.subnet_id),
                    Some("expected /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>, or <network>/<subnet> for a network of `networks`".into()),
                );
            }
        }
        if let Some(dns) = &n.private_dns {
            for (i, v) in dns.vnet_links.iter().enumerate() {
                if !is_vnet_id(v) {
                    c.fail(
                        format!("networking.privateDns.vnetLinks[{i}]"),
                        format!("`{v}` is not a virtual network resource id"),
                        Some("expected /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>, or the name of a network of `networks`".into()),
                    );
                }
            }
        }
        if n.private_dns.is_some() && n.private_endpoints.is_empty() {
            c.fail(
                "networking.privateDns",
                "a private DNS zone without private endpoints resolves nothing",
                Some("add networking.privateEndpoints or remove networking.privateDns".into()),
            );
        }
    }

    check_networks(&mut c, b);
    if let Some(a) = &b.apim {
        check_apim(&mut c, b, a);
    }
    super::edge::validate(
        &mut |f: &str, m: String, h: Option<String>| c.fail(f, m, h),
        b,
    );
    if let Some(d) = b
        .diagnostics
        .as_ref()
        .and_then(|d| d.log_analytics.as_ref())
    {
        c.name("diagnostics.logAnalytics", d, &WORKSPACE);
    }
    if let Some(f) = &b.front_door {
        check_front_door(&mut c, b, f);
    }
    if let Some(cs) = &b.content_safety {
        check_content_safety(&mut c, b, cs);
    }
    check_teams(&mut c, b);
    c.problems
}

/// A team's name is an API Management product id and, with its apps' names, subscription ids
/// (`<team>` or `<team>-<app>`): 1-256 characters without `*#&+:<>?`
/// (learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules,
/// Microsoft.ApiManagement service/products and service/subscriptions, read 2026-12-06). The
/// names are also segments of the resources' ids in the request path and literals of policy
/// expressions, so this reads them as letters, digits, `-`, `_` and `.`, starting and ending
/// with a letter or digit. API Management compares ids without case: two teams, or two
/// subscriptions, that differ only in case are one resource.
const PRODUCT: NameRule = NameRule {
    what: "team (API Management product id)",
    min: 1,
    max: 256,
    chars_doc: "letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit (Azure refuses `*#&+:<>?`; `/`, `%` and spaces break the resource id)",
    allowed: |c| c.is_ascii_alphanumeric() || "-_.".contains(c),
    first: alnum,
    last: alnum,
};
const APP: NameRule = NameRule {
    what: "team app",
    min: 1,
    max: 256,
    chars_doc: "letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit",
    allowed: |c| c.is_ascii_alphanumeric() || "-_.".contains(c),
    first: alnum,
    last: alnum,
};

fn check_teams(c: &mut Checker, b: &Blueprint) {
    let before = c.problems.len();
    for (i, t) in b.teams.iter().enumerate() {
        c.name(&format!("teams[{i}].name"), &t.name, &PRODUCT);
        for (j, a) in t.apps.iter().enumerate() {
            c.name(&format!("teams[{i}].apps[{j}].name"), &a.name, &APP);
        }
    }
    if c.problems.len() > before {
        return;
    }
    // Products: one per team.
    let mut products: BTreeMap<String, usize> = BTreeMap::new();
    // Subscriptions: `<team>` for a team without apps, `<team>-<app>` per app.
    let mut subscriptions: BTreeMap<String, String> = BTreeMap::new();
    for (i, t) in b.teams.iter().enumerate() {
        let field = format!("teams[{i}].name");
        if let Some(first) = products.insert(t.name.to_lowercase(), i) {
            c.fail(
                &field,
                format!(
                    "team `{}` is also teams[{first}] (`{}`): API Management product ids are unique per service and compared without case",
                    t.name, b.teams[first].name
                ),
                Some("give each team its own name".into()),
            );
            continue;
        }
        let subs: Vec<(String, String, String)> = if t.apps.is_empty() {
            vec![(t.name.clone(), field.clone(), format!("team {}", t.name))]
        } else {
            t.apps
                .iter()
                .enumerate()
                .map(|(j, a)| {
                    (
                        format!("{}-{}", t.name, a.name),
                        format!("teams[{i}].apps[{j}].name"),
                        format!("app {} of team {}", a.name, t.name),
                    )
                })
                .collect()
        };
        for (sid, field, what) in subs {
            if sid.chars().count() > 256 {
                c.fail(
                    &field,
                    format!("the subscription id `{sid}` of {what} is {} characters long (allowed: 1-256)", sid.chars().count()),
                    Some("a subscription id is `<team>-<app>`: shorten the team's or the app's name".into()),
                );
                continue;
            }
            if let Some(other) = subscriptions.insert(sid.to_lowercase(), what.clone()) {
                c.fail(
                    &field,
                    format!(
                        "{what} and {other} would both be the subscription `{sid}` (subscription ids are `<team>` or `<team>-<app>`, unique per service and compared without case)"
                    ),
                    Some("rename the team or the app".into()),
                );
            }
        }
    }
}

fn check_content_safety(c: &mut Checker, b: &Blueprint, cs: &super::ContentSafety) {
    c.name("contentSafety.name", &cs.name, &AOAI);
    if let Some(sub) = &cs.custom_subdomain {
        c.name("contentSafety.customSubdomain", sub, &SUBDOMAIN);
    }
    if let Some(r) = &cs.region {
        c.region("contentSafety.region", r);
    }
    if !b.pattern.has_apim() {
        c.fail(
            "contentSafety",
            format!(
                "pattern `{}` has no API Management gateway to call Content Safety",
                b.pattern.as_str()
            ),
            Some("use pattern `apim` or `afd-apim`, or remove `contentSafety`".into()),
        );
    } else if !b.apim.as_ref().is_some_and(|a| a.auth.managed_identity) {
        c.fail(
            "contentSafety",
            "the gateway calls Content Safety with its managed identity (the account's keys are off)",
            Some("set apim.auth.managedIdentity: true".into()),
        );
    }
    let max = match cs.output_type {
        super::ContentSafetyOutputType::FourSeverityLevels => 6,
        super::ContentSafetyOutputType::EightSeverityLevels => 7,
    };
    let mut seen = BTreeSet::new();
    for (i, cat) in cs.categories.iter().enumerate() {
        c.range(
            &format!("contentSafety.categories[{i}].threshold"),
            cat.threshold,
            0,
            max,
            "severity threshold",
        );
        if !seen.insert(cat.name.as_str()) {
            c.fail(
                format!("contentSafety.categories[{i}].name"),
                format!("category {} is listed twice", cat.name.as_str()),
                None,
            );
        }
    }
    let private = b.networking.as_ref().and_then(|n| n.public_network_access)
        == Some(super::PublicNetworkAccess::Disabled);
    match &cs.subnet_id {
        Some(s) if !is_subnet_id(s) => c.fail(
            "contentSafety.subnetId",
            format!("`{s}` is not a subnet resource id"),
            Some("expected /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>".into()),
        ),
        None if private => c.fail(
            "contentSafety.subnetId",
            "the accounts are private (networking.publicNetworkAccess: Disabled): Content Safety needs a private endpoint too",
            Some("set contentSafety.subnetId to a subnet the gateway reaches".into()),
        ),
        _ => {}
    }
}

/// `openai.deployment` xor `openai.deployments`; names, capacities, spillover and RAI policy
/// names of each.
fn check_deployments(c: &mut Checker, b: &Blueprint) {
    let o = &b.openai;
    match (&o.deployment, o.deployments.is_empty()) {
        (Some(_), false) => c.fail(
            "openai.deployments",
            "`openai.deployment` and `openai.deployments` are both set",
            Some(
                "move the one deployment into the `deployments` list, or keep only `deployment`"
                    .into(),
            ),
        ),
        (None, true) => c.fail(
            "openai",
            "no model deployment: set `openai.deployments` (a list) or `openai.deployment` (one)",
            None,
        ),
        _ => {}
    }
    let mut policies = BTreeSet::new();
    for (i, p) in o.rai_policies.iter().enumerate() {
        c.name(
            &format!("openai.raiPolicies[{i}].name"),
            &p.name,
            &DEPLOYMENT,
        );
        if p.name.starts_with("Microsoft.") || !policies.insert(p.name.to_lowercase()) {
            c.fail(
                format!("openai.raiPolicies[{i}].name"),
                format!(
                    "RAI policy name `{}` is taken (declared twice, or a Microsoft policy)",
                    p.name
                ),
                None,
            );
        }
    }
    let all = o.all_deployments();
    let mut seen = BTreeSet::new();
    for (i, d) in all.iter().enumerate() {
        let base = o.deployment_field(i);
        c.name(&format!("{base}.name"), &d.name, &DEPLOYMENT);
        if !seen.insert(d.name.to_lowercase()) {
            c.fail(
                format!("{base}.name"),
                format!("deployment `{}` is declared twice", d.name),
                None,
            );
        }
        if let super::vocab::Known::Typo(best) = super::vocab::deployment_type(&d.sku.name) {
            c.fail(
                format!("{base}.sku.name"),
                format!("unknown deployment type `{}`", d.sku.name),
                Some(format!(
                    "did you mean `{best}`? Deployment types: {}",
                    super::vocab::deployment_types_listed()
                )),
            );
        }
        if d.sku.capacity == 0 {
            c.fail(
                format!("{base}.sku.capacity"),
                "deployment capacity must be at least 1",
                None,
            );
        }
        if let Some(target) = &d.spillover {
            if !super::is_provisioned(&d.sku.name) {
                c.fail(
                    format!("{base}.spillover"),
                    format!(
                        "only a provisioned deployment spills over; `{}` is {}",
                        d.name, d.sku.name
                    ),
                    Some("use GlobalProvisionedManaged, DataZoneProvisionedManaged or ProvisionedManaged, or remove `spillover`".into()),
                );
            }
            if !all.iter().any(|x| &x.name == target) {
                let names: Vec<String> = all.iter().map(|x| x.name.clone()).collect();
                c.fail(
                    format!("{base}.spillover"),
                    format!("no deployment named `{target}` in openai.deployments"),
                    super::closest(target, &names).map(|s| format!("did you mean `{s}`?")),
                );
            }
        }
        if let Some(r) = &d.rai_policy {
            c.name(&format!("{base}.raiPolicy"), r, &DEPLOYMENT);
            let custom: Vec<String> = o.rai_policies.iter().map(|p| p.name.clone()).collect();
            if !r.starts_with("Microsoft.") && !custom.contains(r) {
                c.fail(
                    format!("{base}.raiPolicy"),
                    format!("no RAI policy named `{r}` in openai.raiPolicies"),
                    super::closest(r, &custom)
                        .map(|s| format!("did you mean `{s}`?"))
                        .or_else(|| {
                            Some(
                                "declare it in openai.raiPolicies, or use Microsoft.DefaultV2"
                                    .into(),
                            )
                        }),
                );
            }
        }
    }
}

fn check_apim(c: &mut Checker, b: &Blueprint, a: &Apim) {
    c.name("apim.name", &a.name, &APIM);
    for (field, value) in [
        ("apim.publisher.name", &a.publisher.name),
        ("apim.publisher.email", &a.publisher.email),
    ] {
        let n = value.chars().count();
        if n > 100 {
            c.fail(
                field,
                format!("{n} characters; API Management allows at most 100"),
                None,
            );
        }
    }
    if a.sku.capacity == 0 {
        c.fail("apim.sku.capacity", "capacity must be at least 1", None);
    }
    if !a.publisher.email.contains('@') {
        c.fail(
            "apim.publisher.email",
            format!("`{}` is not an email address", a.publisher.email),
            None,
        );
    }
    let multi_region = arm_emulator::capabilities::get()
        .apim_tier(a.sku.name.as_str())
        .is_some_and(|t| t.multi_region);
    if !a.additional_regions.is_empty() && !multi_region {
        c.fail(
            "apim.additionalRegions",
            format!(
                "additional regions need the Premium SKU (this is {})",
                a.sku.name.as_str()
            ),
            Some("set apim.sku.name: Premium, or remove apim.additionalRegions".into()),
        );
    }
    let mut seen = BTreeSet::from([b.location.clone()]);
    for (i, r) in a.additional_regions.iter().enumerate() {
        let base = format!("apim.additionalRegions[{i}]");
        c.region(&format!("{base}.region"), &r.region);
        if !seen.insert(r.region.clone()) {
            c.fail(
                format!("{base}.region"),
                format!(
                    "region `{}` is listed twice (the primary location counts)",
                    r.region
                ),
                None,
            );
        }
        c.weight_priority(&base, r.weight, r.priority);
        if let Some(id) = r.subnet_id.as_deref().filter(|id| !is_subnet_id(id)) {
            c.fail(
                format!("{base}.subnetId"),
                format!("`{id}` is not a subnet resource id"),
                Some("expected /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>, or <network>/<subnet> for a network of `networks`".into()),
            );
        }
    }
    if let Some(n) = &a.network {
        let subnet_help = "expected /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>, or <network>/<subnet> for a network of `networks`";
        if let Some(id) = n.subnet_id.as_deref().filter(|id| !is_subnet_id(id)) {
            c.fail(
                "apim.network.subnetId",
                format!("`{id}` is not a subnet resource id"),
                Some(subnet_help.into()),
            );
        }
        if let Some(pe) = n
            .private_endpoint
            .as_ref()
            .filter(|p| !is_subnet_id(&p.subnet_id))
        {
            c.fail(
                "apim.network.privateEndpoint.subnetId",
                format!("`{}` is not a subnet resource id", pe.subnet_id),
                Some(subnet_help.into()),
            );
        }
        if n.mode == ApimVnetMode::Internal && n.subnet_id.is_none() {
            c.fail(
                "apim.network.mode",
                "Internal mode puts the gateway in a virtual network, but apim.network.subnetId is not set",
                Some("set apim.network.subnetId to the gateway's subnet, or remove mode: Internal".into()),
            );
        }
    }
    c.weight_priority("apim", a.primary_weight, a.primary_priority);
    // More services with this configuration, one per region (pattern 3 on tiers without
    // additional regions).
    if !a.instances.is_empty() && b.pattern != Pattern::AfdApim {
        c.fail(
            "apim.instances",
            "apim.instances are Front Door origins: they exist only in pattern afd-apim",
            Some("set pattern: afd-apim, or remove apim.instances".into()),
        );
    }
    if !a.instances.is_empty() && !a.additional_regions.is_empty() {
        c.fail(
            "apim.instances",
            "apim.instances and apim.additionalRegions are two ways to be in several regions; choose one",
            Some("Premium: apim.additionalRegions (one service); Standard v2: apim.instances (one service per region)".into()),
        );
    }
    let account_regions: BTreeSet<&str> = b
        .openai
        .accounts
        .iter()
        .map(|x| x.region.as_str())
        .collect();
    let mut names = BTreeSet::from([a.name.to_lowercase()]);
    let mut regions = BTreeSet::from([b.location.clone()]);
    regions.extend(a.additional_regions.iter().map(|r| r.region.clone()));
    for (i, inst) in a.instances.iter().enumerate() {
        let base = format!("apim.instances[{i}]");
        c.name(&format!("{base}.name"), &inst.name, &APIM);
        if !names.insert(inst.name.to_lowercase()) {
            c.fail(
                format!("{base}.name"),
                format!(
                    "service name `{}` is used twice (apim.name counts)",
                    inst.name
                ),
                None,
            );
        }
        c.region(&format!("{base}.region"), &inst.region);
        if !regions.insert(inst.region.clone()) {
            c.fail(
                format!("{base}.region"),
                format!(
                    "region `{}` already has a gateway (the primary location and additional regions count): one instance per region",
                    inst.region
                ),
                None,
            );
        } else if b.pattern == Pattern::AfdApim && !account_regions.contains(inst.region.as_str()) {
            c.fail(
                format!("{base}.region"),
                format!("instance region `{}` has no Azure OpenAI account in that region", inst.region),
                Some("each gateway routes to its own region's accounts: add an account with this region".into()),
            );
        }
        c.weight_priority(&base, inst.weight, inst.priority);
        if let Some(n) = &inst.network {
            let subnet_help = "expected /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>, or <network>/<subnet> for a network of `networks`";
            for (field, id) in [
                ("subnetId", n.subnet_id.as_deref()),
                (
                    "privateEndpoint.subnetId",
                    n.private_endpoint.as_ref().map(|p| p.subnet_id.as_str()),
                ),
            ] {
                if let Some(id) = id.filter(|id| !is_subnet_id(id)) {
                    c.fail(
                        format!("{base}.network.{field}"),
                        format!("`{id}` is not a subnet resource id"),
                        Some(subnet_help.into()),
                    );
                }
            }
        }
    }
    // Each gateway region routes to its own region's accounts.
    if b.pattern == Pattern::AfdApim {
        let account_regions: BTreeSet<&str> = b
            .openai
            .accounts
            .iter()
            .map(|x| x.region.as_str())
            .collect();
        let mut regions = vec![("location".to_string(), b.location.as_str())];
        for (i, r) in a.additional_regions.iter().enumerate() {
            regions.push((
                format!("apim.additionalRegions[{i}].region"),
                r.region.as_str(),
            ));
        }
        for (field, r) in regions {
            if !account_regions.contains(r) {
                c.fail(
                    field,
                    format!("APIM gateway region `{r}` has no Azure OpenAI account in that region"),
                    Some("each regional gateway routes to its own region's accounts: add an account with this region".into()),
                );
            }
        }
    }
    let r = &a.load_balancing.retry;
    // The retry policy's count is a positive integer (retry.xsd); 0 would only fail later, in
    // the rendered policy.
    c.range(
        "apim.loadBalancing.retry.count",
        r.count,
        1,
        50,
        "retry count",
    );
    c.range(
        "apim.loadBalancing.retry.interval",
        r.interval,
        0,
        300,
        "retry interval",
    );
    if let Some(t) = a.timeout_seconds {
        c.range("apim.timeoutSeconds", t, 1, 240, "gateway timeout");
    }
    if let Some(j) = &a.jwt {
        check_jwt(c, j);
        if j.caller_header.is_empty()
            || !j
                .caller_header
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        {
            c.fail(
                "apim.jwt.callerHeader",
                format!("`{}` is not a valid HTTP header name", j.caller_header),
                None,
            );
        } else if let Some(why) = reserved_caller_header(&j.caller_header) {
            c.fail(
                "apim.jwt.callerHeader",
                format!(
                    "`{}` cannot carry the caller's object id: {why}",
                    j.caller_header
                ),
                Some("name a header of your own, e.g. caller-objectid".into()),
            );
        }
    }
    if let Some(l) = &a.logging {
        c.name("apim.logging.logAnalytics", &l.log_analytics, &WORKSPACE);
        c.name("apim.logging.appInsights", &l.app_insights, &APPINSIGHTS);
        c.range(
            "apim.logging.bodyBytes",
            l.body_bytes,
            0,
            8192,
            "body bytes",
        );
        c.range(
            "apim.logging.retentionDays",
            l.retention_days,
            30,
            730,
            "retention days",
        );
        if let Some(e) = &l.event_hub {
            c.name(
                "apim.logging.eventHub.namespace",
                &e.namespace,
                &EH_NAMESPACE,
            );
            c.name("apim.logging.eventHub.name", &e.name, &EH);
            super::edge::validate_event_hub(
                &mut |f: &str, m: String, h: Option<String>| c.fail(f, m, h),
                e,
            );
        }
    }
    if let Some(bu) = &a.budget {
        c.name("apim.budget.name", &bu.name, &BUDGET);
        let d = bu.start_date.as_bytes();
        let ok = d.len() == 10
            && bu.start_date.ends_with("-01")
            && d[4] == b'-'
            && bu.start_date[..4].parse::<u32>().is_ok()
            && bu.start_date[5..7]
                .parse::<u32>()
                .is_ok_and(|m| (1..=12).contains(&m));
        if !ok {
            c.fail(
                "apim.budget.startDate",
                format!("`{}` is not the first day of a month", bu.start_date),
                Some("budgets start on the first of a month: YYYY-MM-01".into()),
            );
        } else {
            budget_window(c, &bu.start_date, &crate::engine::progress::utc_now());
        }
        if bu.amount == 0 {
            c.fail("apim.budget.amount", "budget amount must be positive", None);
        }
        if bu.thresholds.is_empty() {
            c.fail(
                "apim.budget.thresholds",
                "at least one threshold is needed",
                None,
            );
        }
        for (i, t) in bu.thresholds.iter().enumerate() {
            c.range(
                &format!("apim.budget.thresholds[{i}]"),
                *t,
                1,
                1000,
                "threshold percent",
            );
        }
        if bu.contact_emails.is_empty() {
            c.fail(
                "apim.budget.contactEmails",
                "a budget needs at least one contact email",
                None,
            );
        }
        for (i, e) in bu.contact_emails.iter().enumerate() {
            if !e.contains('@') {
                c.fail(
                    format!("apim.budget.contactEmails[{i}]"),
                    format!("`{e}` is not an email address"),
                    None,
                );
            }
        }
    }
    // Named values the rendered policy defines itself.
    let reserved = [
        (
            "jwt-openid-config",
            a.jwt.as_ref().is_some_and(|j| j.openid_config.is_some()),
        ),
        (
            "front-door-id",
            b.pattern == Pattern::AfdApim && b.front_door.is_some(),
        ),
    ];
    let mut nv_lower = BTreeMap::new();
    for k in a.named_values.keys() {
        if let Some((name, _)) = reserved
            .iter()
            .find(|(name, used)| *used && k.eq_ignore_ascii_case(name))
        {
            c.fail(
                format!("apim.namedValues.{k}"),
                format!("named value `{k}` is rendered by aoai-arch for the API policy"),
                Some(format!("pick another name: `{name}` is taken")),
            );
        }
        c.name(&format!("apim.namedValues.{k}"), k, &NAMED_VALUE);
        if let Some(prev) = nv_lower.insert(k.to_lowercase(), k.clone()) {
            c.fail(
                format!("apim.namedValues.{k}"),
                format!("named values `{prev}` and `{k}` differ only in case"),
                None,
            );
        }
    }
}

const VNET: NameRule = NameRule {
    what: "virtual network",
    min: 2,
    max: 64,
    chars_doc: "letters, digits, `-`, `_` and `.`, starting with a letter or digit and ending with a letter, digit or `_`",
    allowed: |c| c.is_ascii_alphanumeric() || "-_.".contains(c),
    first: alnum,
    last: |c| c.is_ascii_alphanumeric() || c == '_',
};
const SUBNET: NameRule = NameRule {
    what: "subnet",
    min: 1,
    max: 80,
    chars_doc: "letters, digits, `-`, `_` and `.`, starting with a letter or digit and ending with a letter, digit or `_`",
    allowed: |c| c.is_ascii_alphanumeric() || "-_.".contains(c),
    first: alnum,
    last: |c| c.is_ascii_alphanumeric() || c == '_',
};

/// An IPv4 prefix `a.b.c.d/n` as (first address, length); `None` when malformed or when
/// host bits are set (Azure refuses `10.0.0.1/24` as an address prefix).
pub fn cidr(s: &str) -> Option<(u32, u8)> {
    let (ip, len) = s.split_once('/')?;
    let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
    let addr: std::net::Ipv4Addr = ip.parse().ok()?;
    let a = u32::from(addr);
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    (a & !mask == 0).then_some((a, len))
}

/// `inner` lies inside `outer`.
fn within(inner: (u32, u8), outer: (u32, u8)) -> bool {
    let mask = if outer.1 == 0 {
        0
    } else {
        u32::MAX << (32 - outer.1)
    };
    inner.1 >= outer.1 && inner.0 & mask == outer.0
}

fn overlap(a: (u32, u8), b: (u32, u8)) -> bool {
    within(a, b) || within(b, a)
}

/// The smallest subnet each purpose takes: classic injection /29
/// (learn.microsoft.com/azure/api-management/virtual-network-injection-resources#subnet-size),
/// v2 outbound integration /27 (learn.microsoft.com/azure/api-management/integrate-vnet-outbound#subnet-size),
/// both read 2026-12-06.
pub fn max_prefix_len(p: SubnetPurpose) -> Option<u8> {
    match p {
        SubnetPurpose::PrivateEndpoints => None,
        SubnetPurpose::ApimInjection => Some(29),
        SubnetPurpose::ApimIntegration => Some(27),
    }
}

/// `networks`: created networks (name, address space, subnets, peerings) or existing ones (id,
/// region); names, prefixes, sizes, overlaps.
fn check_networks(c: &mut Checker, b: &Blueprint) {
    let mut names = BTreeSet::new();
    let created: Vec<&str> = b
        .networks
        .iter()
        .filter_map(|n| n.name.as_deref())
        .collect();
    let mut spaces: BTreeMap<String, Vec<(u32, u8)>> = BTreeMap::new();
    for (i, n) in b.networks.iter().enumerate() {
        let base = format!("networks[{i}]");
        if let Some(r) = &n.region {
            c.region(&format!("{base}.region"), r);
        }
        match (&n.name, &n.id) {
            (Some(_), Some(_)) | (None, None) => c.fail(
                base.clone(),
                "a network is either created (`name`) or existing (`id`)",
                Some("set `name` (with addressSpace and subnets) to create it, or `id` (with region) to use an existing one".into()),
            ),
            (None, Some(id)) => {
                if !is_vnet_id(id) {
                    c.fail(
                        format!("{base}.id"),
                        format!("`{id}` is not a virtual network resource id"),
                        Some("expected /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>, or the name of a network of `networks`".into()),
                    );
                }
                for (field, set) in [
                    ("addressSpace", !n.address_space.is_empty()),
                    ("subnets", !n.subnets.is_empty()),
                    ("peerings", !n.peerings.is_empty()),
                ] {
                    if set {
                        c.fail(
                            format!("{base}.{field}"),
                            format!("`{field}` describes a network this blueprint creates; `{id}` exists and is not written"),
                            Some("remove it, or create the network with `name` instead of `id`".into()),
                        );
                    }
                }
                if !names.insert(id.to_lowercase()) {
                    c.fail(format!("{base}.id"), "this network is listed twice", None);
                }
            }
            (Some(name), None) => {
                c.name(&format!("{base}.name"), name, &VNET);
                let id = format!(
                    "/subscriptions/{}/resourcegroups/{}/providers/microsoft.network/virtualnetworks/{}",
                    b.subscription, b.resource_group, name
                )
                .to_lowercase();
                if !names.insert(id) {
                    c.fail(
                        format!("{base}.name"),
                        format!("network `{name}` is declared twice"),
                        None,
                    );
                }
                if n.address_space.is_empty() {
                    c.fail(
                        format!("{base}.addressSpace"),
                        "a network the blueprint creates needs an address space",
                        Some("e.g. addressSpace: [10.10.0.0/16]".into()),
                    );
                }
                let mut space = Vec::new();
                for (j, p) in n.address_space.iter().enumerate() {
                    match cidr(p) {
                        Some(x) => space.push(x),
                        None => c.fail(
                            format!("{base}.addressSpace[{j}]"),
                            format!("`{p}` is not an IPv4 prefix"),
                            Some("write a.b.c.d/n with the host bits zero, e.g. 10.10.0.0/16".into()),
                        ),
                    }
                }
                let mut subnet_names = BTreeSet::new();
                let mut taken: Vec<(u32, u8)> = Vec::new();
                for (j, s) in n.subnets.iter().enumerate() {
                    let sb = format!("{base}.subnets[{j}]");
                    c.name(&format!("{sb}.name"), &s.name, &SUBNET);
                    if !subnet_names.insert(s.name.to_lowercase()) {
                        c.fail(
                            format!("{sb}.name"),
                            format!("subnet `{}` is declared twice in `{name}`", s.name),
                            None,
                        );
                    }
                    let Some(p) = cidr(&s.address_prefix) else {
                        c.fail(
                            format!("{sb}.addressPrefix"),
                            format!("`{}` is not an IPv4 prefix", s.address_prefix),
                            Some("write a.b.c.d/n with the host bits zero, e.g. 10.10.1.0/24".into()),
                        );
                        continue;
                    };
                    if !space.is_empty() && !space.iter().any(|sp| within(p, *sp)) {
                        c.fail(
                            format!("{sb}.addressPrefix"),
                            format!("`{}` is outside the address space of `{name}` ({})", s.address_prefix, n.address_space.join(", ")),
                            None,
                        );
                    }
                    if let Some(k) = taken.iter().position(|t| overlap(p, *t)) {
                        c.fail(
                            format!("{sb}.addressPrefix"),
                            format!("`{}` overlaps subnet `{}` of `{name}`", s.address_prefix, n.subnets[k].name),
                            None,
                        );
                    }
                    taken.push(p);
                    if let Some(max) = max_prefix_len(s.purpose).filter(|m| p.1 > *m) {
                        c.fail(
                            format!("{sb}.addressPrefix"),
                            format!("a subnet for {} is /{max} or larger; `{}` is /{}", s.purpose.as_str(), s.address_prefix, p.1),
                            Some(match s.purpose {
                                SubnetPurpose::ApimInjection => "classic API Management injection takes /29 at least (two addresses per unit, five reserved by Azure); /27 leaves room to scale".into(),
                                _ => "API Management v2 outbound integration takes /27 at least; /24 is recommended to scale".into(),
                            }),
                        );
                    }
                }
                spaces.insert(name.to_lowercase(), space);
            }
        }
    }
    check_subnet_uses(c, b);
    // Peerings between created networks, whose address spaces must not overlap.
    for (i, n) in b.networks.iter().enumerate() {
        for (j, peer) in n.peerings.iter().enumerate() {
            let field = format!("networks[{i}].peerings[{j}]");
            if !created.iter().any(|c| c.eq_ignore_ascii_case(peer)) {
                let all: Vec<String> = created.iter().map(|s| s.to_string()).collect();
                c.fail(
                    field,
                    format!("`{peer}` is not a network this blueprint creates"),
                    super::closest(peer, &all)
                        .map(|s| format!("did you mean `{s}`?"))
                        .or(Some(
                            "peerings name other entries of `networks` by their `name`".into(),
                        )),
                );
                continue;
            }
            if n.name
                .as_deref()
                .is_some_and(|me| me.eq_ignore_ascii_case(peer))
            {
                c.fail(field, "a network cannot peer with itself", None);
                continue;
            }
            let mine = spaces.get(&n.name.clone().unwrap_or_default().to_lowercase());
            let theirs = spaces.get(&peer.to_lowercase());
            if let (Some(a), Some(bb)) = (mine, theirs) {
                if a.iter().any(|x| bb.iter().any(|y| overlap(*x, *y))) {
                    c.fail(
                        field,
                        format!("the address spaces of `{}` and `{peer}` overlap: Azure refuses to peer them", n.name.clone().unwrap_or_default()),
                        Some("give each network its own address space".into()),
                    );
                }
            }
        }
    }
}

/// Each subnet id that names a network the blueprint creates names one of its subnets, of the
/// purpose its use needs; a v2 integration subnet serves one service.
fn check_subnet_uses(c: &mut Checker, b: &Blueprint) {
    let nets = super::networks::Networks::of(b);
    let mut integration: BTreeMap<String, String> = BTreeMap::new();
    for u in super::networks::uses(b) {
        if !is_subnet_id(&u.subnet_id) || !nets.creates(&u.subnet_id) {
            continue;
        }
        let vnet = super::networks::short(&super::networks::vnet_of(&u.subnet_id)).to_string();
        let Some((_, spec)) = nets.created_subnet(&u.subnet_id) else {
            let net = nets.find(&super::networks::vnet_of(&u.subnet_id));
            let all: Vec<String> = net
                .map(|n| n.subnets.iter().map(|s| s.name.clone()).collect())
                .unwrap_or_default();
            let name = super::networks::short(&u.subnet_id);
            c.fail(
                u.field,
                format!("network `{vnet}` (created by this blueprint) has no subnet `{name}`"),
                super::closest(name, &all)
                    .map(|s| format!("did you mean `{s}`?"))
                    .or(Some(format!(
                        "add it to {}.subnets",
                        net.map(|n| n.field.clone()).unwrap_or_default()
                    ))),
            );
            continue;
        };
        if spec.purpose != u.usage.purpose() {
            c.fail(
                u.field.clone(),
                format!(
                    "subnet `{vnet}/{}` is for {}, but this field uses it for {}",
                    spec.name,
                    spec.purpose.as_str(),
                    u.usage.purpose().as_str()
                ),
                Some(format!(
                    "use a subnet with purpose: {} (each purpose gets its own delegation and network security group)",
                    u.usage.purpose().as_str()
                )),
            );
        }
        if u.usage == super::networks::Use::Integration {
            if let Some(first) = integration.insert(u.subnet_id.to_lowercase(), u.field.clone()) {
                c.fail(
                    u.field,
                    format!("subnet `{vnet}/{}` is already the integration subnet of {first}", spec.name),
                    Some("API Management v2 outbound integration needs a dedicated subnet per service".into()),
                );
            }
        }
    }
}

/// The Consumption API's window for a monthly cost budget's start (BudgetTimePeriod.startDate):
/// on or after 2017-06-01 and at most twelve months ahead of `now` (`YYYY-MM-...`). A start in
/// the past is left alone: an existing budget keeps its start date on every later apply.
fn budget_window(c: &mut Checker, start: &str, now: &str) {
    let months = |s: &str| -> Option<i64> {
        Some(s.get(..4)?.parse::<i64>().ok()? * 12 + s.get(5..7)?.parse::<i64>().ok()? - 1)
    };
    let (Some(start_m), Some(now_m), Some(first)) = (months(start), months(now), months("2017-06"))
    else {
        return;
    };
    if start_m < first {
        c.fail(
            "apim.budget.startDate",
            format!(
                "budget start `{start}` is before 2017-06-01, the earliest start Azure accepts"
            ),
            Some("start the budget on the first of this month or a later one".into()),
        );
    } else if start_m - now_m > 12 {
        c.fail(
            "apim.budget.startDate",
            format!(
                "budget start `{start}` is {} months ahead; Azure accepts at most twelve",
                start_m - now_m
            ),
            Some(format!(
                "start the budget within twelve months of today ({})",
                &now[..10.min(now.len())]
            )),
        );
    }
}

/// Either Microsoft Entra (`tenantId`, audiences per token version) or a generic issuer
/// (`openidConfig`), never both: each form renders a different policy.
fn check_jwt(c: &mut Checker, j: &Jwt) {
    match (&j.tenant_id, &j.openid_config) {
        (Some(_), Some(_)) => c.fail(
            "apim.jwt.openidConfig",
            "`openidConfig` and `tenantId` are two forms of token validation; pick one",
            Some("with tenantId, validate-azure-ad-token reads the tenant's keys itself: remove openidConfig".into()),
        ),
        (None, None) => c.fail(
            "apim.jwt",
            "token validation needs `tenantId` (Microsoft Entra) or `openidConfig`",
            Some("for Entra: tenantId, clientId (v2 tokens) and/or appIdUri (v1 tokens), tokenVersions".into()),
        ),
        _ => {}
    }
    if j.allow_any_principal_of_tenant
        && !(j.client_applications.is_empty() && j.required_roles.is_empty())
    {
        c.fail(
            "apim.jwt.allowAnyPrincipalOfTenant",
            "`allowAnyPrincipalOfTenant: true` contradicts `clientApplications` / `requiredRoles`",
            Some("remove allowAnyPrincipalOfTenant: the lists already say who may call".into()),
        );
    }
    for (i, r) in j.required_roles.iter().enumerate() {
        if r.trim().is_empty() || r.chars().any(|ch| ch.is_whitespace()) {
            c.fail(
                format!("apim.jwt.requiredRoles[{i}]"),
                format!("`{r}` is not an app role value (no spaces)"),
                Some("the Value of an app role of the gateway's app registration, e.g. Gateway.Invoke".into()),
            );
        }
    }
    if j.tenant_id.is_some() {
        for (i, id) in j.client_applications.iter().enumerate() {
            if !is_guid(id) {
                c.fail(
                    format!("apim.jwt.clientApplications[{i}]"),
                    format!("`{id}` is not an application (client) id"),
                    Some("validate-azure-ad-token compares the token's appid/azp claim with the client application's id, a GUID".into()),
                );
            }
        }
    }
    if let Some(url) = &j.openid_config {
        if !url.starts_with("https://") {
            c.fail(
                "apim.jwt.openidConfig",
                format!("`{url}` is not an https URL"),
                Some("e.g. https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration".into()),
            );
        }
    }
    let Some(tenant) = &j.tenant_id else {
        for field in ["clientId", "appIdUri"] {
            let set = match field {
                "clientId" => j.client_id.is_some(),
                _ => j.app_id_uri.is_some(),
            };
            if set {
                c.fail(
                    format!("apim.jwt.{field}"),
                    format!("`{field}` is only read with `tenantId`"),
                    Some(
                        "with openidConfig, list the accepted values in apim.jwt.audiences".into(),
                    ),
                );
            }
        }
        return;
    };
    if !is_guid(tenant) {
        c.fail(
            "apim.jwt.tenantId",
            format!("`{tenant}` is not a tenant id"),
            Some(
                "the directory (tenant) id is a GUID, shown on the app registration's overview"
                    .into(),
            ),
        );
    }
    for (field, set) in [
        ("audiences", !j.audiences.is_empty()),
        ("issuers", !j.issuers.is_empty()),
    ] {
        if set {
            c.fail(
                format!("apim.jwt.{field}"),
                format!("`{field}` is derived from clientId, appIdUri and tokenVersions with `tenantId`"),
                Some("remove it, or use openidConfig instead of tenantId for a non-Entra issuer".into()),
            );
        }
    }
    if j.token_versions.is_empty() {
        c.fail(
            "apim.jwt.tokenVersions",
            "no token version is accepted",
            Some("list v2, v1 or both".into()),
        );
    }
    if j.token_versions.contains(&TokenVersion::V2) {
        match &j.client_id {
            None => c.fail(
                "apim.jwt.clientId",
                "v2.0 tokens carry the API's client id as `aud`: `clientId` is needed",
                Some("the application (client) id of the gateway's app registration, a GUID".into()),
            ),
            Some(id) if !is_guid(id) => c.fail(
                "apim.jwt.clientId",
                format!("`{id}` is not a client id: v2.0 tokens carry the client id GUID as `aud`, never the App ID URI"),
                Some("use the application (client) id GUID here and the App ID URI in appIdUri (v1 tokens)".into()),
            ),
            _ => {}
        }
    }
    if j.token_versions.contains(&TokenVersion::V1) && j.app_id_uri.is_none() {
        c.fail(
            "apim.jwt.appIdUri",
            "v1.0 tokens carry the API's App ID URI as `aud`: `appIdUri` is needed",
            Some(
                "the Application ID URI of the gateway's app registration, e.g. api://<client id>"
                    .into(),
            ),
        );
    }
}

/// Headers the gateway must not overwrite with the caller's object id (compared
/// case-insensitively): credentials, Front Door's own headers, and headers that change how the
/// request is routed or read.
fn reserved_caller_header(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    match n.as_str() {
        "authorization" | "api-key" | "ocp-apim-subscription-key" | "cookie" => {
            Some("it carries a credential")
        }
        "host" => Some("it routes the request"),
        _ if n.starts_with("x-azure-") => Some("Front Door sets the X-Azure-* headers"),
        _ if n.starts_with("content-") => Some("it describes the request body"),
        _ => None,
    }
}

fn check_front_door(c: &mut Checker, b: &Blueprint, f: &FrontDoor) {
    c.name("frontDoor.profile", &f.profile, &AFD);
    c.name("frontDoor.endpoint", &f.endpoint, &AFD_ENDPOINT);
    c.name("frontDoor.originGroup.name", &f.origin_group.name, &AFD);
    c.name("frontDoor.waf.name", &f.waf.name, &WAF);
    let g = &f.origin_group;
    if let Some(path) = g.probe.path.as_ref().filter(|p| !p.starts_with('/')) {
        c.fail(
            "frontDoor.originGroup.probe.path",
            format!("probe path `{path}` must start with `/`"),
            None,
        );
    }
    if g.probe.cache_seconds == 0 {
        // Without the cache every probe of every Front Door edge costs a call on the accounts,
        // and anyone can call the health operation of a public gateway as often as they like.
        c.fail(
            "frontDoor.originGroup.probe.cacheSeconds",
            "health cache seconds 0 leaves the health operation's calls on the accounts unbounded",
            Some("allowed: 1-60 (default 10)".into()),
        );
    }
    c.range(
        "frontDoor.originGroup.probe.cacheSeconds",
        g.probe.cache_seconds.max(1),
        1,
        60,
        "health cache seconds",
    );
    for (i, field) in f.waf.prompt_fields.iter().enumerate() {
        if field.is_empty()
            || field.len() > 256
            || field.chars().any(|ch| ch.is_control() || ch == '"')
        {
            c.fail(
                format!("frontDoor.waf.promptFields[{i}]"),
                format!("`{field}` is not a JSON field name"),
                Some("name a top-level field of the request body, e.g. messages".into()),
            );
        }
    }
    c.range(
        "frontDoor.originGroup.probe.intervalSeconds",
        g.probe.interval_seconds,
        5,
        255,
        "probe interval",
    );
    c.range(
        "frontDoor.originGroup.sampleSize",
        g.sample_size,
        1,
        255,
        "sample size",
    );
    if g.successful_samples_required == 0 || g.successful_samples_required > g.sample_size {
        c.fail(
            "frontDoor.originGroup.successfulSamplesRequired",
            format!(
                "{} successful samples cannot be met with a sample size of {}",
                g.successful_samples_required, g.sample_size
            ),
            Some("use 1..=sampleSize".into()),
        );
    }
    c.range(
        "frontDoor.originGroup.additionalLatencyMs",
        g.additional_latency_ms,
        0,
        1000,
        "additional latency",
    );
    c.range(
        "frontDoor.originTimeoutSeconds",
        f.origin_timeout_seconds,
        16,
        240,
        "origin timeout",
    );
    if f.private_link && b.pattern == Pattern::Afd {
        c.fail(
            "frontDoor.privateLink",
            "Front Door Private Link to Azure OpenAI is not supported",
            Some("Front Door's Private Link documentation does not list Azure OpenAI as an origin type; the documented private path is Front Door -> API Management (group id `Gateway`) -> private endpoint -> Azure OpenAI: use pattern `afd-apim`".into()),
        );
    }
    if f.private_link {
        if let Some(a) = &b.apim {
            let caps = arm_emulator::capabilities::get();
            let target = caps
                .apim_tier(a.sku.name.as_str())
                .is_some_and(|t| t.front_door_private_link);
            if !target {
                c.fail(
                    "frontDoor.privateLink",
                    format!(
                        "Private Link origins need an APIM SKU that Front Door reaches over Private Link; this one is {}",
                        a.sku.name.as_str()
                    ),
                    Some(format!(
                        "use one of {} (data/capabilities/apim.json)",
                        caps.apim_tiers_with(|t| t.front_door_private_link).join(", ")
                    )),
                );
            }
        }
    }
    for (i, r) in f.waf.managed_rule_sets.iter().enumerate() {
        if r.rule_set_type.is_empty() || r.version.is_empty() {
            c.fail(
                format!("frontDoor.waf.managedRuleSets[{i}]"),
                "a managed rule set needs a type and a version",
                None,
            );
        }
    }
    if let Some(d) = &f.custom_domain {
        c.name("frontDoor.customDomain.name", &d.name, &AFD);
        if !is_hostname(&d.host_name) {
            c.fail(
                "frontDoor.customDomain.hostName",
                format!("`{}` is not a DNS host name", d.host_name),
                None,
            );
        }
    }
}
