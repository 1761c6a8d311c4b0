//! The decoder as a module for Redpanda Connect's `wasm` processor; its ABI,
//! as read in redpanda-data/connect v4.106.0, is described in
//! `pipeline-configs/redpanda-connect/README.md`.
//!
//! Per message the processor calls `process()`; the module reads its options
//! (`v0_msg_get_meta`) and the message (`v0_msg_as_bytes`), copied in with
//! the exported `malloc` and freed with `free` after the call, and answers
//! (`v0_msg_set_bytes`) from one buffer it reuses: ONE JSON array of the
//! core's entries in input order, `{"kind","id","commons","time_ms",
//! "record_index","error","record"}` with `record` the entry's line as the
//! core wrote it, for `unarchive: {format: json_array}`; `[]` when nothing is
//! left (a CONTROL_MESSAGE).
//!
//! Options come from metadata `gen3_cwlogs_<option>` (the core's names and
//! text forms; empty or absent: the default): the processor passes the
//! module no configuration. A value the core refuses leaves the message as
//! it was, with metadata `gen3_cwlogs_error` saying why, so the pipeline
//! dead-letters the raw record; so does a host function that fails (it
//! returns 0 and flags the message itself).

use std::fmt::Write as _;

use gen3_cwlogs::write::write_str;
use gen3_cwlogs::{Decoder, Entry, OptionError, Options, Sink};

/// Metadata keys holding options: this prefix, then the option's name.
pub const OPTION_KEY_PREFIX: &str = "gen3_cwlogs_";
/// Metadata key the module sets when it refuses the message's options.
pub const ERROR_KEY: &str = "gen3_cwlogs_error";

/// What the module does with one message.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    /// Set the message to the output buffer: the JSON array of entries.
    Entries,
    /// Leave the message as it was; set metadata [`ERROR_KEY`] to this.
    Refused(String),
}

/// Options from metadata values by option name, over the core's defaults.
///
/// # Errors
/// The first value the core refuses, or that is not UTF-8.
pub fn options_from<'v>(values: impl IntoIterator<Item = (&'static str, &'v [u8])>) -> Result<Options, OptionError> {
    let mut options = Options::default();
    for (name, value) in values.into_iter().filter(|(_, value)| !value.is_empty()) {
        let text = std::str::from_utf8(value).map_err(|_| OptionError { option: name.to_owned(), reason: "not UTF-8".to_owned() })?;
        options.set(name, text)?;
    }
    Ok(options)
}

/// Decodes `payload` with `options` into `out` (the JSON array), or says
/// why not; the testable part of `process`.
pub fn reply(payload: &[u8], options: Result<Options, OptionError>, decoder: &mut Decoder, out: &mut String) -> Reply {
    let applied = options.and_then(|options| if *decoder.options() == options { Ok(()) } else { decoder.set_options(options) });
    if let Err(error) = applied {
        // The module's one error mapping: the core's refusal, by metadata key.
        return Reply::Refused(format!("metadata {OPTION_KEY_PREFIX}{error}"));
    }
    out.clear();
    out.push('[');
    decoder.decode(payload, &mut EntryWriter(out));
    out.push(']');
    Reply::Entries
}

/// Writes the entries straight into the reused output buffer, after its `[`.
struct EntryWriter<'o>(&'o mut String);

impl Sink for EntryWriter<'_> {
    fn entry(&mut self, entry: &Entry<'_>) {
        let out = &mut *self.0;
        let separator = if out.len() > 1 { "," } else { "" };
        let _ = write!(out, "{separator}{{\"kind\":\"{}\",\"id\":", entry.kind.name());
        write_str(out, entry.id);
        out.push_str(",\"commons\":");
        match entry.commons {
            Some(commons) => write_str(out, commons),
            None => out.push_str("null"),
        }
        match entry.time_ms {
            Some(millis) => _ = write!(out, ",\"time_ms\":{millis}"),
            None => out.push_str(",\"time_ms\":null"),
        }
        let _ = write!(out, ",\"record_index\":{},\"error\":", entry.record_index);
        if let Some((kind, reason)) = entry.error {
            let _ = write!(out, "{{\"kind\":\"{}\",\"reason\":", kind.name());
            write_str(out, reason);
            out.push_str("},\"record\":");
        } else {
            out.push_str("null,\"record\":");
        }
        out.push_str(entry.json);
        out.push('}');
    }
}

#[cfg(target_arch = "wasm32")]
mod abi {
    use std::cell::Cell;

    use gen3_cwlogs::{Decoder, OPTIONS};

    use super::{ERROR_KEY, OPTION_KEY_PREFIX, Reply};

    #[link(wasm_import_module = "benthos_wasm")]
    unsafe extern "C" {
        fn v0_msg_get_meta(key_ptr: *const u8, key_len: u32) -> u64;
        fn v0_msg_as_bytes() -> u64;
        fn v0_msg_set_bytes(ptr: *const u8, len: u32);
        fn v0_msg_set_meta(key_ptr: *const u8, key_len: u32, value_ptr: *const u8, value_len: u32);
    }

    #[derive(Default)]
    struct State {
        decoder: Decoder,
        output: String,
        key: String,
    }

    thread_local! {
        // Taken for each call, never borrowed: after a trap (only a failed allocation
        // traps) the processor reuses the instance, and the next call starts afresh.
        static STATE: Cell<Option<Box<State>>> = const { Cell::new(None) };
    }

    /// The bytes of a host result `ptr << 32 | len`, valid until `process` returns; `None`: the host failed (0; `malloc` never gives 0).
    unsafe fn host_bytes<'a>(ptr_len: u64) -> Option<&'a [u8]> {
        // SAFETY: the host wrote `len` bytes at `ptr`, allocated with `malloc`.
        (ptr_len != 0).then(|| unsafe { std::slice::from_raw_parts((ptr_len >> 32) as usize as *const u8, ptr_len as u32 as usize) })
    }

    /// The processor's `function` (its default name): once per message.
    #[unsafe(no_mangle)]
    pub extern "C" fn process() {
        let mut state = STATE.take().unwrap_or_default();
        let _ = process_message(&mut state);
        STATE.set(Some(state));
    }

    /// `None`: a host function failed, and the host flagged the message.
    fn process_message(State { decoder, output, key }: &mut State) -> Option<()> {
        let mut values = Vec::with_capacity(OPTIONS.len());
        for spec in &OPTIONS {
            key.clear();
            key.push_str(OPTION_KEY_PREFIX);
            key.push_str(spec.name);
            // SAFETY: the host copies the key out during the call.
            values.push((spec.name, unsafe { host_bytes(v0_msg_get_meta(key.as_ptr(), key.len() as u32)) }?));
        }
        let options = super::options_from(values);
        // SAFETY: the copy stays until `process` returns. Refused options
        // need no copy of the message.
        let payload = if options.is_ok() { unsafe { host_bytes(v0_msg_as_bytes()) }? } else { &[] };
        // SAFETY: the host copies each buffer out during the call.
        match super::reply(payload, options, decoder, output) {
            Reply::Entries => unsafe { v0_msg_set_bytes(output.as_ptr(), output.len() as u32) },
            Reply::Refused(why) => unsafe { v0_msg_set_meta(ERROR_KEY.as_ptr(), ERROR_KEY.len() as u32, why.as_ptr(), why.len() as u32) },
        }
        Some(())
    }

    /// The allocator the host copies values in with. Traps rather than
    /// return 0: the host writes at the address without checking it.
    #[unsafe(no_mangle)]
    pub extern "C" fn malloc(size: usize) -> *mut u8 {
        let block = gen3_cwlogs_guest_alloc::alloc_block(size);
        if block.is_null() {
            std::process::abort()
        }
        block
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
