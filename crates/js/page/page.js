// The decoder page. Decoding, search, filter and sort run in a Web Worker
// (worker.js, inlined in the page as text and started from a blob: URL), so
// a large payload never freezes the page; this script only draws. Every
// value from a payload reaches the DOM as text (textContent), never as
// markup. `VERSION` is set by the build.

const PAGE = 200; // rows asked for at a time ("Show more" asks for as many again)
const DRAW_CHUNK = 25; // rows drawn per animation frame, so drawing never blocks for long
const CELL_TEXT = 160; // characters of a value drawn in a cell
const SOURCE_TEXT = 36; // characters of a pod or stream name drawn before it is cut in the middle
const BOX_LIMIT = 512 * 1024; // a larger file is decoded without being put in the payload box
const $ = (id) => document.getElementById(id);

/** Every column the table can have; `optional` ones show only when a row has a value. */
const COLUMNS = [
  { key: 'kind', label: 'Kind', width: 78 },
  { key: 'time', label: 'Time (UTC)', width: 182 }, // 130 when every row is on one day
  { key: 'record', label: 'Record', width: 110 },
  { key: 'commons', label: 'Commons', width: 110, optional: true },
  { key: 'source', label: 'Pod / log stream', width: 285 },
  { key: 'container', label: 'Container', width: 90, optional: true },
  { key: 'status', label: 'Status', width: 66, optional: true },
  { key: 'request', label: 'Request', width: 200, optional: true },
  { key: 'secs', label: 'Secs', width: 64, optional: true },
  { key: 'user', label: 'User', width: 60, optional: true },
  { key: 'message', label: 'Message / reason', width: null },
  { key: 'id', label: 'Id', width: 100 },
];

$('version').textContent = `v${VERSION}`;
$('version').title = `gen3-cwlogs ${VERSION}`;

let worker = null;
let job = 0; // the latest decode asked for
let data = null; // the decode `job` gave: {counters, columns, day, total, lines, matches, rows (drawn or queued, by index)}
let seq = 0; // the latest view asked for (filter, search, sort); the worker sends the first view as 0
let received = 0; // rows of the view the page has (drawn or queued)
let queue = []; // rows waiting to be drawn
let drawing = false;
let dropped = null; // a dropped or opened file kept out of the box: {input}
let pendingDecode = null; // the decode scheduled after typing stops
let pendingSearch = null;
const state = { kinds: { document: true, alert: true, error: true }, search: '', sort: null };
const busy = { decode: false, query: false, typing: false, draw: false };

function setBusy(part, value) {
  busy[part] = value;
  document.body.dataset.busy = String(Object.values(busy).some(Boolean));
}

// --- the worker ---------------------------------------------------------------

function startWorker() {
  const source = $('decoder-worker').textContent;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  try {
    worker = new Worker(url, { name: 'gen3-cwlogs decoder' });
  } catch (error) {
    fatal(`This browser cannot start the decoder's worker: ${error.message ?? error}`);
    return;
  }
  worker.onmessage = ({ data: message }) => receive(message);
  worker.onerror = (event) => fatal(`The decoder failed: ${event.message || 'error in the worker'}`);
  worker.addEventListener('message', () => URL.revokeObjectURL(url), { once: true });
}

function fatal(message) {
  $('problem').textContent = message;
  setBusy('decode', false);
  setBusy('query', false);
  showProgress(null);
}

function receive(message) {
  if (message.type === 'ready') {
    document.body.dataset.ready = 'true';
    return;
  }
  if (message.type === 'fatal') {
    fatal(message.message);
    return;
  }
  if (message.job !== job) return; // an answer about a superseded payload
  switch (message.type) {
    case 'progress':
      showProgress(message);
      break;
    case 'problem':
      // The rows shown would not be what the options on screen give.
      clear();
      $('problem').textContent = message.message;
      break;
    case 'decoded':
      data = { job, counters: message.counters, columns: message.columns, day: message.day, total: message.total, lines: message.lines, matches: message.total, rows: new Map() };
      showSummary(message.counters, message.ms);
      showNdjson(message.ndjsonHead, message.lines);
      showProgress(null);
      clearTable();
      buildHeader();
      setBusy('query', true); // until the first rows come
      setBusy('decode', false);
      // The worker sends the input-order view (0) at once; another is asked for.
      seq = 0;
      if (!isDefaultView()) postQuery();
      break;
    case 'view':
      if (message.seq !== seq) return;
      setBusy('query', false);
      if (message.start === 0) clearTable();
      if (message.start !== received) return; // a repeated "Show more"
      data.matches = message.matches;
      for (const row of message.rows) data.rows.set(row.index, row);
      received += message.rows.length;
      queue.push(...message.rows);
      draw();
      break;
    case 'record':
      showDetail(message.index, message.text);
      break;
    case 'ndjson':
      copyText(message.text);
      break;
    default:
      break;
  }
}

// --- decoding -----------------------------------------------------------------

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
  // A decode asked for now makes the pending one (typing) moot.
  clearTimeout(pendingDecode);
  setBusy('typing', false);
  $('problem').textContent = '';
  const input = dropped ? dropped.input : $('input').value;
  if (!dropped && input.trim() === '') {
    job += 1;
    clear();
    return;
  }
  let options;
  try {
    options = readOptions();
  } catch (error) {
    $('problem').textContent = String(error.message ?? error);
    return;
  }
  if (!worker) return;
  job += 1;
  setBusy('decode', true);
  setBusy('query', false);
  worker.postMessage({ type: 'decode', job, input, options });
}

function clear() {
  data = null;
  $('summary').textContent = 'Nothing decoded yet.';
  $('ndjson').value = '';
  $('ndjson-note').textContent = '';
  clearTable();
  $('shown').textContent = '';
  for (const kind of Object.keys(state.kinds)) $(`count-${kind}`).textContent = '';
  showProgress(null);
  setBusy('decode', false);
  setBusy('query', false);
}

const number = (n) => n.toLocaleString('en-US');
const plural = (n, one, many = `${one}s`) => `${number(n)} ${n === 1 ? one : many}`;

function showProgress(message) {
  const box = $('progress');
  if (!message) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const bar = $('progress-bar');
  if (message.stage === 'decoding') {
    bar.removeAttribute('value');
    $('progress-text').textContent = `Decoding ${bytes(message.total)}…`;
  } else {
    bar.max = message.total;
    bar.value = message.done;
    $('progress-text').textContent = `Preparing rows: ${number(message.done)} of ${plural(message.total, 'row')}`;
  }
}

function bytes(n) {
  if (n < 1024) return plural(n, 'byte');
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function showSummary(c, ms) {
  const summary = $('summary');
  summary.textContent = '';
  const parts = [
    [c.documents, 'document'], [c.alerts, 'alert'], [c.errors, 'error'],
    [c.records, 'record'], [c.events, 'event'], [c.control_messages, 'control message'],
  ];
  parts.forEach(([count, label], index) => {
    const figure = document.createElement('b');
    figure.textContent = number(count);
    summary.append(index ? ', ' : '', figure, ` ${count === 1 ? label : `${label}s`}`);
  });
  summary.append(` from ${plural(c.input_bytes, 'byte')} (${number(c.decompressed_bytes)} decompressed), decoded in ${number(Math.round(ms))} ms.`);
  $('count-document').textContent = number(c.documents);
  $('count-alert').textContent = number(c.alerts);
  $('count-error').textContent = number(c.errors);
}

/** The box shows the NDJSON's start (a large one would make the page slow); Copy copies it all. */
function showNdjson(head, lines) {
  $('ndjson').value = head;
  const shown = head.split('\n').length - 1;
  $('ndjson-note').textContent = shown < lines ? `The first ${number(shown)} of ${plural(lines, 'line')} are shown; Copy copies them all.` : '';
}

// --- the table ----------------------------------------------------------------

function visibleColumns() {
  return COLUMNS.filter((column) => !column.optional || data?.columns?.[column.key]);
}

function buildHeader() {
  const columns = visibleColumns();
  const colgroup = $('results').querySelector('colgroup');
  colgroup.textContent = '';
  const tr = $('results').tHead.rows[0];
  tr.textContent = '';
  for (const column of columns) {
    const col = document.createElement('col');
    const width = column.key === 'time' && data?.day ? 130 : column.width;
    if (width) col.style.width = `${width}px`;
    colgroup.append(col);
    const th = document.createElement('th');
    th.dataset.col = column.key;
    th.scope = 'col';
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'sort';
    button.textContent = column.key === 'time' && data?.day ? `Time ${data.day}` : column.label;
    button.title = `${column.key === 'time' ? 'UTC. ' : ''}Sort by this column (again: reverse; a third time: input order)`;
    button.addEventListener('click', () => sortBy(column.key));
    th.append(button);
    if (state.sort?.key === column.key) {
      th.setAttribute('aria-sort', state.sort.descending ? 'descending' : 'ascending');
      th.classList.add(state.sort.descending ? 'descending' : 'ascending');
    }
    tr.append(th);
  }
}

function isDefaultView() {
  return state.kinds.document && state.kinds.alert && state.kinds.error && state.search === '' && !state.sort;
}

function clearTable() {
  $('results').tBodies[0].textContent = '';
  received = 0;
  queue = [];
  if (data) data.rows.clear();
  updateShown();
}

/** Draws the queued rows, a few per animation frame. */
function draw() {
  if (drawing) return;
  drawing = true;
  setBusy('draw', true);
  requestAnimationFrame(function frame() {
    const fragment = document.createDocumentFragment();
    for (const row of queue.splice(0, DRAW_CHUNK)) fragment.append(rowElement(row));
    $('results').tBodies[0].append(fragment);
    updateShown();
    if (queue.length) {
      requestAnimationFrame(frame);
    } else {
      drawing = false;
      setBusy('draw', false);
    }
  });
}

function updateShown() {
  if (!data) {
    $('shown').textContent = '';
    $('more').hidden = true;
    return;
  }
  const drawn = received - queue.length;
  const matching = data.matches;
  let text = `${number(drawn)} of ${plural(matching, 'row')} shown`;
  if (matching < data.total) text = `${number(drawn)} of ${plural(matching, 'matching row')} shown (${number(data.total)} in all)`;
  $('shown').textContent = text;
  $('more').hidden = received >= matching;
  $('more').textContent = `Show ${number(Math.min(PAGE, matching - received))} more`;
}

function formatTime(ms, day) {
  if (ms === null || ms === undefined) return '';
  const iso = new Date(ms).toISOString();
  return day && iso.startsWith(day) ? iso.slice(11, 23) : `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

function cell(tr, key, text, title) {
  const td = document.createElement('td');
  td.className = key;
  // A cell shows one line: a long value is cut (whole on hover and in the
  // opened row), so the browser does not lay out text nobody sees.
  td.textContent = text.length > CELL_TEXT ? `${text.slice(0, CELL_TEXT)}…` : text;
  if (title) td.title = title;
  else if (text.length > 20) td.title = text.length > 600 ? `${text.slice(0, 600)}…` : text;
  tr.append(td);
  return td;
}

function rowElement(row) {
  const tr = document.createElement('tr');
  tr.className = `row ${row.kind}${row.alerted && row.kind === 'document' ? ' alerted' : ''}`;
  tr.dataset.kind = row.kind;
  tr.dataset.id = row.id;
  tr.dataset.index = String(row.index);
  tr.tabIndex = 0;
  for (const column of visibleColumns()) {
    switch (column.key) {
      case 'kind': {
        const td = cell(tr, 'kind', '');
        const badge = document.createElement('span');
        badge.textContent = row.kind;
        if (row.errorKind) badge.title = row.errorKind;
        td.append(badge);
        break;
      }
      case 'time': {
        const iso = row.time === null ? '' : new Date(row.time).toISOString();
        const td = cell(tr, 'time', formatTime(row.time, data.day), row.arrival ? `${iso}: the record's arrival time (the event's own time is not known)` : iso);
        if (row.arrival) td.classList.add('arrival');
        break;
      }
      case 'record':
        cell(tr, 'record', row.record, row.recordTitle);
        break;
      case 'source':
        // A pod name differs from its siblings at its end: cut in the middle.
        cell(tr, 'source', row.source.length > SOURCE_TEXT ? `${row.source.slice(0, SOURCE_TEXT - 15)}…${row.source.slice(-14)}` : row.source, row.sourceTitle || row.source);
        break;
      case 'status': {
        const td = cell(tr, 'status', row.status);
        if (/^5/.test(row.status)) td.classList.add('bad');
        else if (/^4/.test(row.status)) td.classList.add('warn');
        break;
      }
      case 'id':
        cell(tr, 'id', row.idShort, row.id);
        break;
      default:
        cell(tr, column.key, row[column.key]);
    }
  }
  return tr;
}

function toggleDetail(tr) {
  const next = tr.nextElementSibling;
  if (next && next.classList.contains('detail')) {
    next.remove();
    tr.classList.remove('open');
    return;
  }
  tr.classList.add('open');
  worker.postMessage({ type: 'record', job, index: Number(tr.dataset.index) });
}

function showDetail(index, text) {
  const tr = $('results').tBodies[0].querySelector(`tr.row[data-index="${index}"]`);
  if (!tr || !tr.classList.contains('open') || tr.nextElementSibling?.classList.contains('detail')) return;
  const row = data.rows.get(index);
  const detail = document.createElement('tr');
  detail.className = 'detail';
  const td = document.createElement('td');
  td.colSpan = visibleColumns().length;
  const facts = document.createElement('div');
  facts.className = 'facts';
  const fact = (label, value) => {
    if (!value) return;
    const b = document.createElement('b');
    b.textContent = `${label} `;
    const span = document.createElement('span');
    span.textContent = value;
    facts.append(b, span, ' ');
  };
  fact('id', row.id);
  fact('record', row.recordTitle.replace(/\n/g, ', '));
  fact('source', row.sourceTitle.replace(/\n/g, ', '));
  const pre = document.createElement('pre');
  pre.textContent = text;
  td.append(facts, pre);
  detail.append(td);
  tr.after(detail);
}

// --- filter, search, sort -----------------------------------------------------

/** Asks the worker for the view's first rows (a new filter, search or sort). */
function postQuery() {
  if (!data || data.job !== job) return; // asked again when the decode under way is done
  seq += 1;
  setBusy('query', true);
  worker.postMessage({ type: 'query', job, seq, kinds: { ...state.kinds }, search: state.search, sort: state.sort, start: 0, count: PAGE });
}

/** Asks for the view's next rows. */
function showMore() {
  if (!data || data.job !== job || received >= data.matches) return;
  setBusy('query', true);
  const kinds = isDefaultView() ? null : { ...state.kinds };
  worker.postMessage({ type: 'query', job, seq, kinds, search: state.search, sort: state.sort, start: received, count: PAGE });
}

function sortBy(key) {
  if (state.sort?.key !== key) state.sort = { key, descending: false };
  else if (!state.sort.descending) state.sort = { key, descending: true };
  else state.sort = null;
  buildHeader();
  postQuery();
}

// --- input --------------------------------------------------------------------

async function takeFile(file) {
  const bytesRead = new Uint8Array(await file.arrayBuffer());
  let text = null;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytesRead);
  } catch {
    text = null;
  }
  if (text !== null && !text.includes('\0') && text.length <= BOX_LIMIT) {
    dropped = null;
    $('input').value = text;
    $('file-note').textContent = '';
  } else {
    // Binary, or text too large for the box to stay quick: decoded as is.
    dropped = { input: text ?? bytesRead };
    $('input').value = '';
    $('file-note').textContent = text === null || text.includes('\0')
      ? `${file.name}: ${bytes(bytesRead.length)} of binary data (edit the box to paste text instead).`
      : `${file.name}: ${bytes(bytesRead.length)} of text, decoded as is without showing it here (edit the box to paste text instead).`;
  }
  run();
}

$('input').addEventListener('input', () => {
  dropped = null;
  $('file-note').textContent = '';
  clearTimeout(pendingDecode);
  setBusy('typing', true);
  pendingDecode = setTimeout(run, 200);
});
for (const id of ['commons', 'threshold', 'streams', 'schema']) $(id).addEventListener('change', run);
$('decode').addEventListener('click', run);
$('search').addEventListener('input', () => {
  clearTimeout(pendingSearch);
  setBusy('typing', true);
  pendingSearch = setTimeout(() => {
    setBusy('typing', false);
    state.search = $('search').value.trim();
    postQuery();
  }, 150);
});
for (const box of document.querySelectorAll('#kinds input[data-kind]')) {
  box.addEventListener('change', () => {
    state.kinds[box.dataset.kind] = box.checked;
    postQuery();
  });
}
$('more').addEventListener('click', showMore);
$('results').tBodies[0].addEventListener('click', (event) => {
  const tr = event.target.closest('tr.row');
  if (tr) toggleDetail(tr);
});
$('results').tBodies[0].addEventListener('keydown', (event) => {
  const tr = event.target.closest('tr.row');
  if (tr && (event.key === 'Enter' || event.key === ' ')) {
    event.preventDefault();
    toggleDetail(tr);
  }
});
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

// Copy: the whole NDJSON, which the worker holds.
let copyReset = null;
$('copy').addEventListener('click', () => {
  clearTimeout(copyReset);
  if (!data) {
    copyStatus('Nothing to copy yet.', '');
    return;
  }
  worker.postMessage({ type: 'ndjson', job });
});

async function copyText(text) {
  let copied = false;
  try {
    await navigator.clipboard.writeText(text);
    copied = true;
  } catch {
    // No clipboard permission (file:// in some browsers): the copy command.
    const listener = (event) => {
      event.clipboardData.setData('text/plain', text);
      event.preventDefault();
    };
    document.addEventListener('copy', listener, { once: true });
    copied = document.execCommand('copy');
    document.removeEventListener('copy', listener);
  }
  const lines = text.split('\n').length - 1;
  if (copied) copyStatus(`Copied ${plural(lines, 'line')} (${bytes(text.length)}).`, 'ok');
  else copyStatus('Copy failed: select the text and press Ctrl+C.', 'failed');
}

function copyStatus(text, kind) {
  const status = $('copy-status');
  status.textContent = text;
  status.className = kind;
  copyReset = setTimeout(() => {
    status.textContent = '';
  }, 4000);
}

setBusy('decode', false);
startWorker();
