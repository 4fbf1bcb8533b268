//! The `render` folder: one `.http` file per ARM request, policies, queries and an index.
//! Same input, same bytes: nothing here depends on time, order of hashing or the machine.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;

use super::{Rendered, Resource};

/// The file-system-safe label of a resource, from its id alone: each `type-name` of its path
/// below the resource group (extension resources after their scope), joined by `.`:
/// `accounts-aoai-weu`, `accounts-aoai-weu.deployments-gpt-4o`,
/// `service-apim.apis-azure-openai.operations-chat`, `accounts-aoai-weu.roleAssignments-<guid>`;
/// a second request for the same resource adds its step (`_lock-down`). Never a position, so
/// one added resource leaves every other file's name alone.
pub fn label(r: &Resource) -> String {
    let id = r.id.trim_matches('/');
    let (path, step) = match id.split_once('#') {
        Some((p, s)) => (p, Some(s)),
        None => (id, None),
    };
    let seg: Vec<&str> = path.split('/').collect();
    let mut pairs = Vec::new();
    let mut i = 0;
    // `subscriptions/<id>` is the same for the whole render; the resource group only for a
    // resource group itself.
    if seg.len() >= 2 && seg[0].eq_ignore_ascii_case("subscriptions") {
        i = 2;
        if seg.len() == 2 {
            pairs.push(format!("subscriptions-{}", seg[1]));
        }
    }
    if seg.len() >= i + 2 && seg[i].eq_ignore_ascii_case("resourceGroups") {
        if seg.len() == i + 2 {
            pairs.push(format!("{}-{}", seg[i], seg[i + 1]));
        }
        i += 2;
    }
    while i < seg.len() {
        if seg[i].eq_ignore_ascii_case("providers") {
            i += 2;
            continue;
        }
        match seg.get(i + 1) {
            Some(name) => pairs.push(format!("{}-{name}", seg[i])),
            None => pairs.push(seg[i].to_string()),
        }
        i += 2;
    }
    let mut raw = pairs.join(".");
    if let Some(step) = step {
        raw = format!("{raw}_{step}");
    }
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The request file of each resource, in render order: `requests/<label>.http`. Two resources
/// with one label (the same type and name in two resource groups) are told apart by their
/// resource group, and failing that by a hash of their id: still nothing positional.
fn request_files(resources: &[Resource]) -> Vec<String> {
    let labels: Vec<String> = resources.iter().map(label).collect();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for l in &labels {
        *count.entry(l.as_str()).or_default() += 1;
    }
    let mut names: Vec<String> = resources
        .iter()
        .zip(&labels)
        .map(|(r, l)| {
            if count[l.as_str()] == 1 {
                return l.clone();
            }
            let seg: Vec<&str> = r.id.split('/').collect();
            match seg
                .iter()
                .position(|s| s.eq_ignore_ascii_case("resourceGroups"))
                .and_then(|p| seg.get(p + 1))
            {
                Some(rg) => format!("resourceGroups-{rg}.{l}"),
                None => l.clone(),
            }
        })
        .collect();
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for n in &names {
        *count.entry(n.clone()).or_default() += 1;
    }
    for (n, r) in names.iter_mut().zip(resources) {
        if count[n.as_str()] > 1 {
            *n = format!("{n}-{:08x}", fnv1a(&r.id.to_lowercase()));
        }
    }
    names
        .into_iter()
        .map(|n| format!("requests/{n}.http"))
        .collect()
}

/// FNV-1a (32 bits): a stable hash, the same on every machine and run.
fn fnv1a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Request line of a PUT, relative to the ARM endpoint.
pub fn request_path(r: &Resource) -> String {
    format!("{}?api-version={}", r.arm_id(), r.api_version)
}

/// The whole `.http` file of one request: what a reviewer reads and what `apply` sends.
pub fn http_file(r: &Resource) -> String {
    format!(
        "PUT {}\nContent-Type: application/json\n\n{}",
        request_path(r),
        r.body
    )
}

/// Every file of a render, by relative path.
pub fn files(rendered: &Rendered) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut index = Vec::new();
    let names = request_files(&rendered.resources);
    let by_id: BTreeMap<String, usize> = rendered
        .resources
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.to_lowercase(), i))
        .collect();
    for (i, r) in rendered.resources.iter().enumerate() {
        files.insert(names[i].clone(), http_file(r));
        let deps: Vec<&str> = r
            .depends_on
            .iter()
            .filter_map(|d| by_id.get(&d.to_lowercase()))
            .map(|j| names[*j].as_str())
            .collect();
        let mut entry = json!({
            "file": names[i],
            "method": "PUT",
            "id": r.arm_id(),
            "type": r.resource_type,
            "apiVersion": r.api_version,
            "template": r.template,
            "dependsOn": deps,
        });
        // A second request for a resource names its step (`lock-down`).
        if let Some((_, step)) = r.id.split_once('#') {
            entry["step"] = json!(step);
        }
        index.push(entry);
    }
    for (name, xml) in &rendered.policies {
        files.insert(format!("policies/{name}"), xml.clone());
    }
    for (name, kql) in &rendered.queries {
        files.insert(format!("queries/{name}"), kql.clone());
    }
    // What this render wrote, so that the next one deletes exactly that and nothing else.
    // The order of the requests (the order `apply` sends them in) is `resources`'; the file
    // names carry none.
    let written: Vec<&String> = files.keys().collect();
    let index = json!({ "generator": GENERATOR, "files": written, "resources": index });
    files.insert(
        "index.json".to_string(),
        serde_json::to_string_pretty(&index).unwrap_or_default() + "\n",
    );
    files
}

/// The `generator` of `index.json`: how `render --out` recognises a folder it wrote.
const GENERATOR: &str = "aoai-arch render";

/// What a previous render wrote into `dir`, by relative path, from its `index.json`: `Ok(None)`
/// for an empty or absent folder, an error for a folder that is not a render's.
fn previous(dir: &Path) -> Result<Option<Vec<String>>> {
    let Ok(mut entries) = std::fs::read_dir(dir) else {
        return Ok(None);
    };
    if entries.next().is_none() {
        return Ok(None);
    }
    let refuse = |why: &str| {
        anyhow::anyhow!(
            "refusing to render into {}: {why}, so it is not a folder `render --out` wrote, and its files may be someone else's (an APIOps repository's policies/, say). Nothing was written or deleted; render into a new or empty folder, or into one an earlier render wrote",
            dir.display()
        )
    };
    let index = dir.join("index.json");
    let text = std::fs::read_to_string(&index)
        .map_err(|_| refuse("it is not empty and has no index.json"))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| refuse("its index.json is not JSON"))?;
    let safe = |rel: &str| {
        let p = Path::new(rel);
        !rel.is_empty()
            && p.components()
                .all(|c| matches!(c, std::path::Component::Normal(_)))
            && ["requests/", "policies/", "queries/"]
                .iter()
                .any(|d| rel.starts_with(d))
    };
    let listed: Vec<String> = if v["generator"] == GENERATOR {
        v["files"]
            .as_array()
            .ok_or_else(|| refuse("its index.json lists no files"))?
            .iter()
            .filter_map(|f| f.as_str())
            .filter(|f| safe(f))
            .map(str::to_string)
            .collect()
    } else if v["resources"].as_array().is_some_and(|r| {
        r.iter()
            .all(|e| e["file"].is_string() && e["apiVersion"].is_string())
    }) {
        // An index from before renders listed their files: its requests only.
        v["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["file"].as_str())
            .filter(|f| safe(f) && f.starts_with("requests/"))
            .map(str::to_string)
            .collect()
    } else {
        return Err(refuse("its index.json was not written by aoai-arch render"));
    };
    Ok(Some(listed))
}

/// Write a render into `dir`, replacing what the previous render wrote there (the files its
/// `index.json` lists) and nothing else. A folder that is not empty and not a render's is
/// refused before anything is written or deleted.
pub fn write(dir: &Path, rendered: &Rendered) -> Result<usize> {
    let files = files(rendered);
    let before = previous(dir)?.unwrap_or_default();
    for rel in &before {
        if files.contains_key(rel) {
            continue;
        }
        let p = dir.join(rel);
        if p.is_file() {
            std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    // Folders left empty by that.
    for sub in ["requests", "policies", "queries"] {
        let d = dir.join(sub);
        if std::fs::read_dir(&d).is_ok_and(|mut e| e.next().is_none()) {
            let _ = std::fs::remove_dir(&d);
        }
    }
    for (rel, text) in &files {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(files.len())
}

/// Compare a render with `dir`; returns a readable report of every difference (empty = fresh).
pub fn check(dir: &Path, rendered: &Rendered) -> Result<String> {
    let want = files(rendered);
    let mut have = BTreeMap::new();
    for sub in ["", "requests", "policies", "queries"] {
        let d = dir.join(sub);
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_file() {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .replace('\\', "/");
                if sub.is_empty() && rel != "index.json" {
                    continue;
                }
                have.insert(rel, std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    let mut report = String::new();
    for (rel, text) in &want {
        match have.get(rel) {
            None => report.push_str(&format!("missing: {rel}\n")),
            Some(old) if old != text => {
                report.push_str(&format!("changed: {rel}\n"));
                let diff = similar::TextDiff::from_lines(old.as_str(), text.as_str());
                for line in diff
                    .unified_diff()
                    .context_radius(2)
                    .header(&format!("{rel} (on disk)"), &format!("{rel} (rendered)"))
                    .to_string()
                    .lines()
                {
                    report.push_str("    ");
                    report.push_str(line);
                    report.push('\n');
                }
            }
            _ => {}
        }
    }
    for rel in have.keys() {
        if !want.contains_key(rel) {
            report.push_str(&format!("stale: {rel} (no longer rendered)\n"));
        }
    }
    Ok(report)
}
