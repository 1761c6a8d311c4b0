//! The Firehose delivery a Firehose stream would send for the records of any
//! payload the decoder accepts, so the plugin and the VRL twin can be given
//! the same input: Vector only ever receives Firehose deliveries.

use std::io::Read as _;

use base64::Engine as _;

/// Reads base64 the way the core does (padding optional, whitespace allowed).
const LENIENT_BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The records of a payload, as the bytes Firehose would carry for each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Records {
    pub data: Vec<Vec<u8>>,
    /// Records of the payload that cannot exist in a stream and were left
    /// out (a Lambda-style Kinesis record without `kinesis.data`).
    pub left_out: usize,
    /// The payload already is a Firehose delivery.
    pub is_delivery: bool,
}

/// Splits a payload into records, as the core reads its forms:
/// - Lambda-style Kinesis event: each record's `kinesis.data`, base64-decoded
///   (data that is not base64 is taken as the record's bytes);
/// - Firehose delivery: its records' data;
/// - a Lambda's CloudWatch Logs event (`{"awslogs": {"data": ...}}`): its
///   data;
/// - S3 archive (gzip members): each member (see [`archive_records`]);
/// - base64 text: one record, decoded;
/// - anything else (one envelope or several, other JSON, binary, empty): one
///   record holding the payload.
pub fn records_of(payload: &[u8]) -> Records {
    let start = payload.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(payload.len());
    let body = &payload[start..];
    let mut records = Records::default();
    if body.starts_with(&[0x1f, 0x8b]) {
        records.data.extend(archive_records(body).into_iter().map(<[u8]>::to_vec));
        return records;
    }
    if body.first() == Some(&b'{') {
        if let Ok(serde_json::Value::Object(object)) = serde_json::from_slice::<serde_json::Value>(body) {
            if let Some(serde_json::Value::Array(kinesis)) = object.get("Records") {
                for record in kinesis {
                    match record.pointer("/kinesis/data").and_then(serde_json::Value::as_str) {
                        Some(text) => {
                            records.data.push(LENIENT_BASE64.decode(strip_space(text)).unwrap_or_else(|_| text.as_bytes().to_vec()))
                        }
                        None => records.left_out += 1,
                    }
                }
                return records;
            }
            if let Some(awslogs) = object.get("awslogs") {
                match awslogs.get("data").and_then(serde_json::Value::as_str) {
                    Some(text) => records.data.push(LENIENT_BASE64.decode(strip_space(text)).unwrap_or_else(|_| text.as_bytes().to_vec())),
                    None => records.left_out += 1,
                }
                return records;
            }
            if let Some(serde_json::Value::Array(firehose)) = object.get("records") {
                records.is_delivery = true;
                for record in firehose {
                    match record.get("data").and_then(serde_json::Value::as_str) {
                        Some(text) => {
                            records.data.push(LENIENT_BASE64.decode(strip_space(text)).unwrap_or_else(|_| text.as_bytes().to_vec()))
                        }
                        None => records.left_out += 1,
                    }
                }
                return records;
            }
        }
        records.data.push(payload.to_vec());
        return records;
    }
    let base64_text =
        !body.is_empty() && body.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=') || b.is_ascii_whitespace());
    if base64_text && let Ok(decoded) = LENIENT_BASE64.decode(strip_space(std::str::from_utf8(body).unwrap_or_default())) {
        records.data.push(decoded);
        return records;
    }
    records.data.push(payload.to_vec());
    records
}

fn strip_space(text: &str) -> Vec<u8> {
    text.bytes().filter(|b| !b.is_ascii_whitespace()).collect()
}

/// The records of an S3 archive, cut as the core cuts them: each gzip
/// member; bytes that are not one (garbage, or a member that cannot be
/// inflated) up to where the next member header (`1f 8b 08`) starts; zero
/// padding between members skipped.
pub fn archive_records(data: &[u8]) -> Vec<&[u8]> {
    let mut records = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let rest = &data[at..];
        let used = if rest.starts_with(&[0x1f, 0x8b]) {
            let mut decoder = flate2::bufread::GzDecoder::new(rest);
            match decoder.read_to_end(&mut Vec::new()) {
                Ok(_) => Some(rest.len() - decoder.into_inner().len()),
                Err(_) => None,
            }
        } else {
            None
        };
        let end = match used {
            Some(used) => at + used,
            // Searched from the byte after, so a broken member header does
            // not find itself.
            None => next_member_start(data, at + 1),
        };
        records.push(&data[at..end]);
        at = end + data[end..].iter().take_while(|&&b| b == 0).count();
    }
    records
}

/// Where the next gzip member header starts at or after `from`, else the end.
fn next_member_start(data: &[u8], from: usize) -> usize {
    data.get(from..)
        .and_then(|rest| rest.windows(3).position(|window| window == [0x1f, 0x8b, 0x08]))
        .map_or(data.len(), |offset| from + offset)
}

/// The body of a Firehose HTTP-endpoint delivery of `records`.
pub fn delivery_body(request_id: &str, timestamp_ms: i64, records: &[Vec<u8>]) -> Vec<u8> {
    let mut out = String::with_capacity(64 + records.iter().map(|data| data.len() * 4 / 3 + 16).sum::<usize>());
    out.push_str("{\"requestId\":");
    out.push_str(&serde_json::to_string(request_id).expect("a string serializes"));
    out.push_str(&format!(",\"timestamp\":{timestamp_ms},\"records\":["));
    for (index, data) in records.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str("{\"data\":\"");
        base64::engine::general_purpose::STANDARD.encode_string(data, &mut out);
        out.push_str("\"}");
    }
    out.push_str("]}");
    out.into_bytes()
}
