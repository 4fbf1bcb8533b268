//! Hostile values (quotes, `<`, `&`, `)`, `{{`, newlines, non-ASCII) go through every template:
//! JSON still parses and gives the value back unchanged; the policy still parses as XML once
//! expressions are masked, and the value comes back out of attributes, text and C# literals.

use aoai_arch::model::{Model, NamedValueM};
use aoai_arch::render::{self, Templates};
use serde_json::Value;

const H: &str = "x\"y'z<w>&v)u(t{{s}}r\nq\\p@(o)ñ漢";

fn hostile_model(example: &str) -> Model {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("blueprints")
        .join(format!("{example}.yaml"));
    let loaded = aoai_arch::blueprint::load(&path).unwrap();
    let mut m = Model::build(&loaded.blueprint);
    m.tags.insert("owner".into(), H.into());
    m.deployment.model_version = H.into();
    if let Some(a) = m.apim.as_mut() {
        a.publisher_name = H.into();
        a.named_values.push(NamedValueM {
            name: "hostile".into(),
            id: format!("{}/namedValues/hostile", a.id),
            value: H.into(),
        });
        if let Some(j) = a.jwt.as_mut() {
            j.audiences = vec![H.into()];
            j.issuers = vec![H.into()];
            j.caller_header = H.into();
            j.client_applications = vec![H.into()];
            j.required_roles = vec![H.into()];
        }
        a.logged_header = H.into();
        for r in a.regions.iter_mut() {
            r.display = format!("{H}{}", r.region);
        }
        for p in a.pools.iter_mut() {
            p.description = H.into();
        }
        if let Some(b) = a.budget.as_mut() {
            b.contact_emails = vec![H.into()];
        }
    }
    if let Some(f) = m.front_door.as_mut() {
        f.probe_path = H.into();
        for r in f.rule_sets.iter_mut() {
            r.version = H.into();
        }
        if let Some(d) = f.custom_domain.as_mut() {
            d.host_name = H.into();
        }
    }
    m
}

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k.clone());
            strings(x, out)
        }),
        _ => {}
    }
}

#[test]
fn hostile_values_survive_every_json_template() {
    let templates = Templates::load(None).unwrap();
    let mut types_with_value = std::collections::BTreeSet::new();
    for example in ["afd", "apim", "afd-apim"] {
        let m = hostile_model(example);
        let r = render::render(&m, &templates).unwrap();
        for res in &r.resources {
            let v: Value =
                serde_json::from_str(&res.body).unwrap_or_else(|e| panic!("{}: {e}", res.id));
            let mut all = Vec::new();
            strings(&v, &mut all);
            if all.iter().any(|s| s.contains(H)) {
                types_with_value.insert(res.template.clone());
            }
        }
    }
    // Every template that carries a user string carried it back unchanged.
    for t in [
        "arm/resource-group.json.hbs",
        "arm/aoai-account.json.hbs",
        "arm/aoai-deployment.json.hbs",
        "arm/apim-service.json.hbs",
        "arm/apim-named-value.json.hbs",
        "arm/apim-backend-pool.json.hbs",
        "arm/budget.json.hbs",
        "arm/afd-origin-group.json.hbs",
        "arm/waf-policy.json.hbs",
        "arm/afd-custom-domain.json.hbs",
        "arm/apim-api-diagnostic.json.hbs",
    ] {
        assert!(types_with_value.contains(t), "{t} lost the hostile value");
    }
}

#[test]
fn hostile_values_survive_the_policy_template() {
    let templates = Templates::load(None).unwrap();
    for example in ["apim", "afd-apim"] {
        let m = hostile_model(example);
        let xml = render::render_policy(&templates, &m).unwrap();
        let masked = apim_policy::mask(&xml).unwrap_or_else(|d| panic!("{example}: {d:?}\n{xml}"));
        let doc = roxmltree::Document::parse(&masked.text)
            .unwrap_or_else(|e| panic!("{example}: {e}\n{}", masked.text));
        // Attribute and text values (outside expressions) come back exactly.
        let audience = doc
            .descendants()
            .find(|n| n.has_tag_name("audience"))
            .unwrap();
        assert_eq!(audience.text(), Some(H));
        let header = doc
            .descendants()
            .find(|n| n.has_tag_name("set-header"))
            .unwrap();
        assert_eq!(header.attribute("name"), Some(H));
        // Inside expressions: the C# string literal decodes to the value.
        let exprs: Vec<String> = masked
            .expressions
            .iter()
            .map(|e| e.source.clone())
            .collect();
        if example == "afd-apim" {
            let region_expr = exprs
                .iter()
                .find(|e| e.contains("context.Deployment.Region") && e.contains("westeurope"))
                .unwrap_or_else(|| panic!("no region routing expression in {exprs:#?}"));
            let decoded = aoai_arch::render::escape::csharp_unescape(
                &aoai_arch::render::escape::xml_unescape(region_expr),
            );
            assert!(decoded.contains(&format!("\"{H}westeurope\"")), "{decoded}");
        }
        // Who may call: the client application and role values come back exactly.
        for (parent, tag) in [
            ("client-application-ids", "application-id"),
            ("claim", "value"),
        ] {
            let n = doc
                .descendants()
                .filter(|n| n.has_tag_name(parent))
                .flat_map(|n| n.children())
                .find(|n| n.has_tag_name(tag))
                .unwrap_or_else(|| panic!("{example}: no {tag}"));
            assert_eq!(n.text(), Some(H), "{example}: {tag}");
        }
        // The caller header: deleted first, then set from the token, both by its exact name;
        // no expression reads it (a client's value must not reach logs or metrics).
        let named: Vec<Option<&str>> = doc
            .descendants()
            .filter(|n| n.has_tag_name("set-header") && n.attribute("name") == Some(H))
            .map(|n| n.attribute("exists-action"))
            .collect();
        assert_eq!(named, vec![Some("delete"), Some("override")], "{example}");
        assert!(
            !exprs
                .iter()
                .any(|e| e.contains("Request.Headers.GetValueOrDefault(")),
            "{exprs:#?}"
        );
        // A user `{{...}}` never becomes a named-value reference.
        assert!(
            !masked
                .expressions
                .iter()
                .any(|e| e.source.contains("{{s}}")),
            "user text became a named value"
        );
    }
}
