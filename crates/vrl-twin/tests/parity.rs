//! The VRL twin (`pipeline-configs/vector/cwlogs.vrl`) against the core.
//!
//! Every fixture of `tests/fixtures/` (and generated workloads) becomes the
//! Firehose delivery a stream would send for its records; the core decodes
//! that delivery (`gen3_cwlogs::decode`, the fixture's options) and the twin
//! runs in an imitation of Vector (Firehose source, options remap, the twin,
//! routing fields removed). Documents are compared as JSON values, alerts by
//! their Slack payload, error documents field by field. Each difference that
//! is known and accepted is normalised under a name, counted, and listed in
//! `pipeline-configs/vector/README.md`; anything else fails the test, and so
//! does a listed difference that no longer occurs.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use gen3_cwlogs::{Limits, Options, Output};
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
    /// Error reasons are worded from VRL's view (no record index, VRL's
    /// parser messages).
    ErrorReason,
    /// A record error's `raw_data` is the record's data as the source handed
    /// it over (base64-decoded, inflated when it could be), not the base64
    /// text Firehose sent.
    ErrorRawFromSource,
    /// A too-large record's raw data is stored gzip'd (`gzip+base64`).
    ErrorRawGzipped,
    /// An invalid event's `raw_data` is VRL's encoding of the event (keys
    /// sorted, numbers re-printed).
    ErrorEventRawText,
    /// Alerts are the Slack payload only; the core's alert also names the
    /// document id, commons, log group and seconds.
    AlertMetadata,
    /// A corrupt gzip record that inflates past the size limit before the
    /// corruption shows: the core stops at the limit (`too-large`); Vector
    /// inflates on, fails, and hands the twin the gzip bytes (`gzip`).
    CorruptGzipOverLimit,
    /// A message object holding a number no double can hold (`1e999`):
    /// VRL's parse_json refuses the whole message, so the twin keeps it as
    /// `{"log": text}`; the core keeps the object and that number's text as
    /// a string. Both keep every byte.
    UnreadableNumberMessage,
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
    alerts: usize,
    errors: usize,
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
        let parsed: Value = serde_json::from_slice(payload).expect("a delivery fixture is JSON");
        let request_id = parsed["requestId"].as_str().expect("the delivery has a requestId").to_owned();
        return Case { name: name.to_owned(), body: payload.to_vec(), request_id, options, left_out: records.left_out };
    }
    let request_id = format!("parity-{name}");
    Case { name: name.to_owned(), body: delivery_body(&request_id, REQUEST_MS, &records.data), request_id, options, left_out: records.left_out }
}

fn fixture_cases() -> Vec<Case> {
    // The plugin's own fixture set, read the way its harness reads it.
    gen3_cwlogs_harness::fixtures()
        .into_iter()
        .map(|fixture| case_of(&fixture.name, &fixture.input, fixture.options))
        .collect()
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

/// Records the fixtures do not have in this form: several gzip members in
/// one record (Vector inflates them as one stream), envelopes one after the
/// other with whitespace between them, a message nested deeper than the
/// limit, numeric ids in other spellings.
fn extra_cases() -> Vec<Case> {
    let first = envelope("devplanetv1", "revproxy-a", &[(1, "{\"log\":\"one\\n\",\"stream\":\"stdout\"}"), (2, "two")]);
    let second = envelope("devplanetv1", "fence-b", &[(3, "three")]);
    let bad_third = "{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":\"g\",\"logStream\":\"s\",\"logEvents\":[{\"id\":\"9\",";
    let deep = format!("{{\"deep\":{}1{}}}", "[".repeat(30), "]".repeat(30));
    let depths = envelope("devplanetv1", "depths", &[(4, &deep), (5, "{\"shallow\":[[[[1]]]],\"s\":\"[[[[[[[[[[[[[[[[[[[\"}")]);
    let numeric = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":-12,"timestamp":1551461674000,"message":"negative"},{"id":9223372036854775808,"timestamp":1551461674001,"message":"u64"},{"id":1.50,"timestamp":1551461674002,"message":"fraction"},{"id":2e3,"timestamp":1551461674003,"message":"exponent"}, {"id" : 18446744073709551616, "timestamp":1.5514616740045e12,"message":"spaced"}]}"#;
    let two_members = [gzip(first.as_bytes()), gzip(second.as_bytes())].concat();
    let records = vec![
        two_members,
        format!("{first}\n  {second}\r\n").into_bytes(),
        format!("{first}{second}{bad_third}").into_bytes(),
        format!("{first} 5").into_bytes(),
        depths.into_bytes(),
        numeric.as_bytes().to_vec(),
    ];
    let request_id = "parity-extra";
    let options = Options { slow_threshold_secs: Some(0.5), alert_streams: vec!["revproxy".into()], ..Options::default() };
    let mut cases = vec![Case { name: "extra".into(), body: delivery_body(request_id, REQUEST_MS, &records), request_id: request_id.into(), options, left_out: 0 }];
    // The same with a shallow depth limit: the exact depth check runs on
    // every JSON message.
    // A message deeper than serde_json's own limit (128) too.
    let shallow = Options { limits: Limits { max_json_depth: 2, ..Limits::default() }, ..Options::default() };
    let request_id = "parity-extra-depth";
    cases.push(Case {
        name: "extra-depth".into(),
        body: delivery_body(request_id, REQUEST_MS, &[envelope("g", "s", &[(6, "{\"a\":{\"b\":1}}"), (7, "{\"a\":{\"b\":[1]}}"), (8, "{\"log\":\"{\\\"x\\\":{\\\"y\\\":{}}}\"}"), (9, &format!("{}{}", "[".repeat(130), "]".repeat(130)))]).into_bytes()]),
        request_id: request_id.into(),
        options: shallow,
        left_out: 0,
    });
    // Edges of events, messages, alerts and envelopes, one record each.
    let raw_events = |events: &str| format!(r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"edges","logStream":"revproxy-edges","subscriptionFilters":["f"],"logEvents":[{events}]}}"#);
    let message = |n: u32, message: &str| format!(r#"{{"id":"e{n}","timestamp":1551461674{n:03},"message":{}}}"#, serde_json::to_string(message).expect("a string serializes"));
    let access = |fields: &str| format!(r#"{{"log":{},"kubernetes":{{"pod_name":"revproxy-1"}}}}"#, serde_json::to_string(&format!("{{{fields}}}\n")).expect("a string serializes"));
    let records = vec![
        // Timestamps at and beyond the ISO-8601 range, negative, fractional.
        raw_events(r#"{"id":"t1","timestamp":-1,"message":"before 1970"},{"id":"t2","timestamp":-62167219200000,"message":"year 0"},{"id":"t3","timestamp":253402300799999,"message":"year 9999"},{"id":"t4","timestamp":253402300800000,"message":"year 10000"},{"id":"t5","timestamp":-1.5,"message":"negative fraction"},{"id":"t6","timestamp":1e20,"message":"too big"},{"id":"t7","timestamp":null,"message":"null time"},{"id":null,"timestamp":1,"message":"null id"},{"id":true,"timestamp":1,"message":"bool id"},{"id":"t8","timestamp":1},{"id":1.50,"timestamp":1,"message":5},{"id" : 18446744073709551616,"message":"numeric id, no time"},{"id":"\u0000x","timestamp":1,"message":"NUL"},{"id":"o1","timestamp":1,"message":{"id":2.5,"n":[{"id":1e3}]}}"#).into_bytes(),
        // Messages: a BOM before JSON, `log` not a string or not an object,
        // inner keys that the outer message already has, JSON null values.
        raw_events(&[
            message(1, "\u{feff}{\"a\":1}"),
            message(2, r#"{"log":{"obj":1},"b":2}"#),
            message(3, r#"{"log":"[1,2]","c":3}"#),
            message(4, r#"{"log":"{\"stream\":\"inner\",\"d\":4}","stream":"outer","n":null}"#),
            message(5, "{}"),
            message(6, "{\"a\":1} trailing"),
            message(7, "\t\r\n {\"spaced\": true}\n"),
        ].join(",")).into_bytes(),
        // Alerts: the number as written (1e2, 65.50, -0), a numeric
        // response_secs beside a legacy string, fields missing, null, numbers.
        raw_events(&[
            message(10, &access(r#""response_secs":1e2,"http_request":"/a?b=c?d","date_access":5"#)),
            message(11, &access(r#""response_secs":65.50,"http_referer":null,"network_client_ip":["x"]"#)),
            message(12, &access(r#""response_secs":"99","http_response_time":" 61.5 ""#)),
            message(13, &access(r#""http_response_time":"NaN""#)),
            message(14, &access(r#""response_secs":60"#)),
            message(15, r#"{"response_secs":70,"kubernetes":{"pod_name":null},"log":"{\"response_secs\":1}"}"#),
            message(16, r#"{"log":"{\"response_secs\":80.25,\"kubernetes\":{\"pod_name\":\"inner-pod\"}}","kubernetes":"not an object"}"#),
        ].join(",")).into_bytes(),
        // Envelope fields: unknown ones (copied, nested), reserved names and
        // option keys (not copied), no messageType (a data message).
        br#"{"owner":"1","logGroup":"edges","logStream":"s","policyLevel":"ACCOUNT_LEVEL_POLICY","extra":{"nested":[1,{"x":null,"id":0.5}]},"id":"not copied","commons":"not copied","gen3_cwlogs_commons":"not copied","logEvents":[{"id":"u1","timestamp":1,"message":"m"}]}"#.to_vec(),
        // Envelopes that are not: wrong types, events that are not objects,
        // a control message without events.
        br#"{"messageType":null,"logGroup":"g","logStream":"s","logEvents":[]}"#.to_vec(),
        br#"{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","subscriptionFilters":["a",1],"logEvents":[]}"#.to_vec(),
        br#"{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","logEvents":{"id":"1"}}"#.to_vec(),
        br#"{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"m"},"not an event"]}"#.to_vec(),
        br#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs"}"#.to_vec(),
        br#"{"messageType":"DATA_MESSAGE","logGroup":"g","logEvents":[]}"#.to_vec(),
        format!(r#"{{"messageType":"DATA_MESSAGE","logGroup":"{}","logStream":"s","logEvents":[{{"id":"1","timestamp":1,"message":"m"}}]}}"#, "g".repeat(20_000)).into_bytes(),
        // Not JSON after all, and JSON that is not an object.
        b"{not json".to_vec(),
        b"\n\t {\"logEvents\":[]} ".to_vec(),
    ];
    let request_id = "parity-edges";
    let options = Options { commons: Some("edges-commons".into()), slow_threshold_secs: Some(60.0), ..Options::default() };
    cases.push(Case { name: "extra-edges".into(), body: delivery_body(request_id, REQUEST_MS, &records), request_id: request_id.into(), options, left_out: 0 });
    // A gzip member with a wrong CRC that inflates past the limit first.
    let mut corrupt = gzip(envelope("g", "s", &[(30, &"z".repeat(900))]).as_bytes());
    let crc_at = corrupt.len() - 8;
    corrupt[crc_at] ^= 0xff;
    let request_id = "parity-extra-corrupt";
    cases.push(Case {
        name: "extra-corrupt".into(),
        body: delivery_body(request_id, REQUEST_MS, &[corrupt]),
        request_id: request_id.into(),
        options: Options { limits: Limits { max_decompressed_bytes: 700, ..Limits::default() }, ..Options::default() },
        left_out: 0,
    });
    // The event budget of a record is shared by its envelopes.
    let budget = Options { limits: Limits { max_events_per_record: 3, ..Limits::default() }, ..Options::default() };
    let request_id = "parity-extra-budget";
    let two = envelope("g", "s", &[(20, "a"), (21, "b")]);
    cases.push(Case {
        name: "extra-budget".into(),
        body: delivery_body(request_id, REQUEST_MS, &[format!("{two}{two}").into_bytes(), format!("{two}{}", envelope("g", "s", &[(22, "c")])).into_bytes()]),
        request_id: request_id.into(),
        options: budget,
        left_out: 0,
    });
    cases
}

fn workload_cases() -> Vec<Case> {
    let alerting = Options {
        commons: Some("devplanetv1".into()),
        slow_threshold_secs: Some(30.0),
        alert_streams: Options::GEN3_ALERT_STREAMS.iter().map(|s| (*s).to_owned()).collect(),
        ..Options::default()
    };
    [(Form::Firehose, 11, alerting.clone()), (Form::Kinesis, 12, Options::default()), (Form::S3Archive, 13, alerting)]
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

/// Takes `firehose.recordIndex` out of a core document; it must name the
/// record the twin's event came from.
fn take_record_index(document: &mut Value, expected: usize, totals: &mut Totals, case: &str) {
    match document.get_mut("firehose").and_then(Value::as_object_mut).and_then(|firehose| firehose.remove("recordIndex")) {
        Some(index) if index.as_u64() == Some(expected as u64) => totals.note(Difference::FirehoseRecordIndex),
        other => totals.fail(case, format!("core firehose.recordIndex {other:?}, twin record {expected}")),
    }
}

fn compare_case(pipeline: &mut Pipeline, case: &Case, totals: &mut Totals) {
    let name = case.name.as_str();
    let key = access_key(case);
    let core: Output = gen3_cwlogs::decode(&case.body, &case.options);
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
            println!("{name} record {} {:?} route {:?} time {:?}: {}", event.record_index, event.kind, event.route, event.time_ms, event.body);
        }
    }

    let of_kind = |kind: &str| -> Vec<&TwinEvent> { twin.iter().filter(|event| event.kind.as_deref() == Some(kind)).collect() };
    let (documents, alerts, errors) = (of_kind("document"), of_kind("alert"), of_kind("error"));
    if documents.len() + alerts.len() + errors.len() != twin.len() {
        totals.fail(name, format!("twin events without a known _cwlogs_kind: {:?}", twin.iter().filter(|e| !matches!(e.kind.as_deref(), Some("document" | "alert" | "error"))).collect::<Vec<_>>()));
    }
    for event in &twin {
        if event.time_not_timestamp {
            totals.fail(name, format!("_cwlogs_time is not a timestamp in {}", event.body));
        }
        if let Some(key) = event.body.as_object().and_then(|object| object.keys().find(|key| key.starts_with("_cwlogs_"))) {
            totals.fail(name, format!("routing field {key} reaches the sinks"));
        }
    }
    if (documents.len(), alerts.len(), errors.len()) != (core.documents.len(), core.alerts.len(), core.errors.len()) {
        totals.fail(
            name,
            format!(
                "counts differ: core {} documents, {} alerts, {} errors; twin {}, {}, {}\ncore errors: {:#?}\ntwin errors: {:#?}",
                core.documents.len(),
                core.alerts.len(),
                core.errors.len(),
                documents.len(),
                alerts.len(),
                errors.len(),
                core.errors.iter().map(|error| &error.reason).collect::<Vec<_>>(),
                errors.iter().map(|error| &error.body["error"]).collect::<Vec<_>>(),
            ),
        );
        return;
    }

    for (core_document, twin_document) in core.documents.iter().zip(&documents) {
        totals.documents += 1;
        let mut expected: Value = serde_json::from_str(&core_document.json).expect("core output is JSON");
        take_record_index(&mut expected, twin_document.record_index, totals, name);
        if expected != twin_document.body && message_refused_by_vrl(&twin_document.body) {
            totals.note(Difference::UnreadableNumberMessage);
            expected["message"] = twin_document.body["message"].clone();
        }
        if expected != twin_document.body {
            totals.fail(name, format!("document differs:\n core {expected}\n twin {}", twin_document.body));
        }
        let routing = (twin_document.route.as_deref(), twin_document.time_ms, twin_document.id.as_deref());
        if routing != (Some(core_document.commons.as_str()), Some(core_document.timestamp_ms), Some(core_document.id.as_str())) {
            totals.fail(name, format!("document routing fields {routing:?} for {core_document:?}"));
        }
        let keys = top_level_keys(&core_document.json);
        let mut sorted = keys.clone();
        sorted.sort();
        if keys != sorted {
            totals.note(Difference::KeyOrder);
        }
    }

    for (core_alert, twin_alert) in core.alerts.iter().zip(&alerts) {
        totals.alerts += 1;
        let expected: Value = serde_json::from_str(&core_alert.slack_payload).expect("a Slack payload is JSON");
        if expected != twin_alert.body {
            totals.fail(name, format!("alert differs:\n core {expected}\n twin {}", twin_alert.body));
        }
        let document_time = core.documents.iter().find(|document| document.id == core_alert.document_id).map(|document| document.timestamp_ms);
        if (twin_alert.route.as_deref(), twin_alert.time_ms) != (Some(core_alert.commons.as_str()), document_time) {
            totals.fail(name, format!("alert routing {:?} {:?} for {core_alert:?}", twin_alert.route, twin_alert.time_ms));
        }
        totals.note(Difference::AlertMetadata);
    }

    for (core_error, twin_error) in core.errors.iter().zip(&errors) {
        totals.errors += 1;
        let mut expected: Value = serde_json::from_str(&core_error.json).expect("core output is JSON");
        let mut actual = twin_error.body.clone();
        let record = twin_error.record_index;
        take_record_index(&mut expected, record, totals, name);

        // id: the same form, another digest.
        let twin_id = actual["id"].as_str().unwrap_or_default().to_owned();
        if !is_error_id(&twin_id) || twin_error.id.as_deref() != Some(twin_id.as_str()) {
            totals.fail(name, format!("twin error id {twin_id:?} / _cwlogs_id {:?}", twin_error.id));
        }
        if twin_id != core_error.id {
            totals.note(Difference::ErrorId);
        }
        // Routing: the commons, else "unknown"; the document's time.
        let route = core_error.commons.as_deref().unwrap_or("unknown");
        if (twin_error.route.as_deref(), twin_error.time_ms) != (Some(route), core_error.timestamp_ms) {
            totals.fail(name, format!("error routing {:?} {:?} for {core_error:?}", twin_error.route, twin_error.time_ms));
        }
        // error.reason: worded differently, never empty.
        let twin_reason = actual["error"]["reason"].as_str().unwrap_or_default().to_owned();
        if twin_reason.is_empty() {
            totals.fail(name, format!("twin error without a reason: {actual}"));
        }
        if twin_reason != core_error.reason {
            totals.note(Difference::ErrorReason);
        }
        // error.record_index: the twin's record.
        match expected["error"].as_object_mut().and_then(|error| error.remove("record_index")) {
            Some(index) if index.as_u64() == Some(record as u64) => totals.note(Difference::ErrorRecordIndex),
            other => totals.fail(name, format!("core error.record_index {other:?}, twin record {record}")),
        }
        // A corrupt member the core gave up on at the size limit; the source
        // handed the twin its raw gzip bytes.
        let corrupt_over_limit = core_error.kind == gen3_cwlogs::ErrorKind::TooLarge
            && actual["error"]["kind"] == "gzip"
            && messages[record].starts_with(&[0x1f, 0x8b]);
        if corrupt_over_limit {
            actual["error"]["kind"] = Value::from("too-large");
            totals.note(Difference::CorruptGzipOverLimit);
        }
        // raw data.
        let core_raw = (expected["raw_encoding"].as_str().unwrap_or_default().to_owned(), expected["raw_data"].as_str().unwrap_or_default().to_owned());
        let twin_raw = (actual["raw_encoding"].as_str().unwrap_or_default().to_owned(), actual["raw_data"].as_str().unwrap_or_default().to_owned());
        if core_error.kind == gen3_cwlogs::ErrorKind::InvalidEvent {
            // The event as received: the same JSON value.
            let parse = |text: &str| serde_json::from_str::<Value>(text).ok();
            if core_raw.0 != "text" || twin_raw.0 != "text" || parse(&core_raw.1).is_none() || parse(&core_raw.1) != parse(&twin_raw.1) {
                totals.fail(name, format!("invalid event raw data differs:\n core {core_raw:?}\n twin {twin_raw:?}"));
            } else if core_raw.1 != twin_raw.1 {
                totals.note(Difference::ErrorEventRawText);
            }
        } else {
            // The core carries the record's data as Firehose sent it; the
            // twin what the source made of it.
            if core_raw != ("text".to_owned(), records[record].clone()) {
                totals.fail(name, format!("core raw data is not record {record}'s data: {core_raw:?}"));
            }
            let twin_bytes = match twin_raw.0.as_str() {
                "text" => Some(twin_raw.1.clone().into_bytes()),
                "base64" => base64::engine::general_purpose::STANDARD.decode(&twin_raw.1).ok(),
                // A gzip member whose trailer names the record's data (its
                // CRC-32 and size): inflating a bomb again would only cost
                // time.
                "gzip+base64" => base64::engine::general_purpose::STANDARD.decode(&twin_raw.1).ok().filter(|gzipped| {
                    let message = &messages[record];
                    let trailer = gzipped.len().checked_sub(8).map(|at| &gzipped[at..]);
                    let mut expected = gen3_cwlogs::crc32(message).to_le_bytes().to_vec();
                    expected.extend((message.len() as u32).to_le_bytes());
                    gzipped.starts_with(&[0x1f, 0x8b]) && trailer == Some(&expected[..])
                }).map(|_| messages[record].clone()),
                _ => None,
            };
            let binary = std::str::from_utf8(&messages[record]).is_err();
            // Gzip'd only when the twin itself found the data too large.
            let twin_too_large = core_error.kind == gen3_cwlogs::ErrorKind::TooLarge && !corrupt_over_limit;
            let encoding_ok = match twin_raw.0.as_str() {
                "gzip+base64" => twin_too_large,
                "base64" => binary && !twin_too_large,
                _ => !binary && !twin_too_large,
            };
            if twin_bytes.as_deref() != Some(&messages[record][..]) || !encoding_ok {
                totals.fail(name, format!("twin raw data ({}) is not what the source handed over for record {record}", twin_raw.0));
            }
            totals.note(if twin_raw.0 == "gzip+base64" { Difference::ErrorRawGzipped } else { Difference::ErrorRawFromSource });
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
}

fn gzip(data: &[u8]) -> Vec<u8> {
    gen3_cwlogs_workload::gzip(data)
}

#[test]
fn twin_equals_core_on_every_fixture_and_workload() {
    let fixtures = fixture_cases();
    assert!(fixtures.len() >= 20, "expected the fixtures of tests/fixtures, found {}", fixtures.len());
    let mut totals = Totals::default();
    let cases: Vec<Case> = fixtures.into_iter().chain(extra_cases()).chain(workload_cases()).collect();
    let fixture_count = cases.iter().filter(|case| !case.name.starts_with("workload") && !case.name.starts_with("extra")).count();
    let mut pipeline = pipeline_for(&cases);
    for case in &cases {
        compare_case(&mut pipeline, case, &mut totals);
    }
    println!(
        "parity: {} fixtures + {} other deliveries, {} records ({} payload record(s) no stream could carry left out); compared {} documents, {} alerts, {} error documents; {} listed differences:",
        fixture_count,
        totals.deliveries - fixture_count.min(totals.deliveries),
        totals.records,
        cases.iter().map(|case| case.left_out).sum::<usize>(),
        totals.documents,
        totals.alerts,
        totals.errors,
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
            Difference::UnreadableNumberMessage,
        ]
    );
    assert_eq!(totals.deliveries, cases.len());
    assert!(totals.documents > 500 && totals.alerts > 10 && totals.errors > 15, "too little compared");
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

/// True when the twin kept a message as `{"log": text}` because its text is
/// a JSON object that only a parser refusing out-of-range numbers rejects.
fn message_refused_by_vrl(document: &Value) -> bool {
    let Some(message) = document["message"].as_object() else { return false };
    let Some(text) = message.get("log").and_then(Value::as_str).filter(|_| message.len() == 1) else { return false };
    let parsed = serde_json::from_str::<Value>(text);
    let syntactically_object = serde_json::from_str::<std::collections::BTreeMap<String, Box<serde_json::value::RawValue>>>(text).is_ok();
    parsed.is_err_and(|error| error.to_string().contains("number out of range")) && syntactically_object
}
