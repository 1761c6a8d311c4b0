//! Build-script helper: builds a workspace crate for a wasm target with a
//! nested cargo (as wasmtime's test-programs do) and, for components, wraps
//! the core module with `wit-component` so the result imports nothing.
//!
//! The nested build uses its own target directory, so it never waits on the
//! outer build's lock, and its dep-info files become `rerun-if-changed`
//! lines, so an edit to the core rebuilds the artifacts.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root: the nearest ancestor of the calling crate whose
/// Cargo.toml declares `[workspace]`.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("run from a build script"));
    manifest_dir
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|manifest| manifest.contains("[workspace]"))
        })
        .expect("the crate lives in the workspace")
        .to_path_buf()
}

/// Builds `package` (a cdylib of this workspace) in release mode for
/// `target` and returns the path of its `.wasm` file.
///
/// # Panics
/// When cargo fails: a build script cannot go on without the artifact.
pub fn build_wasm(package: &str, target: &str) -> PathBuf {
    build_wasm_with_env(package, target, &[])
}

/// [`build_wasm`] with extra environment for the nested cargo, such as
/// `CARGO_PROFILE_RELEASE_*` overrides one artifact needs.
pub fn build_wasm_with_env(package: &str, target: &str, env: &[(&str, &str)]) -> PathBuf {
    build(package, target, env, &[])
}

/// [`build_wasm`] with wasm features beyond the target's defaults, such as
/// `simd128`. The build gets a target directory of its own, so artifacts
/// with and without the features never invalidate each other.
pub fn build_wasm_with_features(package: &str, target: &str, features: &[&str]) -> PathBuf {
    build(package, target, &[], features)
}

fn build(package: &str, target: &str, env: &[(&str, &str)], features: &[&str]) -> PathBuf {
    let root = workspace_root();
    let target_dir = root.join("target").join([&["wasm-artifacts"], features].concat().join("-"));
    let rustflags = if features.is_empty() {
        String::new()
    } else {
        format!("-Ctarget-feature=+{}", features.join(",+"))
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .args(["build", "--release", "--locked", "-p", package, "--target", target])
        .arg("--target-dir")
        .arg(&target_dir)
        // Flags meant for the host build must not leak into the wasm one.
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        // The only flags the wasm build gets (an empty value means none).
        .env("CARGO_ENCODED_RUSTFLAGS", &rustflags)
        .envs(env.iter().copied())
        .status()
        .expect("run cargo for the wasm artifact");
    assert!(status.success(), "building {package} for {target} failed (is the target installed? `rustup target add {target}`)");

    let artifact_dir = target_dir.join(target).join("release");
    let file_stem = package.replace('-', "_");
    track_dep_info(&artifact_dir.join(format!("{file_stem}.d")));
    println!("cargo:rerun-if-changed={}", root.join("wit").display());
    artifact_dir.join(format!("{file_stem}.wasm"))
}

/// Wraps a core module built with wit-bindgen into a component and writes
/// it to `out`.
///
/// # Panics
/// When the module cannot be made into a valid component.
pub fn componentize(module_path: &Path, out: &Path) {
    let module = std::fs::read(module_path).expect("read the core module");
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .expect("module carries its WIT metadata")
        .validate(true)
        .encode()
        .expect("encode the component");
    write_if_changed(out, &component);
}

/// Copies a built artifact where the caller wants it.
pub fn copy_artifact(from: &Path, out: &Path) {
    let bytes = std::fs::read(from).expect("read the artifact");
    write_if_changed(out, &bytes);
}

fn write_if_changed(path: &Path, bytes: &[u8]) {
    if std::fs::read(path).ok().as_deref() != Some(bytes) {
        std::fs::write(path, bytes).expect("write the artifact");
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
