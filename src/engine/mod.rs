//! What talks to ARM: read live state ([`read`], by the lists of [`collections`]), plan property diffs ([`plan`]) and present them
//! ([`plan_text`]), keep plans ([`saved`]), decide what is allowed ([`safety`]), read the
//! subscription's facts ([`preflight`]), converge ([`apply`]) under a lock ([`lock`]) while
//! reporting [`progress`]; [`target`] connects to Azure or the emulator; [`upgrades`] keeps
//! the model versions Azure upgraded deployments to.

pub mod apply;
pub mod approvals;
pub mod children;
pub mod collections;
pub mod lock;
pub mod plan;
pub mod plan_text;
pub mod preflight;
pub mod progress;
pub mod read;
pub mod safety;
pub mod saved;
pub mod soft_delete;
pub mod target;
pub mod terminal;
pub mod upgrades;
