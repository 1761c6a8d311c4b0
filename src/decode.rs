//! From one payload to documents, alerts and error documents.
//!
//! The payload's form is detected from its first bytes: gzip (one record's
//! data or an S3 archive of concatenated members), a JSON object (a Kinesis
//! event, a Firehose delivery, or one or more concatenated envelopes), or
//! base64 text (one record's data). Each record is decoded on its own, so a
//! bad one becomes one error document and never spoils its neighbours.

use std::borrow::Cow;
use std::fmt::Write as _;

use base64::Engine as _;
use serde::de::DeserializeSeed;
use serde_json::value::RawValue;

use crate::envelope::{
    CowStr, EMBEDDED_OPTION_PREFIX, EmbeddedOptions, Envelope, EnvelopeSeed, FirehoseRecord, KubernetesPod, KinesisRecord, LogEvent, Members, Message,
    TOO_MANY_EVENTS, Transport,
};
use crate::inflate::{InflateError, inflate_member, is_gzip};
use crate::json::{fnv1a_128, nests_deeper_than, push_copied_value, trim_json_start, write_iso8601_millis, write_key, write_str};
use crate::options::{Options, Schema};
use crate::sink::{AlertRef, Counters, DocumentRef, ErrorKind, ErrorRef, Output, Sink, write_commons};

/// Bound on the metadata copied into every document of a record (envelope
/// fields plus Kinesis/Firehose fields). CloudWatch names are at most 512
/// characters, so real metadata is far below it; the bound keeps a hostile
/// record from multiplying its size by its event count.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// Envelope keys: a top-level JSON object starting with one of these is an
/// envelope (AWS writes `messageType` first).
const ENVELOPE_KEYS: [&str; 7] =
    ["messageType", "owner", "logGroup", "logStream", "subscriptionFilters", "logEvents", "policyLevel"];

/// Document keys the decoder writes itself; an unknown envelope field with
/// one of these names is not copied (it would duplicate the key).
const RESERVED_KEYS: [&str; 12] = [
    "messageType",
    "owner",
    "logGroup",
    "logStream",
    "subscriptionFilters",
    "timestamp",
    "message",
    "id",
    "commons",
    "kinesis",
    "firehose",
    "logEvents",
];

const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes `payload` with `options`, keeping all output in memory.
pub fn decode(payload: &[u8], options: &Options) -> Output {
    let mut output = Output::default();
    let counters = Decoder::new(options.clone()).decode(payload, &mut output);
    output.counters = counters;
    output
}

/// A reusable decoder: buffers grow to the largest record seen and are kept,
/// so a host calling it per record allocates little after warm-up.
pub struct Decoder {
    options: Options,
    inflated: Vec<u8>,
    decoded_base64: Vec<u8>,
    document: String,
    alert_payload: String,
}

/// Where a record came from.
struct Record<'a> {
    /// Names the record in error reasons.
    label: String,
    index: usize,
    /// Identity of the record for error-document ids.
    key: String,
    /// `"kinesis":{...}` or `"firehose":{...}`, or empty.
    metadata: String,
    arrival_ms: Option<i64>,
    /// The record's data as received, carried by its error documents.
    raw: Raw<'a>,
}

#[derive(Clone, Copy)]
enum Raw<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
}

impl Raw<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Raw::Text(text) => text.as_bytes(),
            Raw::Bytes(bytes) => bytes,
        }
    }
}

struct RecordError {
    kind: ErrorKind,
    reason: String,
}

impl RecordError {
    fn new(kind: ErrorKind, reason: impl Into<String>) -> Self {
        RecordError { kind, reason: reason.into() }
    }
}

/// The state of one decode call.
struct Run<'s> {
    sink: &'s mut dyn Sink,
    counters: Counters,
}

impl Decoder {
    pub fn new(options: Options) -> Self {
        Decoder {
            options,
            inflated: Vec::new(),
            decoded_base64: Vec::new(),
            document: String::new(),
            alert_payload: String::new(),
        }
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Changes the options and keeps the buffers.
    pub fn set_options(&mut self, options: Options) {
        self.options = options;
    }

    /// Decodes one payload into `sink` and returns what it counted.
    pub fn decode(&mut self, payload: &[u8], sink: &mut dyn Sink) -> Counters {
        if self.options.embedded_options {
            if let Some(options) = embedded_options(payload, &self.options) {
                let configured = std::mem::replace(&mut self.options, options);
                let counters = self.decode_payload(payload, sink);
                self.options = configured;
                return counters;
            }
        }
        self.decode_payload(payload, sink)
    }

    fn decode_payload(&mut self, payload: &[u8], sink: &mut dyn Sink) -> Counters {
        let mut run = Run { sink, counters: Counters { input_bytes: payload.len() as u64, ..Counters::default() } };
        let start = payload.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(payload.len());
        let body = &payload[start..];
        if is_gzip(body) {
            self.decode_gzip_archive(body, &mut run);
        } else if body.first() == Some(&b'{') {
            self.decode_json_payload(body, &mut run);
        } else if !body.is_empty() && body.iter().all(|&b| is_base64_byte(b) || b.is_ascii_whitespace()) {
            // All base64 bytes are ASCII.
            let text = std::str::from_utf8(body).unwrap_or_default();
            let record = Record::plain("payload (base64 record data)", 0, Raw::Text(text));
            self.decode_record(&record, |decoder, run| decoder.decode_base64_data(text, &record, run), &mut run);
        } else {
            let record = Record::plain("payload", 0, Raw::Bytes(payload));
            let reason = if body.is_empty() {
                "payload is empty".to_owned()
            } else {
                format!(
                    "payload is not gzip, JSON or base64 (first byte 0x{:02x}); expected a Kinesis event, a Firehose delivery, an S3 archive or one record's data",
                    body[0]
                )
            };
            run.counters.records += 1;
            self.record_failed(&record, RecordError::new(ErrorKind::UnrecognisedInput, reason), &mut run);
        }
        run.counters
    }

    /// Counts one record, runs `decode` on it and turns its failure into an
    /// error document.
    fn decode_record(
        &mut self,
        record: &Record<'_>,
        decode: impl FnOnce(&mut Self, &mut Run<'_>) -> Result<(), RecordError>,
        run: &mut Run<'_>,
    ) {
        run.counters.records += 1;
        if let Err(error) = decode(self, run) {
            self.record_failed(record, error, run);
        }
    }

    /// An S3 archive (or one record's raw gzip data): concatenated gzip
    /// members, each one a record of its own.
    fn decode_gzip_archive(&mut self, body: &[u8], run: &mut Run<'_>) {
        let mut at = 0;
        let mut member = 0;
        while at < body.len() {
            let rest = &body[at..];
            let record = Record::plain(&format!("gzip member {member} at byte {at}"), member, Raw::Bytes(rest));
            let mut used = 0;
            self.decode_record(
                &record,
                |decoder, run| {
                    used = decoder.inflate_into(rest, run)?;
                    let inflated = std::mem::take(&mut decoder.inflated);
                    let result = decoder.decode_envelopes(&inflated, &record, run);
                    decoder.inflated = inflated;
                    result
                },
                run,
            );
            if used == 0 {
                // The member could not be delimited; its error document
                // carries everything from its start.
                return;
            }
            at += used;
            at += body[at..].iter().take_while(|&&b| b == 0).count();
            member += 1;
            if at < body.len() && !is_gzip(&body[at..]) {
                let rest = &body[at..];
                let record = Record::plain(&format!("data after gzip member {} at byte {at}", member - 1), member, Raw::Bytes(rest));
                run.counters.records += 1;
                let error = RecordError::new(ErrorKind::Gzip, "unexpected bytes after the last gzip member");
                self.record_failed(&record, error, run);
                return;
            }
        }
    }

    fn inflate_into(&mut self, data: &[u8], run: &mut Run<'_>) -> Result<usize, RecordError> {
        let limit = self.options.limits.max_decompressed_bytes;
        match inflate_member(data, &mut self.inflated, limit) {
            Ok(used) => {
                run.counters.decompressed_bytes += self.inflated.len() as u64;
                Ok(used)
            }
            Err(InflateError::Corrupt(reason)) => Err(RecordError::new(ErrorKind::Gzip, reason)),
            Err(InflateError::TooLarge { limit }) => Err(RecordError::new(
                ErrorKind::TooLarge,
                format!("decompressed data exceeds the limit of {limit} bytes"),
            )),
        }
    }

    fn decode_json_payload(&mut self, body: &[u8], run: &mut Run<'_>) {
        let text = match std::str::from_utf8(body) {
            Ok(text) => text,
            Err(error) => {
                let record = Record::plain("payload", 0, Raw::Bytes(body));
                run.counters.records += 1;
                let reason = format!("payload is not valid UTF-8 (at byte {})", error.valid_up_to());
                self.record_failed(&record, RecordError::new(ErrorKind::Utf8, reason), run);
                return;
            }
        };
        if first_key(text).is_some_and(|key| ENVELOPE_KEYS.contains(&key)) {
            self.decode_top_envelopes(text, run);
            return;
        }
        let transport = match serde_json::from_str::<Transport>(text) {
            Ok(transport) => transport,
            Err(error) => {
                let record = Record::plain("payload", 0, Raw::Text(text));
                run.counters.records += 1;
                let reason = format!("payload is not valid JSON: {error}");
                self.record_failed(&record, RecordError::new(ErrorKind::InvalidRecord, reason), run);
                return;
            }
        };
        if let Some(records) = &transport.kinesis_records {
            for (index, raw) in records.iter().enumerate() {
                self.decode_kinesis_record(index, raw, run);
            }
        } else if let Some(records) = &transport.firehose_records {
            let request_id = transport.request_id.map(RawValue::get);
            let timestamp = transport.timestamp.map(RawValue::get);
            for (index, raw) in records.iter().enumerate() {
                self.decode_firehose_record(index, raw, request_id, timestamp, run);
            }
        } else if transport.log_events.is_some() {
            self.decode_top_envelopes(text, run);
        } else {
            let record = Record::plain("payload", 0, Raw::Text(text));
            run.counters.records += 1;
            let reason = "JSON payload is neither a Kinesis event (Records), a Firehose delivery (records) nor a CloudWatch Logs envelope (logEvents)";
            self.record_failed(&record, RecordError::new(ErrorKind::UnrecognisedInput, reason), run);
        }
    }

    /// Decompressed envelopes given directly (one record's decompressed data,
    /// or an archive already gunzipped): one record.
    fn decode_top_envelopes(&mut self, text: &str, run: &mut Run<'_>) {
        let record = Record::plain("payload (CloudWatch Logs JSON)", 0, Raw::Text(text));
        self.decode_record(
            &record,
            |decoder, run| {
                run.counters.decompressed_bytes += text.len() as u64;
                decoder.check_size(text.len())?;
                decoder.decode_envelopes(text.as_bytes(), &record, run)
            },
            run,
        );
    }

    fn check_size(&self, size: usize) -> Result<(), RecordError> {
        let limit = self.options.limits.max_decompressed_bytes;
        if size as u64 > limit {
            return Err(RecordError::new(ErrorKind::TooLarge, format!("data exceeds the limit of {limit} bytes")));
        }
        Ok(())
    }

    fn decode_kinesis_record(&mut self, index: usize, raw: &RawValue, run: &mut Run<'_>) {
        let parsed = serde_json::from_str::<KinesisRecord>(raw.get());
        let record = match &parsed {
            Ok(kinesis) => {
                let sequence = kinesis.kinesis.sequence_number.map(RawValue::get);
                let mut metadata = String::from("\"kinesis\":{");
                let fields = [
                    ("eventID", kinesis.event_id),
                    ("sequenceNumber", kinesis.kinesis.sequence_number),
                    ("partitionKey", kinesis.kinesis.partition_key),
                    ("approximateArrivalTimestamp", kinesis.kinesis.approximate_arrival_timestamp),
                    ("eventSourceARN", kinesis.event_source_arn),
                    ("awsRegion", kinesis.aws_region),
                ];
                let mut first = true;
                for (key, value) in fields {
                    if let Some(value) = value {
                        if !first {
                            metadata.push(',');
                        }
                        first = false;
                        write_key(&mut metadata, key);
                        write_raw_within(&mut metadata, value.get(), self.options.limits.json_depth());
                    }
                }
                metadata.push('}');
                Record {
                    label: match sequence {
                        Some(sequence) => format!("Kinesis record {index} (sequenceNumber {})", unquote(sequence)),
                        None => format!("Kinesis record {index}"),
                    },
                    index,
                    key: format!("kinesis:{}:{index}", sequence.unwrap_or("")),
                    metadata,
                    arrival_ms: kinesis
                        .kinesis
                        .approximate_arrival_timestamp
                        .and_then(|value| value.get().parse::<f64>().ok())
                        .and_then(|secs| millis_from_f64(secs * 1000.0)),
                    raw: Raw::Text(&kinesis.kinesis.data),
                }
            }
            Err(_) => Record::plain(&format!("Kinesis record {index}"), index, Raw::Text(raw.get())),
        };
        self.decode_record(
            &record,
            |decoder, run| match &parsed {
                Ok(kinesis) => {
                    check_metadata_size(record.metadata.len())?;
                    decoder.decode_base64_data(&kinesis.kinesis.data, &record, run)
                }
                Err(error) => Err(RecordError::new(ErrorKind::InvalidRecord, format!("not a Kinesis record: {error}"))),
            },
            run,
        );
    }

    fn decode_firehose_record(
        &mut self,
        index: usize,
        raw: &RawValue,
        request_id: Option<&str>,
        timestamp: Option<&str>,
        run: &mut Run<'_>,
    ) {
        let parsed = serde_json::from_str::<FirehoseRecord>(raw.get());
        let mut metadata = String::from("\"firehose\":{");
        if let Some(request_id) = request_id {
            metadata.push_str("\"requestId\":");
            write_raw_within(&mut metadata, request_id, self.options.limits.json_depth());
            metadata.push(',');
        }
        if let Some(timestamp) = timestamp {
            metadata.push_str("\"timestamp\":");
            write_raw_within(&mut metadata, timestamp, self.options.limits.json_depth());
            metadata.push(',');
        }
        let _ = write!(metadata, "\"recordIndex\":{index}}}");
        let record = Record {
            label: match request_id {
                Some(request_id) => format!("Firehose record {index} of request {}", unquote(request_id)),
                None => format!("Firehose record {index}"),
            },
            index,
            key: format!("firehose:{}:{index}", request_id.unwrap_or("")),
            metadata,
            arrival_ms: timestamp.and_then(|value| value.parse::<f64>().ok()).and_then(millis_from_f64),
            raw: match &parsed {
                Ok(firehose) => Raw::Text(&firehose.data),
                Err(_) => Raw::Text(raw.get()),
            },
        };
        self.decode_record(
            &record,
            |decoder, run| match &parsed {
                Ok(firehose) => {
                    check_metadata_size(record.metadata.len())?;
                    decoder.decode_base64_data(&firehose.data, &record, run)
                }
                Err(error) => Err(RecordError::new(ErrorKind::InvalidRecord, format!("not a Firehose record: {error}"))),
            },
            run,
        );
    }

    /// A record's `data`: base64 of gzip (CloudWatch's own form) or of the
    /// decompressed JSON (Firehose with decompression on).
    fn decode_base64_data(&mut self, data: &str, record: &Record<'_>, run: &mut Run<'_>) -> Result<(), RecordError> {
        let mut decoded = std::mem::take(&mut self.decoded_base64);
        decoded.clear();
        let result = decode_base64_into(data, &mut decoded);
        let result = match result {
            Ok(()) => self.decode_data(&decoded, record, run),
            Err(reason) => Err(RecordError::new(ErrorKind::Base64, reason)),
        };
        self.decoded_base64 = decoded;
        result
    }

    /// Decoded record data: gzip (possibly several members) or plain JSON.
    fn decode_data(&mut self, data: &[u8], record: &Record<'_>, run: &mut Run<'_>) -> Result<(), RecordError> {
        if is_gzip(data) {
            let mut at = 0;
            while at < data.len() {
                if !is_gzip(&data[at..]) {
                    return Err(RecordError::new(
                        ErrorKind::Gzip,
                        format!("unexpected bytes after a gzip member at byte {at}"),
                    ));
                }
                at += self.inflate_into(&data[at..], run)?;
                let inflated = std::mem::take(&mut self.inflated);
                let result = self.decode_envelopes(&inflated, record, run);
                self.inflated = inflated;
                result?;
                at += data[at..].iter().take_while(|&&b| b == 0).count();
            }
            Ok(())
        } else if data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            run.counters.decompressed_bytes += data.len() as u64;
            self.check_size(data.len())?;
            self.decode_envelopes(data, record, run)
        } else {
            let reason = match data.first() {
                Some(byte) => format!("decoded data is neither gzip nor JSON (first byte 0x{byte:02x})"),
                None => "record data is empty".to_owned(),
            };
            Err(RecordError::new(ErrorKind::InvalidEnvelope, reason))
        }
    }

    /// One or more concatenated envelopes (Firehose writes them to S3 with
    /// no delimiter).
    fn decode_envelopes(&mut self, data: &[u8], record: &Record<'_>, run: &mut Run<'_>) -> Result<(), RecordError> {
        let text = std::str::from_utf8(data).map_err(|error| {
            RecordError::new(
                ErrorKind::Utf8,
                format!("decompressed data is not valid UTF-8 (at byte {})", error.valid_up_to()),
            )
        })?;
        let mut budget = self.options.limits.max_events_per_record as usize;
        // The common case is one envelope: parse it in place.
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let first = EnvelopeSeed { max_events: budget }.deserialize(&mut deserializer);
        match first {
            Ok(envelope) if deserializer.end().is_ok() => return self.emit_envelope(envelope, record, run),
            Ok(_) => {}
            Err(error) => return Err(envelope_error(&error)),
        }
        // Several envelopes: delimit each, then parse it.
        let mut stream = serde_json::Deserializer::from_str(text).into_iter::<&RawValue>();
        let mut count = 0;
        loop {
            let offset = stream.byte_offset();
            match stream.next() {
                None => break,
                Some(Ok(raw)) => {
                    let envelope = EnvelopeSeed { max_events: budget }
                        .deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
                        .map_err(|error| envelope_error(&error))
                        .map_err(|error| RecordError { reason: format!("envelope {count} at byte {offset}: {}", error.reason), ..error })?;
                    budget -= envelope.log_events.as_ref().map_or(0, Vec::len);
                    self.emit_envelope(envelope, record, run)?;
                    count += 1;
                }
                Some(Err(error)) => {
                    return Err(RecordError::new(
                        ErrorKind::InvalidEnvelope,
                        format!("envelope {count} at byte {offset} is not valid JSON: {error}"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn emit_envelope(&mut self, envelope: Envelope<'_>, record: &Record<'_>, run: &mut Run<'_>) -> Result<(), RecordError> {
        run.counters.envelopes += 1;
        if envelope.message_type.as_deref() == Some("CONTROL_MESSAGE") {
            run.counters.control_messages += 1;
            return Ok(());
        }
        let missing = |field: &str| RecordError::new(ErrorKind::InvalidEnvelope, format!("envelope has no {field}"));
        let events = envelope.log_events.as_ref().ok_or_else(|| missing("logEvents"))?;
        let log_group = envelope.log_group.as_deref().ok_or_else(|| missing("logGroup"))?;
        let log_stream = envelope.log_stream.as_deref().ok_or_else(|| missing("logStream"))?;
        let configured_commons = self.options.commons.clone();
        let commons = configured_commons.as_deref().unwrap_or(log_group);

        // Everything before `timestamp` is the same for all events.
        let mut prefix = String::with_capacity(256);
        prefix.push('{');
        let strings = [
            ("messageType", envelope.message_type.as_deref()),
            ("owner", envelope.owner.as_deref()),
            ("logGroup", Some(log_group)),
            ("logStream", Some(log_stream)),
        ];
        for (key, value) in strings {
            if let Some(value) = value {
                write_key(&mut prefix, key);
                write_str(&mut prefix, value);
                prefix.push(',');
            }
        }
        if let Some(filters) = &envelope.subscription_filters {
            write_key(&mut prefix, "subscriptionFilters");
            prefix.push('[');
            for (index, filter) in filters.iter().enumerate() {
                if index > 0 {
                    prefix.push(',');
                }
                write_str(&mut prefix, filter);
            }
            prefix.push_str("],");
        }
        for (key, value) in &envelope.extra {
            if !RESERVED_KEYS.contains(&key.as_ref()) && !key.starts_with(EMBEDDED_OPTION_PREFIX) {
                write_str(&mut prefix, key);
                prefix.push(':');
                write_raw_within(&mut prefix, value.get(), self.options.limits.json_depth());
                prefix.push(',');
            }
        }
        // The suffix after `message`.
        let mut suffix = String::with_capacity(64 + record.metadata.len());
        write_commons(&mut suffix, Some(commons));
        if !record.metadata.is_empty() {
            suffix.push(',');
            suffix.push_str(&record.metadata);
        }
        suffix.push('}');
        check_metadata_size(prefix.len() + suffix.len())?;

        let check_alerts = self.options.checks_stream(log_stream);
        let envelope_context =
            EnvelopeContext { log_group, log_stream, commons, prefix: &prefix, suffix: &suffix, check_alerts };
        for (index, event) in events.iter().enumerate() {
            run.counters.events += 1;
            if let Err(reason) = self.emit_event(event, &envelope_context, run) {
                run.counters.events_failed += 1;
                self.event_failed(event, index, &envelope_context, record, &reason, run);
            }
        }
        Ok(())
    }

    fn emit_event(&mut self, event: &LogEvent<'_>, envelope: &EnvelopeContext<'_>, run: &mut Run<'_>) -> Result<(), String> {
        let id = event_id(event.id)?;
        let timestamp_ms = event_timestamp(event.timestamp)?;
        let message = match &event.message {
            Message::Text(text) => text.as_ref(),
            Message::Missing => return Err("event has no message".into()),
            Message::NotText(_) => return Err("event message is not a string".into()),
        };
        let document = &mut self.document;
        document.clear();
        document.push_str(envelope.prefix);
        write_key(document, "timestamp");
        if !write_iso8601_millis(document, timestamp_ms) {
            return Err(format!("event timestamp {timestamp_ms} is outside years 0000-9999"));
        }
        document.push(',');
        write_key(document, "message");
        let seconds = write_message(
            document,
            message,
            self.options.schema,
            self.options.limits.json_depth(),
            envelope.check_alerts.then_some(AlertCheck {
                threshold: self.options.slow_threshold_secs.unwrap_or(f64::INFINITY),
                log_group: envelope.log_group,
                payload: &mut self.alert_payload,
            }),
        );
        document.push(',');
        write_key(document, "id");
        write_str(document, &id);
        document.push(',');
        document.push_str(envelope.suffix);
        run.counters.documents += 1;
        run.sink.document(DocumentRef { id: &id, commons: envelope.commons, timestamp_ms, json: document });
        if let Some(seconds) = seconds {
            run.counters.alerts += 1;
            run.sink.alert(AlertRef {
                document_id: &id,
                commons: envelope.commons,
                log_group: envelope.log_group,
                seconds: &seconds,
                slack_payload: &self.alert_payload,
            });
        }
        Ok(())
    }

    fn record_failed(&mut self, record: &Record<'_>, error: RecordError, run: &mut Run<'_>) {
        run.counters.records_failed += 1;
        let reason = format!("{}: {}", record.label, error.reason);
        let commons = self.options.commons.clone();
        let failure = Failure {
            key: &record.key,
            event_index: None,
            commons: commons.as_deref(),
            timestamp_ms: record.arrival_ms,
            kind: error.kind,
            reason: &reason,
            record_index: record.index,
            log_group: None,
            log_stream: None,
            metadata: &record.metadata,
            raw: record.raw,
        };
        self.emit_failure(&failure, run);
    }

    fn event_failed(
        &mut self,
        event: &LogEvent<'_>,
        index: usize,
        envelope: &EnvelopeContext<'_>,
        record: &Record<'_>,
        reason: &str,
        run: &mut Run<'_>,
    ) {
        // The event as received, so nothing of it is lost.
        let mut raw = String::from("{");
        if let Some(id) = event.id {
            raw.push_str("\"id\":");
            raw.push_str(id.get());
            raw.push(',');
        }
        if let Some(timestamp) = event.timestamp {
            raw.push_str("\"timestamp\":");
            raw.push_str(timestamp.get());
            raw.push(',');
        }
        match &event.message {
            Message::Text(text) => {
                raw.push_str("\"message\":");
                write_str(&mut raw, text);
            }
            Message::NotText(value) => {
                raw.push_str("\"message\":");
                raw.push_str(&value.to_string());
            }
            Message::Missing => {
                raw.pop();
            }
        }
        if raw.is_empty() {
            raw.push('{');
        }
        raw.push('}');
        let reason = format!("{}, event {index}: {reason}", record.label);
        let timestamp_ms = event_timestamp(event.timestamp).ok().or(record.arrival_ms);
        let failure = Failure {
            key: &format!("{}:{index}", record.key),
            event_index: Some(index),
            commons: Some(envelope.commons),
            timestamp_ms,
            kind: ErrorKind::InvalidEvent,
            reason: &reason,
            record_index: record.index,
            log_group: Some(envelope.log_group),
            log_stream: Some(envelope.log_stream),
            metadata: &record.metadata,
            raw: Raw::Text(&raw),
        };
        self.emit_failure(&failure, run);
    }

    fn emit_failure(&mut self, failure: &Failure<'_>, run: &mut Run<'_>) {
        run.counters.errors += 1;
        let raw = failure.raw.bytes();
        let id = format!("err-{:032x}", fnv1a_128(&[failure.key.as_bytes(), raw]));
        let out = &mut self.document;
        out.clear();
        out.push('{');
        write_key(out, "id");
        write_str(out, &id);
        out.push(',');
        write_commons(out, failure.commons);
        if let Some(millis) = failure.timestamp_ms {
            let mark = out.len();
            out.push(',');
            write_key(out, "timestamp");
            if !write_iso8601_millis(out, millis) {
                out.truncate(mark);
            }
        }
        out.push_str(",\"error\":{");
        write_key(out, "kind");
        write_str(out, failure.kind.name());
        out.push(',');
        write_key(out, "reason");
        write_str(out, failure.reason);
        let _ = write!(out, ",\"record_index\":{}", failure.record_index);
        if let Some(event_index) = failure.event_index {
            let _ = write!(out, ",\"event_index\":{event_index}");
        }
        out.push('}');
        for (key, value) in [("logGroup", failure.log_group), ("logStream", failure.log_stream)] {
            if let Some(value) = value {
                out.push(',');
                write_key(out, key);
                write_str(out, value);
            }
        }
        if !failure.metadata.is_empty() && failure.metadata.len() <= MAX_METADATA_BYTES {
            out.push(',');
            out.push_str(failure.metadata);
        }
        out.push(',');
        match std::str::from_utf8(raw) {
            Ok(text) => {
                out.push_str("\"raw_encoding\":\"text\",\"raw_data\":");
                write_str(out, text);
            }
            Err(_) => {
                out.push_str("\"raw_encoding\":\"base64\",\"raw_data\":\"");
                base64::engine::general_purpose::STANDARD.encode_string(raw, out);
                out.push('"');
            }
        }
        out.push('}');
        run.sink.error(ErrorRef {
            id: &id,
            commons: failure.commons,
            timestamp_ms: failure.timestamp_ms.filter(|millis| write_iso8601_millis(&mut String::new(), *millis)),
            kind: failure.kind,
            reason: failure.reason,
            json: out,
        });
    }
}

struct EnvelopeContext<'a> {
    log_group: &'a str,
    log_stream: &'a str,
    commons: &'a str,
    prefix: &'a str,
    suffix: &'a str,
    /// Whether this envelope's stream is checked for slow responses.
    check_alerts: bool,
}

struct Failure<'a> {
    key: &'a str,
    event_index: Option<usize>,
    commons: Option<&'a str>,
    timestamp_ms: Option<i64>,
    kind: ErrorKind,
    reason: &'a str,
    record_index: usize,
    log_group: Option<&'a str>,
    log_stream: Option<&'a str>,
    metadata: &'a str,
    raw: Raw<'a>,
}

impl<'a> Record<'a> {
    /// A record with no transport metadata.
    fn plain(label: &str, index: usize, raw: Raw<'a>) -> Self {
        Record { label: label.to_owned(), index, key: label.to_owned(), metadata: String::new(), arrival_ms: None, raw }
    }
}

/// The options a JSON payload sets for itself, if it sets any.
fn embedded_options(payload: &[u8], configured: &Options) -> Option<Options> {
    let text = std::str::from_utf8(payload).ok()?;
    if !trim_json_start(text).starts_with('{') {
        return None;
    }
    let embedded = serde_json::from_str::<EmbeddedOptions>(text).ok()?;
    if embedded.commons.is_none()
        && embedded.threshold.is_none()
        && embedded.alert_streams.is_none()
        && embedded.schema.is_none()
    {
        return None;
    }
    let mut options = configured.clone();
    if let Some(commons) = embedded.commons {
        options.commons = Some(commons.into_owned());
    }
    if let Some(threshold) = embedded.threshold {
        options.slow_threshold_secs = threshold.trim().parse::<f64>().ok();
    }
    if let Some(streams) = embedded.alert_streams {
        options.alert_streams = streams.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    }
    if let Some(schema) = embedded.schema.as_deref().and_then(Schema::from_name) {
        options.schema = schema;
    }
    Some(options)
}

fn check_metadata_size(size: usize) -> Result<(), RecordError> {
    if size > MAX_METADATA_BYTES {
        return Err(RecordError::new(
            ErrorKind::MetadataTooLarge,
            format!("record metadata is {size} bytes, over the bound of {MAX_METADATA_BYTES}"),
        ));
    }
    Ok(())
}

fn envelope_error(error: &serde_json::Error) -> RecordError {
    let reason = error.to_string();
    if reason.contains(TOO_MANY_EVENTS) {
        RecordError::new(ErrorKind::TooManyEvents, reason)
    } else {
        RecordError::new(ErrorKind::InvalidEnvelope, format!("not a CloudWatch Logs envelope: {reason}"))
    }
}

fn is_base64_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'=')
}

pub(crate) fn decode_base64_into(data: &str, out: &mut Vec<u8>) -> Result<(), String> {
    let bytes = data.as_bytes();
    let result = if bytes.iter().any(u8::is_ascii_whitespace) {
        // Pasted or wrapped base64.
        let compact: Vec<u8> = bytes.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
        BASE64.decode_vec(&compact, out)
    } else {
        BASE64.decode_vec(bytes, out)
    };
    result.map_err(|error| format!("record data is not valid base64: {error}"))
}

/// The first key of a JSON object text, when it has no escapes.
fn first_key(text: &str) -> Option<&str> {
    let rest = trim_json_start(text.strip_prefix('{')?);
    let rest = rest.strip_prefix('"')?;
    let end = rest.find(['"', '\\'])?;
    (rest.as_bytes()[end] == b'"').then(|| &rest[..end])
}

fn unquote(raw: &str) -> &str {
    raw.strip_prefix('"').and_then(|text| text.strip_suffix('"')).unwrap_or(raw)
}

fn millis_from_f64(millis: f64) -> Option<i64> {
    (millis.is_finite() && millis.abs() < 9.0e15).then(|| millis.floor() as i64)
}

/// The event id as a string: CloudWatch sends a string of digits; some
/// emulators send a number, kept digit for digit.
fn event_id<'a>(raw: Option<&'a RawValue>) -> Result<Cow<'a, str>, String> {
    let raw = raw.ok_or("event has no id")?;
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<CowStr>(text).map(|id| id.0).map_err(|e| format!("event id: {e}")),
        Some(b'-' | b'0'..=b'9') => Ok(Cow::Borrowed(text)),
        _ => Err(format!("event id {text} is not a string or a number")),
    }
}

/// The event's epoch-millisecond timestamp.
fn event_timestamp(raw: Option<&RawValue>) -> Result<i64, String> {
    let text = raw.ok_or("event has no timestamp")?.get();
    if let Ok(millis) = text.parse::<i64>() {
        return Ok(millis);
    }
    text.parse::<f64>()
        .ok()
        .and_then(millis_from_f64)
        .ok_or_else(|| format!("event timestamp {text} is not a number of milliseconds"))
}

struct AlertCheck<'p> {
    threshold: f64,
    log_group: &'p str,
    payload: &'p mut String,
}

/// Writes the document's `message` value and, when asked, checks it for a
/// slow response. Returns the response time text when an alert fired (its
/// Slack payload is then in `alert.payload`).
fn write_message(
    out: &mut String,
    text: &str,
    schema: Schema,
    max_depth: u32,
    alert: Option<AlertCheck<'_>>,
) -> Option<String> {
    let members = match (schema, &alert) {
        (Schema::Cloudwatch, None) => None,
        _ => parse_object(text, max_depth),
    };
    // `message.log` holding a JSON object (gen3 access logs) is merged in.
    // Most logs are plain text: only a string whose text starts with `{`
    // is unescaped and parsed.
    let log_text = members.as_ref().and_then(|members| {
        let (_, raw) = members.iter().find(|(key, _)| key == "log")?;
        string_may_hold_object(raw).then(|| json_string(raw)).flatten()
    });
    let merged = log_text.as_deref().and_then(|log| parse_object(log, max_depth));

    match (schema, &members) {
        (Schema::Gen3, Some(members)) => {
            out.push('{');
            let mut first = true;
            let top = members.iter();
            let extra = merged.iter().flatten().filter(|(key, _)| !members.iter().any(|(top_key, _)| top_key == key));
            for (key, value) in top.chain(extra) {
                if !first {
                    out.push(',');
                }
                first = false;
                write_str(out, key);
                out.push(':');
                push_copied_value(out, value.get());
            }
            out.push('}');
        }
        (Schema::Gen3, None) => {
            out.push_str("{\"log\":");
            write_str(out, text);
            out.push('}');
        }
        (Schema::Cloudwatch, _) => write_str(out, text),
    }

    let alert = alert?;
    let members = members?;
    let lookup = |name: &str| {
        members
            .iter()
            .chain(merged.iter().flatten())
            .find(|(key, _)| key == name)
            .map(|(_, value)| *value)
    };
    let (seconds_text, seconds) = if let Some(raw) = lookup("response_secs").filter(|raw| is_json_number(raw)) {
        (raw.get().to_owned(), raw.get().parse::<f64>().ok()?)
    } else {
        let text = json_string(lookup("http_response_time")?)?;
        let seconds = text.trim().parse::<f64>().ok()?;
        (text.into_owned(), seconds)
    };
    if !(seconds > alert.threshold) {
        return None;
    }
    let field = |name: &str| -> String {
        match lookup(name) {
            Some(raw) => json_string(raw).map(Cow::into_owned).unwrap_or_else(|| raw.get().to_owned()),
            None => "-".to_owned(),
        }
    };
    let pod = lookup("kubernetes")
        .and_then(|raw| serde_json::from_str::<KubernetesPod>(raw.get()).ok())
        .and_then(|kubernetes| kubernetes.pod_name.map(Cow::into_owned))
        .unwrap_or_else(|| "-".to_owned());
    let slack_text = format!(
        "Environment: {}\n\tPod: {}\n\tRequest: {}\n\tReferer: {}\n\tClient IP: {}\n\tAccess Date: {}",
        alert.log_group,
        pod,
        cut_query(&field("http_request")),
        cut_query(&field("http_referer")),
        field("network_client_ip"),
        field("date_access"),
    );
    let payload = alert.payload;
    payload.clear();
    payload.push_str("{\"text\":");
    write_str(payload, &slack_text);
    payload.push_str(",\"attachments\":[{\"title\":");
    write_str(payload, &format!("Slow Response notification: ({seconds_text} seconds)"));
    payload.push_str(",\"color\":\"#FF0000\"}]}");
    Some(seconds_text)
}

/// Top-level members of `text` when it is a JSON object within the depth
/// limit; duplicate keys keep their first place and their last value, as
/// JSON parsers that keep order do.
fn parse_object(text: &str, max_depth: u32) -> Option<Vec<(Cow<'_, str>, &RawValue)>> {
    let text = trim_json_start(text);
    if !text.starts_with('{') || nests_deeper_than(text.as_bytes(), max_depth) {
        return None;
    }
    let Members(mut members) = serde_json::from_str::<Members>(text).ok()?;
    dedupe(&mut members);
    Some(members)
}

fn dedupe(members: &mut Vec<(Cow<'_, str>, &RawValue)>) {
    // Few keys is the rule; a hash map only pays off past a few dozen.
    if members.len() <= 32 {
        let mut index = 1;
        while index < members.len() {
            if let Some(earlier) = members[..index].iter().position(|(key, _)| *key == members[index].0) {
                let (_, value) = members.remove(index);
                members[earlier].1 = value;
            } else {
                index += 1;
            }
        }
        return;
    }
    let mut position: std::collections::HashMap<Cow<'_, str>, usize> = std::collections::HashMap::with_capacity(members.len());
    let mut unique: Vec<(Cow<'_, str>, &RawValue)> = Vec::with_capacity(members.len());
    for (key, value) in members.drain(..) {
        match position.get(&key) {
            Some(&at) => unique[at].1 = value,
            None => {
                position.insert(key.clone(), unique.len());
                unique.push((key, value));
            }
        }
    }
    *members = unique;
}

/// Appends a raw JSON value copied from the input (see `push_copied_value`)
/// when it nests within the depth limit, else as a string of its text, so no
/// document nests deeper than messages may (hosts such as Fluent Bit lose
/// records nested too deep).
fn write_raw_within(out: &mut String, raw: &str, max_depth: u32) {
    if nests_deeper_than(raw.as_bytes(), max_depth) {
        write_str(out, raw);
    } else {
        push_copied_value(out, raw);
    }
}

/// The string a raw JSON value holds, if it is a string.
fn json_string(raw: &RawValue) -> Option<Cow<'_, str>> {
    if !raw.get().starts_with('"') {
        return None;
    }
    serde_json::from_str::<CowStr>(raw.get()).ok().map(|text| text.0)
}

/// True when `raw` is a JSON string whose text, after whitespace (raw or
/// escaped), starts with `{`.
fn string_may_hold_object(raw: &RawValue) -> bool {
    let Some(mut rest) = raw.get().strip_prefix('"') else { return false };
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        match rest.strip_prefix("\\n").or_else(|| rest.strip_prefix("\\r")).or_else(|| rest.strip_prefix("\\t")) {
            Some(after) => rest = after,
            None => return rest.starts_with('{'),
        }
    }
}

fn is_json_number(raw: &RawValue) -> bool {
    matches!(raw.get().as_bytes().first(), Some(b'-' | b'0'..=b'9'))
}

/// `https://host/path?query` -> `https://host/path?...`, as the Lambda did.
fn cut_query(text: &str) -> Cow<'_, str> {
    match text.split_once('?') {
        Some((head, _)) => Cow::Owned(format!("{head}?...")),
        None => Cow::Borrowed(text),
    }
}
