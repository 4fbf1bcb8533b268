//! One module per command that talks to ARM; `cli` parses arguments and calls them.

pub mod apply;
pub mod plan;
