"""The scenario reference, generated from the scenario schema: every key, its type, limits,
default and description, so the documentation cannot drift from what the program accepts.

    python -m demandsim.scenario_reference > docs/reference/scenario.md

A test regenerates it and compares it with the committed file.
"""

from __future__ import annotations

import json
from typing import Any

from demandsim.scenario import Scenario

HEADER = """# Scenario reference

Generated from the scenario schema (`demandsim/scenario.py`) by
`python -m demandsim.scenario_reference > docs/reference/scenario.md`; a test keeps it current.
Every key of a scenario file, with its type, its limits, its default (blank: required, or set by
the built-in baseline) and what it means. `NAME` stands for a name you choose (a team, a stage, a
contact source, a placement type, a financial year such as `2026-27`). Units are in the key
names: `_days` calendar days, `_per_year` annual, `_share` a fraction from 0 to 1, `_gbp` pounds.
The built-in county, with a source for every figure, is
`demandsim/data/scenarios/baseline.toml`.

| key | type | limits | default | meaning |
|---|---|---|---|---|
"""


def _type(schema: dict[str, Any], defs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A readable type and the schema that holds its limits."""
    if "$ref" in schema:
        return "table", defs[schema["$ref"].split("/")[-1]]
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    if options:
        kind, inner = _type(options[0], defs)
        return (f"{kind} or none" if len(options) == 1 else " or ".join(
            _type(o, defs)[0] for o in options)), inner  # fmt: skip
    if "enum" in schema:
        return " / ".join(f"`{v}`" for v in schema["enum"]), schema
    kind = schema.get("type", "")
    if kind == "array":
        inner, _ = _type(schema.get("items", {}), defs)
        return f"list of {inner}", schema
    if kind == "object":
        return "table", schema
    names = {
        "number": "number",
        "integer": "whole number",
        "string": "text",
        "boolean": "true/false",
    }
    if schema.get("format") == "date":
        return "date", schema
    return names.get(kind, kind or "any"), schema


def _limits(schema: dict[str, Any]) -> str:
    parts = []
    for key, sign in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
                      ("exclusiveMaximum", "<")):  # fmt: skip
        if key in schema:
            parts.append(f"{sign} {schema[key]:g}")
    return ", ".join(parts)


def _default(schema: dict[str, Any]) -> str:
    if "default" not in schema:
        return ""
    value = schema["default"]
    if isinstance(value, dict | list) and len(json.dumps(value)) > 40:
        return "see below" if isinstance(value, dict) else "..."
    return f"`{json.dumps(value)}`"


def _clean(text: str) -> str:
    return " ".join(text.replace("``", "`").replace("|", "\\|").split())


def rows(schema: dict[str, Any], defs: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for name, field in schema.get("properties", {}).items():
        key = f"{prefix}{name}"
        kind, inner = _type(field, defs)
        description = field.get("description", "")
        nested = "$ref" in field or (inner is not field and "properties" in inner)
        if nested and not description:
            description = inner.get("description", "").split("\n\n")[0]
        limits = _limits(inner if inner is not field else field) or _limits(field)
        out.append(f"| `{key}` | {kind} | {limits} | {_default(field)} | {_clean(description)} |")
        if "properties" in inner:
            out += rows(inner, defs, f"{key}.")
        elif isinstance(inner.get("additionalProperties"), dict):
            value_kind, value = _type(inner["additionalProperties"], defs)
            if "properties" in value:
                out += rows(value, defs, f"{key}.NAME.")
            else:
                limits = _limits(value)
                out.append(f"| `{key}.NAME` | {value_kind} | {limits} |  |  |")
    return out


def markdown() -> str:
    schema = Scenario.model_json_schema()
    return HEADER + "\n".join(rows(schema, schema.get("$defs", {}))) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
