"""End to end with AWS-made payloads: the generated AWS half deployed on
moto_server, CloudWatch Logs events put into every commons' log group,
moto's subscription writing real gzip records into the commons' Kinesis
stream, Firehose deliveries of those records through the generated nginx
front, decoded by the component (through the Python host) with the options
of the generated Fluent Bit config.

What is real and what stands in:

| step | here |
|---|---|
| CSOC stack | moto's CloudFormation creates from the generated template the types it supports (Kinesis stream, log group, IAM roles, bucket); boto3 creates the others from the same template's resolved properties (moto_support.py): bucket policy (`put_bucket_policy`), CloudWatch Logs destination + its policy (`put_destination`, `put_destination_policy`), the access-key secret (`get_random_password` + `create_secret`, as GenerateSecretString does), the Firehose log streams (`create_log_stream`), the Firehose role policy (`put_role_policy`), the Firehose delivery stream (`create_delivery_stream`, Kinesis source + HTTP endpoint, validated by botocore against the API model) |
| child stack | the commons' log group is created (the seed's log group exists before the stack); the subscription filter is made with `put_subscription_filter` from the child template's properties (its name and empty pattern), but **to the Kinesis stream, not to the Logs destination**: moto cannot subscribe a log group to a destination ARN (it looks the ARN up as a log group), so the CloudWatch Logs role of the CSOC stack is given as the subscription's role, as AWS requires for a direct stream subscription |
| accounts | one moto account, the CSOC's: moto delivers a subscription only to a stream of the log group's own account, so the child's log group lives there too |
| subscription → stream | moto (real gzip records, one per `put_log_events` call) |
| stream → Firehose → front | **a pump standing in for Firehose's Kinesis source**: moto's Firehose never reads a Kinesis source. The pump reads the delivery stream's configuration from moto (source stream, content encoding, the secret holding the access key), reads every shard (`get_shard_iterator`, `get_records`, keeping its place like Firehose's checkpoint) and POSTs HTTP endpoint deliveries as Firehose does (JSON body `{"requestId", "timestamp", "records": [{"data"}]}`, gzip, `X-Amz-Firehose-Request-Id`, `X-Amz-Firehose-Access-Key`) to the front on 127.0.0.1 instead of the public URL the stream names |
| front | the generated nginx.conf + firehose.js in Debian's nginx with njs, TLS with a throw-away certificate (test_front.py's Front) |
| Fluent Bit | a stand-in for in_http and the filters ahead of the wasm filter (fluent_bit_standin.py), decoding with the component through python/gen3_cwlogs |

moto's payloads differ from AWS's: event ids are small integers in the JSON
(AWS: 56-digit strings), so the decoder must keep them digit for digit as
strings; no CONTROL_MESSAGE is ever sent (AWS sends one when a
subscription is made); filter patterns are ignored (the generated pattern
is empty, every event, so it makes no difference here). The hand-made
AWS-shaped fixtures in tests/fixtures cover what moto does not send.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import os
import re
import shutil
import time
import uuid
from types import SimpleNamespace

import pytest

from cfn import Stack
from fluent_bit_standin import DecodingInHttp
from moto_support import MOTO_CFN_TYPES, Clients, DeployedStack, MotoServer, deploy_csoc, free_port
from support import GENERATED, example_data, missing_tool
from test_front import NGINX, Front, nginx_modules_dir, part_bytes

AWS = GENERATED / "aws"
DATA = example_data()
CSOC_ACCOUNT = DATA["aws"]["csoc_account_id"]
COMMONS = [c["name"] for c in DATA["commons"]]
# What the end-to-end run counted, printed at the end (`pytest -s`).
COUNTS: dict[str, int] = {}


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def tag_of(name: str) -> str:
    return "cwlogs." + re.sub(r"[^A-Za-z0-9_.]", "_", name)


def iso_ms(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


# --------------------------------------------------------------------------
# the deployment


class E2EFront(Front):
    """test_front.py's front with the access keys read from moto's secrets."""

    def __init__(self, root, port, keys):
        super().__init__(root, SimpleNamespace(port=port))
        self.keys = keys

    def env(self):
        return {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), **self.keys}


class Deployment:
    def __init__(self, moto: MotoServer):
        self.moto = moto
        self.commons: dict[str, SimpleNamespace] = {}

    def deploy(self, entry: dict):
        name, region = entry["name"], entry["region"]
        aws = Clients(self.moto, CSOC_ACCOUNT, region)
        csoc_params = load(AWS / name / "csoc.parameters.json")
        child_params = load(AWS / name / "child.parameters.json")
        plain = lambda params: {p["ParameterKey"]: p["ParameterValue"] for p in params}  # noqa: E731
        csoc = DeployedStack(load(AWS / "csoc.template.json"), plain(csoc_params), CSOC_ACCOUNT, region)
        how = deploy_csoc(aws, csoc, f"cwlogs-{name}", csoc_params)

        # The child stack: its one resource, the subscription filter.
        child = Stack(load(AWS / "child.template.json"), plain(child_params), CSOC_ACCOUNT, region)
        (subscription_id,) = child.resources
        sub = child.properties(subscription_id)
        aws.logs.create_log_group(logGroupName=sub["LogGroupName"])
        # moto: to the stream (see the module's docstring), with the role
        # CloudWatch Logs assumes to write to it.
        aws.logs.put_subscription_filter(
            logGroupName=sub["LogGroupName"], filterName=sub["FilterName"], filterPattern=sub["FilterPattern"],
            destinationArn=csoc.get_att("Stream", "Arn"), roleArn=csoc.get_att("LogsToStreamRole", "Arn"))
        how[subscription_id] = "boto3 (to the stream)"

        secret = aws.secretsmanager.get_secret_value(SecretId=csoc.ref("AccessKey"))
        self.commons[name] = SimpleNamespace(
            entry=entry, aws=aws, csoc=csoc, child=child, how=how, subscription=sub,
            key=json.loads(secret["SecretString"])["api_key"],
            delivery_stream=csoc.properties("DeliveryStream")["DeliveryStreamName"])


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    try:
        import boto3  # noqa: F401
        import moto as moto_package  # noqa: F401
        import flask  # noqa: F401 (moto_server needs moto[server])
    except ImportError:
        missing_tool("moto_server is not installed (pip install 'moto[server]>=5.2,<5.3')")
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def deployment(moto):
    d = Deployment(moto)
    for entry in DATA["commons"]:
        d.deploy(entry)
    return d


@pytest.fixture(scope="module")
def decoder():
    try:
        import wasmtime  # noqa: F401
    except ImportError:
        missing_tool("wasmtime-py is not installed (pip install wasmtime==49.0.0)")
    from gen3_cwlogs import Decoder
    from host_support import component_file

    return Decoder(component_file())


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, deployment, decoder):
    """The generated front (keys from moto's secrets) in front of the
    decoding in_http stand-in, both on 127.0.0.1, stopped at the end."""
    if not os.access(NGINX, os.X_OK) or nginx_modules_dir() is None or shutil.which("openssl") is None:
        missing_tool("nginx with njs and openssl are needed (apt-get install nginx libnginx-mod-http-js openssl)")
    keys = {c.entry["firehose_access_key_env"]: c.key for c in deployment.commons.values()}
    port = free_port()
    front = E2EFront(tmp_path_factory.mktemp("front"), port, keys)
    front.prepare()
    standin = DecodingInHttp(decoder, front.conf.parent.parent / "fluent-bit" / "fluent-bit.yaml", port)
    standin.start()
    try:
        front.start()
        try:
            yield SimpleNamespace(front=front, standin=standin)
        finally:
            front.stop()
    finally:
        standin.stop()


# --------------------------------------------------------------------------
# the pump: Firehose's Kinesis source and HTTP endpoint delivery


class Pump:
    """Stands in for the one AWS step moto cannot run: Firehose reading its
    Kinesis source and delivering to the HTTP endpoint. Everything it uses
    comes from the delivery stream moto holds (made from the template)."""

    def __init__(self, commons: SimpleNamespace, front: Front):
        aws = commons.aws
        self.aws, self.front = aws, front
        desc = aws.firehose.describe_delivery_stream(DeliveryStreamName=commons.delivery_stream)["DeliveryStreamDescription"]
        assert desc["DeliveryStreamType"] == "KinesisStreamAsSource"
        self.arn = desc["DeliveryStreamARN"]
        self.source = desc["Source"]["KinesisStreamSourceDescription"]["KinesisStreamARN"]
        (dest,) = desc["Destinations"]
        http = dest["HttpEndpointDestinationDescription"]
        self.encoding = http["RequestConfiguration"]["ContentEncoding"]
        self.buffer_bytes = http["BufferingHints"]["SizeInMBs"] << 20
        secret = aws.secretsmanager.get_secret_value(SecretId=http["SecretsManagerConfiguration"]["SecretARN"])
        self.key = json.loads(secret["SecretString"])["api_key"]
        self.iterators: dict[str, str] = {}

    def read(self) -> list[bytes]:
        """Every record added to the stream since the last read, shard by
        shard (Firehose keeps a checkpoint per shard)."""
        records = []
        for shard in self.aws.kinesis.list_shards(StreamARN=self.source)["Shards"]:
            sid = shard["ShardId"]
            iterator = self.iterators.get(sid) or self.aws.kinesis.get_shard_iterator(
                StreamARN=self.source, ShardId=sid, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while True:
                got = self.aws.kinesis.get_records(StreamARN=self.source, ShardIterator=iterator, Limit=1000)
                iterator = got["NextShardIterator"]
                records += [r["Data"] for r in got["Records"]]
                if not got["Records"]:
                    break
            self.iterators[sid] = iterator
        return records

    def deliveries(self, records: list[bytes], per_delivery: int) -> list[list[bytes]]:
        """Records batched as Firehose buffers them: at most the buffer size
        of record data per delivery, and at most `per_delivery` records (so
        a few records make several deliveries)."""
        batches, batch, size = [], [], 0
        for data in records:
            if batch and (len(batch) == per_delivery or size + len(data) > self.buffer_bytes):
                batches.append(batch)
                batch, size = [], 0
            batch.append(data)
            size += len(data)
        return batches + ([batch] if batch else [])

    def post(self, records: list[str], key: str | None = None) -> tuple[int, dict, str]:
        """One HTTP endpoint delivery of `records` (base64 texts, as Firehose
        puts each record's data). Returns (status, answer, request id)."""
        request_id = str(uuid.uuid4())
        body = json.dumps({"requestId": request_id, "timestamp": int(time.time() * 1000),
                           "records": [{"data": data} for data in records]}).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "Amazon Kinesis Data Firehose Agent/1.0",
                   "X-Amz-Firehose-Protocol-Version": "1.0", "X-Amz-Firehose-Request-Id": request_id,
                   "X-Amz-Firehose-Source-Arn": self.arn, "X-Amz-Firehose-Access-Key": self.key if key is None else key}
        if self.encoding == "GZIP":
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        status, _, answer = self.front.post(body, headers)
        return status, json.loads(answer) if answer else {}, request_id


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def envelope(data: bytes) -> dict:
    return json.loads(gzip.decompress(data))


# --------------------------------------------------------------------------
# the log events


def access_log(path: str, secs: float) -> dict:
    return {"gen3log": "nginx", "date_access": "2026-12-01T10:00:00+00:00", "user_id": "-1", "request_id": uuid.uuid4().hex,
            "network_client_ip": "192.0.2.10", "response_secs": secs, "http_status_code": 200,
            "http_request": f"{path}?token=secret", "http_verb": "GET", "http_referer": "https://data.example.org/x?y=z",
            "proxy_service": "peregrine"}


def kubernetes_line(pod: str, log: str) -> str:
    return json.dumps({"log": log + "\n", "stream": "stdout", "docker": {"container_id": uuid.uuid4().hex},
                       "kubernetes": {"container_name": pod.split("-")[0], "namespace_name": "default", "pod_name": pod}})


def batches_for(name: str) -> list[tuple[str, list[str], list[float]]]:
    """(log stream, messages, response times of its access logs) per
    put_log_events call: Kubernetes lines with access logs (slow and fast),
    plain Kubernetes lines, plain text (non-ASCII, not JSON), an access log
    straight in the message, and a larger batch."""
    revproxy = f"revproxy-deployment-7d9f8c6b5-{name}"
    sheepdog = f"kubernetes.var.log.containers.sheepdog-deployment-1767503258-{name}.log"
    return [
        (revproxy, [kubernetes_line(revproxy, json.dumps(access_log("/api/v0/submission/graphql", s))) for s in (0.25, 70.512, 31.0)],
         [0.25, 70.512, 31.0]),
        (revproxy, [kubernetes_line(revproxy, json.dumps(access_log("/user/user", 1.5)))], [1.5]),
        (sheepdog, [kubernetes_line(sheepdog, f"[pid: 28|app: 0|req: {i}/2826] GET /_status => generated 7 bytes") for i in range(4)], []),
        ("syslog-host", ["naïve café ✓ — plain text", "not json {", json.dumps(access_log("/index", 80.0)), " "], [80.0]),
        (sheepdog, [kubernetes_line(sheepdog, f"line {i} " + "x" * (i % 50)) for i in range(150)], []),
    ]


def expected_alerts(entry: dict, batches) -> int:
    """The alert rule of the commons list (README): a threshold, a response
    time greater than it, and a stream holding one of the alert streams
    (or any stream when none are listed)."""
    if entry.get("threshold") is None:
        return 0
    threshold = float(entry["threshold"])
    streams = entry.get("alert_streams") or []
    return sum(1 for stream, _, secs in batches for s in secs
               if s > threshold and (not streams or any(part in stream for part in streams)))


def put_batches(commons: SimpleNamespace, batches, start_ms: int) -> list[dict]:
    """put_log_events per batch; returns what was put, with moto's ids."""
    group = commons.subscription["LogGroupName"]
    logs = commons.aws.logs
    put = []
    t = start_ms
    for stream, messages, _ in batches:
        if stream not in {s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"]}:
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
        events = []
        for message in messages:
            t += 137  # distinct, with milliseconds
            events.append({"timestamp": t, "message": message})
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
        put += [{**e, "logStream": stream} for e in events]
    # moto's event ids, as CloudWatch Logs reports them.
    found = logs.filter_log_events(logGroupName=group, startTime=start_ms, endTime=t + 1)["events"]
    ids = {(e["logStreamName"], e["timestamp"], e["message"]): e["eventId"] for e in found}
    for event in put:
        event["id"] = ids[(event["logStream"], event["timestamp"], event["message"])]
    return put


def documents_of(requests: list[dict], kind: str = "document") -> list[dict]:
    return [json.loads(entry["json"]) for r in requests for entry in r["output"]["entries"] if entry["kind"] == kind]


# --------------------------------------------------------------------------
# the tests


def test_every_resource_of_both_templates_exists_on_moto(deployment):
    for name, c in deployment.commons.items():
        kinds = {lid: r["Type"] for lid, r in {**c.csoc.resources, **c.child.resources}.items()}
        assert set(c.how) == set(kinds), "every resource was created, one way or the other"
        by_cfn = {lid for lid, how in c.how.items() if how == "cloudformation"}
        assert by_cfn == {lid for lid, kind in kinds.items() if kind in MOTO_CFN_TYPES}
        stack = c.aws.cloudformation.describe_stack_resources(StackName=f"cwlogs-{name}")["StackResources"]
        assert {r["LogicalResourceId"]: r["ResourceStatus"] for r in stack} == {lid: "CREATE_COMPLETE" for lid in by_cfn}
        # The names and ARNs tests/cfn.py computes are those moto gave.
        stream = c.aws.kinesis.describe_stream_summary(StreamName=c.csoc.properties("Stream")["Name"])["StreamDescriptionSummary"]
        assert stream["StreamARN"] == c.csoc.get_att("Stream", "Arn")
        assert stream["OpenShardCount"] == int(c.entry.get("shard_count", 1))
        for role in ("LogsToStreamRole", "FirehoseRole"):
            got = c.aws.iam.get_role(RoleName=c.csoc.properties(role)["RoleName"])["Role"]
            assert got["Arn"] == c.csoc.get_att(role, "Arn")
        assert c.aws.iam.list_role_policies(RoleName=c.csoc.properties("FirehoseRole")["RoleName"])["PolicyNames"] == ["firehose-delivery"]
        bucket = c.csoc.properties("Bucket")["BucketName"]
        assert json.loads(c.aws.s3.get_bucket_policy(Bucket=bucket)["Policy"]) == c.csoc.properties("BucketPolicy")["PolicyDocument"]
        (dest,) = c.aws.logs.describe_destinations(DestinationNamePrefix=c.csoc.properties("Destination")["DestinationName"])["destinations"]
        assert dest["arn"] == c.csoc.get_att("Destination", "Arn") and dest["targetArn"] == stream["StreamARN"]
        assert json.loads(dest["accessPolicy"])["Statement"][0]["Principal"] == {"AWS": c.entry["child_account_id"]}
        assert re.fullmatch(r"[A-Za-z0-9]{40}", c.key), "the generated access key: 40 letters and digits"
        (sub,) = c.aws.logs.describe_subscription_filters(logGroupName=name)["subscriptionFilters"]
        assert (sub["filterName"], sub["filterPattern"]) == (f"{name}_subscription", "")


@pytest.fixture(scope="module")
def first_round(deployment, pipeline):
    """Every commons: events put, the stream pumped through the front."""
    start = int(time.time() * 1000) - 3_600_000
    rounds = {}
    for name, c in deployment.commons.items():
        batches = batches_for(name)
        before = len(pipeline.standin.requests)
        put = put_batches(c, batches, start)
        pump = Pump(c, pipeline.front)
        records = pump.read()
        answers = []
        for delivery in pump.deliveries(records, per_delivery=3):
            answers.append((pump.post([b64(d) for d in delivery]), len(delivery)))
        rounds[name] = SimpleNamespace(c=c, pump=pump, batches=batches, put=put, records=records, answers=answers,
                                       requests=pipeline.standin.requests[before:])
    return rounds


def test_the_records_are_moto_made_gzip_envelopes(first_round):
    for name, r in first_round.items():
        assert len(r.records) == len(r.batches), "one record per put_log_events call"
        envelopes = [envelope(data) for data in r.records]
        # moto's differences from AWS, which the decoder must take: ids are
        # JSON integers, no CONTROL_MESSAGE.
        assert {e["messageType"] for e in envelopes} == {"DATA_MESSAGE"}
        assert all(isinstance(event["id"], int) for e in envelopes for event in e["logEvents"])
        assert {e["logGroup"] for e in envelopes} == {name}
        assert {tuple(e["subscriptionFilters"]) for e in envelopes} == {(f"{name}_subscription",)}
        assert {e["owner"] for e in envelopes} == {CSOC_ACCOUNT}


def test_every_event_put_is_exactly_one_document(first_round, pipeline):
    assert pipeline.standin.failures == []
    totals = dict.fromkeys(("events", "records", "deliveries", "documents", "alerts", "errors", "control_messages"), 0)
    for name, r in first_round.items():
        entry = r.c.entry
        # Every delivery answered as Firehose needs: 200, its request id.
        for (status, answer, request_id), _ in r.answers:
            assert status == 200 and answer["requestId"] == request_id
        assert len(r.requests) == len(r.answers)
        assert {req["tag"] for req in r.requests} == {tag_of(name)}
        assert not any(k.lower() == "x-amz-firehose-access-key" for req in r.requests for k in req["headers"])
        # The options came from the generated Fluent Bit config's modify filter.
        options = r.requests[0]["options"]
        assert options.get("commons") == name
        assert options.get("slow_threshold_secs") == (float(entry["threshold"]) if "threshold" in entry else None)
        assert options.get("alert_streams") == entry.get("alert_streams")

        docs = documents_of(r.requests)
        by_id = {}
        for doc in docs:
            assert doc["id"] not in by_id, f"{name}: event {doc['id']} decoded twice"
            by_id[doc["id"]] = doc
        assert len(docs) == len(r.put)
        for event in r.put:
            doc = by_id.pop(event["id"])  # the event's own id, digit for digit (a string)
            assert doc["id"] == event["id"] and event["id"].isdigit()
            assert doc["commons"] == name and doc["logGroup"] == name and doc["logStream"] == event["logStream"]
            assert doc["timestamp"] == iso_ms(event["timestamp"])
            assert doc["subscriptionFilters"] == [r.c.subscription["FilterName"]]
            try:
                sent = json.loads(event["message"])
            except ValueError:
                sent = None
            if isinstance(sent, dict):
                assert {k: doc["message"][k] for k in sent} == sent
            else:
                assert doc["message"] == {"log": event["message"]}
            assert doc["firehose"]["requestId"] in {a[0][2] for a in r.answers}
        assert by_id == {}
        assert documents_of(r.requests, "error") == []
        alerts = documents_of(r.requests, "alert")
        assert len(alerts) == expected_alerts(entry, r.batches)
        assert {a["alert"]["commons"] for a in alerts} <= {name}
        counters = [req["output"]["counters"] for req in r.requests]
        assert sum(c["records"] for c in counters) == len(r.records)
        assert sum(c["control_messages"] for c in counters) == 0
        totals["events"] += len(r.put)
        totals["records"] += len(r.records)
        totals["deliveries"] += len(r.answers)
        totals["documents"] += len(docs)
        totals["alerts"] += len(alerts)
        totals["errors"] += sum(c["errors"] for c in counters)
        totals["control_messages"] += sum(c["control_messages"] for c in counters)
    assert totals["alerts"] > 0, "the generated thresholds reached the decoder"
    COUNTS.update({f"first round {k}": v for k, v in totals.items()})
    COUNTS["commons"] = len(first_round)


def test_a_wrong_access_key_is_refused_and_nothing_is_decoded(first_round, pipeline):
    r = first_round[COMMONS[0]]
    put = put_batches(r.c, [("late-stream", ["after the first round"], [])], int(time.time() * 1000) - 60_000)
    records = r.pump.read()
    assert len(records) == 1
    before = len(pipeline.standin.requests)
    for key in ("not-the-key", r.c.key.upper() if r.c.key.upper() != r.c.key else r.c.key.lower(), ""):
        status, answer, _ = r.pump.post([b64(records[0])], key=key)
        assert status == 401, answer
    assert len(pipeline.standin.requests) == before, "a refused delivery never reaches the decoder"
    # Firehose retries with the right key: nothing was lost.
    status, _, _ = r.pump.post([b64(records[0])])
    assert status == 200
    (doc,) = documents_of(pipeline.standin.requests[before:])
    assert doc["id"] == put[0]["id"] and doc["commons"] == COMMONS[0]
    COUNTS["wrong keys refused"] = 3


def test_a_corrupted_record_is_an_error_document_and_its_neighbours_decode(first_round, pipeline):
    r = first_round[COMMONS[1]]
    batches = [("before", ["neighbour 1", "neighbour 2"], []), ("corrupt-me", ["lost 1", "lost 2", "lost 3"], []),
               ("after", ["neighbour 3"], [])]
    put = put_batches(r.c, batches, int(time.time() * 1000) - 30_000)
    records = r.pump.read()
    assert len(records) == 3
    victim = next(i for i, data in enumerate(records) if envelope(data)["logStream"] == "corrupt-me")
    # One byte of the deflate data flipped: gzip's CRC (or the inflater) fails.
    broken = bytearray(records[victim])
    broken[len(broken) // 2] ^= 0xFF
    sent = [b64(d) for d in records]
    sent[victim] = b64(bytes(broken))
    before = len(pipeline.standin.requests)
    status, _, request_id = r.pump.post(sent)
    assert status == 200, "a bad record costs only itself: the delivery is accepted"
    requests = pipeline.standin.requests[before:]
    (error,) = documents_of(requests, "error")
    assert error["error"]["kind"] == "gzip" and error["error"]["record_index"] == victim
    assert error["commons"] == COMMONS[1]
    assert error["raw_encoding"] == "text" and error["raw_data"] == sent[victim], "the record's data exactly as received"
    assert error["firehose"]["requestId"] == request_id
    # Its events are not lost: the raw data, repaired, holds every one of them.
    repaired = bytearray(base64.b64decode(error["raw_data"]))
    repaired[len(repaired) // 2] ^= 0xFF
    assert [e["message"] for e in envelope(bytes(repaired))["logEvents"]] == ["lost 1", "lost 2", "lost 3"]
    docs = documents_of(requests)
    assert sorted(d["id"] for d in docs) == sorted(e["id"] for e in put if e["logStream"] != "corrupt-me")
    (counters,) = [req["output"]["counters"] for req in requests]
    assert (counters["records"], counters["records_failed"], counters["documents"]) == (3, 1, 3)
    COUNTS["corrupted records"] = 1
    COUNTS["corruption round documents"] = len(docs)


def test_a_large_delivery_goes_to_fluent_bit_in_parts_and_decodes_as_one(first_round, pipeline):
    r = first_round[COMMONS[0]]
    # Incompressible messages keep each record (one put_log_events call)
    # about 16 KB of base64: the delivery passes front.part_bytes twice over.
    batches = [(f"large-{i}", [f"event {i} " + b64(os.urandom(12_000))], []) for i in range(20)]
    put = put_batches(r.c, batches, int(time.time() * 1000) - 20_000)
    records = r.pump.read()
    assert len(records) == len(batches)
    index_of = {envelope(data)["logStream"]: i for i, data in enumerate(records)}
    victim = index_of["large-17"]
    broken = bytearray(records[victim])
    broken[len(broken) // 2] ^= 0xFF
    sent = [b64(d) for d in records]
    sent[victim] = b64(bytes(broken))
    assert sum(len(json.dumps({"data": s})) for s in sent) > 2 * part_bytes(pipeline.front)
    before = len(pipeline.standin.requests)
    status, _, request_id = r.pump.post(sent)
    assert status == 200
    requests = pipeline.standin.requests[before:]
    assert len(requests) >= 3, "posted in parts"
    # Each record keeps its index in the delivery Firehose sent, whichever part carried it.
    docs = documents_of(requests)
    assert sorted(d["id"] for d in docs) == sorted(e["id"] for e in put if e["logStream"] != "large-17")
    for doc in docs:
        assert doc["firehose"] == {"requestId": request_id, "timestamp": doc["firehose"]["timestamp"],
                                   "recordIndex": index_of[doc["logStream"]]}
    (error,) = documents_of(requests, "error")
    assert error["error"]["record_index"] == victim and error["raw_data"] == sent[victim]
    assert error["error"]["reason"].startswith(f"Firehose record {victim} of request {request_id}:")
    assert sum(req["output"]["counters"]["records"] for req in requests) == len(records)
    COUNTS["parts of the large delivery"] = len(requests)


def test_zz_counts(first_round):
    """Prints what the run counted (`pytest -s`); runs last in this module."""
    assert COUNTS.get("commons") == len(COMMONS)
    print("\nmoto end to end:", json.dumps(COUNTS))
