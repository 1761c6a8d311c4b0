//! Throughput of the VRL twin against the native core, on the same generated
//! Firehose delivery, in one run.
//!
//! ```sh
//! cargo run --release -p gen3-cwlogs-vector --bin vrl-bench -- [--records N] [--events-per-record M] [--threshold SECS]
//! ```
//!
//! The twin's time covers what Vector would do for the delivery: parse the
//! request body, base64-decode and inflate each record (the source), set the
//! options and run `cwlogs.vrl` per record (two remaps), and read the routing
//! kind off each event (what a `route` transform reads). Compiling the
//! programs is excluded, as Vector does it once at startup. Vector's own
//! overhead (HTTP, event batching, buffers, encoding, sinks) is not counted,
//! so Vector itself can only be slower than the twin here.

use std::time::Instant;

use gen3_cwlogs::Options;
use gen3_cwlogs_vector::Pipeline;
use gen3_cwlogs_vector::options::options_program;
use gen3_cwlogs_vector::source::{Request, SourceConfig};
use gen3_cwlogs_workload::{Form, Spec, generate};
use vrl::value::Value;

fn main() {
    let mut records = 200usize;
    let mut events_per_record = 100usize;
    // The pipeline example's first commons alerts over 65 s; 0 makes every
    // access log an alert.
    let mut threshold = 65.0f64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--records" => records = value.parse().unwrap_or_else(|_| usage()),
            "--events-per-record" => events_per_record = value.parse().unwrap_or_else(|_| usage()),
            "--threshold" => threshold = value.parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }

    let generated = generate(&Spec { form: Form::Firehose, records, events_per_record, seed: 7, log_group: "devplanetv1".into() });
    // The pipeline example's first commons: alerts on the Lambda's streams.
    let options = Options {
        commons: Some("devplanetv1".into()),
        slow_threshold_secs: Some(threshold),
        alert_streams: Options::GEN3_ALERT_STREAMS.iter().map(|s| (*s).to_owned()).collect(),
        ..Options::default()
    };

    let started = Instant::now();
    let native = gen3_cwlogs::decode(&generated.payload, &options);
    let native_secs = started.elapsed().as_secs_f64();

    let access_key = "bench-key";
    let mut pipeline = Pipeline::shipped(SourceConfig { access_keys: vec![access_key.into()], ..SourceConfig::default() }, &options_program(&[(access_key, &options)], None))
        .unwrap_or_else(|error| panic!("{error}"));
    let request = Request {
        request_id: "ed4acda5-034f-9f42-bba1-f29aea6d7d8f",
        source_arn: "arn:aws:firehose:us-east-1:433568766270:deliverystream/bench",
        access_key: Some(access_key),
        content_encoding: None,
        body: &generated.payload,
    };
    // What a `route` transform would read: each event's `_cwlogs_kind`.
    let mut twin_counts = (0, 0, 0);
    let started = Instant::now();
    pipeline
        .deliver_with(&request, |_, event| {
            let kind = match &event.value {
                Value::Object(object) => object.get("_cwlogs_kind").cloned(),
                _ => None,
            };
            match kind.as_ref().and_then(Value::as_str).as_deref() {
                Some("document") => twin_counts.0 += 1,
                Some("alert") => twin_counts.1 += 1,
                Some("error") => twin_counts.2 += 1,
                _ => {}
            }
        })
        .unwrap_or_else(|error| panic!("the twin failed: {error}"))
        .unwrap_or_else(|rejection| panic!("rejected: {rejection:?}"));
    let twin_secs = started.elapsed().as_secs_f64();

    let native_counts = (native.documents.len(), native.alerts.len(), native.errors.len());
    assert_eq!(twin_counts, native_counts, "the twin and the core disagree on this input");

    let megabytes = generated.decompressed_bytes as f64 / 1e6;
    println!(
        "input: Firehose delivery, {records} records x {events_per_record} events = {} events, {:.1} MB payload, {megabytes:.1} MB decompressed CloudWatch JSON",
        generated.events,
        generated.payload.len() as f64 / 1e6
    );
    println!("output (both): {} documents, {} alerts, {} error documents", native_counts.0, native_counts.1, native_counts.2);
    println!("| engine | time | events/s | decompressed MB/s |");
    println!("|---|---|---|---|");
    for (name, secs) in [("native core (gen3_cwlogs::decode)", native_secs), ("VRL twin (vrl 0.34, source imitation + 2 remaps)", twin_secs)] {
        println!("| {name} | {secs:.3} s | {:.0} | {:.1} |", generated.events as f64 / secs, megabytes / secs);
    }
    println!("twin/native time: {:.1}x", twin_secs / native_secs);
}

fn usage() -> ! {
    eprintln!("usage: vrl-bench [--records N] [--events-per-record M] [--threshold SECS]");
    std::process::exit(2);
}
