"""The Firehose front, for real: the generated nginx.conf and firehose.js in
the Debian nginx with njs, over TLS, in front of a stub of Fluent Bit's
in_http, driven with Firehose-shaped HTTP endpoint deliveries.

Everything listens on 127.0.0.1 on free ports and is stopped at the end of
the module, whatever happens.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from support import EXAMPLE, missing_tool, run_generate

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

KEYS = {
    "FIREHOSE_ACCESS_KEY_DEVPLANETV1": "devplanet-Key-0123456789abcdef",
    # Set but empty: that commons must never be reachable, even with an
    # empty key.
    "FIREHOSE_ACCESS_KEY_QAPLANETV1": "",
    "FIREHOSE_ACCESS_KEY_DATA_COMMONS_PROD": "prod-Key-fedcba9876543210",
}
DEV_KEY = KEYS["FIREHOSE_ACCESS_KEY_DEVPLANETV1"]
PROD_KEY = KEYS["FIREHOSE_ACCESS_KEY_DATA_COMMONS_PROD"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# Fluent Bit in_http stand-in


class FluentBitStub:
    """Records what in_http would receive and answers like it: `status`
    (201 by default, its successful_response_code), or `drop` to close the
    connection without an answer (what in_http does when gzip inflation
    fails). stop()/start() take it down and bring it back on the same port."""

    def __init__(self):
        self.port = free_port()
        self.requests: list[dict] = []
        self.status: int | str = 201
        # When set, this many requests are accepted before `status` applies.
        self.accept_first: int | None = None
        self.server = None
        self.thread = None
        self.lock = threading.Lock()

    def start(self):
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with stub.lock:
                    stub.requests.append({"path": self.path, "headers": self.headers, "body": body})
                    status = stub.status
                    if stub.accept_first is not None and len(stub.requests) <= stub.accept_first:
                        status = 201
                if status == "drop":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                text = b"" if 200 <= status < 300 else b"error: unable to process records\n"
                self.send_response(status)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=10)
            self.server = None

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.status = 201
            self.accept_first = None


# --------------------------------------------------------------------------
# nginx


def nginx_modules_dir() -> Path | None:
    try:
        version = subprocess.run([NGINX, "-V"], capture_output=True, text=True, timeout=30).stderr
    except OSError:
        return None
    m = re.search(r"--modules-path=(\S+)", version)
    for candidate in ([Path(m.group(1))] if m else []) + [Path("/usr/lib/nginx/modules")]:
        if (candidate / "ngx_http_js_module.so").exists():
            return candidate
    return None


class Front:
    def __init__(self, root: Path, stub: FluentBitStub):
        self.root = root
        self.port = free_port()
        self.proc = None
        self.logs = root / "logs"
        self.stub = stub

    def prepare(self):
        tls = self.root / "tls"
        for d in (tls, self.logs):
            d.mkdir()
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", str(tls / "front.key"), "-out", str(tls / "front.crt")],
            check=True, capture_output=True, timeout=60,
        )
        self.ca = tls / "front.crt"
        gen = self.root / "gen"
        proc = run_generate(
            EXAMPLE, gen,
            "--front-listen", f"127.0.0.1:{self.port}",
            "--front-fluent-bit-url", f"http://127.0.0.1:{self.stub.port}",
            "--front-js-dir", str(gen / "front"),
            "--front-tls-dir", str(tls),
            "--front-log-dir", str(self.logs),
        )
        assert proc.returncode == 0, proc.stderr
        self.conf = gen / "front" / "nginx.conf"
        # load_module's relative path is resolved against the prefix (-p).
        (self.root / "modules").symlink_to(nginx_modules_dir())

    def command(self, *extra):
        return [NGINX, "-p", f"{self.root}/", "-c", str(self.conf), "-e", str(self.logs / "startup.log"), *extra]

    def env(self):
        # Nothing of the test runner's environment leaks in except PATH.
        return {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), **KEYS}

    def start(self):
        test = subprocess.run(self.command("-t", "-g", f"pid {self.root}/nginx.pid;"),
                              env=self.env(), capture_output=True, text=True, timeout=60)
        assert test.returncode == 0, test.stderr + self.read_logs()
        self.stderr = open(self.logs / "stderr.log", "wb")
        self.proc = subprocess.Popen(
            self.command("-g", f"daemon off; pid {self.root}/nginx.pid;"),
            env=self.env(), stdout=subprocess.DEVNULL, stderr=self.stderr,
        )
        deadline = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"nginx exited with {self.proc.returncode}\n{self.read_logs()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("nginx did not start listening\n" + self.read_logs())
                time.sleep(0.05)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: finish requests, then exit
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.stderr.close()

    def read_logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')}" for p in sorted(self.logs.glob("*.log")))

    def post(self, body: bytes | None, headers: dict, method: str = "POST", path: str = "/"):
        context = ssl.create_default_context(cafile=str(self.ca))
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=context, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def stub():
    s = FluentBitStub()
    s.start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def front(tmp_path_factory, stub):
    if not os.access(NGINX, os.X_OK):
        missing_tool(f"nginx is not installed ({NGINX}); apt-get install nginx libnginx-mod-http-js")
    if nginx_modules_dir() is None:
        missing_tool("the njs module is not installed; apt-get install libnginx-mod-http-js")
    if shutil.which("openssl") is None:
        missing_tool("the openssl command is not installed; apt-get install openssl")
    f = Front(tmp_path_factory.mktemp("front"), stub)
    f.prepare()
    try:
        f.start()
        yield f
    finally:
        f.stop()


@pytest.fixture(autouse=True)
def fresh_stub(stub):
    stub.reset()
    if stub.server is None:
        stub.start()
    yield


# --------------------------------------------------------------------------
# Firehose-shaped deliveries


def cloudwatch_record(log_group: str, n: int = 2) -> str:
    envelope = {
        "messageType": "DATA_MESSAGE", "owner": "707767160287", "logGroup": log_group,
        "logStream": "kubernetes.var.log.containers.revproxy-deployment-7d9f8c6b5-x2x9q_default_revproxy-0a1b.log",
        "subscriptionFilters": [f"{log_group}_subscription"],
        "logEvents": [
            {"id": str(33937864433052288198345880427171302362958917358574829568 + i),
             "timestamp": 1551461674000 + i,
             "message": json.dumps({"log": f"line {i} é\n", "stream": "stdout"})}
            for i in range(n)
        ],
    }
    return base64.b64encode(gzip.compress(json.dumps(envelope).encode())).decode()


def delivery(log_group="devplanetv1", records=2) -> tuple[str, bytes]:
    request_id = str(uuid.uuid4())
    body = {"requestId": request_id, "timestamp": int(time.time() * 1000),
            "records": [{"data": cloudwatch_record(log_group)} for _ in range(records)]}
    return request_id, json.dumps(body).encode()


def firehose_headers(request_id, key=None, gzipped=True, content_type="application/json") -> dict:
    headers = {
        "X-Amz-Firehose-Request-Id": request_id,
        "X-Amz-Firehose-Protocol-Version": "1.0",
        "X-Amz-Firehose-Source-Arn": "arn:aws:firehose:us-east-1:433568766270:deliverystream/devplanetv1_firehose",
        "Content-Type": content_type,
        "User-Agent": "Amazon Kinesis Data Firehose Agent/1.0",
    }
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    if key is not None:
        headers["X-Amz-Firehose-Access-Key"] = key
    return headers


def check_answer(status, headers, body, expected_status, request_id, before, error=False) -> dict:
    assert status == expected_status, body
    assert headers["Content-Type"] == "application/json"
    assert int(headers["Content-Length"]) == len(body)
    answer = json.loads(body)
    assert answer["requestId"] == request_id
    assert isinstance(answer["timestamp"], int) and not isinstance(answer["timestamp"], bool)
    assert before - 1000 <= answer["timestamp"] <= int(time.time() * 1000) + 1000
    if error:
        assert isinstance(answer["errorMessage"], str) and answer["errorMessage"]
        assert set(answer) == {"requestId", "timestamp", "errorMessage"}
    else:
        assert set(answer) == {"requestId", "timestamp"}
    return answer


def now_ms() -> int:
    return int(time.time() * 1000)


# --------------------------------------------------------------------------
# deliveries that reach Fluent Bit


def test_gzip_delivery_is_forwarded_unchanged(front, stub):
    request_id, plain = delivery()
    body = gzip.compress(plain)
    before = now_ms()
    status, headers, answer = front.post(body, firehose_headers(request_id, DEV_KEY))
    check_answer(status, headers, answer, 200, request_id, before)

    (seen,) = stub.requests
    assert seen["path"] == "/cwlogs.devplanetv1"
    assert seen["headers"].get_all("Content-Type") == ["application/json"]
    assert seen["headers"]["Content-Encoding"] == "gzip"
    assert seen["body"] == body  # in_http inflates it; the front never does
    assert seen["headers"]["X-Amz-Firehose-Request-Id"] == request_id
    assert "X-Amz-Firehose-Access-Key" not in seen["headers"]


def test_plain_delivery_is_forwarded_unchanged(front, stub):
    request_id, body = delivery()
    before = now_ms()
    status, headers, answer = front.post(body, firehose_headers(request_id, DEV_KEY, gzipped=False))
    check_answer(status, headers, answer, 200, request_id, before)
    (seen,) = stub.requests
    assert seen["path"] == "/cwlogs.devplanetv1"
    assert seen["body"] == body
    assert "Content-Encoding" not in seen["headers"]


def test_content_type_is_exactly_application_json_for_fluent_bit(front, stub):
    # Fluent Bit 4.1's in_http refuses "application/json; charset=utf-8".
    request_id, body = delivery()
    status, _, _ = front.post(body, firehose_headers(request_id, DEV_KEY, gzipped=False,
                                                     content_type="application/json; charset=utf-8"))
    assert status == 200
    (seen,) = stub.requests
    assert seen["headers"].get_all("Content-Type") == ["application/json"]


def test_each_key_routes_to_its_commons_tag(front, stub):
    for key, path in [(PROD_KEY, "/cwlogs.data_commons_prod"), (DEV_KEY, "/cwlogs.devplanetv1")]:
        stub.reset()
        request_id, body = delivery()
        status, _, answer = front.post(gzip.compress(body), firehose_headers(request_id, key))
        assert status == 200, answer
        assert [r["path"] for r in stub.requests] == [path]


def test_large_gzip_delivery_is_forwarded_whole(front, stub):
    # The front cannot inflate (njs 0.7): a gzip body goes as it came.
    request_id, body = delivery(records=1)
    payload = gzip.compress(body) + os.urandom(3 * 1024 * 1024)
    status, _, answer = front.post(payload, firehose_headers(request_id, DEV_KEY))
    assert status == 200, answer
    (seen,) = stub.requests
    assert seen["body"] == payload


# --------------------------------------------------------------------------
# large deliveries, posted in parts


def part_bytes(front) -> int:
    (value,) = re.findall(r"^var PART_BYTES = (\d+);$", (front.conf.parent / "firehose.js").read_text(), re.M)
    return int(value)


def large_delivery(sizes: list[int]) -> tuple[str, dict]:
    """A delivery whose records hold this many bytes of base64 each (the
    front never decodes them)."""
    request_id = str(uuid.uuid4())
    records = [{"data": base64.b64encode(os.urandom(size * 3 // 4)).decode()} for size in sizes]
    return request_id, {"requestId": request_id, "timestamp": now_ms(), "records": records}


def test_large_plain_delivery_is_posted_in_parts(front, stub):
    limit = part_bytes(front)
    # Records of a third of a part, then one larger than a part on its own.
    sizes = [limit // 3] * 10 + [limit + 1000] + [limit // 3] * 2
    request_id, value = large_delivery(sizes)
    body = json.dumps(value).encode()
    before = now_ms()
    status, headers, answer = front.post(body, firehose_headers(request_id, DEV_KEY, gzipped=False))
    check_answer(status, headers, answer, 200, request_id, before)

    records, lengths = [], []
    for seen in stub.requests:
        assert seen["path"] == "/cwlogs.devplanetv1"
        assert seen["headers"]["Content-Length"] == str(len(seen["body"]))
        assert "Content-Encoding" not in seen["headers"]
        assert "X-Amz-Firehose-Access-Key" not in seen["headers"]
        part = json.loads(seen["body"])
        assert list(part) == ["requestId", "timestamp", "firstRecordIndex", "records"]
        assert (part["requestId"], part["timestamp"]) == (request_id, value["timestamp"])
        assert part["firstRecordIndex"] == len(records), "parts in order, none skipped"
        size = sum(len(json.dumps(r, separators=(",", ":"))) for r in part["records"])
        assert size <= limit or len(part["records"]) == 1, size
        records += part["records"]
        lengths.append(len(part["records"]))
    assert records == value["records"]
    assert lengths == [2, 2, 2, 2, 2, 1, 2], "as many records as fit, the large one alone"


def test_a_refused_part_fails_the_delivery_and_stops_it(front, stub):
    limit = part_bytes(front)
    request_id, value = large_delivery([limit // 3] * 6)
    stub.status, stub.accept_first = 502, 1
    before = now_ms()
    status, headers, answer = front.post(json.dumps(value).encode(), firehose_headers(request_id, DEV_KEY, gzipped=False))
    check_answer(status, headers, answer, 500, request_id, before, error=True)
    assert len(stub.requests) == 2, "nothing is posted after the refused part"
    assert "Fluent Bit answered HTTP 502 (part 2 of 3)" in front.read_logs()


@pytest.mark.parametrize("body", [
    b"{\"records\": [" + b"1," * 100_000 + b"2",
    json.dumps({"records": "x" * 200_000}).encode(),
    json.dumps({"requestId": "r", "records": [{"data": "x" * 200_000}]}).encode(),
    json.dumps({"requestId": "r", "firstRecordIndex": 0, "records": [{"data": "x" * 100_000}] * 3}).encode(),
], ids=["not-json", "records-not-a-list", "one-record", "already-a-part"])
def test_large_body_that_cannot_be_cut_is_posted_whole(front, stub, body):
    # Fluent Bit and the decoder decide what it is, as for any body.
    status, _, answer = front.post(body, firehose_headers("r", DEV_KEY, gzipped=False))
    assert status == 200, answer
    (seen,) = stub.requests
    assert seen["body"] == body


# --------------------------------------------------------------------------
# refusals: 401 and 405 without contacting Fluent Bit


@pytest.mark.parametrize("key", [
    None, "", "wrong", DEV_KEY.upper(), DEV_KEY.lower(), DEV_KEY[:-1], DEV_KEY + "0", " " + DEV_KEY + "x",
    DEV_KEY + "," + PROD_KEY,
], ids=["missing", "empty", "wrong", "upper", "lower", "prefix", "longer", "padded", "two-keys"])
def test_bad_access_key_is_401(front, stub, key):
    request_id, body = delivery()
    before = now_ms()
    status, headers, answer = front.post(gzip.compress(body), firehose_headers(request_id, key))
    check_answer(status, headers, answer, 401, request_id, before, error=True)
    assert stub.requests == []


def test_bad_access_key_is_refused_before_the_body_is_read(front, stub):
    # Headers announcing 60 MB, and no body: the 401 comes at once, so
    # nginx neither waits for nor buffers a body from a caller without a key.
    context = ssl.create_default_context(cafile=str(front.ca))
    with socket.create_connection(("127.0.0.1", front.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as conn:
            conn.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                         b"X-Amz-Firehose-Request-Id: early\r\nX-Amz-Firehose-Access-Key: wrong\r\n"
                         b"Content-Length: 60000000\r\n\r\n")
            head = conn.recv(65536)
    assert head.startswith(b"HTTP/1.1 401 "), head[:200]
    assert b'"requestId":"early"' in head and b'"errorMessage":"access key missing or not valid"' in head
    assert stub.requests == []


def test_commons_with_empty_key_variable_is_unreachable(front, stub):
    # qaplanetv1's variable is set to "": neither an empty nor an absent key
    # may reach its tag.
    for key in ("", None):
        request_id, body = delivery()
        status, _, _ = front.post(body, firehose_headers(request_id, key, gzipped=False))
        assert status == 401
    assert stub.requests == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_are_405(front, stub, method):
    request_id = str(uuid.uuid4())
    before = now_ms()
    body = b"{}" if method == "PUT" else None
    status, headers, answer = front.post(body, firehose_headers(request_id, DEV_KEY, gzipped=False), method=method)
    check_answer(status, headers, answer, 405, request_id, before, error=True)
    assert headers["Allow"] == "POST"
    assert stub.requests == []


def test_internal_location_is_not_reachable_from_outside(front, stub):
    request_id, body = delivery()
    status, headers, _ = front.post(body, firehose_headers(request_id, DEV_KEY, gzipped=False),
                                    path="/_fluentbit/cwlogs.devplanetv1")
    assert status == 404
    assert stub.requests == []


# --------------------------------------------------------------------------
# Fluent Bit failures: always 500, so Firehose retries (never 413)


@pytest.mark.parametrize("fluent_bit_status", [400, 413, 500, 503])
def test_fluent_bit_error_is_500(front, stub, fluent_bit_status):
    stub.status = fluent_bit_status
    request_id, body = delivery()
    before = now_ms()
    status, headers, answer = front.post(gzip.compress(body), firehose_headers(request_id, DEV_KEY))
    check_answer(status, headers, answer, 500, request_id, before, error=True)
    assert len(stub.requests) == 1


def test_fluent_bit_closing_without_answer_is_500(front, stub):
    stub.status = "drop"
    request_id, body = delivery()
    before = now_ms()
    status, headers, answer = front.post(gzip.compress(body), firehose_headers(request_id, DEV_KEY))
    check_answer(status, headers, answer, 500, request_id, before, error=True)


def test_fluent_bit_down_is_500(front, stub):
    stub.stop()
    try:
        request_id, body = delivery()
        before = now_ms()
        status, headers, answer = front.post(gzip.compress(body), firehose_headers(request_id, DEV_KEY))
        check_answer(status, headers, answer, 500, request_id, before, error=True)
    finally:
        stub.start()
    # And it recovers as soon as Fluent Bit is back.
    request_id, body = delivery()
    status, _, _ = front.post(gzip.compress(body), firehose_headers(request_id, DEV_KEY))
    assert status == 200


def test_body_over_64_mib_is_500_not_413(front, stub):
    # nginx refuses it before any handler runs; Firehose would drop a 413
    # for good, so the front must answer 500 (retried, then backed up to S3).
    request_id = str(uuid.uuid4())
    before = now_ms()
    status, headers, answer = front.post(b"\0" * (64 * 1024 * 1024 + 1),
                                         firehose_headers(request_id, DEV_KEY, gzipped=False))
    check_answer(status, headers, answer, 500, request_id, before, error=True)
    assert stub.requests == []


# --------------------------------------------------------------------------
# secrets


def test_access_keys_never_reach_logs_or_fluent_bit(front, stub):
    for key in (DEV_KEY, PROD_KEY, "guess-" + DEV_KEY):
        request_id, body = delivery()
        front.post(body, firehose_headers(request_id, key, gzipped=False))
    stub.status = 500
    request_id, body = delivery()
    front.post(body, firehose_headers(request_id, DEV_KEY, gzipped=False))
    assert stub.requests
    for r in stub.requests:
        assert "X-Amz-Firehose-Access-Key" not in r["headers"]
        for key in (DEV_KEY, PROD_KEY):
            assert key not in str(r["headers"])
    logs = front.read_logs()
    assert "firehose.access.log" in logs and "firehose.error.log" in logs
    assert request_id in logs  # the request id is logged, to follow a delivery
    for key in (DEV_KEY, PROD_KEY):
        assert key not in logs
