//! ARM request paths: subscription, resource group, provider namespace, type path, parent.

/// A parsed request path.
pub struct Path {
    pub sub: String,
    /// Resource-group segment, if any.
    pub rg: Option<String>,
    /// Full resource id (for an item) or collection path.
    pub id: String,
    pub spec_name: String,
    /// Parent resource id (the scope for extension resources), lower-case; None for RGs.
    pub parent: Option<String>,
    pub collection: bool,
    pub ns: String,
    pub type_path: String,
}

pub fn parse_path(raw: &str) -> Option<Path> {
    let segs: Vec<&str> = raw.trim_matches('/').split('/').collect();
    if segs.len() < 2 || !segs[0].eq_ignore_ascii_case("subscriptions") {
        return None;
    }
    let sub = segs[1].to_string();
    let rg = (segs.len() >= 4 && segs[2].eq_ignore_ascii_case("resourcegroups"))
        .then(|| segs[3].to_string());
    if segs.len() == 4 && rg.is_some() {
        return Some(Path {
            sub,
            rg,
            id: format!("/{}", segs.join("/")),
            spec_name: "microsoft.resources/resourcegroups".into(),
            parent: None,
            collection: false,
            ns: "Microsoft.Resources".into(),
            type_path: "resourceGroups".into(),
        });
    }
    let p = segs
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"))?;
    let ns = *segs.get(p + 1)?;
    let rest = &segs[p + 2..];
    if rest.is_empty() {
        return None;
    }
    let types: Vec<&str> = rest.iter().step_by(2).copied().collect();
    let spec_name = format!("{}/{}", ns, types.join("/")).to_lowercase();
    let collection = rest.len() % 2 == 1;
    let items = if collection {
        rest.len() - 1
    } else {
        rest.len() - 2
    };
    // The parent: the same path without the last type/name pair; for a resource at the top
    // of its provider, the scope (resource group, subscription, or a resource for extensions).
    let cut = if items == 0 { p } else { p + 2 + items };
    let parent = Some(format!("/{}", segs[..cut].join("/")).to_lowercase());
    Some(Path {
        sub,
        rg,
        id: format!("/{}", segs.join("/")),
        spec_name,
        parent,
        collection,
        ns: ns.to_string(),
        type_path: types.join("/"),
    })
}

/// `/subscriptions/{s}/providers/{namespace}`: a resource provider's registration.
pub fn provider_path(raw: &str) -> Option<Path> {
    let segs: Vec<&str> = raw.trim_matches('/').split('/').collect();
    if segs.len() != 4
        || !segs[0].eq_ignore_ascii_case("subscriptions")
        || !segs[2].eq_ignore_ascii_case("providers")
    {
        return None;
    }
    Some(Path {
        sub: segs[1].to_string(),
        rg: None,
        id: format!("/{}", segs.join("/")),
        spec_name: "microsoft.resources/providers".into(),
        parent: None,
        collection: false,
        ns: segs[3].to_string(),
        type_path: "providers".into(),
    })
}

/// `/subscriptions/{s}/resourceGroups/{rg}/resources`: every top-level resource of a group.
pub fn rg_resources_path(raw: &str) -> Option<Path> {
    let segs: Vec<&str> = raw.trim_matches('/').split('/').collect();
    if segs.len() != 5
        || !segs[2].eq_ignore_ascii_case("resourcegroups")
        || !segs[4].eq_ignore_ascii_case("resources")
    {
        return None;
    }
    Some(Path {
        sub: segs[1].to_string(),
        rg: Some(segs[3].to_string()),
        id: format!("/{}", segs.join("/")),
        spec_name: "microsoft.resources/resources".into(),
        parent: None,
        collection: true,
        ns: "Microsoft.Resources".into(),
        type_path: "resources".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let p = parse_path("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/a/apis/x/operations/o").unwrap();
        assert_eq!(
            p.spec_name,
            "microsoft.apimanagement/service/apis/operations"
        );
        assert_eq!(p.parent.as_deref(), Some("/subscriptions/s/resourcegroups/rg/providers/microsoft.apimanagement/service/a/apis/x"));
        let p = parse_path("/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a/providers/Microsoft.Authorization/roleAssignments/g").unwrap();
        assert_eq!(p.spec_name, "microsoft.authorization/roleassignments");
        assert_eq!(p.parent.as_deref(), Some("/subscriptions/s/resourcegroups/rg/providers/microsoft.cognitiveservices/accounts/a"));
        let p = parse_path(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts",
        )
        .unwrap();
        assert!(p.collection);
        assert_eq!(
            p.parent.as_deref(),
            Some("/subscriptions/s/resourcegroups/rg")
        );
        let p = parse_path("/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a/deployments").unwrap();
        assert!(p.collection);
        assert_eq!(p.parent.as_deref(), Some("/subscriptions/s/resourcegroups/rg/providers/microsoft.cognitiveservices/accounts/a"));
        let p = parse_path(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a",
        )
        .unwrap();
        assert_eq!(
            p.parent.as_deref(),
            Some("/subscriptions/s/resourcegroups/rg")
        );
    }
}
