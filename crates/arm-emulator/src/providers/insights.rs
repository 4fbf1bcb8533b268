//! Microsoft.Insights and Microsoft.OperationalInsights: the ids and keys Azure assigns to
//! Application Insights components and Log Analytics workspaces.

use serde_json::{json, Map, Value};

use crate::engine::*;

pub struct Insights;

impl Provider for Insights {
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
