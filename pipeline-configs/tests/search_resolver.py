"""What a search server does with each value of a document under a mapping,
re-implemented for the tests (no Elasticsearch or OpenSearch can run on
these machines): which field a value lands in, with which type, and
whether the document would be refused.

Semantics followed (Elasticsearch 8 / OpenSearch 2 document parsing):

- A key with dots in an object is a path (`{"@aws.account": 1}` is
  `@aws` -> `account`), except inside a flattened field.
- `dynamic` is inherited from the enclosing object; for an unmapped field
  `false` keeps the value in `_source` only (unindexed, subtree included),
  `strict` refuses the document, `true` applies the first matching
  `dynamic_templates` entry (match_mapping_type, match/unmatch,
  path_match/path_unmatch), else the default dynamic mapping (string ->
  date when it looks like one and date_detection is on, else text with a
  keyword multi-field; integer -> long; float -> float; boolean; object).
- A concrete value for an object field, or an object for a leaf field,
  refuses the document; so does a scalar for a flattened/flat_object field,
  or a flattened field deeper than its depth_limit.
- Leaf values are checked against the type: keywords and text take any
  scalar (coerced to a string; over `ignore_above` not indexed); numbers
  take numbers and numeric strings (coerce), finite and in range; dates
  take what one of their formats parses. A value the type cannot take is
  dropped when the field has `ignore_malformed`, else the document is
  refused. `null` is no value.
"""

from __future__ import annotations

import copy
import fnmatch
import math
import re
from dataclasses import dataclass

INDEXED = "indexed"
MALFORMED = "ignored-malformed"  # ignore_malformed dropped the value, the document stays
UNINDEXED = "unindexed"  # kept in _source only (dynamic: false)
REFUSED = "refused"  # the whole document would be refused

FLAT_TYPES = {"flattened", "flat_object"}
TEXT_TYPES = {"text", "match_only_text"}
INTEGER_RANGES = {"long": 2**63, "integer": 2**31, "short": 2**15, "byte": 2**7}
FLOAT_TYPES = {"float", "double", "half_float", "scaled_float"}

ISO_DATE = re.compile(
    r"\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2}([.,]\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?)?)?")


@dataclass(frozen=True)
class Leaf:
    """One value of a document and where it went."""

    path: str  # the document path, dotted
    field: str | None  # the mapped field it landed in (a flattened field's own path for its leaves)
    type: str | None
    outcome: str
    reason: str = ""


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _parse_number(value):
    if _is_number(value):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            try:
                return float(value.strip())
            except ValueError:
                return None
    return None


def _date_ok(value, formats: str) -> bool:
    for fmt in formats.split("||"):
        if fmt in ("strict_date_optional_time", "date_optional_time"):
            if isinstance(value, str) and ISO_DATE.fullmatch(value):
                return True
        elif fmt in ("epoch_millis", "epoch_second"):
            number = _parse_number(value)
            if number is not None and math.isfinite(number) and (fmt == "epoch_second" or float(number).is_integer()
                                                                  or isinstance(value, str)):
                return True
        else:
            raise ValueError(f"date format {fmt!r} not modelled")
    return False


def check_leaf(field: dict, value) -> tuple[bool, str]:
    """(the type takes the value, why not)."""
    kind = field.get("type")
    if kind == "keyword" or kind in TEXT_TYPES:
        return (not isinstance(value, (dict, list))), "not a scalar"
    if kind == "boolean":
        return value in (True, False, "true", "false", ""), "not a boolean"
    if kind in INTEGER_RANGES:
        number = _parse_number(value)
        if number is None or not math.isfinite(number):
            return False, f"not a number: {value!r}"
        bound = INTEGER_RANGES[kind]
        return -bound <= int(number) < bound, f"out of {kind} range"
    if kind in FLOAT_TYPES:
        number = _parse_number(value)
        return number is not None and math.isfinite(float(number)), f"not a finite number: {value!r}"
    if kind == "date":
        return _date_ok(value, field.get("format", "strict_date_optional_time||epoch_millis")), f"not a date: {value!r}"
    if kind == "ip":
        return isinstance(value, str) and bool(re.fullmatch(r"[0-9a-fA-F:.]+", value)), "not an IP"
    raise ValueError(f"field type {kind!r} not modelled")


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return max((_depth(v) for v in value), default=0)
    return 0


def _json_kind(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    return "object"


class Resolver:
    def __init__(self, mappings: dict):
        # A copy: fields mapped dynamically are added to it, so a later
        # document meets them, as it would on a server.
        self.mappings = copy.deepcopy(mappings)
        self.templates = [next(iter(t.items())) for t in mappings.get("dynamic_templates", [])]
        self.date_detection = mappings.get("date_detection", True)

    def resolve(self, document: dict) -> list[Leaf]:
        out: list[Leaf] = []
        self._object(self.mappings, self.mappings.get("dynamic", True), "", document, out)
        return out

    # -- helpers

    def _object(self, node: dict, dynamic, prefix: str, value: dict, out: list[Leaf]):
        for key, item in value.items():
            parts = key.split(".")
            self._field(node, dynamic, prefix, parts, item, out)

    def _field(self, node: dict, dynamic, prefix: str, parts: list[str], value, out: list[Leaf]):
        name, rest = parts[0], parts[1:]
        path = f"{prefix}.{name}" if prefix else name
        field = node.get("properties", {}).get(name)
        if field is None:
            field = self._dynamic(dynamic, path, value if not rest else {".".join(rest): value}, out)
            if field is None:
                return
            node.setdefault("properties", {})[name] = field
        if rest:  # a dotted key continues inside this field
            self._value(field, node_dynamic(field, dynamic), path, {".".join(rest): value}, out)
        else:
            self._value(field, node_dynamic(field, dynamic), path, value, out)

    def _value(self, field: dict, dynamic, path: str, value, out: list[Leaf]):
        if value is None:
            return
        if isinstance(value, list):
            for item in value:
                self._value(field, dynamic, path, item, out)
            return
        kind = field.get("type", "object")
        if kind in FLAT_TYPES:
            if not isinstance(value, dict):
                out.append(Leaf(path, path, kind, REFUSED, "a concrete value for a flattened field"))
                return
            limit = field.get("depth_limit", 20) if kind == "flattened" else None
            if limit is not None and _depth(value) > limit:
                out.append(Leaf(path, path, kind, REFUSED, f"deeper than depth_limit {limit}"))
                return
            for sub_path, leaf in _flat_leaves(path, value):
                out.append(Leaf(sub_path, path, kind, INDEXED))
            return
        if kind in ("object", "nested"):
            if not isinstance(value, dict):
                out.append(Leaf(path, path, kind, REFUSED, "a concrete value for an object field"))
                return
            if field.get("enabled", True) is False:
                out.append(Leaf(path, path, kind, UNINDEXED, "object disabled"))
                return
            self._object(field, dynamic, path, value, out)
            return
        if isinstance(value, dict):
            out.append(Leaf(path, path, kind, REFUSED, f"an object for a {kind} field"))
            return
        ok, why = check_leaf(field, value)
        if ok:
            out.append(Leaf(path, path, kind, INDEXED))
        elif field.get("ignore_malformed"):
            out.append(Leaf(path, path, kind, MALFORMED, why))
            return
        else:
            out.append(Leaf(path, path, kind, REFUSED, why))
            return
        for sub, sub_field in field.get("fields", {}).items():
            ok, why = check_leaf(sub_field, value)
            out.append(Leaf(f"{path}.{sub}", f"{path}.{sub}", sub_field["type"], INDEXED if ok else REFUSED, why))

    def _dynamic(self, dynamic, path: str, value, out: list[Leaf]) -> dict | None:
        """The mapping a new field gets, or None when it gets none."""
        if dynamic in (False, "false"):
            for sub_path in _all_paths(path, value):
                out.append(Leaf(sub_path, None, None, UNINDEXED))
            return None
        if dynamic == "strict":
            out.append(Leaf(path, None, None, REFUSED, "strict: unmapped field"))
            return None
        probe = value[0] if isinstance(value, list) and value else value
        kind = _json_kind(probe)
        name = path.rsplit(".", 1)[-1]
        for _, template in self.templates:
            wanted = template.get("match_mapping_type", "*")
            if wanted not in ("*", kind):
                continue
            if "match" in template and not fnmatch.fnmatchcase(name, template["match"]):
                continue
            if "unmatch" in template and fnmatch.fnmatchcase(name, template["unmatch"]):
                continue
            if "path_match" in template and not fnmatch.fnmatchcase(path, template["path_match"]):
                continue
            if "path_unmatch" in template and fnmatch.fnmatchcase(path, template["path_unmatch"]):
                continue
            return dict(template["mapping"])
        if kind == "object":
            return {"type": "object", "properties": {}}
        if kind == "string":
            if self.date_detection and isinstance(probe, str) and ISO_DATE.fullmatch(probe) and "-" in probe:
                return {"type": "date"}
            return {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}
        return {"type": {"long": "long", "double": "float", "boolean": "boolean"}[kind]}


def node_dynamic(field: dict, inherited):
    return field.get("dynamic", inherited)


def _flat_leaves(path: str, value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flat_leaves(f"{path}.{key}", item)
    elif isinstance(value, list):
        for item in value:
            yield from _flat_leaves(path, item)
    elif value is not None:
        yield path, value


def _all_paths(path: str, value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _all_paths(f"{path}.{key}", item)
    elif isinstance(value, list):
        for item in value:
            yield from _all_paths(path, item)
    elif value is not None:
        yield path
