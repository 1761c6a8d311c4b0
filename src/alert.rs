//! The slow-response alert: the rule, and the Slack payload the Gen3 Lambda
//! posted.
//!
//! An access-log event (of a stream the options check) whose response time
//! is greater than the threshold gives an alert. The time is read from
//! `response_secs` (revproxy since 2019), else from the legacy
//! `http_response_time`; either may be a JSON number or a numeric string.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::Deserialize;

use crate::json::{write_key, write_str};
use crate::message::{MessageView, json_string};

/// A response slower than the threshold.
pub struct SlowResponse<'m> {
    /// As the log wrote it (a number's text, or the string's content).
    pub seconds_text: Cow<'m, str>,
}

/// The response time of an access log, if it has a readable one, when it is
/// greater than `threshold`.
pub fn slow_response<'m>(view: &MessageView<'m>, threshold: f64) -> Option<SlowResponse<'m>> {
    let (seconds_text, seconds) = ["response_secs", "http_response_time"].into_iter().find_map(|name| seconds(view.get(name)?))?;
    (seconds > threshold).then_some(SlowResponse { seconds_text })
}

/// A number, or a string holding one.
fn seconds(raw: &str) -> Option<(Cow<'_, str>, f64)> {
    let text = match raw.as_bytes().first() {
        Some(b'-' | b'0'..=b'9') => Cow::Borrowed(raw),
        Some(b'"') => json_string(raw)?,
        _ => return None,
    };
    let seconds = text.trim().parse::<f64>().ok().filter(|seconds| seconds.is_finite())?;
    Some((text, seconds))
}

/// The one field of `message.kubernetes` the payload needs.
#[derive(Deserialize)]
struct KubernetesPod<'a> {
    #[serde(borrow, default)]
    pod_name: Option<Cow<'a, str>>,
}

/// Writes the Lambda's Slack payload for `slow` into `out` (cleared first).
pub fn write_slack_payload(out: &mut String, log_group: &str, view: &MessageView<'_>, slow: &SlowResponse<'_>) {
    let field = |name: &str| -> String {
        match view.get(name) {
            Some(raw) => json_string(raw).map(Cow::into_owned).unwrap_or_else(|| raw.to_owned()),
            None => "-".to_owned(),
        }
    };
    let pod = view
        .get("kubernetes")
        .and_then(|raw| serde_json::from_str::<KubernetesPod>(raw).ok())
        .and_then(|kubernetes| kubernetes.pod_name.map(Cow::into_owned))
        .unwrap_or_else(|| "-".to_owned());
    let text = format!(
        "Environment: {log_group}\n\tPod: {pod}\n\tRequest: {}\n\tReferer: {}\n\tClient IP: {}\n\tAccess Date: {}",
        cut_query(&field("http_request")),
        cut_query(&field("http_referer")),
        field("network_client_ip"),
        field("date_access"),
    );
    out.clear();
    out.push_str("{\"text\":");
    write_str(out, &text);
    out.push_str(",\"attachments\":[{\"title\":");
    write_str(out, &format!("Slow Response notification: ({} seconds)", slow.seconds_text));
    out.push_str(",\"color\":\"#FF0000\"}]}");
}

/// Writes the alert's line, `{"alert": {...}}`, into `out` (cleared first).
pub fn write_alert_line(out: &mut String, document_id: &str, commons: &str, log_group: &str, seconds: &str, slack_payload: &str) {
    out.clear();
    out.push_str("{\"alert\":{");
    for (key, value) in [("document_id", document_id), ("commons", commons), ("logGroup", log_group), ("seconds", seconds)] {
        write_key(out, key);
        write_str(out, value);
        out.push(',');
    }
    let _ = write!(out, "\"slack_payload\":{slack_payload}}}}}");
}

/// `https://host/path?query` -> `https://host/path?...`, as the Lambda did.
fn cut_query(text: &str) -> Cow<'_, str> {
    match text.split_once('?') {
        Some((head, _)) => Cow::Owned(format!("{head}?...")),
        None => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::parse_object;

    fn slow(message: &str, threshold: f64) -> Option<String> {
        let members = parse_object(message, 64)?;
        let view = MessageView { members: Some(&members), merged: None };
        slow_response(&view, threshold).map(|slow| slow.seconds_text.into_owned())
    }

    #[test]
    fn both_fields_in_both_forms() {
        assert_eq!(slow(r#"{"response_secs":70.5}"#, 65.0).as_deref(), Some("70.5"));
        assert_eq!(slow(r#"{"response_secs":"70.5"}"#, 65.0).as_deref(), Some("70.5"));
        assert_eq!(slow(r#"{"http_response_time":70.5}"#, 65.0).as_deref(), Some("70.5"));
        assert_eq!(slow(r#"{"http_response_time":" 70.5"}"#, 65.0).as_deref(), Some(" 70.5"));
        // Greater than, not equal; unreadable values are no alert.
        assert_eq!(slow(r#"{"response_secs":65}"#, 65.0), None);
        assert_eq!(slow(r#"{"response_secs":"fast","http_response_time":"66"}"#, 65.0).as_deref(), Some("66"));
        assert_eq!(slow(r#"{"response_secs":null}"#, 65.0), None);
        assert_eq!(slow(r#"{"response_secs":"NaN"}"#, 0.0), None);
    }

    #[test]
    fn payload_cuts_queries_and_marks_missing_fields() {
        let members =
            parse_object(r#"{"http_request":"/a?secret=1","kubernetes":{"pod_name":"revproxy-1"},"response_secs":70}"#, 64).unwrap();
        let view = MessageView { members: Some(&members), merged: None };
        let slow = slow_response(&view, 1.0).unwrap();
        let mut out = String::new();
        write_slack_payload(&mut out, "devplanetv1", &view, &slow);
        let payload: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            payload["text"],
            "Environment: devplanetv1\n\tPod: revproxy-1\n\tRequest: /a?...\n\tReferer: -\n\tClient IP: -\n\tAccess Date: -"
        );
        assert_eq!(payload["attachments"][0]["title"], "Slow Response notification: (70 seconds)");
    }
}
