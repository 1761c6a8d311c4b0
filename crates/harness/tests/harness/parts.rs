//! A Firehose delivery the front (pipeline-configs' firehose.js) posts in
//! parts, each carrying `firstRecordIndex`, decodes to exactly the entries
//! of the whole delivery, in the core and through the options the Fluent
//! Bit module reads from its record (the module itself runs the part
//! fixture, tests/fixtures/firehose-delivery-part.json, with the others);
//! a part whose `firstRecordIndex` is not a valid index is one error
//! document holding the whole part.

use gen3_cwlogs::{EntryKind, Options};
use gen3_cwlogs_harness::native;
use gen3_cwlogs_workload::{Form, Mix, Spec, generate_mix};
use serde_json::{Value, json};

/// A delivery of five records, the fourth not gzip (an error document).
fn delivery() -> Value {
    let spec = Spec { form: Form::Firehose, records: 5, events_per_record: 7, seed: 11, ..Spec::default() };
    let mut whole: Value = serde_json::from_slice(&generate_mix(&spec, Mix::Gen3Traffic).payload).unwrap();
    whole["records"][3] = json!({"data": "bm90IGd6aXAgYXQgYWxs"});
    whole
}

/// `whole` cut into parts of `size` records, as the front cuts it.
fn parts(whole: &Value, size: usize) -> Vec<Vec<u8>> {
    let records = whole["records"].as_array().unwrap();
    records
        .chunks(size)
        .enumerate()
        .map(|(n, chunk)| {
            let part = json!({
                "requestId": whole["requestId"],
                "timestamp": whole["timestamp"],
                "firstRecordIndex": n * size,
                "records": chunk,
            });
            serde_json::to_vec(&part).unwrap()
        })
        .collect()
}

fn entries(output: &gen3_cwlogs::Output) -> Vec<String> {
    output.entries.iter().map(|entry| entry.json.clone()).collect()
}

#[test]
fn parts_decode_to_the_whole_delivery() {
    let whole = delivery();
    let options = Options::default();
    let expected = native(&serde_json::to_vec(&whole).unwrap(), &options);
    assert_eq!(expected.of_kind(EntryKind::Error).count(), 1, "the bad record's error document");
    assert!(expected.counters.documents >= 4 * 7);
    for size in 1..=5 {
        let mut joined = Vec::new();
        let (mut records, mut documents) = (0, 0);
        for part in parts(&whole, size) {
            let output = native(&part, &options);
            records += output.counters.records;
            documents += output.counters.documents;
            joined.extend(entries(&output));
        }
        assert_eq!(joined, entries(&expected), "parts of {size} records");
        assert_eq!((records, documents), (expected.counters.records, expected.counters.documents));
    }
}

#[test]
fn parts_decode_to_the_whole_delivery_with_options_in_the_record() {
    // in_http makes the part one record; the pipeline adds the options.
    let whole = delivery();
    let with_options = |body: &[u8]| {
        let mut record: Value = serde_json::from_slice(body).unwrap();
        record["gen3_cwlogs_commons"] = json!("devplanetv1");
        serde_json::to_vec(&record).unwrap()
    };
    let decode = |record: &[u8]| {
        let mut output = gen3_cwlogs::Output::default();
        gen3_cwlogs::Decoder::new(Options::default()).unwrap().decode_with_embedded_options(record, &mut output);
        entries(&output)
    };
    let expected = decode(&with_options(&serde_json::to_vec(&whole).unwrap()));
    let joined: Vec<String> = parts(&whole, 2).iter().flat_map(|part| decode(&with_options(part))).collect();
    assert_eq!(joined, expected);
}

#[test]
fn a_part_with_an_invalid_first_record_index_is_one_error_document_of_itself() {
    let whole = delivery();
    for bad in [json!(-1), json!(1.5), json!("3"), json!(1e3), json!(null), json!(4_294_967_296u64), json!((1u64 << 30) + 1), json!([0])] {
        let mut part = whole.clone();
        part["firstRecordIndex"] = bad.clone();
        let payload = serde_json::to_vec(&part).unwrap();
        let output = native(&payload, &Options::default());
        assert_eq!(output.entries.len(), 1, "{bad}: {:?}", entries(&output));
        let error: Value = serde_json::from_str(&output.entries[0].json).unwrap();
        assert_eq!(error["error"]["kind"], "invalid-record", "{bad}");
        let reason = error["error"]["reason"].as_str().unwrap();
        assert!(reason.starts_with("payload: firstRecordIndex must be a whole number"), "{bad}: {reason}");
        assert_eq!(error["raw_data"].as_str().unwrap().as_bytes(), payload, "{bad}: the part is kept whole");
    }
    // The largest index taken is still a record's index.
    let mut part = whole.clone();
    part["firstRecordIndex"] = json!(1u64 << 30);
    let output = native(&serde_json::to_vec(&part).unwrap(), &Options::default());
    let error = output.of_kind(EntryKind::Error).next().unwrap();
    assert!(error.json.contains(&format!("\"record_index\":{}", (1u64 << 30) + 3)), "{}", error.json);
}
