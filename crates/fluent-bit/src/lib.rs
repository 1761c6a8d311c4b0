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
//! the core's entries in input order:
//!
//! ```json
//! {"records": [{"kind": "document", "route": "devplanetv1", "time_ms": 1521826474000, "record": {...}},
//!              {"kind": "alert", "route": "...", "time_ms": ..., "record": {"slack_payload": "<JSON text>", "slack_headers": {...}, ...}},
//!              {"kind": "error", "route": "...", "time_ms": ..., "record": {...}}],
//!  "counters": {...}}
//! ```
//!
//! and the shipped Lua filter (`pipeline-configs/fluent-bit/cwlogs.lua`)
//! splits it into one record per entry. Per-commons options come from the
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
    entries: usize,
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
        out.push_str("\",\"route\":");
        write_str(out, entry.commons.unwrap_or("unknown"));
        if let Some(millis) = entry.time_ms {
            // Integer milliseconds: exact in Lua's doubles.
            let _ = write!(out, ",\"time_ms\":{millis}");
        }
        out.push_str(",\"record\":");
        match (entry.kind, entry.alert) {
            // Shaped for Fluent Bit's http output with `body_key
            // $slack_payload` and `headers_key $slack_headers`: one POST per
            // alert, the payload sent verbatim.
            (EntryKind::Alert, Some(alert)) => {
                out.push_str("{\"slack_payload\":");
                write_str(out, alert.slack_payload);
                out.push_str(",\"slack_headers\":{\"Content-Type\":\"application/json\"},\"commons\":");
                write_str(out, entry.commons.unwrap_or("unknown"));
                out.push_str(",\"document_id\":");
                write_str(out, entry.id);
                out.push_str(",\"seconds\":");
                write_str(out, alert.seconds);
                out.push('}');
            }
            _ => out.push_str(entry.json),
        }
        out.push('}');
    }
}

/// Decodes one record body into the NUL-terminated result (without calling
/// into the host); the testable part of [`gen3_cwlogs_filter`]. `None`: the
/// host could not copy the record in.
pub fn filter_record(record: Option<&[u8]>, output: &mut String, decoder: &mut Decoder) {
    output.clear();
    output.push_str("{\"records\":[");
    let mut writer = EntryWriter { out: output, entries: 0 };
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

    #[test]
    fn refused_options_in_a_record_are_an_error_entry() {
        let refused = result(Some(br#"{"records":[],"gen3_cwlogs_max_json_depth":"64"}"#));
        assert_eq!(refused["records"][0]["record"]["error"]["kind"], "invalid-options");
        let lowered = result(Some(br#"{"records":[],"gen3_cwlogs_max_json_depth":"10"}"#));
        assert_eq!(lowered["records"], serde_json::json!([]));
        let missing = result(None);
        assert_eq!(missing["records"][0]["route"], "unknown");
        assert_eq!(missing["counters"]["records_failed"], 1);
    }
}
