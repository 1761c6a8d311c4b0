#!/usr/bin/env python3
"""The generated pipeline on a real Fluent Bit, end to end, with an
exactly-once check: Firehose-shaped deliveries posted concurrently to the
generated nginx front, Fluent Bit with the wasm module (interpreter and
AOT), stand-ins for the search cluster, S3 and Slack, all on 127.0.0.1.

    python3 bench/fluent-bit/run.py --fluent-bit /path/to/fluent-bit [--wamrc /path/to/wamrc]

Fluent Bit (built with wasm on) and wamrc are the developer's, built outside
the project; nothing here fetches or builds them. See README.md beside this
file for what is measured and how to read it.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import datetime
import gzip
import hashlib
import http.client
import json
import os
import platform
import queue
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from memlimit import MemoryCgroup

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TICKS = os.sysconf("SC_CLK_TCK")

# The bench's commons: one alerting (threshold, Slack), two not; each
# delivery goes to one of them in turn.
COMMONS = [
    {"name": "bench-alpha", "threshold": 79, "slack": "SLACK_WEBHOOK_PATH_BENCH_ALPHA"},
    {"name": "bench-beta"},
    {"name": "bench-gamma"},
]
KEYS = {c["name"]: "key-" + hashlib.sha256(c["name"].encode()).hexdigest()[:24] for c in COMMONS}
DEAD_LETTER_BUCKET = "bench-dead-letter"

SHAPES = {
    # (records, events per record): a small delivery and the one a 1 MiB
    # Firehose buffer makes (about 1 MiB gzip'd as sent).
    "small": (10, 100),
    "large": (40, 250),
}


def log(message: str):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen | None, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not listen on {port} within {timeout} s")
            time.sleep(0.05)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kwargs)


# --------------------------------------------------------------------------
# building what the benchmark runs (the project's code only)


@dataclass
class Build:
    """One configuration of the project: its generator, Lua script and
    module (a revision's, or the work tree's)."""

    label: str
    tree: Path
    wasm: Path
    aot: Path | None = None
    # commons-list fluent_bit settings of this configuration
    settings: dict = field(default_factory=dict)
    # experiments: text replacements in the generated fluent-bit.yaml, and
    # Fluent Bit's environment
    yaml_subs: list = field(default_factory=list)
    env: dict = field(default_factory=dict)

    @property
    def generate(self) -> Path:
        return self.tree / "pipeline-configs" / "generate.py"

    @property
    def lua(self) -> Path:
        return self.tree / "pipeline-configs" / "fluent-bit" / "cwlogs.lua"


def build_module(tree: Path, target_dir: Path) -> Path:
    run(["cargo", "build", "--release", "--locked", "-p", "gen3-cwlogs-fluent-bit",
         "--target", "wasm32-unknown-unknown", "--target-dir", str(target_dir)], cwd=tree)
    return target_dir / "wasm32-unknown-unknown" / "release" / "gen3_cwlogs_fluent_bit.wasm"


def aot_compile(wamrc: Path, wasm: Path, out: Path, generic: bool) -> Path:
    cmd = [str(wamrc)]
    if generic:
        cmd += ["--target=x86_64", "--cpu=generic"]
    run(cmd + ["-o", str(out), str(wasm)], stdout=subprocess.DEVNULL)
    return out


def prepare_builds(args, work: Path) -> list[Build]:
    builds = []
    target = REPO / "target"
    for i, rev in enumerate(args.baseline or []):
        tree = work / f"baseline-tree-{i}"
        run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), rev],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wasm = build_module(tree, target / "bench-baseline")
        builds.append(Build(rev, tree, shutil.copy(wasm, work / f"baseline-{i}.wasm")))
    wasm = Path(args.wasm) if args.wasm else build_module(REPO, target)
    module = Path(shutil.copy(wasm, work / "module.wasm"))
    builds.append(Build("work tree", REPO, module, settings=parse_settings(args.set)))
    for variant in args.variant or []:
        # NAME:key=value,key=value[,yaml:OLD=>NEW][,env:VAR=VALUE]
        name, _, rest = variant.partition(":")
        items = [item for item in rest.split(",") if item]
        subs = [item[5:] for item in items if item.startswith("yaml:")]
        env = dict(item[4:].split("=", 1) for item in items if item.startswith("env:"))
        plain = [item for item in items if not item.startswith(("yaml:", "env:"))]
        builds.append(Build(f"work tree, {name}", REPO, module, settings=parse_settings(plain), yaml_subs=subs, env=env))
    for b in builds:
        b.wasm = Path(b.wasm)
        if args.wamrc:
            aot = b.wasm.with_suffix(".aot")
            b.aot = aot if aot.exists() else aot_compile(Path(args.wamrc), b.wasm, aot, args.generic_aot)
    return builds


def remove_worktree(work: Path):
    for tree in work.glob("baseline-tree-*"):
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# --------------------------------------------------------------------------
# deliveries and what they must give


@dataclass
class Delivery:
    commons: str
    body: bytes                     # as posted: plain (the stacks' NONE content encoding) or gzip'd (--gzip)
    events: int
    documents: list[tuple[str, int]]  # (event id, time in ms)
    documents_by_id: dict = field(default_factory=dict)
    errors: int = 0
    alerts: list[str] = field(default_factory=list)
    gzipped: bool = False


def workload(records: int, events: int, seed: int, log_group: str, mix: str) -> bytes:
    return run([str(REPO / "target" / "release" / "gen3-cwlogs-workload"), "--form", "firehose", "--mix", mix,
                "--records", str(records), "--events-per-record", str(events), "--seed", str(seed),
                "--log-group", log_group], capture_output=True).stdout


def expected(payload: bytes, commons: dict) -> tuple[list, list, int, list]:
    """What the decoder gives for a delivery under a commons' options, from
    the native CLI (the core the module embeds)."""
    cmd = [str(REPO / "target" / "release" / "gen3-cwlogs"), "--native", "--commons", commons["name"]]
    if "threshold" in commons:
        cmd += ["--slow-threshold-secs", str(commons["threshold"])]
    # Exit status 1: some input gave error documents (the bad deliveries).
    proc = subprocess.run(cmd + ["-"], input=payload, capture_output=True)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"gen3-cwlogs failed: {proc.stderr.decode(errors='replace')}")
    out = proc.stdout
    documents, full, errors, alerts = [], [], 0, []
    for line in out.splitlines():
        value = json.loads(line)
        if "alert" in value:
            alerts.append(canonical(value["alert"]["slack_payload"]))
        elif "error" in value:
            errors += 1
        else:
            millis = iso_millis(value["timestamp"])
            documents.append((value["id"], millis))
            full.append(value)
    return documents, full, errors, alerts


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def iso_millis(text: str) -> int:
    when = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return int(round(when.timestamp() * 1000))


def make_deliveries(shape: str, count: int, first_seed: int, bad_every: int, mix: str, gzipped: bool) -> list[Delivery]:
    records, events = SHAPES[shape]
    out = []
    for i in range(count):
        commons = COMMONS[i % len(COMMONS)]
        payload = workload(records, events, first_seed + i, commons["name"], mix)
        if bad_every and i % bad_every == bad_every - 1:
            # One record that is not gzip: an error document for the dead letter.
            value = json.loads(payload)
            value["records"].append({"data": base64.b64encode(b"not gzip at all").decode()})
            payload = json.dumps(value).encode()
        documents, full, errors, alerts = expected(payload, commons)
        body = gzip.compress(payload, 6) if gzipped else payload
        d = Delivery(commons["name"], body, records * events, documents, errors=errors, alerts=alerts, gzipped=gzipped)
        # A sample of full documents, checked field by field afterwards.
        d.documents_by_id = {doc["id"]: doc for doc in full[::97]}
        out.append(d)
    return out


# --------------------------------------------------------------------------
# processes


class Proc:
    def __init__(self, name: str, cmd: list[str], log_path: Path, env: dict | None = None, cwd: Path | None = None,
                 preexec_fn=None):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                     start_new_session=True, preexec_fn=preexec_fn)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, sig=signal.SIGTERM, timeout: float = 30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def proc_cpu(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds per thread name (threads of one name summed)."""
    out: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        name = re.sub(r"\d+$", "#", name)
        fields = text.rsplit(")", 1)[1].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / TICKS
    return out


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def resident_by_holder(pid: int, root: Path) -> dict[str, float]:
    """Fluent Bit's resident memory in MB by what holds it, from its smaps:
    anonymous memory (malloc arenas, the wasm instance, Lua), the filesystem
    buffer's mapped chunks, out_s3's mapped buffer files, and the rest
    (binary, libraries)."""
    holders = dict.fromkeys(("anonymous", "buffer chunks", "s3 buffers", "binary and libraries"), 0.0)
    storage, s3_store = str(root / "storage") + "/", str(root / "s3") + "/"
    holder = "anonymous"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        first = line.split(maxsplit=1)[0] if line else ""
        if first.endswith(":"):
            if first == "Rss:":
                holders[holder] += int(line.split()[1]) / 1024
            continue
        # A mapping's header: range, permissions, offset, device, inode, path.
        fields = line.split(maxsplit=5)
        path = fields[5] if len(fields) > 5 else ""
        if not path or path.startswith("["):
            holder = "anonymous"
        elif path.startswith(s3_store):
            holder = "s3 buffers"
        elif path.startswith(storage):
            holder = "buffer chunks"
        else:
            holder = "binary and libraries"
    return {name: round(mb, 1) for name, mb in holders.items()}


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


# --------------------------------------------------------------------------
# one run: fresh stand-ins, front and Fluent Bit, a set of deliveries


@dataclass
class RunResult:
    config: str
    mode: str
    shape: str
    concurrency: int
    deliveries: int = 0
    events: int = 0
    seconds: float = 0.0
    fb_cpu: float = 0.0              # Fluent Bit CPU until every document was in search
    fb_cpu_drained: float = 0.0      # ... until the S3 buffers were uploaded too
    front_cpu: float = 0.0
    threads: dict = field(default_factory=dict)
    latencies: list = field(default_factory=list)
    peak_rss_mb: float = 0.0
    # The largest anonymous and file-backed (chunk mmaps) resident sizes sampled.
    peak_anon_mb: float = 0.0
    peak_file_mb: float = 0.0
    # What held the memory at the sample with the most resident in all.
    peak_holders: dict = field(default_factory=dict)
    stalled: bool = False
    failures: list = field(default_factory=list)
    retried_posts: int = 0
    conflicts: int = 0
    bulks: int = 0
    largest_bulk_mb: float = 0.0
    load: tuple = ()
    profile: dict = field(default_factory=dict)
    # With --memory-limit: Fluent Bit's memory cgroup (what a container limit sees).
    memory_limit_mb: float = 0.0
    cgroup_peak_mb: float = 0.0        # the most charged at once, reclaimable pages included
    cgroup_anon_peak_mb: float = 0.0   # the most anonymous memory sampled (what cannot be reclaimed)
    refaults: int = 0                  # reclaimed file pages read back
    oom_kills: int = 0

    @property
    def events_per_sec(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def events_per_cpu(self) -> float:
        return self.events / self.fb_cpu_drained if self.fb_cpu_drained else 0.0

    def latency(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        values = sorted(self.latencies)
        return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


class Pipeline:
    """Everything of one run, started in order and stopped in reverse."""

    def __init__(self, args, build: Build, mode: str, root: Path, settings: dict, memory_limit: int = 0):
        self.args = args
        self.build = build
        self.mode = mode
        self.root = root
        self.settings = settings
        self.procs: list[Proc] = []
        self.ports = {k: free_port() for k in ("front", "in_http", "search", "slack", "moto", "monitoring")}
        self.cgroup = MemoryCgroup(f"fb-bench-{os.getpid()}-{root.name}", memory_limit << 20) if memory_limit else None

    # -- setup

    def commons_list(self) -> dict:
        moto = f"http://127.0.0.1:{self.ports['moto']}"
        commons = []
        for c in COMMONS:
            entry = {"name": c["name"], "child_account_id": "111122223333", "region": "us-east-1",
                     "firehose_access_key_env": "FIREHOSE_ACCESS_KEY_" + c["name"].upper().replace("-", "_"),
                     "s3": {"endpoint": moto}}
            if "threshold" in c:
                entry["threshold"] = c["threshold"]
                entry["slack_webhook_path_env"] = c["slack"]
            commons.append(entry)
        fluent_bit = {
            "http_listen": "127.0.0.1", "http_port": self.ports["in_http"],
            "storage_path": str(self.root / "storage"), "s3_store_dir": str(self.root / "s3"),
            "wasm_path": str(self.module), "lua_path": str(self.build.lua),
            "monitoring_port": self.ports["monitoring"],
            "slack_host": "127.0.0.1", "slack_port": self.ports["slack"], "slack_tls": False,
            "s3_upload_timeout": self.args.s3_upload_timeout, "s3_total_file_size": "50M",
        }
        if self.legacy:
            # A revision from before these keys: patched into its YAML instead.
            for key in ("monitoring_port", "slack_host", "slack_port", "slack_tls", "s3_upload_timeout",
                        "s3_total_file_size"):
                del fluent_bit[key]
        fluent_bit.update({k: v for k, v in self.settings.items() if not k.startswith("front.")})
        front = {"listen": 443, "server_name": "localhost",
                 "tls_certificate": "/etc/nginx/tls/front.crt", "tls_certificate_key": "/etc/nginx/tls/front.key"}
        front.update({k[len("front."):]: v for k, v in self.settings.items() if k.startswith("front.")})
        return {
            "aws_region": "us-east-1",
            "dead_letter_bucket": DEAD_LETTER_BUCKET,
            "dead_letter_endpoint": moto,
            "fluent_bit": fluent_bit,
            "elasticsearch": {"host": "127.0.0.1", "port": self.ports["search"], "tls": False, "output": "opensearch"},
            "front": front,
            "commons": commons,
        }

    @property
    def legacy(self) -> bool:
        text = (self.build.tree / "pipeline-configs" / "cwlogs_config" / "load.py").read_text()
        return "slack_host" not in text

    def patch_legacy(self, path: Path):
        text = path.read_text()
        text = text.replace("http_port: 2020", f"http_port: {self.ports['monitoring']}")
        text = text.replace("upload_timeout: 5m", f"upload_timeout: {self.args.s3_upload_timeout}")
        text = re.sub(r"host: hooks\.slack\.com\n(\s+)port: 443\n\s+tls: on\n\s+tls\.verify: on\n",
                      lambda m: f"host: 127.0.0.1\n{m.group(1)}port: {self.ports['slack']}\n{m.group(1)}tls: off\n", text)
        path.write_text(text)

    @property
    def module(self) -> Path:
        return self.build.aot if self.mode == "aot" else self.build.wasm

    def start(self):
        for d in ("storage", "s3", "gen", "tls", "logs", "standins"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_DEFAULT_REGION": "us-east-1"}
        self.env = env
        # S3 stand-in.
        moto = Proc("moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.ports["moto"])],
                    self.root / "logs" / "moto.log", env=dict(os.environ, **env))
        self.procs.append(moto)
        standins = Proc("standins", [sys.executable, str(HERE / "standins.py"), "--search-port", str(self.ports["search"]),
                                     "--slack-port", str(self.ports["slack"]), "--log", str(self.root / "standins")],
                        self.root / "logs" / "standins.log")
        self.procs.append(standins)
        # The pipeline's files, generated from the bench list by the build's generator.
        listing = self.root / "bench-commons.json"
        listing.write_text(json.dumps(self.commons_list(), indent=2))
        tls = self.root / "tls"
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", str(tls / "front.key"), "-out", str(tls / "front.crt")], capture_output=True)
        gen = self.root / "gen"
        run([sys.executable, str(self.build.generate), str(listing), "--out", str(gen),
             "--front-listen", f"127.0.0.1:{self.ports['front']}",
             "--front-fluent-bit-url", f"http://127.0.0.1:{self.ports['in_http']}",
             "--front-js-dir", str(gen / "front"), "--front-tls-dir", str(tls),
             "--front-log-dir", str(self.root / "logs")], capture_output=True)
        if self.legacy:
            self.patch_legacy(gen / "fluent-bit" / "fluent-bit.yaml")
        yaml_path = gen / "fluent-bit" / "fluent-bit.yaml"
        for sub in self.build.yaml_subs:
            old, _, new = sub.partition("=>")
            text = yaml_path.read_text()
            if old not in text:
                raise RuntimeError(f"--yaml-sub: {old!r} is not in the generated fluent-bit.yaml")
            yaml_path.write_text(text.replace(old, new.replace("\\n", "\n")))
        wait_port(self.ports["moto"], moto.proc, "moto_server")
        wait_port(self.ports["search"], standins.proc, "stand-ins")
        self.create_buckets()
        # Fluent Bit.
        fb_env = dict(env, **{c["slack"]: "/services/TBENCH/BBENCH/bench" for c in COMMONS if "slack" in c})
        fb_env.update(self.build.env)
        self.fb = Proc("fluent-bit", [self.args.fluent_bit, "-c", str(gen / "fluent-bit" / "fluent-bit.yaml")],
                       self.root / "logs" / "fluent-bit.log", env=fb_env,
                       preexec_fn=self.cgroup.enter if self.cgroup else None)
        self.procs.append(self.fb)
        wait_port(self.ports["in_http"], self.fb.proc, "fluent-bit")
        # The front.
        modules = nginx_modules_dir()
        (self.root / "modules").symlink_to(modules)
        nginx_env = dict(env, **{"FIREHOSE_ACCESS_KEY_" + name.upper().replace("-", "_"): key for name, key in KEYS.items()})
        conf = gen / "front" / "nginx.conf"
        cmd = [NGINX, "-p", f"{self.root}/", "-c", str(conf), "-e", str(self.root / "logs" / "nginx-startup.log")]
        run(cmd + ["-t", "-g", f"pid {self.root}/nginx.pid;"], env=nginx_env, capture_output=True)
        self.nginx = Proc("nginx", cmd + ["-g", f"daemon off; pid {self.root}/nginx.pid;"],
                          self.root / "logs" / "nginx.stderr.log", env=nginx_env)
        self.procs.append(self.nginx)
        wait_port(self.ports["front"], self.nginx.proc, "nginx")
        self.ca = tls / "front.crt"

    def create_buckets(self):
        buckets = [f"{c['name']}-logging" for c in COMMONS] + [DEAD_LETTER_BUCKET]
        for bucket in buckets:
            conn = http.client.HTTPConnection("127.0.0.1", self.ports["moto"], timeout=30)
            conn.request("PUT", f"/{bucket}", headers={"Host": f"127.0.0.1:{self.ports['moto']}"})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status != 200:
                raise RuntimeError(f"creating bucket {bucket}: {resp.status}")

    def stop(self):
        for p in reversed(self.procs):
            # nginx: SIGQUIT is its graceful stop.
            p.stop(signal.SIGQUIT if p.name == "nginx" else signal.SIGTERM)
        self.procs.clear()
        if self.cgroup:
            self.cgroup.remove()

    # -- talking to it

    def front_connection(self) -> http.client.HTTPSConnection:
        context = ssl.create_default_context(cafile=str(self.ca))
        return http.client.HTTPSConnection("127.0.0.1", self.ports["front"], context=context, timeout=300)

    def stats(self) -> dict:
        conn = http.client.HTTPConnection("127.0.0.1", self.ports["search"], timeout=30)
        try:
            conn.request("GET", "/_bench/stats")
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def search_down(self, down: bool):
        conn = http.client.HTTPConnection("127.0.0.1", self.ports["search"], timeout=30)
        conn.request("POST", "/_bench/down", body=b"on" if down else b"off")
        conn.getresponse().read()
        conn.close()

    def front_cpu(self) -> float:
        return sum(proc_cpu(pid) for pid in [self.nginx.pid] + children(self.nginx.pid))

    def s3_pending_bytes(self) -> int:
        total = 0
        for path in (self.root / "s3").rglob("*"):
            if path.is_file() and not path.name.endswith((".db", ".db-journal", ".db-wal", ".db-shm")):
                total += path.stat().st_size
        return total


def nginx_modules_dir() -> Path:
    version = subprocess.run([NGINX, "-V"], capture_output=True, text=True).stderr
    m = re.search(r"--modules-path=(\S+)", version)
    for candidate in ([Path(m.group(1))] if m else []) + [Path("/usr/lib/nginx/modules")]:
        if (candidate / "ngx_http_js_module.so").exists():
            return candidate
    raise RuntimeError("nginx's njs module is not installed (apt-get install nginx libnginx-mod-http-js)")


def firehose_headers(request_id: str, commons: str, gzipped: bool) -> dict:
    # What Firehose's HTTP endpoint destination sends.
    headers = {
        "X-Amz-Firehose-Request-Id": request_id,
        "X-Amz-Firehose-Protocol-Version": "1.0",
        "X-Amz-Firehose-Source-Arn": f"arn:aws:firehose:us-east-1:111122223333:deliverystream/{commons}_firehose",
        "X-Amz-Firehose-Access-Key": KEYS[commons],
        "Content-Type": "application/json",
        "User-Agent": "Amazon Kinesis Data Firehose Agent/1.0",
    }
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    return headers


def post_all(pipe: Pipeline, deliveries: list[Delivery], concurrency: int, result: RunResult):
    """Posts every delivery, `concurrency` in flight, each worker on its own
    keep-alive connection as Firehose does; a delivery answered other than
    200 is posted again (Firehose retries), and counted."""
    work: queue.Queue = queue.Queue()
    for d in deliveries:
        work.put(d)
    lock = threading.Lock()

    def worker():
        conn = pipe.front_connection()
        while True:
            try:
                d = work.get_nowait()
            except queue.Empty:
                break
            for attempt in range(20):
                request_id = str(uuid.uuid4())
                started = time.monotonic()
                try:
                    conn.request("POST", "/", body=d.body, headers=firehose_headers(request_id, d.commons, d.gzipped))
                    resp = conn.getresponse()
                    answer = resp.read()
                    status = resp.status
                except (OSError, http.client.HTTPException) as error:
                    status, answer = None, str(error).encode()
                    conn.close()
                    conn = pipe.front_connection()
                elapsed = time.monotonic() - started
                if status == 200 and json.loads(answer).get("requestId") == request_id:
                    with lock:
                        result.latencies.append(elapsed)
                    break
                with lock:
                    result.retried_posts += 1
                    result.failures.append(f"delivery answered {status}: {answer[:200]!r}")
                time.sleep(min(2 ** attempt * 0.1, 5))
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    return threads


def wait_for(pipe: Pipeline, documents: int, stall_secs: float) -> tuple[bool, dict]:
    """Until the search stand-in created `documents` documents; False if no
    new document arrived for `stall_secs`."""
    last, last_change = -1, time.monotonic()
    while True:
        stats = pipe.stats()
        if stats["created"] >= documents:
            return True, stats
        if stats["created"] != last:
            last, last_change = stats["created"], time.monotonic()
        elif time.monotonic() - last_change > stall_secs:
            return False, stats
        if pipe.fb.proc.poll() is not None:
            return False, stats
        time.sleep(0.1)


def one_run(args, build: Build, mode: str, shape: str, concurrency: int, deliveries: list[Delivery],
            warmup: Delivery, settings: dict, root: Path, profile: bool, memory_limit: int = 0) -> RunResult:
    label = build.label + (f", {memory_limit} MB limit" if memory_limit else "")
    result = RunResult(label, mode, shape, concurrency, load=load_average())
    pipe = Pipeline(args, build, mode, root, settings, memory_limit)
    perf = None
    try:
        pipe.start()
        # Warm-up: one small delivery through everything, not timed.
        warmup_result = RunResult("", "", "", 0)
        threads = post_all(pipe, [warmup], 1, warmup_result)
        for t in threads:
            t.join()
        ok, stats = wait_for(pipe, len(warmup.documents), args.stall_secs)
        if not ok:
            raise RuntimeError(f"the warm-up delivery never reached search ({stats['created']} of "
                               f"{len(warmup.documents)} documents; its post: "
                               f"{'; '.join(warmup_result.failures) or 'answered 200'}):\n" + pipe.fb.tail())
        base_docs = len(warmup.documents)
        expected_docs = base_docs + sum(len(d.documents) for d in deliveries)
        if profile:
            perf = subprocess.Popen(["perf", "record", "-F", "499", "-g", "-p", str(pipe.fb.pid),
                                     "-o", str(root / "perf.data")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        cpu0, front0, threads0 = proc_cpu(pipe.fb.pid), pipe.front_cpu(), thread_cpu(pipe.fb.pid)
        sampling = threading.Event()

        def sample_memory():
            while not sampling.wait(0.25):
                try:
                    result.peak_anon_mb = max(result.peak_anon_mb, status_kb(pipe.fb.pid, "RssAnon") / 1024)
                    result.peak_file_mb = max(result.peak_file_mb, status_kb(pipe.fb.pid, "RssFile") / 1024)
                    if pipe.cgroup:
                        result.cgroup_anon_peak_mb = max(result.cgroup_anon_peak_mb, pipe.cgroup.anon_bytes() / 2**20)
                    holders = resident_by_holder(pipe.fb.pid, root)
                    if sum(holders.values()) > sum(result.peak_holders.values()):
                        result.peak_holders = holders
                except OSError:
                    return

        sampler = threading.Thread(target=sample_memory, daemon=True)
        sampler.start()
        started = time.time()
        threads = post_all(pipe, deliveries, concurrency, result)
        ok, stats = wait_for(pipe, expected_docs, args.stall_secs)
        # The last document's arrival; with none since the start (a stall
        # from the first delivery on), the time given up.
        last = stats["last_created"] or 0.0
        ended = last if last > started else time.time()
        cpu1, front1 = proc_cpu(pipe.fb.pid), pipe.front_cpu()
        for t in threads:
            t.join(timeout=1 if not ok else None)
        result.deliveries = len(deliveries)
        result.events = sum(len(d.documents) for d in deliveries)
        result.seconds = ended - started
        result.fb_cpu = cpu1 - cpu0
        result.front_cpu = front1 - front0
        if not ok:
            result.stalled = True
            result.failures.append(f"stalled: {stats['created'] - base_docs} of {expected_docs - base_docs} "
                                   f"documents after no progress for {args.stall_secs} s")
            result.failures.append("fluent-bit log tail:\n" + pipe.fb.tail())
        # S3: wait until out_s3 has uploaded its buffers (its cost counts too).
        deadline = time.monotonic() + args.s3_wait
        while pipe.s3_pending_bytes() > 0 and time.monotonic() < deadline and pipe.fb.proc.poll() is None:
            time.sleep(0.2)
        if perf is not None:
            perf.send_signal(signal.SIGINT)
            perf.wait(timeout=120)
        result.fb_cpu_drained = proc_cpu(pipe.fb.pid) - cpu0
        threads1 = thread_cpu(pipe.fb.pid)
        result.threads = {k: round(v - threads0.get(k, 0.0), 2) for k, v in threads1.items() if v - threads0.get(k, 0.0) > 0}
        sampling.set()
        result.peak_rss_mb = status_kb(pipe.fb.pid, "VmHWM") / 1024
        if pipe.cgroup:
            result.memory_limit_mb = memory_limit
            result.cgroup_peak_mb = pipe.cgroup.peak_bytes() / 2**20
            result.oom_kills = pipe.cgroup.oom_kills()
            result.refaults = pipe.cgroup.refaults()
            if result.oom_kills:
                result.failures.append(f"the OOM killer killed {result.oom_kills} process(es) of Fluent Bit "
                                       f"under its {memory_limit} MB limit")
        if pipe.s3_pending_bytes() > 0:
            result.failures.append(f"S3 buffers not uploaded after {args.s3_wait} s")
        # Stop Fluent Bit first, then check what every stand-in received.
        pipe.fb.stop(timeout=60)
        stats = pipe.stats()
        result.conflicts = stats["conflicts"]
        result.bulks, result.largest_bulk_mb = stats["bulks"], stats["largest_bulk"] / 1e6
        result.failures += check_exactly_once(pipe, [warmup] + deliveries)
        if profile:
            result.profile = perf_shares(root / "perf.data", mode)
            result.profile["front_vs_fluent_bit"] = round(result.front_cpu / result.fb_cpu, 3) if result.fb_cpu else None
    finally:
        if perf is not None and perf.poll() is None:
            perf.kill()
        pipe.stop()
    return result


# --------------------------------------------------------------------------
# exactly once


def iso_week_index(commons: str, millis: int) -> str:
    when = datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.timezone.utc)
    year, week, _ = when.isocalendar()
    return f"{commons}-{year}-w{week:02d}"


def check_exactly_once(pipe: Pipeline, deliveries: list[Delivery]) -> list[str]:
    """Every document in search exactly once (created once; any other
    attempt a 409), in its commons' index of its own week, with
    @timestamp = its time and no routing field; the S3 archive holding each
    document once, the dead letter each error document, Slack each alert."""
    problems: list[str] = []
    want: dict[str, tuple[str, int]] = {}
    sample: dict[str, dict] = {}
    for d in deliveries:
        for doc_id, millis in d.documents:
            want[doc_id] = (d.commons, millis)
        sample.update(d.documents_by_id)
    created: dict[str, int] = {}
    attempts = 0
    with open(pipe.root / "standins" / "search.ndjson", "rb") as f:
        for meta_line in f:
            doc_line = f.readline()
            meta = json.loads(meta_line)
            attempts += 1
            if meta["status"] != 201:
                continue
            doc_id = meta["id"]
            created[doc_id] = created.get(doc_id, 0) + 1
            if doc_id not in want:
                problems.append(f"search: unexpected document {doc_id}")
                continue
            commons, millis = want[doc_id]
            if meta["index"] != iso_week_index(commons, millis):
                problems.append(f"search: {doc_id} in {meta['index']}, expected {iso_week_index(commons, millis)}")
            doc = json.loads(doc_line)
            if any(k.startswith("_cwlogs") for k in doc):
                problems.append(f"search: {doc_id} has routing fields {[k for k in doc if k.startswith('_cwlogs')]}")
            stamp = doc.get("@timestamp", "")
            if iso_millis(stamp if stamp.endswith("Z") else stamp + "Z") != millis:
                problems.append(f"search: {doc_id} @timestamp {stamp} is not its event time {millis}")
            if doc_id in sample:
                expected_doc = dict(sample[doc_id])
                got = {k: v for k, v in doc.items() if k != "@timestamp"}
                if normalise(got) != normalise(expected_doc):
                    problems.append(f"search: {doc_id} differs from the decoder's document")
    missing = [i for i in want if i not in created]
    twice = [i for i, n in created.items() if n > 1]
    if missing:
        problems.append(f"search: {len(missing)} documents missing, e.g. {missing[:3]}")
    if twice:
        problems.append(f"search: {len(twice)} documents created twice, e.g. {twice[:3]}")
    problems += check_s3(pipe, deliveries, want)
    alerts = [json.loads(line) for line in (pipe.root / "standins" / "slack.ndjson").read_text().splitlines()]
    expected_alerts = sorted(a for d in deliveries for a in d.alerts)
    got_alerts = sorted(canonical(json.loads(a["body"])) for a in alerts)
    if got_alerts != expected_alerts:
        problems.append(f"slack: {len(got_alerts)} alerts posted, {len(expected_alerts)} expected (or bodies differ)")
    if any(a["content_type"] != ["application/json"] for a in alerts):
        problems.append("slack: an alert without exactly one Content-Type: application/json")
    return problems[:50]


def normalise(value):
    """Numbers as Fluent Bit's Lua leaves them (doubles)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    return value


def s3_objects(pipe: Pipeline, bucket: str) -> list[tuple[str, bytes]]:
    import boto3  # moto's dependency; signed requests (moto refuses anonymous GETs)
    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{pipe.ports['moto']}", region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench-secret")
    out = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            out.append((item["Key"], client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()))
    return out


def decompress(body: bytes) -> bytes:
    """An archived object as out_s3 wrote it: zstd (document archives, by
    default; pyzstd) or gzip (dead letters, `archive_compression: gzip`)."""
    if body.startswith(b"\x28\xb5\x2f\xfd"):
        import pyzstd
        return pyzstd.decompress(body)
    return gzip.decompress(body)


def check_s3(pipe: Pipeline, deliveries: list[Delivery], want: dict) -> list[str]:
    problems = []
    archived: dict[str, int] = {}
    dead = 0
    for c in COMMONS:
        for key, body in s3_objects(pipe, f"{c['name']}-logging"):
            lines = decompress(body).decode().splitlines()
            if key.startswith("dead-letter/") or "/dead-letter/" in key:
                dead += len(lines)
                continue
            for line in lines:
                doc = json.loads(line)
                archived[doc["id"]] = archived.get(doc["id"], 0) + 1
                if want.get(doc["id"], (None,))[0] != c["name"]:
                    problems.append(f"s3: {doc['id']} archived under {c['name']}")
    unrouted = s3_objects(pipe, DEAD_LETTER_BUCKET)
    if unrouted:
        problems.append(f"s3: {len(unrouted)} objects in the dead-letter bucket: {[k for k, _ in unrouted][:3]}")
    missing = len([i for i in want if i not in archived])
    twice = len([i for i, n in archived.items() if n > 1])
    if missing or twice:
        problems.append(f"s3: {missing} documents not archived, {twice} archived more than once")
    errors = sum(d.errors for d in deliveries)
    if dead != errors:
        problems.append(f"s3: {dead} error documents in the dead letters, {errors} expected")
    return problems


# --------------------------------------------------------------------------
# profiles


CATEGORIES = [
    # (share name, regex on "dso symbol"); first match wins. WAMR maps AOT
    # code anonymously: perf names it "[JIT] tid N".
    ("wasm: the module's code (AOT)", r"^\[JIT\]|^//anon|^\[anon"),
    ("wasm: WAMR interpreter and runtime", r"wasm_|aot_|bh_|word_copy|STORE_U|LOAD_I|ALLOC_FRAME|ctz64"),
    ("Lua (LuaJIT, Fluent Bit's Lua glue)", r"lj_|lua_|luaL_|flb_lua|gc_|index2adr|hash_sparse|hashkey|newtab|cb_lua"),
    ("JSON -> msgpack (yyjson, flb_pack_json: the module's result, the parser filter)",
     r"yyjson|flb_pack_json|jsmn|tokens_to_msgpack|flb_parser|unescape"),
    ("msgpack -> JSON (outputs' bulk and lines, the module's input)",
     r"flb_vector8|flb_utils_write_str|msgpack2json|flb_msgpack_raw_to_json|flb_msgpack_to_json|flb_sds_cat|utf8"),
    ("msgpack decode (every filter and output reads its chunk)",
     r"template_|msgpack_unpack|msgpack_zone|mpack_|msgpack_object|flb_log_event_decoder"),
    ("msgpack encode, log event encoder", r"msgpack_pack|msgpack_sbuffer|flb_log_event_encoder|flb_mp_|cfl_|cmt_"),
    ("rewrite_tag, its emitter, grep/record accessor", r"rewrite_tag|emitter|flb_ra_|flb_regex|onig|re_search|match_at|grep"),
    ("modify filter", r"modify"),
    ("search output (opensearch)", r"opensearch|os_pack|os_bulk|key_exists_in_map|elasticsearch"),
    ("S3 output's compression (zstd archives, gzip dead letters)",
     r"ZSTD_|HUF_|FSE_|HIST_|MEM_read|zstd|tdefl|mz_|crc32|adler|deflate|gzip|miniz|compress"),
    ("S3 output (other)", r"s3_|flb_aws|fstore"),
    ("in_http (incl. inflating bodies)", r"in_http|http_prot|http_conn|inflate|tinfl|flb_http_server|mk_http"),
    ("chunk storage (chunkio)", r"cio_|chunkio|flb_input_chunk|flb_storage"),
    ("memcpy/malloc/libc", r"libc|memcpy|memmove|malloc|free|realloc|calloc|strlen|memset|__GI|_int_"),
    ("kernel", r"\[kernel|kernel\.kallsyms"),
]


def perf_shares(data: Path, mode: str) -> dict:
    """Self-time shares of Fluent Bit's samples by category, and by thread."""
    report = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--sort", "dso,sym", "--stdio",
                             "-g", "none", "--percent-limit", "0.01"], capture_output=True, text=True)
    shares: dict[str, float] = {}
    top: list[tuple[float, str]] = []
    for line in report.stdout.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)", line)
        if not m:
            continue
        pct, dso, level, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4).strip()
        text = f"{dso} {sym}"
        if level == "k":
            name = "kernel"
        else:
            name = next((n for n, pattern in CATEGORIES if re.search(pattern, text)), "other")
        shares[name] = shares.get(name, 0.0) + pct
        top.append((pct, text))
    by_thread = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--sort", "comm", "--stdio",
                                "-g", "none"], capture_output=True, text=True).stdout
    threads = {}
    for line in by_thread.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(.+)$", line)
        if m:
            threads[m.group(2).strip()] = float(m.group(1))
    return {"categories": {k: round(v, 1) for k, v in sorted(shares.items(), key=lambda kv: -kv[1])},
            "threads": threads, "top": [f"{p:.1f}% {t}" for p, t in sorted(top, reverse=True)[:25]]}


# --------------------------------------------------------------------------
# reporting


def delivery_label(shape: str) -> str:
    records, events = SHAPES[shape]
    return f"{records}x{events}"


def table(results: list[RunResult]) -> str:
    rows = ["| config | mode | delivery | in flight | events | s | events/s | events per FB CPU-s | FB CPU s "
            "| front CPU s | p50 s | p99 s | peak RSS MB | load | exactly once |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        ok = "yes" if not r.failures else ("STALL" if r.stalled else f"NO ({len(r.failures)})")
        rows.append(f"| {r.config} | {r.mode} | {delivery_label(r.shape)} | {r.concurrency} | {r.events} | {r.seconds:.2f} "
                    f"| {r.events_per_sec:,.0f} | {r.events_per_cpu:,.0f} | {r.fb_cpu_drained:.2f} | {r.front_cpu:.2f} "
                    f"| {r.latency(0.5):.2f} | {r.latency(0.99):.2f} | {r.peak_rss_mb:.0f} "
                    f"| {r.load[0]:.1f} | {ok} |")
    return "\n".join(rows)


# Fluent Bit names its threads: the pipeline thread runs in_http and every
# filter, each output's workers are flb-out-<plugin>.<n>-w#<k> (cut to 15
# characters by the kernel).
THREAD_GROUPS = [("pipeline", "flb-pipeline"), ("search output", "flb-out-opensea"), ("S3 outputs", "flb-out-s3")]
THREAD_GROUP_NAMES = [name for name, _ in THREAD_GROUPS] + ["other"]


def thread_groups(threads: dict) -> dict:
    groups = dict.fromkeys(THREAD_GROUP_NAMES, 0.0)
    for thread, seconds in threads.items():
        name = next((name for name, prefix in THREAD_GROUPS if thread.startswith(prefix)), "other")
        groups[name] += seconds
    return groups


def thread_table(results: list[RunResult]) -> str:
    """Fluent Bit's CPU by thread until every document was in search, and the
    rate its stock outputs alone would allow if in_http and the filters cost
    nothing: events / (search output + S3 outputs' CPU)."""
    rows = ["| config | mode | delivery | in flight | " + " | ".join(f"{n} CPU s" for n in THREAD_GROUP_NAMES)
            + " | events per CPU-s of the outputs alone | events per CPU-s of the pipeline thread alone |",
            "|---|---|---|---|" + "---|" * (len(THREAD_GROUP_NAMES) + 2)]
    for r in results:
        if not r.threads:
            continue
        g = thread_groups(r.threads)
        outputs = g["search output"] + g["S3 outputs"]
        rows.append(f"| {r.config} | {r.mode} | {delivery_label(r.shape)} | {r.concurrency} | "
                    + " | ".join(f"{g[n]:.2f}" for n in THREAD_GROUP_NAMES)
                    + f" | {r.events / outputs if outputs else 0:,.0f}"
                    + f" | {r.events / g['pipeline'] if g['pipeline'] else 0:,.0f} |")
    return "\n".join(rows)


def parse_settings(values: list[str]) -> dict:
    out = {}
    for item in values or []:
        key, _, value = item.partition("=")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fluent-bit", required=True, help="a Fluent Bit binary built with wasm on (FLB_WASM)")
    parser.add_argument("--wamrc", help="WAMR's AOT compiler: also run the module as a .aot file")
    parser.add_argument("--generic-aot", action="store_true",
                        help="compile the .aot for any x86_64 (--target=x86_64 --cpu=generic), not this CPU")
    parser.add_argument("--modes", default="interp,aot", help="interp and/or aot (aot needs --wamrc)")
    parser.add_argument("--concurrency", default="1,4,8,16", help="deliveries in flight, comma-separated")
    parser.add_argument("--shapes", default="small,large",
                        help="small (10 records x 100 events) and/or large (40 x 250, ~1 MiB gzip'd)")
    parser.add_argument("--deliveries", type=int, default=0,
                        help="deliveries per run (default: small 48, large 16, at least 2x in flight)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each configuration")
    parser.add_argument("--baseline", action="append",
                        help="a git revision whose generator, Lua and module also run (repeatable): before/after in one run")
    parser.add_argument("--wasm", help="the module to run (default: built from the work tree)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="a commons-list fluent_bit setting for the work tree's runs (JSON value), e.g. output_workers=2")
    parser.add_argument("--variant", action="append", metavar="NAME:KEY=VALUE,...",
                        help="the work tree again with these fluent_bit (or front.*) settings (repeatable), "
                             "e.g. noworkers:search_workers=0, whole:front.part_bytes=0")
    parser.add_argument("--profile", action="store_true", help="perf record Fluent Bit in each run; report shares")
    parser.add_argument("--mix", default="gen3-traffic", choices=["gen3-traffic", "varied"],
                        help="the workload generator's event mix")
    parser.add_argument("--gzip", action="store_true",
                        help="post deliveries gzip'd (Firehose's GZIP content encoding; the front then posts them whole) "
                             "instead of plain (the stacks' NONE, which the front posts in parts)")
    parser.add_argument("--bad-every", type=int, default=8, help="every Nth delivery has a record that is not gzip")
    parser.add_argument("--stall-secs", type=float, default=90, help="no new document for this long: a stall")
    parser.add_argument("--s3-upload-timeout", default="5s", help="out_s3 upload_timeout in the bench list")
    parser.add_argument("--s3-wait", type=float, default=120, help="seconds to wait for out_s3's uploads")
    parser.add_argument("--max-load", type=float, default=0,
                        help="wait (up to 10 min) before each run until the 1-minute load average is below this")
    parser.add_argument("--memory-limit", default="0", metavar="MB[,MB...]",
                        help="run Fluent Bit in a memory cgroup with this hard limit, as a container limit would "
                             "(needs root; 0 = none; several: each configuration under each, interleaved); "
                             "reports the cgroup's peak, reclaims and OOM kills")
    parser.add_argument("--json", help="write every run's figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, generated files)")
    args = parser.parse_args()

    modes = [m for m in args.modes.split(",") if m]
    memory_limits = [int(m) for m in args.memory_limit.split(",") if m] or [0]
    if "aot" in modes and not args.wamrc:
        modes.remove("aot")
        log("no --wamrc: interpreter only")
    if shutil.which("perf") is None and args.profile:
        parser.error("--profile needs perf (Debian: linux-perf)")
    work = Path(tempfile.mkdtemp(prefix="fb-bench-"))
    results: list[RunResult] = []
    try:
        log("building the workload generator, the CLI and the module")
        run(["cargo", "build", "--release", "--locked", "-p", "gen3-cwlogs-workload", "-p", "gen3-cwlogs-cli"],
            cwd=REPO, stdout=subprocess.DEVNULL)
        builds = prepare_builds(args, work)
        concurrency = [int(c) for c in args.concurrency.split(",")]
        shapes = [s for s in args.shapes.split(",") if s]
        pools = {}
        seed = 1000
        for shape in shapes:
            count = args.deliveries or {"small": 48, "large": 16}[shape]
            count = max(count, max(concurrency))
            log(f"generating {count} {shape} deliveries and what they must give")
            pools[shape] = make_deliveries(shape, count, seed, args.bad_every, args.mix, args.gzip)
            seed += count
        warmup = make_deliveries("small", 1, 999_000, 0, args.mix, args.gzip)[0]
        n = 0
        for _ in range(args.repeat):
            for shape in shapes:
                for c in concurrency:
                    for mode in modes:
                        for build, limit in [(b, m) for b in builds for m in memory_limits]:
                            if args.max_load:
                                deadline = time.monotonic() + 600
                                while load_average()[0] > args.max_load and time.monotonic() < deadline:
                                    time.sleep(10)
                            n += 1
                            root = work / f"run{n}"
                            log(f"run {n}: {build.label}, {mode}, {shape}, {c} in flight"
                                + (f", {limit} MB memory limit" if limit else ""))
                            r = one_run(args, build, mode, shape, c, pools[shape], warmup,
                                        build.settings, root, args.profile, limit)
                            results.append(r)
                            log(f"  {r.events} events in {r.seconds:.2f} s: {r.events_per_sec:,.0f}/s, "
                                f"{r.events_per_cpu:,.0f} per FB CPU-s, p99 {r.latency(0.99):.2f} s, "
                                f"RSS {r.peak_rss_mb:.0f} MB (anon {r.peak_anon_mb:.0f}, file {r.peak_file_mb:.0f}), "
                                f"load {r.load[0]:.1f}"
                                + ("" if not r.failures else f"; PROBLEMS: {r.failures[:3]}"))
                            if not args.keep:
                                shutil.rmtree(root, ignore_errors=True)
    finally:
        remove_worktree(work)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"kept {work}")
    version = subprocess.run([args.fluent_bit, "--version"], capture_output=True, text=True).stdout.splitlines()
    header = (f"Fluent Bit: {version[0] if version else '?'}; machine: {platform.machine()}, {os.cpu_count()} cores, "
              f"{cpu_model()}; {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(header)
    print(table(results))
    print()
    print(thread_table(results))
    for r in results:
        if r.profile:
            print(f"\nprofile: {r.config}, {r.mode}, {r.shape}, {r.concurrency} in flight")
            print(json.dumps(r.profile, indent=1))
        if r.threads:
            print(f"threads ({r.config}, {r.mode}, {r.shape}, {r.concurrency}): {json.dumps(r.threads)}")
        print(f"search bulks ({r.config}, {r.mode}, {r.shape}, {r.concurrency}): {r.bulks}, "
              f"the largest {r.largest_bulk_mb:.1f} MB")
        if r.memory_limit_mb:
            print(f"memory limit ({r.config}, {r.mode}, {r.shape}, {r.concurrency}): {r.memory_limit_mb:.0f} MB; "
                  f"cgroup peak {r.cgroup_peak_mb:.0f} MB, anonymous peak {r.cgroup_anon_peak_mb:.0f} MB, "
                  f"reclaimed file pages read back {r.refaults}, "
                  f"OOM kills {r.oom_kills}")
        if r.peak_holders:
            print(f"peak resident MB by holder ({r.config}, {r.mode}, {r.shape}, {r.concurrency}): "
                  f"{json.dumps(r.peak_holders)}")
        for f in r.failures:
            print(f"  problem ({r.config}, {r.mode}, {r.shape}, {r.concurrency}): {f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"header": header, "runs": [
            dict(r.__dict__, events_per_sec=r.events_per_sec, events_per_cpu=r.events_per_cpu,
                 p50=r.latency(0.5), p99=r.latency(0.99), latencies=None) for r in results]}, indent=1))
    return 0 if all(not r.failures for r in results) else 1


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "?"


if __name__ == "__main__":
    sys.exit(main())
