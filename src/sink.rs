//! Where decoded output goes. The decoder streams into a [`Sink`] so a host
//! can forward each document while the next is built; [`Output`] is the sink
//! that simply keeps everything.

use std::fmt::Write as _;

use crate::json::{write_key, write_opt_str, write_str};

/// A log document: `json` is the whole document, the other fields repeat
/// what a pipeline routes on so hosts need not parse it.
#[derive(Clone, Copy, Debug)]
pub struct DocumentRef<'a> {
    /// The CloudWatch event id: meant as the Elasticsearch `_id`.
    pub id: &'a str,
    pub commons: &'a str,
    /// The event's own time, epoch milliseconds.
    pub timestamp_ms: i64,
    pub json: &'a str,
}

/// A slow-response alert.
#[derive(Clone, Copy, Debug)]
pub struct AlertRef<'a> {
    /// Id of the document that triggered it.
    pub document_id: &'a str,
    pub commons: &'a str,
    pub log_group: &'a str,
    /// The response time, in seconds, as the log wrote it.
    pub seconds: &'a str,
    /// The Slack webhook payload, JSON.
    pub slack_payload: &'a str,
}

/// Why a record or event could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The payload is not in any form the decoder knows.
    UnrecognisedInput,
    /// A record's JSON is not valid, or lacks a required field.
    InvalidRecord,
    Base64,
    Gzip,
    Utf8,
    /// The decompressed data is not a CloudWatch Logs envelope.
    InvalidEnvelope,
    /// Decompressed data over `max_decompressed_bytes`.
    TooLarge,
    /// More events than `max_events_per_record`.
    TooManyEvents,
    /// Envelope or transport metadata over the fixed bound.
    MetadataTooLarge,
    /// One log event lacks a valid id, timestamp or message.
    InvalidEvent,
}

impl ErrorKind {
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::UnrecognisedInput => "unrecognised-input",
            ErrorKind::InvalidRecord => "invalid-record",
            ErrorKind::Base64 => "base64",
            ErrorKind::Gzip => "gzip",
            ErrorKind::Utf8 => "utf8",
            ErrorKind::InvalidEnvelope => "invalid-envelope",
            ErrorKind::TooLarge => "too-large",
            ErrorKind::TooManyEvents => "too-many-events",
            ErrorKind::MetadataTooLarge => "metadata-too-large",
            ErrorKind::InvalidEvent => "invalid-event",
        }
    }
}

/// An error document: what failed, where, and the raw data.
#[derive(Clone, Copy, Debug)]
pub struct ErrorRef<'a> {
    pub id: &'a str,
    pub commons: Option<&'a str>,
    /// The event's time, else the record's arrival time, when known.
    pub timestamp_ms: Option<i64>,
    pub kind: ErrorKind,
    /// Names the record (and event) and the reason.
    pub reason: &'a str,
    pub json: &'a str,
}

pub trait Sink {
    fn document(&mut self, document: DocumentRef<'_>);
    fn alert(&mut self, alert: AlertRef<'_>);
    fn error(&mut self, error: ErrorRef<'_>);
}

/// What one decode call saw and produced. Every input record is accounted
/// for: `records == records_ok + records_failed`, and every event of a
/// decoded envelope is a document or an error (`events == documents +
/// events_failed`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub input_bytes: u64,
    pub decompressed_bytes: u64,
    pub records: u64,
    pub records_failed: u64,
    pub envelopes: u64,
    pub control_messages: u64,
    pub events: u64,
    pub events_failed: u64,
    pub documents: u64,
    pub alerts: u64,
    pub errors: u64,
}

impl Counters {
    pub fn add(&mut self, other: &Counters) {
        self.input_bytes += other.input_bytes;
        self.decompressed_bytes += other.decompressed_bytes;
        self.records += other.records;
        self.records_failed += other.records_failed;
        self.envelopes += other.envelopes;
        self.control_messages += other.control_messages;
        self.events += other.events;
        self.events_failed += other.events_failed;
        self.documents += other.documents;
        self.alerts += other.alerts;
        self.errors += other.errors;
    }

    /// As a JSON object with snake_case keys.
    pub fn write_json(&self, out: &mut String) {
        let _ = write!(
            out,
            "{{\"input_bytes\":{},\"decompressed_bytes\":{},\"records\":{},\"records_failed\":{},\"envelopes\":{},\"control_messages\":{},\"events\":{},\"events_failed\":{},\"documents\":{},\"alerts\":{},\"errors\":{}}}",
            self.input_bytes,
            self.decompressed_bytes,
            self.records,
            self.records_failed,
            self.envelopes,
            self.control_messages,
            self.events,
            self.events_failed,
            self.documents,
            self.alerts,
            self.errors
        );
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub id: String,
    pub commons: String,
    pub timestamp_ms: i64,
    pub json: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    pub document_id: String,
    pub commons: String,
    pub log_group: String,
    pub seconds: String,
    pub slack_payload: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorDocument {
    pub id: String,
    pub commons: Option<String>,
    pub timestamp_ms: Option<i64>,
    pub kind: ErrorKind,
    pub reason: String,
    pub json: String,
}

/// Everything one decode call produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub documents: Vec<Document>,
    pub alerts: Vec<Alert>,
    pub errors: Vec<ErrorDocument>,
    pub counters: Counters,
}

impl Sink for Output {
    fn document(&mut self, document: DocumentRef<'_>) {
        self.documents.push(Document {
            id: document.id.to_owned(),
            commons: document.commons.to_owned(),
            timestamp_ms: document.timestamp_ms,
            json: document.json.to_owned(),
        });
    }

    fn alert(&mut self, alert: AlertRef<'_>) {
        self.alerts.push(Alert {
            document_id: alert.document_id.to_owned(),
            commons: alert.commons.to_owned(),
            log_group: alert.log_group.to_owned(),
            seconds: alert.seconds.to_owned(),
            slack_payload: alert.slack_payload.to_owned(),
        });
    }

    fn error(&mut self, error: ErrorRef<'_>) {
        self.errors.push(ErrorDocument {
            id: error.id.to_owned(),
            commons: error.commons.map(str::to_owned),
            timestamp_ms: error.timestamp_ms,
            kind: error.kind,
            reason: error.reason.to_owned(),
            json: error.json.to_owned(),
        });
    }
}

impl AlertRef<'_> {
    /// The alert as one JSON line: `{"alert": {...}}`, the Slack payload
    /// nested as an object.
    pub fn write_json(&self, out: &mut String) {
        out.push_str("{\"alert\":{");
        write_key(out, "document_id");
        write_str(out, self.document_id);
        out.push(',');
        write_key(out, "commons");
        write_str(out, self.commons);
        out.push(',');
        write_key(out, "logGroup");
        write_str(out, self.log_group);
        out.push(',');
        write_key(out, "seconds");
        write_str(out, self.seconds);
        out.push(',');
        write_key(out, "slack_payload");
        out.push_str(self.slack_payload);
        out.push_str("}}");
    }
}

impl Alert {
    pub fn as_ref(&self) -> AlertRef<'_> {
        AlertRef {
            document_id: &self.document_id,
            commons: &self.commons,
            log_group: &self.log_group,
            seconds: &self.seconds,
            slack_payload: &self.slack_payload,
        }
    }
}

impl Output {
    /// Documents, then alerts, then error documents, one JSON text per line:
    /// the form every host's output is compared in.
    pub fn to_ndjson(&self) -> String {
        let mut out = String::new();
        for document in &self.documents {
            out.push_str(&document.json);
            out.push('\n');
        }
        for alert in &self.alerts {
            alert.as_ref().write_json(&mut out);
            out.push('\n');
        }
        for error in &self.errors {
            out.push_str(&error.json);
            out.push('\n');
        }
        out
    }
}

/// The output as NDJSON text, one string per kind: what a host that
/// forwards lines needs, built without an allocation per document.
/// `documents + alerts + errors` is [`Output::to_ndjson`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NdjsonOutput {
    /// One document per line, in input order.
    pub documents: String,
    /// One `{"alert": {...}}` per line.
    pub alerts: String,
    /// One error document per line.
    pub errors: String,
    pub counters: Counters,
}

impl NdjsonOutput {
    /// Empty, with room for `documents` bytes of documents: a caller that
    /// passes the last call's size rarely grows the buffer by copies.
    pub fn with_capacity(documents: usize) -> Self {
        NdjsonOutput { documents: String::with_capacity(documents), ..NdjsonOutput::default() }
    }

    /// The three texts in [`Output::to_ndjson`]'s order.
    pub fn to_ndjson(&self) -> String {
        [self.documents.as_str(), &self.alerts, &self.errors].concat()
    }
}

impl Sink for NdjsonOutput {
    fn document(&mut self, document: DocumentRef<'_>) {
        self.documents.push_str(document.json);
        self.documents.push('\n');
    }

    fn alert(&mut self, alert: AlertRef<'_>) {
        alert.write_json(&mut self.alerts);
        self.alerts.push('\n');
    }

    fn error(&mut self, error: ErrorRef<'_>) {
        self.errors.push_str(error.json);
        self.errors.push('\n');
    }
}

/// Writes `"commons":<name or null>`.
pub(crate) fn write_commons(out: &mut String, commons: Option<&str>) {
    write_key(out, "commons");
    write_opt_str(out, commons);
}
