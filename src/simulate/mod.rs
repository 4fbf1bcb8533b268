//! `simulate`: traffic through the rendered gateway, offline, in virtual time. It reads what
//! `render` produces (ARM bodies and policies), never the blueprint, so what it shows is what
//! would be deployed. One way: it uses `render`, nothing uses it.
//!
//! What it models, as Azure documents it (all pages read 2026-12-06):
//! - Front Door routing: among healthy origins, the lowest priority value; among those, the
//!   ones within `additionalLatencyInMilliseconds` of the lowest latency, picked by weight.
//!   An origin is healthy while `successfulSamplesRequired` of its last `sampleSize` probes
//!   succeeded. https://learn.microsoft.com/azure/frontdoor/routing-methods,
//!   https://learn.microsoft.com/azure/frontdoor/health-probes
//! - Backend pools: members of the highest priority (lowest number) are used by weight; a
//!   lower priority group only when every member above is unavailable (circuit breaker
//!   tripped). A circuit breaker trips when `count` failures with a status in
//!   `statusCodeRanges` happen within `interval`, for `tripDuration`, or for the backend's
//!   `Retry-After` when `acceptRetryAfter`. A pool with no available member answers 503.
//!   https://learn.microsoft.com/azure/api-management/backends
//! - `retry`: the condition is evaluated after each attempt; up to `count` retries, the first
//!   at once with `first-fast-retry`, the others after `interval` seconds.
//!   https://learn.microsoft.com/azure/api-management/retry-policy
//! - A backend the gateway's network cannot reach fails the connection: no status code, so a
//!   breaker's status rules do not count it. What the gateway does then is not said in the
//!   pages read (retry-policy, backends): the simulation takes the reading that promises
//!   least, the error ends the request in on-error with 500 and is not retried.
//! - `llm-token-limit` / `azure-openai-token-limit`: counted per gateway; over
//!   `tokens-per-minute` answers 429 with Retry-After, over `token-quota` 403.
//!   https://learn.microsoft.com/azure/api-management/llm-token-limit-policy
//! - Native spillover: a provisioned deployment's requests that would get 429 go to its
//!   `spilloverDeploymentName` deployment of the same account.
//!   https://learn.microsoft.com/azure/ai-foundry/openai/how-to/spillover-traffic-management

pub mod policy;
pub mod topology;

use std::collections::{BTreeMap, HashMap, VecDeque};

use anyhow::{bail, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use policy::{region_key, RetryOn, Route};
use topology::{Account, Gateway, OriginTarget, Res, Topology};

/// Two simulated minutes.
pub const DURATION_S: f64 = 120.0;
/// Share of requests that must be served for a failover to hold.
const HOLDS: f64 = 0.99;

/// The model's own timing. Microsoft documents no fixed figures (latency depends on model,
/// load and deployment type: learn.microsoft.com/azure/ai-foundry/openai/how-to/latency, read
/// 2026-12-06), so these are the simulation's assumptions, the same for every backend: the
/// first token after 250 ms plus 0.1 ms per prompt token, then 50 completion tokens per
/// second. They set the scale of `streaming` in the output; what the verdict judges is the
/// difference a gateway makes (a stream held until complete shows its first byte only when
/// the whole response is there).
const FIRST_TOKEN_S: f64 = 0.25;
const PROMPT_S_PER_TOKEN: f64 = 0.0001;
const COMPLETION_TOKENS_PER_S: f64 = 50.0;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scenario {
    Normal,
    RegionDown(String),
    /// `None`: every account.
    AccountDown(Option<String>),
    Throttle(String),
    TeamBurst(String),
    Quota(String),
    PtuFull(String),
    GatewayDown(String),
}

impl Scenario {
    pub fn parse(spec: &str) -> Result<Scenario> {
        let (kind, arg) = spec.split_once(':').unwrap_or((spec, ""));
        let need = |what: &str| -> Result<String> {
            if arg.is_empty() {
                bail!(
                    "scenario {kind} needs {what} ({kind}:{})",
                    what.to_uppercase()
                );
            }
            Ok(arg.to_string())
        };
        Ok(match kind {
            "normal" => Scenario::Normal,
            "region-down" => Scenario::RegionDown(region_key(&need("a region")?)),
            "account-down" => Scenario::AccountDown(Some(need("an account name or *")?).filter(|a| a != "*")),
            "throttle" => Scenario::Throttle(need("an account name")?),
            "team-burst" => Scenario::TeamBurst(need("a team")?),
            "quota" => Scenario::Quota(need("a team")?),
            "ptu-full" => Scenario::PtuFull(need("a deployment")?),
            "gateway-down" => Scenario::GatewayDown(region_key(&need("a region")?)),
            _ => bail!("unknown scenario {spec}: normal, region-down:REGION, account-down:NAME|*, throttle:NAME, team-burst:TEAM, quota:TEAM, ptu-full:DEPLOYMENT, gateway-down:REGION"),
        })
    }

    pub fn name(&self) -> String {
        match self {
            Scenario::Normal => "normal".into(),
            Scenario::RegionDown(r) => format!("region-down:{r}"),
            Scenario::AccountDown(a) => format!("account-down:{}", a.as_deref().unwrap_or("*")),
            Scenario::Throttle(a) => format!("throttle:{a}"),
            Scenario::TeamBurst(t) => format!("team-burst:{t}"),
            Scenario::Quota(t) => format!("quota:{t}"),
            Scenario::PtuFull(d) => format!("ptu-full:{d}"),
            Scenario::GatewayDown(r) => format!("gateway-down:{r}"),
        }
    }
}

/// Reads the render and checks scenario arguments against it.
pub struct Simulation {
    pub topo: Topology,
}

/// The teams: products with token limits (the API's own limits count as team `api`).
fn teams(t: &Topology) -> Vec<String> {
    let mut out: Vec<String> = t
        .products
        .values()
        .flat_map(|p| {
            p.iter()
                .filter(|(_, l)| !l.is_empty())
                .map(|(n, _)| n.clone())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn regions(t: &Topology) -> Vec<String> {
    let mut r: Vec<String> = t.accounts.values().map(|a| a.region.clone()).collect();
    r.sort();
    r.dedup();
    r
}

impl Simulation {
    pub fn new(resources: &[Res]) -> Simulation {
        Simulation {
            topo: Topology::read(resources),
        }
    }

    /// Every scenario that applies to this render.
    pub fn applicable(&self) -> Vec<Scenario> {
        let t = &self.topo;
        let mut out = vec![Scenario::Normal];
        let regions = regions(t);
        if regions.len() > 1 {
            out.extend(regions.iter().map(|r| Scenario::RegionDown(r.clone())));
        }
        out.push(Scenario::AccountDown(None));
        // Accounts that serve deployments (a Content Safety account serves none: its calls
        // are not what a throttle scenario asks about).
        let serving: Vec<&String> = t
            .accounts
            .iter()
            .filter(|(_, a)| !a.deployments.is_empty())
            .map(|(n, _)| n)
            .collect();
        if serving.len() > 1 {
            out.extend(serving.into_iter().map(|a| Scenario::Throttle(a.clone())));
        }
        for team in teams(t) {
            out.push(Scenario::TeamBurst(team.clone()));
            out.push(Scenario::Quota(team));
        }
        let mut ptu: Vec<String> = t
            .accounts
            .values()
            .flat_map(|a| {
                a.deployments
                    .iter()
                    .filter(|d| d.provisioned)
                    .map(|d| d.name.clone())
            })
            .collect();
        ptu.sort();
        ptu.dedup();
        out.extend(ptu.into_iter().map(Scenario::PtuFull));
        let mut gw: Vec<String> = t.gateways.iter().map(|g| g.region.clone()).collect();
        gw.sort();
        gw.dedup();
        if gw.len() > 1 {
            out.extend(gw.into_iter().map(Scenario::GatewayDown));
        }
        out
    }

    /// An argument that names nothing in the render is an error, not an empty scenario.
    pub fn check(&self, s: &Scenario) -> Result<()> {
        let t = &self.topo;
        let known = |what: &str, name: &str, list: Vec<String>| -> Result<()> {
            if list.iter().any(|x| x == name) {
                Ok(())
            } else {
                bail!(
                    "{} names no {what} of this render (known: {})",
                    s.name(),
                    list.join(", ")
                )
            }
        };
        match s {
            Scenario::Normal | Scenario::AccountDown(None) => Ok(()),
            Scenario::RegionDown(r) => known("region with accounts", r, regions(t)),
            Scenario::AccountDown(Some(a)) | Scenario::Throttle(a) => {
                known("account", a, t.accounts.keys().cloned().collect())
            }
            Scenario::TeamBurst(team) | Scenario::Quota(team) => {
                known("team with a token limit", team, teams(t))
            }
            Scenario::PtuFull(d) => known(
                "provisioned deployment",
                d,
                t.accounts
                    .values()
                    .flat_map(|a| {
                        a.deployments
                            .iter()
                            .filter(|d| d.provisioned)
                            .map(|d| d.name.clone())
                    })
                    .collect(),
            ),
            Scenario::GatewayDown(r) => known(
                "gateway region",
                r,
                t.gateways.iter().map(|g| g.region.clone()).collect(),
            ),
        }
    }
}

#[derive(Debug, Clone)]
struct Request {
    t: f64,
    client: String,
    team: Option<String>,
    /// The team's subscription the request is sent with (its apps', or the team's own).
    subscription: Option<String>,
    tokens: u64,
    /// The completion's share of `tokens`.
    completion_share: f64,
    deployment: String,
    streaming: bool,
    /// A Responses API follow-up of the request with this index (`previous_response_id`).
    follow_up_of: Option<usize>,
    /// The account holding the response a follow-up refers to (the one that served it).
    holder: Option<String>,
}

/// What an account answers.
enum Answer {
    Served(String),
    Status(u16, Option<f64>),
    Unreachable,
}

#[derive(Default)]
struct BreakerState {
    failures: VecDeque<f64>,
    tripped_until: f64,
}

#[derive(Default)]
struct Counter {
    minute: i64,
    used_minute: u64,
    used_quota: u64,
}

struct Run<'a> {
    topo: &'a Topology,
    scenario: &'a Scenario,
    rng: StdRng,
    breakers: HashMap<(usize, String), BreakerState>,
    rotation: HashMap<usize, u64>,
    rr_tripped: HashMap<(usize, String), f64>,
    counters: HashMap<(usize, String), Counter>,
    /// Per origin: its last probe results.
    probes: Vec<VecDeque<bool>>,
    next_probe: f64,
}

/// One scenario's outcome.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub requests: usize,
    pub served: usize,
    pub status: BTreeMap<u16, usize>,
    pub served_by: BTreeMap<String, usize>,
    pub regions: BTreeMap<String, usize>,
    pub tokens: BTreeMap<String, [u64; 2]>,
    pub team_status: BTreeMap<String, BTreeMap<u16, usize>>,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Requests after Front Door's probe window, and how many of them were served.
    pub late: (usize, usize),
    /// Responses API follow-ups: sent, and served by the account holding their response.
    pub follow_ups: (usize, usize),
    /// Served streamed requests.
    pub streamed: usize,
    /// Why the gateway holds streams until complete, if it does.
    pub holds_streams: Option<String>,
    /// Streamed requests: first byte and whole response, p50 and p99 (ms).
    pub first_byte_ms: (f64, f64),
    pub whole_ms: (f64, f64),
    pub ok: bool,
    pub why: String,
}

fn client_regions(t: &Topology) -> Vec<String> {
    let mut r: Vec<String> = match &t.front_door {
        Some(fd) => fd
            .origins
            .iter()
            .filter_map(|o| match &o.target {
                OriginTarget::Gateway(_, r) => Some(r.clone()),
                OriginTarget::Account(a) => t.accounts.get(a).map(|a| a.region.clone()),
                OriginTarget::Unknown(_) => None,
            })
            .collect(),
        None => t.gateways.iter().map(|g| g.region.clone()).collect(),
    };
    if r.is_empty() {
        r = regions(t);
    }
    r.sort();
    r.dedup();
    r
}

fn traffic(t: &Topology, s: &Scenario, n: usize, rng: &mut StdRng) -> Vec<Request> {
    let clients = client_regions(t);
    let teams = teams(t);
    let mut deployments: Vec<String> = t
        .accounts
        .values()
        .flat_map(|a| {
            let spill: Vec<&str> = a
                .deployments
                .iter()
                .filter_map(|d| d.spillover.as_deref())
                .collect();
            a.deployments
                .iter()
                .filter(move |d| !spill.contains(&d.name.as_str()))
                .map(|d| d.name.clone())
        })
        .collect();
    deployments.sort();
    deployments.dedup();
    if let Scenario::PtuFull(d) = s {
        deployments = vec![d.clone()];
    }
    let mut out: Vec<Request> = (0..n)
        .map(|i| {
            // Prompts of 200-2,000 tokens, completions of 50-800; a third streamed.
            let prompt = rng.gen_range(200..2000u64);
            let completion = rng.gen_range(50..800u64);
            Request {
                t: (i as f64 + rng.gen::<f64>()) * DURATION_S / n as f64,
                client: clients
                    .get(i % clients.len().max(1))
                    .cloned()
                    .unwrap_or_default(),
                team: (!teams.is_empty())
                    .then(|| teams[(i / clients.len().max(1)) % teams.len()].clone()),
                subscription: None,
                tokens: prompt + completion,
                completion_share: completion as f64 / (prompt + completion) as f64,
                deployment: deployments
                    .get(i % deployments.len().max(1))
                    .cloned()
                    .unwrap_or_default(),
                streaming: rng.gen_bool(1.0 / 3.0),
                follow_up_of: None,
                holder: None,
            }
        })
        .collect();
    // Where the render serves the Responses API, one request in ten is a follow-up of the
    // same client's response five requests earlier, on the same deployment.
    if !t.responses.is_empty() {
        let back = 5 * clients.len().max(1);
        for i in (back..out.len()).filter(|i| i % 10 == 9) {
            out[i].follow_up_of = Some(i - back);
            out[i].deployment = out[i - back].deployment.clone();
        }
    }
    // Each team's calls go through its subscriptions in turn (one per app, or the team's own).
    let mut turn: HashMap<String, usize> = HashMap::new();
    for r in out.iter_mut() {
        let Some(team) = &r.team else { continue };
        let subs = team_subscriptions(t, team);
        if !subs.is_empty() {
            let k = turn.entry(team.clone()).or_default();
            r.subscription = Some(subs[*k % subs.len()].clone());
            *k += 1;
        }
    }
    // Token sizes of team traffic, per client region and minute: in `normal`, half of what its
    // limits allow (a subscription's own limit, or its share of the team's); in `team-burst`,
    // the bursting team sends twice its team limit.
    let mut per: HashMap<(String, Option<String>, String, i64), u64> = HashMap::new();
    for r in out.iter().filter(|r| r.team.is_some()) {
        *per.entry((
            r.team.clone().unwrap_or_default(),
            r.subscription.clone(),
            r.client.clone(),
            (r.t / 60.0) as i64,
        ))
        .or_default() += 1;
    }
    let n_clients = clients.len().max(1) as u64;
    for r in out.iter_mut() {
        let Some(team) = r.team.clone() else { continue };
        let limits: Vec<&policy::TokenLimit> = t
            .products
            .values()
            .filter_map(|p| p.get(&team))
            .flatten()
            .collect();
        let team_tpm = limits
            .iter()
            .filter(|l| l.subscription.is_none())
            .filter_map(|l| l.tokens_per_minute)
            .min();
        let subs = team_subscriptions(t, &team).len().max(1) as u64;
        let budget = if matches!(s, Scenario::TeamBurst(b) if *b == team) {
            team_tpm.map(|tpm| 2 * tpm / subs)
        } else {
            let own = limits
                .iter()
                .filter(|l| l.subscription.is_some() && l.subscription == r.subscription)
                .filter_map(|l| l.tokens_per_minute)
                .min();
            let share = team_tpm.map(|tpm| tpm / subs);
            let tightest = match (own, share) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            tightest.map(|tpm| tpm / 2 / n_clients)
        };
        let Some(budget) = budget else { continue };
        let k = per[&(
            team.clone(),
            r.subscription.clone(),
            r.client.clone(),
            (r.t / 60.0) as i64,
        )]
            .max(1);
        r.tokens = budget.div_ceil(k).max(1);
    }
    out
}

/// The subscriptions scoped to a team's product, on any service.
fn team_subscriptions(t: &Topology, team: &str) -> Vec<String> {
    let mut out: Vec<String> = t
        .subscriptions
        .values()
        .filter_map(|p| p.get(team))
        .flatten()
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

impl<'a> Run<'a> {
    fn account_answer(&mut self, account: &Account, gw: Option<&Gateway>, req: &Request) -> Answer {
        if let Some(g) = gw {
            if !self.topo.reachable(g, account) {
                return Answer::Unreachable;
            }
        }
        match self.scenario {
            Scenario::RegionDown(r) if *r == account.region => return Answer::Status(503, None),
            Scenario::AccountDown(None) => return Answer::Status(503, None),
            Scenario::AccountDown(Some(a)) if *a == account.name => {
                return Answer::Status(503, None)
            }
            Scenario::Throttle(a) if *a == account.name => return Answer::Status(429, Some(10.0)),
            _ => {}
        }
        // A stored response lives in the account that created it: it is retrieved by its id
        // at that resource's endpoint (learn.microsoft.com/azure/ai-foundry/openai/how-to/responses,
        // read 2026-12-06), so another account does not know the id (404).
        if req.holder.as_ref().is_some_and(|h| *h != account.name) {
            return Answer::Status(404, None);
        }
        let Some(d) = account
            .deployments
            .iter()
            .find(|d| d.name == req.deployment)
        else {
            return Answer::Status(404, None);
        };
        if matches!(self.scenario, Scenario::PtuFull(p) if *p == d.name) && d.provisioned {
            return match &d.spillover {
                Some(s) if account.deployments.iter().any(|x| x.name == *s) => {
                    Answer::Served(format!("{}/{}", account.name, s))
                }
                _ => Answer::Status(429, Some(5.0)),
            };
        }
        Answer::Served(format!("{}/{}", account.name, d.name))
    }

    fn available(&self, gi: usize, backend: &str, now: f64) -> bool {
        self.breakers
            .get(&(gi, backend.to_string()))
            .is_none_or(|b| b.tripped_until <= now)
    }

    fn record(
        &mut self,
        gi: usize,
        service: &str,
        backend: &str,
        status: u16,
        retry_after: Option<f64>,
        now: f64,
    ) {
        let Some(br) = self
            .topo
            .backend(service, backend)
            .and_then(|b| b.breaker.clone())
        else {
            return;
        };
        if !br
            .ranges
            .iter()
            .any(|(lo, hi)| (*lo..=*hi).contains(&status))
        {
            return;
        }
        let st = self.breakers.entry((gi, backend.to_string())).or_default();
        st.failures.push_back(now);
        while st
            .failures
            .front()
            .is_some_and(|f| *f < now - br.interval_s)
        {
            st.failures.pop_front();
        }
        if st.failures.len() as u32 >= br.count {
            let trip = match retry_after {
                Some(r) if br.accept_retry_after => r,
                _ => br.trip_s,
            };
            st.tripped_until = now + trip;
            st.failures.clear();
        }
    }

    /// A pool member (or the backend itself) for one attempt: `None` when the pool has no
    /// available member.
    fn pick(&mut self, gi: usize, service: &str, target: &str, now: f64) -> Option<String> {
        let Some(members) = self
            .topo
            .pools
            .get(&(service.to_string(), target.to_string()))
        else {
            return self.available(gi, target, now).then(|| target.to_string());
        };
        let mut prios: Vec<u32> = members.iter().map(|m| m.priority).collect();
        prios.sort();
        prios.dedup();
        for p in prios {
            let group: Vec<_> = members
                .iter()
                .filter(|m| m.priority == p && self.available(gi, &m.backend, now))
                .collect();
            let total: u32 = group.iter().map(|m| m.weight.max(1)).sum();
            if total == 0 {
                continue;
            }
            let mut x = self.rng.gen_range(0..total);
            for m in &group {
                if x < m.weight.max(1) {
                    return Some(m.backend.clone());
                }
                x -= m.weight.max(1);
            }
        }
        None
    }

    /// One request at gateway `gi`: status, what served it, added latency (s).
    fn at_gateway(&mut self, gi: usize, req: &Request) -> (u16, Option<String>, f64) {
        let topo = self.topo;
        let g = &topo.gateways[gi];
        if matches!(self.scenario, Scenario::GatewayDown(r) if *r == g.region) {
            return (502, None, 0.0);
        }
        let Some(api) = topo.traffic_api(&g.service) else {
            return (404, None, 0.0);
        };
        // Token limits, per gateway: the API's and the team's product's, each on its own
        // counter (one counter per key: the team's, or an app subscription's); a limit inside
        // a `when` on a subscription counts only that subscription's calls.
        let team = req.team.clone().unwrap_or_else(|| "api".into());
        let mut limits: Vec<&policy::TokenLimit> = api.policy.token_limits.iter().collect();
        if let Some(l) = topo.products.get(&g.service).and_then(|p| p.get(&team)) {
            limits.extend(
                l.iter()
                    .filter(|l| l.subscription.is_none() || l.subscription == req.subscription),
            );
        }
        if !limits.is_empty() {
            let minute = (req.t / 60.0) as i64;
            let spent = matches!(self.scenario, Scenario::Quota(q) if *q == team);
            // A key that is an expression (per subscription, per caller) is counted per team.
            let key = |l: &policy::TokenLimit| {
                if l.counter_key.contains('@') {
                    format!("{team}|{}", l.counter_key)
                } else {
                    l.counter_key.clone()
                }
            };
            for l in &limits {
                let c = self.counters.entry((gi, key(l))).or_default();
                if c.minute != minute {
                    c.minute = minute;
                    c.used_minute = 0;
                }
                if let Some(q) = l.quota {
                    if spent || c.used_quota + req.tokens > q {
                        return (403, None, 0.0);
                    }
                }
                if let Some(tpm) = l.tokens_per_minute {
                    if c.used_minute + req.tokens > tpm {
                        return (429, None, 0.0);
                    }
                }
            }
            let mut keys: Vec<String> = limits.iter().map(|l| key(l)).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let c = self.counters.entry((gi, k)).or_default();
                c.used_minute += req.tokens;
                c.used_quota += req.tokens;
            }
        }
        // A follow-up, where the policy routes it to the account holding its response (the
        // remembered one, else each in turn until one knows it): that account answers.
        if let (Some(h), true) = (&req.holder, api.policy.follow_up_routing) {
            let known = topo
                .backends
                .iter()
                .any(|((svc, _), b)| *svc == g.service && b.account.as_deref() == Some(h));
            let Some(account) = topo.accounts.get(h).filter(|_| known) else {
                return (404, None, 0.0);
            };
            return match self.account_answer(account, Some(g), req) {
                Answer::Served(by) => (200, Some(by), 0.0),
                Answer::Status(s, _) => (s, None, 0.0),
                Answer::Unreachable => (500, None, 0.05),
            };
        }
        let retry = api.policy.retry.clone();
        let max_attempts = 1 + retry.as_ref().map_or(0, |r| r.count);
        let mut added = 0.0;
        let mut now = req.t;
        let mut last = (500, None);
        for attempt in 1..=max_attempts {
            // Which backend this attempt goes to.
            let (backend, target, pool503) = match &api.policy.route {
                Route::Backend(m) => {
                    let Some(target) = policy::lookup(m, &g.region, &req.deployment).cloned()
                    else {
                        return (500, None, added);
                    };
                    match self.pick(gi, &g.service, &target, now) {
                        Some(b) => (Some(b), target, false),
                        None => (None, target, true),
                    }
                }
                Route::RoundRobin(m) => {
                    let Some((local, other)) =
                        policy::lookup(m, &g.region, &req.deployment).cloned()
                    else {
                        return (500, None, added);
                    };
                    let count = retry.as_ref().map_or(0, |r| r.count);
                    let list = if attempt > count.max(1) && !other.is_empty() {
                        other
                    } else {
                        local
                    };
                    if list.is_empty() {
                        return (500, None, added);
                    }
                    let start = *self.rotation.entry(gi).or_default() as usize;
                    let len = list.len();
                    let pick = (0..len)
                        .map(|i| list[(start + attempt as usize - 1 + i) % len].clone())
                        .find(|c| {
                            self.rr_tripped
                                .get(&(gi, c.clone()))
                                .is_none_or(|u| *u <= now)
                        })
                        .unwrap_or_else(|| list[(start + attempt as usize - 1) % len].clone());
                    let open = self.available(gi, &pick, now);
                    (open.then(|| pick.clone()), pick, !open)
                }
                Route::None => return (500, None, added),
            };
            let (status, retry_after) = if pool503 {
                (503, None)
            } else {
                let b = backend.clone().unwrap_or_default();
                let account = topo
                    .backend(&g.service, &b)
                    .and_then(|b| b.account.clone())
                    .and_then(|a| topo.accounts.get(&a));
                let Some(account) = account else {
                    return (500, None, added);
                };
                match self.account_answer(account, Some(g), req) {
                    Answer::Served(by) => {
                        if attempt == 1 {
                            *self.rotation.entry(gi).or_default() += 1;
                        }
                        return (200, Some(by), added);
                    }
                    Answer::Unreachable => return (500, None, added + 0.05),
                    Answer::Status(s, ra) => {
                        self.record(gi, &g.service, &b, s, ra, now);
                        if matches!(api.policy.route, Route::RoundRobin(_))
                            && (s == 429 || s >= 500)
                        {
                            let secs = ra.map_or(30.0, |r| r.clamp(1.0, 300.0));
                            self.rr_tripped.insert((gi, b.clone()), now + secs);
                        }
                        (s, ra)
                    }
                }
            };
            if attempt == 1 {
                *self.rotation.entry(gi).or_default() += 1;
            }
            last = (status, retry_after);
            let Some(r) = &retry else { break };
            let matches = match r.on {
                RetryOn::Transient => status == 429 || status >= 500,
                RetryOn::AnyError => status >= 400,
            };
            if !matches || (pool503 && r.not_pool_503) || attempt == max_attempts {
                break;
            }
            let wait = if attempt == 1 && r.first_fast {
                0.0
            } else {
                r.interval_s
            };
            // A failed attempt costs about 50 ms, then the wait.
            added += 0.05 + wait;
            now += 0.05 + wait;
            let _ = target;
        }
        (last.0, None, added)
    }

    /// What a probe of origin `o` gets.
    fn probe(&mut self, o: usize, now: f64) -> bool {
        let topo = self.topo;
        let Some(fd) = &topo.front_door else {
            return true;
        };
        let probe_req = Request {
            t: now,
            client: String::new(),
            team: None,
            subscription: None,
            tokens: 0,
            completion_share: 0.0,
            deployment: String::new(),
            streaming: false,
            follow_up_of: None,
            holder: None,
        };
        match &fd.origins[o].target {
            OriginTarget::Account(a) => {
                let a = &topo.accounts[a];
                let deployment = a
                    .deployments
                    .first()
                    .map(|d| d.name.clone())
                    .unwrap_or_default();
                let r = Request {
                    deployment,
                    ..probe_req
                };
                // Throttling limits inference calls, not the probe's request: a throttled
                // account stays healthy to Front Door.
                match self.account_answer(a, None, &r) {
                    Answer::Served(_) => true,
                    Answer::Status(s, _) => s == 429,
                    Answer::Unreachable => false,
                }
            }
            OriginTarget::Gateway(service, region) => {
                if matches!(self.scenario, Scenario::GatewayDown(r) if r == region) {
                    return false;
                }
                let Some(g) = topo
                    .gateways
                    .iter()
                    .find(|g| g.service == *service && g.region == *region)
                else {
                    return false;
                };
                // The health API answers 200 while an account of its region's pool answers.
                let Some(h) = topo.health_api(service) else {
                    return true;
                };
                let target = match &h.policy.route {
                    Route::Backend(m) => policy::lookup(m, region, "").cloned(),
                    _ => None,
                };
                let Some(target) = target else { return false };
                let members: Vec<String> = match topo.pools.get(&(service.clone(), target.clone()))
                {
                    Some(m) => m.iter().map(|m| m.backend.clone()).collect(),
                    None => vec![target],
                };
                members.iter().any(|b| {
                    let acc = topo
                        .backend(service, b)
                        .and_then(|b| b.account.clone())
                        .and_then(|a| topo.accounts.get(&a));
                    let deployment = acc
                        .and_then(|a| a.deployments.first())
                        .map(|d| d.name.clone())
                        .unwrap_or_default();
                    let r = Request {
                        deployment,
                        ..probe_req.clone()
                    };
                    acc.is_some_and(|a| {
                        matches!(self.account_answer(a, Some(g), &r), Answer::Served(_))
                    })
                })
            }
            OriginTarget::Unknown(_) => false,
        }
    }

    fn healthy(&self, o: usize) -> bool {
        let fd = self.topo.front_door.as_ref().expect("front door");
        self.probes[o].iter().filter(|x| **x).count() >= fd.successful_required
    }

    fn request(&mut self, req: &Request) -> (u16, Option<String>, Option<String>, f64) {
        let topo = self.topo;
        let Some(fd) = &topo.front_door else {
            let gi = topo
                .gateways
                .iter()
                .position(|g| g.region == req.client)
                .unwrap_or(0);
            if topo.gateways.is_empty() {
                return (500, None, None, 0.0);
            }
            let (s, by, lat) = self.at_gateway(gi, req);
            return (s, by, Some(topo.gateways[gi].region.clone()), lat);
        };
        while self.next_probe <= req.t {
            let now = self.next_probe;
            for o in 0..fd.origins.len() {
                let ok = self.probe(o, now);
                let p = &mut self.probes[o];
                p.push_back(ok);
                while p.len() > fd.sample_size {
                    p.pop_front();
                }
            }
            self.next_probe += fd.probe_interval_s;
        }
        let healthy: Vec<usize> = (0..fd.origins.len()).filter(|o| self.healthy(*o)).collect();
        let Some(best) = healthy.iter().map(|o| fd.origins[*o].priority).min() else {
            return (503, None, None, 0.0);
        };
        let region = |o: usize| match &fd.origins[o].target {
            OriginTarget::Gateway(_, r) => r.clone(),
            OriginTarget::Account(a) => topo
                .accounts
                .get(a)
                .map(|a| a.region.clone())
                .unwrap_or_default(),
            OriginTarget::Unknown(_) => String::new(),
        };
        // Latency from the client's region: 10 ms in region, 100 ms across regions.
        let latency = |o: usize| if region(o) == req.client { 10.0 } else { 100.0 };
        let group: Vec<usize> = healthy
            .into_iter()
            .filter(|o| fd.origins[*o].priority == best)
            .collect();
        let fastest = group.iter().map(|o| latency(*o)).fold(f64::MAX, f64::min);
        let band: Vec<usize> = group
            .into_iter()
            .filter(|o| latency(*o) <= fastest + fd.additional_latency_ms)
            .collect();
        let total: u32 = band.iter().map(|o| fd.origins[*o].weight.max(1)).sum();
        let mut x = self.rng.gen_range(0..total.max(1));
        let mut chosen = band[0];
        for o in &band {
            let w = fd.origins[*o].weight.max(1);
            if x < w {
                chosen = *o;
                break;
            }
            x -= w;
        }
        let r = region(chosen);
        match &fd.origins[chosen].target {
            OriginTarget::Account(a) => match self.account_answer(&topo.accounts[a], None, req) {
                Answer::Served(by) => (200, Some(by), Some(r), 0.0),
                Answer::Status(s, _) => (s, None, Some(r), 0.0),
                Answer::Unreachable => (502, None, Some(r), 0.0),
            },
            OriginTarget::Gateway(service, region) => {
                let Some(gi) = topo
                    .gateways
                    .iter()
                    .position(|g| g.service == *service && g.region == *region)
                else {
                    return (502, None, None, 0.0);
                };
                let (s, by, lat) = self.at_gateway(gi, req);
                (s, by, Some(r), lat)
            }
            OriginTarget::Unknown(_) => (502, None, Some(r), 0.0),
        }
    }
}

/// Runs one scenario over `n` requests.
pub fn run(sim: &Simulation, scenario: &Scenario, n: usize, seed: u64) -> Outcome {
    let topo = &sim.topo;
    let mut rng = StdRng::seed_from_u64(seed);
    let reqs = traffic(topo, scenario, n, &mut rng);
    let origins = topo.front_door.as_ref().map_or(0, |f| f.origins.len());
    let sample = topo.front_door.as_ref().map_or(0, |f| f.sample_size);
    let mut run = Run {
        topo,
        scenario,
        rng,
        breakers: HashMap::new(),
        rotation: HashMap::new(),
        rr_tripped: HashMap::new(),
        counters: HashMap::new(),
        probes: vec![std::iter::repeat_n(true, sample).collect(); origins],
        next_probe: 0.0,
    };
    let mut out = Outcome {
        name: scenario.name(),
        requests: reqs.len(),
        served: 0,
        status: BTreeMap::new(),
        served_by: BTreeMap::new(),
        regions: BTreeMap::new(),
        tokens: BTreeMap::new(),
        team_status: BTreeMap::new(),
        p50_ms: 0.0,
        p99_ms: 0.0,
        late: (0, 0),
        follow_ups: (0, 0),
        streamed: 0,
        holds_streams: topo.gateways.iter().find_map(|g| {
            topo.traffic_api(&g.service)
                .and_then(|a| a.policy.holds_streams.clone())
        }),
        first_byte_ms: (0.0, 0.0),
        whole_ms: (0.0, 0.0),
        ok: false,
        why: String::new(),
    };
    let window = topo.front_door.as_ref().map_or(0.0, |fd| {
        fd.probe_interval_s
            * (fd.sample_size + 1 - fd.successful_required.min(fd.sample_size)) as f64
    });
    let mut lat = Vec::with_capacity(reqs.len());
    let (mut first, mut whole) = (Vec::new(), Vec::new());
    let mut holders: Vec<Option<String>> = Vec::with_capacity(reqs.len());
    for r in &reqs {
        let follow_up;
        let req = match r.follow_up_of {
            Some(j) => {
                let mut x = r.clone();
                x.holder = holders.get(j).cloned().flatten();
                // A client follows up only on a response it got.
                if x.holder.is_none() {
                    x.follow_up_of = None;
                }
                follow_up = x;
                &follow_up
            }
            None => r,
        };
        let (status, by, region, added) = run.request(req);
        holders.push(
            by.as_ref()
                .filter(|_| status == 200)
                .and_then(|b| b.split('/').next())
                .map(str::to_string),
        );
        if req.holder.is_some() {
            out.follow_ups.0 += 1;
            out.follow_ups.1 += usize::from(status == 200);
        }
        if req.t >= window {
            out.late.0 += 1;
            out.late.1 += usize::from(status == 200);
        }
        *out.status.entry(status).or_default() += 1;
        let team = req.team.clone().unwrap_or_else(|| "all".into());
        *out.team_status
            .entry(team.clone())
            .or_default()
            .entry(status)
            .or_default() += 1;
        if status == 200 {
            out.served += 1;
            if let Some(by) = by {
                *out.served_by.entry(by).or_default() += 1;
            }
            if let Some(r) = region {
                *out.regions.entry(r).or_default() += 1;
            }
            let minute = ((req.t / 60.0) as usize).min(1);
            out.tokens.entry(team).or_default()[minute] += req.tokens;
        }
        if status == 200 && req.streaming {
            // Streamed: the first byte leaves with the first token, or with the whole response
            // when the gateway holds the stream.
            let completion = (req.tokens as f64 * req.completion_share).round();
            let prompt = req.tokens as f64 - completion;
            let first_token = added + FIRST_TOKEN_S + prompt * PROMPT_S_PER_TOKEN;
            let all = first_token + completion / COMPLETION_TOKENS_PER_S;
            let held = out.holds_streams.is_some();
            first.push(if held { all } else { first_token } * 1000.0);
            whole.push(all * 1000.0);
        }
        lat.push(added * 1000.0);
    }
    lat.sort_by(f64::total_cmp);
    out.p50_ms = percentile(&lat, 0.5);
    out.p99_ms = percentile(&lat, 0.99);
    first.sort_by(f64::total_cmp);
    whole.sort_by(f64::total_cmp);
    out.streamed = first.len();
    out.first_byte_ms = (percentile(&first, 0.5), percentile(&first, 0.99));
    out.whole_ms = (percentile(&whole, 0.5), percentile(&whole, 0.99));
    let (ok, why) = verdict(topo, scenario, &out);
    out.ok = ok;
    out.why = why;
    out
}

/// The `afd` pattern: Front Door's origins are the accounts themselves.
fn origins_are_accounts(t: &Topology) -> bool {
    t.front_door.as_ref().is_some_and(|fd| {
        fd.origins
            .iter()
            .any(|o| matches!(o.target, OriginTarget::Account(_)))
    })
}

fn share(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 / of as f64
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// What the architecture promises in each scenario, checked against the outcome.
fn verdict(t: &Topology, s: &Scenario, o: &Outcome) -> (bool, String) {
    let served = share(o.served, o.requests);
    let holds = |what: &str| -> (bool, String) {
        if served >= HOLDS {
            (true, format!("served {}: {what} holds", pct(served)))
        } else {
            (
                false,
                format!(
                    "served {}, below {}: {what} does not hold",
                    pct(served),
                    pct(HOLDS)
                ),
            )
        }
    };
    match s {
        Scenario::Normal => match &o.holds_streams {
            Some(reason) if o.streamed > 0 => (
                false,
                format!(
                    "{} streamed requests are held until complete ({reason}): first byte p50 {:.0} ms, as late as the whole response; streaming does not hold",
                    o.streamed, o.first_byte_ms.0
                ),
            ),
            _ if share(o.follow_ups.1, o.follow_ups.0) < HOLDS && o.follow_ups.0 > 0 => (
                false,
                format!(
                    "{} of {} Responses API follow-ups reached the account holding their response ({}): follow-ups do not hold",
                    o.follow_ups.1,
                    o.follow_ups.0,
                    pct(share(o.follow_ups.1, o.follow_ups.0))
                ),
            ),
            _ => holds("normal service"),
        },
        Scenario::RegionDown(r) => {
            if regions(t).iter().all(|x| x == r) {
                (
                    served == 0.0,
                    format!("served {}: no other region to fail over to", pct(served)),
                )
            } else if origins_are_accounts(t) {
                drained(t, o, r, "failover")
            } else {
                holds("failover")
            }
        }
        Scenario::AccountDown(None) => {
            if o.served == 0 {
                (
                    true,
                    "none served, as expected with every account down".into(),
                )
            } else {
                (
                    false,
                    format!(
                        "served {} with every account down: something answered that cannot",
                        pct(served)
                    ),
                )
            }
        }
        Scenario::AccountDown(Some(a)) if origins_are_accounts(t) => {
            drained(t, o, a, "failover to the other accounts")
        }
        Scenario::AccountDown(Some(_)) => holds("failover to the other accounts"),
        Scenario::Throttle(a) => {
            let by_throttled: usize = o
                .served_by
                .iter()
                .filter(|(k, _)| k.starts_with(&format!("{a}/")))
                .map(|(_, v)| v)
                .sum();
            let (ok, why) = holds("shift to the rest of the pool");
            // Front Door takes an origin out of rotation by its health probes only
            // (learn.microsoft.com/azure/frontdoor/health-probes, read 2026-12-06: health is
            // the probe's answer) and its routing pages name no retry on an origin's status:
            // the account's 429 and Retry-After reach the client, while its probe, not an
            // inference call, still succeeds.
            let afd = if origins_are_accounts(t) && !ok {
                ": Front Door does not move a request off an origin that answers 429 (only its health probes take an origin out, and a throttled account's probe succeeds), so clients get the 429 and its Retry-After; a gateway pool with a circuit breaker and retry (patterns apim, afd-apim) shifts it"
            } else {
                ""
            };
            (
                ok && by_throttled == 0,
                format!("{why}; {a} served {by_throttled}{afd}"),
            )
        }
        Scenario::TeamBurst(team) | Scenario::Quota(team) => {
            let code = if matches!(s, Scenario::Quota(_)) {
                403
            } else {
                429
            };
            let mine = o.team_status.get(team).cloned().unwrap_or_default();
            let refused = mine.get(&code).copied().unwrap_or(0);
            let (others, others_ok) =
                o.team_status
                    .iter()
                    .filter(|(k, _)| *k != team)
                    .fold((0, 0), |(n, ok), (_, m)| {
                        (
                            n + m.values().sum::<usize>(),
                            ok + m.get(&200).copied().unwrap_or(0),
                        )
                    });
            let others_share = if others == 0 {
                1.0
            } else {
                share(others_ok, others)
            };
            let ok = refused > 0 && others_share >= HOLDS;
            (
                ok,
                format!(
                    "{team} got {refused} answers {code}; the other teams served {}{}",
                    pct(others_share),
                    if ok {
                        ": the limit holds"
                    } else {
                        ": the limit does not hold"
                    }
                ),
            )
        }
        Scenario::PtuFull(d) => {
            let spill: Vec<String> = t
                .accounts
                .values()
                .flat_map(|a| {
                    a.deployments
                        .iter()
                        .filter(|x| x.name == *d)
                        .filter_map(|x| x.spillover.clone())
                })
                .collect();
            let spilled: usize = o
                .served_by
                .iter()
                .filter(|(k, _)| spill.iter().any(|s| k.ends_with(&format!("/{s}"))))
                .map(|(_, v)| v)
                .sum();
            let (ok, why) = holds("spillover");
            (
                ok && spilled > 0,
                format!("{why}; {spilled} served by the spillover deployment"),
            )
        }
        Scenario::GatewayDown(r) => drained(t, o, r, "failover to the other gateways"),
    }
}

/// Front Door fails over between its origins by their probes: a lost origin's requests fail
/// until its probes say so; after that window the rest must be served.
fn drained(t: &Topology, o: &Outcome, r: &str, what: &str) -> (bool, String) {
    let served = share(o.served, o.requests);
    {
        let Some(fd) = &t.front_door else {
            return if served >= HOLDS {
                (true, format!("served {}: {what} holds", pct(served)))
            } else {
                (
                    false,
                    format!(
                        "served {}, below {}: {what} does not hold",
                        pct(served),
                        pct(HOLDS)
                    ),
                )
            };
        };
        // Front Door stops sending to the gateway once fewer than successfulSamplesRequired
        // of its last sampleSize probes succeed: until then its requests are lost.
        let window = fd.probe_interval_s
            * (fd.sample_size + 1 - fd.successful_required.min(fd.sample_size)) as f64;
        let lost = o.requests - o.served;
        let (after, after_ok) = o.late;
        let late = if after == 0 {
            1.0
        } else {
            share(after_ok, after)
        };
        if late >= HOLDS {
            (true, format!("served {}: Front Door drained {r} within its probe window ({window:.0} s; {lost} requests lost before), then served {}: {what} holds", pct(served), pct(late)))
        } else {
            (false, format!("served {} after Front Door's probe window ({window:.0} s): {what} does not hold", pct(late)))
        }
    }
}

/// The `--json` document.
pub fn to_json(outcomes: &[Outcome], notes: &[String], seed: u64) -> Value {
    let scenarios: Vec<Value> = outcomes
        .iter()
        .map(|o| {
            json!({
                "name": o.name,
                "requests": o.requests,
                "served": o.served,
                "status": o.status.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "servedBy": o.served_by,
                "regions": o.regions,
                "tokens": o.tokens.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "addedLatencyMs": { "p50": o.p50_ms, "p99": o.p99_ms },
                "followUps": { "requests": o.follow_ups.0, "served": o.follow_ups.1 },
                "streaming": {
                    "requests": o.streamed,
                    "heldUntilComplete": o.holds_streams,
                    "firstByteMs": { "p50": o.first_byte_ms.0, "p99": o.first_byte_ms.1 },
                    "wholeResponseMs": { "p50": o.whole_ms.0, "p99": o.whole_ms.1 },
                },
                "ok": o.ok,
                "why": o.why,
            })
        })
        .collect();
    json!({ "formatVersion": 1, "seed": seed, "notInterpreted": notes, "scenarios": scenarios })
}

/// The table for people.
pub fn to_text(outcomes: &[Outcome], notes: &[String]) -> String {
    let mut s = String::new();
    for n in notes {
        s.push_str(&format!("not interpreted: {n}\n"));
    }
    for o in outcomes {
        let status: Vec<String> = o.status.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let by: Vec<String> = o
            .served_by
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let regions: Vec<String> = o.regions.iter().map(|(k, v)| format!("{k} {v}")).collect();
        s.push_str(&format!(
            "\n{}\n  requests     {}\n  served       {} ({})\n  statuses     {}\n  backends     {}\n  regions      {}\n  added p50/p99 {:.0} ms / {:.0} ms\n  streamed     {}: first byte p50/p99 {:.0} ms / {:.0} ms, whole response p50 {:.0} ms{}\n  verdict      {}: {}\n",
            o.name,
            o.requests,
            o.served,
            pct(share(o.served, o.requests)),
            status.join(", "),
            if by.is_empty() { "-".into() } else { by.join(", ") },
            if regions.is_empty() { "-".into() } else { regions.join(", ") },
            o.p50_ms,
            o.p99_ms,
            o.streamed,
            o.first_byte_ms.0,
            o.first_byte_ms.1,
            o.whole_ms.0,
            o.holds_streams
                .as_ref()
                .map(|r| format!(" (held until complete: {r})"))
                .unwrap_or_default(),
            if o.ok { "holds" } else { "DOES NOT HOLD" },
            o.why
        ));
    }
    s
}

/// The resources of a render folder (`index.json` and its `.http` files).
pub fn read_folder(dir: &std::path::Path) -> Result<Vec<Res>> {
    use anyhow::Context;
    let index_path = dir.join("index.json");
    let index: Value = serde_json::from_str(
        &std::fs::read_to_string(&index_path)
            .with_context(|| format!("reading {}", index_path.display()))?,
    )
    .with_context(|| format!("{} is not JSON", index_path.display()))?;
    let mut out = Vec::new();
    for r in index["resources"].as_array().into_iter().flatten() {
        let file = r["file"].as_str().unwrap_or("");
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let body = text.split_once("\n\n").map(|(_, b)| b).unwrap_or("");
        let body: Value = serde_json::from_str(body)
            .with_context(|| format!("{}: the body is not JSON", path.display()))?;
        out.push(Res {
            id: r["id"].as_str().unwrap_or("").to_string(),
            ty: r["type"].as_str().unwrap_or("").to_string(),
            body,
        });
    }
    Ok(out)
}

/// The resources of an in-memory render.
pub fn from_rendered(r: &crate::render::Rendered) -> Vec<Res> {
    r.resources
        .iter()
        .filter(|x| !x.id.contains('#'))
        .map(|x| Res {
            id: x.id.clone(),
            ty: x.resource_type.clone(),
            body: x.body_json(),
        })
        .collect()
}
