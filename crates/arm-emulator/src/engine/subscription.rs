//! What the emulated subscription is beyond its resources: quota, models offered, providers not
//! registered, names taken elsewhere, soft-deleted accounts (the `preflight` section of the
//! state file; `crate::preflight` serves and enforces it).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quota {
    pub limit: u64,
    /// Used outside the emulator (other subscriptions' resources are not modelled).
    #[serde(default)]
    pub used: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    pub name: String,
    pub version: String,
    pub skus: Vec<String>,
    /// `model.lifecycleStatus` as ARM answers it (`GenerallyAvailable`, `Preview`,
    /// `Deprecating`, `Deprecated`, ...); unset: from the retirement schedule in
    /// `data/capabilities/openai.json` on the emulator's today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_status: Option<String>,
    /// `model.deprecation.inference`: when calls stop (`YYYY-MM-DD` or a timestamp); unset: the
    /// schedule's retirement date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecation_inference: Option<String>,
}

/// The `preflight` section of the state file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Data {
    /// `"<region>"` or `"<subscription>/<region>"` -> usage name (`OpenAI.<sku>.<model>`) -> quota.
    #[serde(default)]
    pub quota: BTreeMap<String, BTreeMap<String, Quota>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_limit: Option<u64>,
    /// Region -> the models offered there; a region not listed offers `preflight::CATALOG` (each
    /// recorded model only as the deployment types the capability data offers there).
    #[serde(default)]
    pub models: BTreeMap<String, Vec<Offer>>,
    /// Rows per page of `locations/{l}/models` (default `preflight::MODELS_PAGE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models_page_size: Option<usize>,
    /// Provider namespaces not registered in any subscription.
    #[serde(default)]
    pub unregistered: Vec<String>,
    /// Names held elsewhere in Azure: custom subdomains, API Management services, Front Door
    /// endpoints (compared without case).
    #[serde(default)]
    pub taken: Vec<String>,
    /// Soft-deleted accounts: the account document as it was, by lower-case account id.
    #[serde(default)]
    pub deleted_accounts: BTreeMap<String, Value>,
}

impl Data {
    pub fn from_state(v: &Value) -> Data {
        let mut d: Data = serde_json::from_value(v.clone()).unwrap_or_default();
        // Seeded entries may be keyed by anything: key them by their lower-case id.
        d.deleted_accounts = d
            .deleted_accounts
            .into_values()
            .filter_map(|doc| {
                let id = doc["id"].as_str()?.to_lowercase();
                Some((id, doc))
            })
            .collect();
        d
    }
}
