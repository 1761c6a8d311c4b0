"""The component (the artifact the Rust harness tests) in a third component
host: wasmtime-py, through the gen3_cwlogs package. Every shared fixture
must give its golden lines; refused options are OptionError; one instance
serves every call."""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import json
import math
import os

import pytest
import wasmtime

import gen3_cwlogs
from gen3_cwlogs import Decoder, OptionError
from host_support import FIXTURES, PYTHON, ROOT, counters_line, fixtures

SEED = (FIXTURES / "seed-kinesis-event.json").read_bytes()
KINDS = ("document", "alert", "error")


def golden_lines(expected: str) -> list[str]:
    # Split on "\n" only: messages hold U+2028 and other characters
    # str.splitlines() would also split on.
    lines = expected.rstrip("\n").split("\n")
    assert lines[-1].startswith('{"counters":'), "a golden file ends with its counters line"
    return lines[:-1]


def last_line(expected: str) -> str:
    return expected.rstrip("\n").split("\n")[-1]


def iso_ms(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


# --------------------------------------------------------------------------
# the fixtures


def test_the_fixture_set_is_whole():
    cases = fixtures()
    assert len(cases) >= 30
    assert len(cases) == len(list(FIXTURES.glob("*.expected.ndjson")))


@pytest.mark.parametrize("case", fixtures(), ids=lambda case: case["name"])
def test_decode_gives_the_golden_lines(decoder, case):
    out = decoder.decode(case["input"], **case["options"])
    assert set(out) == {"entries", "counters"}
    text = "".join(entry["json"] + "\n" for entry in out["entries"]) + counters_line(out["counters"]) + "\n"
    assert text == case["expected"]
    # Each entry's fields say what its JSON text says.
    for entry in out["entries"]:
        line = json.loads(entry["json"])
        assert entry["kind"] in KINDS
        if entry["kind"] == "alert":
            assert entry["id"] == line["alert"]["document_id"]
            assert entry["commons"] == line["alert"]["commons"]
            continue
        assert entry["kind"] == ("error" if "error" in line else "document")
        # gen3 and cloudwatch: id, commons, timestamp; ecs: event.id, labels.commons, @timestamp.
        ecs = "@timestamp" in line
        assert entry["id"] == (line["event"]["id"] if ecs else line["id"]) and isinstance(entry["id"], str)
        assert entry["commons"] == (line.get("labels", {}).get("commons") if ecs else line["commons"])
        timestamp = line["@timestamp"] if ecs else line.get("timestamp")
        if timestamp is None:
            assert entry["time_ms"] is None
        else:
            assert iso_ms(entry["time_ms"]) == timestamp
        if entry["kind"] == "error":
            assert entry["error"] == {"kind": line["error"]["kind"], "reason": line["error"]["reason"]}
        else:
            assert entry["error"] is None
        assert isinstance(entry["record_index"], int) and entry["record_index"] >= 0


@pytest.mark.parametrize("case", fixtures(), ids=lambda case: case["name"])
def test_decode_ndjson_gives_each_kinds_golden_lines(decoder, case):
    out = decoder.decode_ndjson(case["input"], **case["options"])
    assert set(out) == {"documents", "alerts", "errors", "counters"}
    kinds = [entry["kind"] for entry in decoder.decode(case["input"], **case["options"])["entries"]]
    lines = golden_lines(case["expected"])
    assert len(kinds) == len(lines)
    for kind, field in zip(KINDS, ("documents", "alerts", "errors")):
        assert out[field] == "".join(line + "\n" for line, k in zip(lines, kinds) if k == kind), field
    assert counters_line(out["counters"]) == last_line(case["expected"])


def test_the_fast_paths_give_what_wasmtime_py_itself_gives(decoder):
    """The package lowers the payload and lifts the result itself (see
    _decoder.py); wasmtime-py's own Func.__call__ must see the same on
    every fixture, in both functions."""
    for case in fixtures():
        options = decoder._options(case["options"])
        for name in ("decode", "decode-ndjson"):
            with decoder._lock:
                public = decoder._call_plain(name, case["input"], options)
            assert public.tag == "ok"
            assert decoder._decode(name, case["input"], case["options"]) == gen3_cwlogs._decoder._lift(public.payload), (
                case["name"], name)


# --------------------------------------------------------------------------
# options


def test_default_options_are_the_cores_schema(decoder):
    """decoder-options.json is written by the Rust core: same names, same
    defaults."""
    schema = json.loads((ROOT / "pipeline-configs" / "decoder-options.json").read_text(encoding="utf-8"))
    assert decoder.default_options() == {option["name"]: option["default"] for option in schema["options"]}


def test_options_by_snake_case_name_unset_is_the_default(decoder):
    seed = decoder.decode(SEED)
    # Every option given at its default, or as None: the same output.
    assert decoder.decode(SEED, **decoder.default_options()) == seed
    assert decoder.decode(SEED, **{name: None for name in decoder.default_options()}) == seed
    named = decoder.decode(SEED, commons="qa", schema="cloudwatch")
    assert {entry["commons"] for entry in named["entries"]} == {"qa"}
    assert all(isinstance(json.loads(entry["json"])["message"], str) for entry in named["entries"])
    # A whole number is a threshold too (WIT f64), and so is a tuple of streams.
    alerts = FIXTURES / "alerts.json"
    as_float = decoder.decode(alerts.read_bytes(), commons="devplanetv1", slow_threshold_secs=65.0,
                              alert_streams=["revproxy", "sheepdog", "peregrine"])
    as_int = decoder.decode(alerts.read_bytes(), commons="devplanetv1", slow_threshold_secs=65,
                            alert_streams=("revproxy", "sheepdog", "peregrine"))
    assert as_int == as_float and as_float["counters"]["alerts"] > 0


def refusal(decoder, **options) -> tuple[str, str]:
    with pytest.raises(OptionError) as caught:
        decoder.decode(SEED, **options)
    assert str(caught.value) == f"{caught.value.name}: {caught.value.reason}"
    return caught.value.name, caught.value.reason


def test_the_component_refuses_options_by_name_and_reason(decoder):
    assert refusal(decoder, max_json_depth=500) == ("max_json_depth", "500 is outside 1..=120")
    assert refusal(decoder, max_decompressed_bytes=0)[0] == "max_decompressed_bytes"
    assert refusal(decoder, max_decompressed_bytes=(1 << 30) + 1)[0] == "max_decompressed_bytes"
    assert refusal(decoder, max_events_per_record=10_000_001)[0] == "max_events_per_record"
    for bad in (-1.0, math.nan, math.inf):
        assert refusal(decoder, slow_threshold_secs=bad)[0] == "slow_threshold_secs"
    assert refusal(decoder, commons="")[0] == "commons"
    assert refusal(decoder, alert_streams=["revproxy", ""])[0] == "alert_streams"
    # A list in WIT: a substring may hold a comma here.
    assert decoder.decode(SEED, alert_streams=["a,b"])["counters"]["documents"] == 2
    assert isinstance(OptionError("x", "y"), ValueError)


def test_values_the_wit_types_cannot_hold_are_refused_before_the_call(decoder):
    # ctypes would store 2**32 + 5 into a u32 as 5, silently: refused here.
    assert refusal(decoder, max_json_depth=(1 << 32) + 5) == ("max_json_depth", "4294967301 is outside 0..=4294967295 (WIT u32)")
    assert refusal(decoder, max_decompressed_bytes=-1)[0] == "max_decompressed_bytes"
    assert refusal(decoder, max_decompressed_bytes=1 << 64)[0] == "max_decompressed_bytes"
    assert refusal(decoder, max_json_depth=True) == ("max_json_depth", "True is not a whole number")
    assert refusal(decoder, max_json_depth=12.0)[0] == "max_json_depth"
    assert refusal(decoder, slow_threshold_secs="65") == ("slow_threshold_secs", "'65' is not a number")
    assert refusal(decoder, slow_threshold_secs=False)[0] == "slow_threshold_secs"
    assert refusal(decoder, slow_threshold_secs=10**400)[0] == "slow_threshold_secs"
    # A string is iterable: it must not become one stream per character.
    assert refusal(decoder, alert_streams="revproxy") == ("alert_streams", "'revproxy' is not a list of strings")
    assert refusal(decoder, alert_streams=["revproxy", 3])[0] == "alert_streams"
    name, reason = refusal(decoder, schema="kibana")
    # The names are the WIT enum's cases (a schema added later is listed too).
    assert name == "schema" and reason.startswith("'kibana' is not one of gen3, cloudwatch")
    assert refusal(decoder, commons=b"devplanetv1")[0] == "commons"
    name, reason = refusal(decoder, threshold=65)
    assert name == "threshold" and reason.startswith("unknown option (known: commons, slow_threshold_secs, alert_streams")


def test_after_refusals_the_instance_still_decodes(decoder):
    instance = decoder._instance
    for _ in range(3):
        with pytest.raises(OptionError):
            decoder.decode(SEED, max_json_depth=0)
    assert decoder.decode(SEED)["counters"]["documents"] == 2
    assert decoder._instance is instance


# --------------------------------------------------------------------------
# one instance, payload forms, traps


def test_one_instance_serves_many_calls_with_identical_results(decoder):
    cases = fixtures()
    first = [decoder.decode(case["input"], **case["options"]) for case in cases]
    instance = decoder._instance
    for _ in range(20):
        again = [decoder.decode(case["input"], **case["options"]) for case in cases]
        assert again == first
    assert decoder._instance is instance, "no call replaced the instance"


def test_payload_forms(decoder):
    expected = decoder.decode(SEED)
    assert decoder.decode(bytearray(SEED)) == expected
    assert decoder.decode(memoryview(SEED)) == expected
    assert decoder.decode(SEED.decode("utf-8")) == expected
    # Empty input is an error document, not an exception.
    empty = decoder.decode(b"")
    assert [entry["kind"] for entry in empty["entries"]] == ["error"]
    with pytest.raises(TypeError):
        decoder.decode(["not", "bytes"])


def test_a_trap_costs_one_call_and_the_next_gets_a_fresh_instance(component_path):
    """With its linear memory capped, a payload needing more memory traps
    (the allocator cannot grow); that call raises, the next works."""
    small = Decoder(component_path, max_memory_bytes=2 << 20)
    big = json.dumps({"requestId": "r", "timestamp": 1, "records": [{"data": "eA==" * 500_000}]})
    with pytest.raises(wasmtime.WasmtimeError):
        small.decode_ndjson(big)
    case = next(case for case in fixtures() if case["name"] == "seed-kinesis-event")
    out = small.decode(case["input"])
    assert "".join(entry["json"] + "\n" for entry in out["entries"]) + counters_line(out["counters"]) + "\n" == case["expected"]


def test_the_component_is_found_by_environment_or_beside_the_package(component_path, monkeypatch, tmp_path):
    monkeypatch.setenv(gen3_cwlogs.COMPONENT_ENV, str(component_path))
    module = importlib.reload(gen3_cwlogs._decoder)
    try:
        assert module.decode(SEED)["counters"]["documents"] == 2
        assert module.decode_ndjson(SEED)["counters"]["documents"] == 2
        assert module.default_options()["schema"] == "gen3"
        missing = tmp_path / "nowhere.wasm"
        monkeypatch.setenv(gen3_cwlogs.COMPONENT_ENV, str(missing))
        with pytest.raises(FileNotFoundError, match="--export-component"):
            module.Decoder()
        # Bytes are a component too.
        assert module.Decoder(component_path.read_bytes()).decode(SEED)["counters"]["documents"] == 2
    finally:
        importlib.reload(gen3_cwlogs._decoder)
    assert gen3_cwlogs.PACKAGED_COMPONENT.parent == PYTHON / "gen3_cwlogs"


def test_not_a_component_is_refused(tmp_path):
    with pytest.raises(wasmtime.WasmtimeError):
        Decoder(b"\0asm\x01\0\0\0")


# --------------------------------------------------------------------------
# README's Lambda example


def test_the_lambda_example_swaps_only_the_decoding(component_path, monkeypatch):
    """python/examples/lambda_handler.py (the lines README shows) on the
    seed's Kinesis event as Lambda passes it (a dict), then on the alerts
    fixture with a threshold."""
    monkeypatch.setenv(gen3_cwlogs.COMPONENT_ENV, str(component_path))
    monkeypatch.setenv("COMMONS", "devplanetv1")
    monkeypatch.delenv("THRESHOLD", raising=False)
    spec = importlib.util.spec_from_file_location("lambda_handler", PYTHON / "examples" / "lambda_handler.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)

    seed = (FIXTURES / "seed-kinesis-event.expected.ndjson").read_text(encoding="utf-8")
    out = example.handler(json.loads(SEED), None)
    assert out["documents"] == golden_lines(seed) and out["alerts"] == []
    # json.dumps re-spaces the event: all but the input's size is as golden.
    golden_counters = json.loads(last_line(seed))["counters"]
    assert {**out["counters"], "input_bytes": None} == {**golden_counters, "input_bytes": None}

    monkeypatch.setenv("THRESHOLD", "65.0")
    alerts = json.loads((FIXTURES / "alerts.json").read_text(encoding="utf-8"))
    out = example.handler(alerts, None)
    assert out["alerts"] and all(alert["attachments"][0]["title"].startswith("Slow Response notification") for alert in out["alerts"])
    assert len(out["alerts"]) == out["counters"]["alerts"]


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads the resident size from /proc")
def test_the_host_frees_what_it_lowers_and_lifts(decoder):
    """The payload's C list (32 bytes per payload byte) and the lifted
    result are freed by hand (_decoder.py): 40 calls that would leak about
    300 MB of lowered payload and 300 MB of lifted output if either were
    kept must leave the process's resident size about where it was."""
    import base64
    import gzip

    events = [{"id": str(i), "timestamp": 1_500_000_000_000 + i, "message": "x" * 200} for i in range(2500)]
    data = base64.b64encode(gzip.compress(json.dumps({
        "messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "g", "logStream": "s",
        "subscriptionFilters": ["f"], "logEvents": events}).encode())).decode()
    payload = json.dumps({"requestId": "r", "timestamp": 1, "records": [{"data": data}] * 3}).encode()
    padded = payload + b" " * 250_000  # trailing whitespace: more to lower, the same output
    for _ in range(3):  # warm-up: the instance's memory and the allocators reach their size
        assert decoder.decode(padded)["counters"]["documents"] == 7500
    before = rss_bytes()
    for _ in range(40):
        decoder.decode(padded)
    grown = rss_bytes() - before
    assert grown < 60 << 20, f"resident size grew by {grown >> 20} MiB over 40 calls"
