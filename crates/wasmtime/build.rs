// Builds the component (nested cargo, wasm32-unknown-unknown with SIMD,
// wrapped by wit-component) and leaves it in OUT_DIR for `include_bytes!`.
fn main() {
    // With wasm SIMD (part of WebAssembly 2.0, on in wasmtime by default):
    // memchr, zlib-rs's match copies and the compiler's vectorised loops use
    // it, about 10% of the component's time in the benchmark.
    let module = gen3_cwlogs_wasm_build::build_wasm_with_features("gen3-cwlogs-component", "wasm32-unknown-unknown", &["simd128"]);
    let out_dir = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    gen3_cwlogs_wasm_build::componentize(&module, &out_dir.join("gen3_cwlogs.component.wasm"));
}
