//! The Redpanda Connect module through an imitation of the `wasm`
//! processor (`gen3_cwlogs_harness::redpanda_connect`): what it imports and
//! exports, every fixture, options from metadata, large payloads, memory
//! over many calls, garbage, and allocation failures.

use gen3_cwlogs::{Options, Output};
use gen3_cwlogs_harness::redpanda_connect::{
    FUNCTION, HOST_FUNCTIONS, HOST_MODULE, Message, REDPANDA_CONNECT_WASM, WasmProcessor, compiled_module, processor,
};
use gen3_cwlogs_harness::{Rng, fixture, fixtures, fuzzing, native};
use serde_json::Value;
use serde_json::value::RawValue;
use wasmparser::{Parser, Payload, TypeRef, ValType, Validator, WasmFeatures};

/// The option keys in the order the module asks for them.
fn option_keys() -> Vec<String> {
    gen3_cwlogs::OPTIONS.iter().map(|spec| format!("gen3_cwlogs_{}", spec.name)).collect()
}

/// `options` as the pipeline's `mutation` sets them: metadata in the core's
/// text forms, only those that differ from the defaults.
fn with_options(mut message: Message, options: &Options) -> Message {
    let defaults = Options::default();
    let mut set = |name: &str, text: String| message.meta.insert(format!("gen3_cwlogs_{name}").into_bytes(), text.into_bytes());
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
    for (name, value, default) in [
        ("max_decompressed_bytes", options.max_decompressed_bytes, defaults.max_decompressed_bytes),
        ("max_events_per_record", options.max_events_per_record.into(), defaults.max_events_per_record.into()),
        ("max_json_depth", options.max_json_depth.into(), defaults.max_json_depth.into()),
    ] {
        if value != default {
            set(name, value.to_string());
        }
    }
    message
}

/// The message's bytes as the module's JSON array, each entry checked
/// against the core's: the same fields, `record` byte for byte.
fn assert_matches_core(name: &str, message: &Message, expected: &Output) -> Vec<Value> {
    assert_eq!(message.error, None, "{name}: flagged");
    let raw: Vec<&RawValue> = serde_json::from_slice(&message.bytes).unwrap_or_else(|error| panic!("{name}: not a JSON array: {error}"));
    assert_eq!(raw.len(), expected.entries.len(), "{name}: entries");
    let mut values = Vec::new();
    for (entry, core) in raw.iter().zip(&expected.entries) {
        assert_eq!(
            gen3_cwlogs_harness::top_level_keys(entry.get()),
            ["kind", "id", "commons", "time_ms", "record_index", "error", "record"],
            "{name}"
        );
        let parts: std::collections::HashMap<String, &RawValue> = serde_json::from_str(entry.get()).unwrap();
        assert_eq!(parts["record"].get(), core.json, "{name}: record");
        let value: Value = serde_json::from_str(entry.get()).unwrap();
        assert_eq!(value["kind"], core.kind.name(), "{name}");
        assert_eq!(value["id"], core.id.as_str(), "{name}");
        assert_eq!(value["commons"].as_str(), core.commons.as_deref(), "{name}");
        assert_eq!(value["time_ms"].as_i64(), core.time_ms, "{name}");
        assert_eq!(value["record_index"], core.record_index, "{name}");
        let error = core.error.as_ref().map(|(kind, reason)| serde_json::json!({"kind": kind.name(), "reason": reason}));
        assert_eq!(value["error"], error.unwrap_or(Value::Null), "{name}");
        values.push(value);
    }
    values
}

fn is_i32(types: &[ValType]) -> bool {
    types.iter().all(|ty| *ty == ValType::I32)
}

#[test]
fn module_imports_benthos_wasm_only_and_exports_what_the_processor_calls() {
    // wazero's default runtime accepts WebAssembly 2.0 and nothing later.
    Validator::new_with_features(WasmFeatures::WASM2).validate_all(REDPANDA_CONNECT_WASM).expect("valid WebAssembly 2.0");
    let mut signatures = Vec::new();
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    for payload in Parser::new(0).parse_all(REDPANDA_CONNECT_WASM) {
        match payload.unwrap() {
            Payload::TypeSection(section) => {
                for ty in section.into_iter_err_on_gc_types() {
                    let ty = ty.unwrap();
                    signatures.push((ty.params().to_vec(), ty.results().to_vec()));
                }
            }
            Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    let import = import.unwrap();
                    let TypeRef::Func(index) = import.ty else { panic!("{}: not a function import", import.name) };
                    imports.push((import.module.to_owned(), import.name.to_owned(), signatures[index as usize].clone()));
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
    // Exactly the signatures of functions.go's Go functions (uint32 -> i32,
    // uint64 -> i64); wazero refuses to link any other.
    for (module, name, (params, results)) in &imports {
        assert_eq!(module, HOST_MODULE, "{name}: the module may import from benthos_wasm only (not WASI)");
        let expected = match name.as_str() {
            "v0_msg_as_bytes" => params.is_empty() && results == &[ValType::I64],
            "v0_msg_set_bytes" => params.len() == 2 && is_i32(params) && results.is_empty(),
            "v0_msg_get_meta" => params.len() == 2 && is_i32(params) && results == &[ValType::I64],
            "v0_msg_set_meta" => params.len() == 4 && is_i32(params) && results.is_empty(),
            other => panic!("{other} is not one of {HOST_FUNCTIONS:?}"),
        };
        assert!(expected, "{name}: signature {params:?} -> {results:?}");
    }
    assert_eq!(imports.len(), 4, "{imports:?}");
    for name in ["memory", FUNCTION, "malloc", "free"] {
        assert!(exports.iter().any(|export| export == name), "missing export {name} in {exports:?}");
    }
    // allocate/deallocate would make the host free the module's output
    // buffer, and never free its input copies; _start would run at start.
    for name in ["allocate", "deallocate", "_start"] {
        assert!(!exports.iter().any(|export| export == name), "unexpected export {name}");
    }
    println!("Redpanda Connect module: {} bytes, imports: {}", REDPANDA_CONNECT_WASM.len(), HOST_FUNCTIONS.join(", "));
}

#[test]
fn every_fixture_gives_its_golden_entries_in_order() {
    // One runner for every fixture, as the processor's pool reuses it.
    let mut processor = processor();
    let all = fixtures();
    assert!(all.len() >= 24, "the whole fixture set, found {}", all.len());
    for fixture in &all {
        let message = with_options(Message::new(fixture.input.clone()), &fixture.options).with_meta("kinesis_shard", "shardId-0");
        let out = processor.process(message.clone());
        let expected = native(&fixture.input, &fixture.options);
        assert_matches_core(&fixture.name, &out, &expected);
        // Byte for byte the golden file's lines (its last line: counters).
        let golden = fixture.expected();
        let records: Vec<String> = serde_json::from_slice::<Vec<std::collections::HashMap<String, &RawValue>>>(&out.bytes)
            .unwrap()
            .iter()
            .map(|entry| format!("{}\n", entry["record"].get()))
            .collect();
        assert_eq!(records.concat(), golden[..golden.rfind("{\"counters\"").unwrap()], "{}", fixture.name);
        // Metadata passes through untouched; nothing is added.
        assert_eq!(out.meta, message.meta, "{}", fixture.name);
        let (log, calls) = processor.take_log();
        assert!(log.is_empty(), "{}: {log:?}", fixture.name);
        // The module's calls: each option, the message, the answer.
        let mut expected_calls: Vec<String> = option_keys().iter().map(|key| format!("v0_msg_get_meta:{key}")).collect();
        expected_calls.extend(["v0_msg_as_bytes".to_owned(), "v0_msg_set_bytes".to_owned()]);
        assert_eq!(calls, expected_calls, "{}", fixture.name);
    }
}

#[test]
fn options_come_from_metadata_and_a_refusal_leaves_the_message() {
    let mut processor = processor();
    let alerts = fixture("alerts");
    let plain = processor.process(Message::new(alerts.input.clone()));
    let kinds = |message: &Message| -> Vec<String> {
        serde_json::from_slice::<Vec<Value>>(&message.bytes).unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
    };
    assert!(!kinds(&plain).iter().any(|kind| kind == "alert"), "no threshold, no alerts");
    let configured = Message::new(alerts.input.clone())
        .with_meta("gen3_cwlogs_commons", "devplanetv1")
        .with_meta("gen3_cwlogs_slow_threshold_secs", "65.0")
        .with_meta("gen3_cwlogs_alert_streams", "revproxy,sheepdog,peregrine")
        // Empty: the default, as an absent key.
        .with_meta("gen3_cwlogs_schema", "");
    let out = processor.process(configured.clone());
    let entries = assert_matches_core("alerts", &out, &native(&alerts.input, &alerts.options));
    assert_eq!(entries.iter().filter(|entry| entry["kind"] == "alert").count(), 3);
    assert!(entries.iter().all(|entry| entry["commons"] == "devplanetv1"));
    // The options change back and forth on one instance.
    assert_eq!(processor.process(Message::new(alerts.input.clone())), plain);

    // A refused value: the message as it was, the reason in metadata, no
    // copy of the message made.
    processor.take_log();
    for (key, value, reason) in [
        ("gen3_cwlogs_slow_threshold_secs", b"fast".to_vec(), "metadata gen3_cwlogs_slow_threshold_secs: \"fast\" is not a number"),
        ("gen3_cwlogs_schema", b"ecs2".to_vec(), "metadata gen3_cwlogs_schema: \"ecs2\" is not one of"),
        ("gen3_cwlogs_max_json_depth", b"500".to_vec(), "metadata gen3_cwlogs_max_json_depth: 500 is outside 1..=120"),
        ("gen3_cwlogs_commons", vec![0xff, 0xfe], "metadata gen3_cwlogs_commons: not UTF-8"),
    ] {
        let message = configured.clone().with_meta(key, value);
        let out = processor.process(message.clone());
        assert_eq!(out.bytes, message.bytes, "{key}: the message is left as it was");
        assert_eq!(out.error, None, "{key}: the processor does not flag it; the pipeline throws on the metadata");
        let error = out.meta_str("gen3_cwlogs_error").unwrap();
        assert!(error.starts_with(reason), "{key}: {error}");
        let (log, calls) = processor.take_log();
        assert!(log.is_empty());
        assert!(!calls.iter().any(|call| call == "v0_msg_as_bytes"), "{key}: {calls:?}");
        assert_eq!(calls.last().map(String::as_str), Some("v0_msg_set_meta"));
    }
    // And the next message decodes with its own options again.
    assert_eq!(processor.process(configured), out);
}

#[test]
fn nothing_left_is_an_empty_array_and_an_empty_message_an_error_entry() {
    let mut processor = processor();
    let control = br#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1521826474000,"message":"CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]}"#;
    let out = processor.process(Message::new(gen3_cwlogs_workload::gzip(control)));
    assert_eq!(String::from_utf8(out.bytes).unwrap(), "[]");
    let empty = processor.process(Message::new(Vec::new()));
    let entries: Vec<Value> = serde_json::from_slice(&empty.bytes).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["error"]["kind"], "unrecognised-input");
}

#[test]
fn a_batch_is_processed_message_by_message() {
    let mut processor = processor();
    let names = ["seed-kinesis-event", "record", "bad-records", "control-message"];
    let batch: Vec<Message> = names.iter().map(|name| Message::new(fixture(name).input)).collect();
    let out = processor.process_batch(batch.clone());
    assert_eq!(out.len(), batch.len());
    for ((name, message), input) in names.iter().zip(&out).zip(&batch) {
        assert_matches_core(name, message, &native(&input.bytes, &Options::default()));
    }
}

#[test]
fn large_records_and_a_five_megabyte_firehose_delivery() {
    let mut processor = processor();
    // A Kinesis record as aws_kinesis hands it over: raw gzip data, here a
    // 1 MiB envelope (the Kinesis record limit).
    let mut events = Vec::new();
    let mut rng = Rng::new(7);
    let mut size = 0;
    while size < 1 << 20 {
        let text: String = (0..1500).map(|_| char::from(b'!' + rng.below(90) as u8)).collect();
        size += text.len();
        events.push(serde_json::json!({"id": events.len().to_string(), "timestamp": 1_521_826_474_000_i64, "message": text}));
    }
    let envelope = serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "devplanetv1", "logStream": "big",
        "subscriptionFilters": [], "logEvents": events});
    let record = gen3_cwlogs_workload::gzip(envelope.to_string().as_bytes());
    let out = processor.process(Message::new(record.clone()).with_meta("kinesis_sequence_number", "1"));
    assert_matches_core("1 MiB record", &out, &native(&record, &Options::default()));

    let mut records = 320;
    let generated = loop {
        let generated = gen3_cwlogs_workload::generate(&gen3_cwlogs_workload::Spec {
            form: gen3_cwlogs_workload::Form::Firehose,
            records,
            events_per_record: 100,
            ..Default::default()
        });
        if generated.payload.len() >= 5_000_000 {
            break generated;
        }
        records += 40;
    };
    let options = Options { commons: Some("devplanetv1".to_owned()), slow_threshold_secs: Some(65.0), ..Options::default() };
    let out = processor.process(with_options(Message::new(generated.payload.clone()), &options));
    let entries = assert_matches_core("5 MB delivery", &out, &native(&generated.payload, &options));
    assert_eq!(entries.iter().filter(|entry| entry["kind"] == "document").count() as u64, generated.events);
    println!(
        "{} byte Firehose delivery -> {} entries, {} byte array; linear memory {} bytes",
        generated.payload.len(),
        entries.len(),
        out.bytes.len(),
        processor.memory_bytes()
    );
}

#[test]
fn many_calls_on_one_instance_keep_memory_flat() {
    let mut processor = processor();
    let inputs: Vec<Message> =
        ["seed-kinesis-event", "bad-events", "firehose-delivery", "alerts", "s3-archive", "messages", "record", "bad-payload-json"]
            .iter()
            .map(|name| {
                let fixture = fixture(name);
                with_options(Message::new(fixture.input), &fixture.options)
            })
            .collect();
    let first: Vec<Message> = inputs.iter().map(|message| processor.process(message.clone())).collect();
    let warm = processor.memory_bytes();
    for call in 0..20_000 {
        let index = call % inputs.len();
        let out = processor.process(inputs[index].clone());
        assert!(out == first[index], "call {call}: result changed");
    }
    let after = processor.memory_bytes();
    println!("linear memory: {warm} bytes after warm-up, {after} bytes after 20,000 calls");
    assert_eq!(after, warm, "linear memory grew from {warm} to {after} bytes");
}

#[test]
fn garbage_never_traps_and_matches_the_core() {
    let mut processor = processor();
    let mut rng = Rng::new(0x7ed_9a7da);
    let seeds: Vec<Vec<u8>> = fixtures().into_iter().map(|fixture| fixture.input).collect();
    for round in 0..600 {
        let seed = &seeds[rng.below(seeds.len())];
        let mut data = match rng.below(4) {
            0 => (0..rng.below(4096)).map(|_| rng.next_u64() as u8).collect(),
            1 => seed[..rng.below(seed.len() + 1)].to_vec(),
            _ => fuzzing::wrap_in_form(seed, rng.next_u64() as u8),
        };
        for _ in 0..rng.below(4) {
            if !data.is_empty() {
                let at = rng.below(data.len());
                data[at] ^= 1 << rng.below(8);
            }
        }
        let options = fuzzing::options_from(rng.next_u64() as u8);
        let out = processor.process(with_options(Message::new(data.clone()), &options));
        assert_eq!(processor.last_trap, None, "round {round}: trapped");
        let expected = native(&data, &options);
        fuzzing::check_output(&format!("round {round}"), &data, &expected);
        assert_matches_core(&format!("round {round}"), &out, &expected);
    }
}

#[test]
fn failed_allocations_flag_the_message_and_the_instance_lives_on() {
    let (engine, module) = compiled_module();
    let small = fixture("seed-kinesis-event").input;
    let limit = 8 << 20;
    let mut processor = WasmProcessor::new(engine, module, Some(limit)).unwrap();
    let before = processor.process(Message::new(small.clone()));
    assert_matches_core("seed", &before, &native(&small, &Options::default()));

    // The message cannot be copied in: malloc traps inside v0_msg_as_bytes,
    // the host records the error and returns 0, and the module leaves the
    // message as it was; the processor passes it on flagged.
    let huge = vec![b'x'; limit];
    let out = processor.process(Message::new(huge.clone()));
    assert_eq!(out.bytes, huge);
    let error = out.error.expect("flagged");
    assert!(error.starts_with("allocating in-bound memory: "), "{error}");
    assert_eq!(processor.last_trap, None, "process itself did not trap");
    assert_eq!(processor.process(Message::new(small.clone())), before, "the instance still works");

    // The message fits but its entries do not: process traps, the batch
    // fails, every message of it is passed on flagged and unchanged, and the
    // runner goes back to the pool; the next call starts afresh.
    let mut size = 64 << 10;
    let trapped = loop {
        let generated = gen3_cwlogs_workload::generate(&gen3_cwlogs_workload::Spec {
            form: gen3_cwlogs_workload::Form::Firehose,
            records: size / 1024,
            events_per_record: 20,
            ..Default::default()
        });
        assert!(generated.payload.len() < limit / 2, "no size made process trap");
        let out = processor.process(Message::new(generated.payload.clone()));
        if processor.last_trap.is_some() {
            assert_eq!(out.bytes, generated.payload);
            assert_eq!(out.error, processor.last_trap);
            break generated.payload.len();
        }
        size *= 2;
    };
    println!("a {trapped} byte delivery traps within {limit} bytes of memory: {:?}", processor.last_trap);
    processor.last_trap = None;
    assert_eq!(processor.process(Message::new(small)), before, "the instance still works after a trap");
    assert_eq!(processor.last_trap, None);
}

/// The options the shipped config sets (its `mutation` lines `meta
/// gen3_cwlogs_<option> = "<text>"`) reach the module and give the seed's
/// documents that commons; `crates/redpanda-connect/tests/config.rs` checks
/// the rest of the config.
#[test]
fn the_shipped_configs_options_reach_the_module() {
    let config = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pipeline-configs/redpanda-connect/cwlogs.yaml"),
    )
    .expect("the shipped config");
    let mut message = Message::new(fixture("alerts").input);
    let mut options = Options::default();
    for line in config.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("meta gen3_cwlogs_")
            && let Some((name, value)) = rest.split_once(" = ")
        {
            let text: String = serde_json::from_str(value).expect("a quoted string");
            options.set(name, &text).expect("the core accepts the config's option");
            message = message.with_meta(&format!("gen3_cwlogs_{name}"), text);
        }
    }
    assert_eq!(options.commons.as_deref(), Some("devplanetv1"));
    let out = processor().process(message);
    let entries = assert_matches_core("alerts with the config's options", &out, &native(&fixture("alerts").input, &options));
    assert!(entries.iter().any(|entry| entry["kind"] == "alert"));
}
