//! Builds every wasm artifact with a nested cargo, the way wasmtime's
//! `crates/test-programs/artifacts/build.rs` does, into this crate's
//! OUT_DIR, and writes `artifacts.rs`, the path constants `src/lib.rs`
//! includes:
//!
//! - the component: `crates/component` for `wasm32-unknown-unknown` with wasm
//!   SIMD (WebAssembly 2.0, on in wasmtime by default; about 10% of its
//!   time), wrapped by `wit-component` so it imports nothing;
//! - the Fluent Bit module (`crates/fluent-bit`), the Redpanda Connect module
//!   (`crates/redpanda-connect`) and the wasm-bindgen module (`crates/js`),
//!   without SIMD (WAMR's interpreter and older browsers), in
//!   one build whose debug info is stripped but not its other custom
//!   sections: wasm-bindgen reads them.
//!
//! Each nested build has its own target directory under OUT_DIR, so it
//! never waits on the outer build's lock; its dep-info becomes
//! `rerun-if-changed` lines, so an edit to the core rebuilds the artifacts.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-unknown-unknown";

fn main() {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("run by cargo"));
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    println!("cargo:rerun-if-changed={}", workspace.join("wit").display());

    let component_dir = cargo_build(&workspace, &out_dir.join("simd"), &["gen3-cwlogs-component"], "-Ctarget-feature=+simd128", &[]);
    let component = out_dir.join("gen3_cwlogs.component.wasm");
    componentize(&component_dir.join("gen3_cwlogs_component.wasm"), &component);

    let modules_dir = cargo_build(
        &workspace,
        &out_dir.join("modules"),
        &["gen3-cwlogs-fluent-bit", "gen3-cwlogs-redpanda-connect", "gen3-cwlogs-js"],
        "",
        &[("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")],
    );
    let fluent_bit = modules_dir.join("gen3_cwlogs_fluent_bit.wasm");
    let redpanda_connect = modules_dir.join("gen3_cwlogs_redpanda_connect.wasm");
    let js = modules_dir.join("gen3_cwlogs_js.wasm");

    let constants =
        [("COMPONENT_PATH", &component), ("FLUENT_BIT_PATH", &fluent_bit), ("REDPANDA_CONNECT_PATH", &redpanda_connect), ("JS_PATH", &js)]
            .iter()
            .map(|(name, path)| format!("/// Built by build.rs.\npub const {name}: &str = {:?};\n", path.display().to_string()))
            .collect::<String>();
    write_if_changed(&out_dir.join("artifacts.rs"), constants.as_bytes());
}

/// Builds `packages` in release mode for the wasm target into `target_dir`
/// with `rustflags` only; returns the directory holding the `.wasm` files.
fn cargo_build(workspace: &Path, target_dir: &Path, packages: &[&str], rustflags: &str, env: &[(&str, &str)]) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(workspace).args(["build", "--release", "--locked", "--target", TARGET]).arg("--target-dir").arg(target_dir);
    for package in packages {
        command.args(["-p", package]);
    }
    let status = command
        // Flags meant for the host build must not leak into the wasm one.
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_MAKEFLAGS")
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags)
        .envs(env.iter().copied())
        .status()
        .expect("run cargo for the wasm artifacts");
    assert!(status.success(), "building {packages:?} for {TARGET} failed (is the target installed? `rustup target add {TARGET}`)");
    let artifact_dir = target_dir.join(TARGET).join("release");
    for package in packages {
        track_dep_info(&artifact_dir.join(format!("{}.d", package.replace('-', "_"))));
    }
    artifact_dir
}

/// Wraps a core module built with wit-bindgen into a component at `out`.
fn componentize(module_path: &Path, out: &Path) {
    let module = std::fs::read(module_path).expect("read the core module");
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .expect("the module carries its WIT metadata")
        .validate(true)
        .encode()
        .expect("encode the component");
    write_if_changed(out, &component);
}

fn write_if_changed(path: &Path, bytes: &[u8]) {
    if std::fs::read(path).ok().as_deref() != Some(bytes) {
        std::fs::write(path, bytes).expect("write an artifact");
    }
}

/// Turns a Makefile-style dep-info file into `rerun-if-changed` lines.
fn track_dep_info(dep_info: &Path) {
    let Ok(text) = std::fs::read_to_string(dep_info) else { return };
    let Some((_, deps)) = text.lines().next().and_then(|line| line.split_once(": ")) else { return };
    let mut path = String::new();
    let mut chars = deps.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&' ') => {
                path.push(' ');
                chars.next();
            }
            ' ' => {
                if !path.is_empty() {
                    println!("cargo:rerun-if-changed={path}");
                    path.clear();
                }
            }
            _ => path.push(c),
        }
    }
    if !path.is_empty() {
        println!("cargo:rerun-if-changed={path}");
    }
}
