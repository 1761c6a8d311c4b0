//! Why a record, envelope or event could not be decoded.
//!
//! A failure becomes one error document carrying the raw data of what
//! failed (see `document::ErrorDocument`); its kind is decided where the
//! failure is detected, never by reading an error message.

/// Why something could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The payload is not in any form the decoder knows.
    UnrecognisedInput,
    /// A transport record's JSON is not valid, or lacks a required field.
    InvalidRecord,
    Base64,
    Gzip,
    /// A JSON payload is not valid UTF-8.
    Utf8,
    /// A JSON value of the decompressed data is not a CloudWatch Logs
    /// envelope.
    InvalidEnvelope,
    /// Decompressed data (a gzip member or a JSON value) over
    /// `max_decompressed_bytes`.
    TooLarge,
    /// An envelope with more events than `max_events_per_record`.
    TooManyEvents,
    /// Envelope or transport metadata over the fixed bound.
    MetadataTooLarge,
    /// One log event lacks a valid id, timestamp or message, or cannot be
    /// read (invalid UTF-8, a lone surrogate escape, not an object).
    InvalidEvent,
    /// Options the payload carries for itself (Fluent Bit records) are
    /// refused; nothing of the payload was decoded.
    InvalidOptions,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::UnrecognisedInput,
        ErrorKind::InvalidRecord,
        ErrorKind::Base64,
        ErrorKind::Gzip,
        ErrorKind::Utf8,
        ErrorKind::InvalidEnvelope,
        ErrorKind::TooLarge,
        ErrorKind::TooManyEvents,
        ErrorKind::MetadataTooLarge,
        ErrorKind::InvalidEvent,
        ErrorKind::InvalidOptions,
    ];

    /// The kind's name in error documents and in WIT.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::UnrecognisedInput => "unrecognised-input",
            ErrorKind::InvalidRecord => "invalid-record",
            ErrorKind::Base64 => "base64",
            ErrorKind::Gzip => "gzip",
            ErrorKind::Utf8 => "utf8",
            ErrorKind::InvalidEnvelope => "invalid-envelope",
            ErrorKind::TooLarge => "too-large",
            ErrorKind::TooManyEvents => "too-many-events",
            ErrorKind::MetadataTooLarge => "metadata-too-large",
            ErrorKind::InvalidEvent => "invalid-event",
            ErrorKind::InvalidOptions => "invalid-options",
        }
    }

    pub fn from_name(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// A failure before it is known where it happened: its kind and the reason,
/// to which the record's (and envelope's) label is prefixed.
#[derive(Debug)]
pub(crate) struct Failure {
    pub kind: ErrorKind,
    pub reason: String,
}

impl Failure {
    pub fn new(kind: ErrorKind, reason: impl Into<String>) -> Self {
        Failure { kind, reason: reason.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(ErrorKind::from_name("host"), None);
    }
}
