// Builds the Fluent Bit module (nested cargo, wasm32-unknown-unknown) for
// the filter_wasm host imitation. The component comes from
// gen3-cwlogs-wasmtime's own build script.
fn main() {
    let module = gen3_cwlogs_wasm_build::build_wasm("gen3-cwlogs-fluent-bit", "wasm32-unknown-unknown");
    let out_dir = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    gen3_cwlogs_wasm_build::copy_artifact(&module, &out_dir.join("gen3_cwlogs_fluent_bit.wasm"));
}
