//! What the twin costs grows with its input, not with its square.
//!
//! VRL copies every value it assigns (and every variable it reads), so a
//! program that accumulates its output with `x = push(x, ...)` or
//! `.x = append(.x, ...)` is quadratic in the values of a record: 2,000
//! concatenated envelopes once took 22 s in a release build, 4,000 over two
//! minutes in a debug build. The bound here is far above what the linear
//! program takes in a debug build (a few seconds) and far below that.

use std::time::{Duration, Instant};

use gen3_cwlogs_vrl_twin::remap::{Remap, Schema};
use gen3_cwlogs_vrl_twin::source::SourceEvent;
use gen3_cwlogs_vrl_twin::{program_source, vector_event};

fn envelope(n: usize) -> String {
    format!(
        r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{{"id":"{n}","timestamp":1551461674000,"message":"hello {n}"}}]}}"#
    )
}

#[test]
fn a_record_of_many_values_costs_linear_time() {
    let mut remap = Remap::compile(&program_source(), &Schema::firehose_source()).unwrap_or_else(|error| panic!("{error}"));
    // Envelopes one per line, and every other value no JSON (each one an
    // error document and a search for where the next envelope starts).
    let count = 4000;
    let data: String =
        (0..count).map(|n| if n % 2 == 0 { envelope(n) } else { r#"{"messageType":"DATA_MESSAGE","x":tru}"#.to_owned() } + "\n").collect();
    let event = SourceEvent {
        message: data.into_bytes(),
        request_id: "cost".into(),
        source_arn: "arn:aws:firehose:us-east-1:1:deliverystream/cost".into(),
        timestamp_ms: 1_551_461_675_000,
        timestamp_key: "timestamp".into(),
        access_key: None,
    };
    let start = Instant::now();
    let events = remap.run(vector_event(event)).expect("the program runs");
    let elapsed = start.elapsed();
    assert_eq!(events.len(), count, "a document or an error document per value");
    assert!(elapsed < Duration::from_secs(60), "{count} values took {elapsed:?}");
}
