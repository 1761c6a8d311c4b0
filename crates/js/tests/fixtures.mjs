// The shared fixtures (tests/fixtures) and their options, as the Rust
// harness reads them, mapped onto the package's option names.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const fixturesDir = join(root, 'tests', 'fixtures');
/** Where `cargo run -p gen3-cwlogs-js-build` writes the package and page. */
export const jsOut = process.env.GEN3_CWLOGS_JS_OUT ?? join(root, 'target', 'js');

export function fixtures() {
  return readdirSync(fixturesDir)
    .filter((name) => !/\.(expected\.ndjson|options\.json|py)$/.test(name))
    .sort()
    .map((file) => {
      const stem = file.replace(/\.[^.]+$/, '');
      const optionsPath = join(fixturesDir, `${stem}.options.json`);
      const raw = existsSync(optionsPath) ? JSON.parse(readFileSync(optionsPath, 'utf8')) : {};
      return {
        name: stem,
        input: readFileSync(join(fixturesDir, file)),
        options: packageOptions(raw),
        expected: readFileSync(join(fixturesDir, `${stem}.expected.ndjson`), 'utf8'),
      };
    });
}

/** The harness's option names (tests/src/lib.rs) -> the package's. */
const KNOWN = ['commons', 'threshold', 'alert_streams', 'schema', 'max_decompressed_bytes', 'max_events_per_record', 'max_json_depth'];

function packageOptions(raw) {
  const unknown = Object.keys(raw).filter((key) => !KNOWN.includes(key));
  if (unknown.length) throw new Error(`fixture option(s) ${unknown} have no mapping here`);
  const options = {};
  if (raw.commons !== undefined) options.commons = raw.commons;
  if (raw.threshold !== undefined) options.slowThresholdSecs = raw.threshold;
  if (raw.alert_streams !== undefined) options.alertStreams = raw.alert_streams;
  if (raw.schema !== undefined) options.schema = raw.schema;
  const limits = {};
  if (raw.max_decompressed_bytes !== undefined) limits.maxDecompressedBytes = raw.max_decompressed_bytes;
  if (raw.max_events_per_record !== undefined) limits.maxEventsPerRecord = raw.max_events_per_record;
  if (raw.max_json_depth !== undefined) limits.maxJsonDepth = raw.max_json_depth;
  if (Object.keys(limits).length) options.limits = limits;
  return options;
}

/** The form the goldens are written in: NDJSON, then the counters line. */
export function render(result) {
  return `${result.ndjson}${JSON.stringify({ counters: result.counters })}\n`;
}
