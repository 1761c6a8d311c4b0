//! The decoder component, embedded, and the glue to run it in wasmtime.
//!
//! The component is linked against an empty [`Linker`]: instantiation would
//! fail if it imported anything, so every run proves it needs no host
//! capability.

use gen3_cwlogs as core;
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store};

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "cwlogs",
});

use exports::gen3::cwlogs::decoder as wit;

/// The component users load: `wasm32-unknown-unknown` core module wrapped by
/// `wit-component`, built by this crate's build script.
pub const COMPONENT_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/gen3_cwlogs.component.wasm"));

/// Compiles the embedded component.
///
/// # Errors
/// When wasmtime rejects the component.
pub fn compile(engine: &Engine) -> wasmtime::Result<Component> {
    Component::new(engine, COMPONENT_WASM)
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

    /// The component's default limits.
    ///
    /// # Errors
    /// When the call traps.
    pub fn default_limits(&mut self) -> wasmtime::Result<core::Limits> {
        let limits = self.bindings.gen3_cwlogs_decoder().call_default_limits(&mut self.store)?;
        Ok(core::Limits {
            max_decompressed_bytes: limits.max_decompressed_bytes,
            max_events_per_record: limits.max_events_per_record,
            max_json_depth: limits.max_json_depth,
        })
    }

    /// The instance's linear memory size in bytes (its peak: wasm memories
    /// never shrink).
    pub fn linear_memory_bytes(&self) -> usize {
        self.store.data().bytes
    }

    /// Decodes `payload` in the component.
    ///
    /// # Errors
    /// When the call traps (the core never panics, so this is a bug).
    pub fn decode(&mut self, payload: &[u8], options: &core::Options) -> wasmtime::Result<core::Output> {
        let options = options_to_wit(options);
        let output = self.bindings.gen3_cwlogs_decoder().call_decode(&mut self.store, payload, &options)?;
        Ok(output_from_wit(output))
    }

    /// Decodes `payload` in the component, the output as NDJSON text
    /// (`decode-ndjson`): three strings to lift instead of a record per
    /// document.
    ///
    /// # Errors
    /// When the call traps (the core never panics, so this is a bug).
    pub fn decode_ndjson(&mut self, payload: &[u8], options: &core::Options) -> wasmtime::Result<core::NdjsonOutput> {
        let options = options_to_wit(options);
        let output = self.bindings.gen3_cwlogs_decoder().call_decode_ndjson(&mut self.store, payload, &options)?;
        Ok(core::NdjsonOutput {
            documents: output.documents,
            alerts: output.alerts,
            errors: output.errors,
            counters: counters_from_wit(output.counters),
        })
    }
}

fn options_to_wit(options: &core::Options) -> wit::Options {
    wit::Options {
        commons: options.commons.clone(),
        slow_threshold_secs: options.slow_threshold_secs,
        alert_streams: options.alert_streams.clone(),
        schema: match options.schema {
            core::Schema::Gen3 => wit::Schema::Gen3,
            core::Schema::Cloudwatch => wit::Schema::Cloudwatch,
        },
        limits: Some(wit::Limits {
            max_decompressed_bytes: options.limits.max_decompressed_bytes,
            max_events_per_record: options.limits.max_events_per_record,
            max_json_depth: options.limits.max_json_depth,
        }),
    }
}

fn output_from_wit(output: wit::Output) -> core::Output {
    let counters = output.counters;
    core::Output {
        documents: output
            .documents
            .into_iter()
            .map(|document| core::Document {
                id: document.id,
                commons: document.commons,
                timestamp_ms: document.timestamp_ms,
                json: document.json,
            })
            .collect(),
        alerts: output
            .alerts
            .into_iter()
            .map(|alert| core::Alert {
                document_id: alert.document_id,
                commons: alert.commons,
                log_group: alert.log_group,
                seconds: alert.seconds,
                slack_payload: alert.slack_payload,
            })
            .collect(),
        errors: output
            .errors
            .into_iter()
            .map(|error| core::ErrorDocument {
                id: error.id,
                commons: error.commons,
                timestamp_ms: error.timestamp_ms,
                kind: error_kind_from_wit(error.kind),
                reason: error.reason,
                json: error.json,
            })
            .collect(),
        counters: counters_from_wit(counters),
    }
}

fn counters_from_wit(counters: wit::Counters) -> core::Counters {
    core::Counters {
        input_bytes: counters.input_bytes,
        decompressed_bytes: counters.decompressed_bytes,
        records: counters.records,
        records_failed: counters.records_failed,
        envelopes: counters.envelopes,
        control_messages: counters.control_messages,
        events: counters.events,
        events_failed: counters.events_failed,
        documents: counters.documents,
        alerts: counters.alerts,
        errors: counters.errors,
    }
}

fn error_kind_from_wit(kind: wit::ErrorKind) -> core::ErrorKind {
    match kind {
        wit::ErrorKind::UnrecognisedInput => core::ErrorKind::UnrecognisedInput,
        wit::ErrorKind::InvalidRecord => core::ErrorKind::InvalidRecord,
        wit::ErrorKind::Base64 => core::ErrorKind::Base64,
        wit::ErrorKind::Gzip => core::ErrorKind::Gzip,
        wit::ErrorKind::Utf8 => core::ErrorKind::Utf8,
        wit::ErrorKind::InvalidEnvelope => core::ErrorKind::InvalidEnvelope,
        wit::ErrorKind::TooLarge => core::ErrorKind::TooLarge,
        wit::ErrorKind::TooManyEvents => core::ErrorKind::TooManyEvents,
        wit::ErrorKind::MetadataTooLarge => core::ErrorKind::MetadataTooLarge,
        wit::ErrorKind::InvalidEvent => core::ErrorKind::InvalidEvent,
    }
}
