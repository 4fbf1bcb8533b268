//! `schema`: print the JSON Schema of the blueprint format (for yaml-language-server).

use std::process::ExitCode;

use anyhow::Result;

use crate::blueprint;

pub fn run() -> Result<ExitCode> {
    let schema = schemars::schema_for!(blueprint::Blueprint);
    println!("{}", serde_json::to_string_pretty(&schema)?);
    Ok(ExitCode::SUCCESS)
}
