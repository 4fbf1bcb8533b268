//! What Azure offers where, from the data files in `data/capabilities/` (each table names the
//! learn.microsoft.com page it was read from and when). Shared by the emulator, which refuses what
//! Azure refuses, and by aoai-arch's lint rules, which explain it before anything is sent. The
//! files are embedded at build time and parsed once per process.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

const REGIONS: &str = include_str!("../../../data/capabilities/regions.json");
const APIM: &str = include_str!("../../../data/capabilities/apim.json");
const OPENAI: &str = include_str!("../../../data/capabilities/openai.json");
const FRONT_DOOR: &str = include_str!("../../../data/capabilities/frontdoor.json");

/// Where a table was read.
#[derive(Debug, Clone, Deserialize)]
pub struct Source {
    pub url: String,
    pub read: String,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub table: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Region {
    pub name: String,
    pub display: String,
}

#[derive(Debug, Deserialize)]
struct RegionsFile {
    source: Source,
    regions: Vec<Region>,
}

/// Networking and scale features of one API Management tier.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApimTier {
    /// Injection into a subnet (classic Developer/Premium; Premium v2).
    pub vnet_injection: bool,
    /// Outbound integration with a delegated subnet (Standard v2/Premium v2).
    pub outbound_vnet_integration: bool,
    /// Inbound private endpoint to the gateway (not on a classic instance injected in a VNet).
    pub inbound_private_endpoint: bool,
    /// Additional gateway regions.
    pub multi_region: bool,
    /// Front Door Premium can reach the gateway over Private Link (group id Gateway).
    pub front_door_private_link: bool,
    pub availability_zones: bool,
}

#[derive(Debug, Deserialize)]
struct ApimFile {
    sources: BTreeMap<String, Source>,
    tiers: BTreeMap<String, ApimTier>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelOffer {
    pub name: String,
    pub version: String,
    /// Deployment type (SKU name) -> ARM regions where it is offered.
    pub deployment_types: BTreeMap<String, Vec<String>>,
}

/// One row of the retirement schedule: a model version's lifecycle status and retirement date.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleEntry {
    pub name: String,
    pub version: String,
    /// As the schedule gives it: `GA`, `Preview`, `Deprecated`, `Retired`.
    pub status: String,
    /// `YYYY-MM-DD`: from this day every call to a deployment of the version fails.
    pub retirement: Option<String>,
    #[serde(default)]
    pub replacement: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OpenAiFile {
    sources: BTreeMap<String, Source>,
    models: Vec<ModelOffer>,
    data_zones: BTreeMap<String, Vec<String>>,
    account_kinds: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    lifecycle: Vec<LifecycleEntry>,
}

/// Where a model version stands on a given day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    GenerallyAvailable {
        retires: Option<String>,
    },
    Preview {
        retires: Option<String>,
    },
    /// No new deployments (Azure answers `ServiceModelDeprecating`); existing ones run until the
    /// retirement date.
    Deprecated {
        retires: Option<String>,
    },
    /// Every call fails.
    Retired {
        on: Option<String>,
    },
}

impl Stage {
    /// A new deployment of the version is accepted (generally available or preview).
    pub fn deployable(&self) -> bool {
        matches!(
            self,
            Stage::GenerallyAvailable { .. } | Stage::Preview { .. }
        )
    }

    /// The retirement date, when one is known.
    pub fn retirement(&self) -> Option<&str> {
        match self {
            Stage::GenerallyAvailable { retires }
            | Stage::Preview { retires }
            | Stage::Deprecated { retires } => retires.as_deref(),
            Stage::Retired { on } => on.as_deref(),
        }
    }

    /// The stage from a status word (the schedule's `GA`/`Deprecated`/..., or ARM's
    /// `lifecycleStatus`: `GenerallyAvailable`, `Stable`, `Preview`, `Legacy`, `Deprecating`,
    /// `Deprecated`) and a retirement date, on `today` (all dates `YYYY-MM-DD`): a version whose
    /// retirement date has come is retired whatever its status.
    pub fn from_status(status: &str, retirement: Option<&str>, today: &str) -> Stage {
        let retires = retirement.map(|r| r.get(..10).unwrap_or(r).to_string());
        if retires.as_deref().is_some_and(|r| r <= today) || status.eq_ignore_ascii_case("Retired")
        {
            return Stage::Retired { on: retires };
        }
        match status.to_ascii_lowercase().as_str() {
            "preview" => Stage::Preview { retires },
            "deprecated" | "deprecating" | "legacy" => Stage::Deprecated { retires },
            _ => Stage::GenerallyAvailable { retires },
        }
    }

    /// ARM's `lifecycleStatus` word for the stage (what `locations/{l}/models` answers).
    pub fn arm_status(&self) -> &'static str {
        match self {
            Stage::GenerallyAvailable { .. } => "GenerallyAvailable",
            Stage::Preview { .. } => "Preview",
            Stage::Deprecated { .. } | Stage::Retired { .. } => "Deprecated",
        }
    }
}

/// The variable that sets "today" (`YYYY-MM-DD`) for every date comparison: lint, preflight and
/// the emulator. Unset: the real date (UTC).
pub const TODAY_VAR: &str = "AOAI_ARCH_TODAY";

/// Today as `YYYY-MM-DD`: `$AOAI_ARCH_TODAY` when set (a value that is not such a date, an
/// empty one included, is an error naming the variable and the format), otherwise the UTC date
/// of the system clock.
pub fn today() -> Result<String, String> {
    match std::env::var_os(TODAY_VAR) {
        None => Ok(system_today()),
        Some(v) => {
            let v = v.to_string_lossy();
            let v = v.trim();
            if days_from_civil(v).is_some() {
                Ok(v.to_string())
            } else if v.is_empty() {
                Err(format!(
                    "{TODAY_VAR} is set but empty: give a date of the form YYYY-MM-DD (e.g. 2026-12-06), or unset it to use today's date"
                ))
            } else {
                Err(format!(
                    "{TODAY_VAR}={v:?} is not a date of the form YYYY-MM-DD (e.g. 2026-12-06); unset it to use today's date"
                ))
            }
        }
    }
}

/// The UTC date of the system clock.
pub fn system_today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    civil_from_days((secs / 86_400) as i64)
}

/// [`today`] where an error cannot be returned (lint, preflight, the emulator's answers). Every
/// command checks [`today`] before it runs, so a value that is not a date never gets here from
/// the command line; a program that sets one anyway stops with the same message rather than
/// silently comparing dates with the system's.
pub fn today_or_system() -> String {
    today().unwrap_or_else(|e| panic!("{e}"))
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (`None` if it is not one). Howard Hinnant's
/// `days_from_civil`, proleptic Gregorian calendar.
pub fn days_from_civil(date: &str) -> Option<i64> {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = date[..4].parse().ok()?;
    let m: i64 = date[5..7].parse().ok()?;
    let d: i64 = date[8..10].parse().ok()?;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > dim[(m - 1) as usize] {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The `YYYY-MM-DD` date of a day count since 1970-01-01 (inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> String {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A Unix time as UTC `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        civil_from_days(days),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days from `from` to `to` (both `YYYY-MM-DD`; a longer timestamp is cut to its date).
pub fn days_between(from: &str, to: &str) -> Option<i64> {
    let f = days_from_civil(from.get(..10)?)?;
    let t = days_from_civil(to.get(..10)?)?;
    Some(t - f)
}

#[derive(Debug, Deserialize)]
struct Listed {
    source: Source,
    regions: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Nearest {
    source: Source,
    map: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FrontDoorFile {
    private_link: Listed,
    nearest: Nearest,
}

/// Every capability table, parsed.
#[derive(Debug)]
pub struct Capabilities {
    regions: RegionsFile,
    apim: ApimFile,
    openai: OpenAiFile,
    front_door: FrontDoorFile,
}

/// Whether Azure offers a model deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    Offered,
    /// The data lists the model and the type, but not in this region; the regions where it is.
    NotOffered(Vec<String>),
    /// The data does not record this model, version or deployment type: nothing is checked.
    Unknown,
}

/// The tables, parsed on first use.
pub fn get() -> &'static Capabilities {
    static CAPS: OnceLock<Capabilities> = OnceLock::new();
    CAPS.get_or_init(|| Capabilities {
        regions: serde_json::from_str(REGIONS).expect("data/capabilities/regions.json"),
        apim: serde_json::from_str(APIM).expect("data/capabilities/apim.json"),
        openai: serde_json::from_str(OPENAI).expect("data/capabilities/openai.json"),
        front_door: serde_json::from_str(FRONT_DOOR).expect("data/capabilities/frontdoor.json"),
    })
}

/// ARM name of a region given as an ARM name or a display name ("West Europe").
pub fn arm_name(s: &str) -> String {
    s.to_lowercase().replace(' ', "")
}

impl Capabilities {
    pub fn regions(&self) -> &[Region] {
        &self.regions.regions
    }

    pub fn regions_source(&self) -> &Source {
        &self.regions.source
    }

    pub fn display_name(&self, arm: &str) -> Option<&str> {
        self.regions
            .regions
            .iter()
            .find(|r| r.name == arm)
            .map(|r| r.display.as_str())
    }

    pub fn apim_tier(&self, sku: &str) -> Option<&ApimTier> {
        self.apim.tiers.get(sku)
    }

    /// Tiers with a feature, for messages ("Developer, Premium").
    pub fn apim_tiers_with(&self, f: impl Fn(&ApimTier) -> bool) -> Vec<&str> {
        self.apim
            .tiers
            .iter()
            .filter(|(_, t)| f(t))
            .map(|(n, _)| n.as_str())
            .collect()
    }

    pub fn apim_source(&self, feature: &str) -> Option<&Source> {
        self.apim.sources.get(feature)
    }

    pub fn models(&self) -> &[ModelOffer] {
        &self.openai.models
    }

    pub fn openai_source(&self, table: &str) -> Option<&Source> {
        self.openai.sources.get(table)
    }

    /// The retirement schedule's row for a model version (`None`: not recorded).
    pub fn lifecycle(&self, name: &str, version: &str) -> Option<&LifecycleEntry> {
        self.openai
            .lifecycle
            .iter()
            .find(|l| l.name == name && l.version == version)
    }

    pub fn lifecycle_entries(&self) -> &[LifecycleEntry] {
        &self.openai.lifecycle
    }

    /// The stage of a recorded model version on `today` (`None`: not recorded).
    pub fn stage(&self, name: &str, version: &str, today: &str) -> Option<Stage> {
        self.lifecycle(name, version)
            .map(|l| Stage::from_status(&l.status, l.retirement.as_deref(), today))
    }

    /// The newest version of `name` that is generally available on `today`, among those the
    /// data records as offered as `sku` in `region` (any region when `region` is `None`).
    pub fn newest_ga(
        &self,
        name: &str,
        sku: &str,
        region: Option<&str>,
        today: &str,
    ) -> Option<&str> {
        let region = region.map(arm_name);
        self.openai
            .lifecycle
            .iter()
            .filter(|l| l.name == name)
            .filter(|l| {
                matches!(
                    Stage::from_status(&l.status, l.retirement.as_deref(), today),
                    Stage::GenerallyAvailable { .. }
                )
            })
            .filter(|l| match &region {
                None => true,
                Some(r) => self.deployment(&l.name, &l.version, sku, r) == Offer::Offered,
            })
            .map(|l| l.version.as_str())
            .max()
    }

    /// Is `sku` (deployment type) of model `name` `version` offered in `region` (ARM name)?
    pub fn deployment(&self, name: &str, version: &str, sku: &str, region: &str) -> Offer {
        let region = arm_name(region);
        let Some(m) = self
            .openai
            .models
            .iter()
            .find(|m| m.name == name && m.version == version)
        else {
            return Offer::Unknown;
        };
        match m.deployment_types.get(sku) {
            None => Offer::Unknown,
            Some(regions) if regions.contains(&region) => Offer::Offered,
            Some(regions) => Offer::NotOffered(regions.clone()),
        }
    }

    /// The data zone ("US", "EU") a region belongs to, if any.
    pub fn data_zone(&self, region: &str) -> Option<&str> {
        let region = arm_name(region);
        self.openai
            .data_zones
            .iter()
            .find(|(_, rs)| rs.contains(&region))
            .map(|(z, _)| z.as_str())
    }

    pub fn data_zones(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.openai
            .data_zones
            .iter()
            .map(|(z, r)| (z.as_str(), r.as_slice()))
    }

    /// Regions where an account kind (`OpenAI`, `AIServices`) is offered; `None` for a kind the
    /// data does not record.
    pub fn account_kind_regions(&self, kind: &str) -> Option<&[String]> {
        self.openai.account_kinds.get(kind).map(Vec::as_slice)
    }

    pub fn front_door_private_link_regions(&self) -> &[String] {
        &self.front_door.private_link.regions
    }

    pub fn front_door_private_link_source(&self) -> &Source {
        &self.front_door.private_link.source
    }

    pub fn front_door_nearest_source(&self) -> &Source {
        &self.front_door.nearest.source
    }

    /// The Front Door Private Link region for an origin in `region`: the region itself when Front
    /// Door lists it, else the nearest listed one (`None` for a region the data does not know).
    pub fn front_door_private_link_region(&self, region: &str) -> Option<&str> {
        let region = arm_name(region);
        if let Some(r) = self
            .front_door
            .private_link
            .regions
            .iter()
            .find(|r| **r == region)
        {
            return Some(r.as_str());
        }
        self.front_door.nearest.map.get(&region).map(String::as_str)
    }

    pub fn front_door_private_link_supported(&self, region: &str) -> bool {
        let region = arm_name(region);
        self.front_door.private_link.regions.contains(&region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        for d in [
            "1970-01-01",
            "2000-02-29",
            "2026-12-06",
            "2027-03-01",
            "2100-12-31",
        ] {
            assert_eq!(civil_from_days(days_from_civil(d).unwrap()), d);
        }
        assert_eq!(days_from_civil("1970-01-02"), Some(1));
        assert_eq!(utc(86_400 + 3_661), "1970-01-02T01:01:01Z");
        assert_eq!(days_between("2026-12-06", "2027-02-06"), Some(62));
        assert_eq!(days_from_civil("2026-02-29"), None);
        assert_eq!(days_from_civil("2026-13-01"), None);
        assert_eq!(days_from_civil("26-12-06"), None);
    }

    #[test]
    fn stages_on_a_day() {
        let t = "2026-12-06";
        assert_eq!(
            Stage::from_status("Deprecated", Some("2026-10-01"), t),
            Stage::Retired {
                on: Some("2026-10-01".into())
            }
        );
        assert_eq!(
            Stage::from_status("Deprecating", Some("2027-01-01T00:00:00Z"), t),
            Stage::Deprecated {
                retires: Some("2027-01-01".into())
            }
        );
        assert!(Stage::from_status("GenerallyAvailable", None, t).deployable());
        assert!(Stage::from_status("Preview", Some("2027-01-01"), t).deployable());
        assert!(!Stage::from_status("Legacy", Some("2027-01-01"), t).deployable());
        // The day of retirement is retired.
        assert!(matches!(
            Stage::from_status("GA", Some(t), t),
            Stage::Retired { .. }
        ));
        let c = get();
        assert_eq!(
            c.newest_ga("gpt-5.4-mini", "GlobalStandard", Some("swedencentral"), t),
            Some("2026-03-17")
        );
        assert_eq!(c.newest_ga("gpt-4o", "GlobalStandard", None, t), None);
    }

    #[test]
    fn tables_are_consistent() {
        let c = get();
        let known: std::collections::BTreeSet<&str> =
            c.regions().iter().map(|r| r.name.as_str()).collect();
        for m in c.models() {
            for rs in m.deployment_types.values() {
                for r in rs {
                    assert!(known.contains(r.as_str()), "{} {}: {r}", m.name, m.version);
                }
            }
        }
        for l in c.lifecycle_entries() {
            assert!(
                ["GA", "Preview", "Deprecated", "Retired"].contains(&l.status.as_str()),
                "{} {}: {}",
                l.name,
                l.version,
                l.status
            );
            if let Some(r) = &l.retirement {
                assert!(
                    days_from_civil(r).is_some(),
                    "{} {}: {r}",
                    l.name,
                    l.version
                );
            }
        }
        for (_, rs) in c.data_zones() {
            for r in rs {
                assert!(known.contains(r.as_str()), "data zone region {r}");
            }
        }
        for r in &known {
            let to = c.front_door_private_link_region(r).expect("mapped");
            assert!(c.front_door_private_link_supported(to), "{r} -> {to}");
        }
        for s in [
            "Developer",
            "Basic",
            "Standard",
            "Premium",
            "BasicV2",
            "StandardV2",
            "PremiumV2",
        ] {
            assert!(c.apim_tier(s).is_some(), "{s}");
        }
    }
}
