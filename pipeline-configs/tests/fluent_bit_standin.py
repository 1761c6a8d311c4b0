"""A stand-in for Fluent Bit from its in_http input to its wasm filter, for
test_moto_e2e.py (Fluent Bit cannot be installed on these machines).

What it does as Fluent Bit does, from the generated fluent-bit.yaml:
in_http's tag from the request path, gzip bodies inflated, the JSON object
made one record; every `modify` filter ahead of the `wasm` filter whose
`match`/`match_regex` takes the tag applied to that record (`set`, then
`remove`); the decoder's options read from the record's `gen3_cwlogs_*`
keys in their text forms (decoder-options.json, written by the Rust core,
gives the prefix and each option's type), as the Fluent Bit module reads
them; options the record lacks take the Fluent Bit module's defaults
(decoder-options.json's `hosts.fluent_bit`, else the core's); the answer
is in_http's `successful_response_code`.

What differs: the decoder is the WIT component through the Python host
(python/gen3_cwlogs), not the Fluent Bit module, and the entries are kept
for the test instead of going through the Lua split, rewrite_tag and the
outputs (test_generate.py checks that routing on the YAML).
"""

from __future__ import annotations

import gzip
import http.server
import json
import re
import sys
import threading
from pathlib import Path

import yaml

from support import CONFIGS, option_schema
from test_generate import fb_matches

# The Python host from this work tree, and the component helper its tests use.
PYTHON = CONFIGS.parent / "python"
for path in (PYTHON, PYTHON / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def record_options(record: dict) -> dict:
    """Takes the decoder's options out of a Fluent Bit record, as the Fluent
    Bit module does: `gen3_cwlogs_<name>` keys, text forms (numbers in
    decimal, `alert_streams` comma-separated; the core's `Options::set`)."""
    schema = option_schema()
    prefix = schema["record_key_prefix"]
    host_defaults = schema.get("hosts", {}).get("fluent_bit", {})
    options = {}
    for spec in schema["options"]:
        name = spec["name"]
        text = record.pop(prefix + name, None)
        if text is None:
            if name in host_defaults:
                options[name] = host_defaults[name]["default"]
            continue
        text = str(text).strip()
        kind = spec["type"]
        if kind == "number":
            options[name] = float(text)
        elif kind == "integer":
            options[name] = int(text)
        elif kind == "string-list":
            options[name] = [part.strip() for part in text.split(",")]
        elif kind in ("string", "enum"):
            options[name] = text
        else:
            raise NotImplementedError(f"option {name}: type {kind} has no text form here")
    return options


class DecodingInHttp:
    """in_http on 127.0.0.1 (a free port) with the filters up to the wasm
    filter, decoding with `decoder` (a gen3_cwlogs.Decoder). `requests`
    keeps, per request, its tag, headers, the options the filters gave and
    the decoder's output."""

    def __init__(self, decoder, pipeline_yaml: Path, port: int):
        self.decoder = decoder
        # BaseLoader: every scalar stays a string, as Fluent Bit reads them.
        self.pipeline = yaml.load(pipeline_yaml.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)["pipeline"]
        (self.input,) = [i for i in self.pipeline["inputs"] if i["name"] == "http"]
        self.filters = []
        for plugin in self.pipeline["filters"]:
            if plugin["name"] == "wasm":
                break
            assert plugin["name"] == "modify", f"a filter ahead of wasm this stand-in does not apply: {plugin}"
            self.filters.append(plugin)
        self.port = port
        self.requests: list[dict] = []
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.server = None

    def handle(self, path: str, headers, body: bytes) -> int:
        # in_http: the path is the tag, characters outside [A-Za-z0-9_.] made '_'.
        tag = re.sub(r"[^A-Za-z0-9_.]", "_", path.lstrip("/"))
        if headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        record = json.loads(body)
        assert isinstance(record, dict), "the front posts one JSON object per delivery"
        for plugin in self.filters:
            if not fb_matches(plugin, tag):
                continue
            for rule in plugin.get("set", []):
                key, value = rule.split(None, 1)
                record[key] = value
            for key in plugin.get("remove", []):
                record.pop(key, None)
        options = record_options(record)
        # Fluent Bit hands the record to the module as JSON text.
        payload = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        output = self.decoder.decode(payload, **options)
        with self.lock:
            self.requests.append({"tag": tag, "headers": dict(headers), "options": options, "output": output})
        return int(self.input.get("successful_response_code", "201"))

    def start(self):
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    status = standin.handle(self.path, self.headers, body)
                except Exception as error:  # noqa: BLE001 (reported by the test, answered as Fluent Bit would fail)
                    with standin.lock:
                        standin.failures.append(f"{self.path}: {error!r}")
                    status = 500
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

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
