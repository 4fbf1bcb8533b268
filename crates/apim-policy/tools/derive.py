#!/usr/bin/env python3
"""Derive the policy rules apim-policy carries from the APIM policy XSDs and section matrices.

Usage: derive.py SHARED_APIM_POLICY_DIR > data/policies.json

Reads ../shared/apim-policy (vscode-apimanagement/policySchemas/*.xsd, docs-section-matrix.json,
toolkit-section-matrix.json) and writes a compact JSON of our own: for each policy element its
attributes (required, type or enumeration), whether it takes text, its children (nested element
specs, or "policies" when any policy may appear inside), and the sections it may appear in.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

XS = "{http://www.w3.org/2001/XMLSchema}"


def load(dirpath):
    files = sorted(f for f in os.listdir(dirpath) if f.endswith(".xsd"))
    elements, complex_types, simple_types = {}, {}, {}
    for f in files:
        root = ET.parse(os.path.join(dirpath, f)).getroot()
        for child in root:
            name = child.get("name")
            if child.tag == XS + "element" and name:
                elements[name] = child
            elif child.tag == XS + "complexType" and name:
                complex_types[name] = child
            elif child.tag == XS + "simpleType" and name:
                simple_types[name] = child
    return elements, complex_types, simple_types


def simple_type(node, simple_types):
    """An attribute type: 'string', 'boolean', 'int', 'uint', 'posint', or ['enum', [...]]."""
    if node is None:
        return "string"
    restriction = node.find(XS + "restriction")
    if restriction is not None:
        enums = [e.get("value") for e in restriction.findall(XS + "enumeration")]
        if enums:
            return ["enum", enums]
        return base_type(restriction.get("base", "xs:string"), simple_types)
    union = node.find(XS + "union")
    if union is not None:
        kinds = [base_type(t, simple_types) for t in union.get("memberTypes", "").split() if t != "expression"]
        for inline in union.findall(XS + "simpleType"):
            kinds.append(simple_type(inline, simple_types))
        kinds = [k for k in kinds if k != "expression"]
        return kinds[0] if len(kinds) == 1 else "string"
    return "string"


def base_type(name, simple_types):
    local = name.split(":")[-1]
    if name.startswith("xs:"):
        return {
            "boolean": "boolean",
            "int": "int",
            "integer": "int",
            "long": "int",
            "nonNegativeInteger": "uint",
            "unsignedInt": "uint",
            "positiveInteger": "posint",
        }.get(local, "string")
    if local == "expression":
        return "expression"
    if local in simple_types:
        return simple_type(simple_types[local], simple_types)
    return "string"


def spec_of(el, elements, complex_types, simple_types, depth=0):
    if el.get("ref"):
        el = elements[el.get("ref")]
    spec = {"attrs": {}, "text": False, "children": {}}
    type_name = el.get("type")
    ct = el.find(XS + "complexType")
    if type_name is not None and ct is None:
        local = type_name.split(":")[-1]
        if local in complex_types:
            ct = complex_types[local]
        else:
            spec["text"] = True
            spec["children"] = "none"
            return spec
    if el.find(XS + "simpleType") is not None:
        spec["text"] = True
        spec["children"] = "none"
        return spec
    if ct is None:
        # No type: xs:anyType. A local declaration named like a policy is that policy
        # (return-response's set-status, set-header, set-body); anything else accepts anything.
        name = el.get("name")
        if type_name is None and name in elements and elements[name] is not el and depth < 8:
            return spec_of(elements[name], elements, complex_types, simple_types, depth + 1)
        if type_name is None:
            return {"attrs": {}, "text": True, "children": "none", "any": True}
        spec["text"] = True
        spec["children"] = "none"
        return spec
    if ct.get("mixed") == "true":
        spec["text"] = True
    content = ct
    base_spec = None
    cc = ct.find(XS + "complexContent")
    if cc is not None:
        ext = cc.find(XS + "extension")
        if ext is None:
            ext = cc.find(XS + "restriction")
        if ext is not None:
            base = ext.get("base", "").split(":")[-1]
            if base in complex_types:
                holder = ET.Element(XS + "element")
                holder.set("type", base)
                base_spec = spec_of(holder, elements, complex_types, simple_types, depth + 1)
            content = ext
            ct = ext
    sc = ct.find(XS + "simpleContent")
    if sc is not None:
        spec["text"] = True
        content = sc.find(XS + "extension") or sc.find(XS + "restriction") or sc
    for a in content.findall(XS + "attribute"):
        name = a.get("name")
        if not name:
            continue
        if a.get("type"):
            t = base_type(a.get("type"), simple_types)
        else:
            t = simple_type(a.find(XS + "simpleType"), simple_types)
        spec["attrs"][name] = {"required": a.get("use") == "required", "type": t}
    any_child = False
    children = {}

    def particles(node):
        # Model groups of this type only: never descend into a nested element's own type.
        for c in node:
            if c.tag in (XS + "sequence", XS + "choice", XS + "all"):
                yield from particles(c)
            elif c.tag in (XS + "any", XS + "element"):
                yield c

    for c in particles(ct):
        if c.tag == XS + "any":
            any_child = True
        else:
            cname = c.get("name") or c.get("ref")
            if depth < 8:
                children[cname] = spec_of(c, elements, complex_types, simple_types, depth + 1)
    if base_spec is not None:
        for k, v in base_spec["attrs"].items():
            spec["attrs"].setdefault(k, v)
        spec["text"] = spec["text"] or base_spec["text"]
        if base_spec["children"] == "policies":
            any_child = True
        elif isinstance(base_spec["children"], dict):
            for k, v in base_spec["children"].items():
                children.setdefault(k, v)
    if any_child:
        spec["children"] = "policies"
    elif children:
        spec["children"] = children
    else:
        spec["children"] = "none"
    return spec


# What the reference data predates, from the policy's own Learn page (each entry says which and
# when it was read): merged over the derived spec, so that Microsoft's current samples validate.
NEWER = {
    # learn.microsoft.com/azure/api-management/llm-content-safety-policy (ms.date 2026-03-23,
    # read 2026-12-06): enforce-on-completions, window-size and window-overlap-size are
    # attributes, and the policy may run in the outbound section to check responses.
    "llm-content-safety": {
        "attrs": {
            "enforce-on-completions": {"required": False, "type": "boolean"},
            "window-size": {"required": False, "type": "posint"},
            "window-overlap-size": {"required": False, "type": "uint"},
        },
        "sections": ["inbound", "outbound"],
        "sections_source": "docs (learn.microsoft.com/azure/api-management/llm-content-safety-policy, read 2026-12-06)",
    },
}


def main():
    shared = sys.argv[1]
    xsd_dir = os.path.join(shared, "vscode-apimanagement", "policySchemas")
    elements, complex_types, simple_types = load(xsd_dir)
    docs = json.load(open(os.path.join(shared, "docs-section-matrix.json")))["policies"]
    toolkit = json.load(open(os.path.join(shared, "toolkit-section-matrix.json")))["policies"]
    out = {}
    for name in sorted(elements):
        if name in ("policies", "fragment", "base"):
            continue
        spec = spec_of(elements[name], elements, complex_types, simple_types)
        if name in docs:
            spec["sections"] = sorted(docs[name]["sections"])
            spec["sections_source"] = "docs"
        elif name in toolkit:
            spec["sections"] = sorted(s for s in toolkit[name]["sections"] if s != "fragment")
            spec["sections_source"] = "toolkit"
        newer = NEWER.get(name)
        if newer:
            spec["attrs"].update(newer["attrs"])
            spec["sections"] = newer["sections"]
            spec["sections_source"] = newer["sections_source"]
        out[name] = spec
    json.dump(
        {
            "_derived_from": "vscode-apimanagement policySchemas/*.xsd, docs-section-matrix.json, toolkit-section-matrix.json (../shared/apim-policy) by tools/derive.py",
            "elements": out,
        },
        sys.stdout,
        indent=1,
        sort_keys=True,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
