//! Output stays linear in the input, and no record spoils the others, on
//! inputs too big for fixtures (README, section Reliability): checked by
//! bytes and counts, not time (`gen3-cwlogs-bench --adversarial` times them).

use std::io::Write as _;

use gen3_cwlogs::{EntryKind, Options, Output, decode};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn output_bytes(output: &Output) -> usize {
    output.entries.iter().map(|entry| entry.json.len() + 1).sum()
}

fn envelope(n: usize) -> String {
    format!(
        r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{{"id":"{n}","timestamp":1551461674000,"message":"event {n}"}}]}}"#
    )
}

#[test]
fn an_archive_of_empty_members_gives_nothing() {
    // 200,000 empty members: a 4 MB input once made 14.6 GB of error
    // documents, each carrying the rest of the archive.
    let archive = gzip(b"").repeat(200_000);
    let output = decode(&archive, &Options::default()).unwrap();
    assert_eq!(output.counters.records, 200_000);
    assert_eq!(output.counters.errors, 0);
    assert!(output_bytes(&output) < 10 << 20);
}

#[test]
fn failing_members_carry_only_their_own_bytes() {
    let bad = gzip(br#"{"not":"an envelope"}"#);
    let good = gzip(envelope(1).as_bytes());
    let archive = [good.clone(), bad.repeat(10_000), good].concat();
    let output = decode(&archive, &Options::default()).unwrap();
    assert_eq!(output.counters.documents, 2);
    assert_eq!(output.counters.envelopes_failed, 10_000);
    for error in output.of_kind(EntryKind::Error) {
        assert!(error.json.contains(r#""raw_data":"{\"not\":\"an envelope\"}""#), "{}", error.json);
    }
    assert!(output_bytes(&output) < 5 << 20, "{} bytes", output_bytes(&output));
}

#[test]
fn concatenated_envelopes_are_records_of_their_own() {
    // 100,000 one-event envelopes (16.7 MB, over the 16 MiB limit as one
    // value): every one is a document, limits apply per value.
    let values: String = (0..100_000).map(envelope).collect();
    assert!(values.len() as u64 > Options::default().max_decompressed_bytes);
    let output = decode(values.as_bytes(), &Options::default()).unwrap();
    assert_eq!(output.counters.documents, 100_000);
    assert_eq!(output.counters.errors, 0);
}
