//! The decoder for JavaScript, through wasm-bindgen: `decode(input,
//! options)` returns plain objects. `gen3-cwlogs-js-build` turns this crate
//! into the npm package (Node CommonJS and ESM, browsers, TypeScript types)
//! and the self-contained decoder page.
//!
//! The result is built as one JSON text and parsed once by the JS engine:
//! documents are JSON text already, and one `JSON.parse` is far cheaper
//! than building objects field by field across the wasm boundary.

use std::cell::RefCell;

use gen3_cwlogs::{Decoder, Limits, Options, Output, Schema};
use js_sys::{ArrayBuffer, JSON, Reflect, Uint8Array};
use serde::Deserialize;
use wasm_bindgen::prelude::*;

thread_local! {
    /// One decoder per module instance, so its buffers are reused across calls.
    static DECODER: RefCell<Decoder> = RefCell::new(Decoder::new(Options::default()));
}

/// Decodes a payload in any form the core accepts (Kinesis or Lambda event
/// JSON, Firehose delivery, S3 archive, one record's data as gzip, base64 or
/// JSON). `input` is a string, a `Uint8Array` (a Node `Buffer` too) or an
/// `ArrayBuffer`; `options` an object described in `index.d.ts`.
///
/// # Errors
/// Throws a `TypeError` for an input of another type or options it cannot
/// read; a payload that cannot be decoded is never an error: it becomes
/// error documents.
#[wasm_bindgen(skip_typescript)]
pub fn decode(input: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let payload = payload_bytes(&input)?;
    let options = options_from_js(&options)?;
    let mut output = Output::default();
    DECODER.with_borrow_mut(|decoder| {
        decoder.set_options(options);
        output.counters = decoder.decode(&payload, &mut output);
    });
    let result = JSON::parse(&result_json(&output)).map_err(|_| type_error("the decoder wrote invalid JSON (a bug)"))?;
    Reflect::set(&result, &"ndjson".into(), &output.to_ndjson().into())?;
    Ok(result)
}

/// The limits used when `options.limits` leaves one out.
#[wasm_bindgen(js_name = defaultLimits, skip_typescript)]
pub fn default_limits() -> JsValue {
    let limits = Limits::default();
    let text = format!(
        r#"{{"maxDecompressedBytes":{},"maxEventsPerRecord":{},"maxJsonDepth":{}}}"#,
        limits.max_decompressed_bytes, limits.max_events_per_record, limits.max_json_depth
    );
    JSON::parse(&text).expect("constant JSON")
}

fn payload_bytes(input: &JsValue) -> Result<Vec<u8>, JsValue> {
    if let Some(text) = input.as_string() {
        Ok(text.into_bytes())
    } else if let Some(bytes) = input.dyn_ref::<Uint8Array>() {
        Ok(bytes.to_vec())
    } else if let Some(buffer) = input.dyn_ref::<ArrayBuffer>() {
        Ok(Uint8Array::new(buffer).to_vec())
    } else {
        Err(type_error("decode(input): input must be a string, a Uint8Array or an ArrayBuffer"))
    }
}

/// `options` as JS hands it over; unknown keys are refused so a misspelt
/// option is an error, not a silent default.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JsOptions {
    commons: Option<String>,
    slow_threshold_secs: Option<f64>,
    alert_streams: Option<Vec<String>>,
    schema: Option<String>,
    limits: Option<JsLimits>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JsLimits {
    max_decompressed_bytes: Option<u64>,
    max_events_per_record: Option<u32>,
    max_json_depth: Option<u32>,
}

fn options_from_js(options: &JsValue) -> Result<Options, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(Options::default());
    }
    if !options.is_object() {
        return Err(type_error("decode(input, options): options must be an object"));
    }
    let text: String = JSON::stringify(options).map_err(|_| type_error("options cannot be written as JSON"))?.into();
    let js: JsOptions = serde_json::from_str(&text).map_err(|error| type_error(&format!("options: {error}")))?;
    let schema = match js.schema.as_deref() {
        None => Schema::default(),
        Some(name) => Schema::from_name(name)
            .ok_or_else(|| type_error(&format!("options.schema: unknown schema {name:?} (gen3 or cloudwatch)")))?,
    };
    if js.slow_threshold_secs.is_some_and(|secs| !secs.is_finite()) {
        return Err(type_error("options.slowThresholdSecs must be a finite number"));
    }
    let defaults = Limits::default();
    let limits = js.limits.unwrap_or_default();
    Ok(Options {
        commons: js.commons.filter(|name| !name.is_empty()),
        slow_threshold_secs: js.slow_threshold_secs,
        alert_streams: js.alert_streams.unwrap_or_default(),
        schema,
        limits: Limits {
            max_decompressed_bytes: limits.max_decompressed_bytes.unwrap_or(defaults.max_decompressed_bytes),
            max_events_per_record: limits.max_events_per_record.unwrap_or(defaults.max_events_per_record),
            max_json_depth: limits.max_json_depth.unwrap_or(defaults.max_json_depth),
        },
        embedded_options: false,
    })
}

/// `{"documents":[...],"alerts":[...],"errors":[...],"counters":{...}}`,
/// each item the very JSON text the core wrote.
fn result_json(output: &Output) -> String {
    let mut out = String::with_capacity(output.documents.iter().map(|document| document.json.len() + 1).sum::<usize>() + 256);
    out.push_str("{\"documents\":[");
    join(&mut out, &output.documents, |out, document| out.push_str(&document.json));
    out.push_str("],\"alerts\":[");
    join(&mut out, &output.alerts, |out, alert| {
        // The core writes an alert line as `{"alert":{...}}`; the array
        // holds the inner object.
        let mut line = String::new();
        alert.as_ref().write_json(&mut line);
        out.push_str(&line["{\"alert\":".len()..line.len() - 1]);
    });
    out.push_str("],\"errors\":[");
    join(&mut out, &output.errors, |out, error| out.push_str(&error.json));
    out.push_str("],\"counters\":");
    output.counters.write_json(&mut out);
    out.push('}');
    out
}

fn join<T>(out: &mut String, items: &[T], mut write: impl FnMut(&mut String, &T)) {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        write(out, item);
    }
}

fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}
