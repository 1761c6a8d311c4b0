"""The generator: what it writes for the example list, its defaults, its
refusals, and that the committed pipeline-configs/generated/ is its output.

Fluent Bit is not installable on these machines, so routing is checked by
re-implementing Fluent Bit's matching rules on the parsed YAML: `match` is a
glob where only `*` is special (flb_router.c), `match_regex` is an Onigmo
match anchored at the start of the tag (onig_match, not a search). The YAML
is read with PyYAML's BaseLoader, which like Fluent Bit keeps every scalar a
string.
"""

from __future__ import annotations

import datetime as dt
import filecmp
import json
import os
import re
import shutil

import pytest
import yaml

from support import EXAMPLE, GENERATED, example_data, option_schema, run_generate

KINDS = ("document", "alert", "error")
# The tags rewrite_tag moves records that are no documents to.
MOVED = ("alert", "error", "undecoded")


# --------------------------------------------------------------------------
# helpers


def load_pipeline(out) -> dict:
    text = (out / "fluent-bit" / "fluent-bit.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=yaml.BaseLoader)


def fb_matches(plugin: dict, tag: str) -> bool:
    assert ("match" in plugin) != ("match_regex" in plugin), f"exactly one of match/match_regex: {plugin}"
    if "match_regex" in plugin:
        m = re.match(plugin["match_regex"], tag)
        return m is not None and m.end() > 0
    glob = "".join(".*" if ch == "*" else re.escape(ch) for ch in plugin["match"])
    return re.fullmatch(glob, tag) is not None


def tag_of(name: str) -> str:
    return "cwlogs." + re.sub(r"[^A-Za-z0-9_.]", "_", name)


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def key(name: str) -> str:
    """The Fluent Bit record key of a decoder option, as decoder-options.json
    (written by the Rust core) defines it."""
    schema = option_schema()
    assert name in [o["name"] for o in schema["options"]], f"the decoder has no option {name}"
    return schema["record_key_prefix"] + name


def keys(*names: str) -> list[str]:
    return [key(n) for n in names]


# Options the commons list never sets: always removed, so the decoder's
# defaults apply and a payload cannot set them. (`schema` is always set for a
# listed commons, and removed for unlisted tags.)
UNSET = ("max_decompressed_bytes", "max_events_per_record", "max_json_depth")


def schema_default() -> str:
    (option,) = [o for o in option_schema()["options"] if o["name"] == "schema"]
    return option["default"]


def schema_of(c: dict) -> str:
    return c.get("schema", schema_default())


@pytest.fixture(scope="module")
def pipeline(example_out):
    return load_pipeline(example_out)


@pytest.fixture(scope="module")
def commons():
    return example_data()["commons"]


# --------------------------------------------------------------------------
# the example list


def test_example_has_three_commons_one_with_a_hyphen(commons):
    names = [c["name"] for c in commons]
    assert len(names) == 3
    assert any("-" in n for n in names)


def test_service_and_input(pipeline):
    service = pipeline["service"]
    assert service == {
        "flush": "1",
        "log_level": "info",
        "storage.path": "/var/lib/fluent-bit/storage",
        "storage.sync": "normal",
        "storage.backlog.mem_limit": "64M",
        "http_server": "on",
        "http_listen": "127.0.0.1",
        "http_port": "2020",
        "json.escape_unicode": "false",
        # 4.1's 24 KiB output coroutine stack overflows on nested records.
        "coro_stack_size": "262144",
    }
    (inp,) = pipeline["pipeline"]["inputs"]
    assert inp == {
        "name": "http",
        "listen": "127.0.0.1",
        "port": "9880",
        "storage.type": "filesystem",
        "buffer_max_size": "64M",
        "successful_response_code": "201",
        # As long as the front waits for the answer (nginx.conf).
        "net.io_timeout": "170s",
        # POST / gets the input's tag: decoded as `unknown`, dead-lettered.
        "tag": "cwlogs.unlisted",
    }


def test_filter_chain_order(pipeline, commons):
    filters = pipeline["pipeline"]["filters"]
    n = len(commons)
    assert [f["name"] for f in filters] == ["modify"] * (n + 1) + ["wasm", "lua", "lua", "parser", "rewrite_tag", "modify"]

    wasm, split, set_time, parser, rewrite, cleanup = filters[n + 1:]
    assert wasm == {
        "name": "wasm",
        "match_regex": r"^cwlogs\.",
        "wasm_path": "/etc/fluent-bit/gen3_cwlogs_fluent_bit.wasm",
        "function_name": "gen3_cwlogs_filter",
        "event_format": "json",
        "wasm_heap_size": "64M",
        "wasm_stack_size": "1M",
    }
    assert split["call"] == "split" and set_time["call"] == "set_time"
    for lua in (split, set_time):
        assert lua["match_regex"] == r"^cwlogs\."
        assert lua["script"] == "/etc/fluent-bit/cwlogs.lua"
        assert lua["enable_flb_null"] == "true"
        assert lua["protected_mode"] == "true"
    # set_time returns {sec, nsec}: a fractional second is truncated 1 ms early.
    assert set_time["time_as_table"] == "true" and "time_as_table" not in split
    # Each entry's JSON text becomes the record, nothing else kept.
    assert parser == {"name": "parser", "match_regex": r"^cwlogs\.", "key_name": "_cwlogs_json",
                      "parser": "cwlogs_json", "reserve_data": "off", "preserve_key": "off"}
    assert pipeline["parsers"] == [{"name": "cwlogs_json", "format": "json"}]
    # Only records that are no documents are re-emitted.
    assert rewrite["match_regex"] == r"^cwlogs\."
    assert as_list(rewrite["rule"]) == [
        "$_cwlogs_kind ^(alert|error)$ $1.$TAG[1] false",
        "$_cwlogs_kind ^result$ undecoded.$TAG[1] false",
        "$gen3_cwlogs_commons ^ undecoded.$TAG[1] false",
    ]
    assert rewrite["emitter_name"] == "cwlogs_router"
    assert rewrite["emitter_storage.type"] == "filesystem"
    assert rewrite["emitter_mem_buf_limit"] == "64M"
    assert cleanup["match_regex"] == r"^(alert|error)\."
    assert as_list(cleanup["remove"]) == ["_cwlogs_kind"]


def test_filters_see_only_their_tags(pipeline, commons):
    """The decoding filters take what the front posts and never what
    rewrite_tag re-emits (re-emitted records run the chain again: matching
    them would loop); the cleanup takes only alerts and error documents."""
    filters = pipeline["pipeline"]["filters"]
    n = len(commons)
    inputs = [tag_of(c["name"]) for c in commons]
    emitted = [f"{k}.{tag_of(c['name'])[len('cwlogs.'):]}" for c in commons for k in MOVED] + [f"{k}.unlisted" for k in MOVED]
    for f in filters[n + 1:n + 6]:
        assert all(fb_matches(f, t) for t in inputs), f
        assert not any(fb_matches(f, t) for t in emitted), f
    cleaned = [t for t in emitted if not t.startswith("undecoded.")]
    assert all(fb_matches(filters[-1], t) for t in cleaned)
    assert not any(fb_matches(filters[-1], t) for t in inputs + [t for t in emitted if t not in cleaned])


def test_one_modify_per_commons_with_its_options(pipeline, commons):
    modifies = pipeline["pipeline"]["filters"][: len(commons)]
    assert [m["match"] for m in modifies] == ["cwlogs.devplanetv1", "cwlogs.qaplanetv1", "cwlogs.data_commons_prod"]
    # The schema is always set: the search outputs read the id and the
    # commons where the commons' schema keeps them.
    schemas = [f"{key('schema')} {schema_of(c)}" for c in commons]
    assert [as_list(m["set"]) for m in modifies] == [
        [f"{key('commons')} devplanetv1",
         f"{key('slow_threshold_secs')} 65.0",
         f"{key('alert_streams')} revproxy,sheepdog,peregrine", schemas[0]],
        [f"{key('commons')} qaplanetv1",
         f"{key('slow_threshold_secs')} 30", schemas[1]],
        # The real name, not the tag: it is written into every document.
        [f"{key('commons')} data-commons-prod", schemas[2]],
    ]
    # Options not configured are removed, so a payload cannot set them.
    assert [as_list(m["remove"]) for m in modifies] == [
        keys(*UNSET),
        keys("alert_streams", *UNSET),
        keys("slow_threshold_secs", "alert_streams", *UNSET),
    ]
    for m, c in zip(modifies, commons):
        # Each modify takes exactly its own commons' deliveries.
        assert [fb_matches(m, tag_of(o["name"])) for o in commons] == [o is c for o in commons]


def test_unlisted_tags_are_decoded_as_unknown(pipeline, commons):
    """in_http has no authentication: something else on the host posting to
    /cwlogs.whatever must not get documents into a commons' index."""
    other = pipeline["pipeline"]["filters"][len(commons)]
    assert other["name"] == "modify"
    assert as_list(other["set"]) == [f"{key('commons')} unknown"]
    assert as_list(other["remove"]) == keys("slow_threshold_secs", "alert_streams", "schema", *UNSET)
    for c in commons:
        assert not fb_matches(other, tag_of(c["name"]))
    for tag in ("cwlogs.other", "cwlogs.devplanetv1x", "cwlogs.data_commons_prod_2", "cwlogs.dev", "cwlogs."):
        assert fb_matches(other, tag), tag


def test_every_output_is_fed_and_every_record_has_an_output(pipeline, commons):
    outputs = pipeline["pipeline"]["outputs"]
    names = [c["name"] for c in commons]
    with_slack = {c["name"] for c in commons if c.get("slack_webhook_path_env")}
    short = {n: tag_of(n)[len("cwlogs."):] for n in names}
    # Documents stay on the input tag; rewrite_tag moves alerts, error
    # documents and anything not decoded.
    produced = ({tag_of(n) for n in names} | {f"error.{short[n]}" for n in names}
                | {f"alert.{short[n]}" for n in with_slack})
    # A tag of no listed commons (in_http takes any path), decoded as `unknown`.
    unrouted = {f"{k}.{t}" for t in ("unlisted", "someone-else", "x") for k in ("cwlogs", "alert", "error")}
    undecoded = {f"undecoded.{t}" for t in list(short.values()) + ["unlisted"]}
    for out in outputs:
        assert any(fb_matches(out, t) for t in produced | unrouted | undecoded), f"output fed by no tag: {out}"

    def takers(tag):
        return [o for o in outputs if fb_matches(o, tag)]

    # A delivery the module or the Lua split did not turn into records is
    # kept raw, not dropped.
    for tag in undecoded:
        (taker,) = takers(tag)
        assert taker["bucket"] == "cwlogs-dead-letter", tag
        assert taker["s3_key_format"].startswith("/undecoded/")

    for n in names:
        doc = takers(tag_of(n))
        assert sorted(o["name"] for o in doc) == ["opensearch", "s3"], (n, doc)
        assert [o["name"] for o in takers(f"error.{short[n]}")] == ["s3"]
        if n in with_slack:
            assert [o["name"] for o in takers(f"alert.{short[n]}")] == ["http"]
    for tag in unrouted:
        (taker,) = takers(tag)
        assert taker["bucket"] == "cwlogs-dead-letter", tag
        assert taker["s3_key_format"].startswith("/unrouted/")


# Where each schema keeps the event id and the commons, as Fluent Bit record
# accessors (the shapes in README "Documents" and src/ecs.rs).
SEARCH_KEYS = {"gen3": ("id", "$commons"), "cloudwatch": ("id", "$commons"),
               "ecs": ("$event['id']", "$labels['commons']")}


def test_search_output(pipeline, commons):
    searches = [o for o in pipeline["pipeline"]["outputs"] if o["name"] == "opensearch"]
    # One output per schema (every example commons is indexed under its name).
    schemas = list(dict.fromkeys(schema_of(c) for c in commons))
    assert len(searches) == len(schemas)
    for search, schema in zip(searches, schemas):
        names = [c["name"] for c in commons if schema_of(c) == schema]
        id_key, prefix_key = SEARCH_KEYS[schema]
        expected = {
            "name": "opensearch",
            "match_regex": r"^cwlogs\.(?:" + "|".join(tag_of(n)[len("cwlogs."):] for n in names) + ")$",
            "host": "search-commons-logs-xxxx.us-east-1.es.amazonaws.com",
            "port": "443",
            "tls": "on",
            "tls.verify": "on",
            "logstash_format": "on",
            "logstash_prefix_key": prefix_key,
            "logstash_dateformat": "%G-w%V",
            "id_key": id_key,
            "write_operation": "create",
            "suppress_type_name": "on",
            "aws_auth": "on",
            "aws_region": "us-east-1",
            "trace_error": "on",
            "retry_limit": "no_limits",
            "storage.total_limit_size": "10G",
            "buffer_size": "false",
            "workers": "2",
        }
        if schema == "ecs":
            # The output writes the record time as @timestamp itself: the
            # document's own is removed on the way out (test_search.py).
            expected["processors"] = {"logs": [{"name": "content_modifier", "action": "delete", "key": "@timestamp"}]}
        assert search == expected
    search = searches[0]
    # Fluent Bit composes prefix + "-" + strftime(dateformat, record time):
    # the Lambda's weekly index, with ISO week-years at the year boundary.
    fmt = search["logstash_dateformat"]
    assert "devplanetv1-" + dt.datetime(2019, 3, 1, 17, 34, 34).strftime(fmt) == "devplanetv1-2019-w09"
    assert dt.datetime(2024, 12, 30).strftime(fmt) == "2025-w01"
    # The search output never takes `unknown`: its documents have no commons
    # to name an index with.
    assert not fb_matches(search, "cwlogs.unlisted")


def test_s3_outputs(pipeline, commons):
    outputs = pipeline["pipeline"]["outputs"]
    s3 = [o for o in outputs if o["name"] == "s3"]
    common_keys = {"json_date_key": "false", "total_file_size": "50M", "upload_timeout": "5m", "retry_limit": "no_limits"}
    for o in s3:
        assert {k: o[k] for k in common_keys} == common_keys, o
        assert o["s3_key_format"].startswith("/")
        # Document archives zstd (the default), dead letters gzip.
        archive = o.get("match", "").startswith("cwlogs.")
        assert o["compression"] == ("zstd" if archive else "gzip"), o
        assert o["s3_key_format"].endswith("-$UUID.json.zst" if archive else "-$UUID.json.gz")

    when = dt.datetime(2019, 3, 1, 17, 34, 34)
    for c in commons:
        name = c["name"]
        (doc,) = [o for o in s3 if o.get("match") == tag_of(name)]
        (dead,) = [o for o in s3 if o.get("match") == "error." + tag_of(name)[len("cwlogs."):]]
        bucket = c["s3"]["bucket"] if "s3" in c else f"{name}-logging"
        assert doc["bucket"] == dead["bucket"] == bucket
        key = doc["s3_key_format"].replace("$UUID", "AbCd1234")
        assert when.strftime(key) == f"/{c.get('s3', {}).get('prefix', 'forwarded_')}2019/03/01/17/{name}-20190301T173434-AbCd1234.json.zst"
        assert when.strftime(dead["s3_key_format"]) == f"/dead-letter/2019/03/01/17/{name}-20190301T173434-$UUID.json.gz"
        assert doc["store_dir"] == f"/var/lib/fluent-bit/s3/{name}"
        assert dead["store_dir"] == f"/var/lib/fluent-bit/s3/{name}.dead-letter"
    region = {o.get("match"): o["region"] for o in s3}
    assert region["cwlogs.data_commons_prod"] == "us-west-2"
    assert region["cwlogs.qaplanetv1"] == "us-east-1"  # default: aws_region

    # out_s3 uploads whatever it finds in its store_dir at start-up, so no
    # two outputs may share one and none may lie inside another's.
    dirs = sorted(o["store_dir"] for o in s3)
    assert len(set(dirs)) == len(dirs)
    for a in dirs:
        for b in dirs:
            assert a == b or not b.startswith(a + "/"), (a, b)


def test_slack_outputs(pipeline, commons):
    slack = [o for o in pipeline["pipeline"]["outputs"] if o["name"] == "http"]
    assert [o["match"] for o in slack] == ["alert.devplanetv1", "alert.qaplanetv1"]  # alert.<tag>
    for o, env in zip(slack, ["SLACK_WEBHOOK_PATH_DEVPLANETV1", "SLACK_WEBHOOK_PATH_QA"]):
        assert o == {
            "name": "http", "match": o["match"], "host": "hooks.slack.com", "port": "443",
            "tls": "on", "tls.verify": "on", "uri": "${%s}" % env,
            "body_key": "$slack_payload", "headers_key": "$slack_headers",
            "retry_limit": "5",
        }


def test_header_says_generated(example_out):
    for rel, comment in [("fluent-bit/fluent-bit.yaml", "#"), ("front/nginx.conf", "#"), ("front/firehose.js", "//")]:
        first = (example_out / rel).read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith(f"{comment} Generated by pipeline-configs/generate.py from commons.example.json")
    yaml_text = (example_out / "fluent-bit" / "fluent-bit.yaml").read_text(encoding="utf-8")
    assert "Secrets are not in this file" in yaml_text


def test_no_secret_is_written(example, generate_from):
    """Even with every secret in the generator's environment, the files only
    name the variables."""
    env_names = []
    for c in example["commons"]:
        env_names.append(c["firehose_access_key_env"])
        if c.get("slack_webhook_path_env"):
            env_names.append(c["slack_webhook_path_env"])
    secrets = {name: f"sEcReT-{i}-{name.lower()}" for i, name in enumerate(env_names)}
    out = generate_from(example, env={**os.environ, **secrets})
    texts = {p: p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file()}
    # 4 collector files, 2 templates, 2 parameter files per commons, 5 Terraform
    # files; search: per flavour, a component template per schema and an index
    # template and a policy per commons.
    schemas = {schema_of(c) for c in example["commons"]}
    assert len(texts) == 4 + 2 + 2 * len(example["commons"]) + 5 + 2 * (len(schemas) + 2 * len(example["commons"]))
    for path, text in texts.items():
        for value in secrets.values():
            assert value not in text, path
    settings = "\n".join(line for line in texts[out / "fluent-bit" / "fluent-bit.yaml"].splitlines()
                         if not line.lstrip().startswith("#"))
    assert set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", settings)) == {
        "SLACK_WEBHOOK_PATH_DEVPLANETV1", "SLACK_WEBHOOK_PATH_QA"}


def test_front_files(example_out, commons):
    conf = (example_out / "front" / "nginx.conf").read_text(encoding="utf-8")
    js = (example_out / "front" / "firehose.js").read_text(encoding="utf-8")
    envs = re.findall(r"^env (\S+);$", conf, re.M)
    assert envs == [c["firehose_access_key_env"] for c in commons]
    assert conf.index("env ") < conf.index("events {") < conf.index("http {")
    assert "load_module modules/ngx_http_js_module.so;" in conf
    assert "listen 443 ssl;" in conf
    assert "ssl_certificate /etc/nginx/tls/front.crt;" in conf
    assert "ssl_certificate_key /etc/nginx/tls/front.key;" in conf
    assert "client_max_body_size 64m;" in conf
    assert 'js_path "/etc/nginx/njs";' in conf and "js_import firehose.js;" in conf
    assert "proxy_pass http://127.0.0.1:9880/;" in conf
    assert "proxy_set_header Content-Type application/json;" in conf
    assert "proxy_read_timeout 170s;" in conf
    assert re.search(r"location /_fluentbit/ \{\s+internal;", conf)

    table = re.search(r"var COMMONS = \[(.*?)\];", js, re.S).group(1)
    rows = re.findall(r'\{name: "([^"]+)", tag: "([^"]+)", keyEnv: "([^"]+)"\}', table)
    assert rows == [(c["name"], tag_of(c["name"]), c["firehose_access_key_env"]) for c in commons]
    assert "process.env[" in js


def test_committed_generated_files_are_current(tmp_path):
    """pipeline-configs/generated/ is the generator's output for the example
    list; a hand edit there, or a generator change without regenerating, is
    a bug. Regenerate with:
    python3 pipeline-configs/generate.py pipeline-configs/commons.example.json --out pipeline-configs/generated"""
    proc = run_generate(EXAMPLE, tmp_path)
    assert proc.returncode == 0, proc.stderr
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(GENERATED) for p in GENERATED.rglob("*") if p.is_file())
    assert committed == fresh
    for rel in fresh:
        assert (GENERATED / rel).read_bytes() == (tmp_path / rel).read_bytes(), f"{rel} differs from the generator's output"
    assert run_generate(EXAMPLE, GENERATED, "--check").returncode == 0


def test_check_mode_reports_files_of_a_removed_commons(tmp_path):
    shutil.copytree(GENERATED, tmp_path / "gen")
    stale = tmp_path / "gen" / "aws" / "oldcommons" / "csoc.parameters.json"
    stale.parent.mkdir()
    stale.write_text("[]", encoding="utf-8")
    proc = run_generate(EXAMPLE, tmp_path / "gen", "--check")
    assert proc.returncode == 1 and "oldcommons" in proc.stderr
    # Writing leaves it (it may not be ours) but says so.
    proc = run_generate(EXAMPLE, tmp_path / "gen")
    assert proc.returncode == 0 and "oldcommons" in proc.stderr and stale.exists()


def test_check_mode_reports_a_hand_edit(tmp_path):
    shutil.copytree(GENERATED, tmp_path / "gen")
    target = tmp_path / "gen" / "front" / "nginx.conf"
    target.write_text(target.read_text(encoding="utf-8").replace("64m", "128m"), encoding="utf-8")
    proc = run_generate(EXAMPLE, tmp_path / "gen", "--check")
    assert proc.returncode == 1
    assert "nginx.conf" in proc.stderr
    assert filecmp.cmp(GENERATED / "fluent-bit" / "fluent-bit.yaml", tmp_path / "gen" / "fluent-bit" / "fluent-bit.yaml")


# --------------------------------------------------------------------------
# defaults and options


MINIMAL = {
    "elasticsearch": {"host": "search.example.org"},
    "front": {"tls_certificate": "/etc/nginx/tls/a.crt", "tls_certificate_key": "/etc/nginx/tls/a.key"},
    "commons": [{"name": "tinycommons", "child_account_id": "123456789012"}],
}


def test_defaults(generate_from):
    out = generate_from(MINIMAL)
    p = load_pipeline(out)
    filters, outputs = p["pipeline"]["filters"], p["pipeline"]["outputs"]
    # No threshold: no alerts; the decoder's default schema, written out.
    assert as_list(filters[0]["set"]) == [f"{key('commons')} tinycommons", f"{key('schema')} {schema_default()}"]
    assert as_list(filters[0]["remove"]) == keys("slow_threshold_secs", "alert_streams", *UNSET)
    assert [o["name"] for o in outputs] == ["opensearch", "s3", "s3", "s3", "s3"]  # no Slack output
    search, doc, dead, undecoded, unrouted = outputs
    assert undecoded["bucket"] == "cwlogs-dead-letter"
    assert search["port"] == "443" and search["tls"] == "on"
    assert search["logstash_dateformat"] == "%G-w%V"
    assert "aws_auth" not in search
    assert doc["bucket"] == dead["bucket"] == "tinycommons-logging"
    assert doc["region"] == "us-east-1" and "endpoint" not in doc
    assert doc["s3_key_format"] == "/forwarded_%Y/%m/%d/%H/tinycommons-%Y%m%dT%H%M%S-$UUID.json.zst"
    assert unrouted["bucket"] == "cwlogs-dead-letter"
    assert p["pipeline"]["inputs"][0]["port"] == "9880"
    conf = (out / "front" / "nginx.conf").read_text(encoding="utf-8")
    assert "env FIREHOSE_ACCESS_KEY_TINYCOMMONS;" in conf
    assert "listen 443 ssl;" in conf
    assert "proxy_pass http://127.0.0.1:9880/;" in conf  # derived from fluent_bit.http_*


def test_self_managed_search_and_s3_compatible_storage(generate_from):
    data = json.loads(json.dumps(MINIMAL))
    data["elasticsearch"] = {"host": "127.0.0.1", "port": 9200, "tls": False, "aws_auth": False,
                             "output": "es", "http_user": "fluent", "http_passwd_env": "ES_PASSWORD",
                             "index_date_format": "%Y.%m.%d"}
    data["commons"][0]["s3"] = {"bucket": "logs", "prefix": "cw/", "endpoint": "http://127.0.0.1:9000"}
    data["dead_letter_bucket"] = "dead"
    data["dead_letter_endpoint"] = "http://127.0.0.1:9000"
    out = generate_from(data)
    search, doc, dead, undecoded, unrouted = load_pipeline(out)["pipeline"]["outputs"]
    assert search["name"] == "es"
    assert search["tls"] == "off" and "tls.verify" not in search
    assert "aws_auth" not in search and "aws_region" not in search
    assert search["http_user"] == "fluent" and search["http_passwd"] == "${ES_PASSWORD}"
    assert search["logstash_dateformat"] == "%Y.%m.%d"
    assert doc["endpoint"] == dead["endpoint"] == undecoded["endpoint"] == unrouted["endpoint"] == "http://127.0.0.1:9000"
    assert doc["s3_key_format"].startswith("/cw/%Y/")
    assert unrouted["bucket"] == undecoded["bucket"] == "dead"


def test_own_index_prefix_gets_its_own_search_output(generate_from, example):
    example["commons"][1]["es_index_prefix"] = "qa-planet"
    out = generate_from(example)
    searches = [o for o in load_pipeline(out)["pipeline"]["outputs"] if o["name"] == "opensearch"]
    shared, own = searches
    assert fb_matches(shared, "cwlogs.devplanetv1") and not fb_matches(shared, "cwlogs.qaplanetv1")
    assert fb_matches(own, "cwlogs.qaplanetv1") and not fb_matches(own, "cwlogs.qaplanetv1x")
    assert own["logstash_prefix"] == "qa-planet" and "logstash_prefix_key" not in own


@pytest.mark.parametrize("given,written", [("65.0", "65.0"), (30, "30"), (0.5, "0.5"), ("120", "120"), (1e20, "100000000000000000000.000000")])
def test_threshold_forms(generate_from, example, given, written):
    example["commons"][0]["threshold"] = given
    out = generate_from(example)
    sets = as_list(load_pipeline(out)["pipeline"]["filters"][0]["set"])
    assert f"{key('slow_threshold_secs')} {written}" in sets


def test_front_overrides(generate_from, example, tmp_path):
    out = generate_from(example, "--front-listen", "127.0.0.1:18443", "--front-fluent-bit-url", "http://127.0.0.1:19880",
                        "--front-js-dir", str(tmp_path / "js"), "--front-tls-dir", str(tmp_path / "tls"),
                        "--front-log-dir", str(tmp_path / "logs"))
    conf = (out / "front" / "nginx.conf").read_text(encoding="utf-8")
    assert "listen 127.0.0.1:18443 ssl;" in conf
    assert "proxy_pass http://127.0.0.1:19880/;" in conf
    assert f'js_path "{tmp_path}/js";' in conf
    assert f"ssl_certificate {tmp_path}/tls/front.crt;" in conf
    assert f"ssl_certificate_key {tmp_path}/tls/front.key;" in conf
    assert f"error_log {tmp_path}/logs/firehose.error.log warn;" in conf
    assert "# Overrides: --front-listen 127.0.0.1:18443" in conf
    # The Fluent Bit side is not affected by front overrides.
    assert load_pipeline(out)["pipeline"]["inputs"][0]["port"] == "9880"


# --------------------------------------------------------------------------
# refusals


def _set(path, value):
    def mutate(d):
        target = d
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def _append_commons(**fields):
    def mutate(d):
        d["commons"].append({"child_account_id": "111122223333", **fields})
    return mutate


INVALID = [
    ("duplicate name", _append_commons(name="devplanetv1", firehose_access_key_env="K2"), "two commons named 'devplanetv1'"),
    ("uppercase name", _set(["commons", 0, "name"], "DevPlanet"), "not a valid commons name"),
    ("dot in name", _set(["commons", 0, "name"], "dev.planet"), "not a valid commons name"),
    ("leading hyphen", _set(["commons", 0, "name"], "-dev"), "not a valid commons name"),
    ("space in name", _set(["commons", 0, "name"], "dev planet"), "not a valid commons name"),
    ("empty name", _set(["commons", 0, "name"], ""), "not a valid commons name"),
    ("name too long", _set(["commons", 0, "name"], "a" * 56), "not a valid commons name"),
    ("reserved name", _set(["commons", 0, "name"], "unknown"), "reserved"),
    ("tag collision", _append_commons(name="data_commons_prod", s3={"bucket": "dcp-logging"}),
     "get the same Fluent Bit tag 'cwlogs.data_commons_prod'"),
    ("shared key variable", _append_commons(name="other", firehose_access_key_env="FIREHOSE_ACCESS_KEY_QAPLANETV1"),
     "same variable"),
    ("threshold not a number", _set(["commons", 0, "threshold"], "fast"), "expected a number"),
    ("threshold boolean", _set(["commons", 0, "threshold"], True), "expected a number"),
    ("threshold negative", _set(["commons", 0, "threshold"], -1), "expected a finite number"),
    ("threshold exponent string", _set(["commons", 0, "threshold"], "1e3"), "expected a number"),
    ("threshold without slack", _set(["commons", 2, "threshold"], "10"), "alerts would have nowhere to go"),
    ("slack without threshold", _set(["commons", 2, "slack_webhook_path_env"], "SLACK_X"), "no alert would ever be sent"),
    ("streams without threshold", _set(["commons", 2, "alert_streams"], ["revproxy"]), "no effect"),
    ("stream with comma", _set(["commons", 0, "alert_streams"], ["a,b"]), "alert_streams"),
    ("bad env name", _set(["commons", 0, "slack_webhook_path_env"], "SLACK-HOOK"), "environment variable name"),
    ("account id", _set(["commons", 0, "child_account_id"], "7077"), "12 digits"),
    ("account id number", _set(["commons", 0, "child_account_id"], 707767160287), "12 digits"),
    ("misspelt key", _set(["commons", 0, "treshold"], "65.0"), "unknown key(s) treshold"),
    ("misspelt top key", _set(["elasticsearch", "aws_authentication"], True), "unknown key(s) aws_authentication"),
    ("bucket with underscore", _set(["commons", 0, "s3"], {"bucket": "dev_planet-logging"}), "not a valid S3 bucket name"),
    ("default bucket invalid", _append_commons(name="dev_planet"), "not a valid S3 bucket name"),
    ("prefix with strftime", _set(["commons", 0, "s3", "prefix"], "logs%Y"), "s3.prefix"),
    ("prefix with variable", _set(["commons", 0, "s3", "prefix"], "$TAG/"), "s3.prefix"),
    ("bad endpoint", _set(["commons", 0, "s3", "endpoint"], "127.0.0.1:9000"), "endpoint"),
    ("uppercase index date", _set(["elasticsearch", "index_date_format"], "%b-%Y"), "index_date_format"),
    ("unknown output", _set(["elasticsearch", "output"], "splunk"), "'opensearch' or 'es'"),
    ("no commons", _set(["commons"], []), "non-empty list"),
    ("no search host", _set(["elasticsearch"], {}), "elasticsearch.host: required"),
    ("nginx-unsafe path", _set(["front", "tls_certificate"], "/etc/x.crt; evil"), "absolute path"),
    ("relative wasm path", _set(["fluent_bit", "wasm_path"], "plugin.wasm"), "absolute path"),
    ("bad port", _set(["fluent_bit", "http_port"], 70000), "port number"),
    ("bad region", _set(["commons", 0, "region"], "mars"), "AWS region"),
    ("shard count zero", _set(["commons", 0, "shard_count"], 0), "shard_count: expected a number of Kinesis shards"),
    ("shard count text", _set(["commons", 0, "shard_count"], "2"), "shard_count"),
    ("no csoc account", _set(["aws"], {"firehose_url": "https://logs.example.org/"}), "aws.csoc_account_id: required"),
    ("csoc account number", _set(["aws", "csoc_account_id"], 433568766270), "12 digits"),
    ("firehose over http", _set(["aws", "firehose_url"], "http://logs.example.org/"), "aws.firehose_url"),
    ("firehose other port", _set(["aws", "firehose_url"], "https://logs.example.org:8443/"), "port 443"),
    ("firehose with path", _set(["aws", "firehose_url"], "https://logs.example.org/x"), "the front answers on /"),
    ("no url for a catch-all front", lambda d: (d["aws"].pop("firehose_url"), d["front"].pop("server_name")),
     "aws.firehose_url: required"),
    ("buffer too large", _set(["aws", "buffer_size_mib"], 65), "aws.buffer_size_mib"),
    ("retry too long", _set(["aws", "retry_duration_secs"], 7201), "aws.retry_duration_secs"),
    ("misspelt aws key", _set(["aws", "buffer_size_mb"], 1), "unknown key(s) buffer_size_mb"),
    ("bucket in another region", _set(["commons", 0, "s3", "region"], "us-west-2"), "differs from its region"),
    ("bucket outside AWS", _set(["commons", 0, "s3", "endpoint"], "http://127.0.0.1:9000"), "not in AWS"),
]


@pytest.mark.parametrize("mutate,message", [pytest.param(m, msg, id=label) for label, m, msg in INVALID])
def test_invalid_lists_are_refused(generate_from, example, mutate, message):
    mutate(example)
    proc = generate_from(example, expect_error=True)
    assert message in proc.stderr, proc.stderr


def test_unreadable_list(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    proc = run_generate(bad, tmp_path / "out")
    assert proc.returncode == 2 and "cannot read the commons list" in proc.stderr
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------
# the hand-written YAML


@pytest.mark.parametrize("text", [
    "on", "1", "64M", "%G-w%V", "$commons", "${SLACK_HOOK}", r"^cwlogs\.", r"^document\.(?:a|b-c)$",
    "$_cwlogs_kind ^(document|alert|error)$ $1.$_cwlogs_route false", "/x/%Y/$TAG[0]-$UUID.json.gz",
    "a: b", "a #b", "-x", "- x", "*x", "&x", "!x", "|x", ">x", "'x", '"x', "@x", "`x", "{x}", "[x]", "?x",
    "x:", " x", "x ", "", "é", "tab\there", "Content-Type application/json", "null", "~", "a'b", 'a"b',
])
def test_yaml_scalar_reads_back_as_written(text):
    from cwlogs_config.yaml_text import yaml_scalar
    assert yaml.load("k: " + yaml_scalar(text) + "\n", Loader=yaml.BaseLoader) == {"k": text}


def test_fluent_bit_tuning_and_local_slack(generate_from, example):
    """The settings a benchmark or a site tunes: Fluent Bit's flush and
    monitoring port, the search output's workers, out_s3's upload size and
    timeout, and where alerts are posted (a local capture)."""
    example["fluent_bit"].update({"flush": 0.5, "monitoring_port": 2021, "search_workers": 0, "archive_compression": "gzip",
                                  "s3_total_file_size": "8M", "s3_upload_timeout": "30s",
                                  "slack_host": "127.0.0.1", "slack_port": 8080, "slack_tls": False})
    pipeline = load_pipeline(generate_from(example))
    assert pipeline["service"]["flush"] == "0.5"
    assert pipeline["service"]["http_port"] == "2021"
    outputs = pipeline["pipeline"]["outputs"]
    assert all("workers" not in o for o in outputs if o["name"] == "opensearch")
    assert all(o["total_file_size"] == "8M" and o["upload_timeout"] == "30s" for o in outputs if o["name"] == "s3")
    assert all(o["compression"] == "gzip" and o["s3_key_format"].endswith(".json.gz") for o in outputs if o["name"] == "s3")
    for o in (o for o in outputs if o["name"] == "http"):
        assert (o["host"], o["port"], o["tls"]) == ("127.0.0.1", "8080", "off") and "tls.verify" not in o
    # Defaults: two search workers, zstd document archives, gzip dead letters.
    defaults = load_pipeline(generate_from(example_data()))["pipeline"]["outputs"]
    assert {o.get("workers") for o in defaults if o["name"] == "opensearch"} == {"2"}
    s3 = [o for o in defaults if o["name"] == "s3"]
    archives = [o for o in s3 if o.get("match", "").startswith("cwlogs.")]
    assert archives and all(o["compression"] == "zstd" and o["s3_key_format"].endswith(".json.zst") for o in archives)
    assert all(o["compression"] == "gzip" and o["s3_key_format"].endswith(".json.gz") for o in s3 if o not in archives)


@pytest.mark.parametrize("key,value,message", [
    ("flush", 0, "fluent_bit.flush"), ("flush", "1", "fluent_bit.flush"), ("search_workers", 17, "worker threads"),
    ("s3_upload_timeout", "5 minutes", "a duration"), ("s3_total_file_size", "50MB", "a size"),
    ("slack_tls", "no", "true or false"), ("monitoring_port", 0, "port number"),
    ("archive_compression", "lz4", "one of gzip, zstd"),
])
def test_fluent_bit_tuning_refused(generate_from, example, key, value, message):
    example["fluent_bit"][key] = value
    proc = generate_from(example, expect_error=True)
    assert message in proc.stderr, proc.stderr
