// The npm package as users get it: packed with `npm pack`, unpacked into a
// node_modules, loaded by name through its CommonJS, ESM and browser
// entries; every shared fixture must give the native core's output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { fixtures, jsOut, render, root } from './fixtures.mjs';

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

test('every shared fixture decodes to the native core output (CommonJS entry)', () => {
  const cases = fixtures();
  const goldens = readdirSync(join(root, 'tests', 'fixtures')).filter((name) => name.endsWith('.expected.ndjson'));
  assert.equal(cases.length, goldens.length, 'every golden has its input');
  assert.ok(cases.length >= 24);
  for (const fixture of cases) {
    const result = cjs.decode(fixture.input, fixture.options);
    assert.equal(render(result), fixture.expected, fixture.name);
    // The parsed objects are the NDJSON lines, in order.
    const lines = result.ndjson.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    const objects = [...result.documents, ...result.alerts.map((alert) => ({ alert })), ...result.errors];
    assert.deepEqual(objects, lines, fixture.name);
  }
});

test('input as a string, Uint8Array or ArrayBuffer gives the same output', () => {
  const seed = readFileSync(join(root, 'tests', 'fixtures', 'seed-kinesis-event.json'));
  const fromBuffer = cjs.decode(seed);
  const bytes = new Uint8Array(seed);
  assert.equal(cjs.decode(seed.toString('utf8')).ndjson, fromBuffer.ndjson);
  assert.equal(cjs.decode(bytes).ndjson, fromBuffer.ndjson);
  assert.equal(cjs.decode(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)).ndjson, fromBuffer.ndjson);
  assert.equal(fromBuffer.documents.length, 2);
  assert.equal(fromBuffer.documents[0].message.kubernetes.pod_name, 'sheepdog-deployment-1767503258-n23ck');
});

test('ESM entry, imported by name from another module, shares the API', () => {
  const script = join(project, 'esm-check.mjs');
  writeFileSync(script, `
    import { decode, defaultLimits, init } from 'gen3-cwlogs';
    import { readFileSync } from 'node:fs';
    await init();
    const result = decode(readFileSync(${JSON.stringify(join(root, 'tests', 'fixtures', 'seed-kinesis-event.json'))}), { commons: 'esm' });
    console.log(JSON.stringify({ ids: result.documents.map((d) => d.id), commons: result.documents[0].commons, limits: defaultLimits() }));
  `);
  const printed = JSON.parse(execFileSync(process.execPath, [script], { cwd: project, encoding: 'utf8' }));
  assert.deepEqual(printed, {
    ids: ['33937864433052288198345880427171302362958917358574829568', '33937864433052288198345880427171302362958917358574829569'],
    commons: 'esm',
    limits: { maxDecompressedBytes: 16777216, maxEventsPerRecord: 50000, maxJsonDepth: 64 },
  });
});

test('browser entry: refuses decode before init, then equals the CommonJS entry', async () => {
  const web = await import(pathToFileURL(join(project, 'node_modules', 'gen3-cwlogs', 'web', 'index.js')));
  assert.throws(() => web.decode('{}'), /call `await init\(\)` before decode/);
  await web.init(readFileSync(join(project, 'node_modules', 'gen3-cwlogs', 'web', 'gen3_cwlogs_bg.wasm')));
  for (const fixture of fixtures()) {
    assert.equal(render(web.decode(fixture.input, fixture.options)), fixture.expected, fixture.name);
  }
});

test('wrong input or options throw a TypeError that names the problem', () => {
  assert.throws(() => cjs.decode(42), { name: 'TypeError', message: /input must be a string, a Uint8Array or an ArrayBuffer/ });
  assert.throws(() => cjs.decode('{}', { comons: 'x' }), { name: 'TypeError', message: /unknown field `comons`/ });
  assert.throws(() => cjs.decode('{}', { schema: 'kibana' }), { name: 'TypeError', message: /unknown schema "kibana"/ });
  assert.throws(() => cjs.decode('{}', { limits: { maxJsonDepth: -1 } }), { name: 'TypeError', message: /maxJsonDepth|invalid value/ });
  assert.throws(() => cjs.decode('{}', 'gen3'), { name: 'TypeError', message: /options must be an object/ });
});

test('an undecodable payload is error documents carrying the raw data, never a throw', () => {
  const result = cjs.decode('definitely not a payload');
  assert.equal(result.documents.length, 0);
  assert.equal(result.errors.length, 1);
  assert.equal(result.errors[0].raw_data, 'definitely not a payload');
  assert.match(result.errors[0].error.reason, /neither gzip nor JSON|not valid base64|unrecognised/);
  assert.equal(result.counters.records_failed, 1);
});

test('one instance decodes many payloads (buffers are reused, results stay independent)', () => {
  const cases = fixtures();
  const first = cases.map((fixture) => render(cjs.decode(fixture.input, fixture.options)));
  for (let round = 0; round < 20; round += 1) {
    cases.forEach((fixture, index) => assert.equal(render(cjs.decode(fixture.input, fixture.options)), first[index]));
  }
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
  writeFileSync(consumer, `import { decode } from 'gen3-cwlogs';\nconst n: number = decode('x').documents[0].id;\n`);
  assert.throws(() => execFileSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' }), (error) => /TS2322/.test(error.stdout));
  assert.ok(readdirSync(project).includes('tsconfig.json'));
});
