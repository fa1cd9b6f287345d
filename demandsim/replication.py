"""What one replication hands on: its KPIs as long rows and its daily series as one array.

Every kind of run (``run``, ``run -n``, ``compare``, ``sweep``) reduces each replication where it
ran to a :class:`Replication`: a long table of KPIs (``team, measure, period, value``) and the
daily measures of :data:`~demandsim.measures.DAILY` as a ``float32`` cube (day x team x measure),
with the whole service as the last team. Both are aggregates: no case or worker numbers. Every
KPI here is computed from the cube (or the run's tallies), so what the tables say and what the
bands show come from the same numbers.

To add a KPI: declare it in :data:`demandsim.measures.KPIS` and return its rows (a :data:`Block`)
from one of the functions in :data:`KPI_TABLES` (or a new one appended there).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from demandsim import daily
from demandsim.calendar import financial_year
from demandsim.measures import (
    COST_COMPONENTS,
    DAILY_NAMES,
    FIRST_YEAR_DAYS,
    FORECAST,
    KPIS,
    SERVICE,
    TOTAL_COST,
    service_total,
)
from demandsim.run import STOCKS, RunArrays, RunResult, run_arrays
from demandsim.scenario import Scenario


@dataclass(frozen=True)
class Replication:
    """The reduced result of one replication: small enough to send between processes."""

    seed: int
    kpis: pd.DataFrame  # team, measure, period, value
    daily: np.ndarray  # float32, C order, (forecast days, teams + service, DAILY)


def simulate(scenario: Scenario, seed: int) -> Replication:
    """Run one replication and reduce it to what every run keeps (runs on a worker)."""
    return reduce(run_arrays(scenario, seed), scenario)


def reduce(result: RunArrays | RunResult, scenario: Scenario) -> Replication:
    """The KPIs and daily cube of one replication's arrays (or of its tables' arrays)."""
    arrays = result.arrays if isinstance(result, RunResult) else result
    cube = daily_cube(arrays, scenario)
    blocks = [block for table in KPI_TABLES for block in table(arrays, cube, scenario)]
    unknown = {measure for _, measure, _, _ in blocks} - set(KPIS)
    if unknown:
        raise ValueError(f"KPIs not declared in demandsim.measures.KPIS: {sorted(unknown)}")
    sizes = [len(teams) for teams, _, _, _ in blocks]
    kpis = pd.DataFrame(
        {
            "team": [team for teams, _, _, _ in blocks for team in teams],
            "measure": np.repeat([measure for _, measure, _, _ in blocks], sizes),
            "period": np.repeat([period for _, _, period, _ in blocks], sizes),
            "value": np.concatenate(
                [np.asarray(values, dtype=float) for *_, values in blocks] or [np.zeros(0)]
            ),
        }
    )
    kpis = kpis.astype({"team": str, "measure": str, "period": str, "value": float})
    return Replication(seed=arrays.seed, kpis=kpis, daily=cube)


def team_labels(scenario: Scenario) -> list[str]:
    """Teams in cube and table order: the scenario's teams, then the whole service."""
    return [*scenario.teams, SERVICE]


def forecast_dates(scenario: Scenario) -> pd.DatetimeIndex:
    """The dates of the daily series (the forecast period, warm-up excluded)."""
    return pd.date_range(scenario.start_date, periods=scenario.forecast_days, freq="D")


def staffed_teams(scenario: Scenario) -> list[str]:
    return [name for name, team in scenario.teams.items() if not team.is_service]


#: the series of :class:`RunArrays`, in the order :func:`daily_cube` stacks them
_SOURCES = (*daily.TEAM_SERIES, *STOCKS, *daily.COST_SERIES)


def daily_cube(arrays: RunArrays, scenario: Scenario) -> np.ndarray:
    """The daily measures as a C-ordered (day, team, measure) ``float32`` array; the last team
    is the whole service (:func:`demandsim.measures.service_total`)."""
    teams = list(scenario.teams)
    stacked = np.concatenate([arrays.levels, arrays.stocks, arrays.costs], axis=2)
    if stacked.shape[:2] != (len(teams), len(forecast_dates(scenario))):
        raise ValueError("daily series do not have one row per forecast day and team")
    teams_cube = stacked[:, :, [_SOURCES.index(name) for name in DAILY_NAMES]]
    teams_cube = teams_cube.transpose(1, 0, 2)
    staffed = [teams.index(name) for name in staffed_teams(scenario)]
    service = service_total(teams_cube, staffed)
    cube = np.concatenate([teams_cube, service[:, None, :]], axis=1)
    return np.ascontiguousarray(cube, dtype=np.float32)


#: rows of KPIs: teams, measure, period and one value per team
Block = tuple[list[str], str, str, np.ndarray]


def level_kpis(arrays: RunArrays, cube: np.ndarray, scenario: Scenario) -> list[Block]:
    """Backlog, caseload and staffing over the forecast, per team and for the service."""
    teams = team_labels(scenario)

    def series(name: str) -> np.ndarray:
        return cube[:, :, DAILY_NAMES.index(name)].astype(float)

    unallocated = series("unallocated_cases")
    threshold = scenario.backlog_threshold_cases
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: nobody in post
        values = {
            "staff_in_post_mean": series("staff_in_post").mean(axis=0),
            "agency_share_mean": np.nanmean(series("agency_share"), axis=0),
            "vacant_posts_mean": series("vacant_posts").mean(axis=0),
            "open_cases_mean": series("open_cases").mean(axis=0),
            "caseload_per_worker_mean": np.nanmean(series("caseload_per_worker"), axis=0),
            "caseload_per_worker_peak": np.nanmax(series("caseload_per_worker"), axis=0),
            "unallocated_mean": unallocated.mean(axis=0),
            "unallocated_peak": unallocated.max(axis=0),
            "days_unallocated_above_threshold": (unallocated > threshold).sum(axis=0),
            "backlog_passes_threshold_in_12_months": (
                unallocated[:FIRST_YEAR_DAYS] > threshold
            ).any(axis=0),
            "awaiting_transfer_in_mean": series("awaiting_transfer_in").mean(axis=0),
        }
    return [(teams, k, FORECAST, np.asarray(v, float)) for k, v in values.items()]


def winter_kpis(arrays: RunArrays, cube: np.ndarray, scenario: Scenario) -> list[Block]:
    """Mean unallocated cases over each winter (December to February) the forecast covers in
    full, per team; the period is the financial year the winter falls in."""
    dates = forecast_dates(scenario)
    unallocated = cube[:, :, DAILY_NAMES.index("unallocated_cases")].astype(float)
    blocks = []
    for year in sorted(set(dates.year)):
        winter = (dates >= pd.Timestamp(year, 12, 1)) & (dates < pd.Timestamp(year + 1, 3, 1))
        if winter.sum() != (pd.Timestamp(year + 1, 3, 1) - pd.Timestamp(year, 12, 1)).days:
            continue  # only winters the forecast covers in full
        period = f"{year}-{(year + 1) % 100:02d}"
        values = unallocated[winter].mean(axis=0)
        blocks.append((team_labels(scenario), "unallocated_winter_mean", period, values))
    return blocks


def leaver_kpis(arrays: RunArrays, cube: np.ndarray, scenario: Scenario) -> list[Block]:
    """Leavers during the forecast, permanent and agency, per team and for the service."""
    counts = arrays.leavers.astype(float)
    staffed = [list(scenario.teams).index(name) for name in staffed_teams(scenario)]
    table = np.concatenate([counts, counts[staffed].sum(axis=0)[None, :]])
    permanent, agency = table[:-1, 0], table[:-1, 1]
    teams = team_labels(scenario)
    return [
        (teams, "leavers_permanent", FORECAST, table[:, 0]),
        (teams, "leavers_agency", FORECAST, table[:, 1]),
        (teams, "leavers", FORECAST, np.append(permanent + agency, table[-1, 0] + table[-1, 1])),
    ]


def timeliness_kpis(arrays: RunArrays, cube: np.ndarray, scenario: Scenario) -> list[Block]:
    """Referrals, days from referral to allocation and assessments in time (service-wide)."""
    return [([SERVICE], k, FORECAST, np.array([v])) for k, v in arrays.timeliness.items()]


def cost_kpis(arrays: RunArrays, cube: np.ndarray, scenario: Scenario) -> list[Block]:
    """Cost by financial year, component and team (and the service), summed from the cube."""
    years = financial_year(forecast_dates(scenario).to_numpy().astype("datetime64[D]"))
    teams = team_labels(scenario)
    blocks = []
    for year in dict.fromkeys(years):
        in_year = cube[years == year].astype(np.float64).sum(axis=0)
        for name in (*COST_COMPONENTS, TOTAL_COST):
            blocks.append((teams, name, str(year), in_year[:, DAILY_NAMES.index(name)]))
    return blocks


KpiTable = Callable[[RunArrays, np.ndarray, Scenario], list[Block]]
#: every per-replication KPI table
KPI_TABLES: list[KpiTable] = [level_kpis, winter_kpis, leaver_kpis, timeliness_kpis, cost_kpis]
