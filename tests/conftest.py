"""Shared fixtures: small scenarios built in code, so tests state every number they rely on."""

from __future__ import annotations

import pytest

from demandsim.scenario_files import load_scenario


@pytest.fixture(scope="session")
def baseline():
    return load_scenario()
