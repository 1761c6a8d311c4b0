//! The shipped Redpanda Connect config (`pipeline-configs/redpanda-connect/
//! cwlogs.yaml`), parsed as YAML: its wiring, the module it loads, the
//! options it sets (checked by the core), index and id expressions, and its
//! values against the example commons list. No Redpanda Connect binary runs
//! here; the module itself is exercised by the harness
//! (`crates/harness/tests/harness/redpanda_connect.rs`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gen3_cwlogs::{EntryKind, OPTIONS, Options};
use gen3_cwlogs_redpanda_connect::{ERROR_KEY, OPTION_KEY_PREFIX};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn config() -> Value {
    let text = std::fs::read_to_string(repo().join("pipeline-configs/redpanda-connect/cwlogs.yaml")).expect("the shipped config");
    serde_yaml_ng::from_str(&text).expect("valid YAML")
}

/// The example list's entry for the config's commons.
fn commons() -> Value {
    let text = std::fs::read_to_string(repo().join("pipeline-configs/commons.example.json")).unwrap();
    let list: Value = serde_json::from_str(&text).unwrap();
    list["commons"].as_array().unwrap().iter().find(|commons| commons["name"] == "devplanetv1").unwrap().clone()
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("not a string: {value}"))
}

fn processors(config: &Value) -> &Vec<Value> {
    config["pipeline"]["processors"].as_array().unwrap()
}

/// `meta <key> = <expression>` lines of a Bloblang mapping.
fn meta_assignments(mapping: &str) -> Vec<(&str, &str)> {
    mapping.lines().filter_map(|line| line.trim().strip_prefix("meta ")?.split_once(" = ")).collect()
}

#[test]
fn the_input_reads_the_commons_stream() {
    let config = config();
    let kinesis = &config["input"]["aws_kinesis"];
    // The stream the CSOC template creates: ${CommonsName}_stream.
    let template = std::fs::read_to_string(repo().join("pipeline-configs/generated/aws/csoc.template.json")).unwrap();
    assert!(template.contains("\"${CommonsName}_stream\""));
    assert_eq!(kinesis["streams"], serde_json::json!(["devplanetv1_stream"]));
    assert_eq!(kinesis["region"], commons()["region"]);
    assert!(kinesis["dynamodb"]["table"].is_string(), "checkpoints need a table");
    // Unbatched: a trap fails one record only.
    assert!(kinesis.get("batching").is_none());
}

#[test]
fn the_options_are_the_commons_and_the_core_accepts_them() {
    let config = config();
    let mutation = text(&processors(&config)[0]["mutation"]);
    let mut options = Options::default();
    let mut names = BTreeSet::new();
    for (key, expression) in meta_assignments(mutation) {
        let name = key.strip_prefix(OPTION_KEY_PREFIX).unwrap_or_else(|| panic!("{key}: not an option key"));
        // A misspelt key would be silently ignored by the module.
        assert!(OPTIONS.iter().any(|spec| spec.name == name), "{key}: no such option");
        let value: String = serde_json::from_str(expression).unwrap_or_else(|_| panic!("{key}: not a string literal"));
        options.set(name, &value).unwrap_or_else(|error| panic!("{key}: {error}"));
        names.insert(name);
    }
    let commons = commons();
    let mut expected = Options::default();
    expected.set("commons", text(&commons["name"])).unwrap();
    expected.set("slow_threshold_secs", text(&commons["threshold"])).unwrap();
    let streams: Vec<&str> = commons["alert_streams"].as_array().unwrap().iter().map(text).collect();
    expected.set("alert_streams", &streams.join(",")).unwrap();
    assert_eq!(options, expected);
    assert_eq!(names.len(), 3);
}

#[test]
fn the_module_is_loaded_and_its_answer_fanned_out() {
    let config = config();
    let steps = processors(&config)[1]["try"].as_array().expect("the module's steps in a try");
    let wasm = &steps[0]["wasm"];
    assert!(text(&wasm["module_path"]).ends_with("/gen3_cwlogs_redpanda_connect.wasm"), "the artifact's file name");
    assert_eq!(wasm["function"], "process");
    // A refusal (metadata gen3_cwlogs_error) becomes the record's error.
    let check = text(&steps[1]["mapping"]);
    assert!(check.contains(&format!("@{ERROR_KEY} != null")) && check.contains(&format!("throw(@{ERROR_KEY})")), "{check}");
    assert_eq!(steps[2]["unarchive"]["format"], "json_array");
    let routing = text(&steps[3]["mapping"]);
    let assigned: Vec<&str> = meta_assignments(routing).into_iter().map(|(key, _)| key).collect();
    assert_eq!(assigned, ["cwlogs_kind", "cwlogs_id", "cwlogs_week", "cwlogs_hour"]);
    assert!(routing.contains("meta cwlogs_kind = this.kind") && routing.contains("meta cwlogs_id = this.id"));
    // Weekly indices by the event's own time, as the other pipelines name them.
    assert!(routing.contains("this.time_ms") && routing.contains(r#"ts_strftime("%G-w%V", "UTC")"#), "{routing}");
    assert!(routing.contains("this.record.alert.slack_payload") && routing.contains("this.record"));
    assert_eq!(steps.len(), 4);
}

#[test]
fn every_kind_goes_somewhere() {
    let config = config();
    let cases = config["output"]["switch"]["cases"].as_array().unwrap();
    let checks: Vec<&str> = cases.iter().map(|case| case["check"].as_str().unwrap_or("")).collect();
    assert_eq!(checks[0], "errored()", "failed records first, before their metadata is read");
    for kind in [EntryKind::Document, EntryKind::Alert, EntryKind::Error] {
        let check = format!("@cwlogs_kind == \"{}\"", kind.name());
        assert!(checks.contains(&check.as_str()), "no case for {}", kind.name());
    }
    assert_eq!(*checks.last().unwrap(), "", "a last case takes anything else");
    // Every resource named exists; every interpolated field reads metadata
    // the pipeline sets.
    let resources: BTreeSet<&str> = config["output_resources"].as_array().unwrap().iter().map(|r| text(&r["label"])).collect();
    let rate_limits: BTreeSet<&str> = config["rate_limit_resources"].as_array().unwrap().iter().map(|r| text(&r["label"])).collect();
    let routing = text(&processors(&config)[1]["try"][3]["mapping"]);
    let mut set: BTreeSet<String> = meta_assignments(routing).iter().map(|(key, _)| key.to_string()).collect();
    set.insert("fallback_error".to_owned());
    fn walk<'v>(value: &'v Value, out: &mut Vec<(&'v str, &'v Value)>) {
        match value {
            Value::Object(map) => map.iter().for_each(|(key, item)| {
                out.push((key, item));
                walk(item, out);
            }),
            Value::Array(items) => items.iter().for_each(|item| walk(item, out)),
            _ => {}
        }
    }
    let mut fields = Vec::new();
    walk(&config["output"], &mut fields);
    walk(&config["output_resources"], &mut fields);
    for (key, value) in &fields {
        match *key {
            "resource" => assert!(resources.contains(text(value)), "no output resource {value}"),
            "rate_limit" => assert!(rate_limits.contains(text(value)), "no rate limit {value}"),
            "processors" | "mapping" => {}
            _ => {
                let Some(value) = value.as_str() else { continue };
                for reference in value.split("@").skip(1) {
                    let name: String = reference.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if value.contains("${!") {
                        assert!(set.contains(&name), "{key}: {value} reads @{name}, which nothing sets");
                    }
                }
            }
        }
    }
}

fn find<'v>(value: &'v Value, key: &str) -> Vec<&'v Value> {
    match value {
        Value::Object(map) => map.iter().flat_map(|(k, v)| if k == key { vec![v] } else { find(v, key) }).collect(),
        Value::Array(items) => items.iter().flat_map(|item| find(item, key)).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn documents_go_to_the_commons_index_and_bucket() {
    let config = config();
    let search = find(&config["output"], "opensearch");
    assert_eq!(search.len(), 1);
    let search = search[0];
    assert_eq!(search["index"], "devplanetv1-${! @cwlogs_week }");
    assert_eq!(search["id"], "${! @cwlogs_id }", "the event id as _id");
    assert_eq!(search["action"], "index", "a replayed record overwrites its documents");
    assert_eq!(search["aws"]["enabled"], true, "requests signed for an AWS domain");
    assert_eq!(search["urls"], serde_json::json!(["${CWLOGS_SEARCH_URL}"]));
    let commons = commons();
    let resources = config["output_resources"].as_array().unwrap();
    let s3 = |label: &str| &resources.iter().find(|r| r["label"] == label).unwrap()["aws_s3"];
    for (label, prefix) in [("archive", text(&commons["s3"]["prefix"])), ("dead_letter", "dead-letter/")] {
        let bucket = s3(label);
        assert_eq!(bucket["bucket"], commons["s3"]["bucket"], "{label}");
        assert_eq!(bucket["region"], commons["s3"]["region"], "{label}");
        let path = text(&bucket["path"]);
        assert!(path.starts_with(&format!("{prefix}${{! @cwlogs_hour }}/devplanetv1-")) && path.ends_with(".json.gz"), "{path}");
        assert_eq!(bucket["metadata"]["exclude_prefixes"], serde_json::json!([""]), "{label}: no metadata on objects");
        let batching = &bucket["batching"]["processors"];
        assert_eq!(batching[0]["archive"]["format"], "lines");
        assert_eq!(batching[1]["compress"]["algorithm"], "gzip");
    }
    // The document case sends to both, the search's failures to the dead letter.
    let case = &config["output"]["switch"]["cases"][1];
    assert_eq!(case["output"]["broker"]["pattern"], "fan_out");
    assert_eq!(find(&case["output"], "resource").iter().map(|r| text(r)).collect::<Vec<_>>(), ["dead_letter", "archive"]);
}

#[test]
fn alerts_post_to_slack_and_secrets_stay_in_the_environment() {
    let config = config();
    let slack = find(&config["output"], "http_client");
    assert_eq!(slack.len(), 1);
    let slack = slack[0];
    let variable = text(&commons()["slack_webhook_path_env"]).to_owned();
    assert_eq!(slack["url"], format!("https://hooks.slack.com${{{variable}}}"));
    assert_eq!(slack["verb"], "POST");
    assert_eq!(slack["headers"]["Content-Type"], "application/json");
    // Environment variables: exactly the two secrets; nothing secret inline.
    let raw = std::fs::read_to_string(repo().join("pipeline-configs/redpanda-connect/cwlogs.yaml")).unwrap();
    let variables: BTreeSet<&str> =
        raw.split("${").skip(1).filter(|rest| !rest.starts_with('!')).map(|rest| &rest[..rest.find('}').unwrap()]).collect();
    assert_eq!(variables, BTreeSet::from(["CWLOGS_SEARCH_URL", variable.as_str()]));
    for secret in ["hooks.slack.com/services", "AKIA", "aws_secret", "password:"] {
        assert!(!raw.contains(secret), "{secret} in the config");
    }
}
