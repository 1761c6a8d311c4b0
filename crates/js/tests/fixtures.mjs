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
        /** The same in the core's own (snake_case) names. */
        rawOptions: raw,
        expected: readFileSync(join(fixturesDir, `${stem}.expected.ndjson`), 'utf8'),
      };
    });
}

/**
 * The core's option names (snake_case, as the fixtures' options files and
 * the harness spell them) -> the package's (camelCase). A name this list
 * lacks fails loudly, so a new core option cannot be skipped here.
 */
const KNOWN = ['commons', 'slow_threshold_secs', 'alert_streams', 'schema', 'max_decompressed_bytes', 'max_events_per_record', 'max_json_depth'];

export function camelCase(name) {
  return name.replace(/_([a-z])/g, (_, letter) => letter.toUpperCase());
}

function packageOptions(raw) {
  const unknown = Object.keys(raw).filter((key) => !KNOWN.includes(key));
  if (unknown.length) throw new Error(`fixture option(s) ${unknown} have no mapping here`);
  return Object.fromEntries(Object.entries(raw).map(([key, value]) => [camelCase(key), value]));
}

/** The form the goldens are written in: NDJSON, then the counters line. */
export function render(result) {
  return `${result.ndjson}${JSON.stringify({ counters: result.counters })}\n`;
}

/** A golden file's entry lines (without the closing counters line). */
export function goldenLines(expected) {
  const lines = expected.split('\n').filter(Boolean);
  if (!lines.at(-1).startsWith('{"counters":')) throw new Error('a golden file ends with its counters line');
  return lines.slice(0, -1);
}
