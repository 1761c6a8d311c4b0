// @@header@@
//
// njs (0.7.9+) handler of the Firehose front (nginx.conf): Amazon Data
// Firehose HTTP endpoint delivery -> Fluent Bit in_http, one tag per commons.
// The body is never parsed: it may be gzip, and in_http inflates it.

// Commons served by this front: the Fluent Bit tag their deliveries get and
// the environment variable holding their Firehose access key.
var COMMONS = [
    // @@commons@@
];

// Firehose's answer format: the request id echoed, the time in epoch ms and,
// on failure, a message (Firehose copies the last one to its S3 backup).
function answer(r, status, requestId, errorMessage) {
    var body = {requestId: requestId, timestamp: Date.now()};
    if (errorMessage !== undefined) {
        body.errorMessage = errorMessage;
    }
    r.headersOut['Content-Type'] = 'application/json';
    r.return(status, JSON.stringify(body));
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
        r.warn('firehose request ' + rid + ': access key missing or not valid for any commons');
        answer(r, 401, requestId, 'access key missing or not valid');
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

    // The subrequest shares this request's body and headers; nginx.conf's
    // /_fluentbit/ location fixes Content-Type and drops the access key.
    r.subrequest('/_fluentbit/' + commons.tag, {method: 'POST'})
        .then(function (reply) {
            if (reply.status >= 200 && reply.status < 300) {
                answer(r, 200, requestId);
                return;
            }
            // Anything else, 413 included, becomes 500: Firehose drops a
            // batch answered 413 and retries every other error.
            r.error('firehose request ' + rid + ' for ' + commons.name
                    + ': Fluent Bit answered HTTP ' + reply.status);
            answer(r, 500, requestId, 'Fluent Bit answered HTTP ' + reply.status);
        })
        .catch(function (e) {
            r.error('firehose request ' + rid + ' for ' + commons.name + ': ' + e);
            answer(r, 500, requestId, 'could not pass the delivery to Fluent Bit');
        });
}

// js_set handler: the body nginx.conf answers with when it refuses a body
// larger than client_max_body_size itself.
function tooLarge(r) {
    return JSON.stringify({
        requestId: r.headersIn['X-Amz-Firehose-Request-Id'] || '',
        timestamp: Date.now(),
        errorMessage: 'request body larger than this endpoint accepts',
    });
}

export default {handle: handle, tooLarge: tooLarge};
