// Compiled (not run) by package.test.mjs against the packed package's
// declarations, with strict settings.
import { decode, defaultLimits, init, type DecodeOptions, type DecodeResult, type ErrorKind } from 'gen3-cwlogs';

const options: DecodeOptions = { commons: 'devplanetv1', slowThresholdSecs: 65, alertStreams: ['revproxy'], schema: 'gen3', limits: { maxJsonDepth: 32 } };

export async function summarise(payload: Uint8Array | string): Promise<string> {
  await init();
  const result: DecodeResult = decode(payload, options);
  const kinds: ErrorKind[] = result.errors.map((error) => error.error.kind);
  const seconds: string[] = result.alerts.map((alert) => alert.seconds + alert.slack_payload.text);
  const limit: number = defaultLimits().maxDecompressedBytes;
  const first = result.documents[0];
  const message = typeof first?.message === 'string' ? first.message : JSON.stringify(first?.message);
  return `${result.counters.documents} ${kinds.join()} ${seconds.join()} ${limit} ${message} ${result.ndjson.length}`;
}
