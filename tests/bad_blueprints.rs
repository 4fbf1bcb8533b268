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
        what: "deployment and deployments both set",
        base: "multi-deployment",
        from: "openai:\n  deployments:",
        to: "openai:\n  deployment: { name: x1, model: { name: gpt-4.1, version: \"2025-04-14\" }, sku: { name: GlobalStandard, capacity: 1 } }\n  deployments:",
        field: "openai.deployments",
        message: "`openai.deployment` and `openai.deployments` are both set",
        help: Some("keep only `deployment`"),
    },
    Case {
        what: "account serves an unknown deployment",
        base: "multi-deployment",
        from: "deployments: [chat, embeddings]",
        to: "deployments: [chat, embedings]",
        field: "openai.accounts[1].deployments[1]",
        message: "no deployment named `embedings` in openai.deployments",
        help: Some("did you mean `embeddings`?"),
    },
    Case {
        what: "spillover names an unknown deployment",
        base: "multi-deployment",
        from: "spillover: chat ",
        to: "spillover: chats ",
        field: "openai.deployments[1].spillover",
        message: "no deployment named `chats` in openai.deployments",
        help: Some("did you mean `chat`?"),
    },
    Case {
        what: "spillover on a standard deployment",
        base: "multi-deployment",
        from: "sku: { name: GlobalProvisionedManaged, capacity: 15 }",
        to: "sku: { name: GlobalStandard, capacity: 15 }",
        field: "openai.deployments[1].spillover",
        message: "only a provisioned deployment spills over",
        help: Some("GlobalProvisionedManaged"),
    },
    Case {
        what: "unknown RAI policy",
        base: "multi-deployment",
        from: "raiPolicy: strict-chat ",
        to: "raiPolicy: strict-chats ",
        field: "openai.deployments[0].raiPolicy",
        message: "no RAI policy named `strict-chats` in openai.raiPolicies",
        help: Some("did you mean `strict-chat`?"),
    },
    Case {
        what: "content safety threshold out of range",
        base: "multi-deployment",
        from: "{ name: Hate, threshold: 4 }",
        to: "{ name: Hate, threshold: 9 }",
        field: "contentSafety.categories[0].threshold",
        message: "severity threshold 9 is out of range",
        help: Some("allowed: 0-6"),
    },
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
        message: "expected a whole number from 0 to 4294967295, found the text \"lots\"",
        help: None,
    },
    Case {
        what: "negative number",
        base: "apim",
        from: "capacity: 200 }",
        to: "capacity: -1 }",
        field: "openai.deployment.sku.capacity",
        message: "expected a whole number from 0 to 4294967295, found `-1`",
        help: None,
    },
    Case {
        what: "misspelt deployment type",
        base: "apim",
        from: "sku: { name: GlobalStandard, capacity: 200 }",
        to: "sku: { name: GlobalStandardd, capacity: 200 }",
        field: "openai.deployment.sku.name",
        message: "unknown deployment type `GlobalStandardd`",
        help: Some("did you mean `GlobalStandard`?"),
    },
    Case {
        what: "deployment type in the wrong case",
        base: "apim",
        from: "sku: { name: GlobalStandard, capacity: 200 }",
        to: "sku: { name: globalstandard, capacity: 200 }",
        field: "openai.deployment.sku.name",
        message: "unknown deployment type `globalstandard`",
        help: Some("did you mean `GlobalStandard`?"),
    },
    Case {
        what: "misspelt API Management tier",
        base: "apim",
        from: "sku: { name: Premium, capacity: 1 }",
        to: "sku: { name: Premuim, capacity: 1 }",
        field: "apim.sku.name",
        message: "unknown value `Premuim`",
        help: Some("did you mean `Premium`?"),
    },
    Case {
        what: "misspelt retry mode",
        base: "apim",
        from: "on: transient,",
        to: "on: transiant,",
        field: "apim.loadBalancing.retry.on",
        message: "unknown value `transiant`",
        help: Some("did you mean `transient`?"),
    },
    Case {
        what: "misspelt WAF mode",
        base: "afd",
        from: "mode: Prevention",
        to: "mode: Prevension",
        field: "frontDoor.waf.mode",
        message: "unknown value `Prevension`",
        help: Some("did you mean `Prevention`?"),
    },
    Case {
        what: "WAF rule set action ARM does not have",
        base: "afd",
        from: "action: Block }",
        to: "action: Allow }",
        field: "frontDoor.waf.managedRuleSets[0].action",
        message: "unknown value `Allow`",
        help: Some("`Block`, `Log`, `Redirect`"),
    },
    Case {
        what: "misspelt probe protocol",
        base: "afd",
        from: "protocol: Https",
        to: "protocol: Htps",
        field: "frontDoor.originGroup.probe.protocol",
        message: "unknown value `Htps`",
        help: Some("did you mean `Https`?"),
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
        what: "caller header that carries a credential",
        base: "apim",
        from: "callerHeader: caller-objectid",
        to: "callerHeader: API-Key",
        field: "apim.jwt.callerHeader",
        message: "`API-Key` cannot carry the caller's object id: it carries a credential",
        help: Some("name a header of your own"),
    },
    Case {
        what: "caller header of Front Door",
        base: "apim",
        from: "callerHeader: caller-objectid",
        to: "callerHeader: x-azure-fdid",
        field: "apim.jwt.callerHeader",
        message: "Front Door sets the X-Azure-* headers",
        help: None,
    },
    Case {
        what: "caller header that describes the body",
        base: "apim",
        from: "callerHeader: caller-objectid",
        to: "callerHeader: Content-Type",
        field: "apim.jwt.callerHeader",
        message: "it describes the request body",
        help: None,
    },
    Case {
        what: "health answers never cached",
        base: "afd-apim",
        from: "cacheSeconds: 10 }",
        to: "cacheSeconds: 0 }",
        field: "frontDoor.originGroup.probe.cacheSeconds",
        message:
            "health cache seconds 0 leaves the health operation's calls on the accounts unbounded",
        help: Some("allowed: 1-60"),
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

/// Run `args` on a blueprint of `text`; (exit code, stdout, stderr).
fn run_on(text: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, text).unwrap();
    let out = common::bin()
        .args(args)
        .arg(&file)
        .env_remove("AOAI_ARCH_ARM_ENDPOINT")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).replace(file.to_str().unwrap(), "bad.yaml"),
        String::from_utf8_lossy(&out.stderr).replace(file.to_str().unwrap(), "bad.yaml"),
    )
}

#[test]
fn syntax_errors_are_said_in_words_at_the_line_that_holds_them() {
    let apim = common::read(&common::example("apim"));
    let line_of = |text: &str, needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map(|i| i + 1)
            .unwrap()
    };
    // An unclosed `{`: reported at the brace, not as a type error of the lines it swallowed.
    let unclosed = apim.replacen("capacity: 200 }", "capacity: 200", 1);
    let at = line_of(&unclosed, "capacity: 200");
    for cmd in [&["lint"][..], &["plan", "--emulator"][..]] {
        let (code, out, err) = run_on(&unclosed, cmd);
        let all = format!("{out}{err}");
        assert_eq!(code, Some(1), "{cmd:?}: {all}");
        assert!(all.contains("this `{` is not closed"), "{cmd:?}: {all}");
        assert!(all.contains(&format!("bad.yaml:{at}:")), "{cmd:?}: {all}");
        assert!(!all.contains("expected"), "{cmd:?}: {all}");
    }
    // An unclosed `[` found by its line.
    let (code, out, _) = run_on(
        "version: 1\npattern: apim\nopenai: [1, 2\nsubscription: x\n",
        &["lint"],
    );
    assert_eq!(code, Some(1));
    assert!(out.contains("this `[` is not closed"), "{out}");
    assert!(out.contains("bad.yaml:3:9"), "{out}");
    // A tab in the indentation.
    let tabbed = apim.replacen("\n  kind: OpenAI", "\n\tkind: OpenAI", 1);
    let at = line_of(&tabbed, "\tkind: OpenAI");
    let (code, out, _) = run_on(&tabbed, &["lint"]);
    assert_eq!(code, Some(1));
    assert!(
        out.contains("tabs are not allowed in YAML; indent with spaces"),
        "{out}"
    );
    assert!(out.contains(&format!("bad.yaml:{at}:1")), "{out}");
    // An empty file, or one of comments only.
    for empty in ["", "\n\n", "# nothing yet\n---\n"] {
        let (code, out, _) = run_on(empty, &["lint"]);
        assert_eq!(code, Some(1));
        assert!(out.contains("the file is empty"), "{empty:?}: {out}");
        assert!(!out.contains("missing field"), "{out}");
    }
}

#[test]
fn the_in_process_emulator_and_an_arm_endpoint_are_not_taken_together() {
    let apim = common::example("apim");
    for extra in [
        &["--arm-endpoint", "http://127.0.0.1:9"][..],
        &[][..], // from the environment
    ] {
        let mut cmd = common::bin();
        cmd.arg("plan").arg(&apim).arg("--emulator").args(extra);
        if extra.is_empty() {
            cmd.env("AOAI_ARCH_ARM_ENDPOINT", "http://127.0.0.1:9");
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("--emulator") && err.contains("--arm-endpoint"),
            "{err}"
        );
        assert!(err.contains("cannot be used with"), "{err}");
    }
}

#[test]
fn a_misspelt_deployment_type_stops_lint_and_plan_at_its_line() {
    let apim = common::read(&common::example("apim"));
    let bad = apim.replacen("name: GlobalStandard,", "name: GlobalStandardd,", 1);
    let line = bad
        .lines()
        .position(|l| l.contains("GlobalStandardd"))
        .unwrap()
        + 1;
    for cmd in [&["lint"][..], &["plan", "--emulator"][..]] {
        let (code, out, err) = run_on(&bad, cmd);
        let all = format!("{out}{err}");
        assert_eq!(code, Some(1), "{cmd:?}: {all}");
        assert!(
            all.contains("unknown deployment type `GlobalStandardd`"),
            "{cmd:?}: {all}"
        );
        assert!(all.contains(&format!("bad.yaml:{line}:")), "{cmd:?}: {all}");
        assert!(
            all.contains("did you mean `GlobalStandard`?"),
            "{cmd:?}: {all}"
        );
        assert!(
            all.contains("= field: openai.deployment.sku.name"),
            "{cmd:?}: {all}"
        );
    }
}

#[test]
fn unknown_values_azure_may_have_added_are_warnings_naming_the_known_ones() {
    let apim = common::read(&common::example("apim"));
    // A deployment type far from every known one: perhaps new in Azure, so a warning.
    let new_type = apim.replacen("name: GlobalStandard,", "name: GlobalPriority,", 1);
    let (code, out, _) = run_on(&new_type, &["lint", "--format", "json"]);
    assert_eq!(code, Some(0), "{out}");
    let findings: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "AOAI100")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["location"]["field"], "openai.deployment.sku.name");
    let msg = f["message"].as_str().unwrap();
    for known in [
        "GlobalStandard",
        "DataZoneStandard",
        "ProvisionedManaged",
        "GlobalBatch",
    ] {
        assert!(msg.contains(known), "{msg}");
    }
    assert!(!out.contains("AOAI022"), "said twice: {out}");
    // `--deny warnings` turns it into a failure, as for every warning.
    let (code, _, _) = run_on(&new_type, &["lint", "--deny", "warnings"]);
    assert_eq!(code, Some(1));
    // A model name, and a WAF managed rule set, a typo away from a known one.
    let afd = common::read(&common::example("afd"));
    for (text, warning) in [
        (
            apim.replacen("model: { name: gpt-5.4-mini,", "model: { name: gpt-5.4-minii,", 1),
            "warning[AOAI101]: `gpt-5.4-minii` is not a model of the capability data: did you mean `gpt-5.4-mini`?",
        ),
        (
            afd.replacen(
                "type: Microsoft_BotManagerRuleSet,",
                "type: Microsoft_BotManagerRuleSett,",
                1,
            ),
            "warning[AOAI103]: `Microsoft_BotManagerRuleSett` is not a known WAF managed rule set: did you mean `Microsoft_BotManagerRuleSet`?",
        ),
    ] {
        let (code, out, _) = run_on(&text, &["lint"]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains(warning), "{out}");
    }
    // lint.allow names our own rules: an unknown id is an error, with the likely one.
    let allow = format!("{apim}\nlint:\n  allow:\n    - {{ rule: AOAI04, reason: typo }}\n");
    let (code, out, _) = run_on(&allow, &["lint"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("error[AOAI102]: no lint rule `AOAI04`"),
        "{out}"
    );
    assert!(out.contains("= field: lint.allow[0].rule"), "{out}");
}

#[test]
fn lint_and_plan_report_every_error_of_a_file_in_one_run() {
    let apim = common::read(&common::example("apim"));
    let line_of = |text: &str, needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map(|i| i + 1)
            .unwrap()
    };
    // Type errors: serde stops at the first; every one is reported, in the order of the file.
    let types = apim
        .replacen("capacity: 200 }", "capacity: lots }", 1)
        .replacen("weight: 70,", "weight: -70,", 1)
        .replacen("mode: pool", "mode: pooled", 1);
    let expected = [
        (line_of(&types, "capacity: lots"), "found the text \"lots\""),
        (line_of(&types, "weight: -70"), "found `-70`"),
        (line_of(&types, "mode: pooled"), "unknown value `pooled`"),
    ];
    for cmd in [&["lint"][..], &["plan", "--emulator"][..]] {
        let (code, out, err) = run_on(&types, cmd);
        let all = format!("{out}{err}");
        assert_eq!(code, Some(1), "{cmd:?}: {all}");
        let mut at = 0;
        for (line, what) in expected {
            let i = all[at..]
                .find(what)
                .unwrap_or_else(|| panic!("{cmd:?}: `{what}` (in order) in {all}"));
            at += i;
            assert!(
                all[at..].contains(&format!("bad.yaml:{line}:")),
                "{cmd:?}: {all}"
            );
        }
        assert!(!all.contains("missing field"), "{cmd:?}: {all}");
    }
    // A misspelt key is one error (not also a missing field), and the value under it is
    // still checked.
    let key = apim.replacen("\nlocation: swedencentral", "\nlocaton: [swedencentral]", 1);
    let (code, out, _) = run_on(&key, &["lint"]);
    assert_eq!(code, Some(1));
    assert!(out.contains("unknown field `locaton`"), "{out}");
    assert!(out.contains("expected text, found a list"), "{out}");
    assert!(!out.contains("missing field"), "{out}");
    // Validation errors: all of them too.
    let invalid = apim
        .replacen("name: GlobalStandard,", "name: GlobalStandar,", 1)
        .replacen("region: norwayeast", "region: norwaywest2", 1);
    let (code, _, err) = run_on(&invalid, &["plan", "--emulator"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("unknown deployment type `GlobalStandar`"),
        "{err}"
    );
    assert!(
        err.contains("`norwaywest2` is not an Azure region name"),
        "{err}"
    );
    assert!(err.contains("2 errors"), "{err}");
    // At most 20 are shown; the count says how many there are.
    let mut many = apim.clone();
    for i in 0..25 {
        many.push_str(&format!("extra{i}: 1\n"));
    }
    let (code, _, err) = run_on(&many, &["render", "--out", "/nonexistent/out"]);
    assert_eq!(code, Some(1));
    assert_eq!(err.matches("unknown field `extra").count(), 20, "{err}");
    assert!(err.contains("25 errors (20 shown)"), "{err}");
}
