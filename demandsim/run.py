"""One replication from scenario to tidy results: the library call behind ``demandsim run``."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from demandsim.kpis import (
    case_tallies,
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
        leavers=leavers(log, scenario),
    )
