//! The seed's example Kinesis event (Table 1 of the seeds), checked field by
//! field through the component.

use gen3_cwlogs::EntryKind;
use gen3_cwlogs_harness::{component_decoder, fixture};
use serde_json::Value;

#[test]
fn seed_example_gives_its_two_documents() {
    let seed = fixture("seed-kinesis-event");
    let output = component_decoder().decode(&seed.input, &seed.options).expect("decode");
    assert!(output.entries.iter().all(|entry| entry.kind == EntryKind::Document));
    assert_eq!(output.entries.len(), 2);
    let ids: Vec<&str> = output.entries.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(
        ids,
        ["33937864433052288198345880427171302362958917358574829568", "33937864433052288198345880427171302362958917358574829569"]
    );
    for document in &output.entries {
        let json: Value = serde_json::from_str(&document.json).expect("valid JSON");
        let keys = gen3_cwlogs_harness::top_level_keys(&document.json);
        assert_eq!(
            keys,
            ["messageType", "owner", "logGroup", "logStream", "subscriptionFilters", "timestamp", "message", "id", "commons", "kinesis"]
        );
        assert_eq!(json["timestamp"], "2018-03-23T17:34:34.000Z");
        assert_eq!(json["logGroup"], "devplanetv1");
        assert_eq!(json["commons"], "devplanetv1");
        assert_eq!(json["id"], document.id.as_str());
        assert_eq!(json["message"]["kubernetes"]["pod_name"], "sheepdog-deployment-1767503258-n23ck");
        assert_eq!(json["kinesis"]["sequenceNumber"], "49545115243490985018280067714973144582180062593244200961");
        assert_eq!(json["kinesis"]["approximateArrivalTimestamp"], 1428537600);
        assert_eq!(document.time_ms, Some(1_521_826_474_000));
    }
    let first: Value = serde_json::from_str(&output.entries[0].json).unwrap();
    assert_eq!(first["message"]["stream"], "stderr");
    assert!(first["message"]["log"].as_str().unwrap().starts_with("[pid: 28|app: 0|req: 1936/2826]"));
}
