//! The checks behind every fuzz target (`fuzz/`) and the CI property pass
//! (`tests/tests/harness/robustness.rs`): no panic or trap, output always valid
//! JSON, every input record accounted for, no document out of proportion
//! to its input, and every engine giving the core's output.

use std::cell::RefCell;

use base64::Engine as _;
use gen3_cwlogs::{Limits, MAX_METADATA_BYTES, Options, Output, Schema};
use serde_json::Value;

use crate::fluent_bit::{FilterOutcome, FilterWasmHost};
use crate::render;

/// Invariants every decode result keeps, whatever the input.
pub fn check_output(name: &str, input: &[u8], output: &Output) {
    let counters = &output.counters;
    assert_eq!(counters.documents as usize, output.documents.len(), "{name}");
    assert_eq!(counters.alerts as usize, output.alerts.len(), "{name}");
    assert_eq!(counters.errors as usize, output.errors.len(), "{name}");
    assert_eq!(counters.events, counters.documents + counters.events_failed, "{name}: events unaccounted");
    assert_eq!(counters.errors, counters.records_failed + counters.events_failed, "{name}: errors unaccounted");
    // A transport with no records (`"records": []`, found by the fuzzer) has
    // nothing to account for; anything else is at least one record.
    let empty_transport = output.documents.is_empty() && output.errors.is_empty() && counters.records == 0;
    assert!(counters.records >= 1 || empty_transport, "{name}: records unaccounted");
    assert!(counters.records_failed <= counters.records, "{name}");
    // Documents are bounded by what they were decoded from: an event plus
    // bounded metadata; never multiplied by the number of events.
    let source = input.len().max(counters.decompressed_bytes as usize);
    for document in &output.documents {
        let value: Value = serde_json::from_str(&document.json).unwrap_or_else(|e| panic!("{name}: invalid document {e}"));
        assert!(value.is_object(), "{name}");
        assert_eq!(value["id"], document.id.as_str(), "{name}");
        assert!(document.json.len() <= 2 * source + MAX_METADATA_BYTES + 1024, "{name}: document too large");
    }
    for error in &output.errors {
        let value: Value = serde_json::from_str(&error.json).unwrap_or_else(|e| panic!("{name}: invalid error document {e}"));
        assert!(value["raw_data"].is_string(), "{name}: error document without raw data");
        assert!(!error.reason.is_empty(), "{name}");
        assert!(error.json.len() <= 2 * source + 2 * MAX_METADATA_BYTES + 4096, "{name}: error document too large");
    }
    for alert in &output.alerts {
        let value: Value = serde_json::from_str(&alert.slack_payload).expect("valid Slack payload");
        assert!(value["text"].is_string(), "{name}");
    }
    let documents: u64 = output.documents.len() as u64;
    assert!(documents <= counters.events, "{name}");
}

/// Options picked by one byte, so fuzzers explore them too.
pub fn options_from(selector: u8) -> Options {
    Options {
        commons: (selector & 1 != 0).then(|| "fuzzcommons".to_owned()),
        slow_threshold_secs: (selector & 2 != 0).then_some(0.0),
        alert_streams: if selector & 4 != 0 { vec!["revproxy".into()] } else { Vec::new() },
        schema: if selector & 8 != 0 { Schema::Cloudwatch } else { Schema::Gen3 },
        limits: if selector & 16 != 0 {
            Limits { max_decompressed_bytes: 4096, max_events_per_record: 3, max_json_depth: 4 }
        } else {
            Limits::default()
        },
        embedded_options: selector & 32 != 0,
    }
}

/// Target `core`: the payload as given, options from the first byte.
pub fn core(data: &[u8]) {
    let (selector, payload) = data.split_first().map_or((0, data), |(first, rest)| (*first, rest));
    let output = gen3_cwlogs::decode(payload, &options_from(selector));
    check_output("core", payload, &output);
}

/// Target `forms`: the bytes as one record's data in the input form the
/// second byte picks, so the fuzzer reaches envelope parsing without having
/// to find gzip + base64 (one form per execution: the fuzzer's coverage
/// feedback chooses among them).
pub fn forms(data: &[u8]) {
    let [selector, form, payload @ ..] = data else { return };
    let wrapped = wrap_in_form(payload, *form);
    let output = gen3_cwlogs::decode(&wrapped, &options_from(*selector));
    check_output("forms", &wrapped, &output);
}

/// `forms` over every form, for inputs in the `core` target's format
/// (options byte, payload): the CI pass and the regression inputs.
pub fn every_form(data: &[u8]) {
    let (selector, payload) = data.split_first().map_or((0, data), |(first, rest)| (*first, rest));
    for form in 0..FORMS {
        forms(&[&[selector, form][..], payload].concat());
    }
}

const FORMS: u8 = 6;

/// `payload` as: itself, a gzip member, two gzip members, base64 of gzip,
/// a Kinesis event (gzip'd and plain record), a Firehose delivery.
pub fn wrap_in_form(payload: &[u8], form: u8) -> Vec<u8> {
    let gzip = gen3_cwlogs_workload::gzip;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let two_members = || {
        let half = payload.len() / 2;
        [gzip(&payload[..half]), gzip(&payload[half..])].concat()
    };
    match form % FORMS {
        0 => payload.to_vec(),
        1 => gzip(payload),
        2 => two_members(),
        3 => b64(&gzip(payload)).into_bytes(),
        4 => serde_json::to_vec(&serde_json::json!({"Records": [
            {"kinesis": {"data": b64(&gzip(payload)), "sequenceNumber": "1"}, "eventID": "e"},
            {"kinesis": {"data": b64(payload), "sequenceNumber": "2"}},
        ]}))
        .unwrap(),
        _ => serde_json::to_vec(&serde_json::json!({"requestId": "r", "timestamp": 1, "records": [{"data": b64(&two_members())}]})).unwrap(),
    }
}

thread_local! {
    static COMPONENT: RefCell<Option<gen3_cwlogs_wasmtime::ComponentDecoder>> = const { RefCell::new(None) };
    static FLUENT_BIT: RefCell<Option<FilterWasmHost>> = const { RefCell::new(None) };
}

/// Target `component`: the component's exported functions, one long-lived
/// instance, must give exactly the core's output, as records and as NDJSON.
pub fn component(data: &[u8]) {
    let (selector, payload) = data.split_first().map_or((0, data), |(first, rest)| (*first, rest));
    let options = Options { embedded_options: false, ..options_from(selector) };
    let native = gen3_cwlogs::decode(payload, &options);
    let wasm = COMPONENT.with_borrow_mut(|slot| {
        slot.get_or_insert_with(crate::component_decoder).decode(payload, &options).expect("the component never traps")
    });
    assert_eq!(render(&wasm), render(&native), "component and core differ");
    let ndjson = COMPONENT.with_borrow_mut(|slot| {
        slot.get_or_insert_with(crate::component_decoder).decode_ndjson(payload, &options).expect("the component never traps")
    });
    assert_eq!(ndjson.to_ndjson(), native.to_ndjson(), "the component's NDJSON export and the core differ");
    assert_eq!(ndjson.counters, native.counters, "the component's NDJSON export counts differently");
}

/// Target `fluent_bit`: the Fluent Bit entry point through filter_wasm's
/// calling sequence, one long-lived instance: never a trap, never a drop,
/// always one JSON object with the core's documents and errors.
pub fn fluent_bit(data: &[u8]) {
    let outcome = FLUENT_BIT.with_borrow_mut(|slot| {
        slot.get_or_insert_with(crate::fluent_bit::host).call("cwlogs.fuzz", (0, 0), data).expect("no trap, valid JSON object")
    });
    let FilterOutcome::Replaced(result) = outcome else { panic!("the module dropped a record") };
    let native = gen3_cwlogs::decode(data, &crate::fluent_bit::module_options());
    let entries = result["records"].as_array().expect("records");
    let count = |kind: &str| entries.iter().filter(|entry| entry["kind"] == kind).count();
    assert_eq!(count("document"), native.documents.len());
    assert_eq!(count("error"), native.errors.len());
    assert_eq!(count("alert"), native.alerts.len());
    for (entry, document) in entries.iter().filter(|entry| entry["kind"] == "document").zip(&native.documents) {
        assert_eq!(entry["record"]["id"], document.id.as_str());
    }
}
