//! The decoder's options: one name, one default and one validation each.
//!
//! Every host spells an option from [`OPTIONS`]: the CLI as `--max-json-depth`,
//! WIT as `max-json-depth`, JavaScript as `maxJsonDepth`, Fluent Bit records
//! as `gen3_cwlogs_max_json_depth`, the fixtures, the VRL twin and the config
//! generator as `max_json_depth`. Values given as text (CLI flags, Fluent Bit
//! records, fixture files) go through [`Options::set`]; typed values through
//! [`Options::validate`]. Both name the option in their [`OptionError`].

use std::fmt;

mod json;
pub use json::schema_json;

/// The shape of the documents written for each log event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Schema {
    /// The Gen3 Lambda's document (`messageType, owner, logGroup, logStream,
    /// subscriptionFilters, timestamp, message`) with `message` parsed, plus
    /// `id`, `commons` and the record's transport metadata.
    #[default]
    Gen3,
    /// The same keys, but `message` is kept as the raw string CloudWatch gave.
    Cloudwatch,
    /// Elastic Common Schema names, as Elastic's AWS integrations write them
    /// (`@timestamp`, `message`, `event.id`, `aws.cloudwatch.*`, `cloud.*`,
    /// `labels.commons`; see the `ecs` module).
    Ecs,
}

impl Schema {
    pub const ALL: [Schema; 3] = [Schema::Gen3, Schema::Cloudwatch, Schema::Ecs];

    pub fn name(self) -> &'static str {
        match self {
            Schema::Gen3 => "gen3",
            Schema::Cloudwatch => "cloudwatch",
            Schema::Ecs => "ecs",
        }
    }

    pub fn from_name(name: &str) -> Option<Schema> {
        Schema::ALL.into_iter().find(|schema| schema.name() == name)
    }
}

/// Options of one decode call. Build one with [`Options::default`] and
/// [`Options::set`], or fill the fields and call [`Options::validate`].
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// The commons the input belongs to (an index and a bucket per commons).
    /// When absent, each document's `commons` is its log group name.
    pub commons: Option<String>,
    /// Slow-response alert threshold in seconds; `None` disables alerts.
    pub slow_threshold_secs: Option<f64>,
    /// Log streams checked for slow responses: a stream is checked when its
    /// name contains one of these strings. Empty means every stream.
    pub alert_streams: Vec<String>,
    pub schema: Schema,
    /// Decompressed bytes allowed per gzip member (inflation stops there, so
    /// a gzip bomb costs no more) and per JSON value.
    pub max_decompressed_bytes: u64,
    /// Log events allowed per envelope (CloudWatch puts at most 10,000 in one
    /// PutLogEvents batch).
    pub max_events_per_record: u32,
    /// Nesting depth allowed in a message parsed as JSON, and in metadata
    /// copied into documents; deeper values are kept as text.
    pub max_json_depth: u32,
}

/// What an option holds, for hosts that describe options to their users.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptionKind {
    String,
    /// A finite number at least `min`.
    Number {
        min: f64,
    },
    /// Comma-separated in text form.
    StringList,
    Enum(&'static [&'static str]),
    Integer {
        min: u64,
        max: u64,
    },
}

/// One option: its name (snake_case; hosts derive their spelling), kind,
/// default as text (`None`: unset by default) and meaning.
#[derive(Clone, Copy, Debug)]
pub struct OptionSpec {
    pub name: &'static str,
    pub kind: OptionKind,
    pub default: Option<&'static str>,
    pub doc: &'static str,
}

const SCHEMA_NAMES: [&str; 3] = ["gen3", "cloudwatch", "ecs"];

/// Default of `max_decompressed_bytes`: 16 MiB.
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: u64 = 16 * 1024 * 1024;
pub const DEFAULT_MAX_EVENTS_PER_RECORD: u32 = 50_000;
pub const DEFAULT_MAX_JSON_DEPTH: u32 = 64;
/// serde_json refuses nesting deeper than 128 on its own; the limit stays
/// under it so every depth decision is ours.
pub const MAX_JSON_DEPTH_CEILING: u32 = 120;

/// Every option, in the order hosts list them.
pub const OPTIONS: [OptionSpec; 7] = [
    OptionSpec {
        name: "commons",
        kind: OptionKind::String,
        default: None,
        doc: "Commons name written to every document; none: each document's log group name.",
    },
    OptionSpec {
        name: "slow_threshold_secs",
        kind: OptionKind::Number { min: 0.0 },
        default: None,
        doc: "Slow-response alert threshold in seconds (finite, at least 0); none: no alerts.",
    },
    OptionSpec {
        name: "alert_streams",
        kind: OptionKind::StringList,
        default: None,
        doc: "Substrings of the log streams checked for slow responses; empty: every stream.",
    },
    OptionSpec { name: "schema", kind: OptionKind::Enum(&SCHEMA_NAMES), default: Some("gen3"), doc: "Document schema." },
    OptionSpec {
        name: "max_decompressed_bytes",
        kind: OptionKind::Integer { min: 1, max: 1 << 30 },
        default: Some("16777216"),
        doc: "Decompressed bytes allowed per gzip member or JSON value; inflation stops there.",
    },
    OptionSpec {
        name: "max_events_per_record",
        kind: OptionKind::Integer { min: 1, max: 10_000_000 },
        default: Some("50000"),
        doc: "Log events allowed per envelope.",
    },
    OptionSpec {
        name: "max_json_depth",
        kind: OptionKind::Integer { min: 1, max: MAX_JSON_DEPTH_CEILING as u64 },
        default: Some("64"),
        doc: "Nesting depth allowed in a message parsed as JSON; deeper messages stay plain text.",
    },
];

/// An option that was refused: which one and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionError {
    /// The option's snake_case name (or the unknown name given).
    pub option: String,
    pub reason: String,
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.option, self.reason)
    }
}

impl std::error::Error for OptionError {}

impl Default for Options {
    fn default() -> Self {
        Options {
            commons: None,
            slow_threshold_secs: None,
            alert_streams: Vec::new(),
            schema: Schema::Gen3,
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
            max_events_per_record: DEFAULT_MAX_EVENTS_PER_RECORD,
            max_json_depth: DEFAULT_MAX_JSON_DEPTH,
        }
    }
}

fn refuse(option: &str, reason: impl Into<String>) -> OptionError {
    OptionError { option: option.to_owned(), reason: reason.into() }
}

/// The spec of option `name`.
pub fn spec(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|spec| spec.name == name)
}

impl Options {
    /// Sets option `name` from its text form (CLI values, Fluent Bit record
    /// fields, fixture files): numbers in decimal, `alert_streams`
    /// comma-separated, `schema` by name.
    ///
    /// # Errors
    /// An unknown name, or a value the option does not take.
    pub fn set(&mut self, name: &str, text: &str) -> Result<(), OptionError> {
        let spec = spec(name).ok_or_else(|| {
            let names: Vec<&str> = OPTIONS.iter().map(|spec| spec.name).collect();
            refuse(name, format!("unknown option (known: {})", names.join(", ")))
        })?;
        let mut next = self.clone();
        let text = text.trim();
        match spec.name {
            "commons" => next.commons = Some(text.to_owned()),
            "slow_threshold_secs" => {
                next.slow_threshold_secs =
                    Some(text.parse::<f64>().map_err(|_| refuse(name, format!("{text:?} is not a number of seconds")))?)
            }
            "alert_streams" => next.alert_streams = text.split(',').map(|part| part.trim().to_owned()).collect(),
            "schema" => {
                next.schema =
                    Schema::from_name(text).ok_or_else(|| refuse(name, format!("{text:?} is not one of {}", SCHEMA_NAMES.join(", "))))?
            }
            _ => {
                let value = text.parse::<u64>().map_err(|_| refuse(name, format!("{text:?} is not a whole number")))?;
                if let OptionKind::Integer { min, max } = spec.kind
                    && !(min..=max).contains(&value)
                {
                    return Err(refuse(name, format!("{value} is outside {min}..={max}")));
                }
                // In range, so it fits the field.
                let narrow = |value: u64| u32::try_from(value).unwrap_or(u32::MAX);
                match spec.name {
                    "max_decompressed_bytes" => next.max_decompressed_bytes = value,
                    "max_events_per_record" => next.max_events_per_record = narrow(value),
                    _ => next.max_json_depth = narrow(value),
                }
            }
        }
        next.validate_one(spec)?;
        *self = next;
        Ok(())
    }

    /// Checks every option.
    ///
    /// # Errors
    /// The first option whose value is refused.
    pub fn validate(&self) -> Result<(), OptionError> {
        OPTIONS.iter().try_for_each(|spec| self.validate_one(spec))
    }

    fn validate_one(&self, spec: &OptionSpec) -> Result<(), OptionError> {
        let name = spec.name;
        match (spec.name, spec.kind) {
            ("commons", _) if self.commons.as_deref() == Some("") => {
                return Err(refuse(name, "must not be empty (leave it unset to use each log group name)"));
            }
            ("slow_threshold_secs", OptionKind::Number { min }) => {
                if let Some(secs) = self.slow_threshold_secs
                    && (!secs.is_finite() || secs < min)
                {
                    return Err(refuse(name, format!("{secs} is not a finite number of seconds at least {min}")));
                }
            }
            ("alert_streams", _) if self.alert_streams.iter().any(String::is_empty) => {
                return Err(refuse(name, "an empty stream substring would match every stream"));
            }
            ("schema", _) => {}
            (_, OptionKind::Integer { min, max }) => {
                let value = match spec.name {
                    "max_decompressed_bytes" => self.max_decompressed_bytes,
                    "max_events_per_record" => u64::from(self.max_events_per_record),
                    _ => u64::from(self.max_json_depth),
                };
                if !(min..=max).contains(&value) {
                    return Err(refuse(name, format!("{value} is outside {min}..={max}")));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The streams the Gen3 Lambda checked for slow responses.
    pub const GEN3_ALERT_STREAMS: [&'static str; 3] = ["revproxy", "sheepdog", "peregrine"];

    /// Whether events of `log_stream` are checked for slow responses.
    pub(crate) fn checks_stream(&self, log_stream: &str) -> bool {
        self.slow_threshold_secs.is_some()
            && (self.alert_streams.is_empty() || self.alert_streams.iter().any(|part| log_stream.contains(part.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_specs_defaults_and_valid() {
        let mut from_specs = Options { schema: Schema::Cloudwatch, max_json_depth: 1, ..Options::default() };
        for spec in &OPTIONS {
            if let Some(default) = spec.default {
                from_specs.set(spec.name, default).unwrap();
            }
        }
        assert_eq!(from_specs, Options::default());
        Options::default().validate().unwrap();
    }

    #[test]
    fn text_values_are_parsed_and_checked() {
        let mut options = Options::default();
        options.set("commons", " devplanetv1 ").unwrap();
        options.set("slow_threshold_secs", "65.0").unwrap();
        options.set("alert_streams", "revproxy, sheepdog").unwrap();
        options.set("schema", "cloudwatch").unwrap();
        options.set("max_json_depth", "120").unwrap();
        assert_eq!(options.commons.as_deref(), Some("devplanetv1"));
        assert_eq!(options.slow_threshold_secs, Some(65.0));
        assert_eq!(options.alert_streams, ["revproxy", "sheepdog"]);
        assert_eq!(options.schema, Schema::Cloudwatch);
        let refused = |name: &str, text: &str| Options::default().set(name, text).unwrap_err();
        assert_eq!(refused("slow_threshold_secs", "NaN").option, "slow_threshold_secs");
        assert!(refused("slow_threshold_secs", "inf").reason.contains("finite"));
        assert!(refused("slow_threshold_secs", "-1").reason.contains("at least 0"));
        assert!(refused("slow_threshold_secs", "fast").reason.contains("not a number"));
        assert!(refused("max_json_depth", "500").reason.contains("1..=120"));
        assert!(refused("max_json_depth", "99999999999").reason.contains("1..=120"));
        assert!(refused("max_events_per_record", "0").reason.contains("outside"));
        assert!(refused("schema", "ecs2").reason.contains("gen3, cloudwatch, ecs"));
        assert!(refused("alert_streams", "revproxy,").reason.contains("empty"));
        assert!(refused("commons", "").reason.contains("empty"));
        assert!(refused("threshold", "65").reason.contains("unknown option"));
    }

    #[test]
    fn typed_values_are_checked_too() {
        let invalid = [
            Options { slow_threshold_secs: Some(f64::NAN), ..Options::default() },
            Options { max_decompressed_bytes: 0, ..Options::default() },
            Options { commons: Some(String::new()), ..Options::default() },
        ];
        for options in invalid {
            assert!(options.validate().is_err(), "{options:?}");
        }
    }
}
