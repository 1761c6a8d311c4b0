//! The `ecs` schema: one log event as Elastic Common Schema fields, named as
//! Elastic's own AWS integrations name them for CloudWatch Logs.
//!
//! ```json
//! {"@timestamp": "...", "message": "<the event's message, as CloudWatch gave it>",
//!  "event": {"id": "<CloudWatch event id>"},
//!  "kubernetes": {"pod": {"name", "uid"}, "namespace", "container": {"name", "image"}, "node": {"name"}, "labels": {...}},
//!  "container": {"id"},
//!  "gen3": {<the gen3 access log's fields>},
//!  "cloud": {"provider": "aws", "account": {"id"}, "region"},
//!  "aws": {"cloudwatch": {"log_group", "log_stream", <unknown envelope fields>, "extracted_fields"},
//!          "firehose": {"subscription_filters", "request_id", "timestamp", "record_index"},
//!          "kinesis": {"event_id", "sequence_number", "partition_key", "arrival_timestamp", "source_arn", "region"}},
//!  "labels": {"commons": "..."}}
//! ```
//!
//! Names checked against ECS 8 (`@timestamp`, `message`, `event.id`,
//! `cloud.*`, `container.id`, `labels`) and Elastic's `awsfirehose`
//! integration (`aws.cloudwatch.log_group`, `aws.cloudwatch.log_stream`,
//! `aws.firehose.request_id`, `aws.firehose.subscription_filters`), whose
//! dashboards and queries then work unchanged; `kubernetes.*` as Elastic's
//! Kubernetes metadata names it. `message` is the raw message, so nothing is
//! lost; the rest is derived from it: a fluentd record's Kubernetes metadata,
//! and a gen3 access log (inside `log`, or the message itself) under the
//! documented namespace `gen3`, its fields as revproxy names them.
//! `cloud.account.id` and `cloud.region` are the source account's: the
//! event's `extractedFields` (`@aws.account`, `@aws.region`) when an
//! account-level subscription gives them, else the envelope's owner and no
//! region.

use crate::json::{write_key, write_raw_within, write_str};
use crate::message::{Member, MessageView, json_string, parse_object};

/// The kubernetes members a fluentd record carries, and their ECS paths
/// (`pod.name` is written as `"pod":{"name":...}`).
const KUBERNETES: [(&str, &str, &str); 7] = [
    ("pod_name", "pod", "name"),
    ("pod_id", "pod", "uid"),
    ("namespace_name", "namespace", ""),
    ("container_name", "container", "name"),
    ("container_image", "container", "image"),
    ("host", "node", "name"),
    ("labels", "labels", ""),
];

/// Writes the fields derived from the message: `kubernetes`, `container`
/// and `gen3`, each with a leading comma.
pub fn write_derived(out: &mut String, view: &MessageView<'_>, max_depth: u32) {
    if let Some(kubernetes) = view.members.and_then(|_| view.get("kubernetes")).and_then(|raw| parse_object(raw, max_depth)) {
        write_kubernetes(out, &kubernetes, max_depth);
    }
    let container_id = view
        .members
        .and_then(|_| view.get("docker"))
        .and_then(|raw| parse_object(raw, max_depth))
        .and_then(|docker| docker.iter().find(|member| member.key == "container_id").and_then(|member| json_string(member.value)));
    if let Some(id) = container_id {
        out.push_str(",\"container\":{\"id\":");
        write_str(out, &id);
        out.push('}');
    }
    // The access log: inside `log` (merged), or the message itself.
    let access: Option<&[Member<'_>]> = view.merged.or(view.members.filter(|members| members.iter().any(|member| member.key == "gen3log")));
    if let Some(fields) = access {
        out.push_str(",\"gen3\":{");
        for (index, member) in fields.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            member.write(out);
        }
        out.push('}');
    }
}

fn write_kubernetes(out: &mut String, kubernetes: &[Member<'_>], max_depth: u32) {
    let value = |name: &str| kubernetes.iter().find(|member| member.key == name).map(|member| member.value);
    out.push_str(",\"kubernetes\":{");
    let mut first = true;
    let mut open: Option<&str> = None;
    for (source, group, field) in KUBERNETES {
        let Some(raw) = value(source) else { continue };
        if open.is_some_and(|current| current != group) {
            out.push('}');
            open = None;
        }
        if open.is_none() {
            if !first {
                out.push(',');
            }
            write_key(out, group);
            if !field.is_empty() {
                out.push('{');
                open = Some(group);
            }
        } else {
            out.push(',');
        }
        first = false;
        if !field.is_empty() {
            write_key(out, field);
        }
        write_raw_within(out, raw, max_depth);
    }
    if open.is_some() {
        out.push('}');
    }
    out.push('}');
}

/// Writes `"cloud":{...}` with a leading comma: the provider, and the source
/// account and region.
pub fn write_cloud(out: &mut String, owner: Option<&str>, extracted_fields: Option<&str>) {
    let extracted = extracted_fields.and_then(|raw| parse_object(raw, 2));
    let field = |name: &str| extracted.as_ref()?.iter().find(|member| member.key == name).and_then(|member| json_string(member.value));
    out.push_str(",\"cloud\":{\"provider\":\"aws\"");
    if let Some(account) = field("@aws.account").or_else(|| owner.map(Into::into)) {
        out.push_str(",\"account\":{\"id\":");
        write_str(out, &account);
        out.push('}');
    }
    if let Some(region) = field("@aws.region") {
        out.push_str(",\"region\":");
        write_str(out, &region);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::with_message_view;

    fn derived(message: &str) -> String {
        let mut out = String::new();
        with_message_view(Some(message), 64, |view| write_derived(&mut out, view, 64));
        out
    }

    #[test]
    fn kubernetes_container_and_access_log() {
        let record = r#"{"log":"{\"gen3log\":\"nginx\",\"response_secs\":1.5}\n","stream":"stdout","docker":{"container_id":"abc"},"kubernetes":{"container_name":"revproxy","namespace_name":"default","pod_name":"p-1","pod_id":"u","labels":{"app":"revproxy"},"host":"ip-1"}}"#;
        let out = derived(record);
        let value: serde_json::Value = serde_json::from_str(&format!("{{\"x\":1{out}}}")).unwrap();
        assert_eq!(value["kubernetes"]["pod"], serde_json::json!({"name": "p-1", "uid": "u"}));
        assert_eq!(value["kubernetes"]["namespace"], "default");
        assert_eq!(value["kubernetes"]["container"]["name"], "revproxy");
        assert_eq!(value["kubernetes"]["node"]["name"], "ip-1");
        assert_eq!(value["kubernetes"]["labels"]["app"], "revproxy");
        assert_eq!(value["container"]["id"], "abc");
        assert_eq!(value["gen3"], serde_json::json!({"gen3log": "nginx", "response_secs": 1.5}));
    }

    #[test]
    fn plain_lines_derive_nothing_and_bare_access_logs_are_gen3() {
        assert_eq!(derived("plain text"), "");
        assert_eq!(derived(r#"{"a":1}"#), "");
        assert_eq!(derived(r#"{"gen3log":"nginx","user_id":"7"}"#), r#","gen3":{"gen3log":"nginx","user_id":"7"}"#);
    }

    #[test]
    fn the_source_account_and_region() {
        let mut out = String::new();
        let fields = r#"{"@aws.account":"123456789012","@aws.region":"us-west-2"}"#;
        write_cloud(&mut out, Some("707767160287"), Some(fields));
        assert_eq!(out, r#","cloud":{"provider":"aws","account":{"id":"123456789012"},"region":"us-west-2"}"#);
        out.clear();
        write_cloud(&mut out, Some("707767160287"), None);
        assert_eq!(out, r#","cloud":{"provider":"aws","account":{"id":"707767160287"}}"#);
    }
}
