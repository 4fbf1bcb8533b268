//! Benchmarks against the ARM emulator (time-scaled), printing ratios to the physical limits:
//!
//! - apply / critical path of the dependency graph (per-type durations from the emulator);
//! - plan / ((resources / concurrency) x read latency), and reads per managed resource;
//! - the request budget of an apply (writes, polls per operation) and of a no-op apply;
//! - render time of the large blueprint, process start-up, peak memory of the large apply;
//! - how each grows from 1 to every region that offers the model (25 in the capability data).
//!
//! `cargo bench --bench apply` runs everything and rewrites the table in BENCHMARKS.md;
//! `cargo bench --bench apply -- --quick` runs 1 and 3 regions only and writes nothing;
//! `cargo bench --bench apply -- --only 30` runs the 30-region blueprint alone, writing nothing;
//! `cargo bench --bench apply -- --blueprint 30 big.yaml` writes the generated blueprint;
//! `-- --v2 10` measures only pattern 3 on Standard v2 with 10 instances (`--blueprint-v2 10
//! FILE` writes it).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aoai_arch::blueprint::{self, regions};
use aoai_arch::engine::{apply, plan, progress, read};
use aoai_arch::render;
use arm_client::{ArmClient, AuthMethod, ClientOptions, Cloud};

/// Virtual seconds per real second in the apply runs: APIM's 30-45 minutes become 3-4.5 s.
const TIME_SCALE: f64 = 600.0;
const CONCURRENCY: usize = 32;
const READ_LATENCY: Duration = Duration::from_millis(20);

/// The regions a generated blueprint may use: those where the capability data offers its model
/// (gpt-5.4-mini 2026-03-17 GlobalStandard, generally available until 2027-03-18), in the order
/// of the region list. There are fewer of them than Azure regions (28), and the largest
/// blueprint takes the first 25.
fn bench_regions() -> Vec<&'static str> {
    let caps = arm_emulator::capabilities::get();
    regions::all()
        .filter(|r| {
            caps.deployment("gpt-5.4-mini", "2026-03-17", "GlobalStandard", r)
                == arm_emulator::capabilities::Offer::Offered
        })
        .collect()
}

/// A generated `afd-apim` blueprint with `n` regions, 2-3 accounts each (private endpoints in
/// the region's network), APIM Premium with n-1 additional regions injected (External) in the
/// same networks, the privatelink zone linked to each, one Front Door origin per region (public
/// gateway: an injected gateway accepts no Private Link).
fn generate(n: usize) -> String {
    let all = bench_regions();
    assert!(
        n <= all.len(),
        "{n} regions asked, the model is offered in {}",
        all.len()
    );
    let regions = &all[..n];
    let sub = "00000000-0000-0000-0000-0000000000bb";
    let subnet = |r: &str, s: &str| format!("vnet-{r}/{s}");
    let mut y = format!(
        "version: 1\npattern: afd-apim\nsubscription: {sub}\nresourceGroup: rg-bench-{n}\nlocation: {}\nopenai:\n  deployment:\n    name: gpt-5.4-mini\n    model: {{ name: gpt-5.4-mini, version: \"2026-03-17\" }}\n    sku: {{ name: GlobalStandard, capacity: 50 }}\n  accounts:\n",
        regions[0]
    );
    let mut pes = String::new();
    let mut links = String::new();
    for (i, r) in regions.iter().enumerate() {
        for k in 0..(2 + i % 2) {
            let name = format!("aoai-b{n}-{i}-{k}");
            y.push_str(&format!("    - {{ name: {name}, region: {r} }}\n"));
            pes.push_str(&format!(
                "    - {{ account: {name}, subnetId: {} }}\n",
                subnet(r, "pe")
            ));
        }
        links.push_str(&format!("      - vnet-{r}\n"));
    }
    y.push_str(&networks(regions, "apimInjection"));
    y.push_str(&format!(
        "networking:\n  publicNetworkAccess: Disabled\n  privateEndpoints:\n{pes}  privateDns:\n    vnetLinks:\n{links}"
    ));
    y.push_str(&format!(
        "apim:\n  name: apim-bench-{n}\n  sku: {{ name: Premium, capacity: 1 }}\n  publisher: {{ name: Bench, email: bench@contoso.com }}\n  network: {{ mode: External, subnetId: {} }}\n  additionalRegions:\n",
        subnet(regions[0], "apim")
    ));
    for r in &regions[1..] {
        y.push_str(&format!(
            "    - {{ region: {r}, subnetId: {} }}\n",
            subnet(r, "apim")
        ));
    }
    if n == 1 {
        y = y.replace("  additionalRegions:\n", "");
    }
    y.push_str("  loadBalancing: { mode: pool, retry: { count: 3 } }\n  jwt: { tenantId: 00000000-0000-0000-0000-00000000bbbb, clientId: 00000000-0000-0000-0000-0000000b0001, requiredRoles: [Gateway.Invoke] }\n  logging: { appInsights: appi-bench, logAnalytics: log-bench }\n");
    y.push_str(&format!(
        "frontDoor:\n  profile: afd-bench-{n}\n  endpoint: bench-{n}\n  waf: {{ name: wafbench{n} }}\n"
    ));
    y
}

/// Pattern 3 on v2, private end to end: `n` API Management Standard v2 services (the primary and
/// `n - 1` instances), one per region, each with outbound VNet integration, an inbound private
/// endpoint, Front Door Private Link and public access disabled in a second step; 2 AIServices
/// accounts per region on private endpoints, the private DNS zones linked to every network.
fn generate_v2(n: usize) -> String {
    let all = bench_regions();
    assert!(
        n <= all.len(),
        "{n} regions asked, the model is offered in {}",
        all.len()
    );
    let regions = &all[..n];
    let sub = "00000000-0000-0000-0000-0000000000bc";
    let vnet = |r: &str| format!("vnet-{r}");
    let network = |r: &str, indent: &str| {
        format!(
            "{indent}network:\n{indent}  subnetId: {v}/apim\n{indent}  privateEndpoint: {{ subnetId: {v}/pe }}\n{indent}  publicNetworkAccess: Disabled\n",
            v = vnet(r)
        )
    };
    let mut y = format!(
        "version: 1\npattern: afd-apim\nsubscription: {sub}\nresourceGroup: rg-bench-v2-{n}\nlocation: {}\nopenai:\n  deployment:\n    name: gpt-5.4-mini\n    model: {{ name: gpt-5.4-mini, version: \"2026-03-17\" }}\n    sku: {{ name: GlobalStandard, capacity: 50 }}\n  accounts:\n",
        regions[0]
    );
    let (mut pes, mut links) = (String::new(), String::new());
    for (i, r) in regions.iter().enumerate() {
        for k in 0..2 {
            let name = format!("aoai-v{n}-{i}-{k}");
            y.push_str(&format!("    - {{ name: {name}, region: {r} }}\n"));
            pes.push_str(&format!(
                "    - {{ account: {name}, subnetId: {}/pe }}\n",
                vnet(r)
            ));
        }
        links.push_str(&format!("      - {}\n", vnet(r)));
    }
    y.push_str(&networks(regions, "apimIntegration"));
    y.push_str(&format!(
        "networking:\n  publicNetworkAccess: Disabled\n  privateEndpoints:\n{pes}  privateDns:\n    vnetLinks:\n{links}"
    ));
    y.push_str(&format!(
        "apim:\n  name: apim-v2-{n}-0\n  sku: {{ name: StandardV2, capacity: 1 }}\n  publisher: {{ name: Bench, email: bench@contoso.com }}\n{}",
        network(regions[0], "  ")
    ));
    if n > 1 {
        y.push_str("  instances:\n");
        for (i, r) in regions.iter().enumerate().skip(1) {
            y.push_str(&format!(
                "    - name: apim-v2-{n}-{i}\n      region: {r}\n{}",
                network(r, "      ")
            ));
        }
    }
    y.push_str("  loadBalancing: { mode: pool, retry: { count: 3 } }\n  jwt: { tenantId: 00000000-0000-0000-0000-00000000bbbb, clientId: 00000000-0000-0000-0000-0000000b0002, requiredRoles: [Gateway.Invoke] }\n  logging: { appInsights: appi-bench, logAnalytics: log-bench }\n");
    y.push_str(&format!(
        "frontDoor:\n  profile: afd-bench-v2-{n}\n  endpoint: bench-v2-{n}\n  privateLink: true\n  waf: {{ name: wafbenchv2{n} }}\n"
    ));
    y
}

/// One network per region, created by the blueprint: a private-endpoint subnet and the
/// gateway's subnet (`purpose`), every network peered with every other (each pair listed once,
/// rendered in both directions): each region's gateway reaches the private endpoints of the
/// other regions' accounts, its pool's fallback members (lint AOAI056 otherwise). At 25 regions
/// that is 300 pairs, 600 peerings in the graph.
fn networks(regions: &[&str], purpose: &str) -> String {
    let mut y = String::from("networks:\n");
    for (i, r) in regions.iter().enumerate() {
        y.push_str(&format!(
            "  - name: vnet-{r}\n    region: {r}\n    addressSpace: [10.{i}.0.0/16]\n    subnets:\n      - {{ name: pe, addressPrefix: 10.{i}.1.0/24, purpose: privateEndpoints }}\n      - {{ name: apim, addressPrefix: 10.{i}.2.0/27, purpose: {purpose} }}\n"
        ));
        let later: Vec<String> = regions[i + 1..]
            .iter()
            .map(|o| format!("vnet-{o}"))
            .collect();
        if !later.is_empty() {
            y.push_str(&format!("    peerings: [{}]\n", later.join(", ")));
        }
    }
    y
}

/// A generated blueprint must be one a user could deploy: no lint error (an unreachable
/// backend, a model not offered, ...), or the bench would time a design Azure refuses.
fn assert_lints_clean(
    loaded: &blueprint::Loaded,
    model: &aoai_arch::model::Model,
    rendered: &render::Rendered,
) {
    let errors: Vec<String> = aoai_arch::lint::all(loaded, model, rendered)
        .into_iter()
        .filter(|f| f.severity == aoai_arch::lint::Severity::Error && f.allowed.is_none())
        .map(|f| {
            format!(
                "{} {}: {}",
                f.rule,
                f.location.field.as_deref().unwrap_or(""),
                f.message
            )
        })
        .collect();
    assert!(
        errors.is_empty(),
        "the generated blueprint does not lint clean:\n{}",
        errors.join("\n")
    );
}

/// The serialisation Azure imposes: one write at a time under one AOAI account (deployments).
fn lane(r: &render::Resource) -> Option<String> {
    (r.resource_type == "Microsoft.CognitiveServices/accounts/deployments")
        .then(|| r.id.rsplitn(3, '/').nth(2).map(|s| s.to_lowercase()))
        .flatten()
}

/// The longest path through the graph, each resource weighted with the time the emulator took
/// to provision it in this run (`took`, real time), writes in one lane chained in render order.
/// No apply can finish sooner: a resource cannot start before its dependencies succeeded.
fn critical_path(r: &render::Rendered, took: &HashMap<String, Duration>) -> Duration {
    let idx: HashMap<String, usize> = r
        .resources
        .iter()
        .enumerate()
        .map(|(i, x)| (x.id.to_lowercase(), i))
        .collect();
    let mut finish = vec![Duration::ZERO; r.resources.len()];
    let mut lane_end: HashMap<String, Duration> = HashMap::new();
    for (i, res) in r.resources.iter().enumerate() {
        let mut start = res
            .depends_on
            .iter()
            .filter_map(|d| idx.get(&d.to_lowercase()))
            .map(|j| finish[*j])
            .max()
            .unwrap_or_default();
        let lane = lane(res);
        if let Some(end) = lane.as_ref().and_then(|l| lane_end.get(l)) {
            start = start.max(*end);
        }
        // A step node (`<id>#lock-down`) is an update of a resource that exists.
        let key = if res.arm_id() == res.id {
            res.id.to_lowercase()
        } else {
            format!("{}#update", res.arm_id().to_lowercase())
        };
        let d = took.get(&key).copied().unwrap_or_else(|| {
            arm_emulator::provisioning_duration(&res.resource_type).div_f64(TIME_SCALE)
        });
        finish[i] = start + d;
        if let Some(l) = lane {
            lane_end.insert(l, finish[i]);
        }
    }
    finish.into_iter().max().unwrap_or_default()
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

struct Row {
    /// `examples/<name>` or the number of regions of the generated blueprint.
    label: String,
    resources: usize,
    critical: Duration,
    apply: Duration,
    plan_ratio: f64,
    /// Plan time over the bound that ARM's read throttling sets (see `throttle_bound`).
    plan_throttle_ratio: f64,
    /// Plan by lists with the preflight reads (same round) / plan by lists without them, of
    /// the deployed blueprint.
    preflight_ratio: f64,
    /// GETs per resource of a plan of the deployed blueprint: by single GETs, by lists.
    reads_per_resource: f64,
    list_reads_per_resource: f64,
    /// Plan of the deployed blueprint under ARM's read throttle: by single GETs, by lists.
    plan_gets: Duration,
    plan_lists: Duration,
    writes: usize,
    approvals: usize,
    polls: usize,
    max_polls_over_bound: i64,
    noop_writes: usize,
    render: Duration,
}

/// An in-process emulator (its request log kept, not printed) and a client of it.
async fn emulator(config: arm_emulator::Config) -> (arm_emulator::Running, ArmClient) {
    let time_scale = config.time_scale.max(1.0);
    let emu = arm_emulator::start(
        arm_emulator::Config {
            log_requests: false,
            ..config
        },
        0,
    )
    .await
    .expect("emulator");
    let client = ArmClient::new(ClientOptions {
        cloud: Cloud::Custom {
            arm_endpoint: emu.url(),
            authority_host: None,
        },
        auth: AuthMethod::Static("bench".into()),
        max_concurrency: CONCURRENCY,
        poll_interval_floor: Duration::from_millis(10),
        // The emulator refills ARM's buckets on its clock, time_scale times faster than Azure:
        // the client paces at that rate, as it paces at ARM's against Azure.
        refill_per_second: (
            ClientOptions::default().refill_per_second.0 * time_scale,
            ClientOptions::default().refill_per_second.1 * time_scale,
        ),
        ..ClientOptions::default()
    })
    .await
    .expect("client");
    (emu, client)
}

/// What `aoai-arch apply --auto-approve` does: read every resource, plan, apply.
async fn plan_and_apply(
    client: &ArmClient,
    model: &aoai_arch::model::Model,
    rendered: &render::Rendered,
) -> (plan::Plan, apply::Report) {
    let live = apply::read_all(client, rendered, CONCURRENCY)
        .await
        .expect("read");
    let p = aoai_arch::engine::safety::plan(rendered, &live, &model.owner);
    let opts = apply::Options {
        concurrency: CONCURRENCY,
    };
    let report = apply::apply(
        client,
        model,
        rendered,
        apply::Observed {
            live,
            planned: p
                .resources
                .iter()
                .map(|r| (r.id.to_lowercase(), r.action))
                .collect(),
            orphans: vec![],
        },
        &opts,
        apply::Controls {
            progress: Arc::new(Quiet),
            interrupted: Arc::new(AtomicBool::new(false)),
            ledger: Arc::default(),
        },
    )
    .await;
    (p, report)
}

fn is_write(e: &arm_emulator::LogEntry) -> bool {
    e.method == "PUT" || e.method == "DELETE"
}

async fn measure(label: String, file: &Path, text: &str) -> Row {
    let t = Instant::now();
    let loaded = blueprint::parse(file, text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let (model, rendered) = render::render_file(&loaded, None).expect("render");
    let render_time = t.elapsed();
    assert_lints_clean(&loaded, &model, &rendered);
    let resources = rendered.resources.len();

    // apply against a time-scaled emulator, whose state the plans of the deployed blueprint
    // start from.
    let state = std::env::temp_dir().join(format!(
        "aoai-arch-bench-{}-{}.json",
        std::process::id(),
        label.replace(' ', "-")
    ));
    let _ = std::fs::remove_file(&state);
    let (emu, client) = emulator(arm_emulator::Config {
        time_scale: TIME_SCALE,
        state_file: Some(state.clone()),
        ..Default::default()
    })
    .await;
    let t = Instant::now();
    let (_, report) = plan_and_apply(&client, &model, &rendered).await;
    let apply_time = t.elapsed();
    assert!(report.success(), "{}", report.summary());
    let log = emu.log();
    let writes = log.iter().filter(|e| is_write(e)).count();
    // Approvals of the Private Link connections Front Door creates on APIM: writes that are not
    // in the rendered graph, one per origin.
    let approvals = log
        .iter()
        .filter(|e| e.method == "PUT" && e.path.contains("/privateEndpointConnections/"))
        .count();
    let polls = log.iter().filter(|e| e.is_poll).count();
    // Polls of each resource's operation against ceil(duration / Retry-After) + 1 (the first
    // poll comes one interval after the write, the last one sees the terminal state): the
    // worst excess over all operations (<= 0: no operation was polled more than needed).
    let took = emu.durations();
    let mut polls_by_resource: BTreeMap<String, i64> = BTreeMap::new();
    for e in log.iter().filter(|e| e.is_poll) {
        if let Some(r) = &e.operation_of {
            *polls_by_resource.entry(r.clone()).or_default() += 1;
        }
    }
    let worst = rendered
        .resources
        .iter()
        .filter_map(|r| {
            let id = r.id.to_lowercase();
            let n = *polls_by_resource.get(&id)?;
            let d = took.get(&id).copied().unwrap_or_default();
            let every = arm_emulator::poll_interval(&r.resource_type).div_f64(TIME_SCALE);
            let bound = (d.as_secs_f64() / every.as_secs_f64()).ceil() as i64 + 1;
            Some(n - bound)
        })
        .max()
        .unwrap_or(0);
    let critical = critical_path(&rendered, &took);

    // A second apply: zero writes.
    let before = emu.log().len();
    let (p, report2) = plan_and_apply(&client, &model, &rendered).await;
    assert!(report2.success());
    let noop_writes = emu.log()[before..].iter().filter(|e| is_write(e)).count();
    assert!(!p.has_changes(), "plan after apply shows changes");
    emu.shutdown().await;

    // plan against an emulator with read latency, nothing deployed (one GET per resource).
    let (emu, client) = emulator(arm_emulator::Config {
        latency: READ_LATENCY,
        ..Default::default()
    })
    .await;
    let t = Instant::now();
    let live = apply::read_all(&client, &rendered, CONCURRENCY)
        .await
        .expect("read");
    let _ = aoai_arch::engine::safety::plan(&rendered, &live, &model.owner);
    let plan_time = t.elapsed();
    let ideal = READ_LATENCY.as_secs_f64() * (resources as f64 / CONCURRENCY as f64).ceil();
    let bound = ideal.max(throttle_bound(resources));
    emu.shutdown().await;

    // Plans of the deployed blueprint, each on a fresh emulator restored from the apply's state
    // (a fresh read bucket, ARM's: 250 reads, refilled at 25 per second in real time) with the
    // same read latency: by single GETs, by lists, by lists with the preflight reads.
    let (plan_gets, gets) = plan_deployed(&state, &model, &rendered, read::Mode::Get, false).await;
    let (plan_lists, lists) =
        plan_deployed(&state, &model, &rendered, read::Mode::List, false).await;
    let (preflight_time, _) =
        plan_deployed(&state, &model, &rendered, read::Mode::List, true).await;
    let _ = std::fs::remove_file(&state);

    Row {
        label,
        resources,
        critical,
        apply: apply_time,
        plan_ratio: plan_time.as_secs_f64() / ideal,
        plan_throttle_ratio: plan_time.as_secs_f64() / bound,
        preflight_ratio: preflight_time.as_secs_f64() / plan_lists.as_secs_f64(),
        reads_per_resource: gets as f64 / resources as f64,
        list_reads_per_resource: lists as f64 / resources as f64,
        plan_gets,
        plan_lists,
        writes,
        approvals,
        polls,
        max_polls_over_bound: worst,
        noop_writes,
        render: render_time,
    }
}

/// What `aoai-arch plan` does against the deployed blueprint (the state file of its apply), on a
/// fresh emulator: read (`mode`), the safety rules, the orphan search, and the preflight reads
/// beside the reads when `preflight`. Returns the time and the GETs the emulator saw.
async fn plan_deployed(
    state: &Path,
    model: &aoai_arch::model::Model,
    rendered: &render::Rendered,
    mode: read::Mode,
    preflight: bool,
) -> (Duration, usize) {
    let copy = state.with_extension(format!("{mode:?}-{preflight}.json"));
    std::fs::copy(state, &copy).expect("copying the emulator state");
    let (emu, client) = emulator(arm_emulator::Config {
        latency: READ_LATENCY,
        state_file: Some(copy.clone()),
        ..Default::default()
    })
    .await;
    let pre = aoai_arch::engine::preflight::Options::default();
    let t = Instant::now();
    let (live, facts) = tokio::join!(
        read::read(&client, rendered, &model.rg_id, CONCURRENCY, mode),
        async {
            if preflight {
                Some(
                    aoai_arch::engine::preflight::gather(
                        &client,
                        model,
                        rendered,
                        &pre,
                        CONCURRENCY,
                    )
                    .await,
                )
            } else {
                None
            }
        }
    );
    let live = live.expect("read");
    let p = aoai_arch::engine::safety::plan(rendered, &live.docs, &model.owner);
    if let Some(facts) = facts {
        let (found, _) = aoai_arch::engine::preflight::evaluate(&facts, model, &live.docs, &pre);
        let errors: Vec<_> = found
            .iter()
            .filter(|f| f.severity == aoai_arch::lint::Severity::Error)
            .collect();
        assert!(
            errors.is_empty(),
            "preflight errors on the emulator: {errors:?}"
        );
    }
    let orphans = aoai_arch::engine::safety::orphans(
        &client,
        model,
        rendered,
        &live.docs,
        &live.listed,
        CONCURRENCY,
    )
    .await
    .expect("orphans");
    let took = t.elapsed();
    assert!(
        !p.has_changes() && orphans.doomed.is_empty(),
        "the plan of the deployed blueprint shows changes ({mode:?})"
    );
    let reads = emu
        .log()
        .iter()
        .filter(|e| e.method == "GET" && !e.is_poll)
        .count();
    emu.shutdown().await;
    let _ = std::fs::remove_file(&copy);
    (took, reads)
}

/// ARM's per-subscription read bucket (250 reads, refilled at 25 per second, which the emulator
/// reproduces): `n` reads cannot finish before the reads beyond the bucket have been refilled.
fn throttle_bound(n: usize) -> f64 {
    (n as f64 - 250.0).max(0.0) / 25.0 + READ_LATENCY.as_secs_f64()
}

struct Quiet;
impl progress::Progress for Quiet {
    fn start(&self, _: &str, _: &str) {}
    fn update(&self, _: &str, _: &str) {}
    fn finish(&self, _: &str, _: &str) {}
}

fn startup_time() -> Duration {
    let exe = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/aoai-arch");
    if !exe.exists() {
        return Duration::ZERO;
    }
    let runs = 20;
    let t = Instant::now();
    for _ in 0..runs {
        let _ = std::process::Command::new(&exe).arg("--version").output();
    }
    t.elapsed() / runs
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `-- --blueprint N FILE` writes the generated blueprint for N regions (to profile
    // render/plan/apply with the binary) and exits.
    if let Some(at) = args.iter().position(|a| a == "--blueprint-v2") {
        let n: usize = args[at + 1].parse().expect("--blueprint-v2 N FILE");
        std::fs::write(&args[at + 2], generate_v2(n)).expect("writing the blueprint");
        return;
    }
    if let Some(at) = args.iter().position(|a| a == "--blueprint") {
        let n: usize = args[at + 1].parse().expect("--blueprint N FILE");
        std::fs::write(&args[at + 2], generate(n)).expect("writing the blueprint");
        return;
    }
    // `-- --lint N` times lint (blueprint, rendered and capability rules) of the generated
    // blueprint for N regions, as `aoai-arch lint` runs it, and exits.
    if let Some(at) = args.iter().position(|a| a == "--lint") {
        let n: usize = args[at + 1].parse().expect("--lint N");
        let dir = std::env::temp_dir().join(format!("aoai-arch-bench-lint-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(format!("generated-{n}.yaml"));
        std::fs::write(&path, generate(n)).expect("writing the blueprint");
        let runs = 20u32;
        let mut findings = 0;
        let t = Instant::now();
        for _ in 0..runs {
            let loaded = blueprint::load(&path).expect("blueprint");
            let (model, rendered) = render::render_file(&loaded, None).expect("render");
            findings = aoai_arch::lint::all(&loaded, &model, &rendered).len();
        }
        println!(
            "lint of {n} regions (load + render + every rule): {:.1} ms per run over {runs} runs, {findings} findings",
            t.elapsed().as_secs_f64() * 1000.0 / runs as f64
        );
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    // `-- --simulate N` times `simulate` of 10,000 requests of one scenario (the first region
    // down) on the generated blueprint for N regions, render read once, and exits.
    if let Some(at) = args.iter().position(|a| a == "--simulate") {
        let n: usize = args[at + 1].parse().expect("--simulate N");
        let dir = std::env::temp_dir().join(format!("aoai-arch-bench-sim-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(format!("generated-{n}.yaml"));
        std::fs::write(&path, generate(n)).expect("writing the blueprint");
        let loaded = blueprint::load(&path).expect("blueprint");
        let (_, rendered) = render::render_file(&loaded, None).expect("render");
        let sim =
            aoai_arch::simulate::Simulation::new(&aoai_arch::simulate::from_rendered(&rendered));
        let scenario = aoai_arch::simulate::Scenario::RegionDown(bench_regions()[0].to_string());
        let runs = 5u32;
        let mut served = 0;
        let t = Instant::now();
        for seed in 0..runs {
            served = aoai_arch::simulate::run(&sim, &scenario, 10_000, u64::from(seed)).served;
        }
        println!(
            "simulate of {n} regions, 10,000 requests of {}: {:.1} ms per run over {runs} runs ({served} served; goal < 1000 ms)",
            scenario.name(),
            t.elapsed().as_secs_f64() * 1000.0 / runs as f64
        );
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    // `-- --only N`: the generated N-region blueprint alone, nothing written.
    let only: Option<usize> = args
        .iter()
        .position(|a| a == "--only")
        .map(|at| args[at + 1].parse().expect("--only N"));
    // `-- --v2 N` measures only pattern 3 on v2 with N instances (one row, printed; the table
    // in BENCHMARKS.md is left alone).
    let v2_only: Option<usize> = args
        .iter()
        .position(|a| a == "--v2")
        .map(|at| args[at + 1].parse().expect("--v2 N"));
    let quick = only.is_some() || v2_only.is_some() || args.iter().any(|a| a == "--quick");
    let only_sizes = only.map(|n| vec![n]).unwrap_or_default();
    let sizes: &[usize] = if only.is_some() {
        &only_sizes
    } else if quick {
        &[1, 3]
    } else {
        &[1, 2, 5, 10, 20, bench_regions().len()]
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let examples: &[&str] = if only.is_some() {
        &[]
    } else {
        &["afd", "apim", "afd-apim"]
    };
    let mut inputs: Vec<(String, std::path::PathBuf, String)> = examples
        .iter()
        .map(|name| {
            let path = root.join(format!("blueprints/{name}.yaml"));
            let text = std::fs::read_to_string(&path).expect("example blueprint");
            (format!("example {name}"), path, text)
        })
        .collect();
    if let Some(n) = v2_only {
        inputs.clear();
        inputs.push((
            format!("{n} v2 instances"),
            std::path::PathBuf::from(format!("generated-v2-{n}.yaml")),
            generate_v2(n),
        ));
    } else if !quick {
        inputs.push((
            "10 v2 instances".into(),
            std::path::PathBuf::from("generated-v2-10.yaml"),
            generate_v2(10),
        ));
    }
    let sizes: &[usize] = if v2_only.is_some() { &[] } else { sizes };
    for &n in sizes {
        inputs.push((
            format!("{n} region{}", if n == 1 { "" } else { "s" }),
            std::path::PathBuf::from(format!("generated-{n}.yaml")),
            generate(n),
        ));
    }
    let mut rows = Vec::new();
    for (label, path, text) in &inputs {
        let row = rt.block_on(measure(label.clone(), path, text));
        println!(
            "{:<18} resources={:>4} apply/critical-path={:.3} plan/ideal={:.3} plan/throttle-bound={:.3} plan-with-preflight/plan={:.3} deployed: reads/resource by GETs={:.2} by lists={:.3} plan by GETs={:.2}s by lists={:.2}s writes={} (approvals {}, redundant {}) polls={} worst-polls-over-bound={} noop-writes={} render={:.1}ms",
            row.label,
            row.resources,
            row.apply.as_secs_f64() / row.critical.as_secs_f64(),
            row.plan_ratio,
            row.plan_throttle_ratio,
            row.preflight_ratio,
            row.reads_per_resource,
            row.list_reads_per_resource,
            row.plan_gets.as_secs_f64(),
            row.plan_lists.as_secs_f64(),
            row.writes,
            row.approvals,
            row.writes as i64 - row.resources as i64 - row.approvals as i64,
            row.polls,
            row.max_polls_over_bound,
            row.noop_writes,
            row.render.as_secs_f64() * 1000.0
        );
        rows.push(row);
    }
    let startup = startup_time();
    let peak = peak_rss_kib();
    println!(
        "process start-up (aoai-arch --version, release build): {:.1} ms",
        startup.as_secs_f64() * 1000.0
    );
    println!(
        "peak memory of the bench process (all applies in-process): {} MiB",
        peak / 1024
    );

    let mut table = String::from(
        "| blueprint | resources | apply / critical path | critical path (s) | plan / ideal | plan / read-throttle bound | reads per resource, by GETs | reads per resource, by lists | plan by GETs (s) | plan by lists (s) | plan with preflight / without | writes (of which approvals) | redundant writes | polls | worst polls over bound | no-op apply writes | render (ms) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in &rows {
        table.push_str(&format!(
            "| {} | {} | {:.3} | {:.2} | {:.3} | {:.3} | {:.2} | {:.3} | {:.2} | {:.2} | {:.3} | {} ({}) | {} | {} | {} | {} | {:.1} |\n",
            r.label,
            r.resources,
            r.apply.as_secs_f64() / r.critical.as_secs_f64(),
            r.critical.as_secs_f64(),
            r.plan_ratio,
            r.plan_throttle_ratio,
            r.reads_per_resource,
            r.list_reads_per_resource,
            r.plan_gets.as_secs_f64(),
            r.plan_lists.as_secs_f64(),
            r.preflight_ratio,
            r.writes,
            r.approvals,
            r.writes as i64 - r.resources as i64 - r.approvals as i64,
            r.polls,
            r.max_polls_over_bound,
            r.noop_writes,
            r.render.as_secs_f64() * 1000.0
        ));
    }
    table.push_str(&format!(
        "\nProcess start-up: {:.1} ms. Peak memory of the benchmark process: {} MiB.\n",
        startup.as_secs_f64() * 1000.0,
        peak / 1024
    ));
    if !quick {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
        let doc = std::fs::read_to_string(&path).unwrap_or_default();
        let (begin, end) = ("<!-- table:begin -->", "<!-- table:end -->");
        if let (Some(a), Some(b)) = (doc.find(begin), doc.find(end)) {
            let new = format!("{}{begin}\n{table}{}", &doc[..a], &doc[b..]);
            std::fs::write(&path, new).expect("writing BENCHMARKS.md");
            println!("BENCHMARKS.md table updated");
        }
    }
}
