//! Every ARM body that `render` writes for the example blueprints validates against Microsoft's
//! published schema of its exact type and api-version (../shared/arm-schemas), made strict the
//! way its README describes: template-expression alternatives dropped, objects closed (a
//! misspelled property fails), and the CDN discriminated unions repaired.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Map, Value};

const COMMON_URL: &str = "https://schema.management.azure.com/schemas/common/definitions.json";

/// Provider schema file for a resource type + api-version.
fn schema_file(resource_type: &str, api_version: &str) -> String {
    let provider = resource_type.split('/').next().unwrap();
    let file = match (provider, resource_type) {
        (_, "Microsoft.Network/FrontDoorWebApplicationFirewallPolicies") => {
            "Microsoft.Network.FrontDoor.json"
        }
        (_, t) if t.starts_with("Microsoft.Network/privateDnsZones") => {
            "Microsoft.Network.privateDns.json"
        }
        ("Microsoft.Network", _) => "Microsoft.Network.NRP.json",
        ("Microsoft.Insights", _) => "Microsoft.Insights.Application.json",
        (p, _) => return format!("{api_version}/{p}.json"),
    };
    format!("{api_version}/{file}")
}

/// Rewrite a schema node: drop expression alternatives, `const` -> `enum`, close objects
/// (except allOf members, whose siblings contribute properties), and turn references to the
/// common definitions file into local ones.
fn strict(node: &mut Value, in_all_of: bool) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                if let Some(rest) = r.strip_prefix(COMMON_URL) {
                    *r = rest.replace("#/definitions/", "#/definitions/common__");
                }
            }
            for key in ["oneOf", "anyOf"] {
                if let Some(Value::Array(alts)) = map.get_mut(key) {
                    alts.retain(|a| {
                        !a.get("$ref")
                            .and_then(Value::as_str)
                            .is_some_and(|r| r.ends_with("/definitions/expression"))
                    });
                    if alts.len() == 1 {
                        let only = alts.remove(0);
                        map.remove(key);
                        if let Value::Object(o) = only {
                            for (k, v) in o {
                                map.entry(k).or_insert(v);
                            }
                        }
                    }
                }
            }
            if let Some(c) = map.remove("const") {
                map.insert("enum".into(), json!([c]));
            }
            if in_all_of && map.get("additionalProperties") == Some(&Value::Bool(false)) {
                map.remove("additionalProperties");
            }
            let composite = ["allOf", "oneOf", "anyOf"]
                .iter()
                .any(|k| map.contains_key(*k));
            if map.contains_key("properties")
                && !map.contains_key("additionalProperties")
                && !in_all_of
                && !composite
            {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (k, v) in map.iter_mut() {
                if k == "allOf" {
                    if let Value::Array(items) = v {
                        for it in items {
                            strict(it, true);
                        }
                    }
                } else if k == "properties"
                    || k == "definitions"
                    || k.ends_with("resourceDefinitions")
                {
                    if let Value::Object(props) = v {
                        for p in props.values_mut() {
                            strict(p, false);
                        }
                    }
                } else {
                    strict(v, false);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| strict(i, false)),
        _ => {}
    }
}

struct Schemas {
    dir: std::path::PathBuf,
    common: Map<String, Value>,
    cache: BTreeMap<String, Value>,
}

impl Schemas {
    fn new(shared: &Path) -> Schemas {
        let dir = shared.join("arm-schemas/azure-resource-manager-schemas/schemas");
        let common: Value =
            serde_json::from_str(&common::read(&dir.join("common/definitions.json"))).unwrap();
        let common = common["definitions"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        Schemas {
            dir,
            common,
            cache: BTreeMap::new(),
        }
    }

    /// A validator root for one resource type: the provider file with a `$ref` to its definition.
    fn root_for(&mut self, resource_type: &str, api_version: &str) -> Value {
        if resource_type == "Microsoft.Insights/diagnosticSettings"
            && !self
                .dir
                .join(schema_file(resource_type, api_version))
                .is_file()
        {
            return diagnostic_settings_digest(api_version);
        }
        let file = schema_file(resource_type, api_version);
        let provider = self
            .cache
            .entry(file.clone())
            .or_insert_with(|| {
                let p = self.dir.join(&file);
                let mut v: Value = serde_json::from_str(&common::read(&p)).unwrap();
                let obj = v.as_object_mut().unwrap();
                obj.remove("id");
                obj.remove("$schema");
                let defs = obj
                    .entry("definitions")
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .unwrap();
                for (k, d) in &self.common {
                    defs.insert(format!("common__{k}"), d.clone());
                }
                strict(&mut v, false);
                v
            })
            .clone();
        let key = resource_type
            .split('/')
            .skip(1)
            .collect::<Vec<_>>()
            .join("_");
        let section = provider
            .as_object()
            .unwrap()
            .iter()
            .find(|(k, v)| k.ends_with("esourceDefinitions") && v.get(&key).is_some())
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| panic!("no definition {key} in {file}"));
        let mut root = provider;
        root.as_object_mut().unwrap().insert(
            "allOf".into(),
            json!([{ "$ref": format!("#/{section}/{key}") }]),
        );
        root
    }
}

/// `Microsoft.Insights/diagnosticSettings@2021-05-01-preview` is not in ../shared/arm-schemas.
/// This is a digest of its published definition (azure-resource-manager-schemas
/// schemas/2021-05-01-preview/Microsoft.Insights.json: `extension_resourceDefinitions.
/// diagnosticSettings`, `DiagnosticSettingsAutoGenerated`, `LogSettings`, `MetricSettings`,
/// `RetentionPolicy`; read 2026-12-06), written already strict: objects closed, no
/// template-expression alternatives.
fn diagnostic_settings_digest(api_version: &str) -> Value {
    let retention = json!({
        "type": "object", "additionalProperties": false, "required": ["enabled", "days"],
        "properties": { "enabled": { "type": "boolean" }, "days": { "type": "integer", "minimum": 0 } }
    });
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "properties", "apiVersion", "type"],
        "properties": {
            "apiVersion": { "enum": [api_version] },
            "name": { "type": "string" },
            "type": { "enum": ["Microsoft.Insights/diagnosticSettings"] },
            "properties": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "eventHubAuthorizationRuleId": { "type": "string" },
                    "eventHubName": { "type": "string" },
                    "logAnalyticsDestinationType": { "type": "string" },
                    "marketplacePartnerId": { "type": "string" },
                    "serviceBusRuleId": { "type": "string" },
                    "storageAccountId": { "type": "string" },
                    "workspaceId": { "type": "string" },
                    "logs": { "type": "array", "items": {
                        "type": "object", "additionalProperties": false, "required": ["enabled"],
                        "properties": {
                            "category": { "type": "string" },
                            "categoryGroup": { "type": "string" },
                            "enabled": { "type": "boolean" },
                            "retentionPolicy": retention
                        }
                    }},
                    "metrics": { "type": "array", "items": {
                        "type": "object", "additionalProperties": false, "required": ["enabled"],
                        "properties": {
                            "category": { "type": "string" },
                            "enabled": { "type": "boolean" },
                            "retentionPolicy": retention,
                            "timeGrain": { "type": "string" }
                        }
                    }}
                }
            }
        }
    })
}

/// Wrap a PUT body into the ARM template resource shape the schemas describe.
fn template_resource(id: &str, resource_type: &str, api_version: &str, body: &Value) -> Value {
    let segments: Vec<&str> = id.split('/').collect();
    let depth = resource_type.split('/').count() - 1;
    // Names of the type's segments, from the end of the id: .../t1/n1/t2/n2 -> "n1/n2".
    let names: Vec<&str> = (0..depth)
        .map(|i| segments[segments.len() - 1 - 2 * (depth - 1 - i)])
        .collect();
    let mut wrapped = body.as_object().cloned().unwrap_or_default();
    // accounts/raiPolicies publishes the pattern of its own name segment only (no `/`), which
    // a full template name "account/policy" can never match: validate the segment.
    let name = if resource_type == "Microsoft.CognitiveServices/accounts/raiPolicies" {
        names.last().copied().unwrap_or_default().to_string()
    } else {
        names.join("/")
    };
    wrapped.insert("name".into(), json!(name));
    wrapped.insert("type".into(), json!(resource_type));
    wrapped.insert("apiVersion".into(), json!(api_version));
    Value::Object(wrapped)
}

/// Properties Azure accepts and documents elsewhere that the published schema of the type lacks:
/// (type, api-version, property under `properties`, accepted values, source). Each is taken out
/// of the body before validation, and only with one of its accepted values.
const UNPUBLISHED: &[(&str, &str, &str, &[&str], &str)] = &[(
    "Microsoft.Insights/components",
    "2020-02-02",
    "CustomMetricsOptedInType",
    &["WithDimensions", "NoDimensions", "NoMeasurements", "Off"],
    "https://github.com/Azure/bicep-types-az/issues/2048 (the azure-openai-emit-token-metric prerequisite 'custom metrics with dimensions')",
)];

/// Object-valued properties Azure accepts that the published schema lacks: (type, api-version,
/// JSON pointer under the body, the one accepted value, source). Taken out only when equal.
const UNPUBLISHED_OBJECTS: &[(&str, &str, &str, &str, &str)] = &[(
    "Microsoft.ApiManagement/service/backends",
    "2024-05-01",
    "/properties/credentials/managedIdentity",
    r#"{"resource":"https://cognitiveservices.azure.com"}"#,
    "https://learn.microsoft.com/azure/api-management/llm-content-safety-policy (prerequisites: the Content Safety backend's credentials are managed identity with resource https://cognitiveservices.azure.com; read 2026-12-06). The 2024-05-01 schema and Bicep types lack credentials.managedIdentity (Azure-Samples/AI-Gateway suppresses BCP037 for it)",
)];

/// Preview api-versions not in ../shared/arm-schemas, each used for one property no GA version
/// has: (type, preview api-version, GA api-version whose schema covers the rest of the body,
/// property under `properties`, a digest of the property's published definition, written strict).
/// The property is checked against the digest, then the rest of the body against the GA schema.
fn preview_additions() -> Vec<(
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Value,
)> {
    // `largeLanguageModel` of apis/diagnostics (the change log adds it in 2024-06-01-preview,
    // nothing else changes; logs enabled|disabled, requests/responses { messages: all|errors,
    // maxSizeInBytes }):
    // https://learn.microsoft.com/azure/templates/microsoft.apimanagement/change-log/service/apis/diagnostics,
    // https://learn.microsoft.com/azure/templates/microsoft.apimanagement/2024-06-01-preview/service/apis/diagnostics
    // (read 2026-12-06).
    let messages = json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "messages": { "enum": ["all", "errors"] },
            "maxSizeInBytes": { "type": "integer", "minimum": 0 }
        }
    });
    vec![(
        "Microsoft.ApiManagement/service/apis/diagnostics",
        "2024-06-01-preview",
        "2024-05-01",
        "largeLanguageModel",
        json!({
            "type": "object", "additionalProperties": false,
            "properties": {
                "logs": { "enum": ["enabled", "disabled"] },
                "requests": messages,
                "responses": messages
            }
        }),
    )]
}

fn without_unpublished(ty: &str, api: &str, mut body: Value) -> Value {
    for (t, a, pointer, value, _source) in UNPUBLISHED_OBJECTS {
        if ty == *t && api == *a {
            let expected: Value = serde_json::from_str(value).unwrap();
            if body.pointer(pointer) == Some(&expected) {
                let (parent, key) = pointer.rsplit_once('/').unwrap();
                if let Some(o) = body.pointer_mut(parent).and_then(Value::as_object_mut) {
                    o.remove(key);
                    if o.is_empty() {
                        let (grand, k) = parent.rsplit_once('/').unwrap();
                        if let Some(g) = body.pointer_mut(grand).and_then(Value::as_object_mut) {
                            g.remove(k);
                        }
                    }
                }
            }
        }
    }
    for (t, a, prop, values, _source) in UNPUBLISHED {
        if ty == *t && api == *a {
            let props = body["properties"].as_object_mut();
            if let Some(props) = props {
                if props
                    .get(*prop)
                    .and_then(Value::as_str)
                    .is_some_and(|v| values.contains(&v))
                {
                    props.remove(*prop);
                }
            }
        }
    }
    body
}

fn render_example(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = common::bin()
        .args(["render"])
        .arg(common::example(name))
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "render {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// Every request file of a render: (id, type, api-version, body).
fn requests(dir: &Path) -> Vec<(String, String, String, Value)> {
    let index: Value = serde_json::from_str(&common::read(&dir.join("index.json"))).unwrap();
    index["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let text = common::read(&dir.join(r["file"].as_str().unwrap()));
            let (head, body) = text.split_once("\n\n").expect("headers, blank line, body");
            let first = head.lines().next().unwrap();
            assert!(first.starts_with("PUT /subscriptions/"), "{first}");
            assert!(
                first.ends_with(&format!(
                    "?api-version={}",
                    r["apiVersion"].as_str().unwrap()
                )),
                "{first}"
            );
            (
                r["id"].as_str().unwrap().to_string(),
                r["type"].as_str().unwrap().to_string(),
                r["apiVersion"].as_str().unwrap().to_string(),
                serde_json::from_str(body).unwrap(),
            )
        })
        .collect()
}

#[test]
#[cfg_attr(
    aoai_no_shared,
    ignore = "needs ../shared (arm-schemas, apim-policy) or AOAI_ARCH_SHARED; then `touch build.rs`"
)]
fn every_rendered_body_validates_against_its_published_schema() {
    let Some(shared) = common::shared("every_rendered_body_validates_against_its_published_schema")
    else {
        return;
    };
    let mut schemas = Schemas::new(&shared);
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut open_types = std::collections::BTreeSet::new();
    for example in common::EXAMPLES {
        let dir = render_example(example);
        for (id, ty, api, mut body) in requests(dir.path()) {
            let mut api = api;
            if let Some((_, preview, ga, prop, digest)) = preview_additions()
                .into_iter()
                .find(|p| p.0 == ty && p.1 == api)
            {
                let value = body["properties"]
                    .as_object_mut()
                    .and_then(|p| p.remove(prop))
                    .unwrap_or_else(|| panic!("{ty}@{preview} is used for {prop}: {id}"));
                let v = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft4)
                    .build(&digest)
                    .unwrap();
                let errors: Vec<String> = v.iter_errors(&value).map(|e| e.to_string()).collect();
                if !errors.is_empty() {
                    failures.push(format!("{example}: {ty}@{preview} {prop}: {errors:?}"));
                }
                api = ga.to_string();
            }
            let root = schemas.root_for(&ty, &api);
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft4)
                .build(&root)
                .unwrap_or_else(|e| panic!("schema for {ty}@{api} does not compile: {e}"));
            let body = without_unpublished(&ty, &api, body);
            let instance = template_resource(&id, &ty, &api, &body);
            let errors: Vec<String> = validator
                .iter_errors(&instance)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            if !errors.is_empty() {
                failures.push(format!(
                    "{example}: {ty}@{api} {id}:\n  {}",
                    errors.join("\n  ")
                ));
            }
            // The check has teeth for this type: an unknown property is refused.
            let mut typo = instance.clone();
            typo["properties"]["zzNotAProperty"] = json!(1);
            if validator.is_valid(&typo) {
                open_types.insert(ty.clone());
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        open_types.is_empty(),
        "schemas that accept unknown properties: {open_types:?}"
    );
    assert!(checked > 80, "only {checked} bodies checked");
}

#[test]
#[cfg_attr(
    aoai_no_shared,
    ignore = "needs ../shared (arm-schemas, apim-policy) or AOAI_ARCH_SHARED; then `touch build.rs`"
)]
fn strict_schemas_catch_a_misspelled_property() {
    let Some(shared) = common::shared("strict_schemas_catch_a_misspelled_property") else {
        return;
    };
    let mut schemas = Schemas::new(&shared);
    let dir = render_example("afd");
    let (id, ty, api, mut body) = requests(dir.path())
        .into_iter()
        .find(|r| r.1 == "Microsoft.Cdn/profiles/originGroups")
        .unwrap();
    let root = schemas.root_for(&ty, &api);
    let v = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&root)
        .unwrap();
    assert!(v.is_valid(&template_resource(&id, &ty, &api, &body)));
    let hp = body["properties"]["healthProbeSettings"]
        .as_object_mut()
        .unwrap();
    let path = hp.remove("probePath").unwrap();
    hp.insert("probePth".into(), path);
    assert!(!v.is_valid(&template_resource(&id, &ty, &api, &body)));
}

/// The body of a multi-region API Management injected in a virtual network (`apim.network`,
/// a subnet per additional region), which no example renders, validates too.
#[test]
fn injected_multi_region_apim_body_validates() {
    let Some(shared) = common::shared("injected_multi_region_apim_body_validates") else {
        return;
    };
    let subnet = |r: &str| {
        format!("/subscriptions/00000000-0000-0000-0000-000000000003/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet-{r}/subnets/apim")
    };
    let text = common::read(&common::example("afd-apim"))
        .replacen(
            "  primaryWeight: 50\n",
            &format!(
                "  primaryWeight: 50\n  network: {{ mode: External, subnetId: {} }}\n",
                subnet("eastus2")
            ),
            1,
        )
        .replacen(
            "{ region: westeurope, capacity: 1,",
            &format!(
                "{{ region: westeurope, subnetId: {}, capacity: 1,",
                subnet("westeurope")
            ),
            1,
        )
        .replacen(
            "{ region: japaneast, capacity: 1,",
            &format!(
                "{{ region: japaneast, subnetId: {}, capacity: 1,",
                subnet("japaneast")
            ),
            1,
        )
        .replacen("  privateLink: true\n", "", 1);
    let dir = tempfile::tempdir().unwrap();
    let bp = dir.path().join("injected.yaml");
    std::fs::write(&bp, text).unwrap();
    let out_dir = dir.path().join("out");
    let out = common::bin()
        .arg("render")
        .arg(&bp)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut schemas = Schemas::new(&shared);
    let (id, ty, api, body) = requests(&out_dir)
        .into_iter()
        .find(|(_, ty, _, _)| ty == "Microsoft.ApiManagement/service")
        .expect("APIM service request");
    assert_eq!(body["properties"]["virtualNetworkType"], "External");
    assert_eq!(
        body["properties"]["additionalLocations"][1]["virtualNetworkConfiguration"]
            ["subnetResourceId"],
        subnet("japaneast")
    );
    let root = schemas.root_for(&ty, &api);
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&root)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&template_resource(&id, &ty, &api, &body))
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}
