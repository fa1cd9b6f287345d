"""Where a run may start: built-in scenarios, scenario files, results folders and councils.

Covers: the choices of the page's *Start from* list (each a label and a value
:func:`~demandsim.scenario_files.load_scenario` reads, or ``council:CODE`` for an English council
of the DfE published tables), and turning a council into a scenario as ``demandsim calibrate
--la CODE --year Y`` does, in a background thread, each council and year once: the calibration
folder is kept under the runs' folder (``councils/NAME-CODE-YEAR/``) and found again there.

Assumptions: a results folder is offered once complete (it has ``manifest.json``), by each
resolved scenario it stores; one calibration at a time (each takes seconds and one core), the
rest wait their turn.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from demandsim.resources import BUILTIN, builtin_names
from demandsim.scenario import Scenario
from demandsim.scenario_files import ScenarioError, load_scenario

COUNCIL = "council:"
CALIBRATIONS = "councils"


def scenario_files(scenarios_dir: Path | None) -> dict[str, str]:
    """label -> path of each built-in scenario and ``.toml`` file in ``scenarios_dir``."""
    found = {f"{name} (built-in)": BUILTIN + name for name in builtin_names()}
    if scenarios_dir is not None and scenarios_dir.is_dir():
        for path in sorted(scenarios_dir.glob("*.toml")):
            found[f"{scenarios_dir.name}/{path.name}"] = str(path.resolve())
    return found


def results_scenarios(out_root: Path) -> dict[str, str]:
    """label -> stored scenario file, for every complete results folder in ``out_root``, newest
    first."""
    found = {}
    if not out_root.is_dir():
        return found
    folders = [p.parent for p in out_root.glob("*/manifest.json")]
    for folder in sorted(folders, key=lambda p: p.stat().st_mtime, reverse=True):
        for path in sorted((folder / "scenarios").glob("*.toml")):
            found[f"results: {folder.name} / {path.stem}"] = str(path.resolve())
    return found


def council_choices() -> dict[str, str]:
    """label -> ``council:CODE`` for every council in the DfE referrals table, by name; a
    council that no longer reports (or started later) says which years it reported."""
    from demandsim.calibration.published import councils, latest_year

    table = councils().sort_values(["la_name", "last_year"])
    first, last = int(table["first_year"].min()), latest_year()
    found = {}
    for row in table.itertuples(index=False):
        years = "" if (row.first_year, row.last_year) == (first, last) else (
            f", reported {row.first_year}-{row.last_year}"
        )  # fmt: skip
        found[f"council: {row.la_name} (published tables{years})"] = COUNCIL + row.old_la_code
    return found


def published_years() -> list[int]:
    """Years ending 31 March that the published tables cover, latest first."""
    from demandsim.calibration.published import latest_year

    return list(range(latest_year(), 2012, -1))


@dataclass(frozen=True)
class Preparing:
    """A council's scenario being calibrated (or failed: ``error``)."""

    what: str
    started: float
    error: str = ""


class Councils:
    """Calibrations of councils from the published tables, each council and year once."""

    def __init__(self, out_root: Path) -> None:
        self.folder = Path(out_root) / CALIBRATIONS
        self._lock = threading.Lock()
        self._jobs: dict[tuple[str, int], tuple[Future, float]] = {}
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="demandsim-calibrate")

    def get(self, code: str, year: int | None) -> Scenario | Preparing:
        """The scenario for council ``code`` (``year``: of the published tables, default the
        latest it reported), or how far its calibration has got (started when first asked)."""
        from demandsim.calibration.published import PublishedDataError, councils

        try:
            known = councils().set_index("old_la_code")
            year = int(year or known.loc[code, "last_year"])
            name = str(known.loc[code, "la_name"])
        except KeyError:
            return Preparing(code, time.monotonic(), f"{code}: not a council of the DfE tables")
        slug = "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())
        path = self.folder / f"{slug}-{code}-{year}" / "scenario.toml"
        with self._lock:
            if path.exists() and (code, year) not in self._jobs:
                return load_scenario(path)
            if (code, year) not in self._jobs:
                job = self._pool.submit(self._calibrate, code, year, path.parent)
                self._jobs[code, year] = (job, time.monotonic())
            job, started = self._jobs[code, year]
        what = f"{name}, year ending 31 March {year}"
        if not job.done():
            return Preparing(what, started)
        try:
            return load_scenario(job.result())
        except (PublishedDataError, ScenarioError, OSError) as exc:
            with self._lock:  # asked again, it is tried again
                self._jobs.pop((code, year), None)
            return Preparing(what, started, str(exc))

    @staticmethod
    def _calibrate(code: str, year: int, folder: Path) -> Path:
        """``demandsim calibrate --la CODE --year YEAR --out FOLDER``, as the command does it."""
        from demandsim.calibration.outputs import write_calibration
        from demandsim.calibration.published import calibrate_published

        cal = calibrate_published(code, year, load_scenario())
        title = cal.notes[0].removeprefix("Council: ")
        return write_calibration(
            cal, folder, title, overwrite=True,
            provenance={"data_dir": None, "la": code, "year": year, "seed": 0},
        )  # fmt: skip

    def stop(self) -> None:
        """Drop waiting calibrations; the one in hand finishes (it takes seconds)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
