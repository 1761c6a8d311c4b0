//! Runs the decoder component in wasmtime, as any component host would:
//! used by the CLI, the test harness and the benchmark.
//!
//! The component is linked against an empty [`Linker`]: instantiation would
//! fail if it imported anything, so every run proves it needs no host
//! capability. The types are mapped by the core's `wit_conversions!`; this
//! file's one error-mapping site is [`Error`].

use gen3_cwlogs as core;
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store};

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "cwlogs",
});

use exports::gen3::cwlogs::decoder as wit;

gen3_cwlogs::wit_conversions!(exports::gen3::cwlogs::decoder);

/// The component users load (see `gen3-cwlogs-artifacts`).
pub const COMPONENT_WASM: &[u8] = gen3_cwlogs_artifacts::COMPONENT;

/// Why a call gave no output.
#[derive(Debug)]
pub enum Error {
    /// The component refused the options.
    Options(core::OptionError),
    /// The component trapped or could not be run: a bug, since the core
    /// never panics.
    Wasm(wasmtime::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Options(error) => write!(f, "option {error}"),
            Error::Wasm(error) => write!(f, "the component failed: {error:?}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<wasmtime::Error> for Error {
    fn from(error: wasmtime::Error) -> Self {
        Error::Wasm(error)
    }
}

/// Compiles a component (the embedded one: [`COMPONENT_WASM`]).
///
/// # Errors
/// When wasmtime rejects the component.
pub fn compile(engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Component> {
    Component::new(engine, wasm)
}

/// One instance of the component with its own store; calls reuse it, as a
/// long-running host would.
pub struct ComponentDecoder {
    store: Store<LinearMemory>,
    bindings: Cwlogs,
}

/// Follows the instance's linear memory, which only ever grows: its size is
/// what the guest holds at most.
#[derive(Default)]
struct LinearMemory {
    bytes: usize,
}

impl wasmtime::ResourceLimiter for LinearMemory {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.bytes = self.bytes.max(desired);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, _desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

impl ComponentDecoder {
    /// Instantiates `component` with no imports at all.
    ///
    /// # Errors
    /// When instantiation fails (e.g. the component imports something).
    pub fn new(engine: &Engine, component: &Component) -> wasmtime::Result<Self> {
        let mut store = Store::new(engine, LinearMemory::default());
        store.limiter(|memory| memory);
        // wasmtime caps what one call may return at 128 MiB by default, a
        // guard against hostile guests. This guest is the decoder, whose
        // output is bounded by its limits and the input size; a large S3
        // archive legitimately returns more.
        store.set_hostcall_fuel(usize::MAX);
        let linker = Linker::<LinearMemory>::new(engine);
        let bindings = Cwlogs::instantiate(&mut store, component, &linker)?;
        Ok(ComponentDecoder { store, bindings })
    }

    /// The component's default options.
    ///
    /// # Errors
    /// When the call traps.
    pub fn default_options(&mut self) -> Result<core::Options, Error> {
        Ok(self.bindings.gen3_cwlogs_decoder().call_default_options(&mut self.store)?.into())
    }

    /// The instance's linear memory size in bytes (its peak: wasm memories
    /// never shrink).
    pub fn linear_memory_bytes(&self) -> usize {
        self.store.data().bytes
    }

    /// Decodes `payload` in the component.
    ///
    /// # Errors
    /// Refused options, or a trap (a bug).
    pub fn decode(&mut self, payload: &[u8], options: &core::Options) -> Result<core::Output, Error> {
        let options = wit::Options::from(options);
        let output = self.bindings.gen3_cwlogs_decoder().call_decode(&mut self.store, payload, &options)?;
        output.map(Into::into).map_err(|error| Error::Options(error.into()))
    }

    /// Decodes `payload` in the component, the output as NDJSON text
    /// (`decode-ndjson`): three strings to lift instead of a record per
    /// entry.
    ///
    /// # Errors
    /// Refused options, or a trap (a bug).
    pub fn decode_ndjson(&mut self, payload: &[u8], options: &core::Options) -> Result<core::NdjsonOutput, Error> {
        let options = wit::Options::from(options);
        let output = self.bindings.gen3_cwlogs_decoder().call_decode_ndjson(&mut self.store, payload, &options)?;
        output.map(Into::into).map_err(|error| Error::Options(error.into()))
    }
}
