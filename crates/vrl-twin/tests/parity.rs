//! The VRL twin (`pipeline-configs/vector/cwlogs.vrl`) against the core.
//!
//! Every fixture of `tests/fixtures/` (and generated workloads, and built
//! deliveries for what the fixtures lack) becomes the Firehose delivery a
//! stream would send for its records; the core decodes that delivery
//! (`gen3_cwlogs::decode`, the fixture's options) and the twin runs in an
//! imitation of Vector (Firehose source, options remap, the twin, routing
//! fields removed). The entries of each record are compared in input order:
//! documents as JSON values, alerts by their Slack payload, error documents
//! field by field, routing fields too. Each difference that is known and
//! accepted is normalised under a name, counted, and listed in
//! `pipeline-configs/vector/README.md`; anything else fails the test, and so
//! does a listed difference that no longer occurs.
//!
//! `PARITY_SHOW=<case>` prints what the twin emitted for a case;
//! `PARITY_EXTRA_FIXTURES=<dir>` adds the payloads of a directory (laid out
//! as `tests/fixtures/`, expected files not needed) as more cases.

#[path = "../../../tests/support/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use gen3_cwlogs::{EntryKind, MAX_EVENT_MILLIS, MIN_EVENT_MILLIS, Options, OwnedEntry};
use gen3_cwlogs_vrl_twin::delivery::{delivery_body, records_of};
use gen3_cwlogs_vrl_twin::options::options_program;
use gen3_cwlogs_vrl_twin::remap::{Remap, Schema as VrlSchema};
use gen3_cwlogs_vrl_twin::source::{self, Request, SourceConfig};
use gen3_cwlogs_vrl_twin::{Pipeline, TwinEvent, program_source, strip_routing};
use gen3_cwlogs_workload::{Form, Spec, generate};
use serde_json::Value;

const SOURCE_ARN: &str = "arn:aws:firehose:us-east-1:433568766270:deliverystream/parity";
/// The request time of the deliveries built here (2019-03-01T17:34:35.000Z).
const REQUEST_MS: i64 = 1_551_461_675_000;

/// The differences the twin is allowed, by name. Each is listed, with its
/// reason, in pipeline-configs/vector/README.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Difference {
    /// VRL objects are sorted by key; the core keeps the Lambda's order.
    KeyOrder,
    /// `firehose.recordIndex` is missing: Vector does not tell a remap which
    /// record of its request an event came from.
    FirehoseRecordIndex,
    /// `error.record_index` is missing, for the same reason.
    ErrorRecordIndex,
    /// Error document ids are another digest of other data.
    ErrorId,
    /// Error reasons are worded from VRL's view where the core quotes its
    /// own parser (the record label aside, which has no index).
    ErrorReason,
    /// A record error's `raw_data` is the record's data as the source handed
    /// it over (base64-decoded, inflated when it could be), not the base64
    /// text Firehose sent.
    ErrorRawFromSource,
    /// A too-large record's raw data is stored gzip'd (`gzip+base64`).
    ErrorRawGzipped,
    /// An invalid event's `raw_data` is the event written again (fields in
    /// CloudWatch's order, VRL's numbers and escapes), not its bytes as
    /// received: the same JSON value.
    ErrorEventRawText,
    /// Alerts are the Slack payload only; the core's alert also names the
    /// document id, commons, log group and seconds.
    AlertMetadata,
    /// A corrupt gzip record that inflates past the size limit before the
    /// corruption shows: the core stops at the limit (`too-large`); Vector
    /// inflates on, fails, and hands the twin the gzip bytes (`gzip`).
    CorruptGzipOverLimit,
    /// A message object that only a reader accepting unreadable numbers
    /// (`1e999`) or lone surrogate escapes reads: VRL's parse_json refuses
    /// the whole message, so the twin keeps it as `{"log": text}`; the core
    /// keeps the object with such a value's text as a string. Both keep
    /// every byte.
    MessageRefusedByVrl,
    /// An envelope VRL's parser refuses as a whole (a lone surrogate escape,
    /// an event that is no valid JSON) is one `invalid-envelope` error
    /// document with its exact text; the core reads it event by event and
    /// decodes the good ones.
    EnvelopeReadWhole,
    /// A record whose data is not valid UTF-8 is one `utf8` error document
    /// with its data; the core reads it value by value and event by event.
    RecordNotUtf8,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[derive(Default)]
struct Totals {
    deliveries: usize,
    records: usize,
    documents: usize,
    /// Of which in the ecs schema.
    ecs_documents: usize,
    alerts: usize,
    errors: usize,
    /// Core entries stood for by one twin error document of a whole
    /// envelope or record.
    covered: usize,
    differences: BTreeMap<Difference, usize>,
    failures: Vec<String>,
}

impl Totals {
    fn note(&mut self, difference: Difference) {
        *self.differences.entry(difference).or_default() += 1;
    }

    fn fail(&mut self, case: &str, message: String) {
        self.failures.push(format!("{case}: {message}"));
    }

    fn difference_total(&self) -> usize {
        self.differences.values().sum()
    }
}

struct Case {
    name: String,
    /// The delivery body Firehose would send.
    body: Vec<u8>,
    /// The request id (the `X-Amz-Firehose-Request-Id` header).
    request_id: String,
    options: Options,
    /// Records of the payload no stream could carry (a Lambda-style Kinesis
    /// record without `kinesis.data`), left out of the delivery.
    left_out: usize,
}

/// A case for a payload: the delivery of its records (a Firehose delivery
/// is used as it is).
fn case_of(name: &str, payload: &[u8], options: Options) -> Case {
    let records = records_of(payload);
    if records.is_delivery {
        let mut parsed: Value = serde_json::from_slice(payload).expect("a delivery fixture is JSON");
        let request_id = parsed["requestId"].as_str().expect("the delivery has a requestId").to_owned();
        // A part of a delivery (`firstRecordIndex`) is made by Fluent Bit's
        // front; Vector's source only ever receives what Firehose sends.
        let body = match parsed.as_object_mut().and_then(|object| object.remove("firstRecordIndex")) {
            Some(_) => serde_json::to_vec(&parsed).expect("JSON"),
            None => payload.to_vec(),
        };
        return Case { name: name.to_owned(), body, request_id, options, left_out: records.left_out };
    }
    built(name, REQUEST_MS, &records.data, options, records.left_out)
}

/// A delivery of `records` at `request_ms`.
fn built(name: &str, request_ms: i64, records: &[Vec<u8>], options: Options, left_out: usize) -> Case {
    let request_id = format!("parity-{name}");
    Case { name: name.to_owned(), body: delivery_body(&request_id, request_ms, records), request_id, options, left_out }
}

fn fixture_cases() -> Vec<Case> {
    // The plugin's own fixture set, read the way its tests read it.
    let mut cases: Vec<Case> =
        fixtures::fixtures().into_iter().map(|fixture| case_of(&fixture.name, &fixture.input, fixture.options)).collect();
    if let Ok(dir) = std::env::var("PARITY_EXTRA_FIXTURES") {
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("PARITY_EXTRA_FIXTURES={dir}: {error}"))
            .map(|entry| entry.expect("directory entry").file_name().into_string().expect("UTF-8 file name"))
            .filter(|name| !name.ends_with(".options.json") && !name.ends_with(".expected.ndjson") && !name.ends_with(".py"))
            .collect();
        names.sort();
        for file in names {
            let name = file.rsplit_once('.').map_or(file.as_str(), |(stem, _)| stem).to_owned();
            let options = std::fs::read_to_string(format!("{dir}/{name}.options.json"))
                .map(|text| Options::from_json(&text).unwrap_or_else(|error| panic!("{name}.options.json: {error}")))
                .unwrap_or_default();
            let payload = std::fs::read(format!("{dir}/{file}")).expect("payload");
            cases.push(case_of(&format!("extra-fixture-{name}"), &payload, options));
        }
    }
    cases
}

fn gzip(data: &[u8]) -> Vec<u8> {
    gen3_cwlogs_workload::gzip(data)
}

fn envelope(group: &str, stream: &str, events: &[(u32, &str)]) -> String {
    let events: Vec<String> = events
        .iter()
        .map(|(n, message)| {
            format!(
                "{{\"id\":\"3689{n:05}\",\"timestamp\":{},\"message\":{}}}",
                REQUEST_MS - 1000 + i64::from(*n),
                serde_json::to_string(message).expect("a string serializes")
            )
        })
        .collect();
    format!(
        "{{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"707767160287\",\"logGroup\":\"{group}\",\"logStream\":\"{stream}\",\"subscriptionFilters\":[\"{group}_subscription\"],\"logEvents\":[{}]}}",
        events.join(",")
    )
}

/// An envelope of events given as JSON texts.
fn raw_envelope(stream: &str, events: &str) -> String {
    format!(
        r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"edges","logStream":"{stream}","subscriptionFilters":["f"],"logEvents":[{events}]}}"#
    )
}

/// Records the fixtures do not have in this form: several gzip members in
/// one record (Vector inflates them as one stream), JSON values one after
/// the other, depth limits, numeric ids in other spellings, the time range,
/// message, alert, event and envelope edges, per-envelope event limits, a
/// corrupt member, an empty member, an arrival time past the range.
fn extra_cases() -> Vec<Case> {
    let first = envelope("devplanetv1", "revproxy-a", &[(1, "{\"log\":\"one\\n\",\"stream\":\"stdout\"}"), (2, "two")]);
    let second = envelope("devplanetv1", "fence-b", &[(3, "three")]);
    let bad_third = "{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":\"g\",\"logStream\":\"s\",\"logEvents\":[{\"id\":\"9\",";
    let deep = format!("{{\"deep\":{}1{}}}", "[".repeat(30), "]".repeat(30));
    let depths = envelope("devplanetv1", "depths", &[(4, &deep), (5, "{\"shallow\":[[[[1]]]],\"s\":\"[[[[[[[[[[[[[[[[[[[\"}")]);
    let numeric = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":-12,"timestamp":1551461674000,"message":"negative"},{"id":9223372036854775808,"timestamp":1551461674001,"message":"u64"},{"id":1.50,"timestamp":1551461674002,"message":"fraction"},{"id":2e3,"timestamp":1551461674003,"message":"exponent"}, {"id" : 18446744073709551616, "timestamp":1.5514616740045e12,"message":"spaced"},{"id":-0,"timestamp":1551461674005,"message":"negative zero"}]}"#;
    let records = vec![
        [gzip(first.as_bytes()), gzip(second.as_bytes())].concat(),
        format!("{first}\n  {second}\r\n").into_bytes(),
        format!("{first}{second}{bad_third}").into_bytes(),
        format!("{first} 5").into_bytes(),
        depths.into_bytes(),
        numeric.as_bytes().to_vec(),
    ];
    let options = Options { slow_threshold_secs: Some(0.5), alert_streams: vec!["revproxy".into()], ..Options::default() };
    let mut cases = vec![built("extra", REQUEST_MS, &records, options, 0)];

    // A shallow depth limit, so the exact depth check runs on every JSON
    // message; a message deeper than serde_json's own limit (128) too; deep
    // metadata.
    let shallow = Options { max_json_depth: 2, ..Options::default() };
    let deep_fields = r#"{"id":"d1","timestamp":1551461674000,"message":"deep metadata","extractedFields":{"a":{"b":{"c":1}}}}"#;
    let records = vec![
        envelope(
            "g",
            "s",
            &[
                (6, "{\"a\":{\"b\":1}}"),
                (7, "{\"a\":{\"b\":[1]}}"),
                (8, "{\"log\":\"{\\\"x\\\":{\\\"y\\\":{}}}\"}"),
                (9, &format!("{}{}", "[".repeat(130), "]".repeat(130))),
            ],
        )
        .into_bytes(),
        format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","flat":{{"a":1}},"logEvents":[{deep_fields}]}}"#
        )
        .into_bytes(),
    ];
    cases.push(built("extra-depth", REQUEST_MS, &records, shallow, 0));

    // Edges of events, messages, alerts and envelopes, one record each.
    let message = |n: u32, message: &str| {
        format!(
            r#"{{"id":"e{n}","timestamp":1551461674{n:03},"message":{}}}"#,
            serde_json::to_string(message).expect("a string serializes")
        )
    };
    let access = |fields: &str| {
        format!(
            r#"{{"log":{},"kubernetes":{{"pod_name":"revproxy-1"}}}}"#,
            serde_json::to_string(&format!("{{{fields}}}\n")).expect("a string serializes")
        )
    };
    let records = vec![
        // Timestamps at and beyond the range every host carries, negative,
        // fractional, and events that fail in other ways first.
        raw_envelope("s", r#"{"id":"t0","timestamp":0,"message":"first instant"},{"id":"t1","timestamp":4294967295999,"message":"last instant"},{"id":"t2","timestamp":-1,"message":"before 1970"},{"id":"t3","timestamp":4294967296000,"message":"after 2106"},{"id":"t4","timestamp":253402300799999,"message":"year 9999"},{"id":"t5","timestamp":-1.5,"message":"negative fraction"},{"id":"t6","timestamp":1e20,"message":"too big"},{"id":"t7","timestamp":null,"message":"null time"},{"id":null,"timestamp":1,"message":"null id"},{"id":true,"timestamp":1,"message":"bool id"},{"id":"t8","timestamp":1},{"id":1.50,"timestamp":1,"message":5},{"id" : 18446744073709551616,"message":"numeric id, no time"},{"id":"\u0000x","timestamp":1,"message":"NUL"},{"id":"o1","timestamp":1,"message":{"id":2.5,"n":[{"id":1e3}]}},{"timestamp":-7,"message":"no id, time out of range"},{"id":"t9","timestamp":"1","message":"time as a string"}"#).into_bytes(),
        // Entries of logEvents that are no event objects, and
        // extractedFields.
        raw_envelope("s", r#"42,null,"text",[1,2],true,{"id":"x1","timestamp":1551461674000,"message":"kept","extractedFields":{"@aws.account":"123456789012","@aws.region":"us-west-2"}},{"id":"x2","timestamp":1551461674000,"message":"{\"a\":1}","extractedFields":null}"#).into_bytes(),
        // Messages: a BOM before JSON, `log` not a string or not an object,
        // inner keys that the outer message already has, JSON null values,
        // numbers or escapes VRL refuses.
        raw_envelope("s", &[
            message(1, "\u{feff}{\"a\":1}"),
            message(2, r#"{"log":{"obj":1},"b":2}"#),
            message(3, r#"{"log":"[1,2]","c":3}"#),
            message(4, r#"{"log":"{\"stream\":\"inner\",\"d\":4}","stream":"outer","n":null}"#),
            message(5, "{}"),
            message(6, "{\"a\":1} trailing"),
            message(7, "\t\r\n {\"spaced\": true}\n"),
            message(8, r#"{"big":1e999,"ok":1}"#),
            message(9, r#"{"lone":"\ud800","ok":1}"#),
        ].join(",")).into_bytes(),
        // Alerts: the number as written (1e2, 65.50, -0), both fields as
        // numbers and strings, unreadable first fields, missing, null or
        // non-string payload fields.
        raw_envelope("revproxy-edges", &[
            message(10, &access(r#""response_secs":1e2,"http_request":"/a?b=c?d","date_access":5"#)),
            message(11, &access(r#""response_secs":65.50,"http_referer":null,"network_client_ip":["x"]"#)),
            message(12, &access(r#""response_secs":"99","http_response_time":" 61.5 ""#)),
            message(13, &access(r#""http_response_time":"NaN""#)),
            message(14, &access(r#""response_secs":60"#)),
            message(15, r#"{"response_secs":70,"kubernetes":{"pod_name":null},"log":"{\"response_secs\":1}"}"#),
            message(16, r#"{"log":"{\"response_secs\":80.25,\"kubernetes\":{\"pod_name\":\"inner-pod\"}}","kubernetes":"not an object"}"#),
            message(17, &access(r#""http_response_time":70.5"#)),
            message(18, &access(r#""response_secs":"fast","http_response_time":"66""#)),
            message(19, &access(r#""response_secs":"inf","http_response_time":62"#)),
            message(20, &access(r#""response_secs":true,"http_response_time":"-0.5e2""#)),
            message(21, r#"{"http_response_time":61,"log":"{\"response_secs\":\"90\"}"}"#),
        ].join(",")).into_bytes(),
        // Envelope fields: unknown ones (copied, nested), reserved names and
        // option keys (not copied), no messageType (a data message).
        br#"{"owner":"1","logGroup":"edges","logStream":"s","policyLevel":"ACCOUNT_LEVEL_POLICY","extra":{"nested":[1,{"x":null,"id":0.5}]},"id":"not copied","commons":"not copied","extractedFields":"not copied","gen3_cwlogs_commons":"not copied","logEvents":[{"id":"u1","timestamp":1,"message":"m"}]}"#.to_vec(),
        // Envelopes that are not: wrong types, a control message without
        // events, missing fields, metadata too large.
        br#"{"messageType":null,"logGroup":"g","logStream":"s","logEvents":[]}"#.to_vec(),
        br#"{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","subscriptionFilters":["a",1],"logEvents":[]}"#.to_vec(),
        br#"{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","logEvents":{"id":"1"}}"#.to_vec(),
        br#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs"}"#.to_vec(),
        br#"{"messageType":"DATA_MESSAGE","logGroup":"g","logEvents":[]}"#.to_vec(),
        br#"{"messageType":"DATA_MESSAGE","logStream":"s","logEvents":[]}"#.to_vec(),
        br#"{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s"}"#.to_vec(),
        format!(r#"{{"messageType":"DATA_MESSAGE","logGroup":"{}","logStream":"s","logEvents":[{{"id":"1","timestamp":1,"message":"m"}}]}}"#, "g".repeat(20_000)).into_bytes(),
        // Not JSON after all, JSON that is not an object, data that is no
        // JSON at all.
        b"{not json".to_vec(),
        b"\n\t {\"logEvents\":[]} ".to_vec(),
        b"  plain text".to_vec(),
        b"\x0c{\"form feed\":1}".to_vec(),
    ];
    let options = Options { commons: Some("edges-commons".into()), slow_threshold_secs: Some(60.0), ..Options::default() };
    cases.push(built("extra-edges", REQUEST_MS, &records, options, 0));

    // Several JSON values in one record, each read on its own: one that is
    // no envelope between two that are, the bad one first, a truncated
    // envelope before the next one, valid JSON that is no envelope with an
    // envelope start inside it, scalars and stray delimiters.
    let good = envelope("devplanetv1", "values", &[(40, "a"), (41, "b")]);
    let records = vec![
        format!("{good}\n{{\"not\":\"an envelope\"}}\n{good}\n").into_bytes(),
        format!("{{\"not\":\"an envelope\"}}\n{good}").into_bytes(),
        format!("{}\n{good}", &good[..120]).into_bytes(),
        format!("{}{good}", &good[..120]).into_bytes(),
        format!("{{\"messageType\":7,\"logEvents\":[\n{{\"id\":\"1\",\"timestamp\":1,\"message\":\"m\"}}]}}\n{good}").into_bytes(),
        // Valid JSON that is no envelope stays one value, whatever it holds.
        format!("{{\"wrapped\":{{\"messageType\":\"DATA_MESSAGE\",\"logEvents\":[]}}}} {good}\n[\n{good}\n]\n{good}").into_bytes(),
        format!("{good} 42 true \"text\" [1,{{\"a\":2}}] }} , {good}").into_bytes(),
        format!("{good}\n{{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":\"g\",\"logStream\":\"s\",\"logEvents\":[{{\"id\":\"1\",\"timestamp\":1,\"message\":\"\\ud800\"}},{{\"id\":\"2\",\"timestamp\":1,\"message\":\"fine\"}}]}}\n{good}").into_bytes(),
        format!("{good}\n{{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":\"g\",\"logStream\":\"s\",\"logEvents\":[{{\"id\":\"1\",\"timestamp\":1,\"message\":tru}},{{\"id\":\"2\",\"timestamp\":1,\"message\":\"fine\"}}]}}\n{good}").into_bytes(),
        // Whitespace longer than the program's window, between values and
        // after the last one.
        format!("{good}{}{{\"not\":\"an envelope\"}}{}", " ".repeat(3000), " ".repeat(300)).into_bytes(),
    ];
    cases.push(built("extra-values", REQUEST_MS, &records, Options::default(), 0));

    // A gzip member with a wrong CRC that inflates past the limit first.
    let mut corrupt = gzip(envelope("g", "s", &[(30, &"z".repeat(900))]).as_bytes());
    let crc_at = corrupt.len() - 8;
    corrupt[crc_at] ^= 0xff;
    cases.push(built("extra-corrupt", REQUEST_MS, &[corrupt], Options { max_decompressed_bytes: 700, ..Options::default() }, 0));

    // The event limit applies per envelope.
    let budget = Options { max_events_per_record: 3, ..Options::default() };
    let two = envelope("g", "s", &[(20, "a"), (21, "b")]);
    let four = envelope("g", "s", &[(22, "c"), (23, "d"), (24, "e"), (25, "f")]);
    cases.push(built(
        "extra-budget",
        REQUEST_MS,
        &[format!("{two}{two}").into_bytes(), format!("{two}{four}{two}").into_bytes(), four.into_bytes()],
        budget,
        0,
    ));

    // Data VRL cannot read in parts: invalid UTF-8 in one event.
    let mut broken = envelope("g", "s", &[(50, "good"), (51, "BAD byte"), (52, "good again")]).into_bytes();
    let at = broken.windows(3).position(|window| window == b"BAD").expect("marker");
    broken[at] = 0xff;
    // A member that inflates to nothing, between good ones.
    // Blank data, inflated or as the record held it, gives no entry.
    let records = vec![
        broken,
        gzip(b""),
        gzip(envelope("g", "s", &[(53, "after the empty member")]).as_bytes()),
        gzip(b" \n\t\r "),
        b" \r\n\t ".to_vec(),
        [gzip(b"  "), gzip(b"\n")].concat(),
        " ".repeat(1000).into_bytes(),
    ];
    cases.push(built("extra-unreadable", REQUEST_MS, &records, Options::default(), 0));

    // A request time past the range every host carries: error documents
    // have no time.
    cases.push(built(
        "extra-late-request",
        4_294_967_296_000,
        &[b"not json".to_vec(), envelope("g", "s", &[(60, "dated by itself")]).into_bytes()],
        Options::default(),
        0,
    ));
    cases.extend(ecs_cases());
    cases
}

/// The ecs schema's edges: what is derived from a message (Kubernetes
/// metadata with missing, null or odd values, the container id, the access
/// log inside `log` or the message itself, fields VRL cannot read), the
/// source account and region from `extractedFields` or the owner, envelope
/// fields (none optional present, unknown ones, names the schema uses), the
/// metadata bound, numeric ids, invalid events, alerts, and the depth limit.
fn ecs_cases() -> Vec<Case> {
    let event = |n: u32, message: &str, extracted: Option<&str>| {
        let extracted = extracted.map_or_else(String::new, |fields| format!(r#","extractedFields":{fields}"#));
        format!(
            r#"{{"id":"c{n}","timestamp":1551461674{n:03},"message":{}{extracted}}}"#,
            serde_json::to_string(message).expect("a string serializes")
        )
    };
    let messages = [
        r#"{"log":"plain\n","stream":"stdout","docker":{"container_id":"abc"},"kubernetes":{"pod_name":"p","pod_id":null,"namespace_name":5,"container_image":"img","labels":{"a":"b"},"host":"h","extra":1}}"#,
        r#"{"kubernetes":{},"docker":{"container_id":7}}"#,
        r#"{"kubernetes":"not an object","log":"{\"kubernetes\":{\"pod_name\":\"inner\"},\"docker\":{\"container_id\":\"inner-id\"}}"}"#,
        r#"{"log":" {\"kubernetes\":{\"container_name\":\"inner\",\"labels\":[1]}}"}"#,
        r#"{"gen3log":"nginx","response_secs":70,"http_request":"/x?y","kubernetes":{"pod_name":"revproxy-1"}}"#,
        r#"{"gen3log":"outer","log":"{\"gen3log\":\"inner\",\"user_id\":\"u\",\"response_secs\":\"61\"}"}"#,
        r#"{"gen3log":"outer","log":"{\"big\":1e999}"}"#,
        r#"{"gen3log":"outer","log":"[1,2]"}"#,
        r#"{"gen3log":"outer","log":"{not json"}"#,
        r#"{"docker":{"container_id":"d"},"kubernetes":{"pod_name":"p"},"log":"{\"docker\":{\"container_id\":\"inner\"},\"kubernetes\":{\"host\":\"n\"}}"}"#,
        r#"{"a":1,"a":{"kubernetes":1},"kubernetes":{"pod_name":"x","pod_name":"y"},"docker":{"container_id":"1","container_id":"2"}}"#,
        "gen3log",
        r#"{"gen3log":null}"#,
        r#"{"log":"{\"lone\":\"\\ud800\"}","gen3log":1}"#,
        r#"{"big":1e999,"kubernetes":{"pod_name":"p"},"gen3log":"x"}"#,
        r#"{"log":"{\"n\":1.50,\"deep\":{\"a\":[{}]}}","docker":"not an object"}"#,
    ];
    let mut events: Vec<String> = messages.iter().enumerate().map(|(n, message)| event(n as u32, message, None)).collect();
    let fields = [
        r#"{"@aws.account":"123456789012","@aws.region":"us-west-2"}"#,
        r#"{"@aws.account":5,"@aws.region":null}"#,
        r#"{"@aws.account":"999","deep":{"a":{"b":1}}}"#,
        r#"{"@aws.region":"eu-west-1"}"#,
        "null",
        r#"["@aws.account"]"#,
        r#"{"@aws.account":"a","@aws.account":"b"}"#,
        r#"{"id":12345678901234567890123,"@aws.account":"7"}"#,
        r#""text""#,
        r#"{"@aws.account":"888","shallow":{"a":1}}"#,
    ];
    events.extend(fields.iter().enumerate().map(|(n, fields)| event(50 + n as u32, "with fields", Some(fields))));
    let records = vec![
        raw_envelope("revproxy-ecs", &events.join(",")).into_bytes(),
        // No owner and no subscription filters; unknown fields, and names the
        // schema uses itself.
        br#"{"messageType":"DATA_MESSAGE","logGroup":"edges","logStream":"s","policyLevel":"ACCOUNT_LEVEL_POLICY","log_group":"x","log_stream":"y","extracted_fields":"z","nested":{"a":[1,{"b":2}]},"gen3_cwlogs_commons":"no","firehose":"no","labels":"kept","logEvents":[{"id":"u1","timestamp":1,"message":"m"}]}"#.to_vec(),
        br#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"edges","logStream":"s","subscriptionFilters":[],"logEvents":[{"id":"u2","timestamp":2,"message":"m","extractedFields":{"@aws.account":"42"}}]}"#.to_vec(),
        format!(r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"{}","logStream":"s","logEvents":[{{"id":"1","timestamp":1,"message":"m"}}]}}"#, "g".repeat(20_000)).into_bytes(),
        r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":-12,"timestamp":1551461674000,"message":"negative"},{"id":9223372036854775808,"timestamp":1551461674001,"message":"u64"},{"id":"ok","timestamp":-1,"message":"before 1970"},42,{"id":"ok2","timestamp":1,"message":{"not":"a string"}},{"id":"ok3","timestamp":1,"message":"fine"}]}"#.as_bytes().to_vec(),
        b"{\"not\":\"an envelope\"}\n{\"messageType\":\"CONTROL_MESSAGE\",\"owner\":\"CloudwatchLogs\",\"logGroup\":\"\",\"logStream\":\"\",\"logEvents\":[]}".to_vec(),
    ];
    let ecs = Options { schema: gen3_cwlogs::Schema::Ecs, slow_threshold_secs: Some(60.0), ..Options::default() };
    let mut cases = vec![built("extra-ecs", REQUEST_MS, &records, ecs, 0)];

    // A shallow depth limit: messages, access logs, Kubernetes labels,
    // extractedFields and envelope fields at and past it.
    let shallow = Options { schema: gen3_cwlogs::Schema::Ecs, max_json_depth: 2, commons: Some("shallow".into()), ..Options::default() };
    let events = [
        event(1, r#"{"kubernetes":{"pod_name":"p"}}"#, Some(r#"{"@aws.account":"1","x":{"y":1}}"#)),
        event(2, r#"{"kubernetes":{"labels":{"a":1}}}"#, Some(r#"{"@aws.account":"2","x":{"y":{"z":1}}}"#)),
        event(3, r#"{"log":"{\"a\":{\"b\":1}}","docker":{"container_id":"c"}}"#, None),
        event(4, r#"{"log":"{\"a\":{\"b\":[1]}}","gen3log":"x"}"#, None),
    ];
    let records = vec![
        format!(r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","deep":{{"a":{{"b":1}}}},"flat":{{"a":1}},"logEvents":[{}]}}"#, events.join(",")).into_bytes(),
    ];
    cases.push(built("extra-ecs-depth", REQUEST_MS, &records, shallow, 0));
    cases
}

fn workload_cases() -> Vec<Case> {
    let alerting = Options {
        commons: Some("devplanetv1".into()),
        slow_threshold_secs: Some(30.0),
        alert_streams: Options::GEN3_ALERT_STREAMS.iter().map(|s| (*s).to_owned()).collect(),
        ..Options::default()
    };
    let ecs = Options { schema: gen3_cwlogs::Schema::Ecs, ..alerting.clone() };
    [
        (Form::Firehose, 11, alerting.clone()),
        (Form::Kinesis, 12, Options::default()),
        (Form::S3Archive, 13, alerting),
        (Form::Firehose, 14, ecs),
    ]
    .into_iter()
    .map(|(form, seed, options)| {
        let generated = generate(&Spec { form, records: 8, events_per_record: 40, seed, log_group: "devplanetv1".into() });
        case_of(&format!("workload-{form:?}-{seed}"), &generated.payload, options)
    })
    .collect()
}

/// Each case has its own Firehose access key, which picks its options, as
/// one Vector pipeline serves every commons.
fn access_key(case: &Case) -> String {
    format!("key-{}", case.name)
}

fn request<'a>(case: &'a Case, key: &'a str) -> Request<'a> {
    Request { request_id: &case.request_id, source_arn: SOURCE_ARN, access_key: Some(key), content_encoding: None, body: &case.body }
}

/// One pipeline for all `cases` (compiled once, as Vector does at startup).
fn pipeline_for(cases: &[Case]) -> Pipeline {
    let keys: Vec<String> = cases.iter().map(access_key).collect();
    let by_key: Vec<(&str, &Options)> = keys.iter().map(String::as_str).zip(cases.iter().map(|case| &case.options)).collect();
    let source = SourceConfig { access_keys: keys.clone(), ..SourceConfig::default() };
    Pipeline::shipped(source, &options_program(&by_key, None)).unwrap_or_else(|error| panic!("{error}"))
}

/// Top-level keys of a JSON object text, in order.
fn top_level_keys(text: &str) -> Vec<String> {
    struct Keys;
    impl<'de> serde::de::Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut keys = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<serde::de::IgnoredAny>()?;
                keys.push(key);
            }
            Ok(keys)
        }
    }
    serde::Deserializer::deserialize_map(&mut serde_json::Deserializer::from_str(text), Keys).expect("an object")
}

fn is_error_id(id: &str) -> bool {
    id.len() == 36 && id.starts_with("err-") && id[4..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Raw data by its encoding.
fn raw_bytes(document: &Value) -> Option<Vec<u8>> {
    let data = document["raw_data"].as_str()?;
    match document["raw_encoding"].as_str()? {
        "text" => Some(data.as_bytes().to_vec()),
        "base64" => base64::engine::general_purpose::STANDARD.decode(data).ok(),
        _ => None,
    }
}

/// A core entry with what the comparison needs of it.
struct CoreEntry<'a> {
    entry: &'a OwnedEntry,
    json: Value,
}

/// What a case's comparison needs to know besides the entries.
struct Context<'a> {
    case: &'a Case,
    /// Each record's data as Firehose carries it (base64 text).
    records: Vec<String>,
    /// Each record's data as the source handed it to the twin.
    messages: Vec<Vec<u8>>,
}

fn compare_case(pipeline: &mut Pipeline, case: &Case, totals: &mut Totals) {
    let name = case.name.as_str();
    let key = access_key(case);
    let core = gen3_cwlogs::decode(&case.body, &case.options).expect("the cases' options are valid");
    // The source once, then each record through the remaps, so the test
    // also knows what the source handed over for each record.
    let events = match source::receive(&pipeline.source, &request(case, &key)) {
        Ok(events) => events,
        Err(rejection) => return totals.fail(name, format!("the source rejected the delivery: {rejection:?}")),
    };
    let messages: Vec<Vec<u8>> = events.iter().map(|event| event.message.clone()).collect();
    let mut twin = Vec::new();
    for (index, event) in events.into_iter().enumerate() {
        if let Err(error) = pipeline.run_record(index, event, &mut |record, event| twin.push(strip_routing(record, event.value))) {
            return totals.fail(name, format!("the twin failed on record {index}: {error}"));
        }
    }
    let records: Vec<String> = serde_json::from_slice::<Value>(&case.body).expect("a delivery")["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|record| record["data"].as_str().unwrap_or_default().to_owned())
        .collect();
    totals.deliveries += 1;
    totals.records += records.len();
    // `PARITY_SHOW=<case name>` prints what the twin emitted for that case.
    if std::env::var("PARITY_SHOW").is_ok_and(|show| show == name) {
        for event in &twin {
            println!(
                "{name} record {} {:?} route {:?} time {:?}: {}",
                event.record_index, event.kind, event.route, event.time_ms, event.body
            );
        }
    }

    // What every twin event must be, whatever the core did.
    for event in &twin {
        if !matches!(event.kind.as_deref(), Some("document" | "alert" | "error")) {
            totals.fail(name, format!("twin event without a known _cwlogs_kind: {event:?}"));
        }
        if event.time_not_timestamp {
            totals.fail(name, format!("_cwlogs_time is not a timestamp in {}", event.body));
        }
        if event.time_ms.is_some_and(|millis| !(MIN_EVENT_MILLIS..=MAX_EVENT_MILLIS).contains(&millis)) {
            totals.fail(name, format!("_cwlogs_time {:?} is outside the range every host carries: {}", event.time_ms, event.body));
        }
        if let Some(key) = event.body.as_object().and_then(|object| object.keys().find(|key| key.starts_with("_cwlogs_"))) {
            totals.fail(name, format!("routing field {key} reaches the sinks"));
        }
    }
    for entry in &core.entries {
        if entry.time_ms.is_some_and(|millis| !(MIN_EVENT_MILLIS..=MAX_EVENT_MILLIS).contains(&millis)) {
            totals.fail(name, format!("the core's time {:?} is outside its own range: {}", entry.time_ms, entry.json));
        }
    }

    // The core's entries by record, in order: every entry names its record
    // (`record_index`), as its JSON does (a document in
    // `firehose.recordIndex`, or `aws.firehose.record_index` in the ecs
    // schema, an error in `error.record_index`; checked where they are
    // compared); an alert follows its document.
    let mut core_by_record: Vec<Vec<CoreEntry<'_>>> = (0..records.len()).map(|_| Vec::new()).collect();
    let mut last_record = None;
    for entry in &core.entries {
        let json: Value = serde_json::from_str(&entry.json).expect("core output is JSON");
        let record = entry.record_index;
        if record >= records.len() || (entry.kind == EntryKind::Alert && last_record != Some(record)) {
            return totals
                .fail(name, format!("core entry of no record of the delivery, or an alert apart from its document: {}", entry.json));
        }
        last_record = Some(record);
        core_by_record[record].push(CoreEntry { entry, json });
    }
    let mut twin_by_record: Vec<Vec<&TwinEvent>> = (0..records.len()).map(|_| Vec::new()).collect();
    for event in &twin {
        twin_by_record[event.record_index].push(event);
    }
    let context = Context { case, records, messages };
    for (record, (core_entries, twin_events)) in core_by_record.iter().zip(&twin_by_record).enumerate() {
        compare_record(&context, record, core_entries, twin_events, totals);
    }
}

/// One record's entries, in order.
fn compare_record(context: &Context<'_>, record: usize, core: &[CoreEntry<'_>], twin: &[&TwinEvent], totals: &mut Totals) {
    let name = context.case.name.as_str();
    let error_kind = |event: &TwinEvent| event.body["error"]["kind"].as_str().map(str::to_owned);
    if let [only] = twin {
        // Data that is not UTF-8, kept whole.
        if error_kind(only).as_deref() == Some("utf8") && std::str::from_utf8(&context.messages[record]).is_err() {
            totals.errors += 1;
            totals.covered += core.len();
            if raw_bytes(&only.body).as_deref() != Some(&context.messages[record][..]) || only.body["raw_encoding"] != "base64" {
                totals.fail(name, format!("record {record}: the utf8 error document does not hold the record's data: {}", only.body));
            }
            if core.iter().all(|entry| entry.entry.kind == EntryKind::Error && entry.json["error"]["envelope_index"].is_null()) {
                totals.fail(name, format!("record {record}: the core failed the whole record too, so the twin should match it"));
            }
            return totals.note(Difference::RecordNotUtf8);
        }
    }
    let (mut at_core, mut at_twin) = (0, 0);
    while at_core < core.len() || at_twin < twin.len() {
        let (Some(core_entry), Some(twin_event)) = (core.get(at_core), twin.get(at_twin)) else {
            let left: Vec<&str> = core[at_core..].iter().map(|entry| entry.entry.json.as_str()).collect();
            let twin_left: Vec<String> = twin[at_twin..].iter().map(|event| event.body.to_string()).collect();
            return totals.fail(name, format!("record {record}: entries left over:\n core {left:#?}\n twin {twin_left:#?}"));
        };
        // An envelope the twin kept whole where the core read it event by
        // event: the core's entries for the same text, decoded alone, are
        // what the twin's one error document stands for.
        let envelope_index = twin_event.body["error"]["envelope_index"].as_u64();
        let same_envelope_error = core_entry.entry.kind == EntryKind::Error
            && core_entry.json["error"]["envelope_index"].as_u64() == envelope_index
            && core_entry.json["error"]["event_index"].is_null();
        if twin_event.kind.as_deref() == Some("error")
            && error_kind(twin_event).as_deref() == Some("invalid-envelope")
            && envelope_index.is_some()
            && !same_envelope_error
        {
            match covered_by_whole_envelope(context, &core[at_core..], twin_event) {
                Ok(count) => {
                    totals.errors += 1;
                    totals.covered += count;
                    totals.note(Difference::EnvelopeReadWhole);
                    at_core += count;
                    at_twin += 1;
                    continue;
                }
                Err(message) => return totals.fail(name, format!("record {record}: {message}")),
            }
        }
        let kinds = (core_entry.entry.kind, twin_event.kind.as_deref());
        match kinds {
            (EntryKind::Document, Some("document")) => compare_document(name, core_entry, twin_event, totals),
            (EntryKind::Alert, Some("alert")) => compare_alert(name, core_entry, twin_event, totals),
            (EntryKind::Error, Some("error")) => compare_error(context, record, core_entry, twin_event, totals),
            _ => {
                return totals.fail(
                    name,
                    format!(
                        "record {record}: entry {at_core} differs in kind:\n core {}\n twin {:?} {}",
                        core_entry.entry.json, twin_event.kind, twin_event.body
                    ),
                );
            }
        }
        at_core += 1;
        at_twin += 1;
    }
}

/// How many of `core`'s entries the twin's whole-envelope error document
/// stands for: the core's output for that envelope's text alone, which must
/// hold something the twin could not read (an error), and be the next
/// entries.
fn covered_by_whole_envelope(context: &Context<'_>, core: &[CoreEntry<'_>], twin_error: &TwinEvent) -> Result<usize, String> {
    let raw = raw_bytes(&twin_error.body).ok_or_else(|| format!("twin error without raw data: {}", twin_error.body))?;
    let body = delivery_body(&context.case.request_id, REQUEST_MS, &[raw]);
    let alone = gen3_cwlogs::decode(&body, &context.case.options).expect("valid options");
    let summary = |kind: EntryKind, json: &Value, id: &str| match kind {
        EntryKind::Error => format!("error {} {}", json["error"]["kind"], json["error"]["event_index"]),
        _ => format!("{} {id}", kind.name()),
    };
    let expected: Vec<String> =
        alone.entries.iter().map(|entry| summary(entry.kind, &serde_json::from_str(&entry.json).expect("JSON"), &entry.id)).collect();
    let actual: Vec<String> =
        core.iter().take(expected.len()).map(|entry| summary(entry.entry.kind, &entry.json, &entry.entry.id)).collect();
    if alone.of_kind(EntryKind::Error).next().is_none() || expected != actual {
        return Err(format!(
            "the twin kept an envelope whole that the core reads otherwise:\n twin {}\n core alone {expected:#?}\n core here {actual:#?}",
            twin_error.body
        ));
    }
    Ok(expected.len())
}

/// Takes `firehose.recordIndex` out of a core document.
/// Takes the record index out of a core document: `firehose.recordIndex`,
/// or `aws.firehose.record_index` in an ecs document.
fn take_record_index(name: &str, document: &mut Value, expected: usize, totals: &mut Totals) {
    let taken = if is_ecs(document) {
        document["aws"].get_mut("firehose").and_then(Value::as_object_mut).and_then(|firehose| firehose.remove("record_index"))
    } else {
        document.get_mut("firehose").and_then(Value::as_object_mut).and_then(|firehose| firehose.remove("recordIndex"))
    };
    match taken {
        Some(index) if index.as_u64() == Some(expected as u64) => totals.note(Difference::FirehoseRecordIndex),
        other => totals.fail(name, format!("core record index {other:?} in {document}, twin record {expected}")),
    }
}

/// An ecs document (the core's `ecs` schema).
fn is_ecs(document: &Value) -> bool {
    document.get("@timestamp").is_some()
}

fn compare_document(name: &str, core: &CoreEntry<'_>, twin: &TwinEvent, totals: &mut Totals) {
    totals.documents += 1;
    let mut expected = core.json.clone();
    if is_ecs(&expected) {
        totals.ecs_documents += 1;
    }
    take_record_index(name, &mut expected, twin.record_index, totals);
    if expected != twin.body && message_refused_by_vrl(&twin.body) {
        totals.note(Difference::MessageRefusedByVrl);
        expected["message"] = twin.body["message"].clone();
    }
    if expected != twin.body && is_ecs(&expected) {
        // The ecs schema keeps the message as text, but derives fields from
        // it: those VRL cannot read are missing.
        let missing = ecs_fields_refused_by_vrl(&expected, &twin.body);
        if !missing.is_empty() {
            totals.note(Difference::MessageRefusedByVrl);
            let object = expected.as_object_mut().expect("a document is an object");
            for key in missing {
                object.remove(key);
            }
        }
    }
    if expected != twin.body {
        totals.fail(name, format!("document differs:\n core {expected}\n twin {}", twin.body));
    }
    let routing = (twin.route.as_deref(), twin.time_ms, twin.id.as_deref());
    if routing != (core.entry.commons.as_deref(), core.entry.time_ms, Some(core.entry.id.as_str())) {
        totals.fail(name, format!("document routing fields {routing:?} for {}", core.entry.json));
    }
    let keys = top_level_keys(&core.entry.json);
    let mut sorted = keys.clone();
    sorted.sort();
    if keys != sorted {
        totals.note(Difference::KeyOrder);
    }
}

fn compare_alert(name: &str, core: &CoreEntry<'_>, twin: &TwinEvent, totals: &mut Totals) {
    totals.alerts += 1;
    let alert = &core.json["alert"];
    if alert["slack_payload"] != twin.body {
        totals.fail(name, format!("alert differs:\n core {alert}\n twin {}", twin.body));
    }
    if (twin.route.as_deref(), twin.time_ms) != (core.entry.commons.as_deref(), core.entry.time_ms)
        || alert["commons"].as_str() != core.entry.commons.as_deref()
    {
        totals.fail(name, format!("alert routing {:?} {:?} for {}", twin.route, twin.time_ms, core.entry.json));
    }
    totals.note(Difference::AlertMetadata);
}

fn compare_error(context: &Context<'_>, record: usize, core: &CoreEntry<'_>, twin: &TwinEvent, totals: &mut Totals) {
    let name = context.case.name.as_str();
    totals.errors += 1;
    let mut expected = core.json.clone();
    let mut actual = twin.body.clone();
    take_record_index(name, &mut expected, record, totals);

    // id: the same form, another digest.
    let twin_id = actual["id"].as_str().unwrap_or_default().to_owned();
    if !is_error_id(&twin_id) || twin.id.as_deref() != Some(twin_id.as_str()) {
        totals.fail(name, format!("twin error id {twin_id:?} / _cwlogs_id {:?}", twin.id));
    }
    if twin_id != core.entry.id {
        totals.note(Difference::ErrorId);
    }
    // Routing: the commons, else "unknown"; the document's time.
    let route = core.entry.commons.as_deref().unwrap_or("unknown");
    if (twin.route.as_deref(), twin.time_ms) != (Some(route), core.entry.time_ms) {
        totals.fail(name, format!("error routing {:?} {:?} for {}", twin.route, twin.time_ms, core.entry.json));
    }
    // error.reason: the core's words where the twin can know them; the
    // record label has no index in the twin.
    let twin_reason = actual["error"]["reason"].as_str().unwrap_or_default().to_owned();
    let core_reason = core.entry.error.as_ref().map(|(_, reason)| reason.as_str()).unwrap_or_default();
    let core_reason = core_reason.replacen(&format!("Firehose record {record} of request"), "Firehose record of request", 1);
    if twin_reason.is_empty() {
        totals.fail(name, format!("twin error without a reason: {actual}"));
    }
    if twin_reason != core_reason {
        totals.note(Difference::ErrorReason);
    }
    // error.record_index: the twin's record.
    match expected["error"].as_object_mut().and_then(|error| error.remove("record_index")) {
        Some(index) if index.as_u64() == Some(record as u64) => totals.note(Difference::ErrorRecordIndex),
        other => totals.fail(name, format!("core error.record_index {other:?}, twin record {record}")),
    }
    // A corrupt member the core gave up on at the size limit; the source
    // handed the twin its raw gzip bytes.
    let message = &context.messages[record];
    let core_kind = core.entry.error.as_ref().map(|(kind, _)| *kind);
    let corrupt_over_limit =
        core_kind == Some(gen3_cwlogs::ErrorKind::TooLarge) && actual["error"]["kind"] == "gzip" && message.starts_with(&[0x1f, 0x8b]);
    if corrupt_over_limit {
        actual["error"]["kind"] = Value::from("too-large");
        totals.note(Difference::CorruptGzipOverLimit);
    }
    // Raw data.
    if core_kind == Some(gen3_cwlogs::ErrorKind::InvalidEvent) {
        // The event as received, or the same JSON value written again.
        let parse = |text: Option<&str>| text.and_then(|text| serde_json::from_str::<Value>(text).ok());
        if expected["raw_encoding"] != "text" || actual["raw_encoding"] != "text" {
            totals.fail(name, format!("invalid event raw data is not text:\n core {expected}\n twin {actual}"));
        } else if expected["raw_data"] != actual["raw_data"] {
            if parse(expected["raw_data"].as_str()).is_none() || parse(expected["raw_data"].as_str()) != parse(actual["raw_data"].as_str())
            {
                totals.fail(name, format!("invalid event raw data differs:\n core {}\n twin {}", expected["raw_data"], actual["raw_data"]));
            } else {
                totals.note(Difference::ErrorEventRawText);
            }
        }
    } else if expected["error"]["envelope_index"].is_u64() {
        // A JSON value of the record's data: exactly its text, in both.
        if (&expected["raw_encoding"], &expected["raw_data"]) != (&actual["raw_encoding"], &actual["raw_data"]) {
            totals.fail(
                name,
                format!(
                    "envelope raw data differs:\n core {} {}\n twin {} {}",
                    expected["raw_encoding"], expected["raw_data"], actual["raw_encoding"], actual["raw_data"]
                ),
            );
        }
    } else {
        // A record: the core carries the data as Firehose sent it (base64),
        // the twin what the source made of it.
        if (expected["raw_encoding"].as_str(), expected["raw_data"].as_str()) != (Some("text"), Some(context.records[record].as_str())) {
            totals.fail(name, format!("core raw data is not record {record}'s data: {expected}"));
        }
        let twin_bytes = match actual["raw_encoding"].as_str() {
            // A gzip member whose trailer names the record's data (its
            // CRC-32 and size): inflating a bomb again would only cost time.
            Some("gzip+base64") => actual["raw_data"]
                .as_str()
                .and_then(|data| base64::engine::general_purpose::STANDARD.decode(data).ok())
                .filter(|gzipped| {
                    let mut crc = flate2::Crc::new();
                    crc.update(message);
                    let mut trailer = crc.sum().to_le_bytes().to_vec();
                    trailer.extend((message.len() as u32).to_le_bytes());
                    gzipped.starts_with(&[0x1f, 0x8b]) && gzipped.ends_with(&trailer)
                })
                .map(|_| message.clone()),
            _ => raw_bytes(&actual),
        };
        let binary = std::str::from_utf8(message).is_err();
        // Gzip'd only when the twin itself found the data too large.
        let twin_too_large = core_kind == Some(gen3_cwlogs::ErrorKind::TooLarge) && !corrupt_over_limit;
        let encoding_ok = match actual["raw_encoding"].as_str() {
            Some("gzip+base64") => twin_too_large,
            Some("base64") => binary && !twin_too_large,
            _ => !binary && !twin_too_large,
        };
        if twin_bytes.as_deref() != Some(&message[..]) || !encoding_ok {
            totals.fail(name, format!("twin raw data ({}) is not what the source handed over for record {record}", actual["raw_encoding"]));
        }
        totals.note(if twin_too_large { Difference::ErrorRawGzipped } else { Difference::ErrorRawFromSource });
    }
    for document in [&mut expected, &mut actual] {
        let object = document.as_object_mut().expect("an error document is an object");
        for key in ["id", "raw_encoding", "raw_data"] {
            object.remove(key);
        }
        object.get_mut("error").and_then(Value::as_object_mut).map(|error| error.remove("reason"));
    }
    if expected != actual {
        totals.fail(name, format!("error document differs:\n core {expected}\n twin {actual}"));
    }
}

/// True when the twin kept a message as `{"log": text}` because its text is
/// a JSON object that only a reader accepting unreadable numbers or lone
/// surrogate escapes reads.
fn message_refused_by_vrl(document: &Value) -> bool {
    let Some(message) = document["message"].as_object() else { return false };
    let Some(text) = message.get("log").and_then(Value::as_str).filter(|_| message.len() == 1) else { return false };
    let refused = serde_json::from_str::<Value>(text).is_err_and(|error| {
        let error = error.to_string();
        error.contains("number out of range") || error.contains("surrogate") || error.contains("hex escape")
    });
    let syntactically_object = serde_json::from_str::<BTreeMap<String, Box<serde_json::value::RawValue>>>(text).is_ok();
    refused && syntactically_object
}

/// The ecs fields derived from a message that the twin lacks because VRL
/// refuses the text they come from (see [`refused_by_vrl`]): all of them
/// when it refuses the message, `gen3` when it refuses the access log in
/// `log`.
fn ecs_fields_refused_by_vrl(core: &Value, twin: &Value) -> Vec<&'static str> {
    let Some(message) = core["message"].as_str() else { return Vec::new() };
    let candidates: &[&'static str] = if refused_by_vrl(message) {
        &["kubernetes", "container", "gen3"]
    } else if serde_json::from_str::<Value>(message).ok().and_then(|value| value["log"].as_str().map(refused_by_vrl)) == Some(true) {
        &["gen3"]
    } else {
        &[]
    };
    candidates.iter().copied().filter(|key| core.get(*key).is_some() && twin.get(*key).is_none()).collect()
}

/// True when `text` is a JSON object that only a reader accepting
/// unreadable numbers (`1e999`) or lone surrogate escapes reads.
fn refused_by_vrl(text: &str) -> bool {
    let refused = serde_json::from_str::<Value>(text).is_err_and(|error| {
        let error = error.to_string();
        error.contains("number out of range") || error.contains("surrogate") || error.contains("hex escape")
    });
    refused && serde_json::from_str::<BTreeMap<String, Box<serde_json::value::RawValue>>>(text).is_ok()
}

/// The schemas the program writes (its `schema_names` line).
fn twin_schemas() -> Vec<String> {
    let source = program_source();
    let line = source.lines().find(|line| line.starts_with("schema_names = ")).expect("a schema_names line");
    serde_json::from_str(&line["schema_names = ".len()..]).expect("a JSON list")
}

#[test]
fn twin_equals_core_on_every_fixture_and_workload() {
    let all = fixture_cases();
    assert!(all.len() >= 20, "expected the fixtures of tests/fixtures, found {}", all.len());
    // A fixture of a schema the twin does not write (README) is left out, as
    // the config generator leaves such commons out of Vector; the transport
    // tests check that the twin refuses those options.
    let schemas = twin_schemas();
    let (fixtures, other_schema): (Vec<Case>, Vec<Case>) =
        all.into_iter().partition(|case| schemas.iter().any(|name| name == case.options.schema.name()));
    let fixture_count = fixtures.len();
    let mut totals = Totals::default();
    let cases: Vec<Case> = fixtures.into_iter().chain(extra_cases()).chain(workload_cases()).collect();
    let mut pipeline = pipeline_for(&cases);
    for case in &cases {
        compare_case(&mut pipeline, case, &mut totals);
    }
    println!(
        "parity: {} fixtures ({} of a schema the twin does not write left out: {:?}) + {} other deliveries, {} records ({} payload record(s) no stream could carry left out); compared {} documents ({} in the ecs schema), {} alerts, {} error documents ({} core entries stood for by whole-envelope or whole-record error documents); {} listed differences:",
        fixture_count,
        other_schema.len(),
        other_schema.iter().map(|case| case.name.as_str()).collect::<Vec<_>>(),
        totals.deliveries - fixture_count.min(totals.deliveries),
        totals.records,
        cases.iter().map(|case| case.left_out).sum::<usize>(),
        totals.documents,
        totals.ecs_documents,
        totals.alerts,
        totals.errors,
        totals.covered,
        totals.difference_total()
    );
    for (difference, count) in &totals.differences {
        println!("  {difference}: {count}");
    }
    assert!(totals.failures.is_empty(), "{} unlisted differences:\n{}", totals.failures.len(), totals.failures.join("\n\n"));
    // Every listed difference still occurs (else the list is stale).
    let seen: Vec<Difference> = totals.differences.keys().copied().collect();
    assert_eq!(
        seen,
        vec![
            Difference::KeyOrder,
            Difference::FirehoseRecordIndex,
            Difference::ErrorRecordIndex,
            Difference::ErrorId,
            Difference::ErrorReason,
            Difference::ErrorRawFromSource,
            Difference::ErrorRawGzipped,
            Difference::ErrorEventRawText,
            Difference::AlertMetadata,
            Difference::CorruptGzipOverLimit,
            Difference::MessageRefusedByVrl,
            Difference::EnvelopeReadWhole,
            Difference::RecordNotUtf8,
        ]
    );
    assert_eq!(totals.deliveries, cases.len());
    assert!(totals.documents > 500 && totals.alerts > 10 && totals.errors > 40, "too little compared");
}

/// The program type-checks the same whatever the upstream schema declares
/// (Vector compiles a remap against it, and an unneeded error handler is a
/// compile error), with no warning.
#[test]
fn the_program_compiles_against_any_upstream_schema_without_warnings() {
    let source = program_source();
    for schema in [VrlSchema::firehose_source(), VrlSchema::any()] {
        let remap = Remap::compile(&source, &schema).unwrap_or_else(|error| panic!("{error}"));
        assert!(remap.warnings.is_empty(), "{}", remap.warnings.join("\n"));
    }
}
