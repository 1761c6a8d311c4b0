"""Stand-ins for the pipeline's search and Slack outputs, run by run.py as
their own process (so their CPU never counts as the benchmark driver's and
the driver's threads never slow them down).

    python3 standins.py --search-port P --slack-port Q --log DIR

Search: `POST /_bulk` (or `/<index>/_bulk`), NDJSON action + document
pairs, answered per item as OpenSearch does with `create`: 201 for a new
`_id` of an index, 409 (version_conflict_engine_exception) for one it
already holds, `errors: true` when any item failed. Every item, created or
not, is appended to DIR/search.ndjson as `{"index", "id", "status", "op"}`
followed by the document line as received, so run.py can check afterwards
that every document arrived exactly once, in its index, at its time.
`/_bench/down` (POST, body `on`/`off`) makes every bulk answer 503, as a
search cluster that is down; `/_bench/stats` (GET) gives the counts.

Slack: any `POST` is an alert; its body and Content-Type are appended to
DIR/slack.ndjson and answered 200 `ok`, as Slack's webhook does.
"""

from __future__ import annotations

import argparse
import http.server
import json
import signal
import sys
import threading
import time
from pathlib import Path


class State:
    def __init__(self, log_dir: Path):
        self.lock = threading.Lock()
        self.ids: dict[str, set[str]] = {}
        self.created = 0
        self.conflicts = 0
        self.other = 0
        self.bulks = 0
        self.refused_bulks = 0
        self.largest_bulk = 0
        self.first_created = None
        self.last_created = None
        self.down = False
        self.alerts = 0
        self.search_log = open(log_dir / "search.ndjson", "ab", buffering=1 << 20)
        self.slack_log = open(log_dir / "slack.ndjson", "ab", buffering=0)

    def stats(self) -> dict:
        with self.lock:
            self.search_log.flush()
            return {
                "created": self.created, "conflicts": self.conflicts, "other": self.other,
                "bulks": self.bulks, "refused_bulks": self.refused_bulks, "largest_bulk": self.largest_bulk,
                "first_created": self.first_created, "last_created": self.last_created,
                "alerts": self.alerts, "down": self.down,
            }


def bulk(state: State, body: bytes, default_index: str | None) -> tuple[int, bytes]:
    lines = body.split(b"\n")
    items = []
    log = []
    errors = False
    i = 0
    now = time.time()
    with state.lock:
        state.bulks += 1
        # Amazon OpenSearch refuses bulks over 10 MiB on small instance types.
        state.largest_bulk = max(state.largest_bulk, len(body))
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
                continue
            action = json.loads(line)
            (op, meta), = action.items()
            index = meta.get("_index", default_index)
            doc_id = meta.get("_id")
            document = lines[i + 1] if op != "delete" else b""
            i += 2 if op != "delete" else 1
            if op != "create" or doc_id is None:
                # The pipeline only ever creates with an _id: anything else
                # is a finding, recorded and refused.
                status = 400
                state.other += 1
                item = {"status": 400, "error": {"type": "illegal_argument_exception",
                                                  "reason": f"stand-in takes create with _id, got {op}"}}
            else:
                known = state.ids.setdefault(index, set())
                if doc_id in known:
                    status = 409
                    state.conflicts += 1
                    item = {"status": 409, "error": {
                        "type": "version_conflict_engine_exception",
                        "reason": f"[{doc_id}]: version conflict, document already exists (current version [1])",
                        "index": index}}
                else:
                    known.add(doc_id)
                    status = 201
                    state.created += 1
                    if state.first_created is None:
                        state.first_created = now
                    state.last_created = now
                    item = {"_version": 1, "result": "created", "status": 201,
                            "_shards": {"total": 1, "successful": 1, "failed": 0}, "_seq_no": 0, "_primary_term": 1}
            errors = errors or status >= 300
            items.append({op: {"_index": index, "_id": doc_id, **item}})
            log.append(json.dumps({"index": index, "id": doc_id, "status": status, "op": op}).encode())
            log.append(document)
        state.search_log.write(b"\n".join(log) + b"\n" if log else b"")
    answer = {"took": 1, "errors": errors, "items": items}
    return 200, json.dumps(answer, separators=(",", ":")).encode()


def make_handler(state: State, kind: str):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(parts)
            return self.rfile.read(int(self.headers.get("Content-Length", "0")))

        def _answer(self, status: int, body: bytes, content_type: str = "application/json"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/_bench/stats":
                self._answer(200, json.dumps(state.stats()).encode())
            else:
                # A root GET is what clients probe a cluster with.
                self._answer(200, b'{"version":{"number":"2.11.0","distribution":"opensearch"}}')

        def do_HEAD(self):
            self._answer(200, b"")

        def do_POST(self):
            body = self._body()
            if kind == "slack":
                with state.lock:
                    state.alerts += 1
                    state.slack_log.write(json.dumps({
                        "path": self.path, "content_type": self.headers.get_all("Content-Type"),
                        "body": body.decode("utf-8", "replace")}).encode() + b"\n")
                self._answer(200, b"ok", "text/plain")
                return
            if self.path == "/_bench/down":
                with state.lock:
                    state.down = body.strip() == b"on"
                self._answer(200, b"{}")
                return
            path = self.path.split("?")[0]
            if not path.endswith("/_bulk"):
                self._answer(404, b'{"error":"not a bulk request"}')
                return
            if state.down:
                with state.lock:
                    state.refused_bulks += 1
                self._answer(503, b'{"error":"cluster unavailable (stand-in is down)","status":503}')
                return
            default_index = path[1:-len("/_bulk")] or None
            try:
                status, answer = bulk(state, body, default_index)
            except (ValueError, KeyError, IndexError) as error:
                status, answer = 400, json.dumps({"error": f"bad bulk: {error}"}).encode()
            self._answer(status, answer)

        def log_message(self, *args):
            pass

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--search-port", type=int, required=True)
    parser.add_argument("--slack-port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    args = parser.parse_args()
    state = State(args.log)
    servers = []
    for kind, port in (("search", args.search_port), ("slack", args.slack_port)):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), make_handler(state, kind))
        server.daemon_threads = True
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    for server in servers:
        server.shutdown()
    state.search_log.close()
    state.slack_log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
