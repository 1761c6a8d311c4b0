"""The validated commons list: what every renderer reads.

load.py builds these from the JSON list; nothing here reads files. Names
and patterns are kept to what every consumer of a value accepts (index
prefixes, bucket names, Fluent Bit tags, nginx and YAML syntax), because a
value one of them silently mangles loses logs at run time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .schema import OptionSchema

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
# How long the front waits for Fluent Bit's answer to a delivery (Firehose
# waits 180 s), and how long in_http keeps a delivery's connection while
# filters busy with earlier deliveries leave it unread.
FLUENT_BIT_ANSWER_SECS = 170
# Index names must be lowercase: allow only strftime fields that print digits.
DATE_FORMAT_RE = re.compile(r"(?:%[YGVmdHjUWyg]|[a-z0-9._-])+")
STREAM_RE = re.compile(r"[^,\s]+")


class ConfigError(Exception):
    """The commons list is not usable; the message says where and why."""


def sanitise_tag(text: str) -> str:
    """What Fluent Bit's in_http does to a URL path to make the tag."""
    return re.sub(r"[^A-Za-z0-9_.]", "_", text)


def default_access_key_env(name: str) -> str:
    return "FIREHOSE_ACCESS_KEY_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


@dataclass
class S3Target:
    bucket: str
    prefix: str
    region: str
    endpoint: str | None


# The seed's lifecycle of the <commons>-logging bucket (days): the bucket's
# rules (aws.py) and the search retention's defaults.
SEED_LIFECYCLE = {"STANDARD_IA": 60, "GLACIER": 90, "expire": 2190}


@dataclass(frozen=True)
class Retention:
    """A commons' search indices: ages (days from index creation) at which
    they turn warm, then cold, then are deleted."""

    warm_days: int
    cold_days: int
    delete_days: int


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
    # Shards of the commons' Kinesis stream (the seed's stream had one).
    shard_count: int = 1
    # The decoder's document schema (its `schema` option) for this commons:
    # the search outputs and index templates follow the documents' shape.
    schema: str = "gen3"
    retention: Retention = Retention(SEED_LIFECYCLE["STANDARD_IA"], SEED_LIFECYCLE["GLACIER"], SEED_LIFECYCLE["expire"])

    @property
    def tag(self) -> str:
        return "cwlogs." + sanitise_tag(self.name)


@dataclass
class AwsSettings:
    """The optional `aws` section: what the AWS half needs beyond the
    commons entries."""

    csoc_account_id: str
    firehose_url: str
    buffer_size_mib: int
    buffer_interval_secs: int
    retry_duration_secs: int


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
    options: OptionSchema | None = None
    aws: AwsSettings | None = None


class Reader:
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

    def integer(self, key, default, low: int, high: int, what: str):
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(f"{self.where}.{key}: expected {what} ({low}-{high}), got {value!r}")
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
