// The decoder page. Runs in one inline module together with wasm-bindgen's
// web glue (`initSync`, `decode`) and the module's bytes (`WASM_BASE64`),
// so the page needs no request at all. Every value from a payload reaches
// the DOM as text (textContent), never as markup.

const ROWS_SHOWN = 1000;
const $ = (id) => document.getElementById(id);

initSync({ module: Uint8Array.from(atob(WASM_BASE64), (char) => char.charCodeAt(0)) });

let droppedBytes = null; // a dropped or opened file, decoded as bytes
let rows = [];
let pending = null; // the decode scheduled after typing stops

function readOptions() {
  const options = { schema: $('schema').value };
  const commons = $('commons').value.trim();
  if (commons) options.commons = commons;
  const threshold = $('threshold').value.trim();
  if (threshold) {
    const seconds = Number(threshold);
    if (!Number.isFinite(seconds)) throw new TypeError(`threshold ${JSON.stringify(threshold)} is not a number`);
    options.slowThresholdSecs = seconds;
  }
  const streams = $('streams').value.split(',').map((part) => part.trim()).filter(Boolean);
  if (streams.length) options.alertStreams = streams;
  return options;
}

function run() {
  // A decode asked for now makes the pending one (typing) moot; left to
  // fire, it would redraw the table under the user.
  clearTimeout(pending);
  $('problem').textContent = '';
  const input = droppedBytes ?? $('input').value;
  if (!droppedBytes && input.trim() === '') {
    show(null);
    return;
  }
  let result;
  try {
    result = decode(input, readOptions());
  } catch (error) {
    $('problem').textContent = String(error.message ?? error);
    return;
  }
  show(result);
}

function show(result) {
  if (!result) {
    rows = [];
    $('summary').textContent = 'Nothing decoded yet.';
    $('ndjson').value = '';
    render();
    return;
  }
  const c = result.counters;
  const summary = $('summary');
  summary.textContent = '';
  const parts = [
    [c.documents, 'documents'], [c.alerts, 'alerts'], [c.errors, 'errors'],
    [c.records, 'records'], [c.events, 'events'], [c.control_messages, 'control messages'],
  ];
  parts.forEach(([count, label], index) => {
    const number = document.createElement('b');
    number.textContent = String(count);
    summary.append(index ? ', ' : '', number, ` ${label}`);
  });
  summary.append(` from ${c.input_bytes} bytes (${c.decompressed_bytes} decompressed).`);
  rows = rowsOf(result);
  $('ndjson').value = result.ndjson;
  render();
}

function rowsOf(result) {
  const alertsOf = new Map();
  for (const alert of result.alerts) {
    if (!alertsOf.has(alert.document_id)) alertsOf.set(alert.document_id, []);
    alertsOf.get(alert.document_id).push(alert);
  }
  const out = [];
  for (const doc of result.documents) {
    const alerts = alertsOf.get(doc.id) ?? [];
    out.push(row('document', doc.timestamp, doc.commons, doc.logStream, messageText(doc.message), doc.id, doc, alerts.length > 0));
    for (const alert of alerts) {
      const summary = `Slow response: ${alert.seconds} s. ${alert.slack_payload.text.replace(/\s+/g, ' ')}`;
      out.push(row('alert', doc.timestamp, alert.commons, doc.logStream, summary, alert.document_id, alert, true));
    }
  }
  for (const error of result.errors) {
    const summary = `${error.error.kind}: ${error.error.reason}`;
    out.push(row('error', error.timestamp ?? '', error.commons ?? '', '', summary, error.id, error, false));
  }
  return out;
}

function row(kind, time, commons, stream, message, id, value, alerted) {
  const json = JSON.stringify(value);
  return { kind, time, commons, stream, message, id, value, alerted, haystack: json.toLowerCase() };
}

function messageText(message) {
  if (typeof message === 'string') return message;
  if (message && typeof message.log === 'string' && Object.keys(message).length <= 4) return message.log;
  return JSON.stringify(message);
}

function render() {
  const query = $('search').value.trim().toLowerCase();
  const matching = query ? rows.filter((r) => r.haystack.includes(query)) : rows;
  const body = $('results').tBodies[0];
  body.textContent = '';
  for (const r of matching.slice(0, ROWS_SHOWN)) {
    const tr = document.createElement('tr');
    tr.className = `row ${r.kind}${r.alerted ? ' alerted' : ''}`;
    tr.dataset.kind = r.kind;
    tr.dataset.id = r.id;
    const badge = document.createElement('span');
    badge.textContent = r.kind;
    const cells = [badge, r.time, r.commons, r.stream, r.message, r.id];
    const classes = ['kind', 'time', 'commons', 'stream', 'message', 'id'];
    cells.forEach((content, index) => {
      const td = document.createElement('td');
      td.className = classes[index];
      if (typeof content === 'string') {
        td.textContent = content;
        td.title = content.length > 300 ? `${content.slice(0, 300)}…` : content;
      } else {
        td.append(content);
      }
      tr.append(td);
    });
    tr.addEventListener('click', () => toggleDetail(tr, r));
    body.append(tr);
  }
  const shown = Math.min(matching.length, ROWS_SHOWN);
  $('shown').textContent = rows.length
    ? `${shown} of ${matching.length} matching rows shown` + (matching.length < rows.length ? ` (${rows.length} in all)` : '')
    : '';
}

function toggleDetail(tr, r) {
  const next = tr.nextElementSibling;
  if (next && next.classList.contains('detail')) {
    next.remove();
    return;
  }
  const detail = document.createElement('tr');
  detail.className = 'detail';
  const td = document.createElement('td');
  td.colSpan = 6;
  const pre = document.createElement('pre');
  pre.textContent = JSON.stringify(r.value, null, 2);
  td.append(pre);
  detail.append(td);
  tr.after(detail);
}

async function takeFile(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let text = null;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = null;
  }
  if (text !== null && !text.includes('\0')) {
    droppedBytes = null;
    $('input').value = text;
    $('file-note').textContent = '';
  } else {
    droppedBytes = bytes;
    $('input').value = '';
    $('file-note').textContent = `${file.name}: ${bytes.length} bytes of binary data (edit the box to paste text instead).`;
  }
  run();
}

$('input').addEventListener('input', () => {
  droppedBytes = null;
  $('file-note').textContent = '';
  clearTimeout(pending);
  pending = setTimeout(run, 200);
});
for (const id of ['commons', 'threshold', 'streams', 'schema']) $(id).addEventListener('change', run);
$('decode').addEventListener('click', run);
$('search').addEventListener('input', render);
$('file').addEventListener('change', (event) => {
  if (event.target.files[0]) takeFile(event.target.files[0]);
});
$('input').addEventListener('dragover', (event) => {
  event.preventDefault();
  $('input').classList.add('dragging');
});
$('input').addEventListener('dragleave', () => $('input').classList.remove('dragging'));
$('input').addEventListener('drop', (event) => {
  event.preventDefault();
  $('input').classList.remove('dragging');
  const file = event.dataTransfer.files[0];
  if (file) takeFile(file);
});
$('copy').addEventListener('click', async () => {
  $('ndjson').select();
  try {
    await navigator.clipboard.writeText($('ndjson').value);
  } catch {
    document.execCommand('copy');
  }
});
document.body.dataset.ready = 'true';
