//! Microsoft.Insights and Microsoft.OperationalInsights: the ids and keys Azure assigns to
//! Application Insights components and Log Analytics workspaces, and what a diagnostic setting
//! (an extension resource of the resource whose logs it sends) may name.

use serde_json::{json, Map, Value};

use crate::engine::*;

pub struct Insights;

impl Provider for Insights {
    fn check(&self, e: &mut Engine, put: &Put) -> Option<Reply> {
        match put.spec.name {
            "microsoft.insights/diagnosticsettings" => diagnostic_setting_allowed(e, put),
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
        match put.spec.name {
            "microsoft.insights/components" => component_keys(e, put, doc, props),
            "microsoft.operationalinsights/workspaces" => workspace_id(e, put, doc, props),
            _ => {}
        }
    }
}

/// Instrumentation key, connection string, app id.
fn component_keys(
    e: &mut Engine,
    put: &Put,
    _doc: &mut Map<String, Value>,
    props: &mut Map<String, Value>,
) {
    let body = put.body;
    let h = |what: &str| e.stable_uuid(&put.path.id, what);
    let key = h("ikey").to_string();
    let loc = arm_region(body["location"].as_str().unwrap_or(""));
    props.insert("InstrumentationKey".into(), json!(key));
    props.insert("ConnectionString".into(), json!(format!("InstrumentationKey={key};IngestionEndpoint=https://{loc}-0.in.applicationinsights.azure.com/")));
    props.insert("AppId".into(), json!(h("appid").to_string()));
}

/// The workspace's customer id.
fn workspace_id(
    e: &mut Engine,
    put: &Put,
    _doc: &mut Map<String, Value>,
    props: &mut Map<String, Value>,
) {
    let h = |what: &str| e.stable_uuid(&put.path.id, what);
    props.insert("customerId".into(), json!(h("customer").to_string()));
}

/// Azure refuses a log category the scope's resource type does not have, and a destination
/// workspace that does not exist.
fn diagnostic_setting_allowed(e: &mut Engine, put: &Put) -> Option<Reply> {
    let parent = put.path.parent.clone().unwrap_or_default();
    let scope_type = e.resources.get(&parent).map(|r| r.spec.clone());
    if let Some(known) = scope_type.as_deref().and_then(crate::types::log_categories) {
        for l in put.body["properties"]["logs"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let Some(cat) = l["category"].as_str() {
                if !known.iter().any(|k| k.eq_ignore_ascii_case(cat)) {
                    return Some(error(
                        400,
                        "BadRequest",
                        format!("Category '{cat}' is not supported."),
                        "properties.logs",
                    ));
                }
            }
        }
    }
    if let Some(ws) = put.body["properties"]["workspaceId"].as_str() {
        if !e.exists_ready(&ws.to_lowercase()) {
            return Some(error(
                400,
                "BadRequest",
                format!("Resource '{ws}' was not found."),
                "properties.workspaceId",
            ));
        }
    }
    None
}
