// Compiled (not run) by package.test.mjs against the packed package's
// declarations, with strict settings.
import {
  decode, defaultOptions, init,
  type Counters, type DecodeOptions, type DecodeResult, type Entry, type ErrorKind, type LogDocument,
} from 'gen3-cwlogs';

const options: DecodeOptions = {
  commons: 'devplanetv1', slowThresholdSecs: 65, alertStreams: ['revproxy'], schema: 'gen3',
  maxDecompressedBytes: 1 << 20, maxEventsPerRecord: 10_000, maxJsonDepth: 32,
};

export async function summarise(payload: Uint8Array | string | ArrayBuffer): Promise<string> {
  await init();
  const result: DecodeResult = decode(payload, options);
  const documents: LogDocument[] = [];
  const kinds: ErrorKind[] = [];
  const seconds: string[] = [];
  for (const entry of result.entries) {
    // `kind` narrows `record` and `error`.
    switch (entry.kind) {
      case 'document':
        documents.push(entry.record);
        break;
      case 'alert':
        seconds.push(entry.record.seconds + entry.record.slack_payload.text + entry.record.document_id);
        break;
      case 'error':
        kinds.push(entry.error.kind, entry.record.error.kind);
        if (entry.record.error.record_index !== undefined) kinds.push(entry.record.raw_encoding === 'text' ? 'utf8' : 'base64');
        break;
    }
  }
  const times: (number | null)[] = result.entries.map((entry: Entry) => entry.timeMs);
  const counters: Counters = result.counters;
  const defaults = defaultOptions();
  const limit: number = defaults.maxDecompressedBytes + defaults.maxJsonDepth;
  const first = documents[0];
  const message = typeof first?.message === 'string' ? first.message : JSON.stringify(first?.message);
  const sequence: string | undefined = first?.kinesis?.sequenceNumber;
  return `${counters.envelopes_failed} ${kinds.join()} ${seconds.join()} ${limit} ${message} ${times.length} ${sequence} ${result.ndjson.length} ${defaults.schema}`;
}

// Options may be built up and passed back; `null` takes the default.
export const again: DecodeOptions = { ...defaultOptions(), commons: null };
