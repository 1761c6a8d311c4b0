// The npm package as users get it: packed with `npm pack`, unpacked into a
// node_modules, loaded by name through its CommonJS, ESM and browser
// entries; every shared fixture must give the golden lines.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { fixtures, goldenLines, jsOut, render, root } from './fixtures.mjs';

let project; // a scratch project with the packed package installed
let cjs;

before(() => {
  project = mkdtempSync(join(tmpdir(), 'gen3-cwlogs-js-'));
  const packed = execFileSync('npm', ['pack', join(jsOut, 'pkg'), '--pack-destination', project, '--json'], { encoding: 'utf8' });
  const [{ filename, files }] = JSON.parse(packed);
  const listed = files.map((file) => file.path).sort();
  assert.deepEqual(listed, [
    'README.md', 'index.d.ts', 'node/gen3_cwlogs.js', 'node/gen3_cwlogs_bg.wasm', 'node/index.cjs', 'node/index.mjs',
    'package.json', 'web/gen3_cwlogs.js', 'web/gen3_cwlogs_bg.wasm', 'web/index.js', 'web/package.json',
  ]);
  const installed = join(project, 'node_modules', 'gen3-cwlogs');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', join(project, filename), '-C', installed, '--strip-components=1']);
  cjs = createRequire(join(project, 'index.js'))('gen3-cwlogs');
});

after(() => rmSync(project, { recursive: true, force: true }));

/**
 * Checks a result against a fixture's golden file: the rendered text byte
 * for byte, each entry's `record` equal to its parsed line (an alert's line
 * is `{"alert": record}`) and its other fields consistent with the record.
 */
function assertGolden(result, fixture) {
  assert.equal(render(result), fixture.expected, fixture.name);
  const lines = goldenLines(fixture.expected);
  assert.equal(result.entries.length, lines.length, fixture.name);
  result.entries.forEach((entry, index) => {
    const line = JSON.parse(lines[index]);
    const where = `${fixture.name}, entry ${index}`;
    assert.deepEqual(Object.keys(entry), ['kind', 'id', 'commons', 'timeMs', 'recordIndex', 'error', 'record'], where);
    assert.ok(Number.isInteger(entry.recordIndex) && entry.recordIndex >= 0, where);
    if (entry.kind === 'alert') {
      assert.deepEqual({ alert: entry.record }, line, where);
      assert.equal(entry.id, line.alert.document_id, where);
      assert.equal(entry.commons, line.alert.commons, where);
      // Right after its document, and at that document's time.
      const document = result.entries[index - 1];
      assert.equal(document.kind, 'document', where);
      assert.equal(document.id, entry.id, where);
      assert.equal(entry.timeMs, document.timeMs, where);
      assert.equal(entry.error, null, where);
    } else {
      assert.deepEqual(entry.record, line, where);
      assert.equal(entry.kind, 'error' in line ? 'error' : 'document', where);
      // gen3 and cloudwatch: id, commons, timestamp; ecs: event.id, labels.commons, @timestamp.
      const ecs = '@timestamp' in line;
      assert.equal(entry.id, ecs ? line.event.id : line.id, where);
      assert.equal(entry.commons, ecs ? line.labels.commons : line.commons, where);
      const timestamp = ecs ? line['@timestamp'] : line.timestamp;
      assert.equal(entry.timeMs, timestamp === undefined ? null : Date.parse(timestamp), where);
      if ('error' in line) assert.equal(entry.recordIndex, line.error.record_index, where);
      assert.deepEqual(entry.error, line.error ? { kind: line.error.kind, reason: line.error.reason } : null, where);
    }
  });
  const count = (kind) => result.entries.filter((entry) => entry.kind === kind).length;
  assert.equal(count('document'), result.counters.documents, fixture.name);
  assert.equal(count('alert'), result.counters.alerts, fixture.name);
  assert.equal(count('error'), result.counters.errors, fixture.name);
}

test('every shared fixture decodes to the golden lines, entries in input order (CommonJS entry)', () => {
  const cases = fixtures();
  const goldens = readdirSync(join(root, 'tests', 'fixtures')).filter((name) => name.endsWith('.expected.ndjson'));
  assert.equal(cases.length, goldens.length, 'every golden has its input');
  assert.ok(cases.length >= 24);
  for (const fixture of cases) assertGolden(cjs.decode(fixture.input, fixture.options), fixture);
  // The fixtures exercise every kind of entry.
  const kinds = new Set(cases.flatMap((fixture) => cjs.decode(fixture.input, fixture.options).entries.map((entry) => entry.kind)));
  assert.deepEqual([...kinds].sort(), ['alert', 'document', 'error']);
});

test('input as a string, Uint8Array or ArrayBuffer gives the same output', () => {
  const seed = readFileSync(join(root, 'tests', 'fixtures', 'seed-kinesis-event.json'));
  const fromBuffer = cjs.decode(seed);
  const bytes = new Uint8Array(seed);
  assert.equal(cjs.decode(seed.toString('utf8')).ndjson, fromBuffer.ndjson);
  assert.equal(cjs.decode(bytes).ndjson, fromBuffer.ndjson);
  assert.equal(cjs.decode(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)).ndjson, fromBuffer.ndjson);
  // A view into a larger buffer: only its own bytes.
  const padded = new Uint8Array(seed.length + 20);
  padded.set(seed, 10);
  assert.equal(cjs.decode(padded.subarray(10, 10 + seed.length)).ndjson, fromBuffer.ndjson);
  assert.equal(fromBuffer.entries.length, 2);
  assert.equal(fromBuffer.entries[0].record.message.kubernetes.pod_name, 'sheepdog-deployment-1767503258-n23ck');
  assert.equal(fromBuffer.entries[0].timeMs, Date.UTC(2018, 2, 23, 17, 34, 34));
});

test('ESM entry, imported by name from another module, shares the API', () => {
  const script = join(project, 'esm-check.mjs');
  writeFileSync(script, `
    import { decode, defaultOptions, init } from 'gen3-cwlogs';
    import { readFileSync } from 'node:fs';
    await init();
    const result = decode(readFileSync(${JSON.stringify(join(root, 'tests', 'fixtures', 'seed-kinesis-event.json'))}), { commons: 'esm' });
    console.log(JSON.stringify({ ids: result.entries.map((e) => e.id), commons: result.entries[0].record.commons, defaults: defaultOptions() }));
  `);
  const printed = JSON.parse(execFileSync(process.execPath, [script], { cwd: project, encoding: 'utf8' }));
  assert.deepEqual(printed, {
    ids: ['33937864433052288198345880427171302362958917358574829568', '33937864433052288198345880427171302362958917358574829569'],
    commons: 'esm',
    defaults: { schema: 'gen3', maxDecompressedBytes: 16777216, maxEventsPerRecord: 50000, maxJsonDepth: 64, alertStreams: [] },
  });
});

test('browser entry: refuses decode before init, then gives the golden lines too', async () => {
  const web = await import(pathToFileURL(join(project, 'node_modules', 'gen3-cwlogs', 'web', 'index.js')));
  assert.throws(() => web.decode('{}'), /call `await init\(\)` before decode/);
  assert.throws(() => web.defaultOptions(), /call `await init\(\)`/);
  await web.init(readFileSync(join(project, 'node_modules', 'gen3-cwlogs', 'web', 'gen3_cwlogs_bg.wasm')));
  for (const fixture of fixtures()) assertGolden(web.decode(fixture.input, fixture.options), fixture);
  assert.deepEqual(web.defaultOptions(), cjs.defaultOptions());
});

test('defaultOptions() names every option that has a default; passing them back changes nothing', () => {
  const defaults = cjs.defaultOptions();
  assert.deepEqual(defaults, { schema: 'gen3', maxDecompressedBytes: 16777216, maxEventsPerRecord: 50000, maxJsonDepth: 64, alertStreams: [] });
  for (const fixture of fixtures()) {
    assert.equal(render(cjs.decode(fixture.input, { ...defaults, ...fixture.options })), fixture.expected, fixture.name);
  }
  // Absent, undefined and null all take the default.
  const seed = readFileSync(join(root, 'tests', 'fixtures', 'seed-kinesis-event.json'));
  const plain = cjs.decode(seed).ndjson;
  assert.equal(cjs.decode(seed, undefined).ndjson, plain);
  assert.equal(cjs.decode(seed, null).ndjson, plain);
  assert.equal(cjs.decode(seed, { commons: undefined, slowThresholdSecs: null, maxJsonDepth: undefined }).ndjson, plain);
});

test('wrong input throws a TypeError naming it', () => {
  for (const input of [42, null, undefined, {}, [1, 2], true, new Int32Array(2)]) {
    assert.throws(() => cjs.decode(input), { name: 'TypeError', message: /^decode\(input\): input must be a string, a Uint8Array or an ArrayBuffer$/ }, String(input));
  }
});

test('options the core refuses throw a TypeError naming options.<key>', () => {
  const refused = [
    [{ comons: 'x' }, /^options\.comons is not an option \(known: commons, slowThresholdSecs, alertStreams, schema, maxDecompressedBytes, maxEventsPerRecord, maxJsonDepth\)$/],
    [{ limits: { maxJsonDepth: 3 } }, /^options\.limits /],
    [{ schema: 'kibana' }, /^options\.schema: "kibana" is not one of gen3, cloudwatch, ecs$/],
    [{ maxJsonDepth: 0 }, /^options\.maxJsonDepth: 0 is outside 1\.\.=120$/],
    [{ maxJsonDepth: 121 }, /^options\.maxJsonDepth: 121 is outside 1\.\.=120$/],
    [{ maxJsonDepth: -1 }, /^options\.maxJsonDepth: "-1" is not a whole number$/],
    [{ maxJsonDepth: 1.5 }, /^options\.maxJsonDepth: "1\.5" is not a whole number$/],
    [{ maxEventsPerRecord: 0 }, /^options\.maxEventsPerRecord: /],
    [{ maxDecompressedBytes: 2 ** 31 }, /^options\.maxDecompressedBytes: 2147483648 is outside 1\.\.=1073741824$/],
    [{ slowThresholdSecs: -1 }, /^options\.slowThresholdSecs: -1 is not a finite number of seconds at least 0$/],
    [{ slowThresholdSecs: Number.NaN }, /^options\.slowThresholdSecs must be a finite number$/],
    [{ slowThresholdSecs: Infinity }, /^options\.slowThresholdSecs must be a finite number$/],
    [{ slowThresholdSecs: 'soon' }, /^options\.slowThresholdSecs must be a number$/],
    [{ max_json_depth: 3 }, /^options\.max_json_depth is not an option /],
    [{ commons: 5 }, /^options\.commons must be a string$/],
    [{ alertStreams: [''] }, /^options\.alertStreams: an empty stream substring would match every stream$/],
    [{ alertStreams: [1] }, /^options\.alertStreams must be an array of strings$/],
    [{ commons: true }, /^options\.commons must be a string$/],
    [{ commons: {} }, /^options\.commons must be a string$/],
  ];
  for (const [options, message] of refused) {
    assert.throws(() => cjs.decode('{}', options), { name: 'TypeError', message }, JSON.stringify(options));
  }
  for (const options of ['gen3', [], 42]) {
    assert.throws(() => cjs.decode('{}', options), { name: 'TypeError', message: /^decode\(input, options\): options must be an object$/ });
  }
  // A refused option leaves the instance as it was: the next call decodes with its own options.
  const alerts = readFileSync(join(root, 'tests', 'fixtures', 'alerts.json'));
  const fixture = fixtures().find((candidate) => candidate.name === 'alerts');
  assert.throws(() => cjs.decode(alerts, { ...fixture.options, maxJsonDepth: 500 }), TypeError);
  assert.equal(render(cjs.decode(alerts, fixture.options)), fixture.expected);
});

test('an undecodable payload is error documents carrying the raw data, never a throw', () => {
  const result = cjs.decode('definitely not a payload');
  assert.equal(result.entries.length, 1);
  const [entry] = result.entries;
  assert.equal(entry.kind, 'error');
  assert.equal(entry.record.raw_data, 'definitely not a payload');
  assert.equal(entry.error.kind, entry.record.error.kind);
  assert.match(entry.error.reason, /neither gzip nor JSON|not valid base64|unrecognised/);
  assert.equal(entry.record.error.record_index, 0);
  assert.equal(result.counters.records_failed, 1);
  assert.equal(result.counters.envelopes_failed, 0);
});

test('one instance decodes many payloads (buffers are reused, results stay independent)', () => {
  const cases = fixtures();
  const first = cases.map((fixture) => cjs.decode(fixture.input, fixture.options));
  for (let round = 0; round < 20; round += 1) {
    cases.forEach((fixture) => assert.equal(render(cjs.decode(fixture.input, fixture.options)), fixture.expected));
  }
  // Earlier results were not overwritten by later calls.
  cases.forEach((fixture, index) => assertGolden(first[index], fixture));
});

test('TypeScript: the declarations type-check a consumer under strict settings', () => {
  const consumer = join(project, 'consumer.ts');
  writeFileSync(consumer, readFileSync(new URL('./consumer.ts', import.meta.url)));
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], types: [] },
    files: ['consumer.ts'],
  }));
  const tsc = join(root, 'crates', 'js', 'tests', 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' });
  // And a misuse is caught: the declarations are not `any`.
  writeFileSync(consumer, [
    "import { decode, type DecodeOptions } from 'gen3-cwlogs';",
    "const n: number = decode('x').entries[0].id;",
    "const limits: DecodeOptions = { limits: { maxJsonDepth: 3 } };",
    "const entry = decode('x').entries[0];",
    "if (entry.kind === 'document') { const seconds: string = entry.record.slack_payload.text; }",
    "decode(42);",
    '',
  ].join('\n'));
  assert.throws(() => execFileSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' }), (error) => {
    // Each misuse is reported on its own line.
    for (const line of [2, 3, 5, 6]) assert.match(error.stdout, new RegExp(`consumer\\.ts\\(${line},`), error.stdout);
    return /TS2322/.test(error.stdout) && /TS2353/.test(error.stdout) && /TS18046/.test(error.stdout) && /TS2345/.test(error.stdout);
  });
  assert.ok(readdirSync(project).includes('tsconfig.json'));
});
