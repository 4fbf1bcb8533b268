//! Which resource types `plan` reads by collection, and how.
//!
//! ARM lists the children of one parent (`GET {parent}/{children}`) and the top-level resources
//! of one type in a resource group (`GET {rg}/providers/{namespace}/{type}`) with the same
//! documents a GET of each returns, a page at a time (`nextLink`). One list then serves the
//! comparison of every declared resource in it and the search for undeclared ones.
//!
//! A type that is not in [`LISTED`] is read with one GET per resource: a new resource type is
//! read as before until someone checks its list form and adds it here with the source.
//!
//! Where a list differs from the GET (sources read 2026-12-06):
//! - `service/namedValues`: the list leaves `properties.value` out for secret named values
//!   (azure-rest-api-specs apimanagement 2024-05-01 `ApiManagementListNamedValues.json`: the
//!   secret item has no `value`): each secret item is read again with its own GET.
//! - `service/apis/policies`: the list items carry `properties.value` but no
//!   `properties.format` (2024-05-01 `ApiManagementListApiPolicies.json`; the GET answers
//!   `format: xml`). The plan never compares `format` of a policy (APIM answers `xml` for the
//!   `rawxml` aoai-arch sends, see `plan::ignored`), so the list serves.
//! - `resourceGroups`: the generic listing `GET {rg}/resources` returns id, name, type,
//!   location and tags, not `properties` (resources 2025-04-01 `Resources_ListByResourceGroup`,
//!   `GenericResourceExpanded`): it is used for the ownership tags of undeclared resources
//!   only, and every declared top-level type is listed per type.
//! - role assignments: `GET {rg}/providers/Microsoft.Authorization/roleAssignments` without a
//!   filter returns the assignments at, above and below the resource group
//!   (https://learn.microsoft.com/azure/role-based-access-control/role-assignments-list-rest:
//!   `$filter=atScope()` is what leaves the subscopes out; authorization 2022-04-01
//!   `RoleAssignments_ListForResourceGroup`), each as its GET returns it: one list for every
//!   assignment scoped to a resource of the group.
//! - the resource group itself: one GET (its own list is the subscription's groups).

use serde_json::Value;

/// How `plan` reads live state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// One GET per resource.
    Get,
    /// One list per collection, a GET where no list gives the same document.
    #[default]
    List,
}

/// Where one list of a type is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `GET {id without its name}`: the children of one parent, or the resources of one type
    /// in one resource group.
    Parent,
    /// `GET /subscriptions/{s}/resourceGroups/{rg}/providers/{namespace}/{type}` whatever the
    /// resource it is scoped to (an extension resource listed for the whole group).
    ResourceGroup,
}

pub struct Listed {
    /// Lower-case `namespace/type[/child...]`.
    pub resource_type: &'static str,
    pub scope: Scope,
    /// Items of the list that must be read again with their own GET (the list leaves a
    /// property out for them).
    pub reread: Option<fn(&Value) -> bool>,
}

const fn parent(resource_type: &'static str) -> Listed {
    Listed {
        resource_type,
        scope: Scope::Parent,
        reread: None,
    }
}

fn secret(doc: &Value) -> bool {
    doc["properties"]["secret"].as_bool() == Some(true)
}

/// Every type read by collection. Sources: the `*_List*` operations of azure-rest-api-specs
/// (cognitiveservices 2025-06-01 `ListDeployments.json`, `ListAccountsByResourceGroup.json`;
/// apimanagement 2024-05-01 `ApiManagementListBackends.json`, `ApiManagementListApis.json`,
/// `ApiManagementListApiOperations.json`, `ApiManagementListApiDiagnostics.json`,
/// `ApiManagementListLoggers.json`, `ApiManagementListDiagnostics.json`,
/// `ApiManagementListServiceBySubscriptionAndResourceGroup.json`; cdn 2025-04-15
/// `AFDProfiles_ListByResourceGroup.json`, `AFDEndpoints_ListByProfile.json`,
/// `Routes_ListByEndpoint.json`, `AFDOriginGroups_ListByProfile.json`,
/// `AFDOrigins_ListByOriginGroup.json`, `AFDCustomDomains_ListByProfile.json`,
/// `SecurityPolicies_ListByProfile.json`; network `PrivateEndpointList.json`,
/// `PrivateDnsZoneGroupList.json`, `WafListPolicies.json`; privatedns `PrivateZoneListInResourceGroup.json`,
/// `VirtualNetworkLinkList.json`; operationalinsights `WorkspacesListByResourceGroup.json`;
/// applicationinsights `ComponentsListByResourceGroup.json`; eventhub
/// `NameSpaceListByResourceGroup.json`, `EHEventHubListByNameSpace.json`; consumption
/// `BudgetsList.json`): each item is the document the GET of that item returns.
pub const LISTED: &[Listed] = &[
    parent("microsoft.cognitiveservices/accounts"),
    parent("microsoft.cognitiveservices/accounts/deployments"),
    parent("microsoft.apimanagement/service"),
    parent("microsoft.apimanagement/service/backends"),
    parent("microsoft.apimanagement/service/apis"),
    parent("microsoft.apimanagement/service/apis/operations"),
    parent("microsoft.apimanagement/service/apis/policies"),
    parent("microsoft.apimanagement/service/apis/diagnostics"),
    parent("microsoft.apimanagement/service/loggers"),
    parent("microsoft.apimanagement/service/diagnostics"),
    Listed {
        resource_type: "microsoft.apimanagement/service/namedvalues",
        scope: Scope::Parent,
        reread: Some(secret),
    },
    parent("microsoft.cdn/profiles"),
    parent("microsoft.cdn/profiles/afdendpoints"),
    parent("microsoft.cdn/profiles/afdendpoints/routes"),
    parent("microsoft.cdn/profiles/origingroups"),
    parent("microsoft.cdn/profiles/origingroups/origins"),
    parent("microsoft.cdn/profiles/customdomains"),
    parent("microsoft.cdn/profiles/securitypolicies"),
    parent("microsoft.network/frontdoorwebapplicationfirewallpolicies"),
    parent("microsoft.network/privateendpoints"),
    parent("microsoft.network/privateendpoints/privatednszonegroups"),
    parent("microsoft.network/privatednszones"),
    parent("microsoft.network/privatednszones/virtualnetworklinks"),
    parent("microsoft.operationalinsights/workspaces"),
    parent("microsoft.insights/components"),
    parent("microsoft.eventhub/namespaces"),
    parent("microsoft.eventhub/namespaces/eventhubs"),
    parent("microsoft.consumption/budgets"),
    Listed {
        resource_type: "microsoft.authorization/roleassignments",
        scope: Scope::ResourceGroup,
        reread: None,
    },
];

/// How a type is listed; `None`: one GET per resource.
pub fn listing(resource_type: &str) -> Option<&'static Listed> {
    let t = resource_type.to_lowercase();
    LISTED.iter().find(|l| l.resource_type == t)
}

/// The list that holds resource `id` of a listed type, for a blueprint whose resource group
/// is `rg_id`: the id without its name, or the resource-group-wide list of an extension type.
/// `None` when the type is read with GETs, or the resource lies outside any resource group
/// the list could cover.
pub fn collection_of(id: &str, resource_type: &str, rg_id: &str) -> Option<String> {
    let listed = listing(resource_type)?;
    let cut = id.rfind('/')?;
    let collection = &id[..cut];
    match listed.scope {
        Scope::Parent => Some(collection.to_string()),
        Scope::ResourceGroup => {
            let under = id
                .to_lowercase()
                .starts_with(&format!("{}/", rg_id.to_lowercase()));
            let segs: Vec<&str> = collection.rsplitn(3, '/').collect();
            // `.../providers/{namespace}/{type}`: the same tail under the resource group.
            (under && segs.len() == 3).then(|| format!("{rg_id}/providers/{}/{}", segs[1], segs[0]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_of_children_top_level_and_extension_resources() {
        let rg = "/subscriptions/s/resourceGroups/rg";
        let dep = format!("{rg}/providers/Microsoft.CognitiveServices/accounts/a/deployments/d");
        assert_eq!(
            collection_of(&dep, "Microsoft.CognitiveServices/accounts/deployments", rg).unwrap(),
            format!("{rg}/providers/Microsoft.CognitiveServices/accounts/a/deployments")
        );
        let acct = format!("{rg}/providers/Microsoft.CognitiveServices/accounts/a");
        assert_eq!(
            collection_of(&acct, "Microsoft.CognitiveServices/accounts", rg).unwrap(),
            format!("{rg}/providers/Microsoft.CognitiveServices/accounts")
        );
        let ra = format!("{acct}/providers/Microsoft.Authorization/roleAssignments/g");
        assert_eq!(
            collection_of(&ra, "Microsoft.Authorization/roleAssignments", rg).unwrap(),
            format!("{rg}/providers/Microsoft.Authorization/roleAssignments")
        );
        // Not listed: read with a GET.
        assert!(collection_of(rg, "Microsoft.Resources/resourceGroups", rg).is_none());
        assert!(collection_of(
            &format!("{rg}/providers/Microsoft.Web/sites/x"),
            "Microsoft.Web/sites",
            rg
        )
        .is_none());
    }
}
