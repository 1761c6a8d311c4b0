//! The compiled component, cached on disk so a run starts in milliseconds
//! instead of compiling it (0.3 s release, 1 s debug).
//!
//! The cache file is named after a digest of the component's bytes and
//! wasmtime's compatibility hash (its version and engine settings), so a
//! new build or a new wasmtime never loads a stale file. Its content starts
//! with the SHA-256 of the rest, checked before wasmtime loads it: loading
//! compiled code trusts its bytes, so a corrupt or truncated file is
//! recompiled and replaced, never loaded. Files are written to a temporary
//! name and renamed, so concurrent runs never see half a file.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// `$GEN3_CWLOGS_CACHE_DIR`, else `$XDG_CACHE_HOME/gen3-cwlogs`, else
/// `~/.cache/gen3-cwlogs`.
pub fn directory() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("GEN3_CWLOGS_CACHE_DIR") {
        return Some(dir.into());
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("gen3-cwlogs"))
}

/// The embedded component, from the cache when it holds a sound copy.
pub fn component(engine: &Engine, use_cache: bool) -> Result<Component, String> {
    let wasm = gen3_cwlogs_wasmtime::COMPONENT_WASM;
    let compile = || gen3_cwlogs_wasmtime::compile(engine, wasm).map_err(|error| format!("compiling the component: {error:?}"));
    let Some(dir) = directory().filter(|_| use_cache) else { return compile() };
    let mut key = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut key);
    let name = format!("component-{}-{:016x}.cwasm", hex(&Sha256::digest(wasm)[..12]), key.finish());
    let path = dir.join(name);
    if let Ok(bytes) = std::fs::read(&path)
        && bytes.len() > 32
        && Sha256::digest(&bytes[32..])[..] == bytes[..32]
    {
        // SAFETY: the bytes are what `precompile_component` wrote for
        // this component and this engine's settings (the file name),
        // unchanged since (the digest).
        if let Ok(component) = unsafe { Component::deserialize(engine, &bytes[32..]) } {
            return Ok(component);
        }
    }
    let compiled = engine.precompile_component(wasm).map_err(|error| format!("compiling the component: {error:?}"))?;
    // A cache that cannot be written only costs the next run a compile.
    let _ = write_atomically(&dir, &path, &[&Sha256::digest(&compiled)[..], &compiled].concat());
    // SAFETY: just compiled by this engine.
    unsafe { Component::deserialize(engine, &compiled) }.map_err(|error| format!("loading the component: {error:?}"))
}

fn write_atomically(dir: &std::path::Path, path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(".{}.{}", std::process::id(), path.file_name().and_then(|name| name.to_str()).unwrap_or("component")));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
