// The WIT component (the artifact the Rust harness tests in wasmtime and
// the CLI runs) in another component host: transpiled to JavaScript by
// jco (`jco transpile`, as a user would run it) and run on Node. Every
// shared fixture must give the golden lines.
//
// The component comes from `GEN3_CWLOGS_COMPONENT` if set, else from the
// CLI (`gen3-cwlogs --export-component FILE` writes the embedded one).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { camelCase, fixtures, goldenLines, jsOut, root } from './fixtures.mjs';

let scratch;
let componentPath;
let decoder; // the transpiled component's `gen3:cwlogs/decoder` export
let transpiled; // file names jco wrote

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'gen3-cwlogs-jco-'));
  componentPath = process.env.GEN3_CWLOGS_COMPONENT;
  if (!componentPath) {
    componentPath = join(scratch, 'gen3_cwlogs.component.wasm');
    execFileSync('cargo', ['run', '--locked', '-q', '-p', 'gen3-cwlogs-cli', '--', '--export-component', componentPath], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  // The package's `jco` command, as `npx jco` runs it.
  const jco = fileURLToPath(new URL('./node_modules/@bytecodealliance/jco/dist/jco.js', import.meta.url));
  const out = join(scratch, 'cwlogs');
  execFileSync(process.execPath, [jco, 'transpile', componentPath, '--out-dir', out, '--name', 'cwlogs', '--quiet'], { encoding: 'utf8' });
  transpiled = readdirSync(out, { recursive: true }).sort();
  ({ decoder } = await import(pathToFileURL(join(out, 'cwlogs.js'))));
});

after(() => rmSync(scratch, { recursive: true, force: true }));

/** A fixture's options (the core's snake_case names) as the WIT record jco takes. */
function witOptions(raw) {
  const options = decoder.defaultOptions();
  for (const [name, value] of Object.entries(raw)) {
    const field = camelCase(name);
    assert.ok(field in options, `fixture option ${name} is a field of the WIT options`);
    // u64 fields are BigInts in jco's mapping.
    options[field] = typeof options[field] === 'bigint' || name === 'max_decompressed_bytes' ? BigInt(value) : value;
  }
  return options;
}

/** jco's counters (camelCase, BigInt) in the golden line's form. */
function countersLine(counters) {
  const entries = Object.entries(counters).map(([name, value]) => [name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), Number(value)]);
  return JSON.stringify({ counters: Object.fromEntries(entries) });
}

test('jco transpiles the component into an ES module and its core wasm, importing nothing', () => {
  assert.deepEqual(transpiled, ['cwlogs.core.wasm', 'cwlogs.d.ts', 'cwlogs.js', 'interfaces', 'interfaces/gen3-cwlogs-decoder.d.ts']);
  const module = new WebAssembly.Module(readFileSync(join(scratch, 'cwlogs', 'cwlogs.core.wasm')));
  assert.deepEqual(WebAssembly.Module.imports(module), [], 'no WASI, no host function');
  // The generated module imports no package (no WASI shim is needed).
  const source = readFileSync(join(scratch, 'cwlogs', 'cwlogs.js'), 'utf8');
  assert.deepEqual(source.match(/^import .*$/gm) ?? [], []);
  assert.deepEqual(Object.keys(decoder).sort(), ['decode', 'decodeNdjson', 'defaultOptions']);
});

test('every shared fixture through decode: entry JSON texts and counters are the golden file', () => {
  const cases = fixtures();
  assert.ok(cases.length >= 24);
  assert.equal(cases.length, readdirSync(join(root, 'tests', 'fixtures')).filter((name) => name.endsWith('.expected.ndjson')).length);
  for (const fixture of cases) {
    const output = decoder.decode(new Uint8Array(fixture.input), witOptions(fixture.rawOptions));
    const text = output.entries.map((entry) => `${entry.json}\n`).join('') + `${countersLine(output.counters)}\n`;
    assert.equal(text, fixture.expected, fixture.name);
    // Each entry's fields agree with its JSON text.
    for (const entry of output.entries) {
      const line = JSON.parse(entry.json);
      if (entry.kind === 'alert') {
        assert.equal(entry.id, line.alert.document_id);
        assert.equal(entry.commons, line.alert.commons);
      } else {
        assert.equal(entry.kind, 'error' in line ? 'error' : 'document', fixture.name);
        // gen3 and cloudwatch: id, commons, timestamp; ecs: event.id, labels.commons, @timestamp.
        const ecs = '@timestamp' in line;
        assert.equal(entry.id, ecs ? line.event.id : line.id);
        // WIT option<string>: undefined when none.
        assert.equal(entry.commons, (ecs ? line.labels.commons : line.commons) ?? undefined);
        // s64 milliseconds: a BigInt.
        const timestamp = ecs ? line['@timestamp'] : line.timestamp;
        assert.equal(entry.timeMs, timestamp === undefined ? undefined : BigInt(Date.parse(timestamp)));
        // u64: a BigInt.
        assert.equal(typeof entry.recordIndex, 'bigint');
        assert.deepEqual(entry.error, line.error ? { kind: line.error.kind, reason: line.error.reason } : undefined);
      }
    }
  }
});

test('every shared fixture through decode-ndjson: each kind\'s lines as in the golden file', () => {
  for (const fixture of fixtures()) {
    const output = decoder.decodeNdjson(new Uint8Array(fixture.input), witOptions(fixture.rawOptions));
    // Each golden line's kind, as decode names it (checked above).
    const kinds = decoder.decode(new Uint8Array(fixture.input), witOptions(fixture.rawOptions)).entries.map((entry) => entry.kind);
    const lines = goldenLines(fixture.expected);
    assert.equal(kinds.length, lines.length);
    const text = (kind) => lines.filter((_, index) => kinds[index] === kind).map((line) => `${line}\n`).join('');
    assert.equal(output.documents, text('document'), fixture.name);
    assert.equal(output.alerts, text('alert'), fixture.name);
    assert.equal(output.errors, text('error'), fixture.name);
    assert.equal(countersLine(output.counters), fixture.expected.trimEnd().split('\n').at(-1), fixture.name);
  }
});

test('default-options: the same defaults as the npm package', () => {
  const defaults = decoder.defaultOptions();
  assert.deepEqual(defaults, {
    commons: undefined, slowThresholdSecs: undefined, alertStreams: [], schema: 'gen3',
    maxDecompressedBytes: 16777216n, maxEventsPerRecord: 50000, maxJsonDepth: 64,
  });
  const pkg = createRequire(import.meta.url)(join(jsOut, 'pkg', 'node', 'index.cjs'));
  const camel = pkg.defaultOptions();
  for (const [name, value] of Object.entries(camel)) assert.deepEqual(defaults[name], typeof defaults[name] === 'bigint' ? BigInt(value) : value, name);
});

test('a refused option is the result\'s error case: jco throws it, payload { name, reason }', () => {
  const seed = new Uint8Array(readFileSync(join(root, 'tests', 'fixtures', 'seed-kinesis-event.json')));
  const refuse = (override) => {
    try {
      decoder.decode(seed, { ...decoder.defaultOptions(), ...override });
    } catch (error) {
      return { constructor: error.constructor.name, payload: error.payload };
    }
    return 'decoded';
  };
  assert.deepEqual(refuse({ maxJsonDepth: 500 }), { constructor: 'ComponentError', payload: { name: 'max_json_depth', reason: '500 is outside 1..=120' } });
  assert.equal(refuse({ slowThresholdSecs: -1 }).payload.name, 'slow_threshold_secs');
  // A list in WIT: a substring may hold a comma here (the npm package, which
  // passes the list as text, refuses one).
  assert.equal(refuse({ alertStreams: ['a,b'] }), 'decoded');
  assert.equal(refuse({ maxDecompressedBytes: 0n }).payload.name, 'max_decompressed_bytes');
  // A value outside the WIT type never reaches the component: jco refuses to lower it.
  assert.throws(() => decoder.decode(seed, { ...decoder.defaultOptions(), schema: 'kibana' }), TypeError);
  // And the instance is still good.
  assert.equal(decoder.decode(seed, decoder.defaultOptions()).entries.length, 2);
});
