"""What each document schema of the decoder looks like to the outputs: where
a document keeps its id, its commons and its time, and how the search
indices map its fields.

The decoder's `schema` option (decoder-options.json) names the shapes; the
shapes themselves are the core's (README "Documents", src/ecs.rs):

    gen3        the Lambda's keys: messageType, owner, logGroup, logStream,
                subscriptionFilters, <unknown envelope fields>, timestamp,
                message (object), extractedFields, id, commons,
                kinesis{...} or firehose{...}
    cloudwatch  the same keys, `message` the raw string
    ecs         Elastic Common Schema names: @timestamp, message (string),
                event.id, kubernetes.*, container.id, gen3.* (the access
                log), cloud.*, aws.cloudwatch.*, aws.firehose.*,
                aws.kinesis.*, labels.commons

Mapping rules, one reason each (README "Search indices"):

- Nothing is mapped dynamically (`dynamic: false` at the root, inherited):
  a field no template names is kept in `_source` (shown, returned) but not
  indexed. Structured log objects vary per service, and a dynamic mapping
  fails a document whose field changes type (a number here, an object
  there) or that crosses the field limit; Fluent Bit's search output
  retries such a refused document forever. Known fields are mapped.
- Numbers and dates read from log content have `ignore_malformed`: a
  service writing `"response_secs": "NaN"` loses that field's index entry,
  not the document.
- Keywords stop at 1,024 characters (`ignore_above`, as ECS does): a longer
  value stays in `_source`; Lucene refuses terms over 32 KiB outright.
- `response_secs` and `http_response_time` are `float`: Fluent Bit's Lua
  turns 66.0 into 66, so a dynamic mapping could make them `long`.
- Kubernetes labels and `extractedFields` have names nobody controls: one
  field each, `flattened` (Elasticsearch) or `flat_object` (OpenSearch
  >= 2.7), so a noisy pod cannot grow the mapping.
"""

from __future__ import annotations

from dataclasses import dataclass

# Search flavours: the mapping differs in two types only.
ELASTICSEARCH = "elasticsearch"
OPENSEARCH = "opensearch"
FLAVOURS = (ELASTICSEARCH, OPENSEARCH)

KEYWORD_IGNORE_ABOVE = 1024
# `index.mapping.total_fields.limit`: with nothing mapped dynamically only
# the template's own fields count (test_search checks it stays under half
# of this); the rest is room for fields an operator adds by hand.
TOTAL_FIELDS_LIMIT = 500


@dataclass(frozen=True)
class Shape:
    """Where a schema's documents keep what the outputs read."""

    name: str
    id_path: tuple[str, ...]
    commons_path: tuple[str, ...]
    time_path: tuple[str, ...]


SHAPES = {
    "gen3": Shape("gen3", ("id",), ("commons",), ("timestamp",)),
    "cloudwatch": Shape("cloudwatch", ("id",), ("commons",), ("timestamp",)),
    "ecs": Shape("ecs", ("event", "id"), ("labels", "commons"), ("@timestamp",)),
}


def record_accessor(path: tuple[str, ...]) -> str:
    """A Fluent Bit record accessor for a field (`$commons`,
    `$labels['commons']`)."""
    return "$" + path[0] + "".join(f"['{key}']" for key in path[1:])


# --------------------------------------------------------------------------
# field types


def keyword(**extra) -> dict:
    return {"type": "keyword", "ignore_above": KEYWORD_IGNORE_ABOVE, **extra}


def _number(kind: str) -> dict:
    return {"type": kind, "ignore_malformed": True}


def _date(fmt: str, lenient: bool) -> dict:
    field = {"type": "date", "format": fmt}
    if lenient:
        field["ignore_malformed"] = True
    return field


# The documents' own times, written by the core (always valid).
EVENT_TIME = _date("strict_date_optional_time||epoch_millis", lenient=False)
TEXT = {"type": "text"}


def _objects(**properties) -> dict:
    return {"properties": properties}


def _flat(flavour: str, depth_limit: int) -> dict:
    if flavour == ELASTICSEARCH:
        return {"type": "flattened", "depth_limit": depth_limit, "ignore_above": KEYWORD_IGNORE_ABOVE}
    # flat_object takes no parameters (OpenSearch's FlatObjectFieldMapper).
    return {"type": "flat_object"}


def _free_text(flavour: str) -> dict:
    # ECS maps `message` as match_only_text (no positions or scores: smaller);
    # OpenSearch has no such type.
    return {"type": "match_only_text"} if flavour == ELASTICSEARCH else dict(TEXT)


def access_log() -> dict:
    """A gen3 access log line's fields (revproxy's names): under `message`
    in gen3 documents, under `gen3` in ecs ones."""
    return {
        "gen3log": keyword(),
        "date_access": _date("strict_date_optional_time", lenient=True),
        "user_id": keyword(),
        "request_id": keyword(),
        "session_id": keyword(),
        "visitor_id": keyword(),
        "network_client_ip": keyword(),
        "network_bytes_write": _number("long"),
        "response_secs": _number("float"),
        "http_response_time": _number("float"),
        "http_status_code": _number("integer"),
        "http_request": keyword(),
        "http_verb": keyword(),
        "http_referer": keyword(),
        "http_useragent": keyword(),
        "http_upstream": keyword(),
        "proxy_service": keyword(),
        "message": dict(TEXT),
    }


def _transport_gen3() -> dict:
    return {
        "kinesis": _objects(
            eventID=keyword(), sequenceNumber=keyword(), partitionKey=keyword(),
            approximateArrivalTimestamp=_date("epoch_second", lenient=True),
            eventSourceARN=keyword(), awsRegion=keyword(),
        ),
        "firehose": _objects(
            requestId=keyword(), timestamp=_date("epoch_millis", lenient=True), recordIndex=_number("integer"),
        ),
    }


def _envelope_gen3(flavour: str, depth_limit: int) -> dict:
    return {
        # Fluent Bit's search output adds the record's time as @timestamp
        # (the event's own time: the pipeline sets it per record).
        "@timestamp": dict(EVENT_TIME),
        "messageType": keyword(),
        "owner": keyword(),
        "logGroup": keyword(),
        "logStream": keyword(),
        "subscriptionFilters": keyword(),
        # The one envelope field AWS is known to add (account-level policies).
        "policyLevel": keyword(),
        "timestamp": dict(EVENT_TIME),
        "extractedFields": _flat(flavour, depth_limit),
        "id": keyword(),
        "commons": keyword(),
        **_transport_gen3(),
    }


def _message_gen3(flavour: str, depth_limit: int) -> dict:
    """A gen3 `message`: the parsed log object. Its fluentd record and
    access-log fields are mapped; any other key is kept, not indexed."""
    return _objects(
        log=dict(TEXT),
        stream=keyword(),
        docker=_objects(container_id=keyword()),
        kubernetes=_objects(
            # `gen3 logs` queries message.kubernetes.container_name.keyword,
            # the Lambda's dynamic text+keyword mapping's name for it.
            container_name=keyword(fields={"keyword": keyword()}),
            namespace_name=keyword(), pod_name=keyword(), pod_id=keyword(), host=keyword(),
            container_image=keyword(), container_image_id=keyword(), namespace_id=keyword(), master_url=keyword(),
            labels=_flat(flavour, depth_limit),
        ),
        **access_log(),
    )


def _properties_ecs(flavour: str, depth_limit: int) -> dict:
    return {
        "@timestamp": dict(EVENT_TIME),
        "message": _free_text(flavour),
        "event": _objects(id=keyword()),
        "kubernetes": _objects(
            pod=_objects(name=keyword(), uid=keyword()),
            namespace=keyword(),
            container=_objects(name=keyword(), image=keyword()),
            node=_objects(name=keyword()),
            labels=_flat(flavour, depth_limit),
        ),
        "container": _objects(id=keyword()),
        "gen3": _objects(**access_log()),
        "cloud": _objects(provider=keyword(), account=_objects(id=keyword()), region=keyword()),
        "aws": _objects(
            cloudwatch=_objects(
                log_group=keyword(), log_stream=keyword(), policyLevel=keyword(),
                extracted_fields=_flat(flavour, depth_limit),
            ),
            firehose=_objects(
                subscription_filters=keyword(), request_id=keyword(),
                timestamp=_date("epoch_millis", lenient=True), record_index=_number("integer"),
            ),
            kinesis=_objects(
                event_id=keyword(), sequence_number=keyword(), partition_key=keyword(),
                arrival_timestamp=_date("epoch_second", lenient=True), source_arn=keyword(), region=keyword(),
            ),
        ),
        "labels": _objects(commons=keyword()),
    }


def mapping(schema: str, flavour: str, depth_limit: int) -> dict:
    """The `mappings` of a schema's indices. `depth_limit` bounds the
    flattened fields (and is the index's depth limit): the deepest document
    the decoder can write."""
    if schema in ("gen3", "cloudwatch"):
        properties = _envelope_gen3(flavour, depth_limit)
        properties["message"] = _message_gen3(flavour, depth_limit) if schema == "gen3" else dict(TEXT)
    elif schema == "ecs":
        properties = _properties_ecs(flavour, depth_limit)
    else:
        raise KeyError(schema)
    return {"dynamic": False, "properties": properties}


def count_fields(mappings: dict) -> int:
    """Fields as `index.mapping.total_fields.limit` counts them: every field
    and object mapping, multi-fields included."""
    total = 0
    for field in mappings.get("properties", {}).values():
        total += 1 + count_fields(field) + sum(1 + count_fields(sub) for sub in field.get("fields", {}).values())
    return total
