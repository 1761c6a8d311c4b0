//! The transports around CloudWatch Logs data: a Lambda-style Kinesis event,
//! a Firehose HTTP-endpoint delivery, the event a Lambda subscribed to a log
//! group receives, and the records each carries.
//!
//! Records stay raw until each is read on its own, so a bad one becomes one
//! error document and never spoils its neighbours. [`Origin`] is a record's
//! identity: it names the record in error reasons, keys its error
//! documents' ids and carries the metadata copied into its documents.

use std::borrow::Cow;
use std::fmt;
use std::fmt::Write as _;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::json::{write_key, write_raw_within};

/// Prefix of the keys a payload may set its own options with (Fluent Bit
/// records; see `Decoder::decode_with_embedded_options`). Never copied into
/// documents.
pub const EMBEDDED_OPTION_PREFIX: &str = "gen3_cwlogs_";

/// A member the Firehose front (pipeline-configs' firehose.js) adds when it
/// posts a large delivery to Fluent Bit in parts: where the part's first
/// record sits in the delivery Firehose sent, so each record keeps its
/// index (in documents, error reasons and error-document ids) whichever
/// part carries it.
pub const FIRST_RECORD_INDEX: &str = "firstRecordIndex";

/// The top level of a JSON object payload. The known keys tell the form;
/// keys with [`EMBEDDED_OPTION_PREFIX`] are kept for hosts that read
/// options from the payload.
#[derive(Default)]
pub struct TopLevel<'a> {
    /// A Lambda-style Kinesis event's `Records`.
    pub kinesis_records: Option<Vec<&'a RawValue>>,
    /// A Firehose delivery's `records`, `requestId` and `timestamp`.
    pub firehose_records: Option<Vec<&'a RawValue>>,
    pub request_id: Option<&'a RawValue>,
    pub timestamp: Option<&'a RawValue>,
    /// Not Firehose's: [`FIRST_RECORD_INDEX`], which this project's front
    /// adds to each part of a delivery it splits.
    pub first_record_index: Option<&'a RawValue>,
    /// A Lambda's CloudWatch Logs event: `{"awslogs": {"data": ...}}`.
    pub awslogs: Option<&'a RawValue>,
    /// Whether the object has `logEvents`: an envelope.
    pub has_log_events: bool,
    pub embedded_options: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'de> Deserialize<'de> for TopLevel<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TopVisitor;
        impl<'de> Visitor<'de> for TopVisitor {
            type Value = TopLevel<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel<'de>, A::Error> {
                let mut top = TopLevel::default();
                while let Some(CowStr(key)) = map.next_key::<CowStr<'de>>()? {
                    match key.as_ref() {
                        "Records" => top.kinesis_records = Some(map.next_value()?),
                        "records" => top.firehose_records = Some(map.next_value()?),
                        "requestId" => top.request_id = Some(map.next_value()?),
                        "timestamp" => top.timestamp = Some(map.next_value()?),
                        FIRST_RECORD_INDEX => top.first_record_index = Some(map.next_value()?),
                        "awslogs" => top.awslogs = Some(map.next_value()?),
                        "logEvents" => {
                            top.has_log_events = true;
                            map.next_value::<IgnoredAny>()?;
                        }
                        other if other.starts_with(EMBEDDED_OPTION_PREFIX) => {
                            top.embedded_options.push((key, map.next_value()?));
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(top)
            }
        }
        deserializer.deserialize_map(TopVisitor)
    }
}

/// One record of a Lambda-style Kinesis event.
#[derive(Deserialize)]
pub struct KinesisRecord<'a> {
    #[serde(rename = "eventID", borrow, default)]
    pub event_id: Option<&'a RawValue>,
    #[serde(rename = "eventSourceARN", borrow, default)]
    pub event_source_arn: Option<&'a RawValue>,
    #[serde(rename = "awsRegion", borrow, default)]
    pub aws_region: Option<&'a RawValue>,
    #[serde(borrow)]
    pub kinesis: KinesisData<'a>,
}

#[derive(Deserialize)]
pub struct KinesisData<'a> {
    #[serde(borrow)]
    pub data: Cow<'a, str>,
    #[serde(rename = "sequenceNumber", borrow, default)]
    pub sequence_number: Option<&'a RawValue>,
    #[serde(rename = "partitionKey", borrow, default)]
    pub partition_key: Option<&'a RawValue>,
    #[serde(rename = "approximateArrivalTimestamp", borrow, default)]
    pub approximate_arrival_timestamp: Option<&'a RawValue>,
}

/// One record of a Firehose delivery, or the `awslogs` object of a Lambda's
/// CloudWatch Logs event: both hold base64 `data`.
#[derive(Deserialize)]
pub struct DataRecord<'a> {
    #[serde(borrow)]
    pub data: Cow<'a, str>,
}

/// A string that borrows from the input when it has no escapes (serde's own
/// `Cow<str>` always copies outside derived structs).
pub struct CowStr<'a>(pub Cow<'a, str>);

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = CowStr<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<CowStr<'de>, E> {
                Ok(CowStr(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<CowStr<'de>, E> {
                Ok(CowStr(Cow::Owned(text.to_owned())))
            }
            fn visit_string<E>(self, text: String) -> Result<CowStr<'de>, E> {
                Ok(CowStr(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}

/// Where a record came from.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    /// Names the record in error reasons, e.g. `Kinesis record 3
    /// (sequenceNumber 4954...)`.
    pub label: String,
    /// Position of the record in its payload (`error.record_index`).
    pub index: usize,
    /// Identity of the record for error-document ids: where it came from,
    /// not what it holds, so a retried record gets the same ids.
    pub key: String,
    /// `"kinesis":{...}` or `"firehose":{...}` copied into its documents, or
    /// empty.
    pub metadata: String,
    /// The same fields for the `ecs` schema, by Elastic's names: members of
    /// `aws.firehose` (`"request_id":...,`) and `"kinesis":{...}` (a member
    /// of `aws`); either may be empty.
    pub ecs_firehose: String,
    pub ecs_kinesis: String,
    /// When the record reached AWS, epoch milliseconds, if the transport
    /// says.
    pub arrival_ms: Option<i64>,
}

impl Origin {
    /// A record with no transport metadata (archive members, raw data).
    pub fn plain(label: String, index: usize) -> Self {
        Origin { key: label.clone(), label, index, ..Origin::default() }
    }

    /// A Kinesis record; its metadata fields nest no deeper than `max_depth`.
    pub fn kinesis(index: usize, record: &KinesisRecord<'_>, max_depth: u32) -> Self {
        let sequence = record.kinesis.sequence_number.map(RawValue::get);
        let fields = [
            ("eventID", record.event_id),
            ("sequenceNumber", record.kinesis.sequence_number),
            ("partitionKey", record.kinesis.partition_key),
            ("approximateArrivalTimestamp", record.kinesis.approximate_arrival_timestamp),
            ("eventSourceARN", record.event_source_arn),
            ("awsRegion", record.aws_region),
        ];
        Origin {
            label: match sequence {
                Some(sequence) => format!("Kinesis record {index} (sequenceNumber {})", unquote(sequence)),
                None => format!("Kinesis record {index}"),
            },
            index,
            key: format!("kinesis:{}:{index}", sequence.unwrap_or("")),
            metadata: metadata_object("kinesis", &fields, None, max_depth),
            ecs_kinesis: {
                let names = ["event_id", "sequence_number", "partition_key", "arrival_timestamp", "source_arn", "region"];
                let renamed: Vec<(&str, Option<&RawValue>)> = names.iter().zip(&fields).map(|(name, (_, value))| (*name, *value)).collect();
                metadata_object("kinesis", &renamed, None, max_depth)
            },
            ecs_firehose: String::new(),
            // Kinesis gives seconds with a fraction.
            arrival_ms: record
                .kinesis
                .approximate_arrival_timestamp
                .and_then(|value| value.get().parse::<f64>().ok())
                .and_then(|secs| millis_from_f64(secs * 1000.0)),
        }
    }

    /// Record `index` of a Firehose delivery.
    pub fn firehose(index: usize, request_id: Option<&RawValue>, timestamp: Option<&RawValue>, max_depth: u32) -> Self {
        let fields = [("requestId", request_id), ("timestamp", timestamp)];
        Origin {
            label: match request_id {
                Some(id) => format!("Firehose record {index} of request {}", unquote(id.get())),
                None => format!("Firehose record {index}"),
            },
            index,
            key: format!("firehose:{}:{index}", request_id.map_or("", RawValue::get)),
            metadata: metadata_object("firehose", &fields, Some(index), max_depth),
            ecs_firehose: {
                let members = metadata_object("", &[("request_id", request_id), ("timestamp", timestamp)], None, max_depth);
                // `"":{...}` -> the members alone, then the record index.
                let inner = &members[4..members.len() - 1];
                format!("{inner}{}\"record_index\":{index}", if inner.is_empty() { "" } else { "," })
            },
            ecs_kinesis: String::new(),
            // Firehose gives milliseconds.
            arrival_ms: timestamp.and_then(|value| value.get().parse::<f64>().ok()).and_then(millis_from_f64),
        }
    }
}

/// `"<name>":{"<field>":<raw>,...}` for the fields present, then
/// `"recordIndex":<n>` when given.
fn metadata_object(name: &str, fields: &[(&str, Option<&RawValue>)], record_index: Option<usize>, max_depth: u32) -> String {
    let mut out = String::with_capacity(256);
    write_key(&mut out, name);
    out.push('{');
    let mut first = true;
    for (key, value) in fields {
        if let Some(value) = value {
            if !first {
                out.push(',');
            }
            first = false;
            write_key(&mut out, key);
            write_raw_within(&mut out, value.get(), max_depth);
        }
    }
    if let Some(index) = record_index {
        if !first {
            out.push(',');
        }
        let _ = write!(out, "\"recordIndex\":{index}");
    }
    out.push('}');
    out
}

/// A raw identifier (sequence number, request id) for a label: unquoted,
/// and cut after 100 characters, since every error document of the record
/// repeats it.
fn unquote(raw: &str) -> Cow<'_, str> {
    let text = raw.strip_prefix('"').and_then(|text| text.strip_suffix('"')).unwrap_or(raw);
    match text.char_indices().nth(100) {
        Some((cut, _)) => Cow::Owned(format!("{}...", &text[..cut])),
        None => Cow::Borrowed(text),
    }
}

/// Milliseconds from a float, when they fit the i64 range doubles hold
/// exactly.
pub fn millis_from_f64(millis: f64) -> Option<i64> {
    (millis.is_finite() && millis.abs() < 9.0e15).then(|| millis.floor() as i64)
}
