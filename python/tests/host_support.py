"""Helpers of the Python host's tests (fixtures are in conftest.py). The
module name is unique on purpose: pytest runs these tests together with
pipeline-configs/tests, whose helpers are imported by name too."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

PYTHON = Path(__file__).resolve().parent.parent
ROOT = PYTHON.parent
FIXTURES = ROOT / "tests" / "fixtures"

# The package from this work tree, not an installed copy.
if str(PYTHON) not in sys.path:
    sys.path.insert(0, str(PYTHON))


@functools.cache
def component_file() -> Path:
    """The component file: the very artifact the Rust harness tests (the
    CLI embeds it; `--export-component` writes it out). tests/run.sh
    exports it once and passes it as GEN3_CWLOGS_COMPONENT; without that
    variable it is exported here to target/python-host/ (a cargo build the
    first time, about a second when nothing changed), so a changed core is
    always what runs."""
    given = os.environ.get("GEN3_CWLOGS_COMPONENT")
    if given:
        return Path(given)
    path = ROOT / "target" / "python-host" / "gen3_cwlogs.component.wasm"
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["cargo", "run", "--locked", "-q", "-p", "gen3-cwlogs-cli", "--", "--export-component", str(path)],
        cwd=ROOT, check=True, timeout=1800,
    )
    return path


def fixtures() -> list[dict]:
    """Every shared fixture: input bytes, options (the core's snake_case
    names, as the fixture files spell them) and the golden text."""
    cases = []
    for path in sorted(FIXTURES.iterdir()):
        if path.name.endswith((".expected.ndjson", ".options.json", ".py")):
            continue
        stem = path.name.rsplit(".", 1)[0]
        options_path = FIXTURES / f"{stem}.options.json"
        cases.append({
            "name": stem,
            "input": path.read_bytes(),
            "options": json.loads(options_path.read_text(encoding="utf-8")) if options_path.exists() else {},
            "expected": (FIXTURES / f"{stem}.expected.ndjson").read_text(encoding="utf-8"),
        })
    return cases


def counters_line(counters: dict) -> str:
    """The golden files' last line: the counters, compact, in WIT order."""
    return json.dumps({"counters": counters}, separators=(",", ":"))
