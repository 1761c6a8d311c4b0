//! Every fixture through the native core must give exactly its golden file,
//! and the component in wasmtime must give exactly what the core gives.

use gen3_cwlogs::{Decoder, NdjsonOutput, Output};
use gen3_cwlogs_tests::{component_decoder, fixtures, render};

#[test]
fn native_core_matches_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for fixture in fixtures() {
        let actual = render(&gen3_cwlogs::decode(&fixture.input, &fixture.options));
        if update {
            std::fs::write(&fixture.expected_path, &actual).expect("write golden file");
            continue;
        }
        let expected = std::fs::read_to_string(&fixture.expected_path)
            .unwrap_or_else(|_| panic!("{}: no golden file (run with UPDATE_GOLDEN=1 and review it)", fixture.name));
        if actual != expected {
            mismatches.push(format!("{}:\n--- expected\n{expected}--- actual\n{actual}", fixture.name));
        }
    }
    assert!(mismatches.is_empty(), "golden mismatches:\n{}", mismatches.join("\n"));
}

#[test]
fn component_output_equals_native_output_on_every_fixture() {
    // One instance for all fixtures, in order, as a long-running host uses it.
    let mut component = component_decoder();
    let fixtures = fixtures();
    assert!(fixtures.len() >= 20, "expected the whole fixture set, found {}", fixtures.len());
    for fixture in &fixtures {
        let native = gen3_cwlogs::decode(&fixture.input, &fixture.options);
        let wasm = component.decode(&fixture.input, &fixture.options).expect("the component never traps");
        assert_eq!(render(&wasm), render(&native), "{}: component and native core differ", fixture.name);
        assert_eq!(wasm, native, "{}: structured output differs", fixture.name);
    }
}

/// The NDJSON form of the output, split by kind, from the core's sink and
/// from the component's `decode-ndjson`: each part must be what the records
/// give, and the whole the golden file.
#[test]
fn ndjson_export_equals_golden_files_natively_and_in_the_component() {
    let mut component = component_decoder();
    for fixture in fixtures() {
        let expected = std::fs::read_to_string(&fixture.expected_path).expect("golden file");
        let records = gen3_cwlogs::decode(&fixture.input, &fixture.options);
        let mut native = NdjsonOutput::default();
        native.counters = Decoder::new(fixture.options.clone()).decode(&fixture.input, &mut native);
        let wasm = component.decode_ndjson(&fixture.input, &fixture.options).expect("the component never traps");
        for (engine, ndjson) in [("native core", &native), ("component", &wasm)] {
            let kind_only = |keep: fn(&mut Output)| {
                let mut output = records.clone();
                keep(&mut output);
                output.to_ndjson()
            };
            assert_eq!(ndjson.documents, kind_only(|output| (output.alerts.clear(), output.errors.clear()).1), "{}: {engine} documents", fixture.name);
            assert_eq!(ndjson.alerts, kind_only(|output| (output.documents.clear(), output.errors.clear()).1), "{}: {engine} alerts", fixture.name);
            assert_eq!(ndjson.errors, kind_only(|output| (output.documents.clear(), output.alerts.clear()).1), "{}: {engine} errors", fixture.name);
            let rendered = render(&Output { counters: ndjson.counters, ..Output::default() });
            assert_eq!(ndjson.to_ndjson() + &rendered, expected, "{}: {engine} NDJSON and golden file differ", fixture.name);
        }
    }
}
