//! The bounded property pass CI runs: mutated fixtures through every fuzz
//! target's check (`gen3_cwlogs_harness::fuzzing`): the core as given and in
//! every input form, the component, and the Fluent Bit entry point. No
//! panic or trap, output always valid JSON, every record and event
//! accounted for, no document out of proportion, engines identical.

use base64::Engine as _;
use gen3_cwlogs::EntryKind;
use gen3_cwlogs_harness::fuzzing::{self, check_output as check_invariants};
use gen3_cwlogs_harness::{Rng, component_decoder, fixtures, native, render};
use serde_json::Value;

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
                    .flat_map(|(key, len)| (0..len).flat_map(move |i| [format!("/{key}/{i}/kinesis/data"), format!("/{key}/{i}/data")]))
                    .collect();
                for pointer in pointers {
                    if let Some(Value::String(text)) = value.pointer_mut(&pointer)
                        && let Ok(mut bytes) = base64::engine::general_purpose::STANDARD.decode(text.as_bytes())
                    {
                        if !bytes.is_empty() {
                            let at = rng.below(bytes.len());
                            bytes[at] = rng.next_u64() as u8;
                        }
                        *text = base64::engine::general_purpose::STANDARD.encode(bytes);
                    }
                }
                data = serde_json::to_vec(&value).unwrap();
            }
        }
        _ => data.extend((0..rng.below(32)).map(|_| rng.next_u64() as u8)),
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
            let native = native(&input, &fixture.options);
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
fn every_fuzz_target_holds_on_mutated_fixtures() {
    let mut rng = Rng::new(0xf022_7a29);
    let fixtures: Vec<_> = fixtures().into_iter().filter(|f| f.input.len() < 16 * 1024).collect();
    let mut cases = 0;
    for round in 0..8 {
        for fixture in &fixtures {
            let mut data = vec![rng.next_u64() as u8];
            data.extend(mutate(&mut rng, &fixture.input));
            fuzzing::core(&data);
            fuzzing::component(&data);
            fuzzing::fluent_bit(&data[1..]);
            // `forms` wraps the inflated envelope, which is what it explores.
            if round % 4 == 0 {
                fuzzing::every_form(&data);
            }
            cases += 1;
        }
    }
    println!("{cases} mutated inputs through every target's check");
}

#[test]
fn every_fixture_keeps_the_invariants() {
    for fixture in fixtures() {
        check_invariants(&fixture.name, &fixture.input, &native(&fixture.input, &fixture.options));
    }
}

#[test]
fn error_documents_carry_their_own_raw_data() {
    let fixture = gen3_cwlogs_harness::fixture("bad-records");
    let input: Value = serde_json::from_slice(&fixture.input).unwrap();
    let output = native(&fixture.input, &fixture.options);
    let errors: Vec<_> = output.of_kind(EntryKind::Error).collect();
    assert_eq!(errors.len(), 8);
    for error in errors {
        let value: Value = serde_json::from_str(&error.json).unwrap();
        let index = value["error"]["record_index"].as_u64().unwrap() as usize;
        let record = &input["Records"][index];
        assert!(error.error.as_ref().unwrap().1.starts_with(&format!("Kinesis record {index}")), "{}", error.json);
        if value["error"].get("envelope_index").is_some() {
            // An envelope's or event's own bytes, decompressed.
            let raw = value["raw_data"].as_str().unwrap();
            let raw = match value["raw_encoding"].as_str() {
                Some("base64") => base64::engine::general_purpose::STANDARD.decode(raw).unwrap(),
                _ => raw.as_bytes().to_vec(),
            };
            assert!(raw.starts_with(b"{"), "{}", String::from_utf8_lossy(&raw));
            continue;
        }
        match record["kinesis"]["data"].as_str() {
            Some(data) => assert_eq!(value["raw_data"].as_str().unwrap(), data, "record {index}"),
            None => {
                // The record's own JSON text, as it stood in the payload.
                let raw: Value = serde_json::from_str(value["raw_data"].as_str().unwrap()).unwrap();
                assert_eq!(&raw, record);
            }
        }
    }
    // Records 0 and 9 are good and decode despite the bad ones between
    // them; record 5's good event decodes beside its invalid UTF-8 one.
    assert_eq!(output.counters.documents, 5);
}

/// Inputs the fuzzers found (tests/fuzz-regressions, the `core` target's
/// format: an options byte, then the payload) run through every target's
/// check, so each stays fixed.
#[test]
fn inputs_found_by_fuzzing_stay_fixed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz-regressions");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/fuzz-regressions") {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        fuzzing::core(&data);
        fuzzing::every_form(&data);
        fuzzing::component(&data);
        fuzzing::fluent_bit(&data[1..]);
        count += 1;
    }
    assert!(count >= 2, "the regression inputs are there");
}
