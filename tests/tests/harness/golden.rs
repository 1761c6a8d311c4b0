//! Every fixture through the native core must give exactly its golden file,
//! and the component in wasmtime must give exactly what the core gives.

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
