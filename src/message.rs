//! A log event's message: parsed when it is a JSON object, with a gen3
//! access log inside `log` merged in.
//!
//! Kubernetes container lines arrive as fluentd records (`{"log": "...",
//! "stream": ..., "kubernetes": {...}}`), and gen3 services write one JSON
//! object per access-log line inside `log`. The gen3 schema writes the
//! message as an object (the record's keys, then the access log's keys it
//! lacks); a message that is not a JSON object is `{"log": "<raw line>"}`.

use std::borrow::Cow;

use crate::json::write_str;
pub use crate::members::Member;
use crate::members::{object_members, string_text};

/// What the document writer and the alert rule look at.
#[derive(Clone, Copy, Default)]
pub struct MessageView<'m> {
    /// The message's members, when it is a JSON object within the depth
    /// limit.
    pub members: Option<&'m [Member<'m>]>,
    /// The members of the JSON object `log` holds, when it holds one.
    pub merged: Option<&'m [Member<'m>]>,
}

impl<'m> MessageView<'m> {
    /// The value of `name`: the message's own, else the merged access log's.
    pub fn get(&self, name: &str) -> Option<&'m str> {
        let own = self.members.into_iter().flatten();
        let merged = self.merged.into_iter().flatten();
        own.chain(merged).find(|member| member.key == name).map(|member| member.value)
    }

    /// Writes the gen3 schema's `message` value: the members, then the merged
    /// ones the message lacks; `{"log": text}` when it is no object.
    pub fn write_gen3(&self, out: &mut String, text: &str) {
        let Some(members) = self.members else {
            out.push_str("{\"log\":");
            write_str(out, text);
            out.push('}');
            return;
        };
        out.push('{');
        let extra = self.merged.into_iter().flatten().filter(|merged| !members.iter().any(|own| own.key == merged.key));
        for (index, member) in members.iter().chain(extra).enumerate() {
            if index > 0 {
                out.push(',');
            }
            member.write(out);
        }
        out.push('}');
    }
}

/// Top-level members of `text` when it is a JSON object nesting at most
/// `max_depth`; duplicate keys keep their first place and their last value,
/// as JSON parsers that keep order do.
pub fn parse_object(text: &str, max_depth: u32) -> Option<Vec<Member<'_>>> {
    let mut members = object_members(text, max_depth)?;
    dedupe(&mut members);
    Some(members)
}

/// Parses `message` (when given) and the JSON object its `log` holds, and
/// hands `use_view` the view of both; the one place documents, alerts and
/// tests build a [`MessageView`] from a message's text.
pub fn with_message_view<R>(message: Option<&str>, max_depth: u32, use_view: impl FnOnce(&MessageView<'_>) -> R) -> R {
    let members = message.and_then(|text| parse_object(text, max_depth));
    let log_text = members.as_deref().and_then(log_object_text);
    let merged = log_text.as_deref().and_then(|log| parse_object(log, max_depth));
    use_view(&MessageView { members: members.as_deref(), merged: merged.as_deref() })
}

/// The text of the message's `log` member when it is a string that may hold
/// a JSON object (after whitespace, raw or escaped, it starts with `{`):
/// most logs are plain text and are never unescaped a second time.
pub fn log_object_text<'a>(members: &[Member<'a>]) -> Option<Cow<'a, str>> {
    let raw = members.iter().find(|member| member.key == "log")?.value;
    let mut rest = raw.strip_prefix('"')?;
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        match rest.strip_prefix("\\n").or_else(|| rest.strip_prefix("\\r")).or_else(|| rest.strip_prefix("\\t")) {
            Some(after) => rest = after,
            None if rest.starts_with('{') => return json_string(raw),
            None => return None,
        }
    }
}

/// The string a raw JSON value holds, if it is a string. Every caller
/// passes a value already validated (by the member reader or serde_json),
/// as [`string_text`] requires.
pub fn json_string(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.starts_with('"') {
        return None;
    }
    string_text(raw)
}

fn dedupe(members: &mut Vec<Member<'_>>) {
    // Few keys is the rule; a hash map only pays off past a few dozen.
    if members.len() <= 32 {
        let mut index = 1;
        while index < members.len() {
            if let Some(earlier) = members[..index].iter().position(|member| member.key == members[index].key) {
                let later = members.remove(index);
                members[earlier].value = later.value;
                members[earlier].suspect = later.suspect;
            } else {
                index += 1;
            }
        }
        return;
    }
    let mut position: std::collections::HashMap<Cow<'_, str>, usize> = std::collections::HashMap::with_capacity(members.len());
    let mut unique: Vec<Member<'_>> = Vec::with_capacity(members.len());
    for member in members.drain(..) {
        match position.get(&member.key) {
            Some(&at) => {
                unique[at].value = member.value;
                unique[at].suspect = member.suspect;
            }
            None => {
                position.insert(member.key.clone(), unique.len());
                unique.push(member);
            }
        }
    }
    *members = unique;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen3(text: &str) -> String {
        let mut out = String::new();
        with_message_view(Some(text), 64, |view| view.write_gen3(&mut out, text));
        out
    }

    #[test]
    fn objects_are_kept_and_access_logs_merged() {
        assert_eq!(gen3("plain text"), r#"{"log":"plain text"}"#);
        assert_eq!(gen3(r#"{"a":1,"a":2,"b":3}"#), r#"{"a":2,"b":3}"#);
        assert_eq!(
            gen3(r#"{"log":"\n {\"status\":200,\"stream\":\"x\"}","stream":"stdout"}"#),
            r#"{"log":"\n {\"status\":200,\"stream\":\"x\"}","stream":"stdout","status":200}"#
        );
        assert_eq!(gen3(r#"{"log":"{not json"}"#), r#"{"log":"{not json"}"#);
        assert_eq!(gen3("[1,2]"), r#"{"log":"[1,2]"}"#);
    }

    #[test]
    fn too_deep_messages_stay_text() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(70), "]".repeat(70));
        assert!(parse_object(&deep, 64).is_none());
        assert!(parse_object(&deep, 80).is_some());
    }

    #[test]
    fn lookups_prefer_the_messages_own_fields() {
        let members = parse_object(r#"{"response_secs":1,"log":"{\"response_secs\":2,\"user_id\":\"u\"}"}"#, 64).unwrap();
        let log = log_object_text(&members).unwrap();
        let merged = parse_object(&log, 64).unwrap();
        let view = MessageView { members: Some(&members), merged: Some(&merged) };
        assert_eq!(view.get("response_secs").unwrap(), "1");
        assert_eq!(view.get("user_id").unwrap(), r#""u""#);
        assert!(view.get("absent").is_none());
    }
}
