"""What one replication hands on: its KPIs as long rows and its daily series as one array.

Every kind of run (``run``, ``run -n``, ``compare``, ``sweep``) reduces each replication where it
ran to a :class:`Replication`: a long table of KPIs (``team, measure, period, value``) and the
daily measures of :data:`~demandsim.measures.DAILY` as a ``float32`` cube (day x team x measure),
with the whole service as the last team. Both are aggregates: no case or worker numbers. Every
KPI here is computed from the cube (or the run's tallies), so what the tables say and what the
bands show come from the same numbers.

To add a KPI: declare it in :data:`demandsim.measures.KPIS` and return its rows from one of the
functions in :data:`KPI_TABLES` (or a new one appended there).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

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
from demandsim.run import RunResult, run_replication
from demandsim.scenario import Scenario

KPI_COLUMNS = ["team", "measure", "period", "value"]


@dataclass(frozen=True)
class Replication:
    """The reduced result of one replication: small enough to send between processes."""

    seed: int
    kpis: pd.DataFrame  # team, measure, period, value
    daily: np.ndarray  # float32, C order, (forecast days, teams + service, DAILY)


def simulate(scenario: Scenario, seed: int) -> Replication:
    """Run one replication and reduce it to what every run keeps (runs on a worker)."""
    return reduce(run_replication(scenario, seed), scenario)


def reduce(result: RunResult, scenario: Scenario) -> Replication:
    cube = daily_cube(result, scenario)
    frames = [table(result, cube, scenario) for table in KPI_TABLES]
    kpis = pd.concat(frames, ignore_index=True)[KPI_COLUMNS]
    unknown = set(kpis["measure"]) - set(KPIS)
    if unknown:
        raise ValueError(f"KPIs not declared in demandsim.measures.KPIS: {sorted(unknown)}")
    kpis = kpis.astype({"team": str, "measure": str, "period": str, "value": float})
    return Replication(seed=result.seed, kpis=kpis, daily=cube)


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
    """The daily measures as a C-ordered (day, team, measure) ``float32`` array; the last team
    is the whole service (:func:`demandsim.measures.service_total`)."""
    teams = list(scenario.teams)
    dates = forecast_dates(scenario)
    frame = result.daily.merge(result.costs, on=["date", "team"], how="left", validate="1:1")
    expected = pd.MultiIndex.from_product([teams, dates], names=["team", "date"])
    frame = frame.set_index(["team", "date"])
    if len(frame) != len(expected) or not frame.index.isin(expected).all():
        raise ValueError("daily series do not have one row per forecast day and team")
    frame = frame.reindex(expected)
    teams_cube = frame[list(DAILY_NAMES)].to_numpy(dtype=float)
    teams_cube = teams_cube.reshape(len(teams), len(dates), len(DAILY_NAMES)).transpose(1, 0, 2)
    staffed = [teams.index(name) for name in staffed_teams(scenario)]
    service = service_total(teams_cube, staffed)
    cube = np.concatenate([teams_cube, service[:, None, :]], axis=1)
    return np.ascontiguousarray(cube, dtype=np.float32)


def _rows(teams: list[str], measure: str, values, period: str = FORECAST) -> pd.DataFrame:
    return pd.DataFrame({"team": teams, "measure": measure, "period": period, "value": values})


def level_kpis(result: RunResult, cube: np.ndarray, scenario: Scenario) -> pd.DataFrame:
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
    return pd.concat([_rows(teams, k, np.asarray(v, float)) for k, v in values.items()])


def winter_kpis(result: RunResult, cube: np.ndarray, scenario: Scenario) -> pd.DataFrame:
    """Mean unallocated cases over each winter (December to February) the forecast covers in
    full, per team; the period is the financial year the winter falls in."""
    dates = forecast_dates(scenario)
    unallocated = cube[:, :, DAILY_NAMES.index("unallocated_cases")].astype(float)
    frames = []
    for year in sorted(set(dates.year)):
        winter = (dates >= pd.Timestamp(year, 12, 1)) & (dates < pd.Timestamp(year + 1, 3, 1))
        if winter.sum() != (pd.Timestamp(year + 1, 3, 1) - pd.Timestamp(year, 12, 1)).days:
            continue  # only winters the forecast covers in full
        values = unallocated[winter].mean(axis=0)
        frames.append(
            _rows(
                team_labels(scenario),
                "unallocated_winter_mean",
                values,
                f"{year}-{(year + 1) % 100:02d}",
            )
        )
    return pd.concat(frames) if frames else pd.DataFrame(columns=KPI_COLUMNS)


def leaver_kpis(result: RunResult, cube: np.ndarray, scenario: Scenario) -> pd.DataFrame:
    """Leavers during the forecast, permanent and agency, per team and for the service."""
    table = result.leavers.set_index("team").astype(float)
    table["leavers"] = table["leavers_permanent"] + table["leavers_agency"]
    table.loc[SERVICE] = table.loc[staffed_teams(scenario)].sum()
    return table.reset_index().melt(id_vars="team", var_name="measure").assign(period=FORECAST)


def timeliness_kpis(result: RunResult, cube: np.ndarray, scenario: Scenario) -> pd.DataFrame:
    """Referrals, days from referral to allocation and assessments in time (service-wide)."""
    return pd.concat([_rows([SERVICE], k, [v]) for k, v in result.timeliness.items()])


def cost_kpis(result: RunResult, cube: np.ndarray, scenario: Scenario) -> pd.DataFrame:
    """Cost by financial year, component and team (and the service), summed from the cube."""
    years = financial_year(forecast_dates(scenario).to_numpy().astype("datetime64[D]"))
    teams = team_labels(scenario)
    frames = []
    for year in dict.fromkeys(years):
        in_year = cube[years == year].astype(np.float64).sum(axis=0)
        for name in (*COST_COMPONENTS, TOTAL_COST):
            frames.append(_rows(teams, name, in_year[:, DAILY_NAMES.index(name)], period=year))
    return pd.concat(frames)


KpiTable = Callable[[RunResult, np.ndarray, Scenario], pd.DataFrame]
#: every per-replication KPI table
KPI_TABLES: list[KpiTable] = [level_kpis, winter_kpis, leaver_kpis, timeliness_kpis, cost_kpis]
