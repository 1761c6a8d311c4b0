//! Input detection: what a payload is, from its first bytes.
//!
//! Nothing needs to be declared: a Lambda-style Kinesis event, a Firehose
//! delivery, a Lambda's CloudWatch Logs event, an S3 archive (concatenated
//! gzip members), a decompressed archive (concatenated JSON envelopes) and
//! one record's data (base64, gzip or JSON) all tell themselves apart.

use crate::json::trim_json_start;

/// The gzip magic and compression method (deflate) that start every member
/// CloudWatch and Firehose write; three bytes make a false match inside
/// compressed data rare when looking for the next member.
pub const GZIP_MEMBER_START: [u8; 3] = [0x1f, 0x8b, 0x08];

/// What a payload is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// Concatenated gzip members: an S3 archive, or one record's raw data.
    Gzip,
    /// A JSON object: a transport (Kinesis event, Firehose delivery,
    /// Lambda's CloudWatch Logs event) or envelopes.
    JsonObject,
    /// Base64 text: one record's data.
    Base64,
    /// Nothing but whitespace.
    Empty,
    /// None of the above; the first byte that is not whitespace.
    Unrecognised(u8),
}

/// The envelope keys: a JSON object starting with one of these is an
/// envelope (AWS writes `messageType` first).
pub const ENVELOPE_KEYS: [&str; 7] = ["messageType", "owner", "logGroup", "logStream", "subscriptionFilters", "logEvents", "policyLevel"];

impl Form {
    /// The payload's form and where its body starts (after whitespace).
    pub fn detect(payload: &[u8]) -> (Form, usize) {
        let start = payload.iter().position(|byte| !byte.is_ascii_whitespace()).unwrap_or(payload.len());
        let body = &payload[start..];
        let form = match body.first() {
            None => Form::Empty,
            Some(_) if is_gzip(body) => Form::Gzip,
            Some(b'{') => Form::JsonObject,
            Some(_) if body.iter().all(|&byte| is_base64_byte(byte) || byte.is_ascii_whitespace()) => Form::Base64,
            Some(&byte) => Form::Unrecognised(byte),
        };
        (form, start)
    }
}

pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&GZIP_MEMBER_START[..2])
}

fn is_base64_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'=')
}

/// Where the next gzip member may start after a member that could not be
/// inflated (so its end is unknown): the next member header, else the end.
pub fn next_member_start(data: &[u8], after: usize) -> usize {
    data.get(after..).and_then(|rest| memchr::memmem::find(rest, &GZIP_MEMBER_START)).map_or(data.len(), |offset| after + offset)
}

/// The first key of a JSON object text, when it has no escapes.
pub fn first_key(text: &[u8]) -> Option<&[u8]> {
    let text = std::str::from_utf8(&text[..text.len().min(64)]).unwrap_or_else(|error| {
        // A cut through a multi-byte character, or invalid UTF-8 later on:
        // the valid start is enough to read a key.
        std::str::from_utf8(&text[..error.valid_up_to()]).unwrap_or_default()
    });
    let rest = trim_json_start(text.strip_prefix('{')?);
    let rest = rest.strip_prefix('"')?;
    let end = rest.find(['"', '\\'])?;
    (rest.as_bytes()[end] == b'"').then(|| &rest.as_bytes()[..end])
}

/// Whether a JSON object text starts with an envelope key.
pub fn starts_like_envelope(text: &[u8]) -> bool {
    first_key(text).is_some_and(|key| ENVELOPE_KEYS.iter().any(|known| known.as_bytes() == key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(Form::detect(b"  \n"), (Form::Empty, 3));
        assert_eq!(Form::detect(b"\x1f\x8b\x08\x00"), (Form::Gzip, 0));
        assert_eq!(Form::detect(b" {\"Records\":[]}"), (Form::JsonObject, 1));
        assert_eq!(Form::detect(b"H4sIAAAA\nAAAA=="), (Form::Base64, 0));
        assert_eq!(Form::detect(b"[1]"), (Form::Unrecognised(b'['), 0));
    }

    #[test]
    fn envelope_keys_and_member_starts() {
        assert!(starts_like_envelope(br#"{ "messageType":"DATA_MESSAGE"}"#));
        assert!(!starts_like_envelope(br#"{"Records":[]}"#));
        assert!(!starts_like_envelope(br#"{"message\"Type":1}"#));
        assert_eq!(next_member_start(b"\x1f\x8b\x08xx\x1f\x8b\x08", 1), 5);
        assert_eq!(next_member_start(b"\x1f\x8b\x08xx", 1), 5);
    }
}
