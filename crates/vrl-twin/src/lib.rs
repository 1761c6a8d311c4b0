//! The VRL twin of the decoder, run as Vector 0.57 would run it.
//!
//! Vector has no wasm host, so Vector users get the decoder as a VRL program,
//! `pipeline-configs/vector/cwlogs.vrl`. This crate runs that program the way
//! a Vector pipeline does, so the project's tests can prove it equal to the
//! core (`tests/parity.rs`) and measure it (`gen3-cwlogs-bench`):
//!
//! 1. [`source`]: what the `aws_kinesis_firehose` source makes of a Firehose
//!    request (one event per record: base64-decoded, gzip inflated, request
//!    id and time, the access key as a secret), record by record, so a
//!    request it refuses has already forwarded the records before the bad
//!    one;
//! 2. a remap setting the options in the event metadata ([`options`]) and
//!    removing the access key (Vector's `get_secret` and `remove_secret`,
//!    in [`remap`]);
//! 3. the remap running `cwlogs.vrl` ([`remap`]), whose array result becomes
//!    one event per element;
//! 4. the routing fields read and removed, as the config does before sinks.
//!
//! [`delivery`] turns any payload the decoder accepts into the Firehose
//! delivery a stream would send for the same records.

pub mod delivery;
pub mod options;
pub mod remap;
pub mod source;

use std::path::PathBuf;
use std::sync::OnceLock;

use vrl::value::{Secrets, Value};

use crate::remap::{Event, Remap, Schema};
use crate::source::{Rejection, Request, SourceConfig, SourceEvent};

/// The shipped program.
pub fn program_path() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../pipeline-configs/vector/cwlogs.vrl"))
}

pub fn program_source() -> String {
    let path = program_path();
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

/// What one request gave: the events that reached the sinks and, when the
/// source refused the request, its answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivered {
    pub events: Vec<TwinEvent>,
    pub rejection: Option<Rejection>,
}

impl Delivered {
    /// The events of a request the source accepted.
    ///
    /// # Panics
    /// When the source refused it.
    pub fn accepted(self) -> Vec<TwinEvent> {
        if let Some(rejection) = self.rejection {
            panic!("the source refused the request: {rejection:?}");
        }
        self.events
    }
}

/// What the twin emitted, routing fields taken out.
#[derive(Clone, Debug, PartialEq)]
pub struct TwinEvent {
    /// Index of the Firehose record (in its request) the event came from.
    pub record_index: usize,
    /// `_cwlogs_kind`: `document`, `alert` or `error`.
    pub kind: Option<String>,
    /// `_cwlogs_route`.
    pub route: Option<String>,
    /// `_cwlogs_time`, epoch milliseconds, when it is a timestamp.
    pub time_ms: Option<i64>,
    /// `_cwlogs_time` is present but not a timestamp.
    pub time_not_timestamp: bool,
    /// `_cwlogs_id`.
    pub id: Option<String>,
    /// The event as it reaches a sink.
    pub body: serde_json::Value,
}

/// A Vector pipeline: the Firehose source, the options remap, the twin.
pub struct Pipeline {
    pub source: SourceConfig,
    options: Remap,
    twin: Remap,
}

impl Pipeline {
    /// The shipped program after `options_program`. The shipped program is
    /// read and compiled once per process, as Vector does at startup.
    pub fn shipped(source: SourceConfig, options_program: &str) -> Result<Pipeline, String> {
        static SHIPPED: OnceLock<Result<Remap, String>> = OnceLock::new();
        let twin = SHIPPED
            .get_or_init(|| Remap::compile(&program_source(), &Schema::firehose_source()).map_err(|error| format!("cwlogs.vrl: {error}")))
            .as_ref()
            .map_err(Clone::clone)?
            .fresh();
        let options = Remap::compile(options_program, &Schema::firehose_source()).map_err(|error| format!("options program: {error}"))?;
        Ok(Pipeline { source, options, twin })
    }

    /// One request through the pipeline: every event that reaches the
    /// sinks, in order, routing fields read and removed, and the source's
    /// rejection if it refused the request (then the events are those of
    /// the records before the one it refused).
    ///
    /// # Errors
    /// When a remap fails at run time (the shipped programs never should).
    pub fn deliver(&mut self, request: &Request<'_>) -> Result<Delivered, String> {
        let mut events = Vec::new();
        let outcome = self.deliver_with(request, |record_index, event| events.push(strip_routing(record_index, event.value)))?;
        Ok(Delivered { events, rejection: outcome.err() })
    }

    /// Like [`Pipeline::deliver`], handing each event, as the remap emits it
    /// (routing fields on), to `sink` with the index of its record.
    ///
    /// # Errors
    /// When a remap fails at run time.
    pub fn deliver_with(&mut self, request: &Request<'_>, mut sink: impl FnMut(usize, Event)) -> Result<Result<(), Rejection>, String> {
        let (events, rejection) = match source::receive(&self.source, request) {
            Ok(events) => (events, None),
            // The records before the refused one went through the pipeline;
            // the rejection keeps them too, to say so.
            Err(rejection) => (rejection.forwarded.clone(), Some(rejection)),
        };
        for (record_index, event) in events.into_iter().enumerate() {
            self.run_record(record_index, event, &mut sink)?;
        }
        Ok(rejection.map_or(Ok(()), Err))
    }

    /// One source event through both remaps; each event they emit goes to
    /// `sink` with `record_index`.
    pub fn run_record(&mut self, record_index: usize, event: SourceEvent, sink: &mut impl FnMut(usize, Event)) -> Result<(), String> {
        for event in self.options.run(vector_event(event))? {
            for event in self.twin.run(event)? {
                sink(record_index, event);
            }
        }
        Ok(())
    }
}

/// The event the source emits (legacy namespace).
pub fn vector_event(event: SourceEvent) -> Event {
    let timestamp = Value::Timestamp(chrono::DateTime::from_timestamp_millis(event.timestamp_ms).unwrap_or_default());
    let value = Value::Object(
        [
            ("message".into(), Value::Bytes(event.message.into())),
            (event.timestamp_key.into(), timestamp),
            ("source_type".into(), Value::from("aws_kinesis_firehose")),
            ("request_id".into(), Value::from(event.request_id)),
            ("source_arn".into(), Value::from(event.source_arn)),
        ]
        .into_iter()
        .collect(),
    );
    let mut secrets = Secrets::default();
    if let Some(key) = event.access_key {
        secrets.insert(source::ACCESS_KEY_SECRET, key);
    }
    Event { value, metadata: Value::Object(Default::default()), secrets }
}

/// Reads and removes the routing fields, as the config's last transform does.
pub fn strip_routing(record_index: usize, value: Value) -> TwinEvent {
    let mut object = match value {
        Value::Object(object) => object,
        other => [("message".into(), other)].into_iter().collect(),
    };
    let text = |value: Option<Value>| match value {
        Some(Value::Bytes(bytes)) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        _ => None,
    };
    let kind = text(object.remove("_cwlogs_kind"));
    let route = text(object.remove("_cwlogs_route"));
    let id = text(object.remove("_cwlogs_id"));
    let (time_ms, time_not_timestamp) = match object.remove("_cwlogs_time") {
        Some(Value::Timestamp(time)) => (Some(time.timestamp_millis()), false),
        Some(_) => (None, true),
        None => (None, false),
    };
    let body = serde_json::to_value(Value::Object(object)).expect("a VRL value serializes");
    TwinEvent { record_index, kind, route, time_ms, time_not_timestamp, id, body }
}
