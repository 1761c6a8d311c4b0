//! `filter_record`, natively: what the module hands Fluent Bit for a
//! record, without the wasm host.

use gen3_cwlogs::Decoder;
use gen3_cwlogs_fluent_bit::{filter_record, options};

fn result(record: Option<&[u8]>) -> serde_json::Value {
    let mut output = String::new();
    filter_record(record, &mut output, &mut Decoder::new(options()).unwrap());
    let text = output.strip_suffix('\0').expect("NUL-terminated");
    serde_json::from_str(text).expect("one JSON object")
}

fn record(entry: &serde_json::Value) -> serde_json::Value {
    serde_json::from_str(entry["json"].as_str().expect("the record as JSON text")).expect("valid JSON")
}

#[test]
fn refused_options_in_a_record_are_an_error_entry() {
    let refused = result(Some(br#"{"records":[],"gen3_cwlogs_max_json_depth":"64"}"#));
    assert_eq!(refused["_cwlogs_kind"], "result");
    assert_eq!(refused["records"][0]["kind"], "error");
    let error = record(&refused["records"][0]);
    assert_eq!(error["_cwlogs_kind"], "error");
    assert_eq!(error["error"]["kind"], "invalid-options");
    let lowered = result(Some(br#"{"records":[],"gen3_cwlogs_max_json_depth":"10"}"#));
    assert_eq!(lowered["records"], serde_json::json!([]));
    let missing = result(None);
    assert_eq!(record(&missing["records"][0])["commons"], serde_json::Value::Null);
    assert_eq!(missing["counters"]["records_failed"], 1);
}

#[test]
fn documents_are_the_core_text_and_only_other_records_are_marked() {
    let seed = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/seed-kinesis-event.json")).unwrap();
    let decoded = result(Some(&seed));
    let entries = decoded["records"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    for entry in entries {
        assert_eq!(entry["kind"], "document");
        assert!(record(entry).get("_cwlogs_kind").is_none(), "documents carry no routing field");
    }
    let failed = result(Some(br#"{"records":[{"data":"bm90IGd6aXA="}]}"#));
    assert_eq!(record(&failed["records"][0])["_cwlogs_kind"], "error");
}
