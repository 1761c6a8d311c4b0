"""The index templates and retention policies (search/), and the search
outputs that feed those indices.

No Elasticsearch or OpenSearch can run here, so what a server would do is
re-implemented (search_resolver.py) and every document the decoder writes
is walked through it: the golden documents of every schema in
tests/fixtures, and `ecs` documents made by the CLI from every fixture
input. Each document is walked as each pipeline sends it: Fluent Bit's
(values through Lua, @timestamp written by the output) and Vector's.
"""

from __future__ import annotations

import copy
import datetime as dt
import fnmatch
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from search_resolver import INDEXED, MALFORMED, REFUSED, UNINDEXED, Resolver
from support import CONFIGS, EXAMPLE, GENERATED, example_data, missing_tool, option_schema

ROOT = CONFIGS.parent
FIXTURES = ROOT / "tests" / "fixtures"
FLAVOURS = ("elasticsearch", "opensearch")
SCHEMAS = ("gen3", "cloudwatch", "ecs")

# --------------------------------------------------------------------------
# the intended type of every field the documents contain

FAMILY = {"flattened": "flat", "flat_object": "flat", "match_only_text": "text"}

KW = "keyword"
ACCESS_LOG = {
    "gen3log": KW, "date_access": "date", "user_id": KW, "request_id": KW, "session_id": KW, "visitor_id": KW,
    "network_client_ip": KW, "network_bytes_write": "long", "response_secs": "float",
    "http_response_time": "float", "http_status_code": "integer", "http_request": KW, "http_verb": KW,
    "http_referer": KW, "http_useragent": KW, "http_upstream": KW, "proxy_service": KW, "message": "text",
}
ENVELOPE = {
    "@timestamp": "date", "timestamp": "date", "messageType": KW, "owner": KW, "logGroup": KW, "logStream": KW,
    "subscriptionFilters": KW, "policyLevel": KW, "id": KW, "commons": KW, "extractedFields": "flat",
    "kinesis.eventID": KW, "kinesis.sequenceNumber": KW, "kinesis.partitionKey": KW,
    "kinesis.approximateArrivalTimestamp": "date", "kinesis.eventSourceARN": KW, "kinesis.awsRegion": KW,
    "firehose.requestId": KW, "firehose.timestamp": "date", "firehose.recordIndex": "integer",
}
INTENDED = {
    "gen3": {
        **ENVELOPE,
        "message.log": "text", "message.stream": KW, "message.docker.container_id": KW,
        **{f"message.kubernetes.{k}": KW for k in (
            "container_name", "container_name.keyword", "namespace_name", "pod_name", "pod_id", "host",
            "container_image", "container_image_id", "namespace_id", "master_url")},
        "message.kubernetes.labels": "flat",
        **{f"message.{k}": v for k, v in ACCESS_LOG.items()},
    },
    "cloudwatch": {**ENVELOPE, "message": "text"},
    "ecs": {
        "@timestamp": "date", "message": "text", "event.id": KW,
        "kubernetes.pod.name": KW, "kubernetes.pod.uid": KW, "kubernetes.namespace": KW,
        "kubernetes.container.name": KW, "kubernetes.container.image": KW, "kubernetes.node.name": KW,
        "kubernetes.labels": "flat", "container.id": KW,
        **{f"gen3.{k}": v for k, v in ACCESS_LOG.items()},
        "cloud.provider": KW, "cloud.account.id": KW, "cloud.region": KW,
        "aws.cloudwatch.log_group": KW, "aws.cloudwatch.log_stream": KW, "aws.cloudwatch.policyLevel": KW,
        "aws.cloudwatch.extracted_fields": "flat",
        "aws.firehose.subscription_filters": KW, "aws.firehose.request_id": KW, "aws.firehose.timestamp": "date",
        "aws.firehose.record_index": "integer",
        "aws.kinesis.event_id": KW, "aws.kinesis.sequence_number": KW, "aws.kinesis.partition_key": KW,
        "aws.kinesis.arrival_timestamp": "date", "aws.kinesis.source_arn": KW, "aws.kinesis.region": KW,
        "labels.commons": KW,
    },
}
# Keys any log or envelope may add: kept in _source, not indexed (README,
# "Search indices": nothing is mapped dynamically).
OPEN = {"gen3": ("message.",), "cloudwatch": (), "ecs": ("gen3.", "aws.cloudwatch.")}
# What the walk must meet at least once per schema (issue 15's list).
MUST_MEET = {
    "gen3": {"timestamp": "date", "@timestamp": "date", "id": KW, "commons": KW, "logGroup": KW,
             "message.response_secs": "float", "message.http_status_code": "integer",
             "message.kubernetes.labels": "flat", "message.kubernetes.container_name.keyword": KW},
    "cloudwatch": {"timestamp": "date", "@timestamp": "date", "id": KW, "message": "text"},
    "ecs": {"@timestamp": "date", "event.id": KW, "labels.commons": KW, "gen3.response_secs": "float",
            "gen3.http_status_code": "integer", "kubernetes.labels": "flat", "aws.cloudwatch.log_group": KW},
}


# --------------------------------------------------------------------------
# the documents


def _lines(path: Path) -> list[dict]:
    # Split on "\n" only: messages hold U+2028 and other line breaks.
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def is_document(entry: dict) -> bool:
    return not ({"counters", "alert", "error"} & set(entry))


def fixture_schema(expected: Path) -> str:
    options = expected.with_name(expected.name.replace(".expected.ndjson", ".options.json"))
    default = next(o["default"] for o in option_schema()["options"] if o["name"] == "schema")
    return json.loads(options.read_text(encoding="utf-8")).get("schema", default) if options.exists() else default


def fixture_inputs() -> list[Path]:
    inputs = []
    for expected in sorted(FIXTURES.glob("*.expected.ndjson")):
        stem = expected.name[: -len(".expected.ndjson")]
        inputs += [p for p in sorted(FIXTURES.glob(stem + ".*"))
                   if not p.name.endswith((".expected.ndjson", ".options.json"))]
    return inputs


@pytest.fixture(scope="session")
def golden() -> dict[str, list[dict]]:
    """Every document line of every golden file, by the fixture's schema."""
    docs: dict[str, list[dict]] = {}
    for expected in sorted(FIXTURES.glob("*.expected.ndjson")):
        docs.setdefault(fixture_schema(expected), []).extend(d for d in _lines(expected) if is_document(d))
    return docs


@pytest.fixture(scope="session")
def generated_ecs(tmp_path_factory) -> list[dict]:
    """`ecs` documents of every fixture input, from the CLI (native core):
    the binary GEN3_CWLOGS_CLI names (tests/run.sh passes the one the test
    build linked), otherwise `cargo run`."""
    cli = os.environ.get("GEN3_CWLOGS_CLI")
    if cli:
        command = [cli]
    else:
        cargo = shutil.which("cargo")
        if cargo is None:
            missing_tool("cargo is not installed: the ecs documents are made by the CLI")
        command = [cargo, "run", "--locked", "-q", "-p", "gen3-cwlogs-cli", "--"]
    out = tmp_path_factory.mktemp("ecs") / "documents.ndjson"
    with out.open("wb") as sink:
        proc = subprocess.run(
            [*command, "--native", "--schema", "ecs", *map(str, fixture_inputs())],
            cwd=ROOT, stdout=sink, stderr=subprocess.PIPE, text=True, timeout=3600)
    # 1: some payloads gave error documents (the fixtures have bad records).
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    summary = json.loads(proc.stderr.strip().splitlines()[-1])
    documents = [d for d in _lines(out) if is_document(d)]
    assert len(documents) == summary["counters"]["documents"] > 50
    return documents


@pytest.fixture(scope="session")
def documents(golden, generated_ecs) -> dict[str, list[dict]]:
    docs = {schema: list(items) for schema, items in golden.items()}
    docs.setdefault("ecs", []).extend(generated_ecs)
    assert set(SCHEMAS) <= set(docs), f"no documents for {set(SCHEMAS) - set(docs)}"
    return docs


# --------------------------------------------------------------------------
# the documents as each pipeline sends them


def lua_values(value):
    """What Fluent Bit's Lua makes of a record: integer-valued floats become
    integers (66.0 -> 66)."""
    if isinstance(value, dict):
        return {k: lua_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lua_values(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def event_time(doc: dict, schema: str) -> dt.datetime:
    text = doc["@timestamp" if schema == "ecs" else "timestamp"]
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


def fluent_bit_time(when: dt.datetime) -> str:
    """out_opensearch's time_key value: strftime("%Y-%m-%dT%H:%M:%S") of the
    record time, then ".%03luZ" of its nanoseconds / 10^6."""
    return when.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (when.microsecond // 1000)


def as_fluent_bit_sends(doc: dict, schema: str) -> dict:
    body = lua_values(doc)
    body.pop("@timestamp", None)  # the ecs output's content_modifier processor
    # The output writes the record time (set_time: the event's own) first.
    return {"@timestamp": fluent_bit_time(event_time(doc, schema)), **body}


def forms(doc: dict, schema: str) -> list[dict]:
    return [as_fluent_bit_sends(doc, schema), doc]  # Fluent Bit, Vector (unchanged but _cwlogs_id)


# --------------------------------------------------------------------------
# templates


def package():
    from cwlogs_config import search, shapes
    from cwlogs_config.schema import load_schema
    return search, shapes, load_schema()


def component(schema: str, flavour: str) -> dict:
    search, _, options = package()
    return search.component_template(schema, flavour, options)


def family(kind: str | None) -> str | None:
    return FAMILY.get(kind, kind)


def walk(schema: str, flavour: str, docs: list[dict]):
    resolver = Resolver(component(schema, flavour)["template"]["mappings"])
    leaves = []
    for doc in docs:
        for form in forms(doc, schema):
            leaves += resolver.resolve(form)
    return leaves


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("schema", SCHEMAS)
def test_every_document_field_maps_to_its_intended_type(documents, schema, flavour):
    leaves = walk(schema, flavour, documents[schema])
    refused = [leaf for leaf in leaves if leaf.outcome == REFUSED]
    assert not refused, refused[:5]
    met = {}
    for leaf in leaves:
        if leaf.outcome == UNINDEXED:
            assert leaf.path.startswith(OPEN[schema]), f"{leaf.path} is not mapped (and not under an open object)"
            continue
        assert leaf.field in INTENDED[schema], f"{leaf.field} is mapped ({leaf.type}) but has no intended type"
        assert family(leaf.type) == INTENDED[schema][leaf.field], leaf
        met[leaf.field] = family(leaf.type)
        if leaf.outcome == MALFORMED:
            # Only values read from log content may be dropped as malformed.
            assert leaf.path.startswith(("message.", "gen3.")), leaf
    for field, kind in MUST_MEET[schema].items():
        assert met.get(field) == kind, f"no document met {field} ({kind})"


def test_malformed_values_cost_only_their_field(documents):
    """The fixtures' `"response_secs": "NaN"` and `"http_response_time":
    "fast"` are dropped from the index, and their documents kept."""
    leaves = walk("gen3", "elasticsearch", documents["gen3"])
    malformed = {(leaf.path, leaf.reason) for leaf in leaves if leaf.outcome == MALFORMED}
    assert {path for path, _ in malformed} == {"message.response_secs", "message.http_response_time"}
    assert all("NaN" in why or "fast" in why for _, why in malformed), malformed


def test_response_secs_stays_float_after_lua(documents):
    """Fluent Bit's Lua turns 66.0 into 66; the template keeps the field a
    float whatever the first document of an index holds."""
    integral = [d for d in documents["gen3"]
                if isinstance(lua_values(d).get("message", {}).get("response_secs"), int)]
    assert integral, "no document with an integer-valued response_secs"
    resolver = Resolver(component("gen3", "opensearch")["template"]["mappings"])
    for doc in integral:
        (leaf,) = [x for x in resolver.resolve(as_fluent_bit_sends(doc, "gen3")) if x.path == "message.response_secs"]
        assert leaf.type == "float" and leaf.outcome == INDEXED


def test_fluent_bit_writes_back_the_documents_own_timestamp(documents):
    """The ecs search output drops the document's @timestamp and the output
    writes the record time in its place (it always writes time_key, and a
    second @timestamp would be a duplicate key the server refuses). The
    record time is the event's own (set_time), so the text is the same."""
    for doc in documents["ecs"]:
        assert fluent_bit_time(event_time(doc, "ecs")) == doc["@timestamp"]
        sent = as_fluent_bit_sends(doc, "ecs")
        assert list(sent).count("@timestamp") == 1 and sent["@timestamp"] == doc["@timestamp"]


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("schema", SCHEMAS)
def test_settings_bound_the_mapping(documents, schema, flavour):
    search, shapes, options = package()
    template = component(schema, flavour)["template"]
    settings, mappings = template["settings"], template["mappings"]
    assert settings["index.number_of_shards"] == 1
    limit = settings["index.mapping.total_fields.limit"]
    assert limit == shapes.TOTAL_FIELDS_LIMIT
    # Nothing is mapped dynamically: the template's fields are all there is.
    assert mappings["dynamic"] is False
    assert shapes.count_fields(mappings) <= limit // 2
    # Document parsing checks object and array depth against this limit
    # (OpenSearch 2.x): it must exceed the deepest document the decoder can
    # write (messages up to the largest max_json_depth, under a few levels).
    depth = settings["index.mapping.depth.limit"]
    assert depth > options["max_json_depth"].maximum + 2
    assert max(_depth(d) for d in documents[schema]) < depth


def test_flavours_differ_only_in_types_the_other_lacks():
    def types(node, path=""):
        for key, field in node.get("properties", {}).items():
            yield f"{path}{key}", field.get("type", "object"), {k: v for k, v in field.items() if k != "properties"}
            yield from types(field, f"{path}{key}.")

    for schema in SCHEMAS:
        es = list(types(component(schema, "elasticsearch")["template"]["mappings"]))
        os_ = list(types(component(schema, "opensearch")["template"]["mappings"]))
        assert [p for p, _, _ in es] == [p for p, _, _ in os_]
        for (path, es_type, es_field), (_, os_type, os_field) in zip(es, os_):
            if es_type == "flattened":
                # flat_object takes no parameters (OpenSearch >= 2.7).
                assert os_field == {"type": "flat_object"}, path
            elif es_type == "match_only_text":
                assert os_field == {"type": "text"}, path
            else:
                assert es_field == os_field, path


# --------------------------------------------------------------------------
# the resolver itself


def test_resolver_follows_dynamic_templates_and_object_semantics():
    mappings = {
        "dynamic": True,
        "dynamic_templates": [
            {"secs": {"match": "*_secs", "mapping": {"type": "float", "ignore_malformed": True}}},
            {"labels": {"path_match": "labels.*", "match_mapping_type": "string", "mapping": {"type": "keyword"}}},
            {"strings": {"match_mapping_type": "string", "mapping": {"type": "keyword", "ignore_above": 4}}},
        ],
        "properties": {
            "closed": {"dynamic": False, "properties": {"known": {"type": "long"}}},
            "strict": {"dynamic": "strict", "properties": {}},
            "flat": {"type": "flattened", "depth_limit": 2},
            "leaf": {"type": "keyword"},
            "when": {"type": "date", "format": "epoch_second"},
        },
    }
    r = Resolver(mappings)

    def outcome(doc):
        return {(leaf.path, leaf.type, leaf.outcome) for leaf in r.resolve(doc)}

    assert outcome({"took_secs": "NaN", "labels": {"app": "x"}, "name": "longer"}) == {
        ("took_secs", "float", MALFORMED), ("labels.app", "keyword", INDEXED), ("name", "keyword", INDEXED)}
    # Dotted keys are paths; an unmapped key of a dynamic: false object is
    # kept unindexed, subtree included.
    assert outcome({"closed.known": "5", "closed": {"other": {"deep": 1}}}) == {
        ("closed.known", "long", INDEXED), ("closed.other.deep", None, UNINDEXED)}
    assert ("strict.x", None, REFUSED) in outcome({"strict": {"x": 1}})
    assert outcome({"flat": {"a.b": 1, "c": [True, None]}}) == {
        ("flat.a.b", "flattened", INDEXED), ("flat.c", "flattened", INDEXED)}
    assert outcome({"flat": "text"}) == {("flat", "flattened", REFUSED)}
    assert outcome({"flat": {"a": {"b": {"c": 1}}}}) == {("flat", "flattened", REFUSED)}
    assert outcome({"leaf": {"x": 1}}) == {("leaf", "keyword", REFUSED)}
    assert outcome({"when": 1551461675.123}) == {("when", "date", INDEXED)}
    # A field mapped dynamically by one document binds the next.
    assert outcome({"count": 1}) == {("count", "long", INDEXED)}
    assert outcome({"count": {"x": 1}}) == {("count", "long", REFUSED)}
    assert outcome({"fresh": {"x": "2019-03-01T00:00:00Z"}}) == {("fresh.x", "keyword", INDEXED)}


# --------------------------------------------------------------------------
# the generated files: valid, and matching the indices the outputs write


def read_search(out: Path) -> dict[str, dict]:
    return {p.relative_to(out / "search").as_posix(): json.loads(p.read_text(encoding="utf-8"))
            for p in sorted((out / "search").rglob("*")) if p.is_file()}


def test_committed_search_files_are_valid_json_in_api_paths():
    files = read_search(GENERATED)
    commons = example_data()["commons"]
    schemas = {c.get("schema", "gen3") for c in commons}
    expected = set()
    for flavour in FLAVOURS:
        expected |= {f"{flavour}/_component_template/cwlogs-schema-{s}.json" for s in schemas}
        expected |= {f"{flavour}/_index_template/cwlogs-{c['name']}.json" for c in commons}
    expected |= {f"elasticsearch/_ilm/policy/cwlogs-{c['name']}.json" for c in commons}
    expected |= {f"opensearch/_plugins/_ism/policies/cwlogs-{c['name']}.json" for c in commons}
    assert set(files) == expected
    for name, body in files.items():
        if "_component_template/" in name:
            assert set(body) == {"template", "_meta"} and set(body["template"]) == {"settings", "mappings"}
        elif "_index_template/" in name:
            assert {"index_patterns", "composed_of", "priority"} <= set(body)
        else:
            assert set(body) == {"policy"}


def options_with_every_schema(tmp_path: Path):
    """decoder-options.json with every schema the generator knows in its
    enum (a no-op once the core lists them all)."""
    from cwlogs_config.schema import load_schema

    data = option_schema()
    for option in data["options"]:
        if option["name"] == "schema":
            option["values"] = list(dict.fromkeys(option["values"] + list(SCHEMAS)))
    path = tmp_path / "decoder-options.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return load_schema(path)


def generate(data: dict, options, out: Path) -> Path:
    from cwlogs_config.cli import render_all
    from cwlogs_config.load import load

    for rel, text in render_all(load(data, options), "test.json", []).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")
    return out


def varied_list() -> dict:
    """Every schema; prefixes that overlap (dev-* takes dev-planet-...); two
    commons sharing an index prefix; retention set list-wide and per commons."""
    data = copy.deepcopy(example_data())
    data.pop("aws")
    data["elasticsearch"]["retention"] = {"delete_days": 400}

    def commons(name, **fields):
        return {"name": name, "child_account_id": "111122223333",
                "firehose_access_key_env": "KEY_" + name.upper().replace("-", "_"), **fields}

    data["commons"] = [
        commons("dev", schema="gen3"),
        commons("dev-planet", schema="ecs", search_retention={"warm_days": 7, "cold_days": 30}),
        commons("dev-planet-cw", schema="cloudwatch"),
        commons("qa1", schema="gen3", es_index_prefix="qa"),
        commons("qa2", schema="gen3", es_index_prefix="qa"),
    ]
    return data


@pytest.fixture(scope="module")
def varied(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("varied")
    data = varied_list()
    return data, generate(data, options_with_every_schema(tmp), tmp / "out")


def record_accessor_value(accessor: str, record: dict):
    """Fluent Bit's record accessor on a record: `id`, `$commons`,
    `$event['id']`."""
    m = re.fullmatch(r"\$?([^\[$]+)((?:\['[^']+'\])*)", accessor)
    value = record[m.group(1)]
    for key in re.findall(r"\['([^']+)'\]", m.group(2)):
        value = value[key]
    return value


def fluent_bit_search_output(out: Path, name: str) -> dict:
    from test_generate import fb_matches, load_pipeline, tag_of

    # Documents stay on their commons' input tag.
    (search,) = [o for o in load_pipeline(out)["pipeline"]["outputs"]
                 if o["name"] in ("opensearch", "es") and fb_matches(o, tag_of(name))]
    return search


def sample(documents, schema: str, commons: str) -> dict:
    doc = copy.deepcopy(documents[schema][0])
    if schema == "ecs":
        doc["labels"]["commons"] = commons
    else:
        doc["commons"] = commons
    return doc


WHEN = [dt.datetime(2018, 3, 23, 17, 34, 34), dt.datetime(2019, 3, 1), dt.datetime(2021, 1, 1),
        dt.datetime(2024, 12, 30), dt.datetime(2106, 2, 7)]


def written_indices(out: Path, data: dict, c: dict, documents) -> list[str]:
    """The index names Fluent Bit and Vector write a commons' documents to."""
    schema = c.get("schema", "gen3")
    search = fluent_bit_search_output(out, c["name"])
    doc = sample(documents, schema, c["name"])
    prefix = search.get("logstash_prefix") or record_accessor_value(search["logstash_prefix_key"], doc)
    # The id is the event id wherever the schema keeps it.
    assert record_accessor_value(search["id_key"], doc) == (doc["event"]["id"] if schema == "ecs" else doc["id"])
    names = [f"{prefix}-{when.strftime(search['logstash_dateformat'])}" for when in WHEN]
    vector = yaml.safe_load((out / "vector" / "vector.yaml").read_text(encoding="utf-8"))
    sinks = [s for s in vector.get("sinks", {}).values()
             if s["type"] == "elasticsearch" and f"cwlogs_documents.{c['name']}" in s["inputs"]]
    for sink in sinks:
        names += [when.strftime(sink["bulk"]["index"]) for when in WHEN]
    return names


def winner(index: str, candidates: dict[str, tuple[list[str], int]]) -> str:
    """The template (or ISM policy) a new index gets: the highest priority
    among those whose patterns match."""
    matching = sorted(((prio, name) for name, (patterns, prio) in candidates.items()
                       if any(fnmatch.fnmatchcase(index, p) for p in patterns)), reverse=True)
    assert matching, f"nothing matches {index}"
    # Overlapping patterns of equal priority are refused by the server.
    assert len(matching) == 1 or matching[0][0] > matching[1][0], matching
    return matching[0][1]


@pytest.mark.parametrize("which", ["example", "varied"])
def test_index_patterns_take_exactly_the_indices_the_outputs_write(which, varied, documents, example_out):
    data, out = (example_data(), example_out) if which == "example" else varied
    files = read_search(out)
    for flavour in FLAVOURS:
        templates = {n.rsplit("/", 1)[1][:-5]: b for n, b in files.items()
                     if n.startswith(f"{flavour}/_index_template/")}
        components = {n.rsplit("/", 1)[1][:-5] for n in files if n.startswith(f"{flavour}/_component_template/")}
        for c in data["commons"]:
            prefix = c.get("es_index_prefix", c["name"])
            for index in written_indices(out, data, c, documents):
                assert index.startswith(prefix + "-"), index
                name = winner(index, {n: (b["index_patterns"], b["priority"]) for n, b in templates.items()})
                assert name == f"cwlogs-{prefix}", (index, name)
                body = templates[name]
                (schema_component,) = body["composed_of"]
                assert schema_component == f"cwlogs-schema-{c.get('schema', 'gen3')}" and schema_component in components
                if flavour == "elasticsearch":
                    policy = body["template"]["settings"]["index.lifecycle.name"]
                    assert f"elasticsearch/_ilm/policy/{policy}.json" in files
                else:
                    policies = {n.rsplit("/", 1)[1][:-5]: b["policy"]["ism_template"][0] for n, b in files.items()
                                if n.startswith("opensearch/_plugins/_ism/policies/")}
                    chosen = winner(index, {n: (t["index_patterns"], t["priority"]) for n, t in policies.items()})
                    assert chosen == f"cwlogs-{prefix}"


def test_every_output_of_the_varied_list_uses_its_schemas_keys(varied, documents):
    data, out = varied
    for c in data["commons"]:
        schema = c["schema"]
        search = fluent_bit_search_output(out, c["name"])
        for doc in documents[schema][:20]:
            doc = sample({schema: [doc]}, schema, c["name"])
            event_id = record_accessor_value(search["id_key"], doc)
            assert isinstance(event_id, str) and event_id
            if "logstash_prefix_key" in search:
                assert record_accessor_value(search["logstash_prefix_key"], doc) == c["name"]
        assert ("processors" in search) == (schema == "ecs")


# --------------------------------------------------------------------------
# retention


def days(text: str) -> int:
    assert text.endswith("d"), text
    return int(text[:-1])


def retention_of(files: dict, prefix: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    ilm = files[f"elasticsearch/_ilm/policy/cwlogs-{prefix}.json"]["policy"]["phases"]
    ism = files[f"opensearch/_plugins/_ism/policies/cwlogs-{prefix}.json"]["policy"]
    assert list(ilm) == ["hot", "warm", "cold", "delete"]
    assert ilm["delete"]["actions"] == {"delete": {}} and "readonly" in ilm["warm"]["actions"]
    ilm_days = tuple(days(ilm[p]["min_age"]) for p in ("warm", "cold", "delete"))
    states = {s["name"]: s for s in ism["states"]}
    assert ism["default_state"] == "hot" and list(states) == ["hot", "warm", "cold", "delete"]
    assert states["delete"]["actions"] == [{"delete": {}}] and states["delete"]["transitions"] == []
    chain = [(s["name"], t["state_name"], days(t["conditions"]["min_index_age"]))
             for s in ism["states"] for t in s["transitions"]]
    assert [(a, b) for a, b, _ in chain] == [("hot", "warm"), ("warm", "cold"), ("cold", "delete")]
    return ilm_days, tuple(d for _, _, d in chain)


def test_default_retention_is_the_seeds_bucket_lifecycle():
    files = read_search(GENERATED)
    csoc = json.loads((GENERATED / "aws" / "csoc.template.json").read_text(encoding="utf-8"))
    (bucket,) = [r for r in csoc["Resources"].values() if r["Type"] == "AWS::S3::Bucket"]
    (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    transitions = {t["StorageClass"]: t["TransitionInDays"] for t in rule["Transitions"]}
    seed = (transitions["STANDARD_IA"], transitions["GLACIER"], rule["ExpirationInDays"])
    assert seed == (60, 90, 2190)
    for c in example_data()["commons"]:
        assert retention_of(files, c["name"]) == (seed, seed)


def test_retention_from_the_list(varied):
    data, out = varied
    files = read_search(out)
    assert retention_of(files, "dev") == ((60, 90, 400),) * 2  # list-wide delete_days
    assert retention_of(files, "dev-planet") == ((7, 30, 400),) * 2  # and per commons
    assert retention_of(files, "qa") == ((60, 90, 400),) * 2  # one policy for a shared prefix
    assert "cwlogs-qa1" not in json.dumps(files)


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d["commons"][0].update(search_retention={"warm_days": 90}), "warm_days < cold_days < delete_days"),
    (lambda d: d["elasticsearch"].update(retention={"delete_days": 0}), "elasticsearch.retention.delete_days"),
    (lambda d: d["commons"][0].update(search_retention={"hot_days": 1}), "unknown key(s) hot_days"),
    (lambda d: d["commons"][0].update(search_retention={"delete_days": "400"}), "delete_days: expected days"),
    (lambda d: d["commons"][4].update(search_retention={"delete_days": 500}), "differ in retention"),
    (lambda d: d["commons"][4].update(schema="ecs"), "differ in schema"),
    (lambda d: d["commons"].append({"name": "dev-2024", "child_account_id": "111122223333"}),
     "looks like an index of 'dev'"),
    (lambda d: d["commons"][0].update(schema="xml"), "expected one of the decoder's schemas"),
], ids=["order", "zero", "unknown key", "text", "shared prefix retention", "shared prefix schema", "date-like prefix",
        "unknown schema"])
def test_refusals(mutate, message, tmp_path):
    from cwlogs_config.load import load
    from cwlogs_config.model import ConfigError

    data = varied_list()
    mutate(data)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load(data, options_with_every_schema(tmp_path))


def test_a_decoder_schema_the_generator_cannot_map_is_refused(tmp_path):
    from cwlogs_config.load import load
    from cwlogs_config.model import ConfigError
    from cwlogs_config.schema import load_schema

    data = option_schema()
    for option in data["options"]:
        if option["name"] == "schema":
            option["values"] = option["values"] + ["otel"]
    (tmp_path / "o.json").write_text(json.dumps(data), encoding="utf-8")
    example = example_data()
    example["commons"][0]["schema"] = "otel"
    with pytest.raises(ConfigError, match="the generator does not know yet"):
        load(example, load_schema(tmp_path / "o.json"))


def test_the_generator_knows_every_schema_of_the_decoder():
    from cwlogs_config.shapes import SHAPES

    (option,) = [o for o in option_schema()["options"] if o["name"] == "schema"]
    assert set(option["values"]) <= set(SHAPES)
    assert option["default"] in option["values"]
