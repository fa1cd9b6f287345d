"""Reading scenarios from TOML: ``extends`` chains, ``--set`` overrides, and clear errors.

A scenario file may name a base with ``extends = "other.toml"`` (relative to itself) or a
built-in scenario with ``extends = "builtin:baseline"``, and give only what differs. It may also name a fitted parameter set with ``calibration = "PATH"`` (a
partial scenario written by ``demandsim calibrate``): precedence is base < calibration < the
file's own keys < ``--set``. Tables merge key by key; a bare number over a duration table changes
only its ``mean_days`` (so ``fill_days = 3`` keeps the base's distribution shape), while a table
over a duration replaces it whole (``{ dist = "fixed", mean_days = 1 }``). Tables of
probabilities (``routes``, each month of ``routes_by_month``, ``demand.sources``) are replaced
whole, since a share kept from the base would no longer sum to 1 with the new ones. String values
of keys ending in ``_file`` are paths relative to the file that sets them. Every error names the
file that set the offending key, the key path, and what was expected.

Files are checked for what they are before they are read: a regular file (not a folder or a
device), at most :data:`MAX_FILE_BYTES`, UTF-8 text (a byte-order mark is fine). ``extends``,
``calibration`` and ``*_file`` paths must stay inside the folder of the scenario named on the
command line (or the built-in scenarios) unless ``allow_outside_paths`` is given, and values from
a file that does not look like a scenario are never repeated in an error.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import stat
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from demandsim.resources import (
    BUILTIN,
    DEFAULT_SCENARIO,
    builtin_names,
    builtin_scenario,
    data_path,
)
from demandsim.scenario import KeyedError, Scenario

SET_SOURCE = "--set"
YEARS_SOURCE = "--years"
#: the largest scenario or parameter file read (a real one is a few kilobytes)
MAX_FILE_BYTES = 1_000_000
#: the largest intensity file read (200 sample paths of 10 years of days is about 15 MB)
MAX_INTENSITY_BYTES = 100_000_000
#: the longest chain of extends
MAX_EXTENDS_DEPTH = 20
SAVE_AS_UTF8 = "save it as UTF-8 (in Excel: Save As > CSV UTF-8; in an editor: encoding UTF-8)"


class ScenarioError(ValueError):
    """A scenario file or override is invalid; the message says where and what was expected."""


@dataclass(frozen=True)
class _Reading:
    """Where files may come from while one scenario is read."""

    roots: tuple[Path, ...]
    allow_outside: bool

    def check_inside(self, path: Path, key: str, named_in: str) -> None:
        if self.allow_outside or any(path.is_relative_to(root) for root in self.roots):
            return
        raise ScenarioError(
            f"{named_in}: {key}: expected a path inside {self.roots[0]} (the scenario's folder) "
            f"or a built-in scenario; got {str(path)!r}, which is outside it. Pass "
            "--allow-outside-paths to use files elsewhere"
        )


def load_scenario(
    path: str | Path | None = None,
    overrides: Iterable[str] = (),
    years: float | None = None,
    allow_outside_paths: bool = False,
) -> Scenario:
    """Load and validate a scenario file (the built-in default when ``path`` is None; a
    ``builtin:NAME`` names a built-in scenario).

    ``overrides`` are ``--set`` assignments; ``years`` is the ``--years`` option (errors name
    each as their source). ``allow_outside_paths`` lets ``extends``, ``calibration`` and
    ``*_file`` keys name files outside the scenario's folder.
    """
    path = _builtin_or_path(str(path)) if path is not None else DEFAULT_SCENARIO
    resolved = path.resolve()
    reading = _Reading(
        roots=(resolved.parent, data_path("scenarios").resolve()),
        allow_outside=allow_outside_paths,
    )
    data, origins = _read_chain(resolved, seen=(), reading=reading)
    for text in overrides:
        key_path, value = parse_assignment(text)
        _merge(data, _nest(key_path, _resolve_set_files(key_path, value)), origins, SET_SOURCE, ())
    if years is not None:
        _merge(data, {"years": years}, origins, YEARS_SOURCE, ())
    data["source_dir"] = str(resolved.parent)
    origins.setdefault(("source_dir",), str(path))
    scenario = validate(data, origins, default_file=str(path))
    check_intensity_file(scenario, _origin_of(("demand", "intensity_file"), origins, str(path)))
    _check_teams_serve(scenario, origins, str(path))
    return scenario


def _check_teams_serve(
    scenario: Scenario, origins: Mapping[tuple[str, ...], str], path: str
) -> None:
    """A team that no stage uses is refused unless the built-in baseline has a team of that
    name: it is most likely misspelt (``[teams.cinn]`` is a new team, staffed and paid, serving
    no one). A built-in team left without stages (its stages moved to a new team) is kept."""
    used = {stage.team for stage in scenario.pathway.stages.values()}
    for name in scenario.teams:
        if name in used or name in _builtin_teams():
            continue
        source = _origin_of(("teams", name), origins, path)
        raise ScenarioError(
            f"invalid scenario\n  {source}: teams.{name}: serves no stage of the pathway (a "
            f"misspelt team name?); expected the team of some stage, one of {sorted(used)}"
        )


def validate(data: Mapping[str, Any], origins: Mapping[tuple[str, ...], str], default_file: str):
    """Validate merged scenario data, turning pydantic errors into ones that name the file."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(str(part) for part in err["loc"])
            found = err.get("input")
            keyed = err.get("ctx", {}).get("error")
            if isinstance(keyed, KeyedError):
                loc, found = (*loc, *keyed.key), keyed.found
            source = _origin_of(loc, origins, default_file)
            key = ".".join(loc) or "(top level)"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check its spelling against the built-in baseline, demandsim/data/scenarios/baseline.toml)"
                lines.append(f"{source}: {key}: {msg}")  # its value is never repeated
                continue
            elif err["type"] == "missing":
                msg = "required key is missing"
                lines.append(f"{source}: {key}: {msg}")
                continue
            lines.append(f"{source}: {key}: {msg}; got {_shown(found)}")
        raise ScenarioError("invalid scenario\n  " + "\n  ".join(lines)) from None


def _shown(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    got = repr(value)
    return got if len(got) <= 120 else got[:117] + "..."


def check_intensity_file(scenario: Scenario, source: str) -> None:
    """``demand.intensity_file`` must be a readable CSV of non-negative daily or monthly
    contacts within the limits; checked at load so a bad file is refused before any run."""
    name = scenario.demand.intensity_file
    if not name:
        return
    import numpy as np
    import pandas as pd

    where = f"{source}: demand.intensity_file"
    path = Path(name)
    raw = _read_bytes(path, where, MAX_INTENSITY_BYTES)
    text = _decode(raw, path, where)
    import io

    try:
        table = pd.read_csv(io.StringIO(text))
    except (ValueError, pd.errors.ParserError) as exc:
        raise ScenarioError(f"{where}: {path} is not a readable CSV: {exc}") from None
    key = "month" if "month" in table.columns else "date"
    samples = [c for c in table.columns if c != key]
    if key not in table.columns or not samples or table.empty:
        raise ScenarioError(
            f"{where}: {path}: expected a 'month' (YYYY-MM) or 'date' (YYYY-MM-DD) column, then "
            f"one column per sample path, and at least one row; got columns "
            f"{list(table.columns)[:10]} and {len(table)} rows"
        )
    periods = pd.to_datetime(
        table[key].astype(str), errors="coerce", format="%Y-%m" if key == "month" else "%Y-%m-%d"
    )
    if periods.isna().any():
        row = int(np.flatnonzero(periods.isna().to_numpy())[0]) + 2
        raise ScenarioError(
            f"{where}: {path}: row {row}, column {key!r}: expected a date; "
            f"got {str(table[key].iloc[row - 2])[:40]!r}"
        )
    values = table[samples].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    per_year = 12 if key == "month" else 365
    ceiling = scenario.limits.max_contacts_per_year / per_year
    bad = ~np.isfinite(values) | (values < 0) | (values > ceiling)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise ScenarioError(
            f"{where}: {path}: row {row + 2}, column {samples[col]!r}: expected a non-negative "
            f"number of contacts of at most {ceiling:,.0f} (limits.max_contacts_per_year / "
            f"{per_year}); got {str(table[samples[col]].iloc[row])[:40]!r}"
        )


def _read_bytes(path: Path, where: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or a ScenarioError saying what
    the path is instead."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError(f"{where}: file not found: {path}") from None
    except OSError as exc:
        raise ScenarioError(f"{where}: cannot be read: {path}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError(f"{where}: expected a file; got a folder: {path}")
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError(f"{where}: expected a regular file; got a device or pipe: {path}")
    if info.st_size > limit:
        raise ScenarioError(
            f"{where}: expected a file of at most {limit:,} bytes; got {info.st_size:,} bytes: "
            f"{path}"
        )
    try:
        with path.open("rb") as fh:
            return fh.read(limit + 1)[:limit]
    except OSError as exc:
        raise ScenarioError(f"{where}: cannot be read: {path}: {exc.strerror}") from None


def _decode(raw: bytes, path: Path, where: str) -> str:
    if b"\0" in raw[:8192]:
        raise ScenarioError(f"{where}: expected a text file; got binary data: {path}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            f"{where}: expected UTF-8 text; got byte 0x{raw[exc.start]:02x} on line {line} of "
            f"{path} (another encoding, such as Windows' latin-1): {SAVE_AS_UTF8}"
        ) from None


def read_toml(path: Path, where: str) -> dict:
    """A TOML file's table: a regular UTF-8 text file of at most MAX_FILE_BYTES, or a
    ScenarioError naming ``where`` and saying what the file is instead (any TOML input the
    command line reads: scenarios, optimisation targets, outlook settings)."""
    text = _decode(_read_bytes(path, where), path, where)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None


def _looks_like_a_scenario(data: Mapping, path: Path, allowed: set[str]) -> None:
    """A file with none of the scenario's keys is not a scenario: say so without its contents."""
    if data and not set(data) & allowed:
        raise ScenarioError(
            f"{path}: does not look like a scenario: none of its {len(data)} top-level keys is a "
            "scenario key (name, start_date, demand, pathway, teams ...); its contents are not "
            "shown"
        )


def parse_assignment(text: str) -> tuple[tuple[str, ...], Any]:
    """Parse ``a.b.c=VALUE``; VALUE is a TOML value, or a plain string if it is not one."""
    key, sep, raw = text.partition("=")
    parts = tuple(p.strip() for p in key.strip().split("."))
    if not sep or not all(parts):
        raise ScenarioError(f"{SET_SOURCE} {text!r}: expected KEY.PATH=VALUE, e.g. years=5")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return parts, value


def apply_overrides(scenario: Scenario, overrides: Iterable[str]) -> Scenario:
    """A copy of a loaded scenario with ``--set``-style overrides applied and re-validated."""
    data = scenario.model_dump(mode="json")
    origins: dict[tuple[str, ...], str] = {}
    for text in overrides:
        key_path, value = parse_assignment(text)
        _merge(data, _nest(key_path, value), origins, SET_SOURCE, ())
    return validate(data, origins, default_file=scenario.name)


def _read_chain(path: Path, seen: tuple[Path, ...], reading: _Reading) -> tuple[dict, dict]:
    if path in seen:
        chain = " -> ".join(str(p) for p in (*seen, path))
        raise ScenarioError(f"{path}: extends forms a cycle: {chain}")
    if len(seen) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(
            f"{path}: extends: expected at most {MAX_EXTENDS_DEPTH} files in a chain"
        )
    if seen:
        where = f"{seen[-1]}: extends"
        if not path.exists():
            raise ScenarioError(f"{path}: scenario file not found (named by extends in {seen[-1]})")
    else:
        where = f"{path}: scenario file"
        if not path.exists():
            raise ScenarioError(f"{path}: scenario file not found")
    own = read_toml(path, where)
    allowed = {*Scenario.model_fields, "extends", "calibration"}
    _looks_like_a_scenario(own, path, allowed)
    base_name = own.pop("extends", None)
    calibration = own.pop("calibration", None)
    if base_name is None:
        data: dict = {}
        origins: dict[tuple[str, ...], str] = {}
    elif not isinstance(base_name, str) or not base_name.strip():
        raise ScenarioError(
            f"{path}: extends: expected the name of a scenario file or builtin:NAME; "
            f"got {_shown(base_name)}"
        )
    else:
        base = _builtin_or_path(base_name, path.parent).resolve()
        reading.check_inside(base, "extends", str(path))
        data, origins = _read_chain(base, (*seen, path), reading)
    if calibration is not None:
        if not isinstance(calibration, str) or not calibration.strip():
            raise ScenarioError(
                f"{path}: calibration: expected the name of a parameter file; "
                f"got {_shown(calibration)}"
            )
        fitted = (path.parent / calibration).resolve()
        reading.check_inside(fitted, "calibration", str(path))
        if not fitted.exists():
            raise ScenarioError(
                f"{fitted}: parameter file not found (named by calibration in {path})"
            )
        params = read_toml(fitted, f"{path}: calibration")
        if "extends" in params or "calibration" in params:
            raise ScenarioError(f"{fitted}: a parameter file cannot use extends or calibration")
        _looks_like_a_scenario(params, fitted, set(Scenario.model_fields))
        _merge(
            data, _resolve_files(params, fitted.parent, reading, fitted), origins, str(fitted), ()
        )
    _merge(data, _resolve_files(own, path.parent, reading, path), origins, str(path), ())
    return data, origins


def _builtin_or_path(name: str, folder: Path | None = None) -> Path:
    """``builtin:NAME`` as the packaged scenario's file, anything else as a path (relative to
    ``folder`` when given)."""
    if name.startswith(BUILTIN):
        path = builtin_scenario(name)
        if not path.exists():
            raise ScenarioError(
                f"{name}: no such built-in scenario; the built-in scenarios are "
                + ", ".join(BUILTIN + n for n in builtin_names())
            )
        return path
    return Path(name) if folder is None else folder / name


def _resolve_files(
    data: Mapping, folder: Path, reading: _Reading, named_in: Path, prefix: str = ""
) -> dict:
    """Paths in ``*_file`` keys, made absolute relative to the folder of the file setting them
    (and kept inside the scenario's folder unless outside paths are allowed)."""
    out = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            out[key] = _resolve_files(value, folder, reading, named_in, f"{prefix}{key}.")
        elif isinstance(key, str) and key.endswith("_file") and isinstance(value, str):
            resolved = (folder / value).resolve()
            reading.check_inside(resolved, f"{prefix}{key}", str(named_in))
            out[key] = str(resolved)
        else:
            out[key] = value
    return out


def _resolve_set_files(key_path: tuple[str, ...], value: Any) -> Any:
    """A ``--set`` path is typed by the user, so it is taken relative to the current folder."""
    if key_path[-1].endswith("_file") and isinstance(value, str) and value:
        return str(Path(value).resolve())
    return value


def _replaced_whole(path: tuple[str, ...], current: dict) -> bool:
    """Probability tables, duration tables and budgets are replaced, not merged key by key (a
    council's budget is its own, not the base's years with some of its own)."""
    probabilities = path[-1] in ("routes", "sources") or (
        len(path) > 1 and path[-2] == "routes_by_month"
    )
    return probabilities or "mean_days" in current or path[-1] == "budget_by_financial_year_gbp"


def _merge(base: dict, over: Mapping, origins: dict, source: str, prefix: tuple[str, ...]) -> None:
    for key, value in over.items():
        here = (*prefix, key)
        current = base.get(key)
        if (
            isinstance(value, Mapping)
            and isinstance(current, dict)
            and not _replaced_whole(here, current)
        ):
            _merge(current, value, origins, source, here)
            continue
        if _is_number(value) and isinstance(current, dict) and "mean_days" in current:
            current["mean_days"] = value
            _record(origins, (*here, "mean_days"), source)
            continue
        base[key] = _copy(value)
        _record(origins, here, source)


def _record(origins: dict, key: tuple[str, ...], source: str) -> None:
    origins.pop(key, None)  # re-insert, so the newest setting is last
    origins[key] = source


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _nest(path: tuple[str, ...], value: Any) -> dict:
    out: Any = value
    for key in reversed(path):
        out = {key: out}
    return out


@functools.cache
def _builtin_teams() -> frozenset[str]:
    with DEFAULT_SCENARIO.open("rb") as fh:
        return frozenset(tomllib.load(fh).get("teams", {}))


def _origin_of(loc: tuple[str, ...], origins: Mapping[tuple[str, ...], str], default: str) -> str:
    """The newest file that set ``loc``, a key inside it, or a table that contains it (the
    scenario file named on the command line for the scenario as a whole)."""
    if not loc:
        return default
    for key in reversed(list(origins)):
        n = min(len(key), len(loc))
        if key[:n] == loc[:n]:
            return origins[key]
    return default
