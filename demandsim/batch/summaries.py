"""What one replication hands back to a batch: a few KPI rows and its daily series as one array.

A batch never moves event logs between processes or machines. Each replication is reduced where
it ran to a :class:`Replication`: a long table of per-replication KPIs (``team, kpi, value``)
and its daily levels as a compact ``float32`` cube (day x team x measure), with the whole service
(the staffed teams summed) as an extra team. Both are aggregates: no case or worker numbers.

To add KPIs (costs by financial year, say), write one function ``(RunResult, Scenario) ->
DataFrame[team, kpi, value]`` and append it to :data:`KPI_TABLES`; aggregation, comparison and
sweeps pick the new rows up without change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from demandsim.costs import cost_kpis
from demandsim.kpis import LEVELS
from demandsim.run import RunResult, run_replication
from demandsim.scenario import Scenario

#: the whole service: every team with a modelled workforce (the label ``kpis.summary`` uses)
SERVICE = "all social work teams"
#: daily measures kept for percentile bands, in cube order
MEASURES = (*LEVELS, "staff_in_post", "caseload_per_worker", "agency_share")
#: the horizon of "will the backlog pass the threshold at some point in the next 12 months"
FIRST_YEAR_DAYS = 365
#: below this many staff in post a ratio per worker is undefined (as in ``kpis``)
MIN_STAFF = 0.5

#: KPIs that are 0/1 per replication: their mean over replications is a chance
PROPORTIONS = {"backlog_passes_threshold_in_12_months"}

KpiTable = Callable[[RunResult, Scenario], pd.DataFrame]


@dataclass(frozen=True)
class Replication:
    """The reduced result of one replication: small enough to send between processes."""

    seed: int
    kpis: pd.DataFrame  # team, kpi, value
    daily: np.ndarray  # float32, (forecast days, teams + service, MEASURES)


def simulate(scenario: Scenario, seed: int) -> Replication:
    """Run one replication and reduce it to what a batch keeps (runs on a worker)."""
    result = run_replication(scenario, seed)
    return Replication(
        seed=seed, kpis=replication_kpis(result, scenario), daily=daily_cube(result, scenario)
    )


def team_labels(scenario: Scenario) -> list[str]:
    """Teams in cube and table order: the scenario's teams, then the whole service."""
    return [*scenario.teams, SERVICE]


def forecast_dates(scenario: Scenario) -> pd.DatetimeIndex:
    """The dates of the daily series (the forecast period, warm-up excluded)."""
    n_days = int(np.ceil(scenario.horizon_days)) - scenario.warmup_days
    return pd.date_range(scenario.start_date, periods=n_days, freq="D")


def staffed_teams(scenario: Scenario) -> list[str]:
    return [name for name, team in scenario.teams.items() if not team.is_service]


def daily_cube(result: RunResult, scenario: Scenario) -> np.ndarray:
    """The daily series as a (day, team, measure) ``float32`` array; last team = the service."""
    teams = list(scenario.teams)
    n_days = len(forecast_dates(scenario))
    # daily_team_series stacks one block per team, each in date order
    frame = result.daily
    if list(dict.fromkeys(frame["team"])) != teams or len(frame) != n_days * len(teams):
        raise ValueError("daily series do not have one row per forecast day and team")
    cube = frame[list(MEASURES)].to_numpy(dtype=float).reshape(len(teams), n_days, len(MEASURES))
    cube = cube.transpose(1, 0, 2)
    staffed = [teams.index(name) for name in staffed_teams(scenario)]
    service = cube[:, staffed, :].sum(axis=1)
    staff = service[:, MEASURES.index("staff_in_post")]
    has_staff = staff > MIN_STAFF
    for ratio, numerator in (
        ("caseload_per_worker", "allocated_cases"),
        ("agency_share", "staff_agency"),
    ):
        num = service[:, MEASURES.index(numerator)]
        service[:, MEASURES.index(ratio)] = np.divide(
            num, staff, out=np.full(n_days, np.nan), where=has_staff
        )
    return np.concatenate([cube, service[:, None, :]], axis=1).astype(np.float32)


def level_kpis(result: RunResult, scenario: Scenario) -> pd.DataFrame:
    """Backlog, caseload and staffing KPIs per team and for the service (from ``summary``)."""
    table = result.summary.drop(columns="posts")
    return table.melt(id_vars="team", var_name="kpi", value_name="value")


def timeliness_kpis(result: RunResult, scenario: Scenario) -> pd.DataFrame:
    """Referrals, days from referral to allocation and assessments in time (service-wide)."""
    attrs = result.summary.attrs
    names = (
        "referrals",
        "mean_days_referral_to_allocation",
        "assessed_within_45_working_days_share",
    )
    return pd.DataFrame(
        {"team": SERVICE, "kpi": list(names), "value": [float(attrs[n]) for n in names]}
    )


def leaver_kpis(result: RunResult, scenario: Scenario) -> pd.DataFrame:
    """Leavers during the forecast, permanent and agency, per team and for the service."""
    if result.leavers is None:
        raise ValueError("RunResult.leavers is missing: run it with demandsim.run.run_replication")
    table = result.leavers.set_index("team")
    table["leavers"] = table["leavers_permanent"] + table["leavers_agency"]
    table.loc[SERVICE] = table.loc[staffed_teams(scenario)].sum()
    long = table.reset_index().melt(id_vars="team", var_name="kpi", value_name="value")
    return long.astype({"value": float})


def first_year_backlog_kpis(result: RunResult, scenario: Scenario) -> pd.DataFrame:
    """1 if the daily unallocated backlog passes ``backlog_threshold_cases`` on some day of the
    first 12 months of the forecast (all of it, if shorter), else 0: its mean over replications
    is the chance. Days are time-weighted daily means, as in every daily series."""
    cube = daily_cube(result, scenario)[:FIRST_YEAR_DAYS, :, MEASURES.index("unallocated_cases")]
    passed = (cube > scenario.backlog_threshold_cases).any(axis=0).astype(float)
    return pd.DataFrame(
        {
            "team": team_labels(scenario),
            "kpi": "backlog_passes_threshold_in_12_months",
            "value": passed,
        }
    )


def cost_kpi_rows(result: RunResult, scenario: Scenario) -> pd.DataFrame:
    """Costs by financial year and by month, service-wide (see :func:`demandsim.costs.cost_kpis`)."""
    return cost_kpis(result.costs).assign(team=SERVICE)


#: every per-replication KPI table; append a function to add KPI columns everywhere
KPI_TABLES: list[KpiTable] = [
    level_kpis,
    timeliness_kpis,
    leaver_kpis,
    first_year_backlog_kpis,
    cost_kpi_rows,
]


def replication_kpis(result: RunResult, scenario: Scenario) -> pd.DataFrame:
    """All KPIs of one replication as long rows: team, kpi, value (float)."""
    frames = [table(result, scenario) for table in KPI_TABLES]
    out = pd.concat(frames, ignore_index=True)[["team", "kpi", "value"]]
    return out.astype({"team": str, "kpi": str, "value": float})
