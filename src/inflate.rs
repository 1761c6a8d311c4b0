//! Gzip members (RFC 1952) inflated into a reused buffer, never past a limit.

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};

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
pub fn inflate_member(
    input: &[u8],
    out: &mut Vec<u8>,
    limit: u64,
    inflater: &mut DecompressorOxide,
) -> Result<usize, InflateError> {
    out.clear();
    let header_len = gzip_header_len(input)?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let deflate = &input[header_len..];

    // Size the buffer once from the trailer's ISIZE when the input is a single
    // member (the common case); growth by doubling covers the rest.
    let hint = input
        .len()
        .checked_sub(4)
        .map(|at| u32::from_le_bytes([input[at], input[at + 1], input[at + 2], input[at + 3]]) as usize)
        .unwrap_or(0);
    let first = hint.max(deflate.len().saturating_mul(4)).max(4096).min(limit);
    out.resize(first, 0);

    inflater.init();
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let mut consumed = 0usize;
    let mut written = 0usize;
    loop {
        let (status, read, wrote) = decompress(inflater, &deflate[consumed..], out, written, flags);
        consumed += read;
        written += wrote;
        match status {
            TINFLStatus::Done => break,
            TINFLStatus::HasMoreOutput => {
                if out.len() >= limit {
                    out.clear();
                    return Err(InflateError::TooLarge { limit: limit as u64 });
                }
                let grown = out.len().saturating_mul(2).min(limit);
                out.resize(grown, 0);
            }
            TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                out.clear();
                return Err(InflateError::Corrupt(format!(
                    "gzip data is truncated: the deflate stream is still open after its last byte ({} bytes)",
                    deflate.len()
                )));
            }
            _ => {
                out.clear();
                return Err(InflateError::Corrupt(format!(
                    "invalid deflate data near byte {}",
                    header_len + consumed
                )));
            }
        }
    }
    out.truncate(written);

    let trailer_at = header_len + consumed;
    let Some(trailer) = input.get(trailer_at..trailer_at + 8) else {
        out.clear();
        return Err(InflateError::Corrupt("gzip trailer (CRC32 and size) is missing".into()));
    };
    let expected_crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let expected_size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    if expected_size != written as u32 {
        out.clear();
        return Err(InflateError::Corrupt(format!(
            "gzip size mismatch: trailer says {expected_size} bytes, data inflates to {written}"
        )));
    }
    let actual_crc = crc32(out);
    if expected_crc != actual_crc {
        out.clear();
        return Err(InflateError::Corrupt(format!(
            "gzip CRC32 mismatch: trailer says {expected_crc:08x}, data gives {actual_crc:08x}"
        )));
    }
    Ok(trailer_at + 8)
}

fn gzip_header_len(input: &[u8]) -> Result<usize, InflateError> {
    const FHCRC: u8 = 0x02;
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    let truncated = || InflateError::Corrupt("gzip header is truncated".into());
    if input.len() < 10 {
        return Err(truncated());
    }
    if !is_gzip(input) {
        return Err(InflateError::Corrupt("not gzip data (no 1f 8b magic)".into()));
    }
    if input[2] != 8 {
        return Err(InflateError::Corrupt(format!(
            "unsupported gzip compression method {}",
            input[2]
        )));
    }
    let flags = input[3];
    let mut at = 10;
    if flags & FEXTRA != 0 {
        let len = input.get(at..at + 2).ok_or_else(truncated)?;
        at += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let rest = input.get(at..).ok_or_else(truncated)?;
            let nul = rest.iter().position(|&b| b == 0).ok_or_else(truncated)?;
            at += nul + 1;
        }
    }
    if flags & FHCRC != 0 {
        at += 2;
    }
    if at > input.len() {
        return Err(truncated());
    }
    Ok(at)
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
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn round_trip_and_limits() {
        let data = vec![b'x'; 100_000];
        let member = gzip(&data);
        let mut out = Vec::new();
        let mut inflater = DecompressorOxide::new();
        assert_eq!(inflate_member(&member, &mut out, 1 << 20, &mut inflater), Ok(member.len()));
        assert_eq!(out, data);
        assert_eq!(
            inflate_member(&member, &mut out, 99_999, &mut inflater),
            Err(InflateError::TooLarge { limit: 99_999 })
        );
        assert!(out.capacity() <= 100_000);
        let truncated = &member[..member.len() / 2];
        assert!(matches!(inflate_member(truncated, &mut out, 1 << 20, &mut inflater), Err(InflateError::Corrupt(_))));
        let mut bad_crc = member.clone();
        let at = bad_crc.len() - 8;
        bad_crc[at] ^= 1;
        assert!(matches!(inflate_member(&bad_crc, &mut out, 1 << 20, &mut inflater), Err(InflateError::Corrupt(reason)) if reason.contains("CRC32")));
    }
}
