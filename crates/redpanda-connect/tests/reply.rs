//! The module's answer, natively: options from metadata values, the JSON
//! array of entries, refusals. The ABI itself is tested through the
//! processor's imitation in the harness.

use gen3_cwlogs::{Decoder, Options};
use gen3_cwlogs_redpanda_connect::{Reply, options_from, reply};
use serde_json::Value;

const SEED: &[u8] = include_bytes!("../../../tests/fixtures/seed-kinesis-event.json");

fn answer(payload: &[u8], values: &[(&'static str, &[u8])], decoder: &mut Decoder) -> Result<Vec<Value>, String> {
    let mut out = String::from("stale");
    match reply(payload, options_from(values.iter().copied()), decoder, &mut out) {
        Reply::Entries => Ok(serde_json::from_str(&out).expect("one JSON array")),
        Reply::Refused(reason) => Err(reason),
    }
}

#[test]
fn entries_carry_the_cores_fields_and_record() {
    let mut decoder = Decoder::default();
    let entries = answer(SEED, &[("commons", b"devplanetv1"), ("schema", b"")], &mut decoder).unwrap();
    let core = gen3_cwlogs::decode(SEED, &Options { commons: Some("devplanetv1".to_owned()), ..Options::default() }).unwrap();
    assert_eq!(entries.len(), core.entries.len());
    for (entry, core) in entries.iter().zip(&core.entries) {
        assert_eq!(entry["kind"], "document");
        assert_eq!(entry["id"], core.id.as_str());
        assert_eq!(entry["commons"], "devplanetv1");
        assert_eq!(entry["time_ms"], 1_521_826_474_000_i64);
        assert_eq!(entry["record_index"], core.record_index);
        assert_eq!(entry["error"], Value::Null);
        assert_eq!(entry["record"], serde_json::from_str::<Value>(&core.json).unwrap());
    }
    // The decoder keeps the options until a message asks for others.
    assert_eq!(decoder.options().commons.as_deref(), Some("devplanetv1"));
    answer(SEED, &[], &mut decoder).unwrap();
    assert_eq!(*decoder.options(), Options::default());
}

#[test]
fn nothing_left_is_an_empty_array_and_errors_are_entries() {
    let mut decoder = Decoder::default();
    let control = br#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"g","logStream":"s","subscriptionFilters":[],"logEvents":[]}"#;
    assert_eq!(answer(control, &[], &mut decoder).unwrap(), Vec::<Value>::new());
    let garbage = answer(b"\x00\x01not a payload", &[], &mut decoder).unwrap();
    assert_eq!(garbage.len(), 1);
    assert_eq!(garbage[0]["kind"], "error");
    assert_eq!(garbage[0]["commons"], Value::Null);
    assert_eq!(garbage[0]["error"]["kind"], "unrecognised-input");
    assert_eq!(garbage[0]["error"]["reason"], garbage[0]["record"]["error"]["reason"]);
}

#[test]
fn refused_values_name_their_metadata_key() {
    let mut decoder = Decoder::default();
    for (values, reason) in [
        (vec![("slow_threshold_secs", &b"-1"[..])], "metadata gen3_cwlogs_slow_threshold_secs: -1 is not a finite number"),
        (vec![("alert_streams", &b"revproxy,"[..])], "metadata gen3_cwlogs_alert_streams: an empty stream substring"),
        (vec![("commons", &b"\xff"[..])], "metadata gen3_cwlogs_commons: not UTF-8"),
    ] {
        let refused = answer(SEED, &values, &mut decoder).unwrap_err();
        assert!(refused.starts_with(reason), "{refused}");
    }
    // A refusal leaves the decoder's options as they were.
    assert_eq!(*decoder.options(), Options::default());
}
