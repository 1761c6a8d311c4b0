//! The project's wasm artifacts, built by this crate's build script (see
//! `build.rs`) and embedded: what the CLI runs, what the test harness and
//! the benchmark load into their hosts, what `gen3-cwlogs-js-build` packages.

include!(concat!(env!("OUT_DIR"), "/artifacts.rs"));

/// The component users load (world `cwlogs` of `wit/`); imports nothing.
pub const COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/gen3_cwlogs.component.wasm"));

/// The Fluent Bit `filter_wasm` module (`crates/fluent-bit`).
pub const FLUENT_BIT: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/modules/wasm32-unknown-unknown/release/gen3_cwlogs_fluent_bit.wasm"));

/// The Redpanda Connect `wasm` processor module (`crates/redpanda-connect`).
pub const REDPANDA_CONNECT: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/modules/wasm32-unknown-unknown/release/gen3_cwlogs_redpanda_connect.wasm"));

/// The wasm-bindgen module (`crates/js`), before wasm-bindgen's processing.
pub const JS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/modules/wasm32-unknown-unknown/release/gen3_cwlogs_js.wasm"));
