//! The decoder's stages run on their own, for the benchmark's breakdown
//! (base64, then inflate, then envelope parsing); not a stable API. Each
//! function runs the real code of its stage and everything before it over a
//! Firehose delivery or Kinesis event, and returns a count to keep the work
//! from being optimised away.

use crate::inflate::Inflater;
use crate::transport::{DataRecord, KinesisRecord, TopLevel};
use crate::walk::decode_base64;

/// Decodes every record's base64 data; returns the bytes decoded.
pub fn base64(payload: &[u8]) -> usize {
    let mut total = 0;
    let mut buffer = Vec::new();
    for_each_record_data(payload, |data| {
        buffer.clear();
        if decode_base64(data, &mut buffer).is_ok() {
            total += buffer.len();
        }
    });
    total
}

/// Base64, then inflates every gzip member; returns the bytes inflated.
pub fn inflate(payload: &[u8]) -> usize {
    let mut total = 0;
    for_each_inflated(payload, |inflated| total += inflated.len());
    total
}

/// Base64, inflate, then parses each envelope (messages unescaped, not yet
/// parsed); returns the events parsed.
pub fn parse_envelopes(payload: &[u8]) -> usize {
    let mut total = 0;
    for_each_inflated(payload, |inflated| {
        if let Ok(text) = std::str::from_utf8(inflated)
            && let Ok(envelope) = crate::envelope::parse(text, usize::MAX)
        {
            total += envelope.events_total;
        }
    });
    total
}

/// Every record's data, base64-decoded and inflated.
fn for_each_inflated(payload: &[u8], mut each: impl FnMut(&[u8])) {
    let (mut decoded, mut inflater) = (Vec::new(), Inflater::default());
    for_each_record_data(payload, |data| {
        decoded.clear();
        if decode_base64(data, &mut decoded).is_ok() && inflater.inflate_member(&decoded, u64::MAX).is_ok() {
            each(inflater.data());
        }
    });
}

fn for_each_record_data(payload: &[u8], mut each: impl FnMut(&str)) {
    let Ok(text) = std::str::from_utf8(payload) else { return };
    let Ok(top) = serde_json::from_str::<TopLevel>(text) else { return };
    for raw in top.kinesis_records.iter().flatten() {
        if let Ok(record) = serde_json::from_str::<KinesisRecord>(raw.get()) {
            each(&record.kinesis.data);
        }
    }
    for raw in top.firehose_records.iter().flatten() {
        if let Ok(record) = serde_json::from_str::<DataRecord>(raw.get()) {
            each(&record.data);
        }
    }
}
