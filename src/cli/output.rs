//! `output`: the endpoints and values users need after an apply (Front Door host name, API
//! Management gateway URLs, the DNS records to create, the gateway's managed identity), read
//! from live state with GETs only. `apply` prints them at its end.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::args::{TargetArgs, TemplateArgs};
use super::shared::{load, runtime};
use crate::blueprint::vars::Vars;
use serde::Serialize;
use serde_json::Value;

use crate::engine::target::TargetOptions;
use crate::model::{api, Model};
use arm_client::ArmClient;

#[derive(Args)]
pub struct OutputArgs {
    blueprint: PathBuf,
    /// Write the outputs as JSON (with `formatVersion`).
    #[arg(long)]
    json: bool,
    /// One team of `teams:`: its subscriptions (names and states, never their keys).
    #[arg(long, value_name = "NAME")]
    team: Option<String>,
    /// With `--team`: also read and print the team's subscription keys (`listSecrets`). Keys
    /// are printed nowhere else.
    #[arg(long, requires = "team")]
    show_key: bool,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    templates: TemplateArgs,
}

pub fn run(args: OutputArgs, vars: &Vars) -> Result<ExitCode> {
    let loaded = load(&args.blueprint, vars)?;
    let (model, _) = crate::render::render_file(&loaded, args.templates.templates.as_deref())?;
    if let Some(team) = &args.team {
        return runtime()?.block_on(team_output(
            &model,
            &args.target.to_options(),
            team,
            args.show_key,
            args.json,
        ));
    }
    runtime()?.block_on(execute(&model, &args.target.to_options(), args.json))
}

/// One subscription of a team, as `output --team` shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamSubscriptionOut {
    pub name: String,
    pub display_name: String,
    /// `None`: not deployed.
    pub state: Option<String>,
    /// Only with `--show-key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary_key: Option<String>,
}

/// `aoai-arch output BLUEPRINT --team NAME [--show-key]`: the team's subscriptions, and their
/// keys (POST `listSecrets`) only when asked for.
async fn team_output(
    m: &Model,
    opts: &TargetOptions,
    team: &str,
    show_key: bool,
    json: bool,
) -> Result<ExitCode> {
    let Some(t) = m
        .apim
        .as_ref()
        .and_then(|a| a.teams.iter().find(|t| t.name == team))
    else {
        let names: Vec<&str> = m
            .apim
            .iter()
            .flat_map(|a| a.teams.iter().map(|t| t.name.as_str()))
            .collect();
        anyhow::bail!(
            "no team `{team}` in the blueprint (teams: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        );
    };
    let target = crate::engine::target::connect(opts).await?;
    let mut subs = Vec::new();
    let mut missing = false;
    for sub in &t.subscriptions {
        let doc = match target.client.get(&sub.id, api::APIM).await {
            Ok(d) => d,
            Err(e) => {
                target.close().await;
                anyhow::bail!("reading {}: {e}", sub.id);
            }
        };
        let mut out = TeamSubscriptionOut {
            name: sub.name.clone(),
            display_name: sub.display_name.clone(),
            state: doc.as_ref().and_then(|d| s(&d["properties"]["state"])),
            primary_key: None,
            secondary_key: None,
        };
        missing |= doc.is_none();
        if show_key && doc.is_some() {
            let keys = target
                .client
                .post_action(
                    &format!("{}/listSecrets", sub.id),
                    api::APIM,
                    &serde_json::json!({}),
                )
                .await;
            match keys {
                Ok(k) => {
                    out.primary_key = s(&k["primaryKey"]);
                    out.secondary_key = s(&k["secondaryKey"]);
                }
                Err(e) => {
                    target.close().await;
                    anyhow::bail!("reading the keys of {}: {e}", sub.id);
                }
            }
        }
        subs.push(out);
    }
    target.close().await;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "formatVersion": 1,
                "team": t.name,
                "product": t.product_id,
                "subscriptions": subs,
            }))?
        );
    } else {
        let mut text = format!("Team {}: product {}\n", t.name, t.product_id);
        for sub in &subs {
            text.push_str(&format!(
                "  subscription {} ({}) = {}\n",
                sub.name,
                sub.display_name,
                sub.state.as_deref().unwrap_or("(not deployed)")
            ));
            if let Some(k) = &sub.primary_key {
                text.push_str(&format!("    primary key   = {k}\n"));
            }
            if let Some(k) = &sub.secondary_key {
                text.push_str(&format!("    secondary key = {k}\n"));
            }
        }
        if !show_key {
            text.push_str("  (keys: add --show-key to print them)\n");
        }
        print!("{}", crate::engine::terminal::safe(&text));
    }
    if missing {
        eprintln!("a subscription of team {team} is not deployed yet: run `aoai-arch apply` first");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// What `output --json` prints (`formatVersion` changes when a field changes meaning).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outputs {
    pub format_version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub front_door: Option<FrontDoorOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apim: Option<ApimOut>,
    /// The services of `apim.instances`, in the blueprint's order (empty without any).
    pub apim_instances: Vec<ApimOut>,
    pub openai: Vec<AccountOut>,
    pub dns_records: Vec<DnsRecord>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FrontDoorOut {
    pub endpoint_host_name: Option<String>,
    pub url: Option<String>,
    pub custom_domain: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApimOut {
    pub name: String,
    pub region: String,
    pub gateway_url: Option<String>,
    pub regional_gateway_urls: Vec<RegionalUrl>,
    pub principal_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RegionalUrl {
    pub region: String,
    pub url: String,
}

#[derive(Debug, Serialize)]
pub struct AccountOut {
    pub name: String,
    pub region: String,
    pub endpoint: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DnsRecord {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub value: String,
    pub why: &'static str,
}

/// ARM reports an API Management location by its display name ("West Europe").
fn arm_name(v: &Value) -> String {
    v.as_str().unwrap_or("").to_lowercase().replace(' ', "")
}

fn s(v: &Value) -> Option<String> {
    v.as_str().filter(|x| !x.is_empty()).map(str::to_string)
}

/// Read every output from live state (GETs only); what does not exist yet is `None`.
pub async fn read(client: &ArmClient, m: &Model) -> Result<Outputs> {
    let get = |id: String, version: &'static str| async move {
        client
            .get(&id, version)
            .await
            .map_err(|e| anyhow::anyhow!("reading {id}: {e}"))
    };
    let mut out = Outputs {
        format_version: 1,
        ..Outputs::default()
    };
    if let Some(f) = &m.front_door {
        let endpoint = get(f.endpoint_id.clone(), api::CDN).await?;
        let host = endpoint
            .as_ref()
            .and_then(|e| s(&e["properties"]["hostName"]));
        let mut custom = None;
        if let Some(cd) = &f.custom_domain {
            custom = Some(cd.host_name.clone());
            let doc = get(cd.id.clone(), api::CDN).await?;
            if let Some(token) = doc
                .as_ref()
                .and_then(|d| s(&d["properties"]["validationProperties"]["validationToken"]))
            {
                out.dns_records.push(DnsRecord {
                    kind: "TXT",
                    name: format!("_dnsauth.{}", cd.host_name),
                    value: token,
                    why: "validates the custom domain (Front Door managed certificate)",
                });
            }
            if let Some(h) = &host {
                out.dns_records.push(DnsRecord {
                    kind: "CNAME",
                    name: cd.host_name.clone(),
                    value: h.clone(),
                    why: "sends the custom domain to the Front Door endpoint",
                });
            }
        }
        out.front_door = Some(FrontDoorOut {
            url: host.as_ref().map(|h| format!("https://{h}")),
            endpoint_host_name: host,
            custom_domain: custom,
        });
    }
    if let Some(a) = &m.apim {
        let doc = get(a.id.clone(), api::APIM).await?;
        out.apim = Some(apim_out(&a.name, &m.location, doc.as_ref()));
    }
    for i in &m.apim_instances {
        let doc = get(i.apim.id.clone(), api::APIM).await?;
        out.apim_instances
            .push(apim_out(&i.apim.name, &i.location, doc.as_ref()));
    }
    for acc in &m.accounts {
        let doc = get(acc.id.clone(), api::COGNITIVE).await?;
        out.openai.push(AccountOut {
            name: acc.name.clone(),
            region: acc.region.clone(),
            endpoint: doc.and_then(|d| s(&d["properties"]["endpoint"])),
        });
    }
    Ok(out)
}

/// One API Management service's outputs from its live document (`None`: not deployed).
fn apim_out(name: &str, region: &str, doc: Option<&Value>) -> ApimOut {
    let mut regional = Vec::new();
    if let Some(d) = doc {
        if let Some(url) = s(&d["properties"]["gatewayRegionalUrl"]) {
            regional.push(RegionalUrl {
                region: arm_name(&d["location"]),
                url,
            });
        }
        for l in d["properties"]["additionalLocations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let Some(url) = s(&l["gatewayRegionalUrl"]) {
                regional.push(RegionalUrl {
                    region: arm_name(&l["location"]),
                    url,
                });
            }
        }
    }
    ApimOut {
        name: name.to_string(),
        region: region.to_string(),
        gateway_url: doc.and_then(|d| s(&d["properties"]["gatewayUrl"])),
        regional_gateway_urls: regional,
        principal_id: doc.and_then(|d| s(&d["identity"]["principalId"])),
    }
}

impl Outputs {
    /// Does anything of the blueprint exist?
    pub fn any(&self) -> bool {
        self.front_door
            .as_ref()
            .is_some_and(|f| f.endpoint_host_name.is_some())
            || self.apim.as_ref().is_some_and(|a| a.gateway_url.is_some())
            || self.apim_instances.iter().any(|a| a.gateway_url.is_some())
            || self.openai.iter().any(|a| a.endpoint.is_some())
    }
}

/// For people: `name = value` lines, then the DNS records to create.
pub fn human(o: &Outputs) -> String {
    let mut t = String::from("Outputs:\n");
    let none = || "(not deployed)".to_string();
    if let Some(f) = &o.front_door {
        t.push_str(&format!(
            "  front door endpoint     = {}\n",
            f.url.clone().unwrap_or_else(none)
        ));
        if let Some(c) = &f.custom_domain {
            t.push_str(&format!("  front door custom domain = https://{c}\n"));
        }
    }
    if let Some(a) = &o.apim {
        t.push_str(&format!(
            "  apim service            = {} ({})\n",
            a.name, a.region
        ));
        t.push_str(&format!(
            "  apim gateway url        = {}\n",
            a.gateway_url.clone().unwrap_or_else(none)
        ));
        for r in &a.regional_gateway_urls {
            t.push_str(&format!("  apim gateway in {} = {}\n", r.region, r.url));
        }
        t.push_str(&format!(
            "  apim identity principal = {}\n",
            a.principal_id.clone().unwrap_or_else(none)
        ));
    }
    for a in &o.apim_instances {
        t.push_str(&format!(
            "  apim {} ({}) gateway url = {}\n",
            a.name,
            a.region,
            a.gateway_url.clone().unwrap_or_else(none)
        ));
        for r in &a.regional_gateway_urls {
            t.push_str(&format!(
                "  apim {} gateway in {} = {}\n",
                a.name, r.region, r.url
            ));
        }
        t.push_str(&format!(
            "  apim {} identity principal = {}\n",
            a.name,
            a.principal_id.clone().unwrap_or_else(none)
        ));
    }
    for acc in &o.openai {
        t.push_str(&format!(
            "  openai {} ({}) = {}\n",
            acc.name,
            acc.region,
            acc.endpoint.clone().unwrap_or_else(none)
        ));
    }
    if !o.dns_records.is_empty() {
        t.push_str("DNS records to create:\n");
        for r in &o.dns_records {
            t.push_str(&format!(
                "  {:<5} {} -> {}   ({})\n",
                r.kind, r.name, r.value, r.why
            ));
        }
    }
    t
}

/// The end of a successful apply: the outputs, or why they could not be read.
pub async fn print_after_apply(client: &ArmClient, m: &Model) {
    match read(client, m).await {
        Ok(o) => print!("{}", human(&o)),
        Err(e) => eprintln!("outputs not read: {e:#} (run `aoai-arch output`)"),
    }
}

/// `aoai-arch output BLUEPRINT [--json]`.
pub async fn execute(m: &Model, opts: &TargetOptions, json: bool) -> Result<ExitCode> {
    let target = crate::engine::target::connect(opts).await?;
    let result = read(&target.client, m).await;
    target.close().await;
    let o = result?;
    if json {
        println!("{}", serde_json::to_string_pretty(&o)?);
    } else {
        print!("{}", human(&o));
    }
    if !o.any() {
        eprintln!("nothing of this blueprint is deployed yet: run `aoai-arch apply` first");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
