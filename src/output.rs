//! What a decode call produces: entries (documents, alerts, error documents)
//! in input order, and counters.
//!
//! The decoder streams each [`Entry`] into a [`Sink`] as soon as it is
//! written, so a host can forward it while the next is built. [`Output`]
//! keeps owned entries; [`NdjsonOutput`] keeps one NDJSON text per kind, for
//! hosts that forward lines.

use std::fmt::Write as _;

use crate::error::ErrorKind;

/// What an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// One log event's document.
    Document,
    /// A slow-response alert, right after the document that triggered it.
    Alert,
    /// An error document: a record, envelope or event that could not be
    /// decoded, with its raw data.
    Error,
}

impl EntryKind {
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::Document => "document",
            EntryKind::Alert => "alert",
            EntryKind::Error => "error",
        }
    }
}

/// The parts of an alert a host posts without parsing [`Entry::json`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertFields<'a> {
    pub log_group: &'a str,
    /// The response time in seconds, as the log wrote it.
    pub seconds: &'a str,
    /// The Slack incoming-webhook payload, JSON.
    pub slack_payload: &'a str,
}

/// One entry of the output, borrowed from the decoder's buffers.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    pub kind: EntryKind,
    /// Document: the CloudWatch event id, meant as the search `_id`. Alert:
    /// the id of the document that triggered it. Error: the error
    /// document's own id, stable across retries of the same record.
    pub id: &'a str,
    /// The commons (where the entry is routed); `None` only for an error
    /// document of a record decoded without a `commons` option.
    pub commons: Option<&'a str>,
    /// Document and alert: the event's time. Error: the event's time, else
    /// the record's arrival time, when known. Epoch milliseconds, always in
    /// the range every host carries (see `time`).
    pub time_ms: Option<i64>,
    /// Position of the record it came from in the payload (a Kinesis or
    /// Firehose record, an archive's gzip member; 0 for one record's data).
    pub record_index: usize,
    /// Error documents: the kind and the reason (which names the record).
    pub error: Option<(ErrorKind, &'a str)>,
    /// Alerts: the Slack payload and what it is about.
    pub alert: Option<AlertFields<'a>>,
    /// The entry as one JSON text, an NDJSON line without its newline: the
    /// document, `{"alert": {...}}` (the Slack payload nested as an object),
    /// or the error document.
    pub json: &'a str,
}

/// Where entries go as they are written.
pub trait Sink {
    fn entry(&mut self, entry: &Entry<'_>);

    /// Called after each record with how many bytes of the payload are
    /// behind (an estimate for hosts that show progress on large inputs).
    fn progress(&mut self, _input_consumed: u64) {}
}

/// What one decode call saw and produced. Every input record is accounted
/// for: `records = records_failed + records decoded`; every JSON value of a
/// decoded record is an envelope (`envelopes`, CONTROL_MESSAGEs included) or
/// failed (`envelopes_failed`); every event of a decodable envelope is a
/// document or failed (`events = documents + events_failed`); and
/// `errors = records_failed + envelopes_failed + events_failed`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub input_bytes: u64,
    pub decompressed_bytes: u64,
    pub records: u64,
    pub records_failed: u64,
    pub envelopes: u64,
    pub envelopes_failed: u64,
    pub control_messages: u64,
    pub events: u64,
    pub events_failed: u64,
    pub documents: u64,
    pub alerts: u64,
    pub errors: u64,
}

impl Counters {
    /// The counters' names, in [`Counters::values`]' order (snake_case; WIT
    /// and JS spell them in their own case).
    pub const NAMES: [&'static str; 12] = [
        "input_bytes",
        "decompressed_bytes",
        "records",
        "records_failed",
        "envelopes",
        "envelopes_failed",
        "control_messages",
        "events",
        "events_failed",
        "documents",
        "alerts",
        "errors",
    ];

    pub fn values(&self) -> [u64; 12] {
        [
            self.input_bytes,
            self.decompressed_bytes,
            self.records,
            self.records_failed,
            self.envelopes,
            self.envelopes_failed,
            self.control_messages,
            self.events,
            self.events_failed,
            self.documents,
            self.alerts,
            self.errors,
        ]
    }

    pub fn add(&mut self, other: &Counters) {
        let [a, b, c, d, e, f, g, h, i, j, k, l] = other.values();
        self.input_bytes += a;
        self.decompressed_bytes += b;
        self.records += c;
        self.records_failed += d;
        self.envelopes += e;
        self.envelopes_failed += f;
        self.control_messages += g;
        self.events += h;
        self.events_failed += i;
        self.documents += j;
        self.alerts += k;
        self.errors += l;
    }

    /// As a JSON object with snake_case keys.
    pub fn write_json(&self, out: &mut String) {
        out.push('{');
        for (index, (name, value)) in Counters::NAMES.iter().zip(self.values()).enumerate() {
            if index > 0 {
                out.push(',');
            }
            let _ = write!(out, "\"{name}\":{value}");
        }
        out.push('}');
    }
}

/// An [`Entry`] owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedEntry {
    pub kind: EntryKind,
    pub id: String,
    pub commons: Option<String>,
    pub time_ms: Option<i64>,
    pub record_index: usize,
    pub error: Option<(ErrorKind, String)>,
    pub json: String,
}

impl From<&Entry<'_>> for OwnedEntry {
    fn from(entry: &Entry<'_>) -> Self {
        OwnedEntry {
            kind: entry.kind,
            id: entry.id.to_owned(),
            commons: entry.commons.map(str::to_owned),
            time_ms: entry.time_ms,
            record_index: entry.record_index,
            error: entry.error.map(|(kind, reason)| (kind, reason.to_owned())),
            json: entry.json.to_owned(),
        }
    }
}

/// Everything one decode call produced, in input order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub entries: Vec<OwnedEntry>,
    pub counters: Counters,
}

impl Sink for Output {
    fn entry(&mut self, entry: &Entry<'_>) {
        self.entries.push(entry.into());
    }
}

impl Output {
    /// The entries of one kind, in order.
    pub fn of_kind(&self, kind: EntryKind) -> impl Iterator<Item = &OwnedEntry> {
        self.entries.iter().filter(move |entry| entry.kind == kind)
    }

    /// One JSON text per line, in input order: the form every host's output
    /// is compared in.
    pub fn to_ndjson(&self) -> String {
        let mut out = String::with_capacity(self.entries.iter().map(|entry| entry.json.len() + 1).sum());
        for entry in &self.entries {
            out.push_str(&entry.json);
            out.push('\n');
        }
        out
    }
}

/// The output as NDJSON text, one string per kind, each in input order:
/// what a host that forwards lines needs (documents to search and storage,
/// alerts to Slack, errors to a dead letter), built without an allocation
/// per entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NdjsonOutput {
    pub documents: String,
    pub alerts: String,
    pub errors: String,
    pub counters: Counters,
}

impl NdjsonOutput {
    /// Empty, with room for `documents` bytes of documents: a caller that
    /// passes the last call's size rarely grows the buffer by copies.
    pub fn with_capacity(documents: usize) -> Self {
        NdjsonOutput { documents: String::with_capacity(documents), ..NdjsonOutput::default() }
    }
}

impl Sink for NdjsonOutput {
    fn entry(&mut self, entry: &Entry<'_>) {
        let out = match entry.kind {
            EntryKind::Document => &mut self.documents,
            EntryKind::Alert => &mut self.alerts,
            EntryKind::Error => &mut self.errors,
        };
        out.push_str(entry.json);
        out.push('\n');
    }
}

/// A sink that hands each entry to a closure.
pub struct FnSink<F: FnMut(&Entry<'_>)>(pub F);

impl<F: FnMut(&Entry<'_>)> Sink for FnSink<F> {
    fn entry(&mut self, entry: &Entry<'_>) {
        (self.0)(entry);
    }
}
