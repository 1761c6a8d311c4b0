//! The checks behind every fuzz target (`fuzz/`) and the CI property pass
//! (`crates/harness/tests/harness/robustness.rs`): no panic or trap, every
//! entry valid JSON, every record, envelope and event accounted for, every
//! time in the range every host carries, error documents carrying only
//! their own raw data, output linear in the input, and every engine giving
//! the core's output.

use std::cell::RefCell;

use base64::Engine as _;
use gen3_cwlogs::{EntryKind, MAX_EVENT_MILLIS, MAX_METADATA_BYTES, MIN_EVENT_MILLIS, Options, Output, Schema};
use serde_json::Value;

use crate::fluent_bit::{FilterOutcome, FilterWasmHost};
use crate::render;

/// The bound on a decode call's total output, in bytes (README, section
/// Reliability): 14 times the bytes read (input plus decompressed), plus
/// one metadata bound and 4 KiB per event, record and envelope. A document
/// is its event's bytes escaped (at most 6x, control characters as
/// `\u00XX`) twice at most (a gen3 access log inside `log` is merged), plus
/// the envelope's metadata (at most `MAX_METADATA_BYTES`); an alert and an
/// error document are bounded the same way, and an error document carries
/// only its own record's, envelope's or event's bytes.
pub fn output_bound(output: &Output) -> u64 {
    let counters = &output.counters;
    let read = counters.input_bytes + counters.decompressed_bytes;
    let units = counters.events + counters.records + counters.envelopes + counters.envelopes_failed;
    14 * read + units * (MAX_METADATA_BYTES as u64 + 4096)
}

/// Invariants every decode result keeps, whatever the input.
pub fn check_output(name: &str, input: &[u8], output: &Output) {
    let counters = &output.counters;
    let count = |kind: EntryKind| output.of_kind(kind).count() as u64;
    assert_eq!(counters.documents, count(EntryKind::Document), "{name}");
    assert_eq!(counters.alerts, count(EntryKind::Alert), "{name}");
    assert_eq!(counters.errors, count(EntryKind::Error), "{name}");
    assert_eq!(counters.events, counters.documents + counters.events_failed, "{name}: events unaccounted");
    assert_eq!(counters.errors, counters.records_failed + counters.envelopes_failed + counters.events_failed, "{name}: errors unaccounted");
    // A transport with no records (`"records": []`, found by the fuzzer) has
    // nothing to account for; anything else is at least one record.
    assert!(counters.records >= 1 || output.entries.is_empty(), "{name}: records unaccounted");
    assert!(counters.records_failed <= counters.records, "{name}");
    assert!(counters.control_messages <= counters.envelopes, "{name}");
    let total: u64 = output.entries.iter().map(|entry| entry.json.len() as u64 + 1).sum();
    assert!(total <= output_bound(output), "{name}: {total} bytes of output, over the linear bound {}", output_bound(output));

    let read = counters.input_bytes + counters.decompressed_bytes;
    let mut raw_from_input = 0u64;
    let mut previous_document: Option<&str> = None;
    for entry in &output.entries {
        let value: Value = serde_json::from_str(&entry.json).unwrap_or_else(|e| panic!("{name}: invalid {} JSON: {e}", entry.kind.name()));
        assert!(value.is_object(), "{name}");
        if let Some(millis) = entry.time_ms {
            assert!((MIN_EVENT_MILLIS..=MAX_EVENT_MILLIS).contains(&millis), "{name}: time {millis} out of range");
        }
        match entry.kind {
            EntryKind::Document => {
                // gen3 and cloudwatch: `id`, `timestamp`; ecs: `event.id`, `@timestamp`.
                let (id, timestamp) = match value.get("@timestamp") {
                    Some(timestamp) => (&value["event"]["id"], timestamp),
                    None => (&value["id"], &value["timestamp"]),
                };
                assert_eq!(id, entry.id.as_str(), "{name}");
                let mut time = String::new();
                gen3_cwlogs::write::write_iso8601_millis(&mut time, entry.time_ms.expect("a document has a time"));
                assert_eq!(timestamp.to_string(), time, "{name}: document time and entry time differ");
                previous_document = Some(&entry.id);
            }
            EntryKind::Alert => {
                assert_eq!(Some(entry.id.as_str()), previous_document, "{name}: an alert follows its document");
                assert!(value["alert"]["slack_payload"]["text"].is_string(), "{name}");
            }
            EntryKind::Error => {
                let (_, reason) = entry.error.as_ref().expect("an error entry says why");
                assert!(!reason.is_empty(), "{name}");
                assert_eq!(value["id"], entry.id.as_str(), "{name}");
                let raw = raw_bytes(&value).unwrap_or_else(|| panic!("{name}: error document without raw data"));
                assert!(raw.len() as u64 <= read, "{name}: raw data larger than everything read");
                let error = &value["error"];
                if error.get("envelope_index").is_none() && error.get("event_index").is_none() {
                    // A record's own bytes, as they stand in the input (JSON
                    // escapes inside a transport aside).
                    raw_from_input += raw.len() as u64;
                    assert!(contains(input, &raw) || input.contains(&b'\\'), "{name}: a record's raw data is not a piece of the input");
                }
            }
        }
    }
    assert!(raw_from_input <= counters.input_bytes, "{name}: records' raw data overlap");
}

/// The bytes an error document carries.
fn raw_bytes(error: &Value) -> Option<Vec<u8>> {
    let data = error["raw_data"].as_str()?;
    match error["raw_encoding"].as_str()? {
        "text" => Some(data.as_bytes().to_vec()),
        "base64" => base64::engine::general_purpose::STANDARD.decode(data).ok(),
        _ => None,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|window| window == needle)
}

/// Options picked by one byte, so fuzzers explore them too.
pub fn options_from(selector: u8) -> Options {
    let small = selector & 16 != 0;
    Options {
        commons: (selector & 1 != 0).then(|| "fuzzcommons".to_owned()),
        slow_threshold_secs: (selector & 2 != 0).then_some(0.0),
        alert_streams: if selector & 4 != 0 { vec!["revproxy".into()] } else { Vec::new() },
        schema: match (selector & 8 != 0, selector & 64 != 0) {
            (false, false) => Schema::Gen3,
            (true, false) => Schema::Cloudwatch,
            (_, true) => Schema::Ecs,
        },
        max_decompressed_bytes: if small { 4096 } else { Options::default().max_decompressed_bytes },
        max_events_per_record: if small { 3 } else { Options::default().max_events_per_record },
        max_json_depth: if small { 4 } else { Options::default().max_json_depth },
    }
}

/// Target `core`: the payload as given, options from the first byte.
pub fn core(data: &[u8]) {
    let (selector, payload) = data.split_first().map_or((0, data), |(first, rest)| (*first, rest));
    let output = crate::native(payload, &options_from(selector));
    check_output("core", payload, &output);
}

/// Target `forms`: the bytes as one record's data in the input form the
/// second byte picks, so the fuzzer reaches envelope parsing without having
/// to find gzip + base64 (one form per execution: the fuzzer's coverage
/// feedback chooses among them). The bytes, mostly envelope text, also go
/// through the core's member reader and envelope reader, each held to
/// serde_json.
pub fn forms(data: &[u8]) {
    let [selector, form, payload @ ..] = data else { return };
    crate::members::check_members(payload);
    crate::envelope::check_envelope(payload);
    let wrapped = wrap_in_form(payload, *form);
    let output = crate::native(&wrapped, &options_from(*selector));
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

const FORMS: u8 = 9;

/// `payload` as: itself, a gzip member, two gzip members, base64 of gzip,
/// a Kinesis event (gzip'd and plain record), a Firehose delivery, a
/// Lambda's CloudWatch Logs event, an archive of its halves as members with
/// a corrupt member between them, and its lines as concatenated values.
pub fn wrap_in_form(payload: &[u8], form: u8) -> Vec<u8> {
    let gzip = gen3_cwlogs_workload::gzip;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let half = payload.len() / 2;
    let two_members = || [gzip(&payload[..half]), gzip(&payload[half..])].concat();
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
        5 => {
            serde_json::to_vec(&serde_json::json!({"requestId": "r", "timestamp": 1, "records": [{"data": b64(&two_members())}]})).unwrap()
        }
        6 => serde_json::to_vec(&serde_json::json!({"awslogs": {"data": b64(&gzip(payload))}})).unwrap(),
        7 => {
            let mut corrupt = gzip(&payload[..half]);
            let middle = corrupt.len() / 2;
            corrupt[middle] ^= 0x55;
            [gzip(&payload[..half]), corrupt, gzip(&payload[half..])].concat()
        }
        _ => payload.split(|&byte| byte == b'\n').flat_map(|line| [line, b"\n"]).flatten().copied().collect::<Vec<u8>>().repeat(2),
    }
}

thread_local! {
    static COMPONENT: RefCell<Option<gen3_cwlogs_wasmtime::ComponentDecoder>> = const { RefCell::new(None) };
    static FLUENT_BIT: RefCell<Option<FilterWasmHost>> = const { RefCell::new(None) };
}

/// Target `component`: the component's exported functions, one long-lived
/// instance, must give exactly the core's output, as entries and as NDJSON.
pub fn component(data: &[u8]) {
    let (selector, payload) = data.split_first().map_or((0, data), |(first, rest)| (*first, rest));
    let options = options_from(selector);
    let native = crate::native(payload, &options);
    let (wasm, ndjson) = COMPONENT.with_borrow_mut(|slot| {
        let decoder = slot.get_or_insert_with(crate::component_decoder);
        let entries = decoder.decode(payload, &options).expect("the component never traps");
        (entries, decoder.decode_ndjson(payload, &options).expect("the component never traps"))
    });
    assert_eq!(render(&wasm), render(&native), "component and core differ");
    assert_eq!(wasm, native, "the component's entries differ from the core's");
    for (kind, text) in [(EntryKind::Document, &ndjson.documents), (EntryKind::Alert, &ndjson.alerts), (EntryKind::Error, &ndjson.errors)] {
        let expected: String = native.of_kind(kind).map(|entry| format!("{}\n", entry.json)).collect();
        assert_eq!(text, &expected, "the component's NDJSON {} differ from the core's", kind.name());
    }
    assert_eq!(ndjson.counters, native.counters, "the component's NDJSON export counts differently");
}

/// Target `fluent_bit`: the Fluent Bit entry point through filter_wasm's
/// calling sequence, one long-lived instance: never a trap, never a drop,
/// always one JSON object with the core's entries in order, each
/// record as the pipeline stores it.
pub fn fluent_bit(data: &[u8]) {
    let outcome = FLUENT_BIT.with_borrow_mut(|slot| {
        slot.get_or_insert_with(crate::fluent_bit::host).call("cwlogs.fuzz", (0, 0), data).expect("no trap, valid JSON object")
    });
    let FilterOutcome::Replaced(result) = outcome else { panic!("the module dropped a record") };
    let mut native = Output::default();
    let mut decoder = gen3_cwlogs::Decoder::new(crate::fluent_bit::module_options()).expect("valid options");
    native.counters = decoder.decode_with_embedded_options(data, &mut native);
    let entries = result["records"].as_array().expect("records");
    assert_eq!(entries.len(), native.entries.len(), "one result entry per core entry");
    for (entry, expected) in entries.iter().zip(&native.entries) {
        assert_eq!(entry["kind"], expected.kind.name());
        assert_eq!(entry["time_ms"].as_i64(), expected.time_ms);
        let record = crate::fluent_bit::stored(entry);
        match expected.kind {
            EntryKind::Alert => assert_eq!(record["document_id"], expected.id.as_str()),
            // Documents travel as the core's text, byte for byte.
            EntryKind::Document => assert_eq!(entry["json"].as_str(), Some(expected.json.as_str())),
            EntryKind::Error => assert_eq!(record, serde_json::from_str::<Value>(&expected.json).unwrap()),
        }
    }
}
