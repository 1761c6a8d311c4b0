//! The CloudWatch Logs subscription envelope and the transports around it,
//! deserialized borrowing from the input wherever JSON escapes allow.
//!
//! Every type here is tolerant: a wrong or missing field is recorded, not
//! raised, so one bad event or record becomes one error document and its
//! neighbours still decode.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// One CloudWatch Logs envelope. `logEvents` is kept last so that the
/// metadata fields, which AWS writes first, are known before events arrive.
#[derive(Debug, Default)]
pub struct Envelope<'a> {
    pub message_type: Option<Cow<'a, str>>,
    pub owner: Option<Cow<'a, str>>,
    pub log_group: Option<Cow<'a, str>>,
    pub log_stream: Option<Cow<'a, str>>,
    pub subscription_filters: Option<Vec<Cow<'a, str>>>,
    pub log_events: Option<Vec<LogEvent<'a>>>,
    /// Fields the envelope carries that we do not know (e.g. `policyLevel`),
    /// in input order; they are copied into every document.
    pub extra: Vec<(Cow<'a, str>, &'a RawValue)>,
}

/// One log event, each field kept as it came so a bad one can be reported.
#[derive(Debug)]
pub struct LogEvent<'a> {
    pub id: Option<&'a RawValue>,
    pub timestamp: Option<&'a RawValue>,
    pub message: Message<'a>,
}

#[derive(Debug)]
pub enum Message<'a> {
    Missing,
    Text(Cow<'a, str>),
    /// Not a string: kept to be reported in the error document.
    NotText(serde_json::Value),
}

/// Deserializes an envelope, refusing more than `max_events` events (the
/// remaining budget of the record) before they are all allocated.
pub struct EnvelopeSeed {
    pub max_events: usize,
}

impl<'de> DeserializeSeed<'de> for EnvelopeSeed {
    type Value = Envelope<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Envelope<'de>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EnvelopeSeed {
    type Value = Envelope<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudWatch Logs envelope object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<'de>, A::Error> {
        let mut envelope = Envelope::default();
        while let Some(CowStr(key)) = map.next_key::<CowStr<'de>>()? {
            match key.as_ref() {
                "messageType" => envelope.message_type = Some(map.next_value::<CowStr<'de>>()?.0),
                "owner" => envelope.owner = Some(map.next_value::<CowStr<'de>>()?.0),
                "logGroup" => envelope.log_group = Some(map.next_value::<CowStr<'de>>()?.0),
                "logStream" => envelope.log_stream = Some(map.next_value::<CowStr<'de>>()?.0),
                "subscriptionFilters" => {
                    let filters: Vec<CowStr<'de>> = map.next_value()?;
                    envelope.subscription_filters = Some(filters.into_iter().map(|filter| filter.0).collect());
                }
                "logEvents" => {
                    envelope.log_events = Some(map.next_value_seed(EventsSeed { max_events: self.max_events })?)
                }
                _ => {
                    let value: &'de RawValue = map.next_value()?;
                    envelope.extra.push((key, value));
                }
            }
        }
        Ok(envelope)
    }
}

struct EventsSeed {
    max_events: usize,
}

impl<'de> DeserializeSeed<'de> for EventsSeed {
    type Value = Vec<LogEvent<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EventsSeed {
    type Value = Vec<LogEvent<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of log events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut events = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max_events).min(1024));
        while let Some(event) = seq.next_element::<LogEvent<'de>>()? {
            if events.len() == self.max_events {
                return Err(de::Error::custom(TooManyEvents(self.max_events)));
            }
            events.push(event);
        }
        Ok(events)
    }
}

/// Marker text recognised by the decoder to classify the error.
pub struct TooManyEvents(pub usize);

pub const TOO_MANY_EVENTS: &str = "too many log events";

impl fmt::Display for TooManyEvents {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{TOO_MANY_EVENTS}: more than the limit of {}", self.0)
    }
}

impl<'de> Deserialize<'de> for LogEvent<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EventVisitor;
        impl<'de> Visitor<'de> for EventVisitor {
            type Value = LogEvent<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a log event object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LogEvent<'de>, A::Error> {
                let mut event = LogEvent { id: None, timestamp: None, message: Message::Missing };
                while let Some(CowStr(key)) = map.next_key::<CowStr<'de>>()? {
                    match key.as_ref() {
                        "id" => event.id = Some(map.next_value()?),
                        "timestamp" => event.timestamp = Some(map.next_value()?),
                        "message" => event.message = map.next_value()?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(event)
            }
        }
        deserializer.deserialize_map(EventVisitor)
    }
}

impl<'de> Deserialize<'de> for Message<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MessageVisitor;
        impl<'de> Visitor<'de> for MessageVisitor {
            type Value = Message<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Message<'de>, E> {
                Ok(Message::Text(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<Message<'de>, E> {
                Ok(Message::Text(Cow::Owned(text.to_owned())))
            }
            fn visit_string<E>(self, text: String) -> Result<Message<'de>, E> {
                Ok(Message::Text(Cow::Owned(text)))
            }
            fn visit_bool<E>(self, value: bool) -> Result<Message<'de>, E> {
                Ok(Message::NotText(value.into()))
            }
            fn visit_i64<E>(self, value: i64) -> Result<Message<'de>, E> {
                Ok(Message::NotText(value.into()))
            }
            fn visit_u64<E>(self, value: u64) -> Result<Message<'de>, E> {
                Ok(Message::NotText(value.into()))
            }
            fn visit_f64<E>(self, value: f64) -> Result<Message<'de>, E> {
                Ok(Message::NotText(value.into()))
            }
            fn visit_unit<E>(self) -> Result<Message<'de>, E> {
                Ok(Message::NotText(serde_json::Value::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Message<'de>, A::Error> {
                let value = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(Message::NotText(value))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Message<'de>, A::Error> {
                let value = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Message::NotText(value))
            }
        }
        deserializer.deserialize_any(MessageVisitor)
    }
}

/// The top level of a JSON payload: a Lambda-style Kinesis event or a
/// Firehose HTTP-endpoint delivery. Records stay raw so each one is
/// interpreted (and may fail) on its own.
#[derive(Deserialize, Default)]
pub struct Transport<'a> {
    #[serde(rename = "Records", borrow, default)]
    pub kinesis_records: Option<Vec<&'a RawValue>>,
    #[serde(rename = "records", borrow, default)]
    pub firehose_records: Option<Vec<&'a RawValue>>,
    #[serde(rename = "requestId", borrow, default)]
    pub request_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub timestamp: Option<&'a RawValue>,
    #[serde(rename = "logEvents", default)]
    pub log_events: Option<IgnoredAny>,
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

/// One record of a Firehose delivery.
#[derive(Deserialize)]
pub struct FirehoseRecord<'a> {
    #[serde(borrow)]
    pub data: Cow<'a, str>,
}

/// Top-level members of a JSON object, in order, values left raw.
pub struct Members<'a>(pub Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
                while let Some(CowStr(key)) = map.next_key::<CowStr<'de>>()? {
                    let value: &'de RawValue = map.next_value()?;
                    members.push((key, value));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

/// The one field of `message.kubernetes` the alert needs.
#[derive(Deserialize)]
pub struct KubernetesPod<'a> {
    #[serde(borrow, default)]
    pub pod_name: Option<Cow<'a, str>>,
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

/// Options a payload carries for itself (see `Options::embedded_options`).
#[derive(Deserialize, Default)]
pub struct EmbeddedOptions<'a> {
    #[serde(rename = "gen3_cwlogs_commons", borrow, default)]
    pub commons: Option<Cow<'a, str>>,
    #[serde(rename = "gen3_cwlogs_threshold", borrow, default)]
    pub threshold: Option<Cow<'a, str>>,
    #[serde(rename = "gen3_cwlogs_alert_streams", borrow, default)]
    pub alert_streams: Option<Cow<'a, str>>,
    #[serde(rename = "gen3_cwlogs_schema", borrow, default)]
    pub schema: Option<Cow<'a, str>>,
}

/// Prefix of the keys read by `EmbeddedOptions`; never copied into documents.
pub const EMBEDDED_OPTION_PREFIX: &str = "gen3_cwlogs_";
