"""The decoder's options as the Rust core defines them.

The core owns every option's name, default and bounds and writes them to
pipeline-configs/decoder-options.json (its test fails when that file is
stale). The generator reads them from there instead of restating them, so
a renamed option or a changed default reaches every generated config, and
no config can name an option the decoder does not know.

The generator's own vocabulary is only which commons-list setting feeds
which option (COMMONS, SLOW_THRESHOLD, ALERT_STREAMS below); a schema
without one of those options is refused with a message naming it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "decoder-options.json"

# The options the commons list sets per commons (list key -> option name).
COMMONS = "commons"  # commons[].name
SLOW_THRESHOLD = "slow_threshold_secs"  # commons[].threshold (the seed's Terraform variable)
ALERT_STREAMS = "alert_streams"  # commons[].alert_streams
SCHEMA = "schema"  # commons[].schema: the document shape, which the search outputs and templates follow

_TYPES = {"string", "number", "integer", "string-list", "enum"}


class SchemaError(Exception):
    """decoder-options.json is missing, malformed, or lacks an option the
    generator needs; the message says which."""


@dataclass(frozen=True)
class Option:
    name: str
    type: str
    default: object
    minimum: float | None
    maximum: float | None
    # An enum's cases (decoder-options.json's `values`), else empty.
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class OptionSchema:
    record_key_prefix: str
    options: tuple[Option, ...]
    source: str

    def __getitem__(self, name: str) -> Option:
        for option in self.options:
            if option.name == name:
                return option
        raise SchemaError(f"{self.source}: the decoder has no option {name!r}, which the generator needs")

    @property
    def names(self) -> list[str]:
        return [o.name for o in self.options]

    def record_key(self, name: str) -> str:
        """The Fluent Bit record key the wasm module reads the option from."""
        return self.record_key_prefix + self[name].name


def load_schema(path: Path = SCHEMA_PATH) -> OptionSchema:
    where = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise SchemaError(f"{where}: cannot read the decoder's option schema: {e}") from None
    if not isinstance(data, dict):
        raise SchemaError(f"{where}: expected a JSON object")
    prefix = data.get("record_key_prefix")
    if not isinstance(prefix, str) or not prefix:
        raise SchemaError(f"{where}: record_key_prefix: expected a non-empty string")
    raw = data.get("options")
    if not isinstance(raw, list) or not raw:
        raise SchemaError(f"{where}: options: expected a non-empty list")
    options = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or item.get("type") not in _TYPES:
            raise SchemaError(f"{where}: options[{i}]: expected an object with a name and a type in {sorted(_TYPES)}")
        for bound in ("min", "max"):
            value = item.get(bound)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise SchemaError(f"{where}: options[{i}] ({item['name']}).{bound}: expected a number")
        values = item.get("values", [])
        if item["type"] == "enum" and (not isinstance(values, list) or not values
                                       or not all(isinstance(v, str) and v for v in values)):
            raise SchemaError(f"{where}: options[{i}] ({item['name']}).values: expected a non-empty list of names")
        options.append(Option(item["name"], item["type"], item.get("default"), item.get("min"), item.get("max"),
                              tuple(values) if item["type"] == "enum" else ()))
    names = [o.name for o in options]
    if len(set(names)) != len(names):
        raise SchemaError(f"{where}: an option name appears twice: {names}")
    return OptionSchema(prefix, tuple(options), where)
