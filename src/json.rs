//! Small JSON writing helpers. Documents are written straight into a String
//! instead of going through a serde value tree, so nothing is copied twice.

use std::fmt::Write as _;

/// Appends `text` as a JSON string literal. Non-ASCII text is written as is
/// (the Lambda escaped it to `\uXXXX`, growing documents up to 6x).
pub fn write_str(out: &mut String, text: &str) {
    out.push('"');
    let mut rest = text;
    loop {
        let clean = bytes_needing_no_escape(rest.as_bytes());
        out.push_str(&rest[..clean]);
        let Some(&byte) = rest.as_bytes().get(clean) else { break };
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            _ => {
                let _ = write!(out, "\\u{:04x}", byte);
            }
        }
        // The byte escaped is ASCII, so this is a char boundary.
        rest = &rest[clean + 1..];
    }
    out.push('"');
}

// SWAR (eight bytes in a u64, so wasm32 gets the same width as x86_64):
// a word of the byte repeated, and the high bit of every lane.
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bit set in a lane of `word` whose byte is zero; exact for the lowest
/// such lane, which is all that is used.
fn zero_lanes(word: u64) -> u64 {
    word.wrapping_sub(ONES) & !word & HIGHS
}

/// High bit set in a lane of `word` (eight bytes, little-endian) holding
/// `"`, `\` or a control byte; exact for the lowest such lane.
pub fn escape_lanes(word: u64) -> u64 {
    // Below 0x20: the same borrow trick against 0x20 in every lane.
    zero_lanes(word ^ (ONES * u64::from(b'"')))
        | zero_lanes(word ^ (ONES * u64::from(b'\\')))
        | (word.wrapping_sub(ONES * 0x20) & !word & HIGHS)
}

/// Length of the prefix of `bytes` with no `"`, `\` or control byte: eight
/// bytes at a time, since messages are long and nearly all clean.
pub fn bytes_needing_no_escape(bytes: &[u8]) -> usize {
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let special = escape_lanes(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        if special != 0 {
            return offset + (special.trailing_zeros() / 8) as usize;
        }
        offset += 8;
    }
    offset + chunks.remainder().iter().position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20).unwrap_or(chunks.remainder().len())
}

/// Offset of the first `\` in `bytes` at or after `from`, or `bytes.len()`:
/// eight bytes at a time.
pub fn next_backslash(bytes: &[u8], from: usize) -> usize {
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let found = zero_lanes(u64::from_le_bytes(chunk.try_into().expect("8 bytes")) ^ (ONES * u64::from(b'\\')));
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    bytes[at.min(bytes.len())..].iter().position(|&byte| byte == b'\\').map_or(bytes.len(), |offset| at + offset)
}

/// Appends `"key":` for a key that needs no escaping.
pub fn write_key(out: &mut String, key: &str) {
    out.push('"');
    out.push_str(key);
    out.push_str("\":");
}

/// Appends an optional string, or `null`.
pub fn write_opt_str(out: &mut String, text: Option<&str>) {
    match text {
        Some(text) => write_str(out, text),
        None => out.push_str("null"),
    }
}

/// True when the JSON text nests arrays/objects deeper than `max_depth`.
/// A linear scan, so deep input is refused before any recursive parser
/// (whose stack a small wasm host may not have) sees it.
pub fn nests_deeper_than(text: &[u8], max_depth: u32) -> bool {
    // Nesting needs an opening bracket per level: with no more brackets than
    // the limit (nearly every log line) the exact scan is not needed. The
    // count is a branch-free loop the compiler vectorises.
    let brackets = text.iter().map(|&byte| usize::from(byte == b'{' || byte == b'[')).sum::<usize>();
    if brackets <= max_depth as usize {
        return false;
    }
    let mut depth: u32 = 0;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in text {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max_depth {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Appends a JSON value copied from the input: verbatim, unless it holds
/// something strict parsers refuse although the scan that delimited it let
/// it through: a number no double can hold (`1e999`, found by fuzzing, or
/// `2` and 308 zeros: a double ends near 1.8e308) or a lone UTF-16
/// surrogate escape (`"\ud800"`). Such a value's text is kept as a string
/// instead, so every host can read the document.
pub fn push_copied_value(out: &mut String, raw: &str) {
    // Only suspicious text pays for the precise parse.
    let suspicious = has_surrogate_escape(raw.as_bytes()) || (!raw.starts_with('"') && may_hold_unreadable_number(raw.as_bytes()));
    if suspicious && serde_json::from_str::<serde_json::Value>(raw).is_err() {
        write_str(out, raw);
    } else {
        out.push_str(raw);
    }
}

/// Appends a raw JSON value copied from the input (see
/// [`push_copied_value`]) when it nests within `max_depth`, else as a
/// string of its text, so no document nests deeper than messages may
/// (hosts such as Fluent Bit lose records nested too deep).
pub fn write_raw_within(out: &mut String, raw: &str, max_depth: u32) {
    if nests_deeper_than(raw.as_bytes(), max_depth) {
        write_str(out, raw);
    } else {
        push_copied_value(out, raw);
    }
}

/// True when `text` holds an escape of a UTF-16 surrogate (`\uD800` to
/// `\uDFFF`); a pair is valid JSON, a lone one is not.
pub fn has_surrogate_escape(text: &[u8]) -> bool {
    memchr::memmem::find_iter(text, b"\\u")
        .any(|at| matches!(text.get(at + 2..at + 4), Some([b'd' | b'D', b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F'])))
}

/// True when `text` (a JSON value) may hold a number with an exponent
/// (`1e999`, `-2.5E+9`) or 309+ digits (`10^308` has 309): the only ways
/// to write a number no double can hold. Only the bytes outside strings
/// are looked at, jumping from quote to quote (most of a log's bytes are in
/// strings, and hex ids such as `45e6` would look like exponents); a rare
/// false alarm only costs a precise parse.
fn may_hold_unreadable_number(text: &[u8]) -> bool {
    let mut rest = text;
    loop {
        let outside_end = memchr::memchr(b'"', rest).unwrap_or(rest.len());
        if has_exponent_or_long_number(&rest[..outside_end]) {
            return true;
        }
        // Skip the string: to the first quote not escaped by a backslash.
        let mut at = outside_end + 1;
        loop {
            let Some(offset) = rest.get(at..).and_then(|tail| memchr::memchr(b'"', tail)) else { return false };
            let quote = at + offset;
            let backslashes = rest[..quote].iter().rev().take_while(|&&byte| byte == b'\\').count();
            at = quote + 1;
            if backslashes % 2 == 0 {
                break;
            }
        }
        rest = &rest[at..];
    }
}

/// Outside strings only numbers have digits, and only `true`/`false` have
/// an `e` (never after a digit).
fn has_exponent_or_long_number(outside: &[u8]) -> bool {
    let mut digits: usize = 0;
    for &byte in outside {
        if digits > 0 && byte | 0x20 == b'e' {
            return true;
        }
        digits = if byte.is_ascii_digit() { digits + 1 } else { 0 };
        if digits >= 309 {
            return true;
        }
    }
    false
}

/// Skips JSON whitespace.
pub fn trim_json_start(text: &str) -> &str {
    text.trim_start_matches([' ', '\t', '\n', '\r'])
}

/// 128-bit FNV-1a: a stable, dependency-free digest for error-document ids.
pub fn fnv1a_128(parts: &[&[u8]]) -> u128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut hash = OFFSET;
    for part in parts {
        for &byte in *part {
            hash ^= u128::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
        // Separator so ("ab","c") and ("a","bc") differ.
        hash ^= 0xff;
        hash = hash.wrapping_mul(PRIME);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_only_what_json_requires() {
        let mut out = String::new();
        write_str(&mut out, "a\"b\\c\n\u{1}é\u{2028}");
        assert_eq!(out, "\"a\\\"b\\\\c\\n\\u0001é\u{2028}\"");
        assert_eq!(serde_json::from_str::<String>(&out).unwrap(), "a\"b\\c\n\u{1}é\u{2028}");
    }

    #[test]
    fn numbers_beyond_a_double_become_strings() {
        let copied = |raw: &str| {
            let mut out = String::new();
            push_copied_value(&mut out, raw);
            out
        };
        let long = "9".repeat(400);
        assert_eq!(copied("1e999"), "\"1e999\"");
        assert_eq!(copied(r#"{"a":[1,-2.5E+999]}"#), r#""{\"a\":[1,-2.5E+999]}""#);
        assert_eq!(copied(&long), format!("\"{long}\""));
        assert_eq!(copied(r#"{"a":[1,2.5e3],"b":"0e999"}"#), r#"{"a":[1,2.5e3],"b":"0e999"}"#);
        assert_eq!(copied(r#"{"a": [ -1.5e400]}"#), r#""{\"a\": [ -1.5e400]}""#);
        // Hex ids and UUIDs are not taken for numbers.
        assert!(!may_hold_unreadable_number(br#"{"id":"da45e6f0","uuid":"a9f2fd99-2d35-11e8-a625"}"#));
        assert!(may_hold_unreadable_number(br#"{"n":2.5e3}"#));
        assert_eq!(copied(r#""1e999""#), r#""1e999""#);
        assert_eq!(copied("123"), "123");
        // 309 digits: 2e308 is beyond a double, 9.9e307 is not.
        let just_beyond = format!("2{}", "0".repeat(308));
        assert_eq!(copied(&just_beyond), format!("\"{just_beyond}\""));
        assert_eq!(copied(&format!("99{}", "0".repeat(306))), format!("99{}", "0".repeat(306)));
    }

    #[test]
    fn every_byte_needing_escape_is_found_in_every_lane() {
        for len in 0..20 {
            for at in 0..len {
                for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                    let mut bytes = vec![b'a'; len];
                    // Bytes around the special one that must not hide it.
                    if at > 0 {
                        bytes[at - 1] = 0xff;
                    }
                    bytes[at] = special;
                    assert_eq!(bytes_needing_no_escape(&bytes), at, "len {len} at {at} byte {special}");
                }
            }
            assert_eq!(bytes_needing_no_escape(&vec![0x7f; len]), len);
            assert_eq!(bytes_needing_no_escape(&vec![0x20; len]), len);
            assert_eq!(bytes_needing_no_escape(&vec![0xe9; len]), len);
        }
        let mut out = String::new();
        write_str(&mut out, "0123456789\u{0}abcdef\"\\é\u{1f}\u{7f}");
        assert_eq!(out, "\"0123456789\\u0000abcdef\\\"\\\\é\\u001f\u{7f}\"");
    }

    #[test]
    fn depth_scan_ignores_brackets_in_strings() {
        assert!(!nests_deeper_than(br#"{"a":"[[[[[[","b":[1]}"#, 2));
        assert!(nests_deeper_than(br#"{"a":[[1]]}"#, 2));
        assert!(!nests_deeper_than(br#"{"a":"\"[[[","b":{}}"#, 2));
    }

    #[test]
    fn lone_surrogates_in_copied_values_become_text() {
        let copied = |raw: &str| {
            let mut out = String::new();
            push_copied_value(&mut out, raw);
            out
        };
        assert_eq!(copied(r#"{"a":"\ud800"}"#), r#""{\"a\":\"\\ud800\"}""#);
        assert_eq!(copied(r#"{"a":"\ud83d\ude00"}"#), r#"{"a":"\ud83d\ude00"}"#);
        assert_eq!(copied(r#""\uDFFF""#), r#""\"\\uDFFF\"""#);
        assert_eq!(copied(r#"{"a":"\u00e9"}"#), r#"{"a":"\u00e9"}"#);
    }
}
