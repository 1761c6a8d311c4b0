#!/usr/bin/env python3
"""Generate the Fluent Bit pipeline and the Firehose front from one commons list.

    python3 pipeline-configs/generate.py COMMONS.json --out DIR
    python3 pipeline-configs/generate.py COMMONS.json --out DIR --check

writes (or, with --check, compares against)

    DIR/fluent-bit/fluent-bit.yaml   Fluent Bit YAML: in_http -> wasm -> lua -> rewrite_tag -> opensearch/s3/http
    DIR/front/nginx.conf             nginx + njs: the HTTPS endpoint Amazon Data Firehose delivers to
    DIR/front/firehose.js            the njs handler (access key -> commons -> Fluent Bit tag)
    DIR/vector/vector.yaml           Vector 0.57: aws_kinesis_firehose -> remap (options, cwlogs.vrl) -> route -> sinks

Everything is derived from the commons list, so adding a commons is one entry
in the list and never a hand edit of a generated file.  The input is checked
strictly (unknown keys, names, numbers, collisions) because a mistake here
silently loses logs at run time: a record whose tag no output matches is
dropped by Fluent Bit with only a warning.

Secrets (Firehose access keys, Slack webhook paths, ES passwords) are never
read here and never written: the generated files name environment variables,
which Fluent Bit expands as ${VAR} and njs reads from process.env.

Standard library only (Python 3.11); the YAML is written by hand.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

GENERATOR = "pipeline-configs/generate.py"

# Names become Elasticsearch index prefixes (lowercase only), S3 bucket names
# (no uppercase, no dots wanted) and Fluent Bit tags, so they are kept to the
# intersection of what all three accept.
NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
# `<name>-logging` must still be a valid S3 bucket name (at most 63 chars).
NAME_MAX = 63 - len("-logging")
# The Lua split routes records without a commons to `unknown`; a commons of
# that name would receive them.
RESERVED_NAMES = {"unknown"}
ENV_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ACCOUNT_RE = re.compile(r"[0-9]{12}")
REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# The S3 prefix is pasted into s3_key_format, where `%` is strftime and `$`
# a Fluent Bit variable, so only plain path characters are allowed.
S3_PREFIX_RE = re.compile(r"[A-Za-z0-9_.=/-]*")
ENDPOINT_RE = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?")
HOST_RE = re.compile(r"[A-Za-z0-9.-]+")
# Index names must be lowercase: allow only strftime fields that print digits.
DATE_FORMAT_RE = re.compile(r"(?:%[YGVmdHjUWyg]|[a-z0-9._-])+")
STREAM_RE = re.compile(r"[^,\s]+")

DEFAULTS_FLUENT_BIT = {
    "http_listen": "127.0.0.1",
    "http_port": 9880,
    "storage_path": "/var/lib/fluent-bit/storage",
    "s3_store_dir": "/var/lib/fluent-bit/s3",
    "wasm_path": "/etc/fluent-bit/gen3_cwlogs_fluent_bit.wasm",
    "lua_path": "/etc/fluent-bit/cwlogs.lua",
}


class ConfigError(Exception):
    """The commons list is not usable; the message says where and why."""


def sanitise_tag(text: str) -> str:
    """What Fluent Bit's in_http does to a URL path to make the tag."""
    return re.sub(r"[^A-Za-z0-9_.]", "_", text)


def default_access_key_env(name: str) -> str:
    return "FIREHOSE_ACCESS_KEY_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


# --------------------------------------------------------------------------
# The validated model


@dataclass
class S3Target:
    bucket: str
    prefix: str
    region: str
    endpoint: str | None


@dataclass
class Commons:
    name: str
    child_account_id: str
    region: str
    threshold: str | None
    alert_streams: list[str]
    slack_env: str | None
    access_key_env: str
    index_prefix: str
    s3: S3Target

    @property
    def tag(self) -> str:
        return "cwlogs." + sanitise_tag(self.name)


@dataclass
class Deployment:
    aws_region: str
    fluent_bit: dict
    es: dict
    front: dict
    dead_letter_bucket: str
    dead_letter_endpoint: str | None
    commons: list[Commons] = field(default_factory=list)
    vector: dict = field(default_factory=dict)


class _Reader:
    """Reads one JSON object, remembering which keys were used, so that a
    misspelt key ("treshold") is an error instead of a silently missing
    setting."""

    def __init__(self, obj, where: str):
        if not isinstance(obj, dict):
            raise ConfigError(f"{where}: expected a JSON object, got {type(obj).__name__}")
        self.obj = obj
        self.where = where
        self.used: set[str] = set()

    def get(self, key, default=None, required=False):
        self.used.add(key)
        if key not in self.obj or self.obj[key] is None:
            if required:
                raise ConfigError(f"{self.where}.{key}: required")
            return default
        return self.obj[key]

    def string(self, key, default=None, required=False, pattern=None, what=None):
        value = self.get(key, default, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{self.where}.{key}: expected a non-empty string, got {value!r}")
        if pattern is not None and not pattern.fullmatch(value):
            raise ConfigError(f"{self.where}.{key}: {value!r} is not {what or 'valid'}")
        return value

    def boolean(self, key, default):
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.where}.{key}: expected true or false, got {value!r}")
        return value

    def port(self, key, default=None, required=False):
        value = self.get(key, default, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            raise ConfigError(f"{self.where}.{key}: expected a port number 1-65535, got {value!r}")
        return value

    def finish(self):
        unknown = sorted(set(self.obj) - self.used)
        if unknown:
            raise ConfigError(f"{self.where}: unknown key(s) {', '.join(unknown)}")


def _threshold(value, where: str) -> str | None:
    """The threshold is written as the string the wasm module parses; refuse
    anything that is not a finite, non-negative number, as the Lambda's
    string threshold silently disabled alerts when it was not one."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected a number of seconds, got {value!r}")
    if isinstance(value, (int, float)):
        number = float(value)
        # repr gives 65.0 and 0.5, but 1e+20 for large floats: keep the
        # plain decimal form the wasm module parses.
        text = repr(value) if isinstance(value, int) or "e" not in repr(value) else format(value, "f")
    elif isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
            raise ConfigError(f"{where}: expected a number of seconds, got {value!r}")
        number = float(text)
    else:
        raise ConfigError(f"{where}: expected a number of seconds, got {value!r}")
    if not math.isfinite(number) or number < 0:
        raise ConfigError(f"{where}: expected a finite number of seconds >= 0, got {value!r}")
    return text


def _bucket(name: str, where: str) -> str:
    if not BUCKET_RE.fullmatch(name) or ".." in name or re.fullmatch(r"[0-9.]+", name):
        raise ConfigError(
            f"{where}: {name!r} is not a valid S3 bucket name "
            "(3-63 characters: lowercase letters, digits, '-' and '.')"
        )
    return name


def load(data) -> Deployment:
    top = _Reader(data, "commons list")
    aws_region = top.string("aws_region", "us-east-1", pattern=REGION_RE, what="an AWS region")

    fb_in = _Reader(top.get("fluent_bit", {}), "fluent_bit")
    fluent_bit = {
        "http_listen": fb_in.string("http_listen", DEFAULTS_FLUENT_BIT["http_listen"], pattern=HOST_RE, what="a host"),
        "http_port": fb_in.port("http_port", DEFAULTS_FLUENT_BIT["http_port"]),
    }
    for key in ("storage_path", "s3_store_dir", "wasm_path", "lua_path"):
        value = fb_in.string(key, DEFAULTS_FLUENT_BIT[key])
        if not value.startswith("/") or any(c.isspace() for c in value):
            raise ConfigError(f"fluent_bit.{key}: expected an absolute path without spaces, got {value!r}")
        fluent_bit[key] = value.rstrip("/") or "/"
    fb_in.finish()

    es_in = _Reader(top.get("elasticsearch", required=True), "elasticsearch")
    tls = es_in.boolean("tls", True)
    es = {
        "host": es_in.string("host", required=True, pattern=HOST_RE, what="a host name"),
        "tls": tls,
        "port": es_in.port("port", 443 if tls else 9200),
        "aws_auth": es_in.boolean("aws_auth", False),
        "aws_region": es_in.string("aws_region", aws_region, pattern=REGION_RE, what="an AWS region"),
        "index_date_format": es_in.string(
            "index_date_format", "%G-w%V", pattern=DATE_FORMAT_RE,
            what="a strftime format giving a lowercase index name (digits fields, lowercase letters, '.', '_', '-')",
        ),
        "output": es_in.string("output", "opensearch"),
        "http_user": es_in.string("http_user"),
        "http_passwd_env": es_in.string("http_passwd_env", pattern=ENV_RE, what="an environment variable name"),
    }
    if es["output"] not in ("opensearch", "es"):
        raise ConfigError(f"elasticsearch.output: expected 'opensearch' or 'es', got {es['output']!r}")
    if es["aws_auth"] and (es["http_user"] or es["http_passwd_env"]):
        raise ConfigError("elasticsearch: aws_auth and http_user/http_passwd_env exclude each other")
    if bool(es["http_user"]) != bool(es["http_passwd_env"]):
        raise ConfigError("elasticsearch: http_user and http_passwd_env go together")
    es_in.finish()

    front_in = _Reader(top.get("front", required=True), "front")
    listen = front_in.get("listen", 443)
    front = {
        "listen": _listen(listen),
        "server_name": front_in.string("server_name", "_", pattern=re.compile(r"[A-Za-z0-9._*-]+"), what="an nginx server_name"),
        "tls_certificate": front_in.string("tls_certificate", required=True),
        "tls_certificate_key": front_in.string("tls_certificate_key", required=True),
        "fluent_bit_url": front_in.string(
            "fluent_bit_url", f"http://{fluent_bit['http_listen']}:{fluent_bit['http_port']}",
            pattern=ENDPOINT_RE, what="a URL like http://127.0.0.1:9880",
        ).rstrip("/"),
        "js_dir": front_in.string("js_dir", "/etc/nginx/njs"),
        "log_dir": front_in.string("log_dir", "/var/log/nginx"),
        "user": front_in.string("user", "www-data", pattern=re.compile(r"[a-z_][a-z0-9_-]*"), what="a user name"),
    }
    for key in ("tls_certificate", "tls_certificate_key", "js_dir", "log_dir"):
        _check_path(front[key], f"front.{key}")
    front_in.finish()

    dead_letter_bucket = _bucket(top.string("dead_letter_bucket", "cwlogs-dead-letter"), "dead_letter_bucket")
    dead_letter_endpoint = top.string("dead_letter_endpoint", pattern=ENDPOINT_RE, what="a URL like http://127.0.0.1:9000")

    raw_commons = top.get("commons", required=True)
    if not isinstance(raw_commons, list) or not raw_commons:
        raise ConfigError("commons: expected a non-empty list")
    commons = [_load_commons(item, i, aws_region) for i, item in enumerate(raw_commons)]
    vector = _load_vector(top.get("vector", {}))
    top.finish()

    _check_unique(commons, lambda c: c.name, "name", "two commons named {}")
    _check_unique(commons, lambda c: c.tag, "tag",
                  "commons {} and {} get the same Fluent Bit tag {} (in_http turns every character "
                  "outside [A-Za-z0-9_.] into '_'); rename one")
    _check_unique(commons, lambda c: c.access_key_env, "firehose_access_key_env",
                  "commons {} and {} read their Firehose access key from the same variable {}; "
                  "the front could not tell their deliveries apart")
    return Deployment(aws_region, fluent_bit, es, front, dead_letter_bucket, dead_letter_endpoint, commons, vector)


def _listen(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535:
        return str(value)
    if isinstance(value, str) and re.fullmatch(r"(?:[0-9.]+|\[[0-9a-fA-F:]+\]):[0-9]{1,5}|[0-9]{1,5}", value):
        return value
    raise ConfigError(f"front.listen: expected a port or ADDRESS:PORT, got {value!r}")


def _check_path(value: str, where: str):
    # These are pasted into nginx.conf unquoted; `;`, quotes and spaces would
    # change its meaning.
    if not re.fullmatch(r"/[A-Za-z0-9_./-]*", value):
        raise ConfigError(f"{where}: expected an absolute path of [A-Za-z0-9_./-], got {value!r}")


def _check_unique(commons, key, what, message):
    seen: dict[str, Commons] = {}
    for c in commons:
        k = key(c)
        if k in seen:
            if what == "name":
                raise ConfigError("commons: " + message.format(repr(k)))
            raise ConfigError("commons: " + message.format(repr(seen[k].name), repr(c.name), repr(k)))
        seen[k] = c


def _load_commons(item, index: int, aws_region: str) -> Commons:
    where = f"commons[{index}]"
    r = _Reader(item, where)
    name = r.get("name", required=True)
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or len(name) > NAME_MAX:
        raise ConfigError(
            f"{where}.name: {name!r} is not a valid commons name: lowercase [a-z0-9][a-z0-9_-]*, "
            f"at most {NAME_MAX} characters (it becomes an Elasticsearch index prefix, "
            "an S3 bucket name and a Fluent Bit tag)"
        )
    if name in RESERVED_NAMES:
        raise ConfigError(f"{where}.name: {name!r} is reserved: records without a commons are routed there")
    where = f"commons[{index}] ({name})"
    r.where = where

    account = r.get("child_account_id", required=True)
    if not isinstance(account, str) or not ACCOUNT_RE.fullmatch(account):
        raise ConfigError(f"{where}.child_account_id: expected 12 digits as a string, got {account!r}")
    region = r.string("region", "us-east-1", pattern=REGION_RE, what="an AWS region")
    threshold = _threshold(r.get("threshold"), f"{where}.threshold")

    streams = r.get("alert_streams", [])
    if not isinstance(streams, list) or not all(isinstance(s, str) and STREAM_RE.fullmatch(s) for s in streams):
        raise ConfigError(
            f"{where}.alert_streams: expected a list of log stream substrings without commas or spaces, got {streams!r}"
        )
    slack_env = r.string("slack_webhook_path_env", pattern=ENV_RE, what="an environment variable name")
    # Alerts exist only to be posted to Slack: a threshold without a webhook
    # would make records that no output takes (Fluent Bit drops them), and a
    # webhook without a threshold looks configured but never fires (the
    # Lambda's alert silently never fired for years).
    if threshold is not None and slack_env is None:
        raise ConfigError(f"{where}: threshold is set but slack_webhook_path_env is not; alerts would have nowhere to go")
    if slack_env is not None and threshold is None:
        raise ConfigError(f"{where}: slack_webhook_path_env is set but threshold is not; no alert would ever be sent")
    if streams and threshold is None:
        raise ConfigError(f"{where}: alert_streams is set but threshold is not; it would have no effect")

    access_key_env = r.string("firehose_access_key_env", default_access_key_env(name),
                              pattern=ENV_RE, what="an environment variable name")
    index_prefix = r.string("es_index_prefix", name, pattern=NAME_RE, what="a lowercase index prefix [a-z0-9][a-z0-9_-]*")

    s3_in = _Reader(r.get("s3", {}), f"{where}.s3")
    bucket = _bucket(s3_in.string("bucket", f"{name}-logging"), f"{where}.s3.bucket")
    prefix = s3_in.get("prefix", "forwarded_")
    if not isinstance(prefix, str) or not S3_PREFIX_RE.fullmatch(prefix) or prefix.startswith("/") or "//" in prefix:
        raise ConfigError(f"{where}.s3.prefix: expected [A-Za-z0-9_.=/-]* not starting with '/', got {prefix!r}")
    s3 = S3Target(
        bucket=bucket,
        prefix=prefix,
        region=s3_in.string("region", aws_region, pattern=REGION_RE, what="an AWS region"),
        endpoint=s3_in.string("endpoint", pattern=ENDPOINT_RE, what="a URL like http://127.0.0.1:9000"),
    )
    s3_in.finish()
    r.finish()
    return Commons(name, account, region, threshold, list(streams), slack_env, access_key_env, index_prefix, s3)


# --------------------------------------------------------------------------
# YAML, by hand

_PLAIN_FIRST = re.compile(r"[A-Za-z0-9_/$^\\.(]")


def yaml_scalar(value) -> str:
    """A YAML scalar holding `value` as text.

    Fluent Bit's YAML reader takes every scalar as a string (plain `on` and
    `1` included, as in its own examples), so plain style is used wherever
    YAML allows it, for readability; values that start with an indicator
    (`%G-w%V`), contain `: ` or ` #`, quotes or non-ASCII are double-quoted
    (JSON escaping is valid YAML)."""
    text = value if isinstance(value, str) else str(value)
    if (
        text
        and text == text.strip()
        and _PLAIN_FIRST.match(text)
        and ": " not in text
        and " #" not in text
        and not text.endswith(":")
        and all(0x20 < ord(ch) < 0x7F or ch == " " for ch in text)
        and '"' not in text
        and "'" not in text
    ):
        return text
    return json.dumps(text, ensure_ascii=False)


def yaml_block(items: list[tuple[str, object]], indent: str) -> list[str]:
    """One mapping of a plugin. A list value is written as a YAML sequence,
    which Fluent Bit turns into a repeated property (`set`, `rule`, ...)."""
    lines = []
    for key, value in items:
        if isinstance(value, list):
            lines.append(f"{indent}{key}:")
            lines.extend(f"{indent}  - {yaml_scalar(v)}" for v in value)
        else:
            lines.append(f"{indent}{key}: {yaml_scalar(value)}")
    return lines


def yaml_comment(text: str, indent: str) -> list[str]:
    return [f"{indent}# {line}".rstrip() for line in text.strip("\n").split("\n")]


def on(flag: bool) -> str:
    return "on" if flag else "off"


# --------------------------------------------------------------------------
# Fluent Bit

CWLOGS_MATCH = r"^cwlogs\."
ROUTED_MATCH = r"^(document|alert|error)\."
KINDS = ("document", "alert", "error")


def _alternation(names: list[str]) -> str:
    # Names are [a-z0-9_-]: no regex metacharacters to escape.
    return "(?:" + "|".join(names) + ")"


def _s3_output(match_key: str, match: str, bucket: str, region: str, endpoint: str | None,
               key_format: str, store_dir: str) -> list[tuple[str, object]]:
    items: list[tuple[str, object]] = [
        ("name", "s3"),
        (match_key, match),
        ("bucket", bucket),
        ("region", region),
    ]
    if endpoint:
        items.append(("endpoint", endpoint))
    items += [
        ("s3_key_format", key_format),
        ("compression", "gzip"),
        ("json_date_key", "false"),
        ("total_file_size", "50M"),
        ("upload_timeout", "5m"),
        # Each output needs its own store_dir: out_s3 re-uploads whatever it
        # finds there at start-up, so a shared one would mix destinations.
        ("store_dir", store_dir),
        ("retry_limit", "no_limits"),
    ]
    return items


def _search_output(dep: Deployment, match: str, prefix_items: list[tuple[str, object]]) -> list[tuple[str, object]]:
    es = dep.es
    items: list[tuple[str, object]] = [
        ("name", es["output"]),
        ("match_regex", match),
        ("host", es["host"]),
        ("port", es["port"]),
        ("tls", on(es["tls"])),
    ]
    if es["tls"]:
        items.append(("tls.verify", "on"))
    items += [("logstash_format", "on")] + prefix_items + [
        ("logstash_dateformat", es["index_date_format"]),
        ("id_key", "id"),
        ("write_operation", "create"),
        ("suppress_type_name", "on"),
    ]
    if es["aws_auth"]:
        items += [("aws_auth", "on"), ("aws_region", es["aws_region"])]
    if es["http_user"]:
        items += [("http_user", es["http_user"]), ("http_passwd", "${" + es["http_passwd_env"] + "}")]
    items += [
        ("trace_error", "on"),
        ("retry_limit", "no_limits"),
        ("storage.total_limit_size", "10G"),
        ("buffer_size", "false"),
    ]
    return items


def render_fluent_bit(dep: Deployment, source: str, overrides: list[str]) -> str:
    fb = dep.fluent_bit
    out: list[str] = []
    out += yaml_comment(_header(source, overrides) + """
Fluent Bit (>= 4.1.2) pipeline for CloudWatch Logs subscription payloads
delivered by Amazon Data Firehose through the nginx front (front/nginx.conf).
Secrets are not in this file: ${VAR} values are read from Fluent Bit's
environment when it starts, AWS credentials from the usual AWS chain.""", "")
    out.append("")
    out.append("service:")
    out += yaml_block([
        ("flush", 1),
        ("log_level", "info"),
        ("storage.path", fb["storage_path"]),
        ("storage.sync", "normal"),
        ("storage.backlog.mem_limit", "64M"),
        ("http_server", "on"),
        ("http_listen", "127.0.0.1"),
        ("http_port", 2020),
        # Documents are UTF-8; escaping would grow non-ASCII text up to 6x.
        ("json.escape_unicode", "false"),
        # Outputs turn nested records back into JSON on their coroutine's
        # stack; Fluent Bit 4.1's 24 KiB default overflows (SIGSEGV) on
        # messages nested ~14 deep (seen on a real 4.1.2). 256 KiB held up
        # to the module's depth limit on every output.
        ("coro_stack_size", 262144),
    ], "  ")
    out.append("")
    out.append("pipeline:")
    out.append("  inputs:")
    out += yaml_comment("""
The front posts each Firehose delivery, unchanged (gzip or not), to
/cwlogs.<commons>; in_http makes the path the tag (characters outside
[A-Za-z0-9_.] become '_'), inflates gzip (up to 100 MB) and answers 201 only
after the filters ran and the chunk is buffered on disk.
Firehose sends at most 64 MiB per request.""", "    ")
    out += _list_item([
        ("name", "http"),
        ("listen", fb["http_listen"]),
        ("port", fb["http_port"]),
        ("storage.type", "filesystem"),
        ("buffer_max_size", "64M"),
        ("successful_response_code", 201),
        # The tag of a POST to `/` (any other path makes its own tag): it is
        # decoded as commons `unknown` and reaches the dead letter, not dropped.
        ("tag", "cwlogs.unlisted"),
    ])
    out.append("")
    out.append("  filters:")
    out += yaml_comment("""
1. Per commons: the decoder options (the wasm module reads gen3_cwlogs_*
   keys from the record). `set` overwrites and `remove` deletes whatever the
   payload carries, so a delivery cannot choose its commons, threshold,
   streams or schema. A tag of no listed commons (something else posting to
   in_http) is decoded as commons `unknown`, which only the dead letter takes.""", "    ")
    for c in dep.commons:
        sets = [f"gen3_cwlogs_commons {c.name}"]
        removes = []
        if c.threshold is not None:
            sets.append(f"gen3_cwlogs_threshold {c.threshold}")
        else:
            removes.append("gen3_cwlogs_threshold")
        if c.alert_streams:
            sets.append(f"gen3_cwlogs_alert_streams {','.join(c.alert_streams)}")
        else:
            removes.append("gen3_cwlogs_alert_streams")
        removes.append("gen3_cwlogs_schema")
        out += _list_item([("name", "modify"), ("match", c.tag), ("set", sets), ("remove", removes)])
    out += _list_item([
        ("name", "modify"),
        ("match_regex", CWLOGS_MATCH + "(?!" + _alternation([sanitise_tag(c.name) for c in dep.commons]) + "$)"),
        ("set", ["gen3_cwlogs_commons unknown"]),
        ("remove", ["gen3_cwlogs_threshold", "gen3_cwlogs_alert_streams", "gen3_cwlogs_schema"]),
    ])
    out.append("")
    out += yaml_comment("""
2. The WebAssembly decoder: one delivery in, one record out holding its
   documents, alerts and error documents. match_regex must not match the
   tags rewrite_tag emits below, or records would loop through it.""", "    ")
    out += _list_item([
        ("name", "wasm"),
        ("match_regex", CWLOGS_MATCH),
        ("wasm_path", fb["wasm_path"]),
        ("function_name", "gen3_cwlogs_filter"),
        ("event_format", "json"),
        ("wasm_heap_size", "64M"),
        ("wasm_stack_size", "1M"),
    ])
    out += yaml_comment("""
3. Split that record into one record per document, alert and error, each
   with _cwlogs_kind and _cwlogs_route (wasm filters cannot fan out).""", "    ")
    out += _list_item([
        ("name", "lua"),
        ("match_regex", CWLOGS_MATCH),
        ("script", fb["lua_path"]),
        ("call", "split"),
        ("protected_mode", "true"),
        ("enable_flb_null", "true"),
    ])
    out += yaml_comment("""
4. Give each split record its own event time (a split shares one), as
   seconds + nanoseconds: a fractional second would be truncated 1 ms early.""", "    ")
    out += _list_item([
        ("name", "lua"),
        ("match_regex", CWLOGS_MATCH),
        ("script", fb["lua_path"]),
        ("call", "set_time"),
        ("protected_mode", "true"),
        ("enable_flb_null", "true"),
        ("time_as_table", "true"),
    ])
    out += yaml_comment("""
5. Route: document.<commons>, alert.<commons>, error.<commons>
   (<commons> is `unknown` for records without one).""", "    ")
    out += _list_item([
        ("name", "rewrite_tag"),
        ("match_regex", CWLOGS_MATCH),
        ("rule", ["$_cwlogs_kind ^(document|alert|error)$ $1.$_cwlogs_route false"]),
        ("emitter_name", "cwlogs_router"),
        ("emitter_storage.type", "filesystem"),
        ("emitter_mem_buf_limit", "64M"),
    ])
    out += yaml_comment("6. The routing fields have done their job; keep them out of storage.", "    ")
    out += _list_item([
        ("name", "modify"),
        ("match_regex", ROUTED_MATCH),
        ("remove", ["_cwlogs_kind", "_cwlogs_route"]),
    ])
    out.append("")
    out.append("  outputs:")

    shared = [c.name for c in dep.commons if c.index_prefix == c.name]
    custom = [c for c in dep.commons if c.index_prefix != c.name]
    why = """
Search: index <commons>-<%s> from each document's own time,
_id = the CloudWatch event id, write_operation create, so a re-delivered
document is a 409 conflict instead of a duplicate.""" % dep.es["index_date_format"]
    if dep.es["output"] == "opensearch":
        why += """
`opensearch` rather than `es`: it retries a bulk unless every item is a 409
conflict (a bulk mixing new documents and conflicts is retried once, seen on
4.1.2), and with create + _id retries are idempotent; `es` counts a bulk with
any successful item as delivered and drops its failed items."""
    else:
        why += """
Note: the `es` output counts a bulk with any successful item as delivered and
drops its failed items; `opensearch` retries them (set elasticsearch.output)."""
    if shared:
        out += yaml_comment(why, "    ")
        out += _list_item(_search_output(
            dep, r"^document\." + _alternation(shared) + "$", [("logstash_prefix_key", "$commons")]))
    for c in custom:
        out += yaml_comment(f"Search for {c.name}: its own index prefix {c.index_prefix}.", "    ")
        out += _list_item(_search_output(
            dep, r"^document\." + _alternation([c.name]) + "$", [("logstash_prefix", c.index_prefix)]))

    store = fb["s3_store_dir"].rstrip("/")
    for c in dep.commons:
        out.append("")
        out += yaml_comment(f"{c.name}: archive (the Lambda's <commons>-logging bucket), dead letters, alerts.", "    ")
        key_tail = f"{c.name}-%Y%m%dT%H%M%S-$UUID.json.gz"
        out += _list_item(_s3_output(
            "match", f"document.{c.name}", c.s3.bucket, c.s3.region, c.s3.endpoint,
            f"/{c.s3.prefix}%Y/%m/%d/%H/{key_tail}", f"{store}/{c.name}"))
        # Names cannot contain '.', so `<name>.dead-letter` never collides
        # with another commons' store_dir.
        out += _list_item(_s3_output(
            "match", f"error.{c.name}", c.s3.bucket, c.s3.region, c.s3.endpoint,
            f"/dead-letter/%Y/%m/%d/%H/{key_tail}", f"{store}/{c.name}.dead-letter"))
        if c.slack_env:
            out += _list_item([
                ("name", "http"),
                ("match", f"alert.{c.name}"),
                ("host", "hooks.slack.com"),
                ("port", 443),
                ("tls", "on"),
                ("tls.verify", "on"),
                ("uri", "${" + c.slack_env + "}"),
                ("body_key", "$slack_payload"),
                # The record's slack_headers carry Content-Type; a `header`
                # line too would send it twice.
                ("headers_key", "$slack_headers"),
                ("retry_limit", 5),
            ])

    out.append("")
    out += yaml_comment("""
Deliveries that were not split into routed records: the Lua split (or its
protected call) failed, or rewrite_tag could not re-emit and kept the
original. Normally nothing has these tags here (rewrite_tag drops the
originals); kept raw so they can be replayed.""", "    ")
    out += _list_item(_s3_output(
        "match_regex", CWLOGS_MATCH, dep.dead_letter_bucket, dep.aws_region, dep.dead_letter_endpoint,
        "/undecoded/%Y/%m/%d/%H/$TAG[1]-%Y%m%dT%H%M%S-$UUID.json.gz", f"{store}/_undecoded"))
    out += yaml_comment("""
Everything routed to a commons not in the list, `unknown` included: kept in
the dead-letter bucket instead of being dropped by Fluent Bit as unroutable.
(Fluent Bit's Onigmo regex supports the (?!...) lookahead.)""", "    ")
    out += _list_item(_s3_output(
        "match_regex", ROUTED_MATCH + "(?!" + _alternation([c.name for c in dep.commons]) + "$)",
        dep.dead_letter_bucket, dep.aws_region, dep.dead_letter_endpoint,
        "/unrouted/%Y/%m/%d/%H/$TAG[0]-%Y%m%dT%H%M%S-$UUID.json.gz", f"{store}/_unrouted"))
    return "\n".join(out) + "\n"


def _list_item(items: list[tuple[str, object]]) -> list[str]:
    lines = yaml_block(items, "      ")
    lines[0] = "    - " + lines[0][6:]
    return lines


# --------------------------------------------------------------------------
# The Firehose front: nginx + njs


def _header(source: str, overrides: list[str]) -> str:
    text = f"Generated by {GENERATOR} from {source}. Do not edit: change the commons list and regenerate."
    if overrides:
        text += "\nOverrides: " + " ".join(overrides)
    return text


def render_nginx(dep: Deployment, source: str, overrides: list[str]) -> str:
    f = dep.front
    envs = "\n".join(f"env {c.access_key_env};" for c in dep.commons)
    user = f"user {f['user']};\n" if f["user"] else ""
    header = "\n".join(yaml_comment(_header(source, overrides), ""))
    return f"""{header}
#
# HTTPS endpoint for Amazon Data Firehose (HTTP endpoint destination, one
# delivery stream per commons). firehose.js checks the access key, posts the
# delivery unchanged to Fluent Bit's in_http under the commons' tag and
# answers in Firehose's format. The access keys are NOT here: nginx clears its
# environment except for the variables named by `env` below, which the nginx
# master process must have when it starts.

load_module modules/ngx_http_js_module.so;

{user}worker_processes auto;
error_log {f['log_dir']}/firehose.error.log warn;

{envs}

events {{
    worker_connections 1024;
}}

http {{
    server_tokens off;
    default_type application/json;

    js_path "{f['js_dir']}";
    js_import firehose.js;
    # Answer body for a request nginx refuses as too large itself (see error_page).
    js_set $firehose_too_large firehose.tooLarge;

    # Never log the access key; the request id lets one follow a delivery.
    log_format firehose '$remote_addr [$time_iso8601] "$request" $status '
                        '$request_length $body_bytes_sent $request_time '
                        'rid=$http_x_amz_firehose_request_id';
    access_log {f['log_dir']}/firehose.access.log firehose;

    server {{
        listen {f['listen']} ssl;
        server_name {f['server_name']};

        ssl_certificate {f['tls_certificate']};
        ssl_certificate_key {f['tls_certificate_key']};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:firehose:10m;
        ssl_session_timeout 1h;

        # Firehose sends at most 64 MiB per request. Larger bodies are
        # spooled to client_body_temp_path, which the proxy reads from.
        client_max_body_size 64m;
        client_body_timeout 60s;
        # Firehose drops a batch answered 413 for good; every other error is
        # retried and finally lands in its S3 backup bucket. So nginx's own
        # 413 becomes a 500 in Firehose's JSON form.
        error_page 413 = @too_large;

        location = / {{
            js_content firehose.handle;
        }}

        location @too_large {{
            return 500 $firehose_too_large;
        }}

        # Reached only by firehose.js's subrequest, which carries the original
        # body and headers (Content-Encoding: gzip included; in_http inflates it).
        location /_fluentbit/ {{
            internal;
            proxy_pass {f['fluent_bit_url']}/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # in_http (Fluent Bit 4.1) accepts exactly "application/json".
            proxy_set_header Content-Type application/json;
            # Fluent Bit has no use for the secret.
            proxy_set_header X-Amz-Firehose-Access-Key "";
            proxy_request_buffering on;
            # Firehose waits 3 minutes for an answer; give up before it does,
            # so it gets a 500 (and retries) rather than a timeout.
            proxy_connect_timeout 5s;
            proxy_send_timeout 60s;
            proxy_read_timeout 170s;
            # Fluent Bit's answers are empty; its error bodies are short.
            subrequest_output_buffer_size 16k;
        }}

        location / {{
            return 404 '{{"errorMessage":"not found: Firehose delivers to /"}}';
        }}
    }}
}}
"""


def render_njs(dep: Deployment, source: str, overrides: list[str]) -> str:
    table = ",\n".join(
        "    {name: %s, tag: %s, keyEnv: %s}" % (json.dumps(c.name), json.dumps(c.tag), json.dumps(c.access_key_env))
        for c in dep.commons
    )
    header = "\n".join("// " + line for line in _header(source, overrides).split("\n"))
    return header + """
//
// njs (0.7.9+) handler of the Firehose front (nginx.conf): Amazon Data
// Firehose HTTP endpoint delivery -> Fluent Bit in_http, one tag per commons.
// The body is never parsed: it may be gzip, and in_http inflates it.

// Commons served by this front: the Fluent Bit tag their deliveries get and
// the environment variable holding their Firehose access key.
var COMMONS = [
""" + table + """
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
"""


# --------------------------------------------------------------------------
# Vector (0.57): the VRL twin of the decoder, pipeline-configs/vector/cwlogs.vrl

# Vector's smallest disk buffer: two 128 MiB data files and the ledger
# (lib/vector-buffers). A smaller max_size is refused at start-up.
VECTOR_DISK_BUFFER_MIN = 268435488
DEFAULTS_VECTOR = {
    "address": "0.0.0.0:443",
    "tls_certificate": "/etc/vector/tls/firehose.crt",
    "tls_certificate_key": "/etc/vector/tls/firehose.key",
    "data_dir": "/var/lib/vector",
    "program_path": "/etc/vector/cwlogs.vrl",
    "secrets_dir": "/etc/vector/secrets",
    "buffer_max_size": VECTOR_DISK_BUFFER_MIN,
    "es_api_version": "v8",
}
# The secret backend every SECRET[...] of the Vector config names. Vector's
# secret reference is SECRET[<backend>.<key>] with both parts [[:word:]] (and
# `.`): the keys used are the variable names of the commons list, which
# ENV_RE keeps to word characters.
VECTOR_SECRET_BACKEND = "cwlogs"
# The decoder's defaults (crates/core Limits), written into each options
# object as crates/vector's `options_literal` does.
VECTOR_LIMITS = (("max_decompressed_bytes", 16777216), ("max_events_per_record", 50000), ("max_json_depth", 64))
VECTOR_ADDRESS_RE = re.compile(r"(?:[0-9.]+|\[[0-9a-fA-F:]+\]):[0-9]{1,5}")


def _load_vector(raw) -> dict:
    r = _Reader(raw, "vector")
    address = r.string("address", DEFAULTS_VECTOR["address"], pattern=VECTOR_ADDRESS_RE, what="an IP:PORT socket address")
    vector = {"address": address}
    for key in ("tls_certificate", "tls_certificate_key", "data_dir", "program_path", "secrets_dir"):
        value = r.string(key, DEFAULTS_VECTOR[key])
        _check_path(value, f"vector.{key}")
        vector[key] = value.rstrip("/") or "/"
    size = r.get("buffer_max_size", DEFAULTS_VECTOR["buffer_max_size"])
    if isinstance(size, bool) or not isinstance(size, int) or size < VECTOR_DISK_BUFFER_MIN:
        raise ConfigError(f"vector.buffer_max_size: expected bytes >= {VECTOR_DISK_BUFFER_MIN} "
                          f"(Vector's smallest disk buffer), got {size!r}")
    vector["buffer_max_size"] = size
    api = r.string("es_api_version", DEFAULTS_VECTOR["es_api_version"])
    if api not in ("auto", "v6", "v7", "v8"):
        raise ConfigError(f"vector.es_api_version: expected auto, v6, v7 or v8, got {api!r}")
    vector["es_api_version"] = api
    r.finish()
    return vector


_VECTOR_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"}


def vector_scalar(value) -> str:
    """A YAML scalar for Vector (which, unlike Fluent Bit, types scalars):
    booleans and integers plain, strings plain only when YAML cannot read
    them as anything else, otherwise double-quoted (JSON escaping)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _VECTOR_PLAIN.fullmatch(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)


def vector_yaml(value, indent: str) -> list[str]:
    """Block YAML for a mapping (dict) whose values are scalars, lists of
    scalars, mappings, or multi-line strings (written as literal blocks)."""
    lines = []
    for key, item in value.items():
        head = f"{indent}{vector_scalar(key)}:"
        if isinstance(item, dict):
            lines.append(head)
            lines.extend(vector_yaml(item, indent + "  "))
        elif isinstance(item, list):
            lines.append(head + " [" + ", ".join(vector_scalar(v) for v in item) + "]")
        elif isinstance(item, str) and "\n" in item:
            lines.append(head + " |")
            lines.extend((indent + "  " + line).rstrip() for line in item.rstrip("\n").split("\n"))
        else:
            lines.append(f"{head} {vector_scalar(item)}")
    return lines


def vector_secret(key: str) -> str:
    return f"SECRET[{VECTOR_SECRET_BACKEND}.{key}]"


def vrl_string(text: str) -> str:
    """A VRL string literal (crates/vector's `vrl_string`)."""
    out = ['"']
    for ch in text:
        out.append({'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0",
                    "{": "\\{", "}": "\\}"}.get(ch, ch))
    out.append('"')
    return "".join(out)


def vrl_float(text: str) -> str:
    """A threshold as a VRL float literal, as Rust's Display of the f64 the
    plugin parses (no exponent, always a point)."""
    from decimal import Decimal
    number = format(Decimal(repr(float(text))), "f")
    return number if "." in number else number + ".0"


def vrl_options_literal(c: Commons) -> str:
    """The `%gen3_cwlogs` object for a commons, in crates/vector's
    `options_literal` form."""
    parts = [f'"commons": {vrl_string(c.name)}']
    if c.threshold is not None:
        parts.append(f'"threshold": {vrl_float(c.threshold)}')
    if c.alert_streams:
        parts.append('"alert_streams": [' + ", ".join(vrl_string(s) for s in c.alert_streams) + "]")
    parts.append('"schema": "gen3"')
    parts += [f'"{key}": {value}' for key, value in VECTOR_LIMITS]
    return "{" + ", ".join(parts) + "}"


def vrl_options_program(dep: Deployment) -> str:
    """The options remap (options.example.vrl's form, crates/vector's
    `options_program`): the decoder's options chosen by the Firehose access
    key. The keys are SECRET[...] references that Vector replaces in the
    config text when it loads it."""
    out = [
        "# The decoder's options for this delivery, chosen by its Firehose access key.",
        'access_key = get_secret("aws_kinesis_firehose_access_key")',
    ]
    for i, c in enumerate(dep.commons):
        keyword = "if" if i == 0 else "} else if"
        out.append(f"{keyword} access_key == {vrl_string(vector_secret(c.access_key_env))} {{")
        out.append(f"  %gen3_cwlogs = {vrl_options_literal(c)}")
    out += [
        "} else {",
        "  # Unreachable while the source's access_keys are exactly these keys.",
        "  %gen3_cwlogs = {}",
        "}",
    ]
    return "\n".join(out) + "\n"


def _vector_disk_buffer(dep: Deployment) -> dict:
    return {"type": "disk", "max_size": dep.vector["buffer_max_size"], "when_full": "block"}


def _vector_s3(dep: Deployment, inputs: list[str], bucket: str, region: str, endpoint: str | None,
               key_prefix: str, except_fields: list[str]) -> dict:
    sink: dict = {"type": "aws_s3", "inputs": inputs, "bucket": bucket, "region": region}
    if endpoint:
        sink["endpoint"] = endpoint
    sink["key_prefix"] = key_prefix
    if not re.match(r"[^%{]", key_prefix):
        # Only an empty s3.prefix gets here: the template then starts with a
        # strftime field, which Vector 0.57 refuses without this opt-out. It
        # has no {{ field }}, so an event cannot steer the key.
        sink["dangerously_allow_unconfined_template_resolution"] = True
    sink.update({
        # The upload time, as Fluent Bit's key: <prefix><event hour>/<name>-<upload time>-<uuid>.json.gz
        "filename_time_format": "%Y%m%dT%H%M%S",
        "filename_append_uuid": True,
        "filename_extension": "json.gz",
        "compression": "gzip",
        "encoding": {"codec": "json"} | ({"except_fields": except_fields} if except_fields else {}),
        # json in this sink is ','-delimited unless framing says otherwise.
        "framing": {"method": "newline_delimited"},
        "batch": {"max_bytes": 50000000, "timeout_secs": 300},
        "buffer": _vector_disk_buffer(dep),
    })
    return sink


def _vector_search(dep: Deployment, c_names: list[str], index_prefix: str) -> dict:
    es = dep.es
    scheme = "https" if es["tls"] else "http"
    sink: dict = {
        "type": "elasticsearch",
        "inputs": [f"cwlogs_documents.{n}" for n in c_names],
        "endpoints": [f"{scheme}://{es['host']}:{es['port']}"],
        "mode": "bulk",
        "api_version": dep.vector["es_api_version"],
        "bulk": {"index": f"{index_prefix}-{es['index_date_format']}", "action": "create"},
        # The field becomes the bulk item's _id and is removed from the document.
        "id_key": "_cwlogs_id",
        "request_retry_partial": True,
    }
    if es["aws_auth"]:
        sink["auth"] = {"strategy": "aws"}
        sink["aws"] = {"region": es["aws_region"]}
    elif es["http_user"]:
        sink["auth"] = {"strategy": "basic", "user": es["http_user"], "password": vector_secret(es["http_passwd_env"])}
    sink.update({
        # _cwlogs_time names the index week (log_schema.timestamp_key), then is left out.
        "encoding": {"except_fields": ["_cwlogs_time"]},
        # OpenSearch Service takes at most 10 MiB per request.
        "batch": {"max_bytes": 9000000, "timeout_secs": 1},
        "buffer": _vector_disk_buffer(dep),
    })
    return sink


def render_vector(dep: Deployment, source: str, overrides: list[str]) -> str:
    v = dep.vector
    names = [c.name for c in dep.commons]
    alerting = [c for c in dep.commons if c.slack_env]
    hidden = ["_cwlogs_id", "_cwlogs_time"]

    def route_on(meta: str, values: list[str]) -> dict:
        return {value: f"%{meta} == {vrl_string(value)}" for value in values}

    sources = {"firehose": {
        "type": "aws_kinesis_firehose",
        "address": v["address"],
        "tls": {"enabled": True, "crt_file": v["tls_certificate"], "key_file": v["tls_certificate_key"]},
        "access_keys": [vector_secret(c.access_key_env) for c in dep.commons],
        "store_access_key": True,
        "record_compression": "auto",
        # Answer Firehose only once every event of the request is in the
        # sinks' disk buffers (or delivered); a failure makes it retry.
        "acknowledgements": True,
    }}
    transforms = {
        "cwlogs_options": {"type": "remap", "inputs": ["firehose"], "source": vrl_options_program(dep)},
        "cwlogs_decode": {
            "type": "remap", "inputs": ["cwlogs_options"],
            # The shipped program itself, installed from pipeline-configs/vector/cwlogs.vrl.
            "file": v["program_path"],
            "drop_on_error": True, "drop_on_abort": True, "reroute_dropped": True,
        },
        "cwlogs_fields": {
            "type": "remap", "inputs": ["cwlogs_decode"],
            "source": "# Routing fields into metadata: they never reach a sink's output. _cwlogs_id\n"
                      "# (the search _id) and _cwlogs_time (template time) stay as fields.\n"
                      "%cwlogs_kind = del(._cwlogs_kind)\n"
                      "%cwlogs_route = del(._cwlogs_route)\n",
        },
        "cwlogs_kind": {"type": "route", "inputs": ["cwlogs_fields"], "route": route_on("cwlogs_kind", list(KINDS))},
        "cwlogs_documents": {"type": "route", "inputs": ["cwlogs_kind.document"], "route": route_on("cwlogs_route", names)},
        "cwlogs_errors": {"type": "route", "inputs": ["cwlogs_kind.error"], "route": route_on("cwlogs_route", names)},
    }
    if alerting:
        transforms["cwlogs_alerts"] = {"type": "route", "inputs": ["cwlogs_kind.alert"],
                                       "route": route_on("cwlogs_route", [c.name for c in alerting])}
    unrouted = ["cwlogs_documents._unmatched", "cwlogs_errors._unmatched",
                "cwlogs_alerts._unmatched" if alerting else "cwlogs_kind.alert"]
    transforms["cwlogs_unrouted"] = {
        "type": "remap", "inputs": unrouted,
        "source": "# Kept for replay: say what the record was and where it was going.\n"
                  "._cwlogs_kind = %cwlogs_kind\n"
                  "._cwlogs_route = %cwlogs_route\n",
    }

    sinks: dict = {}
    groups: dict[str, list[str]] = {}
    for c in dep.commons:
        groups.setdefault(c.index_prefix, []).append(c.name)
    for prefix, members in groups.items():
        sinks[f"search_{prefix}"] = _vector_search(dep, members, prefix)
    for c in dep.commons:
        sinks[f"s3_{c.name}"] = _vector_s3(
            dep, [f"cwlogs_documents.{c.name}"], c.s3.bucket, c.s3.region, c.s3.endpoint,
            f"{c.s3.prefix}%Y/%m/%d/%H/{c.name}-", hidden)
        sinks[f"dead_letter_{c.name}"] = _vector_s3(
            dep, [f"cwlogs_errors.{c.name}"], c.s3.bucket, c.s3.region, c.s3.endpoint,
            f"dead-letter/%Y/%m/%d/%H/{c.name}-", hidden)
        if c.slack_env:
            sinks[f"slack_{c.name}"] = {
                "type": "http",
                "inputs": [f"cwlogs_alerts.{c.name}"],
                # The secret is the webhook path (/services/...), as for Fluent Bit.
                "uri": "https://hooks.slack.com" + vector_secret(c.slack_env),
                "method": "post",
                "encoding": {"codec": "json", "except_fields": hidden},
                "framing": {"method": "newline_delimited"},
                "batch": {"max_events": 1},
                "healthcheck": {"enabled": False},
                "request": {"retry_attempts": 5},
                "buffer": _vector_disk_buffer(dep),
            }
    sinks["dead_letter_undecoded"] = _vector_s3(
        dep, ["cwlogs_decode.dropped", "cwlogs_kind._unmatched"], dep.dead_letter_bucket, dep.aws_region,
        dep.dead_letter_endpoint, "undecoded/%Y/%m/%d/%H/", [])
    sinks["dead_letter_unrouted"] = _vector_s3(
        dep, ["cwlogs_unrouted"], dep.dead_letter_bucket, dep.aws_region,
        dep.dead_letter_endpoint, "unrouted/%Y/%m/%d/%H/", [])

    out = yaml_comment(_header(source, overrides) + f"""
Vector (0.57) pipeline for CloudWatch Logs subscription payloads delivered by
Amazon Data Firehose: the VRL twin of the decoder ({v['program_path']},
installed from pipeline-configs/vector/cwlogs.vrl), per commons options by
Firehose access key, search, S3 and Slack sinks with disk buffers.
Secrets are not in this file: SECRET[{VECTOR_SECRET_BACKEND}.<VARIABLE>] is the file
{v['secrets_dir']}/<VARIABLE> (the variable names of the commons list), read by
Vector's `directory` secret backend when it loads this file. No ${{VAR}} is
used: environment interpolation is off by default in Vector 0.57.
AWS credentials come from the usual AWS chain.""", "")
    out += ["", *vector_yaml({"data_dir": v["data_dir"]}, "")]
    out += yaml_comment("""
Templates (index week, S3 key hours) read the event timestamp field; the
program puts each document's own time in _cwlogs_time (and reads the
request time from there).""", "")
    out += vector_yaml({"log_schema": {"timestamp_key": "_cwlogs_time"}}, "")
    out += vector_yaml({"secret": {VECTOR_SECRET_BACKEND: {
        "type": "directory", "path": v["secrets_dir"], "remove_trailing_whitespace": True}}}, "")
    out += ["", "sources:", *vector_yaml(sources, "  "), "", "transforms:"]
    for key, comp in transforms.items():
        out += vector_yaml({key: comp}, "  ")
    out += ["", "sinks:"]
    for key, comp in sinks.items():
        out += vector_yaml({key: comp}, "  ")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# Command line


def render_all(dep: Deployment, source: str, overrides: list[str]) -> dict[str, str]:
    return {
        "fluent-bit/fluent-bit.yaml": render_fluent_bit(dep, source, overrides),
        "front/nginx.conf": render_nginx(dep, source, overrides),
        "front/firehose.js": render_njs(dep, source, overrides),
        "vector/vector.yaml": render_vector(dep, source, overrides),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("commons", help="the commons list (JSON)")
    parser.add_argument("--out", required=True, help="directory to write fluent-bit/, front/ and vector/ into")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the files in --out differ from what would be generated")
    group = parser.add_argument_group("front overrides (tests and local runs; recorded in the generated header)")
    group.add_argument("--front-listen", help="listen address, e.g. 127.0.0.1:8443")
    group.add_argument("--front-fluent-bit-url", help="Fluent Bit in_http URL, e.g. http://127.0.0.1:9880")
    group.add_argument("--front-js-dir", help="directory holding firehose.js")
    group.add_argument("--front-tls-dir", help="directory holding the certificate and key (their configured file names)")
    group.add_argument("--front-log-dir", help="directory for nginx's error and access logs")
    args = parser.parse_args(argv)

    path = Path(args.commons)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        print(f"{path}: cannot read the commons list: {e}", file=sys.stderr)
        return 2

    overrides = []
    if args.front_listen:
        overrides.append(f"--front-listen {args.front_listen}")
    if args.front_fluent_bit_url:
        overrides.append(f"--front-fluent-bit-url {args.front_fluent_bit_url}")
    if args.front_js_dir:
        overrides.append(f"--front-js-dir {args.front_js_dir}")
    if args.front_tls_dir:
        overrides.append(f"--front-tls-dir {args.front_tls_dir}")
    if args.front_log_dir:
        overrides.append(f"--front-log-dir {args.front_log_dir}")
    try:
        front = data.get("front") if isinstance(data, dict) else None
        if overrides and isinstance(front, dict):
            front = dict(front)
            if args.front_listen:
                front["listen"] = args.front_listen
            if args.front_fluent_bit_url:
                front["fluent_bit_url"] = args.front_fluent_bit_url
            if args.front_js_dir:
                front["js_dir"] = os.path.abspath(args.front_js_dir)
            if args.front_log_dir:
                front["log_dir"] = os.path.abspath(args.front_log_dir)
            if args.front_tls_dir:
                tls_dir = os.path.abspath(args.front_tls_dir)
                for key in ("tls_certificate", "tls_certificate_key"):
                    if isinstance(front.get(key), str):
                        front[key] = os.path.join(tls_dir, os.path.basename(front[key]))
            data = dict(data, front=front)
        dep = load(data)
    except ConfigError as e:
        print(f"{path}: {e}", file=sys.stderr)
        return 2

    files = render_all(dep, path.name, overrides)
    out = Path(args.out)
    if args.check:
        stale = []
        for rel, text in files.items():
            target = out / rel
            try:
                current = target.read_text(encoding="utf-8")
            except OSError:
                current = None
            if current != text:
                stale.append(str(target))
        if stale:
            print("out of date (regenerate, do not edit): " + ", ".join(stale), file=sys.stderr)
            return 1
        return 0
    for rel, text in files.items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
