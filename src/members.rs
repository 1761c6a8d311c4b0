//! A JSON object's top-level members, found and validated in one pass.
//!
//! Messages are most of the decoder's input, and most messages are JSON
//! objects whose member values are only copied into documents. Read with
//! serde_json, a message was scanned once for its depth, once to validate
//! it, and each copied value once more for what strict readers refuse (a
//! lone surrogate escape, a number no double holds). This reader does all
//! of it in the one pass and accepts exactly what serde_json accepts for an
//! object of raw values (the harness holds it to that on mutated inputs,
//! and so does the `core` fuzz target). Its reader also reads envelopes
//! (`envelope::read_common`).

use std::borrow::Cow;

use crate::json::{bytes_needing_no_escape, escape_lanes, next_backslash, push_copied_value};
use crate::transport::CowStr;

/// A digit run this long may be a number beyond a double (`10^308` has 309
/// digits; a double holds up to about `1.8e308`).
const LONG_NUMBER_DIGITS: usize = 309;

/// One top-level member of a JSON object.
#[derive(Clone, Debug, PartialEq)]
pub struct Member<'a> {
    /// The key, unescaped.
    pub key: Cow<'a, str>,
    /// The value's JSON text, exactly as in the input.
    pub value: &'a str,
    /// The key's text needs no escaping (it had no escape in the input), so
    /// it is written back as it came.
    pub plain_key: bool,
    /// The value may hold something strict readers refuse: a UTF-16
    /// surrogate escape or a number with an exponent or 309+ digits. Only
    /// such values pay for [`push_copied_value`]'s precise parse.
    pub suspect: bool,
}

impl Member<'_> {
    /// Appends `"key":value`, the value as [`push_copied_value`] writes it.
    pub fn write(&self, out: &mut String) {
        if self.plain_key {
            out.push('"');
            out.push_str(&self.key);
            out.push('"');
        } else {
            crate::json::write_str(out, &self.key);
        }
        out.push(':');
        if self.suspect {
            push_copied_value(out, self.value);
        } else {
            out.push_str(self.value);
        }
    }
}

/// The top-level members of `text`, in order, when it is one JSON object
/// (whitespace around it allowed) nesting at most `max_depth` levels (the
/// object itself is level 1); `None` otherwise.
pub fn object_members(text: &str, max_depth: u32) -> Option<Vec<Member<'_>>> {
    let mut reader = Reader::new(text, max_depth);
    reader.skip_whitespace();
    if max_depth == 0 || !reader.eat(b'{') {
        return None;
    }
    let mut members = Vec::new();
    reader.skip_whitespace();
    if !reader.eat(b'}') {
        loop {
            let key_start = reader.at;
            let plain_key = !reader.string()?;
            let key_text = &text[key_start..reader.at];
            let key = if plain_key {
                Cow::Borrowed(&key_text[1..key_text.len() - 1])
            } else {
                // Rare: serde_json unescapes it, refusing lone surrogates.
                serde_json::from_str::<CowStr<'_>>(key_text).ok()?.0
            };
            reader.skip_whitespace();
            if !reader.eat(b':') {
                return None;
            }
            reader.skip_whitespace();
            reader.suspect = false;
            let value_start = reader.at;
            reader.value(1)?;
            members.push(Member { key, value: &text[value_start..reader.at], plain_key, suspect: reader.suspect });
            reader.skip_whitespace();
            if reader.eat(b',') {
                reader.skip_whitespace();
            } else if reader.eat(b'}') {
                break;
            } else {
                return None;
            }
        }
    }
    reader.skip_whitespace();
    (reader.at == reader.bytes.len()).then_some(members)
}

/// The text of a JSON string literal already validated (`raw`, quotes
/// included; by this reader or serde_json: raw quotes and control bytes
/// are not looked for here). Escapes are decoded here, finding backslashes
/// eight bytes at a time: an access log inside `log` has one every few
/// bytes, and serde_json's per-escape work was most of reading it. A `\u`
/// escape (rare in logs), or an escape JSON does not have, sends the string
/// to serde_json, which pairs surrogates and refuses lone ones.
pub fn string_text(raw: &str) -> Option<Cow<'_, str>> {
    let strict = || serde_json::from_str::<CowStr<'_>>(raw).ok().map(|text| text.0);
    let Some(inner) = raw.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')) else { return strict() };
    let bytes = inner.as_bytes();
    let mut backslash = next_backslash(bytes, 0);
    if backslash == bytes.len() {
        return Some(Cow::Borrowed(inner));
    }
    let mut text = String::with_capacity(inner.len());
    let mut start = 0;
    loop {
        // `start` and `backslash` are at ASCII bytes: char boundaries.
        text.push_str(&inner[start..backslash]);
        if backslash == bytes.len() {
            return Some(Cow::Owned(text));
        }
        let Some(unescaped) = bytes.get(backslash + 1).copied().and_then(simple_escape) else { return strict() };
        text.push(unescaped);
        start = backslash + 2;
        backslash = next_backslash(bytes, start);
    }
}

/// What a one-letter escape (the letter after the backslash) stands for;
/// `None` for `u` and for letters JSON does not have.
fn simple_escape(letter: u8) -> Option<char> {
    Some(match letter {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        _ => return None,
    })
}

/// A validating JSON reader over text, accepting what serde_json accepts
/// when it skips a value (used for values copied as they came).
pub(crate) struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    max_depth: u32,
    /// Set when a value read since it was last cleared may be unreadable to
    /// a strict reader (see [`Member::suspect`]).
    suspect: bool,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `text`; containers may nest `max_depth`
    /// levels.
    pub(crate) fn new(text: &'a str, max_depth: u32) -> Self {
        Reader { text, bytes: text.as_bytes(), at: 0, max_depth, suspect: false }
    }

    /// The text from byte `start` to where the reader is.
    pub(crate) fn since(&self, start: usize) -> &'a str {
        &self.text[start..self.at]
    }

    pub(crate) fn at(&self) -> usize {
        self.at
    }

    pub(crate) fn at_end(&self) -> bool {
        self.at == self.bytes.len()
    }

    pub(crate) fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    pub(crate) fn eat(&mut self, byte: u8) -> bool {
        let found = self.bytes.get(self.at) == Some(&byte);
        self.at += usize::from(found);
        found
    }

    /// One value starting here, inside `depth` levels of nesting.
    pub(crate) fn value(&mut self, depth: u32) -> Option<()> {
        match *self.bytes.get(self.at)? {
            b'"' => self.string().map(drop),
            b'{' => self.container(depth + 1, true),
            b'[' => self.container(depth + 1, false),
            b't' => self.word(b"true"),
            b'f' => self.word(b"false"),
            b'n' => self.word(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn word(&mut self, word: &[u8]) -> Option<()> {
        self.bytes[self.at..].starts_with(word).then(|| self.at += word.len())
    }

    /// An object or array whose opening bracket is here, at level `depth`.
    fn container(&mut self, depth: u32, object: bool) -> Option<()> {
        if depth > self.max_depth {
            return None;
        }
        let close = if object { b'}' } else { b']' };
        self.at += 1;
        self.skip_whitespace();
        if self.eat(close) {
            return Some(());
        }
        loop {
            if object {
                self.string()?;
                self.skip_whitespace();
                if !self.eat(b':') {
                    return None;
                }
                self.skip_whitespace();
            }
            self.value(depth)?;
            self.skip_whitespace();
            if self.eat(b',') {
                self.skip_whitespace();
            } else if self.eat(close) {
                return Some(());
            } else {
                return None;
            }
        }
    }

    /// A string whose opening quote should be here; `Some(true)` when it
    /// holds an escape. Escapes are checked as serde_json checks them when it
    /// skips a value: known letters, four hex digits after `\u`.
    fn string(&mut self) -> Option<bool> {
        if !self.eat(b'"') {
            return None;
        }
        let mut escaped = false;
        loop {
            self.at += bytes_needing_no_escape(&self.bytes[self.at..]);
            match *self.bytes.get(self.at)? {
                b'"' => {
                    self.at += 1;
                    return Some(escaped);
                }
                b'\\' => {
                    escaped = true;
                    match *self.bytes.get(self.at + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 2,
                        b'u' => {
                            let hex = self.bytes.get(self.at + 2..self.at + 6)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            if matches!(hex[0], b'd' | b'D') && matches!(hex[1], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F') {
                                self.suspect = true;
                            }
                            self.at += 6;
                        }
                        _ => return None,
                    }
                }
                // A control byte: JSON strings may not hold one raw.
                _ => return None,
            }
        }
    }

    /// The string literal whose opening quote should be here, unescaped in
    /// the same pass that validates it (borrowed when it has no escape):
    /// what serde_json gives for it as a string, or `None` where serde_json
    /// refuses it. A `\u` escape (rare in logs) sends the literal to
    /// serde_json, which pairs surrogates and refuses lone ones.
    pub(crate) fn string_text(&mut self) -> Option<Cow<'a, str>> {
        let literal_start = self.at;
        if !self.eat(b'"') {
            return None;
        }
        let run_start = self.at;
        self.at += bytes_needing_no_escape(&self.bytes[self.at..]);
        match *self.bytes.get(self.at)? {
            b'"' => {
                self.at += 1;
                return Some(Cow::Borrowed(&self.text[run_start..self.at - 1]));
            }
            b'\\' => {}
            _ => return None,
        }
        // A Kubernetes line inside a message has an escape every few bytes,
        // so the runs between them are copied eight bytes at a time (no copy
        // call per run) and the excess cut off; the result is the input's
        // runs and ASCII, so it is UTF-8 (checked: no unsafe here).
        let bytes = self.bytes;
        let mut text = Vec::with_capacity(2 * (self.at - run_start) + 16);
        text.extend_from_slice(&bytes[run_start..self.at]);
        let mut at = self.at;
        loop {
            // `at` is at a backslash.
            match bytes.get(at + 1).copied().and_then(simple_escape) {
                Some(unescaped) => text.push(unescaped as u8),
                None if bytes.get(at + 1) == Some(&b'u') => {
                    self.at = literal_start;
                    self.string()?;
                    return serde_json::from_str::<CowStr<'a>>(self.since(literal_start)).ok().map(|text| text.0);
                }
                None => return None,
            }
            at += 2;
            while let Some(chunk) = bytes.get(at..at + 8) {
                let chunk: [u8; 8] = chunk.try_into().expect("8 bytes");
                text.extend_from_slice(&chunk);
                let special = escape_lanes(u64::from_le_bytes(chunk));
                if special != 0 {
                    let clean = (special.trailing_zeros() / 8) as usize;
                    text.truncate(text.len() - 8 + clean);
                    at += clean;
                    break;
                }
                at += 8;
            }
            if at + 8 > bytes.len() {
                let clean = bytes_needing_no_escape(&bytes[at..]);
                text.extend_from_slice(&bytes[at..at + clean]);
                at += clean;
            }
            match *bytes.get(at)? {
                b'"' => {
                    self.at = at + 1;
                    return String::from_utf8(text).ok().map(Cow::Owned);
                }
                b'\\' => {}
                _ => return None,
            }
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Option<()> {
        self.eat(b'-');
        match self.bytes.get(self.at) {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits()?,
            _ => return None,
        }
        if self.eat(b'.') {
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.at) {
            self.suspect = true;
            self.at += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.at) {
                self.at += 1;
            }
            self.digits()?;
        }
        Some(())
    }

    /// One or more digits.
    fn digits(&mut self) -> Option<()> {
        let count = self.bytes[self.at..].iter().take_while(|byte| byte.is_ascii_digit()).count();
        self.at += count;
        if count >= LONG_NUMBER_DIGITS {
            self.suspect = true;
        }
        (count > 0).then_some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_and_values(text: &str) -> Option<Vec<(String, String, bool)>> {
        object_members(text, 4).map(|members| members.into_iter().map(|m| (m.key.into_owned(), m.value.to_owned(), m.suspect)).collect())
    }

    #[test]
    fn members_keep_their_exact_text() {
        let members = keys_and_values(" {\"a\" : [1, {\"b\":null}] ,\"c\\n\":\"x\\\"y\",\"d\":-0.5e-3 }\n").unwrap();
        assert_eq!(
            members,
            [
                ("a".to_owned(), "[1, {\"b\":null}]".to_owned(), false),
                ("c\n".to_owned(), "\"x\\\"y\"".to_owned(), false),
                ("d".to_owned(), "-0.5e-3".to_owned(), true),
            ]
        );
        assert_eq!(keys_and_values("{}"), Some(vec![]));
    }

    #[test]
    fn what_strict_readers_refuse_is_flagged() {
        let suspect = |text: &str| keys_and_values(text).unwrap()[0].2;
        assert!(suspect(r#"{"a":"\ud800"}"#));
        assert!(suspect(r#"{"a":["\uDC00"]}"#));
        assert!(!suspect(r#"{"a":"\u00e9 \\ud800"}"#));
        assert!(suspect(&format!("{{\"a\":{}}}", "1".repeat(309))));
        assert!(!suspect(&format!("{{\"a\":{}}}", "9".repeat(308))));
        assert!(!suspect(r#"{"a":"1e999"}"#));
    }

    #[test]
    fn string_text_decodes_escapes_in_every_lane() {
        for len in 0..20 {
            for at in 0..len {
                let mut raw = "a".repeat(len);
                raw.replace_range(at..=at, "\\n");
                let raw = format!("\"{raw}é\"");
                assert_eq!(string_text(&raw).unwrap(), serde_json::from_str::<String>(&raw).unwrap(), "{raw}");
            }
        }
        assert!(matches!(string_text(r#""plain""#), Some(Cow::Borrowed("plain"))));
        assert_eq!(string_text(r#""\"\\\/\b\f\r\t\u00e9\ud83d\ude00""#).unwrap(), "\"\\/\u{8}\u{c}\r\té😀");
        assert_eq!(string_text(r#""\ud800""#), None);
        assert_eq!(string_text(r#""a\""#), None);
    }

    #[test]
    fn malformed_or_too_deep_text_is_no_object() {
        for text in [
            "",
            "[]",
            "{",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":-}",
            "{\"a\":tru}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\\u12g4\"}",
            "{\"a\":\"\u{1}\"}",
            "{\"a\":1} x",
            "{\"a\":[1,]}",
            "{\"a\":{\"b\"}}",
            "{\"a\":[[[[1]]]]}",
            "{\"\\ud800\":1}",
            "{'a':1}",
        ] {
            assert_eq!(keys_and_values(text), None, "{text:?}");
        }
        assert!(keys_and_values("{\"a\":[[[1]]]}").is_some());
    }
}
