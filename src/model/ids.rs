//! Names and ids every area of the model shares: the ownership tag, ids of values only Azure
//! knows, graph keys of steps, stable GUIDs.

pub const OWNER_TAG: &str = "aoai-arch-blueprint";

/// The value of the tag `name` on a resource document. Azure treats tag names without case
/// (`Env` and `env` are one tag; it keeps the case it was first given), so neither does this.
pub fn tag<'a>(doc: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    doc["tags"]
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

/// The value of the ownership tag on a resource document, whatever the case of its name.
pub fn owner_tag(doc: &serde_json::Value) -> Option<&str> {
    tag(doc, OWNER_TAG)
}

/// A value only Azure knows, filled in by `apply` from the response of the resource `id`.
/// Rendered as `${after-apply:<resource id>#<json pointer>[|host]}`; documented in README.
pub fn after_apply(id: &str, pointer: &str, host_only: bool) -> String {
    format!(
        "${{after-apply:{id}#{pointer}{}}}",
        if host_only { "|host" } else { "" }
    )
}

/// Graph key of the second request for one resource: a step (`lock-down`) after the resource
/// exists. The request goes to the resource id before the `#`; see `Resource::arm_id`.
pub fn step_key(id: &str, step: &str) -> String {
    format!("{id}#{step}")
}

/// A GUID derived from its inputs the way ARM templates' `guid()` does (UUID v5 over the
/// arguments joined by `-`), so names stay stable across runs and match Bicep's convention.
pub fn arm_guid(parts: &[&str]) -> String {
    const NS: uuid::Uuid = uuid::uuid!("11fb06fb-712d-4ddd-98c7-e71bbd588830");
    uuid::Uuid::new_v5(&NS, parts.join("-").as_bytes()).to_string()
}
