//! aoai-arch: provision Azure OpenAI gateway architectures from one blueprint.
//!
//! Data flows one way (see docs/ARCHITECTURE.md): [`blueprint`] (parse and validate, with
//! file:line errors) -> [`model`] (resolved names, regions, ids) -> [`render`] (templates ->
//! resource graph and policies) -> [`engine`] (read live state, plan property diffs, safety:
//! ownership, states, cascades, refusals; preflight read in the plan's round; apply through
//! `arm-client`, against Azure or `arm-emulator`). [`cli`] parses arguments and holds one module
//! per command. [`lint`] checks the architecture and the policies at every step.

pub mod blueprint;
pub mod cli;
pub mod engine;
pub mod lint;
pub mod model;
pub mod render;
pub mod simulate;
