//! The decoder as a WebAssembly component: the `cwlogs` world of `wit/`.
//!
//! Built for `wasm32-unknown-unknown` and wrapped with `wit-component`, it
//! imports nothing: no filesystem, network, clock or randomness. The types
//! are mapped by the core's `wit_conversions!`; refused options are the one
//! error this adapter returns.

use std::cell::{Cell, RefCell};

use gen3_cwlogs as core;

wit_bindgen::generate!({
    path: "../../wit",
    world: "cwlogs",
});

use exports::gen3::cwlogs::decoder::{Guest, NdjsonOutput, OptionError, Options, Output};

gen3_cwlogs::wit_conversions!(exports::gen3::cwlogs::decoder);

struct Component;

thread_local! {
    /// One decoder per instance, so its buffers are reused across calls.
    static DECODER: RefCell<core::Decoder> = RefCell::new(core::Decoder::default());
    /// The documents' NDJSON size of the last `decode-ndjson` call: the next
    /// call's buffer starts that big instead of growing by copies.
    static LAST_NDJSON_BYTES: Cell<usize> = const { Cell::new(0) };
}

/// Runs `decode` with `options` on the instance's decoder, or returns why
/// the options are refused.
fn with_decoder<T>(options: Options, decode: impl FnOnce(&mut core::Decoder) -> T) -> Result<T, OptionError> {
    DECODER.with_borrow_mut(|decoder| {
        decoder.set_options(options.into())?;
        Ok(decode(decoder))
    })
}

impl Guest for Component {
    fn default_options() -> Options {
        (&core::Options::default()).into()
    }

    fn decode(payload: Vec<u8>, options: Options) -> Result<Output, OptionError> {
        with_decoder(options, |decoder| {
            let mut output = core::Output::default();
            output.counters = decoder.decode(&payload, &mut output);
            output.into()
        })
    }

    fn decode_ndjson(payload: Vec<u8>, options: Options) -> Result<NdjsonOutput, OptionError> {
        with_decoder(options, |decoder| {
            let mut output = core::NdjsonOutput::with_capacity(LAST_NDJSON_BYTES.get());
            output.counters = decoder.decode(&payload, &mut output);
            LAST_NDJSON_BYTES.set(output.documents.len());
            output.into()
        })
    }
}

export!(Component);
