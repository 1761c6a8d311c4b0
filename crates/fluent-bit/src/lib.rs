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
//! it into one record per entry at its own time, and Fluent Bit's `parser`
//! filter turns each text into the record: documents never become Lua
//! tables (the largest cost of the pipeline after the outputs) and keep the
//! core's key order and numbers. Only records that are no documents carry
//! `_cwlogs_kind`, which routes them. Per-commons options come from the
//! record itself (`gen3_cwlogs_<option>` keys set by the pipeline's
//! `modify` filter), because filter_wasm passes none.
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

    /// The allocator Fluent Bit (WAMR) copies records in with. Without it
    /// WAMR falls back to a ~63 KiB internal heap and larger records never
    /// arrive. Null on failure: WAMR checks it and passes the record as 0.
    #[unsafe(no_mangle)]
    pub extern "C" fn malloc(size: usize) -> *mut u8 {
        gen3_cwlogs_guest_alloc::alloc_block(size)
    }

    /// Frees a block from [`malloc`].
    ///
    /// # Safety
    /// `ptr` must be null or a pointer returned by [`malloc`] not yet freed.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn free(ptr: *mut u8) {
        // SAFETY: as the caller promises.
        unsafe { gen3_cwlogs_guest_alloc::free_block(ptr) }
    }
}
