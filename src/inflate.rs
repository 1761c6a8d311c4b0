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

/// A reused output buffer for gzip members. Its length is its high-water
/// mark, zero-filled once when it grows, never again: a member's data is its
/// first [`Inflater::data`] bytes. (Clearing and zero-filling a window sized
/// for the largest member before every member made an archive of tiny
/// members cost 16 MiB of memset each.)
#[derive(Default)]
pub struct Inflater {
    buffer: Vec<u8>,
    len: usize,
}

impl Inflater {
    /// The last member's inflated bytes.
    pub fn data(&self) -> &[u8] {
        &self.buffer[..self.len]
    }

    /// Inflates the gzip member at the start of `input` and returns how many
    /// input bytes it used, trailer included. At most `limit` bytes are
    /// ever written, whatever room the buffer has.
    pub fn inflate_member(&mut self, input: &[u8], limit: u64) -> Result<usize, InflateError> {
        self.len = 0;
        if !is_gzip(input) {
            return Err(InflateError::Corrupt("not gzip data (no 1f 8b magic)".into()));
        }
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        // The trailer's ISIZE is exact when the input is one member (a
        // record, the common case), and a fair first guess otherwise.
        let hint = input
            .len()
            .checked_sub(4)
            .map(|at| u32::from_le_bytes([input[at], input[at + 1], input[at + 2], input[at + 3]]) as usize)
            .unwrap_or(0);
        // Output goes into a window never longer than the limit: a reused
        // buffer may be longer, and that must not raise the limit.
        let mut window = self.buffer.len().max(hint.saturating_add(1).max(4096)).min(limit);
        self.grow(window);
        let mut written = 0usize;
        let mut inflater = Decompress::new_gzip(15);
        loop {
            let (read_before, wrote_before) = (inflater.total_in(), inflater.total_out());
            let status = inflater.decompress(&input[read_before as usize..], &mut self.buffer[written..window], FlushDecompress::None);
            written += (inflater.total_out() - wrote_before) as usize;
            match status {
                Ok(Status::StreamEnd) => {
                    self.len = written;
                    return Ok(inflater.total_in() as usize);
                }
                Ok(Status::Ok | Status::BufError) => {
                    if written == window {
                        if window >= limit {
                            return Err(InflateError::TooLarge { limit: limit as u64 });
                        }
                        window = window.saturating_mul(2).min(limit);
                        self.grow(window);
                    } else if inflater.total_in() == read_before && inflater.total_out() == wrote_before {
                        // Room to write and nothing read: the input ended early.
                        return Err(InflateError::Corrupt(
                            "gzip data is truncated: the member ends before its deflate stream and trailer".into(),
                        ));
                    }
                }
                Err(error) => {
                    let at = inflater.total_in();
                    return Err(InflateError::Corrupt(format!("invalid gzip data near byte {at}: {error}")));
                }
            }
        }
    }

    fn grow(&mut self, len: usize) {
        if self.buffer.len() < len {
            self.buffer.resize(len, 0);
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
        let mut inflater = Inflater::default();
        let big = vec![b'y'; 1 << 20];
        inflater.inflate_member(&gzip(&big), 1 << 21).unwrap();
        assert_eq!(inflater.data(), &big[..]);
        let member = gzip(&[b'z'; 980]);
        assert_eq!(inflater.inflate_member(&member, 700), Err(InflateError::TooLarge { limit: 700 }));
        assert_eq!(inflater.inflate_member(&member, 980), Ok(member.len()));
        assert_eq!(inflater.data(), &[b'z'; 980][..]);
    }

    #[test]
    fn members_of_an_archive_one_after_another() {
        let archive = [gzip(b"first"), gzip(b""), gzip(&vec![b'x'; 100_000]), gzip(b"last")].concat();
        let mut inflater = Inflater::default();
        let mut at = 0;
        let mut members = Vec::new();
        while at < archive.len() {
            at += inflater.inflate_member(&archive[at..], 1 << 20).unwrap();
            members.push(inflater.data().to_vec());
        }
        assert_eq!(members, [b"first".to_vec(), Vec::new(), vec![b'x'; 100_000], b"last".to_vec()]);
    }

    #[test]
    fn round_trip_and_limits() {
        let data = vec![b'x'; 100_000];
        let member = gzip(&data);
        let mut inflater = Inflater::default();
        assert_eq!(inflater.inflate_member(&member, 1 << 20), Ok(member.len()));
        assert_eq!(inflater.data(), &data[..]);
        let mut small = Inflater::default();
        assert_eq!(small.inflate_member(&member, 99_999), Err(InflateError::TooLarge { limit: 99_999 }));
        assert!(small.buffer.len() <= 99_999, "never more than the limit");
        let truncated = &member[..member.len() / 2];
        assert!(matches!(inflater.inflate_member(truncated, 1 << 20), Err(InflateError::Corrupt(_))));
        let mut bad_crc = member.clone();
        let at = bad_crc.len() - 8;
        bad_crc[at] ^= 1;
        assert!(matches!(inflater.inflate_member(&bad_crc, 1 << 20), Err(InflateError::Corrupt(reason)) if reason.contains("check")));
    }
}
