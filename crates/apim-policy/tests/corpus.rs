//! The validator accepts real-world AOAI gateway policies written the way APIM accepts them,
//! and rejects seeded mistakes at the right line and column.

use std::path::Path;

#[test]
fn good_corpus_is_accepted() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/good");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let xml = std::fs::read_to_string(e.path()).unwrap();
        let d = apim_policy::validate(&xml);
        assert!(d.is_empty(), "{}: {d:#?}", e.path().display());
        n += 1;
    }
    assert!(n >= 15, "{n} policies");
}

fn doc(inbound: &str, backend: &str) -> String {
    format!("<policies>\n  <inbound>\n    <base />\n{inbound}\n  </inbound>\n  <backend>\n{backend}\n  </backend>\n  <outbound>\n    <base />\n  </outbound>\n  <on-error>\n    <base />\n  </on-error>\n</policies>\n")
}

#[test]
fn seeded_mistakes_are_located() {
    let fwd = "    <forward-request />";
    // (what, document, code, line, column, help)
    type Case = (
        &'static str,
        String,
        &'static str,
        usize,
        usize,
        Option<&'static str>,
    );
    let cases: Vec<Case> = vec![
        ("misspelled element", doc("    <set-headr name=\"x\" exists-action=\"override\"><value>1</value></set-headr>", fwd), "unknown-element", 4, 5, Some("did you mean `set-header`?")),
        ("misspelled attribute", doc("    <set-header nme=\"x\" exists-action=\"override\"><value>1</value></set-header>", fwd), "unknown-attribute", 4, 17, Some("did you mean `name`?")),
        ("bad enum value", doc("    <set-header name=\"x\" exists-action=\"overwrite\"><value>1</value></set-header>", fwd), "bad-enum", 4, 41, Some("did you mean `override`?")),
        ("policy in the wrong section", doc("    <forward-request />", fwd), "wrong-section", 4, 5, None),
        ("missing required attribute", doc("", "    <retry count=\"2\" interval=\"1\">\n      <forward-request />\n    </retry>"), "missing-attribute", 7, 5, None),
        ("forward-request twice", doc("", "    <forward-request />\n    <forward-request />"), "duplicate-forward-request", 8, 5, None),
        ("set-backend-service without a target", doc("    <set-backend-service />", fwd), "set-backend-service-target", 4, 5, None),
        ("validate-jwt with two token sources", doc("    <validate-jwt header-name=\"Authorization\" query-parameter-name=\"t\">\n      <openid-config url=\"https://x\" />\n    </validate-jwt>", fwd), "validate-jwt-token-source", 4, 5, None),
        ("unterminated expression", doc("    <set-variable name=\"v\" value=\"@(foo(\" />", fwd), "unterminated-expression", 4, 35, None),
        ("bad integer", doc("", "    <retry condition=\"true\" count=\"two\" interval=\"1\">\n      <forward-request />\n    </retry>"), "bad-enum", 7, 36, None),
        ("unknown section", "<policies>\n  <inbound />\n  <inbund />\n</policies>".to_string(), "unknown-element", 3, 3, Some("did you mean `inbound`?")),
    ];
    for (what, xml, code, line, col, help) in cases {
        let d = apim_policy::validate(&xml);
        let hit = d
            .iter()
            .find(|x| x.code == code)
            .unwrap_or_else(|| panic!("{what}: no {code} in {d:#?}\n{xml}"));
        assert_eq!((hit.line, hit.column), (line, col), "{what}: {hit:?}");
        if let Some(h) = help {
            assert_eq!(hit.help.as_deref(), Some(h), "{what}");
        }
    }
}

#[test]
fn whitespace_only_bodies_and_named_values_are_accepted() {
    let xml = doc("    <set-backend-service backend-id=\"{{backend-name}}\">\n    </set-backend-service>\n    <set-variable name=\"n\" value=\"{{count}}\" />", "    <retry condition=\"true\" count=\"{{retries}}\" interval=\"1\">\n      <forward-request />\n    </retry>");
    assert!(
        apim_policy::validate(&xml).is_empty(),
        "{:#?}",
        apim_policy::validate(&xml)
    );
    let frag = "<fragment>\n  <set-header name=\"x\" exists-action=\"override\"><value>1</value></set-header>\n</fragment>";
    assert!(apim_policy::validate_fragment(frag).is_empty());
}
