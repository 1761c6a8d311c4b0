"""Reading a commons list (parsed JSON) into the model, strictly.

Unknown keys, bad names, numbers and collisions are refused with a message
naming the key, because a mistake here silently loses logs at run time: a
record whose tag no output matches is dropped by Fluent Bit with only a
warning.
"""

from __future__ import annotations

import math
import re

from .model import (
    ACCOUNT_RE, BUCKET_RE, DATE_FORMAT_RE, ENDPOINT_RE, ENV_RE, HOST_RE, NAME_MAX, NAME_RE, REGION_RE,
    RESERVED_NAMES, S3_PREFIX_RE, SEED_LIFECYCLE, STREAM_RE, AwsSettings, Commons, ConfigError, Deployment, Reader,
    Retention, S3Target, default_access_key_env,
)
from .schema import SCHEMA, SLOW_THRESHOLD, OptionSchema
from .shapes import SHAPES

DEFAULTS_FLUENT_BIT = {
    "http_listen": "127.0.0.1",
    "http_port": 9880,
    "storage_path": "/var/lib/fluent-bit/storage",
    "s3_store_dir": "/var/lib/fluent-bit/s3",
    "wasm_path": "/etc/fluent-bit/gen3_cwlogs_fluent_bit.wasm",
    "lua_path": "/etc/fluent-bit/cwlogs.lua",
    # Fluent Bit's own HTTP server (metrics, health), on 127.0.0.1.
    "monitoring_port": 2020,
    # Where the Slack outputs post (a local capture in benchmarks).
    "slack_host": "hooks.slack.com",
    "slack_tls": True,
    # out_s3 uploads a buffered file when it reaches this size, or this long
    # after its first record.
    "s3_total_file_size": "50M",
    "s3_upload_timeout": "5m",
    # out_s3's compression of document archives (zstd: 35-45% less S3
    # worker CPU than gzip); dead letters stay gzip, which the CLI reads.
    "archive_compression": "zstd",
    # Flush interval (s); search output threads (0: the pipeline thread,
    # which runs every filter, builds bulks; 2 took 40% of its CPU off it).
    "flush": 1,
    "search_workers": 2,
}
SIZE_RE = re.compile(r"[1-9][0-9]*[KMG]")
DURATION_RE = re.compile(r"[1-9][0-9]*[smh]")

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
VECTOR_ADDRESS_RE = re.compile(r"(?:[0-9.]+|\[[0-9a-fA-F:]+\]):[0-9]{1,5}")

# Firehose delivers only to HTTPS on port 443; the front answers on `/` only.
FIREHOSE_URL_RE = re.compile(r"https://([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?::443)?/?")
# Firehose buffering for the HTTP endpoint destination. The size is the
# smallest Firehose allows: one delivery is one search _bulk request in the
# Fluent Bit pipeline, measured at 7-14x the buffered (gzip'd) record bytes
# (tools/bulk_expansion.py; README, "Firehose buffering"), and OpenSearch
# refuses requests over 10 MiB (small Amazon instance types) or 100 MiB.
DEFAULTS_AWS = {"buffer_size_mib": 1, "buffer_interval_secs": 60, "retry_duration_secs": 7200}
# Search retention (days from an index's creation), the seed's bucket
# lifecycle: warm when S3 moves to STANDARD_IA, cold at GLACIER, deleted at
# the bucket's expiry.
DEFAULTS_RETENTION = {"warm_days": SEED_LIFECYCLE["STANDARD_IA"], "cold_days": SEED_LIFECYCLE["GLACIER"],
                      "delete_days": SEED_LIFECYCLE["expire"]}
RETENTION_MAX_DAYS = 36500


def load(data, options: OptionSchema) -> Deployment:
    top = Reader(data, "commons list")
    aws_region = top.string("aws_region", "us-east-1", pattern=REGION_RE, what="an AWS region")

    fb_in = Reader(top.get("fluent_bit", {}), "fluent_bit")
    # Settings that are strings of a known shape: (key, pattern, what).
    checked = [("http_listen", HOST_RE, "a host"), ("slack_host", HOST_RE, "a host"),
               ("s3_total_file_size", SIZE_RE, "a size like 50M"), ("s3_upload_timeout", DURATION_RE, "a duration like 5m"),
               ("archive_compression", re.compile("gzip|zstd"), "one of gzip, zstd")]
    fluent_bit = {key: fb_in.string(key, DEFAULTS_FLUENT_BIT[key], pattern=p, what=what) for key, p, what in checked}
    fluent_bit["http_port"] = fb_in.port("http_port", DEFAULTS_FLUENT_BIT["http_port"])
    for key in ("storage_path", "s3_store_dir", "wasm_path", "lua_path"):
        value = fb_in.string(key, DEFAULTS_FLUENT_BIT[key])
        if not value.startswith("/") or any(c.isspace() for c in value):
            raise ConfigError(f"fluent_bit.{key}: expected an absolute path without spaces, got {value!r}")
        fluent_bit[key] = value.rstrip("/") or "/"
    fluent_bit["monitoring_port"] = fb_in.port("monitoring_port", DEFAULTS_FLUENT_BIT["monitoring_port"])
    fluent_bit["slack_tls"] = fb_in.boolean("slack_tls", DEFAULTS_FLUENT_BIT["slack_tls"])
    fluent_bit["slack_port"] = fb_in.port("slack_port", 443 if fluent_bit["slack_tls"] else 80)
    fluent_bit["flush"] = _flush(fb_in.get("flush", DEFAULTS_FLUENT_BIT["flush"]))
    fluent_bit["search_workers"] = fb_in.integer("search_workers", DEFAULTS_FLUENT_BIT["search_workers"], 0, 16,
                                                 "a number of worker threads")
    fb_in.finish()

    es_raw = top.get("elasticsearch", required=True)
    es = _load_search(es_raw, aws_region)
    front = _load_front(top.get("front", required=True), fluent_bit)

    dead_letter_bucket = _bucket(top.string("dead_letter_bucket", "cwlogs-dead-letter"), "dead_letter_bucket")
    dead_letter_endpoint = top.string("dead_letter_endpoint", pattern=ENDPOINT_RE, what="a URL like http://127.0.0.1:9000")

    raw_commons = top.get("commons", required=True)
    if not isinstance(raw_commons, list) or not raw_commons:
        raise ConfigError("commons: expected a non-empty list")
    commons = [_load_commons(item, i, aws_region, options, es["retention"]) for i, item in enumerate(raw_commons)]
    vector = _load_vector(top.get("vector", {}))
    aws_raw = top.get("aws")
    aws = None if aws_raw is None else _load_aws(aws_raw, front, commons)
    top.finish()

    _check_unique(commons, lambda c: c.name, "name", "two commons named {}")
    _check_unique(commons, lambda c: c.tag, "tag",
                  "commons {} and {} get the same Fluent Bit tag {} (in_http turns every character "
                  "outside [A-Za-z0-9_.] into '_'); rename one")
    _check_unique(commons, lambda c: c.access_key_env, "firehose_access_key_env",
                  "commons {} and {} read their Firehose access key from the same variable {}; "
                  "the front could not tell their deliveries apart")
    _check_indices(commons, es["index_date_format"])
    return Deployment(aws_region, fluent_bit, es, front, dead_letter_bucket, dead_letter_endpoint, commons, vector,
                      options, aws)


def _flush(value) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.05 <= value <= 60:
        raise ConfigError(f"fluent_bit.flush: expected seconds (0.05-60), got {value!r}")
    return value


def _load_search(raw, aws_region: str) -> dict:
    es_in = Reader(raw, "elasticsearch")
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
        "retention": _retention(es_in.get("retention", {}), "elasticsearch.retention", DEFAULTS_RETENTION),
    }
    if es["output"] not in ("opensearch", "es"):
        raise ConfigError(f"elasticsearch.output: expected 'opensearch' or 'es', got {es['output']!r}")
    if es["aws_auth"] and (es["http_user"] or es["http_passwd_env"]):
        raise ConfigError("elasticsearch: aws_auth and http_user/http_passwd_env exclude each other")
    if bool(es["http_user"]) != bool(es["http_passwd_env"]):
        raise ConfigError("elasticsearch: http_user and http_passwd_env go together")
    es_in.finish()
    return es


def _load_front(raw, fluent_bit: dict) -> dict:
    front_in = Reader(raw, "front")
    front = {
        "listen": _listen(front_in.get("listen", 443)),
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
        "part_bytes": front_in.integer("part_bytes", 131072, 0, 64 << 20, what="bytes of records per part (0: no parts)"),
    }
    for key in ("tls_certificate", "tls_certificate_key", "js_dir", "log_dir"):
        check_path(front[key], f"front.{key}")
    front_in.finish()
    return front


def _threshold(value, where: str, options: OptionSchema) -> str | None:
    """The threshold is written as the string the wasm module parses; refuse
    anything the decoder would refuse (not a finite number within the
    option's bounds), as the Lambda's string threshold silently disabled
    alerts when it was not one."""
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
    bounds = options[SLOW_THRESHOLD]
    low = bounds.minimum if bounds.minimum is not None else -math.inf
    high = bounds.maximum if bounds.maximum is not None else math.inf
    if not math.isfinite(number) or not low <= number <= high:
        what = f">= {low:g}" if high == math.inf else f"{low:g}-{high:g}"
        raise ConfigError(f"{where}: expected a finite number of seconds {what}, got {value!r}")
    return text


def _retention(raw, where: str, defaults: dict) -> dict:
    r = Reader(raw, where)
    days = {key: r.integer(key, defaults[key], 1, RETENTION_MAX_DAYS, "days") for key in DEFAULTS_RETENTION}
    r.finish()
    if not days["warm_days"] < days["cold_days"] < days["delete_days"]:
        raise ConfigError(f"{where}: expected warm_days < cold_days < delete_days, got "
                          f"{days['warm_days']}, {days['cold_days']}, {days['delete_days']}")
    return days


def _schema(value, where: str, options: OptionSchema) -> str:
    """The commons' document schema: one of the decoder's (decoder-options.json),
    and one the generator can route and map."""
    option = options[SCHEMA]
    if not isinstance(value, str) or value not in option.values:
        raise ConfigError(f"{where}: expected one of the decoder's schemas ({', '.join(option.values)}), got {value!r}")
    if value not in SHAPES:
        raise ConfigError(f"{where}: the decoder has a schema {value!r} the generator does not know yet "
                          f"(cwlogs_config/shapes.py knows {', '.join(SHAPES)}): no search output or "
                          "index template could follow its documents")
    return value


def _bucket(name: str, where: str) -> str:
    if not BUCKET_RE.fullmatch(name) or ".." in name or re.fullmatch(r"[0-9.]+", name):
        raise ConfigError(
            f"{where}: {name!r} is not a valid S3 bucket name "
            "(3-63 characters: lowercase letters, digits, '-' and '.')"
        )
    return name


def _listen(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535:
        return str(value)
    if isinstance(value, str) and re.fullmatch(r"(?:[0-9.]+|\[[0-9a-fA-F:]+\]):[0-9]{1,5}|[0-9]{1,5}", value):
        return value
    raise ConfigError(f"front.listen: expected a port or ADDRESS:PORT, got {value!r}")


def check_path(value: str, where: str):
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


def _check_indices(commons: list[Commons], date_format: str):
    """Commons writing the same indices need the same mapping and retention;
    and no prefix may take another's weekly indices as its own: `dev-2024`
    would match dev's `dev-2024-w01` through its pattern `dev-2024-*`."""
    by_prefix: dict[str, Commons] = {}
    for c in commons:
        first = by_prefix.setdefault(c.index_prefix, c)
        for what in ("schema", "retention"):
            if getattr(first, what) != getattr(c, what):
                raise ConfigError(f"commons: {first.name!r} and {c.name!r} write the same indices "
                                  f"({c.index_prefix}-*) but differ in {what}; give one its own es_index_prefix")
    # What a rendered date can start with: a digit for a strftime field,
    # else the format's first literal character.
    starts = "0123456789" if date_format.startswith("%") else date_format[0]
    for short in by_prefix:
        for long in by_prefix:
            rest = long[len(short) + 1:]
            if long.startswith(short + "-") and rest and rest[0] in starts:
                raise ConfigError(
                    f"commons: index prefix {long!r} ({by_prefix[long].name}) looks like an index of {short!r} "
                    f"({by_prefix[short].name}): its template pattern {long}-* would also match {short}'s indices "
                    f"{short}-<{date_format}>; set es_index_prefix")


def _load_commons(item, index: int, aws_region: str, options: OptionSchema, retention: dict) -> Commons:
    where = f"commons[{index}]"
    r = Reader(item, where)
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
    threshold = _threshold(r.get("threshold"), f"{where}.threshold", options)

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
    # Kinesis' own bound is the account's shard quota; 1 is what the seed used.
    shard_count = r.integer("shard_count", 1, 1, 10000, "a number of Kinesis shards")

    s3_in = Reader(r.get("s3", {}), f"{where}.s3")
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
    schema = _schema(r.get("schema", options[SCHEMA].default), f"{where}.schema", options)
    days = _retention(r.get("search_retention", {}), f"{where}.search_retention", retention)
    r.finish()
    return Commons(name, account, region, threshold, list(streams), slack_env, access_key_env, index_prefix, s3,
                   shard_count, schema, Retention(**days))


def _load_vector(raw) -> dict:
    r = Reader(raw, "vector")
    address = r.string("address", DEFAULTS_VECTOR["address"], pattern=VECTOR_ADDRESS_RE, what="an IP:PORT socket address")
    vector = {"address": address}
    for key in ("tls_certificate", "tls_certificate_key", "data_dir", "program_path", "secrets_dir"):
        value = r.string(key, DEFAULTS_VECTOR[key])
        check_path(value, f"vector.{key}")
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


def _load_aws(raw, front: dict, commons: list[Commons]) -> AwsSettings:
    r = Reader(raw, "aws")
    account = r.get("csoc_account_id", required=True)
    if not isinstance(account, str) or not ACCOUNT_RE.fullmatch(account):
        raise ConfigError(f"aws.csoc_account_id: expected 12 digits as a string, got {account!r}")
    server = front["server_name"]
    default_url = None if server == "_" or "*" in server else f"https://{server}/"
    url = r.string("firehose_url", default_url)
    if url is None:
        raise ConfigError("aws.firehose_url: required when front.server_name is not a host name "
                          "(Firehose needs the front's public https:// URL)")
    m = FIREHOSE_URL_RE.fullmatch(url)
    if not m:
        raise ConfigError(f"aws.firehose_url: expected https://HOST/ (Firehose delivers to HTTPS on port 443, "
                          f"the front answers on /), got {url!r}")
    settings = AwsSettings(
        csoc_account_id=account,
        firehose_url=f"https://{m.group(1)}/",
        # Firehose's bounds for an HTTP endpoint destination.
        buffer_size_mib=r.integer("buffer_size_mib", DEFAULTS_AWS["buffer_size_mib"], 1, 64, "MiB"),
        buffer_interval_secs=r.integer("buffer_interval_secs", DEFAULTS_AWS["buffer_interval_secs"], 0, 900, "seconds"),
        retry_duration_secs=r.integer("retry_duration_secs", DEFAULTS_AWS["retry_duration_secs"], 0, 7200, "seconds"),
    )
    r.finish()
    for i, c in enumerate(commons):
        where = f"commons[{i}] ({c.name})"
        # A CloudWatch Logs destination must be in its log group's region, and
        # a stack creates everything in its own region: the commons' CSOC
        # stack (destination, stream, Firehose, bucket) lives in `region`.
        if c.s3.region != c.region:
            raise ConfigError(f"{where}.s3.region: {c.s3.region!r} differs from its region {c.region!r}; with an aws "
                              "section the commons' CSOC stack creates the bucket in the commons' region (a CloudWatch "
                              "Logs destination must be in its log group's region)")
        if c.s3.endpoint is not None:
            raise ConfigError(f"{where}.s3.endpoint: set, so its bucket is not in AWS; the aws section's "
                              "CloudFormation creates the bucket and backs Firehose up to it")
    return settings
