//! The decoder's options as the VRL twin reads them: an object in the event
//! metadata `%gen3_cwlogs`, set by a remap that runs before the twin, with
//! the core's option names and the values of its JSON form
//! (`Options::from_json`); the program refuses what the core refuses. In
//! Vector that remap picks the options by the Firehose access key
//! (`store_access_key: true` on the source, `get_secret` in VRL, then
//! `remove_secret` so no buffer keeps it), since the key is what tells one
//! commons' Firehose stream from another's.

use std::fmt::Write as _;

use gen3_cwlogs::Options;

/// `options` as a VRL object literal (the keys `cwlogs.vrl` reads).
pub fn options_literal(options: &Options) -> String {
    let mut out = String::from("{");
    if let Some(commons) = &options.commons {
        let _ = write!(out, "\"commons\": {}, ", vrl_string(commons));
    }
    if let Some(threshold) = options.slow_threshold_secs {
        // Display never uses an exponent; VRL float literals need the point.
        // VRL has no literal for a value that is not finite: its text, which
        // the program refuses as the core refuses the value.
        let mut number = threshold.to_string();
        if !threshold.is_finite() {
            number = vrl_string(&number);
        } else if !number.contains('.') {
            number.push_str(".0");
        }
        let _ = write!(out, "\"slow_threshold_secs\": {number}, ");
    }
    if !options.alert_streams.is_empty() {
        let streams: Vec<String> = options.alert_streams.iter().map(|part| vrl_string(part)).collect();
        let _ = write!(out, "\"alert_streams\": [{}], ", streams.join(", "));
    }
    let schema = options.schema.name();
    let _ = write!(
        out,
        "\"schema\": \"{schema}\", \"max_decompressed_bytes\": {}, \"max_events_per_record\": {}, \"max_json_depth\": {}}}",
        options.max_decompressed_bytes, options.max_events_per_record, options.max_json_depth
    );
    out
}

/// A remap program that sets `%gen3_cwlogs` from the event's Firehose access
/// key: the options of the first entry whose key matches. An event with no
/// matching key gets `otherwise`, or an empty object (then the twin uses the
/// defaults: commons = log group, no alerts).
pub fn options_program(by_access_key: &[(&str, &Options)], otherwise: Option<&Options>) -> String {
    let otherwise = otherwise.map_or_else(|| "{}".to_owned(), options_literal);
    if by_access_key.is_empty() {
        return format!("# The decoder's options for every delivery.\n%gen3_cwlogs = {otherwise}\n");
    }
    let mut out = String::from(
        "# The decoder's options for this delivery, chosen by its Firehose access key.\n\
         access_key = get_secret(\"aws_kinesis_firehose_access_key\")\n\
         # The source attached the key to the event (store_access_key) and disk\n\
         # buffers would persist it: drop it before anything else can fail.\n\
         remove_secret(\"aws_kinesis_firehose_access_key\")\n",
    );
    for (index, (key, options)) in by_access_key.iter().enumerate() {
        let keyword = if index == 0 { "if" } else { "} else if" };
        let _ = writeln!(out, "{keyword} access_key == {} {{", vrl_string(key));
        let _ = writeln!(out, "  %gen3_cwlogs = {}", options_literal(options));
    }
    let _ = writeln!(out, "}} else {{\n  %gen3_cwlogs = {otherwise}\n}}");
    out
}

/// A VRL string literal.
pub fn vrl_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            // Braces open templates in VRL strings.
            '{' => out.push_str("\\{"),
            '}' => out.push_str("\\}"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
