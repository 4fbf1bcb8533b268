//! Rules that ask whether the architecture can work in Azure, not only whether its bodies are
//! well formed: the network path and the credential of every hop (client -> Front Door -> API
//! Management -> each account), model x version x deployment type in every account's region,
//! data-zone membership, Front Door Private Link regions and the features of the APIM tier. The
//! facts come from `data/capabilities/` (parsed once, shared with the emulator); `lint --explain`
//! prints the same trace hop by hop.

use std::fmt::Write as _;

use arm_emulator::capabilities::{self, ApimTier, Capabilities, Offer, Stage};

use crate::blueprint::{Blueprint, Pattern, PublicNetworkAccess};

use super::Ctx;

/// One hop of the traced path, for `lint --explain`.
pub struct Hop {
    pub from: String,
    pub to: String,
    /// What carries the traffic and what authenticates it; each line starts with "ok" or "NO".
    pub facts: Vec<(bool, String)>,
}

/// A problem found while tracing: rule, blueprint field, message.
type Problem = (&'static str, String, String);

/// Where an account's missing private endpoint belongs.
const PRIVATE_ENDPOINTS: &str = "networking.privateEndpoints";

use crate::blueprint::networks::{short, vnet_of, Networks};

/// A gateway region: its blueprint field and subnet (when the service has a virtual network).
struct Gateway<'a> {
    region: &'a str,
    field: String,
    subnet: Option<&'a str>,
}

/// Trace every hop; the problems become findings, the hops the `--explain` view.
pub fn trace(b: &Blueprint) -> (Vec<Hop>, Vec<Problem>) {
    let caps = capabilities::get();
    let mut hops = Vec::new();
    let mut problems: Vec<Problem> = Vec::new();
    models(caps, b, &mut problems);

    let public = b
        .networking
        .as_ref()
        .and_then(|n| n.public_network_access)
        .unwrap_or(PublicNetworkAccess::Enabled)
        == PublicNetworkAccess::Enabled;
    let pe_subnet = |acc: &str| {
        b.networking.as_ref().and_then(|n| {
            n.private_endpoints
                .iter()
                .position(|p| p.account == acc)
                .map(|i| (i, n.private_endpoints[i].subnet_id.as_str()))
        })
    };
    let dns_links: Vec<String> = b
        .networking
        .as_ref()
        .and_then(|n| n.private_dns.as_ref())
        .map(|d| d.vnet_links.iter().map(|v| v.to_lowercase()).collect())
        .unwrap_or_default();

    if b.pattern.has_apim() && b.apim.is_none() {
        // Validation reports the missing section; there is no path to trace.
        return (hops, problems);
    }
    let Some(apim) = b.apim.as_ref().filter(|_| b.pattern.has_apim()) else {
        // Front Door straight to the accounts: only their public endpoints (Front Door's Private
        // Link does not list Azure OpenAI).
        for (i, acc) in b.openai.accounts.iter().enumerate() {
            let mut facts = vec![(true, "Front Door reaches the public endpoint".to_string())];
            if !public {
                facts[0] = (
                    false,
                    "public network access is Disabled and Front Door has no private path to Azure OpenAI".into(),
                );
                problems.push((
                    "AOAI016",
                    "networking.publicNetworkAccess".into(),
                    format!("Front Door has no network path to account {}: public network access is Disabled and Front Door Private Link does not support Azure OpenAI", acc.name),
                ));
            }
            facts.push((
                true,
                "the caller's credential (api-key or Entra token) is passed through".into(),
            ));
            hops.push(Hop {
                from: "Front Door".into(),
                to: format!("openai.accounts[{i}] {} ({})", acc.name, acc.region),
                facts,
            });
        }
        return (hops, problems);
    };

    let sku = apim.sku.name.as_str();
    let tier: Option<ApimTier> = caps.apim_tier(sku).copied();
    // The gateway's virtual network (a section with only an inbound private endpoint has none).
    let network = apim.network.as_ref().filter(|n| n.subnet_id.is_some());
    // Does the tier accept the configured virtual network?
    let vnet_ok = match (network, tier) {
        (None, _) | (_, None) => false,
        (Some(n), Some(t)) => {
            let internal = n.mode == crate::blueprint::ApimVnetMode::Internal;
            if !t.vnet_injection && !t.outbound_vnet_integration {
                problems.push((
                    "AOAI017",
                    "apim.network".into(),
                    format!(
                        "the {sku} tier has neither virtual network injection nor outbound integration (tiers that have: {})",
                        caps.apim_tiers_with(|t| t.vnet_injection || t.outbound_vnet_integration).join(", ")
                    ),
                ));
                false
            } else if internal && !t.vnet_injection {
                problems.push((
                    "AOAI017",
                    "apim.network.mode".into(),
                    format!("the {sku} tier only integrates with a virtual network for outbound calls (mode External); Internal needs injection ({})", caps.apim_tiers_with(|t| t.vnet_injection).join(", ")),
                ));
                false
            } else {
                true
            }
        }
    };
    let mut gateways = vec![Gateway {
        region: b.location.as_str(),
        field: "location".into(),
        subnet: network.and_then(|n| n.subnet_id.as_deref()),
    }];
    for (i, r) in apim.additional_regions.iter().enumerate() {
        if network.is_some() && r.subnet_id.is_none() {
            problems.push((
                "AOAI027",
                format!("apim.additionalRegions[{i}]"),
                format!(
                    "gateway region {} has no subnet while the service is in a virtual network",
                    r.region
                ),
            ));
        }
        gateways.push(Gateway {
            region: r.region.as_str(),
            field: format!("apim.additionalRegions[{i}].region"),
            subnet: network.and(r.subnet_id.as_deref()),
        });
    }
    let injected_classic =
        network.is_some() && tier.is_some_and(|t| t.vnet_injection && !t.outbound_vnet_integration);
    let internal = network.is_some_and(|n| n.mode == crate::blueprint::ApimVnetMode::Internal);

    // Client -> Front Door -> each gateway (afd-apim), or client -> the gateway (apim).
    if let Some(f) = b
        .front_door
        .as_ref()
        .filter(|_| b.pattern == Pattern::AfdApim)
    {
        hops.push(Hop {
            from: "client".into(),
            to: format!("Front Door {}", f.profile),
            facts: vec![(true, "public endpoint with WAF".into())],
        });
        for g in &gateways {
            let mut facts = Vec::new();
            if f.private_link {
                let tier_ok = tier.is_some_and(|t| t.front_door_private_link);
                if !tier_ok {
                    problems.push((
                        "AOAI025",
                        "frontDoor.privateLink".into(),
                        format!(
                            "Front Door cannot reach the {sku} tier over Private Link (tiers it can: {})",
                            caps.apim_tiers_with(|t| t.front_door_private_link).join(", ")
                        ),
                    ));
                } else if injected_classic {
                    problems.push((
                        "AOAI025",
                        "frontDoor.privateLink".into(),
                        format!("API Management {sku} injected in a virtual network accepts no inbound private endpoint, so Front Door cannot reach it over Private Link"),
                    ));
                }
                match caps.front_door_private_link_region(g.region) {
                    Some(pl) if pl != g.region => {
                        problems.push((
                            "AOAI024",
                            g.field.clone(),
                            format!("Front Door Private Link is not offered in {}; the origin uses {pl}, the nearest listed region", g.region),
                        ));
                        facts.push((
                            tier_ok && !injected_classic,
                            format!("Private Link (group id Gateway) from Front Door's {pl} (nearest listed to {})", g.region),
                        ));
                    }
                    _ => facts.push((
                        tier_ok && !injected_classic,
                        format!("Private Link (group id Gateway) in {}", g.region),
                    )),
                }
            } else if internal {
                problems.push((
                    "AOAI028",
                    "apim.network.mode".into(),
                    "Front Door reaches origins over the internet or Private Link; an Internal gateway has neither".into(),
                ));
                facts.push((false, "the gateway is Internal: no public endpoint".into()));
            } else {
                facts.push((true, "public gateway endpoint".into()));
            }
            hops.push(Hop {
                from: format!("Front Door {}", f.profile),
                to: format!("API Management {} ({})", apim.name, g.region),
                facts,
            });
        }
    } else {
        hops.push(Hop {
            from: "client".into(),
            to: format!("API Management {} ({})", apim.name, b.location),
            facts: vec![if internal {
                (
                    true,
                    "Internal gateway: callers must be in (or peered with) its virtual network"
                        .into(),
                )
            } else {
                (true, "public gateway endpoint".into())
            }],
        });
    }

    // Gateway -> each account it routes to.
    let identity = apim.auth.managed_identity;
    if !identity {
        problems.push((
            "AOAI026",
            "apim.auth.managedIdentity".into(),
            "the gateway adds no credential of its own: calls succeed only when callers hold account keys".into(),
        ));
    }
    // Every member of every pool of every gateway: in afd-apim each region's pool holds its own
    // accounts at priority 1 and the other regions' at priority 2 (round-robin: the other
    // regions are the last retry's fallback); in apim the one pool holds every account.
    let nets = Networks::of(b);
    let lb = &apim.load_balancing;
    for g in &gateways {
        let gw_vnet = g.subnet.filter(|_| vnet_ok).map(vnet_of);
        for (i, acc) in b.openai.accounts.iter().enumerate() {
            let role = match (b.pattern, lb.mode) {
                (Pattern::AfdApim, crate::blueprint::LbMode::Pool) => format!(
                    "priority {} in aoai-pool-{}",
                    if acc.region == g.region { 1 } else { 2 },
                    g.region
                ),
                (Pattern::AfdApim, _) if acc.region == g.region => "local round-robin".into(),
                (Pattern::AfdApim, _) => "cross-region fallback of the last retry".into(),
                (_, crate::blueprint::LbMode::Pool) => match lb.pool_type {
                    crate::blueprint::PoolType::RoundRobin => "member of aoai-pool".into(),
                    _ => format!("priority {} in aoai-pool", acc.priority.unwrap_or(1)),
                },
                _ => "round-robin member".into(),
            };
            let mut facts = Vec::new();
            let pe = pe_subnet(&acc.name);
            match (&gw_vnet, pe) {
                (Some(v), Some((pi, s))) => {
                    let pe_vnet = vnet_of(s);
                    let field = format!("networking.privateEndpoints[{pi}].subnetId");
                    match nets.connected(v, &pe_vnet) {
                        _ if pe_vnet == *v => facts.push((
                            true,
                            format!("private endpoint in the gateway's network {}", short(v)),
                        )),
                        Some(true) => facts.push((
                            true,
                            format!(
                                "private endpoint in {}, peered with {} (both directions rendered)",
                                short(&pe_vnet),
                                short(v)
                            ),
                        )),
                        Some(false) => {
                            let gw_net = nets.find(v).map(|n| n.field.clone()).unwrap_or_default();
                            problems.push((
                                "AOAI056",
                                field,
                                format!("API Management {} ({}) cannot reach {} ({role}): its private endpoint is in {}, which is not peered with the gateway's network {}; peer them ({gw_net}.peerings: [{}]) or put a private endpoint of {} in {}", apim.name, g.region, acc.name, short(&pe_vnet), short(v), short(&pe_vnet), acc.name, short(v)),
                            ));
                            facts.push((
                                false,
                                format!(
                                    "private endpoint in {}, not peered with {}",
                                    short(&pe_vnet),
                                    short(v)
                                ),
                            ));
                        }
                        None => {
                            problems.push((
                                "AOAI019",
                                field,
                                format!("the private endpoint of {} is in {}, the gateway ({}) in {}: reachable only if they are peered, which lint cannot see for a network the blueprint does not create", acc.name, short(&pe_vnet), g.region, short(v)),
                            ));
                            facts.push((
                                true,
                                format!(
                                    "private endpoint in {} (an existing network: peering with {} assumed)",
                                    short(&pe_vnet),
                                    short(v)
                                ),
                            ));
                        }
                    }
                    if dns_links.contains(v) {
                        facts.push((
                            true,
                            format!("privatelink.openai.azure.com is linked to {}", short(v)),
                        ));
                    } else if public {
                        facts.push((
                            true,
                            format!("privatelink.openai.azure.com is not linked to {}: the gateway uses the public endpoint", short(v)),
                        ));
                    } else {
                        problems.push((
                            "AOAI018",
                            "networking.privateDns".into(),
                            format!("the gateway in {} resolves names in {}, which is not linked to privatelink.openai.azure.com: {} resolves to its public address", g.region, short(v), acc.name),
                        ));
                        facts.push((
                            false,
                            format!("privatelink.openai.azure.com is not linked to {}", short(v)),
                        ));
                    }
                }
                _ if public => facts.push((true, "public endpoint".into())),
                (None, Some(_)) => {
                    problems.push((
                        "AOAI016",
                        if network.is_some() { "apim.network".into() } else { "apim.sku.name".into() },
                        format!("API Management {sku} in {} has no network path to {}: public network access is Disabled and its private endpoint is reachable only from a virtual network the gateway is not in (classic Developer/Premium: apim.network injection; Standard v2/Premium v2: outbound integration)", g.region, acc.name),
                    ));
                    facts.push((false, "public access Disabled; the gateway is in no virtual network that reaches the private endpoint".into()));
                }
                (Some(v), None) => {
                    // The gateway has a network: what the account lacks is its private
                    // endpoint there (a subnet other accounts' endpoints already use, if any).
                    let subnet = b
                        .networking
                        .iter()
                        .flat_map(|n| n.private_endpoints.iter())
                        .map(|p| p.subnet_id.as_str())
                        .find(|s| vnet_of(s) == *v)
                        .map(|s| {
                            // As the blueprint writes a subnet of its own resource group.
                            let own = format!(
                                "/resourcegroups/{}/providers/microsoft.network/virtualnetworks/",
                                b.resource_group.to_lowercase()
                            );
                            match s.to_lowercase().find(&own) {
                                Some(i) => s[i + own.len()..].replacen("/subnets/", "/", 1),
                                None => s.to_string(),
                            }
                        })
                        .unwrap_or_else(|| format!("{}/<subnet>", short(v)));
                    problems.push((
                        "AOAI016",
                        PRIVATE_ENDPOINTS.into(),
                        format!("API Management {} ({}) cannot reach account {}: public network access is Disabled and the account has no private endpoint; add one in the gateway's network {}: networking.privateEndpoints: - {{ account: {}, subnetId: {subnet} }}", apim.name, g.region, acc.name, short(v), acc.name),
                    ));
                    facts.push((
                        false,
                        format!(
                            "public access Disabled and no private endpoint in {}",
                            short(v)
                        ),
                    ));
                }
                (None, None) => {
                    problems.push((
                        "AOAI016",
                        "networking.publicNetworkAccess".into(),
                        format!("account {} has public network access Disabled and no private endpoint: nothing can reach it", acc.name),
                    ));
                    facts.push((
                        false,
                        "public access Disabled and no private endpoint".into(),
                    ));
                }
            }
            facts.push(if identity {
                (true, "managed identity with Cognitive Services OpenAI User, key auth off (rendered bodies checked by AOAI008)".into())
            } else {
                (false, "no managed identity: no credential of the gateway".into())
            });
            hops.push(Hop {
                from: format!("API Management {} ({})", apim.name, g.region),
                to: format!(
                    "openai.accounts[{i}] {} ({}) [{role}]",
                    acc.name, acc.region
                ),
                facts,
            });
        }
    }
    (hops, problems)
}

/// Model x version x deployment type in every account's region (each deployment the account
/// serves), data zones, account kinds.
fn models(caps: &Capabilities, b: &Blueprint, problems: &mut Vec<Problem>) {
    let all = b.openai.all_deployments();
    let mut unknown: Vec<usize> = Vec::new();
    for (i, acc) in b.openai.accounts.iter().enumerate() {
        let field = format!("openai.accounts[{i}].region");
        let region = capabilities::arm_name(&acc.region);
        let kind = acc.kind.or(b.openai.kind).unwrap_or_default().as_str();
        let kind_regions = caps.account_kind_regions(kind).unwrap_or(&[]);
        if !kind_regions.contains(&region) {
            problems.push((
                "AOAI023",
                field,
                format!(
                    "Azure OpenAI accounts of kind {kind} are not offered in {}",
                    acc.region
                ),
            ));
            continue;
        }
        for d in b.openai.deployments_of(acc) {
            let sku = crate::blueprint::OpenAi::sku_on(acc, d);
            let unconfirmed = caps.unconfirmed_data_zone(&region);
            if sku.name.starts_with("DataZone") && caps.data_zone(&region).is_none() {
                if let Some(zone) = unconfirmed {
                    // Learn names no member region of this zone: not refused, not confirmed;
                    // the offer check below still applies to a model the data records.
                    problems.push((
                        "AOAI022",
                        field.clone(),
                        format!(
                            "{} would be in the {zone} data zone, which Learn does not confirm (its tables list no {zone} region for data-zone types): whether {} can be deployed there is not checked",
                            acc.region, sku.name
                        ),
                    ));
                } else {
                    let zones: Vec<String> = caps
                        .data_zones()
                        .map(|(z, rs)| format!("{z}: {}", rs.join(", ")))
                        .chain(
                            caps.unconfirmed_data_zones()
                                .map(|(z, rs)| format!("{z} (not confirmed): {}", rs.join(", "))),
                        )
                        .collect();
                    problems.push((
                        "AOAI021",
                        field.clone(),
                        format!(
                        "{} is in no data zone, so {} cannot be deployed there (data zones: {})",
                        acc.region,
                        sku.name,
                        zones.join("; ")
                    ),
                    ));
                    continue;
                }
            }
            match caps.deployment(&d.model.name, &d.model.version, &sku.name, &region) {
                Offer::Offered => {}
                Offer::NotOffered(where_) => problems.push((
                    "AOAI020",
                    field.clone(),
                    format!(
                        "{} {} is not offered as {} in {} (offered in: {})",
                        d.model.name,
                        d.model.version,
                        sku.name,
                        acc.region,
                        where_.join(", ")
                    ),
                )),
                // A deployment type or a model not known at all is said by AOAI100 / AOAI101
                // (or, a typo, by validation); AOAI022 is for the known ones the region tables
                // do not record.
                Offer::Unknown
                    if crate::blueprint::vocab::deployment_type(&d.sku.name)
                        != crate::blueprint::vocab::Known::Yes
                        || !super::vocab::known_models().contains(&d.model.name) => {}
                Offer::Unknown => {
                    let at = all.iter().position(|x| x.name == d.name).unwrap_or(0);
                    if !unknown.contains(&at) {
                        unknown.push(at);
                    }
                }
            }
        }
    }
    lifecycle(caps, b, &capabilities::today_or_system(), problems);
    for at in unknown {
        let d = all[at];
        problems.push((
            "AOAI022",
            format!("{}.model", b.openai.deployment_field(at)),
            format!(
                "{} {} as {} is not in the capability data: its regional availability is not checked",
                d.model.name, d.model.version, d.sku.name
            ),
        ));
    }
}

/// The model version's lifecycle on `today` from the retirement schedule: retired (error),
/// deprecated (warning, with the retirement date), preview (note); nothing for a generally
/// available version or one the schedule does not record (AOAI022 says so when the region
/// tables do not know it either).
fn lifecycle(caps: &Capabilities, b: &Blueprint, today: &str, problems: &mut Vec<Problem>) {
    for (i, d) in b.openai.all_deployments().into_iter().enumerate() {
        let field = format!("{}.model.version", b.openai.deployment_field(i));
        lifecycle_of(caps, d, field, today, problems);
    }
}

/// [`lifecycle`] of one deployment, located at `field`.
fn lifecycle_of(
    caps: &Capabilities,
    d: &crate::blueprint::Deployment,
    field: String,
    today: &str,
    problems: &mut Vec<Problem>,
) {
    let (name, version, sku) = (&d.model.name, &d.model.version, d.sku.name.as_str());
    let Some(stage) = caps.stage(name, version, today) else {
        return;
    };
    let replacement = || {
        let newest = caps
            .newest_ga(name, sku, None, today)
            .map(|v| format!("{name} {v}"));
        let named = caps
            .lifecycle(name, version)
            .and_then(|l| l.replacement.clone());
        match (newest, named) {
            (Some(n), _) => format!("; the newest generally available version is {n}"),
            (None, Some(r)) => match caps.newest_ga(&r, sku, None, today) {
                Some(v) => format!(
                    "; the schedule names {r} as its replacement (generally available: {r} {v})"
                ),
                None => format!(
                    "; the schedule names {r} as its replacement, which is not generally available either"
                ),
            },
            (None, None) => String::new(),
        }
    };
    match stage {
        Stage::Retired { on } => problems.push((
            "AOAI060",
            field,
            format!(
                "{name} {version} is retired{} (today is {today}): calls to it fail and Azure refuses new deployments{}",
                on.map(|d| format!(" since {d}")).unwrap_or_default(),
                replacement()
            ),
        )),
        Stage::Deprecated { retires } => {
            let left = retires
                .as_deref()
                .and_then(|r| capabilities::days_between(today, r))
                .map(|n| format!(", {n} days from today"))
                .unwrap_or_default();
            problems.push((
                "AOAI061",
                field,
                format!(
                    "{name} {version} is deprecated and retires {}{left}: no new deployment of it is accepted{}",
                    retires.as_deref().map(|r| format!("on {r}")).unwrap_or_else(|| "on a date not recorded".into()),
                    replacement()
                ),
            ));
        }
        Stage::Preview { retires } => problems.push((
            "AOAI062",
            field,
            format!(
                "{name} {version} is a preview version{}",
                retires
                    .map(|r| format!(", retiring on {r}"))
                    .unwrap_or_default()
            ),
        )),
        Stage::GenerallyAvailable { .. } => {}
    }
}

/// Push the traced problems as findings.
/// Each of `apim.instances` is traced like the primary service, its findings located at its
/// own fields (a finding the primary already has is not repeated).
pub(super) fn check(c: &mut Ctx, b: &Blueprint) {
    let (_, mut problems) = trace(b);
    for (i, one) in crate::blueprint::instances::instance_blueprints(b) {
        let (_, more) = trace(&one);
        problems.extend(more.into_iter().map(|(id, field, message)| {
            (
                id,
                crate::blueprint::instances::instance_field(i, &field),
                message,
            )
        }));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (id, field, message) in problems {
        if seen.insert((id, field.clone(), message.clone())) {
            // A gateway that has a network reaches a private account through the account's
            // private endpoint: that, not a network for the gateway, is the fix.
            let help = (id == "AOAI016" && field == PRIVATE_ENDPOINTS).then(|| {
                "give the account a private endpoint in the gateway's virtual network or one peered with it (networking.privateEndpoints), or keep public network access on".to_string()
            });
            c.at_field_with_help(id, &field, message, help);
        }
    }
}

/// `lint --explain`: the traced path, hop by hop, with where each fact comes from.
pub fn explain(b: &Blueprint, file: &str) -> String {
    let caps = capabilities::get();
    let (mut hops, mut problems) = trace(b);
    // Each of apim.instances: its own hops (Front Door -> it -> its region's accounts).
    for (_, one) in crate::blueprint::instances::instance_blueprints(b) {
        let (more, found) = trace(&one);
        hops.extend(more.into_iter().filter(|h| h.from != "client"));
        problems.extend(found);
    }
    let mut out = String::new();
    let _ = writeln!(out, "path of {file} (pattern {}):", b.pattern.as_str());
    for h in &hops {
        let ok = h.facts.iter().all(|(ok, _)| *ok);
        let _ = writeln!(
            out,
            "  {} {} -> {}",
            if ok { "ok" } else { "NO" },
            h.from,
            h.to
        );
        for (ok, f) in &h.facts {
            let _ = writeln!(out, "       {} {f}", if *ok { "+" } else { "x" });
        }
    }
    let d = b.openai.first_deployment();
    let _ = writeln!(
        out,
        "model: {} {} as {} in {}",
        d.model.name,
        d.model.version,
        d.sku.name,
        b.openai
            .accounts
            .iter()
            .map(|a| a.region.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .join(", ")
    );
    let model_problems: Vec<&Problem> = problems
        .iter()
        .filter(|p| {
            matches!(
                p.0,
                "AOAI020" | "AOAI021" | "AOAI022" | "AOAI023" | "AOAI060" | "AOAI061" | "AOAI062"
            )
        })
        .collect();
    if model_problems.is_empty() {
        let _ = writeln!(out, "  ok offered in every account's region");
    }
    for p in model_problems {
        let _ = writeln!(out, "  NO {} [{}]", p.2, p.0);
    }
    if let Some(s) = caps.openai_source(&d.sku.name) {
        let _ = writeln!(out, "  source: {} (read {})", s.url, s.read);
    }
    let today = capabilities::today_or_system();
    match caps.stage(&d.model.name, &d.model.version, &today) {
        Some(stage) => {
            let _ = writeln!(
                out,
                "  lifecycle on {today}: {}{}",
                match stage {
                    Stage::GenerallyAvailable { .. } => "generally available",
                    Stage::Preview { .. } => "preview",
                    Stage::Deprecated { .. } => "deprecated",
                    Stage::Retired { .. } => "retired",
                },
                stage
                    .retirement()
                    .map(|r| format!(", retirement {r}"))
                    .unwrap_or_default()
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  lifecycle: not in the retirement schedule data (not checked)"
            );
        }
    }
    if let Some(s) = caps.openai_source("lifecycle") {
        let _ = writeln!(out, "  source: {} (read {})", s.url, s.read);
    }
    let blocking = problems
        .iter()
        .filter(|p| super::rule(p.0).severity == super::Severity::Error)
        .count();
    let _ = writeln!(
        out,
        "{}",
        if hops.is_empty() {
            "no path to trace: the blueprint has no gateway or no account".to_string()
        } else if blocking == 0 {
            "every hop has a network path and a credential".to_string()
        } else {
            format!("{blocking} hop problem(s) that stop traffic; see the findings below")
        }
    );
    out
}
