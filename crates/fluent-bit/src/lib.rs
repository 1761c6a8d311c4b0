//! The decoder as a Fluent Bit `filter_wasm` module (`Event_Format json`).
//!
//! Fluent Bit (>= 4.1.2, WAMR) keeps one instance per filter and, for each
//! record, copies the tag and the record body (JSON text) into the module
//! with the module's exported `malloc`, NUL-terminated, calls
//! [`gen3_cwlogs_filter`], copies the NUL-terminated JSON object it returns,
//! and frees the inputs with the module's `free`. It never frees what the
//! filter returns, so the result lives in one buffer owned by the module and
//! reused by every call.
//!
//! filter_wasm cannot emit several records, so the result is ONE object,
//! the core's entries in input order, each entry's record as JSON TEXT:
//!
//! ```json
//! {"_cwlogs_kind": "result",
//!  "records": [{"kind": "document", "time_ms": 1521826474000, "json": "{\"id\":...the document...}"},
//!              {"kind": "alert", "time_ms": ..., "json": "{\"_cwlogs_kind\":\"alert\",\"slack_payload\":\"<JSON text>\",\"slack_headers\":{...},...}"},
//!              {"kind": "error", "time_ms": ..., "json": "{\"_cwlogs_kind\":\"error\",...the error document...}"}],
//!  "counters": {...}}
//! ```
//!
//! The shipped Lua filter (`pipeline-configs/fluent-bit/cwlogs.lua`) splits
//! it into one record per entry and gives each its own time, and Fluent
//! Bit's `parser` filter (format json) turns each entry's text into the
//! record. Carrying documents as text keeps them out of Lua tables: Lua
//! copies one string per document instead of building and walking its
//! tables twice (the largest cost of the pipeline after the outputs), and
//! documents keep their key order, float and integer values as the core
//! wrote them. Only records that are not documents carry `_cwlogs_kind`
//! (`alert`, `error`, and `result` on this object, which only reaches an
//! output when the Lua split failed): the outputs select their records by
//! it, and documents need no field removed before they are stored.
//! Per-commons options come from the
//! record itself (`gen3_cwlogs_<option>` keys set by the pipeline's `modify`
//! filter; `Decoder::decode_with_embedded_options`), because filter_wasm
//! passes none.
//!
//! The result is always one valid JSON object: invalid JSON after a valid
//! record makes Fluent Bit abort. Nothing is dropped on purpose: a payload
//! that yields no entries still returns `{"records": [], ...}`, which the
//! Lua filter drops after counting.

use std::fmt::Write as _;

use gen3_cwlogs::write::write_str;
use gen3_cwlogs::{Decoder, Entry, EntryKind, Options, Sink};

/// Fluent Bit turns the result into msgpack, which it cannot read nested
/// deeper than 64 levels (MSGPACK_EMBED_STACK_SIZE): deeper, the whole
/// delivery is lost with only a "Log event encoder error" line (seen on real
/// 4.1.2 and 5.1.1). The result wraps each document in 4 levels, so
/// messages nested deeper than this stay plain text (`{"log": "<raw>"}`),
/// and a record may not ask for more.
pub const MAX_JSON_DEPTH: u32 = 48;

/// The module's own options; a record may override them.
pub fn options() -> Options {
    Options { max_json_depth: MAX_JSON_DEPTH, ..Options::default() }
}

/// Writes the entries straight into the reused output buffer.
struct EntryWriter<'o> {
    out: &'o mut String,
    /// The text of an alert or error record before it is escaped into `out`.
    scratch: &'o mut String,
    entries: usize,
}

/// The record of an entry that is no document: `_cwlogs_kind` first, then
/// the fields of `object` (a JSON object's text).
fn marked(scratch: &mut String, kind: &str, object: &str) {
    scratch.clear();
    scratch.push_str("{\"_cwlogs_kind\":\"");
    scratch.push_str(kind);
    scratch.push('"');
    let fields = object.strip_prefix('{').unwrap_or(object);
    if !fields.trim_start().starts_with('}') {
        scratch.push(',');
    }
    scratch.push_str(fields);
}

impl Sink for EntryWriter<'_> {
    fn entry(&mut self, entry: &Entry<'_>) {
        let out = &mut *self.out;
        if self.entries > 0 {
            out.push(',');
        }
        self.entries += 1;
        out.push_str("{\"kind\":\"");
        out.push_str(entry.kind.name());
        out.push('"');
        if let Some(millis) = entry.time_ms {
            // Integer milliseconds: exact in Lua's doubles.
            let _ = write!(out, ",\"time_ms\":{millis}");
        }
        out.push_str(",\"json\":");
        match (entry.kind, entry.alert) {
            (EntryKind::Document, _) => write_str(out, entry.json),
            // Shaped for Fluent Bit's http output with `body_key
            // $slack_payload` and `headers_key $slack_headers`: one POST per
            // alert, the payload sent verbatim.
            (EntryKind::Alert, Some(alert)) => {
                let scratch = &mut *self.scratch;
                scratch.clear();
                scratch.push_str("{\"_cwlogs_kind\":\"alert\",\"slack_payload\":");
                write_str(scratch, alert.slack_payload);
                scratch.push_str(",\"slack_headers\":{\"Content-Type\":\"application/json\"},\"commons\":");
                write_str(scratch, entry.commons.unwrap_or("unknown"));
                scratch.push_str(",\"document_id\":");
                write_str(scratch, entry.id);
                scratch.push_str(",\"seconds\":");
                write_str(scratch, alert.seconds);
                scratch.push('}');
                write_str(out, scratch);
            }
            (kind, _) => {
                marked(self.scratch, kind.name(), entry.json);
                write_str(out, self.scratch);
            }
        }
        out.push('}');
    }
}

/// Decodes one record body into the NUL-terminated result (without calling
/// into the host); the testable part of [`gen3_cwlogs_filter`]. `None`: the
/// host could not copy the record in.
pub fn filter_record(record: Option<&[u8]>, output: &mut String, decoder: &mut Decoder) {
    let mut scratch = String::new();
    output.clear();
    output.push_str("{\"_cwlogs_kind\":\"result\",\"records\":[");
    let mut writer = EntryWriter { out: output, scratch: &mut scratch, entries: 0 };
    let counters = match record {
        Some(record) => decoder.decode_with_embedded_options(record, &mut writer),
        None => decoder.report_unreadable_payload("Fluent Bit passed no record (allocating its copy in the module failed)", &mut writer),
    };
    output.push_str("],\"counters\":");
    counters.write_json(output);
    output.push('}');
    output.push('\0');
}

#[cfg(target_family = "wasm")]
mod abi {
    use std::alloc::Layout;
    use std::cell::RefCell;

    use gen3_cwlogs::Decoder;

    struct State {
        decoder: Decoder,
        output: String,
    }

    thread_local! {
        // One instance per filter, reused for every record: the decoder's
        // buffers and the output buffer are kept between calls.
        static STATE: RefCell<State> = RefCell::new(State {
            decoder: Decoder::new(super::options()).unwrap_or_default(),
            output: String::new(),
        });
    }

    /// The filter function named by `Function_Name gen3_cwlogs_filter`.
    ///
    /// Returns a pointer to a NUL-terminated JSON object in the module's
    /// output buffer, valid until the next call.
    ///
    /// # Safety
    /// `record_ptr` must be null or point to `record_len` readable bytes, as
    /// Fluent Bit guarantees; the tag is not read.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn gen3_cwlogs_filter(
        _tag_ptr: *const u8,
        _tag_len: u32,
        _time_sec: u32,
        _time_nsec: u32,
        record_ptr: *const u8,
        record_len: u32,
    ) -> *const u8 {
        // SAFETY: the host wrote `record_len` bytes at `record_ptr`.
        let record = (!record_ptr.is_null()).then(|| unsafe { std::slice::from_raw_parts(record_ptr, record_len as usize) });
        STATE.with_borrow_mut(|State { decoder, output }| {
            super::filter_record(record, output, decoder);
            output.as_ptr()
        })
    }

    /// Every block starts with its size, so `free` needs no size argument.
    const HEADER: usize = 8;

    /// The allocator Fluent Bit (WAMR) uses to copy records in. Without it
    /// WAMR falls back to a ~63 KiB internal heap and larger records never
    /// arrive.
    ///
    /// # Safety
    /// Returns null when `size` cannot be allocated.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn malloc(size: usize) -> *mut u8 {
        let Some(layout) = size.checked_add(HEADER).and_then(|total| Layout::from_size_align(total, HEADER).ok()) else {
            return std::ptr::null_mut();
        };
        // SAFETY: the layout has a non-zero size.
        let block = unsafe { std::alloc::alloc(layout) };
        if block.is_null() {
            return block;
        }
        // SAFETY: the block holds at least HEADER bytes, aligned for a usize.
        unsafe {
            block.cast::<usize>().write(layout.size());
            block.add(HEADER)
        }
    }

    /// Frees a block from [`malloc`].
    ///
    /// # Safety
    /// `ptr` must be null or a pointer returned by [`malloc`] not yet freed.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn free(ptr: *mut u8) {
        if ptr.is_null() {
            return;
        }
        // SAFETY: malloc put the block's total size HEADER bytes before `ptr`.
        unsafe {
            let block = ptr.sub(HEADER);
            let total = block.cast::<usize>().read();
            std::alloc::dealloc(block, Layout::from_size_align_unchecked(total, HEADER));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(record: Option<&[u8]>) -> serde_json::Value {
        let mut output = String::new();
        filter_record(record, &mut output, &mut Decoder::new(options()).unwrap());
        let text = output.strip_suffix('\0').expect("NUL-terminated");
        serde_json::from_str(text).expect("one JSON object")
    }

    fn record(entry: &serde_json::Value) -> serde_json::Value {
        serde_json::from_str(entry["json"].as_str().expect("the record as JSON text")).expect("valid JSON")
    }

    #[test]
    fn refused_options_in_a_record_are_an_error_entry() {
        let refused = result(Some(br#"{"records":[],"gen3_cwlogs_max_json_depth":"64"}"#));
        assert_eq!(refused["_cwlogs_kind"], "result");
        assert_eq!(refused["records"][0]["kind"], "error");
        let error = record(&refused["records"][0]);
        assert_eq!(error["_cwlogs_kind"], "error");
        assert_eq!(error["error"]["kind"], "invalid-options");
        let lowered = result(Some(br#"{"records":[],"gen3_cwlogs_max_json_depth":"10"}"#));
        assert_eq!(lowered["records"], serde_json::json!([]));
        let missing = result(None);
        assert_eq!(record(&missing["records"][0])["commons"], serde_json::Value::Null);
        assert_eq!(missing["counters"]["records_failed"], 1);
    }

    #[test]
    fn only_records_that_are_no_documents_are_marked() {
        let mut scratch = String::new();
        marked(&mut scratch, "error", r#"{"a":1}"#);
        assert_eq!(scratch, r#"{"_cwlogs_kind":"error","a":1}"#);
        marked(&mut scratch, "error", "{}");
        assert_eq!(scratch, r#"{"_cwlogs_kind":"error"}"#);
        marked(&mut scratch, "error", "{ }");
        assert_eq!(scratch, r#"{"_cwlogs_kind":"error" }"#);
    }
}
