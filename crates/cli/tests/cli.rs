//! The CLI as README runs it: the seed's example through the embedded
//! component, the same through the native core, stdin, bad input, flags.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gen3-cwlogs"))
        .args(args)
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

fn lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

#[test]
fn readme_command_prints_the_seeds_two_documents() {
    let seed = fixture("seed-kinesis-event.json");
    let output = run(&[seed.to_str().unwrap()], None);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let documents = lines(&output);
    assert_eq!(documents.len(), 2);
    assert_eq!(documents[0]["id"], "33937864433052288198345880427171302362958917358574829568");
    assert_eq!(documents[1]["id"], "33937864433052288198345880427171302362958917358574829569");
    for document in &documents {
        assert_eq!(document["timestamp"], "2018-03-23T17:34:34.000Z");
        assert_eq!(document["logGroup"], "devplanetv1");
        assert_eq!(document["message"]["kubernetes"]["pod_name"], "sheepdog-deployment-1767503258-n23ck");
    }
    let summary: serde_json::Value =
        serde_json::from_str(String::from_utf8(output.stderr).unwrap().lines().last().unwrap()).unwrap();
    assert_eq!(summary["engine"], "component");
    assert_eq!(summary["counters"]["documents"], 2);
}

#[test]
fn native_and_component_print_the_same_lines() {
    for name in ["seed-kinesis-event.json", "bad-records.json", "alerts.json", "s3-archive.gz"] {
        let path = fixture(name);
        let args = ["--threshold", "65", "--alert-streams", "gen3", path.to_str().unwrap()];
        let component = run(&args, None);
        let native = run(&[&["--native"], &args[..]].concat(), None);
        assert!(component.status.success() && native.status.success());
        assert_eq!(component.stdout, native.stdout, "{name}");
    }
}

#[test]
fn reads_stdin_and_applies_options() {
    let data = std::fs::read(fixture("record-base64.txt")).unwrap();
    let output = run(&["--commons", "mycommons", "--schema", "cloudwatch"], Some(&data));
    assert!(output.status.success());
    let documents = lines(&output);
    assert_eq!(documents.len(), 2);
    assert_eq!(documents[0]["commons"], "mycommons");
    assert!(documents[0]["message"].is_string(), "cloudwatch schema keeps the raw message");
}

#[test]
fn bad_input_gives_error_documents_and_names_them_on_stderr() {
    let output = run(&[], Some(b"\x00\x01 not a payload"));
    assert!(output.status.success());
    let documents = lines(&output);
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0]["error"]["kind"], "unrecognised-input");
    assert!(String::from_utf8_lossy(&output.stderr).contains("unrecognised-input: payload"));
}

#[test]
fn alerts_are_distinguishable_lines() {
    let path = fixture("alerts.json");
    let output = run(&["--threshold", "65", "--alert-streams", "revproxy", path.to_str().unwrap()], None);
    let alerts: Vec<_> = lines(&output).into_iter().filter(|line| line.get("alert").is_some()).collect();
    assert_eq!(alerts.len(), 3);
    assert_eq!(
        alerts[0]["alert"]["slack_payload"]["attachments"][0]["title"],
        "Slow Response notification: (70.512 seconds)"
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["--schema", "nope"], None).status.code(), Some(2));
    assert_eq!(run(&["--bogus"], None).status.code(), Some(2));
    assert!(run(&["--help"], None).status.success());
}
