//! Where Vector and the plugin must part ways, asserted one by one: these are
//! inputs a Firehose stream does not produce from CloudWatch Logs, or that
//! Vector's source treats per request where the decoder works per record.
//! Each is listed in pipeline-configs/vector/README.md. Also the options
//! mechanism (per access key, the core's names, defaults and validation)
//! and the source imitation's gzip body.

#[path = "../../../tests/support/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

use gen3_cwlogs::{EntryKind, OPTIONS, OptionKind, Options, Output};
use gen3_cwlogs_vrl_twin::delivery::delivery_body;
use gen3_cwlogs_vrl_twin::options::{options_literal, options_program};
use gen3_cwlogs_vrl_twin::source::{Rejection, Request, SourceConfig};
use gen3_cwlogs_vrl_twin::{Pipeline, TwinEvent, program_source};
use gen3_cwlogs_workload::gzip;
use serde_json::Value;

const KEY: &str = "transport-key";

/// The core's schemas the twin does not write (pipeline-configs/vector/
/// README.md would list them; the program refuses them by name): none.
const TWIN_LACKS: [&str; 0] = [];

fn envelope(stream: &str, messages: &[&str]) -> String {
    let events: Vec<String> = messages
        .iter()
        .enumerate()
        .map(|(n, message)| {
            format!("{{\"id\":\"{stream}-{n}\",\"timestamp\":1551461674000,\"message\":{}}}", serde_json::to_string(message).unwrap())
        })
        .collect();
    format!(
        "{{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"1\",\"logGroup\":\"g\",\"logStream\":\"{stream}\",\"subscriptionFilters\":[],\"logEvents\":[{}]}}",
        events.join(",")
    )
}

fn core(body: &[u8], options: &Options) -> Output {
    gen3_cwlogs::decode(body, options).expect("valid options")
}

fn core_counts(output: &Output) -> (usize, usize) {
    (output.of_kind(EntryKind::Document).count(), output.of_kind(EntryKind::Error).count())
}

fn core_error_kinds(output: &Output) -> Vec<&'static str> {
    output.entries.iter().filter_map(|entry| entry.error.as_ref().map(|(kind, _)| kind.name())).collect()
}

fn pipeline_with(source: SourceConfig, options_program: &str) -> Pipeline {
    Pipeline::shipped(source, options_program).unwrap_or_else(|error| panic!("{error}"))
}

fn pipeline(options: &Options) -> Pipeline {
    let source = SourceConfig { access_keys: vec![KEY.into()], ..SourceConfig::default() };
    pipeline_with(source, &options_program(&[(KEY, options)], None))
}

fn request(body: &[u8]) -> Request<'_> {
    Request {
        request_id: "transport",
        source_arn: "arn:aws:firehose:us-east-1:1:deliverystream/t",
        access_key: Some(KEY),
        content_encoding: None,
        body,
    }
}

fn twin(options: &Options, body: &[u8]) -> Vec<TwinEvent> {
    pipeline(options).deliver(&request(body)).unwrap_or_else(|error| panic!("the twin failed: {error}")).accepted()
}

fn refused(options: &Options, body: &[u8]) -> (Vec<TwinEvent>, Rejection) {
    let delivered = pipeline(options).deliver(&request(body)).unwrap_or_else(|error| panic!("the twin failed: {error}"));
    (delivered.events, delivered.rejection.expect("the source refuses the request"))
}

fn kinds(events: &[TwinEvent]) -> Vec<String> {
    events.iter().map(|event| event.kind.clone().unwrap_or_default()).collect()
}

fn error_kinds(events: &[TwinEvent]) -> Vec<String> {
    events
        .iter()
        .filter(|event| event.kind.as_deref() == Some("error"))
        .map(|event| event.body["error"]["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Firehose base64-encodes what it carries, so a record with invalid base64
/// only comes from another sender: the plugin makes it one error document;
/// Vector's source forwards the records before it, then refuses the request
/// (400), so a Firehose retry repeats those records (search deduplicates
/// them by `_id`; S3 and Slack get them twice).
#[test]
fn invalid_base64_forwards_the_records_before_it_then_refuses_the_request() {
    let good = |stream: &str| gzip(envelope(stream, &["a"]).as_bytes());
    let mut body = String::from_utf8(delivery_body("transport", 1, &[good("first"), good("second"), good("third")])).unwrap();
    let second = body.find("\"},{\"data\":\"").expect("a second record") + "\"},{\"data\":\"".len();
    body.insert_str(second, "not base64!");
    let output = core(body.as_bytes(), &Options::default());
    assert_eq!(core_counts(&output), (2, 1));
    assert_eq!(core_error_kinds(&output), ["base64"]);
    let (forwarded, rejection) = refused(&Options::default(), body.as_bytes());
    assert_eq!(rejection.status, 400);
    assert_eq!(rejection.forwarded.len(), 1, "the first record went through before the refusal");
    assert_eq!(kinds(&forwarded), ["document"]);
    assert_eq!(forwarded[0].body["logStream"], "first");
}

/// Vector inflates a record's gzip members as one stream and, when that
/// fails, passes the record on as it came: bytes after a member (garbage or
/// zero padding) lose the whole record to one `gzip` error document, where
/// the plugin decodes the members before them (and skips zero padding).
#[test]
fn bytes_after_a_gzip_member_lose_the_record() {
    let member = gzip(envelope("s", &["a", "b"]).as_bytes());
    for trailer in [&b"garbage"[..], &[0u8; 8][..]] {
        let record = [member.clone(), trailer.to_vec()].concat();
        let body = delivery_body("transport", 1, &[record]);
        let output = core(&body, &Options::default());
        let twin = twin(&Options::default(), &body);
        assert_eq!(core_counts(&output).0, 2);
        assert_eq!(kinds(&twin), ["error"]);
        assert_eq!(error_kinds(&twin), ["gzip"]);
        if trailer[0] == 0 {
            assert!(core_error_kinds(&output).is_empty());
        } else {
            assert_eq!(core_error_kinds(&output), ["gzip"]);
        }
    }
}

/// The plugin applies `max_decompressed_bytes` to each gzip member and each
/// JSON value; the twin only sees the record's data inflated as a whole (all
/// members together), and applies it to that, before parsing anything.
#[test]
fn the_size_limit_covers_the_whole_record_in_the_twin() {
    let options = Options { max_decompressed_bytes: 400, ..Options::default() };
    let one = envelope("s", &["x".repeat(100).as_str()]);
    assert!(one.len() < 400 && 2 * one.len() > 400);
    // Two members, and two envelopes in plain JSON (Firehose with
    // decompression on), each under the limit, together over it.
    let records = [[gzip(one.as_bytes()), gzip(one.as_bytes())].concat(), format!("{one}{one}").into_bytes()];
    for record in records {
        let body = delivery_body("transport", 1, &[record]);
        let output = core(&body, &options);
        assert_eq!(core_counts(&output), (2, 0));
        assert_eq!(error_kinds(&twin(&options, &body)), ["too-large"]);
    }
}

/// Vector's source needs the request's `timestamp` as an integer of
/// milliseconds (Firehose always sends one); the plugin takes any number.
#[test]
fn a_fractional_request_timestamp_is_refused_by_vector() {
    let body = String::from_utf8(delivery_body("transport", 1551461675000, &[envelope("s", &["a"]).into_bytes()])).unwrap();
    let body = body.replace("1551461675000", "1551461675000.5");
    assert_eq!(core_counts(&core(body.as_bytes(), &Options::default())).0, 1);
    let (forwarded, rejection) = refused(&Options::default(), body.as_bytes());
    assert_eq!((forwarded.len(), rejection.status), (0, 401));
}

/// VRL numbers are 64-bit integers and doubles: an integer in a message
/// beyond the signed 64-bit range becomes a double (the value a search
/// engine indexes anyway), while the plugin copies the digits. Event ids,
/// where digits matter, are kept (see the parity test's numeric ids).
#[test]
fn message_integers_beyond_64_bits_become_doubles() {
    let body = delivery_body(
        "transport",
        1,
        &[envelope(
            "s",
            &[r#"{"small":9223372036854775807,"big":18446744073709551615,"huge":123456789012345678901234567890,"float":1.10}"#],
        )
        .into_bytes()],
    );
    let output = core(&body, &Options::default());
    let twin = twin(&Options::default(), &body);
    let document = &output.entries[0].json;
    let core_message: Value = serde_json::from_str::<Value>(document).unwrap()["message"].clone();
    let twin_message = &twin[0].body["message"];
    assert!(document.contains("\"big\":18446744073709551615,\"huge\":123456789012345678901234567890,\"float\":1.10"));
    assert_eq!(twin_message["small"], core_message["small"]);
    assert_eq!(twin_message["big"].as_f64(), Some(18446744073709551615u64 as f64));
    assert!(twin_message["big"].is_f64() && core_message["big"].is_u64());
    assert_eq!(twin_message["huge"], core_message["huge"]);
    assert_eq!(twin_message["float"], core_message["float"]);
    let twin_text = serde_json::to_string(twin_message).unwrap();
    assert!(!twin_text.contains("123456789012345678901234567890") && !twin_text.contains("1.10"));
}

/// The options come from the access key: each key its commons, threshold
/// and streams; a key the options program does not know gets the defaults.
#[test]
fn options_follow_the_access_key() {
    let slow = r#"{"log":"{\"response_secs\":70.5}\n","kubernetes":{"pod_name":"revproxy-1"}}"#;
    let body = delivery_body("transport", 1, &[envelope("revproxy-x", &[slow]).into_bytes()]);
    let first = Options { commons: Some("first".into()), slow_threshold_secs: Some(65.0), ..Options::default() };
    let second = Options {
        commons: Some("second".into()),
        slow_threshold_secs: Some(65.0),
        alert_streams: vec!["fence".into()],
        ..Options::default()
    };
    let source = SourceConfig { access_keys: vec!["k1".into(), "k2".into(), "k3".into()], ..SourceConfig::default() };
    let mut pipeline = pipeline_with(source, &options_program(&[("k1", &first), ("k2", &second)], None));
    let mut deliver = |key: &str| pipeline.deliver(&Request { access_key: Some(key), ..request(&body) }).unwrap();
    let by_first = deliver("k1").accepted();
    assert_eq!(kinds(&by_first), ["document", "alert"]);
    assert_eq!(by_first[0].body["commons"], "first");
    assert_eq!(by_first[1].route.as_deref(), Some("first"));
    let by_second = deliver("k2").accepted();
    assert_eq!(kinds(&by_second), ["document"], "the stream is not one the second commons checks");
    assert_eq!(by_second[0].body["commons"], "second");
    let by_third = deliver("k3").accepted();
    assert_eq!(kinds(&by_third), ["document"]);
    assert_eq!(by_third[0].body["commons"], "g", "no options: the log group");
    // The source refuses unknown or missing keys before any VRL runs.
    for key in [None, Some("k4")] {
        let rejection = pipeline.deliver(&Request { access_key: key, ..request(&body) }).unwrap().rejection.expect("refused");
        assert_eq!((rejection.status, rejection.forwarded.len()), (401, 0));
    }
}

/// A delivery with GZIP content encoding reaches the twin as the same events.
#[test]
fn a_gzip_request_body_gives_the_same_events() {
    let body =
        delivery_body("transport", 1551461675000, &[gzip(envelope("s", &["a", "{\"b\":1}"]).as_bytes()), b"not an envelope".to_vec()]);
    let plain = twin(&Options::default(), &body);
    let gzipped = gzip(&body);
    let encoded =
        pipeline(&Options::default()).deliver(&Request { content_encoding: Some("gzip"), ..request(&gzipped) }).unwrap().accepted();
    assert_eq!(kinds(&plain), ["document", "document", "error"]);
    assert_eq!(plain, encoded);
    let unsupported = pipeline(&Options::default()).deliver(&Request { content_encoding: Some("br"), ..request(&body) }).unwrap();
    assert_eq!(unsupported.rejection.map(|rejection| rejection.status), Some(400));
    assert!(unsupported.events.is_empty());
}

/// With `log_schema.timestamp_key: _cwlogs_time` (so sink templates date by
/// each document's own time) the request time arrives in `._cwlogs_time`;
/// the output is the same.
#[test]
fn the_request_time_is_read_from_either_timestamp_key() {
    let body = delivery_body("transport", 1551461675000, &[envelope("s", &["a"]).into_bytes(), b"not an envelope".to_vec()]);
    let usual = twin(&Options::default(), &body);
    let source = SourceConfig { access_keys: vec![KEY.into()], timestamp_key: "_cwlogs_time".into(), ..SourceConfig::default() };
    let moved = pipeline_with(source, &options_program(&[(KEY, &Options::default())], None)).deliver(&request(&body)).unwrap().accepted();
    assert_eq!(usual, moved);
    assert_eq!(usual[1].body["firehose"]["timestamp"], 1551461675000i64);
    assert_eq!(usual[1].time_ms, Some(1551461675000));
}

/// A record inflating past Vector's global decompressed-size cap (100 MiB by
/// default) makes the source refuse the request after forwarding the
/// records before it; the plugin stops at its own limit and writes one
/// `too-large` error document.
#[test]
fn a_record_over_vectors_cap_refuses_the_request() {
    let big = gzip(&vec![b' '; 64 * 1024]);
    let body = delivery_body("transport", 1, &[gzip(envelope("s", &["a"]).as_bytes()), big, gzip(envelope("s", &["b"]).as_bytes())]);
    let options = Options { max_decompressed_bytes: 16 * 1024, ..Options::default() };
    let output = core(&body, &options);
    assert_eq!(core_counts(&output), (2, 1));
    assert_eq!(core_error_kinds(&output), ["too-large"]);
    // The cap scaled down with the record: 32 KiB instead of 100 MiB.
    let source = SourceConfig { access_keys: vec![KEY.into()], max_decompressed_bytes: 32 * 1024, ..SourceConfig::default() };
    let delivered = pipeline_with(source, &options_program(&[(KEY, &options)], None)).deliver(&request(&body)).unwrap();
    assert_eq!(delivered.rejection.map(|rejection| (rejection.status, rejection.forwarded.len())), Some((400, 1)));
    assert_eq!(kinds(&delivered.events), ["document"]);
}

/// The shipped example of the options remap compiles, and each of its keys
/// selects its commons' options.
#[test]
fn the_example_options_program_selects_by_key() {
    let slow = r#"{"log":"{\"response_secs\":40.5}\n","kubernetes":{"pod_name":"revproxy-1"}}"#;
    let body = delivery_body("transport", 1, &[envelope("revproxy-x", &[slow]).into_bytes()]);
    let keys = ["SECRET[firehose_keys.devplanetv1]", "SECRET[firehose_keys.qaplanetv1]", "SECRET[firehose_keys.data-commons-prod]"];
    let source = SourceConfig { access_keys: keys.iter().map(|key| (*key).to_owned()).collect(), ..SourceConfig::default() };
    let mut pipeline = pipeline_with(source, &example_options_program());
    let mut by_key = Vec::new();
    for key in keys {
        let events = pipeline.deliver(&Request { access_key: Some(key), ..request(&body) }).unwrap().accepted();
        by_key.push((events[0].body["commons"].as_str().unwrap_or_default().to_owned(), kinds(&events)));
    }
    // 40.5 s: over qaplanetv1's 30 s, under devplanetv1's 65 s; no alerts
    // for data-commons-prod.
    assert_eq!(
        by_key,
        [
            ("devplanetv1".to_owned(), vec!["document".to_owned()]),
            ("qaplanetv1".to_owned(), vec!["document".to_owned(), "alert".to_owned()]),
            ("data-commons-prod".to_owned(), vec!["document".to_owned()]),
        ]
    );
}

fn example_options_program() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pipeline-configs/vector/options.example.vrl");
    std::fs::read_to_string(path).expect("options.example.vrl")
}

/// The example is the form `options_program` writes (the config generator
/// writes the same; pipeline-configs/tests/test_vector.py compares them):
/// for the example commons list, the same statements, comments aside. The
/// options come from pipeline-configs/commons.example.json.
#[test]
fn the_example_options_program_is_what_options_program_writes() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pipeline-configs/commons.example.json");
    let list: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("commons.example.json")).expect("JSON");
    let by_commons: Vec<(String, Options)> = list["commons"]
        .as_array()
        .expect("a commons list")
        .iter()
        .map(|commons| {
            let name = commons["name"].as_str().expect("a name").to_owned();
            let mut options = Options { commons: Some(name.clone()), ..Options::default() };
            // A number or a string, as the list's schema allows.
            match &commons["threshold"] {
                Value::Null => {}
                Value::String(text) => options.set("slow_threshold_secs", text).expect("a valid threshold"),
                number => options.set("slow_threshold_secs", &number.to_string()).expect("a valid threshold"),
            }
            if let Some(streams) = commons["alert_streams"].as_array() {
                options.alert_streams = streams.iter().map(|stream| stream.as_str().expect("a stream").to_owned()).collect();
            }
            (format!("SECRET[firehose_keys.{name}]"), options)
        })
        .collect();
    let by_key: Vec<(&str, &Options)> = by_commons.iter().map(|(key, options)| (key.as_str(), options)).collect();
    let statements = |program: &str| -> Vec<String> {
        program.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')).map(str::to_owned).collect()
    };
    assert_eq!(statements(&example_options_program()), statements(&options_program(&by_key, None)));
    assert!(example_options_program().contains("remove_secret(\"aws_kinesis_firehose_access_key\")"));
}

/// The access key leaves the event before anything else runs, so no buffer
/// downstream persists it (`remove_secret` right after `get_secret`).
#[test]
fn no_event_carries_the_access_key_after_the_options_remap() {
    let body = delivery_body("transport", 1, &[envelope("s", &["a"]).into_bytes(), b"not an envelope".to_vec()]);
    for program in [options_program(&[(KEY, &Options::default())], None), example_options_program()] {
        let keys = vec![KEY.to_owned(), "SECRET[firehose_keys.devplanetv1]".to_owned()];
        let mut pipeline = pipeline_with(SourceConfig { access_keys: keys.clone(), ..SourceConfig::default() }, &program);
        for key in &keys {
            let mut secrets = Vec::new();
            pipeline
                .deliver_with(&Request { access_key: Some(key), ..request(&body) }, |_, event| {
                    secrets.push(event.secrets.get(gen3_cwlogs_vrl_twin::source::ACCESS_KEY_SECRET).map(|key| key.to_string()))
                })
                .unwrap()
                .expect("accepted");
            assert_eq!(secrets, [None, None], "{program}");
        }
    }
}

/// The defaults the program uses for an absent option are the core's
/// (gen3_cwlogs::OPTIONS): its `defaults`, `integer_bounds` and
/// `schema_names` literals equal the core's, so each default and bound is
/// stated once in truth and checked here.
#[test]
fn the_programs_option_literals_are_the_cores() {
    let source = program_source();
    let literal = |name: &str| -> Value {
        let line = source
            .lines()
            .find(|line| line.starts_with(&format!("{name} = ")))
            .unwrap_or_else(|| panic!("cwlogs.vrl has no `{name} = ...` line"));
        serde_json::from_str(&line[name.len() + 3..]).unwrap_or_else(|error| panic!("`{name}` is not a JSON literal: {error}"))
    };
    let mut defaults = serde_json::Map::new();
    let mut bounds = serde_json::Map::new();
    let mut schemas = Value::Null;
    for spec in &OPTIONS {
        let default = match (spec.kind, spec.default) {
            (OptionKind::StringList, _) => Value::Array(Vec::new()),
            (_, None) => Value::Null,
            (OptionKind::Integer { min, max }, Some(text)) => {
                bounds.insert(spec.name.to_owned(), serde_json::json!([min, max]));
                Value::from(text.parse::<u64>().expect("an integer default"))
            }
            (OptionKind::Enum(values), Some(text)) => {
                schemas = serde_json::json!(values);
                Value::from(text)
            }
            (_, Some(text)) => Value::from(text),
        };
        defaults.insert(spec.name.to_owned(), default);
    }
    assert_eq!(literal("defaults"), Value::Object(defaults));
    assert_eq!(literal("integer_bounds"), Value::Object(bounds));
    // The schemas it writes are the core's but those listed in
    // pipeline-configs/vector/README.md as not written by the twin.
    let twin_schemas = literal("schema_names");
    let lacking: Vec<&Value> =
        schemas.as_array().expect("names").iter().filter(|name| !twin_schemas.as_array().expect("names").contains(name)).collect();
    assert!(
        twin_schemas.as_array().expect("names").iter().all(|name| schemas.as_array().expect("names").contains(name)),
        "{twin_schemas} {schemas}"
    );
    assert!(
        lacking.iter().all(|name| TWIN_LACKS.iter().any(|lacks| name.as_str() == Some(lacks))),
        "the core writes schemas the twin does not and README does not list: {lacking:?}"
    );
    assert_eq!(twin_schemas[0], literal("defaults")["schema"], "the default schema is one the twin writes");
    // The event time range is the core's too.
    assert_eq!(literal("max_event_ms"), Value::from(gen3_cwlogs::MAX_EVENT_MILLIS));
    assert_eq!(gen3_cwlogs::MIN_EVENT_MILLIS, 0, "the program checks `>= 0`");
}

/// And the program uses them: with no options, with an empty options object
/// and with every default written out, every fixture gives the same events.
#[test]
fn absent_options_are_the_cores_defaults() {
    let fixtures = fixtures::fixtures();
    let programs = ["# No options at all.\n".to_owned(), options_program(&[], None), options_program(&[], Some(&Options::default()))];
    assert!(programs[2].contains("\"max_json_depth\": 64"), "{}", programs[2]);
    let mut results = Vec::new();
    for program in &programs {
        let mut pipeline = pipeline_with(SourceConfig::default(), program);
        let mut events = Vec::new();
        for fixture in &fixtures {
            let records = gen3_cwlogs_vrl_twin::delivery::records_of(&fixture.input);
            let body = if records.is_delivery { fixture.input.clone() } else { delivery_body("defaults", 1551461675000, &records.data) };
            let delivered = pipeline.deliver(&Request { access_key: None, ..request(&body) }).unwrap();
            events.push((fixture.name.clone(), delivered.events, delivered.rejection));
        }
        results.push(events);
    }
    assert!(results[0].iter().map(|(_, events, _)| events.len()).sum::<usize>() > 50, "too little decoded");
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
}

/// The program checks the options as the core's `Options::from_json` does
/// and, when one is refused, decodes nothing: each record becomes one
/// `invalid-options` error document naming the option (as the core does
/// with options a Fluent Bit record carries).
#[test]
fn options_are_refused_as_the_core_refuses_them() {
    let cases = [
        (r#"{}"#, None),
        (r#"{"commons":"c","slow_threshold_secs":65,"alert_streams":["revproxy","fence"],"schema":"cloudwatch"}"#, None),
        (r#"{"slow_threshold_secs":"65.5","alert_streams":"revproxy, fence","max_json_depth":"120"}"#, None),
        (r#"{"slow_threshold_secs":0,"max_decompressed_bytes":1073741824,"max_events_per_record":1,"alert_streams":[]}"#, None),
        (r#"{"commons":null,"slow_threshold_secs":null,"max_json_depth":null}"#, None),
        (r#"{"schema":"ecs","commons":"c"}"#, None),
        (r#"{"schema":" ecs "}"#, None),
        (r#"{"threshold":65}"#, Some("threshold")),
        (r#"{"commons":""}"#, Some("commons")),
        (r#"{"commons":"  "}"#, Some("commons")),
        (r#"{"slow_threshold_secs":-1}"#, Some("slow_threshold_secs")),
        (r#"{"slow_threshold_secs":"fast"}"#, Some("slow_threshold_secs")),
        (r#"{"slow_threshold_secs":"NaN"}"#, Some("slow_threshold_secs")),
        (r#"{"slow_threshold_secs":"inf"}"#, Some("slow_threshold_secs")),
        (r#"{"slow_threshold_secs":true}"#, Some("slow_threshold_secs")),
        (r#"{"alert_streams":["revproxy",""]}"#, Some("alert_streams")),
        (r#"{"alert_streams":["a,b"]}"#, Some("alert_streams")),
        (r#"{"alert_streams":[1]}"#, Some("alert_streams")),
        (r#"{"alert_streams":"revproxy,"}"#, Some("alert_streams")),
        (r#"{"schema":"ecs2"}"#, Some("schema")),
        (r#"{"max_json_depth":121}"#, Some("max_json_depth")),
        (r#"{"max_json_depth":0}"#, Some("max_json_depth")),
        (r#"{"max_json_depth":64.0}"#, Some("max_json_depth")),
        (r#"{"max_json_depth":"deep"}"#, Some("max_json_depth")),
        (r#"{"max_events_per_record":10000001}"#, Some("max_events_per_record")),
        (r#"{"max_decompressed_bytes":-5}"#, Some("max_decompressed_bytes")),
        (r#"{"max_decompressed_bytes":[1]}"#, Some("max_decompressed_bytes")),
    ];
    let body = delivery_body("transport", 1551461675000, &[envelope("s", &["a"]).into_bytes(), b"not an envelope".to_vec()]);
    for (options, refused) in cases {
        let core_refused = Options::from_json(options).err().map(|error| error.option);
        assert_eq!(core_refused.as_deref(), refused, "the core on {options}");
        // JSON texts without exponents are VRL literals too.
        let program = format!("%gen3_cwlogs = {options}\n");
        let events =
            pipeline_with(SourceConfig::default(), &program).deliver(&Request { access_key: None, ..request(&body) }).unwrap().accepted();
        match refused {
            None => assert_eq!(kinds(&events)[0], "document", "{options}: {events:?}"),
            Some(option) => {
                assert_eq!(error_kinds(&events), ["invalid-options", "invalid-options"], "{options}");
                let reason = events[0].body["error"]["reason"].as_str().unwrap_or_default();
                assert!(reason.contains(&format!("%gen3_cwlogs.{option}:")), "{options}: {reason}");
                assert_eq!(events[0].body["raw_data"], Value::from(envelope("s", &["a"])), "the record's data, kept");
            }
        }
    }
    // A schema the core writes and the twin does not (none today): refused,
    // so its records are kept as error documents rather than written in a
    // schema nobody asked for (the config generator leaves such commons
    // out).
    for lacks in TWIN_LACKS {
        let known = gen3_cwlogs::Schema::from_name(lacks).is_some();
        assert_eq!(Options::from_json(&format!(r#"{{"schema":"{lacks}"}}"#)).is_ok(), known);
        let events = pipeline_with(SourceConfig::default(), &format!("%gen3_cwlogs = {{\"schema\": \"{lacks}\"}}\n"))
            .deliver(&request(&body))
            .unwrap()
            .accepted();
        assert_eq!(error_kinds(&events), ["invalid-options", "invalid-options"]);
        assert!(
            events[0].body["error"]["reason"].as_str().is_some_and(|reason| reason.contains("the schemas this program writes")),
            "{:?}",
            events[0].body
        );
    }
    // Every schema the core writes, the twin writes: the schema's document.
    for schema in gen3_cwlogs::Schema::ALL {
        let program = format!("%gen3_cwlogs = {{\"schema\": \"{}\"}}\n", schema.name());
        let events =
            pipeline_with(SourceConfig::default(), &program).deliver(&Request { access_key: None, ..request(&body) }).unwrap().accepted();
        assert_eq!(kinds(&events), ["document", "error"], "{}", schema.name());
        let expected = gen3_cwlogs::decode(&body, &Options { schema, ..Options::default() }).expect("valid options");
        let document: Value = serde_json::from_str(&expected.entries[0].json).unwrap();
        let keys = |value: &Value| -> Vec<String> {
            let mut keys: Vec<String> = value.as_object().expect("an object").keys().cloned().collect();
            keys.sort();
            keys
        };
        assert_eq!(keys(&events[0].body), keys(&document), "{}: {}", schema.name(), events[0].body);
    }
    // Not an object at all.
    let events = pipeline_with(SourceConfig::default(), "%gen3_cwlogs = [\"devplanetv1\"]\n").deliver(&request(&body)).unwrap().accepted();
    assert_eq!(error_kinds(&events), ["invalid-options", "invalid-options"]);
}

/// Every options literal `options_literal` writes is valid for the core and
/// for the program, and means the same.
#[test]
fn options_literals_read_back_as_the_same_options() {
    let all = Options {
        commons: Some("devplanetv1".into()),
        slow_threshold_secs: Some(65.25),
        alert_streams: vec!["revproxy".into(), "sheep dog".into()],
        schema: gen3_cwlogs::Schema::Cloudwatch,
        max_decompressed_bytes: 1234,
        max_events_per_record: 7,
        max_json_depth: 3,
    };
    let ecs = Options { schema: gen3_cwlogs::Schema::Ecs, ..Options::default() };
    for options in [Options::default(), all, ecs] {
        let literal = options_literal(&options);
        assert_eq!(Options::from_json(&literal).as_ref(), Ok(&options), "{literal}");
    }
    // Options the core refuses are written so that the program refuses them
    // too, never dropped: a threshold that is not finite.
    let body = delivery_body("transport", 1, &[envelope("s", &["a"]).into_bytes()]);
    for threshold in [f64::NAN, f64::INFINITY] {
        let options = Options { slow_threshold_secs: Some(threshold), ..Options::default() };
        assert!(options.validate().is_err());
        assert_eq!(error_kinds(&twin(&options, &body)), ["invalid-options"], "{}", options_literal(&options));
    }
}
