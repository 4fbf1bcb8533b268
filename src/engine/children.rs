//! Children Azure deletes with their parent: deleting (or replacing) a resource deletes every
//! resource below it, declared or not, owned or not. ARM has no "list all children" call; the
//! child collections read are those this blueprint writes into under each parent (an
//! account's `deployments`, a service's `apis`, `backends`, `namedValues`, ...). Role
//! assignments are not among them: Azure keeps those when their scope goes.

use std::collections::BTreeSet;

use anyhow::Result;
use serde::Serialize;

use crate::render::Rendered;
use arm_client::ArmClient;

/// A resource the blueprint does not declare that goes with its parent.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Child {
    pub id: String,
    pub parent: String,
}

/// The undeclared resources in the child collections under `parents` (ids as Azure has them).
/// `listed` holds the collections the plan's read has already listed (by lower-case path):
/// those are not asked for again.
pub async fn undeclared_under(
    client: &ArmClient,
    rendered: &Rendered,
    parents: &[String],
    listed: &std::collections::BTreeMap<String, Vec<serde_json::Value>>,
    concurrency: usize,
) -> Result<Vec<Child>> {
    let declared: BTreeSet<String> = rendered
        .resources
        .iter()
        .map(|r| r.arm_id().to_lowercase())
        .collect();
    let mut collections: BTreeSet<(String, String, &'static str)> = BTreeSet::new();
    for parent in parents {
        let prefix = format!("{}/", parent.to_lowercase());
        for r in &rendered.resources {
            let id = r.arm_id();
            let lower = id.to_lowercase();
            if !lower.starts_with(&prefix) || lower.contains("/providers/microsoft.authorization/")
            {
                continue;
            }
            if let Some(cut) = id.rfind('/') {
                collections.insert((id[..cut].to_string(), parent.clone(), r.api_version));
            }
        }
    }
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let mut known: Vec<(String, String, Vec<serde_json::Value>)> = Vec::new();
    for (collection, parent, version) in collections {
        if let Some(items) = listed.get(&collection.to_lowercase()) {
            known.push((collection, parent, items.clone()));
            continue;
        }
        let (client, sem) = (client.clone(), sem.clone());
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let res = client.list(&collection, version).await;
            (collection, parent, res)
        });
    }
    let mut out = BTreeSet::new();
    let mut answered = known;
    while let Some(joined) = tasks.join_next().await {
        let (collection, parent, res) = joined?;
        match res {
            Ok(items) => answered.push((collection, parent, items)),
            // The collection's own parent (an API) does not exist: nothing below it.
            Err(e) if e.status == Some(404) => continue,
            Err(e) => anyhow::bail!("listing {collection}: {e}"),
        }
    }
    for (_, parent, items) in answered {
        for item in items {
            if let Some(id) = item["id"].as_str() {
                if !declared.contains(&id.to_lowercase()) {
                    out.insert(Child {
                        id: id.to_string(),
                        parent: parent.clone(),
                    });
                }
            }
        }
    }
    Ok(out.into_iter().collect())
}
