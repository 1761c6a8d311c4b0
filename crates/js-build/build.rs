// Builds the JS adapter for wasm32-unknown-unknown (nested cargo, as the
// harness does for the other artifacts); the binary embeds it.
fn main() {
    // Only debug info is stripped: wasm-bindgen reads the module's
    // `target_features` section (it strips the rest itself).
    let module = gen3_cwlogs_wasm_build::build_wasm_with_env(
        "gen3-cwlogs-js",
        "wasm32-unknown-unknown",
        &[("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")],
    );
    let out_dir = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    gen3_cwlogs_wasm_build::copy_artifact(&module, &out_dir.join("gen3_cwlogs_js.wasm"));
}
