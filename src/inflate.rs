//! Gzip members (RFC 1952) inflated into a reused buffer, never past a limit.
//!
//! zlib-rs (through flate2's safe API) does the work: it parses the gzip
//! header and checks the CRC32 and size trailer itself, and inflates about
//! twice as fast as miniz_oxide on this workload.

use flate2::{Decompress, FlushDecompress, Status};

pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&GZIP_MAGIC)
}

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

/// CRC-32 (IEEE), slicing by 8.
pub fn crc32(data: &[u8]) -> u32 {
    let tables = &CRC_TABLES;
    let mut crc = !0u32;
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let low = crc ^ u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        let high = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
        crc = tables[7][(low & 0xff) as usize]
            ^ tables[6][((low >> 8) & 0xff) as usize]
            ^ tables[5][((low >> 16) & 0xff) as usize]
            ^ tables[4][(low >> 24) as usize]
            ^ tables[3][(high & 0xff) as usize]
            ^ tables[2][((high >> 8) & 0xff) as usize]
            ^ tables[1][((high >> 16) & 0xff) as usize]
            ^ tables[0][(high >> 24) as usize];
    }
    for &byte in chunks.remainder() {
        crc = tables[0][((crc ^ u32::from(byte)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

static CRC_TABLES: [[u32; 256]; 8] = crc_tables();

const fn crc_tables() -> [[u32; 256]; 8] {
    let mut tables = [[0u32; 256]; 8];
    let mut n = 0;
    while n < 256 {
        let mut crc = n as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 { 0xedb8_8320 ^ (crc >> 1) } else { crc >> 1 };
            bit += 1;
        }
        tables[0][n] = crc;
        n += 1;
    }
    let mut n = 0;
    while n < 256 {
        let mut table = 1;
        while table < 8 {
            let previous = tables[table - 1][n];
            tables[table][n] = (previous >> 8) ^ tables[0][(previous & 0xff) as usize];
            table += 1;
        }
        n += 1;
    }
    tables
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
        out.extend(miniz_oxide::deflate::compress_to_vec(data, 6));
        out.extend(crc32(data).to_le_bytes());
        out.extend((data.len() as u32).to_le_bytes());
        out
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
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn round_trip_and_limits() {
        let data = vec![b'x'; 100_000];
        let member = gzip(&data);
        let mut out = Vec::new();
                assert_eq!(inflate_member(&member, &mut out, 1 << 20), Ok(member.len()));
        assert_eq!(out, data);
        assert_eq!(
            inflate_member(&member, &mut out, 99_999),
            Err(InflateError::TooLarge { limit: 99_999 })
        );
        assert!(out.capacity() <= 100_000);
        let truncated = &member[..member.len() / 2];
        assert!(matches!(inflate_member(truncated, &mut out, 1 << 20), Err(InflateError::Corrupt(_))));
        let mut bad_crc = member.clone();
        let at = bad_crc.len() - 8;
        bad_crc[at] ^= 1;
        assert!(matches!(inflate_member(&bad_crc, &mut out, 1 << 20), Err(InflateError::Corrupt(reason)) if reason.contains("check")));
    }
}
