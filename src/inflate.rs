//! Gzip members (RFC 1952) inflated into a reused buffer, never past a limit.
//!
//! zlib-rs (through flate2's safe API) does the work: it parses the gzip
//! header and checks the CRC32 and size trailer itself, and inflates about
//! twice as fast as miniz_oxide on this workload.

use flate2::{Decompress, FlushDecompress, Status};

use crate::form::is_gzip;

#[derive(Debug, PartialEq, Eq)]
pub enum InflateError {
    /// The text names what was wrong.
    Corrupt(String),
    /// The member inflates to more than the limit.
    TooLarge { limit: u64 },
}

/// Inflates the gzip member at the start of `input` into `out` (cleared
/// first) and returns how many input bytes the member used, trailer included.
pub fn inflate_member(input: &[u8], out: &mut Vec<u8>, limit: u64) -> Result<usize, InflateError> {
    out.clear();
    if !is_gzip(input) {
        return Err(InflateError::Corrupt("not gzip data (no 1f 8b magic)".into()));
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    // Size the buffer once from the trailer's ISIZE when the input is a single
    // member (the common case); growth by doubling covers the rest.
    let hint = input
        .len()
        .checked_sub(4)
        .map(|at| u32::from_le_bytes([input[at], input[at + 1], input[at + 2], input[at + 3]]) as usize)
        .unwrap_or(0);
    let mut target = hint.max(input.len().saturating_mul(4)).max(4096).min(limit);
    // Output goes into a slice never longer than the limit: a reused buffer
    // may have more capacity, and that must not raise the limit.
    out.resize(target, 0);
    let mut written = 0usize;
    let mut inflater = Decompress::new_gzip(15);
    loop {
        let (read_before, wrote_before) = (inflater.total_in(), inflater.total_out());
        let status = inflater.decompress(&input[read_before as usize..], &mut out[written..target], FlushDecompress::None);
        written += (inflater.total_out() - wrote_before) as usize;
        match status {
            Ok(Status::StreamEnd) => {
                out.truncate(written);
                return Ok(inflater.total_in() as usize);
            }
            Ok(Status::Ok | Status::BufError) => {
                if written == target {
                    if target >= limit {
                        out.clear();
                        return Err(InflateError::TooLarge { limit: limit as u64 });
                    }
                    target = target.saturating_mul(2).min(limit);
                    out.resize(target, 0);
                } else if inflater.total_in() == read_before && inflater.total_out() == wrote_before {
                    // Room to write and nothing read: the input ended early.
                    out.clear();
                    return Err(InflateError::Corrupt(
                        "gzip data is truncated: the member ends before its deflate stream and trailer".into(),
                    ));
                }
            }
            Err(error) => {
                let at = inflater.total_in();
                out.clear();
                return Err(InflateError::Corrupt(format!("invalid gzip data near byte {at}: {error}")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn a_reused_buffer_with_room_does_not_raise_the_limit() {
        let mut out = Vec::new();
        let big = vec![b'y'; 1 << 20];
        inflate_member(&gzip(&big), &mut out, 1 << 21).unwrap();
        assert!(out.capacity() >= 1 << 20);
        let member = gzip(&[b'z'; 980]);
        assert_eq!(inflate_member(&member, &mut out, 700), Err(InflateError::TooLarge { limit: 700 }));
        assert_eq!(inflate_member(&member, &mut out, 980), Ok(member.len()));
    }

    #[test]
    fn round_trip_and_limits() {
        let data = vec![b'x'; 100_000];
        let member = gzip(&data);
        let mut out = Vec::new();
        assert_eq!(inflate_member(&member, &mut out, 1 << 20), Ok(member.len()));
        assert_eq!(out, data);
        assert_eq!(inflate_member(&member, &mut out, 99_999), Err(InflateError::TooLarge { limit: 99_999 }));
        assert!(out.capacity() <= 100_000);
        let truncated = &member[..member.len() / 2];
        assert!(matches!(inflate_member(truncated, &mut out, 1 << 20), Err(InflateError::Corrupt(_))));
        let mut bad_crc = member.clone();
        let at = bad_crc.len() - 8;
        bad_crc[at] ^= 1;
        assert!(matches!(inflate_member(&bad_crc, &mut out, 1 << 20), Err(InflateError::Corrupt(reason)) if reason.contains("check")));
    }
}
