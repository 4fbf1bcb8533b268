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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OpenAiFile {
    sources: BTreeMap<String, Source>,
    models: Vec<ModelOffer>,
    data_zones: BTreeMap<String, Vec<String>>,
    account_kinds: BTreeMap<String, Vec<String>>,
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
