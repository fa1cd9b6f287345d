"""One replication from scenario to tidy results: the library call behind ``demandsim run``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from demandsim.calendar import financial_year
from demandsim.costs import daily_costs
from demandsim.kpis import (
    case_tallies,
    daily_stage_open,
    daily_starters,
    daily_team_series,
    leavers,
    monthly_flows,
    monthly_tallies,
    summary,
)
from demandsim.model import Model
from demandsim.scenario import Scenario


@dataclass(frozen=True)
class RunResult:
    """Aggregated results of one replication (no case or worker identifiers)."""

    seed: int
    daily: pd.DataFrame  # date x team levels
    flows: pd.DataFrame  # monthly contacts, referrals, stage entries, closures
    tallies: pd.DataFrame  # monthly referral-to-allocation and assessment timeliness
    summary: pd.DataFrame  # per team, plus the service; headline figures in .attrs
    costs: pd.DataFrame  # date x cost component, pounds (demandsim.costs.daily_costs)
    leavers: pd.DataFrame | None = None  # per team: permanent and agency leavers in the forecast


def run_replication(scenario: Scenario, seed: int) -> RunResult:
    """Simulate one replication with ``seed`` and reduce its event log to tidy tables."""
    log = Model(scenario, seed).run().frame()
    daily = daily_team_series(log, scenario)
    per_case = case_tallies(log, scenario)
    return RunResult(
        seed=seed,
        daily=daily,
        flows=monthly_flows(log, scenario),
        tallies=monthly_tallies(per_case),
        summary=summary(daily, per_case, scenario),
        costs=daily_costs(
            daily,
            daily_starters(log, scenario),
            daily_stage_open(log, scenario, scenario.costs.care_stages),
            scenario.costs,
            base_year=financial_year(np.array([scenario.start_date], dtype="datetime64[D]"))[0],
        ),
        leavers=leavers(log, scenario),
    )
