"""Every output of a run, as pure functions of its event log.

Levels (open cases, unallocated, staff in post ...) are time-weighted daily means of the step
function the log describes; tallies (days from referral to allocation ...) are per case, then
aggregated over the forecast. The warm-up is a filter on dates, not a reset of counters. Outputs carry no
case or worker numbers: they are aggregates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from demandsim.calendar import working_days_between
from demandsim.eventlog import Kind
from demandsim.scenario import Scenario

LEVELS = (
    "open_cases",
    "allocated_cases",
    "unallocated_cases",
    "awaiting_transfer_in",
    "staff_permanent",
    "staff_agency",
    "capacity_cases",
    "vacant_posts",
)
STATUTORY_ASSESSMENT_WORKING_DAYS = 45


def _deltas(log: pd.DataFrame) -> dict[str, np.ndarray]:
    """For each level, the change each log row makes to it (in the row's team)."""
    kind = log["kind"].to_numpy()
    worker = log["worker"].to_numpy()
    value = log["value"].to_numpy()
    held = worker >= 0
    started = np.where(kind == Kind.START, 1, 0) - np.where(kind == Kind.LEAVE, 1, 0)
    return {
        "open_cases": (kind == Kind.ENTER).astype(int) - (kind == Kind.EXIT),
        "allocated_cases": ((kind == Kind.ENTER) & held).astype(int)
        + (kind == Kind.ALLOC)
        - (kind == Kind.DEALLOC)
        - ((kind == Kind.EXIT) & held),
        "awaiting_transfer_in": (kind == Kind.BLOCK).astype(int) - (kind == Kind.UNBLOCK),
        "staff_permanent": started * (value == 0),
        "staff_agency": started * (value > 0),
        "capacity_cases": np.where(kind == Kind.CAPACITY, value, 0),
        "vacant_posts": (kind == Kind.VACANCY_OPEN).astype(int) - (kind == Kind.VACANCY_FILLED),
    }


def daily_means(times: np.ndarray, deltas: np.ndarray, n_days: int) -> np.ndarray:
    """Time-weighted mean, over each day [d, d+1), of a level that starts at 0 and steps by
    ``deltas`` at ``times`` (sorted)."""
    if times.size == 0:
        return np.zeros(n_days)
    level = np.cumsum(deltas, dtype=float)
    widths = np.diff(times, append=float(n_days))
    area = np.concatenate([[0.0], np.cumsum(level * np.maximum(widths, 0))])
    points = np.concatenate([times, [max(float(n_days), times[-1])]])
    # before the first event the level is 0, so the running area is 0 there too
    cumulative = np.interp(np.arange(n_days + 1, dtype=float), points, area, left=0.0)
    return np.diff(cumulative)


def daily_team_series(log: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """One row per day and team (forecast period only), with every level as a column."""
    n_days = int(np.ceil(scenario.horizon_days))
    teams = list(scenario.teams)
    t = log["t"].to_numpy()
    team_col = log["team"].to_numpy()
    changes = {}  # per level, only the rows that change it: (times, teams, deltas)
    for level, delta in _deltas(log).items():
        rows = np.flatnonzero(delta)
        changes[level] = (t[rows], team_col[rows], delta[rows])
    frames = []
    for i, name in enumerate(teams):
        columns = {}
        for level, (times, team_of, delta) in changes.items():
            mine = team_of == i
            columns[level] = daily_means(times[mine], delta[mine], n_days)
        frame = pd.DataFrame(columns)
        frame.insert(0, "team", name)
        frame.insert(0, "day", np.arange(n_days))
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out["unallocated_cases"] = out["open_cases"] - out["allocated_cases"]
    levels = list(LEVELS)
    out[levels] = out[levels].round(9) + 0.0  # integrals of integer levels: drop float dust and -0
    staff = out["staff_permanent"] + out["staff_agency"]
    out["staff_in_post"] = staff
    out["caseload_per_worker"] = np.divide(
        out["allocated_cases"], staff, out=np.full(len(out), np.nan), where=staff > 0.5
    )
    out["agency_share"] = np.divide(
        out["staff_agency"], staff, out=np.full(len(out), np.nan), where=staff > 0.5
    )
    origin = np.datetime64(scenario.origin_date, "D")
    out.insert(0, "date", pd.to_datetime(origin + out["day"].to_numpy()))
    out = out[out["day"] >= scenario.warmup_days].drop(columns="day")
    ordered = ["date", "team", *LEVELS, "staff_in_post", "caseload_per_worker", "agency_share"]
    return out[ordered].reset_index(drop=True)


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


def case_tallies(log: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per referral reaching assessment: referral date, days to allocation, assessment outcome.

    Aggregate before writing: the rows are per case (without identifiers) and stay in memory.
    """
    names = list(scenario.pathway.stages)
    referral = names.index(scenario.pathway.referral_stage)
    assessment = names.index(scenario.pathway.assessment_stage)
    kind = log["kind"].to_numpy()
    stage = log["stage"].to_numpy()
    case = log["case"].to_numpy()
    t = log["t"].to_numpy()
    worker = log["worker"].to_numpy()

    ref = (kind == Kind.ENTER) & (stage == referral)
    referred = pd.Series(t[ref], index=case[ref])
    referred = referred[~referred.index.duplicated(keep="first")]
    alloc_rows = (stage == assessment) & (
        (kind == Kind.ALLOC) | ((kind == Kind.ENTER) & (worker >= 0))
    )
    allocated = pd.Series(t[alloc_rows], index=case[alloc_rows])
    allocated = allocated[~allocated.index.duplicated(keep="first")]
    done_rows = (kind == Kind.EXIT) & (stage == assessment)
    done = pd.Series(t[done_rows], index=case[done_rows])
    done = done[~done.index.duplicated(keep="first")]

    frame = pd.DataFrame({"referral_t": referred})
    frame["allocated_t"] = allocated.reindex(frame.index)
    frame["assessed_t"] = done.reindex(frame.index)
    origin = np.datetime64(scenario.origin_date, "D")
    frame["referral_date"] = origin + np.floor(frame["referral_t"]).astype(int).to_numpy()
    frame["days_to_allocation"] = frame["allocated_t"] - frame["referral_t"]
    finished = frame["assessed_t"].notna().to_numpy()
    working = np.full(len(frame), np.nan)
    if finished.any():
        end = origin + np.floor(frame["assessed_t"].to_numpy()[finished]).astype(int)
        working[finished] = working_days_between(frame["referral_date"].to_numpy()[finished], end)
    frame["assessment_working_days"] = working
    frame = frame[frame["referral_t"] >= scenario.warmup_days]
    return frame.reset_index(drop=True)[
        ["referral_date", "days_to_allocation", "assessment_working_days"]
    ]


def leavers(log: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Workers leaving each team during the forecast (LEAVE rows), permanent and agency."""
    rows = (log["kind"].to_numpy() == Kind.LEAVE) & (log["t"].to_numpy() >= scenario.warmup_days)
    team = log["team"].to_numpy()[rows]
    agency = log["value"].to_numpy()[rows] > 0
    n = len(scenario.teams)
    return pd.DataFrame(
        {
            "team": list(scenario.teams),
            "leavers_permanent": np.bincount(team[~agency], minlength=n),
            "leavers_agency": np.bincount(team[agency], minlength=n),
        }
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


def daily_starters(log: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Workers starting per day, team and contract (forecast period only), from START events:
    columns date, team, permanent_starters, agency_starters (agency includes above establishment).
    """
    forecast = (log["kind"].to_numpy() == Kind.START) & (
        log["t"].to_numpy() >= scenario.warmup_days
    )
    starts = log[forecast]
    origin = np.datetime64(scenario.origin_date, "D")
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(origin + np.floor(starts["t"].to_numpy()).astype(int)),
            "team": np.array(list(scenario.teams), dtype=object)[starts["team"].to_numpy()],
            "permanent_starters": (starts["value"].to_numpy() == 0).astype(int),
            "agency_starters": (starts["value"].to_numpy() > 0).astype(int),
        }
    )
    return frame.groupby(["date", "team"], as_index=False).sum()


def _stage_deltas(log: pd.DataFrame, waiting_to_enter: bool) -> np.ndarray:
    """The change each row makes to its stage's open cases; with ``waiting_to_enter``, cases
    waiting to transfer in (decided, but held by the sending team while the receiver is full)
    count as open in the receiving stage."""
    kind = log["kind"].to_numpy()
    delta = (kind == Kind.ENTER).astype(np.int8) - (kind == Kind.EXIT)
    if waiting_to_enter:
        delta = delta + (kind == Kind.BLOCK) - (kind == Kind.UNBLOCK)
    return delta


def daily_stage_groups(
    log: pd.DataFrame, scenario: Scenario, groups: dict[str, tuple[str, ...]], waiting: bool
) -> pd.DataFrame:
    """Per day and team (forecast period), one column per group of stages: the time-weighted
    open cases of the group's stages (with ``waiting``, also those waiting to transfer in: see
    :func:`_stage_deltas`), each on the team that serves the stage, so the teams add up to the
    whole group. Rows are team by team, days in order."""
    names, teams = list(scenario.pathway.stages), list(scenario.teams)
    n_days = int(np.ceil(scenario.horizon_days))
    t, stage = log["t"].to_numpy(), log["stage"].to_numpy()
    delta = _stage_deltas(log, waiting)
    changes = np.flatnonzero(delta)  # only the rows that change a stage's count
    t, stage, delta = t[changes], stage[changes], delta[changes]
    values = np.zeros((len(teams), n_days, len(groups)))
    for g, members in enumerate(groups.values()):
        for name in members:
            mine = stage == names.index(name)
            team = teams.index(scenario.pathway.stages[name].team)
            values[team, :, g] += daily_means(t[mine], delta[mine], n_days)
    values = values[:, scenario.warmup_days :]
    origin = np.datetime64(scenario.origin_date, "D")
    dates = pd.to_datetime(origin + np.arange(scenario.warmup_days, n_days))
    frame = pd.DataFrame(values.reshape(-1, len(groups)), columns=list(groups))
    frame.insert(0, "team", np.repeat(teams, len(dates)))
    frame.insert(0, "date", np.tile(dates, len(teams)))
    return frame


def daily_in_care(log: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Children in care per day and team (forecast period): the open cases of each of
    ``costs.care_stages`` and those waiting to move into them, on the team serving the stage."""
    groups = {"children_in_care": scenario.costs.care_stages}
    return daily_stage_groups(log, scenario, groups, waiting=True)


def daily_stocks(log: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Children in need and children on a child protection plan per day and team (forecast
    period): the open cases of ``pathway.children_in_need_stages`` and
    ``pathway.child_protection_stages``, on the team serving each stage."""
    groups = {
        "children_in_need": scenario.pathway.children_in_need_stages,
        "child_protection": scenario.pathway.child_protection_stages,
    }
    return daily_stage_groups(log, scenario, groups, waiting=False)
