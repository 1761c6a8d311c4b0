//! The CloudWatch Logs subscription envelope, read two ways.
//!
//! [`parse`] is the fast path: one pass over valid UTF-8, strings borrowed
//! from the input where JSON escapes allow. Envelopes as CloudWatch writes
//! them are read by [`read_common`], which unescapes each message in the
//! pass that validates it (messages are most of the input, and serde_json's
//! per-escape work and copies were the largest part of reading them);
//! anything else it leaves to serde_json. When that fails, or an
//! event in it is unusable, [`parse_tolerant`] reads the same bytes member
//! by member and event by event (delimited by `json::value_end`, which does
//! not validate), so one event with invalid UTF-8, a lone surrogate escape
//! or a non-object value costs only itself: it keeps its exact bytes for
//! its error document and the other events decode.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::json::has_surrogate_escape;
use crate::members::Reader;
use crate::scan::{array_elements, object_members};
use crate::transport::CowStr;

/// One CloudWatch Logs envelope.
#[derive(Debug, Default)]
pub struct Envelope<'a> {
    pub message_type: Option<Cow<'a, str>>,
    pub owner: Option<Cow<'a, str>>,
    pub log_group: Option<Cow<'a, str>>,
    pub log_stream: Option<Cow<'a, str>>,
    pub subscription_filters: Option<Vec<Cow<'a, str>>>,
    /// Up to `max_events` events; `None` when the envelope has no
    /// `logEvents`.
    pub log_events: Option<Vec<EventSlot<'a>>>,
    /// How many events `logEvents` holds, kept or not.
    pub events_total: usize,
    /// Fields the envelope carries that we do not know (e.g. `policyLevel`),
    /// with their JSON text, in input order; they are copied into every
    /// document.
    pub extra: Vec<(Cow<'a, str>, &'a str)>,
}

impl<'a> Envelope<'a> {
    /// The field a metadata member (a string CloudWatch always sends) fills,
    /// named once for the three readers.
    fn metadata_mut(&mut self, key: &str) -> Option<&mut Option<Cow<'a, str>>> {
        Some(match key {
            "messageType" => &mut self.message_type,
            "owner" => &mut self.owner,
            "logGroup" => &mut self.log_group,
            "logStream" => &mut self.log_stream,
            _ => return None,
        })
    }
}

/// One event of `logEvents`.
#[derive(Debug)]
pub enum EventSlot<'a> {
    /// A parsed event; the tolerant path also keeps its exact bytes.
    Parsed(LogEvent<'a>, Option<&'a [u8]>),
    /// An event that is not a readable event object (only from
    /// [`parse_tolerant`]): its exact bytes and why.
    Unreadable { raw: &'a [u8], reason: String },
}

/// One log event, each field kept as it came (its JSON text) so a bad one
/// can be reported.
#[derive(Debug)]
pub struct LogEvent<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub message: Message<'a>,
    /// `extractedFields` of account-level and cross-account subscriptions
    /// (e.g. `@aws.account`, `@aws.region`: the source account and region).
    pub extracted_fields: Option<&'a str>,
}

#[derive(Debug)]
pub enum Message<'a> {
    Missing,
    Text(Cow<'a, str>),
    /// Not a string.
    NotText,
}

/// The fast path: `text` as one envelope, keeping at most `max_events`
/// events (the rest are counted, not kept).
///
/// # Errors
/// serde_json's error when `text` is not an envelope of this shape.
pub fn parse(text: &str, max_events: usize) -> Result<Envelope<'_>, serde_json::Error> {
    match read_common(text, max_events) {
        Some(envelope) => Ok(envelope),
        None => parse_with_serde(text, max_events),
    }
}

/// [`parse`] by serde_json alone: what [`read_common`] is held to.
///
/// # Errors
/// serde_json's error when `text` is not an envelope of this shape.
pub fn parse_with_serde(text: &str, max_events: usize) -> Result<Envelope<'_>, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let envelope = EnvelopeSeed { max_events }.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(envelope)
}

/// Values nested deeper than this (below an event's fields or an unknown
/// envelope field) are left to serde_json, whose skipping is not recursive.
const COMMON_MAX_DEPTH: u32 = 64;

/// `text` as [`parse`] reads it with serde_json, when it has the shape
/// CloudWatch writes: member names without escapes, metadata that are
/// strings, events that are objects whose message is a string, nesting
/// under [`COMMON_MAX_DEPTH`]. `None` for anything else, valid or not: the
/// caller then asks serde_json, so this reader decides nothing serde_json
/// would decide otherwise (the `forms` fuzz target holds the two equal).
pub fn read_common(text: &str, max_events: usize) -> Option<Envelope<'_>> {
    let mut reader = Reader::new(text, COMMON_MAX_DEPTH);
    let mut envelope = Envelope::default();
    reader.skip_whitespace();
    members(&mut reader, |reader, key| {
        if let Some(field) = envelope.metadata_mut(key) {
            *field = Some(reader.string_text()?);
            return Some(());
        }
        match key {
            "subscriptionFilters" => {
                let mut filters = Vec::new();
                elements(reader, |reader| {
                    filters.push(reader.string_text()?);
                    Some(())
                })?;
                envelope.subscription_filters = Some(filters);
            }
            "logEvents" => {
                let mut events = Vec::new();
                let mut total = 0;
                elements(reader, |reader| {
                    total += 1;
                    if events.len() < max_events {
                        events.push(EventSlot::Parsed(common_event(reader)?, None));
                    } else {
                        reader.value(1)?;
                    }
                    Some(())
                })?;
                envelope.log_events = Some(events);
                envelope.events_total = total;
            }
            _ => {
                let start = reader.at();
                reader.value(1)?;
                envelope.extra.push((Cow::Borrowed(key), reader.since(start)));
            }
        }
        Some(())
    })?;
    reader.skip_whitespace();
    reader.at_end().then_some(envelope)
}

/// One event object as [`LogEvent`]'s serde reading gives it (the last of
/// a repeated field wins), when its message is a string.
fn common_event<'a>(reader: &mut Reader<'a>) -> Option<LogEvent<'a>> {
    let mut event = LogEvent { id: None, timestamp: None, message: Message::Missing, extracted_fields: None };
    members(reader, |reader, key| {
        if key == "message" {
            event.message = Message::Text(reader.string_text()?);
            return Some(());
        }
        let start = reader.at();
        reader.value(1)?;
        let raw = reader.since(start);
        match key {
            "id" => event.id = Some(raw),
            "timestamp" => event.timestamp = Some(raw),
            "extractedFields" => event.extracted_fields = Some(raw),
            _ => {}
        }
        Some(())
    })?;
    Some(event)
}

/// The members of the object starting here, each value read by
/// `read_value` (called with the reader at the value and the member's
/// name, which has no escape).
fn members<'a>(reader: &mut Reader<'a>, mut read_value: impl FnMut(&mut Reader<'a>, &'a str) -> Option<()>) -> Option<()> {
    separated(reader, b'{', b'}', |reader| {
        // A name with an escape is left to serde_json (it would be unescaped).
        let Some(Cow::Borrowed(key)) = reader.string_text() else { return None };
        reader.skip_whitespace();
        if !reader.eat(b':') {
            return None;
        }
        reader.skip_whitespace();
        read_value(reader, key)
    })
}

/// The elements of the array starting here, each read by `read_element`.
fn elements<'a>(reader: &mut Reader<'a>, read_element: impl FnMut(&mut Reader<'a>) -> Option<()>) -> Option<()> {
    separated(reader, b'[', b']', read_element)
}

/// `open`, then items read by `read_item` separated by commas, then
/// `close`, whitespace allowed between them.
fn separated<'a>(reader: &mut Reader<'a>, open: u8, close: u8, mut read_item: impl FnMut(&mut Reader<'a>) -> Option<()>) -> Option<()> {
    if !reader.eat(open) {
        return None;
    }
    reader.skip_whitespace();
    if reader.eat(close) {
        return Some(());
    }
    loop {
        read_item(reader)?;
        reader.skip_whitespace();
        if reader.eat(close) {
            return Some(());
        }
        if !reader.eat(b',') {
            return None;
        }
        reader.skip_whitespace();
    }
}

/// The tolerant path: `bytes` (one JSON value) read member by member and
/// event by event.
///
/// # Errors
/// Why `bytes` is not an envelope at all: not an object, malformed between
/// members, or a metadata field that is not what CloudWatch writes.
pub fn parse_tolerant(bytes: &[u8], max_events: usize) -> Result<Envelope<'_>, String> {
    let mut envelope = Envelope::default();
    for (key, value) in object_members(bytes)? {
        let key = serde_json::from_slice::<CowStr<'_>>(&bytes[key]).map_err(|error| format!("unreadable key: {error}"))?.0;
        let value = &bytes[value];
        let field = |what: &str, error: serde_json::Error| format!("{key} is not {what}: {error}");
        if let Some(metadata) = envelope.metadata_mut(&key) {
            *metadata = Some(serde_json::from_slice::<CowStr<'_>>(value).map_err(|e| field("a string", e))?.0);
            continue;
        }
        match key.as_ref() {
            "subscriptionFilters" => {
                let filters: Vec<CowStr<'_>> = serde_json::from_slice(value).map_err(|e| field("an array of strings", e))?;
                envelope.subscription_filters = Some(filters.into_iter().map(|filter| filter.0).collect());
            }
            "logEvents" => {
                let elements = array_elements(value).map_err(|reason| format!("logEvents: {reason}"))?;
                envelope.events_total = elements.len();
                let events = elements.into_iter().take(max_events).map(|range| {
                    let raw = &value[range];
                    match serde_json::from_slice::<LogEvent<'_>>(raw) {
                        Ok(event) => EventSlot::Parsed(event, Some(raw)),
                        Err(error) => EventSlot::Unreadable { raw, reason: unreadable_event(raw, &error) },
                    }
                });
                envelope.log_events = Some(events.collect());
            }
            _ => {
                let raw: &RawValue = serde_json::from_slice(value).map_err(|e| field("valid JSON", e))?;
                envelope.extra.push((key, raw.get()));
            }
        }
    }
    Ok(envelope)
}

/// Why an event could not be read, in words an operator can act on.
fn unreadable_event(raw: &[u8], error: &serde_json::Error) -> String {
    if let Err(utf8) = std::str::from_utf8(raw) {
        format!("event is not valid UTF-8 (at byte {} of the event)", utf8.valid_up_to())
    } else if has_surrogate_escape(raw) && error.is_syntax() {
        format!(
            "event holds a lone UTF-16 surrogate escape (\\uD800-\\uDFFF without its pair), which no strict JSON reader accepts: {error}"
        )
    } else {
        format!("event is not a readable event object: {error}")
    }
}

struct EnvelopeSeed {
    max_events: usize,
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
            if let Some(field) = envelope.metadata_mut(&key) {
                *field = Some(map.next_value::<CowStr<'de>>()?.0);
                continue;
            }
            match key.as_ref() {
                "subscriptionFilters" => {
                    let filters: Vec<CowStr<'de>> = map.next_value()?;
                    envelope.subscription_filters = Some(filters.into_iter().map(|filter| filter.0).collect());
                }
                "logEvents" => {
                    let (events, total) = map.next_value_seed(EventsSeed { max_events: self.max_events })?;
                    envelope.log_events = Some(events);
                    envelope.events_total = total;
                }
                _ => {
                    let value: &'de RawValue = map.next_value()?;
                    envelope.extra.push((key, value.get()));
                }
            }
        }
        Ok(envelope)
    }
}

/// Keeps at most `max_events` events and counts the rest without keeping
/// them, so an envelope over the limit costs no memory per extra event.
struct EventsSeed {
    max_events: usize,
}

impl<'de> DeserializeSeed<'de> for EventsSeed {
    type Value = (Vec<EventSlot<'de>>, usize);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EventsSeed {
    type Value = (Vec<EventSlot<'de>>, usize);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of log events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut events = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max_events).min(1024));
        while events.len() < self.max_events {
            match seq.next_element::<LogEvent<'de>>()? {
                Some(event) => events.push(EventSlot::Parsed(event, None)),
                None => {
                    let total = events.len();
                    return Ok((events, total));
                }
            }
        }
        let mut total = events.len();
        while seq.next_element::<IgnoredAny>()?.is_some() {
            total += 1;
        }
        Ok((events, total))
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
                let mut event = LogEvent { id: None, timestamp: None, message: Message::Missing, extracted_fields: None };
                while let Some(CowStr(key)) = map.next_key::<CowStr<'de>>()? {
                    match key.as_ref() {
                        "id" => event.id = Some(map.next_value::<&'de RawValue>()?.get()),
                        "timestamp" => event.timestamp = Some(map.next_value::<&'de RawValue>()?.get()),
                        "message" => event.message = map.next_value()?,
                        "extractedFields" => event.extracted_fields = Some(map.next_value::<&'de RawValue>()?.get()),
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
            fn visit_bool<E>(self, _: bool) -> Result<Message<'de>, E> {
                Ok(Message::NotText)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Message<'de>, E> {
                Ok(Message::NotText)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Message<'de>, E> {
                Ok(Message::NotText)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Message<'de>, E> {
                Ok(Message::NotText)
            }
            fn visit_unit<E>(self) -> Result<Message<'de>, E> {
                Ok(Message::NotText)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Message<'de>, A::Error> {
                IgnoredAny::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(Message::NotText)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Message<'de>, A::Error> {
                IgnoredAny::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Message::NotText)
            }
        }
        deserializer.deserialize_any(MessageVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope_text(events: &str) -> String {
        format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"policyLevel":"ACCOUNT_LEVEL_POLICY","logEvents":[{events}]}}"#
        )
    }

    #[test]
    fn both_paths_read_a_valid_envelope_alike() {
        let text = envelope_text(
            r#"{"id":"1","timestamp":5,"message":"a\"b","extractedFields":{"@aws.account":"123"}},{"id":"2","timestamp":6,"message":"c"}"#,
        );
        let fast = parse(&text, 10).unwrap();
        let slow = parse_tolerant(text.as_bytes(), 10).unwrap();
        for envelope in [&fast, &slow] {
            assert_eq!(envelope.log_group.as_deref(), Some("g"));
            assert_eq!(envelope.extra.len(), 1);
            assert_eq!(envelope.events_total, 2);
            let events = envelope.log_events.as_ref().unwrap();
            let EventSlot::Parsed(first, _) = &events[0] else { panic!("parsed") };
            assert!(matches!(&first.message, Message::Text(text) if text == "a\"b"));
            assert_eq!(first.extracted_fields.unwrap(), r#"{"@aws.account":"123"}"#);
        }
    }

    #[test]
    fn the_tolerant_path_keeps_bad_events_apart() {
        let mut text = envelope_text(r#"{"id":"1","timestamp":5,"message":"ok"},42,{"id":"3","timestamp":5,"message":"\ud800"},{"id":"4","timestamp":5,"message":"BAD"},null"#).into_bytes();
        let at = text.windows(3).position(|w| w == b"BAD").unwrap();
        text[at] = 0xff;
        assert!(std::str::from_utf8(&text).is_err());
        let envelope = parse_tolerant(&text, 10).unwrap();
        let events = envelope.log_events.unwrap();
        assert_eq!(events.len(), 5);
        assert!(matches!(events[0], EventSlot::Parsed(_, Some(_))));
        for (index, fragment) in [(1, &b"42"[..]), (4, b"null")] {
            assert!(matches!(&events[index], EventSlot::Unreadable { raw, .. } if *raw == fragment));
        }
        assert!(matches!(&events[2], EventSlot::Unreadable { reason, .. } if reason.contains("surrogate")));
        assert!(matches!(&events[3], EventSlot::Unreadable { raw, .. } if std::str::from_utf8(raw).is_err()));
    }

    #[test]
    fn events_over_the_limit_are_counted_not_kept() {
        let text = envelope_text(&[r#"{"id":"1","timestamp":5,"message":"m"}"#; 7].join(","));
        for envelope in [parse(&text, 3).unwrap(), parse_tolerant(text.as_bytes(), 3).unwrap()] {
            assert_eq!((envelope.log_events.unwrap().len(), envelope.events_total), (3, 7));
        }
    }

    #[test]
    fn the_tolerant_path_refuses_what_is_no_envelope() {
        assert!(parse_tolerant(b"[1,2]", 10).unwrap_err().contains("not a JSON object"));
        assert!(parse_tolerant(br#"{"logGroup":7}"#, 10).unwrap_err().contains("logGroup is not a string"));
        assert!(parse_tolerant(br#"{"logEvents":{}}"#, 10).unwrap_err().contains("logEvents"));
        assert!(parse_tolerant(b"{\"a\":1", 10).is_err());
    }
}
