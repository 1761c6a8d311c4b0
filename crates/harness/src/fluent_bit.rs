//! An imitation of Fluent Bit's `filter_wasm` host (v4.1+, json format), in
//! wasmtime: the same calls in the same order, the same checks on the
//! result, one instance kept for every record.
//!
//! Per record Fluent Bit (src/wasm/flb_wasm.c) copies the tag and the record
//! body into the module with the module's `malloc` (NUL-terminated; the
//! length arguments exclude the NUL; a failed copy passes 0), calls the
//! filter, checks the returned address, copies the NUL-terminated string,
//! frees both copies with the module's `free`, and never frees the result.
//! filter_wasm then drops the record on NULL or "", and otherwise needs one
//! JSON object (anything else is logged and dropped).

use wasmtime::{Engine, Instance, Linker, Memory, Module, Store, TypedFunc};

pub const FLUENT_BIT_WASM: &[u8] = gen3_cwlogs_artifacts::FLUENT_BIT;

pub const FUNCTION_NAME: &str = "gen3_cwlogs_filter";

/// The options the module decodes with, before a record's own.
pub use gen3_cwlogs_fluent_bit::options as module_options;

#[derive(Debug, PartialEq)]
pub enum FilterOutcome {
    /// NULL or "": Fluent Bit drops the record.
    Dropped,
    /// The record body is replaced by this JSON object.
    Replaced(serde_json::Value),
}

/// An entry's record: its JSON text parsed, as the pipeline's parser filter
/// makes it.
pub fn record_of(entry: &serde_json::Value) -> serde_json::Value {
    serde_json::from_str(entry["json"].as_str().expect("the record as JSON text")).expect("the record text is JSON")
}

/// The record as stored: an entry that is no document carries the
/// `_cwlogs_kind` routing marker, which the pipeline removes.
pub fn stored(entry: &serde_json::Value) -> serde_json::Value {
    let mut record = record_of(entry);
    let marker = record.as_object_mut().expect("a record is an object").remove("_cwlogs_kind");
    match entry["kind"].as_str() {
        Some("document") => assert_eq!(marker, None, "documents carry no routing field"),
        kind => assert_eq!(marker.as_ref().and_then(serde_json::Value::as_str), kind, "a record that is no document is marked"),
    }
    record
}

pub struct FilterWasmHost {
    store: Store<()>,
    memory: Memory,
    malloc: TypedFunc<u32, u32>,
    free: TypedFunc<u32, ()>,
    filter: TypedFunc<(u32, u32, u32, u32, u32, u32), u32>,
    /// The last result, as the host copied it.
    pub last_result: String,
}

impl FilterWasmHost {
    pub fn new(engine: &Engine, module: &Module) -> wasmtime::Result<Self> {
        let mut store = Store::new(engine, ());
        // No imports: WAMR would need none either.
        let instance: Instance = Linker::new(engine).instantiate(&mut store, module)?;
        let memory = instance.get_memory(&mut store, "memory").expect("exported memory");
        Ok(FilterWasmHost {
            malloc: instance.get_typed_func(&mut store, "malloc")?,
            free: instance.get_typed_func(&mut store, "free")?,
            filter: instance.get_typed_func(&mut store, FUNCTION_NAME)?,
            memory,
            store,
            last_result: String::new(),
        })
    }

    /// `wasm_runtime_module_dup_data`: the module's malloc, then a copy.
    fn dup(&mut self, bytes: &[u8]) -> wasmtime::Result<u32> {
        let ptr = self.malloc.call(&mut self.store, bytes.len() as u32)?;
        if ptr != 0 {
            self.memory.write(&mut self.store, ptr as usize, bytes)?;
        }
        Ok(ptr)
    }

    /// Runs one record through the filter exactly as Fluent Bit does.
    pub fn call(&mut self, tag: &str, time: (u32, u32), record: &[u8]) -> wasmtime::Result<FilterOutcome> {
        let Some(text) = self.call_raw(tag, time, record)? else { return Ok(FilterOutcome::Dropped) };
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|error| wasmtime::Error::msg(format!("filter returned invalid JSON ({error}); Fluent Bit could abort")))?;
        if !value.is_object() {
            return Err(wasmtime::Error::msg("filter returned JSON that is not an object; Fluent Bit drops the record"));
        }
        self.last_result = text;
        Ok(FilterOutcome::Replaced(value))
    }

    /// The call and the copy of the result, without parsing it: None when
    /// Fluent Bit would drop the record (NULL or "").
    pub fn call_raw(&mut self, tag: &str, time: (u32, u32), record: &[u8]) -> wasmtime::Result<Option<String>> {
        let mut tag_copy = tag.as_bytes().to_vec();
        tag_copy.push(0);
        let mut record_copy = record.to_vec();
        record_copy.push(0);
        let tag_ptr = self.dup(&tag_copy)?;
        let record_ptr = self.dup(&record_copy)?;
        let result = self.filter.call(&mut self.store, (tag_ptr, tag.len() as u32, time.0, time.1, record_ptr, record.len() as u32));
        // Copy the result (strdup) before freeing the inputs, as the host does.
        let copied = result.and_then(|ptr| self.read_c_string(ptr));
        if tag_ptr != 0 {
            self.free.call(&mut self.store, tag_ptr)?;
        }
        if record_ptr != 0 {
            self.free.call(&mut self.store, record_ptr)?;
        }
        Ok(copied?.filter(|text| !text.is_empty()))
    }

    /// Calls the filter with a record pointer of 0, as Fluent Bit does when
    /// copying the record in failed.
    pub fn call_without_record(&mut self, tag: &str) -> wasmtime::Result<FilterOutcome> {
        let mut tag_copy = tag.as_bytes().to_vec();
        tag_copy.push(0);
        let tag_ptr = self.dup(&tag_copy)?;
        let ptr = self.filter.call(&mut self.store, (tag_ptr, tag.len() as u32, 0, 0, 0, 0))?;
        let text = self.read_c_string(ptr)?;
        self.free.call(&mut self.store, tag_ptr)?;
        match text {
            Some(text) if !text.is_empty() => Ok(FilterOutcome::Replaced(serde_json::from_str(&text)?)),
            _ => Ok(FilterOutcome::Dropped),
        }
    }

    /// `wasm_runtime_validate_app_str_addr` + copy: the string must end with
    /// a NUL inside linear memory.
    fn read_c_string(&mut self, ptr: u32) -> wasmtime::Result<Option<String>> {
        if ptr == 0 {
            return Ok(None);
        }
        let data = self.memory.data(&self.store);
        let start = ptr as usize;
        let tail = data.get(start..).ok_or_else(|| wasmtime::Error::msg("result pointer outside linear memory"))?;
        let len = tail.iter().position(|&b| b == 0).ok_or_else(|| wasmtime::Error::msg("result has no NUL"))?;
        let text = std::str::from_utf8(&tail[..len]).map_err(|_| wasmtime::Error::msg("result is not UTF-8"))?;
        Ok(Some(text.to_owned()))
    }

    /// Size of the module's linear memory now.
    pub fn memory_bytes(&self) -> usize {
        self.memory.data_size(&self.store)
    }
}

/// The module compiled once per test binary.
pub fn compiled_module() -> &'static (Engine, Module) {
    static COMPILED: std::sync::OnceLock<(Engine, Module)> = std::sync::OnceLock::new();
    COMPILED.get_or_init(|| {
        let engine = Engine::default();
        let module = Module::new(&engine, FLUENT_BIT_WASM).expect("the Fluent Bit module compiles");
        (engine, module)
    })
}

pub fn host() -> FilterWasmHost {
    let (engine, module) = compiled_module();
    FilterWasmHost::new(engine, module).expect("the module instantiates with no imports")
}
