//! Bad blueprints, through the binary: each gives one clear error naming file, line, column
//! and field, and nothing is rendered.

mod common;

struct Case {
    what: &'static str,
    base: &'static str,
    from: &'static str,
    to: &'static str,
    field: &'static str,
    message: &'static str,
    help: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        what: "unknown field",
        base: "apim",
        from: "location: swedencentral",
        to: "locaton: swedencentral",
        field: "locaton",
        message: "unknown field `locaton`",
        help: Some("did you mean `location`?"),
    },
    Case {
        what: "unknown nested field",
        base: "afd",
        from: "    sampleSize: 4",
        to: "    sampleSise: 4",
        field: "frontDoor.originGroup.sampleSise",
        message: "unknown field `sampleSise`",
        help: Some("did you mean `sampleSize`?"),
    },
    Case {
        what: "wrong type",
        base: "apim",
        from: "capacity: 200 }",
        to: "capacity: lots }",
        field: "openai.deployment.sku.capacity",
        message: "invalid type: string \"lots\", expected u32",
        help: None,
    },
    Case {
        what: "bad enum value",
        base: "apim",
        from: "mode: pool",
        to: "mode: pooled",
        field: "apim.loadBalancing.mode",
        message: "unknown value `pooled`",
        help: Some("did you mean `pool`?"),
    },
    Case {
        what: "bad APIM name",
        base: "apim",
        from: "name: apim-aoai-gw",
        to: "name: 1apim_gw",
        field: "apim.name",
        message: "API Management service name `1apim_gw` contains `_`",
        help: Some("starting with a letter"),
    },
    Case {
        what: "missing section",
        base: "apim",
        from: "pattern: apim",
        to: "pattern: afd-apim",
        field: "pattern",
        message: "pattern `afd-apim` needs a `frontDoor` section",
        help: None,
    },
    Case {
        what: "missing field",
        base: "apim",
        from: "  publisher: { name: Contoso AI Platform, email: ai-platform@contoso.com }\n",
        to: "",
        field: "apim",
        message: "missing field `publisher`",
        help: None,
    },
    Case {
        what: "inconsistent deployment names",
        base: "afd",
        from: "region: swedencentral }",
        to: "region: swedencentral, deploymentName: gpt4o }",
        field: "openai.accounts[1].deploymentName",
        message: "every account behind Front Door must serve the same deployment name",
        help: Some("set it to `gpt-5-mini`"),
    },
    Case {
        what: "display name instead of region",
        base: "afd",
        from: "location: westeurope",
        to: "location: West Europe",
        field: "location",
        message: "`West Europe` is not an Azure region name",
        help: Some("use the ARM region name `westeurope`"),
    },
    Case {
        what: "misspelled region",
        base: "afd",
        from: "region: swedencentral }",
        to: "region: swedencentrl }",
        field: "openai.accounts[1].region",
        message: "`swedencentrl` is not an Azure region name",
        help: Some("did you mean `swedencentral`?"),
    },
    Case {
        what: "bad subnet id",
        base: "apim",
        // The short form names only a network of `networks`.
        from: "subnetId: vnet-hub/private-endpoints",
        to: "subnetId: vnet-spoke/private-endpoints",
        field: "networking.privateEndpoints[0].subnetId",
        message: "is not a subnet resource id",
        help: None,
    },
    Case {
        what: "additional regions without Premium",
        base: "afd-apim",
        from: "sku: { name: Premium, capacity: 1 }",
        to: "sku: { name: Standard, capacity: 1 }",
        field: "apim.additionalRegions",
        message: "additional regions need the Premium SKU (this is Standard)",
        help: None,
    },
    Case {
        what: "Private Link to Azure OpenAI",
        base: "afd",
        from: "  originTimeoutSeconds: 240",
        to: "  originTimeoutSeconds: 240\n  privateLink: true",
        field: "frontDoor.privateLink",
        message: "Front Door Private Link to Azure OpenAI is not supported",
        help: Some("use pattern `afd-apim`"),
    },
    Case {
        what: "APIM region without accounts",
        base: "afd-apim",
        from: "    - { name: aoai-glb-jpe, region: japaneast }\n",
        to: "",
        field: "apim.additionalRegions[1].region",
        message: "APIM gateway region `japaneast` has no Azure OpenAI account",
        help: None,
    },
    Case {
        what: "bad subscription id",
        base: "afd",
        from: "subscription: 00000000-0000-0000-0000-000000000001",
        to: "subscription: my-subscription",
        field: "subscription",
        message: "`my-subscription` is not a subscription id",
        help: None,
    },
    Case {
        what: "YAML syntax error",
        base: "afd",
        from: "  profile: afd-aoai",
        to: "  profile: [afd-aoai",
        field: "",
        message: "",
        help: None,
    },
];

#[test]
fn each_bad_blueprint_gives_one_located_error() {
    for case in CASES {
        let base = common::read(&common::example(case.base));
        assert!(
            base.contains(case.from),
            "{}: `{}` not in {}",
            case.what,
            case.from,
            case.base
        );
        let text = base.replacen(case.from, case.to, 1);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.yaml");
        std::fs::write(&file, &text).unwrap();
        let out_dir = dir.path().join("out");
        let out = common::bin()
            .arg("render")
            .arg(&file)
            .arg("--out")
            .arg(&out_dir)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {err}", case.what);
        assert!(
            !out_dir.exists(),
            "{}: rendered despite the error",
            case.what
        );
        assert_eq!(err.matches("error:").count(), 1, "{}: {err}", case.what);
        // file:line:column, and the line shown is the one that holds the problem.
        let loc = err
            .lines()
            .find(|l| l.trim_start().starts_with("--> "))
            .unwrap_or_else(|| panic!("{}: no location in {err}", case.what));
        let loc = loc.trim_start().trim_start_matches("--> ");
        let mut parts = loc.rsplitn(3, ':');
        let col: usize = parts.next().unwrap().parse().unwrap();
        let line: usize = parts.next().unwrap().parse().unwrap();
        assert_eq!(
            parts.next().unwrap(),
            file.to_str().unwrap(),
            "{}",
            case.what
        );
        assert!(line >= 1 && col >= 1, "{}: {loc}", case.what);
        if !case.field.is_empty() {
            assert!(
                err.contains(&format!("= field: {}", case.field)),
                "{}: {err}",
                case.what
            );
            let key = case
                .field
                .rsplit(['.', '['])
                .next()
                .unwrap()
                .trim_end_matches(']');
            let src = text.lines().nth(line - 1).unwrap();
            let key_or_index = key.parse::<usize>().is_ok()
                || src.contains(key)
                || case.to.is_empty()
                || src.contains(case.to.trim());
            assert!(
                key_or_index,
                "{}: line {line} is `{src}`, expected it to hold `{key}`",
                case.what
            );
        }
        assert!(
            err.contains(case.message),
            "{}: expected `{}` in {err}",
            case.what,
            case.message
        );
        if let Some(h) = case.help {
            assert!(
                err.contains("= help: ") && err.contains(h),
                "{}: expected help `{h}` in {err}",
                case.what
            );
        }
    }
}

#[test]
fn schema_command_prints_a_json_schema_that_closes_objects() {
    let out = common::bin().arg("schema").output().unwrap();
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["additionalProperties"], false);
    let props = schema["properties"].as_object().unwrap();
    for key in [
        "version",
        "pattern",
        "subscription",
        "resourceGroup",
        "location",
        "openai",
        "apim",
        "frontDoor",
    ] {
        assert!(props.contains_key(key), "{key} missing");
    }
    // The examples validate against it.
    let validator = jsonschema::validator_for(&schema).unwrap();
    for name in common::EXAMPLES {
        let v: serde_json::Value =
            serde_norway::from_str(&common::read(&common::example(name))).unwrap();
        let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}
