//! The resource providers' behaviour beyond the generic protocol of [`crate::engine`], one file
//! per provider namespace. Each depends on the engine; the engine knows them only as the list
//! [`ALL`] it is built with (with the subscription-wide `preflight` and `soft_delete`).

mod apim;
mod authorization;
mod cdn;
mod cognitive;
mod eventhub;
mod insights;
mod network;

use crate::engine::Provider;

/// Every provider, in the order the engine asks them.
pub static ALL: &[&dyn Provider] = &[
    &crate::preflight::Preflight,
    &crate::soft_delete::SoftDelete,
    &cognitive::Cognitive,
    &apim::Apim,
    &authorization::Authorization,
    &cdn::Cdn,
    &network::Network,
    &insights::Insights,
    &eventhub::EventHub,
];
