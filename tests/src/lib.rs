//! Shared pieces of the test harness: the fixtures, their options, and one
//! compiled copy of the component per test binary.
//!
//! A fixture is a file in `tests/fixtures/` (the payload), with optional
//! `<name>.options.json` (decode options) and `<name>.expected.ndjson` (the
//! exact output: documents, alerts, error documents, then the counters).
//! `UPDATE_GOLDEN=1 cargo test -p gen3-cwlogs-tests` rewrites the expected
//! files; review the diff before committing it.

pub mod fluent_bit;
pub mod fuzzing;
pub mod lua;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use gen3_cwlogs::{Limits, Options, Output, Schema};
use gen3_cwlogs_wasmtime::ComponentDecoder;
use serde_json::Value;
use wasmtime::Engine;
use wasmtime::component::Component;

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

pub struct Fixture {
    pub name: String,
    pub input: Vec<u8>,
    pub options: Options,
    pub expected_path: PathBuf,
}

/// Every fixture payload, sorted by name.
pub fn fixtures() -> Vec<Fixture> {
    let dir = fixtures_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures directory")
        .map(|entry| entry.expect("directory entry").file_name().into_string().expect("UTF-8 file name"))
        .filter(|name| !name.ends_with(".options.json") && !name.ends_with(".expected.ndjson") && !name.ends_with(".py"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|file| {
            let name = file.rsplit_once('.').map_or(file.as_str(), |(stem, _)| stem).to_owned();
            let options_path = dir.join(format!("{name}.options.json"));
            let options = match std::fs::read_to_string(&options_path) {
                Ok(text) => options_from_json(&serde_json::from_str(&text).expect("options JSON")),
                Err(_) => Options::default(),
            };
            Fixture {
                input: std::fs::read(dir.join(&file)).expect("fixture payload"),
                expected_path: dir.join(format!("{name}.expected.ndjson")),
                name,
                options,
            }
        })
        .collect()
}

pub fn fixture(name: &str) -> Fixture {
    fixtures().into_iter().find(|fixture| fixture.name == name).unwrap_or_else(|| panic!("no fixture {name}"))
}

/// Options from a fixture's JSON (the CLI's flag names, snake_case).
pub fn options_from_json(value: &Value) -> Options {
    let defaults = Limits::default();
    let number = |key: &str| value.get(key).and_then(Value::as_u64);
    Options {
        commons: value.get("commons").and_then(Value::as_str).map(str::to_owned),
        slow_threshold_secs: value.get("threshold").and_then(Value::as_f64),
        alert_streams: value
            .get("alert_streams")
            .and_then(Value::as_array)
            .map(|streams| streams.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default(),
        schema: value
            .get("schema")
            .and_then(Value::as_str)
            .map(|name| Schema::from_name(name).expect("known schema"))
            .unwrap_or_default(),
        limits: Limits {
            max_decompressed_bytes: number("max_decompressed_bytes").unwrap_or(defaults.max_decompressed_bytes),
            max_events_per_record: number("max_events_per_record").map_or(defaults.max_events_per_record, |n| n as u32),
            max_json_depth: number("max_json_depth").map_or(defaults.max_json_depth, |n| n as u32),
        },
        // Only the Fluent Bit module reads options from the payload; its
        // own tests cover that.
        embedded_options: false,
    }
}

/// The form outputs are compared in: NDJSON output, then the counters.
pub fn render(output: &Output) -> String {
    let mut text = output.to_ndjson();
    text.push_str("{\"counters\":");
    output.counters.write_json(&mut text);
    text.push_str("}\n");
    text
}

/// The embedded component, compiled once per test binary.
pub fn compiled_component() -> &'static (Engine, Component) {
    static COMPILED: OnceLock<(Engine, Component)> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let engine = Engine::default();
        let component = gen3_cwlogs_wasmtime::compile(&engine).expect("the component compiles");
        (engine, component)
    })
}

/// A fresh instance of the component, linked with no imports.
pub fn component_decoder() -> ComponentDecoder {
    let (engine, component) = compiled_component();
    ComponentDecoder::new(engine, component).expect("the component instantiates with no imports")
}

/// Small deterministic PRNG (xorshift64*) for mutation tests.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}
