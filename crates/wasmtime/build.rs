// Builds the component (nested cargo, wasm32-unknown-unknown, wrapped by
// wit-component) and leaves it in OUT_DIR for `include_bytes!`.
fn main() {
    let module = gen3_cwlogs_wasm_build::build_wasm("gen3-cwlogs-component", "wasm32-unknown-unknown");
    let out_dir = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    gen3_cwlogs_wasm_build::componentize(&module, &out_dir.join("gen3_cwlogs.component.wasm"));
}
