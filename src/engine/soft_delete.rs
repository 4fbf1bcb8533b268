//! Azure keeps a deleted Cognitive Services (Azure OpenAI) account or API Management service
//! soft-deleted for 48 hours, its name taken: creating it again is refused
//! (`FlagMustBeSetForRestore`, `ServiceAlreadyExistsInSoftDeletedState`) until it is purged.
//! `destroy --purge` and a replace purge through these paths.

use crate::model::api;

/// The purge (and GET) path of the soft-deleted form of the resource `id` deleted in
/// `location`, with its api-version; `None` for types Azure deletes at once.
pub fn purge_path(id: &str, location: &str) -> Option<(String, &'static str)> {
    let segs: Vec<&str> = id.trim_matches('/').split('/').collect();
    // subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}
    if segs.len() != 8 {
        return None;
    }
    let (sub, rg, ns, ty, name) = (segs[1], segs[3], segs[5], segs[6], segs[7]);
    let loc = location.to_lowercase().replace(' ', "");
    if ns.eq_ignore_ascii_case("Microsoft.CognitiveServices") && ty.eq_ignore_ascii_case("accounts")
    {
        Some((
            format!("/subscriptions/{sub}/providers/Microsoft.CognitiveServices/locations/{loc}/resourceGroups/{rg}/deletedAccounts/{name}"),
            api::COGNITIVE,
        ))
    } else if ns.eq_ignore_ascii_case("Microsoft.ApiManagement")
        && ty.eq_ignore_ascii_case("service")
    {
        Some((
            format!("/subscriptions/{sub}/providers/Microsoft.ApiManagement/locations/{loc}/deletedservices/{name}"),
            api::APIM,
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths() {
        let rg = "/subscriptions/s/resourceGroups/rg";
        assert_eq!(
            super::purge_path(&format!("{rg}/providers/Microsoft.CognitiveServices/accounts/a"), "Sweden Central").unwrap().0,
            "/subscriptions/s/providers/Microsoft.CognitiveServices/locations/swedencentral/resourceGroups/rg/deletedAccounts/a"
        );
        assert_eq!(
            super::purge_path(&format!("{rg}/providers/Microsoft.ApiManagement/service/g"), "westeurope").unwrap().0,
            "/subscriptions/s/providers/Microsoft.ApiManagement/locations/westeurope/deletedservices/g"
        );
        assert!(super::purge_path(
            &format!("{rg}/providers/Microsoft.Cdn/profiles/p"),
            "global"
        )
        .is_none());
        assert!(super::purge_path(
            &format!("{rg}/providers/Microsoft.CognitiveServices/accounts/a/deployments/d"),
            "x"
        )
        .is_none());
    }
}
