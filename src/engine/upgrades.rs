//! Deployments Azure upgraded: a deployment whose `versionUpgradeOption` is not `NoAutoUpgrade`
//! may run a newer version of its model than the blueprint pins, once Azure has moved it. Plan
//! treats that as converged, apply writes the live version back (never the pinned one), and
//! preflight judges the version the deployment runs.

use serde::Serialize;
use serde_json::Value;

/// A deployment Azure moved to a newer version of its model, as its `versionUpgradeOption`
/// allows (anything but `NoAutoUpgrade`): the live version is kept, the way Terraform users keep
/// it with `ignore_changes = [model.version]`. Pushing the pinned version back would undo
/// Azure's upgrade (and, once the pinned version is deprecated, be refused).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UpgradedVersion {
    pub id: String,
    pub model: String,
    /// The version the blueprint pins.
    pub pinned: String,
    /// The newer version the deployment runs.
    pub live: String,
    pub version_upgrade_option: String,
}

/// Whether version `a` is newer than `b`: numbers as numbers (`"2"` > `"1"`), dates and other
/// text in order (`"2025-08-07"` > `"2024-11-20"`).
fn newer(a: &str, b: &str) -> bool {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x > y,
        _ => a > b,
    }
}

/// The upgrade Azure made to a deployment, if the live document runs a newer version of the
/// blueprint's model and the blueprint lets Azure upgrade it.
pub fn upgraded_version(
    id: &str,
    resource_type: &str,
    want: &Value,
    have: &Value,
) -> Option<UpgradedVersion> {
    if !resource_type.eq_ignore_ascii_case("Microsoft.CognitiveServices/accounts/deployments") {
        return None;
    }
    let option = want["properties"]["versionUpgradeOption"].as_str()?;
    if option.eq_ignore_ascii_case("NoAutoUpgrade") {
        return None;
    }
    let (w, h) = (&want["properties"]["model"], &have["properties"]["model"]);
    let model = w["name"].as_str()?;
    if h["name"].as_str() != Some(model) {
        return None;
    }
    let (pinned, live) = (w["version"].as_str()?, h["version"].as_str()?);
    newer(live, pinned).then(|| UpgradedVersion {
        id: id.to_string(),
        model: model.to_string(),
        pinned: pinned.to_string(),
        live: live.to_string(),
        version_upgrade_option: option.to_string(),
    })
}

/// The body `apply` sends for a resource: with the live model version when Azure upgraded the
/// deployment (see [`upgraded_version`]), so that a write for another property does not move
/// it back.
pub fn with_upgraded_version(resource_type: &str, body: &str, have: Option<&Value>) -> String {
    let Some(have) = have else {
        return body.to_string();
    };
    let Ok(mut doc) = serde_json::from_str::<Value>(body) else {
        return body.to_string();
    };
    match upgraded_version("", resource_type, &doc, have) {
        Some(u) => {
            doc["properties"]["model"]["version"] = Value::from(u.live);
            serde_json::to_string_pretty(&doc).unwrap_or_else(|_| body.to_string())
        }
        None => body.to_string(),
    }
}
