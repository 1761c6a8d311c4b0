//! The decoder: a payload in, entries and counters out.
//!
//! The payload's form is detected (see `form`), its transport yields
//! records (see `transport`), and each record's data is walked on its own
//! (see `walk`), so a bad record becomes one error document and never
//! spoils its neighbours.

use serde_json::value::RawValue;

use crate::error::{ErrorKind, Failure};
use crate::form::{Form, next_member_start, starts_like_envelope};
use crate::options::{OptionError, Options};
use crate::output::{Counters, Output, Sink};
use crate::scan::{skip_whitespace, value_end};
use crate::transport::{DataRecord, EMBEDDED_OPTION_PREFIX, FIRST_RECORD_INDEX, KinesisRecord, Origin, TopLevel};
use crate::walk::{Buffers, Walk};

/// Decodes `payload` with `options`, keeping every entry in memory.
///
/// # Errors
/// When an option is refused.
pub fn decode(payload: &[u8], options: &Options) -> Result<Output, OptionError> {
    let mut output = Output::default();
    output.counters = Decoder::new(options.clone())?.decode(payload, &mut output);
    Ok(output)
}

/// A reusable decoder: its buffers grow to the largest record seen and are
/// kept, so a host calling it per payload allocates little after warm-up.
#[derive(Default)]
pub struct Decoder {
    options: Options,
    buffers: Buffers,
}

impl Decoder {
    /// # Errors
    /// When an option is refused.
    pub fn new(options: Options) -> Result<Self, OptionError> {
        options.validate()?;
        Ok(Decoder { options, buffers: Buffers::default() })
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Changes the options and keeps the buffers.
    ///
    /// # Errors
    /// When an option is refused; the options are then unchanged.
    pub fn set_options(&mut self, options: Options) -> Result<(), OptionError> {
        options.validate()?;
        self.options = options;
        Ok(())
    }

    /// Decodes one payload into `sink` and returns what it counted.
    pub fn decode(&mut self, payload: &[u8], sink: &mut dyn Sink) -> Counters {
        let options = self.options.clone();
        self.run(payload, &options, sink, None)
    }

    /// Like [`Decoder::decode`], with options the payload may set for itself
    /// in top-level keys `gen3_cwlogs_<option>` (strings in the options'
    /// text form, as [`Options::set`] reads them) over the decoder's own:
    /// for hosts with no per-call options, such as Fluent Bit, whose
    /// pipeline writes them into each record. The payload is parsed once.
    /// Refused options make the whole payload one `invalid-options` error
    /// document; nothing of it is decoded with options it did not ask for.
    /// The payload may lower `max_json_depth` but not raise it above the
    /// decoder's own, which is the host's ceiling.
    pub fn decode_with_embedded_options(&mut self, payload: &[u8], sink: &mut dyn Sink) -> Counters {
        let (form, start) = Form::detect(payload);
        let body = &payload[start..];
        let text = match (form, std::str::from_utf8(body)) {
            (Form::JsonObject, Ok(text)) => text,
            _ => return self.decode(payload, sink),
        };
        let Ok(top) = serde_json::from_str::<TopLevel>(text) else { return self.decode(payload, sink) };
        let mut options = self.options.clone();
        let applied = top.embedded_options.iter().try_for_each(|(key, value)| {
            let name = &key[EMBEDDED_OPTION_PREFIX.len()..];
            let text = crate::message::json_string(value.get()).map_or_else(|| value.get().to_owned(), |text| text.into_owned());
            options.set(name, &text)
        });
        // The decoder's depth is its host's ceiling (Fluent Bit cannot read
        // records nested deeper): a payload may lower it, never raise it.
        let ceiling = self.options.max_json_depth;
        let applied = applied.and_then(|()| match options.max_json_depth > ceiling {
            true => Err(OptionError {
                option: "max_json_depth".to_owned(),
                reason: format!("{} is over this host's limit of {ceiling}", options.max_json_depth),
            }),
            false => Ok(()),
        });
        match applied {
            Ok(()) => self.run(payload, &options, sink, Some(top)),
            Err(error) => {
                let failure = Failure::new(ErrorKind::InvalidOptions, format!("the payload's option {EMBEDDED_OPTION_PREFIX}{error}"));
                self.fail_payload(payload, failure, sink)
            }
        }
    }

    /// Reports a payload the host could not hand over (e.g. Fluent Bit
    /// failed to copy a record into the module): one `invalid-record` error
    /// document with the host's reason and no raw data.
    pub fn report_unreadable_payload(&mut self, reason: &str, sink: &mut dyn Sink) -> Counters {
        self.fail_payload(b"", Failure::new(ErrorKind::InvalidRecord, reason), sink)
    }

    fn fail_payload(&mut self, payload: &[u8], failure: Failure, sink: &mut dyn Sink) -> Counters {
        let options = self.options.clone();
        let mut walk = Walk::new(&options, &mut self.buffers, sink, payload.len());
        walk.counters.records += 1;
        walk.record_failed(&Origin::plain("payload".to_owned(), 0), failure, payload);
        walk.counters
    }

    fn run(&mut self, payload: &[u8], options: &Options, sink: &mut dyn Sink, top: Option<TopLevel<'_>>) -> Counters {
        let mut walk = Walk::new(options, &mut self.buffers, sink, payload.len());
        let (form, start) = Form::detect(payload);
        let body = &payload[start..];
        match form {
            Form::Gzip => archive(&mut walk, body),
            Form::JsonObject => json_payload(&mut walk, payload, body, top),
            Form::Base64 => {
                let origin = Origin::plain("payload (base64 record data)".to_owned(), 0);
                walk.counters.records += 1;
                // All base64 bytes are ASCII.
                walk.base64_record(&origin, std::str::from_utf8(body).unwrap_or_default());
            }
            Form::Empty => {
                walk.counters.records += 1;
                walk.record_failed(
                    &Origin::plain("payload".to_owned(), 0),
                    Failure::new(ErrorKind::UnrecognisedInput, "payload is empty"),
                    payload,
                );
            }
            Form::Unrecognised(byte) => {
                let reason = format!(
                    "payload is not gzip, JSON or base64 (first byte 0x{byte:02x}); expected a Kinesis event, a Firehose delivery, an S3 archive or one record's data"
                );
                walk.counters.records += 1;
                walk.record_failed(&Origin::plain("payload".to_owned(), 0), Failure::new(ErrorKind::UnrecognisedInput, reason), payload);
            }
        }
        walk.counters
    }
}

/// An S3 archive (or one record's raw gzip data): concatenated gzip
/// members, each a record of its own. A member that cannot be inflated ends
/// where the next member header starts, so its error document carries
/// exactly its own bytes.
fn archive(walk: &mut Walk<'_>, body: &[u8]) {
    let mut at = 0;
    let mut member = 0;
    while at < body.len() {
        let rest = &body[at..];
        if !crate::form::is_gzip(rest) {
            let end = next_member_start(body, at);
            let origin = Origin::plain(format!("data after gzip member {} at byte {at}", member - 1), member);
            walk.counters.records += 1;
            walk.record_failed(&origin, Failure::new(ErrorKind::Gzip, "bytes that are not a gzip member"), &body[at..end]);
            at = end;
        } else {
            let origin = Origin::plain(format!("gzip member {member} at byte {at}"), member);
            walk.counters.records += 1;
            match walk.inflate_member(rest) {
                Ok(used) => {
                    walk.inflated_values(&origin, &mut 0);
                    at += used;
                }
                Err(failure) => {
                    let end = next_member_start(body, at + 1);
                    walk.record_failed(&origin, failure, &body[at..end]);
                    at = end;
                }
            }
        }
        // Some writers pad members with zero bytes.
        at += body[at..].iter().take_while(|&&byte| byte == 0).count();
        member += 1;
        walk.sink.progress(at as u64);
    }
}

/// A JSON object payload: a transport, or envelopes. `top` is the payload
/// already parsed, when the caller parsed it.
fn json_payload(walk: &mut Walk<'_>, payload: &[u8], body: &[u8], top: Option<TopLevel<'_>>) {
    if top.is_none() && starts_like_envelope(body) {
        return top_level_values(walk, body);
    }
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(error) => {
            let reason = format!("payload is not valid UTF-8 (at byte {})", error.valid_up_to());
            walk.counters.records += 1;
            return walk.record_failed(&Origin::plain("payload".to_owned(), 0), Failure::new(ErrorKind::Utf8, reason), payload);
        }
    };
    let top = match top.map_or_else(|| serde_json::from_str::<TopLevel>(text), Ok) {
        Ok(top) => top,
        Err(error) => {
            // Several JSON values (concatenated envelopes whose first is no
            // envelope): each is read on its own.
            if value_end(body, 0).is_some_and(|end| skip_whitespace(body, end) < body.len()) {
                return top_level_values(walk, body);
            }
            let reason = format!("payload is not valid JSON: {error}");
            walk.counters.records += 1;
            return walk.record_failed(&Origin::plain("payload".to_owned(), 0), Failure::new(ErrorKind::InvalidRecord, reason), payload);
        }
    };
    let max_depth = walk.options.max_json_depth;
    // Records are slices of the payload: where one ends is the progress.
    let consumed = |raw: &RawValue| (raw.get().as_ptr() as usize + raw.get().len()).saturating_sub(body.as_ptr() as usize) as u64;
    if let Some(records) = &top.kinesis_records {
        for (index, raw) in records.iter().enumerate() {
            walk.sink.progress(consumed(raw));
            walk.counters.records += 1;
            match serde_json::from_str::<KinesisRecord>(raw.get()) {
                Ok(record) => walk.base64_record(&Origin::kinesis(index, &record, max_depth), &record.kinesis.data),
                Err(error) => invalid_record(walk, &format!("Kinesis record {index}"), index, raw, "a Kinesis record", &error),
            }
        }
    } else if let Some(records) = &top.firehose_records {
        let first = match top.first_record_index.map(first_record_index).transpose() {
            Ok(first) => first.unwrap_or(0),
            Err(reason) => {
                walk.counters.records += 1;
                return walk.record_failed(
                    &Origin::plain("payload".to_owned(), 0),
                    Failure::new(ErrorKind::InvalidRecord, reason),
                    payload,
                );
            }
        };
        for (index, raw) in records.iter().enumerate() {
            walk.sink.progress(consumed(raw));
            walk.counters.records += 1;
            let origin = Origin::firehose(first + index, top.request_id, top.timestamp, max_depth);
            match serde_json::from_str::<DataRecord>(raw.get()) {
                Ok(record) => walk.base64_record(&origin, &record.data),
                Err(error) => {
                    let failure = Failure::new(ErrorKind::InvalidRecord, format!("not a Firehose record: {error}"));
                    walk.record_failed(&origin, failure, raw.get().as_bytes());
                }
            }
        }
    } else if let Some(raw) = top.awslogs {
        walk.counters.records += 1;
        match serde_json::from_str::<DataRecord>(raw.get()) {
            Ok(record) => walk.base64_record(&Origin::plain("CloudWatch Logs event (awslogs)".to_owned(), 0), &record.data),
            Err(error) => invalid_record(walk, "CloudWatch Logs event (awslogs)", 0, raw, "an awslogs object with data", &error),
        }
    } else if top.has_log_events {
        top_level_values(walk, body);
    } else {
        let reason = "JSON payload is neither a Kinesis event (Records), a Firehose delivery (records), a CloudWatch Logs event (awslogs) nor a CloudWatch Logs envelope (logEvents)";
        walk.counters.records += 1;
        walk.record_failed(&Origin::plain("payload".to_owned(), 0), Failure::new(ErrorKind::UnrecognisedInput, reason), payload);
    }
}

/// The front's `firstRecordIndex`: a whole number that a record index
/// (`usize` on every host, 32 bits in wasm) holds with room for the part's
/// records. Anything else is refused with the whole payload, so no record
/// is stored under an index it does not have.
fn first_record_index(raw: &RawValue) -> Result<usize, String> {
    raw.get()
        .parse::<u32>()
        .ok()
        .filter(|&first| first <= FIRST_RECORD_INDEX_MAX)
        .map(|first| first as usize)
        .ok_or_else(|| format!("{FIRST_RECORD_INDEX} must be a whole number from 0 to {FIRST_RECORD_INDEX_MAX} (the front sets it when it splits a Firehose delivery)"))
}

/// Firehose sends at most 64 MiB, so a delivery has fewer records than this.
const FIRST_RECORD_INDEX_MAX: u32 = 1 << 30;

fn invalid_record(walk: &mut Walk<'_>, label: &str, index: usize, raw: &RawValue, what: &str, error: &serde_json::Error) {
    let failure = Failure::new(ErrorKind::InvalidRecord, format!("not {what}: {error}"));
    walk.record_failed(&Origin::plain(label.to_owned(), index), failure, raw.get().as_bytes());
}

/// Envelopes given directly (one record's decompressed data, or an archive
/// already gunzipped): the payload is one record whose JSON values are each
/// read on their own.
fn top_level_values(walk: &mut Walk<'_>, body: &[u8]) {
    let origin = Origin::plain("payload (CloudWatch Logs JSON)".to_owned(), 0);
    walk.counters.records += 1;
    walk.counters.decompressed_bytes += body.len() as u64;
    walk.values(&origin, body, &mut 0);
}
