// Types of the gen3-cwlogs package: the same for the Node (CommonJS, ESM)
// and browser entries.

/** The shape of each log document. */
export type Schema =
  /** The Gen3 Lambda's keys, `message` parsed as JSON (the default). */
  | 'gen3'
  /** The same keys, `message` kept as CloudWatch's raw string. */
  | 'cloudwatch';

/** Bounds per input record; a record over one becomes an error document. */
export interface Limits {
  /** Per gzip member; inflation stops there (gzip bombs cost no more). Default 16 MiB. */
  maxDecompressedBytes?: number;
  /** Default 50,000. */
  maxEventsPerRecord?: number;
  /** Messages nested deeper are kept as plain text. At most 120; default 64. */
  maxJsonDepth?: number;
}

export interface DecodeOptions {
  /** Commons name; absent: each document's log group name. */
  commons?: string;
  /** Slow-response threshold in seconds; absent: no alerts. */
  slowThresholdSecs?: number;
  /** Streams checked for slow responses (substrings of the log stream name); empty or absent: all. */
  alertStreams?: string[];
  schema?: Schema;
  /** Absent fields take `defaultLimits()`. */
  limits?: Limits;
}

/**
 * One log document, exactly as it is stored (Elasticsearch `_source`, one S3
 * line). Keys beyond these come from the record's transport (`kinesis`,
 * `firehose`) and, in the `gen3` schema, from the message itself.
 */
export interface LogDocument {
  messageType: string;
  owner: string;
  logGroup: string;
  logStream: string;
  subscriptionFilters: string[];
  /** The event's time, ISO 8601 with milliseconds (`2018-03-23T17:34:34.000Z`). */
  timestamp: string;
  /** `gen3`: the message's JSON object (plain text as `{ log: text }`); `cloudwatch`: the raw string. */
  message: Record<string, unknown> | string;
  /** The CloudWatch event id, meant as the Elasticsearch `_id`. */
  id: string;
  commons: string;
  [key: string]: unknown;
}

export interface SlackPayload {
  text: string;
  attachments: { title: string; color: string }[];
}

/** A slow-response alert for one document. */
export interface Alert {
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
  | 'invalid-event';

/**
 * A record or event that could not be decoded, stored like a document so
 * nothing is lost: the reason, and the raw data in `raw_data`.
 */
export interface ErrorDocument {
  /** `err-` and 32 hex digits, stable for the same record. */
  id: string;
  commons: string | null;
  timestamp: string | null;
  error: { kind: ErrorKind; reason: string; [key: string]: unknown };
  /** How `raw_data` holds the bytes: as text (valid UTF-8) or base64. */
  raw_encoding: 'text' | 'base64';
  raw_data: string;
  [key: string]: unknown;
}

/** `records = records_failed + records decoded`; `events = documents + events_failed`. */
export interface Counters {
  input_bytes: number;
  decompressed_bytes: number;
  records: number;
  records_failed: number;
  envelopes: number;
  control_messages: number;
  events: number;
  events_failed: number;
  documents: number;
  alerts: number;
  errors: number;
}

export interface DecodeResult {
  documents: LogDocument[];
  alerts: Alert[];
  errors: ErrorDocument[];
  counters: Counters;
  /**
   * Documents, then alerts (`{"alert": {...}}`), then error documents, one
   * JSON text per line, exactly as the core wrote them (numbers keep every
   * digit here; in the parsed objects integers beyond 2^53 are rounded, as
   * `JSON.parse` does).
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
 * or `options` has an unknown key or a wrong value.
 */
export function decode(input: string | Uint8Array | ArrayBuffer, options?: DecodeOptions): DecodeResult;

/** The limits used for those `options.limits` leaves out. */
export function defaultLimits(): Required<Limits>;

/**
 * Loads the WebAssembly module. Browsers: `await init()` once before
 * `decode` (optionally given the `.wasm` URL, bytes or a compiled module).
 * Node: resolves at once; the module is loaded with the package.
 */
export function init(module?: string | URL | Request | Response | BufferSource | WebAssembly.Module): Promise<void>;
