"""DIR/vector/vector.yaml: the same pipeline for Vector 0.57, with the VRL
twin of the decoder (pipeline-configs/vector/cwlogs.vrl) instead of wasm.

aws_kinesis_firehose -> options remap (the decoder's options by access key)
-> the shipped program by `file:` -> routes on kind and commons -> search,
S3 and Slack sinks, every one with a disk buffer and end-to-end
acknowledgements.
"""

from __future__ import annotations

import re
import textwrap
from decimal import Decimal
from pathlib import Path

from .fluent_bit import KINDS
from .model import Commons, Deployment
from .schema import ALERT_STREAMS, COMMONS, SCHEMA, SLOW_THRESHOLD
from .yaml_text import header, vector_yaml, yaml_comment

# The VRL twin the config runs (installed unchanged at vector.program_path).
PROGRAM = Path(__file__).resolve().parent.parent / "vector" / "cwlogs.vrl"

# The secret backend every SECRET[...] of the Vector config names. Vector's
# secret reference is SECRET[<backend>.<key>] with both parts [[:word:]] (and
# `.`): the keys used are the variable names of the commons list, which
# ENV_RE keeps to word characters.
VECTOR_SECRET_BACKEND = "cwlogs"


def vector_secret(key: str) -> str:
    return f"SECRET[{VECTOR_SECRET_BACKEND}.{key}]"


def vrl_string(text: str) -> str:
    """A VRL string literal (crates/vrl-twin's `vrl_string`)."""
    out = ['"']
    for ch in text:
        out.append({'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0",
                    "{": "\\{", "}": "\\}"}.get(ch, ch))
    out.append('"')
    return "".join(out)


def vrl_float(text: str) -> str:
    """A threshold as a VRL float literal, as Rust's Display of the f64 the
    plugin parses (no exponent, always a point)."""
    number = format(Decimal(repr(float(text))), "f")
    return number if "." in number else number + ".0"


def _vrl_value(value) -> str:
    if isinstance(value, str):
        return vrl_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_vrl_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"no VRL literal for {value!r}")


def twin_schemas(program: Path = PROGRAM) -> list[str]:
    """The document schemas the shipped VRL program decodes (its
    `schema_names`, the list it checks the `schema` option against)."""
    m = re.search(r"^schema_names = \[(.*)\]$", program.read_text(encoding="utf-8"), re.M)
    if m is None:
        raise ValueError(f"{program}: no `schema_names = [...]` line; cannot tell which schemas it decodes")
    return re.findall(r'"([^"]+)"', m.group(1))


def vector_commons(dep: Deployment) -> tuple[list[Commons], list[Commons]]:
    """The commons the Vector pipeline serves, and those it leaves out
    because the VRL twin cannot write their schema yet: a decoder refusing
    their options would turn each of their records into an error document.
    Left out, their access key is not among the source's, so Vector answers
    their deliveries 401 and Firehose keeps them (retries, then its S3
    backup): deliver those commons to the Fluent Bit front instead."""
    known = twin_schemas()
    served = [c for c in dep.commons if c.schema in known]
    return served, [c for c in dep.commons if c.schema not in known]


def left_out_note(left_out: list[Commons]) -> str:
    listed = ", ".join(f"{c.name} (schema {c.schema})" for c in left_out)
    return (f"Not served by this pipeline: {listed}: the VRL twin ({PROGRAM.name}) decodes "
            f"{', '.join(twin_schemas())} only. Vector refuses their deliveries (401, an unknown access "
            "key) and Firehose keeps retrying them; deliver them to the Fluent Bit front.")


def vrl_options_literal(dep: Deployment, c: Commons) -> str:
    """The `%gen3_cwlogs` object for a commons, in crates/vrl-twin's
    `options_literal` form: every option of the decoder's schema, in its
    order, with the commons' value or else the decoder's default; options
    without either (no threshold; commons defaults to the log group) are
    left out."""
    configured = {
        COMMONS: vrl_string(c.name),
        SLOW_THRESHOLD: None if c.threshold is None else vrl_float(c.threshold),
        ALERT_STREAMS: _vrl_value(c.alert_streams) if c.alert_streams else None,
        SCHEMA: vrl_string(c.schema),
    }
    parts = []
    for option in dep.options.options:
        literal = configured.get(option.name)
        if literal is None and option.default not in (None, []):
            literal = _vrl_value(option.default)
        if literal is not None:
            parts.append(f"{vrl_string(option.name)}: {literal}")
    return "{" + ", ".join(parts) + "}"


def vrl_options_program(dep: Deployment, commons: list[Commons]) -> str:
    """The options remap (options.example.vrl's form, crates/vrl-twin's
    `options_program`): the decoder's options chosen by the Firehose access
    key. The keys are SECRET[...] references that Vector replaces in the
    config text when it loads it."""
    out = [
        "# The decoder's options for this delivery, chosen by its Firehose access key.",
        'access_key = get_secret("aws_kinesis_firehose_access_key")',
        "# The source attached the key to the event (store_access_key) and disk",
        "# buffers would persist it: drop it before anything else can fail.",
        'remove_secret("aws_kinesis_firehose_access_key")',
    ]
    for i, c in enumerate(commons):
        keyword = "if" if i == 0 else "} else if"
        out.append(f"{keyword} access_key == {vrl_string(vector_secret(c.access_key_env))} {{")
        out.append(f"  %gen3_cwlogs = {vrl_options_literal(dep, c)}")
    out += [
        "} else {",
        "  # Unreachable while the source's access_keys are exactly these keys.",
        "  %gen3_cwlogs = {}",
        "}",
    ]
    return "\n".join(out) + "\n"


def _vector_delivery(dep: Deployment) -> dict:
    """What every sink gets: a disk buffer, and end-to-end acknowledgements,
    so the source answers Firehose only once each event of a request is in
    the buffers (a failure makes Firehose retry). Acknowledgements are set
    on the sinks: the source-level setting is deprecated in Vector 0.57."""
    return {
        "buffer": {"type": "disk", "max_size": dep.vector["buffer_max_size"], "when_full": "block"},
        "acknowledgements": {"enabled": True},
    }


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
    } | _vector_delivery(dep))
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
    } | _vector_delivery(dep))
    return sink


def render_vector(dep: Deployment, source: str, overrides: list[str]) -> str:
    v = dep.vector
    served, left_out = vector_commons(dep)
    about = header(source, overrides) + f"""
Vector (0.57) pipeline for CloudWatch Logs subscription payloads delivered by
Amazon Data Firehose: the VRL twin of the decoder ({v['program_path']},
installed from pipeline-configs/vector/cwlogs.vrl), per commons options by
Firehose access key, search, S3 and Slack sinks with disk buffers."""
    if left_out:
        about += "\n" + textwrap.fill(left_out_note(left_out), 78)
    if not served:
        return "\n".join(yaml_comment(about + "\nNo commons of the list can be served by Vector: no pipeline.", "")) + "\n"
    names = [c.name for c in served]
    alerting = [c for c in served if c.slack_env]
    hidden = ["_cwlogs_id", "_cwlogs_time"]

    def route_on(meta: str, values: list[str]) -> dict:
        return {value: f"%{meta} == {vrl_string(value)}" for value in values}

    sources = {"firehose": {
        "type": "aws_kinesis_firehose",
        "address": v["address"],
        "tls": {"enabled": True, "crt_file": v["tls_certificate"], "key_file": v["tls_certificate_key"]},
        "access_keys": [vector_secret(c.access_key_env) for c in served],
        "store_access_key": True,
        "record_compression": "auto",
    }}
    transforms = {
        "cwlogs_options": {"type": "remap", "inputs": ["firehose"], "source": vrl_options_program(dep, served)},
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
    for c in served:
        groups.setdefault(c.index_prefix, []).append(c.name)
    for prefix, members in groups.items():
        sinks[f"search_{prefix}"] = _vector_search(dep, members, prefix)
    for c in served:
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
                # json + newline framing would send application/x-ndjson,
                # which Slack does not take for a webhook.
                "request": {"headers": {"Content-Type": "application/json"}, "retry_attempts": 5},
            } | _vector_delivery(dep)
    sinks["dead_letter_undecoded"] = _vector_s3(
        dep, ["cwlogs_decode.dropped", "cwlogs_kind._unmatched"], dep.dead_letter_bucket, dep.aws_region,
        dep.dead_letter_endpoint, "undecoded/%Y/%m/%d/%H/", [])
    sinks["dead_letter_unrouted"] = _vector_s3(
        dep, ["cwlogs_unrouted"], dep.dead_letter_bucket, dep.aws_region,
        dep.dead_letter_endpoint, "unrouted/%Y/%m/%d/%H/", [])

    out = yaml_comment(about + f"""
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
