//! Azure public-cloud regions: ARM names and the display names APIM exposes in
//! `context.Deployment.Region` (policies compare against display names, never ARM names), read
//! from `data/capabilities/regions.json` (shared with the emulator).

/// Display name of an ARM region name, if it is a known region.
pub fn display_name(arm_name: &str) -> Option<&'static str> {
    arm_emulator::capabilities::get().display_name(arm_name)
}

/// Every known ARM region name, for "did you mean" hints and generated blueprints.
pub fn all() -> impl Iterator<Item = &'static str> {
    arm_emulator::capabilities::get()
        .regions()
        .iter()
        .map(|r| r.name.as_str())
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_lowercase_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for a in super::all() {
            assert_eq!(a, a.to_lowercase());
            assert!(seen.insert(a), "duplicate {a}");
        }
        assert_eq!(super::display_name("westeurope"), Some("West Europe"));
        assert_eq!(super::display_name("West Europe"), None);
    }
}
