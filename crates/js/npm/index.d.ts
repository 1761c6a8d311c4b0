// Types of the gen3-cwlogs package: the same for the Node (CommonJS, ESM)
// and browser entries.

/** The shape of each log document. */
export type Schema =
  /** The Gen3 Lambda's keys, `message` parsed as JSON (the default). */
  | 'gen3'
  /** The same keys, `message` kept as CloudWatch's raw string. */
  | 'cloudwatch'
  /** Elastic Common Schema names, as Elastic's AWS integrations write them (`@timestamp`, `event.id`, `aws.cloudwatch.*`, `cloud.*`, `labels.commons`). */
  | 'ecs';

/**
 * The decoder's options: the core's option names in camelCase. Every value
 * is checked by the core; a refused value or an unknown key throws a
 * `TypeError` naming `options.<key>`. `undefined` or `null` takes the default.
 */
export interface DecodeOptions {
  /** Commons name written to every document; absent: each document's log group name. */
  commons?: string | null;
  /** Slow-response threshold in seconds (finite, at least 0); absent: no alerts. */
  slowThresholdSecs?: number | null;
  /** Streams checked for slow responses (substrings of the log stream name, no commas); empty or absent: all. */
  alertStreams?: readonly string[] | null;
  /** Default `gen3`. */
  schema?: Schema | null;
  /** Per gzip member or JSON value; inflation stops there (gzip bombs cost no more). 1 to 2^30; default 16 MiB. */
  maxDecompressedBytes?: number | null;
  /** Events per envelope, 1 to 10,000,000; default 50,000 (CloudWatch sends at most 10,000). */
  maxEventsPerRecord?: number | null;
  /** Messages nested deeper stay plain text. 1 to 120; default 64. */
  maxJsonDepth?: number | null;
}

/** What `defaultOptions()` returns: every option that has a default. */
export interface DefaultOptions {
  schema: Schema;
  maxDecompressedBytes: number;
  maxEventsPerRecord: number;
  maxJsonDepth: number;
  /** Empty: every stream. */
  alertStreams: string[];
}

/**
 * One log document, exactly as it is stored (Elasticsearch `_source`, one S3
 * line). Keys beyond these come from the record's transport (`kinesis`,
 * `firehose`), from the envelope (unknown fields such as `policyLevel`) and,
 * in the `gen3` schema, from the message itself.
 */
export interface LogDocument {
  messageType: string;
  owner: string;
  logGroup: string;
  logStream: string;
  subscriptionFilters: string[];
  /** The event's time, ISO 8601 with milliseconds (`2018-03-23T17:34:34.000Z`). */
  timestamp: string;
  /**
   * `gen3`: the message's JSON object (plain text as `{ log: text }`; an
   * access log held in `log` has its fields merged in); `cloudwatch`: the
   * raw string.
   */
  message: Record<string, unknown> | string;
  /** The CloudWatch event id, meant as the Elasticsearch `_id`. */
  id: string;
  commons: string;
  kinesis?: KinesisMetadata;
  firehose?: FirehoseMetadata;
  [key: string]: unknown;
}

/** Where a document of a Kinesis record came from. */
export interface KinesisMetadata {
  eventID?: string;
  sequenceNumber?: string;
  partitionKey?: string;
  approximateArrivalTimestamp?: number;
  eventSourceARN?: string;
  awsRegion?: string;
}

/** Where a document of a Firehose delivery came from. */
export interface FirehoseMetadata {
  requestId?: string;
  /** The delivery's time, epoch milliseconds. */
  timestamp?: number;
  /** The record's index in the delivery's `records`. */
  recordIndex: number;
}

export interface SlackPayload {
  text: string;
  attachments: { title: string; color: string }[];
}

/** A slow-response alert for one document. */
export interface Alert {
  /** The id of the document that triggered it. */
  document_id: string;
  commons: string;
  logGroup: string;
  /** The response time as the log wrote it. */
  seconds: string;
  /** The Slack incoming-webhook payload. */
  slack_payload: SlackPayload;
}

export type ErrorKind =
  | 'unrecognised-input'
  | 'invalid-record'
  | 'base64'
  | 'gzip'
  | 'utf8'
  | 'invalid-envelope'
  | 'too-large'
  | 'too-many-events'
  | 'metadata-too-large'
  | 'invalid-event'
  /** Hosts that read options from the data (never thrown by this package: it throws a TypeError). */
  | 'invalid-options';

/** An error document's `error`: the kind, the reason, and where it happened. */
export interface ErrorInfo {
  kind: ErrorKind;
  /** Names the record (envelope, event) and what was wrong. */
  reason: string;
  /** The record's index in the payload (Kinesis `Records`, Firehose `records`, gzip member). */
  record_index?: number;
  /** The JSON value in the record's decompressed data, when the error is in one. */
  envelope_index?: number;
  /** The event in the envelope's `logEvents`, when the error is in one. */
  event_index?: number;
}

/**
 * A record or event that could not be decoded, stored like a document so
 * nothing is lost: the reason, and the raw data in `raw_data`.
 */
export interface ErrorDocument {
  /** `err-` and 32 hex digits, stable for the same record. */
  id: string;
  commons: string | null;
  /** The event's time, else the record's arrival time; absent when neither is known. */
  timestamp?: string;
  /** An invalid event's envelope names. */
  logGroup?: string;
  logStream?: string;
  kinesis?: KinesisMetadata;
  firehose?: FirehoseMetadata;
  error: ErrorInfo;
  /** How `raw_data` holds the bytes: as text (valid UTF-8) or base64. */
  raw_encoding: 'text' | 'base64';
  raw_data: string;
  [key: string]: unknown;
}

export type EntryKind = 'document' | 'alert' | 'error';

/** One log event's document. */
export interface DocumentEntry {
  kind: 'document';
  /** The CloudWatch event id. */
  id: string;
  /** Where the entry is routed (the `commons` option, else the log group). */
  commons: string;
  /** The event's time, epoch milliseconds. */
  timeMs: number;
  error: null;
  record: LogDocument;
}

/** A slow-response alert, right after its document. */
export interface AlertEntry {
  kind: 'alert';
  /** Its document's id. */
  id: string;
  commons: string;
  /** Its document's event time, epoch milliseconds. */
  timeMs: number;
  error: null;
  record: Alert;
}

/** An error document, where the failed record or event was in the input. */
export interface ErrorEntry {
  kind: 'error';
  /** The error document's id. */
  id: string;
  /** `null` when no `commons` option was given. */
  commons: string | null;
  /** The event's time, else the record's arrival time, when known. */
  timeMs: number | null;
  error: { kind: ErrorKind; reason: string };
  record: ErrorDocument;
}

export type Entry = DocumentEntry | AlertEntry | ErrorEntry;

/**
 * Every input record is accounted for: `records = records_failed + decoded
 * records`; every JSON value of a decoded record is an envelope or failed;
 * `events = documents + events_failed`; `errors = records_failed +
 * envelopes_failed + events_failed`.
 */
export interface Counters {
  input_bytes: number;
  decompressed_bytes: number;
  records: number;
  records_failed: number;
  envelopes: number;
  envelopes_failed: number;
  control_messages: number;
  events: number;
  events_failed: number;
  documents: number;
  alerts: number;
  errors: number;
}

export interface DecodeResult {
  /** In input order: a document, its alert right after it, error documents where they occur. */
  entries: Entry[];
  counters: Counters;
  /**
   * One JSON text per entry, in the same order (an alert's line is
   * `{"alert": {...}}`), each followed by a newline, exactly as the core
   * wrote them: numbers keep every digit here; in the parsed `record`s
   * integers beyond 2^53 are rounded, as `JSON.parse` does.
   */
  ndjson: string;
}

/**
 * Decodes a payload in any form: a Lambda-style Kinesis event, a Firehose
 * delivery, an S3 archive object (gzip members), or one record's data as
 * base64, gzip or JSON. A payload that cannot be decoded is not an error:
 * it becomes error documents.
 *
 * @throws TypeError when `input` is not a string, Uint8Array or ArrayBuffer,
 * or `options` is not an object, has an unknown key or a value the core
 * refuses (the message names `options.<key>`).
 */
export function decode(input: string | Uint8Array | ArrayBuffer, options?: DecodeOptions | null): DecodeResult;

/** Every option that has a default, at its default. */
export function defaultOptions(): DefaultOptions;

/**
 * Loads the WebAssembly module. Browsers: `await init()` once before
 * `decode` (optionally given the `.wasm` URL, bytes or a compiled module).
 * Node: resolves at once; the module is loaded with the package.
 */
export function init(module?: string | URL | Request | Response | BufferSource | WebAssembly.Module): Promise<void>;
