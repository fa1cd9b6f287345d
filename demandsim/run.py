"""One replication from scenario to tidy tables: the library call beneath every kind of run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from demandsim.calendar import financial_year
from demandsim.costs import daily_costs
from demandsim.kpis import (
    case_tallies,
    daily_in_care,
    daily_starters,
    daily_stocks,
    daily_team_series,
    leavers,
    timeliness,
)
from demandsim.model import Model
from demandsim.scenario import Scenario


@dataclass(frozen=True)
class RunResult:
    """Aggregated results of one replication (no case or worker identifiers)."""

    seed: int
    daily: pd.DataFrame  # date x team levels, with children in need and on a plan
    timeliness: dict[str, float]  # referrals, days referral to allocation, assessed in time
    costs: pd.DataFrame  # date x team x cost component, pounds (demandsim.costs.daily_costs)
    leavers: pd.DataFrame  # per team: permanent and agency leavers in the forecast


def run_replication(scenario: Scenario, seed: int) -> RunResult:
    """Simulate one replication with ``seed`` and reduce its event log to tidy tables."""
    log = Model(scenario, seed).run().frame()
    daily = daily_team_series(log, scenario)
    stocks = daily_stocks(log, scenario)
    daily = daily.merge(stocks, on=["date", "team"], how="left", validate="1:1")
    daily[list(stocks.columns[2:])] = daily[list(stocks.columns[2:])].fillna(0.0)
    per_case = case_tallies(log, scenario)
    return RunResult(
        seed=seed,
        daily=daily,
        timeliness=timeliness(per_case),
        costs=daily_costs(
            daily,
            daily_starters(log, scenario),
            daily_in_care(log, scenario),
            scenario.costs,
            base_year=financial_year(np.array([scenario.start_date], dtype="datetime64[D]"))[0],
        ),
        leavers=leavers(log, scenario),
    )
