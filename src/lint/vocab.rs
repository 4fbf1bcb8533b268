//! Values of vocabularies Azure extends faster than releases, which validation cannot refuse:
//! a deployment type (AOAI100), a model (AOAI101) or a WAF managed rule set (AOAI103) aoai-arch
//! does not know is a warning naming the known ones; and `lint.allow` naming a rule that does not exist (AOAI102), an error, since
//! the rules are ours.

use arm_emulator::capabilities;

use crate::blueprint::vocab::{self, Known};
use crate::blueprint::Blueprint;

use super::Ctx;

pub(super) fn check(c: &mut Ctx, b: &Blueprint) {
    let models = known_models();
    for (i, d) in b.openai.all_deployments().into_iter().enumerate() {
        let base = b.openai.deployment_field(i);
        // A typo of a known type is a validation error; only a far-off name is left here.
        if vocab::deployment_type(&d.sku.name) == Known::No {
            c.at_field(
                "AOAI100",
                &format!("{base}.sku.name"),
                format!(
                    "`{}` is not a known deployment type; known: {}",
                    d.sku.name,
                    vocab::deployment_types_listed()
                ),
            );
        }
        let names: Vec<&str> = models.iter().map(String::as_str).collect();
        match vocab::check(&d.model.name, &names) {
            Known::Yes => {}
            Known::Typo(best) => c.at_field(
                "AOAI101",
                &format!("{base}.model.name"),
                format!(
                    "`{}` is not a model of the capability data: did you mean `{best}`?",
                    d.model.name
                ),
            ),
            Known::No => c.at_field(
                "AOAI101",
                &format!("{base}.model.name"),
                format!(
                    "`{}` is not a model of the capability data; known: {}",
                    d.model.name,
                    names.join(", ")
                ),
            ),
        }
    }
    if let Some(f) = &b.front_door {
        let t = vocab::waf_rule_set_types();
        for (i, r) in f.waf.managed_rule_sets.iter().enumerate() {
            let hint = match vocab::waf_rule_set_type(&r.rule_set_type) {
                Known::Yes => continue,
                Known::Typo(best) => format!("did you mean `{best}`?"),
                Known::No => format!(
                    "known: {} ({}, read {})",
                    t.types.join(", "),
                    t.source.url,
                    t.source.read
                ),
            };
            c.at_field(
                "AOAI103",
                &format!("frontDoor.waf.managedRuleSets[{i}].type"),
                format!(
                    "`{}` is not a known WAF managed rule set: {hint}",
                    r.rule_set_type
                ),
            );
        }
    }
    let ids: Vec<&str> = super::RULES.iter().map(|r| r.id).collect();
    let allow = b.lint.as_ref().map(|l| l.allow.as_slice()).unwrap_or(&[]);
    for (i, a) in allow.iter().enumerate() {
        if ids.contains(&a.rule.as_str()) {
            continue;
        }
        let hint = match vocab::check(&a.rule, &ids) {
            Known::Typo(best) => format!(": did you mean `{best}`?"),
            _ => String::new(),
        };
        c.at_field(
            "AOAI102",
            &format!("lint.allow[{i}].rule"),
            format!("no lint rule `{}`{hint}", a.rule),
        );
    }
}

/// Every model name the capability data records (region tables and retirement schedule).
pub fn known_models() -> Vec<String> {
    let caps = capabilities::get();
    let mut names: Vec<String> = caps
        .models()
        .iter()
        .map(|m| m.name.clone())
        .chain(caps.lifecycle_entries().iter().map(|l| l.name.clone()))
        .collect();
    names.sort();
    names.dedup();
    names
}
