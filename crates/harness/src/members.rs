//! The reference the core's one-pass member reader (`gen3_cwlogs::checked::
//! object_members`) is held to: serde_json reading an object of raw values,
//! after a bracket count for the depth, which is how the decoder read
//! messages before. Checked by the `forms` fuzz target, CI's property pass
//! and the tests below.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// (key, raw value) of each top-level member, when `text` is one JSON object
/// nesting at most `max_depth`.
pub fn reference_members(text: &str, max_depth: u32) -> Option<Vec<(String, String)>> {
    if nesting(text.as_bytes()) > max_depth as usize {
        return None;
    }
    let Members(members) = serde_json::from_str::<Members>(text).ok()?;
    Some(members.into_iter().map(|(key, value)| (key.into_owned(), value.get().to_owned())).collect())
}

/// Panics unless the core's reader agrees with the reference on `text` at a
/// few depths, every value it does not flag suspect is one serde_json
/// reads, and every string value's text is what serde_json unescapes.
pub fn check_members(text: &[u8]) {
    let Ok(text) = std::str::from_utf8(text) else { return };
    for max_depth in [1, 3, 64] {
        let core = gen3_cwlogs::checked::object_members(text, max_depth);
        let core_pairs = core.as_ref().map(|members| members.iter().map(|m| (m.key.to_string(), m.value.to_owned())).collect::<Vec<_>>());
        assert_eq!(core_pairs, reference_members(text, max_depth), "member reader and serde_json differ at depth {max_depth} on {text:?}");
        for member in core.iter().flatten() {
            assert!(
                member.suspect || serde_json::from_str::<serde_json::Value>(member.value).is_ok(),
                "value {:?} not flagged suspect but unreadable",
                member.value
            );
            if member.value.starts_with('"') {
                let strict = serde_json::from_str::<Key>(member.value).ok().map(|Key(text)| text.into_owned());
                let text = gen3_cwlogs::checked::string_text(member.value).map(|text| text.into_owned());
                assert_eq!(text, strict, "string text of {:?}", member.value);
            }
        }
    }
}

/// Deepest bracket nesting outside strings.
fn nesting(text: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &byte in text {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

#[derive(Deserialize)]
struct Key<'a>(#[serde(borrow)] Cow<'a, str>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(Key(key)) = map.next_key()? {
                    members.push((key, map.next_value()?));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every one-byte deletion, and replacement by a byte that matters to
    /// JSON, of texts near the edges of the grammar.
    #[test]
    fn the_member_reader_agrees_with_serde_json_on_mutated_texts() {
        let seeds = [
            r#"{"log":"{\"status\":200,\"user_id\":\"u\",\"response_secs\":1.5e1}\n","stream":"stdout","kubernetes":{"labels":{"a":"b"},"n":[1,-0.5,true,false,null]}}"#,
            r#" { "a" : [ ] , "b" : { } , "c\u00e9\n" : "\ud83d\ude00 \ud800" , "d" : -12.5E+3 } "#,
            r#"{"k":"v","k":[{"x":[["y"]]}],"n":0,"m":-0,"z":"\\\"\/\b\f\n\r\t"}"#,
        ];
        let cases = crate::for_each_one_byte_mutation(&seeds, check_members);
        assert!(cases > 4000, "{cases}");
        check_members(format!("{{\"a\":{}}}", "2".repeat(309)).as_bytes());
    }
}
