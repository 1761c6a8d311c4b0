"""Helpers shared by the pipeline-configs tests (fixtures are in conftest.py).

The generator is always run as its command line (a subprocess), as an
operator or CI runs it; tests of single helpers (YAML quoting, VRL literals,
templates, the option schema) import its package, cwlogs_config.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parent.parent
GENERATE = CONFIGS / "generate.py"
EXAMPLE = CONFIGS / "commons.example.json"
GENERATED = CONFIGS / "generated"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing_tool(message: str):
    """A test that cannot run is a failure in CI (where run.sh installs
    everything, so a missing tool means the install step broke) and a
    visible skip on a developer machine."""
    if in_ci():
        pytest.fail(message + " (CI=true: tests/run.sh should have installed it)")
    pytest.skip(message)


def run_generate(commons: Path, out: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(GENERATE), str(commons), "--out", str(out), *extra],
        capture_output=True, text=True, env=env, timeout=60,
    )


def example_data() -> dict:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


SCHEMA = CONFIGS / "decoder-options.json"

# The generator's package, importable by the tests (as generate.py does).
if str(CONFIGS) not in sys.path:
    sys.path.insert(0, str(CONFIGS))


def option_schema() -> dict:
    """decoder-options.json as plain JSON, read independently of the
    generator's own reader."""
    return json.loads(SCHEMA.read_text(encoding="utf-8"))
