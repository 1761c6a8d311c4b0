// A large, realistic Kinesis event for the page's load tests: the kinds of
// lines a Gen3 commons ships (gen3 access logs from revproxy, fluentd-wrapped
// container lines, syslog text), CloudWatch-shaped envelopes gzip'd into
// Kinesis records. Deterministic.
import { gzipSync } from 'node:zlib';

const POD_HASH = '4f1c2a9e'.repeat(8);
const PODS = [
  { pod: 'revproxy-deployment-7d9f8c6b5-x2x9q', namespace: 'default', container: 'revproxy', access: true },
  { pod: 'fence-deployment-5b8c9d7f6-k4m2p', namespace: 'default', container: 'fence' },
  { pod: 'sheepdog-deployment-1767503258-n23ck', namespace: 'default', container: 'sheepdog' },
  { pod: 'peregrine-deployment-6c7d8e9f0-q1w2e', namespace: 'default', container: 'peregrine' },
];
const REQUESTS = ['/api/v0/submission/graphql', '/user/user', '/index/index?limit=10', '/guppy/graphql', '/_status', '/peregrine/_version'];
const VERBS = ['GET', 'GET', 'GET', 'POST', 'PUT'];
const STATUSES = [200, 200, 200, 200, 201, 304, 401, 404, 500];

function rng(seed) {
  let state = BigInt(seed);
  return (n) => {
    state = (state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number(state >> 33n) % n;
  };
}

/**
 * `requestId(n)` is the `n`-th event's request id (access logs only).
 */
export const requestId = (n) => `r${n.toString(16).padStart(8, '0')}`;

/**
 * `records` Kinesis records of `eventsPerRecord` events each (record `i`
 * is the `i % 4`-th pod's, revproxy's access logs for 0, 4, 8, ...; every
 * fifth record a login node's syslog); every `slowEvery`-th access log
 * takes more than 65 s (an alert with that threshold). Returns the
 * event's JSON text and what it holds.
 */
export function kinesisEvent({ records = 20, eventsPerRecord = 1000, seed = 7, slowEvery = 97 } = {}) {
  const next = rng(seed);
  const start = Date.UTC(2019, 2, 1, 17, 34, 34);
  let accessLogs = 0;
  let slow = 0;
  const out = [];
  for (let record = 0; record < records; record += 1) {
    // Every fifth record is a login node's syslog; the others, a pod's lines.
    const target = PODS[record % PODS.length];
    const stream = record % 5 !== 4
      ? `kubernetes.var.log.containers.${target.pod}_${target.namespace}_${target.container}-${POD_HASH}.log`
      : 'login_node-auth-ip-172-24-64-40';
    const logEvents = [];
    for (let event = 0; event < eventsPerRecord; event += 1) {
      const n = record * eventsPerRecord + event;
      const timestamp = start + n * 7;
      let message;
      if (stream.startsWith('login_node')) {
        message = `Mar  1 17:34:${String(n % 60).padStart(2, '0')} ip-172-24-64-40 sshd[${800 + next(100)}]: Accepted publickey for user${next(50)} from 10.0.${next(255)}.${next(255)}`;
      } else {
        let log;
        if (target.access) {
          accessLogs += 1;
          const isSlow = accessLogs % slowEvery === 0;
          if (isSlow) slow += 1;
          log = JSON.stringify({
            gen3log: 'nginx', date_access: new Date(timestamp).toISOString().replace(/\.\d+Z$/, '+00:00'),
            user_id: String(next(500)), request_id: requestId(n),
            network_client_ip: `192.0.2.${next(255)}`, response_secs: isSlow ? 65.5 + next(100) / 10 : next(3000) / 1000,
            http_status_code: STATUSES[next(STATUSES.length)], http_request: REQUESTS[next(REQUESTS.length)],
            http_verb: VERBS[next(VERBS.length)], http_referer: '-', http_useragent: 'Mozilla/5.0',
            http_upstream: 'sheepdog-service', message: 'request done',
          });
        } else {
          log = `[pid: ${next(90)}|app: 0|req: ${n}/${n + 10}] 10.2.2.${next(255)} () {32 vars in 412 bytes} [${new Date(timestamp).toUTCString()}] GET /${target.container}/item/${next(100000)} => generated ${next(5000)} bytes in ${next(40)} msecs (HTTP/1.1 200) 2 headers in 72 bytes`;
        }
        message = JSON.stringify({
          log: `${log}\n`, stream: 'stdout', docker: { container_id: POD_HASH },
          kubernetes: { container_name: target.container, namespace_name: target.namespace, pod_name: target.pod, pod_id: '9a3c5e2e-3c1d-11e9-b8a4-0a1b2c3d4e5f', labels: { app: target.container }, host: 'ip-172-24-66-74.ec2.internal' },
        });
      }
      logEvents.push({ id: `3480041234567890123456789012345678901234567890${String(n).padStart(10, '0')}`, timestamp, message });
    }
    const envelope = { messageType: 'DATA_MESSAGE', owner: '707767160287', logGroup: 'devplanetv1', logStream: stream, subscriptionFilters: ['devplanetv1_subscription'], logEvents };
    const sequenceNumber = `4958286330740931974109096215361473587722430120560951${String(record).padStart(4, '0')}`;
    out.push({
      kinesis: {
        kinesisSchemaVersion: '1.0', partitionKey: `partition-${record}`, sequenceNumber,
        data: gzipSync(JSON.stringify(envelope)).toString('base64'), approximateArrivalTimestamp: start / 1000 + record,
      },
      eventSource: 'aws:kinesis', eventVersion: '1.0', eventID: `shardId-000000000000:${sequenceNumber}`,
      eventName: 'aws:kinesis:record', invokeIdentityArn: 'arn:aws:iam::433568766270:role/lambda', awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:433568766270:stream/devplanetv1_stream',
    });
  }
  return { text: JSON.stringify({ Records: out }), events: records * eventsPerRecord, accessLogs, slow };
}
