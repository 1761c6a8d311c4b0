//! The CLI as README runs it: the seed's example through the embedded
//! component, the native core, stdin, directories and patterns, flags and
//! their validation, exit codes, unreadable inputs, the component cache.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gen3-cwlogs-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the CLI with its cache in `cache` (a scratch directory by default,
/// so tests never share or touch the user's cache).
fn run_with(args: &[&str], stdin: Option<&[u8]>, cache: &Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gen3-cwlogs"))
        .args(args)
        .env("GEN3_CWLOGS_CACHE_DIR", cache)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gen3-cwlogs");
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        input.write_all(bytes).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    run_with(args, stdin, &std::env::temp_dir().join(format!("gen3-cwlogs-cli-cache-{}", std::process::id())))
}

fn lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(output.stdout.clone()).unwrap().lines().map(|line| serde_json::from_str(line).expect("each line is JSON")).collect()
}

fn summary(output: &Output) -> serde_json::Value {
    serde_json::from_str(String::from_utf8_lossy(&output.stderr).lines().last().expect("a summary")).expect("the summary is JSON")
}

#[test]
fn readme_command_prints_the_seeds_two_documents() {
    let seed = fixture("seed-kinesis-event.json");
    let output = run(&[seed.to_str().unwrap()], None);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let documents = lines(&output);
    assert_eq!(documents.len(), 2);
    assert_eq!(documents[0]["id"], "33937864433052288198345880427171302362958917358574829568");
    assert_eq!(documents[1]["id"], "33937864433052288198345880427171302362958917358574829569");
    for document in &documents {
        assert_eq!(document["timestamp"], "2018-03-23T17:34:34.000Z");
        assert_eq!(document["logGroup"], "devplanetv1");
        assert_eq!(document["message"]["kubernetes"]["pod_name"], "sheepdog-deployment-1767503258-n23ck");
    }
    assert_eq!(summary(&output)["engine"], "component");
    assert_eq!(summary(&output)["counters"]["documents"], 2);
}

#[test]
fn native_and_component_print_the_golden_lines() {
    for name in ["seed-kinesis-event", "bad-records", "alerts", "s3-archive"] {
        let path = std::fs::read_dir(fixture("")).unwrap().map(|entry| entry.unwrap().path()).find(|path| {
            path.file_name().unwrap().to_str().unwrap().starts_with(&format!("{name}."))
                && !path.to_str().unwrap().contains(".expected.")
                && !path.to_str().unwrap().contains(".options.")
        });
        let path = path.unwrap();
        let mut args = vec![path.to_str().unwrap().to_owned()];
        if name == "alerts" {
            args.extend(
                ["--commons=devplanetv1", "--slow-threshold-secs", "65.0", "--alert-streams", "revproxy,sheepdog,peregrine"]
                    .map(str::to_owned),
            );
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let component = run(&args, None);
        let native = run(&[&["--native"], &args[..]].concat(), None);
        let golden = std::fs::read_to_string(fixture(&format!("{name}.expected.ndjson"))).unwrap();
        let entries: String = golden.lines().filter(|line| !line.starts_with("{\"counters\"")).map(|line| format!("{line}\n")).collect();
        assert_eq!(String::from_utf8(component.stdout).unwrap(), entries, "{name}: component");
        assert_eq!(String::from_utf8(native.stdout).unwrap(), entries, "{name}: native");
    }
}

#[test]
fn reads_stdin_and_applies_options() {
    let data = std::fs::read(fixture("record-base64.txt")).unwrap();
    let output = run(&["--commons", "mycommons", "--schema", "cloudwatch"], Some(&data));
    assert_eq!(output.status.code(), Some(0));
    let documents = lines(&output);
    assert_eq!(documents.len(), 2);
    assert_eq!(documents[0]["commons"], "mycommons");
    assert!(documents[0]["message"].is_string(), "cloudwatch schema keeps the raw message");
}

#[test]
fn error_documents_exit_1_and_are_named_on_stderr() {
    for input in [&b"\x00\x01 not a payload"[..], b"{\"Records\": [", b""] {
        let output = run(&[], Some(input));
        assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(input));
        let entries = lines(&output);
        assert_eq!(entries.len(), 1);
        assert!(entries[0]["error"]["kind"].is_string());
        assert!(String::from_utf8_lossy(&output.stderr).contains("gen3-cwlogs: -: "));
    }
}

#[test]
fn unreadable_inputs_exit_3_and_the_others_are_decoded() {
    let seed = fixture("seed-kinesis-event.json");
    let output = run(&["/nonexistent/first.json", seed.to_str().unwrap(), "--quiet"], None);
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("reading /nonexistent/first.json"));
    assert_eq!(summary(&output)["counters"]["documents"], 2, "the readable file after it was decoded");
    assert_eq!(summary(&output)["unreadable"], 1);
}

#[test]
fn directories_and_patterns_of_archive_objects() {
    let dir = scratch("archives");
    std::fs::create_dir_all(dir.join("2019/03/01")).unwrap();
    std::fs::copy(fixture("s3-archive.gz"), dir.join("2019/03/01/a.gz")).unwrap();
    std::fs::copy(fixture("record.gz"), dir.join("2019/b.gz")).unwrap();
    let by_directory = run(&["--native", "--quiet", dir.to_str().unwrap()], None);
    assert_eq!(summary(&by_directory)["inputs"], 2);
    let pattern = format!("{}/**/*.gz", dir.display());
    let by_pattern = run(&["--native", "--quiet", &pattern], None);
    assert_eq!(summary(&by_pattern)["counters"], summary(&by_directory)["counters"]);
    assert_eq!(run(&[&format!("{}/*.none", dir.display())], None).status.code(), Some(3), "a pattern matching nothing");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn flags_are_validated_by_the_core_and_usage_errors_exit_2() {
    let refused = run(&["--max-json-depth", "500"], None);
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("--max-json-depth") && message.contains("1..=120"), "{message}");
    for args in
        [&["--schema=nope"][..], &["--slow-threshold-secs", "NaN"], &["--commons="], &["--bogus"], &["-x"], &["--alert-streams", "a,,b"]]
    {
        assert_eq!(run(args, None).status.code(), Some(2), "{args:?}");
    }
    let help = run(&["--help"], None);
    assert_eq!(help.status.code(), Some(0));
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in gen3_cwlogs_option_flags() {
        assert!(help.contains(&flag), "--help lists {flag}");
    }
    assert!(help.contains("Exit status"));
    assert!(String::from_utf8_lossy(&run(&["--version"], None).stdout).starts_with("gen3-cwlogs 0."));
}

/// Every core option is a flag.
fn gen3_cwlogs_option_flags() -> Vec<String> {
    ["commons", "slow-threshold-secs", "alert-streams", "schema", "max-decompressed-bytes", "max-events-per-record", "max-json-depth"]
        .map(|name| format!("--{name}"))
        .to_vec()
}

#[test]
fn the_component_is_cached_and_a_bad_cache_is_replaced() {
    let cache = scratch("cache");
    let seed = fixture("seed-kinesis-event.json");
    let args = [seed.to_str().unwrap(), "--quiet"];
    let cold = run_with(&args, None, &cache);
    assert_eq!(cold.status.code(), Some(0));
    let files: Vec<PathBuf> = std::fs::read_dir(&cache).unwrap().map(|entry| entry.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "one compiled component: {files:?}");
    let warm = run_with(&args, None, &cache);
    assert_eq!(warm.status.code(), Some(0));
    assert!(
        summary(&warm)["startup_secs"].as_f64().unwrap() < summary(&cold)["startup_secs"].as_f64().unwrap(),
        "a warm start skips the compile"
    );
    // Corrupt (one byte flipped) and truncated files are recompiled, never
    // loaded, and replaced.
    let good = std::fs::read(&files[0]).unwrap();
    for bad in [
        {
            let mut flipped = good.clone();
            let middle = flipped.len() / 2;
            flipped[middle] ^= 0x40;
            flipped
        },
        good[..good.len() / 3].to_vec(),
    ] {
        std::fs::write(&files[0], &bad).unwrap();
        let output = run_with(&args, None, &cache);
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(summary(&output)["counters"]["documents"], 2);
        assert_eq!(std::fs::read(&files[0]).unwrap(), good, "the bad file was replaced");
    }
    // A stale file (another component's) is never picked: the name is the key.
    std::fs::write(cache.join("component-000000000000000000000000-0000000000000000.cwasm"), b"stale").unwrap();
    assert_eq!(run_with(&args, None, &cache).status.code(), Some(0));
    assert_eq!(run_with(&["--no-cache", seed.to_str().unwrap(), "--quiet"], None, &scratch("unused")).status.code(), Some(0));
    std::fs::remove_dir_all(cache).unwrap();
}

#[test]
fn alerts_follow_their_documents() {
    let path = fixture("alerts.json");
    let output = run(&["--slow-threshold-secs", "65", "--alert-streams", "revproxy", path.to_str().unwrap()], None);
    let entries = lines(&output);
    let alerts: Vec<usize> = entries.iter().enumerate().filter(|(_, line)| line.get("alert").is_some()).map(|(at, _)| at).collect();
    assert_eq!(alerts.len(), 3);
    for at in alerts {
        assert_eq!(entries[at]["alert"]["document_id"], entries[at - 1]["id"], "an alert right after its document");
    }
    assert_eq!(entries[1]["alert"]["slack_payload"]["attachments"][0]["title"], "Slow Response notification: (70.512 seconds)");
}

#[test]
fn exports_the_component() {
    let dir = scratch("export");
    let path = dir.join("cwlogs.wasm");
    assert_eq!(run(&["--export-component", path.to_str().unwrap()], None).status.code(), Some(0));
    assert_eq!(std::fs::read(&path).unwrap(), gen3_cwlogs_wasmtime::COMPONENT_WASM);
    std::fs::remove_dir_all(dir).unwrap();
}
