"""The council's data as it stood on a past date, and the scenario the outlook runs from it.

Covers: :func:`as_of` cuts a validated data folder back to what was known on a day: rows that
begin after it are dropped; ends, next stages, fill dates and leaving reasons after it are
blanked (to be known later); sickness of a spell still running is blanked (its total would
include days after the day); and the snapshot of open cases and staff is rebuilt from the case
episodes, the SSDA903 return and the staff spells. :func:`outlook_scenario` calibrates on such
data with :func:`demandsim.calibration.council.calibrate_council` (Prophet for demand, churn,
lead times, routes and durations, the warm start), stretches each team's days to fill its posts
by how slowly its vacancies have filled lately
(:func:`~demandsim.calibration.leadtimes.recent_fill_factors`: a hiring freeze shows there), and
returns the scenario for the weeks ahead.

Assumptions: the scenario takes the demand level, trend and seasonality Prophet fits, not its
predictive sample paths (``intensity.csv``), so the scenario is self-contained and the spread
comes from the model's own randomness; a case referred before the case extract began is
missing from a rebuilt snapshot (children in care are not: the SSDA903 return covers every
period of care open since it began).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w

from demandsim.calibration.council import calibrate_council, deep_merge
from demandsim.calibration.inputs import CouncilData
from demandsim.calibration.outputs import _plain
from demandsim.scenario import Scenario
from demandsim.scenario_files import load_scenario

DAYS_PER_YEAR = 365.25


def _cut(
    frame: pd.DataFrame | None, begins: str, ends: dict[str, list[str]], day: pd.Timestamp
) -> pd.DataFrame | None:
    """Rows begun on or before ``day``; each end column after ``day`` (and the columns known
    only with it) blanked."""
    if frame is None:
        return None
    out = frame.loc[frame[begins] <= day].copy()
    for end, known_with in ends.items():
        out.loc[out[end] > day, end] = pd.NaT
        still_open = out[end].isna()
        for column in known_with:
            if column in out:
                if out[column].dtype.kind in "iu":
                    out[column] = out[column].astype(float)
                out.loc[still_open, column] = np.nan
    return out.reset_index(drop=True)


def as_of(data: CouncilData, day: dt.date) -> CouncilData:
    """``data`` as it could have been extracted on ``day`` (see the module's notes)."""
    when = pd.Timestamp(day)
    demand = None if data.demand is None else data.demand.loc[data.demand["date"] <= when]
    staff = _cut(data.staff, "start_date", {"end_date": ["sickness_days"]}, when)
    vacancies = _cut(data.vacancies, "opened_date", {"filled_date": ["filled_by"]}, when)
    episodes = _cut(data.episodes, "start_date", {"end_date": ["next_stage"]}, when)
    ssda903 = _cut(data.ssda903, "DECOM", {"DEC": ["REC"]}, when)
    return dataclasses.replace(
        data,
        demand=None if demand is None else demand.reset_index(drop=True),
        staff=staff,
        vacancies=vacancies,
        episodes=episodes,
        ssda903=ssda903,
        snapshot_cases=_open_cases(episodes, ssda903, when),
        snapshot_staff=None,  # rebuilt from the spells open on the day
    )


def _open_cases(
    episodes: pd.DataFrame | None, ssda903: pd.DataFrame | None, when: pd.Timestamp
) -> pd.DataFrame | None:
    """The snapshot of open cases on ``when`` from data already cut to it: every episode with
    no end yet, and (where there is a return) the children in care from SSDA903 instead of
    the episodes' ``cic`` rows."""
    if episodes is None and ssda903 is None:
        return None
    frames = []
    if episodes is not None:
        still = episodes.loc[episodes["end_date"].isna(), ["case_id", "stage", "start_date"]]
        if ssda903 is not None:
            still = still[still["stage"] != "cic"]
        frames.append(still)
    if ssda903 is not None:
        in_care = ssda903.loc[ssda903["DEC"].isna()].drop_duplicates("CHILD")
        frames.append(
            pd.DataFrame(
                {"case_id": in_care["CHILD"], "stage": "cic", "start_date": in_care["DECOM"]}
            )
        )
    cases = pd.concat(frames, ignore_index=True)
    cases.insert(0, "snapshot_date", when)
    cases["allocated"] = True  # not known from the histories; the model allocates at the start
    return cases


def outlook_scenario(
    data: CouncilData, baseline: Scenario, weeks: int, seed: int = 0
) -> tuple[Scenario, list[str]]:
    """The calibrated scenario for ``weeks`` weeks from the data's snapshot date, and the
    calibration's notes."""
    cal = calibrate_council(data, baseline, seed=seed, samples=2)
    parameters = cal.parameters
    factors = cal.tables.get("vacancy_filling")
    if factors is not None:
        staffed = {t for t, spec in baseline.teams.items() if not spec.is_service}
        teams = {row.team: {"vacancy_fill_factor": round(float(row.factor), 3)}
                 for row in factors.itertuples() if row.team in staffed}  # fmt: skip
        parameters = deep_merge(parameters, {"teams": teams})
    description = f"Calibrated to {data.folder} as of {parameters['start_date']}."
    return forecast_scenario(parameters, description, weeks), cal.notes


def forecast_scenario(parameters: dict, description: str, weeks: int) -> Scenario:
    """The baseline with a calibration's ``parameters`` laid over it, for ``weeks`` weeks from
    its start date (no predictive sample paths of demand: see the module's notes)."""
    params = dict(parameters)
    if "demand" in params:
        params["demand"] = {k: v for k, v in params["demand"].items() if k != "intensity_file"}
    params["years"] = weeks * 7 / DAYS_PER_YEAR
    with tempfile.TemporaryDirectory(prefix="demandsim-outlook-") as tmp:
        folder = Path(tmp)
        (folder / "parameters.toml").write_text(tomli_w.dumps(_plain(params)))
        (folder / "scenario.toml").write_text(
            tomli_w.dumps(
                {
                    "name": "outlook",
                    "description": description,
                    "extends": "builtin:baseline",
                    "calibration": "parameters.toml",
                }
            )
        )
        return load_scenario(folder / "scenario.toml")
