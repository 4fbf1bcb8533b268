//! The Handlebars registries: templates embedded in the binary, optionally overridden from a
//! directory, with escaping fitted to the language each template writes.

use std::path::Path;

use anyhow::{bail, Context, Result};
use handlebars::{
    Context as HbContext, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};

use super::escape;

macro_rules! embedded {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../templates/", $path)))),*]
    };
}

/// Every template the binary ships: `(relative path, text)`.
pub const EMBEDDED: &[(&str, &str)] = embedded![
    "arm/resource-group.json.hbs",
    "arm/aoai-account.json.hbs",
    "arm/aoai-deployment.json.hbs",
    "arm/content-safety-account.json.hbs",
    "arm/rai-policy.json.hbs",
    "arm/apim-backend-content-safety.json.hbs",
    "arm/private-endpoint.json.hbs",
    "arm/virtual-network.json.hbs",
    "arm/network-security-group.json.hbs",
    "arm/virtual-network-peering.json.hbs",
    "arm/private-dns-zone-group.json.hbs",
    "arm/private-dns-zone.json.hbs",
    "arm/private-dns-vnet-link.json.hbs",
    "arm/log-analytics.json.hbs",
    "arm/app-insights.json.hbs",
    "arm/eventhub-namespace.json.hbs",
    "arm/eventhub.json.hbs",
    "arm/role-assignment.json.hbs",
    "arm/budget.json.hbs",
    "arm/apim-service.json.hbs",
    "arm/apim-named-value.json.hbs",
    "arm/apim-backend.json.hbs",
    "arm/apim-backend-pool.json.hbs",
    "arm/apim-api.json.hbs",
    "arm/apim-api-operation.json.hbs",
    "arm/apim-api-policy.json.hbs",
    "arm/apim-logger-appinsights.json.hbs",
    "arm/apim-logger-eventhub.json.hbs",
    "arm/apim-api-diagnostic.json.hbs",
    "arm/afd-profile.json.hbs",
    "arm/afd-endpoint.json.hbs",
    "arm/afd-origin-group.json.hbs",
    "arm/afd-origin.json.hbs",
    "arm/afd-route.json.hbs",
    "arm/waf-policy.json.hbs",
    "arm/afd-security-policy.json.hbs",
    "arm/afd-custom-domain.json.hbs",
    "arm/diagnostic-setting.json.hbs",
    "arm/apim-azuremonitor-diagnostic.json.hbs",
    "arm/apim-health-api.json.hbs",
    "arm/apim-product.json.hbs",
    "arm/apim-product-api-link.json.hbs",
    "arm/apim-product-policy.json.hbs",
    "arm/apim-subscription.json.hbs",
    "policies/team-limits.xml.hbs",
    "policies/product.xml.hbs",
    "policies/api.xml.hbs",
    "policies/health.xml.hbs",
    "queries/token-usage.kql.hbs",
    "queries/prompts-and-responses.kql.hbs",
    "queries/gateway-logs.kql.hbs",
    "queries/front-door.kql.hbs",
    "queries/accounts.kql.hbs",
    "queries/team-usage.kql.hbs",
];

/// The three registries; a template is registered in the one matching its extension.
pub struct Templates {
    json: Handlebars<'static>,
    xml: Handlebars<'static>,
}

impl Templates {
    /// Embedded templates, with any file of the same relative path in `overrides` taking its place.
    pub fn load(overrides: Option<&Path>) -> Result<Templates> {
        let mut json = Handlebars::new();
        json.set_strict_mode(true);
        json.register_escape_fn(escape::json_string_content);
        json.register_helper("json", Box::new(json_helper));
        let mut xml = Handlebars::new();
        xml.set_strict_mode(true);
        xml.register_escape_fn(escape::xml);
        xml.register_helper("cs", Box::new(cs_helper));
        xml.register_helper("nv", Box::new(named_value_helper));

        if let Some(dir) = overrides {
            check_override_dir(dir)?;
        }
        for (name, text) in EMBEDDED {
            let text = match overrides.map(|d| d.join(name)) {
                Some(p) if p.exists() => std::fs::read_to_string(&p)
                    .with_context(|| format!("reading template override {}", p.display()))?,
                _ => text.to_string(),
            };
            let reg = if name.ends_with(".xml.hbs") {
                &mut xml
            } else {
                // ARM bodies and KQL share JSON's string escaping (backslash escapes in "...").
                &mut json
            };
            reg.register_template_string(name, text)
                .with_context(|| format!("template {name} does not parse"))?;
        }
        Ok(Templates { json, xml })
    }

    /// The registry whose escaping fits the template's target language.
    fn registry(&self, name: &str) -> &Handlebars<'static> {
        if name.ends_with(".xml.hbs") {
            &self.xml
        } else {
            &self.json
        }
    }

    pub fn render(&self, name: &str, data: &serde_json::Value) -> Result<String> {
        self.registry(name)
            .render(name, data)
            .with_context(|| format!("rendering template {name}"))
    }

    /// Render with a prepared context: the model is converted to a handlebars context once per
    /// blueprint instead of once per resource.
    pub fn render_context(&self, name: &str, ctx: &handlebars::Context) -> Result<String> {
        self.registry(name)
            .render_with_context(name, ctx)
            .with_context(|| format!("rendering template {name}"))
    }
}

/// A typo in an override file name would silently fall back to the embedded template.
fn check_override_dir(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        bail!("--templates {}: not a directory", dir.display());
    }
    let known: Vec<String> = EMBEDDED.iter().map(|(n, _)| n.to_string()).collect();
    for sub in ["", "arm", "policies", "queries"] {
        let d = dir.join(sub);
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() || !p.to_string_lossy().ends_with(".hbs") {
                continue;
            }
            let rel = p
                .strip_prefix(dir)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            if !known.contains(&rel) {
                let hint = crate::blueprint::closest(&rel, &known)
                    .map(|c| format!(" (did you mean {c}?)"))
                    .unwrap_or_default();
                bail!(
                    "template override {} does not replace any template{hint}",
                    p.display()
                );
            }
        }
    }
    Ok(())
}

fn param<'a>(h: &'a Helper, name: &str) -> Result<&'a serde_json::Value, RenderError> {
    h.param(0)
        .map(|p| p.value())
        .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("helper", 0).into())
        .map_err(|e: RenderError| RenderErrorReason::Other(format!("{name}: {e}")).into())
}

/// `{{json value}}`: any value as a JSON literal (strings quoted and escaped).
fn json_helper(
    h: &Helper,
    _: &Handlebars,
    _: &HbContext,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let v = param(h, "json")?;
    out.write(&serde_json::to_string(v).map_err(|e| RenderErrorReason::Other(e.to_string()))?)?;
    Ok(())
}

/// `{{cs value}}`: a string placed inside a C# string literal of a policy expression.
fn cs_helper(
    h: &Helper,
    _: &Handlebars,
    _: &HbContext,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let v = param(h, "cs")?;
    let s = match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    out.write(&escape::csharp_in_xml(&s))?;
    Ok(())
}

/// `{{nv "name"}}`: an APIM named-value reference, `{{name}}`, which Handlebars syntax would
/// otherwise swallow.
fn named_value_helper(
    h: &Helper,
    _: &Handlebars,
    _: &HbContext,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let v = param(h, "nv")?;
    let name = v.as_str().unwrap_or_default();
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !ok {
        return Err(RenderErrorReason::Other(format!("`{name}` is not a named value name")).into());
    }
    out.write(&format!("{{{{{name}}}}}"))?;
    Ok(())
}
