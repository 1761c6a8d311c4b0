"""Fixtures of the pipeline-configs tests; plain helpers are in support.py."""

from __future__ import annotations

import copy
import json

import pytest

from support import EXAMPLE, example_data, run_generate


@pytest.fixture
def example() -> dict:
    """A fresh copy of the example list, for tests that vary it."""
    return copy.deepcopy(example_data())


@pytest.fixture(scope="session")
def example_out(tmp_path_factory):
    """What the generator writes for the example list, generated once for
    every test module that reads it."""
    out = tmp_path_factory.mktemp("example")
    proc = run_generate(EXAMPLE, out)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture
def generate_from(tmp_path):
    """Write `data` as a commons list, generate from it, return the output
    directory (or the failed process when `expect_error`)."""
    counter = iter(range(1_000_000))

    def _generate(data, *extra, expect_error=False, env=None):
        n = next(counter)
        src = tmp_path / f"commons-{n}.json"
        src.write_text(json.dumps(data), encoding="utf-8")
        out = tmp_path / f"out-{n}"
        proc = run_generate(src, out, *extra, env=env)
        if expect_error:
            assert proc.returncode == 2, f"expected a validation error, got rc={proc.returncode}\n{proc.stderr}"
            assert not out.exists(), "nothing may be written when the list is invalid"
            return proc
        assert proc.returncode == 0, proc.stderr
        return out

    return _generate
