//! The record walk: a record's data (base64) -> gzip members -> JSON values
//! -> envelopes -> events, written once for every transport.
//!
//! Each JSON value of a record's decompressed data is read on its own, so a
//! value that is no envelope costs only itself; each event of an envelope
//! too (see `envelope`). Every failure becomes one error document carrying
//! the raw bytes of what failed and nothing more, so the output stays
//! linear in the input.

use base64::Engine as _;

use crate::document::{EnvelopeParts, ErrorDocument, Position, ValidEvent};
use crate::envelope::{self, Envelope, EventSlot, LogEvent, Message};
use crate::error::{ErrorKind, Failure};
use crate::form::is_gzip;
use crate::inflate::{InflateError, Inflater};
use crate::options::Options;
use crate::output::{Counters, Sink};
use crate::scan::{skip_whitespace, value_end};
use crate::time::{MAX_EVENT_MILLIS, MIN_EVENT_MILLIS, in_event_range};
use crate::transport::Origin;

const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Appends the bytes `data` holds in base64 (standard alphabet, padding
/// optional, whitespace ignored) to `out`.
pub fn decode_base64(data: &str, out: &mut Vec<u8>) -> Result<(), base64::DecodeError> {
    let bytes = data.as_bytes();
    if bytes.iter().any(u8::is_ascii_whitespace) {
        // Pasted or wrapped base64.
        let compact: Vec<u8> = bytes.iter().copied().filter(|byte| !byte.is_ascii_whitespace()).collect();
        BASE64.decode_vec(&compact, out)
    } else {
        BASE64.decode_vec(bytes, out)
    }
}

/// Buffers kept between calls.
#[derive(Default)]
pub struct Buffers {
    decoded: Vec<u8>,
    inflated: Inflater,
    pub(crate) document: String,
    pub(crate) slack_payload: String,
    pub(crate) line: String,
}

/// The state of one decode call.
pub struct Walk<'w> {
    pub options: &'w Options,
    pub(crate) buffers: &'w mut Buffers,
    pub(crate) sink: &'w mut dyn Sink,
    pub counters: Counters,
}

/// How an envelope turned out on the fast path.
enum Fast {
    Done,
    /// An event is unusable: read the envelope again on the tolerant path,
    /// for each event's exact bytes.
    Tolerant,
}

impl<'w> Walk<'w> {
    pub fn new(options: &'w Options, buffers: &'w mut Buffers, sink: &'w mut dyn Sink, input_bytes: usize) -> Self {
        Walk { options, buffers, sink, counters: Counters { input_bytes: input_bytes as u64, ..Counters::default() } }
    }

    /// A record's base64 `data`: CloudWatch's gzip, or JSON (Firehose with
    /// decompression on). The record is already counted.
    pub fn base64_record(&mut self, origin: &Origin, data: &str) {
        let mut decoded = std::mem::take(&mut self.buffers.decoded);
        decoded.clear();
        let bytes = data.as_bytes();
        let outcome = match decode_base64(data, &mut decoded) {
            Ok(()) => self.data(origin, &decoded),
            Err(error) => Err(Failure::new(ErrorKind::Base64, format!("record data is not valid base64: {error}"))),
        };
        if let Err(failure) = outcome {
            self.record_failed(origin, failure, bytes);
        }
        self.buffers.decoded = decoded;
    }

    /// Decoded record data: gzip members, or JSON values.
    fn data(&mut self, origin: &Origin, data: &[u8]) -> Result<(), Failure> {
        let mut envelope_index = 0;
        if is_gzip(data) {
            let mut at = 0;
            let mut member = 0;
            while at < data.len() {
                if !is_gzip(&data[at..]) {
                    return Err(Failure::new(ErrorKind::Gzip, format!("unexpected bytes after gzip member {} at byte {at}", member - 1)));
                }
                let used = self.inflate_member(&data[at..]).map_err(|failure| {
                    if member == 0 {
                        failure
                    } else {
                        Failure { reason: format!("gzip member {member} at byte {at}: {}", failure.reason), ..failure }
                    }
                })?;
                self.inflated_values(origin, &mut envelope_index);
                at += used;
                at += data[at..].iter().take_while(|&&byte| byte == 0).count();
                member += 1;
            }
            Ok(())
        } else {
            match data.get(skip_whitespace(data, 0)) {
                // Blank data (empty, or whitespace) holds no event, as a gzip
                // member that inflates to nothing: it gives no entry.
                None => Ok(()),
                Some(b'{') => {
                    self.counters.decompressed_bytes += data.len() as u64;
                    self.values(origin, data, &mut envelope_index);
                    Ok(())
                }
                Some(byte) => Err(Failure::new(
                    ErrorKind::InvalidEnvelope,
                    format!("decoded data is neither gzip nor JSON (first byte 0x{byte:02x})"),
                )),
            }
        }
    }

    /// Inflates the gzip member at the start of `data` into the inflated
    /// buffer; returns the bytes the member used.
    pub fn inflate_member(&mut self, data: &[u8]) -> Result<usize, Failure> {
        let limit = self.options.max_decompressed_bytes;
        match self.buffers.inflated.inflate_member(data, limit) {
            Ok(used) => {
                self.counters.decompressed_bytes += self.buffers.inflated.data().len() as u64;
                Ok(used)
            }
            Err(InflateError::Corrupt(reason)) => Err(Failure::new(ErrorKind::Gzip, reason)),
            Err(InflateError::TooLarge { limit }) => {
                Err(Failure::new(ErrorKind::TooLarge, format!("decompressed data exceeds the limit of {limit} bytes")))
            }
        }
    }

    /// The JSON values of the member just inflated.
    pub fn inflated_values(&mut self, origin: &Origin, envelope_index: &mut usize) {
        let inflated = std::mem::take(&mut self.buffers.inflated);
        self.values(origin, inflated.data(), envelope_index);
        self.buffers.inflated = inflated;
    }

    /// Each JSON value of `data` (Firehose concatenates records with no
    /// delimiter), read on its own.
    pub fn values(&mut self, origin: &Origin, data: &[u8], envelope_index: &mut usize) {
        // The common case first: the data is one envelope.
        if let Ok(text) = std::str::from_utf8(data) {
            let max_events = self.options.max_events_per_record as usize;
            if data.len() as u64 <= self.options.max_decompressed_bytes
                && let Ok(envelope) = envelope::parse(text, max_events)
                && let Ok(Fast::Done) = self.envelope(origin, &envelope, *envelope_index, true)
            {
                *envelope_index += 1;
                return;
            }
        }
        let mut at = skip_whitespace(data, 0);
        while at < data.len() {
            let end = value_end(data, at).unwrap_or(data.len());
            let end = self.value(origin, &data[at..end], *envelope_index, at) + at;
            *envelope_index += 1;
            at = skip_whitespace(data, end);
        }
    }

    /// One JSON value starting at byte `offset` of its data; returns how much
    /// of `value` it took (less than all when a value that is not valid
    /// JSON is cut where the next envelope seems to start).
    fn value(&mut self, origin: &Origin, value: &[u8], index: usize, offset: usize) -> usize {
        let at = |failure: Failure| Failure { reason: format!("envelope {index} at byte {offset}: {}", failure.reason), ..failure };
        let limit = self.options.max_decompressed_bytes;
        if value.len() as u64 > limit {
            let failure = Failure::new(ErrorKind::TooLarge, format!("{} bytes exceed the limit of {limit} bytes", value.len()));
            self.envelope_failed(origin, index, at(failure), None, value);
            return value.len();
        }
        let max_events = self.options.max_events_per_record as usize;
        if let Some(envelope) = std::str::from_utf8(value).ok().and_then(|text| envelope::parse(text, max_events).ok()) {
            match self.envelope(origin, &envelope, index, true) {
                Ok(Fast::Done) => return value.len(),
                Ok(Fast::Tolerant) => {}
                Err(failure) => {
                    self.envelope_failed(origin, index, at(failure), Some(&envelope), value);
                    return value.len();
                }
            }
        }
        match envelope::parse_tolerant(value, max_events) {
            Ok(envelope) => {
                if let Err(failure) = self.envelope(origin, &envelope, index, false) {
                    self.envelope_failed(origin, index, at(failure), Some(&envelope), value);
                }
                value.len()
            }
            Err(reason) => {
                // Valid JSON is one value, envelope or not; only a value that
                // is not valid JSON is cut where the next envelope starts.
                let (taken, reason) = match serde_json::from_slice::<serde::de::IgnoredAny>(value) {
                    Ok(_) => (value.len(), format!("not a CloudWatch Logs envelope: {reason}")),
                    Err(_) => {
                        let taken = resync_point(value).unwrap_or(value.len());
                        let error = serde_json::from_slice::<serde::de::IgnoredAny>(&value[..taken]).err();
                        (taken, format!("not valid JSON: {}", error.map_or_else(String::new, |error| error.to_string())))
                    }
                };
                self.envelope_failed(origin, index, at(Failure::new(ErrorKind::InvalidEnvelope, reason)), None, &value[..taken]);
                taken
            }
        }
    }

    /// Emits one envelope's documents, or says why it cannot. On the fast
    /// path nothing is emitted unless every event can become a document:
    /// otherwise the envelope is read again on the tolerant path, which
    /// keeps each event's exact bytes for its error document.
    fn envelope(&mut self, origin: &Origin, envelope: &Envelope<'_>, index: usize, fast: bool) -> Result<Fast, Failure> {
        if envelope.message_type.as_deref() == Some("CONTROL_MESSAGE") {
            self.counters.envelopes += 1;
            self.counters.control_messages += 1;
            return Ok(Fast::Done);
        }
        let missing = |field: &str| Failure::new(ErrorKind::InvalidEnvelope, format!("envelope has no {field}"));
        let events = envelope.log_events.as_ref().ok_or_else(|| missing("logEvents"))?;
        let log_group = envelope.log_group.as_deref().ok_or_else(|| missing("logGroup"))?;
        let log_stream = envelope.log_stream.as_deref().ok_or_else(|| missing("logStream"))?;
        let limit = self.options.max_events_per_record;
        if envelope.events_total > limit as usize {
            let reason = format!("too many log events: {}, over the limit of {limit}", envelope.events_total);
            return Err(Failure::new(ErrorKind::TooManyEvents, reason));
        }
        if fast && events.iter().any(|slot| valid_event(slot).is_err()) {
            return Ok(Fast::Tolerant);
        }
        let commons = self.options.commons.as_deref().unwrap_or(log_group);
        let parts = EnvelopeParts::new(envelope, log_group, log_stream, commons, origin, self.options.schema, self.options.max_json_depth)?;
        self.counters.envelopes += 1;
        let check_alerts = self.options.checks_stream(log_stream);
        for (event_index, slot) in events.iter().enumerate() {
            self.counters.events += 1;
            match valid_event(slot) {
                Ok(event) => self.document(&parts, &event, check_alerts),
                Err(invalid) => {
                    self.counters.events_failed += 1;
                    let position = Position {
                        envelope_index: Some(index),
                        event_index: Some(event_index),
                        log_group: Some(log_group),
                        log_stream: Some(log_stream),
                    };
                    let time_ms = invalid.time_ms.or(origin.arrival_ms.filter(|millis| in_event_range(*millis)));
                    let reason = format!("{}, envelope {index}, event {event_index}: {}", origin.label, invalid.reason);
                    let failure = Failure::new(ErrorKind::InvalidEvent, invalid.reason);
                    let document = ErrorDocument {
                        failure: &failure,
                        reason: &reason,
                        origin,
                        position,
                        commons: Some(commons),
                        time_ms,
                        raw: invalid.raw,
                    };
                    self.error(&document);
                }
            }
        }
        Ok(Fast::Done)
    }
}

/// Where the next envelope seems to start inside a value that is not valid
/// JSON (a truncated envelope followed by the next one): a `{` at the start
/// of a line, or `{"messageType"`. Neither can appear inside a JSON string.
fn resync_point(value: &[u8]) -> Option<usize> {
    let rest = value.get(1..)?;
    let line = memchr::memmem::find(rest, b"\n{").map(|at| at + 2);
    let envelope = memchr::memmem::find(rest, b"{\"messageType\"").map(|at| at + 1);
    line.into_iter().chain(envelope).min()
}

/// An event that cannot become a document.
struct InvalidEvent<'e> {
    reason: String,
    raw: &'e [u8],
    /// The event's own time, when it has a usable one.
    time_ms: Option<i64>,
}

/// The event as a document's source, or why it cannot be one.
fn valid_event<'e>(slot: &'e EventSlot<'e>) -> Result<ValidEvent<'e>, InvalidEvent<'e>> {
    let (event, raw): (&LogEvent<'e>, &'e [u8]) = match slot {
        EventSlot::Parsed(event, raw) => (event, raw.unwrap_or_default()),
        EventSlot::Unreadable { raw, reason } => return Err(InvalidEvent { reason: reason.clone(), raw, time_ms: None }),
    };
    let timestamp = event_timestamp(event.timestamp);
    let time_ms = timestamp.as_ref().ok().copied();
    let invalid = |reason: String| InvalidEvent { reason, raw, time_ms };
    let id = event_id(event.id).map_err(invalid)?;
    let timestamp_ms = timestamp.map_err(|reason| InvalidEvent { reason, raw, time_ms: None })?;
    let message = match &event.message {
        Message::Text(text) => text.as_ref(),
        Message::Missing => return Err(invalid("event has no message".to_owned())),
        Message::NotText => return Err(invalid("event message is not a string".to_owned())),
    };
    Ok(ValidEvent { id, timestamp_ms, message, extracted_fields: event.extracted_fields })
}

/// The event id as a string: CloudWatch sends a string of digits; some
/// emulators send a number, kept digit for digit.
fn event_id(text: Option<&str>) -> Result<std::borrow::Cow<'_, str>, String> {
    let text = text.ok_or("event has no id")?;
    match text.as_bytes().first() {
        Some(b'"') => crate::message::json_string(text).ok_or_else(|| format!("event id {text} is not a readable string")),
        Some(b'-' | b'0'..=b'9') => Ok(std::borrow::Cow::Borrowed(text)),
        _ => Err(format!("event id {text} is not a string or a number")),
    }
}

/// The event's epoch-millisecond timestamp, in the range every host
/// carries.
fn event_timestamp(text: Option<&str>) -> Result<i64, String> {
    let text = text.ok_or("event has no timestamp")?;
    let millis = text
        .parse::<i64>()
        .ok()
        .or_else(|| text.parse::<f64>().ok().and_then(crate::transport::millis_from_f64))
        .ok_or_else(|| format!("event timestamp {text} is not a number of milliseconds"))?;
    if !in_event_range(millis) {
        return Err(format!(
            "event timestamp {millis} is outside {MIN_EVENT_MILLIS}..={MAX_EVENT_MILLIS} (1970-01-01T00:00:00.000Z to 2106-02-07T06:28:15.999Z), the range every host carries"
        ));
    }
    Ok(millis)
}
