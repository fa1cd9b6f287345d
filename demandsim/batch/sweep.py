"""Sweeps: a factorial design over scenario keys, ``--vary KEY=v1,v2,...`` (repeatable).

Every combination of the varied values is one design point, a copy of the base scenario with
those keys overridden (validated like ``--set``), run on the same seeds as every other point.
Values are TOML values (numbers, booleans, quoted strings, arrays) or bare words; commas inside
brackets or quotes do not split values.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pandas as pd

from demandsim.results_store import safe_name
from demandsim.scenario import Scenario
from demandsim.scenario_files import ScenarioError, apply_overrides, parse_assignment


@dataclass(frozen=True)
class Vary:
    """One varied key: its dotted path, the raw texts of its values, and the parsed values."""

    key: str
    texts: tuple[str, ...]
    values: tuple[Any, ...]


def parse_vary(text: str) -> Vary:
    """Parse ``KEY.PATH=v1,v2,...``; raises :class:`ScenarioError` saying what was expected."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    example = "e.g. --vary workforce.agency.fill_days=3,26"
    if not sep or not key or any(not part.strip() for part in key.split(".")):
        raise ScenarioError(f"--vary {text!r}: expected KEY.PATH=VALUE1,VALUE2,... ({example})")
    texts = tuple(v.strip() for v in _split_values(raw))
    if not texts or any(not v for v in texts):
        raise ScenarioError(
            f"--vary {text!r}: expected a comma-separated list of values after '=' with no empty "
            f"value ({example})"
        )
    if len(set(texts)) != len(texts):
        raise ScenarioError(f"--vary {text!r}: a value is repeated")
    values = tuple(parse_assignment(f"{key}={v}")[1] for v in texts)
    return Vary(key=key, texts=texts, values=values)


def _split_values(raw: str) -> list[str]:
    """Split on commas that are not inside brackets, braces or quotes."""
    parts, depth, quote, current = [], 0, "", []
    for char in raw:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def design(base: Scenario, varies: list[Vary]) -> tuple[dict[str, Scenario], pd.DataFrame]:
    """Every combination of the varied values: scenarios by point key, which names the values
    (``fill_days=3``, ``fill_days=3,posts=40`` ...), and the design table (``scenario`` = point
    key, then one column per varied key)."""
    keys = [v.key for v in varies]
    if not varies:
        raise ScenarioError("sweep: give at least one --vary KEY=v1,v2,...")
    repeated = {k for k in keys if keys.count(k) > 1}
    if repeated:
        raise ScenarioError(f"--vary: each key may be varied once; repeated: {sorted(repeated)}")
    known = base.model_dump(mode="json")
    for vary in varies:
        _check_key(known, vary.key)
    combos = list(itertools.product(*(range(len(v.values)) for v in varies)))
    names = _short_names(keys)
    scenarios, rows = {}, []
    for combo in combos:
        point = safe_name(
            ",".join(f"{names[v.key]}={v.texts[i]}" for v, i in zip(varies, combo, strict=True))
        )
        if point in scenarios:  # values that differ only in characters a file name cannot hold
            point = f"{point}-{len(scenarios)}"
        overrides = [f"{v.key}={v.texts[i]}" for v, i in zip(varies, combo, strict=True)]
        try:
            scenarios[point] = apply_overrides(base, overrides)
        except ScenarioError as exc:
            detail = str(exc).removeprefix("invalid scenario\n").replace("--set: ", "")
            raise ScenarioError(
                f"--vary: the design point {', '.join(overrides)} is not a valid scenario:\n"
                f"{detail}"
            ) from None
        rows.append(
            {"scenario": point, **{v.key: v.values[i] for v, i in zip(varies, combo, strict=True)}}
        )
    table = pd.DataFrame(rows)
    for vary in varies:  # one type per column, so the table writes to Parquet
        numeric = all(_is_number(v) for v in vary.values)
        table[vary.key] = table[vary.key].astype(float if numeric else str)
    return scenarios, table


def _short_names(keys: list[str]) -> dict[str, str]:
    """Each varied key by its last part (``fill_days``), or in full where two would clash."""
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return {k: (s if last.count(s) == 1 else k) for k, s in zip(keys, last, strict=True)}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_key(data: dict, key: str) -> None:
    node: Any = data
    walked: list[str] = []
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            where = ".".join(walked) or "the scenario"
            options = ", ".join(sorted(node)) if isinstance(node, dict) else "no keys"
            raise ScenarioError(
                f"--vary {key}: {part!r} is not a key of {where} (it has: {options})"
            )
        node = node[part]
        walked.append(part)


def sweep_table(summary: pd.DataFrame, design_table: pd.DataFrame) -> pd.DataFrame:
    """The KPI summary with each design point's varied values as columns (tidy: one row per
    point, team and KPI)."""
    return design_table.merge(summary, on="scenario", how="right", validate="one_to_many")
