//! An imitation of Redpanda Connect's `wasm` processor in wasmtime: the same
//! calls in the same order, the host module `benthos_wasm` with the same
//! semantics and memory handling, as read in redpanda-data/connect v4.106.0
//! (commit 48a4b646e47c97e2760a8826e858803d031476b2):
//! `internal/impl/wasm/processor_wazero.go` and `functions.go`.
//!
//! - `newModule`: a wazero runtime with default features (WebAssembly 2.0,
//!   `api.CoreFeaturesV2`, which the engine here is limited to), the host
//!   module `benthos_wasm`, WASI (not linked here: the module must import
//!   none, which the tests check), then the module, whose `_start` wazero
//!   calls when it exists; the exports `process` (the `function` field),
//!   `malloc`, `free`, `allocate` and `deallocate` are looked up, each
//!   optional but `process`.
//! - `Run`, per message of a batch: the message becomes the target, the
//!   function is called with no arguments, then every in-bound copy is freed
//!   with `free` (in the order made). A trap fails the whole batch: the
//!   processor layer (benthos `auto_observed.go`) flags every message of it
//!   with the error and passes them on as they are (`SetBytes` mutates the
//!   batch's messages in place). Otherwise a message on which a host function
//!   failed is passed on flagged with that function's error.
//! - `allocateBytesInbound`: `malloc(len)` (then `allocate(len)` too when
//!   exported), a free scheduled for after the call, the bytes written at
//!   the returned address without checking it (a write outside memory is an
//!   error); the result is `ptr << 32 | len`, 0 on any failure.
//! - `readBytesOutbound`: the bytes copied out (out of range: an error),
//!   then `deallocate(ptr, len)` when exported; `free` is never called on
//!   them.
//!
//! The processor keeps its module runners in a pool and returns one to it
//! even after a trap; [`WasmProcessor`] is one runner, kept for every call.

use std::collections::BTreeMap;

use wasmtime::{Caller, Config, Engine, Linker, Memory, Module, Store, StoreLimits, StoreLimitsBuilder, TypedFunc, WasmFeatures};

pub const REDPANDA_CONNECT_WASM: &[u8] = gen3_cwlogs_artifacts::REDPANDA_CONNECT;

/// The host module's name and functions.
pub const HOST_MODULE: &str = "benthos_wasm";
pub const HOST_FUNCTIONS: [&str; 4] = ["v0_msg_as_bytes", "v0_msg_set_bytes", "v0_msg_get_meta", "v0_msg_set_meta"];
/// The processor's `function` default.
pub const FUNCTION: &str = "process";

/// A message as the processor sees it: bytes, metadata (Go strings: any
/// bytes) and the error flag.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    pub bytes: Vec<u8>,
    pub meta: BTreeMap<Vec<u8>, Vec<u8>>,
    pub error: Option<String>,
}

impl Message {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Message { bytes: bytes.into(), ..Message::default() }
    }

    pub fn with_meta(mut self, key: &str, value: impl Into<Vec<u8>>) -> Self {
        self.meta.insert(key.as_bytes().to_vec(), value.into());
        self
    }

    pub fn meta_str(&self, key: &str) -> Option<&str> {
        self.meta.get(key.as_bytes()).map(|value| std::str::from_utf8(value).expect("UTF-8 metadata"))
    }
}

/// The `moduleRunner`'s state during a call.
struct Runner {
    memory: Option<Memory>,
    malloc: Option<TypedFunc<u32, u32>>,
    free: Option<TypedFunc<u32, ()>>,
    allocate: Option<TypedFunc<u32, u32>>,
    deallocate: Option<TypedFunc<(u32, u32), ()>>,
    target: Option<Message>,
    after_processing: Vec<u32>,
    proc_err: Option<String>,
    /// What the processor logged (`funcErr` logs every error it records).
    log: Vec<String>,
    limits: StoreLimits,
    /// Host calls made, in order (`name` or `name:key`), for the tests.
    calls: Vec<String>,
}

fn func_err(caller: &mut Caller<'_, Runner>, error: String) {
    caller.data_mut().log.push(error.clone());
    caller.data_mut().proc_err = Some(error);
}

fn memory(caller: &Caller<'_, Runner>) -> Memory {
    caller.data().memory.expect("the module's memory")
}

/// `allocateBytesInbound`. The outer error is a trap of the host function
/// (Go would panic indexing the results of a module with no allocator).
fn allocate_bytes_inbound(caller: &mut Caller<'_, Runner>, data: &[u8]) -> wasmtime::Result<Result<u64, String>> {
    let mut result = None;
    if let Some(malloc) = caller.data().malloc.clone() {
        result = Some(malloc.call(&mut *caller, data.len() as u32));
    }
    if let Some(allocate) = caller.data().allocate.clone() {
        result = Some(allocate.call(&mut *caller, data.len() as u32));
    }
    let ptr = match result {
        Some(Ok(ptr)) => ptr,
        Some(Err(error)) => return Ok(Err(format!("{error:#}"))),
        None => return Err(wasmtime::Error::msg("the module exports neither malloc nor allocate: index out of range")),
    };
    caller.data_mut().after_processing.push(ptr);
    if memory(caller).write(&mut *caller, ptr as usize, data).is_err() {
        return Ok(Err("writing in-bound memory".to_owned()));
    }
    Ok(Ok((u64::from(ptr) << 32) | data.len() as u64))
}

/// `readBytesOutbound`.
fn read_bytes_outbound(caller: &mut Caller<'_, Runner>, ptr: u32, size: u32) -> Result<Vec<u8>, String> {
    let (start, end) = (ptr as usize, ptr as usize + size as usize);
    let bytes = memory(caller).data(&*caller).get(start..end).ok_or("prevented read")?.to_vec();
    if let Some(deallocate) = caller.data().deallocate.clone() {
        let _ = deallocate.call(&mut *caller, (ptr, size));
    }
    Ok(bytes)
}

fn link(linker: &mut Linker<Runner>) -> wasmtime::Result<()> {
    linker.func_wrap(HOST_MODULE, "v0_msg_set_bytes", |mut caller: Caller<'_, Runner>, ptr: u32, size: u32| {
        caller.data_mut().calls.push("v0_msg_set_bytes".to_owned());
        if caller.data().target.is_none() {
            return func_err(&mut caller, "attempted to set bytes of deleted message".to_owned());
        }
        match read_bytes_outbound(&mut caller, ptr, size) {
            Ok(bytes) => caller.data_mut().target.as_mut().expect("checked").bytes = bytes,
            Err(error) => func_err(&mut caller, format!("reading out-bound memory: {error}")),
        }
    })?;
    linker.func_wrap(HOST_MODULE, "v0_msg_as_bytes", |mut caller: Caller<'_, Runner>| -> wasmtime::Result<u64> {
        caller.data_mut().calls.push("v0_msg_as_bytes".to_owned());
        let Some(bytes) = caller.data().target.as_ref().map(|message| message.bytes.clone()) else {
            func_err(&mut caller, "attempted to read bytes of deleted message".to_owned());
            return Ok(0);
        };
        match allocate_bytes_inbound(&mut caller, &bytes)? {
            Ok(ptr_len) => Ok(ptr_len),
            Err(error) => {
                func_err(&mut caller, format!("allocating in-bound memory: {error}"));
                Ok(0)
            }
        }
    })?;
    linker.func_wrap(
        HOST_MODULE,
        "v0_msg_set_meta",
        |mut caller: Caller<'_, Runner>, key_ptr: u32, key_size: u32, ptr: u32, size: u32| {
            caller.data_mut().calls.push("v0_msg_set_meta".to_owned());
            if caller.data().target.is_none() {
                return func_err(&mut caller, "attempted to set metadata of deleted message".to_owned());
            }
            let key = match read_bytes_outbound(&mut caller, key_ptr, key_size) {
                Ok(key) => key,
                Err(error) => return func_err(&mut caller, format!("reading out-bound meta key memory: {error}")),
            };
            match read_bytes_outbound(&mut caller, ptr, size) {
                Ok(value) => _ = caller.data_mut().target.as_mut().expect("checked").meta.insert(key, value),
                Err(error) => func_err(&mut caller, format!("reading out-bound meta value memory: {error}")),
            }
        },
    )?;
    linker.func_wrap(
        HOST_MODULE,
        "v0_msg_get_meta",
        |mut caller: Caller<'_, Runner>, key_ptr: u32, key_size: u32| -> wasmtime::Result<u64> {
            if caller.data().target.is_none() {
                func_err(&mut caller, "attempted to read meta of deleted message".to_owned());
                return Ok(0);
            }
            let key = match read_bytes_outbound(&mut caller, key_ptr, key_size) {
                Ok(key) => key,
                Err(error) => {
                    func_err(&mut caller, format!("reading out-bound meta key memory: {error}"));
                    return Ok(0);
                }
            };
            caller.data_mut().calls.push(format!("v0_msg_get_meta:{}", String::from_utf8_lossy(&key)));
            // An absent key reads as "".
            let value = caller.data().target.as_ref().expect("checked").meta.get(&key).cloned().unwrap_or_default();
            match allocate_bytes_inbound(&mut caller, &value)? {
                Ok(ptr_len) => Ok(ptr_len),
                Err(error) => {
                    func_err(&mut caller, format!("allocating in-bound memory: {error}"));
                    Ok(0)
                }
            }
        },
    )?;
    Ok(())
}

/// One module runner of the processor, kept for every batch.
pub struct WasmProcessor {
    store: Store<Runner>,
    process: TypedFunc<(), ()>,
    /// The error of the last batch that trapped.
    pub last_trap: Option<String>,
}

impl WasmProcessor {
    /// `newModule`; `memory_limit` caps linear memory (wazero's default cap
    /// is 4 GiB, all a 32-bit memory can have).
    pub fn new(engine: &Engine, module: &Module, memory_limit: Option<usize>) -> wasmtime::Result<Self> {
        let limits = StoreLimitsBuilder::new().memory_size(memory_limit.unwrap_or(usize::MAX)).build();
        let runner = Runner {
            memory: None,
            malloc: None,
            free: None,
            allocate: None,
            deallocate: None,
            target: None,
            after_processing: Vec::new(),
            proc_err: None,
            log: Vec::new(),
            limits,
            calls: Vec::new(),
        };
        let mut store = Store::new(engine, runner);
        store.limiter(|runner| &mut runner.limits);
        let mut linker = Linker::new(engine);
        link(&mut linker)?;
        let instance = linker.instantiate(&mut store, module)?;
        if let Ok(start) = instance.get_typed_func::<(), ()>(&mut store, "_start") {
            start.call(&mut store, ())?;
        }
        let process = instance.get_typed_func(&mut store, FUNCTION)?;
        store.data_mut().memory = instance.get_memory(&mut store, "memory");
        store.data_mut().malloc = instance.get_typed_func(&mut store, "malloc").ok();
        store.data_mut().free = instance.get_typed_func(&mut store, "free").ok();
        store.data_mut().allocate = instance.get_typed_func(&mut store, "allocate").ok();
        store.data_mut().deallocate = instance.get_typed_func(&mut store, "deallocate").ok();
        Ok(WasmProcessor { store, process, last_trap: None })
    }

    /// `ProcessBatch`, with the processor layer's handling of its error.
    pub fn process_batch(&mut self, mut batch: Vec<Message>) -> Vec<Message> {
        let mut out = Vec::with_capacity(batch.len());
        for index in 0..batch.len() {
            let runner = self.store.data_mut();
            (runner.proc_err, runner.after_processing) = (None, Vec::new());
            runner.target = Some(std::mem::take(&mut batch[index]));
            let result = self.process.call(&mut self.store, ());
            for ptr in std::mem::take(&mut self.store.data_mut().after_processing) {
                if let Some(free) = self.store.data().free.clone()
                    && let Err(error) = free.call(&mut self.store, ptr)
                {
                    let runner = self.store.data_mut();
                    runner.log.push(format!("freeing in-bound memory: {error:#}"));
                    runner.proc_err = Some(format!("freeing in-bound memory: {error:#}"));
                }
            }
            let runner = self.store.data_mut();
            batch[index] = runner.target.take().expect("the target");
            if let Err(error) = result {
                let error = format!("{error:#}");
                for message in &mut batch {
                    message.error = Some(error.clone());
                }
                self.last_trap = Some(error);
                return batch;
            }
            let mut message = batch[index].clone();
            if let Some(error) = runner.proc_err.take() {
                message.error = Some(error);
            }
            out.push(message);
        }
        out
    }

    /// One message in its own batch, as the `aws_kinesis` input sends them
    /// when no batching is configured.
    pub fn process(&mut self, message: Message) -> Message {
        let mut out = self.process_batch(vec![message]);
        assert_eq!(out.len(), 1, "one message in, one out");
        out.remove(0)
    }

    /// What the processor logged, and the host calls made, since the last call.
    pub fn take_log(&mut self) -> (Vec<String>, Vec<String>) {
        let runner = self.store.data_mut();
        (std::mem::take(&mut runner.log), std::mem::take(&mut runner.calls))
    }

    /// Size of the module's linear memory now.
    pub fn memory_bytes(&self) -> usize {
        self.store.data().memory.expect("memory").data_size(&self.store)
    }
}

/// An engine accepting exactly what wazero's default runtime accepts:
/// WebAssembly 2.0 (`api.CoreFeaturesV2`), no later proposal.
pub fn engine() -> Engine {
    let mut config = Config::new();
    config.wasm_features(WasmFeatures::all().difference(WasmFeatures::WASM2), false);
    Engine::new(&config).expect("a WebAssembly 2.0 engine")
}

/// The module compiled once per test binary.
pub fn compiled_module() -> &'static (Engine, Module) {
    static COMPILED: std::sync::OnceLock<(Engine, Module)> = std::sync::OnceLock::new();
    COMPILED.get_or_init(|| {
        let engine = engine();
        let module = Module::new(&engine, REDPANDA_CONNECT_WASM).expect("the module compiles as WebAssembly 2.0");
        (engine, module)
    })
}

/// A runner with wazero's default limits.
pub fn processor() -> WasmProcessor {
    let (engine, module) = compiled_module();
    WasmProcessor::new(engine, module, None).expect("the module instantiates with benthos_wasm only")
}
