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
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from demandsim.resources import BUILTIN, DEFAULT_SCENARIO, builtin_names, builtin_scenario
from demandsim.scenario import Scenario

SET_SOURCE = "--set"


class ScenarioError(ValueError):
    """A scenario file or override is invalid; the message says where and what was expected."""


def load_scenario(path: str | Path | None = None, overrides: Iterable[str] = ()) -> Scenario:
    """Load and validate a scenario file (the built-in default when ``path`` is None; a
    ``builtin:NAME`` names a built-in scenario)."""
    path = _builtin_or_path(str(path)) if path is not None else DEFAULT_SCENARIO
    if not path.exists():
        raise ScenarioError(f"{path}: scenario file not found")
    data, origins = _read_chain(path.resolve(), seen=())
    for text in overrides:
        key_path, value = parse_assignment(text)
        _merge(data, _nest(key_path, value), origins, SET_SOURCE, ())
    data["source_dir"] = str(path.resolve().parent)
    return validate(data, origins, default_file=str(path))


def validate(data: Mapping[str, Any], origins: Mapping[tuple[str, ...], str], default_file: str):
    """Validate merged scenario data, turning pydantic errors into ones that name the file."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(str(part) for part in err["loc"])
            source = _origin_of(loc, origins, default_file)
            key = ".".join(loc) or "(top level)"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check its spelling against the built-in baseline, demandsim/data/scenarios/baseline.toml)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            got = repr(err.get("input"))
            got = got if len(got) <= 120 else got[:117] + "..."
            lines.append(f"{source}: {key}: {msg}; got {got}")
        raise ScenarioError("invalid scenario\n  " + "\n  ".join(lines)) from None


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


def _read_chain(path: Path, seen: tuple[Path, ...]) -> tuple[dict, dict]:
    if path in seen:
        chain = " -> ".join(str(p) for p in (*seen, path))
        raise ScenarioError(f"{path}: extends forms a cycle: {chain}")
    try:
        with path.open("rb") as fh:
            own = tomllib.load(fh)
    except FileNotFoundError:
        where = f" (named by extends in {seen[-1]})" if seen else ""
        raise ScenarioError(f"{path}: scenario file not found{where}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    base_name = own.pop("extends", None)
    calibration = own.pop("calibration", None)
    if base_name is None:
        data: dict = {}
        origins: dict[tuple[str, ...], str] = {}
    elif not isinstance(base_name, str):
        raise ScenarioError(f"{path}: extends: expected a file name, got {base_name!r}")
    else:
        base = _builtin_or_path(base_name, path.parent)
        data, origins = _read_chain(base.resolve(), (*seen, path))
    if calibration is not None:
        if not isinstance(calibration, str):
            raise ScenarioError(f"{path}: calibration: expected a file name, got {calibration!r}")
        fitted = (path.parent / calibration).resolve()
        try:
            with fitted.open("rb") as fh:
                params = tomllib.load(fh)
        except FileNotFoundError:
            raise ScenarioError(
                f"{fitted}: parameter file not found (named by calibration in {path})"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{fitted}: not valid TOML: {exc}") from None
        if "extends" in params or "calibration" in params:
            raise ScenarioError(f"{fitted}: a parameter file cannot use extends or calibration")
        _merge(data, _resolve_files(params, fitted.parent), origins, str(fitted), ())
    _merge(data, _resolve_files(own, path.parent), origins, str(path), ())
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


def _resolve_files(data: Mapping, folder: Path) -> dict:
    """Paths in ``*_file`` keys, made absolute relative to the folder of the file setting them."""
    out = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            out[key] = _resolve_files(value, folder)
        elif key.endswith("_file") and isinstance(value, str):
            out[key] = str((folder / value).resolve())
        else:
            out[key] = value
    return out


def _replaced_whole(path: tuple[str, ...], current: dict) -> bool:
    """Probability tables and duration tables are replaced, not merged key by key."""
    probabilities = path[-1] in ("routes", "sources") or (
        len(path) > 1 and path[-2] == "routes_by_month"
    )
    return probabilities or "mean_days" in current


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


def _origin_of(loc: tuple[str, ...], origins: Mapping[tuple[str, ...], str], default: str) -> str:
    """The newest file that set ``loc``, a key inside it, or a table that contains it."""
    for key in reversed(list(origins)):
        n = min(len(key), len(loc))
        if key[:n] == loc[:n]:
            return origins[key]
    return default
