//! Handing entries to the sink: documents with their alerts, and error
//! documents for records, envelopes and events.

use crate::alert::write_alert_line;
use crate::document::{DocumentStyle, EnvelopeParts, ErrorDocument, Position, ValidEvent, write_document};
use crate::envelope::Envelope;
use crate::error::Failure;
use crate::output::{AlertFields, Entry, EntryKind};
use crate::time::in_event_range;
use crate::transport::Origin;
use crate::walk::Walk;

impl Walk<'_> {
    /// One event's document, and its alert when it is a slow response.
    pub(crate) fn document(&mut self, parts: &EnvelopeParts<'_>, event: &ValidEvent<'_>, check_alerts: bool) {
        let buffers = &mut *self.buffers;
        let style = DocumentStyle {
            schema: self.options.schema,
            max_json_depth: self.options.max_json_depth,
            alert: self.options.slow_threshold_secs.filter(|_| check_alerts).map(|threshold| (threshold, &mut buffers.slack_payload)),
        };
        let seconds = write_document(&mut buffers.document, parts, event, style);
        self.counters.documents += 1;
        let document = Entry {
            kind: EntryKind::Document,
            id: &event.id,
            commons: Some(parts.commons),
            time_ms: Some(event.timestamp_ms),
            record_index: parts.record_index,
            error: None,
            alert: None,
            json: &buffers.document,
        };
        self.sink.entry(&document);
        if let Some(seconds) = seconds {
            self.counters.alerts += 1;
            write_alert_line(&mut buffers.line, &event.id, parts.commons, parts.log_group, &seconds, &buffers.slack_payload);
            let alert = Entry {
                kind: EntryKind::Alert,
                id: &event.id,
                commons: Some(parts.commons),
                time_ms: Some(event.timestamp_ms),
                record_index: parts.record_index,
                error: None,
                alert: Some(AlertFields { log_group: parts.log_group, seconds: &seconds, slack_payload: &buffers.slack_payload }),
                json: &buffers.line,
            };
            self.sink.entry(&alert);
        }
    }

    /// A record that could not be decoded; `raw` is its data as received.
    pub(crate) fn record_failed(&mut self, origin: &Origin, failure: Failure, raw: &[u8]) {
        self.counters.records_failed += 1;
        let reason = format!("{}: {}", origin.label, failure.reason);
        let document = ErrorDocument {
            failure: &failure,
            reason: &reason,
            origin,
            position: Position::default(),
            commons: self.options.commons.as_deref(),
            time_ms: origin.arrival_ms.filter(|millis| in_event_range(*millis)),
            raw,
        };
        self.error(&document);
    }

    /// A JSON value of a record's data that is no usable envelope; `raw` is
    /// the value's bytes.
    pub(crate) fn envelope_failed(&mut self, origin: &Origin, index: usize, failure: Failure, envelope: Option<&Envelope<'_>>, raw: &[u8]) {
        self.counters.envelopes_failed += 1;
        let reason = format!("{}: {}", origin.label, failure.reason);
        let log_group = envelope.and_then(|envelope| envelope.log_group.as_deref());
        let position = Position {
            envelope_index: Some(index),
            event_index: None,
            log_group,
            log_stream: envelope.and_then(|envelope| envelope.log_stream.as_deref()),
        };
        let document = ErrorDocument {
            failure: &failure,
            reason: &reason,
            origin,
            position,
            commons: self.options.commons.as_deref().or(log_group),
            time_ms: origin.arrival_ms.filter(|millis| in_event_range(*millis)),
            raw,
        };
        self.error(&document);
    }

    /// Writes and hands over one error document.
    pub(crate) fn error(&mut self, document: &ErrorDocument<'_>) {
        self.counters.errors += 1;
        let id = document.id();
        document.write(&mut self.buffers.document, &id);
        let entry = Entry {
            kind: EntryKind::Error,
            id: &id,
            commons: document.commons,
            time_ms: document.time_ms,
            record_index: document.origin.index,
            error: Some((document.failure.kind, document.reason)),
            alert: None,
            json: &self.buffers.document,
        };
        self.sink.entry(&entry);
    }
}
