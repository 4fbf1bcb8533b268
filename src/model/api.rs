//! api-versions: the newest GA version with a published schema for each resource type.

pub const RESOURCES: &str = "2025-04-01";
pub const COGNITIVE: &str = "2026-05-01";
pub const NETWORK: &str = "2025-07-01";
pub const PRIVATE_DNS: &str = "2024-06-01";
pub const APIM: &str = "2024-05-01";
/// `Microsoft.ApiManagement/service/apis/diagnostics` with `largeLanguageModel` (what the
/// generative-AI gateway log `ApiManagementGatewayLlmLog` holds for the API): a preview
/// version, because no GA version has the property: the one that added it (per the change log;
/// later previews keep it), 2024-05-01 being the newest GA version
/// (https://learn.microsoft.com/azure/templates/microsoft.apimanagement/change-log/service/apis/diagnostics,
/// https://learn.microsoft.com/azure/templates/microsoft.apimanagement/2024-06-01-preview/service/apis/diagnostics;
/// read 2026-12-06).
pub const APIM_LLM_DIAGNOSTIC: &str = "2024-06-01-preview";
pub const INSIGHTS_COMPONENTS: &str = "2020-02-02";
pub const LOG_ANALYTICS: &str = "2025-07-01";
pub const EVENT_HUB: &str = "2026-01-01";
pub const CONSUMPTION: &str = "2024-08-01";
pub const AUTHORIZATION: &str = "2022-04-01";
pub const CDN: &str = "2025-12-01";
pub const FRONT_DOOR_WAF: &str = "2025-11-01";
pub const DIAGNOSTIC_SETTINGS: &str = super::edge::DIAGNOSTIC_SETTINGS_API;
