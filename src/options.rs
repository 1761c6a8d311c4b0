//! What a caller can set: commons name, alert threshold, document schema, limits.

/// The shape of the documents written for each log event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Schema {
    /// The Gen3 Lambda's document (`messageType, owner, logGroup, logStream,
    /// subscriptionFilters, timestamp, message`) with `message` parsed, plus
    /// `id`, `commons` and the record's Kinesis or Firehose metadata.
    #[default]
    Gen3,
    /// The same keys, but `message` is kept as the raw string CloudWatch gave.
    Cloudwatch,
}

impl Schema {
    pub const ALL: [Schema; 2] = [Schema::Gen3, Schema::Cloudwatch];

    pub fn name(self) -> &'static str {
        match self {
            Schema::Gen3 => "gen3",
            Schema::Cloudwatch => "cloudwatch",
        }
    }

    pub fn from_name(name: &str) -> Option<Schema> {
        Schema::ALL.into_iter().find(|schema| schema.name() == name)
    }
}

/// Bounds on the work and memory one input record may cost. A record over a
/// limit becomes an error document carrying its raw data; it is never cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Decompressed bytes allowed per gzip member (one Kinesis/Firehose record,
    /// or one member of an S3 archive). Inflation stops at this size, so a
    /// gzip bomb costs at most this much memory.
    pub max_decompressed_bytes: u64,
    /// Log events allowed per record (CloudWatch puts at most 10,000 events in
    /// one PutLogEvents batch).
    pub max_events_per_record: u32,
    /// Nesting depth allowed in a log message parsed as JSON. Deeper messages
    /// are kept as plain text (`{"log": "<raw line>"}`). Capped at
    /// [`MAX_JSON_DEPTH_CEILING`].
    pub max_json_depth: u32,
}

/// serde_json refuses nesting deeper than 128 on its own; our limit stays
/// under it so every depth failure is ours, with our message.
pub const MAX_JSON_DEPTH_CEILING: u32 = 120;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_decompressed_bytes: 16 * 1024 * 1024,
            max_events_per_record: 50_000,
            max_json_depth: 64,
        }
    }
}

impl Limits {
    pub(crate) fn json_depth(&self) -> u32 {
        self.max_json_depth.min(MAX_JSON_DEPTH_CEILING)
    }
}

/// Options of one decode call.
#[derive(Clone, Debug, Default, PartialEq)]
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
    pub limits: Limits,
    /// Let a JSON payload set this call's options through top-level keys
    /// `gen3_cwlogs_commons`, `gen3_cwlogs_threshold`,
    /// `gen3_cwlogs_alert_streams` (comma-separated) and `gen3_cwlogs_schema`
    /// (all strings). For hosts with no per-record options, such as Fluent
    /// Bit, whose pipeline sets these keys itself. Off by default.
    pub embedded_options: bool,
}

impl Options {
    /// The streams the Gen3 Lambda checked for slow responses.
    pub const GEN3_ALERT_STREAMS: [&'static str; 3] = ["revproxy", "sheepdog", "peregrine"];

    pub(crate) fn checks_stream(&self, log_stream: &str) -> bool {
        self.slow_threshold_secs.is_some()
            && (self.alert_streams.is_empty()
                || self.alert_streams.iter().any(|part| log_stream.contains(part.as_str())))
    }
}
