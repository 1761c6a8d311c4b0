//! The reference the core's envelope reader (`gen3_cwlogs::checked::
//! read_common_envelope`, which unescapes messages in the pass that
//! validates them) is held to: the same envelope read by serde_json alone.
//! Checked by the `forms` fuzz target, CI's property pass and the tests
//! below.

/// Panics unless every envelope the core's reader accepts in `text`, at a
/// few event limits, is exactly what serde_json reads there.
pub fn check_envelope(text: &[u8]) {
    let Ok(text) = std::str::from_utf8(text) else { return };
    for max_events in [0, 2, usize::MAX] {
        let Some(common) = gen3_cwlogs::checked::read_common_envelope(text, max_events) else { continue };
        let reference = gen3_cwlogs::checked::parse_envelope_with_serde(text, max_events);
        let reference = reference.unwrap_or_else(|error| panic!("the envelope reader accepts what serde_json refuses ({error}): {text:?}"));
        assert_eq!(
            format!("{common:?}"),
            format!("{reference:?}"),
            "envelope reader and serde_json differ at {max_events} events on {text:?}"
        );
    }
}

/// Whether the core's reader reads `text` itself (rather than leaving it
/// to serde_json).
pub fn read_by_common_reader(text: &str) -> bool {
    gen3_cwlogs::checked::read_common_envelope(text, usize::MAX).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEEDS: [&str; 3] = [
        r#"{"messageType":"DATA_MESSAGE","owner":"123","logGroup":"g","logStream":"s","subscriptionFilters":["f","g"],"policyLevel":"ACCOUNT_LEVEL_POLICY","logEvents":[{"id":"1","timestamp":5,"message":"{\"log\":\"{\\\"status\\\":200}\\n\",\"stream\":\"stdout\"}","extractedFields":{"@aws.account":"1"}},{"id":2,"timestamp":6.5,"message":"tab\there é \u00e9","x":[null]}]}"#,
        r#" { "logEvents" : [ { "message" : "" , "id" : "1" , "message" : "b\/\b\f\r" } , 7 ] , "owner" : "o" , "n" : { "a" : [ 1 , -2.5E+3 ] } } "#,
        r#"{"logGroup":"a\"b","logEvents":[],"subscriptionFilters":[],"k":"\ud83d\ude00","logGroup":"c"}"#,
    ];

    #[test]
    fn envelopes_as_cloudwatch_writes_them_are_read_by_the_common_reader() {
        assert!(read_by_common_reader(SEEDS[0]));
        assert!(read_by_common_reader(SEEDS[2]));
        // Not an object event within the limit: left to serde_json.
        assert!(!read_by_common_reader(SEEDS[1]));
        for seed in SEEDS {
            check_envelope(seed.as_bytes());
        }
    }

    /// Every one-byte deletion, and replacement by a byte that matters to
    /// JSON, of envelopes near the edges of the grammar.
    #[test]
    fn the_envelope_reader_agrees_with_serde_json_on_mutated_envelopes() {
        let cases = crate::for_each_one_byte_mutation(&SEEDS, check_envelope);
        assert!(cases > 10_000, "{cases}");
        let deep = format!(r#"{{"logEvents":[],"x":{}1{}}}"#, "[".repeat(200), "]".repeat(200));
        assert!(!read_by_common_reader(&deep));
        check_envelope(deep.as_bytes());
    }
}
