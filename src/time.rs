//! Event times: the range every host can carry, and ISO-8601 text.
//!
//! Fluent Bit keeps a record's time as unsigned 32-bit seconds (its Lua
//! filter fails on a time outside them, and then passes the whole chunk on
//! unchanged), so an event time must lie between 1970-01-01T00:00:00.000Z
//! and 2106-02-07T06:28:15.999Z to reach every host; Elasticsearch's `date`,
//! VRL timestamps and JavaScript dates hold that range too. An event outside
//! it becomes an `invalid-event` error document on every host alike.

/// First instant an event may carry: 1970-01-01T00:00:00.000Z.
pub const MIN_EVENT_MILLIS: i64 = 0;
/// Last instant an event may carry: 2106-02-07T06:28:15.999Z, the last
/// millisecond of unsigned 32-bit seconds.
pub const MAX_EVENT_MILLIS: i64 = (u32::MAX as i64) * 1000 + 999;

/// Whether `millis` is in the range every host carries.
pub fn in_event_range(millis: i64) -> bool {
    (MIN_EVENT_MILLIS..=MAX_EVENT_MILLIS).contains(&millis)
}

/// Latest instant written as a four-digit-year ISO-8601 date.
const MAX_MILLIS: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
const MIN_MILLIS: i64 = -62_167_219_200_000; // 0000-01-01T00:00:00.000Z

/// Appends epoch milliseconds as `"YYYY-MM-DDTHH:MM:SS.mmmZ"` (quoted).
/// Returns false, writing nothing, outside years 0000-9999.
pub fn write_iso8601_millis(out: &mut String, millis: i64) -> bool {
    if !(MIN_MILLIS..=MAX_MILLIS).contains(&millis) {
        return false;
    }
    let days = millis.div_euclid(86_400_000);
    let in_day = millis.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let secs = in_day / 1000;
    // Digits written in place: `write!` with padding costs several times
    // more, once per document (and more so in wasm, through indirect calls).
    let mut text = *b"\"0000-00-00T00:00:00.000Z\"";
    for (field, at, width) in [
        (year as u32, 1, 4),
        (month, 6, 2),
        (day, 9, 2),
        ((secs / 3600) as u32, 12, 2),
        ((secs / 60 % 60) as u32, 15, 2),
        ((secs % 60) as u32, 18, 2),
        ((in_day % 1000) as u32, 21, 3),
    ] {
        let mut value = field;
        for digit in text[at..at + width].iter_mut().rev() {
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    // ASCII by construction.
    out.push_str(std::str::from_utf8(&text).unwrap_or_default());
    true
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(millis: i64) -> Option<String> {
        let mut out = String::new();
        write_iso8601_millis(&mut out, millis).then_some(out)
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso(1_521_826_474_000).unwrap(), "\"2018-03-23T17:34:34.000Z\"");
        assert_eq!(iso(0).unwrap(), "\"1970-01-01T00:00:00.000Z\"");
        assert_eq!(iso(-1).unwrap(), "\"1969-12-31T23:59:59.999Z\"");
        assert_eq!(iso(951_782_400_123).unwrap(), "\"2000-02-29T00:00:00.123Z\"");
        assert_eq!(iso(MAX_MILLIS).unwrap(), "\"9999-12-31T23:59:59.999Z\"");
        assert_eq!(iso(MIN_MILLIS).unwrap(), "\"0000-01-01T00:00:00.000Z\"");
        assert_eq!(iso(MAX_MILLIS + 1), None);
        assert_eq!(iso(MIN_MILLIS - 1), None);
    }

    #[test]
    fn iso_dates_equal_formatted_fields() {
        // Instants spread over the whole range, against the same fields
        // formatted by `format!`.
        let mut millis = MIN_MILLIS;
        while millis <= MAX_MILLIS {
            let days = millis.div_euclid(86_400_000);
            let in_day = millis.rem_euclid(86_400_000);
            let (year, month, day) = civil_from_days(days);
            let secs = in_day / 1000;
            let expected = format!(
                "\"{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z\"",
                secs / 3600,
                secs / 60 % 60,
                secs % 60,
                in_day % 1000
            );
            assert_eq!(iso(millis).unwrap(), expected, "{millis}");
            millis += 7_777_777_777;
        }
    }

    #[test]
    fn the_event_range_ends_where_fluent_bit_seconds_end() {
        assert!(in_event_range(0) && in_event_range(MAX_EVENT_MILLIS));
        assert!(!in_event_range(-1) && !in_event_range(MAX_EVENT_MILLIS + 1));
        assert_eq!(iso(MAX_EVENT_MILLIS).unwrap(), "\"2106-02-07T06:28:15.999Z\"");
    }
}
