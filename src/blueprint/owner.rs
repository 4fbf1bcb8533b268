//! Which resources a blueprint owns: the value of the `aoai-arch-blueprint` tag it writes.

use super::types::Blueprint;

/// The ownership id of a blueprint: its `id`, or `<subscription>/<resource group>/<main
/// resource>` (API Management, else the Front Door profile). Never the file name, which two
/// unrelated blueprints may share.
pub fn owner_id(b: &Blueprint) -> String {
    if let Some(id) = &b.id {
        return id.clone();
    }
    let main = b
        .apim
        .as_ref()
        .map(|a| a.name.as_str())
        .or(b.front_door.as_ref().map(|f| f.profile.as_str()))
        .unwrap_or("aoai");
    format!("{}/{}/{main}", b.subscription, b.resource_group).to_lowercase()
}
