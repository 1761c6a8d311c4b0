// @@header@@
//
// njs (0.7.9+) handler of the Firehose front (nginx.conf): Amazon Data
// Firehose HTTP endpoint delivery -> Fluent Bit in_http, one tag per commons.
//
// A delivery with more than PART_BYTES of records is posted in parts, one
// after another, each a delivery of its own with the same requestId and
// timestamp plus `firstRecordIndex` (where its first record sits in the
// delivery), which the decoder uses as the records' indexes. Fluent Bit
// holds each post whole, several times over, until its outputs are done with
// it: parts bound that memory however large Firehose's buffer is. Any other
// body (gzip, which njs 0.7 cannot inflate, or no Firehose delivery) is
// posted unchanged, and in_http inflates gzip.

// Commons served by this front: the Fluent Bit tag their deliveries get and
// the environment variable holding their Firehose access key.
var COMMONS = [
    // @@commons@@
];

// Record bytes (as JSON text) per part; 0 posts every delivery whole.
// @@part_bytes@@

// The bodies to post for this request: the delivery in parts, or null to
// post the body as it came.
function deliveryParts(r) {
    var encoding = r.headersIn['Content-Encoding'];
    var text = r.requestText;
    // requestText is undefined when nginx wrote the body to a file.
    if (PART_BYTES <= 0 || (encoding && encoding !== 'identity') || typeof text !== 'string'
        || text.length <= PART_BYTES) {
        return null;
    }
    var delivery;
    try {
        delivery = JSON.parse(text);
    } catch (e) {
        return null;
    }
    if (delivery === null || typeof delivery !== 'object' || !Array.isArray(delivery.records)
        || delivery.records.length < 2 || delivery.firstRecordIndex !== undefined) {
        return null;
    }
    var records = delivery.records;
    var parts = [];
    var first = 0;
    var bytes = 0;
    for (var i = 0; i < records.length; i++) {
        var size = JSON.stringify(records[i]).length;
        if (i > first && bytes + size > PART_BYTES) {
            parts.push(partText(delivery, first, i));
            first = i;
            bytes = 0;
        }
        bytes += size;
    }
    parts.push(partText(delivery, first, records.length));
    return parts;
}

// Records [first, end) of `delivery` as a delivery of their own.
function partText(delivery, first, end) {
    return JSON.stringify({
        requestId: delivery.requestId,
        timestamp: delivery.timestamp,
        firstRecordIndex: first,
        records: delivery.records.slice(first, end),
    });
}

// Posts `bodies` to Fluent Bit one after another, stopping at the first
// that is not accepted: resolves to its status (or the last one's) and, for
// the log, which part it was.
function postParts(r, uri, bodies) {
    var next = 0;
    function post() {
        var body = bodies[next++];
        return r.subrequest(uri, {method: 'POST', body: body}).then(function (reply) {
            if (accepted(reply.status) && next < bodies.length) {
                return post();
            }
            return {status: reply.status, what: ' (part ' + next + ' of ' + bodies.length + ')'};
        });
    }
    return post();
}

function accepted(status) {
    return status >= 200 && status < 300;
}

// Firehose's answer format: the request id echoed, the time in epoch ms and,
// on failure, a message (Firehose copies the last one to its S3 backup).
function answerText(requestId, errorMessage) {
    var body = {requestId: requestId, timestamp: Date.now()};
    if (errorMessage !== undefined) {
        body.errorMessage = errorMessage;
    }
    return JSON.stringify(body);
}

function answer(r, status, requestId, errorMessage) {
    r.headersOut['Content-Type'] = 'application/json';
    r.return(status, answerText(requestId, errorMessage));
}

// The 401 answer for a caller whose key matches no commons, logged.
function keyRefused(r, requestId) {
    // JSON-quoted so a hostile header cannot forge log lines.
    r.warn('firehose request ' + JSON.stringify(requestId) + ': access key missing or not valid for any commons');
    return answerText(requestId, 'access key missing or not valid');
}

// Comparison whose time does not depend on where the strings differ, so the
// key cannot be guessed byte by byte from answer times.
function sameKey(given, expected) {
    var diff = given.length ^ expected.length;
    for (var i = 0; i < expected.length; i++) {
        // Past the end of `given`, charCodeAt is NaN and NaN | 0 is 0.
        diff |= (given.charCodeAt(i) | 0) ^ expected.charCodeAt(i);
    }
    return diff === 0;
}

function commonsFor(key) {
    var found = [];
    for (var i = 0; i < COMMONS.length; i++) {
        var expected = process.env[COMMONS[i].keyEnv];
        // An unset or empty variable never matches, not even an empty key.
        if (expected && key && sameKey(key, expected)) {
            found.push(COMMONS[i]);
        }
    }
    return found;
}

function handle(r) {
    var requestId = r.headersIn['X-Amz-Firehose-Request-Id'] || '';
    // JSON-quoted so a hostile header cannot forge log lines.
    var rid = JSON.stringify(requestId);

    if (r.method !== 'POST') {
        r.headersOut['Allow'] = 'POST';
        answer(r, 405, requestId, 'method ' + r.method + ' not allowed: Firehose delivers with POST');
        return;
    }

    var found = commonsFor(r.headersIn['X-Amz-Firehose-Access-Key'] || '');
    if (found.length === 0) {
        // nginx.conf refuses these before reading the body (`refusal`);
        // this holds should that check not run.
        r.headersOut['Content-Type'] = 'application/json';
        r.return(401, keyRefused(r, requestId));
        return;
    }
    if (found.length > 1) {
        // Two commons configured with the same key: refusing (Firehose
        // retries, then backs up to S3) is better than guessing.
        r.error('firehose request ' + rid + ': access key matches several commons');
        answer(r, 500, requestId, 'access key is configured for several commons');
        return;
    }
    var commons = found[0];

    // A subrequest shares this request's headers, and its body unless given
    // one; nginx.conf's /_fluentbit/ location fixes Content-Type and drops
    // the access key. A delivery answered 500 after some of its parts were
    // accepted is retried whole by Firehose: search keeps one copy of each
    // document (its _id), the archive may hold those parts twice.
    var uri = '/_fluentbit/' + commons.tag;
    var parts = deliveryParts(r);
    var posted = parts === null
        ? r.subrequest(uri, {method: 'POST'}).then(function (reply) { return {status: reply.status, what: ''}; })
        : postParts(r, uri, parts);
    posted
        .then(function (reply) {
            if (accepted(reply.status)) {
                answer(r, 200, requestId);
                return;
            }
            // Anything else, 413 included, becomes 500: Firehose drops a
            // batch answered 413 and retries every other error.
            r.error('firehose request ' + rid + ' for ' + commons.name
                    + ': Fluent Bit answered HTTP ' + reply.status + reply.what);
            answer(r, 500, requestId, 'Fluent Bit answered HTTP ' + reply.status);
        })
        .catch(function (e) {
            r.error('firehose request ' + rid + ' for ' + commons.name + ': ' + e);
            answer(r, 500, requestId, 'could not pass the delivery to Fluent Bit');
        });
}

// js_set handler, evaluated in nginx.conf's rewrite phase, before nginx
// reads a byte of the body: the 401 answer for a POST whose access key
// matches no commons, or '' to go on. So nginx never buffers a body (up to
// 64 MiB, in memory) for a caller without a key.
function refusal(r) {
    if (r.method !== 'POST' || commonsFor(r.headersIn['X-Amz-Firehose-Access-Key'] || '').length > 0) {
        return '';
    }
    return keyRefused(r, r.headersIn['X-Amz-Firehose-Request-Id'] || '');
}

// js_set handler: the body nginx.conf answers with when it refuses a body
// larger than client_max_body_size itself.
function tooLarge(r) {
    return answerText(r.headersIn['X-Amz-Firehose-Request-Id'] || '', 'request body larger than this endpoint accepts');
}

export default {handle: handle, refusal: refusal, tooLarge: tooLarge};
