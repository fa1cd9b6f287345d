"""Writing results: whole or not at all, always with their provenance.

A run writes into a hidden temporary folder beside its destination and renames it into place
only when every file is written, so an interrupted or failed run never leaves a folder that
looks complete. Each results folder holds ``manifest.json`` (resolved scenario, seeds, package
version, command, start and end times) and ``scenario.toml`` (the resolved scenario).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tomli_w

from demandsim import __version__
from demandsim.scenario import Scenario


class OutputExistsError(FileExistsError):
    pass


@contextmanager
def atomic_dir(destination: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``destination`` only if the block succeeds."""
    destination = Path(destination)
    if destination.exists() and any(destination.iterdir()) and not overwrite:
        raise OutputExistsError(
            f"{destination}: output folder exists and is not empty; choose another --out "
            "or pass --overwrite"
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=destination.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; results are ordinary folders
    try:
        yield tmp
        if destination.exists():
            shutil.rmtree(destination)
        os.replace(tmp, destination)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def scenario_record(scenario: Scenario) -> dict[str, Any]:
    data = scenario.model_dump(mode="json", exclude={"source_dir"})
    return data


def write_scenario_toml(scenario: Scenario, path: Path) -> None:
    data = _drop_none(scenario_record(scenario))
    path.write_text(
        f"# Resolved scenario {scenario.name!r}: every parameter of the run.\n"
        + tomli_w.dumps(data)
    )


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def manifest(
    scenarios: list[Scenario], seeds: list[int], started: dt.datetime, **extra: Any
) -> dict[str, Any]:
    return {
        "demandsim_version": __version__,
        "python": sys.version.split()[0],
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seeds": seeds,
        "scenarios": {s.name: scenario_record(s) for s in scenarios},
        **extra,
    }


def write_json(data: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
