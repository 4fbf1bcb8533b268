//! aoai-arch: provision Azure OpenAI gateway architectures from one blueprint.
//!
//! Data flows one way: [`blueprint`] (parse and validate, with file:line errors) ->
//! [`model`] (resolved names, regions, ids) -> [`render`] (templates -> resource graph and
//! policies) -> [`plan`] (property diffs) -> [`safety`] (ownership, states, cascades,
//! refusals) -> [`apply`] (through `arm-client`, against Azure or `arm-emulator`), with
//! [`preflight`] read in the plan's round; [`plan_text`] and [`saved`] present and keep plans;
//! [`ops`] holds one module per command that talks to ARM. [`lint`] checks the architecture
//! and the policies at every step.

pub mod apply;
pub mod approvals;
pub mod blueprint;
pub mod children;
pub mod cli;
pub mod lint;
pub mod lock;
pub mod model;
pub mod ops;
pub mod plan;
pub mod plan_text;
pub mod preflight;
pub mod progress;
pub mod regions;
pub mod render;
pub mod safety;
pub mod saved;
pub mod soft_delete;
pub mod target;
pub mod terminal;
