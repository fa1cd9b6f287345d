"""Every output of a run, as pure functions of its event log.

Levels (open cases, unallocated, staff in post ...) are time-weighted daily means of the step
function the log describes; tallies (days from referral to allocation ...) are per case, then
aggregated over the forecast. The warm-up is a filter on dates, not a reset of counters. Outputs carry no
case or worker numbers: they are aggregates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from demandsim import daily
from demandsim.calendar import working_days_between
from demandsim.eventlog import Kind
from demandsim.scenario import Scenario

STATUTORY_ASSESSMENT_WORKING_DAYS = 45


def _dates(scenario: Scenario, teams: int) -> pd.DatetimeIndex:
    """The forecast's dates, repeated for each of ``teams`` (rows team by team)."""
    origin = np.datetime64(scenario.origin_date, "D")
    days = np.arange(scenario.warmup_days, daily.n_days(scenario))
    return pd.to_datetime(np.tile(origin + days, teams))


def team_frame(values: np.ndarray, columns, scenario: Scenario) -> pd.DataFrame:
    """A (teams, forecast days, columns) array as rows of date, team and the columns."""
    teams = list(scenario.teams)
    frame = pd.DataFrame(values.reshape(-1, len(columns)), columns=list(columns))
    frame.insert(0, "team", np.repeat(teams, values.shape[1]))
    frame.insert(0, "date", _dates(scenario, len(teams)))
    return frame


def daily_team_series(log: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """One row per day and team (forecast period only), with every level as a column
    (:func:`demandsim.daily.team_levels`)."""
    return team_frame(daily.team_levels(log, scenario), daily.TEAM_SERIES, scenario)


def stage_waits(log: pd.DataFrame, stage: int) -> pd.DataFrame:
    """Per visit to ``stage``: entry time and days until a worker was first allocated (NaN if
    never, within the run). Visits are matched to their case's allocation in log order."""
    kind = log["kind"].to_numpy()
    here = log["stage"].to_numpy() == stage
    rows = log[here & ((kind == Kind.ENTER) | (kind == Kind.ALLOC))]
    enter = rows["kind"].to_numpy() == Kind.ENTER
    frame = pd.DataFrame(
        {
            "case": rows["case"].to_numpy(),
            "t": rows["t"].to_numpy(),
            "enter": enter,
            "allocated_now": enter & (rows["worker"].to_numpy() >= 0),
        }
    )
    frame["visit"] = frame.groupby("case")["enter"].cumsum()
    entries = frame[frame["enter"]].set_index(["case", "visit"])
    allocs = frame[~frame["enter"]].groupby(["case", "visit"])["t"].first()
    first_alloc = entries["t"].where(entries["allocated_now"], allocs.reindex(entries.index))
    return pd.DataFrame(
        {"enter_t": entries["t"].to_numpy(), "wait_days": (first_alloc - entries["t"]).to_numpy()}
    )


def case_tallies(log: daily.Columns, scenario: Scenario) -> pd.DataFrame:
    """Per referral reaching assessment: referral date, days to allocation, assessment outcome.

    Aggregate before writing: the rows are per case (without identifiers) and stay in memory.
    """
    names = list(scenario.pathway.stages)
    referral = names.index(scenario.pathway.referral_stage)
    assessment = names.index(scenario.pathway.assessment_stage)
    kind, stage, case, t, worker = (
        daily.column(log, name) for name in ("kind", "stage", "case", "t", "worker")
    )

    referred = np.flatnonzero((kind == Kind.ENTER) & (stage == referral))
    _, first = np.unique(case[referred], return_index=True)
    referred = referred[np.sort(first)]  # each case's first referral, in log order
    referral_t, referred_case = t[referred], case[referred]
    allocated = (stage == assessment) & (
        (kind == Kind.ALLOC) | ((kind == Kind.ENTER) & (worker >= 0))
    )
    allocated_t = _first_time(t, case, allocated, referred_case)
    assessed_t = _first_time(t, case, (kind == Kind.EXIT) & (stage == assessment), referred_case)

    origin = np.datetime64(scenario.origin_date, "D")
    referral_date = origin + np.floor(referral_t).astype(int)
    finished = ~np.isnan(assessed_t)
    working = np.full(len(referred), np.nan)
    if finished.any():
        end = origin + np.floor(assessed_t[finished]).astype(int)
        working[finished] = working_days_between(referral_date[finished], end)
    forecast = referral_t >= scenario.warmup_days
    return pd.DataFrame(
        {
            "referral_date": referral_date[forecast],
            "days_to_allocation": (allocated_t - referral_t)[forecast],
            "assessment_working_days": working[forecast],
        }
    )


def _first_time(t: np.ndarray, case: np.ndarray, rows: np.ndarray, cases: np.ndarray):
    """The time of each of ``cases``' first row among ``rows`` (NaN if it has none)."""
    rows = np.flatnonzero(rows)
    found, first = np.unique(case[rows], return_index=True)
    at = np.minimum(np.searchsorted(found, cases), max(len(found) - 1, 0))
    hit = found[at] == cases if len(found) else np.zeros(len(cases), dtype=bool)
    return np.where(hit, t[rows[first[at]]] if len(found) else np.nan, np.nan)


def leaver_counts(log: daily.Columns, scenario: Scenario) -> np.ndarray:
    """(teams, 2) int: workers leaving each team during the forecast (LEAVE rows), permanent
    and agency."""
    kind, t = daily.column(log, "kind"), daily.column(log, "t")
    rows = (kind == Kind.LEAVE) & (t >= scenario.warmup_days)
    team = daily.column(log, "team")[rows]
    agency = daily.column(log, "value")[rows] > 0
    n = len(scenario.teams)
    return np.stack(
        [np.bincount(team[~agency], minlength=n), np.bincount(team[agency], minlength=n)], axis=1
    )


def timeliness(tallies: pd.DataFrame) -> dict[str, float]:
    """Referrals in the forecast, mean days from referral to allocation, and the share of
    finished assessments done within 45 working days (from :func:`case_tallies`)."""
    done = tallies["assessment_working_days"].dropna()
    return {
        "referrals": float(len(tallies)),
        "mean_days_referral_to_allocation": float(tallies["days_to_allocation"].mean()),
        "assessed_within_45_working_days_share": float(
            (done <= STATUTORY_ASSESSMENT_WORKING_DAYS).mean() if len(done) else np.nan
        ),
    }
