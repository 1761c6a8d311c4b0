//! Every fixture through every host gives its golden file: the component in
//! wasmtime (`decode` and `decode-ndjson`, one long-lived instance), and the
//! core's NDJSON sink. The Fluent Bit module has its own file; the JS
//! package and the VRL twin theirs.

use gen3_cwlogs::{Decoder, EntryKind, NdjsonOutput};
use gen3_cwlogs_harness::{component_decoder, fixtures, native, render};

#[test]
fn component_gives_every_golden_file() {
    // One instance for all fixtures, in order, as a long-running host uses it.
    let mut component = component_decoder();
    let fixtures = fixtures();
    assert!(fixtures.len() >= 24, "expected the whole fixture set, found {}", fixtures.len());
    for fixture in &fixtures {
        let wasm = component.decode(&fixture.input, &fixture.options).expect("the component never traps");
        assert_eq!(render(&wasm), fixture.expected(), "{}: the component and the golden file differ", fixture.name);
        assert_eq!(wasm, native(&fixture.input, &fixture.options), "{}: entries differ from the core's", fixture.name);
    }
}

/// The NDJSON form of the output, split by kind, from the core's sink and
/// from the component's `decode-ndjson`: each part holds that kind's lines
/// of the golden file, in order.
#[test]
fn ndjson_export_gives_every_golden_file() {
    let mut component = component_decoder();
    for fixture in fixtures() {
        let entries = native(&fixture.input, &fixture.options);
        let mut native_ndjson = NdjsonOutput::default();
        native_ndjson.counters = Decoder::new(fixture.options.clone()).unwrap().decode(&fixture.input, &mut native_ndjson);
        let wasm = component.decode_ndjson(&fixture.input, &fixture.options).expect("the component never traps");
        let golden = fixture.expected();
        for (engine, ndjson) in [("native core", &native_ndjson), ("component", &wasm)] {
            for (kind, text) in
                [(EntryKind::Document, &ndjson.documents), (EntryKind::Alert, &ndjson.alerts), (EntryKind::Error, &ndjson.errors)]
            {
                let expected: String = entries.of_kind(kind).map(|entry| format!("{}\n", entry.json)).collect();
                assert_eq!(text, &expected, "{}: {engine} {}", fixture.name, kind.name());
                assert!(
                    text.lines().all(|line| golden.lines().any(|golden| golden == line)),
                    "{}: {engine} wrote a line the golden file lacks",
                    fixture.name
                );
            }
            assert_eq!(ndjson.counters, entries.counters, "{}: {engine} counters", fixture.name);
        }
    }
}

/// Refused options are the component's one error, the same as the core's.
#[test]
fn refused_options_are_the_same_error_on_both_sides() {
    let mut component = component_decoder();
    for options in [
        gen3_cwlogs::Options { slow_threshold_secs: Some(f64::NAN), ..Default::default() },
        gen3_cwlogs::Options { max_json_depth: 500, ..Default::default() },
        gen3_cwlogs::Options { alert_streams: vec![String::new()], ..Default::default() },
        gen3_cwlogs::Options { commons: Some(String::new()), ..Default::default() },
    ] {
        let core = gen3_cwlogs::decode(b"{}", &options).unwrap_err();
        match component.decode(b"{}", &options) {
            Err(gen3_cwlogs_wasmtime::Error::Options(error)) => assert_eq!(error, core),
            other => panic!("{options:?}: expected refused options, got {other:?}"),
        }
        assert!(matches!(component.decode_ndjson(b"{}", &options), Err(gen3_cwlogs_wasmtime::Error::Options(_))));
    }
}
