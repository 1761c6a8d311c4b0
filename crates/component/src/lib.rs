//! The decoder as a WebAssembly component: the `cwlogs` world of `wit/`.
//!
//! Built for `wasm32-unknown-unknown` and wrapped with `wit-component`, it
//! imports nothing: no filesystem, network, clock or randomness. The only
//! logic here is mapping between WIT types and the core's.

use std::cell::{Cell, RefCell};

use gen3_cwlogs as core;

wit_bindgen::generate!({
    path: "../../wit",
    world: "cwlogs",
});

use exports::gen3::cwlogs::decoder::{
    Alert, Counters, Document, ErrorDocument, ErrorKind, Guest, Limits, NdjsonOutput, Options, Output, Schema,
};

struct Component;

thread_local! {
    /// One decoder per instance, so its buffers are reused across calls.
    static DECODER: RefCell<core::Decoder> = RefCell::new(core::Decoder::new(core::Options::default()));
    /// The documents' NDJSON size of the last `decode-ndjson` call: the next
    /// call's buffer starts that big instead of growing by copies.
    static LAST_NDJSON_BYTES: Cell<usize> = const { Cell::new(0) };
}

impl Guest for Component {
    fn default_limits() -> Limits {
        limits_to_wit(core::Limits::default())
    }

    fn decode(payload: Vec<u8>, options: Options) -> Output {
        let mut output = core::Output::default();
        DECODER.with_borrow_mut(|decoder| {
            decoder.set_options(options_from_wit(options));
            output.counters = decoder.decode(&payload, &mut output);
        });
        output_to_wit(output)
    }

    fn decode_ndjson(payload: Vec<u8>, options: Options) -> NdjsonOutput {
        let mut output = core::NdjsonOutput::with_capacity(LAST_NDJSON_BYTES.get());
        DECODER.with_borrow_mut(|decoder| {
            decoder.set_options(options_from_wit(options));
            output.counters = decoder.decode(&payload, &mut output);
        });
        LAST_NDJSON_BYTES.set(output.documents.len());
        NdjsonOutput {
            documents: output.documents,
            alerts: output.alerts,
            errors: output.errors,
            counters: counters_to_wit(output.counters),
        }
    }
}

fn options_from_wit(options: Options) -> core::Options {
    core::Options {
        commons: options.commons,
        slow_threshold_secs: options.slow_threshold_secs,
        alert_streams: options.alert_streams,
        schema: match options.schema {
            Schema::Gen3 => core::Schema::Gen3,
            Schema::Cloudwatch => core::Schema::Cloudwatch,
        },
        limits: options.limits.map_or_else(core::Limits::default, |limits| core::Limits {
            max_decompressed_bytes: limits.max_decompressed_bytes,
            max_events_per_record: limits.max_events_per_record,
            max_json_depth: limits.max_json_depth,
        }),
        embedded_options: false,
    }
}

fn limits_to_wit(limits: core::Limits) -> Limits {
    Limits {
        max_decompressed_bytes: limits.max_decompressed_bytes,
        max_events_per_record: limits.max_events_per_record,
        max_json_depth: limits.max_json_depth,
    }
}

fn output_to_wit(output: core::Output) -> Output {
    let counters = output.counters;
    Output {
        documents: output
            .documents
            .into_iter()
            .map(|document| Document {
                id: document.id,
                commons: document.commons,
                timestamp_ms: document.timestamp_ms,
                json: document.json,
            })
            .collect(),
        alerts: output
            .alerts
            .into_iter()
            .map(|alert| Alert {
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
            .map(|error| ErrorDocument {
                id: error.id,
                commons: error.commons,
                timestamp_ms: error.timestamp_ms,
                kind: error_kind_to_wit(error.kind),
                reason: error.reason,
                json: error.json,
            })
            .collect(),
        counters: counters_to_wit(counters),
    }
}

fn counters_to_wit(counters: core::Counters) -> Counters {
    Counters {
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

fn error_kind_to_wit(kind: core::ErrorKind) -> ErrorKind {
    match kind {
        core::ErrorKind::UnrecognisedInput => ErrorKind::UnrecognisedInput,
        core::ErrorKind::InvalidRecord => ErrorKind::InvalidRecord,
        core::ErrorKind::Base64 => ErrorKind::Base64,
        core::ErrorKind::Gzip => ErrorKind::Gzip,
        core::ErrorKind::Utf8 => ErrorKind::Utf8,
        core::ErrorKind::InvalidEnvelope => ErrorKind::InvalidEnvelope,
        core::ErrorKind::TooLarge => ErrorKind::TooLarge,
        core::ErrorKind::TooManyEvents => ErrorKind::TooManyEvents,
        core::ErrorKind::MetadataTooLarge => ErrorKind::MetadataTooLarge,
        core::ErrorKind::InvalidEvent => ErrorKind::InvalidEvent,
    }
}

export!(Component);
