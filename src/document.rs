//! The documents: one per log event, one per failure. Every key the decoder
//! writes is named here.
//!
//! Document (schemas `gen3` and `cloudwatch`): the Gen3 Lambda's keys in its
//! order (`messageType, owner, logGroup, logStream, subscriptionFilters`,
//! unknown envelope fields, `timestamp, message`), then `extractedFields`
//! when the event has them, `id`, `commons` and the record's transport
//! metadata. Error document: `id, commons, timestamp, error {kind, reason,
//! record_index, envelope_index, event_index}, logGroup, logStream`, the
//! transport metadata, `raw_encoding` and `raw_data`.

use std::borrow::Cow;
use std::fmt::Write as _;

use base64::Engine as _;

use crate::alert::{SlowResponse, slow_response, write_slack_payload};
use crate::ecs;
use crate::envelope::Envelope;
use crate::error::{ErrorKind, Failure};
use crate::json::{fnv1a_128, write_key, write_opt_str, write_raw_within, write_str};
use crate::message::{MessageView, with_message_view};
use crate::options::Schema;
use crate::time::write_iso8601_millis;
use crate::transport::{EMBEDDED_OPTION_PREFIX, Origin};

/// Bound on the metadata copied into every document of an envelope
/// (envelope fields plus transport fields). CloudWatch names are at most
/// 512 characters, so real metadata is a few KiB at most; the bound keeps a
/// hostile record from multiplying its size by its event count.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// Keys the decoder writes itself: an unknown envelope field with one of
/// these names is not copied (it would duplicate the key).
const RESERVED_KEYS: [&str; 13] = [
    "messageType",
    "owner",
    "logGroup",
    "logStream",
    "subscriptionFilters",
    "timestamp",
    "message",
    "extractedFields",
    "id",
    "commons",
    "kinesis",
    "firehose",
    "logEvents",
];

/// An event that can become a document.
pub struct ValidEvent<'e> {
    pub id: Cow<'e, str>,
    pub timestamp_ms: i64,
    pub message: &'e str,
    pub extracted_fields: Option<&'e str>,
}

/// The parts of an envelope's documents that every event shares.
pub struct EnvelopeParts<'a> {
    pub record_index: usize,
    pub log_group: &'a str,
    pub commons: &'a str,
    /// The envelope's owner (the source account), for the `ecs` schema.
    pub owner: Option<&'a str>,
    /// gen3 and cloudwatch: from `{` to the comma before `timestamp`. ecs:
    /// the members of `aws.cloudwatch`.
    pub prefix: String,
    /// gen3 and cloudwatch: `"commons":..., <transport metadata>}`. ecs: from
    /// the end of `aws.cloudwatch` to the end of the document.
    pub suffix: String,
}

impl<'a> EnvelopeParts<'a> {
    /// # Errors
    /// `metadata-too-large` when the shared parts exceed
    /// [`MAX_METADATA_BYTES`].
    pub fn new(
        envelope: &'a Envelope<'_>,
        log_group: &'a str,
        log_stream: &'a str,
        commons: &'a str,
        origin: &Origin,
        schema: Schema,
        max_depth: u32,
    ) -> Result<Self, Failure> {
        let (prefix, suffix) = match schema {
            Schema::Ecs => ecs_parts(envelope, log_group, log_stream, commons, origin, max_depth),
            Schema::Gen3 | Schema::Cloudwatch => lambda_parts(envelope, log_group, log_stream, commons, origin, max_depth),
        };
        let size = prefix.len() + suffix.len();
        if size > MAX_METADATA_BYTES {
            return Err(Failure::new(
                ErrorKind::MetadataTooLarge,
                format!("envelope and record metadata is {size} bytes, over the bound of {MAX_METADATA_BYTES}"),
            ));
        }
        Ok(EnvelopeParts { record_index: origin.index, log_group, commons, owner: envelope.owner.as_deref(), prefix, suffix })
    }
}

/// The gen3 and cloudwatch schemas' shared parts: the Lambda's keys.
fn lambda_parts(
    envelope: &Envelope<'_>,
    log_group: &str,
    log_stream: &str,
    commons: &str,
    origin: &Origin,
    max_depth: u32,
) -> (String, String) {
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
            write_raw_within(&mut prefix, value, max_depth);
            prefix.push(',');
        }
    }
    let mut suffix = String::with_capacity(64 + origin.metadata.len());
    write_key(&mut suffix, "commons");
    write_str(&mut suffix, commons);
    if !origin.metadata.is_empty() {
        suffix.push(',');
        suffix.push_str(&origin.metadata);
    }
    suffix.push('}');
    (prefix, suffix)
}

/// The ecs schema's shared parts: `aws.cloudwatch`'s members, then the
/// transport under `aws` and `labels.commons` (see `ecs`).
fn ecs_parts(
    envelope: &Envelope<'_>,
    log_group: &str,
    log_stream: &str,
    commons: &str,
    origin: &Origin,
    max_depth: u32,
) -> (String, String) {
    let mut prefix = String::with_capacity(256);
    write_key(&mut prefix, "log_group");
    write_str(&mut prefix, log_group);
    prefix.push(',');
    write_key(&mut prefix, "log_stream");
    write_str(&mut prefix, log_stream);
    for (key, value) in &envelope.extra {
        if !RESERVED_KEYS.contains(&key.as_ref())
            && !key.starts_with(EMBEDDED_OPTION_PREFIX)
            && !matches!(key.as_ref(), "log_group" | "log_stream" | "extracted_fields")
        {
            prefix.push(',');
            write_str(&mut prefix, key);
            prefix.push(':');
            write_raw_within(&mut prefix, value, max_depth);
        }
    }
    let mut suffix = String::with_capacity(128 + origin.ecs_firehose.len() + origin.ecs_kinesis.len());
    suffix.push('}');
    let filters = envelope.subscription_filters.as_deref().unwrap_or_default();
    if !filters.is_empty() || !origin.ecs_firehose.is_empty() {
        suffix.push_str(",\"firehose\":{");
        if !filters.is_empty() {
            write_key(&mut suffix, "subscription_filters");
            suffix.push('[');
            for (index, filter) in filters.iter().enumerate() {
                if index > 0 {
                    suffix.push(',');
                }
                write_str(&mut suffix, filter);
            }
            suffix.push(']');
            if !origin.ecs_firehose.is_empty() {
                suffix.push(',');
            }
        }
        suffix.push_str(&origin.ecs_firehose);
        suffix.push('}');
    }
    if !origin.ecs_kinesis.is_empty() {
        suffix.push(',');
        suffix.push_str(&origin.ecs_kinesis);
    }
    suffix.push_str("},\"labels\":{\"commons\":");
    write_str(&mut suffix, commons);
    suffix.push_str("}}");
    (prefix, suffix)
}

/// How one event's document is written.
pub struct DocumentStyle<'o> {
    pub schema: Schema,
    pub max_json_depth: u32,
    /// Checks for a slow response over this threshold, writing the Slack
    /// payload into the buffer.
    pub alert: Option<(f64, &'o mut String)>,
}

/// Writes `event`'s document into `out` (cleared first). Returns the
/// response time's text when the event is a slow response (its Slack
/// payload is then in the style's buffer).
pub fn write_document(out: &mut String, parts: &EnvelopeParts<'_>, event: &ValidEvent<'_>, style: DocumentStyle<'_>) -> Option<String> {
    out.clear();
    // The cloudwatch schema without alerts never looks inside the message.
    let parse = style.schema != Schema::Cloudwatch || style.alert.is_some();
    let depth = style.max_json_depth;
    with_message_view(parse.then_some(event.message), depth, |view| write_with_view(out, parts, event, style, view))
}

fn write_with_view(
    out: &mut String,
    parts: &EnvelopeParts<'_>,
    event: &ValidEvent<'_>,
    style: DocumentStyle<'_>,
    view: &MessageView<'_>,
) -> Option<String> {
    match style.schema {
        Schema::Ecs => write_ecs(out, parts, event, view, style.max_json_depth),
        Schema::Gen3 | Schema::Cloudwatch => {
            out.push_str(&parts.prefix);
            write_key(out, "timestamp");
            // In range: the event was validated.
            write_iso8601_millis(out, event.timestamp_ms);
            out.push(',');
            write_key(out, "message");
            match style.schema {
                Schema::Gen3 => view.write_gen3(out, event.message),
                _ => write_str(out, event.message),
            }
            if let Some(fields) = event.extracted_fields {
                out.push(',');
                write_key(out, "extractedFields");
                write_raw_within(out, fields, style.max_json_depth);
            }
            out.push(',');
            write_key(out, "id");
            write_str(out, &event.id);
            out.push(',');
            out.push_str(&parts.suffix);
        }
    }
    let (threshold, payload) = style.alert?;
    let slow: SlowResponse<'_> = slow_response(view, threshold)?;
    write_slack_payload(payload, parts.log_group, view, &slow);
    Some(slow.seconds_text.into_owned())
}

/// One event's document in the ecs schema (see `ecs`).
fn write_ecs(out: &mut String, parts: &EnvelopeParts<'_>, event: &ValidEvent<'_>, view: &MessageView<'_>, max_depth: u32) {
    out.push_str("{\"@timestamp\":");
    write_iso8601_millis(out, event.timestamp_ms);
    out.push_str(",\"message\":");
    write_str(out, event.message);
    out.push_str(",\"event\":{\"id\":");
    write_str(out, &event.id);
    out.push('}');
    ecs::write_derived(out, view, max_depth);
    ecs::write_cloud(out, parts.owner, event.extracted_fields);
    out.push_str(",\"aws\":{\"cloudwatch\":{");
    out.push_str(&parts.prefix);
    if let Some(fields) = event.extracted_fields {
        out.push_str(",\"extracted_fields\":");
        write_raw_within(out, fields, max_depth);
    }
    out.push_str(&parts.suffix);
}

/// Where in the payload a failure is, beyond its record.
#[derive(Clone, Copy, Default)]
pub struct Position<'a> {
    /// The JSON value of the record's decompressed data.
    pub envelope_index: Option<usize>,
    pub event_index: Option<usize>,
    /// The envelope's, for envelope and event failures.
    pub log_group: Option<&'a str>,
    pub log_stream: Option<&'a str>,
}

/// One error document.
pub struct ErrorDocument<'a> {
    pub failure: &'a Failure,
    /// The record's label and the failure's reason.
    pub reason: &'a str,
    pub origin: &'a Origin,
    pub position: Position<'a>,
    pub commons: Option<&'a str>,
    /// In the event range, or none.
    pub time_ms: Option<i64>,
    /// What failed, exactly as received (or as decompressed, for envelopes
    /// and events).
    pub raw: &'a [u8],
}

impl ErrorDocument<'_> {
    /// The id: a digest of where the failure is and its raw data, so a
    /// retried record gets the same id.
    pub fn id(&self) -> String {
        let mut key = self.origin.key.clone();
        for index in [self.position.envelope_index, self.position.event_index].into_iter().flatten() {
            let _ = write!(key, ":{index}");
        }
        format!("err-{:032x}", fnv1a_128(&[key.as_bytes(), self.raw]))
    }

    /// Writes the document into `out` (cleared first).
    pub fn write(&self, out: &mut String, id: &str) {
        out.clear();
        out.push('{');
        write_key(out, "id");
        write_str(out, id);
        out.push(',');
        write_key(out, "commons");
        write_opt_str(out, self.commons);
        if let Some(millis) = self.time_ms {
            out.push(',');
            write_key(out, "timestamp");
            write_iso8601_millis(out, millis);
        }
        out.push_str(",\"error\":{");
        write_key(out, "kind");
        write_str(out, self.failure.kind.name());
        out.push(',');
        write_key(out, "reason");
        write_str(out, self.reason);
        let _ = write!(out, ",\"record_index\":{}", self.origin.index);
        for (key, index) in [("envelope_index", self.position.envelope_index), ("event_index", self.position.event_index)] {
            if let Some(index) = index {
                let _ = write!(out, ",\"{key}\":{index}");
            }
        }
        out.push('}');
        for (key, value) in [("logGroup", self.position.log_group), ("logStream", self.position.log_stream)] {
            if let Some(value) = value {
                out.push(',');
                write_key(out, key);
                write_str(out, value);
            }
        }
        if !self.origin.metadata.is_empty() && self.origin.metadata.len() <= MAX_METADATA_BYTES {
            out.push(',');
            out.push_str(&self.origin.metadata);
        }
        out.push(',');
        match std::str::from_utf8(self.raw) {
            Ok(text) => {
                out.push_str("\"raw_encoding\":\"text\",\"raw_data\":");
                write_str(out, text);
            }
            Err(_) => {
                out.push_str("\"raw_encoding\":\"base64\",\"raw_data\":\"");
                base64::engine::general_purpose::STANDARD.encode_string(self.raw, out);
                out.push('"');
            }
        }
        out.push('}');
    }
}
