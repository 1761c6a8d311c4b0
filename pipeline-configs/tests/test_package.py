"""The generator's package: the decoder's option schema it reads, its static
templates, and that the generated configs use exactly the decoder's option
names and defaults.

decoder-options.json is written by the Rust core; these tests read it with
plain `json` (not the generator's reader) and compare every generated use
of an option with it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml

from support import CONFIGS, GENERATED, missing_tool, option_schema

PACKAGE = CONFIGS / "cwlogs_config"


def schema_names() -> list[str]:
    return [o["name"] for o in option_schema()["options"]]


# --------------------------------------------------------------------------
# the option schema in the generated configs


def test_fluent_bit_modify_filters_use_exactly_the_decoders_option_keys():
    """Each options `modify` sets or removes every option of the decoder,
    each once, under the decoder's record key: no option is left for a
    payload to set, and no key the decoder does not read is written."""
    pipeline = yaml.load((GENERATED / "fluent-bit" / "fluent-bit.yaml").read_text(encoding="utf-8"),
                         Loader=yaml.BaseLoader)
    prefix = option_schema()["record_key_prefix"]
    names = schema_names()
    modifies = [f for f in pipeline["pipeline"]["filters"] if f["name"] == "modify" and "set" in f]
    assert len(modifies) == 4  # three commons and the unknown-tag filter
    for m in modifies:
        sets = [line.split(" ", 1)[0] for line in m["set"]]
        removes = list(m["remove"])
        assert all(k.startswith(prefix) for k in sets + removes), m
        assert sorted(k[len(prefix):] for k in sets + removes) == sorted(names), m


def test_vector_options_use_exactly_the_decoders_names_and_defaults():
    config = yaml.safe_load((GENERATED / "vector" / "vector.yaml").read_text(encoding="utf-8"))
    program = config["transforms"]["cwlogs_options"]["source"]
    literals = re.findall(r"%gen3_cwlogs = (\{\".*\})", program)
    assert len(literals) == 3
    options = {o["name"]: o for o in option_schema()["options"]}
    commons = json.loads((CONFIGS / "commons.example.json").read_text(encoding="utf-8"))["commons"]
    for literal, c in zip(literals, commons):
        values = json.loads(literal)
        assert set(values) <= set(options)
        assert values["schema"] == c.get("schema", options["schema"]["default"])
        for name, option in options.items():
            if name in ("commons", "slow_threshold_secs", "alert_streams", "schema"):
                continue  # set from the commons list
            assert values[name] == option["default"], name


def test_generator_reads_names_bounds_and_prefix_from_the_schema(tmp_path):
    """A schema with another prefix, another threshold bound and without an
    option the generator needs changes what it writes or refuses, so
    nothing is restated in the generator."""
    from cwlogs_config.fluent_bit import render_fluent_bit
    from cwlogs_config.load import load
    from cwlogs_config.model import ConfigError
    from cwlogs_config.schema import SchemaError, load_schema

    data = option_schema()
    data["record_key_prefix"] = "x_"
    for o in data["options"]:
        if o["name"] == "slow_threshold_secs":
            o["min"] = 10
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    schema = load_schema(path)
    example = json.loads((CONFIGS / "commons.example.json").read_text(encoding="utf-8"))
    text = render_fluent_bit(load(example, schema), "x.json", [])
    assert "- x_slow_threshold_secs 65.0" in text
    # (gen3_cwlogs_filter and the module's file name are not option keys.)
    assert not re.search(r"gen3_cwlogs_(?!filter|fluent_bit)", text)
    example["commons"][0]["threshold"] = 5
    with pytest.raises(ConfigError, match=r"threshold: expected a finite number of seconds >= 10"):
        load(example, schema)

    data["options"] = [o for o in data["options"] if o["name"] != "alert_streams"]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SchemaError, match="no option 'alert_streams'"):
        render_fluent_bit(load(json.loads((CONFIGS / "commons.example.json").read_text()), load_schema(path)), "x", [])


@pytest.mark.parametrize("text, message", [
    ("{not json", "cannot read"),
    ('{"options": []}', "record_key_prefix"),
    ('{"record_key_prefix": "p_", "options": [{"name": "a"}]}', "a name and a type"),
    ('{"record_key_prefix": "p_", "options": [{"name": "a", "type": "string"}, {"name": "a", "type": "string"}]}',
     "appears twice"),
])
def test_malformed_schema_is_refused(tmp_path, text, message):
    from cwlogs_config.schema import SchemaError, load_schema

    path = tmp_path / "schema.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError, match=message):
        load_schema(path)


# --------------------------------------------------------------------------
# templates


def _node():
    node = shutil.which("node")
    if node is None:
        missing_tool("node is not installed (apt-get install nodejs)")
    return node


@pytest.mark.parametrize("path", [PACKAGE / "templates" / "firehose.js", GENERATED / "front" / "firehose.js"],
                         ids=["template", "generated"])
def test_njs_is_valid_javascript(tmp_path, path):
    """The template is JavaScript as it stands (placeholders sit in
    comments), and so is what the generator makes of it. njs runs it as an
    ES module; `.mjs` makes node parse it as one."""
    copy = tmp_path / "firehose.mjs"
    copy.write_bytes(path.read_bytes())
    proc = subprocess.run([_node(), "--check", str(copy)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_node_check_catches_a_syntax_error(tmp_path):
    """The check above can fail."""
    broken = tmp_path / "broken.mjs"
    broken.write_text((PACKAGE / "templates" / "firehose.js").read_text(encoding="utf-8").replace(
        "function handle(r) {", "function handle(r {"), encoding="utf-8")
    assert subprocess.run([_node(), "--check", str(broken)], capture_output=True, timeout=60).returncode != 0


def test_every_template_placeholder_is_filled_and_every_value_used(tmp_path, monkeypatch):
    from cwlogs_config import front

    (tmp_path / "t.conf").write_text("# @@head@@\na @@x@@ b\n    // @@gone@@\nend\n", encoding="utf-8")
    monkeypatch.setattr(front, "TEMPLATES", tmp_path)
    # A whole-line placeholder takes the value's lines, or disappears when
    # empty; an inline one is replaced in place; values are not rescanned.
    assert front.render_template("t.conf", {"head": "# 1\n# 2", "x": "@@head@@", "gone": ""}) == \
        "# 1\n# 2\na @@head@@ b\nend\n"
    with pytest.raises(front.TemplateError, match="no value for @@x@@"):
        front.render_template("t.conf", {"head": "", "gone": ""})
    with pytest.raises(front.TemplateError, match="never used"):
        front.render_template("t.conf", {"head": "", "x": "", "gone": "", "extra": "1"})


def test_generated_front_has_no_placeholder_left():
    for name in ("nginx.conf", "firehose.js"):
        assert "@@" not in (GENERATED / "front" / name).read_text(encoding="utf-8")


def test_modules_stay_small():
    """One concern per module (issue 12): none grows past about 400 lines."""
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.glob("*.py")}
    assert {"schema.py", "model.py", "load.py", "fluent_bit.py", "vector.py", "front.py", "cli.py"} <= set(sizes)
    assert all(n <= 420 for n in sizes.values()), sizes
    assert len((CONFIGS / "generate.py").read_text(encoding="utf-8").splitlines()) < 40
