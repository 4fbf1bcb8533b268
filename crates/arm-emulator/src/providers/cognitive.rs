//! Microsoft.CognitiveServices: accounts (kinds by region, endpoints) and model deployments
//! (offered model, version and deployment type per region; one deployment write at a time per
//! account).

use serde_json::{json, Map, Value};

use crate::capabilities;
use crate::engine::*;

pub struct Cognitive;

impl Provider for Cognitive {
    fn capability_check(&self, e: &mut Engine, put: &Put) -> Option<Reply> {
        match put.spec.name {
            "microsoft.cognitiveservices/accounts" => account_offered(e, put),
            "microsoft.cognitiveservices/accounts/deployments" => deployment_offered(e, put),
            _ => None,
        }
    }

    fn check(&self, e: &mut Engine, put: &Put) -> Option<Reply> {
        match put.spec.name {
            "microsoft.cognitiveservices/accounts/deployments" => {
                one_deployment_write_at_a_time(e, put).or_else(|| spillover_target(e, put))
            }
            _ => None,
        }
    }

    fn fill(
        &self,
        e: &mut Engine,
        put: &Put,
        doc: &mut Map<String, Value>,
        props: &mut Map<String, Value>,
    ) {
        if put.spec.name == "microsoft.cognitiveservices/accounts" {
            account_endpoints(e, put, doc, props);
        }
    }
}

/// An account kind Azure does not offer in the region.
fn account_offered(_e: &mut Engine, put: &Put) -> Option<Reply> {
    let body = put.body;
    let caps = capabilities::get();
    let kind = body["kind"].as_str().unwrap_or("");
    let region = norm_loc(&body["location"]);
    let offered = caps.account_kind_regions(kind);
    if offered.is_some_and(|rs| !rs.contains(&region)) {
        return Some(error(
            400,
            "InvalidApiSetId",
            format!("The account type '{kind}' is either invalid or unavailable in given region."),
            "",
        ));
    }
    None
}

/// A model, version and deployment type the region does not offer.
fn deployment_offered(e: &mut Engine, put: &Put) -> Option<Reply> {
    let body = put.body;
    let parent = put.path.parent.clone().unwrap_or_default();
    let caps = capabilities::get();
    let region = e
        .resources
        .get(&parent)
        .map(|r| norm_loc(&r.doc["location"]))?;
    let model = &body["properties"]["model"];
    let name = model["name"].as_str().unwrap_or("");
    let version = model["version"].as_str().unwrap_or("");
    let sku = body["sku"]["name"].as_str().unwrap_or("Standard");
    let refused = match caps.deployment(name, version, sku, &region) {
        capabilities::Offer::NotOffered(_) => true,
        capabilities::Offer::Offered => false,
        // A data-zone type outside every data zone, whatever the model (an unconfirmed zone,
        // APAC, is not refused).
        capabilities::Offer::Unknown => {
            sku.starts_with("DataZone")
                && caps.data_zone(&region).is_none()
                && caps.unconfirmed_data_zone(&region).is_none()
        }
    };
    if refused {
        return Some(error(
            400,
            "InvalidResourceProperties",
            format!("The specified SKU '{sku}' for model '{name} {version}' is not supported in this region '{region}'."),
            "",
        ));
    }
    None
}

/// Another deployment of the account is still being written.
fn one_deployment_write_at_a_time(e: &mut Engine, put: &Put) -> Option<Reply> {
    let spec = put.spec;
    let key = put.path.id.to_lowercase();
    let parent = put.path.parent.clone().unwrap_or_default();
    let now = e.now();
    let busy = e.resources.iter().any(|(k, r)| {
        *k != key
            && r.spec == spec.name
            && k.starts_with(&format!("{parent}/"))
            && r.ready_at > now
            && !r.deleting
    });
    if busy {
        return Some(error(
            409,
            "RequestConflict",
            "Another operation is being performed on the parent resource. Please try again later.",
            "",
        ));
    }
    None
}

/// The data-processing level of a deployment SKU.
fn level(sku: &str) -> &'static str {
    if sku.starts_with("Global") {
        "Global"
    } else if sku.starts_with("DataZone") {
        "DataZone"
    } else {
        "Regional"
    }
}

/// Native spillover: only a provisioned deployment names one, and it must be a standard
/// deployment of the same account and data-processing level
/// (learn.microsoft.com/azure/ai-foundry/openai/how-to/spillover-traffic-management,
/// prerequisites, read 2026-12-06).
fn spillover_target(e: &mut Engine, put: &Put) -> Option<Reply> {
    let target = put.body["properties"]["spilloverDeploymentName"].as_str()?;
    let sku = put.body["sku"]["name"].as_str().unwrap_or("Standard");
    let parent = put.path.parent.clone().unwrap_or_default();
    let refuse = |message: String| {
        Some(error(
            400,
            "InvalidResourceProperties",
            message,
            "properties.spilloverDeploymentName",
        ))
    };
    if !sku.ends_with("ProvisionedManaged") {
        return refuse(format!(
            "Spillover is only supported for provisioned deployments; the SKU is '{sku}'."
        ));
    }
    let key = format!("{parent}/deployments/{}", target.to_lowercase());
    let Some(t) = e.resources.get(&key).filter(|r| !r.deleting) else {
        return refuse(format!(
            "The spillover deployment '{target}' does not exist in this account."
        ));
    };
    let t_sku = t.doc["sku"]["name"]
        .as_str()
        .unwrap_or("Standard")
        .to_string();
    if t_sku.ends_with("ProvisionedManaged") || level(&t_sku) != level(sku) {
        return refuse(format!(
            "The spillover deployment '{target}' ({t_sku}) must be a standard deployment of the same data processing level as '{sku}'."
        ));
    }
    None
}

/// The hosts an account answers on.
fn account_endpoints(
    _e: &mut Engine,
    put: &Put,
    _doc: &mut Map<String, Value>,
    props: &mut Map<String, Value>,
) {
    let body = put.body;
    let name = put.path.id.rsplit('/').next().unwrap_or("").to_string();
    let sub = props
        .get("customSubDomainName")
        .and_then(Value::as_str)
        .unwrap_or(&name)
        .to_lowercase();
    // A Foundry resource (AIServices) answers on three hosts; its own endpoint is
    // the Cognitive Services one, and it serves Azure OpenAI on openai.azure.com.
    let openai = format!("https://{sub}.openai.azure.com/");
    if body["kind"].as_str() == Some("AIServices") {
        props.insert(
            "endpoint".into(),
            json!(format!("https://{sub}.cognitiveservices.azure.com/")),
        );
        props.insert(
            "endpoints".into(),
            json!({
                "OpenAI Language Model Instance API": openai,
                "Azure AI Model Inference API": format!("https://{sub}.services.ai.azure.com/"),
                "Cognitive Services": format!("https://{sub}.cognitiveservices.azure.com/"),
            }),
        );
    } else {
        props.insert("endpoint".into(), json!(openai));
        props.insert(
            "endpoints".into(),
            json!({ "OpenAI Language Model Instance API": openai }),
        );
    }
}
