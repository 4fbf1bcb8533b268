//! Closed vocabularies whose values Azure defines and extends faster than releases: deployment
//! types (`openai.deployments[].sku.name`) and WAF managed rule set types. The known values are
//! data (`data/capabilities/deployment-types.json`, `waf-rule-sets.json`, with the page and the
//! day they were read). A deployment type a typo away from a known one is an error ("did you
//! mean"); any other unknown value is only a lint warning (AOAI100, AOAI103) naming the known
//! ones, since Azure may have added it since.
//!
//! Vocabularies aoai-arch defines itself, or that ARM's own schemas close (API Management tiers,
//! WAF modes and rule-set actions, retry modes, probe protocols, ...), are enums of
//! `types.rs`: serde refuses an unknown value with a "did you mean".

use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Source {
    pub url: String,
    pub read: String,
}

#[derive(Debug, Deserialize)]
pub struct DeploymentType {
    pub name: String,
    /// `Global`, `DataZone` or `Regional`.
    pub processing: String,
    /// `Standard`, `Provisioned`, `Batch` or `Developer`.
    pub billing: String,
}

#[derive(Debug, Deserialize)]
pub struct DeploymentTypes {
    pub source: Source,
    pub types: Vec<DeploymentType>,
}

/// A data file embedded in the binary, parsed on first use.
fn parsed<T: serde::de::DeserializeOwned>(cell: &'static OnceLock<T>, json: &str) -> &'static T {
    cell.get_or_init(|| serde_json::from_str(json).expect("data/capabilities file is valid JSON"))
}

/// The deployment types of the data file.
pub fn deployment_types() -> &'static DeploymentTypes {
    static TYPES: OnceLock<DeploymentTypes> = OnceLock::new();
    parsed(
        &TYPES,
        include_str!("../../data/capabilities/deployment-types.json"),
    )
}

/// How a value stands against a vocabulary.
#[derive(Debug, PartialEq, Eq)]
pub enum Known {
    Yes,
    /// Not known, and so close to this known value that it is taken for a typo of it.
    Typo(String),
    /// Not known and close to none: perhaps a value Azure added since the data was read.
    No,
}

/// At most this many single-character edits (insert, delete, replace, swap two neighbours)
/// from a known value, or the same letters in another case, is a typo.
const TYPO_EDITS: usize = 2;

/// `value` against the `known` values.
pub fn check(value: &str, known: &[&str]) -> Known {
    if known.contains(&value) {
        return Known::Yes;
    }
    known
        .iter()
        .map(|k| {
            let d = if k.eq_ignore_ascii_case(value) {
                0
            } else {
                strsim::osa_distance(value, k)
            };
            (d, *k)
        })
        .filter(|(d, _)| *d <= TYPO_EDITS)
        .min_by_key(|(d, _)| *d)
        .map_or(Known::No, |(_, k)| Known::Typo(k.to_string()))
}

/// A deployment type (`sku.name` of a deployment) against the known ones.
pub fn deployment_type(value: &str) -> Known {
    check(value, &deployment_type_names())
}

pub fn deployment_type_names() -> Vec<&'static str> {
    deployment_types()
        .types
        .iter()
        .map(|t| t.name.as_str())
        .collect()
}

/// The known deployment types and where they were read, for messages.
pub fn deployment_types_listed() -> String {
    let t = deployment_types();
    format!(
        "{} ({}, read {})",
        deployment_type_names().join(", "),
        t.source.url,
        t.source.read
    )
}

#[derive(Debug, Deserialize)]
pub struct RuleSetTypes {
    pub source: Source,
    pub types: Vec<String>,
}

/// The Front Door WAF managed rule set types of the data file.
pub fn waf_rule_set_types() -> &'static RuleSetTypes {
    static TYPES: OnceLock<RuleSetTypes> = OnceLock::new();
    parsed(
        &TYPES,
        include_str!("../../data/capabilities/waf-rule-sets.json"),
    )
}

/// A WAF managed rule set type (`frontDoor.waf.managedRuleSets[].type`) against the known ones.
pub fn waf_rule_set_type(value: &str) -> Known {
    let t = waf_rule_set_types();
    check(
        value,
        &t.types.iter().map(String::as_str).collect::<Vec<_>>(),
    )
}

/// JSON Schema of `sku.name`: any text (Azure adds types), with the known ones offered as
/// completions by editors.
pub fn deployment_type_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names = deployment_type_names();
    schemars::json_schema!({
        "anyOf": [
            { "type": "string", "enum": names },
            { "type": "string" }
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_told_from_new_values() {
        assert_eq!(deployment_type("GlobalStandard"), Known::Yes);
        assert_eq!(
            deployment_type("GlobalStandardd"),
            Known::Typo("GlobalStandard".into())
        );
        assert_eq!(
            deployment_type("globalstandard"),
            Known::Typo("GlobalStandard".into())
        );
        assert_eq!(
            deployment_type("DataZoneStandrad"),
            Known::Typo("DataZoneStandard".into())
        );
        assert_eq!(deployment_type("GlobalPriorityProcessing"), Known::No);
    }
}
