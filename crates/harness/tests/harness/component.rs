//! What users load: the component's imports, exports and size, and its
//! behaviour as a long-lived instance.

use gen3_cwlogs_harness::{component_decoder, fixture, render};
use gen3_cwlogs_wasmtime::COMPONENT_WASM;
use wasmparser::{Parser, Payload};

#[test]
fn component_imports_nothing_and_exports_the_decoder() {
    let mut component_imports = Vec::new();
    let mut core_imports = Vec::new();
    let mut component_exports = Vec::new();
    // Nested components and modules are wired internally; only what the
    // outermost component imports must be supplied by a host. Core modules
    // are checked at every depth.
    let mut depth = 0usize;
    let mut started = false;
    for payload in Parser::new(0).parse_all(COMPONENT_WASM) {
        match payload.expect("the component parses") {
            Payload::Version { .. } => {
                if started {
                    depth += 1;
                }
                started = true;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(section) if depth == 0 => {
                for import in section {
                    component_imports.push(import.expect("import").name.name.to_owned());
                }
            }
            Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    let import = import.expect("core import");
                    core_imports.push(format!("{}::{}", import.module, import.name));
                }
            }
            Payload::ComponentExportSection(section) if depth == 0 => {
                for export in section {
                    component_exports.push(export.expect("export").name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    // No WASI or any other capability: neither the component nor the core
    // module inside it imports anything.
    assert_eq!(component_imports, Vec::<String>::new(), "component imports");
    assert_eq!(core_imports, Vec::<String>::new(), "core module imports");
    assert_eq!(component_exports, ["gen3:cwlogs/decoder@0.2.0"]);
    println!("component: {} bytes, imports: none", COMPONENT_WASM.len());
    assert!(COMPONENT_WASM.len() < 1024 * 1024, "component is {} bytes", COMPONENT_WASM.len());
}

#[test]
fn component_reports_the_core_default_options() {
    assert_eq!(component_decoder().default_options().unwrap(), gen3_cwlogs::Options::default());
}

/// The option schema other languages read (the config generator) is the
/// core's, with the Fluent Bit module's depth limit.
#[test]
fn option_schema_file_is_current() {
    let path = gen3_cwlogs_harness::fixtures::fixtures_dir().join("../../pipeline-configs/decoder-options.json");
    let depth = gen3_cwlogs_fluent_bit::MAX_JSON_DEPTH;
    let hosts = format!("{{\n    \"fluent_bit\": {{\"max_json_depth\": {{\"default\": {depth}, \"max\": {depth}}}}}\n  }}");
    let expected = gen3_cwlogs::schema_json(&hosts);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &expected).expect("write the schema file");
    }
    assert_eq!(std::fs::read_to_string(&path).expect("the schema file"), expected, "regenerate with UPDATE_GOLDEN=1");
}

#[test]
fn one_instance_decodes_the_same_input_identically_many_times() {
    let seed = fixture("seed-kinesis-event");
    let bad = fixture("bad-records");
    let mut component = component_decoder();
    let first = render(&component.decode(&seed.input, &seed.options).unwrap());
    for _ in 0..50 {
        component.decode(&bad.input, &bad.options).unwrap();
        assert_eq!(render(&component.decode(&seed.input, &seed.options).unwrap()), first);
    }
}
