//! `apim.instances`: each extra API Management service is the blueprint's own `apim` section
//! with another name, region and network. Deriving one blueprint per instance lets the model,
//! the templates and the lint rules treat an instance exactly like the primary service.

use super::types::{Blueprint, Pattern};

/// One derived blueprint per `apim.instances[i]`, with `i`: `apim` renamed, moved to the
/// instance's region and network, without additional regions or instances; the ownership id
/// and everything else unchanged.
pub fn instance_blueprints(b: &Blueprint) -> Vec<(usize, Blueprint)> {
    let Some(apim) = b.apim.as_ref().filter(|_| b.pattern == Pattern::AfdApim) else {
        return Vec::new();
    };
    let owner = super::owner::owner_id(b);
    apim.instances
        .iter()
        .enumerate()
        .map(|(i, inst)| {
            let mut one = b.clone();
            one.id = Some(owner.clone());
            one.location = inst.region.clone();
            let a = one.apim.as_mut().expect("apim section");
            a.name = inst.name.clone();
            a.sku.capacity = inst.capacity.unwrap_or(apim.sku.capacity);
            a.network = inst.network.clone();
            a.additional_regions.clear();
            a.instances.clear();
            a.primary_weight = inst.weight;
            a.primary_priority = inst.priority;
            // The budget is one resource of the resource group, rendered with the primary.
            a.budget = None;
            (i, one)
        })
        .collect()
}

/// A blueprint field of the primary service, as the same field of instance `i`.
pub fn instance_field(i: usize, field: &str) -> String {
    if field == "location" {
        return format!("apim.instances[{i}].region");
    }
    if let Some(rest) = field.strip_prefix("apim.network") {
        return format!("apim.instances[{i}].network{rest}");
    }
    if field == "apim.sku.name" || field == "apim" {
        return format!("apim.instances[{i}]");
    }
    field.to_string()
}
