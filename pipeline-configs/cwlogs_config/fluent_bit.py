"""DIR/fluent-bit/fluent-bit.yaml: the Fluent Bit (>= 4.1.2) pipeline.

in_http (fed by the front) -> per-commons `modify` (the decoder's options as
record keys) -> `wasm` (the decoder) -> Lua split and per-record time ->
`parser` (each entry's JSON text made the record) -> `rewrite_tag` moving
the few records that are no documents (alerts, error documents, anything
not decoded) to tags of their own, so documents stay on the commons' input
tag -> search, S3 and Slack outputs, with dead letters for anything no
commons takes.
"""

from __future__ import annotations

from .model import FLUENT_BIT_ANSWER_SECS, Commons, Deployment, sanitise_tag
from .schema import ALERT_STREAMS, COMMONS, SCHEMA, SLOW_THRESHOLD
from .shapes import SHAPES, record_accessor
from .yaml_text import header, list_item, on, yaml_block, yaml_comment

CWLOGS_MATCH = r"^cwlogs\."
# The tags rewrite_tag gives records that are no documents.
MOVED_MATCH = r"^(alert|error|undecoded)\."
KINDS = ("document", "alert", "error")
# Records that are no documents carry this key (the module writes it into
# their JSON text): alert, error, and `result` on a module result the Lua
# split did not split. Documents carry no routing field at all.
KIND_KEY = "_cwlogs_kind"
JSON_PARSER = "cwlogs_json"


def _processors(units: list[list[tuple[str, object]]], comment: str | None = None) -> list[str]:
    """An output's `processors: logs:` list (filters run as processors, in
    the output's own flush, on its copy of the chunk)."""
    out = yaml_comment(comment, "      ") if comment else []
    out += ["      processors:", "        logs:"]
    for unit in units:
        first = True
        for line in yaml_block(unit, "            "):
            out.append(("          - " + line.lstrip()) if first else line)
            first = False
    return out




def _alternation(names: list[str]) -> str:
    # Names are [a-z0-9_-]: no regex metacharacters to escape.
    return "(?:" + "|".join(names) + ")"


def _option_keys(dep: Deployment, configured: dict[str, str | None]) -> list[tuple[str, object]]:
    """`set` for the options the list configures, `remove` for every other
    option the decoder has (it then applies its own default): option names
    come from the decoder's schema, so a new option cannot be smuggled in
    by a payload before the generator knows it."""
    sets = [f"{dep.options.record_key(name)} {value}" for name, value in configured.items() if value is not None]
    removes = [dep.options.record_key(name) for name in dep.options.names if configured.get(name) is None]
    return [("set", sets), ("remove", removes)]


# The S3 object name's extension for each out_s3 compression.
_S3_SUFFIX = {"gzip": ".json.gz", "zstd": ".json.zst"}


def _s3_output(fb: dict, match_key: str, match: str, bucket: str, region: str, endpoint: str | None,
               key_format: str, store_dir: str, compression: str = "gzip") -> list[tuple[str, object]]:
    """An out_s3 output; `key_format` without its extension, which follows
    `compression`."""
    items: list[tuple[str, object]] = [
        ("name", "s3"),
        (match_key, match),
        ("bucket", bucket),
        ("region", region),
    ]
    if endpoint:
        items.append(("endpoint", endpoint))
    items += [
        ("s3_key_format", key_format + _S3_SUFFIX[compression]),
        ("compression", compression),
        ("json_date_key", "false"),
        ("total_file_size", fb["s3_total_file_size"]),
        ("upload_timeout", fb["s3_upload_timeout"]),
        # Each output needs its own store_dir: out_s3 re-uploads whatever it
        # finds there at start-up, so a shared one would mix destinations.
        ("store_dir", store_dir),
        ("retry_limit", "no_limits"),
    ]
    return items


def _search_keys(schema: str) -> tuple[str, str]:
    """The output's `id_key` and `logstash_prefix_key`: record accessors (both
    go through flb_ra_create in out_opensearch and out_es) for where the
    schema keeps the event id and the commons. A top-level id stays `id`,
    the form checked on a real Fluent Bit."""
    shape = SHAPES[schema]
    id_key = shape.id_path[0] if len(shape.id_path) == 1 else record_accessor(shape.id_path)
    return id_key, record_accessor(shape.commons_path)


def _search_output(dep: Deployment, match: str, schema: str,
                   prefix_items: list[tuple[str, object]]) -> list[tuple[str, object]]:
    es = dep.es
    id_key = _search_keys(schema)[0]
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
        ("id_key", id_key),
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
    if dep.fluent_bit["search_workers"]:
        # Bulk building (the records made JSON) in its own threads instead of
        # Fluent Bit's one pipeline thread, which runs every filter.
        items.append(("workers", dep.fluent_bit["search_workers"]))
    return items


def _search_processors(schema: str) -> list[str]:
    """The output always writes the record's time first, as `time_key`
    (@timestamp): a document that has its own @timestamp would carry it
    twice, and the search server refuses duplicate keys. Such documents'
    @timestamp is removed on the way out (a processor of this output only;
    the S3 copy keeps it): the output writes it back from the record time,
    which set_time made the event's own time, to the millisecond, in the
    core's format."""
    if SHAPES[schema].time_path != ("@timestamp",):
        return []
    return _processors([[("name", "content_modifier"), ("action", "delete"), ("key", "@timestamp")]], """
The output writes the record time as @timestamp itself (time_key); this
document's own @timestamp, the same time, would be a duplicate key.""")


def _search_groups(commons: list[Commons]) -> list[tuple[str, str | None, list[str]]]:
    """(schema, own index prefix or None, commons names): one search output
    per index prefix and schema. Commons indexed under their own names share
    an output per schema, whose prefix is read from each record."""
    groups: dict[tuple[str, str | None], list[str]] = {}
    for c in commons:
        own = None if c.index_prefix == c.name else c.index_prefix
        groups.setdefault((c.schema, own), []).append(c.name)
    shared = [(schema, None, names) for (schema, own), names in groups.items() if own is None]
    custom = [(schema, own, names) for (schema, own), names in groups.items() if own is not None]
    return shared + custom


def render_fluent_bit(dep: Deployment, source: str, overrides: list[str]) -> str:
    fb = dep.fluent_bit
    out: list[str] = []
    out += yaml_comment(header(source, overrides) + """
Fluent Bit (>= 4.1.2) pipeline for CloudWatch Logs subscription payloads
delivered by Amazon Data Firehose through the nginx front (front/nginx.conf).
Secrets are not in this file: ${VAR} values are read from Fluent Bit's
environment when it starts, AWS credentials from the usual AWS chain.""", "")
    out.append("")
    out.append("service:")
    out += yaml_block([
        ("flush", fb["flush"]),
        ("log_level", "info"),
        ("storage.path", fb["storage_path"]),
        ("storage.sync", "normal"),
        ("storage.backlog.mem_limit", "64M"),
        ("http_server", "on"),
        ("http_listen", "127.0.0.1"),
        ("http_port", fb["monitoring_port"]),
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
    out += list_item([
        ("name", "http"),
        ("listen", fb["http_listen"]),
        ("port", fb["http_port"]),
        ("storage.type", "filesystem"),
        ("buffer_max_size", "64M"),
        ("successful_response_code", 201),
        # in_http otherwise drops a connection unread for 10 s (its HTTP
        # server's idle timeout): deliveries queued behind filters busy with
        # earlier ones got nginx 502s (interpreter, 8 x 10,000 events).
        ("net.io_timeout", f"{FLUENT_BIT_ANSWER_SECS}s"),
        # The tag of a POST to `/` (any other path makes its own tag): it is
        # decoded as commons `unknown` and reaches the dead letter, not dropped.
        ("tag", "cwlogs.unlisted"),
    ])
    out.append("")
    out.append("  filters:")
    options = dep.options
    prefix = options.record_key_prefix
    out += yaml_comment(f"""
1. Per commons: the decoder options (the wasm module reads {prefix}*
   keys from the record). `set` overwrites and `remove` deletes whatever the
   payload carries, so a delivery cannot choose its commons, threshold,
   streams or any other option. A tag of no listed commons (something else
   posting to in_http) is decoded as commons `unknown`, which only the dead
   letter takes.""", "    ")
    for c in dep.commons:
        # The schema is always set: the search output below reads the id and
        # the commons where this schema keeps them.
        configured = {COMMONS: c.name, SLOW_THRESHOLD: c.threshold,
                      ALERT_STREAMS: ",".join(c.alert_streams) or None, SCHEMA: c.schema}
        out += list_item([("name", "modify"), ("match", c.tag)] + _option_keys(dep, configured))
    out += list_item([
        ("name", "modify"),
        ("match_regex", CWLOGS_MATCH + "(?!" + _alternation([sanitise_tag(c.name) for c in dep.commons]) + "$)"),
    ] + _option_keys(dep, {COMMONS: "unknown"}))
    out.append("")
    out += yaml_comment("""
2. The WebAssembly decoder: one delivery in, one record out holding its
   documents, alerts and error documents. match_regex must not match the
   tags rewrite_tag emits below, or records would loop through it.""", "    ")
    out += list_item([
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
   holding its JSON text and event time (wasm filters cannot fan out).""", "    ")
    out += list_item([
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
    out += list_item([
        ("name", "lua"),
        ("match_regex", CWLOGS_MATCH),
        ("script", fb["lua_path"]),
        ("call", "set_time"),
        ("protected_mode", "true"),
        ("enable_flb_null", "true"),
        ("time_as_table", "true"),
    ])
    out += yaml_comment(f"""
5. Each entry's JSON text becomes the record (documents never pass through
   Lua tables). Records without _cwlogs_json (a delivery or result that was
   not split) pass unchanged.""", "    ")
    out += list_item([
        ("name", "parser"),
        ("match_regex", CWLOGS_MATCH),
        ("key_name", "_cwlogs_json"),
        ("parser", JSON_PARSER),
        ("reserve_data", "off"),
        ("preserve_key", "off"),
    ])
    # A delivery the wasm filter did not replace still holds the options the
    # `modify` filters set (the commons, always); the module's records never do.
    undecoded_key = options.record_key(COMMONS)
    out += yaml_comment(f"""
6. Records that are no documents move to tags of their own: alerts and
   error documents ({KIND_KEY} in their text) to alert.<tag> and
   error.<tag>, a module result the Lua split did not split and a delivery
   the wasm filter did not replace (it still holds {undecoded_key}) to
   undecoded.<tag>. Documents, nearly every record, are not re-emitted:
   they stay on the input tag, which the search and archive outputs match.
   (Re-emitting every document through the emitter cost a copy, and its
   memory limit sent whole deliveries of 10,000 events to the dead letter
   silently.)""", "    ")
    out += list_item([
        ("name", "rewrite_tag"),
        ("match_regex", CWLOGS_MATCH),
        ("rule", [f"${KIND_KEY} ^(alert|error)$ $1.$TAG[1] false",
                  f"${KIND_KEY} ^result$ undecoded.$TAG[1] false",
                  f"${undecoded_key} ^ undecoded.$TAG[1] false"]),
        ("emitter_name", "cwlogs_router"),
        ("emitter_storage.type", "filesystem"),
        ("emitter_mem_buf_limit", "64M"),
    ])
    out += yaml_comment(f"7. The marker has done its job; keep it out of alerts and dead letters.", "    ")
    out += list_item([
        ("name", "modify"),
        ("match_regex", r"^(alert|error)\."),
        ("remove", KIND_KEY),
    ])
    out.append("")
    out.append("  outputs:")

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
    why += """
One output per document schema and index prefix: id_key and
logstash_prefix_key are record accessors for where the schema keeps the
event id and the commons (search/ holds the matching index templates)."""
    out += yaml_comment(why, "    ")
    for schema, own, names in _search_groups(dep.commons):
        id_key, prefix_key = _search_keys(schema)
        if own is None:
            out += yaml_comment(f"Schema {schema}: index prefix = the document's commons ({prefix_key}), "
                                f"_id = {id_key}.", "    ")
            prefix_items = [("logstash_prefix_key", prefix_key)]
        else:
            out += yaml_comment(f"Search for {', '.join(names)} (schema {schema}): its own index prefix {own}.", "    ")
            prefix_items = [("logstash_prefix", own)]
        tags = [sanitise_tag(n) for n in names]
        out += list_item(_search_output(dep, CWLOGS_MATCH + _alternation(tags) + "$", schema, prefix_items))
        out += _search_processors(schema)

    store = fb["s3_store_dir"].rstrip("/")
    for c in dep.commons:
        out.append("")
        out += yaml_comment(f"{c.name}: archive (the Lambda's <commons>-logging bucket), dead letters, alerts.", "    ")
        key_tail = f"{c.name}-%Y%m%dT%H%M%S-$UUID"
        out += list_item(_s3_output(fb,
            "match", c.tag, c.s3.bucket, c.s3.region, c.s3.endpoint,
            f"/{c.s3.prefix}%Y/%m/%d/%H/{key_tail}", f"{store}/{c.name}", fb["archive_compression"]))
        # Names cannot contain '.', so `<name>.dead-letter` never collides
        # with another commons' store_dir.
        out += list_item(_s3_output(fb,
            "match", "error." + c.tag[len("cwlogs."):], c.s3.bucket, c.s3.region, c.s3.endpoint,
            f"/dead-letter/%Y/%m/%d/%H/{key_tail}", f"{store}/{c.name}.dead-letter"))
        if c.slack_env:
            out += list_item([
                ("name", "http"),
                ("match", "alert." + c.tag[len("cwlogs."):]),
                ("host", fb["slack_host"]),
                ("port", fb["slack_port"]),
                ("tls", on(fb["slack_tls"])),
            ] + ([("tls.verify", "on")] if fb["slack_tls"] else []) + [
                ("uri", "${" + c.slack_env + "}"),
                ("body_key", "$slack_payload"),
                # The record's slack_headers carry Content-Type; a `header`
                # line too would send it twice.
                ("headers_key", "$slack_headers"),
                ("retry_limit", 5),
            ])

    out.append("")
    out += yaml_comment("""
Deliveries that were not split into records: the wasm filter failed (the
delivery still holds the options `modify` set), or the Lua split failed
(the module's result). Normally nothing is; kept raw so they can be
replayed.""", "    ")
    out += list_item(_s3_output(fb,
        "match_regex", r"^undecoded\.", dep.dead_letter_bucket, dep.aws_region, dep.dead_letter_endpoint,
        "/undecoded/%Y/%m/%d/%H/$TAG[1]-%Y%m%dT%H%M%S-$UUID", f"{store}/_undecoded"))
    out += yaml_comment("""
Everything posted to a tag of no listed commons (decoded as commons
`unknown`): its documents, error documents and alerts, kept in the
dead-letter bucket instead of being dropped by Fluent Bit as unroutable.
(Fluent Bit's Onigmo regex supports the (?!...) lookahead.)""", "    ")
    listed = _alternation([sanitise_tag(c.name) for c in dep.commons])
    out += list_item(_s3_output(fb,
        "match_regex", r"^(cwlogs|alert|error)\.(?!" + listed + "$)",
        dep.dead_letter_bucket, dep.aws_region, dep.dead_letter_endpoint,
        "/unrouted/%Y/%m/%d/%H/$TAG[1]-%Y%m%dT%H%M%S-$UUID", f"{store}/_unrouted"))
    out.append("")
    out.append("parsers:")
    out += list_item([("name", JSON_PARSER), ("format", "json")])
    return "\n".join(out) + "\n"
