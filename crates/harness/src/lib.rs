//! The test harness: every fixture through every host, and the checks the
//! fuzz targets share.
//!
//! - [`fixtures`]: the shared fixture set (the same file the core's golden
//!   test reads);
//! - [`fluent_bit`]: an exact imitation of Fluent Bit's `filter_wasm` host in
//!   wasmtime, loading the module `gen3-cwlogs-artifacts` built;
//! - [`lua`]: Fluent Bit's Lua filter imitated with LuaJIT, running the
//!   shipped `cwlogs.lua`;
//! - [`fuzzing`]: the invariants every fuzz target and the CI property pass
//!   check.
//!
//! The component is compiled once per test binary ([`component_decoder`]).

pub mod envelope;
#[path = "../../../tests/support/fixtures.rs"]
pub mod fixtures;
pub mod fluent_bit;
pub mod fuzzing;
pub mod lua;
pub mod members;
pub mod redpanda_connect;

use std::sync::OnceLock;

use gen3_cwlogs_wasmtime::ComponentDecoder;
use wasmtime::Engine;
use wasmtime::component::Component;

pub use fixtures::{Fixture, fixture, fixtures, render};

/// Calls `check` on every one-byte deletion, and every replacement by a
/// byte that matters to JSON, of each seed text; returns how many texts it
/// checked. The differential tests of the core's JSON readers use it.
pub fn for_each_one_byte_mutation(seeds: &[&str], check: impl Fn(&[u8])) -> usize {
    const BYTES: &[u8] = b"\"\\{}[],:0-.eE+tfnu \x01\x7fd8";
    let mut checked = 0;
    for seed in seeds {
        let seed = seed.as_bytes();
        for at in 0..seed.len() {
            let mut deleted = seed.to_vec();
            deleted.remove(at);
            check(&deleted);
            for &byte in BYTES {
                let mut replaced = seed.to_vec();
                replaced[at] = byte;
                check(&replaced);
            }
            checked += 1 + BYTES.len();
        }
    }
    checked
}

/// The embedded component, compiled once per test binary.
pub fn compiled_component() -> &'static (Engine, Component) {
    static COMPILED: OnceLock<(Engine, Component)> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let engine = Engine::default();
        let component = gen3_cwlogs_wasmtime::compile(&engine, gen3_cwlogs_wasmtime::COMPONENT_WASM).expect("the component compiles");
        (engine, component)
    })
}

/// A fresh instance of the component, linked with no imports.
pub fn component_decoder() -> ComponentDecoder {
    let (engine, component) = compiled_component();
    ComponentDecoder::new(engine, component).expect("the component instantiates with no imports")
}

/// The native core's output for `payload` (options that are valid).
pub fn native(payload: &[u8], options: &gen3_cwlogs::Options) -> gen3_cwlogs::Output {
    gen3_cwlogs::decode(payload, options).expect("valid options")
}

/// The keys of a JSON object text, in their order (serde_json's `Value`
/// sorts them).
pub fn top_level_keys(json: &str) -> Vec<String> {
    struct Keys;
    impl<'de> serde::de::Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut keys = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<serde::de::IgnoredAny>()?;
                keys.push(key);
            }
            Ok(keys)
        }
    }
    serde::Deserializer::deserialize_map(&mut serde_json::Deserializer::from_str(json), Keys).expect("a JSON object")
}

/// Small deterministic PRNG (xorshift64*) for mutation tests.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound.max(1) as u64) as usize
    }
}
