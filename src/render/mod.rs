//! Model -> resource graph: one ARM request per resource (id, type, api-version, exact body
//! bytes, dependencies), the policy XML, and the monitoring queries.

pub mod escape;
pub mod output;
pub mod templates;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{anyhow, Context, Result};
use serde::Serialize;
use serde_json::{json, Value};

use crate::model::{self, api, Model};
pub use templates::Templates;

/// One ARM PUT.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// Full ARM resource id.
    pub id: String,
    /// `Microsoft.X/type[/child...]`.
    pub resource_type: String,
    pub api_version: &'static str,
    /// Template that produced the body.
    pub template: String,
    /// The exact request body: pretty-printed JSON, what `apply` sends (after resolving
    /// `${after-apply:...}` placeholders).
    #[serde(skip)]
    pub body: String,
    /// Ids of resources that must exist (and have succeeded) first.
    pub depends_on: Vec<String>,
}

impl Resource {
    /// The ARM id the request goes to: `id` itself, or for a step node (`<id>#<step>`, a second
    /// request for a resource, see [`model::step_key`]) the part before the `#`.
    pub fn arm_id(&self) -> &str {
        self.id.split('#').next().unwrap_or(&self.id)
    }

    pub fn body_json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Everything `render` produces.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// In dependency order (every resource after all of its dependencies).
    pub resources: Vec<Resource>,
    /// `(file name, XML)` of each policy.
    pub policies: Vec<(String, String)>,
    /// `(file name, KQL)`.
    pub queries: Vec<(String, String)>,
}

struct Builder<'a> {
    templates: &'a Templates,
    model: &'a Model,
    /// `{"m": model}` plus, during one render, the resource's own values.
    ctx: handlebars::Context,
    resources: Vec<Resource>,
    /// The API policy, rendered once for its `apis/policies` body and its own file.
    policy: Option<String>,
    /// The health operation's API policy (`afd-apim`).
    health_policy: Option<String>,
    /// `(file name, XML)` of each team's product policy.
    team_policies: Vec<(String, String)>,
}

/// A private endpoint and, when it registers in private DNS zones, its zone group; `r` is the
/// context both templates read.
fn add_private_endpoint(
    b: &mut Builder<'_>,
    pe: &crate::model::PrivateEndpointM,
    r: Value,
) -> Result<()> {
    b.add(
        &pe.id,
        "Microsoft.Network/privateEndpoints",
        api::NETWORK,
        "private-endpoint",
        json!({ "r": r }),
        &[],
    )?;
    if !pe.zone_configs.is_empty() {
        b.add(
            &pe.zone_group_id,
            "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
            api::NETWORK,
            "private-dns-zone-group",
            json!({ "r": r }),
            &[],
        )?;
    }
    Ok(())
}

impl Builder<'_> {
    fn add(
        &mut self,
        id: &str,
        resource_type: &str,
        api_version: &'static str,
        template: &str,
        extra: Value,
        explicit_deps: &[&str],
    ) -> Result<()> {
        // The per-resource values go into the shared context next to `m` for this one render.
        let keys: Vec<String> = match extra {
            Value::Object(e) => {
                let keys = e.keys().cloned().collect();
                if let Value::Object(d) = self.ctx.data_mut() {
                    d.extend(e);
                }
                keys
            }
            _ => Vec::new(),
        };
        let name = format!("arm/{template}.json.hbs");
        let text = self.templates.render_context(&name, &self.ctx);
        if let Value::Object(d) = self.ctx.data_mut() {
            for k in &keys {
                d.remove(k);
            }
        }
        let text = text?;
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            anyhow!(
                "template {name} produced invalid JSON for {id}: {e}\n--- rendered text ---\n{text}"
            )
        })?;
        let body = serde_json::to_string_pretty(&value)? + "\n";
        self.resources.push(Resource {
            id: id.to_string(),
            resource_type: resource_type.to_string(),
            api_version,
            template: name,
            body,
            depends_on: explicit_deps.iter().map(|s| s.to_string()).collect(),
        });
        Ok(())
    }
}

pub fn render(model: &Model, templates: &Templates) -> Result<Rendered> {
    let mut b = Builder {
        templates,
        model,
        ctx: handlebars::Context::from(json!({ "m": serde_json::to_value(model)? })),
        resources: Vec::new(),
        policy: None,
        health_policy: None,
        team_policies: Vec::new(),
    };
    let m = model;
    b.add(
        &m.rg_id,
        "Microsoft.Resources/resourceGroups",
        api::RESOURCES,
        "resource-group",
        json!({}),
        &[],
    )?;

    // Virtual networks (subnets inline, so a later PUT of the network never drops one), their
    // security groups and peerings.
    for g in &m.network_security_groups {
        b.add(
            &g.id,
            "Microsoft.Network/networkSecurityGroups",
            api::NETWORK,
            "network-security-group",
            json!({ "r": g }),
            &[],
        )?;
    }
    for v in &m.networks {
        b.add(
            &v.id,
            "Microsoft.Network/virtualNetworks",
            api::NETWORK,
            "virtual-network",
            json!({ "r": v }),
            &[],
        )?;
    }
    for v in &m.networks {
        for p in &v.peerings {
            b.add(
                &p.id,
                "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
                api::NETWORK,
                "virtual-network-peering",
                json!({ "r": p }),
                &[],
            )?;
        }
    }

    // Azure OpenAI accounts, their deployment, private endpoints.
    for a in &m.accounts {
        let r = serde_json::to_value(a)?;
        b.add(
            &a.id,
            "Microsoft.CognitiveServices/accounts",
            api::COGNITIVE,
            "aoai-account",
            json!({ "r": r }),
            &[],
        )?;
        // Azure writes one deployment of an account at a time (RequestConflict otherwise):
        // each waits for the one before it.
        for p in &a.rai_policies {
            b.add(
                &p.id,
                "Microsoft.CognitiveServices/accounts/raiPolicies",
                api::COGNITIVE,
                "rai-policy",
                json!({ "p": p }),
                &[],
            )?;
        }
        let mut previous: Option<&str> = None;
        for d in &a.deployments {
            // After the deployment before it, and after its custom content filter.
            let mut deps: Vec<&str> = previous.into_iter().collect();
            deps.extend(
                a.rai_policies
                    .iter()
                    .filter(|p| p.name == d.rai_policy_name)
                    .map(|p| p.id.as_str()),
            );
            b.add(
                &d.id,
                "Microsoft.CognitiveServices/accounts/deployments",
                api::COGNITIVE,
                "aoai-deployment",
                json!({ "r": r, "d": d }),
                &deps,
            )?;
            previous = Some(&d.id);
        }
    }
    if let Some(cs) = &m.content_safety {
        let r = serde_json::to_value(cs)?;
        b.add(
            &cs.id,
            "Microsoft.CognitiveServices/accounts",
            api::COGNITIVE,
            "content-safety-account",
            json!({ "r": r }),
            &[],
        )?;
        if let Some(pe) = &cs.private_endpoint {
            let r = json!({ "region": cs.region, "id": cs.id, "privateEndpoint": pe });
            add_private_endpoint(&mut b, pe, r)?;
        }
    }
    for z in m.private_dns.iter().flat_map(|d| &d.zones) {
        b.add(
            &z.zone_id,
            "Microsoft.Network/privateDnsZones",
            api::PRIVATE_DNS,
            "private-dns-zone",
            json!({}),
            &[],
        )?;
        for l in &z.links {
            b.add(
                &l.id,
                "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
                api::PRIVATE_DNS,
                "private-dns-vnet-link",
                json!({ "r": l }),
                &[],
            )?;
        }
    }
    for a in &m.accounts {
        if let Some(pe) = &a.private_endpoint {
            add_private_endpoint(&mut b, pe, serde_json::to_value(a)?)?;
        }
    }

    if let Some(d) = &m.diagnostics {
        b.add(
            &d.workspace_id,
            "Microsoft.OperationalInsights/workspaces",
            api::LOG_ANALYTICS,
            "log-analytics",
            json!({}),
            &[],
        )?;
    }
    // Callers of the accounts (`afd`): the data-plane role on each account.
    for c in &m.caller_roles {
        b.add(
            &c.id,
            "Microsoft.Authorization/roleAssignments",
            api::AUTHORIZATION,
            "role-assignment",
            json!({ "r": {
                "roleId": model::ROLE_OPENAI_USER,
                "principalId": c.principal_id,
                "principalType": c.principal_type,
                "description": format!("Caller of Azure OpenAI {} (Front Door balances every account)", c.account),
            }}),
            &[],
        )?;
    }
    if let Some(apim) = &m.apim {
        render_apim(&mut b, apim, true)?;
    }
    if let Some(fd) = &m.front_door {
        render_front_door(&mut b, fd)?;
    }
    // Resource logs of every service into the workspace (extension resources of each).
    for s in m.diagnostics.iter().flat_map(|d| &d.settings) {
        b.add(
            &s.id,
            "Microsoft.Insights/diagnosticSettings",
            api::DIAGNOSTIC_SETTINGS,
            "diagnostic-setting",
            json!({ "r": s }),
            &[],
        )?;
    }
    if let Some(apim) = &m.apim {
        render_lock_down(&mut b, apim)?;
    }
    let mut instance_policies = Vec::new();
    for inst in &m.apim_instances {
        // The same templates with the instance in place of the primary service.
        let mut mi = m.clone();
        mi.apim = Some(inst.apim.clone());
        mi.accounts = inst.accounts.clone();
        mi.location = inst.location.clone();
        mi.apim_instances = Vec::new();
        let mut bi = Builder {
            templates,
            model: &mi,
            ctx: handlebars::Context::from(json!({ "m": serde_json::to_value(&mi)? })),
            resources: Vec::new(),
            policy: None,
            health_policy: None,
            team_policies: Vec::new(),
        };
        render_apim(&mut bi, &inst.apim, false)?;
        render_lock_down(&mut bi, &inst.apim)?;
        if let Some(p) = bi.policy.take() {
            instance_policies.push((format!("{}-{}.xml", inst.apim.api_name, inst.apim.name), p));
        }
        if let (Some(p), Some(h)) = (bi.health_policy.take(), &inst.apim.health) {
            instance_policies.push((format!("{}-{}.xml", h.api_name, inst.apim.name), p));
        }
        b.resources.extend(bi.resources);
    }

    let mut queries = Vec::new();
    let mut policies = Vec::new();
    if let Some(apim) = &m.apim {
        if let Some(policy) = b.policy.take() {
            policies.push((format!("{}.xml", apim.api_name), policy));
        }
        if let (Some(policy), Some(h)) = (b.health_policy.take(), &apim.health) {
            policies.push((format!("{}.xml", h.api_name), policy));
        }
        policies.append(&mut b.team_policies);
        policies.extend(instance_policies);
        if apim.logging.is_some() {
            let mut names = vec!["token-usage", "prompts-and-responses"];
            if !apim.teams.is_empty() && apim.logging.as_ref().is_some_and(|l| l.token_metrics) {
                names.push("team-usage");
            }
            for q in names {
                let text = templates.render_context(&format!("queries/{q}.kql.hbs"), &b.ctx)?;
                queries.push((format!("{q}.kql"), text));
            }
        }
    }
    // Queries of the resource logs the diagnostic settings send.
    if m.diagnostics.is_some() {
        let mut names = Vec::new();
        if m.apim.is_some() {
            names.push("gateway-logs");
        }
        if m.front_door.is_some() {
            names.push("front-door");
        }
        names.push("accounts");
        for q in names {
            let text = templates.render_context(&format!("queries/{q}.kql.hbs"), &b.ctx)?;
            queries.push((format!("{q}.kql"), text));
        }
    }

    let resources = order(link_dependencies(after_peerings(m, b.resources)))?;
    Ok(Rendered {
        resources,
        policies,
        queries,
    })
}

/// The API policy XML (also embedded in the `apis/policies` body).
pub fn render_policy(templates: &Templates, m: &Model) -> Result<String> {
    templates.render("policies/api.xml.hbs", &json!({ "m": m }))
}

/// A team's product policy.
pub fn render_product_policy(
    templates: &Templates,
    m: &Model,
    t: &model::teams::TeamM,
) -> Result<String> {
    templates.render("policies/product.xml.hbs", &json!({ "m": m, "t": t }))
}

/// Each team: its product, the product's link to the API and policy, its subscriptions (no
/// keys: API Management generates them, `output --team --show-key` reads one).
fn render_teams(b: &mut Builder, apim: &model::ApimM) -> Result<()> {
    for t in &apim.teams {
        b.add(
            &t.product_id,
            "Microsoft.ApiManagement/service/products",
            api::APIM,
            "apim-product",
            json!({ "t": t }),
            &[&apim.id],
        )?;
        b.add(
            &t.api_link_id,
            "Microsoft.ApiManagement/service/products/apiLinks",
            api::APIM,
            "apim-product-api-link",
            json!({ "t": t }),
            &[&t.product_id, &apim.api_id],
        )?;
        let policy = render_product_policy(b.templates, b.model, t)?;
        b.add(
            &t.policy_id,
            "Microsoft.ApiManagement/service/products/policies",
            api::APIM,
            "apim-product-policy",
            json!({ "policy": policy }),
            &[&t.product_id],
        )?;
        b.team_policies
            .push((format!("product-{}.xml", t.name), policy));
        for s in &t.subscriptions {
            b.add(
                &s.id,
                "Microsoft.ApiManagement/service/subscriptions",
                api::APIM,
                "apim-subscription",
                json!({ "t": t, "s": s }),
                &[&t.product_id, &t.api_link_id],
            )?;
        }
    }
    Ok(())
}

/// One API Management service and everything under it. `primary`: also the resources its
/// instances share (Log Analytics, Application Insights, Event Hubs, the budget).
fn render_apim(b: &mut Builder, apim: &model::ApimM, primary: bool) -> Result<()> {
    let m = b.model;
    if let Some(l) = apim.logging.as_ref().filter(|_| primary) {
        // The workspace is the blueprint's (`diagnostics`), rendered with the other logs.
        b.add(
            &l.app_insights_id,
            "Microsoft.Insights/components",
            api::INSIGHTS_COMPONENTS,
            "app-insights",
            json!({}),
            &[],
        )?;
        if let Some(e) = &l.event_hub {
            b.add(
                &e.namespace_id,
                "Microsoft.EventHub/namespaces",
                api::EVENT_HUB,
                "eventhub-namespace",
                json!({}),
                &[],
            )?;
            b.add(
                &e.id,
                "Microsoft.EventHub/namespaces/eventhubs",
                api::EVENT_HUB,
                "eventhub",
                json!({}),
                &[],
            )?;
        }
    }
    b.add(
        &apim.id,
        "Microsoft.ApiManagement/service",
        api::APIM,
        "apim-service",
        json!({}),
        &[],
    )?;

    if let Some(pe) = &apim.private_endpoint {
        let r = json!({ "region": m.location, "id": apim.id, "privateEndpoint": pe });
        add_private_endpoint(b, pe, r)?;
    }

    // The APIM identity may call each account (and send to Event Hub).
    if apim.managed_identity {
        for a in &m.accounts {
            let (Some(id), Some(_)) = (&a.role_assignment_id, &a.role_assignment_name) else {
                continue;
            };
            b.add(
                id,
                "Microsoft.Authorization/roleAssignments",
                api::AUTHORIZATION,
                "role-assignment",
                json!({ "r": {
                    "roleId": model::ROLE_OPENAI_USER,
                    "principalId": apim.principal_id,
                    "description": format!("APIM {} calls Azure OpenAI {} with its managed identity", apim.name, a.name),
                }}),
                &[],
            )?;
        }
    }
    let cs_role = m
        .content_safety
        .as_ref()
        .filter(|_| apim.managed_identity)
        .map(|cs| model::content_safety_role_id(cs, &apim.id));
    if let (Some(cs), Some(id)) = (&m.content_safety, &cs_role) {
        {
            b.add(
                id,
                "Microsoft.Authorization/roleAssignments",
                api::AUTHORIZATION,
                "role-assignment",
                json!({ "r": {
                    "roleId": model::ROLE_COGNITIVE_SERVICES_USER,
                    "principalId": apim.principal_id,
                    "description": format!("APIM {} calls Azure AI Content Safety {} with its managed identity", apim.name, cs.name),
                }}),
                &[],
            )?;
        }
    }
    if let Some(e) = apim.logging.as_ref().and_then(|l| l.event_hub.as_ref()) {
        b.add(
            &e.role_assignment_id,
            "Microsoft.Authorization/roleAssignments",
            api::AUTHORIZATION,
            "role-assignment",
            json!({ "r": {
                "roleId": model::ROLE_EVENT_HUBS_SENDER,
                "principalId": apim.principal_id,
                "description": format!("APIM {} logs large bodies to Event Hub {}", apim.name, e.name),
            }}),
            &[],
        )?;
    }

    let mut nvs = apim.named_values.clone();
    if let Some(url) = apim.jwt.as_ref().and_then(|j| j.openid_config.as_ref()) {
        nvs.push(model::NamedValueM {
            name: "jwt-openid-config".into(),
            id: format!("{}/namedValues/jwt-openid-config", apim.id),
            value: url.clone(),
        });
    }
    nvs.extend(apim.front_door_id.clone());
    let mut nv_ids = Vec::new();
    for nv in &nvs {
        b.add(
            &nv.id,
            "Microsoft.ApiManagement/service/namedValues",
            api::APIM,
            "apim-named-value",
            json!({ "r": nv }),
            &[],
        )?;
        nv_ids.push(nv.id.clone());
    }

    let mut backend_ids = Vec::new();
    for be in &apim.backends {
        b.add(
            &be.id,
            "Microsoft.ApiManagement/service/backends",
            api::APIM,
            "apim-backend",
            json!({ "r": be }),
            &[],
        )?;
        backend_ids.push(be.id.clone());
    }
    if let Some(cs) = &m.content_safety {
        let id = format!("{}/backends/{}", apim.id, cs.backend_name);
        b.add(
            &id,
            "Microsoft.ApiManagement/service/backends",
            api::APIM,
            "apim-backend-content-safety",
            json!({ "r": cs }),
            &[],
        )?;
        backend_ids.push(id);
    }
    if apim.lb_mode == "pool" {
        for p in &apim.pools {
            b.add(
                &p.id,
                "Microsoft.ApiManagement/service/backends",
                api::APIM,
                "apim-backend-pool",
                json!({ "r": p }),
                &[],
            )?;
            backend_ids.push(p.id.clone());
        }
    }

    let mut logger_ids = Vec::new();
    if let Some(l) = &apim.logging {
        let conn = model::after_apply(&l.app_insights_id, "/properties/ConnectionString", false);
        b.add(
            &l.logger_id,
            "Microsoft.ApiManagement/service/loggers",
            api::APIM,
            "apim-logger-appinsights",
            json!({ "r": { "connectionString": conn } }),
            &[],
        )?;
        logger_ids.push(l.logger_id.clone());
        if let Some(e) = &l.event_hub {
            b.add(
                &e.logger_id,
                "Microsoft.ApiManagement/service/loggers",
                api::APIM,
                "apim-logger-eventhub",
                json!({}),
                &[&e.role_assignment_id],
            )?;
            logger_ids.push(e.logger_id.clone());
        }
    }

    b.add(
        &apim.api_id,
        "Microsoft.ApiManagement/service/apis",
        api::APIM,
        "apim-api",
        json!({}),
        &[],
    )?;
    // Writes under one API are serialised by APIM (PessimisticConcurrencyConflict): chain them.
    let mut previous = apim.api_id.clone();
    for op in &apim.operations {
        b.add(
            &op.id,
            "Microsoft.ApiManagement/service/apis/operations",
            api::APIM,
            "apim-api-operation",
            json!({ "r": op }),
            &[&previous],
        )?;
        previous = op.id.clone();
    }
    let policy = render_policy(b.templates, m)?;
    b.policy = Some(policy.clone());
    let mut deps: Vec<&str> = vec![&previous];
    deps.extend(backend_ids.iter().map(String::as_str));
    deps.extend(logger_ids.iter().map(String::as_str));
    deps.extend(nv_ids.iter().map(String::as_str));
    if let Some(a) = m.accounts.first() {
        if let Some(ra) = &a.role_assignment_id {
            deps.push(ra);
        }
    }
    let role_ids: Vec<String> = m
        .accounts
        .iter()
        .filter_map(|a| a.role_assignment_id.clone())
        .collect();
    deps.extend(role_ids.iter().map(String::as_str));
    // The policy calls Content Safety with the gateway's identity: its role first.
    deps.extend(cs_role.as_deref());
    deps.sort();
    deps.dedup();
    b.add(
        &apim.policy_id,
        "Microsoft.ApiManagement/service/apis/policies",
        api::APIM,
        "apim-api-policy",
        json!({ "policy": policy }),
        &deps,
    )?;
    previous = apim.policy_id.clone();
    render_teams(b, apim)?;
    if let Some(l) = &apim.logging {
        // The caller id as the gateway sent it (backend request); Front Door's client address
        // headers as Front Door sent them (frontend request).
        let headers: Vec<&str> = vec![apim.logged_header.as_str()];
        b.add(
            &l.diagnostic_id,
            "Microsoft.ApiManagement/service/apis/diagnostics",
            api::APIM,
            "apim-api-diagnostic",
            json!({ "r": { "headers": headers, "frontendHeaders": apim.client_ip_headers } }),
            &[&previous, &l.logger_id],
        )?;
        previous = l.diagnostic_id.clone();
    }
    // What the gateway logs to Azure Monitor (ApiManagementGatewayLogs): the built-in
    // `azuremonitor` logger, which exists once the service has a diagnostic setting.
    if let Some(setting) = m
        .diagnostics
        .iter()
        .flat_map(|d| &d.settings)
        .find(|s| s.scope_id.eq_ignore_ascii_case(&apim.id))
    {
        let id = format!("{}/diagnostics/azuremonitor", apim.api_id);
        b.add(
            &id,
            "Microsoft.ApiManagement/service/apis/diagnostics",
            api::APIM_LLM_DIAGNOSTIC,
            "apim-azuremonitor-diagnostic",
            json!({ "r": { "backendHeaders": [apim.logged_header], "llm": apim.llm_log } }),
            &[&previous, &setting.id],
        )?;
    }
    if let Some(h) = &apim.health {
        render_health(b, apim, h)?;
    }
    if let Some(bu) = &apim.budget {
        b.add(
            &bu.id,
            "Microsoft.Consumption/budgets",
            api::CONSUMPTION,
            "budget",
            json!({}),
            &[],
        )?;
    }
    Ok(())
}

fn render_front_door(b: &mut Builder, fd: &model::FrontDoorM) -> Result<()> {
    b.add(
        &fd.waf_id,
        "Microsoft.Network/FrontDoorWebApplicationFirewallPolicies",
        api::FRONT_DOOR_WAF,
        "waf-policy",
        json!({}),
        &[],
    )?;
    b.add(
        &fd.profile_id,
        "Microsoft.Cdn/profiles",
        api::CDN,
        "afd-profile",
        json!({}),
        &[],
    )?;
    b.add(
        &fd.endpoint_id,
        "Microsoft.Cdn/profiles/afdEndpoints",
        api::CDN,
        "afd-endpoint",
        json!({}),
        &[],
    )?;
    b.add(
        &fd.origin_group_id,
        "Microsoft.Cdn/profiles/originGroups",
        api::CDN,
        "afd-origin-group",
        json!({}),
        &[],
    )?;
    for o in &fd.origins {
        b.add(
            &o.id,
            "Microsoft.Cdn/profiles/originGroups/origins",
            api::CDN,
            "afd-origin",
            json!({ "r": o }),
            &[],
        )?;
    }
    let origin_ids: Vec<String> = fd.origins.iter().map(|o| o.id.clone()).collect();
    if let Some(cd) = &fd.custom_domain {
        b.add(
            &cd.id,
            "Microsoft.Cdn/profiles/customDomains",
            api::CDN,
            "afd-custom-domain",
            json!({}),
            &[],
        )?;
    }
    // A route needs an origin group with origins, or Front Door rejects it.
    let deps: Vec<&str> = origin_ids.iter().map(String::as_str).collect();
    b.add(
        &fd.route_id,
        "Microsoft.Cdn/profiles/afdEndpoints/routes",
        api::CDN,
        "afd-route",
        json!({}),
        &deps,
    )?;
    b.add(
        &fd.security_policy_id,
        "Microsoft.Cdn/profiles/securityPolicies",
        api::CDN,
        "afd-security-policy",
        json!({}),
        &[],
    )?;
    Ok(())
}

/// The health operation Front Door probes (`afd-apim`): a pool of each region's own accounts,
/// an API without subscription, one operation and its policy.
fn render_health(b: &mut Builder, apim: &model::ApimM, h: &model::edge::HealthM) -> Result<()> {
    let mut deps: Vec<String> = Vec::new();
    for r in &h.regions {
        let members: Vec<model::PoolMemberM> = r
            .backend_ids
            .iter()
            .map(|id| model::PoolMemberM {
                backend_path: format!("/backends/{id}"),
                backend_id: id.clone(),
                weight: None,
                priority: None,
            })
            .collect();
        b.add(
            &r.pool_id,
            "Microsoft.ApiManagement/service/backends",
            api::APIM,
            "apim-backend-pool",
            json!({ "r": {
                "description": format!("Azure OpenAI accounts in {} (health probe)", r.display),
                "members": members,
            }}),
            &[],
        )?;
        deps.push(r.pool_id.clone());
    }
    b.add(
        &h.api_id,
        "Microsoft.ApiManagement/service/apis",
        api::APIM,
        "apim-health-api",
        json!({}),
        &[],
    )?;
    let method = b
        .model
        .front_door
        .as_ref()
        .map_or("GET", |f| f.probe_method);
    b.add(
        &h.operation_id,
        "Microsoft.ApiManagement/service/apis/operations",
        api::APIM,
        "apim-api-operation",
        json!({ "r": {
            "displayName": "Backends",
            "method": method,
            "urlTemplate": format!("/{}", h.operation_id.rsplit('/').next().unwrap_or("backends")),
            "deploymentPath": false,
            "params": [],
        }}),
        &[&h.api_id],
    )?;
    let policy = b
        .templates
        .render("policies/health.xml.hbs", &json!({ "m": b.model }))?;
    b.health_policy = Some(policy.clone());
    deps.push(h.operation_id.clone());
    deps.extend(
        b.model
            .accounts
            .iter()
            .filter(|_| apim.managed_identity)
            .filter_map(|a| a.role_assignment_id.clone()),
    );
    let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
    b.add(
        &h.policy_id,
        "Microsoft.ApiManagement/service/apis/policies",
        api::APIM,
        "apim-api-policy",
        json!({ "policy": policy }),
        &deps,
    )?;
    Ok(())
}

/// The second request for the API Management service: public network access Disabled, which
/// Azure accepts only once the service has an approved private endpoint connection. It waits
/// for the service and everything under it, its inbound private endpoint (approved on
/// creation) and every Front Door origin over Private Link to it (apply approves their
/// connections right after writing them).
fn render_lock_down(b: &mut Builder, apim: &model::ApimM) -> Result<()> {
    let Some(key) = &apim.lock_down else {
        return Ok(());
    };
    // Its children too: API Management refuses child writes while the service updates.
    let children = format!("{}/", apim.id.to_lowercase());
    let child_ids: Vec<String> = b
        .resources
        .iter()
        .filter(|r| r.id.to_lowercase().starts_with(&children))
        .map(|r| r.id.clone())
        .collect();
    let mut deps: Vec<&str> = vec![&apim.id];
    deps.extend(child_ids.iter().map(String::as_str));
    deps.extend(apim.private_endpoint.as_ref().map(|p| p.id.as_str()));
    if let Some(fd) = &b.model.front_door {
        deps.extend(
            fd.origins
                .iter()
                .filter(|o| {
                    o.private_link
                        .as_ref()
                        .is_some_and(|p| p.target_id.eq_ignore_ascii_case(&apim.id))
                })
                .map(|o| o.id.as_str()),
        );
    }
    b.add(
        key,
        "Microsoft.ApiManagement/service",
        api::APIM,
        "apim-service",
        json!({ "lockDown": true }),
        &deps,
    )?;
    Ok(())
}

/// Private endpoints and API Management services in a network the blueprint creates wait for
/// every peering of that network (both directions), so that what they reach across a peering
/// is reachable once they exist.
fn after_peerings(m: &Model, mut resources: Vec<Resource>) -> Vec<Resource> {
    for r in resources.iter_mut().filter(|r| {
        r.resource_type == "Microsoft.Network/privateEndpoints"
            || r.resource_type == "Microsoft.ApiManagement/service"
    }) {
        let body = r.body.to_lowercase();
        for v in m
            .networks
            .iter()
            .filter(|v| body.contains(&format!("{}/", v.id.to_lowercase())))
        {
            for p in m.networks.iter().flat_map(|x| &x.peerings) {
                let touches = p.id.to_lowercase().starts_with(&v.id.to_lowercase())
                    || p.remote_id.eq_ignore_ascii_case(&v.id);
                if touches && !r.depends_on.contains(&p.id) {
                    r.depends_on.push(p.id.clone());
                }
            }
        }
    }
    resources
}

/// Add implicit dependencies: the nearest managed ancestor (a child needs its parent, an
/// extension resource its scope) and every managed resource whose id appears in the body
/// (a reference, or an `${after-apply:...}` placeholder reading its response).
fn link_dependencies(mut resources: Vec<Resource>) -> Vec<Resource> {
    let index: HashMap<String, usize> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.to_lowercase(), i))
        .collect();
    let ids: Vec<String> = resources.iter().map(|r| r.id.clone()).collect();
    for r in resources.iter_mut() {
        let me = r.id.to_lowercase();
        let mut deps: Vec<String> = r.depends_on.clone();
        // The nearest managed ancestor: the longest proper prefix of the id, cut at a '/'.
        let parent = me
            .rmatch_indices('/')
            .map(|(at, _)| &me[..at])
            .find_map(|prefix| index.get(prefix));
        deps.extend(parent.map(|i| ids[*i].clone()));
        // Whole ids in the body: each run of id characters that starts with `/subscriptions/`,
        // cut at every '/' (a reference to a child also depends on its ancestors that are named
        // in it) and at its end. `.../backends/aoai-a` does not match in `.../backends/aoai-ab`.
        let body = r.body.to_lowercase();
        for (at, _) in body.match_indices("/subscriptions/") {
            let run_len = body[at..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.')))
                .unwrap_or(body.len() - at);
            let run = &body[at..at + run_len];
            let cuts = run
                .match_indices('/')
                .map(|(i, _)| i)
                .chain(std::iter::once(run.len()));
            for cut in cuts {
                if let Some(i) = index.get(&run[..cut]) {
                    if run[..cut] != me {
                        deps.push(ids[*i].clone());
                    }
                }
            }
        }
        deps.sort();
        deps.dedup();
        deps.retain(|d| !d.eq_ignore_ascii_case(&r.id));
        r.depends_on = deps;
    }
    resources
}

/// A stable topological order: creation order, except that a resource waits for its
/// dependencies. Fails on a cycle or a dependency the graph does not contain.
fn order(resources: Vec<Resource>) -> Result<Vec<Resource>> {
    let index: BTreeMap<String, usize> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.to_lowercase(), i))
        .collect();
    for r in &resources {
        for d in &r.depends_on {
            if !index.contains_key(&d.to_lowercase()) {
                anyhow::bail!(
                    "{} depends on {d}, which this blueprint does not declare",
                    r.id
                );
            }
        }
    }
    // Kahn's algorithm, always taking the earliest ready resource in creation order.
    let n = resources.len();
    let mut waiting: Vec<usize> = vec![0; n];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, r) in resources.iter().enumerate() {
        let mut ds: Vec<usize> = r
            .depends_on
            .iter()
            .map(|d| index[&d.to_lowercase()])
            .collect();
        ds.sort_unstable();
        ds.dedup();
        waiting[i] = ds.len();
        for d in ds {
            dependents[d].push(i);
        }
    }
    let mut ready: BTreeSet<usize> = (0..n).filter(|i| waiting[*i] == 0).collect();
    let mut out: Vec<usize> = Vec::with_capacity(n);
    while let Some(i) = ready.pop_first() {
        out.push(i);
        for &j in &dependents[i] {
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.insert(j);
            }
        }
    }
    if out.len() < n {
        let stuck: Vec<&str> = resources
            .iter()
            .enumerate()
            .filter(|(i, _)| waiting[*i] > 0)
            .map(|(_, r)| r.id.as_str())
            .collect();
        anyhow::bail!("dependency cycle among: {}", stuck.join(", "));
    }
    let mut slots: Vec<Option<Resource>> = resources.into_iter().map(Some).collect();
    Ok(out
        .into_iter()
        .map(|i| slots[i].take().expect("each index once"))
        .collect())
}

/// Render a blueprint file end to end (used by every command).
pub fn render_file(
    loaded: &crate::blueprint::Loaded,
    templates_dir: Option<&std::path::Path>,
) -> Result<(Model, Rendered)> {
    let model = Model::build(&loaded.blueprint);
    let templates = Templates::load(templates_dir)?;
    let rendered = render(&model, &templates).context("rendering the blueprint")?;
    Ok((model, rendered))
}
