//! aoai-arch: provision Azure OpenAI gateway architectures from one blueprint.
//!
//! Data flows one way: [`blueprint`] (parse and validate, with file:line errors) ->
//! [`model`] (resolved names, regions, ids) -> [`render`] (templates -> resource graph and
//! policies) -> [`plan`] / [`apply`] (through `arm-client`, against Azure or `arm-emulator`).
//! [`lint`] checks the architecture and the policies at every step.

pub mod apply;
pub mod blueprint;
pub mod cli;
pub mod lint;
pub mod lock;
pub mod model;
pub mod ops;
pub mod plan;
pub mod progress;
pub mod regions;
pub mod render;
pub mod safety;
pub mod saved;
pub mod target;
