//! Decodes CloudWatch Logs subscription data, as it reaches a central
//! account through Kinesis, Firehose or an S3 archive, into one log document
//! per event, slow-response alerts and error documents.
//!
//! This crate is the pure core: bytes and options in, output out. It does no
//! I/O, keeps no clock and has no host code; the WebAssembly component, the
//! Fluent Bit module, the JS package and the CLI are thin adapters over it.
//!
//! ```
//! use gen3_cwlogs::{decode, Options};
//!
//! let envelope = br#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"devplanetv1",
//!   "logStream":"revproxy-1","subscriptionFilters":["devplanetv1_subscription"],
//!   "logEvents":[{"id":"1","timestamp":1521826474000,"message":"hello"}]}"#;
//! let output = decode(envelope, &Options::default());
//! assert_eq!(output.documents.len(), 1);
//! assert!(output.documents[0].json.contains(r#""timestamp":"2018-03-23T17:34:34.000Z","message":{"log":"hello"}"#));
//! ```
//!
//! # Errors
//! Nothing here returns an error or panics on bad input: a record that
//! cannot be decoded becomes an error document (see [`ErrorKind`]) carrying
//! its raw data, and decoding goes on with the next record.
#![forbid(unsafe_code)]

mod decode;
mod envelope;
mod inflate;
mod json;
mod options;
mod sink;
#[doc(hidden)]
pub mod stages;

pub use decode::{Decoder, MAX_METADATA_BYTES, decode};
pub use inflate::crc32;
pub use options::{Limits, MAX_JSON_DEPTH_CEILING, Options, Schema};
pub use sink::{Alert, AlertRef, Counters, Document, DocumentRef, ErrorDocument, ErrorKind, ErrorRef, NdjsonOutput, Output, Sink};

/// JSON helpers shared with the adapters, so every host writes strings the
/// same way.
pub mod write {
    pub use crate::json::{write_iso8601_millis, write_str};
}
