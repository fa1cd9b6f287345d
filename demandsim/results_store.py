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

import pandas as pd
import tomli_w

from demandsim import __version__
from demandsim.scenario import Scenario


class OutputExistsError(FileExistsError):
    pass


@contextmanager
def atomic_dir(
    destination: str | Path, overwrite: bool = False, marker: str = "manifest.json"
) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``destination`` only if the block succeeds.

    ``overwrite`` replaces an existing folder only if it holds ``marker`` (a file every folder
    of this kind has), so it never deletes a folder demandsim did not write."""
    destination = Path(destination)
    if destination.exists() and any(destination.iterdir()):
        if not overwrite:
            raise OutputExistsError(
                f"{destination}: output folder exists and is not empty; choose another --out "
                "or pass --overwrite"
            )
        if not (destination / marker).is_file():
            raise OutputExistsError(
                f"{destination}: --overwrite replaces only a folder demandsim wrote (one with "
                f"{marker}); this folder has none, so it is left alone"
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


#: first characters that make a spreadsheet treat a text cell as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells a spreadsheet will not execute: text starting with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe (shown as
    text by Excel and LibreOffice). Numbers are left alone."""
    out = frame.copy()
    for column in out.columns:
        dtype = out[column].dtype
        if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
            continue
        values = out[column].astype(object)
        risky = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START))
        if risky.any():
            out[column] = values.where(~risky, "'" + values.astype(str))
    renamed = {
        c: f"'{c}" for c in out.columns if isinstance(c, str) and c.startswith(FORMULA_START)
    }
    return out.rename(columns=renamed)


def safe_name(name: str) -> str:
    """A scenario name made safe as one folder or file name: no separators, no leading dots."""
    safe = "".join(c if c.isalnum() or c in "-_.=," else "_" for c in name).strip("._")
    return safe or "scenario"


def scenario_record(scenario: Scenario) -> dict[str, Any]:
    data = scenario.model_dump(mode="json", exclude={"source_dir"})
    return data


def write_scenario_toml(scenario: Scenario, path: Path) -> None:
    """The scenario as a TOML file that loads back as the same scenario, wherever the folder
    is moved: a file it reads (``demand.intensity_file``) is copied beside it, as
    ``STEM.intensity.csv``, and named relative to it."""
    data = _drop_none(scenario_record(scenario))
    if scenario.demand.intensity_file:
        copy = path.with_name(f"{path.stem}.intensity.csv")
        shutil.copyfile(scenario.demand.intensity_file, copy)
        data["demand"]["intensity_file"] = copy.name
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
