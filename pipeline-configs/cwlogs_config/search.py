"""DIR/search/: index templates and retention policies for the per-commons
indices (`<index prefix>-<date>`), for Elasticsearch and for OpenSearch.

Each file's path below its flavour's directory is the API path it is PUT
to, so installing is one loop (README "Search indices"):

    search/<flavour>/_component_template/cwlogs-schema-<schema>.json
        the mapping and settings of one document schema (shapes.py)
    search/<flavour>/_index_template/cwlogs-<prefix>.json
        `<prefix>-*` -> that schema's component template; on Elasticsearch
        also the prefix's ILM policy (index.lifecycle.name)
    search/elasticsearch/_ilm/policy/cwlogs-<prefix>.json
    search/opensearch/_plugins/_ism/policies/cwlogs-<prefix>.json
        retention: hot, warm (read-only, force-merged), cold, delete; the
        ISM policy attaches itself to new `<prefix>-*` indices (ism_template)

Why an index template per prefix on top of one per schema: ILM is attached
by an index setting, and the retention is per commons; and index patterns
of different prefixes can overlap (`dev-*` takes `dev-planet-2024-w01`), so
each prefix's template and ISM template has a priority growing with the
prefix's length: the longest matching prefix, the index's own, wins.
"""

from __future__ import annotations

import json

from .model import GENERATOR, Deployment, Retention
from .shapes import ELASTICSEARCH, FLAVOURS, OPENSEARCH, TOTAL_FIELDS_LIMIT, mapping
from .schema import OptionSchema

# Above Elasticsearch's built-in templates (priority 100: logs-*-*, ...).
PRIORITY_BASE = 500
# Documents nest at most the decoder's largest max_json_depth below the
# message; the margin covers the levels above it (root, message, ...).
DEPTH_MARGIN = 8


def template_name(prefix: str) -> str:
    return f"cwlogs-{prefix}"


def component_name(schema: str) -> str:
    return f"cwlogs-schema-{schema}"


def policy_name(prefix: str) -> str:
    return f"cwlogs-{prefix}"


def priority(prefix: str) -> int:
    return PRIORITY_BASE + len(prefix)


def index_pattern(prefix: str) -> str:
    return f"{prefix}-*"


def depth_limit(options: OptionSchema) -> int:
    bound = options["max_json_depth"].maximum
    return int(bound if bound is not None else 120) + DEPTH_MARGIN


def groups(dep: Deployment) -> dict[str, list]:
    """Commons by index prefix, in list order (load.py made sure a prefix's
    commons share their schema and retention)."""
    out: dict[str, list] = {}
    for c in dep.commons:
        out.setdefault(c.index_prefix, []).append(c)
    return out


def component_template(schema: str, flavour: str, options: OptionSchema) -> dict:
    depth = depth_limit(options)
    return {
        "template": {
            "settings": {
                # A commons' week is small; one shard keeps the shard count
                # of a long retention in check (README "Search indices").
                "index.number_of_shards": 1,
                "index.mapping.total_fields.limit": TOTAL_FIELDS_LIMIT,
                "index.mapping.depth.limit": depth,
            },
            "mappings": mapping(schema, flavour, depth),
        },
        "_meta": {"generated_by": GENERATOR, "schema": schema},
    }


def index_template(prefix: str, schema: str, names: list[str], flavour: str) -> dict:
    body: dict = {
        "index_patterns": [index_pattern(prefix)],
        "composed_of": [component_name(schema)],
        "priority": priority(prefix),
    }
    if flavour == ELASTICSEARCH:
        body["template"] = {"settings": {"index.lifecycle.name": policy_name(prefix)}}
    body["_meta"] = {"generated_by": GENERATOR, "schema": schema, "commons": names}
    return body


def _days(n: int) -> str:
    return f"{n}d"


def describe(r: Retention) -> str:
    return (f"hot until {r.warm_days} days, warm (read-only, force-merged) until {r.cold_days}, "
            f"cold until {r.delete_days}, then deleted (ages from index creation)")


def ilm_policy(prefix: str, r: Retention, names: list[str]) -> dict:
    return {"policy": {
        "_meta": {"generated_by": GENERATOR, "commons": names, "description": describe(r)},
        "phases": {
            "hot": {"min_age": "0ms", "actions": {"set_priority": {"priority": 100}}},
            "warm": {"min_age": _days(r.warm_days), "actions": {
                "readonly": {}, "forcemerge": {"max_num_segments": 1}, "set_priority": {"priority": 50}}},
            "cold": {"min_age": _days(r.cold_days), "actions": {"set_priority": {"priority": 0}}},
            "delete": {"min_age": _days(r.delete_days), "actions": {"delete": {}}},
        },
    }}


def ism_policy(prefix: str, r: Retention, names: list[str]) -> dict:
    def state(name, actions, after=None, then=None):
        transitions = [] if then is None else [{"state_name": then, "conditions": {"min_index_age": _days(after)}}]
        return {"name": name, "actions": actions, "transitions": transitions}

    return {"policy": {
        "description": f"{GENERATOR}: {', '.join(names)}: {describe(r)}",
        "default_state": "hot",
        "states": [
            state("hot", [{"index_priority": {"priority": 100}}], r.warm_days, "warm"),
            state("warm", [{"read_only": {}}, {"force_merge": {"max_num_segments": 1}},
                           {"index_priority": {"priority": 50}}], r.cold_days, "cold"),
            state("cold", [{"index_priority": {"priority": 0}}], r.delete_days, "delete"),
            state("delete", [{"delete": {}}]),
        ],
        "ism_template": [{"index_patterns": [index_pattern(prefix)], "priority": priority(prefix)}],
    }}


def _json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def render_search(dep: Deployment) -> dict[str, str]:
    files: dict[str, str] = {}
    by_prefix = groups(dep)
    schemas = list(dict.fromkeys(c.schema for c in dep.commons))
    for flavour in FLAVOURS:
        top = f"search/{flavour}"
        for schema in schemas:
            files[f"{top}/_component_template/{component_name(schema)}.json"] = _json(
                component_template(schema, flavour, dep.options))
        for prefix, members in by_prefix.items():
            names = [c.name for c in members]
            first = members[0]
            files[f"{top}/_index_template/{template_name(prefix)}.json"] = _json(
                index_template(prefix, first.schema, names, flavour))
            if flavour == ELASTICSEARCH:
                files[f"{top}/_ilm/policy/{policy_name(prefix)}.json"] = _json(
                    ilm_policy(prefix, first.retention, names))
            else:
                assert flavour == OPENSEARCH
                files[f"{top}/_plugins/_ism/policies/{policy_name(prefix)}.json"] = _json(
                    ism_policy(prefix, first.retention, names))
    return files
