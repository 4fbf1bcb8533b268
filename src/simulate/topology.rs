//! What the simulation reads from a render: gateways, backends, pools, circuit breakers,
//! accounts and their deployments, networks, private endpoints, peerings, DNS links, Front Door.
//! Only ARM bodies and policy XML: never the blueprint.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::policy::{self, region_key, ApiPolicy, TokenLimit};

/// One ARM request of a render: id, type and body.
#[derive(Debug, Clone)]
pub struct Res {
    pub id: String,
    pub ty: String,
    pub body: Value,
}

#[derive(Debug, Clone)]
pub struct Breaker {
    pub count: u32,
    pub interval_s: f64,
    pub ranges: Vec<(u16, u16)>,
    pub trip_s: f64,
    pub accept_retry_after: bool,
}

#[derive(Debug, Clone)]
pub struct Backend {
    pub name: String,
    /// The account its URL names (`https://<subdomain>.openai.azure.com/...`).
    pub account: Option<String>,
    pub breaker: Option<Breaker>,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub backend: String,
    pub priority: u32,
    pub weight: u32,
}

#[derive(Debug, Clone)]
pub struct Deployment {
    pub name: String,
    /// A provisioned (PTU) deployment.
    pub provisioned: bool,
    pub spillover: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    pub region: String,
    pub public: bool,
    /// Networks holding one of its private endpoints.
    pub endpoint_vnets: Vec<String>,
    pub deployments: Vec<Deployment>,
}

/// One regional gateway of an API Management service.
#[derive(Debug, Clone)]
pub struct Gateway {
    pub service: String,
    pub region: String,
    /// The network its outbound traffic leaves from (VNet integration or injection).
    pub vnet: Option<String>,
}

#[derive(Debug, Clone)]
pub enum OriginTarget {
    /// Service name and region of the gateway.
    Gateway(String, String),
    Account(String),
    Unknown(String),
}

#[derive(Debug, Clone)]
pub struct Origin {
    pub name: String,
    pub target: OriginTarget,
    pub priority: u32,
    pub weight: u32,
}

#[derive(Debug, Clone)]
pub struct FrontDoor {
    pub origins: Vec<Origin>,
    pub probe_path: String,
    pub probe_interval_s: f64,
    pub sample_size: usize,
    pub successful_required: usize,
    pub additional_latency_ms: f64,
}

/// A service's API: its policy and path.
#[derive(Debug, Clone)]
pub struct Api {
    pub path: String,
    pub policy: ApiPolicy,
}

#[derive(Debug, Clone, Default)]
pub struct Topology {
    pub gateways: Vec<Gateway>,
    /// `(service, backend name)`.
    pub backends: BTreeMap<(String, String), Backend>,
    pub pools: BTreeMap<(String, String), Vec<Member>>,
    pub accounts: BTreeMap<String, Account>,
    /// Per service: its APIs (the Azure OpenAI API and, behind Front Door, the health API).
    pub apis: BTreeMap<String, Vec<Api>>,
    /// Per service: product (team) -> token limits of its policy.
    pub products: BTreeMap<String, BTreeMap<String, Vec<TokenLimit>>>,
    /// Services whose API has a Responses API follow-up operation (`{response_id}` in its URL
    /// template): clients send follow-ups to a stored response there.
    pub responses: BTreeSet<String>,
    /// Per service: product (team) -> the subscriptions scoped to it (their ids, `sid`).
    pub subscriptions: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// Directed peerings `(from vnet, to vnet)`, lowercase ids.
    pub peerings: BTreeSet<(String, String)>,
    /// Private DNS zone -> linked networks (lowercase ids).
    pub dns_links: BTreeMap<String, BTreeSet<String>>,
    pub front_door: Option<FrontDoor>,
    /// What the simulation could not interpret, said in its output.
    pub not_interpreted: Vec<String>,
}

/// The part of an id after `/<segment>/`.
fn segment<'a>(id: &'a str, name: &str) -> Option<&'a str> {
    let parts: Vec<&str> = id.split('/').collect();
    parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case(name))
        .and_then(|i| parts.get(i + 1).copied())
}

fn last(id: &str) -> String {
    id.rsplit('/').next().unwrap_or(id).to_string()
}

/// A subnet id's network.
fn vnet_of(subnet: &str) -> String {
    let lower = subnet.to_lowercase();
    match lower.find("/subnets/") {
        Some(i) => lower[..i].to_string(),
        None => lower,
    }
}

/// ISO 8601 durations as the backends write them (`PT10S`, `PT1M`, `PT1H30M`).
pub fn duration_s(s: &str) -> Option<f64> {
    let t = s.strip_prefix("PT")?;
    let mut total = 0.0;
    let mut num = String::new();
    for c in t.chars() {
        match c {
            '0'..='9' | '.' => num.push(c),
            'H' | 'M' | 'S' => {
                let n: f64 = num.parse().ok()?;
                total += n * match c {
                    'H' => 3600.0,
                    'M' => 60.0,
                    _ => 1.0,
                };
                num.clear();
            }
            _ => return None,
        }
    }
    Some(total)
}

fn breaker(body: &Value, name: &str, notes: &mut Vec<String>) -> Option<Breaker> {
    let rules = body
        .pointer("/properties/circuitBreaker/rules")?
        .as_array()?;
    if rules.len() > 1 {
        notes.push(format!(
            "backend {name}: {} circuit breaker rules, only the first is simulated",
            rules.len()
        ));
    }
    let r = rules.first()?;
    let fc = &r["failureCondition"];
    let ranges = fc["statusCodeRanges"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| Some((x["min"].as_u64()? as u16, x["max"].as_u64()? as u16)))
                .collect()
        })
        .unwrap_or_default();
    let interval = fc["interval"].as_str().and_then(duration_s);
    let trip = r["tripDuration"].as_str().and_then(duration_s);
    // A percentage rule (a share of failures) is not interpreted: it needs `count`.
    let count = fc["count"].as_u64();
    match (count, interval, trip) {
        (Some(count), Some(interval_s), Some(trip_s)) => Some(Breaker {
            count: count as u32,
            interval_s,
            ranges,
            trip_s,
            accept_retry_after: r["acceptRetryAfter"].as_bool().unwrap_or(false),
        }),
        _ => {
            notes.push(format!(
                "backend {name}: circuit breaker rule not interpreted (needs count, interval, tripDuration): treated as no breaker"
            ));
            None
        }
    }
}

impl Topology {
    pub fn read(resources: &[Res]) -> Topology {
        let mut t = Topology::default();
        let mut api_paths: BTreeMap<(String, String), String> = BTreeMap::new();
        let mut api_policies: Vec<(String, String, String)> = Vec::new();
        // Account subdomain -> name.
        let mut subdomains: BTreeMap<String, String> = BTreeMap::new();
        let mut endpoints: Vec<(String, String)> = Vec::new();
        let mut deployments: Vec<(String, Deployment)> = Vec::new();
        let mut origins: Vec<Origin> = Vec::new();
        for r in resources {
            let ty = r.ty.to_lowercase();
            let b = &r.body;
            match ty.as_str() {
                "microsoft.cognitiveservices/accounts" => {
                    let name = last(&r.id);
                    if let Some(s) = b
                        .pointer("/properties/customSubDomainName")
                        .and_then(Value::as_str)
                    {
                        subdomains.insert(s.to_lowercase(), name.clone());
                    }
                    subdomains.insert(name.to_lowercase(), name.clone());
                    t.accounts.insert(
                        name.clone(),
                        Account {
                            name,
                            region: region_key(b["location"].as_str().unwrap_or("")),
                            public: b
                                .pointer("/properties/publicNetworkAccess")
                                .and_then(Value::as_str)
                                != Some("Disabled"),
                            endpoint_vnets: Vec::new(),
                            deployments: Vec::new(),
                        },
                    );
                }
                "microsoft.cognitiveservices/accounts/deployments" => {
                    let account = segment(&r.id, "accounts").unwrap_or("").to_string();
                    let sku = b.pointer("/sku/name").and_then(Value::as_str).unwrap_or("");
                    deployments.push((
                        account,
                        Deployment {
                            name: last(&r.id),
                            provisioned: sku.contains("Provisioned"),
                            spillover: b
                                .pointer("/properties/spilloverDeploymentName")
                                .and_then(Value::as_str)
                                .map(str::to_string),
                        },
                    ));
                }
                "microsoft.network/privateendpoints" => {
                    let vnet = vnet_of(
                        b.pointer("/properties/subnet/id")
                            .and_then(Value::as_str)
                            .unwrap_or(""),
                    );
                    for c in b
                        .pointer("/properties/privateLinkServiceConnections")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(target) = c
                            .pointer("/properties/privateLinkServiceId")
                            .and_then(Value::as_str)
                        {
                            endpoints.push((target.to_lowercase(), vnet.clone()));
                        }
                    }
                }
                "microsoft.network/virtualnetworks/virtualnetworkpeerings" => {
                    let from = r.id.to_lowercase();
                    let from = from[..from.find("/virtualnetworkpeerings/").unwrap_or(from.len())]
                        .to_string();
                    if let Some(to) = b
                        .pointer("/properties/remoteVirtualNetwork/id")
                        .and_then(Value::as_str)
                    {
                        t.peerings.insert((from, to.to_lowercase()));
                    }
                }
                "microsoft.network/privatednszones/virtualnetworklinks" => {
                    let zone = segment(&r.id, "privateDnsZones")
                        .unwrap_or("")
                        .to_lowercase();
                    if let Some(v) = b
                        .pointer("/properties/virtualNetwork/id")
                        .and_then(Value::as_str)
                    {
                        t.dns_links
                            .entry(zone)
                            .or_default()
                            .insert(v.to_lowercase());
                    }
                }
                "microsoft.apimanagement/service" => {
                    let service = last(&r.id);
                    let vnet = b
                        .pointer("/properties/virtualNetworkConfiguration/subnetResourceId")
                        .and_then(Value::as_str)
                        .map(vnet_of);
                    t.gateways.push(Gateway {
                        service: service.clone(),
                        region: region_key(b["location"].as_str().unwrap_or("")),
                        vnet: vnet.clone(),
                    });
                    for l in b
                        .pointer("/properties/additionalLocations")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        t.gateways.push(Gateway {
                            service: service.clone(),
                            region: region_key(l["location"].as_str().unwrap_or("")),
                            vnet: l
                                .pointer("/virtualNetworkConfiguration/subnetResourceId")
                                .and_then(Value::as_str)
                                .map(vnet_of),
                        });
                    }
                }
                "microsoft.apimanagement/service/backends" => {
                    let service = segment(&r.id, "service").unwrap_or("").to_string();
                    let name = last(&r.id);
                    if b.pointer("/properties/type").and_then(Value::as_str) == Some("Pool") {
                        let members = b
                            .pointer("/properties/pool/services")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .map(|m| Member {
                                backend: last(m["id"].as_str().unwrap_or("")),
                                priority: m["priority"].as_u64().unwrap_or(1) as u32,
                                weight: m["weight"].as_u64().unwrap_or(1) as u32,
                            })
                            .collect();
                        t.pools.insert((service, name), members);
                    } else {
                        let url = b
                            .pointer("/properties/url")
                            .and_then(Value::as_str)
                            .unwrap_or("");
                        let host = url
                            .split("://")
                            .nth(1)
                            .unwrap_or(url)
                            .split(['/', '.'])
                            .next()
                            .unwrap_or("");
                        let account = subdomains.get(&host.to_lowercase()).cloned();
                        let breaker = breaker(b, &name, &mut t.not_interpreted);
                        t.backends.insert(
                            (service, name.clone()),
                            Backend {
                                name,
                                account,
                                breaker,
                            },
                        );
                    }
                }
                "microsoft.apimanagement/service/apis" => {
                    let service = segment(&r.id, "service").unwrap_or("").to_string();
                    let path = b
                        .pointer("/properties/path")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    api_paths.insert((service, last(&r.id)), path);
                }
                "microsoft.apimanagement/service/apis/operations"
                    if b.pointer("/properties/urlTemplate")
                        .and_then(Value::as_str)
                        .is_some_and(|u| u.contains("{response_id}")) =>
                {
                    t.responses
                        .insert(segment(&r.id, "service").unwrap_or("").to_string());
                }
                "microsoft.apimanagement/service/apis/policies" => {
                    let service = segment(&r.id, "service").unwrap_or("").to_string();
                    let api = segment(&r.id, "apis").unwrap_or("").to_string();
                    let xml = b
                        .pointer("/properties/value")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    api_policies.push((service, api, xml));
                }
                "microsoft.apimanagement/service/subscriptions" => {
                    let service = segment(&r.id, "service").unwrap_or("").to_string();
                    let scope = b
                        .pointer("/properties/scope")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    if let Some(product) = segment(scope, "products") {
                        t.subscriptions
                            .entry(service)
                            .or_default()
                            .entry(product.to_string())
                            .or_default()
                            .push(last(&r.id));
                    }
                }
                "microsoft.apimanagement/service/products/policies" => {
                    let service = segment(&r.id, "service").unwrap_or("").to_string();
                    let product = segment(&r.id, "products").unwrap_or("").to_string();
                    let xml = b
                        .pointer("/properties/value")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let limits = policy::token_limits(
                        xml,
                        &format!("product {product}"),
                        &mut t.not_interpreted,
                    );
                    t.products
                        .entry(service)
                        .or_default()
                        .insert(product, limits);
                }
                "microsoft.cdn/profiles/origingroups" => {
                    let fd = t.front_door.get_or_insert_with(|| FrontDoor {
                        origins: Vec::new(),
                        probe_path: String::new(),
                        probe_interval_s: 30.0,
                        sample_size: 4,
                        successful_required: 3,
                        additional_latency_ms: 50.0,
                    });
                    let p = b.pointer("/properties/healthProbeSettings");
                    fd.probe_path = p
                        .and_then(|p| p["probePath"].as_str())
                        .unwrap_or("/")
                        .to_string();
                    fd.probe_interval_s = p
                        .and_then(|p| p["probeIntervalInSeconds"].as_f64())
                        .unwrap_or(100.0);
                    let l = b.pointer("/properties/loadBalancingSettings");
                    fd.sample_size = l.and_then(|l| l["sampleSize"].as_u64()).unwrap_or(4) as usize;
                    fd.successful_required = l
                        .and_then(|l| l["successfulSamplesRequired"].as_u64())
                        .unwrap_or(3) as usize;
                    fd.additional_latency_ms = l
                        .and_then(|l| l["additionalLatencyInMilliseconds"].as_f64())
                        .unwrap_or(50.0);
                }
                "microsoft.cdn/profiles/origingroups/origins" => {
                    let host = b
                        .pointer("/properties/hostName")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let target = origin_target(host);
                    origins.push(Origin {
                        name: last(&r.id),
                        target,
                        priority: b
                            .pointer("/properties/priority")
                            .and_then(Value::as_u64)
                            .unwrap_or(1) as u32,
                        weight: b
                            .pointer("/properties/weight")
                            .and_then(Value::as_u64)
                            .unwrap_or(50) as u32,
                    });
                }
                _ => {}
            }
        }
        for (target, vnet) in endpoints {
            if let Some(a) = t
                .accounts
                .values_mut()
                .find(|a| target.ends_with(&format!("/accounts/{}", a.name.to_lowercase())))
            {
                a.endpoint_vnets.push(vnet);
            }
        }
        for (account, d) in deployments {
            if let Some(a) = t.accounts.get_mut(&account) {
                a.deployments.push(d);
            }
        }
        // Origins name a gateway by its service and location, or an account by its host.
        for o in &mut origins {
            if let OriginTarget::Unknown(host) = &o.target {
                let sub = host.split('.').next().unwrap_or("").to_lowercase();
                if let Some(a) = subdomains.get(&sub) {
                    o.target = OriginTarget::Account(a.clone());
                }
            }
            if let OriginTarget::Gateway(service, region) = &mut o.target {
                // `additionalLocations/N`: the N-th additional location of the service.
                if let Some(n) = region
                    .strip_prefix("additional:")
                    .and_then(|n| n.parse::<usize>().ok())
                {
                    let regions: Vec<&Gateway> = t
                        .gateways
                        .iter()
                        .filter(|g| g.service == *service)
                        .collect();
                    *region = regions
                        .get(n + 1)
                        .map(|g| g.region.clone())
                        .unwrap_or_default();
                } else {
                    *region = t
                        .gateways
                        .iter()
                        .find(|g| g.service == *service)
                        .map(|g| g.region.clone())
                        .unwrap_or_default();
                }
            }
            if let OriginTarget::Unknown(host) = &o.target {
                t.not_interpreted.push(format!("Front Door origin {} ({host}) is neither a gateway nor an account of this render: never served", o.name));
            }
        }
        if let Some(fd) = &mut t.front_door {
            fd.origins = origins;
        }
        let probe = t
            .front_door
            .as_ref()
            .map(|f| f.probe_path.clone())
            .unwrap_or_default();
        for (service, api, xml) in api_policies {
            let path = api_paths
                .get(&(service.clone(), api.clone()))
                .cloned()
                .unwrap_or_default();
            let label = format!("{service}/{api}");
            let mut notes = Vec::new();
            let policy = policy::parse(&xml, &label, &mut notes);
            // The health API's own policy is read for the probe, not for traffic.
            let is_probe = !path.is_empty() && probe.trim_start_matches('/').starts_with(&path);
            if !is_probe {
                t.not_interpreted.extend(notes);
            }
            t.apis
                .entry(service)
                .or_default()
                .push(Api { path, policy });
        }
        t
    }

    /// The account a backend of `service` forwards to.
    pub fn backend(&self, service: &str, name: &str) -> Option<&Backend> {
        self.backends.get(&(service.to_string(), name.to_string()))
    }

    /// Whether `account` can be reached from the gateway's network. A gateway outside any
    /// network reaches public accounts; inside one, the name resolves through the private
    /// DNS zones linked to its network: to a private endpoint, which must sit in its network
    /// or a peered one (peering connected from both sides), else to the public endpoint.
    pub fn reachable(&self, gw: &Gateway, account: &Account) -> bool {
        let Some(vnet) = &gw.vnet else {
            return account.public;
        };
        let private_zone = self.dns_links.iter().any(|(zone, links)| {
            (zone.contains("openai")
                || zone.contains("cognitiveservices")
                || zone.contains("services.ai"))
                && links.contains(vnet)
        });
        if private_zone && !account.endpoint_vnets.is_empty() {
            account
                .endpoint_vnets
                .iter()
                .any(|w| w == vnet || self.peered(vnet, w))
        } else {
            account.public
        }
    }

    pub fn peered(&self, a: &str, b: &str) -> bool {
        self.peerings.contains(&(a.to_string(), b.to_string()))
            && self.peerings.contains(&(b.to_string(), a.to_string()))
    }

    /// The API that carries traffic on a service (the one that is not the health probe's).
    pub fn traffic_api(&self, service: &str) -> Option<&Api> {
        let probe = self
            .front_door
            .as_ref()
            .map(|f| f.probe_path.trim_start_matches('/').to_string());
        let apis = self.apis.get(service)?;
        apis.iter().find(|a| {
            probe
                .as_ref()
                .is_none_or(|p| a.path.is_empty() || !p.starts_with(&a.path))
        })
    }

    /// The health API the probe reaches on a service.
    pub fn health_api(&self, service: &str) -> Option<&Api> {
        let probe = self
            .front_door
            .as_ref()?
            .probe_path
            .trim_start_matches('/')
            .to_string();
        self.apis
            .get(service)?
            .iter()
            .find(|a| !a.path.is_empty() && probe.starts_with(&a.path))
    }
}

/// `${after-apply:<service id>#/properties/gatewayRegionalUrl|host}` and friends.
fn origin_target(host: &str) -> OriginTarget {
    if let Some(rest) = host.strip_prefix("${after-apply:") {
        let (id, pointer) = rest.split_once('#').unwrap_or((rest, ""));
        if let Some(service) = segment(id, "service") {
            let region = match pointer.split('/').collect::<Vec<_>>().as_slice() {
                ["", "properties", "additionalLocations", n, ..] => format!("additional:{n}"),
                _ => String::new(),
            };
            return OriginTarget::Gateway(service.to_string(), region);
        }
    }
    OriginTarget::Unknown(host.to_string())
}
