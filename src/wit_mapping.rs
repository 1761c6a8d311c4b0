//! The mapping between the core's types and the WIT contract's
//! (`wit/cwlogs.wit`), written once for both sides of the boundary.
//!
//! wit-bindgen (inside the component) and wasmtime's `bindgen!` (in a host)
//! generate their own Rust types for the same WIT, with the same names.
//! [`wit_conversions!`](crate::wit_conversions) implements `From` between
//! those and the core's types; each side invokes it on its generated module,
//! so a change to the contract is a change here and nowhere else.

/// Implements `From` both ways between the core's options, entries,
/// counters and option errors and the WIT types in module `$wit` (the
/// `gen3:cwlogs/decoder` interface as a bindings generator wrote it).
#[macro_export]
macro_rules! wit_conversions {
    ($wit:path) => {
        const _: () = {
            use $crate as cw;
            use $wit as wit;

            impl From<wit::Schema> for cw::Schema {
                fn from(schema: wit::Schema) -> Self {
                    match schema {
                        wit::Schema::Gen3 => cw::Schema::Gen3,
                        wit::Schema::Cloudwatch => cw::Schema::Cloudwatch,
                        wit::Schema::Ecs => cw::Schema::Ecs,
                    }
                }
            }

            impl From<cw::Schema> for wit::Schema {
                fn from(schema: cw::Schema) -> Self {
                    match schema {
                        cw::Schema::Gen3 => wit::Schema::Gen3,
                        cw::Schema::Cloudwatch => wit::Schema::Cloudwatch,
                        cw::Schema::Ecs => wit::Schema::Ecs,
                    }
                }
            }

            /// Unset limits take the core's defaults; the result still
            /// needs `Options::validate`.
            impl From<wit::Options> for cw::Options {
                fn from(options: wit::Options) -> Self {
                    let defaults = cw::Options::default();
                    cw::Options {
                        commons: options.commons,
                        slow_threshold_secs: options.slow_threshold_secs,
                        alert_streams: options.alert_streams,
                        schema: options.schema.into(),
                        max_decompressed_bytes: options.max_decompressed_bytes.unwrap_or(defaults.max_decompressed_bytes),
                        max_events_per_record: options.max_events_per_record.unwrap_or(defaults.max_events_per_record),
                        max_json_depth: options.max_json_depth.unwrap_or(defaults.max_json_depth),
                    }
                }
            }

            impl From<&cw::Options> for wit::Options {
                fn from(options: &cw::Options) -> Self {
                    wit::Options {
                        commons: options.commons.clone(),
                        slow_threshold_secs: options.slow_threshold_secs,
                        alert_streams: options.alert_streams.clone(),
                        schema: options.schema.into(),
                        max_decompressed_bytes: Some(options.max_decompressed_bytes),
                        max_events_per_record: Some(options.max_events_per_record),
                        max_json_depth: Some(options.max_json_depth),
                    }
                }
            }

            impl From<wit::OptionError> for cw::OptionError {
                fn from(error: wit::OptionError) -> Self {
                    cw::OptionError { option: error.name, reason: error.reason }
                }
            }

            impl From<cw::OptionError> for wit::OptionError {
                fn from(error: cw::OptionError) -> Self {
                    wit::OptionError { name: error.option, reason: error.reason }
                }
            }

            impl From<wit::Counters> for cw::Counters {
                fn from(c: wit::Counters) -> Self {
                    cw::Counters {
                        input_bytes: c.input_bytes,
                        decompressed_bytes: c.decompressed_bytes,
                        records: c.records,
                        records_failed: c.records_failed,
                        envelopes: c.envelopes,
                        envelopes_failed: c.envelopes_failed,
                        control_messages: c.control_messages,
                        events: c.events,
                        events_failed: c.events_failed,
                        documents: c.documents,
                        alerts: c.alerts,
                        errors: c.errors,
                    }
                }
            }

            impl From<cw::Counters> for wit::Counters {
                fn from(c: cw::Counters) -> Self {
                    wit::Counters {
                        input_bytes: c.input_bytes,
                        decompressed_bytes: c.decompressed_bytes,
                        records: c.records,
                        records_failed: c.records_failed,
                        envelopes: c.envelopes,
                        envelopes_failed: c.envelopes_failed,
                        control_messages: c.control_messages,
                        events: c.events,
                        events_failed: c.events_failed,
                        documents: c.documents,
                        alerts: c.alerts,
                        errors: c.errors,
                    }
                }
            }

            impl From<wit::ErrorKind> for cw::ErrorKind {
                fn from(kind: wit::ErrorKind) -> Self {
                    match kind {
                        wit::ErrorKind::UnrecognisedInput => cw::ErrorKind::UnrecognisedInput,
                        wit::ErrorKind::InvalidRecord => cw::ErrorKind::InvalidRecord,
                        wit::ErrorKind::Base64 => cw::ErrorKind::Base64,
                        wit::ErrorKind::Gzip => cw::ErrorKind::Gzip,
                        wit::ErrorKind::Utf8 => cw::ErrorKind::Utf8,
                        wit::ErrorKind::InvalidEnvelope => cw::ErrorKind::InvalidEnvelope,
                        wit::ErrorKind::TooLarge => cw::ErrorKind::TooLarge,
                        wit::ErrorKind::TooManyEvents => cw::ErrorKind::TooManyEvents,
                        wit::ErrorKind::MetadataTooLarge => cw::ErrorKind::MetadataTooLarge,
                        wit::ErrorKind::InvalidEvent => cw::ErrorKind::InvalidEvent,
                        wit::ErrorKind::InvalidOptions => cw::ErrorKind::InvalidOptions,
                    }
                }
            }

            impl From<cw::ErrorKind> for wit::ErrorKind {
                fn from(kind: cw::ErrorKind) -> Self {
                    match kind {
                        cw::ErrorKind::UnrecognisedInput => wit::ErrorKind::UnrecognisedInput,
                        cw::ErrorKind::InvalidRecord => wit::ErrorKind::InvalidRecord,
                        cw::ErrorKind::Base64 => wit::ErrorKind::Base64,
                        cw::ErrorKind::Gzip => wit::ErrorKind::Gzip,
                        cw::ErrorKind::Utf8 => wit::ErrorKind::Utf8,
                        cw::ErrorKind::InvalidEnvelope => wit::ErrorKind::InvalidEnvelope,
                        cw::ErrorKind::TooLarge => wit::ErrorKind::TooLarge,
                        cw::ErrorKind::TooManyEvents => wit::ErrorKind::TooManyEvents,
                        cw::ErrorKind::MetadataTooLarge => wit::ErrorKind::MetadataTooLarge,
                        cw::ErrorKind::InvalidEvent => wit::ErrorKind::InvalidEvent,
                        cw::ErrorKind::InvalidOptions => wit::ErrorKind::InvalidOptions,
                    }
                }
            }

            impl From<wit::Entry> for cw::OwnedEntry {
                fn from(entry: wit::Entry) -> Self {
                    cw::OwnedEntry {
                        kind: match entry.kind {
                            wit::EntryKind::Document => cw::EntryKind::Document,
                            wit::EntryKind::Alert => cw::EntryKind::Alert,
                            wit::EntryKind::Error => cw::EntryKind::Error,
                        },
                        id: entry.id,
                        commons: entry.commons,
                        time_ms: entry.time_ms,
                        record_index: entry.record_index as usize,
                        error: entry.error.map(|error| (error.kind.into(), error.reason)),
                        json: entry.json,
                    }
                }
            }

            impl From<cw::OwnedEntry> for wit::Entry {
                fn from(entry: cw::OwnedEntry) -> Self {
                    wit::Entry {
                        kind: match entry.kind {
                            cw::EntryKind::Document => wit::EntryKind::Document,
                            cw::EntryKind::Alert => wit::EntryKind::Alert,
                            cw::EntryKind::Error => wit::EntryKind::Error,
                        },
                        id: entry.id,
                        commons: entry.commons,
                        time_ms: entry.time_ms,
                        record_index: entry.record_index as u64,
                        error: entry.error.map(|(kind, reason)| wit::ErrorInfo { kind: kind.into(), reason }),
                        json: entry.json,
                    }
                }
            }

            impl From<wit::Output> for cw::Output {
                fn from(output: wit::Output) -> Self {
                    cw::Output { entries: output.entries.into_iter().map(Into::into).collect(), counters: output.counters.into() }
                }
            }

            impl From<cw::Output> for wit::Output {
                fn from(output: cw::Output) -> Self {
                    wit::Output { entries: output.entries.into_iter().map(Into::into).collect(), counters: output.counters.into() }
                }
            }

            impl From<wit::NdjsonOutput> for cw::NdjsonOutput {
                fn from(output: wit::NdjsonOutput) -> Self {
                    cw::NdjsonOutput {
                        documents: output.documents,
                        alerts: output.alerts,
                        errors: output.errors,
                        counters: output.counters.into(),
                    }
                }
            }

            impl From<cw::NdjsonOutput> for wit::NdjsonOutput {
                fn from(output: cw::NdjsonOutput) -> Self {
                    wit::NdjsonOutput {
                        documents: output.documents,
                        alerts: output.alerts,
                        errors: output.errors,
                        counters: output.counters.into(),
                    }
                }
            }
        };
    };
}
