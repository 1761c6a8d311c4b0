//! Builds the JavaScript deliverables from the wasm-bindgen adapter
//! (`crates/js`), with wasm-bindgen's CLI support as a library, so no
//! separately installed `wasm-bindgen` binary has to match its version:
//!
//! - `<out>/pkg`: the npm package (`npm pack`/`npm publish` it as is):
//!   CommonJS and ESM entries for Node, an ESM entry for browsers and
//!   bundlers, TypeScript types;
//! - `<out>/decoder.html`: the decoder page, one self-contained file (the
//!   module inlined as base64) that works from `file://` and any static
//!   host, and whose Content-Security-Policy forbids every network request.
//!
//! Usage: `cargo run -p gen3-cwlogs-js-build [-- --out-dir DIR]`; DIR
//! defaults to `target/js` in the workspace.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine as _;
use wasm_bindgen_cli_support::Bindgen;

const ADAPTER_WASM: &[u8] = gen3_cwlogs_artifacts::JS;
/// File stem of wasm-bindgen's output in both targets.
const STEM: &str = "gen3_cwlogs";

/// Hand-written package files: (path in the package, contents).
const PACKAGE_FILES: &[(&str, &str)] = &[
    ("package.json", include_str!("../../js/npm/package.json")),
    ("README.md", include_str!("../../js/npm/README.md")),
    ("index.d.ts", include_str!("../../js/npm/index.d.ts")),
    ("node/index.cjs", include_str!("../../js/npm/node/index.cjs")),
    ("node/index.mjs", include_str!("../../js/npm/node/index.mjs")),
    ("web/index.js", include_str!("../../js/npm/web/index.js")),
    ("web/package.json", include_str!("../../js/npm/web/package.json")),
];

const PAGE_TEMPLATE: &str = include_str!("../../js/page/decoder.html");
const PAGE_SCRIPT: &str = include_str!("../../js/page/page.js");
const PAGE_WORKER: &str = include_str!("../../js/page/worker.js");
/// Where the template takes the scripts (the worker's text, the page code).
const SCRIPT_SLOT: &str = "<!-- script -->";
/// The version the page shows: the workspace's, which the package's must equal.
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn main() -> ExitCode {
    let out_dir = match parse_args() {
        Ok(dir) => dir,
        Err(message) => {
            eprintln!("gen3-cwlogs-js-build: {message}\nusage: gen3-cwlogs-js-build [--out-dir DIR]");
            return ExitCode::from(2);
        }
    };
    match build(&out_dir) {
        Ok(()) => {
            println!("{}", out_dir.join("pkg").display());
            println!("{}", out_dir.join("decoder.html").display());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("gen3-cwlogs-js-build: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<PathBuf, String> {
    let mut args = std::env::args().skip(1);
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("crates/js-build in the workspace");
    let mut out_dir = workspace.join("target").join("js");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out-dir" => out_dir = args.next().ok_or("--out-dir needs a directory")?.into(),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(out_dir)
}

fn build(out_dir: &Path) -> Result<(), String> {
    check_package_version()?;
    let package = out_dir.join("pkg");
    // A stale file from an earlier layout must not be published.
    if package.exists() {
        std::fs::remove_dir_all(&package).map_err(|e| format!("clear {}: {e}", package.display()))?;
    }
    bindgen(&package.join("node"), |bindgen| bindgen.nodejs(true).map(drop).map_err(|e| e.to_string()))?;
    bindgen(&package.join("web"), |bindgen| bindgen.web(true).map(drop).map_err(|e| e.to_string()))?;
    for (path, contents) in PACKAGE_FILES {
        write(&package.join(path), contents.as_bytes())?;
    }
    let glue = read_text(&package.join("web").join(format!("{STEM}.js")))?;
    let module = std::fs::read(package.join("web").join(format!("{STEM}_bg.wasm"))).map_err(|e| format!("read the web module: {e}"))?;
    write(&out_dir.join("decoder.html"), page(&glue, &module)?.as_bytes())
}

fn bindgen(dir: &Path, target: impl FnOnce(&mut Bindgen) -> Result<(), String>) -> Result<(), String> {
    let mut bindgen = Bindgen::new();
    bindgen
        .input_bytes(STEM, ADAPTER_WASM.to_vec())
        .out_name(STEM)
        .typescript(false)
        .remove_name_section(true)
        .remove_producers_section(true);
    target(&mut bindgen).map_err(|e| format!("wasm-bindgen target: {e}"))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    bindgen.generate(dir).map_err(|e| format!("wasm-bindgen into {}: {e:#}", dir.display()))
}

/// The page: the template with two inline scripts: the decoder's worker
/// as text (`type="text/plain"`: never run by the page; the web glue as a
/// classic script, the module as base64 and `worker.js`), which the page
/// code starts from a blob: URL, and the page code itself. Inline, because
/// browsers refuse module scripts, workers and `fetch` from `file://`; a
/// classic worker, because a module worker from a blob: URL does not load
/// in a `file://` page (an opaque origin); the module is in the worker's
/// text only, so the page holds it once.
fn page(glue: &str, module: &[u8]) -> Result<String, String> {
    if !PAGE_TEMPLATE.contains(SCRIPT_SLOT) {
        return Err(format!("page template has no {SCRIPT_SLOT}"));
    }
    let glue = classic_script(glue)?;
    // `</script` inside a script would end it early; `<!--` (with `<script`)
    // would switch the HTML parser into its escaped script states.
    for (name, text) in [("the web glue", glue.as_str()), ("page.js", PAGE_SCRIPT), ("worker.js", PAGE_WORKER)] {
        if ["</script", "<!--", "<script"].iter().any(|bad| text.to_ascii_lowercase().contains(bad)) {
            return Err(format!("{name} contains </script, <script or <!--, which cannot be inlined"));
        }
    }
    let script = format!(
        "<script type=\"text/plain\" id=\"decoder-worker\">\n{glue}\nconst WASM_BASE64 = \"{}\";\n{PAGE_WORKER}\n</script>\n\
         <script type=\"module\">\nconst VERSION = \"{VERSION}\";\n{PAGE_SCRIPT}\n</script>",
        base64::engine::general_purpose::STANDARD.encode(module)
    );
    Ok(PAGE_TEMPLATE.replace(SCRIPT_SLOT, &script))
}

/// wasm-bindgen's web glue (an ES module) as a classic script: `export`
/// dropped from its declarations, its one `export { ... };` list removed,
/// `import.meta.url` (only read when `init` is given no module, which the
/// worker never does) replaced. Fails if the glue has another module form.
fn classic_script(glue: &str) -> Result<String, String> {
    let mut out = String::with_capacity(glue.len());
    for line in glue.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("export {") {
            if !trimmed.ends_with("};") {
                return Err(format!("the web glue has a multi-line export list: {trimmed}"));
            }
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        out.push_str(&line.replace("import.meta.url", "self.location.href"));
        out.push('\n');
    }
    let module_syntax = out.lines().map(str::trim_start).find(|line| {
        line.starts_with("export ") || line.starts_with("import ") || line.contains("import.meta") || line.contains("import(")
    });
    match module_syntax {
        Some(line) => Err(format!("the web glue cannot run as a classic script: {line}")),
        None => Ok(out),
    }
}

fn check_package_version() -> Result<(), String> {
    let manifest = PACKAGE_FILES[0].1;
    let expected = format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION"));
    if manifest.contains(&expected) {
        Ok(())
    } else {
        Err(format!("crates/js/npm/package.json must say {expected}, the workspace version"))
    }
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("create {}: {e}", parent.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("write {}: {e}", path.display()))
}
