"""The Vector config the generator writes (vector/vector.yaml, Vector 0.57).

Vector cannot be installed on these machines, so its config rules that bite
at start-up are re-checked on the parsed YAML: every `inputs` entry names a
component or a route output (`<route>.<name>`, `<route>._unmatched`,
`<remap>.dropped` with reroute_dropped), templated sink fields start with a
literal (0.57's template confinement), disk buffers are at least Vector's
minimum, and no secret value is written (secrets are SECRET[...] references).
"""

from __future__ import annotations

import json
import os
import re

import pytest
import yaml

from support import CONFIGS, GENERATED, example_data, option_schema

DISK_BUFFER_MIN = 268435488
PROGRAM = CONFIGS / "vector" / "cwlogs.vrl"


def load_vector(out) -> dict:
    return yaml.safe_load((out / "vector" / "vector.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def config(example_out) -> dict:
    return load_vector(example_out)


def components(config) -> dict:
    return {**config.get("sources", {}), **config.get("transforms", {}), **config.get("sinks", {})}


def outputs_of(config) -> set[str]:
    """Every name an `inputs` entry may refer to."""
    names = set()
    for key, comp in components(config).items():
        if key in config.get("sinks", {}):
            continue
        names.add(key)
        if comp["type"] == "route":
            names.update(f"{key}.{route}" for route in comp["route"])
            if comp.get("reroute_unmatched", True):
                names.add(f"{key}._unmatched")
        if comp["type"] == "remap" and comp.get("reroute_dropped"):
            names.add(f"{key}.dropped")
    return names


def test_parses_with_the_expected_components(config):
    commons = [c["name"] for c in example_data()["commons"]]
    assert len(commons) == 3
    assert config["data_dir"] == "/var/lib/vector"
    assert config["log_schema"] == {"timestamp_key": "_cwlogs_time"}
    assert list(config["sources"]) == ["firehose"]
    sinks = config["sinks"]
    for name in commons:
        assert sinks[f"search_{name}"]["type"] == "elasticsearch"
        assert sinks[f"s3_{name}"]["type"] == "aws_s3"
        assert sinks[f"dead_letter_{name}"]["type"] == "aws_s3"
    assert {k for k in sinks if k.startswith("slack_")} == {"slack_devplanetv1", "slack_qaplanetv1"}


def test_every_input_exists_and_every_output_is_consumed(config):
    available = outputs_of(config)
    consumed = set()
    for key, comp in components(config).items():
        if key in config["sources"]:
            assert "inputs" not in comp
            continue
        assert comp["inputs"], key
        for name in comp["inputs"]:
            assert name in available, f"{key}: input {name} is no component or route output"
            consumed.add(name)
    # Route outputs (the unmatched ones and the dropped output included) are
    # all taken by something: nothing is silently discarded.
    unconsumed = {name for name in available if "." in name} - consumed
    assert not unconsumed
    # And every component that is not a sink feeds something.
    assert {k for k in available if "." not in k} - {n.split(".")[0] for n in consumed} == set()


def test_source(config):
    src = config["sources"]["firehose"]
    assert src["type"] == "aws_kinesis_firehose"
    assert src["address"] == "0.0.0.0:443"
    assert src["store_access_key"] is True
    assert src["record_compression"] == "auto"
    # Deprecated at the source in Vector 0.57 (it warns at every start):
    # acknowledgements are the sinks' setting (test_every_sink_acknowledges).
    assert "acknowledgements" not in src
    assert src["tls"] == {"enabled": True, "crt_file": "/etc/vector/tls/firehose.crt",
                          "key_file": "/etc/vector/tls/firehose.key"}
    assert src["access_keys"] == [f"SECRET[cwlogs.{c['firehose_access_key_env']}]" for c in example_data()["commons"]]
    assert config["secret"]["cwlogs"]["type"] == "directory"


def test_decoder_is_the_shipped_program(config):
    """The remap runs the file the parity tests ran, not a copy of its text."""
    decode = config["transforms"]["cwlogs_decode"]
    assert "source" not in decode
    assert decode["inputs"] == ["cwlogs_options"]
    installed = decode["file"]
    assert installed == "/etc/vector/cwlogs.vrl"
    assert os.path.basename(installed) == PROGRAM.name and PROGRAM.is_file()
    text = (GENERATED / "vector" / "vector.yaml").read_text(encoding="utf-8")
    assert "parse_json" not in text and "_cwlogs_work" not in text


def _threshold_literal(value) -> str | None:
    if value is None:
        return None
    number = float(value)
    return f"{number:.1f}" if number == int(number) else repr(number)


def test_options_remap_matches_the_commons_list(config):
    program = config["transforms"]["cwlogs_options"]["source"]
    assert 'access_key = get_secret("aws_kinesis_firehose_access_key")' in program
    branches = re.findall(r'access_key == "SECRET\[cwlogs\.([A-Za-z0-9_]+)\]" \{\n  %gen3_cwlogs = (\{.*\})\n', program)
    commons = example_data()["commons"]
    schema = option_schema()["options"]
    # Every option the decoder has a default for carries that default
    # (decoder-options.json, written by the Rust core), in the schema's order.
    defaults = {o["name"]: o["default"] for o in schema if o["default"] not in (None, [])}
    assert set(defaults) >= {"schema", "max_decompressed_bytes", "max_events_per_record", "max_json_depth"}
    assert [env for env, _ in branches] == [c["firehose_access_key_env"] for c in commons]
    for (_, literal), c in zip(branches, commons):
        # The literal is JSON too (no braces or quotes inside these values).
        options = yaml.safe_load(literal)
        # The commons' schema, else the decoder's default, always written.
        expected = {"commons": c["name"], **defaults, "schema": c.get("schema", defaults["schema"])}
        if c.get("threshold") is not None:
            expected["slow_threshold_secs"] = float(c["threshold"])
            assert f'"slow_threshold_secs": {_threshold_literal(c["threshold"])}' in literal
        if c.get("alert_streams"):
            expected["alert_streams"] = c["alert_streams"]
        assert options == expected
        order = [o["name"] for o in schema]
        assert list(options) == sorted(options, key=order.index)
    assert program.rstrip().endswith("} else {\n  # Unreachable while the source's access_keys are exactly these keys.\n  %gen3_cwlogs = {}\n}")


def test_access_key_never_reaches_a_buffer(config):
    """store_access_key attaches the Firehose key to each event as a secret,
    and disk buffers persist event metadata: the options remap, the only
    component the source feeds, removes it as its second statement, before
    any branch, with nothing fallible before it (a remap that fails passes
    its event on unchanged). So every event reaching any sink has been
    through that removal, and nothing sets it again."""
    key = "aws_kinesis_firehose_access_key"
    assert config["sources"]["firehose"]["store_access_key"] is True
    consumers = [name for name, comp in components(config).items() if "firehose" in comp.get("inputs", [])]
    assert consumers == ["cwlogs_options"]
    remap = config["transforms"]["cwlogs_options"]
    statements = [line for line in remap["source"].splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert statements[:2] == [f'access_key = get_secret("{key}")', f'remove_secret("{key}")']
    # Nothing in the program can fail or abort, so no event leaves it early.
    assert "!" not in remap["source"].replace("!=", "") and "abort" not in remap["source"]
    assert not remap.get("drop_on_error") and not remap.get("reroute_dropped")

    # Every path from the source to a sink goes through the options remap.
    graph = {name: [i.split(".")[0] for i in comp.get("inputs", [])] for name, comp in components(config).items()}

    def reaches_source_without_options(name, seen=()):
        if name == "firehose":
            return True
        if name == "cwlogs_options" or name in seen:
            return False
        return any(reaches_source_without_options(i, seen + (name,)) for i in graph[name])

    for sink in config["sinks"]:
        assert not reaches_source_without_options(sink), sink
    # And nothing sets a secret again: neither the inline programs nor the
    # shipped decoder program.
    inline = [c.get("source", "") for c in config["transforms"].values()]
    for text in inline + [PROGRAM.read_text(encoding="utf-8")]:
        assert "set_secret" not in text


def test_every_sink_acknowledges(config):
    """Firehose gets its 200 only once every event of the request is in the
    sinks' disk buffers: end-to-end acknowledgements, set per sink."""
    for name, sink in config["sinks"].items():
        assert sink["acknowledgements"] == {"enabled": True}, name
        assert sink["buffer"]["type"] == "disk", name


def test_options_literal_form_matches_the_example_program(example, generate_from):
    """Same literal as crates/vrl-twin's options_program (options.example.vrl)."""
    example_vrl = (CONFIGS / "vector" / "options.example.vrl").read_text(encoding="utf-8")
    shipped = re.findall(r"%gen3_cwlogs = (\{\".*\})", example_vrl)
    ours = re.findall(r"%gen3_cwlogs = (\{\".*\})", load_vector(generate_from(example))["transforms"]["cwlogs_options"]["source"])
    assert ours == shipped


def test_routes(config):
    t = config["transforms"]
    names = [c["name"] for c in example_data()["commons"]]
    assert t["cwlogs_fields"]["inputs"] == ["cwlogs_decode"]
    assert t["cwlogs_kind"]["route"] == {k: f'%cwlogs_kind == "{k}"' for k in ("document", "alert", "error")}
    assert t["cwlogs_documents"]["route"] == {n: f'%cwlogs_route == "{n}"' for n in names}
    assert t["cwlogs_errors"]["route"] == {n: f'%cwlogs_route == "{n}"' for n in names}
    assert list(t["cwlogs_alerts"]["route"]) == ["devplanetv1", "qaplanetv1"]
    # Routing fields leave the events before any sink; _cwlogs_id stays for id_key.
    assert "del(._cwlogs_kind)" in t["cwlogs_fields"]["source"]
    assert "del(._cwlogs_route)" in t["cwlogs_fields"]["source"]
    assert "_cwlogs_id)" not in t["cwlogs_fields"]["source"]


def test_search_sinks(config):
    for c in example_data()["commons"]:
        s = config["sinks"][f"search_{c['name']}"]
        assert s["inputs"] == [f"cwlogs_documents.{c['name']}"]
        assert s["endpoints"] == ["https://search-commons-logs-xxxx.us-east-1.es.amazonaws.com:443"]
        assert s["bulk"] == {"index": f"{c['name']}-%G-w%V", "action": "create"}
        assert s["id_key"] == "_cwlogs_id"
        assert s["request_retry_partial"] is True
        assert s["batch"]["max_bytes"] < 10 * 1024 * 1024
        assert s["api_version"] == "v8"
        assert s["auth"] == {"strategy": "aws"} and s["aws"] == {"region": "us-east-1"}
        assert "_cwlogs_time" in s["encoding"]["except_fields"]


def test_s3_and_slack_sinks(config):
    for c in example_data()["commons"]:
        name = c["name"]
        s3 = config["sinks"][f"s3_{name}"]
        assert s3["bucket"] == f"{name}-logging"
        assert s3["key_prefix"] == f"forwarded_%Y/%m/%d/%H/{name}-"
        assert s3["compression"] == "gzip"
        assert s3["encoding"]["codec"] == "json" and s3["framing"] == {"method": "newline_delimited"}
        assert config["sinks"][f"dead_letter_{name}"]["key_prefix"].startswith("dead-letter/")
        assert config["sinks"][f"dead_letter_{name}"]["inputs"] == [f"cwlogs_errors.{name}"]
        if c.get("slack_webhook_path_env"):
            h = config["sinks"][f"slack_{name}"]
            assert h["type"] == "http" and h["inputs"] == [f"cwlogs_alerts.{name}"]
            assert h["uri"] == f"https://hooks.slack.comSECRET[cwlogs.{c['slack_webhook_path_env']}]"
            assert h["batch"] == {"max_events": 1}
            assert h["encoding"]["codec"] == "json" and h["framing"] == {"method": "newline_delimited"}
            assert h["healthcheck"] == {"enabled": False}
            # json + newline framing alone sends application/x-ndjson.
            assert h["request"] == {"headers": {"Content-Type": "application/json"}, "retry_attempts": 5}


TEMPLATED = {"elasticsearch": [("bulk", "index")], "aws_s3": [("key_prefix",)], "http": [("uri",)]}


def test_templates_have_a_literal_prefix(config):
    """Vector 0.57 refuses a templated routing field that starts with `{{` or `%`."""
    checked = 0
    for key, sink in config["sinks"].items():
        for path in TEMPLATED.get(sink["type"], []):
            value = sink
            for part in path:
                value = value[part]
            literal = re.split(r"\{\{|%", value, maxsplit=1)[0]
            assert literal, f"{key}: {value!r} has no literal prefix"
            assert ".." not in value
            checked += 1
        assert "dangerously_allow_unconfined_template_resolution" not in sink
    assert checked == len(config["sinks"])


def test_disk_buffers(config):
    for key, sink in config["sinks"].items():
        assert sink["buffer"]["type"] == "disk", key
        assert sink["buffer"]["max_size"] >= DISK_BUFFER_MIN, key


def test_no_secret_is_written(example, generate_from):
    names = [c["firehose_access_key_env"] for c in example["commons"]]
    names += [c["slack_webhook_path_env"] for c in example["commons"] if c.get("slack_webhook_path_env")]
    secrets = {name: f"sEcReT-{i}-{name.lower()}" for i, name in enumerate(names)}
    out = generate_from(example, env={**os.environ, **secrets})
    text = (out / "vector" / "vector.yaml").read_text(encoding="utf-8")
    for value in secrets.values():
        assert value not in text
    assert "${" not in "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
    assert set(re.findall(r"SECRET\[cwlogs\.([A-Za-z0-9_]+)\]", text)) == set(names)
    assert set(re.findall(r"SECRET\[([^\].]*)\.", text)) == {"cwlogs"}


def test_committed_vector_config_is_current(example_out):
    assert (GENERATED / "vector" / "vector.yaml").read_bytes() == (example_out / "vector" / "vector.yaml").read_bytes()


def test_defaults_and_custom_settings(generate_from):
    minimal = {
        "elasticsearch": {"host": "search.example.org", "tls": False, "http_user": "cw", "http_passwd_env": "ES_PASSWORD"},
        "front": {"tls_certificate": "/etc/nginx/tls/a.crt", "tls_certificate_key": "/etc/nginx/tls/a.key"},
        "commons": [
            {"name": "tinycommons", "child_account_id": "123456789012", "threshold": 0.5,
             "slack_webhook_path_env": "SLACK_TINY", "s3": {"prefix": ""}},
            {"name": "other", "child_account_id": "123456789013", "es_index_prefix": "shared"},
            {"name": "third", "child_account_id": "123456789014", "es_index_prefix": "shared"},
        ],
        "vector": {"address": "127.0.0.1:8443", "buffer_max_size": 536870912, "es_api_version": "auto"},
    }
    c = load_vector(generate_from(minimal))
    assert c["sources"]["firehose"]["address"] == "127.0.0.1:8443"
    assert '"slow_threshold_secs": 0.5' in c["transforms"]["cwlogs_options"]["source"]
    search = c["sinks"]["search_tinycommons"]
    assert search["endpoints"] == ["http://search.example.org:9200"] and search["api_version"] == "auto"
    assert search["auth"] == {"strategy": "basic", "user": "cw", "password": "SECRET[cwlogs.ES_PASSWORD]"}
    assert c["sinks"]["search_shared"]["inputs"] == ["cwlogs_documents.other", "cwlogs_documents.third"]
    assert c["sinks"]["search_shared"]["bulk"]["index"] == "shared-%G-w%V"
    # An empty S3 prefix leaves no literal before the strftime fields.
    s3 = c["sinks"]["s3_tinycommons"]
    assert s3["key_prefix"] == "%Y/%m/%d/%H/tinycommons-"
    assert s3["dangerously_allow_unconfined_template_resolution"] is True
    assert all(s["buffer"]["max_size"] == 536870912 for s in c["sinks"].values())
    assert c["transforms"]["cwlogs_unrouted"]["inputs"] == [
        "cwlogs_documents._unmatched", "cwlogs_errors._unmatched", "cwlogs_alerts._unmatched"]


def test_no_alerting_commons_sends_alerts_to_the_dead_letter(generate_from):
    data = {
        "elasticsearch": {"host": "search.example.org"},
        "front": {"tls_certificate": "/etc/nginx/tls/a.crt", "tls_certificate_key": "/etc/nginx/tls/a.key"},
        "commons": [{"name": "tinycommons", "child_account_id": "123456789012"}],
    }
    c = load_vector(generate_from(data))
    assert "cwlogs_alerts" not in c["transforms"]
    assert "cwlogs_kind.alert" in c["transforms"]["cwlogs_unrouted"]["inputs"]
    assert not any(k.startswith("slack_") for k in c["sinks"])
    test_every_input_exists_and_every_output_is_consumed(c)


@pytest.mark.parametrize("vector, where", [
    ({"buffer_max_size": 268435487}, "vector.buffer_max_size"),
    ({"es_api_version": "v9"}, "vector.es_api_version"),
    ({"address": "443"}, "vector.address"),
    ({"program_path": "relative/cwlogs.vrl"}, "vector.program_path"),
    ({"tls_certfile": "/x"}, "unknown key"),
])
def test_invalid_vector_settings(example, generate_from, vector, where):
    example["vector"] = vector
    proc = generate_from(example, expect_error=True)
    assert where in proc.stderr


def test_the_twins_schemas_are_read_from_the_program():
    from cwlogs_config.vector import twin_schemas

    (line,) = [line for line in PROGRAM.read_text(encoding="utf-8").splitlines() if line.startswith("schema_names = ")]
    assert twin_schemas() == yaml.safe_load(line.split(" = ", 1)[1])
    assert "gen3" in twin_schemas()


def test_search_sinks_take_the_id_whatever_the_schema(config):
    """The program sets `_cwlogs_id` from the id it gives every document and
    error document, whatever the schema (the parity tests compare the
    values), and every search sink reads it."""
    text = PROGRAM.read_text(encoding="utf-8")
    assert re.search(r"_cwlogs_id\s*=\s*id\b", text), "the program no longer sets _cwlogs_id from the id"
    searches = [s for s in config["sinks"].values() if s["type"] == "elasticsearch"]
    assert searches and all(s["id_key"] == "_cwlogs_id" for s in searches)


def _list_with_schemas(tmp_path, schemas):
    from test_search import generate, options_with_every_schema

    data = example_data()
    data.pop("aws")
    for c, schema in zip(data["commons"], schemas):
        c["schema"] = schema
    return load_vector(generate(data, options_with_every_schema(tmp_path), tmp_path / "out"))


def test_commons_of_a_schema_the_twin_lacks_are_left_out(tmp_path):
    """The VRL twin checks the schema option against its own list; a commons
    it cannot decode is left out of the Vector pipeline (said at the top of
    the file): Vector refuses its deliveries (401, an unknown access key),
    Firehose keeps them."""
    from cwlogs_config.vector import twin_schemas

    missing = [s for s in ("gen3", "cloudwatch", "ecs") if s not in twin_schemas()]
    if not missing:
        pytest.skip("the VRL twin decodes every schema")
    commons = example_data()["commons"]
    config = _list_with_schemas(tmp_path, ["gen3", "cloudwatch", missing[0]])
    left, kept = commons[2], commons[:2]
    text = (tmp_path / "out" / "vector" / "vector.yaml").read_text(encoding="utf-8")
    assert f"# Not served by this pipeline: {left['name']} (schema {missing[0]})" in text
    assert config["sources"]["firehose"]["access_keys"] == [f"SECRET[cwlogs.{c['firehose_access_key_env']}]" for c in kept]
    program = config["transforms"]["cwlogs_options"]["source"]
    assert left["firehose_access_key_env"] not in program and '"schema": "cloudwatch"' in program
    assert not any(left["name"] in name for name in config["sinks"])
    test_every_input_exists_and_every_output_is_consumed(config)

    # Nothing left to serve: the file says so and holds no pipeline.
    config = _list_with_schemas(tmp_path, [missing[0]] * 3)
    assert config is None
    assert "No commons of the list can be served by Vector" in (tmp_path / "out" / "vector" / "vector.yaml").read_text()


def test_generate_notes_commons_left_out_of_vector(example, tmp_path, monkeypatch, capsys):
    from cwlogs_config import cli
    from cwlogs_config.vector import twin_schemas
    from test_search import options_with_every_schema

    lacking = [s for s in ("gen3", "cloudwatch", "ecs") if s not in twin_schemas()]
    if not lacking:
        pytest.skip("the VRL twin decodes every schema")
    options = options_with_every_schema(tmp_path)
    monkeypatch.setattr(cli, "load_schema", lambda: options)
    example["commons"][2]["schema"] = lacking[0]
    (tmp_path / "list.json").write_text(json.dumps(example), encoding="utf-8")
    assert cli.main([str(tmp_path / "list.json"), "--out", str(tmp_path / "out")]) == 0
    note = f"{example['commons'][2]['name']} (schema {lacking[0]})"
    assert note in capsys.readouterr().err
    assert note in (tmp_path / "out" / "vector" / "vector.yaml").read_text(encoding="utf-8")


def test_vrl_float_is_rust_display():
    from cwlogs_config.vector import vrl_float
    assert [vrl_float(t) for t in ("65.0", "30", "0.5", "1e20", "0.00001")] == [
        "65.0", "30.0", "0.5", "100000000000000000000.0", "0.00001"]
