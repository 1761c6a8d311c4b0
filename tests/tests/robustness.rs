//! Mutated fixtures through the core and the component: no panic or trap,
//! every output is valid JSON, every record and event is accounted for, the
//! two engines agree, and no document grows out of proportion to its input.

use base64::Engine as _;
use gen3_cwlogs::{MAX_METADATA_BYTES, Output};
use gen3_cwlogs_tests::{Rng, component_decoder, fixtures, render};
use serde_json::Value;

fn check_invariants(name: &str, input: &[u8], output: &Output) {
    let counters = &output.counters;
    assert_eq!(counters.documents as usize, output.documents.len(), "{name}");
    assert_eq!(counters.alerts as usize, output.alerts.len(), "{name}");
    assert_eq!(counters.errors as usize, output.errors.len(), "{name}");
    assert_eq!(counters.events, counters.documents + counters.events_failed, "{name}: events unaccounted");
    assert_eq!(counters.errors, counters.records_failed + counters.events_failed, "{name}: errors unaccounted");
    assert!(counters.records >= 1, "{name}: a payload is at least one record");
    for document in &output.documents {
        let value: Value = serde_json::from_str(&document.json).unwrap_or_else(|e| panic!("{name}: invalid document {e}"));
        assert_eq!(value["id"], document.id.as_str(), "{name}");
        // A document is its event plus bounded metadata.
        assert!(document.json.len() <= 2 * input.len() + MAX_METADATA_BYTES + 1024, "{name}: document too large");
    }
    for error in &output.errors {
        let value: Value = serde_json::from_str(&error.json).unwrap_or_else(|e| panic!("{name}: invalid error document {e}"));
        assert!(value["raw_data"].is_string(), "{name}: error document without raw data");
        assert!(error.json.len() <= 2 * input.len() + 2 * MAX_METADATA_BYTES + 4096, "{name}: error document too large");
    }
    for alert in &output.alerts {
        let value: Value = serde_json::from_str(&alert.slack_payload).expect("valid Slack payload");
        assert!(value["text"].is_string());
    }
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut data = input.to_vec();
    match rng.below(5) {
        0 if !data.is_empty() => {
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(data.len());
                data[at] ^= 1 << rng.below(8);
            }
        }
        1 => data.truncate(rng.below(data.len() + 1)),
        2 if !data.is_empty() => {
            let at = rng.below(data.len());
            let len = rng.below(64).min(data.len() - at);
            let copy = data[at..at + len].to_vec();
            let to = rng.below(data.len());
            data.splice(to..to, copy);
        }
        3 => {
            // Corrupt the bytes inside a base64 record, keeping the JSON intact.
            if let Ok(mut value) = serde_json::from_slice::<Value>(&data) {
                let pointers: Vec<String> = ["Records", "records"]
                    .iter()
                    .filter_map(|key| Some((key, value.get(*key)?.as_array()?.len())))
                    .flat_map(|(key, len)| {
                        (0..len).flat_map(move |i| [format!("/{key}/{i}/kinesis/data"), format!("/{key}/{i}/data")])
                    })
                    .collect();
                for pointer in pointers {
                    if let Some(Value::String(text)) = value.pointer_mut(&pointer) {
                        if let Ok(mut bytes) = base64::engine::general_purpose::STANDARD.decode(text.as_bytes()) {
                            if !bytes.is_empty() {
                                let at = rng.below(bytes.len());
                                bytes[at] = rng.next() as u8;
                            }
                            *text = base64::engine::general_purpose::STANDARD.encode(bytes);
                        }
                    }
                }
                data = serde_json::to_vec(&value).unwrap();
            }
        }
        _ => data.extend((0..rng.below(32)).map(|_| rng.next() as u8)),
    }
    data
}

#[test]
fn mutated_fixtures_never_break_the_invariants() {
    let mut rng = Rng::new(0x5eed_cafe);
    let mut component = component_decoder();
    let fixtures: Vec<_> = fixtures().into_iter().filter(|f| f.input.len() < 16 * 1024).collect();
    let mut cases = 0;
    for round in 0..40 {
        for fixture in &fixtures {
            let input = mutate(&mut rng, &fixture.input);
            let native = gen3_cwlogs::decode(&input, &fixture.options);
            let name = format!("{} (round {round})", fixture.name);
            check_invariants(&name, &input, &native);
            let wasm = component.decode(&input, &fixture.options).unwrap_or_else(|e| panic!("{name}: trap {e:?}"));
            assert_eq!(render(&wasm), render(&native), "{name}: engines differ");
            cases += 1;
        }
    }
    println!("{cases} mutated payloads checked");
}

#[test]
fn every_fixture_keeps_the_invariants() {
    for fixture in fixtures() {
        check_invariants(&fixture.name, &fixture.input, &gen3_cwlogs::decode(&fixture.input, &fixture.options));
    }
}

#[test]
fn error_documents_carry_the_records_raw_data() {
    let fixture = gen3_cwlogs_tests::fixture("bad-records");
    let input: Value = serde_json::from_slice(&fixture.input).unwrap();
    let output = gen3_cwlogs::decode(&fixture.input, &fixture.options);
    assert_eq!(output.errors.len(), 8);
    for error in &output.errors {
        let value: Value = serde_json::from_str(&error.json).unwrap();
        let index = value["error"]["record_index"].as_u64().unwrap() as usize;
        let record = &input["Records"][index];
        let expected = match record["kinesis"]["data"].as_str() {
            Some(data) => data.to_owned(),
            None => serde_json::to_string_pretty(record).unwrap(),
        };
        assert_eq!(value["raw_encoding"], "text");
        if record["kinesis"]["data"].is_string() {
            assert_eq!(value["raw_data"].as_str().unwrap(), expected, "record {index}");
        } else {
            // The record's own JSON text, as it stood in the payload.
            let raw: Value = serde_json::from_str(value["raw_data"].as_str().unwrap()).unwrap();
            assert_eq!(&raw, record);
        }
        assert!(error.reason.starts_with(&format!("Kinesis record {index}")), "{}", error.reason);
    }
    // Records 0 and 9 are good and decode despite the bad ones between them.
    assert_eq!(output.documents.len(), 4);
}
