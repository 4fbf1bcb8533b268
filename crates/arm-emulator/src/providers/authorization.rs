//! Microsoft.Authorization: role assignments (principals replicate through Entra ID; the
//! assignment's principal and role never change; one assignment per principal, role and scope).

use serde_json::Value;

use crate::engine::*;

/// How long a principal takes to replicate through Microsoft Entra ID (virtual seconds).
const PRINCIPAL_REPLICATION: f64 = 60.0;

pub struct Authorization;

impl Provider for Authorization {
    fn check(&self, e: &mut Engine, put: &Put) -> Option<Reply> {
        match put.spec.name {
            "microsoft.authorization/roleassignments" => role_assignment_allowed(e, put),
            _ => None,
        }
    }
}

/// A role assignment Azure accepts.
fn role_assignment_allowed(e: &mut Engine, put: &Put) -> Option<Reply> {
    let spec = put.spec;
    let body = put.body;
    let existing = put.existing;
    let key = put.path.id.to_lowercase();
    let parent = put.path.parent.clone().unwrap_or_default();
    let now = e.now();
    let p = &body["properties"];
    let principal = p["principalId"].as_str().unwrap_or("").to_lowercase();
    let role = p["roleDefinitionId"].as_str().unwrap_or("").to_lowercase();
    let has_type = p.get("principalType").and_then(Value::as_str).is_some();
    if !has_type {
        let fresh = match e.principals.get(&principal) {
            None => true,
            Some(t) => now - t < PRINCIPAL_REPLICATION,
        };
        if fresh {
            return Some(error(400, "PrincipalNotFound", format!("Principal {principal} does not exist in the directory {TENANT}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group."), ""));
        }
    }
    if let Some(old) = existing {
        let op = &old.doc["properties"];
        if op["principalId"].as_str().unwrap_or("").to_lowercase() != principal
            || op["roleDefinitionId"].as_str().unwrap_or("").to_lowercase() != role
        {
            return Some(error(
                409,
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                "",
            ));
        }
    }
    let dup = e.resources.iter().any(|(k, r)| {
        *k != key
            && r.spec == spec.name
            && k.starts_with(&format!(
                "{parent}/providers/microsoft.authorization/roleassignments/"
            ))
            && r.doc["properties"]["principalId"]
                .as_str()
                .unwrap_or("")
                .to_lowercase()
                == principal
            && r.doc["properties"]["roleDefinitionId"]
                .as_str()
                .unwrap_or("")
                .to_lowercase()
                == role
    });
    if dup {
        return Some(error(
            409,
            "RoleAssignmentExists",
            "The role assignment already exists.",
            "",
        ));
    }
    None
}
