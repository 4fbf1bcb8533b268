//! Microsoft.EventHub: the namespace's Service Bus endpoint.

use serde_json::{json, Map, Value};

use crate::engine::*;

pub struct EventHub;

impl Provider for EventHub {
    fn fill(
        &self,
        e: &mut Engine,
        put: &Put,
        doc: &mut Map<String, Value>,
        props: &mut Map<String, Value>,
    ) {
        if put.spec.name == "microsoft.eventhub/namespaces" {
            namespace_endpoint(e, put, doc, props);
        }
    }
}

/// The namespace's Service Bus endpoint.
fn namespace_endpoint(
    _e: &mut Engine,
    put: &Put,
    _doc: &mut Map<String, Value>,
    props: &mut Map<String, Value>,
) {
    let name = put.path.id.rsplit('/').next().unwrap_or("").to_string();
    props.insert(
        "serviceBusEndpoint".into(),
        json!(format!("https://{name}.servicebus.windows.net:443/")),
    );
}
