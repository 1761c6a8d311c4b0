//! Delimiting JSON values without validating them, so that one bad value,
//! member or element can be cut out and its neighbours read: invalid UTF-8,
//! lone surrogate escapes or bad scalars do not stop the scan, only
//! structure (quotes, escapes, brackets) does.

/// Skips JSON whitespace from `at`.
pub fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && matches!(bytes[at], b' ' | b'\t' | b'\n' | b'\r') {
        at += 1;
    }
    at
}

/// End (exclusive) of the string whose opening quote is at `at`, skipping
/// escapes; `None` when the input ends inside it.
pub fn string_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut at = at + 1;
    loop {
        at += memchr::memchr2(b'"', b'\\', bytes.get(at..)?)?;
        if bytes[at] == b'"' {
            return Some(at + 1);
        }
        at += 2;
    }
}

/// End (exclusive) of the JSON value that starts at `start` (not
/// whitespace), found without validating it: strings are skipped by their
/// quotes and escapes, brackets are counted, a scalar ends at the next
/// delimiter. Invalid UTF-8, lone surrogates or bad scalars do not stop it,
/// so one bad value can be cut out and its neighbours decoded. A stray
/// delimiter is a value of one byte, so every call makes progress. `None`
/// when the input ends inside the value.
pub fn value_end(bytes: &[u8], start: usize) -> Option<usize> {
    match *bytes.get(start)? {
        b'"' => string_end(bytes, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut at = start;
            while at < bytes.len() {
                match bytes[at] {
                    b'"' => {
                        at = string_end(bytes, at)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(at + 1);
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
            None
        }
        // A scalar (or garbage) runs to the next delimiter; a delimiter
        // where a value should start is a value of its own.
        _ => {
            let delimiter = |byte: &u8| matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | b',' | b':' | b'{' | b'}' | b'[' | b']' | b'"');
            let length = bytes[start + 1..].iter().position(delimiter).map_or(bytes.len() - start, |at| at + 1);
            Some(start + length)
        }
    }
}

/// A member of an object: the key's byte range (with its quotes) and the
/// value's.
pub type Member = (std::ops::Range<usize>, std::ops::Range<usize>);

/// The members of the JSON object spanning `bytes` (its text from `{` to
/// `}`), as (key value with its quotes, value) byte ranges, found by
/// [`value_end`]. `Err` names what is malformed, with the byte offset.
pub fn object_members(bytes: &[u8]) -> Result<Vec<Member>, String> {
    let mut members = Vec::new();
    let mut at = skip_whitespace(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return Err("not a JSON object".to_owned());
    }
    at = skip_whitespace(bytes, at + 1);
    if bytes.get(at) == Some(&b'}') {
        return Ok(members);
    }
    loop {
        if bytes.get(at) != Some(&b'"') {
            return Err(format!("expected a key at byte {at}"));
        }
        let key_end = string_end(bytes, at).ok_or_else(|| format!("unterminated key at byte {at}"))?;
        let colon = skip_whitespace(bytes, key_end);
        if bytes.get(colon) != Some(&b':') {
            return Err(format!("expected ':' at byte {colon}"));
        }
        let value_start = skip_whitespace(bytes, colon + 1);
        let value_stop = value_end(bytes, value_start).filter(|&end| end > value_start && value_start < bytes.len());
        let value_stop = value_stop.ok_or_else(|| format!("unterminated value at byte {value_start}"))?;
        members.push((at..key_end, value_start..value_stop));
        at = skip_whitespace(bytes, value_stop);
        match bytes.get(at) {
            Some(b',') => at = skip_whitespace(bytes, at + 1),
            Some(b'}') => return Ok(members),
            _ => return Err(format!("expected ',' or '}}' at byte {at}")),
        }
    }
}

/// The elements of the JSON array spanning `bytes`, as byte ranges, found
/// by [`value_end`]. `Err` names what is malformed.
pub fn array_elements(bytes: &[u8]) -> Result<Vec<std::ops::Range<usize>>, String> {
    let mut elements = Vec::new();
    let mut at = skip_whitespace(bytes, 0);
    if bytes.get(at) != Some(&b'[') {
        return Err("not a JSON array".to_owned());
    }
    at = skip_whitespace(bytes, at + 1);
    if bytes.get(at) == Some(&b']') {
        return Ok(elements);
    }
    loop {
        let end = value_end(bytes, at).filter(|_| at < bytes.len()).ok_or_else(|| format!("unterminated element at byte {at}"))?;
        elements.push(at..end);
        at = skip_whitespace(bytes, end);
        match bytes.get(at) {
            Some(b',') => at = skip_whitespace(bytes, at + 1),
            Some(b']') => return Ok(elements),
            _ => return Err(format!("expected ',' or ']' at byte {at}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_delimited_without_being_validated() {
        let text = b"{\"a\":\"}\\\"\",\"b\":[1,{\"c\":\xff}]} 42 \"s\" tru, {\"x\":";
        let end = value_end(text, 0).unwrap();
        assert_eq!(&text[..end], &b"{\"a\":\"}\\\"\",\"b\":[1,{\"c\":\xff}]}"[..]);
        let next = skip_whitespace(text, end);
        assert_eq!(value_end(text, next), Some(next + 2));
        let string = skip_whitespace(text, next + 2);
        assert_eq!(&text[string..value_end(text, string).unwrap()], b"\"s\"");
        let scalar = skip_whitespace(text, string + 3);
        assert_eq!(&text[scalar..value_end(text, scalar).unwrap()], b"tru");
        // A stray delimiter is one byte; an unterminated value has no end.
        assert_eq!(value_end(text, scalar + 3), Some(scalar + 4));
        let last = skip_whitespace(text, scalar + 4);
        assert_eq!(value_end(text, last), None);
        assert_eq!(value_end(b"}", 0), Some(1));
    }

    #[test]
    fn members_and_elements_of_broken_text() {
        let object = b"{ \"k\" : [1, 2] ,\"m\":\"\\ud800\xff\" }";
        let members = object_members(object).unwrap();
        assert_eq!(members.len(), 2);
        assert_eq!(&object[members[0].1.clone()], b"[1, 2]");
        assert_eq!(&object[members[1].0.clone()], b"\"m\"");
        assert!(object_members(b"{\"k\" 1}").unwrap_err().contains("':'"));
        assert!(object_members(b"[1]").is_err());
        let elements = array_elements(b"[ {\"a\":1}, 42 ,null,\"\xff\"]").unwrap();
        assert_eq!(elements.len(), 4);
        assert!(array_elements(b"[1 2]").is_err());
        assert!(array_elements(b"[1, {\"a\"").is_err());
        assert_eq!(array_elements(b"[]").unwrap(), Vec::<std::ops::Range<usize>>::new());
    }
}
