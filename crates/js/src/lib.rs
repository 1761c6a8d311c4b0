//! The decoder for JavaScript, through wasm-bindgen: `decode(input,
//! options)` returns the core's entries as plain objects. `gen3-cwlogs-js-build`
//! turns this crate into the npm package (Node CommonJS and ESM, browsers,
//! TypeScript types) and the self-contained decoder page.
//!
//! Options are the core's, spelt in camelCase (`maxJsonDepth`). The result
//! is built as one JSON text and parsed once by the JS engine: entries are
//! JSON text already, and one `JSON.parse` is far cheaper than building
//! objects field by field across the wasm boundary. This file's one
//! error-mapping site is [`type_error`].

use std::cell::RefCell;
use std::fmt::Write as _;

use gen3_cwlogs::write::write_str;
use gen3_cwlogs::{Decoder, EntryKind, OPTIONS, OptionError, OptionKind, Options, Output};
use js_sys::{Array, ArrayBuffer, JSON, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

thread_local! {
    /// One decoder per module instance, so its buffers are reused across calls.
    static DECODER: RefCell<Decoder> = RefCell::new(Decoder::default());
}

/// Decodes a payload in any form the core accepts (Kinesis or Lambda event
/// JSON, Firehose delivery, S3 archive, one record's data as gzip, base64 or
/// JSON). `input` is a string, a `Uint8Array` (a Node `Buffer` too) or an
/// `ArrayBuffer`; `options` an object described in `index.d.ts`.
///
/// # Errors
/// Throws a `TypeError` for an input of another type or options the core
/// refuses; a payload that cannot be decoded is never an error: it becomes
/// error documents.
#[wasm_bindgen(skip_typescript)]
pub fn decode(input: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let payload = payload_bytes(&input)?;
    let options = options_from_js(&options)?;
    let mut output = Output::default();
    DECODER
        .with_borrow_mut(|decoder| {
            decoder.set_options(options)?;
            output.counters = decoder.decode(&payload, &mut output);
            Ok::<(), OptionError>(())
        })
        .map_err(|error| type_error(&option_message(&error)))?;
    let result = JSON::parse(&result_json(&output)).map_err(|_| type_error("the decoder wrote invalid JSON (a bug)"))?;
    Reflect::set(&result, &"ndjson".into(), &output.to_ndjson().into())?;
    Ok(result)
}

/// Every option at its default, camelCase keys (unset options are absent).
#[wasm_bindgen(js_name = defaultOptions, skip_typescript)]
pub fn default_options() -> JsValue {
    let defaults = Options::default();
    let text = format!(
        r#"{{"schema":"{}","maxDecompressedBytes":{},"maxEventsPerRecord":{},"maxJsonDepth":{},"alertStreams":[]}}"#,
        defaults.schema.name(),
        defaults.max_decompressed_bytes,
        defaults.max_events_per_record,
        defaults.max_json_depth
    );
    JSON::parse(&text).unwrap_or(JsValue::UNDEFINED)
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

/// `max_json_depth` -> `maxJsonDepth`.
fn camel_case(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        match (c, upper) {
            ('_', _) => upper = true,
            (c, true) => {
                out.push(c.to_ascii_uppercase());
                upper = false;
            }
            (c, false) => out.push(c),
        }
    }
    out
}

/// The options object: each key the camelCase of a core option, each value
/// of that option's type; the core validates every value. A misspelt key
/// (or a snake_case one) is refused, not ignored.
fn options_from_js(options: &JsValue) -> Result<Options, JsValue> {
    let mut parsed = Options::default();
    if options.is_undefined() || options.is_null() {
        return Ok(parsed);
    }
    let object = options
        .dyn_ref::<Object>()
        .filter(|_| !Array::is_array(options))
        .ok_or_else(|| type_error("decode(input, options): options must be an object"))?;
    for pair in Object::entries(object).iter() {
        let pair = Array::from(&pair);
        let key = pair.get(0).as_string().unwrap_or_default();
        let value = pair.get(1);
        let spec = OPTIONS.iter().find(|spec| camel_case(spec.name) == key).ok_or_else(|| {
            let known: Vec<String> = OPTIONS.iter().map(|spec| camel_case(spec.name)).collect();
            type_error(&format!("options.{key} is not an option (known: {})", known.join(", ")))
        })?;
        if value.is_undefined() || value.is_null() {
            continue;
        }
        let wrong_type = |what: &str| type_error(&format!("options.{key} must be {what}"));
        match spec.kind {
            OptionKind::String | OptionKind::Enum(_) => {
                let text = value.as_string().ok_or_else(|| wrong_type("a string"))?;
                parsed.set(spec.name, &text).map_err(|error| type_error(&option_message(&error)))?;
            }
            OptionKind::Number { .. } | OptionKind::Integer { .. } => {
                let number = value.as_f64().ok_or_else(|| wrong_type("a number"))?;
                if !number.is_finite() {
                    return Err(wrong_type("a finite number"));
                }
                parsed.set(spec.name, &number.to_string()).map_err(|error| type_error(&option_message(&error)))?;
            }
            OptionKind::StringList => {
                let parts: Option<Vec<String>> =
                    Array::is_array(&value).then(|| Array::from(&value).iter().map(|part| part.as_string()).collect()).flatten();
                parsed.alert_streams = parts.ok_or_else(|| wrong_type("an array of strings"))?;
            }
        }
    }
    parsed.validate().map_err(|error| type_error(&option_message(&error)))?;
    Ok(parsed)
}

fn option_message(error: &OptionError) -> String {
    format!("options.{}: {}", camel_case(&error.option), error.reason)
}

/// `{"entries":[{"kind","id","commons","timeMs","recordIndex","error","record"}...],"counters":{...}}`,
/// each record the very JSON text the core wrote (an alert's, the object
/// inside its `{"alert": ...}` line).
fn result_json(output: &Output) -> String {
    let mut out = String::with_capacity(output.entries.iter().map(|entry| entry.json.len() + 128).sum::<usize>() + 256);
    out.push_str("{\"entries\":[");
    for (index, entry) in output.entries.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        let _ = write!(out, "{{\"kind\":\"{}\",\"id\":", entry.kind.name());
        write_str(&mut out, &entry.id);
        out.push_str(",\"commons\":");
        match &entry.commons {
            Some(commons) => write_str(&mut out, commons),
            None => out.push_str("null"),
        }
        match entry.time_ms {
            Some(millis) => {
                let _ = write!(out, ",\"timeMs\":{millis}");
            }
            None => out.push_str(",\"timeMs\":null"),
        }
        let _ = write!(out, ",\"recordIndex\":{}", entry.record_index);
        match &entry.error {
            Some((kind, reason)) => {
                let _ = write!(out, ",\"error\":{{\"kind\":\"{}\",\"reason\":", kind.name());
                write_str(&mut out, reason);
                out.push('}');
            }
            None => out.push_str(",\"error\":null"),
        }
        out.push_str(",\"record\":");
        match entry.kind {
            EntryKind::Alert => out.push_str(&entry.json["{\"alert\":".len()..entry.json.len() - 1]),
            _ => out.push_str(&entry.json),
        }
        out.push('}');
    }
    out.push_str("],\"counters\":");
    output.counters.write_json(&mut out);
    out.push('}');
    out
}

/// Every failure a JS caller sees.
fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}
