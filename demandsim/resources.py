"""Files the program needs at run time, shipped inside the package (``demandsim/data/``).

Found through :mod:`importlib.resources`, so a plain (non-editable) wheel install runs from any
folder: the built-in scenarios (``extends = "builtin:NAME"``), the HTML report template and the
Department for Education's published tables.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: the prefix that names a built-in scenario in ``extends`` or on the command line
BUILTIN = "builtin:"


def data_path(*parts: str) -> Path:
    """A path inside the package's data folder (installed packages are plain folders)."""
    return Path(str(files("demandsim").joinpath("data", *parts)))


def builtin_scenario(name: str = "baseline") -> Path:
    """The file of built-in scenario ``name`` (``baseline``: the default county)."""
    return data_path("scenarios", f"{name.removeprefix(BUILTIN)}.toml")


def builtin_names() -> list[str]:
    return sorted(p.stem for p in data_path("scenarios").glob("*.toml"))


DEFAULT_SCENARIO = builtin_scenario("baseline")
REPORT_TEMPLATE = data_path("templates", "report.html")
DFE_DIR = data_path("dfe")
