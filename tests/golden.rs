//! Every fixture through the native core gives exactly its golden file; no
//! wasm is involved (the harness, `crates/harness`, runs the same fixtures
//! through every host).

#[path = "support/fixtures.rs"]
#[allow(dead_code)] // shared with the harness, which uses all of it
mod fixtures;

use fixtures::{fixtures, render};

#[test]
fn native_core_matches_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let all = fixtures();
    assert!(all.len() >= 24, "the whole fixture set, found {}", all.len());
    let mut mismatches = Vec::new();
    for fixture in all {
        let actual = render(&gen3_cwlogs::decode(&fixture.input, &fixture.options).expect("valid options"));
        if update {
            std::fs::write(&fixture.expected_path, &actual).expect("write golden file");
            continue;
        }
        let expected = fixture.expected();
        if actual != expected {
            mismatches.push(format!("{}:\n--- expected\n{expected}--- actual\n{actual}", fixture.name));
        }
    }
    assert!(mismatches.is_empty(), "golden mismatches:\n{}", mismatches.join("\n"));
}
