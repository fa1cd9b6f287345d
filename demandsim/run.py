"""One replication from scenario to its daily arrays (:func:`run_arrays`, what every kind of run
keeps) or to tidy tables (:func:`run_replication`, for people and tests): the same numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from demandsim import daily
from demandsim.calendar import financial_year
from demandsim.costs import inflation_factors
from demandsim.eventlog import EventLog
from demandsim.kpis import case_tallies, leaver_counts, team_frame, timeliness
from demandsim.model import Model
from demandsim.scenario import Scenario


@dataclass(frozen=True)
class RunArrays:
    """One replication's daily series per team and forecast day (see :mod:`demandsim.daily`),
    and its tallies: aggregates, no case or worker identifiers."""

    seed: int
    levels: np.ndarray  # (teams, days, daily.TEAM_SERIES)
    stocks: np.ndarray  # (teams, days, 2): children in need, on a child protection plan
    costs: np.ndarray  # (teams, days, daily.COST_SERIES): children in care and pounds
    timeliness: dict[str, float]  # referrals, days referral to allocation, assessed in time
    leavers: np.ndarray  # (teams, 2) int: permanent and agency leavers in the forecast


@dataclass(frozen=True)
class RunResult:
    """Aggregated results of one replication as tables (no case or worker identifiers)."""

    seed: int
    daily: pd.DataFrame  # date x team levels, with children in need and on a plan
    timeliness: dict[str, float]  # referrals, days referral to allocation, assessed in time
    costs: pd.DataFrame  # date x team x cost component, pounds (demandsim.costs.daily_costs)
    leavers: pd.DataFrame  # per team: permanent and agency leavers in the forecast
    arrays: RunArrays  # the same numbers as arrays


STOCKS = ("children_in_need", "child_protection")


def arrays_of_log(log: EventLog, scenario: Scenario, seed: int) -> RunArrays:
    """Reduce one replication's event log to its daily arrays and tallies."""
    columns = log.columns()
    levels = daily.team_levels(columns, scenario)
    stages = daily.stage_levels(columns, scenario)
    started = daily.starters(columns, scenario)
    dates = np.datetime64(scenario.origin_date, "D") + np.arange(
        scenario.warmup_days, daily.n_days(scenario)
    )
    base_year = financial_year(np.array([scenario.start_date], dtype="datetime64[D]"))[0]
    costs = daily.cost_series(
        levels[:, :, daily.TEAM_SERIES.index("staff_permanent")],
        levels[:, :, daily.TEAM_SERIES.index("staff_agency")],
        started[:, :, 0],
        started[:, :, 1],
        daily.in_care(stages, scenario),
        inflation_factors(dates, scenario.costs, base_year)[None, :],
        scenario.costs,
    )
    return RunArrays(
        seed=seed,
        levels=levels,
        stocks=daily.stocks(stages, scenario),
        costs=costs,
        timeliness=timeliness(case_tallies(columns, scenario)),
        leavers=leaver_counts(columns, scenario),
    )


def run_arrays(scenario: Scenario, seed: int) -> RunArrays:
    """Simulate one replication with ``seed`` and reduce its event log to daily arrays."""
    return arrays_of_log(Model(scenario, seed).run(), scenario, seed)


def run_replication(scenario: Scenario, seed: int) -> RunResult:
    """Simulate one replication with ``seed`` and reduce its event log to tidy tables."""
    arrays = run_arrays(scenario, seed)
    levels = np.concatenate([arrays.levels, arrays.stocks], axis=2)
    counts = pd.DataFrame(arrays.leavers, columns=["leavers_permanent", "leavers_agency"])
    counts.insert(0, "team", list(scenario.teams))
    return RunResult(
        seed=seed,
        daily=team_frame(levels, (*daily.TEAM_SERIES, *STOCKS), scenario),
        timeliness=arrays.timeliness,
        costs=team_frame(arrays.costs, daily.COST_SERIES, scenario),
        leavers=counts,
        arrays=arrays,
    )
