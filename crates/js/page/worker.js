// The decoder page's worker: decodes off the page's thread and keeps the
// decoded entries, so a large payload never freezes the page. It runs in a
// classic worker made from a blob: URL, after wasm-bindgen's web glue
// (`initSync`, `decode`) and the module's bytes (`WASM_BASE64`); it
// inherits the page's Content-Security-Policy, so it cannot make a request
// either.
//
// Messages in:  {type: 'decode', job, input, options}
//               {type: 'query', job, seq, kinds, search, sort, start, count}
//               {type: 'record', job, index}
//               {type: 'ndjson', job}
// Messages out: {type: 'ready'} | {type: 'fatal', message}
//               {type: 'progress', job, stage, done, total}
//               {type: 'problem', job, message}       options refused
//               {type: 'decoded', job, counters, total, columns, day, ndjsonHead, lines, ms}
//               {type: 'view', job, seq, start, rows, matches}
//               {type: 'record', job, index, text}
//               {type: 'ndjson', job, text}
//
// The page holds only the rows it draws; the worker holds the rest.

const FIRST_PAGE = 200; // rows of the first view, sent with the decode
const CHUNK = 4000; // rows prepared between two looks at the message queue
const NDJSON_HEAD = 256 * 1024; // characters of NDJSON the page's box shows

let current = 0; // the job being decoded; a newer one cancels it
let model = null; // {job, rows, records, lines, ndjson, search, view: {seq, order}}

try {
  initSync({ module: Uint8Array.from(atob(WASM_BASE64), (char) => char.charCodeAt(0)) });
  postMessage({ type: 'ready' });
} catch (error) {
  postMessage({ type: 'fatal', message: `the decoder could not start: ${error.message ?? error}` });
}

self.onmessage = ({ data }) => {
  if (data.type === 'decode') {
    current = data.job;
    run(data).catch((error) => postMessage({ type: 'fatal', message: String(error?.stack ?? error) }));
    return;
  }
  if (model?.job !== data.job) return;
  if (data.type === 'query') {
    sendView(data);
  } else if (data.type === 'record') {
    postMessage({ type: 'record', job: data.job, index: data.index, text: pretty(model.lines[data.index]) });
  } else if (data.type === 'ndjson') {
    postMessage({ type: 'ndjson', job: data.job, text: model.ndjson });
  }
};

const yieldToMessages = () => new Promise((resolve) => setTimeout(resolve, 0));

async function run({ job, input, options }) {
  const started = performance.now();
  model = null;
  const size = typeof input === 'string' ? input.length : input.byteLength;
  postMessage({ type: 'progress', job, stage: 'decoding', done: 0, total: size });
  let result;
  try {
    result = decode(input, options);
  } catch (error) {
    postMessage({ type: 'problem', job, message: String(error?.message ?? error) });
    return;
  }
  if (job !== current) return;
  const { entries, counters, ndjson } = result;
  const context = contextOf(entries, counters, typeof input === 'string' ? input : null);
  const rows = new Array(entries.length);
  for (let start = 0; start < entries.length; start += CHUNK) {
    const end = Math.min(entries.length, start + CHUNK);
    for (let index = start; index < end; index += 1) rows[index] = rowOf(entries[index], index, context);
    if (entries.length > CHUNK) {
      postMessage({ type: 'progress', job, stage: 'rows', done: end, total: entries.length });
      await yieldToMessages();
      if (job !== current) return;
    }
  }
  const lines = ndjson.split('\n');
  lines.pop();
  model = { job, rows, records: entries.map((entry) => entry.record), lines, ndjson, search: null, view: null };
  const head = ndjson.length <= NDJSON_HEAD ? ndjson : ndjson.slice(0, ndjson.lastIndexOf('\n', NDJSON_HEAD) + 1);
  postMessage({
    type: 'decoded', job, counters, total: rows.length, columns: columnsOf(rows), day: dayOf(rows),
    ndjsonHead: head, lines: lines.length, ms: performance.now() - started,
  });
  sendView({ job, seq: 0, kinds: null, search: '', sort: null, start: 0, count: FIRST_PAGE });
  // What a search reads, prepared while the user looks at the rows.
  await prepareSearch(model);
}

// --- rows: the salient fields of each entry --------------------------------

const K8S_STREAM = /^kubernetes\.var\.log\.containers\.([^_]+)_([^_]+)_(.+?)(?:-([0-9a-f]{64}))?\.log$/;

/** What rows need to know about the whole payload. */
function contextOf(entries, counters, text) {
  const sequences = [];
  const ids = [];
  for (const entry of entries) {
    const record = entry.kind === 'alert' ? null : entry.record;
    const sequence = record?.kinesis?.sequenceNumber ?? record?.aws?.kinesis?.sequence_number;
    if (sequence) sequences.push(sequence);
    if (entry.kind === 'document') ids.push(entry.id);
  }
  return {
    sequencePrefix: commonPrefix(sequences),
    idPrefix: prefixByLength(ids),
    lastDocument: null,
  };
}

/**
 * How many leading characters all the values share, so each is shown by
 * the rest; with fewer than two distinct values, all of it (the caller
 * then keeps a short suffix).
 */
function commonPrefix(values) {
  const first = values[0] ?? '';
  let prefix = first.length;
  let distinct = false;
  for (const value of values) {
    if (value === first) continue;
    distinct = true;
    let same = 0;
    while (same < prefix && same < value.length && value[same] === first[same]) same += 1;
    prefix = same;
    if (prefix === 0) break;
  }
  return distinct ? prefix : first.length;
}

/** The shared prefix of ids of each length (an emulator's `66` does not make every id show whole). */
function prefixByLength(ids) {
  const groups = new Map();
  for (const id of ids) {
    if (!groups.has(id.length)) groups.set(id.length, []);
    groups.get(id.length).push(id);
  }
  return new Map([...groups].map(([length, group]) => [length, commonPrefix(group)]));
}

/** The message's fields: the parsed object, or one parsed from raw text (schema `cloudwatch`). */
function messageFields(message) {
  if (message && typeof message === 'object') return message;
  if (typeof message !== 'string' || message[0] !== '{') return null;
  try {
    const parsed = JSON.parse(message);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
    if (typeof parsed.log === 'string' && parsed.log.trimStart()[0] === '{') {
      try {
        const inner = JSON.parse(parsed.log);
        if (inner && typeof inner === 'object' && !Array.isArray(inner)) return { ...inner, ...parsed };
      } catch {
        // a log line that only looks like JSON
      }
    }
    return parsed;
  } catch {
    return null;
  }
}

function text(value) {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function rowOf(entry, index, context) {
  const row = {
    index, kind: entry.kind, id: entry.id, idShort: '', commons: entry.commons ?? '', time: entry.timeMs, arrival: false,
    record: '', recordTitle: '', recordKey: -1, source: '', sourceTitle: '', container: '',
    status: '', request: '', secs: '', secsKey: null, user: '', message: '', alerted: false, errorKind: '',
  };
  if (entry.kind === 'alert') {
    // Right after its document: the same record, pod and request.
    const document = context.lastDocument;
    if (document && document.id === entry.id) {
      document.alerted = true;
      for (const key of ['record', 'recordTitle', 'recordKey', 'source', 'sourceTitle', 'container', 'status', 'request', 'user', 'idShort']) row[key] = document[key];
    } else {
      row.idShort = shortId(entry.id, context);
    }
    row.alerted = true;
    row.secs = entry.record.seconds;
    row.secsKey = Number(entry.record.seconds);
    row.message = `Slow response: ${entry.record.seconds} s`;
    return row;
  }
  const record = entry.record;
  row.idShort = shortId(entry.id, context);
  placeRecord(row, entry, context);
  // gen3 and cloudwatch: logStream; ecs: aws.cloudwatch.log_stream.
  const stream = typeof record.logStream === 'string' ? record.logStream : text(record.aws?.cloudwatch?.log_stream);
  const logGroup = record.logGroup ?? record.aws?.cloudwatch?.log_group;
  const fields = entry.kind === 'document' ? messageFields(record.message) : null;
  const k8s = fields?.kubernetes && typeof fields.kubernetes === 'object' ? fields.kubernetes : null;
  const fromStream = K8S_STREAM.exec(stream);
  row.source = text(k8s?.pod_name) || fromStream?.[1] || stream;
  const pod = text(k8s?.pod_name) || fromStream?.[1];
  row.sourceTitle = [pod && `pod: ${pod}`, stream && `log stream: ${stream}`, k8s?.namespace_name && `namespace: ${text(k8s.namespace_name)}`, logGroup && `log group: ${logGroup}`]
    .filter(Boolean).join('\n');
  row.container = text(k8s?.container_name) || fromStream?.[3] || '';
  if (entry.kind === 'error') {
    row.errorKind = entry.error.kind;
    row.message = `${entry.error.kind}: ${entry.error.reason}`;
    row.arrival = entry.timeMs !== null && entry.timeMs === arrivalMs(record);
    return row;
  }
  context.lastDocument = row;
  if (fields) {
    const access = fields.gen3log !== undefined || fields.http_status_code !== undefined || fields.response_secs !== undefined;
    row.status = text(fields.http_status_code);
    row.request = [text(fields.http_verb), text(fields.http_request)].filter(Boolean).join(' ');
    const secs = fields.response_secs ?? fields.http_response_time;
    row.secs = text(secs);
    row.secsKey = secs === undefined || secs === null || secs === '' ? null : Number(secs);
    row.user = text(fields.user_id);
    if (access) {
      row.message = typeof fields.message === 'string' ? fields.message : '';
    } else if (typeof fields.log === 'string') {
      row.message = fields.log.replace(/\s+$/, '');
    } else {
      row.message = Object.entries(fields).filter(([key]) => !['kubernetes', 'docker', 'stream'].includes(key))
        .map(([key, value]) => `${key}=${text(value)}`).join(' ');
    }
  } else {
    row.message = text(record.message).replace(/\s+$/, '');
  }
  return row;
}

/** The record a row came from: its index, and its sequence number or request id. */
function placeRecord(row, entry, context) {
  const record = entry.record;
  const title = [];
  // Every entry says which record of the payload it came from.
  const index = Number.isInteger(entry.recordIndex) ? entry.recordIndex : null;
  // gen3 and cloudwatch: `kinesis`/`firehose`; ecs: `aws.kinesis`/`aws.firehose`.
  const kinesis = record.kinesis ?? record.aws?.kinesis;
  const firehose = record.firehose ?? record.aws?.firehose;
  const sequence = kinesis?.sequenceNumber ?? kinesis?.sequence_number;
  if (kinesis) {
    if (sequence) title.push(`sequenceNumber ${sequence}`);
    const partition = kinesis.partitionKey ?? kinesis.partition_key;
    if (partition) title.push(`partitionKey ${partition}`);
    const eventId = kinesis.eventID ?? kinesis.event_id;
    if (eventId) title.push(`eventID ${eventId}`);
  } else if (firehose) {
    const requestId = firehose.requestId ?? firehose.request_id;
    if (requestId) title.push(`Firehose requestId ${requestId}`);
  }
  const parts = [];
  if (index !== null) parts.push(`#${index}`);
  if (sequence) parts.push(`…${sequence.slice(-Math.max(6, sequence.length - context.sequencePrefix))}`);
  const error = record.error;
  if (error?.event_index !== undefined) parts.push(`ev ${error.event_index}`);
  else if (error?.envelope_index !== undefined && error.envelope_index > 0) parts.push(`env ${error.envelope_index}`);
  row.record = parts.join(' ');
  if (index !== null) title.unshift(`record ${index}`);
  if (error?.envelope_index !== undefined) title.push(`envelope ${error.envelope_index}`);
  if (error?.event_index !== undefined) title.push(`event ${error.event_index}`);
  row.recordTitle = title.join('\n');
  row.recordKey = index ?? -1;
}

function arrivalMs(record) {
  if (typeof record.kinesis?.approximateArrivalTimestamp === 'number') return Math.round(record.kinesis.approximateArrivalTimestamp * 1000);
  if (typeof record.firehose?.timestamp === 'number') return record.firehose.timestamp;
  return null;
}

/** An id by its distinguishing part: a CloudWatch id's suffix, an error id's start. */
function shortId(id, context) {
  if (id.startsWith('err-')) return id.length > 14 ? `${id.slice(0, 12)}…` : id;
  if (id.length <= 12) return id;
  const keep = Math.max(8, id.length - (context.idPrefix.get(id.length) ?? 0));
  return keep >= id.length - 1 ? id : `…${id.slice(-keep)}`;
}

/** Which optional columns have something to show. */
function columnsOf(rows) {
  const present = {};
  for (const key of ['container', 'status', 'request', 'secs', 'user']) present[key] = rows.some((row) => row[key] !== '');
  const commons = new Set(rows.map((row) => row.commons).filter(Boolean));
  present.commons = commons.size > 1;
  return present;
}

/** The UTC day every timed row falls on, if there is one. */
function dayOf(rows) {
  let day = null;
  for (const row of rows) {
    if (row.time === null) continue;
    const date = new Date(row.time).toISOString().slice(0, 10);
    if (day === null) day = date;
    else if (day !== date) return null;
  }
  return day;
}

// --- search, filter, sort ---------------------------------------------------

/**
 * Each row's decoded values, one per line (so a phrase never spans two
 * fields): strings as they are, not as escaped JSON. `cased` for a quoted
 * phrase (matched as typed), `lower` for words (any case). Prepared in
 * chunks after a decode; a search that comes first finishes it at once.
 */
function searchText(m) {
  if (!m.search) m.search = { cased: new Array(m.rows.length), lower: new Array(m.rows.length), ready: 0 };
  fillSearch(m, m.rows.length);
  return m.search;
}

function fillSearch(m, end) {
  const search = m.search;
  for (; search.ready < end; search.ready += 1) {
    const index = search.ready;
    const row = m.rows[index];
    const values = [row.kind, row.record, row.message];
    collect(m.records[index], values);
    search.cased[index] = values.join('\n');
    search.lower[index] = search.cased[index].toLowerCase();
  }
}

async function prepareSearch(m) {
  if (!m.search) m.search = { cased: new Array(m.rows.length), lower: new Array(m.rows.length), ready: 0 };
  while (m.search.ready < m.rows.length) {
    fillSearch(m, Math.min(m.rows.length, m.search.ready + CHUNK));
    await yieldToMessages();
    if (model !== m) return;
  }
}

function collect(value, out) {
  if (value === null || value === undefined) return;
  if (typeof value === 'object') {
    for (const key in value) collect(value[key], out);
  } else {
    out.push(String(value));
  }
}

/** `words "a phrase"`: every word (any case) and every phrase (as typed) must occur. */
function parseQuery(search) {
  const phrases = [];
  const words = [];
  const pattern = /"([^"]*)"?|(\S+)/g;
  let match;
  while ((match = pattern.exec(search)) !== null) {
    if (match[1] !== undefined) {
      if (match[1] !== '') phrases.push(match[1]);
    } else {
      words.push(match[2].toLowerCase());
    }
  }
  return { phrases, words };
}

const SORT_KEYS = {
  kind: (row) => row.kind,
  time: (row) => row.time,
  record: (row) => (row.recordKey >= 0 ? row.recordKey : null),
  commons: (row) => row.commons || null,
  source: (row) => row.source || null,
  container: (row) => row.container || null,
  status: (row) => (row.status === '' ? null : Number(row.status)),
  request: (row) => row.request || null,
  secs: (row) => row.secsKey,
  user: (row) => row.user || null,
  message: (row) => row.message || null,
  id: (row) => row.id,
};

/** The rows of a view (filter, search, sort) from `start`, and how many match. */
function sendView({ job, seq, kinds, search, sort, start, count }) {
  if (model.view?.seq !== seq) model.view = { seq, order: orderOf(kinds, search, sort) };
  const { order } = model.view;
  const rows = [];
  for (let position = start; position < Math.min(order.length, start + count); position += 1) rows.push(model.rows[order[position]]);
  postMessage({ type: 'view', job, seq, start, rows, matches: order.length });
}

function orderOf(kinds, search, sort) {
  const rows = model.rows;
  const { phrases, words } = parseQuery(search ?? '');
  const text = phrases.length || words.length ? searchText(model) : null;
  let order = [];
  for (let index = 0; index < rows.length; index += 1) {
    if (kinds && !kinds[rows[index].kind]) continue;
    if (text) {
      const cased = text.cased[index];
      const lower = text.lower[index];
      if (!phrases.every((phrase) => cased.includes(phrase)) || !words.every((word) => lower.includes(word))) continue;
    }
    order.push(index);
  }
  if (sort && SORT_KEYS[sort.key]) {
    const key = SORT_KEYS[sort.key];
    const direction = sort.descending ? -1 : 1;
    const empty = (value) => value === null || value === undefined || Number.isNaN(value);
    const keyed = order.map((index) => [key(rows[index]), index]);
    keyed.sort(([a, ai], [b, bi]) => {
      // Empty values last either way; ties keep input order.
      if (empty(a) || empty(b)) return empty(a) === empty(b) ? ai - bi : empty(a) ? 1 : -1;
      if (a < b) return -direction;
      if (a > b) return direction;
      return ai - bi;
    });
    order = keyed.map(([, index]) => index);
  }
  return order;
}

// --- the detail view: the entry's own text, indented ------------------------

/**
 * Indents one JSON text without parsing it, so numbers keep every digit
 * (JSON.parse would round integers beyond 2^53).
 */
function pretty(json) {
  let out = '';
  let depth = 0;
  let inString = false;
  const newline = () => `\n${'  '.repeat(depth)}`;
  for (let i = 0; i < json.length; i += 1) {
    const char = json[i];
    if (inString) {
      out += char;
      if (char === '\\') {
        out += json[i + 1];
        i += 1;
      } else if (char === '"') {
        inString = false;
      }
      continue;
    }
    if (char === '"') {
      inString = true;
      out += char;
    } else if (char === '{' || char === '[') {
      const close = char === '{' ? '}' : ']';
      if (json[i + 1] === close) {
        out += char + close;
        i += 1;
      } else {
        depth += 1;
        out += char + newline();
      }
    } else if (char === '}' || char === ']') {
      depth -= 1;
      out += newline() + char;
    } else if (char === ',') {
      out += `,${newline()}`;
    } else if (char === ':') {
      out += ': ';
    } else {
      out += char;
    }
  }
  return out;
}
