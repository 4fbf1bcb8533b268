//! Teams: one API Management product per team, linked to the Azure OpenAI API, with a
//! subscription per app (or one for the team), token limits and a model allow-list in the
//! product policy; Entra callers mapped to a team by their client application.

use serde::Serialize;

use crate::blueprint::Blueprint;

/// The counter of a team's limit (`counter-key`). One counter is shared by every policy scope
/// that uses the same key (learn.microsoft.com/azure/api-management/azure-openai-token-limit-policy,
/// read 2026-12-06), so the key names its scope: `team:` for a team (in the product policy and,
/// for Entra callers, the API policy: one counter per team whichever way it calls), `app:` for
/// an app's subscription.
pub fn team_counter_key(team: &str) -> String {
    format!("team:{team}")
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamM {
    pub name: String,
    pub product_id: String,
    pub api_link_id: String,
    pub policy_id: String,
    pub tokens_per_minute: u32,
    pub quota_tokens: Option<u64>,
    pub quota_period: Option<&'static str>,
    /// Deployment names the team may call.
    pub models: Vec<String>,
    pub counter_key: String,
    /// One per app, or one for the team.
    pub subscriptions: Vec<SubscriptionM>,
    /// Subscriptions with a limit of their own.
    pub app_limits: Vec<SubscriptionM>,
    /// Entra client application ids (lower case) mapped to this team in the API policy.
    pub client_applications: Vec<String>,
    /// Written into the product's description: marks the product as this blueprint's, so
    /// `apply --prune` deletes it (and its subscriptions) when the team is removed.
    pub owner_mark: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionM {
    /// Subscription id (`sid`): `<team>` or `<team>-<app>`.
    pub name: String,
    pub id: String,
    pub display_name: String,
    pub tokens_per_minute: Option<u32>,
    pub counter_key: String,
}

/// The marker a product's description carries: `(aoai-arch-blueprint: <owner>)`.
pub fn owner_mark(owner: &str) -> String {
    format!("(aoai-arch-blueprint: {owner})")
}

/// The deployment names the accounts serve (what a team's `models` may name).
pub fn deployment_names(b: &Blueprint) -> Vec<String> {
    let mut names: Vec<String> = b
        .openai
        .all_deployments()
        .iter()
        .map(|d| d.name.clone())
        .collect();
    for a in &b.openai.accounts {
        if let Some(n) = &a.deployment_name {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    names
}

pub(crate) fn build_teams(b: &Blueprint, apim_id: &str, api_id: &str, owner: &str) -> Vec<TeamM> {
    b.teams
        .iter()
        .map(|t| {
            let product_id = format!("{apim_id}/products/{}", t.name);
            let sub = |name: String, display: String, tpm: Option<u32>| SubscriptionM {
                id: format!("{apim_id}/subscriptions/{name}"),
                counter_key: format!("app:{name}"),
                name,
                display_name: display,
                tokens_per_minute: tpm,
            };
            let subscriptions: Vec<SubscriptionM> = if t.apps.is_empty() {
                vec![sub(t.name.clone(), format!("Team {}", t.name), None)]
            } else {
                t.apps
                    .iter()
                    .map(|a| {
                        sub(
                            format!("{}-{}", t.name, a.name),
                            format!("Team {}, app {}", t.name, a.name),
                            Some(a.tokens_per_minute),
                        )
                    })
                    .collect()
            };
            let api_name = api_id.rsplit('/').next().unwrap_or("");
            TeamM {
                name: t.name.clone(),
                api_link_id: format!("{product_id}/apiLinks/{api_name}"),
                policy_id: format!("{product_id}/policies/policy"),
                product_id,
                tokens_per_minute: t.tokens_per_minute,
                quota_tokens: t.token_quota.as_ref().map(|q| q.tokens),
                quota_period: t.token_quota.as_ref().map(|q| q.period.as_str()),
                models: t.models.clone(),
                counter_key: team_counter_key(&t.name),
                app_limits: subscriptions
                    .iter()
                    .filter(|s| s.tokens_per_minute.is_some())
                    .cloned()
                    .collect(),
                subscriptions,
                client_applications: t
                    .client_applications
                    .iter()
                    .map(|c| c.to_lowercase())
                    .collect(),
                owner_mark: owner_mark(owner),
            }
        })
        .collect()
}

/// One row of the chargeback query's price table.
#[derive(Debug, Clone, Serialize)]
pub struct PriceM {
    pub deployment: String,
    #[serde(rename = "inputPer1M")]
    pub input_per_1m: f64,
    #[serde(rename = "outputPer1M")]
    pub output_per_1m: f64,
}

pub(crate) fn pricing(b: &Blueprint) -> Vec<PriceM> {
    b.pricing
        .iter()
        .map(|(d, p)| PriceM {
            deployment: d.clone(),
            input_per_1m: p.input_per_1m,
            output_per_1m: p.output_per_1m,
        })
        .collect()
}
