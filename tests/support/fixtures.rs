//! The shared fixture set (`tests/fixtures/`), read the same way by the
//! core's golden test and by the harness (which includes this file).
//!
//! A fixture is a payload file with optional `<name>.options.json` (decode
//! options by their core names; `Options::from_json`) and
//! `<name>.expected.ndjson` (the exact output: the entries in input order,
//! then the counters). `UPDATE_GOLDEN=1 cargo test -p gen3-cwlogs --test
//! golden` rewrites the expected files; review the diff before committing.

use std::path::{Path, PathBuf};

use gen3_cwlogs::{Options, Output};

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join("tests/fixtures").is_dir())
        .expect("in the workspace")
        .join("tests/fixtures")
}

pub struct Fixture {
    pub name: String,
    pub input: Vec<u8>,
    pub options: Options,
    pub expected_path: PathBuf,
}

impl Fixture {
    pub fn expected(&self) -> String {
        std::fs::read_to_string(&self.expected_path)
            .unwrap_or_else(|_| panic!("{}: no golden file (run with UPDATE_GOLDEN=1 and review it)", self.name))
    }
}

/// Every fixture payload, sorted by name.
pub fn fixtures() -> Vec<Fixture> {
    let dir = fixtures_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures directory")
        .map(|entry| entry.expect("directory entry").file_name().into_string().expect("UTF-8 file name"))
        .filter(|name| !name.ends_with(".options.json") && !name.ends_with(".expected.ndjson") && !name.ends_with(".py"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|file| {
            let name = file.rsplit_once('.').map_or(file.as_str(), |(stem, _)| stem).to_owned();
            let options = match std::fs::read_to_string(dir.join(format!("{name}.options.json"))) {
                Ok(text) => Options::from_json(&text).unwrap_or_else(|error| panic!("{name}.options.json: {error}")),
                Err(_) => Options::default(),
            };
            Fixture {
                input: std::fs::read(dir.join(&file)).expect("fixture payload"),
                expected_path: dir.join(format!("{name}.expected.ndjson")),
                name,
                options,
            }
        })
        .collect()
}

pub fn fixture(name: &str) -> Fixture {
    fixtures().into_iter().find(|fixture| fixture.name == name).unwrap_or_else(|| panic!("no fixture {name}"))
}

/// The form outputs are compared in: the entries' NDJSON, then the counters.
pub fn render(output: &Output) -> String {
    let mut text = output.to_ndjson();
    text.push_str("{\"counters\":");
    output.counters.write_json(&mut text);
    text.push_str("}\n");
    text
}
