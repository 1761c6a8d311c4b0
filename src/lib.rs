//! Decodes CloudWatch Logs subscription data, as it reaches a central
//! account through Kinesis, Firehose, a Lambda subscription or an S3
//! archive, into one log document per event, slow-response alerts and error
//! documents.
//!
//! This crate is the pure core: bytes and options in, entries out. It does
//! no I/O, keeps no clock and has no host code; the WebAssembly component,
//! the Fluent Bit module, the JS package and the CLI are thin adapters over
//! it.
//!
//! ```
//! use gen3_cwlogs::{EntryKind, Options, decode};
//!
//! let envelope = br#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"devplanetv1",
//!   "logStream":"revproxy-1","subscriptionFilters":["devplanetv1_subscription"],
//!   "logEvents":[{"id":"1","timestamp":1521826474000,"message":"hello"}]}"#;
//! let output = decode(envelope, &Options::default()).expect("valid options");
//! assert_eq!(output.entries.len(), 1);
//! assert_eq!(output.entries[0].kind, EntryKind::Document);
//! assert!(output.entries[0].json.contains(r#""timestamp":"2018-03-23T17:34:34.000Z","message":{"log":"hello"}"#));
//! ```
//!
//! | concept | module |
//! |---|---|
//! | input detection | `form` |
//! | transports and record identity | `transport` |
//! | the record walk (base64, gzip members, JSON values, envelopes) | `walk`, `emit` |
//! | the envelope, fast and tolerant | `envelope` |
//! | the document schemas, error documents | `document`, `message`, `members`, `ecs` |
//! | the alert rule and Slack payload | `alert` |
//! | errors | `error` |
//! | options | `options` |
//! | output entries, sinks, counters | `output` |
//! | event times | `time` |
//!
//! # Errors
//! Nothing here fails or panics on bad input: a record, envelope or event
//! that cannot be decoded becomes an error document (see [`ErrorKind`])
//! carrying its raw data, and decoding goes on. Only options are refused
//! ([`OptionError`]).
#![forbid(unsafe_code)]

mod alert;
mod decoder;
mod document;
mod ecs;
mod emit;
mod envelope;
mod error;
mod form;
mod inflate;
mod json;
mod members;
mod message;
mod options;
mod output;
mod scan;
#[doc(hidden)]
pub mod stages;
mod time;
mod transport;
mod walk;
mod wit_mapping;

pub use decoder::{Decoder, decode};
pub use document::MAX_METADATA_BYTES;
pub use error::ErrorKind;
pub use options::{OPTIONS, OptionError, OptionKind, OptionSpec, Options, Schema, schema_json};
pub use output::{AlertFields, Counters, Entry, EntryKind, FnSink, NdjsonOutput, Output, OwnedEntry, Sink};
pub use time::{MAX_EVENT_MILLIS, MIN_EVENT_MILLIS};

/// Internals the harness holds to reference implementations (the member
/// reader and the envelope reader against serde_json); not a stable API.
#[doc(hidden)]
pub mod checked {
    pub use crate::envelope::{parse_with_serde as parse_envelope_with_serde, read_common as read_common_envelope};
    pub use crate::members::{Member, object_members, string_text};
}

/// JSON writing shared with the adapters, so every host writes strings the
/// same way.
pub mod write {
    pub use crate::json::write_str;
    pub use crate::time::write_iso8601_millis;
}
