//! Where Vector and the plugin must part ways, asserted one by one: these are
//! inputs a Firehose stream does not produce from CloudWatch Logs, or that
//! Vector's source treats per request where the decoder works per record.
//! Each is listed in pipeline-configs/vector/README.md. Also the options
//! mechanism (per access key) and the source imitation's gzip body.

use gen3_cwlogs::{Limits, Options};
use gen3_cwlogs_vrl_twin::delivery::delivery_body;
use gen3_cwlogs_vrl_twin::options::options_program;
use gen3_cwlogs_vrl_twin::source::{Rejection, Request, SourceConfig};
use gen3_cwlogs_vrl_twin::{Pipeline, TwinEvent};
use gen3_cwlogs_workload::gzip;
use serde_json::Value;

const KEY: &str = "transport-key";

fn envelope(stream: &str, messages: &[&str]) -> String {
    let events: Vec<String> = messages
        .iter()
        .enumerate()
        .map(|(n, message)| format!("{{\"id\":\"{stream}-{n}\",\"timestamp\":1551461674000,\"message\":{}}}", serde_json::to_string(message).unwrap()))
        .collect();
    format!("{{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"1\",\"logGroup\":\"g\",\"logStream\":\"{stream}\",\"subscriptionFilters\":[],\"logEvents\":[{}]}}", events.join(","))
}

fn pipeline(options: &Options) -> Pipeline {
    let source = SourceConfig { access_keys: vec![KEY.into()], ..SourceConfig::default() };
    Pipeline::shipped(source, &options_program(&[(KEY, options)], None)).unwrap_or_else(|error| panic!("{error}"))
}

fn request(body: &[u8]) -> Request<'_> {
    Request { request_id: "transport", source_arn: "arn:aws:firehose:us-east-1:1:deliverystream/t", access_key: Some(KEY), content_encoding: None, body }
}

fn twin(options: &Options, body: &[u8]) -> Result<Vec<TwinEvent>, Rejection> {
    pipeline(options).deliver(&request(body)).unwrap_or_else(|error| panic!("the twin failed: {error}"))
}

fn kinds(events: &[TwinEvent]) -> Vec<String> {
    events.iter().map(|event| event.kind.clone().unwrap_or_default()).collect()
}

fn error_kinds(events: &[TwinEvent]) -> Vec<String> {
    events.iter().filter(|event| event.kind.as_deref() == Some("error")).map(|event| event.body["error"]["kind"].as_str().unwrap_or_default().to_owned()).collect()
}

/// Firehose base64-encodes what it carries, so a record with invalid base64
/// only comes from another sender: the plugin makes it one error document,
/// Vector's source refuses the whole request (400).
#[test]
fn invalid_base64_rejects_the_whole_request_in_vector() {
    let good = gzip(envelope("s", &["a"]).as_bytes());
    let mut body = String::from_utf8(delivery_body("transport", 1, &[good.clone(), good])).unwrap();
    body = body.replacen("\"},{\"data\":\"", "\"},{\"data\":\"not base64!", 1);
    let core = gen3_cwlogs::decode(body.as_bytes(), &Options::default());
    assert_eq!((core.documents.len(), core.errors.len()), (1, 1));
    assert_eq!(core.errors[0].kind.name(), "base64");
    let rejection = twin(&Options::default(), body.as_bytes()).expect_err("Vector refuses it");
    assert_eq!(rejection.status, 400);
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
        let core = gen3_cwlogs::decode(&body, &Options::default());
        let twin = twin(&Options::default(), &body).expect("accepted");
        assert_eq!(core.documents.len(), 2);
        assert_eq!(kinds(&twin), ["error"]);
        assert_eq!(error_kinds(&twin), ["gzip"]);
        if trailer[0] == 0 {
            assert!(core.errors.is_empty());
        } else {
            assert_eq!(core.errors.len(), 1);
            assert_eq!(core.errors[0].kind.name(), "gzip");
        }
    }
}

/// The decompressed-size limit applies per gzip member in the plugin; the
/// twin sees the record's members inflated together, so it applies it to
/// their sum.
#[test]
fn the_size_limit_covers_all_members_of_a_record_in_the_twin() {
    let options = Options { limits: Limits { max_decompressed_bytes: 400, ..Limits::default() }, ..Options::default() };
    let one = envelope("s", &["x".repeat(100).as_str()]);
    assert!(one.len() < 400 && 2 * one.len() > 400);
    let record = [gzip(one.as_bytes()), gzip(one.as_bytes())].concat();
    let body = delivery_body("transport", 1, &[record]);
    let core = gen3_cwlogs::decode(&body, &options);
    assert_eq!((core.documents.len(), core.errors.len()), (2, 0));
    assert_eq!(error_kinds(&twin(&options, &body).expect("accepted")), ["too-large"]);
}

/// Vector's source needs the request's `timestamp` as an integer of
/// milliseconds (Firehose always sends one); the plugin takes any number.
#[test]
fn a_fractional_request_timestamp_is_refused_by_vector() {
    let body = String::from_utf8(delivery_body("transport", 1551461675000, &[envelope("s", &["a"]).into_bytes()])).unwrap();
    let body = body.replace("1551461675000", "1551461675000.5");
    assert_eq!(gen3_cwlogs::decode(body.as_bytes(), &Options::default()).documents.len(), 1);
    assert_eq!(twin(&Options::default(), body.as_bytes()).expect_err("Vector refuses it").status, 401);
}

/// VRL numbers are 64-bit integers and doubles: an integer in a message
/// beyond the signed 64-bit range becomes a double (the value a search
/// engine indexes anyway), while the plugin copies the digits. Event ids,
/// where digits matter, are kept (see the parity test's numeric ids).
#[test]
fn message_integers_beyond_64_bits_become_doubles() {
    let body = delivery_body("transport", 1, &[envelope("s", &[r#"{"small":9223372036854775807,"big":18446744073709551615,"huge":123456789012345678901234567890,"float":1.10}"#]).into_bytes()]);
    let core = gen3_cwlogs::decode(&body, &Options::default());
    let twin = twin(&Options::default(), &body).expect("accepted");
    let core_message: Value = serde_json::from_str::<Value>(&core.documents[0].json).unwrap()["message"].clone();
    let twin_message = &twin[0].body["message"];
    assert!(core.documents[0].json.contains("\"big\":18446744073709551615,\"huge\":123456789012345678901234567890,\"float\":1.10"));
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
    let second = Options { commons: Some("second".into()), slow_threshold_secs: Some(65.0), alert_streams: vec!["fence".into()], ..Options::default() };
    let source = SourceConfig { access_keys: vec!["k1".into(), "k2".into(), "k3".into()], ..SourceConfig::default() };
    let mut pipeline = Pipeline::shipped(source, &options_program(&[("k1", &first), ("k2", &second)], None)).unwrap();
    let mut deliver = |key: &str| {
        let request = Request { access_key: Some(key), ..request(&body) };
        pipeline.deliver(&request).unwrap().unwrap()
    };
    let by_first = deliver("k1");
    assert_eq!(kinds(&by_first), ["document", "alert"]);
    assert_eq!(by_first[0].body["commons"], "first");
    assert_eq!(by_first[1].route.as_deref(), Some("first"));
    let by_second = deliver("k2");
    assert_eq!(kinds(&by_second), ["document"], "the stream is not one the second commons checks");
    assert_eq!(by_second[0].body["commons"], "second");
    let by_third = deliver("k3");
    assert_eq!(kinds(&by_third), ["document"]);
    assert_eq!(by_third[0].body["commons"], "g", "no options: the log group");
    // The source refuses unknown or missing keys before any VRL runs.
    let request_without_key = Request { access_key: None, ..request(&body) };
    assert_eq!(pipeline.deliver(&request_without_key).unwrap().unwrap_err().status, 401);
    let request_with_wrong_key = Request { access_key: Some("k4"), ..request(&body) };
    assert_eq!(pipeline.deliver(&request_with_wrong_key).unwrap().unwrap_err().status, 401);
}

/// A delivery with GZIP content encoding reaches the twin as the same events.
#[test]
fn a_gzip_request_body_gives_the_same_events() {
    let body = delivery_body("transport", 1551461675000, &[gzip(envelope("s", &["a", "{\"b\":1}"]).as_bytes()), b"not an envelope".to_vec()]);
    let plain = twin(&Options::default(), &body).expect("accepted");
    let gzipped = gzip(&body);
    let encoded = pipeline(&Options::default()).deliver(&Request { content_encoding: Some("gzip"), ..request(&gzipped) }).unwrap().expect("accepted");
    assert_eq!(kinds(&plain), ["document", "document", "error"]);
    assert_eq!(plain, encoded);
    let unsupported = pipeline(&Options::default()).deliver(&Request { content_encoding: Some("br"), ..request(&body) }).unwrap();
    assert_eq!(unsupported.unwrap_err().status, 400);
}

/// With `log_schema.timestamp_key: _cwlogs_time` (so sink templates date by
/// each document's own time) the request time arrives in `._cwlogs_time`;
/// the output is the same.
#[test]
fn the_request_time_is_read_from_either_timestamp_key() {
    let body = delivery_body("transport", 1551461675000, &[envelope("s", &["a"]).into_bytes(), b"not an envelope".to_vec()]);
    let usual = twin(&Options::default(), &body).expect("accepted");
    let source = SourceConfig { access_keys: vec![KEY.into()], timestamp_key: "_cwlogs_time".into(), ..SourceConfig::default() };
    let mut pipeline = Pipeline::shipped(source, &options_program(&[(KEY, &Options::default())], None)).unwrap();
    let moved = pipeline.deliver(&request(&body)).unwrap().expect("accepted");
    assert_eq!(usual, moved);
    assert_eq!(usual[1].body["firehose"]["timestamp"], 1551461675000i64);
    assert_eq!(usual[1].time_ms, Some(1551461675000));
}

/// A record inflating past Vector's global decompressed-size cap (100 MiB by
/// default) makes the source refuse the whole request; the plugin stops at
/// its own limit and writes one `too-large` error document.
#[test]
fn a_record_over_vectors_cap_rejects_the_whole_request() {
    let big = gzip(&vec![b' '; 64 * 1024]);
    let body = delivery_body("transport", 1, &[gzip(envelope("s", &["a"]).as_bytes()), big]);
    let options = Options { limits: Limits { max_decompressed_bytes: 16 * 1024, ..Limits::default() }, ..Options::default() };
    let core = gen3_cwlogs::decode(&body, &options);
    assert_eq!((core.documents.len(), core.errors.len()), (1, 1));
    assert_eq!(core.errors[0].kind.name(), "too-large");
    // The cap scaled down with the record: 32 KiB instead of 100 MiB.
    let source = SourceConfig { access_keys: vec![KEY.into()], max_decompressed_bytes: 32 * 1024, ..SourceConfig::default() };
    let mut pipeline = Pipeline::shipped(source, &options_program(&[(KEY, &options)], None)).unwrap();
    assert_eq!(pipeline.deliver(&request(&body)).unwrap().unwrap_err().status, 400);
}

/// The shipped example of the options remap compiles, and each of its keys
/// selects its commons' options.
#[test]
fn the_example_options_program_selects_by_key() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pipeline-configs/vector/options.example.vrl");
    let program = std::fs::read_to_string(path).expect("options.example.vrl");
    let slow = r#"{"log":"{\"response_secs\":40.5}\n","kubernetes":{"pod_name":"revproxy-1"}}"#;
    let body = delivery_body("transport", 1, &[envelope("revproxy-x", &[slow]).into_bytes()]);
    let keys = ["SECRET[firehose_keys.devplanetv1]", "SECRET[firehose_keys.qaplanetv1]", "SECRET[firehose_keys.data-commons-prod]"];
    let source = SourceConfig { access_keys: keys.iter().map(|key| (*key).to_owned()).collect(), ..SourceConfig::default() };
    let mut pipeline = Pipeline::shipped(source, &program).unwrap_or_else(|error| panic!("{error}"));
    let mut by_key = Vec::new();
    for key in keys {
        let events = pipeline.deliver(&Request { access_key: Some(key), ..request(&body) }).unwrap().unwrap();
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
