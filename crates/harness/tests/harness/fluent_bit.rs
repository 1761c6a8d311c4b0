//! The Fluent Bit module through an exact imitation of filter_wasm's
//! calling sequence, then the shipped Lua filters in LuaJIT.

use base64::Engine as _;
use gen3_cwlogs::{Decoder, EntryKind, Options, Output};
use gen3_cwlogs_harness::fluent_bit::{FLUENT_BIT_WASM, FUNCTION_NAME, FilterOutcome, host, module_options, record_of, stored};
use gen3_cwlogs_harness::lua::{LuaFilter, parser_filter_json};
use gen3_cwlogs_harness::{fixture, fixtures, native, render};
use serde_json::{Value, json};
use wasmparser::{Parser, Payload};

const TAG: &str = "cwlogs.devplanetv1";

fn lua_script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pipeline-configs/fluent-bit/cwlogs.lua")
}

fn replaced(outcome: FilterOutcome) -> Value {
    match outcome {
        FilterOutcome::Replaced(value) => value,
        FilterOutcome::Dropped => panic!("the module dropped a record"),
    }
}

#[test]
fn module_imports_nothing_and_exports_the_filter_abi() {
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    for payload in Parser::new(0).parse_all(FLUENT_BIT_WASM) {
        match payload.unwrap() {
            Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    let import = import.unwrap();
                    imports.push(format!("{}::{}", import.module, import.name));
                }
            }
            Payload::ExportSection(section) => {
                for export in section {
                    exports.push(export.unwrap().name.to_owned());
                }
            }
            _ => {}
        }
    }
    assert_eq!(imports, Vec::<String>::new());
    for name in ["memory", "malloc", "free", FUNCTION_NAME] {
        assert!(exports.iter().any(|export| export == name), "missing export {name} in {exports:?}");
    }
    println!("Fluent Bit module: {} bytes, imports: none", FLUENT_BIT_WASM.len());
}

/// The module's entries are the core's, in order: documents and error
/// documents as the core wrote them, alerts shaped for the http output.
fn assert_matches_core(name: &str, payload: &[u8], options: &Options, result: &Value) {
    let mut expected = Output::default();
    expected.counters = Decoder::new(options.clone()).unwrap().decode_with_embedded_options(payload, &mut expected);
    assert_eq!(result["_cwlogs_kind"], "result", "{name}: the result is marked");
    let entries = result["records"].as_array().expect("records array");
    assert_eq!(entries.len(), expected.entries.len(), "{name}: entries");
    for (entry, core) in entries.iter().zip(&expected.entries) {
        assert_eq!(entry["kind"], core.kind.name(), "{name}");
        assert_eq!(entry["time_ms"].as_i64(), core.time_ms, "{name}: time");
        let line: Value = serde_json::from_str(&core.json).unwrap();
        let record = stored(entry);
        if core.kind == EntryKind::Alert {
            let payload = record["slack_payload"].as_str().map(|text| serde_json::from_str::<Value>(text).unwrap());
            assert_eq!(payload, Some(line["alert"]["slack_payload"].clone()), "{name}");
            assert_eq!(record["slack_headers"], json!({"Content-Type": "application/json"}));
            assert_eq!(record["document_id"], core.id.as_str());
            assert_eq!(record["commons"], core.commons.as_deref().unwrap_or("unknown"));
        } else {
            // The core's text, byte for byte: documents keep key order and numbers.
            assert_eq!(entry["json"].as_str().filter(|_| core.kind == EntryKind::Document).unwrap_or(&core.json), core.json, "{name}");
            assert_eq!(record, line, "{name}");
        }
    }
    let counters = &result["counters"];
    for (key, value) in gen3_cwlogs::Counters::NAMES.iter().zip(expected.counters.values()) {
        assert_eq!(counters[key], value, "{name}: {key}");
    }
}

/// A fixture's options as the pipeline's `modify` filter writes them into
/// a record: `gen3_cwlogs_<option>` keys holding the text form.
fn embed_options(payload: &[u8], options: &Options) -> Option<Vec<u8>> {
    if *options == Options::default() {
        return None;
    }
    let mut value: Value = serde_json::from_slice(payload).ok()?;
    let object = value.as_object_mut()?;
    let defaults = Options::default();
    let mut set = |name: &str, text: String| object.insert(format!("gen3_cwlogs_{name}"), Value::String(text));
    if let Some(commons) = &options.commons {
        set("commons", commons.clone());
    }
    if let Some(secs) = options.slow_threshold_secs {
        set("slow_threshold_secs", secs.to_string());
    }
    if !options.alert_streams.is_empty() {
        set("alert_streams", options.alert_streams.join(","));
    }
    if options.schema != defaults.schema {
        set("schema", options.schema.name().to_owned());
    }
    if options.max_decompressed_bytes != defaults.max_decompressed_bytes {
        set("max_decompressed_bytes", options.max_decompressed_bytes.to_string());
    }
    if options.max_events_per_record != defaults.max_events_per_record {
        set("max_events_per_record", options.max_events_per_record.to_string());
    }
    Some(serde_json::to_vec(&value).unwrap())
}

#[test]
fn every_fixture_through_the_host_gives_its_golden_file() {
    let mut host = host();
    let mut golden = 0;
    for fixture in fixtures() {
        // The pipeline writes a commons' options into each record; Fluent
        // Bit hands the module JSON objects, and the module must survive
        // anything else too.
        let embedded = embed_options(&fixture.input, &fixture.options);
        let payload = embedded.as_deref().unwrap_or(&fixture.input);
        let result = replaced(host.call(TAG, (1_700_000_000, 5), payload).unwrap());
        assert_matches_core(&fixture.name, payload, &module_options(), &result);
        // Where the options reach the module and its depth limit (48)
        // changes nothing, its entries are the golden file's lines.
        let at_module_depth = Options { max_json_depth: gen3_cwlogs_fluent_bit::MAX_JSON_DEPTH, ..fixture.options.clone() };
        // A fixture carrying its own `gen3_cwlogs_*` keys tests what only
        // this host reads; its golden file is what other hosts give.
        let carries_options = fixture.input.windows(12).any(|window| window == b"gen3_cwlogs_");
        let options_reach_the_module = !carries_options && (embedded.is_some() || fixture.options == Options::default());
        if options_reach_the_module && render(&native(&fixture.input, &at_module_depth)) == fixture.expected() {
            let lines: Vec<Value> = fixture.expected().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
            let entries = result["records"].as_array().unwrap();
            assert_eq!(entries.len() + 1, lines.len(), "{}", fixture.name);
            for (entry, line) in entries.iter().zip(&lines) {
                match entry["kind"].as_str() {
                    Some("alert") => assert_eq!(stored(entry)["document_id"], line["alert"]["document_id"], "{}", fixture.name),
                    _ => assert_eq!(&stored(entry), line, "{}", fixture.name),
                }
            }
            // The record is the fixture plus its options: more input bytes.
            let (mut counters, mut golden_counters) = (result["counters"].clone(), lines.last().unwrap()["counters"].clone());
            counters["input_bytes"] = Value::Null;
            golden_counters["input_bytes"] = Value::Null;
            assert_eq!(counters, golden_counters, "{}", fixture.name);
            golden += 1;
        }
    }
    assert!(golden >= 20, "only {golden} fixtures compared with their golden files");
}

/// A payload as the pipeline's `modify` filter leaves it: the Firehose
/// delivery plus the commons' options.
fn with_options(payload: &[u8], extra: Value) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(payload).unwrap();
    for (key, item) in extra.as_object().unwrap() {
        value[key] = item.clone();
    }
    serde_json::to_vec(&value).unwrap()
}

#[test]
fn options_come_from_the_record() {
    let alerts = fixture("alerts");
    let payload = with_options(
        &alerts.input,
        json!({"gen3_cwlogs_commons": "devplanetv1", "gen3_cwlogs_slow_threshold_secs": "65.0", "gen3_cwlogs_alert_streams": "revproxy,sheepdog,peregrine"}),
    );
    let result = replaced(host().call(TAG, (0, 0), &payload).unwrap());
    let kinds: Vec<&str> = result["records"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "alert").count(), 3, "{kinds:?}");
    let documents: Vec<&Value> = result["records"].as_array().unwrap().iter().filter(|e| e["kind"] == "document").collect();
    for document in documents {
        assert_eq!(record_of(document)["commons"], "devplanetv1");
        assert!(record_of(document).get("gen3_cwlogs_commons").is_none(), "option keys never reach documents");
    }
    // Without the keys: no alerts, commons from the log group.
    let plain = replaced(host().call(TAG, (0, 0), &alerts.input).unwrap());
    assert!(plain["records"].as_array().unwrap().iter().all(|e| e["kind"] != "alert"));
}

#[test]
fn no_result_nests_deeper_than_fluent_bit_can_read() {
    // Fluent Bit loses a record nested deeper than 64 levels; the module's
    // depth limit keeps every result within it, messages, merged logs and
    // copied envelope fields alike.
    let deep = |levels: usize| format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
    let log = format!("{{\"a\":{}}}\n", deep(100));
    let envelope = json!({
        "messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "g", "logStream": "s", "subscriptionFilters": [],
        "policyDeep": serde_json::from_str::<Value>(&deep(100)).unwrap(),
        "logEvents": [
            {"id": "1", "timestamp": 1, "message": format!("{{\"a\":{}}}", deep(100))},
            {"id": "2", "timestamp": 1, "message": json!({"log": log}).to_string()},
            {"id": "3", "timestamp": 1, "message": format!("{{\"a\":{}}}", deep(40))},
        ]
    });
    let result = replaced(host().call(TAG, (0, 0), envelope.to_string().as_bytes()).unwrap());
    fn depth(value: &Value) -> usize {
        match value {
            Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
            Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    assert!(depth(&result) <= 64, "result nests {} deep", depth(&result));
    let records: Vec<Value> = result["records"].as_array().unwrap().iter().map(record_of).collect();
    assert_eq!(records.len(), 3, "every event kept");
    // Each record, as the parser filter makes it, within what Fluent Bit reads.
    for record in &records {
        assert!(depth(record) <= 64, "a record nests {} deep", depth(record));
    }
    assert!(records[0]["message"]["log"].is_string(), "too deep: kept as text");
    assert!(records[0]["policyDeep"].is_string(), "deep envelope field kept as text");
    assert!(records[2]["message"]["a"].is_array(), "within the limit: parsed");
}

#[test]
fn a_failed_record_copy_becomes_an_error_entry() {
    let result = replaced(host().call_without_record(TAG).unwrap());
    assert_eq!(result["records"][0]["kind"], "error");
    assert!(stored(&result["records"][0])["error"]["kind"].is_string());
    assert_eq!(result["counters"]["records_failed"], 1);
}

fn kinesis_event_with_record_of(size: usize) -> Vec<u8> {
    // Incompressible message text, so the gzip'd record is about `size`.
    let mut state = 0x1234_5678_u64;
    let mut events = Vec::new();
    let mut total = 0;
    let mut n = 0;
    while total < size {
        let text: String = (0..2000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(b'!' + (state % 90) as u8)
            })
            .collect();
        total += text.len() * 3 / 4;
        events.push(json!({"id": n.to_string(), "timestamp": 1_521_826_474_000_i64 + n, "message": text}));
        n += 1;
    }
    let envelope = json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "devplanetv1", "logStream": "big", "subscriptionFilters": [], "logEvents": events});
    let gzip = gen3_cwlogs_workload::gzip(envelope.to_string().as_bytes());
    let data = base64::engine::general_purpose::STANDARD.encode(&gzip);
    serde_json::to_vec(&json!({"Records": [{"kinesis": {"data": data, "sequenceNumber": "1"}}]})).unwrap()
}

#[test]
fn one_mebibyte_records_and_a_multi_mebibyte_delivery_pass() {
    let mut host = host();
    let payload = kinesis_event_with_record_of(1 << 20);
    assert!(payload.len() > (1 << 20), "payload is {} bytes", payload.len());
    let result = replaced(host.call(TAG, (0, 0), &payload).unwrap());
    assert_matches_core("1 MiB record", &payload, &module_options(), &result);
    assert_eq!(result["counters"]["errors"], 0);

    let generated = gen3_cwlogs_workload::generate(&gen3_cwlogs_workload::Spec {
        form: gen3_cwlogs_workload::Form::Firehose,
        records: 320,
        events_per_record: 100,
        ..Default::default()
    });
    assert!(generated.payload.len() > 4 << 20, "{} bytes", generated.payload.len());
    let result = replaced(host.call(TAG, (0, 0), &generated.payload).unwrap());
    assert_eq!(result["counters"]["documents"], generated.events);
}

#[test]
fn one_hundred_thousand_calls_keep_memory_flat() {
    let mut host = host();
    let inputs: Vec<Vec<u8>> =
        ["seed-kinesis-event", "bad-events", "firehose-delivery", "alerts", "s3-archive", "messages", "bad-payload-json"]
            .iter()
            .map(|name| fixture(name).input)
            .collect();
    // Warm-up: every buffer reaches its working size.
    for input in &inputs {
        replaced(host.call(TAG, (0, 0), input).unwrap());
    }
    let warm = host.memory_bytes();
    let mut first_result = Vec::new();
    for call in 0..100_000 {
        let input = &inputs[call % inputs.len()];
        if call < inputs.len() {
            replaced(host.call(TAG, (0, 0), input).unwrap());
            first_result.push(host.last_result.clone());
        } else {
            // The same input still gives the same bytes (parsed once above).
            let text = host.call_raw(TAG, (0, 0), input).unwrap().expect("not dropped");
            assert!(text == first_result[call % inputs.len()], "call {call}: result changed");
        }
    }
    let after = host.memory_bytes();
    println!("linear memory: {warm} bytes after warm-up, {after} bytes after 100,000 calls");
    assert_eq!(after, warm, "linear memory grew from {warm} to {after} bytes");
}

#[test]
fn the_shipped_lua_splits_the_modules_real_output() {
    let lua = LuaFilter::load(&lua_script());
    let mut host = host();
    for fixture in fixtures() {
        let name = &fixture.name;
        // Every record the module can emit, options as the pipeline sets them.
        let payload = match serde_json::from_slice::<Value>(&fixture.input) {
            Ok(Value::Object(_)) => {
                with_options(&fixture.input, json!({"gen3_cwlogs_commons": "devplanetv1", "gen3_cwlogs_slow_threshold_secs": "65"}))
            }
            _ => fixture.input.clone(),
        };
        let result = replaced(host.call(TAG, (0, 0), &payload).unwrap());
        let arrival = 1_700_000_000.25;
        let split = lua.call("split", TAG, arrival, &result);
        let entries = result["records"].as_array().unwrap();
        assert_eq!(split.len(), entries.len(), "{name}: one record per entry");
        // What the core writes for this payload, in order: what must be stored.
        let mut core = Output::default();
        Decoder::new(module_options()).unwrap().decode_with_embedded_options(&payload, &mut core);
        for (((time, record), entry), core) in split.iter().zip(entries).zip(&core.entries) {
            assert_eq!(*time, arrival, "split keeps the input time");
            let timed = lua.call("set_time", TAG, *time, record);
            assert_eq!(timed.len(), 1);
            let (time, record) = &timed[0];
            // Exact to the millisecond: the event's own time, or arrival.
            let expected_time = entry["time_ms"].as_i64().map_or(arrival, |millis| millis as f64 / 1000.0);
            assert!((time - expected_time).abs() < 1e-6, "{name}: record time {time} != {expected_time}");
            assert!(record.get("_cwlogs_time_ms").is_none(), "set_time removes its field");
            // Lua only moved the text: it is the module's, byte for byte.
            assert_eq!(record, &json!({"_cwlogs_json": entry["json"]}), "{name}: record changed in Lua");
            let parsed = parser_filter_json("_cwlogs_json", record);
            let mut kept = parsed.clone();
            let marker = kept.as_object_mut().unwrap().remove("_cwlogs_kind");
            let line: Value = serde_json::from_str(&core.json).unwrap();
            match core.kind {
                // The document exactly as the core wrote it (no Lua number or
                // key-order changes any more), with no routing field.
                EntryKind::Document => {
                    assert_eq!(marker, None);
                    assert_eq!(parsed, line, "{name}");
                    assert_eq!(serde_json::to_string(&parsed).unwrap(), serde_json::to_string(&line).unwrap(), "{name}: key order");
                }
                EntryKind::Error => {
                    assert_eq!(marker, Some(json!("error")));
                    assert_eq!(kept, line, "{name}");
                }
                EntryKind::Alert => {
                    assert_eq!(marker, Some(json!("alert")));
                    let payload: Value = serde_json::from_str(kept["slack_payload"].as_str().unwrap()).unwrap();
                    assert_eq!(payload, line["alert"]["slack_payload"], "{name}");
                }
            }
        }
    }
    // Times the module never emits cannot fail set_time either: the record
    // keeps its arrival time and loses the field.
    for millis in [json!(-1), json!(4_294_967_296_000_i64), json!(253_402_300_799_999_i64), json!("soon"), json!(1.5e300), json!(true)] {
        let record = json!({"_cwlogs_time_ms": millis, "_cwlogs_json": "{\"id\":\"x\"}"});
        let timed = lua.call("set_time", TAG, 1_700_000_000.0, &record);
        assert_eq!(timed, vec![(1_700_000_000.0, json!({"_cwlogs_json": "{\"id\":\"x\"}"}))], "{millis}");
    }
    for (millis, seconds) in [(0_i64, 0.0), (4_294_967_295_999, 4_294_967_295.999)] {
        let timed = lua.call("set_time", TAG, 1.0, &json!({"_cwlogs_time_ms": millis}));
        assert!((timed[0].0 - seconds).abs() < 1e-6, "{millis}: {}", timed[0].0);
    }
    // Entries that are not tables are skipped, not an error.
    let odd =
        json!({"records": [42, {"kind": "document", "json": {"id": "1"}}, {"kind": "document", "json": "{\"id\":\"2\"}"}], "counters": {}});
    assert_eq!(lua.call("split", TAG, 1.0, &odd), vec![(1.0, json!({"_cwlogs_json": "{\"id\":\"2\"}"}))]);
    // The parser filter passes a record without the text unchanged (e.g. a
    // result the split did not split), and one whose text is no object.
    for other in [json!({"_cwlogs_kind": "result", "records": []}), json!({"_cwlogs_json": "[1]"})] {
        assert_eq!(parser_filter_json("_cwlogs_json", &other), other);
    }
    // Only a CONTROL_MESSAGE: the module's empty result is dropped.
    let control = json!({"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "g", "logStream": "s", "subscriptionFilters": [], "logEvents": []});
    let result = replaced(host.call(TAG, (0, 0), control.to_string().as_bytes()).unwrap());
    assert!(lua.call("split", TAG, 1.0, &result).is_empty());
    // Something that is not the module's result passes untouched.
    let other = json!({"log": "unrelated"});
    assert_eq!(lua.call("split", TAG, 1.0, &other), vec![(1.0, other)]);
}
