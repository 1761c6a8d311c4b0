//! The program never fails at run time, whatever a record holds: a failing
//! remap would pass the raw record on (or drop it). Every record of every
//! fixture, and many mutations of each (bytes flipped, cut, JSON delimiters,
//! escapes and digits put in; values of the JSON replaced by values of other
//! types and edges, text put into strings), goes through the twin; each must run, every
//! element must carry its routing kind and a time in the range every host
//! carries, and the documents it writes must be documents the core writes
//! for the same data, in the same order (the twin may keep more as error
//! documents, never invent one).

#[path = "../../../tests/support/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

use gen3_cwlogs::{EntryKind, MAX_EVENT_MILLIS, MIN_EVENT_MILLIS, Options, Schema};
use gen3_cwlogs_vrl_twin::delivery::{delivery_body, records_of};
use gen3_cwlogs_vrl_twin::options::options_program;
use gen3_cwlogs_vrl_twin::source::{self, Request, SourceConfig};
use gen3_cwlogs_vrl_twin::{Pipeline, strip_routing};

/// Small deterministic PRNG (xorshift64*), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

/// What JSON readers trip on: delimiters, escapes (a lone surrogate among
/// them), numbers past every range, invalid UTF-8, whitespace.
const SPLICES: [&[u8]; 14] = [
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b",",
    b":",
    b"\\",
    b"\\ud800",
    b"1e999",
    b"99999999999999999999",
    b"\xff",
    b"\n{\"messageType\"",
    b" \t\r\n",
];

/// Values of other types and edges, put in place of one value.
const VALUES: [&str; 14] = [
    "null",
    "true",
    "42",
    "-1",
    "0",
    "4294967296000",
    "1.5",
    "18446744073709551616",
    "\"text\"",
    "[]",
    "{}",
    "[1,{\"a\":2}]",
    "{\"id\":\"x\",\"timestamp\":1,\"message\":\"m\"}",
    "\"{\\\"response_secs\\\":\\\"9e9\\\",\\\"log\\\":\\\"{}\\\"}\"",
];

/// Text put into a string value (which stays valid JSON): what a message
/// that is itself JSON trips on.
const INSERTS: [&str; 8] = ["{", "}", "[", "\"", "\\", ":", "{\"response_secs\":70.5}", " \n"];

/// A mutation that keeps the data valid JSON (when it was), so it reaches
/// the envelope, event and message paths: one value of the tree replaced,
/// or text put into one string.
fn mutate_value(data: &[u8], rng: &mut Rng) -> Option<Vec<u8>> {
    let mut value: serde_json::Value = serde_json::from_slice(data).ok()?;
    let mut pointers = Vec::new();
    collect_pointers(&value, String::new(), &mut pointers);
    let pointer = pointers[rng.below(pointers.len())].clone();
    let target = value.pointer_mut(&pointer)?;
    match target {
        serde_json::Value::String(text) if rng.below(2) == 0 => {
            let boundaries: Vec<usize> = (0..=text.len()).filter(|&at| text.is_char_boundary(at)).collect();
            let at = boundaries[rng.below(boundaries.len())];
            text.insert_str(at, INSERTS[rng.below(INSERTS.len())]);
        }
        _ => *target = serde_json::from_str(VALUES[rng.below(VALUES.len())]).expect("a JSON value"),
    }
    serde_json::to_vec(&value).ok()
}

fn collect_pointers(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(object) => {
            for (key, child) in object {
                collect_pointers(child, format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        serde_json::Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                collect_pointers(child, format!("{at}/{index}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

fn mutate(data: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = data.to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(out.len() + 1);
        match rng.below(4) {
            0 if !out.is_empty() => {
                let at = at.min(out.len() - 1);
                out[at] = rng.next() as u8;
            }
            1 => out.truncate(at),
            _ => {
                let splice = SPLICES[rng.below(SPLICES.len())];
                out.splice(at..at, splice.iter().copied());
            }
        }
    }
    out
}

#[test]
fn the_program_never_fails_and_invents_no_document() {
    // Each fixture in its own schema (the ecs fixtures in ecs), alerts on
    // and a shallow depth limit.
    let options_for = |schema| Options { slow_threshold_secs: Some(1.0), max_json_depth: 8, schema, ..Options::default() };
    let mut pipelines: Vec<(Schema, Pipeline)> = Schema::ALL
        .into_iter()
        .map(|schema| {
            let program = options_program(&[], Some(&options_for(schema)));
            (schema, Pipeline::shipped(SourceConfig::default(), &program).unwrap_or_else(|error| panic!("{error}")))
        })
        .collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut runs = 0;
    for fixture in fixtures::fixtures() {
        let options = options_for(fixture.options.schema);
        let pipeline = &mut pipelines.iter_mut().find(|(schema, _)| *schema == options.schema).expect("a pipeline per schema").1;
        // The records as the source hands them over.
        let records = records_of(&fixture.input);
        let body = if records.is_delivery { fixture.input.clone() } else { delivery_body("robustness", 1_551_461_675_000, &records.data) };
        let request = Request {
            request_id: "robustness",
            source_arn: "arn:aws:firehose:us-east-1:1:deliverystream/r",
            access_key: None,
            content_encoding: None,
            body: &body,
        };
        let Ok(events) = source::receive(&pipeline.source, &request) else { continue };
        for event in events {
            // Big records (the gzip bomb) run once: a debug build of VRL is
            // slow, and mutations of small records reach the same paths.
            let rounds = if event.message.len() > 16 * 1024 { 1 } else { 20 };
            for round in 0..rounds {
                // Even rounds break bytes, odd ones values.
                let data = match round {
                    0 => event.message.clone(),
                    _ if round % 2 == 1 => mutate_value(&event.message, &mut rng).unwrap_or_else(|| mutate(&event.message, &mut rng)),
                    _ => mutate(&event.message, &mut rng),
                };
                let mut twin = Vec::new();
                let run = pipeline.run_record(0, source::SourceEvent { message: data.clone(), ..event.clone() }, &mut |record, event| {
                    twin.push(strip_routing(record, event.value))
                });
                runs += 1;
                let shown = String::from_utf8_lossy(&data[..data.len().min(300)]).into_owned();
                if let Err(error) = run {
                    panic!("{}: the program failed on {shown:?}: {error}", fixture.name);
                }
                for event in &twin {
                    assert!(matches!(event.kind.as_deref(), Some("document" | "alert" | "error")), "{}: {event:?}", fixture.name);
                    assert!(
                        !event.time_not_timestamp
                            && event.time_ms.is_none_or(|millis| (MIN_EVENT_MILLIS..=MAX_EVENT_MILLIS).contains(&millis)),
                        "{}: {event:?}",
                        fixture.name
                    );
                }
                if data.starts_with(&[0x1f, 0x8b]) {
                    continue;
                }
                // The core on the same data, as a record of plain JSON.
                let core = gen3_cwlogs::decode(&delivery_body("robustness", 1_551_461_675_000, std::slice::from_ref(&data)), &options)
                    .expect("valid options");
                let core_ids: Vec<&str> = core.of_kind(EntryKind::Document).map(|entry| entry.id.as_str()).collect();
                let twin_ids: Vec<&str> =
                    twin.iter().filter(|event| event.kind.as_deref() == Some("document")).filter_map(|event| event.id.as_deref()).collect();
                let mut rest = core_ids.iter();
                assert!(
                    twin_ids.iter().all(|id| rest.any(|core_id| core_id == id)),
                    "{}: the twin wrote documents the core does not, or in another order, for {shown:?}:\n twin {twin_ids:?}\n core {core_ids:?}",
                    fixture.name
                );
                if twin.is_empty() && !core.entries.is_empty() {
                    panic!("{}: the twin wrote nothing where the core wrote {} entries, for {shown:?}", fixture.name, core.entries.len());
                }
            }
        }
    }
    assert!(runs > 1000, "too few runs: {runs}");
}
