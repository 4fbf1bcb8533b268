//! Validation of Azure API Management policy documents as APIM accepts them.
//!
//! Real policies are not well-formed XML: policy expressions `@(...)` and `@{...}` contain
//! quotes, `<` and `&`. [`mask`] replaces every expression (and every `{{named value}}`) with a
//! same-length, XML-safe placeholder, using a scanner that understands C# string, verbatim,
//! interpolated and char literals and comments, so every position stays where it was. The
//! masked text is parsed as XML and checked against rules derived from the APIM policy XSDs
//! (`data/policies.json`, made by `tools/derive.py`) plus rules the XSDs cannot state.

mod scan;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

pub use scan::{mask, Expr, ExprKind, Masked};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Data {
    elements: BTreeMap<String, Spec>,
}

#[derive(Debug, Deserialize)]
struct Spec {
    attrs: BTreeMap<String, Attr>,
    #[serde(default)]
    text: bool,
    children: Children,
    #[serde(default)]
    sections: Option<Vec<String>>,
    /// Declared without a type (xs:anyType): any attributes and content.
    #[serde(default)]
    any: bool,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Children {
    /// "policies" (any policy of the section) or "none".
    Kind(String),
    Named(BTreeMap<String, Spec>),
}

#[derive(Debug, Deserialize)]
struct Attr {
    required: bool,
    #[serde(rename = "type")]
    ty: AttrType,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum AttrType {
    Simple(String),
    Enum(serde::de::IgnoredAny, Vec<String>),
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let mut d: Data = serde_json::from_str(include_str!("../data/policies.json"))
            .expect("embedded policy data parses");
        for (name, spec) in extra_elements() {
            d.elements.entry(name).or_insert(spec);
        }
        // Sections the XSD-derived data leaves open (no section matrix entry), from the policy
        // reference pages on Microsoft Learn.
        if let Some(s) = d.elements.get_mut("log-to-eventhub") {
            s.sections.get_or_insert_with(|| {
                vec![
                    "inbound".into(),
                    "outbound".into(),
                    "backend".into(),
                    "on-error".into(),
                ]
            });
        }
        d
    })
}

/// Policies APIM supports that the XSD snapshot lacks (facts from the Microsoft Learn policy
/// reference pages of `llm-token-limit` and `llm-emit-token-metric`).
fn extra_elements() -> Vec<(String, Spec)> {
    let attr = |required: bool| Attr {
        required,
        ty: AttrType::Simple("string".into()),
    };
    let dimension = Spec {
        attrs: BTreeMap::from([("name".into(), attr(true)), ("value".into(), attr(false))]),
        text: false,
        children: Children::Kind("none".into()),
        sections: None,
        any: false,
    };
    vec![
        (
            "llm-token-limit".into(),
            Spec {
                attrs: [
                    "counter-key",
                    "tokens-per-minute",
                    "token-quota",
                    "token-quota-period",
                    "estimate-prompt-tokens",
                    "retry-after-header-name",
                    "retry-after-variable-name",
                    "remaining-quota-tokens-header-name",
                    "remaining-quota-tokens-variable-name",
                    "remaining-tokens-header-name",
                    "remaining-tokens-variable-name",
                    "tokens-consumed-header-name",
                    "tokens-consumed-variable-name",
                    "id",
                ]
                .iter()
                .map(|a| {
                    (
                        a.to_string(),
                        attr(*a == "counter-key" || *a == "estimate-prompt-tokens"),
                    )
                })
                .collect(),
                text: false,
                children: Children::Kind("none".into()),
                sections: Some(vec!["inbound".into()]),
                any: false,
            },
        ),
        (
            "llm-emit-token-metric".into(),
            Spec {
                attrs: BTreeMap::from([
                    ("namespace".into(), attr(false)),
                    ("id".into(), attr(false)),
                ]),
                text: false,
                children: Children::Named(BTreeMap::from([("dimension".into(), dimension)])),
                sections: Some(vec!["inbound".into()]),
                any: false,
            },
        ),
    ]
}

const SECTIONS: [&str; 4] = ["inbound", "backend", "outbound", "on-error"];

struct Checker<'a> {
    text: &'a str,
    masked: &'a Masked,
    out: Vec<Diagnostic>,
    forward_requests: usize,
    /// Sections that already hold a `cache-store-value` that always runs.
    cache_store_sections: Vec<String>,
}

impl Checker<'_> {
    fn pos(&self, doc: &roxmltree::Document, at: usize) -> (usize, usize) {
        let p = doc.text_pos_at(at);
        (p.row as usize, p.col as usize)
    }

    fn push(
        &mut self,
        doc: &roxmltree::Document,
        at: usize,
        code: &'static str,
        message: String,
        help: Option<String>,
    ) {
        let (line, column) = self.pos(doc, at);
        self.out.push(Diagnostic {
            line,
            column,
            severity: Severity::Error,
            code,
            message,
            help,
        });
    }

    /// The attribute value as written (expressions restored), and whether it is dynamic.
    fn attr_value(&self, a: &roxmltree::Attribute) -> (String, bool) {
        let range = a.range_value();
        let raw = &self.text[range.clone()];
        let dynamic = self
            .masked
            .expressions
            .iter()
            .any(|e| e.start >= range.start && e.end <= range.end);
        (raw.to_string(), dynamic)
    }

    fn element(
        &mut self,
        doc: &roxmltree::Document,
        node: roxmltree::Node,
        spec: &Spec,
        section: &str,
    ) {
        let name = node.tag_name().name();
        if spec.any {
            return;
        }
        // Attributes.
        for a in node.attributes() {
            let Some(def) = spec.attrs.get(a.name()) else {
                let known: Vec<String> = spec.attrs.keys().cloned().collect();
                self.push(
                    doc,
                    a.range().start,
                    "unknown-attribute",
                    format!("`{name}` has no attribute `{}`", a.name()),
                    suggest(a.name(), &known),
                );
                continue;
            };
            let (value, dynamic) = self.attr_value(&a);
            if dynamic || value.contains("{{") {
                continue;
            }
            let value = unescape(&value);
            let ok = match &def.ty {
                AttrType::Enum(_, allowed) => allowed.iter().any(|x| x == &value),
                AttrType::Simple(t) => match t.as_str() {
                    "boolean" => value == "true" || value == "false",
                    "int" => value.trim().parse::<i64>().is_ok(),
                    "uint" => value.trim().parse::<u64>().is_ok(),
                    "posint" => value.trim().parse::<u64>().is_ok_and(|n| n > 0),
                    _ => true,
                },
            };
            if !ok {
                let expected = match &def.ty {
                    AttrType::Enum(_, allowed) => format!("one of {}", allowed.join(", ")),
                    AttrType::Simple(t) => format!("a {t} (or a policy expression)"),
                };
                let help = match &def.ty {
                    AttrType::Enum(_, allowed) => suggest(&value, allowed),
                    _ => None,
                };
                self.push(
                    doc,
                    a.range_value().start,
                    "bad-enum",
                    format!(
                        "`{value}` is not valid for `{name}` `{}`: expected {expected}",
                        a.name()
                    ),
                    help,
                );
            }
        }
        for (aname, def) in &spec.attrs {
            if def.required && node.attribute(aname.as_str()).is_none() {
                self.push(
                    doc,
                    node.range().start,
                    "missing-attribute",
                    format!("`{name}` needs the attribute `{aname}`"),
                    None,
                );
            }
        }
        // Text content.
        if !spec.text {
            for c in node.children().filter(|c| c.is_text()) {
                let t = c.text().unwrap_or("");
                if !t.trim().is_empty() {
                    self.push(
                        doc,
                        c.range().start,
                        "unexpected-text",
                        format!("`{name}` takes no text content"),
                        None,
                    );
                }
            }
        }
        // Children.
        for c in node.children().filter(|c| c.is_element()) {
            match &spec.children {
                Children::Kind(k) if k == "policies" => self.policy(doc, c, section),
                Children::Named(named) => match named.get(c.tag_name().name()) {
                    Some(child_spec) => self.element(doc, c, child_spec, section),
                    None => {
                        let known: Vec<String> = named.keys().cloned().collect();
                        self.push(
                            doc,
                            c.range().start,
                            "unknown-element",
                            format!("`{}` is not allowed inside `{name}`", c.tag_name().name()),
                            suggest(c.tag_name().name(), &known),
                        );
                    }
                },
                _ => self.push(
                    doc,
                    c.range().start,
                    "unknown-element",
                    format!("`{name}` takes no child elements"),
                    None,
                ),
            }
        }
        self.semantic(doc, node, name, section);
    }

    /// A policy statement in a section.
    fn policy(&mut self, doc: &roxmltree::Document, node: roxmltree::Node, section: &str) {
        let name = node.tag_name().name();
        if name == "base" {
            return;
        }
        let Some(spec) = data().elements.get(name) else {
            let known: Vec<String> = data().elements.keys().cloned().collect();
            self.push(
                doc,
                node.range().start,
                "unknown-element",
                format!("`{name}` is not an API Management policy"),
                suggest(name, &known),
            );
            return;
        };
        if let Some(sections) = &spec.sections {
            if section != "fragment" && !sections.iter().any(|s| s == section) {
                self.push(
                    doc,
                    node.range().start,
                    "wrong-section",
                    format!("`{name}` cannot be used in the `{section}` section"),
                    Some(format!("allowed in: {}", sections.join(", "))),
                );
            }
        }
        self.element(doc, node, spec, section);
    }

    /// Rules the XSDs cannot state.
    fn semantic(
        &mut self,
        doc: &roxmltree::Document,
        node: roxmltree::Node,
        name: &str,
        section: &str,
    ) {
        match name {
            // learn.microsoft.com/azure/api-management/cache-store-value-policy, usage notes
            // (read 2026-12-06): "This policy can only be used once in a policy section."
            // Counted only where it always runs (not inside a `choose` branch): Microsoft's
            // own round-robin samples store in several `when` branches of one section.
            "cache-store-value"
                if !node
                    .ancestors()
                    .any(|a| a.has_tag_name("when") || a.has_tag_name("otherwise")) =>
            {
                if self.cache_store_sections.iter().any(|s| s == section) {
                    self.push(
                        doc,
                        node.range().start,
                        "duplicate-cache-store-value",
                        format!(
                            "`cache-store-value` may appear only once in the `{section}` section"
                        ),
                        Some(
                            "compute the key, value and duration in variables and store once"
                                .into(),
                        ),
                    );
                } else {
                    self.cache_store_sections.push(section.to_string());
                }
            }
            "forward-request" => {
                self.forward_requests += 1;
                if self.forward_requests > 1 {
                    self.push(
                        doc,
                        node.range().start,
                        "duplicate-forward-request",
                        "`forward-request` may appear only once in a policy document".into(),
                        None,
                    );
                }
            }
            "set-backend-service" => {
                let n = ["base-url", "backend-id"]
                    .iter()
                    .filter(|a| node.attribute(**a).is_some())
                    .count();
                if n != 1 {
                    self.push(
                        doc,
                        node.range().start,
                        "set-backend-service-target",
                        "`set-backend-service` needs exactly one of `base-url` and `backend-id`"
                            .into(),
                        None,
                    );
                }
            }
            "validate-jwt" => {
                let n = ["header-name", "query-parameter-name", "token-value"]
                    .iter()
                    .filter(|a| node.attribute(**a).is_some())
                    .count();
                if n != 1 {
                    self.push(doc, node.range().start, "validate-jwt-token-source", "`validate-jwt` needs exactly one token source: `header-name`, `query-parameter-name` or `token-value`".into(), None);
                }
            }
            "choose" => {
                let kids: Vec<&str> = node
                    .children()
                    .filter(|c| c.is_element())
                    .map(|c| c.tag_name().name())
                    .collect();
                if !kids.contains(&"when") {
                    self.push(
                        doc,
                        node.range().start,
                        "choose-without-when",
                        "`choose` needs at least one `when`".into(),
                        None,
                    );
                }
                if kids
                    .iter()
                    .position(|k| *k == "otherwise")
                    .is_some_and(|i| i + 1 != kids.len())
                {
                    self.push(
                        doc,
                        node.range().start,
                        "otherwise-not-last",
                        "`otherwise` must be the last branch of `choose`".into(),
                        None,
                    );
                }
            }
            _ => {}
        }
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// "did you mean" for a misspelling (Levenshtein distance of at most a third of the length).
fn suggest(got: &str, known: &[String]) -> Option<String> {
    known
        .iter()
        .map(|k| (levenshtein(got, k), k))
        .filter(|(d, k)| *d > 0 && *d <= (k.len().max(3) / 3).max(1))
        .min()
        .map(|(_, k)| format!("did you mean `{k}`?"))
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

/// How deep elements may nest in a policy document. APIM's own documents nest a few levels
/// (`choose` in `choose` in a section); checks walk the tree, so a document nested thousands
/// deep is refused, located, before any of them.
pub const MAX_DEPTH: usize = 100;

/// A document nested deeper than [`MAX_DEPTH`]: where the first too-deep element starts. The
/// walk is iterative. `None` also when the document is not XML (other checks say so).
pub fn too_deep(xml: &str) -> Option<Diagnostic> {
    let masked = mask(xml).ok()?;
    let doc = roxmltree::Document::parse(&masked.text).ok()?;
    // Depth by node id, parents first (document order).
    let mut depth: Vec<usize> = vec![0; doc.descendants().count() + 1];
    for n in doc.descendants() {
        let d = n.parent().map_or(0, |p| depth[p.id().get_usize()]) + usize::from(n.is_element());
        depth[n.id().get_usize()] = d;
        if d > MAX_DEPTH {
            let p = doc.text_pos_at(n.range().start);
            return Some(Diagnostic {
                line: p.row as usize,
                column: p.col as usize,
                severity: Severity::Error,
                code: "too-deep",
                message: format!(
                    "`<{}>` is nested deeper than {MAX_DEPTH} elements; the policy is not checked further",
                    n.tag_name().name()
                ),
                help: Some(
                    "flatten the policy (a `choose` can have many `when` branches)".into(),
                ),
            });
        }
    }
    None
}

fn run(xml: &str, fragment: bool) -> Vec<Diagnostic> {
    if let Some(d) = too_deep(xml) {
        return vec![d];
    }
    let masked = match mask(xml) {
        Ok(m) => m,
        Err(d) => return vec![d],
    };
    let doc = match roxmltree::Document::parse(&masked.text) {
        Ok(d) => d,
        Err(e) => {
            let p = e.pos();
            return vec![Diagnostic {
                line: p.row as usize,
                column: p.col as usize,
                severity: Severity::Error,
                code: "xml-syntax",
                message: e.to_string(),
                help: None,
            }];
        }
    };
    let mut c = Checker {
        text: xml,
        masked: &masked,
        out: Vec::new(),
        forward_requests: 0,
        cache_store_sections: Vec::new(),
    };
    let root = doc.root_element();
    let want = if fragment { "fragment" } else { "policies" };
    if root.tag_name().name() != want {
        c.push(
            &doc,
            root.range().start,
            "unknown-element",
            format!(
                "the document element must be `<{want}>`, not `<{}>`",
                root.tag_name().name()
            ),
            None,
        );
        return c.out;
    }
    if fragment {
        for p in root.children().filter(|n| n.is_element()) {
            c.policy(&doc, p, "fragment");
        }
        return c.out;
    }
    let mut seen = Vec::new();
    for s in root.children().filter(|n| n.is_element()) {
        let name = s.tag_name().name();
        if !SECTIONS.contains(&name) {
            let known: Vec<String> = SECTIONS.iter().map(|s| s.to_string()).collect();
            c.push(
                &doc,
                s.range().start,
                "unknown-element",
                format!("`{name}` is not a policy section"),
                suggest(name, &known).or(Some(
                    "sections are inbound, backend, outbound, on-error".into(),
                )),
            );
            continue;
        }
        if seen.contains(&name) {
            c.push(
                &doc,
                s.range().start,
                "duplicate-section",
                format!("section `{name}` appears twice"),
                None,
            );
        }
        seen.push(name);
        for p in s.children().filter(|n| n.is_element()) {
            c.policy(&doc, p, name);
        }
    }
    c.out
}

/// Validate a `<policies>` document (global, product, API or operation scope).
pub fn validate(xml: &str) -> Vec<Diagnostic> {
    run(xml, false)
}

/// Validate a `<fragment>` document.
pub fn validate_fragment(xml: &str) -> Vec<Diagnostic> {
    run(xml, true)
}

/// Every element name the validator knows (for tests and documentation).
pub fn known_policies() -> Vec<String> {
    data().elements.keys().cloned().collect()
}
