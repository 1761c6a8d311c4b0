"""Fixtures of the Python host's tests: the component file and one decoder."""

from __future__ import annotations

from pathlib import Path

import pytest

from host_support import component_file


@pytest.fixture(scope="session")
def component_path() -> Path:
    return component_file()


@pytest.fixture(scope="session")
def decoder(component_path):
    """One decoder (one compiled component, one instance) for the session:
    every test through it also checks that the instance is reusable."""
    from gen3_cwlogs import Decoder

    return Decoder(component_path)
