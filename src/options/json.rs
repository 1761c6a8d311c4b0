//! The options' JSON forms: an options object (fixture files, hosts that
//! hand options over as JSON) and the option schema other languages read.

use super::{OPTIONS, OptionError, OptionKind, Options, refuse};

impl Options {
    /// Options from a JSON object with the options' snake_case names (the
    /// fixtures' options files, hosts that hand options over as JSON):
    /// strings and numbers in their text form, `alert_streams` as an array
    /// of strings, `null` for unset. Unset options keep their defaults.
    ///
    /// # Errors
    /// Text that is not a JSON object, an unknown name, or a refused value.
    pub fn from_json(text: &str) -> Result<Options, OptionError> {
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|error| refuse("options", format!("not a JSON object: {error}")))?;
        let mut options = Options::default();
        for (name, value) in &object {
            let text = match value {
                serde_json::Value::Null => continue,
                serde_json::Value::String(text) => text.clone(),
                serde_json::Value::Number(number) => number.to_string(),
                serde_json::Value::Array(items) if name == "alert_streams" => {
                    let parts: Option<Vec<&str>> = items.iter().map(serde_json::Value::as_str).collect();
                    let parts = parts.ok_or_else(|| refuse(name, "expected an array of strings"))?;
                    if parts.iter().any(|part| part.contains(',')) {
                        return Err(refuse(name, "a stream substring cannot hold a comma"));
                    }
                    if parts.is_empty() {
                        options.alert_streams.clear();
                        continue;
                    }
                    parts.join(",")
                }
                other => return Err(refuse(name, format!("{other} is not a string or a number"))),
            };
            options.set(name, &text)?;
        }
        Ok(options)
    }
}

/// The option schema as JSON, for hosts in other languages (the config
/// generator reads `pipeline-configs/decoder-options.json`, written from
/// this). `hosts` is the JSON object of host-specific bounds (the Fluent Bit
/// module's depth limit), which the core does not know.
pub fn schema_json(hosts: &str) -> String {
    use crate::json::write_str;
    let mut out = String::from("{\n  \"about\": ");
    write_str(
        &mut out,
        "The decoder's options, written from the core (src/options.rs) by the test `option_schema_file_is_current` (UPDATE_GOLDEN=1 rewrites it). Do not edit.",
    );
    out.push_str(",\n  \"record_key_prefix\": \"gen3_cwlogs_\",\n  \"options\": [\n");
    for (index, spec) in OPTIONS.iter().enumerate() {
        out.push_str("    {\"name\": ");
        write_str(&mut out, spec.name);
        let kind = match spec.kind {
            OptionKind::String => "\"string\"".to_owned(),
            OptionKind::Number { min } => format!("\"number\", \"min\": {min}"),
            OptionKind::StringList => "\"string-list\"".to_owned(),
            OptionKind::Enum(values) => {
                let quoted: Vec<String> = values.iter().map(|value| format!("\"{value}\"")).collect();
                format!("\"enum\", \"values\": [{}]", quoted.join(", "))
            }
            OptionKind::Integer { min, max } => format!("\"integer\", \"min\": {min}, \"max\": {max}"),
        };
        out.push_str(", \"type\": ");
        out.push_str(&kind);
        out.push_str(", \"default\": ");
        match (spec.kind, spec.default) {
            (OptionKind::StringList, _) => out.push_str("[]"),
            (OptionKind::Integer { .. }, Some(default)) => out.push_str(default),
            (_, Some(default)) => write_str(&mut out, default),
            (_, None) => out.push_str("null"),
        }
        out.push_str(", \"doc\": ");
        write_str(&mut out, spec.doc);
        out.push('}');
        out.push_str(if index + 1 < OPTIONS.len() { ",\n" } else { "\n" });
    }
    out.push_str("  ],\n  \"hosts\": ");
    out.push_str(hosts);
    out.push_str("\n}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::DEFAULT_MAX_JSON_DEPTH;

    #[test]
    fn json_objects_name_options_as_the_core_does() {
        let options =
            Options::from_json(r#"{"commons":"c","slow_threshold_secs":65,"alert_streams":["revproxy","fence"],"max_json_depth":null}"#)
                .unwrap();
        assert_eq!(options.slow_threshold_secs, Some(65.0));
        assert_eq!(options.alert_streams, ["revproxy", "fence"]);
        assert_eq!(options.max_json_depth, DEFAULT_MAX_JSON_DEPTH);
        assert_eq!(Options::from_json(r#"{"threshold":65}"#).unwrap_err().option, "threshold");
        assert_eq!(Options::from_json(r#"{"alert_streams":["a,b"]}"#).unwrap_err().option, "alert_streams");
        assert_eq!(Options::from_json("[]").unwrap_err().option, "options");
    }
}
